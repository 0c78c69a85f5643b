/*
 * codec.h — the encodings SQS's wire and store share: base64 (binary attributes, receipt
 * handles), MD5 and SHA-256 in lower-case hex (MD5OfMessageBody, content-based
 * deduplication), and the character rules for message text. Pure functions over bytes;
 * the digests come from OpenSSL's libcrypto.
 */
#ifndef BT_QUEUE_CODEC_H
#define BT_QUEUE_CODEC_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends the standard base64 (with padding) of data[0..len) to out. */
void qc_base64_encode(const void *data, size_t len, bt_buf *out);
/* Appends the bytes s[0..len) encodes to out; false (out unspecified) unless s is canonical
 * padded standard base64. */
bool qc_base64_decode(const char *s, size_t len, bt_buf *out);

void qc_md5_hex(const void *data, size_t len, char out[33]);
void qc_sha256_hex(const void *data, size_t len, char out[65]);

/* Whether s[0..len) is UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool qc_utf8_ok(const char *s, size_t len);
/* Whether s[0..len) is UTF-8 made only of the characters SQS accepts in a message:
 * #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF (the XML 1.0 set). */
bool qc_text_ok(const char *s, size_t len);
/* Decodes one UTF-8 character at s[*i] (advancing *i); -1 when malformed. */
long qc_utf8_next(const char *s, size_t len, size_t *i);

#endif
