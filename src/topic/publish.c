/*
 * publish.c — Publish: the checks SNS makes (SNS notes §10), then one delivery per
 * confirmed subscription whose filter policy passes, rendered now in the shape its protocol
 * gets (message.c) and signed once per distinct text; and the reads of what was sent (the
 * outbox, the deliveries) for the API and the CLI.
 */
#include "topic/topic_int.h"

#include "base/alloc.h"
#include "base/rand.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int invalid(topic_err *err, const char *what)
{
    topic__fail(err, 400, "InvalidParameter", "Invalid parameter: %s", what);
    return -1;
}

static bool subject_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 100)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int check_attrs(const topic_publish_req *p, size_t *bytes, topic_err *err)
{
    for (size_t i = 0; i < p->n_attrs; i++) {
        const topic_attr *a = &p->attrs[i];
        if (a->name == NULL || a->name[0] == '\0')
            return invalid(err, "MessageAttributes");
        if (a->type == NULL ||
            (strncmp(a->type, "String", 6) != 0 && strncmp(a->type, "Number", 6) != 0 &&
             strncmp(a->type, "Binary", 6) != 0)) {
            topic__fail(err, 400, "ParameterValueInvalid",
                        "The message attribute '%.100s' has an invalid message attribute type, "
                        "the set of supported type prefixes is Binary, Number, and String.",
                        a->name);
            return -1;
        }
        if (a->value == NULL) {
            topic__fail(err, 400, "ParameterValueInvalid",
                        "The message attribute '%.100s' must contain non-empty message "
                        "attribute value for message attribute type '%.50s'.",
                        a->name, a->type);
            return -1;
        }
        if (strncmp(a->type, "Number", 6) == 0) {
            char *end;
            strtod(a->value, &end);
            if (end == a->value || *end != '\0') {
                topic__fail(err, 400, "ParameterValueInvalid",
                            "An error occurred while trying to parse the value of message "
                            "attribute '%.100s' of type Number",
                            a->name);
                return -1;
            }
        }
        *bytes += strlen(a->name) + strlen(a->type) + strlen(a->value);
    }
    return 0;
}

/* {name: {Type, Value}}: the envelope's MessageAttributes. */
static json_t *envelope_attrs(const topic_publish_req *p)
{
    json_t *o = json_object();
    for (size_t i = 0; i < p->n_attrs; i++)
        json_object_set_new(
            o, p->attrs[i].name,
            json_pack("{s:s,s:s}", "Type", p->attrs[i].type, "Value", p->attrs[i].value));
    return o;
}

static char *escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *out = bt_xstrdup(e ? e : "");
    curl_free(e);
    return out;
}

/* One signature per distinct message text (MessageStructure may give each protocol its own). */
typedef struct sig_cache {
    char *text, *sig;
} sig_cache;

static const char *signature(topic_service *ts, sig_cache *c, const topic__msg *m,
                             const char *version)
{
    if (c->text && strcmp(c->text, m->message) == 0)
        return c->sig;
    free(c->text);
    free(c->sig);
    char *canonical = topic__canonical(m);
    c->sig = topic__sign(ts->signer, version, canonical);
    c->text = bt_xstrdup(m->message);
    free(canonical);
    return c->sig;
}

/* The text a protocol gets: its own key of a MessageStructure, else the message. */
static const char *text_for(const topic__message *msg, const char *protocol)
{
    return msg->structure ? topic__structured(msg->structure, protocol) : msg->text;
}

char *topic__render(const topic__message *msg, const char *protocol, const char *sub_arn,
                    const json_t *meta)
{
    topic__msg m = {.type = "Notification",
                    .message_id = msg->message_id,
                    .topic_arn = msg->topic_arn,
                    .subject = msg->subject,
                    .message = text_for(msg, protocol),
                    .timestamp = msg->timestamp,
                    .attrs = msg->attrs};
    const char *form = json_string_value(json_object_get(meta, "form"));
    const char *version = json_string_value(json_object_get(meta, "version"));
    const char *sig = json_string_value(json_object_get(meta, "sig"));
    const char *cert = json_string_value(json_object_get(meta, "cert"));
    const char *unsub = json_string_value(json_object_get(meta, "unsub"));
    form = form ? form : "envelope";
    char *body;
    if (strcmp(form, "lambda") == 0) {
        json_t *ev = topic__lambda_event(&m, sub_arn, version, sig, cert, unsub);
        body = json_dumps(ev, JSON_COMPACT);
        json_decref(ev);
    } else if (strcmp(form, "email") == 0) {
        body = bt_xasprintf("%s\n\n--\nIf you wish to stop receiving notifications from this "
                            "topic, please click or visit the link below to unsubscribe:\n%s\n\n"
                            "Please do not reply directly to this email.\n",
                            m.message, unsub);
    } else if (strcmp(form, "raw") == 0) {
        body = bt_xstrdup(m.message);
    } else {
        json_t *env = topic__envelope(&m, version, sig, cert, unsub);
        body = json_dumps(env, JSON_COMPACT);
        json_decref(env);
    }
    return body;
}

/* Records the delivery of msg to s: what differs per subscription goes into its meta, the
 * body is rendered when it runs. */
static void deliver_one(topic_service *ts, const topic__topic *t, const topic__sub *s,
                        const topic_publish_req *p, topic__message *msg, sig_cache *cache)
{
    topic__msg m = {.type = "Notification",
                    .message_id = msg->message_id,
                    .topic_arn = msg->topic_arn,
                    .subject = msg->subject,
                    .message = text_for(msg, s->protocol),
                    .timestamp = msg->timestamp,
                    .attrs = msg->attrs};
    const char *version = json_string_value(json_object_get(t->attrs, "SignatureVersion"));
    version = version ? version : "1";
    char *arn_e = escape(s->arn);
    char *unsub =
        bt_xasprintf("%s/?Action=Unsubscribe&SubscriptionArn=%s", topic__base_url(ts), arn_e);
    char *cert = bt_xasprintf("%s/baton/sns/SimpleNotificationService.pem", topic__base_url(ts));
    json_t *meta = json_pack("{s:s,s:s,s:s,s:s,s:s}", "message_id", m.message_id, "topic_arn",
                             t->arn, "version", version, "cert", cert, "unsub", unsub);
    const char *display = json_string_value(json_object_get(t->attrs, "DisplayName"));
    if (display && display[0])
        json_object_set_new(meta, "display_name", json_string(display));
    if (p->group_id)
        json_object_set_new(meta, "group_id", json_string(p->group_id));
    if (p->dedup_id)
        json_object_set_new(meta, "dedup_id", json_string(p->dedup_id));
    const char *subject = NULL, *form = "envelope";
    const char *proto = s->protocol;
    if (strcmp(proto, "lambda") == 0) {
        form = "lambda";
    } else if (strcmp(proto, "email") == 0) {
        form = "email";
        subject = p->subject ? p->subject : "AWS Notification Message";
    } else if (s->raw) {
        form = "raw";
        json_object_set_new(meta, "raw", json_true());
        if (strcmp(proto, "sqs") == 0 && p->n_attrs)
            json_object_set_new(meta, "sqs_attrs", json_true()); /* from msg->attrs */
    } else if (strcmp(proto, "email-json") == 0) {
        subject = p->subject ? p->subject : "AWS Notification Message";
    }
    json_object_set_new(meta, "form", json_string(form));
    /* RSA-2048 signing is the dearest step of a publish (about 0.4 ms of CPU): only the
     * messages that carry the signature (SNS's JSON envelope, Lambda's event) are signed. */
    if (strcmp(form, "email") != 0 && strcmp(form, "raw") != 0)
        json_object_set_new(meta, "sig", json_string(signature(ts, cache, &m, version)));
    topic__deliver_message(ts, s->arn, proto, s->endpoint, subject, msg, meta);
    free(cert);
    free(unsub);
    free(arn_e);
}

int topic_publish(topic_service *ts, const topic_publish_req *p, char message_id[37],
                  topic_err *err)
{
    if (p->topic_arn == NULL)
        return invalid(err, "TopicArn or TargetArn Reason: no value for required parameter");
    if (strncmp(p->topic_arn, "arn:", 4) != 0)
        return invalid(err, "TopicArn");
    topic__topic *t = topic__find(ts, p->topic_arn);
    if (t == NULL) {
        topic__fail(err, 404, "NotFound", "Topic does not exist");
        return -1;
    }
    if (p->message == NULL || p->message[0] == '\0')
        return invalid(err, "Empty message");
    if (p->subject && !subject_ok(p->subject))
        return invalid(err, "Subject");
    size_t bytes = strlen(p->message);
    if (check_attrs(p, &bytes, err) < 0)
        return -1;
    if (bytes > TOPIC_MESSAGE_MAX)
        return invalid(err, "Message too long");
    bool fifo = json_is_true(json_object_get(t->attrs, "FifoTopic")) ||
                (json_string_value(json_object_get(t->attrs, "FifoTopic")) &&
                 strcmp(json_string_value(json_object_get(t->attrs, "FifoTopic")), "true") == 0);
    if (fifo && p->group_id == NULL)
        return invalid(err, "The MessageGroupId parameter is required for FIFO topics");
    if (!fifo && p->dedup_id)
        return invalid(err, "MessageDeduplicationId Reason: The request includes "
                            "MessageDeduplicationId parameter that is not valid for this topic "
                            "type");
    json_t *structure = NULL;
    if (p->structure && strcmp(p->structure, "json") == 0) {
        structure = json_loads(p->message, JSON_REJECT_DUPLICATES, NULL);
        if (structure == NULL || !json_is_object(structure)) {
            json_decref(structure);
            return invalid(err, "Message Structure - JSON message body failed to parse");
        }
        if (!json_is_string(json_object_get(structure, "default"))) {
            json_decref(structure);
            return invalid(err, "Message Structure - No default entry in JSON message body");
        }
    } else if (p->structure && p->structure[0]) {
        return invalid(err, "MessageStructure");
    }
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, message_id);
    char when[32];
    bt_time_format(server_now_ms(ts->srv), when, sizeof when);
    json_t *attrs = envelope_attrs(p);
    sig_cache cache = {0};
    topic__message *msg = NULL;
    for (size_t i = 0; i < t->n_subs; i++) {
        const topic__sub *s = t->subs[i];
        if (s->pending || !topic__filter_match(s->filter, s->scope_body, attrs, p->message))
            continue;
        if (msg == NULL)
            msg = topic__message_new(ts, message_id, t->arn, p->subject, p->message, structure,
                                     attrs, when);
        deliver_one(ts, t, s, p, msg, &cache);
    }
    free(cache.text);
    free(cache.sig);
    json_decref(attrs);
    json_decref(structure);
    return 0;
}

/* ---- what was sent ---- */

static const char sql_outbox[] =
    "SELECT id, created_ms, mail_from, mail_to, subject, body, topic_arn, message_id "
    "FROM mail_outbox WHERE id < ?2 ORDER BY id DESC LIMIT ?1";
static const char sql_deliveries[] =
    "SELECT id, sub_arn, protocol, endpoint, kind, status, attempts, last_error, created_ms, "
    "updated_ms FROM sns_delivery ORDER BY id DESC LIMIT ?";

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? json_string(s) : json_null();
}

static json_t *time_of(sqlite3_stmt *st, int i)
{
    char when[32];
    bt_time_format(sqlite3_column_int64(st, i), when, sizeof when);
    return json_string(when);
}

json_t *topic_outbox(topic_service *ts, const topic_outbox_page *pg, int64_t *next_before)
{
    json_t *out = json_array();
    *next_before = 0;
    sqlite3_stmt *st = store_read_stmt(server_store(ts->srv), sql_outbox);
    if (st == NULL)
        return out;
    size_t limit = pg->limit ? pg->limit : 100;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit + 1);
    sqlite3_bind_int64(st, 2, pg->before > 0 ? pg->before : INT64_MAX);
    size_t bytes = 0, n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        size_t size = (size_t)sqlite3_column_bytes(st, 5);
        /* Another mail beyond the count or the byte budget: the page ends before it (a page
         * always holds one mail, however large). */
        if (n == limit || (n > 0 && pg->max_bytes && bytes + size > pg->max_bytes)) {
            *next_before = json_integer_value(json_object_get(json_array_get(out, n - 1), "Id"));
            break;
        }
        bytes += size;
        n++;
        json_t *o = json_object();
        json_object_set_new(o, "Id", json_integer(id));
        json_object_set_new(o, "Time", time_of(st, 1));
        json_object_set_new(o, "From", text_or_null(st, 2));
        json_object_set_new(o, "To", text_or_null(st, 3));
        json_object_set_new(o, "Subject", text_or_null(st, 4));
        json_object_set_new(o, "Body", text_or_null(st, 5));
        json_object_set_new(o, "TopicArn", text_or_null(st, 6));
        json_object_set_new(o, "MessageId", text_or_null(st, 7));
        json_array_append_new(out, o);
    }
    sqlite3_reset(st);
    return out;
}

json_t *topic_deliveries(topic_service *ts, size_t limit)
{
    json_t *out = json_array();
    sqlite3_stmt *st = store_read_stmt(server_store(ts->srv), sql_deliveries);
    if (st == NULL)
        return out;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(limit ? limit : 100));
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "Id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "Subscription", text_or_null(st, 1));
        json_object_set_new(o, "Protocol", text_or_null(st, 2));
        json_object_set_new(o, "Endpoint", text_or_null(st, 3));
        json_object_set_new(o, "Kind", text_or_null(st, 4));
        json_object_set_new(o, "Status", text_or_null(st, 5));
        json_object_set_new(o, "Attempts", json_integer(sqlite3_column_int64(st, 6)));
        json_object_set_new(o, "LastError", text_or_null(st, 7));
        json_object_set_new(o, "Created", time_of(st, 8));
        json_object_set_new(o, "Updated", time_of(st, 9));
        json_array_append_new(out, o);
    }
    sqlite3_reset(st);
    return out;
}

json_t *topic_health(topic_service *ts)
{
    size_t n_subs = 0;
    for (size_t i = 0; i < ts->n_topics; i++)
        n_subs += ts->topics[i]->n_subs;
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:s}", "topics", (json_int_t)ts->n_topics,
                     "subscriptions", (json_int_t)n_subs, "delivered", (json_int_t)ts->n_delivered,
                     "failed", (json_int_t)ts->n_failed, "retried", (json_int_t)ts->n_retried,
                     "mail", ts->smtp.host ? "smtp" : "outbox");
}
