/*
 * sigv4.c — AWS Signature Version 4 (sigv4.h): the Authorization header's grammar, the
 * canonical request of non-S3 services, the signing key, and the credentials file. The
 * server's router calls sigv4_parse and sigv4_verify on every request; the client verbs call
 * sigv4_sign. Verification and signing share one canonicalization, so a request Baton signs
 * is one Baton verifies. Hashes and HMACs come from OpenSSL's libcrypto.
 *
 * The canonical form follows AWS's "Create a signed AWS API request" (IAM User Guide) and
 * "Elements of an AWS API request signature"; where the docs leave room, botocore's
 * SigV4Auth decides, since that is what clients send. Error messages are AWS's own words as
 * seen in responses quoted in public bug reports (cited where each is produced).
 */
#include "api/sigv4.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/timefmt.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ALGORITHM  "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
/* AWS's window for SQS, SNS, STS and DynamoDB; Step Functions is assumed to match. */
#define SKEW_MS (15 * 60 * 1000LL)

/* --- hashing ------------------------------------------------------------------------------ */

static void hex_encode(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xF];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, n, md);
    hex_encode(md, sizeof(md), out);
}

static void hmac_sha256(const void *key, size_t key_len, const char *msg, size_t msg_len,
                        unsigned char out[32])
{
    unsigned int out_len = 0;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &out_len);
    assert(out_len == 32);
}

/* The signature of string_to_sign under the key derived for (date, region, service):
 * kDate = HMAC("AWS4" + secret, date), then region, service, "aws4_request" in turn. */
static void signature_hex(const char *secret, const char *date, const char *region,
                          const char *service, const bt_buf *string_to_sign, char out[65])
{
    char *k_secret = bt_xasprintf("AWS4%s", secret);
    unsigned char k[32], sig[32];
    hmac_sha256(k_secret, strlen(k_secret), date, strlen(date), k);
    OPENSSL_cleanse(k_secret, strlen(k_secret));
    free(k_secret);
    hmac_sha256(k, sizeof(k), region, strlen(region), k);
    hmac_sha256(k, sizeof(k), service, strlen(service), k);
    hmac_sha256(k, sizeof(k), TERMINATOR, strlen(TERMINATOR), k);
    hmac_sha256(k, sizeof(k), string_to_sign->data, string_to_sign->len, sig);
    OPENSSL_cleanse(k, sizeof(k));
    hex_encode(sig, sizeof(sig), out);
}

/* --- canonical request -------------------------------------------------------------------- */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* RFC 3986 percent-encoding of every byte outside the unreserved set, upper-case hex. */
static void uri_encode(bt_buf *b, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c)) {
            bt_buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', digits[c >> 4], digits[c & 0xF]};
            bt_buf_append(b, esc, 3);
        }
    }
}

/*
 * The canonical URI of a non-S3 request: the path as sent, with "." and ".." segments
 * resolved and empty segments dropped, then each segment URI-encoded once more — the path
 * on the wire is already encoded once, and AWS signs it encoded twice ("/a%20b" signs as
 * "/a%2520b"). A trailing slash stays; an empty path is "/".
 */
static void canonical_uri(bt_buf *b, const char *path)
{
    size_t n = strlen(path);
    size_t *starts = bt_xmalloc((n / 2 + 1) * sizeof(*starts));
    size_t *lens = bt_xmalloc((n / 2 + 1) * sizeof(*lens));
    size_t n_segments = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n_segments > 0)
                n_segments--;
        } else if (len > 0 && !(len == 1 && path[i] == '.')) {
            starts[n_segments] = i;
            lens[n_segments++] = len;
        }
        i = j + 1;
    }
    bt_buf_putc(b, '/');
    for (size_t k = 0; k < n_segments; k++) {
        if (k > 0)
            bt_buf_putc(b, '/');
        uri_encode(b, path + starts[k], lens[k]);
    }
    if (n_segments > 0 && path[n - 1] == '/')
        bt_buf_putc(b, '/');
    free(starts);
    free(lens);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes a query component as a form would: "+" is a space (clients such as botocore send
 * spaces so), "%XX" a byte; a "%" that starts no escape stands for itself. */
static char *query_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = bt_xmalloc(n + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') {
            out[len++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
                   (lo = hex_value(s[i + 2])) >= 0) {
            out[len++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[len++] = s[i];
        }
    }
    out[len] = '\0';
    *out_len = len;
    return out;
}

typedef struct query_pair {
    char *key; /* canonical (re-encoded) */
    char *value;
} query_pair;

static int compare_pairs(const void *a, const void *b)
{
    const query_pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static char *canonical_component(const char *s, size_t n)
{
    size_t len;
    char *raw = query_decode(s, n, &len);
    bt_buf b;
    bt_buf_init(&b);
    uri_encode(&b, raw, len);
    free(raw);
    return bt_buf_steal(&b);
}

/* The canonical query string: every key=value decoded and re-encoded per RFC 3986, sorted by
 * key then value (byte order), joined with "&"; a key without "=" has an empty value. */
static void canonical_query(bt_buf *b, const char *query)
{
    size_t n_pairs = 0, cap = 8;
    query_pair *pairs = bt_xmalloc(cap * sizeof(*pairs));
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t key_len = eq ? (size_t)(eq - p) : len;
            if (n_pairs == cap)
                pairs = bt_xrealloc(pairs, (cap *= 2) * sizeof(*pairs));
            pairs[n_pairs].key = canonical_component(p, key_len);
            pairs[n_pairs].value =
                eq ? canonical_component(eq + 1, len - key_len - 1) : bt_xstrdup("");
            n_pairs++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    qsort(pairs, n_pairs, sizeof(*pairs), compare_pairs);
    for (size_t i = 0; i < n_pairs; i++) {
        if (i > 0)
            bt_buf_putc(b, '&');
        bt_buf_printf(b, "%s=%s", pairs[i].key, pairs[i].value);
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
}

/* A header value as AWS signs it: leading and trailing blanks removed, each run of blanks
 * inside made one space ("Trimall"). */
static void put_trimmed(bt_buf *b, const char *v)
{
    bool pending_space = false, started = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            pending_space = started;
            continue;
        }
        if (pending_space)
            bt_buf_putc(b, ' ');
        bt_buf_putc(b, *v);
        pending_space = false;
        started = true;
    }
}

/* Method, URI and query lines of the canonical request (each followed by "\n"). */
static void canonical_start(bt_buf *b, const char *method, const char *path, const char *query)
{
    bt_buf_puts(b, method);
    bt_buf_putc(b, '\n');
    canonical_uri(b, path);
    bt_buf_putc(b, '\n');
    canonical_query(b, query);
    bt_buf_putc(b, '\n');
}

/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex SHA-256 of the canonical request>". */
static void string_to_sign(bt_buf *out, const char *amz_date, const char *date, const char *region,
                           const char *service, const bt_buf *creq)
{
    char hash[65];
    sha256_hex(creq->data, creq->len, hash);
    bt_buf_printf(out, ALGORITHM "\n%s\n%s/%s/%s/" TERMINATOR "\n%s", amz_date, date, region,
                  service, hash);
}

/* --- Authorization header ----------------------------------------------------------------- */

enum { NEED_CREDENTIAL = 1, NEED_SIGNATURE = 2, NEED_SIGNED_HEADERS = 4, NEED_DATE = 8 };

/* AWS names what is missing in one message, a sentence each, then quotes the header, e.g.
 * "Authorization header requires 'Signature' parameter. Authorization header requires
 * 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
 * (brendanhay/amazonka#316, aws/chalice#828). */
static int missing_error(bt_err *err, unsigned need, const char *header)
{
    bt_buf b;
    bt_buf_init(&b);
    if (need & NEED_CREDENTIAL)
        bt_buf_puts(&b, "Authorization header requires 'Credential' parameter. ");
    if (need & NEED_SIGNATURE)
        bt_buf_puts(&b, "Authorization header requires 'Signature' parameter. ");
    if (need & NEED_SIGNED_HEADERS)
        bt_buf_puts(&b, "Authorization header requires 'SignedHeaders' parameter. ");
    if (need & NEED_DATE)
        bt_buf_puts(&b, "Authorization header requires existence of either a 'X-Amz-Date' or "
                        "a 'Date' header. ");
    bt_buf_printf(&b, "Authorization=%s", header);
    int rc = bt_err_set(err, BT_EINVAL, "%s", b.data);
    bt_buf_fini(&b);
    return rc;
}

static bool take(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* Splits Credential=AKID/date/region/service/aws4_request into out. */
static int parse_credential(const char *cred, size_t n, sigv4_auth *out, bt_err *err)
{
    const char *parts[5];
    size_t lens[5];
    size_t n_parts = 0;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i == n || cred[i] == '/') {
            if (n_parts < 5) {
                parts[n_parts] = cred + start;
                lens[n_parts] = i - start;
            }
            n_parts++;
            start = i + 1;
        }
    }
    /* aws/aws-sdk-go issues: "Credential must have exactly 5 slash-delimited elements, e.g.
     * keyid/date/region/service/term, got '…'" (prometheus-community/yet-another-cloudwatch-
     * exporter#169, mhart/aws4#97) */
    if (n_parts != 5)
        return bt_err_set(err, BT_EINVAL,
                          "Credential must have exactly 5 slash-delimited elements, e.g. "
                          "keyid/date/region/service/term, got '%.*s'",
                          (int)n, cred);
    if (lens[4] != strlen(TERMINATOR) || memcmp(parts[4], TERMINATOR, lens[4]) != 0)
        return bt_err_set(err, BT_EINVAL,
                          "Credential should be scoped with a valid terminator: '" TERMINATOR
                          "', not '%.*s'.",
                          (int)lens[4], parts[4]);
    if (!take(out->access_key, sizeof(out->access_key), parts[0], lens[0]) ||
        !take(out->date, sizeof(out->date), parts[1], lens[1]) ||
        !take(out->region, sizeof(out->region), parts[2], lens[2]) ||
        !take(out->service, sizeof(out->service), parts[3], lens[3]))
        return bt_err_set(err, BT_EINVAL,
                          "Credential has an element longer than Baton accepts (access key 128, "
                          "date 8, region and service 63 characters): '%.*s'",
                          (int)n, cred);
    return 0;
}

static bool is_signature(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

typedef struct param {
    const char *value;
    size_t len;
    bool seen;
} param;

/* Finds the three parameters. AWS splits the header's parameters at commas and blanks alike
 * (so ", " and "," both work), and a stray blank shows as an element without "=":
 * "'…' not a valid key=value pair (missing equal-sign) in Authorization header: '…'."
 * (aws/aws-sdk-go#289, iann0036/cloud9-sync#10). */
static int split_params(const char *header, const char *p, param *cred, param *sig,
                        param *signed_headers, bt_err *err)
{
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        const char *eq = memchr(p, '=', len);
        if (eq == NULL)
            return bt_err_set(err, BT_EINVAL,
                              "'%.*s' not a valid key=value pair (missing equal-sign) in "
                              "Authorization header: '%s'.",
                              (int)len, p, header);
        size_t key_len = (size_t)(eq - p);
        param *target = NULL;
        if (key_len == 10 && memcmp(p, "Credential", 10) == 0)
            target = cred;
        else if (key_len == 9 && memcmp(p, "Signature", 9) == 0)
            target = sig;
        else if (key_len == 13 && memcmp(p, "SignedHeaders", 13) == 0)
            target = signed_headers;
        if (target != NULL) {
            /* two values would leave open which one was verified */
            if (target->seen)
                return bt_err_set(err, BT_EINVAL,
                                  "Authorization header has '%.*s' more than once: '%s'.",
                                  (int)key_len, p, header);
            target->seen = true;
            target->value = eq + 1;
            target->len = len - key_len - 1;
        }
        p += len;
    }
    return 0;
}

/* sigv4_parse, with the missing-date sentence added when has_date is false (only a verifier
 * sees the request's headers). */
static int parse_header(const char *header, bool has_date, sigv4_auth *out, bt_err *err)
{
    memset(out, 0, sizeof(*out));
    param cred = {0}, sig = {0}, signed_headers = {0};
    size_t alg_len = strlen(ALGORITHM);
    bool is_v4 = strncmp(header, ALGORITHM, alg_len) == 0 &&
                 (header[alg_len] == '\0' || header[alg_len] == ' ' || header[alg_len] == '\t');
    if (is_v4) {
        int rc = split_params(header, header + alg_len, &cred, &sig, &signed_headers, err);
        if (rc != 0)
            return rc;
    }
    unsigned need = (cred.len == 0 ? NEED_CREDENTIAL : 0u) | (sig.len == 0 ? NEED_SIGNATURE : 0u) |
                    (signed_headers.len == 0 ? NEED_SIGNED_HEADERS : 0u) |
                    (has_date ? 0u : NEED_DATE);
    if (need != 0)
        return missing_error(err, need, header);
    int rc = parse_credential(cred.value, cred.len, out, err);
    if (rc != 0)
        return rc;
    if (!take(out->signed_headers, sizeof(out->signed_headers), signed_headers.value,
              signed_headers.len))
        return bt_err_set(err, BT_EINVAL,
                          "SignedHeaders is longer than Baton accepts (%zu "
                          "characters).",
                          sizeof(out->signed_headers) - 1);
    if (!is_signature(sig.value, sig.len))
        return bt_err_set(err, BT_EINVAL,
                          "Signature must be 64 lower-case hexadecimal digits, got '%.*s'.",
                          (int)sig.len, sig.value);
    memcpy(out->signature, sig.value, 64);
    out->signature[64] = '\0';
    return 0;
}

int sigv4_parse(const char *header, sigv4_auth *out, bt_err *err)
{
    return parse_header(header, true, out, err);
}

/* --- verification ------------------------------------------------------------------------- */

/* Reads "YYYYMMDDTHHMMSSZ" (the only form X-Amz-Date takes) into epoch milliseconds. */
static bool parse_amz_date(const char *s, int64_t *ms)
{
    static const char shape[] = "dddddddd"
                                "T"
                                "dddddd"
                                "Z";
    if (strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return false;
    char rfc3339[32];
    snprintf(rfc3339, sizeof(rfc3339), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9,
             s + 11, s + 13);
    return bt_time_parse_rfc3339(rfc3339, ms);
}

/* Reads a Date header: IMF-fixdate ("Tue, 01 Dec 2026 12:00:00 GMT", RFC 9110), the numeric
 * zone of RFC 5322 that botocore sends ("… 12:00:00 -0000"), or the basic ISO-8601 form AWS's
 * date-handling page shows for it. */
static bool parse_http_date(const char *s, int64_t *ms)
{
    if (parse_amz_date(s, ms))
        return true;
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char wday[4], mon[4];
    int day, year, hour, minute, second, used = 0;
    if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %n", wday, &day, mon, &year, &hour,
               &minute, &second, &used) != 7 ||
        used == 0)
        return false;
    const char *zone = s + used;
    int offset_minutes = 0;
    if (strcmp(zone, "GMT") != 0) {
        if (strlen(zone) != 5 || (zone[0] != '+' && zone[0] != '-'))
            return false;
        for (int i = 1; i < 5; i++)
            if (zone[i] < '0' || zone[i] > '9')
                return false;
        offset_minutes =
            ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 + (zone[3] - '0') * 10 + (zone[4] - '0');
        if (zone[0] == '-')
            offset_minutes = -offset_minutes;
    }
    const char *m = strstr(months, mon);
    if (m == NULL || strlen(mon) != 3 || (m - months) % 3 != 0)
        return false;
    char rfc3339[40];
    snprintf(rfc3339, sizeof(rfc3339), "%04d-%02d-%02dT%02d:%02d:%02dZ", year,
             (int)((m - months) / 3 + 1), day, hour, minute, second);
    if (!bt_time_parse_rfc3339(rfc3339, ms))
        return false;
    *ms -= (int64_t)offset_minutes * 60000;
    return true;
}

/* "20261201T120000Z" for ms (second precision), into out[17]. */
static void format_amz_date(int64_t ms, char out[17])
{
    char iso[32];
    bt_time_format(ms, iso, sizeof(iso));
    /* "2026-12-01T12:00:00.000Z" → keep the digits and the T */
    snprintf(out, 17, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5, iso + 8, iso + 11, iso + 14,
             iso + 17);
}

static bool is_signed(const char *signed_headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = signed_headers; *p;) {
        size_t len = strcspn(p, ";");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ';')
            p++;
    }
    return false;
}

/* The header lines, signed-headers line and payload hash of the canonical request, in the
 * order SignedHeaders lists them (clients list them sorted, and sign them in that order). */
static void canonical_rest_verify(bt_buf *b, const sigv4_request *rq, const char *signed_headers)
{
    char name[sizeof(((sigv4_auth *)0)->signed_headers)];
    for (const char *p = signed_headers; *p;) {
        size_t len = strcspn(p, ";");
        memcpy(name, p, len);
        name[len] = '\0';
        const char *value = rq->header(rq->header_ctx, name);
        bt_buf_append(b, name, len);
        bt_buf_putc(b, ':');
        if (value != NULL)
            put_trimmed(b, value);
        bt_buf_putc(b, '\n');
        p += len;
        if (*p == ';')
            p++;
    }
    bt_buf_printf(b, "\n%s\n", signed_headers);
    const char *content_sha = rq->header(rq->header_ctx, "x-amz-content-sha256");
    if (content_sha != NULL) {
        bt_buf_puts(b, content_sha);
    } else {
        char hash[65];
        sha256_hex(rq->body ? rq->body : "", rq->body_len, hash);
        bt_buf_puts(b, hash);
    }
}

static const char MISMATCH[] =
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details.";

/* AWS: "Signature expired: 20160106T204043Z is now earlier than 20160106T211334Z
 * (20160106T212834Z - 15 min.)" (aws/aws-sdk-go#487) and "Signature not yet current:
 * 20181017T093750Z is still later than 20181017T093639Z (20181017T093139Z + 5 min.)"
 * (s12v/awsbeats#48, with the 5-minute window of Kinesis). */
static sigv4_result check_skew(const char *amz_date, int64_t date_ms, int64_t now_ms, bt_err *err)
{
    int64_t now_s = now_ms / 1000 * 1000;
    char now[17], bound[17];
    format_amz_date(now_s, now);
    if (date_ms < now_ms - SKEW_MS) {
        format_amz_date(now_s - SKEW_MS, bound);
        bt_err_set(err, BT_EINVAL, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
                   amz_date, bound, now);
        return SIGV4_EXPIRED;
    }
    if (date_ms > now_ms + SKEW_MS) {
        format_amz_date(now_s + SKEW_MS, bound);
        bt_err_set(err, BT_EINVAL,
                   "Signature not yet current: %s is still later than %s (%s + 15 min.)", amz_date,
                   bound, now);
        return SIGV4_EXPIRED;
    }
    return SIGV4_OK;
}

/* The request's time: X-Amz-Date first, else Date (AWS's "Handling dates in Signature
 * Version 4"). Writes its basic ISO-8601 form, which the string to sign carries. */
static sigv4_result request_date(const sigv4_request *rq, char amz_date[17], int64_t *ms,
                                 bt_err *err)
{
    const char *x_amz_date = rq->header(rq->header_ctx, "x-amz-date");
    const char *date = x_amz_date ? x_amz_date : rq->header(rq->header_ctx, "date");
    bool ok = x_amz_date ? parse_amz_date(x_amz_date, ms) : parse_http_date(date, ms);
    if (!ok) {
        bt_err_set(err, BT_EINVAL,
                   "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                   "http://en.wikipedia.org/wiki/ISO_8601",
                   date);
        return SIGV4_INCOMPLETE;
    }
    format_amz_date(*ms, amz_date);
    return SIGV4_OK;
}

sigv4_result sigv4_verify(const sigv4_request *rq,
                          const char *(*lookup)(void *ctx, const char *key), void *lookup_ctx,
                          int64_t now_ms, bt_err *err)
{
    bt_err_clear(err);
    const char *header = rq->header(rq->header_ctx, "authorization");
    if (header == NULL || header[0] == '\0') {
        /* the text of DynamoDB's (JSON) and STS's (query) responses alike
         * (awslabs/amazon-kinesis-client#351, amzn/selling-partner-api-docs#3081) */
        bt_err_set(err, BT_EINVAL, "Request is missing Authentication Token");
        return SIGV4_MISSING;
    }
    bool has_date = rq->header(rq->header_ctx, "x-amz-date") != NULL ||
                    rq->header(rq->header_ctx, "date") != NULL;
    sigv4_auth auth;
    if (parse_header(header, has_date, &auth, err) != 0)
        return SIGV4_INCOMPLETE;
    /* An unsigned Host would let a signature made for one endpoint be replayed on another
     * (aws/aws-sdk-php#2469, opensearch-project/opensearch-php#248 for the words). */
    if (!is_signed(auth.signed_headers, "host")) {
        bt_err_set(err, BT_EINVAL,
                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        return SIGV4_INCOMPLETE;
    }
    char amz_date[17];
    int64_t date_ms;
    sigv4_result r = request_date(rq, amz_date, &date_ms, err);
    if (r != SIGV4_OK)
        return r;
    if (strncmp(auth.date, amz_date, 8) != 0 || strlen(auth.date) != 8) {
        bt_err_set(err, BT_EINVAL,
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '%s', '%.8s'.",
                   auth.date, amz_date);
        return SIGV4_BAD_SIGNATURE;
    }
    if ((r = check_skew(amz_date, date_ms, now_ms, err)) != SIGV4_OK)
        return r;
    const char *secret = lookup(lookup_ctx, auth.access_key);
    if (secret == NULL) {
        /* UnrecognizedClientException / InvalidClientTokenId (ex-aws/ex_aws#220) */
        bt_err_set(err, BT_EINVAL, "The security token included in the request is invalid.");
        return SIGV4_UNKNOWN_KEY;
    }
    bt_buf creq, sts;
    bt_buf_init(&creq);
    bt_buf_init(&sts);
    canonical_start(&creq, rq->method, rq->path, rq->query ? rq->query : "");
    canonical_rest_verify(&creq, rq, auth.signed_headers);
    string_to_sign(&sts, amz_date, auth.date, auth.region, auth.service, &creq);
    char expected[65];
    signature_hex(secret, auth.date, auth.region, auth.service, &sts, expected);
    bt_buf_fini(&creq);
    bt_buf_fini(&sts);
    if (CRYPTO_memcmp(expected, auth.signature, 64) != 0) {
        bt_err_set(err, BT_EINVAL, "%s", MISMATCH);
        return SIGV4_BAD_SIGNATURE;
    }
    return SIGV4_OK;
}

/*
 * The error each result is in AWS's two wire protocols, and its status. AWS JSON services
 * answer all four with 400: UnrecognizedClientException (DynamoDB, Cognito:
 * yegor256/s3auth#244, aws/aws-sdk-php#2444), InvalidSignatureException, also for an expired
 * signature (aws/aws-sdk-js#254, aws/aws-sdk-go#2194), MissingAuthenticationTokenException
 * (architect/dynalite#105), IncompleteSignatureException (iann0036/cloud9-sync#10). Query
 * services (SQS, SNS, STS) answer 403 with InvalidClientTokenId (ex-aws/ex_aws#220),
 * SignatureDoesNotMatch — an expired signature included (aws/aws-sdk-php#642,
 * aws/aws-sdk-js#265) — and MissingAuthenticationToken (the "Common Errors" page of the SQS
 * API Reference), and 400 with IncompleteSignature (same page; brendanhay/amazonka#316).
 */
const char *sigv4_error_type(sigv4_result r, bool query_protocol)
{
    switch (r) {
    case SIGV4_OK:
        return NULL;
    case SIGV4_MISSING:
        return query_protocol ? "MissingAuthenticationToken"
                              : "MissingAuthenticationTokenException";
    case SIGV4_INCOMPLETE:
        return query_protocol ? "IncompleteSignature" : "IncompleteSignatureException";
    case SIGV4_UNKNOWN_KEY:
        return query_protocol ? "InvalidClientTokenId" : "UnrecognizedClientException";
    case SIGV4_BAD_SIGNATURE:
    case SIGV4_EXPIRED:
        return query_protocol ? "SignatureDoesNotMatch" : "InvalidSignatureException";
    }
    return NULL;
}

int sigv4_http_status(sigv4_result r, bool query_protocol)
{
    if (r == SIGV4_OK)
        return 200;
    if (!query_protocol || r == SIGV4_INCOMPLETE)
        return 400;
    return 403;
}

/* --- signing ------------------------------------------------------------------------------ */

typedef struct sign_header {
    char *name; /* lower case */
    const char *value;
} sign_header;

static int compare_sign_headers(const void *a, const void *b)
{
    const sign_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    /* equal names keep the caller's order: their values join in it */
    return c != 0 ? c : (x < y ? -1 : x > y);
}

static char *lower_dup(const char *s)
{
    char *out = bt_xstrdup(s);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* Header lines, signed-headers line and payload hash of the canonical request of a request
 * Baton sends; writes the signed-headers list to signed_out. Repeated names are one line,
 * their trimmed values joined with ",". */
static void canonical_rest_sign(bt_buf *b, bt_buf *signed_out, const char *host,
                                const char *amz_date, const char *const *headers, const char *body,
                                size_t body_len)
{
    size_t n = 2;
    for (const char *const *h = headers; h && h[0]; h += 2)
        n++;
    sign_header *list = bt_xmalloc(n * sizeof(*list));
    list[0] = (sign_header){bt_xstrdup("host"), host};
    list[1] = (sign_header){bt_xstrdup("x-amz-date"), amz_date};
    size_t i = 2;
    const char *content_sha = NULL;
    for (const char *const *h = headers; h && h[0]; h += 2, i++) {
        list[i] = (sign_header){lower_dup(h[0]), h[1]};
        if (strcmp(list[i].name, "x-amz-content-sha256") == 0)
            content_sha = h[1];
    }
    qsort(list, n, sizeof(*list), compare_sign_headers);
    for (i = 0; i < n; i++) {
        bool same_as_previous = i > 0 && strcmp(list[i].name, list[i - 1].name) == 0;
        if (same_as_previous) {
            bt_buf_putc(b, ',');
        } else {
            if (i > 0) {
                bt_buf_putc(b, '\n');
                bt_buf_putc(signed_out, ';');
            }
            bt_buf_printf(b, "%s:", list[i].name);
            bt_buf_puts(signed_out, list[i].name);
        }
        put_trimmed(b, list[i].value);
    }
    bt_buf_printf(b, "\n\n%s\n", signed_out->data);
    if (content_sha != NULL) {
        bt_buf_puts(b, content_sha);
    } else {
        char hash[65];
        sha256_hex(body ? body : "", body_len, hash);
        bt_buf_puts(b, hash);
    }
    for (i = 0; i < n; i++)
        free(list[i].name);
    free(list);
}

void sigv4_sign(const char *method, const char *host, const char *path, const char *query,
                const char *const *headers, const char *body, size_t body_len,
                const char *access_key, const char *secret, const char *region, const char *service,
                int64_t now_ms, char authorization[1024], char amz_date[17])
{
    format_amz_date(now_ms, amz_date);
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    bt_buf creq, signed_headers, sts;
    bt_buf_init(&creq);
    bt_buf_init(&signed_headers);
    bt_buf_init(&sts);
    canonical_start(&creq, method, path, query ? query : "");
    canonical_rest_sign(&creq, &signed_headers, host, amz_date, headers, body, body_len);
    string_to_sign(&sts, amz_date, date, region, service, &creq);
    char signature[65];
    signature_hex(secret, date, region, service, &sts, signature);
    int n =
        snprintf(authorization, 1024,
                 ALGORITHM " Credential=%s/%s/%s/%s/" TERMINATOR ", SignedHeaders=%s, Signature=%s",
                 access_key, date, region, service, signed_headers.data, signature);
    assert(n > 0 && n < 1024); /* callers sign a handful of short headers */
    (void)n;
    bt_buf_fini(&creq);
    bt_buf_fini(&signed_headers);
    bt_buf_fini(&sts);
}

/* --- credentials file --------------------------------------------------------------------- */

typedef struct key_entry {
    char *access_key;
    char *secret;
    int line;
} key_entry;

struct sigv4_keys {
    key_entry *entries;
    size_t len;
};

/* Access keys are letters, digits and "_" (AWS's pattern is [\w]+), so they never hold the
 * "/" that separates the credential scope. */
static bool is_access_key(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool is_secret(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] == 0x7F)
            return false;
    return n > 0;
}

/* One line: blank, a "#" comment, or ACCESS_KEY SECRET. */
static int parse_key_line(sigv4_keys *k, const char *path, int line_no, char *line, bt_err *err)
{
    line[strcspn(line, "\r\n")] = '\0';
    const char *p = line + strspn(line, " \t");
    if (*p == '\0' || *p == '#')
        return 0;
    size_t key_len = strcspn(p, " \t");
    const char *secret = p + key_len + strspn(p + key_len, " \t");
    size_t secret_len = strcspn(secret, " \t");
    const char *rest = secret + secret_len + strspn(secret + secret_len, " \t");
    if (secret_len == 0 || *rest != '\0')
        return bt_err_set(err, BT_EINVAL,
                          "%s:%d: expected `ACCESS_KEY SECRET` (two fields separated by blanks)",
                          path, line_no);
    if (!is_access_key(p, key_len))
        return bt_err_set(err, BT_EINVAL,
                          "%s:%d: the access key must be 1 to 128 letters, digits or '_'", path,
                          line_no);
    if (!is_secret(secret, secret_len))
        return bt_err_set(err, BT_EINVAL, "%s:%d: the secret holds a control character", path,
                          line_no);
    for (size_t i = 0; i < k->len; i++)
        if (strlen(k->entries[i].access_key) == key_len &&
            memcmp(k->entries[i].access_key, p, key_len) == 0)
            return bt_err_set(err, BT_EINVAL, "%s:%d: access key %.*s is already on line %d", path,
                              line_no, (int)key_len, p, k->entries[i].line);
    k->entries = bt_xrealloc(k->entries, (k->len + 1) * sizeof(*k->entries));
    k->entries[k->len++] =
        (key_entry){bt_xstrndup(p, key_len), bt_xstrndup(secret, secret_len), line_no};
    return 0;
}

/* Secrets in a file others can read are not secret, and one others can write lets them add
 * keys: like ssh with a private key, refuse any group or other permission. */
static int check_mode(FILE *f, const char *path, bt_err *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return bt_err_set(err, BT_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bt_err_set(err, BT_EINVAL, "%s: not a regular file", path);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return bt_err_set(err, BT_EINVAL,
                          "%s: permissions %03o let others use the secrets; chmod 600 it", path,
                          (unsigned)(st.st_mode & 0777));
    return 0;
}

sigv4_keys *sigv4_keys_load(const char *path, bt_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        bt_err_set(err, BT_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    sigv4_keys *k = bt_xcalloc(1, sizeof(*k));
    char *line = NULL;
    size_t cap = 0;
    int rc = check_mode(f, path, err);
    for (int line_no = 1; rc == 0 && getline(&line, &cap, f) != -1; line_no++)
        rc = parse_key_line(k, path, line_no, line, err);
    if (rc == 0 && ferror(f))
        rc = bt_err_set(err, BT_EIO, "%s: %s", path, strerror(errno));
    if (line != NULL) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    fclose(f);
    if (rc != 0) {
        sigv4_keys_free(k);
        return NULL;
    }
    return k;
}

bool sigv4_keys_first(const sigv4_keys *k, const char **access_key, const char **secret)
{
    if (k == NULL || k->len == 0)
        return false;
    *access_key = k->entries[0].access_key;
    *secret = k->entries[0].secret;
    return true;
}

void sigv4_keys_free(sigv4_keys *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->len; i++) {
        free(k->entries[i].access_key);
        OPENSSL_cleanse(k->entries[i].secret, strlen(k->entries[i].secret));
        free(k->entries[i].secret);
    }
    free(k->entries);
    free(k);
}

const char *sigv4_keys_lookup(void *keys, const char *access_key)
{
    const sigv4_keys *k = keys;
    for (size_t i = 0; i < k->len; i++)
        if (strcmp(k->entries[i].access_key, access_key) == 0)
            return k->entries[i].secret;
    return NULL;
}
