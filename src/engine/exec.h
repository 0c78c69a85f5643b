/*
 * exec.h — one execution of a compiled state machine, advanced by a driver.
 *
 * The engine is a pure state machine over (compiled definition, position, input, event):
 * it reads no clock and does no I/O. The driver supplies the time with every call, calls
 * exec_advance while it reports more ready work and again when exec_next_timer() is due,
 * takes the effects each call produced (exec_take_effects: history events, tasks to start
 * or cancel, timers armed or cancelled) and reports task outcomes by task id. No thread or
 * stack is held per execution: a parked execution is only its data. Single-threaded: one
 * thread at a time calls into an execution (the engine thread).
 *
 * Execution status (exec_get_status):
 *
 *     RUNNING --(root run ends in Succeed/End)------> SUCCEEDED   run_succeed()
 *        |----(unhandled error, 25,000 events)-----> FAILED      run_fail(), exec__settle()
 *        |----(TimeoutSeconds of the machine)------> TIMED_OUT   execution_timed_out()
 *        `----(exec_stop)--------------------------> ABORTED
 *     FAILED, TIMED_OUT, ABORTED --(exec_redrive)--> RUNNING again, from the unsuccessful
 *                                                    state (redrive.c)
 *
 * Task attempt (task.c):
 *
 *     exec__task_start --> OPEN --exec_task_succeed/fail-------------> closed (outcome)
 *                            |--timeout / heartbeat expiry------------> closed + CANCEL
 *                            `--abort, stop, execution end------------> closed + CANCEL
 *     exec_task_submitted (TaskSubmitted), exec_task_started (ActivityStarted) and
 *     exec_task_heartbeat keep it OPEN.
 */
#ifndef BT_ENGINE_EXEC_H
#define BT_ENGINE_EXEC_H

#include "asl/asl.h"
#include "engine/history.h"
#include "integ/integ.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct exec exec;

typedef enum exec_status {
    EXEC_RUNNING,
    EXEC_SUCCEEDED,
    EXEC_FAILED,
    EXEC_TIMED_OUT,
    EXEC_ABORTED,
} exec_status;

const char *exec_status_name(exec_status s);

/* AWS's hard quota of history events per Standard execution
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html). */
#define EXEC_MAX_HISTORY_EVENTS 25000
/* The longest time a Wait, a retry back-off or a task timeout may last: AWS's bound for
 * Seconds, IntervalSeconds and TimeoutSeconds. */
#define EXEC_MAX_SECONDS 99999999LL

/* AWS's bound of all variables of one execution (10 MiB); one Assign is held to 256 KiB. */
#define EXEC_MAX_VARIABLE_BYTES (10LL * 1024 * 1024)

/* The longest task token a driver may mint (with its NUL). */
#define EXEC_TOKEN_MAX 64

/* Mints the token of task task_id (out: URL-safe text, NUL-terminated, < EXEC_TOKEN_MAX).
 * A server derives tokens from a per-execution secret so that replaying an execution from
 * its recorded inputs yields the same tokens; without one, tokens are 192 random bits. */
typedef void (*exec_mint_token)(void *ctx, uint64_t task_id, char out[EXEC_TOKEN_MAX]);

/*
 * A probe runs one state on its own and stops at its exit, as Step Functions' TestState does:
 * the root run starts at state `state` of `graph` (any graph of the machine) with `variables`
 * in scope, and ends with that state, its next state noted rather than entered. A Retry that
 * takes an error ends it RETRIABLE (the back-off is reported, not waited); a Catch ends it
 * CAUGHT_ERROR with the catcher's output. Map and Parallel states run no children when the
 * probe carries their outcome (a mock). The engine fills the rest as the state runs; the
 * caller releases it with exec_probe_fini after exec_free.
 */
typedef enum exec_probe_status {
    EXEC_PROBE_FAILED, /* until the state leaves otherwise */
    EXEC_PROBE_SUCCEEDED,
    EXEC_PROBE_RETRIABLE,
    EXEC_PROBE_CAUGHT_ERROR,
} exec_probe_status;

typedef struct exec_probe {
    /* set by the caller; borrowed */
    const asl_graph *graph;
    size_t state;
    json_t *variables;           /* object of variables in scope, or NULL */
    int64_t retrier_retry_count; /* retries the retrier taking the error has made already */
    int64_t timeout_s;           /* bound of the whole probe (0: none) */
    bool has_mock;               /* Map/Parallel: their outcome, without running children: */
    json_t *mock_result;         /*   the state's result, or */
    const char *mock_error;      /*   an error (with mock_cause, may be NULL) */
    const char *mock_cause;

    /* filled by the engine: new references, NULL when the step did not happen */
    exec_probe_status status;
    json_t *input, *after_input_path, *after_parameters, *result, *after_result_selector,
        *after_result_path, *variables_after;
    const char *next_state; /* borrowed from the machine; NULL when the state ends its run */
    int retry_index;        /* -1 unless RETRIABLE */
    int64_t retry_backoff_ms;
    int catch_index;     /* -1 unless CAUGHT_ERROR */
    char *error, *cause; /* the error a Retry or Catch took (the execution's is ended) */
} exec_probe;

void exec_probe_fini(exec_probe *p);

typedef struct exec_config {
    const char *name;     /* execution name */
    const char *arn;      /* execution ARN */
    const char *sm_arn;   /* state machine ARN */
    const char *sm_name;  /* state machine name */
    const char *role_arn; /* $$.Execution.RoleArn */
    const char *region;   /* recorded in TaskScheduled */
    int64_t start_ms;     /* start time (driver's clock) */
    uint64_t seed;        /* seeds States.UUID / MathRandom / jitter */
    uint32_t max_events;  /* history quota; 0: EXEC_MAX_HISTORY_EVENTS */
    /* Drop events from memory once exec_take_effects has handed them over and the caller
     * has moved on (a server that stores them); exec_history then holds only the rest. */
    bool forget_taken_events;
    /* An Express execution: its context has no RedriveCount (AWS's Express context). */
    bool express;
    exec_mint_token mint_token; /* NULL: random tokens */
    void *mint_ctx;
    exec_probe *probe; /* NULL: a whole execution; else one state (borrowed, filled) */
} exec_config;

/* A task the driver must run (integ.h); stable until its outcome is reported or the
 * engine cancels it. */
typedef integ_task exec_task;

/* Starts an execution: records ExecutionStarted and makes the first state ready. */
exec *exec_new(asl_machine *m, json_t *input, const exec_config *cfg);
void exec_free(exec *e);

/*
 * Runs ready transitions at now_ms (timers due at or before now fire), at most max_steps
 * of them (0: no limit), so that one execution cannot starve others on the same thread.
 * Returns true when more work is ready now (call again); false when the execution waits
 * for a timer (exec_next_timer) or a task outcome, or has ended.
 */
bool exec_advance(exec *e, int64_t now_ms, uint32_t max_steps);
/* The earliest time a timer is due, or INT64_MAX when none is armed. */
int64_t exec_next_timer(const exec *e);

typedef enum exec_effect_kind {
    EXEC_EFFECT_TASK_START,   /* id: a task to start (exec_get_task) */
    EXEC_EFFECT_TASK_CANCEL,  /* id: a started task to abandon (integ cancel) */
    EXEC_EFFECT_TIMER_ARM,    /* id, when_ms: a timer armed (a re-arm cancels the old id) */
    EXEC_EFFECT_TIMER_CANCEL, /* id: a timer disarmed before it was due */
} exec_effect_kind;

typedef struct exec_effect {
    exec_effect_kind kind;
    uint64_t id;
    int64_t when_ms;
} exec_effect;

/* What the calls since the previous exec_take_effects produced, in order. A store commits
 * them before anything leaves the process; the in-process driver applies them at once. */
typedef struct exec_effects {
    const hist_event *events; /* the new history events */
    size_t n_events;
    const exec_effect *items;
    size_t n_items;
} exec_effects;

/* Hands over the pending effects (borrowed until the next call into e). A task started and
 * cancelled in the same batch appears as both; exec_get_task is then NULL for it. */
void exec_take_effects(exec *e, exec_effects *out);

/* An open task by id or by token, or NULL. Borrowed: valid until the task closes. */
const exec_task *exec_get_task(const exec *e, uint64_t id);
const exec_task *exec_find_task_by_token(const exec *e, const char *token);
/* Open tasks, in the order they started. */
size_t exec_n_open_tasks(const exec *e);

/*
 * Task outcomes, in any order and at any time. Values are borrowed. BT_ENOTFOUND when id is
 * not an open task (never opened, already answered, timed out, or cancelled).
 * submitted records TaskSubmitted; heartbeat re-arms HeartbeatSeconds and records nothing.
 */
int exec_task_submitted(exec *e, uint64_t id, json_t *response, int64_t now_ms);
int exec_task_succeed(exec *e, uint64_t id, json_t *output, int64_t now_ms);
int exec_task_fail(exec *e, uint64_t id, const char *error, const char *cause, int64_t now_ms);
int exec_task_heartbeat(exec *e, uint64_t id, int64_t now_ms);
/* An activity's task was handed to a worker (GetActivityTask): records ActivityStarted with
 * workerName (may be NULL) and counts HeartbeatSeconds from now, so that a task that waited
 * for a worker does not expire as it is taken. BT_ESTATE when the task is not an activity's or
 * was handed out already. */
int exec_task_started(exec *e, uint64_t id, const char *worker, int64_t now_ms);
/* What became of a task attempt, for callers whose token no longer opens it. */
typedef enum exec_task_fate_kind {
    EXEC_FATE_UNKNOWN, /* never opened (or not by this execution) */
    EXEC_FATE_OPEN,
    EXEC_FATE_SUCCEEDED, /* answered: SendTaskSuccess or the integration's result */
    EXEC_FATE_FAILED,
    EXEC_FATE_TIMED_OUT,           /* TimeoutSeconds */
    EXEC_FATE_HEARTBEAT_TIMED_OUT, /* HeartbeatSeconds */
    EXEC_FATE_CANCELLED, /* its state was left: a branch failed, the execution stopped or ended */
} exec_task_fate_kind;

typedef struct exec_task_fate {
    exec_task_fate_kind kind;
    int64_t when_ms;        /* when it closed */
    const char *state_name; /* borrowed from the machine */
    int64_t attempt;        /* 1 + its retry count */
    int64_t later_attempt;  /* a later attempt of the same state (0: none) */
} exec_task_fate;

/* The fate of task id; kind EXEC_FATE_UNKNOWN when the execution never opened it. */
void exec_task_fate_of(const exec *e, uint64_t id, exec_task_fate *out);

/* Stops the execution (StopExecution): status ABORTED; open tasks are cancelled. */
void exec_stop(exec *e, const char *error, const char *cause, int64_t now_ms);

/*
 * RedriveExecution: an execution that ended FAILED, TIMED_OUT or ABORTED goes on from the
 * state that did not succeed, with that state's original input, keeping its history and
 * variables: ExecutionRedriven is recorded, successful states are not run again, and in a
 * Parallel or Map only the branches and iterations that did not succeed run again. Retry
 * counters start over and the machine's TimeoutSeconds counts from the redrive.
 * BT_ESTATE when exec_redrivable says no. The driver then calls exec_advance as usual.
 */
int exec_redrive(exec *e, int64_t now_ms);
/* Whether exec_redrive would take e: it ended unsuccessfully, is a whole execution, and its
 * history has room for ExecutionRedriven and one more event (AWS: fewer than 24,999). */
bool exec_redrivable(const exec *e);
/* RedriveExecution calls taken so far ($$.Execution.RedriveCount). */
int64_t exec_redrive_count(const exec *e);

exec_status exec_get_status(const exec *e);
const asl_machine *exec_machine(const exec *e);
const char *exec_arn(const exec *e);
/* Borrowed; NULL unless SUCCEEDED. */
json_t *exec_output(const exec *e);
const char *exec_error(const exec *e);
const char *exec_cause(const exec *e);
int64_t exec_start_ms(const exec *e);
int64_t exec_stop_ms(const exec *e);
const history *exec_history(const exec *e);
/* Number of history events written. */
uint64_t exec_n_events(const exec *e);
/* States entered so far (the "state transitions" AWS bills). */
uint64_t exec_n_transitions(const exec *e);

#endif
