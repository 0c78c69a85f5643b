/*
 * cli_http.c — the verbs' HTTP requests to Baton's own endpoints (logs, Invoke, the outbox,
 * approvals), where the AWS client of client.c does not apply. Signed as client.c's are
 * (cli_sign.c), so they pass a server that runs with --credentials.
 */
#include "base/alloc.h"
#include "cli/cli.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    bt_buf_append(ud, p, size * n);
    return size * n;
}

static size_t header_line(char *p, size_t size, size_t n, void *ud)
{
    cli_http_answer *a = ud;
    if (size * n >= 21 && strncasecmp(p, "X-Amz-Function-Error:", 21) == 0)
        a->function_error = true;
    return size * n;
}

/* Whether an answer is the router's refusal of a signature (api/sigv4.c's error types). */
static bool refused_signature(const bt_buf *b)
{
    static const char *const types[] = {"MissingAuthenticationToken", "IncompleteSignature",
                                        "InvalidClientTokenId",       "UnrecognizedClient",
                                        "SignatureDoesNotMatch",      "InvalidSignature"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i]);
        for (size_t at = 0; b->data && at + n <= b->len; at++)
            if (memcmp(b->data + at, types[i], n) == 0)
                return true;
    }
    return false;
}

char *cli_url(const char *endpoint, const char *path)
{
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    return bt_xasprintf("%.*s%s", (int)n, endpoint, path);
}

int cli_http(const char *url, const char *body, long timeout_s, cli_http_answer *a)
{
    CURL *h = curl_easy_init();
    bt_buf_init(&a->body);
    a->status = 0;
    a->function_error = false;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    if (timeout_s > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    struct curl_slist *headers = NULL;
    const char *const json_headers[] = {"content-type", "application/json", NULL};
    /* Lambda's paths are signed for "lambda", as its SDKs sign; Baton's own for "baton". */
    const char *service = strstr(url, "/2015-03-31/") ? "lambda" : "baton";
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    headers = cli_sign(headers, body ? "POST" : "GET", url, body ? json_headers : NULL, body,
                       cli_region(), service);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "\nCould not connect to the endpoint URL: \"%s\" (%s)\n", url,
                curl_easy_strerror(rc));
        bt_buf_fini(&a->body);
        return EXIT_NO_ANSWER;
    }
    if ((a->status == 400 || a->status == 403) && refused_signature(&a->body)) {
        if (cli_have_keys())
            fprintf(stderr,
                    "\nThe server refused the signature: AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY are not one of the keys of its --credentials file\n");
        else
            fprintf(stderr, "\nThe server requires signed requests (it runs with --credentials): "
                            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to one of its keys\n");
        bt_buf_fini(&a->body);
        return EXIT_SERVICE;
    }
    if (a->status != 200) {
        fprintf(stderr, "\nAn error occurred (HTTP %ld): %.*s\n", a->status, (int)a->body.len,
                a->body.data ? a->body.data : "");
        bt_buf_fini(&a->body);
        return EXIT_SERVICE;
    }
    return EXIT_OK;
}
