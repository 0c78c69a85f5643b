/*
 * service.c — approval requests as durable rows, the Task integration and expiry.
 *
 *   start --rows + mails--> [commit] --> pending --N approvals--> succeeded
 *                                          |  `--rejection-----> Approval.Rejected
 *                                          |  `--expiry--------> Approval.Expired
 *                                          `--cancel (timeout, stop)--> cancelled
 *
 * Only pending requests are held in memory; at start those a previous run left are loaded
 * again while their tasks are open (a kill -9 between the mail and the click loses nothing),
 * and marked cancelled otherwise.
 */
#include "approval/approval_int.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/file.h"
#include "base/json.h"
#include "base/rand.h"
#include "base/timefmt.h"
#include "server/sfn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char approval_schema_v1[] =
    "CREATE TABLE approval_request (\n"
    "  execution_arn TEXT NOT NULL, task_id INTEGER NOT NULL, state_name TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL, message TEXT, data TEXT, required INTEGER NOT NULL,\n"
    "  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL, decided_ms INTEGER,\n"
    "  PRIMARY KEY (execution_arn, task_id));\n"
    "CREATE TABLE approval_link (\n"
    "  id TEXT PRIMARY KEY, execution_arn TEXT NOT NULL, task_id INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL, approver TEXT NOT NULL, nonce TEXT NOT NULL,\n"
    "  decision TEXT, comment TEXT, decided_ms INTEGER, ord INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE INDEX approval_link_task ON approval_link (execution_arn, task_id);\n"
    "CREATE TABLE approval_audit (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,\n"
    "  execution_arn TEXT NOT NULL, task_id INTEGER NOT NULL, state_name TEXT,\n"
    "  approver TEXT NOT NULL, decision TEXT NOT NULL, comment TEXT, ip TEXT,\n"
    "  user_agent TEXT, outcome TEXT NOT NULL);\n";

const char approval_schema_v2[] =
    "ALTER TABLE approval_request ADD COLUMN state_timeout INTEGER NOT NULL DEFAULT 0;\n";

static const char sql_req_add[] =
    "INSERT OR REPLACE INTO approval_request (execution_arn, task_id, state_name, subject, "
    "message, data, required, created_ms, expires_ms, status, state_timeout) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)";
static const char sql_link_add[] =
    "INSERT INTO approval_link (id, execution_arn, task_id, seq, approver, nonce) "
    "VALUES (?, ?, ?, ?, ?, ?)";
const char approval__sql_req_status[] =
    "UPDATE approval_request SET status = ?, decided_ms = ? WHERE execution_arn = ? AND "
    "task_id = ?";
const char approval__sql_link_vote[] =
    "UPDATE approval_link SET decision = ?, comment = ?, decided_ms = ?, ord = ? WHERE id = ?";
static const char sql_pending[] =
    "SELECT execution_arn, task_id, state_name, subject, message, data, required, created_ms, "
    "expires_ms, state_timeout FROM approval_request WHERE status = 'pending'";
static const char sql_links_of[] =
    "SELECT id, approver, nonce, decision, comment, decided_ms, ord FROM approval_link "
    "WHERE execution_arn = ? AND task_id = ? ORDER BY seq";

/* ---- memory ---- */

static char *dup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

void approval__req_free(approval__req *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_links; i++) {
        free(r->links[i].who);
        free(r->links[i].comment);
    }
    free(r->links);
    free(r->execution_arn);
    free(r->state_name);
    free(r->subject);
    free(r->message);
    json_decref(r->data);
    free(r);
}

static void link_in(approval_service *as, approval__req *r)
{
    r->prev = as->last;
    r->next = NULL;
    if (as->last)
        as->last->next = r;
    else
        as->first = r;
    as->last = r;
}

void approval__unlink(approval_service *as, approval__req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        as->first = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        as->last = r->prev;
    r->prev = r->next = NULL;
}

/* Compares without an early exit: a link id is a secret. */
static bool same_id(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (strlen(a) != n)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

approval__req *approval__find(approval_service *as, const char *id, approval__link **link)
{
    for (approval__req *r = as->first; r; r = r->next)
        for (size_t i = 0; i < r->n_links; i++)
            if (same_id(r->links[i].id, id)) {
                *link = &r->links[i];
                return r;
            }
    return NULL;
}

static approval__req *find_task(approval_service *as, const char *arn, uint64_t task_id)
{
    for (approval__req *r = as->first; r; r = r->next)
        if (r->task_id == task_id && strcmp(r->execution_arn, arn) == 0)
            return r;
    return NULL;
}

json_t *approval__approvers(const approval__req *r, bool with_decision, bool approved_only)
{
    json_t *a = json_array();
    for (int ord = 1; ord <= r->n_decided; ord++)
        for (size_t i = 0; i < r->n_links; i++) {
            const approval__link *l = &r->links[i];
            if (l->order != ord || (approved_only && l->vote != VOTE_APPROVE))
                continue;
            char at[40];
            bt_time_format(l->decided_ms, at, sizeof at);
            json_t *o = json_pack("{s:s,s:s}", "who", l->who, "decidedAt", at);
            json_object_set_new(o, "comment", l->comment ? json_string(l->comment) : json_null());
            if (with_decision)
                json_object_set_new(o, "decision",
                                    json_string(l->vote == VOTE_APPROVE ? "approved" : "rejected"));
            json_array_append_new(a, o);
        }
    return a;
}

/* ---- expiry ---- */

static void expire(approval_service *as, approval__req *r, int64_t now)
{
    store_batch_add(server_batch(as->srv), approval__sql_req_status, "titi", "expired", now,
                    r->execution_arn, (int64_t)r->task_id);
    char at[40];
    bt_time_format(r->expires_ms, at, sizeof at);
    size_t n_ok = 0;
    for (size_t i = 0; i < r->n_links; i++)
        n_ok += r->links[i].vote == VOTE_APPROVE;
    char *cause =
        bt_xasprintf("No decision by %s: %zu of %" PRId64 " approvals", at, n_ok, r->required);
    server_report rep = {.kind = SERVER_REPORT_FAILED, .error = "Approval.Expired", .cause = cause};
    approval__unlink(as, r);
    server_log(as->srv, SERVER_LOG_INFO, "approval.expired", "execution=%s task=%" PRIu64,
               r->execution_arn, r->task_id);
    server_task_report(as->srv, r->execution_arn, r->task_id, &rep);
    free(cause);
    approval__req_free(r);
}

static void on_timer(uv_timer_t *t)
{
    approval_service *as = t->data;
    int64_t now = server_tick(as->srv);
    for (approval__req *r = as->first, *next; r; r = next) {
        next = r->next;
        if (r->expires_ms <= now && !r->state_timeout)
            expire(as, r, now);
    }
}

/* ---- the integration ---- */

static bool handles(void *self, const char *state_name, const char *resource)
{
    (void)self;
    (void)state_name;
    return resource && strcmp(resource, APPROVAL_RESOURCE) == 0;
}

static const char *base_url(const approval_service *as)
{
    return as->public_url ? as->public_url : server_endpoint(as->srv);
}

/* Checks Parameters: NULL, or why not (heap). */
static char *check_params(const json_t *p, int64_t *required, int64_t *expires_s)
{
    if (!json_is_object(p))
        return bt_xstrdup("Parameters must be an object with Approvers");
    const json_t *list = json_object_get(p, "Approvers");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0)
        return bt_xstrdup("Approvers must be a non-empty list of email addresses");
    if (n > APPROVAL_MAX_APPROVERS)
        return bt_xasprintf("Approvers has %zu addresses (at most %d)", n, APPROVAL_MAX_APPROVERS);
    for (size_t i = 0; i < n; i++) {
        const char *a = json_string_value(json_array_get(list, i));
        if (!approval_address_ok(a))
            return bt_xasprintf("Approvers[%zu] is not an email address", i);
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(a, json_string_value(json_array_get(list, k))) == 0)
                return bt_xasprintf("Approvers[%zu] repeats %s", i, a);
    }
    const json_t *req = json_object_get(p, "Required");
    *required = 1;
    if (req && (!json_is_integer(req) || json_integer_value(req) < 1 ||
                json_integer_value(req) > (json_int_t)n))
        return bt_xasprintf("Required must be an integer from 1 to %zu (the approvers)", n);
    if (req)
        *required = json_integer_value(req);
    const json_t *ex = json_object_get(p, "ExpiresSeconds");
    *expires_s = APPROVAL_DEFAULT_EXPIRES;
    if (ex &&
        (!json_is_integer(ex) || json_integer_value(ex) < 1 || json_integer_value(ex) > 31536000))
        return bt_xstrdup("ExpiresSeconds must be an integer from 1 to 31536000 (a year)");
    if (ex)
        *expires_s = json_integer_value(ex);
    const json_t *s = json_object_get(p, "Subject");
    if (s && (!json_is_string(s) || approval_text_chars(json_string_value(s)) > 200 ||
              strpbrk(json_string_value(s), "\r\n")))
        return bt_xstrdup("Subject must be a string of one line (at most 200 characters)");
    const json_t *m = json_object_get(p, "Message");
    if (m && !json_is_string(m))
        return bt_xstrdup("Message must be a string");
    return NULL;
}

static char *mail_body(const approval_service *as, const approval__req *r, const approval__link *l)
{
    char at[40];
    bt_time_format(r->expires_ms, at, sizeof at);
    return bt_xasprintf("%s%s"
                        "Approve or reject: %s/approve/%s\n\n"
                        "Execution: %s\nState: %s\nApprovals needed: %" PRId64 " of %zu\n\n"
                        "This link is for %s only, works once and expires at %s.\n",
                        r->message ? r->message : "", r->message ? "\n\n" : "", base_url(as), l->id,
                        r->execution_arn, r->state_name, r->required, r->n_links, l->who, at);
}

static int start(void *self, const integ_task *t, const integ_sink *sink)
{
    approval_service *as = self;
    int64_t required = 1, expires_s = APPROVAL_DEFAULT_EXPIRES;
    char *why = check_params(t->parameters, &required, &expires_s);
    if (why) {
        sink->failed(sink->ud, t->id, "Approval.InvalidParameters", why);
        free(why);
        return 0;
    }
    bool state_timeout = t->timeout_s > 0 && t->timeout_s <= expires_s;
    if (state_timeout)
        expires_s = t->timeout_s;
    const json_t *p = t->parameters;
    int64_t now = server_now_ms(as->srv);
    approval__req *r = bt_xcalloc(1, sizeof *r);
    r->execution_arn = bt_xstrdup(t->execution_arn);
    r->task_id = t->id;
    r->state_name = bt_xstrdup(t->state_name);
    const char *subject = json_string_value(json_object_get(p, "Subject"));
    r->subject =
        subject ? bt_xstrdup(subject) : bt_xasprintf("Approval requested: %s", t->state_name);
    r->message = dup_or_null(json_string_value(json_object_get(p, "Message")));
    r->data = json_incref(json_object_get(p, "Data"));
    r->required = required;
    r->created_ms = now;
    r->expires_ms = now + expires_s * 1000;
    r->state_timeout = state_timeout;
    const json_t *list = json_object_get(p, "Approvers");
    r->n_links = json_array_size(list);
    r->links = bt_xcalloc(r->n_links, sizeof *r->links);
    store_batch *b = server_batch(as->srv);
    char *data_text = r->data ? bt_json_dumps(r->data) : NULL;
    store_batch_add(b, sql_req_add, "tittttiiii", r->execution_arn, (int64_t)r->task_id,
                    r->state_name, r->subject, r->message, data_text, r->required, now,
                    r->expires_ms, (int64_t)r->state_timeout);
    free(data_text);
    for (size_t i = 0; i < r->n_links; i++) {
        approval__link *l = &r->links[i];
        l->who = bt_xstrdup(json_string_value(json_array_get(list, i)));
        approval_link_make(as->key, as->key_len, l->id);
        approval_link_make(as->key, as->key_len, l->nonce);
        store_batch_add(b, sql_link_add, "ttiitt", l->id, r->execution_arn, (int64_t)r->task_id,
                        (int64_t)i, l->who, l->nonce);
        char *body = mail_body(as, r, l);
        char message_id[37];
        topic_send_mail(as->ts, l->who, r->subject, body, message_id);
        free(body);
    }
    link_in(as, r);
    server_log(as->srv, SERVER_LOG_INFO, "approval.requested",
               "execution=%s task=%" PRIu64 " approvers=%zu required=%" PRId64, r->execution_arn,
               r->task_id, r->n_links, r->required);
    return 0;
}

static void cancel(void *self, const char *execution_arn, uint64_t task_id)
{
    approval_service *as = self;
    approval__req *r = find_task(as, execution_arn, task_id);
    if (r == NULL)
        return;
    store_batch_add(server_batch(as->srv), approval__sql_req_status, "titi", "cancelled",
                    server_now_ms(as->srv), r->execution_arn, (int64_t)r->task_id);
    approval__unlink(as, r);
    approval__req_free(r);
}

static void destroy(void *self)
{
    (void)self;
}

static const integ_ops approval_integ_ops = {
    "approval", handles, start, cancel, destroy, true,
};

integ approval_integ(approval_service *as)
{
    integ i = {&approval_integ_ops, as};
    return i;
}

/* ---- the key ---- */

static int read_or_make_key(const char *dir, uint8_t key[32], bt_err *err)
{
    char *sub = bt_xasprintf("%s/approval", dir);
    char *path = bt_xasprintf("%s/link-key", sub);
    int rc = 0;
    if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
        rc = bt_err_set(err, BT_EIO, "%s: %s", sub, strerror(errno));
        goto out;
    }
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, key, 32);
        close(fd);
        if (n != 32)
            rc = bt_err_set(err, BT_EIO, "%s: not a link key (32 bytes)", path);
        goto out;
    }
    bt_random_bytes(key, 32);
    if (bt_write_file_durable(path, key, 32, 0600) != 0)
        rc = bt_err_set(err, BT_EIO, "%s: %s", path, strerror(errno));
out:
    free(sub);
    free(path);
    return rc;
}

void approval_set_signing_key(approval_service *as, const char *key)
{
    if (key && key[0]) {
        size_t n = strlen(key);
        if (n > sizeof as->key) {
            bt_sha256(key, n, as->key);
            as->key_len = 32;
        } else {
            memcpy(as->key, key, n);
            as->key_len = n;
        }
    } else {
        memcpy(as->key, as->own_key, 32);
        as->key_len = 32;
    }
}

void approval_set_public_url(approval_service *as, const char *url)
{
    free(as->public_url);
    as->public_url = NULL;
    if (url && url[0]) {
        as->public_url = bt_xstrdup(url);
        size_t n = strlen(as->public_url);
        while (n > 0 && as->public_url[n - 1] == '/')
            as->public_url[--n] = '\0';
    }
}

/* ---- start and stop ---- */

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? bt_xstrdup((const char *)v) : NULL;
}

static void load_links(approval_service *as, approval__req *r)
{
    sqlite3_stmt *st = store_read_stmt(server_store(as->srv), sql_links_of);
    if (st == NULL)
        return;
    sqlite3_bind_text(st, 1, r->execution_arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->task_id);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (r->n_links == cap) {
            cap = cap ? cap * 2 : 4;
            r->links = bt_xrealloc(r->links, cap * sizeof *r->links);
        }
        approval__link *l = &r->links[r->n_links++];
        memset(l, 0, sizeof *l);
        snprintf(l->id, sizeof l->id, "%s", (const char *)sqlite3_column_text(st, 0));
        l->who = col_dup(st, 1);
        snprintf(l->nonce, sizeof l->nonce, "%s", (const char *)sqlite3_column_text(st, 2));
        const char *d = (const char *)sqlite3_column_text(st, 3);
        l->vote = d == NULL ? VOTE_NONE : strcmp(d, "approved") == 0 ? VOTE_APPROVE : VOTE_REJECT;
        l->comment = col_dup(st, 4);
        l->decided_ms = sqlite3_column_int64(st, 5);
        l->order = sqlite3_column_int(st, 6);
        if (l->order > r->n_decided)
            r->n_decided = l->order;
    }
    sqlite3_reset(st);
}

static int load(approval_service *as, bt_err *err)
{
    sqlite3_stmt *st = store_read_stmt(server_store(as->srv), sql_pending);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "approvals: %s",
                          sqlite3_errmsg(store_reader(server_store(as->srv))));
    approval__req *loaded = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        approval__req *r = bt_xcalloc(1, sizeof *r);
        r->execution_arn = col_dup(st, 0);
        r->task_id = (uint64_t)sqlite3_column_int64(st, 1);
        r->state_name = col_dup(st, 2);
        r->subject = col_dup(st, 3);
        r->message = col_dup(st, 4);
        const char *data = (const char *)sqlite3_column_text(st, 5);
        r->data = data ? json_loads(data, JSON_DECODE_ANY, NULL) : NULL;
        r->required = sqlite3_column_int64(st, 6);
        r->created_ms = sqlite3_column_int64(st, 7);
        r->expires_ms = sqlite3_column_int64(st, 8);
        r->state_timeout = sqlite3_column_int(st, 9) != 0;
        r->next = loaded;
        loaded = r;
    }
    sqlite3_reset(st);
    size_t n = 0, dropped = 0;
    while (loaded) {
        approval__req *r = loaded;
        loaded = r->next;
        if (!server_task_is_open(as->srv, r->execution_arn, r->task_id)) {
            store_batch_add(server_batch(as->srv), approval__sql_req_status, "titi", "cancelled",
                            server_now_ms(as->srv), r->execution_arn, (int64_t)r->task_id);
            approval__req_free(r);
            dropped++;
            continue;
        }
        load_links(as, r);
        link_in(as, r);
        n++;
    }
    if (n || dropped)
        server_log(as->srv, SERVER_LOG_INFO, "approval.recover", "pending=%zu closed=%zu", n,
                   dropped);
    return 0;
}

approval_service *approval_service_new(server *srv, topic_service *ts, bt_err *err)
{
    approval_service *as = bt_xcalloc(1, sizeof *as);
    as->srv = srv;
    as->ts = ts;
    if (read_or_make_key(server_get_config(srv)->data_dir, as->own_key, err) != 0 ||
        load(as, err) != 0) {
        while (as->first) {
            approval__req *r = as->first;
            approval__unlink(as, r);
            approval__req_free(r);
        }
        free(as);
        return NULL;
    }
    approval_set_signing_key(as, NULL);
    uv_timer_init(server_loop(srv), &as->timer);
    as->timer.data = as;
    uv_timer_start(&as->timer, on_timer, 250, 250);
    uv_unref((uv_handle_t *)&as->timer);
    return as;
}

static void on_closed(uv_handle_t *h)
{
    approval_service *as = h->data;
    while (as->first) {
        approval__req *r = as->first;
        approval__unlink(as, r);
        approval__req_free(r);
    }
    free(as->public_url);
    free(as);
}

void approval_service_free(approval_service *as)
{
    if (as == NULL)
        return;
    uv_timer_stop(&as->timer);
    uv_close((uv_handle_t *)&as->timer, on_closed);
}
