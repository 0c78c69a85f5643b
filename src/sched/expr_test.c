/*
 * expr_test.c — schedule expressions (sched/expr.c, tz.c): the valid and invalid lists
 * recorded against EventBridge (notes §5.1), the next fire of rates, cron (L, W, #, leap
 * years, month ends, year bounds) and at, and daylight saving time in Europe/Berlin and
 * America/New_York (a wall time in the spring gap is skipped, the repeated hour fires once).
 */
#include "base/timefmt.h"
#include "sched/expr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static bool valid(const char *text, bool allow_at)
{
    sched_expr e;
    bt_err err = {0};
    int rc = sched_expr_parse(text, allow_at, &e, &err);
    if (rc != 0)
        assert_int_equal(strncmp(err.msg, SCHED_EXPR_INVALID, strlen(SCHED_EXPR_INVALID)), 0);
    return rc == 0;
}

static void test_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        /* recorded valid (LocalStack's snapshots against AWS) */
        "cron(0 2 ? * SAT *)", "cron(5,35 14 * * ? *)", "cron(15 10 ? * 6L 2002-2005)",
        "cron(0 2 ? * SAT#3 *)", "cron(* * ? * SAT#3 *)", "cron(0/5 5 ? JAN 1-5 2022)",
        "cron(0/30 20-23 ? * MON-FRI *)",
        /* range with step, accepted by AWS */
        "cron(0-15/1 * * * ? *)", "cron(0 0 1-31/30 * ? *)",
        /* the rest of the syntax */
        "cron(0 12 ? * 1 *)", "cron(0 12 ? * 7 *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)", "cron(0 0 ? * L *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * 2#5 *)",
        "cron(0 0 1 JAN-DEC ? 1970-2199)", "cron(*/10 * * * ? *)", "cron(0 0 ? * SUN,SAT *)",
        "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(2 hours)", "rate(1 day)",
        "rate(7 days)"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!valid(ok[i], false))
            fail_msg("refused %s", ok[i]);
    }
    assert_true(valid("at(2024-02-29T12:00:00)", true));
    assert_false(valid("at(2024-02-29T12:00:00)", false)); /* rules take rate and cron only */
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* recorded invalid rates */
        "rate(10 seconds)", "rate(10 years)", "rate(0 minutes)", "rate(-10 minutes)",
        "rate(10 MINUTES)", "rate( 10 minutes )", " rate(10 minutes)", "rate(10)", "rate()",
        /* singular only for 1 */
        "rate(1 minutes)", "rate(5 minute)", "rate(1 hours)", "rate(5 hour)", "rate(1 days)",
        /* recorded invalid cron */
        "cron(7 20 * * NOT *)", "cron(INVALID)", "cron(0 dummy ? * MON-FRI *)",
        "cron(71 8 1 * ? *)", "cron(0 1 * * * *)", "cron(7 20 * * 1-7 *)",
        /* day-of-week is 1–7 (0 is not Sunday), one # term, k ≤ 5 */
        "cron(0 0 ? * 0 *)", "cron(0 0 ? * 8 *)", "cron(0 0 ? * 2#6 *)", "cron(0 0 ? * 2#1,3#2 *)",
        /* both days ?, fields out of range, years out of bounds, wrong field counts */
        "cron(0 0 ? * ? *)", "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 * 13 ? *)",
        "cron(0 0 0 * ? *)", "cron(0 0 * * ? 1969)", "cron(0 0 * * ? 2200)", "cron(0 0 * * ?)",
        "cron(0 0 * * ? * *)", "cron(0  0 * * ? *)", "cron(5-1 0 * * ? *)", "cron(0/0 0 * * ? *)",
        "cron()", "", "nonsense", "cron(0 0 * * ? *", "cron(0 0 ?W * ? *)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (valid(bad[i], true))
            fail_msg("accepted %s", bad[i]);
    }
    assert_false(valid("at(2024-02-30T00:00:00)", true)); /* no such day */
    assert_false(valid("at(2023-02-29T00:00:00)", true)); /* not a leap year */
    assert_false(valid("at(2200-01-01T00:00:00)", true));
    assert_false(valid("at(2024-01-01 00:00:00)", true));
    assert_false(valid("at(2024-01-01T24:00:00)", true));
    char longer[300];
    memset(longer, '1', sizeof longer);
    memcpy(longer, "cron(", 5);
    memcpy(longer + 290, " * ? * *)", 10);
    assert_false(valid(longer, false));
    sched_expr e;
    bt_err err = {0};
    assert_int_equal(sched_expr_parse("rate(10 MINUTES)", false, &e, &err), BT_EINVAL);
    assert_int_equal(strncmp(err.msg, "Parameter ScheduleExpression is not valid.", 42), 0);
}

static int64_t secs(const char *iso)
{
    int64_t ms;
    assert_true(bt_time_parse_rfc3339(iso, &ms));
    return ms / 1000;
}

/* The next fire after `after` (ISO, UTC), as "2024-01-01T00:00:00.000Z" or "none". */
static const char *next_in(const char *text, const char *zone, const char *after)
{
    static char out[40];
    sched_expr e;
    bt_err err = {0};
    if (sched_expr_parse(text, true, &e, &err) != 0)
        fail_msg("%s: %s", text, err.msg);
    sched_tz *z = NULL;
    assert_int_equal(sched_tz_load(zone, &z, &err), 0);
    int64_t t = sched_expr_next(&e, z, 0, secs(after));
    sched_tz_free(z);
    if (t < 0)
        return "none";
    bt_time_format(t * 1000, out, sizeof out);
    return out;
}

static const char *next_utc(const char *text, const char *after)
{
    return next_in(text, NULL, after);
}

static void test_rate(void **state)
{
    (void)state;
    sched_expr e;
    bt_err err = {0};
    assert_int_equal(sched_expr_parse("rate(5 minutes)", false, &e, &err), 0);
    assert_int_equal(e.rate_s, 300);
    assert_int_equal(sched_expr_next(&e, NULL, 1000, 1000), 1300);
    assert_int_equal(sched_expr_next(&e, NULL, 1000, 1299), 1300);
    assert_int_equal(sched_expr_next(&e, NULL, 1000, 1300), 1600);
    assert_int_equal(sched_expr_next(&e, NULL, 1000, 500), 1300);
    assert_int_equal(sched_expr_next(&e, NULL, 1000, 1000 + 300 * 1000 + 7), 1000 + 300 * 1001);
    assert_int_equal(sched_expr_parse("rate(1 day)", false, &e, &err), 0);
    assert_int_equal(e.rate_s, 86400);
    assert_int_equal(sched_expr_parse("rate(2 hours)", false, &e, &err), 0);
    assert_int_equal(e.rate_s, 7200);
}

static void test_cron_fields(void **state)
{
    (void)state;
    assert_string_equal(next_utc("cron(0/15 * * * ? *)", "2024-01-01T10:07:00Z"),
                        "2024-01-01T10:15:00.000Z");
    assert_string_equal(next_utc("cron(0/15 * * * ? *)", "2024-01-01T10:45:00Z"),
                        "2024-01-01T11:00:00.000Z");
    assert_string_equal(next_utc("cron(5,35 14 * * ? *)", "2024-01-01T14:10:00Z"),
                        "2024-01-01T14:35:00.000Z");
    assert_string_equal(next_utc("cron(5,35 14 * * ? *)", "2024-01-01T14:35:00Z"),
                        "2024-01-02T14:05:00.000Z");
    /* Friday 23:40 → Monday 20:00 */
    assert_string_equal(next_utc("cron(0/30 20-23 ? * MON-FRI *)", "2024-01-05T23:40:00Z"),
                        "2024-01-08T20:00:00.000Z");
    /* 1 is Sunday: after Monday 2024-01-01 comes Sunday the 7th */
    assert_string_equal(next_utc("cron(0 12 ? * 1 *)", "2024-01-01T00:00:00Z"),
                        "2024-01-07T12:00:00.000Z");
    assert_string_equal(next_utc("cron(0 2 ? * SAT *)", "2024-01-01T00:00:00Z"),
                        "2024-01-06T02:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 ? * L *)", "2024-01-01T00:00:00Z"),
                        "2024-01-06T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0/5 5 ? JAN 1-5 2022)", "2021-06-01T00:00:00Z"),
                        "2022-01-02T05:00:00.000Z"); /* 1-5 is SUN-THU: Sunday 2 January */
    assert_string_equal(next_utc("cron(0 0 1-31/30 * ? *)", "2024-01-02T00:00:00Z"),
                        "2024-01-31T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 1 jan ? *)", "2024-01-02T00:00:00Z"),
                        "2025-01-01T00:00:00.000Z");
}

static void test_cron_month_ends(void **state)
{
    (void)state;
    /* leap years: 29 February, the Gregorian rule (2100 is not one) */
    assert_string_equal(next_utc("cron(0 0 29 2 ? *)", "2023-03-01T00:00:00Z"),
                        "2024-02-29T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 29 2 ? *)", "2024-03-01T00:00:00Z"),
                        "2028-02-29T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 29 2 ? 2097-2199)", "2097-01-01T00:00:00Z"),
                        "2104-02-29T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 29 2 ? 2025-2027)", "2024-06-01T00:00:00Z"), "none");
    /* L: the last day of each month */
    assert_string_equal(next_utc("cron(0 0 L * ? *)", "2024-02-10T00:00:00Z"),
                        "2024-02-29T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 L * ? *)", "2023-02-10T00:00:00Z"),
                        "2023-02-28T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 L * ? *)", "2024-04-05T00:00:00Z"),
                        "2024-04-30T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 L * ? *)", "2024-12-31T00:00:00Z"),
                        "2025-01-31T00:00:00.000Z");
    /* W: 15 June 2024 is a Saturday → Friday 14; 1 June is a Saturday → Monday 3 */
    assert_string_equal(next_utc("cron(0 0 15W * ? *)", "2024-06-01T00:00:00Z"),
                        "2024-06-14T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 1W * ? *)", "2024-05-31T12:00:00Z"),
                        "2024-06-03T00:00:00.000Z");
    /* LW: 31 March 2024 is a Sunday → Friday 29; 31 August a Saturday → Friday 30 */
    assert_string_equal(next_utc("cron(0 0 LW * ? *)", "2024-03-01T00:00:00Z"),
                        "2024-03-29T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 LW * ? *)", "2024-08-01T00:00:00Z"),
                        "2024-08-30T00:00:00.000Z");
    /* 31 in a 30-day month never fires */
    assert_string_equal(next_utc("cron(0 0 31 * ? *)", "2024-04-01T00:00:00Z"),
                        "2024-05-31T00:00:00.000Z");
}

static void test_cron_nth_and_last(void **state)
{
    (void)state;
    assert_string_equal(next_utc("cron(0 2 ? * SAT#3 *)", "2024-01-01T00:00:00Z"),
                        "2024-01-20T02:00:00.000Z");
    assert_string_equal(next_utc("cron(0 12 ? * 3#2 *)", "2024-02-01T00:00:00Z"),
                        "2024-02-13T12:00:00.000Z");
    /* the fifth Monday: January 2024 has one, February and March do not, April does */
    assert_string_equal(next_utc("cron(0 0 ? * 2#5 *)", "2024-01-01T00:00:00Z"),
                        "2024-01-29T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 ? * 2#5 *)", "2024-01-30T00:00:00Z"),
                        "2024-04-29T00:00:00.000Z");
    /* 6L: the last Friday; the years end in 2005 */
    assert_string_equal(next_utc("cron(15 10 ? * 6L 2002-2005)", "2002-01-01T00:00:00Z"),
                        "2002-01-25T10:15:00.000Z");
    assert_string_equal(next_utc("cron(15 10 ? * 6L 2002-2005)", "2005-12-31T00:00:00Z"), "none");
}

static void test_year_bounds(void **state)
{
    (void)state;
    assert_string_equal(next_utc("cron(0 0 31 12 ? 2199)", "2199-06-01T00:00:00Z"),
                        "2199-12-31T00:00:00.000Z");
    assert_string_equal(next_utc("cron(0 0 1 1 ? 2199)", "2199-01-02T00:00:00Z"), "none");
    assert_string_equal(next_utc("cron(0 0 * * ? *)", "2199-12-31T00:00:00Z"), "none");
    assert_string_equal(next_utc("cron(0 0 1 1 ? 1970)", "1969-12-31T00:00:00Z"),
                        "1970-01-01T00:00:00.000Z");
}

static void test_at(void **state)
{
    (void)state;
    assert_string_equal(next_utc("at(2024-02-29T12:30:00)", "2024-01-01T00:00:00Z"),
                        "2024-02-29T12:30:00.000Z");
    assert_string_equal(next_utc("at(2024-02-29T12:30:00)", "2024-02-29T12:30:00Z"), "none");
    assert_string_equal(next_in("at(2024-07-01T09:00:00)", "Europe/Berlin", "2024-01-01T00:00:00Z"),
                        "2024-07-01T07:00:00.000Z");
    /* in the spring gap: the first instant after it */
    assert_string_equal(next_in("at(2024-03-31T02:30:00)", "Europe/Berlin", "2024-01-01T00:00:00Z"),
                        "2024-03-31T01:30:00.000Z");
    /* in the repeated hour: its first occurrence */
    assert_string_equal(next_in("at(2024-10-27T02:30:00)", "Europe/Berlin", "2024-01-01T00:00:00Z"),
                        "2024-10-27T00:30:00.000Z");
}

static void test_dst_berlin(void **state)
{
    (void)state;
    const char *z = "Europe/Berlin";
    assert_string_equal(next_in("cron(0 12 * * ? *)", z, "2024-01-15T00:00:00Z"),
                        "2024-01-15T11:00:00.000Z"); /* CET */
    assert_string_equal(next_in("cron(0 12 * * ? *)", z, "2024-07-15T00:00:00Z"),
                        "2024-07-15T10:00:00.000Z"); /* CEST */
    /* 31 March 2024 02:30 does not exist: skipped, 1 April 02:30 CEST is next */
    assert_string_equal(next_in("cron(30 2 * * ? *)", z, "2024-03-30T12:00:00Z"),
                        "2024-04-01T00:30:00.000Z");
    /* 27 October 2024 02:30 happens twice: it fires at the first only */
    assert_string_equal(next_in("cron(30 2 * * ? *)", z, "2024-10-26T12:00:00Z"),
                        "2024-10-27T00:30:00.000Z");
    assert_string_equal(next_in("cron(30 2 * * ? *)", z, "2024-10-27T00:30:00Z"),
                        "2024-10-28T01:30:00.000Z");
    /* every 30 minutes over the fall-back: 02:00 and 02:30 once each, then 03:00 CET */
    assert_string_equal(next_in("cron(0/30 * * * ? *)", z, "2024-10-27T00:30:00Z"),
                        "2024-10-27T02:00:00.000Z");
    /* and over the spring gap: 01:30 CET, then 03:00 CEST */
    assert_string_equal(next_in("cron(0/30 * * * ? *)", z, "2024-03-31T00:30:00Z"),
                        "2024-03-31T01:00:00.000Z");
    /* far past the file's transitions: the POSIX rule of its footer */
    assert_string_equal(next_in("cron(0 12 1 7 ? 2150)", z, "2024-01-01T00:00:00Z"),
                        "2150-07-01T10:00:00.000Z");
    assert_string_equal(next_in("cron(0 12 1 1 ? 2150)", z, "2024-01-01T00:00:00Z"),
                        "2150-01-01T11:00:00.000Z");
}

static void test_dst_new_york(void **state)
{
    (void)state;
    const char *z = "America/New_York";
    assert_string_equal(next_in("cron(0 12 * * ? *)", z, "2024-07-01T00:00:00Z"),
                        "2024-07-01T16:00:00.000Z"); /* EDT */
    assert_string_equal(next_in("cron(0 12 * * ? *)", z, "2024-12-01T00:00:00Z"),
                        "2024-12-01T17:00:00.000Z"); /* EST */
    /* 10 March 2024 02:00 does not exist */
    assert_string_equal(next_in("cron(0 2 * * ? *)", z, "2024-03-09T12:00:00Z"),
                        "2024-03-11T06:00:00.000Z");
    /* hourly over 3 November 2024: 01:00 EDT fires, 01:00 EST does not, then 02:00 EST */
    assert_string_equal(next_in("cron(0 * * * ? *)", z, "2024-11-03T05:00:00Z"),
                        "2024-11-03T07:00:00.000Z");
    assert_string_equal(next_in("cron(0 * * * ? *)", z, "2024-11-03T04:30:00Z"),
                        "2024-11-03T05:00:00.000Z");
    /* 2 November 2099 is past the file's transitions: 01:00 EDT on Sunday 1 November 2099 */
    assert_string_equal(next_in("cron(0 1 1 11 ? 2099)", z, "2024-01-01T00:00:00Z"),
                        "2099-11-01T05:00:00.000Z");
}

static void test_zones(void **state)
{
    (void)state;
    sched_tz *z = NULL;
    bt_err err = {0};
    assert_int_equal(sched_tz_load("Mars/Olympus", &z, &err), BT_ENOTFOUND);
    assert_int_equal(sched_tz_load("../etc/passwd", &z, &err), BT_ENOTFOUND);
    assert_int_equal(sched_tz_load("UTC", &z, &err), 0);
    assert_null(z);
    assert_int_equal(sched_tz_load("Asia/Kolkata", &z, &err), 0);
    assert_int_equal(sched_tz_offset(z, secs("2024-01-01T00:00:00Z")), 19800);
    assert_string_equal(sched_tz_name(z), "Asia/Kolkata");
    sched_tz_free(z);
    static const unsigned char junk[] = "TZif2 not really";
    assert_int_equal(sched_tz_from_tzif("x", junk, sizeof junk, &z, &err), BT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_cron_fields),
        cmocka_unit_test(test_cron_month_ends),
        cmocka_unit_test(test_cron_nth_and_last),
        cmocka_unit_test(test_year_bounds),
        cmocka_unit_test(test_at),
        cmocka_unit_test(test_dst_berlin),
        cmocka_unit_test(test_dst_new_york),
        cmocka_unit_test(test_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
