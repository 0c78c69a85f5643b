/*
 * sqs_test.c — unit tests for the SQS API's pure parts (sqs_codec.c): query forms rewritten
 * into JSON requests (flattened maps, lists, message attributes, batch entries), decoding
 * and its refusals (batch rules, types), ReceiveMessage answers with attribute selection,
 * and the XML and JSON encodings of answers and errors.
 */
#include "api/sqs_int.h"
#include "base/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *from_form(const char *op, const char *text)
{
    bt_err err;
    bt_form *f = bt_form_parse(text, strlen(text), 0, &err);
    assert_non_null(f);
    qm_err qerr = {0};
    json_t *j = sqs_form_to_json(op, f, &qerr);
    bt_form_free(f);
    return j;
}

static void assert_json(json_t *j, const char *expected)
{
    char *text = bt_json_dumps(j);
    assert_string_equal(text, expected);
    free(text);
}

static void form_to_json(void **state)
{
    (void)state;
    json_t *j = from_form("CreateQueue", "Action=CreateQueue&Version=2012-11-05&QueueName=q&"
                                         "Attribute.2.Name=VisibilityTimeout&Attribute.2.Value=60&"
                                         "Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&"
                                         "Tag.1.Key=env&Tag.1.Value=prod");
    assert_json(j, "{\"QueueName\":\"q\",\"Attributes\":{\"DelaySeconds\":\"5\","
                   "\"VisibilityTimeout\":\"60\"},\"tags\":{\"env\":\"prod\"}}");
    json_decref(j);
    j = from_form("SendMessage", "QueueUrl=http%3A%2F%2Fh%2F1%2Fq&MessageBody=hi&DelaySeconds=3&"
                                 "MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType="
                                 "String&MessageAttribute.1.Value.StringValue=x");
    assert_json(j,
                "{\"QueueUrl\":\"http://h/1/q\",\"MessageBody\":\"hi\",\"DelaySeconds\":3,"
                "\"MessageAttributes\":{\"a\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}}");
    json_decref(j);
    j = from_form(
        "SendMessageBatch",
        "SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=1&"
        "SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=2&"
        "SendMessageBatchRequestEntry.2.MessageAttribute.1.Name=k&"
        "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType=Number&"
        "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue=1");
    assert_json(j, "{\"Entries\":[{\"Id\":\"a\",\"MessageBody\":\"1\"},{\"Id\":\"b\","
                   "\"MessageBody\":\"2\",\"MessageAttributes\":{\"k\":{\"DataType\":\"Number\","
                   "\"StringValue\":\"1\"}}}]}");
    json_decref(j);
    j = from_form("ReceiveMessage", "AttributeName.1=All&MessageAttributeName.1=a.*&"
                                    "MaxNumberOfMessages=x&TagKey.1=t");
    assert_json(j, "{\"AttributeNames\":[\"All\"],\"MessageAttributeNames\":[\"a.*\"],"
                   "\"MaxNumberOfMessages\":\"x\",\"TagKeys\":[\"t\"]}");
    json_decref(j);
    assert_null(from_form("SendMessage", "A=1&A.1=2"));
    assert_null(from_form("SendMessage", "Attribute.x.Name=1"));
    assert_null(from_form("SendMessage", "a.b.c.d.e.f.g=1"));
}

static int decode(sqs_op op, const char *body, sqs_req *r, qm_err *err)
{
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    int rc = sqs_decode(op, j, r, err);
    json_decref(j);
    return rc;
}

static void decoding(void **state)
{
    (void)state;
    sqs_req r;
    qm_err err;
    assert_int_equal(decode(SQS_SendMessage,
                            "{\"QueueUrl\":\"u\",\"MessageBody\":\"b\",\"MessageAttributes\":"
                            "{\"bin\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAEC\"}}}",
                            &r, &err),
                     0);
    assert_string_equal(r.queue_url, "u");
    assert_int_equal(r.n_entries, 1);
    assert_int_equal(r.entries[0].send.n_attrs, 1);
    assert_true(r.entries[0].attrs[0].is_binary);
    assert_int_equal(r.entries[0].attrs[0].len, 3);
    assert_int_equal(r.entries[0].send.delay_s, -1);
    sqs_req_fini(&r);

    static const struct {
        sqs_op op;
        const char *body;
        qm_code code;
    } bad[] = {
        {SQS_SendMessageBatch, "{\"Entries\":[]}", QM_E_EMPTY_BATCH},
        {SQS_SendMessageBatch, "{}", QM_E_EMPTY_BATCH},
        {SQS_DeleteMessageBatch,
         "{\"Entries\":[{\"Id\":\"a\",\"ReceiptHandle\":\"r\"},{\"Id\":\"a\","
         "\"ReceiptHandle\":\"r\"}]}",
         QM_E_BATCH_IDS_NOT_DISTINCT},
        {SQS_DeleteMessageBatch, "{\"Entries\":[{\"Id\":\"a.b\",\"ReceiptHandle\":\"r\"}]}",
         QM_E_INVALID_BATCH_ID},
        {SQS_CreateQueue, "{}", QM_E_MISSING_PARAMETER},
        {SQS_CreateQueue, "{\"QueueName\":1}", QM_E_INVALID_PARAMETER_VALUE},
        {SQS_ReceiveMessage, "{\"MaxNumberOfMessages\":11}", QM_E_INVALID_PARAMETER_VALUE},
        {SQS_ReceiveMessage, "{\"WaitTimeSeconds\":\"x\"}", QM_E_INVALID_PARAMETER_VALUE},
        {SQS_ChangeMessageVisibility, "{\"ReceiptHandle\":\"r\"}", QM_E_MISSING_PARAMETER},
        {SQS_SendMessage,
         "{\"MessageBody\":\"b\",\"MessageAttributes\":{\"a\":{\"DataType\":"
         "\"Binary\",\"BinaryValue\":\"!!\"}}}",
         QM_E_INVALID_PARAMETER_VALUE},
        {SQS_SetQueueAttributes, "{}", QM_E_MISSING_PARAMETER},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.code = QM_OK;
        assert_int_equal(decode(bad[i].op, bad[i].body, &r, &err), -1);
        assert_int_equal(err.code, bad[i].code);
        sqs_req_fini(&r);
    }
    char many[1024] = "{\"Entries\":[";
    for (int i = 0; i < 11; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many),
                 "%s{\"Id\":\"e%d\",\"MessageBody\":\"x\"}", i ? "," : "", i);
    strcat(many, "]}");
    assert_int_equal(decode(SQS_SendMessageBatch, many, &r, &err), -1);
    assert_int_equal(err.code, QM_E_TOO_MANY_ENTRIES);
    assert_string_equal(err.msg, "Maximum number of entries per request are 10. You have sent 11.");
    sqs_req_fini(&r);
}

static void receive_answer(void **state)
{
    (void)state;
    qmodel *m = qmodel_new("us-east-1", "123456789012");
    qm_queue *q;
    bool created;
    qm_err err;
    assert_int_equal(qm_create_queue(m, "q", NULL, 0, NULL, 0, 1000, &q, &created, &err), 0);
    qm_attr attrs[] = {
        {(char *)(uintptr_t) "a.x", (char *)(uintptr_t) "String", (char *)(uintptr_t) "1", 1,
         false},
        {(char *)(uintptr_t) "b", (char *)(uintptr_t) "String", (char *)(uintptr_t) "2", 1, false}};
    qm_send s = {"body", attrs, 2, NULL, 0, -1, NULL, NULL};
    qm_sent sent;
    assert_int_equal(qm_send_message(m, q, &s, 1000, &sent, &err), 0);
    const char *sys[] = {"SentTimestamp"}, *names[] = {"a.*"};
    qm_receive r = {1, -1, -1, sys, 1, names, 1};
    qm_msg *got[QM_MAX_RECEIVE];
    assert_int_equal(qm_receive_now(m, q, &r, 2000, got), 1);
    json_t *j = sqs_messages_json(got, 1, &r, 2000);
    json_t *msg = json_array_get(json_object_get(j, "Messages"), 0);
    assert_string_equal(json_string_value(json_object_get(msg, "Body")), "body");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(msg, "Attributes"), "SentTimestamp")),
        "1000");
    json_t *ma = json_object_get(msg, "MessageAttributes");
    assert_int_equal(json_object_size(ma), 1);
    assert_non_null(json_object_get(ma, "a.x"));
    /* The digest covers what is returned, not everything sent. */
    assert_string_not_equal(json_string_value(json_object_get(msg, "MD5OfMessageAttributes")),
                            sent.md5_attrs);
    bt_buf b;
    bt_buf_init(&b);
    sqs_render_xml(SQS_ReceiveMessage, j, "rid", &b);
    assert_non_null(strstr(b.data, "<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/"
                                   "doc/2012-11-05/\"><ReceiveMessageResult><Message>"));
    assert_non_null(strstr(b.data, "<Attribute><Name>SentTimestamp</Name><Value>1000</Value>"
                                   "</Attribute>"));
    assert_non_null(strstr(b.data, "<MessageAttribute><Name>a.x</Name><Value><StringValue>1"
                                   "</StringValue><DataType>String</DataType></Value>"
                                   "</MessageAttribute>"));
    assert_non_null(strstr(b.data, "<ResponseMetadata><RequestId>rid</RequestId>"));
    json_decref(j);
    j = sqs_messages_json(got, 0, &r, 2000);
    assert_json(j, "{}");
    json_decref(j);
    bt_buf_fini(&b);
    qmodel_free(m);
}

static void encodings(void **state)
{
    (void)state;
    bt_buf b;
    bt_buf_init(&b);
    json_t *r = json_pack("{s:[s,s]}", "QueueUrls", "u1", "u2");
    sqs_render_xml(SQS_ListQueues, r, "rid", &b);
    assert_string_equal(b.data, "<?xml version=\"1.0\"?><ListQueuesResponse xmlns=\"http://"
                                "queue.amazonaws.com/doc/2012-11-05/\"><ListQueuesResult>"
                                "<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>"
                                "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>"
                                "</ListQueuesResponse>");
    json_decref(r);
    bt_buf_reset(&b);
    r = json_object();
    sqs_render_xml(SQS_DeleteMessage, r, "rid", &b);
    assert_null(strstr(b.data, "DeleteMessageResult"));
    json_decref(r);
    bt_buf_reset(&b);
    r = json_pack("{s:[{s:s}],s:[{s:s,s:b,s:s,s:s}]}", "Successful", "Id", "a", "Failed", "Id", "b",
                  "SenderFault", 1, "Code", "ReceiptHandleIsInvalid", "Message", "m");
    sqs_render_xml(SQS_DeleteMessageBatch, r, "rid", &b);
    assert_non_null(strstr(b.data, "<DeleteMessageBatchResultEntry><Id>a</Id>"
                                   "</DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b"
                                   "</Id><SenderFault>true</SenderFault>"));
    json_decref(r);
    bt_buf_reset(&b);
    qm_err err;
    qm_fail(&err, QM_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
    sqs_render_xml_error(&err, "rid", &b);
    assert_non_null(strstr(b.data, "<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/"
                                   "2012-11-05/\"><Error><Type>Sender</Type><Code>"
                                   "AWS.SimpleQueueService.NonExistentQueue</Code><Message>The "
                                   "specified queue does not exist.</Message><Detail/></Error>"
                                   "<RequestId>rid</RequestId></ErrorResponse>"));
    bt_buf_fini(&b);
    json_t *e = sqs_json_error(&err);
    assert_json(e, "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The "
                   "specified queue does not exist.\"}");
    json_decref(e);
    char header[128];
    sqs_query_error_header(&err, header, sizeof(header));
    assert_string_equal(header, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    assert_int_equal(sqs_op_find("PurgeQueue"), SQS_PurgeQueue);
    assert_int_equal(sqs_op_find("Nope"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_to_json),
        cmocka_unit_test(decoding),
        cmocka_unit_test(receive_answer),
        cmocka_unit_test(encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
