/*
 * jsonpath_lex.c — the JSONPath scanner: error reporting with the position, UTF-8
 * validation, quoted names and strings with Java-style escapes, and integer bounds. Called
 * by the path parser (jsonpath.c) and the filter parser (jsonpath_filter.c); the
 * one-character helpers (jpath__cur, jpath__peek, …) are inline in jsonpath_int.h.
 * Only the first error is kept, so a caller may fail and unwind without checking.
 */
#include "base/buf.h"
#include "base/err.h"
#include "path/jsonpath_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) int jpath__fail(parser *ps, const char *fmt, ...)
{
    if (ps->err == NULL) {
        bt_buf b;
        bt_buf_init(&b);
        va_list ap;
        va_start(ap, fmt);
        char tmp[256];
        vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        bt_buf_printf(&b, "%s at position %zu", tmp, ps->pos);
        ps->err = bt_buf_steal(&b);
    }
    return BT_EINVAL;
}

bool jpath__valid_utf8(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + extra >= n)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            unsigned char cc = (unsigned char)s[i + k];
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

static void put_utf8(bt_buf *b, uint32_t cp)
{
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    bt_buf_append(b, out, n);
}

static int hex4(parser *ps, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = jpath__cur(ps);
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return jpath__fail(ps, "invalid \\u escape");
        v = v * 16 + d;
        ps->pos++;
    }
    *out = v;
    return 0;
}

/*
 * Reads a quoted string at the current quote character, with Java-style escapes
 * (\' \" \\ \/ \b \f \n \r \t \uXXXX; any other escaped character stands for itself).
 * Returns a heap string (no NUL inside) and its length, or NULL after jpath__fail().
 */
char *jpath__parse_quoted(parser *ps, size_t *out_len)
{
    char q = jpath__cur(ps);
    bt_buf b;
    bt_buf_init(&b);
    ps->pos++;
    for (;;) {
        if (jpath__at_end(ps)) {
            jpath__fail(ps, "unterminated string");
            goto bad;
        }
        char c = jpath__cur(ps);
        if (c == q) {
            ps->pos++;
            break;
        }
        if (c != '\\') {
            bt_buf_putc(&b, c);
            ps->pos++;
            continue;
        }
        ps->pos++;
        if (jpath__at_end(ps)) {
            jpath__fail(ps, "unterminated string");
            goto bad;
        }
        char e = jpath__cur(ps);
        ps->pos++;
        switch (e) {
        case '"':
        case '\'':
            /* Only the delimiting quote is escaped: AWS reads ['a\"b'] as the key a\"b. */
            if (e != q)
                bt_buf_putc(&b, '\\');
            bt_buf_putc(&b, e);
            break;
        case 'b':
            bt_buf_putc(&b, '\b');
            break;
        case 'f':
            bt_buf_putc(&b, '\f');
            break;
        case 'n':
            bt_buf_putc(&b, '\n');
            break;
        case 'r':
            bt_buf_putc(&b, '\r');
            break;
        case 't':
            bt_buf_putc(&b, '\t');
            break;
        case 'u': {
            uint32_t cp;
            if (hex4(ps, &cp) != 0)
                goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (jpath__cur(ps) != '\\' || jpath__peek(ps, 1) != 'u') {
                    jpath__fail(ps, "unpaired surrogate in \\u escape");
                    goto bad;
                }
                ps->pos += 2;
                if (hex4(ps, &lo) != 0)
                    goto bad;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    jpath__fail(ps, "unpaired surrogate in \\u escape");
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                jpath__fail(ps, "unpaired surrogate in \\u escape");
                goto bad;
            }
            if (cp == 0) {
                jpath__fail(ps, "NUL character in string");
                goto bad;
            }
            put_utf8(&b, cp);
            break;
        }
        default:
            bt_buf_putc(&b, e);
            break;
        }
    }
    *out_len = b.len;
    if (b.data == NULL)
        bt_buf_append(&b, "", 0);
    return bt_buf_steal(&b);
bad:
    bt_buf_fini(&b);
    return NULL;
}

/* An integer for an index or slice bound (Jayway takes Java ints). */
int jpath__parse_int(parser *ps, long long *out)
{
    size_t start = ps->pos;
    if (jpath__cur(ps) == '-')
        ps->pos++;
    if (!jpath__is_digit(jpath__cur(ps)))
        return jpath__fail(ps, "expected an integer");
    while (jpath__is_digit(jpath__cur(ps)))
        ps->pos++;
    if (ps->pos - start > 11)
        return jpath__fail(ps, "integer out of range");
    char tmp[16];
    memcpy(tmp, ps->s + start, ps->pos - start);
    tmp[ps->pos - start] = '\0';
    long long v = strtoll(tmp, NULL, 10);
    if (v > INT32_MAX || v < INT32_MIN)
        return jpath__fail(ps, "integer out of range");
    *out = v;
    return 0;
}
