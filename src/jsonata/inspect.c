/*
 * inspect.c — what a compiled expression reads from its top-level context (jsonata.h,
 * jn_expr_top_refs), for hosts that evaluate with no context item and refuse such reads
 * when the expression is written rather than when it runs.
 *
 * The walk follows the context: a path's first step reads the top-level context and every
 * later step, predicate, sort term and group reads what the step before produced, so only
 * the first step is visited. Operands, arguments, array items, object constructor keys and
 * values, block expressions, conditions and a bound value all see the top-level context, and
 * so does a lambda's body (it keeps the context of the expression that defines it).
 * Transforms, regexes, wildcards and descendants are not visited.
 */
#include "base/alloc.h"
#include "jsonata/jsonata_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen_ref {
    jn_ref_kind kind;
    const char *text;
    size_t len;
} seen_ref;

typedef struct walk {
    jn_top_ref_fn *fn;
    void *arg;
    seen_ref *seen;
    size_t n_seen, cap_seen;
} walk;

/* Reports a reference the first time it is seen; false when it was seen before. */
static bool report(walk *w, jn_ref_kind kind, const char *text, size_t len)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (w->seen[i].kind == kind && w->seen[i].len == len &&
            memcmp(w->seen[i].text, text, len) == 0)
            return false;
    if (w->n_seen == w->cap_seen) {
        w->cap_seen = w->cap_seen ? w->cap_seen * 2 : 8;
        w->seen = bt_xrealloc(w->seen, w->cap_seen * sizeof *w->seen);
    }
    w->seen[w->n_seen++] = (seen_ref){kind, text, len};
    w->fn(w->arg, kind, text, len);
    return true;
}

static void visit(walk *w, const jn_node *n);

static void visit_all(walk *w, const jn_nodes *list)
{
    for (size_t i = 0; i < list->len; i++)
        visit(w, list->v[i]);
}

static void visit(walk *w, const jn_node *n)
{
    if (n == NULL)
        return;
    switch (n->type) {
    case NT_PATH: {
        if (n->items.len == 0)
            return;
        visit(w, n->items.v[0]);
        const jn_node *first = n->items.v[0];
        bool named_var = first->type == NT_VARIABLE && first->len > 0 &&
                         !(first->len == 1 && first->str[0] == '$');
        if (n->items.len > 1 && named_var && n->items.v[1]->type == NT_NAME) {
            /* "$states.errorOutput"; kept in seen (freed at the end) when new */
            const jn_node *var = n->items.v[0], *name = n->items.v[1];
            size_t len = 1 + var->len + 1 + name->len;
            char *text = bt_xmalloc(len + 1);
            snprintf(text, len + 1, "$%.*s.%.*s", (int)var->len, var->str, (int)name->len,
                     name->str);
            if (!report(w, JN_REF_FIELD, text, len))
                free(text);
        }
        return;
    }
    case NT_NAME:
        report(w, JN_REF_NAME, n->str, n->len);
        return;
    case NT_VARIABLE:
        if (n->len == 0)
            report(w, JN_REF_CONTEXT, "$", 1);
        else if (n->len == 1 && n->str[0] == '$')
            report(w, JN_REF_ROOT, "$$", 2);
        return;
    case NT_BINARY:
    case NT_APPLY:
        visit(w, n->lhs);
        visit(w, n->rhs);
        return;
    case NT_NEGATE:
        visit(w, n->lhs);
        return;
    case NT_ARRAY:
    case NT_BLOCK:
        visit_all(w, &n->items);
        return;
    case NT_OBJECT:
        visit_all(w, &n->pairs);
        return;
    case NT_CALL:
    case NT_PARTIAL:
        visit(w, n->lhs);
        visit_all(w, &n->items);
        return;
    case NT_LAMBDA:
        visit(w, n->rhs);
        return;
    case NT_CONDITION:
        visit(w, n->lhs);
        visit(w, n->rhs);
        visit(w, n->els);
        return;
    case NT_BIND:
        visit(w, n->rhs);
        return;
    default:
        return;
    }
}

void jn_expr_top_refs(const jn_expr *e, jn_top_ref_fn *fn, void *arg)
{
    walk w = {.fn = fn, .arg = arg};
    visit(&w, e->root);
    for (size_t i = 0; i < w.n_seen; i++)
        if (w.seen[i].kind == JN_REF_FIELD)
            free((char *)(uintptr_t)w.seen[i].text);
    free(w.seen);
}
