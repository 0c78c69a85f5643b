/*
 * store_int.h — what the files of the store share: the layout of a batch (batch.c builds it,
 * writer.c writes and retires it), the prepared-statement cache of each connection
 * (stmt_cache.c), and the store itself (open.c sets it up and tears it down, writer.c runs
 * its writer thread). Fields say which thread owns them; those under `mu` are shared.
 */
#ifndef BT_STORE_STORE_INT_H
#define BT_STORE_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

/* Prepared statements of one connection keyed by the address of their SQL text: an
 * open-addressing table, so a lookup is a multiply and a probe or two. */
typedef struct store__stmt_slot store__stmt_slot;
typedef struct store__stmt_cache {
    sqlite3 *db;
    store__stmt_slot *slots;
    size_t cap; /* a power of two, or 0 before the first statement */
    size_t len;
} store__stmt_cache;

void store__stmt_cache_init(store__stmt_cache *c, sqlite3 *db);
/* Finalizes every statement (the connection can then be closed). */
void store__stmt_cache_fini(store__stmt_cache *c);
/* The statement for sql, prepared on first use; NULL when it does not prepare (the message is
 * sqlite3_errmsg(c->db)). Returned as the last use left it: the caller resets it. */
sqlite3_stmt *store__stmt_get(store__stmt_cache *c, const char *sql);

/* One value of a statement, as store_batch_add copied it. */
typedef struct store__value {
    char type; /* 'i' integer, 't' text, 'b' blob, 'n' NULL */
    union {
        int64_t i;
        struct {
            const void *data; /* in the batch's arena */
            size_t len;
        } bytes;
    } u;
} store__value;

typedef struct store__stmt {
    struct store__stmt *next;
    const char *sql;
    size_t n_values;
    store__value values[];
} store__stmt;

typedef struct store__done {
    struct store__done *next;
    void (*fn)(void *ctx, int rc);
    void *ctx;
} store__done;

typedef struct store__block store__block;

#define STORE__BATCH_INLINE 512 /* arena bytes inside the batch: a typical batch needs no more */

struct store_batch {
    store__stmt *stmts, **stmts_tail;
    store__done *dones, **dones_tail;
    size_t n_stmts;
    size_t bytes;
    /* Set by the writer, read by store_poll once the batch is on the done list. */
    store_batch *next;
    int rc;
    char *error; /* the failed transaction's message (heap), NULL when rc is 0 */
    /* The arena: [cur, end) is free; blocks beyond the inline one are freed with the batch. */
    unsigned char *cur, *end;
    store__block *blocks;
    size_t next_block;
    alignas(max_align_t) unsigned char inline_block[STORE__BATCH_INLINE];
};

/* Runs the statements of b in order inside the caller's transaction: 0, or a BT_E* code with
 * the message in err (BT_ELIMIT when SQLite reports the database full). */
int store__batch_write(const store_batch *b, store__stmt_cache *c, bt_err *err);
/* Runs the completions of b with rc, in the order they were added. */
void store__batch_complete(const store_batch *b, int rc);

/* BT_ELIMIT for a full database or disk, BT_EIO for every other SQLite failure; err gets
 * "what: SQLite's message" (what may be NULL). */
int store__sqlite_err(sqlite3 *db, int rc, const char *what, bt_err *err);

struct store {
    char *path; /* DIR/baton.db */
    int lock_fd;
    sqlite3 *db;     /* the writer's connection: the opening thread's until the writer starts */
    sqlite3 *reader; /* engine thread */
    store__stmt_cache write_stmts; /* writer thread */
    store__stmt_cache read_stmts;  /* engine thread */
    void (*wakeup)(void *ctx);
    void *wakeup_ctx;

    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;               /* the writer waits here for work or for the stop */
    store_batch *queue, *queue_last; /* mu: submitted, not yet taken by the writer */
    store_batch *done, *done_last;   /* mu: finished, completions not yet run */
    bool is_writer_idle;             /* mu: waiting on cv, so a submit must signal */
    bool is_stopping;                /* mu */

    size_t n_pending;     /* engine thread: submitted, not yet polled */
    char last_error[512]; /* engine thread: copied from the failed batch being completed */

    _Atomic uint64_t n_commits, n_batches, n_statements, commit_us_total, n_failures;
    bool stop_after_failure; /* writer thread only, after open */
    char *first_failure;     /* writer thread: set once a transaction failed */
};

/* Starts the writer thread on s->db; BT_EIO when the thread cannot be created. */
int store__writer_start(store *s, bt_err *err);
/* Writes everything submitted, then stops and joins the writer. */
void store__writer_stop(store *s);

#endif
