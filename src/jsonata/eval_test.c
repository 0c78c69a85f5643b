/*
 * eval_test.c — unit tests for the evaluator (eval.c, path.c, signature.c and the core
 * library) through jn_compile/jn_eval: each case an expression, an input and the value or
 * error code the JSONata documentation gives; then libraries a caller extends, bindings,
 * and the three limits.
 */
#include "jsonata/builtin.h"
#include "jsonata/jsonata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static const char *DOC =
    "{\"Account\": {\"Name\": \"Firefly\", \"Order\": ["
    "{\"OrderID\": \"o1\", \"Product\": [{\"Name\": \"Hat\", \"Price\": 34.45, \"Quantity\": 2},"
    " {\"Name\": \"Scarf\", \"Price\": 21.67, \"Quantity\": 1}]},"
    "{\"OrderID\": \"o2\", \"Product\": [{\"Name\": \"Hat\", \"Price\": 34.45, \"Quantity\": 4},"
    " {\"Name\": \"Cloak\", \"Price\": 107.99, \"Quantity\": 1}]}]},"
    " \"nums\": [3, 1, 2], \"nested\": [[1, 2], [3], 4], \"empty\": []}";

static json_t *doc;

static int setup(void **state)
{
    (void)state;
    doc = json_loads(DOC, JSON_DECODE_INT_AS_REAL, NULL);
    return doc == NULL;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(doc);
    return 0;
}

/* expected: JSON text of the value, "undefined", or "!CODE" for an error */
static void check_with(const char *expr, const json_t *input, const json_t *bindings,
                       const jn_lib *lib, const jn_limits *lim, const char *expected)
{
    jn_expr *e;
    jn_error err;
    if (jn_compile(expr, strlen(expr), &e, &err) != 0) {
        if (expected[0] == '!' && strcmp(expected + 1, err.code) == 0) {
            jn_error_fini(&err);
            return;
        }
        fail_msg("%s: does not compile: %s %s", expr, err.code, err.message);
    }
    json_t *out = NULL;
    int rc = jn_eval(e, input, bindings, lib, lim, &out, &err);
    jn_expr_free(e);
    if (rc != 0) {
        if (expected[0] != '!' || strcmp(expected + 1, err.code) != 0)
            fail_msg("%s: expected %s, got error %s: %s", expr, expected, err.code, err.message);
        jn_error_fini(&err);
        return;
    }
    if (expected[0] == '!')
        fail_msg("%s: expected error %s, got a value", expr, expected + 1);
    if (strcmp(expected, "undefined") == 0) {
        if (out != NULL)
            fail_msg("%s: expected undefined", expr);
        return;
    }
    json_t *want = json_loads(expected, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
    assert_non_null(want);
    if (out == NULL)
        fail_msg("%s: expected %s, got undefined", expr, expected);
    /* compare as numbers written the same way */
    char *a = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    char *b = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_t *ra = json_loads(a, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
    json_t *rb = json_loads(b, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
    if (!json_equal(ra, rb))
        fail_msg("%s: expected %s, got %s", expr, b, a);
    free(a);
    free(b);
    json_decref(ra);
    json_decref(rb);
    json_decref(want);
    json_decref(out);
}

static void check(const char *expr, const char *expected)
{
    check_with(expr, doc, NULL, NULL, NULL, expected);
}

static void paths_and_sequences(void **state)
{
    (void)state;
    check("Account.Name", "\"Firefly\"");
    check("Account.Order.OrderID", "[\"o1\",\"o2\"]");
    check("Account.Order[0].OrderID", "\"o1\"");
    check("Account.Order[-1].OrderID", "\"o2\"");
    check("Account.Order.Product.Price", "[34.45,21.67,34.45,107.99]");
    check("Account.Order.Product[0].Name", "[\"Hat\",\"Hat\"]");
    check("(Account.Order.Product)[0].Name", "\"Hat\"");
    check("Account.Order[0].Product[Price > 30].Name", "\"Hat\"");
    check("Account.Order[0].Product[Price > 30].Name[]", "[\"Hat\"]");
    check("nested", "[[1,2],[3],4]");
    check("nested.$", "[1,2,3,4]");
    check("empty", "[]");
    check("missing", "undefined");
    check("Account.*.OrderID", "[\"o1\",\"o2\"]");
    check("$append([], [])", "[]"); /* no item for an empty array to contribute */
    check("$append([3], [])", "[3]");
    check("$append([], 4)", "[4]");
    check("$count(**.Price)", "4");
    check("$sum(Account.Order.Product.(Price * Quantity))", "336.36");
    check("Account.Order.Product[Quantity > 1 and Price < 40].Name", "[\"Hat\",\"Hat\"]");
    check("[1,2,3][[0,2]]", "[1,3]");
    check("[[1,2],[3]][0]", "[1,2]");
    check("$.nums", "[3,1,2]");
    check("$$.Account.Name", "\"Firefly\"");
}

static void constructors_and_grouping(void **state)
{
    (void)state;
    check("[Account.Order.OrderID, 'x']", "[\"o1\",\"o2\",\"x\"]");
    check("[[1,2],[3]]", "[[1,2],[3]]");
    check("Account.Order.Product{Name: $sum(Quantity)}", "{\"Hat\":6,\"Scarf\":1,\"Cloak\":1}");
    check("Account.Order{OrderID: $count(Product)}", "{\"o1\":2,\"o2\":2}");
    check("{'a': 1, 'a': 2}", "!D1009");
    check("{1: 2}", "!T1003");
    check("Account.Order.Product^(>Price).Price", "[107.99,34.45,34.45,21.67]");
    check("Account.Order.Product^(Name, >Quantity).Quantity", "[1,4,2,1]");
    check("nums^($)", "[1,2,3]");
    check("[1..5]", "[1,2,3,4,5]");
    check("[5..1]", "[]");
    check("[1..1e8]", "!D2014");
    check("[1.5..3]", "!T2003");
}

static void tuples_and_parents(void **state)
{
    (void)state;
    check("Account.Order@$o.Product", "undefined"); /* @ keeps the context: no Account.Product */
    check("Account.Order@$o.$o.Product[Price > 100].{'order': $o.OrderID, 'name': Name}",
          "{\"order\":\"o2\",\"name\":\"Cloak\"}");
    check("Account.Order.Product#$i[$i = 1].Name", "[\"Scarf\",\"Cloak\"]");
    check("Account.Order.Product[Name = 'Cloak'].%.OrderID", "\"o2\"");
    check("Account.Order.Product.{'n': Name, 'o': %.OrderID}[n='Scarf'].o", "\"o1\"");
    check("Account.Order.Product.%.%.Name", "[\"Firefly\",\"Firefly\",\"Firefly\",\"Firefly\"]");
}

static void operators(void **state)
{
    (void)state;
    check("1 + 2 * 3 - 4 / 2 % 3", "5");
    check("'a' & 1 & true & null", "\"a1truenull\"");
    check("1 + 'a'", "!T2002");
    check("'a' - 1", "!T2001");
    check("1 < 'a'", "!T2009");
    check("{} < 1", "!T2010");
    check("[1,{'a':[2]}] = [1,{'a':[2]}]", "true");
    check("missing = missing", "false");
    check("2 in nums", "true");
    check("'x' in 'x'", "true");
    check("-Account.Name", "!D1002");
    check("true ? 1 : 2", "1");
    check("false ? 1", "undefined");
    check("0.1 + 0.2", "0.30000000000000004");
    check("$string(0.1 + 0.2)", "\"0.3\"");
    check("$string(1e21) & $string(1e-7) & $string(100)", "\"1e+211e-7100\"");
    /* strings order by UTF-16 code units, as JavaScript's: a surrogate pair (U+1F600) comes
     * before U+E000–U+FFFF (U+FB01), though its code point is higher */
    check("'\\uFB01' < '\\uD83D\\uDE00'", "false");
    check("'\\uD83D\\uDE00' < '\\uFB01'", "true");
    check("'\\uD83D\\uDE00' > '\\u00e9'", "true");
    check("'ab' < 'a' or 'a' >= 'b'", "false");
    check("'\\u00e9' > '\\u00e8'", "true");
}

static void functions_and_closures(void **state)
{
    (void)state;
    check("($f := function($x) { $x * 2 }; $f(21))", "42");
    check("(function($x){ function($y) { $x + $y } })(1)(2)", "3");
    check("($add := function($a, $b) { $a + $b }; $inc := $add(?, 1); $inc(41))", "42");
    check("nums ~> $sum()", "6");
    check("($twice := function($f) { $f ~> $f }; ($twice($uppercase))('a'))", "\"A\"");
    check("nums.$string() ~> $join(',')", "\"3,1,2\"");
    check("($fact := function($n, $acc) { $n <= 1 ? $acc : $fact($n - 1, $n * $acc) };"
          " $fact(170, 1))",
          "7.257415615308004e306");
    check("($loop := function($n) { $n = 0 ? 'done' : $loop($n - 1) }; $loop(100000))", "\"done\"");
    check("$map(nums, function($v, $i) { $v * $i })", "[0,1,4]");
    check("$filter(nums, function($v) { $v > 1 })", "[3,2]");
    check("$reduce(nums, function($a, $b) { $a + $b }, 10)", "16");
    check("$sort(nums, function($a, $b) { $a < $b })", "[3,2,1]");
    check("($f := function($x)<n:n>{ $x }; $f('a'))", "!T0410");
    check("$substring('hello', 1, 3)", "\"ell\"");
    check("$substring(1)", "!T0411"); /* 1 taken as the start, the context is no string */
    check("Account.Name.$substring(1)", "\"irefly\"");
    check("$uppercase(1)", "!T0410");
    check("$sum(['a'])", "!T0412");
    check("$nonesuch(1)", "!T1006");
    check("string(1)", "!T1005");
    check("nums ~> 1", "!T2006");
    check("$length('\xf0\x9f\x98\x80"
          "a')",
          "2");
    check("$keys(Account)", "[\"Name\",\"Order\"]");
    check("$lookup(Account, 'Name')", "\"Firefly\"");
    check("$type(nums) & $type(1) & $type(null) & $type($sum)", "\"arraynumbernullfunction\"");
    check("$boolean([0, '']) or $exists(nope)", "false");
    check("$count(empty) + $count(nums)", "3");
    check("$max(nums) - $min(nums) + $average(nums)", "4");
    check("$replace('abcabc', /b(c)/, '[$1]')", "\"a[c]a[c]\"");
    check("$split('a1b22c', /[0-9]+/)", "[\"a\",\"b\",\"c\"]");
    check("$match('ab12', /[0-9]/).match", "[\"1\",\"2\"]");
    check("$contains('hello', /L+/i)", "true");
    check("$error('boom')", "!D3137");
    check("$uppercase('h\xc3\xa9llo') & $lowercase('\xc3\x80"
          "B')",
          "\"H\xc3\x89LLO\xc3\xa0"
          "b\"");
    check("$substring('Hello', missing, 2)", "\"\"");
    /* JavaScript's special casings: one letter becomes several, Σ ends a word as ς */
    check("$uppercase('stra\xc3\x9f"
          "e \xef\xac\x81x')",
          "\"STRASSE FIX\"");
    check("$lowercase('\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3\xce\x91')",
          "\"\xce\xbf\xce\xb4\xce\xbf\xcf\x82 \xcf\x83\xce\xb1\"");
    check("$lowercase('\xc4\xb0')", "\"i\xcc\x87\"");
}

static void transforms(void **state)
{
    (void)state;
    check("Account ~> |Order.Product|{'Price': 0}, ['Quantity']|.Order", "!T2006");
    check("(Account ~> |Order.Product|{'Price': 0}, ['Quantity']|).Order.Product[0]",
          "[{\"Name\":\"Hat\",\"Price\":0},{\"Name\":\"Hat\",\"Price\":0}]");
    check("Account.Order.Product[0].Price", "[34.45,34.45]"); /* input unchanged */
    check("Account ~> |Order|1|", "!T2011");
    check("Account ~> |Order|{}, 1|", "!T2012");
}

/* a native function a caller adds */
static jn_val *twice(jn_ctx *cx, jn_val **args, size_t nargs)
{
    (void)nargs;
    return jn_number(jn_ctx_arena(cx), jn_num(args[0]) * 2);
}

static const jn_builtin twice_builtin = {"twice", "<n:n>", twice};

static void libraries_and_bindings(void **state)
{
    (void)state;
    jn_lib *lib = jn_lib_new(NULL);
    jn_lib_add(lib, &twice_builtin);
    assert_int_equal(jn_lib_remove(lib, "uppercase"), 0);
    assert_int_equal(jn_lib_remove(lib, "uppercase"), -1);
    json_t *v = json_pack("{s:i}", "k", 5);
    jn_lib_set_var(lib, "config", v);
    json_decref(v);
    check_with("$twice(21)", NULL, NULL, lib, NULL, "42");
    check_with("$twice('a')", NULL, NULL, lib, NULL, "!T0410");
    check_with("$uppercase('a')", NULL, NULL, lib, NULL, "!T1006");
    check_with("$config.k", NULL, NULL, lib, NULL, "5");
    check_with("$twice(21)", NULL, NULL, NULL, NULL, "!T1006");
    json_t *b = json_pack("{s:i,s:s}", "x", 2, "config", "mine");
    check_with("$x * 3 & $config", NULL, b, lib, NULL, "\"6mine\"");
    json_decref(b);
    jn_lib_free(lib);
}

static void limits(void **state)
{
    (void)state;
    jn_limits lim = JN_LIMITS_DEFAULT;
    lim.max_depth = 302;
#define FACT "($f := function($n){$n = 0 ? 1 : $n * $f($n - 1)}; $f(%d))"
    char buf[128];
    snprintf(buf, sizeof buf, FACT, 99);
    check_with(buf, NULL, NULL, NULL, &lim, "9.33262154439441e155");
    snprintf(buf, sizeof buf, FACT, 100);
    check_with(buf, NULL, NULL, NULL, &lim, "!U1001");
    lim = JN_LIMITS_DEFAULT;
    lim.time_limit_ms = 100;
    check_with("($f := function(){ $f() }; $f())", NULL, NULL, NULL, &lim, "!U1001");
    lim = JN_LIMITS_DEFAULT;
    lim.max_memory = 8 * 1024 * 1024;
    check_with("$count([1..1e7])", NULL, NULL, NULL, &lim, "!U1002");
    /* without a depth limit the stack guard stops a runaway recursion */
    check_with("($f := function($n){ 1 + $f($n + 1) }; $f(0))", NULL, NULL, NULL, NULL, "!U1001");
    /* a value nested deeper than JSON can carry */
    check_with("($f := function($x, $n){ $n = 0 ? $x : $f({'a': $x}, $n - 1) }; $f(1, 5000))", NULL,
               NULL, NULL, NULL, "!U1002");
    /* a result that shares one array 2^20 times is too big to hand back */
    check_with("($a := [1..100]; $f := function($x, $n){ $n = 0 ? $x : $f([[$x], [$x]], $n - "
               "1) }; $f($a, 20))",
               NULL, NULL, NULL, NULL, "!U1002");
}

static double now_ms(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Work inside one native function that no evaluation step interrupts: each must be
 * linear, or stop at the time limit. */
static void native_work_is_bounded(void **state)
{
    (void)state;
    jn_limits lim = JN_LIMITS_DEFAULT;
    lim.time_limit_ms = 300;
    /* a substring search: a naive one compares 2e6 x 2e6 bytes */
    double t0 = now_ms();
    check_with("($h := $pad('', 4000000, 'a'); $n := $pad('', 2000000, 'a') & 'b';"
               " [$contains($h, $n), $length($substringBefore($h, $n)),"
               " $count($split($h, $n)), $length($replace($h, $n, 'x'))])",
               NULL, NULL, NULL, NULL, "[false, 4000000, 1, 4000000]");
    assert_true(now_ms() - t0 < 3000);
    /* $distinct compares each item with those kept: quadratic, so it stops in time */
    t0 = now_ms();
    check_with("$count($distinct([1..100000]))", NULL, NULL, NULL, &lim, "!U1001");
    assert_true(now_ms() - t0 < 3000);
    /* an object built with index keys descending moves its entries at each insert */
    t0 = now_ms();
    check_with("$count($keys($merge([1..200000].{$string(200001 - $): 1})))", NULL, NULL, NULL,
               &lim, "!U1001");
    assert_true(now_ms() - t0 < 3000);
    /* ascending, each finds its place by bisection */
    t0 = now_ms();
    check_with("$count($keys($merge([1..50000].{$string($): 1})))", NULL, NULL, NULL, NULL,
               "50000");
    assert_true(now_ms() - t0 < 3000);
}

/* Walks over values the evaluation built: arrays nested 300,000 deep (deeper than the
 * C stack holds a recursion), and one of 2^40 paths (an array that shares its halves). */
static void walks_over_built_values(void **state)
{
    (void)state;
#define DEEP "($f := function($n, $a){ $n = 0 ? $a : $f($n - 1, [[$a]]) }; $x := $f(300000, [1]); "
    check_with(DEEP "$x.a)", NULL, NULL, NULL, NULL, "!U1001");
    check_with(DEEP "$lookup($x, 'a'))", NULL, NULL, NULL, NULL, "!U1001");
    check_with(DEEP "$exists($x.a))", NULL, NULL, NULL, NULL, "!U1001");
    check_with(DEEP "[$boolean($x), $not($x), $x ? 1 : 2, $count($x[$])])", NULL, NULL, NULL, NULL,
               "[true, false, 1, 1]");
#undef DEEP
    jn_limits lim = JN_LIMITS_DEFAULT;
    lim.time_limit_ms = 300;
#define DAG "($f := function($x, $n){ $n = 0 ? $x : $f([[$x], [$x]], $n - 1) }; $d := $f([0], 40); "
    check_with(DAG "$boolean($d))", NULL, NULL, NULL, &lim, "!U1001");
    check_with(DAG "$keys($d))", NULL, NULL, NULL, &lim, "!U1001");
    check_with(DAG "$count($d[$]))", NULL, NULL, NULL, &lim, "!U1001");
    check_with(DAG "$string($d))", NULL, NULL, NULL, &lim, "!U1001");
#undef DAG
}

/* An input object's index keys ("0" … "4294967294") come first, ascending, as JavaScript
 * orders them; 30,000 of them in descending order read in one sort, not 30,000 inserts. */
static void input_index_keys(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"b\": 1, \"3\": 2, \"x\": {\"9\": 1, \"1\": 2, \"z\": 3},"
                            " \"1\": 4, \"01\": 5}",
                            0, NULL);
    check_with("{'k': $keys($), 'x': $keys(x), 's': $string($)}", in, NULL, NULL, NULL,
               "{\"k\": [\"1\", \"3\", \"b\", \"x\", \"01\"], \"x\": [\"1\", \"9\", \"z\"],"
               " \"s\": \"{\\\"1\\\":4,\\\"3\\\":2,\\\"b\\\":1,\\\"x\\\":{\\\"1\\\":2,"
               "\\\"9\\\":1,\\\"z\\\":3},\\\"01\\\":5}\"}");
    json_decref(in);
    in = json_object();
    char key[16];
    for (int i = 30000; i > 0; i--) {
        snprintf(key, sizeof key, "%d", i);
        json_object_set_new(in, key, json_integer(i));
    }
    jn_limits lim = JN_LIMITS_DEFAULT;
    lim.max_memory = 64u * 1024 * 1024;
    lim.time_limit_ms = 2000;
    check_with("[$count($keys($)), $keys($)[0], $keys($)[-1], $.\"17\", $sum(*)]", in, NULL, NULL,
               &lim, "[30000, \"1\", \"30000\", 17, 450015000]");
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_and_sequences),     cmocka_unit_test(constructors_and_grouping),
        cmocka_unit_test(tuples_and_parents),      cmocka_unit_test(operators),
        cmocka_unit_test(functions_and_closures),  cmocka_unit_test(transforms),
        cmocka_unit_test(libraries_and_bindings),  cmocka_unit_test(limits),
        cmocka_unit_test(native_work_is_bounded),  cmocka_unit_test(input_index_keys),
        cmocka_unit_test(walks_over_built_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
