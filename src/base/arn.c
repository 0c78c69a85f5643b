/*
 * arn.c — names and ARNs (arn.h). An ARN is split at ':' into its fixed six fields and the
 * resource part, whose shape the resource type decides; every name in it must pass the name
 * rule, so an ARN that parses names a resource that could exist.
 */
#include "base/arn.h"
#include "base/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The next code point of UTF-8 text at *p (advanced), or -1 when the bytes are not UTF-8. */
static int32_t next_code_point(const unsigned char **p)
{
    const unsigned char *s = *p;
    int32_t c = s[0];
    int n = 0;
    if (c < 0x80)
        n = 0;
    else if ((c & 0xE0) == 0xC0)
        n = 1, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 2, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 3, c &= 0x07;
    else
        return -1;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3F);
    }
    static const int32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1; /* overlong, beyond Unicode, or a surrogate */
    *p = s + n + 1;
    return c;
}

const char *bt_name_problem(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return "is empty";
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        int32_t c = next_code_point(&p);
        if (c < 0)
            return "is not valid UTF-8";
        if (++chars > BT_NAME_MAX_CHARS)
            return "is longer than 80 characters";
        if (c <= 0x1F || (c >= 0x7F && c <= 0x9F))
            return "contains a control character";
        if (c == ' ' || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
            c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000)
            return "contains whitespace";
        if (c < 0x80 && strchr("<>{}[]?*\"#%\\^|~`$&,;:/", (int)c))
            return "contains a character that is not allowed";
    }
    return NULL;
}

const char *bt_alias_name_problem(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return "is empty";
    if (strlen(name) > BT_NAME_MAX_CHARS)
        return "is longer than 80 characters";
    bool all_digits = true;
    for (const char *p = name; *p; p++) {
        bool digit = *p >= '0' && *p <= '9';
        if (!digit && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                        *p == '-' || *p == '.'))
            return "contains a character that is not allowed";
        all_digits = all_digits && digit;
    }
    return all_digits ? "is all digits" : NULL;
}

/* Copies [s, s + n) into dst (cap bytes); false when it does not fit. */
static bool take(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

static bool is_partition(const char *s)
{
    return strcmp(s, "aws") == 0 || strcmp(s, "aws-cn") == 0 || strcmp(s, "aws-us-gov") == 0;
}

static bool is_region(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

static bool is_account(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return false;
    return n == 12;
}

static bool is_id(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return false;
    return true;
}

bool bt_arn_is_version(const bt_arn *a)
{
    const char *q = a->qualifier;
    if (q[0] < '1' || q[0] > '9')
        return false;
    for (; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    return true;
}

int bt_arn_parse(const char *s, bt_arn *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (s == NULL || strlen(s) > BT_ARN_MAX_CHARS) {
        *why = "is longer than 256 characters";
        return -1;
    }
    /* arn : partition : states : region : account : type : rest */
    const char *f[6];
    size_t len[6];
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        const char *c = strchr(p, ':');
        if (c == NULL) {
            *why = "is not an ARN of Step Functions";
            return -1;
        }
        f[i] = p;
        len[i] = (size_t)(c - p);
        p = c + 1;
    }
    const char *rest = p;
    char service[16], type[16];
    if (len[0] != 3 || strncmp(f[0], "arn", 3) != 0 ||
        !take(out->partition, sizeof(out->partition), f[1], len[1]) ||
        !take(service, sizeof(service), f[2], len[2]) ||
        !take(out->region, sizeof(out->region), f[3], len[3]) ||
        !take(out->account, sizeof(out->account), f[4], len[4]) ||
        !take(type, sizeof(type), f[5], len[5]) || !is_partition(out->partition) ||
        strcmp(service, "states") != 0 || !is_region(out->region) || !is_account(out->account)) {
        *why = "is not an ARN of Step Functions";
        return -1;
    }
    /* the resource part: names separated by ':' (and '/' in a map run) */
    const char *parts[4];
    size_t plen[4];
    size_t n = 0;
    for (const char *q = rest;; n++) {
        const char *c = strchr(q, ':');
        if (n == 4) {
            *why = "has too many parts";
            return -1;
        }
        parts[n] = q;
        plen[n] = c ? (size_t)(c - q) : strlen(q);
        if (c == NULL) {
            n++;
            break;
        }
        q = c + 1;
    }
    bool ok;
    if (strcmp(type, "stateMachine") == 0) {
        out->kind = BT_ARN_STATE_MACHINE;
        ok = (n == 1 || n == 2) && take(out->machine, sizeof(out->machine), parts[0], plen[0]) &&
             (n == 1 || take(out->qualifier, sizeof(out->qualifier), parts[1], plen[1]));
        ok = ok && bt_name_problem(out->machine) == NULL &&
             (n == 1 || bt_name_problem(out->qualifier) == NULL);
    } else if (strcmp(type, "execution") == 0 || strcmp(type, "express") == 0) {
        bool express = strcmp(type, "express") == 0;
        out->kind = express ? BT_ARN_EXPRESS_EXECUTION : BT_ARN_EXECUTION;
        ok = n == (express ? 3u : 2u) &&
             take(out->machine, sizeof(out->machine), parts[0], plen[0]) &&
             take(out->name, sizeof(out->name), parts[1], plen[1]) &&
             (!express || take(out->id, sizeof(out->id), parts[2], plen[2]));
        ok = ok && bt_name_problem(out->machine) == NULL && bt_name_problem(out->name) == NULL &&
             (!express || is_id(out->id));
    } else if (strcmp(type, "activity") == 0) {
        out->kind = BT_ARN_ACTIVITY;
        ok = n == 1 && take(out->name, sizeof(out->name), parts[0], plen[0]) &&
             bt_name_problem(out->name) == NULL;
    } else if (strcmp(type, "mapRun") == 0) {
        out->kind = BT_ARN_MAP_RUN;
        const char *slash = n == 2 ? memchr(parts[0], '/', plen[0]) : NULL;
        ok = slash != NULL &&
             take(out->machine, sizeof(out->machine), parts[0], (size_t)(slash - parts[0])) &&
             take(out->name, sizeof(out->name), slash + 1,
                  plen[0] - (size_t)(slash - parts[0]) - 1) &&
             take(out->id, sizeof(out->id), parts[1], plen[1]);
        ok = ok && bt_name_problem(out->machine) == NULL && out->name[0] != '\0' && is_id(out->id);
    } else {
        *why = "names a resource type that is not valid in this context";
        return -1;
    }
    if (!ok) {
        *why = "does not have the shape of its resource type";
        return -1;
    }
    return 0;
}

char *bt_arn_format(const bt_arn *a)
{
    char head[96];
    snprintf(head, sizeof(head), "arn:%s:states:%s:%s", a->partition, a->region, a->account);
    switch (a->kind) {
    case BT_ARN_STATE_MACHINE:
        return a->qualifier[0]
                   ? bt_xasprintf("%s:stateMachine:%s:%s", head, a->machine, a->qualifier)
                   : bt_xasprintf("%s:stateMachine:%s", head, a->machine);
    case BT_ARN_EXECUTION:
        return bt_xasprintf("%s:execution:%s:%s", head, a->machine, a->name);
    case BT_ARN_EXPRESS_EXECUTION:
        return bt_xasprintf("%s:express:%s:%s:%s", head, a->machine, a->name, a->id);
    case BT_ARN_ACTIVITY:
        return bt_xasprintf("%s:activity:%s", head, a->name);
    case BT_ARN_MAP_RUN:
        return bt_xasprintf("%s:mapRun:%s/%s:%s", head, a->machine, a->name, a->id);
    }
    return bt_xstrdup(head);
}
