/*
 * fuzz_sigv4.c — SigV4 (api/sigv4.h) on bytes from the network. The whole input is an
 * Authorization header for sigv4_parse; it is also read as a request — lines method, path,
 * query, "Name: value" headers up to an empty line, then the body — for sigv4_verify with a
 * fixed key. Neither may crash, every refusal must say why, and the same request signed by
 * sigv4_sign must verify.
 */
#include "api/sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AKID        "AKIAIOSFODNN7EXAMPLE"
#define SECRET      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define NOW_MS      1796126400000LL /* 2026-12-01T12:00:00Z */
#define MAX_HEADERS 8

typedef struct headers {
    const char *pairs[2 * MAX_HEADERS + 8]; /* name, value, …, NULL */
    size_t len;
} headers;

static const char *lookup_header(void *ctx, const char *name)
{
    const headers *h = ctx;
    for (size_t i = 0; i < h->len; i += 2)
        if (strcasecmp(h->pairs[i], name) == 0)
            return h->pairs[i + 1];
    return NULL;
}

static const char *lookup_key(void *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, AKID) == 0 ? SECRET : NULL;
}

/* Cuts the next line out of *p (NUL-terminating it); "" when there is none. */
static char *next_line(char **p)
{
    char *line = *p;
    char *nl = strchr(line, '\n');
    if (nl == NULL) {
        *p = line + strlen(line);
        return line;
    }
    *nl = '\0';
    *p = nl + 1;
    return line;
}

/* A header name the signer can list in SignedHeaders: an HTTP token, short. */
static bool is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

/* Reads "Name: value" lines up to an empty one; names the signer sets itself, repeated
 * ones and odd ones are dropped (the property below is about what a client would send). */
static void read_headers(char **p, headers *h)
{
    for (;;) {
        char *line = next_line(p);
        if (line[0] == '\0')
            return;
        char *colon = strchr(line, ':');
        if (colon == NULL || h->len / 2 >= MAX_HEADERS)
            continue;
        *colon = '\0';
        char *value = colon + 1 + strspn(colon + 1, " \t"); /* as an HTTP layer strips it */
        if (!is_name(line) || lookup_header(h, line) != NULL || strcasecmp(line, "host") == 0 ||
            strcasecmp(line, "x-amz-date") == 0 || strcasecmp(line, "authorization") == 0)
            continue;
        h->pairs[h->len++] = line;
        h->pairs[h->len++] = value;
    }
}

static void check_refusal(sigv4_result r, const bt_err *err)
{
    if (r != SIGV4_OK && (err->msg[0] == '\0' || sigv4_error_type(r, false) == NULL ||
                          sigv4_error_type(r, true) == NULL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    sigv4_auth auth;
    bt_err err;
    if (sigv4_parse(s, &auth, &err) != 0 && err.msg[0] == '\0')
        abort();

    char *p = s;
    const char *method = next_line(&p), *path = next_line(&p), *query = next_line(&p);
    headers h = {{0}, 0};
    read_headers(&p, &h);
    const char *body = p;
    size_t body_len = strlen(body);

    /* as received: the input's own Authorization and dates, if any */
    headers received = h;
    sigv4_request rq = {method, path, query, lookup_header, &received, body, body_len};
    check_refusal(sigv4_verify(&rq, lookup_key, NULL, NOW_MS, &err), &err);

    /* as a client would send it: signed, then verified */
    h.pairs[h.len] = NULL;
    char authorization[1024], amz_date[17];
    sigv4_sign(method, "localhost:8083", path, query, h.pairs, body, body_len, AKID, SECRET,
               "us-east-1", "states", NOW_MS, authorization, amz_date);
    headers sent = h;
    sent.pairs[sent.len++] = "Host", sent.pairs[sent.len++] = "localhost:8083";
    sent.pairs[sent.len++] = "X-Amz-Date", sent.pairs[sent.len++] = amz_date;
    sent.pairs[sent.len++] = "Authorization", sent.pairs[sent.len++] = authorization;
    rq.header_ctx = &sent;
    if (sigv4_verify(&rq, lookup_key, NULL, NOW_MS, &err) != SIGV4_OK)
        abort();
    free(s);
    return 0;
}
