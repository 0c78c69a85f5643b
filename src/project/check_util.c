/*
 * check_util.c — the checker's reading helpers (project_int.h): one typed value from a
 * mapping, with the problem reported at the value's position in the words the format's
 * reference uses, and "did you mean" for misspelt keys and names.
 */
#include "base/alloc.h"
#include "base/file.h"
#include "project/project_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *prj__kind_name(const prj_node *n)
{
    switch (n->kind) {
    case PRJ_MAP:
        return "a mapping";
    case PRJ_SEQ:
        return "a list";
    default:
        return "a scalar";
    }
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *prj__closest(const char *word, const char *const *choices, size_t n)
{
    size_t limit = strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, choices[i]);
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    return best;
}

void prj__keys(ck *c, const prj_node *map, const char *const *allowed, const char *what)
{
    size_t n_allowed = 0;
    while (allowed[n_allowed])
        n_allowed++;
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->text;
        bool ok = false;
        for (size_t j = 0; j < n_allowed && !ok; j++)
            ok = strcmp(k, allowed[j]) == 0;
        if (ok)
            continue;
        const char *near = prj__closest(k, allowed, n_allowed);
        if (near) {
            prj_problem_add(c->pr, map->keys[i]->at, "unknown key '%s' in %s (did you mean '%s'?)",
                            k, what, near);
        } else {
            char list[512] = "";
            size_t used = 0;
            for (size_t j = 0; j < n_allowed && used < sizeof list - 1; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                         allowed[j]);
            prj_problem_add(c->pr, map->keys[i]->at, "unknown key '%s' in %s (expected one of: %s)",
                            k, what, list);
        }
    }
}

const prj_node *prj__map(ck *c, const prj_node *n, const char *what)
{
    if (n->kind == PRJ_MAP)
        return n;
    prj_problem_add(c->pr, n->at, "%s is %s (expected a mapping)", what, prj__kind_name(n));
    return NULL;
}

static const prj_node *scalar_at(ck *c, const prj_node *map, const char *key, const char *what,
                                 bool required, const char *expected)
{
    const prj_node *v = prj_map_get(map, key);
    if (v == NULL) {
        if (required)
            prj_problem_add(c->pr, map->at, "%s has no '%s' (expected %s)", what, key, expected);
        return NULL;
    }
    if (v->kind != PRJ_SCALAR) {
        prj_problem_add(c->pr, v->at, "'%s' of %s is %s (expected %s)", key, what,
                        prj__kind_name(v), expected);
        return NULL;
    }
    if (v->is_plain && (v->len == 0 || strcmp(v->text, "~") == 0 || strcmp(v->text, "null") == 0)) {
        if (required)
            prj_problem_add(c->pr, v->at, "'%s' of %s is empty (expected %s)", key, what, expected);
        return NULL;
    }
    return v;
}

char *prj__str(ck *c, const prj_node *map, const char *key, const char *what, bool required)
{
    const prj_node *v = scalar_at(c, map, key, what, required, "a string");
    return v ? bt_xstrdup(v->text) : NULL;
}

bool prj__bool(ck *c, const prj_node *map, const char *key, const char *what, bool def)
{
    const prj_node *v = scalar_at(c, map, key, what, false, "true or false");
    if (v == NULL)
        return def;
    if (v->is_plain && (strcmp(v->text, "true") == 0 || strcmp(v->text, "True") == 0))
        return true;
    if (v->is_plain && (strcmp(v->text, "false") == 0 || strcmp(v->text, "False") == 0))
        return false;
    prj_problem_add(c->pr, v->at, "'%s' of %s is \"%s\" (expected true or false)", key, what,
                    v->text);
    return def;
}

/* A decimal integer, all of s. */
static bool parse_int(const char *s, int64_t *out)
{
    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

static int64_t ranged(ck *c, const prj_node *v, const char *key, const char *what, int64_t val,
                      int64_t min, int64_t max, int64_t def, const char *unit)
{
    if (val < min || val > max) {
        prj_problem_add(c->pr, v->at, "'%s' of %s is %s (expected %lld to %lld%s)", key, what,
                        v->text, (long long)min, (long long)max, unit);
        return def;
    }
    return val;
}

int64_t prj__int(ck *c, const prj_node *map, const char *key, const char *what, int64_t min,
                 int64_t max, int64_t def)
{
    const prj_node *v = scalar_at(c, map, key, what, false, "an integer");
    if (v == NULL)
        return def;
    int64_t val;
    if (!v->is_plain || !parse_int(v->text, &val)) {
        prj_problem_add(c->pr, v->at,
                        "'%s' of %s is \"%s\" (expected an integer from %lld to %lld)", key, what,
                        v->text, (long long)min, (long long)max);
        return def;
    }
    return ranged(c, v, key, what, val, min, max, def, "");
}

/* The number and the suffix after it ("5m" → 5, "m"). */
static bool split_unit(const char *s, int64_t *n, const char **unit)
{
    const char *p = s;
    while (isdigit((unsigned char)*p))
        p++;
    if (p == s || p - s > 15)
        return false;
    char digits[16];
    memcpy(digits, s, (size_t)(p - s));
    digits[p - s] = '\0';
    *n = strtoll(digits, NULL, 10);
    *unit = p;
    return true;
}

int64_t prj__duration(ck *c, const prj_node *map, const char *key, const char *what, int64_t min,
                      int64_t max, int64_t def)
{
    const prj_node *v = scalar_at(c, map, key, what, false, "a duration");
    if (v == NULL)
        return def;
    int64_t n, mult = 0;
    const char *unit;
    if (split_unit(v->text, &n, &unit)) {
        if (*unit == '\0' || strcmp(unit, "s") == 0)
            mult = 1;
        else if (strcmp(unit, "m") == 0)
            mult = 60;
        else if (strcmp(unit, "h") == 0)
            mult = 3600;
        else if (strcmp(unit, "d") == 0)
            mult = 86400;
    }
    if (mult == 0) {
        prj_problem_add(c->pr, v->at,
                        "'%s' of %s is \"%s\" (expected a duration: seconds, or a number with s, "
                        "m, h or d)",
                        key, what, v->text);
        return def;
    }
    return ranged(c, v, key, what, n * mult, min, max, def, " seconds");
}

int64_t prj__size(ck *c, const prj_node *map, const char *key, const char *what, int64_t min,
                  int64_t max, int64_t def)
{
    const prj_node *v = scalar_at(c, map, key, what, false, "a size");
    if (v == NULL)
        return def;
    int64_t n, mult = 0;
    const char *unit;
    if (split_unit(v->text, &n, &unit)) {
        if (*unit == '\0' || strcmp(unit, "B") == 0)
            mult = 1;
        else if (strcmp(unit, "KiB") == 0)
            mult = 1024;
        else if (strcmp(unit, "MiB") == 0)
            mult = 1024 * 1024;
    }
    if (mult == 0) {
        prj_problem_add(c->pr, v->at,
                        "'%s' of %s is \"%s\" (expected a size: bytes, or a number with KiB or "
                        "MiB)",
                        key, what, v->text);
        return def;
    }
    return ranged(c, v, key, what, n * mult, min, max, def, " bytes");
}

const char *prj__read_error(int err, size_t max)
{
    static char buf[64];
    if (err == EINVAL)
        return "not a regular file (a FIFO, a device or a folder)";
    if (err == EFBIG) {
        snprintf(buf, sizeof buf, "larger than %zu bytes", max);
        return buf;
    }
    return strerror(err);
}

char *prj__abs(const project *p, const char *path)
{
    if (path[0] == '/')
        return bt_xstrdup(path);
    return bt_xasprintf("%s/%s", p->dir, path);
}

char *prj__secret(ck *c, const prj_node *map, const char *key, const char *what, bool required)
{
    char env_key[64], file_key[64];
    snprintf(env_key, sizeof env_key, "%s_env", key);
    snprintf(file_key, sizeof file_key, "%s_file", key);
    const prj_node *given[3] = {prj_map_get(map, key), prj_map_get(map, env_key),
                                prj_map_get(map, file_key)};
    int n_given = (given[0] != NULL) + (given[1] != NULL) + (given[2] != NULL);
    if (n_given > 1) {
        const prj_node *second = given[2] ? given[2] : given[1];
        prj_problem_add(c->pr, second->at,
                        "%s gives more than one of '%s', '%s' and '%s' "
                        "(expected one)",
                        what, key, env_key, file_key);
        return NULL;
    }
    if (n_given == 0) {
        if (required)
            prj_problem_add(c->pr, map->at, "%s has no '%s' (expected '%s', '%s' or '%s')", what,
                            key, key, env_key, file_key);
        return NULL;
    }
    if (given[0])
        return prj__str(c, map, key, what, true);
    if (given[1]) {
        char *name = prj__str(c, map, env_key, what, true);
        if (name == NULL)
            return NULL;
        const char *val = getenv(name);
        if (val == NULL || *val == '\0')
            prj_problem_add(c->pr, given[1]->at,
                            "environment variable %s (%s of %s) is not set (expected the "
                            "secret in it)",
                            name, env_key, what);
        char *out = val && *val ? bt_xstrdup(val) : NULL;
        free(name);
        return out;
    }
    char *rel = prj__str(c, map, file_key, what, true);
    if (rel == NULL)
        return NULL;
    char *path = prj__abs(c->p, rel);
    size_t len;
    char *text = bt_read_regular_file(path, PRJ_MAX_SECRET, &len);
    if (text == NULL) {
        prj_problem_add(c->pr, given[2]->at,
                        "cannot read %s (%s of %s): %s (expected a readable "
                        "file relative to the project file)",
                        rel, file_key, what, prj__read_error(errno, PRJ_MAX_SECRET));
    } else {
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        if (len == 0) {
            prj_problem_add(c->pr, given[2]->at, "%s (%s of %s) is empty (expected the secret)",
                            rel, file_key, what);
            free(text);
            text = NULL;
        }
    }
    free(rel);
    free(path);
    return text;
}

bool prj__simple_name(const char *name, size_t max, bool fifo_ok)
{
    size_t len = strlen(name);
    if (len == 0 || len > max)
        return false;
    size_t body = len;
    if (fifo_ok && len > 5 && strcmp(name + len - 5, ".fifo") == 0)
        body = len - 5;
    for (size_t i = 0; i < body; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

bool prj__ref(ck *c, const prj_node *node, const char *ref, const char *what, const char *kind,
              const char *section, const char *arn_prefix, const char *const *names, size_t n)
{
    if (strncmp(ref, arn_prefix, strlen(arn_prefix)) == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], ref) == 0)
            return true;
    const char *near = prj__closest(ref, names, n);
    if (near)
        prj_problem_add(c->pr, node->at,
                        "%s names %s '%s', which is not declared (did you mean '%s'?)", what, kind,
                        ref, near);
    else
        prj_problem_add(c->pr, node->at,
                        "%s names %s '%s', which is not declared (expected a name under '%s' or "
                        "an ARN %s…)",
                        what, kind, ref, section, arn_prefix);
    return false;
}
