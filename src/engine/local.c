/*
 * local.c — the in-process driver (local.h). It applies an execution's effects at once:
 * a TASK_START goes to the integration bound to the task's state (bound once per state,
 * on first use), a TASK_CANCEL back to it; outcomes reported through the sink — even from
 * inside start() — are queued and handed to the engine in order once the batch is applied,
 * so the engine is never re-entered.
 */
#include "engine/local.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Steps per exec_advance call: the driver loops, so this only bounds one call's latency. */
#define LOCAL_STEP_BUDGET 4096

int64_t local_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until(int64_t when_ms)
{
    int64_t now = local_now_ms();
    if (when_ms <= now)
        return;
    int64_t d = when_ms - now;
    struct timespec ts = {.tv_sec = d / 1000, .tv_nsec = (long)(d % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef enum outcome_kind { OUT_SUBMITTED, OUT_SUCCEEDED, OUT_FAILED, OUT_HEARTBEAT } outcome_kind;

typedef struct outcome {
    outcome_kind kind;
    uint64_t id;
    json_t *value;
    char *error, *cause;
} outcome;

typedef struct started {
    uint64_t id;
    integ *in;
} started;

typedef struct driver {
    exec *e;
    integ *integs;
    size_t n_integs;
    integ **binding; /* per task slot */
    bool *is_bound;
    size_t n_slots;
    outcome *q;
    size_t n_q, cap_q;
    started *live; /* tasks started and not yet answered or cancelled */
    size_t n_live, cap_live;
} driver;

static outcome *push(driver *d, outcome_kind kind, uint64_t id)
{
    if (d->n_q == d->cap_q) {
        d->cap_q = d->cap_q ? d->cap_q * 2 : 8;
        d->q = bt_xrealloc(d->q, d->cap_q * sizeof(*d->q));
    }
    outcome *o = &d->q[d->n_q++];
    *o = (outcome){.kind = kind, .id = id};
    return o;
}

static void sink_submitted(void *ud, uint64_t id, json_t *response)
{
    push(ud, OUT_SUBMITTED, id)->value = json_incref(response);
}

static void sink_succeeded(void *ud, uint64_t id, json_t *output)
{
    push(ud, OUT_SUCCEEDED, id)->value = json_incref(output);
}

static void sink_failed(void *ud, uint64_t id, const char *error, const char *cause)
{
    outcome *o = push(ud, OUT_FAILED, id);
    o->error = error ? bt_xstrdup(error) : NULL;
    o->cause = cause ? bt_xstrdup(cause) : NULL;
}

static void sink_heartbeat(void *ud, uint64_t id)
{
    push(ud, OUT_HEARTBEAT, id);
}

static integ *bind(driver *d, const exec_task *t)
{
    size_t slot = t->task_slot;
    if (slot >= d->n_slots)
        return NULL;
    if (!d->is_bound[slot]) {
        for (size_t i = 0; i < d->n_integs && d->binding[slot] == NULL; i++)
            if (d->integs[i].ops->handles(d->integs[i].self, t->state_name, t->resource))
                d->binding[slot] = &d->integs[i];
        d->is_bound[slot] = true;
    }
    return d->binding[slot];
}

static void live_add(driver *d, uint64_t id, integ *in)
{
    if (d->n_live == d->cap_live) {
        d->cap_live = d->cap_live ? d->cap_live * 2 : 8;
        d->live = bt_xrealloc(d->live, d->cap_live * sizeof(*d->live));
    }
    d->live[d->n_live++] = (started){id, in};
}

static integ *live_take(driver *d, uint64_t id)
{
    for (size_t i = 0; i < d->n_live; i++) {
        if (d->live[i].id == id) {
            integ *in = d->live[i].in;
            d->live[i] = d->live[--d->n_live];
            return in;
        }
    }
    return NULL;
}

static void apply_effects(driver *d, const integ_sink *sink)
{
    exec_effects fx;
    exec_take_effects(d->e, &fx);
    for (size_t i = 0; i < fx.n_items; i++) {
        const exec_effect *x = &fx.items[i];
        if (x->kind == EXEC_EFFECT_TASK_START) {
            const exec_task *t = exec_get_task(d->e, x->id);
            if (t == NULL) /* cancelled in the same batch */
                continue;
            integ *in = bind(d, t);
            if (in == NULL) {
                outcome *o = push(d, OUT_FAILED, t->id);
                o->error = bt_xstrdup("States.TaskFailed");
                o->cause = bt_xasprintf("No integration answers resource '%s' of state '%s' "
                                        "when running in-process; supply a response with --mock",
                                        t->resource, t->state_name);
            } else if (in->ops->start(in->self, t, sink) != 0) {
                outcome *o = push(d, OUT_FAILED, t->id);
                o->error = bt_xstrdup("States.TaskFailed");
                o->cause =
                    bt_xasprintf("The integration '%s' could not start the task", in->ops->name);
            } else {
                live_add(d, t->id, in);
            }
        } else if (x->kind == EXEC_EFFECT_TASK_CANCEL) {
            integ *in = live_take(d, x->id);
            if (in)
                in->ops->cancel(in->self, exec_arn(d->e), x->id);
        }
    }
}

/* Hands the queued outcomes to the engine; true if there were any. */
static bool deliver(driver *d, int64_t now)
{
    if (d->n_q == 0)
        return false;
    for (size_t i = 0; i < d->n_q; i++) {
        outcome *o = &d->q[i];
        switch (o->kind) {
        case OUT_SUBMITTED:
            exec_task_submitted(d->e, o->id, o->value, now);
            break;
        case OUT_SUCCEEDED:
            live_take(d, o->id);
            exec_task_succeed(d->e, o->id, o->value, now);
            break;
        case OUT_FAILED:
            live_take(d, o->id);
            exec_task_fail(d->e, o->id, o->error, o->cause, now);
            break;
        case OUT_HEARTBEAT:
            exec_task_heartbeat(d->e, o->id, now);
            break;
        }
        json_decref(o->value);
        free(o->error);
        free(o->cause);
    }
    d->n_q = 0;
    return true;
}

void local_run(exec *e, integ *integs, size_t n_integs, bool virtual_clock)
{
    driver d = {.e = e, .integs = integs, .n_integs = n_integs};
    d.n_slots = exec_machine(e)->n_task_states;
    d.binding = bt_xcalloc(d.n_slots ? d.n_slots : 1, sizeof(*d.binding));
    d.is_bound = bt_xcalloc(d.n_slots ? d.n_slots : 1, sizeof(*d.is_bound));
    integ_sink sink = {.ud = &d,
                       .submitted = sink_submitted,
                       .succeeded = sink_succeeded,
                       .failed = sink_failed,
                       .heartbeat = sink_heartbeat};
    int64_t now = virtual_clock ? exec_start_ms(e) : local_now_ms();
    for (;;) {
        while (exec_advance(e, now, LOCAL_STEP_BUDGET))
            ;
        apply_effects(&d, &sink);
        if (exec_get_status(e) != EXEC_RUNNING)
            break;
        if (!virtual_clock)
            now = local_now_ms();
        if (deliver(&d, now))
            continue;
        int64_t next = exec_next_timer(e);
        if (next == INT64_MAX) {
            exec_stop(e, "Baton.Stalled",
                      "The execution waits for a task outcome that nothing in this process "
                      "can deliver",
                      now);
            apply_effects(&d, &sink);
            break;
        }
        if (virtual_clock) {
            if (next > now)
                now = next;
        } else {
            sleep_until(next);
            now = local_now_ms();
            if (now < next)
                now = next;
        }
    }
    /* outcomes that arrived for tasks the end closed are dropped */
    for (size_t i = 0; i < d.n_q; i++) {
        json_decref(d.q[i].value);
        free(d.q[i].error);
        free(d.q[i].cause);
    }
    free(d.q);
    free(d.live);
    free(d.binding);
    free(d.is_bound);
}
