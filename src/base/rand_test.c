/*
 * rand_test.c — random bytes from the per-thread pool: every draw new (no byte handed out
 * twice across refills), large draws straight from the generator, UUIDs of version 4.
 */
#include "base/rand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* 16-byte draws across several pool refills never repeat (a repeat would mean a byte run
 * served twice: at 128 bits, chance alone never does it). */
static void test_draws_do_not_repeat(void **state)
{
    (void)state;
    enum { N = 2000 };
    static uint8_t seen[N][16];
    for (int i = 0; i < N; i++) {
        bt_random_bytes(seen[i], 16);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(seen[i], seen[j], 16);
    }
}

/* Draws of odd sizes and one larger than the pool's quarter go straight through. */
static void test_sizes(void **state)
{
    (void)state;
    uint8_t big[8192], zero[8192] = {0};
    bt_random_bytes(big, sizeof big);
    assert_memory_not_equal(big, zero, sizeof big);
    for (size_t n = 1; n < 300; n += 7) {
        uint8_t a[300] = {0}, b[300] = {0};
        bt_random_bytes(a, n);
        bt_random_bytes(b, n);
        if (n >= 8)
            assert_memory_not_equal(a, b, n);
        for (size_t k = n; k < sizeof a; k++)
            assert_int_equal(a[k], 0); /* nothing written past the request */
    }
}

static void test_uuid_shape(void **state)
{
    (void)state;
    uint8_t b[16];
    bt_random_bytes(b, sizeof b);
    char u[37];
    bt_uuid_format(b, u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');
    assert_true(strchr("89ab", u[19]) != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws_do_not_repeat),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_uuid_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
