/*
 * activities.c — Step Functions activities: the registry (CreateActivity, DescribeActivity,
 * DeleteActivity, ListActivities), the workers' long poll (GetActivityTask) and the
 * integration that offers the work of a Task state whose Resource is an activity ARN.
 *
 * A task's life here: start() offers it (a row in activity_tasks, state OFFERED, and the end
 * of its activity's queue); a poller takes the oldest offer — the engine is told
 * (exec_task_started: ActivityStarted with the workerName, recorded for replay like every
 * call) and the row turns STARTED — and the answer leaves after that commit, so a worker
 * never holds a token that a crash could take back. From then on the token is the
 * execution's (execs.c mints it): SendTask* go the callback way. The row goes when the task
 * closes: an outcome (activities__task_closed), or a timeout or the execution's end (cancel).
 * After a restart, offered rows are offered again in their order; started ones stay with
 * their worker, whose token the replayed execution still knows.
 *
 * Pollers wait in arrival order per activity, 60 s each (AWS's long poll), on one timer armed
 * for the earliest deadline; a new offer kicks it, so hand-outs never happen inside an
 * engine call. Pollers still waiting when the server stops are answered empty.
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "base/json.h"
#include "server/execs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* AWS: a poll waits up to 60 s; at most 1,000 pollers per activity (ActivityWorkerLimitExceeded);
 * workerName is 1–80 characters (API reference, GetActivityTask). */
#define POLL_MS         60000
#define MAX_POLLERS     1000
#define MAX_WORKER_NAME 80

static const char SQL_INSERT_ACTIVITY[] =
    "INSERT INTO activities (id, arn, name, created_ms) VALUES (?,?,?,?)";
static const char SQL_DELETE_ACTIVITY[] = "DELETE FROM activities WHERE id = ?";
static const char SQL_DELETE_TAGS[] = "DELETE FROM tags WHERE arn = ?";
static const char SQL_LOAD_ACTIVITIES[] =
    "SELECT id, arn, name, created_ms FROM activities ORDER BY id";
static const char SQL_INSERT_TASK[] =
    "INSERT INTO activity_tasks (exec_id, task_id, activity_arn, token, input, state,"
    " scheduled_ms) VALUES (?,?,?,?,?,'OFFERED',?)";
static const char SQL_START_TASK[] =
    "UPDATE activity_tasks SET state = 'STARTED', worker = ?, started_ms = ?"
    " WHERE exec_id = ? AND task_id = ?";
static const char SQL_DELETE_TASK[] =
    "DELETE FROM activity_tasks WHERE exec_id = ? AND task_id = ?";
static const char SQL_LOAD_TASKS[] =
    "SELECT exec_id, task_id, activity_arn, token, input, state FROM activity_tasks"
    " ORDER BY scheduled_ms, exec_id, task_id";

typedef struct offer offer;
typedef struct poller poller;

/* An activity by ARN. It stays in memory once deleted (exists false): tasks offered to it
 * wait under its ARN, and are offered again if it is created anew. */
typedef struct activity {
    int64_t id;
    char *arn, *name;
    int64_t created_ms;
    bool exists;
    offer *first, *last; /* offered, oldest first */
    poller *p_first, *p_last;
    size_t n_pollers;
} activity;

/* One task of an execution, offered or started. */
struct offer {
    offer *prev, *next; /* in its activity's queue while offered */
    activity *act;
    char key[48]; /* "<exec id>:<task id>" */
    int64_t exec_id;
    uint64_t task_id;
    char *token, *input;
    bool is_started;
};

struct poller {
    poller *prev, *next;
    char *worker; /* NULL when the request named none */
    int64_t deadline_ms;
    sfn_sync_done done;
    void *ctx;
};

typedef struct activities {
    server *srv;
    bt_strmap by_arn; /* arn → activity */
    activity **list;  /* existing ones, by id (ListActivities) */
    size_t n_list, cap_list;
    bt_strmap offers; /* key → offer */
    int64_t next_id;
    uv_timer_t timer;
    bool is_stopping;
} activities;

/* ---- the registry ---- */

static activity *activity_get(activities *as, const char *arn)
{
    activity *a = bt_strmap_get(&as->by_arn, arn);
    if (a == NULL) {
        a = bt_xcalloc(1, sizeof *a);
        a->arn = bt_xstrdup(arn);
        bt_strmap_put(&as->by_arn, a->arn, a);
    }
    return a;
}

static void list_add(activities *as, activity *a)
{
    if (as->n_list == as->cap_list) {
        as->cap_list = as->cap_list ? as->cap_list * 2 : 16;
        as->list = bt_xrealloc(as->list, as->cap_list * sizeof(activity *));
    }
    as->list[as->n_list++] = a;
}

static void list_remove(activities *as, activity *a)
{
    for (size_t i = 0; i < as->n_list; i++)
        if (as->list[i] == a) {
            memmove(&as->list[i], &as->list[i + 1], (as->n_list - i - 1) * sizeof(activity *));
            as->n_list--;
            return;
        }
}

static activity *find_existing(activities *as, const char *arn)
{
    activity *a = arn ? bt_strmap_get(&as->by_arn, arn) : NULL;
    return a && a->exists ? a : NULL;
}

bool activities_exists(server *s, const char *arn)
{
    return s->activities && find_existing(s->activities, arn) != NULL;
}

/* ---- offers ---- */

static offer *offer_new(activities *as, activity *a, int64_t exec_id, uint64_t task_id,
                        const char *token, const char *input)
{
    offer *o = bt_xcalloc(1, sizeof *o);
    o->act = a;
    o->exec_id = exec_id;
    o->task_id = task_id;
    snprintf(o->key, sizeof o->key, "%lld:%llu", (long long)exec_id, (unsigned long long)task_id);
    o->token = bt_xstrdup(token);
    o->input = bt_xstrdup(input);
    bt_strmap_put(&as->offers, o->key, o);
    return o;
}

static void queue_append(activity *a, offer *o)
{
    o->prev = a->last;
    o->next = NULL;
    if (a->last)
        a->last->next = o;
    else
        a->first = o;
    a->last = o;
}

static void queue_unlink(activity *a, offer *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        a->first = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        a->last = o->prev;
    o->prev = o->next = NULL;
}

static void offer_free(offer *o)
{
    free(o->token);
    free(o->input);
    free(o);
}

/* The task left the activity: forgotten, its row deleted. */
static void offer_drop(activities *as, offer *o)
{
    if (!o->is_started)
        queue_unlink(o->act, o);
    bt_strmap_del(&as->offers, o->key);
    store_batch_add(server_batch(as->srv), SQL_DELETE_TASK, "ii", o->exec_id, (int64_t)o->task_id);
    offer_free(o);
}

static void drop_by_id(activities *as, int64_t exec_id, uint64_t task_id)
{
    char key[48];
    snprintf(key, sizeof key, "%lld:%llu", (long long)exec_id, (unsigned long long)task_id);
    offer *o = bt_strmap_get(&as->offers, key);
    if (o)
        offer_drop(as, o);
}

void activities__task_closed(server *s, int64_t exec_id, uint64_t task_id)
{
    if (s->activities)
        drop_by_id(s->activities, exec_id, task_id);
}

/* ---- pollers ---- */

static void poller_unlink(activity *a, poller *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        a->p_first = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        a->p_last = p->prev;
    a->n_pollers--;
}

/* Answers p (the response's reference passes on; NULL: the empty answer) and frees it. */
static void poller_answer(activity *a, poller *p, json_t *response)
{
    poller_unlink(a, p);
    p->done(p->ctx, response ? response : json_object(), NULL);
    free(p->worker);
    free(p);
}

static void on_timer(uv_timer_t *t);

static void kick(activities *as)
{
    uv_timer_start(&as->timer, on_timer, 0, 0);
}

/*
 * Hands o to p: the engine records ActivityStarted, the row turns STARTED, p gets the token
 * and input (sent after the commit). False when the task is gone — its execution ended or
 * it timed out as the engine caught up — and o was dropped.
 */
static bool hand_out(activities *as, offer *o, poller *p)
{
    server *s = as->srv;
    char idkey[24];
    snprintf(idkey, sizeof idkey, "%lld", (long long)o->exec_id);
    xrec *x = bt_strmap_get(&s->open_by_id, idkey);
    if (x == NULL || execs__load(s, x) != 0 || exec_get_status(x->e) != EXEC_RUNNING) {
        offer_drop(as, o);
        return false;
    }
    int64_t exec_id = o->exec_id;
    uint64_t task_id = o->task_id;
    json_t *worker = p->worker ? json_string(p->worker) : NULL;
    struct pending_outcome po = {.kind = PEND_STARTED, .task_id = task_id, .value = worker};
    int rc = execs__apply(s, x, &po, s->now_ms);
    json_decref(worker);
    /* Its effects (a timeout that fired while catching up cancels o) are taken here. */
    execs__drive(s, x);
    char key[48];
    snprintf(key, sizeof key, "%lld:%llu", (long long)exec_id, (unsigned long long)task_id);
    o = bt_strmap_get(&as->offers, key);
    if (rc != 0 || o == NULL) {
        if (o)
            offer_drop(as, o);
        return false;
    }
    queue_unlink(o->act, o);
    o->is_started = true;
    store_batch_add(server_batch(s), SQL_START_TASK, "tiii", p->worker, s->now_ms, exec_id,
                    (int64_t)task_id);
    server_log(s, SERVER_LOG_DEBUG, "activity.start", "arn=%s execution=%lld task=%llu",
               o->act->arn, (long long)exec_id, (unsigned long long)task_id);
    return true;
}

/* Offers a's tasks to its pollers, oldest to oldest. */
static void serve(activities *as, activity *a)
{
    while (a->p_first && a->first) {
        offer *o = a->first;
        poller *p = a->p_first;
        /* the answer is built before the hand-out can drop o */
        json_t *answer = json_pack("{s:s, s:s}", "taskToken", o->token, "input", o->input);
        if (hand_out(as, o, p))
            poller_answer(a, p, answer);
        else
            json_decref(answer);
    }
}

/* Serves every activity, answers pollers whose wait is over, and re-arms for the next. */
static void serve_all(activities *as)
{
    server *s = as->srv;
    int64_t next = INT64_MAX;
    size_t it = 0;
    const char *key;
    void *value;
    while (bt_strmap_next(&as->by_arn, &it, &key, &value)) {
        activity *a = value;
        serve(as, a);
        while (a->p_first && a->p_first->deadline_ms <= s->now_ms)
            poller_answer(a, a->p_first, NULL);
        if (a->p_first && a->p_first->deadline_ms < next)
            next = a->p_first->deadline_ms;
    }
    if (next == INT64_MAX)
        uv_timer_stop(&as->timer);
    else
        uv_timer_start(&as->timer, on_timer, (uint64_t)(next - s->now_ms), 0);
}

static void on_timer(uv_timer_t *t)
{
    activities *as = t->data;
    server__tick(as->srv);
    serve_all(as);
}

static void answer_all(activity *a)
{
    while (a->p_first)
        poller_answer(a, a->p_first, NULL);
}

static void on_stop(void *ctx)
{
    activities *as = ctx;
    as->is_stopping = true;
    size_t it = 0;
    const char *key;
    void *value;
    while (bt_strmap_next(&as->by_arn, &it, &key, &value))
        answer_all(value);
    uv_timer_stop(&as->timer);
}

int sfn_get_activity_task(server *s, json_t *req, sfn_sync_done done, void *ctx, sfn_err *err)
{
    activities *as = s->activities;
    const char *arn = sfn_str(req, "activityArn");
    bt_arn parsed;
    if (sfn_check_arn(arn, BT_ARN_ACTIVITY, &parsed, err) != 0)
        return -1;
    const char *worker = sfn_str(req, "workerName");
    if (worker && (worker[0] == '\0' || strlen(worker) > MAX_WORKER_NAME))
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value at 'workerName' failed to satisfy "
                        "constraint: Member must have length between 1 and %d",
                        MAX_WORKER_NAME);
    activity *a = find_existing(as, arn);
    if (a == NULL)
        return sfn_fail(err, "ActivityDoesNotExist", "Activity Does Not Exist: '%s'", arn);
    if (a->n_pollers >= MAX_POLLERS)
        return sfn_fail(err, "ActivityWorkerLimitExceeded",
                        "Activity Worker Limit Exceeded: %d GetActivityTask calls already wait "
                        "on '%s'",
                        MAX_POLLERS, arn);
    poller *p = bt_xcalloc(1, sizeof *p);
    p->worker = worker ? bt_xstrdup(worker) : NULL;
    p->deadline_ms = s->now_ms + POLL_MS;
    p->done = done;
    p->ctx = ctx;
    p->prev = a->p_last;
    if (a->p_last)
        a->p_last->next = p;
    else
        a->p_first = p;
    a->p_last = p;
    a->n_pollers++;
    /* req is the caller's until done: nothing reads it past this point. */
    if (as->is_stopping)
        answer_all(a);
    else
        serve_all(as);
    return 0;
}

/* ---- the integration ---- */

static bool integ_handles(void *self, const char *state_name, const char *resource)
{
    (void)self;
    (void)state_name;
    bt_arn a;
    const char *why;
    return resource && bt_arn_parse(resource, &a, &why) == 0 && a.kind == BT_ARN_ACTIVITY;
}

static int integ_start(void *self, const integ_task *t, const integ_sink *sink)
{
    activities *as = self;
    server *s = as->srv;
    xrec *x = bt_strmap_get(&s->open_by_arn, t->execution_arn);
    if (find_existing(as, t->resource) == NULL || x == NULL || t->token == NULL) {
        char *cause = bt_xasprintf("Activity Does Not Exist: '%s'", t->resource);
        sink->failed(sink->ud, t->id, "States.TaskFailed", cause);
        free(cause);
        return 0;
    }
    char *input = bt_json_dumps(t->parameters ? t->parameters : json_null());
    activity *a = activity_get(as, t->resource);
    offer *o = offer_new(as, a, x->id, t->id, t->token, input ? input : "null");
    free(input);
    queue_append(a, o);
    store_batch_add(server_batch(s), SQL_INSERT_TASK, "iittti", o->exec_id, (int64_t)o->task_id,
                    a->arn, o->token, o->input, s->now_ms);
    if (a->p_first)
        kick(as);
    return 0;
}

static void integ_cancel(void *self, const char *execution_arn, uint64_t task_id)
{
    activities *as = self;
    xrec *x = bt_strmap_get(&as->srv->open_by_arn, execution_arn);
    if (x)
        drop_by_id(as, x->id, task_id);
}

/* activities_fini frees what the integration uses. */
static void integ_destroy(void *self)
{
    (void)self;
}

static const integ_ops activity_integ_ops = {
    "activity", integ_handles, integ_start, integ_cancel, integ_destroy, true,
};

/* ---- operations ---- */

json_t *sfn_create_activity(server *s, json_t *req, sfn_err *err)
{
    activities *as = s->activities;
    const char *name = sfn_str(req, "name");
    json_t *tags = json_object_get(req, "tags");
    if (bt_name_problem(name)) {
        sfn_fail(err, "InvalidName", "Invalid Name: '%s'", name);
        return NULL;
    }
    if (sfn_check_tags(tags, err) != 0)
        return NULL;
    char *arn =
        bt_xasprintf("arn:aws:states:%s:%s:activity:%s", s->cfg.region, s->cfg.account, name);
    activity *a = activity_get(as, arn);
    free(arn);
    /* Idempotent by name; the tags of a repeat are ignored (API reference, CreateActivity). */
    if (!a->exists) {
        a->exists = true;
        a->id = as->next_id++;
        free(a->name);
        a->name = bt_xstrdup(name);
        a->created_ms = s->now_ms;
        list_add(as, a);
        store_batch_add(server_batch(s), SQL_INSERT_ACTIVITY, "itti", a->id, a->arn, a->name,
                        a->created_ms);
        if (tags)
            sfn_put_tags(s, a->arn, tags);
        server_log(s, SERVER_LOG_INFO, "activity.create", "arn=%s", a->arn);
        if (a->first)
            kick(as);
    }
    return json_pack("{s:s, s:f}", "activityArn", a->arn, "creationDate",
                     sfn_epoch_s(a->created_ms));
}

static activity *find_activity(activities *as, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "activityArn");
    bt_arn parsed;
    if (sfn_check_arn(arn, BT_ARN_ACTIVITY, &parsed, err) != 0)
        return NULL;
    activity *a = find_existing(as, arn);
    if (a == NULL)
        sfn_fail(err, "ActivityDoesNotExist", "Activity Does Not Exist: '%s'", arn);
    return a;
}

json_t *sfn_describe_activity(server *s, json_t *req, sfn_err *err)
{
    activity *a = find_activity(s->activities, req, err);
    if (a == NULL)
        return NULL;
    return json_pack("{s:s, s:s, s:f}", "activityArn", a->arn, "name", a->name, "creationDate",
                     sfn_epoch_s(a->created_ms));
}

/* Deleting an activity that does not exist changes nothing (AWS lists only InvalidArn). Its
 * pollers end empty; tasks offered to it wait for its ARN to come back or for their end. */
json_t *sfn_delete_activity(server *s, json_t *req, sfn_err *err)
{
    activities *as = s->activities;
    const char *arn = sfn_str(req, "activityArn");
    bt_arn parsed;
    if (sfn_check_arn(arn, BT_ARN_ACTIVITY, &parsed, err) != 0)
        return NULL;
    activity *a = find_existing(as, arn);
    if (a) {
        a->exists = false;
        list_remove(as, a);
        store_batch_add(server_batch(s), SQL_DELETE_ACTIVITY, "i", a->id);
        store_batch_add(server_batch(s), SQL_DELETE_TAGS, "t", a->arn);
        answer_all(a);
        server_log(s, SERVER_LOG_INFO, "activity.delete", "arn=%s", a->arn);
    }
    return json_object();
}

json_t *sfn_list_activities(server *s, json_t *req, sfn_err *err)
{
    activities *as = s->activities;
    int64_t pos;
    size_t max;
    if (sfn_page_args(req, "ListActivities", &pos, &max, err) != 0)
        return NULL;
    json_t *list = json_array();
    size_t i = 0;
    while (i < as->n_list && as->list[i]->id <= pos)
        i++;
    for (; i < as->n_list && json_array_size(list) < max; i++) {
        activity *a = as->list[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:f}", "activityArn", a->arn, "name",
                                              a->name, "creationDate", sfn_epoch_s(a->created_ms)));
    }
    json_t *out = json_pack("{s:o}", "activities", list);
    if (i < as->n_list) {
        char *t = sfn_page_token("ListActivities", as->list[i - 1]->id);
        json_object_set_new(out, "nextToken", json_string(t));
        free(t);
    }
    return out;
}

/* ---- life ---- */

static int load(activities *as, bt_err *err)
{
    store *st = server_store(as->srv);
    sqlite3_stmt *q = store_read_stmt(st, SQL_LOAD_ACTIVITIES);
    if (q == NULL)
        return bt_err_set(err, BT_EIO, "cannot read activities: %s",
                          sqlite3_errmsg(store_reader(st)));
    while (sqlite3_step(q) == SQLITE_ROW) {
        activity *a = activity_get(as, execs__col_text(q, 1));
        a->id = sqlite3_column_int64(q, 0);
        a->name = bt_xstrdup(execs__col_text(q, 2));
        a->created_ms = sqlite3_column_int64(q, 3);
        a->exists = true;
        list_add(as, a);
        if (a->id >= as->next_id)
            as->next_id = a->id + 1;
    }
    sqlite3_reset(q);
    q = store_read_stmt(st, SQL_LOAD_TASKS);
    if (q == NULL)
        return bt_err_set(err, BT_EIO, "cannot read activity tasks: %s",
                          sqlite3_errmsg(store_reader(st)));
    size_t n_offered = 0, n_started = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        activity *a = activity_get(as, execs__col_text(q, 2));
        offer *o =
            offer_new(as, a, sqlite3_column_int64(q, 0), (uint64_t)sqlite3_column_int64(q, 1),
                      execs__col_text(q, 3), execs__col_text(q, 4));
        o->is_started = strcmp(execs__col_text(q, 5), "STARTED") == 0;
        if (o->is_started) {
            n_started++;
        } else {
            queue_append(a, o);
            n_offered++;
        }
    }
    sqlite3_reset(q);
    if (n_offered + n_started)
        server_log(as->srv, SERVER_LOG_INFO, "recover", "activity_tasks_offered=%zu started=%zu",
                   n_offered, n_started);
    return 0;
}

int activities_init(server *s, bt_err *err)
{
    activities *as = bt_xcalloc(1, sizeof *as);
    as->srv = s;
    as->next_id = 1;
    bt_strmap_init(&as->by_arn);
    bt_strmap_init(&as->offers);
    uv_timer_init(server_loop(s), &as->timer);
    as->timer.data = as;
    s->activities = as;
    if (load(as, err) != 0)
        return err->code;
    server_on_stop(s, on_stop, as);
    integ in = {&activity_integ_ops, as};
    server_add_integ(s, in);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void activities_fini(server *s)
{
    activities *as = s->activities;
    if (as == NULL)
        return;
    size_t it = 0;
    const char *key;
    void *value;
    while (bt_strmap_next(&as->offers, &it, &key, &value))
        offer_free(value);
    it = 0;
    while (bt_strmap_next(&as->by_arn, &it, &key, &value)) {
        activity *a = value;
        for (poller *p = a->p_first, *next; p; p = next) {
            next = p->next;
            free(p->worker);
            free(p);
        }
        free(a->arn);
        free(a->name);
        free(a);
    }
    bt_strmap_fini(&as->offers);
    bt_strmap_fini(&as->by_arn);
    free(as->list);
    s->activities = NULL;
    /* The loop closes the timer's handle; the rest goes with it. */
    uv_close((uv_handle_t *)&as->timer, on_closed);
}
