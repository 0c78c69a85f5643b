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
static size_t string_size(const char *s, size_t len)
{
    size_t n = 2;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

/* One walk for payload_measure, until the size passes the limit or the depth passes the
 * writer's maximum: either decides that the value is over a limit. */
typedef struct measure {
    size_t limit;
    size_t size;   /* bytes so far; once above limit, no longer counted */
    size_t depth;  /* deepest level seen, at most BT_JSON_MAX_DEPTH + 1 */
    bool by_depth; /* the caller wants the depth */
} measure;

static bool measure_done(const measure *m)
{
    /* Stopping at the first limit passed bounds the walk by the limit even for values that
     * share subtrees (x = [x, x] doubles the text at every step, not the memory). */
    return m->size > m->limit || (m->by_depth && m->depth > BT_JSON_MAX_DEPTH);
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

/* level is v's depth as the writer counts it (1 at the top); never above MAX_DEPTH + 1. */
static void measure_rec(measure *m, json_t *v, size_t level)
{
    if (level > m->depth)
        m->depth = level;
    bool counting = m->size <= m->limit;
    if (v == NULL) {
        m->size += counting ? 4 : 0;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        m->size += counting ? 2 : 0;
        if (level > BT_JSON_MAX_DEPTH || measure_done(m)) /* decided; below is unwritable */
            return;
        const char *k;
        json_t *mv;
        size_t i = 0;
        json_object_foreach(v, k, mv)
        {
            if (m->size <= m->limit)
                m->size += string_size(k, strlen(k)) + 1 + (i ? 1 : 0);
            i++;
            measure_rec(m, mv, level + 1);
            if (measure_done(m))
                return;
        }
        return;
    }
    case JSON_ARRAY: {
        m->size += counting ? 2 : 0;
        if (level > BT_JSON_MAX_DEPTH || measure_done(m))
            return;
        size_t i;
        json_t *mv;
        json_array_foreach(v, i, mv)
        {
            if (m->size <= m->limit)
                m->size += i ? 1 : 0;
            measure_rec(m, mv, level + 1);
            if (measure_done(m))
                return;
        }
        return;
    }
    default:
        break;
    }
    if (!counting)
        return;
    switch (json_typeof(v)) {
    case JSON_STRING:
        m->size += string_size(json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        m->size += integer_size(json_integer_value(v));
        break;
    case JSON_REAL:
        m->size += 24;
        break;
    case JSON_TRUE:
    case JSON_NULL:
        m->size += 4;
        break;
    case JSON_FALSE:
        m->size += 5;
        break;
    default:
        break;
    }
}

size_t payload_measure(json_t *v, size_t size_limit, size_t *depth)
{
    measure m = {.limit = size_limit, .by_depth = depth != NULL};
    measure_rec(&m, v, 1);
    if (depth)
        *depth = m.depth;
    return m.size > size_limit ? size_limit + 1 : m.size;
}

size_t payload_size_capped(json_t *v, size_t limit)
{
    return payload_measure(v, limit, NULL);
}
