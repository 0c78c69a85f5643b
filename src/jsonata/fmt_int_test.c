/*
 * fmt_int_test.c — $formatInteger and $parseInteger: the suite's function-formatInteger and
 * function-parseInteger cases as direct calls, plus the reference's behaviour at the edges
 * (negative values, irregular grouping, words past a trillion, NaN for no number).
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

typedef struct format_case {
    const char *id;
    double value;
    const char *picture;
    const char *result; /* NULL when an error is expected */
    const char *code;
} format_case;

static const format_case format_cases[] = {
    {"formatInteger#1", 123, "000", "123", NULL},
    {"formatInteger#12", 12, "###0;o", "12th", NULL},
    {"formatInteger#13", 12340, "###١", "١٢٣٤٠", NULL},
    {"formatInteger#16", 12, "#,##0", "12", NULL},
    {"formatInteger#18", 120000, "#,##0", "120,000", NULL},
    {"formatInteger#2", 123, "0000", "0123", NULL},
    {"formatInteger#20", 1234567890, "#,##0", "1,234,567,890", NULL},
    {"formatInteger#21", 1234567890, "#,###,##0", "1,234,567,890", NULL},
    {"formatInteger#22", 1234567890, "#:###,##0", "1234:567,890", NULL},
    {"formatInteger#23", 1234567890, "##,##,##0", "12345,67,890", NULL},
    {"formatInteger#24", 0, "I", "", NULL},
    {"formatInteger#27", 12, "w", "twelve", NULL},
    {"formatInteger#28", 20, "w", "twenty", NULL},
    {"formatInteger#29", 34, "w", "thirty-four", NULL},
    {"formatInteger#30", 99, "W", "NINETY-NINE", NULL},
    {"formatInteger#31", 100, "w", "one hundred", NULL},
    {"formatInteger#32", 555, "W", "FIVE HUNDRED AND FIFTY-FIVE", NULL},
    {"formatInteger#34", 919, "w", "nine hundred and nineteen", NULL},
    {"formatInteger#35", 730, "w", "seven hundred and thirty", NULL},
    {"formatInteger#36", 1000, "w", "one thousand", NULL},
    {"formatInteger#37", 3730, "w", "three thousand, seven hundred and thirty", NULL},
    {"formatInteger#38", 327730, "w",
     "three hundred and twenty-seven thousand, seven hundred and thirty", NULL},
    {"formatInteger#39", 4327730, "w",
     "four million, three hundred and twenty-seven thousand, seven hundred and thirty", NULL},
    {"formatInteger#4", 1234, "0;c", "1234", NULL},
    {"formatInteger#40", 1000000000001, "w", "one trillion and one", NULL},
    {"formatInteger#41", 1234567890123, "w",
     "one trillion, two hundred and thirty-four billion, five hundred and sixty-seven million, "
     "eight hundred and ninety thousand, one hundred and twenty-three",
     NULL},
    {"formatInteger#42", 1000000000000000, "w", "one thousand trillion", NULL},
    {"formatInteger#45", 12, "w;o", "twelfth", NULL},
    {"formatInteger#47", 34, "w;o", "thirty-fourth", NULL},
    {"formatInteger#48", 99, "W;o", "NINETY-NINTH", NULL},
    {"formatInteger#49", 100, "w;o", "one hundredth", NULL},
    {"formatInteger#5", 1234, "###0", "1234", NULL},
    {"formatInteger#50", 555, "W;o", "FIVE HUNDRED AND FIFTY-FIFTH", NULL},
    {"formatInteger#51", 919, "w;o", "nine hundred and nineteenth", NULL},
    {"formatInteger#53", 1000, "w;o", "one thousandth", NULL},
    {"formatInteger#54", 3731, "w;o", "three thousand, seven hundred and thirty-first", NULL},
    {"formatInteger#55", 327713, "w;o",
     "three hundred and twenty-seven thousand, seven hundred and thirteenth", NULL},
    {"formatInteger#56", 4327732, "w;o",
     "four million, three hundred and twenty-seven thousand, seven hundred and thirty-second",
     NULL},
    {"formatInteger#58", 1, "A", "A", NULL},
    {"formatInteger#6", 12, "###0", "12", NULL},
    {"formatInteger#60", 26, "a", "z", NULL},
    {"formatInteger#61", 27, "a", "aa", NULL},
    {"formatInteger#62", 300, "A", "KN", NULL},
    {"formatInteger#63", 123456, "A", "FZPH", NULL},
    {"formatInteger#64", 123456, "α", NULL, "D3130"},
    {"formatInteger#8", 123, "000;o", "123rd", NULL},
    {"formatInteger#9", 1, "0;o", "1st", NULL},
    /* beyond the suite, as the reference behaves */
    {"zero words", 0, "w", "zero", NULL},
    {"negative words", -5, "w", "-five", NULL},
    {"billion", 2000000100, "w", "two billion, one hundred", NULL},
    {"title", 555, "Ww", "Five Hundred and Fifty-Five", NULL},
    {"title ordinal", 101, "Ww;o", "One Hundred and First", NULL},
    {"upper ordinal", 21, "W;o", "TWENTY-FIRST", NULL},
    {"zeroth", 0, "w;o", "zeroth", NULL},
    {"trillions", 1e16, "w", "ten thousand trillion", NULL},
    {"huge words", 1e30, "w", "one million trillion trillion", NULL},
    {"negative decimal", -12, "#,##0", "-12", NULL},
    {"floored", 1.7, "0", "1", NULL},
    {"floored negative", -1.7, "0", "-2", NULL},
    {"trailing separator", 1234, "0,", "1234,", NULL},
    {"double separator", 1234, "0,,0", "123,,4", NULL},
    {"group of one", 1234, ",0", "1,2,3,4", NULL},
    {"any separator", 1234, "x0", "1x2x3x4", NULL},
    {"irregular edge", 12345, "##,##,##0", ",12,345", NULL},
    {"regular", 1234567, "0,000", "1,234,567", NULL},
    {"negative roman", -3, "I", "-III", NULL},
    {"roman", 1999, "i", "mcmxcix", NULL},
    {"roman thousands", 4000, "I", "MMMM", NULL},
    {"letters zero", 0, "a", "", NULL},
    {"letters negative", -3, "a", "-c", NULL},
    {"letters ordinal ignored", 1, "a;o", "a", NULL},
    {"11th", 11, "0;o", "11th", NULL},
    {"112th", 112, "0;o", "112th", NULL},
    {"22nd", 22, "0;o", "22nd", NULL},
    {"grouped ordinal", 1234, "#,##0;o", "1,234th", NULL},
    {"exponent digits", 1e21, "0", "1e+21", NULL},
    {"only optional", 1234, "#", NULL, "D3130"},
    {"empty", 1234, "", NULL, "D3130"},
    {"mixed families", 12, "0\u0661", NULL, "D3131"},
};

static void test_format_integer(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
        const format_case *c = &format_cases[i];
        bt_buf b;
        bt_buf_init(&b);
        jfmt_err err = {"", ""};
        int rc = jfmt_format_integer(c->value, c->picture, &b, &err);
        if (c->result) {
            if (rc != 0 || strcmp(b.data ? b.data : "", c->result) != 0)
                fail_msg("%s: got \"%s\" (%s), want \"%s\"", c->id, b.data ? b.data : "", err.code,
                         c->result);
        } else {
            if (rc != JFMT_ERROR || strcmp(err.code, c->code) != 0)
                fail_msg("%s: got \"%s\" rc %d code %s, want %s", c->id, b.data ? b.data : "", rc,
                         err.code, c->code);
        }
        bt_buf_fini(&b);
    }
}

typedef struct parse_case {
    const char *id;
    const char *string;
    const char *picture;
    double result; /* NAN: no number */
} parse_case;

static const parse_case parse_cases[] = {
    {"parseInteger#1", "123", "000", 123},
    {"parseInteger#12", "１２３４０", "###０", 12340},
    {"parseInteger#13", "12", "#,##0", 12},
    {"parseInteger#14", "1,200", "#,##0", 1200},
    {"parseInteger#15", "12,345,678", "#,##0", 12345678},
    {"parseInteger#17", "1,234,567,890", "#,###,##0", 1234567890},
    {"parseInteger#18", "1234:567,890", "#:###,##0", 1234567890},
    {"parseInteger#2", "0123", "0000", 123},
    {"parseInteger#21", "MCMLXXXIV", "I", 1984},
    {"parseInteger#22", "xcix", "i", 99},
    {"parseInteger#23", "twelve", "w", 12},
    {"parseInteger#24", "twenty", "w", 20},
    {"parseInteger#25", "thirty-four", "w", 34},
    {"parseInteger#26", "NINETY-NINE", "W", 99},
    {"parseInteger#28", "FIVE HUNDRED AND FIFTY-FIVE", "W", 555},
    {"parseInteger#29", "Five Hundred and Fifty-Five", "Ww", 555},
    {"parseInteger#33", "three thousand, seven hundred and thirty", "w", 3730},
    {"parseInteger#34", "three hundred and twenty-seven thousand, seven hundred and thirty", "w",
     327730},
    {"parseInteger#35",
     "four million, three hundred and twenty-seven thousand, seven hundred and thirty", "w",
     4327730},
    {"parseInteger#36", "one trillion and one", "w", 1000000000001},
    {"parseInteger#37",
     "one trillion, two hundred and thirty-four billion, five hundred and sixty-seven million, "
     "eight hundred and ninety thousand, one hundred and twenty-three",
     "w", 1234567890123},
    {"parseInteger#38", "one thousand trillion", "w", 1000000000000000},
    {"parseInteger#39", "ten billion trillion trillion trillion", "w", 1e46},
    {"parseInteger#40", "twelfth", "w;o", 12},
    {"parseInteger#41", "twentieth", "w;o", 20},
    {"parseInteger#42", "thirty-fourth", "w;o", 34},
    {"parseInteger#43", "NINETY-NINTH", "W;o", 99},
    {"parseInteger#46", "nine hundred and nineteenth", "w;o", 919},
    {"parseInteger#47", "seven hundred and thirtieth", "w;o", 730},
    {"parseInteger#49", "one thousandth", "w;o", 1000},
    {"parseInteger#52",
     "four million, three hundred and twenty-seven thousand, seven hundred and thirty-second",
     "w;o", 4327732},
    {"parseInteger#53", "one trillion and first", "w;o", 1000000000001},
    {"parseInteger#54", "A", "A", 1},
    {"parseInteger#55", "l", "a", 12},
    {"parseInteger#58", "KN", "A", 300},
    {"parseInteger#59", "FZPH", "A", 123456},
    {"parseInteger#6", "123rd", "000;o", 123},
    {"parseInteger#7", "1st", "0;o", 1},
    /* beyond the suite */
    {"zero", "zero", "w", 0},
    {"and", "one hundred and one", "w", 101},
    {"comma", "one thousand, one", "w", 1001},
    {"space", "twenty five", "w", 25},
    {"capital", "Twenty", "w", 20},
    {"not words", "foo", "w", NAN},
    {"trailing word", "twelve foo", "w", NAN},
    {"digits then text", "12a", "0", 12},
    {"separators dropped", "12,34", "#,##0", 1234},
    {"stops at non-separator", "1,234", "0", 1},
    {"negative", "-12", "0", -12},
    {"no digits", "abc", "0", NAN},
    {"empty", "", "0", NAN},
    {"ordinal needs suffix", "12", "0;o", NAN},
    {"ordinal suffix", "12th", "0", 12},
    {"other family", "\u0663\u0664", "\u0660", 34},
    {"wrong family", "\u0663\u0664", "0", NAN},
    {"roman", "IIII", "I", 4},
    {"not roman", "XYZ", "I", NAN},
    {"letters", "aa", "a", 27},
};

static void test_parse_integer(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case *c = &parse_cases[i];
        jfmt_err err = {"", ""};
        double v = 0;
        int rc = jfmt_parse_integer(c->string, c->picture, &v, &err);
        bool same = isnan(c->result) ? isnan(v) : v == c->result;
        if (rc != 0 || !same)
            fail_msg("%s: got %.17g (rc %d %s), want %.17g", c->id, v, rc, err.code, c->result);
    }
    jfmt_err err = {"", ""};
    double v;
    assert_int_equal(jfmt_parse_integer("12", "\u03b1", &v, &err), JFMT_ERROR);
    assert_string_equal(err.code, "D3130");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_integer),
        cmocka_unit_test(test_parse_integer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
