/*
 * codec.h — the encodings SQS's wire and store share: base64 (binary attributes, receipt
 * handles), MD5 and SHA-256 in lower-case hex (MD5OfMessageBody, content-based
 * deduplication), the character rules for message text and the shape of queue URLs. Pure functions
 * over bytes; the digests come from OpenSSL's libcrypto.
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

/*
 * Where a queue URL points: the queue name (copied into name, room for 81 bytes) when its
 * path is /<account>/<name> with this account and, for an AWS host naming a region
 * (sqs.<region>.amazonaws.com, <region>.queue.amazonaws.com), this region. Any other host —
 * queue.amazonaws.com, Baton's own http://host:port, a name clients reach us by — counts
 * by its path alone (clients send the QueueUrl they were given; SQS notes §1.3).
 * Returns 0; 1 when the URL is well formed but names another account or region (the queue
 * does not exist here); -1 when it is not a queue URL.
 */
int qc_parse_queue_url(const char *url, const char *region, const char *account, char name[81]);
/* The same for a request path "/<account>/<name>" (the query protocol's queue URL path). */
int qc_parse_queue_path(const char *path, const char *account, char name[81]);

#endif
