/*
 * route.c — the route table: sets of compiled routes, swapped whole under a mutex and
 * reference-counted so that a request being served keeps the routes it matched.
 */
#include "route/route_int.h"

#include "base/alloc.h"
#include "base/rand.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

route_set *route_set_new(void)
{
    route_set *s = bt_xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    return s;
}

int route_set_add(route_set *s, const route_def *def, bt_err *err)
{
    vtl_template *tpl = NULL;
    if (def->template_text && vtl_compile(def->template_text, &tpl, err) != 0)
        return BT_EINVAL;
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->items = bt_xrealloc(s->items, s->cap * sizeof *s->items);
    }
    route *r = bt_xcalloc(1, sizeof *r);
    r->method = bt_xstrdup(def->method ? def->method : "GET");
    r->path = bt_xstrdup(def->path);
    r->function = bt_xstrdup(def->function);
    r->confirm = def->confirm;
    r->proxy = def->proxy;
    r->tpl = tpl;
    r->has_params = strchr(def->path, '{') != NULL;
    s->items[s->len++] = r;
    return 0;
}

size_t route_set_len(const route_set *s)
{
    return s->len;
}

void route_set_release(route_set *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->len; i++) {
        route *r = s->items[i];
        free(r->method);
        free(r->path);
        free(r->function);
        vtl_free(r->tpl);
        free(r);
    }
    free(s->items);
    free(s);
}

route_table *route_table_new(void)
{
    route_table *t = bt_xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->set = route_set_new();
    bt_random_bytes(t->secret, sizeof t->secret);
    return t;
}

void route_table_free(route_table *t)
{
    if (t == NULL)
        return;
    route_set_release(t->set);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

void route_table_replace(route_table *t, route_set *s)
{
    pthread_mutex_lock(&t->mu);
    route_set *old = t->set;
    t->set = s;
    pthread_mutex_unlock(&t->mu);
    route_set_release(old);
}

static bool method_ok(const route *r, const char *method)
{
    if (strcmp(r->method, "ANY") == 0 || strcmp(r->method, method) == 0)
        return true;
    return r->confirm && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
                          strcmp(method, "POST") == 0);
}

/* Matches path against the template tpl; with m, records the parameters. */
static bool path_matches(const char *tpl, const char *path, route_match *m)
{
    size_t n0 = m ? m->n_params : 0;
    const char *t = tpl, *p = path;
    while (*t && *p) {
        if (*t == '{') {
            const char *close = strchr(t, '}');
            if (close == NULL)
                return false;
            bool greedy = close > t + 1 && close[-1] == '+';
            size_t name_len = (size_t)(close - t - 1) - (greedy ? 1 : 0);
            const char *end = greedy ? p + strlen(p) : p + strcspn(p, "/");
            if (end == p)
                goto fail;
            if (m && m->n_params < ROUTE_MAX_PARAMS) {
                m->params[m->n_params].name = bt_xstrndup(t + 1, name_len);
                m->params[m->n_params].value = bt_xstrndup(p, (size_t)(end - p));
                m->n_params++;
            }
            t = close + 1;
            p = end;
            continue;
        }
        if (*t != *p)
            goto fail;
        t++;
        p++;
    }
    if (*t == '\0' && *p == '\0')
        return true;
fail:
    if (m) {
        while (m->n_params > n0) {
            m->n_params--;
            free((void *)(uintptr_t)m->params[m->n_params].name);
            free((void *)(uintptr_t)m->params[m->n_params].value);
        }
    }
    return false;
}

route_found route_find(route_table *t, const char *method, const char *path, route_match *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_lock(&t->mu);
    route_set *s = t->set;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&t->mu);
    route_found found = ROUTE_NONE;
    /* Literal paths first, then templates, each in the file's order. */
    for (int pass = 0; pass < 2 && found != ROUTE_FOUND; pass++) {
        for (size_t i = 0; i < s->len; i++) {
            const route *r = s->items[i];
            if (r->has_params != (pass == 1) || !path_matches(r->path, path, NULL))
                continue;
            found = ROUTE_NO_METHOD;
            if (method_ok(r, method)) {
                path_matches(r->path, path, m);
                m->r = r;
                found = ROUTE_FOUND;
                break;
            }
        }
    }
    if (found == ROUTE_FOUND)
        m->set = s;
    else
        route_set_release(s);
    return found;
}

void route_match_fini(route_match *m)
{
    for (size_t i = 0; i < m->n_params; i++) {
        free((void *)(uintptr_t)m->params[i].name);
        free((void *)(uintptr_t)m->params[i].value);
    }
    m->n_params = 0;
    route_set_release(m->set);
    m->set = NULL;
    m->r = NULL;
}

const char *route_function(const route *r)
{
    return r->function;
}

const char *route_path(const route *r)
{
    return r->path;
}

const char *route_method(const route *r)
{
    return r->method;
}

bool route_confirm(const route *r)
{
    return r->confirm;
}

bool route_proxy(const route *r)
{
    return r->proxy;
}
