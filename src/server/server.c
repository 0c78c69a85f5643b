/*
 * server.c — the engine thread's loop (server.h). Work arrives from other threads through
 * server_post (a locked list and a uv_async); everything it writes lands in the batch of the
 * current loop iteration, which the prepare handle submits to the store just before the loop
 * sleeps; the store's writer wakes us (another uv_async) when batches are durable, and only
 * then do replies and other effects of those batches run. So a burst of requests shares one
 * fsync (group commit), and nothing leaves the process before the writes behind it are safe.
 */
#include "base/alloc.h"
#include "engine/local.h"
#include "server/server_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct posted {
    struct posted *next;
    void (*fn)(void *ctx);
    void *ctx;
} posted;

void server__tick(server *s)
{
    s->now_ms = local_now_ms();
}

int64_t server_tick(server *s)
{
    server__tick(s);
    return s->now_ms;
}

uv_loop_t *server_loop(server *s)
{
    return &s->loop;
}

store *server_store(server *s)
{
    return s->store;
}

store_batch *server_batch(server *s)
{
    if (s->batch == NULL)
        s->batch = store_batch_new();
    return s->batch;
}

void server_after_commit(server *s, void (*fn)(void *ctx, int rc), void *ctx)
{
    store_batch_on_done(server_batch(s), fn, ctx);
}

int64_t server_now_ms(server *s)
{
    return s->now_ms;
}

const char *server_region(const server *s)
{
    return s->cfg.region;
}

const char *server_account(const server *s)
{
    return s->cfg.account;
}

const char *server_endpoint(const server *s)
{
    return s->endpoint;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void server_log(server *s, server_log_level level, const char *event, const char *fmt, ...)
{
    if (level > s->cfg.log_level)
        return;
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %s %s ", ts, level_names[level], event);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}

json_t *server_health(server *s)
{
    store_stats st;
    store_get_stats(s->store, &st);
    return json_pack(
        "{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}}", "status", "ok",
        "endpoint", s->endpoint ? s->endpoint : "", "region", s->cfg.region, "store", "commits",
        (json_int_t)st.commits, "batches", (json_int_t)st.batches, "statements",
        (json_int_t)st.statements, "commit_us_avg",
        (json_int_t)(st.commits ? st.commit_us_total / st.commits : 0), "failures",
        (json_int_t)st.failures, "pending", (json_int_t)store_pending(s->store), "executions",
        "open", (json_int_t)s->n_open, "parked_in_memory", (json_int_t)s->n_lru, "loads",
        (json_int_t)s->n_loads, "evictions", (json_int_t)s->n_evictions);
}

/* ---- the loop ---- */

void server_post(server *s, void (*fn)(void *ctx), void *ctx)
{
    posted *p = bt_xmalloc(sizeof *p);
    p->fn = fn;
    p->ctx = ctx;
    p->next = NULL;
    uv_mutex_lock(&s->post_mu);
    if (s->post_tail)
        s->post_tail->next = p;
    else
        s->post_head = p;
    s->post_tail = p;
    uv_mutex_unlock(&s->post_mu);
    uv_async_send(&s->post_async);
}

static void on_posted(uv_async_t *a)
{
    server *s = a->data;
    uv_mutex_lock(&s->post_mu);
    posted *p = s->post_head;
    s->post_head = s->post_tail = NULL;
    uv_mutex_unlock(&s->post_mu);
    server__tick(s);
    while (p) {
        posted *next = p->next;
        p->fn(p->ctx);
        free(p);
        p = next;
    }
}

/* The store's writer finished batches: run their completions (replies, effects). */
static void on_committed(uv_async_t *a)
{
    server *s = a->data;
    server__tick(s);
    size_t n = store_poll(s->store);
    if (n > 0)
        server_log(s, SERVER_LOG_DEBUG, "commit", "batches=%zu pending=%zu", n,
                   store_pending(s->store));
}

static void store_wakeup(void *ctx)
{
    server *s = ctx;
    uv_async_send(&s->commit_async);
}

/* A batch could not be made durable (disk full, I/O error): what is in memory is now ahead
 * of the store, so the server stops; the replies of the batch said 503, and a restart
 * resumes from the last commit. */
static void batch_done(void *ctx, int rc)
{
    server *s = ctx;
    if (rc == 0 || s->failed)
        return;
    s->failed = true;
    server_log(s, SERVER_LOG_ERROR, "commit.failed",
               "error=\"%s\" action=stop note=\"nothing of the failed batch was kept\"",
               store_last_error(s->store));
    server_shutdown(s);
}

/* Just before the loop sleeps: whatever this iteration wrote goes to the writer. */
static void on_prepare(uv_prepare_t *p)
{
    server *s = p->data;
    server__tick(s);
    execs_flush(s);
    if (s->batch != NULL) {
        store_batch *b = s->batch;
        s->batch = NULL;
        store_batch_on_done(b, batch_done, s);
        store_submit(s->store, b);
    }
}

static void on_signal(uv_signal_t *sig, int signum)
{
    server *s = sig->data;
    server_log(s, SERVER_LOG_INFO, "signal", "signal=%d action=stop", signum);
    server_shutdown(s);
}

void server_on_stop(server *s, void (*fn)(void *ctx), void *ctx)
{
    if (s->n_stop_hooks < SERVER_MAX_STOP_HOOKS) {
        s->stop_hooks[s->n_stop_hooks].fn = fn;
        s->stop_hooks[s->n_stop_hooks].ctx = ctx;
        s->n_stop_hooks++;
    }
}

void server_shutdown(server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    uv_stop(&s->loop);
}

static int migration_cmp(const void *a, const void *b)
{
    int va = ((const store_migration *)a)->version, vb = ((const store_migration *)b)->version;
    return (va > vb) - (va < vb);
}

server *server_new(const server_config *cfg, const store_migration *extra, size_t n_extra,
                   bt_err *err)
{
    server *s = bt_xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->cfg.listen = s->own[0] = bt_xstrdup(cfg->listen ? cfg->listen : "127.0.0.1:8083");
    s->cfg.data_dir = s->own[1] = bt_xstrdup(cfg->data_dir ? cfg->data_dir : "./baton-data");
    s->cfg.region = s->own[2] = bt_xstrdup(cfg->region ? cfg->region : "us-east-1");
    s->cfg.account = s->own[3] = bt_xstrdup(cfg->account ? cfg->account : "123456789012");
    if (s->cfg.retention_days <= 0)
        s->cfg.retention_days = 90;
    server__tick(s);
    uv_loop_init(&s->loop);
    uv_mutex_init(&s->post_mu);
    uv_async_init(&s->loop, &s->post_async, on_posted);
    s->post_async.data = s;
    uv_async_init(&s->loop, &s->commit_async, on_committed);
    s->commit_async.data = s;
    uv_prepare_init(&s->loop, &s->prepare);
    s->prepare.data = s;
    uv_prepare_start(&s->prepare, on_prepare);
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    s->sigterm.data = s->sigint.data = s;

    size_t n_mig = server_n_migrations() + n_extra;
    store_migration *mig = bt_xcalloc(n_mig, sizeof *mig);
    server_migrations(mig);
    for (size_t i = 0; i < n_extra; i++)
        mig[server_n_migrations() + i] = extra[i];
    /* The server's and the services' migrations share one numbering: in version order. */
    qsort(mig, n_mig, sizeof *mig, migration_cmp);
    store_config sc = {
        .dir = s->cfg.data_dir,
        .migrations = mig,
        .n_migrations = n_mig,
        .sync_normal = cfg->sync_normal,
        .stop_after_failure = true,
        .full_check = true,
        .wakeup = store_wakeup,
        .wakeup_ctx = s,
    };
    s->store = store_open(&sc, err);
    free(mig);
    if (s->store == NULL) {
        server_free(s);
        return NULL;
    }
    if (machines_load(s, err) != 0 || versions_load(s, err) != 0 || execs_init(s, err) != 0 ||
        activities_init(s, err) != 0) {
        server_free(s);
        return NULL;
    }
    return s;
}

const server_config *server_get_config(const server *s)
{
    return &s->cfg;
}

void server_set_endpoint(server *s, const char *url)
{
    free(s->endpoint);
    s->endpoint = bt_xstrdup(url);
}

int server_run(server *s)
{
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < s->n_stop_hooks; i++)
        s->stop_hooks[i].fn(s->stop_hooks[i].ctx);
    /* Commit what is in flight and answer it. */
    on_prepare(&s->prepare);
    while (store_pending(s->store) > 0) {
        uv_run(&s->loop, UV_RUN_ONCE);
        store_poll(s->store);
    }
    uv_signal_stop(&s->sigterm);
    uv_signal_stop(&s->sigint);
    return s->failed ? 1 : 0;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void server_free(server *s)
{
    if (s == NULL)
        return;
    activities_fini(s);
    execs_fini(s);
    versions_fini(s);
    machines_fini(s);
    if (s->store) {
        if (s->batch) {
            store_submit(s->store, s->batch);
            s->batch = NULL;
        }
        store_close(s->store);
    }
    store_batch_free(s->batch);
    uv_walk(&s->loop, close_handle, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    uv_mutex_destroy(&s->post_mu);
    posted *p = s->post_head;
    while (p) {
        posted *next = p->next;
        free(p);
        p = next;
    }
    for (size_t i = 0; i < 4; i++)
        free(s->own[i]);
    free(s->endpoint);
    free(s);
}
