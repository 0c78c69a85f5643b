/*
 * form.h — application/x-www-form-urlencoded, as the AWS query protocol sends it (SQS's
 * older clients, SNS): `Action=SendMessage&QueueUrl=…&MessageAttribute.1.Name=…`.
 * '+' is a space, %XX a byte; a malformed escape, a NUL byte or invalid UTF-8 is refused.
 * Keys may repeat (kept in order; bt_form_get returns the first).
 */
#ifndef BT_API_FORM_H
#define BT_API_FORM_H

#include "base/err.h"

#include <stddef.h>

typedef struct bt_form bt_form;

/* Parses s[0..len); NULL with err set (BT_EINVAL, a message naming the offset) if malformed.
 * At most max_pairs pairs (0: 4096), else BT_ELIMIT. */
bt_form *bt_form_parse(const char *s, size_t len, size_t max_pairs, bt_err *err);
void bt_form_free(bt_form *f);
const char *bt_form_get(const bt_form *f, const char *key);
size_t bt_form_len(const bt_form *f);
void bt_form_at(const bt_form *f, size_t i, const char **key, const char **value);

#endif
