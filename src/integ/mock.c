/*
 * mock.c — the mock integration (integ.h): Step Functions Local's mock-config format, so
 * Task, Retry and Catch paths can be exercised without any service. Used by `baton run
 * --mock FILE`. Per-state invocation counters live in the integration (one per execution).
 */
#include "base/alloc.h"
#include "base/err.h"
#include "integ/integ.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mock {
    json_t *cases;     /* state name → response name */
    json_t *responses; /* MockedResponses */
    json_t *counts;    /* state name → invocations so far */
} mock;

static bool mock_handles(void *self, const char *state_name, const char *resource)
{
    mock *m = self;
    (void)resource;
    return json_object_get(m->cases, state_name) != NULL;
}

/* Finds the response whose key ("n" or "a-b") covers invocation n; else the last one. */
static json_t *pick(json_t *seq, long n)
{
    json_t *best = NULL;
    long best_hi = -1;
    const char *k;
    json_t *v;
    json_object_foreach(seq, k, v)
    {
        char *end;
        long lo = strtol(k, &end, 10), hi = lo;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        if (n >= lo && n <= hi)
            return v;
        if (hi > best_hi) {
            best_hi = hi;
            best = v;
        }
    }
    return best;
}

static int mock_start(void *self, const integ_task *t, const integ_sink *sink)
{
    mock *m = self;
    const char *resp_name = json_string_value(json_object_get(m->cases, t->state_name));
    json_t *seq = resp_name ? json_object_get(m->responses, resp_name) : NULL;
    json_int_t n = json_integer_value(json_object_get(m->counts, t->state_name));
    json_object_set_new(m->counts, t->state_name, json_integer(n + 1));
    json_t *r = seq ? pick(seq, (long)n) : NULL;
    if (r == NULL) {
        char *cause = bt_xasprintf("The mock response '%s' for state '%s' is missing",
                                   resp_name ? resp_name : "", t->state_name);
        sink->failed(sink->ud, t->id, "States.Runtime", cause);
        free(cause);
        return 0;
    }
    json_t *ret = json_object_get(r, "Return");
    json_t *thr = json_object_get(r, "Throw");
    if (ret) {
        sink->succeeded(sink->ud, t->id, ret);
    } else {
        sink->failed(sink->ud, t->id, json_string_value(json_object_get(thr, "Error")),
                     json_string_value(json_object_get(thr, "Cause")));
    }
    return 0;
}

/* Answers arrive inside start(): nothing is ever left to cancel. */
static void mock_cancel(void *self, const char *execution_arn, uint64_t task_id)
{
    (void)self;
    (void)execution_arn;
    (void)task_id;
}

static void mock_destroy(void *self)
{
    mock *m = self;
    json_decref(m->cases);
    json_decref(m->responses);
    json_decref(m->counts);
    free(m);
}

static const integ_ops mock_ops = {
    .name = "mock",
    .handles = mock_handles,
    .start = mock_start,
    .cancel = mock_cancel,
    .destroy = mock_destroy,
};

static int check_responses(json_t *responses, char **errmsg)
{
    const char *name;
    json_t *seq;
    json_object_foreach(responses, name, seq)
    {
        if (!json_is_object(seq) || json_object_size(seq) == 0) {
            *errmsg = bt_xasprintf("MockedResponses.%s must be a non-empty object", name);
            return BT_EINVAL;
        }
        const char *k;
        json_t *v;
        json_object_foreach(seq, k, v)
        {
            char *end;
            long lo = strtol(k, &end, 10);
            if (end == k || lo < 0 || (*end == '-' && strtol(end + 1, &end, 10) < lo) ||
                *end != '\0') {
                *errmsg =
                    bt_xasprintf("MockedResponses.%s: key '%s' is not \"n\" or \"a-b\"", name, k);
                return BT_EINVAL;
            }
            bool has_ret = json_object_get(v, "Return") != NULL;
            bool has_thr = json_is_object(json_object_get(v, "Throw"));
            if (has_ret == has_thr) {
                *errmsg = bt_xasprintf("MockedResponses.%s.%s needs exactly one of Return and "
                                       "Throw",
                                       name, k);
                return BT_EINVAL;
            }
        }
    }
    return 0;
}

int integ_mock_new(json_t *config, const char *machine, const char *test_case, integ *out,
                   char **errmsg)
{
    json_t *machines = json_object_get(config, "StateMachines");
    json_t *responses = json_object_get(config, "MockedResponses");
    if (!json_is_object(machines) || !json_is_object(responses)) {
        *errmsg = bt_xstrdup("a mock configuration needs the objects \"StateMachines\" and "
                             "\"MockedResponses\"");
        return BT_EINVAL;
    }
    if (check_responses(responses, errmsg) != 0)
        return BT_EINVAL;
    json_t *sm = machine ? json_object_get(machines, machine) : NULL;
    if (sm == NULL && json_object_size(machines) == 1) {
        void *it = json_object_iter(machines);
        sm = json_object_iter_value(it);
    }
    if (sm == NULL) {
        *errmsg = bt_xasprintf("the mock configuration has no entry for state machine '%s'",
                               machine ? machine : "");
        return BT_EINVAL;
    }
    json_t *cases = json_object_get(sm, "TestCases");
    json_t *tc = test_case ? json_object_get(cases, test_case) : NULL;
    if (tc == NULL && test_case == NULL && json_object_size(cases) == 1)
        tc = json_object_iter_value(json_object_iter(cases));
    if (!json_is_object(tc)) {
        *errmsg = bt_xasprintf("the mock configuration has no test case '%s' (use --mock-case)",
                               test_case ? test_case : "");
        return BT_EINVAL;
    }
    const char *state;
    json_t *resp;
    json_object_foreach(tc, state, resp)
    {
        if (!json_is_string(resp) || !json_object_get(responses, json_string_value(resp))) {
            *errmsg = bt_xasprintf("test case entry for state '%s' names no MockedResponses entry",
                                   state);
            return BT_EINVAL;
        }
    }
    mock *m = bt_xcalloc(1, sizeof(*m));
    m->cases = json_incref(tc);
    m->responses = json_incref(responses);
    m->counts = json_object();
    out->ops = &mock_ops;
    out->self = m;
    return 0;
}

void integ_free(integ *i)
{
    if (i && i->ops) {
        i->ops->destroy(i->self);
        i->ops = NULL;
        i->self = NULL;
    }
}
