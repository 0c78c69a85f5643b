/*
 * sqs.h — the SQS API (2012-11-05) on Baton's queues, for the router. One entry point takes
 * both protocols: c->proto API_PROTO_JSON with c->json the body and c->op from
 * `X-Amz-Target: AmazonSQS.<Op>`, or API_PROTO_QUERY with c->form and c->op its Action (the
 * queue may then be named by the request path, POST /<account>/<name>).
 */
#ifndef BT_API_SQS_H
#define BT_API_SQS_H

#include "api/api.h"
#include "queue/queue.h"

#include <stdbool.h>

/* Runs the call and answers it exactly once (ReceiveMessage possibly seconds later). */
void api_sqs(api_call *c, queue_service *q);
/* Whether a query-protocol Action (or a JSON target's operation) is one of SQS's. */
bool api_sqs_is_action(const char *action);

#endif
