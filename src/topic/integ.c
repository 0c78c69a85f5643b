/*
 * integ.c — the Step Functions integration arn:aws:states:::sns:publish (and
 * .waitForTaskToken). Parameters are Publish's (SNS notes §15); a Message that is not a
 * string is sent as its JSON text. The publish happens inside start(), so its deliveries
 * are written in the batch of the transition and run only once it is durable. The result is
 * what AWS records: {MessageId, SdkHttpMetadata, SdkResponseMetadata}; errors are named
 * "SNS.<Code>Exception" with the Java SDK's cause format (recorded SNS.NotFoundException).
 */
#include "topic/topic_int.h"

#include "base/alloc.h"
#include "base/json.h"
#include "base/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char res_publish[] = "arn:aws:states:::sns:publish";
static const char res_wait[] = "arn:aws:states:::sns:publish.waitForTaskToken";

static bool handles(void *self, const char *state_name, const char *resource)
{
    (void)self;
    (void)state_name;
    return resource && (strcmp(resource, res_publish) == 0 || strcmp(resource, res_wait) == 0);
}

static const char *opt_string(const json_t *params, const char *key)
{
    return json_string_value(json_object_get(params, key));
}

/* The length of Publish's XML answer, as the SDK saw it in Content-Length. */
static size_t publish_xml_len(const char *message_id, const char *request_id)
{
    return (size_t)snprintf(NULL, 0,
                            "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
                            "\n  <PublishResult>\n    <MessageId>%s</MessageId>\n  "
                            "</PublishResult>\n  <ResponseMetadata>\n    <RequestId>%s"
                            "</RequestId>\n  </ResponseMetadata>\n</PublishResponse>\n",
                            message_id, request_id);
}

static json_t *response(const char *message_id, const char *request_id, int64_t now_ms)
{
    char length[24], date[40];
    snprintf(length, sizeof length, "%zu", publish_xml_len(message_id, request_id));
    topic__http_date(now_ms, date);
    const char *names[] = {"x-amzn-RequestId", "connection", "Content-Length", "Date",
                           "Content-Type"};
    const char *values[] = {request_id, "keep-alive", length, date, "text/xml"};
    json_t *all = json_object(), *single = json_object();
    for (size_t i = 0; i < 5; i++) {
        json_object_set_new(all, names[i], json_pack("[s]", values[i]));
        json_object_set_new(single, names[i], json_string(values[i]));
    }
    return json_pack("{s:s,s:{s:o,s:o,s:i},s:{s:s}}", "MessageId", message_id, "SdkHttpMetadata",
                     "AllHttpHeaders", all, "HttpHeaders", single, "HttpStatusCode", 200,
                     "SdkResponseMetadata", "RequestId", request_id);
}

static void fail(const integ_sink *sink, uint64_t id, const topic_err *err, const char *request_id)
{
    size_t n = strlen(err->code);
    char *error = n > 9 && strcmp(err->code + n - 9, "Exception") == 0
                      ? bt_xasprintf("SNS.%s", err->code)
                      : bt_xasprintf("SNS.%sException", err->code);
    char *cause = bt_xasprintf(
        "%s (Service: AmazonSNS; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)",
        err->msg, err->status, err->code, request_id);
    sink->failed(sink->ud, id, error, cause);
    free(error);
    free(cause);
}

static int start(void *self, const integ_task *t, const integ_sink *sink)
{
    topic_service *ts = self;
    uint8_t raw[16];
    char request_id[37], message_id[37];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, request_id);
    const json_t *p = t->parameters;
    json_t *message = json_object_get(p, "Message");
    char *text = message == NULL           ? NULL
                 : json_is_string(message) ? bt_xstrdup(json_string_value(message))
                                           : bt_json_dumps(message);
    topic_err err = {0};
    topic_attr attrs[10];
    size_t n_attrs = 0;
    const char *key;
    json_t *v;
    json_t *ma = json_object_get(p, "MessageAttributes");
    json_object_foreach(ma, key, v)
    {
        if (n_attrs == 10)
            break;
        const char *type = opt_string(v, "DataType");
        const char *value = opt_string(v, "StringValue");
        if (value == NULL)
            value = opt_string(v, "BinaryValue");
        attrs[n_attrs++] = (topic_attr){key, type, value};
    }
    topic_publish_req pub = {
        .topic_arn =
            opt_string(p, "TopicArn") ? opt_string(p, "TopicArn") : opt_string(p, "TargetArn"),
        .message = text,
        .subject = opt_string(p, "Subject"),
        .structure = opt_string(p, "MessageStructure"),
        .attrs = attrs,
        .n_attrs = n_attrs,
        .group_id = opt_string(p, "MessageGroupId"),
        .dedup_id = opt_string(p, "MessageDeduplicationId"),
    };
    if (opt_string(p, "PhoneNumber") && pub.topic_arn == NULL) {
        topic__fail(&err, 400, "InvalidParameter",
                    "Invalid parameter: PhoneNumber Reason: SMS is not available on Baton");
        fail(sink, t->id, &err, request_id);
    } else if (topic_publish(ts, &pub, message_id, &err) < 0) {
        fail(sink, t->id, &err, request_id);
    } else {
        json_t *r = response(message_id, request_id, server_now_ms(ts->srv));
        if (strcmp(t->resource, res_wait) == 0)
            sink->submitted(sink->ud, t->id, r);
        else
            sink->succeeded(sink->ud, t->id, r);
        json_decref(r);
    }
    free(text);
    return 0;
}

/* The publish happens inside start(): nothing is left to cancel. */
static void cancel(void *self, const char *execution_arn, uint64_t task_id)
{
    (void)self;
    (void)execution_arn;
    (void)task_id;
}

static void destroy(void *self)
{
    (void)self;
}

static const integ_ops topic_integ_ops = {
    "sns", handles, start, cancel, destroy, false,
};

integ topic_integ(topic_service *ts)
{
    integ i = {&topic_integ_ops, ts};
    return i;
}
