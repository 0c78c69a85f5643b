/*
 * baton-load.c — drives a running `baton serve` over HTTP (the AWS JSON 1.0 protocol) and
 * reports rates and latencies: `start` (StartExecution of a Pass machine as fast as it can),
 * `callbacks` (N executions kept waiting on a task token sent through a queue, each answered
 * with SendTaskSuccess as soon as it is received), `park` (executions left waiting on a
 * token nobody reads), `invoke` (Lambda Invoke of an existing function, RequestResponse) and
 * `publish` (SNS Publish to an existing topic, the query protocol, N messages). One
 * thread, one epoll set, non-blocking keep-alive connections, one request at a time on each;
 * responses must carry Content-Length. The client does little per request (no JSON parsing of
 * StartExecution answers), so the server is what is measured.
 */
#include "base/alloc.h"
#include "base/buf.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SFN        "AWSStepFunctions."
#define SQS        "AmazonSQS."
#define ROLE_ARN   "arn:aws:iam::123456789012:role/x"
#define MAX_EVENTS 256
/* After the measured time, requests still in flight (a long poll lasts a second) may finish
 * for this long before the run ends without them. */
#define GRACE_US 3000000

typedef enum mode { MODE_START, MODE_CALLBACKS, MODE_PARK, MODE_INVOKE, MODE_PUBLISH } mode;
typedef enum op_kind {
    OP_START,
    OP_RECEIVE,
    OP_SUCCESS,
    OP_DELETE,
    OP_INVOKE,
    OP_PUBLISH,
    N_OPS
} op_kind;

static const char *const op_target[N_OPS] = {
    SFN "StartExecution", SQS "ReceiveMessage", SFN "SendTaskSuccess",
    SQS "DeleteMessage",  "Lambda.Invoke",      "SNS.Publish",
};

typedef struct options {
    mode mode;
    const char *endpoint;
    unsigned connections; /* 0: the mode's default */
    unsigned outstanding;
    double seconds;
    unsigned long count;
    bool json;
    const char *definition; /* start: a definition file instead of one Pass state */
    const char *input;      /* start: the input (JSON text; default {}) */
    const char *function;   /* invoke: the function's name */
    const char *topic;      /* publish: the topic's ARN */
} options;

/* A request waiting for a connection, or on one. */
typedef struct job {
    struct job *next;
    op_kind op;
    char *body;
    int64_t origin_us; /* OP_SUCCESS: when the client started its execution, or -1 */
} job;

typedef struct conn {
    int fd; /* -1: closed (reopened when next used) */
    bool connecting;
    bool is_receiver; /* callbacks: long-polls the queue, never takes queued jobs */
    bool want_out;    /* EPOLLOUT registered */
    bt_buf out;
    size_t out_off;
    bt_buf in;
    job *job; /* in flight, or NULL: idle */
    int64_t sent_us;
} conn;

/* Latencies in microseconds. */
typedef struct samples {
    uint32_t *us;
    size_t n, cap;
} samples;

typedef struct load {
    options opt;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[256]; /* the Host header */
    int ep;
    conn *conns;
    size_t n_conns;
    job *queue, *queue_tail;
    size_t in_flight;
    int64_t t0_us, deadline_us, last_us;
    bool closing; /* no new work */

    char *arn_json;             /* the state machine's ARN as a JSON string */
    char *queue_json;           /* the queue's URL as a JSON string */
    char *input_json;           /* start: the input as a JSON string */
    const char *input_json_raw; /* invoke: the event (JSON text) */
    char *publish_form;         /* publish: the form up to the message's number */

    unsigned long issued, ok, errors, stale, outstanding;
    samples rtt, start_to_done;
    bool reported[N_OPS];
} load;

/* ---- Small helpers. ---- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("baton-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sample_add(samples *s, int64_t us)
{
    if (s->n == s->cap) {
        s->cap = s->cap != 0 ? s->cap * 2 : 4096;
        s->us = bt_xrealloc(s->us, s->cap * sizeof *s->us);
    }
    s->us[s->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile in milliseconds (nearest rank); 0 without samples. Sorts the samples. */
static double quantile_ms(samples *s, double q)
{
    if (s->n == 0)
        return 0;
    qsort(s->us, s->n, sizeof *s->us, by_value);
    size_t rank = (size_t)(q * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return s->us[rank - 1] / 1000.0;
}

/* A JSON value as compact text; takes the reference. */
static char *dump(json_t *v)
{
    if (v == NULL)
        die("cannot build a request body");
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (text == NULL)
        die("out of memory");
    return text;
}

/* ---- HTTP/1.1 responses. ---- */

typedef struct response {
    int status;
    size_t head_len, body_len;
    bool closes; /* Connection: close */
} response;

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    const char *v = line + strlen(name) + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    *vlen = (size_t)(end - v);
    return v;
}

/* Where the blank line ending the head starts, or NULL. */
static const char *head_end(const char *buf, size_t len)
{
    for (const char *p = buf; (p = memchr(p, '\r', len - (size_t)(p - buf))) != NULL; p++)
        if (len - (size_t)(p - buf) >= 4 && memcmp(p, "\r\n\r\n", 4) == 0)
            return p;
    return NULL;
}

/* 1: a whole response is in buf; 0: not yet; -1: not something this client reads (no
 * Content-Length on a response that has a body, chunked, garbage). */
static int parse_response(const char *buf, size_t len, response *r)
{
    const char *end = head_end(buf, len);
    if (end == NULL)
        return len > 65536 ? -1 : 0;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -1;
    r->status = atoi(buf + 9);
    r->head_len = (size_t)(end - buf) + 4;
    r->closes = buf[7] == '0';
    bool has_length = false;
    r->body_len = 0;
    for (const char *line = (const char *)memchr(buf, '\n', len) + 1; line < end + 2;) {
        const char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
        size_t n = (size_t)(eol - line), vlen;
        if (header_is(line, n, "content-length")) {
            const char *v = header_value(line, n, "content-length", &vlen);
            r->body_len = strtoul(v, NULL, 10);
            has_length = true;
        } else if (header_is(line, n, "connection")) {
            const char *v = header_value(line, n, "connection", &vlen);
            r->closes = vlen == 5 && strncasecmp(v, "close", 5) == 0;
        } else if (header_is(line, n, "transfer-encoding")) {
            return -1;
        }
        line = eol + 2;
    }
    bool bodiless = r->status == 204 || r->status == 304 || r->status < 200;
    if (!has_length && !bodiless)
        return -1;
    return len - r->head_len >= r->body_len ? 1 : 0;
}

/* ---- The endpoint, and the set-up calls (blocking, one at a time). ---- */

static void resolve(load *l, const char *endpoint)
{
    if (strncmp(endpoint, "http://", 7) != 0)
        die("--endpoint must be http://HOST:PORT, not %s", endpoint);
    const char *host = endpoint + 7, *slash = strchr(host, '/');
    size_t len = slash != NULL ? (size_t)(slash - host) : strlen(host);
    if (len == 0 || len >= sizeof l->host)
        die("--endpoint %s has no usable host", endpoint);
    memcpy(l->host, host, len);
    l->host[len] = '\0';
    char name[256], port[16] = "80";
    const char *colon = strrchr(l->host, ':');
    const char *close_bracket = strrchr(l->host, ']');
    size_t name_len = len;
    if (colon != NULL && (close_bracket == NULL || colon > close_bracket)) {
        name_len = (size_t)(colon - l->host);
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    if (l->host[0] == '[') {
        memcpy(name, l->host + 1, name_len - 2);
        name[name_len - 2] = '\0';
    } else {
        memcpy(name, l->host, name_len);
        name[name_len] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0)
        die("cannot resolve %s: %s", l->host, gai_strerror(rc));
    memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
    l->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

/* s percent-encoded for a form value (RFC 3986 unreserved characters kept). */
static void form_escape(bt_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            bt_buf_putc(b, (char)ch);
        } else {
            bt_buf_putc(b, '%');
            bt_buf_putc(b, hex[ch >> 4]);
            bt_buf_putc(b, hex[ch & 15]);
        }
    }
}

static void format_request(const load *l, bt_buf *out, const char *target, const char *body)
{
    size_t len = strlen(body);
    if (strcmp(target, op_target[OP_PUBLISH]) == 0) {
        bt_buf_printf(out,
                      "POST / HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      l->host, len);
        bt_buf_append(out, body, len);
        return;
    }
    if (strcmp(target, op_target[OP_INVOKE]) == 0) {
        bt_buf_printf(out,
                      "POST /2015-03-31/functions/%s/invocations HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      l->opt.function, l->host, len);
        bt_buf_append(out, body, len);
        return;
    }
    bt_buf_printf(out,
                  "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                  "X-Amz-Target: %s\r\nContent-Length: %zu\r\n\r\n",
                  l->host, target, len);
    bt_buf_append(out, body, len);
}

/* One request on its own connection, waiting for the answer; dies unless it is 200.
 * Returns the parsed answer (caller decrefs). */
static json_t *call(const load *l, const char *target, char *body)
{
    int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&l->addr, l->addr_len) != 0)
        die("cannot connect to %s: %s", l->host, strerror(errno));
    bt_buf out, in;
    bt_buf_init(&out);
    bt_buf_init(&in);
    format_request(l, &out, target, body);
    for (size_t off = 0; off < out.len;) {
        ssize_t n = write(fd, out.data + off, out.len - off);
        if (n <= 0)
            die("%s: write: %s", target, strerror(errno));
        off += (size_t)n;
    }
    response r;
    int parsed = 0;
    while (parsed == 0) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0)
            die("%s: the server closed the connection without an answer", target);
        bt_buf_append(&in, chunk, (size_t)n);
        parsed = parse_response(in.data, in.len, &r);
    }
    if (parsed < 0)
        die("%s: unreadable answer", target);
    const char *rbody = in.data + r.head_len;
    if (r.status != 200)
        die("%s answered %d: %.*s", target, r.status, (int)r.body_len, rbody);
    json_error_t jerr;
    json_t *v = json_loadb(rbody, r.body_len, 0, &jerr);
    if (!json_is_object(v))
        die("%s answered with no JSON object: %s", target, jerr.text);
    close(fd);
    bt_buf_fini(&out);
    bt_buf_fini(&in);
    free(body);
    return v;
}

static char *string_field_json(json_t *answer, const char *field, const char *call_name)
{
    json_t *v = json_object_get(answer, field);
    if (!json_is_string(v))
        die("%s answered without %s", call_name, field);
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    json_decref(answer);
    return text;
}

static char *create_queue(const load *l, const char *name)
{
    json_t *a = call(l, SQS "CreateQueue", dump(json_pack("{s:s}", "QueueName", name)));
    return string_field_json(a, "QueueUrl", "CreateQueue");
}

/* The queue's URL back from its JSON form, for building definitions. */
static json_t *queue_url(const load *l)
{
    return json_loads(l->queue_json, JSON_DECODE_ANY, NULL);
}

static char *create_machine(const load *l, json_t *definition)
{
    char name[80];
    static const char *const names[] = {"start", "callbacks", "park"};
    snprintf(name, sizeof name, "baton-load-%s-%ld-%ld", names[l->opt.mode], (long)getpid(),
             (long)time(NULL));
    char *text = dump(definition);
    json_t *a = call(
        l, SFN "CreateStateMachine",
        dump(json_pack("{s:s,s:s,s:s}", "name", name, "definition", text, "roleArn", ROLE_ARN)));
    free(text);
    return string_field_json(a, "stateMachineArn", "CreateStateMachine");
}

static json_t *pass_definition(void)
{
    return json_pack("{s:s,s:{s:{s:s,s:b}}}", "StartAt", "P", "States", "P", "Type", "Pass", "End",
                     1);
}

/* A single Task that sends its token to the queue and waits for it. */
static json_t *token_definition(const load *l, bool with_origin, int timeout_s)
{
    json_t *message = json_pack("{s:s}", "token.$", "$$.Task.Token");
    if (with_origin) /* the client's start time travels with the token */
        json_object_set_new(message, "t.$", json_string("$.t"));
    json_t *task = json_pack("{s:s,s:s,s:{s:o,s:o},s:b}", "Type", "Task", "Resource",
                             "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "Parameters",
                             "QueueUrl", queue_url(l), "MessageBody", message, "End", 1);
    if (timeout_s > 0)
        json_object_set_new(task, "TimeoutSeconds", json_integer(timeout_s));
    return json_pack("{s:s,s:{s:o}}", "StartAt", "Wait", "States", "Wait", task);
}

/* ---- Jobs. ---- */

static job *job_new(op_kind op, char *body)
{
    job *j = bt_xcalloc(1, sizeof *j);
    j->op = op;
    j->body = body;
    j->origin_us = -1;
    return j;
}

static void job_free(job *j)
{
    free(j->body);
    free(j);
}

static void enqueue(load *l, job *j)
{
    if (l->queue_tail != NULL)
        l->queue_tail->next = j;
    else
        l->queue = j;
    l->queue_tail = j;
}

static job *start_job(load *l)
{
    char *body;
    if (l->opt.mode == MODE_CALLBACKS)
        body = bt_xasprintf("{\"stateMachineArn\":%s,\"input\":\"{\\\"t\\\":%lld}\"}", l->arn_json,
                            (long long)now_us());
    else
        body = bt_xasprintf("{\"stateMachineArn\":%s,\"input\":%s}", l->arn_json, l->input_json);
    l->issued++;
    return job_new(OP_START, body);
}

static job *receive_job(const load *l)
{
    return job_new(
        OP_RECEIVE,
        bt_xasprintf("{\"QueueUrl\":%s,\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":1}",
                     l->queue_json));
}

/* The next request for an idle connection, or NULL. */
static job *next_job(load *l, conn *c)
{
    if (l->closing)
        return NULL;
    if (c->is_receiver)
        return receive_job(l);
    if (l->queue != NULL) {
        job *j = l->queue;
        l->queue = j->next;
        if (l->queue == NULL)
            l->queue_tail = NULL;
        j->next = NULL;
        return j;
    }
    switch (l->opt.mode) {
    case MODE_INVOKE:
        l->issued++;
        return job_new(OP_INVOKE, bt_xstrdup(l->input_json_raw));
    case MODE_START:
        return start_job(l);
    case MODE_PARK:
        return l->issued < l->opt.count ? start_job(l) : NULL;
    case MODE_PUBLISH:
        if (l->issued >= l->opt.count)
            return NULL;
        /* each message is numbered, so that the mails can be told apart */
        return job_new(OP_PUBLISH, bt_xasprintf("%s%lu", l->publish_form, l->issued++));
    case MODE_CALLBACKS:
        if (l->outstanding >= l->opt.outstanding)
            return NULL;
        l->outstanding++;
        return start_job(l);
    }
    return NULL;
}

/* ---- Connections. ---- */

static void watch(load *l, conn *c, bool out, int how)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0u), .data.ptr = c};
    if (epoll_ctl(l->ep, how, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
    c->want_out = out;
}

static void conn_open(load *l, conn *c)
{
    c->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (const struct sockaddr *)&l->addr, l->addr_len) != 0 && errno != EINPROGRESS)
        die("cannot connect to %s: %s", l->host, strerror(errno));
    c->connecting = true;
    watch(l, c, true, EPOLL_CTL_ADD);
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->connecting = false;
    bt_buf_reset(&c->in);
}

static void flush(load *l, conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!c->want_out)
                watch(l, c, true, EPOLL_CTL_MOD);
            return;
        }
        if (n < 0)
            return; /* the read side reports the failure */
        c->out_off += (size_t)n;
    }
    if (c->want_out)
        watch(l, c, false, EPOLL_CTL_MOD);
}

static void conn_send(load *l, conn *c, job *j)
{
    c->job = j;
    l->in_flight++;
    bt_buf_reset(&c->out);
    c->out_off = 0;
    format_request(l, &c->out, op_target[j->op], j->body);
    c->sent_us = now_us();
    if (c->fd < 0)
        conn_open(l, c);
    else if (!c->connecting)
        flush(l, c);
}

/* Gives every idle connection its next request. */
static void dispatch(load *l)
{
    for (size_t i = 0; i < l->n_conns; i++) {
        conn *c = &l->conns[i];
        if (c->job != NULL)
            continue;
        job *j = next_job(l, c);
        if (j == NULL)
            continue;
        conn_send(l, c, j);
    }
}

/* ---- Answers. ---- */

static void report_once(load *l, op_kind op, int status, const char *body, size_t len)
{
    l->errors++;
    if (l->reported[op])
        return;
    l->reported[op] = true;
    fprintf(stderr, "baton-load: %s answered %d: %.*s\n", op_target[op], status,
            (int)(len > 300 ? 300 : len), body);
}

static bool measuring(const load *l, int64_t t)
{
    return l->deadline_us == 0 || t <= l->deadline_us;
}

/* Queues SendTaskSuccess and DeleteMessage for each message received. */
static void on_messages(load *l, const char *body, size_t len)
{
    json_t *answer = json_loadb(body, len, 0, NULL);
    json_t *messages = json_object_get(answer, "Messages");
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *text = json_string_value(json_object_get(m, "Body"));
        json_t *inner = text != NULL ? json_loads(text, 0, NULL) : NULL;
        json_t *token = json_object_get(inner, "token");
        json_t *t = json_object_get(inner, "t");
        if (json_is_string(token)) {
            job *j = job_new(OP_SUCCESS,
                             dump(json_pack("{s:O,s:s}", "taskToken", token, "output", "{}")));
            /* A message left by an earlier run carries no time of this one. */
            j->origin_us = json_is_integer(t) && json_integer_value(t) >= l->t0_us
                               ? (int64_t)json_integer_value(t)
                               : -1;
            enqueue(l, j);
        }
        json_t *receipt = json_object_get(m, "ReceiptHandle");
        if (json_is_string(receipt))
            enqueue(l, job_new(OP_DELETE, dump(json_pack("{s:o,s:O}", "QueueUrl", queue_url(l),
                                                         "ReceiptHandle", receipt))));
        json_decref(inner);
    }
    json_decref(answer);
}

static void on_answer(load *l, const job *j, int status, const char *body, size_t len,
                      int64_t sent_us)
{
    int64_t t = now_us();
    bool ok = status == 200;
    if (j->op == OP_SUCCESS && j->origin_us < 0) {
        l->stale++; /* a token of an earlier run: its answer may well be TaskTimedOut */
        return;
    }
    if (!ok)
        report_once(l, j->op, status, body, len);
    switch (j->op) {
    case OP_INVOKE:
    case OP_PUBLISH:
    case OP_START:
        if (l->opt.mode != MODE_CALLBACKS && ok && measuring(l, t)) {
            l->ok++;
            l->last_us = t;
            sample_add(&l->rtt, t - sent_us);
        }
        if (l->opt.mode == MODE_CALLBACKS && !ok)
            l->outstanding--;
        break;
    case OP_RECEIVE:
        if (ok)
            on_messages(l, body, len);
        break;
    case OP_SUCCESS:
        l->outstanding--;
        if (ok && measuring(l, t)) {
            l->ok++;
            l->last_us = t;
            sample_add(&l->rtt, t - sent_us);
            sample_add(&l->start_to_done, t - j->origin_us);
        }
        break;
    case OP_DELETE:
    case N_OPS:
        break;
    }
}

static void finish(load *l, conn *c, int status, const char *body, size_t len)
{
    job *j = c->job;
    c->job = NULL;
    l->in_flight--;
    on_answer(l, j, status, body, len, c->sent_us);
    job_free(j);
}

/* The connection failed or closed under its request. */
static void conn_lost(load *l, conn *c)
{
    conn_close(c);
    if (c->job != NULL)
        finish(l, c, 0, "(connection lost)", 17);
}

/* Reads until a whole response is in (nothing follows it: one request at a time) or the
 * socket is drained. */
static void on_readable(load *l, conn *c)
{
    response r;
    int parsed = 0;
    bool eof = false;
    while (parsed == 0) {
        char chunk[65536];
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            bt_buf_append(&c->in, chunk, (size_t)n);
            /* bytes on an idle connection answer nothing we asked */
            parsed = c->job != NULL ? parse_response(c->in.data, c->in.len, &r) : -1;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        eof = n == 0 || errno != EAGAIN;
        break;
    }
    if (parsed < 0 || (parsed == 0 && eof)) {
        conn_lost(l, c);
        return;
    }
    if (parsed == 0)
        return;
    finish(l, c, r.status, c->in.data + r.head_len, r.body_len);
    size_t used = r.head_len + r.body_len;
    memmove(c->in.data, c->in.data + used, c->in.len - used);
    c->in.len -= used;
    if (r.closes)
        conn_close(c);
}

static void on_event(load *l, conn *c, uint32_t events)
{
    if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len);
        if (e != 0)
            die("cannot connect to %s: %s", l->host, strerror(e));
        c->connecting = false;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
        on_readable(l, c);
    if (c->fd >= 0 && !c->connecting && c->out_off < c->out.len)
        flush(l, c);
}

/* ---- The run. ---- */

static bool done(const load *l)
{
    if (l->opt.mode == MODE_PARK || l->opt.mode == MODE_PUBLISH)
        return l->issued >= l->opt.count && l->in_flight == 0;
    return l->closing && (l->in_flight == 0 || now_us() > l->deadline_us + GRACE_US);
}

static void run(load *l)
{
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0)
        die("epoll_create1: %s", strerror(errno));
    l->t0_us = now_us();
    if (l->opt.mode != MODE_PARK && l->opt.mode != MODE_PUBLISH)
        l->deadline_us = l->t0_us + (int64_t)(l->opt.seconds * 1e6);
    dispatch(l);
    struct epoll_event events[MAX_EVENTS];
    while (!done(l)) {
        int n = epoll_wait(l->ep, events, MAX_EVENTS, 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            on_event(l, events[i].data.ptr, events[i].events);
        if (l->deadline_us != 0 && now_us() >= l->deadline_us)
            l->closing = true;
        dispatch(l);
    }
}

static void set_up(load *l)
{
    json_t *definition;
    json_t *in = json_string(l->opt.input ? l->opt.input : "{}");
    l->input_json = dump(in);
    l->input_json_raw = l->opt.input ? l->opt.input : "{}";
    if (l->opt.mode == MODE_INVOKE) {
        if (l->opt.function == NULL)
            die("invoke needs --function NAME (an existing function)");
        definition = NULL;
    } else if (l->opt.mode == MODE_PUBLISH) {
        if (l->opt.topic == NULL)
            die("publish needs --topic ARN (an existing topic)");
        bt_buf f;
        bt_buf_init(&f);
        bt_buf_puts(&f, "Action=Publish&Version=2010-03-31&TopicArn=");
        form_escape(&f, l->opt.topic);
        bt_buf_puts(&f, "&Subject=bench&Message=");
        form_escape(&f, l->opt.input ? l->opt.input : "message ");
        l->publish_form = bt_xstrdup(f.data);
        bt_buf_fini(&f);
        definition = NULL;
    } else if (l->opt.mode == MODE_START && l->opt.definition) {
        json_error_t jerr;
        definition = json_load_file(l->opt.definition, 0, &jerr);
        if (definition == NULL)
            die("cannot read %s: %s", l->opt.definition, jerr.text);
    } else if (l->opt.mode == MODE_START) {
        definition = pass_definition();
    } else if (l->opt.mode == MODE_CALLBACKS) {
        l->queue_json = create_queue(l, "bench-cb");
        definition = token_definition(l, true, 0);
    } else {
        l->queue_json = create_queue(l, "bench-park");
        definition = token_definition(l, false, 86400);
    }
    if (definition != NULL)
        l->arn_json = create_machine(l, definition);

    unsigned workers = l->opt.connections;
    unsigned receivers = 0;
    if (l->opt.mode == MODE_CALLBACKS) {
        receivers = (l->opt.outstanding + 9) / 10;
        receivers = receivers < 1 ? 1 : receivers > 8 ? 8 : receivers;
        if (workers == 0)
            workers = l->opt.outstanding + 2 < 64 ? l->opt.outstanding + 2 : 64;
    } else if (workers == 0) {
        workers = 64;
    }
    l->n_conns = workers + receivers;
    l->conns = bt_xcalloc(l->n_conns, sizeof *l->conns);
    for (size_t i = 0; i < l->n_conns; i++) {
        l->conns[i].fd = -1;
        l->conns[i].is_receiver = i >= workers;
        bt_buf_init(&l->conns[i].out);
        bt_buf_init(&l->conns[i].in);
    }
}

static void tear_down(load *l)
{
    for (size_t i = 0; i < l->n_conns; i++) {
        conn *c = &l->conns[i];
        conn_close(c);
        if (c->job != NULL)
            job_free(c->job);
        bt_buf_fini(&c->out);
        bt_buf_fini(&c->in);
    }
    while (l->queue != NULL) {
        job *j = l->queue;
        l->queue = j->next;
        job_free(j);
    }
    free(l->conns);
    free(l->arn_json);
    free(l->queue_json);
    free(l->input_json);
    free(l->publish_form);
    free(l->rtt.us);
    free(l->start_to_done.us);
    close(l->ep);
}

static void summarize(load *l)
{
    static const char *const names[] = {"start", "callbacks", "park", "invoke", "publish"};
    static const char *const units[] = {"starts/s", "callbacks/s", "parked/s", "invocations/s",
                                        "publishes/s"};
    bool counted = l->opt.mode == MODE_PARK || l->opt.mode == MODE_PUBLISH;
    double secs = counted ? (double)(l->last_us - l->t0_us) / 1e6 : l->opt.seconds;
    double rate = secs > 0 ? (double)l->ok / secs : 0;
    double p50 = quantile_ms(&l->rtt, 0.50), p99 = quantile_ms(&l->rtt, 0.99);
    double e50 = quantile_ms(&l->start_to_done, 0.50);
    double e99 = quantile_ms(&l->start_to_done, 0.99);
    unsigned parallel = l->opt.mode == MODE_CALLBACKS ? l->opt.outstanding : (unsigned)l->n_conns;
    if (l->opt.json) {
        printf("{\"mode\":\"%s\",\"%s\":%u,\"seconds\":%.3f,\"ok\":%lu,\"errors\":%lu,"
               "\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f",
               names[l->opt.mode], l->opt.mode == MODE_CALLBACKS ? "outstanding" : "connections",
               parallel, secs, l->ok, l->errors, rate, p50, p99);
        if (l->opt.mode == MODE_CALLBACKS)
            printf(",\"start_to_done_p50_ms\":%.3f,\"start_to_done_p99_ms\":%.3f,\"stale\":%lu",
                   e50, e99, l->stale);
        printf("}\n");
        return;
    }
    printf("%s: %.0f %s over %.2f s (%lu ok, %lu errors), latency p50 %.2f ms p99 %.2f ms",
           names[l->opt.mode], rate, units[l->opt.mode], secs, l->ok, l->errors, p50, p99);
    if (l->opt.mode == MODE_CALLBACKS)
        printf("; start to answered p50 %.2f ms p99 %.2f ms; %u outstanding", e50, e99,
               l->opt.outstanding);
    else
        printf("; %u connections", parallel);
    printf("\n");
}

/* ---- main. ---- */

static void usage(FILE *f)
{
    fputs("usage: baton-load start     [--endpoint URL] [--connections N] [--seconds S] [--json]\n"
          "                            [--definition FILE] [--input JSON]\n"
          "       baton-load callbacks [--endpoint URL] [--outstanding N] [--seconds S] [--json]\n"
          "       baton-load park      [--endpoint URL] [--connections N] [--count N] [--json]\n"
          "       baton-load invoke    --function NAME [--endpoint URL] [--connections N]\n"
          "                            [--seconds S] [--input JSON] [--json]\n"
          "       baton-load publish   --topic ARN [--endpoint URL] [--connections N] [--count N]\n"
          "                            [--input TEXT] [--json]\n"
          "  --endpoint URL     the server (default http://127.0.0.1:8083)\n"
          "  --connections N    keep-alive connections (default 64; callbacks: outstanding+2)\n"
          "  --outstanding N    callbacks: executions kept waiting for their token (default 1)\n"
          "  --seconds S        how long start and callbacks run (default 10)\n"
          "  --count N          park: executions to start; publish: messages (default 100000)\n"
          "  --definition FILE  start: run this state machine instead of one Pass state\n"
          "  --input JSON       start: the executions' input; invoke: the event (default {});\n"
          "                     publish: the message, followed by its number\n"
          "  --function NAME    invoke: the function to call (RequestResponse)\n"
          "  --topic ARN        publish: the topic to publish to\n"
          "  --json             print one JSON object instead of the sentence\n",
          f);
}

static unsigned long count_arg(const char *flag, const char *v)
{
    char *end;
    unsigned long n = v != NULL ? strtoul(v, &end, 10) : 0;
    if (v == NULL || *end != '\0' || n == 0)
        die("%s takes a positive whole number", flag);
    return n;
}

static void parse_args(int argc, char **argv, options *o)
{
    *o = (options){
        .endpoint = "http://127.0.0.1:8083", .outstanding = 1, .seconds = 10, .count = 100000};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        exit(argc < 2 ? 2 : 0);
    }
    if (strcmp(argv[1], "start") == 0)
        o->mode = MODE_START;
    else if (strcmp(argv[1], "callbacks") == 0)
        o->mode = MODE_CALLBACKS;
    else if (strcmp(argv[1], "park") == 0)
        o->mode = MODE_PARK;
    else if (strcmp(argv[1], "invoke") == 0)
        o->mode = MODE_INVOKE;
    else if (strcmp(argv[1], "publish") == 0)
        o->mode = MODE_PUBLISH;
    else
        die("unknown mode %s (start, callbacks, park, invoke or publish)", argv[1]);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--endpoint") == 0 && v != NULL)
            o->endpoint = v;
        else if (strcmp(a, "--connections") == 0)
            o->connections = (unsigned)count_arg(a, v);
        else if (strcmp(a, "--outstanding") == 0)
            o->outstanding = (unsigned)count_arg(a, v);
        else if (strcmp(a, "--count") == 0)
            o->count = count_arg(a, v);
        else if (strcmp(a, "--definition") == 0 && v != NULL)
            o->definition = v;
        else if (strcmp(a, "--input") == 0 && v != NULL)
            o->input = v;
        else if (strcmp(a, "--function") == 0 && v != NULL)
            o->function = v;
        else if (strcmp(a, "--topic") == 0 && v != NULL)
            o->topic = v;
        else if (strcmp(a, "--seconds") == 0 && v != NULL && atof(v) > 0)
            o->seconds = atof(v);
        else {
            usage(stderr);
            exit(2);
        }
        i++;
    }
}

int main(int argc, char **argv)
{
    load l = {0};
    parse_args(argc, argv, &l.opt);
    resolve(&l, l.opt.endpoint);
    set_up(&l);
    run(&l);
    summarize(&l);
    tear_down(&l);
    return l.errors != 0 ? 1 : 0;
}
