/*
 * expr.c — parsing rate/cron/at expressions and finding their next fire (expr.h). The
 * cron search walks days forward from the wall date of the last fire (each day checked
 * against the year, month and the two day fields), and within a matching day the allowed
 * hours and minutes, each wall time turned into an instant through the zone; at most the
 * years up to 2199, so it always ends.
 */
#include "sched/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int invalid(bt_err *err, const char *why)
{
    return bt_err_set(err, BT_EINVAL, "%s (%s)", SCHED_EXPR_INVALID, why);
}

/* ---- calendar ---- */

int64_t sched_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sched_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* 1 = Sunday … 7 = Saturday (cron's numbering). */
static int cron_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    if (w < 0)
        w += 7;
    return (int)w + 1;
}

/* ---- rate and at ---- */

static int parse_rate(const char *body, size_t len, sched_expr *out, bt_err *err)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return invalid(err, "a rate is rate(<number> <unit>)");
    memcpy(buf, body, len);
    buf[len] = '\0';
    const char *sp = strchr(buf, ' ');
    if (sp == NULL || sp == buf)
        return invalid(err, "a rate is rate(<number> <unit>)");
    for (const char *q = buf; q < sp; q++)
        if (!isdigit((unsigned char)*q))
            return invalid(err, "a rate needs a positive whole number");
    if (sp - buf > 9)
        return invalid(err, "the rate's number is too large");
    long n = strtol(buf, NULL, 10);
    if (n < 1)
        return invalid(err, "a rate needs a positive whole number");
    const char *unit = sp + 1;
    static const struct {
        const char *one, *many;
        int64_t s;
    } units[] = {{"minute", "minutes", 60}, {"hour", "hours", 3600}, {"day", "days", 86400}};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(unit, n == 1 ? units[i].one : units[i].many) == 0) {
            out->kind = SCHED_RATE;
            out->rate_s = (int64_t)n * units[i].s;
            return 0;
        }
    return invalid(err, n == 1 ? "the unit of rate(1 …) is minute, hour or day"
                               : "the unit of a rate above 1 is minutes, hours or days");
}

static bool two_digits(const char *p, int *v)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return false;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

static int parse_at(const char *b, size_t len, sched_expr *out, bt_err *err)
{
    int y1, y2, mo, d, h, mi, s;
    if (len != 19 || !two_digits(b, &y1) || !two_digits(b + 2, &y2) || b[4] != '-' ||
        !two_digits(b + 5, &mo) || b[7] != '-' || !two_digits(b + 8, &d) || b[10] != 'T' ||
        !two_digits(b + 11, &h) || b[13] != ':' || !two_digits(b + 14, &mi) || b[16] != ':' ||
        !two_digits(b + 17, &s))
        return invalid(err, "a one-time schedule is at(yyyy-mm-ddThh:mm:ss)");
    int y = y1 * 100 + y2;
    if (y < SCHED_YEAR_MIN || y > SCHED_YEAR_MAX || mo < 1 || mo > 12 || d < 1 ||
        d > month_days(y, mo) || h > 23 || mi > 59 || s > 59)
        return invalid(err, "the date or time of at(…) does not exist");
    out->kind = SCHED_AT;
    out->at_wall = sched_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

/* ---- cron ---- */

typedef struct field_spec {
    const char *what;
    int lo, hi;
    const char *const *names; /* names[i] is value lo + i */
} field_spec;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* A number or (where the field has them) a name, the whole of [p, end). */
static bool parse_value(const field_spec *f, const char *p, const char *end, int *v)
{
    size_t n = (size_t)(end - p);
    if (n == 0)
        return false;
    if (f->names && n == 3) {
        for (int i = 0; i <= f->hi - f->lo; i++)
            if (strncasecmp(p, f->names[i], 3) == 0) {
                *v = f->lo + i;
                return true;
            }
    }
    if (n > 4)
        return false;
    int x = 0;
    for (const char *q = p; q < end; q++) {
        if (!isdigit((unsigned char)*q))
            return false;
        x = x * 10 + (*q - '0');
    }
    if (x < f->lo || x > f->hi)
        return false;
    *v = x;
    return true;
}

/* One term without L/W/#: * | a | a-b, then optionally /step. Sets bits in set (bit v). */
static bool parse_term(const field_spec *f, const char *p, const char *end, uint64_t *set)
{
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *range_end = slash ? slash : end;
    int lo, hi, step = 1;
    if (range_end - p == 1 && *p == '*') {
        lo = f->lo;
        hi = f->hi;
    } else {
        const char *dash = memchr(p, '-', (size_t)(range_end - p));
        if (dash) {
            if (!parse_value(f, p, dash, &lo) || !parse_value(f, dash + 1, range_end, &hi) ||
                lo > hi)
                return false;
        } else {
            if (!parse_value(f, p, range_end, &lo))
                return false;
            hi = slash ? f->hi : lo; /* a/s: from a to the end of the field */
        }
    }
    if (slash) {
        field_spec num = {f->what, 1, 1000, NULL};
        if (!parse_value(&num, slash + 1, end, &step))
            return false;
    }
    for (int v = lo; v <= hi; v += step)
        set[(v - f->lo) / 64] |= (uint64_t)1 << ((v - f->lo) % 64);
    return true;
}

/* A field of terms separated by ','; set is indexed from f->lo. */
static bool parse_list(const field_spec *f, const char *text, uint64_t *set)
{
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        if (!parse_term(f, p, end, set))
            return false;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

static const field_spec f_min = {"minutes", 0, 59, NULL};
static const field_spec f_hour = {"hours", 0, 23, NULL};
static const field_spec f_dom = {"day-of-month", 1, 31, NULL};
static const field_spec f_month = {"month", 1, 12, month_names};
static const field_spec f_dow = {"day-of-week", 1, 7, day_names};
static const field_spec f_year = {"year", SCHED_YEAR_MIN, SCHED_YEAR_MAX, NULL};

static bool parse_dom(const char *t, sched_expr *e)
{
    if (strcmp(t, "?") == 0)
        return e->dom_any = true;
    if (strcmp(t, "L") == 0)
        return e->dom_last = true;
    if (strcmp(t, "LW") == 0)
        return e->dom_last_weekday = true;
    size_t n = strlen(t);
    if (n >= 2 && t[n - 1] == 'W') {
        int d;
        if (!parse_value(&f_dom, t, t + n - 1, &d))
            return false;
        e->dom_nearest_weekday = d;
        return true;
    }
    uint64_t set = 0;
    if (!parse_list(&f_dom, t, &set))
        return false;
    e->days = (uint32_t)(set << 1);
    return true;
}

static bool parse_dow(const char *t, sched_expr *e)
{
    if (strcmp(t, "?") == 0)
        return e->dow_any = true;
    if (strcmp(t, "L") == 0) {
        e->weekdays = 1u << 7; /* Saturday, the last day of the week */
        return true;
    }
    size_t n = strlen(t);
    const char *hash = strchr(t, '#');
    if (hash) {
        int d, k;
        field_spec nth = {"week", 1, 5, NULL};
        return parse_value(&f_dow, t, hash, &d) && parse_value(&nth, hash + 1, t + n, &k) &&
               (e->dow_nth_day = d, e->dow_nth = k, true);
    }
    if (n >= 2 && t[n - 1] == 'L') {
        int d;
        if (!parse_value(&f_dow, t, t + n - 1, &d))
            return false;
        e->dow_last = d;
        return true;
    }
    uint64_t set = 0;
    if (!parse_list(&f_dow, t, &set))
        return false;
    e->weekdays = (uint8_t)(set << 1);
    return true;
}

static int parse_cron(const char *body, size_t len, sched_expr *e, bt_err *err)
{
    char buf[SCHED_EXPR_MAX + 1];
    if (len == 0 || len >= sizeof buf)
        return invalid(err, "a cron expression has six fields");
    memcpy(buf, body, len);
    buf[len] = '\0';
    char *fields[6];
    int n = 0;
    char *p = buf;
    bool more = true;
    while (n < 6 && more) {
        fields[n++] = p;
        char *sp = strchr(p, ' ');
        more = sp != NULL;
        if (more) {
            *sp = '\0';
            p = sp + 1;
        }
    }
    if (n != 6 || more)
        return invalid(err, "a cron expression has six fields: minutes hours day-of-month "
                            "month day-of-week year");
    for (int i = 0; i < 6; i++)
        if (fields[i][0] == '\0')
            return invalid(err, "a cron field is empty");
    e->kind = SCHED_CRON;
    uint64_t set[4] = {0};
    if (!parse_list(&f_min, fields[0], set))
        return invalid(err, "minutes are 0-59");
    e->minutes = set[0];
    set[0] = 0;
    if (!parse_list(&f_hour, fields[1], set))
        return invalid(err, "hours are 0-23");
    e->hours = (uint32_t)set[0];
    if (!parse_dom(fields[2], e))
        return invalid(err, "day-of-month is 1-31, L, LW, nW or ?");
    set[0] = 0;
    if (!parse_list(&f_month, fields[3], set))
        return invalid(err, "months are 1-12 or JAN-DEC");
    e->months = (uint16_t)(set[0] << 1);
    if (!parse_dow(fields[4], e))
        return invalid(err, "day-of-week is 1-7 or SUN-SAT (1 is Sunday), nL, n#k or ?");
    if (!parse_list(&f_year, fields[5], e->years))
        return invalid(err, "years are 1970-2199");
    if (e->dom_any == e->dow_any)
        return invalid(err, "exactly one of day-of-month and day-of-week must be ?");
    return 0;
}

int sched_expr_parse(const char *text, bool allow_at, sched_expr *out, bt_err *err)
{
    memset(out, 0, sizeof *out);
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > SCHED_EXPR_MAX || text[len - 1] != ')')
        return invalid(err, "not rate(…) or cron(…)");
    if (strncmp(text, "rate(", 5) == 0)
        return parse_rate(text + 5, len - 6, out, err);
    if (strncmp(text, "cron(", 5) == 0)
        return parse_cron(text + 5, len - 6, out, err);
    if (allow_at && strncmp(text, "at(", 3) == 0)
        return parse_at(text + 3, len - 4, out, err);
    return invalid(err, allow_at ? "not rate(…), cron(…) or at(…)" : "not rate(…) or cron(…)");
}

/* ---- the next fire ---- */

static bool year_ok(const sched_expr *e, int y)
{
    if (y < SCHED_YEAR_MIN || y > SCHED_YEAR_MAX)
        return false;
    int i = y - SCHED_YEAR_MIN;
    return (e->years[i / 64] >> (i % 64)) & 1;
}

/* The weekday nearest day n of the month, in the month (Quartz's nW). */
static int nearest_weekday(int y, int m, int n)
{
    int last = month_days(y, m);
    if (n > last)
        return -1; /* 31W in a 30-day month: no day */
    int w = cron_weekday(sched_days_from_civil(y, m, n));
    if (w == 7) /* Saturday: Friday, or Monday when Friday is last month */
        return n == 1 ? 3 : n - 1;
    if (w == 1) /* Sunday: Monday, or Friday when Monday is next month */
        return n == last ? n - 2 : n + 1;
    return n;
}

static bool day_ok(const sched_expr *e, int y, int m, int d)
{
    int last = month_days(y, m);
    if (!e->dom_any) {
        if (e->dom_last)
            return d == last;
        if (e->dom_last_weekday)
            return d == nearest_weekday(y, m, last);
        if (e->dom_nearest_weekday)
            return d == nearest_weekday(y, m, e->dom_nearest_weekday);
        return (e->days >> d) & 1;
    }
    int w = cron_weekday(sched_days_from_civil(y, m, d));
    if (e->dow_last)
        return w == e->dow_last && d + 7 > last;
    if (e->dow_nth)
        return w == e->dow_nth_day && (d - 1) / 7 + 1 == e->dow_nth;
    return (e->weekdays >> w) & 1;
}

static int64_t next_cron(const sched_expr *e, const sched_tz *z, int64_t after_s)
{
    int64_t wall_after = after_s + sched_tz_offset(z, after_s);
    /* Start a day early: around a fall-back hour the wall date can lag the instant. */
    int64_t day = (wall_after >= 0 ? wall_after / 86400 : (wall_after - 86399) / 86400) - 1;
    int64_t end = sched_days_from_civil(SCHED_YEAR_MAX + 1, 1, 1);
    while (day < end) {
        int y, m, d;
        sched_civil_from_days(day, &y, &m, &d);
        if (!year_ok(e, y)) {
            if (y > SCHED_YEAR_MAX)
                return -1;
            day = sched_days_from_civil(y + 1, 1, 1);
            continue;
        }
        if (!((e->months >> m) & 1)) {
            day = m == 12 ? sched_days_from_civil(y + 1, 1, 1) : sched_days_from_civil(y, m + 1, 1);
            continue;
        }
        if (day_ok(e, y, m, d)) {
            for (int h = 0; h < 24; h++) {
                if (!((e->hours >> h) & 1))
                    continue;
                int64_t hour_wall = day * 86400 + h * 3600;
                if (hour_wall + 3600 + 86400 < wall_after)
                    continue; /* long past (offsets are within a day) */
                for (int mi = 0; mi < 60; mi++) {
                    if (!((e->minutes >> mi) & 1))
                        continue;
                    int64_t u = sched_tz_from_wall(z, hour_wall + mi * 60);
                    if (u != INT64_MIN && u > after_s)
                        return u;
                }
            }
        }
        day++;
    }
    return -1;
}

int64_t sched_expr_next(const sched_expr *e, const sched_tz *z, int64_t anchor_s, int64_t after_s)
{
    switch (e->kind) {
    case SCHED_RATE: {
        if (after_s < anchor_s)
            return anchor_s + e->rate_s;
        int64_t k = (after_s - anchor_s) / e->rate_s + 1;
        return anchor_s + k * e->rate_s;
    }
    case SCHED_AT: {
        int64_t u = sched_tz_from_wall(z, e->at_wall);
        if (u == INT64_MIN) /* in a gap: the first instant after it */
            u = sched_tz_from_wall(z, e->at_wall + 3600);
        return u != INT64_MIN && u > after_s ? u : -1;
    }
    case SCHED_CRON:
        return next_cron(e, z, after_s);
    }
    return -1;
}
