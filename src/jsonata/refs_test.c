/*
 * refs_test.c — binding only what an expression reads: jn_expr_refs (the variables and
 * fields it reads, written out as "name" (read whole) or "name.field", sorted and without
 * repeats), and jn_eval_vars (variables and objects of them given as an array).
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

typedef struct seen {
    char items[32][64];
    size_t n;
} seen;

static void on_ref(void *ud, const char *name, size_t len, const char *field, size_t flen)
{
    seen *s = ud;
    char one[64];
    if (field)
        snprintf(one, sizeof one, "%.*s.%.*s", (int)len, name, (int)flen, field);
    else
        snprintf(one, sizeof one, "%.*s", (int)len, name);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i], one) == 0)
            return;
    assert_true(s->n < 32);
    strcpy(s->items[s->n++], one);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* expected: the reads joined by spaces, sorted */
static void check(const char *expr, const char *expected)
{
    jn_expr *e;
    jn_error err;
    if (jn_compile(expr, strlen(expr), &e, &err) != 0)
        fail_msg("%s: does not compile: %s %s", expr, err.code, err.message);
    seen s = {.n = 0};
    jn_expr_refs(e, on_ref, &s);
    jn_expr_free(e);
    qsort(s.items, s.n, sizeof s.items[0], cmp);
    char got[1024] = "";
    for (size_t i = 0; i < s.n; i++) {
        if (i)
            strcat(got, " ");
        strcat(got, s.items[i]);
    }
    if (strcmp(got, expected) != 0)
        fail_msg("%s: reads [%s], expected [%s]", expr, got, expected);
}

static void fields_of_a_variable(void **state)
{
    (void)state;
    check("$states.input", "states.input");
    check("$states.input.counter.i + 1", "states.input");
    check("$states.input.x[y > 1].z", "states.input");
    check("$states.`errorOutput`.Cause", "states.errorOutput");
    check("$states.\"result\"", "states.result");
    check("$states.input.a = $states.context.Execution.Id", "states.context states.input");
    check("$merge([$states.input, {'results': $states.result}])",
          "merge states.input states.result");
    check("'item ' & $states.input.id & ' is ' & $x", "states.input x");
    check("{'a': $states.input.a}", "states.input");
}

static void whole_reads(void **state)
{
    (void)state;
    check("$states", "states");
    check("$lookup($states, 'input')", "lookup states");
    check("$states.*", "states");
    check("$states.('input')", "states");
    check("$states[input].result", "states");
    check("$states@$s.input", "states");
    check("$keys($states)", "keys states");
    check("($v := $states; $v.result)", "states v v.result");
    check("$states.input.%.result", "states"); /* % reaches $states through its field */
    check("$states.input.x[%.y]", "states");
}

static void other_reads(void **state)
{
    (void)state;
    check("1 + 2", "");
    check("a.b", "");
    check("$", "");
    check("$$.a", "$.a");
    check("$f(1)", "f");
    check("f(1)", "f");
    check("function($n){ $n * $k }(2)", "k n");
    check("$x ~> $g(?)", "g x");
    check("$y ? $z : $w", "w y z");
    check("$a ~> | x | {'d': $c} |", "a c");
    check("[1,2]^($v)", "v");
    check("items{$k: $v}", "k v");
}

static char *eval_vars(const char *expr, const jn_var *vars, size_t n)
{
    jn_expr *e;
    jn_error err;
    assert_int_equal(jn_compile(expr, strlen(expr), &e, &err), 0);
    json_t *out = NULL;
    int rc = jn_eval_vars(e, NULL, vars, n, NULL, NULL, &out, &err);
    jn_expr_free(e);
    if (rc != 0) {
        char *code = strdup(err.code);
        jn_error_fini(&err);
        return code;
    }
    char *s = out ? json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("undefined");
    json_decref(out);
    return s;
}

static void variables_as_an_array(void **state)
{
    (void)state;
    json_t *in = json_pack("{s:{s:i}}", "counter", "i", 41);
    json_t *ten = json_integer(10);
    jn_var states[] = {{.name = "input", .value = in}, {.name = "result", .value = NULL}};
    jn_var vars[] = {{.name = "x", .value = ten},
                     {.name = "states", .members = states, .n_members = 2},
                     {.name = "gone", .value = NULL}};
    char *s = eval_vars("$states.input.counter.i + 1 + $x", vars, 3);
    assert_string_equal(s, "52");
    free(s);
    s = eval_vars("$keys($states)", vars, 3); /* a member without a value is absent */
    assert_string_equal(s, "\"input\"");
    free(s);
    s = eval_vars("$gone", vars, 3);
    assert_string_equal(s, "undefined");
    free(s);
    s = eval_vars("$states.input.counter.i", NULL, 0);
    assert_string_equal(s, "undefined");
    free(s);
    json_decref(in);
    json_decref(ten);
}

static size_t name_path(const char *expr, char *out, size_t cap)
{
    jn_expr *e;
    jn_error err;
    assert_int_equal(jn_compile(expr, strlen(expr), &e, &err), 0);
    const char *names[4];
    size_t lens[4];
    size_t n = jn_expr_name_path(e, names, lens, 4);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", i ? "/" : "", (int)lens[i],
                 names[i]);
    jn_expr_free(e);
    return n;
}

static void name_paths(void **state)
{
    (void)state;
    char got[128];
    assert_int_equal(name_path("$states.input.items", got, sizeof got), 3);
    assert_string_equal(got, "states/input/items");
    assert_int_equal(name_path("$x", got, sizeof got), 1);
    assert_string_equal(got, "x");
    assert_int_equal(name_path("$states.`a b`", got, sizeof got), 2);
    assert_string_equal(got, "states/a b");
    assert_int_equal(name_path("$a.b.c.d.e", got, sizeof got), 0); /* longer than max */
    const char *not_paths[] = {"$states.input[0]",
                               "$states.input.items[id > 1]",
                               "$states.*",
                               "$states.input.items[]",
                               "$states.input@$i",
                               "$states.input#$i",
                               "$states.input^(x)",
                               "$states.input{'a': b}",
                               "$",
                               "a.b",
                               "$f()",
                               "($x)",
                               "$x.$y",
                               "$x.a.%"};
    for (size_t i = 0; i < sizeof(not_paths) / sizeof(not_paths[0]); i++)
        if (name_path(not_paths[i], got, sizeof got) != 0)
            fail_msg("%s: taken for a name path (%s)", not_paths[i], got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_of_a_variable), cmocka_unit_test(whole_reads),
        cmocka_unit_test(other_reads),          cmocka_unit_test(variables_as_an_array),
        cmocka_unit_test(name_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
