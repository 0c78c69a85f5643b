/*
 * jsonpath_int.h — the private contract of the JSONPath files: the compiled form (segments
 * and filter trees), the parser state, and the helpers those files share (double-underscore
 * prefix). Included only by src/path/jsonpath*.c; everything else goes through jsonpath.h.
 *
 * Files: jsonpath.c (jpath_compile: segments, normalized form, accessors, freeing),
 * jsonpath_lex.c (scanner: errors, quoted strings, integers, UTF-8), jsonpath_filter.c
 * (filter expressions), jsonpath_regex.c (=~ operands), jsonpath_eval.c (jpath_eval),
 * jsonpath_message.c (jpath_miss_message), jsonpath_put.c (jpath_put).
 */
#ifndef BT_PATH_JSONPATH_INT_H
#define BT_PATH_JSONPATH_INT_H

#include "path/jsonpath.h"

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Internal root kind of a filter operand path that starts with '@'. */
#define ROOT_CURRENT 16

typedef enum seg_kind {
    SEG_NAME,    /* .a ['a'] */
    SEG_INDEX,   /* [n] */
    SEG_WILD,    /* .* [*] */
    SEG_NAMES,   /* ['a','b'] */
    SEG_INDEXES, /* [0,1] */
    SEG_SLICE,   /* [a:b:c] */
    SEG_FILTER,  /* [?(...)] */
} seg_kind;

typedef struct fexpr fexpr;

typedef struct seg {
    seg_kind kind;
    bool descend; /* preceded by ".." */
    char *name;
    long long index;
    char **names;
    size_t n_names;
    long long *indexes;
    size_t n_indexes;
    bool has_start, has_end;
    long long start, end, step;
    fexpr *filter;
} seg;

struct jpath {
    char *text;
    char *normalized;
    char *var;
    int root; /* jpath_root, or ROOT_CURRENT */
    bool definite;
    bool identity;
    bool merge_tail; /* definite path ending in ['a','b']: Jayway merges into one object */
    seg *segs;
    size_t n_segs;
};

typedef enum fx_kind { FX_OR, FX_AND, FX_NOT, FX_CMP, FX_EXISTS } fx_kind;
typedef enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_MATCH } cmp_op;
typedef enum opnd_kind { OPND_NONE, OPND_PATH, OPND_LITERAL, OPND_REGEX } opnd_kind;

typedef struct operand {
    opnd_kind kind;
    jpath *path;
    json_t *literal;
    regex_t *re;
} operand;

struct fexpr {
    fx_kind kind;
    cmp_op op;
    fexpr *left, *right; /* FX_OR, FX_AND; FX_NOT uses left */
    operand a, b;        /* FX_CMP uses both, FX_EXISTS uses a */
};

/* ---- parser state (the path, filter and regex parsers and the scanner) ---- */

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    unsigned flags;
    int depth;
    char *err;
} parser;

/* ---- scanner (jsonpath_lex.c; the one-character helpers are inline) ---- */

/* Records the first error, with the position, in ps->err; returns BT_EINVAL. */
__attribute__((format(printf, 2, 3))) int jpath__fail(parser *ps, const char *fmt, ...);

static inline bool jpath__at_end(const parser *ps)
{
    return ps->pos >= ps->len;
}

static inline char jpath__cur(const parser *ps)
{
    return ps->pos < ps->len ? ps->s[ps->pos] : '\0';
}

static inline char jpath__peek(const parser *ps, size_t ahead)
{
    return ps->pos + ahead < ps->len ? ps->s[ps->pos + ahead] : '\0';
}

static inline bool jpath__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void jpath__skip_ws(parser *ps)
{
    while (!jpath__at_end(ps) && jpath__is_space(jpath__cur(ps)))
        ps->pos++;
}

static inline bool jpath__is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool jpath__is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (unsigned char)c >= 0x80;
}

static inline bool jpath__is_ident_char(char c)
{
    return jpath__is_ident_start(c) || jpath__is_digit(c);
}

/* Characters that end a dot-name inside a filter operand ("@.a == 1", "@.a)"). */
static inline bool jpath__is_filter_stop(char c)
{
    return jpath__is_space(c) || strchr("()<>=!~&|,]", c) != NULL;
}

bool jpath__valid_utf8(const char *s, size_t n);
/* A quoted string at the current quote character: a heap string and its length, or NULL. */
char *jpath__parse_quoted(parser *ps, size_t *out_len);
/* An index or slice bound; it must fit a Java int. */
int jpath__parse_int(parser *ps, long long *out);

/* ---- paths (jsonpath.c) ---- */

/* Parses segments until the end of text (or, in a filter, until an operand ends). */
int jpath__parse_segments(parser *ps, jpath *p, bool in_filter);
/* Sets the derived flags once the segments are known. */
void jpath__finish_path(jpath *p);

/* ---- filters (jsonpath_filter.c, jsonpath_regex.c) ---- */

/* A filter expression: || of && of unary terms; NULL after jpath__fail(). */
fexpr *jpath__parse_or(parser *ps);
void jpath__fexpr_free(fexpr *e);
/* A /regex/flags operand at '/' (OPND_REGEX). */
int jpath__parse_regex(parser *ps, operand *o);

/* ---- evaluation (jsonpath_eval.c) ---- */

/* v[index], negative counting from the end; borrowed, NULL when there is none. */
json_t *jpath__array_at(json_t *v, long long index);
/* The value p's root names in env; borrowed, NULL when it is missing. */
json_t *jpath__resolve_root(const jpath *p, const jpath_env *env);

#endif
