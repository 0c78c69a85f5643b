/*
 * fmt_number_test.c — $formatNumber: the suite's function-formatNumber cases as direct
 * calls, and the reference's behaviour for options, sub-pictures, percent, rounding and
 * grouping beyond them.
 */
#include "jsonata/fmt.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct number_case {
    const char *id;
    double value;
    const char *picture;
    const char *zero_digit; /* the one option the suite sets; NULL for the default */
    const char *result;     /* NULL when an error is expected */
    const char *code;
} number_case;

static const number_case cases[] = {
    {"case000", 12345.6, "#,###.00", NULL, "12,345.60", NULL},
    {"case001", 12345678.9, "9,999.99", NULL, "12,345,678.90", NULL},
    {"case002", 123412345678.9, "9,9,99.99", NULL, "123412345,6,78.90", NULL},
    {"case003", 1234.56789, "9,999.999,999", NULL, "1,234.567,890", NULL},
    {"case004", 123.9, "9999", NULL, "0124", NULL},
    {"case008", -6, "000", NULL, "-006", NULL},
    {"case009", 1234.5678, "00.000e0", NULL, "12.346e2", NULL},
    {"case010", 1234.5678, "00.000e000", NULL, "12.346e002", NULL},
    {"case011", 1234.5678, "①①.①①①e①", "⑟", "①②.③④⑥e②", NULL},
    {"case012", 0.234, "0.0e0", NULL, "2.3e-1", NULL},
    {"case013", 0.234, "#.00e0", NULL, "0.23e0", NULL},
    {"case014", 0.123, "#.e9", NULL, "0.1e0", NULL},
    {"case017", 2.14 * 86.58, "PREFIX##00.000###SUFFIX", NULL, "PREFIX185.2812SUFFIX", NULL},
    {"case020", 20, "#.0.0", NULL, NULL, "D3081"},
    {"case021", 20, "#0%%", NULL, NULL, "D3082"},
    {"case022", 20, "#0‰‰", NULL, NULL, "D3083"},
    {"case023", 20, "#0%‰", NULL, NULL, "D3084"},
    {"case024", 20, ".e0", NULL, NULL, "D3085"},
    {"case025", 20, "0+.e0", NULL, NULL, "D3086"},
    {"case026", 20, "0,.e0", NULL, NULL, "D3087"},
    {"case027", 20, "0,", NULL, NULL, "D3088"},
    {"case029", 20, "0#.e0", NULL, NULL, "D3090"},
    {"case030", 20, "#0.#0e0", NULL, NULL, "D3091"},
    {"case033", 2, "000.000", NULL, "002.000", NULL},
    {"case035", 0.1, "AeAAA", "A", "Be-AAB", NULL},
    /* beyond the suite, as the reference behaves */
    {"zero", 0, "0.00", NULL, "0.00", NULL},
    {"negative zero", -0.0, "0", NULL, "0", NULL},
    {"no integer digit", 0.5, "#.00", NULL, ".50", NULL},
    {"optional only", 0.5, "#", NULL, "0", NULL},
    {"optional zero", 0, "#.#", NULL, ".0", NULL},
    {"optional one", 1, "#.#", NULL, "1.0", NULL},
    {"infinity", INFINITY, "#", NULL, "Infinity", NULL},
    {"negative infinity", -INFINITY, "#;(#)", NULL, "(Infinity)", NULL},
    {"minus infinity", -INFINITY, "#", NULL, "-Infinity", NULL},
    {"nan", NAN, "#", NULL, "-NaN", NULL},
    {"nan second picture", NAN, "#;(#)", NULL, "(NaN)", NULL},
    {"positive of two", 12, "#0.0;(#0.0)", NULL, "12.0", NULL},
    {"negative of two", -1234.5, "#,##0.0;[#,##0.0]", NULL, "[1,234.5]", NULL},
    {"negative suffix", -12.5, "0.0;0.0-", NULL, "12.5-", NULL},
    {"percent", 0.5, "0%", NULL, "50%", NULL},
    {"percent after space", 123, "##0 %", NULL, "12300 %", NULL},
    {"per-mille", 0.25, "#0\u2030", NULL, "250\u2030", NULL},
    {"small exponent", 1e-10, "0.0e0", NULL, "1.0e-10", NULL},
    {"exponent carry", 99999, "0.0e0", NULL, "10.0e4", NULL},
    {"exponent width", 1, "0.0e00", NULL, "1.0e00", NULL},
    {"three integer digits", 1234.5678, "000.0e0", NULL, "123.5e1", NULL},
    {"optional int exponent", 0.000123, "#.00e0", NULL, "0.12e-3", NULL},
    {"fraction exponent", 1234.5678, "#.000e0", NULL, "0.123e4", NULL},
    {"scaled exponent", 1234.5678, "##0.0e0", NULL, "1.2e3", NULL},
    {"point exponent", 5, "0.e0", NULL, "5e0", NULL},
    {"optional point exponent", 123456, "#.e0", NULL, "0.1e6", NULL},
    {"exponent no point", 12, "0e0", NULL, "1e1", NULL},
    {"exponent suffix", 5, "0e0 dollars", NULL, "5e0 dollars", NULL},
    {"optional fraction", 1.23, "0.0#####", NULL, "1.23", NULL},
    {"optional fraction dropped", 5, "#,##0.##", NULL, "5", NULL},
    {"percent product", 0.07, "0%", NULL, "7%", NULL},
    {"exponent of one", 1, "#.0e0", NULL, "1.0e0", NULL},
    {"exponent of hundred", 100, "0.0e0", NULL, "10.0e1", NULL},
    {"rounds to zero", 0.001, "0.00", NULL, "0.00", NULL},
    {"carry", 999.995, "0.00", NULL, "1000.00", NULL},
    {"optional fraction pad", 12, "0.0#", NULL, "12.0", NULL},
    {"optional fraction round", 12.3456, "0.0#", NULL, "12.35", NULL},
    {"grouped", 1234567.891, "#,##0.00", NULL, "1,234,567.89", NULL},
    {"grouped regular", 1234567, "#,###", NULL, "1,234,567", NULL},
    {"grouped padded", 12, "00,00.0", NULL, "00,12.0", NULL},
    {"irregular edge", 12345, "#,##,##0", NULL, ",12,345", NULL},
    {"half even down", 12.5, "0", NULL, "12", NULL},
    {"half even up", 13.5, "0", NULL, "14", NULL},
    {"decimal half", 2.675, "0.00", NULL, "2.68", NULL},
    {"decimal half even", 2.665, "0.00", NULL, "2.66", NULL},
    {"below half", 1.005, "0.00", NULL, "1.00", NULL},
    {"tiny", 1e-7, "0.000000000", NULL, "0.000000100", NULL},
    {"negative rounds to zero", -0.001, "0.0", NULL, "-0.0", NULL},
    {"prefix", -5, "$0", NULL, "-$5", NULL},
    {"huge", 1e300, "0", NULL, "1e+300", NULL},
    {"huge grouped", 1e25, "#,##0", NULL, "1e,+25", NULL},
    {"two separators", 20, "0;0;0", NULL, NULL, "D3080"},
    {"exponent with percent", 20, "0e0%", NULL, NULL, "D3092"},
    {"empty exponent", 20, "0e", NULL, NULL, "D3093"},
    {"optional exponent", 20, "0e#", NULL, NULL, "D3093"},
    {"adjacent groups", 20, "0,,0", NULL, NULL, "D3089"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const number_case *c = &cases[i];
        jfmt_number_opts opts = {0};
        opts.zero_digit = c->zero_digit;
        bt_buf b;
        bt_buf_init(&b);
        jfmt_err err = {"", ""};
        int rc = jfmt_format_number(c->value, c->picture, &opts, &b, &err);
        const char *got = b.data ? b.data : "";
        if (c->result && (rc != 0 || strcmp(got, c->result) != 0))
            fail_msg("%s: got \"%s\" (%s %s), want \"%s\"", c->id, got, err.code, err.msg,
                     c->result);
        if (!c->result && (rc != JFMT_ERROR || strcmp(err.code, c->code) != 0))
            fail_msg("%s: got \"%s\" code \"%s\", want %s", c->id, got, err.code, c->code);
        bt_buf_fini(&b);
    }
}

static void expect_opts(double v, const char *picture, const jfmt_number_opts *opts,
                        const char *want, const char *code)
{
    bt_buf b;
    bt_buf_init(&b);
    jfmt_err err = {"", ""};
    int rc = jfmt_format_number(v, picture, opts, &b, &err);
    if (want) {
        assert_int_equal(rc, 0);
        assert_string_equal(b.data, want);
    } else {
        assert_int_equal(rc, JFMT_ERROR);
        assert_string_equal(err.code, code);
    }
    bt_buf_fini(&b);
}

static void test_options(void **state)
{
    (void)state;
    jfmt_number_opts o = {0};
    assert_true(jfmt_number_opts_set(&o, "decimal-separator", ","));
    assert_true(jfmt_number_opts_set(&o, "grouping-separator", "."));
    assert_false(jfmt_number_opts_set(&o, "foo", "x"));
    expect_opts(1234.5, "#.##0,00", &o, "1.234,50", NULL);
    expect_opts(1234.5, "#,##0.00", &o, NULL, "D3091");

    jfmt_number_opts m = {0};
    jfmt_number_opts_set(&m, "minus-sign", "~");
    expect_opts(-5, "0", &m, "~5", NULL);
    expect_opts(-5, "$0", &m, "~$5", NULL);

    jfmt_number_opts sp = {0};
    jfmt_number_opts_set(&sp, "grouping-separator", " ");
    expect_opts(1234, "#,##0", &sp, NULL, "D3086");
    expect_opts(1234, "# ##0", &sp, "1 234", NULL);

    jfmt_number_opts pc = {0};
    jfmt_number_opts_set(&pc, "percent", "p");
    expect_opts(5, "0", &pc, "5", NULL);
    expect_opts(0.5, "0p", &pc, "50p", NULL);
    jfmt_number_opts pm = {0};
    jfmt_number_opts_set(&pm, "per-mille", "m");
    expect_opts(0.5, "0m", &pm, "500m", NULL);
    expect_opts(0.5, "0\u2030", &pm, "0\u2030", NULL);

    jfmt_number_opts ps = {0};
    jfmt_number_opts_set(&ps, "pattern-separator", "|");
    expect_opts(5, "0.0;", &ps, "5.0;", NULL);
    expect_opts(-5, "0|(0)", &ps, "(5)", NULL);

    jfmt_number_opts ex = {0};
    jfmt_number_opts_set(&ex, "exponent-separator", "E");
    expect_opts(1234, "0E0", &ex, "1E3", NULL);
    expect_opts(12.34, "0.0e0", &ex, NULL, "D3086");

    jfmt_number_opts dg = {0};
    jfmt_number_opts_set(&dg, "digit", "x");
    expect_opts(1234, "x,xx0", &dg, "1,234", NULL);
    expect_opts(1234, "#,##0", &dg, NULL, "D3086");

    jfmt_number_opts inf = {0};
    jfmt_number_opts_set(&inf, "infinity", "inf");
    expect_opts(INFINITY, "X#0Y", &inf, "XInfinityY", NULL); /* the reference ignores it */
    expect_opts(123, "X#0Y", &inf, "X123Y", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
