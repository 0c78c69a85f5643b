/*
 * deliver.c — deliveries as durable effects. topic__deliver writes a row (status pending)
 * into the current batch and keeps the delivery in memory, held until that batch is durable
 * (server_after_commit); then one timer runs every delivery that is due:
 *
 *   pending --run--> delivered                      (row updated, body dropped)
 *      ^       `---> error, attempts < MAX --> pending, next_ms = now + back-off
 *      |       `---> error, attempts = MAX --> failed (last_error kept)
 *      `-- restart: every pending row is loaded and runs again at its next_ms
 *
 * Inside Baton (sqs, lambda, the outbox) the effect and the row's update are one batch, so
 * they are done exactly once. Outside (http/https, SMTP) the row is updated in the batch of
 * the loop turn that sees the peer's acknowledgement; a crash before that commit repeats
 * the delivery once (the window is that commit: milliseconds).
 *
 * Back-off: 1 s, 2 s, 4 s, … 60 s at most, TOPIC_MAX_ATTEMPTS attempts in all. An HTTP
 * endpoint answering 4xx (except 429) fails at once, as SNS treats it as permanent.
 */
#include "topic/topic_int.h"

#include "base/alloc.h"
#include "base/rand.h"
#include "base/timefmt.h"
#include "queue/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sql_insert[] =
    "INSERT INTO sns_delivery (id, created_ms, updated_ms, sub_arn, protocol, endpoint, kind, "
    "subject, body, meta, status, attempts, next_ms, last_error, msg_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?)";
static const char sql_message_insert[] =
    "INSERT INTO sns_message (id, message_id, topic_arn, subject, message, structured, attrs, "
    "timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_message_load[] = "SELECT id, message_id, topic_arn, subject, message, "
                                       "structured, attrs, timestamp FROM sns_message ORDER BY id";
static const char sql_message_max_id[] = "SELECT COALESCE(MAX(id), 0) FROM sns_message";
static const char sql_retry[] = "UPDATE sns_delivery SET attempts = ?, next_ms = ?, "
                                "last_error = ?, updated_ms = ? WHERE id = ?";
static const char sql_done[] = "UPDATE sns_delivery SET status = ?, attempts = ?, "
                               "last_error = ?, updated_ms = ?, body = ? WHERE id = ?";
static const char sql_delivered[] = "UPDATE sns_delivery SET status = 'delivered', attempts = ?, "
                                    "updated_ms = ?, body = '' WHERE id = ?";
static const char sql_load[] = "SELECT id, sub_arn, protocol, endpoint, kind, subject, body, "
                               "meta, attempts, next_ms, msg_id FROM sns_delivery "
                               "WHERE status = 'pending' ORDER BY id";
static const char sql_max_id[] = "SELECT COALESCE(MAX(id), 0) FROM sns_delivery";
static const char sql_outbox_add[] =
    "INSERT OR IGNORE INTO mail_outbox (created_ms, mail_from, mail_to, subject, body, "
    "topic_arn, message_id, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

#define OUTBOX_FROM "Baton <no-reply@baton.local>"

struct topic__delivery {
    topic__delivery *prev, *next;
    topic_service *ts;
    int64_t id;
    uint64_t seq;
    bool is_held, in_flight;
    char *sub_arn, *protocol, *endpoint, *kind, *subject;
    char *body;          /* with msg: rendered for the attempt in progress only */
    topic__message *msg; /* shared with the other deliveries of a Publish, or NULL */
    json_t *meta;
    int64_t attempts, next_ms;
    /* a transfer (http/https, SMTP) while in flight */
    CURL *easy;
    struct curl_slist *list;
    char *upload;
    size_t upload_len, upload_off;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct release {
    topic_service *ts;
    uint64_t upto;
} release;

static void arm(topic_service *ts);
static void arm_at(topic_service *ts, int64_t when_ms);

/* A retry due this close to a timer's fire goes with it: one scan of the list serves many. */
#define DUE_SLACK_MS 50

static char *dup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

static const char *meta_str(const topic__delivery *d, const char *key)
{
    return json_string_value(json_object_get(d->meta, key));
}

static void transfer_free(topic__delivery *d)
{
    if (d->easy)
        curl_easy_cleanup(d->easy);
    curl_slist_free_all(d->list);
    free(d->upload);
    d->easy = NULL;
    d->list = NULL;
    d->upload = NULL;
}

static void message_free(topic__message *m)
{
    free(m->message_id);
    free(m->topic_arn);
    free(m->subject);
    free(m->text);
    free(m->timestamp);
    json_decref(m->structure);
    json_decref(m->attrs);
    free(m);
}

static void message_unref(topic__message *m)
{
    if (m && --m->refs == 0)
        message_free(m);
}

static void delivery_free(topic__delivery *d)
{
    transfer_free(d);
    message_unref(d->msg);
    free(d->sub_arn);
    free(d->protocol);
    free(d->endpoint);
    free(d->kind);
    free(d->subject);
    free(d->body);
    json_decref(d->meta);
    free(d);
}

static void link_last(topic_service *ts, topic__delivery *d)
{
    d->prev = ts->last;
    if (ts->last)
        ts->last->next = d;
    else
        ts->first = d;
    ts->last = d;
}

static void unlink_one(topic_service *ts, topic__delivery *d)
{
    if (ts->first_held == d)
        ts->first_held = d->next;
    if (d->prev)
        d->prev->next = d->next;
    else
        ts->first = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        ts->last = d->prev;
}

static void maybe_release(topic_service *ts)
{
    if (ts->is_closing && ts->open_handles == 0 && ts->pending_commits == 0)
        topic__service_release(ts);
}

static void released(void *ctx, int rc)
{
    release *r = ctx;
    topic_service *ts = r->ts;
    ts->pending_commits--;
    if (!ts->is_closing) {
        /* Batches are durable in order: the ones to release lead the held tail. */
        int64_t due = INT64_MAX;
        topic__delivery *d = ts->first_held;
        while (d && d->seq <= r->upto) {
            topic__delivery *next = d->next;
            if (!d->is_held) {
                /* not one of this batch's (the tail is held ones only; be safe) */
            } else if (rc == 0) {
                d->is_held = false;
                if (d->next_ms < due)
                    due = d->next_ms;
            } else {
                unlink_one(ts, d);
                delivery_free(d);
            }
            d = next;
        }
        ts->first_held = d;
        if (due != INT64_MAX)
            arm_at(ts, due);
    }
    free(r);
    maybe_release(ts);
}

static void deliver_new(topic_service *ts, const char *sub_arn, const char *protocol,
                        const char *endpoint, const char *kind, const char *subject,
                        const char *body, topic__message *msg, json_t *meta)
{
    topic__delivery *d = bt_xcalloc(1, sizeof *d);
    d->ts = ts;
    d->id = ts->next_delivery_id++;
    d->seq = ++ts->seq;
    d->is_held = true;
    d->sub_arn = dup_or_null(sub_arn);
    d->protocol = bt_xstrdup(protocol);
    d->endpoint = bt_xstrdup(endpoint);
    d->kind = bt_xstrdup(kind);
    d->subject = dup_or_null(subject);
    d->body = msg ? NULL : bt_xstrdup(body);
    d->msg = msg;
    if (msg)
        msg->refs++;
    d->meta = meta ? meta : json_object();
    int64_t now = server_now_ms(ts->srv);
    d->next_ms = now;
    char *meta_text = json_dumps(d->meta, JSON_COMPACT);
    if (msg)
        store_batch_add(server_batch(ts->srv), sql_insert, "iiitttttttii", d->id, now, now,
                        d->sub_arn, d->protocol, d->endpoint, d->kind, d->subject, "", meta_text,
                        now, msg->id);
    else
        store_batch_add(server_batch(ts->srv), sql_insert,
                        "iiittttttti"
                        "n",
                        d->id, now, now, d->sub_arn, d->protocol, d->endpoint, d->kind, d->subject,
                        d->body, meta_text, now);
    free(meta_text);
    link_last(ts, d);
    if (ts->first_held == NULL)
        ts->first_held = d;
    release *r = bt_xmalloc(sizeof *r);
    r->ts = ts;
    r->upto = d->seq;
    ts->pending_commits++;
    server_after_commit(ts->srv, released, r);
}

void topic__deliver(topic_service *ts, const char *sub_arn, const char *protocol,
                    const char *endpoint, const char *kind, const char *subject, const char *body,
                    json_t *meta)
{
    deliver_new(ts, sub_arn, protocol, endpoint, kind, subject, body, NULL, meta);
}

topic__message *topic__message_new(topic_service *ts, const char *message_id, const char *topic_arn,
                                   const char *subject, const char *text, json_t *structure,
                                   json_t *attrs, const char *timestamp)
{
    topic__message *m = bt_xcalloc(1, sizeof *m);
    m->id = ts->next_message_id++;
    m->message_id = bt_xstrdup(message_id);
    m->topic_arn = bt_xstrdup(topic_arn);
    m->subject = dup_or_null(subject);
    m->text = bt_xstrdup(text);
    m->timestamp = bt_xstrdup(timestamp);
    m->structure = json_incref(structure);
    m->attrs = attrs ? json_incref(attrs) : json_object();
    char *attrs_text = json_dumps(m->attrs, JSON_COMPACT);
    store_batch_add(server_batch(ts->srv), sql_message_insert, "ittttitt", m->id, m->message_id,
                    m->topic_arn, m->subject, m->text, (int64_t)(structure != NULL), attrs_text,
                    m->timestamp);
    free(attrs_text);
    return m;
}

void topic__deliver_message(topic_service *ts, const char *sub_arn, const char *protocol,
                            const char *endpoint, const char *subject, topic__message *msg,
                            json_t *meta)
{
    deliver_new(ts, sub_arn, protocol, endpoint, "Notification", subject, NULL, msg, meta);
}

void topic_send_mail(topic_service *ts, const char *to, const char *subject, const char *body,
                     char message_id[37])
{
    uint8_t raw[16];
    bt_random_bytes(raw, sizeof raw);
    bt_uuid_format(raw, message_id);
    topic__deliver(ts, NULL, "email", to, "Notification", subject, body,
                   json_pack("{s:s}", "message_id", message_id));
}

/* ---- outcomes ---- */

static int64_t backoff_ms(int64_t attempts)
{
    int64_t s = 1;
    for (int64_t i = 1; i < attempts && s < 60; i++)
        s *= 2;
    return (s > 60 ? 60 : s) * 1000;
}

/* error NULL: delivered. permanent: no retry. */
static void finished(topic__delivery *d, const char *error, bool permanent)
{
    topic_service *ts = d->ts;
    int64_t now = server_tick(ts->srv);
    if (d->in_flight) {
        ts->n_transfers--;
        if (ts->transfers_waiting)
            arm_at(ts, now); /* a slot is free for one that waits */
    }
    d->in_flight = false;
    transfer_free(d);
    if (d->msg) { /* rendered again for another attempt; the message keeps the text */
        free(d->body);
        d->body = NULL;
    }
    store_batch *b = server_batch(ts->srv);
    if (error == NULL) {
        store_batch_add(b, sql_delivered, "iii", d->attempts, now, d->id); /* last_error stays */
        ts->n_delivered++;
        server_log(ts->srv, SERVER_LOG_DEBUG, "sns.delivered", "id=%" PRId64 " protocol=%s", d->id,
                   d->protocol);
    } else if (permanent || d->attempts >= TOPIC_MAX_ATTEMPTS) {
        store_batch_add(b, sql_done, "tititi", "failed", d->attempts, error, now,
                        d->msg ? "" : d->body, d->id);
        ts->n_failed++;
        server_log(ts->srv, SERVER_LOG_WARN, "sns.delivery_failed",
                   "id=%" PRId64 " protocol=%s endpoint=%s attempts=%" PRId64 " error=\"%s\"",
                   d->id, d->protocol, d->endpoint, d->attempts, error);
    } else {
        d->next_ms = now + backoff_ms(d->attempts);
        store_batch_add(b, sql_retry, "iitii", d->attempts, d->next_ms, error, now, d->id);
        ts->n_retried++;
        server_log(ts->srv, SERVER_LOG_INFO, "sns.delivery_retry",
                   "id=%" PRId64 " protocol=%s attempts=%" PRId64 " error=\"%s\"", d->id,
                   d->protocol, d->attempts, error);
        arm_at(ts, d->next_ms);
        return;
    }
    unlink_one(ts, d);
    delivery_free(d);
}

/* ---- inside Baton: sqs, lambda, the outbox ---- */

static void deliver_sqs(topic__delivery *d)
{
    topic_service *ts = d->ts;
    const char *name = strrchr(d->endpoint, ':');
    qm_queue *q = name ? qm_find(queue_model(ts->qs), name + 1) : NULL;
    if (q == NULL) {
        finished(d, "The specified queue does not exist.", false);
        return;
    }
    json_t *attrs = json_object_get(d->meta, "sqs_attrs");
    json_t *from_msg = NULL;
    if (json_is_true(attrs) && d->msg) { /* the message's attributes become SQS's */
        attrs = from_msg = json_array();
        const char *key;
        json_t *a;
        json_object_foreach(d->msg->attrs, key, a)
        {
            json_t *e = json_deep_copy(a);
            json_object_set_new(e, "Name", json_string(key));
            json_array_append_new(from_msg, e);
        }
    }
    size_t n =
        json_array_size(attrs) < QM_MAX_ATTRIBUTES ? json_array_size(attrs) : QM_MAX_ATTRIBUTES;
    qm_attr qa[QM_MAX_ATTRIBUTES];
    bt_buf bins[QM_MAX_ATTRIBUTES];
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(attrs, i);
        const char *type = json_string_value(json_object_get(a, "Type"));
        const char *value = json_string_value(json_object_get(a, "Value"));
        bt_buf_init(&bins[i]);
        qa[i].name = (char *)(uintptr_t)json_string_value(json_object_get(a, "Name"));
        qa[i].type = (char *)(uintptr_t)type;
        qa[i].is_binary = type && strncmp(type, "Binary", 6) == 0;
        if (qa[i].is_binary && value) {
            qc_base64_decode(value, strlen(value), &bins[i]);
            bt_buf_putc(&bins[i], '\0');
            qa[i].value = bins[i].data;
            qa[i].len = bins[i].len - 1;
        } else {
            qa[i].value = (char *)(uintptr_t)(value ? value : "");
            qa[i].len = strlen(qa[i].value);
        }
    }
    qm_send s = {.body = d->body,
                 .attrs = qa,
                 .n_attrs = n,
                 .delay_s = -1,
                 .group_id = meta_str(d, "group_id"),
                 .dedup_id = meta_str(d, "dedup_id")};
    if (qm_queue_is_fifo(q) && s.dedup_id == NULL)
        s.dedup_id = meta_str(d, "message_id");
    qm_sent sent;
    qm_err err = {0};
    int rc = qm_send_message(queue_model(ts->qs), q, &s, server_now_ms(ts->srv), &sent, &err);
    for (size_t i = 0; i < n; i++)
        bt_buf_fini(&bins[i]);
    json_decref(from_msg);
    finished(d, rc < 0 ? err.msg : NULL, false);
}

static void deliver_lambda(topic__delivery *d)
{
    topic_service *ts = d->ts;
    if (ts->fs == NULL) {
        finished(d, "Functions are not available on this server", false);
        return;
    }
    char name[FN_NAME_MAX + 1], qualifier[130];
    if (fn_parse_name(ts->fs, d->endpoint, name, qualifier) < 0) {
        finished(d, "The endpoint is not a function of this server", true);
        return;
    }
    fn_invoke_req req = {.name = name,
                         .qualifier = qualifier[0] ? qualifier : NULL,
                         .payload = d->body,
                         .payload_len = strlen(d->body)};
    char request_id[40];
    fn_result r = {0};
    if (fn_invoke_event(ts->fs, &req, request_id, &r) < 0) {
        char *why = bt_xasprintf("%s: %s", r.api_error ? r.api_error : "Lambda",
                                 r.api_message ? r.api_message : "the invocation was refused");
        finished(d, why, false);
        free(why);
        return;
    }
    finished(d, NULL, false);
}

static void deliver_outbox(topic__delivery *d)
{
    topic_service *ts = d->ts;
    store_batch_add(server_batch(ts->srv), sql_outbox_add, "itttttti", server_now_ms(ts->srv),
                    OUTBOX_FROM, d->endpoint, d->subject ? d->subject : "AWS Notification Message",
                    d->body, meta_str(d, "topic_arn"), meta_str(d, "message_id"), d->id);
    finished(d, NULL, false);
}

/* ---- outside: http/https, SMTP ---- */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static size_t read_upload(char *out, size_t size, size_t n, void *ud)
{
    topic__delivery *d = ud;
    size_t room = size * n, left = d->upload_len - d->upload_off;
    size_t k = left < room ? left : room;
    memcpy(out, d->upload + d->upload_off, k);
    d->upload_off += k;
    return k;
}

static void transfer_done(void *ctx, CURL *easy, CURLcode code)
{
    topic__delivery *d = ctx;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    bool is_http = strcmp(d->protocol, "http") == 0 || strcmp(d->protocol, "https") == 0;
    char why[CURL_ERROR_SIZE + 64];
    if (code != CURLE_OK) {
        const char *reason = d->errbuf[0] ? d->errbuf : curl_easy_strerror(code);
        if (!is_http && status > 0)
            snprintf(why, sizeof why, "SMTP %ld: %s", status, reason);
        else
            snprintf(why, sizeof why, "%s", reason);
        finished(d, why, false);
    } else if (is_http && (status < 200 || status >= 300)) {
        snprintf(why, sizeof why, "HTTP %ld from %s", status, d->endpoint);
        finished(d, why, status >= 400 && status < 500 && status != 429);
    } else {
        finished(d, NULL, false);
    }
}

static struct curl_slist *header(struct curl_slist *l, const char *name, const char *value)
{
    if (value == NULL)
        return l;
    char *line = bt_xasprintf("%s: %s", name, value);
    l = curl_slist_append(l, line);
    free(line);
    return l;
}

static void deliver_http(topic__delivery *d)
{
    CURL *e = d->easy = curl_easy_init();
    d->errbuf[0] = '\0';
    struct curl_slist *h = header(NULL, "Content-Type", "text/plain; charset=UTF-8");
    h = header(h, "x-amz-sns-message-type", d->kind);
    h = header(h, "x-amz-sns-message-id", meta_str(d, "message_id"));
    h = header(h, "x-amz-sns-topic-arn", meta_str(d, "topic_arn"));
    if (strcmp(d->kind, "SubscriptionConfirmation") != 0)
        h = header(h, "x-amz-sns-subscription-arn", d->sub_arn);
    if (json_is_true(json_object_get(d->meta, "raw")))
        h = header(h, "x-amz-sns-rawdelivery", "true");
    h = header(h, "User-Agent", "Amazon Simple Notification Service Agent");
    h = curl_slist_append(h, "Expect:");
    d->list = h;
    curl_easy_setopt(e, CURLOPT_URL, d->endpoint);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L); /* SNS waits 15 s for an endpoint */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    d->in_flight = true;
    d->ts->n_transfers++;
    http_curl_add(d->ts->curl, e, transfer_done, d);
}

static void deliver_smtp(topic__delivery *d)
{
    topic_service *ts = d->ts;
    const topic_smtp *m = &ts->smtp;
    const char *display = meta_str(d, "display_name");
    char *from = display && display[0] ? bt_xasprintf("%s <%s>", display, m->from)
                                       : bt_xstrdup(m->from ? m->from : "no-reply@baton.local");
    char *message_id = bt_xasprintf("%" PRId64 ".%s@baton", d->id,
                                    meta_str(d, "message_id") ? meta_str(d, "message_id") : "m");
    d->upload =
        topic__mail_text(from, d->endpoint, d->subject ? d->subject : "AWS Notification Message",
                         d->body, message_id, server_now_ms(ts->srv));
    d->upload_len = strlen(d->upload);
    d->upload_off = 0;
    free(from);
    free(message_id);
    CURL *e = d->easy = curl_easy_init();
    d->errbuf[0] = '\0';
    char *url = bt_xasprintf("%s://%s:%d", m->port == 465 ? "smtps" : "smtp", m->host, m->port);
    char *mail_from = bt_xasprintf("<%s>", m->from ? m->from : "no-reply@baton.local");
    char *rcpt = bt_xasprintf("<%s>", d->endpoint);
    d->list = curl_slist_append(NULL, rcpt);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->list);
    /* STARTTLS is required when asked for (CURLUSESSL_ALL: no mail in the clear to a server
     * that does not offer it); the certificate is always verified, against ca_file when
     * given, else the system's CAs. */
    if (m->starttls && m->port != 465)
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (m->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, m->ca_file);
    if (m->username)
        curl_easy_setopt(e, CURLOPT_USERNAME, m->username);
    if (m->password)
        curl_easy_setopt(e, CURLOPT_PASSWORD, m->password);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(e, CURLOPT_READDATA, d);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->upload_len);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
    free(url); /* curl copies string options */
    free(mail_from);
    free(rcpt);
    d->in_flight = true;
    d->ts->n_transfers++;
    http_curl_add(ts->curl, e, transfer_done, d);
}

static void run(topic__delivery *d)
{
    d->attempts++;
    if (d->msg && d->body == NULL)
        d->body = topic__render(d->msg, d->protocol, d->sub_arn, d->meta);
    if (d->body == NULL) {
        finished(d, "The message is missing from the store", true);
        return;
    }
    const char *p = d->protocol;
    if (strcmp(p, "sqs") == 0)
        deliver_sqs(d);
    else if (strcmp(p, "lambda") == 0)
        deliver_lambda(d);
    else if (strcmp(p, "http") == 0 || strcmp(p, "https") == 0)
        deliver_http(d);
    else if (strcmp(p, "email") == 0 || strcmp(p, "email-json") == 0)
        d->ts->smtp.host ? deliver_smtp(d) : deliver_outbox(d);
    else
        finished(d, "unsupported protocol", true);
}

/* ---- the timer ---- */

/* True when d goes out through curl (and so takes a transfer slot). */
static bool is_transfer(const topic__delivery *d)
{
    const char *p = d->protocol;
    return strcmp(p, "http") == 0 || strcmp(p, "https") == 0 ||
           ((strcmp(p, "email") == 0 || strcmp(p, "email-json") == 0) && d->ts->smtp.host);
}

static void on_timer(uv_timer_t *t)
{
    topic_service *ts = t->data;
    int64_t now = server_tick(ts->srv);
    ts->armed_ms = INT64_MAX; /* the timer is one-shot */
    /* Deliveries that finish at once unlink themselves; collect the due ones first. A slow
     * or hanging endpoint holds its slot until curl's timeout: at most TOPIC_MAX_TRANSFERS
     * go at once, the others wait for a slot (finished() wakes the timer). */
    size_t n = 0, cap = 64, transfers = ts->n_transfers;
    ts->transfers_waiting = false;
    topic__delivery **due = bt_xmalloc(cap * sizeof *due);
    for (topic__delivery *d = ts->first; d; d = d->next) {
        if (d->is_held || d->in_flight || d->next_ms > now + DUE_SLACK_MS)
            continue;
        if (is_transfer(d)) {
            if (transfers >= TOPIC_MAX_TRANSFERS) {
                ts->transfers_waiting = true;
                continue;
            }
            transfers++;
        }
        if (n == cap)
            due = bt_xrealloc(due, (cap *= 2) * sizeof *due);
        due[n++] = d;
    }
    for (size_t i = 0; i < n; i++)
        run(due[i]);
    free(due);
    arm(ts);
}

static void arm(topic_service *ts)
{
    if (ts->is_closing)
        return;
    int64_t next = INT64_MAX;
    for (topic__delivery *d = ts->first; d; d = d->next)
        if (!d->is_held && !d->in_flight && d->next_ms < next &&
            !(ts->n_transfers >= TOPIC_MAX_TRANSFERS && is_transfer(d)))
            next = d->next_ms;
    if (next == INT64_MAX) {
        uv_timer_stop(&ts->timer);
        ts->armed_ms = INT64_MAX;
        return;
    }
    ts->armed_ms = INT64_MAX;
    arm_at(ts, next);
}

/* Makes the timer fire by when_ms (O(1): the list is scanned when it fires). */
static void arm_at(topic_service *ts, int64_t when_ms)
{
    if (ts->is_closing || when_ms >= ts->armed_ms)
        return;
    int64_t now = server_now_ms(ts->srv);
    ts->armed_ms = when_ms;
    uv_timer_start(&ts->timer, on_timer, when_ms > now ? (uint64_t)(when_ms - now) : 0, 0);
}

/* ---- life ---- */

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* The messages of pending deliveries, by id (ascending). */
typedef struct message_set {
    topic__message **m;
    size_t n, cap;
} message_set;

static topic__message *message_find(const message_set *ms, int64_t id)
{
    size_t lo = 0, hi = ms->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ms->m[mid]->id == id)
            return ms->m[mid];
        if (ms->m[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int messages_load(topic_service *ts, message_set *ms, bt_err *err)
{
    store *s = server_store(ts->srv);
    sqlite3_stmt *st = store_read_stmt(s, sql_message_max_id);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset(st);
        return bt_err_set(err, BT_EIO, "cannot read the messages: %s",
                          sqlite3_errmsg(store_reader(s)));
    }
    ts->next_message_id = sqlite3_column_int64(st, 0) + 1;
    sqlite3_reset(st);
    st = store_read_stmt(s, sql_message_load);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "cannot read the messages: %s",
                          sqlite3_errmsg(store_reader(s)));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        topic__message *m = bt_xcalloc(1, sizeof *m);
        m->id = sqlite3_column_int64(st, 0);
        m->message_id = bt_xstrdup(col(st, 1) ? col(st, 1) : "");
        m->topic_arn = bt_xstrdup(col(st, 2) ? col(st, 2) : "");
        m->subject = dup_or_null(col(st, 3));
        m->text = bt_xstrdup(col(st, 4) ? col(st, 4) : "");
        if (sqlite3_column_int(st, 5))
            m->structure = json_loads(m->text, 0, NULL);
        m->attrs = col(st, 6) ? json_loads(col(st, 6), 0, NULL) : NULL;
        if (!json_is_object(m->attrs)) {
            json_decref(m->attrs);
            m->attrs = json_object();
        }
        m->timestamp = bt_xstrdup(col(st, 7) ? col(st, 7) : "");
        if (ms->n == ms->cap)
            ms->m = bt_xrealloc(ms->m, (ms->cap = ms->cap ? 2 * ms->cap : 16) * sizeof *ms->m);
        ms->m[ms->n++] = m;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read the messages: %s", sqlite3_errstr(rc));
    return 0;
}

static int deliveries_load(topic_service *ts, const message_set *ms, bt_err *err);

int topic__deliveries_load(topic_service *ts, bt_err *err)
{
    message_set ms = {0};
    int rc = messages_load(ts, &ms, err);
    if (rc == 0)
        rc = deliveries_load(ts, &ms, err);
    for (size_t i = 0; i < ms.n; i++) /* those no pending delivery holds go now */
        if (ms.m[i]->refs == 0)
            message_free(ms.m[i]);
    free(ms.m);
    return rc;
}

static int deliveries_load(topic_service *ts, const message_set *ms, bt_err *err)
{
    store *s = server_store(ts->srv);
    sqlite3_stmt *st = store_read_stmt(s, sql_max_id);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset(st);
        return bt_err_set(err, BT_EIO, "cannot read the deliveries: %s",
                          sqlite3_errmsg(store_reader(s)));
    }
    ts->next_delivery_id = sqlite3_column_int64(st, 0) + 1;
    sqlite3_reset(st);
    st = store_read_stmt(s, sql_load);
    if (st == NULL)
        return bt_err_set(err, BT_EIO, "cannot read the deliveries: %s",
                          sqlite3_errmsg(store_reader(s)));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        topic__delivery *d = bt_xcalloc(1, sizeof *d);
        d->ts = ts;
        d->id = sqlite3_column_int64(st, 0);
        d->sub_arn = dup_or_null(col(st, 1));
        d->protocol = bt_xstrdup(col(st, 2) ? col(st, 2) : "");
        d->endpoint = bt_xstrdup(col(st, 3) ? col(st, 3) : "");
        d->kind = bt_xstrdup(col(st, 4) ? col(st, 4) : "Notification");
        d->subject = dup_or_null(col(st, 5));
        d->body = bt_xstrdup(col(st, 6) ? col(st, 6) : "");
        d->meta = col(st, 7) ? json_loads(col(st, 7), 0, NULL) : NULL;
        if (!json_is_object(d->meta)) {
            json_decref(d->meta);
            d->meta = json_object();
        }
        d->attempts = sqlite3_column_int64(st, 8);
        d->next_ms = sqlite3_column_int64(st, 9);
        if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
            d->msg = message_find(ms, sqlite3_column_int64(st, 10));
            free(d->body);
            d->body = NULL;
            if (d->msg) /* else it cannot be rendered: run() fails it */
                d->msg->refs++;
        }
        link_last(ts, d);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return bt_err_set(err, BT_EIO, "cannot read the deliveries: %s", sqlite3_errstr(rc));
    return 0;
}

void topic__deliveries_start(topic_service *ts)
{
    uv_timer_init(server_loop(ts->srv), &ts->timer);
    ts->timer.data = ts;
    ts->open_handles = 1;
    ts->armed_ms = INT64_MAX;
    arm(ts);
}

static void on_closed(uv_handle_t *h)
{
    topic_service *ts = h->data;
    ts->open_handles--;
    maybe_release(ts);
}

void topic__deliveries_stop(topic_service *ts)
{
    ts->is_closing = true;
    /* Transfers in flight are abandoned: their rows stay pending for the next start. */
    http_curl_free(ts->curl);
    ts->curl = NULL;
    while (ts->first) {
        topic__delivery *d = ts->first;
        unlink_one(ts, d);
        delivery_free(d);
    }
    uv_close((uv_handle_t *)&ts->timer, on_closed);
}
