/*
 * parse.c — the project file's YAML (libyaml's document API) into prj_node trees that keep
 * each node's line and column, and the problem list every step of loading writes to.
 * Called by check.c (project_load); the tree owns copies of everything, so the libyaml
 * document is gone once prj_parse returns.
 */
#include "base/alloc.h"
#include "project/project.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deeper than any sensible project (or definition): a bound for aliases that nest. */
#define MAX_DEPTH 256

void prj_problems_init(prj_problems *p, const char *file)
{
    memset(p, 0, sizeof *p);
    p->file = file;
}

void prj_problems_fini(prj_problems *p)
{
    for (size_t i = 0; i < p->len; i++)
        free(p->items[i].msg);
    free(p->items);
    p->items = NULL;
    p->len = p->cap = 0;
}

void prj_problem_add(prj_problems *p, prj_mark at, const char *fmt, ...)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = bt_xrealloc(p->items, p->cap * sizeof *p->items);
    }
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = bt_xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap2);
    va_end(ap2);
    p->items[p->len].at = at;
    p->items[p->len].msg = msg;
    p->len++;
}

static bool after(prj_mark a, prj_mark b)
{
    return a.line > b.line || (a.line == b.line && a.col > b.col);
}

void prj_problems_sort(prj_problems *p)
{
    /* Insertion sort: equal positions keep the order found; lists are short. */
    for (size_t i = 1; i < p->len; i++) {
        prj_problem v = p->items[i];
        size_t j = i;
        while (j > 0 && after(p->items[j - 1].at, v.at)) {
            p->items[j] = p->items[j - 1];
            j--;
        }
        p->items[j] = v;
    }
}

void prj_problems_print(const prj_problems *p, FILE *f)
{
    for (size_t i = 0; i < p->len; i++)
        fprintf(f, "%s:%d:%d: error: %s\n", p->file ? p->file : "baton.yaml", p->items[i].at.line,
                p->items[i].at.col, p->items[i].msg);
}

/* ---- the tree ---- */

void prj_node_free(prj_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            prj_node_free(n->keys[i]);
        prj_node_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->text);
    free(n);
}

static prj_mark mark_of(yaml_mark_t m)
{
    return (prj_mark){(int)m.line + 1, (int)m.column + 1};
}

static prj_node *convert(yaml_document_t *doc, yaml_node_t *y, int depth, prj_problems *problems)
{
    prj_node *n = bt_xcalloc(1, sizeof *n);
    n->at = mark_of(y->start_mark);
    if (depth > MAX_DEPTH) {
        prj_problem_add(problems, n->at, "nesting too deep (expected at most %d levels)",
                        MAX_DEPTH);
        n->kind = PRJ_SCALAR;
        n->text = bt_xstrdup("");
        return n;
    }
    switch (y->type) {
    case YAML_MAPPING_NODE: {
        n->kind = PRJ_MAP;
        size_t cnt = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
        n->keys = bt_xcalloc(cnt ? cnt : 1, sizeof *n->keys);
        n->items = bt_xcalloc(cnt ? cnt : 1, sizeof *n->items);
        for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top;
             p++) {
            prj_node *k = convert(doc, yaml_document_get_node(doc, p->key), depth + 1, problems);
            prj_node *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1, problems);
            if (k->kind != PRJ_SCALAR) {
                prj_problem_add(problems, k->at, "a key must be a plain name (expected a scalar)");
                prj_node_free(k);
                prj_node_free(v);
                continue;
            }
            prj_node *first = prj_map_get(n, k->text);
            if (first) {
                size_t i = 0;
                while (n->items[i] != first)
                    i++;
                prj_problem_add(problems, k->at, "duplicate key '%s' (first at line %d)", k->text,
                                n->keys[i]->at.line);
                prj_node_free(k);
                prj_node_free(v);
                continue;
            }
            n->keys[n->n] = k;
            n->items[n->n] = v;
            n->n++;
        }
        break;
    }
    case YAML_SEQUENCE_NODE: {
        n->kind = PRJ_SEQ;
        size_t cnt = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        n->items = bt_xcalloc(cnt ? cnt : 1, sizeof *n->items);
        for (yaml_node_item_t *it = y->data.sequence.items.start; it < y->data.sequence.items.top;
             it++)
            n->items[n->n++] = convert(doc, yaml_document_get_node(doc, *it), depth + 1, problems);
        break;
    }
    default:
        n->kind = PRJ_SCALAR;
        n->len = y->data.scalar.length;
        n->text = bt_xstrndup((const char *)y->data.scalar.value, n->len);
        n->is_plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    }
    return n;
}

prj_node *prj_parse(const char *text, size_t len, prj_problems *problems)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    prj_node *root = NULL;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        prj_mark at = mark_of(parser.problem_mark);
        if (parser.context)
            prj_problem_add(problems, at, "not YAML: %s %s", parser.problem, parser.context);
        else
            prj_problem_add(problems, at, "not YAML: %s", parser.problem);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (top == NULL) {
        root = bt_xcalloc(1, sizeof *root);
        root->kind = PRJ_MAP;
        root->at = (prj_mark){1, 1};
    } else {
        root = convert(&doc, top, 0, problems);
    }
    yaml_document_delete(&doc);
    /* One document only: a second would be silently ignored otherwise. */
    yaml_document_t next;
    if (yaml_parser_load(&parser, &next)) {
        yaml_node_t *more = yaml_document_get_root_node(&next);
        if (more)
            prj_problem_add(problems, mark_of(more->start_mark),
                            "a second YAML document (expected one document per project file)");
        yaml_document_delete(&next);
    } else {
        prj_problem_add(problems, mark_of(parser.problem_mark), "not YAML: %s", parser.problem);
    }
    yaml_parser_delete(&parser);
    return root;
}

prj_node *prj_map_get(const prj_node *n, const char *key)
{
    if (n == NULL || n->kind != PRJ_MAP)
        return NULL;
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->keys[i]->text, key) == 0)
            return n->items[i];
    return NULL;
}

/* YAML 1.2 core schema's plain scalars (null, booleans, integers, floats). */
static json_t *plain_scalar(const char *s)
{
    if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0 && (s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
        return json_integer(i);
    if ((s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9')) &&
        strpbrk(s, "xXnN") == NULL) {
        errno = 0;
        double d = strtod(s, &end);
        if (*end == '\0' && errno == 0 && isfinite(d))
            return json_real(d);
    }
    return json_string(s);
}

json_t *prj_node_to_json(const prj_node *n)
{
    switch (n->kind) {
    case PRJ_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->n; i++)
            json_object_set_new(o, n->keys[i]->text, prj_node_to_json(n->items[i]));
        return o;
    }
    case PRJ_SEQ: {
        json_t *a = json_array();
        for (size_t i = 0; i < n->n; i++)
            json_array_append_new(a, prj_node_to_json(n->items[i]));
        return a;
    }
    default:
        if (n->is_plain)
            return plain_scalar(n->text);
        return json_stringn(n->text, n->len);
    }
}
