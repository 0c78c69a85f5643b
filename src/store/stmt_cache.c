/*
 * stmt_cache.c — the prepared statements of one connection, keyed by the address of their
 * SQL text. Callers name statements by static arrays, so the address is the identity and
 * hashing it is a multiply: no string is hashed or compared on the hot path. Linear probing
 * at most half full; entries are never removed (the set of statements is the program's).
 */
#include "base/alloc.h"
#include "store/store_int.h"

#include <stdint.h>
#include <stdlib.h>

struct store__stmt_slot {
    const char *sql; /* NULL: free */
    sqlite3_stmt *stmt;
};

void store__stmt_cache_init(store__stmt_cache *c, sqlite3 *db)
{
    c->db = db;
    c->slots = NULL;
    c->cap = 0;
    c->len = 0;
}

void store__stmt_cache_fini(store__stmt_cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        sqlite3_finalize(c->slots[i].stmt);
    free(c->slots);
    store__stmt_cache_init(c, NULL);
}

/* Fibonacci hashing: the multiply spreads the address's middle bits, which differ between
 * neighbouring string literals, into the top ones. */
static size_t home(const char *sql, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static store__stmt_slot *probe(store__stmt_slot *slots, size_t cap, const char *sql)
{
    size_t i = home(sql, cap);
    while (slots[i].sql != NULL && slots[i].sql != sql)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(store__stmt_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 16;
    store__stmt_slot *slots = bt_xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slots[i].sql != NULL)
            *probe(slots, cap, c->slots[i].sql) = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
}

sqlite3_stmt *store__stmt_get(store__stmt_cache *c, const char *sql)
{
    if (c->cap > 0) {
        store__stmt_slot *slot = probe(c->slots, c->cap, sql);
        if (slot->sql != NULL)
            return slot->stmt;
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK ||
        stmt == NULL)
        return NULL;
    if (2 * (c->len + 1) > c->cap)
        grow(c);
    store__stmt_slot *slot = probe(c->slots, c->cap, sql);
    slot->sql = sql;
    slot->stmt = stmt;
    c->len++;
    return stmt;
}
