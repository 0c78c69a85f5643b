/*
 * form.c — application/x-www-form-urlencoded for form.h. Pairs are decoded into one heap
 * block each (key and value), kept in order; a map from key to the first pair makes
 * bt_form_get O(1), which matters for batch requests that look up hundreds of keys. UTF-8
 * is checked by the same strict decoder the queues use (queue/codec.h).
 */
#include "api/form.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/strmap.h"
#include "queue/codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_PAIRS 4096

struct bt_form {
    char **keys, **values;
    size_t len, cap;
    bt_strmap first; /* key -> index + 1 of its first pair */
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[from..to) into out; the offset of the first problem in *bad. */
static bool decode(const char *s, size_t from, size_t to, bt_buf *out, size_t *bad)
{
    bt_buf_reset(out);
    bt_buf_append(out, "", 0);
    for (size_t i = from; i < to; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < to ? hex_value(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
            if (lo < 0) {
                *bad = i;
                return false;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') {
            *bad = i;
            return false;
        }
        bt_buf_putc(out, c);
    }
    if (!qc_utf8_ok(out->data, out->len)) {
        *bad = from;
        return false;
    }
    return true;
}

static void add(bt_form *f, char *key, char *value)
{
    if (f->len == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        f->keys = bt_xrealloc(f->keys, f->cap * sizeof(*f->keys));
        f->values = bt_xrealloc(f->values, f->cap * sizeof(*f->values));
    }
    f->keys[f->len] = key;
    f->values[f->len] = value;
    f->len++;
    if (bt_strmap_get(&f->first, key) == NULL)
        bt_strmap_put(&f->first, key, (void *)(uintptr_t)f->len);
}

bt_form *bt_form_parse(const char *s, size_t len, size_t max_pairs, bt_err *err)
{
    bt_form *f = bt_xcalloc(1, sizeof(*f));
    bt_strmap_init(&f->first);
    if (max_pairs == 0)
        max_pairs = DEFAULT_MAX_PAIRS;
    bt_buf k, v;
    bt_buf_init(&k);
    bt_buf_init(&v);
    size_t i = 0, bad = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            if (f->len == max_pairs) {
                bt_err_set(err, BT_ELIMIT, "the form has more than %zu fields", max_pairs);
                goto fail;
            }
            if (!decode(s, i, eq, &k, &bad) || !decode(s, eq < end ? eq + 1 : end, end, &v, &bad)) {
                bt_err_set(err, BT_EINVAL, "malformed form field at offset %zu", bad);
                goto fail;
            }
            add(f, bt_buf_steal(&k), bt_buf_steal(&v));
        }
        i = end + 1;
    }
    bt_buf_fini(&k);
    bt_buf_fini(&v);
    return f;
fail:
    bt_buf_fini(&k);
    bt_buf_fini(&v);
    bt_form_free(f);
    return NULL;
}

void bt_form_free(bt_form *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->len; i++) {
        free(f->keys[i]);
        free(f->values[i]);
    }
    free(f->keys);
    free(f->values);
    bt_strmap_fini(&f->first);
    free(f);
}

const char *bt_form_get(const bt_form *f, const char *key)
{
    uintptr_t at = (uintptr_t)bt_strmap_get(&f->first, key);
    return at ? f->values[at - 1] : NULL;
}

size_t bt_form_len(const bt_form *f)
{
    return f->len;
}

void bt_form_at(const bt_form *f, size_t i, const char **key, const char **value)
{
    *key = f->keys[i];
    *value = f->values[i];
}
