/*
 * model_int.h — what model.c (queues, attributes, tags) and model_msg.c (messages) share:
 * the queue and model structures and the observer hooks. Not for use outside the model.
 */
#ifndef BT_QUEUE_MODEL_INT_H
#define BT_QUEUE_MODEL_INT_H

#include "base/strmap.h"
#include "queue/model.h"

/* A queue's settable attributes, copied whole by SetQueueAttributes so that a refused
 * change leaves the queue as it was. */
typedef struct qm__settings {
    bool is_fifo;
    int64_t delay_s, max_size, retention_s, wait_s, visibility_s;
    char *redrive; /* normalised RedrivePolicy JSON, or NULL */
    char *dlq_arn; /* its deadLetterTargetArn */
    int64_t max_receive;
    char *allow;   /* RedriveAllowPolicy as given, or NULL */
    char *policy;  /* Policy as given, or NULL */
    char *kms_key; /* KmsMasterKeyId, or NULL */
    int64_t kms_reuse_s;
    bool sse; /* SqsManagedSseEnabled */
    bool content_dedup;
    const char *dedup_scope; /* "queue" | "messageGroup" */
    const char *throughput;  /* "perQueue" | "perMessageGroupId" */
} qm__settings;

typedef struct qm__tag {
    char *key, *value;
} qm__tag;

/* A remembered deduplication id (FIFO): a send with the same key within the window is
 * accepted and answered with the original's id, not enqueued. */
typedef struct qm__dedup {
    struct qm__dedup *next;
    char *key;
    char id[37];
    char *seq;
    int64_t expires_ms;
} qm__dedup;

struct qm_queue {
    qm_queue *prev_name, *next_name; /* the model's queues in name order */
    qmodel *model;
    char *name, *arn;
    int64_t created_ms, modified_ms, purged_ms;
    qm__settings set;
    qm__tag *tags;
    size_t n_tags;
    qm_msg *head, *tail;
    size_t n_msgs;
    bt_strmap by_id; /* message id -> qm_msg */
    bt_strmap dedup; /* key -> qm__dedup */
    qm__dedup *dedup_head, *dedup_tail;
    uint64_t last_seq;
};

typedef struct qm__deleted {
    struct qm__deleted *next;
    char *name;
    int64_t at_ms;
} qm__deleted;

struct qmodel {
    char *region, *account;
    qm_observer obs;
    bool hold;
    uint64_t serial;
    qm_queue *first; /* name order */
    bt_strmap by_name;
    qm_msg *held_head, *held_tail;
    qm__deleted *deleted; /* names deleted within QM_DELETE_BLOCK_MS */
};

/* model_msg.c */
void qm__msg_free(qm_msg *msg);
/* Unlinks msg from its queue (and the held list) and frees it; no observer call. */
void qm__msg_remove(qm_msg *msg);
void qm__queue_free_messages(qm_queue *q);

#endif
