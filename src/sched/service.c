/*
 * service.c — durable schedules on the engine thread (sched.h): the rules and their targets
 * (tables sched_rule, sched_target, loaded at start), a min-heap of the enabled rules by
 * next fire time under one uv timer, and the fire itself (fire.c starts the executions).
 */
#include "sched/sched_int.h"

#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char sched_schema_v1[] = "CREATE TABLE sched_rule (\n"
                               "  name TEXT PRIMARY KEY,\n"
                               "  expression TEXT,\n"
                               "  event_pattern TEXT,\n"
                               "  enabled INTEGER NOT NULL,\n"
                               "  description TEXT,\n"
                               "  role_arn TEXT,\n"
                               "  timezone TEXT,\n"
                               "  skip_overlap INTEGER NOT NULL,\n"
                               "  catch_up INTEGER NOT NULL,\n"
                               "  allow_at INTEGER NOT NULL,\n"
                               "  origin INTEGER NOT NULL,\n"
                               "  anchor_ms INTEGER NOT NULL,\n"
                               "  next_fire_ms INTEGER NOT NULL,\n"
                               "  last_fire_ms INTEGER NOT NULL\n"
                               ");\n"
                               "CREATE TABLE sched_target (\n"
                               "  rule TEXT NOT NULL,\n"
                               "  id TEXT NOT NULL,\n"
                               "  arn TEXT NOT NULL,\n"
                               "  role_arn TEXT,\n"
                               "  input TEXT,\n"
                               "  input_path TEXT,\n"
                               "  last_exec TEXT,\n"
                               "  PRIMARY KEY (rule, id)\n"
                               ");\n";

static const char sql_put_rule[] =
    "INSERT OR REPLACE INTO sched_rule (name, expression, event_pattern, enabled, description, "
    "role_arn, timezone, skip_overlap, catch_up, allow_at, origin, anchor_ms, next_fire_ms, "
    "last_fire_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_fired[] =
    "UPDATE sched_rule SET next_fire_ms = ?, last_fire_ms = ? WHERE name = ?";
static const char sql_del_rule[] = "DELETE FROM sched_rule WHERE name = ?";
static const char sql_del_targets[] = "DELETE FROM sched_target WHERE rule = ?";
static const char sql_put_target[] =
    "INSERT OR REPLACE INTO sched_target (rule, id, arn, role_arn, input, input_path, last_exec) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char sql_del_target[] = "DELETE FROM sched_target WHERE rule = ? AND id = ?";
static const char sql_all_rules[] =
    "SELECT name, expression, event_pattern, enabled, description, role_arn, timezone, "
    "skip_overlap, catch_up, allow_at, origin, anchor_ms, next_fire_ms, last_fire_ms "
    "FROM sched_rule";
static const char sql_all_targets[] =
    "SELECT rule, id, arn, role_arn, input, input_path, last_exec FROM sched_target "
    "ORDER BY rule, id";

/* ---- the heap of enabled rules by next fire ---- */

static bool earlier(const rule *a, const rule *b)
{
    return a->pub.next_fire_ms < b->pub.next_fire_ms;
}

static void heap_set(sched_service *ss, size_t i, rule *r)
{
    ss->heap[i] = r;
    r->heap_idx = i;
}

static void sift_up(sched_service *ss, size_t i)
{
    rule *r = ss->heap[i];
    while (i > 0 && earlier(r, ss->heap[(i - 1) / 2])) {
        heap_set(ss, i, ss->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(ss, i, r);
}

static void sift_down(sched_service *ss, size_t i)
{
    rule *r = ss->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ss->n_heap)
            break;
        if (c + 1 < ss->n_heap && earlier(ss->heap[c + 1], ss->heap[c]))
            c++;
        if (!earlier(ss->heap[c], r))
            break;
        heap_set(ss, i, ss->heap[c]);
        i = c;
    }
    heap_set(ss, i, r);
}

void sched__heap_remove(sched_service *ss, rule *r)
{
    if (r->heap_idx == NOT_QUEUED)
        return;
    size_t i = r->heap_idx;
    r->heap_idx = NOT_QUEUED;
    rule *last = ss->heap[--ss->n_heap];
    if (i < ss->n_heap) {
        heap_set(ss, i, last);
        sift_up(ss, i);
        sift_down(ss, last->heap_idx);
    }
}

void sched__heap_push(sched_service *ss, rule *r)
{
    sched__heap_remove(ss, r);
    if (!r->pub.enabled || r->pub.next_fire_ms <= 0)
        return;
    if (ss->n_heap == ss->cap_heap) {
        ss->cap_heap = ss->cap_heap ? ss->cap_heap * 2 : 64;
        ss->heap = bt_xrealloc(ss->heap, ss->cap_heap * sizeof *ss->heap);
    }
    heap_set(ss, ss->n_heap++, r);
    sift_up(ss, r->heap_idx);
}

rule *sched__heap_top(sched_service *ss)
{
    return ss->n_heap ? ss->heap[0] : NULL;
}

/* ---- the table ---- */

void sched__save_rule(sched_service *ss, const rule *r)
{
    const sched_rule *p = &r->pub;
    store_batch_add(server_batch(ss->srv), sql_put_rule, "tttitttiiiiiii", p->name, p->expression,
                    p->event_pattern, (int64_t)p->enabled, p->description, p->role_arn, p->timezone,
                    (int64_t)p->skip_overlap, (int64_t)p->catch_up, (int64_t)r->allow_at,
                    (int64_t)p->origin, p->anchor_ms, p->next_fire_ms, p->last_fire_ms);
}

void sched__save_fired(sched_service *ss, const rule *r)
{
    store_batch_add(server_batch(ss->srv), sql_fired, "iit", r->pub.next_fire_ms,
                    r->pub.last_fire_ms, r->pub.name);
}

void sched__save_target(sched_service *ss, const rule *r, const sched_target *t)
{
    store_batch_add(server_batch(ss->srv), sql_put_target, "ttttttt", r->pub.name, t->id, t->arn,
                    t->role_arn, t->input, t->input_path, t->last_exec);
}

static void target_fini(sched_target *t)
{
    free(t->id);
    free(t->arn);
    free(t->role_arn);
    free(t->input);
    free(t->input_path);
    free(t->last_exec);
}

static void rule_free(rule *r)
{
    sched_rule *p = &r->pub;
    for (size_t i = 0; i < p->n_targets; i++)
        target_fini(&p->targets[i]);
    free(p->targets);
    free(p->name);
    free(p->arn);
    free(p->expression);
    free(p->event_pattern);
    free(p->description);
    free(p->role_arn);
    free(p->timezone);
    free(r);
}

static char *dup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* The zone named (cached for the life of the service). */
static int zone(sched_service *ss, const char *name, sched_tz **out, bt_err *err)
{
    *out = NULL;
    if (name == NULL || strcmp(name, "UTC") == 0)
        return 0;
    for (size_t i = 0; i < ss->n_zones; i++)
        if (strcmp(sched_tz_name(ss->zones[i]), name) == 0) {
            *out = ss->zones[i];
            return 0;
        }
    int rc = sched_tz_load(name, out, err);
    if (rc != 0)
        return rc;
    ss->zones = bt_xrealloc(ss->zones, (ss->n_zones + 1) * sizeof *ss->zones);
    ss->zones[ss->n_zones++] = *out;
    return 0;
}

static rule *rule_new(sched_service *ss, const char *name)
{
    rule *r = bt_xcalloc(1, sizeof *r);
    r->heap_idx = NOT_QUEUED;
    r->pub.name = bt_xstrdup(name);
    r->pub.arn = bt_xasprintf("arn:aws:events:%s:%s:rule/%s", server_region(ss->srv),
                              server_account(ss->srv), name);
    bt_strmap_put(&ss->rules, r->pub.name, r);
    return r;
}

/* The first fire after now, from the rule's expression (0: none). */
static void schedule_from(sched_service *ss, rule *r, int64_t now_ms)
{
    r->pub.next_fire_ms = 0;
    if (r->has_expr && r->pub.enabled) {
        int64_t t = sched_expr_next(&r->expr, r->tz, r->pub.anchor_ms / 1000, now_ms / 1000);
        r->pub.next_fire_ms = t < 0 ? 0 : t * 1000;
    }
    sched__heap_push(ss, r);
}

static int load(sched_service *ss, bt_err *err)
{
    store *st_ = server_store(ss->srv);
    sqlite3_stmt *st = store_read_stmt(st_, sql_all_rules);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "sched_rule: %s", sqlite3_errmsg(store_reader(st_)));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rule *r = rule_new(ss, col(st, 0));
        sched_rule *p = &r->pub;
        p->expression = dup_or_null(col(st, 1));
        p->event_pattern = dup_or_null(col(st, 2));
        p->enabled = sqlite3_column_int(st, 3) != 0;
        p->description = dup_or_null(col(st, 4));
        p->role_arn = dup_or_null(col(st, 5));
        p->timezone = dup_or_null(col(st, 6));
        p->skip_overlap = sqlite3_column_int(st, 7) != 0;
        p->catch_up = sqlite3_column_int(st, 8) != 0;
        r->allow_at = sqlite3_column_int(st, 9) != 0;
        p->origin = sqlite3_column_int(st, 10) ? SCHED_ORIGIN_PROJECT : SCHED_ORIGIN_API;
        p->anchor_ms = sqlite3_column_int64(st, 11);
        p->next_fire_ms = sqlite3_column_int64(st, 12);
        p->last_fire_ms = sqlite3_column_int64(st, 13);
        bt_err e2 = {0};
        if (p->expression && sched_expr_parse(p->expression, r->allow_at, &r->expr, &e2) == 0 &&
            zone(ss, p->timezone, &r->tz, &e2) == 0)
            r->has_expr = true;
        else if (p->expression)
            server_log(ss->srv, SERVER_LOG_WARN, "sched.load", "rule=%s problem=\"%s\"", p->name,
                       e2.msg);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "sched_rule: %s", sqlite3_errmsg(store_reader(st_)));
    st = store_read_stmt(st_, sql_all_targets);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "sched_target: %s", sqlite3_errmsg(store_reader(st_)));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rule *r = bt_strmap_get(&ss->rules, col(st, 0));
        if (r == NULL || r->pub.n_targets >= SCHED_TARGETS_MAX)
            continue;
        sched_rule *p = &r->pub;
        p->targets = bt_xrealloc(p->targets, (p->n_targets + 1) * sizeof *p->targets);
        sched_target *t = &p->targets[p->n_targets++];
        t->id = bt_xstrdup(col(st, 1));
        t->arn = bt_xstrdup(col(st, 2));
        t->role_arn = dup_or_null(col(st, 3));
        t->input = dup_or_null(col(st, 4));
        t->input_path = dup_or_null(col(st, 5));
        t->last_exec = dup_or_null(col(st, 6));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "sched_target: %s", sqlite3_errmsg(store_reader(st_)));
    /* Rules whose next fire was never computed get one; the others keep theirs, however
     * long ago (the timer finds them due: missed, or caught up). */
    int64_t now = sched_now_ms(ss);
    size_t i = 0;
    const char *key;
    void *v;
    while (bt_strmap_next(&ss->rules, &i, &key, &v)) {
        rule *r = v;
        if (r->pub.next_fire_ms == 0)
            schedule_from(ss, r, now);
        else if (r->has_expr && r->pub.enabled)
            sched__heap_push(ss, r);
    }
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    sched_service *ss = t->data;
    server_tick(ss->srv);
    sched__fire_due(ss);
}

void sched__arm(sched_service *ss)
{
    if (ss->is_closing)
        return;
    rule *top = sched__heap_top(ss);
    if (top == NULL) {
        uv_timer_stop(&ss->timer);
        return;
    }
    int64_t delay = top->pub.next_fire_ms - sched_now_ms(ss);
    if (delay < 0)
        delay = 0;
    if (delay > 60000)
        delay = 60000; /* the wall clock may be set meanwhile: look again within a minute */
    uv_timer_start(&ss->timer, on_timer, (uint64_t)delay, 0);
}

sched_service *sched_service_new(server *srv, bt_err *err)
{
    sched_service *ss = bt_xcalloc(1, sizeof *ss);
    ss->srv = srv;
    bt_strmap_init(&ss->rules);
    const char *clock = getenv("BATON_TEST_CLOCK");
    if (clock && *clock) {
        ss->test_clock = true;
        ss->offset_ms = strtoll(clock, NULL, 10);
    }
    server_tick(srv);
    if (load(ss, err) != 0) {
        size_t i = 0;
        const char *key;
        void *v;
        while (bt_strmap_next(&ss->rules, &i, &key, &v))
            rule_free(v);
        bt_strmap_fini(&ss->rules);
        for (size_t j = 0; j < ss->n_zones; j++)
            sched_tz_free(ss->zones[j]);
        free(ss->zones);
        free(ss->heap);
        free(ss);
        return NULL;
    }
    uv_timer_init(server_loop(srv), &ss->timer);
    ss->timer.data = ss;
    sched__arm(ss);
    if (ss->test_clock)
        server_log(srv, SERVER_LOG_WARN, "sched.clock",
                   "test clock enabled (BATON_TEST_CLOCK) offset_ms=%lld",
                   (long long)ss->offset_ms);
    return ss;
}

static void on_closed(uv_handle_t *h)
{
    sched_service *ss = h->data;
    size_t i = 0;
    const char *key;
    void *v;
    while (bt_strmap_next(&ss->rules, &i, &key, &v))
        rule_free(v);
    bt_strmap_fini(&ss->rules);
    for (size_t j = 0; j < ss->n_zones; j++)
        sched_tz_free(ss->zones[j]);
    free(ss->zones);
    free(ss->heap);
    free(ss);
}

void sched_service_free(sched_service *ss)
{
    if (ss == NULL)
        return;
    ss->is_closing = true;
    uv_timer_stop(&ss->timer);
    uv_close((uv_handle_t *)&ss->timer, on_closed);
}

/* ---- rules and targets ---- */

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return false;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '.' || *q == '-' || *q == '_'))
            return false;
    return true;
}

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void set_str(char **field, const char *v)
{
    char *n = dup_or_null(v);
    free(*field);
    *field = n;
}

int sched_put_rule(sched_service *ss, const sched_rule_config *cfg, sched_origin origin,
                   bt_err *err)
{
    if (cfg->name == NULL || !name_ok(cfg->name, SCHED_NAME_MAX))
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "[\\.\\-_A-Za-z0-9]+",
                          cfg->name ? cfg->name : "");
    if (cfg->expression == NULL && cfg->event_pattern == NULL)
        return bt_err_set(err, BT_EINVAL,
                          "Parameter(s) ScheduleExpression or EventPattern must be specified.");
    sched_expr e;
    sched_tz *z = NULL;
    if (cfg->expression) {
        int rc = sched_expr_parse(cfg->expression, cfg->allow_at, &e, err);
        if (rc == 0)
            rc = zone(ss, cfg->timezone, &z, err);
        if (rc != 0)
            return rc;
    }
    rule *r = bt_strmap_get(&ss->rules, cfg->name);
    bool is_new = r == NULL;
    if (is_new)
        r = rule_new(ss, cfg->name);
    sched_rule *p = &r->pub;
    bool timing = is_new || !same(p->expression, cfg->expression) ||
                  !same(p->timezone, cfg->timezone) || p->enabled != cfg->enabled ||
                  r->allow_at != cfg->allow_at;
    int64_t now = sched_now_ms(ss);
    if (is_new || !same(p->expression, cfg->expression))
        p->anchor_ms = now / 1000 * 1000;
    set_str(&p->expression, cfg->expression);
    set_str(&p->event_pattern, cfg->event_pattern);
    set_str(&p->description, cfg->description);
    set_str(&p->role_arn, cfg->role_arn);
    set_str(&p->timezone, cfg->timezone);
    p->enabled = cfg->enabled;
    p->skip_overlap = cfg->skip_overlap;
    p->catch_up = cfg->catch_up;
    p->origin = origin;
    r->allow_at = cfg->allow_at;
    r->has_expr = cfg->expression != NULL;
    if (r->has_expr) {
        r->expr = e;
        r->tz = z;
    }
    if (timing)
        schedule_from(ss, r, now);
    if (timing && cfg->fire_at_start && r->has_expr && p->enabled && p->next_fire_ms != 0) {
        p->next_fire_ms = now / 1000 * 1000; /* rates count from the anchor: the same second */
        sched__heap_push(ss, r);
    }
    sched__save_rule(ss, r);
    sched__arm(ss);
    return 0;
}

int sched_delete_rule(sched_service *ss, const char *name, bool force)
{
    rule *r = bt_strmap_get(&ss->rules, name);
    if (r == NULL)
        return 0;
    if (r->pub.n_targets > 0 && !force)
        return BT_ESTATE;
    sched__heap_remove(ss, r);
    bt_strmap_del(&ss->rules, name);
    store_batch_add(server_batch(ss->srv), sql_del_rule, "t", name);
    store_batch_add(server_batch(ss->srv), sql_del_targets, "t", name);
    rule_free(r);
    sched__arm(ss);
    return 0;
}

int sched_set_enabled(sched_service *ss, const char *name, bool enabled)
{
    rule *r = bt_strmap_get(&ss->rules, name);
    if (r == NULL)
        return BT_ENOTFOUND;
    if (r->pub.enabled != enabled) {
        r->pub.enabled = enabled;
        schedule_from(ss, r, sched_now_ms(ss));
        sched__save_rule(ss, r);
        sched__arm(ss);
    }
    return 0;
}

int sched_put_target(sched_service *ss, const char *name, const sched_target_config *t)
{
    rule *r = bt_strmap_get(&ss->rules, name);
    if (r == NULL)
        return BT_ENOTFOUND;
    sched_rule *p = &r->pub;
    sched_target *dst = NULL;
    for (size_t i = 0; i < p->n_targets && dst == NULL; i++)
        if (strcmp(p->targets[i].id, t->id) == 0)
            dst = &p->targets[i];
    char *last_exec = NULL;
    if (dst) {
        if (same(dst->arn, t->arn))
            last_exec = dst->last_exec; /* the same machine: overlap still applies */
        else
            free(dst->last_exec);
        dst->last_exec = NULL;
        target_fini(dst);
    } else {
        if (p->n_targets >= SCHED_TARGETS_MAX)
            return BT_ELIMIT;
        p->targets = bt_xrealloc(p->targets, (p->n_targets + 1) * sizeof *p->targets);
        dst = &p->targets[p->n_targets++];
    }
    dst->id = bt_xstrdup(t->id);
    dst->arn = bt_xstrdup(t->arn);
    dst->role_arn = dup_or_null(t->role_arn);
    dst->input = dup_or_null(t->input);
    dst->input_path = dup_or_null(t->input_path);
    dst->last_exec = last_exec;
    sched__save_target(ss, r, dst);
    return 0;
}

int sched_remove_target(sched_service *ss, const char *name, const char *id)
{
    rule *r = bt_strmap_get(&ss->rules, name);
    if (r == NULL)
        return BT_ENOTFOUND;
    sched_rule *p = &r->pub;
    for (size_t i = 0; i < p->n_targets; i++) {
        if (strcmp(p->targets[i].id, id) != 0)
            continue;
        target_fini(&p->targets[i]);
        memmove(&p->targets[i], &p->targets[i + 1], (p->n_targets - i - 1) * sizeof *p->targets);
        p->n_targets--;
        store_batch_add(server_batch(ss->srv), sql_del_target, "tt", name, id);
        return 0;
    }
    return BT_ENOTFOUND;
}

const sched_rule *sched_get(sched_service *ss, const char *name)
{
    rule *r = bt_strmap_get(&ss->rules, name);
    return r ? &r->pub : NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const sched_rule *const *)a)->name, (*(const sched_rule *const *)b)->name);
}

const sched_rule **sched_list(sched_service *ss, const char *prefix, int origin_only, size_t *n)
{
    const sched_rule **out = bt_xcalloc(bt_strmap_len(&ss->rules) + 1, sizeof *out);
    size_t len = 0, i = 0, plen = prefix ? strlen(prefix) : 0;
    const char *key;
    void *v;
    while (bt_strmap_next(&ss->rules, &i, &key, &v)) {
        const sched_rule *p = &((rule *)v)->pub;
        if (prefix && strncmp(p->name, prefix, plen) != 0)
            continue;
        if (origin_only >= 0 && (int)p->origin != origin_only)
            continue;
        out[len++] = p;
    }
    qsort(out, len, sizeof *out, by_name);
    *n = len;
    return out;
}

/* ---- the clock ---- */

int64_t sched_now_ms(sched_service *ss)
{
    return server_now_ms(ss->srv) + ss->offset_ms;
}

bool sched_test_clock_enabled(const sched_service *ss)
{
    return ss->test_clock;
}

void sched_advance_clock(sched_service *ss, int64_t ms)
{
    if (!ss->test_clock || ms < 0)
        return;
    ss->offset_ms += ms;
    server_log(ss->srv, SERVER_LOG_INFO, "sched.clock", "advance_ms=%lld offset_ms=%lld",
               (long long)ms, (long long)ss->offset_ms);
    sched__fire_due(ss);
}

json_t *sched_stats(sched_service *ss)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rules",
                     (json_int_t)bt_strmap_len(&ss->rules), "scheduled", (json_int_t)ss->n_heap,
                     "fires", (json_int_t)ss->n_fires, "started", (json_int_t)ss->n_started,
                     "delivered", (json_int_t)ss->n_delivered, "skipped", (json_int_t)ss->n_skipped,
                     "missed", (json_int_t)ss->n_missed);
}

void sched_set_target_ops(sched_service *ss, const sched_target_ops *ops, void *ctx)
{
    ss->target_ops = ops;
    ss->target_ctx = ctx;
}
