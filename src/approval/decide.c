/*
 * decide.c — what a link shows and what it decides, and the audit. A link decides once, for
 * its approver and its task; a request that is no longer pending (decided, expired,
 * cancelled) is found in the store only, and its links say why they no longer work.
 */
#include "approval/approval_int.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/timefmt.h"
#include "server/sfn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_audit_add[] =
    "INSERT INTO approval_audit (at_ms, execution_arn, task_id, state_name, approver, "
    "decision, comment, ip, user_agent, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_closed[] =
    "SELECT r.status, l.decision FROM approval_link l JOIN approval_request r "
    "ON r.execution_arn = l.execution_arn AND r.task_id = l.task_id WHERE l.id = ?";
static const char sql_audit[] =
    "SELECT id, at_ms, execution_arn, task_id, state_name, approver, decision, comment, ip, "
    "user_agent, outcome FROM approval_audit ORDER BY id DESC LIMIT ?";
static const char sql_requests[] =
    "SELECT execution_arn, state_name, subject, status, required, created_ms, expires_ms, "
    "decided_ms, (SELECT json_group_array(approver) FROM approval_link l WHERE "
    "l.execution_arn = r.execution_arn AND l.task_id = r.task_id) FROM approval_request r "
    "ORDER BY created_ms DESC LIMIT ?";

static json_t *time_json(int64_t ms)
{
    char at[40];
    bt_time_format(ms, at, sizeof at);
    return json_string(at);
}

static json_t *view_of(const approval__req *r, const approval__link *l)
{
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o}", "Id", l->id, "Approver", l->who,
                          "ExecutionArn", r->execution_arn, "StateName", r->state_name, "Subject",
                          r->subject, "Required", (json_int_t)r->required, "TaskId",
                          (json_int_t)r->task_id, "Approvers", approval__approvers(r, true, false));
    json_object_set_new(v, "Message", r->message ? json_string(r->message) : json_null());
    json_object_set(v, "Data", r->data ? r->data : json_null());
    json_object_set_new(v, "CreatedAt", time_json(r->created_ms));
    json_object_set_new(v, "ExpiresAt", time_json(r->expires_ms));
    json_object_set_new(v, "Nonce", json_string(l->nonce));
    json_object_set_new(v, "NumApprovers", json_integer((json_int_t)r->n_links));
    return v;
}

/* A link whose request is not pending: why it no longer works (BT_ESTATE), or
 * BT_ENOTFOUND. */
static int closed_reason(approval_service *as, const char *id, const char **why)
{
    sqlite3_stmt *st = store_read_stmt(server_store(as->srv), sql_closed);
    if (st == NULL)
        return BT_ENOTFOUND;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = BT_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 0);
        bool used = sqlite3_column_type(st, 1) != SQLITE_NULL;
        rc = BT_ESTATE;
        if (used)
            *why = "This link has already been used: your decision is recorded, and this "
                   "request has already been decided.";
        else if (strcmp(status, "expired") == 0)
            *why = "This request has expired: it can no longer be approved or rejected.";
        else if (strcmp(status, "cancelled") == 0)
            *why = "This request is no longer waiting for a decision (its workflow step "
                   "ended: timed out, stopped or failed).";
        else
            *why = "This request has already been decided.";
    }
    sqlite3_reset(st);
    return rc;
}

static int lookup(approval_service *as, const char *id, approval__req **r, approval__link **l,
                  const char **why)
{
    /* A link that a pending request holds (in memory) is valid whatever key signed it: the
     * project file's signing_key may have changed since (a reload, a restart), and the id's
     * 16 random bytes are what no one can guess. Any other id reaches the store (to say why
     * it no longer decides) only when the current key or the data folder's signed it. */
    bool is_signed = approval_link_check(as->key, as->key_len, id) ||
                     approval_link_check(as->own_key, sizeof as->own_key, id);
    *r = approval__find(as, id, l);
    if (*r == NULL)
        return is_signed ? closed_reason(as, id, why) : BT_ENOTFOUND;
    if ((*l)->vote != VOTE_NONE) {
        *why = "This link has already been used: your decision is recorded.";
        return BT_ESTATE;
    }
    if ((*r)->expires_ms <= server_now_ms(as->srv)) {
        *why = "This request has expired: it can no longer be approved or rejected.";
        return BT_ESTATE;
    }
    return 0;
}

int approval_view(approval_service *as, const char *id, json_t **view, const char **why)
{
    approval__req *r;
    approval__link *l;
    int rc = lookup(as, id, &r, &l, why);
    if (rc == 0)
        *view = view_of(r, l);
    return rc;
}

int approval_decide(approval_service *as, const approval_decision *d, json_t **view,
                    const char **why)
{
    approval__req *r;
    approval__link *l;
    int rc = lookup(as, d->id, &r, &l, why);
    if (rc != 0)
        return rc;
    if (d->nonce == NULL || strlen(d->nonce) != strlen(l->nonce) ||
        !bt_ct_equal(d->nonce, l->nonce, strlen(l->nonce))) {
        *why = "This form is not the one the link showed: open the link again and decide there.";
        return BT_EINVAL;
    }
    const char *comment = d->comment && d->comment[0] ? d->comment : NULL;
    /* Characters, as the page's maxlength counts them (a browser lets 2000 "é" through). */
    if (comment && approval_text_chars(comment) > APPROVAL_COMMENT_MAX) {
        *why = "The comment is too long (at most 2000 characters).";
        return BT_EINVAL;
    }
    int64_t now = server_now_ms(as->srv);
    l->vote = d->approve ? VOTE_APPROVE : VOTE_REJECT;
    l->decided_ms = now;
    l->comment = comment ? bt_xstrdup(comment) : NULL;
    l->order = ++r->n_decided;
    size_t n_ok = 0, n_no = 0;
    for (size_t i = 0; i < r->n_links; i++) {
        n_ok += r->links[i].vote == VOTE_APPROVE;
        n_no += r->links[i].vote == VOTE_REJECT;
    }
    approval_outcome out = approval_tally(r->required, r->n_links, n_ok, n_no);
    const char *outcome = out == APPROVAL_APPROVED   ? "approved"
                          : out == APPROVAL_REJECTED ? "rejected"
                                                     : "pending";
    const char *decision = d->approve ? "approved" : "rejected";
    store_batch *b = server_batch(as->srv);
    store_batch_add(b, approval__sql_link_vote, "ttiit", decision, comment, now, (int64_t)l->order,
                    l->id);
    store_batch_add(b, sql_audit_add, "itittttttt", now, r->execution_arn, (int64_t)r->task_id,
                    r->state_name, l->who, decision, comment, d->ip, d->user_agent, outcome);
    server_log(as->srv, SERVER_LOG_INFO, "approval.decision",
               "execution=%s task=%" PRIu64 " approver=%s decision=%s outcome=%s", r->execution_arn,
               r->task_id, l->who, decision, outcome);
    *view = view_of(r, l);
    json_object_set_new(*view, "Decision", json_string(decision));
    json_object_set_new(*view, "Outcome", json_string(outcome));
    if (out == APPROVAL_PENDING)
        return 0;
    store_batch_add(b, approval__sql_req_status, "titi", outcome, now, r->execution_arn,
                    (int64_t)r->task_id);
    approval__unlink(as, r);
    if (out == APPROVAL_APPROVED) {
        json_t *result = json_pack("{s:s,s:o}", "decision", "approved", "approvers",
                                   approval__approvers(r, false, true));
        server_report rep = {.kind = SERVER_REPORT_SUCCEEDED, .value = result};
        server_task_report(as->srv, r->execution_arn, r->task_id, &rep);
        json_decref(result);
    } else {
        json_t *c = json_pack("{s:s,s:o}", "decision", "rejected", "approvers",
                              approval__approvers(r, true, false));
        char *cause = json_dumps(c, JSON_COMPACT);
        server_report rep = {
            .kind = SERVER_REPORT_FAILED, .error = "Approval.Rejected", .cause = cause};
        server_task_report(as->srv, r->execution_arn, r->task_id, &rep);
        free(cause);
        json_decref(c);
    }
    approval__req_free(r);
    return 0;
}

static json_t *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? json_string((const char *)v) : json_null();
}

json_t *approval_audit(approval_service *as, size_t limit)
{
    json_t *a = json_array();
    sqlite3_stmt *st = store_read_stmt(server_store(as->srv), sql_audit);
    if (st == NULL)
        return a;
    sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : 1000);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "Id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "Time", time_json(sqlite3_column_int64(st, 1)));
        json_object_set_new(o, "ExecutionArn", col_str(st, 2));
        json_object_set_new(o, "TaskId", json_integer(sqlite3_column_int64(st, 3)));
        json_object_set_new(o, "StateName", col_str(st, 4));
        json_object_set_new(o, "Approver", col_str(st, 5));
        json_object_set_new(o, "Decision", col_str(st, 6));
        json_object_set_new(o, "Comment", col_str(st, 7));
        json_object_set_new(o, "Ip", col_str(st, 8));
        json_object_set_new(o, "UserAgent", col_str(st, 9));
        json_object_set_new(o, "Outcome", col_str(st, 10));
        json_array_append_new(a, o);
    }
    sqlite3_reset(st);
    return a;
}

json_t *approval_requests(approval_service *as, size_t limit)
{
    json_t *a = json_array();
    sqlite3_stmt *st = store_read_stmt(server_store(as->srv), sql_requests);
    if (st == NULL)
        return a;
    sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : 1000);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "ExecutionArn", col_str(st, 0));
        json_object_set_new(o, "StateName", col_str(st, 1));
        json_object_set_new(o, "Subject", col_str(st, 2));
        json_object_set_new(o, "Status", col_str(st, 3));
        json_object_set_new(o, "Required", json_integer(sqlite3_column_int64(st, 4)));
        json_object_set_new(o, "CreatedAt", time_json(sqlite3_column_int64(st, 5)));
        json_object_set_new(o, "ExpiresAt", time_json(sqlite3_column_int64(st, 6)));
        json_object_set_new(o, "DecidedAt",
                            sqlite3_column_type(st, 7) == SQLITE_NULL
                                ? json_null()
                                : time_json(sqlite3_column_int64(st, 7)));
        const char *who = (const char *)sqlite3_column_text(st, 8);
        json_t *list = who ? json_loads(who, 0, NULL) : NULL;
        json_object_set_new(o, "Approvers", list ? list : json_array());
        json_array_append_new(a, o);
    }
    sqlite3_reset(st);
    return a;
}
