/*
 * event.c — what a route's function receives, and what a proxy function must answer.
 *
 * Non-proxy (API Gateway REST `type: AWS`): the request template rendered as text is the
 * event; without a template the body passes through (an empty body is "{}").
 * Proxy (`type: AWS_PROXY`, payload format 1.0): the request as one JSON object whose
 * absent maps are null, not {}; the answer must be {statusCode, headers, multiValueHeaders,
 * body, isBase64Encoded} and nothing else, or the client gets 502. Sources: API Gateway
 * developer guide, set-up-lambda-proxy-integrations and api-gateway-mapping-template-reference.
 */
#include "route/route_int.h"

#include "base/alloc.h"
#include "base/json.h"
#include "base/rand.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The stage and API id Baton's routes report: one API, one stage. */
#define ROUTE_STAGE  "baton"
#define ROUTE_API_ID "baton"

void route_request_init(route_request *q, http_request *req, const route_match *m,
                        const char *account, int64_t now_ms)
{
    memset(q, 0, sizeof *q);
    q->method = http_method(req);
    q->path = http_path(req);
    q->query = http_query(req);
    q->body = http_body(req, &q->body_len);
    q->n_query = vtl_parse_query(q->query, &q->query_params);
    q->n_headers = http_n_headers(req);
    q->headers = bt_xcalloc(q->n_headers ? q->n_headers : 1, sizeof *q->headers);
    for (size_t i = 0; i < q->n_headers; i++)
        http_header_at(req, i, &q->headers[i].name, &q->headers[i].value);
    q->path_params = m ? m->params : NULL;
    q->n_path = m ? m->n_params : 0;
    /* "127.0.0.1:53412" or "[::1]:53412" → the address alone. */
    const char *peer = http_peer(req);
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    if (n >= sizeof q->source_ip)
        n = sizeof q->source_ip - 1;
    memcpy(q->source_ip, peer, n);
    q->source_ip[n] = '\0';
    q->user_agent = http_header(req, "User-Agent");
    uint8_t b[16];
    bt_random_bytes(b, sizeof b);
    bt_uuid_format(b, q->request_id);
    q->now_ms = now_ms;
    q->account = account;
}

void route_request_fini(route_request *q)
{
    vtl_params_free(q->query_params, q->n_query);
    free(q->headers);
    memset(q, 0, sizeof *q);
}

static int render(const route *r, const route_request *q, bt_buf *out, bt_err *err)
{
    vtl_request vr = {
        .body = q->body,
        .body_len = q->body_len,
        .path = {q->path_params, q->n_path},
        .query = {q->query_params, q->n_query},
        .header = {q->headers, q->n_headers},
        .request_id = q->request_id,
        .http_method = q->method,
        .resource_path = r->path,
        .request_path = q->path,
        .stage = ROUTE_STAGE,
        .source_ip = q->source_ip,
        .user_agent = q->user_agent,
    };
    return vtl_render(r->tpl, &vr, out, err);
}

/* name → last value, and name → [every value]; both null when there are none. */
static void maps(const vtl_param *items, size_t n, json_t **single, json_t **multi)
{
    if (n == 0) {
        *single = json_null();
        *multi = json_null();
        return;
    }
    *single = json_object();
    *multi = json_object();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(*single, items[i].name, json_string(items[i].value));
        json_t *list = json_object_get(*multi, items[i].name);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(*multi, items[i].name, list);
        }
        json_array_append_new(list, json_string(items[i].value));
    }
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *proxy_event(const route *r, const route_request *q)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "resource", json_string(r->path));
    json_object_set_new(ev, "path", json_string(q->path));
    json_object_set_new(ev, "httpMethod", json_string(q->method));
    json_t *h, *mh, *qs, *mqs;
    maps(q->headers, q->n_headers, &h, &mh);
    maps(q->query_params, q->n_query, &qs, &mqs);
    json_object_set_new(ev, "headers", h);
    json_object_set_new(ev, "multiValueHeaders", mh);
    json_object_set_new(ev, "queryStringParameters", qs);
    json_object_set_new(ev, "multiValueQueryStringParameters", mqs);
    json_t *pp, *unused;
    maps(q->path_params, q->n_path, &pp, &unused);
    json_decref(unused);
    json_object_set_new(ev, "pathParameters", pp);
    json_object_set_new(ev, "stageVariables", json_null());
    char when[64];
    time_t secs = (time_t)(q->now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    json_t *id = json_object();
    static const char *const nulls[] = {"cognitoIdentityPoolId",
                                        "accountId",
                                        "cognitoIdentityId",
                                        "caller",
                                        "accessKey",
                                        "cognitoAuthenticationType",
                                        "cognitoAuthenticationProvider",
                                        "userArn",
                                        "user",
                                        NULL};
    for (size_t i = 0; nulls[i]; i++)
        json_object_set_new(id, nulls[i], json_null());
    json_object_set_new(id, "sourceIp", json_string(q->source_ip));
    json_object_set_new(id, "userAgent", str_or_null(q->user_agent));
    json_t *rc = json_object();
    json_object_set_new(rc, "accountId", str_or_null(q->account));
    json_object_set_new(rc, "apiId", json_string(ROUTE_API_ID));
    json_object_set_new(rc, "deploymentId", json_string(ROUTE_API_ID));
    json_object_set_new(rc, "domainName", str_or_null(NULL));
    json_object_set_new(rc, "domainPrefix", str_or_null(NULL));
    json_object_set_new(rc, "extendedRequestId", json_string(q->request_id));
    json_object_set_new(rc, "httpMethod", json_string(q->method));
    json_object_set_new(rc, "identity", id);
    json_object_set_new(rc, "path", json_string(q->path));
    json_object_set_new(rc, "protocol", json_string("HTTP/1.1"));
    json_object_set_new(rc, "requestId", json_string(q->request_id));
    json_object_set_new(rc, "requestTime", json_string(when));
    json_object_set_new(rc, "requestTimeEpoch", json_integer(q->now_ms));
    json_object_set_new(rc, "resourceId", json_string(ROUTE_API_ID));
    json_object_set_new(rc, "resourcePath", json_string(r->path));
    json_object_set_new(rc, "stage", json_string(ROUTE_STAGE));
    json_object_set_new(ev, "requestContext", rc);
    json_object_set_new(ev, "body", q->body_len ? json_stringn(q->body, q->body_len) : json_null());
    json_object_set_new(ev, "isBase64Encoded", json_false());
    return ev;
}

int route_event(const route *r, const route_request *q, bt_buf *out, bt_err *err)
{
    if (r->proxy) {
        json_t *ev = proxy_event(r, q);
        /* A body that is not UTF-8 cannot be a JSON string: it goes as base64 then. */
        if (json_object_get(ev, "body") == NULL) {
            bt_err_set(err, BT_EINVAL, "the body is not UTF-8");
            json_decref(ev);
            return BT_EINVAL;
        }
        bt_json_write(out, ev);
        json_decref(ev);
        return 0;
    }
    if (r->tpl)
        return render(r, q, out, err);
    if (q->body_len == 0)
        bt_buf_puts(out, "{}");
    else
        bt_buf_append(out, q->body, q->body_len);
    return 0;
}

/* ---- the proxy response ---- */

static void add_header(char ***h, size_t *n, const char *name, const char *value)
{
    *h = bt_xrealloc(*h, (*n + 3) * sizeof **h);
    (*h)[(*n)++] = bt_xstrdup(name);
    (*h)[(*n)++] = bt_xstrdup(value);
    (*h)[*n] = NULL;
}

/* A header value as API Gateway writes it: strings as they are, numbers and booleans as
 * their JSON text. NULL for objects, arrays and null. */
static char *scalar_text(const json_t *v)
{
    if (json_is_string(v))
        return bt_xstrdup(json_string_value(v));
    if (json_is_boolean(v) || json_is_number(v))
        return json_dumps(v, JSON_ENCODE_ANY);
    return NULL;
}

int route_proxy_response(const char *payload, size_t len, route_response *out)
{
    memset(out, 0, sizeof *out);
    json_t *j = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
    static const char *const known[] = {"statusCode", "headers",         "multiValueHeaders",
                                        "body",       "isBase64Encoded", NULL};
    if (j == NULL || !json_is_object(j) || json_object_size(j) == 0)
        goto bad;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (known[k] == NULL)
            goto bad;
    }
    out->status = 200;
    json_t *sc = json_object_get(j, "statusCode");
    if (json_is_integer(sc)) {
        out->status = (int)json_integer_value(sc);
    } else if (json_is_string(sc)) {
        char *end;
        long s = strtol(json_string_value(sc), &end, 10);
        if (*json_string_value(sc) == '\0' || *end != '\0')
            goto bad;
        out->status = (int)s;
    } else if (sc && !json_is_null(sc)) {
        goto bad;
    }
    if (out->status < 100 || out->status > 599)
        goto bad;
    json_t *hs = json_object_get(j, "headers");
    json_t *mhs = json_object_get(j, "multiValueHeaders");
    if ((hs && !json_is_object(hs) && !json_is_null(hs)) ||
        (mhs && !json_is_object(mhs) && !json_is_null(mhs)))
        goto bad;
    size_t nh = 0;
    out->headers = bt_xcalloc(1, sizeof *out->headers);
    /* Multi-value first; a single value of the same name (any case) joins its list last. */
    json_object_foreach(mhs, key, v)
    {
        if (!json_is_array(v))
            goto bad;
        bt_buf b;
        bt_buf_init(&b);
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            char *t = scalar_text(item);
            if (t == NULL) {
                bt_buf_fini(&b);
                goto bad;
            }
            bt_buf_printf(&b, "%s%s", i ? ", " : "", t);
            free(t);
        }
        json_t *solo = NULL;
        const char *k2;
        json_t *v2;
        json_object_foreach(hs, k2, v2)
        {
            if (strcasecmp(k2, key) == 0)
                solo = v2;
        }
        if (solo) {
            char *t = scalar_text(solo);
            if (t == NULL) {
                bt_buf_fini(&b);
                goto bad;
            }
            bt_buf_printf(&b, "%s%s", b.len ? ", " : "", t);
            free(t);
        }
        bt_buf_putc(&b, '\0');
        add_header(&out->headers, &nh, key, b.data);
        bt_buf_fini(&b);
    }
    json_object_foreach(hs, key, v)
    {
        char *t = scalar_text(v);
        if (t == NULL)
            goto bad;
        bool merged = false;
        const char *k2;
        json_t *v2;
        json_object_foreach(mhs, k2, v2)
        {
            if (strcasecmp(k2, key) == 0)
                merged = true;
        }
        if (!merged)
            add_header(&out->headers, &nh, key, t);
        free(t);
    }
    json_t *body = json_object_get(j, "body");
    json_t *b64 = json_object_get(j, "isBase64Encoded");
    if ((body && !json_is_string(body) && !json_is_null(body)) ||
        (b64 && !json_is_boolean(b64) && !json_is_null(b64)))
        goto bad;
    if (json_is_string(body)) {
        out->body_len = json_string_length(body);
        out->body = bt_xstrndup(json_string_value(body), out->body_len);
    } else {
        out->body = bt_xstrdup("");
    }
    json_decref(j);
    return 0;
bad:
    json_decref(j);
    route_response_fini(out);
    return BT_EINVAL;
}

void route_response_fini(route_response *r)
{
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        free(r->headers[i]);
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void route_html_escape(bt_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            bt_buf_puts(b, "&amp;");
            break;
        case '<':
            bt_buf_puts(b, "&lt;");
            break;
        case '>':
            bt_buf_puts(b, "&gt;");
            break;
        case '"':
            bt_buf_puts(b, "&quot;");
            break;
        case '\'':
            bt_buf_puts(b, "&#39;");
            break;
        default:
            bt_buf_putc(b, s[i]);
        }
    }
}
