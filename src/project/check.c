/*
 * check.c — the project file's tree into the model (project.h), checking as it goes: keys,
 * types, ranges, names by AWS's rules, references between sections, and each state
 * machine's definition as CreateStateMachine checks it (asl_load_text). Every problem is
 * recorded; a file with any problem gives no model. The sections beyond state machines,
 * functions, queues and triggers are checked in check_more.c.
 */
#include "asl/asl.h"
#include "base/alloc.h"
#include "base/arn.h"
#include "base/crypto.h"
#include "base/diag.h"
#include "base/file.h"
#include "project/project_int.h"
#include "queue/model.h"
#include "server/sfn.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- state machines ---- */

/* The node a JSON Pointer names within an inline definition (the deepest that exists). */
static const prj_node *node_at_pointer(const prj_node *n, const char *ptr)
{
    while (*ptr == '/' && n) {
        ptr++;
        char tok[256];
        size_t len = 0;
        while (*ptr && *ptr != '/' && len < sizeof tok - 1) {
            if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                tok[len++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            } else {
                tok[len++] = *ptr++;
            }
        }
        tok[len] = '\0';
        const prj_node *next = NULL;
        if (n->kind == PRJ_MAP) {
            for (size_t i = 0; i < n->n && next == NULL; i++)
                if (strcmp(n->keys[i]->text, tok) == 0)
                    next = n->items[i];
        } else if (n->kind == PRJ_SEQ) {
            char *end;
            unsigned long i = strtoul(tok, &end, 10);
            if (*end == '\0' && i < n->n)
                next = n->items[i];
        }
        if (next == NULL)
            break;
        n = next;
    }
    return n;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Reads a definition file: JSON text as it is, YAML (.yaml, .yml) turned into JSON. */
static char *read_definition(ck *c, const prj_node *at, const char *rel, const char *what,
                             char **abs_out)
{
    char *path = prj__abs(c->p, rel);
    size_t len;
    char *text = bt_read_regular_file(path, PRJ_MAX_FILE, &len);
    if (text == NULL) {
        prj_problem_add(c->pr, at->at,
                        "cannot read the definition of %s, %s: %s (expected a file relative to "
                        "the project file)",
                        what, rel, prj__read_error(errno, PRJ_MAX_FILE));
        free(path);
        return NULL;
    }
    if (has_suffix(rel, ".yaml") || has_suffix(rel, ".yml")) {
        prj_problems sub;
        prj_problems_init(&sub, rel);
        prj_node *tree = prj_parse(text, len, &sub);
        free(text);
        text = NULL;
        for (size_t i = 0; i < sub.len; i++)
            prj_problem_add(c->pr, at->at, "definition of %s, %s:%d:%d: %s", what, rel,
                            sub.items[i].at.line, sub.items[i].at.col, sub.items[i].msg);
        if (tree && sub.len == 0) {
            json_t *j = prj_node_to_json(tree);
            text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            json_decref(j);
        }
        prj_node_free(tree);
        prj_problems_fini(&sub);
    }
    *abs_out = path;
    return text;
}

static void check_definition(ck *c, prj_machine *m, const prj_node *def, const char *what)
{
    const char *rel = NULL;
    if (def->kind == PRJ_SCALAR && def->text[0] != '{') {
        rel = def->text;
        m->definition = read_definition(c, def, rel, what, &m->definition_path);
    } else if (def->kind == PRJ_SCALAR) {
        m->definition = bt_xstrdup(def->text); /* inline JSON text */
    } else if (def->kind == PRJ_MAP) {
        json_t *j = prj_node_to_json(def);
        m->definition = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
    } else {
        prj_problem_add(c->pr, def->at,
                        "the definition of %s is a list (expected a file name or a mapping)", what);
        return;
    }
    if (m->definition == NULL)
        return;
    bt_diag diag;
    bt_diag_init(&diag);
    asl_machine *compiled = NULL;
    if (asl_load_text(m->definition, strlen(m->definition), &compiled, &diag) != 0) {
        for (size_t i = 0; i < diag.len; i++) {
            const bt_diag_item *d = &diag.items[i];
            const char *ptr = d->pointer[0] ? d->pointer : "/";
            if (rel)
                prj_problem_add(c->pr, def->at, "invalid definition of %s in %s: %s: %s at %s",
                                what, rel, d->code, d->message, ptr);
            else
                prj_problem_add(c->pr, node_at_pointer(def, d->pointer)->at,
                                "invalid definition of %s: %s: %s at %s", what, d->code, d->message,
                                ptr);
        }
    }
    asl_machine_unref(compiled);
    bt_diag_fini(&diag);
}

static json_t *check_logging(ck *c, const prj_node *n, const char *what)
{
    static const char *const keys[] = {"level", "include_execution_data", "destinations", NULL};
    char where[256];
    snprintf(where, sizeof where, "the logging of %s", what);
    if (prj__map(c, n, where) == NULL)
        return NULL;
    prj__keys(c, n, keys, where);
    char *level = prj__str(c, n, "level", where, true);
    if (level && strcmp(level, "ALL") != 0 && strcmp(level, "ERROR") != 0 &&
        strcmp(level, "FATAL") != 0 && strcmp(level, "OFF") != 0)
        prj_problem_add(c->pr, prj_map_get(n, "level")->at,
                        "'level' of %s is \"%s\" (expected ALL, ERROR, FATAL or OFF)", where,
                        level);
    json_t *o = json_pack("{s:s, s:b}", "level", level ? level : "OFF", "includeExecutionData",
                          prj__bool(c, n, "include_execution_data", where, false));
    free(level);
    const prj_node *dest = prj_map_get(n, "destinations");
    if (dest) {
        json_t *arr = json_array();
        if (dest->kind != PRJ_SEQ) {
            prj_problem_add(c->pr, dest->at,
                            "'destinations' of %s is %s (expected a list of log group ARNs)", where,
                            prj__kind_name(dest));
        } else {
            for (size_t i = 0; i < dest->n; i++) {
                const prj_node *d = dest->items[i];
                if (d->kind != PRJ_SCALAR || strncmp(d->text, "arn:", 4) != 0) {
                    prj_problem_add(c->pr, d->at,
                                    "a destination of %s is not an ARN (expected "
                                    "arn:aws:logs:…:log-group:…)",
                                    where);
                    continue;
                }
                json_array_append_new(
                    arr, json_pack("{s:{s:s}}", "cloudWatchLogsLogGroup", "logGroupArn", d->text));
            }
        }
        json_object_set_new(o, "destinations", arr);
    }
    return o;
}

static void check_machine(ck *c, prj_machine *m, const prj_node *key, const prj_node *v)
{
    static const char *const keys[] = {"definition", "type", "role", "logging",
                                       "tracing",    "tags", NULL};
    m->name = bt_xstrdup(key->text);
    m->at = key->at;
    m->type = bt_xstrdup("STANDARD");
    char what[200];
    snprintf(what, sizeof what, "state machine '%s'", m->name);
    const char *problem = bt_name_problem(m->name);
    if (problem)
        prj_problem_add(
            c->pr, key->at,
            "state machine name '%s' is not valid: it %s (expected 1 to 80 characters without "
            "spaces, control characters or any of < > { } [ ] ? * \" # %% \\ ^ | ~ ` "
            "$ & , ; : /)",
            m->name, problem);
    if (v->kind == PRJ_SCALAR && !(v->is_plain && v->len == 0)) {
        check_definition(c, m, v, what); /* the short form: just its file */
        return;
    }
    if (prj__map(c, v, what) == NULL)
        return;
    prj__keys(c, v, keys, what);
    const prj_node *def = prj_map_get(v, "definition");
    if (def == NULL)
        prj_problem_add(c->pr, key->at,
                        "%s has no 'definition' (expected a file name or an inline definition)",
                        what);
    else
        check_definition(c, m, def, what);
    char *type = prj__str(c, v, "type", what, false);
    if (type) {
        if (strcmp(type, "STANDARD") != 0 && strcmp(type, "EXPRESS") != 0)
            prj_problem_add(c->pr, prj_map_get(v, "type")->at,
                            "'type' of %s is \"%s\" (expected STANDARD or EXPRESS)", what, type);
        free(m->type);
        m->type = type;
    }
    m->role = prj__str(c, v, "role", what, false);
    sfn_err err;
    if (m->role && sfn_check_role(m->role, &err) != 0)
        prj_problem_add(c->pr, prj_map_get(v, "role")->at,
                        "'role' of %s is not an IAM role ARN: %s (expected "
                        "arn:aws:iam::ACCOUNT:role/NAME)",
                        what, err.message);
    const prj_node *logging = prj_map_get(v, "logging");
    if (logging)
        m->logging = check_logging(c, logging, what);
    const prj_node *tracing = prj_map_get(v, "tracing");
    if (tracing) {
        static const char *const tkeys[] = {"enabled", NULL};
        char where[256];
        snprintf(where, sizeof where, "the tracing of %s", what);
        if (prj__map(c, tracing, where)) {
            prj__keys(c, tracing, tkeys, where);
            m->tracing =
                json_pack("{s:b}", "enabled", prj__bool(c, tracing, "enabled", where, false));
        }
    }
    const prj_node *tags = prj_map_get(v, "tags");
    if (tags) {
        char where[256];
        snprintf(where, sizeof where, "the tags of %s", what);
        if (prj__map(c, tags, where)) {
            m->tags = bt_xcalloc(tags->n ? tags->n : 1, sizeof *m->tags);
            for (size_t i = 0; i < tags->n; i++) {
                const prj_node *tv = tags->items[i];
                if (tv->kind != PRJ_SCALAR) {
                    prj_problem_add(c->pr, tv->at, "tag '%s' of %s is %s (expected a string)",
                                    tags->keys[i]->text, what, prj__kind_name(tv));
                    continue;
                }
                if (strlen(tags->keys[i]->text) > 128 || strlen(tv->text) > 256)
                    prj_problem_add(c->pr, tags->keys[i]->at,
                                    "tag '%s' of %s is too long (expected a key of at most 128 "
                                    "and a value of at most 256 characters)",
                                    tags->keys[i]->text, what);
                m->tags[m->n_tags].key = bt_xstrdup(tags->keys[i]->text);
                m->tags[m->n_tags].value = bt_xstrdup(tv->text);
                m->n_tags++;
            }
        }
    }
}

/* ---- functions ---- */

static bool runtime_of(const char *s, fn_runtime *rt, bool *is_aws)
{
    static const struct {
        const char *name;
        fn_runtime rt;
    } plain[] = {{"nodejs", FN_RT_NODEJS},
                 {"python", FN_RT_PYTHON},
                 {"provided", FN_RT_PROVIDED},
                 {"exec", FN_RT_EXEC},
                 {"url", FN_RT_URL}};
    *is_aws = false;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(s, plain[i].name) == 0) {
            *rt = plain[i].rt;
            return true;
        }
    /* Lambda's identifiers: nodejs18.x, nodejs20.x, …; python3.9 … python3.13; provided.al2,
     * provided.al2023 (Lambda's runtimes page). */
    *is_aws = true;
    size_t d;
    if (strncmp(s, "nodejs", 6) == 0 && (d = strspn(s + 6, "0123456789")) > 0 &&
        strcmp(s + 6 + d, ".x") == 0) {
        *rt = FN_RT_NODEJS;
        return true;
    }
    if (strncmp(s, "python3.", 8) == 0 && (d = strspn(s + 8, "0123456789")) > 0 &&
        s[8 + d] == '\0') {
        *rt = FN_RT_PYTHON;
        return true;
    }
    if (strcmp(s, "provided.al2") == 0 || strcmp(s, "provided.al2023") == 0) {
        *rt = FN_RT_PROVIDED;
        return true;
    }
    return false;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void not_for(ck *c, const prj_node *v, const char *key, const char *what, const char *rt)
{
    const prj_node *n = prj_map_get(v, key);
    if (n)
        prj_problem_add(c->pr, prj_map_get(v, key) == n ? n->at : v->at,
                        "'%s' does not apply to %s, whose runtime is %s (expected it removed)", key,
                        what, rt);
}

static void check_function(ck *c, prj_function *f, const prj_node *key, const prj_node *v)
{
    static const char *const keys[] = {"runtime",     "handler",     "code",   "command",
                                       "url",         "timeout",     "memory", "concurrency",
                                       "environment", "description", "role",   NULL};
    f->name = bt_xstrdup(key->text);
    f->at = key->at;
    char what[200];
    snprintf(what, sizeof what, "function '%s'", f->name);
    if (!prj__simple_name(f->name, FN_NAME_MAX, false))
        prj_problem_add(c->pr, key->at,
                        "function name '%s' is not valid (expected 1 to 64 letters, digits, "
                        "hyphens or underscores)",
                        f->name);
    if (prj__map(c, v, what) == NULL)
        return;
    prj__keys(c, v, keys, what);
    char *rt = prj__str(c, v, "runtime", what, true);
    bool is_aws = false;
    if (rt && !runtime_of(rt, &f->runtime, &is_aws)) {
        prj_problem_add(c->pr, prj_map_get(v, "runtime")->at,
                        "'runtime' of %s is \"%s\" (expected nodejs, python, provided, exec, url "
                        "or a Lambda runtime such as nodejs20.x, python3.12, provided.al2023)",
                        what, rt);
        free(rt);
        rt = NULL;
    }
    if (rt && is_aws)
        f->aws_runtime = bt_xstrdup(rt);
    f->handler = prj__str(c, v, "handler", what, false);
    f->url = prj__str(c, v, "url", what, false);
    f->description = prj__str(c, v, "description", what, false);
    f->role = prj__str(c, v, "role", what, false);
    char *code = prj__str(c, v, "code", what, false);
    if (code) {
        f->code_dir = prj__abs(c->p, code);
        if (!is_dir(f->code_dir))
            prj_problem_add(c->pr, prj_map_get(v, "code")->at,
                            "the code of %s, %s, is not a folder (expected a folder relative to "
                            "the project file)",
                            what, code);
    }
    f->timeout_s = (int)prj__duration(c, v, "timeout", what, 1, FN_TIMEOUT_MAX, 0);
    f->memory_mb = (int)prj__int(c, v, "memory", what, FN_MEMORY_MIN, FN_MEMORY_MAX, 0);
    f->concurrency = (int)prj__int(c, v, "concurrency", what, 1, 1000, 0);
    const prj_node *cmd = prj_map_get(v, "command");
    if (cmd) {
        if (cmd->kind == PRJ_SCALAR) {
            f->command = bt_xcalloc(2, sizeof *f->command);
            f->command[0] = bt_xstrdup(cmd->text);
        } else if (cmd->kind == PRJ_SEQ && cmd->n > 0) {
            f->command = bt_xcalloc(cmd->n + 1, sizeof *f->command);
            for (size_t i = 0; i < cmd->n; i++) {
                if (cmd->items[i]->kind != PRJ_SCALAR)
                    prj_problem_add(c->pr, cmd->items[i]->at,
                                    "an argument of the command of %s is %s (expected a string)",
                                    what, prj__kind_name(cmd->items[i]));
                f->command[i] = bt_xstrdup(cmd->items[i]->text ? cmd->items[i]->text : "");
            }
        } else {
            prj_problem_add(c->pr, cmd->at,
                            "'command' of %s is %s (expected a program and its arguments as a "
                            "list)",
                            what, cmd->kind == PRJ_SEQ ? "an empty list" : prj__kind_name(cmd));
        }
    }
    const prj_node *env = prj_map_get(v, "environment");
    if (env) {
        char where[256];
        snprintf(where, sizeof where, "the environment of %s", what);
        if (prj__map(c, env, where)) {
            f->environment = json_object();
            for (size_t i = 0; i < env->n; i++) {
                const char *k = env->keys[i]->text;
                /* Lambda's rule for variable names: a letter, then letters, digits, '_'. */
                bool ok = (k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z');
                for (const char *q = k; *q && ok; q++)
                    ok = (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
                         (*q >= '0' && *q <= '9') || *q == '_';
                if (!ok)
                    prj_problem_add(c->pr, env->keys[i]->at,
                                    "environment variable name '%s' of %s is not valid (expected "
                                    "a letter, then letters, digits or underscores)",
                                    k, what);
                if (env->items[i]->kind != PRJ_SCALAR) {
                    prj_problem_add(c->pr, env->items[i]->at,
                                    "environment variable %s of %s is %s (expected a string)", k,
                                    what, prj__kind_name(env->items[i]));
                    continue;
                }
                json_object_set_new(f->environment, k, json_string(env->items[i]->text));
            }
        }
    }
    if (rt != NULL) {
        switch (f->runtime) {
        case FN_RT_NODEJS:
        case FN_RT_PYTHON:
        case FN_RT_PROVIDED:
            if (code == NULL)
                prj_problem_add(c->pr, key->at,
                                "%s has no 'code' (expected the folder of its "
                                "code, relative to the project file)",
                                what);
            not_for(c, v, "command", what, rt);
            not_for(c, v, "url", what, rt);
            if (f->runtime == FN_RT_PROVIDED && f->code_dir && is_dir(f->code_dir)) {
                char *boot = bt_xasprintf("%s/bootstrap", f->code_dir);
                if (access(boot, X_OK) != 0)
                    prj_problem_add(c->pr, prj_map_get(v, "code")->at,
                                    "%s/bootstrap is not an executable file (expected the "
                                    "runtime's bootstrap in the code folder of %s)",
                                    code, what);
                free(boot);
            }
            if (f->handler == NULL && f->runtime != FN_RT_PROVIDED)
                f->handler =
                    bt_xstrdup(f->runtime == FN_RT_NODEJS ? "index.handler"
                                                          : "lambda_function.lambda_handler");
            break;
        case FN_RT_EXEC:
            if (cmd == NULL)
                prj_problem_add(c->pr, key->at,
                                "%s has no 'command' (expected the program to run, as a list)",
                                what);
            not_for(c, v, "url", what, rt);
            not_for(c, v, "handler", what, rt);
            break;
        case FN_RT_URL:
            if (f->url == NULL)
                prj_problem_add(c->pr, key->at, "%s has no 'url' (expected http://… or https://…)",
                                what);
            else if (strncmp(f->url, "http://", 7) != 0 && strncmp(f->url, "https://", 8) != 0)
                prj_problem_add(c->pr, prj_map_get(v, "url")->at,
                                "'url' of %s is \"%s\" (expected http://… or https://…)", what,
                                f->url);
            not_for(c, v, "code", what, rt);
            not_for(c, v, "command", what, rt);
            not_for(c, v, "handler", what, rt);
            break;
        }
    }
    free(code);
    free(rt);
}

/* ---- queues ---- */

static void check_queue(ck *c, prj_queue *q, const prj_node *key, const prj_node *v)
{
    static const char *const keys[] = {"fifo",
                                       "visibility_timeout",
                                       "retention",
                                       "delay",
                                       "max_message_size",
                                       "receive_wait",
                                       "dead_letter",
                                       "content_based_deduplication",
                                       NULL};
    q->name = bt_xstrdup(key->text);
    q->at = key->at;
    q->visibility_timeout_s = q->retention_s = q->delay_s = q->max_message_size =
        q->receive_wait_s = -1;
    char what[200];
    snprintf(what, sizeof what, "queue '%s'", q->name);
    bool named_fifo = has_suffix(q->name, ".fifo");
    /* SQS: up to 80 characters of [A-Za-z0-9_-], a FIFO queue's ending in .fifo. */
    if (!prj__simple_name(q->name, QM_MAX_QUEUE_NAME_CHARS, true))
        prj_problem_add(c->pr, key->at,
                        "queue name '%s' is not valid (expected 1 to 80 letters, digits, hyphens "
                        "or underscores, and .fifo at the end of a FIFO queue's)",
                        q->name);
    q->fifo = named_fifo;
    if (v->kind == PRJ_SCALAR && v->is_plain && v->len == 0)
        return; /* "Orders:" alone: every default */
    if (prj__map(c, v, what) == NULL)
        return;
    prj__keys(c, v, keys, what);
    q->fifo = prj__bool(c, v, "fifo", what, named_fifo);
    if (q->fifo != named_fifo)
        prj_problem_add(c->pr, prj_map_get(v, "fifo")->at,
                        q->fifo ? "%s is FIFO but its name does not end in .fifo (expected "
                                  "the name to end in .fifo)"
                                : "%s is not FIFO but its name ends in .fifo (expected fifo: true)",
                        what);
    q->content_based_dedup = prj__bool(c, v, "content_based_deduplication", what, false);
    if (q->content_based_dedup && !q->fifo)
        prj_problem_add(c->pr, prj_map_get(v, "content_based_deduplication")->at,
                        "content-based deduplication needs a FIFO queue, and %s is not one "
                        "(expected fifo: true)",
                        what);
    /* SQS's ranges (SetQueueAttributes). */
    q->visibility_timeout_s =
        prj__duration(c, v, "visibility_timeout", what, 0, QM_MAX_VISIBILITY_S, -1);
    q->retention_s = prj__duration(c, v, "retention", what, 60, 1209600, -1);
    q->delay_s = prj__duration(c, v, "delay", what, 0, 900, -1);
    q->max_message_size = prj__size(c, v, "max_message_size", what, 1024, QM_MAX_MESSAGE_SIZE, -1);
    q->receive_wait_s = prj__duration(c, v, "receive_wait", what, 0, QM_MAX_WAIT_S, -1);
    const prj_node *dl = prj_map_get(v, "dead_letter");
    if (dl) {
        static const char *const dkeys[] = {"queue", "max_receive_count", NULL};
        char where[256];
        snprintf(where, sizeof where, "the dead_letter of %s", what);
        if (prj__map(c, dl, where)) {
            prj__keys(c, dl, dkeys, where);
            q->dlq = prj__str(c, dl, "queue", where, true);
            q->max_receive_count = (int)prj__int(c, dl, "max_receive_count", where, 1, 1000, 10);
        }
    }
}

static const char **names_of(const void *arr, size_t n, size_t stride)
{
    const char **out = bt_xcalloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = *(char *const *)((const char *)arr + i * stride);
    return out;
}

static void check_dead_letters(ck *c, const prj_node *section)
{
    project *p = c->p;
    const char **names = names_of(p->queues, p->n_queues, sizeof *p->queues);
    for (size_t i = 0; i < p->n_queues; i++) {
        prj_queue *q = &p->queues[i];
        if (q->dlq == NULL)
            continue;
        const prj_node *node =
            prj_map_get(prj_map_get(prj_map_get(section, q->name), "dead_letter"), "queue");
        char what[200];
        snprintf(what, sizeof what, "the dead_letter of queue '%s'", q->name);
        if (!prj__ref(c, node, q->dlq, what, "queue", "queues", "arn:aws:sqs:", names, p->n_queues))
            continue;
        const prj_queue *d = project_queue(p, q->dlq);
        if (d == q)
            prj_problem_add(c->pr, node->at,
                            "queue '%s' is its own dead-letter queue (expected another queue)",
                            q->name);
        else if (d && d->fifo != q->fifo)
            prj_problem_add(c->pr, node->at,
                            "the dead-letter queue of %s queue '%s' is %s queue '%s' (expected a "
                            "queue of the same type)",
                            q->fifo ? "FIFO" : "standard", q->name, d->fifo ? "FIFO" : "standard",
                            d->name);
    }
    free(names);
}

/* ---- triggers ---- */

static void check_trigger(ck *c, prj_trigger *t, const prj_node *v, size_t index)
{
    static const char *const keys[] = {
        "queue",   "function",        "batch_size", "batching_window", "report_batch_item_failures",
        "enabled", "max_concurrency", NULL};
    project *p = c->p;
    char what[64];
    snprintf(what, sizeof what, "trigger %zu", index + 1);
    t->at = v->at;
    t->enabled = true;
    if (prj__map(c, v, what) == NULL)
        return;
    prj__keys(c, v, keys, what);
    t->queue = prj__str(c, v, "queue", what, true);
    t->function = prj__str(c, v, "function", what, true);
    const char **qn = names_of(p->queues, p->n_queues, sizeof *p->queues);
    const char **fnn = names_of(p->functions, p->n_functions, sizeof *p->functions);
    if (t->queue)
        prj__ref(c, prj_map_get(v, "queue"), t->queue, what, "queue", "queues", "arn:aws:sqs:", qn,
                 p->n_queues);
    if (t->function)
        prj__ref(c, prj_map_get(v, "function"), t->function, what, "function", "functions",
                 "arn:aws:lambda:", fnn, p->n_functions);
    free(qn);
    free(fnn);
    const prj_queue *q = t->queue ? project_queue(p, t->queue) : NULL;
    bool fifo = q ? q->fifo : (t->queue && has_suffix(t->queue, ".fifo"));
    /* Lambda's ranges for SQS event sources (CreateEventSourceMapping). */
    t->batch_size = (int)prj__int(c, v, "batch_size", what, 1, fifo ? 10 : 10000, 0);
    t->batching_window_s = (int)prj__duration(c, v, "batching_window", what, 0, 300, 0);
    if (t->batch_size > 10 && t->batching_window_s < 1)
        prj_problem_add(c->pr, prj_map_get(v, "batch_size")->at,
                        "%s has a batch_size of %d without a batching_window (expected a "
                        "batching_window of at least 1 second for a batch_size above 10)",
                        what, t->batch_size);
    t->report_item_failures = prj__bool(c, v, "report_batch_item_failures", what, false);
    t->enabled = prj__bool(c, v, "enabled", what, true);
    t->max_concurrency = (int)prj__int(c, v, "max_concurrency", what, 2, 1000, 0);
}

/* ---- the file ---- */

typedef void (*entry_fn)(ck *c, void *item, const prj_node *key, const prj_node *v);

static void *named_section(ck *c, const char *key, size_t item_size, size_t *n_out, entry_fn fn)
{
    const prj_node *sec = prj_map_get(c->root, key);
    *n_out = 0;
    if (sec == NULL || (sec->kind == PRJ_SCALAR && sec->is_plain && sec->len == 0))
        return NULL;
    char what[64];
    snprintf(what, sizeof what, "'%s'", key);
    if (prj__map(c, sec, what) == NULL)
        return NULL;
    char *items = bt_xcalloc(sec->n ? sec->n : 1, item_size);
    for (size_t i = 0; i < sec->n; i++)
        fn(c, items + i * item_size, sec->keys[i], sec->items[i]);
    *n_out = sec->n;
    return items;
}

static void machine_entry(ck *c, void *item, const prj_node *key, const prj_node *v)
{
    check_machine(c, item, key, v);
}
static void function_entry(ck *c, void *item, const prj_node *key, const prj_node *v)
{
    check_function(c, item, key, v);
}
static void queue_entry(ck *c, void *item, const prj_node *key, const prj_node *v)
{
    check_queue(c, item, key, v);
}

static void check_triggers(ck *c)
{
    const prj_node *sec = prj_map_get(c->root, "triggers");
    if (sec == NULL || (sec->kind == PRJ_SCALAR && sec->is_plain && sec->len == 0))
        return;
    if (sec->kind != PRJ_SEQ) {
        prj_problem_add(c->pr, sec->at, "'triggers' is %s (expected a list)", prj__kind_name(sec));
        return;
    }
    project *p = c->p;
    p->triggers = bt_xcalloc(sec->n ? sec->n : 1, sizeof *p->triggers);
    for (size_t i = 0; i < sec->n; i++) {
        prj_trigger *t = &p->triggers[p->n_triggers++];
        check_trigger(c, t, sec->items[i], i);
        for (size_t j = 0; j + 1 < p->n_triggers && t->queue && t->function; j++)
            if (p->triggers[j].queue && p->triggers[j].function &&
                strcmp(p->triggers[j].queue, t->queue) == 0 &&
                strcmp(p->triggers[j].function, t->function) == 0)
                prj_problem_add(c->pr, t->at,
                                "trigger %zu repeats trigger %zu (queue '%s' to function '%s'; "
                                "expected one trigger per queue and function)",
                                i + 1, j + 1, t->queue, t->function);
    }
}

static void check_root(ck *c)
{
    static const char *const keys[] = {
        "version",     "state_machines",  "functions",        "queues", "triggers",
        "topics",      "routes",          "schedules",        "smtp",   "public_url",
        "signing_key", "signing_key_env", "signing_key_file", NULL};
    const prj_node *root = c->root;
    if (root->kind != PRJ_MAP) {
        prj_problem_add(c->pr, root->at,
                        "the project file is %s (expected a mapping with "
                        "version: 1 and the sections)",
                        prj__kind_name(root));
        return;
    }
    prj__keys(c, root, keys, "the project file");
    const prj_node *version = prj_map_get(root, "version");
    if (version == NULL)
        prj_problem_add(c->pr, root->at, "the project file has no 'version' (expected version: 1)");
    else if (version->kind != PRJ_SCALAR || strcmp(version->text, "1") != 0)
        prj_problem_add(c->pr, version->at, "'version' is \"%s\" (expected 1)",
                        version->kind == PRJ_SCALAR ? version->text : "not a number");
    project *p = c->p;
    p->machines =
        named_section(c, "state_machines", sizeof *p->machines, &p->n_machines, machine_entry);
    p->functions =
        named_section(c, "functions", sizeof *p->functions, &p->n_functions, function_entry);
    p->queues = named_section(c, "queues", sizeof *p->queues, &p->n_queues, queue_entry);
    check_dead_letters(c, prj_map_get(root, "queues"));
    check_triggers(c);
    prj__check_topics(c, prj_map_get(root, "topics"));
    prj__check_routes(c, prj_map_get(root, "routes"));
    prj__check_schedules(c, prj_map_get(root, "schedules"));
    prj__check_smtp(c, prj_map_get(root, "smtp"));
    prj__check_settings(c);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return bt_xstrdup(".");
    if (slash == path)
        return bt_xstrdup("/");
    return bt_xstrndup(path, (size_t)(slash - path));
}

int project_load_text(const char *text, size_t len, const char *dir, project **out,
                      prj_problems *problems)
{
    *out = NULL;
    size_t before = problems->len;
    prj_node *root = prj_parse(text, len, problems);
    if (root == NULL)
        return BT_EINVAL;
    project *p = bt_xcalloc(1, sizeof *p);
    p->dir = bt_xstrdup(dir);
    ck c = {.p = p, .pr = problems, .root = root};
    check_root(&c);
    prj_node_free(root);
    prj_problems_sort(problems);
    if (problems->len > before) {
        project_free(p);
        return BT_EINVAL;
    }
    *out = p;
    return 0;
}

int project_load(const char *path, project **out, prj_problems *problems)
{
    *out = NULL;
    size_t len;
    char *text = bt_read_regular_file(path, PRJ_MAX_FILE, &len);
    if (text == NULL) {
        prj_problem_add(problems, (prj_mark){0, 0}, "cannot read the file: %s",
                        prj__read_error(errno, PRJ_MAX_FILE));
        return BT_EIO;
    }
    char *real = realpath(path, NULL);
    char *abs = real ? real : bt_xstrdup(path);
    char *dir = dir_of(abs);
    int rc = project_load_text(text, len, dir, out, problems);
    if (rc == 0) {
        (*out)->path = abs;
        abs = NULL;
    }
    free(abs);
    free(dir);
    free(text);
    return rc;
}

const prj_machine *project_machine(const project *p, const char *name)
{
    for (size_t i = 0; i < p->n_machines; i++)
        if (strcmp(p->machines[i].name, name) == 0)
            return &p->machines[i];
    return NULL;
}

const prj_function *project_function(const project *p, const char *name)
{
    for (size_t i = 0; i < p->n_functions; i++)
        if (strcmp(p->functions[i].name, name) == 0)
            return &p->functions[i];
    return NULL;
}

const prj_queue *project_queue(const project *p, const char *name)
{
    for (size_t i = 0; i < p->n_queues; i++)
        if (strcmp(p->queues[i].name, name) == 0)
            return &p->queues[i];
    return NULL;
}

static void count(char *buf, size_t cap, size_t *used, size_t n, const char *one, const char *many,
                  bool always)
{
    if (n == 0 && !always)
        return;
    *used += (size_t)snprintf(buf + *used, cap - *used, "%s%zu %s", *used ? ", " : "", n,
                              n == 1 ? one : many);
}

char *project_summary(const project *p)
{
    char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    count(buf, sizeof buf, &used, p->n_machines, "state machine", "state machines", true);
    count(buf, sizeof buf, &used, p->n_functions, "function", "functions", true);
    count(buf, sizeof buf, &used, p->n_queues, "queue", "queues", true);
    count(buf, sizeof buf, &used, p->n_triggers, "trigger", "triggers", true);
    count(buf, sizeof buf, &used, p->n_topics, "topic", "topics", false);
    count(buf, sizeof buf, &used, p->n_routes, "route", "routes", false);
    count(buf, sizeof buf, &used, p->n_schedules, "schedule", "schedules", false);
    return bt_xstrdup(buf);
}

void project_trigger_uuid(const char *queue, const char *function, char out[37])
{
    char *text = bt_xasprintf("baton-project-trigger\n%s\n%s", queue, function);
    uint8_t h[32];
    bt_sha256(text, strlen(text), h);
    free(text);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x50); /* RFC 4122's version 5 layout */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0],
             h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13],
             h[14], h[15]);
}

void project_free(project *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_machines; i++) {
        prj_machine *m = &p->machines[i];
        free(m->name);
        free(m->definition);
        free(m->definition_path);
        free(m->type);
        free(m->role);
        json_decref(m->logging);
        json_decref(m->tracing);
        for (size_t j = 0; j < m->n_tags; j++) {
            free(m->tags[j].key);
            free(m->tags[j].value);
        }
        free(m->tags);
    }
    free(p->machines);
    for (size_t i = 0; i < p->n_functions; i++) {
        prj_function *f = &p->functions[i];
        free(f->name);
        free(f->aws_runtime);
        free(f->handler);
        free(f->code_dir);
        for (size_t j = 0; f->command && f->command[j]; j++)
            free(f->command[j]);
        free(f->command);
        free(f->url);
        free(f->description);
        free(f->role);
        json_decref(f->environment);
    }
    free(p->functions);
    for (size_t i = 0; i < p->n_queues; i++) {
        free(p->queues[i].name);
        free(p->queues[i].dlq);
    }
    free(p->queues);
    for (size_t i = 0; i < p->n_triggers; i++) {
        free(p->triggers[i].queue);
        free(p->triggers[i].function);
    }
    free(p->triggers);
    for (size_t i = 0; i < p->n_topics; i++) {
        prj_topic *t = &p->topics[i];
        for (size_t j = 0; j < t->n_subs; j++) {
            free(t->subs[j].protocol);
            free(t->subs[j].endpoint);
            json_decref(t->subs[j].filter_policy);
        }
        free(t->subs);
        free(t->name);
    }
    free(p->topics);
    for (size_t i = 0; i < p->n_routes; i++) {
        free(p->routes[i].method);
        free(p->routes[i].path);
        free(p->routes[i].function);
        json_decref(p->routes[i].request_template);
    }
    free(p->routes);
    for (size_t i = 0; i < p->n_schedules; i++) {
        prj_schedule *s = &p->schedules[i];
        free(s->name);
        free(s->expression);
        free(s->timezone);
        free(s->target);
        json_decref(s->input);
    }
    free(p->schedules);
    free(p->smtp.host);
    free(p->smtp.username);
    free(p->smtp.password);
    free(p->smtp.from);
    free(p->smtp.ca_file);
    free(p->public_url);
    free(p->signing_key);
    free(p->path);
    free(p->dir);
    free(p);
}
