/*
 * fn.h — Baton's Lambda-compatible functions as the server runs them, on the engine thread.
 *
 * A function is code in a folder (its task root) and a configuration. Invoking it hands an
 * event (JSON text) to a warm worker and calls back with the worker's answer:
 *
 *   nodejs, python  a worker process running the runtime client that ships with Baton
 *                   (written under <data>/runtime/ at start), which loads `handler`
 *                   (index.handler) from the task root and speaks the Lambda Runtime API
 *   provided        the task root's own `bootstrap` executable, speaking the Runtime API
 *   exec            any executable, one process per invocation: event on stdin, result on
 *                   stdout
 *   url             an HTTP endpoint: the event POSTed, the body of the answer is the result
 *
 * Each worker process gets its own Runtime API listener on 127.0.0.1 (AWS_LAMBDA_RUNTIME_API)
 * and Lambda's environment, plus AWS_ENDPOINT_URL naming this server and dummy credentials,
 * so AWS SDKs inside a function talk to Baton. Workers are reused while warm and reaped when
 * idle; at most `concurrency` run at once per function, further invocations wait in a
 * bounded line and beyond it are throttled (TooManyRequestsException). A worker that
 * overruns the timeout is killed (Sandbox.Timedout); one that exits mid-invocation yields
 * Runtime.ExitError; one above its memory is killed (Runtime.OutOfMemory).
 *
 * What functions print (stdout and stderr of workers) is kept per function, invocation by
 * invocation, with Lambda's START / END / REPORT lines (fn_logs).
 *
 * The declared functions are durable (table fn_function, migration FN_SCHEMA_VERSION); an
 * asynchronous invocation (InvocationType Event) is durable once fn_invoke_event's batch is
 * committed and runs at least once after that, across restarts, with Lambda's two retries.
 */
#ifndef BT_FN_FN_H
#define BT_FN_FN_H

#include "base/err.h"
#include "integ/integ.h"
#include "server/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fn_service fn_service;

/* The store migration that creates the service's tables (api/serve.c registers it). */
#define FN_SCHEMA_VERSION 7
extern const char fn_schema_v1[];
/* The integration's table of started tasks (fn/integ.c): migration 8. */
#define FN_INTEG_SCHEMA_VERSION 8
extern const char fn_integ_schema_v1[];

typedef enum fn_runtime {
    FN_RT_NODEJS,
    FN_RT_PYTHON,
    FN_RT_PROVIDED,
    FN_RT_EXEC,
    FN_RT_URL,
} fn_runtime;

/* Where a function was declared: the project file's declarations are replaced on reload;
 * what the API created stays. */
typedef enum fn_origin {
    FN_ORIGIN_API,
    FN_ORIGIN_PROJECT,
} fn_origin;

/* Lambda's limits, and Baton's defaults for what Lambda leaves to the account. */
#define FN_NAME_MAX            64
#define FN_TIMEOUT_DEFAULT     3
#define FN_TIMEOUT_MAX         900
#define FN_MEMORY_DEFAULT      128
#define FN_MEMORY_MIN          128
#define FN_MEMORY_MAX          32768
#define FN_SYNC_PAYLOAD_MAX    6291456 /* 6 MiB: RequestResponse request and response */
#define FN_RESPONSE_MAX        6291556 /* what a runtime may post to /response (RIE's cap) */
#define FN_EVENT_PAYLOAD_MAX   1048576 /* 1 MiB: InvocationType Event */
#define FN_CONCURRENCY_DEFAULT 10
#define FN_QUEUE_DEFAULT       1000 /* invocations waiting for a worker, per function */
#define FN_IDLE_DEFAULT_S      300

/* A function's configuration. Strings are borrowed by fn_put (it copies them). */
typedef struct fn_config {
    const char *name; /* [A-Za-z0-9_-]{1,64} */
    fn_runtime runtime;
    const char *aws_runtime;    /* the Runtime string as given ("nodejs20.x"), or NULL */
    const char *code_dir;       /* task root (absolute); NULL for url */
    const char *handler;        /* nodejs/python: "index.handler"; provided: reported only */
    const char *const *command; /* exec: argv (NULL-terminated; argv[0] relative to
                                   code_dir when it has no '/') */
    const char *url;            /* url */
    const char *description;
    const char *role;        /* kept and reported (Lambda requires one; Baton does not) */
    int timeout_s;           /* 1..900; 0: 3 */
    int memory_mb;           /* 128..32768; 0: 128 */
    int concurrency;         /* workers at most; 0: FN_CONCURRENCY_DEFAULT */
    int queue_max;           /* waiting invocations at most; 0: FN_QUEUE_DEFAULT */
    int idle_s;              /* a warm worker idle this long is stopped; 0: FN_IDLE_DEFAULT_S */
    json_t *environment;     /* object of strings, or NULL (borrowed) */
    const char *code_sha256; /* base64 SHA-256 of the deployment package, or NULL */
    int64_t code_size;
} fn_config;

/* What the service knows of one function (for GetFunction/ListFunctions). */
typedef struct fn_info {
    fn_config cfg;
    fn_origin origin;
    char arn[300];
    int64_t last_modified_ms;
    char revision_id[40];
    int64_t version; /* versions published so far (Publish); $LATEST runs in any case */
} fn_info;

/* Opens the service: loads the declared functions and the pending asynchronous invocations
 * from the server's store (tables of fn_schema_v1), writes the runtime clients under
 * <data>/runtime/. NULL with err set when it cannot. */
fn_service *fn_service_new(server *srv, bt_err *err);
/* Stops every worker (SIGTERM, then SIGKILL after a grace period), fails what is running
 * with Runtime.ExitError, frees the service once its handles have closed. NULL: nothing. */
void fn_service_free(fn_service *fs);

/* Creates or replaces a function. create_only: BT_EEXIST when it exists already (the API's
 * ResourceConflictException). Replacing stops its warm workers once their invocations end
 * (new invocations get new workers). The row goes into the current batch. 0 or BT_E* with
 * err->msg (the reason, in Lambda's words where Lambda has any). */
int fn_put(fn_service *fs, const fn_config *cfg, fn_origin origin, bool create_only, bt_err *err);
/* Removes a function (its workers stop; queued invocations fail). BT_ENOTFOUND when absent. */
int fn_delete(fn_service *fs, const char *name);
/* NULL when absent. Borrowed until the next change of the function. */
const fn_info *fn_get(fn_service *fs, const char *name);
/* Every function, by name; *n set. Borrowed until the next change. */
const fn_info *const *fn_list(fn_service *fs, size_t *n);
/* Names of the functions of origin o (for the project file's reload); heap array of
 * borrowed names, freed by the caller with free(). */
const char **fn_names_of(fn_service *fs, fn_origin o, size_t *n);

/* "arn:aws:lambda:<region>:<account>:function:<name>" into out. */
void fn_arn(const fn_service *fs, const char *name, char *out, size_t out_len);
/* Splits what callers give as a function: a name, name:qualifier, a partial ARN
 * (<account>:function:<name>[:q]) or a full ARN. 0 with name and qualifier (empty when none)
 * copied out; BT_EINVAL when it is none of these (or of another account or region). */
int fn_parse_name(const fn_service *fs, const char *given, char name[FN_NAME_MAX + 1],
                  char qualifier[130]);

/* The credentials function processes get (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) so that
 * their SDKs can sign requests to this server; without a call, both are "baton". Copied;
 * workers started afterwards get them. */
void fn_set_credentials(fn_service *fs, const char *access_key, const char *secret);
/* Function processes start through path (the `baton` binary: its hidden verb `__spawn`
 * makes them die with the server, even by kill -9; see fn/spawn.c). NULL: directly. */
void fn_set_launcher(fn_service *fs, const char *path);

/* ---- invoking ---- */

typedef struct fn_invoke_req {
    const char *name;      /* a function name (fn_parse_name's) */
    const char *qualifier; /* NULL, "$LATEST", a version or an alias: all run $LATEST */
    const char *payload;   /* the event as JSON text; NULL: "{}" */
    size_t payload_len;
    const char *client_context; /* JSON text (decoded X-Amz-Client-Context), or NULL */
    const char *invoked_arn;    /* as the caller named it, for the runtime; NULL: fn_arn */
    bool tail_log;              /* fill fn_result.log_tail (X-Amz-Log-Type: Tail) */
} fn_invoke_req;

/* The outcome of an invocation. Borrowed for the callback. */
typedef struct fn_result {
    /* Set when Lambda itself refused or failed (the Invoke API's error: HTTP status, code,
     * message); then nothing below is meaningful. E.g. 404 ResourceNotFoundException,
     * 429 TooManyRequestsException (throttle_reason set), 500 ServiceException. */
    int api_status;
    const char *api_error;
    const char *api_message;
    const char *throttle_reason; /* "ReservedFunctionConcurrentInvocationLimitExceeded" */
    /* The function ran: its response bytes (or error object), as Invoke returns them. */
    const char *payload;
    size_t payload_len;
    bool function_error;    /* X-Amz-Function-Error: Unhandled */
    const char *error_type; /* the error object's errorType, when function_error; may be
                               NULL when the object has none (Lambda.Unknown upstream) */
    const char *request_id;
    const char *executed_version; /* "$LATEST" */
    const char *log_tail;         /* last 4 KB of this invocation's log when asked, else NULL */
    int64_t duration_ms;
} fn_result;

typedef void (*fn_done)(void *ctx, const fn_result *r);

/* Invokes synchronously (RequestResponse). done(ctx, r) runs exactly once, on the engine
 * thread, never inside this call — unless fn_cancel comes first. Returns the invocation's
 * handle (never 0). */
uint64_t fn_invoke(fn_service *fs, const fn_invoke_req *req, fn_done done, void *ctx);
/* The caller no longer wants the answer: done will not run. The invocation itself runs to
 * its end (as on Lambda, a caller that gives up does not stop the function). */
void fn_cancel(fn_service *fs, uint64_t handle);

/* InvocationType Event: checks the function and the payload, records the invocation in the
 * current batch (it runs once that is durable, and again after a restart until it has
 * finished; a failure is retried twice, after 1 and 2 minutes as Lambda does). 0 with the
 * new request id in request_id, or the API error in *r (api_status, api_error, api_message). */
int fn_invoke_event(fn_service *fs, const fn_invoke_req *req, char request_id[40], fn_result *r);

/* ---- logs ---- */

#define FN_LOGS_LINES_MAX 100000 /* what `baton logs --lines` takes at most */
/* The last `lines` lines a function printed (0: 100; at most FN_LOGS_LINES_MAX), oldest first, as a
 * heap string (lines end in '\n'); "" when there are none; NULL when there is no such function.
 * since_ms > 0 keeps only lines written at or after it. */
char *fn_logs(fn_service *fs, const char *name, size_t lines, int64_t since_ms);

/* Counters for /health: workers running and idle, invocations waiting and done. */
json_t *fn_health(fn_service *fs);

/*
 * The Step Functions integration (fn/integ.c): arn:aws:states:::lambda:invoke (the result
 * shaped like Lambda Invoke's: Payload, StatusCode, ExecutedVersion, SdkHttpMetadata,
 * SdkResponseMetadata), …:lambda:invoke.waitForTaskToken (the function's answer is the
 * TaskSubmitted output, the task waits for its token), and function ARNs as resources
 * (arn:aws:lambda:…:function:NAME[:q], the state input as the event, the bare result).
 * Failures as Step Functions shows them for Lambda (the payload's errorType, Lambda.Unknown,
 * Lambda.<Code> for API errors with a Java-SDK-style cause). An invocation starts only after
 * the transition that scheduled it is durable and is started again after a restart until
 * its outcome is recorded (the rows of table fn_task, FN_INTEG_SCHEMA_VERSION: read here, so
 * call it after server_new and fn_service_new, before server_run). The integ borrows srv and
 * fs; fs must outlive the server's run (free it after server_run, before server_free).
 */
integ fn_integ(server *srv, fn_service *fs);

#endif
