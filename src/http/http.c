/*
 * http.c — the front end of http.h on libmicrohttpd 0.9.75: a pool of cfg->threads threads,
 * each with its own epoll set, reads requests. A request whose body is complete is suspended
 * (it holds no thread) and handed to the handler; http_respond, on any thread, stores the
 * answer and resumes the connection, whose own thread then queues it (libmicrohttpd queues
 * responses only from the access handler of the connection's thread).
 *
 * A request is created when its request line is read (the URI log callback, the only place
 * that sees the raw query) and carries two references: libmicrohttpd's, dropped when it
 * reports the request finished (NOTIFY_COMPLETED), and the handler's, dropped by
 * http_respond. What the handler may read is copied out of the connection's memory, so a
 * request outlives its connection (client gone, server stopped); each request holds a
 * reference on the server, so a late http_respond after http_stop is safe.
 */
#include "http/http.h"
#include "base/alloc.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define DEFAULT_MAX_BODY        (8u << 20)
#define DEFAULT_MAX_HEADER      (32u << 10)
#define DEFAULT_MAX_CONNECTIONS 1024u
#define DEFAULT_THREADS         2u
#define DEFAULT_TIMEOUT_S       120u
/* Room in libmicrohttpd's per-connection memory beyond the request head: the parsed header
 * entries and the head of the response are built there too. */
#define HEAD_SLACK (8u << 10)
/* How long http_stop lets its 503s (and requests still arriving) reach their clients. */
#define DRAIN_MS 2000

/*
 * A request's life, as its connection's thread sees it (deliver() moves it from PENDING to
 * ANSWERED under s->lock while the connection is suspended).
 *
 *   READING ──body complete──▶ PENDING ──http_respond / http_stop's 503──▶ ANSWERED
 *      │                     (suspended,                                      │
 *      │ body over max_body   handler holds it)      resumed; access_handler ▼
 *      └──▶ DISCARDING ──body complete: 413──────────────────────────────▶ QUEUED
 *
 * A Content-Length over max_body is answered 413 at once (QUEUED) and the connection
 * closed; a chunked body that outgrows max_body is read to its end and dropped.
 */
enum req_state { REQ_READING, REQ_DISCARDING, REQ_PENDING, REQ_ANSWERED, REQ_QUEUED };

struct http_request {
    http_server *server;
    struct MHD_Connection *conn;
    atomic_int refs;
    enum req_state state;
    bool started;  /* the access handler has seen the headers */
    bool answered; /* under s->lock: deliver() has run (http_respond's or http_stop's) */
    uint64_t id;
    http_request *prev, *next; /* s->pending, while PENDING */

    char *query; /* raw query, or NULL */
    char *head;  /* one block: header pointers, then method, path, peer, headers */
    const char *method, *path, *peer;
    const char **headers; /* name, value, name, value, … */
    size_t n_headers;

    char *body; /* NUL-terminated; NULL while empty */
    size_t body_len, body_cap;

    struct MHD_Response *response; /* ANSWERED: what access_handler queues */
    unsigned status;
};

struct http_server {
    struct MHD_Daemon *daemon;
    int port;
    http_handler handler;
    void *ctx;
    size_t max_body;
    atomic_uint_fast64_t next_id;
    atomic_size_t refs; /* the owner's (until http_stop ends), plus one per request */

    pthread_mutex_t lock;  /* pending, and the state of PENDING requests */
    http_request *pending; /* handed to the handler, unanswered */
    atomic_bool stopping;  /* written under lock; read without it by request_done */

    /* http_stop waits for libmicrohttpd to finish every live request; a leaf lock, never
     * held while calling libmicrohttpd. */
    atomic_size_t n_live;
    pthread_mutex_t drain_lock;
    pthread_cond_t drained;
};

static void server_unref(http_server *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->drain_lock);
    pthread_cond_destroy(&s->drained);
    free(s);
}

static void request_unref(http_request *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    http_server *s = r->server;
    if (r->response != NULL)
        MHD_destroy_response(r->response);
    free(r->query);
    free(r->head);
    free(r->body);
    free(r);
    server_unref(s);
}

/* Called by libmicrohttpd with the raw URI ("/path%20x?a=b") before it splits and decodes
 * it; what we return becomes the request's context. */
static void *request_begin(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *s = cls;
    http_request *r = bt_xcalloc(1, sizeof *r);
    r->server = s;
    r->conn = conn;
    atomic_init(&r->refs, 1);
    r->state = REQ_READING;
    r->id = atomic_fetch_add(&s->next_id, 1);
    const char *q = uri != NULL ? strchr(uri, '?') : NULL;
    if (q != NULL && q[1] != '\0')
        r->query = bt_xstrdup(q + 1);
    atomic_fetch_add(&s->refs, 1);
    atomic_fetch_add(&s->n_live, 1);
    return r;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)conn;
    (void)why;
    http_server *s = cls;
    http_request *r = *con_cls;
    *con_cls = NULL;
    if (r != NULL)
        request_unref(r);
    /* Dekker-style with http_stop: it sets stopping, then reads n_live; we lower n_live,
     * then read stopping. One of us sees the other, so no wake-up is lost. */
    if (atomic_fetch_sub(&s->n_live, 1) == 1 && atomic_load(&s->stopping)) {
        pthread_mutex_lock(&s->drain_lock);
        pthread_cond_broadcast(&s->drained);
        pthread_mutex_unlock(&s->drain_lock);
    }
}

/* ---- The request head, copied out of the connection. ---- */

struct head_copy {
    size_t n, bytes; /* first pass: counts */
    const char **slot;
    char *text; /* second pass: where the next string goes */
};

static char *put_string(char **text, const char *s, size_t len)
{
    char *start = *text;
    memcpy(start, s, len);
    start[len] = '\0';
    *text += len + 1;
    return start;
}

static enum MHD_Result measure_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct head_copy *h = cls;
    h->n++;
    h->bytes += strlen(key) + 1 + (value != NULL ? strlen(value) : 0) + 1;
    return MHD_YES;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct head_copy *h = cls;
    *h->slot++ = put_string(&h->text, key, strlen(key));
    if (value == NULL)
        value = "";
    *h->slot++ = put_string(&h->text, value, strlen(value));
    return MHD_YES;
}

/* "127.0.0.1:53412" or "[::1]:53412". */
static void format_peer(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, size, "%s:%u", ip, port);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, size, "[%s]:%u", ip, port);
    } else {
        snprintf(out, size, "?");
    }
}

/* A request sent through a proxy names an absolute URI ("http://sync-baton:8083/x"): its
 * path is what matters here, whatever the host (README: the sync- host prefix). */
static const char *origin_path(const char *path)
{
    const char *p = NULL;
    if (strncmp(path, "http://", 7) == 0)
        p = path + 7;
    else if (strncmp(path, "https://", 8) == 0)
        p = path + 8;
    if (p == NULL)
        return path;
    const char *slash = strchr(p, '/');
    return slash ? slash : "/";
}

/* One allocation for everything the handler reads besides the body and the query. */
static void copy_head(http_request *r, const char *method, const char *path)
{
    path = origin_path(path);
    char peer[INET6_ADDRSTRLEN + 16];
    format_peer(r->conn, peer, sizeof peer);
    struct head_copy h = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, measure_header, &h);
    size_t method_len = strlen(method), path_len = strlen(path), peer_len = strlen(peer);
    size_t pointers = 2 * h.n * sizeof(char *);
    r->head = bt_xmalloc(pointers + h.bytes + method_len + path_len + peer_len + 3);
    r->headers = (const char **)(void *)r->head;
    r->n_headers = h.n;
    h.slot = r->headers;
    h.text = r->head + pointers;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, copy_header, &h);
    r->method = put_string(&h.text, method, method_len);
    r->path = put_string(&h.text, path, path_len);
    r->peer = put_string(&h.text, peer, peer_len);
}

/* ---- Answers. ---- */

static struct MHD_Response *make_response(const char *content_type, const char *body, size_t len,
                                          const char *const *extra)
{
    /* MUST_COPY: libmicrohttpd copies the body and never writes through the pointer, which
     * its 0.9.75 interface declares non-const. */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) { /* only when out of memory: abort, as bt_xmalloc does */
        fprintf(stderr, "baton: out of memory building a %zu-byte response\n", len);
        abort();
    }
    if (content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; extra != NULL && extra[i] != NULL && extra[i + 1] != NULL; i += 2)
        MHD_add_response_header(resp, extra[i], extra[i + 1]);
    return resp;
}

/* The front end's own answers (413, 503): short text; a 503 also closes the connection,
 * since the server is going away. */
static struct MHD_Response *own_response(unsigned status)
{
    static const char *const closing[] = {MHD_HTTP_HEADER_CONNECTION, "close", NULL};
    const char *text =
        status == MHD_HTTP_CONTENT_TOO_LARGE ? "request body too large\n" : "server stopping\n";
    return make_response("text/plain", text, strlen(text),
                         status == MHD_HTTP_SERVICE_UNAVAILABLE ? closing : NULL);
}

static enum MHD_Result queue_own(struct MHD_Connection *conn, http_request *r, unsigned status)
{
    struct MHD_Response *resp = own_response(status);
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->state = REQ_QUEUED;
    return rc;
}

/* Under s->lock, r PENDING: takes ownership of resp and wakes the connection. */
static void deliver(http_server *s, http_request *r, unsigned status, struct MHD_Response *resp)
{
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        s->pending = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->response = resp;
    r->status = status;
    r->state = REQ_ANSWERED;
    r->answered = true;
    MHD_resume_connection(r->conn);
}

/* ---- The access handler: called for the head, each piece of body, the end of the body,
 * and once more after http_respond resumes the connection. ---- */

static bool over_limit(const http_request *r, const http_server *s)
{
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return false;
    /* libmicrohttpd has already refused a Content-Length that is not a number. */
    return strtoull(cl, NULL, 10) > s->max_body;
}

static void take_body(http_request *r, const http_server *s, const char *data, size_t n)
{
    if (r->state == REQ_DISCARDING)
        return;
    if (n > s->max_body - r->body_len) {
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        r->state = REQ_DISCARDING;
        return;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap != 0 ? r->body_cap : 1024;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        r->body = bt_xrealloc(r->body, cap);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
}

/* The whole request is in: hand it over, unless the server is stopping. */
static enum MHD_Result hand_over(struct MHD_Connection *conn, http_server *s, http_request *r)
{
    pthread_mutex_lock(&s->lock);
    if (atomic_load(&s->stopping)) {
        pthread_mutex_unlock(&s->lock);
        return queue_own(conn, r, MHD_HTTP_SERVICE_UNAVAILABLE);
    }
    r->state = REQ_PENDING;
    r->next = s->pending;
    if (s->pending != NULL)
        s->pending->prev = r;
    s->pending = r;
    atomic_fetch_add(&r->refs, 1); /* the handler's, dropped by http_respond */
    MHD_suspend_connection(conn);
    pthread_mutex_unlock(&s->lock);
    s->handler(s->ctx, r);
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    http_server *s = cls;
    http_request *r = *con_cls;
    if (!r->started) {
        r->started = true;
        copy_head(r, method, url);
        if (over_limit(r, s))
            return queue_own(conn, r, MHD_HTTP_CONTENT_TOO_LARGE);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        take_body(r, s, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    switch (r->state) {
    case REQ_READING:
        return hand_over(conn, s, r);
    case REQ_DISCARDING:
        return queue_own(conn, r, MHD_HTTP_CONTENT_TOO_LARGE);
    case REQ_ANSWERED: {
        /* Resumed by deliver(): its writes happened before libmicrohttpd's resume lock. */
        enum MHD_Result rc = MHD_queue_response(conn, r->status, r->response);
        MHD_destroy_response(r->response);
        r->response = NULL;
        r->state = REQ_QUEUED;
        return rc;
    }
    case REQ_PENDING:
    case REQ_QUEUED:
        break;
    }
    assert(!"access handler called for a suspended or answered request");
    return MHD_NO;
}

/* ---- Start and stop. ---- */

/* Once stopping, new connections are closed as soon as they are accepted. (MHD_quiesce_daemon
 * would take the listening socket out of the epoll sets instead, but in 0.9.75 it races the
 * pool's threads doing the same and aborts.) */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)addr;
    (void)len;
    const http_server *s = cls;
    return atomic_load(&s->stopping) ? MHD_NO : MHD_YES;
}

static int listen_socket(const char *host, int port, int *bound, bt_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
    if (port < 0 || port > 65535)
        return bt_err_set(err, BT_EINVAL, "port %d is not between 0 and 65535", port);
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        len = sizeof *in;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        len = sizeof *in6;
    } else {
        return bt_err_set(err, BT_EINVAL, "\"%s\" is not an IPv4 or IPv6 address", host);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return bt_err_set(err, BT_EIO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        return bt_err_set(err, BT_EIO, "cannot listen on %s port %d: %s", host, port, strerror(e));
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound = ntohs(ss.ss_family == AF_INET ? in->sin_port : in6->sin6_port);
    return fd;
}

http_server *http_start(const http_config *cfg, http_handler handler, void *ctx, bt_err *err)
{
    bt_err_clear(err);
    int port = 0;
    int fd = listen_socket(cfg->host != NULL ? cfg->host : "127.0.0.1", cfg->port, &port, err);
    if (fd < 0)
        return NULL;
    http_server *s = bt_xcalloc(1, sizeof *s);
    s->port = port;
    s->handler = handler;
    s->ctx = ctx;
    s->max_body = cfg->max_body != 0 ? cfg->max_body : DEFAULT_MAX_BODY;
    atomic_init(&s->next_id, 1);
    atomic_init(&s->refs, 1);
    atomic_init(&s->stopping, false);
    atomic_init(&s->n_live, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->drain_lock, NULL);
    pthread_cond_init(&s->drained, NULL);

    size_t max_header = cfg->max_header != 0 ? cfg->max_header : DEFAULT_MAX_HEADER;
    unsigned threads = cfg->threads != 0 ? cfg->threads : DEFAULT_THREADS;
    unsigned max_connections =
        cfg->max_connections != 0 ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
    unsigned timeout_s = cfg->timeout_s != 0 ? cfg->timeout_s : DEFAULT_TIMEOUT_S;
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0,
        accept_policy, s, access_handler, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(max_header + HEAD_SLACK), MHD_OPTION_URI_LOG_CALLBACK, request_begin, s,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        bt_err_set(err, BT_EIO, "libmicrohttpd could not start %u threads on port %d", threads,
                   port);
        close(fd);
        server_unref(s);
        return NULL;
    }
    return s;
}

int http_port(const http_server *s)
{
    return s->port;
}

/* Waits until libmicrohttpd has finished every live request, or DRAIN_MS. */
static void drain(http_server *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DRAIN_MS / 1000;
    until.tv_nsec += (DRAIN_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->drain_lock);
    while (atomic_load(&s->n_live) != 0)
        if (pthread_cond_timedwait(&s->drained, &s->drain_lock, &until) != 0)
            break;
    pthread_mutex_unlock(&s->drain_lock);
}

void http_stop(http_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stopping, true);
    while (s->pending != NULL)
        deliver(s, s->pending, MHD_HTTP_SERVICE_UNAVAILABLE,
                own_response(MHD_HTTP_SERVICE_UNAVAILABLE));
    pthread_mutex_unlock(&s->lock);
    /* libmicrohttpd drops whatever is unsent when it stops, and must not stop while a
     * connection is suspended: both are settled once the 503s are out. */
    drain(s);
    MHD_stop_daemon(s->daemon); /* closes the listening socket too */
    server_unref(s);
}

/* ---- The request, as the handler sees it. ---- */

const char *http_method(const http_request *r)
{
    return r->method;
}

const char *http_path(const http_request *r)
{
    return r->path;
}

const char *http_query(const http_request *r)
{
    return r->query != NULL ? r->query : "";
}

const char *http_header(const http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[2 * i], name) == 0)
            return r->headers[2 * i + 1];
    return NULL;
}

size_t http_n_headers(const http_request *r)
{
    return r->n_headers;
}

void http_header_at(const http_request *r, size_t i, const char **name, const char **value)
{
    assert(i < r->n_headers);
    *name = r->headers[2 * i];
    *value = r->headers[2 * i + 1];
}

const char *http_body(const http_request *r, size_t *len)
{
    if (len != NULL)
        *len = r->body_len;
    return r->body != NULL ? r->body : "";
}

const char *http_peer(const http_request *r)
{
    return r->peer;
}

uint64_t http_request_id(const http_request *r)
{
    return r->id;
}

void http_respond(http_request *r, int status, const char *content_type, const char *body,
                  size_t len, const char *const *extra)
{
    assert(status >= 100 && status <= 999);
    http_server *s = r->server;
    struct MHD_Response *resp = make_response(content_type, body, len, extra);
    pthread_mutex_lock(&s->lock);
    if (!r->answered) {
        deliver(s, r, (unsigned)status, resp);
        resp = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (resp != NULL) /* http_stop answered it already */
        MHD_destroy_response(resp);
    request_unref(r);
}
