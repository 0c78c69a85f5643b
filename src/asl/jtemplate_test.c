/*
 * jtemplate_test.c — JSONata-mode field values: literals stay literal, {% %} strings
 * compile once and evaluate over the bindings, nested failures name their location.
 */
#include "asl/jtemplate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static asl_jt *compile_ok(const char *json)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    asl_jt *t = NULL;
    asl_jt_problem p;
    assert_int_equal(asl_jt_compile(v, &t, &p), 0);
    json_decref(v);
    return t;
}

static char *eval_text(asl_jt *t, const char *bindings, asl_jt_problem *p)
{
    json_t *b = json_loads(bindings, 0, NULL);
    json_t *out = NULL;
    int rc = asl_jt_eval(t, b, NULL, NULL, &out, p);
    json_decref(b);
    if (rc != 0)
        return NULL;
    char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(out);
    return s;
}

static void literals_stay_literal(void **state)
{
    (void)state;
    asl_jt *t = compile_ok("{\"a\":\"1 + 1\",\"b\":[\"{%\",\"%}\"],\"c\":\" {% 1 %}\"}");
    assert_non_null(asl_jt_constant(t));
    assert_null(asl_jt_expr_text(t));
    asl_jt_problem p;
    char *s = eval_text(t, "{}", &p);
    assert_string_equal(s, "{\"a\":\"1 + 1\",\"b\":[\"{%\",\"%}\"],\"c\":\" {% 1 %}\"}");
    free(s);
    asl_jt_free(t);
}

static void expressions_nest_in_templates(void **state)
{
    (void)state;
    asl_jt *t = compile_ok(
        "{\"sum\":\"{% $sum($states.input.n) %}\",\"l\":[1,\"{% $x & 'y' %}\"],\"k\":\"k\"}");
    assert_null(asl_jt_constant(t));
    asl_jt_problem p;
    char *s = eval_text(t, "{\"states\":{\"input\":{\"n\":[1,2,3.5]}},\"x\":\"x\"}", &p);
    assert_string_equal(s, "{\"sum\":6.5,\"l\":[1,\"xy\"],\"k\":\"k\"}");
    free(s);
    asl_jt_free(t);
}

static void one_expression_is_trimmed(void **state)
{
    (void)state;
    asl_jt *t = compile_ok("\"{%   $states.input   %}\"");
    assert_string_equal(asl_jt_expr_text(t), "$states.input");
    asl_jt_free(t);
}

static void syntax_error_names_its_place(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"a\":{\"b\":[0,\"{% 1 + %}\"]}}", 0, NULL);
    asl_jt *t = NULL;
    asl_jt_problem p;
    assert_int_equal(asl_jt_compile(v, &t, &p), -1);
    assert_null(t);
    assert_int_equal(p.kind, ASL_JT_SYNTAX);
    assert_string_equal(p.field, "/a/b[1]");
    assert_string_equal(p.err.code, "S0207");
    asl_jt_problem_fini(&p);
    json_decref(v);
}

static void undefined_and_errors_are_failures(void **state)
{
    (void)state;
    asl_jt *t = compile_ok("{\"v\":\"{% $states.input.missing %}\"}");
    asl_jt_problem p;
    assert_null(eval_text(t, "{\"states\":{\"input\":{}}}", &p));
    assert_int_equal(p.kind, ASL_JT_UNDEFINED);
    assert_string_equal(p.field, "/v");
    assert_string_equal(p.expr, "$states.input.missing");
    asl_jt_problem_fini(&p);
    asl_jt_free(t);

    t = compile_ok("\"{% $nofunction(1) %}\"");
    assert_null(eval_text(t, "{}", &p));
    assert_int_equal(p.kind, ASL_JT_ERROR);
    assert_string_equal(p.field, "");
    assert_string_equal(p.err.code, "T1006");
    asl_jt_problem_fini(&p);
    asl_jt_free(t);
}

static void reads_gather_every_expression(void **state)
{
    (void)state;
    asl_jt *t = compile_ok("{\"a\":\"{% $states.input.n %}\",\"b\":[\"{% $x & $states.result %}\"],"
                           "\"c\":\"{% $x + $y %}\"}");
    const asl_jt_reads *r = asl_jt_reads_of(t);
    assert_int_equal(r->states, ASL_JT_INPUT | ASL_JT_RESULT);
    assert_int_equal(r->n_vars, 2);
    assert_string_equal(r->vars[0], "x");
    assert_string_equal(r->vars[1], "y");
    asl_jt_free(t);
    t = compile_ok("\"{% $states.context.Execution.Id & $keys($states) %}\"");
    r = asl_jt_reads_of(t);
    assert_int_equal(r->states, ASL_JT_STATES);
    assert_int_equal(r->n_vars, 1);
    assert_string_equal(r->vars[0], "keys");
    asl_jt_free(t);
    t = compile_ok("{\"k\":\"$states.input\"}");
    assert_int_equal(asl_jt_reads_of(t)->states, 0);
    assert_int_equal(asl_jt_reads_of(t)->n_vars, 0);
    asl_jt_free(t);
}

/* A $var.field… expression gives the binding's own JSON where JSONata would give it back
 * unchanged, and the converted value, or the failure, everywhere else. */
static void selected_json_is_shared_or_converted(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"items\":[{\"id\":1,\"n\":\"a\"},[2,[3]]],\"one\":1.0,"
                            "\"half\":0.5,\"keys\":{\"b\":1,\"10\":2,\"2\":3},\"big\":"
                            "9007199254740993,\"s\":\"x\"}",
                            0, NULL);
    assert_non_null(in);
    jn_var states[] = {{.name = "input", .value = in}};
    jn_var vars[] = {{.name = "states", .members = states, .n_members = 1}};
    static const struct {
        const char *expr;
        const char *text; /* the value's JSON, or NULL for undefined */
        bool shared;
    } cases[] = {
        {"$states.input.items", "[{\"id\":1,\"n\":\"a\"},[2,[3]]]", true},
        {"$states.input.half", "0.5", true},
        {"$states.input.s", "\"x\"", true},
        {"$states.input.one", "1", false},
        {"$states.input.big", "9007199254740992.0", false},
        {"$states.input.keys", "{\"2\":3,\"10\":2,\"b\":1}", false},
        {"$states.input.items.id", "1", false}, /* over an array: JSONata maps */
        {"$states.input.nothing", NULL, false},
        {"$states.input.s.t", NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char tmpl[128];
        snprintf(tmpl, sizeof tmpl, "\"{%% %s %%}\"", cases[i].expr);
        asl_jt *t = compile_ok(tmpl);
        json_t *out = NULL;
        asl_jt_problem p;
        int rc = asl_jt_eval_vars(t, vars, 1, NULL, NULL, &out, &p);
        if (cases[i].text == NULL) {
            assert_int_equal(rc, -1);
            assert_int_equal(p.kind, ASL_JT_UNDEFINED);
            asl_jt_problem_fini(&p);
        } else {
            assert_int_equal(rc, 0);
            char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
            if (strcmp(s, cases[i].text) != 0)
                fail_msg("%s gave %s, expected %s", cases[i].expr, s, cases[i].text);
            free(s);
            json_t *own = json_object_get(in, cases[i].expr + strlen("$states.input."));
            assert_int_equal(out == own, cases[i].shared);
            json_decref(out);
        }
        asl_jt_free(t);
    }
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literals_stay_literal),
        cmocka_unit_test(reads_gather_every_expression),
        cmocka_unit_test(selected_json_is_shared_or_converted),
        cmocka_unit_test(expressions_nest_in_templates),
        cmocka_unit_test(one_expression_is_trimmed),
        cmocka_unit_test(syntax_error_names_its_place),
        cmocka_unit_test(undefined_and_errors_are_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
