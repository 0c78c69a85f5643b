/*
 * fuzz_arn.c — names and ARNs as the API will receive them (base/arn.h): any bytes must be
 * refused with a reason or parsed, and what parses must format back to the same text and
 * hold only valid names.
 */
#include "base/arn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    (void)bt_name_problem(s);
    bt_arn a;
    const char *why = NULL;
    if (bt_arn_parse(s, &a, &why) == 0) {
        char *back = bt_arn_format(&a);
        if (strcmp(back, s) != 0)
            abort();
        if (a.kind != BT_ARN_ACTIVITY && bt_name_problem(a.machine) != NULL)
            abort();
        free(back);
    } else if (why == NULL) {
        abort();
    }
    free(s);
    return 0;
}
