/*
 * validate.c — CreateStateMachine's definition check: walks the JSON of a definition once
 * and records every problem in a bt_diag with AWS's code, wording and location.
 *
 * Called by the API layer (Create/Update/ValidateStateMachineDefinition), the CLI and the
 * compiler's callers before asl_compile, which may then assume a well-formed definition.
 * Relies on jpath_compile and intr_compile for ".$" values and paths, and on
 * bt_time_parse_rfc3339 for timestamps. Every recursion (sub-machines, Choice rules,
 * templates) is depth-limited, so any input is checked in bounded stack.
 */
#include "asl/validate.h"
#include "asl/asl.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/timefmt.h"
#include "path/intrinsics.h"
#include "path/jsonpath.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA         "SCHEMA_VALIDATION_FAILED"
#define MISSING_TARGET "MISSING_TRANSITION_TARGET"

/* Nesting of Parallel/Map sub-machines and of Choice rules. */
#define MAX_NESTING 64
/* Nesting of JSON values inside payload templates (jansson parses at most 2048). */
#define MAX_TEMPLATE_DEPTH      2048
#define MAX_STATE_NAME_CHARS    80
#define MAX_VARIABLE_NAME_CHARS 80
#define MAX_LABEL_CHARS         40
#define MAX_SECONDS             99999999
#define MAX_RETRY_DELAY_SECONDS 31622400

/* One bit per state type of states.def: T_PASS, T_TASK, … */
enum {
#define ASL_STATE(e, name) T_##e = 1 << ASL_##e,
#include "asl/states.def"
#undef ASL_STATE
    T_ALL = (1 << ASL_N_STATE_TYPES) - 1,
};

/* The "Type" values, in states.def order (AWS lists them so in its error message). */
static const char *const state_type_names[] = {
#define ASL_STATE(e, name) #name,
#include "asl/states.def"
#undef ASL_STATE
};

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

/* Choice comparison operators (JSONPath, choice_ops.def) and what their operand must be. */
enum op_kind { OP_STRING, OP_NUMBER, OP_BOOLEAN, OP_TIMESTAMP, OP_PATH };

static const struct {
    const char *name;
    enum op_kind kind;
} choice_ops[] = {
#define OP_NO_PATH(name)
#define OP_WITH_PATH(name)                          {name "Path", OP_PATH},
#define CHOICE_OP(name, family, cmp, operand, path) {#name, OP_##operand}, OP_##path(#name)
#include "asl/choice_ops.def"
#undef CHOICE_OP
#undef OP_WITH_PATH
#undef OP_NO_PATH
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct vctx {
    bt_diag *diag;
    bt_buf ptr;    /* location of the value being checked, AWS style: /States/A/Catch[0] */
    json_t *names; /* every state name seen so far (machine-wide uniqueness) */
    bool top_jsonata;
    char *jsonata_at; /* first place JSONata was asked for (reported last) */
} vctx;

/* ---- locations ---------------------------------------------------------------------- */

static size_t ptr_key(vctx *v, const char *key)
{
    size_t mark = v->ptr.len;
    bt_buf_putc(&v->ptr, '/');
    bt_diag_pointer_token(&v->ptr, key);
    return mark;
}

static size_t ptr_index(vctx *v, size_t i)
{
    size_t mark = v->ptr.len;
    bt_buf_printf(&v->ptr, "[%zu]", i);
    return mark;
}

static void ptr_pop(vctx *v, size_t mark)
{
    v->ptr.len = mark;
    if (v->ptr.data)
        v->ptr.data[mark] = '\0';
}

static const char *ptr_now(const vctx *v)
{
    return v->ptr.data ? v->ptr.data : "";
}

/* ---- reporting ---------------------------------------------------------------------- */

static void vreport(vctx *v, const char *code, const char *pointer, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void vreport(vctx *v, const char *code, const char *pointer, const char *fmt, va_list ap)
{
    char *msg;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    msg = bt_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    if (n <= 0)
        msg[0] = '\0';
    bt_diag_add(v->diag, code, pointer, "%s", msg);
    free(msg);
}

/* A problem located at the current pointer. */
static void report(vctx *v, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(vctx *v, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(v, code, ptr_now(v), fmt, ap);
    va_end(ap);
}

/* A problem located at field `key` under the current pointer. */
static void report_at(vctx *v, const char *key, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report_at(vctx *v, const char *key, const char *code, const char *fmt, ...)
{
    size_t mark = ptr_key(v, key);
    va_list ap;
    va_start(ap, fmt);
    vreport(v, code, ptr_now(v), fmt, ap);
    va_end(ap);
    ptr_pop(v, mark);
}

static void expected_type(vctx *v, const char *key, const char *type)
{
    report_at(v, key, SCHEMA, "Expected value of type [%s]", type);
}

/* "These fields are required: [A, B]" for the names in `names` that obj lacks. */
static bool require_fields(vctx *v, json_t *obj, const char *const *names, size_t n)
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
        report(v, SCHEMA, "These fields are required: [%s]", missing.data);
    bt_buf_fini(&missing);
    return ok;
}

static bool in_list(const char *key, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return false;
}

/* Reports every key of obj that is not in `allowed`. */
static void only_fields(vctx *v, json_t *obj, const char *const *allowed, size_t n)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (!in_list(key, allowed, n))
            report(v, SCHEMA, "Field '%s' is not supported", key);
    }
}

/* ---- scalar checks ------------------------------------------------------------------ */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

/* Returns the string value of obj[key], or NULL (reporting a type error if present). */
static const char *get_string(vctx *v, json_t *obj, const char *key)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return NULL;
    if (!json_is_string(val)) {
        expected_type(v, key, "STRING");
        return NULL;
    }
    return json_string_value(val);
}

/* Checks obj[key], when present, is an integer in [min, max]. */
static bool check_int(vctx *v, json_t *obj, const char *key, json_int_t min, json_int_t max,
                      json_int_t *out)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return false;
    if (!json_is_integer(val)) {
        expected_type(v, key, "INTEGER");
        return false;
    }
    json_int_t n = json_integer_value(val);
    if (n < min) {
        report_at(v, key, SCHEMA, "Value must be greater than or equal to %" JSON_INTEGER_FORMAT,
                  min);
        return false;
    }
    if (n > max) {
        report_at(v, key, SCHEMA, "Value must be less than or equal to %" JSON_INTEGER_FORMAT, max);
        return false;
    }
    if (out)
        *out = n;
    return true;
}

static void check_number(vctx *v, json_t *obj, const char *key, double min, double max)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return;
    if (!json_is_number(val)) {
        expected_type(v, key, "NUMBER");
        return;
    }
    double d = json_number_value(val);
    if (d < min)
        report_at(v, key, SCHEMA, "Value must be greater than or equal to %g", min);
    else if (d > max)
        report_at(v, key, SCHEMA, "Value must be less than or equal to %g", max);
}

static void check_bool(vctx *v, json_t *obj, const char *key)
{
    json_t *val = json_object_get(obj, key);
    if (val && !json_is_boolean(val))
        expected_type(v, key, "BOOLEAN");
}

static void check_enum(vctx *v, json_t *obj, const char *key, const char *const *values, size_t n)
{
    const char *s = get_string(v, obj, key);
    if (!s || in_list(s, values, n))
        return;
    bt_buf list;
    bt_buf_init(&list);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bt_buf_puts(&list, ", ");
        bt_buf_puts(&list, values[i]);
    }
    report_at(v, key, SCHEMA, "Value should be one of the following: [%s]", list.data);
    bt_buf_fini(&list);
}

static void check_timestamp(vctx *v, json_t *obj, const char *key)
{
    const char *s = get_string(v, obj, key);
    int64_t ms;
    if (s && !bt_time_parse_rfc3339(s, &ms))
        report_at(v, key, SCHEMA, "String does not match RFC3339 timestamp");
}

static bool path_ok(const char *text, unsigned flags)
{
    jpath *p = NULL;
    if (jpath_compile(text, flags, &p, NULL) != 0)
        return false;
    jpath_free(p);
    return true;
}

static bool intrinsic_ok(const char *text)
{
    intr_call *c = NULL;
    if (!intr_is_call(text) || intr_compile(text, &c, NULL) != 0)
        return false;
    intr_free(c);
    return true;
}

/* The value of a ".$" key, ErrorPath or CausePath: a path or an intrinsic call. */
static bool expression_ok(const char *text, unsigned path_flags)
{
    if (text[0] == '$')
        return path_ok(text, path_flags);
    return intrinsic_ok(text);
}

/*
 * A path field (InputPath, ResultPath, ItemsPath, *Path): string or, where allowed, null.
 * Wrong values are reported at the owner, like AWS's "The value for the field" messages.
 */
static void check_path(vctx *v, json_t *obj, const char *key, unsigned flags, bool nullable)
{
    json_t *val = json_object_get(obj, key);
    if (!val || (nullable && json_is_null(val)))
        return;
    if (!json_is_string(val)) {
        expected_type(v, key, "STRING");
        return;
    }
    if (!path_ok(json_string_value(val), flags)) {
        if (flags & JPATH_REFERENCE)
            report(v, SCHEMA, "The value for the field '%s' must be a valid ReferencePath", key);
        else
            report(v, SCHEMA, "The value for the field '%s' must be a valid JSONPath", key);
    }
}

static void exclusive(vctx *v, json_t *obj, const char *a, const char *b)
{
    if (json_object_get(obj, a) && json_object_get(obj, b))
        report(v, SCHEMA, "Fields '%s' and '%s' are mutually exclusive", a, b);
}

/* ---- payload templates and Assign --------------------------------------------------- */

static bool ends_with_dollar(const char *key)
{
    size_t n = strlen(key);
    return n >= 2 && key[n - 2] == '.' && key[n - 1] == '$';
}

static void check_template(vctx *v, json_t *tmpl, int depth)
{
    if (depth > MAX_TEMPLATE_DEPTH) {
        report(v, "TOO_DEEPLY_NESTED", "Payload template nesting exceeds %d levels",
               MAX_TEMPLATE_DEPTH);
        return;
    }
    if (json_is_array(tmpl)) {
        size_t i;
        json_t *el;
        json_array_foreach(tmpl, i, el)
        {
            if (!json_is_object(el) && !json_is_array(el))
                continue;
            size_t mark = ptr_index(v, i);
            check_template(v, el, depth + 1);
            ptr_pop(v, mark);
        }
        return;
    }
    if (!json_is_object(tmpl))
        return;
    const char *key;
    json_t *val;
    json_object_foreach(tmpl, key, val)
    {
        if (ends_with_dollar(key)) {
            if (!json_is_string(val) || !expression_ok(json_string_value(val), 0))
                report(v, SCHEMA,
                       "The value for the field '%s' must be a valid JSONPath or a valid "
                       "intrinsic function call",
                       key);
        } else if (json_is_object(val) || json_is_array(val)) {
            size_t mark = ptr_key(v, key);
            check_template(v, val, depth + 1);
            ptr_pop(v, mark);
        }
    }
}

/* A template-valued field (Parameters, ResultSelector, ItemSelector, …), when present. */
static void check_template_field(vctx *v, json_t *obj, const char *key, bool object_only)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return;
    if (object_only && !json_is_object(val)) {
        expected_type(v, key, "OBJECT");
        return;
    }
    size_t mark = ptr_key(v, key);
    check_template(v, val, 1);
    ptr_pop(v, mark);
}

/*
 * A workflow-variable name: an identifier (letters, digits, '_', and any non-ASCII
 * character, not starting with a digit), at most 80 characters, and not the reserved
 * "states". Dots and brackets are refused: only whole variables can be assigned.
 */
static bool variable_name_ok(const char *name, size_t len)
{
    if (len == 0)
        return false;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
        bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0))
            return false;
        if ((c & 0xC0) != 0x80)
            chars++;
    }
    if (chars > MAX_VARIABLE_NAME_CHARS)
        return false;
    return !(len == 6 && memcmp(name, "states", 6) == 0);
}

static void check_assign(vctx *v, json_t *owner, bool jsonata)
{
    json_t *assign = json_object_get(owner, "Assign");
    if (!assign)
        return;
    if (!json_is_object(assign)) {
        expected_type(v, "Assign", "OBJECT");
        return;
    }
    size_t mark = ptr_key(v, "Assign");
    const char *key;
    json_t *val;
    json_object_foreach(assign, key, val)
    {
        size_t len = strlen(key);
        bool dollar = !jsonata && ends_with_dollar(key);
        if (!variable_name_ok(key, dollar ? len - 2 : len)) {
            report(v, SCHEMA, "The variable name '%s' is not valid", key);
            continue;
        }
        if (jsonata)
            continue;
        if (dollar) {
            if (!json_is_string(val) || !expression_ok(json_string_value(val), 0))
                report(v, SCHEMA,
                       "The value for the field '%s' must be a valid JSONPath or a valid "
                       "intrinsic function call",
                       key);
        } else if (json_is_object(val) || json_is_array(val)) {
            size_t m2 = ptr_key(v, key);
            check_template(v, val, 1);
            ptr_pop(v, m2);
        }
    }
    ptr_pop(v, mark);
}

/* ---- transitions -------------------------------------------------------------------- */

/* A transition target (Next, Default): a string naming a state of the same scope. */
static void check_target(vctx *v, json_t *obj, const char *key, json_t *scope)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return;
    if (!json_is_string(val)) {
        expected_type(v, key, "STRING");
        return;
    }
    if (!json_object_get(scope, json_string_value(val)))
        report_at(v, key, MISSING_TARGET, "Missing 'Next' target: %s", json_string_value(val));
}

/* ---- Retry and Catch ---------------------------------------------------------------- */

/* ErrorEquals: a non-empty array of strings; States.ALL alone. Returns true if States.ALL. */
static bool check_error_equals(vctx *v, json_t *entry)
{
    json_t *errs = json_object_get(entry, "ErrorEquals");
    if (!errs)
        return false;
    if (!json_is_array(errs)) {
        expected_type(v, "ErrorEquals", "ARRAY");
        return false;
    }
    size_t mark = ptr_key(v, "ErrorEquals");
    bool has_all = false;
    if (json_array_size(errs) == 0)
        report(v, SCHEMA, "The field 'ErrorEquals' must not be empty");
    size_t i;
    json_t *el;
    json_array_foreach(errs, i, el)
    {
        if (!json_is_string(el)) {
            size_t m2 = ptr_index(v, i);
            report(v, SCHEMA, "Expected value of type [STRING]");
            ptr_pop(v, m2);
        } else if (strcmp(json_string_value(el), "States.ALL") == 0) {
            has_all = true;
        }
    }
    if (has_all && json_array_size(errs) > 1)
        report(v, SCHEMA, "'States.ALL' must appear alone in 'ErrorEquals'");
    ptr_pop(v, mark);
    return has_all;
}

static void check_retry(vctx *v, json_t *state, bool jsonata)
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
        expected_type(v, "Retry", "ARRAY");
        return;
    }
    size_t mark = ptr_key(v, "Retry");
    size_t i, n = json_array_size(retry);
    json_t *r;
    json_array_foreach(retry, i, r)
    {
        size_t m2 = ptr_index(v, i);
        if (!json_is_object(r)) {
            report(v, SCHEMA, "Expected value of type [OBJECT]");
            ptr_pop(v, m2);
            continue;
        }
        only_fields(v, r, allowed, N_ELEMS(allowed));
        require_fields(v, r, required, N_ELEMS(required));
        if (check_error_equals(v, r) && i + 1 < n)
            report(v, SCHEMA, "A retrier with 'States.ALL' must be the last retrier");
        if (!jsonata) {
            check_int(v, r, "IntervalSeconds", 1, MAX_SECONDS, NULL);
            check_int(v, r, "MaxAttempts", 0, MAX_SECONDS, NULL);
            check_number(v, r, "BackoffRate", 1.0, 1e300);
            check_int(v, r, "MaxDelaySeconds", 1, MAX_RETRY_DELAY_SECONDS, NULL);
        }
        check_enum(v, r, "JitterStrategy", jitter, N_ELEMS(jitter));
        get_string(v, r, "Comment");
        ptr_pop(v, m2);
    }
    ptr_pop(v, mark);
}

static void check_catch(vctx *v, json_t *state, json_t *scope, bool jsonata)
{
    static const char *const allowed_jp[] = {"ErrorEquals", "Next", "ResultPath", "Assign",
                                             "Comment"};
    static const char *const allowed_ja[] = {"ErrorEquals", "Next", "Output", "Assign", "Comment"};
    static const char *const required[] = {"ErrorEquals", "Next"};
    json_t *catch = json_object_get(state, "Catch");
    if (!catch)
        return;
    if (!json_is_array(catch)) {
        expected_type(v, "Catch", "ARRAY");
        return;
    }
    size_t mark = ptr_key(v, "Catch");
    size_t i, n = json_array_size(catch);
    json_t *c;
    json_array_foreach(catch, i, c)
    {
        size_t m2 = ptr_index(v, i);
        if (!json_is_object(c)) {
            report(v, SCHEMA, "Expected value of type [OBJECT]");
            ptr_pop(v, m2);
            continue;
        }
        const char *key;
        json_t *val;
        json_object_foreach(c, key, val)
        {
            if (!jsonata && strcmp(key, "Output") == 0)
                report(v, SCHEMA,
                       "The QueryLanguage is set to 'JSONPath', but field 'Output' is only "
                       "supported for the 'JSONata' QueryLanguage");
            else if (jsonata && strcmp(key, "ResultPath") == 0)
                report(v, SCHEMA,
                       "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only "
                       "supported for the 'JSONPath' QueryLanguage");
            else if (!in_list(key, jsonata ? allowed_ja : allowed_jp, N_ELEMS(allowed_jp)))
                report(v, SCHEMA, "Field '%s' is not supported", key);
        }
        require_fields(v, c, required, N_ELEMS(required));
        if (check_error_equals(v, c) && i + 1 < n)
            report(v, SCHEMA, "A catcher with 'States.ALL' must be the last catcher");
        check_target(v, c, "Next", scope);
        if (!jsonata)
            check_path(v, c, "ResultPath", JPATH_REFERENCE | JPATH_NO_CONTEXT | JPATH_NO_VARS,
                       true);
        check_assign(v, c, jsonata);
        get_string(v, c, "Comment");
        ptr_pop(v, m2);
    }
    ptr_pop(v, mark);
}

/* ---- Choice rules ------------------------------------------------------------------- */

static void check_rule(vctx *v, json_t *rule, bool top, bool jsonata, json_t *scope, int depth);

static void check_rule_list(vctx *v, json_t *rule, const char *key, bool jsonata, json_t *scope,
                            int depth)
{
    json_t *list = json_object_get(rule, key);
    if (!json_is_array(list)) {
        expected_type(v, key, "ARRAY");
        return;
    }
    size_t mark = ptr_key(v, key);
    if (json_array_size(list) == 0)
        report(v, SCHEMA, "The field '%s' must not be empty", key);
    size_t i;
    json_t *el;
    json_array_foreach(list, i, el)
    {
        size_t m2 = ptr_index(v, i);
        check_rule(v, el, false, jsonata, scope, depth + 1);
        ptr_pop(v, m2);
    }
    ptr_pop(v, mark);
}

static void check_rule(vctx *v, json_t *rule, bool top, bool jsonata, json_t *scope, int depth)
{
    if (depth > MAX_NESTING) {
        report(v, "TOO_DEEPLY_NESTED", "Choice rules are nested more than %d levels deep",
               MAX_NESTING);
        return;
    }
    if (!json_is_object(rule)) {
        report(v, SCHEMA, "Expected value of type [OBJECT]");
        return;
    }
    if (top) {
        static const char *const required[] = {"Next"};
        require_fields(v, rule, required, N_ELEMS(required));
        check_target(v, rule, "Next", scope);
        check_assign(v, rule, jsonata);
    }
    if (jsonata) {
        /* Condition/Output hold JSONata expressions; only the shape is checked. */
        const char *key;
        json_t *val;
        json_object_foreach(rule, key, val)
        {
            if (strcmp(key, "Condition") != 0 && strcmp(key, "Comment") != 0 &&
                !(top && (strcmp(key, "Next") == 0 || strcmp(key, "Assign") == 0 ||
                          strcmp(key, "Output") == 0)))
                report(v, SCHEMA, "Field '%s' is not supported", key);
        }
        if (top) {
            static const char *const required[] = {"Condition"};
            require_fields(v, rule, required, N_ELEMS(required));
        }
        return;
    }

    size_t n_ops = 0;
    const char *key;
    json_t *val;
    json_object_foreach(rule, key, val)
    {
        bool known = false;
        for (size_t i = 0; i < N_ELEMS(choice_ops); i++) {
            if (strcmp(key, choice_ops[i].name) != 0)
                continue;
            known = true;
            n_ops++;
            switch (choice_ops[i].kind) {
            case OP_STRING:
                get_string(v, rule, key);
                break;
            case OP_NUMBER:
                if (!json_is_number(val))
                    expected_type(v, key, "NUMBER");
                break;
            case OP_BOOLEAN:
                check_bool(v, rule, key);
                break;
            case OP_TIMESTAMP:
                check_timestamp(v, rule, key);
                break;
            case OP_PATH:
                check_path(v, rule, key, JPATH_REFERENCE, false);
                break;
            }
            break;
        }
        if (known)
            continue;
        if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0) {
            n_ops++;
            check_rule_list(v, rule, key, jsonata, scope, depth);
        } else if (strcmp(key, "Not") == 0) {
            n_ops++;
            size_t mark = ptr_key(v, key);
            check_rule(v, val, false, jsonata, scope, depth + 1);
            ptr_pop(v, mark);
        } else if (strcmp(key, "Condition") == 0 || strcmp(key, "Output") == 0) {
            report(v, SCHEMA,
                   "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported "
                   "for the 'JSONata' QueryLanguage",
                   key);
        } else if (strcmp(key, "Variable") == 0 || strcmp(key, "Comment") == 0) {
            get_string(v, rule, key);
        } else if (!(top && (strcmp(key, "Next") == 0 || strcmp(key, "Assign") == 0))) {
            report(v, SCHEMA, "Field '%s' is not supported", key);
        }
    }
    bool composite =
        json_object_get(rule, "And") || json_object_get(rule, "Or") || json_object_get(rule, "Not");
    if (n_ops != 1) {
        report(v, SCHEMA,
               "A choice rule must contain exactly one comparison operator or one of "
               "'And', 'Or', 'Not'");
    } else if (composite) {
        if (json_object_get(rule, "Variable"))
            report(v, SCHEMA, "Field 'Variable' is not supported");
    } else {
        static const char *const required[] = {"Variable"};
        if (require_fields(v, rule, required, N_ELEMS(required)))
            check_path(v, rule, "Variable", JPATH_REFERENCE, false);
    }
}

/* ---- states ------------------------------------------------------------------------- */

static void check_machine(vctx *v, json_t *machine, bool is_processor, int depth);

static unsigned type_bit(const char *type)
{
    for (unsigned i = 0; i < N_ELEMS(state_type_names); i++)
        if (strcmp(type, state_type_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* The state's language: its own QueryLanguage when valid, else the machine's. */
static bool state_is_jsonata(vctx *v, json_t *state)
{
    json_t *ql = json_object_get(state, "QueryLanguage");
    if (!json_is_string(ql))
        return v->top_jsonata;
    const char *s = json_string_value(ql);
    if (strcmp(s, "JSONata") == 0)
        return true;
    if (strcmp(s, "JSONPath") == 0)
        return false;
    return v->top_jsonata;
}

static void note_jsonata(vctx *v, const char *key)
{
    if (v->jsonata_at)
        return;
    size_t mark = ptr_key(v, key);
    v->jsonata_at = bt_xstrdup(ptr_now(v));
    ptr_pop(v, mark);
}

static void check_query_language(vctx *v, json_t *owner, bool is_state)
{
    static const char *const langs[] = {"JSONPath", "JSONata"};
    json_t *ql = json_object_get(owner, "QueryLanguage");
    if (!ql)
        return;
    check_enum(v, owner, "QueryLanguage", langs, N_ELEMS(langs));
    if (!json_is_string(ql))
        return;
    const char *s = json_string_value(ql);
    if (strcmp(s, "JSONata") == 0)
        note_jsonata(v, "QueryLanguage");
    else if (is_state && v->top_jsonata && strcmp(s, "JSONPath") == 0)
        report(v, SCHEMA,
               "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state "
               "machine");
}

static void check_fields(vctx *v, json_t *state, unsigned bit, bool jsonata)
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
                report(v, SCHEMA,
                       "The QueryLanguage is set to 'JSONPath', but field '%s' is only "
                       "supported for the 'JSONata' QueryLanguage",
                       key);
            else if (jsonata && state_fields[i].lang == LANG_JSONPATH)
                report(v, SCHEMA,
                       "The QueryLanguage is set to 'JSONata', but field '%s' is only "
                       "supported for the 'JSONPath' QueryLanguage",
                       key);
        } else {
            report(v, SCHEMA, "Field '%s' is not supported", key);
        }
    }
}

static void check_next_end(vctx *v, json_t *state, json_t *scope)
{
    json_t *next = json_object_get(state, "Next");
    json_t *end = json_object_get(state, "End");
    check_bool(v, state, "End");
    bool is_end = json_is_true(end);
    if (next && is_end)
        report(v, SCHEMA, "A state cannot have both 'Next' and 'End'");
    else if (!next && !is_end)
        report(v, SCHEMA, "A state must have either 'Next' or 'End' set to true");
    check_target(v, state, "Next", scope);
}

static void check_credentials(vctx *v, json_t *state, bool jsonata)
{
    json_t *cred = json_object_get(state, "Credentials");
    if (!cred)
        return;
    if (!json_is_object(cred)) {
        expected_type(v, "Credentials", "OBJECT");
        return;
    }
    size_t mark = ptr_key(v, "Credentials");
    json_t *role = json_object_get(cred, "RoleArn");
    json_t *role_path = jsonata ? NULL : json_object_get(cred, "RoleArn.$");
    if (!role && !role_path)
        report(v, SCHEMA, "The field 'RoleArn' is required but was missing");
    if (role && !jsonata && !json_is_string(role))
        expected_type(v, "RoleArn", "STRING");
    if (role_path &&
        (!json_is_string(role_path) || !expression_ok(json_string_value(role_path), 0)))
        report(v, SCHEMA,
               "The value for the field 'RoleArn.$' must be a valid JSONPath or a valid "
               "intrinsic function call");
    ptr_pop(v, mark);
}

static void check_resource(vctx *v, json_t *state)
{
    const char *res = get_string(v, state, "Resource");
    if (!res)
        return;
    /* arn:partition:service:region:account:resource — AWS checks availability; we only
     * check the shape, integrations are resolved when the task runs. */
    size_t colons = 0;
    for (const char *p = res; *p; p++)
        colons += *p == ':';
    if (strncmp(res, "arn:", 4) != 0 || colons < 5)
        report_at(v, "Resource", SCHEMA,
                  "The resource provided %s is not recognized. The value is not a valid "
                  "resource ARN, or the resource is not available in this region.",
                  res);
}

static void check_task(vctx *v, json_t *state, bool jsonata)
{
    static const char *const required[] = {"Resource"};
    require_fields(v, state, required, N_ELEMS(required));
    check_resource(v, state);
    check_credentials(v, state, jsonata);
    if (jsonata)
        return;
    json_int_t timeout = 0, heartbeat = 0;
    bool has_timeout = check_int(v, state, "TimeoutSeconds", 1, MAX_SECONDS, &timeout);
    bool has_heartbeat = check_int(v, state, "HeartbeatSeconds", 1, MAX_SECONDS, &heartbeat);
    if (has_timeout && has_heartbeat && heartbeat >= timeout)
        report_at(v, "HeartbeatSeconds", SCHEMA,
                  "The value of 'HeartbeatSeconds' must be less than the value of "
                  "'TimeoutSeconds'");
    check_path(v, state, "TimeoutSecondsPath", JPATH_REFERENCE, false);
    check_path(v, state, "HeartbeatSecondsPath", JPATH_REFERENCE, false);
    exclusive(v, state, "TimeoutSeconds", "TimeoutSecondsPath");
    exclusive(v, state, "HeartbeatSeconds", "HeartbeatSecondsPath");
}

static void check_choice(vctx *v, json_t *state, json_t *scope, bool jsonata)
{
    static const char *const required[] = {"Choices"};
    if (!require_fields(v, state, required, N_ELEMS(required))) {
        check_target(v, state, "Default", scope);
        return;
    }
    json_t *choices = json_object_get(state, "Choices");
    if (!json_is_array(choices)) {
        expected_type(v, "Choices", "ARRAY");
        check_target(v, state, "Default", scope);
        return;
    }
    size_t mark = ptr_key(v, "Choices");
    if (json_array_size(choices) == 0)
        report(v, SCHEMA, "The field 'Choices' must not be empty");
    size_t i;
    json_t *rule;
    json_array_foreach(choices, i, rule)
    {
        size_t m2 = ptr_index(v, i);
        check_rule(v, rule, true, jsonata, scope, 1);
        ptr_pop(v, m2);
    }
    ptr_pop(v, mark);
    check_target(v, state, "Default", scope);
}

static void check_wait(vctx *v, json_t *state, bool jsonata)
{
    static const char *const kinds[] = {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"};
    size_t n = 0;
    for (size_t i = 0; i < N_ELEMS(kinds); i++)
        n += json_object_get(state, kinds[i]) != NULL;
    if (n != 1)
        report(v, SCHEMA,
               "A Wait state must contain exactly one of 'Seconds', 'Timestamp', "
               "'SecondsPath' or 'TimestampPath'");
    if (jsonata)
        return;
    check_int(v, state, "Seconds", 0, MAX_SECONDS, NULL);
    check_timestamp(v, state, "Timestamp");
    check_path(v, state, "SecondsPath", JPATH_REFERENCE, false);
    check_path(v, state, "TimestampPath", JPATH_REFERENCE, false);
}

static void check_fail(vctx *v, json_t *state, bool jsonata)
{
    exclusive(v, state, "Error", "ErrorPath");
    exclusive(v, state, "Cause", "CausePath");
    if (jsonata)
        return;
    get_string(v, state, "Error");
    get_string(v, state, "Cause");
    static const char *const paths[] = {"ErrorPath", "CausePath"};
    for (size_t i = 0; i < N_ELEMS(paths); i++) {
        const char *s = get_string(v, state, paths[i]);
        if (s && !expression_ok(s, JPATH_REFERENCE))
            report(v, SCHEMA,
                   "The value for the field '%s' must be a valid JSONPath or a valid "
                   "intrinsic function call",
                   paths[i]);
    }
}

/* Checks an object-valued Map option: allowed keys, an optional required Resource. */
static json_t *map_option(vctx *v, json_t *state, const char *key, const char *const *allowed,
                          size_t n_allowed, bool needs_resource)
{
    json_t *opt = json_object_get(state, key);
    if (!opt)
        return NULL;
    if (!json_is_object(opt)) {
        expected_type(v, key, "OBJECT");
        return NULL;
    }
    size_t mark = ptr_key(v, key);
    only_fields(v, opt, allowed, n_allowed);
    if (needs_resource) {
        static const char *const required[] = {"Resource"};
        require_fields(v, opt, required, N_ELEMS(required));
        get_string(v, opt, "Resource");
    }
    ptr_pop(v, mark);
    return opt;
}

static void check_map(vctx *v, json_t *state, bool jsonata, int depth)
{
    static const char *const config_fields[] = {"Mode", "ExecutionType"};
    static const char *const modes[] = {"INLINE", "DISTRIBUTED"};
    static const char *const exec_types[] = {"STANDARD", "EXPRESS"};
    static const char *const reader_fields[] = {"Resource", "Parameters", "Arguments",
                                                "ReaderConfig"};
    static const char *const batcher_fields[] = {"MaxItemsPerBatch", "MaxItemsPerBatchPath",
                                                 "MaxInputBytesPerBatch",
                                                 "MaxInputBytesPerBatchPath", "BatchInput"};
    static const char *const writer_fields[] = {"Resource", "Parameters", "Arguments",
                                                "WriterConfig"};
    static const char *const processor[] = {"ItemProcessor"};

    json_t *proc = json_object_get(state, "ItemProcessor");
    json_t *iter = json_object_get(state, "Iterator");
    const char *proc_key = proc ? "ItemProcessor" : "Iterator";
    if (!proc && !iter)
        require_fields(v, state, processor, 1);
    else if (proc && iter)
        report(v, SCHEMA, "Fields 'ItemProcessor' and 'Iterator' are mutually exclusive");
    if (!proc)
        proc = iter;

    bool distributed = false;
    if (json_is_object(proc)) {
        json_t *config = json_object_get(proc, "ProcessorConfig");
        size_t mark = ptr_key(v, proc_key);
        if (config && !json_is_object(config)) {
            expected_type(v, "ProcessorConfig", "OBJECT");
        } else if (config) {
            size_t m2 = ptr_key(v, "ProcessorConfig");
            only_fields(v, config, config_fields, N_ELEMS(config_fields));
            check_enum(v, config, "Mode", modes, N_ELEMS(modes));
            check_enum(v, config, "ExecutionType", exec_types, N_ELEMS(exec_types));
            json_t *mode = json_object_get(config, "Mode");
            distributed =
                json_is_string(mode) && strcmp(json_string_value(mode), "DISTRIBUTED") == 0;
            if (!distributed && json_object_get(config, "ExecutionType"))
                report(v, SCHEMA, "Field 'ExecutionType' is not supported");
            ptr_pop(v, m2);
        }
        check_machine(v, proc, true, depth + 1);
        ptr_pop(v, mark);
    } else if (proc) {
        expected_type(v, proc_key, "OBJECT");
    }

    static const char *const distributed_only[] = {"ItemReader", "ItemBatcher", "ResultWriter",
                                                   "Label"};
    for (size_t i = 0; i < N_ELEMS(distributed_only); i++)
        if (!distributed && json_object_get(state, distributed_only[i]))
            report(v, SCHEMA, "Field '%s' is not supported", distributed_only[i]);
    map_option(v, state, "ItemReader", reader_fields, N_ELEMS(reader_fields), true);
    map_option(v, state, "ItemBatcher", batcher_fields, N_ELEMS(batcher_fields), false);
    map_option(v, state, "ResultWriter", writer_fields, N_ELEMS(writer_fields), false);
    const char *label = get_string(v, state, "Label");
    if (label && utf8_chars(label) > MAX_LABEL_CHARS)
        report_at(v, "Label", SCHEMA, "The field 'Label' must be at most %d characters long",
                  MAX_LABEL_CHARS);

    if (jsonata)
        return;
    check_template_field(v, state, "ItemSelector", true);
    check_path(v, state, "ItemsPath", JPATH_REFERENCE, false);
    check_int(v, state, "MaxConcurrency", 0, MAX_SECONDS, NULL);
    check_path(v, state, "MaxConcurrencyPath", JPATH_REFERENCE, false);
    check_number(v, state, "ToleratedFailurePercentage", 0, 100);
    check_path(v, state, "ToleratedFailurePercentagePath", JPATH_REFERENCE, false);
    check_int(v, state, "ToleratedFailureCount", 0, MAX_SECONDS, NULL);
    check_path(v, state, "ToleratedFailureCountPath", JPATH_REFERENCE, false);
    exclusive(v, state, "MaxConcurrency", "MaxConcurrencyPath");
    exclusive(v, state, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath");
    exclusive(v, state, "ToleratedFailureCount", "ToleratedFailureCountPath");
    exclusive(v, state, "Parameters", "ItemSelector");
}

static void check_parallel(vctx *v, json_t *state, int depth)
{
    static const char *const required[] = {"Branches"};
    if (!require_fields(v, state, required, N_ELEMS(required)))
        return;
    json_t *branches = json_object_get(state, "Branches");
    if (!json_is_array(branches)) {
        expected_type(v, "Branches", "ARRAY");
        return;
    }
    size_t mark = ptr_key(v, "Branches");
    size_t i;
    json_t *b;
    json_array_foreach(branches, i, b)
    {
        size_t m2 = ptr_index(v, i);
        if (json_is_object(b))
            check_machine(v, b, false, depth + 1);
        else
            report(v, SCHEMA, "Expected value of type [OBJECT]");
        ptr_pop(v, m2);
    }
    ptr_pop(v, mark);
}

static void check_state(vctx *v, const char *name, json_t *state, json_t *scope, int depth)
{
    size_t chars = utf8_chars(name);
    if (chars == 0 || chars > MAX_STATE_NAME_CHARS)
        report(v, "INVALID_STATE_NAME", "State name must be between 1 and %d characters long",
               MAX_STATE_NAME_CHARS);
    if (json_object_get(v->names, name))
        report(v, "DUPLICATE_STATE_NAME", "Duplicate State name: %s", name);
    else
        json_object_set_new(v->names, name, json_true());

    if (!json_is_object(state)) {
        report(v, SCHEMA, "Expected value of type [OBJECT]");
        return;
    }
    static const char *const required[] = {"Type"};
    if (!require_fields(v, state, required, N_ELEMS(required)))
        return;
    const char *type = get_string(v, state, "Type");
    if (!type)
        return;
    unsigned bit = type_bit(type);
    if (!bit) {
        check_enum(v, state, "Type", state_type_names, N_ELEMS(state_type_names));
        return;
    }

    check_query_language(v, state, true);
    bool jsonata = state_is_jsonata(v, state);
    check_fields(v, state, bit, jsonata);
    get_string(v, state, "Comment");

    if (bit & (T_PASS | T_TASK | T_WAIT | T_PARALLEL | T_MAP))
        check_next_end(v, state, scope);
    if (!jsonata) {
        check_path(v, state, "InputPath", 0, true);
        check_path(v, state, "OutputPath", 0, true);
        check_path(v, state, "ResultPath", JPATH_REFERENCE | JPATH_NO_CONTEXT | JPATH_NO_VARS,
                   true);
        check_template_field(v, state, "Parameters", false);
        check_template_field(v, state, "ResultSelector", true);
    }
    if (bit & ~(unsigned)(T_SUCCEED | T_FAIL))
        check_assign(v, state, jsonata);
    if (bit & (T_TASK | T_PARALLEL | T_MAP)) {
        check_retry(v, state, jsonata);
        check_catch(v, state, scope, jsonata);
    }

    switch (bit) {
    case T_TASK:
        check_task(v, state, jsonata);
        break;
    case T_CHOICE:
        check_choice(v, state, scope, jsonata);
        break;
    case T_WAIT:
        check_wait(v, state, jsonata);
        break;
    case T_FAIL:
        check_fail(v, state, jsonata);
        break;
    case T_PARALLEL:
        check_parallel(v, state, depth);
        break;
    case T_MAP:
        check_map(v, state, jsonata, depth);
        break;
    default:
        break;
    }
}

/* ---- scopes: reachability and terminal states --------------------------------------- */

static void mark_target(json_t *scope, json_t *reached, json_t *queue, json_t *target)
{
    if (!json_is_string(target))
        return;
    const char *name = json_string_value(target);
    if (!json_object_get(scope, name) || json_object_get(reached, name))
        return;
    json_object_set_new(reached, name, json_true());
    json_array_append(queue, target);
}

/* Reports states no transition reaches from StartAt (AWS: "is not reachable."). */
static void check_reachable(vctx *v, json_t *scope, json_t *start)
{
    json_t *reached = json_object();
    json_t *queue = json_array();
    mark_target(scope, reached, queue, start);
    for (size_t qi = 0; qi < json_array_size(queue); qi++) {
        json_t *state = json_object_get(scope, json_string_value(json_array_get(queue, qi)));
        if (!json_is_object(state))
            continue;
        mark_target(scope, reached, queue, json_object_get(state, "Next"));
        mark_target(scope, reached, queue, json_object_get(state, "Default"));
        static const char *const lists[] = {"Choices", "Catch"};
        for (size_t l = 0; l < N_ELEMS(lists); l++) {
            size_t i;
            json_t *el;
            json_array_foreach(json_object_get(state, lists[l]), i, el)
            {
                mark_target(scope, reached, queue, json_object_get(el, "Next"));
            }
        }
    }
    const char *name;
    json_t *state;
    json_object_foreach(scope, name, state)
    {
        if (json_object_get(reached, name))
            continue;
        size_t mark = ptr_key(v, "States");
        size_t m2 = ptr_key(v, name);
        report(v, MISSING_TARGET, "State \"%s\" is not reachable.", name);
        ptr_pop(v, m2);
        ptr_pop(v, mark);
    }
    json_decref(queue);
    json_decref(reached);
}

static bool has_terminal_state(json_t *scope)
{
    const char *name;
    json_t *state;
    json_object_foreach(scope, name, state)
    {
        const char *type = json_string_value(json_object_get(state, "Type"));
        if (json_is_true(json_object_get(state, "End")) ||
            (type && (strcmp(type, "Succeed") == 0 || strcmp(type, "Fail") == 0)))
            return true;
    }
    return false;
}

/*
 * A state machine or sub-machine (Parallel branch, Map ItemProcessor) rooted at the current
 * pointer. Each is its own scope for transitions.
 */
static void check_machine(vctx *v, json_t *machine, bool is_processor, int depth)
{
    static const char *const top_allowed[] = {"StartAt", "States",         "Comment",
                                              "Version", "TimeoutSeconds", "QueryLanguage"};
    static const char *const branch_allowed[] = {"StartAt", "States", "Comment"};
    static const char *const processor_allowed[] = {"StartAt", "States", "Comment",
                                                    "ProcessorConfig"};
    static const char *const required[] = {"States", "StartAt"};
    bool top = depth == 0;

    if (depth > MAX_NESTING) {
        report(v, "TOO_DEEPLY_NESTED", "The states are nested more than %d levels deep",
               MAX_NESTING);
        return;
    }
    if (top)
        only_fields(v, machine, top_allowed, N_ELEMS(top_allowed));
    else if (is_processor)
        only_fields(v, machine, processor_allowed, N_ELEMS(processor_allowed));
    else
        only_fields(v, machine, branch_allowed, N_ELEMS(branch_allowed));
    require_fields(v, machine, required, N_ELEMS(required));
    get_string(v, machine, "Comment");
    if (top) {
        static const char *const versions[] = {"1.0"};
        check_enum(v, machine, "Version", versions, N_ELEMS(versions));
        check_int(v, machine, "TimeoutSeconds", 1, MAX_SECONDS, NULL);
        check_query_language(v, machine, false);
    }

    json_t *start = json_object_get(machine, "StartAt");
    if (start && !json_is_string(start))
        expected_type(v, "StartAt", "STRING");
    json_t *scope = json_object_get(machine, "States");
    if (!scope)
        return;
    if (!json_is_object(scope)) {
        expected_type(v, "States", "OBJECT");
        return;
    }

    size_t mark = ptr_key(v, "States");
    const char *name;
    json_t *state;
    json_object_foreach(scope, name, state)
    {
        size_t m2 = ptr_key(v, name);
        check_state(v, name, state, scope, depth);
        ptr_pop(v, m2);
    }
    ptr_pop(v, mark);

    if (json_is_string(start) && !json_object_get(scope, json_string_value(start)))
        report_at(v, "StartAt", MISSING_TARGET, "Missing 'Next' target: %s",
                  json_string_value(start));
    if (top && !has_terminal_state(scope)) {
        bt_diag_add(v->diag, "MISSING_END_STATE", NULL, "Workflow has no terminal state");
        return;
    }
    if (json_is_string(start))
        check_reachable(v, scope, start);
}

/* ---- entry points ------------------------------------------------------------------- */

int asl_validate(json_t *definition, bt_diag *diag)
{
    size_t before = diag->len;
    if (!json_is_object(definition)) {
        bt_diag_add(diag, SCHEMA, NULL, "Definition must be a valid JSON object");
        return BT_EINVAL;
    }
    vctx v = {.diag = diag, .names = json_object()};
    bt_buf_init(&v.ptr);
    json_t *ql = json_object_get(definition, "QueryLanguage");
    v.top_jsonata = json_is_string(ql) && strcmp(json_string_value(ql), "JSONata") == 0;

    check_machine(&v, definition, false, 0);

    /* Baton runs JSONPath only. AWS accepts JSONata, so this is reported only once the
     * definition is otherwise valid: then AWS's own diagnostics come first. */
    if (v.jsonata_at && diag->len == before)
        bt_diag_add(diag, SCHEMA, v.jsonata_at,
                    "JSONata query language is not supported by Baton yet");

    free(v.jsonata_at);
    json_decref(v.names);
    bt_buf_fini(&v.ptr);
    return diag->len == before ? 0 : BT_EINVAL;
}

static bool all_space(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            return false;
    return true;
}

int asl_validate_text(const char *text, size_t len, json_t **out, bt_diag *diag)
{
    *out = NULL;
    if (len > ASL_MAX_DEFINITION_BYTES) {
        bt_diag_add(diag, SCHEMA, NULL, "Definition must be at most %d bytes long",
                    ASL_MAX_DEFINITION_BYTES);
        return BT_EINVAL;
    }
    if (all_space(text, len)) {
        bt_diag_add(diag, SCHEMA, NULL, "Definition must be a valid JSON object");
        return BT_EINVAL;
    }
    json_error_t err;
    json_t *def = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (!def) {
        bt_diag_add(diag, "INVALID_JSON_DESCRIPTION", NULL, "%s at line %d, column %d", err.text,
                    err.line, err.column);
        return BT_EINVAL;
    }
    int rc = asl_validate(def, diag);
    if (rc != 0) {
        json_decref(def);
        return rc;
    }
    *out = def;
    return 0;
}
