/*
 * retry_test.c — Retry and Catch decisions (retry.c) by tables: which error names match,
 * which retrier or catcher takes an error, and the back-off of each attempt, including
 * its saturation at AWS's bound.
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "engine/exec_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_error_matching(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        const char *error;
        bool matches;
    } rows[] = {
        {"States.ALL", "Custom", true},
        {"States.ALL", NULL, true},
        {"States.ALL", "States.Timeout", true},
        {"States.ALL", "States.Runtime", false},
        {"States.ALL", "States.DataLimitExceeded", false},
        {"States.TaskFailed", "Custom", true},
        {"States.TaskFailed", "States.Timeout", false},
        {"States.TaskFailed", "States.HeartbeatTimeout", true},
        {"States.TaskFailed", "States.Runtime", false},
        {"States.Timeout", "States.Timeout", true},
        {"States.Timeout", "States.HeartbeatTimeout", true},
        {"States.HeartbeatTimeout", "States.Timeout", false},
        {"States.HeartbeatTimeout", "States.HeartbeatTimeout", true},
        {"Custom", "Custom", true},
        {"Custom", "custom", false},
        {"Custom", NULL, false},
        {"States.Runtime", "States.Runtime", true},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *names[] = {(char *)(uintptr_t)rows[i].pattern};
        asl_errors errs = {.names = names, .len = 1};
        if (exec__error_matches(&errs, rows[i].error, false) != rows[i].matches)
            fail_msg("%s vs %s: expected %d", rows[i].pattern,
                     rows[i].error ? rows[i].error : "(null)", rows[i].matches);
    }
    assert_true(exec__is_terminal_error("States.Runtime", false));
    assert_true(exec__is_terminal_error("States.DataLimitExceeded", false));
    assert_false(exec__is_terminal_error("States.Timeout", false));
    assert_false(exec__is_terminal_error(NULL, false));
    /* raised for a task's result, DataLimitExceeded is caught like any error (AWS-recorded) */
    assert_true(exec__is_terminal_error("States.Runtime", true));
    assert_false(exec__is_terminal_error("States.DataLimitExceeded", true));
}

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

static const char *RETRIES =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::"
    "lambda:invoke\",\"Retry\":["
    "{\"ErrorEquals\":[\"A\"],\"MaxAttempts\":2},"
    "{\"ErrorEquals\":[\"A\",\"B\"],\"MaxAttempts\":5},"
    "{\"ErrorEquals\":[\"States.ALL\"],\"MaxAttempts\":0}],"
    "\"Catch\":[{\"ErrorEquals\":[\"B\"],\"Next\":\"CB\"},"
    "{\"ErrorEquals\":[\"States.TaskFailed\"],\"Next\":\"CT\"}],\"End\":true},"
    "\"CB\":{\"Type\":\"Succeed\"},\"CT\":{\"Type\":\"Succeed\"}}}";

static void test_retrier_and_catcher_choice(void **state)
{
    (void)state;
    asl_machine *m = load(RETRIES);
    const asl_state *st = asl_graph_find(m->top, "T");
    static const struct {
        int64_t counts[3];
        const char *error;
        int retrier;
        const char *catcher; /* Next of the catcher, NULL: none */
    } rows[] = {
        {{0, 0, 0}, "A", 0, "CT"},
        {{1, 0, 0}, "A", 0, "CT"},
        {{2, 0, 0}, "A", -1, "CT"}, /* the first match is exhausted: no fall-through */
        {{0, 0, 0}, "B", 1, "CB"},
        {{0, 4, 0}, "B", 1, "CB"},
        {{0, 5, 0}, "B", -1, "CB"},
        {{0, 0, 0}, "C", -1, "CT"}, /* States.ALL with MaxAttempts 0 never retries */
        {{0, 0, 0}, "States.Timeout", -1, NULL},
        {{0, 0, 0}, "States.Runtime", -1, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = exec__retry_pick(st, rows[i].counts, rows[i].error, false);
        if (got != rows[i].retrier)
            fail_msg("row %zu: retrier %d, expected %d", i, got, rows[i].retrier);
        const asl_catcher *c = exec__catch_pick(st, rows[i].error, false);
        if (rows[i].catcher == NULL) {
            assert_null(c);
        } else {
            assert_non_null(c);
            assert_string_equal(asl_graph_find(m->top, rows[i].catcher)->name,
                                m->top->states[c->next]->name);
        }
    }
    assert_int_equal(exec__retry_pick(st, NULL, "A", false), 0);
    asl_machine_unref(m);
}

static void test_backoff_delays(void **state)
{
    (void)state;
    static const struct {
        asl_retrier rt;
        int64_t attempt;
        double jitter;
        int64_t ms;
    } rows[] = {
        {{.interval_s = 1, .backoff_rate = 2.0}, 0, 1, 1000},
        {{.interval_s = 1, .backoff_rate = 2.0}, 3, 1, 8000},
        {{.interval_s = 0.5, .backoff_rate = 1.5}, 2, 1, 1125},
        {{.interval_s = 3, .backoff_rate = 2.0, .max_delay_s = 10}, 5, 1, 10000},
        {{.interval_s = 2, .backoff_rate = 2.0, .jitter_full = true}, 1, 0.25, 1000},
        {{.interval_s = 2, .backoff_rate = 2.0, .jitter_full = false}, 1, 0.25, 4000},
        /* saturation: never beyond 99,999,999 s, never UB */
        {{.interval_s = 99999999, .backoff_rate = 99999999}, 99999999, 1, 99999999000LL},
        {{.interval_s = 1, .backoff_rate = 2.0}, 2000, 1, 99999999000LL},
        {{.interval_s = 1, .backoff_rate = 1e308}, 3, 1, 99999999000LL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t got = exec__retry_delay_ms(&rows[i].rt, rows[i].attempt, rows[i].jitter);
        if (got != rows[i].ms)
            fail_msg("row %zu: %lld ms, expected %lld", i, (long long)got, (long long)rows[i].ms);
    }
}

static void test_saturating_time(void **state)
{
    (void)state;
    assert_int_equal(exec__add_ms(INT64_MAX - 5, 10), INT64_MAX - 1);
    assert_int_equal(exec__add_ms(INT64_MIN + 5, -10), INT64_MIN);
    assert_int_equal(exec__add_ms(1000, 234), 1234);
    assert_int_equal(exec__seconds_ms(INT64_MAX), INT64_MAX);
    assert_int_equal(exec__seconds_ms(INT64_MIN), INT64_MIN);
    assert_int_equal(exec__seconds_ms(99999999), 99999999000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_matching),
        cmocka_unit_test(test_retrier_and_catcher_choice),
        cmocka_unit_test(test_backoff_delays),
        cmocka_unit_test(test_saturating_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
