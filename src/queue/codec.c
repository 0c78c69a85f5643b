/*
 * codec.c — base64, hex digests and character checks for codec.h. The UTF-8 decoder is
 * strict (RFC 3629): SQS hashes and stores the exact bytes, so anything ambiguous is refused
 * at the door rather than normalised.
 */
#include "queue/codec.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void qc_base64_encode(const void *data, size_t len, bt_buf *out)
{
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
        bt_buf_append(out, q, 4);
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < len ? b64[(v >> 6) & 63] : '=',
                     '='};
        bt_buf_append(out, q, 4);
    }
    if (out->data == NULL)
        bt_buf_append(out, "", 0);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool qc_base64_decode(const char *s, size_t len, bt_buf *out)
{
    if (len % 4 != 0)
        return false;
    if (out->data == NULL)
        bt_buf_append(out, "", 0);
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int pad = (last && s[i + 3] == '=') + (last && s[i + 2] == '=');
        if (!last && (s[i + 2] == '=' || s[i + 3] == '='))
            return false;
        uint32_t v = 0;
        for (int k = 0; k < 4 - pad; k++) {
            int d = b64_value(s[i + (size_t)k]);
            if (d < 0)
                return false;
            v = v << 6 | (uint32_t)d;
        }
        v <<= 6 * pad;
        char bytes[3] = {(char)(v >> 16), (char)(v >> 8), (char)v};
        /* Canonical: the bits a padded group drops must be zero. */
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
            return false;
        bt_buf_append(out, bytes, (size_t)(3 - pad));
    }
    return true;
}

static void digest_hex(const EVP_MD *md, const void *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, d, &n, md, NULL);
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void qc_md5_hex(const void *data, size_t len, char out[33])
{
    digest_hex(EVP_md5(), data, len, out);
}

void qc_sha256_hex(const void *data, size_t len, char out[65])
{
    digest_hex(EVP_sha256(), data, len, out);
}

long qc_utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[*i];
    size_t n;
    long cp, min;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (*i + n >= len)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        if ((p[*i + k] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (p[*i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += n + 1;
    return cp;
}

bool qc_utf8_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len;)
        if (qc_utf8_next(s, len, &i) < 0)
            return false;
    return true;
}

bool qc_text_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        long c = qc_utf8_next(s, len, &i);
        bool ok = c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
                  (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
        if (!ok)
            return false;
    }
    return true;
}

int qc_parse_queue_path(const char *path, const char *account, char name[81])
{
    if (path[0] != '/')
        return -1;
    const char *acct = path + 1, *slash = strchr(acct, '/');
    if (slash == NULL || slash == acct)
        return -1;
    const char *q = slash + 1;
    size_t n = strlen(q);
    if (n == 0 || n > 80 || strchr(q, '/'))
        return -1;
    for (const char *p = acct; p < slash; p++)
        if (*p < '0' || *p > '9')
            return -1;
    memcpy(name, q, n + 1);
    size_t alen = (size_t)(slash - acct);
    return alen == strlen(account) && strncmp(acct, account, alen) == 0 ? 0 : 1;
}

/* The region an AWS SQS host names, or NULL for any other host. */
static bool host_region(const char *host, size_t len, const char **region, size_t *rlen)
{
    static const char sqs[] = "sqs.", aws[] = ".amazonaws.com", legacy[] = ".queue.amazonaws.com";
    size_t la = sizeof(aws) - 1, ll = sizeof(legacy) - 1;
    if (len > ll && memcmp(host + len - ll, legacy, ll) == 0) {
        *region = host;
        *rlen = len - ll;
        return true;
    }
    if (len > 4 + la && memcmp(host, sqs, 4) == 0 && memcmp(host + len - la, aws, la) == 0) {
        *region = host + 4;
        *rlen = len - 4 - la;
        return true;
    }
    return false;
}

int qc_parse_queue_url(const char *url, const char *region, const char *account, char name[81])
{
    const char *host;
    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return -1;
    const char *path = strchr(host, '/');
    if (path == NULL || path == host)
        return -1;
    for (const char *p = host; p < path; p++)
        if (*p <= ' ' || *p == '?' || *p == '#' || *p == '@')
            return -1;
    int rc = qc_parse_queue_path(path, account, name);
    const char *r;
    size_t rlen;
    if (rc == 0 && host_region(host, (size_t)(path - host), &r, &rlen) &&
        (rlen != strlen(region) || strncmp(r, region, rlen) != 0))
        rc = 1;
    return rc;
}
