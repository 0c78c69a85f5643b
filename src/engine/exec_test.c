/*
 * exec_test.c — the engine driven directly through exec.h: tasks left pending and
 * answered later, a fresh token per attempt, task, heartbeat and execution timeouts on the
 * driver's clock, StopExecution, effects, the step budget and history quota, limits, and
 * the history each leaves. Tests named after a defect failed before its fix.
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "base/err.h"
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

/* Task ids from TASK_START effects not yet popped by the test. */
static uint64_t started_ids[64];
static size_t n_started;
static exec_effect last_effects[256];
static size_t n_last_effects;

/* Runs e until it waits, collecting its effects. */
static void advance(exec *e, int64_t now)
{
    while (exec_advance(e, now, 0))
        ;
    exec_effects fx;
    exec_take_effects(e, &fx);
    n_last_effects = 0;
    for (size_t i = 0; i < fx.n_items; i++) {
        if (n_last_effects < 256)
            last_effects[n_last_effects++] = fx.items[i];
        if (fx.items[i].kind == EXEC_EFFECT_TASK_START && n_started < 64)
            started_ids[n_started++] = fx.items[i].id;
    }
}

/* The next task started and still open, in start order; NULL when none. */
static const exec_task *pop_task(exec *e)
{
    advance(e, 0);
    while (n_started > 0) {
        uint64_t id = started_ids[0];
        memmove(started_ids, started_ids + 1, --n_started * sizeof(started_ids[0]));
        const exec_task *t = exec_get_task(e, id);
        if (t)
            return t;
    }
    return NULL;
}

static bool __attribute__((unused)) has_effect(exec_effect_kind kind, uint64_t id)
{
    for (size_t i = 0; i < n_last_effects; i++)
        if (last_effects[i].kind == kind && last_effects[i].id == id)
            return true;
    return false;
}

static exec *start_cfg(asl_machine *m, const char *input, uint32_t max_events)
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
                       .seed = 42,
                       .max_events = max_events};
    n_started = 0;
    exec *e = exec_new(m, in, &cfg);
    json_decref(in);
    advance(e, T0);
    return e;
}

static exec *start(asl_machine *m, const char *input)
{
    return start_cfg(m, input, 0);
}

static void assert_history(const exec *e, const char *const *types, size_t n)
{
    const history *h = exec_history(e);
    for (size_t i = 0; i < n && i < h->len; i++)
        assert_string_equal(hist_type_name(h->events[i].type), types[i]);
    assert_int_equal(h->len, n);
}

static const char *CALLBACK =
    "{\"StartAt\":\"Send\",\"States\":{\"Send\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\","
    "\"Parameters\":{\"MessageBody\":{\"TaskToken.$\":\"$$.Task.Token\",\"id.$\":\"$.id\"}},"
    "\"ResultPath\":\"$.cb\",\"TimeoutSeconds\":60,"
    "\"Retry\":[{\"ErrorEquals\":[\"States.Timeout\"],\"MaxAttempts\":1,\"IntervalSeconds\":5}],"
    "\"Next\":\"After\"},"
    "\"After\":{\"Type\":\"Pass\",\"Parameters\":{\"id.$\":\"$.id\",\"ok.$\":\"$.cb.ok\"},"
    "\"End\":true}}}";

static void test_callback_pending_then_success(void **state)
{
    (void)state;
    asl_machine *m = load(CALLBACK);
    exec *e = start(m, "{\"id\":7}");
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    const exec_task *t = pop_task(e);
    assert_non_null(t);
    assert_null(pop_task(e));
    assert_string_equal(t->state_name, "Send");
    assert_non_null(t->token);
    assert_true(strlen(t->token) >= 32);
    json_t *body = json_object_get(t->parameters, "MessageBody");
    assert_string_equal(json_string_value(json_object_get(body, "TaskToken")), t->token);
    assert_int_equal(json_integer_value(json_object_get(body, "id")), 7);
    assert_int_equal(t->timeout_s, 60);
    /* the task timeout is the only timer */
    assert_int_equal(exec_next_timer(e), T0 + 60000);

    uint64_t id = t->id;
    json_t *out = json_pack("{s:b}", "ok", 1);
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 1000), 0);
    /* a second answer for the same task is refused */
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 1000), BT_ENOTFOUND);
    json_decref(out);
    advance(e, T0 + 1000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *s = json_dumps(exec_output(e), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"id\":7,\"ok\":true}");
    free(s);
    static const char *const types[] = {
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled",
        "TaskStarted",      "TaskSucceeded",    "TaskStateExited",
        "PassStateEntered", "PassStateExited",  "ExecutionSucceeded"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    assert_int_equal(exec_stop_ms(e), T0 + 1000);
    exec_free(e);
    asl_machine_unref(m);
}

static void test_task_timeout_retries_with_new_token(void **state)
{
    (void)state;
    asl_machine *m = load(CALLBACK);
    exec *e = start(m, "{\"id\":1}");
    const exec_task *t = pop_task(e);
    char first[64];
    strcpy(first, t->token);
    uint64_t first_id = t->id;
    /* nothing happens before the deadline */
    advance(e, T0 + 59999);
    assert_null(pop_task(e));
    /* at the deadline the task times out; the retrier waits 5 s */
    advance(e, T0 + 60000);
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    assert_int_equal(exec_next_timer(e), T0 + 65000);
    advance(e, T0 + 65000);
    t = pop_task(e);
    assert_non_null(t);
    assert_int_equal(t->retry_count, 1);
    assert_string_not_equal(t->token, first);
    /* the first attempt's task is dead */
    json_t *out = json_object();
    assert_int_equal(exec_task_succeed(e, first_id, out, T0 + 65001), BT_ENOTFOUND);
    /* the second attempt times out too: retries exhausted, the execution fails */
    advance(e, T0 + 125000);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.Timeout");
    json_decref(out);
    static const char *const types[] = {"ExecutionStarted", "TaskStateEntered", "TaskScheduled",
                                        "TaskStarted",      "TaskTimedOut",     "TaskScheduled",
                                        "TaskStarted",      "TaskTimedOut",     "ExecutionFailed"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    exec_free(e);
    asl_machine_unref(m);
}

static void test_task_failure_caught(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
             "\"arn:aws:lambda:us-east-1:123456789012:function:f\",\"Catch\":[{\"ErrorEquals\":"
             "[\"States.TaskFailed\"],\"ResultPath\":\"$.err\",\"Next\":\"F\"}],\"End\":true},"
             "\"F\":{\"Type\":\"Pass\",\"End\":true}}}");
    exec *e = start(m, "{\"a\":1}");
    const exec_task *t = pop_task(e);
    assert_null(t->token);
    assert_int_equal(exec_task_fail(e, t->id, "Boom", "it broke", T0 + 10), 0);
    advance(e, T0 + 10);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *s = json_dumps(exec_output(e), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"a\":1,\"err\":{\"Cause\":\"it broke\",\"Error\":\"Boom\"}}");
    free(s);
    static const char *const types[] = {
        "ExecutionStarted",      "TaskStateEntered",     "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionFailed", "TaskStateExited",
        "PassStateEntered",      "PassStateExited",      "ExecutionSucceeded"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    exec_free(e);
    asl_machine_unref(m);
}

static void test_execution_timeout(void **state)
{
    (void)state;
    asl_machine *m = load("{\"TimeoutSeconds\":10,\"StartAt\":\"W\",\"States\":{\"W\":{"
                          "\"Type\":\"Wait\",\"Seconds\":60,\"End\":true}}}");
    exec *e = start(m, "{}");
    assert_int_equal(exec_next_timer(e), T0 + 10000);
    advance(e, T0 + 10000);
    assert_int_equal(exec_get_status(e), EXEC_TIMED_OUT);
    assert_null(exec_error(e));
    assert_int_equal(exec_stop_ms(e), T0 + 10000);
    static const char *const types[] = {"ExecutionStarted", "WaitStateEntered",
                                        "ExecutionTimedOut"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    exec_free(e);
    asl_machine_unref(m);
}

static void test_stop_execution(void **state)
{
    (void)state;
    asl_machine *m = load(CALLBACK);
    exec *e = start(m, "{\"id\":1}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    exec_stop(e, "Operator", "stopped by hand", T0 + 5);
    assert_int_equal(exec_get_status(e), EXEC_ABORTED);
    assert_string_equal(exec_error(e), "Operator");
    json_t *out = json_object();
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 6), BT_ENOTFOUND);
    json_decref(out);
    assert_int_equal(exec_next_timer(e), INT64_MAX);
    exec_free(e);
    asl_machine_unref(m);
}

static void test_parallel_tasks_complete_out_of_order(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\",\"End\":true,"
             "\"Branches\":[{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Task\",\"Resource\":"
             "\"arn:aws:states:::lambda:invoke\",\"End\":true}}},{\"StartAt\":\"B\",\"States\":"
             "{\"B\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\","
             "\"End\":true}}}]}}}");
    exec *e = start(m, "{}");
    const exec_task *a = pop_task(e);
    uint64_t ida = a->id;
    const exec_task *b = pop_task(e);
    uint64_t idb = b->id;
    assert_string_equal(b->state_name, "B");
    json_t *rb = json_string("b"), *ra = json_string("a");
    exec_task_succeed(e, idb, rb, T0 + 1);
    advance(e, T0 + 1);
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    exec_task_succeed(e, ida, ra, T0 + 2);
    advance(e, T0 + 2);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *s = json_dumps(exec_output(e), JSON_COMPACT);
    assert_string_equal(s, "[\"a\",\"b\"]");
    free(s);
    json_decref(ra);
    json_decref(rb);
    exec_free(e);
    asl_machine_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callback_pending_then_success),
        cmocka_unit_test(test_task_timeout_retries_with_new_token),
        cmocka_unit_test(test_task_failure_caught),
        cmocka_unit_test(test_execution_timeout),
        cmocka_unit_test(test_stop_execution),
        cmocka_unit_test(test_parallel_tasks_complete_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
