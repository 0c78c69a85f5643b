/*
 * intrinsics_json.c — the JSON functions: States.StringToJson, States.JsonToString and
 * States.JsonMerge (shallow only, as AWS). Called by intr_eval's dispatch (intrinsics.c);
 * JsonToString prints through intrinsics_print.c, so its text always parses back.
 */
#include "base/buf.h"
#include "path/intrinsics_int.h"

#include <ctype.h>

/* --- JSON ---------------------------------------------------------------------------------- */

int intr__fn_string_to_json(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1 || !json_is_string(v[0]))
        return intr__invalid(x, FN_STRING_TO_JSON);
    const char *s = json_string_value(v[0]);
    size_t len = json_string_length(v[0]);
    size_t i = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (i == len) { /* AWS parses "" (and blank text) to null */
        *out = json_null();
        return 0;
    }
    json_error_t jerr;
    json_t *r = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (r == NULL)
        return intr__invalid(x, FN_STRING_TO_JSON);
    *out = r;
    return 0;
}

int intr__fn_json_to_string(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    if (n != 1)
        return intr__invalid(x, FN_JSON_TO_STRING);
    bt_buf b;
    bt_buf_init(&b);
    if (intr__put_json(&b, v[0], 1) != 0) {
        bt_buf_fini(&b);
        return intr__too_deep(x);
    }
    *out = intr__take_string(&b);
    return 0;
}

int intr__fn_json_merge(eval_ctx *x, json_t **v, size_t n, json_t **out)
{
    /* Only the shallow merge exists; AWS treats any third argument but true as "shallow". */
    if (n != 3 || !json_is_object(v[0]) || !json_is_object(v[1]) || json_is_true(v[2]))
        return intr__invalid(x, FN_JSON_MERGE);
    json_t *r = json_copy(v[0]);
    json_object_update(r, v[1]);
    *out = r;
    return 0;
}
