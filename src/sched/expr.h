/*
 * expr.h — schedule expressions and time zones: EventBridge's rate(…) and six-field cron(…),
 * EventBridge Scheduler's at(…), and when each fires next.
 *
 *   rate(1 minute) rate(5 minutes) rate(1 hour) rate(2 days)   every period from an anchor
 *   cron(min hour day-of-month month day-of-week year)          wall time in the zone
 *   at(2025-01-31T09:00:00)                                      once, wall time in the zone
 *
 * Cron fields: minutes 0–59, hours 0–23, day-of-month 1–31, month 1–12 or JAN–DEC,
 * day-of-week 1–7 = SUN–SAT or SUN–SAT, year 1970–2199; terms `*`, `a`, `a-b`, `a/s`,
 * `a-b/s`, `*\/s`, lists with `,`; `?` (either day field; exactly one of the two is `?`);
 * day-of-month `L` (last day), `LW` (last weekday), `nW` (the weekday nearest day n, in the
 * same month); day-of-week `L` (Saturday), `nL` (the last weekday n of the month), `n#k`
 * (the k-th weekday n). Anything else is refused with SCHED_EXPR_INVALID, the text
 * EventBridge answers (notes §5.1, recorded valid and invalid lists in expr_test.c).
 *
 * Time zones are IANA names read from /usr/share/zoneinfo (TZif, with the POSIX rule of its
 * footer for times past the last transition); the process's TZ is never touched. In a zone
 * with daylight saving time a wall time that does not exist (spring forward) is skipped and
 * one that repeats (fall back) fires once, at its first occurrence (EventBridge Scheduler's
 * rule, notes §5.4).
 */
#ifndef BT_SCHED_EXPR_H
#define BT_SCHED_EXPR_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_EXPR_INVALID "Parameter ScheduleExpression is not valid."
#define SCHED_EXPR_MAX     256
#define SCHED_YEAR_MIN     1970
#define SCHED_YEAR_MAX     2199

typedef enum sched_kind {
    SCHED_RATE,
    SCHED_CRON,
    SCHED_AT,
} sched_kind;

typedef struct sched_expr {
    sched_kind kind;
    int64_t rate_s;  /* SCHED_RATE: the period */
    int64_t at_wall; /* SCHED_AT: the wall time, as seconds since the epoch read as UTC */
    /* SCHED_CRON: bit sets of the values each field allows */
    uint64_t minutes;
    uint32_t hours;
    uint32_t days;     /* bit d: day-of-month d (1–31) */
    uint16_t months;   /* bit m: month m (1–12) */
    uint8_t weekdays;  /* bit w: day-of-week w (1 = SUN … 7 = SAT) */
    uint64_t years[4]; /* bit y - 1970 */
    bool dom_any, dow_any;
    bool dom_last;            /* L */
    bool dom_last_weekday;    /* LW */
    int dom_nearest_weekday;  /* nW: n, else 0 */
    int dow_last;             /* nL: n (1–7), else 0 */
    int dow_nth_day, dow_nth; /* n#k: n (1–7) and k (1–5), else 0 */
} sched_expr;

/* Parses text; allow_at takes at(…) too (Scheduler and the project file; EventBridge rules
 * take rate and cron only). 0, or BT_EINVAL with SCHED_EXPR_INVALID in err and the reason
 * after it. */
int sched_expr_parse(const char *text, bool allow_at, sched_expr *out, bt_err *err);

/* A time zone (immutable once loaded; any thread). */
typedef struct sched_tz sched_tz;

/* NULL or "UTC": UTC. BT_ENOTFOUND when the name is not a zone of /usr/share/zoneinfo,
 * BT_EINVAL when the file cannot be read as TZif. */
int sched_tz_load(const char *name, sched_tz **out, bt_err *err);
/* Zone from a TZif file's bytes (tests). */
int sched_tz_from_tzif(const char *name, const unsigned char *data, size_t len, sched_tz **out,
                       bt_err *err);
void sched_tz_free(sched_tz *z);
const char *sched_tz_name(const sched_tz *z);
/* Seconds east of UTC at the instant (seconds since the epoch). */
int32_t sched_tz_offset(const sched_tz *z, int64_t utc_s);
/* The first instant whose wall time is wall (seconds since the epoch read as UTC), or
 * INT64_MIN when the wall time does not exist there (a gap). */
int64_t sched_tz_from_wall(const sched_tz *z, int64_t wall);

/* The first fire strictly after after_s (seconds since the epoch), or -1 when there is none
 * (an at(…) that has passed, a cron whose years are over). Rates fire at anchor_s + k·period,
 * k ≥ 1; cron and at read wall times in z (NULL: UTC). */
int64_t sched_expr_next(const sched_expr *e, const sched_tz *z, int64_t anchor_s, int64_t after_s);

/* Days since 1970-01-01 of a civil date, and back; weekday 0 = Sunday. */
int64_t sched_days_from_civil(int y, int m, int d);
void sched_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif
