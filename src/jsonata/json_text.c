/*
 * json_text.c — a JSON document as JavaScript's JSON.stringify writes it (jsonata.h):
 * numbers as Number#toString prints them (0.1, 1e+21, 1e-7, 9007199254740992), strings
 * with only '"', '\\' and control characters escaped (lower-case \u00XX), compact.
 */
#include "base/json.h"
#include "jsonata/fmt.h"
#include "jsonata/jsonata.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void write_string(bt_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    bt_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        bt_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            bt_buf_puts(b, "\\\"");
            break;
        case '\\':
            bt_buf_puts(b, "\\\\");
            break;
        case '\b':
            bt_buf_puts(b, "\\b");
            break;
        case '\f':
            bt_buf_puts(b, "\\f");
            break;
        case '\n':
            bt_buf_puts(b, "\\n");
            break;
        case '\r':
            bt_buf_puts(b, "\\r");
            break;
        case '\t':
            bt_buf_puts(b, "\\t");
            break;
        default: {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            bt_buf_puts(b, u);
        }
        }
    }
    bt_buf_append(b, s + run, len - run);
    bt_buf_putc(b, '"');
}

static int write_value(bt_buf *b, const json_t *v, int depth)
{
    if (depth > BT_JSON_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t klen;
        json_t *m;
        json_t *obj = (json_t *)(uintptr_t)v; /* iteration does not modify */
        bool first = true;
        bt_buf_putc(b, '{');
        json_object_keylen_foreach(obj, k, klen, m)
        {
            if (!first)
                bt_buf_putc(b, ',');
            first = false;
            write_string(b, k, klen);
            bt_buf_putc(b, ':');
            if (write_value(b, m, depth + 1) != 0)
                return -1;
        }
        bt_buf_putc(b, '}');
        return 0;
    }
    case JSON_ARRAY:
        bt_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                bt_buf_putc(b, ',');
            if (write_value(b, json_array_get(v, i), depth + 1) != 0)
                return -1;
        }
        bt_buf_putc(b, ']');
        return 0;
    case JSON_STRING:
        write_string(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
    case JSON_REAL: {
        double d = json_number_value(v);
        if (!isfinite(d)) /* JSON.stringify(Infinity) */
            bt_buf_puts(b, "null");
        else
            jfmt_number(d, b);
        return 0;
    }
    case JSON_TRUE:
        bt_buf_puts(b, "true");
        return 0;
    case JSON_FALSE:
        bt_buf_puts(b, "false");
        return 0;
    case JSON_NULL:
        bt_buf_puts(b, "null");
        return 0;
    }
    return 0;
}

char *jn_json_dumps(const json_t *v)
{
    bt_buf b;
    bt_buf_init(&b);
    if (v == NULL) {
        bt_buf_puts(&b, "null");
    } else if (write_value(&b, v, 1) != 0) {
        bt_buf_fini(&b);
        return NULL;
    }
    return bt_buf_steal(&b);
}
