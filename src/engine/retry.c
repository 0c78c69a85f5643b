/*
 * retry.c — Retry and Catch as pure functions: which retrier or catcher takes an error,
 * and how long a back-off lasts. No execution state is read or written here, so
 * retry_test.c checks them by tables. run.c's exec__handle_error applies the decisions.
 *
 * Matching (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html):
 * States.ALL matches everything but the terminal errors States.Runtime and
 * States.DataLimitExceeded; States.TaskFailed matches everything but those and
 * States.Timeout ("any known error name except for States.Timeout"); States.Timeout also
 * matches States.HeartbeatTimeout.
 *
 * States.DataLimitExceeded is terminal when the engine raises it for a state's own input or
 * output; raised for a task's result (a function that returned more than 256 KiB) it is an
 * error like any other, which Catch takes — States.ALL included — as AWS recorded it
 * (conformance corpus: test_states_errors …_catch_state_all_data_limit_exceeded_on_large_
 * utf8_response, for lambda:invoke and for a function ARN).
 */
#include "engine/exec_int.h"

#include <math.h>
#include <string.h>

bool exec__is_terminal_error(const char *error, bool task_result)
{
    return error && (strcmp(error, "States.Runtime") == 0 ||
                     (!task_result && strcmp(error, "States.DataLimitExceeded") == 0));
}

bool exec__error_matches(const asl_errors *names, const char *error, bool task_result)
{
    const char *err = error ? error : "";
    for (size_t i = 0; i < names->len; i++) {
        const char *n = names->names[i];
        if (strcmp(n, "States.ALL") == 0)
            return !exec__is_terminal_error(err, task_result);
        if (strcmp(n, "States.TaskFailed") == 0 && strcmp(err, "States.Timeout") != 0 &&
            !exec__is_terminal_error(err, task_result))
            return true;
        if (strcmp(n, err) == 0)
            return true;
        if (strcmp(n, "States.Timeout") == 0 && strcmp(err, "States.HeartbeatTimeout") == 0)
            return true;
    }
    return false;
}

int exec__retry_pick(const asl_state *st, const int64_t *counts, const char *error,
                     bool task_result)
{
    if (exec__is_terminal_error(error, task_result))
        return -1;
    for (size_t i = 0; i < st->n_retriers; i++) {
        const asl_retrier *rt = &st->retriers[i];
        if (!exec__error_matches(&rt->errors, error, task_result))
            continue;
        /* the first matching retrier decides; exhausted, it hands over to Catch */
        int64_t used = counts ? counts[i] : 0;
        return used >= rt->max_attempts ? -1 : (int)i;
    }
    return -1;
}

int64_t exec__retry_delay_ms(const asl_retrier *rt, int64_t attempt, double jitter)
{
    /* In doubles, then clamped: IntervalSeconds × BackoffRate^attempt overflows any
     * integer after a few dozen attempts (pow gives +inf, never UB). */
    double delay = rt->interval_s * pow(rt->backoff_rate, (double)attempt);
    if (rt->max_delay_s > 0 && delay > (double)rt->max_delay_s)
        delay = (double)rt->max_delay_s;
    if (!(delay <= (double)EXEC_MAX_SECONDS)) /* also NaN */
        delay = (double)EXEC_MAX_SECONDS;
    if (delay < 0)
        delay = 0;
    if (rt->jitter_full)
        delay *= jitter;
    return llround(delay * 1000.0);
}

const asl_catcher *exec__catch_pick(const asl_state *st, const char *error, bool task_result)
{
    if (exec__is_terminal_error(error, task_result))
        return NULL;
    for (size_t i = 0; i < st->n_catchers; i++)
        if (exec__error_matches(&st->catchers[i].errors, error, task_result))
            return &st->catchers[i];
    return NULL;
}

json_t *exec__error_output(const bt_fault *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "Error", f->error ? json_string(f->error) : json_null());
    json_object_set_new(o, "Cause", f->cause ? json_string(f->cause) : json_null());
    return o;
}
