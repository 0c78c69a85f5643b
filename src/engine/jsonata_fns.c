/*
 * jsonata_fns.c — the JSONata library of Step Functions: JSONata's own, without $eval, with
 * the functions Step Functions adds ($partition, $range, $hash, $random, $uuid, $parse; see
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html). Built once
 * per process and shared (a jn_lib is read-only once made).
 *
 * $uuid and $random without a seed draw from the execution's seeded generator, so a run
 * with --seed is reproducible: the evaluation sets it for its thread (a native function has
 * no other way to reach its caller's state).
 */
#include "base/rand.h"
#include "engine/exec_int.h"
#include "jsonata/builtin.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

/* Items a $range may produce: bounded so that an input cannot make it exhaust memory. */
#define MAX_RANGE_ITEMS 10000000

static _Thread_local bt_rand *current_rng;

bt_rand *exec__jn_swap_rng(bt_rand *rng)
{
    bt_rand *old = current_rng;
    current_rng = rng;
    return old;
}

static double integer_arg(jn_ctx *cx, jn_val *v, const char *fn, const char *what)
{
    if (!jn_is_num(v))
        jn_throw(cx, "T0410", v, "The %s argument of $%s must be a number", what, fn);
    double d = jn_num(v);
    if (d != floor(d) || !isfinite(d))
        jn_throw(cx, "D3137", v, "The %s argument of $%s must be an integer", what, fn);
    return d;
}

static jn_val *fn_partition(jn_ctx *cx, jn_val **args, size_t nargs)
{
    jn_arena *a = jn_ctx_arena(cx);
    jn_val *arr = nargs > 0 ? args[0] : NULL;
    if (arr == NULL)
        return NULL;
    if (!jn_is_arr(arr)) { /* a lone value stands for an array of one */
        jn_val *one = jn_array(a, 1);
        jn_push(a, one, arr);
        arr = one;
    }
    double size = integer_arg(cx, nargs > 1 ? args[1] : NULL, "partition", "second");
    if (size < 1)
        jn_throw(cx, "D3137", args[1], "The chunk size of $partition must be at least 1");
    size_t n = arr->u.arr.len, chunk = size > (double)n ? (n ? n : 1) : (size_t)size;
    jn_val *out = jn_array(a, n / chunk + 1);
    for (size_t i = 0; i < n; i += chunk) {
        size_t len = n - i < chunk ? n - i : chunk;
        jn_val *part = jn_array(a, len);
        for (size_t k = 0; k < len; k++)
            jn_push(a, part, arr->u.arr.items[i + k]);
        jn_push(a, out, part);
    }
    return out;
}

static jn_val *fn_range(jn_ctx *cx, jn_val **args, size_t nargs)
{
    jn_arena *a = jn_ctx_arena(cx);
    double start = integer_arg(cx, nargs > 0 ? args[0] : NULL, "range", "first");
    double end = integer_arg(cx, nargs > 1 ? args[1] : NULL, "range", "second");
    double step = nargs > 2 && args[2] ? integer_arg(cx, args[2], "range", "third") : 1;
    if (step == 0)
        jn_throw(cx, "D3137", args[2], "The step of $range must not be zero");
    double count = floor((end - start) / step) + 1;
    if (count < 0)
        count = 0;
    if (count > MAX_RANGE_ITEMS)
        jn_throw(cx, "D2014", NULL,
                 "The size of the sequence allocated by $range must not "
                 "exceed %d items",
                 MAX_RANGE_ITEMS);
    jn_val *out = jn_array(a, (size_t)count);
    for (double i = 0; i < count; i++)
        jn_push(a, out, jn_number(a, start + i * step));
    return out;
}

static jn_val *fn_hash(jn_ctx *cx, jn_val **args, size_t nargs)
{
    static const struct {
        const char *name;
        const char *openssl;
    } algos[] = {{"MD5", "MD5"},
                 {"SHA-1", "SHA1"},
                 {"SHA-256", "SHA256"},
                 {"SHA-384", "SHA384"},
                 {"SHA-512", "SHA512"}};
    jn_arena *a = jn_ctx_arena(cx);
    jn_val *data = nargs > 0 ? args[0] : NULL;
    jn_val *algo = nargs > 1 ? args[1] : NULL;
    if (data == NULL)
        return NULL;
    if (!jn_is_str(data))
        jn_throw(cx, "T0410", data, "The first argument of $hash must be a string");
    const char *name = "SHA-256";
    if (algo) {
        if (!jn_is_str(algo))
            jn_throw(cx, "T0410", algo, "The second argument of $hash must be a string");
        name = jn_strndup(a, algo->u.str.s, algo->u.str.len);
    }
    const EVP_MD *md = NULL;
    for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
        if (strcmp(name, algos[i].name) == 0)
            md = EVP_get_digestbyname(algos[i].openssl);
    if (md == NULL)
        jn_throw(cx, "D3137", algo,
                 "The hash algorithm of $hash must be one of MD5, SHA-1, SHA-256, SHA-384, "
                 "SHA-512");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data->u.str.s, data->u.str.len, digest, &len, md, NULL);
    char *hex = jn_alloc(a, 2 * len + 1);
    for (unsigned i = 0; i < len; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    return jn_string_ref(a, hex, 2 * len);
}

static jn_val *fn_random(jn_ctx *cx, jn_val **args, size_t nargs)
{
    jn_arena *a = jn_ctx_arena(cx);
    jn_val *seed = nargs > 0 ? args[0] : NULL;
    if (seed) {
        double s = integer_arg(cx, seed, "random", "first");
        bt_rand r;
        bt_rand_seed(&r, (uint64_t)(int64_t)s);
        return jn_number(a, bt_rand_double(&r));
    }
    if (current_rng)
        return jn_number(a, bt_rand_double(current_rng));
    bt_rand r;
    bt_rand_seed_os(&r);
    return jn_number(a, bt_rand_double(&r));
}

static jn_val *fn_uuid(jn_ctx *cx, jn_val **args, size_t nargs)
{
    (void)args;
    (void)nargs;
    char out[37];
    if (current_rng) {
        bt_uuid_from_rand(current_rng, out);
    } else {
        uint8_t bytes[16];
        bt_random_bytes(bytes, sizeof(bytes));
        bytes[6] = (uint8_t)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (uint8_t)((bytes[8] & 0x3F) | 0x80);
        bt_uuid_format(bytes, out);
    }
    return jn_string(jn_ctx_arena(cx), out, 36);
}

static jn_val *fn_parse(jn_ctx *cx, jn_val **args, size_t nargs)
{
    jn_val *s = nargs > 0 ? args[0] : NULL;
    if (s == NULL)
        return NULL;
    if (!jn_is_str(s))
        jn_throw(cx, "T0410", s, "The first argument of $parse must be a string");
    json_error_t err;
    json_t *j = json_loadb(s->u.str.s, s->u.str.len, JSON_DECODE_ANY, &err);
    if (j == NULL)
        jn_throw(cx, "D3137", s, "The argument of $parse is not valid JSON: %s", err.text);
    jn_val *v = jn_from_json(jn_ctx_arena(cx), j);
    json_decref(j); /* jn_from_json copied it into the arena */
    return v;
}

static const jn_builtin sfn_functions[] = {
    {"partition", NULL, fn_partition}, {"range", NULL, fn_range}, {"hash", NULL, fn_hash},
    {"random", NULL, fn_random},       {"uuid", NULL, fn_uuid},   {"parse", NULL, fn_parse},
};

static jn_lib *sfn_lib;
static pthread_once_t sfn_lib_once = PTHREAD_ONCE_INIT;

static void build_lib(void)
{
    sfn_lib = jn_lib_new(NULL);
    jn_lib_remove(sfn_lib, "eval");
    for (size_t i = 0; i < sizeof(sfn_functions) / sizeof(sfn_functions[0]); i++)
        jn_lib_add(sfn_lib, &sfn_functions[i]);
}

const jn_lib *exec__jn_lib(void)
{
    pthread_once(&sfn_lib_once, build_lib);
    return sfn_lib;
}
