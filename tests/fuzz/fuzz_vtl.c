/*
 * fuzz_vtl.c — libFuzzer target for vtl/: compiles arbitrary text as a mapping template
 * and renders what compiles against a fixed request (JSON body, query, headers, context)
 * under small bounds. Checks the contract: a failed compile or render sets a message, a
 * render never exceeds its output bound, and everything is freed.
 */
#include "base/buf.h"
#include "base/err.h"
#include "vtl/vtl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *BODY =
    "{\"a\": {\"b\": [1, 2.5, {\"c\": \"x\"}], \"d\": null}, \"s\": \"it's \\\"q\\\"\","
    " \"items\": [{\"id\": 1}, {\"id\": 2}], \"j\": \"{\\\"k\\\": [1]}\"}";
static const vtl_param QUERY[] = {{"requestId", "r1"}, {"token", "a+b"}};
static const vtl_param HEADERS[] = {{"Content-Type", "application/json"}, {"X-A", "1"}};
static const vtl_param PATHS[] = {{"id", "abc"}};
static const vtl_param STAGE[] = {{"env", "prod"}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    vtl_template *t = NULL;
    bt_err err;
    int rc = vtl_compile(text, &t, &err);
    if (rc != 0) {
        if (t != NULL || err.msg[0] == '\0' || (rc != BT_EINVAL && rc != BT_ELIMIT))
            abort();
        free(text);
        return 0;
    }
    vtl_request req = {
        .body = BODY,
        .body_len = strlen(BODY),
        .query = {QUERY, 2},
        .header = {HEADERS, 2},
        .path = {PATHS, 1},
        .stage_variables = {STAGE, 1},
        .request_id = "req-1",
        .http_method = "POST",
        .resource_path = "/things/{id}",
        .source_ip = "127.0.0.1",
        .user_agent = "fuzz",
    };
    vtl_limits limits = {.max_output = 65536, .max_iterations = 2000, .max_steps = 200000};
    bt_buf out;
    bt_buf_init(&out);
    rc = vtl_render_limited(t, &req, &limits, &out, &err);
    if (rc != 0 && (err.msg[0] == '\0' || (rc != BT_EINVAL && rc != BT_ELIMIT)))
        abort();
    if (rc == 0 && out.len > limits.max_output)
        abort();
    bt_buf_fini(&out);
    vtl_free(t);
    free(text);
    return 0;
}
