/*
 * integ_int.h — the pure half of the Step Functions integration for functions (fn/integ.c):
 * which resources it takes, Parameters to an invocation, and an invocation's outcome to the
 * task's result or failure as Step Functions shows it (Lambda notes §4). No service, no
 * clock: fn/integ_shape.c, tested by fn/integ_shape_test.c.
 */
#ifndef BT_FN_INTEG_INT_H
#define BT_FN_INTEG_INT_H

#include "fn/fn.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fn_integ_kind {
    FN_INTEG_NONE,
    FN_INTEG_INVOKE, /* arn:aws:states:::lambda:invoke */
    FN_INTEG_WAIT,   /* arn:aws:states:::lambda:invoke.waitForTaskToken */
    FN_INTEG_LEGACY, /* arn:aws:lambda:<region>:<account>:function:<name>[:qualifier] */
} fn_integ_kind;

fn_integ_kind fn_integ__kind(const char *resource);

typedef enum fn_integ_itype {
    FN_ITYPE_REQUEST_RESPONSE,
    FN_ITYPE_EVENT,
    FN_ITYPE_DRY_RUN,
} fn_integ_itype;

/* One invocation as the task asks for it. Strings are heap copies (fn_integ__req_fini). */
typedef struct fn_integ_req {
    char *function;       /* FunctionName as given (or the legacy resource) */
    char *qualifier;      /* Qualifier, or NULL */
    char *payload;        /* the event as JSON text (never NULL: "{}" when absent) */
    char *client_context; /* ClientContext decoded from base64, or NULL */
    fn_integ_itype itype;
    bool tail_log; /* LogType Tail */
} fn_integ_req;

/* Reads the task's Parameters (the optimised forms) or takes the effective input as the
 * event (legacy ARNs). 0, or -1 with *error and *cause (heap) describing the failure as the
 * task reports it. */
int fn_integ__decode(fn_integ_kind kind, const char *resource, json_t *params, fn_integ_req *out,
                     char **error, char **cause);
void fn_integ__req_fini(fn_integ_req *r);

/* An invocation's response bytes as the task sees them: parsed JSON, else the text as a JSON
 * string. New reference. */
json_t *fn_integ__parse_payload(const char *text, size_t len);

/* The lambda:invoke result (Invoke's response as the Java SDK returns it). status 200, 202
 * (Event: Payload "") or 204 (DryRun); http_date as in the Date header; trace_id the
 * X-Amzn-Trace-Id. New reference. */
json_t *fn_integ__envelope(const fn_result *r, int status, const char *request_id,
                           const char *http_date, const char *trace_id);

/*
 * A task result over Step Functions' 256 KiB payload limit fails the task (recorded: a
 * TaskFailed or LambdaFunctionFailed event with States.DataLimitExceeded): true with
 * *error and *cause (heap), naming "lambda" for the optimised forms and the function's ARN
 * for a legacy resource. False when the result fits.
 */
bool fn_integ__too_large(fn_integ_kind kind, const char *resource, json_t *result, char **error,
                         char **cause);

/* The failure for an outcome that is one: *error and *cause (heap). False when r succeeded.
 * request_id is used for API errors that carry none. */
bool fn_integ__failure(const fn_result *r, const char *request_id, char **error, char **cause);

/* "Tue, 06 Nov 2025 12:31:47 GMT" for epoch_ms. */
void fn_integ__http_date(int64_t epoch_ms, char out[40]);

#endif
