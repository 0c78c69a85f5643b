/*
 * aliases.c — state machine aliases: CreateStateMachineAlias, DescribeStateMachineAlias,
 * UpdateStateMachineAlias, DeleteStateMachineAlias and ListStateMachineAliases, the checks of
 * a routing configuration, and the weighted draw StartExecution makes through an alias.
 *
 * AWS's model (Developer Guide, "State machine aliases"; CreateStateMachineAlias): an alias
 * points at one or two versions of one machine, weights 0–100 summing to 100; it is
 * idempotent on name, description and routing; its name has a letter, '_', '-' or '.' so that
 * it never reads as a version number. Message texts are AWS's as recorded against AWS in
 * LocalStack's test snapshots (tests/aws/services/stepfunctions/v2/test_sfn_api_aliasing);
 * those whose AWS text is unknown are marked "our wording".
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "base/rand.h"
#include "server/versions_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_INSERT_ALIAS[] =
    "INSERT INTO aliases (id, sm_id, name, description, version1, weight1, version2, weight2,"
    " created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?)";
static const char SQL_UPDATE_ALIAS[] =
    "UPDATE aliases SET description = ?, version1 = ?, weight1 = ?, version2 = ?, weight2 = ?,"
    " updated_ms = ? WHERE id = ?";
static const char SQL_DELETE_ALIAS[] = "DELETE FROM aliases WHERE id = ?";
static const char SQL_LOAD_ALIASES[] =
    "SELECT id, sm_id, name, description, version1, weight1, version2, weight2, created_ms,"
    " updated_ms FROM aliases ORDER BY id";
static const char NOT_FOUND[] = "Request references a resource that does not exist.";

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static char *alias_arn(const machine *m, const alias *al)
{
    return bt_xasprintf("%s:%s", m->arn, al->name);
}

void versions__alias_free(alias *al)
{
    free(al->name);
    free(al->description);
    free(al);
}

static void add_alias(vset *vs, alias *al)
{
    if (vs->n_aliases == vs->cap_aliases) {
        vs->cap_aliases = vs->cap_aliases ? vs->cap_aliases * 2 : 4;
        vs->aliases = bt_xrealloc(vs->aliases, vs->cap_aliases * sizeof(alias *));
    }
    vs->aliases[vs->n_aliases++] = al;
}

int versions__load_aliases(server *s)
{
    sqlite3_stmt *st = store_read_stmt(s->store, SQL_LOAD_ALIASES);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        alias *al = bt_xcalloc(1, sizeof *al);
        al->id = sqlite3_column_int64(st, 0);
        al->name = bt_xstrdup(execs__col_text(st, 2));
        al->description = srv_strdup0(execs__col_text(st, 3));
        al->routes[0] = (route){sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5)};
        al->n_routes = 1;
        if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
            al->routes[1] = (route){sqlite3_column_int64(st, 6), sqlite3_column_int(st, 7)};
            al->n_routes = 2;
        }
        al->created_ms = sqlite3_column_int64(st, 8);
        al->updated_ms = sqlite3_column_int64(st, 9);
        add_alias(versions__set(s, sqlite3_column_int64(st, 1), true), al);
        if (al->id >= s->next_alias_id)
            s->next_alias_id = al->id + 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- aliases ---- */

static int check_alias_name(const char *name, sfn_err *err)
{
    const char *problem = bt_alias_name_problem(name);
    if (problem == NULL)
        return 0;
    if (strcmp(problem, "is empty") == 0)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value '' at 'name' failed to satisfy "
                        "constraint: Member must have length greater than or equal to 1");
    if (strcmp(problem, "is longer than 80 characters") == 0)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                        "constraint: Member must have length less than or equal to 80",
                        name);
    return sfn_fail(err, "ValidationException",
                    "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: "
                    "^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$",
                    name);
}

/* AWS quotes a list it refuses as Java prints it. */
static int too_many_routes(json_t *list, sfn_err *err)
{
    bt_buf b;
    bt_buf_init(&b);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *arn = sfn_str(item, "stateMachineVersionArn");
        json_t *w = json_object_get(item, "weight");
        bt_buf_printf(&b, "%sRoutingConfigurationListItem(stateMachineVersionArn=%s, weight=",
                      i ? ", " : "", arn ? arn : "null");
        if (json_is_integer(w))
            bt_buf_printf(&b, "%lld)", (long long)json_integer_value(w));
        else
            bt_buf_puts(&b, "null)");
    }
    sfn_fail(err, "ValidationException",
             "1 validation error detected: Value '[%s]' at 'routingConfiguration' failed to "
             "satisfy constraint: Member must have length less than or equal to %d",
             b.data, MAX_ROUTES);
    bt_buf_fini(&b);
    return -1;
}

/* The members of each routing item, as the model bounds them. */
static int check_route_members(json_t *list, const char **arns, json_int_t *weights, sfn_err *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        arns[i] = sfn_str(item, "stateMachineVersionArn");
        json_t *w = json_object_get(item, "weight");
        const char *missing = arns[i] == NULL       ? "stateMachineVersionArn"
                              : !json_is_integer(w) ? "weight"
                                                    : NULL;
        if (missing)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'routingConfiguration.%zu.member.%s' failed to satisfy constraint: "
                            "Member must not be null",
                            i + 1, missing);
        weights[i] = json_integer_value(w);
        if (weights[i] < 0 || weights[i] > 100)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value '%lld' at "
                            "'routingConfiguration.%zu.member.weight' failed to satisfy "
                            "constraint: Member must have value %s",
                            (long long)weights[i], i + 1,
                            weights[i] < 0 ? "greater than or equal to 0"
                                           : "less than or equal to 100");
    }
    return 0;
}

/* Whether two version ARNs name versions of one machine (all but the number agree). */
static bool same_machine(const char *a, const char *b)
{
    size_t la = (size_t)(strrchr(a, ':') - a), lb = (size_t)(strrchr(b, ':') - b);
    return la == lb && strncmp(a, b, la) == 0;
}

/* The rules across the items: version ARNs, distinct, of one machine, weights summing to 100. */
static int check_route_set(const char **arns, const json_int_t *weights, size_t n, sfn_err *err)
{
    bt_buf b;
    bt_buf_init(&b);
    const char *why = NULL;
    bool versions = true;
    for (size_t i = 0; i < n; i++) {
        bt_arn a;
        const char *parse_why;
        versions = versions && bt_arn_parse(arns[i], &a, &parse_why) == 0 &&
                   a.kind == BT_ARN_STATE_MACHINE && bt_arn_is_version(&a);
    }
    json_int_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += weights[i];
    if (!versions)
        why = "Routing configuration must contain state machine version ARNs. Received: ";
    else if (n == 2 && strcmp(arns[0], arns[1]) == 0)
        why = "Routing configuration must contain distinct state machine version ARNs. "
              "Received: ";
    else if (n == 2 && !same_machine(arns[0], arns[1]))
        /* Our wording: AWS's text for versions of two machines is not recorded. */
        why = "Routing configuration must contain versions of the same state machine. "
              "Received: ";
    if (why) {
        versions__list_text(&b, arns, n);
        sfn_fail(err, "ValidationException", "%s%s", why, b.data);
    } else if (sum != 100) {
        bt_buf_puts(&b, "[");
        for (size_t i = 0; i < n; i++)
            bt_buf_printf(&b, "%s%lld", i ? ", " : "", (long long)weights[i]);
        bt_buf_puts(&b, "]");
        sfn_fail(err, "ValidationException",
                 "Sum of routing configuration weights must equal 100. Received: %s", b.data);
    }
    bt_buf_fini(&b);
    return why || sum != 100 ? -1 : 0;
}

/* A routing configuration: its machine and routes, or -1 with AWS's error. */
static int parse_routing(server *s, json_t *list, machine **m_out, route *routes, size_t *n_out,
                         sfn_err *err)
{
    size_t n = json_array_size(list);
    if (n == 0)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value '[]' at 'routingConfiguration' "
                        "failed to satisfy constraint: Member must have length greater than or "
                        "equal to 1");
    if (n > MAX_ROUTES)
        return too_many_routes(list, err);
    const char *arns[MAX_ROUTES];
    json_int_t weights[MAX_ROUTES];
    if (check_route_members(list, arns, weights, err) != 0 ||
        check_route_set(arns, weights, n, err) != 0)
        return -1;
    machine *m = versions__machine_of(s, arns[0]);
    const vset *vs = m ? versions__set(s, m->id, false) : NULL;
    for (size_t i = 0; i < n; i++) {
        routes[i].version = strtoll(strrchr(arns[i], ':') + 1, NULL, 10);
        routes[i].weight = (int)weights[i];
        if (versions__find(vs, routes[i].version) == NULL)
            /* AWS's text for a missing version here is not recorded; ours names it. */
            return sfn_fail(err, "ResourceNotFound", "Resource not found: '%s'", arns[i]);
    }
    *m_out = m;
    *n_out = n;
    return 0;
}

static bool same_routes(const alias *al, const route *routes, size_t n)
{
    if (al->n_routes != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (al->routes[i].version != routes[i].version || al->routes[i].weight != routes[i].weight)
            return false;
    return true;
}

static void put_alias_row(server *s, const char *sql, const machine *m, const alias *al)
{
    bool two = al->n_routes == 2;
    if (sql == SQL_INSERT_ALIAS)
        store_batch_add(server_batch(s), sql, two ? "iittiiiiii" : "iittiinnii", al->id, m->id,
                        al->name, al->description, al->routes[0].version,
                        (int64_t)al->routes[0].weight, two ? al->routes[1].version : 0,
                        two ? (int64_t)al->routes[1].weight : 0, al->created_ms, al->updated_ms);
    else
        store_batch_add(server_batch(s), sql, two ? "tiiiiii" : "tiinnii", al->description,
                        al->routes[0].version, (int64_t)al->routes[0].weight,
                        two ? al->routes[1].version : 0, two ? (int64_t)al->routes[1].weight : 0,
                        al->updated_ms, al->id);
}

json_t *sfn_create_state_machine_alias(server *s, json_t *req, sfn_err *err)
{
    const char *name = sfn_str(req, "name");
    const char *description = sfn_str(req, "description");
    machine *m;
    route routes[MAX_ROUTES];
    size_t n;
    if (check_alias_name(name, err) != 0 ||
        versions__check_description(description, "description", err) ||
        parse_routing(s, json_object_get(req, "routingConfiguration"), &m, routes, &n, err) != 0)
        return NULL;
    vset *vs = versions__set(s, m->id, true);
    alias *al = versions__find_alias(vs, name);
    if (al) {
        /* Idempotent on name, description and routing (API reference). */
        if (!same_routes(al, routes, n) || !same_text(al->description, description)) {
            sfn_fail(err, "ConflictException",
                     "Failed to create alias because an alias with the same name and a "
                     "different routing configuration already exists.");
            return NULL;
        }
    } else {
        if (vs->n_aliases >= MAX_ALIASES) {
            /* Our wording: AWS's text for this quota is not recorded. */
            sfn_fail(err, "ServiceQuotaExceededException",
                     "Failed to create alias '%s': '%s' has the maximum of %d aliases", name,
                     m->arn, MAX_ALIASES);
            return NULL;
        }
        al = bt_xcalloc(1, sizeof *al);
        al->id = s->next_alias_id++;
        al->name = bt_xstrdup(name);
        al->description = srv_strdup0(description);
        memcpy(al->routes, routes, n * sizeof *routes);
        al->n_routes = n;
        al->created_ms = al->updated_ms = s->now_ms;
        add_alias(vs, al);
        put_alias_row(s, SQL_INSERT_ALIAS, m, al);
        server_log(s, SERVER_LOG_INFO, "alias.create", "arn=%s name=%s", m->arn, name);
    }
    char *arn = alias_arn(m, al);
    json_t *out = json_pack("{s:s, s:f}", "stateMachineAliasArn", arn, "creationDate",
                            sfn_epoch_s(al->created_ms));
    free(arn);
    return out;
}

/* The alias an alias ARN names, or NULL with InvalidArn or ResourceNotFound. */
static alias *alias_target(server *s, const char *arn, machine **m_out, vset **vs_out, sfn_err *err)
{
    bt_arn a;
    if (versions__parse_qualified(arn, &a, err) != 0)
        return NULL;
    if (bt_arn_is_version(&a)) {
        /* Our wording: AWS's text for a version ARN given as an alias is not recorded. */
        sfn_fail(err, "InvalidArn", "Invalid Arn: 'Not a state machine alias ARN: %s'", arn);
        return NULL;
    }
    machine *m = versions__machine_of(s, arn);
    vset *vs = m ? versions__set(s, m->id, false) : NULL;
    alias *al = versions__find_alias(vs, a.qualifier);
    if (al == NULL) {
        sfn_fail(err, "ResourceNotFound", "%s", NOT_FOUND);
        return NULL;
    }
    *m_out = m;
    *vs_out = vs;
    return al;
}

json_t *sfn_describe_state_machine_alias(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineAliasArn");
    machine *m;
    vset *vs;
    alias *al = alias_target(s, arn, &m, &vs, err);
    if (al == NULL)
        return NULL;
    json_t *routing = json_array();
    for (size_t i = 0; i < al->n_routes; i++) {
        char *varn = versions__arn(m, al->routes[i].version);
        json_array_append_new(routing, json_pack("{s:s, s:i}", "stateMachineVersionArn", varn,
                                                 "weight", al->routes[i].weight));
        free(varn);
    }
    json_t *out = json_pack("{s:s, s:s, s:o, s:f, s:f}", "stateMachineAliasArn", arn, "name",
                            al->name, "routingConfiguration", routing, "creationDate",
                            sfn_epoch_s(al->created_ms), "updateDate", sfn_epoch_s(al->updated_ms));
    if (al->description)
        json_object_set_new(out, "description", json_string(al->description));
    return out;
}

json_t *sfn_update_state_machine_alias(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineAliasArn");
    const char *description = sfn_str(req, "description");
    json_t *routing = json_object_get(req, "routingConfiguration");
    machine *m;
    vset *vs;
    alias *al = alias_target(s, arn, &m, &vs, err);
    if (al == NULL || versions__check_description(description, "description", err) != 0)
        return NULL;
    if (description == NULL && routing == NULL) {
        /* Our wording: AWS requires one of the two (API reference); its text is not recorded. */
        sfn_fail(err, "ValidationException",
                 "Either the description or the routing configuration must be specified");
        return NULL;
    }
    route routes[MAX_ROUTES];
    size_t n = 0;
    if (routing) {
        machine *target;
        if (parse_routing(s, routing, &target, routes, &n, err) != 0)
            return NULL;
        if (target != m) {
            /* Our wording, as for two machines in one routing. */
            sfn_fail(err, "ValidationException",
                     "Routing configuration must contain versions of the alias's state machine "
                     "'%s'",
                     m->arn);
            return NULL;
        }
        memcpy(al->routes, routes, n * sizeof *routes);
        al->n_routes = n;
    }
    if (description) {
        free(al->description);
        al->description = bt_xstrdup(description);
    }
    al->updated_ms = s->now_ms;
    put_alias_row(s, SQL_UPDATE_ALIAS, m, al);
    return json_pack("{s:f}", "updateDate", sfn_epoch_s(al->updated_ms));
}

json_t *sfn_delete_state_machine_alias(server *s, json_t *req, sfn_err *err)
{
    const char *arn = sfn_str(req, "stateMachineAliasArn");
    machine *m;
    vset *vs;
    alias *al = alias_target(s, arn, &m, &vs, err);
    if (al == NULL) {
        /* An alias that is not there is deleted already (AWS answers success). */
        if (strcmp(err->type, "ResourceNotFound") != 0)
            return NULL;
        err->type = NULL;
        return json_object();
    }
    for (size_t i = 0; i < vs->n_aliases; i++)
        if (vs->aliases[i] == al) {
            memmove(&vs->aliases[i], &vs->aliases[i + 1],
                    (vs->n_aliases - i - 1) * sizeof(alias *));
            vs->n_aliases--;
            break;
        }
    store_batch_add(server_batch(s), SQL_DELETE_ALIAS, "i", al->id);
    server_log(s, SERVER_LOG_INFO, "alias.delete", "arn=%s", arn);
    versions__alias_free(al);
    return json_object();
}

/* ListStateMachineAliases' stateMachineArn: a machine, or a version (aliases routing to it). */
static machine *alias_list_target(server *s, const char *arn, int64_t *number, sfn_err *err)
{
    bt_arn a;
    if (sfn_check_arn(arn, BT_ARN_STATE_MACHINE, &a, err) != 0)
        return NULL;
    *number = 0;
    if (a.qualifier[0] == '\0') {
        machine *m = machines_find(s, arn);
        if (m == NULL)
            sfn_fail(err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn);
        return m;
    }
    if (!bt_arn_is_version(&a)) {
        sfn_fail(err, "InvalidArn", "Invalid Arn: 'Not a state machine version ARN: %s'", arn);
        return NULL;
    }
    machine *m = versions__machine_of(s, arn);
    *number = strtoll(a.qualifier, NULL, 10);
    if (m == NULL || versions__find(versions__set(s, m->id, false), *number) == NULL) {
        sfn_fail(err, "ResourceNotFound", "Resource not found: '%s'", arn);
        return NULL;
    }
    return m;
}

json_t *sfn_list_state_machine_aliases(server *s, json_t *req, sfn_err *err)
{
    int64_t number, pos;
    size_t max;
    machine *m = alias_list_target(s, sfn_str(req, "stateMachineArn"), &number, err);
    if (m == NULL || sfn_page_args(req, "ListStateMachineAliases", &pos, &max, err) != 0)
        return NULL;
    /* The most recently created first (API reference); a page resumes below the last id. */
    const vset *vs = versions__set(s, m->id, false);
    json_t *list = json_array();
    int64_t last = 0;
    bool more = false;
    for (size_t i = vs ? vs->n_aliases : 0; i > 0; i--) {
        const alias *al = vs->aliases[i - 1];
        if ((pos > 0 && al->id >= pos) || (number && !versions__routes_to(al, number)))
            continue;
        if (json_array_size(list) == max) {
            more = true;
            break;
        }
        char *arn = alias_arn(m, al);
        json_array_append_new(list, json_pack("{s:s, s:f}", "stateMachineAliasArn", arn,
                                              "creationDate", sfn_epoch_s(al->created_ms)));
        free(arn);
        last = al->id;
    }
    json_t *out = json_pack("{s:o}", "stateMachineAliases", list);
    if (more) {
        char *t = sfn_page_token("ListStateMachineAliases", last);
        json_object_set_new(out, "nextToken", json_string(t));
        free(t);
    }
    return out;
}

size_t versions_pick_route(const int *weights, size_t n, uint32_t draw)
{
    int below = 0;
    for (size_t i = 0; i < n; i++) {
        below += weights[i];
        if ((int64_t)draw < below)
            return i;
    }
    return n - 1;
}

/* The version an alias sends this execution to: at random, by weight (CreateStateMachineAlias:
 * "Step Functions randomly chooses which version runs a given execution based on the
 * percentage you specify"). */
int64_t versions__draw(const alias *al)
{
    int weights[MAX_ROUTES];
    for (size_t i = 0; i < al->n_routes; i++)
        weights[i] = al->routes[i].weight;
    uint32_t r;
    bt_random_bytes(&r, sizeof r);
    return al->routes[versions_pick_route(weights, al->n_routes, r % 100)].version;
}
