/*
 * client.c — the client verbs' HTTP side (client.h): POST / with an AWS JSON 1.0 body
 * through one reused libcurl easy handle, and the answer read as botocore reads it. The
 * sentences for a missing answer are botocore's, so scripts written against the aws CLI
 * see the same text. Requests are SigV4-signed (cli_sign.c).
 */
#include "cli/client.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/json.h"
#include "cli/cli.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_client {
    CURL *curl;
    char *url;
    char *region; /* the scope of a SigV4 signature (request_headers) */
    long timeout_s;
};

cli_client *cli_client_new(const cli_client_config *cfg)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cli_client *c = bt_xcalloc(1, sizeof(*c));
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        fputs("baton: cannot initialise libcurl\n", stderr);
        abort();
    }
    c->url = cli_request_url(cfg->endpoint);
    c->region = bt_xstrdup(cfg->region);
    c->timeout_s = cfg->timeout_s;
    return c;
}

void cli_client_free(cli_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c->url);
    free(c->region);
    free(c);
    curl_global_cleanup();
}

char *cli_request_url(const char *endpoint)
{
    size_t n = strlen(endpoint);
    if (n > 0 && endpoint[n - 1] == '/')
        return bt_xstrdup(endpoint);
    return bt_xasprintf("%s/", endpoint);
}

void cli_answer_fini(cli_answer *a)
{
    json_decref(a->body);
    free(a->code);
    free(a->message);
    memset(a, 0, sizeof(*a));
}

static void set_no_answer(cli_answer *out, char *message)
{
    memset(out, 0, sizeof(*out));
    out->outcome = CLI_NO_ANSWER;
    out->message = message;
}

/* botocore's error code: "ns#Name:http://…" → "Name". */
static char *error_code(const char *type)
{
    size_t n = strcspn(type, ":");
    const char *start = type;
    for (const char *p = type; p < type + n; p++)
        if (*p == '#')
            start = p + 1;
    return bt_xstrndup(start, n - (size_t)(start - type));
}

static void decode_error(long status, const char *body, size_t len, cli_answer *out)
{
    json_t *doc = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(doc, "__type"));
    const char *message = json_string_value(json_object_get(doc, "message"));
    if (message == NULL)
        message = json_string_value(json_object_get(doc, "Message"));
    memset(out, 0, sizeof(*out));
    out->outcome = CLI_SERVICE_ERROR;
    out->code = type ? error_code(type) : bt_xasprintf("%ld", status);
    if (message)
        out->message = bt_xstrdup(message);
    else if (json_is_object(doc))
        out->message = bt_xstrdup("");
    else /* not JSON: the text is all the service said */
        out->message = bt_xstrndup(body, len);
    json_decref(doc);
}

void cli_answer_decode(long status, const char *body, size_t len, cli_answer *out)
{
    if (status >= 300) {
        decode_error(status, body, len, out);
        return;
    }
    json_t *doc = len ? json_loadb(body, len, 0, NULL) : json_object();
    if (!json_is_object(doc)) {
        json_decref(doc);
        set_no_answer(out, bt_xasprintf("The endpoint's answer (HTTP %ld) is not a JSON object: "
                                        "%.*s",
                                        status, len > 200 ? 200 : (int)len, body));
        return;
    }
    memset(out, 0, sizeof(*out));
    out->outcome = CLI_ANSWERED;
    out->body = doc;
}

/* botocore's sentences for the exchanges that end without an answer. */
static char *transport_message(CURLcode rc, bool connected, const char *url)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return bt_xasprintf("Could not connect to the endpoint URL: \"%s\"", url);
    case CURLE_OPERATION_TIMEDOUT:
        return bt_xasprintf("%s timeout on endpoint URL: \"%s\"", connected ? "Read" : "Connect",
                            url);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return bt_xasprintf("Connection was closed before we received a valid response from "
                            "endpoint URL: \"%s\".",
                            url);
    case CURLE_WRITE_ERROR:
        return bt_xasprintf("The answer from endpoint URL \"%s\" is larger than %u MiB", url,
                            CLI_ANSWER_MAX >> 20);
    default:
        return bt_xasprintf("%s: endpoint URL \"%s\"", curl_easy_strerror(rc), url);
    }
}

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
    bt_buf *b = ctx;
    size_t len = size * n;
    if (b->len + len > CLI_ANSWER_MAX)
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    bt_buf_append(b, data, len);
    return len;
}

/* The request's headers, signed (cli_sign) with c->region as the scope. */
static struct curl_slist *request_headers(const cli_client *c, const char *op, const char *body)
{
    char target[128];
    snprintf(target, sizeof(target), "X-Amz-Target: AWSStepFunctions.%s", op);
    const char *const signed_headers[] = {"content-type", "application/x-amz-json-1.0",
                                          "x-amz-target", target + 14, NULL};
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.0");
    h = curl_slist_append(h, target);
    h = cli_sign(h, "POST", c->url, signed_headers, body, c->region, "states");
    h = curl_slist_append(h, "User-Agent: baton/" BATON_VERSION);
    /* no "Expect: 100-continue" round trip before large bodies (definitions) */
    h = curl_slist_append(h, "Expect:");
    return h;
}

void cli_client_call(cli_client *c, const char *op, json_t *request, cli_answer *answer)
{
    char *body = bt_json_dumps(request);
    assert(body != NULL); /* requests are flat objects built by the verbs */
    struct curl_slist *headers = request_headers(c, op, body);
    bt_buf got;
    bt_buf_init(&got);

    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        cli_answer_decode(status, got.data ? got.data : "", got.len, answer);
    } else {
        curl_off_t connect_us = 0;
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
        set_no_answer(answer, transport_message(rc, connect_us > 0, c->url));
    }
    /* the handle keeps the connection, not these */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    bt_buf_fini(&got);
    free(body);
}
