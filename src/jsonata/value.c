/*
 * value.c — the arena, JSONata values, deep equality and copying, and the conversion
 * to and from jansson.
 */
#include "jsonata/value.h"

#include "jsonata/fmt.h"

#include "base/alloc.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

jn_val jn_null_val = {.type = JN_NULL};
jn_val jn_true_val = {.type = JN_BOOL, .u.b = true};
jn_val jn_false_val = {.type = JN_BOOL, .u.b = false};

struct jn_chunk {
    struct jn_chunk *next;
    size_t size;
    max_align_t data[];
};

#define CHUNK_MIN (64 * 1024)

void jn_arena_init(jn_arena *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
}

void jn_arena_init_buf(jn_arena *a, size_t limit, void *buf, size_t size)
{
    jn_arena_init(a, limit);
    if (limit != 0 && size > limit)
        return;
    a->cur = buf;
    a->end = a->cur + size;
    a->total = size;
}

void jn_arena_fini(jn_arena *a)
{
    struct jn_chunk *c = a->chunks;
    while (c != NULL) {
        struct jn_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->cur = a->end = NULL;
    a->total = 0;
}

void *jn__alloc_chunk(jn_arena *a, size_t n)
{
    /* chunks grow with the arena (a quarter of what it holds, 64 KiB to 4 MiB); a
     * request of more than half a chunk gets a block of its own */
    size_t size = a->total / 4;
    if (size < CHUNK_MIN)
        size = CHUNK_MIN;
    if (size > 4 * 1024 * 1024)
        size = 4 * 1024 * 1024;
    if (n > size / 2)
        size = n;
    if (a->limit != 0 && a->total + size > a->limit) {
        if (a->total + n > a->limit) {
            if (a->on_limit != NULL)
                a->on_limit(a->ud);
            abort();
        }
        size = n;
    }
    struct jn_chunk *c = bt_xmalloc(sizeof *c + size);
    c->size = size;
    c->next = a->chunks;
    a->chunks = c;
    a->total += size;
    if (size == n)
        return c->data; /* a big block of its own: keep the current chunk's free tail */
    a->cur = (char *)c->data;
    a->end = a->cur + size;
    void *p = a->cur;
    a->cur += n;
    return p;
}

void *jn_alloc0(jn_arena *a, size_t n)
{
    void *p = jn_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *jn_strndup(jn_arena *a, const char *s, size_t n)
{
    char *p = jn_alloc(a, n + 1);
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void jn_sb_init(jn_sbuf *b, jn_arena *a)
{
    b->arena = a;
    b->data = NULL;
    b->len = b->cap = 0;
}

void jn_sb_append(jn_sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = jn_alloc(b->arena, cap);
        if (b->len)
            memcpy(d, b->data, b->len);
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void jn_sb_putc(jn_sbuf *b, char c)
{
    if (b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    jn_sb_append(b, &c, 1);
}

void jn_sb_puts(jn_sbuf *b, const char *s)
{
    jn_sb_append(b, s, strlen(s));
}

void jn_sb_printf(jn_sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        jn_sb_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

jn_val *jn_number(jn_arena *a, double d)
{
    if (d == floor(d) && fabs(d) < 9007199254740992.0 && !(d == 0 && signbit(d)))
        return (jn_val *)((((uintptr_t)(intptr_t)d) << 1) | 1);
    jn_val *v = jn_alloc(a, sizeof *v);
    v->type = JN_NUMBER;
    v->flags = 0;
    v->u.n = d;
    return v;
}

jn_val *jn_bool(bool b)
{
    return b ? JN_TRUE : JN_FALSE;
}

jn_val *jn_string_ref(jn_arena *a, const char *s, size_t len)
{
    jn_val *v = jn_alloc(a, sizeof *v);
    v->type = JN_STRING;
    v->flags = 0;
    v->u.str.s = s;
    v->u.str.len = len;
    return v;
}

jn_val *jn_string(jn_arena *a, const char *s, size_t len)
{
    return jn_string_ref(a, jn_strndup(a, s, len), len);
}

jn_val *jn_cstring(jn_arena *a, const char *s)
{
    return jn_string(a, s, strlen(s));
}

jn_val *jn_array(jn_arena *a, size_t cap)
{
    jn_val *v = jn_alloc(a, sizeof *v);
    v->type = JN_ARRAY;
    v->flags = 0;
    v->u.arr.len = 0;
    v->u.arr.cap = cap;
    v->u.arr.items = cap ? jn_alloc(a, cap * sizeof(jn_val *)) : NULL;
    return v;
}

jn_val *jn_seq(jn_arena *a)
{
    /* room for a few items in the same block: most sequences stay short */
    jn_val *v = jn_alloc(a, sizeof *v + 4 * sizeof(jn_val *));
    v->type = JN_ARRAY;
    v->flags = JN_ARR_SEQ;
    v->u.arr.len = 0;
    v->u.arr.cap = 4;
    v->u.arr.items = (jn_val **)(v + 1);
    return v;
}

void jn_push(jn_arena *a, jn_val *arr, jn_val *v)
{
    if (arr->u.arr.len == arr->u.arr.cap) {
        size_t cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
        jn_val **items = jn_alloc(a, cap * sizeof(jn_val *));
        if (arr->u.arr.len)
            memcpy(items, arr->u.arr.items, arr->u.arr.len * sizeof(jn_val *));
        arr->u.arr.items = items;
        arr->u.arr.cap = cap;
    }
    arr->u.arr.items[arr->u.arr.len++] = v;
}

jn_val *jn_object(jn_arena *a)
{
    jn_val *v = jn_alloc0(a, sizeof *v);
    v->type = JN_OBJECT;
    return v;
}

static uint32_t hash_key(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

#define INDEX_FROM 8

static void index_build(jn_arena *a, jn_val *o)
{
    size_t icap = 16;
    while (icap < o->u.obj.len * 2 + 2)
        icap *= 2;
    uint32_t *index = jn_alloc0(a, icap * sizeof(uint32_t));
    for (size_t i = 0; i < o->u.obj.len; i++) {
        jn_entry *e = &o->u.obj.entries[i];
        size_t h = hash_key(e->key, e->klen) & (icap - 1);
        while (index[h] != 0)
            h = (h + 1) & (icap - 1);
        index[h] = (uint32_t)(i + 1);
    }
    o->u.obj.index = index;
    o->u.obj.icap = icap;
}

/* The index after an entry went in at position at (0-based), the ones from there on one
 * further: their slots say one more, the new entry's slot is added. */
static void index_shift(jn_val *o, size_t at)
{
    size_t mask = o->u.obj.icap - 1;
    for (size_t h = 0; h < o->u.obj.icap; h++)
        if (o->u.obj.index[h] > at)
            o->u.obj.index[h]++;
    const jn_entry *e = &o->u.obj.entries[at];
    size_t h = hash_key(e->key, e->klen) & mask;
    while (o->u.obj.index[h] != 0)
        h = (h + 1) & mask;
    o->u.obj.index[h] = (uint32_t)(at + 1);
}

static jn_entry *find(const jn_val *o, const char *key, size_t klen)
{
    if (o->u.obj.index != NULL) {
        size_t mask = o->u.obj.icap - 1;
        size_t h = hash_key(key, klen) & mask;
        for (;;) {
            uint32_t i = o->u.obj.index[h];
            if (i == 0)
                return NULL;
            jn_entry *e = &o->u.obj.entries[i - 1];
            if (e->klen == klen && memcmp(e->key, key, klen) == 0)
                return e;
            h = (h + 1) & mask;
        }
    }
    for (size_t i = 0; i < o->u.obj.len; i++) {
        jn_entry *e = &o->u.obj.entries[i];
        if (e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    }
    return NULL;
}

/* JavaScript orders an object's keys that are array indexes ("0" … "4294967294") first,
 * ascending, before the others in insertion order; objects here keep that order. */
static bool index_key(const char *k, size_t n, uint64_t *value)
{
    if (n == 0 || n > 10 || (n > 1 && k[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    *value = v;
    return v < 4294967295u;
}

/* Where a new key goes: the end, or among the leading index keys in numeric order. The
 * entries are those index keys ascending, then the others, so the place is found by
 * bisection: a scan made building an object of n index keys n * n / 2 steps. */
static size_t insert_position(const jn_val *o, const char *key, size_t klen)
{
    uint64_t v;
    if (!index_key(key, klen, &v))
        return o->u.obj.len;
    size_t lo = 0, hi = o->u.obj.len; /* entries before lo precede key; from hi on, follow */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const jn_entry *e = &o->u.obj.entries[mid];
        uint64_t w;
        if (index_key(e->key, e->klen, &w) && w <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void force(const jn_val *o);
static jn_val *from_json_lazy(jn_arena *a, const json_t *j);

/* A lazy object answers its first lookups from its JSON; then it is read in full (its
 * index answers faster than jansson's, and the values stay the same ones). */
#define LAZY_LOOKUPS 2

jn_val *jn_obj_get(const jn_val *o, const char *key, size_t klen)
{
    if (o->flags & JN_OBJ_LAZY) {
        jn_val *m = (jn_val *)(uintptr_t)o;
        if (m->u.lazy.lookups++ < LAZY_LOOKUPS) {
            const json_t *j = json_object_getn(o->json, key, klen);
            return j ? from_json_lazy(m->u.lazy.arena, j) : NULL;
        }
        force(o);
    }
    jn_entry *e = find(o, key, klen);
    return e ? e->val : NULL;
}

static void obj_set(jn_arena *a, jn_val *o, const char *key, size_t klen, jn_val *v);

void jn_obj_set(jn_arena *a, jn_val *o, const char *key, size_t klen, jn_val *v)
{
    if (o->flags & JN_OBJ_LAZY)
        force(o);
    o->json = NULL;
    obj_set(a, o, key, klen, v);
}

static void obj_set(jn_arena *a, jn_val *o, const char *key, size_t klen, jn_val *v)
{
    jn_entry *e = find(o, key, klen);
    if (e != NULL) {
        if (e->val == NULL)
            o->u.obj.live++;
        e->val = v;
        if (v == NULL)
            o->u.obj.live--;
        return;
    }
    if (v == NULL)
        return;
    if (o->u.obj.len == o->u.obj.cap) {
        size_t cap = o->u.obj.cap ? o->u.obj.cap * 2 : 4;
        jn_entry *n = jn_alloc(a, cap * sizeof *n);
        if (o->u.obj.len)
            memcpy(n, o->u.obj.entries, o->u.obj.len * sizeof *n);
        o->u.obj.entries = n;
        o->u.obj.cap = cap;
    }
    size_t at = insert_position(o, key, klen);
    if (at < o->u.obj.len) {
        memmove(&o->u.obj.entries[at + 1], &o->u.obj.entries[at],
                (o->u.obj.len - at) * sizeof(jn_entry));
        o->u.obj.entries[at] = (jn_entry){key, klen, v};
        o->u.obj.len++;
        o->u.obj.live++;
        if (a->on_tick != NULL) /* each such insert moves the entries after it */
            a->on_tick(a->ud);
        if (o->u.obj.index != NULL && o->u.obj.len * 2 + 2 <= o->u.obj.icap)
            index_shift(o, at); /* positions moved: in place, not a new index each time */
        else if (o->u.obj.index != NULL || o->u.obj.len > INDEX_FROM)
            index_build(a, o);
        return;
    }
    jn_entry *ne = &o->u.obj.entries[o->u.obj.len++];
    ne->key = key;
    ne->klen = klen;
    ne->val = v;
    o->u.obj.live++;
    if (o->u.obj.index != NULL && o->u.obj.len * 2 + 2 <= o->u.obj.icap) {
        size_t mask = o->u.obj.icap - 1;
        size_t h = hash_key(key, klen) & mask;
        while (o->u.obj.index[h] != 0)
            h = (h + 1) & mask;
        o->u.obj.index[h] = (uint32_t)o->u.obj.len;
    } else if (o->u.obj.len > INDEX_FROM) {
        index_build(a, o);
    }
}

void jn_obj_del(jn_val *o, const char *key, size_t klen)
{
    if (o->flags & JN_OBJ_LAZY)
        force(o);
    o->json = NULL;
    jn_entry *e = find(o, key, klen);
    if (e != NULL && e->val != NULL) {
        e->val = NULL;
        o->u.obj.live--;
    }
}

jn_val *jn_obj_copy(jn_arena *a, const jn_val *o)
{
    if (o->flags & JN_OBJ_LAZY)
        force(o);
    jn_val *r = jn_object(a);
    size_t cap = o->u.obj.live + 4;
    r->u.obj.entries = jn_alloc(a, cap * sizeof(jn_entry));
    r->u.obj.cap = cap;
    for (size_t i = 0; i < o->u.obj.len; i++)
        if (o->u.obj.entries[i].val != NULL)
            r->u.obj.entries[r->u.obj.len++] = o->u.obj.entries[i];
    r->u.obj.live = r->u.obj.len;
    if (r->u.obj.len > INDEX_FROM)
        index_build(a, r);
    return r;
}

bool jn_obj_next(const jn_val *o, size_t *i, jn_entry **e)
{
    if (o->flags & JN_OBJ_LAZY)
        force(o);
    while (*i < o->u.obj.len) {
        jn_entry *c = &o->u.obj.entries[(*i)++];
        if (c->val != NULL) {
            *e = c;
            return true;
        }
    }
    return false;
}

size_t jn_obj_len(const jn_val *o)
{
    if (o->flags & JN_OBJ_LAZY)
        force(o);
    return o->u.obj.live;
}

static jn_val *clone(jn_arena *a, jn_val *v, int depth, bool *bad)
{
    if (depth > JN_MAX_NESTING) {
        *bad = true;
        return NULL;
    }
    switch (jn_typeof(v)) {
    case JN_ARRAY: {
        jn_val *r = jn_array(a, v->u.arr.len);
        r->flags = v->flags;
        for (size_t i = 0; i < v->u.arr.len; i++)
            r->u.arr.items[i] = clone(a, v->u.arr.items[i], depth + 1, bad);
        r->u.arr.len = v->u.arr.len;
        return r;
    }
    case JN_OBJECT: {
        jn_val *r = jn_object(a);
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(v, &i, &e);)
            jn_obj_set(a, r, e->key, e->klen, clone(a, e->val, depth + 1, bad));
        return r;
    }
    default:
        return v;
    }
}

jn_val *jn_clone(jn_arena *a, jn_val *v)
{
    bool bad = false;
    jn_val *r = clone(a, v, 0, &bad);
    return bad ? NULL : r;
}

typedef struct eq_state {
    void (*tick)(void *);
    void *ud;
    size_t steps;
} eq_state;

static bool deep_equal(const jn_val *x, const jn_val *y, int depth, eq_state *st);

bool jn_deep_equal(const jn_val *x, const jn_val *y)
{
    eq_state st = {NULL, NULL, 0};
    return deep_equal(x, y, 0, &st);
}

bool jn_deep_equal_ex(const jn_val *x, const jn_val *y, void (*tick)(void *), void *ud)
{
    eq_state st = {tick, ud, 0};
    return deep_equal(x, y, 0, &st);
}

static bool deep_equal(const jn_val *x, const jn_val *y, int depth, eq_state *st)
{
    if (depth > JN_MAX_NESTING)
        return false;
    if (st->tick != NULL && (++st->steps & 4095) == 0)
        st->tick(st->ud);
    jn_type tx = jn_typeof(x), ty = jn_typeof(y);
    if (tx != ty)
        return false;
    switch (tx) {
    case JN_UNDEFINED:
    case JN_NULL:
        return true;
    case JN_BOOL:
        return x->u.b == y->u.b;
    case JN_NUMBER:
        return jn_num(x) == jn_num(y);
    case JN_STRING:
        return x->u.str.len == y->u.str.len && memcmp(x->u.str.s, y->u.str.s, x->u.str.len) == 0;
    case JN_ARRAY:
        if (x->u.arr.len != y->u.arr.len)
            return false;
        for (size_t i = 0; i < x->u.arr.len; i++)
            if (!deep_equal(x->u.arr.items[i], y->u.arr.items[i], depth + 1, st))
                return false;
        return true;
    case JN_OBJECT: {
        if (jn_obj_len(x) != jn_obj_len(y))
            return false;
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(x, &i, &e);) {
            jn_val *o = jn_obj_get(y, e->key, e->klen);
            if (o == NULL || !deep_equal(e->val, o, depth + 1, st))
                return false;
        }
        return true;
    }
    case JN_FUNCTION:
        return x == y;
    }
    return false;
}

size_t jn_u16_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

size_t jn_u16_to_byte(const char *s, size_t len, size_t u)
{
    size_t n = 0, i = 0;
    while (i < len && n < u) {
        unsigned char c = (unsigned char)s[i];
        size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        n += w == 4 ? 2 : 1;
        i += w;
    }
    return i > len ? len : i;
}

size_t jn_byte_to_u16(const char *s, size_t byte)
{
    return jn_u16_len(s, byte);
}

/* Appends a key known to be new (jansson's keys are unique), in the JSON's order:
 * order_keys then puts the index keys in their place. */
static void obj_append(jn_arena *a, jn_val *o, const char *key, size_t klen, jn_val *v)
{
    if (o->u.obj.len == o->u.obj.cap) {
        size_t cap = o->u.obj.cap ? o->u.obj.cap * 2 : 4;
        jn_entry *n = jn_alloc(a, cap * sizeof *n);
        if (o->u.obj.len)
            memcpy(n, o->u.obj.entries, o->u.obj.len * sizeof *n);
        o->u.obj.entries = n;
        o->u.obj.cap = cap;
    }
    o->u.obj.entries[o->u.obj.len++] = (jn_entry){key, klen, v};
    o->u.obj.live++;
}

typedef struct keyed {
    uint64_t n;
    size_t at;
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *p = x, *q = y;
    return p->n < q->n ? -1 : p->n > q->n;
}

/* Puts the index keys of an object read from JSON first, ascending, the others after them
 * in their order, as JavaScript orders them: one sort (inserting each in its place moved
 * the entries after it and rebuilt the index every time, quadratic in time and memory:
 * 30,000 keys in descending order exhausted 512 MiB). */
static void order_keys(jn_arena *a, jn_val *o)
{
    size_t len = o->u.obj.len, n_index = 0;
    bool ordered = true, others = false;
    uint64_t last = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t v;
        if (!index_key(o->u.obj.entries[i].key, o->u.obj.entries[i].klen, &v)) {
            others = true;
            continue;
        }
        if (others || (n_index > 0 && v < last))
            ordered = false;
        last = v;
        n_index++;
    }
    if (ordered)
        return;
    keyed *ks = jn_alloc(a, n_index * sizeof *ks);
    jn_entry *out = jn_alloc(a, (o->u.obj.cap ? o->u.obj.cap : len) * sizeof *out);
    size_t k = 0, m = n_index;
    for (size_t i = 0; i < len; i++) {
        jn_entry *e = &o->u.obj.entries[i];
        uint64_t v;
        if (index_key(e->key, e->klen, &v))
            ks[k++] = (keyed){v, i};
        else
            out[m++] = *e;
    }
    qsort(ks, n_index, sizeof *ks, keyed_cmp);
    for (size_t i = 0; i < n_index; i++)
        out[i] = o->u.obj.entries[ks[i].at];
    o->u.obj.entries = out;
    if (o->u.obj.cap < len)
        o->u.obj.cap = len;
}

static jn_val *from_json(jn_arena *a, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING:
        return jn_string(a, json_string_value(j), json_string_length(j));
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        jn_val *r = jn_array(a, n);
        for (size_t i = 0; i < n; i++)
            r->u.arr.items[i] = from_json(a, json_array_get(j, i));
        r->u.arr.len = n;
        return r;
    }
    case JSON_OBJECT: {
        jn_val *r = jn_object(a);
        json_t *o = (json_t *)(uintptr_t)j;
        for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            jn_val *v = from_json(a, json_object_iter_value(it));
            if (v == NULL)
                continue;
            obj_append(a, r, jn_strndup(a, k, klen), klen, v);
        }
        order_keys(a, r);
        if (r->u.obj.len > INDEX_FROM)
            index_build(a, r);
        return r;
    }
    default:
        return jn_from_json(a, j);
    }
}

/* Reads j in place: strings borrowed, arrays one level deep, objects lazy. */
static jn_val *from_json_lazy(jn_arena *a, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING:
        return jn_string_ref(a, json_string_value(j), json_string_length(j));
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(j);
        if (i > -9007199254740992 && i < 9007199254740992)
            return (jn_val *)((((uintptr_t)(intptr_t)i) << 1) | 1);
        return jn_number(a, (double)i);
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        jn_val *r = jn_array(a, n);
        for (size_t i = 0; i < n; i++)
            r->u.arr.items[i] = from_json_lazy(a, json_array_get(j, i));
        r->u.arr.len = n;
        return r;
    }
    case JSON_OBJECT: {
        jn_val *r = jn_alloc(a, sizeof *r);
        r->type = JN_OBJECT;
        r->flags = JN_OBJ_LAZY;
        r->u.lazy.arena = a;
        r->u.lazy.lookups = 0;
        r->json = j;
        return r;
    }
    default:
        return jn_from_json(a, j);
    }
}

/* Reads a lazy object's entries (the values lazy in turn). */
static void force(const jn_val *o)
{
    jn_val *r = (jn_val *)(uintptr_t)o;
    jn_arena *a = r->u.lazy.arena;
    json_t *j = (json_t *)(uintptr_t)r->json;
    r->flags &= (uint8_t)~JN_OBJ_LAZY;
    memset(&r->u.obj, 0, sizeof r->u.obj);
    size_t n = json_object_size(j);
    if (n == 0)
        return;
    r->u.obj.entries = jn_alloc(a, n * sizeof(jn_entry));
    r->u.obj.cap = n;
    for (void *it = json_object_iter(j); it != NULL; it = json_object_iter_next(j, it))
        obj_append(a, r, json_object_iter_key(it), json_object_iter_key_len(it),
                   from_json_lazy(a, json_object_iter_value(it)));
    order_keys(a, r);
    if (r->u.obj.len > INDEX_FROM)
        index_build(a, r);
}

jn_val *jn_from_json_borrow(jn_arena *a, const json_t *j)
{
    return from_json_lazy(a, j);
}

jn_val *jn_from_json(jn_arena *a, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        return JN_NULLV;
    case JSON_TRUE:
        return JN_TRUE;
    case JSON_FALSE:
        return JN_FALSE;
    case JSON_INTEGER:
        return jn_number(a, (double)json_integer_value(j));
    case JSON_REAL:
        return jn_number(a, json_real_value(j));
    default:
        return from_json(a, j);
    }
}

/* Whether the objects in j keep JavaScript's key order already (index keys first,
 * ascending), so that j can stand for itself in a result. */
static bool js_ordered(const json_t *j, int depth)
{
    if (depth > JN_MAX_NESTING)
        return false;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            if (!js_ordered(json_array_get(j, i), depth + 1))
                return false;
        return true;
    }
    if (!json_is_object(j))
        return true;
    json_t *o = (json_t *)(uintptr_t)j;
    bool others = false;
    uint64_t last = 0;
    bool any = false;
    for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
        const char *k = json_object_iter_key(it);
        uint64_t n;
        if (index_key(k, json_object_iter_key_len(it), &n)) {
            if (others || (any && n < last))
                return false;
            last = n;
            any = true;
        } else {
            others = true;
        }
        if (!js_ordered(json_object_iter_value(it), depth + 1))
            return false;
    }
    return true;
}

static json_t *to_json(const jn_val *v, int depth, bool *bad, size_t *budget)
{
    if (depth > JN_MAX_NESTING || *budget == 0) {
        *bad = true;
        return NULL;
    }
    (*budget)--;
    switch (jn_typeof(v)) {
    case JN_UNDEFINED:
        return NULL;
    case JN_NULL:
        return json_null();
    case JN_BOOL:
        return json_boolean(v->u.b);
    case JN_NUMBER: {
        double d = jn_num(v);
        if (!isfinite(d))
            return json_null();
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            return json_integer((json_int_t)d);
        return json_real(d);
    }
    case JN_STRING:
        return json_stringn(v->u.str.s, v->u.str.len);
    case JN_ARRAY: {
        json_t *r = json_array();
        for (size_t i = 0; i < v->u.arr.len; i++) {
            json_t *x = to_json(v->u.arr.items[i], depth + 1, bad, budget);
            if (x != NULL)
                json_array_append_new(r, x);
        }
        return r;
    }
    case JN_OBJECT: {
        if (v->json != NULL && js_ordered(v->json, depth))
            return json_incref((json_t *)(uintptr_t)v->json); /* unchanged: shared */
        json_t *r = json_object();
        jn_entry *e;
        for (size_t i = 0; jn_obj_next(v, &i, &e);) {
            json_t *x = to_json(e->val, depth + 1, bad, budget);
            if (x != NULL)
                json_object_setn_new(r, e->key, e->klen, x);
        }
        return r;
    }
    case JN_FUNCTION:
        return json_string("");
    }
    return NULL;
}

json_t *jn_to_json_checked(const jn_val *v, size_t max_nodes, bool *too_deep)
{
    bool bad = false;
    size_t budget = max_nodes ? max_nodes : (size_t)-1;
    json_t *r = to_json(v, 0, &bad, &budget);
    *too_deep = bad;
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *jn_to_json(const jn_val *v)
{
    bool bad;
    return jn_to_json_checked(v, 0, &bad);
}

/* Lays out digits (k significant, no trailing zeros) with the decimal exponent e of the
 * first digit as Number.prototype.toString does. */
static void js_layout(bool neg, const char *digits, size_t k, int e, char *out, size_t outlen)
{
    int n = e + 1; /* the decimal point sits after n digits */
    char res[64];
    size_t r = 0;
    if (neg)
        res[r++] = '-';
    if ((int)k <= n && n <= 21) {
        memcpy(res + r, digits, k);
        r += k;
        for (int i = 0; i < n - (int)k; i++)
            res[r++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(res + r, digits, (size_t)n);
        r += (size_t)n;
        res[r++] = '.';
        memcpy(res + r, digits + n, k - (size_t)n);
        r += k - (size_t)n;
    } else if (-6 < n && n <= 0) {
        res[r++] = '0';
        res[r++] = '.';
        for (int i = 0; i < -n; i++)
            res[r++] = '0';
        memcpy(res + r, digits, k);
        r += k;
    } else {
        res[r++] = digits[0];
        if (k > 1) {
            res[r++] = '.';
            memcpy(res + r, digits + 1, k - 1);
            r += k - 1;
        }
        r += (size_t)snprintf(res + r, sizeof res - r, "e%c%d", n - 1 < 0 ? '-' : '+',
                              n - 1 < 0 ? -(n - 1) : n - 1);
    }
    res[r] = '\0';
    snprintf(out, outlen, "%s", res);
}

/* Splits "%.*e" text into its digits (trailing zeros dropped) and exponent. */
static void split_exp(const char *buf, bool *neg, char *digits, size_t *k, int *e)
{
    const char *p = buf;
    *neg = false;
    if (*p == '-') {
        *neg = true;
        p++;
    }
    size_t n = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *k = n;
    *e = atoi(p + 1);
}

static bool special(double d, char *out, size_t outlen)
{
    if (isnan(d))
        snprintf(out, outlen, "NaN");
    else if (isinf(d))
        snprintf(out, outlen, d < 0 ? "-Infinity" : "Infinity");
    else if (d == 0)
        snprintf(out, outlen, "0");
    else if (d == floor(d) && fabs(d) < 1e15) {
        /* an integer: its digits, without printf */
        char tmp[24];
        size_t n = 0;
        long long v = (long long)fabs(d);
        while (v > 0) {
            tmp[n++] = (char)('0' + v % 10);
            v /= 10;
        }
        size_t k = 0;
        if (d < 0 && k + 1 < outlen)
            out[k++] = '-';
        while (n > 0 && k + 1 < outlen)
            out[k++] = tmp[--n];
        out[k] = '\0';
    } else
        return false;
    return true;
}

void jn_num_to_js(double d, char *out, size_t outlen)
{
    if (special(d, out, outlen))
        return;
    char digits[24];
    int point;
    size_t k = (size_t)jfmt__shortest(fabs(d), digits, &point);
    js_layout(d < 0, digits, k, point - 1, out, outlen);
}

void jn_num_to_js15(double d, char *out, size_t outlen)
{
    if (special(d, out, outlen))
        return;
    /* 15 significant digits read back and written shortest are those 15 digits (DBL_DIG) */
    char buf[40];
    snprintf(buf, sizeof buf, "%.14e", d);
    bool neg;
    char digits[24];
    size_t k;
    int e;
    split_exp(buf, &neg, digits, &k, &e);
    js_layout(neg, digits, k, e, out, outlen);
}
