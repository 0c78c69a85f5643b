/*
 * sqs_int.h — the SQS API's pure parts, shared by sqs.c (which runs requests on the queue
 * service) and its unit tests and fuzz targets. Both protocols meet in one request shape:
 * a query form is first rewritten into the JSON protocol's request object
 * (sqs_form_to_json), and that object is decoded and checked once (sqs_decode). Answers are
 * built as the JSON protocol's objects and rewritten into the query protocol's XML
 * (sqs_render_xml) by the model's flattening rules.
 */
#ifndef BT_API_SQS_INT_H
#define BT_API_SQS_INT_H

#include "api/form.h"
#include "base/buf.h"
#include "queue/model.h"

#include <jansson.h>
#include <stdbool.h>

#define SQS_OPS(X)                                                                                 \
    X(CreateQueue)                                                                                 \
    X(GetQueueUrl)                                                                                 \
    X(ListQueues)                                                                                  \
    X(GetQueueAttributes)                                                                          \
    X(SetQueueAttributes)                                                                          \
    X(SendMessage)                                                                                 \
    X(SendMessageBatch)                                                                            \
    X(ReceiveMessage)                                                                              \
    X(DeleteMessage)                                                                               \
    X(DeleteMessageBatch)                                                                          \
    X(ChangeMessageVisibility)                                                                     \
    X(ChangeMessageVisibilityBatch)                                                                \
    X(PurgeQueue)                                                                                  \
    X(DeleteQueue)                                                                                 \
    X(TagQueue)                                                                                    \
    X(UntagQueue)                                                                                  \
    X(ListQueueTags)                                                                               \
    X(ListDeadLetterSourceQueues)

typedef enum sqs_op {
#define SQS_ENUM(name) SQS_##name,
    SQS_OPS(SQS_ENUM)
#undef SQS_ENUM
        SQS_N_OPS
} sqs_op;

/* The operation named op; -1 when SQS has none by that name. */
int sqs_op_find(const char *op);
const char *sqs_op_name(sqs_op op);

/* One message to send (SendMessage, or a SendMessageBatch entry) or one batch entry. */
typedef struct sqs_entry {
    const char *id;
    qm_send send;
    qm_attr attrs[QM_MAX_ATTRIBUTES];
    qm_attr sys_attrs[1];
    const char *receipt;
    int64_t visibility_s; /* -1 when not given */
} sqs_entry;

typedef struct sqs_req {
    sqs_op op;
    json_t *body; /* the request object (a reference held): strings below point into it */
    const char *queue_url, *queue_name, *owner, *prefix, *next_token;
    int64_t max_results; /* -1 when not given */
    qm_kv *attrs;        /* Attributes */
    size_t n_attrs;
    qm_kv *tags; /* tags / Tags */
    size_t n_tags;
    const char **names; /* AttributeNames (GetQueueAttributes), TagKeys */
    size_t n_names;
    const char **sys_names; /* receive: AttributeNames + MessageSystemAttributeNames */
    size_t n_sys_names;
    const char **attr_names; /* receive: MessageAttributeNames */
    size_t n_attr_names;
    qm_receive recv;
    sqs_entry *entries; /* SendMessage: one; batches: 1–10 */
    size_t n_entries;
} sqs_req;

/* The query form as the JSON protocol's request object for op (Action and Version
 * dropped). NULL with err set when the form's numbered fields do not fit together. */
json_t *sqs_form_to_json(const char *op, const bt_form *f, qm_err *err);
/* Decodes and checks body (borrowed; the request keeps a reference) for op. -1 with err set;
 * sqs_req_fini either way. */
int sqs_decode(sqs_op op, json_t *body, sqs_req *out, qm_err *err);
void sqs_req_fini(sqs_req *r);

/* ReceiveMessage's answer for these messages: only the attributes r asks for, the MD5 of the
 * message attributes returned (none when none are). */
json_t *sqs_messages_json(qm_msg *const *msgs, size_t n, const qm_receive *r, int64_t now_ms);
/* The JSON answer as the query protocol's XML document. */
void sqs_render_xml(sqs_op op, const json_t *result, const char *request_id, bt_buf *out);
void sqs_render_xml_error(const qm_err *err, const char *request_id, bt_buf *out);
/* {"__type": "com.amazonaws.sqs#<shape>", "message": …} */
json_t *sqs_json_error(const qm_err *err);
/* x-amzn-query-error's value: "<query code>;Sender" (Receiver for 5xx) into out. */
void sqs_query_error_header(const qm_err *err, char *out, size_t len);

#endif
