/*
 * validate_int.h — the private contract of the definition validator: its walk context, the
 * state-type bits, the shared limits and the checks its files share (double-underscore
 * prefix). Included only by src/asl/validate*.c; everything else goes through validate.h.
 *
 * Files: validate.c (entry points, the walk over machines and states, transitions and
 * reachability, QueryLanguage), validate_diag.c (locations and reporting), validate_fields.c
 * (the field catalogue, required/unknown fields, scalar checks), validate_paths.c (paths,
 * ".$" expressions, payload templates, Assign), validate_choice.c (Choice rules),
 * validate_retry.c (Retry and Catch), validate_states.c (the rules of each state type),
 * validate_resources.c (which Task resources AWS recognises; catalogue in integrations.def),
 * validate_jsonata.c (JSONata expressions compiled at definition time).
 */
#ifndef BT_ASL_VALIDATE_INT_H
#define BT_ASL_VALIDATE_INT_H

#include "asl/asl.h"
#include "asl/validate.h"
#include "base/buf.h"
#include "base/diag.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SCHEMA         "SCHEMA_VALIDATION_FAILED"
#define MISSING_TARGET "MISSING_TRANSITION_TARGET"

/* Nesting of Parallel/Map sub-machines and of Choice rules. */
#define MAX_NESTING 64
#define MAX_SECONDS 99999999

/* One bit per state type of states.def: T_PASS, T_TASK, … */
enum {
#define ASL_STATE(e, name) T_##e = 1 << ASL_##e,
#include "asl/states.def"
#undef ASL_STATE
    T_ALL = (1 << ASL_N_STATE_TYPES) - 1,
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct vctx {
    bt_diag *diag;
    bt_buf ptr;    /* location of the value being checked, AWS style: /States/A/Catch[0] */
    json_t *names; /* every state name seen so far (machine-wide uniqueness) */
    bool top_jsonata;
} vctx;

/* ---- locations and reporting (validate_diag.c) ---- */

/* Appends "/key" or "[i]" to the current pointer; returns the mark to pop back to. */
size_t validate__ptr_key(vctx *v, const char *key);
size_t validate__ptr_index(vctx *v, size_t i);
void validate__ptr_pop(vctx *v, size_t mark);
const char *validate__ptr_now(const vctx *v);

/* A problem located at the current pointer. */
void validate__report(vctx *v, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A problem located at field `key` under the current pointer. */
void validate__report_at(vctx *v, const char *key, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "Expected value of type [type]" at field key. */
void validate__expected_type(vctx *v, const char *key, const char *type);

/* ---- fields (validate_fields.c) ---- */

/* Reports a field the state type does not accept, or one of the other query language. */
void validate__check_fields(vctx *v, json_t *state, unsigned bit, bool jsonata);
/* "These fields are required: [A, B]" for the names in `names` that obj lacks. */
bool validate__require_fields(vctx *v, json_t *obj, const char *const *names, size_t n);
bool validate__in_list(const char *key, const char *const *names, size_t n);
/* Reports every key of obj that is not in `allowed`. */
void validate__only_fields(vctx *v, json_t *obj, const char *const *allowed, size_t n);
/* Characters (code points) of a UTF-8 string. */
size_t validate__utf8_chars(const char *s);
/* Returns the string value of obj[key], or NULL (reporting a type error if present). */
const char *validate__get_string(vctx *v, json_t *obj, const char *key);
/* Checks obj[key], when present, is an integer in [min, max]. */
bool validate__check_int(vctx *v, json_t *obj, const char *key, json_int_t min, json_int_t max,
                         json_int_t *out);
/* The same for a number in [min, max], a boolean, one of values, an RFC 3339 timestamp. */
void validate__check_number(vctx *v, json_t *obj, const char *key, double min, double max);
void validate__check_bool(vctx *v, json_t *obj, const char *key);
void validate__check_enum(vctx *v, json_t *obj, const char *key, const char *const *values,
                          size_t n);
void validate__check_timestamp(vctx *v, json_t *obj, const char *key);
/* Reports obj holding both a and b. */
void validate__exclusive(vctx *v, json_t *obj, const char *a, const char *b);

/* ---- paths, templates, Assign (validate_paths.c) ---- */

/* The value of a ".$" key, ErrorPath or CausePath: a path or an intrinsic call. */
bool validate__expression_ok(const char *text, unsigned path_flags);
/*
 * A path field (InputPath, ResultPath, ItemsPath, *Path): string or, where allowed, null.
 * Wrong values are reported at the owner, like AWS's "The value for the field" messages.
 */
void validate__check_path(vctx *v, json_t *obj, const char *key, unsigned flags, bool nullable);
/* A template-valued field (Parameters, ResultSelector, ItemSelector, …), when present. */
void validate__check_template_field(vctx *v, json_t *obj, const char *key, bool object_only);
/* owner's Assign, when present: variable names, and in JSONPath its templates. */
void validate__check_assign(vctx *v, json_t *owner, bool jsonata);

/* ---- transitions and sub-machines (validate.c) ---- */

/* A transition target (Next, Default): a string naming a state of the same scope. */
void validate__check_target(vctx *v, json_t *obj, const char *key, json_t *scope);
/*
 * A state machine or sub-machine (Parallel branch, Map ItemProcessor) rooted at the current
 * pointer. Each is its own scope for transitions.
 */
void validate__check_machine(vctx *v, json_t *machine, bool is_processor, int depth);

/* ---- the rules of each state type (validate_choice.c, validate_retry.c, validate_states.c) */

void validate__check_choice(vctx *v, json_t *state, json_t *scope, bool jsonata);
void validate__check_retry(vctx *v, json_t *state, bool jsonata);
void validate__check_catch(vctx *v, json_t *state, json_t *scope, bool jsonata);
void validate__check_task(vctx *v, json_t *state, bool jsonata);
void validate__check_wait(vctx *v, json_t *state, bool jsonata);
void validate__check_fail(vctx *v, json_t *state, bool jsonata);
void validate__check_map(vctx *v, json_t *state, bool jsonata, int depth);
void validate__check_parallel(vctx *v, json_t *state, int depth);

/* ---- JSONata expressions (validate_jsonata.c) ---- */

/* Compiles every "{% … %}" of a JSONata state's fields, reporting those that do not parse. */
void validate__check_jsonata(vctx *v, json_t *state);

/* ---- Task resources (validate_resources.c) ---- */

/*
 * Whether AWS recognises res as a Task's Resource: a Lambda function or activity ARN, an
 * optimised integration of integrations.def with a pattern its API supports, or an AWS SDK
 * integration. ARNs of other partitions than AWS's are Baton's own and always pass.
 */
bool validate__resource_known(const char *res);

#endif
