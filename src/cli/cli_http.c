/*
 * cli_http.c — the verbs' plain HTTP requests to Baton's own endpoints (logs, Invoke, the
 * outbox, approvals), where the AWS client of client.c does not apply.
 */
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
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
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
    if (a->status != 200) {
        fprintf(stderr, "\nAn error occurred (HTTP %ld): %.*s\n", a->status, (int)a->body.len,
                a->body.data ? a->body.data : "");
        bt_buf_fini(&a->body);
        return EXIT_SERVICE;
    }
    return EXIT_OK;
}
