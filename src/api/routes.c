/*
 * routes.c — the project file's HTTP routes served (route/route.h has the table and the
 * events): an HTTP thread finds the route and builds the event, the engine thread invokes
 * the function and the answer goes back as API Gateway REST gives it.
 *
 *   non-proxy  200 application/json with the function's result as it is; a function error
 *              too (API Gateway's default integration response, without selection patterns:
 *              the error object with 200)
 *   proxy      the function's {statusCode, headers, multiValueHeaders, body}; anything else,
 *              or a function error, 502 {"message":"Internal server error"}
 *   either     Lambda itself failing (no such function, throttled) → 502 the same way
 *
 * A `confirm: true` route answers GET and HEAD with a page that shows the request and a form
 * that POSTs it back with a one-time nonce (route/nonce.c); only that POST runs the
 * function, with the event the GET would have had (its method GET, no body), and the page
 * after it shows the result (a proxy function's answer is sent as it is). A nonce is used
 * once, across restarts: its use is a row of route_nonce_used written in the batch of the
 * confirming POST, and the function runs only once that batch is durable, so a crash
 * either loses the use and the invocation together (the page still confirms, once) or
 * keeps the use (a replay is refused). The rows, and a map of them in memory for the
 * engine thread, are kept until they expire (ROUTE_NONCE_TTL_MS); the secret the nonces
 * are signed with is the data folder's (route/nonce.c).
 */
#include "api/routes.h"
#include "api/form.h"
#include "base/alloc.h"
#include "base/strmap.h"
#include "engine/local.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define USED_MAX 100000 /* nonces remembered at most (then confirmations wait: 503) */

static const char sql_used_add[] = "INSERT OR REPLACE INTO route_nonce_used (nonce, expiry_ms) "
                                   "VALUES (?, ?)";
static const char sql_used_purge[] = "DELETE FROM route_nonce_used WHERE expiry_ms <= ?";
static const char sql_used_all[] = "SELECT nonce, expiry_ms FROM route_nonce_used "
                                   "WHERE expiry_ms > ?";

struct api_routes {
    server *srv;
    route_table *table;
    fn_service *fns;
    bt_strmap used; /* nonce (heap) → heap int64_t expiry */
};

typedef struct pending {
    api_routes *ar;
    http_request *req;
    char *function;
    bool proxy, confirm;
    char *event;
    size_t event_len;
    char *nonce; /* confirm: to be marked used on the engine thread */
    int64_t nonce_exp;
    char *what; /* confirm: "GET /path?query" for the result page */
} pending;

api_routes *api_routes_new(server *srv, route_table *table, fn_service *fns)
{
    api_routes *ar = bt_xcalloc(1, sizeof *ar);
    ar->srv = srv;
    ar->table = table;
    ar->fns = fns;
    bt_strmap_init(&ar->used);
    /* the nonces used before a restart stay used until they expire */
    int64_t now = local_now_ms();
    store *st_ = server_store(srv);
    sqlite3_stmt *st = store_read_stmt(st_, sql_used_all);
    int rc = st ? SQLITE_OK : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t *exp = bt_xmalloc(sizeof *exp);
            *exp = sqlite3_column_int64(st, 1);
            char *nonce = bt_xstrdup((const char *)sqlite3_column_text(st, 0));
            if (bt_strmap_put(&ar->used, nonce, exp) != 0) {
                free(nonce);
                free(exp);
            }
        }
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE)
        server_log(srv, SERVER_LOG_WARN, "route.load", "route_nonce_used: %s",
                   sqlite3_errmsg(store_reader(st_)));
    store_batch_add(server_batch(srv), sql_used_purge, "i", now);
    return ar;
}

void api_routes_free(api_routes *ar)
{
    if (ar == NULL)
        return;
    size_t i = 0;
    const char *k;
    void *v;
    while (bt_strmap_next(&ar->used, &i, &k, &v)) {
        free((void *)(uintptr_t)k);
        free(v);
    }
    bt_strmap_fini(&ar->used);
    free(ar);
}

/* API Gateway's answer for a path or method it has no route for (403; x-amzn-ErrorType). */
void api_routes_unknown(http_request *req)
{
    static const char body[] = "{\"message\":\"Missing Authentication Token\"}";
    static const char *const extra[] = {"x-amzn-ErrorType", "MissingAuthenticationTokenException",
                                        NULL};
    http_respond(req, 403, "application/json", body, sizeof body - 1, extra);
}

static void internal_error(http_request *req, const char *request_id)
{
    static const char body[] = "{\"message\": \"Internal server error\"}";
    const char *extra[] = {"x-amzn-RequestId", request_id, "x-amzn-ErrorType",
                           "InternalServerErrorException", NULL};
    http_respond(req, 502, "application/json", body, sizeof body - 1, extra);
}

/* ---- pages ---- */

static const char *const page_headers[] = {
    "Cache-Control",
    "no-store",
    "X-Frame-Options",
    "DENY",
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy",
    "no-referrer",
    NULL};

static void page_start(bt_buf *b, const char *title)
{
    bt_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    route_html_escape(b, title, strlen(title));
    bt_buf_puts(b, "</title><style>body{font-family:sans-serif;max-width:40em;margin:2em auto}"
                   "pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;"
                   "padding:.5em}td{padding:.2em .6em;vertical-align:top}</style></head><body>\n");
}

static void page_send(http_request *req, int status, bt_buf *b)
{
    bt_buf_puts(b, "</body></html>\n");
    http_respond(req, status, "text/html; charset=utf-8", b->data, b->len, page_headers);
    bt_buf_fini(b);
}

static void plain_page(http_request *req, int status, const char *title, const char *text)
{
    bt_buf b;
    bt_buf_init(&b);
    page_start(&b, title);
    bt_buf_puts(&b, "<h1>");
    route_html_escape(&b, title, strlen(title));
    bt_buf_puts(&b, "</h1>\n<p>");
    route_html_escape(&b, text, strlen(text));
    bt_buf_puts(&b, "</p>\n");
    page_send(req, status, &b);
}

/* GET or HEAD of a confirm route: what would run, and the form that runs it. */
static void confirm_page(api_routes *ar, http_request *req, const route *r)
{
    const char *path = http_path(req), *query = http_query(req);
    char nonce[ROUTE_NONCE_LEN];
    route_nonce_make(ar->table, path, query, local_now_ms(), nonce);
    bt_buf b;
    bt_buf_init(&b);
    page_start(&b, "Confirm");
    bt_buf_puts(&b, "<h1>Confirm: GET ");
    route_html_escape(&b, path, strlen(path));
    bt_buf_puts(&b, "</h1>\n");
    vtl_param *qp;
    size_t n = vtl_parse_query(query, &qp);
    if (n) {
        bt_buf_puts(&b, "<table>\n");
        for (size_t i = 0; i < n; i++) {
            bt_buf_puts(&b, "<tr><td>");
            route_html_escape(&b, qp[i].name, strlen(qp[i].name));
            bt_buf_puts(&b, "</td><td><code>");
            route_html_escape(&b, qp[i].value, strlen(qp[i].value));
            bt_buf_puts(&b, "</code></td></tr>\n");
        }
        bt_buf_puts(&b, "</table>\n");
    }
    vtl_params_free(qp, n);
    bt_buf_puts(&b, "<p>Nothing has happened yet: this runs <code>");
    route_html_escape(&b, route_function(r), strlen(route_function(r)));
    /* The form posts back to the URL the page was opened at: a relative action (only the
     * query, or none at all), so that it also works behind a proxy that serves Baton under a
     * path prefix (public_url https://host/prefix). */
    bt_buf_puts(&b, "</code> once you confirm.</p>\n<form method=\"post\"");
    if (*query) {
        bt_buf_puts(&b, " action=\"?");
        route_html_escape(&b, query, strlen(query));
        bt_buf_putc(&b, '"');
    }
    bt_buf_puts(&b, "><input type=\"hidden\" name=\"nonce\" value=\"");
    route_html_escape(&b, nonce, strlen(nonce));
    bt_buf_puts(&b, "\"><button type=\"submit\">Confirm</button></form>\n");
    page_send(req, 200, &b);
}

static void result_page(http_request *req, const pending *p, const fn_result *res)
{
    bt_buf b;
    bt_buf_init(&b);
    const char *title = res->function_error ? "Failed" : "Done";
    page_start(&b, title);
    bt_buf_printf(&b, "<h1>%s</h1>\n<p>", title);
    route_html_escape(&b, p->what, strlen(p->what));
    bt_buf_puts(&b, res->function_error ? " failed:</p>\n<pre>" : " ran; its result:</p>\n<pre>");
    route_html_escape(&b, res->payload ? res->payload : "", res->payload ? res->payload_len : 0);
    bt_buf_puts(&b, "</pre>\n");
    page_send(req, res->function_error ? 502 : 200, &b);
}

/* ---- invoking, on the engine thread ---- */

static void pending_free(pending *p)
{
    free(p->function);
    free(p->event);
    free(p->nonce);
    free(p->what);
    free(p);
}

static void on_result(void *ctx, const fn_result *res)
{
    pending *p = ctx;
    http_request *req = p->req;
    const char *rid = res->request_id ? res->request_id : "";
    if (res->api_status) {
        server_log(p->ar->srv, SERVER_LOG_WARN, "route.failed",
                   "function=%s status=%d error=%s message=\"%s\"", p->function, res->api_status,
                   res->api_error ? res->api_error : "", res->api_message ? res->api_message : "");
        internal_error(req, rid);
    } else if (p->proxy) {
        route_response rr;
        if (res->function_error || route_proxy_response(res->payload, res->payload_len, &rr)) {
            server_log(p->ar->srv, SERVER_LOG_WARN, "route.failed", "function=%s error=\"%s\"",
                       p->function,
                       res->function_error ? "function error" : "malformed Lambda proxy response");
            internal_error(req, rid);
        } else {
            size_t n = 0;
            while (rr.headers[n])
                n++;
            const char **extra = bt_xcalloc(n + 3, sizeof *extra);
            memcpy(extra, rr.headers, n * sizeof *extra);
            extra[n] = "x-amzn-RequestId";
            extra[n + 1] = rid;
            const char *ctype = NULL;
            for (size_t i = 0; i + 1 < n; i += 2)
                if (strcasecmp(rr.headers[i], "Content-Type") == 0)
                    ctype = rr.headers[i + 1];
            /* The content type goes once: as http_respond's, not among the extras. */
            if (ctype) {
                size_t w = 0;
                for (size_t i = 0; i + 1 < n; i += 2)
                    if (strcasecmp(rr.headers[i], "Content-Type") != 0) {
                        extra[w++] = rr.headers[i];
                        extra[w++] = rr.headers[i + 1];
                    }
                extra[w++] = "x-amzn-RequestId";
                extra[w++] = rid;
                extra[w] = NULL;
            }
            http_respond(req, rr.status, ctype ? ctype : "application/json", rr.body, rr.body_len,
                         extra);
            free(extra);
            route_response_fini(&rr);
        }
    } else if (p->confirm) {
        result_page(req, p, res);
    } else {
        const char *extra[] = {"x-amzn-RequestId", rid, NULL};
        http_respond(req, 200, "application/json", res->payload ? res->payload : "",
                     res->payload ? res->payload_len : 0, extra);
    }
    pending_free(p);
}

/* Forgets the nonces that have expired (they would be refused anyway). */
static void purge_used(api_routes *ar, int64_t now)
{
    size_t i = 0, n = 0;
    const char *k;
    void *v;
    const char **gone = bt_xcalloc(bt_strmap_len(&ar->used) + 1, sizeof *gone);
    while (bt_strmap_next(&ar->used, &i, &k, &v))
        if (*(int64_t *)v <= now)
            gone[n++] = k;
    for (size_t j = 0; j < n; j++) {
        void *val = bt_strmap_get(&ar->used, gone[j]);
        bt_strmap_del(&ar->used, gone[j]);
        free(val);
        free((void *)(uintptr_t)gone[j]);
    }
    free(gone);
    store_batch_add(server_batch(ar->srv), sql_used_purge, "i", now);
}

static void invoke(pending *p)
{
    fn_invoke_req in = {
        .name = p->function,
        .payload = p->event,
        .payload_len = p->event_len,
    };
    fn_invoke(p->ar->fns, &in, on_result, p);
}

/* The nonce's use is durable (or the store failed, and the server stops): now it runs. */
static void after_used(void *ctx, int rc)
{
    pending *p = ctx;
    if (rc != 0) {
        plain_page(p->req, 503, "Unavailable", "The confirmation could not be recorded.");
        pending_free(p);
        return;
    }
    invoke(p);
}

static void on_engine(void *ctx)
{
    pending *p = ctx;
    api_routes *ar = p->ar;
    if (p->nonce) {
        if (bt_strmap_get(&ar->used, p->nonce) != NULL) {
            server_log(ar->srv, SERVER_LOG_WARN, "route.refused", "what=\"%s\" reason=used",
                       p->what);
            plain_page(p->req, 403, "Already used",
                       "This confirmation was used already: open the link again to confirm "
                       "once more.");
            pending_free(p);
            return;
        }
        if (bt_strmap_len(&ar->used) >= USED_MAX)
            purge_used(ar, local_now_ms());
        if (bt_strmap_len(&ar->used) >= USED_MAX) {
            plain_page(p->req, 503, "Busy", "Too many confirmations at once: try again later.");
            pending_free(p);
            return;
        }
        int64_t *exp = bt_xmalloc(sizeof *exp);
        *exp = p->nonce_exp;
        bt_strmap_put(&ar->used, p->nonce, exp);
        store_batch_add(server_batch(ar->srv), sql_used_add, "ti", p->nonce, p->nonce_exp);
        p->nonce = NULL; /* the map owns it */
        server_log(ar->srv, SERVER_LOG_INFO, "route.confirmed", "what=\"%s\"", p->what);
        server_after_commit(ar->srv, after_used, p);
        return;
    }
    invoke(p);
}

/* ---- on the HTTP thread ---- */

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

bool api_routes_handle(api_routes *ar, http_request *req)
{
    const char *method = http_method(req);
    route_match m;
    route_found f = route_find(ar->table, method, http_path(req), &m);
    if (f == ROUTE_NONE)
        return false;
    if (f == ROUTE_NO_METHOD) {
        api_routes_unknown(req);
        return true;
    }
    const route *r = m.r;
    pending *p = bt_xcalloc(1, sizeof *p);
    p->ar = ar;
    p->req = req;
    p->function = bt_xstrdup(route_function(r));
    p->proxy = route_proxy(r);
    p->confirm = route_confirm(r);
    route_request q;
    int64_t now = local_now_ms();
    route_request_init(&q, req, &m, server_get_config(ar->srv)->account, now);
    if (p->confirm) {
        if (is(method, "GET") || is(method, "HEAD")) {
            confirm_page(ar, req, r);
            goto done;
        }
        if (!is(method, "POST")) {
            api_routes_unknown(req);
            goto done;
        }
        bt_err err = {0};
        bt_form *form = bt_form_parse(q.body, q.body_len, 16, &err);
        const char *nonce = form ? bt_form_get(form, "nonce") : NULL;
        int64_t exp = 0;
        if (!route_nonce_check(ar->table, nonce, q.path, q.query, now, &exp)) {
            bool expired = exp != 0;
            bt_form_free(form);
            plain_page(req, 403, expired ? "Expired" : "Not confirmed",
                       expired ? "This confirmation has expired: open the link again."
                               : "This request does not carry a valid confirmation: open the "
                                 "link and confirm there.");
            goto done;
        }
        p->nonce = bt_xstrdup(nonce);
        p->nonce_exp = exp;
        bt_form_free(form);
        p->what = bt_xasprintf("GET %s%s%s", q.path, *q.query ? "?" : "", q.query);
        /* The event the link's GET would have given. */
        q.method = "GET";
        q.body = NULL;
        q.body_len = 0;
    }
    bt_buf ev;
    bt_buf_init(&ev);
    bt_err err = {0};
    if (route_event(r, &q, &ev, &err) != 0) {
        bt_buf_fini(&ev);
        internal_error(req, q.request_id);
        goto done;
    }
    p->event_len = ev.len;
    p->event = bt_buf_steal(&ev);
    route_request_fini(&q);
    route_match_fini(&m);
    server_post(ar->srv, on_engine, p);
    return true;
done:
    route_request_fini(&q);
    route_match_fini(&m);
    pending_free(p);
    return true;
}
