/*
 * value_test.c — unit tests for value.c: small integers carried in the pointer and other
 * numbers boxed, insertion order and the hash index of big objects, deletion, deep
 * equality and copying, UTF-16 counting, JavaScript number text, the arena's limit, and
 * the round trip through jansson.
 */
#include "jsonata/value.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void numbers(void **state)
{
    (void)state;
    jn_arena a;
    jn_arena_init(&a, 0);
    jn_val *one = jn_number(&a, 1);
    assert_true(jn_is_small(one));
    assert_int_equal(jn_typeof(one), JN_NUMBER);
    assert_true(jn_num(one) == 1.0);
    jn_val *neg = jn_number(&a, -123456789012.0);
    assert_true(jn_is_small(neg));
    assert_true(jn_num(neg) == -123456789012.0);
    jn_val *half = jn_number(&a, 0.5);
    assert_false(jn_is_small(half));
    assert_true(jn_num(half) == 0.5);
    jn_val *negzero = jn_number(&a, -0.0);
    assert_false(jn_is_small(negzero)); /* -0 keeps its sign */
    jn_val *big = jn_number(&a, 1e300);
    assert_true(jn_num(big) == 1e300);
    jn_arena_fini(&a);
}

static void objects_keep_order_and_index(void **state)
{
    (void)state;
    jn_arena a;
    jn_arena_init(&a, 0);
    jn_val *o = jn_object(&a);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        jn_obj_set(&a, o, jn_strndup(&a, key, strlen(key)), strlen(key), jn_number(&a, i));
    }
    assert_int_equal(jn_obj_len(o), 1000);
    assert_true(jn_num(jn_obj_get(o, "k777", 4)) == 777);
    assert_null(jn_obj_get(o, "k1000", 5));
    jn_obj_set(&a, o, "k5", 2, JN_TRUE); /* replace keeps the position */
    jn_obj_del(o, "k0", 2);
    assert_int_equal(jn_obj_len(o), 999);
    size_t i = 0;
    jn_entry *e;
    assert_true(jn_obj_next(o, &i, &e));
    assert_int_equal(e->klen, 2);
    assert_memory_equal(e->key, "k1", 2);
    assert_ptr_equal(jn_obj_get(o, "k5", 2), JN_TRUE);
    jn_arena_fini(&a);
}

/* JavaScript's order: array-index keys first, ascending, then the rest as inserted */
static void index_keys_first(void **state)
{
    (void)state;
    jn_arena a;
    jn_arena_init(&a, 0);
    json_t *j = json_loads("{\"b\":1,\"10\":2,\"2\":3,\"a\":4,\"01\":5,\"0\":6}", 0, NULL);
    jn_val *v = jn_from_json_borrow(&a, j);
    static const char *const order[] = {"0", "2", "10", "b", "a", "01"};
    size_t i = 0, k = 0;
    jn_entry *e;
    while (jn_obj_next(v, &i, &e)) {
        assert_true(k < 6);
        assert_int_equal(e->klen, strlen(order[k]));
        assert_memory_equal(e->key, order[k], e->klen);
        k++;
    }
    assert_int_equal(k, 6);
    assert_true(jn_num(jn_obj_get(v, "10", 2)) == 2); /* lookups still find moved keys */
    jn_obj_set(&a, v, "1", 1, JN_TRUE);
    i = 0;
    jn_obj_next(v, &i, &e);
    jn_obj_next(v, &i, &e);
    assert_memory_equal(e->key, "1", 1);
    json_decref(j);
    jn_arena_fini(&a);
}

static void equality_and_clone(void **state)
{
    (void)state;
    jn_arena a;
    jn_arena_init(&a, 0);
    json_t *j = json_loads("{\"a\":[1,2,{\"b\":\"x\"}],\"c\":null,\"d\":true}", 0, NULL);
    jn_val *v = jn_from_json(&a, j);
    jn_val *w = jn_clone(&a, v);
    assert_ptr_not_equal(v, w);
    assert_true(jn_deep_equal(v, w));
    jn_obj_set(&a, w, "c", 1, jn_number(&a, 0));
    assert_false(jn_deep_equal(v, w));
    assert_true(jn_obj_get(v, "c", 1) == JN_NULLV); /* the copy is independent */
    json_t *back = jn_to_json(v);
    assert_true(json_equal(j, back));
    json_decref(back);
    json_decref(j);
    jn_arena_fini(&a);
}

/* Input read in place: lookups before and after the object is read in full, the same
 * JSON handed back while unchanged, a copy once changed or when JavaScript's key order
 * differs from the input's. */
static void lazy_input(void **state)
{
    (void)state;
    jn_arena a;
    jn_arena_init(&a, 0);
    json_t *j =
        json_loads("{\"a\":{\"x\":1,\"y\":[2,{\"z\":\"s\"}]},\"b\":2.5,\"c\":\"t\"}", 0, NULL);
    jn_val *v = jn_from_json_borrow(&a, j);
    assert_true(v->flags & JN_OBJ_LAZY);
    for (int round = 0; round < 4; round++) { /* lazy lookups, then the full read's index */
        jn_val *in = jn_obj_get(v, "a", 1);
        assert_true(jn_is_obj(in));
        assert_true(jn_num(jn_obj_get(in, "x", 1)) == 1);
        assert_true(jn_num(jn_obj_get(v, "b", 1)) == 2.5);
        assert_null(jn_obj_get(v, "nope", 4));
        assert_ptr_equal(jn_obj_get(v, "c", 1)->u.str.s,
                         json_string_value(json_object_get(j, "c")));
    }
    assert_false(v->flags & JN_OBJ_LAZY);
    assert_int_equal(jn_obj_len(v), 3);
    json_t *back = jn_to_json(v);
    assert_ptr_equal(back, j); /* unchanged: the input itself */
    json_decref(back);
    jn_val *in = jn_obj_get(v, "a", 1);
    json_t *sub = jn_to_json(in);
    assert_ptr_equal(sub, json_object_get(j, "a"));
    json_decref(sub);
    jn_obj_set(&a, in, "x", 1, JN_TRUE);
    sub = jn_to_json(in);
    assert_ptr_not_equal(sub, json_object_get(j, "a"));
    assert_true(json_is_true(json_object_get(sub, "x")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "a"), "x")), 1);
    json_decref(sub);
    json_decref(j);

    j = json_loads("{\"k\":{\"b\":1,\"1\":2}}", 0, NULL);
    v = jn_from_json_borrow(&a, j);
    back = jn_to_json(v);
    assert_ptr_not_equal(back, j);
    const char *first = json_object_iter_key(json_object_iter(json_object_get(back, "k")));
    assert_string_equal(first, "1");
    json_decref(back);
    json_decref(j);
    jn_arena_fini(&a);
}

static void utf16_counting(void **state)
{
    (void)state;
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* a é € 😀 */
    size_t len = strlen(s);
    assert_int_equal(jn_u16_len(s, len), 5); /* the emoji is a surrogate pair */
    assert_int_equal(jn_u16_to_byte(s, len, 1), 1);
    assert_int_equal(jn_u16_to_byte(s, len, 3), 6);
    assert_int_equal(jn_u16_to_byte(s, len, 5), len);
    assert_int_equal(jn_byte_to_u16(s, 6), 3);
}

static void js_number_text(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *text;
    } cases[] = {
        {0, "0"},
        {1, "1"},
        {-1.5, "-1.5"},
        {0.1, "0.1"},
        {1e21, "1e+21"},
        {1e20, "100000000000000000000"},
        {1e-7, "1e-7"},
        {1.5e-7, "1.5e-7"},
        {0.000001, "0.000001"},
        {123.456, "123.456"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.1 + 0.2, "0.30000000000000004"}, /* 17 digits */
        {1.0 / 3, "0.3333333333333333"},    /* 16 */
        {5e-324, "5e-324"},
        {12345.6, "12345.6"},
        {2.5e-5, "0.000025"},
        {123456789012345.6, "123456789012345.6"},
    };
    char buf[40];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jn_num_to_js(cases[i].d, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
    /* $string's 15 significant digits */
    jn_num_to_js15(0.1 + 0.2, buf, sizeof buf);
    assert_string_equal(buf, "0.3");
    jn_num_to_js15(123456789012345678.0, buf, sizeof buf);
    assert_string_equal(buf, "123456789012346000");
    jn_num_to_js15(1e21, buf, sizeof buf);
    assert_string_equal(buf, "1e+21");
    jn_num_to_js15(-1.23456789012345678e-9, buf, sizeof buf);
    assert_string_equal(buf, "-1.23456789012346e-9");
    jn_num_to_js15(1.7976931348623157e308, buf, sizeof buf);
    assert_string_equal(buf, "1.79769313486232e+308");
}

static jmp_buf limit_jmp;

static void on_limit(void *ud)
{
    (void)ud;
    longjmp(limit_jmp, 1);
}

static void arena_limit(void **state)
{
    (void)state;
    jn_arena a;
    jn_arena_init(&a, 1024 * 1024);
    a.on_limit = on_limit;
    volatile size_t got = 0;
    if (setjmp(limit_jmp) == 0) {
        for (;;) {
            jn_alloc(&a, 1000);
            got += 1000;
        }
    }
    assert_true(got > 900 * 1000);
    assert_true(got <= 1024 * 1024);
    assert_true(a.total <= 1024 * 1024);
    jn_arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers),
        cmocka_unit_test(index_keys_first),
        cmocka_unit_test(objects_keep_order_and_index),
        cmocka_unit_test(equality_and_clone),
        cmocka_unit_test(lazy_input),
        cmocka_unit_test(utf16_counting),
        cmocka_unit_test(js_number_text),
        cmocka_unit_test(arena_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
