/*
 * redrive_test.c — exec_redrive: an execution that ended FAILED, TIMED_OUT or ABORTED goes
 * on from the state that did not succeed, with its input; earlier states are not run again,
 * Parallel and Map run again only their unsuccessful branches and iterations, retries start
 * over, and ExecutionRedriven is recorded with the count.
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

/* Runs e until it waits; the ids of the tasks it started, in order, go to tasks. */
static uint64_t tasks[64];
static size_t n_tasks;

static void advance(exec *e, int64_t now)
{
    while (exec_advance(e, now, 0))
        ;
    exec_effects fx;
    exec_take_effects(e, &fx);
    for (size_t i = 0; i < fx.n_items; i++)
        if (fx.items[i].kind == EXEC_EFFECT_TASK_START && n_tasks < 64)
            tasks[n_tasks++] = fx.items[i].id;
}

static exec *start(asl_machine *m, const char *input)
{
    json_t *in = json_loads(input, JSON_DECODE_ANY, NULL);
    assert_non_null(in);
    exec_config cfg = {.name = "e1",
                       .arn = "arn:aws:states:us-east-1:123456789012:execution:m:e1",
                       .sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                       .sm_name = "m",
                       .start_ms = T0,
                       .seed = 7};
    n_tasks = 0;
    exec *e = exec_new(m, in, &cfg);
    json_decref(in);
    advance(e, T0);
    return e;
}

/* The open task of state `name` (the latest one), which must exist. */
static const exec_task *task_of(exec *e, const char *name)
{
    for (size_t i = n_tasks; i-- > 0;) {
        const exec_task *t = exec_get_task(e, tasks[i]);
        if (t && strcmp(t->state_name, name) == 0)
            return t;
    }
    fail_msg("no open task of %s", name);
    return NULL;
}

static size_t count_events(const exec *e, const char *type, const char *name)
{
    const history *h = exec_history(e);
    size_t n = 0;
    for (size_t i = 0; i < h->len; i++)
        if (strcmp(hist_type_name(h->events[i].type), type) == 0 &&
            (name == NULL || (h->events[i].name && strcmp(h->events[i].name, name) == 0)))
            n++;
    return n;
}

/* The rendered event at position i from the end (0: the last). */
static json_t *event_from_end(const exec *e, size_t i)
{
    const history *h = exec_history(e);
    assert_true(h->len > i);
    return history_event_to_json(&h->events[h->len - 1 - i], 1);
}

static char *output_text(const exec *e)
{
    return json_dumps(exec_output(e), JSON_COMPACT | JSON_SORT_KEYS);
}

static void fail_task(exec *e, const char *state, int64_t now)
{
    assert_int_equal(exec_task_fail(e, task_of(e, state)->id, "Boom", "it broke", now), 0);
    advance(e, now);
}

static void succeed_task(exec *e, const char *state, const char *output, int64_t now)
{
    json_t *v = json_loads(output, JSON_DECODE_ANY, NULL);
    assert_int_equal(exec_task_succeed(e, task_of(e, state)->id, v, now), 0);
    json_decref(v);
    advance(e, now);
}

static const char *CHAIN =
    "{\"StartAt\":\"Prep\",\"States\":{"
    "\"Prep\":{\"Type\":\"Pass\",\"Result\":\"ready\",\"ResultPath\":\"$.prep\",\"Next\":\"Call\"},"
    "\"Call\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage."
    "waitForTaskToken\","
    "\"Parameters\":{\"n.$\":\"$$.Execution.RedriveCount\",\"in.$\":\"$\"},"
    "\"Retry\":[{\"ErrorEquals\":[\"Boom\"],\"MaxAttempts\":1,\"IntervalSeconds\":2}],"
    "\"ResultPath\":\"$.call\",\"Next\":\"Done\"},"
    "\"Done\":{\"Type\":\"Pass\",\"End\":true}}}";

static void test_resumes_failed_task_with_its_input(void **state)
{
    (void)state;
    asl_machine *m = load(CHAIN);
    exec *e = start(m, "{\"id\":1}");
    assert_int_equal(exec_redrive(e, T0), BT_ESTATE); /* running */
    fail_task(e, "Call", T0 + 1000);
    advance(e, T0 + 3000); /* the retry */
    fail_task(e, "Call", T0 + 4000);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_true(exec_redrivable(e));

    assert_int_equal(exec_redrive(e, T0 + 10000), 0);
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    assert_null(exec_error(e));
    assert_int_equal(exec_redrive_count(e), 1);
    advance(e, T0 + 10000);
    json_t *ev = event_from_end(e, 3); /* Redriven, Entered, Scheduled, Started */
    assert_string_equal(json_string_value(json_object_get(ev, "type")), "ExecutionRedriven");
    json_t *d = json_object_get(ev, "executionRedrivenEventDetails");
    assert_int_equal(json_integer_value(json_object_get(d, "redriveCount")), 1);
    json_decref(ev);
    /* the task's input is the one it had; $$ tells the redrive */
    const exec_task *t = task_of(e, "Call");
    assert_int_equal(json_integer_value(json_object_get(t->parameters, "n")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(t->parameters, "in"), "prep")), "ready");
    /* the retry counter starts over: one failure is retried again */
    fail_task(e, "Call", T0 + 11000);
    assert_int_equal(exec_get_status(e), EXEC_RUNNING);
    advance(e, T0 + 13000);
    succeed_task(e, "Call", "{\"ok\":true}", T0 + 14000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *out = output_text(e);
    assert_string_equal(out, "{\"call\":{\"ok\":true},\"id\":1,\"prep\":\"ready\"}");
    free(out);
    assert_int_equal(count_events(e, "PassStateEntered", "Prep"), 1); /* not run again */
    assert_int_equal(count_events(e, "TaskStateEntered", "Call"), 2);
    assert_int_equal(count_events(e, "ExecutionFailed", NULL), 1);
    assert_int_equal(exec_redrive(e, T0 + 15000), BT_ESTATE); /* succeeded */
    exec_free(e);
    asl_machine_unref(m);
}

static void test_fail_again_and_redrive_again(void **state)
{
    (void)state;
    asl_machine *m = load(CHAIN);
    exec *e = start(m, "{}");
    exec_stop(e, "Stopped", NULL, T0 + 500);
    assert_int_equal(exec_get_status(e), EXEC_ABORTED);
    assert_int_equal(exec_redrive(e, T0 + 1000), 0);
    advance(e, T0 + 1000);
    exec_stop(e, NULL, NULL, T0 + 2000);
    assert_int_equal(exec_redrive(e, T0 + 3000), 0);
    advance(e, T0 + 3000);
    assert_int_equal(exec_redrive_count(e), 2);
    assert_int_equal(json_integer_value(json_object_get(task_of(e, "Call")->parameters, "n")), 2);
    assert_int_equal(count_events(e, "ExecutionRedriven", NULL), 2);
    assert_int_equal(count_events(e, "ExecutionAborted", NULL), 2);
    succeed_task(e, "Call", "1", T0 + 4000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    exec_free(e);
    asl_machine_unref(m);
}

static void test_timed_out_counts_timeout_from_redrive(void **state)
{
    (void)state;
    asl_machine *m =
        load("{\"TimeoutSeconds\":10,\"StartAt\":\"Call\",\"States\":{\"Call\":{\"Type\":\"Task\","
             "\"Resource\":\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"End\":true}}}");
    exec *e = start(m, "{}");
    advance(e, T0 + 10000);
    assert_int_equal(exec_get_status(e), EXEC_TIMED_OUT);
    assert_int_equal(exec_redrive(e, T0 + 60000), 0);
    advance(e, T0 + 60000);
    assert_int_equal(exec_next_timer(e), T0 + 70000);
    succeed_task(e, "Call", "{}", T0 + 65000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    exec_free(e);
    asl_machine_unref(m);
}

static const char *PARALLEL =
    "{\"StartAt\":\"Par\",\"States\":{\"Par\":{\"Type\":\"Parallel\",\"End\":true,\"Branches\":["
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Result\":\"a\",\"End\":true}}},"
    "{\"StartAt\":\"B1\",\"States\":{\"B1\":{\"Type\":\"Pass\",\"Result\":\"b\",\"Next\":\"B2\"},"
    "\"B2\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\","
    "\"End\":true}}},"
    "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"End\":true}}}]}}}";

static void test_parallel_reruns_only_unsuccessful_branches(void **state)
{
    (void)state;
    asl_machine *m = load(PARALLEL);
    exec *e = start(m, "{}");
    fail_task(e, "B2", T0 + 1000); /* C is aborted with it */
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(exec_redrive(e, T0 + 2000), 0);
    advance(e, T0 + 2000);
    /* A succeeded and is not run again; B resumes at B2 (B1 is not run again); C again */
    assert_int_equal(count_events(e, "PassStateEntered", "A"), 1);
    assert_int_equal(count_events(e, "PassStateEntered", "B1"), 1);
    assert_int_equal(count_events(e, "TaskStateEntered", "B2"), 2);
    assert_int_equal(count_events(e, "TaskStateEntered", "C"), 2);
    assert_int_equal(count_events(e, "ParallelStateEntered", "Par"), 2);
    succeed_task(e, "C", "\"c\"", T0 + 3000);
    succeed_task(e, "B2", "\"b2\"", T0 + 4000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    char *out = output_text(e);
    assert_string_equal(out, "[\"a\",\"b2\",\"c\"]");
    free(out);
    exec_free(e);
    asl_machine_unref(m);
}

static const char *MAP =
    "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"End\":true,\"MaxConcurrency\":1,"
    "\"ItemProcessor\":{\"StartAt\":\"Odd\",\"States\":{"
    "\"Odd\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$\",\"NumericEquals\":2,"
    "\"Next\":\"Work\"}],\"Default\":\"Easy\"},"
    "\"Easy\":{\"Type\":\"Pass\",\"End\":true},"
    "\"Work\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage."
    "waitForTaskToken\","
    "\"End\":true}}}}}}";

static void test_map_reruns_only_unsuccessful_iterations(void **state)
{
    (void)state;
    asl_machine *m = load(MAP);
    exec *e = start(m, "[1,2,3,4]");
    /* one at a time: item 0 succeeds, item 1 fails, items 2 and 3 never start */
    fail_task(e, "Work", T0 + 1000);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(count_events(e, "MapIterationStarted", NULL), 2);
    assert_int_equal(exec_redrive(e, T0 + 2000), 0);
    advance(e, T0 + 2000);
    /* item 1 resumes at Work (its Choice is not run again); item 0 does not run again */
    assert_int_equal(count_events(e, "ChoiceStateEntered", "Odd"), 2);
    assert_int_equal(count_events(e, "TaskStateEntered", "Work"), 2);
    succeed_task(e, "Work", "\"two\"", T0 + 3000);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    assert_int_equal(count_events(e, "MapIterationStarted", NULL), 5); /* + items 1, 2, 3 */
    assert_int_equal(count_events(e, "ChoiceStateEntered", "Odd"), 4);
    char *out = output_text(e);
    assert_string_equal(out, "[1,\"two\",3,4]");
    free(out);
    exec_free(e);
    asl_machine_unref(m);
}

static void test_refused_without_room_in_history(void **state)
{
    (void)state;
    asl_machine *m = load("{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\"}}}");
    exec *e = start(m, "{}");
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_true(exec_redrivable(e));
    /* a Fail state fails again: it is the unsuccessful step */
    assert_int_equal(exec_redrive(e, T0 + 1), 0);
    advance(e, T0 + 1);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(count_events(e, "FailStateEntered", "F"), 2);
    exec_free(e);

    json_t *in = json_object();
    exec_config cfg = {.name = "e", .start_ms = T0, .max_events = 5};
    e = exec_new(m, in, &cfg); /* Started, Entered, Failed: 3 of 5 */
    advance(e, T0);
    assert_true(exec_redrivable(e));
    assert_int_equal(exec_redrive(e, T0 + 1), 0);
    advance(e, T0 + 1); /* Redriven, Entered, Failed: the quota ends it */
    assert_false(exec_redrivable(e));
    assert_int_equal(exec_redrive(e, T0 + 2), BT_ESTATE);
    exec_free(e);
    json_decref(in);
    asl_machine_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resumes_failed_task_with_its_input),
        cmocka_unit_test(test_fail_again_and_redrive_again),
        cmocka_unit_test(test_timed_out_counts_timeout_from_redrive),
        cmocka_unit_test(test_parallel_reruns_only_unsuccessful_branches),
        cmocka_unit_test(test_map_reruns_only_unsuccessful_iterations),
        cmocka_unit_test(test_refused_without_room_in_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
