/*
 * records.c — what a queue trigger checks, sends and reads back, without a service: the
 * settings Lambda accepts for an SQS event source, the record of one message (Lambda notes
 * §3.1: string attributes, lower-camel message attributes, eventSourceARN), and the
 * ReportBatchItemFailures answer (§3.2: what counts as success, what fails the whole batch).
 */
#include "trigger/trigger_int.h"

#include "base/alloc.h"
#include "base/strmap.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Constraint failures come in the model's ValidationException words; the cross-field rules
 * in Lambda's own (the batching window rule as AWS answers it, seen in many bug reports:
 * serverless/serverless#8989, aws/chalice#1778; the FIFO window rule as CloudFormation
 * relayed it in aws/aws-lambda-dotnet#1758). */
int trigger__check(const trigger_config *cfg, bool is_fifo, bt_err *err)
{
    int batch = cfg->batch_size ? cfg->batch_size : TRIGGER_BATCH_DEFAULT;
    if (batch < 1)
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%d' at 'batchSize' failed to "
                          "satisfy constraint: Member must have value greater than or equal to 1",
                          batch);
    if (batch > TRIGGER_BATCH_MAX)
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%d' at 'batchSize' failed to "
                          "satisfy constraint: Member must have value less than or equal to "
                          "10000",
                          batch);
    if (cfg->batching_window_s < 0 || cfg->batching_window_s > TRIGGER_WINDOW_MAX)
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%d' at "
                          "'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member "
                          "must have value %s",
                          cfg->batching_window_s,
                          cfg->batching_window_s < 0 ? "greater than or equal to 0"
                                                     : "less than or equal to 300");
    if (cfg->max_concurrency != 0 && (cfg->max_concurrency < TRIGGER_CONCURRENCY_MIN ||
                                      cfg->max_concurrency > TRIGGER_CONCURRENCY_MAX))
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%d' at "
                          "'scalingConfig.maximumConcurrency' failed to satisfy constraint: "
                          "Member must have value %s",
                          cfg->max_concurrency,
                          cfg->max_concurrency < TRIGGER_CONCURRENCY_MIN
                              ? "greater than or equal to 2"
                              : "less than or equal to 1000");
    if (is_fifo && cfg->batching_window_s > 0)
        return bt_err_set(err, BT_EINVAL, "Batching window is not supported for FIFO queues");
    if (is_fifo && batch > TRIGGER_BATCH_FIFO_MAX)
        return bt_err_set(err, BT_EINVAL, "Batch size must be between 1 and 10 for FIFO queues");
    if (batch > 10 && cfg->batching_window_s < 1)
        return bt_err_set(err, BT_EINVAL,
                          "Maximum batch window in seconds must be greater than 0 if maximum "
                          "batch size is greater than 10");
    return 0;
}

static void put_string(json_t *o, const char *key, const char *value)
{
    if (value)
        json_object_set_new(o, key, json_string(value));
}

static void put_ms(json_t *o, const char *key, int64_t ms)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, ms);
    json_object_set_new(o, key, json_string(text));
}

static json_t *base64(const char *data, size_t len)
{
    char *out = bt_xmalloc((len + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    json_t *v = json_string(out);
    free(out);
    return v;
}

json_t *trigger__record(const qm_msg *m, const char *queue_arn, const char *region)
{
    json_t *attrs = json_object();
    put_ms(attrs, "ApproximateReceiveCount", m->receive_count);
    put_ms(attrs, "SentTimestamp", m->sent_ms);
    put_string(attrs, "SequenceNumber", m->seq);
    put_string(attrs, "MessageGroupId", m->group_id);
    put_string(attrs, "SenderId", m->sender_id);
    put_string(attrs, "MessageDeduplicationId", m->dedup_id);
    put_ms(attrs, "ApproximateFirstReceiveTimestamp",
           m->first_receive_ms ? m->first_receive_ms : m->received_ms);
    put_string(attrs, "AWSTraceHeader", m->trace_header);
    if (m->dlq_source)
        put_string(attrs, "DeadLetterQueueSourceArn", m->dlq_source);

    json_t *mattrs = json_object();
    for (size_t i = 0; i < m->n_attrs; i++) {
        const qm_attr *a = &m->attrs[i];
        json_t *o = json_object();
        if (a->is_binary)
            json_object_set_new(o, "binaryValue", base64(a->value, a->len));
        else
            json_object_set_new(o, "stringValue", json_stringn(a->value, a->len));
        json_object_set_new(o, "stringListValues", json_array());
        json_object_set_new(o, "binaryListValues", json_array());
        json_object_set_new(o, "dataType", json_string(a->type));
        json_object_set_new(mattrs, a->name, o);
    }
    json_t *r = json_object();
    json_object_set_new(r, "messageId", json_string(m->id));
    json_object_set_new(r, "receiptHandle", json_string(m->receipt ? m->receipt : ""));
    json_object_set_new(r, "body", json_stringn(m->body, m->body_len));
    json_object_set_new(r, "attributes", attrs);
    json_object_set_new(r, "messageAttributes", mattrs);
    json_object_set_new(r, "md5OfMessageAttributes",
                        m->md5_attrs[0] ? json_string(m->md5_attrs) : json_null());
    json_object_set_new(r, "md5OfBody", json_string(m->md5_body));
    json_object_set_new(r, "eventSource", json_string("aws:sqs"));
    json_object_set_new(r, "eventSourceARN", json_string(queue_arn));
    json_object_set_new(r, "awsRegion", json_string(region));
    return r;
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

bool trigger__item_failures(const char *payload, size_t len, const char *const *ids, size_t n,
                            bool is_fifo, bool *keep)
{
    for (size_t i = 0; i < n; i++)
        keep[i] = false;
    /* An empty or null answer, {} and an empty or null list: the whole batch succeeded. */
    if (payload == NULL || is_blank(payload, len))
        return true;
    json_t *v = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
    bool ok = v != NULL; /* not JSON: the whole batch failed */
    json_t *list = NULL;
    if (json_is_object(v))
        list = json_object_get(v, "batchItemFailures");
    else if (ok && !json_is_null(v))
        ok = false;
    if (ok && list && !json_is_null(list) && !json_is_array(list))
        ok = false;
    size_t first_failed = n;
    /* The batch's ids by position (+1: a value is never NULL): an answer may name
     * thousands of items against a batch of thousands, so no scan per item. */
    bt_strmap where;
    bt_strmap_init(&where);
    for (size_t i = 0; ok && json_is_array(list) && json_array_size(list) > 0 && i < n; i++)
        if (bt_strmap_get(&where, ids[i]) == NULL)
            bt_strmap_put(&where, ids[i], (void *)(uintptr_t)(i + 1));
    for (size_t k = 0; ok && json_is_array(list) && k < json_array_size(list); k++) {
        json_t *item = json_array_get(list, k);
        const char *id = json_string_value(json_object_get(item, "itemIdentifier"));
        /* A missing key (or one misspelt), a null or empty identifier, one that names no
         * message of the batch: the answer cannot be trusted, so nothing is deleted. */
        if (id == NULL || *id == '\0') {
            ok = false;
            break;
        }
        uintptr_t at = (uintptr_t)bt_strmap_get(&where, id);
        if (at == 0) {
            ok = false;
            break;
        }
        size_t i = (size_t)at - 1;
        keep[i] = true;
        if (i < first_failed)
            first_failed = i;
    }
    bt_strmap_fini(&where);
    json_decref(v);
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            keep[i] = true;
        return false;
    }
    if (is_fifo)
        for (size_t i = first_failed; i < n; i++)
            keep[i] = true;
    return true;
}
