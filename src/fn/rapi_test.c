/*
 * rapi_test.c — unit tests for rapi.c over real sockets: the loop runs on the test's
 * thread, a client thread speaks raw HTTP/1.1 through POSIX sockets and records what it
 * read; the assertions run on the test's thread once both are done. Covered: a held /next
 * and its exact answer, Content-Length and chunked bodies, /error, /init/error, pipelining,
 * rapi's own 400/404/405/413/431, keep-alive over 1,000 round trips (with their rate),
 * abandon on close and reset, and rapi_close with requests held or from a handler.
 */
#include "base/alloc.h"
#include "fn/rapi.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_CALLS 64
#define MAX_RESP  64
#define MAX_HELD  8

/* ---- The loop side. ---- */

enum cmd { CMD_NONE, CMD_SEND_FULL, CMD_SEND_MINIMAL, CMD_REPLY_LATER, CMD_CLOSE, CMD_STOP };

typedef struct recorded {
    rapi_kind kind;
    char *request_id, *error_type, *content_type;
    char *body;
    size_t body_len;
} recorded;

typedef struct fixture {
    uv_loop_t loop;
    rapi *r;
    int port;
    uv_async_t async;
    pthread_t thread;
    void (*client)(struct fixture *);
    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum cmd cmd; /* set by the client, cleared by the loop */
    bool hold_next;
    size_t n_calls, n_total_calls;
    recorded calls[MAX_CALLS];
    rapi_request *held[MAX_HELD];
    size_t n_held;
    size_t n_abandoned;
    rapi_request *abandoned[MAX_HELD];
    bool is_closed;
    /* What the client saw. */
    char *resp[MAX_RESP];
    size_t resp_len[MAX_RESP];
    size_t n_resp;
    bool flags[10];
    double rate;
    /* on_accept: refuse peers whose port is refuse_port (0: none) */
    bool check_peers;
    int refuse_port, n_accepts, seen_local_port;
    int n_too_large;
    char too_large_id[64];
    uint32_t seen_addr;
} fixture;

static char *dup_or_null(const char *s)
{
    return s != NULL ? bt_xstrdup(s) : NULL;
}

static const rapi_event full_event = {
    .request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
    .deadline_ms = 1542409706888,
    .invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f:live",
    .trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
    .client_context = "{\"custom\":\n{\"k\":\"v\"}}",
    .cognito_identity = "{\"cognito_identity_id\":\"id\",\"cognito_identity_pool_id\":\"p\"}",
    .body = "{\"key\":\"value\"}",
    .body_len = 15,
};

static void on_call(void *ud, rapi_request *req, const rapi_call *call)
{
    fixture *f = ud;
    pthread_mutex_lock(&f->lock);
    f->n_total_calls++;
    if (f->n_calls < MAX_CALLS) {
        recorded *rc = &f->calls[f->n_calls++];
        rc->kind = call->kind;
        rc->request_id = dup_or_null(call->request_id);
        rc->error_type = dup_or_null(call->error_type);
        rc->content_type = dup_or_null(call->content_type);
        rc->body = bt_xmalloc(call->body_len + 1);
        memcpy(rc->body, call->body, call->body_len + 1); /* with its NUL */
        rc->body_len = call->body_len;
    }
    pthread_mutex_unlock(&f->lock);
    if (call->kind == RAPI_NEXT) {
        if (f->hold_next) {
            assert_true(f->n_held < MAX_HELD);
            f->held[f->n_held++] = req;
            return;
        }
        rapi_event ev = {.request_id = "rid", .deadline_ms = 42, .body = "{}", .body_len = 2};
        rapi_send_event(req, &ev);
        return;
    }
    if (call->request_id != NULL && strcmp(call->request_id, "later") == 0) {
        assert_true(f->n_held < MAX_HELD);
        f->held[f->n_held++] = req;
        return;
    }
    if (call->request_id != NULL && strcmp(call->request_id, "close-me") == 0) {
        rapi_close(f->r);
        f->is_closed = true;
        rapi_reply(req, 202, "{\"status\":\"OK\"}"); /* ignored: closing */
        return;
    }
    rapi_reply(req, 202, "{\"status\":\"OK\"}");
}

static void on_abandon(void *ud, rapi_request *req)
{
    fixture *f = ud;
    rapi_reply(req, 500, NULL); /* ignored: the request is gone */
    pthread_mutex_lock(&f->lock);
    if (f->n_abandoned < MAX_HELD)
        f->abandoned[f->n_abandoned] = req;
    f->n_abandoned++;
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < f->n_held; i++)
        if (f->held[i] == req)
            f->held[i] = NULL;
}

static bool on_accept(void *ud, uint32_t peer_addr, int peer_port, int local_port)
{
    fixture *f = ud;
    pthread_mutex_lock(&f->lock);
    f->n_accepts++;
    f->seen_addr = peer_addr;
    f->seen_local_port = local_port;
    bool ok = f->refuse_port == 0 || peer_port != f->refuse_port;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

static void on_too_large(void *ud, rapi_kind kind, const char *request_id)
{
    fixture *f = ud;
    pthread_mutex_lock(&f->lock);
    if (kind == RAPI_RESPONSE)
        f->n_too_large++;
    snprintf(f->too_large_id, sizeof f->too_large_id, "%s", request_id);
    pthread_mutex_unlock(&f->lock);
}

static rapi_request *take_held(fixture *f)
{
    for (size_t i = 0; i < f->n_held; i++) {
        if (f->held[i] != NULL) {
            rapi_request *req = f->held[i];
            f->held[i] = NULL;
            return req;
        }
    }
    return NULL;
}

static void on_async(uv_async_t *a)
{
    fixture *f = a->data;
    pthread_mutex_lock(&f->lock);
    enum cmd cmd = f->cmd;
    pthread_mutex_unlock(&f->lock);
    rapi_request *req;
    switch (cmd) {
    case CMD_NONE:
        break;
    case CMD_SEND_FULL:
        req = take_held(f);
        if (req != NULL)
            rapi_send_event(req, &full_event);
        break;
    case CMD_SEND_MINIMAL:
        req = take_held(f);
        if (req != NULL) {
            rapi_event ev = {.request_id = "r2",
                             .deadline_ms = 1700000000123,
                             .invoked_function_arn = "",
                             .trace_id = NULL,
                             .body = "[1,2]",
                             .body_len = 5};
            rapi_send_event(req, &ev);
        }
        break;
    case CMD_REPLY_LATER:
        req = take_held(f);
        if (req != NULL)
            rapi_reply(req, 403,
                       "{\"errorMessage\":\"no\",\"errorType\":\"InvalidStateTransition\"}");
        break;
    case CMD_CLOSE:
        if (!f->is_closed)
            rapi_close(f->r);
        f->is_closed = true;
        break;
    case CMD_STOP:
        if (!f->is_closed)
            rapi_close(f->r);
        f->is_closed = true;
        uv_close((uv_handle_t *)&f->async, NULL);
        break;
    }
    pthread_mutex_lock(&f->lock);
    f->cmd = CMD_NONE;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* ---- The client side (no cmocka asserts off the test's thread). ---- */

static void command(fixture *f, enum cmd cmd)
{
    pthread_mutex_lock(&f->lock);
    f->cmd = cmd;
    uv_async_send(&f->async);
    while (f->cmd != CMD_NONE)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static int dial(fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* One connection's input, so that answers that arrive together are split right. */
typedef struct reader {
    int fd;
    char buf[65536];
    size_t len;
} reader;

/* Reads one response; returns it as a heap string (head and body), or NULL on EOF/error. */
static char *read_response(reader *rd, size_t *out_len)
{
    for (;;) {
        char *end = NULL;
        for (size_t i = 0; i + 4 <= rd->len; i++)
            if (memcmp(rd->buf + i, "\r\n\r\n", 4) == 0) {
                end = rd->buf + i + 4;
                break;
            }
        if (end != NULL) {
            size_t head = (size_t)(end - rd->buf);
            size_t clen = 0;
            for (char *p = rd->buf; p < end; p++)
                if (strncasecmp(p, "\r\nContent-Length: ", 18) == 0)
                    clen = strtoul(p + 18, NULL, 10);
            if (strncmp(rd->buf, "HTTP/1.1 100 ", 13) == 0) {
                memmove(rd->buf, end, rd->len - head);
                rd->len -= head;
                continue;
            }
            if (rd->len >= head + clen) {
                size_t n = head + clen;
                char *s = bt_xmalloc(n + 1);
                memcpy(s, rd->buf, n);
                s[n] = '\0';
                memmove(rd->buf, rd->buf + n, rd->len - n);
                rd->len -= n;
                *out_len = n;
                return s;
            }
        }
        if (rd->len == sizeof rd->buf)
            return NULL;
        ssize_t r = recv(rd->fd, rd->buf + rd->len, sizeof rd->buf - rd->len, 0);
        if (r <= 0)
            return NULL;
        rd->len += (size_t)r;
    }
}

static void record(fixture *f, reader *rd)
{
    size_t n = 0;
    char *s = read_response(rd, &n);
    if (f->n_resp < MAX_RESP) {
        f->resp[f->n_resp] = s;
        f->resp_len[f->n_resp++] = n;
    } else {
        free(s);
    }
}

/* True when the server closes: recv sees EOF (or a reset) within the timeout. */
static bool sees_eof(reader *rd)
{
    char tmp[4096];
    for (;;) {
        ssize_t r = recv(rd->fd, tmp, sizeof tmp, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
        if (r < 0)
            return false;
    }
}

/* True when nothing arrives for ms. */
static bool quiet_for(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 0;
}

static bool wait_abandoned(fixture *f, size_t n)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&f->lock);
        bool ok = f->n_abandoned >= n;
        pthread_mutex_unlock(&f->lock);
        if (ok)
            return true;
        usleep(10000);
    }
    return false;
}

static bool wait_calls(fixture *f, size_t n)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&f->lock);
        bool ok = f->n_total_calls >= n;
        pthread_mutex_unlock(&f->lock);
        if (ok)
            return true;
        usleep(10000);
    }
    return false;
}

static void *client_main(void *arg)
{
    fixture *f = arg;
    f->client(f);
    command(f, CMD_STOP);
    return NULL;
}

/* ---- Running one scenario. ---- */

static void run_checked(fixture *f, void (*client)(fixture *), bool hold_next, bool check)
{
    memset(f, 0, sizeof *f);
    f->check_peers = check;
    f->client = client;
    f->hold_next = hold_next;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    rapi_handlers h = {.ud = f,
                       .on_call = on_call,
                       .on_abandon = on_abandon,
                       .on_accept = check ? on_accept : NULL,
                       .on_too_large = on_too_large};
    assert_int_equal(rapi_listen(&f->loop, &h, &f->r, &f->port), 0);
    assert_true(f->port > 0);
    assert_int_equal(uv_async_init(&f->loop, &f->async, on_async), 0);
    f->async.data = f;
    assert_int_equal(pthread_create(&f->thread, NULL, client_main, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    pthread_join(f->thread, NULL);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* every handle closed */
}

static void run(fixture *f, void (*client)(fixture *), bool hold_next)
{
    run_checked(f, client, hold_next, false);
}

static void cleanup(fixture *f)
{
    for (size_t i = 0; i < f->n_calls; i++) {
        free(f->calls[i].request_id);
        free(f->calls[i].error_type);
        free(f->calls[i].content_type);
        free(f->calls[i].body);
    }
    for (size_t i = 0; i < f->n_resp; i++)
        free(f->resp[i]);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
}

#define ACCEPTED                                                                                   \
    "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"        \
    "{\"status\":\"OK\"}"

#define NEXT_REQ "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"

/* ---- /next held, then answered. ---- */

static void client_next(fixture *f)
{
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, NEXT_REQ);
    f->flags[0] = wait_calls(f, 1) && quiet_for(rd.fd, 150);
    command(f, CMD_SEND_FULL);
    record(f, &rd);
    send_str(rd.fd, "GET /2018-06-01/runtime/invocation/next?x=1 HTTP/1.1\r\n\r\n");
    wait_calls(f, 2);
    command(f, CMD_SEND_MINIMAL);
    record(f, &rd);
    close(rd.fd);
}

static void test_next_held(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_next, true);
    assert_true(f.flags[0]);
    assert_int_equal(f.n_calls, 2);
    assert_int_equal(f.calls[0].kind, RAPI_NEXT);
    assert_null(f.calls[0].request_id);
    assert_int_equal(f.calls[0].body_len, 0);
    assert_string_equal(f.calls[0].body, "");
    assert_int_equal(f.n_resp, 2);
    assert_string_equal(
        f.resp[0], "HTTP/1.1 200 OK\r\n"
                   "Content-Type: application/json\r\n"
                   "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
                   "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n"
                   "Lambda-Runtime-Invoked-Function-Arn: "
                   "arn:aws:lambda:us-east-1:123456789012:function:f:live\r\n"
                   "Lambda-Runtime-Trace-Id: "
                   "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n"
                   "Lambda-Runtime-Client-Context: {\"custom\": {\"k\":\"v\"}}\r\n"
                   "Lambda-Runtime-Cognito-Identity: "
                   "{\"cognito_identity_id\":\"id\",\"cognito_identity_pool_id\":\"p\"}\r\n"
                   "Content-Length: 15\r\n\r\n"
                   "{\"key\":\"value\"}");
    assert_string_equal(f.resp[1], "HTTP/1.1 200 OK\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Lambda-Runtime-Aws-Request-Id: r2\r\n"
                                   "Lambda-Runtime-Deadline-Ms: 1700000000123\r\n"
                                   "Content-Length: 5\r\n\r\n"
                                   "[1,2]");
    assert_int_equal(f.n_abandoned, 0);
    cleanup(&f);
}

/* ---- Bodies: Content-Length, chunked, in pieces, large. ---- */

#define BIG_LEN (5 * 1024 * 1024)

static char *big_body(void)
{
    char *b = bt_xmalloc(BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        b[i] = (char)(i * 7 + i / 251);
    return b;
}

static void client_bodies(fixture *f)
{
    reader rd = {.fd = dial(f)};
    static const char first[] = "POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\n"
                                "content-type: application/json\r\nCONTENT-LENGTH: 11\r\n\r\n"
                                "{\"a\":\"b\0c\"}";
    send_all(rd.fd, first, sizeof first - 1);
    record(f, &rd);
    /* Chunked, with an extension and a trailer, sent byte by byte for the head. */
    const char *req = "POST /2018-06-01/runtime/invocation/id-2/response HTTP/1.1\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
    for (const char *p = req; *p; p++) {
        send_all(rd.fd, p, 1);
        if (p - req < 40)
            usleep(500);
    }
    record(f, &rd);
    /* 5 MiB with Content-Length in 64 KiB pieces, then 5 MiB chunked in 4000-byte chunks. */
    char *big = big_body();
    char head[256];
    snprintf(head, sizeof head,
             "POST /2018-06-01/runtime/invocation/id-3/response HTTP/1.1\r\n"
             "Content-Length: %d\r\n\r\n",
             BIG_LEN);
    send_str(rd.fd, head);
    for (size_t off = 0; off < BIG_LEN; off += 65536)
        send_all(rd.fd, big + off, BIG_LEN - off < 65536 ? BIG_LEN - off : 65536);
    record(f, &rd);
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/id-4/response HTTP/1.1\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < BIG_LEN; off += 4000) {
        size_t n = BIG_LEN - off < 4000 ? BIG_LEN - off : 4000;
        char line[32];
        snprintf(line, sizeof line, "%zx\r\n", n);
        send_str(rd.fd, line);
        send_all(rd.fd, big + off, n);
        send_str(rd.fd, "\r\n");
    }
    send_str(rd.fd, "0\r\n\r\n");
    record(f, &rd);
    free(big);
    /* Expect: 100-continue gets its interim answer before the body is sent. */
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/id-5/response HTTP/1.1\r\n"
                    "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    char tmp[64] = {0};
    ssize_t n = recv(rd.fd, tmp, sizeof tmp - 1, 0);
    f->flags[0] = n == 25 && strcmp(tmp, "HTTP/1.1 100 Continue\r\n\r\n") == 0;
    send_str(rd.fd, "{}");
    record(f, &rd);
    close(rd.fd);
}

static void test_bodies(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_bodies, false);
    assert_int_equal(f.n_calls, 5);
    assert_int_equal(f.n_resp, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(f.resp[i], ACCEPTED);
        assert_int_equal(f.calls[i].kind, RAPI_RESPONSE);
        assert_null(f.calls[i].error_type);
    }
    assert_string_equal(f.calls[0].request_id, "id-1");
    assert_string_equal(f.calls[0].content_type, "application/json");
    assert_int_equal(f.calls[0].body_len, 11);
    assert_memory_equal(f.calls[0].body, "{\"a\":\"b\0c\"}", 12);
    assert_string_equal(f.calls[1].request_id, "id-2");
    assert_null(f.calls[1].content_type);
    assert_int_equal(f.calls[1].body_len, 16);
    assert_memory_equal(f.calls[1].body, "hello 0123456789", 17);
    char *big = big_body();
    for (size_t i = 2; i < 4; i++) {
        assert_string_equal(f.calls[i].request_id, i == 2 ? "id-3" : "id-4");
        assert_int_equal(f.calls[i].body_len, BIG_LEN);
        assert_memory_equal(f.calls[i].body, big, BIG_LEN);
        assert_int_equal(f.calls[i].body[BIG_LEN], '\0');
    }
    free(big);
    assert_true(f.flags[0]);
    assert_string_equal(f.calls[4].body, "{}");
    cleanup(&f);
}

/* ---- /error and /init/error. ---- */

static void client_errors(fixture *f)
{
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\n"
                    "lambda-runtime-FUNCTION-error-type:   Runtime.UnknownReason  \r\n"
                    "Content-Type: application/vnd.aws.lambda.error+json\r\n"
                    "Content-Length: 40\r\n\r\n"
                    "{\"errorMessage\":\"x\",\"errorType\":\"Boom\"}\n");
    record(f, &rd);
    send_str(rd.fd, "POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"
                    "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    record(f, &rd);
    close(rd.fd);
}

static void test_error_routes(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_errors, false);
    assert_int_equal(f.n_calls, 2);
    assert_int_equal(f.calls[0].kind, RAPI_ERROR);
    assert_string_equal(f.calls[0].request_id, "abc");
    assert_string_equal(f.calls[0].error_type, "Runtime.UnknownReason");
    assert_string_equal(f.calls[0].content_type, "application/vnd.aws.lambda.error+json");
    assert_string_equal(f.calls[0].body, "{\"errorMessage\":\"x\",\"errorType\":\"Boom\"}\n");
    assert_int_equal(f.calls[1].kind, RAPI_INIT_ERROR);
    assert_null(f.calls[1].request_id);
    assert_string_equal(f.calls[1].error_type, "Runtime.ImportModuleError");
    assert_string_equal(f.calls[1].body, "{}");
    assert_int_equal(f.n_resp, 2);
    assert_string_equal(f.resp[0], ACCEPTED);
    assert_string_equal(f.resp[1], ACCEPTED);
    cleanup(&f);
}

/* ---- Pipelining. ---- */

static void client_pipeline(fixture *f)
{
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/p1/response HTTP/1.1\r\n"
                    "Content-Length: 3\r\n\r\none" NEXT_REQ
                    "POST /2018-06-01/runtime/invocation/p2/error HTTP/1.1\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n");
    record(f, &rd);
    record(f, &rd);
    record(f, &rd);
    close(rd.fd);
}

static void test_pipelining(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_pipeline, false);
    assert_int_equal(f.n_calls, 3);
    assert_int_equal(f.calls[0].kind, RAPI_RESPONSE);
    assert_string_equal(f.calls[0].request_id, "p1");
    assert_string_equal(f.calls[0].body, "one");
    assert_int_equal(f.calls[1].kind, RAPI_NEXT);
    assert_int_equal(f.calls[2].kind, RAPI_ERROR);
    assert_string_equal(f.calls[2].request_id, "p2");
    assert_string_equal(f.calls[2].body, "two");
    assert_int_equal(f.n_resp, 3);
    assert_string_equal(f.resp[0], ACCEPTED);
    assert_string_equal(f.resp[1], "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Lambda-Runtime-Aws-Request-Id: rid\r\n"
                                   "Lambda-Runtime-Deadline-Ms: 42\r\n"
                                   "Content-Length: 2\r\n\r\n{}");
    assert_string_equal(f.resp[2], ACCEPTED);
    cleanup(&f);
}

/* A held /next keeps a request pipelined behind it waiting; it is answered after. */
static void client_pipeline_held(fixture *f)
{
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, NEXT_REQ "POST /2018-06-01/runtime/invocation/q/response HTTP/1.1\r\n"
                             "Content-Length: 1\r\n\r\nx");
    wait_calls(f, 1);
    f->flags[0] = quiet_for(rd.fd, 100);
    command(f, CMD_SEND_MINIMAL);
    record(f, &rd);
    record(f, &rd);
    close(rd.fd);
}

static void test_pipelining_held(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_pipeline_held, true);
    assert_true(f.flags[0]);
    assert_int_equal(f.n_calls, 2);
    assert_int_equal(f.calls[1].kind, RAPI_RESPONSE);
    assert_string_equal(f.calls[1].request_id, "q");
    assert_int_equal(f.n_resp, 2);
    assert_non_null(strstr(f.resp[0], "Lambda-Runtime-Aws-Request-Id: r2\r\n"));
    assert_string_equal(f.resp[1], ACCEPTED);
    cleanup(&f);
}

/* ---- rapi's own answers. ---- */

static void client_rejects(fixture *f)
{
    /* 404 and 405 keep the connection. */
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, "GET /2018-06-01/runtime/invocation/x/nope HTTP/1.1\r\n\r\n");
    record(f, &rd); /* 0 */
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    record(f, &rd); /* 1 */
    send_str(rd.fd, "GET /2018-06-01/runtime/invocation/id/response HTTP/1.1\r\n\r\n");
    record(f, &rd); /* 2 */
    send_str(rd.fd, "GET /other HTTP/1.1\r\n\r\n");
    record(f, &rd); /* 3 */
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/k/response HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\nok");
    record(f, &rd); /* 4 */
    close(rd.fd);

    /* Malformed: 400 and close. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "GARBAGE\r\n\r\n");
    record(f, &rd); /* 5 */
    f->flags[0] = sees_eof(&rd);
    close(rd.fd);

    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 1x\r\n\r\n");
    record(f, &rd); /* 6 */
    f->flags[1] = sees_eof(&rd);
    close(rd.fd);

    /* Too large by Content-Length: 413 at once, then close. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/big/response HTTP/1.1\r\n"
                    "Content-Length: 6291557\r\n\r\n");
    send_all(rd.fd, "xxxxxxxxxxxxxxxx", 16);
    record(f, &rd); /* 7 */
    f->flags[2] = sees_eof(&rd);
    close(rd.fd);

    /* Too large chunked: the 413 comes once the sum passes the limit. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/big/response HTTP/1.1\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n");
    char *chunk = bt_xcalloc(1, 1048576);
    for (int i = 0; i < 7; i++) {
        send_str(rd.fd, "100000\r\n");
        send_all(rd.fd, chunk, 1048576);
        send_str(rd.fd, "\r\n");
    }
    free(chunk);
    record(f, &rd); /* 8 */
    f->flags[3] = sees_eof(&rd);
    close(rd.fd);

    /* A head over 16 KiB: 431. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX-Big: ");
    char *pad = bt_xmalloc(20000);
    memset(pad, 'a', 20000);
    send_all(rd.fd, pad, 20000);
    free(pad);
    record(f, &rd); /* 9 */
    f->flags[4] = sees_eof(&rd);
    close(rd.fd);

    /* HTTP/1.0 and Connection: close end the connection after the answer. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/h/response HTTP/1.0\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    record(f, &rd); /* 10 */
    f->flags[5] = sees_eof(&rd);
    close(rd.fd);
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/h/response HTTP/1.1\r\n"
                    "Connection: Close\r\nContent-Length: 2\r\n\r\n{}");
    record(f, &rd); /* 11 */
    f->flags[6] = sees_eof(&rd);
    close(rd.fd);

    /* HTTP/1.0 closes even when it asks for keep-alive. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/h/response HTTP/1.0\r\n"
                    "Connection: keep-alive\r\nContent-Length: 2\r\n\r\n{}");
    record(f, &rd); /* 12 */
    f->flags[8] = sees_eof(&rd);
    close(rd.fd);

    /* An answer given later, after the handler returned. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/later/response HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    wait_calls(f, 5);
    f->flags[9] = quiet_for(rd.fd, 50);
    command(f, CMD_REPLY_LATER);
    record(f, &rd); /* 13 */
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/k2/response HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    record(f, &rd); /* 14 */
    close(rd.fd);

    /* Unknown transfer coding: 501. */
    rd = (reader){.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"
                    "Transfer-Encoding: gzip\r\n\r\n");
    record(f, &rd); /* 15 */
    f->flags[7] = sees_eof(&rd);
    close(rd.fd);
}

static void test_rejects(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_rejects, false);
    assert_int_equal(f.n_resp, 16);
    const char *not_found =
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 66\r\n\r\n"
        "{\"errorMessage\":\"Unknown Runtime API path\",\"errorType\":\"NotFound\"}";
    assert_string_equal(f.resp[0], not_found);
    assert_string_equal(f.resp[1], "HTTP/1.1 405 Method Not Allowed\r\n"
                                   "Content-Type: application/json\r\nAllow: GET\r\n"
                                   "Content-Length: 82\r\n\r\n"
                                   "{\"errorMessage\":\"Method not allowed for this path\","
                                   "\"errorType\":\"MethodNotAllowed\"}");
    assert_non_null(strstr(f.resp[2], "405 Method Not Allowed\r\n"));
    assert_non_null(strstr(f.resp[2], "\r\nAllow: POST\r\n"));
    assert_string_equal(f.resp[3], not_found);
    assert_string_equal(f.resp[4], ACCEPTED);
    /* Only the valid request reached the handler. */
    assert_int_equal(f.n_calls, 6); /* k, h (1.0), h (close), h (1.0), later, k2 */
    assert_string_equal(f.calls[0].request_id, "k");
    assert_string_equal(f.calls[0].body, "ok");
    const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                      "Content-Length: 66\r\nConnection: close\r\n\r\n"
                      "{\"errorMessage\":\"Malformed HTTP request\",\"errorType\":\"BadRequest\"}";
    assert_string_equal(f.resp[5], bad);
    assert_string_equal(f.resp[6], bad);
    const char *too_large =
        "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
        "Content-Length: 109\r\nConnection: close\r\n\r\n"
        "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\","
        "\"errorType\":\"RequestEntityTooLarge\"}";
    assert_string_equal(f.resp[7], too_large);
    assert_string_equal(f.resp[8], too_large);
    assert_int_equal(f.n_too_large, 2); /* the owner heard of both refusals */
    assert_string_equal(f.too_large_id, "big");
    assert_non_null(strstr(f.resp[9], "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    assert_non_null(strstr(f.resp[9], "\"errorType\":\"RequestHeaderFieldsTooLarge\""));
    assert_string_equal(f.resp[10], "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 15\r\nConnection: close\r\n\r\n"
                                    "{\"status\":\"OK\"}");
    assert_string_equal(f.resp[11], f.resp[10]);
    assert_string_equal(f.resp[12], f.resp[10]);
    assert_string_equal(f.resp[13],
                        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                        "Content-Length: 58\r\n\r\n"
                        "{\"errorMessage\":\"no\",\"errorType\":\"InvalidStateTransition\"}");
    assert_string_equal(f.resp[14], ACCEPTED);
    assert_string_equal(f.calls[5].request_id, "k2");
    assert_non_null(strstr(f.resp[15], "HTTP/1.1 501 Not Implemented\r\n"));
    for (int i = 0; i < 10; i++)
        assert_true(f.flags[i]);
    cleanup(&f);
}

/* ---- Keep-alive: 1,000 round trips of /next → /response on one connection. ---- */

#define ROUNDS 1000

static void client_loop(fixture *f)
{
    reader rd = {.fd = dial(f)};
    size_t ok = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < ROUNDS; i++) {
        send_str(rd.fd, NEXT_REQ);
        size_t n;
        char *s = read_response(&rd, &n);
        if (s != NULL && strstr(s, "Lambda-Runtime-Aws-Request-Id: rid\r\n") != NULL)
            ok++;
        free(s);
        send_str(rd.fd, "POST /2018-06-01/runtime/invocation/rid/response HTTP/1.1\r\n"
                        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        s = read_response(&rd, &n);
        if (s != NULL && strcmp(s, ACCEPTED) == 0)
            ok++;
        free(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    f->rate = ROUNDS / secs;
    f->flags[0] = ok == 2 * ROUNDS;
    close(rd.fd);
}

static void test_keepalive(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_loop, false);
    assert_true(f.flags[0]);
    assert_int_equal(f.n_total_calls, 2 * ROUNDS);
    printf("rapi: %d /next->/response round trips on one connection: %.0f per second\n", ROUNDS,
           f.rate);
    cleanup(&f);
}

/* ---- Abandon. ---- */

static void client_abandon(fixture *f)
{
    /* Closed by the client while /next is held. */
    int fd = dial(f);
    send_str(fd, NEXT_REQ);
    wait_calls(f, 1);
    close(fd);
    f->flags[0] = wait_abandoned(f, 1);
    /* Reset while /next is held. */
    fd = dial(f);
    send_str(fd, NEXT_REQ);
    wait_calls(f, 2);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    f->flags[1] = wait_abandoned(f, 2);
    /* A half-sent request and an answered one are not abandoned. */
    fd = dial(f);
    send_str(fd, "POST /2018-06-01/runtime/invocation/z/response HTTP/1.1\r\n"
                 "Content-Length: 10\r\n\r\n{}");
    close(fd);
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/z/response HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    record(f, &rd);
    close(rd.fd);
    usleep(50000);
}

static void test_abandon(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_abandon, true);
    assert_true(f.flags[0]);
    assert_true(f.flags[1]);
    assert_int_equal(f.n_abandoned, 2);
    assert_int_equal(f.n_held, 2);
    assert_null(f.held[0]); /* on_abandon handed back exactly the held requests */
    assert_null(f.held[1]);
    assert_true(f.abandoned[0] != NULL && f.abandoned[1] != NULL);
    assert_int_equal(f.n_calls, 3);
    assert_string_equal(f.resp[0], ACCEPTED);
    cleanup(&f);
}

/* ---- rapi_close with requests held, and from within a handler. ---- */

static void client_close(fixture *f)
{
    reader a = {.fd = dial(f)}, b = {.fd = dial(f)}, c = {.fd = dial(f)};
    send_str(a.fd, NEXT_REQ);
    send_str(b.fd, NEXT_REQ);
    send_str(c.fd, "POST /2018-06-01/runtime/invocation/z/response HTTP/1.1\r\n"
                   "Content-Length: 10\r\n\r\n{");
    wait_calls(f, 2);
    command(f, CMD_CLOSE);
    f->flags[0] = sees_eof(&a);
    f->flags[1] = sees_eof(&b);
    f->flags[2] = sees_eof(&c);
    close(a.fd);
    close(b.fd);
    close(c.fd);
}

static void test_close_held(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_close, true);
    assert_true(f.flags[0] && f.flags[1] && f.flags[2]);
    assert_int_equal(f.n_calls, 2);
    assert_int_equal(f.n_abandoned, 0);
    cleanup(&f);
}

static void client_close_in_handler(fixture *f)
{
    reader rd = {.fd = dial(f)};
    send_str(rd.fd, "POST /2018-06-01/runtime/invocation/close-me/response HTTP/1.1\r\n"
                    "Content-Length: 2\r\n\r\n{}" NEXT_REQ);
    f->flags[0] = sees_eof(&rd);
    close(rd.fd);
}

static void test_close_in_handler(void **state)
{
    (void)state;
    fixture f;
    run(&f, client_close_in_handler, false);
    assert_true(f.flags[0]);
    assert_int_equal(f.n_calls, 1); /* the pipelined /next is never parsed */
    assert_int_equal(f.n_abandoned, 0);
    cleanup(&f);
}

/* ---- on_accept: a refused peer is closed unread; an accepted one is served. ---- */

static int local_port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    return ntohs(a.sin_port);
}

static void client_refused(fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    pthread_mutex_lock(&f->lock);
    f->refuse_port = local_port_of(fd);
    pthread_mutex_unlock(&f->lock);
    a.sin_port = htons((uint16_t)f->port);
    connect(fd, (struct sockaddr *)&a, sizeof a);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader bad = {.fd = fd};
    send_str(bad.fd, NEXT_REQ);
    f->flags[0] = sees_eof(&bad);
    close(bad.fd);
    reader good = {.fd = dial(f)};
    send_str(good.fd, NEXT_REQ);
    record(f, &good);
    close(good.fd);
}

static void test_accept_check(void **state)
{
    (void)state;
    fixture f;
    run_checked(&f, client_refused, false, true);
    assert_true(f.flags[0]);
    assert_int_equal(f.n_accepts, 2);
    assert_int_equal(f.seen_addr, htonl(INADDR_LOOPBACK));
    assert_int_equal(f.seen_local_port, f.port);
    assert_int_equal(f.n_calls, 1); /* the refused /next never reached the owner */
    assert_int_equal(f.n_resp, 1);
    assert_non_null(f.resp[0]);
    assert_true(strncmp(f.resp[0], "HTTP/1.1 200 OK\r\n", 17) == 0);
    cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_held),       cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_error_routes),    cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_pipelining_held), cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_keepalive),       cmocka_unit_test(test_abandon),
        cmocka_unit_test(test_close_held),      cmocka_unit_test(test_close_in_handler),
        cmocka_unit_test(test_accept_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
