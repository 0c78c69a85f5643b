/*
 * server_int.h — the server's private state, shared by server.c (the loop and the commit
 * path), machines.c (state machines and their revisions), versions.c (their versions and
 * aliases), execs.c (durable executions), activities.c (activities and their workers) and
 * schema.c (the tables).
 */
#ifndef BT_SERVER_SERVER_INT_H
#define BT_SERVER_SERVER_INT_H

#include "asl/asl.h"
#include "base/arn.h"
#include "base/buf.h"
#include "base/strmap.h"
#include "engine/exec.h"
#include "server/sfn.h"

#include <stdbool.h>
#include <stdint.h>

#define SERVER_MAX_STOP_HOOKS 8
#define SERVER_MAX_INTEGS     8

typedef struct machine machine;
typedef struct xrec xrec;

struct server {
    server_config cfg;
    char *own[4]; /* the strings of cfg, copied */
    char *endpoint;
    uv_loop_t loop;
    uv_async_t post_async, commit_async;
    uv_prepare_t prepare;
    uv_signal_t sigterm, sigint;
    uv_mutex_t post_mu;
    struct posted *post_head, *post_tail;
    bool stopping;
    bool failed; /* a commit failed: stopping, exit status 1 */
    int64_t now_ms;
    store *store;
    store_batch *batch;
    struct {
        void (*fn)(void *ctx);
        void *ctx;
    } stop_hooks[SERVER_MAX_STOP_HOOKS];
    size_t n_stop_hooks;

    /* machines.c */
    bt_strmap machines; /* arn → machine */
    machine **machine_list;
    size_t n_machines, cap_machines;
    int64_t next_machine_id, next_revision_id;
    bt_strmap revisions; /* revision id (decimal) → compiled asl_machine (cache) */

    /* versions.c */
    bt_strmap machine_versions; /* machine id (decimal) → its versions and aliases */
    int64_t next_alias_id;

    /* execs.c */
    integ integs[SERVER_MAX_INTEGS];
    size_t n_integs;
    bt_strmap open_by_arn; /* open executions (and closed ones until committed) */
    bt_strmap open_by_id;  /* decimal id → xrec */
    xrec **dirty;          /* touched this iteration: flushed by execs_flush */
    size_t n_dirty, cap_dirty;
    xrec **heap; /* open executions with a timer, by next_timer */
    size_t n_heap, cap_heap;
    uv_timer_t timer;
    int64_t timer_due;
    int64_t next_exec_id;
    uint64_t n_open;
    /* Parked executions kept in memory, least recently used first (execs.c). */
    xrec *lru_head, *lru_tail;
    size_t n_lru;
    size_t max_resident;
    size_t max_open; /* open executions at most (ExecutionLimitExceeded beyond) */
    uv_timer_t retention_timer;
    int64_t swept_before; /* executions that ended before this are deleted or going */
    uint64_t n_loads, n_evictions;

    /* activities.c */
    struct activities *activities;
};

struct machine {
    int64_t id;
    char *arn, *name, *type;
    int64_t created_ms, updated_ms;
    int64_t revision;  /* current revision row */
    char *revision_id; /* AWS's revisionId (a UUID per update) */
    char *definition;  /* text as given */
    char *role_arn;
    char *logging; /* JSON text of loggingConfiguration */
    char *tracing; /* JSON text of tracingConfiguration */
    char *description;
    asl_machine *compiled;
    bool deleting;
};

/* server.c: reads the real clock into now_ms; every loop callback that may act on time
 * starts with it, so one batch of work sees one time. */
void server__tick(server *s);

/* schema.c */
size_t server_n_migrations(void);
void server_migrations(store_migration *out);

/* machines.c */
int machines_load(server *s, bt_err *err);
void machines_fini(server *s);
machine *machines_find(server *s, const char *arn);
/* The compiled definition of a revision (cached). NULL if it cannot be loaded. */
asl_machine *machines_revision(server *s, int64_t revision);

/* Small helpers of the operations (machines.c). */
/* A string member of a request, or NULL. */
const char *sfn_str(json_t *req, const char *key);
/* Epoch seconds with milliseconds, as the AWS JSON protocol writes times. */
double sfn_epoch_s(int64_t ms);
/* A copy, or NULL for NULL. */
char *srv_strdup0(const char *s);
/* A text column, or NULL (execs.c). */
const char *execs__col_text(sqlite3_stmt *st, int i);

/* Shared request checks (machines.c). */
int sfn_check_arn(const char *text, bt_arn_kind kind, bt_arn *out, sfn_err *err);
int sfn_page_args(json_t *req, const char *op, int64_t *position, size_t *max, sfn_err *err);
json_t *sfn_describe_machine_json(const machine *m);

/* versions.c: the registry of versions and aliases, and the hooks the state machine and
 * execution operations call. */
int versions_load(server *s, bt_err *err);
void versions_fini(server *s);
/* DeleteStateMachine: forgets m's versions and aliases (the store's triggers drop the rows). */
void versions_drop_machine(server *s, const machine *m);
/* CreateStateMachine / UpdateStateMachine, before they change anything: versionDescription
 * only with publish, and room for a version (m is NULL on create). */
int versions_check_publish(server *s, const machine *m, json_t *req, sfn_err *err);
/* …and after: publishes m's current revision when the request asks, adding
 * stateMachineVersionArn to out. */
void versions_publish_requested(server *s, machine *m, json_t *req, json_t *out);
/* True when arn names a version or an alias (a state machine ARN with a qualifier). */
bool versions_is_qualified(const char *arn);

/* What StartExecution runs for a version or alias ARN. */
typedef struct versions_target {
    machine *m;
    int64_t revision;
    asl_machine *compiled; /* borrowed from the revision cache */
    const char *role_arn;  /* borrowed from the version */
    char version_arn[BT_ARN_MAX_CHARS + 1];
    char alias_arn[BT_ARN_MAX_CHARS + 1]; /* "" when started through a version */
} versions_target;
int versions_resolve(server *s, const char *arn, versions_target *out, sfn_err *err);
/* Records, in the current batch, what execution exec_id was started through. */
void versions_note_execution(server *s, int64_t exec_id, const versions_target *t);
/* Adds stateMachineVersionArn / stateMachineAliasArn to a DescribeExecution answer or a
 * ListExecutions item, when the execution was started through them. */
void versions_annotate_execution(server *s, const char *exec_arn, json_t *out);
/* ListExecutions with a version or alias ARN: its machine, or NULL with err. */
machine *versions_list_target(server *s, const char *arn, sfn_err *err);
/* Pure: the index of the route a draw in [0, 100) picks, given weights summing to 100. */
size_t versions_pick_route(const int *weights, size_t n, uint32_t draw);

/* execs.c */
int execs_init(server *s, bt_err *err);
void execs_fini(server *s);
void execs_flush(server *s);

/* activities.c: the registry, the workers' long polls and the integration for activity ARNs
 * (after execs_init: open executions are known). */
int activities_init(server *s, bt_err *err);
void activities_fini(server *s);
bool activities_exists(server *s, const char *arn);
/* Task task_id of execution exec_id closed with an outcome from outside (SendTaskSuccess or
 * SendTaskFailure): it leaves its activity. */
void activities__task_closed(server *s, int64_t exec_id, uint64_t task_id);
/* Tag checks and writes shared with the activities (machines.c). */
int sfn_check_tags(json_t *tags, sfn_err *err);
void sfn_put_tags(server *s, const char *arn, json_t *tags);

#endif
