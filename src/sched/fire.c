/*
 * fire.c — a rule's fire (sched.h): decides whether it starts anything (on time, late and
 * caught up, late and missed; overlap), starts one execution per state-machine target
 * through the server's StartExecution with a name derived from the rule and the fire time,
 * hands every other target to the registered sched_target_ops, and records the fire — next
 * and last fire time, each target's execution — in the same batch as the starts and the
 * deliveries.
 */
#include "sched/sched_int.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/rand.h"
#include "server/sfn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "yyyymmddThhmmssZ" of a time in ms (17 bytes). */
static void compact_time(int64_t ms, char out[17])
{
    if (ms < 0)
        ms = 0;
    int64_t s = ms / 1000;
    int64_t days = s / 86400;
    unsigned rem = (unsigned)(s % 86400);
    int y, m, d;
    sched_civil_from_days(days, &y, &m, &d);
    snprintf(out, 17, "%04u%02u%02uT%02u%02u%02uZ", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u, rem / 3600 % 100u, rem / 60 % 60, rem % 60);
}

/* True when s has only the characters of rule names and target ids: [.-_A-Za-z0-9]. */
static bool plain(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    return true;
}

/*
 * The name is an unambiguous spelling of (rule, target, fire time). Rule names and target
 * ids are [.-_A-Za-z0-9] (EventBridge's patterns), so '+' between them cannot come from
 * either and '=' marks the cut form: "<rule>-<t>", "<rule>+<target>-<t>" and
 * "<first 46>=<16 hex of SHA-256 over rule NUL target NUL many>-<t>" never spell one
 * another, and two cut names meet only if 64 bits of SHA-256 do.
 */
void sched_exec_name(const char *rule_name, const char *target, bool many_targets, int64_t fire_ms,
                     char out[81])
{
    char base[200];
    size_t rl = strlen(rule_name), tl = strlen(target);
    bool fits = rl + (many_targets ? 1 + tl : 0) <= SCHED_EXEC_BASE_MAX && plain(rule_name) &&
                (!many_targets || plain(target));
    if (fits && many_targets) {
        snprintf(base, sizeof base, "%s+%s", rule_name, target);
    } else if (fits) {
        snprintf(base, sizeof base, "%s", rule_name);
    } else {
        size_t len = rl + 1 + tl + 2;
        char *tuple = bt_xmalloc(len);
        memcpy(tuple, rule_name, rl + 1);
        memcpy(tuple + rl + 1, target, tl + 1);
        tuple[len - 1] = many_targets ? '1' : '0';
        uint8_t h[32];
        bt_sha256(tuple, len, h);
        free(tuple);
        int n = snprintf(base, sizeof base, "%.46s", plain(rule_name) ? rule_name : "rule");
        n += snprintf(base + n, sizeof base - (size_t)n, "=");
        for (int i = 0; i < 8; i++)
            n += snprintf(base + n, sizeof base - (size_t)n, "%02x", h[i]);
    }
    char t[17];
    compact_time(fire_ms, t);
    snprintf(out, 81, "%.63s-%s", base, t); /* base is at most 63 characters here */
}

json_t *sched_event(const char *region, const char *account, const char *rule_arn, int64_t fire_ms,
                    const char *id)
{
    /* EventBridge's Scheduled Event (notes §5.3): time without fraction */
    char t[17], iso[32];
    compact_time(fire_ms, t);
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", t, t + 4, t + 6, t + 9, t + 11,
             t + 13);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:{}}", "version", "0", "id", id,
                     "detail-type", "Scheduled Event", "source", "aws.events", "account", account,
                     "time", iso, "region", region, "resources", rule_arn, "detail");
}

/* True while the execution the target's previous fire started still runs. */
static bool still_running(sched_service *ss, const sched_target *t)
{
    if (t->last_exec == NULL)
        return false;
    json_t *req = json_pack("{s:s}", "executionArn", t->last_exec);
    sfn_err err = {0};
    json_t *out = sfn_describe_execution(ss->srv, req, &err);
    json_decref(req);
    const char *status = out ? json_string_value(json_object_get(out, "status")) : NULL;
    bool running = status && strcmp(status, "RUNNING") == 0;
    json_decref(out);
    return running;
}

/* The target's Input, or the Scheduled Event of this fire (heap JSON text). */
static char *payload_of(sched_service *ss, const rule *r, const sched_target *t, int64_t fire_ms)
{
    if (t->input)
        return bt_xstrdup(t->input);
    uint8_t b[16];
    char id[37];
    bt_random_bytes(b, sizeof b);
    bt_uuid_format(b, id);
    json_t *ev =
        sched_event(server_region(ss->srv), server_account(ss->srv), r->pub.arn, fire_ms, id);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    return text;
}

/* A function, queue or topic: written into this batch by the registered table. */
static void deliver_target(sched_service *ss, rule *r, sched_target *t, int64_t fire_ms)
{
    sched_rule *p = &r->pub;
    if (ss->target_ops == NULL || !ss->target_ops->handles(ss->target_ctx, t->arn)) {
        server_log(ss->srv, SERVER_LOG_WARN, "sched.fire",
                   "rule=%s target=%s arn=%s problem=\"not a target Baton delivers to\"", p->name,
                   t->id, t->arn);
        return;
    }
    char dedup[81];
    sched_exec_name(p->name, t->id, true, fire_ms, dedup);
    char *payload = payload_of(ss, r, t, fire_ms);
    char id[SCHED_DELIVERY_ID_MAX] = "";
    bt_err err = {0};
    int rc = ss->target_ops->deliver(ss->target_ctx, p->name, t->arn, payload, dedup, id, &err);
    free(payload);
    if (rc != 0) {
        server_log(ss->srv, SERVER_LOG_WARN, "sched.fire",
                   "rule=%s target=%s arn=%s problem=\"%s\"", p->name, t->id, t->arn, err.msg);
        return;
    }
    ss->n_delivered++;
    server_log(ss->srv, SERVER_LOG_DEBUG, "sched.fire", "rule=%s target=%s arn=%s delivery=%s",
               p->name, t->id, t->arn, id);
}

static void start_target(sched_service *ss, rule *r, sched_target *t, int64_t fire_ms)
{
    sched_rule *p = &r->pub;
    if (strncmp(t->arn, "arn:aws:states:", 15) != 0) {
        deliver_target(ss, r, t, fire_ms);
        return;
    }
    if (p->skip_overlap && still_running(ss, t)) {
        ss->n_skipped++;
        server_log(ss->srv, SERVER_LOG_INFO, "sched.skip", "rule=%s target=%s running=%s", p->name,
                   t->id, t->last_exec);
        return;
    }
    char name[81];
    sched_exec_name(p->name, t->id, p->n_targets > 1, fire_ms, name);
    char *input = payload_of(ss, r, t, fire_ms);
    json_t *req =
        json_pack("{s:s, s:s, s:s}", "stateMachineArn", t->arn, "name", name, "input", input);
    free(input);
    sfn_err err = {0};
    json_t *out = sfn_start_execution(ss->srv, req, &err);
    json_decref(req);
    if (out == NULL) {
        server_log(ss->srv, SERVER_LOG_WARN, "sched.fire",
                   "rule=%s target=%s name=%s error=%s message=\"%s\"", p->name, t->id, name,
                   err.type ? err.type : "InternalFailure", err.message);
        return;
    }
    const char *arn = json_string_value(json_object_get(out, "executionArn"));
    if (arn) {
        free(t->last_exec);
        t->last_exec = bt_xstrdup(arn);
        sched__save_target(ss, r, t);
    }
    ss->n_started++;
    server_log(ss->srv, SERVER_LOG_DEBUG, "sched.fire", "rule=%s target=%s execution=%s", p->name,
               t->id, arn ? arn : name);
    json_decref(out);
}

static void fire(sched_service *ss, rule *r, int64_t now)
{
    sched_rule *p = &r->pub;
    int64_t t = p->next_fire_ms;
    ss->n_fires++;
    if (now - t > SCHED_GRACE_MS && !p->catch_up) {
        ss->n_missed++;
        server_log(ss->srv, SERVER_LOG_INFO, "sched.missed", "rule=%s due_ms=%lld late_ms=%lld",
                   p->name, (long long)t, (long long)(now - t));
    } else {
        for (size_t i = 0; i < p->n_targets; i++)
            start_target(ss, r, &p->targets[i], t);
        p->last_fire_ms = t;
    }
    int64_t after = (now > t ? now : t) / 1000;
    int64_t next = sched_expr_next(&r->expr, r->tz, p->anchor_ms / 1000, after);
    p->next_fire_ms = next < 0 ? 0 : next * 1000;
    sched__save_fired(ss, r);
    sched__heap_push(ss, r);
}

void sched__fire_due(sched_service *ss)
{
    int64_t now = sched_now_ms(ss);
    for (int n = 0; n < SCHED_FIRES_PER_TURN; n++) {
        rule *r = sched__heap_top(ss);
        if (r == NULL || r->pub.next_fire_ms > now)
            break;
        sched__heap_remove(ss, r);
        fire(ss, r, now);
    }
    sched__arm(ss);
}
