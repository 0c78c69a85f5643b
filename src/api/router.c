/*
 * router.c — from an HTTP request to a service's handler (api.h). It runs on an HTTP thread
 * and does the work that needs no engine state there — reading the target, parsing the JSON
 * body or the form — so that the engine thread only serves; then it posts the call.
 *
 *   X-Amz-Target: AWSStepFunctions.<Op>   → Step Functions (AWS JSON 1.0)
 *   X-Amz-Target: AmazonSQS.<Op>          → SQS, JSON protocol
 *   X-Amz-Target: AWSEvents.<Op>          → EventBridge schedule rules (AWS JSON 1.1)
 *   form body (or query) with Action=<Op> → SQS, query protocol (by the SigV4 scope's
 *                                           service, else by the action's name)
 *   /2015-03-31/… (or SigV4 service lambda) → Lambda, rest-json: method + path; the
 *                                           raw body reaches Invoke unchanged
 *   GET /baton/functions/{name}/logs      → what a function printed (text)
 *   form Action=<Op> signed for sns, or    → SNS, query protocol (GET too: the links in
 *   unsigned with an SNS-only action         confirmation mail and UnsubscribeURL)
 *   GET /outbox, /baton/deliveries,        → the topics' pages (api/outbox.c)
 *   /baton/sns/SimpleNotificationService.pem
 *   GET|POST /approve/<id>                → an approval link's page and decision
 *                                           (api/approve.c; unsigned: people follow it)
 *   GET /baton/approvals                  → the approvals' audit and requests (JSON)
 *   GET /health                           → the server's state
 *   POST /baton/test/clock                → the schedules' test clock (BATON_TEST_CLOCK only)
 *   a project file's route (method, path)  → its function (api/routes.c), before the AWS
 *                                           protocols; paths of Baton's own are never routes
 *   any other path but Baton's             → 403 Missing Authentication Token (API Gateway)
 *
 * Any Host is accepted, so the `sync-` prefix clients put on StartSyncExecution's host
 * reaches us too once its name resolves here (README).
 */
#include "api/router.h"
#include "api/approve.h"
#include "api/events.h"
#include "api/lambda.h"
#include "api/sfn.h"
#include "api/sns.h"
#include "api/sqs.h"
#include "api/xml.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/rand.h"
#include "engine/local.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum target {
    TARGET_HEALTH,
    TARGET_SFN,
    TARGET_SQS,
    TARGET_LAMBDA,
    TARGET_EVENTS,
    TARGET_CLOCK,
    TARGET_SNS,
    TARGET_TOPIC_PAGE,
    TARGET_APPROVE_PAGE,
    TARGET_APPROVALS,
} target;

typedef struct routed {
    api_router *rt;
    api_call *call;
    target t;
} routed;

struct api_router {
    server *srv;
    queue_service *queues;
    sigv4_keys *keys;
    api_lambda_handler lambda;
    fn_service *fns;
    trigger_service *triggers;
    sched_service *sched;
    topic_service *topics;
    api_routes *routes;
    approval_service *approvals;
    atomic_uint_fast64_t next_id;
};

api_router *api_router_new(server *srv, queue_service *queues, sigv4_keys *keys)
{
    api_router *rt = bt_xcalloc(1, sizeof *rt);
    rt->srv = srv;
    rt->queues = queues;
    rt->keys = keys;
    atomic_init(&rt->next_id, 1);
    return rt;
}

void api_router_set_lambda(api_router *rt, api_lambda_handler handler, fn_service *fns,
                           trigger_service *triggers)
{
    rt->lambda = handler;
    rt->fns = fns;
    rt->triggers = triggers;
}

void api_router_set_sched(api_router *rt, sched_service *ss)
{
    rt->sched = ss;
}

void api_router_set_topics(api_router *rt, topic_service *topics)
{
    rt->topics = topics;
}

void api_router_set_routes(api_router *rt, api_routes *routes)
{
    rt->routes = routes;
}

void api_router_set_approvals(api_router *rt, approval_service *as)
{
    rt->approvals = as;
}

void api_router_free(api_router *rt)
{
    free(rt);
}

static void answer_now(http_request *req, int status, const char *type, const char *msg)
{
    char body[1024];
    int n = snprintf(body, sizeof body, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    http_respond(req, status, "application/x-amz-json-1.0", body, (size_t)n, NULL);
}

static void on_engine(void *ctx)
{
    routed *r = ctx;
    api_call *c = r->call;
    c->now_ms = server_now_ms(c->srv);
    switch (r->t) {
    case TARGET_HEALTH: {
        api_reply_json(c, server_health(c->srv));
        break;
    }
    case TARGET_SFN:
        api_sfn(c);
        break;
    case TARGET_SQS:
        api_sqs(c, r->rt->queues);
        break;
    case TARGET_LAMBDA:
        r->rt->lambda(c, r->rt->fns, r->rt->triggers);
        break;
    case TARGET_EVENTS:
        api_events(c, r->rt->sched);
        break;
    case TARGET_CLOCK:
        api_events_clock(c, r->rt->sched);
        break;
    case TARGET_SNS:
        api_sns(c, r->rt->topics);
        break;
    case TARGET_TOPIC_PAGE:
        api_topic_page(c, r->rt->topics);
        break;
    case TARGET_APPROVE_PAGE:
        api_approve_page(c, r->rt->approvals);
        break;
    case TARGET_APPROVALS:
        api_approvals_list(c, r->rt->approvals);
        break;
    }
    free(r);
}

/* The service named in a SigV4 Authorization header's scope, into out ("" when none or
 * malformed: routing then goes by the action alone). */
static void scope_service(const char *auth, char out[32])
{
    out[0] = '\0';
    sigv4_auth a;
    if (auth != NULL && sigv4_parse(auth, &a, NULL) == 0 && strlen(a.service) < 32)
        memcpy(out, a.service, strlen(a.service) + 1);
}

/* By the path (/2015-03-31/…, /baton/functions/…), or a Lambda-signed request elsewhere. */
static bool lambda_request(http_request *req, const char *path)
{
    if (api_lambda_is_request(path, NULL))
        return true;
    char service[32];
    scope_service(http_header(req, "Authorization"), service);
    return strcmp(service, "lambda") == 0;
}

static api_call *new_call(api_router *rt, http_request *req)
{
    api_call *c = bt_xcalloc(1, sizeof *c);
    c->srv = rt->srv;
    c->req = req;
    c->id = atomic_fetch_add(&rt->next_id, 1);
    uint8_t b[16];
    bt_random_bytes(b, sizeof b);
    bt_uuid_format(b, c->request_id);
    scope_service(http_header(req, "Authorization"), c->sig_service);
    return c;
}

static bool is_form(const char *ctype)
{
    return ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
}

static const char *req_header(void *ctx, const char *name)
{
    return http_header(ctx, name);
}

/* With keys, a request must be signed by one of them: refused here, on the HTTP thread, in
 * the error shape of its protocol (AWS's names and statuses, api/sigv4.c). */
static bool signature_refused(api_router *rt, http_request *req, bool query)
{
    if (rt->keys == NULL)
        return false;
    size_t len;
    const char *body = http_body(req, &len);
    sigv4_request rq = {
        .method = http_method(req),
        .path = http_path(req),
        .query = http_query(req),
        .header = req_header,
        .header_ctx = req,
        .body = body,
        .body_len = len,
    };
    bt_err err = {0};
    sigv4_result r = sigv4_verify(&rq, sigv4_keys_lookup, rt->keys, local_now_ms(), &err);
    if (r == SIGV4_OK)
        return false;
    const char *type = sigv4_error_type(r, query);
    int status = sigv4_http_status(r, query);
    bt_buf b;
    bt_buf_init(&b);
    if (query) {
        bt_buf_printf(&b, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>",
                      type);
        bt_xml_escape(&b, err.msg, strlen(err.msg));
        bt_buf_puts(&b, "</Message></Error><RequestId>00000000-0000-0000-0000-000000000000"
                        "</RequestId></ErrorResponse>");
        http_respond(req, status, "text/xml", b.data, b.len, NULL);
    } else {
        bt_buf_puts(&b, "{\"__type\":");
        bt_json_write_string(&b, type, strlen(type));
        bt_buf_puts(&b, ",\"message\":");
        bt_json_write_string(&b, err.msg, strlen(err.msg));
        bt_buf_putc(&b, '}');
        http_respond(req, status, "application/x-amz-json-1.0", b.data, b.len, NULL);
    }
    bt_buf_fini(&b);
    return true;
}

/* The links SNS puts in messages (SubscribeURL, UnsubscribeURL) are followed by people and
 * endpoints that cannot sign: a GET of ConfirmSubscription (its token is the proof) or
 * Unsubscribe (as on AWS without AuthenticateOnUnsubscribe). */
static bool link_request(const api_router *rt, http_request *req)
{
    const char *q = http_query(req);
    return rt->topics && strcmp(http_method(req), "GET") == 0 && q &&
           (strncmp(q, "Action=ConfirmSubscription&", 27) == 0 ||
            strncmp(q, "Action=Unsubscribe&", 19) == 0);
}

/* Paths of Baton's own APIs and pages: no user route takes them, and an unknown one keeps
 * Baton's 404 (project/check_more.c refuses routes there). Elsewhere, a path no route has
 * gets API Gateway's 403. */
static bool baton_path(const char *path)
{
    if (strcmp(path, "/") == 0 || strcmp(path, "/health") == 0 || strcmp(path, "/outbox") == 0 ||
        strncmp(path, "/outbox/", 8) == 0 || strncmp(path, "/baton/", 7) == 0 ||
        strncmp(path, "/2015-03-31/", 12) == 0)
        return true;
    /* SQS queue URLs: /<account>/<queue>. */
    size_t d = strspn(path + 1, "0123456789");
    return d == 12 && path[13] == '/';
}

void api_router_handle(void *ctx, http_request *req)
{
    api_router *rt = ctx;
    const char *method = http_method(req);
    const char *path = http_path(req);
    target t;
    api_call *c = NULL;

    if (strcmp(method, "GET") == 0 && strcmp(path, "/health") == 0) {
        c = new_call(rt, req);
        c->op = "Health";
        t = TARGET_HEALTH;
    } else if (strcmp(method, "POST") == 0 && strcmp(path, "/baton/test/clock") == 0 && rt->sched &&
               sched_test_clock_enabled(rt->sched)) {
        if (signature_refused(rt, req, false))
            return;
        size_t len;
        const char *body = http_body(req, &len);
        json_t *j = len == 0 ? json_object() : json_loadb(body, len, 0, NULL);
        if (j == NULL || !json_is_object(j)) {
            json_decref(j);
            answer_now(req, 400, "SerializationException", "The request body is not a JSON object");
            return;
        }
        c = new_call(rt, req);
        c->proto = API_PROTO_JSON;
        c->json = j;
        c->op = "TestClock";
        t = TARGET_CLOCK;
    } else if (rt->approvals && api_approve_page_is(method, path)) {
        c = new_call(rt, req);
        if (strcmp(method, "POST") == 0) {
            size_t len;
            const char *body = http_body(req, &len);
            bt_err err = {0};
            c->form = bt_form_parse(body ? body : "", body ? len : 0, 0, &err);
        }
        c->op = "ApprovePage";
        t = TARGET_APPROVE_PAGE;
    } else if (rt->approvals && api_approvals_list_is(method, path)) {
        if (signature_refused(rt, req, false))
            return;
        c = new_call(rt, req);
        c->op = "ListApprovals";
        t = TARGET_APPROVALS;
    } else if (rt->topics && api_topic_page_is(method, path)) {
        /* The outbox shows every mail, approval links included: beyond loopback (keys
         * configured) it is read with a signature, like the APIs. The signing certificate
         * and the confirm/unsubscribe links stay public, as on AWS. */
        bool mail = strcmp(path, "/outbox") == 0 || strncmp(path, "/outbox/", 8) == 0 ||
                    strcmp(path, "/baton/deliveries") == 0;
        if (mail && signature_refused(rt, req, true))
            return;
        c = new_call(rt, req);
        c->op = "TopicPage";
        t = TARGET_TOPIC_PAGE;
    } else if (rt->routes && !baton_path(path) && api_routes_handle(rt->routes, req)) {
        return;
    } else if (rt->lambda && http_header(req, "X-Amz-Target") == NULL &&
               lambda_request(req, path)) {
        if (signature_refused(rt, req, false))
            return;
        c = new_call(rt, req);
        c->proto = API_PROTO_JSON;
        c->op = "Lambda";
        t = TARGET_LAMBDA;
    } else if (http_header(req, "X-Amz-Target") != NULL) {
        if (signature_refused(rt, req, false))
            return;
        const char *target_hdr = http_header(req, "X-Amz-Target");
        const char *dot = strrchr(target_hdr, '.');
        if (strcmp(method, "POST") != 0 || dot == NULL) {
            answer_now(req, 400, "UnknownOperationException", "Unknown operation");
            return;
        }
        size_t plen = (size_t)(dot - target_hdr);
        if (plen == 16 && strncmp(target_hdr, "AWSStepFunctions", plen) == 0)
            t = TARGET_SFN;
        else if (plen == 9 && strncmp(target_hdr, "AmazonSQS", plen) == 0)
            t = TARGET_SQS;
        else if (plen == 9 && strncmp(target_hdr, "AWSEvents", plen) == 0 && rt->sched)
            t = TARGET_EVENTS;
        else {
            answer_now(req, 400, "UnknownOperationException", "Unknown operation");
            return;
        }
        size_t len;
        const char *body = http_body(req, &len);
        json_error_t jerr;
        json_t *j = len == 0 ? json_object() : json_loadb(body, len, 0, &jerr);
        if (j == NULL || !json_is_object(j)) {
            json_decref(j);
            answer_now(req, 400, "SerializationException", "The request body is not a JSON object");
            return;
        }
        c = new_call(rt, req);
        c->proto = API_PROTO_JSON;
        c->json = j;
        c->op_buf = bt_xstrdup(dot + 1);
        c->op = c->op_buf;
    } else if (is_form(http_header(req, "Content-Type")) ||
               (strcmp(method, "GET") == 0 && strstr(http_query(req), "Action=") != NULL)) {
        if (!link_request(rt, req) && signature_refused(rt, req, true))
            return;
        size_t len;
        const char *body = http_body(req, &len);
        if (len == 0) {
            body = http_query(req);
            len = strlen(body);
        }
        bt_err err = {0};
        bt_form *f = bt_form_parse(body, len, 0, &err);
        const char *action = f ? bt_form_get(f, "Action") : NULL;
        if (action == NULL) {
            bt_form_free(f);
            static const char xml[] =
                "<ErrorResponse><Error><Type>Sender</Type><Code>MissingAction</Code>"
                "<Message>The request is missing an Action.</Message></Error></ErrorResponse>";
            http_respond(req, 400, "text/xml", xml, sizeof xml - 1, NULL);
            return;
        }
        c = new_call(rt, req);
        c->proto = API_PROTO_QUERY;
        c->form = f;
        c->op = action;
        bool is_sns = rt->topics && (strcmp(c->sig_service, "sns") == 0 ||
                                     (c->sig_service[0] == '\0' && api_sns_is_action(action) &&
                                      !api_sqs_is_action(action)));
        if (!is_sns && c->sig_service[0] != '\0' && strcmp(c->sig_service, "sqs") != 0 &&
            !api_sqs_is_action(action)) {
            api_call_free(c);
            static const char xml[] =
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"
                "<Message>The action is not valid for this endpoint.</Message></Error>"
                "</ErrorResponse>";
            http_respond(req, 400, "text/xml", xml, sizeof xml - 1, NULL);
            return;
        }
        t = is_sns ? TARGET_SNS : TARGET_SQS;
    } else if (!baton_path(path)) {
        api_routes_unknown(req);
        return;
    } else {
        answer_now(req, 404, "UnknownOperationException",
                   "No API at this path: send AWS JSON 1.0 (X-Amz-Target) or an AWS query");
        return;
    }
    routed *r = bt_xmalloc(sizeof *r);
    r->rt = rt;
    r->call = c;
    r->t = t;
    server_post(rt->srv, on_engine, r);
}
