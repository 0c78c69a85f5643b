/*
 * jsonpath_regex.c — the /regex/ operands of a filter's =~: reads the literal and its flags
 * and translates the Java syntax into a POSIX ERE that regcomp accepts. Called by the filter
 * parser (jsonpath_filter.c); jsonpath_eval.c runs the compiled regex_t. The translation
 * refuses what could make glibc's regcomp take unbounded memory (stacked quantifiers, large
 * products of counted repeats).
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "path/jsonpath_int.h"

#include <stdlib.h>
#include <string.h>

/* Translates a Java regular expression into a POSIX ERE anchored at both ends, as
 * Jayway's =~ uses Matcher.matches() (the whole input must match). */
static int translate_regex(parser *ps, const char *pat, size_t n, bt_buf *out)
{
    bool in_class = false, prev_quant = false;
    unsigned long repeat_product = 1;
    if (n > 1000)
        return jpath__fail(ps, "regular expression longer than 1000 characters");
    bt_buf_puts(out, "^(");
    for (size_t i = 0; i < n; i++) {
        char c = pat[i];
        bool was_quant = prev_quant;
        prev_quant = false;
        if (c == '\\') {
            if (i + 1 >= n)
                return jpath__fail(ps, "regular expression ends with '\\'");
            char e = pat[++i];
            switch (e) {
            case 'd':
                bt_buf_puts(out, in_class ? "0-9" : "[0-9]");
                continue;
            case 'w':
                bt_buf_puts(out, in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]");
                continue;
            case 's':
                bt_buf_puts(out, in_class ? "[:space:]" : "[[:space:]]");
                continue;
            case 'D':
            case 'W':
            case 'S':
                if (in_class)
                    return jpath__fail(ps, "unsupported '\\%c' inside a character class", e);
                bt_buf_puts(out, e == 'D' ? "[^0-9]" : e == 'W' ? "[^A-Za-z0-9_]" : "[^[:space:]]");
                continue;
            case 't':
                bt_buf_putc(out, '\t');
                continue;
            case 'n':
                bt_buf_putc(out, '\n');
                continue;
            case 'r':
                bt_buf_putc(out, '\r');
                continue;
            case 'f':
                bt_buf_putc(out, '\f');
                continue;
            default:
                break;
            }
            if (in_class) {
                if (e == ']' || e == '-' || e == '^' || e == '\\' || e == '[')
                    bt_buf_printf(out, "[.%c.]", e);
                else
                    bt_buf_putc(out, e);
            } else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || jpath__is_digit(e)) {
                if (strchr("bB<>", e) == NULL)
                    return jpath__fail(ps, "unsupported escape '\\%c' in a regular expression", e);
                bt_buf_putc(out, '\\');
                bt_buf_putc(out, e);
            } else {
                bt_buf_putc(out, '\\');
                bt_buf_putc(out, e);
            }
            continue;
        }
        if (in_class) {
            if (c == '[' && i + 1 < n &&
                (pat[i + 1] == ':' || pat[i + 1] == '.' || pat[i + 1] == '=')) {
                /* POSIX [:class:] inside brackets: copy through its closing ":]" */
                char kind = pat[i + 1];
                size_t k = i + 2;
                while (k + 1 < n && !(pat[k] == kind && pat[k + 1] == ']'))
                    k++;
                if (k + 1 >= n)
                    return jpath__fail(ps, "unterminated character class in a regular expression");
                bt_buf_append(out, pat + i, k + 2 - i);
                i = k + 1;
                continue;
            }
            if (c == '[')
                return jpath__fail(ps, "nested character classes are not supported");
            if (c == ']')
                in_class = false;
            bt_buf_putc(out, c);
            continue;
        }
        if (c == '[') {
            in_class = true;
            bt_buf_putc(out, c);
            if (i + 1 < n && pat[i + 1] == '^')
                bt_buf_putc(out, pat[++i]);
            if (i + 1 < n && pat[i + 1] == ']')
                bt_buf_putc(out, pat[++i]);
            continue;
        }
        if (c == '(' && i + 1 < n && pat[i + 1] == '?') {
            if (i + 2 < n && pat[i + 2] == ':') {
                bt_buf_putc(out, '(');
                i += 2;
                continue;
            }
            return jpath__fail(ps, "unsupported '(?' construct in a regular expression");
        }
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            /* glibc's regcomp copies the tree for each bound and stacks quantifiers, so
             * "a{99}{99}" or "a++++" could take gigabytes: refuse what Java refuses too
             * (a quantifier on a quantifier) and cap the product of counted bounds. */
            if (was_quant)
                return jpath__fail(ps, "quantifier follows a quantifier in a regular expression");
            size_t start = i;
            if (c == '{') {
                unsigned long lo = 0, hi;
                size_t k = i + 1;
                while (k < n && jpath__is_digit(pat[k]) && lo < 100000)
                    lo = lo * 10 + (unsigned long)(pat[k++] - '0');
                if (k == i + 1)
                    return jpath__fail(ps, "invalid '{' in a regular expression");
                hi = lo;
                if (k < n && pat[k] == ',') {
                    k++;
                    if (k < n && jpath__is_digit(pat[k])) {
                        hi = 0;
                        while (k < n && jpath__is_digit(pat[k]) && hi < 100000)
                            hi = hi * 10 + (unsigned long)(pat[k++] - '0');
                    } else {
                        hi = lo + 1;
                    }
                }
                if (k >= n || pat[k] != '}' || hi < lo)
                    return jpath__fail(ps, "invalid '{' in a regular expression");
                repeat_product *= hi > 1 ? hi : 1;
                if (repeat_product > 1000)
                    return jpath__fail(ps, "regular expression repeats too much");
                i = k;
            }
            bt_buf_append(out, pat + start, i + 1 - start);
            /* lazy or possessive form: for a whole-input match the greedy form accepts
             * the same strings */
            if (i + 1 < n && (pat[i + 1] == '?' || pat[i + 1] == '+'))
                i++;
            prev_quant = true;
            continue;
        }
        bt_buf_putc(out, c);
    }
    if (in_class)
        return jpath__fail(ps, "unterminated character class in a regular expression");
    bt_buf_puts(out, ")$");
    return 0;
}

int jpath__parse_regex(parser *ps, operand *o)
{
    /* at '/' */
    ps->pos++;
    size_t start = ps->pos;
    while (!jpath__at_end(ps) && jpath__cur(ps) != '/') {
        if (jpath__cur(ps) == '\\' && ps->pos + 1 < ps->len)
            ps->pos++;
        ps->pos++;
    }
    if (jpath__at_end(ps))
        return jpath__fail(ps, "unterminated regular expression");
    size_t end = ps->pos;
    ps->pos++;
    int cflags = REG_EXTENDED | REG_NOSUB;
    while (!jpath__at_end(ps) && ((jpath__cur(ps) >= 'a' && jpath__cur(ps) <= 'z') ||
                                  (jpath__cur(ps) >= 'A' && jpath__cur(ps) <= 'Z'))) {
        char f = jpath__cur(ps);
        if (f == 'i')
            cflags |= REG_ICASE;
        else if (f != 'm' && f != 's' && f != 'u')
            return jpath__fail(ps, "unsupported regular expression flag '%c'", f);
        ps->pos++;
    }
    bt_buf b;
    bt_buf_init(&b);
    if (translate_regex(ps, ps->s + start, end - start, &b) != 0) {
        bt_buf_fini(&b);
        return BT_EINVAL;
    }
    regex_t *re = bt_xmalloc(sizeof *re);
    int rc = regcomp(re, b.data, cflags);
    bt_buf_fini(&b);
    if (rc != 0) {
        free(re);
        return jpath__fail(ps, "invalid regular expression");
    }
    o->kind = OPND_REGEX;
    o->re = re;
    return 0;
}
