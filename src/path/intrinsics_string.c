/*
 * intrinsics_string.c — the string functions: States.Format (templates with {} placeholders,
 * AWS's escapes in a literal template) and States.StringSplit (Java StringTokenizer
 * semantics). Called by intr_eval's dispatch (intrinsics.c); arguments are printed through
 * intrinsics_print.c. Strings are jansson's valid UTF-8, split by code point.
 */
#include "base/buf.h"
#include "base/err.h"
#include "path/intrinsics_int.h"

#include <string.h>

/* Decodes one code point of valid UTF-8 (jansson guarantees validity); returns its length. */
static size_t utf8_next(const char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c = (unsigned char)s[i];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + n > len)
        n = len - i;
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++)
        v = (v << 6) | ((unsigned char)s[i + k] & 0x3Fu);
    *cp = v;
    return n;
}

/* --- States.Format ------------------------------------------------------------------------ */

/*
 * Expands template t (len bytes). With escapes (a literal template), \X stands for X and an
 * escaped brace is never a placeholder. A brace that is not part of "{}" is an error, as is a
 * placeholder count that differs from the argument count (BT_EINVAL); BT_ELIMIT for an
 * argument too deep to print.
 */
static int format_expand(const char *t, size_t len, bool escapes, json_t **vals, size_t n_vals,
                         bt_buf *out)
{
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (escapes && c == '\\' && i + 1 < len) {
            bt_buf_putc(out, t[++i]);
            continue;
        }
        if (c == '{') {
            if (i + 1 >= len || t[i + 1] != '}' || used == n_vals)
                return BT_EINVAL;
            if (intr__put_text(out, vals[used++], 1) != 0)
                return BT_ELIMIT;
            i++;
            continue;
        }
        if (c == '}')
            return BT_EINVAL;
        bt_buf_putc(out, c);
    }
    return used == n_vals ? 0 : BT_EINVAL;
}

int intr__fn_format(eval_ctx *x, const intr_call *c, json_t **v, size_t n, json_t **out)
{
    if (n < 1)
        return intr__invalid(x, FN_FORMAT);
    const intr_arg *t = &c->args[0];
    bt_buf b;
    bt_buf_init(&b);
    int rc;
    if (t->kind == ARG_LITERAL && t->raw)
        rc = format_expand(t->raw, strlen(t->raw), true, v + 1, n - 1, &b);
    else if (json_is_string(v[0]))
        rc = format_expand(json_string_value(v[0]), json_string_length(v[0]), false, v + 1, n - 1,
                           &b);
    else
        rc = BT_EINVAL;
    if (rc != 0) {
        bt_buf_fini(&b);
        return rc == BT_ELIMIT ? intr__too_deep(x) : intr__invalid(x, FN_FORMAT);
    }
    *out = intr__take_string(&b);
    return 0;
}

/* --- Strings ------------------------------------------------------------------------------- */

/* Java StringTokenizer semantics: every character of the separator is a delimiter and empty
 * tokens are dropped. */
int intr__fn_string_split(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 2 || !json_is_string(v[0]) || !json_is_string(v[1]))
        return intr__invalid(x, FN_STRING_SPLIT);
    const char *s = json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    const char *d = json_string_value(v[1]);
    size_t dlen = json_string_length(v[1]);
    json_t *r = json_array();
    size_t tok = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t w = utf8_next(s, len, i, &cp);
        bool is_delim = false;
        for (size_t k = 0; k < dlen && !is_delim;) {
            uint32_t dc;
            k += utf8_next(d, dlen, k, &dc);
            is_delim = dc == cp;
        }
        if (is_delim) {
            if (i > tok)
                json_array_append_new(r, json_stringn(s + tok, i - tok));
            tok = i + w;
        }
        i += w;
    }
    if (len > tok)
        json_array_append_new(r, json_stringn(s + tok, len - tok));
    *out = r;
    return 0;
}
