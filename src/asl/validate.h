/*
 * validate.h — checks a state-machine definition the way AWS's CreateStateMachine does and
 * reports every problem with AWS's code, message and JSON Pointer (bt_diag).
 *
 * Covers JSONPath-mode ASL: top-level fields (StartAt, States, Comment, Version,
 * TimeoutSeconds, QueryLanguage), every state type and the fields each allows, required
 * fields, field types and ranges, transitions (Next/Default/Catch targets exist within
 * their own scope, StartAt exists, End/Next exclusivity, terminal states), state names
 * (≤ 80 chars, unique across nested branches/processors), Retry/Catch (States.ALL alone
 * and last), Choice rules (exactly one operator, nested And/Or/Not, no Next inside),
 * payload templates (".$" values are valid JSONPath or intrinsic calls), reference paths
 * where AWS wants them, Wait's single time field and RFC 3339 Timestamp, Map/Parallel
 * sub-machines (recursively), Assign. In JSONata mode (QueryLanguage "JSONata", at the top or
 * per state) the fields of the other language are refused and every "{% … %}" expression is
 * compiled (INVALID_JSONATA_EXPRESSION when it does not parse).
 *
 * Pure: no I/O, no allocation that outlives the call except what diag holds.
 */
#ifndef BT_ASL_VALIDATE_H
#define BT_ASL_VALIDATE_H

#include "base/diag.h"

#include <jansson.h>
#include <stddef.h>

/* Maximum definition size AWS accepts (characters of the JSON text). */
#define ASL_MAX_DEFINITION_BYTES 1048576

/* Validates a parsed definition. Returns 0 when valid, BT_EINVAL with diag filled otherwise. */
int asl_validate(json_t *definition, bt_diag *diag);

/*
 * Parses and validates definition text (size limit, JSON syntax — reported as
 * INVALID_JSON_DESCRIPTION — then asl_validate). On success *out receives the parsed
 * definition (new reference); on failure *out is NULL and diag is filled.
 */
int asl_validate_text(const char *text, size_t len, json_t **out, bt_diag *diag);

#endif
