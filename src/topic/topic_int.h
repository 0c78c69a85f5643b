/*
 * topic_int.h — what the topic module's files share: the pure parts (filter.c: filter
 * policies; message.c: what SNS delivers, byte for byte; sign.c: the signing key), the
 * curl-on-libuv driver (curl_uv.c) and the service's state (service.c: topics and
 * subscriptions; publish.c: Publish; deliver.c: the durable deliveries, SMTP, the outbox).
 */
#ifndef BT_TOPIC_TOPIC_INT_H
#define BT_TOPIC_TOPIC_INT_H

#include "base/buf.h"
#include "http/curl_uv.h"
#include "topic/topic.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* ---- filter.c ---- */

/* Checks a filter policy (JSON text): 0 with *out (new reference), or -1 with a reason in
 * why (static text). */
int topic__filter_parse(const char *text, json_t **out, const char **why);
/* Whether a message passes the policy. attrs: the envelope's MessageAttributes shape
 * ({name: {Type, Value}}, may be NULL); body: the message text (parsed as JSON when
 * scope_body). */
bool topic__filter_match(const json_t *policy, bool scope_body, const json_t *attrs,
                         const char *body);

/* ---- message.c ---- */

/* The total combination of values a filter policy may name (SNS's limit). */
#define TOPIC_FILTER_COMBINATIONS_MAX 150

typedef struct topic__msg {
    const char *type; /* Notification, SubscriptionConfirmation, UnsubscribeConfirmation */
    const char *message_id, *topic_arn, *subject, *message, *timestamp;
    const char *token, *subscribe_url; /* confirmations */
    const json_t *attrs;               /* {name: {Type, Value}} or NULL */
} topic__msg;

/* The string SNS signs (SNS notes §12): key, newline, value, newline for the fields of the
 * message's type, in their order. Heap. */
char *topic__canonical(const topic__msg *m);
/* The JSON envelope (http/https body, sqs body, email-json body), AWS's key order. */
json_t *topic__envelope(const topic__msg *m, const char *sig_version, const char *signature,
                        const char *cert_url, const char *unsub_url);
/* The Lambda event: {"Records": [{EventSource, EventVersion, EventSubscriptionArn, Sns}]}. */
json_t *topic__lambda_event(const topic__msg *m, const char *sub_arn, const char *sig_version,
                            const char *signature, const char *cert_url, const char *unsub_url);
/* The message a protocol gets with MessageStructure=json: the protocol's key, else
 * "default". NULL when the structure has neither (checked before). */
const char *topic__structured(const json_t *structure, const char *protocol);
/* An RFC 5322 message (CRLF lines, headers then body; Subject MIME-encoded when not ASCII). */
char *topic__mail_text(const char *from, const char *to, const char *subject, const char *body,
                       const char *message_id, int64_t now_ms);
/* "Tue, 14 Nov 2023 22:13:20 GMT" (RFC 7231) / "+0000" dates. */
void topic__http_date(int64_t now_ms, char out[40]);

/* ---- sign.c ---- */

typedef struct topic__signer topic__signer;
/* Reads DIR/signing-key.pem and DIR/signing-cert.pem, creating both (RSA 2048, a
 * self-signed certificate for ten years) when absent. */
topic__signer *topic__signer_open(const char *dir, bt_err *err);
void topic__signer_free(topic__signer *s);
const char *topic__signer_cert(const topic__signer *s);
/* Base64 of the RSA signature of text: SHA1withRSA for version "1", SHA256withRSA for "2".
 * Heap. */
char *topic__sign(topic__signer *s, const char *version, const char *text);

/* ---- the service (service.c, deliver.c, mail.c) ---- */

typedef struct topic__sub {
    char *arn, *topic_arn, *protocol, *endpoint, *token;
    bool pending, raw, scope_body;
    char *filter_text; /* FilterPolicy as given, or NULL */
    json_t *filter;
    json_t *extra; /* other attributes set (DeliveryPolicy, RedrivePolicy, …) */
    topic_origin origin;
} topic__sub;

typedef struct topic__topic {
    char *arn, *name;
    json_t *attrs; /* settable attributes as set */
    json_t *tags;  /* {key: value} */
    topic_origin origin;
    topic__sub **subs;
    size_t n_subs, cap_subs;
    int64_t n_deleted;
} topic__topic;

typedef struct topic__delivery topic__delivery;

/* A published message its deliveries share (a row of sns_message, written once): each
 * delivery's body is rendered from it when the delivery runs (topic__render). Held by its
 * deliveries (refs); the store drops the row when its last pending delivery is done. */
typedef struct topic__message {
    int64_t id;
    size_t refs;
    char *message_id, *topic_arn, *subject, *text, *timestamp;
    json_t *structure; /* MessageStructure=json: text parsed; else NULL */
    json_t *attrs;     /* {name: {Type, Value}} */
} topic__message;

struct topic_service {
    server *srv;
    queue_service *qs;
    fn_service *fs;
    topic__signer *signer;
    http_curl *curl;
    topic__topic **topics;
    size_t n_topics, cap_topics;
    char *public_url;
    topic_smtp smtp; /* host NULL: the outbox */
    /* deliveries in memory: pending ones, held until their batch is durable */
    topic__delivery *first, *last;
    /* The held deliveries are the list's tail, in seq order: the first of them, or NULL. */
    topic__delivery *first_held;
    int64_t armed_ms;       /* when the timer fires (INT64_MAX: stopped) */
    size_t n_transfers;     /* http/https and SMTP deliveries in flight */
    bool transfers_waiting; /* due ones were left for a free transfer slot */
    int64_t next_delivery_id, next_message_id;
    uint64_t seq; /* creation order, for releasing after commit */
    uv_timer_t timer;
    int open_handles;
    size_t pending_commits;
    bool is_closing;
    uint64_t n_delivered, n_failed, n_retried;
};

void topic__fail(topic_err *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *topic__base_url(const topic_service *ts);
topic__topic *topic__find(topic_service *ts, const char *arn);
/* tags.c: checks tags against SNS's limits; compares them with a topic's; adds them (in the
 * current batch); drops a deleted topic's rows; loads a topic's (start). */
int topic__tags_check(const topic_kv *tags, size_t n, topic_err *err);
bool topic__tags_equal(const topic__topic *t, const topic_kv *tags, size_t n);
int topic__tags_set(topic_service *ts, topic__topic *t, const topic_kv *tags, size_t n,
                    topic_err *err);
void topic__tags_drop(topic_service *ts, const topic__topic *t);
int topic__tags_load(topic_service *ts, topic__topic *t, bt_err *err);
/* Frees what the service holds (deliver.c calls it once its handles have closed). */
void topic__service_release(topic_service *ts);

/* deliver.c: records one delivery in the current batch (it runs after the commit). kind:
 * the x-amz-sns-message-type. meta: what the protocol needs besides the body (takes
 * ownership). */
void topic__deliver(topic_service *ts, const char *sub_arn, const char *protocol,
                    const char *endpoint, const char *kind, const char *subject, const char *body,
                    json_t *meta);
/* Records a message for topic__deliver_message in the current batch; its text, structure
 * and attrs are copied (structure and attrs increfed). Held by no one until a delivery
 * takes it. */
topic__message *topic__message_new(topic_service *ts, const char *message_id, const char *topic_arn,
                                   const char *subject, const char *text, json_t *structure,
                                   json_t *attrs, const char *timestamp);
/* topic__deliver for a Notification of msg: the row refers to msg; meta (takes ownership)
 * carries what topic__render needs besides it. */
void topic__deliver_message(topic_service *ts, const char *sub_arn, const char *protocol,
                            const char *endpoint, const char *subject, topic__message *msg,
                            json_t *meta);
/* publish.c: the body of a delivery of msg to protocol, from meta's form ("lambda",
 * "email", "raw", "envelope"), sig, version, cert and unsub. Heap. */
char *topic__render(const topic__message *msg, const char *protocol, const char *sub_arn,
                    const json_t *meta);
/* Loads the pending deliveries (service start). */
int topic__deliveries_load(topic_service *ts, bt_err *err);
void topic__deliveries_start(topic_service *ts);
void topic__deliveries_stop(topic_service *ts);

#endif
