/*
 * project.h — the project file (baton.yaml): one YAML document that declares a whole system
 * — state machines, functions, queues, triggers, topics, routes, schedules, mail and
 * approval-link settings — loaded by `baton serve --config` and checked by `baton check`.
 * docs/project-file.md is the format's reference.
 *
 * Three steps, each its own file:
 *   parse.c  YAML text → a tree of nodes, each with the line and column it starts at
 *   check.c  the tree → the model below, every problem reported (not only the first) as
 *            "FILE:LINE:COL: error: WHAT (expected WHAT)"; definitions validated as
 *            CreateStateMachine does, secrets read from the environment or from files
 *   apply.c  the model → a running server, idempotently (project_runtime)
 *
 * Everything here is plain data owned by the project (project_free); no I/O but reading the
 * file, the definitions it names and the secret files.
 */
#ifndef BT_PROJECT_PROJECT_H
#define BT_PROJECT_PROJECT_H

#include "fn/fn.h"
#include "queue/queue.h"
#include "route/route.h"
#include "sched/sched.h"
#include "topic/topic.h"
#include "trigger/trigger.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where a node starts in the file, 1-based. */
typedef struct prj_mark {
    int line, col;
} prj_mark;

/* ---- the YAML tree (parse.c) ---- */

typedef enum prj_kind {
    PRJ_SCALAR,
    PRJ_MAP,
    PRJ_SEQ,
} prj_kind;

typedef struct prj_node prj_node;
struct prj_node {
    prj_kind kind;
    prj_mark at;
    char *text; /* PRJ_SCALAR: the value (NUL-terminated, len bytes) */
    size_t len;
    bool is_plain;    /* unquoted scalar: may be a number, a boolean or null */
    prj_node **keys;  /* PRJ_MAP: n pairs keys[i] → items[i] (keys are scalars) */
    prj_node **items; /* PRJ_MAP values, PRJ_SEQ items */
    size_t n;
};

/* One problem: where, and the sentence after "error: ". */
typedef struct prj_problem {
    prj_mark at;
    char *msg;
} prj_problem;

typedef struct prj_problems {
    prj_problem *items;
    size_t len, cap;
    const char *file; /* as the caller named it, for rendering (borrowed) */
} prj_problems;

void prj_problems_init(prj_problems *p, const char *file);
void prj_problems_fini(prj_problems *p);
void prj_problem_add(prj_problems *p, prj_mark at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Orders the problems by position (stable). */
void prj_problems_sort(prj_problems *p);
/* "FILE:LINE:COL: error: MSG\n" for each, to f. */
void prj_problems_print(const prj_problems *p, FILE *f);

/* Parses YAML text (one document) into a tree. NULL with a problem added when the text is not
 * YAML (libyaml's message at its mark). An empty document gives an empty map. Aliases are
 * expanded (the alias's mark is the anchor's). */
prj_node *prj_parse(const char *text, size_t len, prj_problems *problems);
void prj_node_free(prj_node *n);
/* The value of key in map n, or NULL. */
prj_node *prj_map_get(const prj_node *n, const char *key);
/* A node as JSON: plain scalars become null, booleans, integers or reals where YAML 1.2's
 * core schema reads them so, everything else a string. New reference. */
json_t *prj_node_to_json(const prj_node *n);

/* ---- the model (check.c) ---- */

typedef struct prj_tag {
    char *key, *value;
} prj_tag;

typedef struct prj_machine {
    char *name;
    prj_mark at;
    char *definition;      /* JSON text, as CreateStateMachine receives it */
    char *definition_path; /* absolute path of the file it came from, or NULL (inline) */
    char *type;            /* "STANDARD" or "EXPRESS" */
    char *role;            /* NULL: the server's default role */
    json_t *logging;       /* loggingConfiguration as the API takes it, or NULL */
    json_t *tracing;       /* tracingConfiguration, or NULL */
    prj_tag *tags;
    size_t n_tags;
} prj_machine;

typedef struct prj_function {
    char *name;
    prj_mark at;
    fn_runtime runtime;
    char *aws_runtime; /* "nodejs20.x" when given so, else NULL */
    char *handler;
    char *code_dir; /* absolute, or NULL */
    char **command; /* exec: NULL-terminated argv */
    char *url;
    char *description;
    char *role;
    int timeout_s, memory_mb, concurrency; /* 0: the service's default */
    json_t *environment;                   /* object of strings, or NULL */
} prj_function;

typedef struct prj_queue {
    char *name;
    prj_mark at;
    bool fifo;
    bool content_based_dedup;
    /* -1: AWS's default */
    int64_t visibility_timeout_s, retention_s, delay_s, max_message_size, receive_wait_s;
    char *dlq;             /* a declared queue's name or a queue ARN, or NULL */
    int max_receive_count; /* with dlq */
} prj_queue;

typedef struct prj_trigger {
    prj_mark at;
    char *queue;           /* a declared queue's name or a queue ARN */
    char *function;        /* a declared function's name or a function ARN */
    int batch_size;        /* 0: 10 */
    int batching_window_s; /* 0 */
    bool report_item_failures;
    bool enabled;
    int max_concurrency; /* 0: unset */
} prj_trigger;

typedef struct prj_subscription {
    prj_mark at;
    char *protocol; /* email, email-json, http, https, sqs, lambda */
    char *endpoint;
    json_t *filter_policy; /* or NULL */
    bool raw;
} prj_subscription;

typedef struct prj_topic {
    char *name;
    prj_mark at;
    prj_subscription *subs;
    size_t n_subs;
} prj_topic;

typedef struct prj_route {
    prj_mark at;
    char *method; /* GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY */
    char *path;   /* "/verification" */
    char *function;
    bool confirm;             /* approval-link style: a page to confirm before the call */
    json_t *request_template; /* or NULL */
    bool proxy;               /* the whole request as API Gateway's proxy event */
} prj_route;

/* What a schedule starts or delivers to: `target` (a state machine), `function`, `queue` or
 * `topic`. */
typedef enum prj_target_kind {
    PRJ_TARGET_MACHINE,
    PRJ_TARGET_FUNCTION,
    PRJ_TARGET_QUEUE,
    PRJ_TARGET_TOPIC,
} prj_target_kind;

typedef struct prj_schedule {
    char *name;
    prj_mark at;
    char *expression; /* rate(…), cron(…), at(…) */
    char *timezone;   /* NULL: UTC */
    char *target;     /* the target's declared name or its ARN, of the kind below */
    prj_target_kind target_kind;
    json_t *input; /* {} when not given */
    bool enabled;
    bool skip_overlap; /* overlap: skip */
    bool catch_up;
    bool fire_at_start; /* the first fire when the schedule is put, not one period later */
} prj_schedule;

typedef struct prj_smtp {
    bool is_set;
    prj_mark at;
    char *host;
    int port; /* 587 */
    bool starttls;
    char *ca_file; /* absolute, or NULL */
    char *username, *password, *from;
} prj_smtp;

typedef struct project {
    char *path; /* absolute */
    char *dir;  /* its folder: relative paths start here */
    prj_machine *machines;
    size_t n_machines;
    prj_function *functions;
    size_t n_functions;
    prj_queue *queues;
    size_t n_queues;
    prj_trigger *triggers;
    size_t n_triggers;
    prj_topic *topics;
    size_t n_topics;
    prj_route *routes;
    size_t n_routes;
    prj_schedule *schedules;
    size_t n_schedules;
    prj_smtp smtp;
    char *public_url;
    char *signing_key;
} project;

/* Reads, parses and checks the file. 0 with *out set when it has no problem; BT_EINVAL with
 * every problem in problems (and *out NULL); BT_EIO when it cannot be read (one problem at
 * 0:0 saying why). problems must be initialised (its file is how messages name the file). */
int project_load(const char *path, project **out, prj_problems *problems);
/* The same from text (tests); dir is where relative paths start. */
int project_load_text(const char *text, size_t len, const char *dir, project **out,
                      prj_problems *problems);
void project_free(project *p);

const prj_machine *project_machine(const project *p, const char *name);
const prj_function *project_function(const project *p, const char *name);
const prj_queue *project_queue(const project *p, const char *name);

/* "2 state machines, 4 functions, 1 queue, 1 trigger" (and the rest when present). */
char *project_summary(const project *p);

/* The stable id of a trigger declared by the file: a UUID (version 5 layout) made from the
 * SHA-256 of its queue and function, so reloads find the mapping they made before. */
void project_trigger_uuid(const char *queue, const char *function, char out[37]);

/* ---- applying it to a running server (apply.c), engine thread only ---- */

/* What the file declared, so that a reload removes what it no longer declares (and nothing
 * the API created): one store migration of its own. */
#define PROJECT_SCHEMA_VERSION 10
extern const char project_schema_v1[];

/* The services a project is applied to. fns, triggers and sched may be NULL (a build or a
 * server without them): their sections are then checked but not applied, with a warning. */
typedef struct project_services {
    server *srv;
    queue_service *queues;
    fn_service *fns;
    trigger_service *triggers;
    sched_service *sched;
    topic_service *topics; /* may be NULL: topics and smtp are then not applied */
    route_table *routes;   /* may be NULL: routes are then not applied */
    /* Called at the end of every apply (the start, each reload) with the project applied
     * (borrowed): what a higher layer takes from the file (the approvals' public_url and
     * signing_key). May be NULL. */
    void (*applied)(void *ctx, const project *p);
    void *applied_ctx;
} project_services;

typedef struct project_runtime project_runtime;

/* Reads what earlier loads declared (table project_owned). path is the file as the user
 * named it (re-read on SIGHUP). NULL with err when the store cannot be read. */
project_runtime *project_runtime_new(const project_services *svc, const char *path, bt_err *err);
/* Makes the server hold what p declares, idempotently: state machines created, or updated
 * when their definition, role, logging or tracing changed (and re-created when their type
 * did); queues created or their attributes set; functions, triggers and schedules put with
 * origin project; what an earlier load declared and p does not is removed. Writes go into the
 * current batch. Takes ownership of p. Returns the number of declarations that failed (each
 * logged). */
int project_apply(project_runtime *rt, project *p);
/* Reloads on SIGHUP (a uv_signal on the server's loop): re-reads and checks the file; with
 * problems, logs them and keeps what runs; else applies it. */
void project_runtime_watch(project_runtime *rt);
/* Re-reads, checks and applies now (what SIGHUP does). 0, or BT_EINVAL/BT_EIO (logged). */
int project_reload(project_runtime *rt);
/* The project applied last (borrowed), or NULL. */
const project *project_current(const project_runtime *rt);
/* Stops watching; the memory goes once the signal handle has closed (server_free runs the
 * loop for that). NULL does nothing. */
void project_runtime_free(project_runtime *rt);

#endif
