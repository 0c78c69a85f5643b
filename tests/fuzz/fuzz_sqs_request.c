/*
 * fuzz_sqs_request.c — SQS requests in both protocols (api/sqs_int.h): the first byte picks
 * the operation and protocol, the rest is a JSON body or a query form. Whatever arrives is
 * decoded and checked, and what passes runs on an in-memory model (send, receive, delete,
 * visibility, attributes) and is encoded back as JSON and XML — never crashing, never
 * leaking, never answering with an error that has no message.
 */
#include "api/sqs_int.h"
#include "base/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_nothing(void *ud, const char *name, const char *value)
{
    (void)ud;
    (void)name;
    (void)value;
}

static void run(sqs_req *r, bool fifo)
{
    qmodel *m = qmodel_new("us-east-1", "123456789012");
    qm_kv attrs[] = {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}};
    qm_queue *q;
    bool created;
    qm_err err = {0};
    const int64_t now = 1700000000000LL;
    if (qm_create_queue(m, fifo ? "q.fifo" : "q", attrs, fifo ? 2 : 0, NULL, 0, now, &q, &created,
                        &err) != 0)
        abort();
    switch (r->op) {
    case SQS_CreateQueue:
        if (r->queue_name)
            qm_create_queue(m, r->queue_name, r->attrs, r->n_attrs, r->tags, r->n_tags, now, &q,
                            &created, &err);
        break;
    case SQS_SetQueueAttributes:
        qm_set_attributes(m, q, r->attrs, r->n_attrs, now, &err);
        break;
    case SQS_GetQueueAttributes:
        qm_get_attributes(m, q, r->names, r->n_names, now, put_nothing, NULL, &err);
        break;
    case SQS_TagQueue:
        qm_tag(m, q, r->tags, r->n_tags, &err);
        break;
    default:
        break;
    }
    for (size_t i = 0; i < r->n_entries; i++) {
        qm_sent sent;
        if (r->op == SQS_SendMessage || r->op == SQS_SendMessageBatch)
            qm_send_message(m, q, &r->entries[i].send, now, &sent, &err);
        else if (r->entries[i].receipt)
            qm_delete_message(m, q, r->entries[i].receipt, now, &err);
    }
    qm_receive all = {10, -1, -1, NULL, 0, NULL, 0};
    const qm_receive *rv = r->op == SQS_ReceiveMessage ? &r->recv : &all;
    qm_msg *got[QM_MAX_RECEIVE];
    size_t n = qm_receive_now(m, q, rv, now, got);
    json_t *j = sqs_messages_json(got, n, rv, now);
    bt_buf b;
    bt_buf_init(&b);
    sqs_render_xml(SQS_ReceiveMessage, j, "rid", &b);
    bt_buf_fini(&b);
    json_decref(j);
    for (size_t i = 0; i < n; i++)
        qm_change_visibility(m, q, got[i]->receipt, 0, now, &err);
    qmodel_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    sqs_op op = (sqs_op)((data[0] & 0x3f) % SQS_N_OPS);
    bool query = data[0] & 0x40, fifo = data[0] & 0x80;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    qm_err err = {0};
    json_t *body = NULL;
    if (query) {
        bt_err ferr;
        bt_form *f = bt_form_parse(text, len, 0, &ferr);
        if (f == NULL)
            return 0;
        body = sqs_form_to_json(sqs_op_name(op), f, &err);
        bt_form_free(f);
        if (body == NULL && err.msg[0] == '\0')
            abort();
    } else {
        body = json_loadb(text, len, 0, NULL);
    }
    if (body == NULL)
        return 0;
    sqs_req r;
    if (sqs_decode(op, body, &r, &err) == 0)
        run(&r, fifo);
    else if (err.code == QM_OK || err.msg[0] == '\0')
        abort();
    else {
        bt_buf b;
        bt_buf_init(&b);
        sqs_render_xml_error(&err, "rid", &b);
        bt_buf_fini(&b);
        json_decref(sqs_json_error(&err));
    }
    sqs_req_fini(&r);
    json_decref(body);
    return 0;
}
