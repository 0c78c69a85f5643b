/*
 * fn-bootstrap.c — a `provided` runtime for bench/functions.py, as small as a compiled
 * bootstrap gets: one keep-alive connection to AWS_LAMBDA_RUNTIME_API, GET .../next, then
 * POST .../ID/response with the event as the result (an echo). No JSON parsing, nothing
 * allocated per invocation, so what it measures is Baton's side of the Runtime API.
 * Runtime API paths: /2018-06-01/runtime/invocation/next and .../{request id}/response.
 */
#define _GNU_SOURCE /* memmem */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_MAX (7 * 1024 * 1024) /* above the Runtime API's 6 MB payloads */

static char *in;
static size_t in_len;
static int fd = -1;

static void die(const char *what)
{
    fprintf(stderr, "fn-bootstrap: %s\n", what);
    exit(1);
}

static void connect_api(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == NULL)
        die("no AWS_LAMBDA_RUNTIME_API");
    char host[256];
    const char *colon = strrchr(api, ':');
    if (colon == NULL || (size_t)(colon - api) >= sizeof host)
        die("AWS_LAMBDA_RUNTIME_API is not HOST:PORT");
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        die("cannot resolve the Runtime API");
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        die("cannot connect to the Runtime API");
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void send_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            die("send failed");
        p += w;
        n -= (size_t)w;
    }
}

/* The value of header NAME in the head [head, end), copied into out (NUL-terminated). */
static int header(const char *head, const char *end, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = head; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && *v == ' ')
                v++;
            size_t vl = (size_t)(eol - v);
            if (vl > 0 && v[vl - 1] == '\r')
                vl--;
            if (vl >= cap)
                return -1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 0;
        }
        p = eol + 1;
    }
    return -1;
}

/* Reads one response; returns the head's length and sets *body_len. Leaves it at in[0..]. */
static size_t read_response(size_t *body_len)
{
    for (;;) {
        char *end = in_len >= 4 ? memmem(in, in_len, "\r\n\r\n", 4) : NULL;
        if (end != NULL) {
            size_t head_len = (size_t)(end - in) + 4;
            char cl[32];
            *body_len =
                header(in, end, "Content-Length", cl, sizeof cl) == 0 ? strtoul(cl, NULL, 10) : 0;
            if (head_len + *body_len > BUF_MAX)
                die("response too large");
            if (in_len >= head_len + *body_len)
                return head_len;
        }
        if (in_len == BUF_MAX)
            die("response too large");
        ssize_t n = recv(fd, in + in_len, BUF_MAX - in_len, 0);
        if (n <= 0)
            die("the Runtime API closed the connection");
        in_len += (size_t)n;
    }
}

static void consume(size_t n)
{
    memmove(in, in + n, in_len - n);
    in_len -= n;
}

int main(void)
{
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
                               "Host: runtime\r\n\r\n";
    in = malloc(BUF_MAX);
    if (in == NULL)
        die("out of memory");
    connect_api();
    for (;;) {
        size_t body_len;
        send_all(next, sizeof next - 1);
        size_t head_len = read_response(&body_len);
        char id[128], head[512];
        if (header(in, in + head_len, "Lambda-Runtime-Aws-Request-Id", id, sizeof id) != 0)
            die("no request id");
        int hl = snprintf(head, sizeof head,
                          "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n"
                          "Host: runtime\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          id, body_len);
        /* the head and the echoed event in one write where they fit */
        if (head_len >= (size_t)hl) {
            char *start = in + head_len - (size_t)hl;
            memcpy(start, head, (size_t)hl);
            send_all(start, (size_t)hl + body_len);
        } else {
            send_all(head, (size_t)hl);
            send_all(in + head_len, body_len);
        }
        consume(head_len + body_len);
        size_t ack_len;
        size_t ack_head = read_response(&ack_len);
        consume(ack_head + ack_len);
    }
}
