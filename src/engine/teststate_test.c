/*
 * teststate_test.c — probes (exec_probe): one state run on its own and stopped at its exit,
 * as the server's TestState runs it. Each test checks what the probe reports — status, next
 * state, the payload after each step, Retry and Catch details — and that the run went no
 * further than the state.
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "base/json.h"
#include "engine/exec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void assert_json(json_t *v, const char *expected)
{
    json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(want);
    if (!json_equal(v, want)) {
        char *got = v ? bt_json_dumps(v) : NULL;
        print_error("got %s, want %s\n", got ? got : "NULL", expected);
        free(got);
        fail();
    }
    json_decref(want);
}

/* Starts a probe of state `name` (top level) of m with input text; advances it until it waits. */
static exec *probe_start(asl_machine *m, const char *name, const char *input, exec_probe *p)
{
    const asl_state *st = asl_graph_find(m->top, name);
    assert_non_null(st);
    p->graph = m->top;
    p->state = st->index;
    json_t *in = json_loads(input, 0, NULL);
    exec_config cfg = {.name = "probe", .start_ms = T0, .probe = p};
    exec *e = exec_new(m, in, &cfg);
    json_decref(in);
    while (exec_advance(e, T0, 0))
        ;
    return e;
}

static void test_pass_stops_at_exit(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"A\",\"States\":{"
                          "\"A\":{\"Type\":\"Pass\",\"InputPath\":\"$.in\","
                          "\"Parameters\":{\"v.$\":\"$.x\"},\"ResultPath\":\"$.out\","
                          "\"Next\":\"B\"},"
                          "\"B\":{\"Type\":\"Fail\",\"Error\":\"NotReached\"}}}");
    exec_probe p = {0};
    exec *e = probe_start(m, "A", "{\"in\":{\"x\":1}}", &p);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    assert_int_equal(p.status, EXEC_PROBE_SUCCEEDED);
    assert_string_equal(p.next_state, "B");
    assert_json(p.input, "{\"in\":{\"x\":1}}");
    assert_json(p.after_input_path, "{\"x\":1}");
    assert_json(p.after_parameters, "{\"v\":1}");
    assert_json(p.after_result_selector, "{\"v\":1}");
    assert_json(p.after_result_path, "{\"in\":{\"x\":1},\"out\":{\"v\":1}}");
    assert_json(exec_output(e), "{\"in\":{\"x\":1},\"out\":{\"v\":1}}");
    assert_int_equal(exec_n_transitions(e), 1); /* B was never entered */
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

static void test_choice_names_next_state(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"C\",\"States\":{"
                          "\"C\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.n\","
                          "\"NumericGreaterThan\":10,\"Next\":\"Big\"}],\"Default\":\"Small\"},"
                          "\"Big\":{\"Type\":\"Succeed\"},\"Small\":{\"Type\":\"Succeed\"}}}");
    exec_probe p = {0};
    exec *e = probe_start(m, "C", "{\"n\":11}", &p);
    assert_int_equal(p.status, EXEC_PROBE_SUCCEEDED);
    assert_string_equal(p.next_state, "Big");
    exec_free(e);
    exec_probe_fini(&p);
    memset(&p, 0, sizeof p);
    e = probe_start(m, "C", "{\"n\":1}", &p);
    assert_string_equal(p.next_state, "Small");
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

static void test_fail_and_end(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"F\",\"States\":{"
                          "\"F\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.go\","
                          "\"IsPresent\":true,\"Next\":\"S\"}],\"Default\":\"X\"},"
                          "\"X\":{\"Type\":\"Fail\",\"Error\":\"E\",\"Cause\":\"why\"},"
                          "\"S\":{\"Type\":\"Pass\",\"End\":true}}}");
    exec_probe p = {0};
    exec *e = probe_start(m, "X", "{}", &p); /* not the StartAt state */
    assert_int_equal(p.status, EXEC_PROBE_FAILED);
    assert_string_equal(exec_error(e), "E");
    assert_string_equal(exec_cause(e), "why");
    exec_free(e);
    exec_probe_fini(&p);
    memset(&p, 0, sizeof p);
    e = probe_start(m, "S", "{\"k\":2}", &p);
    assert_int_equal(p.status, EXEC_PROBE_SUCCEEDED);
    assert_null(p.next_state);
    assert_json(exec_output(e), "{\"k\":2}");
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

static const char TASK_MACHINE[] =
    "{\"StartAt\":\"T\",\"States\":{"
    "\"T\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage\","
    "\"Parameters\":{\"QueueUrl\":\"q\",\"MessageBody.$\":\"$.m\"},"
    "\"ResultSelector\":{\"id.$\":\"$.MessageId\"},\"ResultPath\":\"$.sent\","
    "\"Retry\":[{\"ErrorEquals\":[\"Busy\"],\"IntervalSeconds\":2,\"BackoffRate\":3,"
    "\"MaxAttempts\":2}],"
    "\"Catch\":[{\"ErrorEquals\":[\"Other\"],\"Next\":\"Ok\"},"
    "{\"ErrorEquals\":[\"States.ALL\"],\"ResultPath\":\"$.err\",\"Next\":\"Handle\"}],"
    "\"Next\":\"Ok\"},"
    "\"Ok\":{\"Type\":\"Succeed\"},\"Handle\":{\"Type\":\"Succeed\"}}}";

/* The one task the probe started. */
static uint64_t started_task(exec *e)
{
    exec_effects fx;
    exec_take_effects(e, &fx);
    for (size_t i = 0; i < fx.n_items; i++)
        if (fx.items[i].kind == EXEC_EFFECT_TASK_START)
            return fx.items[i].id;
    fail_msg("no task started");
    return 0;
}

static void test_task_result_steps(void **state)
{
    (void)state;
    asl_machine *m = load(TASK_MACHINE);
    exec_probe p = {0};
    exec *e = probe_start(m, "T", "{\"m\":\"hi\"}", &p);
    uint64_t id = started_task(e);
    json_t *res = json_pack("{s:s}", "MessageId", "m-1");
    assert_int_equal(exec_task_succeed(e, id, res, T0), 0);
    json_decref(res);
    while (exec_advance(e, T0, 0))
        ;
    assert_int_equal(p.status, EXEC_PROBE_SUCCEEDED);
    assert_string_equal(p.next_state, "Ok");
    assert_json(p.after_parameters, "{\"QueueUrl\":\"q\",\"MessageBody\":\"hi\"}");
    assert_json(p.result, "{\"MessageId\":\"m-1\"}");
    assert_json(p.after_result_selector, "{\"id\":\"m-1\"}");
    assert_json(p.after_result_path, "{\"m\":\"hi\",\"sent\":{\"id\":\"m-1\"}}");
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

static void test_retry_is_reported_not_waited(void **state)
{
    (void)state;
    asl_machine *m = load(TASK_MACHINE);
    exec_probe p = {.retrier_retry_count = 1};
    exec *e = probe_start(m, "T", "{\"m\":0}", &p);
    assert_int_equal(exec_task_fail(e, started_task(e), "Busy", "try later", T0), 0);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(p.status, EXEC_PROBE_RETRIABLE);
    assert_int_equal(p.retry_index, 0);
    assert_int_equal(p.retry_backoff_ms, 6000); /* the second retry: 2 s × 3 */
    assert_string_equal(p.error, "Busy");
    assert_string_equal(p.cause, "try later");
    assert_int_equal(exec_next_timer(e), INT64_MAX);
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

static void test_exhausted_retry_falls_to_catch(void **state)
{
    (void)state;
    asl_machine *m = load(TASK_MACHINE);
    exec_probe p = {.retrier_retry_count = 2};
    exec *e = probe_start(m, "T", "{\"m\":1}", &p);
    assert_int_equal(exec_task_fail(e, started_task(e), "Busy", "still", T0), 0);
    while (exec_advance(e, T0, 0))
        ;
    assert_int_equal(p.status, EXEC_PROBE_CAUGHT_ERROR);
    assert_int_equal(p.catch_index, 1);
    assert_int_equal(p.retry_index, -1);
    assert_string_equal(p.next_state, "Handle");
    assert_string_equal(p.error, "Busy");
    assert_json(exec_output(e), "{\"m\":1,\"err\":{\"Error\":\"Busy\",\"Cause\":\"still\"}}");
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

static void test_variables_in_scope_and_assigned(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
                          "\"Parameters\":{\"seen.$\":\"$x\"},\"Assign\":{\"y\":2},"
                          "\"End\":true}}}");
    json_t *vars = json_pack("{s:i}", "x", 1);
    exec_probe p = {.variables = vars};
    exec *e = probe_start(m, "A", "{}", &p);
    assert_int_equal(p.status, EXEC_PROBE_SUCCEEDED);
    assert_json(exec_output(e), "{\"seen\":1}");
    assert_json(p.variables_after, "{\"x\":1,\"y\":2}");
    assert_json(vars, "{\"x\":1}"); /* the caller's object is left alone */
    exec_free(e);
    exec_probe_fini(&p);
    json_decref(vars);
    asl_machine_unref(m);
}

static const char PARALLEL_MACHINE[] =
    "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\",\"Branches\":["
    "{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Fail\",\"Error\":\"Branch\"}}}],"
    "\"ResultPath\":\"$.r\",\"Catch\":[{\"ErrorEquals\":[\"Mocked\"],\"Next\":\"H\"}],"
    "\"End\":true},\"H\":{\"Type\":\"Succeed\"}}}";

static void test_parallel_takes_mocked_outcome(void **state)
{
    (void)state;
    asl_machine *m = load(PARALLEL_MACHINE);
    json_t *res = json_pack("[i]", 7);
    exec_probe p = {.has_mock = true, .mock_result = res};
    exec *e = probe_start(m, "P", "{}", &p);
    assert_int_equal(p.status, EXEC_PROBE_SUCCEEDED); /* the failing branch never ran */
    assert_json(exec_output(e), "{\"r\":[7]}");
    exec_free(e);
    exec_probe_fini(&p);
    json_decref(res);

    exec_probe q = {.has_mock = true, .mock_error = "Mocked", .mock_cause = "c"};
    e = probe_start(m, "P", "{}", &q);
    assert_int_equal(q.status, EXEC_PROBE_CAUGHT_ERROR);
    assert_string_equal(q.next_state, "H");
    exec_free(e);
    exec_probe_fini(&q);
    asl_machine_unref(m);
}

static void test_timeout_bounds_a_wait(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":600,"
                          "\"End\":true}}}");
    exec_probe p = {.timeout_s = 300};
    exec *e = probe_start(m, "W", "{}", &p);
    assert_int_equal(exec_next_timer(e), T0 + 300000);
    exec_advance(e, T0 + 300000, 0);
    assert_int_equal(exec_get_status(e), EXEC_TIMED_OUT);
    assert_int_equal(p.status, EXEC_PROBE_FAILED);
    exec_free(e);
    exec_probe_fini(&p);
    asl_machine_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_stops_at_exit),
        cmocka_unit_test(test_choice_names_next_state),
        cmocka_unit_test(test_fail_and_end),
        cmocka_unit_test(test_task_result_steps),
        cmocka_unit_test(test_retry_is_reported_not_waited),
        cmocka_unit_test(test_exhausted_retry_falls_to_catch),
        cmocka_unit_test(test_variables_in_scope_and_assigned),
        cmocka_unit_test(test_parallel_takes_mocked_outcome),
        cmocka_unit_test(test_timeout_bounds_a_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
