/*
 * route_test.c — the route table (literal over templated paths, methods, ANY, confirm
 * routes reaching GET/HEAD/POST, path parameters, a replace while a match holds its set),
 * the proxy response contract (API Gateway's recorded cases), and the nonces (bound to
 * path and query, expiring, forged ones refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "route/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static route_table *table(void)
{
    route_table *t = route_table_new();
    route_set *s = route_set_new();
    const route_def defs[] = {
        {.method = "GET", .path = "/verification", .function = "verify"},
        {.method = "ANY", .path = "/things/{id}", .function = "things", .proxy = true},
        {.method = "GET", .path = "/things/special", .function = "special"},
        {.method = "POST", .path = "/files/{rest+}", .function = "files"},
        {.method = "GET", .path = "/approve", .function = "approve", .confirm = true},
        {.method = "GET",
         .path = "/t",
         .function = "tpl",
         .template_text = "{\"a\":\"$input.params('a')\"}"},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        assert_int_equal(route_set_add(s, &defs[i], NULL), 0);
    bt_err err = {0};
    route_def bad = {.method = "GET", .path = "/bad", .function = "f", .template_text = "#if("};
    assert_int_equal(route_set_add(s, &bad, &err), BT_EINVAL);
    assert_int_equal(route_set_len(s), 6);
    route_table_replace(t, s);
    return t;
}

static void test_find(void **state)
{
    (void)state;
    route_table *t = table();
    route_match m;
    assert_int_equal(route_find(t, "GET", "/verification", &m), ROUTE_FOUND);
    assert_string_equal(route_function(m.r), "verify");
    assert_int_equal(m.n_params, 0);
    route_match_fini(&m);
    assert_int_equal(route_find(t, "POST", "/verification", &m), ROUTE_NO_METHOD);
    assert_int_equal(route_find(t, "GET", "/verification/", &m), ROUTE_NONE);
    assert_int_equal(route_find(t, "GET", "/nowhere", &m), ROUTE_NONE);

    assert_int_equal(route_find(t, "DELETE", "/things/42", &m), ROUTE_FOUND);
    assert_string_equal(route_function(m.r), "things");
    assert_true(route_proxy(m.r));
    assert_string_equal(route_path(m.r), "/things/{id}");
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0].name, "id");
    assert_string_equal(m.params[0].value, "42");
    route_match_fini(&m);
    /* A literal path wins over a template, whatever their order in the file. */
    assert_int_equal(route_find(t, "GET", "/things/special", &m), ROUTE_FOUND);
    assert_string_equal(route_function(m.r), "special");
    route_match_fini(&m);
    assert_int_equal(route_find(t, "GET", "/things/", &m), ROUTE_NONE);
    assert_int_equal(route_find(t, "GET", "/things/a/b", &m), ROUTE_NONE);

    assert_int_equal(route_find(t, "POST", "/files/a/b/c.txt", &m), ROUTE_FOUND);
    assert_string_equal(m.params[0].name, "rest");
    assert_string_equal(m.params[0].value, "a/b/c.txt");
    route_match_fini(&m);

    /* A confirm route takes its page's GET and HEAD and its form's POST. */
    const char *methods[] = {"GET", "HEAD", "POST"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(route_find(t, methods[i], "/approve", &m), ROUTE_FOUND);
        assert_true(route_confirm(m.r));
        route_match_fini(&m);
    }
    assert_int_equal(route_find(t, "PUT", "/approve", &m), ROUTE_NO_METHOD);

    /* A match keeps its routes across a replace. */
    assert_int_equal(route_find(t, "GET", "/verification", &m), ROUTE_FOUND);
    route_table_replace(t, route_set_new());
    assert_string_equal(route_function(m.r), "verify");
    route_match_fini(&m);
    assert_int_equal(route_find(t, "GET", "/verification", &m), ROUTE_NONE);
    route_table_free(t);
}

static int proxy(const char *payload, route_response *r)
{
    return route_proxy_response(payload, strlen(payload), r);
}

static void test_proxy_response(void **state)
{
    (void)state;
    route_response r;
    assert_int_equal(proxy("{\"statusCode\":200}", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    assert_null(r.headers[0]);
    route_response_fini(&r);
    assert_int_equal(proxy("{\"statusCode\":\"201\",\"body\":\"x\"}", &r), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "x");
    route_response_fini(&r);
    assert_int_equal(proxy("{\"headers\":{\"test-header\":\"value\",\"b\":true}}", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.headers[0], "test-header");
    assert_string_equal(r.headers[1], "value");
    assert_string_equal(r.headers[2], "b");
    assert_string_equal(r.headers[3], "true");
    route_response_fini(&r);
    assert_int_equal(proxy("{\"headers\":{\"x-h\":\"value-solo\"},"
                           "\"multiValueHeaders\":{\"X-H\":[\"value-multi\"]}}",
                           &r),
                     0);
    assert_string_equal(r.headers[0], "X-H");
    assert_string_equal(r.headers[1], "value-multi, value-solo");
    assert_null(r.headers[2]);
    route_response_fini(&r);
    const char *bad[] = {"{}",
                         "\"justAString\"",
                         "{\"statusCode\":\"test\"}",
                         "{\"statusCode\":200,\"wrongValue\":\"value\"}",
                         "{\"multiValueHeaders\":{\"x\":\"v\"}}",
                         "{\"statusCode\":200,\"body\":{\"a\":1}}",
                         "{\"statusCode\":99}",
                         "not json",
                         "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proxy(bad[i], &r), BT_EINVAL);
}

static void test_nonce(void **state)
{
    (void)state;
    route_table *t = route_table_new();
    char n[ROUTE_NONCE_LEN];
    route_nonce_make(t, "/approve", "token=a", 1000, n);
    int64_t exp = 0;
    assert_true(route_nonce_check(t, n, "/approve", "token=a", 2000, &exp));
    assert_int_equal(exp, 1000 + ROUTE_NONCE_TTL_MS);
    assert_false(route_nonce_check(t, n, "/approve", "token=b", 2000, &exp));
    assert_false(route_nonce_check(t, n, "/other", "token=a", 2000, &exp));
    exp = 0;
    assert_false(route_nonce_check(t, n, "/approve", "token=a", 1000 + ROUTE_NONCE_TTL_MS, &exp));
    assert_int_equal(exp, 1000 + ROUTE_NONCE_TTL_MS); /* expired, and says when */
    /* A later expiry with the old signature: refused. */
    char forged[ROUTE_NONCE_LEN + 1];
    snprintf(forged, sizeof forged, "9%s", n);
    exp = 0;
    assert_false(route_nonce_check(t, forged, "/approve", "token=a", 2000, &exp));
    assert_int_equal(exp, 0);
    assert_false(route_nonce_check(t, "", "/approve", "token=a", 2000, &exp));
    assert_false(route_nonce_check(t, NULL, "/approve", "token=a", 2000, &exp));
    /* Another process's (another secret's) nonce: refused. */
    route_table *t2 = route_table_new();
    assert_false(route_nonce_check(t2, n, "/approve", "token=a", 2000, &exp));
    route_table_free(t2);
    route_table_free(t);
}

/* The data folder's key: a table loaded from the same folder (a restart) accepts the nonce;
 * one of another folder does not. */
static void test_nonce_key(void **state)
{
    (void)state;
    char dir[] = "/tmp/route-test-XXXXXX", other[] = "/tmp/route-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(other));
    bt_err err = {0};
    route_table *t = route_table_new();
    assert_int_equal(route_table_load_key(t, dir, &err), 0);
    char n[ROUTE_NONCE_LEN];
    route_nonce_make(t, "/approve", "token=a", 1000, n);
    route_table_free(t);
    int64_t exp = 0;
    route_table *again = route_table_new();
    assert_int_equal(route_table_load_key(again, dir, &err), 0);
    assert_true(route_nonce_check(again, n, "/approve", "token=a", 2000, &exp));
    assert_int_equal(exp, 1000 + ROUTE_NONCE_TTL_MS);
    route_table *elsewhere = route_table_new();
    assert_int_equal(route_table_load_key(elsewhere, other, &err), 0);
    assert_false(route_nonce_check(elsewhere, n, "/approve", "token=a", 2000, &exp));
    route_table_free(again);
    route_table_free(elsewhere);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, other);
    assert_int_equal(system(cmd), 0);
}

static void test_events(void **state)
{
    (void)state;
    route_table *t = table();
    route_match m;
    assert_int_equal(route_find(t, "GET", "/t", &m), ROUTE_FOUND);
    vtl_param *qp;
    size_t nq = vtl_parse_query("a=x%2By", &qp);
    route_request q = {.method = "GET",
                       .path = "/t",
                       .query = "a=x%2By",
                       .query_params = qp,
                       .n_query = nq,
                       .source_ip = "127.0.0.1",
                       .request_id = "rid",
                       .now_ms = 1583349317000,
                       .account = "123456789012"};
    bt_buf b;
    bt_buf_init(&b);
    assert_int_equal(route_event(m.r, &q, &b, NULL), 0);
    bt_buf_putc(&b, '\0');
    assert_string_equal(b.data, "{\"a\":\"x+y\"}");
    route_match_fini(&m);

    /* Passthrough: the body, or {} when there is none. */
    assert_int_equal(route_find(t, "GET", "/verification", &m), ROUTE_FOUND);
    bt_buf_reset(&b);
    assert_int_equal(route_event(m.r, &q, &b, NULL), 0);
    bt_buf_putc(&b, '\0');
    assert_string_equal(b.data, "{}");
    q.body = "[1]";
    q.body_len = 3;
    bt_buf_reset(&b);
    assert_int_equal(route_event(m.r, &q, &b, NULL), 0);
    bt_buf_putc(&b, '\0');
    assert_string_equal(b.data, "[1]");
    route_match_fini(&m);

    /* Proxy: absent maps are null; the time as API Gateway writes it. */
    assert_int_equal(route_find(t, "GET", "/things/9", &m), ROUTE_FOUND);
    q.path = "/things/9";
    q.query_params = NULL;
    q.n_query = 0;
    q.body = NULL;
    q.body_len = 0;
    q.path_params = m.params;
    q.n_path = m.n_params;
    bt_buf_reset(&b);
    assert_int_equal(route_event(m.r, &q, &b, NULL), 0);
    bt_buf_putc(&b, '\0');
    assert_non_null(strstr(b.data, "\"resource\":\"/things/{id}\",\"path\":\"/things/9\","
                                   "\"httpMethod\":\"GET\",\"headers\":null,"
                                   "\"multiValueHeaders\":null,\"queryStringParameters\":null,"
                                   "\"multiValueQueryStringParameters\":null,"
                                   "\"pathParameters\":{\"id\":\"9\"},\"stageVariables\":null"));
    assert_non_null(strstr(b.data, "\"requestTime\":\"04/Mar/2020:19:15:17 +0000\","
                                   "\"requestTimeEpoch\":1583349317000"));
    assert_non_null(strstr(b.data, "\"body\":null,\"isBase64Encoded\":false}"));
    route_match_fini(&m);
    bt_buf_fini(&b);
    vtl_params_free(qp, nq);
    route_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),   cmocka_unit_test(test_proxy_response),
        cmocka_unit_test(test_nonce),  cmocka_unit_test(test_nonce_key),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
