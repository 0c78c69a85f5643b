/*
 * parser_test.c — unit tests for lexer.c, parser.c and ast.c through jn_compile: what
 * compiles, and the syntax errors with the reference's codes and positions (the offset
 * just after the offending token).
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

static void compiles(const char *text)
{
    jn_expr *e;
    jn_error err;
    int rc = jn_compile(text, strlen(text), &e, &err);
    if (rc != 0)
        fail_msg("%s: %s %s", text, err.code, err.message);
    assert_string_equal(jn_expr_text(e), text);
    jn_expr_free(e);
}

static void fails(const char *text, const char *code, long position)
{
    jn_expr *e = NULL;
    jn_error err;
    int rc = jn_compile(text, strlen(text), &e, &err);
    assert_int_equal(rc, -1);
    assert_null(e);
    if (strcmp(err.code, code) != 0)
        fail_msg("%.60s: expected %s, got %s (%s)", text, code, err.code, err.message);
    if (position >= 0)
        assert_int_equal(err.position, position);
    assert_non_null(err.message);
    jn_error_fini(&err);
}

static void valid_expressions(void **state)
{
    (void)state;
    compiles("Account.Order[0].Product.(Price * Quantity)");
    compiles("$sum(Account.Order.Product.(Price * Quantity))");
    compiles("Account.Order.Product^(>Price, <Quantity)");
    compiles("Account.Order{OrderID: $sum(Product.Price)}");
    compiles("library.books@$b.authors#$i[$i > 0]");
    compiles("Account.Order.Product.%.OrderID");
    compiles("function($x, $y)<nn:n>{ $x + $y }(1, 2)");
    compiles("\xce\xbb($x){$x * 2}");
    compiles("$f := $substring(?, 0, 2)");
    compiles("| Account.Order | {'x': 1}, ['y'] |");
    compiles("/a+b/i");
    compiles("`weird name`.x /* comment */ ~> $string()");
    compiles("[1..5][$ > 2] ? 'yes' : 'no'");
    compiles("a and b or c in [1, 2]");
    compiles("and.or.in");
    compiles("$$.**.*");
    compiles("\"\\u00e9\\ud83d\\ude00\"");
}

static void syntax_errors(void **state)
{
    (void)state;
    fails("", "S0207", 0);
    fails("1 2", "S0201", 3);
    fails("a]", "S0201", 2);
    fails("(", "S0203", 1);
    fails(":", "S0211", 1);
    fails("}", "S0211", 1);
    fails("a.", "S0207", 2);
    fails("\"abc", "S0101", -1);
    fails("'\\x'", "S0103", -1);
    fails("\"\\u12\"", "S0104", -1);
    fails("1e999", "S0102", -1);
    fails("`abc", "S0105", -1);
    fails("/* no end", "S0106", -1);
    fails("$f(/", "S0302", -1);
    fails("a !b", "S0204", -1);
    fails("a ~ b", "S0204", -1);
    fails("function(a){1}", "S0208", -1);
    fails("1 := 2", "S0212", -1);
    fails("a@b", "S0214", -1);
    fails("a#1", "S0214", -1);
    fails("a{'x':1}{'y':2}", "S0210", -1);
    fails("a.1", "S0213", -1);
    fails("a[0]@$x", "S0215", -1);
    fails("a^(b)@$x", "S0216", -1);
    fails("%", "S0217", -1);
    fails("function($x)<n<n>:n>{1}", "S0401", -1);
    fails("function($x)<(sa<n>)>{1}", "S0402", -1);
    fails("[1,2", "S0203", -1);
    fails("{'a' 1}", "S0202", -1);
}

static void positions_count_characters(void **state)
{
    (void)state;
    /* "é" is two bytes and one character: the error sits after the "]" at character 4 */
    fails("\"\xc3\xa9\" ]", "S0201", 5);
}

static void nesting_is_bounded(void **state)
{
    (void)state;
    size_t n = 100000;
    char *text = malloc(2 * n + 2);
    memset(text, '(', n);
    text[n] = '1';
    memset(text + n + 1, ')', n);
    text[2 * n + 1] = '\0';
    fails(text, "U1001", -1);
    for (size_t i = 0; i < n; i++)
        text[i] = i % 2 ? '+' : '1';
    text[n - 1] = '1';
    text[n] = '\0';
    fails(text, "U1001", -1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_expressions),
        cmocka_unit_test(syntax_errors),
        cmocka_unit_test(positions_count_characters),
        cmocka_unit_test(nesting_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
