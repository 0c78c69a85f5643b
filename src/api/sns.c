/*
 * sns.c — the SNS API (2010-03-31) on Baton's topics, in the query protocol every SDK uses
 * for SNS (SNS notes §9): form fields in (Attributes.entry.N.key/value,
 * MessageAttributes.entry.N.Name/Value.DataType/Value.StringValue,
 * PublishBatchRequestEntries.member.N.…), XML out (<OpResponse><OpResult>…, lists as
 * <member>, maps as <entry><key/><value/>), errors as <ErrorResponse> with SNS's codes and
 * statuses. The topic service (topic.h) does the work and the checks.
 */
#include "api/sns.h"

#include "api/xml.h"
#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNS_NS      "http://sns.amazonaws.com/doc/2010-03-31/"
#define MAX_ENTRIES 100 /* numbered fields read per list */
#define LIST_PAGE   100 /* ListTopics, ListSubscriptions: SNS's page */
#define BATCH_MAX   10

typedef struct sns_ctx {
    api_call *c;
    topic_service *ts;
    bt_buf out;
    bt_xml x;
    char response[64], result[64];
} sns_ctx;

/* ---- the form ---- */

static const char *field(const sns_ctx *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *field(const sns_ctx *s, const char *fmt, ...)
{
    char key[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    return bt_form_get(s->c->form, key);
}

static const char *param(const sns_ctx *s, const char *name)
{
    return bt_form_get(s->c->form, name);
}

/* Attributes.entry.N.key/value into kv (at most MAX_ENTRIES); returns the count. */
static size_t read_map(const sns_ctx *s, const char *prefix, topic_kv *kv)
{
    size_t n = 0;
    for (size_t i = 1; i <= MAX_ENTRIES; i++) {
        const char *k = field(s, "%s.entry.%zu.key", prefix, i);
        if (k == NULL)
            break;
        const char *v = field(s, "%s.entry.%zu.value", prefix, i);
        kv[n++] = (topic_kv){k, v ? v : ""};
    }
    return n;
}

/* Tags.member.N.Key/Value into kv (at most MAX_ENTRIES); returns the count. */
static size_t read_tags(const sns_ctx *s, topic_kv *kv)
{
    size_t n = 0;
    for (size_t i = 1; i <= MAX_ENTRIES; i++) {
        const char *k = field(s, "Tags.member.%zu.Key", i);
        if (k == NULL)
            break;
        const char *v = field(s, "Tags.member.%zu.Value", i);
        kv[n++] = (topic_kv){k, v ? v : ""};
    }
    return n;
}

/* MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue|BinaryValue}. */
static size_t read_attrs(const sns_ctx *s, const char *prefix, topic_attr *out)
{
    size_t n = 0;
    for (size_t i = 1; i <= 10; i++) {
        const char *name = field(s, "%sMessageAttributes.entry.%zu.Name", prefix, i);
        if (name == NULL)
            break;
        const char *type = field(s, "%sMessageAttributes.entry.%zu.Value.DataType", prefix, i);
        const char *value = field(s, "%sMessageAttributes.entry.%zu.Value.StringValue", prefix, i);
        if (value == NULL)
            value = field(s, "%sMessageAttributes.entry.%zu.Value.BinaryValue", prefix, i);
        out[n++] = (topic_attr){name, type, value};
    }
    return n;
}

/* ---- answers ---- */

static void begin(sns_ctx *s, bool has_result)
{
    bt_buf_init(&s->out);
    bt_xml_init(&s->x, &s->out);
    snprintf(s->response, sizeof s->response, "%sResponse", s->c->op);
    snprintf(s->result, sizeof s->result, "%sResult", s->c->op);
    bt_xml_open(&s->x, s->response, SNS_NS);
    if (has_result)
        bt_xml_open(&s->x, s->result, NULL);
}

static void finish(sns_ctx *s, bool has_result)
{
    if (has_result)
        bt_xml_close(&s->x);
    bt_xml_open(&s->x, "ResponseMetadata", NULL);
    bt_xml_text(&s->x, "RequestId", s->c->request_id);
    bt_xml_close(&s->x);
    bt_xml_close(&s->x);
    const char *extra[] = {"x-amzn-RequestId", s->c->request_id, NULL};
    api_reply(s->c, 200, "text/xml", s->out.data, s->out.len, extra);
    bt_buf_fini(&s->out);
}

static void reply_empty(sns_ctx *s)
{
    begin(s, false);
    finish(s, false);
}

static void reply_one(sns_ctx *s, const char *name, const char *value)
{
    begin(s, true);
    bt_xml_text(&s->x, name, value);
    finish(s, true);
}

static void reply_error(sns_ctx *s, const topic_err *err)
{
    bt_buf b;
    bt_buf_init(&b);
    bt_xml x;
    bt_xml_init(&x, &b);
    bt_xml_open(&x, "ErrorResponse", SNS_NS);
    bt_xml_open(&x, "Error", NULL);
    bt_xml_text(&x, "Type", err->status >= 500 ? "Receiver" : "Sender");
    bt_xml_text(&x, "Code", err->code);
    bt_xml_text(&x, "Message", err->msg);
    bt_xml_close(&x);
    bt_xml_text(&x, "RequestId", s->c->request_id);
    bt_xml_close(&x);
    const char *extra[] = {"x-amzn-RequestId", s->c->request_id, NULL};
    api_reply(s->c, err->status, "text/xml", b.data, b.len, extra);
    bt_buf_fini(&b);
}

static void missing(sns_ctx *s, const char *name)
{
    topic_err err = {400, "InvalidParameter", ""};
    snprintf(err.msg, sizeof err.msg, "Invalid parameter: %s", name);
    reply_error(s, &err);
}

static void attributes_xml(sns_ctx *s, json_t *attrs)
{
    bt_xml_open(&s->x, "Attributes", NULL);
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v)
    {
        bt_xml_open(&s->x, "entry", NULL);
        bt_xml_text(&s->x, "key", k);
        bt_xml_text(&s->x, "value", json_string_value(v) ? json_string_value(v) : "");
        bt_xml_close(&s->x);
    }
    bt_xml_close(&s->x);
}

/* A page of a list: from NextToken (an offset), LIST_PAGE at most. */
static size_t page_start(const sns_ctx *s)
{
    const char *t = param(s, "NextToken");
    return t ? (size_t)strtoul(t, NULL, 10) : 0;
}

static void next_token(sns_ctx *s, size_t next, size_t total)
{
    if (next < total) {
        char tok[24];
        snprintf(tok, sizeof tok, "%zu", next);
        bt_xml_text(&s->x, "NextToken", tok);
    }
}

/* ---- operations ---- */

static void op_create_topic(sns_ctx *s)
{
    topic_kv kv[MAX_ENTRIES];
    size_t n = read_map(s, "Attributes", kv);
    char *arn = NULL;
    topic_err err;
    if (param(s, "Name") == NULL) {
        missing(s, "Name");
        return;
    }
    topic_kv tags[MAX_ENTRIES];
    size_t n_tags = read_tags(s, tags);
    if (topic_create_tagged(s->ts, param(s, "Name"), kv, n, tags, n_tags, TOPIC_ORIGIN_API, &arn,
                            &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_one(s, "TopicArn", arn);
    free(arn);
}

static void op_delete_topic(sns_ctx *s)
{
    topic_err err;
    if (param(s, "TopicArn") == NULL) {
        missing(s, "TopicArn");
        return;
    }
    if (topic_delete(s->ts, param(s, "TopicArn"), &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_empty(s);
}

static void op_list_topics(sns_ctx *s)
{
    json_t *list = topic_list(s->ts);
    size_t from = page_start(s), total = json_array_size(list), i;
    begin(s, true);
    bt_xml_open(&s->x, "Topics", NULL);
    for (i = from; i < total && i < from + LIST_PAGE; i++) {
        bt_xml_open(&s->x, "member", NULL);
        bt_xml_text(&s->x, "TopicArn",
                    json_string_value(json_object_get(json_array_get(list, i), "TopicArn")));
        bt_xml_close(&s->x);
    }
    bt_xml_close(&s->x);
    next_token(s, i, total);
    finish(s, true);
    json_decref(list);
}

static void op_get_topic_attributes(sns_ctx *s)
{
    json_t *attrs;
    topic_err err;
    if (param(s, "TopicArn") == NULL) {
        missing(s, "TopicArn");
        return;
    }
    if (topic_get_attributes(s->ts, param(s, "TopicArn"), &attrs, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    begin(s, true);
    attributes_xml(s, attrs);
    finish(s, true);
    json_decref(attrs);
}

static void op_set_topic_attributes(sns_ctx *s)
{
    topic_err err;
    if (param(s, "TopicArn") == NULL) {
        missing(s, "TopicArn");
        return;
    }
    if (param(s, "AttributeName") == NULL) {
        missing(s, "AttributeName");
        return;
    }
    if (topic_set_attribute(s->ts, param(s, "TopicArn"), param(s, "AttributeName"),
                            param(s, "AttributeValue"), &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_empty(s);
}

static void op_subscribe(sns_ctx *s)
{
    topic_kv kv[MAX_ENTRIES];
    size_t n = read_map(s, "Attributes", kv);
    if (param(s, "TopicArn") == NULL) {
        missing(s, "TopicArn");
        return;
    }
    if (param(s, "Protocol") == NULL) {
        missing(s, "Protocol");
        return;
    }
    topic_sub_req r = {.topic_arn = param(s, "TopicArn"),
                       .protocol = param(s, "Protocol"),
                       .endpoint = param(s, "Endpoint"),
                       .attrs = kv,
                       .n_attrs = n,
                       .origin = TOPIC_ORIGIN_API};
    char *arn = NULL;
    bool pending;
    topic_err err;
    if (topic_subscribe(s->ts, &r, &arn, &pending, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    const char *ret = param(s, "ReturnSubscriptionArn");
    bool show = !pending || (ret && strcmp(ret, "true") == 0);
    reply_one(s, "SubscriptionArn", show ? arn : "pending confirmation");
    free(arn);
}

static void op_confirm_subscription(sns_ctx *s)
{
    char *arn = NULL;
    topic_err err;
    if (param(s, "TopicArn") == NULL) {
        missing(s, "TopicArn");
        return;
    }
    if (param(s, "Token") == NULL) {
        missing(s, "Token");
        return;
    }
    if (topic_confirm(s->ts, param(s, "TopicArn"), param(s, "Token"), &arn, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_one(s, "SubscriptionArn", arn);
    free(arn);
}

static void op_unsubscribe(sns_ctx *s)
{
    topic_err err;
    if (param(s, "SubscriptionArn") == NULL) {
        missing(s, "SubscriptionArn");
        return;
    }
    if (topic_unsubscribe(s->ts, param(s, "SubscriptionArn"), &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_empty(s);
}

static void list_subscriptions(sns_ctx *s, const char *topic_arn)
{
    json_t *list;
    topic_err err;
    if (topic_list_subscriptions(s->ts, topic_arn, &list, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    size_t from = page_start(s), total = json_array_size(list), i;
    begin(s, true);
    bt_xml_open(&s->x, "Subscriptions", NULL);
    static const char *const keys[] = {"Owner", "Endpoint", "Protocol", "SubscriptionArn",
                                       "TopicArn"};
    for (i = from; i < total && i < from + LIST_PAGE; i++) {
        json_t *o = json_array_get(list, i);
        bt_xml_open(&s->x, "member", NULL);
        for (size_t k = 0; k < 5; k++)
            bt_xml_text(&s->x, keys[k], json_string_value(json_object_get(o, keys[k])));
        bt_xml_close(&s->x);
    }
    bt_xml_close(&s->x);
    next_token(s, i, total);
    finish(s, true);
    json_decref(list);
}

static void op_list_subscriptions(sns_ctx *s)
{
    list_subscriptions(s, NULL);
}

static void op_list_subscriptions_by_topic(sns_ctx *s)
{
    if (param(s, "TopicArn") == NULL) {
        missing(s, "TopicArn");
        return;
    }
    list_subscriptions(s, param(s, "TopicArn"));
}

static void op_get_subscription_attributes(sns_ctx *s)
{
    json_t *attrs;
    topic_err err;
    if (param(s, "SubscriptionArn") == NULL) {
        missing(s, "SubscriptionArn");
        return;
    }
    if (topic_get_sub_attributes(s->ts, param(s, "SubscriptionArn"), &attrs, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    begin(s, true);
    attributes_xml(s, attrs);
    finish(s, true);
    json_decref(attrs);
}

static void op_set_subscription_attributes(sns_ctx *s)
{
    topic_err err;
    if (param(s, "SubscriptionArn") == NULL) {
        missing(s, "SubscriptionArn");
        return;
    }
    if (param(s, "AttributeName") == NULL) {
        missing(s, "AttributeName");
        return;
    }
    if (topic_set_sub_attribute(s->ts, param(s, "SubscriptionArn"), param(s, "AttributeName"),
                                param(s, "AttributeValue"), &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_empty(s);
}

static void op_publish(sns_ctx *s)
{
    topic_attr attrs[10];
    topic_publish_req p = {
        .topic_arn = param(s, "TopicArn") ? param(s, "TopicArn") : param(s, "TargetArn"),
        .message = param(s, "Message"),
        .subject = param(s, "Subject"),
        .structure = param(s, "MessageStructure"),
        .attrs = attrs,
        .n_attrs = read_attrs(s, "", attrs),
        .group_id = param(s, "MessageGroupId"),
        .dedup_id = param(s, "MessageDeduplicationId"),
    };
    if (p.topic_arn == NULL && param(s, "PhoneNumber")) {
        missing(s, "TopicArn or TargetArn Reason: SMS is not available on Baton");
        return;
    }
    if (p.message == NULL) {
        missing(s, "Message");
        return;
    }
    char id[37];
    topic_err err;
    if (topic_publish(s->ts, &p, id, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    reply_one(s, "MessageId", id);
}

static void batch_error(sns_ctx *s, const char *code, const char *msg)
{
    topic_err err = {400, code, ""};
    snprintf(err.msg, sizeof err.msg, "%s", msg);
    reply_error(s, &err);
}

static void op_publish_batch(sns_ctx *s)
{
    const char *topic_arn = param(s, "TopicArn");
    if (topic_arn == NULL) {
        missing(s, "TopicArn");
        return;
    }
    size_t n = 0, bytes = 0;
    const char *ids[BATCH_MAX + 1];
    for (size_t i = 1; i <= BATCH_MAX + 1; i++) {
        const char *id = field(s, "PublishBatchRequestEntries.member.%zu.Id", i);
        const char *msg = field(s, "PublishBatchRequestEntries.member.%zu.Message", i);
        if (id == NULL && msg == NULL)
            break;
        if (n == BATCH_MAX) {
            batch_error(s, "TooManyEntriesInBatchRequest",
                        "The batch request contains more entries than permissible.");
            return;
        }
        if (id == NULL) {
            batch_error(s, "InvalidBatchEntryId",
                        "The Id of a batch entry in a batch request doesn't abide by the "
                        "specification.");
            return;
        }
        for (size_t j = 0; j < n; j++)
            if (strcmp(ids[j], id) == 0) {
                batch_error(s, "BatchEntryIdsNotDistinct",
                            "Two or more batch entries in the request have the same Id.");
                return;
            }
        ids[n++] = id;
        bytes += msg ? strlen(msg) : 0;
    }
    if (n == 0) {
        batch_error(s, "EmptyBatchRequest", "The batch request doesn't contain any entries.");
        return;
    }
    if (bytes > TOPIC_MESSAGE_MAX) {
        batch_error(s, "BatchRequestTooLong",
                    "The length of all the messages put together is more than the limit.");
        return;
    }
    json_t *probe;
    topic_err terr;
    if (topic_list_subscriptions(s->ts, topic_arn, &probe, &terr) < 0) {
        reply_error(s, &terr);
        return;
    }
    json_decref(probe);
    json_t *ok = json_array(), *bad = json_array();
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "PublishBatchRequestEntries.member.%zu.", i + 1);
        topic_attr attrs[10];
        topic_publish_req p = {
            .topic_arn = topic_arn,
            .message = field(s, "%sMessage", prefix),
            .subject = field(s, "%sSubject", prefix),
            .structure = field(s, "%sMessageStructure", prefix),
            .attrs = attrs,
            .n_attrs = read_attrs(s, prefix, attrs),
            .group_id = field(s, "%sMessageGroupId", prefix),
            .dedup_id = field(s, "%sMessageDeduplicationId", prefix),
        };
        char id[37];
        topic_err err;
        if (topic_publish(s->ts, &p, id, &err) < 0)
            json_array_append_new(bad, json_pack("{s:s,s:s,s:s,s:s}", "Id", ids[i], "Code",
                                                 err.code, "Message", err.msg, "SenderFault",
                                                 err.status < 500 ? "true" : "false"));
        else
            json_array_append_new(ok, json_pack("{s:s,s:s}", "Id", ids[i], "MessageId", id));
    }
    begin(s, true);
    bt_xml_open(&s->x, "Successful", NULL);
    size_t i;
    json_t *o;
    json_array_foreach(ok, i, o)
    {
        bt_xml_open(&s->x, "member", NULL);
        bt_xml_text(&s->x, "Id", json_string_value(json_object_get(o, "Id")));
        bt_xml_text(&s->x, "MessageId", json_string_value(json_object_get(o, "MessageId")));
        bt_xml_close(&s->x);
    }
    bt_xml_close(&s->x);
    bt_xml_open(&s->x, "Failed", NULL);
    json_array_foreach(bad, i, o)
    {
        bt_xml_open(&s->x, "member", NULL);
        static const char *const keys[] = {"Id", "Code", "Message", "SenderFault"};
        for (size_t k = 0; k < 4; k++)
            bt_xml_text(&s->x, keys[k], json_string_value(json_object_get(o, keys[k])));
        bt_xml_close(&s->x);
    }
    bt_xml_close(&s->x);
    finish(s, true);
    json_decref(ok);
    json_decref(bad);
}

static void op_tag_resource(sns_ctx *s)
{
    topic_kv tags[MAX_ENTRIES];
    size_t n = read_tags(s, tags);
    topic_err err;
    if (param(s, "ResourceArn") == NULL) {
        missing(s, "ResourceArn");
        return;
    }
    if (n == 0 && field(s, "Tags") == NULL) {
        missing(s, "Tags");
        return;
    }
    if (topic_tag(s->ts, param(s, "ResourceArn"), tags, n, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    begin(s, true);
    finish(s, true);
}

static void op_untag_resource(sns_ctx *s)
{
    const char *keys[MAX_ENTRIES];
    size_t n = 0;
    for (size_t i = 1; i <= MAX_ENTRIES; i++) {
        const char *k = field(s, "TagKeys.member.%zu", i);
        if (k == NULL)
            break;
        keys[n++] = k;
    }
    topic_err err;
    if (param(s, "ResourceArn") == NULL) {
        missing(s, "ResourceArn");
        return;
    }
    if (topic_untag(s->ts, param(s, "ResourceArn"), keys, n, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    begin(s, true);
    finish(s, true);
}

static void op_list_tags_for_resource(sns_ctx *s)
{
    json_t *tags = NULL;
    topic_err err;
    if (param(s, "ResourceArn") == NULL) {
        missing(s, "ResourceArn");
        return;
    }
    if (topic_list_tags(s->ts, param(s, "ResourceArn"), &tags, &err) < 0) {
        reply_error(s, &err);
        return;
    }
    begin(s, true);
    bt_xml_open(&s->x, "Tags", NULL);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        bt_xml_open(&s->x, "member", NULL);
        bt_xml_text(&s->x, "Key", json_string_value(json_object_get(t, "Key")));
        bt_xml_text(&s->x, "Value", json_string_value(json_object_get(t, "Value")));
        bt_xml_close(&s->x);
    }
    bt_xml_close(&s->x);
    finish(s, true);
    json_decref(tags);
}

typedef struct sns_op {
    const char *name;
    void (*run)(sns_ctx *s);
} sns_op;

static const sns_op ops[] = {
    {"CreateTopic", op_create_topic},
    {"DeleteTopic", op_delete_topic},
    {"ListTopics", op_list_topics},
    {"GetTopicAttributes", op_get_topic_attributes},
    {"SetTopicAttributes", op_set_topic_attributes},
    {"Subscribe", op_subscribe},
    {"ConfirmSubscription", op_confirm_subscription},
    {"Unsubscribe", op_unsubscribe},
    {"ListSubscriptions", op_list_subscriptions},
    {"ListSubscriptionsByTopic", op_list_subscriptions_by_topic},
    {"GetSubscriptionAttributes", op_get_subscription_attributes},
    {"SetSubscriptionAttributes", op_set_subscription_attributes},
    {"Publish", op_publish},
    {"PublishBatch", op_publish_batch},
    {"TagResource", op_tag_resource},
    {"UntagResource", op_untag_resource},
    {"ListTagsForResource", op_list_tags_for_resource},
};

bool api_sns_is_action(const char *action)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, action) == 0)
            return true;
    return false;
}

void api_sns(api_call *c, topic_service *ts)
{
    sns_ctx s = {.c = c, .ts = ts};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, c->op) == 0) {
            ops[i].run(&s);
            return;
        }
    topic_err err = {400, "InvalidAction", ""};
    snprintf(err.msg, sizeof err.msg, "The action %.100s is not valid for this endpoint.", c->op);
    reply_error(&s, &err);
}
