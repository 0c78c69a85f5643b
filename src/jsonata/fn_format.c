/*
 * fn_format.c — the picture-string functions (docs.jsonata.org/numeric-functions and
 * date-time-functions): $formatNumber, $formatBase, $formatInteger, $parseInteger,
 * $fromMillis and $toMillis, bound to the plain C of fmt.h.
 *
 * As in the reference, an undefined first argument gives undefined; so does an undefined
 * picture where the picture is required (the reference fails there with a JavaScript
 * TypeError, which has no JSONata code). A picture error is thrown with fmt's code.
 */
#include "jsonata/fmt.h"
#include "jsonata/jsonata_int.h"

#include "base/buf.h"

#include <math.h>
#include <string.h>

/* A NUL-terminated arena copy of string value v, or NULL when v is undefined. */
static const char *cstr(jn_ctx *cx, const jn_val *v)
{
    if (v == NULL)
        return NULL;
    return jn_strndup(cx->arena, v->u.str.s, v->u.str.len);
}

/* The text in out as a string value (out released); or the error in err thrown. */
static jn_val *finish(jn_ctx *cx, int rc, bt_buf *out, const jfmt_err *err, const jn_val *culprit)
{
    if (rc != 0) {
        bt_buf_fini(out);
        jn_throw(cx, err->code[0] ? err->code : "D3130", culprit, "%s", err->msg);
    }
    jn_val *r = jn_string(cx->arena, out->data ? out->data : "", out->len);
    bt_buf_fini(out);
    return r;
}

/* $formatNumber(number, picture [, options]) — "<n-so?:s>" */
static jn_val *f_format_number(jn_ctx *cx, jn_val **a, size_t n)
{
    if (a[0] == NULL || a[1] == NULL)
        return NULL;
    const char *picture = cstr(cx, a[1]);
    jfmt_number_opts opts;
    memset(&opts, 0, sizeof opts);
    if (n > 2 && a[2] != NULL) {
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(a[2], &i, &e);) {
            /* The reference copies every entry over its defaults; a value that is not a
             * string is taken as its $string text. */
            jn_val *v = jn_is_str(e->val) ? e->val : jn_to_string(cx, e->val, false);
            if (v == NULL)
                continue;
            const char *key = jn_strndup(cx->arena, e->key, e->klen);
            (void)jfmt_number_opts_set(&opts, key, cstr(cx, v));
        }
    }
    bt_buf out;
    bt_buf_init(&out);
    jfmt_err err = {"", ""};
    int rc = jfmt_format_number(jn_num(a[0]), picture, &opts, &out, &err);
    return finish(cx, rc, &out, &err, a[1]);
}

/* $formatBase(number [, radix]) — "<n-n?:s>" */
static jn_val *f_format_base(jn_ctx *cx, jn_val **a, size_t n)
{
    if (a[0] == NULL)
        return NULL;
    bool has_radix = n > 1 && a[1] != NULL;
    bt_buf out;
    bt_buf_init(&out);
    jfmt_err err = {"", ""};
    int rc = jfmt_format_base(jn_num(a[0]), has_radix, has_radix ? jn_num(a[1]) : 10, &out, &err);
    return finish(cx, rc, &out, &err, has_radix ? a[1] : NULL);
}

/* $formatInteger(number, picture) — "<n-s:s>" */
static jn_val *f_format_integer(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL || a[1] == NULL)
        return NULL;
    bt_buf out;
    bt_buf_init(&out);
    jfmt_err err = {"", ""};
    int rc = jfmt_format_integer(jn_num(a[0]), cstr(cx, a[1]), &out, &err);
    return finish(cx, rc, &out, &err, a[1]);
}

/* $parseInteger(string, picture) — "<s-s:n>". Text that is not a number in the picture's
 * form gives NaN, as in the reference: a number value that JSON output writes as null. */
static jn_val *f_parse_integer(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL || a[1] == NULL)
        return NULL;
    double v;
    jfmt_err err = {"", ""};
    if (jfmt_parse_integer(cstr(cx, a[0]), cstr(cx, a[1]), &v, &err) != 0)
        jn_throw(cx, err.code[0] ? err.code : "D3130", a[1], "%s", err.msg);
    return jn_number(cx->arena, v);
}

jn_val *jn__from_millis(jn_ctx *cx, double ms, jn_val *picture, jn_val *timezone)
{
    bt_buf out;
    bt_buf_init(&out);
    jfmt_err err = {"", ""};
    int rc = jfmt_from_millis(ms, cstr(cx, picture), cstr(cx, timezone), &out, &err);
    return finish(cx, rc, &out, &err, picture);
}

/* $fromMillis(number [, picture [, timezone]]) — "<n-s?s?:s>" */
static jn_val *f_from_millis(jn_ctx *cx, jn_val **a, size_t n)
{
    if (a[0] == NULL)
        return NULL;
    return jn__from_millis(cx, jn_num(a[0]), n > 1 ? a[1] : NULL, n > 2 ? a[2] : NULL);
}

/* $toMillis(timestamp [, picture]) — "<s-s?:n>". Without a picture the timestamp must be
 * ISO 8601 (D3110); with one, text that does not match it gives undefined. */
static jn_val *f_to_millis(jn_ctx *cx, jn_val **a, size_t n)
{
    if (a[0] == NULL)
        return NULL;
    jn_val *picture = n > 1 ? a[1] : NULL;
    bool is_defined = true;
    double ms = 0;
    jfmt_err err = {"", ""};
    if (jfmt_to_millis(cstr(cx, a[0]), cstr(cx, picture), &is_defined, &ms, &err) != 0)
        jn_throw(cx, err.code[0] ? err.code : "D3110", picture ? picture : a[0], "%s", err.msg);
    if (!is_defined)
        return NULL;
    return jn_number(cx->arena, ms);
}

const jn_builtin jn__fn_format[] = {
    {"formatNumber", "<n-so?:s>", f_format_number},
    {"formatBase", "<n-n?:s>", f_format_base},
    {"formatInteger", "<n-s:s>", f_format_integer},
    {"parseInteger", "<s-s:n>", f_parse_integer},
    {"fromMillis", "<n-s?s?:s>", f_from_millis},
    {"toMillis", "<s-s?:n>", f_to_millis},
    {NULL, NULL, NULL},
};
