/*
 * versions.c — state machine versions and aliases: their registry on the engine thread (in
 * memory, so that two requests of one loop iteration see each other's writes), their rows,
 * the operations PublishStateMachineVersion, ListStateMachineVersions,
 * DeleteStateMachineVersion and DescribeStateMachine of a version, and the hooks through
 * which CreateStateMachine and UpdateStateMachine publish and StartExecution,
 * DescribeExecution and ListExecutions take version and alias ARNs. The alias operations
 * are in aliases.c.
 *
 * AWS's model (Developer Guide, "State machine versions" and "State machine aliases"; API
 * reference of each operation): a version is a numbered, immutable snapshot of one revision,
 * numbered 1, 2, … per machine and never renumbered (delete 10, the next is 11), at most
 * 1000 live per machine; publishing a revision that already has a version answers that
 * version. An alias points at one or two versions of its machine with weights summing to
 * 100, and StartExecution through it picks one at random by weight; at most 100 per machine.
 * Deleting a machine deletes its versions and aliases (DeleteStateMachine).
 *
 * Message texts are AWS's as its responses word them (recorded against AWS in LocalStack's
 * test snapshots, tests/aws/services/stepfunctions/v2/test_sfn_api_{versioning,aliasing});
 * the few whose AWS text is unknown are marked "our wording".
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "base/rand.h"
#include "server/versions_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_INSERT_VERSION[] =
    "INSERT INTO versions (sm_id, number, revision, revision_id, description, logging, tracing,"
    " created_ms) VALUES (?,?,?,?,?,?,?,?)";
static const char SQL_PUT_NUMBER[] =
    "INSERT OR REPLACE INTO version_numbers (sm_id, last) VALUES (?,?)";
static const char SQL_DELETE_VERSION[] = "DELETE FROM versions WHERE sm_id = ? AND number = ?";
static const char SQL_NOTE_EXEC[] =
    "INSERT INTO exec_versions (exec_id, version_arn, alias_arn) VALUES (?,?,?)";
static const char SQL_EXEC_QUALIFIERS[] =
    "SELECT q.version_arn, q.alias_arn FROM exec_versions q JOIN executions e ON e.id = q.exec_id"
    " WHERE e.arn = ?";
static const char SQL_LOAD_NUMBERS[] = "SELECT sm_id, last FROM version_numbers";
static const char SQL_LOAD_VERSIONS[] =
    "SELECT v.sm_id, v.number, v.revision, v.revision_id, v.description, v.logging, v.tracing,"
    " v.created_ms, r.role_arn FROM versions v JOIN revisions r ON r.id = v.revision"
    " ORDER BY v.sm_id, v.number";
static const char SQL_REVISION[] = "SELECT definition, role_arn FROM revisions WHERE id = ?";

/* ---- small helpers ---- */

int versions__check_description(const char *text, const char *member, sfn_err *err)
{
    if (text && strlen(text) > MAX_DESCRIPTION)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value at '%s' failed to satisfy "
                        "constraint: Member must have length less than or equal to %d",
                        member, MAX_DESCRIPTION);
    return 0;
}

/* The parts of a state machine ARN with a qualifier, or -1 with InvalidArn. */
int versions__parse_qualified(const char *text, bt_arn *a, sfn_err *err)
{
    if (sfn_check_arn(text, BT_ARN_STATE_MACHINE, a, err) != 0)
        return -1;
    if (a->qualifier[0] == '\0')
        return sfn_fail(err, "InvalidArn",
                        "Invalid Arn: 'Resource type not valid in this context: %s'",
                        "stateMachine");
    return 0;
}

/* The machine a version or alias ARN belongs to: the ARN without its qualifier. */
machine *versions__machine_of(server *s, const char *qualified)
{
    const char *colon = strrchr(qualified, ':');
    size_t n = colon ? (size_t)(colon - qualified) : 0;
    char arn[BT_ARN_MAX_CHARS + 1];
    if (n == 0 || n > BT_ARN_MAX_CHARS)
        return NULL;
    memcpy(arn, qualified, n);
    arn[n] = '\0';
    return machines_find(s, arn);
}

char *versions__arn(const machine *m, int64_t number)
{
    return bt_xasprintf("%s:%lld", m->arn, (long long)number);
}

/* ---- the registry ---- */

vset *versions__set(server *s, int64_t sm_id, bool create)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)sm_id);
    vset *vs = bt_strmap_get(&s->machine_versions, key);
    if (vs == NULL && create) {
        vs = bt_xcalloc(1, sizeof *vs);
        memcpy(vs->key, key, sizeof key);
        bt_strmap_put(&s->machine_versions, vs->key, vs);
    }
    return vs;
}

static void version_free(version *v)
{
    free(v->revision_id);
    free(v->role_arn);
    free(v->description);
    free(v->logging);
    free(v->tracing);
    free(v);
}

static void vset_free(vset *vs)
{
    for (size_t i = 0; i < vs->n_versions; i++)
        version_free(vs->versions[i]);
    for (size_t i = 0; i < vs->n_aliases; i++)
        versions__alias_free(vs->aliases[i]);
    free(vs->versions);
    free(vs->aliases);
    free(vs);
}

static void add_version(vset *vs, version *v)
{
    if (vs->n_versions == vs->cap_versions) {
        vs->cap_versions = vs->cap_versions ? vs->cap_versions * 2 : 8;
        vs->versions = bt_xrealloc(vs->versions, vs->cap_versions * sizeof(version *));
    }
    vs->versions[vs->n_versions++] = v;
}

version *versions__find(const vset *vs, int64_t number)
{
    for (size_t i = 0; vs && i < vs->n_versions; i++)
        if (vs->versions[i]->number == number)
            return vs->versions[i];
    return NULL;
}

static version *version_of_revision(const vset *vs, int64_t revision)
{
    for (size_t i = 0; vs && i < vs->n_versions; i++)
        if (vs->versions[i]->revision == revision)
            return vs->versions[i];
    return NULL;
}

alias *versions__find_alias(const vset *vs, const char *name)
{
    for (size_t i = 0; vs && i < vs->n_aliases; i++)
        if (strcmp(vs->aliases[i]->name, name) == 0)
            return vs->aliases[i];
    return NULL;
}

bool versions__routes_to(const alias *al, int64_t number)
{
    for (size_t i = 0; i < al->n_routes; i++)
        if (al->routes[i].version == number)
            return true;
    return false;
}

static int load_numbers(server *s)
{
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_LOAD_NUMBERS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        versions__set(s, sqlite3_column_int64(st, 0), true)->last_number =
            sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int load_versions(server *s)
{
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_LOAD_VERSIONS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        version *v = bt_xcalloc(1, sizeof *v);
        v->number = sqlite3_column_int64(st, 1);
        v->revision = sqlite3_column_int64(st, 2);
        v->revision_id = bt_xstrdup(execs__col_text(st, 3));
        v->description = srv_strdup0(execs__col_text(st, 4));
        v->logging = srv_strdup0(execs__col_text(st, 5));
        v->tracing = srv_strdup0(execs__col_text(st, 6));
        v->created_ms = sqlite3_column_int64(st, 7);
        v->role_arn = bt_xstrdup(execs__col_text(st, 8));
        add_version(versions__set(s, sqlite3_column_int64(st, 0), true), v);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int versions_load(server *s, bt_err *err)
{
    bt_strmap_init(&s->machine_versions);
    s->next_alias_id = 1;
    if (load_numbers(s) != 0 || load_versions(s) != 0 || versions__load_aliases(s) != 0)
        return bt_err_set(err, BT_EIO, "cannot read versions and aliases: %s",
                          sqlite3_errmsg(store_reader(s->store)));
    return 0;
}

void versions_fini(server *s)
{
    size_t i = 0;
    const char *key;
    void *value;
    while (bt_strmap_next(&s->machine_versions, &i, &key, &value))
        vset_free(value);
    bt_strmap_fini(&s->machine_versions);
}

void versions_drop_machine(server *s, const machine *m)
{
    vset *vs = versions__set(s, m->id, false);
    if (vs) {
        bt_strmap_del(&s->machine_versions, vs->key);
        vset_free(vs);
    }
}

/* The definition and role of a revision (heap), from memory when it is m's current one. */
static int revision_text(server *s, const machine *m, int64_t revision, char **definition,
                         char **role)
{
    if (revision == m->revision) {
        *definition = bt_xstrdup(m->definition);
        *role = bt_xstrdup(m->role_arn);
        return 0;
    }
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_REVISION);
    sqlite3_bind_int64(st, 1, revision);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    if (rc == 0) {
        *definition = bt_xstrdup(execs__col_text(st, 0));
        *role = bt_xstrdup(execs__col_text(st, 1));
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- versions ---- */

/* Publishes m's current revision, or answers the version it already has (AWS: publishing is
 * idempotent on the revision). */
static int publish(server *s, machine *m, const char *description, version **out, sfn_err *err)
{
    vset *vs = versions__set(s, m->id, true);
    *out = version_of_revision(vs, m->revision);
    if (*out)
        return 0;
    if (vs->n_versions >= MAX_VERSIONS)
        /* Our wording: AWS's text for this quota is not recorded. */
        return sfn_fail(err, "ServiceQuotaExceededException",
                        "Failed to publish a version of '%s': it has the maximum of %d versions; "
                        "delete unused versions with DeleteStateMachineVersion",
                        m->arn, MAX_VERSIONS);
    version *v = bt_xcalloc(1, sizeof *v);
    v->number = ++vs->last_number;
    v->revision = m->revision;
    v->created_ms = s->now_ms;
    v->revision_id = bt_xstrdup(m->revision_id);
    v->role_arn = bt_xstrdup(m->role_arn);
    v->description = srv_strdup0(description);
    v->logging = srv_strdup0(m->logging);
    v->tracing = srv_strdup0(m->tracing);
    add_version(vs, v);
    store_batch *b = server_batch(s);
    store_batch_add(b, SQL_INSERT_VERSION, "iiitttti", m->id, v->number, v->revision,
                    v->revision_id, v->description, v->logging, v->tracing, v->created_ms);
    store_batch_add(b, SQL_PUT_NUMBER, "ii", m->id, vs->last_number);
    server_log(s, SERVER_LOG_INFO, "version.publish", "arn=%s version=%lld", m->arn,
               (long long)v->number);
    *out = v;
    return 0;
}

int versions_check_publish(server *s, const machine *m, json_t *req, sfn_err *err)
{
    bool asked = json_is_true(json_object_get(req, "publish"));
    const char *description = sfn_str(req, "versionDescription");
    if (description && !asked)
        return sfn_fail(err, "ValidationException",
                        "Version description can only be set when publish is true");
    if (versions__check_description(description, "versionDescription", err) != 0)
        return -1;
    /* An update may or may not make a new revision; refusing at the quota either way keeps
     * the check ahead of any change. */
    const vset *vs = m ? versions__set(s, m->id, false) : NULL;
    if (asked && vs && vs->n_versions >= MAX_VERSIONS && !version_of_revision(vs, m->revision))
        return sfn_fail(err, "ServiceQuotaExceededException",
                        "Failed to publish a version of '%s': it has the maximum of %d versions; "
                        "delete unused versions with DeleteStateMachineVersion",
                        m->arn, MAX_VERSIONS);
    return 0;
}

void versions_publish_requested(server *s, machine *m, json_t *req, json_t *out)
{
    if (!json_is_true(json_object_get(req, "publish")))
        return;
    version *v;
    sfn_err err;
    int rc = publish(s, m, sfn_str(req, "versionDescription"), &v, &err);
    assert(rc == 0); /* versions_check_publish made sure there is room */
    (void)rc;
    char *arn = versions__arn(m, v->number);
    json_object_set_new(out, "stateMachineVersionArn", json_string(arn));
    free(arn);
}

bool versions_is_qualified(const char *arn)
{
    bt_arn a;
    const char *why;
    return arn && bt_arn_parse(arn, &a, &why) == 0 && a.kind == BT_ARN_STATE_MACHINE &&
           a.qualifier[0] != '\0';
}

json_t *sfn_publish_state_machine_version(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineArn");
    const char *description = sfn_str(req, "description");
    const char *revision_id = sfn_str(req, "revisionId");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_STATE_MACHINE, &a, err) != 0 ||
        versions__check_description(description, "description", err) != 0)
        return NULL;
    machine *m = machines_find(s, arn);
    if (m == NULL) {
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return NULL;
    }
    if (revision_id && strcmp(revision_id, m->revision_id) != 0) {
        sfn_fail(err, "ConflictException",
                 "Failed to publish the State Machine version for revision %s. The current "
                 "State Machine revision is %s.",
                 revision_id, m->revision_id);
        return NULL;
    }
    version *v;
    if (publish(s, m, description, &v, err) != 0)
        return NULL;
    char *varn = versions__arn(m, v->number);
    json_t *out = json_pack("{s:f, s:s}", "creationDate", sfn_epoch_s(v->created_ms),
                            "stateMachineVersionArn", varn);
    free(varn);
    return out;
}

json_t *sfn_list_state_machine_versions(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineArn");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    machine *m = machines_find(s, arn);
    if (m == NULL) {
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return NULL;
    }
    int64_t pos;
    size_t max;
    if (sfn_page_args(req, "ListStateMachineVersions", &pos, &max, err) != 0)
        return NULL;
    /* Newest first (the API reference), so a page resumes below the last number it gave. */
    const vset *vs = versions__set(s, m->id, false);
    json_t *list = json_array();
    size_t i = vs ? vs->n_versions : 0;
    while (i > 0 && pos > 0 && vs->versions[i - 1]->number >= pos)
        i--;
    int64_t last = 0;
    for (; i > 0 && json_array_size(list) < max; i--) {
        const version *v = vs->versions[i - 1];
        char *varn = versions__arn(m, v->number);
        json_array_append_new(list, json_pack("{s:s, s:f}", "stateMachineVersionArn", varn,
                                              "creationDate", sfn_epoch_s(v->created_ms)));
        free(varn);
        last = v->number;
    }
    json_t *out = json_pack("{s:o}", "stateMachineVersions", list);
    if (i > 0) {
        char *t = sfn_page_token("ListStateMachineVersions", last);
        json_object_set_new(out, "nextToken", json_string(t));
        free(t);
    }
    return out;
}

/* A version ARN's machine (NULL when gone) and number, or -1 with InvalidArn. */
static int parse_version_arn(server *s, const char *text, machine **m, int64_t *number,
                             sfn_err *err)
{
    bt_arn a;
    if (versions__parse_qualified(text, &a, err) != 0)
        return -1;
    if (!bt_arn_is_version(&a))
        /* Our wording: AWS's text for an alias ARN given as a version is not recorded. */
        return sfn_fail(err, "InvalidArn", "Invalid Arn: 'Not a state machine version ARN: %s'",
                        text);
    *number = strtoll(a.qualifier, NULL, 10);
    *m = versions__machine_of(s, text);
    return 0;
}

/* "[a, b]" — how AWS's messages quote the values they refuse. */
void versions__list_text(bt_buf *b, const char *const *items, size_t n)
{
    bt_buf_puts(b, "[");
    for (size_t i = 0; i < n; i++)
        bt_buf_printf(b, "%s%s", i ? ", " : "", items[i]);
    bt_buf_puts(b, "]");
}

json_t *sfn_delete_state_machine_version(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineVersionArn");
    machine *m = NULL;
    int64_t number = 0;
    if (parse_version_arn(s, arn, &m, &number, err) != 0)
        return NULL;
    vset *vs = m ? versions__set(s, m->id, false) : NULL;
    version *v = versions__find(vs, number);
    /* A version that is not there is deleted already (AWS answers success). */
    if (v == NULL)
        return json_object();
    const char *names[MAX_ALIASES];
    size_t n = 0;
    for (size_t i = 0; i < vs->n_aliases; i++)
        if (versions__routes_to(vs->aliases[i], number))
            names[n++] = vs->aliases[i]->name;
    if (n > 0) {
        bt_buf b;
        bt_buf_init(&b);
        versions__list_text(&b, names, n);
        sfn_fail(err, "ConflictException",
                 "Version to be deleted must not be referenced by an alias. Current list of "
                 "aliases referencing this version: %s",
                 b.data);
        bt_buf_fini(&b);
        return NULL;
    }
    for (size_t i = 0; i < vs->n_versions; i++)
        if (vs->versions[i] == v) {
            memmove(&vs->versions[i], &vs->versions[i + 1],
                    (vs->n_versions - i - 1) * sizeof(version *));
            vs->n_versions--;
            break;
        }
    /* Running executions of the version go on with its revision, which stays. */
    store_batch_add(server_batch(s), SQL_DELETE_VERSION, "ii", m->id, number);
    server_log(s, SERVER_LOG_INFO, "version.delete", "arn=%s", arn);
    version_free(v);
    return json_object();
}

json_t *sfn_describe_state_machine_version(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineArn");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    /* DescribeStateMachine describes versions (API reference); an alias names none. */
    machine *m = bt_arn_is_version(&a) ? versions__machine_of(s, arn) : NULL;
    const version *v =
        m ? versions__find(versions__set(s, m->id, false), strtoll(a.qualifier, NULL, 10)) : NULL;
    char *definition, *role;
    if (v == NULL || revision_text(s, m, v->revision, &definition, &role) != 0) {
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return NULL;
    }
    /* The machine as the version froze it: its revision, configuration and description. */
    machine frozen = *m;
    frozen.arn = bt_xstrdup(arn);
    frozen.definition = definition;
    frozen.role_arn = role;
    frozen.created_ms = v->created_ms;
    frozen.revision_id = v->revision_id;
    frozen.description = v->description;
    frozen.logging = v->logging;
    frozen.tracing = v->tracing;
    json_t *out = sfn_describe_machine_json(&frozen);
    free(frozen.arn);
    free(definition);
    free(role);
    return out;
}

/* ---- executions through versions and aliases ---- */

int versions_resolve(server *s, const char *arn, versions_target *out, sfn_err *err)
{
    memset(out, 0, sizeof *out);
    bt_arn a;
    if (versions__parse_qualified(arn, &a, err) != 0)
        return -1;
    machine *m = versions__machine_of(s, arn);
    const vset *vs = m ? versions__set(s, m->id, false) : NULL;
    const alias *al = bt_arn_is_version(&a) ? NULL : versions__find_alias(vs, a.qualifier);
    int64_t number = al ? versions__draw(al) : strtoll(a.qualifier, NULL, 10);
    const version *v = al || bt_arn_is_version(&a) ? versions__find(vs, number) : NULL;
    if (v == NULL)
        return sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
    out->compiled = machines_revision(s, v->revision);
    if (out->compiled == NULL)
        return sfn_fail(err, "ServiceUnavailable", "the definition of %s could not be loaded", arn);
    out->m = m;
    out->revision = v->revision;
    out->role_arn = v->role_arn;
    snprintf(out->version_arn, sizeof out->version_arn, "%s:%lld", m->arn, (long long)number);
    if (al)
        snprintf(out->alias_arn, sizeof out->alias_arn, "%s", arn);
    return 0;
}

void versions_note_execution(server *s, int64_t exec_id, const versions_target *t)
{
    if (t->version_arn[0] == '\0')
        return;
    store_batch_add(server_batch(s), SQL_NOTE_EXEC, "itt", exec_id, t->version_arn,
                    t->alias_arn[0] ? t->alias_arn : NULL);
}

void versions_annotate_execution(server *s, const char *exec_arn, json_t *out)
{
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_EXEC_QUALIFIERS);
    sqlite3_bind_text(st, 1, exec_arn, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        /* Through an alias both are set; through a version only the version (API reference,
         * DescribeExecution and ExecutionListItem). */
        json_object_set_new(out, "stateMachineVersionArn", json_string(execs__col_text(st, 0)));
        if (execs__col_text(st, 1))
            json_object_set_new(out, "stateMachineAliasArn", json_string(execs__col_text(st, 1)));
    }
    sqlite3_reset(st);
}

machine *versions_list_target(server *s, const char *arn, sfn_err *err)
{
    bt_arn a;
    if (versions__parse_qualified(arn, &a, err) != 0)
        return NULL;
    machine *m = versions__machine_of(s, arn);
    if (m == NULL) {
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return NULL;
    }
    const vset *vs = versions__set(s, m->id, false);
    bool found = bt_arn_is_version(&a) ? versions__find(vs, strtoll(a.qualifier, NULL, 10)) != NULL
                                       : versions__find_alias(vs, a.qualifier) != NULL;
    if (!found) {
        sfn_fail(err, "ResourceNotFound", "Resource not found: '%s'", arn);
        return NULL;
    }
    return m;
}
