/*
 * err.c — messages for the BT_E* codes of errors.def, and bt_err (a code with its sentence).
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *bt_strerror(int code)
{
    switch (code) {
    case BT_OK:
        return "ok";
#define BT_ERR(name, value, message)                                                               \
    case BT_##name:                                                                                \
        return message;
#include "base/errors.def"
#undef BT_ERR
    default:
        return "unknown error";
    }
}

int bt_err_set(bt_err *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void bt_err_clear(bt_err *err)
{
    if (err != NULL) {
        err->code = BT_OK;
        err->msg[0] = '\0';
    }
}
