/*
 * exec_jsonata_test.c — the engine in JSONata mode, driven through exec.h: a Task's Arguments
 * and TimeoutSeconds, Output over $states.result, Assign beside it, a caught
 * States.QueryEvaluationError whose catcher reads $states.errorOutput, Map limits from
 * expressions, Step Functions' functions ($uuid from the execution's seed, no $eval).
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "engine/exec.h"
#include "engine/history.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T0 1700000000000LL

static asl_machine *load(const char *text)
{
    bt_diag d;
    bt_diag_init(&d);
    asl_machine *m = NULL;
    int rc = asl_load_text(text, strlen(text), &m, &d);
    if (rc != 0 && d.len)
        print_error("%s\n", d.items[0].message);
    assert_int_equal(rc, 0);
    bt_diag_fini(&d);
    return m;
}

static uint64_t last_task;

static void advance(exec *e, int64_t now)
{
    while (exec_advance(e, now, 0))
        ;
    exec_effects fx;
    exec_take_effects(e, &fx);
    for (size_t i = 0; i < fx.n_items; i++)
        if (fx.items[i].kind == EXEC_EFFECT_TASK_START)
            last_task = fx.items[i].id;
}

static exec *start(asl_machine *m, const char *input, uint64_t seed)
{
    json_t *in = json_loads(input, JSON_DECODE_ANY, NULL);
    assert_non_null(in);
    exec_config cfg = {.name = "e1",
                       .arn = "arn:aws:states:us-east-1:123456789012:execution:m:e1",
                       .sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                       .sm_name = "m",
                       .role_arn = "arn:aws:iam::123456789012:role/r",
                       .region = "us-east-1",
                       .start_ms = T0,
                       .seed = seed};
    last_task = 0;
    exec *e = exec_new(m, in, &cfg);
    json_decref(in);
    advance(e, T0);
    return e;
}

static char *output_text(const exec *e)
{
    return json_dumps(exec_output(e), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void task_arguments_result_output_assign(void **state)
{
    (void)state;
    asl_machine *m = load(
        "{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"T\",\"States\":{"
        "\"T\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:123456789012:"
        "function:f\",\"Arguments\":{\"n\":\"{% $states.input.n + 1 %}\",\"k\":\"lit\"},"
        "\"TimeoutSeconds\":\"{% $states.input.n * 10 %}\","
        "\"Output\":{\"r\":\"{% $states.result.v %}\",\"in\":\"{% $states.input.n %}\"},"
        "\"Assign\":{\"seen\":\"{% $states.result.v %}\"},\"Next\":\"P\"},"
        "\"P\":{\"Type\":\"Pass\",\"Output\":\"{% [$seen, $states.input.r] %}\",\"End\":true}}}");
    exec *e = start(m, "{\"n\":2}", 1);
    const exec_task *t = exec_get_task(e, last_task);
    assert_non_null(t);
    char *args = json_dumps(t->parameters, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(args, "{\"k\":\"lit\",\"n\":3}");
    free(args);
    assert_int_equal(t->timeout_s, 20);
    json_t *res = json_pack("{s:s}", "v", "done");
    assert_int_equal(exec_task_succeed(e, t->id, res, T0 + 5), 0);
    json_decref(res);
    advance(e, T0 + 5);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *s = output_text(e);
    assert_string_equal(s, "[\"done\",\"done\"]");
    free(s);
    exec_free(e);
    asl_machine_unref(m);
}

static void query_error_is_caught_with_error_output(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"M\",\"States\":{"
             "\"M\":{\"Type\":\"Map\",\"Items\":\"{% $states.input.notThere %}\","
             "\"ItemProcessor\":{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Succeed\"}}},"
             "\"Catch\":[{\"ErrorEquals\":[\"States.QueryEvaluationError\"],"
             "\"Output\":\"{% $states.errorOutput.Error %}\",\"Next\":\"D\"}],\"End\":true},"
             "\"D\":{\"Type\":\"Succeed\"}}}");
    exec *e = start(m, "{}", 1);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *s = output_text(e);
    assert_string_equal(s, "\"States.QueryEvaluationError\"");
    free(s);
    exec_free(e);
    asl_machine_unref(m);
}

/* A failed evaluation writes EvaluationFailed before the state's own failure events: its
 * details name the state and the field, with the fault's error and cause. */
static void evaluation_failed_event(void **state)
{
    (void)state;
    asl_machine *m = load("{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"A\",\"States\":{"
                          "\"A\":{\"Type\":\"Pass\",\"Next\":\"M\"},"
                          "\"M\":{\"Type\":\"Map\",\"Items\":\"{% $states.input.n %}\","
                          "\"ItemProcessor\":{\"StartAt\":\"I\",\"States\":{\"I\":{"
                          "\"Type\":\"Succeed\"}}},\"Output\":{\"r\":\"{% $nope %}\"},"
                          "\"End\":true}}}");
    static const char *const expected[] = {
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "MapStateEntered",
        "EvaluationFailed", "MapStateFailed",   "ExecutionFailed"};
    exec *e = start(m, "{\"n\":1}", 1);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    const history *h = exec_history(e);
    assert_int_equal(h->len, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < h->len; i++)
        assert_string_equal(hist_type_name(h->events[i].type), expected[i]);
    json_t *ev = history_event_to_json(&h->events[4], 1);
    json_t *d = json_object_get(ev, "evaluationFailedEventDetails");
    assert_string_equal(json_string_value(json_object_get(d, "state")), "M");
    assert_string_equal(json_string_value(json_object_get(d, "location")), "Items");
    assert_string_equal(json_string_value(json_object_get(d, "error")),
                        "States.QueryEvaluationError");
    assert_string_equal(json_string_value(json_object_get(d, "cause")), exec_cause(e));
    json_decref(ev);
    exec_free(e);

    /* an Output/key that is undefined: the location goes down to the key */
    e = start(m, "{\"n\":[1]}", 1);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    h = exec_history(e);
    const hist_event *failed = NULL;
    for (size_t i = 0; i < h->len; i++)
        if (h->events[i].type == HIST_EvaluationFailed) {
            assert_null(failed); /* one event per failed evaluation */
            failed = &h->events[i];
        }
    assert_non_null(failed);
    ev = history_event_to_json(failed, 1);
    d = json_object_get(ev, "evaluationFailedEventDetails");
    assert_string_equal(json_string_value(json_object_get(d, "location")), "Output/r");
    json_decref(ev);
    exec_free(e);
    asl_machine_unref(m);
}

static void map_limits_from_expressions(void **state)
{
    (void)state;
    asl_machine *m = load(
        "{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"M\",\"States\":{"
        "\"M\":{\"Type\":\"Map\",\"ToleratedFailureCount\":\"{% $states.input.t %}\","
        "\"ItemProcessor\":{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\",\"End\":true}}},"
        "\"End\":true}}}");
    exec *e = start(m, "[1]", 1);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    exec_free(e);
    asl_machine_unref(m);

    m = load("{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"M\",\"States\":{"
             "\"M\":{\"Type\":\"Map\",\"Items\":\"{% $states.input.xs %}\","
             "\"ToleratedFailureCount\":\"{% -1 %}\","
             "\"ItemProcessor\":{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\","
             "\"End\":true}}},\"End\":true}}}");
    e = start(m, "{\"xs\":[1]}", 1);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.QueryEvaluationError");
    exec_free(e);
    asl_machine_unref(m);
}

static void sfn_functions(void **state)
{
    (void)state;
    asl_machine *m = load("{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"P\",\"States\":{"
                          "\"P\":{\"Type\":\"Pass\",\"Output\":{\"u\":\"{% $uuid() %}\","
                          "\"h\":\"{% $hash('abc', 'MD5') %}\",\"r\":\"{% $random() %}\"},"
                          "\"End\":true}}}");
    exec *a = start(m, "{}", 7);
    exec *b = start(m, "{}", 7);
    char *sa = output_text(a), *sb = output_text(b);
    assert_string_equal(sa, sb); /* the same seed, the same values */
    json_t *o = exec_output(a);
    const char *u = json_string_value(json_object_get(o, "u"));
    assert_non_null(u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');
    assert_string_equal(json_string_value(json_object_get(o, "h")),
                        "900150983cd24fb0d6963f7d28e17f72");
    double r = json_number_value(json_object_get(o, "r"));
    assert_true(r >= 0 && r < 1);
    free(sa);
    free(sb);
    exec_free(a);
    exec_free(b);
    asl_machine_unref(m);

    m = load("{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"P\",\"States\":{"
             "\"P\":{\"Type\":\"Pass\",\"Output\":\"{% $eval('1') %}\",\"End\":true}}}");
    a = start(m, "{}", 1);
    assert_int_equal(exec_get_status(a), EXEC_FAILED);
    assert_string_equal(exec_error(a), "States.QueryEvaluationError");
    assert_non_null(strstr(exec_cause(a), "threw an error during evaluation. T1006"));
    exec_free(a);
    asl_machine_unref(m);
}

/* Each evaluation is given only what its expressions read of $states and the variables:
 * whole uses of $states, the context, variables of an enclosing scope, and values that a
 * conversion changes (1.0 is 1) must come out as when everything is bound. */
static void states_and_variables_bound_as_read(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"P1\",\"States\":{"
             "\"P1\":{\"Type\":\"Pass\",\"Assign\":{\"a\":1,\"b\":{\"c\":2}},"
             "\"Output\":\"{% $states.input %}\",\"Next\":\"M\"},"
             "\"M\":{\"Type\":\"Map\",\"Items\":\"{% [1, 2] %}\",\"ItemProcessor\":{"
             "\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\","
             "\"Output\":\"{% $a + $states.input %}\",\"End\":true}}},"
             "\"Output\":\"{% $merge([$states.input, {'m': $states.result}]) %}\",\"Next\":\"P2\"},"
             "\"P2\":{\"Type\":\"Pass\",\"Output\":{\"keys\":\"{% $keys($states) %}\","
             "\"ctx\":\"{% $states.context.State.Name %}\","
             "\"lk\":\"{% $lookup($states, 'input').x %}\",\"bc\":\"{% $b.c %}\","
             "\"one\":\"{% $states.input.one %}\",\"m\":\"{% $states.input.m %}\"},"
             "\"End\":true}}}");
    exec *e = start(m, "{\"x\":5,\"one\":1.0}", 1);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *s = output_text(e);
    assert_string_equal(s, "{\"bc\":2,\"ctx\":\"P2\",\"keys\":[\"input\",\"context\"],\"lk\":5,"
                           "\"m\":[2,3],\"one\":1}");
    free(s);
    exec_free(e);
    asl_machine_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(task_arguments_result_output_assign),
        cmocka_unit_test(query_error_is_caught_with_error_output),
        cmocka_unit_test(evaluation_failed_event),
        cmocka_unit_test(map_limits_from_expressions),
        cmocka_unit_test(sfn_functions),
        cmocka_unit_test(states_and_variables_bound_as_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
