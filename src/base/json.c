/*
 * json.c — compact JSON writer with shortest round-trip reals (json.h).
 */
#include "base/json.h"
#include "base/err.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times in seconds with milliseconds (every timestamp Baton writes) print as the loop below
 * would print them — below 1e12 their 15 significant digits show them exactly — without
 * printf's cost: the integer part, then the millisecond digits without trailing zeros. */
static bool format_millis(double d, char *out, size_t outlen)
{
    if (!(d > -1e12 && d < 1e12) || (d == 0 && signbit(d)) || outlen < 24)
        return false;
    long long ms = llround(d * 1000.0);
    if ((double)ms / 1000.0 != d)
        return false;
    bool neg = ms < 0;
    unsigned long long a = (unsigned long long)(neg ? -ms : ms);
    unsigned frac = (unsigned)(a % 1000);
    int n = snprintf(out, outlen, "%s%llu.", neg ? "-" : "", a / 1000);
    char digits[4] = {(char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
                      (char)('0' + frac % 10), 0};
    int keep = 3;
    while (keep > 1 && digits[keep - 1] == '0')
        keep--;
    memcpy(out + n, digits, (size_t)keep);
    out[n + keep] = '\0';
    return true;
}

void bt_json_format_real(double d, char *out, size_t outlen)
{
    if (!isfinite(d)) {
        snprintf(out, outlen, "null");
        return;
    }
    if (format_millis(d, out, outlen))
        return;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, d);
        if (prec == 17 || strtod(out, NULL) == d)
            break;
    }
    /* keep a real looking like a real, as jansson and AWS do: 2 → 2.0 */
    if (strpbrk(out, ".eEn") == NULL) {
        size_t n = strlen(out);
        if (n + 2 < outlen)
            memcpy(out + n, ".0", 3);
    }
}

void bt_json_write_string(bt_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF"; /* \u001F, as Jackson (AWS) writes */
    bt_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
            break;
        }
        if (esc) {
            bt_buf_append(b, s + start, i - start);
            bt_buf_puts(b, esc);
            start = i + 1;
        }
    }
    bt_buf_append(b, s + start, len - start);
    bt_buf_putc(b, '"');
}

_Static_assert(BT_JSON_MAX_DEPTH == 2048, "BT_JSON_TOO_DEEP names the limit");

/* depth is v's level, 1 at the top: jansson's parser refuses any value below level 2048. */
static int write_value(bt_buf *b, const json_t *v, int depth)
{
    char num[40];
    if (depth > BT_JSON_MAX_DEPTH)
        return BT_ELIMIT;
    if (v == NULL) {
        bt_buf_puts(b, "null");
        return 0;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        bt_buf_putc(b, '{');
        int first = 1;
        const char *k;
        size_t klen;
        json_t *m;
        json_t *obj = (json_t *)(uintptr_t)v; /* iteration does not modify */
        json_object_keylen_foreach(obj, k, klen, m)
        {
            if (!first)
                bt_buf_putc(b, ',');
            first = 0;
            bt_json_write_string(b, k, klen);
            bt_buf_putc(b, ':');
            int rc = write_value(b, m, depth + 1);
            if (rc != 0)
                return rc;
        }
        bt_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        bt_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                bt_buf_putc(b, ',');
            int rc = write_value(b, json_array_get(v, i), depth + 1);
            if (rc != 0)
                return rc;
        }
        bt_buf_putc(b, ']');
        break;
    }
    case JSON_STRING:
        bt_json_write_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        bt_buf_puts(b, num);
        break;
    case JSON_REAL:
        bt_json_format_real(json_real_value(v), num, sizeof(num));
        bt_buf_puts(b, num);
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

int bt_json_write(bt_buf *b, const json_t *v)
{
    return write_value(b, v, 1);
}

char *bt_json_dumps(const json_t *v)
{
    bt_buf b;
    bt_buf_init(&b);
    if (write_value(&b, v, 1) != 0) {
        bt_buf_fini(&b);
        return NULL;
    }
    return bt_buf_steal(&b);
}
