/*
 * fn_array.c — array functions (docs.jsonata.org/array-functions): $count, $append,
 * $sort, $reverse, $shuffle, $distinct, $zip.
 */
#include "jsonata/jsonata_int.h"

#include <stdlib.h>
#include <string.h>

static jn_val *f_count(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return jn_number(cx->arena, a[0] ? (double)a[0]->u.arr.len : 0);
}

static jn_val *f_append(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    return jn__append(cx, a[0], n > 1 ? a[1] : NULL);
}

static jn_val *f_sort(jn_ctx *cx, jn_val **a, size_t n)
{
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    if (arr->u.arr.len <= 1)
        return arr;
    jn_val *fn = n > 1 ? a[1] : NULL;
    if (fn == NULL && !jn__is_array_of(arr, JN_NUMBER) && !jn__is_array_of(arr, JN_STRING))
        jn_throw(cx, "D3070", arr,
                 "The single argument form of the sort function can only be applied to an "
                 "array of strings or an array of numbers.  Use the second argument to "
                 "specify a comparison function");
    jn_val *r = jn__sort(cx, arr, fn, NULL, NULL, false);
    r->flags &= (uint8_t)~JN_ARR_SEQ;
    return r;
}

static jn_val *f_reverse(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    size_t len = arr->u.arr.len;
    jn_val *r = jn_array(cx->arena, len);
    for (size_t i = 0; i < len; i++)
        r->u.arr.items[i] = arr->u.arr.items[len - 1 - i];
    r->u.arr.len = len;
    return r;
}

static jn_val *f_shuffle(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *arr = a[0];
    if (arr == NULL)
        return NULL;
    size_t len = arr->u.arr.len;
    jn_val *r = jn_array(cx->arena, len);
    if (len > 0)
        memcpy(r->u.arr.items, arr->u.arr.items, len * sizeof(jn_val *));
    r->u.arr.len = len;
    for (size_t i = len; i > 1; i--) {
        size_t j = (size_t)rand() % i;
        jn_val *t = r->u.arr.items[i - 1];
        r->u.arr.items[i - 1] = r->u.arr.items[j];
        r->u.arr.items[j] = t;
    }
    return r;
}

static jn_val *f_distinct(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)n;
    jn_val *arr = a[0];
    if (!jn_is_arr(arr) || arr->u.arr.len <= 1)
        return arr;
    jn_val *r = jn_array(cx->arena, arr->u.arr.len);
    if (jn_is_seq(arr))
        r->flags |= JN_ARR_SEQ;
    for (size_t i = 0; i < arr->u.arr.len; i++) {
        jn_val *v = arr->u.arr.items[i];
        if ((i & 255) == 255)
            jn__check_time(cx); /* quadratic: 100,000 items take half a minute */
        bool seen = false;
        for (size_t k = 0; k < r->u.arr.len && !seen; k++)
            seen = jn__equal(cx, v, r->u.arr.items[k]);
        if (!seen)
            jn_push(cx->arena, r, v);
    }
    return r;
}

static jn_val *f_zip(jn_ctx *cx, jn_val **a, size_t n)
{
    size_t len = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t l = a[i] ? a[i]->u.arr.len : 0;
        if (l < len)
            len = l;
    }
    if (n == 0)
        len = 0;
    jn_val *r = jn_array(cx->arena, len);
    for (size_t k = 0; k < len; k++) {
        jn_val *t = jn_array(cx->arena, n);
        for (size_t i = 0; i < n; i++)
            jn_push(cx->arena, t, a[i]->u.arr.items[k]);
        jn_push(cx->arena, r, t);
    }
    return r;
}

const jn_builtin jn__fn_array[] = {
    {"count", "<a:n>", f_count},     {"append", "<xx:a>", f_append},
    {"sort", "<af?:a>", f_sort},     {"reverse", "<a:a>", f_reverse},
    {"shuffle", "<a:a>", f_shuffle}, {"distinct", "<x:x>", f_distinct},
    {"zip", "<a+>", f_zip},          {NULL, NULL, NULL},
};
