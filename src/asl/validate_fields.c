/*
 * validate_fields.c — the field catalogue (which state types accept a field, and in which
 * query language) and the per-field checks the validator applies everywhere: required and
 * unsupported fields, strings, integer and number ranges, booleans, enumerations, RFC 3339
 * timestamps and mutually exclusive pairs. Called by the walk (validate.c) and the rule
 * files. Relies on bt_time_parse_rfc3339; every check reports and returns, it never stops
 * the walk.
 */
#include "asl/validate_int.h"
#include "base/buf.h"
#include "base/timefmt.h"

#include <string.h>

enum { LANG_ANY, LANG_JSONPATH, LANG_JSONATA };

/* Which state types accept a field, and whether it belongs to one query language only. */
static const struct {
    const char *name;
    unsigned types;
    int lang;
} state_fields[] = {
    {"Type", T_ALL, LANG_ANY},
    {"Comment", T_ALL, LANG_ANY},
    {"QueryLanguage", T_ALL, LANG_ANY},
    {"Next", T_PASS | T_TASK | T_WAIT | T_PARALLEL | T_MAP, LANG_ANY},
    {"End", T_PASS | T_TASK | T_WAIT | T_PARALLEL | T_MAP, LANG_ANY},
    {"InputPath", T_ALL & ~T_FAIL, LANG_JSONPATH},
    {"OutputPath", T_ALL & ~T_FAIL, LANG_JSONPATH},
    {"Parameters", T_PASS | T_TASK | T_PARALLEL | T_MAP, LANG_JSONPATH},
    {"ResultSelector", T_TASK | T_PARALLEL | T_MAP, LANG_JSONPATH},
    {"ResultPath", T_PASS | T_TASK | T_PARALLEL | T_MAP, LANG_JSONPATH},
    {"Result", T_PASS, LANG_JSONPATH},
    {"Assign", T_ALL & ~(T_SUCCEED | T_FAIL), LANG_ANY},
    {"Arguments", T_TASK | T_PARALLEL, LANG_JSONATA},
    {"Output", T_ALL & ~T_FAIL, LANG_JSONATA},
    {"Items", T_MAP, LANG_JSONATA},
    {"Resource", T_TASK, LANG_ANY},
    {"TimeoutSeconds", T_TASK, LANG_ANY},
    {"TimeoutSecondsPath", T_TASK, LANG_JSONPATH},
    {"HeartbeatSeconds", T_TASK, LANG_ANY},
    {"HeartbeatSecondsPath", T_TASK, LANG_JSONPATH},
    {"Credentials", T_TASK, LANG_ANY},
    {"Retry", T_TASK | T_PARALLEL | T_MAP, LANG_ANY},
    {"Catch", T_TASK | T_PARALLEL | T_MAP, LANG_ANY},
    {"Choices", T_CHOICE, LANG_ANY},
    {"Default", T_CHOICE, LANG_ANY},
    {"Seconds", T_WAIT, LANG_ANY},
    {"Timestamp", T_WAIT, LANG_ANY},
    {"SecondsPath", T_WAIT, LANG_JSONPATH},
    {"TimestampPath", T_WAIT, LANG_JSONPATH},
    {"Error", T_FAIL, LANG_ANY},
    {"Cause", T_FAIL, LANG_ANY},
    {"ErrorPath", T_FAIL, LANG_JSONPATH},
    {"CausePath", T_FAIL, LANG_JSONPATH},
    {"Branches", T_PARALLEL, LANG_ANY},
    {"ItemProcessor", T_MAP, LANG_ANY},
    {"Iterator", T_MAP, LANG_ANY},
    {"ItemSelector", T_MAP, LANG_ANY},
    {"ItemReader", T_MAP, LANG_ANY},
    {"ItemBatcher", T_MAP, LANG_ANY},
    {"ResultWriter", T_MAP, LANG_ANY},
    {"ItemsPath", T_MAP, LANG_JSONPATH},
    {"MaxConcurrency", T_MAP, LANG_ANY},
    {"MaxConcurrencyPath", T_MAP, LANG_JSONPATH},
    {"ToleratedFailurePercentage", T_MAP, LANG_ANY},
    {"ToleratedFailurePercentagePath", T_MAP, LANG_JSONPATH},
    {"ToleratedFailureCount", T_MAP, LANG_ANY},
    {"ToleratedFailureCountPath", T_MAP, LANG_JSONPATH},
    {"Label", T_MAP, LANG_ANY},
};

void validate__check_fields(vctx *v, json_t *state, unsigned bit, bool jsonata)
{
    const char *key;
    json_t *val;
    json_object_foreach(state, key, val)
    {
        size_t i;
        for (i = 0; i < N_ELEMS(state_fields); i++)
            if (strcmp(key, state_fields[i].name) == 0)
                break;
        if (i < N_ELEMS(state_fields) && (state_fields[i].types & bit)) {
            if (!jsonata && state_fields[i].lang == LANG_JSONATA)
                validate__report(v, SCHEMA,
                                 "The QueryLanguage is set to 'JSONPath', but field '%s' is only "
                                 "supported for the 'JSONata' QueryLanguage",
                                 key);
            else if (jsonata && state_fields[i].lang == LANG_JSONPATH)
                validate__report(v, SCHEMA,
                                 "The QueryLanguage is set to 'JSONata', but field '%s' is only "
                                 "supported for the 'JSONPath' QueryLanguage",
                                 key);
        } else {
            validate__report(v, SCHEMA, "Field '%s' is not supported", key);
        }
    }
}

/* "These fields are required: [A, B]" for the names in `names` that obj lacks. */
bool validate__require_fields(vctx *v, json_t *obj, const char *const *names, size_t n)
{
    bt_buf missing;
    bt_buf_init(&missing);
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(obj, names[i]))
            continue;
        if (missing.len)
            bt_buf_puts(&missing, ", ");
        bt_buf_puts(&missing, names[i]);
    }
    bool ok = missing.len == 0;
    if (!ok)
        validate__report(v, SCHEMA, "These fields are required: [%s]", missing.data);
    bt_buf_fini(&missing);
    return ok;
}

bool validate__in_list(const char *key, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return false;
}

/* Reports every key of obj that is not in `allowed`. */
void validate__only_fields(vctx *v, json_t *obj, const char *const *allowed, size_t n)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (!validate__in_list(key, allowed, n))
            validate__report(v, SCHEMA, "Field '%s' is not supported", key);
    }
}

/* ---- scalar checks ------------------------------------------------------------------ */

size_t validate__utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

/* Returns the string value of obj[key], or NULL (reporting a type error if present). */
const char *validate__get_string(vctx *v, json_t *obj, const char *key)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return NULL;
    if (!json_is_string(val)) {
        validate__expected_type(v, key, "STRING");
        return NULL;
    }
    return json_string_value(val);
}

/* Checks obj[key], when present, is an integer in [min, max]. */
bool validate__check_int(vctx *v, json_t *obj, const char *key, json_int_t min, json_int_t max,
                         json_int_t *out)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return false;
    if (!json_is_integer(val)) {
        validate__expected_type(v, key, "INTEGER");
        return false;
    }
    json_int_t n = json_integer_value(val);
    if (n < min) {
        validate__report_at(v, key, SCHEMA,
                            "Value must be greater than or equal to %" JSON_INTEGER_FORMAT, min);
        return false;
    }
    if (n > max) {
        validate__report_at(v, key, SCHEMA,
                            "Value must be less than or equal to %" JSON_INTEGER_FORMAT, max);
        return false;
    }
    if (out)
        *out = n;
    return true;
}

void validate__check_number(vctx *v, json_t *obj, const char *key, double min, double max)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return;
    if (!json_is_number(val)) {
        validate__expected_type(v, key, "NUMBER");
        return;
    }
    double d = json_number_value(val);
    if (d < min)
        validate__report_at(v, key, SCHEMA, "Value must be greater than or equal to %g", min);
    else if (d > max)
        validate__report_at(v, key, SCHEMA, "Value must be less than or equal to %g", max);
}

void validate__check_bool(vctx *v, json_t *obj, const char *key)
{
    json_t *val = json_object_get(obj, key);
    if (val && !json_is_boolean(val))
        validate__expected_type(v, key, "BOOLEAN");
}

void validate__check_enum(vctx *v, json_t *obj, const char *key, const char *const *values,
                          size_t n)
{
    const char *s = validate__get_string(v, obj, key);
    if (!s || validate__in_list(s, values, n))
        return;
    bt_buf list;
    bt_buf_init(&list);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bt_buf_puts(&list, ", ");
        bt_buf_puts(&list, values[i]);
    }
    validate__report_at(v, key, SCHEMA, "Value should be one of the following: [%s]", list.data);
    bt_buf_fini(&list);
}

void validate__check_timestamp(vctx *v, json_t *obj, const char *key)
{
    const char *s = validate__get_string(v, obj, key);
    int64_t ms;
    if (s && !bt_time_parse_rfc3339(s, &ms))
        validate__report_at(v, key, SCHEMA, "String does not match RFC3339 timestamp");
}

void validate__exclusive(vctx *v, json_t *obj, const char *a, const char *b)
{
    if (json_object_get(obj, a) && json_object_get(obj, b))
        validate__report(v, SCHEMA, "Fields '%s' and '%s' are mutually exclusive", a, b);
}
