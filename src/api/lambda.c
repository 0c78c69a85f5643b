/*
 * lambda.c — the Lambda API (lambda.h) over fn/ and trigger/: each operation reads the
 * request (path, query, headers, JSON body — Invoke's body is the raw payload), calls the
 * service and answers in rest-json's shapes; errors carry their code in x-amzn-ErrorType and
 * {"Type", "Message"} in the body (Lambda's API reference, "Errors"). Invoke answers when
 * the function has answered (fn_invoke's callback); the rest answer at once, after the
 * commit of what they wrote. Deployment packages (Code.ZipFile) are unpacked here, on the
 * engine thread, into <data>/functions/<name>/<sha256 prefix>/ before the function's row is
 * written; Baton's Code.LocalPath names a folder to run in place.
 */
#include "api/lambda.h"

#include "api/lambda_int.h"
#include "base/alloc.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/rand.h"
#include "base/unzip.h"
#include "queue/codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define LIST_PAGE_MAX      50
#define CLIENT_CONTEXT_MAX 3583

/* ---- answering ---- */

void lambda__free(lcall *l)
{
    bt_form_free(l->query);
    json_decref(l->body);
    free(l);
}

void lambda__fail(lcall *l, const char *code, const char *reason, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int status = lambda_error_status(code);
    bt_buf b;
    bt_buf_init(&b);
    lambda_error_body(&b, status, msg, reason);
    const char *extra[] = {"x-amzn-ErrorType", code, reason ? "Retry-After" : NULL, "1", NULL};
    server_log(l->c->srv, SERVER_LOG_DEBUG, "request.error", "id=%llu op=%s type=%s status=%d",
               (unsigned long long)l->c->id, l->c->op, code, status);
    api_reply(l->c, status, "application/json", b.data, b.len, extra);
    bt_buf_fini(&b);
    lambda__free(l);
}

void lambda__ok_json(lcall *l, int status, json_t *body)
{
    bt_buf b;
    bt_buf_init(&b);
    if (bt_json_write(&b, body) != 0)
        bt_buf_puts(&b, "{}");
    json_decref(body);
    api_reply(l->c, status, "application/json", b.data, b.len, NULL);
    bt_buf_fini(&b);
    lambda__free(l);
}

static void ok_empty(lcall *l, int status)
{
    api_reply(l->c, status, "application/json", "", 0, NULL);
    lambda__free(l);
}

/* ---- request parts ---- */

const char *lambda__query(lcall *l, const char *key)
{
    return l->query ? bt_form_get(l->query, key) : NULL;
}

/* The function the path names: name and qualifier, the qualifier checked against the
 * Qualifier parameter. false when answered (an error). */
static bool function_of(lcall *l, const char *given, char name[FN_NAME_MAX + 1], char qual[130],
                        const char **qualifier)
{
    if (fn_parse_name(l->fs, given, name, qual) != 0) {
        lambda__fail(l, "ValidationException", NULL,
                     "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                     "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                     given);
        return false;
    }
    bt_err err = {0};
    if (lambda_qualifier(qual, lambda__query(l, "Qualifier"), qualifier, &err) != 0) {
        lambda__fail(l, "InvalidParameterValueException", NULL, "%s", err.msg);
        return false;
    }
    return true;
}

/* The function, or an answered 404 naming it as Lambda does (qualified when with_latest or
 * a qualifier was given). */
static const fn_info *existing(lcall *l, const char *name, const char *qualifier, bool with_latest)
{
    const fn_info *fi = fn_get(l->fs, name);
    bool versioned = qualifier && strcmp(qualifier, "$LATEST") != 0;
    if (fi != NULL && !versioned)
        return fi;
    char arn[400];
    fn_arn(l->fs, name, arn, sizeof arn);
    const char *q = qualifier ? qualifier : with_latest ? "$LATEST" : NULL;
    lambda__fail(l, "ResourceNotFoundException", NULL, "Function not found: %s%s%s", arn,
                 q ? ":" : "", q ? q : "");
    return NULL;
}

/* A member of the body: NULL when absent or null; a wrong type is answered. */
bool lambda__member(lcall *l, const char *key, json_type type, json_t **out)
{
    json_t *v = json_object_get(l->body, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return true;
    bool good = json_typeof(v) == type || (type == JSON_TRUE && json_is_boolean(v));
    if (!good) {
        lambda__fail(l, "InvalidParameterValueException", NULL, "Invalid value for parameter %s",
                     key);
        return false;
    }
    *out = v;
    return true;
}

/* ---- code ---- */

/* A folder for the package: <data>/functions/<name>/<first 16 hex digits of its SHA-256>,
 * unpacked under a temporary name and renamed, so a folder of that name is always whole
 * (the same package again reuses it). */
static char *unpack(lcall *l, const char *name, const uint8_t *zip, size_t len,
                    const uint8_t sha[32], bt_err *err)
{
    const char *data = server_get_config(l->c->srv)->data_dir;
    char hex[17];
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    char *dir = bt_xasprintf("%s/functions/%s/%s", data, name, hex);
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return dir;
    uint8_t r[6];
    bt_random_bytes(r, sizeof r);
    char *tmp =
        bt_xasprintf("%s.tmp%02x%02x%02x%02x%02x%02x", dir, r[0], r[1], r[2], r[3], r[4], r[5]);
    int rc = bt_unzip_to_dir(zip, len, tmp, err);
    if (rc == 0 && rename(tmp, dir) != 0 && errno != EEXIST && errno != ENOTEMPTY)
        rc = bt_err_set(err, BT_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    bt_remove_tree(tmp);
    free(tmp);
    if (rc != 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

typedef struct code {
    char *dir;
    char *url;
    char sha[48];
    int64_t size;
} pkg_code;

static void code_fini(pkg_code *k)
{
    free(k->dir);
    free(k->url);
}

/* Reads Code (CreateFunction) or the body itself (UpdateFunctionCode): ZipFile, or Baton's
 * LocalPath / Url. false when answered. */
static bool read_code(lcall *l, json_t *obj, const char *name, pkg_code *k)
{
    memset(k, 0, sizeof *k);
    json_t *zip = json_object_get(obj, "ZipFile"), *local = json_object_get(obj, "LocalPath");
    json_t *url = json_object_get(obj, "Url");
    if (json_is_string(zip)) {
        bt_buf raw;
        bt_buf_init(&raw);
        if (!qc_base64_decode(json_string_value(zip), json_string_length(zip), &raw)) {
            bt_buf_fini(&raw);
            lambda__fail(l, "InvalidParameterValueException", NULL, "%s", BT_UNZIP_MESSAGE);
            return false;
        }
        uint8_t sha[32];
        bt_sha256(raw.data ? raw.data : "", raw.len, sha);
        bt_buf enc;
        bt_buf_init(&enc);
        qc_base64_encode(sha, sizeof sha, &enc);
        snprintf(k->sha, sizeof k->sha, "%s", enc.data);
        bt_buf_fini(&enc);
        k->size = (int64_t)raw.len;
        bt_err err = {0};
        k->dir = unpack(l, name, (const uint8_t *)(raw.data ? raw.data : ""), raw.len, sha, &err);
        bt_buf_fini(&raw);
        if (k->dir == NULL) {
            lambda__fail(l,
                         err.code == BT_EIO ? "ServiceException" : "InvalidParameterValueException",
                         NULL, "%s", err.msg);
            return false;
        }
        return true;
    }
    if (json_is_string(local)) {
        const char *p = json_string_value(local);
        struct stat st;
        if (p[0] != '/' || stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            lambda__fail(l, "InvalidParameterValueException", NULL,
                         "Code.LocalPath must be an absolute path to a folder: %s", p);
            return false;
        }
        k->dir = bt_xstrdup(p);
        return true;
    }
    if (json_is_string(url)) {
        k->url = bt_xstrdup(json_string_value(url));
        return true;
    }
    if (json_object_get(obj, "S3Bucket") || json_object_get(obj, "ImageUri")) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "Baton takes code as ZipFile (or its own LocalPath), not from S3 or an image");
        return false;
    }
    lambda__fail(l, "InvalidParameterValueException", NULL,
                 "Please provide a source for function code.");
    return false;
}

/* ---- configuration members shared by create and update ---- */

typedef struct settings {
    fn_config cfg;
    const char *command[2];
} settings;

/* Architectures: the model's list of exactly one of x86_64 and arm64. Functions run on this
 * host's processor whatever is asked; the answer says x86_64. false when answered. */
static bool architectures_ok(lcall *l, json_t *v)
{
    size_t n = json_array_size(v);
    if (n != 1) {
        lambda__fail(l, "ValidationException", NULL,
                     "1 validation error detected: Value at 'architectures' failed to satisfy "
                     "constraint: Member must have length %s 1",
                     n < 1 ? "greater than or equal to" : "less than or equal to");
        return false;
    }
    const char *a = json_string_value(json_array_get(v, 0));
    if (a == NULL || (strcmp(a, "x86_64") != 0 && strcmp(a, "arm64") != 0)) {
        lambda__fail(l, "ValidationException", NULL,
                     "1 validation error detected: Value '[%s]' at 'architectures' failed to "
                     "satisfy constraint: Member must satisfy constraint: [Member must satisfy "
                     "enum value set: [x86_64, arm64]]",
                     a ? a : "");
        return false;
    }
    return true;
}

/* Applies the body's configuration members to s->cfg (strings borrowed from the body).
 * false when answered. */
static bool apply_settings(lcall *l, settings *s)
{
    json_t *v;
    if (!lambda__member(l, "Runtime", JSON_STRING, &v))
        return false;
    if (v) {
        bt_err err = {0};
        if (lambda_runtime_parse(json_string_value(v), &s->cfg.runtime, &err) != 0) {
            lambda__fail(l, "InvalidParameterValueException", NULL, "%s", err.msg);
            return false;
        }
        s->cfg.aws_runtime = json_string_value(v);
    }
    if (!lambda__member(l, "Role", JSON_STRING, &v))
        return false;
    if (v) {
        if (!lambda_role_ok(json_string_value(v))) {
            lambda__fail(l, "ValidationException", NULL,
                         "1 validation error detected: Value '%s' at 'role' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                         json_string_value(v));
            return false;
        }
        s->cfg.role = json_string_value(v);
    }
    if (!lambda__member(l, "Handler", JSON_STRING, &v))
        return false;
    if (v)
        s->cfg.handler = json_string_value(v);
    if (!lambda__member(l, "Description", JSON_STRING, &v))
        return false;
    if (v)
        s->cfg.description = json_string_value(v);
    if (!lambda__member(l, "Timeout", JSON_INTEGER, &v))
        return false;
    if (v) {
        json_int_t t = json_integer_value(v);
        if (t < 1 || t > FN_TIMEOUT_MAX) {
            lambda__fail(
                l, "ValidationException", NULL,
                "1 validation error detected: Value '%" JSON_INTEGER_FORMAT
                "' at 'timeout' failed to satisfy constraint: Member must have value %s %d",
                t, t < 1 ? "greater than or equal to" : "less than or equal to",
                t < 1 ? 1 : FN_TIMEOUT_MAX);
            return false;
        }
        s->cfg.timeout_s = (int)t;
    }
    if (!lambda__member(l, "MemorySize", JSON_INTEGER, &v))
        return false;
    if (v) {
        json_int_t m = json_integer_value(v);
        if (m < FN_MEMORY_MIN || m > FN_MEMORY_MAX) {
            lambda__fail(
                l, "ValidationException", NULL,
                "1 validation error detected: Value '%" JSON_INTEGER_FORMAT
                "' at 'memorySize' failed to satisfy constraint: Member must have value %s %d",
                m, m < FN_MEMORY_MIN ? "greater than or equal to" : "less than or equal to",
                m < FN_MEMORY_MIN ? FN_MEMORY_MIN : FN_MEMORY_MAX);
            return false;
        }
        s->cfg.memory_mb = (int)m;
    }
    if (!lambda__member(l, "Architectures", JSON_ARRAY, &v))
        return false;
    if (v && !architectures_ok(l, v))
        return false;
    if (!lambda__member(l, "Environment", JSON_OBJECT, &v))
        return false;
    if (v) {
        json_t *vars = json_object_get(v, "Variables");
        const char *k;
        json_t *x;
        if (vars != NULL && !json_is_null(vars)) {
            if (!json_is_object(vars)) {
                lambda__fail(l, "InvalidParameterValueException", NULL,
                             "Invalid value for parameter Environment.Variables");
                return false;
            }
            json_object_foreach(vars, k, x)
            {
                if (!json_is_string(x)) {
                    lambda__fail(l, "InvalidParameterValueException", NULL,
                                 "Environment variable %s must be a string", k);
                    return false;
                }
            }
        }
        s->cfg.environment = vars && json_is_object(vars) ? vars : NULL;
    }
    if (s->cfg.runtime == FN_RT_EXEC && s->cfg.handler) {
        s->command[0] = s->cfg.handler;
        s->command[1] = NULL;
        s->cfg.command = s->command;
    }
    return true;
}

/* fn_put's failure as Lambda answers it. */
static void fail_put(lcall *l, int rc, const bt_err *err, const char *name)
{
    if (rc == BT_EEXIST)
        lambda__fail(l, "ResourceConflictException", NULL, "Function already exist: %s", name);
    else if (rc == BT_ENOTFOUND)
        lambda__fail(l, "ResourceNotFoundException", NULL, "%s", err->msg);
    else if (rc == BT_EIO)
        lambda__fail(l, "ServiceException", NULL, "%s", err->msg);
    else
        lambda__fail(l, "InvalidParameterValueException", NULL, "%s", err->msg);
}

/* A copy of what the service holds, to change and put back. */
static void settings_from(settings *s, const fn_info *fi)
{
    memset(s, 0, sizeof *s);
    s->cfg = fi->cfg;
}

/* ---- functions ---- */

static void create_function(lcall *l)
{
    json_t *v;
    if (!lambda__member(l, "FunctionName", JSON_STRING, &v))
        return;
    if (v == NULL) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "The request must contain the parameter FunctionName.");
        return;
    }
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, json_string_value(v), name, qual, &q))
        return;
    json_t *pkg = json_object_get(l->body, "PackageType");
    if (json_is_string(pkg) && strcmp(json_string_value(pkg), "Image") == 0) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "Baton runs Zip packages, not images");
        return;
    }
    if (json_object_get(l->body, "Role") == NULL) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "The request must contain the parameter Role.");
        return;
    }
    if (!json_is_string(json_object_get(l->body, "Runtime"))) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "The Runtime parameter is required for Zip packages.");
        return;
    }
    if (fn_get(l->fs, name) != NULL) {
        lambda__fail(l, "ResourceConflictException", NULL, "Function already exist: %s", name);
        return;
    }
    settings s;
    memset(&s, 0, sizeof s);
    s.cfg.name = name;
    if (!apply_settings(l, &s))
        return;
    if (s.cfg.handler == NULL && (s.cfg.runtime == FN_RT_NODEJS || s.cfg.runtime == FN_RT_PYTHON)) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "The Handler parameter is required for Zip packages.");
        return;
    }
    json_t *code_obj = json_object_get(l->body, "Code");
    if (!json_is_object(code_obj)) {
        lambda__fail(l, "InvalidParameterValueException", NULL,
                     "The request must contain the parameter Code.");
        return;
    }
    pkg_code k;
    if (!read_code(l, code_obj, name, &k))
        return;
    s.cfg.code_dir = k.dir;
    s.cfg.url = k.url;
    s.cfg.code_sha256 = k.sha[0] ? k.sha : NULL;
    s.cfg.code_size = k.size;
    bt_err err = {0};
    int rc = fn_put(l->fs, &s.cfg, FN_ORIGIN_API, true, &err);
    code_fini(&k);
    if (rc != 0) {
        fail_put(l, rc, &err, name);
        return;
    }
    lambda__ok_json(l, 201, lambda_config_json(fn_get(l->fs, name)));
}

static void get_function(lcall *l, bool config_only)
{
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, l->route.resource, name, qual, &q))
        return;
    const fn_info *fi = existing(l, name, q, !config_only);
    if (fi == NULL)
        return;
    json_t *cfg = lambda_config_json(fi);
    if (config_only) {
        lambda__ok_json(l, 200, cfg);
        return;
    }
    char *location = bt_xasprintf("file://%s", fi->cfg.code_dir ? fi->cfg.code_dir : "");
    json_t *body = json_pack("{s:o,s:{s:s,s:s},s:{}}", "Configuration", cfg, "Code",
                             "RepositoryType", "S3", "Location", location, "Tags");
    free(location);
    lambda__ok_json(l, 200, body);
}

static void list_functions(lcall *l)
{
    const char *marker = lambda__query(l, "Marker"), *max = lambda__query(l, "MaxItems");
    long limit = LIST_PAGE_MAX;
    if (max) {
        char *end;
        long m = strtol(max, &end, 10);
        if (*max == '\0' || *end != '\0' || m < 1 || m > 10000) {
            lambda__fail(l, "ValidationException", NULL,
                         "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy "
                         "constraint: Member must have value between 1 and 10000",
                         max);
            return;
        }
        limit = m < LIST_PAGE_MAX ? m : LIST_PAGE_MAX;
    }
    char *after = NULL;
    if (marker && *marker) {
        bt_buf b;
        bt_buf_init(&b);
        if (!qc_base64_decode(marker, strlen(marker), &b) || b.len == 0 ||
            strlen(b.data) != b.len) {
            bt_buf_fini(&b);
            lambda__fail(l, "InvalidParameterValueException", NULL, "Invalid marker: %s", marker);
            return;
        }
        after = bt_buf_steal(&b);
    }
    size_t n;
    const fn_info *const *all = fn_list(l->fs, &n);
    json_t *fns = json_array();
    size_t i = 0;
    while (i < n && after && strcmp(all[i]->cfg.name, after) <= 0)
        i++;
    const char *last = NULL;
    for (; i < n && (long)json_array_size(fns) < limit; i++) {
        json_array_append_new(fns, lambda_config_json(all[i]));
        last = all[i]->cfg.name;
    }
    json_t *body = json_pack("{s:o}", "Functions", fns);
    if (i < n && last) {
        bt_buf b;
        bt_buf_init(&b);
        qc_base64_encode(last, strlen(last), &b);
        json_object_set_new(body, "NextMarker", json_string(b.data));
        bt_buf_fini(&b);
    }
    free(after);
    lambda__ok_json(l, 200, body);
}

static void update_code(lcall *l)
{
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, l->route.resource, name, qual, &q))
        return;
    const fn_info *fi = existing(l, name, q, false);
    if (fi == NULL)
        return;
    settings s;
    settings_from(&s, fi);
    pkg_code k;
    if (!read_code(l, l->body, name, &k))
        return;
    json_t *dry = json_object_get(l->body, "DryRun");
    if (json_is_true(dry)) {
        code_fini(&k);
        lambda__ok_json(l, 200, lambda_config_json(fi));
        return;
    }
    s.cfg.code_dir = k.dir ? k.dir : s.cfg.code_dir;
    s.cfg.url = k.url ? k.url : s.cfg.url;
    if (k.dir) {
        s.cfg.code_sha256 = k.sha[0] ? k.sha : NULL;
        s.cfg.code_size = k.size;
    }
    bt_err err = {0};
    int rc = fn_put(l->fs, &s.cfg, FN_ORIGIN_API, false, &err);
    code_fini(&k);
    if (rc != 0) {
        fail_put(l, rc, &err, name);
        return;
    }
    lambda__ok_json(l, 200, lambda_config_json(fn_get(l->fs, name)));
}

static void update_configuration(lcall *l)
{
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, l->route.resource, name, qual, &q))
        return;
    const fn_info *fi = existing(l, name, q, false);
    if (fi == NULL)
        return;
    json_t *rev = json_object_get(l->body, "RevisionId");
    if (json_is_string(rev) && strcmp(json_string_value(rev), fi->revision_id) != 0) {
        lambda__fail(l, "PreconditionFailedException", NULL,
                     "The Revision Id provided does not match the latest Revision Id. Call the "
                     "GetFunction/GetAlias API to retrieve the latest Revision Id");
        return;
    }
    settings s;
    settings_from(&s, fi);
    if (!apply_settings(l, &s))
        return;
    bt_err err = {0};
    int rc = fn_put(l->fs, &s.cfg, FN_ORIGIN_API, false, &err);
    if (rc != 0) {
        fail_put(l, rc, &err, name);
        return;
    }
    lambda__ok_json(l, 200, lambda_config_json(fn_get(l->fs, name)));
}

/* After the delete is durable: the unpacked package goes, unless a function (one created
 * again meanwhile) runs from it. */
typedef struct removal {
    fn_service *fs;
    char *dir;
} removal;

static void remove_code(void *ctx, int rc)
{
    removal *r = ctx;
    bool used = false;
    size_t n;
    const fn_info *const *all = fn_list(r->fs, &n);
    for (size_t i = 0; i < n; i++)
        used = used || (all[i]->cfg.code_dir && strcmp(all[i]->cfg.code_dir, r->dir) == 0);
    if (rc == 0 && !used)
        bt_remove_tree(r->dir);
    free(r->dir);
    free(r);
}

static void delete_function(lcall *l)
{
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, l->route.resource, name, qual, &q))
        return;
    const fn_info *fi = existing(l, name, q, false);
    if (fi == NULL)
        return;
    char *managed = bt_xasprintf("%s/functions/%s/", server_get_config(l->c->srv)->data_dir, name);
    char *dir = fi->cfg.code_dir && strncmp(fi->cfg.code_dir, managed, strlen(managed)) == 0
                    ? bt_xstrdup(fi->cfg.code_dir)
                    : NULL;
    free(managed);
    if (fn_delete(l->fs, name) != 0) {
        free(dir);
        existing(l, name, NULL, false);
        return;
    }
    if (dir) {
        removal *r = bt_xmalloc(sizeof *r);
        r->fs = l->fs;
        r->dir = dir;
        server_after_commit(l->c->srv, remove_code, r);
    }
    ok_empty(l, 204);
}

static void function_logs(lcall *l)
{
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, l->route.resource, name, qual, &q))
        return;
    const char *lines = lambda__query(l, "lines"), *since = lambda__query(l, "since");
    long long n = lines ? strtoll(lines, NULL, 10) : 0;
    long long s = since ? strtoll(since, NULL, 10) : 0;
    char *text = fn_logs(l->fs, name, n > 0 ? (size_t)n : 0, s > 0 ? (int64_t)s : 0);
    if (text == NULL) {
        existing(l, name, NULL, false);
        return;
    }
    l->c->reply_now = true;
    api_reply(l->c, 200, "text/plain; charset=utf-8", text, strlen(text), NULL);
    free(text);
    lambda__free(l);
}

/* ---- Invoke ---- */

typedef struct invocation {
    api_call *c;
    char *log_header;
} invocation;

static void invoked(void *ctx, const fn_result *r)
{
    invocation *inv = ctx;
    api_call *c = inv->c;
    if (r->api_status != 0) {
        const char *code = r->api_error ? r->api_error : "ServiceException";
        bt_buf b;
        bt_buf_init(&b);
        lambda_error_body(&b, r->api_status, r->api_message ? r->api_message : code,
                          r->throttle_reason);
        const char *extra[] = {"x-amzn-ErrorType", code, r->throttle_reason ? "Retry-After" : NULL,
                               "1", NULL};
        api_reply(c, r->api_status, "application/json", b.data, b.len, extra);
        bt_buf_fini(&b);
        free(inv);
        return;
    }
    const char *extra[12];
    size_t n = 0;
    extra[n++] = "X-Amz-Executed-Version";
    extra[n++] = r->executed_version ? r->executed_version : "$LATEST";
    if (r->function_error) {
        extra[n++] = "X-Amz-Function-Error";
        extra[n++] = "Unhandled";
    }
    bt_buf log;
    bt_buf_init(&log);
    if (r->log_tail) {
        qc_base64_encode(r->log_tail, strlen(r->log_tail), &log);
        extra[n++] = "X-Amz-Log-Result";
        extra[n++] = log.data;
    }
    if (r->request_id) {
        extra[n++] = "x-amzn-RequestId";
        extra[n++] = r->request_id;
    }
    extra[n] = NULL;
    api_reply(c, 200, "application/json", r->payload ? r->payload : "", r->payload_len, extra);
    bt_buf_fini(&log);
    free(inv);
}

static void invoke(lcall *l)
{
    char name[FN_NAME_MAX + 1], qual[130];
    const char *q;
    if (!function_of(l, l->route.resource, name, qual, &q))
        return;
    const char *type = http_header(l->c->req, "X-Amz-Invocation-Type");
    type = type ? type : "RequestResponse";
    bool event = strcmp(type, "Event") == 0, dry = strcmp(type, "DryRun") == 0;
    if (!event && !dry && strcmp(type, "RequestResponse") != 0) {
        lambda__fail(
            l, "ValidationException", NULL,
            "1 validation error detected: Value '%s' at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [RequestResponse, Event, DryRun]",
            type);
        return;
    }
    const fn_info *fi = existing(l, name, q, true);
    if (fi == NULL)
        return;
    size_t len;
    const char *payload = http_body(l->c->req, &len);
    size_t cap = event ? FN_EVENT_PAYLOAD_MAX : FN_SYNC_PAYLOAD_MAX;
    if (len > cap) {
        lambda__fail(l, "RequestTooLargeException", NULL,
                     "Request must be smaller than %zu bytes for the InvokeFunction operation",
                     cap);
        return;
    }
    if (len > 0) {
        /* Only checked, the bytes go on as sent: an integer past 64 bits (an unsigned id)
         * is JSON all the same. */
        json_error_t jerr;
        json_t *j = json_loadb(payload, len,
                               JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
        if (j == NULL) {
            lambda__fail(
                l, "InvalidRequestContentException", NULL,
                "Could not parse request body into json: Could not parse payload into json: "
                "%s: at line %d column %d",
                jerr.text, jerr.line, jerr.column);
            return;
        }
        json_decref(j);
    }
    bt_buf context;
    bt_buf_init(&context);
    const char *cc = http_header(l->c->req, "X-Amz-Client-Context");
    if (cc && *cc) {
        json_t *j = NULL;
        if (strlen(cc) <= CLIENT_CONTEXT_MAX && qc_base64_decode(cc, strlen(cc), &context))
            j = json_loadb(context.data ? context.data : "", context.len, 0, NULL);
        if (!json_is_object(j)) {
            json_decref(j);
            bt_buf_fini(&context);
            lambda__fail(l, "InvalidRequestContentException", NULL,
                         "Client context must be a valid Base64-encoded JSON object.");
            return;
        }
        json_decref(j);
    }
    const char *log_type = http_header(l->c->req, "X-Amz-Log-Type");
    char invoked_arn[400];
    fn_arn(l->fs, name, invoked_arn, sizeof invoked_arn);
    if (q) {
        size_t al = strlen(invoked_arn);
        snprintf(invoked_arn + al, sizeof invoked_arn - al, ":%s", q);
    }
    fn_invoke_req req = {
        .name = name,
        .qualifier = q,
        .payload = len > 0 ? payload : NULL,
        .payload_len = len,
        .client_context = cc && *cc ? context.data : NULL,
        .invoked_arn = invoked_arn,
        .tail_log = log_type && strcmp(log_type, "Tail") == 0,
    };
    if (dry) {
        bt_buf_fini(&context);
        ok_empty(l, 204);
        return;
    }
    if (event) {
        char request_id[40];
        fn_result r;
        memset(&r, 0, sizeof r);
        int rc = fn_invoke_event(l->fs, &req, request_id, &r);
        bt_buf_fini(&context);
        if (rc != 0) {
            const char *code = r.api_error ? r.api_error : "ServiceException";
            lambda__fail(l, code, r.throttle_reason, "%s", r.api_message ? r.api_message : code);
            return;
        }
        const char *extra[] = {"x-amzn-RequestId", request_id, NULL};
        /* The answer waits for the commit that makes the invocation durable. */
        api_reply(l->c, 202, "application/json", "", 0, extra);
        lambda__free(l);
        return;
    }
    invocation *inv = bt_xcalloc(1, sizeof *inv);
    inv->c = l->c;
    /* The function's answer depends on no write of ours: it goes out as soon as it comes. */
    l->c->reply_now = true;
    l->c = NULL;
    fn_invoke(l->fs, &req, invoked, inv);
    bt_buf_fini(&context);
    lambda__free(l);
}

/* ---- entry ---- */

void api_lambda(api_call *c, fn_service *fns, trigger_service *triggers)
{
    lcall *l = bt_xcalloc(1, sizeof *l);
    l->c = c;
    l->fs = fns;
    l->ts = triggers;
    int rc = lambda_route_parse(http_method(c->req), http_path(c->req), &l->route);
    if (rc != 0) {
        c->op = "Unknown";
        lambda__fail(l, rc == BT_EINVAL ? "MethodNotAllowedException" : "UnknownOperationException",
                     NULL, "No Lambda operation is %s %s", http_method(c->req), http_path(c->req));
        return;
    }
    c->op = lambda_op_name(l->route.op);
    if (fns == NULL) {
        lambda__fail(l, "ServiceException", NULL, "This server runs no functions");
        return;
    }
    const char *q = http_query(c->req);
    if (q && *q) {
        bt_err err = {0};
        l->query = bt_form_parse(q, strlen(q), 0, &err);
        if (l->query == NULL) {
            lambda__fail(l, "InvalidParameterValueException", NULL, "%s", err.msg);
            return;
        }
    }
    if (l->route.op != LAMBDA_OP_INVOKE && l->route.op != LAMBDA_OP_LOGS) {
        size_t len;
        const char *body = http_body(c->req, &len);
        json_error_t jerr;
        l->body = len == 0 ? json_object() : json_loadb(body, len, 0, &jerr);
        if (!json_is_object(l->body)) {
            lambda__fail(l, "InvalidRequestContentException", NULL,
                         "Could not parse request body into json: %s",
                         l->body ? "not an object" : jerr.text);
            return;
        }
    }
    switch (l->route.op) {
    case LAMBDA_OP_INVOKE:
        invoke(l);
        break;
    case LAMBDA_OP_CREATE_FUNCTION:
        create_function(l);
        break;
    case LAMBDA_OP_GET_FUNCTION:
        get_function(l, false);
        break;
    case LAMBDA_OP_GET_FUNCTION_CONFIGURATION:
        get_function(l, true);
        break;
    case LAMBDA_OP_LIST_FUNCTIONS:
        list_functions(l);
        break;
    case LAMBDA_OP_UPDATE_FUNCTION_CODE:
        update_code(l);
        break;
    case LAMBDA_OP_UPDATE_FUNCTION_CONFIGURATION:
        update_configuration(l);
        break;
    case LAMBDA_OP_DELETE_FUNCTION:
        delete_function(l);
        break;
    case LAMBDA_OP_LOGS:
        function_logs(l);
        break;
    default:
        lambda__esm(l);
        break;
    }
}
