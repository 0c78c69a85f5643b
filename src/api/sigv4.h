/*
 * sigv4.h — AWS Signature Version 4: reading the Authorization header (to route by the
 * signing scope's service and to verify it), verifying a request against a secret, and
 * signing one (the client verbs).
 *
 *   Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/states/aws4_request,
 *                  SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=<64 hex>
 */
#ifndef BT_API_SIGV4_H
#define BT_API_SIGV4_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sigv4_auth {
    char access_key[129];
    char date[9]; /* YYYYMMDD of the scope */
    char region[64];
    char service[64];          /* "states", "sqs", "sns", "lambda", "events", … */
    char signed_headers[1024]; /* "content-type;host;x-amz-date" (lower case, ';'-separated) */
    char signature[65];        /* 64 lower-case hex digits */
} sigv4_auth;

/* Parses an Authorization header value; BT_EINVAL with a message in AWS's words
 * ("Authorization header requires 'Signature' parameter.") when it is not a well-formed
 * AWS4-HMAC-SHA256 header. */
int sigv4_parse(const char *header, sigv4_auth *out, bt_err *err);

/* What a verification needs of the request (headers by name, case-insensitive). */
typedef struct sigv4_request {
    const char *method;
    const char *path;  /* as sent (percent-encoded), e.g. "/" or "/123456789012/q" */
    const char *query; /* raw query string without '?', or "" */
    const char *(*header)(void *ctx, const char *name);
    void *header_ctx;
    const char *body;
    size_t body_len;
} sigv4_request;

typedef enum sigv4_result {
    SIGV4_OK,
    /* no Authorization header (MissingAuthenticationToken) */
    SIGV4_MISSING,
    /* malformed header (IncompleteSignature) */
    SIGV4_INCOMPLETE,
    /* access key not known (UnrecognizedClientException / InvalidClientTokenId) */
    SIGV4_UNKNOWN_KEY,
    /* SignatureDoesNotMatch / InvalidSignatureException */
    SIGV4_BAD_SIGNATURE,
    /* X-Amz-Date more than 15 minutes away (InvalidSignatureException; in the query protocol
     * SignatureDoesNotMatch with "Signature expired: …") */
    SIGV4_EXPIRED,
} sigv4_result;

/* A request's headers reach sigv4_verify through header(ctx, name): name is lower case, the
 * lookup case-insensitive; a header sent more than once is its values, each trimmed, joined
 * with ",". The canonical request signs the path as sent encoded once more, the query
 * decoded ("+" as a space) and re-encoded, and the body's SHA-256 unless an
 * X-Amz-Content-Sha256 header gives it. */

/* Verifies the request: the secret of auth->access_key comes from lookup (NULL: unknown
 * key); now_ms is the server's clock. err gets AWS's message text for the result. */
sigv4_result sigv4_verify(const sigv4_request *rq,
                          const char *(*lookup)(void *ctx, const char *key), void *lookup_ctx,
                          int64_t now_ms, bt_err *err);

/* The error a result is on the wire: its __type in the AWS JSON protocol
 * ("InvalidSignatureException") or its Code in the query protocol ("SignatureDoesNotMatch");
 * NULL for SIGV4_OK. An expired signature is the same error as a wrong one, as AWS has it. */
const char *sigv4_error_type(sigv4_result r, bool query_protocol);
/* Its HTTP status: 400 for every error in the JSON protocol; 403 in the query protocol
 * except IncompleteSignature (400). 200 for SIGV4_OK. */
int sigv4_http_status(sigv4_result r, bool query_protocol);

/* Signs a request for a client: writes the Authorization and X-Amz-Date values (the caller
 * sends both, and a Host header equal to host). */
void sigv4_sign(const char *method, const char *host, const char *path, const char *query,
                const char *const *headers /* name, value, …, NULL: the others to sign */,
                const char *body, size_t body_len, const char *access_key, const char *secret,
                const char *region, const char *service, int64_t now_ms, char authorization[1024],
                char amz_date[17]);

/* A credentials file: lines `ACCESS_KEY SECRET` (blank lines and # comments ignored). */
typedef struct sigv4_keys sigv4_keys;
sigv4_keys *sigv4_keys_load(const char *path, bt_err *err);
void sigv4_keys_free(sigv4_keys *k);
/* The file's first key (what the server's own functions sign with); false when it has none. */
bool sigv4_keys_first(const sigv4_keys *k, const char **access_key, const char **secret);
const char *sigv4_keys_lookup(void *keys, const char *access_key);

#endif
