/*
 * tz.c — IANA time zones without the C library's process-wide TZ (expr.h): a reader of the
 * TZif files in /usr/share/zoneinfo (RFC 8536: the version 2+ block with 64-bit times, and
 * the footer's POSIX TZ rule for instants after the last transition, such as
 * "CET-1CEST,M3.5.0,M10.5.0/3").
 */
#include "base/alloc.h"
#include "base/file.h"
#include "sched/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TZIF_MAX (1 << 20)

/* A POSIX TZ rule's transition: month m, week w (5: last), weekday d (0 Sunday), at
 * seconds after local midnight (may be negative or past 24 h). */
typedef struct rule_date {
    int m, w, d;
    int32_t at_s;
} rule_date;

typedef struct posix_rule {
    bool is_set, has_dst;
    int32_t std_off, dst_off; /* seconds east */
    rule_date start, end;
} posix_rule;

struct sched_tz {
    char *name;
    int64_t *times; /* transitions */
    uint8_t *idx;   /* the type each starts */
    size_t n_times;
    int32_t *offs; /* per type, seconds east */
    size_t n_types;
    int32_t first_off; /* before the first transition */
    posix_rule rule;
};

const char *sched_tz_name(const sched_tz *z)
{
    return z ? z->name : "UTC";
}

void sched_tz_free(sched_tz *z)
{
    if (z == NULL)
        return;
    free(z->name);
    free(z->times);
    free(z->idx);
    free(z->offs);
    free(z);
}

/* ---- the POSIX rule ---- */

static const char *skip_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *q = p;
    while (isalpha((unsigned char)*q))
        q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds; NULL when malformed. */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return NULL;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            v[i] = v[i] * 10 + (*p++ - '0');
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *parse_date(const char *p, rule_date *r)
{
    if (*p != 'M')
        return NULL; /* Jn and n forms: no zone in use needs them */
    char *end;
    r->m = (int)strtol(p + 1, &end, 10);
    if (*end != '.')
        return NULL;
    r->w = (int)strtol(end + 1, &end, 10);
    if (*end != '.')
        return NULL;
    r->d = (int)strtol(end + 1, &end, 10);
    if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
        return NULL;
    p = end;
    r->at_s = 7200;
    if (*p == '/')
        p = parse_hms(p + 1, &r->at_s);
    return p;
}

static bool parse_rule(const char *s, posix_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *p = skip_name(s);
    int32_t west;
    if (p == NULL || (p = parse_hms(p, &west)) == NULL)
        return false;
    r->std_off = -west;
    r->is_set = true;
    if (*p == '\0')
        return true;
    if ((p = skip_name(p)) == NULL)
        return false;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if ((p = parse_hms(p, &west)) == NULL)
            return false;
        r->dst_off = -west;
    }
    if (*p != ',' || (p = parse_date(p + 1, &r->start)) == NULL || *p != ',' ||
        (p = parse_date(p + 1, &r->end)) == NULL || *p != '\0') {
        r->is_set = false;
        return false;
    }
    r->has_dst = true;
    return true;
}

/* The local midnight (seconds, wall) of the rule's day in year y. */
static int64_t rule_day(const rule_date *r, int y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = sched_days_from_civil(y, r->m, 1);
    int wd = (int)(((first + 4) % 7 + 7) % 7); /* 0 Sunday */
    int day = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;
    int last = mdays[r->m - 1] + (r->m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    while (day > last)
        day -= 7;
    return (first + day - 1) * 86400;
}

static int32_t rule_offset(const posix_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t wall = t + r->std_off;
    int y, m, d;
    sched_civil_from_days(wall >= 0 ? wall / 86400 : (wall - 86399) / 86400, &y, &m, &d);
    /* start is given in standard time, end in daylight time */
    int64_t start = rule_day(&r->start, y) + r->start.at_s - r->std_off;
    int64_t end = rule_day(&r->end, y) + r->end.at_s - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

int sched_tz_from_tzif(const char *name, const unsigned char *data, size_t len, sched_tz **out,
                       bt_err *err)
{
    *out = NULL;
    if (len < 44 || memcmp(data, "TZif", 4) != 0)
        return bt_err_set(err, BT_EINVAL, "time zone %s: not a TZif file", name);
    int version = data[4] ? data[4] - '0' : 1;
    const unsigned char *h = data;
    size_t tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28),
                 timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
        size_t body =
            timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
        if (typecnt == 0 || (size_t)(h - data) + 44 + body > len)
            return bt_err_set(err, BT_EINVAL, "time zone %s: truncated TZif file", name);
        if (pass == 0 && version >= 2) {
            h += 44 + body;
            tsize = 8;
            if ((size_t)(h - data) + 44 > len || memcmp(h, "TZif", 4) != 0)
                return bt_err_set(err, BT_EINVAL, "time zone %s: bad TZif v2 header", name);
            continue;
        }
        sched_tz *z = bt_xcalloc(1, sizeof *z);
        z->name = bt_xstrdup(name);
        const unsigned char *p = h + 44;
        z->n_times = timecnt;
        z->times = bt_xcalloc(timecnt ? timecnt : 1, sizeof *z->times);
        z->idx = bt_xcalloc(timecnt ? timecnt : 1, 1);
        for (uint32_t i = 0; i < timecnt; i++, p += tsize)
            z->times[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
        for (uint32_t i = 0; i < timecnt; i++)
            z->idx[i] = *p++ < typecnt ? p[-1] : 0;
        z->n_types = typecnt;
        z->offs = bt_xcalloc(typecnt, sizeof *z->offs);
        int first_std = -1;
        for (uint32_t i = 0; i < typecnt; i++, p += 6) {
            z->offs[i] = (int32_t)be32(p);
            if (first_std < 0 && p[4] == 0)
                first_std = (int)i;
        }
        z->first_off = z->offs[first_std >= 0 ? first_std : 0];
        const unsigned char *footer = h + 44 + body;
        if (version >= 2 && footer < data + len && *footer == '\n') {
            const unsigned char *nl = memchr(footer + 1, '\n', (size_t)(data + len - footer - 1));
            if (nl && nl - footer - 1 < 128) {
                char rule[128];
                memcpy(rule, footer + 1, (size_t)(nl - footer - 1));
                rule[nl - footer - 1] = '\0';
                parse_rule(rule, &z->rule);
            }
        }
        *out = z;
        return 0;
    }
    return bt_err_set(err, BT_EINVAL, "time zone %s: unreadable", name);
}

int sched_tz_load(const char *name, sched_tz **out, bt_err *err)
{
    *out = NULL;
    if (name == NULL || strcmp(name, "UTC") == 0)
        return 0;
    bool ok = name[0] != '\0' && name[0] != '/' && strlen(name) <= 50 && strstr(name, "..") == NULL;
    for (const char *q = name; *q && ok; q++)
        ok = isalnum((unsigned char)*q) || strchr("/_+-", *q);
    if (!ok)
        return bt_err_set(err, BT_ENOTFOUND, "unknown time zone %s", name);
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return bt_err_set(err, BT_ENOTFOUND, "unknown time zone %s", name);
    size_t len = 0;
    char *data = bt_read_regular_file(path, TZIF_MAX, &len);
    if (data == NULL)
        return bt_err_set(err, BT_ENOTFOUND, "unknown time zone %s", name);
    int rc = sched_tz_from_tzif(name, (const unsigned char *)data, len, out, err);
    free(data);
    return rc;
}

int32_t sched_tz_offset(const sched_tz *z, int64_t t)
{
    if (z == NULL)
        return 0;
    if (z->n_times == 0 || t < z->times[0])
        return z->n_times == 0 && z->rule.is_set ? rule_offset(&z->rule, t) : z->first_off;
    if (t >= z->times[z->n_times - 1] && z->rule.is_set)
        return rule_offset(&z->rule, t);
    size_t lo = 0, hi = z->n_times; /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->offs[z->idx[lo]];
}

int64_t sched_tz_from_wall(const sched_tz *z, int64_t wall)
{
    if (z == NULL)
        return wall;
    int32_t cand[3] = {sched_tz_offset(z, wall - 2 * 86400), sched_tz_offset(z, wall),
                       sched_tz_offset(z, wall + 2 * 86400)};
    int64_t best = INT64_MIN;
    for (int i = 0; i < 3; i++) {
        int64_t u = wall - cand[i];
        if (sched_tz_offset(z, u) == cand[i] && (best == INT64_MIN || u < best))
            best = u;
    }
    return best;
}
