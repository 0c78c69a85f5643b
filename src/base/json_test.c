/*
 * json_test.c — the compact writer: shortest round-trip reals, escapes, key order, and the
 * depth limit, checked against what jansson's parser accepts.
 */
#include "base/err.h"
#include "base/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void check(const char *in, const char *expected)
{
    json_t *v = json_loads(in, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    char *s = bt_json_dumps(v);
    assert_string_equal(s, expected);
    free(s);
    json_decref(v);
}

static void test_reals(void **state)
{
    (void)state;
    check("[1.1,0.1,2.5,2.0,-0.3,1e20,123456.789,5e-324]",
          "[1.1,0.1,2.5,2.0,-0.3,1e+20,123456.789,4.94065645841247e-324]");
    char buf[40];
    bt_json_format_real(0.1 + 0.2, buf, sizeof(buf));
    assert_string_equal(buf, "0.30000000000000004");
}

/* The general way: shortest of %.15g..%.17g that reads back, a real kept looking real. */
static void reference_real(double d, char *out, size_t outlen)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, d);
        if (prec == 17 || strtod(out, NULL) == d)
            break;
    }
    if (strpbrk(out, ".eEn") == NULL)
        strcat(out, ".0");
}

/* Timestamps (seconds with milliseconds) take a shortcut that must print the same text. */
static void test_millisecond_reals_print_as_before(void **state)
{
    (void)state;
    static const double samples[] = {1700000000.123, 1700000000.1,     1700000000.0, 0.001,    0.5,
                                     -12.25,         999999999999.999, 1e12,         0.0,      -0.0,
                                     3.0000001,      1764590400.07,    123456.789,   0.1 + 0.2};
    char got[64], want[64];
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        bt_json_format_real(samples[i], got, sizeof got);
        reference_real(samples[i], want, sizeof want);
        assert_string_equal(got, want);
    }
    uint64_t x = 88172645463325252ULL; /* xorshift: a fixed spread of millisecond times */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = (double)(long long)(x % 2000000000000000ULL) / 1000.0;
        bt_json_format_real(d, got, sizeof got);
        reference_real(d, want, sizeof want);
        assert_string_equal(got, want);
    }
    bt_json_format_real(1700000000.5, got, sizeof got);
    assert_string_equal(got, "1700000000.5");
}

static void test_strings_and_order(void **state)
{
    (void)state;
    check("{\"b\":\"q\\\"\\\\/\\n\\u0001é\",\"a\":[true,false,null,-7]}",
          "{\"b\":\"q\\\"\\\\/\\n\\u0001é\",\"a\":[true,false,null,-7]}");
    char *s = bt_json_dumps(NULL);
    assert_string_equal(s, "null");
    free(s);
}

/* n '[' then leaf then n ']' (heap). */
static char *nested_text(size_t n, const char *leaf)
{
    size_t len = strlen(leaf);
    char *s = malloc(2 * n + len + 1);
    memset(s, '[', n);
    memcpy(s + n, leaf, len);
    memset(s + n + len, ']', n);
    s[2 * n + len] = '\0';
    return s;
}

/* leaf (reference stolen) wrapped in n arrays. */
static json_t *nested(size_t n, json_t *leaf)
{
    json_t *v = leaf;
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

/* text parses with jansson and the writer gives it back byte for byte. */
static void check_round_trip(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (v == NULL)
        fail_msg("jansson refused: %s", err.text);
    char *s = bt_json_dumps(v);
    assert_non_null(s);
    assert_string_equal(s, text);
    bt_buf b;
    bt_buf_init(&b);
    assert_int_equal(bt_json_write(&b, v), 0);
    assert_string_equal(b.data, text);
    bt_buf_fini(&b);
    free(s);
    json_decref(v);
}

/* jansson refuses text, and the writer refuses the same value built by hand. */
static void check_both_refuse(const char *text, json_t *v)
{
    json_error_t err;
    assert_null(json_loads(text, JSON_DECODE_ANY, &err));
    assert_null(bt_json_dumps(v));
    bt_buf b;
    bt_buf_init(&b);
    assert_int_equal(bt_json_write(&b, v), BT_ELIMIT);
    bt_buf_fini(&b);
    json_decref(v);
}

/* The writer's depth counting is jansson's parser's: every value is a level, scalars too. */
static void test_depth_matches_jansson(void **state)
{
    (void)state;
    char *t = nested_text(BT_JSON_MAX_DEPTH, ""); /* 2048 arrays, the innermost empty */
    check_round_trip(t);
    free(t);
    t = nested_text(BT_JSON_MAX_DEPTH - 1, "1"); /* a scalar at level 2048 */
    check_round_trip(t);
    free(t);
    t = nested_text(BT_JSON_MAX_DEPTH - 2, "{\"a\":\"x\"}");
    check_round_trip(t);
    free(t);

    t = nested_text(BT_JSON_MAX_DEPTH + 1, "");
    check_both_refuse(t, nested(BT_JSON_MAX_DEPTH + 1, json_array()));
    free(t);
    t = nested_text(BT_JSON_MAX_DEPTH, "1"); /* a scalar at level 2049 */
    check_both_refuse(t, nested(BT_JSON_MAX_DEPTH, json_integer(1)));
    free(t);
    t = nested_text(BT_JSON_MAX_DEPTH - 1, "{\"a\":\"x\"}");
    check_both_refuse(t, nested(BT_JSON_MAX_DEPTH - 1, json_pack("{s:s}", "a", "x")));
    free(t);
}

static void test_too_deep_fails(void **state)
{
    (void)state;
    json_t *deep = nested(3000, json_array());
    bt_buf b;
    bt_buf_init(&b);
    assert_int_equal(bt_json_write(&b, deep), BT_ELIMIT);
    bt_buf_fini(&b);
    assert_null(bt_json_dumps(deep));
    json_decref(deep);

    /* a deep leaf among shallow siblings: refused, not written as null */
    json_t *o = json_pack("{s:i,s:o}", "a", 1, "b", nested(BT_JSON_MAX_DEPTH, json_true()));
    assert_null(bt_json_dumps(o));
    json_decref(o);

    json_t *ok = nested(BT_JSON_MAX_DEPTH - 1, json_string("leaf"));
    char *s = bt_json_dumps(ok);
    assert_non_null(s);
    json_t *back = json_loads(s, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, ok));
    char *expected = nested_text(BT_JSON_MAX_DEPTH - 1, "\"leaf\"");
    assert_string_equal(s, expected);
    free(expected);
    free(s);
    json_decref(back);
    json_decref(ok);
}

/* A cycle (jansson lets one be built indirectly) is refused at the limit, not followed. */
static void test_cycle_is_bounded(void **state)
{
    (void)state;
    json_t *a = json_array(), *b = json_array();
    json_array_append(b, a);
    json_array_append(a, b);
    assert_null(bt_json_dumps(a));
    json_array_clear(a);
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_strings_and_order),
        cmocka_unit_test(test_depth_matches_jansson),
        cmocka_unit_test(test_millisecond_reals_print_as_before),
        cmocka_unit_test(test_too_deep_fails),
        cmocka_unit_test(test_cycle_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
