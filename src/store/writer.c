/*
 * writer.c — the writer thread and the two lists between it and the engine thread.
 *
 * store_submit appends to `queue`; the writer takes the whole queue at once, writes it in
 * one transaction, appends it to `done` and calls the wakeup; store_poll takes `done` and
 * runs the completions. While one commit waits on fsync the next batches pile up in `queue`
 * and share the following commit (group commit): the slower the disk, the larger the groups,
 * so the rate of rows follows the rate of writes rather than of fsyncs. Both lists keep
 * submission order and the writer takes one group at a time, so completions run in
 * submission order, and a batch is done only once every batch before it is.
 */
#include "base/alloc.h"
#include "store/store_int.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int run(store *s, const char *sql, bt_err *err)
{
    sqlite3_stmt *st = store__stmt_get(&s->write_stmts, sql);
    int rc = st != NULL ? sqlite3_step(st) : sqlite3_errcode(s->db);
    int code = rc == SQLITE_DONE ? 0 : store__sqlite_err(s->db, rc, NULL, err);
    if (st != NULL)
        sqlite3_reset(st);
    return code;
}

/* SQLite rolls back by itself after some failures (SQLITE_FULL among them, depending on where
 * it struck), so only a transaction still open is rolled back here. */
static void roll_back(store *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        bt_err ignored;
        run(s, sql_rollback, &ignored);
    }
}

/* Writes the batches from group to last in one transaction; 0, or the failure with its
 * message in err and nothing of the group written. */
static int write_group(store *s, const store_batch *group, const store_batch *last, size_t n_stmts,
                       bt_err *err)
{
    if (n_stmts == 0)
        return 0; /* only completions: what came before is durable already */
    int rc = run(s, sql_begin, err);
    for (const store_batch *b = group; rc == 0; b = b->next) {
        rc = store__batch_write(b, &s->write_stmts, err);
        if (b == last)
            break;
    }
    if (rc == 0) {
        uint64_t start = now_us();
        rc = run(s, sql_commit, err);
        atomic_fetch_add(&s->commit_us_total, now_us() - start);
    }
    if (rc == 0) {
        atomic_fetch_add(&s->n_commits, 1);
        atomic_fetch_add(&s->n_statements, n_stmts);
    } else {
        roll_back(s);
        atomic_fetch_add(&s->n_failures, 1);
    }
    return rc;
}

/* Writes one group and records its outcome in each of its batches. */
static void finish_group(store *s, store_batch *group, store_batch *last)
{
    size_t n_batches = 0, n_stmts = 0;
    for (store_batch *b = group;; b = b->next) {
        n_batches++;
        n_stmts += b->n_stmts;
        if (b == last)
            break;
    }
    bt_err err;
    bt_err_clear(&err);
    int rc;
    if (s->stop_after_failure && s->first_failure) {
        rc = bt_err_set(&err, BT_EIO, "the store takes no writes after a failed commit (%s)",
                        s->first_failure);
    } else {
        rc = write_group(s, group, last, n_stmts, &err);
        if (rc != 0 && s->first_failure == NULL)
            s->first_failure = bt_xstrdup(err.msg);
    }
    for (store_batch *b = group;; b = b->next) {
        b->rc = rc;
        if (rc != 0)
            b->error = bt_xstrdup(err.msg);
        if (b == last)
            break;
    }
    if (rc == 0)
        atomic_fetch_add(&s->n_batches, n_batches);
}

static void *writer_main(void *arg)
{
    store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->queue == NULL && !s->is_stopping) {
            s->is_writer_idle = true;
            pthread_cond_wait(&s->cv, &s->mu);
        }
        s->is_writer_idle = false;
        if (s->queue == NULL)
            break;
        store_batch *group = s->queue, *last = s->queue_last;
        s->queue = s->queue_last = NULL;
        pthread_mutex_unlock(&s->mu);

        finish_group(s, group, last);

        pthread_mutex_lock(&s->mu);
        if (s->done_last != NULL)
            s->done_last->next = group;
        else
            s->done = group;
        s->done_last = last;
        pthread_mutex_unlock(&s->mu);
        if (s->wakeup != NULL)
            s->wakeup(s->wakeup_ctx);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int store__writer_start(store *s, bt_err *err)
{
    /* Signals (SIGTERM, SIGINT) are for the engine thread's loop: the writer blocks them all
     * and inherits that mask from here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->writer, NULL, writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return bt_err_set(err, BT_EIO, "cannot start the store's writer thread: %s", strerror(rc));
    return 0;
}

void store__writer_stop(store *s)
{
    pthread_mutex_lock(&s->mu);
    s->is_stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
}

void store_submit(store *s, store_batch *b)
{
    b->next = NULL;
    s->n_pending++;
    pthread_mutex_lock(&s->mu);
    if (s->queue_last != NULL)
        s->queue_last->next = b;
    else
        s->queue = b;
    s->queue_last = b;
    /* Only an idle writer needs the signal; clearing the flag spares the submits that follow
     * before it wakes a system call each. */
    bool is_idle = s->is_writer_idle;
    s->is_writer_idle = false;
    pthread_mutex_unlock(&s->mu);
    if (is_idle)
        pthread_cond_signal(&s->cv);
}

size_t store_poll(store *s)
{
    pthread_mutex_lock(&s->mu);
    store_batch *b = s->done;
    s->done = s->done_last = NULL;
    pthread_mutex_unlock(&s->mu);
    size_t n = 0;
    while (b != NULL) {
        store_batch *next = b->next;
        if (b->rc != 0)
            snprintf(s->last_error, sizeof(s->last_error), "%s", b->error);
        s->n_pending--;
        store__batch_complete(b, b->rc);
        store_batch_free(b);
        b = next;
        n++;
    }
    return n;
}

size_t store_pending(const store *s)
{
    return s->n_pending;
}

const char *store_last_error(const store *s)
{
    return s->last_error;
}

void store_get_stats(const store *s, store_stats *out)
{
    out->commits = atomic_load(&s->n_commits);
    out->batches = atomic_load(&s->n_batches);
    out->statements = atomic_load(&s->n_statements);
    out->commit_us_total = atomic_load(&s->commit_us_total);
    out->failures = atomic_load(&s->n_failures);
}
