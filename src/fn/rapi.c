/*
 * rapi.c — the Lambda Runtime API of one worker: an HTTP/1.1 server written for this one
 * job, on the engine thread's libuv loop. A worker's runtime does /next → /response in a
 * loop on one keep-alive connection, so that round trip is the hot path: requests are parsed
 * in place in one growing read buffer per connection, and an answer goes out with one
 * uv_try_write of header and body (copied only if the socket would block).
 *
 * A connection has at most one request with its owner (`busy`): the next pipelined request
 * is parsed only once that one is answered, so answers leave in request order. The request
 * object is embedded in the connection; when the connection dies while busy the owner hears
 * on_abandon, later answers to it are ignored, and the memory goes in the close callback.
 *
 * Connection life: reading → (busy ↔ reading) → draining (answer sent with close: write side
 * shut, input discarded until EOF) → closed (conn_close; freed in on_conn_closed).
 */
#include "fn/rapi.h"

#include "base/alloc.h"
#include "base/buf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_MAX    16384    /* request line and headers */
#define READ_MIN    65536    /* free space offered to each read */
#define KEEP_MAX    262144   /* a bigger read buffer is dropped once idle */
#define DRAIN_MAX   16777216 /* input discarded after a closing answer before giving up */
#define CHUNK_LINE  1024     /* a chunk-size line or a trailer line */
#define BUSY_BUFFER (HEAD_MAX + RAPI_BODY_MAX + READ_MIN) /* read more only below this */

#define PREFIX "/2018-06-01/runtime/"

typedef struct conn conn;

struct rapi_request {
    conn *c;
    rapi_kind kind;
    bool is_pending; /* delivered to the owner, not yet answered */
    bool keep_alive;
};

enum chunk_state { CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILER };

/* The request being parsed. Offsets are relative to conn.off, the start of the request in
 * the read buffer, so that the buffer can move and be compacted under them. */
typedef struct parse {
    size_t scan;     /* head: where the search for the blank line resumes */
    size_t head_len; /* 0 until the head is complete; then the offset of the body */
    int status;      /* 0, or the error the route earns (404, 405) once the body is read */
    const char *allow;
    rapi_kind kind;
    size_t id_off, ctype_off, etype_off; /* 0: absent */
    bool keep_alive, is_chunked, expects_continue, sent_continue;
    size_t content_length;
    /* chunked */
    enum chunk_state chunk;
    size_t in_off;   /* next undecoded byte */
    size_t body_len; /* decoded so far, at head_len */
    size_t chunk_left;
    size_t trailer_len;
} parse;

struct conn {
    rapi *r;
    uv_tcp_t tcp;
    conn *prev, *next;
    char *buf; /* [off, len) unconsumed input; cap > len always (room for a NUL) */
    size_t off, len, cap;
    parse p;
    rapi_request req;
    bt_buf head; /* response head, reused */
    uv_shutdown_t shutdown;
    size_t drained;
    conn *resume_next; /* in rapi.resume_list while is_queued */
    bool is_busy, is_draining, is_closing, is_read_stopped, in_process, is_queued;
};

struct rapi {
    uv_loop_t *loop;
    rapi_handlers h;
    uv_tcp_t listener;
    conn *conns;
    uv_idle_t resume;  /* runs while resume_list is not empty */
    conn *resume_list; /* answered, with input buffered: parsed on the next turn */
    int n_handles;     /* open or closing handles; the listener and resume count */
    bool is_closing;
};

typedef struct write_req {
    uv_write_t w;
    conn *c;
    char data[];
} write_req;

static void process(conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

/* ---- Closing. ---- */

static void rapi_maybe_free(rapi *r)
{
    if (r->is_closing && r->n_handles == 0)
        free(r);
}

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    rapi *r = c->r;
    if (c->is_queued) {
        conn **pp = &r->resume_list;
        while (*pp != c)
            pp = &(*pp)->resume_next;
        *pp = c->resume_next;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        r->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->buf);
    bt_buf_fini(&c->head);
    free(c);
    r->n_handles--;
    rapi_maybe_free(r);
}

static void conn_close(conn *c)
{
    if (c->is_closing)
        return;
    c->is_closing = true;
    c->req.is_pending = false;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* The peer went away or the socket failed: tell the owner about a request it holds. */
static void conn_fail(conn *c)
{
    if (c->is_closing)
        return;
    if (c->req.is_pending && !c->r->is_closing) {
        c->req.is_pending = false;
        c->r->h.on_abandon(c->r->h.ud, &c->req);
    }
    conn_close(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    rapi *r = h->data;
    r->n_handles--;
    rapi_maybe_free(r);
}

void rapi_close(rapi *r)
{
    if (r == NULL || r->is_closing)
        return;
    r->is_closing = true;
    uv_close((uv_handle_t *)&r->listener, on_handle_closed);
    uv_close((uv_handle_t *)&r->resume, on_handle_closed);
    for (conn *c = r->conns; c != NULL; c = c->next)
        conn_close(c);
}

/* ---- Writing. ---- */

static void on_write(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    conn *c = wr->c;
    free(wr);
    if (status < 0)
        conn_fail(c);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    if (status < 0)
        conn_close(s->data);
}

/* Sends head and body; what the socket does not take at once is copied and queued behind
 * earlier writes (uv_try_write refuses while any are queued, so order holds). */
static void conn_write(conn *c, const char *head, size_t head_len, const char *body,
                       size_t body_len)
{
    if (c->is_closing)
        return;
    /* libuv's buffers are not const, but writing never changes them. */
    uv_buf_t bufs[2] = {uv_buf_init((char *)(uintptr_t)head, (unsigned)head_len),
                        uv_buf_init((char *)(uintptr_t)body, (unsigned)body_len)};
    unsigned n_bufs = body_len > 0 ? 2 : 1;
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, n_bufs);
    if (n < 0 && n != UV_EAGAIN) {
        conn_fail(c);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    if (done == head_len + body_len)
        return;
    size_t rest = head_len + body_len - done;
    write_req *wr = bt_xmalloc(sizeof *wr + rest);
    wr->c = c;
    char *p = wr->data;
    if (done < head_len) {
        memcpy(p, head + done, head_len - done);
        p += head_len - done;
        memcpy(p, body, body_len);
    } else {
        memcpy(p, body + (done - head_len), rest);
    }
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)rest);
    int rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        free(wr);
        conn_fail(c);
    }
}

/* After an answer that closes: shut the write side once queued writes are out, then
 * discard input until the peer closes too, so it reads the answer instead of a reset. */
static void conn_drain(conn *c)
{
    if (c->is_closing || c->is_draining)
        return;
    c->is_draining = true;
    c->off = c->len = 0;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    if (c->is_read_stopped) {
        c->is_read_stopped = false;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
            conn_close(c);
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

static void put_u64(bt_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    bt_buf_append(b, tmp + i, sizeof tmp - i);
}

static void put_status_line(bt_buf *b, int status)
{
    bt_buf_reset(b);
    bt_buf_puts(b, "HTTP/1.1 ");
    put_u64(b, (uint64_t)status);
    bt_buf_putc(b, ' ');
    bt_buf_puts(b, reason(status));
    bt_buf_puts(b, "\r\n");
}

/* A header from the owner; CR, LF and other controls become spaces so that a value (a
 * client context is JSON text, which may hold newlines) cannot end the header early. */
static void put_header(bt_buf *b, const char *name, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    bt_buf_puts(b, name);
    bt_buf_puts(b, ": ");
    size_t start = b->len;
    bt_buf_puts(b, value);
    for (size_t i = start; i < b->len; i++)
        if ((unsigned char)b->data[i] < 0x20 && b->data[i] != '\t')
            b->data[i] = ' ';
    bt_buf_puts(b, "\r\n");
}

/* Ends the head, sends head and body, and closes after them unless the connection stays. */
static void finish(conn *c, const char *body, size_t body_len, bool keep_alive)
{
    bt_buf *b = &c->head;
    bt_buf_puts(b, "Content-Length: ");
    put_u64(b, body_len);
    bt_buf_puts(b, keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
    conn_write(c, b->data, b->len, body, body_len);
    if (!keep_alive)
        conn_drain(c);
}

static void reply_json(conn *c, int status, const char *json, bool keep_alive, const char *allow)
{
    bt_buf *b = &c->head;
    put_status_line(b, status);
    size_t len = json != NULL ? strlen(json) : 0;
    if (json != NULL)
        bt_buf_puts(b, "Content-Type: application/json\r\n");
    if (allow != NULL)
        put_header(b, "Allow", allow);
    finish(c, json, len, keep_alive);
}

/* rapi's own answers, given before the request reaches a handler. */
static void reply_error(conn *c, int status, bool keep_alive)
{
    const char *json;
    switch (status) {
    case 404:
        json = "{\"errorMessage\":\"Unknown Runtime API path\",\"errorType\":\"NotFound\"}";
        break;
    case 405:
        json = "{\"errorMessage\":\"Method not allowed for this path\","
               "\"errorType\":\"MethodNotAllowed\"}";
        break;
    case 413:
        json = "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\","
               "\"errorType\":\"RequestEntityTooLarge\"}";
        break;
    case 431:
        json = "{\"errorMessage\":\"Request header fields too large\","
               "\"errorType\":\"RequestHeaderFieldsTooLarge\"}";
        break;
    case 501:
        json = "{\"errorMessage\":\"Unsupported transfer encoding\","
               "\"errorType\":\"NotImplemented\"}";
        break;
    default:
        json = "{\"errorMessage\":\"Malformed HTTP request\",\"errorType\":\"BadRequest\"}";
        break;
    }
    reply_json(c, status, json, keep_alive, status == 405 ? c->p.allow : NULL);
}

static void on_resume(uv_idle_t *idle)
{
    rapi *r = idle->data;
    conn *list = r->resume_list;
    r->resume_list = NULL;
    uv_idle_stop(idle);
    while (list != NULL) {
        conn *c = list;
        list = c->resume_next;
        c->is_queued = false;
        if (!c->is_closing && !c->is_busy)
            process(c);
    }
}

/* The owner answered: the connection may go on with the input it has buffered. That is
 * parsed on the loop's next turn, not here, so that no handler runs inside the owner's
 * rapi_send_event or rapi_reply. */
static void answered(conn *c)
{
    c->is_busy = false;
    if (c->is_closing || c->is_draining || c->in_process)
        return;
    if (c->is_read_stopped) {
        c->is_read_stopped = false;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
            conn_fail(c);
            return;
        }
    }
    if (c->len > c->off && !c->is_queued) {
        rapi *r = c->r;
        c->is_queued = true;
        c->resume_next = r->resume_list;
        r->resume_list = c;
        uv_idle_start(&r->resume, on_resume);
    }
}

void rapi_send_event(rapi_request *req, const rapi_event *ev)
{
    conn *c = req->c;
    if (!req->is_pending || c->is_closing)
        return;
    assert(req->kind == RAPI_NEXT);
    req->is_pending = false;
    bt_buf *b = &c->head;
    put_status_line(b, 200);
    bt_buf_puts(b, "Content-Type: application/json\r\n");
    put_header(b, "Lambda-Runtime-Aws-Request-Id", ev->request_id);
    bt_buf_puts(b, "Lambda-Runtime-Deadline-Ms: ");
    if (ev->deadline_ms < 0) {
        bt_buf_putc(b, '-');
        put_u64(b, (uint64_t)-ev->deadline_ms);
    } else {
        put_u64(b, (uint64_t)ev->deadline_ms);
    }
    bt_buf_puts(b, "\r\n");
    put_header(b, "Lambda-Runtime-Invoked-Function-Arn", ev->invoked_function_arn);
    put_header(b, "Lambda-Runtime-Trace-Id", ev->trace_id);
    put_header(b, "Lambda-Runtime-Client-Context", ev->client_context);
    put_header(b, "Lambda-Runtime-Cognito-Identity", ev->cognito_identity);
    finish(c, ev->body, ev->body != NULL ? ev->body_len : 0, req->keep_alive);
    answered(c);
}

void rapi_reply(rapi_request *req, int status, const char *json_body)
{
    conn *c = req->c;
    if (!req->is_pending || c->is_closing)
        return;
    req->is_pending = false;
    reply_json(c, status, json_body, req->keep_alive, NULL);
    answered(c);
}

/* ---- Parsing. ---- */

static bool token_in(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return true;
    }
    return false;
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Which route the target names; the {id} is cut out in place (NUL-terminated). */
static void route(conn *c, char *base, char *target, size_t n, bool is_get, bool is_post)
{
    parse *p = &c->p;
    char *q = memchr(target, '?', n);
    if (q != NULL)
        n = (size_t)(q - target);
    size_t pl = sizeof PREFIX - 1;
    p->status = 404;
    if (n < pl || memcmp(target, PREFIX, pl) != 0)
        return;
    char *s = target + pl;
    size_t sn = n - pl;
#define IS(lit) (sn == sizeof lit - 1 && memcmp(s, lit, sn) == 0)
    if (IS("invocation/next")) {
        p->kind = RAPI_NEXT;
        p->allow = "GET";
        p->status = is_get ? 0 : 405;
        return;
    }
    if (IS("init/error")) {
        p->kind = RAPI_INIT_ERROR;
        p->allow = "POST";
        p->status = is_post ? 0 : 405;
        return;
    }
#undef IS
    static const char inv[] = "invocation/";
    if (sn <= sizeof inv - 1 || memcmp(s, inv, sizeof inv - 1) != 0)
        return;
    char *id = s + sizeof inv - 1;
    char *end = s + sn;
    char *slash = memchr(id, '/', (size_t)(end - id));
    if (slash == NULL || slash == id)
        return;
    size_t rest = (size_t)(end - slash - 1);
    if (rest == 8 && memcmp(slash + 1, "response", 8) == 0)
        p->kind = RAPI_RESPONSE;
    else if (rest == 5 && memcmp(slash + 1, "error", 5) == 0)
        p->kind = RAPI_ERROR;
    else
        return;
    *slash = '\0';
    p->id_off = (size_t)(id - base);
    p->allow = "POST";
    p->status = is_post ? 0 : 405;
}

/* Parses the complete head [0, head_len) of the request at base. 0, or the status of an
 * answer after which the connection closes (400, 413, 501). */
static int parse_head(conn *c, char *base, size_t head_len)
{
    parse *p = &c->p;
    char *end = base + head_len - 2; /* the blank line's CRLF */
    char *line = base;
    char *eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL || eol == line || eol[-1] != '\r')
        return 400;
    /* Request line: METHOD SP target SP HTTP/1.x */
    char *sp1 = memchr(line, ' ', (size_t)(eol - line));
    if (sp1 == NULL)
        return 400;
    char *target = sp1 + 1;
    char *sp2 = memchr(target, ' ', (size_t)(eol - target));
    if (sp2 == NULL || sp2 == target || target[0] != '/')
        return 400;
    char *version = sp2 + 1;
    size_t vlen = (size_t)(eol - 1 - version);
    if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0)
        return 400;
    bool is_http10 = version[7] == '0'; /* closes after each answer, keep-alive or not */
    if (version[7] == '1')
        p->keep_alive = true;
    else if (version[7] == '0')
        p->keep_alive = false;
    else
        return 400;
    size_t mlen = (size_t)(sp1 - line);
    bool is_get = mlen == 3 && memcmp(line, "GET", 3) == 0;
    bool is_post = mlen == 4 && memcmp(line, "POST", 4) == 0;
    if (mlen == 0)
        return 400;
    route(c, base, target, (size_t)(sp2 - target), is_get, is_post);

    bool has_length = false, has_te = false;
    for (line = eol + 1; line < end; line = eol + 1) {
        eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL || eol == line || eol[-1] != '\r')
            return 400;
        char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon == NULL || colon == line)
            return 400;
        for (char *k = line; k < colon; k++)
            if (*k <= ' ' || *k == 0x7f)
                return 400; /* no whitespace in or after a field name, nor obs-fold */
        char *v = colon + 1;
        char *ve = eol - 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (char *k = v; k < ve; k++)
            if (*k == '\0' || *k == '\r')
                return 400;
        size_t nl = (size_t)(colon - line);
        size_t vl = (size_t)(ve - v);
        if (name_is(line, nl, "content-length")) {
            if (vl == 0 || vl > 19)
                return 400;
            size_t n = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return 400;
                n = n * 10 + (size_t)(v[i] - '0');
            }
            if (has_length && n != p->content_length)
                return 400;
            has_length = true;
            p->content_length = n;
        } else if (name_is(line, nl, "transfer-encoding")) {
            if (has_te || !(vl == 7 && strncasecmp(v, "chunked", 7) == 0))
                return 501;
            has_te = true;
            p->is_chunked = true;
        } else if (name_is(line, nl, "connection")) {
            if (token_in(v, vl, "close"))
                p->keep_alive = false;
            else if (token_in(v, vl, "keep-alive") && !is_http10)
                p->keep_alive = true;
        } else if (name_is(line, nl, "expect")) {
            if (vl == 12 && strncasecmp(v, "100-continue", 12) == 0)
                p->expects_continue = true;
        } else if (name_is(line, nl, "content-type")) {
            *ve = '\0';
            p->ctype_off = (size_t)(v - base);
        } else if (name_is(line, nl, "lambda-runtime-function-error-type")) {
            *ve = '\0';
            p->etype_off = (size_t)(v - base);
        }
    }
    if (has_length && has_te)
        return 400;
    if (!p->is_chunked && p->content_length > RAPI_BODY_MAX)
        return 413;
    p->in_off = head_len;
    return 0;
}

/* Decodes chunks in place: data moves down to [head_len, head_len + body_len), each byte
 * once. 1 when the last chunk and trailers are in, 0 for more input, or an error status. */
static int decode_chunks(conn *c, char *base, size_t avail)
{
    parse *p = &c->p;
    for (;;) {
        char *in = base + p->in_off;
        size_t left = avail - p->in_off;
        switch (p->chunk) {
        case CHUNK_SIZE: {
            char *nl = memchr(in, '\n', left < CHUNK_LINE ? left : CHUNK_LINE);
            if (nl == NULL)
                return left >= CHUNK_LINE ? 400 : 0;
            if (nl == in || nl[-1] != '\r')
                return 400;
            size_t size = 0;
            char *k = in;
            for (; k < nl - 1; k++) {
                int d;
                if (*k >= '0' && *k <= '9')
                    d = *k - '0';
                else if (*k >= 'a' && *k <= 'f')
                    d = *k - 'a' + 10;
                else if (*k >= 'A' && *k <= 'F')
                    d = *k - 'A' + 10;
                else
                    break;
                if (size > RAPI_BODY_MAX)
                    return 413;
                size = size * 16 + (size_t)d;
            }
            if (k == in || (k < nl - 1 && *k != ';' && *k != ' ' && *k != '\t'))
                return 400;
            if (p->body_len + size > RAPI_BODY_MAX)
                return 413;
            p->in_off += (size_t)(nl + 1 - in);
            p->chunk_left = size;
            p->chunk = size == 0 ? CHUNK_TRAILER : CHUNK_DATA;
            break;
        }
        case CHUNK_DATA: {
            size_t n = left < p->chunk_left ? left : p->chunk_left;
            if (n == 0)
                return 0;
            char *dst = base + p->head_len + p->body_len;
            if (dst != in)
                memmove(dst, in, n);
            p->body_len += n;
            p->in_off += n;
            p->chunk_left -= n;
            if (p->chunk_left == 0)
                p->chunk = CHUNK_DATA_END;
            break;
        }
        case CHUNK_DATA_END:
            if (left < 2)
                return 0;
            if (in[0] != '\r' || in[1] != '\n')
                return 400;
            p->in_off += 2;
            p->chunk = CHUNK_SIZE;
            break;
        case CHUNK_TRAILER: {
            char *nl = memchr(in, '\n', left < CHUNK_LINE ? left : CHUNK_LINE);
            if (nl == NULL)
                return left >= CHUNK_LINE ? 400 : 0;
            if (nl == in || nl[-1] != '\r')
                return 400;
            size_t n = (size_t)(nl + 1 - in);
            p->in_off += n;
            if (n == 2)
                return 1;
            p->trailer_len += n;
            if (p->trailer_len > HEAD_MAX)
                return 431;
            break;
        }
        }
    }
}

/* A body above RAPI_BODY_MAX: 413 and close; the owner hears of a /response or /error
 * refused so, since the runtime's answer for the invocation will not come. */
static void refuse_too_large(conn *c, char *base)
{
    parse *p = &c->p;
    rapi *r = c->r;
    char *id = NULL;
    rapi_kind kind = p->kind;
    if (p->status == 0 && p->id_off != 0 && (kind == RAPI_RESPONSE || kind == RAPI_ERROR) &&
        r->h.on_too_large != NULL)
        id = bt_xstrdup(base + p->id_off);
    reply_error(c, 413, false);
    if (id != NULL && !r->is_closing)
        r->h.on_too_large(r->h.ud, kind, id);
    free(id);
}

/* Hands the complete request at base to its handler, or answers it itself. */
static void dispatch(conn *c, char *base)
{
    parse *p = &c->p;
    rapi *r = c->r;
    if (p->status != 0) {
        reply_error(c, p->status, p->keep_alive);
        return;
    }
    size_t body_len = p->is_chunked ? p->body_len : p->content_length;
    char *body = base + p->head_len;
    /* The byte after the body may be the next request's first: restored after the call. */
    char saved = body[body_len];
    body[body_len] = '\0';
    rapi_call call = {
        .kind = p->kind,
        .request_id = p->id_off ? base + p->id_off : NULL,
        .body = body,
        .body_len = body_len,
        .error_type = p->etype_off ? base + p->etype_off : NULL,
        .content_type = p->ctype_off ? base + p->ctype_off : NULL,
    };
    c->req.kind = p->kind;
    c->req.keep_alive = p->keep_alive;
    c->req.is_pending = true;
    c->is_busy = true;
    r->h.on_call(r->h.ud, &c->req, &call);
    body[body_len] = saved;
}

/* The CRLF CRLF that ends a head, searched in [from, lim) of base. */
static char *find_blank_line(char *base, size_t from, size_t lim)
{
    size_t i = from;
    while (i < lim) {
        char *nl = memchr(base + i, '\n', lim - i);
        if (nl == NULL)
            return NULL;
        i = (size_t)(nl - base);
        if (i >= 3 && nl[-1] == '\r' && nl[-2] == '\n' && nl[-3] == '\r')
            return nl - 3;
        i++;
    }
    return NULL;
}

/* Parses and dispatches the buffered requests, one at a time, while none is with the
 * owner. */
static void process(conn *c)
{
    c->in_process = true;
    while (!c->is_closing && !c->is_draining && !c->is_busy) {
        parse *p = &c->p;
        char *base = c->buf + c->off;
        size_t avail = c->len - c->off;
        int err = 0;
        if (p->head_len == 0) {
            /* Blank lines before a request line are allowed (RFC 9112 2.2). */
            while (p->scan == 0 && avail >= 2 && base[0] == '\r' && base[1] == '\n') {
                c->off += 2;
                base += 2;
                avail -= 2;
            }
            size_t from = p->scan > 3 ? p->scan - 3 : 0;
            size_t lim = avail < HEAD_MAX ? avail : HEAD_MAX;
            char *hit = find_blank_line(base, from, lim);
            if (hit == NULL) {
                if (avail >= HEAD_MAX) {
                    reply_error(c, 431, false);
                    break;
                }
                p->scan = avail;
                break;
            }
            p->head_len = (size_t)(hit + 4 - base);
            err = parse_head(c, base, p->head_len);
            if (err == 413) {
                refuse_too_large(c, base);
                break;
            }
            if (err != 0) {
                reply_error(c, err, false);
                break;
            }
        }
        size_t total;
        if (p->is_chunked) {
            int rc = decode_chunks(c, base, avail);
            if (rc == 413) {
                refuse_too_large(c, base);
                break;
            }
            if (rc > 1) {
                reply_error(c, rc, false);
                break;
            }
            if (rc == 0) {
                goto need_more;
            }
            total = p->in_off;
        } else {
            total = p->head_len + p->content_length;
            if (avail < total)
                goto need_more;
        }
        dispatch(c, base);
        if (c->is_closing || c->is_draining)
            break;
        c->off += total;
        memset(p, 0, sizeof *p);
        if (c->off == c->len) {
            c->off = c->len = 0;
            if (c->cap > KEEP_MAX) {
                free(c->buf);
                c->buf = NULL;
                c->cap = 0;
            }
        }
        continue;
    need_more:
        if (p->expects_continue && !p->sent_continue && p->status == 0) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            p->sent_continue = true;
            conn_write(c, cont, sizeof cont - 1, NULL, 0);
        }
        break;
    }
    c->in_process = false;
}

/* ---- Reading. ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    conn *c = h->data;
    if (c->is_draining)
        c->off = c->len = 0;
    if (c->off > 0 && (c->off == c->len || c->cap - c->len < READ_MIN)) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    size_t want = READ_MIN;
    parse *p = &c->p;
    if (!c->is_draining && p->head_len != 0 && !p->is_chunked && p->status == 0) {
        /* A known body: room for all of it (and its NUL) in one step. */
        size_t total = p->head_len + p->content_length;
        size_t have = c->len - c->off;
        if (total > have && total - have > want)
            want = total - have;
    }
    if (c->cap - c->len < want + 1) {
        size_t cap = c->cap ? c->cap * 2 : READ_MIN + 1;
        while (cap < c->len + want + 1)
            cap *= 2;
        c->buf = bt_xrealloc(c->buf, cap);
        c->cap = cap;
    }
    *out = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    conn *c = s->data;
    if (n < 0) {
        conn_fail(c);
        return;
    }
    if (n == 0)
        return;
    if (c->is_draining) {
        c->drained += (size_t)n;
        c->off = c->len = 0;
        if (c->drained > DRAIN_MAX)
            conn_close(c);
        return;
    }
    c->len += (size_t)n;
    process(c);
    if (c->is_busy && !c->is_closing && !c->is_draining && c->len - c->off > BUSY_BUFFER) {
        uv_read_stop(s);
        c->is_read_stopped = true;
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    rapi *r = server->data;
    if (status < 0 || r->is_closing)
        return;
    conn *c = bt_xcalloc(1, sizeof *c);
    c->r = r;
    c->req.c = c;
    bt_buf_init(&c->head);
    uv_tcp_init(r->loop, &c->tcp);
    c->tcp.data = c;
    c->shutdown.data = c;
    r->n_handles++;
    c->next = r->conns;
    if (r->conns)
        r->conns->prev = c;
    r->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    if (r->h.on_accept) {
        struct sockaddr_in peer, self;
        int pl = sizeof peer, sl = sizeof self;
        if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &pl) != 0 ||
            uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&self, &sl) != 0 ||
            peer.sin_family != AF_INET ||
            !r->h.on_accept(r->h.ud, peer.sin_addr.s_addr, ntohs(peer.sin_port),
                            ntohs(self.sin_port))) {
            conn_close(c);
            return;
        }
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        conn_close(c);
}

int rapi_listen(uv_loop_t *loop, const rapi_handlers *h, rapi **out, int *port)
{
    rapi *r = bt_xcalloc(1, sizeof *r);
    r->loop = loop;
    r->h = *h;
    int rc = uv_tcp_init(loop, &r->listener);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->listener.data = r;
    uv_idle_init(loop, &r->resume);
    r->resume.data = r;
    r->n_handles = 2;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    rc = uv_tcp_bind(&r->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&r->listener, 64, on_connection);
    struct sockaddr_storage name;
    int namelen = sizeof name;
    if (rc == 0)
        rc = uv_tcp_getsockname(&r->listener, (struct sockaddr *)&name, &namelen);
    if (rc < 0) {
        rapi_close(r);
        return rc;
    }
    *port = ntohs(((struct sockaddr_in *)&name)->sin_port);
    *out = r;
    return 0;
}
