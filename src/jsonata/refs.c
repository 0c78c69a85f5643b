/*
 * refs.c — which variables a compiled expression reads (jn_expr_refs), so that a caller
 * can bind only those, and of a variable holding an object only the fields named after it.
 *
 * The walk goes over the processed tree (ast.c): every NT_VARIABLE is a read; a path whose
 * first step is a plain variable and whose second is a field name reads only that field.
 * The answer may say more than the evaluation reads (a name bound by the expression itself
 * is reported too), never less.
 */
#include "jsonata/jsonata_int.h"

typedef struct refs_walk {
    jn_ref_fn fn;
    void *ud;
    bool whole; /* the tree has a %: a path's head may be read through it */
} refs_walk;

static bool has_parent(const jn_node *n)
{
    if (n == NULL)
        return false;
    if (n->type == NT_PARENT)
        return true;
    if (has_parent(n->lhs) || has_parent(n->rhs) || has_parent(n->els) || has_parent(n->group))
        return true;
    const jn_nodes *lists[] = {&n->items, &n->pairs, &n->stages, &n->predicates};
    for (size_t l = 0; l < 4; l++)
        for (size_t i = 0; i < lists[l]->len; i++)
            if (has_parent(lists[l]->v[i]))
                return true;
    return false;
}

/* A step that only yields its variable's value: no filter, grouping or binding on it. */
static bool plain_variable(const jn_node *s)
{
    return s->type == NT_VARIABLE && s->len > 0 && s->stages.len == 0 && s->predicates.len == 0 &&
           s->group == NULL && s->focus == NULL && s->index == NULL && !s->tuple && !s->keep_array;
}

static void walk(refs_walk *w, const jn_node *n);

static void walk_list(refs_walk *w, const jn_nodes *list, size_t from)
{
    for (size_t i = from; i < list->len; i++)
        walk(w, list->v[i]);
}

static void walk(refs_walk *w, const jn_node *n)
{
    if (n == NULL)
        return;
    size_t from = 0;
    switch (n->type) {
    case NT_VARIABLE:
        w->fn(w->ud, n->str, n->len, NULL, 0);
        break;
    case NT_PATH:
        if (!w->whole && n->items.len >= 2 && plain_variable(n->items.v[0]) &&
            n->items.v[1]->type == NT_NAME) {
            const jn_node *head = n->items.v[0], *field = n->items.v[1];
            w->fn(w->ud, head->str, head->len, field->str, field->len);
            from = 1; /* the field step's own filters are walked with it */
        }
        break;
    case NT_CALL:
    case NT_PARTIAL:
        /* name(…) without '$': the evaluator looks the name up for its error message */
        if (n->lhs && n->lhs->type == NT_PATH && n->lhs->items.len > 0 &&
            n->lhs->items.v[0]->type == NT_NAME)
            w->fn(w->ud, n->lhs->items.v[0]->str, n->lhs->items.v[0]->len, NULL, 0);
        break;
    default:
        break;
    }
    walk(w, n->lhs);
    walk(w, n->rhs);
    walk(w, n->els);
    walk(w, n->group);
    walk_list(w, &n->items, from);
    walk_list(w, &n->pairs, 0);
    walk_list(w, &n->stages, 0);
    walk_list(w, &n->predicates, 0);
}

void jn_expr_refs(const jn_expr *e, jn_ref_fn fn, void *ud)
{
    refs_walk w = {.fn = fn, .ud = ud, .whole = has_parent(e->root)};
    walk(&w, e->root);
}

/* A step that is only a field name: no filter, sort, grouping or binding on it. */
static bool plain_name(const jn_node *s)
{
    return s->type == NT_NAME && s->stages.len == 0 && s->predicates.len == 0 && s->group == NULL &&
           s->focus == NULL && s->index == NULL && !s->tuple && !s->keep_array;
}

size_t jn_expr_name_path(const jn_expr *e, const char **names, size_t *lens, size_t max)
{
    const jn_node *n = e->root;
    if (n == NULL || max == 0)
        return 0;
    if (n->type == NT_VARIABLE) {
        if (!plain_variable(n))
            return 0;
        names[0] = n->str;
        lens[0] = n->len;
        return 1;
    }
    if (n->type != NT_PATH || n->items.len < 2 || n->items.len > max || n->keep_singleton ||
        n->predicates.len != 0 || n->stages.len != 0 || n->group != NULL ||
        !plain_variable(n->items.v[0]))
        return 0;
    for (size_t i = 1; i < n->items.len; i++)
        if (!plain_name(n->items.v[i]))
            return 0;
    for (size_t i = 0; i < n->items.len; i++) {
        names[i] = n->items.v[i]->str;
        lens[i] = n->items.v[i]->len;
    }
    return n->items.len;
}
