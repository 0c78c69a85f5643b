/*
 * check_more.c — the project file's sections for the services of the next stage, checked
 * now so that a file is complete and right before they arrive: topics and their
 * subscriptions, HTTP routes, schedules, SMTP, the public URL and the approval links'
 * signing key. Same helpers and messages as check.c.
 */
#include "base/alloc.h"
#include "project/project_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_empty(const prj_node *n)
{
    return n == NULL || (n->kind == PRJ_SCALAR && n->is_plain && n->len == 0);
}

static const char **machine_names(const project *p)
{
    const char **out = bt_xcalloc(p->n_machines ? p->n_machines : 1, sizeof *out);
    for (size_t i = 0; i < p->n_machines; i++)
        out[i] = p->machines[i].name;
    return out;
}

static const char **function_names(const project *p)
{
    const char **out = bt_xcalloc(p->n_functions ? p->n_functions : 1, sizeof *out);
    for (size_t i = 0; i < p->n_functions; i++)
        out[i] = p->functions[i].name;
    return out;
}

static const char **queue_names(const project *p)
{
    const char **out = bt_xcalloc(p->n_queues ? p->n_queues : 1, sizeof *out);
    for (size_t i = 0; i < p->n_queues; i++)
        out[i] = p->queues[i].name;
    return out;
}

static bool is_http_url(const char *s)
{
    return (strncmp(s, "http://", 7) == 0 && s[7]) || (strncmp(s, "https://", 8) == 0 && s[8]);
}

/* ---- topics ---- */

static void check_subscription(ck *c, prj_subscription *s, const prj_node *v, const char *topic,
                               size_t index)
{
    static const char *const keys[] = {"protocol", "endpoint", "filter_policy", "raw", NULL};
    static const char *const protocols[] = {"email", "email-json", "http",
                                            "https", "sqs",        "lambda"};
    char what[200];
    snprintf(what, sizeof what, "subscription %zu of topic '%s'", index + 1, topic);
    s->at = v->at;
    if (prj__map(c, v, what) == NULL)
        return;
    prj__keys(c, v, keys, what);
    s->protocol = prj__str(c, v, "protocol", what, true);
    s->endpoint = prj__str(c, v, "endpoint", what, true);
    s->raw = prj__bool(c, v, "raw", what, false);
    const prj_node *fp = prj_map_get(v, "filter_policy");
    if (fp) {
        char where[256];
        snprintf(where, sizeof where, "the filter_policy of %s", what);
        if (prj__map(c, fp, where))
            s->filter_policy = prj_node_to_json(fp);
    }
    if (s->protocol == NULL)
        return;
    size_t which = 0;
    while (which < 6 && strcmp(s->protocol, protocols[which]) != 0)
        which++;
    const prj_node *pn = prj_map_get(v, "protocol");
    if (which == 6) {
        const char *near = prj__closest(s->protocol, protocols, 6);
        prj_problem_add(c->pr, pn->at,
                        "'protocol' of %s is \"%s\" (expected email, email-json, http, https, sqs "
                        "or lambda%s%s%s)",
                        what, s->protocol, near ? "; did you mean '" : "", near ? near : "",
                        near ? "'?" : "");
        return;
    }
    /* SNS's RawMessageDelivery applies to SQS and HTTP/S endpoints only. */
    if (s->raw && which != 2 && which != 3 && which != 4)
        prj_problem_add(c->pr, prj_map_get(v, "raw")->at,
                        "raw delivery does not apply to protocol %s in %s (expected it with sqs, "
                        "http or https)",
                        s->protocol, what);
    if (s->endpoint == NULL)
        return;
    const prj_node *en = prj_map_get(v, "endpoint");
    project *p = c->p;
    if (which <= 1) {
        const char *at = strchr(s->endpoint, '@');
        if (at == NULL || at == s->endpoint || at[1] == '\0' || strchr(s->endpoint, ' '))
            prj_problem_add(c->pr, en->at, "'endpoint' of %s is \"%s\" (expected an email address)",
                            what, s->endpoint);
    } else if (which <= 3) {
        const char *scheme = which == 2 ? "http://" : "https://";
        if (strncmp(s->endpoint, scheme, strlen(scheme)) != 0 || !is_http_url(s->endpoint))
            prj_problem_add(c->pr, en->at, "'endpoint' of %s is \"%s\" (expected a URL %s…)", what,
                            s->endpoint, scheme);
    } else if (which == 4) {
        const char **names = queue_names(p);
        prj__ref(c, en, s->endpoint, what, "queue", "queues", "arn:aws:sqs:", names, p->n_queues);
        free(names);
    } else {
        const char **names = function_names(p);
        prj__ref(c, en, s->endpoint, what, "function", "functions", "arn:aws:lambda:", names,
                 p->n_functions);
        free(names);
    }
}

void prj__check_topics(ck *c, const prj_node *sec)
{
    if (is_empty(sec) || prj__map(c, sec, "'topics'") == NULL)
        return;
    project *p = c->p;
    p->topics = bt_xcalloc(sec->n ? sec->n : 1, sizeof *p->topics);
    for (size_t i = 0; i < sec->n; i++) {
        static const char *const keys[] = {"subscriptions", NULL};
        prj_topic *t = &p->topics[p->n_topics++];
        const prj_node *key = sec->keys[i], *v = sec->items[i];
        t->name = bt_xstrdup(key->text);
        t->at = key->at;
        char what[200];
        snprintf(what, sizeof what, "topic '%s'", t->name);
        /* SNS: up to 256 letters, digits, hyphens and underscores (.fifo for FIFO topics). */
        if (!prj__simple_name(t->name, 256, true))
            prj_problem_add(c->pr, key->at,
                            "topic name '%s' is not valid (expected 1 to 256 letters, digits, "
                            "hyphens or underscores)",
                            t->name);
        if (is_empty(v) || prj__map(c, v, what) == NULL)
            continue;
        prj__keys(c, v, keys, what);
        const prj_node *subs = prj_map_get(v, "subscriptions");
        if (is_empty(subs))
            continue;
        if (subs->kind != PRJ_SEQ) {
            prj_problem_add(c->pr, subs->at, "'subscriptions' of %s is %s (expected a list)", what,
                            prj__kind_name(subs));
            continue;
        }
        t->subs = bt_xcalloc(subs->n ? subs->n : 1, sizeof *t->subs);
        for (size_t j = 0; j < subs->n; j++)
            check_subscription(c, &t->subs[t->n_subs++], subs->items[j], t->name, j);
    }
}

/* ---- routes ---- */

/* Paths Baton's own APIs and pages answer (api/router.c keeps them). */
static bool reserved_path(const char *path)
{
    if (strcmp(path, "/") == 0 || strcmp(path, "/health") == 0 || strcmp(path, "/outbox") == 0 ||
        strncmp(path, "/outbox/", 8) == 0 || strncmp(path, "/baton/", 7) == 0 ||
        strcmp(path, "/baton") == 0 || strncmp(path, "/2015-03-31/", 12) == 0)
        return true;
    size_t d = strspn(path + 1, "0123456789");
    return d == 12 && path[13] == '/';
}

void prj__check_routes(ck *c, const prj_node *sec)
{
    static const char *const keys[] = {"method",           "path",  "function", "confirm",
                                       "request_template", "proxy", NULL};
    static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                          "DELETE", "HEAD", "OPTIONS", "ANY"};
    if (is_empty(sec))
        return;
    if (sec->kind != PRJ_SEQ) {
        prj_problem_add(c->pr, sec->at, "'routes' is %s (expected a list)", prj__kind_name(sec));
        return;
    }
    project *p = c->p;
    p->routes = bt_xcalloc(sec->n ? sec->n : 1, sizeof *p->routes);
    const char **fnames = function_names(p);
    for (size_t i = 0; i < sec->n; i++) {
        prj_route *r = &p->routes[p->n_routes++];
        const prj_node *v = sec->items[i];
        char what[64];
        snprintf(what, sizeof what, "route %zu", i + 1);
        r->at = v->at;
        if (prj__map(c, v, what) == NULL)
            continue;
        prj__keys(c, v, keys, what);
        r->method = prj__str(c, v, "method", what, false);
        if (r->method == NULL)
            r->method = bt_xstrdup("GET");
        size_t m = 0;
        while (m < 8 && strcmp(r->method, methods[m]) != 0)
            m++;
        if (m == 8)
            prj_problem_add(c->pr, prj_map_get(v, "method")->at,
                            "'method' of %s is \"%s\" (expected GET, POST, PUT, PATCH, DELETE, "
                            "HEAD, OPTIONS or ANY)",
                            what, r->method);
        r->path = prj__str(c, v, "path", what, true);
        if (r->path && (r->path[0] != '/' || strpbrk(r->path, " ?#")))
            prj_problem_add(c->pr, prj_map_get(v, "path")->at,
                            "'path' of %s is \"%s\" (expected a path such as /verification, "
                            "without query or spaces)",
                            what, r->path);
        if (r->path && r->path[0] == '/' && reserved_path(r->path))
            prj_problem_add(c->pr, prj_map_get(v, "path")->at,
                            "'path' of %s is \"%s\", one of Baton's own (expected a path "
                            "outside /, /health, /outbox, /baton/, /2015-03-31/ and the queue "
                            "URLs /<account>/<queue>)",
                            what, r->path);
        r->function = prj__str(c, v, "function", what, true);
        if (r->function)
            prj__ref(c, prj_map_get(v, "function"), r->function, what, "function", "functions",
                     "arn:aws:lambda:", fnames, p->n_functions);
        r->confirm = prj__bool(c, v, "confirm", what, false);
        r->proxy = prj__bool(c, v, "proxy", what, false);
        const prj_node *tpl = prj_map_get(v, "request_template");
        if (tpl) {
            if (tpl->kind == PRJ_SEQ)
                prj_problem_add(c->pr, tpl->at,
                                "'request_template' of %s is a list (expected a mapping or a "
                                "template string)",
                                what);
            else
                r->request_template =
                    tpl->kind == PRJ_SCALAR ? json_string(tpl->text) : prj_node_to_json(tpl);
            if (r->proxy)
                prj_problem_add(c->pr, tpl->at,
                                "%s has both 'proxy' and 'request_template' (expected one: a proxy "
                                "route passes the whole request)",
                                what);
        }
        for (size_t j = 0; j + 1 < p->n_routes && r->path; j++) {
            prj_route *o = &p->routes[j];
            if (o->path && strcmp(o->path, r->path) == 0 &&
                (strcmp(o->method, r->method) == 0 || strcmp(o->method, "ANY") == 0 ||
                 strcmp(r->method, "ANY") == 0))
                prj_problem_add(c->pr, r->at,
                                "%s repeats route %zu (%s %s; expected one route "
                                "per method and path)",
                                what, j + 1, r->method, r->path);
        }
    }
    free(fnames);
}

/* ---- schedules ---- */

/* EventBridge Scheduler's expressions: rate(1 minute), rate(10 minutes) (singular for 1,
 * plural otherwise, minute/hour/day), cron(min hour day-of-month month day-of-week year)
 * with one of the two day fields '?', at(yyyy-mm-ddThh:mm:ss). NULL when fine, else why. */
static const char *expression_problem(const char *e)
{
    size_t len = strlen(e);
    if (len < 6 || e[len - 1] != ')')
        return "not rate(…), cron(…) or at(…)";
    if (strncmp(e, "rate(", 5) == 0) {
        char unit[16];
        long n;
        int used = 0;
        if (sscanf(e + 5, "%ld %15[a-z])%n", &n, unit, &used) != 2 || (size_t)used != len - 5)
            return "a rate needs a number and a unit, as rate(10 minutes)";
        if (n < 1)
            return "a rate needs a positive number";
        bool one = n == 1;
        if (strcmp(unit, one ? "minute" : "minutes") != 0 &&
            strcmp(unit, one ? "hour" : "hours") != 0 && strcmp(unit, one ? "day" : "days") != 0)
            return one ? "the unit of rate(1 …) is minute, hour or day"
                       : "the unit of a rate above 1 is minutes, hours or days";
        return NULL;
    }
    if (strncmp(e, "cron(", 5) == 0) {
        char body[256];
        if (len - 6 >= sizeof body)
            return "the cron expression is too long";
        memcpy(body, e + 5, len - 6);
        body[len - 6] = '\0';
        char *fields[7];
        int n = 0;
        for (char *tok = strtok(body, " "); tok && n < 7; tok = strtok(NULL, " "))
            fields[n++] = tok;
        if (n != 6)
            return "a cron expression has six fields: minutes hours day-of-month month "
                   "day-of-week year";
        for (int i = 0; i < 6; i++)
            for (const char *q = fields[i]; *q; q++)
                if (!isalnum((unsigned char)*q) && !strchr(",-*/?LW#", *q))
                    return "a cron field holds digits, names and , - * / ? L W # only";
        bool dom_any = strcmp(fields[2], "?") == 0, dow_any = strcmp(fields[4], "?") == 0;
        if (dom_any == dow_any)
            return "exactly one of day-of-month and day-of-week must be ?";
        return NULL;
    }
    if (strncmp(e, "at(", 3) == 0) {
        int y, mo, d, h, mi, s, used = 0;
        if (len != 23 ||
            sscanf(e + 3, "%4d-%2d-%2dT%2d:%2d:%2d)%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
            used != 20 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
            return "a one-off schedule is at(yyyy-mm-ddThh:mm:ss)";
        return NULL;
    }
    return "not rate(…), cron(…) or at(…)";
}

static const char **topic_names(const project *p)
{
    const char **out = bt_xcalloc(p->n_topics ? p->n_topics : 1, sizeof *out);
    for (size_t i = 0; i < p->n_topics; i++)
        out[i] = p->topics[i].name;
    return out;
}

/* One of target (a state machine), function, queue and topic: a declared name or an ARN. */
static void check_target(ck *c, const prj_node *v, prj_schedule *s, const char *what)
{
    static const struct {
        const char *key, *kind, *section, *arn_prefix;
        prj_target_kind k;
    } kinds[] = {
        {"target", "state machine", "state_machines", "arn:aws:states:", PRJ_TARGET_MACHINE},
        {"function", "function", "functions", "arn:aws:lambda:", PRJ_TARGET_FUNCTION},
        {"queue", "queue", "queues", "arn:aws:sqs:", PRJ_TARGET_QUEUE},
        {"topic", "topic", "topics", "arn:aws:sns:", PRJ_TARGET_TOPIC},
    };
    const project *p = c->p;
    size_t found = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const prj_node *n = prj_map_get(v, kinds[i].key);
        if (n == NULL)
            continue;
        if (found++ > 0) {
            prj_problem_add(c->pr, n->at,
                            "%s gives more than one of 'target', 'function', 'queue' and "
                            "'topic' (expected one)",
                            what);
            continue;
        }
        s->target = prj__str(c, v, kinds[i].key, what, true);
        s->target_kind = kinds[i].k;
        if (s->target == NULL)
            continue;
        const char **names;
        size_t len;
        switch (kinds[i].k) {
        case PRJ_TARGET_FUNCTION:
            names = function_names(p), len = p->n_functions;
            break;
        case PRJ_TARGET_QUEUE:
            names = queue_names(p), len = p->n_queues;
            break;
        case PRJ_TARGET_TOPIC:
            names = topic_names(p), len = p->n_topics;
            break;
        default:
            names = machine_names(p), len = p->n_machines;
            break;
        }
        prj__ref(c, n, s->target, what, kinds[i].kind, kinds[i].section, kinds[i].arn_prefix, names,
                 len);
        free(names);
    }
    if (found == 0)
        prj_problem_add(c->pr, v->at,
                        "%s has no target (expected 'target': a state machine, or 'function', "
                        "'queue' or 'topic')",
                        what);
}

void prj__check_schedules(ck *c, const prj_node *sec)
{
    static const char *const keys[] = {"expression", "timezone", "target",        "function",
                                       "queue",      "topic",    "input",         "enabled",
                                       "overlap",    "catch_up", "fire_at_start", NULL};
    if (is_empty(sec) || prj__map(c, sec, "'schedules'") == NULL)
        return;
    project *p = c->p;
    p->schedules = bt_xcalloc(sec->n ? sec->n : 1, sizeof *p->schedules);
    for (size_t i = 0; i < sec->n; i++) {
        prj_schedule *s = &p->schedules[p->n_schedules++];
        const prj_node *key = sec->keys[i], *v = sec->items[i];
        s->name = bt_xstrdup(key->text);
        s->at = key->at;
        s->enabled = true;
        char what[200];
        snprintf(what, sizeof what, "schedule '%s'", s->name);
        /* EventBridge Scheduler: names of 1 to 64 of [0-9a-zA-Z-_.]. */
        bool ok = strlen(s->name) >= 1 && strlen(s->name) <= 64;
        for (const char *q = s->name; *q && ok; q++)
            ok = isalnum((unsigned char)*q) || *q == '-' || *q == '_' || *q == '.';
        if (!ok)
            prj_problem_add(c->pr, key->at,
                            "schedule name '%s' is not valid (expected 1 to 64 letters, digits, "
                            "hyphens, underscores or dots)",
                            s->name);
        if (prj__map(c, v, what) == NULL)
            continue;
        prj__keys(c, v, keys, what);
        s->expression = prj__str(c, v, "expression", what, true);
        const char *why = s->expression ? expression_problem(s->expression) : NULL;
        /* the schedules' own parser has the last word (ranges, names, L, W, #) */
        sched_expr parsed;
        bt_err perr = {0};
        char reason[sizeof perr.msg];
        if (s->expression && why == NULL &&
            sched_expr_parse(s->expression, true, &parsed, &perr) != 0) {
            const char *open = strchr(perr.msg, '(');
            snprintf(reason, sizeof reason, "%s", open ? open + 1 : perr.msg);
            size_t rl = strlen(reason);
            if (open && rl > 0 && reason[rl - 1] == ')')
                reason[rl - 1] = '\0';
            why = reason;
        }
        if (why)
            prj_problem_add(c->pr, prj_map_get(v, "expression")->at,
                            "'expression' of %s is \"%s\": %s (expected rate(…), cron(…) or "
                            "at(…))",
                            what, s->expression, why);
        s->timezone = prj__str(c, v, "timezone", what, false);
        if (s->timezone && strcmp(s->timezone, "UTC") != 0) {
            char *zone = bt_xasprintf("/usr/share/zoneinfo/%s", s->timezone);
            struct stat st;
            if (strstr(s->timezone, "..") || stat(zone, &st) != 0 || !S_ISREG(st.st_mode))
                prj_problem_add(c->pr, prj_map_get(v, "timezone")->at,
                                "'timezone' of %s is \"%s\", which is not a known time zone "
                                "(expected an IANA name such as Europe/Berlin)",
                                what, s->timezone);
            free(zone);
        }
        check_target(c, v, s, what);
        const prj_node *input = prj_map_get(v, "input");
        if (input == NULL) {
            s->input = json_object();
        } else if (input->kind == PRJ_SCALAR && !input->is_plain) {
            json_error_t jerr;
            s->input = json_loads(input->text, JSON_DECODE_ANY, &jerr);
            if (s->input == NULL)
                prj_problem_add(c->pr, input->at,
                                "'input' of %s is not JSON: %s (expected a mapping, or JSON text)",
                                what, jerr.text);
        } else {
            s->input = prj_node_to_json(input);
        }
        s->enabled = prj__bool(c, v, "enabled", what, true);
        s->catch_up = prj__bool(c, v, "catch_up", what, false);
        s->fire_at_start = prj__bool(c, v, "fire_at_start", what, false);
        if (s->fire_at_start && s->expression && strncmp(s->expression, "at(", 3) == 0)
            prj_problem_add(c->pr, prj_map_get(v, "fire_at_start")->at,
                            "'fire_at_start' of %s is for rate(…) and cron(…) (an at(…) "
                            "schedule fires once, at its time)",
                            what);
        char *overlap = prj__str(c, v, "overlap", what, false);
        if (overlap && strcmp(overlap, "allow") != 0 && strcmp(overlap, "skip") != 0)
            prj_problem_add(c->pr, prj_map_get(v, "overlap")->at,
                            "'overlap' of %s is \"%s\" (expected allow or skip)", what, overlap);
        s->skip_overlap = overlap && strcmp(overlap, "skip") == 0;
        free(overlap);
    }
}

/* ---- smtp and settings ---- */

void prj__check_smtp(ck *c, const prj_node *n)
{
    static const char *const keys[] = {"host",     "port",     "starttls",     "ca_file",
                                       "username", "password", "password_env", "password_file",
                                       "from",     NULL};
    if (is_empty(n) || prj__map(c, n, "'smtp'") == NULL)
        return;
    prj_smtp *s = &c->p->smtp;
    const char *what = "'smtp'";
    s->is_set = true;
    s->at = n->at;
    prj__keys(c, n, keys, what);
    s->host = prj__str(c, n, "host", what, true);
    s->port = (int)prj__int(c, n, "port", what, 1, 65535, 587);
    s->starttls = prj__bool(c, n, "starttls", what, s->port != 25);
    char *ca = prj__str(c, n, "ca_file", what, false);
    if (ca) {
        s->ca_file = prj__abs(c->p, ca);
        struct stat st;
        if (stat(s->ca_file, &st) != 0 || !S_ISREG(st.st_mode) || access(s->ca_file, R_OK) != 0)
            prj_problem_add(c->pr, prj_map_get(n, "ca_file")->at,
                            "'ca_file' of 'smtp' is \"%s\" (expected a readable file of PEM "
                            "certificates)",
                            ca);
        free(ca);
    }
    s->username = prj__str(c, n, "username", what, false);
    s->password = prj__secret(c, n, "password", what, false);
    if (s->password && s->username == NULL)
        prj_problem_add(c->pr, n->at, "'smtp' has a password but no 'username' (expected both)");
    s->from = prj__str(c, n, "from", what, true);
    if (s->from && strchr(s->from, '@') == NULL)
        prj_problem_add(c->pr, prj_map_get(n, "from")->at,
                        "'from' of 'smtp' is \"%s\" (expected an email address)", s->from);
    else if (s->from && strpbrk(s->from, " \t\r\n<>,;"))
        /* It goes into MAIL FROM:<…> and the From header: a line break would add commands. */
        prj_problem_add(c->pr, prj_map_get(n, "from")->at,
                        "'from' of 'smtp' is not a single address (expected an email address "
                        "without spaces, line breaks, <, >, ',' or ';')");
}

void prj__check_settings(ck *c)
{
    project *p = c->p;
    p->public_url = prj__str(c, c->root, "public_url", "the project file", false);
    if (p->public_url && !is_http_url(p->public_url))
        prj_problem_add(c->pr, prj_map_get(c->root, "public_url")->at,
                        "'public_url' is \"%s\" (expected http://… or https://…)", p->public_url);
    p->signing_key = prj__secret(c, c->root, "signing_key", "the project file", false);
    /* HMAC-SHA-256 keys shorter than the hash add nothing but weakness. */
    if (p->signing_key && strlen(p->signing_key) < 32) {
        const prj_node *at = prj_map_get(c->root, "signing_key");
        if (at == NULL)
            at = prj_map_get(c->root, "signing_key_env");
        if (at == NULL)
            at = prj_map_get(c->root, "signing_key_file");
        prj_problem_add(c->pr, at->at, "the signing key has %zu characters (expected at least 32)",
                        strlen(p->signing_key));
    }
}
