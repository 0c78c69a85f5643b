/*
 * cli_sign.c — SigV4 for every request the CLI sends (client.c's API calls, cli_http.c's
 * requests to Baton's own endpoints), as AWS clients sign theirs: with the keys of the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), else placeholders that a loopback
 * server without --credentials takes. api/sigv4.c computes the signature.
 */
#include "api/sigv4.h"
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The host[:port] of an http(s) URL, as curl sends it in Host. */
static void url_host(const char *url, char *out, size_t len)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cli_have_keys(void)
{
    const char *key = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    return key && key[0] && secret && secret[0];
}

struct curl_slist *cli_sign(struct curl_slist *h, const char *method, const char *url,
                            const char *const *headers, const char *body, const char *region,
                            const char *service)
{
    char host[256];
    url_host(url, host, sizeof host);
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    char path[2048];
    size_t n = strcspn(p, "?#");
    snprintf(path, sizeof path, "%.*s", (int)n, n ? p : "/");
    const char *query = p[n] == '?' ? p + n + 1 : "";
    char query_buf[2048];
    snprintf(query_buf, sizeof query_buf, "%.*s", (int)strcspn(query, "#"), query);
    const char *key = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (!cli_have_keys()) {
        key = "BATONCLIENT";
        secret = "baton";
    }
    char authorization[1024], amz_date[17];
    sigv4_sign(method, host, path, query_buf, headers, body ? body : "", body ? strlen(body) : 0,
               key, secret, region, service, now_ms(), authorization, amz_date);
    char line[1100];
    snprintf(line, sizeof line, "Authorization: %s", authorization);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-Amz-Date: %s", amz_date);
    return curl_slist_append(h, line);
}

const char *cli_region(void)
{
    const char *r = getenv("AWS_REGION");
    if (r == NULL || r[0] == '\0')
        r = getenv("AWS_DEFAULT_REGION");
    return r && r[0] ? r : "us-east-1";
}
