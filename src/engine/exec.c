/*
 * exec.c — one execution from ExecutionStarted to its end: the ready queue, the step loop
 * with its budget, the history quota, effects, and the public entry points of exec.h.
 *
 * An execution is a tree of runs (run.c): the root walks the top-level states; Parallel and
 * Map start child runs. Ready runs are served round-robin from one FIFO, one phase per step,
 * which interleaves branches the way AWS's history shows them. Every entry point ends with
 * exec__settle, so a history that reached its quota always ends the execution there.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "engine/exec_int.h"

#include <stdlib.h>
#include <string.h>

const char *exec_status_name(exec_status s)
{
    switch (s) {
    case EXEC_RUNNING:
        return "RUNNING";
    case EXEC_SUCCEEDED:
        return "SUCCEEDED";
    case EXEC_FAILED:
        return "FAILED";
    case EXEC_TIMED_OUT:
        return "TIMED_OUT";
    case EXEC_ABORTED:
        return "ABORTED";
    }
    return "UNKNOWN";
}

/* ---- ready queue -------------------------------------------------------------------- */

void exec__dequeue_run(run *r)
{
    exec *e = r->e;
    if (!r->queued)
        return;
    if (r->q_prev)
        r->q_prev->q_next = r->q_next;
    else
        e->q_head = r->q_next;
    if (r->q_next)
        r->q_next->q_prev = r->q_prev;
    else
        e->q_tail = r->q_prev;
    r->queued = false;
    r->q_next = r->q_prev = NULL;
}

/* ---- effects and history ------------------------------------------------------------ */

void exec__effect(exec *e, exec_effect_kind kind, uint64_t id, int64_t when_ms)
{
    /* a parked execution is mostly its data: the first few effects need no allocation */
    if (e->effects == NULL) {
        e->effects = e->effects_inline;
        e->cap_effects = sizeof(e->effects_inline) / sizeof(e->effects_inline[0]);
    }
    if (e->n_effects == e->cap_effects) {
        size_t cap = e->cap_effects * 2;
        if (e->effects == e->effects_inline) {
            e->effects = bt_xmalloc(cap * sizeof(*e->effects));
            memcpy(e->effects, e->effects_inline, sizeof(e->effects_inline));
        } else {
            e->effects = bt_xrealloc(e->effects, cap * sizeof(*e->effects));
        }
        e->cap_effects = cap;
    }
    e->effects[e->n_effects++] = (exec_effect){.kind = kind, .id = id, .when_ms = when_ms};
}

void exec_take_effects(exec *e, exec_effects *out)
{
    /* The events of the previous take are no longer borrowed: this is a new call. */
    if (e->forget_taken_events && e->first_new_event > 0) {
        history_drop_first(&e->hist, e->first_new_event);
        e->first_new_event = 0;
    }
    out->events = e->hist.events + e->first_new_event;
    out->n_events = e->hist.len - e->first_new_event;
    out->items = e->effects;
    out->n_items = e->n_effects;
    e->first_new_event = e->hist.len;
    e->n_effects = 0;
}

static bool is_execution_end(hist_type t)
{
    return t == HIST_ExecutionSucceeded || t == HIST_ExecutionFailed ||
           t == HIST_ExecutionTimedOut || t == HIST_ExecutionAborted;
}

/*
 * AWS: "When an execution reaches 24,999 events, it waits for the next event to happen. If
 * the event number 25,000 is ExecutionSucceeded, the execution finishes successfully. If
 * [not], the ExecutionFailed event is logged" (bp-history-limit.html). So the last slot is
 * kept for the execution's end; any other event that would take it is refused and the
 * execution fails as soon as the current step is over (exec__finish / exec__settle).
 */
hist_event *exec__emit_last(run *r, hist_type type)
{
    exec *e = r->e;
    if (!is_execution_end(type)) {
        e->history_full = true;
        return NULL;
    }
    hist_event *ev = history_append(&e->hist, type, r->last_id, e->now_ms);
    r->last_id = ev->id;
    return ev;
}

static const char HISTORY_FULL_CAUSE[] =
    "The execution reached the maximum number of history events (%u).";

void exec__finish(exec *e, exec_status st)
{
    if (e->status != EXEC_RUNNING)
        return;
    if (e->history_full) {
        /* whatever ended the execution, its own end event was refused: the quota decides */
        st = EXEC_FAILED;
        json_decref(e->output);
        e->output = NULL;
        free(e->error);
        free(e->cause);
        e->error = bt_xstrdup("States.Runtime");
        e->cause = bt_xasprintf(HISTORY_FULL_CAUSE, e->max_events);
        hist_event *ev =
            history_append(&e->hist, HIST_ExecutionFailed, e->root->last_id, e->now_ms);
        ev->error = bt_xstrdup(e->error);
        ev->cause = bt_xstrdup(e->cause);
        e->root->last_id = ev->id;
    }
    e->status = st;
    e->stop_ms = e->now_ms;
    exec__timer_cancel(e, &e->timeout);
    if (e->root)
        exec__run_abort(e->root, false); /* the execution's own event says it all */
}

void exec__settle(exec *e)
{
    if (e->history_full && e->status == EXEC_RUNNING)
        exec__finish(e, EXEC_FAILED);
}

/* ---- time --------------------------------------------------------------------------- */

/* ---- the execution ------------------------------------------------------------------ */

exec *exec_new(asl_machine *m, json_t *input, const exec_config *cfg)
{
    exec *e = bt_xcalloc(1, sizeof(*e));
    e->m = asl_machine_ref(m);
    e->status = EXEC_RUNNING;
    e->name = bt_xstrdup(cfg->name ? cfg->name : "execution");
    e->arn = bt_xstrdup(cfg->arn ? cfg->arn : "");
    e->sm_arn = bt_xstrdup(cfg->sm_arn ? cfg->sm_arn : "");
    e->sm_name = bt_xstrdup(cfg->sm_name ? cfg->sm_name : "");
    e->role_arn = bt_xstrdup(cfg->role_arn ? cfg->role_arn : "");
    e->region = bt_xstrdup(cfg->region ? cfg->region : "us-east-1");
    e->input = json_incref(input);
    e->start_ms = e->now_ms = cfg->start_ms;
    e->max_events = cfg->max_events ? cfg->max_events : EXEC_MAX_HISTORY_EVENTS;
    if (e->max_events < 2)
        e->max_events = 2; /* room for ExecutionStarted and the end */
    history_init(&e->hist);
    bt_rand_seed(&e->rng, cfg->seed);
    e->mint_token = cfg->mint_token;
    e->forget_taken_events = cfg->forget_taken_events;
    e->express = cfg->express;
    e->mint_ctx = cfg->mint_ctx;
    bt_strmap_init(&e->by_token);
    exec__timer_init(&e->timeout, TIMER_EXECUTION_TIMEOUT, e);
    exec__context_init(e);

    exec_probe *probe = cfg->probe;
    run *r = exec__run_new(e, NULL, probe ? probe->graph : m->top);
    e->root = r;
    if (probe)
        exec__probe_begin(r, probe, input);
    hist_event *ev = exec__emit(r, HIST_ExecutionStarted);
    ev->data = json_incref(input);
    exec__ev_extra_set(ev, "roleArn", json_string(e->role_arn));
    exec__ev_extra_set(ev, "stateMachineArn", json_string(e->sm_arn));
    int64_t timeout_s = probe ? probe->timeout_s : m->timeout_s;
    if (timeout_s > 0)
        exec__timer_arm(e, &e->timeout, exec__add_ms(e->start_ms, exec__seconds_ms(timeout_s)));
    size_t depth = 0;
    size_t size = payload_measure(input, PAYLOAD_MAX_BYTES, &depth);
    if (size > PAYLOAD_MAX_BYTES || depth > BT_JSON_MAX_DEPTH) {
        bt_fault f;
        bt_fault_init(&f);
        if (size > PAYLOAD_MAX_BYTES)
            bt_fault_set(&f, "States.DataLimitExceeded",
                         "The execution input exceeds the maximum number of bytes service "
                         "limit.");
        else
            bt_fault_set(&f, "States.Runtime", "The execution input nests deeper than %d levels.",
                         BT_JSON_MAX_DEPTH);
        exec__run_fail(r, &f);
        bt_fault_fini(&f);
        return e;
    }
    exec__run_enter_state(r, probe ? probe->state : m->top->start, input);
    r->in_bound = (exec__bound){size, depth};
    return e;
}

void exec_free(exec *e)
{
    if (e == NULL)
        return;
    exec__run_free(e->root);
    exec__timer_cancel(e, &e->timeout);
    exec__tasks_fini(e);
    free(e->heap);
    if (e->effects != e->effects_inline)
        free(e->effects);
    history_fini(&e->hist);
    json_decref(e->input);
    json_decref(e->output);
    json_decref(e->ctx_execution);
    json_decref(e->ctx_machine);
    free(e->name);
    free(e->arn);
    free(e->sm_arn);
    free(e->sm_name);
    free(e->role_arn);
    free(e->region);
    free(e->error);
    free(e->cause);
    asl_machine_unref(e->m);
    free(e);
}

static void execution_timed_out(exec *e);
static void fire(exec__timer *t);

static void execution_timed_out(exec *e)
{
    exec__emit(e->root, HIST_ExecutionTimedOut);
    exec__finish(e, EXEC_TIMED_OUT);
}

static void fire(exec__timer *t)
{
    switch ((exec__timer_kind)t->kind) {
    case TIMER_RUN:
        exec__timer_fired(t->owner);
        break;
    case TIMER_TASK_TIMEOUT:
    case TIMER_TASK_HEARTBEAT:
        exec__task_timer_fired(t);
        break;
    case TIMER_EXECUTION_TIMEOUT:
        execution_timed_out(t->owner);
        break;
    }
}

static void step_ready(exec *e)
{
    run *r = e->q_head;
    exec__dequeue_run(r);
    if (r->status == RUN_ACTIVE)
        exec__step(r);
}

static bool timer_due(const exec *e, int64_t by_ms)
{
    return e->n_heap && e->heap[0]->when_ms <= by_ms;
}

/* Fires the earliest timer due by by_ms, recorded at its own time; false when none is. */
static bool fire_next_due(exec *e, int64_t by_ms)
{
    exec__timer *t = exec__timer_pop_due(e, by_ms);
    if (t == NULL)
        return false;
    if (t->when_ms > e->now_ms)
        e->now_ms = t->when_ms;
    fire(t);
    return true;
}

/*
 * Runs up to now_ms, at most max_steps steps (0: no limit); true when stopped by the budget.
 *
 * With nothing ready when called, the time since the last call is replayed in order: each
 * due timer fires at its own time, and the work it makes ready runs (at that time) before a
 * later timer — so a Wait that ended before a deadline the driver noticed late still wins
 * it. With work already waiting (a budget cut, an outcome reported since), that work is
 * late: the clock moves to now_ms and deadlines that passed meanwhile fire first.
 */
static bool run_until(exec *e, int64_t now_ms, uint32_t max_steps)
{
    bool replay = e->replaying || e->q_head == NULL; /* a cut replay goes on where it was */
    if (!replay && now_ms > e->now_ms)
        e->now_ms = now_ms;
    for (uint32_t steps = 0; e->status == EXEC_RUNNING; steps++) {
        if (max_steps && steps == max_steps) {
            e->replaying = replay; /* the budget never changes what happens, only when */
            return true;
        }
        if (replay) {
            if (e->q_head)
                step_ready(e);
            else if (!fire_next_due(e, now_ms))
                break;
        } else if (timer_due(e, e->now_ms)) {
            fire(exec__timer_pop_due(e, e->now_ms));
        } else if (e->q_head) {
            step_ready(e);
        } else {
            break;
        }
        exec__settle(e);
    }
    e->replaying = false;
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    return false;
}

/* Outcomes and stops first bring the execution up to their time, so that a deadline that
 * passed before them wins; bounded like one exec_advance call. */
#define CATCH_UP_STEPS 4096

void exec__catch_up(exec *e, int64_t now_ms)
{
    if ((e->q_head == NULL || e->replaying) && !run_until(e, now_ms, CATCH_UP_STEPS))
        return;
    /* Work is waiting (outcomes reported one after another), or the replay was too long to
     * finish here: the deadlines that passed by now_ms still come first, at their times. */
    e->replaying = false;
    while (e->status == EXEC_RUNNING && fire_next_due(e, now_ms))
        exec__settle(e);
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
}

bool exec_advance(exec *e, int64_t now_ms, uint32_t max_steps)
{
    bool cut = run_until(e, now_ms, max_steps);
    return e->status == EXEC_RUNNING && (cut || e->q_head != NULL || timer_due(e, now_ms));
}

int64_t exec_next_timer(const exec *e)
{
    return e->status == EXEC_RUNNING ? exec__timer_next(e) : INT64_MAX;
}

void exec_stop(exec *e, const char *error, const char *cause, int64_t now_ms)
{
    exec__catch_up(e, now_ms); /* a timeout already due ends the execution first */
    if (e->status != EXEC_RUNNING)
        return;
    bt_fault f; /* capped at AWS's lengths like every other error */
    bt_fault_init(&f);
    bt_fault_take(&f, error ? bt_xstrdup(error) : NULL, cause ? bt_xstrdup(cause) : NULL);
    hist_event *ev = exec__emit(e->root, HIST_ExecutionAborted);
    exec__ev_set_error(ev, &f);
    e->error = f.error;
    e->cause = f.cause;
    exec__finish(e, EXEC_ABORTED);
}

exec_status exec_get_status(const exec *e)
{
    return e->status;
}

const asl_machine *exec_machine(const exec *e)
{
    return e->m;
}

const char *exec_arn(const exec *e)
{
    return e->arn;
}

json_t *exec_output(const exec *e)
{
    return e->output;
}

const char *exec_error(const exec *e)
{
    return e->error;
}

const char *exec_cause(const exec *e)
{
    return e->cause;
}

int64_t exec_start_ms(const exec *e)
{
    return e->start_ms;
}

int64_t exec_stop_ms(const exec *e)
{
    return e->stop_ms;
}

const history *exec_history(const exec *e)
{
    return &e->hist;
}

uint64_t exec_n_events(const exec *e)
{
    return e->hist.base + e->hist.len;
}

uint64_t exec_n_transitions(const exec *e)
{
    return e->n_transitions;
}
