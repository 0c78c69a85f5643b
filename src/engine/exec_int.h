/*
 * exec_int.h — the engine's private contract: the execution and run records and the
 * helpers the engine's files share (double-underscore prefix). Included only by
 * the engine's own files; everything outside the engine goes through exec.h.
 *
 * Files: exec.c (lifecycle, ready queue, effects, the step loop), timer.c (indexed heap),
 * task.c (tasks and tokens), retry.c (Retry/Catch as pure functions), run.c (runs, entering
 * and leaving states, errors), pipeline.c (payload processing of a query language),
 * context.c (the context object and variables), state_flow.c (Pass, Choice, Wait,
 * Succeed, Fail), state_branch.c (Parallel, Map), redrive.c (RedriveExecution).
 */
#ifndef BT_ENGINE_EXEC_INT_H
#define BT_ENGINE_EXEC_INT_H

#include "base/fault.h"
#include "base/rand.h"
#include "base/strmap.h"
#include "engine/exec.h"
#include "path/intrinsics.h"
#include "path/jsonpath.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct run run;

/* ---- timers (timer.c): an indexed min-heap; an entry knows its position, so cancelling
 * removes it at once and nothing in the heap can outlive its owner. */

typedef enum exec__timer_kind {
    TIMER_RUN,               /* owner run: Wait, Retry back-off */
    TIMER_TASK_TIMEOUT,      /* owner task: TimeoutSeconds */
    TIMER_TASK_HEARTBEAT,    /* owner task: HeartbeatSeconds */
    TIMER_EXECUTION_TIMEOUT, /* owner exec: the machine's TimeoutSeconds */
} exec__timer_kind;

#define TIMER_NOT_ARMED UINT32_MAX

typedef struct exec__timer {
    int64_t when_ms;
    uint64_t id;  /* new at every arming, increasing: names the timer in effects, and ties
                   * fire in arming order */
    void *owner;  /* run, task or exec, by kind */
    uint32_t pos; /* index in the heap; TIMER_NOT_ARMED when not armed */
    uint8_t kind; /* exec__timer_kind */
} exec__timer;

void exec__timer_init(exec__timer *t, exec__timer_kind kind, void *owner);
/* Arms (or re-arms) t at when_ms; records TIMER_ARM. */
void exec__timer_arm(exec *e, exec__timer *t, int64_t when_ms);
/* Disarms t if armed; records TIMER_CANCEL. */
void exec__timer_cancel(exec *e, exec__timer *t);
static inline bool exec__timer_armed(const exec__timer *t)
{
    return t->pos != TIMER_NOT_ARMED;
}
/* Removes and returns the earliest timer due at or before now_ms, or NULL. */
exec__timer *exec__timer_pop_due(exec *e, int64_t now_ms);
int64_t exec__timer_next(const exec *e);

/* ---- tasks (task.c) ---- */

/* A task token: 192 random bits in base64url (32 characters), or the driver's (exec.h). */
#define EXEC__TOKEN_SIZE EXEC_TOKEN_MAX

struct exec__fate {
    uint64_t id;
    int64_t when_ms;
    const char *state_name;
    int64_t attempt;
    exec_task_fate_kind kind;
};

typedef struct exec__task {
    integ_task pub;
    run *r;
    char token[EXEC__TOKEN_SIZE];
    exec__timer timeout, heartbeat;
    bool is_started; /* an activity's task handed to a worker (exec_task_started) */
} exec__task;

/* ---- runs ---- */

typedef enum phase {
    PH_ENTER,
    PH_EXIT,
    PH_TASK_START,
    PH_TASK_WAIT,
    PH_WAIT_TIMER,
    PH_RETRY_TIMER,
    PH_CHILDREN_START,
    PH_CHILDREN,
    PH_DONE,
} phase;

typedef enum run_status { RUN_ACTIVE, RUN_SUCCEEDED, RUN_FAILED, RUN_ABORTED } run_status;

/* An upper bound of a document's serialised size and nesting depth, kept without walking
 * the whole document: the limit checks then walk only what is new on most transitions. */
typedef struct exec__bound {
    size_t size;
    size_t depth;
} exec__bound;

#define BOUND_UNKNOWN ((exec__bound){SIZE_MAX, SIZE_MAX})

struct run {
    exec *e;
    run *parent;
    const asl_graph *g;
    const asl_state *st;
    phase ph;
    run_status status;
    bool queued;
    bool quiet;           /* events not recorded (distributed Map children) */
    bool isolated;        /* cannot read outer variables (distributed Map children) */
    run *q_next, *q_prev; /* ready queue links */
    size_t index;         /* branch or item index within the parent */

    json_t *input;              /* raw input of the current state */
    json_t *effective;          /* after InputPath (and Parameters for Pass) */
    json_t *params;             /* Task/Parallel: after Parameters */
    json_t *result;             /* raw result */
    json_t *output;             /* final output of the run (when it ends) */
    exec__bound in_bound;       /* bound of the input */
    json_t *vars;               /* this run's variable scope (object) or NULL */
    int64_t vars_bytes;         /* serialised size of the values in vars */
    json_t *ctx;                /* context object of the current state, or NULL */
    size_t next;                /* state chosen by Choice / Catch */
    bool is_catch;              /* EXIT comes from a catcher: result is already the output */
    const payload *exit_assign; /* Assign to apply on EXIT (state, choice rule or catcher) */
    bool j_exit_set;            /* JSONata: a choice rule or catcher chose these two */
    const asl_jt *j_exit_assign, *j_exit_output;
    json_t *assign_input; /* "$" for exit_assign */

    uint32_t entered_id; /* id of the state's Entered event */
    uint32_t last_id;    /* last event of this run (previousEventId of the next) */
    int64_t entered_ms;

    int64_t *retry_counts; /* per retrier */
    int64_t retry_count;   /* total ($$.State.RetryCount) */

    exec__timer timer;   /* Wait, Retry back-off */
    exec__task *task;    /* the open task attempt (&task_mem), or NULL */
    exec__task task_mem; /* a run has one attempt open at a time: kept here, it costs
                          * no allocation and no extra pointer chase; its token is the
                          * current attempt's ("" when none), minted before the task
                          * opens so that Parameters can read $$.Task.Token */

    bt_fault fault;

    /* Parallel / Map */
    run **kids;   /* a child that succeeded is freed at once; the others stay until r moves on */
    bool *kid_ok; /* which children succeeded (a redrive passes them over) */
    size_t n_kids;
    size_t n_started, n_done, n_failed, n_running;
    json_t *items;   /* Map items */
    json_t *results; /* results in order */
    int64_t max_concurrency;
    int64_t tolerated_count;  /* -1 unset */
    double tolerated_percent; /* < 0 unset */
};

struct exec {
    asl_machine *m;
    exec_status status;
    char *name, *arn, *sm_arn, *sm_name, *role_arn, *region;
    json_t *input;
    json_t *output;
    char *error, *cause;
    int64_t start_ms, stop_ms, now_ms;
    history hist;
    uint32_t max_events;
    bool history_full; /* an event past the quota was refused: the execution fails */
    uint64_t n_transitions;
    int64_t redrive_count; /* RedriveExecution calls taken (redrive.c) */
    int64_t vars_bytes;    /* all live variable scopes, held to EXEC_MAX_VARIABLE_BYTES */
    json_t *ctx_execution, *ctx_machine;
    bt_rand rng;
    exec_mint_token mint_token;
    void *mint_ctx;
    bool forget_taken_events;
    bool express;
    exec_probe *probe; /* TestState: one state only (probe.c); NULL otherwise */

    run *root;
    run *q_head, *q_tail;
    bool replaying; /* a replay of due timers (exec.c run_until) was cut by the budget */

    exec__timer **heap;
    size_t n_heap, cap_heap;
    uint64_t next_timer_id;
    exec__timer timeout; /* the machine's TimeoutSeconds */

    exec__task **tasks; /* open tasks, ascending id (start order) */
    size_t n_tasks, cap_tasks;
    /* Closed tasks, ascending id: what became of each (exec_task_fate_of). Bounded by the
     * history quota: every task writes events. */
    struct exec__fate *fates;
    size_t n_fates, cap_fates;
    uint64_t next_task_id;
    bt_strmap by_token; /* token → task, built once many tasks are open (task.c) */
    bool token_indexed;

    exec_effect *effects; /* effects_inline until more are pending at once */
    size_t n_effects, cap_effects;
    exec_effect effects_inline[2];
    size_t first_new_event; /* events before this index were taken */
};

/* ---- exec.c ---- */
void exec__dequeue_run(run *r); /* unlinks r from the ready queue if queued */
void exec__effect(exec *e, exec_effect_kind kind, uint64_t id, int64_t when_ms);
/* The event that would take the quota's last slot: only the execution's end may. */
hist_event *exec__emit_last(run *r, hist_type type);
void exec__finish(exec *e, exec_status st);
/* Moves the clock to now_ms, firing first every timer due by then (each at its due time):
 * an outcome or a stop that arrives late never beats a deadline that passed. */
void exec__catch_up(exec *e, int64_t now_ms);
/* Ends the execution as FAILED if the history quota was reached. */
void exec__settle(exec *e);

/* ---- run.c ---- */
run *exec__run_new(exec *e, run *parent, const asl_graph *g);
void exec__run_free(run *r);
void exec__run_enter_state(run *r, size_t index, json_t *input);
void exec__run_abort(run *r, bool record);
/* Aborts r's running children (a branch failed, an item's input failed). */
void exec__abort_kids(run *r, bool record);
/* Frees r's child runs (Parallel branches, Map iterations). */
void exec__free_kids(run *r);
/* Task/Parallel: $$ when read, then Parameters over the effective input → r->params. */
int exec__state_arguments(run *r, const char *what, bt_fault *f);
void exec__run_succeed(run *r, json_t *output);
void exec__run_fail(run *r, bt_fault *f);
void exec__go_exit(run *r);
void exec__handle_error(run *r, bt_fault *f);
/* The same for an error a task reported, or raised for its result. */
void exec__handle_task_error(run *r, bt_fault *f);
void exec__step(run *r);
void exec__timer_fired(run *r);
/* A States.Runtime fault located at r's state ("An error occurred while executing …"). */
void exec__runtime_fault(run *r, bt_fault *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes a States.Runtime cause raised below the engine with the state's location. */
void exec__locate_fault(run *r, bt_fault *f);
/* Fails f with States.DataLimitExceeded / States.Runtime if v is over 256 KiB or nests too
 * deep to store. what NULL: v is the state's result or output; else what it computed on the
 * way ("assigned variables": AWS allows 256 KiB per Assign). measured (may be NULL) receives
 * v's size and depth. */
int exec__check_limits(run *r, json_t *v, const char *what, exec__bound *measured, bt_fault *f);
/* The compact text of v for a cause, or a note when it nests too deep to write (heap). */
char *exec__json_text(const json_t *v);
/* Resolves an integer field given literally or through a path, within [lo, hi]. */
int exec__resolve_int(run *r, const asl_intopt *o, const char *field, json_t *in, int64_t lo,
                      int64_t hi, int64_t *out, bt_fault *f);
void exec__ev_set_data(hist_event *ev, json_t *data);
void exec__ev_set_error(hist_event *ev, const bt_fault *f);
void exec__ev_extra_set(hist_event *ev, const char *key, json_t *v);

/* ---- retry.c: Retry and Catch as pure functions of (state, counters, error) ---- */
/* task_result: the error was raised for a task's result (see retry.c). */
bool exec__is_terminal_error(const char *error, bool task_result);
bool exec__error_matches(const asl_errors *names, const char *error, bool task_result);
/* The retrier that takes error: its index, or -1 when none does or the first matching one
 * is exhausted (then Catch applies). counts may be NULL (no attempt yet). */
int exec__retry_pick(const asl_state *st, const int64_t *counts, const char *error,
                     bool task_result);
/* The back-off before retry number attempt (0-based) of rt, in ms, saturated at
 * EXEC_MAX_SECONDS; jitter in [0, 1) scales it when the retrier has JitterStrategy FULL. */
int64_t exec__retry_delay_ms(const asl_retrier *rt, int64_t attempt, double jitter);
/* The catcher that takes error, or NULL. */
const asl_catcher *exec__catch_pick(const asl_state *st, const char *error, bool task_result);
json_t *exec__error_output(const bt_fault *f);

/* ---- task.c ---- */
void exec__task_start(run *r);
/* Closes r's open task without an outcome (timeout, abort, stop): records TASK_CANCEL. */
void exec__task_cancel(run *r);
void exec__task_timer_fired(exec__timer *t);
void exec__tasks_fini(exec *e);

/* ---- context.c ---- */
typedef struct exec__envs {
    jpath_env paths;
    intr_env intr;
} exec__envs;
void exec__env_init(exec__envs *v, run *r, json_t *input);
/* Builds $$ for the current state (only when the state reads it). */
void exec__build_context(run *r, json_t *map_item_value, size_t map_index);
void exec__context_init(exec *e);
json_t *exec__time_string(int64_t ms);

/* ---- pipeline.c: payload processing of one query language. The state code calls these
 * and never asks which language it runs (JSONPath today; JSONata plugs in here). ---- */
typedef struct exec__pipeline {
    /* ENTER: r->input → r->effective (InputPath). */
    int (*input)(run *r, bt_fault *f);
    /* Task/Parallel/Pass arguments, Map ItemSelector: template tmpl (NULL: none) over in. */
    int (*arguments)(run *r, const payload *tmpl, json_t *in, json_t **out, bt_fault *f);
    /* EXIT: the state's result → the document OutputPath reads (ResultSelector →
     * ResultPath; the effective input for Choice/Wait/Succeed); sets r->assign_input;
     * bound receives a bound of it. */
    int (*result)(run *r, json_t **out, exec__bound *bound, bt_fault *f);
    /* EXIT: in → the state's output (OutputPath); updates bound. */
    int (*output)(run *r, json_t *in, json_t **out, exec__bound *bound, bt_fault *f);
    /* Catch: the error output → the catcher's output (its ResultPath over the input). */
    int (*catch_result)(run *r, const asl_catcher *c, json_t *error_output, json_t **out,
                        bt_fault *f);
    /* Assign: the variables to set, evaluated over in. */
    int (*assign)(run *r, const payload *assign, json_t *in, json_t **out, bt_fault *f);
} exec__pipeline;

extern const exec__pipeline exec__jsonpath;
extern const exec__pipeline exec__jsonata;

static inline const exec__pipeline *exec__pipeline_of(const asl_state *st)
{
    return st->jn ? &exec__jsonata : &exec__jsonpath;
}

/* ---- pipeline_jsonata.c, jsonata_fns.c: JSONata evaluation for the state code ---- */
/* What $states holds for one evaluation (NULL: absent); context comes from the run. */
typedef struct exec__jvals {
    json_t *input, *result, *error_output;
} exec__jvals;
/* Evaluates t for field ("Output", "Items" …) of r's state; a failure is
 * States.QueryEvaluationError with AWS's cause. */
int exec__jt_eval(run *r, const asl_jt *t, const char *field, const exec__jvals *jv, json_t **out,
                  bt_fault *f);
/* An integer field (TimeoutSeconds, Seconds, MaxConcurrency …) over $states.input. */
int exec__jt_int(run *r, const asl_jt *t, const char *field, int64_t lo, int64_t hi, int64_t *out,
                 bt_fault *f);
/* "returned an unexpected result type. Expected 'array', but was …" */
void exec__jt_type_fault(run *r, const asl_jt *t, const char *field, const char *expected,
                         const json_t *v, bt_fault *f);
/* A States.QueryEvaluationError located at r's state, and its EvaluationFailed event;
 * _at names the field that failed ("Items", "Output/result") as the event's location. */
void exec__query_fault(run *r, bt_fault *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void exec__query_fault_at(run *r, bt_fault *f, const char *location, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *exec__json_type(const json_t *v);
/* Step Functions' JSONata library (built once; shared). */
const jn_lib *exec__jn_lib(void);
/* Sets the generator $uuid and $random draw from on this thread; returns the previous. */
bt_rand *exec__jn_swap_rng(bt_rand *rng);

/* ---- probe.c: one state on its own (exec_probe); each hook is called for the root run
 * of a probe only (exec__probing) ---- */
static inline bool exec__probing(const run *r)
{
    return r->e->probe != NULL && r->parent == NULL;
}
void exec__probe_begin(run *r, exec_probe *p, json_t *input);
void exec__probe_entered(run *r);                    /* InputPath applied */
void exec__probe_arguments(run *r, json_t *args);    /* Parameters applied */
void exec__probe_result(run *r, json_t *after_path); /* ResultSelector, ResultPath applied */
void exec__probe_exit(run *r, size_t next);          /* the state leaves: its output is final */
/* Before Retry is picked: counts the retries the caller says were made already. */
void exec__probe_seed_retries(run *r, const char *error);
void exec__probe_retry(run *r, int index, int64_t delay_ms, const bt_fault *f);
void exec__probe_caught(run *r, size_t index, const bt_fault *f);
/* Map/Parallel with a mocked outcome: takes it instead of starting children; false when the
 * state runs as usual. */
bool exec__probe_mocked(run *r);

/* ---- per state type (state_flow.c, state_branch.c), dispatched from asl/states.def ---- */
void exec__enter_Pass(run *r);
void exec__enter_Task(run *r);
void exec__enter_Choice(run *r);
void exec__enter_Wait(run *r);
void exec__enter_Succeed(run *r);
void exec__enter_Fail(run *r);
void exec__enter_Parallel(run *r);
void exec__enter_Map(run *r);
void exec__children_start(run *r);
/* A redriven Parallel or Map: runs again the children that did not succeed. */
void exec__children_resume(run *r);
void exec__child_done(run *parent, run *kid);

/* ---- redrive.c ---- */
/* Makes r, which ended unsuccessfully, go on from the state it stopped in. */
void exec__run_redrive(run *r);

typedef struct exec__state_type {
    hist_type entered, exited; /* exited: HIST_N_TYPES for Fail, which is never exited */
    void (*enter)(run *r);     /* after the Entered event and InputPath */
} exec__state_type;

extern const exec__state_type exec__state_types[ASL_N_STATE_TYPES];

/* ---- saturating time arithmetic: a deadline saturates just below INT64_MAX, which
 * means "no timer", so even a clock at the end of int64 still reaches it ---- */
#define EXEC_TIME_FAR (INT64_MAX - 1)
static inline int64_t exec__add_ms(int64_t a, int64_t b)
{
    if (b > 0 && a > EXEC_TIME_FAR - b)
        return EXEC_TIME_FAR;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static inline int64_t exec__seconds_ms(int64_t s)
{
    if (s > INT64_MAX / 1000)
        return INT64_MAX;
    if (s < INT64_MIN / 1000)
        return INT64_MIN;
    return s * 1000;
}

/* ---- the hottest helpers, inline: every transition calls them ---- */

/* Makes r ready (FIFO); nothing if it is queued already or not active. */
static inline void exec__enqueue(run *r)
{
    exec *e = r->e;
    if (r->queued || r->status != RUN_ACTIVE)
        return;
    r->queued = true;
    r->q_next = NULL;
    r->q_prev = e->q_tail;
    if (e->q_tail)
        e->q_tail->q_next = r;
    else
        e->q_head = r;
    e->q_tail = r;
}

/* Appends an event for r (NULL for quiet runs, or past the history quota). */
static inline hist_event *exec__emit(run *r, hist_type type)
{
    exec *e = r->e;
    if (r->quiet || e->history_full)
        return NULL;
    if (e->hist.base + e->hist.len + 1 >= e->max_events)
        return exec__emit_last(r, type);
    hist_event *ev = history_append(&e->hist, type, r->last_id, e->now_ms);
    r->last_id = ev->id;
    return ev;
}

/* Replaces *slot with v (taking v's reference), dropping the old value. */
static inline void exec__set_json(json_t **slot, json_t *v)
{
    json_t *old = *slot;
    *slot = v;
    json_decref(old);
}

#endif
