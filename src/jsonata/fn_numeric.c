/*
 * fn_numeric.c — numeric and aggregation functions (docs.jsonata.org/numeric-functions,
 * aggregation-functions). The picture-string functions ($formatNumber, $formatInteger,
 * $formatBase, $parseInteger) live elsewhere.
 */
#include "jsonata/jsonata_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool full_match_decimal(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    size_t d = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d)
        return false;
    if (i < len && s[i] == '.') {
        i++;
        size_t f = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return false;
    }
    return i == len;
}

static bool radix_literal(const char *s, size_t len, double *out)
{
    if (len < 3 || s[0] != '0')
        return false;
    int base = s[1] == 'x' || s[1] == 'X'   ? 16
               : s[1] == 'o' || s[1] == 'O' ? 8
               : s[1] == 'b' || s[1] == 'B' ? 2
                                            : 0;
    if (base == 0)
        return false;
    double v = 0;
    for (size_t i = 2; i < len; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : 99;
        if (d >= base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static jn_val *f_number(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *v = a[0];
    switch (jn_typeof(v)) {
    case JN_UNDEFINED:
        return NULL;
    case JN_NUMBER:
        return v;
    case JN_BOOL:
        return jn_number(cx->arena, v->u.b ? 1 : 0);
    case JN_STRING: {
        double d;
        if (full_match_decimal(v->u.str.s, v->u.str.len)) {
            d = strtod(jn_strndup(cx->arena, v->u.str.s, v->u.str.len), NULL);
            if (isfinite(d))
                return jn_number(cx->arena, d);
        } else if (radix_literal(v->u.str.s, v->u.str.len, &d)) {
            return jn_number(cx->arena, d);
        }
        break;
    }
    default:
        break;
    }
    jn_throw(cx, "D3030", v, "Unable to cast value to a number: %s", jn__describe(cx, v));
}

static jn_val *f_abs(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return a[0] ? jn_number(cx->arena, fabs(jn_num(a[0]))) : NULL;
}

static jn_val *f_floor(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return a[0] ? jn_number(cx->arena, floor(jn_num(a[0])) + 0.0) : NULL;
}

static jn_val *f_ceil(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL)
        return NULL;
    double d = ceil(jn_num(a[0]));
    return jn_number(cx->arena, d == 0 ? 0 : d);
}

/* Shifts the decimal point of d by k places through its text, as the reference does to
 * avoid the error of multiplying by a power of ten. */
static double shift(double d, int k)
{
    char buf[40];
    jn_num_to_js(d, buf, sizeof buf);
    char *e = strchr(buf, 'e');
    int exp = 0;
    if (e != NULL) {
        exp = atoi(e + 1);
        *e = '\0';
    }
    char out[64];
    snprintf(out, sizeof out, "%se%d", buf, exp + k);
    return strtod(out, NULL);
}

static jn_val *f_round(jn_ctx *cx, jn_val **a, size_t n)
{
    if (a[0] == NULL)
        return NULL;
    double x = jn_num(a[0]);
    double p = n > 1 && a[1] != NULL ? jn_num(a[1]) : 0;
    int prec = p > 400 ? 400 : p < -400 ? -400 : (int)p;
    if (prec)
        x = shift(x, prec);
    double r = floor(x + 0.5);
    double diff = r - x;
    if (fabs(diff) == 0.5 && fabs(fmod(r, 2)) == 1)
        r -= 1;
    if (prec)
        r = shift(r, -prec);
    if (r == 0)
        r = 0;
    return jn_number(cx->arena, r);
}

static jn_val *f_power(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL)
        return NULL;
    double r = a[1] != NULL ? pow(jn_num(a[0]), jn_num(a[1])) : NAN;
    if (!isfinite(r))
        jn_throw(cx, "D3061", a[0],
                 "The power function has resulted in a value that cannot "
                 "be represented as a JSON number");
    return jn_number(cx->arena, r);
}

static jn_val *f_sqrt(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL)
        return NULL;
    double d = jn_num(a[0]);
    if (d < 0)
        jn_throw(cx, "D3060", a[0], "The sqrt function cannot be applied to a negative number");
    return jn_number(cx->arena, sqrt(d));
}

static jn_val *f_random(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)a;
    (void)n;
    return jn_number(cx->arena, (double)rand() / ((double)RAND_MAX + 1));
}

static jn_val *f_sum(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL)
        return NULL;
    double s = 0;
    for (size_t i = 0; i < a[0]->u.arr.len; i++)
        s += jn_num(a[0]->u.arr.items[i]);
    return jn_number(cx->arena, s);
}

static jn_val *extreme(jn_ctx *cx, jn_val *arr, bool max)
{
    if (arr == NULL || arr->u.arr.len == 0)
        return NULL;
    double m = jn_num(arr->u.arr.items[0]);
    for (size_t i = 1; i < arr->u.arr.len; i++) {
        double d = jn_num(arr->u.arr.items[i]);
        if (max ? d > m : d < m)
            m = d;
    }
    return jn_number(cx->arena, m);
}

static jn_val *f_max(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return extreme(cx, a[0], true);
}

static jn_val *f_min(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return extreme(cx, a[0], false);
}

static jn_val *f_average(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL || a[0]->u.arr.len == 0)
        return NULL;
    double s = 0;
    for (size_t i = 0; i < a[0]->u.arr.len; i++)
        s += jn_num(a[0]->u.arr.items[i]);
    return jn_number(cx->arena, s / (double)a[0]->u.arr.len);
}

const jn_builtin jn__fn_numeric[] = {
    {"number", "<(nsb)-:n>", f_number},
    {"abs", "<n-:n>", f_abs},
    {"floor", "<n-:n>", f_floor},
    {"ceil", "<n-:n>", f_ceil},
    {"round", "<n-n?:n>", f_round},
    {"power", "<n-n:n>", f_power},
    {"sqrt", "<n-:n>", f_sqrt},
    {"random", "<:n>", f_random},
    {"sum", "<a<n>:n>", f_sum},
    {"max", "<a<n>:n>", f_max},
    {"min", "<a<n>:n>", f_min},
    {"average", "<a<n>:n>", f_average},
    {NULL, NULL, NULL},
};
