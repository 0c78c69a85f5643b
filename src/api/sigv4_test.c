/*
 * sigv4_test.c — SigV4 (sigv4.h) against signatures other implementations made: requests
 * signed with botocore's SigV4Auth (botocore 1.43, AWSRequest with fixed credentials and its
 * clock fixed at 2026-12-01T12:00:00Z; the Authorization values below are what it produced)
 * and the IAM ListUsers example of AWS's SigV4 documentation. Then each way a request can
 * fail, with AWS's words, a sign→verify round trip, and the credentials file.
 */
#include "api/sigv4.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define AKID      "AKIAIOSFODNN7EXAMPLE"
#define SECRET    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define NOW_MS    1796126400000LL /* 2026-12-01T12:00:00Z */
#define MINUTE_MS 60000LL

typedef struct vector {
    const char *name;
    const char *method;
    const char *path;
    const char *query;
    const char *headers[16]; /* name, value, …, NULL; values as an HTTP layer hands them */
    const char *body;
} vector;

/* Authorization and X-Amz-Date are in headers; every vector also has a Host. */
static const vector vectors[] = {
    {"states_json",
     "POST",
     "/",
     "",
     {"Host", "127.0.0.1:8083", "Content-Type", "application/x-amz-json-1.0", "X-Amz-Target",
      "AWSStepFunctions.StartExecution", "X-Amz-Date", "20261201T120000Z", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature=5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
      NULL},
     "{\"stateMachineArn\":\"arn:aws:states:us-east-1:123456789012:stateMachine:hello\","
     "\"input\":\"{}\"}"},
    {"sqs_query",
     "POST",
     "/123456789012/my-queue",
     "",
     {"Host", "localhost:8083", "Content-Type", "application/x-www-form-urlencoded; charset=utf-8",
      "X-Amz-Date", "20261201T120000Z", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/sqs/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, "
      "Signature=e920b726576785a250eb002d0126c1bf455533701e6aee91ece955897c8022c1",
      NULL},
     "Action=SendMessage&MessageBody=hello%20world&Version=2012-11-05"},
    /* spaces as "+", UTF-8, a repeated key, an empty value, reserved characters */
    {"get_query",
     "GET",
     "/",
     "b=two+words&a=caf%C3%A9&a=1&empty=&x~y=a%2Bb%2Fc%2A",
     {"Host", "localhost:8083", "X-Amz-Date", "20261201T120000Z", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/sqs/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=b29c479b5716c0916b5962af4981d10dd4d6c644680d62b6d39753cde58b7e77",
      NULL},
     ""},
    {"unicode_body",
     "POST",
     "/",
     "",
     {"Host", "localhost:8083", "Content-Type", "application/x-amz-json-1.0", "X-Amz-Target",
      "AWSStepFunctions.StartExecution", "X-Amz-Date", "20261201T120000Z", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature=682feca8585ad9c5f1a37d6cf5047b07255e5400d0e5deea3fa5943cd7366e8e",
      NULL},
     "{\"input\":\"{\\\"name\\\":\\\"Zo\xc3\xab \xe2\x98\x83\\\"}\"}"},
    /* dot segments and an empty segment resolved, "%20" signed as "%2520" */
    {"path_norm",
     "GET",
     "/a%20b/./c/../d//e",
     "",
     {"Host", "localhost:8083", "X-Amz-Date", "20261201T120000Z", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=096b1821b948f85babfedc3d5e2fefa2800f810cbfeb7ef19881fea78dee768b",
      NULL},
     ""},
    /* blanks collapsed, a repeated header, the payload hash given by a header */
    {"headers",
     "POST",
     "/",
     "",
     {"Host", "localhost:8083", "Content-Type", "application/x-amz-json-1.0", "X-Custom", "a   b,c",
      "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD", "X-Amz-Date", "20261201T120000Z", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-custom, "
      "Signature=7df9da587bcec90cd3a6384fb1dc1967426462a721fa8fd74b4c9db6a8167827",
      NULL},
     "{}"},
    /* a Date header instead of X-Amz-Date, in the form botocore sends it */
    {"date_header",
     "POST",
     "/",
     "",
     {"Host", "localhost:8083", "Content-Type", "application/x-amz-json-1.0", "Date",
      "Tue, 01 Dec 2026 12:00:00 -0000", "Authorization",
      "AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
      "SignedHeaders=content-type;date;host, "
      "Signature=779bb58bf7b06db3bcf12f5ac2b114df2a30932e16863c6136e53adad398d432",
      NULL},
     "{}"},
};

/* A request being verified: a vector's headers with at most one replaced or removed. */
typedef struct fake {
    const char *const *headers;
    const char *override_name;  /* NULL: none */
    const char *override_value; /* NULL: the header is absent */
} fake;

static const char *fake_header(void *ctx, const char *name)
{
    const fake *f = ctx;
    if (f->override_name != NULL && strcasecmp(f->override_name, name) == 0)
        return f->override_value;
    for (const char *const *h = f->headers; h[0]; h += 2)
        if (strcasecmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

static const char *one_key(void *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, AKID) == 0 ? SECRET : NULL;
}

static const char *wrong_secret(void *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
}

static sigv4_request request_of(const vector *v, fake *f)
{
    f->headers = v->headers;
    return (sigv4_request){v->method, v->path, v->query, fake_header, f, v->body, strlen(v->body)};
}

static sigv4_result verify_with(const vector *v, const char *name, const char *value,
                                int64_t now_ms, bt_err *err)
{
    fake f = {NULL, name, value};
    sigv4_request rq = request_of(v, &f);
    return sigv4_verify(&rq, one_key, NULL, now_ms, err);
}

static const char *header_of(const vector *v, const char *name)
{
    fake f = {v->headers, NULL, NULL};
    return fake_header(&f, name);
}

static void test_botocore_vectors_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        bt_err err;
        sigv4_result r = verify_with(&vectors[i], NULL, NULL, NOW_MS, &err);
        if (r != SIGV4_OK)
            fail_msg("%s: %d %s", vectors[i].name, r, err.msg);
        assert_int_equal(err.code, BT_OK);
    }
}

/* Baton's signer gives botocore's Authorization for the same request. */
static void test_botocore_vectors_sign(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const vector *v = &vectors[i];
        if (header_of(v, "x-amz-date") == NULL)
            continue; /* Baton signs with X-Amz-Date only */
        const char *others[16];
        size_t n = 0;
        for (const char *const *h = v->headers; h[0]; h += 2) {
            if (strcasecmp(h[0], "host") == 0 || strcasecmp(h[0], "x-amz-date") == 0 ||
                strcasecmp(h[0], "authorization") == 0)
                continue;
            if (strcmp(h[0], "X-Custom") == 0) { /* the repeated header, as sent */
                others[n++] = "X-Custom", others[n++] = "  a   b  ";
                others[n++] = "x-custom", others[n++] = "c";
                continue;
            }
            others[n++] = h[0], others[n++] = h[1];
        }
        others[n] = NULL;
        sigv4_auth scope;
        bt_err err;
        assert_int_equal(sigv4_parse(header_of(v, "authorization"), &scope, &err), 0);
        char authorization[1024], amz_date[17];
        sigv4_sign(v->method, header_of(v, "host"), v->path, v->query, others, v->body,
                   strlen(v->body), AKID, SECRET, scope.region, scope.service, NOW_MS,
                   authorization, amz_date);
        assert_string_equal(amz_date, "20261201T120000Z");
        if (strcmp(authorization, header_of(v, "authorization")) != 0)
            fail_msg("%s:\n%s\n%s", v->name, authorization, header_of(v, "authorization"));
    }
}

/* AWS's worked example: "Create a canonical request" … "Calculate the signature" for IAM
 * ListUsers (AWS General Reference, sigv4-create-canonical-request.html and
 * sigv4-calculate-signature.html), secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY. */
static const char *aws_example_key(void *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, "AKIDEXAMPLE") == 0 ? "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" : NULL;
}

static void test_aws_documented_example(void **state)
{
    (void)state;
    static const char *const headers[] = {
        "Host",
        "iam.amazonaws.com",
        "Content-Type",
        "application/x-www-form-urlencoded; charset=utf-8",
        "X-Amz-Date",
        "20150830T123600Z",
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        NULL};
    fake f = {headers, NULL, NULL};
    sigv4_request rq = {"GET", "/", "Action=ListUsers&Version=2010-05-08", fake_header, &f, "", 0};
    bt_err err;
    assert_int_equal(sigv4_verify(&rq, aws_example_key, NULL, 1440938160000LL, &err), SIGV4_OK);

    static const char *const content_type[] = {
        "Content-Type", "application/x-www-form-urlencoded; charset=utf-8", NULL};
    char authorization[1024], amz_date[17];
    sigv4_sign("GET", "iam.amazonaws.com", "/", "Action=ListUsers&Version=2010-05-08", content_type,
               "", 0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "iam",
               1440938160000LL, authorization, amz_date);
    assert_string_equal(amz_date, "20150830T123600Z");
    assert_string_equal(authorization, headers[7]);
}

static const char MISMATCH[] =
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details.";

static void test_rejects_tampering(void **state)
{
    (void)state;
    const vector *v = &vectors[0];
    bt_err err;
    /* one byte of the body */
    vector changed = *v;
    char body[256];
    snprintf(body, sizeof(body), "%s", v->body);
    body[strlen(body) - 3] = 'X';
    changed.body = body;
    assert_int_equal(verify_with(&changed, NULL, NULL, NOW_MS, &err), SIGV4_BAD_SIGNATURE);
    assert_string_equal(err.msg, MISMATCH);
    assert_int_equal(err.code, BT_EINVAL);
    /* a signed header */
    assert_int_equal(verify_with(v, "X-Amz-Target", "AWSStepFunctions.StopExecution", NOW_MS, &err),
                     SIGV4_BAD_SIGNATURE);
    assert_string_equal(err.msg, MISMATCH);
    /* the path, the method */
    changed = *v;
    changed.path = "/other";
    assert_int_equal(verify_with(&changed, NULL, NULL, NOW_MS, &err), SIGV4_BAD_SIGNATURE);
    changed = *v;
    changed.method = "PUT";
    assert_int_equal(verify_with(&changed, NULL, NULL, NOW_MS, &err), SIGV4_BAD_SIGNATURE);
    /* an unsigned header may change */
    assert_int_equal(verify_with(v, "User-Agent", "curl/8", NOW_MS, &err), SIGV4_OK);
    /* the wrong secret */
    fake f = {NULL, NULL, NULL};
    sigv4_request rq = request_of(v, &f);
    assert_int_equal(sigv4_verify(&rq, wrong_secret, NULL, NOW_MS, &err), SIGV4_BAD_SIGNATURE);
    assert_string_equal(err.msg, MISMATCH);
    /* a key nobody knows */
    assert_int_equal(verify_with(v, "Authorization",
                                 "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20261201/us-east-1/"
                                 "states/aws4_request, SignedHeaders=content-type;host;x-amz-"
                                 "date;x-amz-target, Signature=5671ebea7302dc58d443844fb6ccd9f"
                                 "68dbc24d61a6631a465617c380753d0d6",
                                 NOW_MS, &err),
                     SIGV4_UNKNOWN_KEY);
    assert_string_equal(err.msg, "The security token included in the request is invalid.");
}

static void test_clock_skew(void **state)
{
    (void)state;
    const vector *v = &vectors[0];
    bt_err err;
    assert_int_equal(verify_with(v, NULL, NULL, NOW_MS + 16 * MINUTE_MS, &err), SIGV4_EXPIRED);
    assert_string_equal(err.msg, "Signature expired: 20261201T120000Z is now earlier than "
                                 "20261201T120100Z (20261201T121600Z - 15 min.)");
    assert_int_equal(verify_with(v, NULL, NULL, NOW_MS - 16 * MINUTE_MS, &err), SIGV4_EXPIRED);
    assert_string_equal(err.msg, "Signature not yet current: 20261201T120000Z is still later "
                                 "than 20261201T115900Z (20261201T114400Z + 15 min.)");
    assert_int_equal(verify_with(v, NULL, NULL, NOW_MS + 14 * MINUTE_MS, &err), SIGV4_OK);
    assert_int_equal(verify_with(v, NULL, NULL, NOW_MS - 14 * MINUTE_MS, &err), SIGV4_OK);
    assert_int_equal(verify_with(v, NULL, NULL, NOW_MS + 15 * MINUTE_MS, &err), SIGV4_OK);
    assert_int_equal(verify_with(v, NULL, NULL, NOW_MS + 15 * MINUTE_MS + 1, &err), SIGV4_EXPIRED);
    /* the Date header's time, in either zone spelling, when there is no X-Amz-Date */
    const vector *dated = &vectors[6];
    static const char future[] = "Signature not yet current: 20261201T123000Z is still later "
                                 "than 20261201T121500Z (20261201T120000Z + 15 min.)";
    assert_int_equal(verify_with(dated, "Date", "Tue, 01 Dec 2026 12:30:00 GMT", NOW_MS, &err),
                     SIGV4_EXPIRED);
    assert_string_equal(err.msg, future);
    assert_int_equal(verify_with(dated, "Date", "Tue, 01 Dec 2026 13:30:00 +0100", NOW_MS, &err),
                     SIGV4_EXPIRED);
    assert_string_equal(err.msg, future);
    assert_int_equal(verify_with(dated, "Date", "Tue, 01 Dec 2026 12:00:00 CET", NOW_MS, &err),
                     SIGV4_INCOMPLETE);
    assert_string_equal(err.msg, "Date must be in ISO-8601 'basic format'. Got 'Tue, 01 Dec "
                                 "2026 12:00:00 CET'. See http://en.wikipedia.org/wiki/ISO_8601");
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    const vector *v = &vectors[0];
    bt_err err;
    static const struct {
        const char *authorization;
        sigv4_result result;
        const char *msg;
    } rows[] = {
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target",
         SIGV4_INCOMPLETE,
         "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 "
         "Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target"},
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/aws4_request, "
         "SignedHeaders=host, Signature="
         "5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
         SIGV4_INCOMPLETE,
         "Credential must have exactly 5 slash-delimited elements, e.g. "
         "keyid/date/region/service/term, got '" AKID "/20261201/us-east-1/aws4_request'"},
        {"AWS4-HMAC-SHA256 Credential=" AKID " /20261201/us-east-1/states/aws4_request, "
         "SignedHeaders=host, Signature="
         "5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
         SIGV4_INCOMPLETE,
         "'/20261201/us-east-1/states/aws4_request' not a valid key=value pair (missing "
         "equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=" AKID
         " /20261201/us-east-1/states/aws4_request, SignedHeaders=host, "
         "Signature=5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6'."},
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261130/us-east-1/states/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
         "Signature=5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
         SIGV4_BAD_SIGNATURE,
         "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
         "HTTP: '20261130', '20261201'."},
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
         "SignedHeaders=content-type;x-amz-date;x-amz-target, "
         "Signature=5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
         SIGV4_INCOMPLETE,
         "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
        {"Basic dXNlcjpwYXNz", SIGV4_INCOMPLETE,
         "Authorization header requires 'Credential' parameter. Authorization header requires "
         "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
         "Authorization=Basic dXNlcjpwYXNz"},
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_reques, "
         "SignedHeaders=host, Signature="
         "5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
         SIGV4_INCOMPLETE,
         "Credential should be scoped with a valid terminator: 'aws4_request', not "
         "'aws4_reques'."},
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request, "
         "SignedHeaders=host, Signature=5671EBEA",
         SIGV4_INCOMPLETE, "Signature must be 64 lower-case hexadecimal digits, got '5671EBEA'."},
        /* the compact spelling of the same header is the same signature */
        {"AWS4-HMAC-SHA256 Credential=" AKID "/20261201/us-east-1/states/aws4_request,"
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target,"
         "Signature=5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c380753d0d6",
         SIGV4_OK, ""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        sigv4_result r = verify_with(v, "Authorization", rows[i].authorization, NOW_MS, &err);
        if (r != rows[i].result || strcmp(err.msg, rows[i].msg) != 0)
            fail_msg("row %zu: %d %s", i, r, err.msg);
    }
    assert_int_equal(verify_with(v, "Authorization", NULL, NOW_MS, &err), SIGV4_MISSING);
    assert_string_equal(err.msg, "Request is missing Authentication Token");
    assert_int_equal(verify_with(v, "X-Amz-Date", NULL, NOW_MS, &err), SIGV4_INCOMPLETE);
    assert_string_equal(err.msg,
                        "Authorization header requires existence of either a 'X-Amz-Date' or a "
                        "'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=" AKID
                        "/20261201/us-east-1/states/aws4_request, "
                        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                        "Signature=5671ebea7302dc58d443844fb6ccd9f68dbc24d61a6631a465617c3807"
                        "53d0d6");
    assert_int_equal(verify_with(v, "X-Amz-Date", "2026-12-01T12:00:00Z", NOW_MS, &err),
                     SIGV4_INCOMPLETE);
    assert_string_equal(err.msg, "Date must be in ISO-8601 'basic format'. Got "
                                 "'2026-12-01T12:00:00Z'. See http://en.wikipedia.org/wiki/"
                                 "ISO_8601");
}

static void test_parse(void **state)
{
    (void)state;
    sigv4_auth a;
    bt_err err;
    assert_int_equal(sigv4_parse(header_of(&vectors[1], "authorization"), &a, &err), 0);
    assert_string_equal(a.access_key, AKID);
    assert_string_equal(a.date, "20261201");
    assert_string_equal(a.region, "us-east-1");
    assert_string_equal(a.service, "sqs");
    assert_string_equal(a.signed_headers, "content-type;host;x-amz-date");
    assert_string_equal(a.signature,
                        "e920b726576785a250eb002d0126c1bf455533701e6aee91ece955897c8022c1");
    assert_int_equal(sigv4_parse("AWS4-HMAC-SHA256", &a, &err), BT_EINVAL);
    assert_string_equal(err.msg,
                        "Authorization header requires 'Credential' parameter. Authorization "
                        "header requires 'Signature' parameter. Authorization header requires "
                        "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256");
    assert_int_equal(sigv4_parse("AWS4-HMAC-SHA256 Signature=a, Signature=b", &a, &err), BT_EINVAL);
    assert_string_equal(err.msg, "Authorization header has 'Signature' more than once: "
                                 "'AWS4-HMAC-SHA256 Signature=a, Signature=b'.");
    /* another scheme's name is not a prefix of this one */
    assert_int_equal(sigv4_parse("AWS4-HMAC-SHA256X Credential=a/b/c/d/aws4_request", &a, &err),
                     BT_EINVAL);
}

static void test_error_types(void **state)
{
    (void)state;
    static const struct {
        sigv4_result r;
        const char *json, *query;
        int json_status, query_status;
    } rows[] = {
        {SIGV4_MISSING, "MissingAuthenticationTokenException", "MissingAuthenticationToken", 400,
         403},
        {SIGV4_INCOMPLETE, "IncompleteSignatureException", "IncompleteSignature", 400, 400},
        {SIGV4_UNKNOWN_KEY, "UnrecognizedClientException", "InvalidClientTokenId", 400, 403},
        {SIGV4_BAD_SIGNATURE, "InvalidSignatureException", "SignatureDoesNotMatch", 400, 403},
        {SIGV4_EXPIRED, "InvalidSignatureException", "SignatureDoesNotMatch", 400, 403},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_string_equal(sigv4_error_type(rows[i].r, false), rows[i].json);
        assert_string_equal(sigv4_error_type(rows[i].r, true), rows[i].query);
        assert_int_equal(sigv4_http_status(rows[i].r, false), rows[i].json_status);
        assert_int_equal(sigv4_http_status(rows[i].r, true), rows[i].query_status);
    }
    assert_null(sigv4_error_type(SIGV4_OK, false));
    assert_int_equal(sigv4_http_status(SIGV4_OK, true), 200);
}

static void test_sign_verify_round_trip(void **state)
{
    (void)state;
    static const char *const extra[] = {"Content-Type", "application/x-amz-json-1.0",
                                        "X-Amz-Target", "AWSStepFunctions.ListStateMachines", NULL};
    const char *body = "{\"maxResults\":10}";
    int64_t now = NOW_MS + 123456; /* not on a second: the date drops the milliseconds */
    char authorization[1024], amz_date[17];
    sigv4_sign("POST", "baton.local:9000", "/q/x%2Fy", "z=%7E&a=b c", extra, body, strlen(body),
               AKID, SECRET, "eu-west-3", "states", now, authorization, amz_date);
    assert_string_equal(amz_date, "20261201T120203Z");
    const char *headers[] = {"Host",          "baton.local:9000", "X-Amz-Date", amz_date,
                             "Authorization", authorization,      extra[0],     extra[1],
                             extra[2],        extra[3],           NULL};
    fake f = {headers, NULL, NULL};
    sigv4_request rq = {"POST", "/q/x%2Fy", "z=%7E&a=b c", fake_header, &f, body, strlen(body)};
    bt_err err;
    assert_int_equal(sigv4_verify(&rq, one_key, NULL, now + 60000, &err), SIGV4_OK);
    sigv4_auth a;
    assert_int_equal(sigv4_parse(authorization, &a, &err), 0);
    assert_string_equal(a.region, "eu-west-3");
    assert_string_equal(a.signed_headers, "content-type;host;x-amz-date;x-amz-target");
    f.override_name = "Host";
    f.override_value = "evil.example:9000";
    assert_int_equal(sigv4_verify(&rq, one_key, NULL, now, &err), SIGV4_BAD_SIGNATURE);
}

/* --- credentials file --------------------------------------------------------------------- */

static char *write_keys(const char *text, mode_t mode)
{
    char *path = strdup("/tmp/sigv4_test_keys_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void test_keys_file(void **state)
{
    (void)state;
    char *path = write_keys("# Baton's keys\n"
                            "\n"
                            "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
                            "   \t\n"
                            "  dev_key\t\tsecret+with/slashes==  \r\n",
                            0600);
    bt_err err;
    sigv4_keys *k = sigv4_keys_load(path, &err);
    assert_non_null(k);
    assert_string_equal(sigv4_keys_lookup(k, AKID), SECRET);
    assert_string_equal(sigv4_keys_lookup(k, "dev_key"), "secret+with/slashes==");
    assert_null(sigv4_keys_lookup(k, "AKIAIOSFODNN7EXAMPL"));
    assert_null(sigv4_keys_lookup(k, "nobody"));
    sigv4_keys_free(k);
    sigv4_keys_free(NULL);
    unlink(path);
    free(path);
}

static void test_keys_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        mode_t mode;
        const char *msg; /* after "<path>" */
    } rows[] = {
        {"# one\nAKID SECRET\nAKID2 SECRET extra\n", 0600,
         ":3: expected `ACCESS_KEY SECRET` (two fields separated by blanks)"},
        {"AKID\n", 0600, ":1: expected `ACCESS_KEY SECRET` (two fields separated by blanks)"},
        {"AK/ID SECRET\n", 0600, ":1: the access key must be 1 to 128 letters, digits or '_'"},
        {"AKID S\x01"
         "CRET\n",
         0600, ":1: the secret holds a control character"},
        {"AKID one\n\nAKID two\n", 0600, ":3: access key AKID is already on line 1"},
        {"AKID SECRET\n", 0640, ": permissions 640 let others use the secrets; chmod 600 it"},
        {"AKID SECRET\n", 0604, ": permissions 604 let others use the secrets; chmod 600 it"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *path = write_keys(rows[i].text, rows[i].mode);
        bt_err err;
        assert_null(sigv4_keys_load(path, &err));
        char want[512];
        snprintf(want, sizeof(want), "%s%s", path, rows[i].msg);
        if (strcmp(err.msg, want) != 0)
            fail_msg("row %zu: %s", i, err.msg);
        assert_int_equal(err.code, BT_EINVAL);
        unlink(path);
        free(path);
    }
    bt_err err;
    assert_null(sigv4_keys_load("/nonexistent/keys", &err));
    assert_string_equal(err.msg, "/nonexistent/keys: No such file or directory");
    assert_int_equal(err.code, BT_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_vectors_verify),
        cmocka_unit_test(test_botocore_vectors_sign),
        cmocka_unit_test(test_aws_documented_example),
        cmocka_unit_test(test_rejects_tampering),
        cmocka_unit_test(test_clock_skew),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_error_types),
        cmocka_unit_test(test_sign_verify_round_trip),
        cmocka_unit_test(test_keys_file),
        cmocka_unit_test(test_keys_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
