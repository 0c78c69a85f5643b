/*
 * url_rt.c — the url runtime: the event POSTed to the function's URL through libcurl's multi
 * interface on the engine thread's loop (http/curl_uv.h). No thread, no blocking call.
 *
 * Outcomes (names chosen to read like Lambda's platform errors):
 *   2xx without X-Amz-Function-Error           the body is the result (empty: null)
 *   X-Amz-Function-Error, or a status not 2xx  a function error: the body when it is a JSON
 *                                              object with errorType, else Function.HttpError
 *                                              "HTTP <status> from <url>"
 *   no answer within the function's timeout     Sandbox.Timedout
 *   cannot connect, or the exchange breaks      Function.ConnectionError (curl's reason)
 *   a body above FN_RESPONSE_MAX                Function.ResponseSizeTooLarge
 */
#include "fn/fn_int.h"

#include "base/alloc.h"
#include "http/curl_uv.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fn_url {
    http_curl *curl;
};

typedef struct url_req {
    fn_inv *inv; /* NULL once let go */
    CURL *easy;
    struct curl_slist *headers;
    bt_buf body;
    char *url;
    bool has_error_header, is_too_large;
    char errbuf[CURL_ERROR_SIZE];
} url_req;

static void req_free(url_req *r)
{
    curl_slist_free_all(r->headers);
    curl_easy_cleanup(r->easy);
    bt_buf_fini(&r->body);
    free(r->url);
    free(r);
}

static void complete(url_req *r, CURLcode code)
{
    fn_inv *inv = r->inv;
    if (inv == NULL)
        return;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    const char *body = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    if (r->is_too_large) {
        fn__set_error(inv, "Function.ResponseSizeTooLarge",
                      "Response payload size exceeded maximum allowed payload size (%d bytes).",
                      FN_RESPONSE_MAX);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        fn__timed_out(inv);
    } else if (code != CURLE_OK) {
        fn__set_error(inv, "Function.ConnectionError", "RequestId: %s Error: %s: %s",
                      inv->request_id, r->url, r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
    } else if (status >= 200 && status < 300 && !r->has_error_header) {
        if (len == 0)
            fn__set_result(inv, "null", 4);
        else
            fn__set_result(inv, body, len);
    } else {
        char *type = len ? fn__error_type_of(body, len) : NULL;
        if (type) {
            fn__set_result(inv, body, len);
            inv->function_error = true;
            inv->error_type = type;
        } else {
            fn__set_error(inv, "Function.HttpError", "HTTP %ld from %s", status, r->url);
        }
    }
    r->inv = NULL;
    inv->proc = NULL;
    fn__finish(inv);
}

static void transfer_done(void *ctx, CURL *easy, CURLcode code)
{
    (void)easy;
    url_req *r = ctx;
    complete(r, code);
    req_free(r);
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    url_req *r = ud;
    size_t len = size * n;
    if (r->body.len + len > FN_RESPONSE_MAX) {
        r->is_too_large = true;
        return 0;
    }
    bt_buf_append(&r->body, data, len);
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    url_req *r = ud;
    size_t len = size * n;
    static const char name[] = "X-Amz-Function-Error:";
    if (len >= sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0)
        r->has_error_header = true;
    return len;
}

static fn_url *url_state(fn_service *fs)
{
    if (fs->url)
        return fs->url;
    fn_url *u = bt_xcalloc(1, sizeof *u);
    u->curl = http_curl_new(server_loop(fs->srv));
    fs->url = u;
    return u;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
    char *line = bt_xasprintf("%s: %s", name, value);
    h = curl_slist_append(h, line);
    free(line);
    return h;
}

int fn__url_run(fn_inv *inv)
{
    fn_url *u = url_state(inv->fs);
    const fn_config *c = &inv->fn->info.cfg;
    url_req *r = bt_xcalloc(1, sizeof *r);
    bt_buf_init(&r->body);
    r->url = bt_xstrdup(c->url);
    r->easy = curl_easy_init();
    r->headers = add_header(NULL, "Content-Type", "application/json");
    r->headers = add_header(r->headers, "Lambda-Runtime-Aws-Request-Id", inv->request_id);
    char deadline[32];
    snprintf(deadline, sizeof deadline, "%lld", (long long)inv->deadline_ms);
    r->headers = add_header(r->headers, "Lambda-Runtime-Deadline-Ms", deadline);
    r->headers = add_header(r->headers, "Lambda-Runtime-Invoked-Function-Arn",
                            inv->invoked_arn ? inv->invoked_arn : inv->fn->info.arn);
    if (inv->client_context && inv->client_context[0])
        r->headers = add_header(r->headers, "Lambda-Runtime-Client-Context", inv->client_context);
    r->headers = curl_slist_append(r->headers, "Expect:");
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, inv->payload);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)inv->payload_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_s * 1000L);
    r->inv = inv;
    inv->proc = r;
    /* The payload stays with the invocation until it ends; curl reads it in place. A
     * handle curl refuses ends at once, inside http_curl_add. */
    http_curl_add(u->curl, e, transfer_done, r);
    return 0;
}

void fn__url_abandon(fn_inv *inv)
{
    url_req *r = inv->proc;
    if (r == NULL || r->inv != inv || inv->fs->url == NULL)
        return;
    r->inv = NULL;
    inv->proc = NULL;
    http_curl_remove(inv->fs->url->curl, r->easy);
    req_free(r);
}

void fn__url_fini(fn_service *fs)
{
    fn_url *u = fs->url;
    if (u == NULL)
        return;
    fs->url = NULL;
    http_curl_free(u->curl);
    free(u);
}
