/*
 * stringify.c — truthiness ($boolean's rules) and text ($string's): JSON as
 * JSON.stringify writes it with JSONata's replacer (numbers to 15 significant digits in
 * JavaScript's notation, functions as "", undefined members left out), compact or indented.
 */
#include "jsonata/jsonata_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int truthy(jn_ctx *cx, const jn_val *v, int depth)
{
    for (;;) {
        if (cx == NULL) {
            if (depth > JN_MAX_NESTING)
                return 0; /* no context to report it: a walk this deep is refused */
        } else {
            if (depth > JN_MAX_NESTING)
                jn__check_stack(cx); /* beyond the stack's room: U1001 */
            jn__tick(cx);
        }
        switch (jn_typeof(v)) {
        case JN_UNDEFINED:
            return -1;
        case JN_ARRAY:
            if (v->u.arr.len == 1) { /* the truth of the only item */
                v = v->u.arr.items[0];
                depth++;
                continue;
            }
            for (size_t i = 0; i < v->u.arr.len; i++)
                if (truthy(cx, v->u.arr.items[i], depth + 1) == 1)
                    return 1;
            return 0;
        case JN_STRING:
            return v->u.str.len > 0;
        case JN_NUMBER:
            return jn_num(v) != 0 && !isnan(jn_num(v));
        case JN_OBJECT:
            return jn_obj_len(v) > 0;
        case JN_BOOL:
            return v->u.b;
        default:
            return 0;
        }
    }
}

int jn_truthy(const jn_val *v)
{
    return truthy(NULL, v, 0);
}

int jn__truthy(jn_ctx *cx, const jn_val *v)
{
    return truthy(cx, v, 0);
}

static void write_num15(jn_sbuf *b, double d)
{
    char out[40];
    jn_num_to_js15(d, out, sizeof out);
    jn_sb_puts(b, out);
}

static void write_str(jn_sbuf *b, const char *s, size_t len)
{
    jn_sb_putc(b, '"');
    size_t run = 0; /* start of the bytes that need no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jn_sb_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            jn_sb_puts(b, "\\\"");
            break;
        case '\\':
            jn_sb_puts(b, "\\\\");
            break;
        case '\n':
            jn_sb_puts(b, "\\n");
            break;
        case '\r':
            jn_sb_puts(b, "\\r");
            break;
        case '\t':
            jn_sb_puts(b, "\\t");
            break;
        case '\b':
            jn_sb_puts(b, "\\b");
            break;
        case '\f':
            jn_sb_puts(b, "\\f");
            break;
        default:
            jn_sb_printf(b, "\\u%04x", c);
        }
    }
    jn_sb_append(b, s + run, len - run);
    jn_sb_putc(b, '"');
}

static void indent(jn_sbuf *b, int level)
{
    jn_sb_putc(b, '\n');
    for (int i = 0; i < level; i++)
        jn_sb_puts(b, "  ");
}

/* JSON.stringify with JSONata's replacer: numbers to 15 significant digits, functions as
 * "", undefined members left out. */
static void stringify(jn_ctx *cx, jn_sbuf *b, const jn_val *v, bool pretty, int level)
{
    if ((level & 63) == 63)
        jn__check_stack(cx);
    jn__tick(cx);
    switch (jn_typeof(v)) {
    case JN_UNDEFINED:
    case JN_NULL:
        jn_sb_puts(b, "null");
        return;
    case JN_BOOL:
        jn_sb_puts(b, v->u.b ? "true" : "false");
        return;
    case JN_NUMBER: {
        double d = jn_num(v);
        if (!isfinite(d))
            jn_throw(cx, "D1001", v, "Number out of range");
        write_num15(b, d);
        return;
    }
    case JN_STRING:
        write_str(b, v->u.str.s, v->u.str.len);
        return;
    case JN_FUNCTION:
        jn_sb_puts(b, "\"\"");
        return;
    case JN_ARRAY: {
        if (v->u.arr.len == 0) {
            jn_sb_puts(b, "[]");
            return;
        }
        jn_sb_putc(b, '[');
        for (size_t i = 0; i < v->u.arr.len; i++) {
            if (i)
                jn_sb_putc(b, ',');
            if (pretty)
                indent(b, level + 1);
            stringify(cx, b, v->u.arr.items[i], pretty, level + 1);
        }
        if (pretty)
            indent(b, level);
        jn_sb_putc(b, ']');
        return;
    }
    case JN_OBJECT: {
        jn_entry *e;
        bool first = true;
        jn_sb_putc(b, '{');
        for (size_t i = 0; jn_obj_next(v, &i, &e);) {
            if (!first)
                jn_sb_putc(b, ',');
            first = false;
            if (pretty)
                indent(b, level + 1);
            write_str(b, e->key, e->klen);
            jn_sb_putc(b, ':');
            if (pretty)
                jn_sb_putc(b, ' ');
            stringify(cx, b, e->val, pretty, level + 1);
        }
        if (pretty && !first)
            indent(b, level);
        jn_sb_putc(b, '}');
        return;
    }
    }
}

jn_val *jn_to_string(jn_ctx *cx, jn_val *v, bool pretty)
{
    switch (jn_typeof(v)) {
    case JN_UNDEFINED:
        return NULL;
    case JN_STRING:
        return v;
    case JN_FUNCTION:
        return jn_string_ref(cx->arena, "", 0);
    case JN_NUMBER:
        if (!isfinite(jn_num(v)))
            jn_throw(cx, "D3001", v, "Attempting to invoke string function on Infinity or NaN");
        break;
    default:
        break;
    }
    if (jn_is_arr(v) && (v->flags & JN_ARR_OUTER) && v->u.arr.len > 0)
        v = v->u.arr.items[0];
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    stringify(cx, &b, v, pretty, 0);
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}
