/*
 * model.h — SQS's semantics in memory: queues (standard and FIFO) with AWS's attributes and
 * validation, messages with delay, visibility, receipt handles, redrive, retention and FIFO
 * ordering and deduplication. Pure: no I/O, no clock (every call takes now_ms), so every rule
 * is unit-tested here. The service (service.c) persists what changes through the observer
 * and holds new messages back until they are durable.
 *
 * Errors are SQS's own (errors.def): a call that refuses fills a qm_err with the error and
 * AWS's sentence, and changes nothing. Strings passed in are borrowed (copied when kept);
 * queue and message pointers are borrowed and valid until the next call that may remove
 * them (DeleteQueue, DeleteMessage, PurgeQueue, a receive that redrives or expires, a sweep).
 */
#ifndef BT_QUEUE_MODEL_H
#define BT_QUEUE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum qm_code {
    QM_OK = 0,
#define QERR(name, shape, code, status, exception) QM_E_##name,
#include "queue/errors.def"
#undef QERR
} qm_code;

typedef struct qm_err {
    qm_code code;
    char msg[512];
} qm_err;

/* Sets e (when not NULL), returns -1 so that `return qm_fail(…);` reads. */
int qm_fail(qm_err *e, qm_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The JSON __type shape, the query <Code>, the HTTP status and the SDK exception (or NULL). */
const char *qm_code_shape(qm_code c);
const char *qm_code_query(qm_code c);
int qm_code_status(qm_code c);
const char *qm_code_exception(qm_code c);

/* AWS's limits (SQS quotas page and the API reference). */
#define QM_MAX_MESSAGE_SIZE     262144 /* MaximumMessageSize's upper bound and default */
#define QM_MAX_BATCH_BYTES      262144 /* a batch's bodies and attributes together */
#define QM_MAX_BATCH_ENTRIES    10
#define QM_MAX_ATTRIBUTES       10
#define QM_MAX_RECEIVE          10
#define QM_MAX_WAIT_S           20
#define QM_MAX_VISIBILITY_S     43200
#define QM_DEDUP_WINDOW_MS      (5 * 60 * 1000)
#define QM_PURGE_INTERVAL_MS    (60 * 1000)
#define QM_DELETE_BLOCK_MS      (60 * 1000)
#define QM_MAX_INFLIGHT         120000
#define QM_MAX_TAGS             50
#define QM_MAX_QUEUE_NAME_CHARS 80

/* A name/value pair: queue attributes, tags. */
typedef struct qm_kv {
    const char *key;
    const char *value;
} qm_kv;

/* A message attribute: String and Number (and their custom types) carry text, Binary
 * carries bytes (decoded from base64 by the protocol layer). */
typedef struct qm_attr {
    char *name;
    char *type;  /* "String", "Number.float", "Binary.jpeg", … */
    char *value; /* len bytes (NUL-terminated as well) */
    size_t len;
    bool is_binary;
} qm_attr;

typedef struct qm_msg qm_msg;
typedef struct qm_queue qm_queue;
typedef struct qmodel qmodel;

struct qm_msg {
    qm_msg *prev, *next;           /* the queue's messages in send order */
    qm_msg *held_prev, *held_next; /* the model's held list (see qmodel_set_hold) */
    qm_queue *queue;
    char id[37];
    char *body;
    size_t body_len;
    qm_attr *attrs; /* sorted by name */
    size_t n_attrs;
    char *trace_header; /* the AWSTraceHeader system attribute, or NULL */
    char md5_body[33];
    char md5_attrs[33]; /* "" without attributes */
    char md5_sys[33];   /* "" without system attributes */
    int64_t sent_ms;
    int64_t first_receive_ms; /* 0 until received */
    int64_t received_ms;      /* the latest receive */
    int64_t visible_ms;       /* receivable from then on (delay, visibility timeout) */
    int64_t enqueued_ms;      /* retention counts from here: sending (or a FIFO redrive) */
    int64_t receive_count;
    char *receipt; /* the latest receipt handle, or NULL */
    char *group_id;
    char *dedup_id;
    char *seq;        /* FIFO SequenceNumber, or NULL */
    char *sender_id;  /* who sent it (the account) */
    char *dlq_source; /* DeadLetterQueueSourceArn once redriven, or NULL */
    uint64_t serial;  /* send order across the model; the persistence order key */
    bool is_held;     /* sent but not yet durable: not receivable */
};

/* The observer: how the service learns of every change to persist it. Any callback may be
 * NULL. Called synchronously, inside the model call that made the change. */
typedef struct qm_observer {
    void *ud;
    void (*queue_saved)(void *ud, const qm_queue *q);   /* created, attributes or tags set */
    void (*queue_deleted)(void *ud, const qm_queue *q); /* its messages go with it */
    void (*msg_added)(void *ud, const qm_msg *m);       /* sent or redriven into m->queue */
    void (*msg_updated)(void *ud, const qm_msg *m);     /* received, visibility changed */
    void (*msg_deleted)(void *ud, const qm_msg *m);     /* deleted, expired, redriven away */
    void (*purged)(void *ud, const qm_queue *q);        /* every message of q deleted */
    void (*dedup_saved)(void *ud, const qm_queue *q, const char *key, const char *message_id,
                        const char *seq, int64_t expires_ms);
} qm_observer;

/* ---- the model ---- */

qmodel *qmodel_new(const char *region, const char *account);
void qmodel_free(qmodel *m);
void qmodel_set_observer(qmodel *m, const qm_observer *obs);
/* When on, new messages are held (not receivable) until qmodel_release covers their serial:
 * the service releases them once their batch is durable. Off (the default) in unit tests. */
void qmodel_set_hold(qmodel *m, bool hold);
/* Releases the held messages with serial <= serial; returns how many. */
size_t qmodel_release(qmodel *m, uint64_t serial);
/* Removes the held messages with serial <= serial (their batch failed); returns how many. */
size_t qmodel_drop_held(qmodel *m, uint64_t serial);
/* The serial of the newest message sent. */
uint64_t qmodel_last_serial(const qmodel *m);
const char *qmodel_account(const qmodel *m);
const char *qmodel_region(const qmodel *m);

/* ---- queues ---- */

/* CreateQueue: returns the new queue, or the existing one when every attribute given has
 * the value it already has (then *created is false); else QueueAlreadyExists. */
int qm_create_queue(qmodel *m, const char *name, const qm_kv *attrs, size_t n_attrs,
                    const qm_kv *tags, size_t n_tags, int64_t now_ms, qm_queue **out, bool *created,
                    qm_err *err);
qm_queue *qm_find(const qmodel *m, const char *name);
/* By ARN (arn:aws:sqs:<region>:<account>:<name>), as RedrivePolicy names queues. */
qm_queue *qm_find_arn(const qmodel *m, const char *arn);
int qm_delete_queue(qmodel *m, qm_queue *q, int64_t now_ms, qm_err *err);
/* Queues in name order: the first whose name is > after (NULL: from the start). */
qm_queue *qm_first_after(const qmodel *m, const char *after);
qm_queue *qm_next(const qm_queue *q);

const char *qm_queue_name(const qm_queue *q);
const char *qm_queue_arn(const qm_queue *q);
bool qm_queue_is_fifo(const qm_queue *q);
int64_t qm_queue_wait_s(const qm_queue *q);
/* The ARN of its dead-letter queue, or NULL. */
const char *qm_queue_dlq_arn(const qm_queue *q);
int64_t qm_queue_purged_ms(const qm_queue *q);
int64_t qm_queue_created_ms(const qm_queue *q);
int64_t qm_queue_modified_ms(const qm_queue *q);

/* SetQueueAttributes: all or nothing. */
int qm_set_attributes(qmodel *m, qm_queue *q, const qm_kv *attrs, size_t n, int64_t now_ms,
                      qm_err *err);
/*
 * GetQueueAttributes: calls put(ud, name, value) for each attribute asked for ("All" for
 * every one), in AWS's order. Unknown names are InvalidAttributeName; nothing is reported.
 */
int qm_get_attributes(const qmodel *m, const qm_queue *q, const char *const *names, size_t n,
                      int64_t now_ms, void (*put)(void *ud, const char *name, const char *value),
                      void *ud, qm_err *err);
/* The settable attributes with a value other than the default, for persistence: the same
 * pairs fed to qm_restore_queue bring the queue back. */
void qm_stored_attributes(const qm_queue *q,
                          void (*put)(void *ud, const char *name, const char *value), void *ud);

int qm_tag(qmodel *m, qm_queue *q, const qm_kv *tags, size_t n, qm_err *err);
int qm_untag(qmodel *m, qm_queue *q, const char *const *keys, size_t n, qm_err *err);
size_t qm_n_tags(const qm_queue *q);
/* The i-th tag (in the order set), borrowed. */
void qm_tag_at(const qm_queue *q, size_t i, const char **key, const char **value);

/* ---- messages ---- */

/* One SendMessage (or one entry of a batch). Strings borrowed. */
typedef struct qm_send {
    const char *body; /* NUL-terminated UTF-8; NULL: missing */
    const qm_attr *attrs;
    size_t n_attrs;
    const qm_attr *sys_attrs; /* MessageSystemAttributes: only AWSTraceHeader exists */
    size_t n_sys_attrs;
    int64_t delay_s; /* -1: the queue's DelaySeconds */
    const char *group_id;
    const char *dedup_id;
} qm_send;

typedef struct qm_sent {
    char message_id[37];
    char md5_body[33];
    char md5_attrs[33]; /* "" when the message has no attributes */
    char md5_sys[33];   /* "" when it has no system attributes */
    char seq[24];       /* FIFO only, else "" */
} qm_sent;

/* Validates without sending (batches check every entry first) and returns the bytes the
 * message counts against MaximumMessageSize. */
int qm_check_send(const qm_queue *q, const qm_send *s, size_t *bytes, qm_err *err);
int qm_send_message(qmodel *m, qm_queue *q, const qm_send *s, int64_t now_ms, qm_sent *out,
                    qm_err *err);

/* ReceiveMessage's parameters. */
typedef struct qm_receive {
    int64_t max;                  /* 1–10; -1: 1 */
    int64_t visibility_s;         /* -1: the queue's VisibilityTimeout */
    int64_t wait_s;               /* -1: the queue's ReceiveMessageWaitTimeSeconds (service only) */
    const char *const *sys_names; /* AttributeNames + MessageSystemAttributeNames */
    size_t n_sys_names;
    const char *const *attr_names; /* MessageAttributeNames */
    size_t n_attr_names;
} qm_receive;

int qm_check_receive(const qm_receive *r, qm_err *err);
/*
 * Receives up to r->max messages into out (room for QM_MAX_RECEIVE): each gets a new receipt
 * handle, a higher receive count and its visibility timeout. On the way it deletes expired
 * messages and moves to the dead-letter queue those received maxReceiveCount times already.
 */
size_t qm_receive_now(qmodel *m, qm_queue *q, const qm_receive *r, int64_t now_ms, qm_msg **out);
/* Whether the receive asks for this system attribute / message attribute. */
bool qm_wants_sys(const qm_receive *r, const char *name);
bool qm_wants_attr(const qm_receive *r, const char *name);
/* The earliest time after now_ms at which a message of q becomes receivable; INT64_MAX for
 * none. */
int64_t qm_next_visible_ms(const qm_queue *q, int64_t now_ms);
/* Whether a receive now would find anything. */
bool qm_has_receivable(const qm_queue *q, int64_t now_ms);

int qm_delete_message(qmodel *m, qm_queue *q, const char *receipt, int64_t now_ms, qm_err *err);
int qm_change_visibility(qmodel *m, qm_queue *q, const char *receipt, int64_t visibility_s,
                         int64_t now_ms, qm_err *err);
int qm_purge(qmodel *m, qm_queue *q, int64_t now_ms, qm_err *err);
/* Deletes expired messages and forgets expired deduplication ids. */
void qm_sweep(qmodel *m, int64_t now_ms);

/* Counts for GetQueueAttributes: visible, in flight, delayed. */
void qm_counts(const qm_queue *q, int64_t now_ms, int64_t *visible, int64_t *inflight,
               int64_t *delayed);
qm_msg *qm_first_message(const qm_queue *q);

/* MD5 of message attributes by AWS's algorithm over attrs[0..n) in the order given (sorted
 * by name); out gets 32 hex digits. */
void qm_attrs_md5(const qm_attr *const *attrs, size_t n, char out[33]);

/* Checks a batch entry Id: 1–80 of [A-Za-z0-9_-]. */
bool qm_batch_id_ok(const char *id);

/* ---- restoring from the store (service.c at start) ---- */

/* A queue as saved: its settable attributes (qm_stored_attributes) and tags, no validation
 * beyond what the model needs to be consistent; NULL if the name is taken. */
qm_queue *qm_restore_queue(qmodel *m, const char *name, bool is_fifo, int64_t created_ms,
                           int64_t modified_ms, int64_t purged_ms, const qm_kv *attrs,
                           size_t n_attrs, const qm_kv *tags, size_t n_tags);
/* A message as saved, appended to q (the caller restores in serial order). Takes ownership
 * of m, which must come from qm_msg_alloc. */
qm_msg *qm_msg_alloc(void);
void qm_restore_message(qmodel *m, qm_queue *q, qm_msg *msg);
void qm_restore_dedup(qmodel *m, qm_queue *q, const char *key, const char *message_id,
                      const char *seq, int64_t expires_ms);

#endif
