/*
 * redrive.c — RedriveExecution in the engine: an execution that ended FAILED, TIMED_OUT or
 * ABORTED goes on from the state that did not succeed. The runs keep what a redrive needs
 * when they end: the state each stopped in and its raw input (run.c), and a Parallel or Map
 * its children that did not succeed (state_branch.c). So a redrive records
 * ExecutionRedriven, then re-enters that state with the same input — or, for a Parallel or
 * Map whose children had started, resumes only the children that did not succeed, each
 * from the state it stopped in, recursively.
 *
 * AWS (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html):
 * "it continues the failed execution from the unsuccessful step and uses the same input.
 * Step Functions preserves the results and execution history of the successful steps, and
 * doesn't rerun these steps"; "For workflows that include an Inline Map or Parallel state,
 * RedriveExecution API action reschedules and redrives only the iterations and branches that
 * failed or aborted." Retry counters start over (the Developer Guide's redrive-executions.html:
 * the retry attempts are reset).
 */
#include "base/alloc.h"
#include "base/err.h"
#include "engine/exec_int.h"

#include <stdlib.h>

/* The state is entered again, as the history of a redrive shows it: its Entered event with
 * the input it had the first time. */
static void record_reentry(run *r)
{
    exec *e = r->e;
    e->n_transitions++;
    r->entered_ms = e->now_ms;
    hist_event *ev = exec__emit(r, exec__state_types[r->st->type].entered);
    if (ev) {
        ev->name = r->st->name;
        ev->data = json_incref(r->input);
        r->entered_id = ev->id;
    }
}

static bool has_children(const run *r)
{
    return r->kids != NULL && (r->st->type == ASL_PARALLEL || r->st->type == ASL_MAP);
}

void exec__run_redrive(run *r)
{
    r->status = RUN_ACTIVE;
    bt_fault_fini(&r->fault);
    bt_fault_init(&r->fault);
    if (has_children(r)) {
        /* The state's own work (InputPath, Parameters, ItemsPath) succeeded: its children
         * hold what did not. Its retries start over like any other state's. */
        free(r->retry_counts);
        r->retry_counts = NULL;
        r->retry_count = 0;
        r->is_catch = false;
        r->exit_assign = NULL;
        r->j_exit_set = false;
        record_reentry(r);
        exec__children_resume(r);
        return;
    }
    json_t *input = json_incref(r->input);
    exec__run_enter_state(r, r->st->index, input);
    json_decref(input);
}

bool exec_redrivable(const exec *e)
{
    if (e->status != EXEC_FAILED && e->status != EXEC_TIMED_OUT && e->status != EXEC_ABORTED)
        return false;
    /* An execution whose input was refused never entered a state: there is none to resume. */
    if (e->probe != NULL || e->root == NULL || e->root->st == NULL || e->history_full)
        return false;
    return exec_n_events(e) + 1 < e->max_events;
}

int64_t exec_redrive_count(const exec *e)
{
    return e->redrive_count;
}

/* $$.Execution.RedriveCount and RedriveTime; the old object may be shared by contexts. */
static void update_context(exec *e)
{
    json_t *x = json_copy(e->ctx_execution);
    json_object_set_new(x, "RedriveCount", json_integer(e->redrive_count));
    json_object_set_new(x, "RedriveTime", exec__time_string(e->now_ms));
    exec__set_json(&e->ctx_execution, x);
}

int exec_redrive(exec *e, int64_t now_ms)
{
    if (!exec_redrivable(e))
        return BT_ESTATE;
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    e->redrive_count++;
    e->status = EXEC_RUNNING;
    e->stop_ms = 0;
    free(e->error);
    free(e->cause);
    e->error = e->cause = NULL;
    update_context(e);
    run *root = e->root;
    hist_event *ev = exec__emit(root, HIST_ExecutionRedriven);
    exec__ev_extra_set(ev, "redriveCount", json_integer(e->redrive_count));
    /* A timed-out execution would otherwise time out again at once: the machine's
     * TimeoutSeconds counts from the redrive. */
    if (e->m->timeout_s > 0)
        exec__timer_arm(e, &e->timeout, exec__add_ms(e->now_ms, exec__seconds_ms(e->m->timeout_s)));
    exec__run_redrive(root);
    exec__settle(e);
    return 0;
}
