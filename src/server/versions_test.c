/*
 * versions_test.c — the weighted draw an alias makes (versions_pick_route): every draw in
 * [0, 100) lands on a route in proportion to its weight, and a weight of 0 is never picked.
 */
#include "server/server_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* How many of the 100 draws each route gets. */
static void count_picks(const int *weights, size_t n, int *counts)
{
    for (size_t i = 0; i < n; i++)
        counts[i] = 0;
    for (uint32_t draw = 0; draw < 100; draw++) {
        size_t i = versions_pick_route(weights, n, draw);
        assert_true(i < n);
        counts[i]++;
    }
}

static void test_one_route(void **state)
{
    (void)state;
    const int weights[] = {100};
    int counts[1];
    count_picks(weights, 1, counts);
    assert_int_equal(counts[0], 100);
}

static void test_split_in_proportion(void **state)
{
    (void)state;
    static const int rows[][2] = {{50, 50}, {70, 30}, {1, 99}, {99, 1}, {100, 0}, {0, 100}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int counts[2];
        count_picks(rows[r], 2, counts);
        assert_int_equal(counts[0], rows[r][0]);
        assert_int_equal(counts[1], rows[r][1]);
    }
}

static void test_boundaries(void **state)
{
    (void)state;
    const int weights[] = {30, 70};
    assert_int_equal(versions_pick_route(weights, 2, 0), 0);
    assert_int_equal(versions_pick_route(weights, 2, 29), 0);
    assert_int_equal(versions_pick_route(weights, 2, 30), 1);
    assert_int_equal(versions_pick_route(weights, 2, 99), 1);
    const int first_only[] = {100, 0};
    assert_int_equal(versions_pick_route(first_only, 2, 99), 0);
    const int second_only[] = {0, 100};
    assert_int_equal(versions_pick_route(second_only, 2, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_route),
        cmocka_unit_test(test_split_in_proportion),
        cmocka_unit_test(test_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
