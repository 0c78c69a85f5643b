/*
 * integ.c — the Step Functions integration for functions: lambda:invoke, its
 * .waitForTaskToken form and function ARNs as resources (fn.h's fn_integ). Called by the
 * server's task driver on the engine thread; invokes through fn_invoke and reports later
 * through server_task_report. Shapes and failures come from integ_shape.c.
 *
 * Durability: start() writes the task's request into fn_task in the batch of the transition
 * that scheduled it and invokes only once that batch is durable. The outcome's report and
 * the row's removal share one batch. A server killed in between finds the row at its next
 * start and invokes again while the task is still open (at least once, as Lambda's own
 * retries are); rows of tasks no longer open are dropped.
 *
 *   start --row--> [commit] --> invoking --done--> reported, row deleted
 *      `---------------- cancel: row deleted, fn_cancel ---------------'
 */
#include "fn/fn.h"

#include "base/alloc.h"
#include "base/rand.h"
#include "fn/integ_int.h"
#include "server/sfn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char fn_integ_schema_v1[] = "CREATE TABLE fn_task (\n"
                                  "  execution_arn TEXT NOT NULL,\n"
                                  "  task_id INTEGER NOT NULL,\n"
                                  "  request TEXT NOT NULL,\n" /* {resource, parameters} */
                                  "  PRIMARY KEY (execution_arn, task_id)\n"
                                  ");\n";

static const char sql_task_put[] =
    "INSERT OR REPLACE INTO fn_task (execution_arn, task_id, request) VALUES (?, ?, ?)";
static const char sql_task_del[] = "DELETE FROM fn_task WHERE execution_arn = ? AND task_id = ?";
static const char sql_task_all[] = "SELECT execution_arn, task_id, request FROM fn_task";

typedef struct fn_integ_self fn_integ_self;

typedef struct pending {
    struct pending *prev, *next;
    fn_integ_self *self;
    char *execution_arn;
    uint64_t task_id;
    fn_integ_kind kind;
    fn_integ_req req;
    char request_id[37]; /* used when the invocation gives none */
    uint64_t handle;     /* fn_invoke's, once invoking */
    bool is_cancelled;   /* before its commit: freed when the commit callback runs */
} pending;

struct fn_integ_self {
    server *srv;
    fn_service *fs;
    pending *first;
    size_t n_committing; /* commit callbacks still to come */
    bool is_stopping, is_destroyed;
};

static void new_request_id(char out[37])
{
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, out);
}

static void link_pending(fn_integ_self *self, pending *p)
{
    p->prev = NULL;
    p->next = self->first;
    if (self->first)
        self->first->prev = p;
    self->first = p;
}

static void unlink_pending(fn_integ_self *self, pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        self->first = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void pending_free(pending *p)
{
    fn_integ__req_fini(&p->req);
    free(p->execution_arn);
    free(p);
}

static pending *find(fn_integ_self *self, const char *execution_arn, uint64_t task_id)
{
    for (pending *p = self->first; p; p = p->next)
        if (p->task_id == task_id && strcmp(p->execution_arn, execution_arn) == 0)
            return p;
    return NULL;
}

static void maybe_free_self(fn_integ_self *self)
{
    if (self->is_destroyed && self->n_committing == 0)
        free(self);
}

static void delete_row(fn_integ_self *self, const pending *p)
{
    store_batch_add(server_batch(self->srv), sql_task_del, "ti", p->execution_arn,
                    (int64_t)p->task_id);
}

static void report(fn_integ_self *self, pending *p, const server_report *r)
{
    int rc = server_task_report(self->srv, p->execution_arn, p->task_id, r);
    if (rc == BT_EIO)
        server_log(self->srv, SERVER_LOG_ERROR, "fn.report_lost",
                   "execution=%s task=%" PRIu64 " rc=%d", p->execution_arn, p->task_id, rc);
}

static void report_failure(fn_integ_self *self, pending *p, const char *error, const char *cause)
{
    server_report r = {.kind = SERVER_REPORT_FAILED, .error = error, .cause = cause};
    report(self, p, &r);
}

static json_t *envelope(fn_integ_self *self, const fn_result *res, int status, const char *rid)
{
    char date[40], trace[64];
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof raw);
    int64_t now = server_now_ms(self->srv);
    fn_integ__http_date(now, date);
    snprintf(trace, sizeof trace,
             "root=1-%08" PRIx64 "-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
             (uint64_t)(now / 1000), raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
             raw[8], raw[9], raw[10], raw[11]);
    return fn_integ__envelope(res, status, rid, date, trace);
}

/* The function answered: one report, and the row goes in the same batch. */
static void on_done(void *ctx, const fn_result *res)
{
    pending *p = ctx;
    fn_integ_self *self = p->self;
    unlink_pending(self, p);
    if (self->is_stopping) { /* a service that is stopping fails its work: not an outcome */
        pending_free(p);
        return;
    }
    server_tick(self->srv);
    delete_row(self, p);
    const char *rid = res->request_id && *res->request_id ? res->request_id : p->request_id;
    char *error, *cause;
    if (fn_integ__failure(res, p->request_id, &error, &cause)) {
        report_failure(self, p, error, cause);
        free(error);
        free(cause);
    } else {
        json_t *v = p->kind == FN_INTEG_LEGACY
                        ? fn_integ__parse_payload(res->payload, res->payload_len)
                        : envelope(self, res, 200, rid);
        if (p->kind != FN_INTEG_WAIT &&
            fn_integ__too_large(p->kind, p->req.function, v, &error, &cause)) {
            report_failure(self, p, error, cause);
            free(error);
            free(cause);
        } else {
            server_report r = {.kind = p->kind == FN_INTEG_WAIT ? SERVER_REPORT_SUBMITTED
                                                                : SERVER_REPORT_SUCCEEDED,
                               .value = v};
            report(self, p, &r);
        }
        json_decref(v);
    }
    pending_free(p);
}

static void invoke(fn_integ_self *self, pending *p)
{
    char name[FN_NAME_MAX + 1], qualifier[130];
    if (fn_parse_name(self->fs, p->req.function, name, qualifier) != 0) {
        /* Lambda's answer to a name it cannot read names what it was given. */
        unlink_pending(self, p);
        delete_row(self, p);
        char *cause = bt_xasprintf(
            "Function not found: %s (Service: AWSLambda; Status Code: 404; Error Code: "
            "ResourceNotFoundException; Request ID: %s; Proxy: null)",
            p->req.function, p->request_id);
        report_failure(self, p, "Lambda.ResourceNotFoundException", cause);
        free(cause);
        pending_free(p);
        return;
    }
    const char *q = p->req.qualifier ? p->req.qualifier : (*qualifier ? qualifier : NULL);
    fn_invoke_req r = {.name = name,
                       .qualifier = q,
                       .payload = p->req.payload,
                       .payload_len = strlen(p->req.payload),
                       .client_context = p->req.client_context,
                       .tail_log = p->req.tail_log};
    p->handle = fn_invoke(self->fs, &r, on_done, p);
}

static void on_committed(void *ctx, int rc)
{
    pending *p = ctx;
    fn_integ_self *self = p->self;
    self->n_committing--;
    if (p->is_cancelled || self->is_destroyed) {
        pending_free(p);
        maybe_free_self(self);
        return;
    }
    if (rc != 0 || self->is_stopping) {
        /* Not durable: the transition is not either; a restart decides from the store. */
        unlink_pending(self, p);
        pending_free(p);
        return;
    }
    invoke(self, p);
}

static char *request_json(const integ_task *t)
{
    json_t *o = json_pack("{s:s, s:O?}", "resource", t->resource, "parameters", t->parameters);
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(o);
    return text;
}

/* InvocationType Event and DryRun answer at once; Event's invocation is durable in the
 * same batch as the transition (fn_invoke_event). */
static void start_now(fn_integ_self *self, const integ_task *t, fn_integ_kind kind,
                      fn_integ_req *req, const integ_sink *sink)
{
    char name[FN_NAME_MAX + 1], qualifier[130], rid[40];
    new_request_id(rid);
    fn_result res = {0};
    int rc = 0;
    bool named = fn_parse_name(self->fs, req->function, name, qualifier) == 0;
    if (!named || fn_get(self->fs, name) == NULL) {
        char arn[320];
        if (named)
            fn_arn(self->fs, name, arn, sizeof arn);
        char *msg = bt_xasprintf("Function not found: %s", named ? arn : req->function);
        res.api_status = 404;
        res.api_error = "ResourceNotFoundException";
        res.api_message = msg;
        char *error, *cause;
        fn_integ__failure(&res, rid, &error, &cause);
        sink->failed(sink->ud, t->id, error, cause);
        free(error);
        free(cause);
        free(msg);
        return;
    }
    if (req->itype == FN_ITYPE_EVENT) {
        const char *q = req->qualifier ? req->qualifier : (*qualifier ? qualifier : NULL);
        fn_invoke_req r = {.name = name,
                           .qualifier = q,
                           .payload = req->payload,
                           .payload_len = strlen(req->payload)};
        rc = fn_invoke_event(self->fs, &r, rid, &res);
    }
    char *error, *cause;
    if (rc != 0 && fn_integ__failure(&res, rid, &error, &cause)) {
        sink->failed(sink->ud, t->id, error, cause);
        free(error);
        free(cause);
        return;
    }
    json_t *v = envelope(self, NULL, req->itype == FN_ITYPE_EVENT ? 202 : 204, rid);
    if (kind == FN_INTEG_WAIT)
        sink->submitted(sink->ud, t->id, v);
    else
        sink->succeeded(sink->ud, t->id, v);
    json_decref(v);
}

static pending *pending_new(fn_integ_self *self, const char *execution_arn, uint64_t task_id,
                            fn_integ_kind kind, fn_integ_req *req)
{
    pending *p = bt_xcalloc(1, sizeof *p);
    p->self = self;
    p->execution_arn = bt_xstrdup(execution_arn);
    p->task_id = task_id;
    p->kind = kind;
    p->req = *req;
    memset(req, 0, sizeof *req);
    new_request_id(p->request_id);
    link_pending(self, p);
    return p;
}

static void after_commit(fn_integ_self *self, pending *p)
{
    self->n_committing++;
    server_after_commit(self->srv, on_committed, p);
}

static bool integ_handles(void *self, const char *state_name, const char *resource)
{
    (void)self;
    (void)state_name;
    return fn_integ__kind(resource) != FN_INTEG_NONE;
}

static int integ_start(void *vself, const integ_task *t, const integ_sink *sink)
{
    fn_integ_self *self = vself;
    fn_integ_kind kind = fn_integ__kind(t->resource);
    fn_integ_req req;
    char *error, *cause;
    if (fn_integ__decode(kind, t->resource, t->parameters, &req, &error, &cause) != 0) {
        sink->failed(sink->ud, t->id, error, cause);
        free(error);
        free(cause);
        return 0;
    }
    if (req.itype != FN_ITYPE_REQUEST_RESPONSE) {
        start_now(self, t, kind, &req, sink);
        fn_integ__req_fini(&req);
        return 0;
    }
    char *text = request_json(t);
    store_batch_add(server_batch(self->srv), sql_task_put, "tit", t->execution_arn, (int64_t)t->id,
                    text);
    free(text);
    after_commit(self, pending_new(self, t->execution_arn, t->id, kind, &req));
    return 0;
}

static void integ_cancel(void *vself, const char *execution_arn, uint64_t task_id)
{
    fn_integ_self *self = vself;
    pending *p = find(self, execution_arn, task_id);
    if (p == NULL)
        return;
    delete_row(self, p);
    unlink_pending(self, p);
    if (p->handle == 0) { /* its commit callback is still to come and frees it */
        p->is_cancelled = true;
        return;
    }
    fn_cancel(self->fs, p->handle);
    pending_free(p);
}

static void integ_destroy(void *vself)
{
    fn_integ_self *self = vself;
    while (self->first) {
        pending *p = self->first;
        unlink_pending(self, p);
        if (p->handle == 0) {
            p->is_cancelled = true;
            continue;
        }
        pending_free(p); /* the service is gone: nothing calls back */
    }
    self->is_destroyed = true;
    maybe_free_self(self);
}

/* Stopping: answers that come now are the service failing its work, not the function's. */
static void on_stop(void *ctx)
{
    fn_integ_self *self = ctx;
    self->is_stopping = true;
    for (pending *p = self->first; p; p = p->next)
        if (p->handle != 0) {
            fn_cancel(self->fs, p->handle);
            p->handle = 0;
            p->is_cancelled = true; /* freed below or by its commit callback */
        }
    pending *p = self->first;
    while (p) {
        pending *next = p->next;
        if (p->is_cancelled) {
            unlink_pending(self, p);
            pending_free(p);
        }
        p = next;
    }
}

/* The rows a previous run left: invoked again (after this run's first commit, so nothing
 * leaves the process before the loop runs) while their tasks are open, else dropped. */
static void recover(fn_integ_self *self)
{
    sqlite3_stmt *st = store_read_stmt(server_store(self->srv), sql_task_all);
    if (st == NULL) {
        server_log(self->srv, SERVER_LOG_ERROR, "fn.recover", "error=%s",
                   sqlite3_errmsg(store_reader(server_store(self->srv))));
        return;
    }
    typedef struct row {
        char *arn, *request;
        uint64_t id;
    } row;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = bt_xrealloc(rows, cap * sizeof *rows);
        }
        rows[n].arn = bt_xstrdup((const char *)sqlite3_column_text(st, 0));
        rows[n].id = (uint64_t)sqlite3_column_int64(st, 1);
        rows[n].request = bt_xstrdup((const char *)sqlite3_column_text(st, 2));
        n++;
    }
    sqlite3_reset(st);
    size_t n_again = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *rq = json_loads(rows[i].request, JSON_DECODE_ANY, NULL);
        const char *resource = json_string_value(json_object_get(rq, "resource"));
        fn_integ_kind kind = fn_integ__kind(resource);
        fn_integ_req req;
        char *error = NULL, *cause = NULL;
        bool ok = kind != FN_INTEG_NONE &&
                  fn_integ__decode(kind, resource, json_object_get(rq, "parameters"), &req, &error,
                                   &cause) == 0;
        if (ok && server_task_is_open(self->srv, rows[i].arn, rows[i].id)) {
            after_commit(self, pending_new(self, rows[i].arn, rows[i].id, kind, &req));
            n_again++;
        } else {
            if (ok)
                fn_integ__req_fini(&req);
            store_batch_add(server_batch(self->srv), sql_task_del, "ti", rows[i].arn,
                            (int64_t)rows[i].id);
        }
        free(error);
        free(cause);
        json_decref(rq);
        free(rows[i].arn);
        free(rows[i].request);
    }
    free(rows);
    if (n)
        server_log(self->srv, SERVER_LOG_INFO, "fn.recover", "tasks=%zu invoked_again=%zu", n,
                   n_again);
}

static const integ_ops fn_integ_ops = {
    "lambda", integ_handles, integ_start, integ_cancel, integ_destroy, true,
};

integ fn_integ(server *srv, fn_service *fs)
{
    fn_integ_self *self = bt_xcalloc(1, sizeof *self);
    self->srv = srv;
    self->fs = fs;
    server_on_stop(srv, on_stop, self);
    recover(self);
    integ i = {&fn_integ_ops, self};
    return i;
}
