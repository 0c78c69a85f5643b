/*
 * intrinsics_array.c — the array functions: States.Array, ArrayPartition, ArrayContains,
 * ArrayRange, ArrayGetItem, ArrayLength and ArrayUnique (with a structural hash consistent
 * with json_equal). Called by intr_eval's dispatch (intrinsics.c); numbers are narrowed as
 * Java ints (intrinsics_math.c) and ArrayContains compares printed text (intrinsics_print.c).
 * Results are bounded: ArrayRange yields at most MAX_ARRAY_ITEMS items.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "path/intrinsics_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ARRAY_ITEMS 1000 /* States.ArrayRange result limit */

/* --- Arrays -------------------------------------------------------------------------------- */

int intr__fn_array(json_t **v, size_t n, json_t **out)
{
    json_t *r = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(r, v[i]);
    *out = r;
    return 0;
}

int intr__fn_array_partition(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t size;
    if (n != 2 || !json_is_array(v[0]) || !intr__int32_truncated(v[1], &size) || size <= 0)
        return intr__invalid(x, FN_ARRAY_PARTITION);
    json_t *r = json_array();
    size_t len = json_array_size(v[0]);
    for (size_t i = 0; i < len; i += (size_t)size) {
        json_t *chunk = json_array();
        for (size_t k = i; k < len && k - i < (size_t)size; k++)
            json_array_append(chunk, json_array_get(v[0], k));
        json_array_append_new(r, chunk);
    }
    *out = r;
    return 0;
}

/* AWS compares as text here (true matches "true", key order matters). */
int intr__fn_array_contains(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 2 || !json_is_array(v[0]))
        return intr__invalid(x, FN_ARRAY_CONTAINS);
    bt_buf want, item;
    bt_buf_init(&want);
    bt_buf_init(&item);
    int rc = intr__put_text(&want, v[1], 1);
    bool found = false;
    for (size_t i = 0; i < json_array_size(v[0]) && !found && rc == 0; i++) {
        bt_buf_reset(&item);
        rc = intr__put_text(&item, json_array_get(v[0], i), 1);
        found = rc == 0 && item.len == want.len &&
                memcmp(item.data ? item.data : "", want.data ? want.data : "", want.len) == 0;
    }
    bt_buf_fini(&want);
    bt_buf_fini(&item);
    if (rc != 0)
        return intr__too_deep(x);
    *out = json_boolean(found);
    return 0;
}

int intr__fn_array_range(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t first, last, step;
    if (n != 3 || !intr__int32_truncated(v[0], &first) || !intr__int32_truncated(v[1], &last) ||
        !intr__int32_truncated(v[2], &step) || step == 0)
        return intr__invalid(x, FN_ARRAY_RANGE);
    int64_t count = 0;
    if (step > 0 && last >= first)
        count = ((int64_t)last - first) / step + 1;
    else if (step < 0 && last <= first)
        count = ((int64_t)first - last) / -(int64_t)step + 1;
    if (count > MAX_ARRAY_ITEMS)
        return intr__invalid(x, FN_ARRAY_RANGE);
    json_t *r = json_array();
    for (int64_t i = 0; i < count; i++)
        json_array_append_new(r, json_integer((json_int_t)(first + i * step)));
    *out = r;
    return 0;
}

int intr__fn_array_get_item(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t index;
    if (n != 2 || !json_is_array(v[0]) || !intr__int32_truncated(v[1], &index))
        return intr__invalid(x, FN_ARRAY_GET_ITEM);
    size_t len = json_array_size(v[0]);
    if (len == 0) { /* observed: AWS yields null for any index into an empty array */
        *out = json_null();
        return 0;
    }
    if (index < 0 || (size_t)index >= len)
        return intr__invalid(x, FN_ARRAY_GET_ITEM);
    *out = json_incref(json_array_get(v[0], (size_t)index));
    return 0;
}

int intr__fn_array_length(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_array(v[0]))
        return intr__invalid(x, FN_ARRAY_LENGTH);
    *out = json_integer((json_int_t)json_array_size(v[0]));
    return 0;
}

/* Structural hash consistent with json_equal (object member order does not matter). */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static uint64_t json_hash(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        uint64_t h = 0x0b;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)(uintptr_t)v, key, val)
        {
            h += mix64(hash_bytes(key, strlen(key)) ^ json_hash(val));
        }
        return mix64(h);
    }
    case JSON_ARRAY: {
        uint64_t h = 0x0a;
        for (size_t i = 0; i < json_array_size(v); i++)
            h = mix64(h * 31 + json_hash(json_array_get(v, i)));
        return h;
    }
    case JSON_STRING:
        return hash_bytes(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return mix64((uint64_t)json_integer_value(v) ^ 0x1);
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t bits;
        if (d == 0)
            d = 0; /* -0.0 equals 0.0 */
        memcpy(&bits, &d, sizeof(bits));
        return mix64(bits ^ 0x2);
    }
    case JSON_TRUE:
        return 0x3;
    case JSON_FALSE:
        return 0x4;
    case JSON_NULL:
        return 0x5;
    }
    return 0;
}

/*
 * Duplicates removed, first occurrence kept. (AWS returns the survivors in Java HashSet
 * order, which is not reproduced.)
 */
int intr__fn_array_unique(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_array(v[0]))
        return intr__invalid(x, FN_ARRAY_UNIQUE);
    size_t len = json_array_size(v[0]);
    size_t nb = 16;
    while (nb < len * 2)
        nb *= 2;
    size_t *head = bt_xmalloc(nb * sizeof(*head)); /* bucket -> 1 + index into kept */
    size_t *next = bt_xmalloc((len ? len : 1) * sizeof(*next));
    uint64_t *hashes = bt_xmalloc((len ? len : 1) * sizeof(*hashes));
    memset(head, 0, nb * sizeof(*head));
    json_t *r = json_array();
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(v[0], i);
        uint64_t h = json_hash(e);
        size_t bucket = (size_t)(h & (nb - 1));
        bool dup = false;
        for (size_t k = head[bucket]; k != 0 && !dup; k = next[k - 1])
            dup = hashes[k - 1] == h && json_equal(json_array_get(r, k - 1), e);
        if (dup)
            continue;
        size_t idx = json_array_size(r);
        json_array_append(r, e);
        hashes[idx] = h;
        next[idx] = head[bucket];
        head[bucket] = idx + 1;
    }
    free(head);
    free(next);
    free(hashes);
    *out = r;
    return 0;
}
