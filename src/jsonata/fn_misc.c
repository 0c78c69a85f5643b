/*
 * fn_misc.c — date/time basics that need no picture string ($now, $millis). The picture
 * forms ($now(picture, tz), $fromMillis, $toMillis) belong to the formatting code.
 */
#include "jsonata/jsonata_int.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

static jn_val *f_millis(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)a;
    (void)n;
    return jn_number(cx->arena, jn_ctx_now_ms(cx));
}

static jn_val *f_now(jn_ctx *cx, jn_val **a, size_t n)
{
    (void)a;
    (void)n;
    double ms = jn_ctx_now_ms(cx);
    time_t secs = (time_t)floor(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)fmod(ms, 1000));
    return jn_cstring(cx->arena, buf);
}

const jn_builtin jn__fn_misc[] = {
    {"millis", "<:n>", f_millis},
    {"now", "<s?s?:s>", f_now},
    {NULL, NULL, NULL},
};
