/*
 * fmt.h — JSONata 2.0.6's formatting and parsing functions as plain C: how numbers print
 * (JavaScript's Number#toString and $string's 15 significant digits), $formatBase,
 * $formatInteger/$parseInteger (XPath F&O 3.1 fn:format-integer pictures), $formatNumber
 * (fn:format-number pictures and decimal formats) and $fromMillis/$toMillis
 * (fn:format-dateTime pictures). Called by the evaluator's function library; knows nothing
 * of its values: numbers are doubles, strings UTF-8, results go to a bt_buf.
 *
 * Errors: a fallible function returns 0, or JFMT_ERROR with err->code set to the JSONata
 * error code ("D3130") and err->msg to a sentence; out is then unspecified. err may be
 * NULL. Argument type checks (T0410 …) and undefined arguments are the caller's: these
 * functions take the values a valid call passes. Functions whose JSONata result can be
 * undefined say so with *is_defined.
 */
#ifndef BT_JSONATA_FMT_H
#define BT_JSONATA_FMT_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

#define JFMT_ERROR BT_EINVAL

typedef struct jfmt_err {
    char code[8];  /* "D3130"; "" when no error */
    char msg[256]; /* "" when no error */
} jfmt_err;

/* ---- numbers as text (fmt_num.c) ---- */

/* Appends v as JavaScript's Number#toString prints it: shortest round-trip digits,
 * exponent form below 1e-6 and from 1e21 ("1e-7", "1e+21"), -0 as "0", "NaN",
 * "Infinity", "-Infinity". This is how JSON output and array/object $string print. */
void jfmt_number(double v, bt_buf *out);
/* Appends v as $string(v) prints a number: rounded to 15 significant digits first
 * ($string(1/3) is "0.333333333333333", 0.1+0.2 is "0.3"). Non-finite v is the caller's
 * D3001; here it prints as jfmt_number does. */
void jfmt_number_string(double v, bt_buf *out);

/* $formatBase(value, radix): value and radix rounded half to even (radix 10 when
 * has_radix is false). Errors: D3100 (radix outside 2..36). */
int jfmt_format_base(double value, bool has_radix, double radix, bt_buf *out, jfmt_err *err);

/* ---- integers (fmt_int.c) ---- */

/* $formatInteger(value, picture): value floored first. Pictures: decimal digit patterns
 * ("000", "#,##0", any Unicode decimal digit family, irregular grouping), "A"/"a",
 * "I"/"i", "W"/"w"/"Ww", each with ";o" (ordinal) or ";c". Errors: D3130 (unsupported
 * picture), D3131 (digits from several families). */
int jfmt_format_integer(double value, const char *picture, bt_buf *out, jfmt_err *err);
/* $parseInteger(string, picture): the inverse. When string holds no number in that form
 * *out is NaN, as in the reference (whose NaN then prints as null); the caller decides how
 * to show it. Errors: as above. */
int jfmt_parse_integer(const char *string, const char *picture, double *out, jfmt_err *err);

/* ---- decimal formats (fmt_number.c) ---- */

/* The options object of $formatNumber: each field a UTF-8 string of one character
 * (infinity, nan: any text); NULL means the default (".", ",", "e", "Infinity", "NaN",
 * "-", "%", "‰", "0", "#", ";"). Borrowed. */
typedef struct jfmt_number_opts {
    const char *decimal_separator;
    const char *grouping_separator;
    const char *exponent_separator;
    const char *infinity;
    const char *nan;
    const char *minus_sign;
    const char *percent;
    const char *per_mille;
    const char *zero_digit;
    const char *digit;
    const char *pattern_separator;
} jfmt_number_opts;

/* Sets the field named by a JSONata option key ("decimal-separator", "zero-digit", …;
 * value borrowed). Returns false for a key that names no option (JSONata ignores it). */
bool jfmt_number_opts_set(jfmt_number_opts *opts, const char *key, const char *value);

/* $formatNumber(value, picture, options): opts may be NULL. Errors: D3080-D3093 (picture
 * syntax). */
int jfmt_format_number(double value, const char *picture, const jfmt_number_opts *opts, bt_buf *out,
                       jfmt_err *err);

/* ---- dates and times (fmt_date.c) ---- */

/* $fromMillis(ms, picture, timezone): picture NULL gives ISO 8601 with milliseconds in UTC
 * ("2017-10-30T16:25:32.935Z"; a timezone given then shows as "+hh:mm"); timezone is
 * "±hhmm" or NULL (UTC). Errors: D3110/D3131-D3135 (picture), D3134 (timezone width). */
int jfmt_from_millis(double ms, const char *picture, const char *timezone, bt_buf *out,
                     jfmt_err *err);
/* $toMillis(string, picture): picture NULL parses ISO 8601 ("2017-10-30",
 * "2018-02-01T09:42:13.123+0000", "2018"; D3110 when not ISO 8601). With a picture,
 * *is_defined is false when string does not match it. Errors: D3132, D3133, D3135,
 * D3136 (picture lacks what a timestamp needs), D3137. */
int jfmt_to_millis(const char *string, const char *picture, bool *is_defined, double *ms,
                   jfmt_err *err);

/* ---- shared by the fmt_*.c files; not for callers ---- */

int jfmt__fail(jfmt_err *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Decodes UTF-8 into code points (invalid bytes pass through as themselves); returns the
 * count, *cps a heap array the caller frees. */
size_t jfmt__decode(const char *s, uint32_t **cps);
void jfmt__put_cp(bt_buf *out, uint32_t cp);
/* The zero of the Unicode decimal digit family cp belongs to, or -1. */
int64_t jfmt__digit_zero(uint32_t cp);
/* Shortest round-trip decimal digits of finite v > 0: returns the count (1..17) and sets
 * *point, the decimal exponent of the first digit plus one (v = 0.d1d2… × 10^point). */
int jfmt__shortest(double v, char digits[24], int *point);
/* Cardinal (or ordinal) English words for |v| < 1e21 integral ("one hundred and one"). */
void jfmt__words(double v, bool ordinal, bt_buf *out);
/* Reads English number words at s (case-insensitive), as far as they go; returns the bytes
 * consumed (0 when none) and the value in *v. */
size_t jfmt__parse_words(const char *s, double *v);
/* Roman numerals (either case; NaN for another letter) and 'a'/'A' letter sequences. */
double jfmt__parse_roman(const char *s, size_t n);
double jfmt__parse_letters(const char *s, size_t n, bool upper);

#endif
