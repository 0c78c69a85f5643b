/*
 * ast.c — rewrites the parser's raw tree into the one the evaluator walks, following
 * the semantics the JSONata documentation gives its operators:
 *   - a chain of '.' becomes one path of steps; string literals in a path are field names;
 *   - '[…]' after a step becomes a filter stage of that step (of the last step of a path),
 *     elsewhere a predicate of the expression;
 *   - '{…}' after an expression becomes its group-by, '^(…)' a sort step of a path;
 *   - '@$x' and '#$i' mark steps that bind a focus or a position (a tuple stream);
 *   - '%' (parent) is resolved to the step whose input it names: that step binds its input
 *     under a label (a slot) the '%' reads;
 *   - a lambda body's calls in tail position become thunks, so tail recursion runs in
 *     constant stack.
 */
#include "jsonata/jsonata_int.h"

#include <stdio.h>
#include <string.h>

#define AERR(c, code, pos, tok, ...)                                                               \
    jn__syntax_error((c)->arena, (c)->jmp, (c)->err, code, (long)(pos), tok, __VA_ARGS__)

static void seeking_push(jn_compiler *c, jn_node *n, jn_slot *s)
{
    if (n->n_seeking == n->cap_seeking) {
        size_t cap = n->cap_seeking ? n->cap_seeking * 2 : 4;
        jn_slot **v = jn_alloc(c->arena, cap * sizeof *v);
        if (n->n_seeking)
            memcpy(v, n->seeking, n->n_seeking * sizeof *v);
        n->seeking = v;
        n->cap_seeking = cap;
    }
    n->seeking[n->n_seeking++] = s;
}

static bool has_seeking(const jn_node *n)
{
    return n->seeking != NULL;
}

static void push_ancestry(jn_compiler *c, jn_node *result, jn_node *value)
{
    if (value == NULL)
        return;
    if (has_seeking(value) || value->type == NT_PARENT) {
        if (result->seeking == NULL) {
            result->seeking = jn_alloc(c->arena, sizeof(jn_slot *));
            result->cap_seeking = 1;
            result->n_seeking = 0;
        }
        for (size_t i = 0; i < value->n_seeking; i++)
            seeking_push(c, result, value->seeking[i]);
        if (value->type == NT_PARENT)
            seeking_push(c, result, value->slot);
    }
}

static jn_slot *seek_parent(jn_compiler *c, jn_node *node, jn_slot *slot)
{
    switch (node->type) {
    case NT_NAME:
    case NT_WILDCARD:
        slot->level--;
        if (slot->level == 0) {
            if (node->ancestor == NULL) {
                node->ancestor = slot;
            } else {
                c->ancestry[slot->index]->label = node->ancestor->label;
                node->ancestor = slot;
            }
            node->tuple = true;
        }
        break;
    case NT_PARENT:
        slot->level++;
        break;
    case NT_BLOCK:
        if (node->items.len > 0) {
            node->tuple = true;
            slot = seek_parent(c, node->items.v[node->items.len - 1], slot);
        }
        break;
    case NT_PATH: {
        node->tuple = true;
        long index = (long)node->items.len - 1;
        slot = seek_parent(c, node->items.v[index--], slot);
        while (slot->level > 0 && index >= 0)
            slot = seek_parent(c, node->items.v[index--], slot);
        break;
    }
    default:
        AERR(c, "S0217", node->position, NULL,
             "The object representing the 'parent' cannot be derived from this expression");
    }
    return slot;
}

static void resolve_ancestry(jn_compiler *c, jn_node *path)
{
    long index = (long)path->items.len - 1;
    jn_node *last = path->items.v[index];
    size_t n = last->n_seeking + (last->type == NT_PARENT ? 1 : 0);
    jn_slot **slots = jn_alloc(c->arena, (n + 1) * sizeof *slots);
    for (size_t i = 0; i < last->n_seeking; i++)
        slots[i] = last->seeking[i];
    if (last->type == NT_PARENT)
        slots[last->n_seeking] = last->slot;
    for (size_t is = 0; is < n; is++) {
        jn_slot *slot = slots[is];
        index = (long)path->items.len - 2;
        while (slot->level > 0) {
            if (index < 0) {
                if (path->seeking == NULL) {
                    path->seeking = jn_alloc(c->arena, sizeof(jn_slot *));
                    path->cap_seeking = 1;
                }
                seeking_push(c, path, slot);
                break;
            }
            jn_node *step = path->items.v[index--];
            while (index >= 0 && step->focus != NULL && path->items.v[index]->focus != NULL)
                step = path->items.v[index--];
            slot = seek_parent(c, step, slot);
        }
    }
}

static jn_node *tail_call_optimize(jn_compiler *c, jn_node *e)
{
    if (e->type == NT_CALL && e->predicates.len == 0) {
        jn_node *thunk = jn__new_node(c->arena, NT_LAMBDA, e->position);
        thunk->thunk = true;
        thunk->rhs = e;
        return thunk;
    }
    if (e->type == NT_CONDITION) {
        e->rhs = tail_call_optimize(c, e->rhs);
        if (e->els != NULL)
            e->els = tail_call_optimize(c, e->els);
        return e;
    }
    if (e->type == NT_BLOCK) {
        if (e->items.len > 0)
            e->items.v[e->items.len - 1] = tail_call_optimize(c, e->items.v[e->items.len - 1]);
        return e;
    }
    return e;
}

/* Whether evaluating n may bind a variable in the frame it is evaluated in (a ':=' not
 * inside a block or a function of its own). */
static bool binds_here(const jn_node *n)
{
    if (n == NULL || n->type == NT_BLOCK || n->type == NT_LAMBDA)
        return false;
    if (n->type == NT_BIND)
        return true;
    if (binds_here(n->lhs) || binds_here(n->rhs) || binds_here(n->els) || binds_here(n->group))
        return true;
    const jn_nodes *lists[] = {&n->items, &n->pairs, &n->stages, &n->predicates};
    for (size_t l = 0; l < 4; l++)
        for (size_t i = 0; i < lists[l]->len; i++)
            if (binds_here(lists[l]->v[i]))
                return true;
    return false;
}

static jn_node *path_of(jn_compiler *c, jn_node *step)
{
    jn_node *p = jn__new_node(c->arena, NT_PATH, step->position);
    jn__push_node(c->arena, &p->items, step);
    return p;
}

static jn_node *process(jn_compiler *c, jn_node *e);

static jn_node *process_binary(jn_compiler *c, jn_node *e)
{
    jn_arena *a = c->arena;
    jn_node *result;
    switch (e->op) {
    case OP_DOT: {
        jn_node *lstep = process(c, e->lhs);
        if (lstep->type == NT_PATH) {
            result = lstep;
        } else {
            result = path_of(c, lstep);
        }
        if (lstep->type == NT_PARENT) {
            result->seeking = NULL;
            result->n_seeking = 0;
            seeking_push(c, result, lstep->slot);
        }
        jn_node *rest = process(c, e->rhs);
        if (rest->type == NT_PATH) {
            for (size_t i = 0; i < rest->items.len; i++)
                jn__push_node(a, &result->items, rest->items.v[i]);
        } else {
            if (rest->predicates.len > 0) {
                rest->stages = rest->predicates;
                memset(&rest->predicates, 0, sizeof rest->predicates);
            }
            jn__push_node(a, &result->items, rest);
        }
        for (size_t i = 0; i < result->items.len; i++) {
            jn_node *s = result->items.v[i];
            if (s->type == NT_NUMBER || s->type == NT_VALUE)
                AERR(c, "S0213", s->position, NULL,
                     "The literal value %s cannot be used as a step within a path expression",
                     s->type == NT_NUMBER ? "number" : "true/false/null");
            if (s->type == NT_STRING)
                s->type = NT_NAME;
            if (s->keep_array)
                result->keep_singleton = true;
        }
        jn_node *first = result->items.v[0];
        if (first->type == NT_ARRAY)
            first->cons_array = true;
        jn_node *last = result->items.v[result->items.len - 1];
        if (last->type == NT_ARRAY)
            last->cons_array = true;
        resolve_ancestry(c, result);
        return result;
    }
    case OP_LBRACKET: {
        result = process(c, e->lhs);
        jn_node *step = result;
        bool stages = false;
        if (result->type == NT_PATH) {
            step = result->items.v[result->items.len - 1];
            stages = true;
        }
        if (step->group != NULL)
            AERR(c, "S0209", e->position, NULL,
                 "A predicate cannot follow a grouping expression in a step");
        jn_node *pred = process(c, e->rhs);
        if (has_seeking(pred)) {
            for (size_t i = 0; i < pred->n_seeking; i++) {
                jn_slot *slot = pred->seeking[i];
                if (slot->level == 1)
                    seek_parent(c, step, slot);
                else
                    slot->level--;
            }
            push_ancestry(c, step, pred);
        }
        jn_node *f = jn__new_node(a, NT_FILTER, e->position);
        f->lhs = pred;
        jn__push_node(a, stages ? &step->stages : &step->predicates, f);
        return result;
    }
    case OP_LBRACE: {
        result = process(c, e->lhs);
        if (result->group != NULL)
            AERR(c, "S0210", e->position, NULL, "Each step can only have one grouping expression");
        jn_node *g = jn__new_node(a, NT_OBJECT, e->position);
        for (size_t i = 0; i < e->rhs->pairs.len; i++)
            jn__push_node(a, &g->pairs, process(c, e->rhs->pairs.v[i]));
        result->group = g;
        return result;
    }
    case OP_CARET: {
        result = process(c, e->lhs);
        if (result->type != NT_PATH)
            result = path_of(c, result);
        jn_node *sort = jn__new_node(a, NT_SORT, e->position);
        for (size_t i = 0; i < e->rhs->items.len; i++) {
            jn_node *term = e->rhs->items.v[i];
            term->lhs = process(c, term->lhs);
            push_ancestry(c, sort, term->lhs);
            jn__push_node(a, &sort->items, term);
        }
        jn__push_node(a, &result->items, sort);
        resolve_ancestry(c, result);
        return result;
    }
    case OP_BIND:
        result = jn__new_node(a, NT_BIND, e->position);
        result->lhs = process(c, e->lhs);
        result->rhs = process(c, e->rhs);
        push_ancestry(c, result, result->rhs);
        return result;
    case OP_AT: {
        result = process(c, e->lhs);
        jn_node *step = result;
        if (result->type == NT_PATH)
            step = result->items.v[result->items.len - 1];
        if (step->stages.len > 0 || step->predicates.len > 0)
            AERR(c, "S0215", e->position, NULL,
                 "A context variable binding must precede any predicates on a step");
        if (step->type == NT_SORT)
            AERR(c, "S0216", e->position, NULL,
                 "A context variable binding must precede the 'order-by' clause on a step");
        if (e->keep_array)
            step->keep_array = true;
        step->focus = e->rhs->str;
        step->tuple = true;
        return result;
    }
    case OP_HASH: {
        result = process(c, e->lhs);
        jn_node *step = result;
        if (result->type == NT_PATH) {
            step = result->items.v[result->items.len - 1];
        } else {
            result = path_of(c, result);
            if (step->predicates.len > 0) {
                step->stages = step->predicates;
                memset(&step->predicates, 0, sizeof step->predicates);
            }
        }
        if (step->stages.len == 0) {
            step->index = e->rhs->str;
        } else {
            jn_node *ix = jn__new_node(a, NT_INDEX, e->position);
            ix->str = e->rhs->str;
            jn__push_node(a, &step->stages, ix);
        }
        step->tuple = true;
        return result;
    }
    case OP_APPLY:
        result = jn__new_node(a, NT_APPLY, e->position);
        result->lhs = process(c, e->lhs);
        result->rhs = process(c, e->rhs);
        result->keep_array = result->lhs->keep_array || result->rhs->keep_array;
        return result;
    default:
        result = jn__new_node(a, NT_BINARY, e->position);
        result->op = e->op;
        result->str = e->str;
        result->lhs = process(c, e->lhs);
        result->rhs = process(c, e->rhs);
        push_ancestry(c, result, result->lhs);
        push_ancestry(c, result, result->rhs);
        return result;
    }
}

#define MAX_TREE_DEPTH 2000

static jn_node *process(jn_compiler *c, jn_node *e)
{
    jn_arena *a = c->arena;
    jn_node *result;
    if (++c->depth > MAX_TREE_DEPTH)
        AERR(c, "U1001", e->position, NULL, "The expression nests more than %d levels deep",
             MAX_TREE_DEPTH);
    switch (e->type) {
    case NT_BINARY:
        result = process_binary(c, e);
        break;
    case NT_ARRAY: {
        result = jn__new_node(a, NT_ARRAY, e->position);
        for (size_t i = 0; i < e->items.len; i++) {
            jn_node *v = process(c, e->items.v[i]);
            push_ancestry(c, result, v);
            jn__push_node(a, &result->items, v);
        }
        break;
    }
    case NT_OBJECT: {
        result = jn__new_node(a, NT_OBJECT, e->position);
        for (size_t i = 0; i < e->pairs.len; i++) {
            jn_node *v = process(c, e->pairs.v[i]);
            push_ancestry(c, result, v);
            jn__push_node(a, &result->pairs, v);
        }
        break;
    }
    case NT_NEGATE: {
        jn_node *x = process(c, e->lhs);
        if (x->type == NT_NUMBER) {
            x->num = -x->num;
            x->lit = jn_number(a, x->num);
            result = x;
        } else {
            result = jn__new_node(a, NT_NEGATE, e->position);
            result->lhs = x;
            push_ancestry(c, result, x);
        }
        break;
    }
    case NT_CALL:
    case NT_PARTIAL: {
        result = jn__new_node(a, e->type, e->position);
        for (size_t i = 0; i < e->items.len; i++) {
            jn_node *v = process(c, e->items.v[i]);
            push_ancestry(c, result, v);
            jn__push_node(a, &result->items, v);
        }
        result->lhs = process(c, e->lhs);
        break;
    }
    case NT_LAMBDA: {
        result = jn__new_node(a, NT_LAMBDA, e->position);
        result->items = e->items;
        result->sig = e->sig;
        result->rhs = tail_call_optimize(c, process(c, e->rhs));
        result->binds = binds_here(result->rhs->thunk ? result->rhs->rhs : result->rhs);
        break;
    }
    case NT_CONDITION:
        result = jn__new_node(a, NT_CONDITION, e->position);
        result->lhs = process(c, e->lhs);
        push_ancestry(c, result, result->lhs);
        result->rhs = process(c, e->rhs);
        push_ancestry(c, result, result->rhs);
        if (e->els != NULL) {
            result->els = process(c, e->els);
            push_ancestry(c, result, result->els);
        }
        break;
    case NT_TRANSFORM:
        result = jn__new_node(a, NT_TRANSFORM, e->position);
        result->lhs = process(c, e->lhs);
        result->rhs = process(c, e->rhs);
        if (e->els != NULL)
            result->els = process(c, e->els);
        break;
    case NT_BLOCK:
        result = jn__new_node(a, NT_BLOCK, e->position);
        for (size_t i = 0; i < e->items.len; i++) {
            jn_node *part = process(c, e->items.v[i]);
            push_ancestry(c, result, part);
            if (part->cons_array || (part->type == NT_PATH && part->items.v[0]->cons_array))
                result->cons_array = true;
            jn__push_node(a, &result->items, part);
        }
        break;
    case NT_NAME:
        result = path_of(c, e);
        if (e->keep_array)
            result->keep_singleton = true;
        break;
    case NT_PARENT: {
        result = jn__new_node(a, NT_PARENT, e->position);
        jn_slot *slot = jn_alloc0(a, sizeof *slot);
        char buf[24];
        snprintf(buf, sizeof buf, "!%d", c->ancestor_label++);
        slot->label = jn_strndup(a, buf, strlen(buf));
        slot->level = 1;
        slot->index = c->ancestor_index++;
        result->slot = slot;
        if (c->n_ancestry == c->cap_ancestry) {
            size_t cap = c->cap_ancestry ? c->cap_ancestry * 2 : 8;
            jn_slot **v = jn_alloc(a, cap * sizeof *v);
            if (c->n_ancestry)
                memcpy(v, c->ancestry, c->n_ancestry * sizeof *v);
            c->ancestry = v;
            c->cap_ancestry = cap;
        }
        c->ancestry[c->n_ancestry++] = slot;
        break;
    }
    case NT_OPERATOR:
        e->type = NT_NAME;
        result = process(c, e);
        break;
    case NT_END:
        AERR(c, "S0207", e->position, "(end)", "Unexpected end of expression");
    case NT_HOLE:
    case NT_STRING:
    case NT_NUMBER:
    case NT_VALUE:
    case NT_WILDCARD:
    case NT_DESCENDANT:
    case NT_VARIABLE:
    case NT_REGEX:
        result = e;
        break;
    default:
        AERR(c, "S0206", e->position, NULL, "Unknown expression type");
    }
    if (e->keep_array)
        result->keep_array = true;
    c->depth--;
    return result;
}

jn_node *jn__process(jn_compiler *c, jn_node *raw)
{
    jn_node *r = process(c, raw);
    if (r->type == NT_PARENT || r->seeking != NULL) {
        bool unresolved = r->type == NT_PARENT;
        for (size_t i = 0; i < r->n_seeking; i++)
            if (r->seeking[i]->level > 0)
                unresolved = true;
        if (unresolved)
            AERR(c, "S0217", r->position, NULL,
                 "The object representing the 'parent' cannot be derived from this expression");
    }
    return r;
}
