/*
 * fuzz_form.c — the query protocol's form decoder (api/form.h): any bytes are refused or
 * decoded into pairs of NUL-free UTF-8 whose lookups agree with their order.
 */
#include "api/form.h"
#include "queue/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_err err;
    bt_form *f = bt_form_parse((const char *)data, size, 64, &err);
    if (f == NULL) {
        if (err.code == 0 || err.msg[0] == '\0')
            abort();
        return 0;
    }
    for (size_t i = 0; i < bt_form_len(f); i++) {
        const char *k, *v;
        bt_form_at(f, i, &k, &v);
        if (!qc_utf8_ok(k, strlen(k)) || !qc_utf8_ok(v, strlen(v)))
            abort();
        const char *first = bt_form_get(f, k);
        if (first == NULL)
            abort();
    }
    bt_form_free(f);
    return 0;
}
