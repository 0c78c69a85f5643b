/*
 * records_test.c — queue triggers' pure half (trigger/records.c): settings, records and the
 * ReportBatchItemFailures rules of Lambda notes §3.2.
 */
#include "trigger/trigger_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_check(void **state)
{
    (void)state;
    bt_err err = {0};
    trigger_config c = {.queue_arn = "q", .function = "f"};
    assert_int_equal(trigger__check(&c, false, &err), 0);
    c.batch_size = 100;
    assert_int_equal(trigger__check(&c, false, &err), BT_EINVAL);
    assert_string_equal(err.msg, "Maximum batch window in seconds must be greater than 0 if "
                                 "maximum batch size is greater than 10");
    c.batching_window_s = 1;
    assert_int_equal(trigger__check(&c, false, &err), 0);
    assert_int_equal(trigger__check(&c, true, &err), BT_EINVAL);
    assert_string_equal(err.msg, "Batching window is not supported for FIFO queues");
    c.batching_window_s = 0;
    c.batch_size = 11;
    assert_int_equal(trigger__check(&c, true, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "FIFO"));
    c.batch_size = 10001;
    c.batching_window_s = 5;
    assert_int_equal(trigger__check(&c, false, &err), BT_EINVAL);
    assert_string_equal(err.msg, "1 validation error detected: Value '10001' at 'batchSize' "
                                 "failed to satisfy constraint: Member must have value less "
                                 "than or equal to 10000");
    c.batch_size = 5;
    c.batching_window_s = 301;
    assert_int_equal(trigger__check(&c, false, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "'maximumBatchingWindowInSeconds'"));
    c.batching_window_s = 0;
    c.max_concurrency = 1;
    assert_int_equal(trigger__check(&c, false, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "greater than or equal to 2"));
    c.max_concurrency = 2;
    assert_int_equal(trigger__check(&c, false, &err), 0);
}

static void test_record(void **state)
{
    (void)state;
    static char author[] = "Author", string[] = "String", john[] = "John", blob[] = "Blob",
                binary[] = "Binary", bytes[] = "\x01\x02", id1[] = "id-1", hello[] = "hello",
                rh[] = "rh", sender[] = "111111111111";
    qm_attr attrs[2] = {
        {.name = author, .type = string, .value = john, .len = 4},
        {.name = blob, .type = binary, .value = bytes, .len = 2, .is_binary = true},
    };
    qm_msg m = {.body = hello,
                .body_len = 5,
                .receipt = rh,
                .sent_ms = 1545082649183,
                .first_receive_ms = 1545082649185,
                .received_ms = 1545082649185,
                .receive_count = 2,
                .sender_id = sender,
                .attrs = attrs,
                .n_attrs = 2};
    strcpy(m.id, id1);
    strcpy(m.md5_body, "5d41402abc4b2a76b9719d911017c592");
    strcpy(m.md5_attrs, "0123456789abcdef0123456789abcdef");
    json_t *r = trigger__record(&m, "arn:aws:sqs:us-east-1:111111111111:q", "us-east-1");
    json_t *want = json_loads(
        "{\"messageId\":\"id-1\",\"receiptHandle\":\"rh\",\"body\":\"hello\",\"attributes\":{"
        "\"ApproximateReceiveCount\":\"2\",\"SentTimestamp\":\"1545082649183\","
        "\"SenderId\":\"111111111111\",\"ApproximateFirstReceiveTimestamp\":\"1545082649185\"},"
        "\"messageAttributes\":{\"Author\":{\"stringValue\":\"John\",\"stringListValues\":[],"
        "\"binaryListValues\":[],\"dataType\":\"String\"},\"Blob\":{\"binaryValue\":\"AQI=\","
        "\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":\"Binary\"}},"
        "\"md5OfMessageAttributes\":\"0123456789abcdef0123456789abcdef\","
        "\"md5OfBody\":\"5d41402abc4b2a76b9719d911017c592\",\"eventSource\":\"aws:sqs\","
        "\"eventSourceARN\":\"arn:aws:sqs:us-east-1:111111111111:q\",\"awsRegion\":\"us-east-1\"}",
        0, NULL);
    assert_non_null(want);
    assert_true(json_equal(r, want));
    json_decref(r);
    json_decref(want);

    /* FIFO attributes; no message attributes: an empty object and a null MD5 */
    static char b[] = "b", rh2[] = "rh2", s[] = "s", seq[] = "18849496460467696128", g1[] = "g1",
                d1[] = "d1";
    qm_msg f = {.body = b,
                .body_len = 1,
                .receipt = rh2,
                .sent_ms = 1,
                .first_receive_ms = 2,
                .receive_count = 1,
                .sender_id = s,
                .seq = seq,
                .group_id = g1,
                .dedup_id = d1};
    strcpy(f.id, "id-2");
    r = trigger__record(&f, "arn", "eu-west-1");
    json_t *a = json_object_get(r, "attributes");
    assert_string_equal(json_string_value(json_object_get(a, "SequenceNumber")),
                        "18849496460467696128");
    assert_string_equal(json_string_value(json_object_get(a, "MessageGroupId")), "g1");
    assert_string_equal(json_string_value(json_object_get(a, "MessageDeduplicationId")), "d1");
    assert_true(json_is_null(json_object_get(r, "md5OfMessageAttributes")));
    assert_int_equal(json_object_size(json_object_get(r, "messageAttributes")), 0);
    json_decref(r);
}

static const char *const ids[] = {"a", "b", "c"};

static bool failures(const char *text, bool fifo, bool keep[3])
{
    return trigger__item_failures(text, text ? strlen(text) : 0, ids, 3, fifo, keep);
}

static void test_item_failures(void **state)
{
    (void)state;
    bool keep[3];
    /* whole batch succeeds */
    const char *ok[] = {
        NULL, "", "null", "{}", "{\"batchItemFailures\":[]}", "{\"batchItemFailures\":null}"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_true(failures(ok[i], false, keep));
        assert_false(keep[0] || keep[1] || keep[2]);
    }
    /* partial */
    assert_true(failures("{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}", false, keep));
    assert_false(keep[0]);
    assert_true(keep[1]);
    assert_false(keep[2]);
    /* FIFO: from the first failure on */
    assert_true(failures("{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}", true, keep));
    assert_false(keep[0]);
    assert_true(keep[1]);
    assert_true(keep[2]);
    /* whole batch fails */
    const char *bad[] = {"not json",
                         "\"text\"",
                         "{\"batchItemFailures\":{}}",
                         "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
                         "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}",
                         "{\"batchItemFailures\":[{\"itemId\":\"a\"}]}",
                         "{\"batchItemFailures\":[{\"itemIdentifier\":\"zzz\"}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(failures(bad[i], false, keep));
        assert_true(keep[0] && keep[1] && keep[2]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_item_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
