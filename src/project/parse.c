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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deeper than any sensible project (or definition): a bound for aliases that nest. */
#define MAX_DEPTH 256
/* How many nodes aliases may add to a document when expanded ("billion laughs": nine
 * anchors of ten aliases each are a billion nodes in a few hundred bytes). */
#define MAX_ALIAS_NODES 100000

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

/* Where the parser's problem is. A reader error (bad UTF-8, a control character) has only
 * a byte offset, its mark is left at the start: the line and column are counted here. */
static prj_mark problem_at(const yaml_parser_t *parser, const char *text, size_t len)
{
    if (parser->error != YAML_READER_ERROR)
        return mark_of(parser->problem_mark);
    prj_mark at = {1, 1};
    size_t end = parser->problem_offset < len ? parser->problem_offset : len;
    for (size_t i = 0; i < end; i++) {
        if (text[i] == '\n') {
            at.line++;
            at.col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            at.col++;
        }
    }
    return at;
}

/* One anchor and the number of nodes its value expands to. */
typedef struct anchor_size {
    char *name;
    uint64_t size;
} anchor_size;

typedef struct open_coll {
    char *anchor;
    uint64_t size;
} open_coll;

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX / 4 - b ? UINT64_MAX / 4 : a + b;
}

/* A pass over libyaml's events before the document is loaded: nesting deeper than MAX_DEPTH
 * and aliases that expand past MAX_ALIAS_NODES are reported there, where the document
 * loader (whose scanner is quadratic in the nesting depth) and convert (which expands each
 * alias) would take hours or all memory. false when reported; a syntax error is left to the
 * loader, which reports it the same way. */
static bool prescan(const char *text, size_t len, prj_problems *problems)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    open_coll stack[MAX_DEPTH + 2];
    int depth = 0;
    anchor_size *anchors = NULL;
    size_t n_anchors = 0, cap_anchors = 0;
    uint64_t extra = 0;
    bool ok = true, done = false;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        uint64_t size = 0;
        const char *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            /* Anchors belong to their document. */
            for (size_t i = 0; i < n_anchors; i++)
                free(anchors[i].name);
            n_anchors = 0;
            extra = 0;
            break;
        case YAML_SCALAR_EVENT:
            size = 1;
            anchor = (const char *)ev.data.scalar.anchor;
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            size = 1;
            for (size_t i = n_anchors; i-- > 0;)
                if (strcmp(anchors[i].name, name) == 0) {
                    size = anchors[i].size;
                    break;
                }
            extra = sat_add(extra, size - 1);
            if (extra > MAX_ALIAS_NODES) {
                prj_problem_add(problems, mark_of(ev.start_mark),
                                "aliases expand to more than %d nodes (expected fewer, or the "
                                "values written out)",
                                MAX_ALIAS_NODES);
                ok = false;
            }
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth >= MAX_DEPTH) {
                prj_problem_add(problems, mark_of(ev.start_mark),
                                "nesting too deep (expected at most %d levels)", MAX_DEPTH);
                ok = false;
                break;
            }
            const yaml_char_t *a = ev.type == YAML_SEQUENCE_START_EVENT
                                       ? ev.data.sequence_start.anchor
                                       : ev.data.mapping_start.anchor;
            stack[depth].anchor = a ? bt_xstrdup((const char *)a) : NULL;
            stack[depth].size = 1;
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                depth--;
                size = stack[depth].size;
                anchor = stack[depth].anchor;
            }
            break;
        default:
            break;
        }
        if (anchor) {
            if (n_anchors == cap_anchors) {
                cap_anchors = cap_anchors ? cap_anchors * 2 : 16;
                anchors = bt_xrealloc(anchors, cap_anchors * sizeof *anchors);
            }
            anchors[n_anchors].name = bt_xstrdup(anchor);
            anchors[n_anchors].size = size;
            n_anchors++;
        }
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            free(stack[depth].anchor);
        if (size && depth > 0)
            stack[depth - 1].size = sat_add(stack[depth - 1].size, size);
        yaml_event_delete(&ev);
    }
    while (depth > 0)
        free(stack[--depth].anchor);
    for (size_t i = 0; i < n_anchors; i++)
        free(anchors[i].name);
    free(anchors);
    yaml_parser_delete(&parser);
    return ok;
}

prj_node *prj_parse(const char *text, size_t len, prj_problems *problems)
{
    if (!prescan(text, len, problems))
        return NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    prj_node *root = NULL;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        prj_mark at = problem_at(&parser, text, len);
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
        prj_problem_add(problems, problem_at(&parser, text, len), "not YAML: %s", parser.problem);
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
