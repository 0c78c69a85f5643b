/*
 * vtl.h — API Gateway REST mapping templates: the Velocity Template Language (VTL) as API
 * Gateway evaluates it for a non-proxy integration, with its $input, $util, $context and
 * $stageVariables. Pure: no I/O; the route layer gives the request, takes the text (which
 * it then parses as JSON when the integration wants JSON).
 *
 * A template is compiled once (vtl_compile) and rendered many times (vtl_render). Compiled
 * templates are immutable and may be shared between threads; each render has its own state.
 * Rendering is bounded (output size, loop iterations, evaluation steps, nesting depth): a
 * template never hangs and never grows memory without limit; it fails with BT_ELIMIT.
 *
 * Semantics are Velocity 1.7's (what API Gateway runs): a reference whose value is null
 * renders as its own source text ("$missing" stays "$missing", "$!missing" renders
 * nothing); #if treats null and false as false and everything else (even "") as true;
 * #set to a null value leaves the variable unchanged. docs/internals/vtl.md lists what is
 * supported.
 */
#ifndef BT_VTL_VTL_H
#define BT_VTL_VTL_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>

typedef struct vtl_template vtl_template;

/* One name → value pair of a request's path, query string, header or stage-variable list.
 * Values are as the client meant them (URL-decoded). Both borrowed, NUL-terminated. */
typedef struct vtl_param {
    const char *name;
    const char *value;
} vtl_param;

/* An ordered list of pairs (borrowed). A repeated name: the last value wins (as in the
 * proxy event's single-value maps), at the first one's place; keySet() lists it once. */
typedef struct vtl_params {
    const vtl_param *items;
    size_t len;
} vtl_params;

/* What a render sees. Every pointer is borrowed for the duration of vtl_render; NULL
 * strings are absent values (their references render as source text). */
typedef struct vtl_request {
    const char *body; /* raw payload ($input.body); may be NULL when body_len is 0 */
    size_t body_len;
    vtl_params path;   /* path parameters, e.g. {id} of /things/{id} */
    vtl_params query;  /* query string parameters, decoded */
    vtl_params header; /* request headers, as the client spelt their names */
    vtl_params stage_variables;
    const char *request_id;    /* $context.requestId */
    const char *http_method;   /* $context.httpMethod */
    const char *resource_path; /* $context.resourcePath, the route's template */
    const char *request_path;  /* $context.path, the request's path */
    const char *stage;         /* $context.stage */
    const char *source_ip;     /* $context.identity.sourceIp */
    const char *user_agent;    /* $context.identity.userAgent */
} vtl_request;

/* Bounds of one render. Any field 0 takes its default. */
typedef struct vtl_limits {
    size_t max_output;     /* bytes of output, and of any string built (default 10 MiB) */
    size_t max_iterations; /* #foreach iterations in the whole render (default 100,000) */
    size_t max_steps;      /* evaluation steps in the whole render (default 10,000,000) */
} vtl_limits;

/* Compiled templates nest directives and expressions at most this deep. */
#define VTL_MAX_DEPTH 64

/*
 * Compiles text (NUL-terminated). Returns 0 and *out (free with vtl_free), or BT_EINVAL
 * with err's message "line L, column C: what" (1-based, columns in bytes) for a syntax
 * error (unclosed #if, bad expression, unterminated string or comment, unsupported
 * directive such as #macro), or BT_ELIMIT when nesting exceeds VTL_MAX_DEPTH.
 */
int vtl_compile(const char *text, vtl_template **out, bt_err *err);
void vtl_free(vtl_template *tpl);

/*
 * Renders tpl for req, appending the text to out. Returns 0, or BT_ELIMIT (a bound of
 * vtl_limits was reached) or BT_EINVAL (the body is not JSON when $input.path/json needs
 * it, or a JSONPath or regular expression in the template is invalid), with err's message
 * giving the position of the construct at fault. On error, what was appended to out is
 * unspecified. limits may be NULL (the defaults).
 */
int vtl_render(const vtl_template *tpl, const vtl_request *req, bt_buf *out, bt_err *err);
int vtl_render_limited(const vtl_template *tpl, const vtl_request *req, const vtl_limits *limits,
                       bt_buf *out, bt_err *err);

/*
 * Splits a raw query string ("a=1&b=x%2By", without '?') into decoded pairs as API Gateway
 * gives them to $input.params(): '+' and %XX decoded, a name without '=' has the value "",
 * empty pieces skipped. Returns the number of pairs and *out (free with vtl_params_free);
 * never fails.
 */
size_t vtl_parse_query(const char *query, vtl_param **out);
void vtl_params_free(vtl_param *items, size_t len);

#endif
