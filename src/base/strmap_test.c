/*
 * strmap_test.c — unit tests for strmap.c: put/get/del, duplicate keys, absent keys,
 * growth through 100,000 keys, deletion followed by reinsertion (tombstone reuse), and a
 * delete-heavy churn that must not exhaust the table.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "base/strmap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MANY 100000

static void *tag(size_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

/* MANY distinct keys "k0" … "k99999", one heap block. */
static char **make_keys(size_t n)
{
    char **keys = bt_xcalloc(n, sizeof(*keys));
    for (size_t i = 0; i < n; i++)
        keys[i] = bt_xasprintf("k%zu", i);
    return keys;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

static void empty_map(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    assert_int_equal(bt_strmap_len(&m), 0);
    assert_null(bt_strmap_get(&m, "x"));
    assert_false(bt_strmap_del(&m, "x"));
    bt_strmap_fini(&m);
    bt_strmap_fini(&m); /* fini leaves an empty map behind */
}

static void put_get_del(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    int a = 1, b = 2, c = 3;
    assert_int_equal(bt_strmap_put(&m, "alpha", &a), 0);
    assert_int_equal(bt_strmap_put(&m, "beta", &b), 0);
    assert_int_equal(bt_strmap_put(&m, "", &c), 0); /* the empty string is a key too */
    assert_int_equal(bt_strmap_len(&m), 3);
    assert_ptr_equal(bt_strmap_get(&m, "alpha"), &a);
    assert_ptr_equal(bt_strmap_get(&m, "beta"), &b);
    assert_ptr_equal(bt_strmap_get(&m, ""), &c);

    /* Lookup compares contents, not pointers. */
    char copy[] = "alpha";
    assert_ptr_equal(bt_strmap_get(&m, copy), &a);

    assert_true(bt_strmap_del(&m, "alpha"));
    assert_false(bt_strmap_del(&m, "alpha"));
    assert_null(bt_strmap_get(&m, "alpha"));
    assert_ptr_equal(bt_strmap_get(&m, "beta"), &b);
    assert_int_equal(bt_strmap_len(&m), 2);
    bt_strmap_fini(&m);
    assert_int_equal(bt_strmap_len(&m), 0);
}

static void duplicates_keep_first_value(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    int a = 1, b = 2;
    assert_int_equal(bt_strmap_put(&m, "key", &a), 0);
    char same[] = "key";
    assert_int_equal(bt_strmap_put(&m, same, &b), BT_EEXIST);
    assert_int_equal(bt_strmap_put(&m, "key", &b), BT_EEXIST);
    assert_ptr_equal(bt_strmap_get(&m, "key"), &a);
    assert_int_equal(bt_strmap_len(&m), 1);
    bt_strmap_fini(&m);
}

static void absent_keys(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    char **keys = make_keys(1000);
    for (size_t i = 0; i < 1000; i += 2)
        assert_int_equal(bt_strmap_put(&m, keys[i], tag(i)), 0);
    for (size_t i = 1; i < 1000; i += 2)
        assert_null(bt_strmap_get(&m, keys[i]));
    assert_null(bt_strmap_get(&m, "k"));
    assert_null(bt_strmap_get(&m, "k00"));
    assert_null(bt_strmap_get(&m, "k0 "));
    assert_false(bt_strmap_del(&m, "k1"));
    assert_int_equal(bt_strmap_len(&m), 500);
    bt_strmap_fini(&m);
    free_keys(keys, 1000);
}

static void many_keys_grow(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    char **keys = make_keys(MANY);
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(bt_strmap_put(&m, keys[i], tag(i)), 0);
        /* Load stays at or below 70%. */
        assert_true(m.used * 10 <= m.cap * 7);
    }
    assert_int_equal(bt_strmap_len(&m), MANY);
    for (size_t i = 0; i < MANY; i++)
        assert_ptr_equal(bt_strmap_get(&m, keys[i]), tag(i));
    for (size_t i = 0; i < MANY; i++)
        assert_int_equal(bt_strmap_put(&m, keys[i], NULL), BT_EEXIST);
    for (size_t i = 0; i < MANY; i += 3)
        assert_true(bt_strmap_del(&m, keys[i]));
    for (size_t i = 0; i < MANY; i++) {
        if (i % 3 == 0)
            assert_null(bt_strmap_get(&m, keys[i]));
        else
            assert_ptr_equal(bt_strmap_get(&m, keys[i]), tag(i));
    }
    assert_int_equal(bt_strmap_len(&m), MANY - (MANY + 2) / 3);
    bt_strmap_fini(&m);
    free_keys(keys, MANY);
}

static void delete_then_reinsert(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    char **keys = make_keys(5000);
    for (size_t i = 0; i < 5000; i++)
        assert_int_equal(bt_strmap_put(&m, keys[i], tag(i)), 0);
    for (size_t i = 0; i < 5000; i += 2)
        assert_true(bt_strmap_del(&m, keys[i]));
    /* Keys past a tombstone stay reachable, and reinserting reuses the slots. */
    for (size_t i = 1; i < 5000; i += 2)
        assert_ptr_equal(bt_strmap_get(&m, keys[i]), tag(i));
    size_t cap = m.cap;
    for (size_t i = 0; i < 5000; i += 2)
        assert_int_equal(bt_strmap_put(&m, keys[i], tag(i + 7)), 0);
    assert_int_equal(m.cap, cap);
    for (size_t i = 0; i < 5000; i++)
        assert_ptr_equal(bt_strmap_get(&m, keys[i]), tag(i % 2 ? i : i + 7));
    assert_int_equal(bt_strmap_len(&m), 5000);
    bt_strmap_fini(&m);
    free_keys(keys, 5000);
}

/* Alternating put/del of ever-new keys: tombstones must be reclaimed, not accumulate. */
static void churn(void **state)
{
    (void)state;
    bt_strmap m;
    bt_strmap_init(&m);
    char **keys = make_keys(MANY);
    assert_int_equal(bt_strmap_put(&m, "resident", tag(0)), 0);
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(bt_strmap_put(&m, keys[i], tag(i)), 0);
        if (i >= 8)
            assert_true(bt_strmap_del(&m, keys[i - 8]));
        assert_true(m.used < m.cap);
    }
    assert_int_equal(bt_strmap_len(&m), 9);
    assert_true(m.cap <= 64);
    assert_ptr_equal(bt_strmap_get(&m, "resident"), tag(0));
    for (size_t i = MANY - 8; i < MANY; i++)
        assert_ptr_equal(bt_strmap_get(&m, keys[i]), tag(i));
    bt_strmap_fini(&m);
    free_keys(keys, MANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_map),
        cmocka_unit_test(put_get_del),
        cmocka_unit_test(duplicates_keep_first_value),
        cmocka_unit_test(absent_keys),
        cmocka_unit_test(many_keys_grow),
        cmocka_unit_test(delete_then_reinsert),
        cmocka_unit_test(churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
