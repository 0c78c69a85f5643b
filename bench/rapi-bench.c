/*
 * rapi-bench.c — round trips per second through the Runtime API listener (fn/rapi.c): one
 * client thread on one keep-alive connection does GET /next → POST /response, as a
 * runtime does; the loop thread answers /next with a fixed event at once. Prints one line.
 *
 *   ./build-release/bench/rapi-bench [ROUND_TRIPS] [BODY_BYTES]
 */
#include "base/alloc.h"
#include "fn/rapi.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct bench {
    uv_loop_t loop;
    uv_async_t done;
    rapi *r;
    int port;
    long rounds;
    size_t body_len;
    char *body;
    long failures;
    double seconds;
} bench;

static void on_call(void *ud, rapi_request *req, const rapi_call *call)
{
    bench *b = ud;
    if (call->kind == RAPI_NEXT) {
        rapi_event ev = {.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
                         .deadline_ms = 1542409706888,
                         .invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f",
                         .trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
                         .body = b->body,
                         .body_len = b->body_len};
        rapi_send_event(req, &ev);
    } else {
        rapi_reply(req, 202, "{\"status\":\"OK\"}");
    }
}

static void on_abandon(void *ud, rapi_request *req)
{
    (void)ud;
    (void)req;
}

static void on_done(uv_async_t *a)
{
    bench *b = a->data;
    rapi_close(b->r);
    uv_close((uv_handle_t *)a, NULL);
}

/* Reads one response (head and Content-Length body) from fd, keeping what follows. */
static int read_response(int fd, char *buf, size_t cap, size_t *len)
{
    for (;;) {
        char *end = NULL;
        for (size_t i = 0; i + 4 <= *len; i++)
            if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
                end = buf + i + 4;
                break;
            }
        if (end != NULL) {
            size_t head = (size_t)(end - buf), clen = 0;
            char *cl = strstr(buf, "Content-Length: ");
            if (cl != NULL && cl < end)
                clen = strtoul(cl + 16, NULL, 10);
            if (*len >= head + clen) {
                int status = atoi(buf + 9);
                memmove(buf, buf + head + clen, *len - head - clen);
                *len -= head + clen;
                buf[*len] = '\0';
                return status;
            }
        }
        if (*len + 1 >= cap)
            return -1;
        ssize_t n = recv(fd, buf + *len, cap - 1 - *len, 0);
        if (n <= 0)
            return -1;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
}

static void *client(void *arg)
{
    bench *b = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t cap = b->body_len + 65536, len = 0;
    char *buf = bt_xmalloc(cap);
    char post[256];
    int post_len = snprintf(post, sizeof post,
                            "POST /2018-06-01/runtime/invocation/"
                            "8476a536-e9f4-11e8-9739-2dfe598c3fcd/response HTTP/1.1\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                            b->body_len);
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
                               "Host: 127.0.0.1\r\n\r\n";
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        b->failures = b->rounds;
        goto out;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < b->rounds; i++) {
        if (send(fd, next, sizeof next - 1, MSG_NOSIGNAL) < 0 ||
            read_response(fd, buf, cap, &len) != 200)
            b->failures++;
        /* Head and body in one write, as runtime clients send small results. */
        struct iovec iov[2] = {{post, (size_t)post_len}, {b->body, b->body_len}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
        if (sendmsg(fd, &m, MSG_NOSIGNAL) < 0 || read_response(fd, buf, cap, &len) != 202)
            b->failures++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    b->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
out:
    close(fd);
    free(buf);
    uv_async_send(&b->done);
    return NULL;
}

int main(int argc, char **argv)
{
    bench b = {.rounds = argc > 1 ? atol(argv[1]) : 100000,
               .body_len = argc > 2 ? (size_t)atol(argv[2]) : 64};
    b.body = bt_xmalloc(b.body_len + 1);
    memset(b.body, 'x', b.body_len);
    uv_loop_init(&b.loop);
    rapi_handlers h = {.ud = &b, .on_call = on_call, .on_abandon = on_abandon};
    if (rapi_listen(&b.loop, &h, &b.r, &b.port) != 0) {
        fprintf(stderr, "rapi-bench: cannot listen\n");
        return 1;
    }
    uv_async_init(&b.loop, &b.done, on_done);
    b.done.data = &b;
    pthread_t t;
    pthread_create(&t, NULL, client, &b);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    uv_loop_close(&b.loop);
    free(b.body);
    printf("rapi-bench: %ld round trips (/next + /response, %zu-byte bodies) in %.3f s: "
           "%.0f per second, %ld failures\n",
           b.rounds, b.body_len, b.seconds, (double)b.rounds / b.seconds, b.failures);
    return b.failures != 0;
}
