/*
 * sfn.c — the Step Functions API over AWS JSON 1.0: the table of operations, each with
 * the members its request may carry (type, and whether required), checked here so that the
 * operations in server/ see only well-typed requests; and AWS's error shapes:
 * HTTP 400 with {"__type": "com.amazonaws.swf.service.v2.model#<Name>", "message": …}
 * (ValidationException under com.amazon.coral.validate#, as AWS sends it).
 * An operation either answers at once (fn) or later (async: long polls, the sync start), and
 * both answers take the same way out.
 */
#include "api/sfn.h"
#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

typedef struct op_spec {
    const char *name;
    sfn_op fn;
    /* "member:type" list, comma-separated; type s string, o object, a array, b boolean,
     * i integer; a trailing '!' marks a required member. */
    const char *members;
} op_spec;

static const op_spec ops[] = {
    {"CreateStateMachine", sfn_create_state_machine,
     "name:s!,definition:s!,roleArn:s!,type:s,loggingConfiguration:o,tags:a,"
     "tracingConfiguration:o,publish:b,versionDescription:s,encryptionConfiguration:o"},
    {"UpdateStateMachine", sfn_update_state_machine,
     "stateMachineArn:s!,definition:s,roleArn:s,loggingConfiguration:o,tracingConfiguration:o,"
     "publish:b,versionDescription:s,encryptionConfiguration:o"},
    {"DeleteStateMachine", sfn_delete_state_machine, "stateMachineArn:s!"},
    {"DescribeStateMachine", sfn_describe_state_machine, "stateMachineArn:s!,includedData:s"},
    {"ListStateMachines", sfn_list_state_machines, "maxResults:i,nextToken:s"},
    {"ValidateStateMachineDefinition", sfn_validate_definition,
     "definition:s!,type:s,severity:s,maxResults:i"},
    {"TagResource", sfn_tag_resource, "resourceArn:s!,tags:a!"},
    {"UntagResource", sfn_untag_resource, "resourceArn:s!,tagKeys:a!"},
    {"ListTagsForResource", sfn_list_tags, "resourceArn:s!"},
    {"PublishStateMachineVersion", sfn_publish_state_machine_version,
     "stateMachineArn:s!,revisionId:s,description:s"},
    {"ListStateMachineVersions", sfn_list_state_machine_versions,
     "stateMachineArn:s!,nextToken:s,maxResults:i"},
    {"DeleteStateMachineVersion", sfn_delete_state_machine_version, "stateMachineVersionArn:s!"},
    {"CreateStateMachineAlias", sfn_create_state_machine_alias,
     "name:s!,routingConfiguration:a!,description:s"},
    {"DescribeStateMachineAlias", sfn_describe_state_machine_alias, "stateMachineAliasArn:s!"},
    {"UpdateStateMachineAlias", sfn_update_state_machine_alias,
     "stateMachineAliasArn:s!,description:s,routingConfiguration:a"},
    {"DeleteStateMachineAlias", sfn_delete_state_machine_alias, "stateMachineAliasArn:s!"},
    {"ListStateMachineAliases", sfn_list_state_machine_aliases,
     "stateMachineArn:s!,nextToken:s,maxResults:i"},
    {"StartExecution", sfn_start_execution, "stateMachineArn:s!,name:s,input:s,traceHeader:s"},
    {"DescribeExecution", sfn_describe_execution, "executionArn:s!,includedData:s"},
    {"DescribeStateMachineForExecution", sfn_describe_state_machine_for_execution,
     "executionArn:s!,includedData:s"},
    {"ListExecutions", sfn_list_executions,
     "stateMachineArn:s,statusFilter:s,maxResults:i,nextToken:s,mapRunArn:s,redriveFilter:s"},
    {"GetExecutionHistory", sfn_get_execution_history,
     "executionArn:s!,maxResults:i,reverseOrder:b,nextToken:s,includeExecutionData:b"},
    {"StopExecution", sfn_stop_execution, "executionArn:s!,error:s,cause:s"},
    {"RedriveExecution", sfn_redrive_execution, "executionArn:s!,clientToken:s"},
    {"SendTaskSuccess", sfn_send_task_success, "taskToken:s!,output:s!"},
    {"SendTaskFailure", sfn_send_task_failure, "taskToken:s!,error:s,cause:s"},
    {"SendTaskHeartbeat", sfn_send_task_heartbeat, "taskToken:s!"},
    {"CreateActivity", sfn_create_activity, "name:s!,tags:a,encryptionConfiguration:o"},
    {"DescribeActivity", sfn_describe_activity, "activityArn:s!"},
    {"DeleteActivity", sfn_delete_activity, "activityArn:s!"},
    {"ListActivities", sfn_list_activities, "maxResults:i,nextToken:s"},
    {"GetActivityTask", NULL, "activityArn:s!,workerName:s"},
    {"StartSyncExecution", NULL, "stateMachineArn:s!,name:s,input:s,traceHeader:s,includedData:s"},
    {"TestState", sfn_test_state,
     "definition:s!,roleArn:s,input:s,inspectionLevel:s,revealSecrets:b,variables:s,stateName:s,"
     "mock:o,context:s,stateConfiguration:o"},
};

/* The operations that answer later (fn NULL above, where their members are listed). */
static const struct async_spec {
    const char *name;
    sfn_async_op fn;
} async_ops[] = {
    {"GetActivityTask", sfn_get_activity_task},
    {"StartSyncExecution", sfn_start_sync_execution},
};

static sfn_async_op find_async(const char *name)
{
    for (size_t i = 0; i < sizeof async_ops / sizeof async_ops[0]; i++)
        if (strcmp(async_ops[i].name, name) == 0)
            return async_ops[i].fn;
    return NULL;
}

static const op_spec *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}

static const char *type_word(char t)
{
    switch (t) {
    case 's':
        return "a string";
    case 'o':
        return "an object";
    case 'a':
        return "a list";
    case 'b':
        return "a boolean";
    default:
        return "a number";
    }
}

static bool type_ok(json_t *v, char t)
{
    switch (t) {
    case 's':
        return json_is_string(v);
    case 'o':
        return json_is_object(v);
    case 'a':
        return json_is_array(v);
    case 'b':
        return json_is_boolean(v);
    default:
        return json_is_integer(v);
    }
}

/* Checks the request against the member list; 0, or the error already answered. */
/* The members of req against op's list: 0, or -1 with AWS's error (type and message). */
static int check_spec(const op_spec *op, json_t *req, sfn_err *err)
{
    const char *p = op->members;
    while (*p) {
        const char *colon = strchr(p, ':');
        char name[64];
        size_t n = (size_t)(colon - p);
        memcpy(name, p, n);
        name[n] = '\0';
        char type = colon[1];
        bool required = colon[2] == '!';
        p = colon + (required ? 3 : 2);
        if (*p == ',')
            p++;
        json_t *v = json_object_get(req, name);
        if (v == NULL || json_is_null(v)) {
            if (v)
                json_object_del(req, name); /* null is absent, as SDKs mean it */
            if (required)
                return sfn_fail(err, "ValidationException",
                                "1 validation error detected: Value null at '%s' failed to "
                                "satisfy constraint: Member must not be null",
                                name);
            continue;
        }
        if (!type_ok(v, type))
            return sfn_fail(err, "SerializationException", "Expected %s for member '%s' of %s",
                            type_word(type), name, op->name);
    }
    return 0;
}

int api_sfn_check(const char *op_name, json_t *req, sfn_err *err)
{
    const op_spec *op = find_op(op_name);
    if (op == NULL)
        return sfn_fail(err, "UnknownOperationException",
                        "The operation AWSStepFunctions.%s is not known", op_name);
    return check_spec(op, req, err);
}

size_t api_sfn_n_ops(void)
{
    return sizeof ops / sizeof ops[0];
}

const char *api_sfn_op_name(size_t i)
{
    return i < api_sfn_n_ops() ? ops[i].name : NULL;
}

static void reply_error(api_call *c, const sfn_err *err)
{
    char type[160];
    if (err == NULL || err->type == NULL) {
        api_reply_json_error(c, 500, "InternalFailure", "%s failed", c->op);
        return;
    }
    if (strcmp(err->type, "ValidationException") == 0) {
        snprintf(type, sizeof type, "com.amazon.coral.validate#%s", err->type);
    } else if (strcmp(err->type, "ServiceUnavailable") == 0 ||
               strcmp(err->type, "InternalFailure") == 0) {
        api_reply_json_error(c, err->type[0] == 'S' ? 503 : 500, err->type, "%s", err->message);
        return;
    } else if (strcmp(err->type, "SerializationException") == 0) {
        snprintf(type, sizeof type, "%s", err->type); /* the protocol's, not the service's */
    } else {
        snprintf(type, sizeof type, "com.amazonaws.swf.service.v2.model#%s", err->type);
    }
    api_reply_json_error(c, 400, type, "%s", err->message);
}

static void async_done(void *ctx, json_t *response, const sfn_err *err)
{
    if (response)
        api_reply_json(ctx, response);
    else
        reply_error(ctx, err);
}

void api_sfn(api_call *c)
{
    const op_spec *op = find_op(c->op);
    if (op == NULL) {
        api_reply_json_error(c, 400, "UnknownOperationException",
                             "The operation AWSStepFunctions.%s is not known", c->op);
        return;
    }
    sfn_err err = {0};
    if (check_spec(op, c->json, &err) != 0) {
        reply_error(c, &err);
        return;
    }
    if (op->fn == NULL) {
        /* c belongs to async_done from here unless the operation refuses at once. */
        if (find_async(op->name)(c->srv, c->json, async_done, c, &err) != 0)
            reply_error(c, &err);
        return;
    }
    json_t *out = op->fn(c->srv, c->json, &err);
    if (out) {
        api_reply_json(c, out);
        return;
    }
    reply_error(c, &err);
}
