/*
 * trigger.c — queue triggers on the engine thread (trigger.h): the mappings (table
 * trigger_mapping, loaded at start), and per enabled mapping a poller that long-polls its
 * queue, fills a batch (BatchSize, MaximumBatchingWindowInSeconds), invokes the function once
 * the receive that took the messages is durable, and deletes what the answer says is done.
 * Records and answers are read in records.c.
 *
 * A mapping's poller:
 *   idle --poll--> receiving --cb, batch full or window over--> [commit] --> invoking
 *     ^               `--cb, nothing--> idle (the next rescan, at most 1 s later)    |
 *     `----------------------- done: deletes, LastProcessingResult -------------------'
 * At most one receive is outstanding per mapping and at most MaximumConcurrency batches are
 * in flight. A FIFO queue hands out nothing of a group while a message of it is in flight,
 * so one batch per group is in flight at a time and order holds. Polling starts with the
 * loop (the rescan timer), never before the server is up; receives are long polls, so an
 * idle mapping costs one waiting receive.
 */
#include "trigger/trigger.h"

#include "base/alloc.h"
#include "base/rand.h"
#include "trigger/trigger_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char trigger_schema_v1[] = "CREATE TABLE trigger_mapping (\n"
                                 "  uuid TEXT PRIMARY KEY,\n"
                                 "  queue_arn TEXT NOT NULL,\n"
                                 "  function TEXT NOT NULL,\n"
                                 "  enabled INTEGER NOT NULL,\n"
                                 "  batch_size INTEGER NOT NULL,\n"
                                 "  window_s INTEGER NOT NULL,\n"
                                 "  report_failures INTEGER NOT NULL,\n"
                                 "  max_concurrency INTEGER NOT NULL,\n"
                                 "  origin INTEGER NOT NULL,\n"
                                 "  modified_ms INTEGER NOT NULL\n"
                                 ");\n";

static const char sql_put[] =
    "INSERT OR REPLACE INTO trigger_mapping (uuid, queue_arn, function, enabled, batch_size, "
    "window_s, report_failures, max_concurrency, origin, modified_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_del[] = "DELETE FROM trigger_mapping WHERE uuid = ?";
static const char sql_all[] = "SELECT uuid, queue_arn, function, enabled, batch_size, window_s, "
                              "report_failures, max_concurrency, origin, modified_ms "
                              "FROM trigger_mapping ORDER BY uuid";

#define RESCAN_MS   1000
#define LONG_POLL_S 20

typedef struct mapping mapping;

typedef struct batch {
    struct batch *next;
    mapping *m;
    char **ids, **receipts;
    size_t n;
    char *payload;
    uint64_t handle; /* fn_invoke's once invoking */
    bool is_fifo;
} batch;

struct mapping {
    trigger_info info;
    trigger_service *ts;
    char *queue_arn, *function;
    bool is_deleted, is_receiving;
    int in_flight;
    /* the batch being filled */
    json_t *records;
    char **ids, **receipts;
    size_t n, cap;
    int64_t window_end_ms;
    qm_receive rcv;
};

struct trigger_service {
    server *srv;
    queue_service *queues;
    fn_service *fns;
    mapping **maps;
    size_t n_maps;
    batch *invoking; /* batches whose invocation runs */
    uv_timer_t rescan;
    size_t n_receiving, n_committing;
    bool timer_open, is_closing;
};

static const char *const all_names[] = {"All"};

static void poll(mapping *m);

/* ---- the table ---- */

static void save(trigger_service *ts, const mapping *m)
{
    const trigger_config *c = &m->info.cfg;
    store_batch_add(server_batch(ts->srv), sql_put, "tttiiiiiii", m->info.uuid, c->queue_arn,
                    c->function, (int64_t)c->enabled, (int64_t)c->batch_size,
                    (int64_t)c->batching_window_s, (int64_t)c->report_item_failures,
                    (int64_t)c->max_concurrency, (int64_t)m->info.origin, m->info.last_modified_ms);
}

static mapping *mapping_new(trigger_service *ts, const char *uuid)
{
    mapping *m = bt_xcalloc(1, sizeof *m);
    m->ts = ts;
    snprintf(m->info.uuid, sizeof m->info.uuid, "%s", uuid);
    m->info.cfg.uuid = m->info.uuid;
    m->info.last_result = "No records processed";
    m->rcv.sys_names = all_names;
    m->rcv.n_sys_names = 1;
    m->rcv.attr_names = all_names;
    m->rcv.n_attr_names = 1;
    ts->maps = bt_xrealloc(ts->maps, (ts->n_maps + 1) * sizeof *ts->maps);
    ts->maps[ts->n_maps++] = m;
    return m;
}

/* Copies cfg's settings in (defaults applied). cfg and function may borrow m's own strings
 * (an update built from trigger_get's info): copied before the old ones go. */
static void mapping_set(mapping *m, const trigger_config *cfg, const char *function)
{
    char *queue_arn = bt_xstrdup(cfg->queue_arn);
    char *fn = bt_xstrdup(function);
    free(m->queue_arn);
    free(m->function);
    m->queue_arn = queue_arn;
    m->function = fn;
    trigger_config *c = &m->info.cfg;
    *c = *cfg;
    c->uuid = m->info.uuid;
    c->queue_arn = m->queue_arn;
    c->function = m->function;
    if (c->batch_size == 0)
        c->batch_size = TRIGGER_BATCH_DEFAULT;
    m->info.state = c->enabled ? "Enabled" : "Disabled";
}

static void collected_clear(mapping *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->ids[i]);
        free(m->receipts[i]);
    }
    m->n = 0;
    json_decref(m->records);
    m->records = NULL;
}

static void mapping_free(mapping *m)
{
    collected_clear(m);
    free(m->ids);
    free(m->receipts);
    free(m->queue_arn);
    free(m->function);
    free(m);
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->ids[i]);
        free(b->receipts[i]);
    }
    free(b->ids);
    free(b->receipts);
    free(b->payload);
    free(b);
}

/* A deleted mapping goes once no receive or batch refers to it. */
static void release(mapping *m)
{
    if (m->is_deleted && !m->is_receiving && m->in_flight == 0)
        mapping_free(m);
}

static void maybe_free(trigger_service *ts)
{
    if (!ts->is_closing || ts->timer_open || ts->n_receiving || ts->n_committing)
        return;
    for (size_t i = 0; i < ts->n_maps; i++)
        mapping_free(ts->maps[i]);
    free(ts->maps);
    free(ts);
}

static int load(trigger_service *ts, bt_err *err)
{
    sqlite3_stmt *st = store_read_stmt(server_store(ts->srv), sql_all);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "trigger_mapping: %s",
                          sqlite3_errmsg(store_reader(server_store(ts->srv))));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        mapping *m = mapping_new(ts, (const char *)sqlite3_column_text(st, 0));
        trigger_config c = {
            .queue_arn = (const char *)sqlite3_column_text(st, 1),
            .enabled = sqlite3_column_int(st, 3) != 0,
            .batch_size = sqlite3_column_int(st, 4),
            .batching_window_s = sqlite3_column_int(st, 5),
            .report_item_failures = sqlite3_column_int(st, 6) != 0,
            .max_concurrency = sqlite3_column_int(st, 7),
        };
        mapping_set(m, &c, (const char *)sqlite3_column_text(st, 2));
        m->info.origin = sqlite3_column_int(st, 8) ? FN_ORIGIN_PROJECT : FN_ORIGIN_API;
        m->info.last_modified_ms = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "trigger_mapping: %s",
                          sqlite3_errmsg(store_reader(server_store(ts->srv))));
    return 0;
}

/* ---- polling ---- */

static int max_in_flight(mapping *m)
{
    if (m->info.cfg.max_concurrency > 0)
        return m->info.cfg.max_concurrency;
    const fn_info *f = fn_get(m->ts->fns, m->function);
    return f && f->cfg.concurrency > 0 ? f->cfg.concurrency : FN_CONCURRENCY_DEFAULT;
}

static qm_queue *find_queue(mapping *m)
{
    return qm_find_arn(queue_model(m->ts->queues), m->queue_arn);
}

static void on_done(void *ctx, const fn_result *r)
{
    batch *b = ctx;
    mapping *m = b->m;
    trigger_service *ts = m->ts;
    for (batch **p = &ts->invoking; *p; p = &(*p)->next)
        if (*p == b) {
            *p = b->next;
            break;
        }
    m->in_flight--;
    if (m->is_deleted || ts->is_closing) {
        batch_free(b);
        release(m);
        return;
    }
    int64_t now = server_tick(ts->srv);
    bool *keep = bt_xcalloc(b->n ? b->n : 1, sizeof *keep);
    bool ok = r->api_status == 0 && !r->function_error;
    if (ok && m->info.cfg.report_item_failures)
        ok = trigger__item_failures(r->payload, r->payload_len, (const char *const *)b->ids, b->n,
                                    b->is_fifo, keep);
    /* Otherwise (an error, a timeout, a throttle) every message comes back after its
     * visibility timeout, and goes to the queue's dead-letter queue after maxReceiveCount. */
    size_t n_deleted = 0;
    qm_queue *q = find_queue(m);
    for (size_t i = 0; ok && q && i < b->n; i++) {
        qm_err err = {0};
        if (!keep[i] &&
            qm_delete_message(queue_model(ts->queues), q, b->receipts[i], now, &err) == 0)
            n_deleted++;
    }
    free(keep);
    m->info.last_result = ok ? "OK" : "PROBLEM: Function call failed";
    server_log(ts->srv, SERVER_LOG_DEBUG, "trigger.batch", "uuid=%s messages=%zu deleted=%zu ok=%d",
               m->info.uuid, b->n, n_deleted, ok);
    batch_free(b);
    poll(m);
}

static void on_committed(void *ctx, int rc)
{
    batch *b = ctx;
    mapping *m = b->m;
    trigger_service *ts = m->ts;
    ts->n_committing--;
    if (rc != 0 || m->is_deleted || ts->is_closing) {
        m->in_flight--;
        batch_free(b);
        release(m);
        maybe_free(ts);
        return;
    }
    fn_invoke_req req = {
        .name = m->function, .payload = b->payload, .payload_len = strlen(b->payload)};
    b->next = ts->invoking;
    ts->invoking = b;
    b->handle = fn_invoke(ts->fns, &req, on_done, b);
}

/* Hands the collected messages to the function once their receive is durable. */
static void dispatch(mapping *m, bool is_fifo)
{
    batch *b = bt_xcalloc(1, sizeof *b);
    b->m = m;
    b->is_fifo = is_fifo;
    b->n = m->n;
    b->ids = bt_xmalloc(m->n * sizeof *b->ids);
    b->receipts = bt_xmalloc(m->n * sizeof *b->receipts);
    memcpy(b->ids, m->ids, m->n * sizeof *b->ids);
    memcpy(b->receipts, m->receipts, m->n * sizeof *b->receipts);
    m->n = 0;
    json_t *event = json_pack("{s:o}", "Records", m->records);
    m->records = NULL;
    b->payload = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    m->in_flight++;
    m->ts->n_committing++;
    server_after_commit(m->ts->srv, on_committed, b);
}

static void on_received(void *ctx, qm_msg *const *msgs, size_t n)
{
    mapping *m = ctx;
    trigger_service *ts = m->ts;
    ts->n_receiving--;
    m->is_receiving = false;
    if (m->is_deleted || ts->is_closing) {
        release(m);
        maybe_free(ts);
        return;
    }
    int64_t now = server_tick(ts->srv);
    for (size_t i = 0; i < n; i++) {
        /* A message whose visibility timeout ran out while the batch filled comes again: it
         * stays once in the batch, with its newest receipt handle and receive count (the
         * older handle no longer deletes it). */
        size_t j = 0;
        while (j < m->n && strcmp(m->ids[j], msgs[i]->id) != 0)
            j++;
        if (j < m->n) {
            free(m->receipts[j]);
            m->receipts[j] = bt_xstrdup(msgs[i]->receipt ? msgs[i]->receipt : "");
            json_array_set_new(m->records, j,
                               trigger__record(msgs[i], m->queue_arn, server_region(ts->srv)));
            continue;
        }
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 16;
            m->ids = bt_xrealloc(m->ids, m->cap * sizeof *m->ids);
            m->receipts = bt_xrealloc(m->receipts, m->cap * sizeof *m->receipts);
        }
        if (m->records == NULL) {
            m->records = json_array();
            m->window_end_ms = now + (int64_t)m->info.cfg.batching_window_s * 1000;
        }
        json_array_append_new(m->records,
                              trigger__record(msgs[i], m->queue_arn, server_region(ts->srv)));
        m->ids[m->n] = bt_xstrdup(msgs[i]->id);
        m->receipts[m->n] = bt_xstrdup(msgs[i]->receipt ? msgs[i]->receipt : "");
        m->n++;
    }
    if (m->n == 0)
        return; /* the rescan polls again */
    bool full = m->n >= (size_t)m->info.cfg.batch_size;
    if (full || now >= m->window_end_ms || (n == 0 && m->n > 0)) {
        qm_queue *q = find_queue(m);
        dispatch(m, q ? qm_queue_is_fifo(q) : false);
    }
    poll(m);
}

static void poll(mapping *m)
{
    trigger_service *ts = m->ts;
    if (ts->is_closing || m->is_deleted || m->is_receiving || !m->info.cfg.enabled)
        return;
    if (m->in_flight >= max_in_flight(m))
        return;
    qm_queue *q = find_queue(m);
    if (q == NULL || fn_get(ts->fns, m->function) == NULL) {
        m->info.last_result =
            q == NULL ? "PROBLEM: Queue does not exist" : "PROBLEM: Function does not exist";
        return;
    }
    int64_t want = m->info.cfg.batch_size - (int64_t)m->n;
    m->rcv.max = want > 10 ? 10 : want;
    m->rcv.visibility_s = -1;
    if (m->n == 0) {
        m->rcv.wait_s = LONG_POLL_S;
    } else {
        int64_t left = m->window_end_ms - server_now_ms(ts->srv);
        m->rcv.wait_s = left <= 0 ? 0 : (left + 999) / 1000;
    }
    m->is_receiving = true;
    ts->n_receiving++;
    qm_err err = {0};
    if (queue_receive(ts->queues, q, &m->rcv, on_received, m, &err) != 0) {
        m->is_receiving = false;
        ts->n_receiving--;
        server_log(ts->srv, SERVER_LOG_WARN, "trigger.receive", "uuid=%s error=%s", m->info.uuid,
                   err.msg);
    }
}

static void on_rescan(uv_timer_t *t)
{
    trigger_service *ts = t->data;
    for (size_t i = 0; i < ts->n_maps; i++)
        poll(ts->maps[i]);
}

/* ---- the service ---- */

trigger_service *trigger_service_new(server *srv, queue_service *queues, fn_service *fns,
                                     bt_err *err)
{
    trigger_service *ts = bt_xcalloc(1, sizeof *ts);
    ts->srv = srv;
    ts->queues = queues;
    ts->fns = fns;
    if (load(ts, err) != 0) {
        for (size_t i = 0; i < ts->n_maps; i++)
            mapping_free(ts->maps[i]);
        free(ts->maps);
        free(ts);
        return NULL;
    }
    uv_timer_init(server_loop(srv), &ts->rescan);
    ts->rescan.data = ts;
    ts->timer_open = true;
    uv_timer_start(&ts->rescan, on_rescan, 0, RESCAN_MS);
    return ts;
}

static void on_timer_closed(uv_handle_t *h)
{
    trigger_service *ts = h->data;
    ts->timer_open = false;
    maybe_free(ts);
}

void trigger_service_free(trigger_service *ts)
{
    if (ts == NULL)
        return;
    ts->is_closing = true;
    while (ts->invoking) {
        batch *b = ts->invoking;
        ts->invoking = b->next;
        fn_cancel(ts->fns, b->handle);
        mapping *m = b->m;
        m->in_flight--;
        batch_free(b);
        release(m);
    }
    uv_timer_stop(&ts->rescan);
    uv_close((uv_handle_t *)&ts->rescan, on_timer_closed);
}

static mapping *find(trigger_service *ts, const char *uuid)
{
    for (size_t i = 0; i < ts->n_maps; i++)
        if (strcmp(ts->maps[i]->info.uuid, uuid) == 0)
            return ts->maps[i];
    return NULL;
}

int trigger_put(trigger_service *ts, const trigger_config *cfg, fn_origin origin, char uuid_out[37],
                bt_err *err)
{
    if (cfg->queue_arn == NULL || strncmp(cfg->queue_arn, "arn:aws:sqs:", 12) != 0)
        return bt_err_set(err, BT_EINVAL, "Unrecognized event source.");
    char name[FN_NAME_MAX + 1], qualifier[130], arn[320];
    if (cfg->function == NULL || fn_parse_name(ts->fns, cfg->function, name, qualifier) != 0 ||
        fn_get(ts->fns, name) == NULL) {
        if (cfg->function && fn_parse_name(ts->fns, cfg->function, name, qualifier) == 0)
            fn_arn(ts->fns, name, arn, sizeof arn);
        else
            snprintf(arn, sizeof arn, "%s", cfg->function ? cfg->function : "");
        return bt_err_set(err, BT_ENOTFOUND, "Function not found: %s", arn);
    }
    qm_queue *q = qm_find_arn(queue_model(ts->queues), cfg->queue_arn);
    if (q == NULL)
        return bt_err_set(err, BT_ENOTFOUND,
                          "Error occurred while ReceiveMessage. SQS Error Code: "
                          "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The "
                          "specified queue does not exist.");
    int rc = trigger__check(cfg, qm_queue_is_fifo(q), err);
    if (rc != 0)
        return rc;
    mapping *m = cfg->uuid ? find(ts, cfg->uuid) : NULL;
    if (m == NULL) {
        char uuid[37];
        if (cfg->uuid) {
            snprintf(uuid, sizeof uuid, "%s", cfg->uuid);
        } else {
            uint8_t raw[16];
            bt_random_bytes(raw, sizeof raw);
            bt_uuid_format(raw, uuid);
        }
        m = mapping_new(ts, uuid);
    }
    mapping_set(m, cfg, name);
    m->info.origin = origin;
    m->info.last_modified_ms = server_now_ms(ts->srv);
    save(ts, m);
    memcpy(uuid_out, m->info.uuid, 37);
    poll(m);
    return 0;
}

int trigger_delete(trigger_service *ts, const char *uuid)
{
    for (size_t i = 0; i < ts->n_maps; i++) {
        mapping *m = ts->maps[i];
        if (strcmp(m->info.uuid, uuid) != 0)
            continue;
        store_batch_add(server_batch(ts->srv), sql_del, "t", uuid);
        ts->maps[i] = ts->maps[--ts->n_maps];
        /* A receive or a batch still running holds it until it ends (the batch's messages
         * then come back after their visibility timeout). */
        m->is_deleted = true;
        m->info.state = "Deleting";
        release(m);
        return 0;
    }
    return BT_ENOTFOUND;
}

const trigger_info *trigger_get(trigger_service *ts, const char *uuid)
{
    mapping *m = find(ts, uuid);
    return m ? &m->info : NULL;
}

const trigger_info **trigger_list(trigger_service *ts, const char *function, const char *queue_arn,
                                  size_t *n)
{
    const trigger_info **out = bt_xmalloc((ts->n_maps + 1) * sizeof *out);
    char name[FN_NAME_MAX + 1], qualifier[130];
    const char *want = NULL;
    if (function && fn_parse_name(ts->fns, function, name, qualifier) == 0)
        want = name;
    *n = 0;
    for (size_t i = 0; i < ts->n_maps; i++) {
        const mapping *m = ts->maps[i];
        if (function && (want == NULL || strcmp(m->function, want) != 0))
            continue;
        if (queue_arn && strcmp(m->queue_arn, queue_arn) != 0)
            continue;
        out[(*n)++] = &m->info;
    }
    return out;
}

json_t *trigger_to_json(trigger_service *ts, const trigger_info *t)
{
    char arn[320];
    fn_arn(ts->fns, t->cfg.function, arn, sizeof arn);
    json_t *o =
        json_pack("{s:s, s:i, s:i, s:s, s:s, s:f, s:s, s:s, s:s}", "UUID", t->uuid, "BatchSize",
                  t->cfg.batch_size, "MaximumBatchingWindowInSeconds", t->cfg.batching_window_s,
                  "EventSourceArn", t->cfg.queue_arn, "FunctionArn", arn, "LastModified",
                  (double)t->last_modified_ms / 1000.0, "LastProcessingResult", t->last_result,
                  "State", t->state, "StateTransitionReason", "USER_INITIATED");
    json_object_set_new(o, "FunctionResponseTypes",
                        t->cfg.report_item_failures ? json_pack("[s]", "ReportBatchItemFailures")
                                                    : json_array());
    if (t->cfg.max_concurrency > 0)
        json_object_set_new(o, "ScalingConfig",
                            json_pack("{s:i}", "MaximumConcurrency", t->cfg.max_concurrency));
    return o;
}
