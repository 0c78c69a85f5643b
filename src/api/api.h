/*
 * api.h — one API request being served on the engine thread. The router (api/router.c)
 * decides the service and protocol from the X-Amz-Target header, the Content-Type and the
 * form's Action (or the SigV4 scope's service), parses the body and calls the service's
 * handler with an api_call. The handler answers exactly once, now or later (long polls):
 * the answer is held until every write made before it is durable (server.h's rule).
 */
#ifndef BT_API_API_H
#define BT_API_API_H

#include "api/form.h"
#include "base/buf.h"
#include "http/http.h"
#include "server/server.h"

#include <jansson.h>
#include <stdint.h>

typedef enum api_proto {
    API_PROTO_JSON,  /* AWS JSON 1.0: X-Amz-Target: <Service>.<Op>, JSON body */
    API_PROTO_QUERY, /* form-encoded Action=<Op>&…, XML answers */
} api_proto;

typedef struct api_call {
    server *srv;
    http_request *req;
    api_proto proto;
    const char *op;       /* "StartExecution", "SendMessage", … */
    json_t *json;         /* API_PROTO_JSON: the body (an object; {} when empty); owned */
    bt_form *form;        /* API_PROTO_QUERY: the decoded form (body, or query string); owned */
    int64_t now_ms;       /* server_now_ms at arrival */
    uint64_t id;          /* request number, for logs */
    char request_id[37];  /* x-amzn-RequestId: a UUID */
    char *op_buf;         /* owns op */
    char sig_service[32]; /* the SigV4 scope's service ("sqs"), or "" */
    bool reply_now;       /* answer without waiting for the commit (nothing it promises
                           * depends on writes still in flight) */
} api_call;

/* Frees a call without answering it (the router's own answers). */
void api_call_free(api_call *c);

/* Answers (body copied; extra as in http_respond) after the commit of everything written so
 * far, and frees the call. */
void api_reply(api_call *c, int status, const char *content_type, const char *body, size_t len,
               const char *const *extra);
/* 200, application/x-amz-json-1.0, the object (reference stolen). */
void api_reply_json(api_call *c, json_t *body);
/* AWS JSON 1.0 error: HTTP status, {"__type": type, "message": …}. */
void api_reply_json_error(api_call *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
