/*
 * http.h — the HTTP front end (libmicrohttpd). Its threads read requests; once a request's
 * whole body is in, the handler gets it on an HTTP thread and must see to exactly one
 * http_respond, from any thread, now or later (a long poll answers seconds later). The
 * connection is suspended meanwhile and holds no thread.
 *
 * Bounds, each answered by the front end itself before any handler runs: body larger than
 * max_body → 413 (a Content-Length over it at once, closing the connection; a chunked body
 * once it has all arrived), header section larger than about max_header → 431 (414 when the
 * request line alone is; libmicrohttpd holds the head in max_header plus 8 KiB of
 * per-connection memory), more than max_connections → refused, idle connections closed after
 * timeout_s. Malformed HTTP is answered 400 by libmicrohttpd. Stopping refuses new
 * connections and answers every unanswered request 503 with Connection: close.
 */
#ifndef BT_HTTP_HTTP_H
#define BT_HTTP_HTTP_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct http_server http_server;
typedef struct http_request http_request;

typedef struct http_config {
    const char *host;         /* "127.0.0.1", "::1", "0.0.0.0" */
    int port;                 /* 0: an ephemeral port (http_port tells which) */
    size_t max_body;          /* 0: 8 MiB */
    size_t max_header;        /* 0: 32 KiB */
    unsigned max_connections; /* 0: 1024 */
    unsigned threads;         /* 0: 2 */
    unsigned timeout_s;       /* 0: 120 */
} http_config;

typedef void (*http_handler)(void *ctx, http_request *req);

http_server *http_start(const http_config *cfg, http_handler handler, void *ctx, bt_err *err);
int http_port(const http_server *s);
/* Stops listening, answers unanswered requests 503, joins the threads. */
void http_stop(http_server *s);

/* The request (valid until http_respond). */
const char *http_method(const http_request *r);
const char *http_path(const http_request *r);  /* decoded path, without the query */
const char *http_query(const http_request *r); /* raw query string without '?', or "" */
/* A header by name (case-insensitive), or NULL. */
const char *http_header(const http_request *r, const char *name);
/* Every header, in order: returns the count; name/value of the i-th. */
size_t http_n_headers(const http_request *r);
void http_header_at(const http_request *r, size_t i, const char **name, const char **value);
const char *http_body(const http_request *r, size_t *len); /* NUL-terminated copy */
const char *http_peer(const http_request *r);              /* "127.0.0.1:53412", "[::1]:53412" */
uint64_t http_request_id(const http_request *r);           /* increasing, for logs */

/*
 * Answers the request and releases it: copies body; extra is a NULL-terminated list of
 * header name/value pairs (or NULL). Any thread, exactly once per request. A request whose
 * client has gone is released just the same.
 */
void http_respond(http_request *r, int status, const char *content_type, const char *body,
                  size_t len, const char *const *extra);

#endif
