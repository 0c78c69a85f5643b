/*
 * payload.c — compiled payload templates (Parameters, ResultSelector, ItemSelector,
 * Assign, Credentials) and ".$" value expressions. Called by the state compiler (compile
 * time) and the engine (each transition). Constant subtrees are compiled to one shared
 * JSON value that evaluation increfs, so a template costs only its dynamic keys.
 */
#include "path/payload.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pexpr {
    char *text;
    jpath *path; /* exactly one of path and call is set */
    intr_call *call;
};

typedef enum { PL_CONST, PL_OBJECT, PL_ARRAY } payload_kind;

struct payload {
    payload_kind kind;
    json_t *constant; /* PL_CONST */
    size_t len;       /* PL_OBJECT / PL_ARRAY: number of members */
    char **keys;      /* PL_OBJECT: output key (".$" stripped) */
    char **fields;    /* PL_OBJECT: key as written, for causes */
    payload **values; /* a member's template, or NULL when exprs[i] is set */
    pexpr **exprs;    /* PL_OBJECT: the ".$" expression of member i, or NULL */
};

int pexpr_compile(const char *text, pexpr **out, char **errmsg)
{
    pexpr *e = bt_xcalloc(1, sizeof(*e));
    int rc;
    if (intr_is_call(text))
        rc = intr_compile(text, &e->call, errmsg);
    else if (text[0] == '$')
        rc = jpath_compile(text, 0, &e->path, errmsg);
    else {
        if (errmsg)
            *errmsg =
                bt_xasprintf("'%s' is neither a JSONPath nor an intrinsic function call", text);
        rc = BT_EINVAL;
    }
    if (rc != 0) {
        free(e);
        return rc;
    }
    e->text = bt_xstrdup(text);
    *out = e;
    return 0;
}

void pexpr_free(pexpr *e)
{
    if (e == NULL)
        return;
    jpath_free(e->path);
    intr_free(e->call);
    free(e->text);
    free(e);
}

const char *pexpr_text(const pexpr *e)
{
    return e->text;
}

const jpath *pexpr_path(const pexpr *e)
{
    return e->path;
}

int pexpr_eval(const pexpr *e, const intr_env *env, const char *field, json_t **out,
               bt_fault *fault)
{
    if (e->call)
        return intr_eval(e->call, env, out, fault);
    int rc = jpath_eval(e->path, env->paths, out);
    if (rc == 0)
        return 0;
    char *input = bt_json_dumps(env->paths->input); /* "null" when there is none */
    if (input == NULL)
        bt_fault_set(fault, "States.Runtime",
                     "The JSONPath '%s' specified for the field '%s' could not be found in the "
                     "input, which is not shown: " BT_JSON_TOO_DEEP,
                     e->text, field);
    else
        bt_fault_set(fault, "States.Runtime",
                     "The JSONPath '%s' specified for the field '%s' could not be found in the "
                     "input '%s'",
                     e->text, field, input);
    free(input);
    return BT_EFAULT;
}

static bool ends_with_dollar(const char *key, size_t len)
{
    return len >= 2 && key[len - 2] == '.' && key[len - 1] == '$';
}

static bool has_dynamic(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m)
        {
            if (ends_with_dollar(k, strlen(k)) || has_dynamic(m))
                return true;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
        {
            if (has_dynamic(m))
                return true;
        }
    }
    return false;
}

static payload *payload_alloc(payload_kind kind, size_t len)
{
    payload *p = bt_xcalloc(1, sizeof(*p));
    p->kind = kind;
    p->len = len;
    if (len) {
        p->values = bt_xcalloc(len, sizeof(*p->values));
        if (kind == PL_OBJECT) {
            p->keys = bt_xcalloc(len, sizeof(*p->keys));
            p->fields = bt_xcalloc(len, sizeof(*p->fields));
            p->exprs = bt_xcalloc(len, sizeof(*p->exprs));
        }
    }
    return p;
}

static int compile_rec(json_t *t, payload **out, char **errmsg, int depth)
{
    if (depth > 512) {
        if (errmsg)
            *errmsg = bt_xstrdup("template nested too deeply");
        return BT_ELIMIT;
    }
    if (!has_dynamic(t)) {
        payload *p = payload_alloc(PL_CONST, 0);
        p->constant = json_incref(t);
        *out = p;
        return 0;
    }
    int rc = 0;
    payload *p;
    if (json_is_object(t)) {
        p = payload_alloc(PL_OBJECT, json_object_size(t));
        size_t i = 0;
        const char *k;
        json_t *m;
        json_object_foreach(t, k, m)
        {
            size_t klen = strlen(k);
            p->fields[i] = bt_xstrdup(k);
            if (ends_with_dollar(k, klen)) {
                p->keys[i] = bt_xstrndup(k, klen - 2);
                if (!json_is_string(m)) {
                    if (errmsg)
                        *errmsg = bt_xasprintf("The value for the field '%s' must be a STRING", k);
                    rc = BT_EINVAL;
                } else {
                    rc = pexpr_compile(json_string_value(m), &p->exprs[i], errmsg);
                }
            } else {
                p->keys[i] = bt_xstrdup(k);
                rc = compile_rec(m, &p->values[i], errmsg, depth + 1);
            }
            i++;
            if (rc != 0)
                break;
        }
        p->len = i;
    } else {
        p = payload_alloc(PL_ARRAY, json_array_size(t));
        size_t i;
        json_t *m;
        json_array_foreach(t, i, m)
        {
            rc = compile_rec(m, &p->values[i], errmsg, depth + 1);
            if (rc != 0) {
                p->len = i + 1;
                break;
            }
        }
    }
    if (rc != 0) {
        payload_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int payload_compile(json_t *tmpl, payload **out, char **errmsg)
{
    return compile_rec(tmpl, out, errmsg, 0);
}

void payload_free(payload *p)
{
    if (p == NULL)
        return;
    json_decref(p->constant);
    for (size_t i = 0; i < p->len; i++) {
        payload_free(p->values[i]);
        if (p->kind == PL_OBJECT) {
            free(p->keys[i]);
            free(p->fields[i]);
            pexpr_free(p->exprs[i]);
        }
    }
    free(p->values);
    free(p->keys);
    free(p->fields);
    free(p->exprs);
    free(p);
}

bool payload_is_constant(const payload *p)
{
    return p->kind == PL_CONST;
}

int payload_eval(const payload *p, const intr_env *env, json_t **out, bt_fault *fault)
{
    if (p->kind == PL_CONST) {
        *out = json_incref(p->constant);
        return 0;
    }
    json_t *res = p->kind == PL_OBJECT ? json_object() : json_array();
    for (size_t i = 0; i < p->len; i++) {
        json_t *v = NULL;
        int rc;
        if (p->kind == PL_OBJECT && p->exprs[i])
            rc = pexpr_eval(p->exprs[i], env, p->fields[i], &v, fault);
        else
            rc = payload_eval(p->values[i], env, &v, fault);
        if (rc != 0) {
            json_decref(res);
            return rc;
        }
        if (p->kind == PL_OBJECT)
            json_object_set_new(res, p->keys[i], v);
        else
            json_array_append_new(res, v);
    }
    *out = res;
    return 0;
}

/* Length of s as a JSON string literal, quotes included. */
/* Bytes a string adds beyond its length when written: quotes are counted by the caller;
 * '"' and '\\' take a backslash, control characters at most "\\u00XX". */
static const uint8_t escape_extra[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 1, ['\\'] = 1,
};

static inline size_t string_size(const char *s, size_t len)
{
    size_t n = len + 2;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++)
        n += escape_extra[p[i]];
    return n;
}

/* One walk for payload_measure, until the size passes the limit or the depth passes the
 * writer's maximum: either decides that the value is over a limit. Stopping at the first
 * limit passed bounds the walk by the limit even for values that share subtrees
 * (x = [x, x] doubles the text at every step, not the memory). */
typedef struct measure {
    size_t limit;
    size_t depth_limit; /* BT_JSON_MAX_DEPTH, or SIZE_MAX when the depth is not wanted */
    size_t size;        /* bytes so far (may run a little past limit before the walk stops) */
    size_t depth;       /* deepest level seen, at most BT_JSON_MAX_DEPTH + 1 */
} measure;

static inline bool measure_done(const measure *m)
{
    return m->size > m->limit || m->depth > m->depth_limit;
}

static size_t integer_size(json_int_t iv)
{
    size_t digits = iv < 0 ? 2 : 1;
    unsigned long long u = iv < 0 ? 0ULL - (unsigned long long)iv : (unsigned long long)iv;
    while (u >= 10) {
        u /= 10;
        digits++;
    }
    return digits;
}

static inline size_t scalar_size(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return string_size(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return integer_size(json_integer_value(v));
    case JSON_REAL:
        return 24;
    case JSON_FALSE:
        return 5;
    default: /* true, null */
        return 4;
    }
}

/* v is a container at level (1 at the top, as the writer counts); its members are at
 * level + 1. Never descends below BT_JSON_MAX_DEPTH + 1. */
static void measure_rec(measure *m, json_t *v, size_t level)
{
    m->size += 2;
    size_t members = json_is_object(v) ? json_object_size(v) : json_array_size(v);
    size_t deepest = members ? level + 1 : level;
    if (deepest > m->depth)
        m->depth = deepest;
    if (level > BT_JSON_MAX_DEPTH || measure_done(m)) /* decided; below is unwritable */
        return;
    if (json_is_object(v)) {
        const char *k;
        size_t klen;
        json_t *mv;
        size_t i = 0;
        json_object_keylen_foreach(v, k, klen, mv)
        {
            m->size += string_size(k, klen) + 1 + (i++ ? 1 : 0);
            if (json_is_object(mv) || json_is_array(mv))
                measure_rec(m, mv, level + 1);
            else
                m->size += scalar_size(mv);
            if (measure_done(m))
                return;
        }
        return;
    }
    for (size_t i = 0; i < members; i++) {
        json_t *mv = json_array_get(v, i);
        m->size += i ? 1 : 0;
        if (json_is_object(mv) || json_is_array(mv))
            measure_rec(m, mv, level + 1);
        else
            m->size += mv ? scalar_size(mv) : 4;
        if (measure_done(m))
            return;
    }
}

size_t payload_measure(json_t *v, size_t size_limit, size_t *depth)
{
    measure m = {.limit = size_limit, .depth_limit = depth ? BT_JSON_MAX_DEPTH : SIZE_MAX};
    if (v && (json_is_object(v) || json_is_array(v))) {
        measure_rec(&m, v, 1);
    } else {
        m.size = v ? scalar_size(v) : 4;
        m.depth = 1;
    }
    if (depth)
        *depth = m.depth;
    return m.size > size_limit ? size_limit + 1 : m.size;
}

size_t payload_size_capped(json_t *v, size_t limit)
{
    return payload_measure(v, limit, NULL);
}
