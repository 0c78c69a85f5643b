/*
 * sfn.h — the Step Functions operations, on the engine thread. Each takes the request as
 * the client sent it (a JSON object whose members api/sfn.c has checked for presence and
 * type) and returns the response object, or NULL with err set to AWS's error shape name and
 * message. Whatever an operation writes goes into the current batch, so the caller's reply,
 * sent after the commit, never promises what a crash could take back.
 */
#ifndef BT_SERVER_SFN_H
#define BT_SERVER_SFN_H

#include "integ/integ.h"
#include "server/server.h"

#include <jansson.h>

typedef struct sfn_err {
    const char *type; /* "ExecutionDoesNotExist", …; NULL when none */
    char message[2048];
} sfn_err;

int sfn_fail(sfn_err *err, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An IAM role ARN as Step Functions accepts it (machines.c): 0, or -1 with InvalidArn. */
int sfn_check_role(const char *role, sfn_err *err);

typedef json_t *(*sfn_op)(server *s, json_t *req, sfn_err *err);

/* state machines (machines.c) */
json_t *sfn_create_state_machine(server *s, json_t *req, sfn_err *err);
json_t *sfn_update_state_machine(server *s, json_t *req, sfn_err *err);
json_t *sfn_delete_state_machine(server *s, json_t *req, sfn_err *err);
json_t *sfn_describe_state_machine(server *s, json_t *req, sfn_err *err);
json_t *sfn_list_state_machines(server *s, json_t *req, sfn_err *err);
json_t *sfn_validate_definition(server *s, json_t *req, sfn_err *err);
json_t *sfn_tag_resource(server *s, json_t *req, sfn_err *err);
json_t *sfn_untag_resource(server *s, json_t *req, sfn_err *err);
json_t *sfn_list_tags(server *s, json_t *req, sfn_err *err);

/* versions and aliases (versions.c) */
json_t *sfn_publish_state_machine_version(server *s, json_t *req, sfn_err *err);
json_t *sfn_list_state_machine_versions(server *s, json_t *req, sfn_err *err);
json_t *sfn_delete_state_machine_version(server *s, json_t *req, sfn_err *err);
json_t *sfn_describe_state_machine_version(server *s, json_t *req, sfn_err *err);
json_t *sfn_create_state_machine_alias(server *s, json_t *req, sfn_err *err);
json_t *sfn_describe_state_machine_alias(server *s, json_t *req, sfn_err *err);
json_t *sfn_update_state_machine_alias(server *s, json_t *req, sfn_err *err);
json_t *sfn_delete_state_machine_alias(server *s, json_t *req, sfn_err *err);
json_t *sfn_list_state_machine_aliases(server *s, json_t *req, sfn_err *err);

/* executions (execs.c) */
json_t *sfn_start_execution(server *s, json_t *req, sfn_err *err);
json_t *sfn_describe_execution(server *s, json_t *req, sfn_err *err);
json_t *sfn_describe_state_machine_for_execution(server *s, json_t *req, sfn_err *err);
json_t *sfn_list_executions(server *s, json_t *req, sfn_err *err);
json_t *sfn_get_execution_history(server *s, json_t *req, sfn_err *err);
json_t *sfn_stop_execution(server *s, json_t *req, sfn_err *err);
json_t *sfn_redrive_execution(server *s, json_t *req, sfn_err *err); /* redrive.c */
json_t *sfn_send_task_success(server *s, json_t *req, sfn_err *err);
json_t *sfn_send_task_failure(server *s, json_t *req, sfn_err *err);
json_t *sfn_send_task_heartbeat(server *s, json_t *req, sfn_err *err);

/* StartSyncExecution answers when the execution ends: done(ctx, response, NULL), or
 * done(ctx, NULL, err); it returns -1 with err (and never calls done) when the request is
 * refused at once. */
typedef void (*sfn_sync_done)(void *ctx, json_t *response, const sfn_err *err);
int sfn_start_sync_execution(server *s, json_t *req, sfn_sync_done done, void *ctx, sfn_err *err);

/* An operation that answers later, in that shape: 0, then done exactly once (possibly before
 * it returns; done takes the response's reference), or -1 with err and no call of done. The
 * request is borrowed for the call only. */
typedef int (*sfn_async_op)(server *s, json_t *req, sfn_sync_done done, void *ctx, sfn_err *err);

/* TestState (teststate.c): one state run on its own, on the engine thread, recording nothing */
json_t *sfn_test_state(server *s, json_t *req, sfn_err *err);

/* activities (activities.c) */
json_t *sfn_create_activity(server *s, json_t *req, sfn_err *err);
json_t *sfn_describe_activity(server *s, json_t *req, sfn_err *err);
json_t *sfn_delete_activity(server *s, json_t *req, sfn_err *err);
json_t *sfn_list_activities(server *s, json_t *req, sfn_err *err);
/* The workers' long poll: answers {"taskToken", "input"} once a task is handed out (after
 * the commit of its ActivityStarted), or {} after 60 s or when the server stops. */
int sfn_get_activity_task(server *s, json_t *req, sfn_sync_done done, void *ctx, sfn_err *err);

/* Integrations for Task states: the server binds each Task state to the first that
 * handles it (at most SERVER_MAX_INTEGS; the server owns them from here). */
void server_add_integ(server *s, integ in);

/*
 * An integration's report that comes after its start() has returned — a function that
 * finished, a worker that died — for task task_id of the open execution execution_arn. The
 * execution is loaded when it is not in memory, the outcome recorded (it is durable with
 * the current batch) and the execution driven on, as SendTaskSuccess/Failure would. The
 * clock is read first. Engine thread only.
 * Returns 0; BT_ENOTFOUND when the execution is not open or the task is no longer open there
 * (timed out, cancelled, answered: nothing happens); BT_EIO when it could not be loaded.
 */
typedef enum server_report_kind {
    SERVER_REPORT_SUBMITTED, /* value: the service's response (TaskSubmitted) */
    SERVER_REPORT_SUCCEEDED, /* value: the task's result */
    SERVER_REPORT_FAILED,    /* error, cause (either may be NULL) */
    SERVER_REPORT_HEARTBEAT,
} server_report_kind;
typedef struct server_report {
    server_report_kind kind;
    json_t *value; /* borrowed */
    const char *error, *cause;
} server_report;
int server_task_report(server *s, const char *execution_arn, uint64_t task_id,
                       const server_report *r);
/* True when task task_id of execution_arn is open (so a restarted integration knows whether
 * a task it recorded still waits for it). Loads the execution when needed. */
bool server_task_is_open(server *s, const char *execution_arn, uint64_t task_id);

/* Pagination tokens: opaque, tied to the operation that issued them. */
char *sfn_page_token(const char *op, int64_t position);
bool sfn_page_parse(const char *op, const char *token, int64_t *position);

#endif
