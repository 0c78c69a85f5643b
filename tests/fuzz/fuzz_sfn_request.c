/*
 * fuzz_sfn_request.c — AWS JSON 1.0 bodies of the Step Functions API as the router hands them
 * on: the first byte picks an operation, the rest is the body. Whatever parses as an object
 * must be checked without a crash; a refusal carries AWS's error type and a message, a request
 * that passes passes again (the check only takes out null members), and an unknown
 * operation is refused with its own error.
 */
#include "api/sfn.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    const char *op = api_sfn_op_name(data[0] % api_sfn_n_ops());
    json_t *req = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (req == NULL || !json_is_object(req)) {
        json_decref(req);
        return 0;
    }
    sfn_err err = {0};
    if (api_sfn_check(op, req, &err) != 0) {
        if (err.type == NULL || err.message[0] == '\0')
            abort();
        if (strcmp(err.type, "ValidationException") != 0 &&
            strcmp(err.type, "SerializationException") != 0)
            abort();
    } else if (api_sfn_check(op, req, &err) != 0) {
        abort(); /* checking is idempotent: a request that passed passes again */
    }
    /* An unknown operation is refused with its own error. */
    sfn_err e2 = {0};
    if (api_sfn_check("NoSuchOperation", req, &e2) == 0 ||
        strcmp(e2.type, "UnknownOperationException") != 0)
        abort();
    json_decref(req);
    return 0;
}
