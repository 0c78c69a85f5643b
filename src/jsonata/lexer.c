/*
 * lexer.c — JSONata's tokens: names, `backtick names`, $variables, string and number
 * literals, /regex/flags (only where an operand is expected), operators, and comments.
 * A token's position is the offset just after it, as the reference reports it.
 */
#include "jsonata/jsonata_int.h"

#include "base/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void jn__syntax_error(jn_arena *a, jmp_buf *jmp, jn_error *err, const char *code,
                                long position, const char *token, const char *fmt, ...)
{
    (void)a;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(err->code, sizeof err->code, "%s", code);
    err->message = bt_xstrdup(buf);
    err->position = position;
    err->token = token ? bt_xstrdup(token) : NULL;
    longjmp(*jmp, 1);
}

#define LEX_ERR(lx, code, pos, tok, ...)                                                           \
    jn__syntax_error((lx)->arena, (lx)->jmp, (lx)->err, code, (long)(pos), tok, __VA_ARGS__)

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

static bool is_op_char(char c)
{
    return c != '\0' && strchr(".[]{}(),@#;:?+-*/%|=<>^&!~", c) != NULL;
}

static void put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void scan_string(jn_lexer *lx, char quote, jn_token *t)
{
    const char *s = lx->src;
    size_t i = lx->pos + 1;
    char *out = jn_alloc(lx->arena, lx->len - lx->pos + 1);
    size_t n = 0;
    while (i < lx->len) {
        char c = s[i];
        if (c == '\\') {
            i++;
            if (i >= lx->len)
                break;
            c = s[i];
            switch (c) {
            case '"':
            case '\\':
            case '/':
                out[n++] = c;
                break;
            case 'b':
                out[n++] = '\b';
                break;
            case 'f':
                out[n++] = '\f';
                break;
            case 'n':
                out[n++] = '\n';
                break;
            case 'r':
                out[n++] = '\r';
                break;
            case 't':
                out[n++] = '\t';
                break;
            case 'u': {
                int cp = i + 4 < lx->len ? hex4(s + i + 1) : -1;
                if (cp < 0)
                    LEX_ERR(lx, "S0104", i, NULL,
                            "The escape sequence \\u must be followed by 4 hex digits");
                i += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < lx->len && s[i + 1] == '\\' &&
                    s[i + 2] == 'u') {
                    int lo = hex4(s + i + 3);
                    if (lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                put_utf8(out, &n, (unsigned)cp);
                break;
            }
            default:
                LEX_ERR(lx, "S0103", i, NULL, "Unsupported escape sequence: \\%c", c);
            }
            i++;
        } else if (c == quote) {
            lx->pos = i + 1;
            out[n] = '\0';
            t->type = TK_STRING;
            t->text = out;
            t->len = n;
            t->position = (long)lx->pos;
            return;
        } else {
            out[n++] = c;
            i++;
        }
    }
    LEX_ERR(lx, "S0101", i, NULL, "String literal must be terminated by a matching quote");
}

static void scan_regex(jn_lexer *lx, jn_token *t)
{
    const char *s = lx->src;
    size_t start = lx->pos, i = lx->pos;
    int depth = 0;
    while (i < lx->len) {
        char c = s[i];
        if (c == '/' && depth == 0) {
            size_t bs = 0;
            while (i >= start + bs + 1 && s[i - bs - 1] == '\\')
                bs++;
            if (bs % 2 == 0) {
                if (i == start)
                    LEX_ERR(lx, "S0301", i, NULL, "Empty regular expressions are not allowed");
                t->type = TK_REGEX;
                t->text = jn_strndup(lx->arena, s + start, i - start);
                t->len = i - start;
                i++;
                size_t fs = i;
                while (i < lx->len && (s[i] == 'i' || s[i] == 'm'))
                    i++;
                t->flags = jn_strndup(lx->arena, s + fs, i - fs);
                lx->pos = i;
                t->position = (long)i;
                return;
            }
        }
        bool escaped = i > 0 && s[i - 1] == '\\';
        if ((c == '(' || c == '[' || c == '{') && !escaped)
            depth++;
        if ((c == ')' || c == ']' || c == '}') && !escaped)
            depth--;
        i++;
    }
    LEX_ERR(lx, "S0302", i, NULL, "No terminating / in regular expression");
}

static bool scan_number(jn_lexer *lx, jn_token *t)
{
    const char *s = lx->src;
    size_t i = lx->pos;
    if (s[i] < '0' || s[i] > '9')
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < lx->len && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i + 1 < lx->len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        i++;
        while (i < lx->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < lx->len && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < lx->len && s[j] >= '0' && s[j] <= '9') {
            while (j < lx->len && s[j] >= '0' && s[j] <= '9')
                j++;
            i = j;
        }
    }
    char *text = jn_strndup(lx->arena, s + lx->pos, i - lx->pos);
    double d = strtod(text, NULL);
    if (!isfinite(d))
        LEX_ERR(lx, "S0102", lx->pos, text, "Number out of range: %s", text);
    lx->pos = i;
    t->type = TK_NUMBER;
    t->num = d;
    t->position = (long)i;
    return true;
}

void jn__lex_next(jn_lexer *lx, bool infix, jn_token *t)
{
    const char *s = lx->src;
    memset(t, 0, sizeof *t);
    for (;;) {
        while (lx->pos < lx->len && is_space(s[lx->pos]))
            lx->pos++;
        if (lx->pos + 1 < lx->len && s[lx->pos] == '/' && s[lx->pos + 1] == '*') {
            size_t start = lx->pos;
            const char *e = NULL;
            for (size_t i = lx->pos + 2; i + 1 < lx->len; i++)
                if (s[i] == '*' && s[i + 1] == '/') {
                    e = s + i;
                    break;
                }
            if (e == NULL)
                LEX_ERR(lx, "S0106", start, NULL, "Comment has no closing tag");
            lx->pos = (size_t)(e - s) + 2;
            continue;
        }
        break;
    }
    if (lx->pos >= lx->len) {
        t->type = TK_END;
        t->position = (long)lx->len;
        return;
    }
    char c = s[lx->pos];
    if (!infix && c == '/') {
        lx->pos++;
        scan_regex(lx, t);
        return;
    }
    static const char *const two[] = {"..", ":=", "!=", ">=", "<=", "**", "~>"};
    if (lx->pos + 1 < lx->len) {
        for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
            if (s[lx->pos] == two[k][0] && s[lx->pos + 1] == two[k][1]) {
                t->type = TK_OPERATOR;
                t->text = two[k];
                t->len = 2;
                lx->pos += 2;
                t->position = (long)lx->pos;
                return;
            }
    }
    if (is_op_char(c)) {
        static const char ops[] = ".[]{}(),@#;:?+-*/%|=<>^&!~";
        static const char *const single[] = {".", "[", "]", "{", "}", "(", ")", ",", "@",
                                             "#", ";", ":", "?", "+", "-", "*", "/", "%",
                                             "|", "=", "<", ">", "^", "&", "!", "~"};
        const char *p = strchr(ops, c);
        size_t k = (size_t)(p - ops);
        t->type = TK_OPERATOR;
        t->text = single[k];
        t->len = 1;
        lx->pos++;
        t->position = (long)lx->pos;
        return;
    }
    if (c == '"' || c == '\'') {
        scan_string(lx, c, t);
        return;
    }
    if (scan_number(lx, t))
        return;
    if (c == '`') {
        const char *e = memchr(s + lx->pos + 1, '`', lx->len - lx->pos - 1);
        if (e == NULL)
            LEX_ERR(lx, "S0105", lx->len, NULL,
                    "Quoted property name must be terminated with a backquote (`)");
        t->type = TK_NAME;
        t->text = jn_strndup(lx->arena, s + lx->pos + 1, (size_t)(e - s) - lx->pos - 1);
        t->len = (size_t)(e - s) - lx->pos - 1;
        lx->pos = (size_t)(e - s) + 1;
        t->position = (long)lx->pos;
        return;
    }
    size_t i = lx->pos;
    while (i < lx->len && !is_space(s[i]) && !is_op_char(s[i]))
        i++;
    if (s[lx->pos] == '$') {
        t->type = TK_VARIABLE;
        t->text = jn_strndup(lx->arena, s + lx->pos + 1, i - lx->pos - 1);
        t->len = i - lx->pos - 1;
    } else {
        const char *w = s + lx->pos;
        size_t n = i - lx->pos;
        t->text = jn_strndup(lx->arena, w, n);
        t->len = n;
        if ((n == 2 && memcmp(w, "or", 2) == 0) || (n == 2 && memcmp(w, "in", 2) == 0) ||
            (n == 3 && memcmp(w, "and", 3) == 0)) {
            t->type = TK_OPERATOR;
        } else if (n == 4 && memcmp(w, "true", 4) == 0) {
            t->type = TK_VALUE;
            t->value = 1;
        } else if (n == 5 && memcmp(w, "false", 5) == 0) {
            t->type = TK_VALUE;
            t->value = 2;
        } else if (n == 4 && memcmp(w, "null", 4) == 0) {
            t->type = TK_VALUE;
            t->value = 0;
        } else {
            t->type = TK_NAME;
        }
    }
    lx->pos = i;
    t->position = (long)i;
}
