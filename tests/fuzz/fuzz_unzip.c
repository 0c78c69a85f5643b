/*
 * fuzz_unzip.c — the zip reader (base/unzip.h): any bytes are refused with a message or
 * walked to the end, every entry it hands out having a safe name and as many bytes as it
 * says, and the total held to the unpacked quota.
 */
#include "base/unzip.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when some '/'-separated part of name is exactly "." or ".." (a name like
 * "..x/evil" is a plain file name, not a way up). */
static bool has_dot_part(const char *name)
{
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return true;
        p += n;
        if (*p == '/')
            p++;
    }
    return false;
}

static int check(void *ctx, const bt_unzip_entry *e, bt_err *err)
{
    (void)err;
    uint64_t *total = ctx;
    size_t n = strlen(e->name);
    if (n == 0 || e->name[0] == '/' || has_dot_part(e->name) || strchr(e->name, '\\') != NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)e->name[i] < 0x20 || e->name[i] == 0x7f)
            abort();
    if (e->is_dir != (e->name[n - 1] == '/'))
        abort();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < e->len; i++)
        sink ^= e->data[i];
    (void)sink;
    *total += e->len;
    if (*total > BT_UNZIP_MAX_BYTES)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t total = 0;
    bt_err err = {0};
    int rc = bt_unzip_walk(data, size, check, &total, &err);
    if (rc != 0 && (err.code != rc || err.msg[0] == '\0'))
        abort();
    return 0;
}
