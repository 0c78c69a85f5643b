/*
 * router.h — routes HTTP requests to the APIs (router.c).
 */
#ifndef BT_API_ROUTER_H
#define BT_API_ROUTER_H

#include "api/api.h"
#include "api/routes.h"
#include "api/sigv4.h"
#include "approval/approval.h"
#include "fn/fn.h"
#include "http/http.h"
#include "queue/queue.h"
#include "sched/sched.h"
#include "server/server.h"
#include "topic/topic.h"
#include "trigger/trigger.h"

typedef struct api_router api_router;

/* keys NULL: requests are not checked (loopback, or --insecure); otherwise every API request
 * must carry a valid SigV4 signature by one of them (the router borrows keys). */
api_router *api_router_new(server *srv, queue_service *queues, sigv4_keys *keys);
/* Serves the Lambda API's paths with handler (api_lambda; given by serve.c, so that the router
 * links without the function service) over fns and triggers (borrowed; either may be NULL:
 * its operations are refused). Before http_start. */
typedef void (*api_lambda_handler)(api_call *c, fn_service *fns, trigger_service *triggers);
void api_router_set_lambda(api_router *rt, api_lambda_handler handler, fn_service *fns,
                           trigger_service *triggers);
/* Serves the EventBridge rules (AWSEvents.*) over ss (borrowed), and with BATON_TEST_CLOCK
 * the schedules' test clock. Before http_start. */
void api_router_set_sched(api_router *rt, sched_service *ss);
/* Serves SNS (query protocol) and the topics' pages over topics (borrowed). Before
 * http_start. */
void api_router_set_topics(api_router *rt, topic_service *topics);
/* Serves the approval links' pages and GET /baton/approvals (borrowed). Before http_start. */
void api_router_set_approvals(api_router *rt, approval_service *as);
void api_router_free(api_router *rt);
/* The http_handler: ctx is the router. */
void api_router_handle(void *ctx, http_request *req);

/* Serves the project file's routes (borrowed; NULL: none). Before http_start. */
void api_router_set_routes(api_router *rt, api_routes *routes);

#endif
