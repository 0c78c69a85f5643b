/*
 * intrinsics_int.h — the private contract of the intrinsic-function files: the function
 * catalogue, the parsed call tree, the evaluation context and the helpers and functions those
 * files share (double-underscore prefix). Included only by src/path/intrinsics*.c;
 * everything else goes through intrinsics.h.
 *
 * Files: intrinsics.c (parsing, freeing, evaluation and dispatch), intrinsics_print.c (values
 * printed as the Java service prints them), intrinsics_string.c, intrinsics_array.c,
 * intrinsics_math.c (with UUID), intrinsics_json.c and intrinsics_encode.c (Base64, Hash).
 */
#ifndef BT_PATH_INTRINSICS_INT_H
#define BT_PATH_INTRINSICS_INT_H

#include "base/buf.h"
#include "base/fault.h"
#include "path/intrinsics.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Function catalogue: enum name, AWS name. */
#define INTR_FUNCTIONS(X)                                                                          \
    X(FORMAT, "Format")                                                                            \
    X(STRING_TO_JSON, "StringToJson")                                                              \
    X(JSON_TO_STRING, "JsonToString")                                                              \
    X(ARRAY, "Array")                                                                              \
    X(ARRAY_PARTITION, "ArrayPartition")                                                           \
    X(ARRAY_CONTAINS, "ArrayContains")                                                             \
    X(ARRAY_RANGE, "ArrayRange")                                                                   \
    X(ARRAY_GET_ITEM, "ArrayGetItem")                                                              \
    X(ARRAY_LENGTH, "ArrayLength")                                                                 \
    X(ARRAY_UNIQUE, "ArrayUnique")                                                                 \
    X(BASE64_ENCODE, "Base64Encode")                                                               \
    X(BASE64_DECODE, "Base64Decode")                                                               \
    X(HASH, "Hash")                                                                                \
    X(JSON_MERGE, "JsonMerge")                                                                     \
    X(MATH_RANDOM, "MathRandom")                                                                   \
    X(MATH_ADD, "MathAdd")                                                                         \
    X(STRING_SPLIT, "StringSplit")                                                                 \
    X(UUID, "UUID")

typedef enum intr_fn {
#define X(id, name) FN_##id,
    INTR_FUNCTIONS(X)
#undef X
        FN_COUNT
} intr_fn;

typedef enum arg_kind { ARG_LITERAL, ARG_PATH, ARG_CALL } arg_kind;

typedef struct intr_arg {
    arg_kind kind;
    json_t *value; /* ARG_LITERAL */
    char *raw;     /* ARG_LITERAL string: the text between the quotes, escapes intact */
    jpath *path;   /* ARG_PATH */
    char *text;    /* ARG_PATH: the path as written */
    intr_call *call;
} intr_arg;

struct intr_call {
    intr_fn fn;
    size_t n_args;
    intr_arg *args;
    char *text; /* the whole expression as written; set on the root call only */
};

typedef struct eval_ctx {
    const intr_env *env;
    const char *root_text;
    bt_fault *fault;
} eval_ctx;

/* ---- evaluation errors (intrinsics.c) ---- */

/* Sets the fault "Invalid arguments in States.<Name>"; returns BT_EFAULT. */
int intr__invalid(eval_ctx *x, intr_fn fn);
/* Sets the fault for a value too deep to print; returns BT_EFAULT. */
int intr__too_deep(eval_ctx *x);

/* ---- printing (intrinsics_print.c) ---- */

/* Compact JSON as Jackson writes it; BT_ELIMIT when v nests too deeply (depth: 1 at the top). */
int intr__put_json(bt_buf *b, const json_t *v, int depth);
/* Java's toString of v, as States.Format prints an argument; BT_ELIMIT as intr__put_json. */
int intr__put_text(bt_buf *b, const json_t *v, int depth);
/* b's text as a new JSON string; finalizes b. */
json_t *intr__take_string(bt_buf *b);

/* ---- numbers (intrinsics_math.c) ---- */

/* v narrowed as Java's intValue() would: truncated; false unless it fits an int. */
bool intr__int32_truncated(const json_t *v, int32_t *out);

/*
 * ---- the functions, by family ----
 * Each takes the evaluated arguments v[0..n) (borrowed) and returns 0 with *out (a new
 * reference), or BT_EFAULT with the fault set.
 */

/* intrinsics_string.c */
int intr__fn_format(eval_ctx *x, const intr_call *c, json_t **v, size_t n, json_t **out);
int intr__fn_string_split(eval_ctx *x, json_t **v, size_t n, json_t **out);

/* intrinsics_json.c */
int intr__fn_string_to_json(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_json_to_string(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_json_merge(eval_ctx *x, json_t **v, size_t n, json_t **out);

/* intrinsics_array.c */
int intr__fn_array(json_t **v, size_t n, json_t **out);
int intr__fn_array_partition(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_array_contains(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_array_range(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_array_get_item(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_array_length(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_array_unique(eval_ctx *x, json_t **v, size_t n, json_t **out);

/* intrinsics_encode.c */
int intr__fn_base64_encode(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_base64_decode(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_hash(eval_ctx *x, json_t **v, size_t n, json_t **out);

/* intrinsics_math.c */
int intr__fn_math_random(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_math_add(eval_ctx *x, json_t **v, size_t n, json_t **out);
int intr__fn_uuid(eval_ctx *x, size_t n, json_t **out);

#endif
