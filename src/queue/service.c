/*
 * service.c — the queue model on the server's engine thread: loaded from the store at
 * start, every change written into the current batch through the model's observer, new
 * messages held until their batch is durable, long polls parked on one timer, a retention
 * sweep, and the Step Functions sqs:sendMessage integration.
 *
 * Waiting: receives that found nothing wait in one list in arrival order. One timer (tick)
 * is armed for the earliest moment anything can change for them — a wait ending, a delayed
 * or in-flight message of their queue becoming visible — and is kicked to fire at once when a
 * batch of sends becomes durable or a visibility change or redrive makes a message visible.
 * Each tick serves waiters oldest first, so the first to ask is the first answered.
 */
#include "queue/queue.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/rand.h"
#include "queue/codec.h"
#include "queue/sendtask.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char queue_schema_v1[] =
    "CREATE TABLE sqs_queue (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  fifo INTEGER NOT NULL,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  modified_ms INTEGER NOT NULL,\n"
    "  purged_ms INTEGER NOT NULL,\n"
    "  attributes TEXT NOT NULL,\n" /* settable attributes that differ from the defaults */
    "  tags TEXT NOT NULL\n"        /* JSON object */
    ");\n"
    "CREATE TABLE sqs_message (\n"
    "  queue TEXT NOT NULL,\n"
    "  id TEXT NOT NULL,\n"
    "  serial INTEGER NOT NULL,\n" /* send order */
    "  body TEXT NOT NULL,\n"
    "  attributes TEXT,\n" /* JSON array of {Name, DataType, StringValue|BinaryValue} */
    "  trace_header TEXT,\n"
    "  sent_ms INTEGER NOT NULL,\n"
    "  enqueued_ms INTEGER NOT NULL,\n"
    "  first_receive_ms INTEGER NOT NULL,\n"
    "  received_ms INTEGER NOT NULL,\n"
    "  visible_ms INTEGER NOT NULL,\n"
    "  receive_count INTEGER NOT NULL,\n"
    "  receipt TEXT,\n"
    "  group_id TEXT,\n"
    "  dedup_id TEXT,\n"
    "  seq TEXT,\n"
    "  sender_id TEXT,\n"
    "  dlq_source TEXT,\n"
    "  PRIMARY KEY (queue, id)\n"
    ");\n"
    "CREATE INDEX sqs_message_serial ON sqs_message (serial);\n"
    "CREATE TABLE sqs_dedup (\n"
    "  queue TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  message_id TEXT NOT NULL,\n"
    "  seq TEXT,\n"
    "  expires_ms INTEGER NOT NULL,\n"
    "  PRIMARY KEY (queue, key)\n"
    ");\n";

static const char sql_queue_put[] =
    "INSERT OR REPLACE INTO sqs_queue (name, fifo, created_ms, modified_ms, purged_ms, "
    "attributes, tags) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char sql_queue_del[] = "DELETE FROM sqs_queue WHERE name = ?";
static const char sql_queue_msgs_del[] = "DELETE FROM sqs_message WHERE queue = ?";
static const char sql_queue_dedup_del[] = "DELETE FROM sqs_dedup WHERE queue = ?";
static const char sql_msg_put[] =
    "INSERT OR REPLACE INTO sqs_message (queue, id, serial, body, attributes, trace_header, "
    "sent_ms, enqueued_ms, first_receive_ms, received_ms, visible_ms, receive_count, receipt, "
    "group_id, dedup_id, seq, sender_id, dlq_source) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_msg_update[] =
    "UPDATE sqs_message SET first_receive_ms = ?, received_ms = ?, visible_ms = ?, "
    "receive_count = ?, receipt = ? WHERE queue = ? AND id = ?";
static const char sql_msg_del[] = "DELETE FROM sqs_message WHERE queue = ? AND id = ?";
static const char sql_dedup_put[] = "INSERT OR REPLACE INTO sqs_dedup (queue, key, message_id, "
                                    "seq, expires_ms) VALUES (?, ?, ?, ?, ?)";
static const char sql_dedup_expire[] = "DELETE FROM sqs_dedup WHERE expires_ms <= ?";

static const char sql_load_queues[] = "SELECT name, fifo, created_ms, modified_ms, purged_ms, "
                                      "attributes, tags FROM sqs_queue";
static const char sql_load_messages[] =
    "SELECT queue, id, serial, body, attributes, trace_header, sent_ms, enqueued_ms, "
    "first_receive_ms, received_ms, visible_ms, receive_count, receipt, group_id, dedup_id, seq, "
    "sender_id, dlq_source FROM sqs_message ORDER BY serial";
static const char sql_load_dedup[] =
    "SELECT queue, key, message_id, seq, expires_ms FROM sqs_dedup ORDER BY expires_ms";

#define SWEEP_INTERVAL_MS 60000

typedef struct waiter {
    struct waiter *prev, *next;
    char *queue_name;
    const qm_receive *r;
    int64_t deadline_ms;
    queue_receive_cb cb;
    void *ctx;
} waiter;

struct queue_service {
    server *srv;
    qmodel *model;
    uv_timer_t tick, sweep;
    int open_handles;
    size_t pending_releases; /* after_commit callbacks still to come */
    bool is_closing;
    waiter *first, *last;
    size_t n_waiters;
};

typedef struct release {
    queue_service *qs;
    uint64_t serial;
} release;

static void on_tick(uv_timer_t *t);

/* ---- persistence: the observer ---- */

static store_batch *batch(queue_service *qs)
{
    return server_batch(qs->srv);
}

static void put_json_string(void *ud, const char *name, const char *value)
{
    json_object_set_new(ud, name, json_string(value));
}

static void queue_saved(void *ud, const qm_queue *q)
{
    queue_service *qs = ud;
    json_t *attrs = json_object(), *tags = json_object();
    qm_stored_attributes(q, put_json_string, attrs);
    for (size_t i = 0; i < qm_n_tags(q); i++) {
        const char *k, *v;
        qm_tag_at(q, i, &k, &v);
        json_object_set_new(tags, k, json_string(v));
    }
    char *a = json_dumps(attrs, JSON_COMPACT), *t = json_dumps(tags, JSON_COMPACT);
    store_batch_add(batch(qs), sql_queue_put, "tiiiitt", qm_queue_name(q),
                    (int64_t)qm_queue_is_fifo(q), qm_queue_created_ms(q), qm_queue_modified_ms(q),
                    qm_queue_purged_ms(q), a, t);
    free(a);
    free(t);
    json_decref(attrs);
    json_decref(tags);
}

static void queue_deleted(void *ud, const qm_queue *q)
{
    queue_service *qs = ud;
    store_batch_add(batch(qs), sql_queue_del, "t", qm_queue_name(q));
    store_batch_add(batch(qs), sql_queue_msgs_del, "t", qm_queue_name(q));
    store_batch_add(batch(qs), sql_queue_dedup_del, "t", qm_queue_name(q));
    /* Receives waiting on it end empty at the next tick. */
    for (waiter *w = qs->first; w; w = w->next)
        if (strcmp(w->queue_name, qm_queue_name(q)) == 0)
            w->deadline_ms = 0;
    uv_timer_start(&qs->tick, on_tick, 0, 0);
}

static char *attrs_json(const qm_msg *msg)
{
    if (msg->n_attrs == 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < msg->n_attrs; i++) {
        const qm_attr *a = &msg->attrs[i];
        json_t *o = json_pack("{s:s,s:s}", "Name", a->name, "DataType", a->type);
        if (a->is_binary) {
            bt_buf b;
            bt_buf_init(&b);
            qc_base64_encode(a->value, a->len, &b);
            json_object_set_new(o, "BinaryValue", json_string(b.data));
            bt_buf_fini(&b);
        } else {
            json_object_set_new(o, "StringValue", json_stringn(a->value, a->len));
        }
        json_array_append_new(list, o);
    }
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    return text;
}

static void kick(queue_service *qs)
{
    if (qs->first)
        uv_timer_start(&qs->tick, on_tick, 0, 0);
}

/* The service goes once its timers have closed and no commit callback can reach it. */
static void maybe_free(queue_service *qs)
{
    if (qs->is_closing && qs->open_handles == 0 && qs->pending_releases == 0)
        free(qs);
}

static void released(void *ctx, int rc)
{
    release *r = ctx;
    queue_service *qs = r->qs;
    qs->pending_releases--;
    if (qs->model == NULL) {
        free(r);
        maybe_free(qs);
        return;
    }
    if (rc == 0) {
        if (qmodel_release(r->qs->model, r->serial))
            kick(r->qs);
    } else {
        /* The client is told the send failed; the message must not appear later. */
        qmodel_drop_held(r->qs->model, r->serial);
        server_log(r->qs->srv, SERVER_LOG_ERROR, "sqs.send_lost", "serial=%" PRIu64 " rc=%d",
                   r->serial, rc);
    }
    free(r);
}

static void msg_added(void *ud, const qm_msg *msg)
{
    queue_service *qs = ud;
    char *attrs = attrs_json(msg);
    store_batch_add(batch(qs), sql_msg_put, "ttitttiiiiiitttttt", qm_queue_name(msg->queue),
                    msg->id, (int64_t)msg->serial, msg->body, attrs, msg->trace_header,
                    msg->sent_ms, msg->enqueued_ms, msg->first_receive_ms, msg->received_ms,
                    msg->visible_ms, msg->receive_count, msg->receipt, msg->group_id, msg->dedup_id,
                    msg->seq, msg->sender_id, msg->dlq_source);
    free(attrs);
    if (msg->is_held) {
        release *r = bt_xmalloc(sizeof(*r));
        r->qs = qs;
        r->serial = msg->serial;
        qs->pending_releases++;
        server_after_commit(qs->srv, released, r);
    } else {
        kick(qs); /* redriven into a dead-letter queue */
    }
}

static void msg_updated(void *ud, const qm_msg *msg)
{
    queue_service *qs = ud;
    store_batch_add(batch(qs), sql_msg_update, "iiiittt", msg->first_receive_ms, msg->received_ms,
                    msg->visible_ms, msg->receive_count, msg->receipt, qm_queue_name(msg->queue),
                    msg->id);
    if (msg->visible_ms <= server_now_ms(qs->srv))
        kick(qs); /* ChangeMessageVisibility to 0 */
}

static void msg_deleted(void *ud, const qm_msg *msg)
{
    queue_service *qs = ud;
    store_batch_add(batch(qs), sql_msg_del, "tt", qm_queue_name(msg->queue), msg->id);
}

static void purged(void *ud, const qm_queue *q)
{
    queue_service *qs = ud;
    store_batch_add(batch(qs), sql_queue_msgs_del, "t", qm_queue_name(q));
}

static void dedup_saved(void *ud, const qm_queue *q, const char *key, const char *message_id,
                        const char *seq, int64_t expires_ms)
{
    queue_service *qs = ud;
    store_batch_add(batch(qs), sql_dedup_put, "tttti", qm_queue_name(q), key, message_id, seq,
                    expires_ms);
}

/* ---- loading ---- */

static const char *column_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const char *s = column_text(st, i);
    return s ? bt_xstrdup(s) : NULL;
}

/* The pairs of a JSON object of strings, borrowed from it. */
static size_t object_pairs(json_t *o, qm_kv **out)
{
    size_t n = 0;
    *out = bt_xcalloc(json_object_size(o) + 1, sizeof(**out));
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (json_is_string(v))
            (*out)[n++] = (qm_kv){k, json_string_value(v)};
    }
    return n;
}

static int load_queues(queue_service *qs, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *attrs = json_loads(column_text(st, 5), 0, NULL);
        json_t *tags = json_loads(column_text(st, 6), 0, NULL);
        qm_kv *a, *t;
        size_t na = object_pairs(attrs, &a), nt = object_pairs(tags, &t);
        qm_restore_queue(qs->model, column_text(st, 0), sqlite3_column_int64(st, 1) != 0,
                         sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                         sqlite3_column_int64(st, 4), a, na, t, nt);
        free(a);
        free(t);
        json_decref(attrs);
        json_decref(tags);
    }
    return rc;
}

static void restore_attrs(qm_msg *msg, const char *text)
{
    json_t *list = text ? json_loads(text, 0, NULL) : NULL;
    size_t n = json_array_size(list);
    msg->attrs = n ? bt_xcalloc(n, sizeof(*msg->attrs)) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(list, i);
        qm_attr *a = &msg->attrs[msg->n_attrs];
        const char *name = json_string_value(json_object_get(o, "Name"));
        const char *type = json_string_value(json_object_get(o, "DataType"));
        json_t *sv = json_object_get(o, "StringValue");
        const char *bv = json_string_value(json_object_get(o, "BinaryValue"));
        if (name == NULL || type == NULL)
            continue;
        bt_buf b;
        bt_buf_init(&b);
        if (bv) {
            qc_base64_decode(bv, strlen(bv), &b);
            a->is_binary = true;
        } else {
            bt_buf_append(&b, json_string_value(sv) ? json_string_value(sv) : "",
                          json_string_length(sv));
        }
        a->len = b.len;
        a->value = bt_buf_steal(&b);
        a->name = bt_xstrdup(name);
        a->type = bt_xstrdup(type);
        msg->n_attrs++;
    }
    json_decref(list);
}

static void restore_md5s(qm_msg *msg)
{
    qc_md5_hex(msg->body, msg->body_len, msg->md5_body);
    if (msg->n_attrs) {
        const qm_attr *sorted[QM_MAX_ATTRIBUTES];
        size_t n = msg->n_attrs < QM_MAX_ATTRIBUTES ? msg->n_attrs : QM_MAX_ATTRIBUTES;
        for (size_t i = 0; i < n; i++)
            sorted[i] = &msg->attrs[i]; /* stored in name order */
        qm_attrs_md5(sorted, n, msg->md5_attrs);
    }
    if (msg->trace_header) {
        qm_attr trace = {(char *)(uintptr_t) "AWSTraceHeader", (char *)(uintptr_t) "String",
                         msg->trace_header, strlen(msg->trace_header), false};
        const qm_attr *one[] = {&trace};
        qm_attrs_md5(one, 1, msg->md5_sys);
    }
}

static int load_messages(queue_service *qs, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        qm_queue *q = qm_find(qs->model, column_text(st, 0));
        const char *id = column_text(st, 1);
        if (q == NULL || id == NULL || strlen(id) != 36 || column_text(st, 3) == NULL)
            continue;
        qm_msg *msg = qm_msg_alloc();
        memcpy(msg->id, id, 37);
        msg->serial = (uint64_t)sqlite3_column_int64(st, 2);
        msg->body = column_dup(st, 3);
        msg->body_len = strlen(msg->body);
        restore_attrs(msg, column_text(st, 4));
        msg->trace_header = column_dup(st, 5);
        msg->sent_ms = sqlite3_column_int64(st, 6);
        msg->enqueued_ms = sqlite3_column_int64(st, 7);
        msg->first_receive_ms = sqlite3_column_int64(st, 8);
        msg->received_ms = sqlite3_column_int64(st, 9);
        msg->visible_ms = sqlite3_column_int64(st, 10);
        msg->receive_count = sqlite3_column_int64(st, 11);
        msg->receipt = column_dup(st, 12);
        msg->group_id = column_dup(st, 13);
        msg->dedup_id = column_dup(st, 14);
        msg->seq = column_dup(st, 15);
        msg->sender_id = column_dup(st, 16);
        msg->dlq_source = column_dup(st, 17);
        restore_md5s(msg);
        qm_restore_message(qs->model, q, msg);
    }
    return rc;
}

static int load_dedup(queue_service *qs, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        qm_queue *q = qm_find(qs->model, column_text(st, 0));
        if (q && column_text(st, 1) && column_text(st, 2))
            qm_restore_dedup(qs->model, q, column_text(st, 1), column_text(st, 2),
                             column_text(st, 3), sqlite3_column_int64(st, 4));
    }
    return rc;
}

static int load(queue_service *qs, bt_err *err)
{
    store *s = server_store(qs->srv);
    static const char *const sql[] = {sql_load_queues, sql_load_messages, sql_load_dedup};
    int (*const steps[])(queue_service *, sqlite3_stmt *) = {load_queues, load_messages,
                                                             load_dedup};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *st = store_read_stmt(s, sql[i]);
        if (st == NULL)
            return bt_err_set(err, BT_EIO, "cannot read the queues: %s",
                              sqlite3_errmsg(store_reader(s)));
        int rc = steps[i](qs, st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return bt_err_set(err, BT_EIO, "cannot read the queues: %s", sqlite3_errstr(rc));
    }
    return 0;
}

/* ---- waiting ---- */

static void unlink_waiter(queue_service *qs, waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        qs->first = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        qs->last = w->prev;
    qs->n_waiters--;
}

static void answer(queue_service *qs, waiter *w, qm_msg *const *msgs, size_t n)
{
    unlink_waiter(qs, w);
    w->cb(w->ctx, msgs, n);
    free(w->queue_name);
    free(w);
}

static void arm(queue_service *qs, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    for (waiter *w = qs->first; w; w = w->next) {
        if (w->deadline_ms < next)
            next = w->deadline_ms;
        qm_queue *q = qm_find(qs->model, w->queue_name);
        int64_t v = q ? qm_next_visible_ms(q, now_ms) : INT64_MAX;
        if (v < next)
            next = v;
    }
    if (next == INT64_MAX) {
        uv_timer_stop(&qs->tick);
        return;
    }
    int64_t delay = next > now_ms ? next - now_ms : 1;
    uv_timer_start(&qs->tick, on_tick, (uint64_t)delay, 0);
}

/* Serves the waiters oldest first; a waiter whose wait is over gets what there is. */
static void serve(queue_service *qs)
{
    int64_t now = server_now_ms(qs->srv);
    for (waiter *w = qs->first, *next; w; w = next) {
        next = w->next;
        qm_queue *q = qm_find(qs->model, w->queue_name);
        qm_msg *got[QM_MAX_RECEIVE];
        size_t n = 0;
        if (q && w->deadline_ms > 0 && qm_has_receivable(q, now))
            n = qm_receive_now(qs->model, q, w->r, now, got);
        if (n > 0 || w->deadline_ms <= now)
            answer(qs, w, got, n);
    }
    arm(qs, now);
}

static void on_tick(uv_timer_t *t)
{
    serve(t->data);
}

int queue_receive(queue_service *qs, qm_queue *queue, const qm_receive *r, queue_receive_cb cb,
                  void *ctx, qm_err *err)
{
    if (qm_check_receive(r, err) < 0)
        return -1;
    int64_t now = server_now_ms(qs->srv);
    qm_msg *got[QM_MAX_RECEIVE];
    size_t n = qm_receive_now(qs->model, queue, r, now, got);
    int64_t wait_s = r->wait_s >= 0 ? r->wait_s : qm_queue_wait_s(queue);
    if (n > 0 || wait_s == 0 || qs->n_waiters >= QUEUE_MAX_WAITERS) {
        cb(ctx, got, n);
        return 0;
    }
    waiter *w = bt_xcalloc(1, sizeof(*w));
    w->queue_name = bt_xstrdup(qm_queue_name(queue));
    w->r = r;
    w->deadline_ms = now + wait_s * 1000;
    w->cb = cb;
    w->ctx = ctx;
    w->prev = qs->last;
    if (qs->last)
        qs->last->next = w;
    else
        qs->first = w;
    qs->last = w;
    qs->n_waiters++;
    arm(qs, now);
    return 0;
}

size_t queue_n_waiters(const queue_service *qs)
{
    return qs->n_waiters;
}

/* ---- the sweep ---- */

static void on_sweep(uv_timer_t *t)
{
    queue_service *qs = t->data;
    int64_t now = server_now_ms(qs->srv);
    qm_sweep(qs->model, now);
    store_batch_add(batch(qs), sql_dedup_expire, "i", now);
}

/* ---- life ---- */

queue_service *queue_service_new(server *srv, bt_err *err)
{
    queue_service *qs = bt_xcalloc(1, sizeof(*qs));
    qs->srv = srv;
    qs->model = qmodel_new(server_region(srv), server_account(srv));
    if (load(qs, err) < 0) {
        qmodel_free(qs->model);
        free(qs);
        return NULL;
    }
    qm_observer obs = {qs,          queue_saved, queue_deleted, msg_added,
                       msg_updated, msg_deleted, purged,        dedup_saved};
    qmodel_set_observer(qs->model, &obs);
    qmodel_set_hold(qs->model, true);
    uv_timer_init(server_loop(srv), &qs->tick);
    uv_timer_init(server_loop(srv), &qs->sweep);
    qs->tick.data = qs->sweep.data = qs;
    qs->open_handles = 2;
    uv_timer_start(&qs->tick, on_tick, 0, 0);
    uv_timer_start(&qs->sweep, on_sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
    return qs;
}

static void on_closed(uv_handle_t *h)
{
    queue_service *qs = h->data;
    qs->open_handles--;
    maybe_free(qs);
}

void queue_service_free(queue_service *qs)
{
    if (qs == NULL)
        return;
    while (qs->first)
        answer(qs, qs->first, NULL, 0);
    qmodel_free(qs->model);
    qs->model = NULL;
    qs->is_closing = true;
    uv_close((uv_handle_t *)&qs->tick, on_closed);
    uv_close((uv_handle_t *)&qs->sweep, on_closed);
}

qmodel *queue_model(queue_service *qs)
{
    return qs->model;
}

int64_t queue_now_ms(const queue_service *qs)
{
    return server_now_ms(qs->srv);
}

char *queue_url(const queue_service *qs, const qm_queue *queue)
{
    return bt_xasprintf("%s/%s/%s", server_endpoint(qs->srv), server_account(qs->srv),
                        qm_queue_name(queue));
}

static qm_queue *missing(qm_err *err)
{
    qm_fail(err, QM_E_NONEXISTENT_QUEUE, "The specified queue does not exist.");
    return NULL;
}

qm_queue *queue_resolve_url(queue_service *qs, const char *url, qm_err *err)
{
    char name[81];
    int rc = qc_parse_queue_url(url, server_region(qs->srv), server_account(qs->srv), name);
    if (rc < 0) {
        qm_fail(err, QM_E_INVALID_ADDRESS, "The address %.300s is not valid for this endpoint.",
                url);
        return NULL;
    }
    qm_queue *q = rc == 0 ? qm_find(qs->model, name) : NULL;
    return q ? q : missing(err);
}

qm_queue *queue_resolve_path(queue_service *qs, const char *path, qm_err *err)
{
    char name[81];
    qm_queue *q = NULL;
    if (qc_parse_queue_path(path, server_account(qs->srv), name) == 0)
        q = qm_find(qs->model, name);
    return q ? q : missing(err);
}

/* ---- the Step Functions integration ---- */

static const char res_send[] = "arn:aws:states:::sqs:sendMessage";
static const char res_wait[] = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

static bool integ_handles(void *self, const char *state_name, const char *resource)
{
    (void)self;
    (void)state_name;
    return resource && (strcmp(resource, res_send) == 0 || strcmp(resource, res_wait) == 0);
}

/* A QueueUrl on a host that is neither AWS's SQS nor this server: Step Functions' SQS client
 * cannot even connect, and reports it as the Java SDK does (a recorded AWS result:
 * "Unable to execute HTTP request: no-such-queue-…: Name or service not known"). */
static bool unreachable_host(const char *url, const integ_sink *sink, uint64_t task_id)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return false;
    p += 3;
    size_t n = strcspn(p, ":/?#");
    if (n == 0 || n > 253)
        return false;
    char *cause =
        bt_xasprintf("Unable to execute HTTP request: %.*s: Name or service not known", (int)n, p);
    sink->failed(sink->ud, task_id, "SQS.SdkClientException", cause);
    free(cause);
    return true;
}

static int integ_start(void *self, const integ_task *t, const integ_sink *sink)
{
    queue_service *qs = self;
    uint8_t raw[16];
    char request_id[37];
    bt_random_bytes(raw, sizeof(raw));
    bt_uuid_format(raw, request_id);
    sendtask st;
    qm_err err = {0};
    qm_sent sent;
    qm_queue *q = NULL;
    int rc = sendtask_decode(t->parameters, &st, &err);
    if (rc == 0)
        q = queue_resolve_url(qs, st.queue_url, &err);
    if (rc == 0 && q == NULL && err.code == QM_E_INVALID_ADDRESS &&
        unreachable_host(st.queue_url, sink, t->id)) {
        sendtask_fini(&st);
        return 0;
    }
    if (rc == 0 && q)
        rc = qm_send_message(qs->model, q, &st.send, server_now_ms(qs->srv), &sent, &err);
    if (rc < 0 || q == NULL) {
        char *error = sendtask_error(&err), *cause = sendtask_cause(&err, request_id);
        sink->failed(sink->ud, t->id, error, cause);
        free(error);
        free(cause);
    } else {
        json_t *response = sendtask_response(&sent, request_id, server_now_ms(qs->srv));
        if (strcmp(t->resource, res_wait) == 0)
            sink->submitted(sink->ud, t->id, response);
        else
            sink->succeeded(sink->ud, t->id, response);
        json_decref(response);
    }
    sendtask_fini(&st);
    return 0;
}

/* The send happens inside start(): there is never anything left to cancel. */
static void integ_cancel(void *self, const char *execution_arn, uint64_t task_id)
{
    (void)self;
    (void)execution_arn;
    (void)task_id;
}

static void integ_destroy(void *self)
{
    (void)self;
}

static const integ_ops queue_integ_ops = {
    "sqs", integ_handles, integ_start, integ_cancel, integ_destroy, false,
};

integ queue_integ(queue_service *qs)
{
    integ i = {&queue_integ_ops, qs};
    return i;
}
