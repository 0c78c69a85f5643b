/*
 * run.c — runs: entering and leaving states, errors, and the end of a run.
 *
 * A run walks one graph (the top level, a Parallel branch, a Map iteration) and advances
 * one phase per step (exec__step), served round-robin from the execution's ready queue:
 *
 *   ENTER --(Pass/Choice/Succeed)----------------------------> EXIT --> next state / end
 *     |----(Task)----> TASK_START --> TASK_WAIT --outcome----> EXIT
 *     |----(Wait)----> WAIT_TIMER --due------------------------> EXIT
 *     |----(Parallel/Map)--> CHILDREN_START --> CHILDREN --all done--> EXIT
 *     `----(Fail) ----------------------------------------------> exec__run_fail()
 *   any error --> exec__handle_error(): Retry (RETRY_TIMER --> TASK_START/CHILDREN_START),
 *                 Catch (EXIT to the catcher's Next), or exec__run_fail().
 *
 * Runs own references to their data; a run owns its timer and open task and cancels both
 * before it changes state or is freed, so nothing outside it can point at a freed run.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "base/json.h"
#include "engine/exec_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AWS records no exit event for a Fail state: its Exited entry in the table is empty. */
#define HIST_FailStateExited HIST_N_TYPES

const exec__state_type exec__state_types[ASL_N_STATE_TYPES] = {
#define ASL_STATE(e, name)                                                                         \
    [ASL_##e] = {HIST_##name##StateEntered, HIST_##name##StateExited, exec__enter_##name},
#include "asl/states.def"
#undef ASL_STATE
};

/* ---- small helpers ------------------------------------------------------------------ */

void exec__ev_set_data(hist_event *ev, json_t *data)
{
    if (ev)
        ev->data = json_incref(data);
}

void exec__ev_set_error(hist_event *ev, const bt_fault *f)
{
    if (ev == NULL)
        return;
    ev->error = f->error ? bt_xstrdup(f->error) : NULL;
    ev->cause = f->cause ? bt_xstrdup(f->cause) : NULL;
}

void exec__ev_extra_set(hist_event *ev, const char *key, json_t *v)
{
    if (ev == NULL) {
        json_decref(v);
        return;
    }
    if (ev->extra == NULL)
        ev->extra = json_object();
    json_object_set_new(ev->extra, key, v);
}

char *exec__json_text(const json_t *v)
{
    char *s = bt_json_dumps(v);
    if (s == NULL)
        s = bt_xasprintf("<a value nested deeper than %d levels>", BT_JSON_MAX_DEPTH);
    return s;
}

/* ---- errors ------------------------------------------------------------------------- */

void exec__runtime_fault(run *r, bt_fault *f, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    char *detail = bt_xmalloc(len + 1); /* at its real length: never cut mid-way */
    vsnprintf(detail, len + 1, fmt, ap2);
    va_end(ap2);
    bt_fault_set(f, "States.Runtime",
                 "An error occurred while executing the state '%s' (entered at the event id "
                 "#%u). %s",
                 r->st->name, r->entered_id, detail);
    free(detail);
}

void exec__locate_fault(run *r, bt_fault *f)
{
    if (f->error && strcmp(f->error, "States.Runtime") == 0 && f->cause &&
        strncmp(f->cause, "An error occurred while executing", 33) != 0) {
        char *c = f->cause;
        f->cause = NULL;
        exec__runtime_fault(r, f, "%s", c);
        free(c);
    }
}

int exec__check_limits(run *r, json_t *v, const char *what, exec__bound *measured, bt_fault *f)
{
    size_t depth = 0;
    size_t size = payload_measure(v, PAYLOAD_MAX_BYTES, &depth);
    if (measured)
        *measured = (exec__bound){size, depth};
    if (size > PAYLOAD_MAX_BYTES) {
        if (what == NULL)
            return bt_fault_set(f, "States.DataLimitExceeded",
                                "The state/task '%s' returned a result with a size exceeding "
                                "the maximum number of bytes service limit.",
                                r->st->name);
        return bt_fault_set(f, "States.DataLimitExceeded",
                            "The %s of the state '%s' exceed the maximum number of bytes "
                            "service limit.",
                            what, r->st->name);
    }
    if (depth <= BT_JSON_MAX_DEPTH)
        return 0;
    /* It could be neither stored nor returned: fail loudly rather than change it. */
    if (what == NULL)
        exec__runtime_fault(r, f, "The state's output nests deeper than %d levels.",
                            BT_JSON_MAX_DEPTH);
    else
        exec__runtime_fault(r, f, "The %s nest deeper than %d levels.", what, BT_JSON_MAX_DEPTH);
    return BT_EFAULT;
}

int exec__state_arguments(run *r, const char *what, bt_fault *f)
{
    const asl_state *st = r->st;
    if (st->uses_context)
        exec__build_context(r, NULL, 0);
    json_t *args = NULL;
    if (exec__pipeline_of(st)->arguments(r, st->parameters, r->effective, &args, f) != 0)
        return BT_EFAULT;
    exec__set_json(&r->params, args);
    return exec__check_limits(r, args, what, NULL, f);
}

int exec__resolve_int(run *r, const asl_intopt *o, const char *field, json_t *in, int64_t lo,
                      int64_t hi, int64_t *out, bt_fault *f)
{
    if (!o->path) {
        *out = o->value;
        return 0;
    }
    exec__envs v;
    exec__env_init(&v, r, in);
    json_t *val = NULL;
    if (jpath_eval(o->path, &v.paths, &val) != 0) {
        exec__runtime_fault(r, f, "Invalid path '%s' : No results for path: %s",
                            jpath_text(o->path), jpath_normalized(o->path));
        return BT_EFAULT;
    }
    int rc = 0;
    char *end = NULL;
    long long parsed = 0;
    bool ok = true;
    int64_t x = 0;
    if (json_is_string(val) && json_string_length(val) > 0) /* AWS parses numeric strings */
        parsed = strtoll(json_string_value(val), &end, 10);
    if (json_is_integer(val)) {
        x = json_integer_value(val);
    } else if (json_is_real(val) && json_real_value(val) == floor(json_real_value(val)) &&
               fabs(json_real_value(val)) < 9.2e18) {
        x = (int64_t)json_real_value(val);
    } else if (end && *end == '\0') {
        x = (int64_t)parsed;
    } else {
        ok = false;
    }
    if (!ok) {
        char *s = json_is_string(val) ? bt_xstrdup(json_string_value(val)) : exec__json_text(val);
        exec__runtime_fault(r, f,
                            "The %s field refers to value \"%s\" which is not a valid integer: %s",
                            field, s, jpath_text(o->path));
        free(s);
        rc = BT_EFAULT;
    } else if (x < lo || x > hi) {
        exec__runtime_fault(r, f,
                            "The %s field refers to value \"%lld\" which is out of range: it "
                            "must be between %lld and %lld: %s",
                            field, (long long)x, (long long)lo, (long long)hi, jpath_text(o->path));
        rc = BT_EFAULT;
    } else {
        *out = x;
    }
    json_decref(val);
    return rc;
}

/* ---- run lifecycle ------------------------------------------------------------------ */

run *exec__run_new(exec *e, run *parent, const asl_graph *g)
{
    run *r = bt_xcalloc(1, sizeof(*r));
    r->e = e;
    r->parent = parent;
    r->g = g;
    r->status = RUN_ACTIVE;
    r->tolerated_count = -1;
    r->tolerated_percent = -1;
    r->in_bound = BOUND_UNKNOWN;
    exec__timer_init(&r->timer, TIMER_RUN, r);
    bt_fault_init(&r->fault);
    if (parent) {
        r->quiet = parent->quiet;
        r->last_id = parent->last_id;
    }
    return r;
}

void exec__free_kids(run *r)
{
    for (size_t i = 0; i < r->n_kids; i++)
        if (r->kids[i])
            exec__run_free(r->kids[i]);
    free(r->kids);
    free(r->kid_ok);
    r->kids = NULL;
    r->kid_ok = NULL;
    r->n_kids = r->n_started = r->n_done = r->n_failed = r->n_running = 0;
}

/* Forgets everything of the current state: its timer and task are cancelled first. */
static void run_clear_state(run *r)
{
    exec__timer_cancel(r->e, &r->timer);
    exec__task_cancel(r);
    exec__set_json(&r->effective, NULL);
    exec__set_json(&r->params, NULL);
    exec__set_json(&r->result, NULL);
    exec__set_json(&r->ctx, NULL);
    exec__set_json(&r->assign_input, NULL);
    free(r->retry_counts);
    r->retry_counts = NULL;
    r->retry_count = 0;
    r->task_mem.token[0] = '\0';
    r->is_catch = false;
    r->exit_assign = NULL;
    r->j_exit_set = false;
    exec__free_kids(r);
    exec__set_json(&r->items, NULL);
    exec__set_json(&r->results, NULL);
}

void exec__run_free(run *r)
{
    if (r == NULL)
        return;
    exec__dequeue_run(r);
    run_clear_state(r);
    exec__set_json(&r->input, NULL);
    exec__set_json(&r->output, NULL);
    r->e->vars_bytes -= r->vars_bytes; /* its scope goes with it */
    exec__set_json(&r->vars, NULL);
    bt_fault_fini(&r->fault);
    free(r);
}

void exec__abort_kids(run *r, bool record)
{
    for (size_t i = 0; i < r->n_kids; i++)
        if (r->kids[i])
            exec__run_abort(r->kids[i], record);
}

void exec__run_abort(run *r, bool record)
{
    if (r->status != RUN_ACTIVE)
        return;
    r->status = RUN_ABORTED;
    exec__dequeue_run(r);
    exec__abort_kids(r, record);
    exec__timer_cancel(r->e, &r->timer);
    exec__task_cancel(r);
    if (record && r->st && !r->quiet) {
        hist_type t = HIST_N_TYPES;
        if (r->ph == PH_TASK_WAIT || r->ph == PH_TASK_START)
            t = HIST_TaskStateAborted;
        else if (r->ph == PH_WAIT_TIMER)
            t = HIST_WaitStateAborted;
        else if (r->ph == PH_CHILDREN)
            t = r->st->type == ASL_MAP ? HIST_MapStateAborted : HIST_ParallelStateAborted;
        if (t != HIST_N_TYPES)
            exec__emit(r, t);
    }
}

void exec__run_succeed(run *r, json_t *output)
{
    r->status = RUN_SUCCEEDED;
    r->ph = PH_DONE;
    exec__set_json(&r->output, json_incref(output));
    exec *e = r->e;
    if (r->parent == NULL) {
        bt_fault f;
        bt_fault_init(&f);
        if (exec__check_limits(r, output, NULL, NULL, &f) != 0) {
            r->status = RUN_ACTIVE;
            exec__run_fail(r, &f);
            bt_fault_fini(&f);
            return;
        }
        hist_event *ev = exec__emit(r, HIST_ExecutionSucceeded);
        exec__ev_set_data(ev, output);
        e->output = json_incref(output);
        exec__finish(e, EXEC_SUCCEEDED);
        return;
    }
    exec__child_done(r->parent, r);
}

void exec__run_fail(run *r, bt_fault *f)
{
    /* AWS records a branch's failed Task as aborted by its Parallel before the Parallel fails */
    if (r->parent && r->parent->st && r->parent->st->type == ASL_PARALLEL && r->st &&
        r->st->type == ASL_TASK)
        exec__emit(r, HIST_TaskStateAborted);
    r->status = RUN_FAILED;
    r->ph = PH_DONE;
    exec__timer_cancel(r->e, &r->timer);
    exec__task_cancel(r);
    bt_fault_move(&r->fault, f);
    exec *e = r->e;
    if (r->parent == NULL) {
        hist_event *ev = exec__emit(r, HIST_ExecutionFailed);
        exec__ev_set_error(ev, &r->fault);
        free(e->error);
        free(e->cause);
        e->error = r->fault.error ? bt_xstrdup(r->fault.error) : NULL;
        e->cause = r->fault.cause ? bt_xstrdup(r->fault.cause) : NULL;
        exec__finish(e, EXEC_FAILED);
        return;
    }
    exec__child_done(r->parent, r);
}

/* ---- entering and leaving states ---------------------------------------------------- */

void exec__run_enter_state(run *r, size_t index, json_t *input)
{
    run_clear_state(r);
    r->st = r->g->states[index];
    exec__set_json(&r->input, json_incref(input));
    r->in_bound = BOUND_UNKNOWN;
    r->ph = PH_ENTER;
    exec__enqueue(r);
}

void exec__go_exit(run *r)
{
    r->ph = PH_EXIT;
    exec__enqueue(r);
}

static void state_enter(run *r)
{
    exec *e = r->e;
    const asl_state *st = r->st;
    const exec__state_type *type = &exec__state_types[st->type];
    e->n_transitions++;
    r->entered_ms = e->now_ms;
    hist_event *ev = exec__emit(r, type->entered);
    if (ev) {
        ev->name = st->name;
        ev->data = json_incref(r->input);
        r->entered_id = ev->id;
    } else {
        r->entered_id = 0;
    }
    if (st->uses_context)
        exec__build_context(r, NULL, 0);
    bt_fault f;
    bt_fault_init(&f);
    if (exec__pipeline_of(st)->input(r, &f) != 0) {
        exec__handle_error(r, &f);
        bt_fault_fini(&f);
        return;
    }
    if (exec__probing(r)) {
        exec__probe_entered(r);
        if (exec__probe_mocked(r))
            return;
    }
    type->enter(r);
}

static json_t *assigned_details(json_t *assigned)
{
    json_t *av = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(assigned, k, v)
    {
        char *text = exec__json_text(v);
        json_object_set_new(av, k, json_string(text));
        free(text);
    }
    return av;
}

/* How the execution's variable bytes change when r's scope takes assigned. Each value is
 * within 256 KiB already (the Assign's own limit), so measuring is exact and bounded. */
static int64_t vars_delta(run *r, json_t *assigned)
{
    int64_t delta = 0;
    const char *k;
    json_t *v;
    json_object_foreach(assigned, k, v)
    {
        json_t *old = r->vars ? json_object_get(r->vars, k) : NULL;
        if (old)
            delta -= (int64_t)payload_size_capped(old, PAYLOAD_MAX_BYTES);
        delta += (int64_t)payload_size_capped(v, PAYLOAD_MAX_BYTES);
    }
    return delta;
}

/* The state is done: result (or catcher output) → ResultSelector → ResultPath → OutputPath,
 * Assign, the limits, Exited event, then the next state or the end of the run. */
static void state_exit(run *r)
{
    const asl_state *st = r->st;
    const exec__pipeline *pl = exec__pipeline_of(st);
    bt_fault f;
    bt_fault_init(&f);
    json_t *out = NULL, *assigned = NULL;
    size_t next = st->type == ASL_CHOICE ? r->next : st->next;
    exec__bound bound = BOUND_UNKNOWN;

    if (r->is_catch) {
        out = json_incref(r->result); /* final once the catcher's ResultPath is applied */
        next = r->next;
    } else if (pl->result(r, &out, &bound, &f) != 0) {
        goto error;
    } else if (exec__probing(r)) {
        exec__probe_result(r, out);
    }

    const payload *assign = r->exit_assign;
    if (assign == NULL && !r->is_catch && st->type != ASL_CHOICE)
        assign = st->assign;
    if (assign || st->jn) {
        json_t *ain = r->assign_input ? r->assign_input : r->effective;
        if (pl->assign(r, assign, ain, &assigned, &f) != 0 ||
            (assigned && exec__check_limits(r, assigned, "assigned variables", NULL, &f) != 0))
            goto error;
    }
    if (!r->is_catch) {
        json_t *o2 = NULL;
        if (pl->output(r, out, &o2, &bound, &f) != 0)
            goto error;
        json_decref(out);
        out = o2;
    }
    if (bound.size > PAYLOAD_MAX_BYTES || bound.depth > BT_JSON_MAX_DEPTH) {
        if (exec__check_limits(r, out, NULL, &bound, &f) != 0)
            goto error;
    }
    if (assigned) {
        int64_t delta = vars_delta(r, assigned);
        if (r->e->vars_bytes + delta > EXEC_MAX_VARIABLE_BYTES) {
            bt_fault_set(&f, "States.DataLimitExceeded",
                         "The variables of the execution would exceed the maximum of %lld "
                         "bytes after the state '%s' assigns them.",
                         (long long)EXEC_MAX_VARIABLE_BYTES, st->name);
            goto error;
        }
        r->e->vars_bytes += delta;
        r->vars_bytes += delta;
        if (r->vars == NULL)
            r->vars = json_object();
        json_object_update(r->vars, assigned);
    }
    hist_type exited = exec__state_types[st->type].exited;
    if (exited != HIST_N_TYPES) {
        hist_event *ev = exec__emit(r, exited);
        if (ev) {
            ev->name = st->name;
            ev->data = json_incref(out);
            if (assigned) {
                exec__ev_extra_set(ev, "assignedVariables", assigned_details(assigned));
                json_t *det = json_object();
                json_object_set_new(det, "truncated", json_false());
                exec__ev_extra_set(ev, "assignedVariablesDetails", det);
            }
        }
    }
    json_decref(assigned);
    if (st->type == ASL_SUCCEED)
        next = ASL_NO_STATE;
    if (exec__probing(r))
        exec__probe_exit(r, next); /* and the run ends here */
    if (next == ASL_NO_STATE || exec__probing(r)) {
        exec__run_succeed(r, out);
        json_decref(out);
        return;
    }
    exec__run_enter_state(r, next, out);
    r->in_bound = bound;
    json_decref(out);
    return;

error:
    json_decref(out);
    json_decref(assigned);
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
}

/* ---- error handling: Retry, Catch, fail --------------------------------------------- */

static void handle_error(run *r, bt_fault *f, bool task_result);

void exec__handle_error(run *r, bt_fault *f)
{
    handle_error(r, f, false);
}

void exec__handle_task_error(run *r, bt_fault *f)
{
    handle_error(r, f, true);
}

static void handle_error(run *r, bt_fault *f, bool task_result)
{
    const asl_state *st = r->st;
    exec *e = r->e;
    if (r->status != RUN_ACTIVE)
        return;
    if (exec__probing(r))
        exec__probe_seed_retries(r, f->error);
    int i = exec__retry_pick(st, r->retry_counts, f->error, task_result);
    if (i >= 0) {
        if (r->retry_counts == NULL)
            r->retry_counts = bt_xcalloc(st->n_retriers, sizeof(int64_t));
        const asl_retrier *rt = &st->retriers[i];
        double jitter = rt->jitter_full ? bt_rand_double(&e->rng) : 1.0;
        int64_t delay = exec__retry_delay_ms(rt, r->retry_counts[i], jitter);
        r->retry_counts[i]++;
        r->retry_count++;
        if (exec__probing(r)) {
            exec__probe_retry(r, i, delay, f);
            exec__run_fail(r, f);
            return;
        }
        exec__task_cancel(r);
        r->ph = PH_RETRY_TIMER;
        exec__timer_arm(e, &r->timer, exec__add_ms(e->now_ms, delay));
        return;
    }
    if (st->type == ASL_MAP)
        exec__emit(r, HIST_MapStateFailed);
    else if (st->type == ASL_PARALLEL)
        exec__emit(r, HIST_ParallelStateFailed);
    const asl_catcher *c = exec__catch_pick(st, f->error, task_result);
    if (c == NULL) {
        exec__run_fail(r, f);
        return;
    }
    if (exec__probing(r))
        exec__probe_caught(r, (size_t)(c - st->catchers), f);
    json_t *eo = exec__error_output(f);
    json_t *out = NULL;
    bt_fault g;
    bt_fault_init(&g);
    if (exec__pipeline_of(st)->catch_result(r, c, eo, &out, &g) != 0) {
        json_decref(eo);
        exec__run_fail(r, &g);
        bt_fault_fini(&g);
        return;
    }
    exec__task_cancel(r);
    exec__timer_cancel(e, &r->timer);
    exec__set_json(&r->result, out);
    exec__set_json(&r->assign_input, eo);
    r->is_catch = true;
    r->next = c->next;
    r->exit_assign = c->assign;
    r->j_exit_set = true;
    r->j_exit_assign = c->jassign;
    r->j_exit_output = NULL;
    exec__go_exit(r);
}

/* ---- one step ----------------------------------------------------------------------- */

void exec__step(run *r)
{
    switch (r->ph) {
    case PH_ENTER:
        state_enter(r);
        break;
    case PH_EXIT:
        state_exit(r);
        break;
    case PH_TASK_START:
        exec__task_start(r);
        break;
    case PH_CHILDREN_START:
        exec__children_start(r);
        break;
    case PH_TASK_WAIT:
    case PH_WAIT_TIMER:
    case PH_RETRY_TIMER:
    case PH_CHILDREN:
    case PH_DONE:
        break;
    }
}

void exec__timer_fired(run *r)
{
    switch (r->ph) {
    case PH_WAIT_TIMER:
        exec__go_exit(r);
        break;
    case PH_RETRY_TIMER:
        r->ph = r->st->type == ASL_TASK ? PH_TASK_START : PH_CHILDREN_START;
        exec__enqueue(r);
        break;
    default:
        break;
    }
}
