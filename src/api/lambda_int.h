/*
 * lambda_int.h — what lambda.c and lambda_codec.c share: the routes of the Lambda API, the
 * Runtime names, the checks Lambda's model makes and the JSON it answers with. Pure (no
 * service calls), so lambda_test.c reaches all of it.
 */
#ifndef BT_API_LAMBDA_INT_H
#define BT_API_LAMBDA_INT_H

#include "api/api.h"
#include "base/buf.h"
#include "base/err.h"
#include "fn/fn.h"
#include "trigger/trigger.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define LAMBDA_PREFIX "/2015-03-31/"

#define LAMBDA_OPS(X)                                                                              \
    X(INVOKE, "Invoke")                                                                            \
    X(CREATE_FUNCTION, "CreateFunction")                                                           \
    X(GET_FUNCTION, "GetFunction")                                                                 \
    X(GET_FUNCTION_CONFIGURATION, "GetFunctionConfiguration")                                      \
    X(LIST_FUNCTIONS, "ListFunctions")                                                             \
    X(UPDATE_FUNCTION_CODE, "UpdateFunctionCode")                                                  \
    X(UPDATE_FUNCTION_CONFIGURATION, "UpdateFunctionConfiguration")                                \
    X(DELETE_FUNCTION, "DeleteFunction")                                                           \
    X(CREATE_EVENT_SOURCE_MAPPING, "CreateEventSourceMapping")                                     \
    X(GET_EVENT_SOURCE_MAPPING, "GetEventSourceMapping")                                           \
    X(LIST_EVENT_SOURCE_MAPPINGS, "ListEventSourceMappings")                                       \
    X(UPDATE_EVENT_SOURCE_MAPPING, "UpdateEventSourceMapping")                                     \
    X(DELETE_EVENT_SOURCE_MAPPING, "DeleteEventSourceMapping")                                     \
    X(LOGS, "BatonFunctionLogs")

typedef enum lambda_op {
#define X(id, name) LAMBDA_OP_##id,
    LAMBDA_OPS(X)
#undef X
        LAMBDA_OP_COUNT
} lambda_op;

const char *lambda_op_name(lambda_op op);

/* The route of a request: the operation and the path's resource (a function as given, or a
 * mapping's UUID; "" when none). 0; BT_ENOTFOUND when no operation has this path;
 * BT_EINVAL when the path has one but not for this method. */
typedef struct lambda_route {
    lambda_op op;
    char resource[512];
} lambda_route;
int lambda_route_parse(const char *method, const char *path, lambda_route *out);

/* Runtime names: Lambda's current ones Baton runs (nodejs*, python3.9+, provided*), plus
 * Baton's "exec" and "url". BT_EINVAL with Lambda's message for a deprecated runtime or one
 * Lambda does not know, and Baton's for one Lambda knows but Baton does not run (java, …). */
int lambda_runtime_parse(const char *name, fn_runtime *out, bt_err *err);

/* Role against the pattern of Lambda's model (else ValidationException). */
bool lambda_role_ok(const char *role);

/* "2024-05-01T10:00:00.000+0000": FunctionConfiguration.LastModified. out: 40 bytes. */
void lambda_time_format(int64_t ms, char out[40]);

/* The qualifier a call means: from the name (name:q / ARN:q) and the Qualifier parameter;
 * BT_EINVAL (with Lambda's message) when both are given and differ. *out borrowed from one
 * of them, NULL when neither. */
int lambda_qualifier(const char *from_name, const char *from_query, const char **out, bt_err *err);

/* FunctionConfiguration as Lambda answers it (new reference). */
json_t *lambda_config_json(const fn_info *fi);

/* An error body {"Type": "User"|"Service", "Message": …} into b (status >= 500: Service). */
void lambda_error_body(bt_buf *b, int status, const char *message, const char *reason);

/* Lambda's status for an error code ("ResourceNotFoundException" → 404). */
int lambda_error_status(const char *code);

/* ---- shared by lambda.c and lambda_esm.c (not pure: they answer calls) ---- */

typedef struct lcall {
    api_call *c;
    fn_service *fs;
    trigger_service *ts;
    lambda_route route;
    bt_form *query;
    json_t *body; /* control operations: the JSON body (an object) */
} lcall;

void lambda__free(lcall *l);
/* Answers the error (status from the code; reason: TooManyRequestsException's Reason, which
 * adds Retry-After) and frees l. */
void lambda__fail(lcall *l, const char *code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answers body (reference stolen) with status and frees l. */
void lambda__ok_json(lcall *l, int status, json_t *body);
/* A query parameter, or NULL. */
const char *lambda__query(lcall *l, const char *key);
/* A member of the body of the type asked (JSON_TRUE: a boolean): *out NULL when absent or
 * null; false when answered (a wrong type). */
bool lambda__member(lcall *l, const char *key, json_type type, json_t **out);
void lambda__esm(lcall *l);

#endif
