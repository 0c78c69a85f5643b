/*
 * timefmt_test.c — unit tests for timefmt.c: known instants, calendar edges (leap years,
 * month lengths, years 0000 and 9999), offsets, fractions, and the inputs ASL rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "base/timefmt.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms = 0;
    if (!bt_time_parse_rfc3339(s, &ms))
        fail_msg("expected \"%s\" to parse", s);
    return ms;
}

static void test_format(void **state)
{
    (void)state;
    char out[32];
    bt_time_format(0, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    bt_time_format(1349809255123, out, sizeof out);
    assert_string_equal(out, "2012-10-09T19:00:55.123Z");
    bt_time_format(-1, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    bt_time_format(951782400000, out, sizeof out);
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
    bt_time_format(253402300799999, out, sizeof out);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    bt_time_format(-62167219200000, out, sizeof out);
    assert_string_equal(out, "0000-01-01T00:00:00.000Z");
}

static void test_parse_known(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2012-10-09T19:00:55Z"), 1349809255000);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), 951782400000);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1000);
    assert_int_equal(parse_ok("0000-01-01T00:00:00Z"), -62167219200000);
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), 253402300799000);
    assert_int_equal(parse_ok("1600-03-01T00:00:00Z"), -11670912000000);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-01-02T03:04:05+05:30"), 1704144845000);
    assert_int_equal(parse_ok("2100-02-28T12:00:00-18:00"), 4107564000000);
    assert_int_equal(parse_ok("2012-10-09T21:00:55+02:00"), parse_ok("2012-10-09T19:00:55Z"));
    assert_int_equal(parse_ok("2012-10-09T14:00:55-05:00"), parse_ok("2012-10-09T19:00:55Z"));
    assert_int_equal(parse_ok("2012-10-09T19:00:55+00:00"), parse_ok("2012-10-09T19:00:55-00:00"));
    /* An offset may move the instant across a day, month and year boundary. */
    assert_int_equal(parse_ok("2013-01-01T01:00:00+02:00"), parse_ok("2012-12-31T23:00:00Z"));
    assert_int_equal(parse_ok("2012-12-31T23:00:00-01:00"), parse_ok("2013-01-01T00:00:00Z"));
    assert_int_equal(parse_ok("2012-10-09T19:00:55+18:00") + 18 * 3600000,
                     parse_ok("2012-10-09T19:00:55Z"));
}

static void test_parse_fractions(void **state)
{
    (void)state;
    int64_t ms = 0;
    int32_t ns = -1;
    assert_true(bt_time_parse_rfc3339_ns("2016-03-05T21:29:29.243167252Z", &ms, &ns));
    assert_int_equal(ms, 1457213369243);
    assert_int_equal(ns, 243167252);
    assert_true(bt_time_parse_rfc3339_ns("2016-03-05T21:29:29.5Z", &ms, &ns));
    assert_int_equal(ms, 1457213369500);
    assert_int_equal(ns, 500000000);
    assert_true(bt_time_parse_rfc3339_ns("2016-03-05T21:29:29.000000001+01:00", &ms, &ns));
    assert_int_equal(ms, 1457213369000 - 3600000);
    assert_int_equal(ns, 1);
    assert_true(bt_time_parse_rfc3339_ns("2016-03-05T21:29:29Z", NULL, &ns));
    assert_int_equal(ns, 0);
    /* Before the epoch the milliseconds are still the floor of the exact instant. */
    assert_int_equal(parse_ok("1969-12-31T23:59:59.9999Z"), -1);
    assert_int_equal(parse_ok("2012-10-09T19:00:55.12Z"), 1349809255120);
    assert_int_equal(parse_ok("2012-10-09T19:00:55.123456789Z"), 1349809255123);
    assert_true(bt_time_parse_rfc3339("2012-10-09T19:00:55Z", NULL));
}

static void test_parse_calendar(void **state)
{
    (void)state;
    static const char *valid[] = {
        "2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1600-02-29T00:00:00Z",
        "0000-02-29T00:00:00Z", "2023-01-31T00:00:00Z", "2023-03-31T00:00:00Z",
        "2023-04-30T00:00:00Z", "2023-12-31T23:59:59Z", "2023-02-28T00:00:00Z",
    };
    static const char *invalid[] = {
        "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
        "2023-04-31T00:00:00Z", "2023-06-31T00:00:00Z", "2023-09-31T00:00:00Z",
        "2023-11-31T00:00:00Z", "2023-01-32T00:00:00Z", "2023-00-10T00:00:00Z",
        "2023-13-10T00:00:00Z", "2023-01-00T00:00:00Z", "2016-12-05T24:00:00Z",
        "2016-12-05T25:29:29Z", "2016-12-05T21:60:29Z", "2016-12-05T21:29:60Z",
        "2016-12-05T21:29:61Z",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        parse_ok(valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        int64_t ms;
        if (bt_time_parse_rfc3339(invalid[i], &ms))
            fail_msg("expected \"%s\" to be rejected", invalid[i]);
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "05-12-2016T21:29:29Z",
        "2016-12-05T21:29:29",
        "2016-12-05t21:29:29Z",
        "2016-12-05T21:29:29z",
        "2016-12-05 21:29:29Z",
        "2016-12-05T21:29Z",
        "2016-12-05",
        "2016-12-05T21:29:29.Z",
        "2016-12-05T21:29:29.1234567890Z",
        "2016-12-05T21:29:29+0100",
        "2016-12-05T21:29:29+01",
        "2016-12-05T21:29:29+01:60",
        "2016-12-05T21:29:29+18:01",
        "2016-12-05T21:29:29+19:00",
        "2016-12-05T21:29:29Z ",
        " 2016-12-05T21:29:29Z",
        "2016-12-05T21:29:29ZZ",
        "2016-12-05T21:29:29+01:00Z",
        "+2016-12-05T21:29:29Z",
        "12016-12-05T21:29:29Z",
        "2016-1-05T21:29:29Z",
        "2016-12-5T21:29:29Z",
        "2016-12-05T1:29:29Z",
        "2016/12/05T21:29:29Z",
        "2016-12-05T21:29:29.12a4Z",
        "2023-02-24 12:15:56.832957",
        "abcd-ef-ghTij:kl:mnZ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        int32_t ns;
        if (bt_time_parse_rfc3339_ns(bad[i], &ms, &ns))
            fail_msg("expected \"%s\" to be rejected", bad[i]);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    /* Every day of 1999-2001 and a spread of instants through 0000-9999 survive a round trip. */
    for (int64_t ms = 915148800000; ms < 1009843200000; ms += 86400000 + 3723456) {
        char out[32];
        bt_time_format(ms, out, sizeof out);
        assert_int_equal(parse_ok(out), ms);
    }
    for (int64_t ms = -62167219200000; ms < 253402300800000; ms += 7777777777777) {
        char out[32];
        bt_time_format(ms, out, sizeof out);
        assert_int_equal(parse_ok(out), ms);
    }
    char out[32];
    bt_time_format(1704144845000, out, sizeof out);
    assert_int_equal(strlen(out), 24);
}

/* Times beyond four-digit years are shown at the nearest end, never overflowing. */
static void test_format_clamps(void **state)
{
    (void)state;
    char buf[40];
    bt_time_format(INT64_MIN, buf, sizeof(buf));
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
    bt_time_format(INT64_MIN + 1000, buf, sizeof(buf));
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
    bt_time_format(INT64_MAX, buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),         cmocka_unit_test(test_parse_known),
        cmocka_unit_test(test_parse_offsets),  cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_calendar), cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_format_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
