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

/* Pagination tokens: opaque, tied to the operation that issued them. */
char *sfn_page_token(const char *op, int64_t position);
bool sfn_page_parse(const char *op, const char *token, int64_t *position);

#endif
