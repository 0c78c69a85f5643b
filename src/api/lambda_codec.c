/*
 * lambda_codec.c — the Lambda API's pure parts (lambda_int.h): routes by method and path,
 * Runtime names, the role pattern, LastModified's format, qualifiers, FunctionConfiguration
 * and error bodies. Facts from Lambda's API reference and its service model (botocore's
 * lambda/2015-03-31/service-2.json): paths, enums, patterns, statuses.
 */
#include "api/lambda.h"
#include "api/lambda_int.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool api_lambda_is_request(const char *path, const char *sig_service)
{
    return strncmp(path, LAMBDA_PREFIX, strlen(LAMBDA_PREFIX)) == 0 ||
           strncmp(path, "/baton/functions/", 17) == 0 ||
           (sig_service != NULL && strcmp(sig_service, "lambda") == 0);
}

const char *lambda_op_name(lambda_op op)
{
    static const char *const names[] = {
#define X(id, name) name,
        LAMBDA_OPS(X)
#undef X
    };
    return op < LAMBDA_OP_COUNT ? names[op] : "?";
}

/* Splits path (after the prefix) into at most 4 segments; a trailing '/' is allowed. */
static size_t segments(const char *p, char seg[4][512])
{
    size_t n = 0;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || n == 4 || len >= 512)
            return len == 0 && slash && slash[1] == '\0' ? n : 5;
        memcpy(seg[n], p, len);
        seg[n][len] = '\0';
        n++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return n;
}

int lambda_route_parse(const char *method, const char *path, lambda_route *out)
{
    char seg[4][512];
    out->resource[0] = '\0';
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    bool put = strcmp(method, "PUT") == 0, del = strcmp(method, "DELETE") == 0;
#define PICK(cond, o)                                                                              \
    do {                                                                                           \
        if (cond) {                                                                                \
            out->op = (o);                                                                         \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)
    if (strncmp(path, "/baton/functions/", 17) == 0) {
        size_t n = segments(path + 17, seg);
        if (n != 2 || strcmp(seg[1], "logs") != 0)
            return BT_ENOTFOUND;
        snprintf(out->resource, sizeof out->resource, "%s", seg[0]);
        PICK(get, LAMBDA_OP_LOGS);
        return BT_EINVAL;
    }
    if (strncmp(path, LAMBDA_PREFIX, strlen(LAMBDA_PREFIX)) != 0)
        return BT_ENOTFOUND;
    size_t n = segments(path + strlen(LAMBDA_PREFIX), seg);
    if (n == 0 || n > 3)
        return BT_ENOTFOUND;
    if (n >= 2)
        snprintf(out->resource, sizeof out->resource, "%s", seg[1]);
    if (strcmp(seg[0], "functions") == 0) {
        if (n == 1) {
            PICK(get, LAMBDA_OP_LIST_FUNCTIONS);
            PICK(post, LAMBDA_OP_CREATE_FUNCTION);
            return BT_EINVAL;
        }
        if (n == 2) {
            PICK(get, LAMBDA_OP_GET_FUNCTION);
            PICK(del, LAMBDA_OP_DELETE_FUNCTION);
            return BT_EINVAL;
        }
        if (strcmp(seg[2], "invocations") == 0) {
            PICK(post, LAMBDA_OP_INVOKE);
            return BT_EINVAL;
        }
        if (strcmp(seg[2], "configuration") == 0) {
            PICK(get, LAMBDA_OP_GET_FUNCTION_CONFIGURATION);
            PICK(put, LAMBDA_OP_UPDATE_FUNCTION_CONFIGURATION);
            return BT_EINVAL;
        }
        if (strcmp(seg[2], "code") == 0) {
            PICK(put, LAMBDA_OP_UPDATE_FUNCTION_CODE);
            return BT_EINVAL;
        }
        return BT_ENOTFOUND;
    }
    if (strcmp(seg[0], "event-source-mappings") == 0 && n <= 2) {
        if (n == 1) {
            PICK(get, LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS);
            PICK(post, LAMBDA_OP_CREATE_EVENT_SOURCE_MAPPING);
            return BT_EINVAL;
        }
        PICK(get, LAMBDA_OP_GET_EVENT_SOURCE_MAPPING);
        PICK(put, LAMBDA_OP_UPDATE_EVENT_SOURCE_MAPPING);
        PICK(del, LAMBDA_OP_DELETE_EVENT_SOURCE_MAPPING);
        return BT_EINVAL;
    }
#undef PICK
    return BT_ENOTFOUND;
}

/* ---- runtimes ---- */

/* Lambda's Runtime enum as its model lists it (the message for an unknown one names it). */
static const char RUNTIME_ENUM[] =
    "[nodejs20.x, provided.al2023, python3.12, python3.13, nodejs22.x, java17, python3.10, "
    "java11, python3.11, dotnet8, java21, nodejs18.x, provided.al2, ruby3.3, ruby3.4, "
    "java8.al2, ruby3.2, python3.9]";

/* Runtimes Lambda no longer accepts for creating or updating a function (Lambda's runtime
 * deprecation table). */
static const char *const DEPRECATED[] = {
    "nodejs",     "nodejs4.3",  "nodejs4.3-edge", "nodejs6.10",    "nodejs8.10",    "nodejs10.x",
    "nodejs12.x", "nodejs14.x", "nodejs16.x",     "python2.7",     "python3.6",     "python3.7",
    "python3.8",  "java8",      "dotnetcore1.0",  "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
    "dotnet6",    "dotnet7",    "go1.x",          "ruby2.5",       "ruby2.7",
};

static const char *const BATON_NODE[] = {"nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"};
static const char *const BATON_PYTHON[] = {"python3.9",  "python3.10", "python3.11",
                                           "python3.12", "python3.13", "python3.14"};
static const char *const BATON_PROVIDED[] = {"provided", "provided.al2", "provided.al2023"};
static const char *const OTHER_LAMBDA[] = {"java8.al2", "java11",  "java17",  "java21",
                                           "dotnet8",   "ruby3.2", "ruby3.3", "ruby3.4"};

static bool in(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

#define IN(s, list) in((s), (list), sizeof(list) / sizeof *(list))

int lambda_runtime_parse(const char *name, fn_runtime *out, bt_err *err)
{
    if (IN(name, BATON_NODE))
        *out = FN_RT_NODEJS;
    else if (IN(name, BATON_PYTHON))
        *out = FN_RT_PYTHON;
    else if (IN(name, BATON_PROVIDED))
        *out = FN_RT_PROVIDED;
    else if (strcmp(name, "exec") == 0)
        *out = FN_RT_EXEC;
    else if (strcmp(name, "url") == 0)
        *out = FN_RT_URL;
    else if (IN(name, DEPRECATED))
        return bt_err_set(err, BT_EINVAL,
                          "The runtime parameter of %s is no longer supported for creating or "
                          "updating AWS Lambda functions. We recommend you use a supported "
                          "runtime while creating or updating functions.",
                          name);
    else if (IN(name, OTHER_LAMBDA))
        return bt_err_set(err, BT_EINVAL,
                          "Baton does not run the %s runtime: use nodejs18.x or later, "
                          "python3.9 or later, provided.al2023 (a bootstrap), or Baton's exec "
                          "or url",
                          name);
    else
        return bt_err_set(err, BT_EINVAL,
                          "Value %s at 'runtime' failed to satisfy constraint: Member must "
                          "satisfy enum value set: %s or be a valid ARN",
                          name, RUNTIME_ENUM);
    return 0;
}

/* The model's pattern for Role: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+ */
bool lambda_role_ok(const char *r)
{
    if (strncmp(r, "arn:", 4) != 0)
        return false;
    r += 4;
    if (strncmp(r, "aws", 3) == 0) {
        r += 3;
        while (isalpha((unsigned char)*r) || *r == '-')
            r++;
    }
    if (strncmp(r, ":iam::", 6) != 0)
        return false;
    r += 6;
    for (int i = 0; i < 12; i++, r++)
        if (!isdigit((unsigned char)*r))
            return false;
    if (strncmp(r, ":role", 5) != 0)
        return false;
    r += 5;
    if (*r == '/')
        r++;
    if (*r == '\0')
        return false;
    for (; *r; r++)
        if (!isalnum((unsigned char)*r) && strchr("_+=,.@-/", *r) == NULL)
            return false;
    return true;
}

void lambda_time_format(int64_t ms, char out[40])
{
    char iso[32];
    bt_time_format(ms, iso, sizeof iso); /* "2024-05-01T10:00:00.000Z" */
    size_t n = strlen(iso);
    if (n > 0 && iso[n - 1] == 'Z')
        iso[n - 1] = '\0';
    snprintf(out, 40, "%s+0000", iso);
}

int lambda_qualifier(const char *from_name, const char *from_query, const char **out, bt_err *err)
{
    bool has_name = from_name && *from_name, has_query = from_query && *from_query;
    *out = has_name ? from_name : has_query ? from_query : NULL;
    if (has_name && has_query && strcmp(from_name, from_query) != 0)
        return bt_err_set(err, BT_EINVAL,
                          "The derived qualifier from the function name does not match the "
                          "specified qualifier.");
    return 0;
}

static const char *runtime_default(const fn_info *fi)
{
    switch (fi->cfg.runtime) {
    case FN_RT_NODEJS:
        return "nodejs20.x";
    case FN_RT_PYTHON:
        return "python3.12";
    case FN_RT_PROVIDED:
        return "provided.al2023";
    case FN_RT_EXEC:
        return "exec";
    case FN_RT_URL:
        return "url";
    }
    return "provided.al2023";
}

json_t *lambda_config_json(const fn_info *fi)
{
    const fn_config *c = &fi->cfg;
    char modified[40];
    lambda_time_format(fi->last_modified_ms, modified);
    json_t *j = json_object();
    json_object_set_new(j, "FunctionName", json_string(c->name));
    json_object_set_new(j, "FunctionArn", json_string(fi->arn));
    json_object_set_new(j, "Runtime",
                        json_string(c->aws_runtime ? c->aws_runtime : runtime_default(fi)));
    json_object_set_new(j, "Role", json_string(c->role ? c->role : ""));
    json_object_set_new(j, "Handler", json_string(c->handler ? c->handler : ""));
    json_object_set_new(j, "CodeSize", json_integer(c->code_size));
    json_object_set_new(j, "Description", json_string(c->description ? c->description : ""));
    json_object_set_new(j, "Timeout",
                        json_integer(c->timeout_s ? c->timeout_s : FN_TIMEOUT_DEFAULT));
    json_object_set_new(j, "MemorySize",
                        json_integer(c->memory_mb ? c->memory_mb : FN_MEMORY_DEFAULT));
    json_object_set_new(j, "LastModified", json_string(modified));
    json_object_set_new(j, "CodeSha256", json_string(c->code_sha256 ? c->code_sha256 : ""));
    json_object_set_new(j, "Version", json_string("$LATEST"));
    if (c->environment && json_object_size(c->environment) > 0)
        json_object_set_new(j, "Environment", json_pack("{s:O}", "Variables", c->environment));
    json_object_set_new(j, "TracingConfig", json_pack("{s:s}", "Mode", "PassThrough"));
    json_object_set_new(j, "RevisionId", json_string(fi->revision_id));
    json_object_set_new(j, "State", json_string("Active"));
    json_object_set_new(j, "LastUpdateStatus", json_string("Successful"));
    json_object_set_new(j, "PackageType", json_string("Zip"));
    json_object_set_new(j, "Architectures", json_pack("[s]", "x86_64"));
    json_object_set_new(j, "EphemeralStorage", json_pack("{s:i}", "Size", 512));
    char group[FN_NAME_MAX + 16];
    snprintf(group, sizeof group, "/aws/lambda/%s", c->name);
    json_object_set_new(j, "LoggingConfig",
                        json_pack("{s:s,s:s}", "LogFormat", "Text", "LogGroup", group));
    return j;
}

void lambda_error_body(bt_buf *b, int status, const char *message, const char *reason)
{
    bt_buf_puts(b, status >= 500 ? "{\"Type\":\"Service\",\"Message\":"
                                 : "{\"Type\":\"User\",\"Message\":");
    bt_json_write_string(b, message, strlen(message));
    if (reason) {
        bt_buf_puts(b, ",\"Reason\":");
        bt_json_write_string(b, reason, strlen(reason));
    }
    bt_buf_putc(b, '}');
}

int lambda_error_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } table[] = {
        {"ResourceNotFoundException", 404}, {"ResourceConflictException", 409},
        {"RequestTooLargeException", 413},  {"TooManyRequestsException", 429},
        {"ServiceException", 500},          {"UnsupportedMediaTypeException", 415},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcmp(code, table[i].code) == 0)
            return table[i].status;
    return 400;
}
