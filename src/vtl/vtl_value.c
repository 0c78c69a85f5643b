/*
 * vtl_value.c — values as Velocity's Java sees them: toString (what a reference renders),
 * truth in #if, == between values, and Java's UTF-16 string lengths. Used by vtl_eval.c
 * and vtl_methods.c. A map prints as Java's {k=v, k2=v2} and a list as [a, b] — not JSON,
 * which is why templates use $input.json for JSON.
 */
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "vtl/vtl_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting of a value printed as text (deeper bodies still render through $input.json). */
#define TEXT_MAX_DEPTH 256

void vtl__put_double(bt_buf *b, double d)
{
    if (isnan(d)) {
        bt_buf_puts(b, "NaN");
        return;
    }
    if (isinf(d)) {
        bt_buf_puts(b, d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (d == 0) {
        bt_buf_puts(b, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    /* The shortest digits that read back as d, then Java's layout: plain for
     * 1e-3 <= |d| < 1e7 (always with a fraction), else d.dddE±n. */
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *q = tmp;
    if (*q == '-') {
        bt_buf_putc(b, '-');
        q++;
    }
    for (; *q != '\0' && *q != 'e'; q++) {
        if (*q >= '0' && *q <= '9' && nd < sizeof(digits) - 1)
            digits[nd++] = *q;
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp10 = *q == 'e' ? atoi(q + 1) : 0;
    double mag = fabs(d);
    if (mag >= 1e-3 && mag < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                bt_buf_putc(b, (size_t)i < nd ? digits[i] : '0');
            bt_buf_putc(b, '.');
            bt_buf_puts(b, (size_t)exp10 + 1 < nd ? digits + exp10 + 1 : "0");
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

static int put_text(bt_buf *b, json_t *v, size_t max, int depth)
{
    if (depth > TEXT_MAX_DEPTH)
        return BT_ELIMIT;
    if (b->len > max)
        return BT_ELIMIT;
    switch (json_typeof(v)) {
    case JSON_STRING:
        bt_buf_append(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        bt_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        vtl__put_double(b, json_real_value(v));
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
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        bt_buf_putc(b, '[');
        json_array_foreach(v, i, item)
        {
            if (i > 0)
                bt_buf_puts(b, ", ");
            int rc = put_text(b, item, max, depth + 1);
            if (rc != 0)
                return rc;
        }
        bt_buf_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        bt_buf_putc(b, '{');
        json_object_foreach(v, key, item)
        {
            if (!first)
                bt_buf_puts(b, ", ");
            first = false;
            bt_buf_puts(b, key);
            bt_buf_putc(b, '=');
            int rc = put_text(b, item, max, depth + 1);
            if (rc != 0)
                return rc;
        }
        bt_buf_putc(b, '}');
        break;
    }
    }
    return b->len > max ? BT_ELIMIT : 0;
}

int vtl__put_text(bt_buf *b, json_t *v, size_t max)
{
    if (v == vtl__input || v == vtl__util)
        return 0;
    return put_text(b, v, max, 1);
}

bool vtl__truthy(const json_t *v)
{
    return v != NULL && !json_is_null(v) && !json_is_false(v);
}

/* Same-typed values by content, counting the values visited against *budget. */
static int equal_content(json_t *a, json_t *b, size_t *budget, int depth, bool *same)
{
    if (*budget == 0 || depth > TEXT_MAX_DEPTH)
        return BT_ELIMIT;
    --*budget;
    *same = false;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return 0;
        for (size_t i = 0; i < n; i++) {
            int rc =
                equal_content(json_array_get(a, i), json_array_get(b, i), budget, depth + 1, same);
            if (rc != 0 || !*same)
                return rc;
        }
        *same = true;
        return 0;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v)
        {
            json_t *w = json_object_get(b, k);
            if (w == NULL)
                return 0;
            int rc = equal_content(v, w, budget, depth + 1, same);
            if (rc != 0 || !*same)
                return rc;
        }
        *same = true;
        return 0;
    }
    *same = json_equal(a, b); /* a scalar */
    return 0;
}

int vtl__equal(json_t *a, json_t *b, size_t max, bool *same)
{
    *same = false;
    if (a == NULL || json_is_null(a) || b == NULL || json_is_null(b)) {
        *same = (a == NULL || json_is_null(a)) && (b == NULL || json_is_null(b));
        return 0;
    }
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            *same = json_integer_value(a) == json_integer_value(b);
        else
            *same = json_number_value(a) == json_number_value(b);
        return 0;
    }
    if (json_typeof(a) == json_typeof(b) || (json_is_boolean(a) && json_is_boolean(b))) {
        if (json_is_boolean(a)) {
            *same = json_typeof(a) == json_typeof(b);
            return 0;
        }
        size_t budget = max;
        return equal_content(a, b, &budget, 0, same);
    }
    /* Different classes: Velocity compares their toString(). */
    bt_buf x, y;
    bt_buf_init(&x);
    bt_buf_init(&y);
    int rc = vtl__put_text(&x, a, max);
    if (rc == 0)
        rc = vtl__put_text(&y, b, max);
    *same = rc == 0 && x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
    bt_buf_fini(&x);
    bt_buf_fini(&y);
    return rc;
}

/* Bytes of the UTF-8 sequence starting with c (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

size_t vtl__utf16_len(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n;) {
        size_t k = seq_len((unsigned char)s[i]);
        units += k == 4 ? 2 : 1;
        i += k;
    }
    return units;
}

size_t vtl__utf16_offset(const char *s, size_t n, size_t idx)
{
    size_t units = 0, i = 0;
    while (i < n && units < idx) {
        size_t k = seq_len((unsigned char)s[i]);
        units += k == 4 ? 2 : 1;
        i += k;
    }
    return i > n ? n : i;
}
