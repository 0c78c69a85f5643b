/*
 * fuzz_unzip.c — the zip reader (base/unzip.h): any bytes are refused with a message or
 * walked to the end, every entry it hands out having a safe name and as many bytes as it
 * says, and the total held to the unpacked quota.
 */
#include "base/unzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const bt_unzip_entry *e, bt_err *err)
{
    (void)err;
    uint64_t *total = ctx;
    size_t n = strlen(e->name);
    if (n == 0 || e->name[0] == '/' || strstr(e->name, "..") == e->name ||
        strstr(e->name, "/../") != NULL || strchr(e->name, '\\') != NULL)
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
