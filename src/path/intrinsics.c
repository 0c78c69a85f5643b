/*
 * intrinsics.c — the ASL intrinsic functions (States.*): parses a call into a tree once
 * (intr_compile) and evaluates it (intr_eval), dispatching to the function families of
 * intrinsics_{string,json,array,encode,math}.c. Called by payload.c for ".$" values and by the
 * state compiler for ErrorPath/CausePath. Arguments are resolved through jsonpath.h; every
 * value is a jansson json_t.
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
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "path/intrinsics_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH   10   /* AWS: up to 10 nested intrinsic functions per field */
#define MAX_ARGS    1000 /* keeps a hostile definition's argument vector bounded */
#define ERR_RUNTIME "States.Runtime"

static const char *const fn_names[FN_COUNT] = {
#define X(id, name) "States." name,
    INTR_FUNCTIONS(X)
#undef X
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
/* Evaluation                                                                                 */
/* ------------------------------------------------------------------------------------------ */

int intr__invalid(eval_ctx *x, intr_fn fn)
{
    const char *name = (size_t)fn < FN_COUNT ? fn_names[fn] : "States";
    return bt_fault_set(x->fault, ERR_RUNTIME, "Invalid arguments in %s", name);
}

/* A value too deep to print (intr__put_json/intr__put_text said BT_ELIMIT). */
int intr__too_deep(eval_ctx *x)
{
    return bt_fault_set(x->fault, ERR_RUNTIME, "The function '%s' had the following error: %s",
                        x->root_text, BT_JSON_TOO_DEEP);
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
        rc = intr__put_json(&in, penv->input, 1);
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

static int apply(eval_ctx *x, const intr_call *c, json_t **v, size_t n, json_t **out)
{
    switch (c->fn) {
    case FN_FORMAT:
        return intr__fn_format(x, c, v, n, out);
    case FN_STRING_TO_JSON:
        return intr__fn_string_to_json(x, v, n, out);
    case FN_JSON_TO_STRING:
        return intr__fn_json_to_string(x, v, n, out);
    case FN_ARRAY:
        return intr__fn_array(v, n, out);
    case FN_ARRAY_PARTITION:
        return intr__fn_array_partition(x, v, n, out);
    case FN_ARRAY_CONTAINS:
        return intr__fn_array_contains(x, v, n, out);
    case FN_ARRAY_RANGE:
        return intr__fn_array_range(x, v, n, out);
    case FN_ARRAY_GET_ITEM:
        return intr__fn_array_get_item(x, v, n, out);
    case FN_ARRAY_LENGTH:
        return intr__fn_array_length(x, v, n, out);
    case FN_ARRAY_UNIQUE:
        return intr__fn_array_unique(x, v, n, out);
    case FN_BASE64_ENCODE:
        return intr__fn_base64_encode(x, v, n, out);
    case FN_BASE64_DECODE:
        return intr__fn_base64_decode(x, v, n, out);
    case FN_HASH:
        return intr__fn_hash(x, v, n, out);
    case FN_JSON_MERGE:
        return intr__fn_json_merge(x, v, n, out);
    case FN_MATH_RANDOM:
        return intr__fn_math_random(x, v, n, out);
    case FN_MATH_ADD:
        return intr__fn_math_add(x, v, n, out);
    case FN_STRING_SPLIT:
        return intr__fn_string_split(x, v, n, out);
    case FN_UUID:
        return intr__fn_uuid(x, n, out);
    case FN_COUNT:
        break;
    }
    return intr__invalid(x, c->fn);
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
        rc = intr__invalid(x, c->fn);
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
