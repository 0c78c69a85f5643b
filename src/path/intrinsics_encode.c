/*
 * intrinsics_encode.c — the encoding and hashing functions: States.Base64Encode,
 * States.Base64Decode (lenient, malformed UTF-8 replaced as Java's decoder does) and
 * States.Hash (MD5, SHA-1, SHA-2 through OpenSSL's EVP). Called by intr_eval's dispatch
 * (intrinsics.c). Inputs are capped at MAX_STRING_UNITS UTF-16 code units, as AWS caps them.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "path/intrinsics_int.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

#define MAX_STRING_UNITS 10000 /* Base64 and Hash input limit, in UTF-16 code units */

/* ------------------------------------------------------------------------------------------ */
/* UTF-8 helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Java's String.length(): UTF-16 code units. */
static size_t utf16_length(const char *s, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

/* Appends bytes as UTF-8, replacing malformed sequences with U+FFFD as Java's decoder does. */
static void put_utf8_lossy(bt_buf *b, const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = 0;
        uint32_t min = 0;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 2, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, min = 0x10000;
        bool ok = n > 0 && i + n <= len;
        uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; ok && k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                ok = false;
            v = (v << 6) | (s[i + k] & 0x3Fu);
        }
        if (ok && n > 1 && (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)))
            ok = false;
        if (ok) {
            bt_buf_append(b, (const char *)s + i, n);
            i += n;
        } else {
            bt_buf_puts(b, "\xEF\xBF\xBD");
            i++;
        }
    }
}

/* --- Encoding and hashing ------------------------------------------------------------------ */

int intr__fn_base64_encode(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n != 1 || !json_is_string(v[0]))
        return intr__invalid(x, FN_BASE64_ENCODE);
    const unsigned char *s = (const unsigned char *)json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    if (utf16_length((const char *)s, len) > MAX_STRING_UNITS)
        return intr__invalid(x, FN_BASE64_ENCODE);
    bt_buf b;
    bt_buf_init(&b);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            w |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            w |= s[i + 2];
        char q[4] = {alphabet[(w >> 18) & 63], alphabet[(w >> 12) & 63], '=', '='};
        if (i + 1 < len)
            q[2] = alphabet[(w >> 6) & 63];
        if (i + 2 < len)
            q[3] = alphabet[w & 63];
        bt_buf_append(&b, q, 4);
    }
    *out = intr__take_string(&b);
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/*
 * Lenient like the decoder AWS uses: characters outside the alphabet are skipped, '=' ends
 * the data, and a partial final group yields the bytes it completes.
 */
int intr__fn_base64_decode(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_string(v[0]))
        return intr__invalid(x, FN_BASE64_DECODE);
    const unsigned char *s = (const unsigned char *)json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    if (utf16_length((const char *)s, len) > MAX_STRING_UNITS)
        return intr__invalid(x, FN_BASE64_DECODE);
    unsigned char *bytes = bt_xmalloc(len / 4 * 3 + 3);
    size_t nb = 0;
    uint32_t acc = 0;
    int have = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        int d = b64_value(s[i]);
        if (d < 0)
            continue;
        acc = (acc << 6) | (uint32_t)d;
        if (++have == 4) {
            bytes[nb++] = (unsigned char)(acc >> 16);
            bytes[nb++] = (unsigned char)(acc >> 8);
            bytes[nb++] = (unsigned char)acc;
            acc = 0;
            have = 0;
        }
    }
    if (have == 2) {
        bytes[nb++] = (unsigned char)(acc >> 4);
    } else if (have == 3) {
        bytes[nb++] = (unsigned char)(acc >> 10);
        bytes[nb++] = (unsigned char)(acc >> 2);
    }
    bt_buf b;
    bt_buf_init(&b);
    put_utf8_lossy(&b, bytes, nb);
    free(bytes);
    *out = intr__take_string(&b);
    return 0;
}

int intr__fn_hash(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } algorithms[] = {
        {"MD5", EVP_md5},        {"SHA-1", EVP_sha1},     {"SHA-256", EVP_sha256},
        {"SHA-384", EVP_sha384}, {"SHA-512", EVP_sha512},
    };
    if (n != 2 || !json_is_string(v[1]))
        return intr__invalid(x, FN_HASH);
    const EVP_MD *md = NULL;
    for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
        if (strcmp(json_string_value(v[1]), algorithms[i].name) == 0)
            md = algorithms[i].md();
    }
    if (md == NULL)
        return intr__invalid(x, FN_HASH);
    /* AWS hashes a non-string value's text form rather than rejecting it. */
    bt_buf data;
    bt_buf_init(&data);
    if (intr__put_text(&data, v[0], 1) != 0) {
        bt_buf_fini(&data);
        return intr__too_deep(x);
    }
    if (utf16_length(data.data ? data.data : "", data.len) > MAX_STRING_UNITS) {
        bt_buf_fini(&data);
        return intr__invalid(x, FN_HASH);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int ok = EVP_Digest(data.data ? data.data : "", data.len, digest, &dlen, md, NULL);
    bt_buf_fini(&data);
    if (!ok)
        return intr__invalid(x, FN_HASH);
    static const char hex[] = "0123456789abcdef";
    char text[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned int i = 0; i < dlen; i++) {
        text[2 * i] = hex[digest[i] >> 4];
        text[2 * i + 1] = hex[digest[i] & 15];
    }
    text[2 * dlen] = '\0';
    *out = json_string(text);
    return 0;
}
