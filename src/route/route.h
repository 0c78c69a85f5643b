/*
 * route.h — the project file's HTTP routes (API Gateway REST-compatible): a table of
 * method + path → function, replaced as a whole when the project is (re)applied, read by
 * the HTTP front end on any thread; and the pure parts of serving a route: the event the
 * function gets (a rendered mapping template, the body passed through, or the proxy event
 * of payload format 1.0), the proxy response contract, and the one-time confirmation nonces.
 *
 * Paths are exact, with `{name}` segments (one non-empty segment) and a last `{name+}`
 * (the rest of the path) as path parameters; a literal route wins over one with
 * parameters. Methods: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or ANY.
 */
#ifndef BT_ROUTE_ROUTE_H
#define BT_ROUTE_ROUTE_H

#include "base/buf.h"
#include "base/err.h"
#include "http/http.h"
#include "vtl/vtl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A route as the project file declares it. Strings borrowed by route_set_add (copied). */
typedef struct route_def {
    const char *method; /* GET … ANY */
    const char *path;   /* "/verification", "/things/{id}" */
    const char *function;
    bool confirm;
    bool proxy;
    const char *template_text; /* the request template as VTL text, or NULL: passthrough */
} route_def;

typedef struct route route;
typedef struct route_set route_set;
typedef struct route_table route_table;

/* A set being built: add each route, then route_table_replace. */
route_set *route_set_new(void);
/* Compiles the route's template. 0, or BT_EINVAL (the template's syntax error in err) and
 * the route is not added. */
int route_set_add(route_set *s, const route_def *def, bt_err *err);
size_t route_set_len(const route_set *s);
void route_set_release(route_set *s);

/* Thread-safe: replace on the engine thread, find on the HTTP threads. The table holds a
 * secret for the confirmation nonces: random at route_table_new, the data folder's once
 * route_table_load_key has run. */
route_table *route_table_new(void);
void route_table_free(route_table *t);
/* Reads the nonce secret of data_dir (DATA/route/nonce-key), making and syncing it the first
 * time, so that nonces outlive a restart. Before any HTTP thread reads the table. 0, or
 * BT_EIO with err. */
int route_table_load_key(route_table *t, const char *data_dir, bt_err *err);

/* The used confirmation nonces (route_nonce_used: nonce, expiry_ms), one migration of the
 * store; api/routes.c writes and reads them. */
#define ROUTE_SCHEMA_VERSION 21
extern const char route_schema_v1[];
/* Takes ownership of s (the routes that were are released once no request uses them). */
void route_table_replace(route_table *t, route_set *s);

#define ROUTE_MAX_PARAMS 16

/* A request's route: holds a reference on its set until route_match_fini. */
typedef struct route_match {
    route_set *set;
    const route *r;
    vtl_param params[ROUTE_MAX_PARAMS]; /* path parameters (heap strings) */
    size_t n_params;
} route_match;

typedef enum route_found {
    ROUTE_NONE,      /* no route has this path */
    ROUTE_NO_METHOD, /* a route has this path, none this method */
    ROUTE_FOUND,
} route_found;

/* For a confirm route, GET, HEAD and POST reach it whatever its declared method (the page,
 * then its form). */
route_found route_find(route_table *t, const char *method, const char *path, route_match *m);
void route_match_fini(route_match *m);

const char *route_function(const route *r);
const char *route_path(const route *r); /* the declared path (the resource) */
const char *route_method(const route *r);
bool route_confirm(const route *r);
bool route_proxy(const route *r);

/* ---- events (event.c) ---- */

/* What an HTTP request gives an event, gathered from it (route_request_init) so that the
 * event can be built on any thread. */
typedef struct route_request {
    const char *method;
    const char *path;
    const char *query; /* raw, without '?' */
    const char *body;
    size_t body_len;
    vtl_param *query_params; /* decoded, in order */
    size_t n_query;
    vtl_param *headers; /* borrowed from the request */
    size_t n_headers;
    const vtl_param *path_params;
    size_t n_path;
    char source_ip[64];
    const char *user_agent;
    char request_id[37];
    int64_t now_ms;
    const char *account;
} route_request;

void route_request_init(route_request *q, http_request *req, const route_match *m,
                        const char *account, int64_t now_ms);
void route_request_fini(route_request *q);

/* The event for route r into out: the rendered template, the body (passthrough; "{}" when
 * empty), or the proxy event. 0 or the template's error (BT_EINVAL, BT_ELIMIT). */
int route_event(const route *r, const route_request *q, bt_buf *out, bt_err *err);

/* A proxy function's answer, checked against the contract (API Gateway's payload 1.0). */
typedef struct route_response {
    int status;
    char **headers; /* name, value, name, value, …, NULL */
    char *body;
    size_t body_len;
} route_response;

/* 0 and *out (free with route_response_fini), or BT_EINVAL when the answer breaks the
 * contract (the caller answers 502). */
int route_proxy_response(const char *payload, size_t len, route_response *out);
void route_response_fini(route_response *r);

/* ---- confirmation nonces (nonce.c) ---- */

#define ROUTE_NONCE_LEN    96
#define ROUTE_NONCE_TTL_MS (15 * 60 * 1000)

/* A nonce bound to path and raw query, valid until now_ms + ROUTE_NONCE_TTL_MS:
 * "<expiry>.<random>.<signature>" (base64url HMAC-SHA-256 with the table's secret). */
void route_nonce_make(route_table *t, const char *path, const char *query, int64_t now_ms,
                      char out[ROUTE_NONCE_LEN]);
/* true when nonce is one of ours for path and query and not expired; *expiry_ms set. (Not
 * single use by itself: the caller records the nonces used until they expire.) */
bool route_nonce_check(route_table *t, const char *nonce, const char *path, const char *query,
                       int64_t now_ms, int64_t *expiry_ms);

/* HTML-escapes n bytes of s into b (& < > " '). */
void route_html_escape(bt_buf *b, const char *s, size_t n);

#endif
