/*
 * sfn_execs.c — the execution operations of the Step Functions API: StartExecution,
 * DescribeExecution, DescribeStateMachineForExecution, ListExecutions, GetExecutionHistory,
 * StopExecution and the callbacks SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
 * (RedriveExecution is redrive.c's; DescribeExecution reports its rules, ListExecutions
 * filters by them).
 * Reads come from the store (what is committed is what a client may have been told);
 * changes go through the driver (execs.c), which records them.
 *
 * A callback whose token no longer opens a task gets TaskTimedOut, as on AWS, with the
 * reason AWS leaves out: the execution ended (how and when), or the task was answered,
 * timed out or replaced by a later attempt.
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/rand.h"
#include "base/timefmt.h"
#include "server/execs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- operations ---- */

#define SQL_LIST_QUALIFIED                                                                         \
    " AND (?5 IS NULL OR id IN (SELECT exec_id FROM exec_versions"                                 \
    " WHERE version_arn = ?5 OR alias_arn = ?5))"

static const char SQL_EXEC_ROW_BY_ID[] =
    "SELECT e.arn, e.status, e.stop_ms, e.token_key FROM executions e WHERE e.id = ?";

static const char SQL_FIND_EXEC[] = "SELECT input, status, start_ms FROM executions WHERE arn = ?";
static const char SQL_DESCRIBE[] =
    "SELECT e.arn, e.name, e.status, e.start_ms, e.stop_ms, e.input, e.output, e.error,"
    " e.cause, e.sm_id, e.revision, e.n_events, e.redrive_count, e.redrive_ms, e.log_kept"
    " FROM executions e WHERE e.arn = ?";
/* ?5: a version or alias ARN, to list only the executions started through it; ?6: 1 only
 * those redriven, 0 only those not (redriveFilter). */
#define SQL_LIST_REDRIVEN " AND (?6 IS NULL OR (redrive_count > 0) = ?6)"
static const char SQL_LIST[] =
    "SELECT arn, name, status, start_ms, stop_ms, redrive_count, redrive_ms FROM executions"
    " WHERE sm_id = ?1 AND id < ?2 AND (?3 IS NULL OR status = ?3)" SQL_LIST_QUALIFIED
        SQL_LIST_REDRIVEN " ORDER BY id DESC LIMIT ?4";
static const char SQL_LIST_IDS[] =
    "SELECT id FROM executions WHERE sm_id = ?1 AND id < ?2 AND (?3 IS NULL OR status = "
    "?3)" SQL_LIST_QUALIFIED SQL_LIST_REDRIVEN " ORDER BY id DESC LIMIT 1 OFFSET ?4";
static const char SQL_EXEC_ID[] = "SELECT id FROM executions WHERE arn = ?";
/* History rows hold runs of events (first_id..last_id): the rows that reach past pos. */
static const char SQL_HISTORY_FWD[] =
    "SELECT first_id, events FROM history WHERE exec_id = ? AND last_id > ? ORDER BY first_id";
static const char SQL_HISTORY_REV[] =
    "SELECT first_id, events FROM history WHERE exec_id = ? AND first_id < ?"
    " ORDER BY first_id DESC";
static const char SQL_REVISION_DEF[] =
    "SELECT r.definition, r.role_arn FROM revisions r WHERE r.id = ?";

/* Steps a read: 1 a row, 0 none, -1 the store could not be read (a damaged file must not
 * pass for a missing execution): err is set and the reason logged. */
static int read_row(server *s, sqlite3_stmt *st, sfn_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    const char *why = sqlite3_errmsg(store_reader(s->store));
    server_log(s, SERVER_LOG_ERROR, "store.read", "error=\"%s\"", why);
    sfn_fail(err, "InternalFailure", "The store could not be read: %s", why);
    return -1;
}

/* An execution ARN, Standard or Express. */
static int sfn_check_execution_arn(const char *arn, bt_arn *a, sfn_err *err)
{
    const char *why = NULL;
    if (bt_arn_parse(arn, a, &why) == 0 && a->kind == BT_ARN_EXPRESS_EXECUTION)
        return 0;
    return sfn_check_arn(arn, BT_ARN_EXECUTION, a, err);
}

static int payload_limit(const char *what, const char *text, sfn_err *err)
{
    if (strlen(text) > MAX_PAYLOAD)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value at '%s' failed to satisfy "
                        "constraint: Member must have length less than or equal to %d",
                        what, MAX_PAYLOAD);
    return 0;
}

static char *machine_arn_of(const char *exec_arn)
{
    bt_arn a;
    const char *why;
    if (bt_arn_parse(exec_arn, &a, &why) != 0)
        return bt_xstrdup("");
    return bt_xasprintf("arn:%s:states:%s:%s:stateMachine:%s", a.partition, a.region, a.account,
                        a.machine);
}

/* Starts an execution: the new record, or NULL with *answer (an idempotent repeat) or err. */
static xrec *start(server *s, json_t *req, bool sync, json_t **answer, sfn_err *err)
{
    *answer = NULL;
    const char *sm_arn = sfn_str(req, "stateMachineArn");
    bt_arn a;
    if (sfn_check_arn(sm_arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    machine *m = machines_find(s, sm_arn);
    /* A version or alias ARN runs that version's revision (versions.c). */
    versions_target vt = {0};
    if (m == NULL && versions_is_qualified(sm_arn)) {
        if (versions_resolve(s, sm_arn, &vt, err) != 0)
            return NULL;
        m = vt.m;
    }
    if (m == NULL) {
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", sm_arn);
        return NULL;
    }
    char uuid[37];
    const char *name = sfn_str(req, "name");
    if (name == NULL) {
        uint8_t b[16];
        bt_random_bytes(b, sizeof b);
        bt_uuid_format(b, uuid);
        name = uuid;
    }
    if (bt_name_problem(name)) {
        sfn_fail(err, "InvalidName", "Invalid Name: '%s'", name);
        return NULL;
    }
    const char *input_text = sfn_str(req, "input");
    if (input_text == NULL)
        input_text = "{}";
    if (payload_limit("input", input_text, err) != 0)
        return NULL;
    json_error_t jerr;
    json_t *input = json_loads(input_text, JSON_DECODE_ANY, &jerr);
    if (input == NULL) {
        sfn_fail(err, "InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'",
                 jerr.text);
        return NULL;
    }
    if (sync && strcmp(m->type, "EXPRESS") != 0) {
        json_decref(input);
        sfn_fail(err, "StateMachineTypeNotSupported",
                 "This operation is not supported by this type of state machine");
        return NULL;
    }
    char *arn;
    /* An Express execution's ARN says so (AWS: …:express:<machine>:<name>:<id>); the name need
     * not be unique, so the id makes it so. */
    bool express = strcmp(m->type, "EXPRESS") == 0;
    if (express) {
        char id[37];
        uint8_t b[16];
        bt_random_bytes(b, sizeof b);
        bt_uuid_format(b, id);
        arn = bt_xasprintf("arn:aws:states:%s:%s:express:%s:%s:%s", s->cfg.region, s->cfg.account,
                           m->name, name, id);
    } else {
        arn = bt_xasprintf("arn:aws:states:%s:%s:execution:%s:%s", s->cfg.region, s->cfg.account,
                           m->name, name);
    }
    /* StartExecution is idempotent while the first is running and the input is the same. */
    xrec *old = bt_strmap_get(&s->open_by_arn, arn);
    if (old) {
        bool running = old->e == NULL || exec_get_status(old->e) == EXEC_RUNNING;
        bool same = false;
        int64_t start_ms = old->start_ms;
        if (old->input_text)
            same = strcmp(old->input_text, input_text) == 0;
        else {
            sqlite3_stmt *st = store_read_stmt(s->store, SQL_FIND_EXEC);
            sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) {
                same = strcmp(execs__col_text(st, 0), input_text) == 0;
                start_ms = sqlite3_column_int64(st, 2);
            }
            sqlite3_reset(st);
        }
        json_decref(input);
        if (running && same) {
            *answer =
                json_pack("{s:s, s:f}", "executionArn", arn, "startDate", sfn_epoch_s(start_ms));
            free(arn);
            return NULL;
        }
        sfn_fail(err, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn);
        free(arn);
        return NULL;
    }
    /* A name Baton drew (122 random bits) cannot be taken: only a client's name is looked up. */
    int exists = 0;
    if (name != uuid) {
        sqlite3_stmt *st = store_read_stmt(s->store, SQL_FIND_EXEC);
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
        exists = read_row(s, st, err);
        sqlite3_reset(st);
    }
    if (exists != 0) {
        json_decref(input);
        if (exists > 0)
            sfn_fail(err, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn);
        free(arn);
        return NULL;
    }

    /* AWS's quota of open executions per account and region (1,000,000 by default). */
    if (s->n_open >= s->max_open) {
        json_decref(input);
        free(arn);
        sfn_fail(err, "ExecutionLimitExceeded",
                 "Execution Limit Exceeded: '%zu executions are open, the most this account "
                 "may have'",
                 s->max_open);
        return NULL;
    }
    xrec *x = execs__new(s, s->next_exec_id++, arn);
    free(arn);
    x->sm_id = m->id;
    x->revision = vt.m ? vt.revision : m->revision;
    versions_note_execution(s, x->id, &vt);
    x->start_ms = s->now_ms;
    x->input_text = bt_xstrdup(input_text);
    bt_random_bytes(&x->seed, sizeof x->seed);
    bt_random_bytes(x->token_key, sizeof x->token_key);
    exec_config cfg = {
        .name = name,
        .arn = x->arn,
        .sm_arn = m->arn,
        .sm_name = m->name,
        .role_arn = vt.m ? vt.role_arn : m->role_arn,
        .region = s->cfg.region,
        .start_ms = x->start_ms,
        .seed = x->seed,
        .mint_token = execs__mint_token,
        .mint_ctx = x,
        .forget_taken_events = true,
        .express = express,
    };
    x->e = exec_new(vt.m ? vt.compiled : m->compiled, input, &cfg);
    json_decref(input);
    return x;
}

json_t *sfn_start_execution(server *s, json_t *req, sfn_err *err)
{
    json_t *answer;
    xrec *x = start(s, req, false, &answer, err);
    if (x == NULL)
        return answer;
    execs__drive(s, x);
    server_log(s, SERVER_LOG_DEBUG, "exec.start", "arn=%s status=%s", x->arn,
               exec_status_name(exec_get_status(x->e)));
    return json_pack("{s:s, s:f}", "executionArn", x->arn, "startDate", sfn_epoch_s(x->start_ms));
}

int sfn_start_sync_execution(server *s, json_t *req, sfn_sync_done done, void *ctx, sfn_err *err)
{
    json_t *answer;
    xrec *x = start(s, req, true, &answer, err);
    if (x == NULL) {
        json_decref(answer);
        return -1;
    }
    x->sync_done = done;
    x->sync_ctx = ctx;
    execs__drive(s, x);
    return 0;
}

json_t *execs__sync_response(const xrec *x)
{
    exec *e = x->e;
    const char *status = exec_status_name(exec_get_status(e));
    char *sm_arn = machine_arn_of(x->arn);
    bt_arn a;
    const char *why;
    const char *name = bt_arn_parse(x->arn, &a, &why) == 0 ? a.name : "";
    int64_t billed = exec_stop_ms(e) - x->start_ms;
    /* Billed in 100 ms steps at 64 MB, as AWS reports Express usage. */
    billed = billed < 100 ? 100 : (billed + 99) / 100 * 100;
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:{s:b}, s:{s:I, s:I}}", "executionArn", x->arn,
        "stateMachineArn", sm_arn, "name", name, "startDate", sfn_epoch_s(x->start_ms), "stopDate",
        sfn_epoch_s(exec_stop_ms(e)), "status", status, "input",
        x->input_text ? x->input_text : "{}", "inputDetails", "included", 1, "billingDetails",
        "billedMemoryUsedInMB", (json_int_t)64, "billedDurationInMilliseconds", (json_int_t)billed);
    free(sm_arn);
    if (exec_output(e)) {
        char *out = bt_json_dumps(exec_output(e));
        json_object_set_new(o, "output", json_string(out ? out : "null"));
        json_object_set_new(o, "outputDetails", json_pack("{s:b}", "included", 1));
        free(out);
    }
    if (exec_get_status(e) == EXEC_FAILED) {
        if (exec_error(e))
            json_object_set_new(o, "error", json_string(exec_error(e)));
        if (exec_cause(e))
            json_object_set_new(o, "cause", json_string(exec_cause(e)));
    }
    return o;
}

static int find_row(server *s, json_t *req, sqlite3_stmt **out, sfn_err *err)
{
    const char *arn = sfn_str(req, "executionArn");
    bt_arn a;
    if (sfn_check_execution_arn(arn, &a, err) != 0)
        return -1;
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_DESCRIBE);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
    int found = read_row(s, st, err);
    if (found <= 0) {
        sqlite3_reset(st);
        if (found < 0)
            return -1;
        return sfn_fail(err, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn);
    }
    *out = st;
    return 0;
}

/* redriveCount, redriveDate, redriveStatus and its reason, from a SQL_DESCRIBE row. */
static void describe_redrive(server *s, sqlite3_stmt *st, json_t *o)
{
    redrive_facts f = {
        .arn = execs__col_text(st, 0),
        .status = execs__col_text(st, 2),
        .sm_id = sqlite3_column_int64(st, 9),
        .start_ms = sqlite3_column_int64(st, 3),
        .stop_ms = sqlite3_column_int64(st, 4),
        .n_events = sqlite3_column_int64(st, 11),
        .log_kept = sqlite3_column_int64(st, 14) != 0,
    };
    json_object_set_new(o, "redriveCount", json_integer(sqlite3_column_int64(st, 12)));
    if (sqlite3_column_type(st, 13) != SQLITE_NULL)
        json_object_set_new(o, "redriveDate", json_real(sfn_epoch_s(sqlite3_column_int64(st, 13))));
    const char *refusal = execs__redrive_refusal(s, &f);
    json_object_set_new(o, "redriveStatus", json_string(refusal ? "NOT_REDRIVABLE" : "REDRIVABLE"));
    if (refusal)
        json_object_set_new(o, "redriveStatusReason", json_string(refusal));
}

json_t *sfn_describe_execution(server *s, json_t *req, sfn_err *err)
{
    sqlite3_stmt *st;
    if (find_row(s, req, &st, err) != 0)
        return NULL;
    char *sm_arn = machine_arn_of(execs__col_text(st, 0));
    const char *status = execs__col_text(st, 2);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:{s:b}}", "executionArn", execs__col_text(st, 0),
                  "stateMachineArn", sm_arn, "name", execs__col_text(st, 1), "status", status,
                  "startDate", sfn_epoch_s(sqlite3_column_int64(st, 3)), "input",
                  execs__col_text(st, 5), "inputDetails", "included", 1);
    free(sm_arn);
    if (strcmp(status, "RUNNING") != 0)
        json_object_set_new(o, "stopDate", json_real(sfn_epoch_s(sqlite3_column_int64(st, 4))));
    if (execs__col_text(st, 6)) {
        json_object_set_new(o, "output", json_string(execs__col_text(st, 6)));
        json_object_set_new(o, "outputDetails", json_pack("{s:b}", "included", 1));
    }
    /* A top-level timeout leaves no error or cause (AWS). */
    if (execs__col_text(st, 7) && strcmp(status, "TIMED_OUT") != 0)
        json_object_set_new(o, "error", json_string(execs__col_text(st, 7)));
    if (execs__col_text(st, 8) && strcmp(status, "TIMED_OUT") != 0)
        json_object_set_new(o, "cause", json_string(execs__col_text(st, 8)));
    describe_redrive(s, st, o);
    versions_annotate_execution(s, execs__col_text(st, 0), o);
    sqlite3_reset(st);
    return o;
}

json_t *sfn_describe_state_machine_for_execution(server *s, json_t *req, sfn_err *err)
{
    sqlite3_stmt *st;
    if (find_row(s, req, &st, err) != 0)
        return NULL;
    char *sm_arn = machine_arn_of(execs__col_text(st, 0));
    int64_t revision = sqlite3_column_int64(st, 10);
    sqlite3_reset(st);
    machine *m = machines_find(s, sm_arn);
    st = store_read_stmt(s->store, SQL_REVISION_DEF);
    sqlite3_bind_int64(st, 1, revision);
    json_t *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        o = json_pack("{s:s, s:s, s:s, s:s, s:f}", "stateMachineArn", sm_arn, "name",
                      strrchr(sm_arn, ':') + 1, "definition", execs__col_text(st, 0), "roleArn",
                      execs__col_text(st, 1), "updateDate", sfn_epoch_s(m ? m->updated_ms : 0));
        if (m)
            json_object_set_new(o, "revisionId", json_string(m->revision_id));
    } else {
        sfn_fail(err, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'",
                 sfn_str(req, "executionArn"));
    }
    sqlite3_reset(st);
    free(sm_arn);
    return o;
}

static const char *const statuses[] = {"RUNNING",   "SUCCEEDED", "FAILED",
                                       "TIMED_OUT", "ABORTED",   "PENDING_REDRIVE"};

json_t *sfn_list_executions(server *s, json_t *req, sfn_err *err)
{
    const char *sm_arn = sfn_str(req, "stateMachineArn");
    if (sm_arn == NULL) {
        sfn_fail(err, "ValidationException", "Must provide a StateMachine ARN or MapRun ARN");
        return NULL;
    }
    bt_arn a;
    if (sfn_check_arn(sm_arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    machine *m = machines_find(s, sm_arn);
    /* A version ARN lists the executions of that version (through it or an alias), an alias
     * ARN those started through the alias (API reference). */
    const char *qualified = NULL;
    if (m == NULL && versions_is_qualified(sm_arn)) {
        if ((m = versions_list_target(s, sm_arn, err)) == NULL)
            return NULL;
        qualified = sm_arn;
    }
    if (m == NULL) {
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", sm_arn);
        return NULL;
    }
    const char *status = sfn_str(req, "statusFilter");
    if (status) {
        bool known = false;
        for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
            known = known || strcmp(status, statuses[i]) == 0;
        if (!known) {
            sfn_fail(err, "ValidationException",
                     "1 validation error detected: Value '%s' at 'statusFilter' failed to "
                     "satisfy constraint: Member must satisfy enum value set: [RUNNING, "
                     "SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]",
                     status);
            return NULL;
        }
    }
    int redriven = -1; /* no filter */
    const char *redrive_filter = sfn_str(req, "redriveFilter");
    if (redrive_filter) {
        if (strcmp(redrive_filter, "REDRIVEN") == 0) {
            redriven = 1;
        } else if (strcmp(redrive_filter, "NOT_REDRIVEN") == 0) {
            redriven = 0;
        } else {
            sfn_fail(err, "ValidationException",
                     "1 validation error detected: Value '%s' at 'redriveFilter' failed to "
                     "satisfy constraint: Member must satisfy enum value set: [REDRIVEN, "
                     "NOT_REDRIVEN]",
                     redrive_filter);
            return NULL;
        }
    }
    int64_t pos;
    size_t max;
    if (sfn_page_args(req, "ListExecutions", &pos, &max, err) != 0)
        return NULL;
    if (pos == 0)
        pos = INT64_MAX;
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_LIST);
    sqlite3_bind_int64(st, 1, m->id);
    sqlite3_bind_int64(st, 2, pos);
    if (status)
        sqlite3_bind_text(st, 3, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, (int64_t)max);
    sqlite3_bind_text(st, 5, qualified, -1, SQLITE_TRANSIENT);
    if (redriven >= 0)
        sqlite3_bind_int64(st, 6, redriven);
    else
        sqlite3_bind_null(st, 6);
    json_t *list = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *stat = execs__col_text(st, 2);
        json_t *it = json_pack("{s:s, s:s, s:s, s:s, s:f}", "executionArn", execs__col_text(st, 0),
                               "stateMachineArn", m->arn, "name", execs__col_text(st, 1), "status",
                               stat, "startDate", sfn_epoch_s(sqlite3_column_int64(st, 3)));
        if (strcmp(stat, "RUNNING") != 0)
            json_object_set_new(it, "stopDate",
                                json_real(sfn_epoch_s(sqlite3_column_int64(st, 4))));
        json_object_set_new(it, "redriveCount", json_integer(sqlite3_column_int64(st, 5)));
        if (sqlite3_column_type(st, 6) != SQLITE_NULL)
            json_object_set_new(it, "redriveDate",
                                json_real(sfn_epoch_s(sqlite3_column_int64(st, 6))));
        versions_annotate_execution(s, execs__col_text(st, 0), it);
        json_array_append_new(list, it);
    }
    sqlite3_reset(st);
    json_t *out = json_pack("{s:o}", "executions", list);
    /* Another page when a row lies beyond this one. */
    st = store_read_stmt(s->store, SQL_LIST_IDS);
    sqlite3_bind_int64(st, 1, m->id);
    sqlite3_bind_int64(st, 2, pos);
    if (status)
        sqlite3_bind_text(st, 3, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, (int64_t)max - 1);
    sqlite3_bind_text(st, 5, qualified, -1, SQLITE_TRANSIENT);
    if (redriven >= 0)
        sqlite3_bind_int64(st, 6, redriven);
    else
        sqlite3_bind_null(st, 6);
    if (json_array_size(list) == max && sqlite3_step(st) == SQLITE_ROW) {
        char *t = sfn_page_token("ListExecutions", sqlite3_column_int64(st, 0));
        json_object_set_new(out, "nextToken", json_string(t));
        free(t);
    }
    sqlite3_reset(st);
    return out;
}

/* includeExecutionData false: inputs and outputs leave the events. */
static void strip_data(json_t *ev)
{
    const char *key;
    json_t *v;
    json_object_foreach(ev, key, v)
    {
        if (json_is_object(v) && strstr(key, "EventDetails")) {
            json_object_del(v, "input");
            json_object_del(v, "output");
            json_object_del(v, "inputDetails");
            json_object_del(v, "outputDetails");
        }
    }
}

json_t *sfn_get_execution_history(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "executionArn");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_EXECUTION, &a, err) != 0)
        return NULL;
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_EXEC_ID);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
    int found = read_row(s, st, err);
    if (found <= 0) {
        sqlite3_reset(st);
        if (found == 0)
            sfn_fail(err, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn);
        return NULL;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    int64_t pos;
    size_t max;
    if (sfn_page_args(req, "GetExecutionHistory", &pos, &max, err) != 0)
        return NULL;
    bool reverse = json_is_true(json_object_get(req, "reverseOrder"));
    json_t *inc = json_object_get(req, "includeExecutionData");
    bool with_data = inc == NULL || json_is_true(inc);
    if (reverse && pos == 0)
        pos = INT64_MAX;
    st = store_read_stmt(s->store, reverse ? SQL_HISTORY_REV : SQL_HISTORY_FWD);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, pos);
    json_t *events = json_array();
    int64_t last = 0;
    bool more = false;
    while (!more && sqlite3_step(st) == SQLITE_ROW) {
        int64_t first = sqlite3_column_int64(st, 0);
        json_t *run = json_loads(execs__col_text(st, 1), 0, NULL);
        size_t n = json_array_size(run);
        for (size_t k = 0; k < n; k++) {
            size_t i = reverse ? n - 1 - k : k;
            int64_t ev_id = first + (int64_t)i;
            if (reverse ? ev_id >= pos : ev_id <= pos)
                continue;
            if (json_array_size(events) == max) {
                more = true;
                break;
            }
            json_t *ev = json_array_get(run, i);
            if (!with_data)
                strip_data(ev);
            json_array_append(events, ev);
            last = ev_id;
        }
        json_decref(run);
    }
    sqlite3_reset(st);
    json_t *out = json_pack("{s:o}", "events", events);
    if (more) {
        char *t = sfn_page_token("GetExecutionHistory", last);
        json_object_set_new(out, "nextToken", json_string(t));
        free(t);
    }
    return out;
}

static int text_limit(json_t *req, const char *key, size_t max, sfn_err *err)
{
    const char *v = sfn_str(req, key);
    if (v && strlen(v) > max)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value at '%s' failed to satisfy "
                        "constraint: Member must have length less than or equal to %zu",
                        key, max);
    return 0;
}

json_t *sfn_stop_execution(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "executionArn");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_EXECUTION, &a, err) != 0 ||
        text_limit(req, "error", 256, err) != 0 || text_limit(req, "cause", 32768, err) != 0)
        return NULL;
    xrec *x = bt_strmap_get(&s->open_by_arn, arn);
    if (x == NULL || (x->e && exec_get_status(x->e) != EXEC_RUNNING)) {
        sqlite3_stmt *st;
        if (find_row(s, req, &st, err) != 0)
            return NULL;
        int64_t stop_ms = sqlite3_column_int64(st, 4);
        sqlite3_reset(st);
        /* Stopping an execution that has ended changes nothing. */
        return json_pack("{s:f}", "stopDate",
                         sfn_epoch_s(x && x->e ? exec_stop_ms(x->e) : stop_ms));
    }
    if (execs__load(s, x) != 0) {
        sfn_fail(err, "ServiceUnavailable", "the execution could not be loaded");
        return NULL;
    }
    const char *error = sfn_str(req, "error");
    const char *cause = sfn_str(req, "cause");
    exec_stop(x->e, error, cause, s->now_ms);
    json_t *rec = json_pack("{s:I, s:o, s:o}", "x", (json_int_t)s->now_ms, "e",
                            error ? json_string(error) : json_null(), "c",
                            cause ? json_string(cause) : json_null());
    execs__record(s, x, rec);
    execs__drive(s, x);
    return json_pack("{s:f}", "stopDate", sfn_epoch_s(s->now_ms));
}

/* TaskTimedOut with what AWS leaves out: why the token no longer opens a task, and when. */
static void closed_reason(const xrec *x, uint64_t task_id, sfn_err *err)
{
    exec_task_fate f;
    exec_task_fate_of(x->e, task_id, &f);
    char when[40] = "";
    bt_time_format(f.when_ms, when, sizeof when);
    const char *what;
    switch (f.kind) {
    case EXEC_FATE_SUCCEEDED:
        what = "was already answered (succeeded)";
        break;
    case EXEC_FATE_FAILED:
        what = "was already answered (failed)";
        break;
    case EXEC_FATE_TIMED_OUT:
        what = "timed out (TimeoutSeconds)";
        break;
    case EXEC_FATE_HEARTBEAT_TIMED_OUT:
        what = "timed out waiting for a heartbeat (HeartbeatSeconds)";
        break;
    case EXEC_FATE_CANCELLED:
        what = "was cancelled when its state was left";
        break;
    default:
        sfn_fail(err, "TaskDoesNotExist", "Task Does Not Exist: %s opened no such task", x->arn);
        return;
    }
    char later[160] = "";
    if (f.later_attempt > 0)
        snprintf(later, sizeof later, "; attempt %lld of the state has its own token",
                 (long long)f.later_attempt);
    sfn_fail(err, "TaskTimedOut",
             "Task Timed Out: 'Provided task does not exist anymore' (attempt %lld of state "
             "'%s' in %s %s at %s%s)",
             (long long)f.attempt, f.state_name ? f.state_name : "?", x->arn, what, when, later);
}

/* The execution and open task behind a token, or NULL with AWS's error (and a reason). */
static xrec *token_target(server *s, json_t *req, uint64_t *task_id, sfn_err *err)
{
    const char *token = sfn_str(req, "taskToken");
    if (token == NULL || token[0] == '\0' || strlen(token) > 2048) {
        sfn_fail(err, "ValidationException",
                 "1 validation error detected: Value at 'taskToken' failed to satisfy "
                 "constraint: Member must have length between 1 and 2048");
        return NULL;
    }
    int64_t exec_id;
    uint8_t mac[16], want[32];
    if (!execs__token_parse(token, &exec_id, task_id, mac)) {
        sfn_fail(err, "InvalidToken", "Invalid token");
        return NULL;
    }
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)exec_id);
    xrec *x = bt_strmap_get(&s->open_by_id, key);
    if (x == NULL) {
        sqlite3_stmt *st = store_read_stmt(s->store, SQL_EXEC_ROW_BY_ID);
        sqlite3_bind_int64(st, 1, exec_id);
        int found = read_row(s, st, err);
        if (found <= 0) {
            sqlite3_reset(st);
            if (found == 0)
                sfn_fail(err, "TaskDoesNotExist",
                         "Task Does Not Exist: no execution holds this token");
            return NULL;
        }
        xrec tmp = {.id = exec_id};
        if (sqlite3_column_bytes(st, 3) == TOKEN_KEY_BYTES)
            memcpy(tmp.token_key, sqlite3_column_blob(st, 3), TOKEN_KEY_BYTES);
        execs__token_mac(&tmp, *task_id, want);
        if (!bt_ct_equal(want, mac, 16)) {
            sqlite3_reset(st);
            sfn_fail(err, "InvalidToken", "Invalid token");
            return NULL;
        }
        char when[40];
        bt_time_format(sqlite3_column_int64(st, 2), when, sizeof when);
        sfn_fail(err, "TaskTimedOut",
                 "Task Timed Out: 'Provided task does not exist anymore' (execution %s ended %s "
                 "at %s)",
                 execs__col_text(st, 0), execs__col_text(st, 1), when);
        sqlite3_reset(st);
        return NULL;
    }
    execs__token_mac(x, *task_id, want);
    if (!bt_ct_equal(want, mac, 16)) {
        sfn_fail(err, "InvalidToken", "Invalid token");
        return NULL;
    }
    if (execs__load(s, x) != 0) {
        sfn_fail(err, "ServiceUnavailable", "the execution could not be loaded");
        return NULL;
    }
    if (exec_get_status(x->e) != EXEC_RUNNING) {
        char when[40];
        bt_time_format(exec_stop_ms(x->e), when, sizeof when);
        sfn_fail(err, "TaskTimedOut",
                 "Task Timed Out: 'Provided task does not exist anymore' (execution %s ended %s "
                 "at %s)",
                 x->arn, exec_status_name(exec_get_status(x->e)), when);
        return NULL;
    }
    if (exec_get_task(x->e, *task_id) == NULL) {
        closed_reason(x, *task_id, err);
        return NULL;
    }
    return x;
}

json_t *sfn_send_task_success(server *s, json_t *req, sfn_err *err)
{
    const char *output_text = sfn_str(req, "output");
    if (output_text == NULL || payload_limit("output", output_text, err) != 0) {
        if (output_text == NULL)
            sfn_fail(err, "ValidationException",
                     "1 validation error detected: Value null at 'output' failed to satisfy "
                     "constraint: Member must not be null");
        return NULL;
    }
    json_error_t jerr;
    json_t *output = json_loads(output_text, JSON_DECODE_ANY, &jerr);
    if (output == NULL) {
        sfn_fail(err, "InvalidOutput", "Invalid Output: '%s'", jerr.text);
        return NULL;
    }
    uint64_t task_id;
    xrec *x = token_target(s, req, &task_id, err);
    if (x == NULL) {
        json_decref(output);
        return NULL;
    }
    struct pending_outcome p = {.kind = PEND_SUCCEEDED, .task_id = task_id, .value = output};
    execs__apply(s, x, &p, s->now_ms);
    json_decref(output);
    execs__drive(s, x);
    return json_object();
}

json_t *sfn_send_task_failure(server *s, json_t *req, sfn_err *err)
{
    if (text_limit(req, "error", 256, err) != 0 || text_limit(req, "cause", 32768, err) != 0)
        return NULL;
    uint64_t task_id;
    xrec *x = token_target(s, req, &task_id, err);
    if (x == NULL)
        return NULL;
    struct pending_outcome p = {.kind = PEND_FAILED,
                                .task_id = task_id,
                                .error = sfn_str(req, "error"),
                                .cause = sfn_str(req, "cause")};
    execs__apply(s, x, &p, s->now_ms);
    execs__drive(s, x);
    return json_object();
}

json_t *sfn_send_task_heartbeat(server *s, json_t *req, sfn_err *err)
{
    uint64_t task_id;
    xrec *x = token_target(s, req, &task_id, err);
    if (x == NULL)
        return NULL;
    struct pending_outcome p = {.kind = PEND_HEARTBEAT, .task_id = task_id};
    execs__apply(s, x, &p, s->now_ms);
    execs__drive(s, x);
    return json_object();
}
