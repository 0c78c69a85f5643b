/*
 * timer_test.c — the indexed timer heap (timer.c) against a plain model: random arming,
 * re-arming and cancelling of many timers, then every due timer pops in (time, arming)
 * order, cancelled ones never, and every entry's recorded position stays true.
 */
#include "base/rand.h"
#include "engine/exec_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define N 1000

static void check_positions(const exec *e)
{
    for (size_t i = 0; i < e->n_heap; i++) {
        assert_int_equal(e->heap[i]->pos, i);
        if (i > 0) {
            const exec__timer *p = e->heap[(i - 1) / 2], *c = e->heap[i];
            assert_true(p->when_ms < c->when_ms || (p->when_ms == c->when_ms && p->id < c->id));
        }
    }
}

static void test_random_operations_match_model(void **state)
{
    (void)state;
    exec e;
    memset(&e, 0, sizeof(e));
    exec__timer *t = calloc(N, sizeof(*t));
    bool armed[N] = {false};
    bt_rand rng;
    bt_rand_seed(&rng, 7);
    for (size_t i = 0; i < N; i++)
        exec__timer_init(&t[i], TIMER_RUN, NULL);
    for (int op = 0; op < 20000; op++) {
        size_t i = bt_rand_next(&rng) % N;
        if (bt_rand_next(&rng) % 3 == 0) {
            exec__timer_cancel(&e, &t[i]);
            armed[i] = false;
        } else {
            exec__timer_arm(&e, &t[i], (int64_t)(bt_rand_next(&rng) % 500)); /* many ties */
            armed[i] = true;
        }
        if (op % 1000 == 0)
            check_positions(&e);
    }
    size_t n_armed = 0;
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(exec__timer_armed(&t[i]), armed[i]);
        n_armed += armed[i];
    }
    assert_int_equal(e.n_heap, n_armed);
    /* nothing is due before the earliest */
    int64_t first = exec__timer_next(&e);
    assert_null(exec__timer_pop_due(&e, first - 1));
    const exec__timer *prev = NULL;
    size_t popped = 0;
    exec__timer *x;
    while ((x = exec__timer_pop_due(&e, 1000)) != NULL) {
        size_t i = (size_t)(x - t);
        assert_true(armed[i]);
        armed[i] = false;
        assert_false(exec__timer_armed(x));
        if (prev)
            assert_true(prev->when_ms < x->when_ms ||
                        (prev->when_ms == x->when_ms && prev->id < x->id));
        prev = x;
        popped++;
    }
    assert_int_equal(popped, n_armed);
    assert_int_equal(exec__timer_next(&e), INT64_MAX);
    free(t);
    free(e.heap);
    if (e.effects != e.effects_inline)
        free(e.effects);
}

static void test_effects_name_each_arming(void **state)
{
    (void)state;
    exec e;
    memset(&e, 0, sizeof(e));
    exec__timer a, b;
    exec__timer_init(&a, TIMER_RUN, NULL);
    exec__timer_init(&b, TIMER_RUN, NULL);
    exec__timer_arm(&e, &a, 50);
    uint64_t first_id = a.id;
    exec__timer_arm(&e, &b, 20);
    exec__timer_arm(&e, &a, 10); /* re-arming cancels the old id and arms a new one */
    assert_int_not_equal(a.id, first_id);
    exec__timer_cancel(&e, &b);
    exec__timer_cancel(&e, &b); /* twice is harmless */
    assert_int_equal(e.n_effects, 5);
    assert_int_equal(e.effects[0].kind, EXEC_EFFECT_TIMER_ARM);
    assert_int_equal(e.effects[0].when_ms, 50);
    assert_int_equal(e.effects[2].kind, EXEC_EFFECT_TIMER_CANCEL);
    assert_int_equal(e.effects[2].id, first_id);
    assert_int_equal(e.effects[3].kind, EXEC_EFFECT_TIMER_ARM);
    assert_int_equal(e.effects[3].id, a.id);
    assert_int_equal(e.effects[4].kind, EXEC_EFFECT_TIMER_CANCEL);
    assert_int_equal(e.effects[4].id, b.id);
    assert_ptr_equal(exec__timer_pop_due(&e, 100), &a);
    assert_null(exec__timer_pop_due(&e, 100));
    free(e.heap);
    if (e.effects != e.effects_inline)
        free(e.effects);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_operations_match_model),
        cmocka_unit_test(test_effects_name_each_arming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
