/*
 * approve.c — the pages behind approval links (approval.h). GET shows the execution, the
 * state, the subject, the message, the data (pretty-printed, HTML-escaped), the decisions so
 * far and the expiry, with an Approve / Reject form that carries the link's one-time nonce;
 * it changes nothing. POST decides; its answer follows the commit of the decision and the
 * task's outcome. Unknown or forged links answer 404, used, decided or expired ones 410,
 * each with a sentence that says so. Pages are not cached and not framed.
 */
#include "api/approve.h"

#include "base/alloc.h"
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

static const char *const page_headers[] = {"Cache-Control",
                                           "no-store",
                                           "X-Frame-Options",
                                           "DENY",
                                           "Content-Security-Policy",
                                           "default-src 'none'; style-src 'unsafe-inline'; "
                                           "form-action 'self'",
                                           "Referrer-Policy",
                                           "no-referrer",
                                           NULL};

bool api_approve_page_is(const char *method, const char *path)
{
    return (strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0) &&
           strncmp(path, API_APPROVE_PREFIX, sizeof API_APPROVE_PREFIX - 1) == 0;
}

bool api_approvals_list_is(const char *method, const char *path)
{
    return strcmp(method, "GET") == 0 && strcmp(path, "/baton/approvals") == 0;
}

static void esc(bt_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            bt_buf_puts(b, "&lt;");
            break;
        case '>':
            bt_buf_puts(b, "&gt;");
            break;
        case '&':
            bt_buf_puts(b, "&amp;");
            break;
        case '"':
            bt_buf_puts(b, "&quot;");
            break;
        case '\'':
            bt_buf_puts(b, "&#39;");
            break;
        default:
            bt_buf_putc(b, *s);
        }
    }
}

static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static void head(bt_buf *b, const char *title)
{
    bt_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    esc(b, title);
    bt_buf_puts(b, "</title><style>body{font-family:sans-serif;margin:2em;max-width:50em}"
                   "pre{background:#f4f4f4;padding:1em;overflow:auto;white-space:pre-wrap}"
                   "th{text-align:left;padding-right:1em;vertical-align:top}"
                   "button{font-size:110%;margin-right:1em;padding:.4em 1.2em}"
                   "textarea{width:100%}.meta{color:#555}</style></head><body>\n<h1>");
    esc(b, title);
    bt_buf_puts(b, "</h1>\n");
}

static void reply_page(api_call *c, int status, bt_buf *b)
{
    bt_buf_puts(b, "</body></html>\n");
    api_reply(c, status, "text/html; charset=utf-8", b->data, b->len, page_headers);
    bt_buf_fini(b);
}

static void plain_page(api_call *c, int status, const char *title, const char *text)
{
    bt_buf b;
    bt_buf_init(&b);
    head(&b, title);
    bt_buf_puts(&b, "<p id=\"reason\">");
    esc(&b, text);
    bt_buf_puts(&b, "</p>\n");
    reply_page(c, status, &b);
}

static void details(bt_buf *b, const json_t *v)
{
    const char *msg = json_string_value(json_object_get(v, "Message"));
    if (msg) {
        bt_buf_puts(b, "<p id=\"message\">");
        esc(b, msg);
        bt_buf_puts(b, "</p>\n");
    }
    bt_buf_puts(b, "<table>\n<tr><th>Execution</th><td id=\"execution\">");
    esc(b, str(v, "ExecutionArn"));
    bt_buf_puts(b, "</td></tr>\n<tr><th>State</th><td id=\"state\">");
    esc(b, str(v, "StateName"));
    bt_buf_puts(b, "</td></tr>\n<tr><th>You</th><td id=\"approver\">");
    esc(b, str(v, "Approver"));
    bt_buf_printf(b, "</td></tr>\n<tr><th>Needed</th><td>%lld of %lld approvals</td></tr>\n",
                  (long long)json_integer_value(json_object_get(v, "Required")),
                  (long long)json_integer_value(json_object_get(v, "NumApprovers")));
    bt_buf_puts(b, "<tr><th>Expires</th><td id=\"expires\">");
    esc(b, str(v, "ExpiresAt"));
    bt_buf_puts(b, "</td></tr>\n</table>\n");
    const json_t *data = json_object_get(v, "Data");
    if (data && !json_is_null(data)) {
        char *text = json_dumps(data, JSON_INDENT(2) | JSON_ENCODE_ANY);
        bt_buf_puts(b, "<h2>Data</h2>\n<pre id=\"data\">");
        esc(b, text);
        bt_buf_puts(b, "</pre>\n");
        free(text);
    }
    const json_t *who = json_object_get(v, "Approvers");
    bt_buf_puts(b, "<h2>Decisions so far</h2>\n");
    if (json_array_size(who) == 0)
        bt_buf_puts(b, "<p>None yet.</p>\n");
    else
        bt_buf_puts(b, "<ul id=\"decisions\">\n");
    size_t i;
    json_t *d;
    json_array_foreach(who, i, d)
    {
        bt_buf_puts(b, "<li>");
        esc(b, str(d, "who"));
        bt_buf_puts(b, ": ");
        esc(b, str(d, "decision"));
        bt_buf_puts(b, " <span class=\"meta\">");
        esc(b, str(d, "decidedAt"));
        bt_buf_puts(b, "</span>");
        if (json_string_value(json_object_get(d, "comment"))) {
            bt_buf_puts(b, " &mdash; ");
            esc(b, str(d, "comment"));
        }
        bt_buf_puts(b, "</li>\n");
    }
    if (json_array_size(who) > 0)
        bt_buf_puts(b, "</ul>\n");
}

static void refused(api_call *c, int rc, const char *why)
{
    if (rc == BT_ENOTFOUND)
        plain_page(c, 404, "Unknown approval link",
                   "This approval link is not valid: it may have been mistyped or cut short. "
                   "Nothing was decided.");
    else if (rc == BT_ESTATE)
        plain_page(c, 410, "Approval link no longer works", why);
    else
        plain_page(c, 400, "Approval not recorded", why ? why : "The request is not valid.");
}

static void show(api_call *c, approval_service *as, const char *id)
{
    json_t *v = NULL;
    const char *why = NULL;
    int rc = approval_view(as, id, &v, &why);
    if (rc != 0) {
        refused(c, rc, why);
        return;
    }
    bt_buf b;
    bt_buf_init(&b);
    head(&b, str(v, "Subject"));
    details(&b, v);
    /* A relative action: the form posts back to the URL the link opened, also when the
     * server sits behind a proxy under a path (public_url https://host/prefix). */
    bt_buf_puts(&b, "<h2>Your decision</h2>\n<form method=\"post\" action=\"");
    esc(&b, id);
    bt_buf_puts(&b, "\">\n<input type=\"hidden\" name=\"nonce\" value=\"");
    esc(&b, str(v, "Nonce"));
    bt_buf_puts(&b, "\">\n<p><label for=\"comment\">Comment (optional)</label><br>"
                    "<textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"2000\">"
                    "</textarea></p>\n<p><button type=\"submit\" name=\"decision\" "
                    "value=\"approve\" id=\"approve\">Approve</button><button type=\"submit\" "
                    "name=\"decision\" value=\"reject\" id=\"reject\">Reject</button></p>\n"
                    "</form>\n<p class=\"meta\">Opening this page decides nothing; only the "
                    "buttons do, once.</p>\n");
    json_decref(v);
    reply_page(c, 200, &b);
}

static void decide(api_call *c, approval_service *as, const char *id)
{
    if (c->form == NULL) {
        plain_page(c, 400, "Approval not recorded",
                   "The form could not be read (it must be URL-encoded UTF-8 text). Nothing "
                   "was decided.");
        return;
    }
    const char *decision = bt_form_get(c->form, "decision");
    if (decision == NULL || (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
        plain_page(c, 400, "Approval not recorded",
                   "The form must say decision=approve or decision=reject.");
        return;
    }
    approval_decision d = {
        .id = id,
        .nonce = bt_form_get(c->form, "nonce"),
        .approve = strcmp(decision, "approve") == 0,
        .comment = bt_form_get(c->form, "comment"),
        .ip = http_peer(c->req),
        .user_agent = http_header(c->req, "User-Agent"),
    };
    json_t *v = NULL;
    const char *why = NULL;
    int rc = approval_decide(as, &d, &v, &why);
    if (rc != 0) {
        refused(c, rc, why);
        return;
    }
    const char *outcome = str(v, "Outcome");
    bt_buf b;
    bt_buf_init(&b);
    head(&b, d.approve ? "You approved" : "You rejected");
    bt_buf_puts(&b, "<p id=\"outcome\">");
    if (strcmp(outcome, "approved") == 0)
        bt_buf_puts(&b, "Thank you. Enough approvals are in: the workflow goes on.");
    else if (strcmp(outcome, "rejected") == 0)
        bt_buf_puts(&b, "Thank you. The request is rejected: the workflow has been told.");
    else
        bt_buf_puts(&b, "Thank you. Your decision is recorded; the request waits for the "
                        "other approvers.");
    bt_buf_puts(&b, "</p>\n");
    details(&b, v);
    json_decref(v);
    reply_page(c, 200, &b);
}

void api_approve_page(api_call *c, approval_service *as)
{
    const char *id = http_path(c->req) + sizeof API_APPROVE_PREFIX - 1;
    if (strcmp(http_method(c->req), "POST") == 0)
        decide(c, as, id);
    else
        show(c, as, id);
}

void api_approvals_list(api_call *c, approval_service *as)
{
    json_t *o = json_pack("{s:o,s:o}", "Decisions", approval_audit(as, 1000), "Requests",
                          approval_requests(as, 1000));
    char *text = bt_json_dumps(o);
    api_reply(c, 200, "application/json", text, strlen(text), NULL);
    free(text);
    json_decref(o);
}
