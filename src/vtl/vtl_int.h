/*
 * vtl_int.h — what the VTL files share: the syntax tree (built by vtl_parse.c), the render
 * state and values (vtl_eval.c), the methods of values and of $input/$util
 * (vtl_methods.c) and Java-style printing (vtl_value.c).
 *
 * Values are jansson values (strings, integers, reals, booleans, arrays as Java lists,
 * objects as Java maps in insertion order); NULL is Java's null (JSON null reads as it).
 * Two built-in objects, $input and $util, are marked by the sentinels below.
 */
#ifndef BT_VTL_INT_H
#define BT_VTL_INT_H

#include "base/buf.h"
#include "base/err.h"
#include "vtl/vtl.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- syntax tree ---- */

typedef struct vtl_node vtl_node;
typedef struct vtl_expr vtl_expr;

typedef enum seg_kind {
    SEG_PROP,   /* .name */
    SEG_METHOD, /* .name(args) */
    SEG_INDEX,  /* [expr] */
} seg_kind;

typedef struct vtl_seg {
    seg_kind kind;
    char *name;
    vtl_expr **args; /* method arguments, or args[0] the index */
    size_t n_args;
    int line, col;
} vtl_seg;

typedef enum expr_kind {
    E_LITERAL, /* lit: a string, number, boolean or null constant */
    E_STRING,  /* "…" with references: parts */
    E_LIST,    /* [a, b] */
    E_RANGE,   /* [a..b] */
    E_MAP,     /* {k: v}: items alternate key, value */
    E_REF,     /* $name.seg… */
    E_NOT,
    E_NEG,
    E_BINARY,
} expr_kind;

typedef enum binop {
    OP_OR,
    OP_AND,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
} binop;

struct vtl_expr {
    expr_kind kind;
    int line, col;
    json_t *lit;     /* E_LITERAL (may be NULL for null) */
    vtl_node *parts; /* E_STRING */
    vtl_expr **items;
    size_t n_items; /* E_LIST, E_MAP (2 per entry), E_RANGE (2), E_NOT/E_NEG (1) */
    binop op;       /* E_BINARY: items[0] op items[1] */
    /* E_REF */
    char *name;
    bool quiet; /* $!x */
    char *src;  /* the reference as written, rendered when its value is null */
    vtl_seg *segs;
    size_t n_segs;
};

typedef enum node_kind {
    N_TEXT,
    N_REF,
    N_SET,
    N_IF,
    N_FOREACH,
    N_BREAK,
    N_STOP,
} node_kind;

struct vtl_node {
    node_kind kind;
    int line, col;
    vtl_node *next;
    char *text; /* N_TEXT */
    size_t len;
    vtl_expr *expr;      /* N_REF: the reference; N_SET: the value; N_IF: the condition;
                            N_FOREACH: what is iterated */
    vtl_expr *target;    /* N_SET: the reference assigned */
    char *var;           /* N_FOREACH: the loop variable's name */
    vtl_node *body;      /* N_IF, N_FOREACH */
    vtl_node *otherwise; /* N_IF: the #elseif (one N_IF) or #else list */
};

struct vtl_template {
    vtl_node *root;
};

void vtl__free_nodes(vtl_node *n);
void vtl__free_expr(vtl_expr *e);

/* ---- rendering ---- */

/* Sentinels for the built-in objects $input and $util (never freed, never printed). */
extern json_t *const vtl__input;
extern json_t *const vtl__util;

typedef struct vtl_ctx {
    const vtl_request *req;
    vtl_limits limits;
    bt_err *err;
    json_t *vars;    /* #set variables and loop variables */
    json_t *context; /* $context */
    json_t *stage;   /* $stageVariables */
    json_t *params;  /* $input.params(): {path, querystring, header} */
    json_t *body;    /* parsed body, on first use */
    bool body_parsed;
    size_t steps, iterations;
    int depth;
    bool stopped; /* #stop */
    bool broken;  /* #break */
} vtl_ctx;

/* Sets ctx->err as "line L, column C: …" and returns code. */
int vtl__fail(vtl_ctx *x, int line, int col, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Counts one evaluation step; BT_ELIMIT past the budget. */
int vtl__step(vtl_ctx *x, int line, int col);
/* Counts work on n bytes (a string built or scanned) as steps, one per VTL_BYTES_PER_STEP,
 * so that the step limit bounds the time of a render and not only its nodes; the next
 * vtl__step reports the limit. */
#define VTL_BYTES_PER_STEP 32
void vtl__charge(vtl_ctx *x, size_t n);
/* A new string value of s[0..n) (bytes kept as they are); BT_ELIMIT (err set at line:col)
 * when n exceeds the output bound. */
int vtl__string(vtl_ctx *x, const char *s, size_t n, int line, int col, json_t **out);
/* The parsed body ("" reads as {}); BT_EINVAL when it is not JSON. Borrowed. */
int vtl__body(vtl_ctx *x, int line, int col, json_t **out);

/* Calls method seg on target (borrowed; a value or a sentinel) with evaluated args
 * (borrowed). *out is a new reference, or NULL (Java null: no such method, bad args). */
int vtl__call(vtl_ctx *x, json_t *target, const vtl_seg *seg, json_t **args, size_t n,
              json_t **out);
/* BT_EINVAL (err set) when value holds container: storing it would make a cycle. */
int vtl__check_cycle(vtl_ctx *x, json_t *container, json_t *value, int line, int col);
/* Property target.name: a map's entry, $context fields; NULL when absent. New reference. */
json_t *vtl__property(vtl_ctx *x, json_t *target, const char *name);

/* ---- printing and comparing (vtl_value.c) ---- */

/* Appends Java's toString of v ("" never: callers handle NULL). BT_ELIMIT when nested too
 * deep or longer than max bytes. */
int vtl__put_text(bt_buf *b, json_t *v, size_t max);
/* Java's Double.toString. */
void vtl__put_double(bt_buf *b, double d);
bool vtl__truthy(const json_t *v);
/* Velocity's ==: numbers by value, same types by content, otherwise by their text. Sets
 * *same; returns 0, or BT_ELIMIT when the comparison would look at more than max bytes of
 * text or max values (shared lists stand for many more values than they hold). */
int vtl__equal(json_t *a, json_t *b, size_t max, bool *same);
/* Length of s in UTF-16 units, as Java's String.length() counts. */
size_t vtl__utf16_len(const char *s, size_t n);
/* Byte offset of UTF-16 index i in s (n when past the end). */
size_t vtl__utf16_offset(const char *s, size_t n, size_t i);

/* ---- codecs (vtl_util.c) ---- */

void vtl__escape_js(bt_buf *b, const char *s, size_t n);
void vtl__url_encode(bt_buf *b, const char *s, size_t n);
/* '+' and %XX decoded; a bad % escape is kept as text, or fails (false) when strict. */
bool vtl__url_decode(bt_buf *b, const char *s, size_t n, bool strict);
void vtl__base64_encode(bt_buf *b, const char *s, size_t n);
/* Standard alphabet, padding optional, line breaks skipped; false on anything else. */
bool vtl__base64_decode(bt_buf *b, const char *s, size_t n);

#endif
