/*
 * approval_int.h — what service.c (requests, the integration, expiry) and decide.c (the
 * pages' views, decisions, the audit) share.
 */
#ifndef BT_APPROVAL_APPROVAL_INT_H
#define BT_APPROVAL_APPROVAL_INT_H

#include "approval/approval.h"

#include <uv.h>

typedef enum approval__vote {
    VOTE_NONE,
    VOTE_APPROVE,
    VOTE_REJECT,
} approval__vote;

typedef struct approval__link {
    char id[APPROVAL_LINK_LEN + 1];
    char nonce[APPROVAL_LINK_LEN + 1];
    char *who;
    approval__vote vote;
    int64_t decided_ms;
    char *comment;
    int order; /* 1, 2, … in the order of the decisions; 0 before */
} approval__link;

/* A request waiting for its decision (only those are in memory). */
typedef struct approval__req {
    struct approval__req *prev, *next;
    char *execution_arn;
    uint64_t task_id;
    char *state_name, *subject, *message;
    json_t *data;
    int64_t required, created_ms, expires_ms;
    approval__link *links;
    size_t n_links;
    int n_decided;
    /* The expiry is the state's TimeoutSeconds: the engine's timer ends the task
     * (States.Timeout), not the expiry's; kept with the request (schema v2), so also after
     * a restart. */
    bool state_timeout;
} approval__req;

struct approval_service {
    server *srv;
    topic_service *ts;
    uint8_t key[64];
    size_t key_len;
    uint8_t own_key[32]; /* the data folder's */
    char *public_url;
    approval__req *first, *last;
    uv_timer_t timer;
    bool timer_armed;
};

extern const char approval__sql_req_status[];
extern const char approval__sql_link_vote[];

void approval__unlink(approval_service *as, approval__req *r);
void approval__req_free(approval__req *r);
/* The request a link belongs to, with the link; NULL when no pending request has it. */
approval__req *approval__find(approval_service *as, const char *id, approval__link **link);
/* The outcome object of the approvers so far. */
json_t *approval__approvers(const approval__req *r, bool with_decision, bool approved_only);

#endif
