/*
 * form_test.c — unit tests for form.c: decoding ('+', %XX, repeated keys, empty fields,
 * keys without '='), refusals (malformed escapes, NUL, invalid UTF-8) and the pair limit.
 */
#include "api/form.h"
#include "base/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static bt_form *parse(const char *s, size_t max, bt_err *err)
{
    return bt_form_parse(s, strlen(s), max, err);
}

static void decodes(void **state)
{
    (void)state;
    bt_err err;
    bt_form *f = parse("Action=SendMessage&MessageBody=a+b%20c%26%3D%2B&x=1&x=2&&flag&"
                       "e=%E2%82%AC&empty=",
                       0, &err);
    assert_non_null(f);
    assert_string_equal(bt_form_get(f, "Action"), "SendMessage");
    assert_string_equal(bt_form_get(f, "MessageBody"), "a b c&=+");
    assert_string_equal(bt_form_get(f, "x"), "1");
    assert_string_equal(bt_form_get(f, "flag"), "");
    assert_string_equal(bt_form_get(f, "e"), "\xe2\x82\xac");
    assert_string_equal(bt_form_get(f, "empty"), "");
    assert_null(bt_form_get(f, "missing"));
    assert_int_equal(bt_form_len(f), 7);
    const char *k, *v;
    bt_form_at(f, 3, &k, &v);
    assert_string_equal(k, "x");
    assert_string_equal(v, "2");
    bt_form_free(f);
    f = parse("", 0, &err);
    assert_int_equal(bt_form_len(f), 0);
    bt_form_free(f);
    bt_form_free(NULL);
}

static void refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {"a=%",      "a=%4",        "a=%G0",    "a=%00",
                                      "a=%C3%28", "%ED%A0%80=1", "a=%C0%AF", "a=%F4%90%80%80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bt_err err = {0};
        assert_null(parse(bad[i], 0, &err));
        assert_int_equal(err.code, BT_EINVAL);
    }
    bt_err err;
    assert_null(bt_form_parse("a\0b=1", 5, 0, &err));
    assert_null(parse("a=1&b=2&c=3", 2, &err));
    assert_int_equal(err.code, BT_ELIMIT);
    bt_form *f = parse("a=1&b=2", 2, &err);
    assert_non_null(f);
    bt_form_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes),
        cmocka_unit_test(refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
