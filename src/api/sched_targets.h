/*
 * sched_targets.h — the schedules' targets that are not state machines (sched.h's
 * sched_target_ops), delivered through the services that own them: a function (an Event
 * invocation, fn.h), a queue (a message, queue.h) or a topic (a publish, topic.h). Each
 * delivery is written into the current batch, so it is durable with the fire that causes it.
 * Engine thread.
 */
#ifndef BT_API_SCHED_TARGETS_H
#define BT_API_SCHED_TARGETS_H

#include "fn/fn.h"
#include "queue/queue.h"
#include "sched/sched.h"
#include "topic/topic.h"

typedef struct api_sched_targets api_sched_targets;

/* Borrows the services (fs and ts may be NULL: their targets then fail to deliver) and
 * registers itself with ss. Free after sched_service_free. */
api_sched_targets *api_sched_targets_new(sched_service *ss, queue_service *qs, fn_service *fs,
                                         topic_service *ts);
void api_sched_targets_free(api_sched_targets *t);

#endif
