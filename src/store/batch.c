/*
 * batch.c — a batch: the statements of one engine-loop iteration with copies of their
 * values, and the completions to run once they are durable. Everything a batch holds lives
 * in its own arena, whose first block is inside the batch's allocation, so a typical batch
 * is one malloc and adding a row is a few memcpy calls. The writer binds the copied texts
 * and blobs SQLITE_STATIC: the arena outlives every use SQLite makes of them.
 */
#include "base/alloc.h"
#include "store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN     alignof(max_align_t)
#define MAX_BLOCK ((size_t)64 * 1024) /* blocks double up to this; larger values get their own */

struct store__block {
    store__block *next;
    alignas(max_align_t) unsigned char data[];
};

store_batch *store_batch_new(void)
{
    store_batch *b = bt_xmalloc(sizeof(*b));
    b->stmts = NULL;
    b->stmts_tail = &b->stmts;
    b->dones = NULL;
    b->dones_tail = &b->dones;
    b->n_stmts = 0;
    b->bytes = 0;
    b->next = NULL;
    b->rc = 0;
    b->error = NULL;
    b->cur = b->inline_block;
    b->end = b->inline_block + sizeof(b->inline_block);
    b->blocks = NULL;
    b->next_block = 2 * sizeof(b->inline_block);
    return b;
}

void store_batch_free(store_batch *b)
{
    if (b == NULL)
        return;
    store__block *blk = b->blocks;
    while (blk != NULL) {
        store__block *next = blk->next;
        free(blk);
        blk = next;
    }
    free(b->error);
    free(b);
}

bool store_batch_empty(const store_batch *b)
{
    return b->stmts == NULL && b->dones == NULL;
}

size_t store_batch_bytes(const store_batch *b)
{
    return b->bytes;
}

/* A new block of at least size bytes; what was left of the current one is abandoned. */
static void add_block(store_batch *b, size_t size)
{
    size_t cap = size > b->next_block ? size : b->next_block;
    store__block *blk = bt_xmalloc(sizeof(*blk) + cap);
    blk->next = b->blocks;
    b->blocks = blk;
    b->cur = blk->data;
    b->end = blk->data + cap;
    if (b->next_block < MAX_BLOCK)
        b->next_block *= 2;
}

static void *arena_alloc(store_batch *b, size_t size)
{
    size = (size + ALIGN - 1) & ~(ALIGN - 1);
    if ((size_t)(b->end - b->cur) < size)
        add_block(b, size);
    void *p = b->cur;
    b->cur += size;
    return p;
}

static void copy_bytes(store_batch *b, store__value *v, char type, const void *data, size_t len)
{
    v->type = type;
    v->u.bytes.len = len;
    if (len == 0) {
        v->u.bytes.data = ""; /* empty, not NULL: SQLite binds NULL for a NULL pointer */
        return;
    }
    void *copy = arena_alloc(b, len);
    memcpy(copy, data, len);
    v->u.bytes.data = copy;
    b->bytes += len;
}

static void take_value(store_batch *b, store__value *v, char type, va_list *ap)
{
    switch (type) {
    case 'i':
        v->type = 'i';
        v->u.i = va_arg(*ap, int64_t);
        b->bytes += sizeof(int64_t);
        return;
    case 't': {
        const char *text = va_arg(*ap, const char *);
        if (text == NULL)
            break;
        copy_bytes(b, v, 't', text, strlen(text));
        return;
    }
    case 'b': {
        const void *data = va_arg(*ap, const void *);
        size_t len = va_arg(*ap, size_t);
        if (data == NULL)
            break;
        copy_bytes(b, v, 'b', data, len);
        return;
    }
    case 'n':
        break;
    default:
        /* A format is program text, so this is our bug; the arguments after it cannot be
         * read safely, so carrying on would bind garbage. */
        fprintf(stderr, "baton: store_batch_add: bad value type '%c'\n", type);
        abort();
    }
    v->type = 'n';
}

void store_batch_add(store_batch *b, const char *sql, const char *fmt, ...)
{
    size_t n = strlen(fmt);
    store__stmt *st = arena_alloc(b, sizeof(*st) + n * sizeof(st->values[0]));
    st->next = NULL;
    st->sql = sql;
    st->n_values = n;
    va_list ap;
    va_start(ap, fmt);
    for (size_t i = 0; i < n; i++)
        take_value(b, &st->values[i], fmt[i], &ap);
    va_end(ap);
    *b->stmts_tail = st;
    b->stmts_tail = &st->next;
    b->n_stmts++;
}

void store_batch_on_done(store_batch *b, void (*fn)(void *ctx, int rc), void *ctx)
{
    store__done *d = arena_alloc(b, sizeof(*d));
    d->next = NULL;
    d->fn = fn;
    d->ctx = ctx;
    *b->dones_tail = d;
    b->dones_tail = &d->next;
}

void store__batch_complete(const store_batch *b, int rc)
{
    for (const store__done *d = b->dones; d != NULL; d = d->next)
        d->fn(d->ctx, rc);
}

static int bind_value(sqlite3_stmt *ps, int i, const store__value *v)
{
    switch (v->type) {
    case 'i':
        return sqlite3_bind_int64(ps, i, v->u.i);
    case 't':
        return sqlite3_bind_text64(ps, i, v->u.bytes.data, v->u.bytes.len, SQLITE_STATIC,
                                   SQLITE_UTF8);
    case 'b':
        return sqlite3_bind_blob64(ps, i, v->u.bytes.data, v->u.bytes.len, SQLITE_STATIC);
    default:
        return sqlite3_bind_null(ps, i);
    }
}

/* Every parameter is bound on every use (the counts must match), so no binding of an
 * earlier, freed batch is ever read: the statement needs no sqlite3_clear_bindings. */
static int write_stmt(sqlite3_stmt *ps, const store__stmt *st, sqlite3 *db, bt_err *err)
{
    int n_params = sqlite3_bind_parameter_count(ps);
    if ((size_t)n_params != st->n_values)
        return bt_err_set(err, BT_EINVAL, "statement takes %d values, the batch gave %zu: %s",
                          n_params, st->n_values, st->sql);
    int rc = SQLITE_OK;
    for (size_t i = 0; i < st->n_values && rc == SQLITE_OK; i++)
        rc = bind_value(ps, (int)i + 1, &st->values[i]);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(ps)) == SQLITE_ROW)
            continue;
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    int code = rc == SQLITE_OK ? 0 : store__sqlite_err(db, rc, NULL, err);
    sqlite3_reset(ps);
    return code;
}

int store__batch_write(const store_batch *b, store__stmt_cache *c, bt_err *err)
{
    for (const store__stmt *st = b->stmts; st != NULL; st = st->next) {
        sqlite3_stmt *ps = store__stmt_get(c, st->sql);
        if (ps == NULL)
            return store__sqlite_err(c->db, sqlite3_errcode(c->db), st->sql, err);
        int rc = write_stmt(ps, st, c->db, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
