/*
 * trigger_int.h — the pure half of queue triggers (trigger/records.c): a mapping's settings
 * checked as Lambda checks them, a received message as Lambda's SQS record, and a function's
 * answer read as ReportBatchItemFailures reads it (Lambda notes §3). Tested by
 * trigger/records_test.c.
 */
#ifndef BT_TRIGGER_TRIGGER_INT_H
#define BT_TRIGGER_TRIGGER_INT_H

#include "trigger/trigger.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TRIGGER_BATCH_DEFAULT   10
#define TRIGGER_BATCH_MAX       10000
#define TRIGGER_BATCH_FIFO_MAX  10
#define TRIGGER_WINDOW_MAX      300
#define TRIGGER_CONCURRENCY_MIN 2
#define TRIGGER_CONCURRENCY_MAX 1000

/* BatchSize, MaximumBatchingWindowInSeconds and MaximumConcurrency for a queue that is or is
 * not FIFO: 0, or BT_EINVAL with Lambda's message in err (batch_size 0 means the default). */
int trigger__check(const trigger_config *cfg, bool is_fifo, bt_err *err);

/* The record Lambda hands the function for message m of the queue queue_arn (new reference). */
json_t *trigger__record(const qm_msg *m, const char *queue_arn, const char *region);

/*
 * Reads the function's answer for a batch of n messages (ids in batch order) under
 * ReportBatchItemFailures: true with keep[i] set for each message to leave on the queue, or
 * false when the whole batch has failed (every message stays). For a FIFO queue every
 * message from the first failed one on is kept, so that order holds.
 */
bool trigger__item_failures(const char *payload, size_t len, const char *const *ids, size_t n,
                            bool is_fifo, bool *keep);

#endif
