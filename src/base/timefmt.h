/*
 * timefmt.h — timestamps. Baton keeps time as int64 milliseconds since the Unix epoch
 * (UTC). Formatting follows AWS (ISO-8601, UTC, millisecond precision, "Z"); parsing
 * accepts what ASL accepts for Wait Timestamp(Path) and the Timestamp* Choice operators.
 */
#ifndef BT_TIMEFMT_H
#define BT_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The times Baton formats and keeps: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. */
#define BT_TIME_MIN_MS (-62167219200000LL)
#define BT_TIME_MAX_MS 253402300799999LL

/* "2024-01-02T03:04:05.678Z" into out (at least 32 bytes); a time outside the range above
 * is formatted as the nearest end of it. */
void bt_time_format(int64_t epoch_ms, char *out, size_t outlen);

/*
 * Parses an RFC 3339 date-time as ASL requires: "YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)",
 * uppercase T and Z, valid calendar fields. Fractions beyond milliseconds are truncated
 * for *epoch_ms (precision kept in *nanos when non-NULL: nanoseconds within the second).
 * Returns true on success.
 *
 * Accepted: years 0000-9999, months 01-12, days valid for the month (leap years
 * Gregorian), hours 00-23, minutes and seconds 00-59 (no leap second 60), a fraction of
 * 1-9 digits, and an offset "Z" or ±hh:mm of at most 18:00 (java.time's bound). Anything
 * else — lowercase t/z, a space separator, missing seconds or offset, trailing text — is
 * rejected. *epoch_ms is the instant in UTC (floor of the exact value); either out
 * pointer may be NULL.
 */
bool bt_time_parse_rfc3339(const char *s, int64_t *epoch_ms);
/*
 * Same, also giving the fraction of the second in nanoseconds (0-999999999), so callers
 * can compare instants at full precision: (floor(*epoch_ms / 1000), *nanos).
 */
bool bt_time_parse_rfc3339_ns(const char *s, int64_t *epoch_ms, int32_t *nanos);

#endif
