/*
 * curl_uv.c — libcurl's multi interface driven by a libuv loop (the engine thread's), for
 * what leaves the process: functions behind a URL, webhooks, SMTP. curl says which sockets
 * to watch (CURLMOPT_SOCKETFUNCTION → uv_poll) and when to call back
 * (CURLMOPT_TIMERFUNCTION → uv_timer); both come back as curl_multi_socket_action, and
 * finished transfers are collected with curl_multi_info_read. No thread, no blocking call.
 */
#include "http/curl_uv.h"

#include "base/alloc.h"

#include <stdlib.h>

typedef struct watch {
    struct watch *prev, *next;
    uv_poll_t poll;
    curl_socket_t fd;
    http_curl *c;
} watch;

typedef struct xfer {
    struct xfer *prev, *next;
    CURL *easy;
    http_curl_done done;
    void *ctx;
} xfer;

struct http_curl {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    watch *watches;
    xfer *xfers;
};

static void unlink_xfer(http_curl *c, xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
}

static void on_poll_closed(uv_handle_t *h)
{
    free(h->data);
}

static void unwatch(watch *w)
{
    http_curl *c = w->c;
    if (w->prev)
        w->prev->next = w->next;
    else
        c->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_poll_closed);
}

static void collect(http_curl *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result;
        xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, easy);
        if (x) {
            unlink_xfer(c, x);
            x->done(x->ctx, easy, code);
            free(x);
        }
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    watch *w = p->data;
    int flags = status < 0 ? CURL_CSELECT_ERR : 0;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    http_curl *c = w->c;
    curl_multi_socket_action(c->multi, w->fd, flags, &running);
    collect(c);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    http_curl *c = userp;
    watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            curl_multi_assign(c->multi, s, NULL);
            unwatch(w);
        }
        return 0;
    }
    if (w == NULL) {
        w = bt_xcalloc(1, sizeof *w);
        w->fd = s;
        w->c = c;
        uv_poll_init_socket(c->loop, &w->poll, s);
        w->poll.data = w;
        w->next = c->watches;
        if (c->watches)
            c->watches->prev = w;
        c->watches = w;
        curl_multi_assign(c->multi, s, w);
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
    http_curl *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect(c);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    http_curl *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

http_curl *http_curl_new(uv_loop_t *loop)
{
    http_curl *c = bt_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->multi = curl_multi_init();
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    return c;
}

void http_curl_add(http_curl *c, CURL *easy, http_curl_done done, void *ctx)
{
    xfer *x = bt_xcalloc(1, sizeof *x);
    x->easy = easy;
    x->done = done;
    x->ctx = ctx;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        done(ctx, easy, CURLE_FAILED_INIT);
        return;
    }
    x->next = c->xfers;
    if (c->xfers)
        c->xfers->prev = x;
    c->xfers = x;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void http_curl_free(http_curl *c)
{
    if (c == NULL)
        return;
    /* Transfers still running are abandoned: their records go with them. */
    while (c->xfers) {
        xfer *x = c->xfers;
        unlink_xfer(c, x);
        curl_multi_remove_handle(c->multi, x->easy);
        free(x);
    }
    curl_multi_cleanup(c->multi);
    while (c->watches)
        unwatch(c->watches);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

void http_curl_remove(http_curl *c, CURL *easy)
{
    for (xfer *x = c->xfers; x; x = x->next)
        if (x->easy == easy) {
            unlink_xfer(c, x);
            curl_multi_remove_handle(c->multi, easy);
            curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
            free(x);
            return;
        }
}
