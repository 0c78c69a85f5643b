/*
 * schema.c — the server's tables. Migrations of the server and of the services (queues: 2,
 * passed by serve.c) share one numbering and are applied in version order; a store written by
 * a newer Baton is refused by store_open. Numbers taken: 1 the server's core, 2 queues,
 * 3 activities, 4 versions and aliases, 5 the index of closed executions by end time,
 * 6 redrives (counts, the logs kept for them, client tokens), 7–8 functions, 9 triggers,
 * 10 the project file, 11 schedules, 12–13 topics (topic.h), 20 approvals.
 *
 *   state_machines  one row per state machine; `revision` points at its current definition
 *   revisions       every definition a state machine has had (executions run a revision)
 *   executions      one row per execution: what it was started with (input, seed, token
 *                   key, revision) and where it stands (status, output, next timer)
 *   exec_log        an open execution's inputs since its start, in order (task outcomes,
 *                   heartbeats, hand-outs to activity workers, the times the engine was
 *                   advanced at): replaying them from
 *                   the start rebuilds its state exactly, because the engine reads no clock
 *                   and no randomness of its own; deleted when the execution ends, unless
 *                   it ended FAILED, TIMED_OUT or ABORTED: then kept (`log_kept`, v6) while
 *                   it may be redriven, 14 days, and a redrive appends to it
 *   history         the AWS-shaped history events, as GetExecutionHistory returns them, in
 *                   runs (first_id..last_id, a JSON array of at most 100): what one loop
 *                   iteration adds to an execution is one row
 *   tags            tags of state machines and activities
 *   activities      one row per activity (v3)
 *   activity_tasks  the work Task states offered to an activity's workers (v3): offered until
 *                   GetActivityTask hands it out, then started (with the worker) until the
 *                   task closes; the row goes when it does
 *   versions        published versions (v4): a number per machine and the revision it froze
 *   version_numbers the last number each machine gave out (v4; numbers are never reused, even
 *                   once the newest version is deleted)
 *   aliases         aliases (v4) and their routing: one or two versions with weights
 *   exec_versions   the version (and alias) an execution was started through (v4)
 *   redrive_tokens  the clientTokens of RedriveExecution calls (v6), for 15 minutes
 *
 * Triggers keep the version tables in step with the core's deletes, so that removing a state
 * machine or an expired execution needs no knowledge of them.
 */
#include "server/server_int.h"

static const char schema_v1[] =
    "CREATE TABLE state_machines ("
    " id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " type TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " revision INTEGER NOT NULL, revision_id TEXT NOT NULL, logging TEXT, tracing TEXT,"
    " description TEXT);"
    "CREATE TABLE revisions ("
    " id INTEGER PRIMARY KEY, sm_id INTEGER NOT NULL, definition TEXT NOT NULL,"
    " role_arn TEXT NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE executions ("
    " id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, sm_id INTEGER NOT NULL,"
    " revision INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,"
    " start_ms INTEGER NOT NULL, stop_ms INTEGER, input TEXT NOT NULL, output TEXT,"
    " error TEXT, cause TEXT, seed INTEGER NOT NULL, token_key BLOB NOT NULL,"
    " next_timer_ms INTEGER, n_events INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX executions_by_machine ON executions (sm_id, id);"
    "CREATE INDEX executions_open ON executions (id) WHERE status = 'RUNNING';"
    "CREATE TABLE exec_log ("
    " exec_id INTEGER NOT NULL, seq INTEGER NOT NULL, rec TEXT NOT NULL,"
    " PRIMARY KEY (exec_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE history ("
    " exec_id INTEGER NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,"
    " events TEXT NOT NULL, PRIMARY KEY (exec_id, first_id)) WITHOUT ROWID;"
    "CREATE TABLE tags ("
    " arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (arn, key)) WITHOUT ROWID;";

static const char schema_v3[] =
    "CREATE TABLE activities ("
    " id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE activity_tasks ("
    " exec_id INTEGER NOT NULL, task_id INTEGER NOT NULL, activity_arn TEXT NOT NULL,"
    " token TEXT NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL, worker TEXT,"
    " scheduled_ms INTEGER NOT NULL, started_ms INTEGER,"
    " PRIMARY KEY (exec_id, task_id)) WITHOUT ROWID;";

static const char schema_v4[] =
    "CREATE TABLE versions ("
    " sm_id INTEGER NOT NULL, number INTEGER NOT NULL, revision INTEGER NOT NULL,"
    " revision_id TEXT NOT NULL, description TEXT, logging TEXT, tracing TEXT,"
    " created_ms INTEGER NOT NULL, PRIMARY KEY (sm_id, number)) WITHOUT ROWID;"
    "CREATE TABLE version_numbers (sm_id INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
    "CREATE TABLE aliases ("
    " id INTEGER PRIMARY KEY, sm_id INTEGER NOT NULL, name TEXT NOT NULL, description TEXT,"
    " version1 INTEGER NOT NULL, weight1 INTEGER NOT NULL, version2 INTEGER, weight2 INTEGER,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, UNIQUE (sm_id, name));"
    "CREATE TABLE exec_versions ("
    " exec_id INTEGER PRIMARY KEY, version_arn TEXT NOT NULL, alias_arn TEXT);"
    "CREATE INDEX exec_versions_by_version ON exec_versions (version_arn);"
    "CREATE INDEX exec_versions_by_alias ON exec_versions (alias_arn)"
    " WHERE alias_arn IS NOT NULL;"
    "CREATE TRIGGER state_machines_versions AFTER DELETE ON state_machines BEGIN"
    " DELETE FROM versions WHERE sm_id = old.id;"
    " DELETE FROM version_numbers WHERE sm_id = old.id;"
    " DELETE FROM aliases WHERE sm_id = old.id; END;"
    "CREATE TRIGGER executions_versions AFTER DELETE ON executions BEGIN"
    " DELETE FROM exec_versions WHERE exec_id = old.id; END;";

/* Closed executions by end time, for the retention sweep (execs.c). */
static const char schema_v5[] =
    "CREATE INDEX executions_closed ON executions (stop_ms) WHERE status != 'RUNNING';";

/* RedriveExecution (redrive.c): how often and when last, and whether the log is still kept
 * (closed executions only, found by end time for the sweep that drops it). */
static const char schema_v6[] =
    "ALTER TABLE executions ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE executions ADD COLUMN redrive_ms INTEGER;"
    "ALTER TABLE executions ADD COLUMN log_kept INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX executions_log_kept ON executions (stop_ms) WHERE log_kept = 1;"
    "CREATE TABLE redrive_tokens ("
    " exec_id INTEGER NOT NULL, token TEXT NOT NULL, redrive_ms INTEGER NOT NULL,"
    " PRIMARY KEY (exec_id, token)) WITHOUT ROWID;"
    "CREATE TRIGGER executions_redrive AFTER DELETE ON executions BEGIN"
    " DELETE FROM redrive_tokens WHERE exec_id = old.id;"
    " DELETE FROM exec_log WHERE exec_id = old.id; END;";

static const store_migration migrations[] = {
    {1, schema_v1}, {3, schema_v3}, {4, schema_v4}, {5, schema_v5}, {6, schema_v6},
};

size_t server_n_migrations(void)
{
    return sizeof migrations / sizeof migrations[0];
}

void server_migrations(store_migration *out)
{
    for (size_t i = 0; i < server_n_migrations(); i++)
        out[i] = migrations[i];
}
