/*
 * path.c — location paths: each step maps over the sequence the previous step produced
 * and the results are flattened into one sequence (an array built by a constructor stays
 * whole); filters and positional predicates; tuple streams, where each item carries the
 * bindings of @$focus, #$index and the inputs a '%' needs; sorting (^) and grouping
 * ({…} after a path), wildcards and descendants.
 */
#include "jsonata/jsonata_int.h"

#include <math.h>
#include <string.h>

static jn_val *seq1(jn_ctx *cx, jn_val *v)
{
    jn_val *s = jn_seq(cx->arena);
    jn_push(cx->arena, s, v); /* even undefined: [undefined], as the reference makes it */
    return s;
}

jn_val *jn__lookup(jn_ctx *cx, jn_val *input, const char *key, size_t klen)
{
    jn__tick(cx);
    switch (jn_typeof(input)) {
    case JN_ARRAY: {
        jn__check_stack(cx); /* arrays an evaluation nested deeper than the stack */
        jn_val *r = jn_seq(cx->arena);
        for (size_t i = 0; i < input->u.arr.len; i++) {
            jn_val *v = jn__lookup(cx, input->u.arr.items[i], key, klen);
            if (v == NULL)
                continue;
            if (jn_is_arr(v)) {
                for (size_t k = 0; k < v->u.arr.len; k++)
                    jn_push(cx->arena, r, v->u.arr.items[k]);
            } else {
                jn_push(cx->arena, r, v);
            }
        }
        return r;
    }
    case JN_OBJECT:
        return jn_obj_get(input, key, klen);
    default:
        return NULL;
    }
}

jn_val *jn__flatten(jn_ctx *cx, jn_val *v, jn_val *into)
{
    jn__check_stack(cx);
    jn__tick(cx);
    if (into == NULL)
        into = jn_array(cx->arena, 0);
    if (jn_is_arr(v)) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            jn__flatten(cx, v->u.arr.items[i], into);
    } else {
        jn_push(cx->arena, into, v);
    }
    return into;
}

/* $append's rule: undefined gives the other; otherwise a new (non-sequence) array. */
jn_val *jn__append(jn_ctx *cx, jn_val *a, jn_val *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    size_t na = jn_is_arr(a) ? a->u.arr.len : 1, nb = jn_is_arr(b) ? b->u.arr.len : 1;
    jn_val *r = jn_array(cx->arena, na + nb);
    if (!jn_is_arr(a))
        r->u.arr.items[0] = a;
    else if (na > 0)
        memcpy(r->u.arr.items, a->u.arr.items, na * sizeof(jn_val *));
    if (!jn_is_arr(b))
        r->u.arr.items[na] = b;
    else if (nb > 0)
        memcpy(r->u.arr.items + na, b->u.arr.items, nb * sizeof(jn_val *));
    r->u.arr.len = na + nb;
    return r;
}

jn_val *jn__wildcard(jn_ctx *cx, jn_val *input)
{
    jn_val *r = jn_seq(cx->arena);
    if (jn_is_arr(input) && (input->flags & JN_ARR_OUTER) && input->u.arr.len > 0)
        input = input->u.arr.items[0];
    if (jn_is_obj(input)) {
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(input, &i, &e);) {
            if (jn_is_arr(e->val)) {
                jn_val *f = jn__flatten(cx, e->val, NULL);
                r = jn__append(cx, r, f);
            } else {
                jn_push(cx->arena, r, e->val);
            }
        }
    } else if (jn_is_arr(input)) {
        for (size_t i = 0; i < input->u.arr.len; i++) {
            jn_val *v = input->u.arr.items[i];
            if (jn_is_arr(v))
                r = jn__append(cx, r, jn__flatten(cx, v, NULL));
            else
                jn_push(cx->arena, r, v);
        }
    }
    return r;
}

static void descend(jn_ctx *cx, jn_val *v, jn_val *out)
{
    jn__check_stack(cx);
    jn__tick(cx);
    if (!jn_is_arr(v))
        jn_push(cx->arena, out, v);
    if (jn_is_arr(v)) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            descend(cx, v->u.arr.items[i], out);
    } else if (jn_is_obj(v)) {
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(v, &i, &e);)
            descend(cx, e->val, out);
    }
}

jn_val *jn__descendants(jn_ctx *cx, jn_val *input)
{
    if (input == NULL)
        return NULL;
    jn_val *r = jn_seq(cx->arena);
    descend(cx, input, r);
    if (r->u.arr.len == 1)
        return r->u.arr.items[0];
    return r;
}

/* A frame holding a tuple's bindings. */
static jn_env *tuple_env(jn_ctx *cx, jn_env *env, jn_val *tuple)
{
    jn_env *e = jn__env_new(cx, env);
    if (!jn_is_obj(tuple))
        return e;
    /* a tuple's keys are distinct: its bindings go in as they are */
    size_t n = jn_obj_len(tuple);
    e->b = jn_alloc(cx->arena, (n ? n : 1) * sizeof *e->b);
    e->cap = n ? n : 1;
    jn_entry *en;
    for (size_t i = 0; jn_obj_next(tuple, &i, &en);)
        e->b[e->len++] = (jn_binding){en->key, en->klen, en->val};
    return e;
}

static jn_val *tuple_at(jn_val *tuple)
{
    return jn_is_obj(tuple) ? jn_obj_get(tuple, "@", 1) : NULL;
}

static jn_val *tuple_copy(jn_ctx *cx, jn_val *t)
{
    return jn_is_obj(t) ? jn_obj_copy(cx->arena, t) : jn_object(cx->arena);
}

bool jn__is_array_of(const jn_val *v, jn_type t)
{
    if (!jn_is_arr(v))
        return false;
    for (size_t i = 0; i < v->u.arr.len; i++)
        if (jn_typeof(v->u.arr.items[i]) != t)
            return false;
    return true;
}

jn_val *jn__eval_filter(jn_ctx *cx, const jn_node *pred, jn_val *input, jn_env *env)
{
    jn_val *results = jn_seq(cx->arena);
    bool tuples = jn_is_arr(input) && (input->flags & JN_ARR_TUPLES);
    if (tuples)
        results->flags |= JN_ARR_TUPLES;
    if (!jn_is_arr(input))
        input = seq1(cx, input);
    size_t len = input->u.arr.len;
    if (pred->type == NT_NUMBER) {
        double idx = floor(pred->num);
        if (idx < 0)
            idx += (double)len;
        if (idx >= 0 && idx < (double)len) {
            jn_val *item = input->u.arr.items[(size_t)idx];
            if (item != NULL) {
                if (jn_is_arr(item))
                    results = item;
                else
                    jn_push(cx->arena, results, item);
            }
        }
        return results;
    }
    for (size_t i = 0; i < len; i++) {
        jn_val *item = input->u.arr.items[i];
        jn_val *context = item;
        jn_env *e = env;
        if (tuples) {
            context = tuple_at(item);
            e = tuple_env(cx, env, item);
        }
        jn_val *res = jn__eval(cx, pred, context, e);
        if (jn_is_num(res) && !isnan(jn_num(res))) {
            double ii = floor(jn_num(res));
            if (ii < 0)
                ii += (double)len;
            if (ii == (double)i)
                jn_push(cx->arena, results, item);
        } else if (jn__is_array_of(res, JN_NUMBER) && res->u.arr.len > 0) {
            for (size_t k = 0; k < res->u.arr.len; k++) {
                double ii = floor(jn_num(res->u.arr.items[k]));
                if (ii < 0)
                    ii += (double)len;
                if (ii == (double)i)
                    jn_push(cx->arena, results, item);
            }
        } else if (jn__truthy(cx, res) == 1) {
            jn_push(cx->arena, results, item);
        }
    }
    return results;
}

static jn_val *eval_stages(jn_ctx *cx, const jn_nodes *stages, jn_val *input, jn_env *env)
{
    jn_val *r = input;
    for (size_t s = 0; s < stages->len; s++) {
        const jn_node *st = stages->v[s];
        if (st->type == NT_FILTER) {
            r = jn__eval_filter(cx, st->lhs, r, env);
        } else {
            for (size_t i = 0; i < r->u.arr.len; i++)
                jn_obj_set(cx->arena, r->u.arr.items[i], st->str, strlen(st->str),
                           jn_number(cx->arena, (double)i));
        }
    }
    return r;
}

static jn_val *eval_step(jn_ctx *cx, const jn_node *step, jn_val *input, jn_env *env, bool last)
{
    if (step->type == NT_SORT) {
        jn_val *r = jn__sort(cx, input, NULL, step, env, false);
        if (step->stages.len > 0)
            r = eval_stages(cx, &step->stages, r, env);
        return r;
    }
    /* the results flattened one level as they come (an array built by a constructor
     * stays whole); the only result of a last step that is an array is itself */
    jn_val *out = jn_seq(cx->arena), *only = NULL;
    size_t n_results = 0;
    for (size_t i = 0; i < input->u.arr.len; i++) {
        jn_val *res = jn__eval(cx, step, input->u.arr.items[i], env);
        for (size_t s = 0; s < step->stages.len; s++)
            res = jn__eval_filter(cx, step->stages.v[s]->lhs, res, env);
        if (res == NULL)
            continue;
        n_results++;
        only = res;
        if (!jn_is_arr(res) || (res->flags & JN_ARR_CONS)) {
            jn_push(cx->arena, out, res);
        } else {
            for (size_t k = 0; k < res->u.arr.len; k++)
                jn_push(cx->arena, out, res->u.arr.items[k]);
        }
    }
    if (last && n_results == 1 && jn_is_arr(only) && !jn_is_seq(only))
        return only;
    return out;
}

static jn_val *eval_tuple_step(jn_ctx *cx, const jn_node *step, jn_val *input, jn_val *tuples,
                               jn_env *env)
{
    jn_val *result;
    if (step->type == NT_SORT) {
        if (tuples != NULL) {
            result = jn__sort(cx, tuples, NULL, step, env, true);
        } else {
            jn_val *sorted = jn__sort(cx, input, NULL, step, env, false);
            result = jn_seq(cx->arena);
            result->flags |= JN_ARR_TUPLES;
            for (size_t i = 0; i < sorted->u.arr.len; i++) {
                jn_val *t = jn_object(cx->arena);
                jn_obj_set(cx->arena, t, "@", 1, sorted->u.arr.items[i]);
                if (step->index)
                    jn_obj_set(cx->arena, t, step->index, strlen(step->index),
                               jn_number(cx->arena, (double)i));
                jn_push(cx->arena, result, t);
            }
        }
        if (step->stages.len > 0)
            result = eval_stages(cx, &step->stages, result, env);
        return result;
    }
    result = jn_seq(cx->arena);
    result->flags |= JN_ARR_TUPLES;
    if (tuples == NULL) {
        tuples = jn_seq(cx->arena);
        for (size_t i = 0; i < input->u.arr.len; i++) {
            jn_val *t = jn_object(cx->arena);
            jn_obj_set(cx->arena, t, "@", 1, input->u.arr.items[i]);
            jn_push(cx->arena, tuples, t);
        }
    }
    for (size_t ee = 0; ee < tuples->u.arr.len; ee++) {
        jn_val *tb = tuples->u.arr.items[ee];
        jn_env *step_env = tuple_env(cx, env, tb);
        jn_val *res = jn__eval(cx, step, tuple_at(tb), step_env);
        if (res == NULL)
            continue;
        bool res_tuples = jn_is_arr(res) && (res->flags & JN_ARR_TUPLES);
        size_t n = jn_is_arr(res) ? res->u.arr.len : 1;
        for (size_t bb = 0; bb < n; bb++) {
            jn_val *item = jn_is_arr(res) ? res->u.arr.items[bb] : res;
            jn_val *t = tuple_copy(cx, tb);
            if (res_tuples) {
                jn_entry *e;
                for (size_t k = 0; jn_obj_next(item, &k, &e);)
                    jn_obj_set(cx->arena, t, e->key, e->klen, e->val);
            } else {
                if (step->focus) {
                    jn_obj_set(cx->arena, t, step->focus, strlen(step->focus), item);
                    jn_obj_set(cx->arena, t, "@", 1, tuple_at(tb));
                } else {
                    jn_obj_set(cx->arena, t, "@", 1, item);
                }
                if (step->index)
                    jn_obj_set(cx->arena, t, step->index, strlen(step->index),
                               jn_number(cx->arena, (double)bb));
                if (step->ancestor)
                    jn_obj_set(cx->arena, t, step->ancestor->label, strlen(step->ancestor->label),
                               tuple_at(tb));
            }
            jn_push(cx->arena, result, t);
        }
    }
    if (step->stages.len > 0)
        result = eval_stages(cx, &step->stages, result, env);
    return result;
}

/* A step that only names a field (or, first, a variable): nothing to filter, sort, bind
 * or keep. */
static bool plain_step(const jn_node *s, bool first)
{
    return (s->type == NT_NAME || (first && s->type == NT_VARIABLE)) && s->stages.len == 0 &&
           s->predicates.len == 0 && s->group == NULL && !s->tuple && s->focus == NULL &&
           s->index == NULL && s->ancestor == NULL && !s->keep_array && !s->cons_array;
}

/* A path of plain steps over one value: field after field while each is no array. At an
 * array in the middle, *start and *in say where the general walk takes over (the array's
 * items are what the next step maps over, as a step flattens them); an array at the end
 * is the path's value, as the general walk makes it. true when it had the answer. */
static bool plain_path(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env, jn_val **out,
                       size_t *start, jn_val **in)
{
    if (n->keep_singleton || n->group != NULL || n->tuple || jn_is_arr(input))
        return false;
    for (size_t i = 0; i < n->items.len; i++)
        if (!plain_step(n->items.v[i], i == 0))
            return false;
    const jn_node *s0 = n->items.v[0];
    jn_val *v;
    if (s0->type == NT_VARIABLE) {
        v = jn__eval(cx, s0, input, env);
        if (jn_is_arr(v))
            return false; /* a sequence or constructed array: the general walk's rules */
    } else {
        v = jn_is_obj(input) ? jn_obj_get(input, s0->str, s0->len) : NULL;
    }
    for (size_t i = 1; i < n->items.len && v != NULL; i++) {
        if (jn_is_arr(v)) {
            jn_val *seq = jn_seq(cx->arena);
            if (v->flags & JN_ARR_CONS) {
                jn_push(cx->arena, seq, v);
            } else {
                for (size_t k = 0; k < v->u.arr.len; k++)
                    jn_push(cx->arena, seq, v->u.arr.items[k]);
            }
            *start = i;
            *in = seq;
            return false;
        }
        const jn_node *s = n->items.v[i];
        v = jn_is_obj(v) ? jn_obj_get(v, s->str, s->len) : NULL;
    }
    if (jn_is_seq(v))
        return false; /* a stored sequence at the end: the general walk's rules (rare) */
    *out = v;
    return true;
}

jn_val *jn__eval_path(jn_ctx *cx, const jn_node *n, jn_val *input, jn_env *env)
{
    jn_val *fast = NULL, *handed = NULL;
    size_t start = 0;
    if (plain_path(cx, n, input, env, &fast, &start, &handed))
        return fast;
    if (handed == NULL)
        start = 0;
    jn_val *in;
    if (handed != NULL)
        in = handed;
    else if (jn_is_arr(input) && n->items.v[0]->type != NT_VARIABLE)
        in = input;
    else
        in = seq1(cx, input);
    jn_val *result = NULL, *tuples = NULL;
    bool is_tuple = false;
    for (size_t i = start; i < n->items.len; i++) {
        const jn_node *step = n->items.v[i];
        if (step->tuple)
            is_tuple = true;
        if (i == 0 && step->cons_array) {
            result = jn__eval(cx, step, in, env);
        } else if (is_tuple) {
            tuples = eval_tuple_step(cx, step, in, tuples, env);
        } else {
            result = eval_step(cx, step, in, env, i == n->items.len - 1);
        }
        if (!is_tuple && (result == NULL || (jn_is_arr(result) && result->u.arr.len == 0)))
            break;
        if (step->focus == NULL)
            in = result;
        if (!jn_is_arr(in))
            in = jn_seq(cx->arena);
    }
    if (is_tuple) {
        if (n->tuple) {
            result = tuples;
        } else {
            result = jn_seq(cx->arena);
            for (size_t i = 0; tuples && i < tuples->u.arr.len; i++)
                jn_push(cx->arena, result, tuple_at(tuples->u.arr.items[i]));
        }
    }
    if (n->keep_singleton && result != NULL) {
        if (jn_is_arr(result) && (result->flags & JN_ARR_CONS) && !jn_is_seq(result)) {
            jn_val *s = seq1(cx, result);
            result = s;
        }
        if (!jn_is_arr(result))
            result = seq1(cx, result);
        result->flags |= JN_ARR_KEEP;
    }
    if (n->group != NULL)
        result = jn__eval_group(cx, n->group, is_tuple ? tuples : result, env);
    return result;
}

/* Merges the tuples of one group: the first's bindings, each later one's appended. */
static jn_val *reduce_tuples(jn_ctx *cx, jn_val *data)
{
    if (!jn_is_arr(data) || (data->flags & JN_ARR_TUPLES) == 0) {
        if (jn_is_obj(data))
            return tuple_copy(cx, data);
    }
    if (!jn_is_arr(data))
        return data;
    jn_val *r = tuple_copy(cx, data->u.arr.items[0]);
    for (size_t i = 1; i < data->u.arr.len; i++) {
        jn_entry *e;
        for (size_t k = 0; jn_obj_next(data->u.arr.items[i], &k, &e);)
            jn_obj_set(cx->arena, r, e->key, e->klen,
                       jn__append(cx, jn_obj_get(r, e->key, e->klen), e->val));
    }
    return r;
}

typedef struct group {
    jn_val *key;
    jn_val *data;
    size_t expr_index;
    bool tuple_list; /* data is a list of tuples (not one) */
} group;

jn_val *jn__eval_group(jn_ctx *cx, const jn_node *obj, jn_val *input, jn_env *env)
{
    jn_val *result = jn_object(cx->arena);
    bool reduce = jn_is_arr(input) && (input->flags & JN_ARR_TUPLES);
    if (!jn_is_arr(input))
        input = seq1(cx, input);
    size_t n_items = input->u.arr.len;
    jn_val *none = NULL;
    jn_val **items = input->u.arr.items;
    if (n_items == 0) {
        n_items = 1;
        items = &none;
    }
    /* groups by key, in first-seen order; an object indexes them */
    jn_val *index = jn_object(cx->arena);
    group *groups = NULL;
    size_t n_groups = 0, cap = 0;
    size_t n_pairs = obj->pairs.len / 2;
    for (size_t ii = 0; ii < n_items; ii++) {
        jn_val *item = items[ii];
        jn_env *e = reduce ? tuple_env(cx, env, item) : env;
        for (size_t p = 0; p < n_pairs; p++) {
            jn_val *key = jn__eval(cx, obj->pairs.v[2 * p], reduce ? tuple_at(item) : item, e);
            if (key != NULL && !jn_is_str(key))
                jn__throw_at(cx, "T1003", obj->position, NULL, key,
                             "Key in object structure must evaluate to a string; got: %s",
                             jn__describe(cx, key));
            if (key == NULL)
                continue;
            jn_val *gi = jn_obj_get(index, key->u.str.s, key->u.str.len);
            if (gi != NULL) {
                group *g = &groups[(size_t)jn_num(gi)];
                if (g->expr_index != p)
                    jn__throw_at(cx, "D1009", obj->position, NULL, key,
                                 "Multiple key definitions evaluate to same key: %.*s",
                                 (int)key->u.str.len, key->u.str.s);
                if (reduce) {
                    if (!g->tuple_list) {
                        jn_val *l = jn_array(cx->arena, 2);
                        l->flags = JN_ARR_TUPLES;
                        jn_push(cx->arena, l, g->data);
                        g->data = l;
                        g->tuple_list = true;
                    }
                    jn_push(cx->arena, g->data, item);
                } else {
                    g->data = jn__append(cx, g->data, item);
                }
            } else {
                if (n_groups == cap) {
                    cap = cap ? cap * 2 : 8;
                    group *ng = jn_alloc(cx->arena, cap * sizeof *ng);
                    if (n_groups)
                        memcpy(ng, groups, n_groups * sizeof *ng);
                    groups = ng;
                }
                groups[n_groups] = (group){key, item, p, false};
                jn_obj_set(cx->arena, index, key->u.str.s, key->u.str.len,
                           jn_number(cx->arena, (double)n_groups));
                n_groups++;
            }
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        group *gr = &groups[g];
        jn_val *context = gr->data;
        jn_env *e = env;
        if (reduce) {
            jn_val *t = reduce_tuples(cx, gr->data);
            context = tuple_at(t);
            if (jn_is_obj(t))
                jn_obj_del(t, "@", 1);
            e = tuple_env(cx, env, t);
        }
        jn_val *v = jn__eval(cx, obj->pairs.v[2 * gr->expr_index + 1], context, e);
        if (v != NULL)
            jn_obj_set(cx->arena, result, gr->key->u.str.s, gr->key->u.str.len, v);
    }
    return result;
}

/* ---- sorting: a stable merge sort with a comparator that may raise errors ---- */

typedef struct sorter {
    jn_ctx *cx;
    jn_val *fn;           /* $sort's comparator, or NULL */
    const jn_node *terms; /* order-by terms, when fn is NULL */
    jn_env *env;
    bool tuples;
    jn_val **items; /* what is sorted; the sort moves indexes into it */
    jn_val **keys;  /* order-by: term t of item i at [i * terms + t], once evaluated */
} sorter;

static jn_val unset_key; /* a key not evaluated yet */

/* Term t of item i: evaluated when a comparison first needs it, then remembered (the
 * reference evaluates it at every comparison; an expression gives the same value). */
static jn_val *sort_key(sorter *s, size_t i, size_t t)
{
    jn_val **slot = &s->keys[i * s->terms->items.len + t];
    if (*slot == &unset_key) {
        jn_val *item = s->items[i];
        jn_val *c = item;
        jn_env *e = s->env;
        if (s->tuples) {
            c = tuple_at(item);
            e = tuple_env(s->cx, s->env, item);
        }
        *slot = jn__eval(s->cx, s->terms->items.v[t]->lhs, c, e);
    }
    return *slot;
}

static int compare_plain(const jn_val *a, const jn_val *b)
{
    if (jn_is_num(a)) {
        double x = jn_num(a), y = jn_num(b);
        return x == y ? 0 : x < y ? -1 : 1;
    }
    size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
    int c = memcmp(a->u.str.s, b->u.str.s, n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a->u.str.len == b->u.str.len ? 0 : a->u.str.len < b->u.str.len ? -1 : 1;
}

/* true when item ia must come after item ib */
static bool after(sorter *s, size_t ia, size_t ib)
{
    jn_ctx *cx = s->cx;
    jn_val *a = s->items[ia], *b = s->items[ib];
    if (s->fn != NULL) {
        jn_val *args[2] = {a, b};
        jn_val *r = jn_call(cx, s->fn, args, 2);
        return jn__truthy(cx, r) == 1;
    }
    if (s->terms == NULL) {
        /* $sort without a comparator: numbers or strings, ascending */
        return compare_plain(a, b) > 0;
    }
    int comp = 0;
    for (size_t i = 0; comp == 0 && i < s->terms->items.len; i++) {
        const jn_node *term = s->terms->items.v[i];
        jn_val *aa = sort_key(s, ia, i);
        jn_val *bb = sort_key(s, ib, i);
        jn_type at = jn_typeof(aa), bt = jn_typeof(bb);
        if (at == JN_UNDEFINED) {
            comp = bt == JN_UNDEFINED ? 0 : 1;
            continue;
        }
        if (bt == JN_UNDEFINED) {
            comp = -1;
            continue;
        }
        if (!(at == JN_STRING || at == JN_NUMBER) || !(bt == JN_STRING || bt == JN_NUMBER))
            jn__throw_at(cx, "T2008", s->terms->position, NULL, NULL,
                         "The expressions within an order-by clause must evaluate to numeric or "
                         "string values");
        if (at != bt)
            jn__throw_at(cx, "T2007", s->terms->position, NULL, NULL,
                         "Type mismatch within order-by clause. All values must be of the same "
                         "type");
        if (at == JN_NUMBER) {
            double x = jn_num(aa), y = jn_num(bb);
            comp = x == y ? 0 : x < y ? -1 : 1;
        } else {
            size_t n = aa->u.str.len < bb->u.str.len ? aa->u.str.len : bb->u.str.len;
            int c = memcmp(aa->u.str.s, bb->u.str.s, n);
            comp = c != 0                           ? (c < 0 ? -1 : 1)
                   : aa->u.str.len == bb->u.str.len ? 0
                   : aa->u.str.len < bb->u.str.len  ? -1
                                                    : 1;
        }
        if (term->descending)
            comp = -comp;
    }
    return comp == 1;
}

static void merge_sort(sorter *s, size_t *v, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t mid = n / 2;
    merge_sort(s, v, tmp, mid);
    merge_sort(s, v + mid, tmp, n - mid);
    size_t i = 0, j = mid, k = 0;
    while (i < mid && j < n) {
        if (after(s, v[i], v[j]))
            tmp[k++] = v[j++];
        else
            tmp[k++] = v[i++];
    }
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

jn_val *jn__sort(jn_ctx *cx, jn_val *arr, jn_val *fn, const jn_node *terms, jn_env *env,
                 bool tuples)
{
    if (!jn_is_arr(arr))
        return arr;
    if (arr->u.arr.len <= 1)
        return arr;
    size_t n = arr->u.arr.len;
    sorter s = {cx, fn, terms, env, tuples, arr->u.arr.items, NULL};
    if (fn == NULL && terms != NULL) {
        size_t nk = n * terms->items.len;
        s.keys = jn_alloc(cx->arena, nk * sizeof *s.keys);
        for (size_t i = 0; i < nk; i++)
            s.keys[i] = &unset_key;
    }
    size_t *order = jn_alloc(cx->arena, 2 * n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    merge_sort(&s, order, order + n, n);
    jn_val *r = jn_array(cx->arena, n);
    r->flags = arr->flags & (JN_ARR_SEQ | JN_ARR_TUPLES);
    for (size_t i = 0; i < n; i++)
        r->u.arr.items[i] = arr->u.arr.items[order[i]];
    r->u.arr.len = n;
    return r;
}
