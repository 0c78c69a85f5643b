/*
 * topic_test.c — unit tests for the topic module's pure parts: filter policies (filter.c)
 * on attributes and on the message body, and what SNS delivers (message.c): the signed
 * string, the envelope's keys in order, Lambda's event, mail text.
 */
#include "topic/topic_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *policy(const char *text)
{
    json_t *p = NULL;
    const char *why = NULL;
    assert_int_equal(topic__filter_parse(text, &p, &why), 0);
    return p;
}

static bool matches(const char *pol, const char *attrs_text)
{
    json_t *p = policy(pol);
    json_t *a = json_loads(attrs_text, 0, NULL);
    assert_non_null(a);
    bool ok = topic__filter_match(p, false, a, "msg");
    json_decref(p);
    json_decref(a);
    return ok;
}

static bool body_matches(const char *pol, const char *body)
{
    json_t *p = policy(pol);
    bool ok = topic__filter_match(p, true, NULL, body);
    json_decref(p);
    return ok;
}

#define S(v) "{\"Type\":\"String\",\"Value\":\"" v "\"}"
#define N(v) "{\"Type\":\"Number\",\"Value\":\"" v "\"}"

static void filter_exact_and_or(void **state)
{
    (void)state;
    assert_true(matches("{\"kind\":[\"approval\",\"x\"]}", "{\"kind\":" S("approval") "}"));
    assert_false(matches("{\"kind\":[\"approval\"]}", "{\"kind\":" S("Approval") "}"));
    assert_false(matches("{\"kind\":[\"approval\"]}", "{}"));
    /* every key must match */
    assert_false(matches("{\"a\":[\"1\"],\"b\":[\"2\"]}", "{\"a\":" S("1") ",\"b\":" S("3") "}"));
    assert_true(matches("{\"$or\":[{\"a\":[\"1\"]},{\"b\":[\"2\"]}]}", "{\"b\":" S("2") "}"));
    assert_false(matches("{\"$or\":[{\"a\":[\"1\"]},{\"b\":[\"2\"]}]}", "{\"b\":" S("3") "}"));
}

static void filter_operators(void **state)
{
    (void)state;
    assert_true(matches("{\"a\":[{\"prefix\":\"ord\"}]}", "{\"a\":" S("order-1") "}"));
    assert_false(matches("{\"a\":[{\"prefix\":\"ord\"}]}", "{\"a\":" S("xorder") "}"));
    assert_true(matches("{\"a\":[{\"suffix\":\".png\"}]}", "{\"a\":" S("x.png") "}"));
    assert_true(matches("{\"a\":[{\"equals-ignore-case\":\"RED\"}]}", "{\"a\":" S("red") "}"));
    assert_true(matches("{\"a\":[{\"anything-but\":[\"x\",\"y\"]}]}", "{\"a\":" S("z") "}"));
    assert_false(matches("{\"a\":[{\"anything-but\":[\"x\",\"y\"]}]}", "{\"a\":" S("y") "}"));
    assert_false(matches("{\"a\":[{\"anything-but\":\"x\"}]}", "{}"));
    assert_true(
        matches("{\"a\":[{\"anything-but\":{\"prefix\":\"in\"}}]}", "{\"a\":" S("out") "}"));
    assert_true(matches("{\"p\":[{\"numeric\":[\">\",0,\"<=\",150]}]}", "{\"p\":" N("150") "}"));
    assert_false(matches("{\"p\":[{\"numeric\":[\">\",0,\"<=\",150]}]}", "{\"p\":" N("151") "}"));
    assert_true(matches("{\"p\":[301.5]}", "{\"p\":" N("3.015e2") "}"));
    /* a String attribute is not a number */
    assert_false(matches("{\"p\":[{\"numeric\":[\"=\",1]}]}", "{\"p\":" S("1") "}"));
    assert_true(matches("{\"a\":[{\"exists\":false}]}", "{}"));
    assert_false(matches("{\"a\":[{\"exists\":false}]}", "{\"a\":" S("x") "}"));
    assert_true(matches("{\"a\":[{\"exists\":true}]}", "{\"a\":" S("x") "}"));
    assert_true(matches("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{\"ip\":" S("10.0.0.7") "}"));
    assert_false(matches("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{\"ip\":" S("10.0.1.7") "}"));
    /* String.Array: any element */
    assert_true(matches("{\"t\":[\"b\"]}",
                        "{\"t\":{\"Type\":\"String.Array\",\"Value\":\"[\\\"a\\\",\\\"b\\\"]\"}}"));
}

static void filter_body_scope(void **state)
{
    (void)state;
    assert_true(body_matches("{\"order\":{\"status\":[\"paid\"]}}",
                             "{\"order\":{\"status\":\"paid\",\"n\":3}}"));
    assert_false(body_matches("{\"order\":{\"status\":[\"paid\"]}}", "{\"order\":{\"status\":1}}"));
    assert_true(body_matches("{\"n\":[{\"numeric\":[\">=\",3]}]}", "{\"n\":3}"));
    assert_false(body_matches("{\"n\":[3]}", "not json"));
    assert_true(body_matches("{\"tags\":[\"x\"]}", "{\"tags\":[\"w\",\"x\"]}"));
}

static void filter_rejects(void **state)
{
    (void)state;
    json_t *p = NULL;
    const char *why = NULL;
    assert_int_equal(topic__filter_parse("[1]", &p, &why), -1);
    assert_int_equal(topic__filter_parse("{\"a\":[]}", &p, &why), -1);
    assert_int_equal(topic__filter_parse("{\"a\":[{\"bogus\":1}]}", &p, &why), -1);
    assert_string_equal(why, "Unrecognized match type");
    assert_int_equal(topic__filter_parse("{\"a\":[{\"numeric\":[\"~\",1]}]}", &p, &why), -1);
    assert_int_equal(topic__filter_parse("{\"a\":\"x\"}", &p, &why), -1);
    /* at most 150 combinations of values: 151 values of one key, or 13 x 12 */
    char big[4096] = "{\"a\":[";
    for (int i = 0; i < 151; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"v%d\"", i ? "," : "", i);
    strcat(big, "]}");
    why = NULL;
    assert_int_equal(topic__filter_parse(big, &p, &why), -1);
    assert_string_equal(why, "Filter policy is too complex");
    big[strlen(big) - 2] = '\0';
    *strrchr(big, ',') = '\0'; /* 150 values */
    strcat(big, "]}");
    assert_int_equal(topic__filter_parse(big, &p, &why), 0);
    json_decref(p);
    char two[1024] = "{\"a\":[";
    for (int i = 0; i < 13; i++)
        snprintf(two + strlen(two), sizeof two - strlen(two), "%s%d", i ? "," : "", i);
    strcat(two, "],\"b\":[");
    for (int i = 0; i < 12; i++)
        snprintf(two + strlen(two), sizeof two - strlen(two), "%s%d", i ? "," : "", i);
    strcat(two, "]}");
    assert_int_equal(topic__filter_parse(two, &p, &why), -1);
    assert_int_equal(
        topic__filter_parse("{\"$or\":[{\"a\":[1,2]},{\"b\":[3]}],\"c\":[4,5]}", &p, &why), 0);
    json_decref(p);
}

static void canonical_strings(void **state)
{
    (void)state;
    topic__msg m = {.type = "Notification",
                    .message_id = "id-1",
                    .topic_arn = "arn:aws:sns:us-east-1:1:T",
                    .subject = "S",
                    .message = "hello",
                    .timestamp = "2024-01-02T03:04:05.678Z"};
    char *c = topic__canonical(&m);
    assert_string_equal(c, "Message\nhello\nMessageId\nid-1\nSubject\nS\nTimestamp\n"
                           "2024-01-02T03:04:05.678Z\nTopicArn\narn:aws:sns:us-east-1:1:T\n"
                           "Type\nNotification\n");
    free(c);
    m.subject = NULL;
    c = topic__canonical(&m);
    assert_null(strstr(c, "Subject"));
    free(c);
    topic__msg k = {.type = "SubscriptionConfirmation",
                    .message_id = "id-2",
                    .topic_arn = "T",
                    .message = "m",
                    .timestamp = "t",
                    .token = "tok",
                    .subscribe_url = "http://x/?Action=ConfirmSubscription"};
    c = topic__canonical(&k);
    assert_string_equal(c, "Message\nm\nMessageId\nid-2\nSubscribeURL\n"
                           "http://x/?Action=ConfirmSubscription\nTimestamp\nt\nToken\ntok\n"
                           "TopicArn\nT\nType\nSubscriptionConfirmation\n");
    free(c);
}

static void envelope_order(void **state)
{
    (void)state;
    json_t *attrs = json_loads("{\"k\":{\"Type\":\"String\",\"Value\":\"v\"}}", 0, NULL);
    topic__msg m = {.type = "Notification",
                    .message_id = "id",
                    .topic_arn = "T",
                    .subject = "S",
                    .message = "hello",
                    .timestamp = "ts",
                    .attrs = attrs};
    json_t *env = topic__envelope(&m, "1", "SIG", "http://c", "http://u");
    char *text = json_dumps(env, JSON_COMPACT);
    assert_string_equal(text, "{\"Type\":\"Notification\",\"MessageId\":\"id\",\"TopicArn\":\"T\","
                              "\"Subject\":\"S\",\"Message\":\"hello\",\"Timestamp\":\"ts\","
                              "\"SignatureVersion\":\"1\",\"Signature\":\"SIG\",\"SigningCertURL\":"
                              "\"http://c\",\"UnsubscribeURL\":\"http://u\",\"MessageAttributes\":"
                              "{\"k\":{\"Type\":\"String\",\"Value\":\"v\"}}}");
    free(text);
    json_decref(env);
    m.subject = NULL;
    json_t *ev = topic__lambda_event(&m, "T:sub", "1", "SIG", "http://c", "http://u");
    json_t *sns = json_object_get(json_array_get(json_object_get(ev, "Records"), 0), "Sns");
    assert_true(json_is_null(json_object_get(sns, "Subject")));
    assert_string_equal(json_string_value(json_object_get(sns, "SigningCertUrl")), "http://c");
    assert_string_equal(json_string_value(json_object_get(sns, "UnsubscribeUrl")), "http://u");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(ev, "Records"), 0), "EventSource")),
                        "aws:sns");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(sns, "MessageAttributes"), "k"), "Value")),
        "v");
    json_decref(ev);
    json_decref(attrs);
}

static void structured_and_mail(void **state)
{
    (void)state;
    json_t *s = json_loads("{\"default\":\"d\",\"email\":\"e\",\"sqs\":1}", 0, NULL);
    assert_string_equal(topic__structured(s, "email"), "e");
    assert_string_equal(topic__structured(s, "sqs"), "d"); /* non-string values are ignored */
    assert_string_equal(topic__structured(s, "http"), "d");
    json_decref(s);
    char *mail =
        topic__mail_text("A <a@x>", "b@y", "Hi", "line1\nline2", "m1@baton", 1700000000000);
    assert_non_null(strstr(mail, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
    assert_non_null(strstr(mail, "From: A <a@x>\r\nTo: b@y\r\nMessage-ID: <m1@baton>\r\n"));
    assert_non_null(strstr(mail, "Subject: Hi\r\n"));
    assert_non_null(strstr(mail, "\r\n\r\nline1\r\nline2\r\n"));
    free(mail);
    mail = topic__mail_text("a@x", "b@y", "Grüße", "x", "m2", 0);
    assert_non_null(strstr(mail, "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"));
    free(mail);
}

/* A topic's DisplayName, a subject built from a state name and an address are header
 * values: a CR or LF in them must not start a header of its own. */
static void mail_header_injection(void **state)
{
    (void)state;
    char *mail = topic__mail_text("Ops\r\nBcc: evil@x <a@x>", "b@y\r\nCc: c@z", "Hi\r\nBcc: evil@x",
                                  "body", "m3\r\nX: y", 0);
    assert_null(strstr(mail, "\r\nBcc:"));
    assert_null(strstr(mail, "\r\nCc:"));
    assert_null(strstr(mail, "\r\nX:"));
    assert_non_null(strstr(mail, "From: Ops  Bcc: evil@x <a@x>\r\n"));
    assert_non_null(strstr(mail, "Subject: Hi  Bcc: evil@x\r\n"));
    free(mail);
    mail = topic__mail_text("a@x", "b@y", "Gr\xc3\xbc\r\nBcc: e@x", "x", "m4", 0);
    assert_null(strstr(mail, "\r\nBcc:"));
    free(mail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filter_exact_and_or), cmocka_unit_test(filter_operators),
        cmocka_unit_test(filter_body_scope),   cmocka_unit_test(filter_rejects),
        cmocka_unit_test(canonical_strings),   cmocka_unit_test(envelope_order),
        cmocka_unit_test(structured_and_mail), cmocka_unit_test(mail_header_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
