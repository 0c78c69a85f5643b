/*
 * sqs.c — the SQS API on the queue service, in both of SQS's protocols: AWS JSON 1.0
 * (X-Amz-Target: AmazonSQS.<Op>; errors as {"__type", "message"} plus x-amzn-query-error so
 * that newer SDKs report the legacy codes) and the query protocol (form fields, XML
 * answers; the queue may be named by the request path). Requests are decoded and checked in
 * sqs_codec.c; this file runs them on the model and answers. ReceiveMessage may answer
 * later (long polls): its request lives in a heap context until the service calls back.
 */
#include "api/sqs.h"

#include "api/sqs_int.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/rand.h"
#include "queue/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sqs_call {
    api_call *c;
    queue_service *qs;
    sqs_req req;
    char request_id[37];
    const char *dlq_arn; /* ListDeadLetterSourceQueues: the queue sources must point at */
} sqs_call;

bool api_sqs_is_action(const char *action)
{
    return sqs_op_find(action) >= 0;
}

/* ---- answering ---- */

static void finish(sqs_call *sc)
{
    sqs_req_fini(&sc->req);
    free(sc);
}

static void reply_ok(sqs_call *sc, json_t *result)
{
    api_call *c = sc->c;
    if (c->proto == API_PROTO_QUERY) {
        bt_buf b;
        bt_buf_init(&b);
        sqs_render_xml(sc->req.op, result, sc->request_id, &b);
        api_reply(c, 200, "text/xml", b.data, b.len, NULL);
        bt_buf_fini(&b);
    } else {
        const char *extra[] = {"x-amzn-RequestId", sc->request_id, NULL};
        char *text = bt_json_dumps(result);
        api_reply(c, 200, "application/x-amz-json-1.0", text, strlen(text), extra);
        free(text);
    }
    json_decref(result);
    finish(sc);
}

static void reply_error(sqs_call *sc, const qm_err *err)
{
    api_call *c = sc->c;
    int status = qm_code_status(err->code);
    if (c->proto == API_PROTO_QUERY) {
        bt_buf b;
        bt_buf_init(&b);
        sqs_render_xml_error(err, sc->request_id, &b);
        api_reply(c, status, "text/xml", b.data, b.len, NULL);
        bt_buf_fini(&b);
    } else {
        char header[160];
        sqs_query_error_header(err, header, sizeof(header));
        const char *extra[] = {"x-amzn-RequestId", sc->request_id, "x-amzn-query-error", header,
                               NULL};
        json_t *body = sqs_json_error(err);
        char *text = bt_json_dumps(body);
        api_reply(c, status, "application/x-amz-json-1.0", text, strlen(text), extra);
        free(text);
        json_decref(body);
    }
    finish(sc);
}

/* ---- helpers ---- */

static qmodel *model(sqs_call *sc)
{
    return queue_model(sc->qs);
}

static int64_t now(sqs_call *sc)
{
    return queue_now_ms(sc->qs);
}

/* The queue the request names: QueueUrl, or in the query protocol the request path. */
static qm_queue *target(sqs_call *sc, qm_err *err)
{
    if (sc->req.queue_url)
        return queue_resolve_url(sc->qs, sc->req.queue_url, err);
    const char *path = sc->c->req ? http_path(sc->c->req) : NULL;
    if (sc->c->proto == API_PROTO_QUERY && path && strcmp(path, "/") != 0)
        return queue_resolve_path(sc->qs, path, err);
    qm_fail(err, QM_E_MISSING_PARAMETER, "The request must contain the parameter QueueUrl.");
    return NULL;
}

static json_t *url_result(sqs_call *sc, const qm_queue *q)
{
    char *url = queue_url(sc->qs, q);
    json_t *r = json_pack("{s:s}", "QueueUrl", url);
    free(url);
    return r;
}

static void put_attr(void *ud, const char *name, const char *value)
{
    json_object_set_new(ud, name, json_string(value));
}

/* NextToken: the last name listed, base64 so that it reads as opaque. */
static int page_start(const sqs_req *r, char **after, qm_err *err)
{
    *after = NULL;
    if (r->max_results != -1 && (r->max_results < 1 || r->max_results > 1000))
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE,
                       "Value %" PRId64 " for parameter MaxResults is invalid. Reason: MaxResults "
                       "must be an integer between 1 and 1000.",
                       r->max_results);
    if (r->next_token == NULL || *r->next_token == '\0')
        return 0;
    bt_buf b;
    bt_buf_init(&b);
    if (!qc_base64_decode(r->next_token, strlen(r->next_token), &b) || !qc_utf8_ok(b.data, b.len) ||
        strlen(b.data) != b.len) {
        bt_buf_fini(&b);
        return qm_fail(err, QM_E_INVALID_PARAMETER_VALUE, "Invalid NextToken value.");
    }
    *after = bt_buf_steal(&b);
    return 0;
}

static void put_next_token(json_t *result, const char *last)
{
    bt_buf b;
    bt_buf_init(&b);
    qc_base64_encode(last, strlen(last), &b);
    json_object_set_new(result, "NextToken", json_string(b.data));
    bt_buf_fini(&b);
}

/* Lists queue URLs (those keep() accepts) a page at a time; a NextToken only when the caller
 * set MaxResults (ListQueues' documentation). */
static json_t *list_page(sqs_call *sc, const char *member, bool (*keep)(sqs_call *, qm_queue *),
                         qm_err *err)
{
    char *after;
    if (page_start(&sc->req, &after, err) < 0)
        return NULL;
    size_t limit = sc->req.max_results > 0 ? (size_t)sc->req.max_results : 1000, n = 0;
    json_t *urls = json_array(), *result = json_object();
    const qm_queue *last = NULL;
    qm_queue *q = qm_first_after(model(sc), after);
    for (; q && n < limit; q = qm_next(q)) {
        if (!keep(sc, q))
            continue;
        char *url = queue_url(sc->qs, q);
        json_array_append_new(urls, json_string(url));
        free(url);
        last = q;
        n++;
    }
    while (q && !keep(sc, q))
        q = qm_next(q);
    if (n)
        json_object_set_new(result, member, urls);
    else
        json_decref(urls);
    if (q && last && sc->req.max_results > 0)
        put_next_token(result, qm_queue_name(last));
    free(after);
    return result;
}

static bool prefix_matches(sqs_call *sc, qm_queue *q)
{
    const char *p = sc->req.prefix;
    return p == NULL || strncmp(qm_queue_name(q), p, strlen(p)) == 0;
}

static bool sends_to_dlq(sqs_call *sc, qm_queue *q)
{
    const char *arn = qm_queue_dlq_arn(q);
    return arn && strcmp(arn, sc->dlq_arn) == 0;
}

/* ---- operations ---- */

static json_t *op_create_queue(sqs_call *sc, qm_err *err)
{
    qm_queue *q;
    bool created;
    if (qm_create_queue(model(sc), sc->req.queue_name, sc->req.attrs, sc->req.n_attrs, sc->req.tags,
                        sc->req.n_tags, now(sc), &q, &created, err) < 0)
        return NULL;
    return url_result(sc, q);
}

static json_t *op_get_queue_url(sqs_call *sc, qm_err *err)
{
    const char *owner = sc->req.owner;
    qm_queue *q = owner && strcmp(owner, qmodel_account(model(sc))) != 0
                      ? NULL
                      : qm_find(model(sc), sc->req.queue_name);
    if (q == NULL) {
        qm_fail(err, QM_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
        return NULL;
    }
    return url_result(sc, q);
}

static json_t *op_list_queues(sqs_call *sc, qm_err *err)
{
    return list_page(sc, "QueueUrls", prefix_matches, err);
}

static json_t *op_get_attributes(sqs_call *sc, qm_queue *q, qm_err *err)
{
    json_t *attrs = json_object();
    if (qm_get_attributes(model(sc), q, sc->req.names, sc->req.n_names, now(sc), put_attr, attrs,
                          err) < 0) {
        json_decref(attrs);
        return NULL;
    }
    json_t *result = json_object();
    if (json_object_size(attrs))
        json_object_set_new(result, "Attributes", attrs);
    else
        json_decref(attrs);
    return result;
}

static json_t *op_set_attributes(sqs_call *sc, qm_queue *q, qm_err *err)
{
    if (qm_set_attributes(model(sc), q, sc->req.attrs, sc->req.n_attrs, now(sc), err) < 0)
        return NULL;
    return json_object();
}

static json_t *sent_json(const qm_sent *s, const char *id)
{
    json_t *o = json_object();
    if (id)
        json_object_set_new(o, "Id", json_string(id));
    json_object_set_new(o, "MD5OfMessageBody", json_string(s->md5_body));
    if (s->md5_attrs[0])
        json_object_set_new(o, "MD5OfMessageAttributes", json_string(s->md5_attrs));
    if (s->md5_sys[0])
        json_object_set_new(o, "MD5OfMessageSystemAttributes", json_string(s->md5_sys));
    json_object_set_new(o, "MessageId", json_string(s->message_id));
    if (s->seq[0])
        json_object_set_new(o, "SequenceNumber", json_string(s->seq));
    return o;
}

static json_t *op_send(sqs_call *sc, qm_queue *q, qm_err *err)
{
    qm_sent sent;
    if (qm_send_message(model(sc), q, &sc->req.entries[0].send, now(sc), &sent, err) < 0)
        return NULL;
    return sent_json(&sent, NULL);
}

static json_t *failed_entry(const char *id, const qm_err *e)
{
    return json_pack("{s:s,s:b,s:s,s:s}", "Id", id, "SenderFault", qm_code_status(e->code) < 500,
                     "Code", qm_code_query(e->code), "Message", e->msg);
}

static json_t *batch_result(json_t *ok, json_t *failed)
{
    return json_pack("{s:o,s:o}", "Successful", ok, "Failed", failed);
}

/* The whole batch counts against 256 KiB before any entry is sent (BatchRequestTooLong). */
static json_t *op_send_batch(sqs_call *sc, qm_queue *q, qm_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < sc->req.n_entries; i++) {
        const qm_send *s = &sc->req.entries[i].send;
        total += s->body ? strlen(s->body) : 0;
        for (size_t k = 0; k < s->n_attrs; k++)
            total += strlen(s->attrs[k].name) + strlen(s->attrs[k].type) + s->attrs[k].len;
    }
    if (total > QM_MAX_BATCH_BYTES) {
        qm_fail(err, QM_E_BATCH_TOO_LONG,
                "Batch requests cannot be longer than %d bytes. You have sent %zu bytes.",
                QM_MAX_BATCH_BYTES, total);
        return NULL;
    }
    json_t *ok = json_array(), *failed = json_array();
    for (size_t i = 0; i < sc->req.n_entries; i++) {
        const sqs_entry *e = &sc->req.entries[i];
        qm_sent sent;
        qm_err ee = {0};
        if (qm_send_message(model(sc), q, &e->send, now(sc), &sent, &ee) < 0) {
            /* A missing group id is a parameter problem per entry (recorded). */
            if (ee.code == QM_E_MISSING_PARAMETER && e->send.body)
                ee.code = QM_E_INVALID_PARAMETER_VALUE;
            json_array_append_new(failed, failed_entry(e->id, &ee));
        } else {
            json_array_append_new(ok, sent_json(&sent, e->id));
        }
    }
    return batch_result(ok, failed);
}

static json_t *op_delete(sqs_call *sc, qm_queue *q, qm_err *err)
{
    if (qm_delete_message(model(sc), q, sc->req.entries[0].receipt, now(sc), err) < 0)
        return NULL;
    return json_object();
}

static json_t *op_change_visibility(sqs_call *sc, qm_queue *q, qm_err *err)
{
    const sqs_entry *e = &sc->req.entries[0];
    if (qm_change_visibility(model(sc), q, e->receipt, e->visibility_s, now(sc), err) < 0)
        return NULL;
    return json_object();
}

static json_t *op_entry_batch(sqs_call *sc, qm_queue *q, qm_err *err)
{
    (void)err;
    json_t *ok = json_array(), *failed = json_array();
    for (size_t i = 0; i < sc->req.n_entries; i++) {
        const sqs_entry *e = &sc->req.entries[i];
        qm_err ee = {0};
        int rc;
        if (e->receipt == NULL)
            rc = qm_fail(&ee, QM_E_MISSING_PARAMETER,
                         "The request must contain the parameter ReceiptHandle.");
        else if (sc->req.op == SQS_DeleteMessageBatch)
            rc = qm_delete_message(model(sc), q, e->receipt, now(sc), &ee);
        else if (e->visibility_s < 0)
            rc = qm_fail(&ee, QM_E_MISSING_PARAMETER,
                         "The request must contain the parameter VisibilityTimeout.");
        else
            rc = qm_change_visibility(model(sc), q, e->receipt, e->visibility_s, now(sc), &ee);
        if (rc < 0)
            json_array_append_new(failed, failed_entry(e->id, &ee));
        else
            json_array_append_new(ok, json_pack("{s:s}", "Id", e->id));
    }
    return batch_result(ok, failed);
}

static json_t *op_purge(sqs_call *sc, qm_queue *q, qm_err *err)
{
    if (qm_purge(model(sc), q, now(sc), err) < 0)
        return NULL;
    return json_object();
}

static json_t *op_delete_queue(sqs_call *sc, qm_queue *q, qm_err *err)
{
    if (qm_delete_queue(model(sc), q, now(sc), err) < 0)
        return NULL;
    return json_object();
}

static json_t *op_tag(sqs_call *sc, qm_queue *q, qm_err *err)
{
    if (qm_tag(model(sc), q, sc->req.tags, sc->req.n_tags, err) < 0)
        return NULL;
    return json_object();
}

static json_t *op_untag(sqs_call *sc, qm_queue *q, qm_err *err)
{
    if (qm_untag(model(sc), q, sc->req.names, sc->req.n_names, err) < 0)
        return NULL;
    return json_object();
}

static json_t *op_list_tags(sqs_call *sc, qm_queue *q, qm_err *err)
{
    (void)sc;
    (void)err;
    json_t *tags = json_object(), *result = json_object();
    for (size_t i = 0; i < qm_n_tags(q); i++) {
        const char *k, *v;
        qm_tag_at(q, i, &k, &v);
        json_object_set_new(tags, k, json_string(v));
    }
    if (json_object_size(tags))
        json_object_set_new(result, "Tags", tags);
    else
        json_decref(tags);
    return result;
}

static json_t *op_list_dlq_sources(sqs_call *sc, qm_queue *q, qm_err *err)
{
    sc->dlq_arn = qm_queue_arn(q);
    return list_page(sc, "queueUrls", sends_to_dlq, err);
}

/* A receive answers at once, not after the commit of its receipt: what it hands out became
 * receivable only once its send was durable, and losing the receipt to a crash only makes
 * the message visible again — SQS's at-least-once delivery, never a lost message. */
static void received(void *ctx, qm_msg *const *msgs, size_t n)
{
    sqs_call *sc = ctx;
    sc->c->reply_now = true;
    reply_ok(sc, sqs_messages_json(msgs, n, &sc->req.recv, now(sc)));
}

/* ---- dispatch ---- */

static json_t *run(sqs_call *sc, qm_err *err, bool *answered)
{
    switch (sc->req.op) {
    case SQS_CreateQueue:
        return op_create_queue(sc, err);
    case SQS_GetQueueUrl:
        return op_get_queue_url(sc, err);
    case SQS_ListQueues:
        return op_list_queues(sc, err);
    default:
        break;
    }
    qm_queue *q = target(sc, err);
    if (q == NULL)
        return NULL;
    switch (sc->req.op) {
    case SQS_GetQueueAttributes:
        return op_get_attributes(sc, q, err);
    case SQS_SetQueueAttributes:
        return op_set_attributes(sc, q, err);
    case SQS_SendMessage:
        return op_send(sc, q, err);
    case SQS_SendMessageBatch:
        return op_send_batch(sc, q, err);
    case SQS_ReceiveMessage:
        if (queue_receive(sc->qs, q, &sc->req.recv, received, sc, err) < 0)
            return NULL;
        *answered = true;
        return NULL;
    case SQS_DeleteMessage:
        return op_delete(sc, q, err);
    case SQS_ChangeMessageVisibility:
        return op_change_visibility(sc, q, err);
    case SQS_DeleteMessageBatch:
    case SQS_ChangeMessageVisibilityBatch:
        return op_entry_batch(sc, q, err);
    case SQS_PurgeQueue:
        return op_purge(sc, q, err);
    case SQS_DeleteQueue:
        return op_delete_queue(sc, q, err);
    case SQS_TagQueue:
        return op_tag(sc, q, err);
    case SQS_UntagQueue:
        return op_untag(sc, q, err);
    case SQS_ListQueueTags:
        return op_list_tags(sc, q, err);
    case SQS_ListDeadLetterSourceQueues:
        return op_list_dlq_sources(sc, q, err);
    default:
        return NULL;
    }
}

void api_sqs(api_call *c, queue_service *qs)
{
    sqs_call *sc = bt_xcalloc(1, sizeof(*sc));
    sc->c = c;
    sc->qs = qs;
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof(raw));
    bt_uuid_format(raw, sc->request_id);
    qm_err err = {0};
    int op = sqs_op_find(c->op);
    if (op < 0) {
        sc->req.op = SQS_ListQueues;
        qm_fail(&err, QM_E_INVALID_ACTION, "The action %.100s is not valid for this web service.",
                c->op ? c->op : "");
        reply_error(sc, &err);
        return;
    }
    json_t *body =
        c->proto == API_PROTO_QUERY ? sqs_form_to_json(c->op, c->form, &err) : json_incref(c->json);
    int rc = body ? sqs_decode((sqs_op)op, body, &sc->req, &err) : -1;
    json_decref(body);
    sc->req.op = (sqs_op)op;
    if (rc < 0) {
        reply_error(sc, &err);
        return;
    }
    bool answered = false;
    json_t *result = run(sc, &err, &answered);
    if (answered)
        return;
    if (result)
        reply_ok(sc, result);
    else
        reply_error(sc, &err);
}
