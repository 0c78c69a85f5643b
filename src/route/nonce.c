/*
 * nonce.c — the one-time nonces of confirmation pages: "<expiry ms>.<16 random bytes>.<MAC>",
 * the MAC an HMAC-SHA-256 with the table's secret over the expiry, the random part, the path
 * and the raw query, so a nonce is good for one link only and for a while. The secret is
 * made once per data folder (DATA/route/nonce-key, written and synced before the server
 * serves), so a page shown before a restart still confirms after it. Using a nonce once is
 * the caller's to enforce, with the rows of route_nonce_used (api/routes.c).
 */
#include "route/route_int.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/file.h"
#include "base/rand.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char route_schema_v1[] = "CREATE TABLE route_nonce_used (\n"
                               "  nonce TEXT PRIMARY KEY,\n"
                               "  expiry_ms INTEGER NOT NULL\n"
                               ");\n";

static void mac(route_table *t, const char *head, size_t head_len, const char *path,
                const char *query, char out[44])
{
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_append(&b, head, head_len);
    bt_buf_putc(&b, '\n');
    bt_buf_puts(&b, path);
    bt_buf_putc(&b, '\n');
    bt_buf_puts(&b, query ? query : "");
    uint8_t m[32];
    bt_hmac_sha256(t->secret, sizeof t->secret, b.data, b.len, m);
    bt_buf_fini(&b);
    bt_base64url_encode(m, sizeof m, out);
}

void route_nonce_make(route_table *t, const char *path, const char *query, int64_t now_ms,
                      char out[ROUTE_NONCE_LEN])
{
    uint8_t rnd[16];
    bt_random_bytes(rnd, sizeof rnd);
    char r64[24];
    bt_base64url_encode(rnd, sizeof rnd, r64);
    char head[48];
    int n = snprintf(head, sizeof head, "%" PRId64 ".%s", now_ms + ROUTE_NONCE_TTL_MS, r64);
    char m[44];
    mac(t, head, (size_t)n, path, query, m);
    snprintf(out, ROUTE_NONCE_LEN, "%s.%s", head, m);
}

bool route_nonce_check(route_table *t, const char *nonce, const char *path, const char *query,
                       int64_t now_ms, int64_t *expiry_ms)
{
    if (nonce == NULL || strlen(nonce) >= ROUTE_NONCE_LEN)
        return false;
    const char *dot = strrchr(nonce, '.');
    if (dot == NULL || strlen(dot + 1) != 43)
        return false;
    char *end;
    long long exp = strtoll(nonce, &end, 10);
    if (end == nonce || *end != '.' || end >= dot)
        return false;
    char m[44];
    mac(t, nonce, (size_t)(dot - nonce), path, query, m);
    if (!bt_ct_equal(m, dot + 1, 43))
        return false;
    *expiry_ms = exp;
    return exp > now_ms;
}

int route_table_load_key(route_table *t, const char *data_dir, bt_err *err)
{
    char *sub = bt_xasprintf("%s/route", data_dir);
    char *path = bt_xasprintf("%s/nonce-key", sub);
    uint8_t key[sizeof t->secret];
    int rc = 0;
    if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
        rc = bt_err_set(err, BT_EIO, "%s: %s", sub, strerror(errno));
        goto out;
    }
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, key, sizeof key);
        close(fd);
        if (n != (ssize_t)sizeof key)
            rc = bt_err_set(err, BT_EIO, "%s: not a nonce key (%zu bytes)", path, sizeof key);
        goto out;
    }
    if (errno != ENOENT) {
        rc = bt_err_set(err, BT_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    bt_random_bytes(key, sizeof key);
    if (bt_write_file_durable(path, key, sizeof key, 0600) != 0)
        rc = bt_err_set(err, BT_EIO, "%s: %s", path, strerror(errno));
out:
    if (rc == 0)
        memcpy(t->secret, key, sizeof key);
    free(sub);
    free(path);
    return rc;
}
