/*
 * crypto.h — the few primitives the server needs, over OpenSSL's libcrypto: HMAC-SHA-256
 * (task tokens, signed links), SHA-256, and base64url without padding (tokens in URLs).
 */
#ifndef BT_CRYPTO_H
#define BT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void bt_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[32]);
void bt_sha256(const void *msg, size_t len, uint8_t out[32]);
/* Constant-time comparison of n bytes. */
bool bt_ct_equal(const void *a, const void *b, size_t n);

/* base64url, no padding: writes 4*ceil(n/3) - pad characters and a NUL; returns the length.
 * out must hold bt_base64url_len(n) + 1 bytes. */
size_t bt_base64url_len(size_t n);
size_t bt_base64url_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly; -1 on any character outside the alphabet, a bad length or more than
 * cap bytes. Returns the byte count. */
long bt_base64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
