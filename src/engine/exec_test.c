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
static const exec_task *try_pop_task(exec *e)
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

/* The next task, which must exist. */
static const exec_task *pop_task(exec *e)
{
    const exec_task *t = try_pop_task(e);
    if (t == NULL) {
        fail_msg("no open task");
        abort();
    }
    return t;
}

static bool has_effect(exec_effect_kind kind, uint64_t id)
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
    assert_null(try_pop_task(e));
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
    assert_null(try_pop_task(e));
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

/* ---- regressions: each failed before its fix ---------------------------------------- */

static json_t *output_of(exec *e)
{
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    return exec_output(e);
}

/* Defect 1: the timer of a task answered at once stayed in the heap and was read after
 * its run was freed (heap-use-after-free under ASan). Timers are now removed eagerly. */
static void test_timer_cancelled_when_task_answered(void **state)
{
    (void)state;
    asl_machine *m = load(
        "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\",\"End\":true,\"Branches\":["
        "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":10,\"End\":true}}},"
        "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
        "\"arn:aws:states:::lambda:invoke\",\"TimeoutSeconds\":60,\"End\":true}}}]}}}");
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    assert_non_null(t);
    uint64_t id = t->id;
    /* two timers: the Wait (T0+10 s) and the task's timeout (T0+60 s) */
    assert_int_equal(exec_next_timer(e), T0 + 10000);
    json_t *out = json_string("done");
    assert_int_equal(exec_task_succeed(e, id, out, T0), 0);
    json_decref(out);
    advance(e, T0);
    /* the timeout was disarmed with the task: the only timer left is the Wait */
    bool cancelled = false;
    for (size_t i = 0; i < n_last_effects; i++)
        cancelled |= last_effects[i].kind == EXEC_EFFECT_TIMER_CANCEL;
    assert_true(cancelled);
    assert_int_equal(exec_next_timer(e), T0 + 10000);
    advance(e, T0 + 10000);
    json_t *o = output_of(e);
    assert_string_equal(json_string_value(json_array_get(o, 1)), "done");
    assert_int_equal(exec_next_timer(e), INT64_MAX);
    exec_free(e);
    asl_machine_unref(m);
}

/* Defect 2: a task's pointer moved when another task ended or started, so completing the
 * third of three open tasks through its pointer completed the wrong one. */
static void test_task_identity_survives_other_tasks(void **state)
{
    (void)state;
    asl_machine *m = load(
        "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\",\"End\":true,\"Branches\":["
        "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Task\",\"Resource\":"
        "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"End\":true}}},"
        "{\"StartAt\":\"B\",\"States\":{\"B\":{\"Type\":\"Task\",\"Resource\":"
        "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"Next\":\"B2\"},"
        "\"B2\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage."
        "waitForTaskToken\",\"End\":true}}},"
        "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Task\",\"Resource\":"
        "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"End\":true}}}]}}}");
    exec *e = start(m, "{}");
    const exec_task *a = pop_task(e), *b = pop_task(e), *c = pop_task(e);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(exec_n_open_tasks(e), 3);
    char c_token[64];
    strcpy(c_token, c->token);
    /* A ends, then B ends and B2 starts: C's pointer and id stay valid */
    json_t *va = json_string("a"), *vb = json_string("b"), *vc = json_string("c");
    assert_int_equal(exec_task_succeed(e, a->id, va, T0 + 1), 0);
    advance(e, T0 + 1);
    assert_int_equal(exec_task_succeed(e, b->id, vb, T0 + 2), 0);
    advance(e, T0 + 2);
    const exec_task *b2 = pop_task(e);
    assert_string_equal(b2->state_name, "B2");
    assert_string_equal(c->state_name, "C");
    assert_string_equal(c->token, c_token);
    assert_ptr_equal(exec_find_task_by_token(e, c_token), c);
    assert_ptr_equal(exec_get_task(e, c->id), c);
    assert_int_equal(exec_task_succeed(e, c->id, vc, T0 + 3), 0);
    advance(e, T0 + 3);
    assert_null(exec_find_task_by_token(e, c_token));
    assert_int_equal(exec_task_succeed(e, b2->id, vb, T0 + 4), 0);
    advance(e, T0 + 4);
    char *s = json_dumps(output_of(e), JSON_COMPACT);
    assert_string_equal(s, "[\"a\",\"b\",\"c\"]");
    free(s);
    json_decref(va);
    json_decref(vb);
    json_decref(vc);
    exec_free(e);
    asl_machine_unref(m);
}

/* Defect 3: SecondsPath / TimeoutSecondsPath of INT64_MAX overflowed `* 1000` (UB). */
static void test_seconds_path_beyond_bound_fails(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
                          "\"SecondsPath\":\"$.s\",\"End\":true}}}");
    exec *e = start(m, "{\"s\":9223372036854775807}");
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.Runtime");
    assert_non_null(strstr(exec_cause(e), "greater than the maximum of 99999999 seconds: "
                                          "$.s == 9223372036854775807"));
    exec_free(e);
    /* the bound itself is accepted and saturates nothing */
    e = start(m, "{\"s\":99999999}");
    assert_int_equal(exec_next_timer(e), T0 + 99999999000LL);
    exec_free(e);
    asl_machine_unref(m);

    m = load("{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
             "\"arn:aws:states:::lambda:invoke\",\"TimeoutSecondsPath\":\"$.t\","
             "\"HeartbeatSecondsPath\":\"$.h\",\"End\":true}}}");
    e = start(m, "{\"t\":9223372036854775807,\"h\":1}");
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_non_null(strstr(exec_cause(e), "The TimeoutSecondsPath field refers to value "
                                          "\"9223372036854775807\" which is out of range"));
    exec_free(e);
    e = start(m, "{\"t\":10,\"h\":-5}");
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_non_null(strstr(exec_cause(e), "HeartbeatSecondsPath field refers to value \"-5\""));
    exec_free(e);
    e = start(m, "{\"t\":1e300,\"h\":1}");
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_non_null(strstr(exec_cause(e), "is not a valid integer"));
    exec_free(e);
    asl_machine_unref(m);
}

/* Defect 3: the retry back-off grew without bound (llround of +inf). */
static void test_retry_delay_saturates(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
             "\"arn:aws:states:::lambda:invoke\",\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"],"
             "\"IntervalSeconds\":99999999,\"BackoffRate\":99999999,\"MaxAttempts\":99999999}],"
             "\"End\":true}}}");
    exec *e = start(m, "{}");
    int64_t now = T0;
    for (int attempt = 0; attempt < 40; attempt++) {
        const exec_task *t = pop_task(e);
        assert_non_null(t);
        assert_int_equal(t->retry_count, attempt);
        assert_int_equal(exec_task_fail(e, t->id, "E", NULL, now), 0);
        advance(e, now);
        /* every back-off is clamped at AWS's bound */
        assert_int_equal(exec_next_timer(e), now + 99999999000LL);
        now = exec_next_timer(e);
        advance(e, now);
    }
    exec_free(e);
    asl_machine_unref(m);
}

/* Defect 4: a Pass <-> Choice loop never returned from exec_advance and ate memory. The
 * step budget returns control; the history quota ends the execution as AWS does. */
static const char *ENDLESS =
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},"
    "\"B\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.stop\",\"IsPresent\":true,"
    "\"Next\":\"Z\"}],\"Default\":\"A\"},\"Z\":{\"Type\":\"Succeed\"}}}";

static void test_step_budget_and_history_quota(void **state)
{
    (void)state;
    asl_machine *m = load(ENDLESS);
    json_t *in = json_object();
    exec_config cfg = {.name = "loop", .start_ms = T0, .seed = 1};
    exec *e = exec_new(m, in, &cfg);
    json_decref(in);
    /* each call does at most its budget and says more is ready */
    assert_true(exec_advance(e, T0, 100));
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    assert_true(exec_n_events(e) <= 1 + 100);
    size_t calls = 1;
    while (exec_advance(e, T0, 100))
        calls++;
    assert_true(calls > 100);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(exec_n_events(e), EXEC_MAX_HISTORY_EVENTS);
    const history *h = exec_history(e);
    const hist_event *last = &h->events[h->len - 1];
    assert_int_equal(last->type, HIST_ExecutionFailed);
    assert_int_equal(last->id, 25000);
    assert_string_equal(exec_error(e), "States.Runtime");
    assert_string_equal(exec_cause(e),
                        "The execution reached the maximum number of history events (25000).");
    assert_string_equal(last->cause, exec_cause(e));
    for (size_t i = 0; i < h->len; i++)
        assert_int_equal(h->events[i].id, i + 1);
    exec_free(e);
    asl_machine_unref(m);
}

/* The last slot is the execution's end: an ExecutionSucceeded that is event number
 * max_events still succeeds; one event more and the execution fails at that number. */
static void test_history_quota_boundary(void **state)
{
    (void)state;
    /* ExecutionStarted + 4 × (Entered, Exited) + ExecutionSucceeded = 10 events */
    asl_machine *m = load("{\"StartAt\":\"P1\",\"States\":{"
                          "\"P1\":{\"Type\":\"Pass\",\"Next\":\"P2\"},"
                          "\"P2\":{\"Type\":\"Pass\",\"Next\":\"P3\"},"
                          "\"P3\":{\"Type\":\"Pass\",\"Next\":\"P4\"},"
                          "\"P4\":{\"Type\":\"Pass\",\"End\":true}}}");
    exec *e = start_cfg(m, "{}", 10);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    assert_int_equal(exec_n_events(e), 10);
    exec_free(e);
    e = start_cfg(m, "{}", 9);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(exec_n_events(e), 9);
    assert_int_equal(exec_history(e)->events[8].type, HIST_ExecutionFailed);
    assert_null(exec_output(e));
    exec_free(e);
    asl_machine_unref(m);
}

/* Defect 6: past depth 2048 the writer wrote null, and a nesting loop SUCCEEDED with its
 * leaf replaced. Such a value now fails the state loudly. */
static void test_too_deep_output_fails(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"StartAt\":\"Nest\",\"States\":{\"Nest\":{\"Type\":\"Pass\",\"Parameters\":{"
             "\"n.$\":\"States.MathAdd($.n, 1)\",\"x.$\":\"$\"},\"Next\":\"More\"},"
             "\"More\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.n\","
             "\"NumericLessThan\":3000,\"Next\":\"Nest\"}],\"Default\":\"Done\"},"
             "\"Done\":{\"Type\":\"Succeed\"}}}");
    exec *e = start(m, "{\"n\":0,\"leaf\":\"kept\"}");
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.Runtime");
    assert_non_null(strstr(exec_cause(e), "'Nest'"));
    assert_non_null(strstr(exec_cause(e), "nests deeper than 2048 levels"));
    /* every recorded payload can be written back */
    json_t *h = history_to_json(exec_history(e), 1);
    assert_non_null(h);
    json_decref(h);
    exec_free(e);
    asl_machine_unref(m);
}

/* Defect 7: causes were cut at 1 KiB; they are kept whole up to AWS's 32,768 characters. */
static void test_cause_kept_whole_then_capped(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
                          "\"SecondsPath\":\"$.s\",\"End\":true}}}");
    char *big = malloc(3100);
    memset(big, 'x', 3000);
    strcpy(big + 3000, "END");
    json_t *in = json_pack("{s:s}", "s", big);
    char *text = json_dumps(in, JSON_COMPACT);
    exec *e = start(m, text);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    const char *cause = exec_cause(e);
    assert_true(strlen(cause) > 3000);
    assert_non_null(strstr(cause, "xxxEND"));
    assert_string_equal(exec_history(e)->events[exec_n_events(e) - 1].cause, cause);
    exec_free(e);
    free(text);
    json_decref(in);
    free(big);
    asl_machine_unref(m);

    m = load("{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\",\"ErrorPath\":\"$.e\","
             "\"CausePath\":\"$.c\"}}}");
    size_t n = 40000;
    big = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2); /* é: two bytes, one character */
    big[2 * n] = '\0';
    in = json_pack("{s:s,s:s}", "e", "Big", "c", big);
    text = json_dumps(in, JSON_COMPACT);
    e = start(m, text);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(strlen(exec_cause(e)), 2 * 32768);
    assert_int_equal(memcmp(exec_cause(e), big, 2 * 32768), 0);
    exec_free(e);
    free(text);
    json_decref(in);
    free(big);
    asl_machine_unref(m);
}

/* Defect 8: HeartbeatSeconds was recorded but never armed. */
static const char *HEARTBEAT =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"TimeoutSeconds\":100,"
    "\"HeartbeatSeconds\":10,\"Catch\":[{\"ErrorEquals\":[\"States.HeartbeatTimeout\"],"
    "\"Next\":\"Late\"}],\"End\":true},\"Late\":{\"Type\":\"Pass\",\"End\":true}}}";

static void test_heartbeat_expires_and_rearms(void **state)
{
    (void)state;
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    assert_int_equal(t->heartbeat_s, 10);
    assert_int_equal(exec_next_timer(e), T0 + 10000);
    /* a heartbeat at +5 s moves the deadline to +15 s and writes no history */
    uint64_t before = exec_n_events(e);
    assert_int_equal(exec_task_heartbeat(e, id, T0 + 5000), 0);
    advance(e, T0 + 5000);
    assert_int_equal(exec_n_events(e), before);
    assert_int_equal(exec_next_timer(e), T0 + 15000);
    advance(e, T0 + 14999);
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    advance(e, T0 + 15000);
    /* expired: TaskTimedOut with States.HeartbeatTimeout, the integration told to cancel */
    assert_true(has_effect(EXEC_EFFECT_TASK_CANCEL, id));
    assert_int_equal(exec_task_heartbeat(e, id, T0 + 15001), BT_ENOTFOUND);
    json_t *o = output_of(e);
    assert_string_equal(json_string_value(json_object_get(o, "Error")), "States.HeartbeatTimeout");
    static const char *const types[] = {
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled",
        "TaskStarted",      "TaskTimedOut",     "TaskStateExited",
        "PassStateEntered", "PassStateExited",  "ExecutionSucceeded"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    assert_string_equal(exec_history(e)->events[4].error, "States.HeartbeatTimeout");
    exec_free(e);
    asl_machine_unref(m);
}

/* An activity's task handed to a worker: ActivityStarted with workerName, the heartbeat
 * counted from the hand-out, a second hand-out refused. */
static const char *ACTIVITY =
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:us-east-1:123456789012:activity:work\",\"TimeoutSeconds\":100,"
    "\"HeartbeatSeconds\":10,\"End\":true}}}";

static void test_activity_started_by_worker(void **state)
{
    (void)state;
    asl_machine *m = load(ACTIVITY);
    exec *e = start(m, "{\"n\":1}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    assert_non_null(t->token);
    assert_int_equal(exec_next_timer(e), T0 + 10000);
    assert_int_equal(exec_task_started(e, id, "worker-1", T0 + 8000), 0);
    advance(e, T0 + 8000);
    assert_int_equal(exec_next_timer(e), T0 + 18000);
    assert_int_equal(exec_task_started(e, id, "worker-2", T0 + 9000), BT_ESTATE);
    json_t *out = json_pack("{s:i}", "done", 1);
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 9000), 0);
    json_decref(out);
    advance(e, T0 + 9000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    static const char *const types[] = {
        "ExecutionStarted",  "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivitySucceeded", "TaskStateExited",  "ExecutionSucceeded"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    json_t *ev = history_event_to_json(&exec_history(e)->events[3], 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ev, "activityStartedEventDetails"), "workerName")),
                        "worker-1");
    json_decref(ev);
    exec_free(e);
    asl_machine_unref(m);
}

/* exec_task_started is for activities only. */
static void test_started_refused_for_other_tasks(void **state)
{
    (void)state;
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    assert_int_equal(exec_task_started(e, t->id, "w", T0 + 1), BT_ESTATE);
    assert_int_equal(exec_task_started(e, t->id + 100, "w", T0 + 1), BT_ENOTFOUND);
    exec_stop(e, NULL, NULL, T0 + 2);
    advance(e, T0 + 2);
    exec_free(e);
    asl_machine_unref(m);
}

/* A submitted task records TaskSubmitted and stays open until its outcome. */
static void test_submitted_then_succeeded(void **state)
{
    (void)state;
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    json_t *resp = json_pack("{s:s}", "MessageId", "m-1");
    assert_int_equal(exec_task_submitted(e, id, resp, T0 + 1), 0);
    json_decref(resp);
    json_t *out = json_pack("{s:b}", "approved", 1);
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 2), 0);
    json_decref(out);
    advance(e, T0 + 2);
    assert_true(json_is_true(json_object_get(output_of(e), "approved")));
    static const char *const types[] = {"ExecutionStarted", "TaskStateEntered",  "TaskScheduled",
                                        "TaskStarted",      "TaskSubmitted",     "TaskSucceeded",
                                        "TaskStateExited",  "ExecutionSucceeded"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    exec_free(e);
    asl_machine_unref(m);
}

/* Stop and the end of an execution cancel open tasks and timers; nothing stays armed. */
static void test_stop_cancels_open_tasks(void **state)
{
    (void)state;
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    exec_stop(e, NULL, NULL, T0 + 1);
    advance(e, T0 + 1);
    assert_true(has_effect(EXEC_EFFECT_TASK_CANCEL, id));
    assert_int_equal(exec_n_open_tasks(e), 0);
    assert_null(exec_get_task(e, id));
    assert_int_equal(exec_next_timer(e), INT64_MAX);
    exec_free(e);
    asl_machine_unref(m);
}

/* A stop's error and cause are held to AWS's 256 / 32,768 characters like any other. */
static void test_stop_caps_error_and_cause(void **state)
{
    (void)state;
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    char *big = malloc(100001);
    memset(big, 'e', 100000);
    big[100000] = '\0';
    exec_stop(e, big, big, T0 + 1);
    assert_int_equal(strlen(exec_error(e)), 256);
    assert_int_equal(strlen(exec_cause(e)), 32768);
    const hist_event *last = &exec_history(e)->events[exec_n_events(e) - 1];
    assert_int_equal(last->type, HIST_ExecutionAborted);
    assert_int_equal(strlen(last->error), 256);
    assert_int_equal(strlen(last->cause), 32768);
    free(big);
    exec_free(e);
    asl_machine_unref(m);
}

/* An outcome that arrives after its task's deadline passed loses to the deadline: the
 * timeout fires first (at its own time) and the late answer finds no task. */
static void test_late_outcome_loses_to_due_timeout(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
                          "\"arn:aws:states:::lambda:invoke\",\"TimeoutSeconds\":10,"
                          "\"End\":true}}}");
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    json_t *out = json_pack("{s:b}", "late", 1);
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 20000), BT_ENOTFOUND);
    advance(e, T0 + 20000);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.Timeout");
    const history *h = exec_history(e);
    assert_int_equal(h->events[4].type, HIST_TaskTimedOut);
    assert_int_equal(h->events[4].timestamp_ms, T0 + 10000);
    exec_free(e);
    asl_machine_unref(m);

    /* the machine's own TimeoutSeconds, and a stop, likewise */
    m = load("{\"TimeoutSeconds\":5,\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
             "\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}}}");
    e = start(m, "{}");
    t = pop_task(e);
    id = t->id;
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 20000), BT_ENOTFOUND);
    assert_int_equal(exec_get_status(e), EXEC_TIMED_OUT);
    assert_int_equal(exec_stop_ms(e), T0 + 5000);
    exec_free(e);
    e = start(m, "{}");
    exec_stop(e, "Late", NULL, T0 + 9000);
    assert_int_equal(exec_get_status(e), EXEC_TIMED_OUT);
    exec_free(e);
    json_decref(out);
    asl_machine_unref(m);
}

/* Clocks at the ends of int64: no overflow, a deadline is never mistaken for "no timer",
 * and times are rendered within years 0..9999. */
static void test_extreme_clocks(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
                          "\"Seconds\":99999999,\"End\":true}}}");
    json_t *in = json_object();
    exec_config cfg = {.name = "x", .start_ms = INT64_MAX - 1000, .seed = 1};
    exec *e = exec_new(m, in, &cfg);
    assert_false(exec_advance(e, INT64_MAX - 1000, 0));
    assert_int_equal(exec_next_timer(e), INT64_MAX - 1); /* saturated, still a timer */
    advance(e, INT64_MAX - 1);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    exec_free(e);
    cfg.start_ms = INT64_MIN;
    e = exec_new(m, in, &cfg);
    exec_advance(e, INT64_MIN, 0);
    json_t *h = history_to_json(exec_history(e), 1);
    assert_non_null(h);
    json_decref(h);
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    exec_free(e);
    json_decref(in);
    asl_machine_unref(m);
}

/* A driver's value too deep to store (built in code: jansson parses none) is refused on
 * the way in: the events stay renderable, the state fails. */
static void test_too_deep_outcomes_refused(void **state)
{
    (void)state;
    json_t *deep = json_array();
    for (int i = 0; i < 2100; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    assert_int_equal(exec_task_submitted(e, id, deep, T0 + 1), 0);
    assert_int_equal(exec_task_succeed(e, id, deep, T0 + 2), 0);
    advance(e, T0 + 2);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.Runtime");
    assert_non_null(strstr(exec_cause(e), "nests deeper than 2048 levels"));
    json_t *h = history_to_json(exec_history(e), 1);
    assert_non_null(h);
    json_decref(h);
    exec_free(e);
    json_decref(deep);
    asl_machine_unref(m);
}

/* Many open callbacks (past the scan limit, so through the token index): each is found by
 * its token while others start and end, closed ones are not. */
static void test_many_tokens(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"End\":true,"
                          "\"ItemProcessor\":{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":"
                          "\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage."
                          "waitForTaskToken\",\"End\":true}}}}}}");
    char input[200] = "[0";
    for (int i = 1; i < 30; i++)
        snprintf(input + strlen(input), sizeof(input) - strlen(input), ",%d", i);
    strcat(input, "]");
    exec *e = start(m, input);
    char tokens[30][64];
    uint64_t ids[30];
    for (int i = 0; i < 30; i++) {
        const exec_task *t = pop_task(e);
        strcpy(tokens[i], t->token);
        ids[i] = t->id;
    }
    assert_int_equal(exec_n_open_tasks(e), 30);
    for (int k = 0; k < 30; k++) {
        int i = (k * 7) % 30; /* out of order */
        const exec_task *t = exec_find_task_by_token(e, tokens[i]);
        assert_non_null(t);
        assert_int_equal(t->id, ids[i]);
        json_t *out = json_integer(i);
        assert_int_equal(exec_task_succeed(e, t->id, out, T0 + k), 0);
        json_decref(out);
        assert_null(exec_find_task_by_token(e, tokens[i]));
        advance(e, T0 + k);
    }
    json_t *o = output_of(e);
    for (int i = 0; i < 30; i++)
        assert_int_equal(json_integer_value(json_array_get(o, (size_t)i)), i);
    assert_null(exec_find_task_by_token(e, "not-a-token"));
    exec_free(e);
    asl_machine_unref(m);
}

/* A Map whose ItemSelector fails for a later item ends the running iterations with it:
 * their tasks are cancelled, none is left open once the execution has failed. */
static void test_item_selector_failure_closes_running_iterations(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"End\":true,"
             "\"MaxConcurrency\":2,\"ItemSelector\":{\"v.$\":\"$$.Map.Item.Value.x\"},"
             "\"ItemProcessor\":{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
             "\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}}}}}}");
    exec *e = start(m, "[{\"x\":1},{\"x\":2},{}]");
    const exec_task *t1 = pop_task(e);
    const exec_task *t2 = pop_task(e);
    uint64_t id2 = t2->id;
    json_t *out = json_integer(1);
    assert_int_equal(exec_task_succeed(e, t1->id, out, T0 + 1), 0);
    json_decref(out);
    advance(e, T0 + 1); /* item 3 starts, its ItemSelector fails */
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.Runtime");
    assert_int_equal(exec_n_open_tasks(e), 0);
    assert_null(exec_get_task(e, id2));
    assert_true(has_effect(EXEC_EFFECT_TASK_CANCEL, id2));
    exec_free(e);
    asl_machine_unref(m);
}

/* A re-armed heartbeat cancels its previous timer id, so a store that mirrors timers by id
 * holds none after the task ends. */
static void test_rearm_cancels_previous_timer(void **state)
{
    (void)state;
    asl_machine *m = load(HEARTBEAT);
    exec *e = start(m, "{}");
    exec_effects fx;
    uint64_t armed[16];
    size_t n_armed = 0;
    /* the start armed two (timeout, heartbeat); three heartbeats re-arm one */
    for (size_t i = 0; i < n_last_effects; i++)
        if (last_effects[i].kind == EXEC_EFFECT_TIMER_ARM)
            armed[n_armed++] = last_effects[i].id;
    assert_int_equal(n_armed, 2);
    const exec_task *t = pop_task(e);
    uint64_t id = t->id;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(exec_task_heartbeat(e, id, T0 + i * 1000), 0);
        exec_take_effects(e, &fx);
        assert_int_equal(fx.n_items, 2);
        assert_int_equal(fx.items[0].kind, EXEC_EFFECT_TIMER_CANCEL);
        assert_int_equal(fx.items[0].id, armed[n_armed - 1]);
        assert_int_equal(fx.items[1].kind, EXEC_EFFECT_TIMER_ARM);
        assert_int_equal(fx.items[1].when_ms, T0 + i * 1000 + 10000);
        armed[n_armed - 1] = fx.items[1].id;
    }
    json_t *out = json_object();
    assert_int_equal(exec_task_succeed(e, id, out, T0 + 4000), 0);
    json_decref(out);
    exec_take_effects(e, &fx);
    size_t cancelled = 0;
    for (size_t i = 0; i < fx.n_items; i++)
        for (size_t k = 0; k < n_armed; k++)
            cancelled += fx.items[i].kind == EXEC_EFFECT_TIMER_CANCEL && fx.items[i].id == armed[k];
    assert_int_equal(cancelled, n_armed);
    exec_free(e);
    asl_machine_unref(m);
}

/* A driver that calls late replays the time in order: the Wait that ended at +1 s finishes
 * the execution before its 2 s timeout, though both were due when the call came. */
static void test_late_advance_replays_in_order(void **state)
{
    (void)state;
    asl_machine *m = load("{\"TimeoutSeconds\":2,\"StartAt\":\"W\",\"States\":{\"W\":{"
                          "\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"S\"},"
                          "\"S\":{\"Type\":\"Succeed\"}}}");
    exec *e = start(m, "{}");
    advance(e, T0 + 2500);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    assert_int_equal(exec_stop_ms(e), T0 + 1000);
    static const char *const types[] = {"ExecutionStarted",   "WaitStateEntered",
                                        "WaitStateExited",    "SucceedStateEntered",
                                        "SucceedStateExited", "ExecutionSucceeded"};
    assert_history(e, types, sizeof(types) / sizeof(types[0]));
    exec_free(e);
    /* a stop that comes after the end finds it ended */
    e = start(m, "{}");
    exec_stop(e, "Late", NULL, T0 + 1500);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    exec_free(e);
    asl_machine_unref(m);
}

/* The step budget decides when work happens, never what: a replay cut by the budget goes on
 * where it stopped, so the Wait still ends before the machine's timeout. */
static void test_budget_does_not_change_the_outcome(void **state)
{
    (void)state;
    asl_machine *m = load("{\"TimeoutSeconds\":20,\"StartAt\":\"W\",\"States\":{\"W\":{"
                          "\"Type\":\"Wait\",\"Seconds\":10,\"Next\":\"P\"},"
                          "\"P\":{\"Type\":\"Pass\",\"End\":true}}}");
    for (uint32_t budget = 0; budget <= 3; budget++) {
        exec *e = start(m, "{}");
        while (exec_advance(e, T0 + 30000, budget))
            ;
        assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
        assert_int_equal(exec_stop_ms(e), T0 + 10000);
        exec_free(e);
    }
    asl_machine_unref(m);
}

/* A stop or an outcome whose catching up is longer than its budget still loses to the
 * deadlines that passed before it, and is recorded at its own time. */
static void test_long_catch_up_keeps_deadlines(void **state)
{
    (void)state;
    size_t n = 2100, cap = 64 * n + 256;
    char *def = malloc(cap);
    size_t len = (size_t)snprintf(def, cap,
                                  "{\"TimeoutSeconds\":10,\"StartAt\":\"W\",\"States\":{\"W\":{"
                                  "\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"P0\"}");
    for (size_t i = 0; i + 1 < n; i++)
        len += (size_t)snprintf(def + len, cap - len,
                                ",\"P%zu\":{\"Type\":\"Pass\",\"Next\":\"P%zu\"}", i, i + 1);
    len +=
        (size_t)snprintf(def + len, cap - len, ",\"P%zu\":{\"Type\":\"Pass\",\"End\":true}", n - 1);
    snprintf(def + len, cap - len, "}}");
    asl_machine *m = load(def);
    exec *e = start(m, "{}");
    exec_stop(e, "Late", NULL, T0 + 20000);
    assert_int_equal(exec_get_status(e), EXEC_TIMED_OUT);
    assert_int_equal(exec_stop_ms(e), T0 + 10000);
    exec_free(e);
    free(def);
    asl_machine_unref(m);
}

/* All variables of an execution are held to AWS's 10 MiB: 41 variables of 250 KB fit, the
 * 42nd fails the state with States.DataLimitExceeded; replacing a variable costs nothing. */
static void test_variables_held_to_10_mib(void **state)
{
    (void)state;
    size_t n = 45, cap = 96 * n + 256;
    char *def = malloc(cap);
    size_t len = (size_t)snprintf(def, cap, "{\"StartAt\":\"S0\",\"States\":{");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(def + len, cap - len,
                                "%s\"S%zu\":{\"Type\":\"Pass\",\"Assign\":{\"v%zu.$\":\"$.big\"}",
                                i ? "," : "", i, i);
        if (i + 1 < n)
            len += (size_t)snprintf(def + len, cap - len, ",\"Next\":\"S%zu\"}", i + 1);
        else
            len += (size_t)snprintf(def + len, cap - len, ",\"End\":true}");
    }
    snprintf(def + len, cap - len, "}}");
    asl_machine *m = load(def);
    free(def);
    char *big = malloc(250001);
    memset(big, 'x', 250000);
    big[250000] = '\0';
    json_t *in = json_pack("{s:s}", "big", big);
    free(big);
    char *text = json_dumps(in, JSON_COMPACT);
    exec *e = start(m, text);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_string_equal(exec_error(e), "States.DataLimitExceeded");
    assert_non_null(strstr(exec_cause(e), "after the state 'S41' assigns them"));
    exec_free(e);
    asl_machine_unref(m);

    /* re-assigning one variable sixty times stays within the bound */
    m = load("{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\",\"Assign\":{\"n\":0},"
             "\"Next\":\"A\"},\"A\":{\"Type\":\"Pass\",\"Assign\":{\"v.$\":\"$.big\","
             "\"n.$\":\"States.MathAdd($n, 1)\"},\"Next\":\"C\"},\"C\":{\"Type\":\"Choice\","
             "\"Choices\":[{\"Variable\":\"$n\",\"NumericLessThan\":60,\"Next\":\"A\"}],"
             "\"Default\":\"D\"},\"D\":{\"Type\":\"Succeed\"}}}");
    e = start(m, text);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    exec_free(e);
    free(text);
    json_decref(in);
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
        cmocka_unit_test(test_timer_cancelled_when_task_answered),
        cmocka_unit_test(test_task_identity_survives_other_tasks),
        cmocka_unit_test(test_seconds_path_beyond_bound_fails),
        cmocka_unit_test(test_retry_delay_saturates),
        cmocka_unit_test(test_step_budget_and_history_quota),
        cmocka_unit_test(test_history_quota_boundary),
        cmocka_unit_test(test_too_deep_output_fails),
        cmocka_unit_test(test_cause_kept_whole_then_capped),
        cmocka_unit_test(test_heartbeat_expires_and_rearms),
        cmocka_unit_test(test_activity_started_by_worker),
        cmocka_unit_test(test_started_refused_for_other_tasks),
        cmocka_unit_test(test_submitted_then_succeeded),
        cmocka_unit_test(test_stop_cancels_open_tasks),
        cmocka_unit_test(test_stop_caps_error_and_cause),
        cmocka_unit_test(test_late_outcome_loses_to_due_timeout),
        cmocka_unit_test(test_extreme_clocks),
        cmocka_unit_test(test_too_deep_outcomes_refused),
        cmocka_unit_test(test_many_tokens),
        cmocka_unit_test(test_item_selector_failure_closes_running_iterations),
        cmocka_unit_test(test_rearm_cancels_previous_timer),
        cmocka_unit_test(test_late_advance_replays_in_order),
        cmocka_unit_test(test_budget_does_not_change_the_outcome),
        cmocka_unit_test(test_long_catch_up_keeps_deadlines),
        cmocka_unit_test(test_variables_held_to_10_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
