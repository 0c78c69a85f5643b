/*
 * asl.h — a compiled state machine: the executable graph built once from a validated
 * definition and shared (refcounted) by every execution of that version.
 *
 * States are addressed by index within their graph (the top level, a Parallel branch or a
 * Map processor); paths, templates, intrinsics, Choice rules and Task resources are
 * pre-compiled. Nothing but the (atomic) reference count changes after asl_compile
 * returns, so executions on any thread may read it.
 */
#ifndef BT_ASL_ASL_H
#define BT_ASL_ASL_H

#include "asl/choice.h"
#include "asl/jtemplate.h"
#include "base/diag.h"
#include "path/jsonpath.h"
#include "path/payload.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum asl_state_type {
#define ASL_STATE(e, name) ASL_##e,
#include "asl/states.def"
#undef ASL_STATE
    ASL_N_STATE_TYPES
} asl_state_type;

/* The "Type" string of t ("Pass", …); t must be below ASL_N_STATE_TYPES. */
const char *asl_state_type_name(asl_state_type t);

#define ASL_NO_STATE SIZE_MAX

/* An optional path field (InputPath, OutputPath, ResultPath): absent, null, or a path. */
typedef struct asl_pathopt {
    enum { ASL_PATH_DEFAULT, ASL_PATH_NULL, ASL_PATH_SET } kind;
    jpath *path; /* ASL_PATH_SET */
} asl_pathopt;

typedef struct asl_errors {
    char **names;
    size_t len;
} asl_errors;

typedef struct asl_retrier {
    asl_errors errors;
    double interval_s;    /* default 1 */
    int64_t max_attempts; /* default 3 */
    double backoff_rate;  /* default 2.0 */
    int64_t max_delay_s;  /* 0 = no cap */
    bool jitter_full;
} asl_retrier;

typedef struct asl_catcher {
    asl_errors errors;
    size_t next;
    asl_pathopt result_path;
    payload *assign; /* NULL when absent */
    asl_jt *output;  /* JSONata: Output, Assign (NULL when absent) */
    asl_jt *jassign;
} asl_catcher;

typedef struct asl_choice {
    choice_rule *rule;
    size_t next;
    payload *assign;
    asl_jt *condition; /* JSONata: Condition, Output, Assign (NULL when absent) */
    asl_jt *output;
    asl_jt *jassign;
} asl_choice;

/* The fields of a JSONata-mode state, each NULL when absent (asl_state.jn). */
typedef struct asl_jfields {
    asl_jt *arguments, *output, *assign;
    asl_jt *items, *item_selector, *max_concurrency, *tolerated_count, *tolerated_percent;
    asl_jt *seconds, *timestamp;
    asl_jt *timeout, *heartbeat;
    asl_jt *error, *cause;
} asl_jfields;

/* An integer field given literally or through a reference path (TimeoutSeconds(Path), …). */
typedef struct asl_intopt {
    bool is_set;
    int64_t value;
    jpath *path; /* when set through the *Path variant */
} asl_intopt;

/* How a Task's Resource is invoked (see task_kind in struct asl_state). */
typedef enum asl_task_kind { ASL_TASK_SERVICE, ASL_TASK_LAMBDA, ASL_TASK_ACTIVITY } asl_task_kind;
typedef enum asl_task_pattern {
    ASL_PATTERN_REQUEST_RESPONSE,
    ASL_PATTERN_SYNC,
    ASL_PATTERN_CALLBACK
} asl_task_pattern;

typedef struct asl_graph asl_graph;
typedef struct asl_state asl_state;

struct asl_state {
    char *name;
    asl_state_type type;
    size_t index; /* position within its graph */
    size_t next;  /* ASL_NO_STATE when End or terminal */
    bool is_end;
    bool uses_context; /* some expression of the state reads "$$" or $states.context */
    json_t *source;    /* the state's definition (borrowed from the machine's JSON) */
    asl_jfields *jn;   /* JSONata mode: its fields; NULL in JSONPath mode */

    asl_pathopt input_path, output_path, result_path;
    payload *parameters; /* Parameters (Map: legacy ItemSelector) */
    payload *result_selector;
    payload *assign;
    json_t *result; /* Pass: Result (NULL when absent) */

    /* Task. The resource is classified once here, so executions never re-parse it. */
    char *resource;
    /* LAMBDA: "arn:<partition>:lambda:…"; ACTIVITY: an ARN of service "states" containing
     * ":activity:"; SERVICE: anything else (optimised integrations, non-ARN strings). */
    asl_task_kind task_kind;
    /* CALLBACK: the resource ends with ".waitForTaskToken" or the task is an activity;
     * SYNC: it ends with ".sync" or ".sync:2"; REQUEST_RESPONSE otherwise. */
    asl_task_pattern task_pattern;
    /* History's resourceType and resource: the text between the 5th ':' and the last ':',
     * and what follows the last ':' ("sqs", "sendMessage.waitForTaskToken" for
     * arn:aws:states:::sqs:sendMessage.waitForTaskToken). Without a ':' after the 5th,
     * "" and the whole resource. Owned; NULL for other state types. */
    char *resource_type;
    char *resource_action;
    /* This Task's position among all Task states of the machine, numbered depth-first in
     * definition order (a Parallel's branches and a Map's processor are numbered where the
     * Parallel or Map state appears): 0 .. asl_machine.n_task_states - 1. */
    size_t task_slot;
    asl_intopt timeout_s, heartbeat_s;
    payload *credentials;

    asl_retrier *retriers;
    size_t n_retriers;
    asl_catcher *catchers;
    size_t n_catchers;

    /* Choice */
    asl_choice *choices;
    size_t n_choices;
    size_t default_next; /* ASL_NO_STATE when absent */

    /* Wait */
    asl_intopt wait_seconds;
    bool has_timestamp;
    int64_t timestamp_ms;
    jpath *timestamp_path;

    /* Fail */
    char *error, *cause;
    pexpr *error_path, *cause_path;

    /* Parallel */
    asl_graph **branches;
    size_t n_branches;

    /* Map */
    asl_graph *processor;
    bool is_distributed;
    jpath *items_path;          /* NULL: "$" */
    payload *item_selector;     /* ItemSelector, or legacy Parameters */
    asl_intopt max_concurrency; /* 0 = unlimited */
    asl_intopt tolerated_count;
    bool has_tolerated_percent;
    double tolerated_percent;
    jpath *tolerated_percent_path;
    char *label;
};

struct asl_graph {
    asl_state **states;
    size_t n_states;
    size_t start;
};

typedef struct asl_machine {
    atomic_int refs;    /* asl_machine_ref/unref only; any thread */
    json_t *definition; /* the parsed definition (owned) */
    asl_graph *top;
    int64_t timeout_s; /* 0 when absent */
    char *comment;
    size_t n_task_states; /* Task states in all graphs (see asl_state.task_slot) */
} asl_machine;

/*
 * Compiles a definition that asl_validate accepted. Returns 0 and *out (refcount 1), or
 * BT_EINVAL with diag filled when something only compilation can see is wrong.
 * Takes a new reference to definition.
 */
int asl_compile(json_t *definition, asl_machine **out, bt_diag *diag);
/* Parses, validates and compiles definition text. */
int asl_load_text(const char *text, size_t len, asl_machine **out, bt_diag *diag);
/* Takes a reference; returns m. Safe from any thread that already holds one. */
asl_machine *asl_machine_ref(asl_machine *m);
/* Drops a reference, freeing the machine with the last one. NULL does nothing. Any thread. */
void asl_machine_unref(asl_machine *m);

/* Finds a state by name in a graph (linear; for tests and tools). */
const asl_state *asl_graph_find(const asl_graph *g, const char *name);

#endif
