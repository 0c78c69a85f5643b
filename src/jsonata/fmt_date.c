/*
 * fmt_date.c — $fromMillis and $toMillis: fn:format-dateTime pictures (XPath F&O 3.1
 * §9.8.4) as JSONata 2.0.6 reads them, English names, the ISO calendar (proleptic
 * Gregorian, weeks from Monday, week 1 the one holding the first Thursday). A picture is
 * literal text and [markers]; each marker is a component letter, a presentation modifier
 * (handed to jfmt_format_integer for numbers), an optional 'o'/'t' and a width.
 * Parsing walks the same parts over the input and rebuilds the instant in UTC.
 */
#include "jsonata/fmt.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

#define MS_PER_DAY 86400000.0
#define MAX_PARTS  64

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
static const char *const day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};

typedef struct part {
    bool is_literal;
    char *text; /* literal text, or the presentation modifier */
    char comp;  /* component letter */
    char names; /* 0, 'N' upper, 'n' lower, 'T' title */
    bool ordinal, zulu;
    int min_width, max_width; /* -1 when not given */
} part;

typedef struct picture {
    part parts[MAX_PARTS];
    int n;
} picture;

static void picture_fini(picture *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->parts[i].text);
}

static void add_literal(picture *p, bt_buf *lit)
{
    if (lit->len == 0 || p->n >= MAX_PARTS)
        return;
    part *pt = &p->parts[p->n++];
    memset(pt, 0, sizeof *pt);
    pt->is_literal = true;
    pt->text = bt_buf_steal(lit);
}

/* A width beyond this is taken as this: the text is built on the heap, outside the
 * evaluation's memory limit and time checks ("[Y,2000000000]" asked for 2 GB). */
#define MAX_WIDTH 1000

static bool parse_width(const char *s, int *min, int *max)
{
    /* "2", "*", "2-4", "*-3", "3-*" */
    *min = *max = -1;
    const char *dash = strchr(s, '-');
    char a[16] = "", b[16] = "";
    size_t la = dash ? (size_t)(dash - s) : strlen(s);
    if (la >= sizeof a || (dash && strlen(dash + 1) >= sizeof b))
        return false;
    memcpy(a, s, la);
    if (dash)
        strcpy(b, dash + 1);
    for (int k = 0; k < 2; k++) {
        const char *t = k == 0 ? a : b;
        int *out = k == 0 ? min : max;
        if (k == 1 && !dash)
            break;
        if (strcmp(t, "*") == 0)
            continue;
        if (!*t)
            return false;
        for (const char *c = t; *c; c++)
            if (!isdigit((unsigned char)*c))
                return false;
        long w = strtol(t, NULL, 10); /* at most 15 digits: no overflow */
        *out = w > MAX_WIDTH ? MAX_WIDTH : (int)w;
    }
    return true;
}

static int analyse_marker(const char *m, part *pt, jfmt_err *err)
{
    memset(pt, 0, sizeof *pt);
    pt->min_width = pt->max_width = -1;
    pt->comp = m[0];
    if (!strchr("YMDdFWwXxHhPmsfZzCE", pt->comp) || !pt->comp)
        return jfmt__fail(err, "D3132",
                          "Unknown component specifier %c in date/time picture "
                          "string",
                          pt->comp ? pt->comp : ' ');
    char *pres = bt_xstrdup(m + 1);
    char *comma = strrchr(pres, ',');
    if (comma && parse_width(comma + 1, &pt->min_width, &pt->max_width))
        *comma = '\0';
    size_t n = strlen(pres);
    if (n > 1 && pres[n - 1] == 'o') {
        pt->ordinal = true;
        pres[--n] = '\0';
    } else if (n > 0 && pres[n - 1] == 't' && (pt->comp == 'Z' || pt->comp == 'z')) {
        pt->zulu = true;
        pres[--n] = '\0';
    } else if (n > 1 && pres[n - 1] == 'c') {
        pres[--n] = '\0';
    }
    if (strcmp(pres, "N") == 0 || strcmp(pres, "n") == 0 || strcmp(pres, "Nn") == 0) {
        if (pt->comp == 'Z' || pt->comp == 'z') {
            free(pres);
            return jfmt__fail(err, "D3134",
                              "The timezone integer format specifier cannot have "
                              "more than four digits");
        }
        if (!strchr("MxFPCE", pt->comp)) {
            free(pres);
            return jfmt__fail(err, "D3133",
                              "The 'name' modifier can only be applied to months and days in the "
                              "date/time picture string, not %c",
                              pt->comp);
        }
        pt->names = pres[1] == 'n' ? 'T' : pres[0];
    }
    if (pt->comp == 'P' && pt->names == 'T')
        pt->names = 'n';
    if (!pres[0]) {
        free(pres);
        /* defaults: names for F, P, C, E; two digits for m and s; the offset as 01:01 */
        if (strchr("FPCE", pt->comp))
            pt->names = 'n';
        pres = bt_xstrdup(pt->comp == 'm' || pt->comp == 's'   ? "01"
                          : pt->comp == 'Z' || pt->comp == 'z' ? "01:01"
                                                               : "1");
    }
    if (pt->comp == 'Z' || pt->comp == 'z') {
        int digits = 0;
        for (const char *c = pres; *c; c++)
            digits += isdigit((unsigned char)*c) != 0;
        if (digits > 4) {
            free(pres);
            return jfmt__fail(err, "D3134",
                              "The timezone integer format specifier cannot have "
                              "more than four digits");
        }
    }
    pt->text = pres;
    return 0;
}

static int analyse(const char *s, picture *p, jfmt_err *err)
{
    p->n = 0;
    bt_buf lit;
    bt_buf_init(&lit);
    int rc = 0;
    for (size_t i = 0; s[i];) {
        if (s[i] == '[' && s[i + 1] == '[') {
            bt_buf_putc(&lit, '[');
            i += 2;
        } else if (s[i] == ']' && s[i + 1] == ']') {
            bt_buf_putc(&lit, ']');
            i += 2;
        } else if (s[i] == '[') {
            const char *close = strchr(s + i, ']');
            if (!close) {
                rc = jfmt__fail(err, "D3135",
                                "No matching closing bracket ']' in date/time "
                                "picture string");
                break;
            }
            add_literal(p, &lit);
            bt_buf m;
            bt_buf_init(&m);
            for (const char *c = s + i + 1; c < close; c++)
                if (!isspace((unsigned char)*c))
                    bt_buf_putc(&m, *c);
            if (p->n < MAX_PARTS) {
                rc = analyse_marker(m.data ? m.data : "", &p->parts[p->n], err);
                if (rc == 0)
                    p->n++;
            }
            bt_buf_fini(&m);
            if (rc < 0)
                break;
            i = (size_t)(close - s) + 1;
        } else {
            bt_buf_putc(&lit, s[i++]);
        }
    }
    if (rc == 0)
        add_literal(p, &lit);
    bt_buf_fini(&lit);
    if (rc < 0)
        picture_fini(p);
    return rc;
}

/* ---- calendar ---- */

static double days_from_civil(double y, int m, int d)
{
    y -= m <= 2;
    double era = floor(y / 400);
    double yoe = y - era * 400;
    int mp = (m + 9) % 12;
    double doy = floor((153 * mp + 2) / 5) + d - 1;
    double doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(double z, double *y, int *m, int *d)
{
    z += 719468;
    double era = floor(z / 146097);
    double doe = z - era * 146097;
    double yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365);
    double doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100));
    int mp = (int)floor((5 * doy + 2) / 153);
    *d = (int)(doy - floor((153 * mp + 2) / 5)) + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

typedef struct fields {
    double year;
    int month, day, hour, minute, second, ms;
    int day_of_year, weekday; /* weekday 1 = Monday */
    double iso_year;
    int iso_week, month_week, month_week_month;
} fields;

static void fields_from(double ms, fields *f)
{
    double days = floor(ms / MS_PER_DAY);
    double rem = ms - days * MS_PER_DAY;
    civil_from_days(days, &f->year, &f->month, &f->day);
    f->hour = (int)(rem / 3600000);
    f->minute = (int)fmod(rem / 60000, 60);
    f->second = (int)fmod(rem / 1000, 60);
    f->ms = (int)fmod(rem, 1000);
    f->day_of_year = (int)(days - days_from_civil(f->year, 1, 1)) + 1;
    f->weekday = (int)fmod(fmod(days + 3, 7) + 7, 7) + 1; /* 1970-01-01 was a Thursday */
    /* the Thursday of this Monday-to-Sunday week decides its year and month */
    double thursday = days - (f->weekday - 1) + 3;
    double ty;
    int tm, td;
    civil_from_days(thursday, &ty, &tm, &td);
    f->iso_year = ty;
    f->iso_week = (int)((thursday - days_from_civil(ty, 1, 1)) / 7) + 1;
    f->month_week_month = tm;
    f->month_week = (td - 1) / 7 + 1;
}

/* ---- formatting ---- */

static void put_name(const char *name, const part *pt, bt_buf *out)
{
    size_t n = strlen(name);
    if (pt->max_width > 0 && (size_t)pt->max_width < n)
        n = (size_t)pt->max_width;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)name[i];
        c = pt->names == 'N' ? toupper(c) : pt->names == 'n' ? tolower(c) : c;
        bt_buf_putc(out, (char)c);
    }
}

static int put_integer(double v, const part *pt, bt_buf *out, jfmt_err *err)
{
    bt_buf pic;
    bt_buf_init(&pic);
    int mandatory = 0;
    bool decimal = false;
    for (const char *c = pt->text; *c; c++) {
        if (isdigit((unsigned char)*c))
            mandatory++;
        if (isdigit((unsigned char)*c) || *c == '#')
            decimal = true;
    }
    if (decimal) {
        for (int i = mandatory; i < pt->min_width; i++)
            bt_buf_putc(&pic, '0');
        if (pt->comp == 'Y') {
            int width = pt->max_width > 0           ? pt->max_width
                        : mandatory > pt->min_width ? mandatory
                                                    : pt->min_width;
            if (width >= 2)
                v = fmod(v, pow(10, width));
        }
    }
    if (decimal && pt->max_width > 0 && mandatory > pt->max_width)
        for (int i = 0; i < pt->max_width; i++) /* the width caps the picture's digits */
            bt_buf_putc(&pic, '0');
    else
        bt_buf_puts(&pic, pt->text);
    if (pt->ordinal)
        bt_buf_puts(&pic, ";o");
    int rc = jfmt_format_integer(v, pic.data, out, err);
    bt_buf_fini(&pic);
    return rc;
}

static void put_offset(int offset_min, const part *pt, bt_buf *out)
{
    if (pt->comp == 'z')
        bt_buf_puts(out, "GMT");
    if (offset_min == 0 && pt->zulu) {
        bt_buf_putc(out, 'Z');
        return;
    }
    int a = abs(offset_min), hours = a / 60, minutes = a % 60;
    bt_buf_putc(out, offset_min < 0 ? '-' : '+');
    int before = 0, after = 0;
    char sep = 0;
    for (const char *c = pt->text; *c; c++) {
        if (isdigit((unsigned char)*c)) {
            if (sep)
                after++;
            else
                before++;
        } else if (!sep) {
            sep = *c;
        }
    }
    if (sep) {
        bt_buf_printf(out, "%0*d%c%02d", before, hours, sep, minutes);
    } else if (before <= 2) {
        bt_buf_printf(out, "%0*d", before, hours);
        if (minutes)
            bt_buf_printf(out, ":%02d", minutes);
    } else {
        bt_buf_printf(out, "%0*d%02d", before - 2, hours, minutes);
    }
}

static int parse_timezone(const char *tz, int *offset_min)
{
    size_t n = strlen(tz);
    if (n < 3)
        return -1;
    char *end;
    long hhmm = strtol(tz, &end, 10);
    if (*end)
        return -1;
    long hours = labs(hhmm) / 100, minutes = labs(hhmm) % 100;
    *offset_min = (int)((tz[0] == '-' ? -1 : 1) * (hours * 60 + minutes));
    return 0;
}

int jfmt_from_millis(double ms, const char *picture_text, const char *timezone, bt_buf *out,
                     jfmt_err *err)
{
    int offset = 0;
    if (timezone && parse_timezone(timezone, &offset) < 0)
        return jfmt__fail(err, "D3110", "The timezone \"%s\" is not of the form \"+hhmm\"",
                          timezone);
    if (!picture_text)
        picture_text = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";
    picture p;
    int rc = analyse(picture_text, &p, err);
    if (rc < 0)
        return rc;
    fields f;
    fields_from(floor(trunc(ms) + offset * 60000.0), &f);
    for (int i = 0; i < p.n && rc == 0; i++) {
        const part *pt = &p.parts[i];
        if (pt->is_literal) {
            bt_buf_puts(out, pt->text);
            continue;
        }
        double v = 0;
        switch (pt->comp) {
        case 'Y':
            v = f.year;
            break;
        case 'M':
            v = f.month;
            break;
        case 'D':
            v = f.day;
            break;
        case 'd':
            v = f.day_of_year;
            break;
        case 'F':
            v = f.weekday;
            break;
        case 'W':
            v = f.iso_week;
            break;
        case 'w':
            v = f.month_week;
            break;
        case 'X':
            v = f.iso_year;
            break;
        case 'x':
            v = f.month_week_month;
            break;
        case 'H':
            v = f.hour;
            break;
        case 'h':
            v = f.hour % 12 == 0 ? 12 : f.hour % 12;
            break;
        case 'm':
            v = f.minute;
            break;
        case 's':
            v = f.second;
            break;
        case 'f':
            v = f.ms;
            break;
        default:
            break;
        }
        if (pt->comp == 'Z' || pt->comp == 'z') {
            put_offset(offset, pt, out);
        } else if (pt->comp == 'C' || pt->comp == 'E') {
            bt_buf_puts(out, "ISO");
        } else if (pt->comp == 'P') {
            put_name(f.hour < 12 ? "am" : "pm", pt, out);
        } else if (pt->names && (pt->comp == 'M' || pt->comp == 'x')) {
            put_name(month_names[(int)v - 1], pt, out);
        } else if (pt->names && pt->comp == 'F') {
            put_name(day_names[(int)v - 1], pt, out);
        } else {
            rc = put_integer(v, pt, out, err);
        }
    }
    picture_fini(&p);
    return rc;
}

/* ---- parsing ---- */

static bool match_ci(const char *s, const char *word, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || tolower((unsigned char)s[i]) != tolower((unsigned char)word[i]))
            return false;
    return true;
}

/* Matches a name from names[0..count) at s (full, or cut to the marker's maximum width);
 * returns the bytes matched and the 1-based index in *v. */
static size_t match_name(const char *s, const char *const *names, int count, const part *pt,
                         double *v)
{
    size_t best = 0;
    for (int i = 0; i < count; i++) {
        size_t n = strlen(names[i]);
        if (pt->max_width > 0 && (size_t)pt->max_width < n)
            n = (size_t)pt->max_width;
        if (n > best && match_ci(s, names[i], n)) {
            best = n;
            *v = i + 1;
        }
    }
    return best;
}

/* Reads one marker's value at s; returns the bytes used, 0 when nothing matches. limit is
 * the most digits a number may take (0: no limit). */
static size_t read_component(const char *s, const part *pt, int limit, double *v)
{
    const char *t = pt->text;
    if (pt->comp == 'P') {
        if (match_ci(s, "am", 2) || match_ci(s, "pm", 2)) {
            *v = tolower((unsigned char)s[0]) == 'p';
            return 2;
        }
        return 0;
    }
    if (pt->comp == 'Z' || pt->comp == 'z') {
        size_t i = 0;
        if (pt->comp == 'z' && match_ci(s, "GMT", 3))
            i = 3;
        if (s[i] == 'Z') {
            *v = 0;
            return i + 1;
        }
        if (s[i] != '+' && s[i] != '-')
            return 0;
        int sign = s[i] == '-' ? -1 : 1, digits[4], nd = 0;
        size_t j = i + 1;
        for (; nd < 4 && s[j]; j++) {
            if (isdigit((unsigned char)s[j]))
                digits[nd++] = s[j] - '0';
            else if (s[j] != ':' || nd != 2)
                break;
        }
        if (nd == 0)
            return 0;
        int hours = nd <= 2   ? (nd == 1 ? digits[0] : digits[0] * 10 + digits[1])
                    : nd == 3 ? digits[0]
                              : digits[0] * 10 + digits[1];
        int minutes = nd == 4   ? digits[2] * 10 + digits[3]
                      : nd == 3 ? digits[1] * 10 + digits[2]
                                : 0;
        *v = sign * (hours * 60 + minutes);
        return j;
    }
    if (pt->names && (pt->comp == 'M' || pt->comp == 'x'))
        return match_name(s, month_names, 12, pt, v);
    if (pt->names && pt->comp == 'F')
        return match_name(s, day_names, 7, pt, v);
    if (t[0] == 'w' || t[0] == 'W')
        return jfmt__parse_words(s, v);
    if (t[0] == 'i' || t[0] == 'I') {
        size_t n = 0;
        while (s[n] && strchr("ivxlcdmIVXLCDM", s[n]))
            n++;
        *v = jfmt__parse_roman(s, n);
        return n > 0 && !isnan(*v) ? n : 0;
    }
    if (t[0] == 'a' || t[0] == 'A') {
        size_t n = 0;
        while (t[0] == 'a' ? islower((unsigned char)s[n]) : isupper((unsigned char)s[n]))
            n++;
        *v = jfmt__parse_letters(s, n, t[0] == 'A');
        return n;
    }
    size_t n = 0;
    double total = 0;
    while (isdigit((unsigned char)s[n]) && (limit == 0 || (int)n < limit))
        total = total * 10 + (s[n++] - '0');
    if (n == 0)
        return 0;
    if (pt->ordinal) {
        if (match_ci(s + n, "st", 2) || match_ci(s + n, "nd", 2) || match_ci(s + n, "rd", 2) ||
            match_ci(s + n, "th", 2))
            n += 2;
        else
            return 0;
    }
    *v = total;
    return n;
}

/* How many digits a numeric marker may take: bounded by its width, or by its own digits
 * when another marker follows with no literal between. */
static int digit_limit(const picture *p, int i)
{
    const part *pt = &p->parts[i];
    if (pt->max_width > 0)
        return pt->max_width;
    if (i + 1 < p->n && !p->parts[i + 1].is_literal) {
        int n = 0;
        for (const char *c = pt->text; *c; c++)
            n += isdigit((unsigned char)*c) || *c == '#';
        return n > 1 ? n : 0;
    }
    return 0;
}

static int parse_with_picture(const char *s, const char *picture_text, bool *is_defined, double *ms,
                              jfmt_err *err)
{
    picture p;
    int rc = analyse(picture_text, &p, err);
    if (rc < 0)
        return rc;
    /* values by component: Y M D d H h P m s f Z */
    enum { C_Y, C_M, C_D, C_DOY, C_H, C_H12, C_P, C_MIN, C_S, C_F, C_Z, C_N };
    double val[C_N];
    bool have[C_N] = {false};
    const char *letters = "YMDdHhPmsfZ";
    bool any = false;
    for (int i = 0; i < p.n; i++)
        if (!p.parts[i].is_literal && strchr("YMDdHhPmsf", p.parts[i].comp))
            any = true;
    *is_defined = false;
    size_t pos = 0;
    bool matched = any;
    for (int i = 0; i < p.n && matched; i++) {
        const part *pt = &p.parts[i];
        if (pt->is_literal) {
            size_t n = strlen(pt->text);
            if (strncmp(s + pos, pt->text, n) != 0)
                matched = false;
            pos += n;
            continue;
        }
        double v = 0;
        size_t n = read_component(s + pos, pt, digit_limit(&p, i), &v);
        if (n == 0) {
            matched = false;
            break;
        }
        pos += n;
        char comp = pt->comp == 'z' ? 'Z' : pt->comp;
        const char *k = strchr(letters, comp);
        if (k) {
            val[k - letters] = v;
            have[k - letters] = true;
        }
    }
    if (matched && s[pos] != '\0')
        matched = false;
    /* The fields given must run without a gap from the largest to the smallest. */
    bool hour = have[C_H] || have[C_H12];
    bool date_by_doy = have[C_DOY];
    bool seq[7] = {
        have[C_Y], have[C_M] || date_by_doy, have[C_D] || date_by_doy, hour, have[C_MIN], have[C_S],
        have[C_F]};
    int first = -1, last = -1;
    for (int k = 0; k < 7; k++)
        if (seq[k]) {
            if (first < 0)
                first = k;
            last = k;
        }
    for (int k = first; first >= 0 && k <= last; k++)
        if (!seq[k]) {
            picture_fini(&p);
            return jfmt__fail(err, "D3136",
                              "The date/time picture string is missing specifiers "
                              "required to parse the timestamp");
        }
    picture_fini(&p);
    if (!matched)
        return 0;
    /* missing leading fields come from the present moment (UTC), trailing ones are least */
    fields now;
    fields_from((double)time(NULL) * 1000.0, &now);
    double year = have[C_Y] ? val[C_Y] : now.year;
    int month = have[C_M] ? (int)val[C_M] : first > 1 ? now.month : 1;
    int day = have[C_D] ? (int)val[C_D] : first > 2 ? now.day : 1;
    int h = 0;
    if (have[C_H])
        h = (int)val[C_H];
    else if (have[C_H12])
        h = (int)val[C_H12] % 12 + (have[C_P] && val[C_P] == 1 ? 12 : 0);
    else if (first > 3)
        h = now.hour;
    double days = date_by_doy && !have[C_M] ? days_from_civil(year, 1, 1) + val[C_DOY] - 1
                                            : days_from_civil(year, month, day);
    double t = days * MS_PER_DAY + h * 3600000.0 + (have[C_MIN] ? val[C_MIN] : 0) * 60000.0 +
               (have[C_S] ? val[C_S] : 0) * 1000.0 + (have[C_F] ? val[C_F] : 0);
    if (have[C_Z])
        t -= val[C_Z] * 60000.0;
    *ms = t;
    *is_defined = true;
    return 0;
}

/* ISO 8601 as the reference accepts it without a picture: YYYY[-MM[-DD[Thh:mm:ss[.f]
 * [Z|±hh[:]mm]]]]; a time without offset is read as UTC. */
static bool parse_iso(const char *s, double *ms)
{
    int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, n = 0;
    double frac = 0;
    if (sscanf(s, "%4d%n", &y, &n) != 1 || n != 4)
        return false;
    const char *p = s + 4;
    if (*p == '-') {
        if (!(isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])))
            return false;
        mo = (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;
        if (*p == '-') {
            if (!(isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])))
                return false;
            d = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == 'T') {
                if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
                    return false;
                p += 9;
                if (*p == '.') {
                    double scale = 0.1;
                    p++;
                    if (!isdigit((unsigned char)*p))
                        return false;
                    while (isdigit((unsigned char)*p)) {
                        frac += (*p++ - '0') * scale;
                        scale /= 10;
                    }
                }
                int offset = 0;
                if (*p == 'Z') {
                    p++;
                } else if (*p == '+' || *p == '-') {
                    int oh, om;
                    if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5)
                        p += 6;
                    else if (sscanf(p + 1, "%2d%2d%n", &oh, &om, &n) == 2 && n == 4)
                        p += 5;
                    else
                        return false;
                    offset = (p[-1 - n] == '-' ? -1 : 1) * (oh * 60 + om);
                }
                mi -= offset;
            }
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || sec > 60)
        return false;
    *ms = days_from_civil(y, mo, d) * MS_PER_DAY + h * 3600000.0 + mi * 60000.0 + sec * 1000.0 +
          floor(frac * 1000 + 1e-6);
    return true;
}

int jfmt_to_millis(const char *string, const char *picture_text, bool *is_defined, double *ms,
                   jfmt_err *err)
{
    if (picture_text)
        return parse_with_picture(string, picture_text, is_defined, ms, err);
    *is_defined = false;
    if (!parse_iso(string, ms))
        return jfmt__fail(err, "D3110",
                          "The argument of the toMillis function must be an ISO 8601 formatted "
                          "timestamp. Given \"%s\"",
                          string);
    *is_defined = true;
    return 0;
}
