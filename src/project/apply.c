/*
 * apply.c — a checked project applied to the running server, on the engine thread, through
 * the same operations the APIs use (sfn_* with JSON requests, the queue model, fn_put,
 * trigger_put), so every rule and every write is theirs. Idempotent: applying the same file
 * twice changes nothing the second time. What the file declared is remembered in
 * project_owned (its own migration); a reload removes what the file declared before and no
 * longer does, and never what the API created. SIGHUP re-reads the file (project_reload).
 *
 * Order: queues (then their dead-letter policies, once every queue exists), functions, state
 * machines, triggers, topics (apply_topic.c), routes (apply_route.c: the table replaced
 * whole, nothing stored); removals the other way round.
 */
#include "base/alloc.h"
#include "project/project_int.h"
#include "server/sfn.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

const char project_schema_v1[] =
    "CREATE TABLE project_owned ("
    " kind TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (kind, name)) WITHOUT ROWID";

static const char SQL_OWNED_LIST[] = "SELECT kind, name FROM project_owned";
static const char SQL_OWNED_ADD[] =
    "INSERT OR IGNORE INTO project_owned (kind, name) VALUES (?, ?)";
static const char SQL_OWNED_DEL[] = "DELETE FROM project_owned WHERE kind = ? AND name = ?";

typedef struct owned {
    char *kind, *name;
} owned;

struct project_runtime {
    project_services svc;
    char *path;
    project *current;
    owned *owned;
    size_t n_owned, cap_owned;
    uv_signal_t sighup;
    bool is_watching;
    int failures; /* of the apply in progress */
};

/* ---- what the file declared ---- */

static bool is_owned(const project_runtime *rt, const char *kind, const char *name)
{
    for (size_t i = 0; i < rt->n_owned; i++)
        if (strcmp(rt->owned[i].kind, kind) == 0 && strcmp(rt->owned[i].name, name) == 0)
            return true;
    return false;
}

static void own_add_memory(project_runtime *rt, const char *kind, const char *name)
{
    if (rt->n_owned == rt->cap_owned) {
        rt->cap_owned = rt->cap_owned ? rt->cap_owned * 2 : 16;
        rt->owned = bt_xrealloc(rt->owned, rt->cap_owned * sizeof *rt->owned);
    }
    rt->owned[rt->n_owned].kind = bt_xstrdup(kind);
    rt->owned[rt->n_owned].name = bt_xstrdup(name);
    rt->n_owned++;
}

static void own(project_runtime *rt, const char *kind, const char *name)
{
    if (is_owned(rt, kind, name))
        return;
    own_add_memory(rt, kind, name);
    store_batch_add(server_batch(rt->svc.srv), SQL_OWNED_ADD, "tt", kind, name);
}

static void disown(project_runtime *rt, size_t i)
{
    store_batch_add(server_batch(rt->svc.srv), SQL_OWNED_DEL, "tt", rt->owned[i].kind,
                    rt->owned[i].name);
    free(rt->owned[i].kind);
    free(rt->owned[i].name);
    rt->owned[i] = rt->owned[--rt->n_owned];
}

project_runtime *project_runtime_new(const project_services *svc, const char *path, bt_err *err)
{
    project_runtime *rt = bt_xcalloc(1, sizeof *rt);
    rt->svc = *svc;
    rt->path = bt_xstrdup(path);
    sqlite3_stmt *st = store_read_stmt(server_store(svc->srv), SQL_OWNED_LIST);
    if (st == NULL) {
        bt_err_set(err, BT_EIO, "cannot read project_owned: %s",
                   sqlite3_errmsg(store_reader(server_store(svc->srv))));
        free(rt->path);
        free(rt);
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        own_add_memory(rt, (const char *)sqlite3_column_text(st, 0),
                       (const char *)sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    return rt;
}

static void fail(project_runtime *rt, const char *kind, const char *name, const char *why)
{
    rt->failures++;
    server_log(rt->svc.srv, SERVER_LOG_ERROR, "project.apply", "%s=%s error=\"%s\"", kind, name,
               why);
}

/* ---- queues ---- */

typedef struct attrs {
    char names[8][40];
    char values[8][600];
    size_t n;
} attrs;

static void attr(attrs *a, const char *name, long long v)
{
    snprintf(a->names[a->n], sizeof a->names[0], "%s", name);
    snprintf(a->values[a->n], sizeof a->values[0], "%lld", v);
    a->n++;
}

static void put_current(void *ud, const char *name, const char *value)
{
    json_object_set_new(ud, name, json_string(value));
}

/* The settable attributes the file means, AWS's default for what it leaves out (so that
 * removing a line from the file puts the default back). */
static void desired(const project_runtime *rt, const prj_queue *q, attrs *a)
{
    a->n = 0;
    attr(a, "VisibilityTimeout",
         (long long)(q->visibility_timeout_s >= 0 ? q->visibility_timeout_s : 30));
    attr(a, "MessageRetentionPeriod", (long long)(q->retention_s >= 0 ? q->retention_s : 345600));
    attr(a, "DelaySeconds", (long long)(q->delay_s >= 0 ? q->delay_s : 0));
    attr(a, "MaximumMessageSize",
         (long long)(q->max_message_size >= 0 ? q->max_message_size : QM_MAX_MESSAGE_SIZE));
    attr(a, "ReceiveMessageWaitTimeSeconds",
         (long long)(q->receive_wait_s >= 0 ? q->receive_wait_s : 0));
    if (q->fifo) {
        snprintf(a->names[a->n], sizeof a->names[0], "ContentBasedDeduplication");
        snprintf(a->values[a->n], sizeof a->values[0], "%s",
                 q->content_based_dedup ? "true" : "false");
        a->n++;
    }
    const char *dlq_arn = NULL;
    if (q->dlq && strncmp(q->dlq, "arn:", 4) == 0) {
        dlq_arn = q->dlq;
    } else if (q->dlq) {
        qm_queue *d = qm_find(queue_model(rt->svc.queues), q->dlq);
        dlq_arn = d ? qm_queue_arn(d) : NULL;
    }
    snprintf(a->names[a->n], sizeof a->names[0], "RedrivePolicy");
    if (dlq_arn)
        snprintf(a->values[a->n], sizeof a->values[0],
                 "{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%d}", dlq_arn,
                 q->max_receive_count);
    else
        a->values[a->n][0] = '\0';
    a->n++;
}

static void apply_queue_attributes(project_runtime *rt, const prj_queue *pq)
{
    qmodel *m = queue_model(rt->svc.queues);
    qm_queue *q = qm_find(m, pq->name);
    if (q == NULL)
        return;
    attrs a;
    desired(rt, pq, &a);
    json_t *cur = json_object();
    const char *all[] = {"All"};
    qm_err err;
    qm_get_attributes(m, q, all, 1, server_now_ms(rt->svc.srv), put_current, cur, &err);
    qm_kv change[8];
    size_t n = 0;
    for (size_t i = 0; i < a.n; i++) {
        const char *now = json_string_value(json_object_get(cur, a.names[i]));
        bool same = now ? strcmp(now, a.values[i]) == 0 : a.values[i][0] == '\0';
        if (!same && strcmp(a.names[i], "RedrivePolicy") == 0 && now && a.values[i][0]) {
            /* Compare policies as JSON: AWS renders them back in its own way. */
            json_t *x = json_loads(now, 0, NULL), *y = json_loads(a.values[i], 0, NULL);
            json_t *xc = json_object_get(x, "maxReceiveCount");
            long long xn =
                json_is_string(xc) ? atoll(json_string_value(xc)) : json_integer_value(xc);
            same = x && y &&
                   json_equal(json_object_get(x, "deadLetterTargetArn"),
                              json_object_get(y, "deadLetterTargetArn")) &&
                   xn == json_integer_value(json_object_get(y, "maxReceiveCount"));
            json_decref(x);
            json_decref(y);
        }
        if (!same)
            change[n++] = (qm_kv){a.names[i], a.values[i]};
    }
    json_decref(cur);
    if (n == 0)
        return;
    if (qm_set_attributes(m, q, change, n, server_now_ms(rt->svc.srv), &err) < 0)
        fail(rt, "queue", pq->name, err.msg);
    else
        server_log(rt->svc.srv, SERVER_LOG_INFO, "project.queue",
                   "name=%s action=update attributes=%zu", pq->name, n);
}

static void apply_queues(project_runtime *rt, const project *p)
{
    qmodel *m = queue_model(rt->svc.queues);
    for (size_t i = 0; i < p->n_queues; i++) {
        const prj_queue *pq = &p->queues[i];
        if (qm_find(m, pq->name) == NULL) {
            qm_kv kv[2];
            size_t n = 0;
            if (pq->fifo)
                kv[n++] = (qm_kv){"FifoQueue", "true"};
            qm_queue *q;
            bool created;
            qm_err err;
            if (qm_create_queue(m, pq->name, kv, n, NULL, 0, server_now_ms(rt->svc.srv), &q,
                                &created, &err) < 0) {
                fail(rt, "queue", pq->name, err.msg);
                continue;
            }
            server_log(rt->svc.srv, SERVER_LOG_INFO, "project.queue", "name=%s action=create",
                       pq->name);
        }
        own(rt, "queue", pq->name);
    }
    /* Attributes once every queue exists: a dead-letter queue may come later in the file. */
    for (size_t i = 0; i < p->n_queues; i++)
        apply_queue_attributes(rt, &p->queues[i]);
}

static void remove_queues(project_runtime *rt, const project *p)
{
    qmodel *m = queue_model(rt->svc.queues);
    for (size_t i = rt->n_owned; i-- > 0;) {
        if (strcmp(rt->owned[i].kind, "queue") != 0 || project_queue(p, rt->owned[i].name))
            continue;
        qm_queue *q = qm_find(m, rt->owned[i].name);
        qm_err err;
        if (q && qm_delete_queue(m, q, server_now_ms(rt->svc.srv), &err) < 0) {
            fail(rt, "queue", rt->owned[i].name, err.msg);
            continue;
        }
        server_log(rt->svc.srv, SERVER_LOG_INFO, "project.queue", "name=%s action=delete",
                   rt->owned[i].name);
        disown(rt, i);
    }
}

/* ---- state machines ---- */

static char *machine_arn(const project_runtime *rt, const char *name)
{
    return bt_xasprintf("arn:aws:states:%s:%s:stateMachine:%s", server_region(rt->svc.srv),
                        server_account(rt->svc.srv), name);
}

static json_t *tags_json(const prj_machine *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_tags; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s}", "key", m->tags[i].key, "value", m->tags[i].value));
    return a;
}

static json_t *create_request(const project_runtime *rt, const prj_machine *m, const char *role)
{
    json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "name", m->name, "definition", m->definition,
                            "roleArn", role, "type", m->type);
    (void)rt;
    if (m->logging)
        json_object_set(req, "loggingConfiguration", m->logging);
    if (m->tracing)
        json_object_set(req, "tracingConfiguration", m->tracing);
    if (m->n_tags)
        json_object_set_new(req, "tags", tags_json(m));
    return req;
}

/* Tags the file gives that the machine lacks or has with another value. */
static void apply_tags(project_runtime *rt, const prj_machine *m, const char *arn)
{
    if (m->n_tags == 0)
        return;
    sfn_err err = {0};
    json_t *req = json_pack("{s:s}", "resourceArn", arn);
    json_t *cur = sfn_list_tags(rt->svc.srv, req, &err);
    bool same = cur != NULL;
    for (size_t i = 0; i < m->n_tags && same; i++) {
        bool found = false;
        size_t j;
        json_t *t;
        json_array_foreach(json_object_get(cur, "tags"), j, t)
        {
            found = found ||
                    (strcmp(json_string_value(json_object_get(t, "key")), m->tags[i].key) == 0 &&
                     strcmp(json_string_value(json_object_get(t, "value")), m->tags[i].value) == 0);
        }
        same = found;
    }
    json_decref(cur);
    if (!same) {
        json_object_set_new(req, "tags", tags_json(m));
        json_t *out = sfn_tag_resource(rt->svc.srv, req, &err);
        if (out == NULL)
            fail(rt, "machine", m->name, err.message);
        json_decref(out);
    }
    json_decref(req);
}

static void apply_machine(project_runtime *rt, const prj_machine *m)
{
    server *srv = rt->svc.srv;
    char *arn = machine_arn(rt, m->name);
    char *default_role = bt_xasprintf("arn:aws:iam::%s:role/baton", server_account(srv));
    const char *role = m->role ? m->role : default_role;
    sfn_err err = {0};
    json_t *req = json_pack("{s:s}", "stateMachineArn", arn);
    json_t *cur = sfn_describe_state_machine(srv, req, &err);
    if (cur && strcmp(json_string_value(json_object_get(cur, "type")), m->type) != 0) {
        /* A machine's type cannot be updated (as on AWS): it is made again. */
        json_t *out = sfn_delete_state_machine(srv, req, &err);
        json_decref(out);
        json_decref(cur);
        cur = NULL;
        server_log(srv, SERVER_LOG_INFO, "project.machine", "name=%s action=delete reason=type",
                   m->name);
    }
    if (cur == NULL) {
        json_t *creq = create_request(rt, m, role);
        json_t *out = sfn_create_state_machine(srv, creq, &err);
        json_decref(creq);
        if (out == NULL) {
            fail(rt, "machine", m->name, err.message);
            goto out;
        }
        json_decref(out);
        server_log(srv, SERVER_LOG_INFO, "project.machine", "name=%s action=create", m->name);
    } else {
        json_t *ureq = json_pack("{s:s}", "stateMachineArn", arn);
        if (strcmp(json_string_value(json_object_get(cur, "definition")), m->definition) != 0)
            json_object_set_new(ureq, "definition", json_string(m->definition));
        if (strcmp(json_string_value(json_object_get(cur, "roleArn")), role) != 0)
            json_object_set_new(ureq, "roleArn", json_string(role));
        if (m->logging && !json_equal(json_object_get(cur, "loggingConfiguration"), m->logging))
            json_object_set(ureq, "loggingConfiguration", m->logging);
        if (m->tracing && !json_equal(json_object_get(cur, "tracingConfiguration"), m->tracing))
            json_object_set(ureq, "tracingConfiguration", m->tracing);
        if (json_object_size(ureq) > 1) {
            json_t *out = sfn_update_state_machine(srv, ureq, &err);
            if (out == NULL)
                fail(rt, "machine", m->name, err.message);
            else
                server_log(srv, SERVER_LOG_INFO, "project.machine", "name=%s action=update",
                           m->name);
            json_decref(out);
        }
        json_decref(ureq);
        apply_tags(rt, m, arn);
    }
    own(rt, "machine", m->name);
out:
    json_decref(cur);
    json_decref(req);
    free(default_role);
    free(arn);
}

static void remove_machines(project_runtime *rt, const project *p)
{
    for (size_t i = rt->n_owned; i-- > 0;) {
        if (strcmp(rt->owned[i].kind, "machine") != 0 || project_machine(p, rt->owned[i].name))
            continue;
        char *arn = machine_arn(rt, rt->owned[i].name);
        json_t *req = json_pack("{s:s}", "stateMachineArn", arn);
        sfn_err err = {0};
        json_t *out = sfn_delete_state_machine(rt->svc.srv, req, &err);
        if (out == NULL) {
            fail(rt, "machine", rt->owned[i].name, err.message);
        } else {
            server_log(rt->svc.srv, SERVER_LOG_INFO, "project.machine", "name=%s action=delete",
                       rt->owned[i].name);
            disown(rt, i);
        }
        json_decref(out);
        json_decref(req);
        free(arn);
    }
}

/* ---- functions and triggers (apply_fn.c) ---- */

const project_services *project__services(const project_runtime *rt)
{
    return &rt->svc;
}

void project__failed(project_runtime *rt, const char *kind, const char *name, const char *why)
{
    fail(rt, kind, name, why);
}

/* ---- the whole ---- */

int project_apply(project_runtime *rt, project *p)
{
    server *srv = rt->svc.srv;
    server_tick(srv);
    rt->failures = 0;
    apply_queues(rt, p);
    project__apply_functions(rt, p);
    for (size_t i = 0; i < p->n_machines; i++)
        apply_machine(rt, &p->machines[i]);
    project__apply_triggers(rt, p);
    project__apply_schedules(rt, p);
    project__remove_schedules(rt, p);
    project__apply_topics(rt, p);
    project__remove_topics(rt, p);
    project__apply_routes(rt, p);
    project__remove_triggers(rt, p);
    remove_machines(rt, p);
    project__remove_functions(rt, p);
    remove_queues(rt, p);
    if (rt->svc.applied)
        rt->svc.applied(rt->svc.applied_ctx, p);
    char *summary = project_summary(p);
    server_log(srv, rt->failures ? SERVER_LOG_WARN : SERVER_LOG_INFO, "project.applied",
               "file=%s declared=\"%s\" failures=%d", rt->path, summary, rt->failures);
    free(summary);
    project_free(rt->current);
    rt->current = p;
    return rt->failures;
}

const project *project_current(const project_runtime *rt)
{
    return rt->current;
}

int project_reload(project_runtime *rt)
{
    prj_problems problems;
    prj_problems_init(&problems, rt->path);
    project *p = NULL;
    int rc = project_load(rt->path, &p, &problems);
    if (rc != 0) {
        for (size_t i = 0; i < problems.len; i++)
            server_log(rt->svc.srv, SERVER_LOG_ERROR, "project.reload", "problem=\"%s:%d:%d: %s\"",
                       rt->path, problems.items[i].at.line, problems.items[i].at.col,
                       problems.items[i].msg);
        server_log(rt->svc.srv, SERVER_LOG_WARN, "project.reload",
                   "file=%s action=kept problems=%zu", rt->path, problems.len);
        prj_problems_fini(&problems);
        return rc;
    }
    prj_problems_fini(&problems);
    project_apply(rt, p);
    return 0;
}

static void on_sighup(uv_signal_t *sig, int signum)
{
    (void)signum;
    project_runtime *rt = sig->data;
    server_log(rt->svc.srv, SERVER_LOG_INFO, "signal", "signal=SIGHUP action=reload file=%s",
               rt->path);
    project_reload(rt);
}

void project_runtime_watch(project_runtime *rt)
{
    if (rt->is_watching)
        return;
    uv_signal_init(server_loop(rt->svc.srv), &rt->sighup);
    rt->sighup.data = rt;
    uv_signal_start(&rt->sighup, on_sighup, SIGHUP);
    rt->is_watching = true;
}

static void release(project_runtime *rt)
{
    for (size_t i = 0; i < rt->n_owned; i++) {
        free(rt->owned[i].kind);
        free(rt->owned[i].name);
    }
    free(rt->owned);
    project_free(rt->current);
    free(rt->path);
    free(rt);
}

static void on_closed(uv_handle_t *h)
{
    release(h->data);
}

void project_runtime_free(project_runtime *rt)
{
    if (rt == NULL)
        return;
    if (rt->is_watching)
        uv_close((uv_handle_t *)&rt->sighup, on_closed);
    else
        release(rt);
}
