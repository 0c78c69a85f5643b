/*
 * task.c — Task states and their attempts. Each attempt is an exec__task with a stable
 * identity: an id that is never reused (lookup by binary search: open tasks are kept in
 * start order) and, for callbacks and activities, a fresh 192-bit token (a scan, or a hash
 * index once many are open). Outcomes may come in any order, days apart, while other tasks
 * start and end. A run has one attempt open at a time, kept inside the run: its record stays
 * put while it is open, and a closed id or token is simply not found.
 *
 * The resource was classified once by asl_compile (kind, pattern, history's resourceType
 * and resource); nothing here parses it again. Timers: TimeoutSeconds counts from the
 * start, HeartbeatSeconds from the start and from every heartbeat; either expiring closes
 * the task (TASK_CANCEL goes to the integration) and raises States.Timeout or
 * States.HeartbeatTimeout (ASL's predefined error for a missed heartbeat).
 */
#include "base/alloc.h"
#include "base/err.h"
#include "base/json.h"
#include "engine/exec_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* A fresh task token: 192 random bits, base64url (URL-safe, no padding). */
static void make_token(char out[EXEC__TOKEN_SIZE])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t b[24];
    bt_random_bytes(b, sizeof(b));
    size_t o = 0;
    for (size_t i = 0; i < sizeof(b); i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
}

/* ---- the table of open tasks -------------------------------------------------------- */

static size_t lower_bound(const exec *e, uint64_t id)
{
    size_t lo = 0, hi = e->n_tasks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->tasks[mid]->pub.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static exec__task *task_find(const exec *e, uint64_t id)
{
    size_t i = lower_bound(e, id);
    return i < e->n_tasks && e->tasks[i]->pub.id == id ? e->tasks[i] : NULL;
}

/* Up to this many open tasks a token is found by a scan; past it, through a hash index
 * built then and kept from then on. Most executions hold one or two tasks at a time. */
#define TOKEN_SCAN_MAX 16

static void table_add(exec *e, exec__task *t)
{
    if (e->n_tasks == e->cap_tasks) {
        e->cap_tasks = e->cap_tasks ? e->cap_tasks * 2 : 2;
        e->tasks = bt_xrealloc(e->tasks, e->cap_tasks * sizeof(*e->tasks));
    }
    e->tasks[e->n_tasks++] = t; /* ids increase: appending keeps the order */
    if (e->token_indexed) {
        if (t->token[0])
            bt_strmap_put(&e->by_token, t->token, t);
    } else if (e->n_tasks > TOKEN_SCAN_MAX) {
        for (size_t i = 0; i < e->n_tasks; i++)
            if (e->tasks[i]->token[0])
                bt_strmap_put(&e->by_token, e->tasks[i]->token, e->tasks[i]);
        e->token_indexed = true;
    }
}

static void table_remove(exec *e, exec__task *t)
{
    size_t i = lower_bound(e, t->pub.id);
    if (i < e->n_tasks && e->tasks[i] == t) {
        memmove(&e->tasks[i], &e->tasks[i + 1], (e->n_tasks - i - 1) * sizeof(*e->tasks));
        e->n_tasks--;
    }
    if (e->token_indexed && t->token[0])
        bt_strmap_del(&e->by_token, t->token);
}

static void task_destroy(exec__task *t)
{
    json_decref(t->pub.parameters);
    t->pub.parameters = NULL;
}

static void record_fate(exec *e, const exec__task *t, exec_task_fate_kind kind)
{
    if (e->n_fates == e->cap_fates) {
        e->cap_fates = e->cap_fates ? e->cap_fates * 2 : 8;
        e->fates = bt_xrealloc(e->fates, e->cap_fates * sizeof *e->fates);
    }
    e->fates[e->n_fates++] = (struct exec__fate){
        .id = t->pub.id,
        .when_ms = e->now_ms,
        .state_name = t->pub.state_name,
        .attempt = t->pub.retry_count + 1,
        .kind = kind,
    };
}

void exec_task_fate_of(const exec *e, uint64_t id, exec_task_fate *out)
{
    memset(out, 0, sizeof *out);
    const char *state = NULL;
    size_t lo = 0, hi = e->n_fates; /* ids ascend: binary search */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->fates[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < e->n_fates && e->fates[lo].id == id) {
        const struct exec__fate *f = &e->fates[lo];
        out->kind = f->kind;
        out->when_ms = f->when_ms;
        out->state_name = state = f->state_name;
        out->attempt = f->attempt;
    } else {
        const exec_task *t = exec_get_task(e, id);
        if (t == NULL)
            return;
        out->kind = EXEC_FATE_OPEN;
        out->state_name = state = t->state_name;
        out->attempt = t->retry_count + 1;
    }
    /* A later attempt of the same state, open or closed, holds the token that counts now. */
    for (size_t i = 0; i < e->n_tasks; i++)
        if (e->tasks[i]->pub.id > id && strcmp(e->tasks[i]->pub.state_name, state) == 0)
            out->later_attempt = e->tasks[i]->pub.retry_count + 1;
    for (size_t i = lo; out->later_attempt == 0 && i < e->n_fates; i++)
        if (e->fates[i].id > id && strcmp(e->fates[i].state_name, state) == 0 &&
            e->fates[i].attempt > out->attempt)
            out->later_attempt = e->fates[i].attempt;
}

/* Closes t: its timers are disarmed, it leaves the table and its run. cancel: the
 * integration must abandon it (TASK_CANCEL). */
static void task_close(exec *e, exec__task *t, bool cancel, exec_task_fate_kind fate)
{
    record_fate(e, t, fate);
    exec__timer_cancel(e, &t->timeout);
    exec__timer_cancel(e, &t->heartbeat);
    table_remove(e, t);
    if (cancel)
        exec__effect(e, EXEC_EFFECT_TASK_CANCEL, t->pub.id, 0);
    if (t->r && t->r->task == t)
        t->r->task = NULL;
    t->token[0] = '\0';
    task_destroy(t);
}

void exec__task_cancel(run *r)
{
    if (r->task)
        task_close(r->e, r->task, true, EXEC_FATE_CANCELLED);
}

void exec__tasks_fini(exec *e)
{
    /* every task lives in its run, and a run closes its task before it is freed */
    assert(e->n_tasks == 0);
    free(e->tasks);
    e->tasks = NULL;
    e->n_tasks = e->cap_tasks = 0;
    free(e->fates);
    e->fates = NULL;
    e->n_fates = e->cap_fates = 0;
    bt_strmap_fini(&e->by_token);
}

const exec_task *exec_get_task(const exec *e, uint64_t id)
{
    exec__task *t = task_find(e, id);
    return t ? &t->pub : NULL;
}

const exec_task *exec_find_task_by_token(const exec *e, const char *token)
{
    if (token == NULL || token[0] == '\0')
        return NULL;
    if (e->token_indexed) {
        exec__task *t = bt_strmap_get(&e->by_token, token);
        return t ? &t->pub : NULL;
    }
    for (size_t i = 0; i < e->n_tasks; i++)
        if (strcmp(e->tasks[i]->token, token) == 0)
            return &e->tasks[i]->pub;
    return NULL;
}

size_t exec_n_open_tasks(const exec *e)
{
    return e->n_tasks;
}

/* ---- history ------------------------------------------------------------------------ */

static void resource_details(hist_event *ev, const asl_state *st)
{
    if (ev == NULL)
        return;
    exec__ev_extra_set(ev, "resourceType", json_string(st->resource_type));
    exec__ev_extra_set(ev, "resource", json_string(st->resource_action));
}

/* The event for an outcome, by the kind of resource: Lambda…, Activity… or Task…. */
static hist_event *outcome_event(run *r, hist_type lambda, hist_type activity, hist_type service)
{
    const asl_state *st = r->st;
    hist_type t = st->task_kind == ASL_TASK_LAMBDA     ? lambda
                  : st->task_kind == ASL_TASK_ACTIVITY ? activity
                                                       : service;
    hist_event *ev = exec__emit(r, t);
    if (st->task_kind == ASL_TASK_SERVICE)
        resource_details(ev, st);
    return ev;
}

static void scheduled_events(run *r, json_t *params, int64_t timeout, int64_t heartbeat)
{
    const asl_state *st = r->st;
    hist_event *ev;
    if (st->task_kind == ASL_TASK_LAMBDA) {
        ev = exec__emit(r, HIST_LambdaFunctionScheduled);
        exec__ev_set_data(ev, params);
        exec__ev_extra_set(ev, "resource", json_string(st->resource));
        if (timeout)
            exec__ev_extra_set(ev, "timeoutInSeconds", json_integer(timeout));
        exec__emit(r, HIST_LambdaFunctionStarted);
    } else if (st->task_kind == ASL_TASK_ACTIVITY) {
        ev = exec__emit(r, HIST_ActivityScheduled);
        exec__ev_set_data(ev, params);
        exec__ev_extra_set(ev, "resource", json_string(st->resource));
        if (timeout)
            exec__ev_extra_set(ev, "timeoutInSeconds", json_integer(timeout));
        if (heartbeat)
            exec__ev_extra_set(ev, "heartbeatInSeconds", json_integer(heartbeat));
    } else {
        ev = exec__emit(r, HIST_TaskScheduled);
        exec__ev_set_data(ev, params);
        resource_details(ev, st);
        exec__ev_extra_set(ev, "region", json_string(r->e->region));
        if (timeout)
            exec__ev_extra_set(ev, "timeoutInSeconds", json_integer(timeout));
        if (heartbeat)
            exec__ev_extra_set(ev, "heartbeatInSeconds", json_integer(heartbeat));
        ev = exec__emit(r, HIST_TaskStarted);
        resource_details(ev, st);
    }
}

/* ---- starting a task ---------------------------------------------------------------- */

void exec__enter_Task(run *r)
{
    r->ph = PH_TASK_START;
    exec__enqueue(r);
}

void exec__task_start(run *r)
{
    exec *e = r->e;
    const asl_state *st = r->st;
    bt_fault f;
    bt_fault_init(&f);
    int64_t timeout = 0, heartbeat = 0;
    if (st->jn) {
        if (st->jn->timeout && exec__jt_int(r, st->jn->timeout, "TimeoutSeconds", 1,
                                            EXEC_MAX_SECONDS, &timeout, &f) != 0)
            goto error;
        if (st->jn->heartbeat && exec__jt_int(r, st->jn->heartbeat, "HeartbeatSeconds", 1,
                                              EXEC_MAX_SECONDS, &heartbeat, &f) != 0)
            goto error;
    } else if (st->timeout_s.is_set &&
               exec__resolve_int(r, &st->timeout_s, "TimeoutSecondsPath", r->effective, 1,
                                 EXEC_MAX_SECONDS, &timeout, &f) != 0)
        goto error;
    if (st->heartbeat_s.is_set &&
        exec__resolve_int(r, &st->heartbeat_s, "HeartbeatSecondsPath", r->effective, 1,
                          EXEC_MAX_SECONDS, &heartbeat, &f) != 0)
        goto error;
    assert(r->task == NULL); /* the previous attempt is closed */
    exec__task *t = &r->task_mem;
    memset(t, 0, sizeof(*t));
    if (st->task_pattern == ASL_PATTERN_CALLBACK) {
        /* A fresh one for every attempt, minted for the id the attempt gets below (the
         * arguments may carry it, and an attempt whose arguments fail takes no id). */
        if (e->mint_token)
            e->mint_token(e->mint_ctx, e->next_task_id + 1, t->token);
        else
            make_token(t->token);
    }
    if (exec__state_arguments(r, "task's arguments", &f) != 0)
        goto error;
    if (exec__probing(r))
        exec__probe_arguments(r, r->params);
    json_t *params = r->params;
    scheduled_events(r, params, timeout, heartbeat);

    t->r = r;
    t->pub.id = ++e->next_task_id;
    t->pub.execution_arn = e->arn;
    t->pub.state_name = st->name;
    t->pub.resource = st->resource;
    t->pub.task_slot = st->task_slot;
    t->pub.parameters = json_incref(params);
    t->pub.token = t->token[0] ? t->token : NULL;
    t->pub.retry_count = r->retry_count;
    t->pub.timeout_s = timeout;
    t->pub.heartbeat_s = heartbeat;
    exec__timer_init(&t->timeout, TIMER_TASK_TIMEOUT, t);
    exec__timer_init(&t->heartbeat, TIMER_TASK_HEARTBEAT, t);
    table_add(e, t);
    r->task = t;
    r->ph = PH_TASK_WAIT;
    exec__effect(e, EXEC_EFFECT_TASK_START, t->pub.id, 0);
    if (timeout > 0)
        exec__timer_arm(e, &t->timeout, exec__add_ms(e->now_ms, exec__seconds_ms(timeout)));
    if (heartbeat > 0)
        exec__timer_arm(e, &t->heartbeat, exec__add_ms(e->now_ms, exec__seconds_ms(heartbeat)));
    bt_fault_fini(&f);
    return;

error:
    r->task_mem.token[0] = '\0'; /* the attempt never opened */
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
}

/* ---- outcomes ----------------------------------------------------------------------- */

static bool within_limits(json_t *v)
{
    size_t depth = 0;
    return payload_measure(v, PAYLOAD_MAX_BYTES, &depth) <= PAYLOAD_MAX_BYTES &&
           depth <= BT_JSON_MAX_DEPTH;
}

/* The open task id of a running execution, with the clock moved to now_ms. */
static exec__task *open_task(exec *e, uint64_t id, int64_t now_ms)
{
    if (e->status != EXEC_RUNNING || task_find(e, id) == NULL)
        return NULL;
    exec__catch_up(e, now_ms);
    exec__task *t = task_find(e, id);
    if (e->status != EXEC_RUNNING || t == NULL || t->r == NULL || t->r->status != RUN_ACTIVE ||
        t->r->task != t)
        return NULL;
    return t;
}

void exec__task_timer_fired(exec__timer *tm)
{
    exec__task *t = tm->owner;
    run *r = t->r;
    exec *e = r->e;
    bt_fault f;
    bt_fault_init(&f);
    bt_fault_set(
        &f, tm->kind == TIMER_TASK_HEARTBEAT ? "States.HeartbeatTimeout" : "States.Timeout", NULL);
    hist_event *ev =
        outcome_event(r, HIST_LambdaFunctionTimedOut, HIST_ActivityTimedOut, HIST_TaskTimedOut);
    exec__ev_set_error(ev, &f);
    task_close(e, t, true,
               tm->kind == TIMER_TASK_HEARTBEAT ? EXEC_FATE_HEARTBEAT_TIMED_OUT
                                                : EXEC_FATE_TIMED_OUT);
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
}

int exec_task_submitted(exec *e, uint64_t id, json_t *response, int64_t now_ms)
{
    exec__task *t = open_task(e, id, now_ms);
    if (t == NULL)
        return BT_ENOTFOUND;
    if (t->r->st->task_kind == ASL_TASK_SERVICE) {
        hist_event *ev = exec__emit(t->r, HIST_TaskSubmitted);
        resource_details(ev, t->r->st);
        /* a response too large or deep to store is left out, never stored altered */
        if (within_limits(response))
            exec__ev_set_data(ev, response);
    }
    exec__settle(e);
    return 0;
}

int exec_task_heartbeat(exec *e, uint64_t id, int64_t now_ms)
{
    exec__task *t = open_task(e, id, now_ms);
    if (t == NULL)
        return BT_ENOTFOUND;
    if (t->pub.heartbeat_s > 0) /* AWS writes no history for a heartbeat */
        exec__timer_arm(e, &t->heartbeat,
                        exec__add_ms(e->now_ms, exec__seconds_ms(t->pub.heartbeat_s)));
    return 0;
}

int exec_task_started(exec *e, uint64_t id, const char *worker, int64_t now_ms)
{
    exec__task *t = open_task(e, id, now_ms);
    if (t == NULL)
        return BT_ENOTFOUND;
    if (t->r->st->task_kind != ASL_TASK_ACTIVITY || t->is_started)
        return BT_ESTATE;
    t->is_started = true;
    hist_event *ev = exec__emit(t->r, HIST_ActivityStarted);
    if (worker)
        exec__ev_extra_set(ev, "workerName", json_string(worker));
    if (t->pub.heartbeat_s > 0)
        exec__timer_arm(e, &t->heartbeat,
                        exec__add_ms(e->now_ms, exec__seconds_ms(t->pub.heartbeat_s)));
    exec__settle(e);
    return 0;
}

int exec_task_succeed(exec *e, uint64_t id, json_t *output, int64_t now_ms)
{
    exec__task *t = open_task(e, id, now_ms);
    if (t == NULL)
        return BT_ENOTFOUND;
    run *r = t->r;
    task_close(e, t, false, EXEC_FATE_SUCCEEDED);
    hist_event *ev =
        outcome_event(r, HIST_LambdaFunctionSucceeded, HIST_ActivitySucceeded, HIST_TaskSucceeded);
    bt_fault f;
    bt_fault_init(&f);
    int rc = exec__check_limits(r, output, NULL, NULL, &f);
    if (rc == 0) /* an output over the limits is not recorded: the failure says why */
        exec__ev_set_data(ev, output);
    if (rc != 0) {
        exec__handle_task_error(r, &f);
    } else {
        exec__set_json(&r->result, json_incref(output));
        exec__go_exit(r);
    }
    bt_fault_fini(&f);
    exec__settle(e);
    return 0;
}

int exec_task_fail(exec *e, uint64_t id, const char *error, const char *cause, int64_t now_ms)
{
    exec__task *t = open_task(e, id, now_ms);
    if (t == NULL)
        return BT_ENOTFOUND;
    run *r = t->r;
    task_close(e, t, false, EXEC_FATE_FAILED);
    bt_fault f;
    bt_fault_init(&f);
    bt_fault_take(&f, error ? bt_xstrdup(error) : NULL, cause ? bt_xstrdup(cause) : NULL);
    hist_event *ev =
        outcome_event(r, HIST_LambdaFunctionFailed, HIST_ActivityFailed, HIST_TaskFailed);
    exec__ev_set_error(ev, &f);
    exec__handle_task_error(r, &f);
    bt_fault_fini(&f);
    exec__settle(e);
    return 0;
}
