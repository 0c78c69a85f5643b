/*
 * sns.h — the SNS API (2010-03-31, query protocol) on Baton's topics, for the router:
 * c->proto API_PROTO_QUERY with c->form the decoded form and c->op its Action.
 */
#ifndef BT_API_SNS_H
#define BT_API_SNS_H

#include "api/api.h"
#include "topic/topic.h"

#include <stdbool.h>

/* Runs the call and answers it exactly once (after the commit of what it wrote). */
void api_sns(api_call *c, topic_service *ts);
/* Whether a query-protocol Action is one of SNS's. */
bool api_sns_is_action(const char *action);

/* GET /outbox (HTML; JSON with Accept: application/json or ?format=json), GET
 * /baton/deliveries (JSON) and the signing certificate at
 * /baton/sns/SimpleNotificationService.pem. */
bool api_topic_page_is(const char *method, const char *path);
void api_topic_page(api_call *c, topic_service *ts);

#endif
