/*
 * probe.c — one state run on its own (exec_probe, exec.h), for the server's TestState. The
 * root run of a probe enters the chosen state of any graph; the hooks in run.c, state_flow.c
 * and task.c call in here at each payload step, so a probe sees the same values an execution
 * computes and never a second evaluation. When the state leaves, the run ends there: its next
 * state is noted and never entered, a Retry reports its back-off instead of waiting it, and a
 * Catch still applies its ResultPath so that the output is the one the catcher passes on.
 */
#include "base/alloc.h"
#include "engine/exec_int.h"

#include <stdlib.h>

void exec_probe_fini(exec_probe *p)
{
    if (p == NULL)
        return;
    json_decref(p->input);
    json_decref(p->after_input_path);
    json_decref(p->after_parameters);
    json_decref(p->result);
    json_decref(p->after_result_selector);
    json_decref(p->after_result_path);
    json_decref(p->variables_after);
    free(p->error);
    free(p->cause);
}

void exec__probe_begin(run *r, exec_probe *p, json_t *input)
{
    r->e->probe = p;
    p->status = EXEC_PROBE_FAILED;
    p->retry_index = p->catch_index = -1;
    p->input = json_incref(input);
    if (p->variables == NULL || json_object_size(p->variables) == 0)
        return;
    /* the scope is updated in place by Assign: it gets its own object */
    r->vars = json_copy(p->variables);
    const char *k;
    json_t *v;
    json_object_foreach(r->vars, k, v)
    {
        (void)k;
        r->vars_bytes += (int64_t)payload_size_capped(v, PAYLOAD_MAX_BYTES);
    }
    r->e->vars_bytes += r->vars_bytes;
}

static void keep(json_t **slot, json_t *v)
{
    exec__set_json(slot, json_incref(v));
}

void exec__probe_entered(run *r)
{
    keep(&r->e->probe->after_input_path, r->effective);
}

void exec__probe_arguments(run *r, json_t *args)
{
    keep(&r->e->probe->after_parameters, args);
}

void exec__probe_result(run *r, json_t *after_path)
{
    exec_probe *p = r->e->probe;
    keep(&p->result, r->result);
    keep(&p->after_result_selector, r->assign_input);
    keep(&p->after_result_path, after_path);
}

void exec__probe_exit(run *r, size_t next)
{
    exec_probe *p = r->e->probe;
    p->status = r->is_catch ? EXEC_PROBE_CAUGHT_ERROR : EXEC_PROBE_SUCCEEDED;
    p->next_state = next == ASL_NO_STATE ? NULL : r->g->states[next]->name;
    if (r->vars && json_object_size(r->vars) > 0)
        exec__set_json(&p->variables_after, json_copy(r->vars));
}

void exec__probe_seed_retries(run *r, const char *error)
{
    exec_probe *p = r->e->probe;
    if (p->retrier_retry_count <= 0 || r->retry_counts != NULL)
        return;
    int i = exec__retry_pick(r->st, NULL, error, false);
    if (i < 0)
        return;
    r->retry_counts = bt_xcalloc(r->st->n_retriers, sizeof(int64_t));
    r->retry_counts[i] = p->retrier_retry_count;
    r->retry_count = p->retrier_retry_count;
}

static void keep_fault(exec_probe *p, const bt_fault *f)
{
    free(p->error);
    free(p->cause);
    p->error = f->error ? bt_xstrdup(f->error) : NULL;
    p->cause = f->cause ? bt_xstrdup(f->cause) : NULL;
}

void exec__probe_retry(run *r, int index, int64_t delay_ms, const bt_fault *f)
{
    exec_probe *p = r->e->probe;
    p->status = EXEC_PROBE_RETRIABLE;
    p->retry_index = index;
    p->retry_backoff_ms = delay_ms;
    keep_fault(p, f);
}

void exec__probe_caught(run *r, size_t index, const bt_fault *f)
{
    exec_probe *p = r->e->probe;
    p->catch_index = (int)index;
    keep_fault(p, f);
}

bool exec__probe_mocked(run *r)
{
    exec_probe *p = r->e->probe;
    if (!p->has_mock || (r->st->type != ASL_MAP && r->st->type != ASL_PARALLEL))
        return false;
    if (p->mock_error == NULL) {
        exec__set_json(&r->result, json_incref(p->mock_result));
        exec__go_exit(r);
        return true;
    }
    bt_fault f;
    bt_fault_init(&f);
    bt_fault_take(&f, bt_xstrdup(p->mock_error), p->mock_cause ? bt_xstrdup(p->mock_cause) : NULL);
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
    return true;
}
