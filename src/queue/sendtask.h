/*
 * sendtask.h — the pure half of the Step Functions sqs:sendMessage integration (service.c
 * runs it): a Task's Parameters turned into a SendMessage, and SendMessage's outcome turned
 * into what Step Functions records — the SDK response with its HTTP metadata, or an error
 * name and cause in the Java SDK's words. No server calls, so it is unit-tested alone.
 */
#ifndef BT_QUEUE_SENDTASK_H
#define BT_QUEUE_SENDTASK_H

#include "queue/model.h"

#include <jansson.h>

typedef struct sendtask {
    const char *queue_url; /* borrowed from the parameters */
    char *body;            /* MessageBody as text */
    qm_attr attrs[QM_MAX_ATTRIBUTES];
    size_t n_attrs;
    qm_send send; /* points into the above and the parameters */
} sendtask;

/* Reads QueueUrl, MessageBody (a string as is, anything else as compact JSON),
 * DelaySeconds, MessageAttributes ({"Name": {"DataType", "StringValue"|"BinaryValue"}}),
 * MessageGroupId and MessageDeduplicationId. -1 with err set (SQS's error for the parameter)
 * when one is missing or of the wrong shape; sendtask_fini either way. */
int sendtask_decode(json_t *params, sendtask *out, qm_err *err);
void sendtask_fini(sendtask *t);

/* The task result: {"MD5OfMessageBody", "MessageId", ["MD5OfMessageAttributes"],
 * ["SequenceNumber"], "SdkHttpMetadata": {...}, "SdkResponseMetadata": {"RequestId"}}. */
json_t *sendtask_response(const qm_sent *sent, const char *request_id, int64_t now_ms);
/* "SQS.QueueDoesNotExistException", "SQS.AmazonSQSException", … (heap). */
char *sendtask_error(const qm_err *err);
/* "<message> (Service: AmazonSQS; Status Code: 400; Error Code: …; Request ID: …; Proxy:
 * null)" (heap). */
char *sendtask_cause(const qm_err *err, const char *request_id);

#endif
