/*
 * fn_object.c — object functions (docs.jsonata.org/object-functions) and the boolean
 * ones: $keys, $lookup, $spread, $merge, $type, $error, $assert, $boolean, $not,
 * $exists, $clone.
 */
#include "jsonata/jsonata_int.h"

#include <string.h>

static void collect_keys(jn_ctx *cx, jn_val *v, jn_val *seen, jn_val *out)
{
    jn__check_stack(cx);
    jn__tick(cx); /* a value that shares its parts: the walk may be exponential */
    if (jn_is_arr(v)) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            collect_keys(cx, v->u.arr.items[i], seen, out);
    } else if (jn_is_obj(v)) {
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(v, &i, &e);) {
            if (jn_obj_get(seen, e->key, e->klen) != NULL)
                continue;
            jn_obj_set(cx->arena, seen, e->key, e->klen, JN_TRUE);
            jn_push(cx->arena, out, jn_string_ref(cx->arena, e->key, e->klen));
        }
    }
}

static jn_val *f_keys(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *r = jn_seq(cx->arena);
    collect_keys(cx, a[0], jn_object(cx->arena), r);
    return r;
}

static jn_val *f_lookup(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[1] == NULL)
        return NULL;
    return jn__lookup(cx, a[0], a[1]->u.str.s, a[1]->u.str.len);
}

static jn_val *spread(jn_ctx *cx, jn_val *v)
{
    jn__check_stack(cx);
    jn__tick(cx); /* a value that shares its parts: the walk may be exponential */
    if (jn_is_arr(v)) {
        jn_val *r = jn_seq(cx->arena);
        for (size_t i = 0; i < v->u.arr.len; i++)
            r = jn__append(cx, r, spread(cx, v->u.arr.items[i]));
        return r;
    }
    if (jn_is_obj(v)) {
        jn_val *r = jn_seq(cx->arena);
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(v, &i, &e);) {
            jn_val *o = jn_object(cx->arena);
            jn_obj_set(cx->arena, o, e->key, e->klen, e->val);
            jn_push(cx->arena, r, o);
        }
        return r;
    }
    return v;
}

static jn_val *f_spread(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return spread(cx, a[0]);
}

static jn_val *f_merge(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    if (a[0] == NULL)
        return NULL;
    jn_val *r = jn_object(cx->arena);
    for (size_t i = 0; i < a[0]->u.arr.len; i++) {
        jn_entry *e;
        for (size_t k = 0; jn_obj_next(a[0]->u.arr.items[i], &k, &e);)
            jn_obj_set(cx->arena, r, e->key, e->klen, e->val);
    }
    return r;
}

static jn_val *f_type(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    static const char *const names[] = {NULL,     "null",  "boolean", "number",
                                        "string", "array", "object",  "function"};
    jn_type t = jn_typeof(a[0]);
    if (t == JN_UNDEFINED)
        return NULL;
    return jn_string_ref(cx->arena, names[t], strlen(names[t]));
}

static jn_val *f_error(jn_ctx *cx, jn_val **a, size_t n)
{
    if (n > 0 && a[0] != NULL)
        jn_throw(cx, "D3137", NULL, "%.*s", (int)a[0]->u.str.len, a[0]->u.str.s);
    jn_throw(cx, "D3137", NULL, "$error() function evaluated");
}

static jn_val *f_assert(jn_ctx *cx, jn_val **a, size_t n)
{
    if (a[0] != NULL && a[0]->u.b)
        return NULL;
    if (n > 1 && a[1] != NULL)
        jn_throw(cx, "D3141", NULL, "%.*s", (int)a[1]->u.str.len, a[1]->u.str.s);
    jn_throw(cx, "D3141", NULL, "$assert() statement failed");
}

static jn_val *f_boolean(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)cx;
    (void)n;
    int t = jn__truthy(cx, a[0]);
    return t < 0 ? NULL : jn_bool(t == 1);
}

static jn_val *f_not(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)cx;
    (void)n;
    int t = jn__truthy(cx, a[0]);
    return t < 0 ? NULL : jn_bool(t != 1);
}

static jn_val *f_exists(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)cx;
    (void)n;
    return jn_bool(a[0] != NULL);
}

static jn_val *f_clone(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *r = jn_clone(cx->arena, a[0]);
    if (r == NULL && a[0] != NULL)
        jn_throw(cx, "U1001", a[0], "The value nests too deeply to copy");
    return r;
}

const jn_builtin jn__fn_object[] = {
    {"keys", "<x-:a<s>>", f_keys},     {"lookup", "<x-s:x>", f_lookup},
    {"spread", "<x-:a<o>>", f_spread}, {"merge", "<a<o>:o>", f_merge},
    {"type", "<x:s>", f_type},         {"error", "<s?:x>", f_error},
    {"assert", "<bs?:x>", f_assert},   {"boolean", "<x-:b>", f_boolean},
    {"not", "<x-:b>", f_not},          {"exists", "<x:b>", f_exists},
    {"clone", "<(oa)-:o>", f_clone},   {NULL, NULL, NULL},
};
