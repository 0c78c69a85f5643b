/*
 * validate_paths.c — the checks of JSONPath-mode expressions: path fields (reference paths
 * where AWS wants them), ".$" values (a path or an intrinsic call), payload templates and
 * Assign (variable names and their values). Called by the walk (validate.c) and the rule
 * files. Relies on jpath_compile and intr_compile, so a definition that passes compiles;
 * template nesting is bounded by MAX_TEMPLATE_DEPTH.
 */
#include "asl/validate_int.h"
#include "path/intrinsics.h"
#include "path/jsonpath.h"

#include <string.h>

/* Nesting of JSON values inside payload templates (jansson parses at most 2048). */
#define MAX_TEMPLATE_DEPTH      2048
#define MAX_VARIABLE_NAME_CHARS 80

/* ---- paths and expressions ----------------------------------------------------------- */

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
bool validate__expression_ok(const char *text, unsigned path_flags)
{
    if (text[0] == '$')
        return path_ok(text, path_flags);
    return intrinsic_ok(text);
}

/*
 * A path field (InputPath, ResultPath, ItemsPath, *Path): string or, where allowed, null.
 * Wrong values are reported at the owner, like AWS's "The value for the field" messages.
 */
void validate__check_path(vctx *v, json_t *obj, const char *key, unsigned flags, bool nullable)
{
    json_t *val = json_object_get(obj, key);
    if (!val || (nullable && json_is_null(val)))
        return;
    if (!json_is_string(val)) {
        validate__expected_type(v, key, "STRING");
        return;
    }
    if (!path_ok(json_string_value(val), flags)) {
        if (flags & JPATH_REFERENCE)
            validate__report(v, SCHEMA,
                             "The value for the field '%s' must be a valid ReferencePath", key);
        else
            validate__report(v, SCHEMA, "The value for the field '%s' must be a valid JSONPath",
                             key);
    }
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
        validate__report(v, "TOO_DEEPLY_NESTED", "Payload template nesting exceeds %d levels",
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
            size_t mark = validate__ptr_index(v, i);
            check_template(v, el, depth + 1);
            validate__ptr_pop(v, mark);
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
            if (!json_is_string(val) || !validate__expression_ok(json_string_value(val), 0))
                validate__report(v, SCHEMA,
                                 "The value for the field '%s' must be a valid JSONPath or a valid "
                                 "intrinsic function call",
                                 key);
        } else if (json_is_object(val) || json_is_array(val)) {
            size_t mark = validate__ptr_key(v, key);
            check_template(v, val, depth + 1);
            validate__ptr_pop(v, mark);
        }
    }
}

/* A template-valued field (Parameters, ResultSelector, ItemSelector, …), when present. */
void validate__check_template_field(vctx *v, json_t *obj, const char *key, bool object_only)
{
    json_t *val = json_object_get(obj, key);
    if (!val)
        return;
    if (object_only && !json_is_object(val)) {
        validate__expected_type(v, key, "OBJECT");
        return;
    }
    size_t mark = validate__ptr_key(v, key);
    check_template(v, val, 1);
    validate__ptr_pop(v, mark);
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

void validate__check_assign(vctx *v, json_t *owner, bool jsonata)
{
    json_t *assign = json_object_get(owner, "Assign");
    if (!assign)
        return;
    if (!json_is_object(assign)) {
        validate__expected_type(v, "Assign", "OBJECT");
        return;
    }
    size_t mark = validate__ptr_key(v, "Assign");
    const char *key;
    json_t *val;
    json_object_foreach(assign, key, val)
    {
        size_t len = strlen(key);
        bool dollar = !jsonata && ends_with_dollar(key);
        if (!variable_name_ok(key, dollar ? len - 2 : len)) {
            validate__report(v, SCHEMA, "The variable name '%s' is not valid", key);
            continue;
        }
        if (jsonata)
            continue;
        if (dollar) {
            if (!json_is_string(val) || !validate__expression_ok(json_string_value(val), 0))
                validate__report(v, SCHEMA,
                                 "The value for the field '%s' must be a valid JSONPath or a valid "
                                 "intrinsic function call",
                                 key);
        } else if (json_is_object(val) || json_is_array(val)) {
            size_t m2 = validate__ptr_key(v, key);
            check_template(v, val, 1);
            validate__ptr_pop(v, m2);
        }
    }
    validate__ptr_pop(v, mark);
}
