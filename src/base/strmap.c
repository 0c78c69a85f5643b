/*
 * strmap.c — linear-probing hash table for strmap.h. Used wherever names are looked up
 * often (the ASL compiler resolves every transition through one).
 *
 * Invariant: used (live + tombstones) stays below 70% of cap, so every probe sequence
 * meets an empty slot and terminates. Each slot keeps its key's hash, so rehashing never
 * rereads keys and most mismatches cost no strcmp.
 */
#include "base/strmap.h"
#include "base/alloc.h"
#include "base/err.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

/* Marks a deleted slot: probes continue past it, insertions may reuse it. */
static const char tombstone[1];

/* FNV-1a over the bytes, then a 64-bit finaliser (MurmurHash3's fmix64) so that the low
 * bits — the only ones a power-of-two table uses — depend on every input byte. */
static uint64_t hash_string(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

void bt_strmap_init(bt_strmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
    m->used = 0;
}

void bt_strmap_fini(bt_strmap *m)
{
    free(m->slots);
    bt_strmap_init(m);
}

/* Rebuilds the table without tombstones, at least twice as large as the live entries. */
static void rehash(bt_strmap *m)
{
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while ((m->len + 1) * 2 > cap)
        cap *= 2;
    struct bt_strmap_slot *slots = bt_xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < m->cap; i++) {
        const struct bt_strmap_slot *s = &m->slots[i];
        if (s->key == NULL || s->key == tombstone)
            continue;
        size_t j = (size_t)s->hash & (cap - 1);
        while (slots[j].key != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->len;
}

/* The slot holding key, or NULL. */
static struct bt_strmap_slot *find(const bt_strmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    uint64_t h = hash_string(key);
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct bt_strmap_slot *s = &m->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->key != tombstone && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

int bt_strmap_put(bt_strmap *m, const char *key, void *value)
{
    assert(key != NULL);
    if ((m->used + 1) * 10 > m->cap * 7)
        rehash(m);
    uint64_t h = hash_string(key);
    size_t mask = m->cap - 1;
    struct bt_strmap_slot *grave = NULL;
    struct bt_strmap_slot *s;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        s = &m->slots[i];
        if (s->key == NULL)
            break;
        if (s->key == tombstone) {
            if (grave == NULL)
                grave = s;
        } else if (s->hash == h && strcmp(s->key, key) == 0) {
            return BT_EEXIST;
        }
    }
    if (grave)
        s = grave;
    else
        m->used++;
    s->key = key;
    s->value = value;
    s->hash = h;
    m->len++;
    return 0;
}

void *bt_strmap_get(const bt_strmap *m, const char *key)
{
    const struct bt_strmap_slot *s = find(m, key);
    return s ? s->value : NULL;
}

bool bt_strmap_del(bt_strmap *m, const char *key)
{
    struct bt_strmap_slot *s = find(m, key);
    if (s == NULL)
        return false;
    size_t mask = m->cap - 1;
    size_t i = (size_t)(s - m->slots);
    m->len--;
    if (m->slots[(i + 1) & mask].key != NULL) {
        s->key = tombstone;
        s->value = NULL;
        return true;
    }
    /* The next slot is empty, so no probe sequence runs through this one: it can become
     * empty, and so can the tombstones just before it, for the same reason. */
    do {
        m->slots[i].key = NULL;
        m->slots[i].value = NULL;
        m->used--;
        i = (i - 1) & mask;
    } while (m->slots[i].key == tombstone);
    return true;
}

size_t bt_strmap_len(const bt_strmap *m)
{
    return m->len;
}

bool bt_strmap_next(const bt_strmap *m, size_t *i, const char **key, void **value)
{
    for (; *i < m->cap; (*i)++) {
        const struct bt_strmap_slot *s = &m->slots[*i];
        if (s->key != NULL && s->key != tombstone) {
            *key = s->key;
            *value = s->value;
            (*i)++;
            return true;
        }
    }
    return false;
}
