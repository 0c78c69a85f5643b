/*
 * apply_fn.c — the project's functions and triggers applied through fn.h and trigger.h,
 * with origin FN_ORIGIN_PROJECT: a reload replaces the file's declarations and removes those
 * it dropped, and leaves what the Lambda API created. A trigger's uuid is derived from its
 * queue and function (project_trigger_uuid), so the same line finds the same mapping.
 *
 * When the server runs without those services (tests of the project layer alone), declared
 * functions and triggers are checked but not applied, with a warning.
 */
#include "base/alloc.h"
#include "project/project_int.h"

#include <stdlib.h>
#include <string.h>

static bool unavailable(project_runtime *rt, size_t n, const char *what)
{
    const project_services *svc = project__services(rt);
    if (svc->fns != NULL && svc->triggers != NULL)
        return false;
    if (n > 0)
        server_log(svc->srv, SERVER_LOG_WARN, "project.apply",
                   "%zu %s declared but this server runs no function service: not applied", n,
                   what);
    return true;
}

void project__apply_functions(project_runtime *rt, const project *p)
{
    if (unavailable(rt, p->n_functions, "functions"))
        return;
    fn_service *fs = project__services(rt)->fns;
    for (size_t i = 0; i < p->n_functions; i++) {
        const prj_function *f = &p->functions[i];
        fn_config cfg = {
            .name = f->name,
            .runtime = f->runtime,
            .aws_runtime = f->aws_runtime,
            .code_dir = f->code_dir,
            .handler = f->handler,
            .command = (const char *const *)f->command,
            .url = f->url,
            .description = f->description,
            .role = f->role,
            .timeout_s = f->timeout_s,
            .memory_mb = f->memory_mb,
            .concurrency = f->concurrency,
            .environment = f->environment,
        };
        bt_err err = {0};
        if (fn_put(fs, &cfg, FN_ORIGIN_PROJECT, false, &err) != 0)
            project__failed(rt, "function", f->name, err.msg);
    }
}

void project__remove_functions(project_runtime *rt, const project *p)
{
    if (unavailable(rt, 0, "functions"))
        return;
    fn_service *fs = project__services(rt)->fns;
    size_t n = 0;
    const char **names = fn_names_of(fs, FN_ORIGIN_PROJECT, &n);
    char **gone = bt_xcalloc(n ? n : 1, sizeof *gone);
    size_t n_gone = 0;
    for (size_t i = 0; i < n; i++)
        if (project_function(p, names[i]) == NULL)
            gone[n_gone++] = bt_xstrdup(names[i]); /* names are borrowed until a change */
    free(names);
    for (size_t i = 0; i < n_gone; i++) {
        fn_delete(fs, gone[i]);
        server_log(project__services(rt)->srv, SERVER_LOG_INFO, "project.function",
                   "name=%s action=delete", gone[i]);
        free(gone[i]);
    }
    free(gone);
}

static char *queue_arn_of(project_runtime *rt, const char *queue)
{
    if (strncmp(queue, "arn:", 4) == 0)
        return bt_xstrdup(queue);
    const project_services *svc = project__services(rt);
    qm_queue *q = qm_find(queue_model(svc->queues), queue);
    if (q)
        return bt_xstrdup(qm_queue_arn(q));
    return bt_xasprintf("arn:aws:sqs:%s:%s:%s", server_region(svc->srv), server_account(svc->srv),
                        queue);
}

void project__apply_triggers(project_runtime *rt, const project *p)
{
    if (unavailable(rt, p->n_triggers, "triggers"))
        return;
    trigger_service *ts = project__services(rt)->triggers;
    for (size_t i = 0; i < p->n_triggers; i++) {
        const prj_trigger *t = &p->triggers[i];
        char uuid[37], used[37];
        project_trigger_uuid(t->queue, t->function, uuid);
        char *arn = queue_arn_of(rt, t->queue);
        trigger_config cfg = {
            .uuid = uuid,
            .queue_arn = arn,
            .function = t->function,
            .enabled = t->enabled,
            .batch_size = t->batch_size,
            .batching_window_s = t->batching_window_s,
            .report_item_failures = t->report_item_failures,
            .max_concurrency = t->max_concurrency,
        };
        bt_err err = {0};
        if (trigger_put(ts, &cfg, FN_ORIGIN_PROJECT, used, &err) != 0)
            project__failed(rt, "trigger", uuid, err.msg);
        free(arn);
    }
}

void project__remove_triggers(project_runtime *rt, const project *p)
{
    if (unavailable(rt, 0, "triggers"))
        return;
    trigger_service *ts = project__services(rt)->triggers;
    size_t n = 0;
    const trigger_info **all = trigger_list(ts, NULL, NULL, &n);
    char **gone = bt_xcalloc(n ? n : 1, sizeof *gone);
    size_t n_gone = 0;
    for (size_t i = 0; i < n; i++) {
        if (all[i]->origin != FN_ORIGIN_PROJECT)
            continue;
        bool kept = false;
        for (size_t j = 0; j < p->n_triggers && !kept; j++) {
            char uuid[37];
            project_trigger_uuid(p->triggers[j].queue, p->triggers[j].function, uuid);
            kept = strcmp(uuid, all[i]->uuid) == 0;
        }
        if (!kept)
            gone[n_gone++] = bt_xstrdup(all[i]->uuid);
    }
    free(all);
    for (size_t i = 0; i < n_gone; i++) {
        trigger_delete(ts, gone[i]);
        free(gone[i]);
    }
    free(gone);
}
