/*
 * fmt_num_test.c — numbers printed as JSONata prints them (Number#toString for output,
 * 15 significant digits for $string) and $formatBase, including the suite's
 * function-formatBase cases.
 */
#include "jsonata/fmt.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void expect_number(double v, const char *want)
{
    bt_buf b;
    bt_buf_init(&b);
    jfmt_number(v, &b);
    assert_string_equal(b.data, want);
    bt_buf_fini(&b);
}

static void expect_str(double v, const char *want)
{
    bt_buf b;
    bt_buf_init(&b);
    jfmt_number_string(v, &b);
    assert_string_equal(b.data, want);
    bt_buf_fini(&b);
}

static void test_to_string(void **state)
{
    (void)state;
    expect_number(0, "0");
    expect_number(-0.0, "0");
    expect_number(1, "1");
    expect_number(-42, "-42");
    expect_number(0.1, "0.1");
    expect_number(0.1 + 0.2, "0.30000000000000004");
    expect_number(1.0 / 3, "0.3333333333333333");
    expect_number(123.456, "123.456");
    expect_number(1e21, "1e+21");
    expect_number(1e20, "100000000000000000000");
    expect_number(123456789012345680000.0, "123456789012345680000");
    expect_number(1e-6, "0.000001");
    expect_number(1e-7, "1e-7");
    expect_number(1.5e-7, "1.5e-7");
    expect_number(1.5e300, "1.5e+300");
    expect_number(-1.5e-300, "-1.5e-300");
    expect_number(5e-324, "5e-324");
    expect_number(1.7976931348623157e308, "1.7976931348623157e+308");
    expect_number(9007199254740993.0, "9007199254740992");
    expect_number(NAN, "NaN");
    expect_number(INFINITY, "Infinity");
    expect_number(-INFINITY, "-Infinity");
}

static void test_string_precision(void **state)
{
    (void)state;
    expect_str(1.0 / 3, "0.333333333333333");
    expect_str(0.1 + 0.2, "0.3");
    expect_str(1e21, "1e+21");
    expect_str(1e-7, "1e-7");
    expect_str(100000000000000000000.0, "100000000000000000000");
    expect_str(-0.0, "0");
    expect_str(123456789012345678.0, "123456789012346000");
    expect_str(1.5e300, "1.5e+300");
    expect_str(3.14159, "3.14159");
    expect_str(-2.5, "-2.5");
}

static void expect_base(double v, bool has_radix, double radix, const char *want)
{
    bt_buf b;
    bt_buf_init(&b);
    jfmt_err err = {"", ""};
    assert_int_equal(jfmt_format_base(v, has_radix, radix, &b, &err), 0);
    assert_string_equal(b.data, want);
    bt_buf_fini(&b);
}

static void test_format_base(void **state)
{
    (void)state;
    expect_base(100, false, 0, "100");    /* function-formatBase/case000 */
    expect_base(100, true, 2, "1100100"); /* function-formatBase/case002 */
    expect_base(-255, true, 16, "-ff");
    expect_base(2.5, false, 0, "2"); /* half to even */
    expect_base(3.5, false, 0, "4");
    expect_base(0.5, true, 2, "0");
    expect_base(10, true, 2.7, "101"); /* radix rounded */
    expect_base(10, true, 2.2, "1010");
    expect_base(35, true, 36, "z");
    expect_base(1e21, true, 16, "3635c9adc5dea00000");
    expect_base(0, true, 7, "0");

    bt_buf b;
    bt_buf_init(&b);
    jfmt_err err = {"", ""};
    /* function-formatBase/case006 */
    assert_int_equal(jfmt_format_base(100, true, 1, &b, &err), JFMT_ERROR);
    assert_string_equal(err.code, "D3100");
    assert_int_equal(jfmt_format_base(100, true, 36.6, &b, &err), JFMT_ERROR);
    assert_string_equal(err.code, "D3100");
    bt_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to_string),
        cmocka_unit_test(test_string_precision),
        cmocka_unit_test(test_format_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
