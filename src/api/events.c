/*
 * events.c — the EventBridge API subset for schedule rules (AWS JSON 1.1, X-Amz-Target
 * AWSEvents.<Op>; notes §5.2): PutRule, PutTargets, RemoveTargets, DescribeRule, ListRules,
 * ListTargetsByRule, EnableRule, DisableRule, DeleteRule, on sched/'s rules. Only the default
 * event bus exists. Errors are {"__type": <Code>, "message": …} with HTTP 400.
 *
 * And, only when the server runs with BATON_TEST_CLOCK, POST /baton/test/clock
 * {"advance_ms": N}: moves the schedules' clock forward (tests).
 */
#include "api/events.h"
#include "base/alloc.h"
#include "sched/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT_MAX 100

/* Every EventBridge error here is a 400. */
#define fail(c, type, ...) api_reply_json_error((c), 400, (type), __VA_ARGS__)

/* A string member (NULL when absent or null); *bad set when present and not a string. */
static const char *str(api_call *c, const char *name, bool *bad)
{
    json_t *v = json_object_get(c->json, name);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

static bool bad_member(api_call *c, const char *name)
{
    api_reply_json_error(c, 400, "SerializationException", "Expected a string for member '%s'",
                         name);
    return true;
}

/* Name (required) or answered. */
static const char *need(api_call *c, const char *name)
{
    bool bad = false;
    const char *v = str(c, name, &bad);
    if (bad) {
        bad_member(c, name);
        return NULL;
    }
    if (v == NULL) {
        api_reply_json_error(c, 400, "ValidationException",
                             "1 validation error detected: Value null at '%c%s' failed to "
                             "satisfy constraint: Member must not be null",
                             name[0] + ('a' - 'A'), name + 1);
        return NULL;
    }
    return v;
}

/* The default bus only: its name or its ARN. */
static bool bus_ok(api_call *c, bool has_schedule)
{
    bool bad = false;
    const char *bus = str(c, "EventBusName", &bad);
    if (bad)
        return !bad_member(c, "EventBusName");
    if (bus == NULL || strcmp(bus, "default") == 0)
        return true;
    const char *slash = strrchr(bus, '/');
    if (strncmp(bus, "arn:aws:events:", 15) == 0 && slash && strcmp(slash, "/default") == 0)
        return true;
    if (has_schedule)
        fail(c, "ValidationException", "%s",
             "ScheduleExpression is supported only on the default event bus.");
    else
        fail(c, "ResourceNotFoundException", "Event bus %s does not exist.", bus);
    return false;
}

static void no_rule(api_call *c, const char *name)
{
    fail(c, "ResourceNotFoundException", "Rule %s does not exist on EventBus default.", name);
}

static json_t *rule_json(const sched_rule *r, bool full)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "Name", r->name, "Arn", r->arn, "State",
                          r->enabled ? "ENABLED" : "DISABLED", "EventBusName", "default");
    if (r->expression)
        json_object_set_new(o, "ScheduleExpression", json_string(r->expression));
    if (r->event_pattern)
        json_object_set_new(o, "EventPattern", json_string(r->event_pattern));
    if (r->description)
        json_object_set_new(o, "Description", json_string(r->description));
    if (r->role_arn)
        json_object_set_new(o, "RoleArn", json_string(r->role_arn));
    (void)full;
    return o;
}

static void put_rule(api_call *c, sched_service *ss)
{
    const char *name = need(c, "Name");
    if (name == NULL)
        return;
    bool bad = false;
    const char *expr = str(c, "ScheduleExpression", &bad);
    const char *pattern = str(c, "EventPattern", &bad);
    const char *state = str(c, "State", &bad);
    const char *desc = str(c, "Description", &bad);
    const char *role = str(c, "RoleArn", &bad);
    if (bad) {
        bad_member(c, "PutRule");
        return;
    }
    if (!bus_ok(c, expr != NULL))
        return;
    if (state && strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0 &&
        strcmp(state, "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") != 0) {
        api_reply_json_error(c, 400, "ValidationException",
                             "1 validation error detected: Value '%s' at 'state' failed to "
                             "satisfy constraint: Member must satisfy enum value set: [ENABLED, "
                             "DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
                             state);
        return;
    }
    if (pattern) {
        json_error_t jerr;
        json_t *j = json_loads(pattern, 0, &jerr);
        bool ok = j && json_is_object(j);
        json_decref(j);
        if (!ok) {
            fail(c, "InvalidEventPatternException", "Event pattern is not valid. Reason: %s",
                 j ? "the pattern is not a JSON object" : jerr.text);
            return;
        }
    }
    if (desc && strlen(desc) > 512) {
        fail(c, "ValidationException", "%s",
             "1 validation error detected: Value at 'description' failed to satisfy constraint: "
             "Member must have length less than or equal to 512");
        return;
    }
    sched_rule_config cfg = {
        .name = name,
        .expression = expr,
        .event_pattern = pattern,
        .enabled = state == NULL || strcmp(state, "DISABLED") != 0,
        .description = desc,
        .role_arn = role,
    };
    /* A rule the project file declared keeps its policies when the API replaces it. */
    const sched_rule *old = sched_get(ss, name);
    if (old) {
        cfg.skip_overlap = old->skip_overlap;
        cfg.catch_up = old->catch_up;
    }
    bt_err err = {0};
    if (sched_put_rule(ss, &cfg, SCHED_ORIGIN_API, &err) != 0) {
        if (strncmp(err.msg, SCHED_EXPR_INVALID, strlen(SCHED_EXPR_INVALID)) == 0)
            fail(c, "ValidationException", "%s", SCHED_EXPR_INVALID);
        else
            fail(c, "ValidationException", "%s", err.msg);
        return;
    }
    api_reply_json(c, json_pack("{s:s}", "RuleArn", sched_get(ss, name)->arn));
}

static json_t *failed(const char *id, const char *code, const char *msg)
{
    return json_pack("{s:s, s:s, s:s}", "TargetId", id, "ErrorCode", code, "ErrorMessage", msg);
}

#define TARGET_INPUT_MAX 8192

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* How many targets the rule would have once the call's (valid) entries are put: an id the
 * rule has, or one given earlier in the call, replaces rather than adds. */
static size_t targets_after(const sched_rule *r, json_t *targets)
{
    size_t n = r->n_targets, i;
    json_t *t;
    json_array_foreach(targets, i, t)
    {
        if (json_object_get(t, "InputTransformer") != NULL)
            continue; /* refused entry by entry, never put */
        const char *id = json_string_value(json_object_get(t, "Id"));
        bool is_new = true;
        for (size_t k = 0; k < r->n_targets && is_new; k++)
            is_new = strcmp(r->targets[k].id, id) != 0;
        for (size_t j = 0; j < i && is_new; j++) {
            json_t *o = json_array_get(targets, j);
            is_new = json_object_get(o, "InputTransformer") != NULL ||
                     strcmp(json_string_value(json_object_get(o, "Id")), id) != 0;
        }
        n += is_new;
    }
    return n;
}

static void put_targets(api_call *c, sched_service *ss)
{
    const char *name = need(c, "Rule");
    if (name == NULL || !bus_ok(c, false))
        return;
    json_t *targets = json_object_get(c->json, "Targets");
    if (!json_is_array(targets) || json_array_size(targets) == 0) {
        fail(c, "ValidationException", "%s",
             "1 validation error detected: Value null at 'targets' failed to satisfy "
             "constraint: Member must not be null");
        return;
    }
    const sched_rule *r = sched_get(ss, name);
    if (r == NULL) {
        no_rule(c, name);
        return;
    }
    size_t i;
    json_t *t;
    /* Validation first: a bad entry refuses the call, as AWS does. */
    json_array_foreach(targets, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "Id"));
        const char *arn = json_string_value(json_object_get(t, "Arn"));
        if (!json_is_object(t) || id == NULL || arn == NULL) {
            fail(c, "ValidationException", "%s",
                 "1 validation error detected: Value null at 'targets.member.id' failed to "
                 "satisfy constraint: Member must not be null");
            return;
        }
        /* EventBridge's Target.Id: 1–64 of [.-_A-Za-z0-9] (the schedules' names rely on it) */
        size_t id_len = strlen(id), ok_len = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                                                        "NOPQRSTUVWXYZ0123456789.-_");
        if (id_len < 1 || id_len > 64 || ok_len != id_len) {
            fail(c, "ValidationException",
                 "1 validation error detected: Value '%s' at 'targets.%zu.member.id' failed to "
                 "satisfy constraint: Member must %s",
                 id, i + 1,
                 ok_len != id_len ? "satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
                                  : "have length less than or equal to 64");
            return;
        }
        int n_inputs = (json_object_get(t, "Input") != NULL) +
                       (json_object_get(t, "InputPath") != NULL) +
                       (json_object_get(t, "InputTransformer") != NULL);
        if (n_inputs > 1) {
            fail(c, "ValidationException",
                 "Only one of Input, InputPath, or InputTransformer must be provided for target "
                 "%s.",
                 id);
            return;
        }
        const char *input = json_string_value(json_object_get(t, "Input"));
        /* Target.Input: at most 8192 characters (EventBridge API Reference, Target) */
        if (input && utf8_chars(input) > TARGET_INPUT_MAX) {
            fail(c, "ValidationException",
                 "1 validation error detected: Value at 'targets.%zu.member.input' failed to "
                 "satisfy constraint: Member must have length less than or equal to %d",
                 i + 1, TARGET_INPUT_MAX);
            return;
        }
        if (input) {
            json_t *j = json_loads(input, JSON_DECODE_ANY, NULL);
            json_decref(j);
            if (j == NULL) {
                fail(c, "ValidationException", "Input for target %s is not valid JSON text.", id);
                return;
            }
        }
    }
    /* The rule's limit is checked before any target is put: a refused call changes nothing. */
    if (targets_after(r, targets) > SCHED_TARGETS_MAX) {
        fail(c, "LimitExceededException", "%s",
             "The requested resource exceeds the maximum number allowed.");
        return;
    }
    json_t *fails = json_array();
    json_array_foreach(targets, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "Id"));
        if (json_object_get(t, "InputTransformer") != NULL) {
            json_array_append_new(fails, failed(id, "ValidationException",
                                                "InputTransformer is not supported by Baton."));
            continue;
        }
        sched_target_config st = {
            .id = id,
            .arn = json_string_value(json_object_get(t, "Arn")),
            .role_arn = json_string_value(json_object_get(t, "RoleArn")),
            .input = json_string_value(json_object_get(t, "Input")),
            .input_path = json_string_value(json_object_get(t, "InputPath")),
        };
        int rc = sched_put_target(ss, name, &st);
        if (rc == BT_ELIMIT) {
            json_decref(fails);
            fail(c, "LimitExceededException", "%s",
                 "The requested resource exceeds the maximum number allowed.");
            return;
        }
    }
    api_reply_json(c, json_pack("{s:I, s:o}", "FailedEntryCount",
                                (json_int_t)json_array_size(fails), "FailedEntries", fails));
}

static void remove_targets(api_call *c, sched_service *ss)
{
    const char *name = need(c, "Rule");
    if (name == NULL || !bus_ok(c, false))
        return;
    json_t *ids = json_object_get(c->json, "Ids");
    if (!json_is_array(ids)) {
        fail(c, "ValidationException", "%s",
             "1 validation error detected: Value null at 'ids' failed to satisfy constraint: "
             "Member must not be null");
        return;
    }
    if (sched_get(ss, name) == NULL) {
        no_rule(c, name);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) if (json_is_string(v))
        sched_remove_target(ss, name, json_string_value(v));
    api_reply_json(c, json_pack("{s:i, s:[]}", "FailedEntryCount", 0, "FailedEntries"));
}

static void describe_rule(api_call *c, sched_service *ss)
{
    const char *name = need(c, "Name");
    if (name == NULL || !bus_ok(c, false))
        return;
    const sched_rule *r = sched_get(ss, name);
    if (r == NULL) {
        no_rule(c, name);
        return;
    }
    json_t *o = rule_json(r, true);
    json_object_set_new(o, "CreatedBy", json_string(server_account(c->srv)));
    api_reply_json(c, o);
}

/* Limit and NextToken (a position); false when answered. */
static bool paging(api_call *c, size_t *start, size_t *limit)
{
    *start = 0;
    *limit = LIST_LIMIT_MAX;
    json_t *l = json_object_get(c->json, "Limit");
    if (l && !json_is_null(l)) {
        if (!json_is_integer(l) || json_integer_value(l) < 1 ||
            json_integer_value(l) > LIST_LIMIT_MAX) {
            fail(c, "ValidationException", "%s",
                 "1 validation error detected: Value at 'limit' failed to satisfy constraint: "
                 "Member must have value between 1 and 100");
            return false;
        }
        *limit = (size_t)json_integer_value(l);
    }
    const char *tok = json_string_value(json_object_get(c->json, "NextToken"));
    if (tok) {
        char *end;
        unsigned long long v = strtoull(tok, &end, 10);
        if (*tok == '\0' || *end != '\0') {
            fail(c, "ValidationException", "%s", "The NextToken provided is invalid.");
            return false;
        }
        *start = (size_t)v;
    }
    return true;
}

static void list_rules(api_call *c, sched_service *ss)
{
    size_t start, limit;
    if (!bus_ok(c, false) || !paging(c, &start, &limit))
        return;
    const char *prefix = json_string_value(json_object_get(c->json, "NamePrefix"));
    size_t n;
    const sched_rule **all = sched_list(ss, prefix, -1, &n);
    json_t *rules = json_array();
    size_t i = start;
    for (; i < n && i - start < limit; i++)
        json_array_append_new(rules, rule_json(all[i], false));
    free(all);
    json_t *out = json_pack("{s:o}", "Rules", rules);
    if (i < n) {
        char tok[32];
        snprintf(tok, sizeof tok, "%zu", i);
        json_object_set_new(out, "NextToken", json_string(tok));
    }
    api_reply_json(c, out);
}

static void list_targets(api_call *c, sched_service *ss)
{
    const char *name = need(c, "Rule");
    size_t start, limit;
    if (name == NULL || !bus_ok(c, false) || !paging(c, &start, &limit))
        return;
    const sched_rule *r = sched_get(ss, name);
    if (r == NULL) {
        no_rule(c, name);
        return;
    }
    json_t *list = json_array();
    size_t i = start;
    for (; i < r->n_targets && i - start < limit; i++) {
        const sched_target *t = &r->targets[i];
        json_t *o = json_pack("{s:s, s:s}", "Id", t->id, "Arn", t->arn);
        if (t->role_arn)
            json_object_set_new(o, "RoleArn", json_string(t->role_arn));
        if (t->input)
            json_object_set_new(o, "Input", json_string(t->input));
        if (t->input_path)
            json_object_set_new(o, "InputPath", json_string(t->input_path));
        json_array_append_new(list, o);
    }
    json_t *out = json_pack("{s:o}", "Targets", list);
    if (i < r->n_targets) {
        char tok[32];
        snprintf(tok, sizeof tok, "%zu", i);
        json_object_set_new(out, "NextToken", json_string(tok));
    }
    api_reply_json(c, out);
}

static void set_state(api_call *c, sched_service *ss, bool enabled)
{
    const char *name = need(c, "Name");
    if (name == NULL || !bus_ok(c, false))
        return;
    if (sched_set_enabled(ss, name, enabled) != 0) {
        no_rule(c, name);
        return;
    }
    api_reply_json(c, json_object());
}

static void delete_rule(api_call *c, sched_service *ss)
{
    const char *name = need(c, "Name");
    if (name == NULL || !bus_ok(c, false))
        return;
    bool force = json_is_true(json_object_get(c->json, "Force"));
    if (sched_delete_rule(ss, name, force) == BT_ESTATE) {
        fail(c, "ValidationException", "%s", "Rule can't be deleted since it has targets.");
        return;
    }
    api_reply_json(c, json_object());
}

void api_events(api_call *c, sched_service *ss)
{
    static const struct {
        const char *name;
        void (*fn)(api_call *c, sched_service *ss);
    } ops[] = {
        {"PutRule", put_rule},
        {"PutTargets", put_targets},
        {"RemoveTargets", remove_targets},
        {"DescribeRule", describe_rule},
        {"ListRules", list_rules},
        {"ListTargetsByRule", list_targets},
        {"DeleteRule", delete_rule},
    };
    if (ss == NULL) {
        api_reply_json_error(c, 400, "UnknownOperationException", "Unknown operation %s", c->op);
        return;
    }
    if (strcmp(c->op, "EnableRule") == 0 || strcmp(c->op, "DisableRule") == 0) {
        set_state(c, ss, c->op[0] == 'E');
        return;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, c->op) == 0) {
            ops[i].fn(c, ss);
            return;
        }
    api_reply_json_error(c, 400, "UnknownOperationException", "Unknown operation %s", c->op);
}

void api_events_clock(api_call *c, sched_service *ss)
{
    if (ss == NULL || !sched_test_clock_enabled(ss)) {
        api_reply_json_error(c, 404, "UnknownOperationException", "No API at this path");
        return;
    }
    json_t *ms = json_object_get(c->json, "advance_ms");
    if (ms && (!json_is_integer(ms) || json_integer_value(ms) < 0)) {
        api_reply_json_error(c, 400, "ValidationException", "advance_ms is a whole number >= 0");
        return;
    }
    if (ms)
        sched_advance_clock(ss, json_integer_value(ms));
    json_t *out = sched_stats(ss);
    json_object_set_new(out, "now_ms", json_integer(sched_now_ms(ss)));
    api_reply_json(c, out);
}
