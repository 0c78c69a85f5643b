/*
 * intrinsics_math.c — the number and random functions: States.MathRandom, States.MathAdd and
 * States.UUID, and the narrowing of JSON numbers to Java ints that the array functions share.
 * Called by intr_eval's dispatch (intrinsics.c). Randomness comes from the caller's
 * intr_env callback when set (deterministic runs), else from bt_random_bytes; a seeded
 * MathRandom uses bt_rand, so the same seed always yields the same number.
 */
#include "base/rand.h"
#include "path/intrinsics_int.h"

#include <math.h>

static uint64_t next_random(const eval_ctx *x)
{
    if (x->env->random)
        return x->env->random(x->env->random_ud);
    uint64_t r;
    bt_random_bytes(&r, sizeof(r));
    return r;
}

/* A number as Java's intValue() would narrow it: truncated, and it must fit an int. */
bool intr__int32_truncated(const json_t *v, int32_t *out)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < INT32_MIN || n > INT32_MAX)
            return false;
        *out = (int32_t)n;
        return true;
    }
    if (!json_is_real(v))
        return false;
    d = trunc(json_real_value(v));
    if (!(d >= INT32_MIN && d <= INT32_MAX))
        return false;
    *out = (int32_t)d;
    return true;
}

/* Java's Math.round (half up), and it must fit an int. */
static bool int32_rounded(const json_t *v, int32_t *out)
{
    if (json_is_integer(v))
        return intr__int32_truncated(v, out);
    if (!json_is_real(v))
        return false;
    double d = json_real_value(v);
    double r = floor(d);
    if (d - r >= 0.5)
        r += 1;
    if (!(r >= INT32_MIN && r <= INT32_MAX))
        return false;
    *out = (int32_t)r;
    return true;
}

/* --- Math ---------------------------------------------------------------------------------- */

/* A random integer in [start, end): the end is exclusive, as AWS behaves. */
int intr__fn_math_random(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t start, end, seed = 0;
    if ((n != 2 && n != 3) || !intr__int32_truncated(v[0], &start) ||
        !intr__int32_truncated(v[1], &end) || start >= end ||
        (n == 3 && !intr__int32_truncated(v[2], &seed)))
        return intr__invalid(x, FN_MATH_RANDOM);
    uint64_t span = (uint64_t)((int64_t)end - start);
    uint64_t r;
    if (n == 3) {
        bt_rand rng;
        bt_rand_seed(&rng, (uint64_t)(int64_t)seed);
        r = bt_rand_next(&rng);
    } else {
        r = next_random(x);
    }
    *out = json_integer((json_int_t)((int64_t)start + (int64_t)(r % span)));
    return 0;
}

int intr__fn_math_add(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    int32_t a, b;
    if (n != 2 || !int32_rounded(v[0], &a) || !int32_rounded(v[1], &b))
        return intr__invalid(x, FN_MATH_ADD);
    int64_t sum = (int64_t)a + b;
    if (sum < INT32_MIN || sum > INT32_MAX)
        return intr__invalid(x, FN_MATH_ADD);
    *out = json_integer((json_int_t)sum);
    return 0;
}

int intr__fn_uuid(eval_ctx *x, size_t n, json_t **out)
{
    if (n != 0)
        return intr__invalid(x, FN_UUID);
    uint8_t bytes[16];
    for (int half = 0; half < 2; half++) {
        uint64_t r = next_random(x);
        for (int i = 0; i < 8; i++)
            bytes[half * 8 + i] = (uint8_t)(r >> (8 * i));
    }
    char text[37];
    bt_uuid_format(bytes, text);
    *out = json_string(text);
    return 0;
}
