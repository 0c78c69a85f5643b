/*
 * trigger.h — queue triggers: Lambda's event source mappings from Baton's queues to its
 * functions, on the engine thread.
 *
 * An enabled mapping receives up to BatchSize messages from its queue (waiting up to
 * MaximumBatchingWindowInSeconds to fill a batch), invokes the function synchronously with
 * {"Records": [...]} shaped as Lambda shapes SQS records, and then: on success deletes the
 * batch — all of it, or with ReportBatchItemFailures all but the batchItemFailures the
 * function names; on a function error, a timeout or a throttle leaves every message to come
 * back after its visibility timeout (and to the queue's dead-letter queue after its
 * maxReceiveCount). At most MaximumConcurrency batches are in flight per mapping (default:
 * the function's concurrency); a FIFO queue has one batch in flight per message group.
 *
 * Mappings are durable (table trigger_mapping, migration TRIGGER_SCHEMA_VERSION).
 */
#ifndef BT_TRIGGER_TRIGGER_H
#define BT_TRIGGER_TRIGGER_H

#include "base/err.h"
#include "fn/fn.h"
#include "queue/queue.h"
#include "server/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct trigger_service trigger_service;

#define TRIGGER_SCHEMA_VERSION 9
extern const char trigger_schema_v1[];

typedef struct trigger_config {
    const char *uuid;          /* NULL: a new one (CreateEventSourceMapping); else the mapping */
    const char *queue_arn;     /* EventSourceArn: arn:aws:sqs:<region>:<account>:<queue> */
    const char *function;      /* a function name (fn_parse_name's), qualifier dropped */
    bool enabled;              /* default true */
    int batch_size;            /* 0: 10; standard queues 1..10000, FIFO 1..10 */
    int batching_window_s;     /* 0..300; BatchSize above 10 needs at least 1 */
    bool report_item_failures; /* FunctionResponseTypes: ["ReportBatchItemFailures"] */
    int max_concurrency;       /* ScalingConfig.MaximumConcurrency, 0: unset (2..1000) */
} trigger_config;

typedef struct trigger_info {
    char uuid[37];
    trigger_config cfg; /* strings owned by the service */
    fn_origin origin;
    int64_t last_modified_ms;
    const char *state;       /* "Enabled", "Disabled" */
    const char *last_result; /* LastProcessingResult: "OK", "PROBLEM: …", "No records processed" */
} trigger_info;

trigger_service *trigger_service_new(server *srv, queue_service *queues, fn_service *fns,
                                     bt_err *err);
/* Stops polling; batches in flight finish without deleting (their messages come back). */
void trigger_service_free(trigger_service *ts);

/* Creates (cfg->uuid NULL, or a uuid not known yet: the project file's own ids) or updates
 * a mapping; validates as Lambda does (InvalidParameterValueException's messages in
 * err->msg, code BT_EINVAL; BT_ENOTFOUND for a missing function or queue, with Lambda's
 * message). The uuid used is copied into uuid_out. Written into the current batch. */
int trigger_put(trigger_service *ts, const trigger_config *cfg, fn_origin origin, char uuid_out[37],
                bt_err *err);
int trigger_delete(trigger_service *ts, const char *uuid);
const trigger_info *trigger_get(trigger_service *ts, const char *uuid);
/* Every mapping (of one function when function is not NULL, of one queue when queue_arn is
 * not NULL); heap array of borrowed pointers, freed by the caller with free(). */
const trigger_info **trigger_list(trigger_service *ts, const char *function, const char *queue_arn,
                                  size_t *n);
/* The API's JSON form of a mapping (EventSourceMappingConfiguration). */
json_t *trigger_to_json(trigger_service *ts, const trigger_info *t);

#endif
