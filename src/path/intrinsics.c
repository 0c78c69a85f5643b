/*
 * intrinsics.c — parses and evaluates the ASL intrinsic functions (States.*). Called by
 * payload.c for ".$" values and by the state compiler for ErrorPath/CausePath. Arguments are
 * resolved through jsonpath.h; every value is a jansson json_t.
 *
 * Behaviour follows what AWS was observed to do rather than what its guide says where the two
 * differ: argument errors (types, counts, ranges) are runtime States.Runtime failures with the
 * cause "Invalid arguments in States.<Name>", numbers that AWS treats as Java ints are
 * truncated (ArrayRange, ArrayPartition, ArrayGetItem, MathRandom) except MathAdd, which
 * rounds half up, and values are printed the way the Java service prints them. A value that
 * must be printed (JsonToString, Format, ArrayContains, Hash, a cause's input) and nests deeper
 * than BT_JSON_MAX_DEPTH raises States.Runtime "The function '<text>' had the following error:
 * " BT_JSON_TOO_DEEP; it is never printed in part.
 */
#include "path/intrinsics.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/rand.h"

#include <openssl/evp.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH        10    /* AWS: up to 10 nested intrinsic functions per field */
#define MAX_ARGS         1000  /* keeps a hostile definition's argument vector bounded */
#define MAX_ARRAY_ITEMS  1000  /* States.ArrayRange result limit */
#define MAX_STRING_UNITS 10000 /* Base64 and Hash input limit, in UTF-16 code units */
#define ERR_RUNTIME      "States.Runtime"

/* Function catalogue: enum name, AWS name. */
#define INTR_FUNCTIONS(X)                                                                          \
    X(FORMAT, "Format")                                                                            \
    X(STRING_TO_JSON, "StringToJson")                                                              \
    X(JSON_TO_STRING, "JsonToString")                                                              \
    X(ARRAY, "Array")                                                                              \
    X(ARRAY_PARTITION, "ArrayPartition")                                                           \
    X(ARRAY_CONTAINS, "ArrayContains")                                                             \
    X(ARRAY_RANGE, "ArrayRange")                                                                   \
    X(ARRAY_GET_ITEM, "ArrayGetItem")                                                              \
    X(ARRAY_LENGTH, "ArrayLength")                                                                 \
    X(ARRAY_UNIQUE, "ArrayUnique")                                                                 \
    X(BASE64_ENCODE, "Base64Encode")                                                               \
    X(BASE64_DECODE, "Base64Decode")                                                               \
    X(HASH, "Hash")                                                                                \
    X(JSON_MERGE, "JsonMerge")                                                                     \
    X(MATH_RANDOM, "MathRandom")                                                                   \
    X(MATH_ADD, "MathAdd")                                                                         \
    X(STRING_SPLIT, "StringSplit")                                                                 \
    X(UUID, "UUID")

typedef enum intr_fn {
#define X(id, name) FN_##id,
    INTR_FUNCTIONS(X)
#undef X
        FN_COUNT
} intr_fn;

static const char *const fn_names[FN_COUNT] = {
#define X(id, name) "States." name,
    INTR_FUNCTIONS(X)
#undef X
};

typedef enum arg_kind { ARG_LITERAL, ARG_PATH, ARG_CALL } arg_kind;

typedef struct intr_arg {
    arg_kind kind;
    json_t *value; /* ARG_LITERAL */
    char *raw;     /* ARG_LITERAL string: the text between the quotes, escapes intact */
    jpath *path;   /* ARG_PATH */
    char *text;    /* ARG_PATH: the path as written */
    intr_call *call;
} intr_arg;

struct intr_call {
    intr_fn fn;
    size_t n_args;
    intr_arg *args;
    char *text; /* the whole expression as written; set on the root call only */
};

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct parser {
    const char *s;
    size_t pos;
    char *err;
} parser;

static int parse_fail(parser *p, const char *msg)
{
    if (p->err == NULL)
        p->err = bt_xasprintf("%s (at offset %zu)", msg, p->pos);
    return BT_EINVAL;
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool intr_is_call(const char *text)
{
    if (text == NULL || strncmp(text, "States.", 7) != 0)
        return false;
    size_t i = 7;
    while (is_name_char(text[i]))
        i++;
    return i > 7 && text[i] == '(';
}

static void call_free(intr_call *c);

static void arg_fini(intr_arg *a)
{
    json_decref(a->value);
    free(a->raw);
    jpath_free(a->path);
    free(a->text);
    call_free(a->call);
}

static void call_free(intr_call *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_args; i++)
        arg_fini(&c->args[i]);
    free(c->args);
    free(c->text);
    free(c);
}

void intr_free(intr_call *c)
{
    call_free(c);
}

/*
 * A quoted literal. AWS accepts exactly four escapes (\' \{ \} \\); any other backslash is a
 * definition error. The raw text is kept so States.Format can tell an escaped brace from a
 * placeholder.
 */
static int parse_string(parser *p, intr_arg *a)
{
    size_t start = ++p->pos;
    bt_buf b;
    bt_buf_init(&b);
    for (;;) {
        char c = p->s[p->pos];
        if (c == '\0') {
            bt_buf_fini(&b);
            return parse_fail(p, "unterminated string literal");
        }
        if (c == '\'')
            break;
        if (c == '\\') {
            char n = p->s[p->pos + 1];
            if (n != '\'' && n != '{' && n != '}' && n != '\\') {
                bt_buf_fini(&b);
                return parse_fail(p, "invalid escape sequence in string literal");
            }
            bt_buf_putc(&b, n);
            p->pos += 2;
            continue;
        }
        bt_buf_putc(&b, c);
        p->pos++;
    }
    size_t end = p->pos++;
    json_t *v = json_stringn(b.data ? b.data : "", b.len);
    bt_buf_fini(&b);
    if (v == NULL)
        return parse_fail(p, "string literal is not valid UTF-8");
    a->kind = ARG_LITERAL;
    a->value = v;
    a->raw = bt_xstrndup(p->s + start, end - start);
    return 0;
}

static int parse_number(parser *p, intr_arg *a)
{
    const char *s = p->s;
    size_t i = p->pos;
    bool is_int = true;
    if (s[i] == '-')
        i++;
    if (!isdigit((unsigned char)s[i]))
        return parse_fail(p, "invalid number literal");
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.') {
        is_int = false;
        i++;
        if (!isdigit((unsigned char)s[i]))
            return parse_fail(p, "invalid number literal");
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        is_int = false;
        i++;
        if (s[i] == '+' || s[i] == '-')
            i++;
        if (!isdigit((unsigned char)s[i]))
            return parse_fail(p, "invalid number literal");
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    char *text = bt_xstrndup(s + p->pos, i - p->pos);
    json_t *v = NULL;
    if (is_int) {
        char *end;
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (errno == 0)
            v = json_integer((json_int_t)n);
        else
            is_int = false;
    }
    if (!is_int) {
        double d = strtod(text, NULL);
        if (isfinite(d))
            v = json_real(d);
    }
    free(text);
    if (v == NULL)
        return parse_fail(p, "number literal out of range");
    p->pos = i;
    a->kind = ARG_LITERAL;
    a->value = v;
    return 0;
}

/* A path runs to the first ',' or ')' outside brackets, parentheses and quotes. */
static int parse_path(parser *p, intr_arg *a)
{
    const char *s = p->s;
    size_t i = p->pos;
    int depth = 0;
    char quote = 0;
    for (; s[i] != '\0'; i++) {
        char c = s[i];
        if (quote) {
            if (c == '\\' && s[i + 1] != '\0')
                i++;
            else if (c == quote)
                quote = 0;
            continue;
        }
        if ((c == '\'' || c == '"') && depth > 0)
            quote = c;
        else if (c == '[' || c == '(')
            depth++;
        else if ((c == ']' || c == ')') && depth > 0)
            depth--;
        else if ((c == ',' || c == ')') && depth == 0)
            break;
    }
    size_t end = i;
    while (end > p->pos && isspace((unsigned char)s[end - 1]))
        end--;
    char *text = bt_xstrndup(s + p->pos, end - p->pos);
    char *perr = NULL;
    jpath *path = NULL;
    if (jpath_compile(text, 0, &path, &perr) != 0) {
        if (p->err == NULL)
            p->err = bt_xasprintf("invalid JSONPath argument '%s': %s", text,
                                  perr ? perr : "syntax error");
        free(perr);
        free(text);
        return BT_EINVAL;
    }
    p->pos = i;
    a->kind = ARG_PATH;
    a->path = path;
    a->text = text;
    return 0;
}

static bool match_word(parser *p, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(p->s + p->pos, w, n) != 0 || is_name_char(p->s[p->pos + n]))
        return false;
    p->pos += n;
    return true;
}

static int parse_call(parser *p, int depth, intr_call **out);

static int parse_arg(parser *p, int depth, intr_arg *a)
{
    char c = p->s[p->pos];
    if (c == '\'')
        return parse_string(p, a);
    if (c == '$')
        return parse_path(p, a);
    if (c == '-' || isdigit((unsigned char)c))
        return parse_number(p, a);
    if (intr_is_call(p->s + p->pos)) {
        a->kind = ARG_CALL;
        return parse_call(p, depth + 1, &a->call);
    }
    json_t *word = match_word(p, "true")    ? json_true()
                   : match_word(p, "false") ? json_false()
                   : match_word(p, "null")  ? json_null()
                                            : NULL;
    if (word) {
        a->kind = ARG_LITERAL;
        a->value = word;
        return 0;
    }
    if (c == ',' || c == ')')
        return parse_fail(p, "missing argument");
    return parse_fail(p, "unexpected character in argument list");
}

static int parse_call(parser *p, int depth, intr_call **out)
{
    if (depth > MAX_DEPTH)
        return parse_fail(p, "intrinsic functions nested more than 10 deep");
    size_t name_start = p->pos;
    p->pos += 7; /* "States." (checked by intr_is_call) */
    while (is_name_char(p->s[p->pos]))
        p->pos++;
    size_t name_len = p->pos - name_start;
    int fn = -1;
    for (int i = 0; i < FN_COUNT; i++) {
        if (strlen(fn_names[i]) == name_len &&
            strncmp(fn_names[i], p->s + name_start, name_len) == 0)
            fn = i;
    }
    if (fn < 0) {
        char *msg =
            bt_xasprintf("unknown intrinsic function '%.*s'", (int)name_len, p->s + name_start);
        parse_fail(p, msg);
        free(msg);
        return BT_EINVAL;
    }
    p->pos++; /* '(' */
    intr_call *c = bt_xcalloc(1, sizeof(*c));
    c->fn = (intr_fn)fn;
    size_t cap = 0;
    int rc = 0;
    skip_ws(p);
    if (p->s[p->pos] == ')') {
        p->pos++;
        *out = c;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (c->n_args == MAX_ARGS) {
            rc = parse_fail(p, "too many arguments");
            break;
        }
        if (c->n_args == cap) {
            cap = cap ? cap * 2 : 4;
            c->args = bt_xrealloc(c->args, cap * sizeof(*c->args));
        }
        intr_arg *a = &c->args[c->n_args];
        memset(a, 0, sizeof(*a));
        rc = parse_arg(p, depth, a);
        if (rc != 0) {
            arg_fini(a);
            break;
        }
        c->n_args++;
        skip_ws(p);
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == ')') {
            p->pos++;
            break;
        }
        rc = p->s[p->pos] == '\0' ? parse_fail(p, "missing ')'")
                                  : parse_fail(p, "expected ',' or ')'");
        break;
    }
    if (rc != 0) {
        call_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int intr_compile(const char *text, intr_call **out, char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    parser p = {text, 0, NULL};
    intr_call *c = NULL;
    int rc;
    if (!intr_is_call(text)) {
        rc = parse_fail(&p, "not an intrinsic function call");
    } else {
        rc = parse_call(&p, 1, &c);
        if (rc == 0) {
            skip_ws(&p);
            if (text[p.pos] != '\0') {
                rc = parse_fail(&p, "unexpected text after the closing ')'");
                call_free(c);
            }
        }
    }
    if (rc != 0) {
        if (errmsg)
            *errmsg = p.err;
        else
            free(p.err);
        return BT_EINVAL;
    }
    c->text = bt_xstrdup(text);
    *out = c;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Printing values the way the Java service does                                              */
/* ------------------------------------------------------------------------------------------ */

/* Java's Double.toString: shortest digits; plain for 1e-3 <= |d| < 1e7, else d.dddE±n. */
static void put_double(bt_buf *b, double d)
{
    if (d == 0) {
        bt_buf_puts(b, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is "-d.ddde±xx": collect the digits and the exponent */
    char digits[24];
    size_t nd = 0;
    const char *q = tmp;
    bool neg = *q == '-';
    if (neg)
        q++;
    for (; *q && *q != 'e'; q++) {
        if (isdigit((unsigned char)*q) && nd < sizeof(digits) - 1)
            digits[nd++] = *q;
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp10 = *q == 'e' ? atoi(q + 1) : 0;
    if (neg)
        bt_buf_putc(b, '-');
    double mag = fabs(d);
    if (mag >= 1e-3 && mag < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                bt_buf_putc(b, (size_t)i < nd ? digits[i] : (char)'0');
            bt_buf_putc(b, '.');
            if ((size_t)exp10 + 1 < nd)
                bt_buf_puts(b, digits + exp10 + 1);
            else
                bt_buf_putc(b, '0');
        } else {
            bt_buf_puts(b, "0.");
            for (int i = -1; i > exp10; i--)
                bt_buf_putc(b, '0');
            bt_buf_puts(b, digits);
        }
    } else {
        bt_buf_putc(b, digits[0]);
        bt_buf_putc(b, '.');
        bt_buf_puts(b, nd > 1 ? digits + 1 : "0");
        bt_buf_printf(b, "E%d", exp10);
    }
}

static void put_number(bt_buf *b, const json_t *v)
{
    if (json_is_integer(v))
        bt_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        put_double(b, json_real_value(v));
}

/*
 * Compact JSON, members in their stored order, as Jackson writes it. depth is v's level (1 at
 * the top), counted as bt_json_write counts it; BT_ELIMIT below BT_JSON_MAX_DEPTH, so the text
 * always reads back (States.StringToJson) and hostile nesting is not followed.
 */
static int put_json(bt_buf *b, const json_t *v, int depth)
{
    if (depth > BT_JSON_MAX_DEPTH)
        return BT_ELIMIT;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        bool first = true;
        bt_buf_putc(b, '{');
        json_object_foreach((json_t *)(uintptr_t)v, key, val)
        {
            if (!first)
                bt_buf_putc(b, ',');
            first = false;
            bt_json_write_string(b, key, strlen(key));
            bt_buf_putc(b, ':');
            if (put_json(b, val, depth + 1) != 0)
                return BT_ELIMIT;
        }
        bt_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY:
        bt_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                bt_buf_putc(b, ',');
            if (put_json(b, json_array_get(v, i), depth + 1) != 0)
                return BT_ELIMIT;
        }
        bt_buf_putc(b, ']');
        break;
    case JSON_STRING:
        bt_json_write_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        put_number(b, v);
        break;
    case JSON_TRUE:
        bt_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        bt_buf_puts(b, "false");
        break;
    case JSON_NULL:
        bt_buf_puts(b, "null");
        break;
    }
    return 0;
}

/*
 * States.Format's rendering of an argument: Java's toString of the value, so strings are raw,
 * objects print as {k=v, k2=v2} and arrays as [a, b]. Same depth rule as put_json.
 */
static int put_text(bt_buf *b, const json_t *v, int depth)
{
    if (depth > BT_JSON_MAX_DEPTH)
        return BT_ELIMIT;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        bool first = true;
        bt_buf_putc(b, '{');
        json_object_foreach((json_t *)(uintptr_t)v, key, val)
        {
            if (!first)
                bt_buf_puts(b, ", ");
            first = false;
            bt_buf_puts(b, key);
            bt_buf_putc(b, '=');
            if (put_text(b, val, depth + 1) != 0)
                return BT_ELIMIT;
        }
        bt_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY:
        bt_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                bt_buf_puts(b, ", ");
            if (put_text(b, json_array_get(v, i), depth + 1) != 0)
                return BT_ELIMIT;
        }
        bt_buf_putc(b, ']');
        break;
    case JSON_STRING:
        bt_buf_append(b, json_string_value(v), json_string_length(v));
        break;
    default:
        return put_json(b, v, depth);
    }
    return 0;
}

static json_t *take_string(bt_buf *b)
{
    json_t *s = json_stringn(b->data ? b->data : "", b->len);
    bt_buf_fini(b);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8 helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Decodes one code point of valid UTF-8 (jansson guarantees validity); returns its length. */
static size_t utf8_next(const char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c = (unsigned char)s[i];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + n > len)
        n = len - i;
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++)
        v = (v << 6) | ((unsigned char)s[i + k] & 0x3Fu);
    *cp = v;
    return n;
}

/* Java's String.length(): UTF-16 code units. */
static size_t utf16_length(const char *s, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

/* Appends bytes as UTF-8, replacing malformed sequences with U+FFFD as Java's decoder does. */
static void put_utf8_lossy(bt_buf *b, const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = 0;
        uint32_t min = 0;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 2, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, min = 0x10000;
        bool ok = n > 0 && i + n <= len;
        uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; ok && k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                ok = false;
            v = (v << 6) | (s[i + k] & 0x3Fu);
        }
        if (ok && n > 1 && (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)))
            ok = false;
        if (ok) {
            bt_buf_append(b, (const char *)s + i, n);
            i += n;
        } else {
            bt_buf_puts(b, "\xEF\xBF\xBD");
            i++;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Evaluation                                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct eval_ctx {
    const intr_env *env;
    const char *root_text;
    bt_fault *fault;
} eval_ctx;

static int invalid(eval_ctx *x, intr_fn fn)
{
    const char *name = (size_t)fn < FN_COUNT ? fn_names[fn] : "States";
    return bt_fault_set(x->fault, ERR_RUNTIME, "Invalid arguments in %s", name);
}

/* A value too deep to print (put_json/put_text said BT_ELIMIT). */
static int too_deep(eval_ctx *x)
{
    return bt_fault_set(x->fault, ERR_RUNTIME, "The function '%s' had the following error: %s",
                        x->root_text, BT_JSON_TOO_DEEP);
}

static uint64_t next_random(const eval_ctx *x)
{
    if (x->env->random)
        return x->env->random(x->env->random_ud);
    uint64_t r;
    bt_random_bytes(&r, sizeof(r));
    return r;
}

/* A number as Java's intValue() would narrow it: truncated, and it must fit an int. */
static bool int32_truncated(const json_t *v, int32_t *out)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < INT32_MIN || n > INT32_MAX)
            return false;
        *out = (int32_t)n;
        return true;
    }
    if (!json_is_real(v))
        return false;
    d = trunc(json_real_value(v));
    if (!(d >= INT32_MIN && d <= INT32_MAX))
        return false;
    *out = (int32_t)d;
    return true;
}

/* Java's Math.round (half up), and it must fit an int. */
static bool int32_rounded(const json_t *v, int32_t *out)
{
    if (json_is_integer(v))
        return int32_truncated(v, out);
    if (!json_is_real(v))
        return false;
    double d = json_real_value(v);
    double r = floor(d);
    if (d - r >= 0.5)
        r += 1;
    if (!(r >= INT32_MIN && r <= INT32_MAX))
        return false;
    *out = (int32_t)r;
    return true;
}

static int eval_call(eval_ctx *x, const intr_call *c, json_t **out);

static int eval_arg(eval_ctx *x, const intr_arg *a, json_t **out)
{
    switch (a->kind) {
    case ARG_LITERAL:
        *out = json_incref(a->value);
        return 0;
    case ARG_CALL:
        return eval_call(x, a->call, out);
    case ARG_PATH:
        break;
    }
    const jpath_env *penv = x->env->paths;
    if (penv && jpath_eval(a->path, penv, out) == 0)
        return 0;
    /* AWS names a "$$" argument as rewritten against the context object ("$$.a" -> "$.a")
     * and always prints the state input. */
    const char *field = strncmp(a->text, "$$", 2) == 0 ? a->text + 1 : a->text;
    bt_buf in;
    bt_buf_init(&in);
    int rc = 0;
    if (penv && penv->input)
        rc = put_json(&in, penv->input, 1);
    else
        bt_buf_puts(&in, "null");
    if (rc != 0)
        bt_fault_set(x->fault, ERR_RUNTIME,
                     "The function '%s' had the following error: The JsonPath argument for the "
                     "field '%s' could not be found in the input, which is not shown: %s",
                     x->root_text, field, BT_JSON_TOO_DEEP);
    else
        bt_fault_set(x->fault, ERR_RUNTIME,
                     "The function '%s' had the following error: The JsonPath argument for the "
                     "field '%s' could not be found in the input '%s'",
                     x->root_text, field, in.data);
    bt_buf_fini(&in);
    return BT_EFAULT;
}

/* --- States.Format ------------------------------------------------------------------------ */

/*
 * Expands template t (len bytes). With escapes (a literal template), \X stands for X and an
 * escaped brace is never a placeholder. A brace that is not part of "{}" is an error, as is a
 * placeholder count that differs from the argument count (BT_EINVAL); BT_ELIMIT for an
 * argument too deep to print.
 */
static int format_expand(const char *t, size_t len, bool escapes, json_t **vals, size_t n_vals,
                         bt_buf *out)
{
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (escapes && c == '\\' && i + 1 < len) {
            bt_buf_putc(out, t[++i]);
            continue;
        }
        if (c == '{') {
            if (i + 1 >= len || t[i + 1] != '}' || used == n_vals)
                return BT_EINVAL;
            if (put_text(out, vals[used++], 1) != 0)
                return BT_ELIMIT;
            i++;
            continue;
        }
        if (c == '}')
            return BT_EINVAL;
        bt_buf_putc(out, c);
    }
    return used == n_vals ? 0 : BT_EINVAL;
}

static int fn_format(eval_ctx *x, const intr_call *c, json_t **v, size_t n, json_t **out)
{
    if (n < 1)
        return invalid(x, FN_FORMAT);
    const intr_arg *t = &c->args[0];
    bt_buf b;
    bt_buf_init(&b);
    int rc;
    if (t->kind == ARG_LITERAL && t->raw)
        rc = format_expand(t->raw, strlen(t->raw), true, v + 1, n - 1, &b);
    else if (json_is_string(v[0]))
        rc = format_expand(json_string_value(v[0]), json_string_length(v[0]), false, v + 1, n - 1,
                           &b);
    else
        rc = BT_EINVAL;
    if (rc != 0) {
        bt_buf_fini(&b);
        return rc == BT_ELIMIT ? too_deep(x) : invalid(x, FN_FORMAT);
    }
    *out = take_string(&b);
    return 0;
}

/* --- JSON ---------------------------------------------------------------------------------- */

static int fn_string_to_json(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_string(v[0]))
        return invalid(x, FN_STRING_TO_JSON);
    const char *s = json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    size_t i = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (i == len) { /* AWS parses "" (and blank text) to null */
        *out = json_null();
        return 0;
    }
    json_error_t jerr;
    json_t *r = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (r == NULL)
        return invalid(x, FN_STRING_TO_JSON);
    *out = r;
    return 0;
}

static int fn_json_to_string(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1)
        return invalid(x, FN_JSON_TO_STRING);
    bt_buf b;
    bt_buf_init(&b);
    if (put_json(&b, v[0], 1) != 0) {
        bt_buf_fini(&b);
        return too_deep(x);
    }
    *out = take_string(&b);
    return 0;
}

static int fn_json_merge(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    /* Only the shallow merge exists; AWS treats any third argument but true as "shallow". */
    if (n != 3 || !json_is_object(v[0]) || !json_is_object(v[1]) || json_is_true(v[2]))
        return invalid(x, FN_JSON_MERGE);
    json_t *r = json_copy(v[0]);
    json_object_update(r, v[1]);
    *out = r;
    return 0;
}

/* --- Arrays -------------------------------------------------------------------------------- */

static int fn_array(json_t **v, size_t n, json_t **out)
{
    json_t *r = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(r, v[i]);
    *out = r;
    return 0;
}

static int fn_array_partition(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t size;
    if (n != 2 || !json_is_array(v[0]) || !int32_truncated(v[1], &size) || size <= 0)
        return invalid(x, FN_ARRAY_PARTITION);
    json_t *r = json_array();
    size_t len = json_array_size(v[0]);
    for (size_t i = 0; i < len; i += (size_t)size) {
        json_t *chunk = json_array();
        for (size_t k = i; k < len && k - i < (size_t)size; k++)
            json_array_append(chunk, json_array_get(v[0], k));
        json_array_append_new(r, chunk);
    }
    *out = r;
    return 0;
}

/* AWS compares as text here (true matches "true", key order matters). */
static int fn_array_contains(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 2 || !json_is_array(v[0]))
        return invalid(x, FN_ARRAY_CONTAINS);
    bt_buf want, item;
    bt_buf_init(&want);
    bt_buf_init(&item);
    int rc = put_text(&want, v[1], 1);
    bool found = false;
    for (size_t i = 0; i < json_array_size(v[0]) && !found && rc == 0; i++) {
        bt_buf_reset(&item);
        rc = put_text(&item, json_array_get(v[0], i), 1);
        found = rc == 0 && item.len == want.len &&
                memcmp(item.data ? item.data : "", want.data ? want.data : "", want.len) == 0;
    }
    bt_buf_fini(&want);
    bt_buf_fini(&item);
    if (rc != 0)
        return too_deep(x);
    *out = json_boolean(found);
    return 0;
}

static int fn_array_range(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t first, last, step;
    if (n != 3 || !int32_truncated(v[0], &first) || !int32_truncated(v[1], &last) ||
        !int32_truncated(v[2], &step) || step == 0)
        return invalid(x, FN_ARRAY_RANGE);
    int64_t count = 0;
    if (step > 0 && last >= first)
        count = ((int64_t)last - first) / step + 1;
    else if (step < 0 && last <= first)
        count = ((int64_t)first - last) / -(int64_t)step + 1;
    if (count > MAX_ARRAY_ITEMS)
        return invalid(x, FN_ARRAY_RANGE);
    json_t *r = json_array();
    for (int64_t i = 0; i < count; i++)
        json_array_append_new(r, json_integer((json_int_t)(first + i * step)));
    *out = r;
    return 0;
}

static int fn_array_get_item(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t index;
    if (n != 2 || !json_is_array(v[0]) || !int32_truncated(v[1], &index))
        return invalid(x, FN_ARRAY_GET_ITEM);
    size_t len = json_array_size(v[0]);
    if (len == 0) { /* observed: AWS yields null for any index into an empty array */
        *out = json_null();
        return 0;
    }
    if (index < 0 || (size_t)index >= len)
        return invalid(x, FN_ARRAY_GET_ITEM);
    *out = json_incref(json_array_get(v[0], (size_t)index));
    return 0;
}

static int fn_array_length(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_array(v[0]))
        return invalid(x, FN_ARRAY_LENGTH);
    *out = json_integer((json_int_t)json_array_size(v[0]));
    return 0;
}

/* Structural hash consistent with json_equal (object member order does not matter). */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static uint64_t json_hash(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        uint64_t h = 0x0b;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)(uintptr_t)v, key, val)
        {
            h += mix64(hash_bytes(key, strlen(key)) ^ json_hash(val));
        }
        return mix64(h);
    }
    case JSON_ARRAY: {
        uint64_t h = 0x0a;
        for (size_t i = 0; i < json_array_size(v); i++)
            h = mix64(h * 31 + json_hash(json_array_get(v, i)));
        return h;
    }
    case JSON_STRING:
        return hash_bytes(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return mix64((uint64_t)json_integer_value(v) ^ 0x1);
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t bits;
        if (d == 0)
            d = 0; /* -0.0 equals 0.0 */
        memcpy(&bits, &d, sizeof(bits));
        return mix64(bits ^ 0x2);
    }
    case JSON_TRUE:
        return 0x3;
    case JSON_FALSE:
        return 0x4;
    case JSON_NULL:
        return 0x5;
    }
    return 0;
}

/*
 * Duplicates removed, first occurrence kept. (AWS returns the survivors in Java HashSet
 * order, which is not reproduced.)
 */
static int fn_array_unique(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_array(v[0]))
        return invalid(x, FN_ARRAY_UNIQUE);
    size_t len = json_array_size(v[0]);
    size_t nb = 16;
    while (nb < len * 2)
        nb *= 2;
    size_t *head = bt_xmalloc(nb * sizeof(*head)); /* bucket -> 1 + index into kept */
    size_t *next = bt_xmalloc((len ? len : 1) * sizeof(*next));
    uint64_t *hashes = bt_xmalloc((len ? len : 1) * sizeof(*hashes));
    memset(head, 0, nb * sizeof(*head));
    json_t *r = json_array();
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v[0], i);
        uint64_t h = json_hash(e);
        size_t bucket = (size_t)(h & (nb - 1));
        bool dup = false;
        for (size_t k = head[bucket]; k != 0 && !dup; k = next[k - 1])
            dup = hashes[k - 1] == h && json_equal(json_array_get(r, k - 1), e);
        if (dup)
            continue;
        size_t idx = json_array_size(r);
        json_array_append(r, e);
        hashes[idx] = h;
        next[idx] = head[bucket];
        head[bucket] = idx + 1;
    }
    free(head);
    free(next);
    free(hashes);
    *out = r;
    return 0;
}

/* --- Encoding and hashing ------------------------------------------------------------------ */

static int fn_base64_encode(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n != 1 || !json_is_string(v[0]))
        return invalid(x, FN_BASE64_ENCODE);
    const unsigned char *s = (const unsigned char *)json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    if (utf16_length((const char *)s, len) > MAX_STRING_UNITS)
        return invalid(x, FN_BASE64_ENCODE);
    bt_buf b;
    bt_buf_init(&b);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            w |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            w |= s[i + 2];
        char q[4] = {alphabet[(w >> 18) & 63], alphabet[(w >> 12) & 63], '=', '='};
        if (i + 1 < len)
            q[2] = alphabet[(w >> 6) & 63];
        if (i + 2 < len)
            q[3] = alphabet[w & 63];
        bt_buf_append(&b, q, 4);
    }
    *out = take_string(&b);
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/*
 * Lenient like the decoder AWS uses: characters outside the alphabet are skipped, '=' ends
 * the data, and a partial final group yields the bytes it completes.
 */
static int fn_base64_decode(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_string(v[0]))
        return invalid(x, FN_BASE64_DECODE);
    const unsigned char *s = (const unsigned char *)json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    if (utf16_length((const char *)s, len) > MAX_STRING_UNITS)
        return invalid(x, FN_BASE64_DECODE);
    unsigned char *bytes = bt_xmalloc(len / 4 * 3 + 3);
    size_t nb = 0;
    uint32_t acc = 0;
    int have = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        int d = b64_value(s[i]);
        if (d < 0)
            continue;
        acc = (acc << 6) | (uint32_t)d;
        if (++have == 4) {
            bytes[nb++] = (unsigned char)(acc >> 16);
            bytes[nb++] = (unsigned char)(acc >> 8);
            bytes[nb++] = (unsigned char)acc;
            acc = 0;
            have = 0;
        }
    }
    if (have == 2) {
        bytes[nb++] = (unsigned char)(acc >> 4);
    } else if (have == 3) {
        bytes[nb++] = (unsigned char)(acc >> 10);
        bytes[nb++] = (unsigned char)(acc >> 2);
    }
    bt_buf b;
    bt_buf_init(&b);
    put_utf8_lossy(&b, bytes, nb);
    free(bytes);
    *out = take_string(&b);
    return 0;
}

static int fn_hash(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } algorithms[] = {
        {"MD5", EVP_md5},        {"SHA-1", EVP_sha1},     {"SHA-256", EVP_sha256},
        {"SHA-384", EVP_sha384}, {"SHA-512", EVP_sha512},
    };
    if (n != 2 || !json_is_string(v[1]))
        return invalid(x, FN_HASH);
    const EVP_MD *md = NULL;
    for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
        if (strcmp(json_string_value(v[1]), algorithms[i].name) == 0)
            md = algorithms[i].md();
    }
    if (md == NULL)
        return invalid(x, FN_HASH);
    /* AWS hashes a non-string value's text form rather than rejecting it. */
    bt_buf data;
    bt_buf_init(&data);
    if (put_text(&data, v[0], 1) != 0) {
        bt_buf_fini(&data);
        return too_deep(x);
    }
    if (utf16_length(data.data ? data.data : "", data.len) > MAX_STRING_UNITS) {
        bt_buf_fini(&data);
        return invalid(x, FN_HASH);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int ok = EVP_Digest(data.data ? data.data : "", data.len, digest, &dlen, md, NULL);
    bt_buf_fini(&data);
    if (!ok)
        return invalid(x, FN_HASH);
    static const char hex[] = "0123456789abcdef";
    char text[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned int i = 0; i < dlen; i++) {
        text[2 * i] = hex[digest[i] >> 4];
        text[2 * i + 1] = hex[digest[i] & 15];
    }
    text[2 * dlen] = '\0';
    *out = json_string(text);
    return 0;
}

/* --- Math ---------------------------------------------------------------------------------- */

/* A random integer in [start, end): the end is exclusive, as AWS behaves. */
static int fn_math_random(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t start, end, seed = 0;
    if ((n != 2 && n != 3) || !int32_truncated(v[0], &start) || !int32_truncated(v[1], &end) ||
        start >= end || (n == 3 && !int32_truncated(v[2], &seed)))
        return invalid(x, FN_MATH_RANDOM);
    uint64_t span = (uint64_t)((int64_t)end - start);
    uint64_t r;
    if (n == 3) {
        bt_rand rng;
        bt_rand_seed(&rng, (uint64_t)(int64_t)seed);
        r = bt_rand_next(&rng);
    } else {
        r = next_random(x);
    }
    *out = json_integer((json_int_t)((int64_t)start + (int64_t)(r % span)));
    return 0;
}

static int fn_math_add(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t a, b;
    if (n != 2 || !int32_rounded(v[0], &a) || !int32_rounded(v[1], &b))
        return invalid(x, FN_MATH_ADD);
    int64_t sum = (int64_t)a + b;
    if (sum < INT32_MIN || sum > INT32_MAX)
        return invalid(x, FN_MATH_ADD);
    *out = json_integer((json_int_t)sum);
    return 0;
}

/* --- Strings ------------------------------------------------------------------------------- */

/* Java StringTokenizer semantics: every character of the separator is a delimiter and empty
 * tokens are dropped. */
static int fn_string_split(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 2 || !json_is_string(v[0]) || !json_is_string(v[1]))
        return invalid(x, FN_STRING_SPLIT);
    const char *s = json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    const char *d = json_string_value(v[1]);
    size_t dlen = json_string_length(v[1]);
    json_t *r = json_array();
    size_t tok = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t w = utf8_next(s, len, i, &cp);
        bool is_delim = false;
        for (size_t k = 0; k < dlen && !is_delim;) {
            uint32_t dc;
            k += utf8_next(d, dlen, k, &dc);
            is_delim = dc == cp;
        }
        if (is_delim) {
            if (i > tok)
                json_array_append_new(r, json_stringn(s + tok, i - tok));
            tok = i + w;
        }
        i += w;
    }
    if (len > tok)
        json_array_append_new(r, json_stringn(s + tok, len - tok));
    *out = r;
    return 0;
}

static int fn_uuid(eval_ctx *x, size_t n, json_t **out)
{
    if (n != 0)
        return invalid(x, FN_UUID);
    uint8_t bytes[16];
    for (int half = 0; half < 2; half++) {
        uint64_t r = next_random(x);
        for (int i = 0; i < 8; i++)
            bytes[half * 8 + i] = (uint8_t)(r >> (8 * i));
    }
    char text[37];
    bt_uuid_format(bytes, text);
    *out = json_string(text);
    return 0;
}

static int apply(eval_ctx *x, const intr_call *c, json_t **v, size_t n, json_t **out)
{
    switch (c->fn) {
    case FN_FORMAT:
        return fn_format(x, c, v, n, out);
    case FN_STRING_TO_JSON:
        return fn_string_to_json(x, v, n, out);
    case FN_JSON_TO_STRING:
        return fn_json_to_string(x, v, n, out);
    case FN_ARRAY:
        return fn_array(v, n, out);
    case FN_ARRAY_PARTITION:
        return fn_array_partition(x, v, n, out);
    case FN_ARRAY_CONTAINS:
        return fn_array_contains(x, v, n, out);
    case FN_ARRAY_RANGE:
        return fn_array_range(x, v, n, out);
    case FN_ARRAY_GET_ITEM:
        return fn_array_get_item(x, v, n, out);
    case FN_ARRAY_LENGTH:
        return fn_array_length(x, v, n, out);
    case FN_ARRAY_UNIQUE:
        return fn_array_unique(x, v, n, out);
    case FN_BASE64_ENCODE:
        return fn_base64_encode(x, v, n, out);
    case FN_BASE64_DECODE:
        return fn_base64_decode(x, v, n, out);
    case FN_HASH:
        return fn_hash(x, v, n, out);
    case FN_JSON_MERGE:
        return fn_json_merge(x, v, n, out);
    case FN_MATH_RANDOM:
        return fn_math_random(x, v, n, out);
    case FN_MATH_ADD:
        return fn_math_add(x, v, n, out);
    case FN_STRING_SPLIT:
        return fn_string_split(x, v, n, out);
    case FN_UUID:
        return fn_uuid(x, n, out);
    case FN_COUNT:
        break;
    }
    return invalid(x, c->fn);
}

static int eval_call(eval_ctx *x, const intr_call *c, json_t **out)
{
    json_t **vals = bt_xcalloc(c->n_args ? c->n_args : 1, sizeof(*vals));
    int rc = 0;
    for (size_t i = 0; i < c->n_args && rc == 0; i++)
        rc = eval_arg(x, &c->args[i], &vals[i]);
    json_t *r = NULL;
    if (rc == 0)
        rc = apply(x, c, vals, c->n_args, &r);
    for (size_t i = 0; i < c->n_args; i++)
        json_decref(vals[i]);
    free(vals);
    if (rc == 0 && r == NULL) /* a result jansson refused (invalid UTF-8 cannot occur) */
        rc = invalid(x, c->fn);
    if (rc != 0)
        return BT_EFAULT;
    *out = r;
    return 0;
}

int intr_eval(const intr_call *c, const intr_env *env, json_t **out, bt_fault *fault)
{
    *out = NULL;
    eval_ctx x = {env, c->text ? c->text : fn_names[c->fn], fault};
    return eval_call(&x, c, out);
}
