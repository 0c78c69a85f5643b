/*
 * machines.c — state machines: their registry on the engine thread (every one is in memory,
 * compiled once), their rows, and the operations CreateStateMachine, UpdateStateMachine,
 * DeleteStateMachine, DescribeStateMachine, ListStateMachines,
 * ValidateStateMachineDefinition and the tag operations (versions and aliases: versions.c).
 *
 * Each definition a machine ever had is a revision row; an execution runs the revision
 * current at its start, so an update never changes what a running (or replayed) execution
 * does. Message texts are AWS's (../docs: "State Machine Does Not Exist: '<arn>'").
 */
#include "asl/validate.h"
#include "base/alloc.h"
#include "base/arn.h"
#include "base/crypto.h"
#include "base/diag.h"
#include "base/rand.h"
#include "server/server_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AWS's limits: definitions of at most 1 MiB, 50 tags per resource. */
#define MAX_DEFINITION 1048576
#define MAX_TAGS       50

static const char SQL_INSERT_MACHINE[] =
    "INSERT INTO state_machines (id, arn, name, type, created_ms, updated_ms, revision,"
    " revision_id, logging, tracing, description) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_UPDATE_MACHINE[] =
    "UPDATE state_machines SET updated_ms = ?, revision = ?, revision_id = ?, logging = ?,"
    " tracing = ? WHERE id = ?";
static const char SQL_DELETE_MACHINE[] = "DELETE FROM state_machines WHERE id = ?";
static const char SQL_INSERT_REVISION[] =
    "INSERT INTO revisions (id, sm_id, definition, role_arn, created_ms) VALUES (?,?,?,?,?)";
static const char SQL_LOAD_MACHINES[] =
    "SELECT m.id, m.arn, m.name, m.type, m.created_ms, m.updated_ms, m.revision,"
    " m.revision_id, m.logging, m.tracing, m.description, r.definition, r.role_arn"
    " FROM state_machines m JOIN revisions r ON r.id = m.revision ORDER BY m.id";
/* Machine ids come from the revisions, which outlive a deleted machine: a new machine never
 * takes the id (and so the executions) of a deleted one. */
static const char SQL_MAX_IDS[] = "SELECT (SELECT COALESCE(MAX(sm_id), 0) FROM revisions),"
                                  " (SELECT COALESCE(MAX(id), 0) FROM revisions)";
static const char SQL_LOAD_REVISION[] = "SELECT definition FROM revisions WHERE id = ?";
static const char SQL_PUT_TAG[] = "INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?,?,?)";
static const char SQL_DEL_TAG[] = "DELETE FROM tags WHERE arn = ? AND key = ?";
static const char SQL_DEL_TAGS[] = "DELETE FROM tags WHERE arn = ?";
static const char SQL_LIST_TAGS[] = "SELECT key, value FROM tags WHERE arn = ? ORDER BY key";
static const char SQL_COUNT_TAGS[] = "SELECT COUNT(*) FROM tags WHERE arn = ?";

const char *sfn_str(json_t *req, const char *key)
{
    json_t *v = json_object_get(req, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

double sfn_epoch_s(int64_t ms)
{
    return (double)ms / 1000.0;
}

char *srv_strdup0(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

int sfn_fail(sfn_err *err, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->type = type;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void machine_free(machine *m)
{
    if (m == NULL)
        return;
    free(m->arn);
    free(m->name);
    free(m->type);
    free(m->revision_id);
    free(m->definition);
    free(m->role_arn);
    free(m->logging);
    free(m->tracing);
    free(m->description);
    asl_machine_unref(m->compiled);
    free(m);
}

static void list_add(server *s, machine *m)
{
    if (s->n_machines == s->cap_machines) {
        s->cap_machines = s->cap_machines ? s->cap_machines * 2 : 16;
        s->machine_list = bt_xrealloc(s->machine_list, s->cap_machines * sizeof(machine *));
    }
    s->machine_list[s->n_machines++] = m;
    bt_strmap_put(&s->machines, m->arn, m);
}

static void list_remove(server *s, machine *m)
{
    bt_strmap_del(&s->machines, m->arn);
    for (size_t i = 0; i < s->n_machines; i++)
        if (s->machine_list[i] == m) {
            memmove(&s->machine_list[i], &s->machine_list[i + 1],
                    (s->n_machines - i - 1) * sizeof(machine *));
            s->n_machines--;
            break;
        }
}

static void new_uuid(char out[37])
{
    uint8_t b[16];
    bt_random_bytes(b, sizeof b);
    bt_uuid_format(b, out);
}

int machines_load(server *s, bt_err *err)
{
    bt_strmap_init(&s->machines);
    bt_strmap_init(&s->revisions);
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_MAX_IDS);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        return bt_err_set(err, BT_EIO, "cannot read the store: %s",
                          sqlite3_errmsg(store_reader(s->store)));
    s->next_machine_id = sqlite3_column_int64(st, 0) + 1;
    s->next_revision_id = sqlite3_column_int64(st, 1) + 1;
    sqlite3_reset(st);
    st = store_read_stmt(s->store, SQL_LOAD_MACHINES);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        machine *m = bt_xcalloc(1, sizeof *m);
        m->id = sqlite3_column_int64(st, 0);
        m->arn = bt_xstrdup(execs__col_text(st, 1));
        m->name = bt_xstrdup(execs__col_text(st, 2));
        m->type = bt_xstrdup(execs__col_text(st, 3));
        m->created_ms = sqlite3_column_int64(st, 4);
        m->updated_ms = sqlite3_column_int64(st, 5);
        m->revision = sqlite3_column_int64(st, 6);
        m->revision_id = bt_xstrdup(execs__col_text(st, 7));
        m->logging = srv_strdup0(execs__col_text(st, 8));
        m->tracing = srv_strdup0(execs__col_text(st, 9));
        m->description = srv_strdup0(execs__col_text(st, 10));
        m->definition = bt_xstrdup(execs__col_text(st, 11));
        m->role_arn = bt_xstrdup(execs__col_text(st, 12));
        bt_diag d;
        bt_diag_init(&d);
        if (asl_load_text(m->definition, strlen(m->definition), &m->compiled, &d) != 0) {
            char *why = bt_diag_format(&d);
            bt_err_set(err, BT_ESTATE, "state machine %s no longer compiles: %s", m->arn, why);
            free(why);
            bt_diag_fini(&d);
            machine_free(m);
            sqlite3_reset(st);
            return err->code;
        }
        bt_diag_fini(&d);
        list_add(s, m);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read state machines: %s",
                          sqlite3_errmsg(store_reader(s->store)));
    return 0;
}

void machines_fini(server *s)
{
    for (size_t i = 0; i < s->n_machines; i++)
        machine_free(s->machine_list[i]);
    free(s->machine_list);
    s->machine_list = NULL;
    s->n_machines = 0;
    bt_strmap_fini(&s->machines);
    /* The revision cache holds references and owns its keys. */
    size_t i = 0;
    const char *key;
    void *value;
    while (bt_strmap_next(&s->revisions, &i, &key, &value)) {
        asl_machine_unref(value);
        free((void *)(uintptr_t)key);
    }
    bt_strmap_fini(&s->revisions);
}

machine *machines_find(server *s, const char *arn)
{
    return arn ? bt_strmap_get(&s->machines, arn) : NULL;
}

asl_machine *machines_revision(server *s, int64_t revision)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)revision);
    asl_machine *m = bt_strmap_get(&s->revisions, key);
    if (m)
        return m;
    for (size_t i = 0; i < s->n_machines; i++)
        if (s->machine_list[i]->revision == revision) {
            m = asl_machine_ref(s->machine_list[i]->compiled);
            break;
        }
    if (m == NULL) {
        sqlite3_stmt *st = store_read_stmt(s->store, SQL_LOAD_REVISION);
        sqlite3_bind_int64(st, 1, revision);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *text = execs__col_text(st, 0);
            bt_diag d;
            bt_diag_init(&d);
            if (asl_load_text(text, strlen(text), &m, &d) != 0)
                m = NULL;
            bt_diag_fini(&d);
        }
        sqlite3_reset(st);
        if (m == NULL)
            return NULL;
    }
    bt_strmap_put(&s->revisions, bt_xstrdup(key), m);
    return m;
}

/* ---- request checks shared by the operations ---- */

static const char *const kind_names[] = {"stateMachine", "execution", "express", "activity",
                                         "mapRun"};

int sfn_check_arn(const char *text, bt_arn_kind kind, bt_arn *out, sfn_err *err)
{
    const char *why = NULL;
    if (bt_arn_parse(text, out, &why) != 0)
        return sfn_fail(err, "InvalidArn", "Invalid Arn: '%s: %s'", why ? why : "Invalid ARN",
                        text);
    if (out->kind != kind)
        return sfn_fail(err, "InvalidArn",
                        "Invalid Arn: 'Resource type not valid in this context: %s'",
                        kind_names[out->kind]);
    return 0;
}

/* An IAM role ARN: arn:<partition>:iam::<12 digits>:role/<path and name>. */
int sfn_check_role(const char *role, sfn_err *err)
{
    static const char *const partitions[] = {
        "arn:aws:iam::", "arn:aws-cn:iam::", "arn:aws-us-gov:iam::"};
    const char *p = NULL;
    for (size_t i = 0; i < sizeof partitions / sizeof partitions[0] && p == NULL; i++)
        if (strncmp(role, partitions[i], strlen(partitions[i])) == 0)
            p = role + strlen(partitions[i]);
    if (p == NULL)
        return sfn_fail(err, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %s'", role);
    size_t digits = strspn(p, "0123456789");
    if (digits != 12 || strncmp(p + 12, ":role/", 6) != 0 || p[18] == '\0' || strlen(role) > 2048)
        return sfn_fail(err, "InvalidArn",
                        "Invalid Arn: 'Resource type not valid in this "
                        "context: %s'",
                        role);
    return 0;
}

static int compile_definition(const char *text, asl_machine **out, sfn_err *err)
{
    size_t len = strlen(text);
    if (len > MAX_DEFINITION)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value at 'definition' failed to satisfy "
                        "constraint: Member must have length less than or equal to %d",
                        MAX_DEFINITION);
    bt_diag d;
    bt_diag_init(&d);
    int rc = asl_load_text(text, len, out, &d);
    if (rc != 0) {
        char *why = bt_diag_format(&d);
        sfn_fail(err, "InvalidDefinition", "%s", why);
        free(why);
    }
    bt_diag_fini(&d);
    return rc == 0 ? 0 : -1;
}

static int check_tags(json_t *tags, sfn_err *err)
{
    if (tags == NULL)
        return 0;
    if (json_array_size(tags) > MAX_TAGS)
        return sfn_fail(err, "TooManyTags", "Too many tags: at most %d per resource", MAX_TAGS);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = sfn_str(t, "key");
        const char *v = sfn_str(t, "value");
        json_t *vj = json_object_get(t, "value");
        if (!json_is_object(t) || (vj && !json_is_null(vj) && !json_is_string(vj)) ||
            (json_object_get(t, "key") && !json_is_string(json_object_get(t, "key"))))
            return sfn_fail(err, "SerializationException",
                            "Expected an object of strings {key, value} at tags.%zu", i + 1);
        if (k == NULL || k[0] == '\0' || strlen(k) > 128)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value at 'tags.%zu.member.key' failed "
                            "to satisfy constraint: Member must have length between 1 and 128",
                            i + 1);
        if (v && strlen(v) > 256)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value at 'tags.%zu.member.value' failed "
                            "to satisfy constraint: Member must have length less than or equal "
                            "to 256",
                            i + 1);
    }
    return 0;
}

static void put_tags(server *s, const char *arn, json_t *tags)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *v = sfn_str(t, "value");
        store_batch_add(server_batch(s), SQL_PUT_TAG, "ttt", arn, sfn_str(t, "key"), v ? v : "");
    }
}

int sfn_check_tags(json_t *tags, sfn_err *err)
{
    return check_tags(tags, err);
}

void sfn_put_tags(server *s, const char *arn, json_t *tags)
{
    put_tags(s, arn, tags);
}

static char *dump_or_null(json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* ---- operations ---- */

json_t *sfn_create_state_machine(server *s, json_t *req, sfn_err *err)
{
    const char *name = sfn_str(req, "name");
    const char *definition = sfn_str(req, "definition");
    const char *role = sfn_str(req, "roleArn");
    const char *type = sfn_str(req, "type");
    if (type == NULL)
        type = "STANDARD";
    const char *problem = bt_name_problem(name);
    if (problem) {
        sfn_fail(err, "InvalidName", "Invalid Name: '%s'", name);
        return NULL;
    }
    if (strcmp(type, "STANDARD") != 0 && strcmp(type, "EXPRESS") != 0) {
        sfn_fail(err, "ValidationException",
                 "1 validation error detected: Value '%s' at 'type' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]",
                 type);
        return NULL;
    }
    if (sfn_check_role(role, err) != 0 || check_tags(json_object_get(req, "tags"), err) != 0)
        return NULL;
    asl_machine *compiled = NULL;
    if (compile_definition(definition, &compiled, err) != 0)
        return NULL;

    char *arn =
        bt_xasprintf("arn:aws:states:%s:%s:stateMachine:%s", s->cfg.region, s->cfg.account, name);
    machine *old = machines_find(s, arn);
    if (versions_check_publish(s, old, req, err) != 0) {
        asl_machine_unref(compiled);
        free(arn);
        return NULL;
    }
    if (old) {
        /* CreateStateMachine is idempotent: the same request answers the same machine. */
        bool same = strcmp(old->definition, definition) == 0 && strcmp(old->role_arn, role) == 0 &&
                    strcmp(old->type, type) == 0;
        asl_machine_unref(compiled);
        free(arn);
        if (!same) {
            sfn_fail(err, "StateMachineAlreadyExists", "State Machine Already Exists: '%s'",
                     old->arn);
            return NULL;
        }
        json_t *out = json_pack("{s:s, s:f}", "stateMachineArn", old->arn, "creationDate",
                                sfn_epoch_s(old->created_ms));
        versions_publish_requested(s, old, req, out);
        return out;
    }
    machine *m = bt_xcalloc(1, sizeof *m);
    m->id = s->next_machine_id++;
    m->arn = arn;
    m->name = bt_xstrdup(name);
    m->type = bt_xstrdup(type);
    m->created_ms = m->updated_ms = s->now_ms;
    m->revision = s->next_revision_id++;
    char uuid[37];
    new_uuid(uuid);
    m->revision_id = bt_xstrdup(uuid);
    m->definition = bt_xstrdup(definition);
    m->role_arn = bt_xstrdup(role);
    m->logging = dump_or_null(json_object_get(req, "loggingConfiguration"));
    m->tracing = dump_or_null(json_object_get(req, "tracingConfiguration"));
    m->compiled = compiled;
    list_add(s, m);

    store_batch *b = server_batch(s);
    store_batch_add(b, SQL_INSERT_REVISION, "iitti", m->revision, m->id, m->definition, m->role_arn,
                    m->created_ms);
    store_batch_add(b, SQL_INSERT_MACHINE, "itttiiitttt", m->id, m->arn, m->name, m->type,
                    m->created_ms, m->updated_ms, m->revision, m->revision_id, m->logging,
                    m->tracing, m->description);
    json_t *tags = json_object_get(req, "tags");
    if (tags)
        put_tags(s, m->arn, tags);
    server_log(s, SERVER_LOG_INFO, "machine.create", "arn=%s type=%s", m->arn, m->type);
    json_t *out = json_pack("{s:s, s:f}", "stateMachineArn", m->arn, "creationDate",
                            sfn_epoch_s(m->created_ms));
    versions_publish_requested(s, m, req, out);
    return out;
}

static machine *find_machine(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineArn");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    machine *m = machines_find(s, arn);
    if (m == NULL)
        sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
    return m;
}

json_t *sfn_update_state_machine(server *s, json_t *req, sfn_err *err)
{
    machine *m = find_machine(s, req, err);
    if (m == NULL)
        return NULL;
    const char *definition = sfn_str(req, "definition");
    const char *role = sfn_str(req, "roleArn");
    json_t *logging = json_object_get(req, "loggingConfiguration");
    json_t *tracing = json_object_get(req, "tracingConfiguration");
    if (!definition && !role && !logging && !tracing &&
        !json_object_get(req, "encryptionConfiguration")) {
        sfn_fail(err, "MissingRequiredParameter",
                 "Either the definition, the role ARN, the LoggingConfiguration, the "
                 "EncryptionConfiguration or the TracingConfiguration must be specified");
        return NULL;
    }
    if ((role && sfn_check_role(role, err) != 0) || versions_check_publish(s, m, req, err) != 0)
        return NULL;
    asl_machine *compiled = NULL;
    if (definition && compile_definition(definition, &compiled, err) != 0)
        return NULL;
    /* The same definition and role are the same revision: AWS keeps its revisionId, and
     * publishing it again answers the version it already has. */
    if ((!definition || strcmp(definition, m->definition) == 0) &&
        (!role || strcmp(role, m->role_arn) == 0)) {
        asl_machine_unref(compiled);
        compiled = NULL;
        definition = role = NULL;
    }
    if (definition || role) {
        if (compiled) {
            asl_machine_unref(m->compiled);
            m->compiled = compiled;
            free(m->definition);
            m->definition = bt_xstrdup(definition);
        }
        if (role) {
            free(m->role_arn);
            m->role_arn = bt_xstrdup(role);
        }
        m->revision = s->next_revision_id++;
        char uuid[37];
        new_uuid(uuid);
        free(m->revision_id);
        m->revision_id = bt_xstrdup(uuid);
        store_batch_add(server_batch(s), SQL_INSERT_REVISION, "iitti", m->revision, m->id,
                        m->definition, m->role_arn, s->now_ms);
    }
    if (logging) {
        free(m->logging);
        m->logging = dump_or_null(logging);
    }
    if (tracing) {
        free(m->tracing);
        m->tracing = dump_or_null(tracing);
    }
    m->updated_ms = s->now_ms;
    store_batch_add(server_batch(s), SQL_UPDATE_MACHINE, "iittti", m->updated_ms, m->revision,
                    m->revision_id, m->logging, m->tracing, m->id);
    json_t *out = json_pack("{s:f, s:s}", "updateDate", sfn_epoch_s(m->updated_ms), "revisionId",
                            m->revision_id);
    versions_publish_requested(s, m, req, out);
    return out;
}

json_t *sfn_delete_state_machine(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineArn");
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    machine *m = machines_find(s, arn);
    if (m) {
        /* Running executions go on with their revision, which stays. */
        list_remove(s, m);
        store_batch_add(server_batch(s), SQL_DELETE_MACHINE, "i", m->id);
        store_batch_add(server_batch(s), SQL_DEL_TAGS, "t", m->arn);
        server_log(s, SERVER_LOG_INFO, "machine.delete", "arn=%s", m->arn);
        versions_drop_machine(s, m);
        machine_free(m);
    }
    return json_object();
}

static json_t *json_or_default(const char *text, const char *fallback)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_loads(fallback, 0, NULL);
}

json_t *sfn_describe_machine_json(const machine *m)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:o, s:s}", "stateMachineArn", m->arn, "name",
        m->name, "status", "ACTIVE", "definition", m->definition, "roleArn", m->role_arn, "type",
        m->type, "creationDate", sfn_epoch_s(m->created_ms), "loggingConfiguration",
        json_or_default(m->logging, "{\"level\":\"OFF\",\"includeExecutionData\":false}"),
        "tracingConfiguration", json_or_default(m->tracing, "{\"enabled\":false}"), "revisionId",
        m->revision_id);
    if (m->description)
        json_object_set_new(o, "description", json_string(m->description));
    return o;
}

json_t *sfn_describe_state_machine(server *s, json_t *req, sfn_err *err)
{
    if (versions_is_qualified(sfn_str(req, "stateMachineArn")))
        return sfn_describe_state_machine_version(s, req, err);
    machine *m = find_machine(s, req, err);
    return m ? sfn_describe_machine_json(m) : NULL;
}

/* ---- pagination ---- */

char *sfn_page_token(const char *op, int64_t position)
{
    char plain[128];
    int n = snprintf(plain, sizeof plain, "%s:%lld", op, (long long)position);
    char *out = bt_xmalloc(bt_base64url_len((size_t)n) + 1);
    bt_base64url_encode((const uint8_t *)plain, (size_t)n, out);
    return out;
}

bool sfn_page_parse(const char *op, const char *token, int64_t *position)
{
    uint8_t plain[128];
    size_t len = strlen(token);
    long n = bt_base64url_decode(token, len, plain, sizeof plain - 1);
    if (n <= 0)
        return false;
    plain[n] = '\0';
    size_t ol = strlen(op);
    if ((size_t)n <= ol + 1 || memcmp(plain, op, ol) != 0 || plain[ol] != ':')
        return false;
    char *end;
    long long v = strtoll((const char *)plain + ol + 1, &end, 10);
    if (*end != '\0' || v < 0)
        return false;
    *position = v;
    return true;
}

int sfn_page_args(json_t *req, const char *op, int64_t *position, size_t *max, sfn_err *err)
{
    json_t *mr = json_object_get(req, "maxResults");
    *max = 100;
    if (mr) {
        json_int_t v = json_integer_value(mr);
        if (v < 0 || v > 1000)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value '%lld' at 'maxResults' failed to "
                            "satisfy constraint: Member must have value less than or equal to "
                            "1000",
                            (long long)v);
        if (v > 0)
            *max = (size_t)v;
    }
    *position = 0;
    const char *tok = sfn_str(req, "nextToken");
    if (tok) {
        if (strlen(tok) > 1024)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value '%s' at 'nextToken' failed to "
                            "satisfy constraint: Member must have length less than or equal to "
                            "1024",
                            tok);
        if (!sfn_page_parse(op, tok, position))
            return sfn_fail(err, "InvalidToken", "Invalid Token: '%s'", tok);
    }
    return 0;
}

json_t *sfn_list_state_machines(server *s, json_t *req, sfn_err *err)
{
    int64_t pos;
    size_t max;
    if (sfn_page_args(req, "ListStateMachines", &pos, &max, err) != 0)
        return NULL;
    json_t *list = json_array();
    size_t i = 0;
    while (i < s->n_machines && s->machine_list[i]->id <= pos)
        i++;
    for (; i < s->n_machines && json_array_size(list) < max; i++) {
        machine *m = s->machine_list[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f}", "stateMachineArn", m->arn,
                                              "name", m->name, "type", m->type, "creationDate",
                                              sfn_epoch_s(m->created_ms)));
    }
    json_t *out = json_pack("{s:o}", "stateMachines", list);
    if (i < s->n_machines) {
        char *t = sfn_page_token("ListStateMachines", s->machine_list[i - 1]->id);
        json_object_set_new(out, "nextToken", json_string(t));
        free(t);
    }
    return out;
}

json_t *sfn_validate_definition(server *s, json_t *req, sfn_err *err)
{
    (void)s;
    (void)err;
    const char *definition = sfn_str(req, "definition");
    json_t *diags = json_array();
    size_t len = strlen(definition);
    if (len > MAX_DEFINITION) {
        sfn_fail(err, "ValidationException",
                 "1 validation error detected: Value at 'definition' failed to satisfy "
                 "constraint: Member must have length less than or equal to %d",
                 MAX_DEFINITION);
        json_decref(diags);
        return NULL;
    }
    bt_diag d;
    bt_diag_init(&d);
    json_t *parsed = NULL;
    int rc = asl_validate_text(definition, len, &parsed, &d);
    for (size_t i = 0; i < d.len; i++)
        json_array_append_new(diags,
                              json_pack("{s:s, s:s, s:s, s:s}", "severity", "ERROR", "code",
                                        d.items[i].code, "message", d.items[i].message, "location",
                                        d.items[i].pointer ? d.items[i].pointer : ""));
    bt_diag_fini(&d);
    json_decref(parsed);
    return json_pack("{s:s, s:o, s:b}", "result", rc == 0 ? "OK" : "FAIL", "diagnostics", diags,
                     "truncated", 0);
}

/* ---- tags ---- */

static int tag_target(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "resourceArn");
    bt_arn a;
    const char *why = NULL;
    if (bt_arn_parse(arn, &a, &why) != 0)
        return sfn_fail(err, "InvalidArn", "Invalid Arn: '%s'", why ? why : arn);
    if (a.kind == BT_ARN_STATE_MACHINE && machines_find(s, arn))
        return 0;
    if (a.kind == BT_ARN_ACTIVITY && activities_exists(s, arn))
        return 0;
    return sfn_fail(err, "ResourceNotFound", "Resource not found: '%s'", arn);
}

json_t *sfn_tag_resource(server *s, json_t *req, sfn_err *err)
{
    json_t *tags = json_object_get(req, "tags");
    if (tag_target(s, req, err) != 0 || check_tags(tags, err) != 0)
        return NULL;
    const char *arn = sfn_str(req, "resourceArn");
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_COUNT_TAGS);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    int64_t have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (have + (int64_t)json_array_size(tags) > MAX_TAGS) {
        sfn_fail(err, "TooManyTags", "Too many tags: at most %d per resource", MAX_TAGS);
        return NULL;
    }
    put_tags(s, arn, tags);
    return json_object();
}

json_t *sfn_untag_resource(server *s, json_t *req, sfn_err *err)
{
    if (tag_target(s, req, err) != 0)
        return NULL;
    const char *arn = sfn_str(req, "resourceArn");
    size_t i;
    json_t *k;
    json_t *keys = json_object_get(req, "tagKeys");
    json_array_foreach(keys, i, k)
    {
        if (!json_is_string(k)) {
            sfn_fail(err, "SerializationException", "Expected a string at tagKeys.%zu", i + 1);
            return NULL;
        }
    }
    json_array_foreach(keys, i, k)
        store_batch_add(server_batch(s), SQL_DEL_TAG, "tt", arn, json_string_value(k));
    return json_object();
}

json_t *sfn_list_tags(server *s, json_t *req, sfn_err *err)
{
    if (tag_target(s, req, err) != 0)
        return NULL;
    const char *arn = sfn_str(req, "resourceArn");
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_LIST_TAGS);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    json_t *tags = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(tags, json_pack("{s:s, s:s}", "key", execs__col_text(st, 0), "value",
                                              execs__col_text(st, 1)));
    sqlite3_reset(st);
    return json_pack("{s:o}", "tags", tags);
}
