/*
 * redrive.c — RedriveExecution, and the rules that say whether an ended execution may be
 * redriven (DescribeExecution's redriveStatus and redriveStatusReason use them too).
 *
 * An execution that ended FAILED, TIMED_OUT or ABORTED keeps its log for 14 days (execs.c).
 * A redrive loads it by replaying that log, calls exec_redrive, and records it ({"r":t}),
 * so a restart replays the redrive like any other call; the row goes back to RUNNING with
 * the new count in the same batch that stores the call, and the answer waits for it.
 *
 * AWS (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html):
 * not SUCCEEDED; within "the redrivable period of 14 days" since it ended; not beyond "the
 * maximum open time of one year"; "event history count is less than 24,999"; not EXPRESS.
 * The reasons are DescribeExecution's redriveStatusReason texts (API_DescribeExecution.html).
 * clientToken: "idempotent responses for the last 10 client tokens used to successfully
 * redrive the execution ... valid for up to 15 minutes after they are first used".
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "server/execs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS               86400000LL
#define REDRIVABLE_PERIOD_MS (14 * DAY_MS)
#define MAX_OPEN_TIME_MS     (365 * DAY_MS)
#define TOKEN_LIFE_MS        (15 * 60000LL)
#define TOKENS_KEPT          10
#define CLIENT_TOKEN_MAX     64

static const char SQL_ROW[] =
    "SELECT id, status, sm_id, revision, start_ms, stop_ms, n_events, log_kept, token_key"
    " FROM executions WHERE arn = ?";
/* Among the execution's last TOKENS_KEPT tokens that are still valid. */
static const char SQL_TOKEN[] =
    "SELECT redrive_ms FROM (SELECT token, redrive_ms FROM redrive_tokens WHERE exec_id = ?1"
    " AND redrive_ms >= ?3 ORDER BY redrive_ms DESC LIMIT ?4) WHERE token = ?2";
static const char SQL_INSERT_TOKEN[] =
    "INSERT OR REPLACE INTO redrive_tokens (exec_id, token, redrive_ms) VALUES (?,?,?)";

const char *execs__redrive_refusal(server *s, const redrive_facts *f)
{
    if (strcmp(f->status, "RUNNING") == 0)
        return "Execution is RUNNING and cannot be redriven";
    if (strcmp(f->status, "SUCCEEDED") == 0)
        return "Execution is SUCCEEDED and cannot be redriven";
    /* A deleted machine (or another of the same name since) leaves its executions behind. */
    bt_arn a;
    const char *why;
    machine *m = NULL;
    if (bt_arn_parse(f->arn, &a, &why) == 0) {
        char *sm_arn = bt_xasprintf("arn:%s:states:%s:%s:stateMachine:%s", a.partition, a.region,
                                    a.account, a.machine);
        m = machines_find(s, sm_arn);
        free(sm_arn);
    }
    if (m == NULL || m->id != f->sm_id || m->deleting)
        return "State machine is in DELETING status";
    if (strcmp(m->type, "EXPRESS") == 0)
        return "Execution of an EXPRESS state machine cannot be redriven";
    if (f->n_events + 1 >= EXEC_MAX_HISTORY_EVENTS)
        return "Execution history event limit exceeded";
    if (s->now_ms - f->start_ms > MAX_OPEN_TIME_MS)
        return "Execution has exceeded the max execution time";
    if (s->now_ms - f->stop_ms > REDRIVABLE_PERIOD_MS)
        return "Execution redrivable period exceeded";
    /* Ended before this store kept logs for redrives, or never entered a state. */
    if (!f->log_kept)
        return "Execution was started before the launch of RedriveExecution";
    return NULL;
}

static int check_token(const char *token, sfn_err *err)
{
    size_t len = strlen(token);
    bool printable = len > 0;
    for (size_t i = 0; i < len; i++)
        printable = printable && token[i] >= '!' && token[i] <= '~';
    if (len > CLIENT_TOKEN_MAX)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value at 'clientToken' failed to satisfy "
                        "constraint: Member must have length less than or equal to %d",
                        CLIENT_TOKEN_MAX);
    if (!printable)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value '%s' at 'clientToken' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "[!-~]+",
                        token);
    return 0;
}

static json_t *answer(int64_t redrive_ms)
{
    return json_pack("{s:f}", "redriveDate", (double)redrive_ms / 1000.0);
}

/* A repeat of a redrive with the same clientToken within 15 minutes: its answer, or NULL. */
static json_t *repeated(server *s, const xrec *open, int64_t exec_id, const char *token)
{
    if (token == NULL)
        return NULL;
    int64_t since = s->now_ms - TOKEN_LIFE_MS;
    if (open && open->redrive_token && strcmp(open->redrive_token, token) == 0 &&
        open->redrive_ms >= since)
        return answer(open->redrive_ms); /* its batch may not be committed yet */
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_TOKEN);
    sqlite3_bind_int64(st, 1, exec_id);
    sqlite3_bind_text(st, 2, token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, since);
    sqlite3_bind_int64(st, 4, TOKENS_KEPT);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? answer(sqlite3_column_int64(st, 0)) : NULL;
    sqlite3_reset(st);
    return o;
}

/* Loads the ended execution by replay and redrives it; NULL with err when it cannot be. */
static xrec *load_and_redrive(server *s, sqlite3_stmt *row, const char *arn, sfn_err *err)
{
    xrec *x = execs__new(s, sqlite3_column_int64(row, 0), arn);
    x->sm_id = sqlite3_column_int64(row, 2);
    x->revision = sqlite3_column_int64(row, 3);
    x->start_ms = sqlite3_column_int64(row, 4);
    if (sqlite3_column_bytes(row, 8) == TOKEN_KEY_BYTES)
        memcpy(x->token_key, sqlite3_column_blob(row, 8), TOKEN_KEY_BYTES);
    x->inserted = true;
    sqlite3_reset(row);
    if (execs__load(s, x) != 0) {
        execs__discard(s, x);
        sfn_fail(err, "ServiceUnavailable", "the execution could not be loaded");
        return NULL;
    }
    if (exec_redrive(x->e, s->now_ms) != 0) {
        server_log(s, SERVER_LOG_ERROR, "exec.redrive", "arn=%s status=%s error=\"replay\"", arn,
                   exec_status_name(exec_get_status(x->e)));
        execs__discard(s, x);
        sfn_fail(err, "ExecutionNotRedrivable", "Execution history event limit exceeded");
        return NULL;
    }
    return x;
}

json_t *sfn_redrive_execution(server *s, json_t *req, sfn_err *err)
{
    json_t *v = json_object_get(req, "executionArn");
    const char *arn = json_string_value(v);
    json_t *t = json_object_get(req, "clientToken");
    const char *token = json_string_value(t);
    bt_arn a;
    const char *why;
    if (bt_arn_parse(arn, &a, &why) == 0 && a.kind == BT_ARN_EXPRESS_EXECUTION) {
        sfn_fail(err, "ExecutionNotRedrivable",
                 "Execution of an EXPRESS state machine cannot be redriven: '%s'", arn);
        return NULL;
    }
    if (sfn_check_arn(arn, BT_ARN_EXECUTION, &a, err) != 0 ||
        (token && check_token(token, err) != 0))
        return NULL;
    sqlite3_stmt *row = store_read_stmt(s->store, SQL_ROW);
    sqlite3_bind_text(row, 1, arn, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(row) != SQLITE_ROW) {
        sqlite3_reset(row);
        sfn_fail(err, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn);
        return NULL;
    }
    xrec *open = bt_strmap_get(&s->open_by_arn, arn);
    /* A retention sweep whose delete is not yet durable has taken this execution: as far as
     * anyone may learn from now on, it no longer exists (the row the reader still sees will
     * be gone once that commit lands, before any later write could bring it back). */
    if (open == NULL && sqlite3_column_int64(row, 5) < s->swept_before) {
        sqlite3_reset(row);
        sfn_fail(err, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn);
        return NULL;
    }
    json_t *again = repeated(s, open, sqlite3_column_int64(row, 0), token);
    if (again) {
        sqlite3_reset(row);
        return again;
    }
    redrive_facts f = {
        .arn = arn,
        /* an execution in memory is running, or its end is not durable yet */
        .status = open ? "RUNNING" : execs__col_text(row, 1),
        .sm_id = sqlite3_column_int64(row, 2),
        .start_ms = sqlite3_column_int64(row, 4),
        .stop_ms = sqlite3_column_int64(row, 5),
        .n_events = sqlite3_column_int64(row, 6),
        .log_kept = sqlite3_column_int64(row, 7) != 0,
    };
    const char *refusal = execs__redrive_refusal(s, &f);
    if (refusal) {
        sfn_fail(err, "ExecutionNotRedrivable", "%s", refusal);
        sqlite3_reset(row);
        return NULL;
    }
    if (s->n_open >= s->max_open) {
        sqlite3_reset(row);
        sfn_fail(err, "ExecutionLimitExceeded",
                 "Execution Limit Exceeded: '%zu executions are open, the most this account "
                 "may have'",
                 s->max_open);
        return NULL;
    }
    xrec *x = load_and_redrive(s, row, arn, err);
    if (x == NULL)
        return NULL;
    execs__record(s, x, json_pack("{s:I}", "r", (json_int_t)s->now_ms));
    x->redrive_pending = true;
    x->redrive_ms = s->now_ms;
    if (token) {
        x->redrive_token = bt_xstrdup(token);
        store_batch_add(server_batch(s), SQL_INSERT_TOKEN, "iti", x->id, token, s->now_ms);
    }
    server_log(s, SERVER_LOG_INFO, "exec.redrive", "arn=%s count=%lld", arn,
               (long long)exec_redrive_count(x->e));
    execs__drive(s, x);
    return answer(x->redrive_ms);
}
