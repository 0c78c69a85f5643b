/*
 * fn_string.c — the string functions (docs.jsonata.org/string-functions). Lengths and
 * offsets count characters (code points) as the reference's $length and $substring do;
 * $match reports UTF-16 offsets as JavaScript does.
 */
#define _GNU_SOURCE /* memmem */
#include "jsonata/jsonata_int.h"

#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

/* code point count and the byte offset of code point i */
static size_t cp_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static size_t cp_offset(const char *s, size_t len, size_t cp)
{
    size_t n = 0, i = 0;
    while (i < len) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == cp)
                return i;
            n++;
        }
        i++;
    }
    return len;
}

static jn_val *str_sub(jn_ctx *cx, jn_val *s, size_t from, size_t to)
{
    return jn_string_ref(cx->arena, s->u.str.s + from, to - from);
}

static jn_val *f_string(jn_ctx *cx, jn_val **a, size_t n)
{
    bool pretty = n > 1 && a[1] != NULL && jn__truthy(cx, a[1]) == 1;
    return jn_to_string(cx, a[0], pretty);
}

static jn_val *f_length(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL)
        return NULL;
    return jn_number(cx->arena, (double)cp_len(a[0]->u.str.s, a[0]->u.str.len));
}

static jn_val *f_substring(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    double len = (double)cp_len(s->u.str.s, s->u.str.len);
    if (a[1] == NULL) /* JavaScript's slice(undefined, NaN) and slice(undefined) */
        return n > 2 && a[2] != NULL ? jn_string_ref(cx->arena, "", 0) : s;
    double start = trunc(jn_num(a[1]));
    if (len + start < 0)
        start = 0;
    double end = len;
    if (n > 2 && a[2] != NULL) {
        double l = trunc(jn_num(a[2]));
        if (l <= 0)
            return jn_string_ref(cx->arena, "", 0);
        end = start >= 0 ? start + l : len + start + l;
    }
    if (start < 0)
        start += len;
    if (start < 0)
        start = 0;
    if (end > len)
        end = len;
    if (end < 0)
        end += len;
    if (start >= end)
        return jn_string_ref(cx->arena, "", 0);
    size_t b0 = cp_offset(s->u.str.s, s->u.str.len, (size_t)start);
    size_t b1 = cp_offset(s->u.str.s, s->u.str.len, (size_t)end);
    return str_sub(cx, s, b0, b1);
}

static const char *find(const char *h, size_t hl, const char *nd, size_t nl)
{
    if (nl == 0)
        return h;
    if (nl > hl)
        return NULL;
    /* glibc's memmem is linear in hl + nl: a naive scan is hl * nl, which no time check
     * interrupts (a 4 MB haystack and a 2 MB needle: minutes) */
    return memmem(h, hl, nd, nl);
}

static jn_val *f_substring_before(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *s = a[0];
    if (s == NULL || a[1] == NULL)
        return s;
    const char *p = find(s->u.str.s, s->u.str.len, a[1]->u.str.s, a[1]->u.str.len);
    if (p == NULL)
        return s;
    return str_sub(cx, s, 0, (size_t)(p - s->u.str.s));
}

static jn_val *f_substring_after(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *s = a[0];
    if (s == NULL || a[1] == NULL)
        return s;
    const char *p = find(s->u.str.s, s->u.str.len, a[1]->u.str.s, a[1]->u.str.len);
    if (p == NULL)
        return s;
    return str_sub(cx, s, (size_t)(p - s->u.str.s) + a[1]->u.str.len, s->u.str.len);
}

/* Case mapping by code point with the C.UTF-8 locale's tables (a locale object of our
 * own: the process's locale is left alone); ASCII only if that locale is missing. */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > len) {
        *cp = c;
        return 1;
    }
    if (n == 1) {
        *cp = c;
    } else if (n == 2) {
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
    } else if (n == 3) {
        *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F);
    } else {
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3F);
    }
    return n;
}

static void utf8_encode(jn_sbuf *b, unsigned cp)
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
    jn_sb_append(b, out, n);
}

static bool is_letter(unsigned cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return utf8_locale != (locale_t)0 && iswalpha_l((wint_t)cp, utf8_locale);
}

static jn_val *change_case(jn_ctx *cx, jn_val *s, bool upper)
{
    if (s == NULL)
        return NULL;
    pthread_once(&utf8_once, utf8_locale_init);
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    const unsigned char *p = (const unsigned char *)s->u.str.s;
    size_t len = s->u.str.len;
    unsigned prev = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        i += utf8_decode(p + i, len - i, &cp);
        unsigned here = cp;
        uint32_t special[3];
        size_t n_special = upper ? jn__special_upper(cp, special) : 0;
        if (n_special) { /* "ß" → "SS", as JavaScript's toUpperCase */
            for (size_t k = 0; k < n_special; k++)
                utf8_encode(&b, special[k]);
            prev = here;
            continue;
        }
        if (!upper && cp == 0x130) { /* "İ" → "i̇" */
            utf8_encode(&b, 'i');
            utf8_encode(&b, 0x307);
            prev = here;
            continue;
        }
        if (!upper && cp == 0x3A3) {
            /* Σ at the end of a word is ς (JavaScript's Final_Sigma: after a letter, and no
             * letter after it) */
            unsigned next = 0;
            if (i < len)
                utf8_decode(p + i, len - i, &next);
            bool after_letter = prev != 0 && is_letter(prev);
            bool before_letter = next != 0 && is_letter(next);
            utf8_encode(&b, after_letter && !before_letter ? 0x3C2 : 0x3C3);
            prev = here;
            continue;
        }
        prev = here;
        if (cp < 0x80)
            cp = (unsigned)(upper ? toupper((int)cp) : tolower((int)cp));
        else if (utf8_locale != (locale_t)0)
            cp = (unsigned)(upper ? towupper_l((wint_t)cp, utf8_locale)
                                  : towlower_l((wint_t)cp, utf8_locale));
        utf8_encode(&b, cp);
    }
    return jn_string_ref(cx->arena, b.data ? b.data : "", b.len);
}

static jn_val *f_uppercase(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return change_case(cx, a[0], true);
}

static jn_val *f_lowercase(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return change_case(cx, a[0], false);
}

static jn_val *f_trim(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    bool space = false, any = false;
    for (size_t i = 0; i < s->u.str.len; i++) {
        char c = s->u.str.s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = true;
            continue;
        }
        if (space && any)
            jn_sb_putc(&b, ' ');
        space = false;
        any = true;
        jn_sb_putc(&b, c);
    }
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static jn_val *f_pad(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *s = a[0];
    if (s == NULL || a[1] == NULL)
        return s;
    double width = trunc(jn_num(a[1]));
    const char *pc = " ";
    size_t pl = 1;
    if (n > 2 && a[2] != NULL && a[2]->u.str.len > 0) {
        pc = a[2]->u.str.s;
        pl = a[2]->u.str.len;
    }
    size_t have = cp_len(s->u.str.s, s->u.str.len);
    double want = fabs(width);
    if (want <= (double)have)
        return s;
    jn__budget(cx, (size_t)(want * 4));
    size_t extra = (size_t)want - have;
    size_t pcl = cp_len(pc, pl);
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    if (width > 0)
        jn_sb_append(&b, s->u.str.s, s->u.str.len);
    for (size_t i = 0; i < extra; i++) {
        size_t k = i % pcl;
        size_t o0 = cp_offset(pc, pl, k), o1 = cp_offset(pc, pl, k + 1);
        jn_sb_append(&b, pc + o0, o1 - o0);
    }
    if (width < 0)
        jn_sb_append(&b, s->u.str.s, s->u.str.len);
    jn_val *r = jn_string(cx->arena, b.data, b.len);
    return r;
}

static bool is_regex(const jn_val *v)
{
    return jn_is_fn(v) && v->u.fn->kind == FN_REGEX;
}

static jn_val *f_contains(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    if (a[1] == NULL)
        return JN_FALSE;
    if (jn_is_str(a[1]))
        return jn_bool(find(s->u.str.s, s->u.str.len, a[1]->u.str.s, a[1]->u.str.len) != NULL);
    if (is_regex(a[1])) {
        size_t *ov, ng;
        return jn_bool(jn__regex_match(cx, a[1]->u.fn->re, s->u.str.s, s->u.str.len, 0, &ov, &ng));
    }
    jn_val *r = jn_call(cx, a[1], &s, 1);
    return jn_bool(r != NULL);
}

static jn_val *f_split(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *s = a[0];
    if (s == NULL || a[1] == NULL)
        return NULL;
    double limit = INFINITY;
    if (n > 2 && a[2] != NULL) {
        limit = jn_num(a[2]);
        if (limit < 0)
            jn_throw(cx, "D3020", a[2],
                     "Third argument of split function must evaluate to a positive number");
        limit = floor(limit);
    }
    jn_val *r = jn_array(cx->arena, 4);
    const char *str = s->u.str.s;
    size_t len = s->u.str.len;
    if (jn_is_str(a[1])) {
        const char *sep = a[1]->u.str.s;
        size_t sl = a[1]->u.str.len;
        if (sl == 0) {
            for (size_t i = 0; i < len && (double)r->u.arr.len < limit;) {
                size_t j = i + 1;
                while (j < len && ((unsigned char)str[j] & 0xC0) == 0x80)
                    j++;
                jn_push(cx->arena, r, jn_string_ref(cx->arena, str + i, j - i));
                i = j;
            }
            return r;
        }
        size_t start = 0;
        for (;;) {
            if ((double)r->u.arr.len >= limit)
                break;
            const char *p = find(str + start, len - start, sep, sl);
            if (p == NULL) {
                jn_push(cx->arena, r, jn_string_ref(cx->arena, str + start, len - start));
                break;
            }
            jn_push(cx->arena, r, jn_string_ref(cx->arena, str + start, (size_t)(p - str) - start));
            start = (size_t)(p - str) + sl;
        }
        return r;
    }
    if (is_regex(a[1])) {
        size_t start = 0, pos = 0;
        size_t *ov, ng;
        while ((double)r->u.arr.len < limit &&
               jn__regex_match(cx, a[1]->u.fn->re, str, len, pos, &ov, &ng)) {
            if (ov[1] == ov[0]) {
                if (ov[0] >= len)
                    break;
                pos = ov[0] + 1;
                continue;
            }
            jn_push(cx->arena, r, jn_string_ref(cx->arena, str + start, ov[0] - start));
            start = pos = ov[1];
        }
        if ((double)r->u.arr.len < limit)
            jn_push(cx->arena, r, jn_string_ref(cx->arena, str + start, len - start));
        return r;
    }
    jn_throw(cx, "T1010", a[1],
             "The matcher function argument passed to function split does "
             "not return the correct object structure");
}

static jn_val *f_join(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    const char *sep = "";
    size_t sl = 0;
    if (n > 1 && a[1] != NULL) {
        sep = a[1]->u.str.s;
        sl = a[1]->u.str.len;
    }
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    for (size_t i = 0; i < arr->u.arr.len; i++) {
        if (i)
            jn_sb_append(&b, sep, sl);
        jn_val *s = arr->u.arr.items[i];
        jn_sb_append(&b, s->u.str.s, s->u.str.len);
    }
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static jn_val *match_object(jn_ctx *cx, const char *s, size_t *ov, size_t ng)
{
    jn_arena *ar = cx->arena;
    jn_val *o = jn_object(ar);
    jn_obj_set(ar, o, "match", 5, jn_string(ar, s + ov[0], ov[1] - ov[0]));
    jn_obj_set(ar, o, "index", 5, jn_number(ar, (double)jn_byte_to_u16(s, ov[0])));
    jn_val *groups = jn_array(ar, ng);
    for (size_t i = 1; i < ng; i++) {
        if (ov[2 * i] == PCRE2_UNSET)
            jn_push(ar, groups, jn_string_ref(ar, "", 0));
        else
            jn_push(ar, groups, jn_string(ar, s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
    }
    jn_obj_set(ar, o, "groups", 6, groups);
    return o;
}

/* $match with a matcher function: it returns {match, start, end, groups, next}, next()
 * the following match. */
static jn_val *custom_match(jn_ctx *cx, jn_val *s, jn_val *fn, double limit)
{
    jn_val *r = jn_seq(cx->arena);
    jn_val *m = jn_call(cx, fn, &s, 1);
    while (m != NULL && (double)r->u.arr.len < limit) {
        if (!jn_is_obj(m) || !jn_is_str(jn_obj_get(m, "match", 5)))
            jn_throw(cx, "T1010", fn,
                     "The matcher function argument passed to function match does not return "
                     "the correct object structure");
        jn_val *o = jn_object(cx->arena);
        jn_obj_set(cx->arena, o, "match", 5, jn_obj_get(m, "match", 5));
        jn_obj_set(cx->arena, o, "index", 5, jn_obj_get(m, "start", 5));
        jn_val *groups = jn_obj_get(m, "groups", 6);
        jn_obj_set(cx->arena, o, "groups", 6, groups ? groups : jn_array(cx->arena, 0));
        jn_push(cx->arena, r, o);
        jn_val *next = jn_obj_get(m, "next", 4);
        if (!jn_is_fn(next))
            break;
        m = jn_call(cx, next, NULL, 0);
    }
    return r;
}

static jn_val *f_match(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    double limit = INFINITY;
    if (n > 2 && a[2] != NULL) {
        limit = jn_num(a[2]);
        if (limit < 0)
            jn_throw(cx, "D3040", a[2],
                     "Third argument of match function must evaluate to a positive number");
    }
    if (!is_regex(a[1]))
        return custom_match(cx, s, a[1], limit);
    jn_val *r = jn_seq(cx->arena);
    size_t pos = 0, *ov, ng;
    const char *str = s->u.str.s;
    size_t len = s->u.str.len;
    while ((double)r->u.arr.len < limit && pos <= len &&
           jn__regex_match(cx, a[1]->u.fn->re, str, len, pos, &ov, &ng)) {
        if (ov[1] == ov[0] && r->u.arr.len > 0)
            jn_throw(cx, "D1004", NULL, "Regular expression matches zero length string");
        jn_push(cx->arena, r, match_object(cx, str, ov, ng));
        if (ov[1] == ov[0])
            jn_throw(cx, "D1004", NULL, "Regular expression matches zero length string");
        pos = ov[1];
    }
    return r;
}

static void expand(jn_sbuf *b, const char *s, size_t *ov, size_t ng, const char *rep, size_t rl)
{
    for (size_t i = 0; i < rl; i++) {
        if (rep[i] != '$' || i + 1 >= rl) {
            jn_sb_putc(b, rep[i]);
            continue;
        }
        char c = rep[i + 1];
        if (c == '$') {
            jn_sb_putc(b, '$');
            i++;
        } else if (c >= '0' && c <= '9') {
            /* the longest group number that exists */
            size_t g = (size_t)(c - '0');
            size_t j = i + 2;
            while (j < rl && rep[j] >= '0' && rep[j] <= '9' &&
                   g * 10 + (size_t)(rep[j] - '0') < ng) {
                g = g * 10 + (size_t)(rep[j] - '0');
                j++;
            }
            if (g < ng && g > 0) {
                if (ov[2 * g] != PCRE2_UNSET)
                    jn_sb_append(b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            } else if (g == 0) {
                jn_sb_append(b, s + ov[0], ov[1] - ov[0]);
            }
            i = j - 1;
        } else {
            jn_sb_putc(b, '$');
        }
    }
}

static jn_val *f_replace(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    if (jn_is_str(a[1]) && a[1]->u.str.len == 0)
        jn_throw(cx, "D3010", a[1],
                 "Second argument of replace function cannot be an empty string");
    double limit = INFINITY;
    if (n > 3 && a[3] != NULL) {
        limit = jn_num(a[3]);
        if (limit < 0)
            jn_throw(cx, "D3011", a[3],
                     "Fourth argument of replace function must evaluate to a positive number");
    }
    const char *str = s->u.str.s;
    size_t len = s->u.str.len;
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    size_t pos = 0;
    double count = 0;
    if (jn_is_str(a[1])) {
        const char *pat = a[1]->u.str.s;
        size_t pl = a[1]->u.str.len;
        while (count < limit) {
            const char *p = find(str + pos, len - pos, pat, pl);
            if (p == NULL)
                break;
            jn_sb_append(&b, str + pos, (size_t)(p - str) - pos);
            if (jn_is_str(a[2])) {
                jn_sb_append(&b, a[2]->u.str.s, a[2]->u.str.len);
            } else {
                jn_val *m = jn_object(cx->arena);
                jn_obj_set(cx->arena, m, "match", 5, a[1]);
                jn_val *rv = jn_call(cx, a[2], &m, 1);
                if (!jn_is_str(rv))
                    jn_throw(cx, "D3012", rv,
                             "Attempted to replace a matched string with a non-string value");
                jn_sb_append(&b, rv->u.str.s, rv->u.str.len);
            }
            pos = (size_t)(p - str) + pl;
            count++;
        }
    } else if (is_regex(a[1])) {
        size_t *ov, ng;
        while (count < limit && pos <= len &&
               jn__regex_match(cx, a[1]->u.fn->re, str, len, pos, &ov, &ng)) {
            if (ov[1] == ov[0])
                jn_throw(cx, "D1004", NULL, "Regular expression matches zero length string");
            jn_sb_append(&b, str + pos, ov[0] - pos);
            if (jn_is_str(a[2])) {
                expand(&b, str, ov, ng, a[2]->u.str.s, a[2]->u.str.len);
            } else {
                jn_val *m = match_object(cx, str, ov, ng);
                jn_val *rv = jn_call(cx, a[2], &m, 1);
                if (!jn_is_str(rv))
                    jn_throw(cx, "D3012", rv,
                             "Attempted to replace a matched string with a non-string value");
                jn_sb_append(&b, rv->u.str.s, rv->u.str.len);
            }
            pos = ov[1];
            count++;
        }
    }
    if (pos < len)
        jn_sb_append(&b, str + pos, len - pos);
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static jn_val *f_base64encode(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s->u.str.s;
    size_t len = s->u.str.len;
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        jn_sb_putc(&b, B64[(v >> 18) & 63]);
        jn_sb_putc(&b, B64[(v >> 12) & 63]);
        jn_sb_putc(&b, i + 1 < len ? B64[(v >> 6) & 63] : '=');
        jn_sb_putc(&b, i + 2 < len ? B64[v & 63] : '=');
    }
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static jn_val *f_base64decode(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *s = a[0];
    if (s == NULL)
        return NULL;
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < s->u.str.len; i++) {
        const char *p = strchr(B64, s->u.str.s[i]);
        if (p == NULL || s->u.str.s[i] == '\0')
            continue;
        v = (v << 6) | (unsigned)(p - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            jn_sb_putc(&b, (char)((v >> bits) & 0xFF));
        }
    }
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static jn_val *url_encode(jn_ctx *cx, jn_val *s, const char *keep)
{
    if (s == NULL)
        return NULL;
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    for (size_t i = 0; i < s->u.str.len; i++) {
        unsigned char c = (unsigned char)s->u.str.s[i];
        if (isalnum(c) || strchr(keep, c) != NULL) {
            jn_sb_putc(&b, (char)c);
        } else {
            if ((c & 0xF8) == 0xD8) { /* not reachable for valid UTF-8 */
                jn_throw(cx, "D3140", s, "Malformed URL passed to encode");
            }
            jn_sb_printf(&b, "%%%02X", c);
        }
    }
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static jn_val *f_encode_url_component(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return url_encode(cx, a[0], "-_.!~*'()");
}

static jn_val *f_encode_url(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return url_encode(cx, a[0], "-_.!~*'();/?:@&=+$,#");
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static jn_val *url_decode(jn_ctx *cx, jn_val *s, const char *reserved)
{
    if (s == NULL)
        return NULL;
    jn_sbuf b;
    jn_sb_init(&b, cx->arena);
    const char *p = s->u.str.s;
    size_t len = s->u.str.len;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '%') {
            jn_sb_putc(&b, p[i]);
            continue;
        }
        int h = i + 2 < len ? hexval(p[i + 1]) : -1, l = i + 2 < len ? hexval(p[i + 2]) : -1;
        if (h < 0 || l < 0) {
            jn_throw(cx, "D3140", s, "Malformed URL passed to decode");
        }
        char c = (char)(h * 16 + l);
        if (reserved != NULL && c != '\0' && strchr(reserved, c) != NULL)
            jn_sb_append(&b, p + i, 3);
        else
            jn_sb_putc(&b, c);
        i += 2;
    }
    jn_val *r = jn_string(cx->arena, b.data ? b.data : "", b.len);
    return r;
}

static jn_val *f_decode_url_component(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return url_decode(cx, a[0], NULL);
}

static jn_val *f_decode_url(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return url_decode(cx, a[0], ";/?:@&=+$,#");
}

const jn_builtin jn__fn_string[] = {
    {"string", "<x-b?:s>", f_string},
    {"length", "<s-:n>", f_length},
    {"substring", "<s-nn?:s>", f_substring},
    {"substringBefore", "<s-s:s>", f_substring_before},
    {"substringAfter", "<s-s:s>", f_substring_after},
    {"uppercase", "<s-:s>", f_uppercase},
    {"lowercase", "<s-:s>", f_lowercase},
    {"trim", "<s-:s>", f_trim},
    {"pad", "<s-ns?:s>", f_pad},
    {"contains", "<s-(sf):b>", f_contains},
    {"split", "<s-(sf)n?:a<s>>", f_split},
    {"join", "<a<s>s?:s>", f_join},
    {"match", "<s-f<s:o>n?:a<o>>", f_match},
    {"replace", "<s-(sf)(sf)n?:s>", f_replace},
    {"base64encode", "<s-:s>", f_base64encode},
    {"base64decode", "<s-:s>", f_base64decode},
    {"encodeUrlComponent", "<s-:s>", f_encode_url_component},
    {"encodeUrl", "<s-:s>", f_encode_url},
    {"decodeUrlComponent", "<s-:s>", f_decode_url_component},
    {"decodeUrl", "<s-:s>", f_decode_url},
    {NULL, NULL, NULL},
};
