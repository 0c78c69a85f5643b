/*
 * payload.h — payload templates and value expressions, the JSONPath-mode data plumbing.
 *
 * A pexpr is the value of a ".$" key (or of ErrorPath/CausePath, ItemsPath, …): a JSONPath
 * ($, $$, $var) or an intrinsic call. A payload is a compiled Parameters / ResultSelector /
 * ItemSelector / Assign / Credentials template: literal values are kept as shared JSON,
 * ".$" keys are evaluated and the suffix dropped. Evaluation builds a fresh object and never
 * modifies its inputs. Compiled objects are immutable (shareable across executions).
 */
#ifndef BT_PATH_PAYLOAD_H
#define BT_PATH_PAYLOAD_H

#include "base/fault.h"
#include "base/json.h"
#include "path/intrinsics.h"
#include "path/jsonpath.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct pexpr pexpr;
typedef struct payload payload;

/* Compiles a ".$" value; BT_EINVAL with *errmsg when it is neither a path nor a call. */
int pexpr_compile(const char *text, pexpr **out, char **errmsg);
void pexpr_free(pexpr *e);
const char *pexpr_text(const pexpr *e);
/* The compiled path when e is a path, else NULL. Borrowed. */
const jpath *pexpr_path(const pexpr *e);

/*
 * Evaluates e. field names the template key for AWS's cause text ("value.$").
 * A path that matches nothing raises States.Runtime ("The JSONPath '$.x' specified for the
 * field 'value.$' could not be found in the input '<input>'"; when the input nests too deep
 * to print, "... could not be found in the input, which is not shown: " BT_JSON_TOO_DEEP);
 * intrinsic failures raise what intr_eval raises. Returns 0 and *out (new reference), or
 * BT_EFAULT.
 */
int pexpr_eval(const pexpr *e, const intr_env *env, const char *field, json_t **out,
               bt_fault *fault);

/* Compiles a template (any JSON value; objects and arrays are walked). */
int payload_compile(json_t *tmpl, payload **out, char **errmsg);
void payload_free(payload *p);
/* True if the template contains no ".$" key anywhere (its value is a constant). */
bool payload_is_constant(const payload *p);

/* Evaluates p; 0 and *out (new reference) or BT_EFAULT. The result is not depth-checked: it
 * may nest deeper than its input (payload_measure tells). */
int payload_eval(const payload *p, const intr_env *env, json_t **out, bt_fault *fault);

/*
 * Measures v in one walk: returns its serialized size in bytes, capped at size_limit + 1
 * (reals count 24, control characters in strings 6), and, when depth is not NULL, stores its
 * nesting depth counted as bt_json_write counts it (base/json.h): 1 for a scalar, [] or {};
 * 2 for [1], [[]] or {"a":{}}; capped at BT_JSON_MAX_DEPTH + 1, which means "too deep to
 * serialise". The walk stops at the first limit passed: once the size is past size_limit
 * (the depth is then a lower bound) or, when depth is wanted, the depth past
 * BT_JSON_MAX_DEPTH (the size is then a lower bound, at least when not capped). Either way
 * it visits at most about size_limit bytes' worth of values, also when v shares subtrees.
 * NULL v counts as null. Intrinsic and payload evaluation may build such values: the engine
 * checks both limits.
 */
size_t payload_measure(json_t *v, size_t size_limit, size_t *depth);

/* payload_measure's size alone: payload_measure(v, limit, NULL). */
size_t payload_size_capped(json_t *v, size_t limit);

/* AWS's payload size limit: 256 KiB. */
#define PAYLOAD_MAX_BYTES 262144

#endif
