/*
 * service.c — topics and subscriptions on the engine thread: kept in memory (a few per
 * server; lookups scan), every change written into the current batch, loaded at start.
 * The operations check what SNS checks and fail with SNS's codes and words (SNS notes §10,
 * §11, §14). Publishing is in publish.c; delivering in deliver.c.
 *
 * Subscription life: Subscribe → PendingConfirmation (http/https/email/email-json, with a
 * confirmation message carrying a token) → ConfirmSubscription with that token (or a GET of
 * the SubscribeURL) → confirmed; sqs and lambda subscriptions, and those the project file
 * declares, are confirmed at once. Unsubscribe or DeleteTopic removes them.
 */
#include "topic/topic_int.h"

#include "base/alloc.h"
#include "base/rand.h"
#include "base/timefmt.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char topic_schema_v1[] =
    "CREATE TABLE sns_topic ("
    " arn TEXT PRIMARY KEY, name TEXT NOT NULL, attributes TEXT NOT NULL,"
    " origin INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE sns_subscription ("
    " arn TEXT PRIMARY KEY, topic_arn TEXT NOT NULL, protocol TEXT NOT NULL,"
    " endpoint TEXT NOT NULL, pending INTEGER NOT NULL, token TEXT, raw INTEGER NOT NULL,"
    " filter TEXT, scope_body INTEGER NOT NULL, extra TEXT NOT NULL, origin INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE sns_delivery ("
    " id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " sub_arn TEXT, protocol TEXT NOT NULL, endpoint TEXT NOT NULL, kind TEXT NOT NULL,"
    " subject TEXT, body TEXT NOT NULL, meta TEXT NOT NULL, status TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, next_ms INTEGER NOT NULL, last_error TEXT);"
    "CREATE INDEX sns_delivery_pending ON sns_delivery (id) WHERE status = 'pending';"
    "CREATE TABLE mail_outbox ("
    " id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, mail_from TEXT NOT NULL,"
    " mail_to TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, topic_arn TEXT,"
    " message_id TEXT, delivery_id INTEGER UNIQUE);";

/* A published message is stored once: its deliveries refer to it (msg_id) and keep only what
 * differs per subscription (meta: the signature, the links, the form of the body), their body
 * rendered from it when they run. The row goes with its last pending delivery. Measured with
 * bench/sns_fanout.py (256 KiB to 100 sqs subscriptions, dev build, a loaded 2-core machine):
 * a rendered copy in every row grew the store by 25.2 MiB per Publish, which took 780 ms
 * (median of 5); stored once, 0.35 MiB and 28 ms. */
const char topic_schema_v2[] =
    "CREATE TABLE sns_message ("
    " id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, topic_arn TEXT NOT NULL, subject TEXT,"
    " message TEXT NOT NULL, structured INTEGER NOT NULL, attrs TEXT NOT NULL,"
    " timestamp TEXT NOT NULL);"
    "ALTER TABLE sns_delivery ADD COLUMN msg_id INTEGER;"
    "CREATE INDEX sns_delivery_msg ON sns_delivery (msg_id) WHERE status = 'pending';"
    "CREATE TRIGGER sns_message_done AFTER UPDATE OF status ON sns_delivery"
    " WHEN new.msg_id IS NOT NULL AND new.status != 'pending' BEGIN"
    " DELETE FROM sns_message WHERE id = new.msg_id AND NOT EXISTS (SELECT 1 FROM sns_delivery"
    " WHERE msg_id = new.msg_id AND status = 'pending'); END;"
    "CREATE TRIGGER sns_message_gone AFTER DELETE ON sns_delivery"
    " WHEN old.msg_id IS NOT NULL BEGIN"
    " DELETE FROM sns_message WHERE id = old.msg_id AND NOT EXISTS (SELECT 1 FROM sns_delivery"
    " WHERE msg_id = old.msg_id AND status = 'pending'); END;";

static const char sql_topic_put[] = "INSERT OR REPLACE INTO sns_topic (arn, name, attributes, "
                                    "origin, created_ms) VALUES (?, ?, ?, ?, ?)";
static const char sql_topic_del[] = "DELETE FROM sns_topic WHERE arn = ?";
static const char sql_sub_put[] =
    "INSERT OR REPLACE INTO sns_subscription (arn, topic_arn, protocol, endpoint, pending, token, "
    "raw, filter, scope_body, extra, origin, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?)";
static const char sql_sub_del[] = "DELETE FROM sns_subscription WHERE arn = ?";
static const char sql_load_topics[] = "SELECT arn, name, attributes, origin FROM sns_topic";
static const char sql_load_subs[] =
    "SELECT arn, topic_arn, protocol, endpoint, pending, token, raw, filter, scope_body, extra, "
    "origin FROM sns_subscription ORDER BY created_ms, arn";

void topic__fail(topic_err *err, int status, const char *code, const char *fmt, ...)
{
    err->status = status;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static int invalid(topic_err *err, const char *what)
{
    topic__fail(err, 400, "InvalidParameter", "Invalid parameter: %s", what);
    return -1;
}

const char *topic__base_url(const topic_service *ts)
{
    return ts->public_url ? ts->public_url : server_endpoint(ts->srv);
}

/* ---- persistence ---- */

static void topic_saved(topic_service *ts, const topic__topic *t)
{
    char *attrs = json_dumps(t->attrs, JSON_COMPACT);
    store_batch_add(server_batch(ts->srv), sql_topic_put, "tttii", t->arn, t->name, attrs,
                    (int64_t)t->origin, server_now_ms(ts->srv));
    free(attrs);
}

static void sub_saved(topic_service *ts, const topic__sub *s)
{
    char *extra = json_dumps(s->extra, JSON_COMPACT);
    store_batch_add(server_batch(ts->srv), sql_sub_put, "ttttititiiii", s->arn, s->topic_arn,
                    s->protocol, s->endpoint, (int64_t)s->pending, s->token, (int64_t)s->raw,
                    s->filter_text, (int64_t)s->scope_body, extra, (int64_t)s->origin,
                    server_now_ms(ts->srv));
    free(extra);
}

/* ---- memory ---- */

static void sub_free(topic__sub *s)
{
    free(s->arn);
    free(s->topic_arn);
    free(s->protocol);
    free(s->endpoint);
    free(s->token);
    free(s->filter_text);
    json_decref(s->filter);
    json_decref(s->extra);
    free(s);
}

static void topic_free_one(topic__topic *t)
{
    for (size_t i = 0; i < t->n_subs; i++)
        sub_free(t->subs[i]);
    free(t->subs);
    free(t->arn);
    free(t->name);
    json_decref(t->attrs);
    json_decref(t->tags);
    free(t);
}

static topic__topic *topic_add(topic_service *ts, const char *arn, const char *name, json_t *attrs,
                               topic_origin origin)
{
    topic__topic *t = bt_xcalloc(1, sizeof *t);
    t->arn = bt_xstrdup(arn);
    t->name = bt_xstrdup(name);
    t->attrs = attrs;
    t->tags = json_object();
    t->origin = origin;
    if (ts->n_topics == ts->cap_topics) {
        ts->cap_topics = ts->cap_topics ? ts->cap_topics * 2 : 16;
        ts->topics = bt_xrealloc(ts->topics, ts->cap_topics * sizeof *ts->topics);
    }
    ts->topics[ts->n_topics++] = t;
    return t;
}

static void sub_attach(topic__topic *t, topic__sub *s)
{
    if (t->n_subs == t->cap_subs) {
        t->cap_subs = t->cap_subs ? t->cap_subs * 2 : 8;
        t->subs = bt_xrealloc(t->subs, t->cap_subs * sizeof *t->subs);
    }
    t->subs[t->n_subs++] = s;
}

topic__topic *topic__find(topic_service *ts, const char *arn)
{
    for (size_t i = 0; i < ts->n_topics; i++)
        if (strcmp(ts->topics[i]->arn, arn) == 0)
            return ts->topics[i];
    return NULL;
}

static topic__sub *sub_find(topic_service *ts, const char *arn, topic__topic **owner, size_t *at)
{
    for (size_t i = 0; i < ts->n_topics; i++)
        for (size_t j = 0; j < ts->topics[i]->n_subs; j++)
            if (strcmp(ts->topics[i]->subs[j]->arn, arn) == 0) {
                if (owner)
                    *owner = ts->topics[i];
                if (at)
                    *at = j;
                return ts->topics[i]->subs[j];
            }
    return NULL;
}

/* ---- ARNs ---- */

static bool name_ok(const char *name, bool fifo)
{
    size_t n = strlen(name), base = n;
    if (fifo) {
        if (n < 6 || strcmp(name + n - 5, ".fifo") != 0)
            return false;
        base = n - 5;
    }
    if (base == 0 || n > 256)
        return false;
    for (size_t i = 0; i < base; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* The topic an ARN names: InvalidParameter when it is not a topic ARN, NotFound when no such
 * topic is here (recorded texts, SNS notes §14). */
static topic__topic *resolve(topic_service *ts, const char *arn, const char *param, topic_err *err)
{
    if (arn == NULL || arn[0] == '\0') {
        invalid(err, param);
        return NULL;
    }
    int parts = 1;
    for (const char *p = arn; *p; p++)
        parts += *p == ':';
    if (strncmp(arn, "arn:", 4) != 0 || parts < 6) {
        topic__fail(err, 400, "InvalidParameter",
                    "Invalid parameter: %s Reason: An ARN must have at least 6 elements, not %d",
                    param, parts);
        return NULL;
    }
    topic__topic *t = topic__find(ts, arn);
    if (t == NULL)
        topic__fail(err, 404, "NotFound", "Topic does not exist");
    return t;
}

/* ---- topics ---- */

static bool settable_topic_attr(const char *name)
{
    static const char *const names[] = {"DisplayName",         "Policy",
                                        "DeliveryPolicy",      "SignatureVersion",
                                        "TracingConfig",       "KmsMasterKeyId",
                                        "FifoTopic",           "ContentBasedDeduplication",
                                        "ArchivePolicy",       "DataProtectionPolicy",
                                        "FifoThroughputScope", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    size_t n = strlen(name);
    return (n > 23 && strcmp(name + n - 23, "SuccessFeedbackRoleArn") == 0) ||
           (n > 22 && strcmp(name + n - 22, "FailureFeedbackRoleArn") == 0) ||
           (n > 25 && strcmp(name + n - 25, "SuccessFeedbackSampleRate") == 0);
}

static int check_topic_attr(const char *name, const char *value, topic_err *err)
{
    if (!settable_topic_attr(name))
        return invalid(err, "AttributeName");
    if (strcmp(name, "SignatureVersion") == 0 && strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
        return invalid(err, "Attributes Reason: SignatureVersion");
    if ((strcmp(name, "FifoTopic") == 0 || strcmp(name, "ContentBasedDeduplication") == 0) &&
        strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
        return invalid(err, name);
    return 0;
}

int topic_create(topic_service *ts, const char *name, const topic_kv *attrs, size_t n_attrs,
                 topic_origin origin, char **arn_out, topic_err *err)
{
    return topic_create_tagged(ts, name, attrs, n_attrs, NULL, 0, origin, arn_out, err);
}

int topic_create_tagged(topic_service *ts, const char *name, const topic_kv *attrs, size_t n_attrs,
                        const topic_kv *tags, size_t n_tags, topic_origin origin, char **arn_out,
                        topic_err *err)
{
    bool fifo = false;
    for (size_t i = 0; i < n_attrs; i++) {
        if (check_topic_attr(attrs[i].key, attrs[i].value, err) < 0)
            return -1;
        if (strcmp(attrs[i].key, "FifoTopic") == 0)
            fifo = strcmp(attrs[i].value, "true") == 0;
    }
    if (name == NULL || !name_ok(name, fifo)) {
        if (name && !fifo && strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".fifo") == 0)
            return invalid(err, "Topic Name");
        return invalid(err, "Topic Name");
    }
    char *arn =
        bt_xasprintf("arn:aws:sns:%s:%s:%s", server_region(ts->srv), server_account(ts->srv), name);
    topic__topic *t = topic__find(ts, arn);
    if (topic__tags_check(tags, n_tags, err) < 0) {
        free(arn);
        return -1;
    }
    if (t && n_tags > 0 && !topic__tags_equal(t, tags, n_tags)) {
        free(arn);
        return invalid(err, "Tags Reason: Topic already exists with different tags");
    }
    if (t == NULL) {
        json_t *a = json_object();
        for (size_t i = 0; i < n_attrs; i++)
            json_object_set_new(a, attrs[i].key, json_string(attrs[i].value));
        t = topic_add(ts, arn, name, a, origin);
        topic_saved(ts, t);
        topic__tags_set(ts, t, tags, n_tags, err); /* checked: cannot fail */
    } else if (origin == TOPIC_ORIGIN_PROJECT && t->origin != origin) {
        t->origin = origin;
        topic_saved(ts, t);
    }
    *arn_out = arn;
    return 0;
}

int topic_delete(topic_service *ts, const char *arn, topic_err *err)
{
    topic__topic *t = resolve(ts, arn, "TopicArn", err);
    if (t == NULL)
        return err->status == 404 ? 0 : -1; /* deleting a missing topic succeeds */
    for (size_t i = 0; i < t->n_subs; i++)
        store_batch_add(server_batch(ts->srv), sql_sub_del, "t", t->subs[i]->arn);
    store_batch_add(server_batch(ts->srv), sql_topic_del, "t", t->arn);
    topic__tags_drop(ts, t);
    for (size_t i = 0; i < ts->n_topics; i++)
        if (ts->topics[i] == t) {
            memmove(&ts->topics[i], &ts->topics[i + 1],
                    (ts->n_topics - i - 1) * sizeof *ts->topics);
            ts->n_topics--;
            break;
        }
    topic_free_one(t);
    return 0;
}

static int by_arn(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "TopicArn")),
                  json_string_value(json_object_get(*(json_t *const *)b, "TopicArn")));
}

json_t *topic_list(topic_service *ts)
{
    json_t **items = bt_xcalloc(ts->n_topics + 1, sizeof *items);
    for (size_t i = 0; i < ts->n_topics; i++)
        items[i] = json_pack("{s:s}", "TopicArn", ts->topics[i]->arn);
    qsort(items, ts->n_topics, sizeof *items, by_arn);
    json_t *out = json_array();
    for (size_t i = 0; i < ts->n_topics; i++)
        json_array_append_new(out, items[i]);
    free(items);
    return out;
}

char **topic_names_of(topic_service *ts, topic_origin origin, size_t *n)
{
    char **names = bt_xcalloc(ts->n_topics + 1, sizeof *names);
    *n = 0;
    for (size_t i = 0; i < ts->n_topics; i++)
        if (ts->topics[i]->origin == origin)
            names[(*n)++] = bt_xstrdup(ts->topics[i]->name);
    return names;
}

static char *default_policy(const topic_service *ts, const char *arn)
{
    json_t *p = json_pack(
        "{s:s,s:s,s:[{s:s,s:s,s:{s:s},s:[s,s,s,s,s,s,s,s],s:s,s:{s:{s:s}}}]}", "Version",
        "2008-10-17", "Id", "__default_policy_ID", "Statement", "Sid", "__default_statement_ID",
        "Effect", "Allow", "Principal", "AWS", "*", "Action", "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
        "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish", "Resource", arn,
        "Condition", "StringEquals", "AWS:SourceOwner", server_account(ts->srv));
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return text;
}

int topic_get_attributes(topic_service *ts, const char *arn, json_t **out, topic_err *err)
{
    topic__topic *t = resolve(ts, arn, "TopicArn", err);
    if (t == NULL)
        return -1;
    size_t confirmed = 0, pending = 0;
    for (size_t i = 0; i < t->n_subs; i++) {
        if (t->subs[i]->pending)
            pending++;
        else
            confirmed++;
    }
    json_t *o = json_object();
    char *policy = default_policy(ts, t->arn);
    char num[24];
    json_object_set_new(o, "Policy", json_string(policy));
    free(policy);
    json_object_set_new(o, "Owner", json_string(server_account(ts->srv)));
    snprintf(num, sizeof num, "%zu", pending);
    json_object_set_new(o, "SubscriptionsPending", json_string(num));
    json_object_set_new(o, "TopicArn", json_string(t->arn));
    json_object_set_new(
        o, "EffectiveDeliveryPolicy",
        json_string("{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":1,"
                    "\"maxDelayTarget\":60,\"numRetries\":9,\"numMaxDelayRetries\":0,"
                    "\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\"backoffFunction\":"
                    "\"exponential\"},\"disableSubscriptionOverrides\":false}}"));
    snprintf(num, sizeof num, "%zu", confirmed);
    json_object_set_new(o, "SubscriptionsConfirmed", json_string(num));
    json_object_set_new(o, "DisplayName", json_string(""));
    snprintf(num, sizeof num, "%" PRId64, t->n_deleted);
    json_object_set_new(o, "SubscriptionsDeleted", json_string(num));
    json_object_update(o, t->attrs);
    *out = o;
    return 0;
}

int topic_set_attribute(topic_service *ts, const char *arn, const char *name, const char *value,
                        topic_err *err)
{
    topic__topic *t = resolve(ts, arn, "TopicArn", err);
    if (t == NULL)
        return -1;
    if (name == NULL)
        return invalid(err, "AttributeName");
    if (check_topic_attr(name, value ? value : "", err) < 0)
        return -1;
    if (strcmp(name, "FifoTopic") == 0)
        return invalid(err, "AttributeName");
    json_object_set_new(t->attrs, name, json_string(value ? value : ""));
    topic_saved(ts, t);
    return 0;
}

/* ---- subscriptions ---- */

static bool needs_confirmation(const char *protocol)
{
    return strcmp(protocol, "http") == 0 || strcmp(protocol, "https") == 0 ||
           strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0;
}

static int check_endpoint(const char *protocol, const char *endpoint, topic_err *err)
{
    if (endpoint == NULL || endpoint[0] == '\0')
        return invalid(err, "Endpoint");
    bool ok = true;
    if (strcmp(protocol, "http") == 0)
        ok = strncmp(endpoint, "http://", 7) == 0;
    else if (strcmp(protocol, "https") == 0)
        ok = strncmp(endpoint, "https://", 8) == 0;
    else if (strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0)
        ok = strchr(endpoint, '@') != NULL && strpbrk(endpoint, " \r\n<>") == NULL;
    else if (strcmp(protocol, "sqs") == 0)
        ok = strncmp(endpoint, "arn:aws:sqs:", 12) == 0;
    else if (strcmp(protocol, "lambda") == 0)
        ok = strncmp(endpoint, "arn:aws:lambda:", 15) == 0;
    if (!ok) {
        if (strcmp(protocol, "sqs") == 0)
            return invalid(err, "SQS endpoint ARN");
        if (strcmp(protocol, "lambda") == 0)
            return invalid(err, "Lambda endpoint ARN");
        return invalid(err, "Endpoint");
    }
    return 0;
}

/* One subscription attribute checked and set on s. */
static int sub_set(topic__sub *s, const char *name, const char *value, topic_err *err)
{
    if (strcmp(name, "RawMessageDelivery") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            topic__fail(err, 400, "InvalidParameter",
                        "Invalid parameter: RawMessageDelivery: Invalid value [%.100s]. Must be "
                        "true or false.",
                        value);
            return -1;
        }
        bool raw = strcmp(value, "true") == 0;
        if (raw && strcmp(s->protocol, "sqs") != 0 && strcmp(s->protocol, "http") != 0 &&
            strcmp(s->protocol, "https") != 0 && strcmp(s->protocol, "lambda") != 0) {
            topic__fail(err, 400, "InvalidParameter",
                        "Invalid parameter: Attributes Reason: Delivery protocol [%s] does not "
                        "support raw message delivery attribute",
                        s->protocol);
            return -1;
        }
        s->raw = raw;
    } else if (strcmp(name, "FilterPolicy") == 0) {
        json_t *p = NULL;
        const char *why;
        if (value[0] != '\0' && topic__filter_parse(value, &p, &why) < 0) {
            topic__fail(err, 400, "InvalidParameter", "Invalid parameter: FilterPolicy: %s", why);
            return -1;
        }
        json_decref(s->filter);
        free(s->filter_text);
        s->filter = p;
        s->filter_text = p ? bt_xstrdup(value) : NULL;
    } else if (strcmp(name, "FilterPolicyScope") == 0) {
        if (strcmp(value, "MessageAttributes") != 0 && strcmp(value, "MessageBody") != 0)
            return invalid(err, "Attributes Reason: FilterPolicyScope: Invalid value");
        s->scope_body = strcmp(value, "MessageBody") == 0;
    } else if (strcmp(name, "DeliveryPolicy") == 0 || strcmp(name, "RedrivePolicy") == 0 ||
               strcmp(name, "SubscriptionRoleArn") == 0 || strcmp(name, "ReplayPolicy") == 0) {
        json_object_set_new(s->extra, name, json_string(value));
    } else {
        return invalid(err, "AttributeName");
    }
    return 0;
}

static void random_hex(char *out, size_t n_bytes)
{
    uint8_t b[64];
    bt_random_bytes(b, n_bytes);
    for (size_t i = 0; i < n_bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static char *escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *out = bt_xstrdup(e ? e : "");
    curl_free(e);
    return out;
}

/* The SubscriptionConfirmation message (recorded shape, SNS notes §12). */
static void send_confirmation(topic_service *ts, topic__topic *t, topic__sub *s)
{
    uint8_t raw[16];
    char message_id[37], ts_text[32];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, message_id);
    bt_time_format(server_now_ms(ts->srv), ts_text, sizeof ts_text);
    char *arn_e = escape(t->arn), *token_e = escape(s->token);
    char *url = bt_xasprintf("%s/?Action=ConfirmSubscription&TopicArn=%s&Token=%s",
                             topic__base_url(ts), arn_e, token_e);
    char *text = bt_xasprintf("You have chosen to subscribe to the topic %s.\nTo confirm the "
                              "subscription, visit the SubscribeURL included in this message.",
                              t->arn);
    topic__msg m = {.type = "SubscriptionConfirmation",
                    .message_id = message_id,
                    .topic_arn = t->arn,
                    .message = text,
                    .timestamp = ts_text,
                    .token = s->token,
                    .subscribe_url = url};
    json_t *meta = json_pack("{s:s,s:s}", "message_id", message_id, "topic_arn", t->arn);
    if (strcmp(s->protocol, "email") == 0) {
        const char *display = json_string_value(json_object_get(t->attrs, "DisplayName"));
        char *body = bt_xasprintf(
            "You have chosen to subscribe to the topic:\n%s\n\nTo confirm this subscription, "
            "click or visit the link below (If this was in error no action is necessary):\n"
            "Confirm subscription:\n%s\n",
            t->arn, url);
        char *subject = bt_xasprintf("%s - Subscription Confirmation",
                                     display && display[0] ? display : "AWS Notification");
        topic__deliver(ts, NULL, s->protocol, s->endpoint, m.type, subject, body, meta);
        free(subject);
        free(body);
    } else {
        const char *version = json_string_value(json_object_get(t->attrs, "SignatureVersion"));
        version = version ? version : "1";
        char *canonical = topic__canonical(&m);
        char *sig = topic__sign(ts->signer, version, canonical);
        char *cert =
            bt_xasprintf("%s/baton/sns/SimpleNotificationService.pem", topic__base_url(ts));
        json_t *env = topic__envelope(&m, version, sig, cert, NULL);
        char *body = json_dumps(env, JSON_COMPACT);
        topic__deliver(ts, NULL, s->protocol, s->endpoint, m.type,
                       "AWS Notification - Subscription Confirmation", body, meta);
        free(body);
        json_decref(env);
        free(cert);
        free(sig);
        free(canonical);
    }
    free(text);
    free(url);
    free(arn_e);
    free(token_e);
}

int topic_subscribe(topic_service *ts, const topic_sub_req *r, char **arn_out, bool *pending,
                    topic_err *err)
{
    topic__topic *t = resolve(ts, r->topic_arn, "TopicArn", err);
    if (t == NULL)
        return -1;
    static const char *const protocols[] = {"email", "email-json", "http",
                                            "https", "sqs",        "lambda"};
    bool known = false;
    for (size_t i = 0; r->protocol && i < 6; i++)
        known |= strcmp(protocols[i], r->protocol) == 0;
    if (!known) {
        topic__fail(err, 400, "InvalidParameter",
                    "Invalid parameter: Amazon SNS does not support this protocol string: %.100s",
                    r->protocol ? r->protocol : "");
        return -1;
    }
    if (check_endpoint(r->protocol, r->endpoint, err) < 0)
        return -1;
    /* The same protocol and endpoint on a topic is the same subscription. */
    topic__sub *s = NULL;
    for (size_t i = 0; i < t->n_subs; i++)
        if (strcmp(t->subs[i]->protocol, r->protocol) == 0 &&
            strcmp(t->subs[i]->endpoint, r->endpoint) == 0)
            s = t->subs[i];
    bool is_new = s == NULL;
    if (is_new) {
        s = bt_xcalloc(1, sizeof *s);
        uint8_t raw[16];
        char uuid[37];
        bt_random_bytes(raw, sizeof raw);
        bt_uuid_format(raw, uuid);
        s->arn = bt_xasprintf("%s:%s", t->arn, uuid);
        s->topic_arn = bt_xstrdup(t->arn);
        s->protocol = bt_xstrdup(r->protocol);
        s->endpoint = bt_xstrdup(r->endpoint);
        s->extra = json_object();
        s->origin = r->origin;
        s->pending = needs_confirmation(r->protocol) && !r->confirmed;
        char token[129];
        random_hex(token, 64);
        s->token = bt_xstrdup(token);
    }
    for (size_t i = 0; i < r->n_attrs; i++)
        if (sub_set(s, r->attrs[i].key, r->attrs[i].value, err) < 0) {
            if (is_new)
                sub_free(s);
            return -1;
        }
    if (!is_new && r->confirmed && s->pending)
        s->pending = false;
    if (is_new)
        sub_attach(t, s);
    sub_saved(ts, s);
    if (is_new && s->pending)
        send_confirmation(ts, t, s);
    *arn_out = bt_xstrdup(s->arn);
    *pending = s->pending;
    return 0;
}

int topic_confirm(topic_service *ts, const char *topic_arn, const char *token, char **arn_out,
                  topic_err *err)
{
    topic__topic *t = topic_arn ? topic__find(ts, topic_arn) : NULL;
    if (t == NULL)
        return invalid(err, "Topic");
    for (size_t i = 0; token && i < t->n_subs; i++) {
        topic__sub *s = t->subs[i];
        if (s->token && strcmp(s->token, token) == 0) {
            if (s->pending) {
                s->pending = false;
                sub_saved(ts, s);
            }
            *arn_out = bt_xstrdup(s->arn);
            return 0;
        }
    }
    return invalid(err, "Token");
}

int topic_unsubscribe(topic_service *ts, const char *sub_arn, topic_err *err)
{
    topic__topic *t;
    size_t at;
    topic__sub *s = sub_arn ? sub_find(ts, sub_arn, &t, &at) : NULL;
    if (s == NULL) {
        if (sub_arn == NULL || strncmp(sub_arn, "arn:aws:sns:", 12) != 0)
            return invalid(err, "SubscriptionArn");
        topic__fail(err, 404, "NotFound", "Subscription does not exist");
        return -1;
    }
    store_batch_add(server_batch(ts->srv), sql_sub_del, "t", s->arn);
    memmove(&t->subs[at], &t->subs[at + 1], (t->n_subs - at - 1) * sizeof *t->subs);
    t->n_subs--;
    t->n_deleted++;
    sub_free(s);
    return 0;
}

static json_t *sub_summary(const topic_service *ts, const topic__sub *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "SubscriptionArn",
                     s->pending ? "PendingConfirmation" : s->arn, "Owner", server_account(ts->srv),
                     "Protocol", s->protocol, "Endpoint", s->endpoint, "TopicArn", s->topic_arn);
}

int topic_list_subscriptions(topic_service *ts, const char *topic_arn, json_t **out, topic_err *err)
{
    topic__topic *only = NULL;
    if (topic_arn && (only = resolve(ts, topic_arn, "TopicArn", err)) == NULL)
        return -1;
    json_t *list = json_array();
    for (size_t i = 0; i < ts->n_topics; i++) {
        if (only && ts->topics[i] != only)
            continue;
        for (size_t j = 0; j < ts->topics[i]->n_subs; j++)
            json_array_append_new(list, sub_summary(ts, ts->topics[i]->subs[j]));
    }
    *out = list;
    return 0;
}

json_t *topic_subscriptions_of(topic_service *ts, const char *topic_arn)
{
    topic__topic *t = topic__find(ts, topic_arn);
    if (t == NULL)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < t->n_subs; i++)
        json_array_append_new(list,
                              json_pack("{s:s,s:s,s:s,s:i}", "arn", t->subs[i]->arn, "protocol",
                                        t->subs[i]->protocol, "endpoint", t->subs[i]->endpoint,
                                        "origin", (int)t->subs[i]->origin));
    return list;
}

int topic_get_sub_attributes(topic_service *ts, const char *arn, json_t **out, topic_err *err)
{
    topic__sub *s = arn ? sub_find(ts, arn, NULL, NULL) : NULL;
    if (s == NULL) {
        topic__fail(err, 404, "NotFound", "Subscription does not exist");
        return -1;
    }
    char principal[80];
    snprintf(principal, sizeof principal, "arn:aws:iam::%s:root", server_account(ts->srv));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ConfirmationWasAuthenticated",
                          s->pending ? "false" : "true", "Endpoint", s->endpoint, "Owner",
                          server_account(ts->srv), "PendingConfirmation",
                          s->pending ? "true" : "false", "Protocol", s->protocol,
                          "RawMessageDelivery", s->raw ? "true" : "false", "SubscriptionArn",
                          s->arn, "SubscriptionPrincipal", principal, "TopicArn", s->topic_arn);
    if (s->filter_text) {
        json_object_set_new(o, "FilterPolicy", json_string(s->filter_text));
        json_object_set_new(o, "FilterPolicyScope",
                            json_string(s->scope_body ? "MessageBody" : "MessageAttributes"));
    }
    json_object_update(o, s->extra);
    *out = o;
    return 0;
}

int topic_set_sub_attribute(topic_service *ts, const char *arn, const char *name, const char *value,
                            topic_err *err)
{
    topic__sub *s = arn ? sub_find(ts, arn, NULL, NULL) : NULL;
    if (s == NULL) {
        topic__fail(err, 404, "NotFound", "Subscription does not exist");
        return -1;
    }
    if (name == NULL)
        return invalid(err, "AttributeName");
    if (sub_set(s, name, value ? value : "", err) < 0)
        return -1;
    sub_saved(ts, s);
    return 0;
}

/* ---- life ---- */

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int load(topic_service *ts, bt_err *err)
{
    store *s = server_store(ts->srv);
    sqlite3_stmt *st = store_read_stmt(s, sql_load_topics);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "cannot read the topics: %s",
                          sqlite3_errmsg(store_reader(s)));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *attrs = json_loads(col(st, 2), 0, NULL);
        topic_add(ts, col(st, 0), col(st, 1), json_is_object(attrs) ? attrs : json_object(),
                  (topic_origin)sqlite3_column_int(st, 3));
        if (!json_is_object(attrs))
            json_decref(attrs);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read the topics: %s", sqlite3_errstr(rc));
    for (size_t i = 0; i < ts->n_topics; i++)
        if (topic__tags_load(ts, ts->topics[i], err) < 0)
            return -1;
    st = store_read_stmt(s, sql_load_subs);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "cannot read the subscriptions: %s",
                          sqlite3_errmsg(store_reader(s)));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        topic__topic *t = topic__find(ts, col(st, 1));
        if (t == NULL)
            continue;
        topic__sub *sub = bt_xcalloc(1, sizeof *sub);
        sub->arn = bt_xstrdup(col(st, 0));
        sub->topic_arn = bt_xstrdup(col(st, 1));
        sub->protocol = bt_xstrdup(col(st, 2));
        sub->endpoint = bt_xstrdup(col(st, 3));
        sub->pending = sqlite3_column_int(st, 4) != 0;
        sub->token = col(st, 5) ? bt_xstrdup(col(st, 5)) : NULL;
        sub->raw = sqlite3_column_int(st, 6) != 0;
        const char *why;
        if (col(st, 7) && topic__filter_parse(col(st, 7), &sub->filter, &why) == 0)
            sub->filter_text = bt_xstrdup(col(st, 7));
        sub->scope_body = sqlite3_column_int(st, 8) != 0;
        sub->extra = json_loads(col(st, 9), 0, NULL);
        if (!json_is_object(sub->extra)) {
            json_decref(sub->extra);
            sub->extra = json_object();
        }
        sub->origin = (topic_origin)sqlite3_column_int(st, 10);
        sub_attach(t, sub);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read the subscriptions: %s", sqlite3_errstr(rc));
    return topic__deliveries_load(ts, err);
}

topic_service *topic_service_new(server *srv, queue_service *qs, fn_service *fs, bt_err *err)
{
    topic_service *ts = bt_xcalloc(1, sizeof *ts);
    ts->srv = srv;
    ts->qs = qs;
    ts->fs = fs;
    char *dir = bt_xasprintf("%s/sns", server_get_config(srv)->data_dir);
    ts->signer = topic__signer_open(dir, err);
    free(dir);
    if (ts->signer == NULL || load(ts, err) < 0) {
        topic__signer_free(ts->signer);
        for (size_t i = 0; i < ts->n_topics; i++)
            topic_free_one(ts->topics[i]);
        free(ts->topics);
        free(ts);
        return NULL;
    }
    ts->curl = http_curl_new(server_loop(srv));
    topic__deliveries_start(ts);
    return ts;
}

static void smtp_clear(topic_smtp *m)
{
    free((char *)(uintptr_t)m->host);
    free((char *)(uintptr_t)m->username);
    free((char *)(uintptr_t)m->password);
    free((char *)(uintptr_t)m->from);
    free((char *)(uintptr_t)m->ca_file);
    memset(m, 0, sizeof *m);
}

static char *dup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

void topic_set_smtp(topic_service *ts, const topic_smtp *cfg)
{
    smtp_clear(&ts->smtp);
    if (cfg == NULL || cfg->host == NULL)
        return;
    ts->smtp.host = bt_xstrdup(cfg->host);
    ts->smtp.port = cfg->port ? cfg->port : 587;
    ts->smtp.starttls = cfg->starttls;
    ts->smtp.username = dup_or_null(cfg->username);
    ts->smtp.password = dup_or_null(cfg->password);
    ts->smtp.from = dup_or_null(cfg->from);
    ts->smtp.ca_file = dup_or_null(cfg->ca_file);
}

void topic_set_public_url(topic_service *ts, const char *url)
{
    free(ts->public_url);
    ts->public_url = NULL;
    if (url && url[0]) {
        ts->public_url = bt_xstrdup(url);
        size_t n = strlen(ts->public_url);
        while (n > 0 && ts->public_url[n - 1] == '/')
            ts->public_url[--n] = '\0';
    }
}

const char *topic_signing_cert(const topic_service *ts)
{
    return topic__signer_cert(ts->signer);
}

void topic_service_free(topic_service *ts)
{
    if (ts == NULL)
        return;
    topic__deliveries_stop(ts); /* frees the service once its handles have closed */
}

void topic__service_release(topic_service *ts)
{
    for (size_t i = 0; i < ts->n_topics; i++)
        topic_free_one(ts->topics[i]);
    free(ts->topics);
    topic__signer_free(ts->signer);
    smtp_clear(&ts->smtp);
    free(ts->public_url);
    free(ts);
}
