/*
 * integ.h — how Task resources plug in. Each integration (mock responses, local functions,
 * queues, topics, HTTP, approvals, …) fills one const integ_ops table. A driver binds every
 * Task state of a machine to the integration that handles it once (handles() looks only at
 * what is fixed per state: its name and resource), then starts that state's tasks there.
 *
 * An operation completes exactly once (nng's rule): after start() returns 0 the integration
 * reports through its sink any number of submitted/heartbeat calls and then exactly one
 * succeeded or failed — unless cancel() comes first, after which it reports nothing. Sink
 * calls happen on the engine thread, and may happen inside start() itself (a driver queues
 * them and applies them after start returns).
 *
 *     start() --> [submitted] --> [heartbeat]* --> succeeded | failed
 *        `------------- cancel() (timeout, heartbeat expiry, abort, stop) --> (silence)
 */
#ifndef BT_INTEG_INTEG_H
#define BT_INTEG_INTEG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A task attempt, as the engine hands it out. Borrowed: valid until the task's outcome has
 * been reported to the engine or the engine has asked for it to be cancelled. */
typedef struct integ_task {
    uint64_t id; /* unique within its execution, never reused; stable for the task's life */
    const char *execution_arn;
    const char *state_name;
    const char *resource;
    size_t task_slot;   /* the state's index among its machine's Task states (asl.h) */
    json_t *parameters; /* the effective arguments */
    const char *token;  /* non-NULL for .waitForTaskToken and activities */
    int64_t retry_count;
    int64_t timeout_s;   /* 0 when unset */
    int64_t heartbeat_s; /* 0 when unset */
} integ_task;

/* Where an integration reports. Values are borrowed for the call. */
typedef struct integ_sink {
    void *ud;
    /* The service accepted the request (history: TaskSubmitted with its response). */
    void (*submitted)(void *ud, uint64_t task_id, json_t *response);
    void (*succeeded)(void *ud, uint64_t task_id, json_t *output);
    /* error and cause may be NULL (SendTaskFailure without them). */
    void (*failed)(void *ud, uint64_t task_id, const char *error, const char *cause);
    void (*heartbeat)(void *ud, uint64_t task_id);
} integ_sink;

typedef struct integ_ops {
    const char *name;
    /* True when this integration takes the tasks of this state. Decided from the state
     * name and resource only, so a driver can ask once per state. */
    bool (*handles)(void *self, const char *state_name, const char *resource);
    /* Starts t. Returns 0, then reports through sink as above; or a BT_E* code, then it
     * reports nothing and the driver fails the task. */
    int (*start)(void *self, const integ_task *t, const integ_sink *sink);
    /* Abandons task task_id of execution_arn (started earlier, not yet reported: it may be
     * closed in the engine already); reports nothing afterwards. */
    void (*cancel)(void *self, const char *execution_arn, uint64_t task_id);
    void (*destroy)(void *self);
    /* True when the integration answers later, from the server's loop (server_task_report),
     * not from inside start(): drivers that run a state to its end at once (TestState)
     * cannot use it. */
    bool answers_later;
} integ_ops;

typedef struct integ {
    const integ_ops *ops;
    void *self;
} integ;

/*
 * The mock integration: answers Task states from a Step Functions Local mock configuration
 * ({"StateMachines": {name: {"TestCases": {case: {state: response}}}},
 *   "MockedResponses": {response: {"0": {"Return": …}, "1-2": {"Throw": {Error, Cause}}}}}).
 * The n-th invocation of a state (counting retries and loop re-entries, from 0) takes the
 * response whose key covers n; past the last key the last response repeats. Answers at
 * once, from inside start().
 * machine/test_case select the test case; NULL picks the only one there is.
 * Returns 0 and *out, or BT_EINVAL with *errmsg (heap) describing the problem.
 */
int integ_mock_new(json_t *config, const char *machine, const char *test_case, integ *out,
                   char **errmsg);
void integ_free(integ *i);

#endif
