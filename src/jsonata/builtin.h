/*
 * builtin.h — native functions for JSONata: what the standard library is made of and how a
 * caller adds its own (jn_lib_add).
 *
 * A builtin is a name (without '$'), a JSONata signature ("<s-nn?:s>", see
 * docs.jsonata.org/embedding-extending#function-signature-syntax) and a C function. The
 * evaluator checks the arguments against the signature before the call (T0410, T0411,
 * T0412), fills a missing '-' argument from the context and wraps a lone value given for an
 * 'a' parameter in an array, so the C function sees arguments of the declared types; an
 * optional argument that was not given is NULL (undefined). nargs is the number of
 * arguments after validation.
 *
 * Errors: jn_throw() does not return (the evaluation unwinds with longjmp to jn_eval), so a
 * native function must allocate only from the evaluation's arena (jn_ctx_arena), never
 * hold malloc'd memory across jn_throw or jn_call.
 *
 * The standard library is spread over fn_<family>.c files; each exports a table
 * (jn__fn_string[], …, ended by {NULL}) that jsonata.c lists.
 */
#ifndef BT_JSONATA_BUILTIN_H
#define BT_JSONATA_BUILTIN_H

#include "jsonata/value.h"

typedef struct jn_ctx jn_ctx;

typedef jn_val *(*jn_native)(jn_ctx *cx, jn_val **args, size_t nargs);

typedef struct jn_builtin {
    const char *name;      /* "substring" */
    const char *signature; /* "<s-nn?:s>", or NULL: no checking */
    jn_native fn;
} jn_builtin;

/* The evaluation's arena: every value a native function returns comes from it. */
jn_arena *jn_ctx_arena(jn_ctx *cx);
/* The context value the function was called with (what '-' in a signature stands for). */
jn_val *jn_ctx_input(jn_ctx *cx);
/* Raises error code (e.g. "D3001") at the current call; value is the offending value or
 * NULL; fmt a printf message. Does not return. */
_Noreturn void jn_throw(jn_ctx *cx, const char *code, const jn_val *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Calls a function value (lambda, builtin, partial application, regex) with args. */
jn_val *jn_call(jn_ctx *cx, jn_val *fn, jn_val **args, size_t nargs);
/* The number of parameters fn declares (for $map's and $filter's optional arguments). */
size_t jn_fn_arity(const jn_val *fn);
/* Time of the evaluation's start in milliseconds since the epoch (one value per
 * evaluation, as $now and $millis need). */
double jn_ctx_now_ms(jn_ctx *cx);

/* Helpers for native functions. */
/* $string's text of v (undefined: NULL); numbers to 15 significant digits. */
jn_val *jn_to_string(jn_ctx *cx, jn_val *v, bool pretty);
/* $boolean's truth of v (undefined stays undefined: returns -1). */
int jn_truthy(const jn_val *v);

#endif
