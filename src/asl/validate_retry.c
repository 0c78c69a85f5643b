/*
 * validate_retry.c — Retry and Catch of Task, Parallel and Map states: allowed fields,
 * ErrorEquals (States.ALL alone, and its retrier or catcher last), retry intervals and
 * limits, and each catcher's Next, ResultPath and Assign. Called by the walk (validate.c);
 * a catcher's Next must name a state of the same scope.
 */
#include "asl/validate_int.h"
#include "path/jsonpath.h"

#include <string.h>

#define MAX_RETRY_DELAY_SECONDS 31622400

/* ---- Retry and Catch ---------------------------------------------------------------- */

/* ErrorEquals: a non-empty array of strings; States.ALL alone. Returns true if States.ALL. */
static bool check_error_equals(vctx *v, json_t *entry)
{
    json_t *errs = json_object_get(entry, "ErrorEquals");
    if (!errs)
        return false;
    if (!json_is_array(errs)) {
        validate__expected_type(v, "ErrorEquals", "ARRAY");
        return false;
    }
    size_t mark = validate__ptr_key(v, "ErrorEquals");
    bool has_all = false;
    if (json_array_size(errs) == 0)
        validate__report(v, SCHEMA, "The field 'ErrorEquals' must not be empty");
    size_t i;
    json_t *el;
    json_array_foreach(errs, i, el)
    {
        if (!json_is_string(el)) {
            size_t m2 = validate__ptr_index(v, i);
            validate__report(v, SCHEMA, "Expected value of type [STRING]");
            validate__ptr_pop(v, m2);
        } else if (strcmp(json_string_value(el), "States.ALL") == 0) {
            has_all = true;
        }
    }
    if (has_all && json_array_size(errs) > 1)
        validate__report(v, SCHEMA, "'States.ALL' must appear alone in 'ErrorEquals'");
    validate__ptr_pop(v, mark);
    return has_all;
}

void validate__check_retry(vctx *v, json_t *state, bool jsonata)
{
    static const char *const allowed[] = {"ErrorEquals", "IntervalSeconds", "MaxAttempts",
                                          "BackoffRate", "MaxDelaySeconds", "JitterStrategy",
                                          "Comment"};
    static const char *const required[] = {"ErrorEquals"};
    static const char *const jitter[] = {"FULL", "NONE"};
    json_t *retry = json_object_get(state, "Retry");
    if (!retry)
        return;
    if (!json_is_array(retry)) {
        validate__expected_type(v, "Retry", "ARRAY");
        return;
    }
    size_t mark = validate__ptr_key(v, "Retry");
    size_t i, n = json_array_size(retry);
    json_t *r;
    json_array_foreach(retry, i, r)
    {
        size_t m2 = validate__ptr_index(v, i);
        if (!json_is_object(r)) {
            validate__report(v, SCHEMA, "Expected value of type [OBJECT]");
            validate__ptr_pop(v, m2);
            continue;
        }
        validate__only_fields(v, r, allowed, N_ELEMS(allowed));
        validate__require_fields(v, r, required, N_ELEMS(required));
        if (check_error_equals(v, r) && i + 1 < n)
            validate__report(v, SCHEMA, "A retrier with 'States.ALL' must be the last retrier");
        if (!jsonata) {
            validate__check_int(v, r, "IntervalSeconds", 1, MAX_SECONDS, NULL);
            validate__check_int(v, r, "MaxAttempts", 0, MAX_SECONDS, NULL);
            validate__check_number(v, r, "BackoffRate", 1.0, 1e300);
            validate__check_int(v, r, "MaxDelaySeconds", 1, MAX_RETRY_DELAY_SECONDS, NULL);
        }
        validate__check_enum(v, r, "JitterStrategy", jitter, N_ELEMS(jitter));
        validate__get_string(v, r, "Comment");
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
}

void validate__check_catch(vctx *v, json_t *state, json_t *scope, bool jsonata)
{
    static const char *const allowed_jp[] = {"ErrorEquals", "Next", "ResultPath", "Assign",
                                             "Comment"};
    static const char *const allowed_ja[] = {"ErrorEquals", "Next", "Output", "Assign", "Comment"};
    static const char *const required[] = {"ErrorEquals", "Next"};
    json_t *catch = json_object_get(state, "Catch");
    if (!catch)
        return;
    if (!json_is_array(catch)) {
        validate__expected_type(v, "Catch", "ARRAY");
        return;
    }
    size_t mark = validate__ptr_key(v, "Catch");
    size_t i, n = json_array_size(catch);
    json_t *c;
    json_array_foreach(catch, i, c)
    {
        size_t m2 = validate__ptr_index(v, i);
        if (!json_is_object(c)) {
            validate__report(v, SCHEMA, "Expected value of type [OBJECT]");
            validate__ptr_pop(v, m2);
            continue;
        }
        const char *key;
        json_t *val;
        json_object_foreach(c, key, val)
        {
            if (!jsonata && strcmp(key, "Output") == 0)
                validate__report(
                    v, SCHEMA,
                    "The QueryLanguage is set to 'JSONPath', but field 'Output' is only "
                    "supported for the 'JSONata' QueryLanguage");
            else if (jsonata && strcmp(key, "ResultPath") == 0)
                validate__report(
                    v, SCHEMA,
                    "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only "
                    "supported for the 'JSONPath' QueryLanguage");
            else if (!validate__in_list(key, jsonata ? allowed_ja : allowed_jp,
                                        N_ELEMS(allowed_jp)))
                validate__report(v, SCHEMA, "Field '%s' is not supported", key);
        }
        validate__require_fields(v, c, required, N_ELEMS(required));
        if (check_error_equals(v, c) && i + 1 < n)
            validate__report(v, SCHEMA, "A catcher with 'States.ALL' must be the last catcher");
        validate__check_target(v, c, "Next", scope);
        if (!jsonata)
            validate__check_path(v, c, "ResultPath",
                                 JPATH_REFERENCE | JPATH_NO_CONTEXT | JPATH_NO_VARS, true);
        validate__check_assign(v, c, jsonata);
        validate__get_string(v, c, "Comment");
        validate__ptr_pop(v, m2);
    }
    validate__ptr_pop(v, mark);
}
