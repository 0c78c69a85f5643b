/*
 * value.h — JSONata values, allocated from a per-evaluation arena (freed all at once).
 *
 * A value is a `jn_val *`. NULL is JSONata's undefined. Numbers whose value is an integer
 * of at most 2^50 in magnitude are carried in the pointer itself (low bit set), so a range
 * such as [1..1e7] costs one word per item; other numbers, and every other type, are arena
 * blocks. null, true and false are shared constants.
 *
 * Arrays carry the reference implementation's flags: a *sequence* is the result of a path
 * (a singleton sequence collapses to its item, an empty one to undefined), *keep* marks a
 * sequence kept as an array by `[]`, *cons* an array built by an array constructor (never
 * flattened into a path's result), *outer* the wrapper round an input that is an array, and
 * *tuples* a stream of tuple objects (the @ and # bindings).
 *
 * Strings are UTF-8 with their byte length, not NUL-terminated (a substring shares its
 * parent's bytes); lengths and positions that JSONata exposes are
 * counted in UTF-16 code units, as JavaScript counts them (jn_u16_len and friends).
 *
 * Objects keep insertion order; a hash index is built once an object grows beyond a few
 * keys, so that lookups in big objects stay O(1). An object read from JSON in place
 * (jn_from_json_borrow) starts lazy: a lookup reads the jansson object directly, and its
 * entries are built only when something iterates, counts or changes it, or looks up in it
 * more than a couple of times. Code outside value.c reaches objects only through the
 * jn_obj_* functions, which do that.
 */
#ifndef BT_JSONATA_VALUE_H
#define BT_JSONATA_VALUE_H

#include <jansson.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jn_val jn_val;
typedef struct jn_arena jn_arena;

typedef enum jn_type {
    JN_UNDEFINED = 0,
    JN_NULL,
    JN_BOOL,
    JN_NUMBER,
    JN_STRING,
    JN_ARRAY,
    JN_OBJECT,
    JN_FUNCTION,
} jn_type;

enum {
    JN_ARR_SEQ = 1,
    JN_ARR_KEEP = 2,
    JN_ARR_CONS = 4,
    JN_ARR_OUTER = 8,
    JN_ARR_TUPLES = 16,
    JN_OBJ_LAZY = 128, /* an object still read in place from its JSON (see jn_from_json_borrow) */
};

typedef struct jn_entry {
    const char *key;
    size_t klen;
    jn_val *val; /* NULL: deleted */
} jn_entry;

struct jn_fn;

struct jn_val {
    uint8_t type;
    uint8_t flags;
    union {
        bool b;
        double n;
        struct {
            const char *s;
            size_t len;
        } str;
        struct {
            jn_val **items;
            size_t len, cap;
        } arr;
        struct {
            jn_entry *entries;
            size_t len, cap, live;
            uint32_t *index; /* open addressing over entries (i + 1); NULL while small */
            size_t icap;
        } obj;
        struct jn_fn *fn;
        struct {
            jn_arena *arena; /* where the entries go once it is read in full */
            size_t lookups;
        } lazy; /* JN_OBJ_LAZY: nothing read yet but what lookups returned */
    } u;
    /* The JSON object this object was read from, while its entries are that object's
     * (cleared by any change): jn_to_json hands it back instead of a copy. */
    const json_t *json;
};

/* The arena: chunks of memory handed out by bumping a pointer. A limit on the total makes
 * an allocation beyond it call the arena's failure handler (which does not return). */
struct jn_arena {
    struct jn_chunk *chunks;
    char *cur, *end;
    size_t total, limit;
    void (*on_limit)(void *ud);
    void (*on_tick)(void *ud); /* called amid long work on values (it may longjmp out) */
    void *ud;
};

void jn_arena_init(jn_arena *a, size_t limit);
/* The same, with size bytes at buf (16-byte aligned, the caller's) as the first chunk:
 * a small evaluation needs no malloc. */
void jn_arena_init_buf(jn_arena *a, size_t limit, void *buf, size_t size);
void jn_arena_fini(jn_arena *a);
void *jn__alloc_chunk(jn_arena *a, size_t n); /* jn_alloc when the chunk is full */
static inline void *jn_alloc(jn_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->cur) < n)
        return jn__alloc_chunk(a, n);
    void *p = a->cur;
    a->cur += n;
    return p;
}
void *jn_alloc0(jn_arena *a, size_t n);
char *jn_strndup(jn_arena *a, const char *s, size_t n);

/* A growing text buffer in an arena (so the memory limit covers it and an error leaks
 * nothing). data is NUL-terminated once anything was appended. */
typedef struct jn_sbuf {
    jn_arena *arena;
    char *data;
    size_t len, cap;
} jn_sbuf;

void jn_sb_init(jn_sbuf *b, jn_arena *a);
void jn_sb_append(jn_sbuf *b, const char *s, size_t n);
void jn_sb_putc(jn_sbuf *b, char c);
void jn_sb_puts(jn_sbuf *b, const char *s);
void jn_sb_printf(jn_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern jn_val jn_null_val, jn_true_val, jn_false_val;
#define JN_NULLV (&jn_null_val)
#define JN_TRUE  (&jn_true_val)
#define JN_FALSE (&jn_false_val)

static inline bool jn_is_small(const jn_val *v)
{
    return ((uintptr_t)v & 1) != 0;
}
static inline jn_type jn_typeof(const jn_val *v)
{
    if (v == NULL)
        return JN_UNDEFINED;
    if (jn_is_small(v))
        return JN_NUMBER;
    return (jn_type)v->type;
}
static inline bool jn_is_num(const jn_val *v)
{
    return jn_typeof(v) == JN_NUMBER;
}
static inline bool jn_is_str(const jn_val *v)
{
    return jn_typeof(v) == JN_STRING;
}
static inline bool jn_is_arr(const jn_val *v)
{
    return jn_typeof(v) == JN_ARRAY;
}
static inline bool jn_is_obj(const jn_val *v)
{
    return jn_typeof(v) == JN_OBJECT;
}
static inline bool jn_is_fn(const jn_val *v)
{
    return jn_typeof(v) == JN_FUNCTION;
}
static inline double jn_num(const jn_val *v)
{
    if (jn_is_small(v))
        return (double)((intptr_t)v >> 1);
    return v->u.n;
}
static inline bool jn_is_seq(const jn_val *v)
{
    return jn_is_arr(v) && (v->flags & JN_ARR_SEQ);
}

jn_val *jn_number(jn_arena *a, double d);
jn_val *jn_bool(bool b);
jn_val *jn_string(jn_arena *a, const char *s, size_t len);     /* copies */
jn_val *jn_string_ref(jn_arena *a, const char *s, size_t len); /* borrows s */
jn_val *jn_cstring(jn_arena *a, const char *s);
jn_val *jn_array(jn_arena *a, size_t cap);
jn_val *jn_seq(jn_arena *a); /* an empty sequence */
void jn_push(jn_arena *a, jn_val *arr, jn_val *v);
jn_val *jn_object(jn_arena *a);
jn_val *jn_obj_get(const jn_val *o, const char *key, size_t klen);
void jn_obj_set(jn_arena *a, jn_val *o, const char *key, size_t klen, jn_val *v);
void jn_obj_del(jn_val *o, const char *key, size_t klen);
/* A new object with o's entries (the values shared), in o's order. */
jn_val *jn_obj_copy(jn_arena *a, const jn_val *o);
/* Iterates live entries: for (size_t i = 0; jn_obj_next(o, &i, &e);) */
bool jn_obj_next(const jn_val *o, size_t *i, jn_entry **e);
size_t jn_obj_len(const jn_val *o);

/* How deep the value walks below (copy, equality, conversion) go; a value nested deeper
 * (only an evaluation can build one: JSON input stops at 2048) is refused. */
#define JN_MAX_NESTING 2000

/* Deep copy of plain data (functions are shared); NULL when v nests too deeply. */
jn_val *jn_clone(jn_arena *a, jn_val *v);
/* JSONata's deep equality (= and !=); false beyond JN_MAX_NESTING. */
bool jn_deep_equal(const jn_val *x, const jn_val *y);
/* The same, calling tick(ud) every few thousand steps (it may longjmp out). */
bool jn_deep_equal_ex(const jn_val *x, const jn_val *y, void (*tick)(void *), void *ud);

/* UTF-16 length of UTF-8 text; the byte offset of UTF-16 unit u (clamped to len). */
size_t jn_u16_len(const char *s, size_t len);
size_t jn_u16_to_byte(const char *s, size_t len, size_t u);
size_t jn_byte_to_u16(const char *s, size_t byte);

/* Conversion at the boundary. jn_from_json copies into the arena; jn_to_json returns a new
 * reference, or NULL for undefined (functions become "" as JSON.stringify would omit them;
 * nested undefined items are skipped). */
jn_val *jn_from_json(jn_arena *a, const json_t *j);
/* The same without copying strings and keys, and objects read lazily (see above): j must
 * outlive the arena's use of it and not change meanwhile. */
jn_val *jn_from_json_borrow(jn_arena *a, const json_t *j);
/* An object still unchanged from the JSON it was read from comes back as that JSON (a new
 * reference to it, shared): the result is for reading, or for json_deep_copy. */
json_t *jn_to_json(const jn_val *v);
/* As jn_to_json, but says when v nests beyond JN_MAX_NESTING or would make more than
 * max_nodes JSON values (0: no limit; shared parts count each time) — then NULL. */
json_t *jn_to_json_checked(const jn_val *v, size_t max_nodes, bool *too_deep);

/* Number text as JavaScript's Number.prototype.toString writes it (shortest round trip,
 * exponent from 1e21 up and from 1e-7 down). out needs 32 bytes. */
void jn_num_to_js(double d, char *out, size_t outlen);
/* $string's text of a number: JavaScript's Number(d.toPrecision(15)).toString(). */
void jn_num_to_js15(double d, char *out, size_t outlen);

#endif
