/*
 * rapi.h — the Lambda Runtime API for one worker process: a small HTTP/1.1 server on
 * 127.0.0.1 (an ephemeral port, given to the worker as AWS_LAMBDA_RUNTIME_API), on the
 * engine thread's libuv loop. It understands exactly
 *
 *   GET  /2018-06-01/runtime/invocation/next
 *   POST /2018-06-01/runtime/invocation/{id}/response
 *   POST /2018-06-01/runtime/invocation/{id}/error
 *   POST /2018-06-01/runtime/init/error
 *
 * with keep-alive, Content-Length and chunked bodies; anything else is answered 404
 * (unknown path), 405 or 400 by rapi itself, and bodies above RAPI_BODY_MAX 413
 * (RequestEntityTooLarge), without calling a handler. A /next is held until the owner
 * answers it with rapi_send_event (it may wait forever: runtimes set no timeout). Every
 * other request is answered by the owner with rapi_reply, before or after its handler
 * returns. Bodies are borrowed for the handler call.
 */
#ifndef BT_FN_RAPI_H
#define BT_FN_RAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define RAPI_BODY_MAX 6291556 /* RIE's cap on a response: 6 MiB + 100 bytes */

typedef struct rapi rapi;                 /* one listener */
typedef struct rapi_request rapi_request; /* one request waiting for its answer */

typedef enum rapi_kind {
    RAPI_NEXT,
    RAPI_RESPONSE,
    RAPI_ERROR,
    RAPI_INIT_ERROR,
} rapi_kind;

typedef struct rapi_call {
    rapi_kind kind;
    const char *request_id; /* RESPONSE, ERROR: the {id} of the path (NUL-terminated) */
    const char *body;       /* RESPONSE, ERROR, INIT_ERROR (NUL-terminated; len excludes it) */
    size_t body_len;
    const char *error_type; /* Lambda-Runtime-Function-Error-Type header, or NULL */
    const char *content_type;
} rapi_call;

typedef struct rapi_handlers {
    void *ud;
    /* A request arrived; answer it through req (rapi_send_event for NEXT, rapi_reply for
     * the others), now or later. req stays valid until it is answered, until on_abandon
     * names it, or until rapi_close; call's strings are borrowed for this call only. A
     * connection carries one request at a time: requests pipelined behind req reach
     * on_call only after req is answered (on a later turn of the loop, never from inside
     * rapi_send_event or rapi_reply). */
    void (*on_call)(void *ud, rapi_request *req, const rapi_call *call);
    /* The connection carrying an unanswered request closed (the worker died or gave up):
     * req is gone once this returns, do not keep it (an answer given from inside this
     * call is ignored). */
    void (*on_abandon)(void *ud, rapi_request *req);
    /* Optional: a new connection from 127.0.0.1-ish peer_addr (network order):peer_port to
     * local_port. false closes it unread, so that only the owner's process speaks to this
     * listener (on Lambda the Runtime API is reachable from the sandbox alone). NULL: every
     * connection is served. */
    bool (*on_accept)(void *ud, uint32_t peer_addr, int peer_port, int local_port);
    /* Optional: a /response or /error for request_id was refused as larger than
     * RAPI_BODY_MAX (rapi answered 413 and closes the connection); the owner may end the
     * invocation (Lambda: Function.ResponseSizeTooLarge). */
    void (*on_too_large)(void *ud, rapi_kind kind, const char *request_id);
} rapi_handlers;

/* Listens on 127.0.0.1:0. 0 with *out and *port, or a negative libuv error. */
int rapi_listen(uv_loop_t *loop, const rapi_handlers *h, rapi **out, int *port);
/* Closes the listener and every connection (unanswered requests are dropped without
 * on_abandon); the memory goes once libuv has closed the handles. */
void rapi_close(rapi *r);

/* The event for a held NEXT: 200 with the Lambda-Runtime-* headers (those given NULL or ""
 * are left out) and body as the content (application/json). */
typedef struct rapi_event {
    const char *request_id;
    int64_t deadline_ms; /* absolute, epoch ms */
    const char *invoked_function_arn;
    const char *trace_id;
    const char *client_context; /* JSON text */
    const char *cognito_identity;
    const char *body;
    size_t body_len;
} rapi_event;
void rapi_send_event(rapi_request *req, const rapi_event *ev);
/* Any other answer: status with a JSON body (NULL: none), e.g. 202 {"status":"OK"}, 400
 * {"errorMessage":"…","errorType":"InvalidRequestID"}, 403 InvalidStateTransition. */
void rapi_reply(rapi_request *req, int status, const char *json_body);

#endif
