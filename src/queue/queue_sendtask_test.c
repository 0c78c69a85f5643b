/*
 * queue_sendtask_test.c — unit tests for the pure half of the sqs:sendMessage integration
 * (sendtask.c) and for queue URL parsing (codec.c): parameters to SendMessage, the recorded
 * response shape, error names and causes, and which URLs name a queue of this server.
 */
#include "queue/codec.h"
#include "queue/sendtask.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void decode_parameters(void **state)
{
    (void)state;
    json_t *p = json_loads("{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/123456789012/q\","
                           "\"MessageBody\":{\"Payload\":{\"a\":1.5},\"TaskToken\":\"tok\"},"
                           "\"DelaySeconds\":5,\"MessageGroupId\":\"g\","
                           "\"MessageAttributes\":{\"k\":{\"DataType\":\"String\","
                           "\"StringValue\":\"v\"},\"b\":{\"DataType\":\"Binary\","
                           "\"BinaryValue\":\"AAE=\"}}}",
                           0, NULL);
    sendtask t;
    qm_err err;
    assert_int_equal(sendtask_decode(p, &t, &err), 0);
    assert_string_equal(t.send.body, "{\"Payload\":{\"a\":1.5},\"TaskToken\":\"tok\"}");
    assert_int_equal(t.send.delay_s, 5);
    assert_string_equal(t.send.group_id, "g");
    assert_int_equal(t.send.n_attrs, 2);
    assert_string_equal(t.attrs[0].value, "v");
    assert_true(t.attrs[1].is_binary);
    assert_int_equal(t.attrs[1].len, 2);
    sendtask_fini(&t);
    json_object_set_new(p, "MessageBody", json_string("plain"));
    assert_int_equal(sendtask_decode(p, &t, &err), 0);
    assert_string_equal(t.send.body, "plain");
    sendtask_fini(&t);
    json_object_del(p, "MessageBody");
    assert_int_equal(sendtask_decode(p, &t, &err), -1);
    assert_int_equal(err.code, QM_E_MISSING_PARAMETER);
    sendtask_fini(&t);
    json_decref(p);
}

static void response_and_errors(void **state)
{
    (void)state;
    qm_sent sent = {"0f0c6e6b-3a0c-4a8e-9d8e-1e2b3c4d5e6f", "78e731027d8fd50ed642340b7c9a63b3", "",
                    "", ""};
    json_t *r = sendtask_response(&sent, "rid", 1700000000000LL);
    assert_string_equal(json_string_value(json_object_get(r, "MessageId")), sent.message_id);
    assert_null(json_object_get(r, "MD5OfMessageAttributes"));
    json_t *meta = json_object_get(r, "SdkHttpMetadata");
    assert_int_equal(json_integer_value(json_object_get(meta, "HttpStatusCode")), 200);
    json_t *h = json_object_get(meta, "HttpHeaders");
    assert_string_equal(json_string_value(json_object_get(h, "Date")),
                        "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_string_equal(json_string_value(json_object_get(h, "Content-Length")), "106");
    json_t *all = json_object_get(json_object_get(meta, "AllHttpHeaders"), "x-amzn-RequestId");
    assert_string_equal(json_string_value(json_array_get(all, 0)), "rid");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "SdkResponseMetadata"), "RequestId")),
        "rid");
    json_decref(r);

    qm_err err;
    qm_fail(&err, QM_E_MISSING_PARAMETER, "The request must contain the parameter MessageBody.");
    char *e = sendtask_error(&err), *c = sendtask_cause(&err, "rid");
    assert_string_equal(e, "SQS.AmazonSQSException");
    assert_string_equal(c, "The request must contain the parameter MessageBody. (Service: "
                           "AmazonSQS; Status Code: 400; Error Code: MissingParameter; Request "
                           "ID: rid; Proxy: null)");
    free(e);
    free(c);
    qm_fail(&err, QM_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
    e = sendtask_error(&err);
    assert_string_equal(e, "SQS.QueueDoesNotExistException");
    free(e);
}

static void queue_urls(void **state)
{
    (void)state;
    char name[81];
    const char *r = "us-east-1", *a = "123456789012";
    assert_int_equal(
        qc_parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/q", r, a, name), 0);
    assert_string_equal(name, "q");
    assert_int_equal(
        qc_parse_queue_url("https://queue.amazonaws.com/123456789012/q.fifo", r, a, name), 0);
    assert_string_equal(name, "q.fifo");
    assert_int_equal(
        qc_parse_queue_url("https://us-east-1.queue.amazonaws.com/123456789012/q", r, a, name), 0);
    assert_int_equal(qc_parse_queue_url("http://127.0.0.1:8083/123456789012/q", r, a, name), 0);
    assert_int_equal(
        qc_parse_queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/q", r, a, name), 1);
    assert_int_equal(qc_parse_queue_url("http://localhost/999999999999/q", r, a, name), 1);
    assert_int_equal(qc_parse_queue_url("q", r, a, name), -1);
    assert_int_equal(qc_parse_queue_url("http://localhost/123456789012", r, a, name), -1);
    assert_int_equal(qc_parse_queue_url("http://localhost/123456789012/a/b", r, a, name), -1);
    assert_int_equal(qc_parse_queue_url("http:///123456789012/q", r, a, name), -1);
    assert_int_equal(qc_parse_queue_path("/123456789012/q", a, name), 0);
    assert_int_equal(qc_parse_queue_path("/", a, name), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_parameters),
        cmocka_unit_test(response_and_errors),
        cmocka_unit_test(queue_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
