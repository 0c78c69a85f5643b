/*
 * service.c — the registry of functions (fn.h): checks with Lambda's messages, the rows of
 * fn_function written into the current batch and loaded at start, the names callers give
 * (fn_parse_name), the environment a function process gets, and the service's life.
 *
 * A function's configuration is kept as JSON text in its row, so that adding a setting
 * needs no migration. Code folders the API wrote live under <data>/functions/; the old one
 * goes once the change that replaced or deleted it is durable.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fn/fn_int.h"

#include "base/alloc.h"
#include "base/rand.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern char **environ;

const char fn_schema_v1[] = "CREATE TABLE fn_function (\n"
                            "  name TEXT PRIMARY KEY,\n"
                            "  config TEXT NOT NULL,\n" /* JSON object */
                            "  origin INTEGER NOT NULL,\n"
                            "  last_modified_ms INTEGER NOT NULL,\n"
                            "  revision_id TEXT NOT NULL,\n"
                            "  code_sha256 TEXT,\n"
                            "  code_size INTEGER NOT NULL,\n"
                            "  version INTEGER NOT NULL\n"
                            ");\n"
                            "CREATE TABLE fn_event (\n"
                            "  request_id TEXT PRIMARY KEY,\n"
                            "  function TEXT NOT NULL,\n"
                            "  payload TEXT NOT NULL,\n"
                            "  attempts INTEGER NOT NULL,\n"
                            "  next_attempt_ms INTEGER NOT NULL,\n"
                            "  created_ms INTEGER NOT NULL\n"
                            ");\n";

static const char sql_fn_put[] =
    "INSERT OR REPLACE INTO fn_function (name, config, origin, last_modified_ms, revision_id, "
    "code_sha256, code_size, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_fn_del[] = "DELETE FROM fn_function WHERE name = ?";
static const char sql_fn_load[] = "SELECT name, config, origin, last_modified_ms, revision_id, "
                                  "code_sha256, code_size, version FROM fn_function";

static const char *const runtime_names[] = {"nodejs", "python", "provided", "exec", "url"};

/* Lambda's reserved variables (LDG configuration-envvars.md; RIE env/constants.go). */
static const char *const reserved_keys[] = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
};

static bool is_reserved(const char *key)
{
    for (size_t i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
        if (strcmp(key, reserved_keys[i]) == 0)
            return true;
    return false;
}

static bool valid_name(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return n >= 1 && n <= max;
}

/* ---- names ---- */

void fn_arn(const fn_service *fs, const char *name, char *out, size_t out_len)
{
    snprintf(out, out_len, "arn:aws:lambda:%s:%s:function:%s", server_region(fs->srv),
             server_account(fs->srv), name);
}

static bool valid_qualifier(const char *q)
{
    return strcmp(q, "$LATEST") == 0 || valid_name(q, 128);
}

/* Splits s at ':' into at most max parts (pointers into buf). */
static size_t split_colons(char *buf, char **parts, size_t max)
{
    size_t n = 0;
    char *p = buf;
    while (n < max) {
        parts[n++] = p;
        char *c = strchr(p, ':');
        if (c == NULL)
            return n;
        *c = '\0';
        p = c + 1;
    }
    return max + 1; /* too many */
}

int fn_parse_name(const fn_service *fs, const char *given, char name[FN_NAME_MAX + 1],
                  char qualifier[130])
{
    char buf[300];
    if (given == NULL || strlen(given) >= sizeof buf)
        return BT_EINVAL;
    strcpy(buf, given);
    char *p[9];
    size_t n = split_colons(buf, p, 8);
    const char *nm = NULL, *q = "";
    if (n == 1 || n == 2) {
        nm = p[0];
        if (n == 2)
            q = p[1];
    } else if ((n == 3 || n == 4) && strcmp(p[1], "function") == 0) {
        if (strcmp(p[0], server_account(fs->srv)) != 0)
            return BT_EINVAL;
        nm = p[2];
        if (n == 4)
            q = p[3];
    } else if ((n == 7 || n == 8) && strcmp(p[0], "arn") == 0 && strncmp(p[1], "aws", 3) == 0 &&
               strcmp(p[2], "lambda") == 0 && strcmp(p[5], "function") == 0) {
        if (strcmp(p[3], server_region(fs->srv)) != 0 || strcmp(p[4], server_account(fs->srv)) != 0)
            return BT_EINVAL;
        nm = p[6];
        if (n == 8)
            q = p[7];
    } else {
        return BT_EINVAL;
    }
    if (!valid_name(nm, FN_NAME_MAX) || (n % 2 == 0 && !valid_qualifier(q)))
        return BT_EINVAL;
    strcpy(name, nm);
    snprintf(qualifier, 130, "%s", q);
    return 0;
}

/* ---- checks ---- */

static int check_config(const fn_config *c, bt_err *err)
{
    if (c->name == NULL || !valid_name(c->name, FN_NAME_MAX))
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%.100s' at 'functionName' failed "
                          "to satisfy constraint: Member must satisfy regular expression "
                          "pattern: [a-zA-Z0-9-_]+ and have length less than or equal to 64",
                          c->name ? c->name : "");
    if (c->timeout_s < 0 || c->timeout_s > FN_TIMEOUT_MAX)
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%d' at 'timeout' failed to satisfy "
                          "constraint: Member must have value %s %d",
                          c->timeout_s,
                          c->timeout_s < 1 ? "greater than or equal to" : "less than or equal to",
                          c->timeout_s < 1 ? 1 : FN_TIMEOUT_MAX);
    if (c->memory_mb != 0 && (c->memory_mb < FN_MEMORY_MIN || c->memory_mb > FN_MEMORY_MAX))
        return bt_err_set(err, BT_EINVAL,
                          "1 validation error detected: Value '%d' at 'memorySize' failed to "
                          "satisfy constraint: Member must have value %s %d",
                          c->memory_mb,
                          c->memory_mb < FN_MEMORY_MIN ? "greater than or equal to"
                                                       : "less than or equal to",
                          c->memory_mb < FN_MEMORY_MIN ? FN_MEMORY_MIN : FN_MEMORY_MAX);
    if (c->concurrency < 0 || c->queue_max < 0 || c->idle_s < 0)
        return bt_err_set(err, BT_EINVAL,
                          "Concurrency, queue length and idle time must not be negative");
    if (c->environment) {
        if (!json_is_object(c->environment))
            return bt_err_set(err, BT_EINVAL, "Environment variables must be an object");
        const char *k;
        json_t *v;
        bt_buf used;
        bt_buf_init(&used);
        json_object_foreach(c->environment, k, v)
        {
            if (!json_is_string(v)) {
                bt_buf_fini(&used);
                return bt_err_set(err, BT_EINVAL,
                                  "Environment variable %.100s must have a string value", k);
            }
            if (k[0] == '\0' || strchr(k, '=')) {
                bt_buf_fini(&used);
                return bt_err_set(err, BT_EINVAL,
                                  "Environment variable name '%.100s' is not "
                                  "valid",
                                  k);
            }
            if (is_reserved(k)) {
                if (used.len)
                    bt_buf_puts(&used, ",");
                bt_buf_puts(&used, k);
            }
        }
        if (used.len) {
            /* Lambda's answer to reserved keys in CreateFunction (as reported by users; the
             * notes §1.4 mark its exact text unverified). */
            bt_err_set(err, BT_EINVAL,
                       "Lambda was unable to configure your environment variables because the "
                       "environment variables you have provided contains reserved keys that "
                       "are currently not supported for modification. Reserved keys used in "
                       "this request: %.200s",
                       used.data);
            bt_buf_fini(&used);
            return BT_EINVAL;
        }
        bt_buf_fini(&used);
    }
    switch (c->runtime) {
    case FN_RT_NODEJS:
    case FN_RT_PYTHON:
        if (c->handler == NULL || c->handler[0] == '\0')
            return bt_err_set(err, BT_EINVAL, "Handler is required for runtime %s",
                              c->aws_runtime ? c->aws_runtime : runtime_names[c->runtime]);
        /* fall through */
    case FN_RT_PROVIDED:
    case FN_RT_EXEC:
        if (c->code_dir == NULL || c->code_dir[0] != '/')
            return bt_err_set(err, BT_EINVAL,
                              "The function's code folder must be an absolute "
                              "path");
        if (c->runtime == FN_RT_EXEC && (c->command == NULL || c->command[0] == NULL))
            return bt_err_set(err, BT_EINVAL, "An exec function needs a command");
        break;
    case FN_RT_URL:
        if (c->url == NULL ||
            (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0))
            return bt_err_set(err, BT_EINVAL, "A url function needs an http:// or https:// URL");
        break;
    default:
        return bt_err_set(err, BT_EINVAL, "Unknown runtime");
    }
    return 0;
}

/* ---- records ---- */

fn_func *fn__find(fn_service *fs, const char *name)
{
    return bt_strmap_get(&fs->funcs, name);
}

static void free_config(fn_func *fn)
{
    for (size_t i = 0; i < sizeof fn->own / sizeof fn->own[0]; i++) {
        free(fn->own[i]);
        fn->own[i] = NULL;
    }
    if (fn->argv) {
        for (char **a = fn->argv; *a; a++)
            free(*a);
        free(fn->argv);
        fn->argv = NULL;
    }
    json_decref(fn->info.cfg.environment);
    fn->info.cfg.environment = NULL;
}

void fn__func_release(fn_func *fn)
{
    if (--fn->refs > 0)
        return;
    free_config(fn);
    fn__log_free(fn->log);
    free(fn->init_error);
    free(fn);
}

static char *dup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

/* Copies cfg into fn (defaults applied). c may borrow fn's own strings (an update built from
 * fn_get's info), so everything is copied before the old copies go. The name keeps its
 * string: fs->funcs holds it as the key, and an update never renames. */
static void set_config(fn_func *fn, const fn_config *c)
{
    char *old[sizeof fn->own / sizeof fn->own[0]];
    memcpy(old, fn->own, sizeof old);
    char **old_argv = fn->argv;
    json_t *old_env = fn->info.cfg.environment;
    fn_config *d = &fn->info.cfg;
    *d = *c;
    d->name = fn->own[0] = old[0] ? old[0] : bt_xstrdup(c->name);
    old[0] = NULL;
    d->aws_runtime = fn->own[1] = dup_or_null(c->aws_runtime);
    d->code_dir = fn->own[2] = dup_or_null(c->code_dir);
    d->handler = fn->own[3] = dup_or_null(c->handler);
    d->url = fn->own[4] = dup_or_null(c->url);
    d->description = fn->own[5] = dup_or_null(c->description);
    d->role = fn->own[6] = dup_or_null(c->role);
    d->code_sha256 = fn->own[7] = dup_or_null(c->code_sha256);
    fn->argv = NULL;
    if (c->command) {
        size_t n = 0;
        while (c->command[n])
            n++;
        fn->argv = bt_xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            fn->argv[i] = bt_xstrdup(c->command[i]);
    }
    d->command = (const char *const *)fn->argv;
    d->environment = c->environment ? json_deep_copy(c->environment) : NULL;
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
        free(old[i]);
    if (old_argv) {
        for (char **a = old_argv; *a; a++)
            free(*a);
        free(old_argv);
    }
    json_decref(old_env);
    if (d->timeout_s == 0)
        d->timeout_s = FN_TIMEOUT_DEFAULT;
    if (d->memory_mb == 0)
        d->memory_mb = FN_MEMORY_DEFAULT;
    if (d->concurrency == 0)
        d->concurrency = FN_CONCURRENCY_DEFAULT;
    if (d->queue_max == 0)
        d->queue_max = FN_QUEUE_DEFAULT;
    if (d->idle_s == 0)
        d->idle_s = FN_IDLE_DEFAULT_S;
}

static json_t *config_json(const fn_config *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "runtime", json_string(runtime_names[c->runtime]));
    const char *const keys[] = {"aws_runtime", "code_dir", "handler", "url", "description", "role"};
    const char *const vals[] = {c->aws_runtime, c->code_dir,    c->handler,
                                c->url,         c->description, c->role};
    for (size_t i = 0; i < 6; i++)
        if (vals[i])
            json_object_set_new(o, keys[i], json_string(vals[i]));
    if (c->command) {
        json_t *a = json_array();
        for (size_t i = 0; c->command[i]; i++)
            json_array_append_new(a, json_string(c->command[i]));
        json_object_set_new(o, "command", a);
    }
    json_object_set_new(o, "timeout", json_integer(c->timeout_s));
    json_object_set_new(o, "memory", json_integer(c->memory_mb));
    json_object_set_new(o, "concurrency", json_integer(c->concurrency));
    json_object_set_new(o, "queue_max", json_integer(c->queue_max));
    json_object_set_new(o, "idle", json_integer(c->idle_s));
    if (c->environment)
        json_object_set(o, "environment", c->environment);
    return o;
}

static void save(fn_service *fs, fn_func *fn)
{
    json_t *o = config_json(&fn->info.cfg);
    char *text = json_dumps(o, JSON_COMPACT);
    store_batch_add(server_batch(fs->srv), sql_fn_put, "ttiittii", fn->info.cfg.name, text,
                    (int64_t)fn->info.origin, fn->info.last_modified_ms, fn->info.revision_id,
                    fn->info.cfg.code_sha256, fn->info.cfg.code_size, fn->info.version);
    free(text);
    json_decref(o);
}

static int name_cmp(const void *a, const void *b)
{
    const fn_func *x = *(fn_func *const *)a, *y = *(fn_func *const *)b;
    return strcmp(x->info.cfg.name, y->info.cfg.name);
}

static void list_add(fn_service *fs, fn_func *fn)
{
    if (fs->n_list == fs->cap_list) {
        fs->cap_list = fs->cap_list ? fs->cap_list * 2 : 16;
        fs->list = bt_xrealloc(fs->list, fs->cap_list * sizeof *fs->list);
    }
    fs->list[fs->n_list++] = fn;
    qsort(fs->list, fs->n_list, sizeof *fs->list, name_cmp);
    fs->infos_stale = true;
}

static void list_remove(fn_service *fs, fn_func *fn)
{
    for (size_t i = 0; i < fs->n_list; i++)
        if (fs->list[i] == fn) {
            memmove(&fs->list[i], &fs->list[i + 1], (fs->n_list - i - 1) * sizeof *fs->list);
            fs->n_list--;
            break;
        }
    fs->infos_stale = true;
}

static fn_func *func_new(fn_service *fs, const fn_config *cfg)
{
    fn_func *fn = bt_xcalloc(1, sizeof *fn);
    fn->refs = 1;
    set_config(fn, cfg);
    fn_arn(fs, fn->info.cfg.name, fn->info.arn, sizeof fn->info.arn);
    fn->log = fn__log_new(fs, fn->info.cfg.name);
    bt_strmap_put(&fs->funcs, fn->info.cfg.name, fn);
    list_add(fs, fn);
    return fn;
}

/* ---- code folders ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

typedef struct folder_drop {
    fn_service *fs;
    char *path;
} folder_drop;

static void drop_folder(void *ctx, int rc)
{
    folder_drop *d = ctx;
    d->fs->pending_commits--;
    if (rc == 0)
        nftw(d->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d->path);
    fn_service *fs = d->fs;
    free(d);
    fn__maybe_free(fs);
}

/* The folder goes once the change that stopped using it is durable, if the API made it. */
static void drop_folder_later(fn_service *fs, const char *dir)
{
    size_t n = strlen(fs->functions_dir);
    if (dir == NULL || strncmp(dir, fs->functions_dir, n) != 0 || dir[n] != '/' ||
        dir[n + 1] == '\0' || strstr(dir, "/..") != NULL)
        return;
    folder_drop *d = bt_xmalloc(sizeof *d);
    d->fs = fs;
    d->path = bt_xstrdup(dir);
    fs->pending_commits++;
    server_after_commit(fs->srv, drop_folder, d);
}

/* ---- the registry ---- */

int fn_put(fn_service *fs, const fn_config *cfg, fn_origin origin, bool create_only, bt_err *err)
{
    int rc = check_config(cfg, err);
    if (rc < 0)
        return rc;
    fn_func *fn = fn__find(fs, cfg->name);
    if (fn && create_only)
        return bt_err_set(err, BT_EEXIST, "Function already exist: %s", cfg->name);
    if (fn == NULL) {
        fn = func_new(fs, cfg);
    } else {
        char *old_dir = dup_or_null(fn->info.cfg.code_dir);
        set_config(fn, cfg);
        if (old_dir &&
            (fn->info.cfg.code_dir == NULL || strcmp(old_dir, fn->info.cfg.code_dir) != 0))
            drop_folder_later(fs, old_dir);
        free(old_dir);
        fn__workers_retire(fn);
        fs->infos_stale = true;
    }
    fn->config++;
    fn->info.origin = origin;
    fn->info.last_modified_ms = server_now_ms(fs->srv);
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, fn->info.revision_id);
    free(fn->init_error);
    fn->init_error = NULL;
    save(fs, fn);
    return 0;
}

static void unregister(fn_service *fs, fn_func *fn)
{
    bt_strmap_del(&fs->funcs, fn->info.cfg.name);
    list_remove(fs, fn);
    fn->is_deleted = true;
    fn__fail_waiting(fn);
    fn__workers_retire(fn);
    if (fn->workers) { /* busy ones end their invocation first; stop_all must find them */
        fn->refs++;
        fs->gone = bt_xrealloc(fs->gone, (fs->n_gone + 1) * sizeof *fs->gone);
        fs->gone[fs->n_gone++] = fn;
    }
    fn__func_release(fn);
}

int fn_delete(fn_service *fs, const char *name)
{
    fn_func *fn = fn__find(fs, name);
    if (fn == NULL)
        return BT_ENOTFOUND;
    store_batch_add(server_batch(fs->srv), sql_fn_del, "t", name);
    drop_folder_later(fs, fn->info.cfg.code_dir);
    unregister(fs, fn);
    return 0;
}

const fn_info *fn_get(fn_service *fs, const char *name)
{
    fn_func *fn = fn__find(fs, name);
    return fn ? &fn->info : NULL;
}

const fn_info *const *fn_list(fn_service *fs, size_t *n)
{
    if (fs->infos_stale) {
        free(fs->infos);
        fs->infos = bt_xcalloc(fs->n_list + 1, sizeof *fs->infos);
        for (size_t i = 0; i < fs->n_list; i++)
            fs->infos[i] = &fs->list[i]->info;
        fs->infos_stale = false;
    }
    *n = fs->n_list;
    return fs->infos;
}

const char **fn_names_of(fn_service *fs, fn_origin o, size_t *n)
{
    const char **names = bt_xcalloc(fs->n_list + 1, sizeof *names);
    *n = 0;
    for (size_t i = 0; i < fs->n_list; i++)
        if (fs->list[i]->info.origin == o)
            names[(*n)++] = fs->list[i]->info.cfg.name;
    return names;
}

void fn_set_credentials(fn_service *fs, const char *access_key, const char *secret)
{
    free(fs->access_key);
    free(fs->secret_key);
    fs->access_key = dup_or_null(access_key);
    fs->secret_key = dup_or_null(secret);
}

/* ---- loading ---- */

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int jint(json_t *o, const char *k)
{
    return (int)json_integer_value(json_object_get(o, k));
}

static void load_row(fn_service *fs, sqlite3_stmt *st)
{
    const char *name = (const char *)sqlite3_column_text(st, 0);
    json_t *o = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
    const char *rt = jstr(o, "runtime");
    fn_config c = {0};
    c.name = name;
    c.runtime = FN_RT_EXEC;
    bool known = false;
    for (size_t i = 0; rt && i < sizeof runtime_names / sizeof runtime_names[0]; i++)
        if (strcmp(rt, runtime_names[i]) == 0) {
            c.runtime = (fn_runtime)i;
            known = true;
        }
    json_t *cmd = json_object_get(o, "command");
    const char **argv = NULL;
    if (json_is_array(cmd)) {
        argv = bt_xcalloc(json_array_size(cmd) + 1, sizeof *argv);
        for (size_t i = 0; i < json_array_size(cmd); i++)
            argv[i] = json_string_value(json_array_get(cmd, i));
    }
    c.aws_runtime = jstr(o, "aws_runtime");
    c.code_dir = jstr(o, "code_dir");
    c.handler = jstr(o, "handler");
    c.url = jstr(o, "url");
    c.description = jstr(o, "description");
    c.role = jstr(o, "role");
    c.command = argv;
    c.timeout_s = jint(o, "timeout");
    c.memory_mb = jint(o, "memory");
    c.concurrency = jint(o, "concurrency");
    c.queue_max = jint(o, "queue_max");
    c.idle_s = jint(o, "idle");
    c.environment = json_object_get(o, "environment");
    c.code_sha256 = (const char *)sqlite3_column_text(st, 5);
    c.code_size = sqlite3_column_int64(st, 6);
    if (known && name && fn__find(fs, name) == NULL) {
        fn_func *fn = func_new(fs, &c);
        fn->config = 1;
        fn->info.origin = (fn_origin)sqlite3_column_int64(st, 2);
        fn->info.last_modified_ms = sqlite3_column_int64(st, 3);
        snprintf(fn->info.revision_id, sizeof fn->info.revision_id, "%s",
                 (const char *)sqlite3_column_text(st, 4));
        fn->info.version = sqlite3_column_int64(st, 7);
    }
    free(argv);
    json_decref(o);
}

static int load(fn_service *fs, bt_err *err)
{
    store *s = server_store(fs->srv);
    sqlite3_stmt *st = store_read_stmt(s, sql_fn_load);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "cannot read the functions: %s",
                          sqlite3_errmsg(store_reader(s)));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        load_row(fs, st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read the functions: %s", sqlite3_errstr(rc));
    return 0;
}

/* ---- the environment of a function process ---- */

static void env_put(char ***env, size_t *n, size_t *cap, char *kv)
{
    if (*n + 1 >= *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *env = bt_xrealloc(*env, *cap * sizeof **env);
    }
    (*env)[(*n)++] = kv;
    (*env)[*n] = NULL;
}

char **fn__env(fn_service *fs, fn_func *fn, int rapi_port)
{
    const fn_config *c = &fn->info.cfg;
    char **env = NULL;
    size_t n = 0, cap = 0;
    const char *path = getenv("PATH");
    env_put(&env, &n, &cap, bt_xasprintf("PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin"));
    env_put(&env, &n, &cap, bt_xstrdup("LANG=en_US.UTF-8"));
    const char *home = getenv("HOME");
    if (home)
        env_put(&env, &n, &cap, bt_xasprintf("HOME=%s", home));
    /* The user's variables (reserved ones were refused by fn_put) before Lambda's own. */
    if (c->environment) {
        const char *k;
        json_t *v;
        json_object_foreach(c->environment, k, v)
        {
            if (!is_reserved(k))
                env_put(&env, &n, &cap, bt_xasprintf("%s=%s", k, json_string_value(v)));
        }
    }
    if (rapi_port > 0)
        env_put(&env, &n, &cap, bt_xasprintf("AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", rapi_port));
    if (c->handler)
        env_put(&env, &n, &cap, bt_xasprintf("_HANDLER=%s", c->handler));
    env_put(&env, &n, &cap, bt_xasprintf("AWS_LAMBDA_FUNCTION_NAME=%s", c->name));
    env_put(&env, &n, &cap, bt_xstrdup("AWS_LAMBDA_FUNCTION_VERSION=$LATEST"));
    env_put(&env, &n, &cap, bt_xasprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", c->memory_mb));
    env_put(&env, &n, &cap, bt_xasprintf("AWS_REGION=%s", server_region(fs->srv)));
    env_put(&env, &n, &cap, bt_xasprintf("AWS_DEFAULT_REGION=%s", server_region(fs->srv)));
    if ((c->runtime == FN_RT_NODEJS || c->runtime == FN_RT_PYTHON) && c->aws_runtime)
        env_put(&env, &n, &cap, bt_xasprintf("AWS_EXECUTION_ENV=AWS_Lambda_%s", c->aws_runtime));
    env_put(&env, &n, &cap, bt_xasprintf("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", c->name));
    env_put(&env, &n, &cap,
            bt_xasprintf("AWS_LAMBDA_LOG_STREAM_NAME=$LATEST/%s", fn->info.revision_id));
    env_put(&env, &n, &cap, bt_xstrdup("AWS_LAMBDA_INITIALIZATION_TYPE=on-demand"));
    if (c->code_dir)
        env_put(&env, &n, &cap, bt_xasprintf("LAMBDA_TASK_ROOT=%s", c->code_dir));
    env_put(&env, &n, &cap, bt_xasprintf("LAMBDA_RUNTIME_DIR=%s", fs->runtime_dir));
    env_put(&env, &n, &cap, bt_xstrdup("TZ=UTC"));
    bool user_endpoint = c->environment && json_object_get(c->environment, "AWS_ENDPOINT_URL");
    if (server_endpoint(fs->srv) && !user_endpoint)
        env_put(&env, &n, &cap, bt_xasprintf("AWS_ENDPOINT_URL=%s", server_endpoint(fs->srv)));
    env_put(&env, &n, &cap,
            bt_xasprintf("AWS_ACCESS_KEY_ID=%s", fs->access_key ? fs->access_key : "baton"));
    env_put(&env, &n, &cap,
            bt_xasprintf("AWS_SECRET_ACCESS_KEY=%s", fs->secret_key ? fs->secret_key : "baton"));
    return env;
}

void fn__env_free(char **env)
{
    if (env == NULL)
        return;
    for (char **e = env; *e; e++)
        free(*e);
    free(env);
}

/* ---- life ---- */

static int make_dir(const char *path, bt_err *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return bt_err_set(err, BT_EIO, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

fn_service *fn_service_new(server *srv, bt_err *err)
{
    fn_service *fs = bt_xcalloc(1, sizeof *fs);
    fs->srv = srv;
    char real[PATH_MAX];
    const char *data = server_get_config(srv)->data_dir;
    fs->data_dir = bt_xstrdup(realpath(data, real) ? real : data);
    fs->functions_dir = bt_xasprintf("%s/functions", fs->data_dir);
    fs->runtime_dir = bt_xasprintf("%s/runtime", fs->data_dir);
    fs->logs_dir = bt_xasprintf("%s/logs", fs->data_dir);
    bt_strmap_init(&fs->funcs);
    fs->infos_stale = true;
    if (make_dir(fs->functions_dir, err) < 0 || make_dir(fs->runtime_dir, err) < 0 ||
        make_dir(fs->logs_dir, err) < 0 || fn__write_runtime_files(fs, err) < 0 ||
        load(fs, err) < 0) {
        fs->is_closing = true;
        for (size_t i = 0; i < fs->n_list; i++)
            fn__func_release(fs->list[i]);
        fs->n_list = 0;
        fn__maybe_free(fs);
        return NULL;
    }
    fn__invoke_init(fs);
    fn__events_load(fs);
    return fs;
}

void fn__maybe_free(fn_service *fs)
{
    if (!fs->is_closing || fs->open_handles > 0 || fs->pending_commits > 0)
        return;
    bt_strmap_fini(&fs->funcs);
    free(fs->list);
    free(fs->infos);
    free(fs->slots);
    free(fs->slot_gen);
    free(fs->free_slots);
    free(fs->data_dir);
    free(fs->functions_dir);
    free(fs->runtime_dir);
    free(fs->logs_dir);
    free(fs->access_key);
    free(fs->launcher);
    free(fs->secret_key);
    free(fs);
}

void fn_service_free(fn_service *fs)
{
    if (fs == NULL)
        return;
    fs->is_closing = true;
    fn__workers_stop_all(fs);
    fn__invoke_fini(fs);
    fn__url_fini(fs);
    fn__events_free(fs);
    fn__logs_flush_all(fs);
    for (size_t i = 0; i < fs->n_list; i++) {
        fs->list[i]->is_deleted = true;
        fn__func_release(fs->list[i]);
    }
    fs->n_list = 0;
    for (size_t i = 0; i < fs->n_gone; i++)
        fn__func_release(fs->gone[i]);
    free(fs->gone);
    fs->gone = NULL;
    fs->n_gone = 0;
    fn__maybe_free(fs);
}

json_t *fn_health(fn_service *fs)
{
    size_t idle = 0, workers = fn__workers_count(fs, &idle);
    size_t waiting = 0;
    for (size_t i = 0; i < fs->n_list; i++)
        waiting += fs->list[i]->n_waiting;
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "functions", (json_int_t)fs->n_list,
                     "workers", (json_int_t)workers, "workers_idle", (json_int_t)idle, "waiting",
                     (json_int_t)waiting, "invocations", (json_int_t)fs->n_invoked, "done",
                     (json_int_t)fs->n_done, "throttled", (json_int_t)fs->n_throttled);
}
