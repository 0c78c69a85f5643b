/*
 * timer.c — an execution's timers: an indexed binary min-heap of exec__timer entries
 * embedded in their owners (a run's Wait or back-off, a task's timeout and heartbeat, the
 * machine's TimeoutSeconds). Each entry records its heap position, so disarming removes it
 * at once (O(log n)) and the owner may be freed right after: the heap never points at
 * anything that is gone. Ties fire in arming order, which keeps histories deterministic.
 */
#include "base/alloc.h"
#include "engine/exec_int.h"

#include <assert.h>

void exec__timer_init(exec__timer *t, exec__timer_kind kind, void *owner)
{
    t->when_ms = 0;
    t->id = 0;
    t->pos = TIMER_NOT_ARMED;
    t->owner = owner;
    t->kind = (uint8_t)kind;
}

static bool earlier(const exec__timer *a, const exec__timer *b)
{
    return a->when_ms < b->when_ms || (a->when_ms == b->when_ms && a->id < b->id);
}

static void place(exec *e, size_t i, exec__timer *t)
{
    e->heap[i] = t;
    t->pos = (uint32_t)i;
}

static void sift_up(exec *e, size_t i)
{
    exec__timer *t = e->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!earlier(t, e->heap[p]))
            break;
        place(e, i, e->heap[p]);
        i = p;
    }
    place(e, i, t);
}

static void sift_down(exec *e, size_t i)
{
    exec__timer *t = e->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const exec__timer *best = t;
        if (l < e->n_heap && earlier(e->heap[l], best)) {
            m = l;
            best = e->heap[l];
        }
        if (r < e->n_heap && earlier(e->heap[r], best))
            m = r;
        if (m == i)
            break;
        place(e, i, e->heap[m]);
        i = m;
    }
    place(e, i, t);
}

static void heap_remove(exec *e, exec__timer *t)
{
    size_t i = t->pos;
    exec__timer *last = e->heap[--e->n_heap];
    t->pos = TIMER_NOT_ARMED;
    if (last == t)
        return;
    place(e, i, last);
    if (i > 0 && earlier(last, e->heap[(i - 1) / 2]))
        sift_up(e, i);
    else
        sift_down(e, i);
}

void exec__timer_arm(exec *e, exec__timer *t, int64_t when_ms)
{
    exec__timer_cancel(e, t); /* a re-arm is a cancel and an arm: a store mirrors both */
    assert(e->n_heap < TIMER_NOT_ARMED);
    if (e->n_heap == e->cap_heap) {
        e->cap_heap = e->cap_heap ? e->cap_heap * 2 : 8;
        e->heap = bt_xrealloc(e->heap, e->cap_heap * sizeof(*e->heap));
    }
    t->when_ms = when_ms;
    t->id = ++e->next_timer_id;
    place(e, e->n_heap++, t);
    sift_up(e, t->pos);
    exec__effect(e, EXEC_EFFECT_TIMER_ARM, t->id, when_ms);
}

void exec__timer_cancel(exec *e, exec__timer *t)
{
    if (!exec__timer_armed(t))
        return;
    heap_remove(e, t);
    exec__effect(e, EXEC_EFFECT_TIMER_CANCEL, t->id, t->when_ms);
}

exec__timer *exec__timer_pop_due(exec *e, int64_t now_ms)
{
    if (e->n_heap == 0 || e->heap[0]->when_ms > now_ms)
        return NULL;
    exec__timer *t = e->heap[0];
    heap_remove(e, t);
    return t;
}

int64_t exec__timer_next(const exec *e)
{
    return e->n_heap ? e->heap[0]->when_ms : INT64_MAX;
}
