/*
 * router.h — routes HTTP requests to the APIs (router.c).
 */
#ifndef BT_API_ROUTER_H
#define BT_API_ROUTER_H

#include "api/sigv4.h"
#include "http/http.h"
#include "queue/queue.h"
#include "server/server.h"

typedef struct api_router api_router;

/* keys NULL: requests are not checked (loopback, or --insecure); otherwise every API request
 * must carry a valid SigV4 signature by one of them (the router borrows keys). */
api_router *api_router_new(server *srv, queue_service *queues, sigv4_keys *keys);
void api_router_free(api_router *rt);
/* The http_handler: ctx is the router. */
void api_router_handle(void *ctx, http_request *req);

#endif
