/*
 * history_test.c — an execution that forgets the events it has handed over (a server keeps
 * them in its store): ids go on, the count is whole, the quota still counts every event.
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "engine/exec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define T0 1700000000000LL

static asl_machine *compile(const char *text)
{
    asl_machine *m = NULL;
    bt_diag d;
    bt_diag_init(&d);
    assert_int_equal(asl_load_text(text, strlen(text), &m, &d), 0);
    bt_diag_fini(&d);
    return m;
}

static exec *start(asl_machine *m, bool forget, uint32_t max_events)
{
    json_t *in = json_object();
    exec_config cfg = {.name = "e",
                       .arn = "arn:aws:states:us-east-1:123456789012:execution:m:e",
                       .start_ms = T0,
                       .max_events = max_events,
                       .forget_taken_events = forget};
    exec *e = exec_new(m, in, &cfg);
    json_decref(in);
    return e;
}

/* Takes the effects and checks the new events' ids follow on from *next. */
static void take(exec *e, uint32_t *next)
{
    exec_effects fx;
    exec_take_effects(e, &fx);
    for (size_t i = 0; i < fx.n_events; i++)
        assert_int_equal(fx.events[i].id, (*next)++);
}

static const char wait_task[] =
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"Next\":\"B\"},"
    "\"B\":{\"Type\":\"Pass\",\"End\":true}}}";

static void test_ids_and_count_go_on(void **state)
{
    (void)state;
    asl_machine *m = compile(wait_task);
    exec *e = start(m, true, 0);
    uint32_t next = 1;
    take(e, &next);
    exec_advance(e, T0, 0);
    take(e, &next);
    assert_int_equal(exec_n_open_tasks(e), 1);
    /* What was handed over is gone from memory; the count is not. */
    take(e, &next);
    assert_int_equal(exec_history(e)->len, 0);
    assert_int_equal(exec_n_events(e), next - 1);
    const exec_task *t = exec_get_task(e, 1);
    assert_non_null(t);
    json_t *out = json_pack("{s:i}", "ok", 1);
    assert_int_equal(exec_task_succeed(e, t->id, out, T0 + 5), 0);
    json_decref(out);
    exec_advance(e, T0 + 5, 0);
    take(e, &next);
    assert_int_equal(exec_get_status(e), EXEC_SUCCEEDED);
    assert_int_equal(exec_n_events(e), next - 1);
    exec_free(e);
    asl_machine_unref(m);
}

/* The same run with and without forgetting makes the same number of events. */
static void test_same_events_either_way(void **state)
{
    (void)state;
    asl_machine *m = compile(wait_task);
    uint64_t counts[2];
    for (int forget = 0; forget < 2; forget++) {
        exec *e = start(m, forget != 0, 0);
        uint32_t next = 1;
        exec_advance(e, T0, 0);
        take(e, &next);
        json_t *out = json_object();
        assert_int_equal(exec_task_succeed(e, 1, out, T0 + 1), 0);
        json_decref(out);
        exec_advance(e, T0 + 1, 0);
        take(e, &next);
        counts[forget] = exec_n_events(e);
        assert_int_equal(counts[forget], next - 1);
        exec_free(e);
    }
    assert_int_equal(counts[0], counts[1]);
    asl_machine_unref(m);
}

/* The history quota counts forgotten events too: a loop past it fails at the quota. */
static void test_quota_counts_forgotten_events(void **state)
{
    (void)state;
    asl_machine *m =
        compile("{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"C\"},"
                "\"C\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.x\",\"IsPresent\":true,"
                "\"Next\":\"D\"}],\"Default\":\"A\"},\"D\":{\"Type\":\"Succeed\"}}}");
    exec *e = start(m, true, 50);
    uint32_t next = 1;
    while (exec_advance(e, T0, 7))
        take(e, &next);
    take(e, &next);
    assert_int_equal(exec_get_status(e), EXEC_FAILED);
    assert_int_equal(exec_n_events(e), 50);
    assert_int_equal(next - 1, 50);
    exec_free(e);
    asl_machine_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_count_go_on),
        cmocka_unit_test(test_same_events_either_way),
        cmocka_unit_test(test_quota_counts_forgotten_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
