/*
 * intrinsics_print.c — prints values the way the Java service does: numbers as Java's
 * Double.toString, compact JSON as Jackson writes it (JsonToString, a cause's input) and
 * Java's toString of a value (Format, ArrayContains, Hash). Called by intrinsics.c and the
 * function families. Printing stops with BT_ELIMIT below BT_JSON_MAX_DEPTH, so the text
 * always reads back and a hostile nesting is never followed or printed in part.
 */
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "path/intrinsics_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
int intr__put_json(bt_buf *b, const json_t *v, int depth)
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
            if (intr__put_json(b, val, depth + 1) != 0)
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
            if (intr__put_json(b, json_array_get(v, i), depth + 1) != 0)
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
 * objects print as {k=v, k2=v2} and arrays as [a, b]. Same depth rule as intr__put_json.
 */
int intr__put_text(bt_buf *b, const json_t *v, int depth)
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
            if (intr__put_text(b, val, depth + 1) != 0)
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
            if (intr__put_text(b, json_array_get(v, i), depth + 1) != 0)
                return BT_ELIMIT;
        }
        bt_buf_putc(b, ']');
        break;
    case JSON_STRING:
        bt_buf_append(b, json_string_value(v), json_string_length(v));
        break;
    default:
        return intr__put_json(b, v, depth);
    }
    return 0;
}

json_t *intr__take_string(bt_buf *b)
{
    json_t *s = json_stringn(b->data ? b->data : "", b->len);
    bt_buf_fini(b);
    return s;
}
