/*
 * choice.c — compiles and evaluates JSONPath-mode Choice rules. The Choice state calls
 * choice_rule_compile() once per rule when a definition is compiled, and
 * choice_rule_eval() on each visit. Paths come from path/jsonpath.h (reference paths, as
 * AWS requires for Variable and *Path operands); timestamps from base/timefmt.h.
 * Invariant: a compiled rule is immutable, so executions may share it across threads.
 */
#include "asl/choice.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/timefmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum rule_kind {
    RULE_AND,
    RULE_OR,
    RULE_NOT,
    RULE_TEST,
} rule_kind;

typedef enum op_family {
    FAM_STRING,
    FAM_NUMERIC,
    FAM_BOOLEAN,
    FAM_TIMESTAMP,
    FAM_MATCHES,
    FAM_IS_NULL,
    FAM_IS_PRESENT,
    FAM_IS_NUMERIC,
    FAM_IS_STRING,
    FAM_IS_BOOLEAN,
    FAM_IS_TIMESTAMP,
} op_family;

typedef enum op_cmp {
    CMP_EQ,
    CMP_LT,
    CMP_GT,
    CMP_LE,
    CMP_GE,
    CMP_NONE,
} op_cmp;

/* The JSON type a literal operand must have (TIMESTAMP: an RFC 3339 string). */
typedef enum operand_type {
    OPERAND_STRING,
    OPERAND_NUMBER,
    OPERAND_BOOLEAN,
    OPERAND_TIMESTAMP,
} operand_type;

typedef struct op_info {
    const char *name;
    op_family family;
    op_cmp cmp;
    operand_type operand; /* of the literal form */
    bool is_path;         /* the operand is a reference path, not a literal */
} op_info;

/* The 39 data-test operators of ASL's JSONPath Choice rules: each line of choice_ops.def
 * gives the operator and, when marked WITH_PATH, its *Path variant. */
#define OP(name, family, cmp, operand, is_path)                                                    \
    {name, FAM_##family, CMP_##cmp, OPERAND_##operand, is_path},
#define OP_NO_PATH(name, family, cmp, operand)
#define OP_WITH_PATH(name, family, cmp, operand) OP(name "Path", family, cmp, operand, true)
#define CHOICE_OP(name, family, cmp, operand, path)                                                \
    OP(#name, family, cmp, operand, false) OP_##path(#name, family, cmp, operand)
static const op_info ops[] = {
#include "asl/choice_ops.def"
};
#undef CHOICE_OP
#undef OP_WITH_PATH
#undef OP_NO_PATH
#undef OP

/* A StringMatches pattern token: a byte to match literally, or the wildcard. */
#define PATTERN_STAR (-1)

/* An instant at full precision, as the Timestamp* operators compare it. */
typedef struct instant {
    int64_t seconds;
    int32_t nanos;
} instant;

struct choice_rule {
    rule_kind kind;
    /* RULE_AND / RULE_OR / RULE_NOT */
    choice_rule **children;
    size_t n_children;
    /* RULE_TEST */
    const op_info *op;
    jpath *variable;
    jpath *operand_path;  /* *Path operators */
    json_t *operand;      /* literal operators (own reference) */
    instant operand_time; /* Timestamp* literals, parsed once */
    int *pattern;         /* StringMatches tokens */
    size_t pattern_len;
};

static const char *const ignored_keys[] = {"Next", "Assign", "Comment"};

static bool is_ignored_key(const char *key)
{
    for (size_t i = 0; i < sizeof ignored_keys / sizeof ignored_keys[0]; i++) {
        if (strcmp(key, ignored_keys[i]) == 0)
            return true;
    }
    return false;
}

static const op_info *find_op(const char *key)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(key, ops[i].name) == 0)
            return &ops[i];
    }
    return NULL;
}

static int fail(char **errmsg, char *msg)
{
    if (errmsg)
        *errmsg = msg;
    else
        free(msg);
    return BT_EINVAL;
}

static bool parse_instant(const char *s, instant *out)
{
    int64_t ms;
    int32_t nanos;
    if (!bt_time_parse_rfc3339_ns(s, &ms, &nanos))
        return false;
    /* ms is the floor of the instant, so floor division recovers whole seconds. */
    int64_t sec = ms / 1000;
    if (ms % 1000 < 0)
        sec--;
    out->seconds = sec;
    out->nanos = nanos;
    return true;
}

/*
 * "*" matches any run of characters (possibly empty); "\*" is a literal star and "\\" a
 * literal backslash; a backslash before anything else stands for itself. Nothing else is
 * special.
 */
static void compile_pattern(choice_rule *r, const char *s, size_t len)
{
    r->pattern = bt_xmalloc((len + 1) * sizeof *r->pattern);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '\\')) {
            r->pattern[n++] = (unsigned char)s[++i];
        } else if (c == '*') {
            if (n == 0 || r->pattern[n - 1] != PATTERN_STAR)
                r->pattern[n++] = PATTERN_STAR;
        } else {
            r->pattern[n++] = c;
        }
    }
    r->pattern_len = n;
}

static int compile_path(const char *text, jpath **out, const char *what, char **errmsg)
{
    char *why = NULL;
    int rc = jpath_compile(text, JPATH_REFERENCE, out, &why);
    if (rc != 0) {
        char *msg = bt_xasprintf("%s '%s' is not a valid reference path: %s", what, text,
                                 why ? why : "invalid");
        free(why);
        return fail(errmsg, msg);
    }
    return 0;
}

static int compile_test(json_t *rule, const op_info *op, json_t *operand, choice_rule *r,
                        char **errmsg)
{
    json_t *variable = json_object_get(rule, "Variable");
    if (!json_is_string(variable))
        return fail(errmsg,
                    bt_xasprintf("Choice rule with %s needs a string 'Variable'", op->name));
    int rc = compile_path(json_string_value(variable), &r->variable, "Variable", errmsg);
    if (rc != 0)
        return rc;

    if (op->is_path) {
        if (!json_is_string(operand))
            return fail(errmsg, bt_xasprintf("'%s' must be a string path", op->name));
        return compile_path(json_string_value(operand), &r->operand_path, op->name, errmsg);
    }

    bool type_ok = false;
    switch (op->operand) {
    case OPERAND_STRING:
    case OPERAND_TIMESTAMP:
        type_ok = json_is_string(operand);
        break;
    case OPERAND_NUMBER:
        type_ok = json_is_number(operand);
        break;
    case OPERAND_BOOLEAN:
        type_ok = json_is_boolean(operand);
        break;
    }
    if (!type_ok)
        return fail(errmsg, bt_xasprintf("'%s' has a value of the wrong type", op->name));
    if (op->family == FAM_TIMESTAMP && !parse_instant(json_string_value(operand), &r->operand_time))
        return fail(errmsg, bt_xasprintf("'%s' is not an RFC 3339 timestamp: %s", op->name,
                                         json_string_value(operand)));
    if (op->family == FAM_MATCHES)
        compile_pattern(r, json_string_value(operand), json_string_length(operand));
    r->operand = json_incref(operand);
    return 0;
}

static int compile_rule(json_t *rule, choice_rule **out, char **errmsg, int depth);

static int compile_children(json_t *rule, const char *key, choice_rule *r, char **errmsg, int depth)
{
    json_t *value = json_object_get(rule, key);
    if (r->kind == RULE_NOT) {
        r->children = bt_xcalloc(1, sizeof *r->children);
        r->n_children = 1;
        return compile_rule(value, &r->children[0], errmsg, depth + 1);
    }
    if (!json_is_array(value) || json_array_size(value) == 0)
        return fail(errmsg, bt_xasprintf("'%s' must be a non-empty array of rules", key));
    size_t n = json_array_size(value);
    r->children = bt_xcalloc(n, sizeof *r->children);
    for (size_t i = 0; i < n; i++) {
        int rc = compile_rule(json_array_get(value, i), &r->children[i], errmsg, depth + 1);
        if (rc != 0)
            return rc;
        r->n_children++;
    }
    return 0;
}

/* Nesting deeper than this is refused rather than risking the stack. */
#define MAX_DEPTH 64

static int compile_rule(json_t *rule, choice_rule **out, char **errmsg, int depth)
{
    *out = NULL;
    if (!json_is_object(rule))
        return fail(errmsg, bt_xstrdup("a Choice rule must be an object"));
    if (depth > MAX_DEPTH)
        return fail(errmsg, bt_xasprintf("Choice rules nest deeper than %d levels", MAX_DEPTH));

    const char *combinator = NULL;
    const op_info *op = NULL;
    json_t *operand = NULL;
    bool has_variable = false;
    const char *key;
    json_t *value;
    json_object_foreach(rule, key, value)
    {
        if (is_ignored_key(key))
            continue;
        if (strcmp(key, "Variable") == 0) {
            has_variable = true;
            continue;
        }
        if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0 || strcmp(key, "Not") == 0) {
            if (combinator || op)
                return fail(errmsg, bt_xasprintf("a Choice rule has more than one operator "
                                                 "('%s' and '%s')",
                                                 combinator ? combinator : op->name, key));
            combinator = key;
            continue;
        }
        const op_info *found = find_op(key);
        if (!found)
            return fail(errmsg, bt_xasprintf("unknown field '%s' in a Choice rule", key));
        if (combinator || op)
            return fail(errmsg, bt_xasprintf("a Choice rule has more than one operator "
                                             "('%s' and '%s')",
                                             combinator ? combinator : op->name, key));
        op = found;
        operand = value;
    }

    choice_rule *r = bt_xcalloc(1, sizeof *r);
    int rc;
    if (combinator) {
        if (has_variable) {
            choice_rule_free(r);
            return fail(errmsg, bt_xasprintf("'Variable' cannot appear with '%s'", combinator));
        }
        r->kind = combinator[0] == 'A' ? RULE_AND : combinator[0] == 'O' ? RULE_OR : RULE_NOT;
        rc = compile_children(rule, combinator, r, errmsg, depth);
    } else if (op) {
        r->kind = RULE_TEST;
        r->op = op;
        rc = compile_test(rule, op, operand, r, errmsg);
    } else {
        rc = fail(errmsg, bt_xstrdup("a Choice rule needs a comparison operator or And/Or/Not"));
    }
    if (rc != 0) {
        choice_rule_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int choice_rule_compile(json_t *rule, choice_rule **out, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    return compile_rule(rule, out, errmsg, 0);
}

void choice_rule_free(choice_rule *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_children; i++)
        choice_rule_free(r->children[i]);
    free(r->children);
    jpath_free(r->variable);
    jpath_free(r->operand_path);
    json_decref(r->operand);
    free(r->pattern);
    free(r);
}

/* Decodes one UTF-8 sequence at s[*i]; a malformed byte stands for itself. */
static uint32_t next_code_point(const unsigned char *s, size_t len, size_t *i)
{
    uint32_t c = s[*i];
    size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (extra == 0 || extra >= len - *i) {
        (*i)++;
        return c;
    }
    uint32_t cp = c & (0x3Fu >> extra);
    for (size_t k = 1; k <= extra; k++) {
        unsigned char cc = s[*i + k];
        if ((cc & 0xC0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = (cp << 6) | (cc & 0x3Fu);
    }
    *i += extra + 1;
    return cp;
}

/* The UTF-16 code units of cp: the high surrogate (or the BMP unit) and the low one. */
static void utf16_units(uint32_t cp, uint32_t *first, uint32_t *second)
{
    if (cp < 0x10000) {
        *first = cp;
        *second = 0;
    } else {
        *first = 0xD800 + ((cp - 0x10000) >> 10);
        *second = 0xDC00 + ((cp - 0x10000) & 0x3FF);
    }
}

/*
 * Java's String.compareTo: lexicographic over UTF-16 code units, shorter prefix first.
 * This differs from byte order only when a supplementary character meets U+E000–U+FFFF.
 */
static int java_compare(const char *a, size_t alen, const char *b, size_t blen)
{
    const unsigned char *ua = (const unsigned char *)a;
    const unsigned char *ub = (const unsigned char *)b;
    size_t i = 0, j = 0;
    while (i < alen && j < blen) {
        uint32_t ca = next_code_point(ua, alen, &i);
        uint32_t cb = next_code_point(ub, blen, &j);
        if (ca == cb)
            continue;
        uint32_t a1, a2, b1, b2;
        utf16_units(ca, &a1, &a2);
        utf16_units(cb, &b1, &b2);
        if (a1 != b1)
            return a1 < b1 ? -1 : 1;
        return a2 < b2 ? -1 : 1;
    }
    if (i < alen)
        return 1;
    if (j < blen)
        return -1;
    return 0;
}

static bool cmp_holds(op_cmp cmp, int order)
{
    switch (cmp) {
    case CMP_EQ:
        return order == 0;
    case CMP_LT:
        return order < 0;
    case CMP_GT:
        return order > 0;
    case CMP_LE:
        return order <= 0;
    case CMP_GE:
        return order >= 0;
    case CMP_NONE:
        break;
    }
    return false;
}

static bool pattern_matches(const choice_rule *r, const char *s, size_t len)
{
    const int *p = r->pattern;
    size_t np = r->pattern_len;
    size_t pi = 0, si = 0;
    size_t star = SIZE_MAX, star_si = 0;
    while (si < len) {
        if (pi < np && p[pi] == PATTERN_STAR) {
            star = pi++;
            star_si = si;
        } else if (pi < np && p[pi] == (unsigned char)s[si]) {
            pi++;
            si++;
        } else if (star != SIZE_MAX) {
            pi = star + 1;
            si = ++star_si;
        } else {
            return false;
        }
    }
    while (pi < np && p[pi] == PATTERN_STAR)
        pi++;
    return pi == np;
}

static int instant_order(instant a, instant b)
{
    if (a.seconds != b.seconds)
        return a.seconds < b.seconds ? -1 : 1;
    if (a.nanos != b.nanos)
        return a.nanos < b.nanos ? -1 : 1;
    return 0;
}

/* The outcome of one data test; operand is the literal or the resolved *Path value. */
static bool test_value(const choice_rule *r, json_t *v, json_t *operand)
{
    const op_info *op = r->op;
    switch (op->family) {
    case FAM_STRING:
        if (!json_is_string(v) || !json_is_string(operand))
            return false;
        return cmp_holds(op->cmp,
                         java_compare(json_string_value(v), json_string_length(v),
                                      json_string_value(operand), json_string_length(operand)));
    case FAM_NUMERIC: {
        if (!json_is_number(v) || !json_is_number(operand))
            return false;
        double a = json_number_value(v), b = json_number_value(operand);
        return cmp_holds(op->cmp, a < b ? -1 : a > b ? 1 : 0);
    }
    case FAM_BOOLEAN:
        return json_is_boolean(v) && json_is_boolean(operand) &&
               json_is_true(v) == json_is_true(operand);
    case FAM_TIMESTAMP: {
        instant a, b;
        if (!json_is_string(v) || !parse_instant(json_string_value(v), &a))
            return false;
        if (op->is_path) {
            if (!json_is_string(operand) || !parse_instant(json_string_value(operand), &b))
                return false;
        } else {
            b = r->operand_time;
        }
        return cmp_holds(op->cmp, instant_order(a, b));
    }
    case FAM_MATCHES:
        return json_is_string(v) && pattern_matches(r, json_string_value(v), json_string_length(v));
    case FAM_IS_NULL:
        return json_is_null(v) == json_is_true(operand);
    case FAM_IS_PRESENT:
        return json_is_true(operand);
    case FAM_IS_NUMERIC:
        return json_is_number(v) == json_is_true(operand);
    case FAM_IS_STRING:
        return json_is_string(v) == json_is_true(operand);
    case FAM_IS_BOOLEAN:
        return json_is_boolean(v) == json_is_true(operand);
    case FAM_IS_TIMESTAMP: {
        instant t;
        bool is_ts = json_is_string(v) && parse_instant(json_string_value(v), &t);
        return is_ts == json_is_true(operand);
    }
    }
    return false;
}

static int invalid_path(const jpath *p, bt_fault *fault)
{
    return bt_fault_set(fault, "States.Runtime",
                        "Invalid path '%s': The choice state's condition path references an "
                        "invalid value.",
                        jpath_text(p));
}

static int eval_test(const choice_rule *r, const jpath_env *env, bool *matched, bt_fault *fault)
{
    json_t *v = NULL;
    int rc = jpath_eval(r->variable, env, &v);
    if (rc == BT_ENOTFOUND) {
        if (r->op->family == FAM_IS_PRESENT) {
            *matched = !json_is_true(r->operand);
            return 0;
        }
        return invalid_path(r->variable, fault);
    }
    if (rc != 0)
        return rc;

    json_t *operand = r->operand;
    json_t *resolved = NULL;
    if (r->operand_path) {
        rc = jpath_eval(r->operand_path, env, &resolved);
        if (rc != 0) {
            json_decref(v);
            return rc == BT_ENOTFOUND ? invalid_path(r->operand_path, fault) : rc;
        }
        operand = resolved;
    }
    *matched = test_value(r, v, operand);
    json_decref(resolved);
    json_decref(v);
    return 0;
}

int choice_rule_eval(const choice_rule *r, const jpath_env *env, bool *matched, bt_fault *fault)
{
    *matched = false;
    switch (r->kind) {
    case RULE_TEST:
        return eval_test(r, env, matched, fault);
    case RULE_NOT: {
        bool inner;
        int rc = choice_rule_eval(r->children[0], env, &inner, fault);
        if (rc != 0)
            return rc;
        *matched = !inner;
        return 0;
    }
    case RULE_AND:
    case RULE_OR: {
        /* Short-circuit: an IsPresent guard earlier in an And protects later paths. */
        bool want = r->kind == RULE_OR;
        for (size_t i = 0; i < r->n_children; i++) {
            bool m;
            int rc = choice_rule_eval(r->children[i], env, &m, fault);
            if (rc != 0)
                return rc;
            if (m == want) {
                *matched = want;
                return 0;
            }
        }
        *matched = !want;
        return 0;
    }
    }
    return BT_EINVAL;
}
