/*
 * vtl_util.c — the text codecs behind $util (escapeJavaScript, urlEncode/urlDecode,
 * base64Encode/base64Decode) and the query-string splitter vtl_parse_query. Pure byte
 * work, called by vtl_methods.c and by the route layer.
 *
 * escapeJavaScript is Apache Commons Lang 2's StringEscapeUtils.escapeJavaScript, which
 * is what AWS names ("JavaScript string rules", and it turns ' into \', per the mapping
 * template reference): \" \' \\ \/ \b \f \n \r \t, other controls and every non-ASCII
 * UTF-16 unit as \uXXXX in upper-case hex. urlEncode/urlDecode are Java's URLEncoder and
 * URLDecoder in UTF-8 (application/x-www-form-urlencoded: space is '+').
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "vtl/vtl.h"
#include "vtl/vtl_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s[*i] (advancing *i); a malformed byte reads as U+FFFD. */
static uint32_t next_code_point(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    size_t k = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    if (k == 0 || *i + k > n) {
        (*i)++;
        return 0xFFFD;
    }
    uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1Fu : k == 3 ? c & 0x0Fu : c & 0x07u;
    for (size_t j = 1; j < k; j++) {
        if ((s[*i + j] & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[*i + j] & 0x3Fu);
    }
    *i += k;
    return cp;
}

void vtl__escape_js(bt_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        uint32_t cp = next_code_point(s, n, &i);
        switch (cp) {
        case '"':
            bt_buf_puts(b, "\\\"");
            continue;
        case '\'':
            bt_buf_puts(b, "\\'");
            continue;
        case '\\':
            bt_buf_puts(b, "\\\\");
            continue;
        case '/':
            bt_buf_puts(b, "\\/");
            continue;
        case '\b':
            bt_buf_puts(b, "\\b");
            continue;
        case '\f':
            bt_buf_puts(b, "\\f");
            continue;
        case '\n':
            bt_buf_puts(b, "\\n");
            continue;
        case '\r':
            bt_buf_puts(b, "\\r");
            continue;
        case '\t':
            bt_buf_puts(b, "\\t");
            continue;
        default:
            break;
        }
        if (cp >= 0x20 && cp < 0x7F) {
            bt_buf_putc(b, (char)cp);
        } else if (cp < 0x10000) {
            bt_buf_printf(b, "\\u%04X", cp);
        } else {
            uint32_t v = cp - 0x10000;
            bt_buf_printf(b, "\\u%04X\\u%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        }
    }
}

void vtl__url_encode(bt_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-' || c == '*' || c == '_')
            bt_buf_putc(b, (char)c);
        else if (c == ' ')
            bt_buf_putc(b, '+');
        else
            bt_buf_printf(b, "%%%02X", c);
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool vtl__url_decode(bt_buf *b, const char *s, size_t n, bool strict)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            bt_buf_putc(b, ' ');
        } else if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            bt_buf_putc(b, (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else if (s[i] == '%' && strict) {
            return false;
        } else {
            bt_buf_putc(b, s[i]);
        }
    }
    return true;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void vtl__base64_encode(bt_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        bt_buf_putc(b, B64[(v >> 18) & 63]);
        bt_buf_putc(b, B64[(v >> 12) & 63]);
        bt_buf_putc(b, i + 1 < n ? B64[(v >> 6) & 63] : '=');
        bt_buf_putc(b, i + 2 < n ? B64[v & 63] : '=');
    }
}

bool vtl__base64_decode(bt_buf *b, const char *s, size_t n)
{
    uint32_t acc = 0;
    int bits = 0;
    bool padding = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            padding = true;
            continue;
        }
        if (c == '\n' || c == '\r')
            continue;
        const char *at = c != '\0' ? strchr(B64, c) : NULL;
        if (at == NULL || padding)
            return false;
        acc = (acc << 6) | (uint32_t)(at - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bt_buf_putc(b, (char)((acc >> bits) & 0xFF));
        }
    }
    return bits < 6;
}

size_t vtl_parse_query(const char *query, vtl_param **out)
{
    size_t n = 0, cap = 0;
    vtl_param *items = NULL;
    const char *p = query != NULL ? query : "";
    while (*p != '\0') {
        const char *amp = strchr(p, '&');
        size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t name_len = eq != NULL ? (size_t)(eq - p) : len;
            bt_buf name, value;
            bt_buf_init(&name);
            bt_buf_init(&value);
            bt_buf_puts(&name, "");
            bt_buf_puts(&value, "");
            vtl__url_decode(&name, p, name_len, false);
            if (eq != NULL)
                vtl__url_decode(&value, eq + 1, len - name_len - 1, false);
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                items = bt_xrealloc(items, cap * sizeof(*items));
            }
            items[n].name = bt_buf_steal(&name);
            items[n].value = bt_buf_steal(&value);
            n++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    *out = items;
    return n;
}

void vtl_params_free(vtl_param *items, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        free((void *)(uintptr_t)items[i].name);
        free((void *)(uintptr_t)items[i].value);
    }
    free(items);
}
