/*
 * state_branch.c — Parallel and Map: a state whose work is a set of child runs (one per
 * branch, one per item, at most MaxConcurrency — and 40 for an inline Map — at once).
 * A child's end reports here (exec__child_done): results are kept in order; a failed
 * branch fails its Parallel with the branch's own error and aborts the others; a failed
 * item fails the Map unless within the tolerated failures. Every retry restarts all
 * children (exec__children_start runs again). A child that ends unsuccessfully stays with
 * its parent until the state is left, and kid_ok marks those that succeeded, so that a
 * redrive (redrive.c) runs again only the branches and iterations that did not succeed.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "engine/exec_int.h"

#include <math.h>
#include <stdlib.h>

/* ---- Parallel and Map -------------------------------------------------------------------- */

/* Starts child i. False when the item's input failed: the error was handled, and r may
 * be gone (handling it can end r, whose parent then frees it), so the caller must not
 * touch r again. */
static bool start_kid(run *r, size_t i)
{
    const asl_state *st = r->st;
    exec *e = r->e;
    run *k;
    if (st->type == ASL_PARALLEL) {
        k = exec__run_new(e, r, st->branches[i]);
        k->index = i;
        r->kids[i] = k;
        r->n_started++;
        r->n_running++;
        exec__run_enter_state(k, k->g->start, r->params);
        return true;
    }
    json_t *item = json_array_get(r->items, i);
    json_t *in = NULL;
    bt_fault f;
    bt_fault_init(&f);
    if (st->jn && st->jn->item_selector) {
        if (asl_jt_reads_of(st->jn->item_selector)->states & ASL_JT_CONTEXT)
            exec__build_context(r, item, i);
        exec__jvals jv = {.input = r->effective};
        if (exec__jt_eval(r, st->jn->item_selector, "ItemSelector", &jv, &in, &f) != 0 ||
            exec__check_limits(r, in, "item's input", NULL, &f) != 0) {
            json_decref(in);
            r->n_started = r->n_kids;
            exec__abort_kids(r, true);
            exec__handle_error(r, &f);
            bt_fault_fini(&f);
            return false;
        }
    } else if (st->item_selector) {
        exec__build_context(r, item, i);
        if (exec__pipeline_of(st)->arguments(r, st->item_selector, r->effective, &in, &f) != 0 ||
            exec__check_limits(r, in, "item's input", NULL, &f) != 0) {
            json_decref(in);
            in = NULL;
            r->n_started = r->n_kids; /* stop spawning; the running ones end with the Map */
            exec__abort_kids(r, true);
            exec__handle_error(r, &f);
            bt_fault_fini(&f);
            return false;
        }
    } else {
        in = json_incref(item);
    }
    if (!st->is_distributed) {
        hist_event *ev = exec__emit(r, HIST_MapIterationStarted);
        if (ev) {
            ev->name = st->name;
            ev->number = (int64_t)i;
        }
    }
    k = exec__run_new(e, r, st->processor);
    k->index = i;
    if (st->is_distributed) {
        k->quiet = true;
        k->isolated = true;
    }
    r->kids[i] = k;
    r->n_started++;
    r->n_running++;
    exec__run_enter_state(k, k->g->start, in);
    json_decref(in);
    return true;
}

/* Inline Map runs at most 40 iterations at once, whatever MaxConcurrency says
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html). */
#define MAP_INLINE_MAX_CONCURRENCY 40

static void emit_iteration(run *r, hist_type type, size_t i)
{
    if (r->st->type != ASL_MAP || r->st->is_distributed)
        return;
    hist_event *ev = exec__emit(r, type);
    if (ev) {
        ev->name = r->st->name;
        ev->number = (int64_t)i;
    }
}

/* A redriven state's child that did not succeed goes on from where it stopped. */
static void resume_kid(run *r, size_t i)
{
    r->n_started++;
    r->n_running++;
    emit_iteration(r, HIST_MapIterationStarted, i);
    exec__run_redrive(r->kids[i]);
}

/* Starts children in index order up to the concurrency limit; those that succeeded before a
 * redrive are passed over, those that did not are resumed. */
static void spawn_kids(run *r)
{
    int64_t limit = r->max_concurrency;
    if (r->st->type == ASL_MAP && !r->st->is_distributed &&
        (limit <= 0 || limit > MAP_INLINE_MAX_CONCURRENCY))
        limit = MAP_INLINE_MAX_CONCURRENCY;
    while (r->status == RUN_ACTIVE && r->n_started < r->n_kids &&
           (limit <= 0 || (int64_t)r->n_running < limit)) {
        size_t i = r->n_started;
        if (r->kid_ok[i])
            r->n_started++;
        else if (r->kids[i])
            resume_kid(r, i);
        else if (!start_kid(r, i))
            return;
    }
}

/* A Map fails once its failures exceed either tolerance; with none set, at the first. */
static bool map_tolerance_exceeded(const run *r)
{
    if (r->tolerated_count < 0 && r->tolerated_percent < 0)
        return r->n_failed > 0;
    if (r->tolerated_count >= 0 && (int64_t)r->n_failed > r->tolerated_count)
        return true;
    if (r->tolerated_percent >= 0 && r->n_kids > 0 &&
        (double)r->n_failed * 100.0 / (double)r->n_kids > r->tolerated_percent)
        return true;
    return false;
}

static void children_complete(run *r)
{
    const asl_state *st = r->st;
    if (st->type == ASL_MAP) {
        if (st->is_distributed)
            exec__emit(r, HIST_MapRunSucceeded);
        exec__emit(r, HIST_MapStateSucceeded);
    }
    exec__set_json(&r->result, json_incref(r->results));
    exec__go_exit(r);
}

void exec__child_done(run *r, run *k)
{
    const asl_state *st = r->st;
    size_t i = k->index;
    r->n_done++;
    r->n_running--;
    if (r->status != RUN_ACTIVE || r->ph != PH_CHILDREN)
        return;
    if (k->status == RUN_SUCCEEDED) {
        json_array_set(r->results, i, k->output);
        emit_iteration(r, HIST_MapIterationSucceeded, i);
        r->kids[i] = NULL;
        r->kid_ok[i] = true;
        exec__run_free(k);
    } else {
        bt_fault f; /* the child stays where it failed, for a redrive to resume it */
        bt_fault_init(&f);
        bt_fault_move(&f, &k->fault);
        if (st->type == ASL_PARALLEL) {
            exec__abort_kids(r, true);
            exec__handle_error(r, &f);
            bt_fault_fini(&f);
            return;
        }
        r->n_failed++;
        emit_iteration(r, HIST_MapIterationFailed, i);
        json_array_set_new(r->results, i, exec__error_output(&f));
        if (map_tolerance_exceeded(r) || exec__is_terminal_error(f.error, false)) {
            exec__abort_kids(r, true);
            if ((r->tolerated_count >= 0 || r->tolerated_percent >= 0) &&
                !exec__is_terminal_error(f.error, false))
                bt_fault_set(&f, "States.ExceedToleratedFailureThreshold",
                             "The specified tolerance threshold was exceeded");
            if (st->is_distributed) {
                hist_event *ev = exec__emit(r, HIST_MapRunFailed);
                exec__ev_set_error(ev, &f);
            }
            exec__handle_error(r, &f);
            bt_fault_fini(&f);
            return;
        }
        bt_fault_fini(&f);
    }
    if (r->n_done == r->n_kids) {
        children_complete(r);
        return;
    }
    spawn_kids(r);
}

/* JSONata: Items (default: the input), MaxConcurrency and the tolerated failures, each a
 * literal or an expression over $states.input. */
static int map_setup_jsonata(run *r, bt_fault *f)
{
    const asl_jfields *j = r->st->jn;
    json_t *items = NULL;
    if (j->items) {
        exec__jvals jv = {.input = r->effective};
        if (exec__jt_eval(r, j->items, "Items", &jv, &items, f) != 0)
            return BT_EFAULT;
        if (!json_is_array(items)) {
            exec__jt_type_fault(r, j->items, "Items", "array", items, f);
            json_decref(items);
            return BT_EFAULT;
        }
    } else if (!json_is_array(r->effective)) {
        char *s = exec__json_text(r->effective);
        exec__query_fault_at(r, f, "Items", "Map state input must be an array but was: %s", s);
        free(s);
        return BT_EFAULT;
    } else {
        items = json_incref(r->effective);
    }
    exec__set_json(&r->items, items);
    r->max_concurrency = 0;
    if (j->max_concurrency && exec__jt_int(r, j->max_concurrency, "MaxConcurrency", 0, INT64_MAX,
                                           &r->max_concurrency, f) != 0)
        return BT_EFAULT;
    r->tolerated_count = -1;
    if (j->tolerated_count && exec__jt_int(r, j->tolerated_count, "ToleratedFailureCount", 0,
                                           INT64_MAX, &r->tolerated_count, f) != 0)
        return BT_EFAULT;
    r->tolerated_percent = -1;
    if (j->tolerated_percent) {
        exec__jvals jv = {.input = r->effective};
        json_t *v = NULL;
        if (exec__jt_eval(r, j->tolerated_percent, "ToleratedFailurePercentage", &jv, &v, f) != 0)
            return BT_EFAULT;
        if (!json_is_number(v)) {
            exec__jt_type_fault(r, j->tolerated_percent, "ToleratedFailurePercentage", "number", v,
                                f);
            json_decref(v);
            return BT_EFAULT;
        }
        double pct = json_number_value(v);
        json_decref(v);
        if (!(pct >= 0 && pct <= 100)) {
            exec__query_fault_at(r, f, "ToleratedFailurePercentage",
                                 "ToleratedFailurePercentage must be between 0 and 100.");
            return BT_EFAULT;
        }
        r->tolerated_percent = pct;
    }
    return 0;
}

/* Parallel / Map: (re)start the children; runs again for every retry attempt. */
void exec__children_start(run *r)
{
    const asl_state *st = r->st;
    exec *e = r->e;
    bt_fault f;
    bt_fault_init(&f);
    exec__free_kids(r);

    if (st->type == ASL_PARALLEL) {
        if (exec__state_arguments(r, "branches' input", &f) != 0)
            goto error;
        exec__emit(r, HIST_ParallelStateStarted);
        r->n_kids = st->n_branches;
        r->max_concurrency = 0;
    } else if (st->jn) {
        if (st->uses_context)
            exec__build_context(r, NULL, 0);
        if (map_setup_jsonata(r, &f) != 0)
            goto error;
    } else {
        if (st->uses_context)
            exec__build_context(r, NULL, 0);
        exec__envs v;
        exec__env_init(&v, r, r->effective);
        json_t *items = NULL;
        if (st->items_path) {
            if (jpath_eval(st->items_path, &v.paths, &items) != 0) {
                exec__runtime_fault(r, &f, "Invalid path '%s' : No results for path: %s",
                                    jpath_text(st->items_path), jpath_normalized(st->items_path));
                goto error;
            }
        } else {
            items = json_incref(r->effective);
        }
        if (!json_is_array(items)) {
            char *s = exec__json_text(items);
            exec__runtime_fault(r, &f,
                                "Invalid path '%s' : The value of ItemsPath must be a JSON array, "
                                "but was: %s",
                                st->items_path ? jpath_text(st->items_path) : "$", s);
            free(s);
            json_decref(items);
            goto error;
        }
        exec__set_json(&r->items, items);
        if (exec__resolve_int(r, &st->max_concurrency, "MaxConcurrencyPath", r->effective, 0,
                              INT64_MAX, &r->max_concurrency, &f) != 0)
            goto error;
        r->tolerated_count = -1;
        if (st->tolerated_count.is_set) {
            if (exec__resolve_int(r, &st->tolerated_count, "ToleratedFailureCountPath",
                                  r->effective, INT64_MIN, INT64_MAX, &r->tolerated_count, &f) != 0)
                goto error;
            if (r->tolerated_count < 0) {
                exec__runtime_fault(r, &f, "ToleratedFailureCount cannot be negative.");
                goto error;
            }
        }
        r->tolerated_percent = -1;
        if (st->has_tolerated_percent) {
            double pct = st->tolerated_percent;
            if (st->tolerated_percent_path) {
                json_t *val = NULL;
                if (jpath_eval(st->tolerated_percent_path, &v.paths, &val) != 0) {
                    exec__runtime_fault(r, &f, "Invalid path '%s' : No results for path: %s",
                                        jpath_text(st->tolerated_percent_path),
                                        jpath_normalized(st->tolerated_percent_path));
                    goto error;
                }
                char *pend = NULL;
                double pv = 0;
                if (json_is_string(val) && json_string_length(val) > 0)
                    pv = strtod(json_string_value(val), &pend);
                if (pend && *pend == '\0' && isfinite(pv)) { /* jansson holds no NaN */
                    json_decref(val);
                    val = json_real(pv);
                }
                if (!json_is_number(val)) {
                    char *s = json_is_string(val) ? bt_xstrdup(json_string_value(val))
                                                  : exec__json_text(val);
                    exec__runtime_fault(r, &f,
                                        "The ToleratedFailurePercentagePath field refers to value "
                                        "\"%s\" which is not a valid float: %s",
                                        s, jpath_text(st->tolerated_percent_path));
                    free(s);
                    json_decref(val);
                    goto error;
                }
                pct = json_number_value(val);
                json_decref(val);
            }
            if (!(pct >= 0 && pct <= 100)) { /* NaN too */
                exec__runtime_fault(r, &f, "ToleratedFailurePercentage must be between 0 and 100.");
                goto error;
            }
            r->tolerated_percent = pct;
        }
    }
    if (st->type == ASL_MAP) {
        r->n_kids = json_array_size(r->items);
        hist_event *ev = exec__emit(r, HIST_MapStateStarted);
        if (ev)
            ev->number = (int64_t)r->n_kids;
        if (st->is_distributed) {
            ev = exec__emit(r, HIST_MapRunStarted);
            char *arn = bt_xasprintf("%s/%s:%s", e->arn, st->name, "run");
            exec__ev_extra_set(ev, "mapRunArn", json_string(arn));
            free(arn);
        }
    }
    r->kids = bt_xcalloc(r->n_kids ? r->n_kids : 1, sizeof(run *));
    r->kid_ok = bt_xcalloc(r->n_kids ? r->n_kids : 1, sizeof(bool));
    exec__set_json(&r->results, json_array());
    for (size_t i = 0; i < r->n_kids; i++)
        json_array_append_new(r->results, json_null());
    r->ph = PH_CHILDREN;
    if (r->n_kids == 0) {
        children_complete(r);
        bt_fault_fini(&f);
        return;
    }
    spawn_kids(r);
    bt_fault_fini(&f);
    return;

error:
    exec__handle_error(r, &f);
    bt_fault_fini(&f);
}

void exec__children_resume(run *r)
{
    const asl_state *st = r->st;
    exec *e = r->e;
    r->ph = PH_CHILDREN;
    r->n_started = r->n_running = r->n_failed = r->n_done = 0;
    for (size_t i = 0; i < r->n_kids; i++)
        r->n_done += r->kid_ok[i];
    if (st->type == ASL_PARALLEL) {
        exec__emit(r, HIST_ParallelStateStarted);
    } else {
        hist_event *ev = exec__emit(r, HIST_MapStateStarted);
        if (ev)
            ev->number = (int64_t)r->n_kids;
        if (st->is_distributed) {
            /* AWS's own event for a Map Run redriven with its parent (HistoryEventType). */
            ev = exec__emit(r, HIST_MapRunRedriven);
            char *arn = bt_xasprintf("%s/%s:%s", e->arn, st->name, "run");
            exec__ev_extra_set(ev, "mapRunArn", json_string(arn));
            exec__ev_extra_set(ev, "redriveCount", json_integer(e->redrive_count));
            free(arn);
        }
    }
    if (r->n_done == r->n_kids) {
        children_complete(r);
        return;
    }
    spawn_kids(r);
}

void exec__enter_Parallel(run *r)
{
    r->ph = PH_CHILDREN_START;
    exec__enqueue(r);
}

void exec__enter_Map(run *r)
{
    r->ph = PH_CHILDREN_START;
    exec__enqueue(r);
}
