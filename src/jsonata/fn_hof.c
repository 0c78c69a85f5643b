/*
 * fn_hof.c — higher-order functions (docs.jsonata.org/higher-order-functions): $map,
 * $filter, $single, $reduce, $each, $sift. A function argument receives as many of
 * (value, index/key, array/object) as it declares parameters.
 */
#include "jsonata/jsonata_int.h"

static jn_val *call3(jn_ctx *cx, jn_val *fn, jn_val *x, jn_val *y, jn_val *z)
{
    jn_val *args[3] = {x, y, z};
    size_t arity = jn_fn_arity(fn);
    if (arity > 3)
        arity = 3;
    if (arity < 1)
        arity = 1;
    return jn_call(cx, fn, args, arity);
}

static jn_val *f_map(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    jn_val *r = jn_seq(cx->arena);
    for (size_t i = 0; i < arr->u.arr.len; i++) {
        jn_val *v = call3(cx, a[1], arr->u.arr.items[i], jn_number(cx->arena, (double)i), arr);
        if (v != NULL)
            jn_push(cx->arena, r, v);
    }
    return r;
}

static jn_val *f_filter(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    jn_val *r = jn_seq(cx->arena);
    for (size_t i = 0; i < arr->u.arr.len; i++) {
        jn_val *item = arr->u.arr.items[i];
        jn_val *v = call3(cx, a[1], item, jn_number(cx->arena, (double)i), arr);
        if (jn__truthy(cx, v) == 1)
            jn_push(cx->arena, r, item);
    }
    return r;
}

static jn_val *f_single(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    jn_val *fn = n > 1 ? a[1] : NULL;
    jn_val *result = NULL;
    bool found = false;
    for (size_t i = 0; i < arr->u.arr.len; i++) {
        jn_val *item = arr->u.arr.items[i];
        bool ok = true;
        if (fn != NULL)
            ok = jn__truthy(cx, call3(cx, fn, item, jn_number(cx->arena, (double)i), arr)) == 1;
        if (ok) {
            if (found)
                jn_throw(cx, "D3138", NULL,
                         "The $single() function expected exactly 1 matching result.  Instead "
                         "it matched more.");
            result = item;
            found = true;
        }
    }
    if (!found)
        jn_throw(cx, "D3139", NULL,
                 "The $single() function expected exactly 1 matching result.  Instead it "
                 "matched 0.");
    return result;
}

static jn_val *f_reduce(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    jn_val *fn = a[1];
    size_t arity = jn_fn_arity(fn);
    if (arity < 2)
        jn_throw(cx, "D3050", fn,
                 "The second argument of reduce function must be a function with at least two "
                 "arguments");
    jn_val *init = n > 2 ? a[2] : NULL;
    jn_val *acc;
    size_t i;
    if (init == NULL && arr->u.arr.len > 0) {
        acc = arr->u.arr.items[0];
        i = 1;
    } else {
        acc = init;
        i = 0;
    }
    for (; i < arr->u.arr.len; i++) {
        jn_val *args[4] = {acc, arr->u.arr.items[i], jn_number(cx->arena, (double)i), arr};
        acc = jn_call(cx, fn, args, arity >= 4 ? 4 : arity);
    }
    return acc;
}

static jn_val *f_each(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *obj = a[0];
    if (obj == NULL)
        return NULL;
    jn_val *r = jn_seq(cx->arena);
    jn_entry *e;
    for (size_t i = 0; jn_obj_next(obj, &i, &e);) {
        jn_val *v = call3(cx, a[1], e->val, jn_string_ref(cx->arena, e->key, e->klen), obj);
        if (v != NULL)
            jn_push(cx->arena, r, v);
    }
    return r;
}

static jn_val *f_sift(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *obj = a[0];
    if (obj == NULL)
        return NULL;
    jn_val *r = jn_object(cx->arena);
    jn_entry *e;
    for (size_t i = 0; jn_obj_next(obj, &i, &e);) {
        jn_val *v = call3(cx, a[1], e->val, jn_string_ref(cx->arena, e->key, e->klen), obj);
        if (jn__truthy(cx, v) == 1)
            jn_obj_set(cx->arena, r, e->key, e->klen, e->val);
    }
    if (jn_obj_len(r) == 0)
        return NULL;
    return r;
}

const jn_builtin jn__fn_hof[] = {
    {"map", "<af>", f_map},
    {"filter", "<af>", f_filter},
    {"single", "<af?>", f_single},
    {"reduce", "<afj?:j>", f_reduce},
    {"each", "<o-f:a>", f_each},
    {"sift", "<o-f?:o>", f_sift},
    {NULL, NULL, NULL},
};
