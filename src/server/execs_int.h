/*
 * execs_int.h — the durable execution records shared by execs.c (the driver: recording,
 * replay, flushing, timers) and sfn_execs.c (the execution operations of the API).
 */
#ifndef BT_SERVER_EXECS_INT_H
#define BT_SERVER_EXECS_INT_H

#include "server/server_int.h"

#define TOKEN_BYTES     32
#define TOKEN_KEY_BYTES 32
/* AWS's bound on inputs, outputs and task results. */
#define MAX_PAYLOAD 262144

/* One open execution (or one that closed in the iteration not yet committed). */
struct xrec {
    server *srv;
    int64_t id;
    char *arn;
    char idkey[24];
    exec *e; /* NULL while it lives only in the store */
    int64_t sm_id;
    int64_t revision;
    uint8_t token_key[TOKEN_KEY_BYTES];
    int64_t next_timer; /* INT64_MAX: none */
    size_t heap_pos;    /* SIZE_MAX: not in the heap */
    bool dirty;
    bool inserted;        /* its row is in a batch */
    bool closed_flushed;  /* its end is in a batch */
    uint32_t log_seq;     /* records written so far */
    uint32_t log_flushed; /* of them, in a batch */
    uint64_t events_flushed;
    /* New events rendered but not yet in the batch: one history row holds a run of them
     * (a JSON array), so a transition costs one statement, not one per event. */
    bt_buf chunk;
    uint32_t chunk_first, chunk_n;
    char **log; /* records not yet in a batch */
    size_t n_log, cap_log;
    int64_t row_next_timer; /* as last written */
    char *input_text;       /* for the row's first write */
    int64_t start_ms;
    uint64_t seed;
    /* RedriveExecution (redrive.c): the row goes back to RUNNING in the next batch; the last
     * redrive's clientToken answers a repeat while the record lives. */
    bool redrive_pending;
    int64_t redrive_ms;
    char *redrive_token;
    /* StartSyncExecution: answered once the end is durable (rc 0), or failed (rc != 0). */
    sfn_sync_done sync_done;
    void *sync_ctx;
    /* Batches holding its writes that are not yet durable; while there are any it stays in
     * memory (the store does not have all of it yet). */
    uint32_t pending_commits;
    /* Parked and durable: in the server's list of executions it may drop from memory, least
     * recently used first. */
    xrec *lru_prev, *lru_next;
    bool in_lru;
    /* Outcomes the integrations reported during a call, applied after it returns. */
    struct pending_outcome *pend;
    size_t n_pend, cap_pend;
};

/* PEND_STARTED: an activity's task handed to a worker (value: the workerName string or NULL);
 * applied at once by activities.c, never queued. */
typedef enum pend_kind {
    PEND_SUBMITTED,
    PEND_SUCCEEDED,
    PEND_FAILED,
    PEND_HEARTBEAT,
    PEND_STARTED
} pend_kind;

struct pending_outcome {
    pend_kind kind;
    uint64_t task_id;
    json_t *value;
    const char *error, *cause; /* owned (heap) when queued by an integration */
};

/* execs.c */
xrec *execs__new(server *s, int64_t id, const char *arn);
void execs__mint_token(void *ctx, uint64_t task_id, char out[EXEC_TOKEN_MAX]);
bool execs__token_parse(const char *token, int64_t *exec_id, uint64_t *task_id, uint8_t mac[16]);
void execs__token_mac(const xrec *x, uint64_t task_id, uint8_t out[32]);
/* Rebuilds x->e from the store when it is not in memory; 0 or -1 (logged). */
int execs__load(server *s, xrec *x);
/* Runs x until it waits (timers, tasks), applying what its integrations report. */
void execs__drive(server *s, xrec *x);
void execs__record(server *s, xrec *x, json_t *rec);
int execs__apply(server *s, xrec *x, struct pending_outcome *p, int64_t now);
const char *execs__col_text(sqlite3_stmt *st, int i);

/* Frees a record that never reached a batch (a redrive that could not be loaded). */
void execs__discard(server *s, xrec *x);

/* redrive.c: what decides whether an ended execution may be redriven now. */
typedef struct redrive_facts {
    const char *arn;
    const char *status;
    int64_t sm_id, start_ms, stop_ms, n_events;
    bool log_kept;
} redrive_facts;
/* NULL when RedriveExecution would take it; else AWS's reason (redriveStatusReason). */
const char *execs__redrive_refusal(server *s, const redrive_facts *f);

/* sfn_execs.c: StartSyncExecution's answer for an execution that has ended. */
json_t *execs__sync_response(const xrec *x);

#endif
