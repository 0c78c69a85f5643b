/*
 * fault.c — bt_fault helpers.
 */
#include "base/fault.h"
#include "base/alloc.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void bt_fault_init(bt_fault *f)
{
    f->error = NULL;
    f->cause = NULL;
}

void bt_fault_fini(bt_fault *f)
{
    free(f->error);
    free(f->cause);
    bt_fault_init(f);
}

int bt_fault_set(bt_fault *f, const char *error, const char *cause_fmt, ...)
{
    char *cause = NULL;
    if (cause_fmt) {
        va_list ap, ap2;
        va_start(ap, cause_fmt);
        va_copy(ap2, ap);
        int n = vsnprintf(NULL, 0, cause_fmt, ap);
        va_end(ap);
        cause = bt_xmalloc((size_t)(n < 0 ? 0 : n) + 1);
        vsnprintf(cause, (size_t)(n < 0 ? 0 : n) + 1, cause_fmt, ap2);
        va_end(ap2);
    }
    return bt_fault_take(f, error ? bt_xstrdup(error) : NULL, cause);
}

/* Cuts s after max characters (code points), never inside a UTF-8 sequence. */
static void cap_chars(char *s, size_t max)
{
    size_t n = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && n++ == max) {
            *p = '\0';
            return;
        }
    }
}

int bt_fault_take(bt_fault *f, char *error, char *cause)
{
    bt_fault_fini(f);
    if (error)
        cap_chars(error, BT_FAULT_MAX_ERROR_CHARS);
    if (cause)
        cap_chars(cause, BT_FAULT_MAX_CAUSE_CHARS);
    f->error = error;
    f->cause = cause;
    return BT_EFAULT;
}

void bt_fault_move(bt_fault *dst, bt_fault *src)
{
    bt_fault_fini(dst);
    *dst = *src;
    bt_fault_init(src);
}

bool bt_fault_is_set(const bt_fault *f)
{
    return f->error != NULL || f->cause != NULL;
}
