/*
 * fn_misc.c — the evaluation's clock: $millis, and $now, which formats it with
 * $fromMillis's picture code (fn_format.c).
 */
#include "jsonata/jsonata_int.h"

static jn_val *f_millis(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)a;
    (void)n;
    return jn_number(cx->arena, jn_ctx_now_ms(cx));
}

/* $now([picture [, timezone]]) — "<s?s?:s>": the evaluation's timestamp as $fromMillis
 * formats it (ISO 8601 in UTC without a picture), as the reference's $now does. */
static jn_val *f_now(jn_ctx *cx, jn_val **a, size_t n)
{
    return jn__from_millis(cx, jn_ctx_now_ms(cx), n > 0 ? a[0] : NULL, n > 1 ? a[1] : NULL);
}

const jn_builtin jn__fn_misc[] = {
    {"millis", "<:n>", f_millis},
    {"now", "<s?s?:s>", f_now},
    {NULL, NULL, NULL},
};
