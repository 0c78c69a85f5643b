/*
 * events.h — the EventBridge API subset for schedule rules (api/events.c), for the router:
 * c->json the body, c->op from `X-Amz-Target: AWSEvents.<Op>`.
 */
#ifndef BT_API_EVENTS_H
#define BT_API_EVENTS_H

#include "api/api.h"
#include "sched/sched.h"

/* Runs the call and answers it (ss NULL: every operation is unknown). */
void api_events(api_call *c, sched_service *ss);
/* POST /baton/test/clock {"advance_ms": N}: only with BATON_TEST_CLOCK, else 404. Answers the
 * schedules' counters and clock. */
void api_events_clock(api_call *c, sched_service *ss);

#endif
