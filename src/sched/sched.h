/*
 * sched.h — schedules: EventBridge rules with a ScheduleExpression whose targets are state
 * machines, functions, queues and topics, on the engine thread.
 *
 * A rule (table sched_rule) holds its expression (expr.h), an optional IANA time zone (the
 * project file's; EventBridge rules are UTC), its state, an overlap policy (allow, or skip a
 * target while the execution its previous fire started still runs) and a catch-up policy,
 * and its next fire time. Its targets (table sched_target, at most 5) name a state machine
 * (or its version or alias), a function, a queue or a topic, and the Input to give it;
 * without Input the target gets EventBridge's Scheduled Event (notes §5.3). State machines
 * are started here; the other targets are delivered through a sched_target_ops table that a
 * higher layer registers (the services behind them rank above or beside this one). Rules with
 * only an EventPattern are kept and listed but never fire: Baton has no event bus.
 *
 * Firing: one uv timer for the earliest next fire of every rule (a heap), whatever their
 * number. A fire records the rule's next and last fire time in the current batch together
 * with the StartExecution or delivery it causes, so that both are durable or neither is, and the
 * execution's name is derived from the rule and the fire time (sched_exec_name): a crash
 * between the fire and its commit fires again after the restart, and the name keeps two
 * starts of one fire from both running. A fire found more than SCHED_GRACE_MS late (the
 * server was down) starts nothing unless the rule catches up, and then starts one execution
 * per target for the first missed time, however many were missed; the next fire is the
 * first after now.
 *
 * Time: server_now_ms, plus an offset that only tests move (sched_advance_clock, enabled by
 * the environment variable BATON_TEST_CLOCK; see docs/schedules.md).
 */
#ifndef BT_SCHED_SCHED_H
#define BT_SCHED_SCHED_H

#include "base/err.h"
#include "sched/expr.h"
#include "server/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SCHED_SCHEMA_VERSION 11
extern const char sched_schema_v1[];

#define SCHED_NAME_MAX    64
#define SCHED_TARGETS_MAX 5
#define SCHED_GRACE_MS    60000
/* Fires handled per loop iteration at most (the rest on the next one). */
#define SCHED_FIRES_PER_TURN 500

typedef enum sched_origin {
    SCHED_ORIGIN_API,
    SCHED_ORIGIN_PROJECT,
} sched_origin;

typedef struct sched_target {
    char *id;
    char *arn;
    char *role_arn;   /* or NULL */
    char *input;      /* JSON text, or NULL */
    char *input_path; /* stored and listed; the whole event is delivered */
    char *last_exec;  /* the execution its last fire started, or NULL */
} sched_target;

typedef struct sched_target_config {
    const char *id, *arn, *role_arn, *input, *input_path; /* the last three may be NULL */
} sched_target_config;

typedef struct sched_rule_config {
    const char *name;
    const char *expression;    /* or NULL */
    const char *event_pattern; /* or NULL; one of the two is needed */
    bool enabled;
    const char *description, *role_arn; /* or NULL */
    const char *timezone;               /* NULL: UTC */
    bool allow_at;                      /* at(…) accepted (the project file's schedules) */
    bool skip_overlap, catch_up;
    /* The first fire is when the rule is put (new, or its expression, zone or state changed)
     * rather than the expression's first time after it: rate(10 minutes) fires now, then
     * every 10 minutes from now. Not kept: putting the same rule again changes nothing. */
    bool fire_at_start;
} sched_rule_config;

typedef struct sched_rule {
    char *name, *arn;
    char *expression, *event_pattern, *description, *role_arn, *timezone; /* or NULL */
    bool enabled, skip_overlap, catch_up;
    sched_origin origin;
    int64_t anchor_ms;    /* rates count from here (creation, or the expression's change) */
    int64_t next_fire_ms; /* 0: none */
    int64_t last_fire_ms; /* 0: never */
    sched_target *targets;
    size_t n_targets;
} sched_rule;

typedef struct sched_service sched_service;

/*
 * Delivery to targets other than state machines. handles(ctx, arn) says whether the table
 * delivers to arn; deliver(ctx, rule, arn, payload, dedup_id, id, err) delivers the payload
 * (JSON
 * text) by writing it into the current batch (server_batch) — a message into a queue, an
 * Event invocation of a function, a publish to a topic — so that it is durable with the fire
 * that causes it and takes effect only after that commit. dedup_id is the same for every
 * delivery of one (rule, target, fire time) (sched_exec_name). 0 with what identifies the
 * delivery (a message or request id) in id, or a negative BT_E* with err's message.
 */
#define SCHED_DELIVERY_ID_MAX 64
typedef struct sched_target_ops {
    bool (*handles)(void *ctx, const char *arn);
    int (*deliver)(void *ctx, const char *rule, const char *arn, const char *payload,
                   const char *dedup_id, char id[SCHED_DELIVERY_ID_MAX], bt_err *err);
} sched_target_ops;

/* Loads the rules; NULL with err when the store cannot be read. */
sched_service *sched_service_new(server *srv, bt_err *err);
void sched_service_free(sched_service *ss);
/* Registers the delivery of targets that are not state machines (ops and ctx borrowed until
 * sched_service_free); without it they are logged and skipped. */
void sched_set_target_ops(sched_service *ss, const sched_target_ops *ops, void *ctx);

/* Creates or replaces a rule (its targets stay). BT_EINVAL with EventBridge's message
 * (SCHED_EXPR_INVALID for a bad expression), BT_ENOTFOUND for an unknown time zone. */
int sched_put_rule(sched_service *ss, const sched_rule_config *cfg, sched_origin origin,
                   bt_err *err);
/* BT_ESTATE when it has targets and force is false; a missing rule is no error. */
int sched_delete_rule(sched_service *ss, const char *name, bool force);
/* BT_ENOTFOUND when absent. Enabling starts counting from now (nothing is caught up). */
int sched_set_enabled(sched_service *ss, const char *name, bool enabled);
/* Adds or replaces target t->id of rule (strings copied). BT_ENOTFOUND, or BT_ELIMIT past
 * SCHED_TARGETS_MAX. */
int sched_put_target(sched_service *ss, const char *rule, const sched_target_config *t);
/* BT_ENOTFOUND when the rule or the target is absent. */
int sched_remove_target(sched_service *ss, const char *rule, const char *id);

/* Borrowed until the next change; NULL when absent. */
const sched_rule *sched_get(sched_service *ss, const char *name);
/* The rules whose name starts with prefix (NULL: all), by name; heap array of borrowed
 * pointers for the caller to free(). origin_only >= 0 keeps that origin only. */
const sched_rule **sched_list(sched_service *ss, const char *prefix, int origin_only, size_t *n);

/* The execution name of a fire, deterministic and distinct for each (rule, target, fire
 * time): "<rule>-<yyyymmddThhmmssZ>", or with several targets "<rule>+<target>-<…>"; when
 * that part would pass SCHED_EXEC_BASE_MAX characters it is the rule's first 46, '=' and 16
 * hex digits of a SHA-256 of the exact pair, so the name fits Step Functions' 80 and its
 * characters. out has at least 81 bytes. */
#define SCHED_EXEC_BASE_MAX 63
void sched_exec_name(const char *rule, const char *target, bool many_targets, int64_t fire_ms,
                     char out[81]);
/* The Scheduled Event a target without Input receives (new reference). */
json_t *sched_event(const char *region, const char *account, const char *rule_arn, int64_t fire_ms,
                    const char *id);

/* The schedules' clock: server_now_ms plus the test offset. */
int64_t sched_now_ms(sched_service *ss);
/* Tests only (BATON_TEST_CLOCK): moves the clock forward by ms and fires what is due. */
void sched_advance_clock(sched_service *ss, int64_t ms);
/* True when the server runs with BATON_TEST_CLOCK (the clock endpoint exists). */
bool sched_test_clock_enabled(const sched_service *ss);
/* Counters: fires recorded, executions started, deliveries to other targets, skipped
 * (overlap), missed (downtime). */
json_t *sched_stats(sched_service *ss);

#endif
