/*
 * sendtask.c — Parameters to SendMessage and back for the sqs:sendMessage integration.
 * Shapes follow what Step Functions was recorded returning (LocalStack's snapshots of AWS,
 * SQS notes §8): the SendMessage result merged with the Java SDK's SdkHttpMetadata and
 * SdkResponseMetadata, and failures named "SQS.<exception>" with the SDK's cause format.
 */
#include "queue/sendtask.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/json.h"
#include "queue/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int bad_param(qm_err *err, const char *name)
{
    return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                   "Value for parameter %s is invalid. Reason: wrong type.", name);
}

static const char *opt_string(json_t *params, const char *name, bool *bad)
{
    json_t *v = json_object_get(params, name);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        *bad = true;
    return json_string_value(v);
}

static int decode_attr(const char *name, json_t *v, qm_attr *a, qm_err *err)
{
    const char *type = json_string_value(json_object_get(v, "DataType"));
    const char *text = json_string_value(json_object_get(v, "StringValue"));
    const char *bin = json_string_value(json_object_get(v, "BinaryValue"));
    memset(a, 0, sizeof(*a));
    a->name = bt_xstrdup(name);
    if (!json_is_object(v) || type == NULL)
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "The message attribute '%.256s' must contain a non-empty message "
                       "attribute type.",
                       name);
    a->type = bt_xstrdup(type);
    if (strncmp(type, "Binary", 6) == 0 && bin) {
        bt_buf b;
        bt_buf_init(&b);
        if (!qc_base64_decode(bin, strlen(bin), &b)) {
            bt_buf_fini(&b);
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "The message attribute '%.256s' has an invalid binary value.", name);
        }
        a->len = b.len;
        a->value = bt_buf_steal(&b);
        a->is_binary = true;
    } else if (text) {
        a->value = bt_xstrdup(text);
        a->len = strlen(text);
    }
    return 0;
}

int sendtask_decode(json_t *params, sendtask *out, qm_err *err)
{
    memset(out, 0, sizeof(*out));
    out->send.delay_s = -1;
    bool bad = false;
    out->queue_url = opt_string(params, "QueueUrl", &bad);
    if (bad)
        return bad_param(err, "QueueUrl");
    if (out->queue_url == NULL)
        return qm_fail(err, QM_E_MISSING_PARAMETER,
                       "The request must contain the parameter QueueUrl.");
    json_t *body = json_object_get(params, "MessageBody");
    if (body == NULL || json_is_null(body))
        return qm_fail(err, QM_E_MISSING_PARAMETER,
                       "The request must contain the parameter MessageBody.");
    out->body = json_is_string(body) ? bt_xstrdup(json_string_value(body)) : bt_json_dumps(body);
    if (out->body == NULL)
        return bad_param(err, "MessageBody");
    out->send.body = out->body;
    json_t *delay = json_object_get(params, "DelaySeconds");
    if (delay && !json_is_null(delay)) {
        if (!json_is_integer(delay))
            return bad_param(err, "DelaySeconds");
        out->send.delay_s = json_integer_value(delay) < 0 ? -2 : json_integer_value(delay);
    }
    out->send.group_id = opt_string(params, "MessageGroupId", &bad);
    out->send.dedup_id = opt_string(params, "MessageDeduplicationId", &bad);
    if (bad)
        return bad_param(err, "MessageGroupId");
    json_t *attrs = json_object_get(params, "MessageAttributes");
    if (attrs && !json_is_null(attrs)) {
        if (!json_is_object(attrs))
            return bad_param(err, "MessageAttributes");
        if (json_object_size(attrs) > QM_MAX_ATTRIBUTES)
            return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                           "Number of message attributes [%zu] exceeds the allowed maximum "
                           "[%d].",
                           json_object_size(attrs), QM_MAX_ATTRIBUTES);
        const char *name;
        json_t *v;
        json_object_foreach(attrs, name, v)
        {
            if (decode_attr(name, v, &out->attrs[out->n_attrs++], err) < 0)
                return -1;
        }
        out->send.attrs = out->attrs;
        out->send.n_attrs = out->n_attrs;
    }
    return 0;
}

void sendtask_fini(sendtask *t)
{
    for (size_t i = 0; i < t->n_attrs; i++) {
        free(t->attrs[i].name);
        free(t->attrs[i].type);
        free(t->attrs[i].value);
    }
    free(t->body);
    memset(t, 0, sizeof(*t));
}

/* An HTTP date ("Tue, 14 Nov 2023 22:13:20 GMT"), in English whatever the locale. */
static void http_date(int64_t now_ms, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

json_t *sendtask_response(const qm_sent *sent, const char *request_id, int64_t now_ms)
{
    json_t *r = json_object();
    json_object_set_new(r, "MD5OfMessageBody", json_string(sent->md5_body));
    if (sent->md5_attrs[0])
        json_object_set_new(r, "MD5OfMessageAttributes", json_string(sent->md5_attrs));
    json_object_set_new(r, "MessageId", json_string(sent->message_id));
    if (sent->seq[0])
        json_object_set_new(r, "SequenceNumber", json_string(sent->seq));
    /* The length SQS's own JSON answer would have had. */
    char *wire = bt_json_dumps(r);
    char length[24], date[40];
    snprintf(length, sizeof(length), "%zu", strlen(wire));
    free(wire);
    http_date(now_ms, date);
    const char *names[] = {"x-amzn-RequestId", "Date", "Content-Type", "Content-Length"};
    const char *values[] = {request_id, date, "application/x-amz-json-1.0", length};
    json_t *all = json_object(), *single = json_object();
    for (size_t i = 0; i < 4; i++) {
        json_object_set_new(all, names[i], json_pack("[s]", values[i]));
        json_object_set_new(single, names[i], json_string(values[i]));
    }
    json_object_set_new(r, "SdkHttpMetadata",
                        json_pack("{s:o,s:o,s:i}", "AllHttpHeaders", all, "HttpHeaders", single,
                                  "HttpStatusCode", 200));
    json_object_set_new(r, "SdkResponseMetadata", json_pack("{s:s}", "RequestId", request_id));
    return r;
}

/*
 * Step Functions names a service error after the Java SDK's exception class: the modelled
 * ones (QueueDoesNotExistException, InvalidMessageContentsException, …) and
 * AmazonSQSException for the rest — recorded for MissingParameter in LocalStack's snapshots
 * of AWS (test_task_service_sqs.snapshot.json). No recording of a missing queue on a
 * reachable host exists; SQS.QueueDoesNotExistException follows the SDK's naming as the
 * recorded SNS.NotFoundException does for SNS.
 */
char *sendtask_error(const qm_err *err)
{
    const char *exception = qm_code_exception(err->code);
    return bt_xasprintf("SQS.%s", exception ? exception : "AmazonSQSException");
}

char *sendtask_cause(const qm_err *err, const char *request_id)
{
    return bt_xasprintf(
        "%s (Service: AmazonSQS; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)",
        err->msg, qm_code_status(err->code), qm_code_query(err->code), request_id);
}
