/*
 * routes.h — serving the project file's HTTP routes (routes.c) over a route table
 * (route/route.h) and the functions.
 */
#ifndef BT_API_ROUTES_H
#define BT_API_ROUTES_H

#include "fn/fn.h"
#include "http/http.h"
#include "route/route.h"
#include "server/server.h"

#include <stdbool.h>

typedef struct api_routes api_routes;

/* Borrows srv, table and fns. Free after the HTTP front end has stopped. */
api_routes *api_routes_new(server *srv, route_table *table, fn_service *fns);
void api_routes_free(api_routes *ar);
/* On an HTTP thread: true when a route has the request's path (it is then answered, now
 * or later: a wrong method with API Gateway's 403); false when none has. */
bool api_routes_handle(api_routes *ar, http_request *req);
/* 403 {"message":"Missing Authentication Token"}: API Gateway's answer for no route. */
void api_routes_unknown(http_request *req);

#endif
