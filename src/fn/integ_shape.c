/*
 * integ_shape.c — Parameters to a function invocation and its outcome back, for the Step
 * Functions integration (fn/integ.c). Shapes follow Lambda notes §4: the optimised form's
 * result is Invoke's response as Step Functions' Java SDK returns it (recorded by LocalStack
 * against AWS: test_lambda_task_service.snapshot.json), failures carry the function's
 * errorType and error payload, or "Lambda.<Code>" with the SDK's cause format.
 */
#include "fn/integ_int.h"

#include "base/alloc.h"
#include "base/json.h"
#include "path/payload.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char res_invoke[] = "arn:aws:states:::lambda:invoke";
static const char res_wait[] = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], each field non-empty. */
static bool is_function_arn(const char *s)
{
    static const char prefix[] = "arn:aws:lambda:";
    if (strncmp(s, prefix, sizeof prefix - 1) != 0)
        return false;
    s += sizeof prefix - 1;
    for (int i = 0; i < 2; i++) { /* region, account */
        size_t n = strcspn(s, ":");
        if (n == 0 || s[n] != ':')
            return false;
        s += n + 1;
    }
    if (strncmp(s, "function:", 9) != 0)
        return false;
    s += 9;
    size_t n = strcspn(s, ":");
    if (n == 0)
        return false;
    if (s[n] == '\0')
        return true;
    s += n + 1;
    return *s != '\0' && strchr(s, ':') == NULL;
}

fn_integ_kind fn_integ__kind(const char *resource)
{
    if (resource == NULL)
        return FN_INTEG_NONE;
    if (strcmp(resource, res_invoke) == 0)
        return FN_INTEG_INVOKE;
    if (strcmp(resource, res_wait) == 0)
        return FN_INTEG_WAIT;
    return is_function_arn(resource) ? FN_INTEG_LEGACY : FN_INTEG_NONE;
}

void fn_integ__req_fini(fn_integ_req *r)
{
    free(r->function);
    free(r->qualifier);
    free(r->payload);
    free(r->client_context);
    memset(r, 0, sizeof *r);
}

/* A request Step Functions' SDK client refuses before sending: reported as Lambda answers a
 * bad parameter. */
static int bad_request(const char *message, char **error, char **cause)
{
    *error = bt_xstrdup("Lambda.InvalidParameterValueException");
    *cause = bt_xasprintf("%s (Service: AWSLambda; Status Code: 400; Error Code: "
                          "InvalidParameterValueException; Request ID: null; Proxy: null)",
                          message);
    return -1;
}

static int opt_string(json_t *params, const char *name, char **out, char **error, char **cause)
{
    json_t *v = json_object_get(params, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        char *m = bt_xasprintf("Value for parameter %s is invalid. Reason: wrong type.", name);
        bad_request(m, error, cause);
        free(m);
        return -1;
    }
    *out = bt_xstrdup(json_string_value(v));
    return 0;
}

/* Standard base64 (with padding) to text; NULL when it is not base64. */
static char *base64_text(const char *in)
{
    size_t n = strlen(in);
    if (n % 4 != 0)
        return NULL;
    unsigned char *out = bt_xmalloc(n / 4 * 3 + 1);
    int len = n ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)n) : 0;
    if (len < 0) {
        free(out);
        return NULL;
    }
    for (size_t i = n; i > 0 && in[i - 1] == '='; i--) /* EVP_DecodeBlock counts the pad */
        len--;
    out[len] = '\0';
    return (char *)out;
}

/* Payload: absent or null sends nothing, which the function receives as {}; a string is sent
 * as its bytes (the SDK's Payload is a byte buffer: "{}" arrives as {}); anything else as
 * its JSON text (recorded: test_invoke, test_invoke_json_values). */
static char *payload_text(json_t *v)
{
    if (v == NULL || json_is_null(v))
        return bt_xstrdup("{}");
    if (json_is_string(v))
        return bt_xstrdup(json_string_value(v));
    char *text = bt_json_dumps(v);
    return text ? text : bt_xstrdup("{}");
}

int fn_integ__decode(fn_integ_kind kind, const char *resource, json_t *params, fn_integ_req *out,
                     char **error, char **cause)
{
    memset(out, 0, sizeof *out);
    *error = *cause = NULL;
    if (kind == FN_INTEG_LEGACY) {
        out->function = bt_xstrdup(resource);
        /* The effective input is the event, sent as its JSON text. */
        char *text = params ? bt_json_dumps(params) : NULL;
        out->payload = text ? text : bt_xstrdup("{}");
        return 0;
    }
    if (!json_is_object(params))
        return bad_request("The request must contain the parameter FunctionName.", error, cause);
    char *itype = NULL, *log_type = NULL, *context = NULL;
    int rc = opt_string(params, "FunctionName", &out->function, error, cause);
    if (rc == 0)
        rc = opt_string(params, "Qualifier", &out->qualifier, error, cause);
    if (rc == 0)
        rc = opt_string(params, "InvocationType", &itype, error, cause);
    if (rc == 0)
        rc = opt_string(params, "LogType", &log_type, error, cause);
    if (rc == 0)
        rc = opt_string(params, "ClientContext", &context, error, cause);
    if (rc == 0 && out->function == NULL)
        rc = bad_request("The request must contain the parameter FunctionName.", error, cause);
    if (rc == 0 && itype) {
        if (strcmp(itype, "Event") == 0)
            out->itype = FN_ITYPE_EVENT;
        else if (strcmp(itype, "DryRun") == 0)
            out->itype = FN_ITYPE_DRY_RUN;
        else if (strcmp(itype, "RequestResponse") != 0)
            rc = bad_request("1 validation error detected: Value at 'invocationType' failed to "
                             "satisfy constraint: Member must satisfy enum value set: [Event, "
                             "RequestResponse, DryRun]",
                             error, cause);
    }
    if (rc == 0 && log_type) {
        if (strcmp(log_type, "Tail") == 0)
            out->tail_log = true;
        else if (strcmp(log_type, "None") != 0)
            rc = bad_request("1 validation error detected: Value at 'logType' failed to satisfy "
                             "constraint: Member must satisfy enum value set: [Tail, None]",
                             error, cause);
    }
    if (rc == 0 && context) {
        out->client_context = base64_text(context);
        if (out->client_context == NULL)
            rc = bad_request("Client context must be a valid Base64-encoded JSON object.", error,
                             cause);
    }
    if (rc == 0)
        out->payload = payload_text(json_object_get(params, "Payload"));
    free(itype);
    free(log_type);
    free(context);
    if (rc != 0)
        fn_integ__req_fini(out);
    return rc;
}

json_t *fn_integ__parse_payload(const char *text, size_t len)
{
    if (text == NULL)
        return json_null();
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return v ? v : json_stringn(text, len);
}

void fn_integ__http_date(int64_t epoch_ms, char out[40])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void header(json_t *all, json_t *flat, const char *name, const char *value)
{
    json_object_set_new(all, name, json_pack("[s]", value));
    json_object_set_new(flat, name, json_string(value));
}

static char *base64(const char *text)
{
    size_t n = strlen(text);
    char *out = bt_xmalloc((n + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
    return out;
}

json_t *fn_integ__envelope(const fn_result *r, int status, const char *request_id,
                           const char *http_date, const char *trace_id)
{
    const char *version =
        r && r->executed_version && *r->executed_version ? r->executed_version : "$LATEST";
    size_t len = status == 200 && r ? r->payload_len : 0;
    char length[24];
    snprintf(length, sizeof length, "%zu", len);
    json_t *all = json_object(), *flat = json_object();
    char *log = r && r->log_tail ? base64(r->log_tail) : NULL;
    /* Header order and names as recorded from AWS. */
    if (status == 200)
        header(all, flat, "X-Amz-Executed-Version", version);
    if (log)
        header(all, flat, "X-Amz-Log-Result", log);
    header(all, flat, "x-amzn-Remapped-Content-Length", "0");
    header(all, flat, "Connection", "keep-alive");
    header(all, flat, "x-amzn-RequestId", request_id);
    header(all, flat, "Content-Length", length);
    header(all, flat, "Date", http_date);
    header(all, flat, "X-Amzn-Trace-Id", trace_id);
    header(all, flat, "Content-Type", "application/json");
    json_t *out = json_object();
    if (status == 200)
        json_object_set_new(out, "ExecutedVersion", json_string(version));
    if (log)
        json_object_set_new(out, "LogResult", json_string(log));
    json_object_set_new(out, "Payload",
                        status == 200 && r ? fn_integ__parse_payload(r->payload, r->payload_len)
                                           : json_string(""));
    json_object_set_new(out, "SdkHttpMetadata",
                        json_pack("{s:o, s:o, s:i}", "AllHttpHeaders", all, "HttpHeaders", flat,
                                  "HttpStatusCode", status));
    json_object_set_new(out, "SdkResponseMetadata", json_pack("{s:s}", "RequestId", request_id));
    json_object_set_new(out, "StatusCode", json_integer(status));
    free(log);
    return out;
}

bool fn_integ__failure(const fn_result *r, const char *request_id, char **error, char **cause)
{
    if (r->api_status != 0) {
        const char *code = r->api_error && *r->api_error ? r->api_error : "ServiceException";
        const char *id = r->request_id && *r->request_id ? r->request_id : request_id;
        *error = bt_xasprintf("Lambda.%s", code);
        *cause = bt_xasprintf("%s (Service: AWSLambda; Status Code: %d; Error Code: %s; "
                              "Request ID: %s; Proxy: null)",
                              r->api_message ? r->api_message : "", r->api_status, code, id);
        return true;
    }
    if (!r->function_error)
        return false;
    /* Lambda notes §4.2 and trap #3: without an errorType Step Functions says Lambda.Unknown. */
    *error = bt_xstrdup(r->error_type && *r->error_type ? r->error_type : "Lambda.Unknown");
    /* The cause is the error payload as compact JSON text: Python's runtime client answers
     * {"errorMessage": "…", …} and the recorded cause reads {"errorMessage":"…",…}
     * (test_express_async' test_catch); members keep their order. Text that is not a JSON
     * object stays as it came. */
    *cause = NULL;
    json_t *v = r->payload ? json_loadb(r->payload, r->payload_len, 0, NULL) : NULL;
    if (json_is_object(v))
        *cause = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (*cause == NULL)
        *cause =
            r->payload ? bt_xasprintf("%.*s", (int)r->payload_len, r->payload) : bt_xstrdup("");
    return true;
}

bool fn_integ__too_large(fn_integ_kind kind, const char *resource, json_t *result, char **error,
                         char **cause)
{
    if (payload_size_capped(result, PAYLOAD_MAX_BYTES) <= PAYLOAD_MAX_BYTES)
        return false;
    /* The recorded causes (test_states_errors' *_data_limit_exceeded_on_large_utf8_response)
     * name the service for arn:aws:states:::lambda:invoke and the function for its ARN. */
    *error = bt_xstrdup("States.DataLimitExceeded");
    *cause = bt_xasprintf("The state/task '%s' returned a result with a size exceeding the "
                          "maximum number of bytes service limit.",
                          kind == FN_INTEG_LEGACY ? resource : "lambda");
    return true;
}
