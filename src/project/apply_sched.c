/*
 * apply_sched.c — the project's schedules applied through sched.h, with origin project: each
 * is a rule of its name with one target (id "project": the declared state machine, function,
 * queue or topic, and the input), its time zone, overlap and catch-up policies. Putting the same
 * declaration again changes nothing (the next fire is kept); a reload removes the project's rules
 * it no longer declares and leaves the rules the EventBridge API created.
 */
#include "base/alloc.h"
#include "project/project_int.h"

#include <stdlib.h>
#include <string.h>

#define PROJECT_TARGET_ID "project"

static bool unavailable(project_runtime *rt, size_t n)
{
    const project_services *svc = project__services(rt);
    if (svc->sched != NULL)
        return false;
    if (n > 0)
        server_log(svc->srv, SERVER_LOG_WARN, "project.apply",
                   "%zu schedules declared but this server runs no schedules: not applied", n);
    return true;
}

/* The target's ARN: as given, or the declared name's of its kind. */
static char *target_arn(const project_services *svc, const prj_schedule *s)
{
    if (strncmp(s->target, "arn:", 4) == 0)
        return bt_xstrdup(s->target);
    const char *region = server_region(svc->srv), *account = server_account(svc->srv);
    switch (s->target_kind) {
    case PRJ_TARGET_FUNCTION:
        return bt_xasprintf("arn:aws:lambda:%s:%s:function:%s", region, account, s->target);
    case PRJ_TARGET_QUEUE:
        return bt_xasprintf("arn:aws:sqs:%s:%s:%s", region, account, s->target);
    case PRJ_TARGET_TOPIC:
        return bt_xasprintf("arn:aws:sns:%s:%s:%s", region, account, s->target);
    default:
        return bt_xasprintf("arn:aws:states:%s:%s:stateMachine:%s", region, account, s->target);
    }
}

void project__apply_schedules(project_runtime *rt, const project *p)
{
    if (unavailable(rt, p->n_schedules))
        return;
    const project_services *svc = project__services(rt);
    for (size_t i = 0; i < p->n_schedules; i++) {
        const prj_schedule *s = &p->schedules[i];
        sched_rule_config cfg = {
            .name = s->name,
            .expression = s->expression,
            .enabled = s->enabled,
            .description = "declared by the project file",
            .timezone = s->timezone,
            .allow_at = true,
            .skip_overlap = s->skip_overlap,
            .catch_up = s->catch_up,
            .fire_at_start = s->fire_at_start,
        };
        bt_err err = {0};
        if (sched_put_rule(svc->sched, &cfg, SCHED_ORIGIN_PROJECT, &err) != 0) {
            project__failed(rt, "schedule", s->name, err.msg);
            continue;
        }
        char *arn = target_arn(svc, s);
        char *input = s->input ? json_dumps(s->input, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        sched_target_config t = {.id = PROJECT_TARGET_ID, .arn = arn, .input = input};
        if (sched_put_target(svc->sched, s->name, &t) != 0)
            project__failed(rt, "schedule", s->name, "its target could not be set");
        /* the file's schedule has one target: any other the API added stays */
        free(input);
        free(arn);
    }
}

void project__remove_schedules(project_runtime *rt, const project *p)
{
    if (unavailable(rt, 0))
        return;
    const project_services *svc = project__services(rt);
    size_t n = 0;
    const sched_rule **mine = sched_list(svc->sched, NULL, SCHED_ORIGIN_PROJECT, &n);
    char **gone = bt_xcalloc(n ? n : 1, sizeof *gone);
    size_t n_gone = 0;
    for (size_t i = 0; i < n; i++) {
        bool kept = false;
        for (size_t j = 0; j < p->n_schedules && !kept; j++)
            kept = strcmp(p->schedules[j].name, mine[i]->name) == 0;
        if (!kept)
            gone[n_gone++] = bt_xstrdup(mine[i]->name);
    }
    free(mine);
    for (size_t i = 0; i < n_gone; i++) {
        sched_delete_rule(svc->sched, gone[i], true);
        server_log(svc->srv, SERVER_LOG_INFO, "project.schedule", "name=%s action=delete", gone[i]);
        free(gone[i]);
    }
    free(gone);
}
