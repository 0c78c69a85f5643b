/*
 * store.h — the durable store: one SQLite file (DIR/baton.db, WAL mode) written by one
 * writer thread in group commits, read by the engine thread through its own connection.
 *
 * The engine thread never waits on fsync. It collects the writes of one loop iteration in a
 * batch (store_batch_add: a statement and its values, copied), attaches what must happen
 * only once they are durable (store_batch_on_done: send a reply, make a message visible),
 * and submits the batch. The writer takes every batch submitted since its last commit and
 * commits them in one transaction (group commit), in submission order, then wakes the
 * engine thread (config.wakeup), which runs the completions in store_poll. A failed
 * transaction is rolled back whole: no batch of it is partly written.
 *
 * Statements are named by the address of their SQL text (a static const char array of the
 * module that writes); the writer prepares each once and caches it.
 *
 * The data folder is locked (DIR/baton.lock, flock) for the life of the store: a second
 * server on it is refused with BT_EEXIST and a message naming the folder and the holder's pid.
 * The schema is versioned (PRAGMA user_version): store_open applies the migrations the
 * caller lists that are newer than the file, in one transaction each, and refuses a file
 * written by a newer Baton (BT_ESTATE, "written by a newer Baton: schema N, this one knows M").
 */
#ifndef BT_STORE_STORE_H
#define BT_STORE_STORE_H

#include "base/err.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_batch store_batch;

/* One step of the schema: the SQL that takes the file from version-1 to version. */
typedef struct store_migration {
    int version;     /* 1, 2, … in order */
    const char *sql; /* one or more statements */
} store_migration;

typedef struct store_config {
    const char *dir;                   /* created (0700) if missing */
    const store_migration *migrations; /* in version order */
    size_t n_migrations;
    bool sync_normal; /* PRAGMA synchronous=NORMAL instead of FULL */
    /* After a failed transaction take no further writes: every later batch fails with the
     * first failure's message (for a caller whose memory is then ahead of the file). */
    bool stop_after_failure;
    /* At open, read every page once (PRAGMA quick_check) and refuse a damaged file. */
    bool full_check;
    int64_t max_bytes;         /* cap on the file (PRAGMA max_page_count); 0: none */
    void (*wakeup)(void *ctx); /* writer thread: completions are ready */
    void *wakeup_ctx;
} store_config;

/* Opens (creating) DIR/baton.db, takes the lock, migrates, starts the writer. NULL with err
 * set on failure: BT_EEXIST (locked by another process), BT_ESTATE (newer schema or not a
 * Baton store), BT_EIO (cannot create, corrupt file: SQLite's own message).
 * With max_bytes set, a commit that would grow the file beyond it fails as a full disk does
 * (BT_ELIMIT, "database or disk is full"); deleting rows makes room again. */
store *store_open(const store_config *cfg, bt_err *err);
/* Commits what was submitted, runs nothing further, stops the writer, releases the lock.
 * Completions not yet polled are run (with their result) before it returns. */
void store_close(store *s);
const char *store_path(const store *s); /* DIR/baton.db */

store_batch *store_batch_new(void);
void store_batch_free(store_batch *b);
bool store_batch_empty(const store_batch *b);
/* Values per character of fmt: 'i' int64_t, 't' const char * (NUL-terminated, NULL means
 * SQL NULL), 'b' const void *, size_t (blob; NULL means SQL NULL), 'n' (no argument: NULL).
 * Everything is copied. sql must stay valid for the life of the store (a static string). */
void store_batch_add(store_batch *b, const char *sql, const char *fmt, ...);
/* fn(ctx, rc) on the engine thread once the batch is durable (rc 0) or failed (a BT_E* code,
 * the message in store_last_error): BT_ELIMIT when the disk or max_bytes is full, BT_EIO for
 * any other failure of SQLite. In the order added. fn may submit batches; it must not call
 * store_poll. */
void store_batch_on_done(store_batch *b, void (*fn)(void *ctx, int rc), void *ctx);
/* The bytes of values copied in (texts and blobs, 8 per integer): what the batch will write. */
size_t store_batch_bytes(const store_batch *b);

/* Hands the batch to the writer (ownership passes). An empty batch with completions is
 * allowed: they run once everything submitted before it is durable. */
void store_submit(store *s, store_batch *b);
/* Engine thread: runs completions of finished batches; returns how many batches finished. */
size_t store_poll(store *s);
/* Batches submitted and not yet finished. */
size_t store_pending(const store *s);
/* The message of the last failed commit ("database or disk is full", …). */
const char *store_last_error(const store *s);

/* Engine thread only: a read connection (sees every committed batch) and a cache of its
 * prepared statements by SQL text address (reset, bindings cleared, before they are
 * returned; NULL when the SQL does not prepare: sqlite3_errmsg(store_reader(s)) says why).
 * Reset a statement once done with it: one left mid-result holds its snapshot open, which
 * keeps the WAL from being checkpointed. The connection is query_only. */
sqlite3 *store_reader(store *s);
sqlite3_stmt *store_read_stmt(store *s, const char *sql);

/* Counters for logs and /health. */
typedef struct store_stats {
    uint64_t commits;
    uint64_t batches;
    uint64_t statements;
    uint64_t commit_us_total; /* time spent in COMMIT (fsync) */
    uint64_t failures;        /* transactions rolled back (their batches failed) */
} store_stats;
/* commits, batches and statements count what was committed; an empty batch counts among the
 * batches once it is done. */
void store_get_stats(const store *s, store_stats *out);

#endif
