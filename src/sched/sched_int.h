/*
 * sched_int.h — what service.c and fire.c share.
 */
#ifndef BT_SCHED_SCHED_INT_H
#define BT_SCHED_SCHED_INT_H

#include "base/strmap.h"
#include "sched/sched.h"

#include <stdint.h>

#define NOT_QUEUED SIZE_MAX

typedef struct rule {
    sched_rule pub;
    sched_expr expr;
    sched_tz *tz; /* the service's cache; NULL: UTC */
    bool has_expr, allow_at;
    size_t heap_idx; /* NOT_QUEUED when not waiting to fire */
} rule;

struct sched_service {
    server *srv;
    bt_strmap rules; /* name → rule */
    rule **heap;     /* enabled rules with a next fire, earliest first */
    size_t n_heap, cap_heap;
    sched_tz **zones;
    size_t n_zones;
    uv_timer_t timer;
    bool is_closing, test_clock;
    int64_t offset_ms;
    const sched_target_ops *target_ops; /* or NULL */
    void *target_ctx;
    uint64_t n_fires, n_started, n_delivered, n_skipped, n_missed;
};

void sched__heap_push(sched_service *ss, rule *r);
void sched__heap_remove(sched_service *ss, rule *r);
rule *sched__heap_top(sched_service *ss);
void sched__arm(sched_service *ss);
void sched__save_rule(sched_service *ss, const rule *r);
void sched__save_fired(sched_service *ss, const rule *r);
void sched__save_target(sched_service *ss, const rule *r, const sched_target *t);
/* Fires every rule due by now (at most SCHED_FIRES_PER_TURN, then again on the next turn)
 * and re-arms the timer (fire.c). */
void sched__fire_due(sched_service *ss);

#endif
