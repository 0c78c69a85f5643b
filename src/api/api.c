/*
 * api.c — answering API calls (api.h). An answer is copied and handed to the server as a
 * completion of the current batch: it reaches the client only once every write made before
 * it is durable. Every answer carries a request id (x-amzn-RequestId), as AWS's do.
 */
#include "api/api.h"
#include "base/alloc.h"
#include "base/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EXTRA 16

typedef struct reply {
    http_request *req;
    int status;
    char *content_type;
    char *body;
    size_t len;
    char *extra[2 * MAX_EXTRA + 3];
} reply;

static void send_reply(void *ctx, int rc)
{
    reply *r = ctx;
    if (rc != 0) {
        /* The writes behind this answer were not made durable: it must not be sent. */
        static const char body[] =
            "{\"__type\":\"ServiceUnavailable\",\"message\":\"The store could not commit this "
            "request; nothing of it was kept\"}";
        http_respond(r->req, 503, "application/x-amz-json-1.0", body, sizeof body - 1, NULL);
    } else {
        http_respond(r->req, r->status, r->content_type, r->body, r->len,
                     (const char *const *)r->extra);
    }
    for (size_t i = 0; r->extra[i]; i++)
        free(r->extra[i]);
    free(r->content_type);
    free(r->body);
    free(r);
}

void api_call_free(api_call *c)
{
    json_decref(c->json);
    bt_form_free(c->form);
    free(c->op_buf);
    free(c);
}

void api_reply(api_call *c, int status, const char *content_type, const char *body, size_t len,
               const char *const *extra)
{
    reply *r = bt_xcalloc(1, sizeof *r);
    r->req = c->req;
    r->status = status;
    r->content_type = bt_xstrdup(content_type);
    r->body = bt_xmalloc(len + 1);
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->len = len;
    size_t n = 0;
    bool has_id = false;
    for (size_t i = 0; extra && extra[i] && n < 2 * MAX_EXTRA; i += 2) {
        r->extra[n++] = bt_xstrdup(extra[i]);
        r->extra[n++] = bt_xstrdup(extra[i + 1]);
        has_id = has_id || strcasecmp(extra[i], "x-amzn-RequestId") == 0;
    }
    if (!has_id) {
        r->extra[n++] = bt_xstrdup("x-amzn-RequestId");
        r->extra[n++] = bt_xstrdup(c->request_id);
    }
    server_log(c->srv, SERVER_LOG_DEBUG, "request", "id=%llu op=%s status=%d request_id=%s",
               (unsigned long long)c->id, c->op ? c->op : "-", status, c->request_id);
    if (c->reply_now)
        send_reply(r, 0);
    else
        server_after_commit(c->srv, send_reply, r);
    api_call_free(c);
}

void api_reply_json(api_call *c, json_t *body)
{
    bt_buf b;
    bt_buf_init(&b);
    if (bt_json_write(&b, body) != 0) {
        bt_buf_fini(&b);
        json_decref(body);
        api_reply_json_error(c, 500, "InternalFailure", "the answer nests too deeply to write");
        return;
    }
    json_decref(body);
    api_reply(c, 200, "application/x-amz-json-1.0", b.data, b.len, NULL);
    bt_buf_fini(&b);
}

void api_reply_json_error(api_call *c, int status, const char *type, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "{\"__type\":");
    bt_json_write_string(&b, type, strlen(type));
    bt_buf_puts(&b, ",\"message\":");
    bt_json_write_string(&b, msg, strlen(msg));
    bt_buf_putc(&b, '}');
    server_log(c->srv, SERVER_LOG_DEBUG, "request.error", "id=%llu op=%s type=%s status=%d",
               (unsigned long long)c->id, c->op, type, status);
    api_reply(c, status, "application/x-amz-json-1.0", b.data, b.len, NULL);
    bt_buf_fini(&b);
}
