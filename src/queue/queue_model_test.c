/*
 * queue_model_test.c — unit tests for the in-memory SQS model (model.c, model_msg.c, codec.c):
 * queue names and attributes, idempotent creation, send/receive/delete with visibility and
 * receipt handles, delays, redrive, retention, purge, FIFO order, group blocking and
 * deduplication, the MD5 vectors AWS's SDKs check, holding messages until durable, and the
 * observer calls persistence relies on. The clock is a number the tests move.
 */
#include "base/buf.h"
#include "queue/codec.h"
#include "queue/model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T0 1700000000000LL

static qmodel *model(void)
{
    return qmodel_new("us-east-1", "123456789012");
}

static qm_queue *create(qmodel *m, const char *name, const qm_kv *attrs, size_t n)
{
    qm_queue *q = NULL;
    bool created;
    qm_err err = {0};
    int rc = qm_create_queue(m, name, attrs, n, NULL, 0, T0, &q, &created, &err);
    if (rc != 0)
        fail_msg("create %s: %s", name, err.msg);
    return q;
}

static qm_send body(const char *text)
{
    qm_send s = {0};
    s.body = text;
    s.delay_s = -1;
    return s;
}

static qm_receive recv_req(int64_t max)
{
    qm_receive r = {0};
    r.max = max;
    r.visibility_s = -1;
    r.wait_s = -1;
    return r;
}

static void send_ok(qmodel *m, qm_queue *q, const qm_send *s, int64_t now, qm_sent *out)
{
    qm_err err = {0};
    if (qm_send_message(m, q, s, now, out, &err) != 0)
        fail_msg("send: %s", err.msg);
}

static void codec_vectors(void **state)
{
    (void)state;
    char md5[33];
    qc_md5_hex("message", 7, md5);
    assert_string_equal(md5, "78e731027d8fd50ed642340b7c9a63b3");
    bt_buf b;
    bt_buf_init(&b);
    qc_base64_encode("Hello binary world!", 19, &b);
    assert_string_equal(b.data, "SGVsbG8gYmluYXJ5IHdvcmxkIQ==");
    bt_buf_reset(&b);
    assert_true(qc_base64_decode("SGVsbG8gYmluYXJ5IHdvcmxkIQ==", 28, &b));
    assert_int_equal(b.len, 19);
    assert_memory_equal(b.data, "Hello binary world!", 19);
    bt_buf_reset(&b);
    assert_false(qc_base64_decode("SGVsbG8", 7, &b));
    assert_false(qc_base64_decode("SG=sbG8=", 8, &b));
    assert_false(qc_base64_decode("SGVsbG9=", 8, &b)); /* non-zero dropped bits */
    bt_buf_fini(&b);
    assert_true(qc_text_ok("a\tb\r\n\xe2\x82\xac", 8));
    assert_false(qc_text_ok("a\x01", 2));
    assert_false(qc_text_ok("\xef\xbf\xbe", 3));    /* U+FFFE */
    assert_false(qc_text_ok("\xed\xa0\x80", 3));    /* a surrogate */
    assert_false(qc_text_ok("\xc0\xaf", 2));        /* overlong */
    assert_true(qc_text_ok("\xf0\x9f\x98\x80", 4)); /* U+1F600 */
    assert_false(qc_utf8_ok("\xe2\x82", 2));
}

static qm_attr text_attr(const char *name, const char *type, const char *value)
{
    qm_attr a = {(char *)(uintptr_t)name, (char *)(uintptr_t)type, (char *)(uintptr_t)value,
                 strlen(value), false};
    return a;
}

/* The digests published for AWS's algorithm (SQS notes §5; npm aws-md5-of-message-attributes). */
static void attribute_md5(void **state)
{
    (void)state;
    char md5[33];
    qm_attr author = text_attr("Author", "String", "jane");
    const qm_attr *one[] = {&author};
    qm_attrs_md5(one, 1, md5);
    assert_string_equal(md5, "67c478a848b55e1ac4eddd0969af27d9");

    qm_attr a = text_attr("attribName1", "String", "attribValue 1");
    qm_attr bin = text_attr("binaryAttribute", "Binary", "Hello binary world!");
    bin.is_binary = true;
    qm_attr num = text_attr("customNumberTypeAttrib", "Number.float",
                            "4563442423554324324264524243.32543234");
    const qm_attr *x[] = {&a};
    qm_attrs_md5(x, 1, md5);
    assert_string_equal(md5, "19e27d4e946b072f3f58da80d94fd778");
    const qm_attr *y[] = {&bin};
    qm_attrs_md5(y, 1, md5);
    assert_string_equal(md5, "31a92b15d92f8db860eda32aceb656c3");
    const qm_attr *z[] = {&num};
    qm_attrs_md5(z, 1, md5);
    assert_string_equal(md5, "9fe1b90bbd9965bdf77bac517c7d2495");
    const qm_attr *all[] = {&a, &bin, &num};
    qm_attrs_md5(all, 3, md5);
    assert_string_equal(md5, "c932db14a896c663f83c260297d594ff");

    /* Sending sorts by name before hashing. */
    qmodel *m = model();
    qm_queue *q = create(m, "q", NULL, 0);
    qm_attr unsorted[] = {num, a, bin};
    qm_send s = body("x");
    s.attrs = unsorted;
    s.n_attrs = 3;
    qm_sent sent;
    send_ok(m, q, &s, T0, &sent);
    assert_string_equal(sent.md5_attrs, "c932db14a896c663f83c260297d594ff");
    qc_md5_hex("x", 1, md5);
    assert_string_equal(sent.md5_body, md5);
    s = body("plain");
    send_ok(m, q, &s, T0, &sent);
    assert_string_equal(sent.md5_attrs, "");
    qmodel_free(m);
}

static void names(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q;
    bool created;
    qm_err err;
    assert_int_equal(qm_create_queue(m, "bad name", NULL, 0, NULL, 0, T0, &q, &created, &err), -1);
    assert_int_equal(err.code, QM_E_INVALID_PARAMETER_VALUE);
    char long_name[82];
    memset(long_name, 'a', 81);
    long_name[81] = '\0';
    assert_int_equal(qm_create_queue(m, long_name, NULL, 0, NULL, 0, T0, &q, &created, &err), -1);
    long_name[80] = '\0';
    assert_int_equal(qm_create_queue(m, long_name, NULL, 0, NULL, 0, T0, &q, &created, &err), 0);
    /* .fifo needs FifoQueue=true, and FifoQueue=true needs .fifo. */
    assert_int_equal(qm_create_queue(m, "a.fifo", NULL, 0, NULL, 0, T0, &q, &created, &err), -1);
    qm_kv fifo = {"FifoQueue", "true"};
    assert_int_equal(qm_create_queue(m, "a", &fifo, 1, NULL, 0, T0, &q, &created, &err), -1);
    assert_int_equal(qm_create_queue(m, "a.fifo", &fifo, 1, NULL, 0, T0, &q, &created, &err), 0);
    assert_true(created);
    assert_true(qm_queue_is_fifo(q));
    assert_string_equal(qm_queue_arn(q), "arn:aws:sqs:us-east-1:123456789012:a.fifo");
    assert_ptr_equal(qm_find_arn(m, "arn:aws:sqs:us-east-1:123456789012:a.fifo"), q);
    assert_null(qm_find_arn(m, "arn:aws:sqs:eu-west-1:123456789012:a.fifo"));
    qmodel_free(m);
}

static void create_is_idempotent(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_kv attrs[] = {{"DelaySeconds", "5"}, {"VisibilityTimeout", "60"}};
    qm_queue *q = create(m, "q", attrs, 2), *again;
    bool created;
    qm_err err;
    assert_int_equal(qm_create_queue(m, "q", attrs, 2, NULL, 0, T0, &again, &created, &err), 0);
    assert_ptr_equal(again, q);
    assert_false(created);
    assert_int_equal(qm_create_queue(m, "q", NULL, 0, NULL, 0, T0, &again, &created, &err), 0);
    qm_kv other = {"DelaySeconds", "6"};
    assert_int_equal(qm_create_queue(m, "q", &other, 1, NULL, 0, T0, &again, &created, &err), -1);
    assert_int_equal(err.code, QM_E_QUEUE_EXISTS);
    assert_non_null(strstr(err.msg, "DelaySeconds"));
    assert_string_equal(qm_code_query(err.code), "QueueAlreadyExists");
    assert_string_equal(qm_code_shape(err.code), "QueueNameExists");
    /* Deleted names are blocked for 60 s. */
    assert_int_equal(qm_delete_queue(m, q, T0 + 1000, &err), 0);
    assert_null(qm_find(m, "q"));
    assert_int_equal(qm_create_queue(m, "q", NULL, 0, NULL, 0, T0 + 2000, &q, &created, &err), -1);
    assert_int_equal(err.code, QM_E_QUEUE_DELETED_RECENTLY);
    assert_int_equal(qm_create_queue(m, "q", NULL, 0, NULL, 0, T0 + 61000, &q, &created, &err), 0);
    qmodel_free(m);
}

typedef struct collected {
    char names[32][48];
    char values[32][256];
    size_t n;
} collected;

static void collect(void *ud, const char *name, const char *value)
{
    collected *c = ud;
    snprintf(c->names[c->n], sizeof(c->names[0]), "%s", name);
    snprintf(c->values[c->n], sizeof(c->values[0]), "%s", value);
    c->n++;
}

static const char *lookup(const collected *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    return NULL;
}

static void attributes(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q = create(m, "q", NULL, 0);
    qm_err err;
    const char *all[] = {"All"};
    collected c = {0};
    assert_int_equal(qm_get_attributes(m, q, all, 1, T0, collect, &c, &err), 0);
    assert_string_equal(lookup(&c, "VisibilityTimeout"), "30");
    assert_string_equal(lookup(&c, "MaximumMessageSize"), "262144");
    assert_string_equal(lookup(&c, "MessageRetentionPeriod"), "345600");
    assert_string_equal(lookup(&c, "DelaySeconds"), "0");
    assert_string_equal(lookup(&c, "CreatedTimestamp"), "1700000000");
    assert_string_equal(lookup(&c, "QueueArn"), "arn:aws:sqs:us-east-1:123456789012:q");
    assert_string_equal(lookup(&c, "ApproximateNumberOfMessages"), "0");
    assert_null(lookup(&c, "FifoQueue"));
    assert_null(lookup(&c, "RedrivePolicy"));

    const char *unknown[] = {"Nope"};
    assert_int_equal(qm_get_attributes(m, q, unknown, 1, T0, collect, &c, &err), -1);
    assert_int_equal(err.code, QM_E_INVALID_ATTRIBUTE_NAME);
    assert_string_equal(err.msg, "Unknown Attribute Nope.");

    static const struct {
        const char *name, *value;
        qm_code code;
    } bad[] = {
        {"DelaySeconds", "901", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"DelaySeconds", "-1", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"MaximumMessageSize", "1023", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"MaximumMessageSize", "262145", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"MessageRetentionPeriod", "59", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"MessageRetentionPeriod", "1209601", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"ReceiveMessageWaitTimeSeconds", "21", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"VisibilityTimeout", "43201", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"VisibilityTimeout", "1x", QM_E_INVALID_ATTRIBUTE_VALUE},
        {"FifoQueue", "true", QM_E_INVALID_ATTRIBUTE_NAME},
        {"ContentBasedDeduplication", "true", QM_E_INVALID_ATTRIBUTE_NAME},
        {"QueueArn", "x", QM_E_INVALID_ATTRIBUTE_NAME},
        {"RedrivePolicy", "{", QM_E_INVALID_PARAMETER_VALUE},
        {"RedrivePolicy",
         "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:none\","
         "\"maxReceiveCount\":3}",
         QM_E_INVALID_PARAMETER_VALUE},
        {"RedriveAllowPolicy", "{\"redrivePermission\":\"maybe\"}", QM_E_INVALID_PARAMETER_VALUE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        qm_kv kv = {bad[i].name, bad[i].value};
        err.code = QM_OK;
        assert_int_equal(qm_set_attributes(m, q, &kv, 1, T0, &err), -1);
        assert_int_equal(err.code, bad[i].code);
    }
    /* All or nothing: the valid first change is not applied either. */
    qm_kv mixed[] = {{"DelaySeconds", "7"}, {"VisibilityTimeout", "x"}};
    assert_int_equal(qm_set_attributes(m, q, mixed, 2, T0, &err), -1);
    const char *delay[] = {"DelaySeconds"};
    c.n = 0;
    qm_get_attributes(m, q, delay, 1, T0, collect, &c, &err);
    assert_int_equal(c.n, 1);
    assert_string_equal(lookup(&c, "DelaySeconds"), "0");

    qm_queue *dlq = create(m, "dlq", NULL, 0);
    (void)dlq;
    qm_kv ok[] = {{"RedrivePolicy", "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:"
                                    "123456789012:dlq\",\"maxReceiveCount\":\"2\"}"},
                  {"Policy", "{}"},
                  {"KmsMasterKeyId", "alias/aws/sqs"}};
    assert_int_equal(qm_set_attributes(m, q, ok, 3, T0 + 5000, &err), 0);
    c.n = 0;
    qm_get_attributes(m, q, all, 1, T0 + 5000, collect, &c, &err);
    assert_string_equal(lookup(&c, "RedrivePolicy"),
                        "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:dlq\","
                        "\"maxReceiveCount\":2}");
    assert_string_equal(lookup(&c, "LastModifiedTimestamp"), "1700000005");
    assert_string_equal(lookup(&c, "KmsDataKeyReusePeriodSeconds"), "300");
    assert_string_equal(qm_queue_dlq_arn(q), "arn:aws:sqs:us-east-1:123456789012:dlq");

    /* What persistence keeps brings the same queue back. */
    c.n = 0;
    qm_stored_attributes(q, collect, &c);
    qm_kv kept[32];
    for (size_t i = 0; i < c.n; i++)
        kept[i] = (qm_kv){c.names[i], c.values[i]};
    assert_null(lookup(&c, "VisibilityTimeout"));
    qmodel *m2 = model();
    qm_queue *r = qm_restore_queue(m2, "q", false, T0, T0 + 5000, 0, kept, c.n, NULL, 0);
    collected c2 = {0};
    qm_get_attributes(m2, r, all, 1, T0 + 5000, collect, &c2, &err);
    assert_string_equal(lookup(&c2, "RedrivePolicy"), lookup(&c, "RedrivePolicy"));
    assert_string_equal(lookup(&c2, "Policy"), "{}");
    qmodel_free(m2);
    qmodel_free(m);
}

static void send_receive_delete(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q = create(m, "q", NULL, 0);
    qm_sent sent;
    qm_send s = body("hello");
    send_ok(m, q, &s, T0, &sent);
    assert_int_equal(strlen(sent.message_id), 36);
    qm_receive r = recv_req(10);
    qm_msg *got[QM_MAX_RECEIVE];
    assert_int_equal(qm_receive_now(m, q, &r, T0, got), 1);
    assert_string_equal(got[0]->body, "hello");
    assert_string_equal(got[0]->id, sent.message_id);
    assert_int_equal(got[0]->receive_count, 1);
    assert_int_equal(got[0]->first_receive_ms, T0);
    char first[128];
    snprintf(first, sizeof(first), "%s", got[0]->receipt);
    /* In flight for the default 30 s. */
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 29999, got), 0);
    int64_t v, f, d;
    qm_counts(q, T0 + 1, &v, &f, &d);
    assert_int_equal(f, 1);
    assert_int_equal(qm_next_visible_ms(q, T0), T0 + 30000);
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 30000, got), 1);
    assert_int_equal(got[0]->receive_count, 2);
    assert_string_not_equal(got[0]->receipt, first);
    qm_err err;
    /* The older handle: success, nothing deleted (standard queue). */
    assert_int_equal(qm_delete_message(m, q, first, T0 + 30001, &err), 0);
    assert_non_null(qm_first_message(q));
    /* The old one no longer changes visibility. */
    assert_int_equal(qm_change_visibility(m, q, first, 0, T0 + 30001, &err), -1);
    assert_int_equal(err.code, QM_E_INVALID_PARAMETER_VALUE);
    assert_int_equal(qm_delete_message(m, q, "garbage", T0, &err), -1);
    assert_int_equal(err.code, QM_E_RECEIPT_HANDLE_INVALID);
    assert_int_equal(qm_delete_message(m, q, got[0]->receipt, T0 + 30001, &err), 0);
    assert_null(qm_first_message(q));
    qmodel_free(m);
}

static void visibility(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q = create(m, "q", NULL, 0);
    qm_sent sent;
    qm_send s = body("x");
    send_ok(m, q, &s, T0, &sent);
    qm_receive r = recv_req(1);
    r.visibility_s = 100;
    qm_msg *got[QM_MAX_RECEIVE];
    assert_int_equal(qm_receive_now(m, q, &r, T0, got), 1);
    assert_int_equal(got[0]->visible_ms, T0 + 100000);
    qm_err err;
    assert_int_equal(qm_change_visibility(m, q, got[0]->receipt, 43201, T0, &err), -1);
    assert_int_equal(qm_change_visibility(m, q, got[0]->receipt, 43200, T0 + 1000, &err), -1);
    assert_non_null(strstr(err.msg, "Total VisibilityTimeout"));
    assert_int_equal(qm_change_visibility(m, q, got[0]->receipt, 0, T0 + 1000, &err), 0);
    assert_true(qm_has_receivable(q, T0 + 1000));
    r.visibility_s = -1;
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 1000, got), 1);
    /* Delay: per message and by queue. */
    qm_kv delay = {"DelaySeconds", "10"};
    qm_queue *dq = create(m, "delayed", &delay, 1);
    send_ok(m, dq, &s, T0, &sent);
    s.delay_s = 0;
    send_ok(m, dq, &s, T0, &sent);
    int64_t v, f, d;
    qm_counts(dq, T0, &v, &f, &d);
    assert_int_equal(v, 1);
    assert_int_equal(d, 1);
    r.max = 10;
    assert_int_equal(qm_receive_now(m, dq, &r, T0, got), 1);
    assert_int_equal(qm_receive_now(m, dq, &r, T0 + 10000, got), 1);
    s.delay_s = 901;
    assert_int_equal(qm_send_message(m, dq, &s, T0, &sent, &err), -1);
    qmodel_free(m);
}

static void message_validation(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_kv small = {"MaximumMessageSize", "1024"};
    qm_queue *q = create(m, "q", &small, 1);
    qm_sent sent;
    qm_err err;
    qm_send s = body(NULL);
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    assert_int_equal(err.code, QM_E_MISSING_PARAMETER);
    s = body("bad \x01");
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    assert_int_equal(err.code, QM_E_INVALID_MESSAGE_CONTENTS);
    char big[1100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = body(big);
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    assert_non_null(strstr(err.msg, "shorter than 1024 bytes"));
    /* Attributes count towards the size. */
    big[1000] = '\0';
    qm_attr a = text_attr("name", "String", "0123456789012345678901234567890");
    s = body(big);
    s.attrs = &a;
    s.n_attrs = 1;
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    s = body("x");
    s.attrs = &a;
    s.n_attrs = 1;
    static const struct {
        const char *name, *type, *value;
    } bad[] = {
        {"AWS.x", "String", "v"}, {".x", "String", "v"}, {"a..b", "String", "v"},
        {"a b", "String", "v"},   {"x", "Text", "v"},    {"x", "String", ""},
        {"x", "Number", "1e"},    {"x", "Number.", "1"}, {"amazon.x", "String", "v"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = text_attr(bad[i].name, bad[i].type, bad[i].value);
        assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
        assert_int_equal(err.code, QM_E_INVALID_PARAMETER_VALUE);
    }
    a = text_attr("x", "Number.int", "-12.5e3");
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), 0);
    qm_attr eleven[11];
    char names_[11][8];
    for (int i = 0; i < 11; i++) {
        snprintf(names_[i], sizeof(names_[i]), "a%d", i);
        eleven[i] = text_attr(names_[i], "String", "v");
    }
    s.attrs = eleven;
    s.n_attrs = 11;
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    s.n_attrs = 10;
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), 0);
    /* System attributes: AWSTraceHeader only. */
    qm_attr trace =
        text_attr("AWSTraceHeader", "String", "Root=1-5759e988-bd862e3fe1be46a994272793");
    s = body("x");
    s.sys_attrs = &trace;
    s.n_sys_attrs = 1;
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), 0);
    assert_int_equal(strlen(sent.md5_sys), 32);
    trace.name = (char *)(uintptr_t) "Other";
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    s = body("x");
    s.dedup_id = "d";
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    qmodel_free(m);
}

static void receive_validation(void **state)
{
    (void)state;
    qm_err err;
    qm_receive r = recv_req(-1);
    assert_int_equal(qm_check_receive(&r, &err), 0);
    r.max = 0;
    assert_int_equal(qm_check_receive(&r, &err), -1);
    r.max = 11;
    assert_int_equal(qm_check_receive(&r, &err), -1);
    assert_string_equal(err.msg, "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: "
                                 "Must be between 1 and 10, if provided.");
    r.max = 10;
    r.wait_s = 21;
    assert_int_equal(qm_check_receive(&r, &err), -1);
    r.wait_s = 0;
    assert_int_equal(qm_check_receive(&r, &err), 0);
    const char *sys[] = {"SentTimestamp"};
    const char *attrs[] = {"color", "meta.*"};
    r.sys_names = sys;
    r.n_sys_names = 1;
    r.attr_names = attrs;
    r.n_attr_names = 2;
    assert_true(qm_wants_sys(&r, "SentTimestamp"));
    assert_false(qm_wants_sys(&r, "SenderId"));
    assert_true(qm_wants_attr(&r, "color"));
    assert_true(qm_wants_attr(&r, "meta.a"));
    assert_false(qm_wants_attr(&r, "metadata"));
    assert_false(qm_wants_attr(&r, "colour"));
    const char *all[] = {"All"};
    r.attr_names = all;
    r.n_attr_names = 1;
    assert_true(qm_wants_attr(&r, "anything"));
    assert_true(qm_batch_id_ok("a-B_9"));
    assert_false(qm_batch_id_ok(""));
    assert_false(qm_batch_id_ok("a.b"));
}

/* maxReceiveCount=2: delivered twice, moved on the third receive (lazily, as AWS does). */
static void redrive(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *dlq = create(m, "dlq", NULL, 0);
    qm_kv policy = {"RedrivePolicy", "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:"
                                     "123456789012:dlq\",\"maxReceiveCount\":2}"};
    qm_queue *q = create(m, "src", &policy, 1);
    qm_sent sent;
    qm_send s = body("poison");
    send_ok(m, q, &s, T0, &sent);
    qm_receive r = recv_req(1);
    r.visibility_s = 0;
    qm_msg *got[QM_MAX_RECEIVE];
    assert_int_equal(qm_receive_now(m, q, &r, T0, got), 1);
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 1, got), 1);
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 2, got), 0);
    assert_null(qm_first_message(q));
    assert_int_equal(qm_receive_now(m, dlq, &r, T0 + 3, got), 1);
    assert_string_equal(got[0]->id, sent.message_id);
    assert_string_equal(got[0]->dlq_source, "arn:aws:sqs:us-east-1:123456789012:src");
    assert_int_equal(got[0]->receive_count, 3);
    qmodel_free(m);
}

static void retention_and_purge(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_kv keep = {"MessageRetentionPeriod", "60"};
    qm_queue *q = create(m, "q", &keep, 1);
    qm_sent sent;
    qm_send s = body("x");
    send_ok(m, q, &s, T0, &sent);
    send_ok(m, q, &s, T0 + 30000, &sent);
    qm_sweep(m, T0 + 60000);
    int64_t v, f, d;
    qm_counts(q, T0 + 60000, &v, &f, &d);
    assert_int_equal(v, 1);
    qm_receive r = recv_req(10);
    qm_msg *got[QM_MAX_RECEIVE];
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 90000, got), 0);
    qm_err err;
    send_ok(m, q, &s, T0 + 90000, &sent);
    assert_int_equal(qm_purge(m, q, T0 + 90000, &err), 0);
    assert_null(qm_first_message(q));
    assert_int_equal(qm_purge(m, q, T0 + 100000, &err), -1);
    assert_int_equal(err.code, QM_E_PURGE_IN_PROGRESS);
    assert_int_equal(qm_code_status(err.code), 403);
    assert_int_equal(qm_purge(m, q, T0 + 150000, &err), 0);
    qmodel_free(m);
}

static qm_queue *fifo_queue(qmodel *m, bool content_dedup)
{
    qm_kv attrs[] = {{"FifoQueue", "true"},
                     {"ContentBasedDeduplication", content_dedup ? "true" : "false"}};
    return create(m, "f.fifo", attrs, 2);
}

static void fifo_rules(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q = fifo_queue(m, false);
    qm_sent sent;
    qm_err err;
    qm_send s = body("x");
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    assert_int_equal(err.code, QM_E_MISSING_PARAMETER);
    s.group_id = "g";
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    assert_non_null(strstr(err.msg, "ContentBasedDeduplication"));
    s.dedup_id = "d1";
    s.delay_s = 2;
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    assert_non_null(strstr(err.msg, "DelaySeconds"));
    s.delay_s = -1;
    s.group_id = "bad group";
    assert_int_equal(qm_send_message(m, q, &s, T0, &sent, &err), -1);
    qmodel_free(m);
}

static void fifo_order_and_groups(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q = fifo_queue(m, true);
    qm_sent sent[4];
    const char *bodies[] = {"a1", "b1", "a2", "b2"};
    const char *groups[] = {"a", "b", "a", "b"};
    for (int i = 0; i < 4; i++) {
        qm_send s = body(bodies[i]);
        s.group_id = groups[i];
        send_ok(m, q, &s, T0 + i, &sent[i]);
        assert_true(sent[i].seq[0] != '\0');
    }
    assert_true(strtoull(sent[1].seq, NULL, 10) > strtoull(sent[0].seq, NULL, 10));
    qm_receive r = recv_req(1);
    qm_msg *got[QM_MAX_RECEIVE];
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 10, got), 1);
    assert_string_equal(got[0]->body, "a1");
    /* Group a is blocked while a1 is in flight; b goes on. */
    r.max = 10;
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 10, got), 2);
    assert_string_equal(got[0]->body, "b1");
    assert_string_equal(got[1]->body, "b2");
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 10, got), 0);
    assert_false(qm_has_receivable(q, T0 + 10));
    /* Returning a1 makes it, and only it, next. */
    qm_msg *a1 = qm_first_message(q);
    qm_err err;
    assert_int_equal(qm_change_visibility(m, q, a1->receipt, 0, T0 + 11, &err), 0);
    assert_true(qm_has_receivable(q, T0 + 11));
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 11, got), 2);
    assert_string_equal(got[0]->body, "a1");
    assert_string_equal(got[1]->body, "a2");
    /* FIFO refuses a handle whose visibility lapsed. */
    char handle[128];
    snprintf(handle, sizeof(handle), "%s", got[0]->receipt);
    assert_int_equal(qm_delete_message(m, q, handle, T0 + 11 + 30000, &err), -1);
    assert_non_null(strstr(err.msg, "expired"));
    qmodel_free(m);
}

static void fifo_dedup(void **state)
{
    (void)state;
    qmodel *m = model();
    qm_queue *q = fifo_queue(m, true);
    qm_sent a, b, c;
    qm_send s = body("same");
    s.group_id = "g";
    send_ok(m, q, &s, T0, &a);
    send_ok(m, q, &s, T0 + 1000, &b);
    assert_string_equal(a.message_id, b.message_id);
    assert_string_equal(a.seq, b.seq);
    int64_t v, f, d;
    qm_counts(q, T0 + 1000, &v, &f, &d);
    assert_int_equal(v, 1);
    /* Remembered past deletion, forgotten after five minutes. */
    qm_receive r = recv_req(1);
    qm_msg *got[QM_MAX_RECEIVE];
    qm_err err;
    assert_int_equal(qm_receive_now(m, q, &r, T0 + 2000, got), 1);
    assert_int_equal(qm_delete_message(m, q, got[0]->receipt, T0 + 2000, &err), 0);
    send_ok(m, q, &s, T0 + 3000, &c);
    assert_string_equal(c.message_id, a.message_id);
    send_ok(m, q, &s, T0 + QM_DEDUP_WINDOW_MS, &c);
    assert_string_not_equal(c.message_id, a.message_id);
    /* An explicit id overrides the body's hash. */
    s.dedup_id = "other";
    send_ok(m, q, &s, T0 + QM_DEDUP_WINDOW_MS, &b);
    assert_string_not_equal(b.message_id, c.message_id);
    qmodel_free(m);
}

typedef struct journal {
    int saved, deleted_queues, added, updated, deleted, purged, dedups;
} journal;

static void j_saved(void *ud, const qm_queue *q)
{
    (void)q;
    ((journal *)ud)->saved++;
}
static void j_qdel(void *ud, const qm_queue *q)
{
    (void)q;
    ((journal *)ud)->deleted_queues++;
}
static void j_added(void *ud, const qm_msg *msg)
{
    (void)msg;
    ((journal *)ud)->added++;
}
static void j_updated(void *ud, const qm_msg *msg)
{
    (void)msg;
    ((journal *)ud)->updated++;
}
static void j_deleted(void *ud, const qm_msg *msg)
{
    (void)msg;
    ((journal *)ud)->deleted++;
}
static void j_purged(void *ud, const qm_queue *q)
{
    (void)q;
    ((journal *)ud)->purged++;
}
static void j_dedup(void *ud, const qm_queue *q, const char *key, const char *id, const char *seq,
                    int64_t expires_ms)
{
    (void)q, (void)key, (void)id, (void)seq, (void)expires_ms;
    ((journal *)ud)->dedups++;
}

static void hold_and_observe(void **state)
{
    (void)state;
    qmodel *m = model();
    journal j = {0};
    qm_observer obs = {&j, j_saved, j_qdel, j_added, j_updated, j_deleted, j_purged, j_dedup};
    qmodel_set_observer(m, &obs);
    qmodel_set_hold(m, true);
    qm_queue *q = create(m, "q", NULL, 0);
    assert_int_equal(j.saved, 1);
    qm_sent sent;
    qm_send s = body("x");
    send_ok(m, q, &s, T0, &sent);
    send_ok(m, q, &s, T0, &sent);
    uint64_t first = qmodel_last_serial(m) - 1;
    assert_int_equal(j.added, 2);
    qm_receive r = recv_req(10);
    qm_msg *got[QM_MAX_RECEIVE];
    assert_false(qm_has_receivable(q, T0));
    assert_int_equal(qm_receive_now(m, q, &r, T0, got), 0);
    assert_int_equal(qmodel_release(m, first), 1);
    assert_int_equal(qm_receive_now(m, q, &r, T0, got), 1);
    assert_int_equal(j.updated, 1);
    assert_int_equal(qmodel_release(m, qmodel_last_serial(m)), 1);
    qm_err err;
    assert_int_equal(qm_delete_message(m, q, got[0]->receipt, T0, &err), 0);
    assert_int_equal(j.deleted, 1);
    assert_int_equal(qm_purge(m, q, T0, &err), 0);
    assert_int_equal(j.purged, 1);
    qm_queue *f = fifo_queue(m, true);
    s.group_id = "g";
    send_ok(m, f, &s, T0, &sent);
    assert_int_equal(j.dedups, 1);
    assert_int_equal(qm_delete_queue(m, f, T0, &err), 0);
    assert_int_equal(j.deleted_queues, 1);
    qmodel_free(m);
}

static void listing_and_tags(void **state)
{
    (void)state;
    qmodel *m = model();
    create(m, "b", NULL, 0);
    create(m, "a", NULL, 0);
    qm_queue *c = create(m, "c", NULL, 0);
    qm_queue *q = qm_first_after(m, NULL);
    assert_string_equal(qm_queue_name(q), "a");
    assert_string_equal(qm_queue_name(qm_next(q)), "b");
    assert_string_equal(qm_queue_name(qm_first_after(m, "b")), "c");
    assert_null(qm_first_after(m, "c"));
    qm_kv tags[] = {{"env", "prod"}, {"team", "x"}};
    qm_err err;
    assert_int_equal(qm_tag(m, c, tags, 2, &err), 0);
    qm_kv again = {"env", "dev"};
    assert_int_equal(qm_tag(m, c, &again, 1, &err), 0);
    assert_int_equal(qm_n_tags(c), 2);
    const char *k, *v;
    qm_tag_at(c, 0, &k, &v);
    assert_string_equal(k, "env");
    assert_string_equal(v, "dev");
    const char *gone[] = {"env", "missing"};
    assert_int_equal(qm_untag(m, c, gone, 2, &err), 0);
    assert_int_equal(qm_n_tags(c), 1);
    qm_kv many[51];
    char keys[51][8];
    for (int i = 0; i < 51; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        many[i] = (qm_kv){keys[i], ""};
    }
    assert_int_equal(qm_tag(m, c, many, 51, &err), -1);
    assert_int_equal(qm_tag(m, c, many, 49, &err), 0);
    qmodel_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_vectors),
        cmocka_unit_test(attribute_md5),
        cmocka_unit_test(names),
        cmocka_unit_test(create_is_idempotent),
        cmocka_unit_test(attributes),
        cmocka_unit_test(send_receive_delete),
        cmocka_unit_test(visibility),
        cmocka_unit_test(message_validation),
        cmocka_unit_test(receive_validation),
        cmocka_unit_test(redrive),
        cmocka_unit_test(retention_and_purge),
        cmocka_unit_test(fifo_rules),
        cmocka_unit_test(fifo_order_and_groups),
        cmocka_unit_test(fifo_dedup),
        cmocka_unit_test(hold_and_observe),
        cmocka_unit_test(listing_and_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
