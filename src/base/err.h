/*
 * err.h — C return codes. Fallible functions return 0 or a negative BT_E* code;
 * ASL-level errors (States.*, task errors) are data, carried in a bt_fault (fault.h).
 */
#ifndef BT_ERR_H
#define BT_ERR_H

enum {
    BT_OK = 0,
#define BT_ERR(name, value, message) BT_##name = (value),
#include "base/errors.def"
#undef BT_ERR
};

const char *bt_strerror(int code);

/* A code with the sentence that explains it, for calls whose failures a person reads
 * ("another baton serve (pid 4242) is using ./baton-data"). */
typedef struct bt_err {
    int code;      /* BT_E*, or BT_OK */
    char msg[512]; /* "" when code is BT_OK */
} bt_err;

/* Sets err (when not NULL) and returns code, so that `return bt_err_set(…);` reads. */
int bt_err_set(bt_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void bt_err_clear(bt_err *err);

#endif
