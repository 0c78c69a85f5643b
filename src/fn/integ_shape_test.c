/*
 * integ_shape_test.c — the Step Functions integration's pure half: resources it takes,
 * Parameters decoded, the Invoke envelope and the failures (fn/integ_shape.c).
 */
#include "fn/integ_int.h"

#include "base/alloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_kind(void **state)
{
    (void)state;
    assert_int_equal(fn_integ__kind("arn:aws:states:::lambda:invoke"), FN_INTEG_INVOKE);
    assert_int_equal(fn_integ__kind("arn:aws:states:::lambda:invoke.waitForTaskToken"),
                     FN_INTEG_WAIT);
    assert_int_equal(fn_integ__kind("arn:aws:lambda:us-east-1:111111111111:function:f"),
                     FN_INTEG_LEGACY);
    assert_int_equal(fn_integ__kind("arn:aws:lambda:us-east-1:111111111111:function:f:live"),
                     FN_INTEG_LEGACY);
    assert_int_equal(fn_integ__kind("arn:aws:lambda:us-east-1:111111111111:function:f:a:b"),
                     FN_INTEG_NONE);
    assert_int_equal(fn_integ__kind("arn:aws:lambda:us-east-1::function:f"), FN_INTEG_NONE);
    assert_int_equal(fn_integ__kind("arn:aws:states:::lambda:invoke.sync"), FN_INTEG_NONE);
    assert_int_equal(fn_integ__kind("arn:aws:states:::sqs:sendMessage"), FN_INTEG_NONE);
    assert_int_equal(fn_integ__kind(NULL), FN_INTEG_NONE);
}

static void test_decode(void **state)
{
    (void)state;
    fn_integ_req r;
    char *error, *cause;
    json_t *p = json_pack("{s:s, s:n}", "FunctionName", "f:live", "Payload");
    assert_int_equal(fn_integ__decode(FN_INTEG_INVOKE, "x", p, &r, &error, &cause), 0);
    assert_string_equal(r.function, "f:live");
    assert_string_equal(r.payload, "{}");
    assert_null(r.qualifier);
    assert_int_equal(r.itype, FN_ITYPE_REQUEST_RESPONSE);
    fn_integ__req_fini(&r);
    json_decref(p);

    /* a string payload goes as its bytes, an object as its text */
    p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "FunctionName", "f", "Payload", "{}",
                  "InvocationType", "Event", "LogType", "Tail", "ClientContext", "eyJhIjoxfQ==");
    assert_int_equal(fn_integ__decode(FN_INTEG_INVOKE, "x", p, &r, &error, &cause), 0);
    assert_string_equal(r.payload, "{}");
    assert_int_equal(r.itype, FN_ITYPE_EVENT);
    assert_true(r.tail_log);
    assert_string_equal(r.client_context, "{\"a\":1}");
    fn_integ__req_fini(&r);
    json_decref(p);

    p = json_pack("{s:s, s:{s:i}}", "FunctionName", "f", "Payload", "k", 1);
    assert_int_equal(fn_integ__decode(FN_INTEG_WAIT, "x", p, &r, &error, &cause), 0);
    assert_string_equal(r.payload, "{\"k\":1}");
    fn_integ__req_fini(&r);
    json_decref(p);

    p = json_pack("{s:s}", "Payload", "x");
    assert_int_equal(fn_integ__decode(FN_INTEG_INVOKE, "x", p, &r, &error, &cause), -1);
    assert_string_equal(error, "Lambda.InvalidParameterValueException");
    assert_non_null(strstr(cause, "FunctionName"));
    free(error);
    free(cause);
    json_decref(p);

    p = json_pack("{s:s, s:s}", "FunctionName", "f", "InvocationType", "Sometimes");
    assert_int_equal(fn_integ__decode(FN_INTEG_INVOKE, "x", p, &r, &error, &cause), -1);
    assert_non_null(strstr(cause, "invocationType"));
    free(error);
    free(cause);
    json_decref(p);

    /* legacy: the effective input is the event, whatever it holds */
    const char *arn = "arn:aws:lambda:us-east-1:111111111111:function:f";
    p = json_string("hi");
    assert_int_equal(fn_integ__decode(FN_INTEG_LEGACY, arn, p, &r, &error, &cause), 0);
    assert_string_equal(r.function, arn);
    assert_string_equal(r.payload, "\"hi\"");
    fn_integ__req_fini(&r);
    json_decref(p);
}

static void test_envelope(void **state)
{
    (void)state;
    fn_result r = {.payload = "{\"a\":[1]}", .payload_len = 9, .executed_version = "$LATEST"};
    json_t *e = fn_integ__envelope(&r, 200, "rid", "Tue, 06 Nov 2025 12:31:47 GMT", "root=1");
    json_t *want = json_loads(
        "{\"ExecutedVersion\":\"$LATEST\",\"Payload\":{\"a\":[1]},\"SdkHttpMetadata\":{"
        "\"AllHttpHeaders\":{\"X-Amz-Executed-Version\":[\"$LATEST\"],"
        "\"x-amzn-Remapped-Content-Length\":[\"0\"],\"Connection\":[\"keep-alive\"],"
        "\"x-amzn-RequestId\":[\"rid\"],\"Content-Length\":[\"9\"],"
        "\"Date\":[\"Tue, 06 Nov 2025 12:31:47 GMT\"],\"X-Amzn-Trace-Id\":[\"root=1\"],"
        "\"Content-Type\":[\"application/json\"]},\"HttpHeaders\":{"
        "\"X-Amz-Executed-Version\":\"$LATEST\",\"x-amzn-Remapped-Content-Length\":\"0\","
        "\"Connection\":\"keep-alive\",\"x-amzn-RequestId\":\"rid\",\"Content-Length\":\"9\","
        "\"Date\":\"Tue, 06 Nov 2025 12:31:47 GMT\",\"X-Amzn-Trace-Id\":\"root=1\","
        "\"Content-Type\":\"application/json\"},\"HttpStatusCode\":200},"
        "\"SdkResponseMetadata\":{\"RequestId\":\"rid\"},\"StatusCode\":200}",
        0, NULL);
    assert_non_null(want);
    assert_true(json_equal(e, want));
    json_decref(want);
    json_decref(e);

    /* Event: 202 and an empty Payload */
    e = fn_integ__envelope(NULL, 202, "rid", "d", "t");
    assert_string_equal(json_string_value(json_object_get(e, "Payload")), "");
    assert_int_equal(json_integer_value(json_object_get(e, "StatusCode")), 202);
    assert_null(json_object_get(e, "ExecutedVersion"));
    json_decref(e);

    /* Tail: LogResult is the log's base64 */
    fn_result t = {.payload = "null", .payload_len = 4, .log_tail = "START\n"};
    e = fn_integ__envelope(&t, 200, "rid", "d", "t");
    assert_string_equal(json_string_value(json_object_get(e, "LogResult")), "U1RBUlQK");
    assert_true(json_is_null(json_object_get(e, "Payload")));
    json_decref(e);
}

static void test_parse_payload(void **state)
{
    (void)state;
    json_t *v = fn_integ__parse_payload("\"s\"", 3);
    assert_string_equal(json_string_value(v), "s");
    json_decref(v);
    v = fn_integ__parse_payload("0.0", 3);
    assert_true(json_is_real(v));
    json_decref(v);
    v = fn_integ__parse_payload("not json", 8);
    assert_string_equal(json_string_value(v), "not json");
    json_decref(v);
}

static void test_failure(void **state)
{
    (void)state;
    char *error, *cause;
    fn_result ok = {.payload = "1", .payload_len = 1};
    assert_false(fn_integ__failure(&ok, "rid", &error, &cause));

    const char *body = "{\"errorMessage\":\"boom\",\"errorType\":\"CustomException\"}";
    fn_result fe = {.payload = body,
                    .payload_len = strlen(body),
                    .function_error = true,
                    .error_type = "CustomException"};
    assert_true(fn_integ__failure(&fe, "rid", &error, &cause));
    assert_string_equal(error, "CustomException");
    assert_string_equal(cause, body);
    free(error);
    free(cause);

    const char *spaced = "{\"errorMessage\": \"boom \\u00e9/\", \"errorType\": \"E\", "
                         "\"stackTrace\": [\"  File \\\"h.py\\\"\"]}";
    fn_result sp = {.payload = spaced,
                    .payload_len = strlen(spaced),
                    .function_error = true,
                    .error_type = "E"};
    assert_true(fn_integ__failure(&sp, "rid", &error, &cause));
    assert_string_equal(cause, "{\"errorMessage\":\"boom \xc3\xa9/\",\"errorType\":\"E\","
                               "\"stackTrace\":[\"  File \\\"h.py\\\"\"]}");
    free(error);
    free(cause);

    fn_result text = {.payload = "not json", .payload_len = 8, .function_error = true};
    assert_true(fn_integ__failure(&text, "rid", &error, &cause));
    assert_string_equal(cause, "not json");
    free(error);
    free(cause);

    fn_result unknown = {.payload = "{}", .payload_len = 2, .function_error = true};
    assert_true(fn_integ__failure(&unknown, "rid", &error, &cause));
    assert_string_equal(error, "Lambda.Unknown");
    assert_string_equal(cause, "{}");
    free(error);
    free(cause);

    fn_result api = {.api_status = 404,
                     .api_error = "ResourceNotFoundException",
                     .api_message = "Function not found: "
                                    "arn:aws:lambda:us-east-1:111111111111:function:nope"};
    assert_true(fn_integ__failure(&api, "rid", &error, &cause));
    assert_string_equal(error, "Lambda.ResourceNotFoundException");
    assert_string_equal(cause, "Function not found: arn:aws:lambda:us-east-1:111111111111:"
                               "function:nope (Service: AWSLambda; Status Code: 404; Error Code: "
                               "ResourceNotFoundException; Request ID: rid; Proxy: null)");
    free(error);
    free(cause);

    fn_result throttle = {.api_status = 429,
                          .api_error = "TooManyRequestsException",
                          .api_message = "Rate Exceeded.",
                          .request_id = "r2"};
    assert_true(fn_integ__failure(&throttle, "rid", &error, &cause));
    assert_string_equal(error, "Lambda.TooManyRequestsException");
    assert_non_null(strstr(cause, "Status Code: 429; Error Code: TooManyRequestsException; "
                                  "Request ID: r2;"));
    free(error);
    free(cause);
}

static void test_too_large(void **state)
{
    (void)state;
    char *error = NULL, *cause = NULL;
    json_t *small = json_string("fits");
    assert_false(fn_integ__too_large(FN_INTEG_INVOKE, "f", small, &error, &cause));
    json_decref(small);
    char *text = bt_xmalloc(257 * 1024 + 1);
    memset(text, 'a', 257 * 1024);
    text[257 * 1024] = 0;
    json_t *big = json_string(text);
    assert_true(fn_integ__too_large(FN_INTEG_INVOKE, "f", big, &error, &cause));
    assert_string_equal(error, "States.DataLimitExceeded");
    assert_string_equal(cause, "The state/task 'lambda' returned a result with a size exceeding "
                               "the maximum number of bytes service limit.");
    free(error);
    free(cause);
    const char *arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
    assert_true(fn_integ__too_large(FN_INTEG_LEGACY, arn, big, &error, &cause));
    assert_string_equal(cause, "The state/task 'arn:aws:lambda:us-east-1:123456789012:function:f' "
                               "returned a result with a size exceeding the maximum number of "
                               "bytes service limit.");
    free(error);
    free(cause);
    json_decref(big);
    free(text);
}

static void test_http_date(void **state)
{
    (void)state;
    char d[40];
    fn_integ__http_date(1762432307000, d);
    assert_string_equal(d, "Thu, 06 Nov 2025 12:31:47 GMT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind),      cmocka_unit_test(test_decode),
        cmocka_unit_test(test_envelope),  cmocka_unit_test(test_parse_payload),
        cmocka_unit_test(test_failure),   cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
