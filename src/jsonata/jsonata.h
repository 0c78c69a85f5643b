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
 * What e may read of its bindings (refs.c): fn is called for each place that reads a
 * variable, with its name (len bytes, without '$'; "" for $ and "$" for $$) and, when
 * the place is a path that goes on to a field of it ($states.input …), that field's name
 * (flen bytes), else NULL: the variable is read whole. A function call name(…) written
 * without '$' counts as reading name. A variable never reported is never read, so binding
 * only the reported ones (and of a variable reported only with fields, only those fields)
 * gives the same result; a name may be reported more than once, or needlessly.
 */
typedef void (*jn_ref_fn)(void *ud, const char *name, size_t len, const char *field, size_t flen);
void jn_expr_refs(const jn_expr *e, jn_ref_fn fn, void *ud);
/*
 * When e is nothing but a variable followed by field names ($states.input.id: no filter,
 * wildcard, binding or call), how many names (the variable's first, without '$'), storing
 * up to max of them in names/lens (borrowed from e); 0 when e is anything else or longer.
 * Its value is then the variable's value navigated through those fields while each is an
 * object, the last value as it is (an array too, not flattened).
 */
size_t jn_expr_name_path(const jn_expr *e, const char **names, size_t *lens, size_t max);

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

/*
 * What e reads from its top-level context (the input given to jn_eval), in the order written,
 * each distinct reference once: a name a path starts from ("phone" in phone[0].number, kind
 * JN_REF_NAME), the context item "$" (JN_REF_CONTEXT), the root "$$" (JN_REF_ROOT), and, not a
 * context read but reported alongside, a path that starts with a variable and a name:
 * "$states.errorOutput" (JN_REF_FIELD). Only what sees the top-level context is walked: a
 * path's first step, operands, arguments, array items, object keys and values, blocks,
 * conditions, bound values and lambda bodies; not later steps, predicates, sort terms or
 * groups, which read what the step before produced. text (len bytes, not NUL-terminated for
 * names) lives until fn returns.
 */
typedef enum jn_ref_kind { JN_REF_NAME, JN_REF_CONTEXT, JN_REF_ROOT, JN_REF_FIELD } jn_ref_kind;
typedef void jn_top_ref_fn(void *arg, jn_ref_kind kind, const char *text, size_t len);
void jn_expr_top_refs(const jn_expr *e, jn_top_ref_fn *fn, void *arg);

/*
 * v's compact JSON text as JavaScript's JSON.stringify writes it, the reference's output:
 * numbers as Number#toString prints them (0.1, 1e+21, 1e-7, 9007199254740992, never
 * "2.0"), only '"', '\\' and control characters escaped. A heap string (caller frees);
 * "null" for NULL; NULL when v nests deeper than BT_JSON_MAX_DEPTH (base/json.h).
 */
char *jn_json_dumps(const json_t *v);

/* A variable for jn_eval_vars: $name (a NUL-terminated name without '$', borrowed) is
 * value (borrowed, read only; NULL: left unbound), or, when members is not NULL, an object
 * of those n_members (value unused; a member whose value is NULL is absent). */
typedef struct jn_var {
    const char *name;
    const json_t *value;
    const struct jn_var *members;
    size_t n_members;
} jn_var;

/* jn_eval with the variables as an array rather than a JSON object, so that a caller binds
 * them, and composes objects of them, without building JSON for each evaluation. */
int jn_eval_vars(const jn_expr *e, const json_t *input, const jn_var *vars, size_t n_vars,
                 const jn_lib *lib, const jn_limits *limits, json_t **result, jn_error *err);

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
