/*
 * vtl_methods.c — what a reference's .property and .method(args) do: the built-ins $input
 * (body, params, path, json) and $util (escapeJavaScript, urlEncode, urlDecode,
 * base64Encode, base64Decode, parseJson), and the Java methods of strings, lists and maps
 * that mapping templates use. Called by vtl_eval.c for each segment.
 *
 * Java's regular expressions (replaceAll, replaceFirst, matches, split) run on PCRE2, whose
 * syntax is a superset of the common Java one; every match is bounded by a match limit. A
 * method that does not exist, or gets arguments of the wrong kind, yields null — the
 * reference then renders as written, as Velocity does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "path/jsonpath.h"
#include "vtl/vtl_int.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Text of a value as a Java method receiving a String would see it; NULL for null. */
static char *text_of(vtl_ctx *x, json_t *v, size_t *len)
{
    if (v == NULL || v == vtl__input || v == vtl__util)
        return NULL;
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "");
    if (vtl__put_text(&b, v, x->limits.max_output) != 0) {
        bt_buf_fini(&b);
        return NULL;
    }
    *len = b.len;
    vtl__charge(x, b.len);
    return bt_buf_steal(&b);
}

static bool is(const vtl_seg *s, const char *name, size_t n_args, size_t n)
{
    return n == n_args && strcmp(s->name, name) == 0;
}

/* ---- $input ---- */

static int jsonpath_of(vtl_ctx *x, const vtl_seg *s, json_t *arg, json_t **out)
{
    *out = NULL;
    if (!json_is_string(arg))
        return 0;
    jpath *p = NULL;
    char *msg = NULL;
    if (jpath_compile(json_string_value(arg), 0, &p, &msg) != 0) {
        int rc = vtl__fail(x, s->line, s->col, BT_EINVAL, "invalid JSONPath '%s': %s",
                           json_string_value(arg), msg != NULL ? msg : "");
        free(msg);
        return rc;
    }
    json_t *body = NULL;
    int rc = vtl__body(x, s->line, s->col, &body);
    if (rc == 0) {
        jpath_env env = {.input = body};
        rc = jpath_eval(p, &env, out);
        if (rc == BT_ENOTFOUND)
            rc = 0;
        else if (rc != 0)
            rc = vtl__fail(x, s->line, s->col, rc, "JSONPath '%s' could not be evaluated",
                           json_string_value(arg));
    }
    jpath_free(p);
    return rc;
}

static json_t *param_lookup(vtl_ctx *x, const char *name)
{
    static const char *const kinds[] = {"path", "querystring", "header"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(json_object_get(x->params, kinds[i]), name);
        if (v != NULL)
            return json_incref(v);
    }
    /* Header names are case-insensitive in HTTP. */
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(x->params, "header"), k, v)
    {
        if (strcasecmp(k, name) == 0)
            return json_incref(v);
    }
    /* An absent parameter renders as "" on AWS (templates test it with .length()). */
    return json_string("");
}

static int call_input(vtl_ctx *x, const vtl_seg *s, json_t **a, size_t n, json_t **out)
{
    if (is(s, "params", 0, n)) {
        *out = json_incref(x->params);
        return 0;
    }
    if (is(s, "params", 1, n)) {
        size_t len;
        char *name = text_of(x, a[0], &len);
        *out = name != NULL ? param_lookup(x, name) : NULL;
        free(name);
        return 0;
    }
    if (is(s, "path", 1, n))
        return jsonpath_of(x, s, a[0], out);
    if (is(s, "json", 1, n)) {
        json_t *v = NULL;
        int rc = jsonpath_of(x, s, a[0], &v);
        if (rc != 0 || !json_is_string(a[0]))
            return rc;
        bt_buf b;
        bt_buf_init(&b);
        rc = bt_json_write(&b, v); /* a path that matches nothing gives null */
        json_decref(v);
        if (rc == 0)
            rc = vtl__string(x, b.data, b.len, s->line, s->col, out);
        else
            rc = vtl__fail(x, s->line, s->col, rc, "the value nests too deeply for JSON");
        bt_buf_fini(&b);
        return rc;
    }
    return 0;
}

/* ---- $util ---- */

static int call_util(vtl_ctx *x, const vtl_seg *s, json_t **a, size_t n, json_t **out)
{
    if (n != 1)
        return 0;
    size_t len;
    char *t = text_of(x, a[0], &len);
    if (t == NULL)
        return 0;
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "");
    int rc = 0;
    bool ok = true;
    if (strcmp(s->name, "escapeJavaScript") == 0) {
        vtl__escape_js(&b, t, len);
    } else if (strcmp(s->name, "urlEncode") == 0) {
        vtl__url_encode(&b, t, len);
    } else if (strcmp(s->name, "urlDecode") == 0) {
        ok = vtl__url_decode(&b, t, len, true);
    } else if (strcmp(s->name, "base64Encode") == 0) {
        vtl__base64_encode(&b, t, len);
    } else if (strcmp(s->name, "base64Decode") == 0) {
        ok = vtl__base64_decode(&b, t, len);
    } else if (strcmp(s->name, "parseJson") == 0) {
        json_error_t je;
        *out = json_loadb(t, len, JSON_DECODE_ANY, &je);
        if (*out == NULL)
            rc = vtl__fail(x, s->line, s->col, BT_EINVAL, "$util.parseJson: %s", je.text);
        ok = false;
    } else {
        ok = false;
    }
    if (ok)
        rc = vtl__string(x, b.data, b.len, s->line, s->col, out);
    bt_buf_fini(&b);
    free(t);
    return rc;
}

/* ---- regular expressions ---- */

static int compile_regex(vtl_ctx *x, const vtl_seg *s, const char *pat, size_t len,
                         pcre2_code **out)
{
    int code;
    PCRE2_SIZE off;
    if (len > 1000)
        return vtl__fail(x, s->line, s->col, BT_EINVAL,
                         "regular expression longer than 1000 characters");
    *out =
        pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (*out == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return vtl__fail(x, s->line, s->col, BT_EINVAL,
                         "invalid regular expression at offset %zu: %s", (size_t)off,
                         (const char *)msg);
    }
    return 0;
}

/* A match may backtrack up to REGEX_MATCH_LIMIT times; each costs the render
 * REGEX_MATCH_STEPS steps, so the step limit bounds the time spent matching too. */
#define REGEX_MATCH_LIMIT 100000
#define REGEX_MATCH_STEPS 1000

typedef struct matcher {
    vtl_ctx *x;
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mc;
} matcher;

static void matcher_init(matcher *m, vtl_ctx *x, pcre2_code *re)
{
    m->x = x;
    m->re = re;
    m->md = pcre2_match_data_create_from_pattern(re, NULL);
    m->mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(m->mc, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(m->mc, 10000);
}

static void matcher_fini(matcher *m)
{
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mc);
    pcre2_code_free(m->re);
}

/* Matches at or after start; 1 found, 0 none, negative an error (limit reached). */
static int find(matcher *m, const char *subject, size_t len, size_t start, size_t *ms, size_t *me)
{
    vtl__charge(m->x, (size_t)REGEX_MATCH_STEPS * VTL_BYTES_PER_STEP);
    if (m->x->steps > m->x->limits.max_steps)
        return -1;
    int rc = pcre2_match(m->re, (PCRE2_SPTR)subject, len, start, 0, m->md, m->mc);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* Appends Java's replacement text: $n is group n, \c is c. */
static void put_replacement(matcher *m, bt_buf *b, const char *subject, const char *rep,
                            size_t rep_len)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    uint32_t groups = pcre2_get_ovector_count(m->md);
    for (size_t i = 0; i < rep_len; i++) {
        if (rep[i] == '\\' && i + 1 < rep_len) {
            bt_buf_putc(b, rep[++i]);
        } else if (rep[i] == '$' && i + 1 < rep_len && rep[i + 1] >= '0' && rep[i + 1] <= '9') {
            uint32_t g = (uint32_t)(rep[++i] - '0');
            if (g < groups && ov[2 * g] != PCRE2_UNSET)
                bt_buf_append(b, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        } else {
            bt_buf_putc(b, rep[i]);
        }
    }
}

/* Bytes of the UTF-8 character at s[i]. */
static size_t char_len(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return i + k > n ? n - i : k;
}

static int regex_method(vtl_ctx *x, const vtl_seg *s, const char *str, size_t len, json_t **a,
                        size_t n, json_t **out)
{
    bool all = is(s, "replaceAll", 2, n), first = is(s, "replaceFirst", 2, n);
    bool matches = is(s, "matches", 1, n), split = is(s, "split", 1, n);
    if (!all && !first && !matches && !split)
        return 1;
    size_t plen, rlen = 0;
    char *pat = text_of(x, a[0], &plen), *rep = n > 1 ? text_of(x, a[1], &rlen) : NULL;
    pcre2_code *re = NULL;
    int rc = 0;
    if (pat == NULL || (n > 1 && rep == NULL) || (rc = compile_regex(x, s, pat, plen, &re)) != 0)
        goto out;
    matcher m;
    matcher_init(&m, x, re);
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "");
    size_t pos = 0, last = 0, ms = 0, me = 0;
    int found = 0;
    if (matches) {
        found = find(&m, str, len, 0, &ms, &me);
        /* Java's matches() needs the whole string: retry anchored when the first match is
         * shorter. */
        if (found == 1 && (ms != 0 || me != len)) {
            bt_buf anchored;
            bt_buf_init(&anchored);
            bt_buf_printf(&anchored, "(?:%.*s)\\z", (int)plen, pat);
            pcre2_code *re2 = NULL;
            if (compile_regex(x, s, anchored.data, anchored.len, &re2) == 0) {
                found = pcre2_match(re2, (PCRE2_SPTR)str, len, 0, PCRE2_ANCHORED, m.md, m.mc) >= 0;
                pcre2_code_free(re2);
            }
            bt_buf_fini(&anchored);
        }
        if (found >= 0)
            *out = json_boolean(found == 1);
    } else if (split) {
        *out = json_array();
        while (pos <= len && (found = find(&m, str, len, pos, &ms, &me)) == 1) {
            if (me == 0 && ms == 0) {
                pos = len > 0 ? char_len(str, len, 0) : 1;
                continue;
            }
            if (me == ms && ms >= len)
                break;
            json_array_append_new(*out, json_stringn_nocheck(str + last, ms - last));
            last = me;
            pos = me > ms ? me : me + char_len(str, len, me);
            if ((rc = vtl__step(x, s->line, s->col)) != 0)
                break;
        }
        json_array_append_new(*out, json_stringn_nocheck(str + last, len - last));
        /* Java drops trailing empty strings. */
        while (json_array_size(*out) > 1 &&
               json_string_length(json_array_get(*out, json_array_size(*out) - 1)) == 0)
            json_array_remove(*out, json_array_size(*out) - 1);
    } else {
        while (pos <= len && (found = find(&m, str, len, pos, &ms, &me)) == 1) {
            bt_buf_append(&b, str + last, ms - last);
            put_replacement(&m, &b, str, rep, rlen);
            last = me;
            if (me == ms) {
                if (me >= len)
                    break;
                size_t k = char_len(str, len, me);
                bt_buf_append(&b, str + me, k);
                last = me + k;
                pos = me + k;
            } else {
                pos = me;
            }
            if (first || b.len > x->limits.max_output)
                break;
            if ((rc = vtl__step(x, s->line, s->col)) != 0)
                break;
        }
        if (last < len)
            bt_buf_append(&b, str + last, len - last);
        if (rc == 0 && found >= 0)
            rc = vtl__string(x, b.data, b.len, s->line, s->col, out);
    }
    if (rc == 0 && found < 0) {
        json_decref(*out);
        *out = NULL;
        rc = vtl__fail(x, s->line, s->col, BT_ELIMIT, "regular expression match limit reached");
    }
    bt_buf_fini(&b);
    matcher_fini(&m);
out:
    free(pat);
    free(rep);
    return rc;
}

/* ---- strings, lists, maps ---- */

static json_t *str_index(const char *s, size_t len, const char *needle, size_t nlen)
{
    if (nlen > len)
        return json_integer(-1);
    for (size_t i = 0; i + nlen <= len; i++) {
        if (memcmp(s + i, needle, nlen) == 0)
            return json_integer((json_int_t)vtl__utf16_len(s, i));
    }
    return json_integer(-1);
}

static int call_string(vtl_ctx *x, const vtl_seg *s, json_t *target, json_t **a, size_t n,
                       json_t **out)
{
    const char *str = json_string_value(target);
    size_t len = json_string_length(target);
    vtl__charge(x, len); /* each method scans or copies the string */
    int rc = regex_method(x, s, str, len, a, n, out);
    if (rc <= 0)
        return rc;
    if (is(s, "length", 0, n)) {
        *out = json_integer((json_int_t)vtl__utf16_len(str, len));
        return 0;
    }
    if (is(s, "isEmpty", 0, n)) {
        *out = json_boolean(len == 0);
        return 0;
    }
    if (is(s, "trim", 0, n)) {
        size_t b = 0, e = len;
        while (b < e && (unsigned char)str[b] <= ' ')
            b++;
        while (e > b && (unsigned char)str[e - 1] <= ' ')
            e--;
        *out = json_stringn_nocheck(str + b, e - b);
        return 0;
    }
    if (is(s, "toUpperCase", 0, n) || is(s, "toLowerCase", 0, n)) {
        char *c = bt_xstrndup(str, len);
        bool up = s->name[2] == 'U';
        for (size_t i = 0; i < len; i++) {
            if (up && c[i] >= 'a' && c[i] <= 'z')
                c[i] = (char)(c[i] - 32);
            else if (!up && c[i] >= 'A' && c[i] <= 'Z')
                c[i] = (char)(c[i] + 32);
        }
        *out = json_stringn_nocheck(c, len);
        free(c);
        return 0;
    }
    if (is(s, "substring", 1, n) || is(s, "substring", 2, n)) {
        size_t units = vtl__utf16_len(str, len);
        if (!json_is_integer(a[0]) || (n == 2 && !json_is_integer(a[1])))
            return 0;
        json_int_t from = json_integer_value(a[0]);
        json_int_t to = n == 2 ? json_integer_value(a[1]) : (json_int_t)units;
        if (from < 0 || to < from || (size_t)to > units)
            return 0;
        size_t b = vtl__utf16_offset(str, len, (size_t)from);
        size_t e = vtl__utf16_offset(str, len, (size_t)to);
        *out = json_stringn_nocheck(str + b, e - b);
        return 0;
    }
    size_t alen = 0, blen = 0;
    char *arg = n >= 1 ? text_of(x, a[0], &alen) : NULL;
    char *arg2 = n >= 2 ? text_of(x, a[1], &blen) : NULL;
    if (arg == NULL) {
        /* every method left takes at least one argument */
    } else if (is(s, "contains", 1, n)) {
        json_t *at = str_index(str, len, arg, alen);
        *out = json_boolean(json_integer_value(at) >= 0);
        json_decref(at);
    } else if (is(s, "indexOf", 1, n)) {
        *out = str_index(str, len, arg, alen);
    } else if (is(s, "startsWith", 1, n)) {
        *out = json_boolean(alen <= len && memcmp(str, arg, alen) == 0);
    } else if (is(s, "endsWith", 1, n)) {
        *out = json_boolean(alen <= len && memcmp(str + len - alen, arg, alen) == 0);
    } else if (is(s, "equals", 1, n)) {
        *out = json_boolean(json_is_string(a[0]) && alen == len && memcmp(str, arg, len) == 0);
    } else if (is(s, "equalsIgnoreCase", 1, n)) {
        *out = json_boolean(alen == len && strncasecmp(str, arg, len) == 0);
    } else if (is(s, "replace", 2, n) && arg2 != NULL) {
        bt_buf b;
        bt_buf_init(&b);
        bt_buf_puts(&b, "");
        for (size_t i = 0; i < len;) {
            if (alen > 0 && i + alen <= len && memcmp(str + i, arg, alen) == 0) {
                bt_buf_append(&b, arg2, blen);
                i += alen;
            } else {
                bt_buf_putc(&b, str[i++]);
            }
            if (b.len > x->limits.max_output)
                break;
        }
        rc = vtl__string(x, b.data, b.len, s->line, s->col, out);
        bt_buf_fini(&b);
    }
    free(arg);
    free(arg2);
    return rc < 0 ? rc : 0;
}

static int call_collection(vtl_ctx *x, const vtl_seg *s, json_t *target, json_t **a, size_t n,
                           json_t **out)
{
    bool list = json_is_array(target);
    size_t size = list ? json_array_size(target) : json_object_size(target);
    if (is(s, "size", 0, n) || (list && is(s, "count", 0, n))) {
        *out = json_integer((json_int_t)size);
    } else if (is(s, "isEmpty", 0, n)) {
        *out = json_boolean(size == 0);
    } else if (list && is(s, "get", 1, n)) {
        if (json_is_integer(a[0]) && json_integer_value(a[0]) >= 0 &&
            (size_t)json_integer_value(a[0]) < size)
            *out = json_incref(json_array_get(target, (size_t)json_integer_value(a[0])));
    } else if (list && is(s, "contains", 1, n)) {
        bool found = false;
        for (size_t i = 0; i < size && !found; i++)
            if (vtl__equal(json_array_get(target, i), a[0], x->limits.max_output, &found) != 0)
                return vtl__fail(x, s->line, s->col, BT_ELIMIT,
                                 "a comparison of more than %zu bytes", x->limits.max_output);
        *out = json_boolean(found);
    } else if (list && is(s, "add", 1, n)) {
        int rc = vtl__check_cycle(x, target, a[0], s->line, s->col);
        if (rc != 0)
            return rc;
        if (size >= x->limits.max_iterations)
            return vtl__fail(x, s->line, s->col, BT_ELIMIT, "a list longer than %zu items",
                             x->limits.max_iterations);
        json_array_append(target, a[0] != NULL ? a[0] : json_null());
        *out = json_true();
    } else if (!list && (is(s, "get", 1, n) || is(s, "containsKey", 1, n))) {
        size_t len;
        char *k = text_of(x, a[0], &len);
        json_t *v = k != NULL ? json_object_getn(target, k, len) : NULL;
        *out = s->name[0] == 'g' ? json_incref(v) : json_boolean(v != NULL);
        free(k);
    } else if (!list && (is(s, "keySet", 0, n) || is(s, "values", 0, n))) {
        const char *k;
        json_t *v;
        bool keys = s->name[0] == 'k';
        *out = json_array();
        json_object_foreach(target, k, v)
        {
            json_array_append_new(*out, keys ? json_string_nocheck(k) : json_incref(v));
        }
    } else if (!list && is(s, "put", 2, n)) {
        size_t len;
        char *k = text_of(x, a[0], &len);
        int rc = k != NULL ? vtl__check_cycle(x, target, a[1], s->line, s->col) : 0;
        if (rc == 0 && k != NULL) {
            *out = json_incref(json_object_getn(target, k, len));
            json_object_setn_nocheck(target, k, len, a[1] != NULL ? a[1] : json_null());
        }
        free(k);
        return rc;
    }
    return 0;
}

int vtl__call(vtl_ctx *x, json_t *target, const vtl_seg *s, json_t **args, size_t n, json_t **out)
{
    *out = NULL;
    if (target == vtl__input)
        return call_input(x, s, args, n, out);
    if (target == vtl__util)
        return call_util(x, s, args, n, out);
    if (is(s, "toString", 0, n)) {
        size_t len;
        char *t = text_of(x, target, &len);
        int rc = t != NULL ? vtl__string(x, t, len, s->line, s->col, out) : 0;
        free(t);
        return rc;
    }
    if (json_is_string(target))
        return call_string(x, s, target, args, n, out);
    if (json_is_array(target) || json_is_object(target))
        return call_collection(x, s, target, args, n, out);
    if (is(s, "equals", 1, n)) {
        bool same;
        if (vtl__equal(target, args[0], x->limits.max_output, &same) != 0)
            return vtl__fail(x, s->line, s->col, BT_ELIMIT, "a comparison of more than %zu bytes",
                             x->limits.max_output);
        *out = json_boolean(same);
    }
    return 0;
}

json_t *vtl__property(vtl_ctx *x, json_t *target, const char *name)
{
    if (target == vtl__input) {
        if (strcmp(name, "body") != 0)
            return NULL;
        const vtl_request *r = x->req;
        return json_stringn_nocheck(r->body != NULL ? r->body : "", r->body_len);
    }
    if (json_is_object(target))
        return json_incref(json_object_get(target, name));
    return NULL;
}
