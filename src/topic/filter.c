/*
 * filter.c — SNS subscription filter policies (SNS notes §13): every key of the policy must
 * match (AND), any condition of a key's list may match (OR), "$or" takes alternatives.
 * Conditions: exact strings and numbers, prefix, suffix, equals-ignore-case, anything-but
 * (values, one value or a prefix), numeric comparisons and ranges, exists, cidr (IPv4).
 * The subject is the message attributes ({name: {Type, Value}}: String.Array values match
 * by any element, Number values numerically) or, with scope MessageBody, the message parsed
 * as JSON (nested keys are nested policy objects). Pure; no I/O.
 */
#include "topic/topic_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* jansson's iterators take non-const values; these walks only read. */
#define MUT(v) ((json_t *)(uintptr_t)(v))

/* ---- checking ---- */

static int check_rules(const json_t *policy, int depth, const char **why);

static int check_condition(const json_t *c, const char **why)
{
    if (json_is_string(c) || json_is_number(c) || json_is_null(c))
        return 0;
    if (!json_is_object(c) || json_object_size(c) != 1) {
        *why = "Match value must be String, number, true, false, or null";
        return -1;
    }
    const char *op = json_object_iter_key(json_object_iter(MUT(c)));
    const json_t *v = json_object_iter_value(json_object_iter(MUT(c)));
    if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0 ||
        strcmp(op, "equals-ignore-case") == 0 || strcmp(op, "cidr") == 0) {
        if (json_is_string(v))
            return 0;
        *why = "prefix/suffix/equals-ignore-case/cidr match pattern must be a string";
        return -1;
    }
    if (strcmp(op, "exists") == 0) {
        if (json_is_boolean(v))
            return 0;
        *why = "exists match pattern must be either true or false.";
        return -1;
    }
    if (strcmp(op, "anything-but") == 0) {
        if (json_is_string(v) || json_is_number(v) || json_is_array(v))
            return 0;
        if (json_is_object(v) && json_object_get(v, "prefix") &&
            json_is_string(json_object_get(v, "prefix")))
            return 0;
        *why = "Value of anything-but must be an array or single string/number value.";
        return -1;
    }
    if (strcmp(op, "numeric") == 0) {
        size_t n = json_array_size(v);
        if (n == 0 || n > 4 || n % 2 != 0) {
            *why = "Value of numeric operator must be an array of operator and value pairs";
            return -1;
        }
        for (size_t i = 0; i < n; i += 2) {
            const char *o = json_string_value(json_array_get(v, i));
            if (o == NULL || !json_is_number(json_array_get(v, i + 1)) ||
                (strcmp(o, "=") && strcmp(o, "<") && strcmp(o, "<=") && strcmp(o, ">") &&
                 strcmp(o, ">="))) {
                *why = "Unrecognized numeric range operator";
                return -1;
            }
        }
        return 0;
    }
    *why = "Unrecognized match type";
    return -1;
}

static int check_rules(const json_t *policy, int depth, const char **why)
{
    if (depth > 5) {
        *why = "Filter policy can not have more than 5 levels of nesting";
        return -1;
    }
    const char *key;
    json_t *rule;
    json_object_foreach(MUT(policy), key, rule)
    {
        if (strcmp(key, "$or") == 0) {
            if (json_array_size(rule) < 2) {
                *why = "$or must be an array with at least two objects";
                return -1;
            }
            size_t i;
            json_t *alt;
            json_array_foreach(rule, i, alt)
            {
                if (!json_is_object(alt) || check_rules(alt, depth + 1, why) < 0) {
                    if (!json_is_object(alt))
                        *why = "$or must contain objects";
                    return -1;
                }
            }
        } else if (json_is_object(rule)) {
            if (check_rules(rule, depth + 1, why) < 0)
                return -1;
        } else if (json_is_array(rule)) {
            if (json_array_size(rule) == 0) {
                *why = "Empty arrays are not allowed";
                return -1;
            }
            size_t i;
            json_t *c;
            json_array_foreach(rule, i, c)
            {
                if (check_condition(c, why) < 0)
                    return -1;
            }
        } else {
            *why = "Filter policy values must be arrays or objects";
            return -1;
        }
    }
    return 0;
}

/* The combinations of values a policy (or a nested object) names: the product over its keys
 * of each key's values, a $or the sum of its alternatives; saturates past the limit. */
static size_t combinations(const json_t *policy)
{
    size_t total = 1;
    const char *key;
    json_t *rule;
    json_object_foreach(MUT(policy), key, rule)
    {
        size_t n = 0;
        if (strcmp(key, "$or") == 0) {
            size_t i;
            json_t *alt;
            json_array_foreach(rule, i, alt)
            {
                n += combinations(alt);
                if (n > TOPIC_FILTER_COMBINATIONS_MAX)
                    break;
            }
        } else if (json_is_object(rule)) {
            n = combinations(rule);
        } else {
            n = json_array_size(rule);
        }
        if (n > TOPIC_FILTER_COMBINATIONS_MAX)
            return TOPIC_FILTER_COMBINATIONS_MAX + 1;
        total *= n;
        if (total > TOPIC_FILTER_COMBINATIONS_MAX)
            return TOPIC_FILTER_COMBINATIONS_MAX + 1;
    }
    return total;
}

int topic__filter_parse(const char *text, json_t **out, const char **why)
{
    json_error_t e;
    json_t *p = json_loads(text, 0, &e);
    if (p == NULL || !json_is_object(p)) {
        json_decref(p);
        *why = "failed to parse JSON.";
        return -1;
    }
    if (check_rules(p, 1, why) < 0) {
        json_decref(p);
        return -1;
    }
    /* SNS bounds a policy's total combination of values at 150 (Amazon SNS message
     * filtering, filter policy constraints); without it one policy could name 100,000
     * values, each matched on every Publish. */
    if (combinations(p) > TOPIC_FILTER_COMBINATIONS_MAX) {
        json_decref(p);
        *why = "Filter policy is too complex";
        return -1;
    }
    *out = p;
    return 0;
}

/* ---- matching ---- */

static bool number_of(const json_t *v, double *d)
{
    if (json_is_number(v)) {
        *d = json_number_value(v);
        return true;
    }
    return false;
}

static bool cidr_match(const char *cidr, const char *ip)
{
    unsigned a, b, c, d, bits, w, x, y, z;
    if (sscanf(cidr, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &bits) != 5 || bits > 32)
        return false;
    if (sscanf(ip, "%u.%u.%u.%u", &w, &x, &y, &z) != 4)
        return false;
    uint32_t net = (a << 24) | (b << 16) | (c << 8) | d,
             addr = (w << 24) | (x << 16) | (y << 8) | z;
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (net & mask) == (addr & mask);
}

static bool numeric_match(const json_t *ops, double d)
{
    for (size_t i = 0; i + 1 < json_array_size(ops); i += 2) {
        const char *o = json_string_value(json_array_get(ops, i));
        double v = json_number_value(json_array_get(ops, i + 1));
        bool ok = strcmp(o, "=") == 0    ? fabs(d - v) < 1e-9
                  : strcmp(o, "<") == 0  ? d < v
                  : strcmp(o, "<=") == 0 ? d <= v
                  : strcmp(o, ">") == 0  ? d > v
                                         : d >= v;
        if (!ok)
            return false;
    }
    return true;
}

static bool equal_literal(const json_t *lit, const json_t *v)
{
    double a, b;
    if (json_is_string(lit))
        return json_is_string(v) && strcmp(json_string_value(lit), json_string_value(v)) == 0;
    if (json_is_null(lit))
        return json_is_null(v);
    if (number_of(lit, &a) && number_of(v, &b))
        return fabs(a - b) < 1e-9;
    return false;
}

/* One condition against one present value. */
static bool condition_match(const json_t *c, const json_t *v)
{
    if (!json_is_object(c))
        return equal_literal(c, v);
    const char *op = json_object_iter_key(json_object_iter(MUT(c)));
    const json_t *arg = json_object_iter_value(json_object_iter(MUT(c)));
    const char *s = json_string_value(v);
    double d;
    if (strcmp(op, "prefix") == 0)
        return s && strncmp(s, json_string_value(arg), strlen(json_string_value(arg))) == 0;
    if (strcmp(op, "suffix") == 0) {
        size_t n = s ? strlen(s) : 0, m = strlen(json_string_value(arg));
        return s && n >= m && strcmp(s + n - m, json_string_value(arg)) == 0;
    }
    if (strcmp(op, "equals-ignore-case") == 0)
        return s && strcasecmp(s, json_string_value(arg)) == 0;
    if (strcmp(op, "cidr") == 0)
        return s && cidr_match(json_string_value(arg), s);
    if (strcmp(op, "numeric") == 0)
        return number_of(v, &d) && numeric_match(arg, d);
    if (strcmp(op, "anything-but") == 0) {
        if (json_is_object(arg)) {
            const char *p = json_string_value(json_object_get(arg, "prefix"));
            return s && strncmp(s, p, strlen(p)) != 0;
        }
        if (json_is_array(arg)) {
            size_t i;
            json_t *x;
            json_array_foreach(arg, i, x)
            {
                if (equal_literal(x, v))
                    return false;
            }
            return true;
        }
        return !equal_literal(arg, v);
    }
    return false;
}

/* A key's rule (a list of conditions) against the values it has (NULL: absent). */
static bool rule_match(const json_t *rule, const json_t *values)
{
    size_t i;
    json_t *c;
    json_array_foreach(rule, i, c)
    {
        json_t *ex = json_is_object(c) ? json_object_get(c, "exists") : NULL;
        if (ex) {
            if (json_is_true(ex) == (values != NULL && json_array_size(values) > 0))
                return true;
            continue;
        }
        size_t j;
        json_t *v;
        json_array_foreach(values, j, v)
        {
            if (condition_match(c, v))
                return true;
        }
    }
    return false;
}

/* The values of attribute name as a JSON array (new reference), or NULL when absent. */
static json_t *attr_values(const json_t *attrs, const char *name)
{
    const json_t *a = json_object_get(attrs, name);
    if (a == NULL)
        return NULL;
    const char *type = json_string_value(json_object_get(a, "Type"));
    const char *value = json_string_value(json_object_get(a, "Value"));
    if (type == NULL || value == NULL)
        return NULL;
    json_t *out = json_array();
    if (strcmp(type, "Number") == 0 || strncmp(type, "Number.", 7) == 0) {
        char *end;
        double d = strtod(value, &end);
        json_array_append_new(out, *end == '\0' ? json_real(d) : json_string(value));
    } else if (strcmp(type, "String.Array") == 0) {
        json_t *arr = json_loads(value, JSON_DECODE_ANY, NULL);
        if (json_is_array(arr))
            json_array_extend(out, arr);
        json_decref(arr);
    } else if (strncmp(type, "String", 6) == 0) {
        json_array_append_new(out, json_string(value));
    }
    return out;
}

static json_t *body_values(const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    if (v == NULL)
        return NULL;
    if (json_is_array(v))
        return json_incref(MUT(v));
    return json_pack("[O]", v);
}

static bool object_match(const json_t *policy, const json_t *subject, bool is_body)
{
    const char *key;
    json_t *rule;
    json_object_foreach(MUT(policy), key, rule)
    {
        bool ok;
        if (strcmp(key, "$or") == 0) {
            ok = false;
            size_t i;
            json_t *alt;
            json_array_foreach(rule, i, alt)
            {
                if (object_match(alt, subject, is_body)) {
                    ok = true;
                    break;
                }
            }
        } else if (json_is_object(rule)) {
            const json_t *inner = is_body ? json_object_get(subject, key) : NULL;
            ok = json_is_object(inner) && object_match(rule, inner, true);
        } else {
            json_t *values = is_body ? body_values(subject, key) : attr_values(subject, key);
            ok = rule_match(rule, values);
            json_decref(values);
        }
        if (!ok)
            return false;
    }
    return true;
}

bool topic__filter_match(const json_t *policy, bool scope_body, const json_t *attrs,
                         const char *body)
{
    if (policy == NULL)
        return true;
    if (!scope_body)
        return object_match(policy, attrs, false);
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    bool ok = json_is_object(doc) && object_match(policy, doc, true);
    json_decref(doc);
    return ok;
}
