/*
 * fuzz_jsonata.c — libFuzzer target for src/jsonata/: compiles arbitrary text as a
 * JSONata expression and evaluates what compiles against a fixed document and bindings,
 * with all three limits on (depth, time, memory). A compile error must carry an S0xxx (or
 * U1001) code; an evaluation must end with a value, undefined or an error code — never a
 * crash, a hang or unbounded memory. Frees all.
 */
#include "jsonata/jsonata.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *DOC =
    "{\"Account\": {\"Name\": \"Firefly\", \"Order\": [{\"OrderID\": \"o1\", \"Product\": "
    "[{\"Name\": \"Hat\", \"Price\": 34.45, \"Quantity\": 2, \"Tags\": [\"a\", \"b\"]},"
    " {\"Name\": \"Scarf\", \"Price\": 21.67, \"Quantity\": 1}]}, {\"OrderID\": \"o2\","
    " \"Product\": [{\"Name\": \"Cloak\", \"Price\": 107.99, \"Quantity\": 1}]}]},"
    " \"nums\": [3, 1, 2, -1.5, 1e300], \"s\": \"h\\u00e9llo \\ud83d\\ude00\", \"n\": null,"
    " \"t\": true, \"nested\": [[1, [2]], {\"a\": {\"b\": [{}]}}]}";
static const char *BINDINGS = "{\"x\": 5, \"list\": [1, 2, 3], \"o\": {\"k\": \"v\"}}";

static json_t *doc, *bindings;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (doc == NULL) {
        doc = json_loads(DOC, 0, NULL);
        bindings = json_loads(BINDINGS, 0, NULL);
        if (doc == NULL || bindings == NULL)
            abort();
    }
    if (size > 4096)
        return 0;
    jn_expr *e = NULL;
    jn_error err;
    if (jn_compile((const char *)data, size, &e, &err) != 0) {
        if (e != NULL || err.message == NULL || (err.code[0] != 'S' && err.code[0] != 'U'))
            abort();
        jn_error_fini(&err);
        return 0;
    }
    char *before = json_dumps(doc, JSON_COMPACT);
    jn_limits lim = JN_LIMITS_DEFAULT;
    lim.max_depth = 300;
    lim.time_limit_ms = 200;
    lim.max_memory = 32u * 1024 * 1024;
    const json_t *inputs[] = {doc, NULL, json_array_get(json_object_get(doc, "nums"), 0)};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        json_t *out = NULL;
        int rc = jn_eval(e, inputs[i], i == 0 ? bindings : NULL, NULL, &lim, &out, &err);
        if (rc == 0) {
            json_decref(out);
        } else {
            if (out != NULL || err.code[0] == '\0' || err.message == NULL)
                abort();
            jn_error_fini(&err);
        }
    }
    char *after = json_dumps(doc, JSON_COMPACT);
    if (before == NULL || after == NULL || strcmp(before, after) != 0)
        abort();
    free(before);
    free(after);
    jn_expr_free(e);
    return 0;
}
