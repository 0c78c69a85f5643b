/*
 * url_rt.c — the url runtime: the event POSTed to the function's URL through libcurl's multi
 * interface, driven by the engine thread's loop (curl tells which sockets to watch, through
 * CURLMOPT_SOCKETFUNCTION → uv_poll, and when to call it back, CURLMOPT_TIMERFUNCTION →
 * uv_timer; both come back as curl_multi_socket_action). No thread, no blocking call.
 *
 * Outcomes (names chosen to read like Lambda's platform errors):
 *   2xx without X-Amz-Function-Error           the body is the result (empty: null)
 *   X-Amz-Function-Error, or a status not 2xx  a function error: the body when it is a JSON
 *                                              object with errorType, else Function.HttpError
 *                                              "HTTP <status> from <url>"
 *   no answer within the function's timeout     Sandbox.Timedout
 *   cannot connect, or the exchange breaks      Function.ConnectionError (curl's reason)
 *   a body above FN_RESPONSE_MAX                Function.ResponseSizeTooLarge
 */
#include "fn/fn_int.h"

#include "base/alloc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sock_watch {
    struct sock_watch *prev, *next;
    uv_poll_t poll;
    curl_socket_t fd;
    fn_url *u;
} sock_watch;

struct fn_url {
    fn_service *fs;
    CURLM *multi;
    uv_timer_t timer;
    sock_watch *socks;
};

typedef struct url_req {
    fn_inv *inv; /* NULL once let go */
    CURL *easy;
    struct curl_slist *headers;
    bt_buf body;
    char *url;
    bool has_error_header, is_too_large;
    char errbuf[CURL_ERROR_SIZE];
} url_req;

static void on_poll_closed(uv_handle_t *h)
{
    free(h->data);
}

static void unwatch(sock_watch *w)
{
    fn_url *u = w->u;
    if (w->prev)
        w->prev->next = w->next;
    else
        u->socks = w->next;
    if (w->next)
        w->next->prev = w->prev;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_poll_closed);
}

static void req_free(url_req *r)
{
    curl_slist_free_all(r->headers);
    curl_easy_cleanup(r->easy);
    bt_buf_fini(&r->body);
    free(r->url);
    free(r);
}

static void complete(url_req *r, CURLcode code)
{
    fn_inv *inv = r->inv;
    if (inv == NULL)
        return;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    const char *body = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    if (r->is_too_large) {
        fn__set_error(inv, "Function.ResponseSizeTooLarge",
                      "Response payload size exceeded maximum allowed payload size (%d bytes).",
                      FN_RESPONSE_MAX);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        fn__timed_out(inv);
    } else if (code != CURLE_OK) {
        fn__set_error(inv, "Function.ConnectionError", "RequestId: %s Error: %s: %s",
                      inv->request_id, r->url, r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
    } else if (status >= 200 && status < 300 && !r->has_error_header) {
        if (len == 0)
            fn__set_result(inv, "null", 4);
        else
            fn__set_result(inv, body, len);
    } else {
        char *type = len ? fn__error_type_of(body, len) : NULL;
        if (type) {
            fn__set_result(inv, body, len);
            inv->function_error = true;
            inv->error_type = type;
        } else {
            fn__set_error(inv, "Function.HttpError", "HTTP %ld from %s", status, r->url);
        }
    }
    r->inv = NULL;
    inv->proc = NULL;
    fn__finish(inv);
}

static void check_done(fn_url *u)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(u->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result;
        url_req *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(u->multi, easy);
        complete(r, code);
        req_free(r);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock_watch *w = p->data;
    fn_url *u = w->u;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(u->multi, w->fd, flags, &running);
    check_done(u);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    fn_url *u = userp;
    sock_watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            curl_multi_assign(u->multi, s, NULL);
            unwatch(w);
        }
        return 0;
    }
    if (w == NULL) {
        w = bt_xcalloc(1, sizeof *w);
        w->fd = s;
        w->u = u;
        uv_poll_init_socket(server_loop(u->fs->srv), &w->poll, s);
        w->poll.data = w;
        w->next = u->socks;
        if (u->socks)
            u->socks->prev = w;
        u->socks = w;
        curl_multi_assign(u->multi, s, w);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&w->poll, events, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    fn_url *u = t->data;
    int running;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(u);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fn_url *u = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&u->timer);
    else
        uv_timer_start(&u->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    url_req *r = ud;
    size_t len = size * n;
    if (r->body.len + len > FN_RESPONSE_MAX) {
        r->is_too_large = true;
        return 0;
    }
    bt_buf_append(&r->body, data, len);
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    url_req *r = ud;
    size_t len = size * n;
    static const char name[] = "X-Amz-Function-Error:";
    if (len >= sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0)
        r->has_error_header = true;
    return len;
}

static fn_url *url_state(fn_service *fs)
{
    if (fs->url)
        return fs->url;
    fn_url *u = bt_xcalloc(1, sizeof *u);
    u->fs = fs;
    u->multi = curl_multi_init();
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    uv_timer_init(server_loop(fs->srv), &u->timer);
    u->timer.data = u;
    fs->url = u;
    return u;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
    char *line = bt_xasprintf("%s: %s", name, value);
    h = curl_slist_append(h, line);
    free(line);
    return h;
}

int fn__url_run(fn_inv *inv)
{
    fn_url *u = url_state(inv->fs);
    const fn_config *c = &inv->fn->info.cfg;
    url_req *r = bt_xcalloc(1, sizeof *r);
    bt_buf_init(&r->body);
    r->url = bt_xstrdup(c->url);
    r->easy = curl_easy_init();
    r->headers = add_header(NULL, "Content-Type", "application/json");
    r->headers = add_header(r->headers, "Lambda-Runtime-Aws-Request-Id", inv->request_id);
    char deadline[32];
    snprintf(deadline, sizeof deadline, "%lld", (long long)inv->deadline_ms);
    r->headers = add_header(r->headers, "Lambda-Runtime-Deadline-Ms", deadline);
    r->headers = add_header(r->headers, "Lambda-Runtime-Invoked-Function-Arn",
                            inv->invoked_arn ? inv->invoked_arn : inv->fn->info.arn);
    if (inv->client_context && inv->client_context[0])
        r->headers = add_header(r->headers, "Lambda-Runtime-Client-Context", inv->client_context);
    r->headers = curl_slist_append(r->headers, "Expect:");
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, inv->payload);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)inv->payload_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_s * 1000L);
    r->inv = inv;
    inv->proc = r;
    /* The payload stays with the invocation until it ends; curl reads it in place. */
    CURLMcode mc = curl_multi_add_handle(u->multi, e);
    if (mc != CURLM_OK) {
        r->inv = NULL;
        inv->proc = NULL;
        fn__set_error(inv, "Function.ConnectionError", "RequestId: %s Error: %s", inv->request_id,
                      curl_multi_strerror(mc));
        req_free(r);
        fn__finish(inv);
    }
    return 0;
}

void fn__url_abandon(fn_inv *inv)
{
    url_req *r = inv->proc;
    if (r == NULL || r->inv != inv || inv->fs->url == NULL)
        return;
    r->inv = NULL;
    inv->proc = NULL;
    curl_multi_remove_handle(inv->fs->url->multi, r->easy);
    req_free(r);
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void fn__url_fini(fn_service *fs)
{
    fn_url *u = fs->url;
    if (u == NULL)
        return;
    fs->url = NULL;
    curl_multi_cleanup(u->multi);
    while (u->socks)
        unwatch(u->socks);
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
}
