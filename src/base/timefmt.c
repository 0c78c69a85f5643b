/*
 * timefmt.c — conversion between epoch milliseconds and the ISO-8601 text AWS uses.
 * Used by the Wait state, the Timestamp* Choice operators, the context object and history.
 * Calendar arithmetic is proleptic Gregorian on days since 1970-01-01 (no leap seconds,
 * as in Java's java.time, which AWS runs), so every valid date maps to one instant.
 */
#include "base/timefmt.h"

#include <stdio.h>

#define MS_PER_DAY  86400000LL
#define SEC_PER_DAY 86400LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && is_leap(y))
        return 29;
    return days[m - 1];
}

/* Days since 1970-01-01 of a civil date; eras of 400 years keep the arithmetic exact. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void bt_time_format(int64_t epoch_ms, char *out, size_t outlen)
{
    /* four-digit years only: a time outside them is shown at the nearest end */
    if (epoch_ms < BT_TIME_MIN_MS)
        epoch_ms = BT_TIME_MIN_MS;
    if (epoch_ms > BT_TIME_MAX_MS)
        epoch_ms = BT_TIME_MAX_MS;
    int64_t days = floor_div(epoch_ms, MS_PER_DAY);
    int64_t ms_of_day = epoch_ms - days * MS_PER_DAY;
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    int hour = (int)(ms_of_day / 3600000);
    int minute = (int)(ms_of_day / 60000 % 60);
    int second = (int)(ms_of_day / 1000 % 60);
    int milli = (int)(ms_of_day % 1000);
    snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)year, month, day,
             hour, minute, second, milli);
}

/* Reads exactly n ASCII digits at *p; advances *p on success. */
static bool digits(const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *value = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool bt_time_parse_rfc3339_ns(const char *s, int64_t *epoch_ms, int32_t *nanos)
{
    const char *p = s;
    int year, month, day, hour, minute, second;
    if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &month) || !expect(&p, '-') ||
        !digits(&p, 2, &day) || !expect(&p, 'T') || !digits(&p, 2, &hour) || !expect(&p, ':') ||
        !digits(&p, 2, &minute) || !expect(&p, ':') || !digits(&p, 2, &second))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;
    if (hour > 23 || minute > 59 || second > 59)
        return false;

    int32_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (++n > 9)
                return false;
            frac = frac * 10 + (*p - '0');
            p++;
        }
        if (n == 0)
            return false;
        for (; n < 9; n++)
            frac *= 10;
    }

    int offset_sec = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        p++;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
            return false;
        /* java.time's ZoneOffset bound: at most 18 hours either way. */
        if (om > 59 || oh * 60 + om > 18 * 60)
            return false;
        offset_sec = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;

    int64_t secs = days_from_civil(year, month, day) * SEC_PER_DAY + hour * 3600 + minute * 60 +
                   second - offset_sec;
    if (epoch_ms)
        *epoch_ms = secs * 1000 + frac / 1000000;
    if (nanos)
        *nanos = frac;
    return true;
}

bool bt_time_parse_rfc3339(const char *s, int64_t *epoch_ms)
{
    return bt_time_parse_rfc3339_ns(s, epoch_ms, NULL);
}
