/*
 * validate_diag.c — where and how the validator reports: the JSON Pointer of the value being
 * checked, kept as the walk descends (AWS style: /States/A/Catch[0]), and the reports that
 * add a code, a message and that pointer to the bt_diag. Called by every validate_*.c file.
 * Every descent takes a mark and pops back to it, so the pointer always names the current
 * value.
 */
#include "asl/validate_int.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- locations ---------------------------------------------------------------------- */

size_t validate__ptr_key(vctx *v, const char *key)
{
    size_t mark = v->ptr.len;
    bt_buf_putc(&v->ptr, '/');
    bt_diag_pointer_token(&v->ptr, key);
    return mark;
}

size_t validate__ptr_index(vctx *v, size_t i)
{
    size_t mark = v->ptr.len;
    bt_buf_printf(&v->ptr, "[%zu]", i);
    return mark;
}

void validate__ptr_pop(vctx *v, size_t mark)
{
    v->ptr.len = mark;
    if (v->ptr.data)
        v->ptr.data[mark] = '\0';
}

const char *validate__ptr_now(const vctx *v)
{
    return v->ptr.data ? v->ptr.data : "";
}

/* ---- reporting ---------------------------------------------------------------------- */

static void vreport(vctx *v, const char *code, const char *pointer, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void vreport(vctx *v, const char *code, const char *pointer, const char *fmt, va_list ap)
{
    char *msg;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    msg = bt_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    if (n <= 0)
        msg[0] = '\0';
    bt_diag_add(v->diag, code, pointer, "%s", msg);
    free(msg);
}

/* A problem located at the current pointer. */
void validate__report(vctx *v, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(v, code, validate__ptr_now(v), fmt, ap);
    va_end(ap);
}

/* A problem located at field `key` under the current pointer. */
void validate__report_at(vctx *v, const char *key, const char *code, const char *fmt, ...)
{
    size_t mark = validate__ptr_key(v, key);
    va_list ap;
    va_start(ap, fmt);
    vreport(v, code, validate__ptr_now(v), fmt, ap);
    va_end(ap);
    validate__ptr_pop(v, mark);
}

void validate__expected_type(vctx *v, const char *key, const char *type)
{
    validate__report_at(v, key, SCHEMA, "Expected value of type [%s]", type);
}
