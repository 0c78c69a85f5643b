/*
 * lambda.h — the AWS Lambda API (2015-03-31, rest-json) on Baton's functions (fn/fn.h) and
 * queue triggers (trigger/trigger.h), for the router: the control operations (functions,
 * their code and configuration, event source mappings), Invoke with its raw payload, and
 * Baton's own GET /baton/functions/{name}/logs.
 */
#ifndef BT_API_LAMBDA_H
#define BT_API_LAMBDA_H

#include "api/api.h"
#include "fn/fn.h"
#include "trigger/trigger.h"

#include <stdbool.h>

/* Whether a request is the Lambda API's (by its path, or its SigV4 scope's service). */
bool api_lambda_is_request(const char *path, const char *sig_service);

/* Runs the call (c->req's method, path, query, headers and raw body; c->json unused) and
 * answers it exactly once — Invoke when the function has answered. fns NULL: the server runs
 * no functions, every operation is answered 503. triggers may be NULL (mappings refused). */
void api_lambda(api_call *c, fn_service *fns, trigger_service *triggers);

#endif
