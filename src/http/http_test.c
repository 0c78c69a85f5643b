/*
 * http_test.c — unit tests for http.c against a real server on 127.0.0.1 (an ephemeral
 * port) with libcurl as the client: what the handler sees (method, decoded path, raw query,
 * headers in order, body, peer), answers from another thread and after the client left,
 * the front end's own 413/431/503, 64 requests in flight at once, keep-alive, extra
 * response headers, and http_stop with requests unanswered or being answered.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "http/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define MAX_HELD 256

/* ---- Handlers. ---- */

/* Answers at once, on the HTTP thread, with everything it saw:
 * "METHOD|path|query|x-test|peer|len:body|Name=value;…". */
static void echo_handler(void *ctx, http_request *req)
{
    (void)ctx;
    bt_buf b;
    bt_buf_init(&b);
    size_t len;
    const char *body = http_body(req, &len);
    const char *x = http_header(req, "x-test");
    bt_buf_printf(&b, "%s|%s|%s|%s|%s|%zu:", http_method(req), http_path(req), http_query(req),
                  x != NULL ? x : "(none)", http_peer(req), len);
    bt_buf_append(&b, body, len);
    bt_buf_putc(&b, '|');
    for (size_t i = 0; i < http_n_headers(req); i++) {
        const char *name, *value;
        http_header_at(req, i, &name, &value);
        bt_buf_printf(&b, "%s=%s;", name, value);
    }
    http_respond(req, 200, "text/plain", b.data, b.len, NULL);
    bt_buf_fini(&b);
}

/* Keeps every request for the test to answer. */
typedef struct held {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    http_request *reqs[MAX_HELD];
    uint64_t ids[MAX_HELD];
    size_t n;     /* arrived */
    size_t taken; /* handed out by take() */
} held;

static void held_init(held *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
}

static void held_fini(held *h)
{
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
}

static void hold_handler(void *ctx, http_request *req)
{
    held *h = ctx;
    pthread_mutex_lock(&h->lock);
    h->ids[h->n] = http_request_id(req);
    h->reqs[h->n++] = req;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

static void wait_held(held *h, size_t n)
{
    pthread_mutex_lock(&h->lock);
    while (h->n < n)
        pthread_cond_wait(&h->cond, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

static http_request *take(held *h)
{
    pthread_mutex_lock(&h->lock);
    while (h->taken == h->n)
        pthread_cond_wait(&h->cond, &h->lock);
    http_request *r = h->reqs[h->taken++];
    pthread_mutex_unlock(&h->lock);
    return r;
}

static size_t n_held(held *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

static void answer_path(http_request *r)
{
    char body[256];
    int n = snprintf(body, sizeof body, "answer:%s", http_path(r));
    http_respond(r, 200, "text/plain", body, (size_t)n, NULL);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- Server and client helpers. ---- */

static http_server *start(http_config cfg, http_handler handler, void *ctx)
{
    cfg.host = "127.0.0.1";
    bt_err err;
    http_server *s = http_start(&cfg, handler, ctx, &err);
    if (s == NULL)
        fail_msg("http_start: %s", err.msg);
    assert_true(http_port(s) > 0);
    return s;
}

static char *url_of(const http_server *s, const char *target)
{
    return bt_xasprintf("http://127.0.0.1:%d%s", http_port(s), target);
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
    bt_buf_append(userdata, data, size * n);
    return size * n;
}

typedef struct reply {
    long status;
    CURLcode rc;
    bt_buf body;
    bt_buf headers;
} reply;

static void reply_init(reply *r)
{
    r->status = 0;
    r->rc = CURLE_OK;
    bt_buf_init(&r->body);
    bt_buf_init(&r->headers);
}

static void reply_fini(reply *r)
{
    bt_buf_fini(&r->body);
    bt_buf_fini(&r->headers);
}

static const char *text(const bt_buf *b)
{
    return b->data != NULL ? b->data : "";
}

static void setup_easy(CURL *c, const char *url, reply *out)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
}

static void perform(CURL *c, reply *out)
{
    bt_buf_reset(&out->body);
    bt_buf_reset(&out->headers);
    out->rc = curl_easy_perform(c);
    out->status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
}

/* One request on a fresh handle; body NULL: GET. */
static void fetch(const http_server *s, const char *target, const char *body, size_t len,
                  struct curl_slist *headers, reply *out)
{
    char *url = url_of(s, target);
    CURL *c = curl_easy_init();
    setup_easy(c, url, out);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    perform(c, out);
    curl_easy_cleanup(c);
    free(url);
}

/* ---- Tests. ---- */

static void get_round_trip(void **state)
{
    (void)state;
    http_server *s = start((http_config){0}, echo_handler, NULL);
    struct curl_slist *h = curl_slist_append(NULL, "X-Test: Hello there");
    reply r;
    reply_init(&r);
    fetch(s, "/a%20b/c?x=1&y=a%2Bb+c&x=2", NULL, 0, h, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    const char *want_prefix = "GET|/a b/c|x=1&y=a%2Bb+c&x=2|Hello there|127.0.0.1:";
    assert_memory_equal(text(&r.body), want_prefix, strlen(want_prefix));
    char *want_headers =
        bt_xasprintf("|0:|Host=127.0.0.1:%d;Accept=*/*;X-Test=Hello there;", http_port(s));
    assert_non_null(strstr(text(&r.body), want_headers));
    assert_non_null(strstr(text(&r.headers), "Content-Type: text/plain\r\n"));
    free(want_headers);
    reply_fini(&r);
    curl_slist_free_all(h);
    http_stop(s);
}

static void post_round_trip(void **state)
{
    (void)state;
    http_server *s = start((http_config){0}, echo_handler, NULL);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.0");
    h = curl_slist_append(h, "X-Amz-Target: AWSStepFunctions.StartExecution");
    const char body[] = "{\"stateMachineArn\":\"arn\",\"input\":\"{}\"}";
    reply r;
    reply_init(&r);
    fetch(s, "/", body, sizeof body - 1, h, &r);
    assert_int_equal(r.status, 200);
    const char *want = "POST|/||(none)|";
    assert_memory_equal(text(&r.body), want, strlen(want));
    char *want_body = bt_xasprintf("|%zu:%s|", sizeof body - 1, body);
    assert_non_null(strstr(text(&r.body), want_body));
    assert_non_null(strstr(text(&r.body), ";X-Amz-Target=AWSStepFunctions.StartExecution;"));
    assert_non_null(strstr(text(&r.body), ";Content-Type=application/x-amz-json-1.0;"));
    free(want_body);
    reply_fini(&r);
    curl_slist_free_all(h);
    http_stop(s);
}

/* What the handler reads from a request it holds, checked on the test's thread. */
static void request_accessors(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    struct curl_slist *hs = curl_slist_append(NULL, "x-CASE: MiXed");
    reply r;
    reply_init(&r);
    char *url = url_of(s, "/q?X-Amz-Date=20240101T000000Z&a=%2F");
    CURL *c = curl_easy_init();
    setup_easy(c, url, &r);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "abc");
    CURLM *m = curl_multi_init();
    curl_multi_add_handle(m, c);
    int running = 1;
    while (n_held(&h) == 0) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    http_request *req = take(&h);
    assert_string_equal(http_method(req), "POST");
    assert_string_equal(http_path(req), "/q");
    assert_string_equal(http_query(req), "X-Amz-Date=20240101T000000Z&a=%2F");
    assert_string_equal(http_header(req, "X-Case"), "MiXed");
    assert_string_equal(http_header(req, "CONTENT-LENGTH"), "3");
    assert_null(http_header(req, "X-Absent"));
    size_t len = 99;
    const char *body = http_body(req, &len);
    assert_int_equal(len, 3);
    assert_string_equal(body, "abc");
    assert_int_equal(body[3], '\0');
    assert_memory_equal(http_peer(req), "127.0.0.1:", 10);
    assert_true(http_request_id(req) >= 1);
    http_respond(req, 201, NULL, "", 0, NULL);
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    assert_int_equal(r.status, 201);
    curl_multi_remove_handle(m, c);
    curl_easy_cleanup(c);
    curl_multi_cleanup(m);
    free(url);
    reply_fini(&r);
    curl_slist_free_all(hs);
    http_stop(s);
    held_fini(&h);
}

/* Answers n held requests from its own thread, each after a pause. */
typedef struct responder {
    pthread_t thread;
    held *h;
    int n;
    long delay_ms;
} responder;

static void *respond_late(void *arg)
{
    responder *rs = arg;
    for (int i = 0; i < rs->n; i++) {
        http_request *r = take(rs->h);
        sleep_ms(rs->delay_ms);
        answer_path(r);
    }
    return NULL;
}

static void responder_start(responder *rs, held *h, int n, long delay_ms)
{
    rs->h = h;
    rs->n = n;
    rs->delay_ms = delay_ms;
    pthread_create(&rs->thread, NULL, respond_late, rs);
}

static void answered_later_from_another_thread(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    responder rs;
    responder_start(&rs, &h, 3, 50);
    uint64_t last_id = 0;
    for (int i = 0; i < 3; i++) {
        char target[32];
        snprintf(target, sizeof target, "/late/%d", i);
        reply r;
        reply_init(&r);
        fetch(s, target, NULL, 0, NULL, &r);
        assert_int_equal(r.status, 200);
        char want[64];
        snprintf(want, sizeof want, "answer:/late/%d", i);
        assert_string_equal(text(&r.body), want);
        reply_fini(&r);
        assert_true(h.ids[i] > last_id);
        last_id = h.ids[i];
    }
    pthread_join(rs.thread, NULL);
    http_stop(s);
    held_fini(&h);
}

static size_t read_chunks(char *buffer, size_t size, size_t n, void *userdata)
{
    size_t *left = userdata;
    size_t k = size * n < 512 ? size * n : 512;
    if (k > *left)
        k = *left;
    memset(buffer, 'z', k);
    *left -= k;
    return k;
}

static void body_too_large(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){.max_body = 1024}, hold_handler, &h);
    char *big = bt_xmalloc(2048);
    memset(big, 'x', 2048);
    reply r;
    reply_init(&r);

    fetch(s, "/big", big, 2048, NULL, &r); /* Content-Length: refused before the body */
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_string_equal(text(&r.body), "request body too large\n");

    /* Chunked: no length up front; refused once the body has outgrown the limit. */
    char *url = url_of(s, "/chunked");
    CURL *c = curl_easy_init();
    setup_easy(c, url, &r);
    size_t left = 4096;
    struct curl_slist *hs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_chunks);
    curl_easy_setopt(c, CURLOPT_READDATA, &left);
    perform(c, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_int_equal(left, 0);
    assert_int_equal(n_held(&h), 0);

    /* Exactly the limit is accepted. */
    responder rs;
    responder_start(&rs, &h, 1, 0);
    fetch(s, "/exact", big, 1024, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(text(&r.body), "answer:/exact");
    pthread_join(rs.thread, NULL);
    assert_int_equal(n_held(&h), 1);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    free(url);
    free(big);
    reply_fini(&r);
    http_stop(s);
    held_fini(&h);
}

/* libmicrohttpd answers an oversized header section 431 itself. */
static void header_too_large(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){.max_header = 4096}, hold_handler, &h);
    char *line = bt_xmalloc(16 * 1024);
    memcpy(line, "X-Big: ", 7);
    memset(line + 7, 'y', 16 * 1024 - 8);
    line[16 * 1024 - 1] = '\0';
    struct curl_slist *hs = curl_slist_append(NULL, line);
    reply r;
    reply_init(&r);
    fetch(s, "/", NULL, 0, hs, &r);
    assert_int_equal(r.status, 431);
    assert_int_equal(n_held(&h), 0);
    reply_fini(&r);
    curl_slist_free_all(hs);
    free(line);
    http_stop(s);
    held_fini(&h);
}

#define N_CONCURRENT 64

/* Waits for all 64, then answers them in reverse order of arrival. */
static void *reverse_responder(void *arg)
{
    held *h = arg;
    wait_held(h, N_CONCURRENT);
    for (size_t i = N_CONCURRENT; i-- > 0;)
        answer_path(h->reqs[i]);
    return NULL;
}

static void many_concurrent_requests(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    pthread_t t;
    pthread_create(&t, NULL, reverse_responder, &h);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    CURL *easy[N_CONCURRENT];
    reply replies[N_CONCURRENT];
    char *urls[N_CONCURRENT];
    for (int i = 0; i < N_CONCURRENT; i++) {
        char target[32];
        snprintf(target, sizeof target, "/n/%d", i);
        urls[i] = url_of(s, target);
        reply_init(&replies[i]);
        easy[i] = curl_easy_init();
        setup_easy(easy[i], urls[i], &replies[i]);
        curl_multi_add_handle(m, easy[i]);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < N_CONCURRENT; i++) {
        long status = 0;
        curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &status);
        assert_int_equal(status, 200);
        char want[64];
        snprintf(want, sizeof want, "answer:/n/%d", i);
        assert_string_equal(text(&replies[i].body), want);
        curl_multi_remove_handle(m, easy[i]);
        curl_easy_cleanup(easy[i]);
        reply_fini(&replies[i]);
        free(urls[i]);
    }
    curl_multi_cleanup(m);
    pthread_join(t, NULL);
    http_stop(s);
    held_fini(&h);
}

/* The peer field of an echo_handler answer. */
static char *peer_of(const char *echo)
{
    const char *p = echo;
    for (int i = 0; i < 4; i++)
        p = strchr(p, '|') + 1;
    return bt_xstrndup(p, (size_t)(strchr(p, '|') - p));
}

static void keep_alive_reuses_the_connection(void **state)
{
    (void)state;
    http_server *s = start((http_config){0}, echo_handler, NULL);
    char *url = url_of(s, "/ka");
    CURL *c = curl_easy_init();
    reply r;
    reply_init(&r);
    setup_easy(c, url, &r);
    long connects = 0;
    char *first_peer = NULL;
    for (int i = 0; i < 20; i++) {
        perform(c, &r);
        assert_int_equal(r.status, 200);
        long n = 0;
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &n);
        connects += n;
        char *peer = peer_of(text(&r.body));
        if (first_peer == NULL)
            first_peer = peer;
        else {
            assert_string_equal(peer, first_peer);
            free(peer);
        }
    }
    assert_int_equal(connects, 1);
    free(first_peer);
    reply_fini(&r);
    curl_easy_cleanup(c);
    free(url);
    http_stop(s);
}

static void client_hangs_up_before_the_answer(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    char *url = url_of(s, "/gone");
    CURL *c = curl_easy_init();
    reply r;
    reply_init(&r);
    setup_easy(c, url, &r);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "still here");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 200L);
    perform(c, &r);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    curl_easy_cleanup(c); /* closes the socket */
    sleep_ms(50);

    http_request *req = take(&h);
    assert_string_equal(http_path(req), "/gone");
    assert_string_equal(http_body(req, NULL), "still here");
    http_respond(req, 200, "text/plain", "too late", 8, NULL);

    reply_init(&r);
    free(url);
    url = url_of(s, "/after");
    responder rs;
    responder_start(&rs, &h, 3, 10);
    for (int i = 0; i < 3; i++) {
        c = curl_easy_init();
        setup_easy(c, url, &r);
        perform(c, &r);
        curl_easy_cleanup(c);
        assert_int_equal(r.status, 200);
        assert_string_equal(text(&r.body), "answer:/after");
    }
    pthread_join(rs.thread, NULL);
    reply_fini(&r);
    free(url);
    http_stop(s);
    held_fini(&h);
}

/* A client gone while its request is held, then the server stopped, then the answer. */
static void answer_after_client_gone_and_stop(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    char *url = url_of(s, "/orphan");
    CURL *c = curl_easy_init();
    reply r;
    reply_init(&r);
    setup_easy(c, url, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 200L);
    perform(c, &r);
    curl_easy_cleanup(c);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    http_request *req = take(&h);
    http_stop(s);
    assert_string_equal(http_path(req), "/orphan");
    http_respond(req, 200, NULL, "x", 1, NULL);
    reply_fini(&r);
    free(url);
    held_fini(&h);
}

#define N_STOP 16

typedef struct clients {
    const http_server *s;
    long status[N_STOP];
    bt_buf bodies[N_STOP];
} clients;

/* N_STOP requests at once on their own connections; records each status. */
static void *run_clients(void *arg)
{
    clients *cl = arg;
    CURLM *m = curl_multi_init();
    CURL *easy[N_STOP];
    char *urls[N_STOP];
    reply replies[N_STOP];
    for (int i = 0; i < N_STOP; i++) {
        char target[32];
        snprintf(target, sizeof target, "/stop/%d", i);
        urls[i] = url_of(cl->s, target);
        reply_init(&replies[i]);
        easy[i] = curl_easy_init();
        setup_easy(easy[i], urls[i], &replies[i]);
        curl_multi_add_handle(m, easy[i]);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < N_STOP; i++) {
        curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &cl->status[i]);
        cl->bodies[i] = replies[i].body;
        bt_buf_fini(&replies[i].headers);
        curl_multi_remove_handle(m, easy[i]);
        curl_easy_cleanup(easy[i]);
        free(urls[i]);
    }
    curl_multi_cleanup(m);
    return NULL;
}

static void stop_answers_unanswered_503(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    clients cl = {.s = s};
    pthread_t t;
    pthread_create(&t, NULL, run_clients, &cl);
    wait_held(&h, N_STOP);
    http_stop(s);
    pthread_join(t, NULL);
    for (int i = 0; i < N_STOP; i++) {
        assert_int_equal(cl.status[i], 503);
        assert_string_equal(text(&cl.bodies[i]), "server stopping\n");
        bt_buf_fini(&cl.bodies[i]);
    }
    for (int i = 0; i < N_STOP; i++) /* the handler's answers, after the stop */
        answer_path(h.reqs[i]);
    held_fini(&h);
}

/* Answers every held request as fast as it can, racing http_stop. */
static void *racing_responder(void *arg)
{
    held *h = arg;
    for (int i = 0; i < N_STOP; i++)
        answer_path(take(h));
    return NULL;
}

static void stop_while_answering(void **state)
{
    (void)state;
    held h;
    held_init(&h);
    http_server *s = start((http_config){0}, hold_handler, &h);
    clients cl = {.s = s};
    pthread_t t, answers;
    pthread_create(&t, NULL, run_clients, &cl);
    wait_held(&h, N_STOP);
    pthread_create(&answers, NULL, racing_responder, &h);
    http_stop(s);
    pthread_join(answers, NULL);
    pthread_join(t, NULL);
    for (int i = 0; i < N_STOP; i++) {
        char want[64];
        snprintf(want, sizeof want, "answer:/stop/%d", i);
        if (cl.status[i] == 200)
            assert_string_equal(text(&cl.bodies[i]), want);
        else
            assert_int_equal(cl.status[i], 503);
        bt_buf_fini(&cl.bodies[i]);
    }
    held_fini(&h);
}

static void extra_headers_handler(void *ctx, http_request *req)
{
    (void)ctx;
    static const char *const extra[] = {"X-Amzn-RequestId", "4e5f6a7b", "X-Amz-Crc32", "12345",
                                        NULL};
    http_respond(req, 400, "application/x-amz-json-1.0", "{\"__type\":\"InvalidArn\"}", 23, extra);
}

static void extra_headers_appear(void **state)
{
    (void)state;
    http_server *s = start((http_config){0}, extra_headers_handler, NULL);
    reply r;
    reply_init(&r);
    fetch(s, "/", "{}", 2, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(text(&r.body), "{\"__type\":\"InvalidArn\"}");
    const char *hd = text(&r.headers);
    assert_non_null(strstr(hd, "\r\nX-Amzn-RequestId: 4e5f6a7b\r\n"));
    assert_non_null(strstr(hd, "\r\nX-Amz-Crc32: 12345\r\n"));
    assert_non_null(strstr(hd, "\r\nContent-Type: application/x-amz-json-1.0\r\n"));
    assert_non_null(strstr(hd, "\r\nContent-Length: 23\r\n"));
    reply_fini(&r);
    http_stop(s);
}

static void bad_addresses_refused(void **state)
{
    (void)state;
    bt_err err;
    http_config cfg = {.host = "localhost"};
    assert_null(http_start(&cfg, echo_handler, NULL, &err));
    assert_int_equal(err.code, BT_EINVAL);
    assert_string_equal(err.msg, "\"localhost\" is not an IPv4 or IPv6 address");

    http_server *s = start((http_config){0}, echo_handler, NULL);
    cfg = (http_config){.host = "127.0.0.1", .port = http_port(s)};
    assert_null(http_start(&cfg, echo_handler, NULL, &err));
    assert_int_equal(err.code, BT_EIO);
    assert_non_null(strstr(err.msg, "Address already in use"));
    http_stop(s);
    http_stop(NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_round_trip),
        cmocka_unit_test(post_round_trip),
        cmocka_unit_test(request_accessors),
        cmocka_unit_test(answered_later_from_another_thread),
        cmocka_unit_test(body_too_large),
        cmocka_unit_test(header_too_large),
        cmocka_unit_test(many_concurrent_requests),
        cmocka_unit_test(keep_alive_reuses_the_connection),
        cmocka_unit_test(client_hangs_up_before_the_answer),
        cmocka_unit_test(answer_after_client_gone_and_stop),
        cmocka_unit_test(stop_answers_unanswered_503),
        cmocka_unit_test(stop_while_answering),
        cmocka_unit_test(extra_headers_appear),
        cmocka_unit_test(bad_addresses_refused),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
