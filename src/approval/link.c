/*
 * link.c — link ids and the N-of-M rule, pure. A link id is base64url(R || M) where R is 16
 * random bytes and M the first 8 bytes of HMAC-SHA-256(key, "baton-approval-link:" || R).
 */
#include "approval/approval.h"

#include "base/crypto.h"
#include "base/rand.h"

#include <string.h>

enum { RAND_LEN = 16, MAC_LEN = 8, RAW_LEN = RAND_LEN + MAC_LEN };

static const char label[] = "baton-approval-link:";

static void mac_of(const uint8_t *key, size_t key_len, const uint8_t r[RAND_LEN],
                   uint8_t out[MAC_LEN])
{
    uint8_t msg[sizeof label - 1 + RAND_LEN], full[32];
    memcpy(msg, label, sizeof label - 1);
    memcpy(msg + sizeof label - 1, r, RAND_LEN);
    bt_hmac_sha256(key, key_len, msg, sizeof msg, full);
    memcpy(out, full, MAC_LEN);
}

void approval_link_make(const uint8_t *key, size_t key_len, char out[APPROVAL_LINK_LEN + 1])
{
    uint8_t raw[RAW_LEN];
    bt_random_bytes(raw, RAND_LEN);
    mac_of(key, key_len, raw, raw + RAND_LEN);
    bt_base64url_encode(raw, RAW_LEN, out);
}

bool approval_link_check(const uint8_t *key, size_t key_len, const char *id)
{
    if (id == NULL || strlen(id) != APPROVAL_LINK_LEN)
        return false;
    uint8_t raw[RAW_LEN + 2], mac[MAC_LEN];
    if (bt_base64url_decode(id, APPROVAL_LINK_LEN, raw, sizeof raw) != RAW_LEN)
        return false;
    mac_of(key, key_len, raw, mac);
    return bt_ct_equal(mac, raw + RAND_LEN, MAC_LEN);
}

approval_outcome approval_tally(int64_t required, size_t n_approvers, size_t n_approved,
                                size_t n_rejected)
{
    if (required < 1)
        required = 1;
    if (n_rejected > 0)
        return APPROVAL_REJECTED;
    if ((int64_t)n_approved >= required)
        return APPROVAL_APPROVED;
    size_t undecided =
        n_approvers > n_approved + n_rejected ? n_approvers - n_approved - n_rejected : 0;
    if ((int64_t)(n_approved + undecided) < required)
        return APPROVAL_REJECTED;
    return APPROVAL_PENDING;
}

size_t approval_text_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

bool approval_address_ok(const char *a)
{
    if (a == NULL)
        return false;
    size_t len = strlen(a);
    const char *at = strchr(a, '@');
    if (len > 254 || at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p) != NULL)
            return false;
    return true;
}
