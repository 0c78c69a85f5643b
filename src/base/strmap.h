/*
 * strmap.h — an open-addressing hash map from C strings to `void *`, embedded in its owner
 * (a compiler's name table, a registry). Keys are borrowed and compared with strcmp;
 * neither keys nor values are freed by the map.
 *
 * Not synchronised: one writer at a time; any number of readers once nobody writes.
 */
#ifndef BT_STRMAP_H
#define BT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One slot of the table; a private detail, declared here only so the map can be embedded. */
struct bt_strmap_slot {
    const char *key; /* NULL: never used; the map's tombstone: deleted; else live */
    void *value;
    uint64_t hash;
};

typedef struct bt_strmap {
    struct bt_strmap_slot *slots;
    size_t cap;  /* 0 or a power of two */
    size_t len;  /* live entries */
    size_t used; /* live entries plus tombstones; kept below ~70% of cap */
} bt_strmap;

/* Makes an empty map; allocates nothing until the first put. */
void bt_strmap_init(bt_strmap *m);
/* Frees the table, not keys or values. The map is empty (and reusable) afterwards. */
void bt_strmap_fini(bt_strmap *m);

/*
 * Adds key → value. Returns 0, or BT_EEXIST when key is present (its value unchanged).
 * Key is borrowed: it must outlive its entry. Value may be NULL, though bt_strmap_get
 * then cannot tell it from an absent key. Out of memory aborts.
 */
int bt_strmap_put(bt_strmap *m, const char *key, void *value);
/* The value stored under key; NULL when absent. */
void *bt_strmap_get(const bt_strmap *m, const char *key);
/* Removes key; true when it was present. Never shrinks the table. */
bool bt_strmap_del(bt_strmap *m, const char *key);
/* Number of entries. */
size_t bt_strmap_len(const bt_strmap *m);
/* Iterates: start with *i = 0; each call yields the next live entry and returns true, or
 * false at the end. The map must not change meanwhile (except bt_strmap_del of the entry
 * just yielded). */
bool bt_strmap_next(const bt_strmap *m, size_t *i, const char **key, void **value);

#endif
