/*
 * invoke.c — invocations: admitted while the function has fewer than `concurrency`
 * running, else put in its waiting line (queue_max long; beyond it throttled), started on
 * the runtime of the function (worker.c, exec_rt.c, url_rt.c) and, once ended, put on the
 * ready list that an idle handle drains on the next loop turn — so done never runs inside
 * fn_invoke, and a cancelled invocation simply has no done to call.
 *
 *   fn_invoke → WAITING (line) → RUNNING (fn__start) → DONE (fn__finish) → ready → done()
 *
 * Event invocations (fn_invoke_event) are rows of fn_event: written in the current batch,
 * started once it is durable, deleted when they succeed or have failed three times (Lambda
 * retries an asynchronous invocation twice, after about 1 and 2 minutes), re-run after a
 * restart until then. The synchronous path touches no store and no clock syscall beyond
 * the vDSO.
 */
#include "fn/fn_int.h"

#include "base/alloc.h"
#include "base/rand.h"
#include "base/timefmt.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENT_ATTEMPTS     3
#define EVENT_RETRY_MS     60000
#define REAP_INTERVAL_MS   1000
#define LOG_FLUSH_INTERVAL 250

static const char sql_event_put[] =
    "INSERT OR REPLACE INTO fn_event (request_id, function, payload, attempts, "
    "next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_event_del[] = "DELETE FROM fn_event WHERE request_id = ?";
static const char sql_event_retry[] =
    "UPDATE fn_event SET attempts = ?, next_attempt_ms = ? WHERE request_id = ?";
static const char sql_event_load[] = "SELECT request_id, function, payload, attempts, "
                                     "next_attempt_ms FROM fn_event ORDER BY created_ms";

/* ---- handles ---- */

static uint64_t slot_take(fn_service *fs, fn_inv *inv)
{
    uint32_t i;
    if (fs->n_free > 0) {
        i = fs->free_slots[--fs->n_free];
    } else {
        i = (uint32_t)fs->n_slots++;
        fs->slots = bt_xrealloc(fs->slots, fs->n_slots * sizeof *fs->slots);
        fs->slot_gen = bt_xrealloc(fs->slot_gen, fs->n_slots * sizeof *fs->slot_gen);
        fs->free_slots = bt_xrealloc(fs->free_slots, fs->n_slots * sizeof *fs->free_slots);
        fs->slot_gen[i] = 0;
    }
    fs->slots[i] = inv;
    inv->slot = i;
    inv->gen = ++fs->slot_gen[i];
    return ((uint64_t)inv->gen << 32) | (uint64_t)(i + 1);
}

static void slot_give(fn_service *fs, fn_inv *inv)
{
    fs->slots[inv->slot] = NULL;
    fs->free_slots[fs->n_free++] = inv->slot;
}

void fn_cancel(fn_service *fs, uint64_t handle)
{
    uint64_t i = (handle & 0xffffffffu);
    if (i == 0 || i > fs->n_slots)
        return;
    fn_inv *inv = fs->slots[i - 1];
    if (inv && inv->gen == (uint32_t)(handle >> 32))
        inv->done = NULL;
}

/* ---- outcomes ---- */

void fn__set_result(fn_inv *inv, const char *payload, size_t len)
{
    free(inv->out);
    inv->out = bt_xmalloc(len + 1);
    memcpy(inv->out, payload, len);
    inv->out[len] = '\0';
    inv->out_len = len;
}

char *fn__error_type_of(const char *payload, size_t len)
{
    json_t *o = json_loadb(payload, len, 0, NULL);
    const char *t = json_string_value(json_object_get(o, "errorType"));
    char *r = t ? bt_xstrdup(t) : NULL;
    json_decref(o);
    return r;
}

void fn__set_error(fn_inv *inv, const char *error_type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s,s:s}", "errorType", error_type, "errorMessage", msg);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    free(inv->out);
    inv->out = text;
    inv->out_len = strlen(text);
    inv->function_error = true;
    free(inv->error_type);
    inv->error_type = bt_xstrdup(error_type);
}

static void set_api_error(fn_inv *inv, int status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_api_error(fn_inv *inv, int status, const char *error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    inv->api_status = status;
    inv->api_error = error;
    free(inv->api_message);
    inv->api_message = bt_xstrdup(msg);
}

/* Runtime.ExitError as RIE words it (notes §1.3). */
void fn__exit_error(fn_inv *inv, int64_t exit_status, int term_signal)
{
    if (term_signal == 9)
        fn__set_error(inv, "Runtime.ExitError",
                      "RequestId: %s Error: Runtime exited with error: signal: killed",
                      inv->request_id);
    else if (term_signal != 0)
        fn__set_error(inv, "Runtime.ExitError",
                      "RequestId: %s Error: Runtime exited with error: signal: %s", inv->request_id,
                      strsignal(term_signal));
    else if (exit_status != 0)
        fn__set_error(inv, "Runtime.ExitError",
                      "RequestId: %s Error: Runtime exited with error: exit status %" PRId64,
                      inv->request_id, exit_status);
    else
        fn__set_error(inv, "Runtime.ExitError",
                      "RequestId: %s Error: Runtime exited without providing a reason",
                      inv->request_id);
}

void fn__timed_out(fn_inv *inv)
{
    int t = inv->fn->info.cfg.timeout_s;
    fn__set_error(inv, "Sandbox.Timedout",
                  "RequestId: %s Error: Task timed out after %d.00 seconds", inv->request_id, t);
}

void fn__out_of_memory(fn_inv *inv)
{
    fn__set_error(inv, "Runtime.OutOfMemory",
                  "RequestId: %s Error: Runtime exited with error: signal: killed",
                  inv->request_id);
}

int64_t fn__rss_kb(int pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    long long size, rss;
    if (sscanf(buf, "%lld %lld", &size, &rss) != 2)
        return -1;
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the ready list ---- */

static void inv_free(fn_inv *inv)
{
    free(inv->payload);
    free(inv->client_context);
    free(inv->invoked_arn);
    free(inv->api_message);
    free(inv->out);
    free(inv->error_type);
    bt_buf_fini(&inv->tail);
    fn__func_release(inv->fn);
    free(inv);
}

static void deliver(fn_service *fs, fn_inv *inv)
{
    fn_done done = inv->done;
    slot_give(fs, inv);
    if (done) {
        fn_result r = {0};
        r.api_status = inv->api_status;
        r.api_error = inv->api_error;
        r.api_message = inv->api_message;
        r.throttle_reason = inv->throttle_reason;
        r.payload = inv->out ? inv->out : "null";
        r.payload_len = inv->out ? inv->out_len : 4;
        r.function_error = inv->function_error;
        r.error_type = inv->error_type;
        r.request_id = inv->request_id;
        r.executed_version = "$LATEST";
        if (inv->tail_log && inv->api_status == 0) {
            size_t keep = inv->tail.len > 4096 ? 4096 : inv->tail.len;
            r.log_tail = inv->tail.data ? inv->tail.data + (inv->tail.len - keep) : "";
        }
        r.duration_ms = (int64_t)(inv->duration_exact_ms + 0.5);
        done(inv->ctx, &r);
    }
    inv_free(inv);
}

static void on_ready(uv_idle_t *h)
{
    fn_service *fs = h->data;
    while (fs->ready_head) {
        fn_inv *inv = fs->ready_head;
        fs->ready_head = inv->next;
        if (fs->ready_head == NULL)
            fs->ready_tail = NULL;
        deliver(fs, inv);
    }
    uv_idle_stop(&fs->ready_idle);
}

static void make_ready(fn_service *fs, fn_inv *inv)
{
    inv->state = FN_INV_DONE;
    inv->prev = NULL;
    inv->next = NULL;
    if (fs->ready_tail)
        fs->ready_tail->next = inv;
    else
        fs->ready_head = inv;
    fs->ready_tail = inv;
    fs->n_done++;
    if (!fs->is_closing && !uv_is_active((uv_handle_t *)&fs->ready_idle))
        uv_idle_start(&fs->ready_idle, on_ready);
}

/* ---- running ---- */

static void log_frame(fn_inv *inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_frame(fn_inv *inv, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    fn__log_line(inv->fn->log, inv, line, (size_t)n);
}

static void start(fn_inv *inv)
{
    fn_service *fs = inv->fs;
    fn_func *fn = inv->fn;
    inv->state = FN_INV_RUNNING;
    fn->n_active++;
    inv->start_ms = server_tick(fs->srv);
    inv->start_ns = uv_hrtime();
    inv->deadline_ms = inv->start_ms + (int64_t)fn->info.cfg.timeout_s * 1000;
    log_frame(inv, "START RequestId: %s Version: $LATEST", inv->request_id);
    int rc;
    switch (fn->info.cfg.runtime) {
    case FN_RT_EXEC:
        rc = fn__exec_run(inv);
        break;
    case FN_RT_URL:
        rc = fn__url_run(inv);
        break;
    default:
        rc = fn__worker_run(inv);
        break;
    }
    if (rc < 0) {
        set_api_error(inv, 500, "ServiceException", "The function could not be started: %s",
                      uv_strerror(rc));
        fn__finish(inv);
    }
}

void fn__pump(fn_func *fn)
{
    while (fn->wait_head && !fn->is_deleted && fn->n_active < (size_t)fn->info.cfg.concurrency) {
        fn_inv *inv = fn->wait_head;
        fn->wait_head = inv->next;
        if (fn->wait_head)
            fn->wait_head->prev = NULL;
        else
            fn->wait_tail = NULL;
        fn->n_waiting--;
        start(inv);
    }
}

void fn__finish(fn_inv *inv)
{
    fn_func *fn = inv->fn;
    if (inv->state == FN_INV_RUNNING) {
        inv->duration_exact_ms = (double)(uv_hrtime() - inv->start_ns) / 1e6;
        fn->n_active--;
        if (inv->api_status == 0) {
            double d = inv->duration_exact_ms;
            int64_t billed = (int64_t)d + 1;
            log_frame(inv, "END RequestId: %s", inv->request_id);
            log_frame(inv,
                      "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %" PRId64
                      " ms\tMemory Size: %d MB\tMax Memory Used: %" PRId64 " MB",
                      inv->request_id, d, billed, fn->info.cfg.memory_mb,
                      inv->max_rss_kb > 0 ? (inv->max_rss_kb + 1023) / 1024 : 1);
        }
    }
    make_ready(inv->fs, inv);
    if (!inv->fs->is_closing)
        fn__pump(fn);
}

void fn__fail_waiting(fn_func *fn)
{
    while (fn->wait_head) {
        fn_inv *inv = fn->wait_head;
        fn->wait_head = inv->next;
        fn->n_waiting--;
        set_api_error(inv, 404, "ResourceNotFoundException", "Function not found: %s:$LATEST",
                      fn->info.arn);
        make_ready(inv->fs, inv);
    }
    fn->wait_tail = NULL;
}

/* request_id: the id the invocation carries (an Event's own, kept across its retries), or
 * NULL for a new one. It must be set before the invocation can start: a warm worker waiting
 * in /next is handed the event at once. */
static fn_inv *inv_new(fn_service *fs, const fn_invoke_req *req, const char *request_id,
                       fn_done done, void *ctx, uint64_t *handle)
{
    fn_inv *inv = bt_xcalloc(1, sizeof *inv);
    inv->fs = fs;
    inv->done = done;
    inv->ctx = ctx;
    *handle = slot_take(fs, inv);
    if (request_id) {
        snprintf(inv->request_id, sizeof inv->request_id, "%s", request_id);
    } else {
        uint8_t raw[16];
        bt_random_bytes(raw, sizeof raw);
        bt_uuid_format(raw, inv->request_id);
    }
    const char *p = req->payload ? req->payload : "{}";
    size_t len = req->payload ? req->payload_len : 2;
    inv->payload = bt_xmalloc(len + 1);
    memcpy(inv->payload, p, len);
    inv->payload[len] = '\0';
    inv->payload_len = len;
    inv->client_context = req->client_context ? bt_xstrdup(req->client_context) : NULL;
    inv->invoked_arn = req->invoked_arn ? bt_xstrdup(req->invoked_arn) : NULL;
    inv->tail_log = req->tail_log;
    bt_buf_init(&inv->tail);
    return inv;
}

static uint64_t invoke(fn_service *fs, const fn_invoke_req *req, const char *event_id, fn_done done,
                       void *ctx)
{
    uint64_t handle;
    bool is_event = event_id != NULL;
    fn_inv *inv = inv_new(fs, req, event_id, done, ctx, &handle);
    inv->is_event = is_event;
    fs->n_invoked++;
    fn_func *fn = req->name ? fn__find(fs, req->name) : NULL;
    if (fn == NULL) {
        char arn[300];
        fn_arn(fs, req->name ? req->name : "", arn, sizeof arn);
        inv->fn = bt_xcalloc(1, sizeof *inv->fn); /* a stand-in, freed with the invocation */
        inv->fn->refs = 1;
        set_api_error(inv, 404, "ResourceNotFoundException", "Function not found: %s:%s", arn,
                      req->qualifier && req->qualifier[0] ? req->qualifier : "$LATEST");
        make_ready(fs, inv);
        return handle;
    }
    fn->refs++;
    inv->fn = fn;
    if (!is_event && inv->payload_len > FN_SYNC_PAYLOAD_MAX) {
        set_api_error(inv, 413, "RequestTooLargeException",
                      "Request must be smaller than %d bytes for the Invoke operation",
                      FN_SYNC_PAYLOAD_MAX);
        make_ready(fs, inv);
    } else if (fs->is_closing) {
        set_api_error(inv, 500, "ServiceException", "The server is stopping");
        make_ready(fs, inv);
    } else if (fn->n_active < (size_t)fn->info.cfg.concurrency && fn->wait_head == NULL) {
        start(inv);
    } else if (is_event || fn->n_waiting < (size_t)fn->info.cfg.queue_max) {
        inv->state = FN_INV_WAITING;
        inv->prev = fn->wait_tail;
        if (fn->wait_tail)
            fn->wait_tail->next = inv;
        else
            fn->wait_head = inv;
        fn->wait_tail = inv;
        fn->n_waiting++;
    } else {
        fs->n_throttled++;
        set_api_error(inv, 429, "TooManyRequestsException", "Rate Exceeded.");
        inv->throttle_reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
        make_ready(fs, inv);
    }
    return handle;
}

uint64_t fn_invoke(fn_service *fs, const fn_invoke_req *req, fn_done done, void *ctx)
{
    return invoke(fs, req, NULL, done, ctx);
}

/* ---- timers ---- */

static void on_reap(uv_timer_t *t)
{
    fn_service *fs = t->data;
    fn__workers_reap(fs, server_tick(fs->srv));
}

static void on_log_flush(uv_timer_t *t)
{
    fn__logs_flush_all(t->data);
}

static void on_closed(uv_handle_t *h)
{
    fn_service *fs = h->data;
    fs->open_handles--;
    fn__maybe_free(fs);
}

static void on_event_timer(uv_timer_t *t);

void fn__invoke_init(fn_service *fs)
{
    uv_loop_t *loop = server_loop(fs->srv);
    uv_idle_init(loop, &fs->ready_idle);
    uv_timer_init(loop, &fs->reap_timer);
    uv_timer_init(loop, &fs->mem_timer);
    uv_timer_init(loop, &fs->log_timer);
    uv_timer_init(loop, &fs->event_timer);
    fs->ready_idle.data = fs->reap_timer.data = fs->mem_timer.data = fs->log_timer.data =
        fs->event_timer.data = fs;
    fs->open_handles += 5;
    uv_timer_start(&fs->reap_timer, on_reap, REAP_INTERVAL_MS, REAP_INTERVAL_MS);
    uv_timer_start(&fs->log_timer, on_log_flush, LOG_FLUSH_INTERVAL, LOG_FLUSH_INTERVAL);
    uv_unref((uv_handle_t *)&fs->reap_timer);
    uv_unref((uv_handle_t *)&fs->log_timer);
}

/* Fails what is waiting and running (Runtime.ExitError: the service stops), delivers every
 * outcome now, closes the handles. */
void fn__invoke_fini(fn_service *fs)
{
    for (size_t i = 0; i < fs->n_list; i++) {
        fn_func *fn = fs->list[i];
        while (fn->wait_head) {
            fn_inv *inv = fn->wait_head;
            fn->wait_head = inv->next;
            fn->n_waiting--;
            set_api_error(inv, 500, "ServiceException", "The server is stopping");
            make_ready(fs, inv);
        }
        fn->wait_tail = NULL;
    }
    for (size_t i = 0; i < fs->n_slots; i++) {
        fn_inv *inv = fs->slots[i];
        if (inv && inv->state == FN_INV_RUNNING) {
            if (inv->fn->info.cfg.runtime == FN_RT_EXEC)
                fn__exec_abandon(inv);
            else if (inv->fn->info.cfg.runtime == FN_RT_URL)
                fn__url_abandon(inv);
            fn__set_error(inv, "Runtime.ExitError",
                          "RequestId: %s Error: Runtime exited without providing a reason",
                          inv->request_id);
            fn__finish(inv);
        }
    }
    on_ready(&fs->ready_idle);
    uv_close((uv_handle_t *)&fs->ready_idle, on_closed);
    uv_close((uv_handle_t *)&fs->reap_timer, on_closed);
    uv_close((uv_handle_t *)&fs->mem_timer, on_closed);
    uv_close((uv_handle_t *)&fs->log_timer, on_closed);
    uv_close((uv_handle_t *)&fs->event_timer, on_closed);
}

/* ---- Event invocations ---- */

static void event_unlink(fn_service *fs, fn_event *ev)
{
    if (ev->prev)
        ev->prev->next = ev->next;
    else
        fs->events = ev->next;
    if (ev->next)
        ev->next->prev = ev->prev;
    fs->n_events--;
}

static void event_free(fn_event *ev)
{
    free(ev->function);
    free(ev->payload);
    free(ev);
}

static void arm_events(fn_service *fs)
{
    if (fs->is_closing)
        return;
    int64_t next = INT64_MAX;
    for (fn_event *ev = fs->events; ev; ev = ev->next)
        if (!ev->is_running && !ev->awaits_commit && ev->next_ms < next)
            next = ev->next_ms;
    if (next == INT64_MAX) {
        uv_timer_stop(&fs->event_timer);
        return;
    }
    int64_t now = server_tick(fs->srv);
    uv_timer_start(&fs->event_timer, on_event_timer, next > now ? (uint64_t)(next - now) : 0, 0);
}

static void event_done(void *ctx, const fn_result *r)
{
    fn_event *ev = ctx;
    fn_service *fs = ev->fs;
    ev->is_running = false;
    if (fs->is_closing)
        return; /* the row stays: it runs again after a restart */
    ev->attempts++;
    bool failed = r->api_status != 0 || r->function_error;
    bool gone = r->api_status == 404;
    if (failed)
        server_log(fs->srv, SERVER_LOG_WARN, "fn.event_failed",
                   "function=%s request_id=%s attempt=%d error=%s", ev->function, ev->request_id,
                   ev->attempts,
                   r->api_status ? r->api_error : (r->error_type ? r->error_type : "unknown"));
    if (!failed || gone || ev->attempts >= EVENT_ATTEMPTS) {
        store_batch_add(server_batch(fs->srv), sql_event_del, "t", ev->request_id);
        event_unlink(fs, ev);
        event_free(ev);
    } else {
        ev->next_ms = server_tick(fs->srv) + (int64_t)ev->attempts * EVENT_RETRY_MS;
        store_batch_add(server_batch(fs->srv), sql_event_retry, "iit", (int64_t)ev->attempts,
                        ev->next_ms, ev->request_id);
    }
    arm_events(fs);
}

static void event_start(fn_service *fs, fn_event *ev)
{
    fn_invoke_req req = {
        .name = ev->function, .payload = ev->payload, .payload_len = strlen(ev->payload)};
    ev->is_running = true;
    /* The invocation carries the event's request id, as Lambda's retries do. */
    invoke(fs, &req, ev->request_id, event_done, ev);
}

static void on_event_timer(uv_timer_t *t)
{
    fn_service *fs = t->data;
    int64_t now = server_tick(fs->srv);
    for (fn_event *ev = fs->events, *next; ev; ev = next) {
        next = ev->next;
        if (!ev->is_running && !ev->awaits_commit && ev->next_ms <= now)
            event_start(fs, ev);
    }
    arm_events(fs);
}

static void event_committed(void *ctx, int rc)
{
    fn_event *ev = ctx;
    fn_service *fs = ev->fs;
    fs->pending_commits--;
    ev->awaits_commit = false;
    if (fs->is_closing) {
        event_free(ev);
        fn__maybe_free(fs);
        return;
    }
    if (rc != 0) {
        event_unlink(fs, ev);
        event_free(ev);
        return;
    }
    event_start(fs, ev);
}

static fn_event *event_add(fn_service *fs, const char *id, const char *function,
                           const char *payload, size_t len)
{
    fn_event *ev = bt_xcalloc(1, sizeof *ev);
    ev->fs = fs;
    snprintf(ev->request_id, sizeof ev->request_id, "%s", id);
    ev->function = bt_xstrdup(function);
    ev->payload = bt_xstrndup(payload, len);
    ev->next = fs->events;
    if (fs->events)
        fs->events->prev = ev;
    fs->events = ev;
    fs->n_events++;
    return ev;
}

int fn_invoke_event(fn_service *fs, const fn_invoke_req *req, char request_id[40], fn_result *r)
{
    memset(r, 0, sizeof *r);
    fn_func *fn = req->name ? fn__find(fs, req->name) : NULL;
    static char message[400];
    if (fn == NULL) {
        char arn[300];
        fn_arn(fs, req->name ? req->name : "", arn, sizeof arn);
        snprintf(message, sizeof message, "Function not found: %s:%s", arn,
                 req->qualifier && req->qualifier[0] ? req->qualifier : "$LATEST");
        r->api_status = 404;
        r->api_error = "ResourceNotFoundException";
        r->api_message = message;
        return BT_ENOTFOUND;
    }
    const char *p = req->payload ? req->payload : "{}";
    size_t len = req->payload ? req->payload_len : 2;
    if (len > FN_EVENT_PAYLOAD_MAX) {
        snprintf(message, sizeof message,
                 "Request must be smaller than %d bytes for the InvokeAsync operation",
                 FN_EVENT_PAYLOAD_MAX);
        r->api_status = 413;
        r->api_error = "RequestTooLargeException";
        r->api_message = message;
        return BT_ELIMIT;
    }
    uint8_t raw[16];
    char id[37];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, id);
    fn_event *ev = event_add(fs, id, req->name, p, len);
    ev->next_ms = server_now_ms(fs->srv);
    ev->awaits_commit = true;
    store_batch_add(server_batch(fs->srv), sql_event_put, "ttbiii", id, req->name, p, len,
                    (int64_t)0, ev->next_ms, ev->next_ms);
    fs->pending_commits++;
    server_after_commit(fs->srv, event_committed, ev);
    snprintf(request_id, 40, "%s", id);
    r->request_id = NULL;
    return 0;
}

void fn__events_load(fn_service *fs)
{
    store *s = server_store(fs->srv);
    sqlite3_stmt *st = store_read_stmt(s, sql_event_load);
    if (st == NULL)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *function = (const char *)sqlite3_column_text(st, 1);
        const void *payload = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        if (id == NULL || function == NULL)
            continue;
        fn_event *ev = event_add(fs, id, function, payload ? payload : "", len);
        ev->attempts = (int)sqlite3_column_int64(st, 3);
        ev->next_ms = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    arm_events(fs);
}

void fn__events_free(fn_service *fs)
{
    for (fn_event *ev = fs->events, *next; ev; ev = next) {
        next = ev->next;
        if (!ev->awaits_commit)
            event_free(ev);
    }
    fs->events = NULL;
    fs->n_events = 0;
}
