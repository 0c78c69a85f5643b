/*
 * approve.h — the approval pages, for the router: GET /approve/<id> shows what is being
 * approved and a form (it never decides: mail scanners follow links); POST /approve/<id>
 * with the form's nonce decides; GET /baton/approvals lists the audit and the requests.
 */
#ifndef BT_API_APPROVE_H
#define BT_API_APPROVE_H

#include "api/api.h"
#include "approval/approval.h"

#define API_APPROVE_PREFIX "/approve/"

bool api_approve_page_is(const char *method, const char *path);
bool api_approvals_list_is(const char *method, const char *path);
/* The page (GET) or the decision (POST; c->form holds the decoded body). */
void api_approve_page(api_call *c, approval_service *as);
/* {"Decisions": [...], "Requests": [...]} */
void api_approvals_list(api_call *c, approval_service *as);

#endif
