/*
 * fn_format_test.c — the picture-string functions through jn_compile/jn_eval: each
 * expression's JSON result, undefined or error code, as JSONata 2.0.6 gives them.
 */
#include "jsonata/jsonata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* expected: compact JSON text of the result, "undefined", or "!CODE" for an error */
static void check(const char *expr, const char *input, const char *expected)
{
    jn_expr *e;
    jn_error err;
    if (jn_compile(expr, strlen(expr), &e, &err) != 0)
        fail_msg("%s: does not compile: %s %s", expr, err.code, err.message);
    json_t *in = input ? json_loads(input, JSON_DECODE_ANY, NULL) : NULL;
    json_t *out = NULL;
    int rc = jn_eval(e, in, NULL, NULL, NULL, &out, &err);
    json_decref(in);
    jn_expr_free(e);
    if (rc != 0) {
        if (expected[0] != '!' || strcmp(expected + 1, err.code) != 0)
            fail_msg("%s: expected %s, got error %s: %s", expr, expected, err.code, err.message);
        jn_error_fini(&err);
        return;
    }
    if (expected[0] == '!')
        fail_msg("%s: expected error %s, got a value", expr, expected + 1);
    if (out == NULL) {
        if (strcmp(expected, "undefined") != 0)
            fail_msg("%s: expected %s, got undefined", expr, expected);
        return;
    }
    char *text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(out);
    if (strcmp(text, expected) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: expected %s, got %s", expr, expected, text);
        free(text);
        fail_msg("%s", msg);
    }
    free(text);
}

static void test_format_number(void **state)
{
    (void)state;
    check("$formatNumber(12345.6, '#,###.00')", NULL, "\"12,345.60\"");
    check("$formatNumber(0.256, '#0.0%')", NULL, "\"25.6%\"");
    check("$formatNumber(1234.5, '#.##0,00', {'decimal-separator': ',', "
          "'grouping-separator': '.'})",
          NULL, "\"1.234,50\"");
    /* the number from the context ('-' in the signature) */
    check("price.$formatNumber('0.0')", "{\"price\": 3.14159}", "\"3.1\"");
    check("$formatNumber(nothing, '#')", NULL, "undefined");
    check("$formatNumber(20, '#.0.0')", NULL, "!D3081");
    check("$formatNumber('12', '#')", NULL, "!T0410");
}

static void test_format_base_integer(void **state)
{
    (void)state;
    check("$formatBase(255, 16)", NULL, "\"ff\"");
    check("$formatBase(-100)", NULL, "\"-100\"");
    check("$formatBase(5, 40)", NULL, "!D3100");
    check("$formatBase(nothing, 2)", NULL, "undefined");
    check("$formatInteger(2024, 'I')", NULL, "\"MMXXIV\"");
    check("$formatInteger(12, 'w;o')", NULL, "\"twelfth\"");
    check("[1, 2].$formatInteger($, '000')", NULL, "[\"001\",\"002\"]");
    check("$formatInteger(123456, 'α')", NULL, "!D3130");
}

static void test_parse_integer(void **state)
{
    (void)state;
    check("$parseInteger('twelve thousand, four hundred and seventy-six', 'w')", NULL, "12476");
    check("$parseInteger('1,234', '#,##0')", NULL, "1234");
    /* not a number in that form: NaN, which stays a number and prints as null */
    check("$parseInteger('xyz', '#0')", NULL, "null");
    check("$type($parseInteger('xyz', '#0'))", NULL, "\"number\"");
    check("$parseInteger(nothing, '#0')", NULL, "undefined");
}

static void test_millis(void **state)
{
    (void)state;
    check("$fromMillis(1510067557121)", NULL, "\"2017-11-07T15:12:37.121Z\"");
    check("$fromMillis(1510067557121, '[H01]:[m01] [Z]', '-0500')", NULL, "\"10:12 -05:00\"");
    check("$fromMillis(1419940800000, '[YN]-[M]-[D]')", NULL, "!D3133");
    check("$fromMillis(nothing)", NULL, "undefined");
    check("$toMillis('2017-11-07T15:07:54.972Z')", NULL, "1510067274972");
    check("$toMillis('13/05/2018', '[D]/[M]/[Y]')", NULL, "1526169600000");
    check("$toMillis('nope', '[D]/[M]/[Y]')", NULL, "undefined");
    check("$toMillis('nope')", NULL, "!D3110");
    /* round trip through a picture */
    check("$toMillis($fromMillis(1526169600000, '[D]/[M]/[Y]'), '[D]/[M]/[Y]')", NULL,
          "1526169600000");
}

static void test_now(void **state)
{
    (void)state;
    /* One clock per evaluation: $now's forms are $fromMillis of $millis. */
    check("$now() = $fromMillis($millis())", NULL, "true");
    check("$now('[Z]', '-0500')", NULL, "\"-05:00\"");
    check("$now('[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z]', '+0530') = "
          "$fromMillis($millis(), '[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z]', '+0530')",
          NULL, "true");
    check("$now('[H01]') = $fromMillis($millis(), '[H01]')", NULL, "true");
    check("$substring($now(nothing, '+0100'), 23)", NULL, "\"+01:00\"");
    check("$now('')", NULL, "\"\"");
    check("$now('[YN]')", NULL, "!D3133");
    check("$now(1)", NULL, "!T0410");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_number), cmocka_unit_test(test_format_base_integer),
        cmocka_unit_test(test_parse_integer), cmocka_unit_test(test_millis),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
