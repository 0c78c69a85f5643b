/*
 * payload_test.c — payload templates and ".$" expressions: constant subtrees shared,
 * dynamic keys evaluated and renamed, nested objects and arrays, AWS's cause text for a
 * path that matches nothing, the size accounting behind the 256 KiB limit, and the depth
 * measured with it (counted as bt_json_write and jansson's parser count it).
 */
#include "base/err.h"
#include "path/payload.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint64_t fixed_random(void *ud)
{
    (void)ud;
    return 4;
}

static json_t *eval(const char *tmpl, const char *input, bt_fault *f, int *rc)
{
    json_t *t = json_loads(tmpl, JSON_DECODE_ANY, NULL);
    json_t *in = json_loads(input, JSON_DECODE_ANY, NULL);
    assert_non_null(t);
    assert_non_null(in);
    payload *p = NULL;
    char *err = NULL;
    assert_int_equal(payload_compile(t, &p, &err), 0);
    jpath_env pe = {.input = in};
    intr_env ie = {.paths = &pe, .random = fixed_random};
    json_t *out = NULL;
    *rc = payload_eval(p, &ie, &out, f);
    payload_free(p);
    json_decref(t);
    json_decref(in);
    return out;
}

static void assert_json(json_t *v, const char *expected)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_string_equal(s, expected);
    free(s);
}

static void test_dynamic_keys(void **state)
{
    (void)state;
    bt_fault f;
    bt_fault_init(&f);
    int rc;
    json_t *out = eval("{\"a.$\":\"$.x\",\"b\":{\"c.$\":\"$.y[1]\",\"d\":[1,{\"e.$\":\"$\"}]},"
                       "\"k\":\"literal.$\"}",
                       "{\"x\":\"X\",\"y\":[0,5]}", &f, &rc);
    assert_int_equal(rc, 0);
    assert_json(out, "{\"a\":\"X\",\"b\":{\"c\":5,\"d\":[1,{\"e\":{\"x\":\"X\",\"y\":[0,5]}}]},"
                     "\"k\":\"literal.$\"}");
    json_decref(out);
    bt_fault_fini(&f);
}

static void test_constant_template_is_shared(void **state)
{
    (void)state;
    json_t *t = json_loads("{\"a\":[1,2,{\"b\":true}]}", 0, NULL);
    payload *p = NULL;
    assert_int_equal(payload_compile(t, &p, NULL), 0);
    assert_true(payload_is_constant(p));
    jpath_env pe = {.input = t};
    intr_env ie = {.paths = &pe};
    json_t *o1 = NULL, *o2 = NULL;
    bt_fault f;
    bt_fault_init(&f);
    assert_int_equal(payload_eval(p, &ie, &o1, &f), 0);
    assert_int_equal(payload_eval(p, &ie, &o2, &f), 0);
    assert_ptr_equal(o1, o2);
    json_decref(o1);
    json_decref(o2);
    payload_free(p);
    json_decref(t);
}

static void test_missing_path_cause(void **state)
{
    (void)state;
    bt_fault f;
    bt_fault_init(&f);
    int rc;
    json_t *out = eval("{\"value.$\":\"$.nope\"}", "{\"a\":1}", &f, &rc);
    assert_int_equal(rc, BT_EFAULT);
    assert_null(out);
    assert_string_equal(f.error, "States.Runtime");
    assert_string_equal(f.cause, "The JSONPath '$.nope' specified for the field 'value.$' could "
                                 "not be found in the input '{\"a\":1}'");
    bt_fault_fini(&f);
}

static void test_intrinsic_value(void **state)
{
    (void)state;
    bt_fault f;
    bt_fault_init(&f);
    int rc;
    json_t *out = eval("{\"m.$\":\"States.Format('{} and {}', $.a, $.b)\"}",
                       "{\"a\":\"x\",\"b\":2}", &f, &rc);
    assert_int_equal(rc, 0);
    assert_json(out, "{\"m\":\"x and 2\"}");
    json_decref(out);
    bt_fault_fini(&f);
}

static void test_bad_expression_rejected(void **state)
{
    (void)state;
    json_t *t = json_loads("{\"a.$\":\"not a path\"}", 0, NULL);
    payload *p = NULL;
    char *err = NULL;
    assert_int_equal(payload_compile(t, &p, &err), BT_EINVAL);
    assert_null(p);
    assert_non_null(err);
    free(err);
    json_decref(t);
    t = json_loads("{\"a.$\":42}", 0, NULL);
    assert_int_equal(payload_compile(t, &p, &err), BT_EINVAL);
    free(err);
    json_decref(t);
}

static void test_size_capped(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"a\":\"xy\\\"z\",\"b\":[1,-22,true,null]}", 0, NULL);
    char *s = json_dumps(v, JSON_COMPACT);
    assert_int_equal(payload_size_capped(v, 1000), strlen(s));
    free(s);
    assert_int_equal(payload_size_capped(v, 10), 11);
    json_decref(v);
    char *big = malloc(PAYLOAD_MAX_BYTES + 10);
    memset(big, 'a', PAYLOAD_MAX_BYTES + 9);
    big[PAYLOAD_MAX_BYTES + 9] = '\0';
    json_t *bv = json_string(big);
    assert_true(payload_size_capped(bv, PAYLOAD_MAX_BYTES) > PAYLOAD_MAX_BYTES);
    json_decref(bv);
    free(big);
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

static void check_measure(const char *text, size_t want_size, size_t want_depth)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    size_t depth = 99;
    assert_int_equal(payload_measure(v, 1000, &depth), want_size);
    assert_int_equal(depth, want_depth);
    assert_int_equal(payload_size_capped(v, 1000), want_size);
    json_decref(v);
}

static void test_measure_depth(void **state)
{
    (void)state;
    check_measure("7", 1, 1);
    check_measure("\"ab\"", 4, 1);
    check_measure("[]", 2, 1);
    check_measure("{}", 2, 1);
    check_measure("[1]", 3, 2);
    check_measure("[[]]", 4, 2);
    check_measure("{\"a\":{}}", 8, 2);
    check_measure("{\"a\":[1,{\"b\":null}],\"c\":2}", 26, 4);
    size_t depth = 0;
    assert_int_equal(payload_measure(NULL, 10, &depth), 4);
    assert_int_equal(depth, 1);

    /* the deepest document jansson parses measures BT_JSON_MAX_DEPTH, size exact */
    char text[2 * BT_JSON_MAX_DEPTH + 2];
    memset(text, '[', BT_JSON_MAX_DEPTH - 1);
    text[BT_JSON_MAX_DEPTH - 1] = '1';
    memset(text + BT_JSON_MAX_DEPTH, ']', BT_JSON_MAX_DEPTH - 1);
    text[2 * BT_JSON_MAX_DEPTH - 1] = '\0';
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    assert_int_equal(payload_measure(v, PAYLOAD_MAX_BYTES, &depth), 2 * BT_JSON_MAX_DEPTH - 1);
    assert_int_equal(depth, BT_JSON_MAX_DEPTH);
    json_decref(v);

    /* one level more, and far more: capped at BT_JSON_MAX_DEPTH + 1 */
    v = nested(BT_JSON_MAX_DEPTH, json_integer(1));
    payload_measure(v, PAYLOAD_MAX_BYTES, &depth);
    assert_int_equal(depth, BT_JSON_MAX_DEPTH + 1);
    json_decref(v);
    v = nested(5000, json_array());
    /* stopped by the depth (the size is then a lower bound): level 2048's member is too deep */
    assert_int_equal(payload_measure(v, 100000, &depth), 2 * BT_JSON_MAX_DEPTH);
    assert_int_equal(depth, BT_JSON_MAX_DEPTH + 1);
    /* a size limit passed first decides alone: the depth is then a lower bound */
    assert_int_equal(payload_measure(v, 100, &depth), 101);
    assert_int_equal(depth, 52);
    json_decref(v);
}

/* The walk stops at the first limit passed, so a value sharing subtrees costs no more than
 * the limit: x = [x, x] forty times is 2^40 leaves of text. */
static void test_measure_stops_at_first_limit(void **state)
{
    (void)state;
    char *big = malloc(PAYLOAD_MAX_BYTES + 1);
    memset(big, 'a', PAYLOAD_MAX_BYTES);
    big[PAYLOAD_MAX_BYTES] = '\0';
    json_t *v = json_pack("[s,[[i]]]", big, 1);
    assert_non_null(v);
    size_t depth = 0;
    assert_int_equal(payload_measure(v, PAYLOAD_MAX_BYTES, &depth), PAYLOAD_MAX_BYTES + 1);
    assert_int_equal(depth, 2); /* a lower bound: the walk stopped at the string */
    json_decref(v);
    v = json_pack("[o,s]", nested(3000, json_null()), big);
    assert_non_null(v);
    assert_int_equal(payload_measure(v, PAYLOAD_MAX_BYTES, &depth), 2 * BT_JSON_MAX_DEPTH);
    assert_int_equal(depth, BT_JSON_MAX_DEPTH + 1);
    json_decref(v);
    free(big);

    json_t *x = json_string("leaf");
    for (int i = 0; i < 40; i++) {
        json_t *y = json_pack("[O,O]", x, x);
        json_decref(x);
        x = y;
    }
    assert_int_equal(payload_measure(x, PAYLOAD_MAX_BYTES, &depth), PAYLOAD_MAX_BYTES + 1);
    assert_true(depth <= 41);
    assert_int_equal(payload_size_capped(x, 1000), 1001);
    json_decref(x);

    /* a cycle (jansson allows one indirectly) ends at the depth cap */
    json_t *a = json_array(), *b = json_array();
    json_array_append(b, a);
    json_array_append(a, b);
    assert_int_equal(payload_measure(a, 100000, &depth), 2 * BT_JSON_MAX_DEPTH);
    assert_int_equal(depth, BT_JSON_MAX_DEPTH + 1);
    assert_int_equal(payload_measure(a, 10, &depth), 11);
    assert_int_equal(depth, 7); /* stopped by the size at level 6, whose members are at 7 */
    json_array_clear(a);
    json_decref(a);
    json_decref(b);
}

/* Evaluates tmpl against in (borrowed). */
static json_t *eval_value(const char *tmpl, json_t *in, bt_fault *f, int *rc)
{
    json_t *t = json_loads(tmpl, 0, NULL);
    assert_non_null(t);
    payload *p = NULL;
    assert_int_equal(payload_compile(t, &p, NULL), 0);
    jpath_env pe = {.input = in};
    intr_env ie = {.paths = &pe, .random = fixed_random};
    json_t *out = NULL;
    *rc = payload_eval(p, &ie, &out, f);
    payload_free(p);
    json_decref(t);
    return out;
}

static void check_fault(const char *tmpl, json_t *in, const char *cause)
{
    bt_fault f;
    bt_fault_init(&f);
    int rc;
    json_t *out = eval_value(tmpl, in, &f, &rc);
    assert_int_equal(rc, BT_EFAULT);
    assert_null(out);
    assert_string_equal(f.error, "States.Runtime");
    assert_string_equal(f.cause, cause);
    bt_fault_fini(&f);
}

/* A value too deep to print fails the evaluation; one at the limit is printed whole. */
static void test_too_deep_to_serialise(void **state)
{
    (void)state;
    json_t *deep = json_pack("{s:o}", "x", nested(BT_JSON_MAX_DEPTH - 1, json_integer(1)));
    check_fault("{\"s.$\":\"States.JsonToString($)\"}", deep,
                "The function 'States.JsonToString($)' had the following error: The value nests "
                "deeper than 2048 levels and cannot be serialised");
    check_fault("{\"s.$\":\"States.Format('{}', $)\"}", deep,
                "The function 'States.Format('{}', $)' had the following error: The value nests "
                "deeper than 2048 levels and cannot be serialised");
    check_fault("{\"s.$\":\"States.Hash($, 'MD5')\"}", deep,
                "The function 'States.Hash($, 'MD5')' had the following error: The value nests "
                "deeper than 2048 levels and cannot be serialised");
    check_fault("{\"s.$\":\"States.ArrayContains(States.Array(1), $)\"}", deep,
                "The function 'States.ArrayContains(States.Array(1), $)' had the following "
                "error: The value nests deeper than 2048 levels and cannot be serialised");
    check_fault("{\"v.$\":\"$.nope\"}", deep,
                "The JSONPath '$.nope' specified for the field 'v.$' could not be found in the "
                "input, which is not shown: The value nests deeper than 2048 levels and cannot be "
                "serialised");
    check_fault("{\"v.$\":\"States.JsonToString($.nope)\"}", deep,
                "The function 'States.JsonToString($.nope)' had the following error: The JsonPath "
                "argument for the field '$.nope' could not be found in the input, which is not "
                "shown: The value nests deeper than 2048 levels and cannot be serialised");

    /* $.x is one level shallower than $: exactly at the limit, so it is written */
    bt_fault f;
    bt_fault_init(&f);
    int rc;
    json_t *out = eval_value("{\"s.$\":\"States.JsonToString($.x)\"}", deep, &f, &rc);
    assert_int_equal(rc, 0);
    const char *s = json_string_value(json_object_get(out, "s"));
    assert_non_null(s);
    assert_int_equal(strlen(s), 2 * BT_JSON_MAX_DEPTH - 1);
    json_t *back = json_loads(s, 0, NULL);
    assert_true(json_equal(back, json_object_get(deep, "x")));
    json_decref(back);
    json_decref(out);
    bt_fault_fini(&f);
    json_decref(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_keys),
        cmocka_unit_test(test_constant_template_is_shared),
        cmocka_unit_test(test_missing_path_cause),
        cmocka_unit_test(test_intrinsic_value),
        cmocka_unit_test(test_bad_expression_rejected),
        cmocka_unit_test(test_size_capped),
        cmocka_unit_test(test_measure_depth),
        cmocka_unit_test(test_measure_stops_at_first_limit),
        cmocka_unit_test(test_too_deep_to_serialise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
