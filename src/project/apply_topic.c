/*
 * apply_topic.c — the project's topics, subscriptions and mail settings applied through
 * topic.h with origin TOPIC_ORIGIN_PROJECT. Idempotent: a topic is created once (CreateTopic
 * is idempotent per name), a subscription is found again by its protocol and endpoint and
 * its attributes set as declared. A reload unsubscribes the project's subscriptions it no
 * longer declares and deletes the project's topics it dropped; what the API created stays.
 *
 * Subscriptions the file declares are confirmed at once: the operator who wrote the file
 * owns the addresses and endpoints, so the confirmation round trip SNS makes for
 * subscriptions created over the API (an unknown party naming someone else's address)
 * protects no one here. `smtp:` sets the mail server (none: the outbox), `public_url:` the
 * base of the links in messages.
 */
#include "base/alloc.h"
#include "project/project_int.h"

#include <stdlib.h>
#include <string.h>

static topic_service *topics(project_runtime *rt, size_t n)
{
    const project_services *svc = project__services(rt);
    if (svc->topics == NULL && n > 0)
        server_log(svc->srv, SERVER_LOG_WARN, "project.apply",
                   "%zu topics declared but this server runs no topic service: not applied", n);
    return svc->topics;
}

/* A declared queue's or function's name as the ARN a subscription names; ARNs as given. */
static char *endpoint_of(project_runtime *rt, const prj_subscription *s)
{
    server *srv = project__services(rt)->srv;
    if (strncmp(s->endpoint, "arn:", 4) == 0)
        return bt_xstrdup(s->endpoint);
    if (strcmp(s->protocol, "sqs") == 0)
        return bt_xasprintf("arn:aws:sqs:%s:%s:%s", server_region(srv), server_account(srv),
                            s->endpoint);
    if (strcmp(s->protocol, "lambda") == 0)
        return bt_xasprintf("arn:aws:lambda:%s:%s:function:%s", server_region(srv),
                            server_account(srv), s->endpoint);
    return bt_xstrdup(s->endpoint);
}

static void apply_subscriptions(project_runtime *rt, topic_service *ts, const prj_topic *t,
                                const char *arn)
{
    size_t n = t->n_subs;
    char **endpoints = bt_xcalloc(n + 1, sizeof *endpoints);
    for (size_t i = 0; i < n; i++) {
        const prj_subscription *s = &t->subs[i];
        endpoints[i] = endpoint_of(rt, s);
        char *filter = s->filter_policy ? json_dumps(s->filter_policy, JSON_COMPACT) : NULL;
        topic_kv kv[2] = {{"RawMessageDelivery", s->raw ? "true" : "false"},
                          {"FilterPolicy", filter ? filter : ""}};
        topic_sub_req r = {.topic_arn = arn,
                           .protocol = s->protocol,
                           .endpoint = endpoints[i],
                           .attrs = kv,
                           .n_attrs = 2,
                           .confirmed = true,
                           .origin = TOPIC_ORIGIN_PROJECT};
        char *sub_arn = NULL;
        bool pending;
        topic_err err = {0};
        if (topic_subscribe(ts, &r, &sub_arn, &pending, &err) < 0)
            project__failed(rt, "subscription", t->name, err.msg);
        free(sub_arn);
        free(filter);
    }
    /* The file's subscriptions it no longer declares. */
    json_t *now = topic_subscriptions_of(ts, arn);
    size_t i;
    json_t *o;
    json_array_foreach(now, i, o)
    {
        if (json_integer_value(json_object_get(o, "origin")) != TOPIC_ORIGIN_PROJECT)
            continue;
        const char *proto = json_string_value(json_object_get(o, "protocol"));
        const char *ep = json_string_value(json_object_get(o, "endpoint"));
        bool declared = false;
        for (size_t j = 0; j < n && !declared; j++)
            declared = strcmp(t->subs[j].protocol, proto) == 0 && strcmp(endpoints[j], ep) == 0;
        if (!declared) {
            topic_err err = {0};
            topic_unsubscribe(ts, json_string_value(json_object_get(o, "arn")), &err);
        }
    }
    json_decref(now);
    for (size_t j = 0; j < n; j++)
        free(endpoints[j]);
    free(endpoints);
}

void project__apply_topics(project_runtime *rt, const project *p)
{
    topic_service *ts = topics(rt, p->n_topics);
    if (ts == NULL)
        return;
    if (p->smtp.is_set) {
        topic_smtp m = {.host = p->smtp.host,
                        .port = p->smtp.port,
                        .starttls = p->smtp.starttls,
                        .ca_file = p->smtp.ca_file,
                        .username = p->smtp.username,
                        .password = p->smtp.password,
                        .from = p->smtp.from};
        topic_set_smtp(ts, &m);
    } else {
        topic_set_smtp(ts, NULL);
    }
    topic_set_public_url(ts, p->public_url);
    for (size_t i = 0; i < p->n_topics; i++) {
        const prj_topic *t = &p->topics[i];
        char *arn = NULL;
        topic_err err = {0};
        if (topic_create(ts, t->name, NULL, 0, TOPIC_ORIGIN_PROJECT, &arn, &err) < 0) {
            project__failed(rt, "topic", t->name, err.msg);
            continue;
        }
        apply_subscriptions(rt, ts, t, arn);
        free(arn);
    }
}

void project__remove_topics(project_runtime *rt, const project *p)
{
    topic_service *ts = topics(rt, 0);
    if (ts == NULL)
        return;
    size_t n;
    char **names = topic_names_of(ts, TOPIC_ORIGIN_PROJECT, &n);
    server *srv = project__services(rt)->srv;
    for (size_t i = 0; i < n; i++) {
        bool declared = false;
        for (size_t j = 0; j < p->n_topics && !declared; j++)
            declared = strcmp(p->topics[j].name, names[i]) == 0;
        if (!declared) {
            char *arn = bt_xasprintf("arn:aws:sns:%s:%s:%s", server_region(srv),
                                     server_account(srv), names[i]);
            topic_err err = {0};
            topic_delete(ts, arn, &err);
            free(arn);
        }
        free(names[i]);
    }
    free(names);
}
