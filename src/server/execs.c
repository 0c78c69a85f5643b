/*
 * execs.c — durable executions. The engine is deterministic: given the same definition,
 * input, seed and sequence of calls (task outcomes and the times it was advanced at) it
 * makes the same transitions, events and tokens. So the store keeps, for an open execution,
 * what it was started with (its row) and those calls in order (exec_log); loading an
 * execution that is not in memory — after a restart, or once it was parked and dropped —
 * replays them. The history table holds the events for readers; it is never replayed.
 *
 * The commit rule per execution: every call is recorded as it is made; at the end of a
 * loop iteration (execs_flush) the records, new events and the row's new state go into the
 * batch. An execution that started and ended within one iteration writes its row once and no
 * log at all; one that ends drops its log — unless it ended FAILED, TIMED_OUT or ABORTED:
 * then the log is written and kept for 14 days, while RedriveExecution may replay it and
 * append a redrive ({"r":t}, redrive.c) and what follows.
 *
 * Tokens are minted from a per-execution secret: base64url(exec id, task id, HMAC-SHA-256
 * of both under the execution's key, first 16 bytes) — 43 characters, 128 bits that cannot
 * be guessed, and they say which execution to load without a table of tokens.
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/rand.h"
#include "base/timefmt.h"
#include "server/execs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETENTION_EVERY_MS (3600 * 1000)

static void on_retention(uv_timer_t *t);
static uint64_t sweep_every_ms(const server *s);

static const char SQL_INSERT_EXEC[] =
    "INSERT INTO executions (id, arn, sm_id, revision, name, status, start_ms, stop_ms, input,"
    " output, error, cause, seed, token_key, next_timer_ms, n_events, log_kept)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_UPDATE_OPEN[] =
    "UPDATE executions SET next_timer_ms = ?, n_events = ? WHERE id = ?";
static const char SQL_UPDATE_CLOSED[] =
    "UPDATE executions SET status = ?, stop_ms = ?, output = ?, error = ?, cause = ?,"
    " next_timer_ms = NULL, n_events = ?, log_kept = ? WHERE id = ?";
static const char SQL_UPDATE_REDRIVEN[] =
    "UPDATE executions SET status = 'RUNNING', stop_ms = 0, output = NULL, error = NULL,"
    " cause = NULL, redrive_count = ?, redrive_ms = ?, log_kept = 0 WHERE id = ?";
static const char SQL_INSERT_LOG[] = "INSERT INTO exec_log (exec_id, seq, rec) VALUES (?,?,?)";
static const char SQL_DELETE_LOG[] = "DELETE FROM exec_log WHERE exec_id = ?";
static const char SQL_INSERT_EVENTS[] =
    "INSERT INTO history (exec_id, first_id, last_id, events) VALUES (?,?,?,?)";
/* Events per history row at most, so that reading a page parses little beyond it. */
#define CHUNK_EVENTS 100
static const char SQL_LOAD_OPEN[] =
    "SELECT e.id, e.arn, e.sm_id, e.revision, e.next_timer_ms, e.token_key FROM executions e"
    " WHERE e.status = 'RUNNING'";
static const char SQL_MAX_EXEC[] = "SELECT COALESCE(MAX(id), 0) FROM executions";
static const char SQL_EXEC_ROW[] =
    "SELECT e.id, e.arn, e.sm_id, e.revision, e.name, e.status, e.start_ms, e.stop_ms,"
    " e.input, e.output, e.error, e.cause, e.seed, e.token_key, e.n_events,"
    " (SELECT r.role_arn FROM revisions r WHERE r.id = e.revision),"
    " (SELECT m.arn FROM state_machines m WHERE m.id = e.sm_id)"
    " FROM executions e WHERE e.arn = ?";
static const char SQL_LOAD_LOG[] = "SELECT rec FROM exec_log WHERE exec_id = ? ORDER BY seq";

/* ---- the timer heap (earliest next_timer first) ---- */

static void heap_swap(server *s, size_t a, size_t b)
{
    xrec *t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
    s->heap[a]->heap_pos = a;
    s->heap[b]->heap_pos = b;
}

static void heap_up(server *s, size_t i)
{
    while (i > 0 && s->heap[(i - 1) / 2]->next_timer > s->heap[i]->next_timer) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(server *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n_heap && s->heap[l]->next_timer < s->heap[m]->next_timer)
            m = l;
        if (r < s->n_heap && s->heap[r]->next_timer < s->heap[m]->next_timer)
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_remove(server *s, xrec *x)
{
    if (x->heap_pos == SIZE_MAX)
        return;
    size_t i = x->heap_pos;
    s->n_heap--;
    if (i != s->n_heap) {
        s->heap[i] = s->heap[s->n_heap];
        s->heap[i]->heap_pos = i;
        heap_up(s, i);
        heap_down(s, s->heap[i]->heap_pos);
    }
    x->heap_pos = SIZE_MAX;
}

static void heap_set(server *s, xrec *x, int64_t when)
{
    heap_remove(s, x);
    x->next_timer = when;
    if (when == INT64_MAX)
        return;
    if (s->n_heap == s->cap_heap) {
        s->cap_heap = s->cap_heap ? s->cap_heap * 2 : 64;
        s->heap = bt_xrealloc(s->heap, s->cap_heap * sizeof(xrec *));
    }
    x->heap_pos = s->n_heap;
    s->heap[s->n_heap++] = x;
    heap_up(s, x->heap_pos);
}

static void on_timer(uv_timer_t *t);

/* Arms the loop's one timer for the earliest execution timer. */
static void rearm(server *s)
{
    int64_t due = s->n_heap ? s->heap[0]->next_timer : INT64_MAX;
    if (due == s->timer_due)
        return;
    s->timer_due = due;
    if (due == INT64_MAX) {
        uv_timer_stop(&s->timer);
        return;
    }
    int64_t wait = due - s->now_ms;
    uv_timer_start(&s->timer, on_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* ---- records ---- */

/* ---- which parked executions stay in memory ---- */

static void lru_remove(server *s, xrec *x)
{
    if (!x->in_lru)
        return;
    if (x->lru_prev)
        x->lru_prev->lru_next = x->lru_next;
    else
        s->lru_head = x->lru_next;
    if (x->lru_next)
        x->lru_next->lru_prev = x->lru_prev;
    else
        s->lru_tail = x->lru_prev;
    x->lru_prev = x->lru_next = NULL;
    x->in_lru = false;
    s->n_lru--;
}

/* Drops the execution's state from memory: the store has all of it (no commit pending), and
 * the next callback or timer replays it. What stays is its record: id, ARN, key, timer. */
static void evict(server *s, xrec *x)
{
    lru_remove(s, x);
    exec_free(x->e);
    x->e = NULL;
    free(x->input_text);
    x->input_text = NULL;
    free(x->log); /* empty: everything is durable */
    x->log = NULL;
    x->cap_log = 0;
    free(x->pend);
    x->pend = NULL;
    x->cap_pend = 0;
    s->n_evictions++;
}

static void lru_push(server *s, xrec *x)
{
    x->lru_prev = s->lru_tail;
    x->lru_next = NULL;
    if (s->lru_tail)
        s->lru_tail->lru_next = x;
    else
        s->lru_head = x;
    s->lru_tail = x;
    x->in_lru = true;
    s->n_lru++;
    while (s->n_lru > s->max_resident)
        evict(s, s->lru_head);
}

/* A batch with x's writes is durable: once none is pending and x is parked, it may go. */
static void x_committed(void *ctx, int rc)
{
    xrec *x = ctx;
    (void)rc; /* a failed commit stops the server (api.c answers 503); nothing to keep */
    x->pending_commits--;
    if (x->pending_commits == 0 && !x->dirty && x->e && x->n_pend == 0 &&
        exec_get_status(x->e) == EXEC_RUNNING && x->sync_done == NULL)
        lru_push(x->srv, x);
}

static void mark_dirty(server *s, xrec *x)
{
    lru_remove(s, x);
    if (x->dirty)
        return;
    x->dirty = true;
    if (s->n_dirty == s->cap_dirty) {
        s->cap_dirty = s->cap_dirty ? s->cap_dirty * 2 : 64;
        s->dirty = bt_xrealloc(s->dirty, s->cap_dirty * sizeof(xrec *));
    }
    s->dirty[s->n_dirty++] = x;
}

void execs__record(server *s, xrec *x, json_t *rec)
{
    char *text = bt_json_dumps(rec);
    json_decref(rec);
    if (x->n_log == x->cap_log) {
        x->cap_log = x->cap_log ? x->cap_log * 2 : 8;
        x->log = bt_xrealloc(x->log, x->cap_log * sizeof(char *));
    }
    x->log[x->n_log++] = text;
    x->log_seq++;
    mark_dirty(s, x);
}

/* ---- tokens ---- */

void execs__token_mac(const xrec *x, uint64_t task_id, uint8_t out[32])
{
    uint8_t msg[16];
    for (int i = 0; i < 8; i++) {
        msg[i] = (uint8_t)((uint64_t)x->id >> (8 * i));
        msg[8 + i] = (uint8_t)(task_id >> (8 * i));
    }
    bt_hmac_sha256(x->token_key, sizeof x->token_key, msg, sizeof msg, out);
}

void execs__mint_token(void *ctx, uint64_t task_id, char out[EXEC_TOKEN_MAX])
{
    xrec *x = ctx;
    uint8_t raw[TOKEN_BYTES], mac[32];
    for (int i = 0; i < 8; i++) {
        raw[i] = (uint8_t)((uint64_t)x->id >> (8 * i));
        raw[8 + i] = (uint8_t)(task_id >> (8 * i));
    }
    execs__token_mac(x, task_id, mac);
    memcpy(raw + 16, mac, 16);
    bt_base64url_encode(raw, sizeof raw, out);
}

/* Splits a token into its execution and task; false when it is not one of ours. */
bool execs__token_parse(const char *token, int64_t *exec_id, uint64_t *task_id, uint8_t mac[16])
{
    uint8_t raw[TOKEN_BYTES];
    size_t len = strlen(token);
    if (len != bt_base64url_len(TOKEN_BYTES) ||
        bt_base64url_decode(token, len, raw, sizeof raw) != TOKEN_BYTES)
        return false;
    uint64_t e = 0, t = 0;
    for (int i = 0; i < 8; i++) {
        e |= (uint64_t)raw[i] << (8 * i);
        t |= (uint64_t)raw[8 + i] << (8 * i);
    }
    if (e == 0 || e > INT64_MAX || t == 0)
        return false;
    *exec_id = (int64_t)e;
    *task_id = t;
    memcpy(mac, raw + 16, 16);
    return true;
}

/* ---- the driver: effects of engine calls ---- */

static void sink_push(xrec *x, pend_kind k, uint64_t id, json_t *v, const char *err,
                      const char *cause)
{
    if (x->n_pend == x->cap_pend) {
        x->cap_pend = x->cap_pend ? x->cap_pend * 2 : 4;
        x->pend = bt_xrealloc(x->pend, x->cap_pend * sizeof *x->pend);
    }
    struct pending_outcome *p = &x->pend[x->n_pend++];
    p->kind = k;
    p->task_id = id;
    p->value = v ? json_deep_copy(v) : NULL;
    p->error = err ? bt_xstrdup(err) : NULL;
    p->cause = cause ? bt_xstrdup(cause) : NULL;
}

static void sink_submitted(void *ud, uint64_t id, json_t *response)
{
    sink_push(ud, PEND_SUBMITTED, id, response, NULL, NULL);
}
static void sink_succeeded(void *ud, uint64_t id, json_t *output)
{
    sink_push(ud, PEND_SUCCEEDED, id, output, NULL, NULL);
}
static void sink_failed(void *ud, uint64_t id, const char *error, const char *cause)
{
    sink_push(ud, PEND_FAILED, id, NULL, error, cause);
}
static void sink_heartbeat(void *ud, uint64_t id)
{
    sink_push(ud, PEND_HEARTBEAT, id, NULL, NULL, NULL);
}

static integ *binding(server *s, const exec_task *t)
{
    for (size_t i = 0; i < s->n_integs; i++)
        if (s->integs[i].ops->handles(s->integs[i].self, t->state_name, t->resource))
            return &s->integs[i];
    return NULL;
}

/* The events rendered since the last flush become one history row. */
static void flush_chunk(server *s, xrec *x)
{
    if (x->chunk_n == 0)
        return;
    bt_buf_putc(&x->chunk, ']');
    store_batch_add(server_batch(s), SQL_INSERT_EVENTS, "iiit", x->id, (int64_t)x->chunk_first,
                    (int64_t)(x->chunk_first + x->chunk_n - 1), x->chunk.data);
    bt_buf_fini(&x->chunk); /* a parked execution keeps no buffer */
    bt_buf_init(&x->chunk);
    x->chunk_n = 0;
}

/* Writes the new events and starts/cancels tasks. Replaying (live false) only drains. */
static void take_effects(server *s, xrec *x, bool live)
{
    exec_effects fx;
    exec_take_effects(x->e, &fx);
    if (!live)
        return;
    for (size_t i = 0; i < fx.n_events; i++) {
        json_t *ev = history_event_to_json(&fx.events[i], 1);
        if (x->chunk_n == 0) {
            x->chunk_first = fx.events[i].id;
            bt_buf_putc(&x->chunk, '[');
        } else {
            bt_buf_putc(&x->chunk, ',');
        }
        if (ev == NULL || bt_json_write(&x->chunk, ev) != 0)
            bt_buf_puts(&x->chunk, "{}");
        json_decref(ev);
        if (++x->chunk_n == CHUNK_EVENTS)
            flush_chunk(s, x);
    }
    x->events_flushed += fx.n_events;
    if (fx.n_events)
        mark_dirty(s, x);
    integ_sink sink = {x, sink_submitted, sink_succeeded, sink_failed, sink_heartbeat};
    for (size_t i = 0; i < fx.n_items; i++) {
        const exec_effect *it = &fx.items[i];
        if (it->kind == EXEC_EFFECT_TASK_START) {
            const exec_task *t = exec_get_task(x->e, it->id);
            if (t == NULL)
                continue;
            integ *in = binding(s, t);
            if (in == NULL) {
                char *cause = bt_xasprintf("Baton does not serve the resource '%s'", t->resource);
                sink_failed(x, t->id, "States.TaskFailed", cause);
                free(cause);
            } else if (in->ops->start(in->self, t, &sink) != 0) {
                sink_failed(x, t->id, "States.TaskFailed", "the integration could not start");
            }
        } else if (it->kind == EXEC_EFFECT_TASK_CANCEL) {
            for (size_t k = 0; k < s->n_integs; k++)
                if (s->integs[k].ops->cancel)
                    s->integs[k].ops->cancel(s->integs[k].self, x->arn, it->id);
        }
    }
}

static json_t *rec_time(const char *key, int64_t v, int64_t now)
{
    return json_pack("{s:I, s:I}", key, (json_int_t)v, "t", (json_int_t)now);
}

int execs__apply(server *s, xrec *x, struct pending_outcome *p, int64_t now)
{
    int rc = 0;
    json_t *rec = NULL;
    switch (p->kind) {
    case PEND_SUBMITTED:
        rc = exec_task_submitted(x->e, p->task_id, p->value, now);
        rec = rec_time("s", (int64_t)p->task_id, now);
        json_object_set(rec, "v", p->value ? p->value : json_null());
        break;
    case PEND_SUCCEEDED:
        rc = exec_task_succeed(x->e, p->task_id, p->value, now);
        rec = rec_time("o", (int64_t)p->task_id, now);
        json_object_set(rec, "v", p->value ? p->value : json_null());
        break;
    case PEND_FAILED:
        rc = exec_task_fail(x->e, p->task_id, p->error, p->cause, now);
        rec = rec_time("f", (int64_t)p->task_id, now);
        json_object_set_new(rec, "e", p->error ? json_string(p->error) : json_null());
        json_object_set_new(rec, "c", p->cause ? json_string(p->cause) : json_null());
        break;
    case PEND_HEARTBEAT:
        rc = exec_task_heartbeat(x->e, p->task_id, now);
        rec = rec_time("h", (int64_t)p->task_id, now);
        break;
    case PEND_STARTED:
        rc = exec_task_started(x->e, p->task_id, json_string_value(p->value), now);
        rec = rec_time("w", (int64_t)p->task_id, now);
        json_object_set(rec, "v", p->value ? p->value : json_null());
        break;
    }
    if (rc == 0)
        execs__record(s, x, rec);
    else
        json_decref(rec);
    if (rc == 0 && (p->kind == PEND_SUCCEEDED || p->kind == PEND_FAILED))
        activities__task_closed(s, x->id, p->task_id);
    return rc;
}

static void pend_clear(struct pending_outcome *p)
{
    json_decref(p->value);
    free((void *)(uintptr_t)p->error);
    free((void *)(uintptr_t)p->cause);
}

/* One execution runs at most this long in one go (then the loop serves everything else and
 * it goes on a millisecond later), checked every DRIVE_STEPS phases: a machine that loops
 * without waiting, or whose every state spends its JSONata second, cannot hold the engine
 * thread, which every execution and API answer shares. */
#define DRIVE_BUDGET_NS (20u * 1000 * 1000)
#define DRIVE_STEPS     4

/* Records that x advanced at now by at most steps phases (0: until it waited), as the
 * replay repeats it: the same phases, so a turn cut short replays cut short. */
static void record_advance(server *s, xrec *x, int64_t now, uint32_t steps)
{
    execs__record(s, x,
                  steps ? json_pack("{s:I, s:I}", "a", (json_int_t)now, "n", (json_int_t)steps)
                        : json_pack("{s:I}", "a", (json_int_t)now));
}

/* Runs x until it waits (or its turn is up), applying what integrations report meanwhile. */
void execs__drive(server *s, xrec *x)
{
    int64_t now = s->now_ms;
    uint64_t t0 = uv_hrtime();
    bool more = false;
    uint32_t steps = 0; /* advanced by, not yet recorded */
    for (;;) {
        if (exec_get_status(x->e) == EXEC_RUNNING) {
            more = exec_advance(x->e, now, DRIVE_STEPS);
            steps += DRIVE_STEPS;
        } else {
            more = false;
        }
        take_effects(s, x, true);
        if (x->n_pend == 0) {
            if (more && uv_hrtime() - t0 < DRIVE_BUDGET_NS)
                continue;
            break;
        }
        if (steps) {
            record_advance(s, x, now, steps);
            steps = 0;
        }
        /* Outcomes reported inside start(): apply them in order, each then drained. */
        size_t n = x->n_pend;
        struct pending_outcome *batch = x->pend;
        x->pend = NULL;
        x->n_pend = x->cap_pend = 0;
        for (size_t i = 0; i < n; i++) {
            if (exec_get_status(x->e) == EXEC_RUNNING)
                execs__apply(s, x, &batch[i], now);
            take_effects(s, x, true);
            pend_clear(&batch[i]);
        }
        free(batch);
    }
    if (steps)
        record_advance(s, x, now, steps);
    bool running = exec_get_status(x->e) == EXEC_RUNNING;
    /* Ready work left when the turn ended: due again a millisecond after the clock as it is
     * now, so that the loop's timer is armed for a moment it has not reached yet and the
     * loop polls (requests, commits) before this execution's next turn. */
    int64_t again = INT64_MAX;
    if (running && more) {
        server__tick(s);
        again = s->now_ms + 1;
    }
    heap_set(s, x, !running ? INT64_MAX : more ? again : exec_next_timer(x->e));
    mark_dirty(s, x);
}

/* ---- loading ---- */

xrec *execs__new(server *s, int64_t id, const char *arn)
{
    xrec *x = bt_xcalloc(1, sizeof *x);
    x->srv = s;
    x->id = id;
    x->arn = bt_xstrdup(arn);
    snprintf(x->idkey, sizeof x->idkey, "%lld", (long long)id);
    x->next_timer = INT64_MAX;
    x->row_next_timer = INT64_MAX;
    x->heap_pos = SIZE_MAX;
    bt_strmap_put(&s->open_by_arn, x->arn, x);
    bt_strmap_put(&s->open_by_id, x->idkey, x);
    s->n_open++;
    return x;
}

/* Frees x and all it holds (it is in no map, heap or list any more). */
static void xrec_destroy(xrec *x)
{
    exec_free(x->e);
    for (size_t i = 0; i < x->n_log; i++)
        free(x->log[i]);
    free(x->log);
    for (size_t i = 0; i < x->n_pend; i++)
        pend_clear(&x->pend[i]);
    free(x->pend);
    free(x->input_text);
    bt_buf_fini(&x->chunk);
    free(x->redrive_token);
    free(x->arn);
    free(x);
}

static void xrec_free(server *s, xrec *x)
{
    heap_remove(s, x);
    lru_remove(s, x);
    bt_strmap_del(&s->open_by_arn, x->arn);
    bt_strmap_del(&s->open_by_id, x->idkey);
    s->n_open--;
    xrec_destroy(x);
}

void execs__discard(server *s, xrec *x)
{
    xrec_free(s, x);
}

const char *execs__col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

static int replay_record(exec *e, json_t *rec)
{
    json_t *v;
    int64_t t = json_integer_value(json_object_get(rec, "t"));
    if ((v = json_object_get(rec, "a")) != NULL) {
        /* "n": the turn's phases (records before the turns had none: until it waited) */
        json_int_t n = json_integer_value(json_object_get(rec, "n"));
        exec_advance(e, json_integer_value(v), n > 0 && n <= UINT32_MAX ? (uint32_t)n : 0);
        return 0;
    }
    if ((v = json_object_get(rec, "s")) != NULL)
        return exec_task_submitted(e, (uint64_t)json_integer_value(v), json_object_get(rec, "v"),
                                   t);
    if ((v = json_object_get(rec, "o")) != NULL)
        return exec_task_succeed(e, (uint64_t)json_integer_value(v), json_object_get(rec, "v"), t);
    if ((v = json_object_get(rec, "f")) != NULL)
        return exec_task_fail(e, (uint64_t)json_integer_value(v),
                              json_string_value(json_object_get(rec, "e")),
                              json_string_value(json_object_get(rec, "c")), t);
    if ((v = json_object_get(rec, "h")) != NULL)
        return exec_task_heartbeat(e, (uint64_t)json_integer_value(v), t);
    if ((v = json_object_get(rec, "w")) != NULL)
        return exec_task_started(e, (uint64_t)json_integer_value(v),
                                 json_string_value(json_object_get(rec, "v")), t);
    if ((v = json_object_get(rec, "r")) != NULL)
        return exec_redrive(e, json_integer_value(v));
    if ((v = json_object_get(rec, "x")) != NULL) {
        exec_stop(e, json_string_value(json_object_get(rec, "e")),
                  json_string_value(json_object_get(rec, "c")), json_integer_value(v));
        return 0;
    }
    return -1;
}

/* Rebuilds x->e from its row and log. */
int execs__load(server *s, xrec *x)
{
    lru_remove(s, x); /* in use: the most recently used once it parks again */
    if (x->e)
        return 0;
    s->n_loads++;
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_EXEC_ROW);
    sqlite3_bind_text(st, 1, x->arn, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        server_log(s, SERVER_LOG_ERROR, "exec.load", "arn=%s error=\"no row\"", x->arn);
        return -1;
    }
    asl_machine *m = machines_revision(s, sqlite3_column_int64(st, 3));
    const char *input_text = execs__col_text(st, 8);
    json_t *input = json_loads(input_text, JSON_DECODE_ANY, NULL);
    const char *name = execs__col_text(st, 4);
    exec_config cfg = {
        .name = name,
        .arn = x->arn,
        .sm_arn = NULL,
        .role_arn = execs__col_text(st, 15),
        .region = s->cfg.region,
        .start_ms = sqlite3_column_int64(st, 6),
        .seed = (uint64_t)sqlite3_column_int64(st, 12),
        .mint_token = execs__mint_token,
        .mint_ctx = x,
        .forget_taken_events = true,
    };
    /* The machine's ARN and name as at the start: the ARN of the execution tells them. */
    bt_arn a;
    const char *why;
    char *sm_arn = NULL;
    if (bt_arn_parse(x->arn, &a, &why) == 0) {
        sm_arn =
            bt_xasprintf("arn:aws:states:%s:%s:stateMachine:%s", a.region, a.account, a.machine);
        cfg.sm_arn = sm_arn;
        cfg.sm_name = a.machine;
        cfg.express = a.kind == BT_ARN_EXPRESS_EXECUTION;
    }
    int64_t n_events = sqlite3_column_int64(st, 14);
    if (m == NULL || input == NULL) {
        sqlite3_reset(st);
        json_decref(input);
        free(sm_arn);
        server_log(s, SERVER_LOG_ERROR, "exec.load", "arn=%s error=\"definition or input\"",
                   x->arn);
        return -1;
    }
    x->e = exec_new(m, input, &cfg);
    json_decref(input);
    free(sm_arn);
    sqlite3_reset(st);
    take_effects(s, x, false);

    st = store_read_stmt(s->store, SQL_LOAD_LOG);
    sqlite3_bind_int64(st, 1, x->id);
    uint32_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *rec = json_loads(execs__col_text(st, 0), 0, NULL);
        if (rec == NULL || replay_record(x->e, rec) != 0)
            server_log(s, SERVER_LOG_ERROR, "exec.replay", "arn=%s record=%u error=\"rejected\"",
                       x->arn, n);
        json_decref(rec);
        take_effects(s, x, false);
        n++;
    }
    sqlite3_reset(st);
    x->log_seq = x->log_flushed = n;
    x->events_flushed = exec_n_events(x->e);
    x->inserted = true;
    if ((int64_t)exec_n_events(x->e) != n_events)
        server_log(s, SERVER_LOG_WARN, "exec.replay",
                   "arn=%s events=%llu stored=%lld error=\"replay diverged\"", x->arn,
                   (unsigned long long)exec_n_events(x->e), (long long)n_events);
    return 0;
}

int execs_init(server *s, bt_err *err)
{
    bt_strmap_init(&s->open_by_arn);
    bt_strmap_init(&s->open_by_id);
    s->max_resident = s->cfg.max_resident ? s->cfg.max_resident : 1024;
    s->max_open = s->cfg.max_open ? s->cfg.max_open : 1000000;
    uv_timer_init(&s->loop, &s->retention_timer);
    s->retention_timer.data = s;
    uv_timer_start(&s->retention_timer, on_retention,
                   sweep_every_ms(s) < 10000 ? sweep_every_ms(s) : 10000, sweep_every_ms(s));
    uv_timer_init(&s->loop, &s->timer);
    s->timer.data = s;
    s->timer_due = INT64_MAX;
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_MAX_EXEC);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        return bt_err_set(err, BT_EIO, "cannot read executions: %s",
                          sqlite3_errmsg(store_reader(s->store)));
    s->next_exec_id = sqlite3_column_int64(st, 0) + 1;
    sqlite3_reset(st);
    /* Open executions stay in the store; only their timers and keys come to memory. */
    st = store_read_stmt(s->store, SQL_LOAD_OPEN);
    while (sqlite3_step(st) == SQLITE_ROW) {
        xrec *x = execs__new(s, sqlite3_column_int64(st, 0), execs__col_text(st, 1));
        x->revision = sqlite3_column_int64(st, 3);
        x->inserted = true;
        if (sqlite3_column_int64(st, 4) > 0) { /* 0: no timer */
            x->row_next_timer = sqlite3_column_int64(st, 4);
            heap_set(s, x, x->row_next_timer);
        }
        if (sqlite3_column_bytes(st, 5) == TOKEN_KEY_BYTES)
            memcpy(x->token_key, sqlite3_column_blob(st, 5), TOKEN_KEY_BYTES);
    }
    sqlite3_reset(st);
    rearm(s);
    if (s->n_open)
        server_log(s, SERVER_LOG_INFO, "recover", "open_executions=%llu timers=%zu",
                   (unsigned long long)s->n_open, s->n_heap);
    return 0;
}

void execs_fini(server *s)
{
    size_t it = 0;
    const char *key;
    void *value;
    while (bt_strmap_next(&s->open_by_id, &it, &key, &value))
        xrec_destroy(value); /* the maps go as a whole below */
    bt_strmap_fini(&s->open_by_id);
    bt_strmap_fini(&s->open_by_arn);
    free(s->heap);
    free(s->dirty);
    s->heap = NULL;
    s->dirty = NULL;
    s->n_heap = s->n_dirty = 0;
    for (size_t i = 0; i < s->n_integs; i++)
        if (s->integs[i].ops->destroy)
            s->integs[i].ops->destroy(s->integs[i].self);
    s->n_integs = 0;
}

/* ---- retention: closed executions go after cfg.retention_days (AWS keeps 90) ---- */

/* The end time of the 1001st expired execution (oldest first), if there are that many: one
 * sweep takes those that ended before it, so a commit stays small. */
static const char SQL_EXPIRED[] =
    "SELECT COUNT(*), MAX(stop_ms) FROM (SELECT stop_ms FROM executions"
    " WHERE status != 'RUNNING' AND stop_ms < ? ORDER BY stop_ms LIMIT 1001)";
static const char SQL_DELETE_EXPIRED_HISTORY[] =
    "DELETE FROM history WHERE exec_id IN (SELECT id FROM executions WHERE status != 'RUNNING'"
    " AND stop_ms < ?1)";
static const char SQL_DELETE_EXPIRED[] =
    "DELETE FROM executions WHERE status != 'RUNNING' AND stop_ms < ?1";

/* The logs kept for a redrive go once the execution can no longer be redriven: 14 days after
 * it ended (API_RedriveExecution.html: "the redrivable period of 14 days ... starts from the
 * day a state machine completes its execution"). At most 1000 per sweep, like the rest. */
#define REDRIVE_PERIOD_MS     (14LL * 86400000)
#define REDRIVE_TOKEN_LIFE_MS (15LL * 60000)
static const char SQL_LOGS_EXPIRED[] =
    "SELECT COUNT(*) FROM (SELECT id FROM executions WHERE log_kept = 1 AND stop_ms < ?"
    " LIMIT 1001)";
static const char SQL_DELETE_EXPIRED_LOGS[] =
    "DELETE FROM exec_log WHERE exec_id IN (SELECT id FROM executions WHERE log_kept = 1"
    " AND stop_ms < ?1 ORDER BY stop_ms LIMIT 1000)";
static const char SQL_FORGET_EXPIRED_LOGS[] =
    "UPDATE executions SET log_kept = 0 WHERE id IN (SELECT id FROM executions"
    " WHERE log_kept = 1 AND stop_ms < ?1 ORDER BY stop_ms LIMIT 1000)";
static const char SQL_DELETE_OLD_TOKENS[] = "DELETE FROM redrive_tokens WHERE redrive_ms < ?";

/* True when more expired logs remain than one sweep takes. */
static bool sweep_redrive_logs(server *s)
{
    int64_t cutoff = s->now_ms - REDRIVE_PERIOD_MS;
    store_batch_add(server_batch(s), SQL_DELETE_OLD_TOKENS, "i", s->now_ms - REDRIVE_TOKEN_LIFE_MS);
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_LOGS_EXPIRED);
    sqlite3_bind_int64(st, 1, cutoff);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (n == 0)
        return false;
    store_batch_add(server_batch(s), SQL_DELETE_EXPIRED_LOGS, "i", cutoff);
    store_batch_add(server_batch(s), SQL_FORGET_EXPIRED_LOGS, "i", cutoff);
    server_log(s, SERVER_LOG_INFO, "retention", "redrive_logs_deleted=%lld",
               (long long)(n > 1000 ? 1000 : n));
    return n > 1000;
}

static int64_t retention_ms(const server *s)
{
    return (int64_t)(s->cfg.retention_days * 86400000.0);
}

/* Hourly, or twice per retention period when that is shorter. */
static uint64_t sweep_every_ms(const server *s)
{
    int64_t half = retention_ms(s) / 2;
    return (uint64_t)(half < RETENTION_EVERY_MS ? (half > 100 ? half : 100) : RETENTION_EVERY_MS);
}

/* At most 1000 executions per sweep, so one commit stays small; a sweep that found more
 * comes back a second later. */
static void on_retention(uv_timer_t *t)
{
    server *s = t->data;
    /* What this iteration did goes into the batch first: a redrive's update (status back to
     * RUNNING) must come before the delete, which then spares it. */
    execs_flush(s);
    bool more = sweep_redrive_logs(s);
    int64_t cutoff = s->now_ms - retention_ms(s);
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_EXPIRED);
    sqlite3_bind_int64(st, 1, cutoff);
    int64_t n = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        if (n > 1000)
            cutoff = sqlite3_column_int64(st, 1); /* the rest wait for the next sweep */
    }
    sqlite3_reset(st);
    if (n > 0) {
        /* From now on these are gone, though the delete is not yet durable: a redrive of one
         * must not be accepted (redrive.c), or its update would land after the delete. */
        if (cutoff > s->swept_before)
            s->swept_before = cutoff;
        /* their logs and redrive tokens go with them (schema v6's trigger) */
        store_batch_add(server_batch(s), SQL_DELETE_EXPIRED_HISTORY, "i", cutoff);
        store_batch_add(server_batch(s), SQL_DELETE_EXPIRED, "i", cutoff);
        server_log(s, SERVER_LOG_INFO, "retention", "deleted=%lld days=%g",
                   (long long)(n > 1000 ? 1000 : n), s->cfg.retention_days);
    }
    if (more || n > 1000)
        uv_timer_start(&s->retention_timer, on_retention, 1000, sweep_every_ms(s));
}

void server_add_integ(server *s, integ in)
{
    if (s->n_integs < SERVER_MAX_INTEGS)
        s->integs[s->n_integs++] = in;
}

/* ---- flushing: one iteration's work into the batch ---- */

typedef struct close_ctx {
    server *s;
    xrec *x;
} close_ctx;

static void forget_closed(void *ctx, int rc)
{
    close_ctx *c = ctx;
    if (c->x->sync_done) {
        if (rc == 0) {
            c->x->sync_done(c->x->sync_ctx, execs__sync_response(c->x), NULL);
        } else {
            sfn_err err;
            sfn_fail(&err, "ServiceUnavailable", "the execution's end could not be stored");
            c->x->sync_done(c->x->sync_ctx, NULL, &err);
        }
    }
    xrec_free(c->s, c->x);
    free(c);
}

/* An execution that ended FAILED, TIMED_OUT or ABORTED keeps its log while it may be
 * redriven, so that the redrive replays it (redrive.c); Express executions cannot be. */
static bool keeps_log(const xrec *x)
{
    return exec_redrivable(x->e) && strstr(x->arn, ":express:") == NULL;
}

static void flush_one(server *s, xrec *x)
{
    flush_chunk(s, x);
    store_batch *b = server_batch(s);
    bool closed = x->e && exec_get_status(x->e) != EXEC_RUNNING;
    bool keep_log = closed && keeps_log(x);
    int64_t n_events = x->e ? (int64_t)exec_n_events(x->e) : 0;
    if (x->redrive_pending) {
        store_batch_add(b, SQL_UPDATE_REDRIVEN, "iii", exec_redrive_count(x->e), x->redrive_ms,
                        x->id);
        x->redrive_pending = false;
    }
    if (!x->inserted) {
        /* A new execution: one row with wherever it stands now. */
        exec *e = x->e;
        char *output = closed && exec_output(e) ? bt_json_dumps(exec_output(e)) : NULL;
        bt_arn a;
        const char *why;
        char name[4 * BT_NAME_MAX_CHARS + 1] = "";
        if (bt_arn_parse(x->arn, &a, &why) == 0)
            snprintf(name, sizeof name, "%s", a.name);
        store_batch_add(b, SQL_INSERT_EXEC, "itiittiittttibiii", x->id, x->arn, x->sm_id,
                        x->revision, name, exec_status_name(exec_get_status(e)), x->start_ms,
                        closed ? exec_stop_ms(e) : (int64_t)0, x->input_text, output,
                        closed ? exec_error(e) : NULL, closed ? exec_cause(e) : NULL,
                        (int64_t)x->seed, x->token_key, (size_t)TOKEN_KEY_BYTES,
                        x->next_timer == INT64_MAX ? (int64_t)0 : x->next_timer, n_events,
                        (int64_t)keep_log);
        free(output);
        x->inserted = true;
        x->row_next_timer = x->next_timer;
        if (closed)
            x->closed_flushed = true;
    } else if (closed && !x->closed_flushed) {
        char *output = exec_output(x->e) ? bt_json_dumps(exec_output(x->e)) : NULL;
        store_batch_add(b, SQL_UPDATE_CLOSED, "titttiii", exec_status_name(exec_get_status(x->e)),
                        exec_stop_ms(x->e), output, exec_error(x->e), exec_cause(x->e), n_events,
                        (int64_t)keep_log, x->id);
        free(output);
        x->closed_flushed = true;
    } else if (!closed && x->e) {
        store_batch_add(b, SQL_UPDATE_OPEN, "iii",
                        x->next_timer == INT64_MAX ? (int64_t)0 : x->next_timer, n_events, x->id);
        x->row_next_timer = x->next_timer;
    }
    if (closed && !keep_log) {
        if (x->log_flushed > 0)
            store_batch_add(b, SQL_DELETE_LOG, "i", x->id);
    } else {
        for (size_t i = 0; i < x->n_log; i++)
            store_batch_add(b, SQL_INSERT_LOG, "iit", x->id, (int64_t)(x->log_flushed + i),
                            x->log[i]);
        x->log_flushed += (uint32_t)x->n_log;
    }
    for (size_t i = 0; i < x->n_log; i++)
        free(x->log[i]);
    x->n_log = 0;
    if (closed) {
        /* Kept until the row is durable, so that a second start with its name sees it. */
        close_ctx *c = bt_xmalloc(sizeof *c);
        c->s = s;
        c->x = x;
        heap_remove(s, x);
        store_batch_on_done(b, forget_closed, c);
    } else {
        x->pending_commits++;
        store_batch_on_done(b, x_committed, x);
    }
}

void execs_flush(server *s)
{
    if (s->n_dirty > 0)
        server_log(s, SERVER_LOG_DEBUG, "transitions", "executions=%zu open=%llu", s->n_dirty,
                   (unsigned long long)s->n_open);
    for (size_t i = 0; i < s->n_dirty; i++) {
        xrec *x = s->dirty[i];
        x->dirty = false;
        if (!x->closed_flushed)
            flush_one(s, x);
    }
    s->n_dirty = 0;
    rearm(s);
}

static void on_timer(uv_timer_t *t)
{
    server *s = t->data;
    s->timer_due = INT64_MAX;
    server__tick(s);
    /* what is due at this turn's start: an execution whose turn ended (due again at
     * now + 1) waits for the next turn, after the loop's other work */
    int64_t now = s->now_ms;
    while (s->n_heap && s->heap[0]->next_timer <= now) {
        xrec *x = s->heap[0];
        heap_remove(s, x);
        if (execs__load(s, x) != 0)
            continue;
        execs__drive(s, x);
    }
    rearm(s);
}

/* ---- reports that come later ---- */

static xrec *open_task_target(server *s, const char *arn, uint64_t task_id, int *rc)
{
    xrec *x = bt_strmap_get(&s->open_by_arn, arn);
    *rc = BT_ENOTFOUND;
    if (x == NULL)
        return NULL;
    if (execs__load(s, x) != 0) {
        *rc = BT_EIO;
        return NULL;
    }
    if (exec_get_status(x->e) != EXEC_RUNNING || exec_get_task(x->e, task_id) == NULL)
        return NULL;
    *rc = 0;
    return x;
}

int server_task_report(server *s, const char *execution_arn, uint64_t task_id,
                       const server_report *r)
{
    server__tick(s);
    int rc;
    xrec *x = open_task_target(s, execution_arn, task_id, &rc);
    if (x == NULL)
        return rc;
    static const pend_kind kinds[] = {
        [SERVER_REPORT_SUBMITTED] = PEND_SUBMITTED,
        [SERVER_REPORT_SUCCEEDED] = PEND_SUCCEEDED,
        [SERVER_REPORT_FAILED] = PEND_FAILED,
        [SERVER_REPORT_HEARTBEAT] = PEND_HEARTBEAT,
    };
    struct pending_outcome p = {.kind = kinds[r->kind],
                                .task_id = task_id,
                                .value = r->value,
                                .error = r->error,
                                .cause = r->cause};
    rc = execs__apply(s, x, &p, s->now_ms);
    execs__drive(s, x);
    return rc == 0 ? 0 : BT_ENOTFOUND;
}

bool server_task_is_open(server *s, const char *execution_arn, uint64_t task_id)
{
    int rc;
    return open_task_target(s, execution_arn, task_id, &rc) != NULL;
}
