/*
 * jsonata.h — JSONata 2.0.6 (https://docs.jsonata.org): compile an expression once,
 * evaluate it many times, each evaluation bounded in depth, time and memory.
 *
 *     jn_expr *e; jn_error err;
 *     if (jn_compile(text, strlen(text), &e, &err) != 0) { ... err.code, err.position ... }
 *     json_t *out;
 *     jn_limits lim = JN_LIMITS_DEFAULT;
 *     int rc = jn_eval(e, input, bindings, NULL, &lim, &out, &err);
 *     // rc 0: out is the result, NULL when the expression's value is undefined
 *     // rc < 0: err holds the error (code "T2001", message, position)
 *     jn_error_fini(&err); jn_expr_free(e);
 *
 * Evaluation allocates from an arena of its own, released when jn_eval returns; the input
 * and bindings are read, never changed. A compiled expression is immutable: several
 * threads may evaluate it at once.
 *
 * The function library is a jn_lib: jn_lib_standard() is JSONata's own; a caller can make
 * its own from it, adding native functions (jsonata/builtin.h) and variables and removing
 * functions (Step Functions adds $partition, $uuid … and removes $eval).
 */
#ifndef BT_JSONATA_H
#define BT_JSONATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct jn_expr jn_expr;
typedef struct jn_lib jn_lib;
struct jn_builtin;

typedef struct jn_error {
    char code[8];  /* "S0201", "T2001", "D3001", "U1001" … */
    char *message; /* heap text; jn_error_fini frees it */
    long position; /* character offset in the expression the reference reports; -1 none */
    char *token;   /* the token or function concerned, or NULL */
} jn_error;

void jn_error_fini(jn_error *err);

typedef struct jn_limits {
    unsigned max_depth;     /* nested evaluation steps; 0: only the stack guard */
    unsigned time_limit_ms; /* 0: none */
    size_t max_memory;      /* bytes of evaluation arena; 0: none */
    size_t max_stack;       /* bytes of C stack an evaluation may use */
} jn_limits;

/* Depth unlimited (but the stack guarded), no time limit, 512 MiB. */
#define JN_LIMITS_DEFAULT                                                                          \
    ((jn_limits){.max_depth = 0,                                                                   \
                 .time_limit_ms = 0,                                                               \
                 .max_memory = 512u * 1024 * 1024,                                                 \
                 .max_stack = 2u * 1024 * 1024})

/* Compiles text (len bytes of UTF-8). 0 and *out, or -1 and *err (an S0xxx code). */
int jn_compile(const char *text, size_t len, jn_expr **out, jn_error *err);
void jn_expr_free(jn_expr *e);
/* The expression's source text. */
const char *jn_expr_text(const jn_expr *e);

/*
 * Evaluates e against input (NULL: undefined input) with variables from bindings (a JSON
 * object, names without '$', or NULL), the functions of lib (NULL: the standard library)
 * and limits (NULL: JN_LIMITS_DEFAULT). 0 and *result (a new reference; NULL when
 * undefined), or -1 and *err. The input and bindings are read in place, and a part of them
 * that the result holds unchanged is that very JSON (shared, not copied): treat the result
 * as read-only (json_deep_copy it to change it). Exceeding a limit is error U1001 (depth, time) or
 * U1002 (memory).
 */
int jn_eval(const jn_expr *e, const json_t *input, const json_t *bindings, const jn_lib *lib,
            const jn_limits *limits, json_t **result, jn_error *err);

/* The standard library (static; never freed). */
const jn_lib *jn_lib_standard(void);
/* A copy of base (NULL: the standard library) that the caller may change and frees. */
jn_lib *jn_lib_new(const jn_lib *base);
void jn_lib_free(jn_lib *lib);
/* Adds or replaces the native function $name (b is borrowed: static storage). */
void jn_lib_add(jn_lib *lib, const struct jn_builtin *b);
/* Binds $name to a copy of v in every evaluation (bindings given to jn_eval win). */
void jn_lib_set_var(jn_lib *lib, const char *name, const json_t *v);
/* Removes $name; 0, or -1 when it was not there. */
int jn_lib_remove(jn_lib *lib, const char *name);

#endif
