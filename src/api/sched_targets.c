/*
 * sched_targets.c — delivery of a schedule's function, queue and topic targets
 * (sched_targets.h). EventBridge invokes a Lambda target asynchronously, sends the event as
 * an SQS target's message body and publishes it as an SNS target's message (EventBridge User
 * Guide, "Amazon EventBridge targets"; notes §5.3). Every path below writes into the batch of
 * the fire: fn_invoke_event's row of fn_event, the queue's message row, the topic's delivery
 * rows, so a crash before that commit loses the fire and its delivery together (the fire
 * comes again after the restart) and one after it keeps both.
 */
#include "api/sched_targets.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api_sched_targets {
    queue_service *qs;
    fn_service *fs;
    topic_service *ts;
};

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool handles(void *ctx, const char *arn)
{
    (void)ctx;
    return has_prefix(arn, "arn:aws:lambda:") || has_prefix(arn, "arn:aws:sqs:") ||
           has_prefix(arn, "arn:aws:sns:");
}

static int to_function(api_sched_targets *t, const char *arn, const char *payload,
                       char id[SCHED_DELIVERY_ID_MAX], bt_err *err)
{
    if (t->fs == NULL)
        return bt_err_set(err, BT_ESTATE, "functions are not available on this server");
    char name[FN_NAME_MAX + 1], qualifier[130];
    if (fn_parse_name(t->fs, arn, name, qualifier) < 0)
        return bt_err_set(err, BT_EINVAL, "%s is not a function of this server", arn);
    fn_invoke_req req = {.name = name,
                         .qualifier = qualifier[0] ? qualifier : NULL,
                         .payload = payload,
                         .payload_len = strlen(payload),
                         .invoked_arn = arn};
    char request_id[40];
    fn_result r = {0};
    if (fn_invoke_event(t->fs, &req, request_id, &r) < 0)
        return bt_err_set(err, BT_ENOTFOUND, "%s: %s", r.api_error ? r.api_error : "Lambda",
                          r.api_message ? r.api_message : "the invocation was refused");
    snprintf(id, SCHED_DELIVERY_ID_MAX, "%s", request_id);
    return 0;
}

static int to_queue(api_sched_targets *t, const char *arn, const char *payload,
                    const char *dedup_id, const char *group_id, char id[SCHED_DELIVERY_ID_MAX],
                    bt_err *err)
{
    qmodel *m = queue_model(t->qs);
    qm_queue *q = qm_find_arn(m, arn);
    if (q == NULL)
        return bt_err_set(err, BT_ENOTFOUND, "The specified queue does not exist: %s", arn);
    /* A FIFO target needs a group (EventBridge's SqsParameters.MessageGroupId, which Baton
     * does not take): the rule's name; the fire's own name deduplicates it. */
    qm_send s = {.body = payload, .delay_s = -1};
    if (qm_queue_is_fifo(q)) {
        s.group_id = group_id;
        s.dedup_id = dedup_id;
    }
    qm_sent sent;
    qm_err qe = {0};
    if (qm_send_message(m, q, &s, queue_now_ms(t->qs), &sent, &qe) < 0)
        return bt_err_set(err, BT_EINVAL, "%s", qe.msg);
    snprintf(id, SCHED_DELIVERY_ID_MAX, "%s", sent.message_id);
    return 0;
}

static int to_topic(api_sched_targets *t, const char *arn, const char *payload,
                    char id[SCHED_DELIVERY_ID_MAX], bt_err *err)
{
    if (t->ts == NULL)
        return bt_err_set(err, BT_ESTATE, "topics are not available on this server");
    topic_publish_req req = {.topic_arn = arn, .message = payload};
    char message_id[37];
    topic_err te = {0};
    if (topic_publish(t->ts, &req, message_id, &te) < 0)
        return bt_err_set(err, BT_EINVAL, "%s: %s", te.code ? te.code : "SNS", te.msg);
    snprintf(id, SCHED_DELIVERY_ID_MAX, "%s", message_id);
    return 0;
}

static int deliver(void *ctx, const char *rule, const char *arn, const char *payload,
                   const char *dedup_id, char id[SCHED_DELIVERY_ID_MAX], bt_err *err)
{
    api_sched_targets *t = ctx;
    if (has_prefix(arn, "arn:aws:lambda:"))
        return to_function(t, arn, payload, id, err);
    if (has_prefix(arn, "arn:aws:sns:"))
        return to_topic(t, arn, payload, id, err);
    return to_queue(t, arn, payload, dedup_id, rule, id, err);
}

static const sched_target_ops ops = {handles, deliver};

api_sched_targets *api_sched_targets_new(sched_service *ss, queue_service *qs, fn_service *fs,
                                         topic_service *ts)
{
    api_sched_targets *t = bt_xcalloc(1, sizeof *t);
    t->qs = qs;
    t->fs = fs;
    t->ts = ts;
    sched_set_target_ops(ss, &ops, t);
    return t;
}

void api_sched_targets_free(api_sched_targets *t)
{
    free(t);
}
