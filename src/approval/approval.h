/*
 * approval.h — Baton's built-in approvals: the Task resource arn:baton:states:::approval
 * (a partition of Baton's own, so it cannot be taken for an AWS resource). Its Parameters:
 *
 *   Approvers       list of email addresses (required, 1..APPROVAL_MAX_APPROVERS)
 *   Subject         the mail's subject (default "Approval requested: <state name>")
 *   Message         text shown in the mail and on the page
 *   Data            any JSON, shown to the approvers (pretty-printed)
 *   Required        approvals needed, N of M (default 1)
 *   ExpiresSeconds  how long the links work (default 86400; at most the state's
 *                   TimeoutSeconds when it has one)
 *
 * start() records the request and one link per approver in the batch of the transition,
 * and one mail per approver through the topic service (topic_send_mail: it leaves only once
 * that batch is durable). A link is <public url>/approve/<id>: id is 16 random bytes and an
 * 8-byte HMAC-SHA-256 of them under the link key, base64url (32 characters), so a forged id
 * is refused before any lookup. The key is the project file's signing_key, else one made
 * once in DATA/approval/link-key.
 *
 * Outcomes: N approvals → the task succeeds with
 *   {"decision": "approved", "approvers": [{"who", "decidedAt", "comment"}]}
 * (the approvers who approved, in the order they did). One rejection, or too few approvers
 * left to reach N → the task fails with Approval.Rejected, its cause the JSON text
 * {"decision": "rejected", "approvers": [{"who", "decision", "decidedAt", "comment"}]}.
 * No decision before the expiry → Approval.Expired. Bad Parameters → Approval.InvalidParameters.
 * A decision, its audit row and the task's outcome are written in one batch, and the answer
 * to the approver follows its commit.
 *
 * Engine thread only.
 */
#ifndef BT_APPROVAL_APPROVAL_H
#define BT_APPROVAL_APPROVAL_H

#include "base/err.h"
#include "integ/integ.h"
#include "server/server.h"
#include "topic/topic.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APPROVAL_RESOURCE       "arn:baton:states:::approval"
#define APPROVAL_SCHEMA_VERSION 20
extern const char approval_schema_v1[];
/* v2 (22): whether a request's expiry is its state's TimeoutSeconds (see approval__req). */
#define APPROVAL_SCHEMA_V2_VERSION 22
extern const char approval_schema_v2[];

#define APPROVAL_MAX_APPROVERS   100
#define APPROVAL_DEFAULT_EXPIRES 86400
#define APPROVAL_LINK_LEN        32 /* characters of a link id */
#define APPROVAL_COMMENT_MAX     2000

/* ---- the pure parts (link.c) ---- */

/* A new link id (APPROVAL_LINK_LEN characters and a NUL) signed with key. */
void approval_link_make(const uint8_t *key, size_t key_len, char out[APPROVAL_LINK_LEN + 1]);
/* True when id is a link id that key signed (constant-time over the MAC). */
bool approval_link_check(const uint8_t *key, size_t key_len, const char *id);

typedef enum approval_outcome {
    APPROVAL_PENDING,
    APPROVAL_APPROVED,
    APPROVAL_REJECTED,
} approval_outcome;
/* N of M: approved once n_approved >= required; rejected at the first rejection, or once
 * the approvers who have not decided can no longer make up the difference. */
approval_outcome approval_tally(int64_t required, size_t n_approvers, size_t n_approved,
                                size_t n_rejected);
/* Characters (Unicode code points) of UTF-8 text: the limits that a person reads
 * ("at most 2000 characters", a browser's maxlength) count these, not bytes. */
size_t approval_text_chars(const char *s);
/* True for an address a link can be mailed to: local@domain, both parts non-empty, one
 * '@', at most 254 bytes, no spaces, control characters or the specials that would need
 * quoting in a header or an SMTP command (< > ( ) [ ] , ; : \ "). */
bool approval_address_ok(const char *a);

/* ---- the service (service.c, decide.c) ---- */

typedef struct approval_service approval_service;

/* Loads the pending requests (dropping those whose task is no longer open) and the link key
 * (created in DATA/approval/ when absent). ts is borrowed. NULL with err set. */
approval_service *approval_service_new(server *srv, topic_service *ts, bt_err *err);
/* Stops the timer; the memory goes once it has closed. NULL does nothing. */
void approval_service_free(approval_service *as);
/* The links' base (NULL: server_endpoint). Copied. */
void approval_set_public_url(approval_service *as, const char *url);
/* The project file's signing_key signs the links from now on (NULL: the data folder's key).
 * Links of pending requests keep working whatever key signed them (decide.c: lookup). */
void approval_set_signing_key(approval_service *as, const char *key);

/* The integration for APPROVAL_RESOURCE (answers later). Borrows as. */
integ approval_integ(approval_service *as);

/*
 * What a link shows: 0 with *view (new reference) {Id, Approver, ExecutionArn, StateName,
 * Subject, Message, Data, Required, Approvers: [{who, decision, decidedAt, comment}],
 * CreatedAt, ExpiresAt, Nonce}; BT_ENOTFOUND for an unknown or forged id; BT_ESTATE when the
 * link no longer decides anything, with *why (static text: used, decided, expired, …).
 * Reads only.
 */
int approval_view(approval_service *as, const char *id, json_t **view, const char **why);

typedef struct approval_decision {
    const char *id, *nonce;
    bool approve;
    const char *comment;         /* NULL or "" when none */
    const char *ip, *user_agent; /* for the audit */
} approval_decision;
/*
 * Decides through a link: 0 with *view as approval_view's after the decision (Outcome:
 * "approved" / "rejected" / "pending"); BT_ENOTFOUND; BT_ESTATE with *why (used, decided,
 * expired); BT_EINVAL with *why (a nonce that does not match, a comment too long). The
 * decision, its audit row and the task's outcome go into the current batch.
 */
int approval_decide(approval_service *as, const approval_decision *d, json_t **view,
                    const char **why);

/* The audit, newest first, at most limit (0: 1000): [{Id, Time, ExecutionArn, StateName,
 * TaskId, Approver, Decision, Comment, Ip, UserAgent, Outcome}] (new reference). */
json_t *approval_audit(approval_service *as, size_t limit);
/* The requests, newest first: [{ExecutionArn, StateName, Subject, Status, Required,
 * Approvers, CreatedAt, ExpiresAt, DecidedAt}]. */
json_t *approval_requests(approval_service *as, size_t limit);

#endif
