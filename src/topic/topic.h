/*
 * topic.h — Baton's SNS-compatible topics as the server runs them, on the engine thread:
 * topics, subscriptions (email, email-json, http, https, sqs, lambda) with their attributes
 * and filter policies, Publish, and the deliveries it promises.
 *
 * Deliveries are durable effects. A Publish writes its message once (sns_message) and one
 * row per matching subscription (sns_delivery, referring to it) into the batch of the
 * publish; nothing is delivered before that batch is
 * durable. Then each delivery runs, is retried with back-off (1 s, 2 s, 4 s … at most 60 s,
 * TOPIC_MAX_ATTEMPTS in all) and its row says pending / delivered / failed, the attempts
 * made and the last error. Deliveries that stay inside Baton are done in the same batch
 * that marks them delivered, so a crash can neither lose nor repeat them: sqs (the message
 * enters the queue), lambda (an Event invocation, fn.h), email without SMTP (a row of the
 * outbox). Deliveries that leave the process (http, https, SMTP) are marked in the batch of
 * the loop iteration that sees them acknowledged: a crash in the few milliseconds between
 * the peer's acknowledgement and that commit repeats the delivery once after the restart.
 *
 * Email: without SMTP (topic_set_smtp(NULL)) every mail is written to the outbox table
 * (topic_outbox lists it; GET /outbox and `baton outbox` show it). With SMTP, mail goes out
 * through libcurl's SMTP (STARTTLS, AUTH) on the server's loop, never blocking it.
 *
 * Engine thread only, like everything reached through server.h.
 */
#ifndef BT_TOPIC_TOPIC_H
#define BT_TOPIC_TOPIC_H

#include "base/err.h"
#include "fn/fn.h"
#include "integ/integ.h"
#include "queue/queue.h"
#include "server/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct topic_service topic_service;

/* The service's tables (sns_topic, sns_subscription, sns_delivery, mail_outbox); then
 * sns_message: a published message's text, stored once for all its deliveries. */
#define TOPIC_SCHEMA_VERSION 12
extern const char topic_schema_v1[];
#define TOPIC_MESSAGE_SCHEMA_VERSION 13
extern const char topic_schema_v2[];

#define TOPIC_MAX_ATTEMPTS  10
#define TOPIC_MAX_TRANSFERS 64     /* http/https and SMTP deliveries in flight at once */
#define TOPIC_MESSAGE_MAX   262144 /* bytes, attributes included */

/* An SNS error as the query protocol names it: HTTP status, <Code>, message. */
typedef struct topic_err {
    int status;
    const char *code; /* "InvalidParameter", "NotFound", … (static) */
    char msg[512];
} topic_err;

typedef enum topic_origin {
    TOPIC_ORIGIN_API,
    TOPIC_ORIGIN_PROJECT,
} topic_origin;

typedef struct topic_kv {
    const char *key, *value;
} topic_kv;

/* Outgoing mail. Strings are copied. */
typedef struct topic_smtp {
    const char *host;
    int port;            /* 0: 587 */
    bool starttls;       /* required: no mail in the clear when the server offers no STARTTLS */
    const char *ca_file; /* PEM certificates to trust (CURLOPT_CAINFO); NULL: the system's */
    const char *username, *password; /* NULL: no AUTH */
    const char *from;                /* the envelope and header sender */
} topic_smtp;

/* Loads topics, subscriptions and pending deliveries; the signing key and certificate are
 * read from (or created in) DATA/sns/. qs and fs are borrowed (fs may be NULL: lambda
 * subscriptions then fail their deliveries). NULL with err set when it cannot. */
topic_service *topic_service_new(server *srv, queue_service *qs, fn_service *fs, bt_err *err);
/* Stops the timers and outgoing transfers (their deliveries stay pending for the next
 * start); the memory goes once the handles have closed. NULL does nothing. */
void topic_service_free(topic_service *ts);

/* NULL: mail goes to the outbox. */
void topic_set_smtp(topic_service *ts, const topic_smtp *cfg);
/* The base of the links Baton puts in messages (SubscribeURL, UnsubscribeURL, the signing
 * certificate); NULL: server_endpoint. Copied. */
void topic_set_public_url(topic_service *ts, const char *url);
/* The signing certificate (PEM), served at <public url>/baton/sns/SimpleNotificationService.pem.
 * Borrowed. */
const char *topic_signing_cert(const topic_service *ts);

/* ---- the SNS operations (SNS notes §10); each 0, or -1 with err set ---- */

/* CreateTopic: idempotent per name; *arn_out heap. */
int topic_create(topic_service *ts, const char *name, const topic_kv *attrs, size_t n_attrs,
                 topic_origin origin, char **arn_out, topic_err *err);
/* The same with Tags (CreateTopic's): set on a new topic; an existing topic given other tags
 * is an error, as SNS has it. */
int topic_create_tagged(topic_service *ts, const char *name, const topic_kv *attrs, size_t n_attrs,
                        const topic_kv *tags, size_t n_tags, topic_origin origin, char **arn_out,
                        topic_err *err);
int topic_delete(topic_service *ts, const char *arn, topic_err *err);
/* TagResource / UntagResource / ListTagsForResource on a topic's ARN (tags.c): SNS's limits
 * and codes. *out: [{Key, Value}] by key (new reference). */
int topic_tag(topic_service *ts, const char *arn, const topic_kv *tags, size_t n, topic_err *err);
int topic_untag(topic_service *ts, const char *arn, const char *const *keys, size_t n,
                topic_err *err);
int topic_list_tags(topic_service *ts, const char *arn, json_t **out, topic_err *err);
/* Topic ARNs, by name; an array (new reference). */
json_t *topic_list(topic_service *ts);
/* Names of the topics of an origin (project reload): heap array of heap strings. */
char **topic_names_of(topic_service *ts, topic_origin origin, size_t *n);
/* An object of strings (new reference). */
int topic_get_attributes(topic_service *ts, const char *arn, json_t **out, topic_err *err);
int topic_set_attribute(topic_service *ts, const char *arn, const char *name, const char *value,
                        topic_err *err);

typedef struct topic_sub_req {
    const char *topic_arn, *protocol, *endpoint;
    const topic_kv *attrs; /* FilterPolicy, FilterPolicyScope, RawMessageDelivery, … */
    size_t n_attrs;
    bool confirmed; /* declared by the operator (the project file): no confirmation */
    topic_origin origin;
} topic_sub_req;

/* Subscribe. A subscription to the same protocol and endpoint returns the existing one
 * (its attributes set as given). http/https/email/email-json start PendingConfirmation and
 * get a confirmation message, unless confirmed. *arn_out heap; *pending set. */
int topic_subscribe(topic_service *ts, const topic_sub_req *r, char **arn_out, bool *pending,
                    topic_err *err);
int topic_confirm(topic_service *ts, const char *topic_arn, const char *token, char **arn_out,
                  topic_err *err);
int topic_unsubscribe(topic_service *ts, const char *sub_arn, topic_err *err);
/* [{SubscriptionArn, Owner, Protocol, Endpoint, TopicArn}] of one topic (NULL: all);
 * "PendingConfirmation" as the ARN of unconfirmed ones, as SNS shows them. */
int topic_list_subscriptions(topic_service *ts, const char *topic_arn, json_t **out,
                             topic_err *err);
/* The subscriptions of a topic with their origin (project reload): [{arn, protocol,
 * endpoint, origin}] (new reference), or NULL when there is no such topic. */
json_t *topic_subscriptions_of(topic_service *ts, const char *topic_arn);
int topic_get_sub_attributes(topic_service *ts, const char *arn, json_t **out, topic_err *err);
int topic_set_sub_attribute(topic_service *ts, const char *arn, const char *name, const char *value,
                            topic_err *err);

/* One message attribute: type String, String.Array, Number or Binary (value base64). */
typedef struct topic_attr {
    const char *name, *type, *value;
} topic_attr;

typedef struct topic_publish_req {
    const char *topic_arn; /* TopicArn or TargetArn */
    const char *message;
    const char *subject;   /* or NULL */
    const char *structure; /* "json" or NULL */
    const topic_attr *attrs;
    size_t n_attrs;
    const char *group_id, *dedup_id;
} topic_publish_req;

/* Publish: checks, then records a delivery for every confirmed subscription whose filter
 * policy matches, in the current batch. message_id out. */
int topic_publish(topic_service *ts, const topic_publish_req *p, char message_id[37],
                  topic_err *err);

/* One mail to one address, outside any topic (Baton's own mail: approval links). Recorded
 * as an email delivery in the current batch, so it goes out (SMTP or the outbox) only once
 * that batch is durable, with the retries of every delivery. message_id out. */
void topic_send_mail(topic_service *ts, const char *to, const char *subject, const char *body,
                     char message_id[37]);

/* ---- what was sent ---- */

/* One page of the outbox: at most limit mails (0: 100) older than before (0: the newest),
 * and no more body bytes than max_bytes (0: no budget) — but always one mail. */
typedef struct topic_outbox_page {
    size_t limit;
    size_t max_bytes;
    int64_t before;
} topic_outbox_page;

/* A page of the outbox, newest first: [{Id, Time, From, To, Subject, Body, TopicArn,
 * MessageId}] (new reference; read from the store, so what is committed). *next_before is
 * the `before` of the next page, 0 when this one reaches the oldest mail. */
json_t *topic_outbox(topic_service *ts, const topic_outbox_page *pg, int64_t *next_before);
/* Recent deliveries, newest first: [{Id, Subscription, Protocol, Endpoint, Kind, Status,
 * Attempts, LastError, Created, Updated}]. */
json_t *topic_deliveries(topic_service *ts, size_t limit);
/* Counters for /health. */
json_t *topic_health(topic_service *ts);

/*
 * The Step Functions integration for arn:aws:states:::sns:publish (succeeds with
 * {MessageId, SdkHttpMetadata, SdkResponseMetadata} as AWS records it) and
 * …:sns:publish.waitForTaskToken (reported submitted; SendTaskSuccess ends it). Publishes
 * within start(): its deliveries join the batch of the transition. Borrows ts.
 */
integ topic_integ(topic_service *ts);

#endif
