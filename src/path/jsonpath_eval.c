/*
 * jsonpath_eval.c — evaluates compiled paths (jpath_eval): a definite path by a loop over its
 * segments with borrowed pointers, an indefinite one by a recursive walk that appends its
 * matches in document order, filters included. Called by everything that reads a path at
 * run time (payload.c, intrinsics.c, Choice rules, the engine). Every step of a walk spends from a
 * work budget, so "$..*..*..*" on a large document ends with BT_ELIMIT instead of running away.
 */
#include "base/err.h"
#include "path/jsonpath_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK_BUDGET ((size_t)1 << 23)

/* ---------------------------------------------------------------- evaluation */

typedef struct evalctx {
    json_t *root; /* what "$" means inside filters */
    size_t budget;
    int rc;
} evalctx;

json_t *jpath__array_at(json_t *v, long long index)
{
    if (!json_is_array(v))
        return NULL;
    long long len = (long long)json_array_size(v);
    if (index < 0)
        index += len;
    if (index < 0 || index >= len)
        return NULL;
    return json_array_get(v, (size_t)index);
}

/* Follows definite segments [0, n) from v. Borrowed result, NULL when nothing is there. */
static json_t *follow(const seg *s, size_t n, json_t *v)
{
    for (size_t i = 0; i < n && v != NULL; i++)
        v = s[i].kind == SEG_NAME ? json_object_get(v, s[i].name) : jpath__array_at(v, s[i].index);
    return v;
}

static json_t *merge_names(const seg *s, json_t *obj)
{
    json_t *m = json_object();
    for (size_t k = 0; k < s->n_names; k++) {
        json_t *v = json_object_get(obj, s->names[k]);
        if (v != NULL)
            json_object_set(m, s->names[k], v);
    }
    return m;
}

/* A definite path from v: a new reference or NULL. */
static json_t *eval_definite(const jpath *p, json_t *v)
{
    if (!p->merge_tail) {
        v = follow(p->segs, p->n_segs, v);
        return v ? json_incref(v) : NULL;
    }
    v = follow(p->segs, p->n_segs - 1, v);
    if (!json_is_object(v))
        return NULL;
    return merge_names(&p->segs[p->n_segs - 1], v);
}

static void walk(evalctx *c, const seg *segs, size_t n, size_t i, json_t *node, json_t *out);
static bool fx_eval(evalctx *c, const fexpr *e, json_t *item);

static bool spend(evalctx *c)
{
    if (c->rc != 0)
        return false;
    if (c->budget == 0) {
        c->rc = BT_ELIMIT;
        return false;
    }
    c->budget--;
    return true;
}

static void slice_walk(evalctx *c, const seg *segs, size_t n, size_t i, json_t *arr, json_t *out)
{
    const seg *s = &segs[i];
    long long len = (long long)json_array_size(arr);
    long long step = s->step;
    if (step > 0) {
        long long a = s->has_start ? s->start : 0, b = s->has_end ? s->end : len;
        if (a < 0)
            a += len;
        if (b < 0)
            b += len;
        a = a < 0 ? 0 : a > len ? len : a;
        b = b < 0 ? 0 : b > len ? len : b;
        for (long long k = a; k < b && c->rc == 0; k += step)
            walk(c, segs, n, i + 1, json_array_get(arr, (size_t)k), out);
    } else {
        long long a = s->has_start ? s->start : len - 1, b = s->has_end ? s->end : -len - 1;
        if (a < 0)
            a += len;
        if (b < 0)
            b += len;
        a = a < -1 ? -1 : a > len - 1 ? len - 1 : a;
        b = b < -1 ? -1 : b > len - 1 ? len - 1 : b;
        for (long long k = a; k > b && c->rc == 0; k += step)
            walk(c, segs, n, i + 1, json_array_get(arr, (size_t)k), out);
    }
}

/* Applies the selector of segment i to node and walks on with each selected child. */
static void select_children(evalctx *c, const seg *segs, size_t n, size_t i, json_t *node,
                            json_t *out)
{
    const seg *s = &segs[i];
    const char *key;
    json_t *v;
    size_t k;
    switch (s->kind) {
    case SEG_NAME:
        v = json_object_get(node, s->name);
        if (v != NULL)
            walk(c, segs, n, i + 1, v, out);
        break;
    case SEG_INDEX:
        v = jpath__array_at(node, s->index);
        if (v != NULL)
            walk(c, segs, n, i + 1, v, out);
        break;
    case SEG_WILD:
        if (json_is_object(node)) {
            json_object_foreach(node, key, v)
            {
                walk(c, segs, n, i + 1, v, out);
                if (c->rc)
                    return;
            }
        } else if (json_is_array(node)) {
            json_array_foreach(node, k, v)
            {
                walk(c, segs, n, i + 1, v, out);
                if (c->rc)
                    return;
            }
        }
        break;
    case SEG_NAMES:
        if (!json_is_object(node))
            break;
        if (i + 1 == n) {
            if (spend(c))
                json_array_append_new(out, merge_names(s, node));
            break;
        }
        for (k = 0; k < s->n_names && c->rc == 0; k++) {
            v = json_object_get(node, s->names[k]);
            if (v != NULL)
                walk(c, segs, n, i + 1, v, out);
        }
        break;
    case SEG_INDEXES:
        for (k = 0; k < s->n_indexes && c->rc == 0; k++) {
            v = jpath__array_at(node, s->indexes[k]);
            if (v != NULL)
                walk(c, segs, n, i + 1, v, out);
        }
        break;
    case SEG_SLICE:
        if (json_is_array(node))
            slice_walk(c, segs, n, i, node, out);
        break;
    case SEG_FILTER:
        if (json_is_object(node)) {
            if (fx_eval(c, s->filter, node))
                walk(c, segs, n, i + 1, node, out);
        } else if (json_is_array(node)) {
            json_array_foreach(node, k, v)
            {
                if (fx_eval(c, s->filter, v))
                    walk(c, segs, n, i + 1, v, out);
                if (c->rc)
                    return;
            }
        }
        break;
    }
}

static bool has_all_names(const seg *s, json_t *obj)
{
    for (size_t k = 0; k < s->n_names; k++)
        if (json_object_get(obj, s->names[k]) == NULL)
            return false;
    return true;
}

/*
 * Recursive descent: applies segment i to node and to every container below it, parent
 * before children (Jayway's scan order). A filter after ".." tests each object itself.
 */
static void descend(evalctx *c, const seg *segs, size_t n, size_t i, json_t *node, json_t *out)
{
    if (!json_is_object(node) && !json_is_array(node))
        return;
    if (!spend(c))
        return;
    const seg *s = &segs[i];
    if (s->kind == SEG_FILTER) {
        if (fx_eval(c, s->filter, node)) {
            if (json_is_object(node))
                walk(c, segs, n, i + 1, node, out);
            else
                select_children(c, segs, n, i, node, out);
        }
    } else if (s->kind == SEG_NAMES && i + 1 == n) {
        if (json_is_object(node) && has_all_names(s, node))
            select_children(c, segs, n, i, node, out);
    } else {
        select_children(c, segs, n, i, node, out);
    }
    const char *key;
    json_t *v;
    size_t k;
    if (json_is_object(node)) {
        json_object_foreach(node, key, v)
        {
            if (c->rc)
                return;
            descend(c, segs, n, i, v, out);
        }
    } else {
        json_array_foreach(node, k, v)
        {
            if (c->rc)
                return;
            descend(c, segs, n, i, v, out);
        }
    }
}

static void walk(evalctx *c, const seg *segs, size_t n, size_t i, json_t *node, json_t *out)
{
    if (!spend(c))
        return;
    if (i == n) {
        json_array_append(out, node);
        return;
    }
    if (segs[i].descend)
        descend(c, segs, n, i, node, out);
    else
        select_children(c, segs, n, i, node, out);
}

/* Evaluates an indefinite path from node into a new array (NULL when the budget ran out). */
static json_t *eval_indefinite(evalctx *c, const jpath *p, json_t *node)
{
    json_t *out = json_array();
    walk(c, p->segs, p->n_segs, 0, node, out);
    if (c->rc != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The value of a filter operand: a new reference, or NULL for "undefined". */
static json_t *operand_value(evalctx *c, const operand *o, json_t *item)
{
    if (o->kind == OPND_LITERAL)
        return json_incref(o->literal);
    if (o->kind != OPND_PATH)
        return NULL;
    json_t *from = o->path->root == ROOT_CURRENT ? item : c->root;
    if (o->path->definite)
        return eval_definite(o->path, from);
    return eval_indefinite(c, o->path, from);
}

/* Parses all of s as a JSON-style number. */
static bool string_number(json_t *s, double *out)
{
    const char *str = json_string_value(s);
    size_t len = json_string_length(s);
    if (len == 0 || len > 64 || jpath__is_space(str[0]))
        return false;
    char *end;
    errno = 0;
    double d = strtod(str, &end);
    if (end != str + len || errno != 0)
        return false;
    /* reject hex, inf and nan spellings, which Java's BigDecimal does not read */
    for (size_t i = 0; i < len; i++)
        if (strchr("0123456789+-.eE", str[i]) == NULL)
            return false;
    *out = d;
    return true;
}

static int num_cmp(json_t *a, json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    double x = json_number_value(a), y = json_number_value(b);
    return x < y ? -1 : x > y;
}

static int str_cmp(json_t *a, json_t *b)
{
    size_t la = json_string_length(a), lb = json_string_length(b);
    int r = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    if (r != 0)
        return r;
    return la < lb ? -1 : la > lb;
}

static bool values_equal(json_t *a, json_t *b)
{
    if (a == NULL || b == NULL)
        return false;
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b) == 0;
    if (json_is_number(a) && json_is_string(b)) {
        json_t *t = a;
        a = b;
        b = t;
    }
    if (json_is_string(a) && json_is_number(b)) {
        double d;
        return string_number(a, &d) && d == json_number_value(b);
    }
    if (json_is_string(a) && json_is_string(b))
        return str_cmp(a, b) == 0;
    if (json_is_boolean(a) && json_is_boolean(b))
        return json_typeof(a) == json_typeof(b);
    if (json_is_null(a) && json_is_null(b))
        return true;
    if ((json_is_object(a) && json_is_object(b)) || (json_is_array(a) && json_is_array(b)))
        return json_equal(a, b) != 0;
    return false;
}

/* -2 when a and b are not ordered against each other. */
static int order(json_t *a, json_t *b)
{
    if (a == NULL || b == NULL)
        return -2;
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b);
    if (json_is_string(a) && json_is_string(b)) {
        int r = str_cmp(a, b);
        return r < 0 ? -1 : r > 0;
    }
    return -2;
}

static bool regex_matches(const regex_t *re, json_t *v)
{
    char tmp[64];
    const char *s;
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = tmp;
    } else if (json_is_real(v)) {
        snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v));
        s = tmp;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
    } else {
        return false;
    }
    return regexec(re, s, 0, NULL, 0) == 0;
}

static bool fx_eval(evalctx *c, const fexpr *e, json_t *item)
{
    if (!spend(c))
        return false;
    switch (e->kind) {
    case FX_OR:
        return fx_eval(c, e->left, item) || fx_eval(c, e->right, item);
    case FX_AND:
        return fx_eval(c, e->left, item) && fx_eval(c, e->right, item);
    case FX_NOT:
        return !fx_eval(c, e->left, item);
    case FX_EXISTS: {
        json_t *v = operand_value(c, &e->a, item);
        bool r =
            v != NULL && !(json_is_array(v) && !e->a.path->definite && json_array_size(v) == 0);
        json_decref(v);
        return r;
    }
    case FX_CMP:
        break;
    }
    if (e->op == OP_MATCH) {
        const operand *re = e->a.kind == OPND_REGEX ? &e->a : &e->b;
        const operand *other = e->a.kind == OPND_REGEX ? &e->b : &e->a;
        json_t *v = operand_value(c, other, item);
        bool r = v != NULL && regex_matches(re->re, v);
        json_decref(v);
        return r;
    }
    json_t *a = operand_value(c, &e->a, item);
    json_t *b = operand_value(c, &e->b, item);
    bool r = false;
    int o;
    switch (e->op) {
    case OP_EQ:
        r = values_equal(a, b);
        break;
    case OP_NE:
        r = !values_equal(a, b);
        break;
    case OP_LT:
        r = order(a, b) == -1;
        break;
    case OP_LE:
        o = order(a, b);
        r = o == -1 || o == 0;
        break;
    case OP_GT:
        r = order(a, b) == 1;
        break;
    case OP_GE:
        o = order(a, b);
        r = o == 1 || o == 0;
        break;
    case OP_MATCH:
        break;
    }
    json_decref(a);
    json_decref(b);
    return r;
}

json_t *jpath__resolve_root(const jpath *p, const jpath_env *env)
{
    switch (p->root) {
    case JPATH_ROOT_INPUT:
        return env->input;
    case JPATH_ROOT_CONTEXT:
        return env->context;
    case JPATH_ROOT_VAR:
        return env->var != NULL ? env->var(env->var_ud, p->var) : NULL;
    default:
        return NULL;
    }
}

int jpath_eval(const jpath *p, const jpath_env *env, json_t **out)
{
    *out = NULL;
    json_t *root = jpath__resolve_root(p, env);
    if (root == NULL)
        return BT_ENOTFOUND;
    if (p->definite) {
        *out = eval_definite(p, root);
        return *out != NULL ? 0 : BT_ENOTFOUND;
    }
    evalctx c = {.root = root, .budget = WORK_BUDGET, .rc = 0};
    *out = eval_indefinite(&c, p, root);
    return *out != NULL ? 0 : c.rc;
}
