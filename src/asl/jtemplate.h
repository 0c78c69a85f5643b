/*
 * jtemplate.h — a field value of a JSONata-mode state, compiled once: literal JSON in which
 * every string written as "{% expression %}" is a JSONata expression (jsonata/jsonata.h).
 * Strings not wrapped in {% %} are literal; objects and arrays may nest expressions at any
 * depth (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html).
 *
 *     asl_jt *t; asl_jt_problem p;
 *     if (asl_jt_compile(value, &t, &p) != 0) { ... p.field, p.message ...;
 * asl_jt_problem_fini(&p); } json_t *out; if (asl_jt_eval(t, bindings, lib, &limits, &out, &p) !=
 * 0) { ... p.kind ... }
 *
 * Evaluation has no context item (AWS evaluates with none: the state's data comes through
 * $states), only the bindings. An expression whose value is undefined is a failure
 * (AWS: "returned nothing (undefined)"). Immutable once compiled; any thread may evaluate.
 */
#ifndef BT_ASL_JTEMPLATE_H
#define BT_ASL_JTEMPLATE_H

#include "jsonata/jsonata.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct asl_jt asl_jt;

typedef enum asl_jt_kind {
    ASL_JT_OK,
    ASL_JT_SYNTAX,    /* compile: the expression does not parse */
    ASL_JT_ERROR,     /* eval: the expression raised an error (err holds it) */
    ASL_JT_UNDEFINED, /* eval: the expression's value is undefined */
} asl_jt_kind;

/* What went wrong and where: field is the location below the template's own field
 * ("" for the whole value, "/key" or "[i]" below it), expr the expression's text. */
typedef struct asl_jt_problem {
    asl_jt_kind kind;
    char *field;      /* heap */
    const char *expr; /* borrowed from the template (or the compiled value) */
    jn_error err;
} asl_jt_problem;

void asl_jt_problem_fini(asl_jt_problem *p);

/* Whether v is a string of the form "{% … %}". */
bool asl_jt_is_expr(const json_t *v);

/* Compiles v (not kept: the template copies what it needs). 0, or -1 and *p. */
int asl_jt_compile(json_t *v, asl_jt **out, asl_jt_problem *p);
void asl_jt_free(asl_jt *t);

/* The value when t holds no expression (borrowed), else NULL. */
json_t *asl_jt_constant(const asl_jt *t);
/* The text of t's expression when t is one expression (trimmed), else NULL. */
const char *asl_jt_expr_text(const asl_jt *t);

/* What the expressions of a template read, for binding only that (jn_expr_refs): the
 * members of $states (all of them when an expression uses $states whole) and the other
 * variables it names. */
enum {
    ASL_JT_INPUT = 1u << 0,
    ASL_JT_RESULT = 1u << 1,
    ASL_JT_ERROR_OUTPUT = 1u << 2,
    ASL_JT_CONTEXT = 1u << 3,
    ASL_JT_STATES = ASL_JT_INPUT | ASL_JT_RESULT | ASL_JT_ERROR_OUTPUT | ASL_JT_CONTEXT,
};
typedef struct asl_jt_reads {
    unsigned states; /* ASL_JT_INPUT … */
    size_t n_vars;
    char **vars; /* names without '$', each once */
} asl_jt_reads;

/* What t reads (nothing for a constant). */
const asl_jt_reads *asl_jt_reads_of(const asl_jt *t);

/* Evaluates t. 0 and *out (new reference), or -1 and *p (ASL_JT_ERROR / ASL_JT_UNDEFINED). */
int asl_jt_eval(const asl_jt *t, const json_t *bindings, const jn_lib *lib, const jn_limits *limits,
                json_t **out, asl_jt_problem *p);

/* asl_jt_eval with the variables as an array (jn_eval_vars): nothing built per call. */
int asl_jt_eval_vars(const asl_jt *t, const jn_var *vars, size_t n_vars, const jn_lib *lib,
                     const jn_limits *limits, json_t **out, asl_jt_problem *p);

#endif
