/*
 * outbox.c — the pages of Baton's topics: GET /outbox lists the mail that went to the local
 * outbox (the server has no SMTP), newest first, as an HTML page for a person (links in
 * mail bodies clickable) or as JSON ({"Mails": […], "NextBefore": ID}) with Accept:
 * application/json or ?format=json, a page at a time (?before=ID&limit=N, at most 1000 mails
 * and about OUTBOX_PAGE_BYTES (1 MiB) of bodies); GET /baton/deliveries lists recent deliveries
 * with their status (JSON); GET /baton/sns/SimpleNotificationService.pem is the certificate that
 * verifies the signatures of the messages Baton sends (SigningCertURL).
 */
#include "api/sns.h"

#include "base/alloc.h"
#include "base/json.h"
#include "vtl/vtl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char path_outbox[] = "/outbox";

/* The body bytes one page of the outbox holds at most (beyond one mail): the page is built
 * on the engine thread, so a full outbox of 256 KiB mails must not hold every other request
 * behind a page of a gigabyte. Older mail is a link (?before=ID) away. */
#define OUTBOX_PAGE_BYTES (1u << 20)
static const char path_deliveries[] = "/baton/deliveries";
static const char path_cert[] = "/baton/sns/SimpleNotificationService.pem";

/* The outbox holds every approval link: not cached, not framed, no script, and no
 * Referer to the sites its mails link to. */
static const char *const html_headers[] = {"Cache-Control",
                                           "no-store",
                                           "X-Frame-Options",
                                           "DENY",
                                           "Content-Security-Policy",
                                           "default-src 'none'; style-src 'unsafe-inline'",
                                           "X-Content-Type-Options",
                                           "nosniff",
                                           "Referrer-Policy",
                                           "no-referrer",
                                           NULL};
static const char *const json_headers[] = {"Cache-Control", "no-store", "X-Content-Type-Options",
                                           "nosniff", NULL};

bool api_topic_page_is(const char *method, const char *path)
{
    return strcmp(method, "GET") == 0 &&
           (strcmp(path, path_outbox) == 0 || strcmp(path, "/outbox/") == 0 ||
            strcmp(path, path_deliveries) == 0 || strcmp(path, path_cert) == 0);
}

static void html_escape(bt_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
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
        default:
            bt_buf_putc(b, s[i]);
        }
    }
}

/* The body with every http(s):// link made an <a>. */
static void body_html(bt_buf *b, const char *s)
{
    while (*s) {
        const char *h = strstr(s, "http://"), *hs = strstr(s, "https://");
        if (h == NULL || (hs && hs < h))
            h = hs;
        if (h == NULL) {
            html_escape(b, s, strlen(s));
            return;
        }
        html_escape(b, s, (size_t)(h - s));
        size_t n = strcspn(h, " \t\r\n<>\"");
        bt_buf_puts(b, "<a href=\"");
        html_escape(b, h, n);
        bt_buf_puts(b, "\">");
        html_escape(b, h, n);
        bt_buf_puts(b, "</a>");
        s = h + n;
    }
}

static void text(bt_buf *b, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (v)
        html_escape(b, v, strlen(v));
}

static bool wants_json(api_call *c)
{
    const char *accept = http_header(c->req, "Accept");
    const char *q = http_query(c->req);
    return (accept && strstr(accept, "application/json")) || (q && strstr(q, "format=json"));
}

static void outbox_html(api_call *c, json_t *mails, int64_t next_before)
{
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Baton outbox"
                    "</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}"
                    ".mail{border:1px solid #ccc;border-radius:4px;padding:1em;margin:1em 0}"
                    ".meta{color:#555;font-size:90%}pre{white-space:pre-wrap}</style></head>"
                    "<body>\n<h1>Outbox</h1>\n");
    size_t n = json_array_size(mails);
    if (n == 0)
        bt_buf_puts(&b, "<p>No mail yet. Mail sent by topics lands here while the server has "
                        "no SMTP server configured.</p>\n");
    else
        bt_buf_printf(&b, "<p>%zu mail%s, newest first.</p>\n", n, n == 1 ? "" : "s");
    size_t i;
    json_t *m;
    json_array_foreach(mails, i, m)
    {
        bt_buf_printf(&b, "<div class=\"mail\" id=\"mail-%lld\"><h2>",
                      (long long)json_integer_value(json_object_get(m, "Id")));
        text(&b, m, "Subject");
        bt_buf_puts(&b, "</h2><div class=\"meta\">To: ");
        text(&b, m, "To");
        bt_buf_puts(&b, " &middot; From: ");
        text(&b, m, "From");
        bt_buf_puts(&b, " &middot; ");
        text(&b, m, "Time");
        bt_buf_puts(&b, "</div><pre>");
        const char *body = json_string_value(json_object_get(m, "Body"));
        body_html(&b, body ? body : "");
        bt_buf_puts(&b, "</pre></div>\n");
    }
    if (next_before)
        bt_buf_printf(&b, "<p><a href=\"?before=%lld\">Older mail</a></p>\n",
                      (long long)next_before);
    bt_buf_puts(&b, "</body></html>\n");
    api_reply(c, 200, "text/html; charset=utf-8", b.data, b.len, html_headers);
    bt_buf_fini(&b);
}

/* Answers with o (consumed) as JSON. */
static void reply_json(api_call *c, json_t *o)
{
    char *text = bt_json_dumps(o);
    api_reply(c, 200, "application/json", text, strlen(text), json_headers);
    free(text);
    json_decref(o);
}

void api_topic_page(api_call *c, topic_service *ts)
{
    const char *path = http_path(c->req);
    if (strcmp(path, path_cert) == 0) {
        const char *pem = topic_signing_cert(ts);
        api_reply(c, 200, "application/x-pem-file", pem, strlen(pem), NULL);
        return;
    }
    if (strcmp(path, path_deliveries) == 0) {
        reply_json(c, json_pack("{s:o}", "Deliveries", topic_deliveries(ts, 1000)));
        return;
    }
    topic_outbox_page pg = {.limit = 1000, .max_bytes = OUTBOX_PAGE_BYTES};
    vtl_param *qp;
    size_t nq = vtl_parse_query(http_query(c->req), &qp);
    for (size_t i = 0; i < nq; i++) {
        char *end;
        long long v = strtoll(qp[i].value, &end, 10);
        if (*end != '\0' || v <= 0)
            continue;
        if (strcmp(qp[i].name, "before") == 0)
            pg.before = v;
        else if (strcmp(qp[i].name, "limit") == 0 && v < 1000)
            pg.limit = (size_t)v;
    }
    vtl_params_free(qp, nq);
    int64_t next = 0;
    json_t *mails = topic_outbox(ts, &pg, &next);
    if (wants_json(c)) {
        json_t *o = json_pack("{s:o}", "Mails", mails);
        if (next)
            json_object_set_new(o, "NextBefore", json_integer(next));
        reply_json(c, o);
        return;
    }
    outbox_html(c, mails, next);
    json_decref(mails);
}
