/*
 * server_int.h — the server's private state, shared by server.c (the loop and the commit
 * path), machines.c (state machines and their revisions), execs.c (durable executions),
 * activities.c (activities and their workers) and schema.c (the tables).
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
    struct {
        uint64_t batches;
    } stats;

    /* machines.c */
    bt_strmap machines; /* arn → machine */
    machine **machine_list;
    size_t n_machines, cap_machines;
    int64_t next_machine_id, next_revision_id;
    bt_strmap revisions; /* revision id (decimal) → compiled asl_machine (cache) */

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

/* schema.c */
size_t server_n_migrations(void);
void server_migrations(store_migration *out);

/* machines.c */
int machines_load(server *s, bt_err *err);
void machines_fini(server *s);
machine *machines_find(server *s, const char *arn);
/* The compiled definition of a revision (cached). NULL if it cannot be loaded. */
asl_machine *machines_revision(server *s, int64_t revision);

/* Shared request checks (machines.c). */
int sfn_check_arn(const char *text, bt_arn_kind kind, bt_arn *out, sfn_err *err);
int sfn_page_args(json_t *req, const char *op, int64_t *position, size_t *max, sfn_err *err);
json_t *sfn_describe_machine_json(const machine *m);

/* Shared request checks (machines.c). */
int sfn_check_arn(const char *text, bt_arn_kind kind, bt_arn *out, sfn_err *err);
int sfn_page_args(json_t *req, const char *op, int64_t *position, size_t *max, sfn_err *err);
json_t *sfn_describe_machine_json(const machine *m);

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
