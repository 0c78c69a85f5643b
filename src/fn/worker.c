/*
 * worker.c — warm workers of the nodejs, python and provided runtimes: one process each,
 * with its own Runtime API listener (rapi.h) named in AWS_LAMBDA_RUNTIME_API, serving one
 * invocation at a time and kept between them until idle_s passes (the reaper) or the
 * function changes (a worker of an older configuration retires once its invocation ends).
 *
 * A worker's state (notes §8: READY → INVOKING → READY), on the Runtime API's calls:
 *
 *   idle ──/next──▶ held ──assign()──▶ INVOKING ──/response, /error──▶ idle
 *   idle ──assign()──▶ assigned ──/next──▶ INVOKING
 *
 * A /next while INVOKING or already held, or a /response or /error outside INVOKING, is
 * answered 403 InvalidStateTransition; one naming another request id 400 InvalidRequestID.
 * /init/error makes its body the function error of the invocation assigned (or the next
 * one) and stops the worker. Past the timeout, above memory_mb (RSS polled every 100 ms
 * while busy) or on exit, the invocation ends with Sandbox.Timedout, Runtime.OutOfMemory or
 * Runtime.ExitError. A worker leads its own process group: killing it kills what it began.
 */
#include "fn/fn_int.h"

#include "base/alloc.h"
#include "fn/rapi.h"
#include "fn/runtime_files.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEM_POLL_MS   100
#define STOP_GRACE_MS 1000

struct fn_worker {
    fn_worker *prev, *next; /* the function's live workers */
    fn_service *fs;
    fn_func *fn;
    uint64_t config;
    uv_process_t proc;
    uv_pipe_t out, err;
    uv_timer_t timer;
    rapi *rapi;
    int open_handles;
    rapi_request *next_req; /* a held /next */
    fn_inv *inv;
    bool is_sent; /* inv's event went out: INVOKING */
    bool is_stopping, has_exited, is_linked;
    int64_t idle_since_ms;
    int64_t max_rss_kb;
    bt_buf out_line, err_line;
};

/* ---- life ---- */

static void worker_unlink(fn_worker *w)
{
    if (!w->is_linked)
        return;
    fn_func *fn = w->fn;
    if (w->prev)
        w->prev->next = w->next;
    else
        fn->workers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    fn->n_workers--;
    w->is_linked = false;
}

static void on_handle_closed(uv_handle_t *h)
{
    fn_worker *w = h->data;
    if (--w->open_handles > 0)
        return;
    bt_buf_fini(&w->out_line);
    bt_buf_fini(&w->err_line);
    fn__func_release(w->fn);
    free(w);
}

static void close_handles(fn_worker *w)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&w->proc, (uv_handle_t *)&w->out, (uv_handle_t *)&w->err,
                         (uv_handle_t *)&w->timer};
    for (size_t i = 0; i < 4; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_handle_closed);
}

/* Reads what the process has already written to its stdout and stderr, so that lines printed
 * before its /response (or its exit) belong to the invocation: the answer can reach the loop
 * before the pipes' readiness does. The pipes are polled, never waited on. */
static void drain(fn_worker *w)
{
    uv_stream_t *ss[] = {(uv_stream_t *)&w->out, (uv_stream_t *)&w->err};
    bt_buf *rests[] = {&w->out_line, &w->err_line};
    static char chunk[65536];
    for (size_t i = 0; i < 2; i++) {
        uv_os_fd_t fd;
        if (uv_is_closing((uv_handle_t *)ss[i]) || !uv_is_readable(ss[i]) ||
            uv_fileno((uv_handle_t *)ss[i], &fd) != 0)
            continue;
        for (int rounds = 0; rounds < 64; rounds++) { /* at most 4 MiB at once */
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
                break;
            ssize_t n = read(fd, chunk, sizeof chunk);
            if (n <= 0)
                break;
            fn__log_feed(w->fn->log, w->inv, rests[i], chunk, (size_t)n);
        }
    }
}

/* Lets go of the invocation (the caller sets its outcome and finishes it). */
static fn_inv *detach(fn_worker *w)
{
    fn_inv *inv = w->inv;
    if (inv == NULL)
        return NULL;
    w->inv = NULL;
    w->is_sent = false;
    inv->worker = NULL;
    if (w->max_rss_kb > inv->max_rss_kb)
        inv->max_rss_kb = w->max_rss_kb;
    w->fs->n_busy_workers--;
    uv_timer_stop(&w->timer);
    return inv;
}

/* Stops the process; the handles close once it has exited. */
static void stop(fn_worker *w, int signum)
{
    if (w->is_stopping)
        return;
    w->is_stopping = true;
    worker_unlink(w);
    if (w->rapi) {
        rapi_close(w->rapi);
        w->rapi = NULL;
    }
    w->next_req = NULL;
    if (w->has_exited) {
        close_handles(w);
    } else {
        kill(-w->proc.pid, signum);
        uv_process_kill(&w->proc, signum);
    }
}

static void on_proc_exit(uv_process_t *p, int64_t status, int term_signal)
{
    fn_worker *w = p->data;
    w->has_exited = true;
    /* What it started dies with it (its process group): Lambda runs nothing of a sandbox
     * whose runtime has gone. The group's id stays taken while a member lives. */
    kill(-w->proc.pid, SIGKILL);
    drain(w);
    fn_inv *inv = detach(w);
    if (inv) {
        fn__exit_error(inv, status, term_signal);
        fn__finish(inv);
    }
    if (w->out_line.len)
        fn__log_line(w->fn->log, NULL, w->out_line.data, w->out_line.len);
    if (w->err_line.len)
        fn__log_line(w->fn->log, NULL, w->err_line.data, w->err_line.len);
    bt_buf_reset(&w->out_line);
    bt_buf_reset(&w->err_line);
    w->is_stopping = false; /* so that stop() closes now */
    stop(w, SIGKILL);
}

static void on_timeout(uv_timer_t *t)
{
    fn_worker *w = t->data;
    fn_inv *inv = detach(w);
    if (inv == NULL)
        return;
    fn__timed_out(inv);
    stop(w, SIGKILL);
    fn__finish(inv);
}

/* ---- the Runtime API ---- */

static void send_event(fn_worker *w)
{
    fn_inv *inv = w->inv;
    rapi_event ev = {0};
    ev.request_id = inv->request_id;
    ev.deadline_ms = inv->deadline_ms;
    ev.invoked_function_arn = inv->invoked_arn ? inv->invoked_arn : w->fn->info.arn;
    ev.client_context = inv->client_context;
    ev.body = inv->payload;
    ev.body_len = inv->payload_len;
    rapi_request *req = w->next_req;
    w->next_req = NULL;
    w->is_sent = true;
    rapi_send_event(req, &ev);
}

static const char state_error[] =
    "{\"errorMessage\":\"State transition is not allowed\",\"errorType\":"
    "\"InvalidStateTransition\"}";
static const char id_error[] =
    "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}";
static const char accepted[] = "{\"status\":\"OK\"}";

/* The invocation ended well or with the function's error: the worker is ready again,
 * unless its configuration is outdated. */
static void invocation_answered(fn_worker *w)
{
    drain(w);
    fn_inv *inv = detach(w);
    w->idle_since_ms = server_tick(w->fs->srv);
    if (w->config != w->fn->config || w->fn->is_deleted)
        stop(w, SIGKILL);
    if (inv)
        fn__finish(inv);
}

static void on_call(void *ud, rapi_request *req, const rapi_call *call)
{
    fn_worker *w = ud;
    fn_inv *inv = w->inv;
    switch (call->kind) {
    case RAPI_NEXT:
        if (w->next_req || (inv && w->is_sent)) {
            rapi_reply(req, 403, state_error);
            return;
        }
        w->next_req = req;
        if (inv)
            send_event(w);
        return;
    case RAPI_RESPONSE:
    case RAPI_ERROR:
        if (inv == NULL || !w->is_sent) {
            rapi_reply(req, 403, state_error);
            return;
        }
        if (strcmp(call->request_id, inv->request_id) != 0) {
            rapi_reply(req, 400, id_error);
            return;
        }
        if (call->kind == RAPI_RESPONSE && call->body_len > FN_RESPONSE_MAX) {
            rapi_reply(req, 413,
                       "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 "
                       "bytes).\",\"errorType\":\"RequestEntityTooLarge\"}");
            fn__set_error(inv, "Function.ResponseSizeTooLarge",
                          "Response payload size exceeded maximum allowed payload size (%d "
                          "bytes).",
                          FN_RESPONSE_MAX);
            invocation_answered(w);
            return;
        }
        fn__set_result(inv, call->body_len ? call->body : "null",
                       call->body_len ? call->body_len : 4);
        if (call->kind == RAPI_ERROR) {
            inv->function_error = true;
            inv->error_type = fn__error_type_of(call->body, call->body_len);
        }
        rapi_reply(req, 202, accepted);
        invocation_answered(w);
        return;
    case RAPI_INIT_ERROR:
        rapi_reply(req, 202, accepted);
        if (inv) {
            fn__set_result(inv, call->body_len ? call->body : "{}",
                           call->body_len ? call->body_len : 2);
            inv->function_error = true;
            inv->error_type = fn__error_type_of(call->body, call->body_len);
            detach(w);
            stop(w, SIGKILL);
            fn__finish(inv);
        } else {
            free(w->fn->init_error);
            w->fn->init_error = bt_xstrndup(call->body, call->body_len);
            stop(w, SIGKILL);
        }
        return;
    }
}

/* The runtime posted more than the Runtime API takes: the invocation ends with Lambda's
 * error for it (rapi has answered 413). */
static void on_too_large(void *ud, rapi_kind kind, const char *request_id)
{
    (void)kind;
    fn_worker *w = ud;
    fn_inv *inv = w->inv;
    if (inv == NULL || !w->is_sent || strcmp(request_id, inv->request_id) != 0)
        return;
    fn__set_error(inv, "Function.ResponseSizeTooLarge",
                  "Response payload size exceeded maximum allowed payload size (%d bytes).",
                  FN_RESPONSE_MAX);
    invocation_answered(w);
}

static void on_abandon(void *ud, rapi_request *req)
{
    fn_worker *w = ud;
    if (w->next_req == req)
        w->next_req = NULL;
}

/* ---- who may speak to the Runtime API ---- */

/* The inode of the TCP socket addr:from_port → (anything):to_port, from /proc/net/tcp
 * (addresses there are the raw network-order word in hex); 0 when there is none. */
static unsigned long socket_inode(uint32_t addr, int from_port, int to_port, bool *no_proc)
{
    FILE *f = fopen("/proc/net/tcp", "re");
    if (f == NULL) {
        *no_proc = true;
        return 0;
    }
    char line[512];
    unsigned long found = 0;
    while (found == 0 && fgets(line, sizeof line, f)) {
        unsigned int la, lp, ra, rp;
        unsigned long inode;
        if (sscanf(line, " %*u: %x:%x %x:%x %*x %*x:%*x %*x:%*x %*x %*u %*d %lu", &la, &lp, &ra,
                   &rp, &inode) == 5 &&
            la == addr && (int)lp == from_port && (int)rp == to_port)
            found = inode;
    }
    fclose(f);
    return found;
}

/* Whether process pid holds the socket of that inode among its open files. */
static bool holds_socket(const char *pid, const char *want)
{
    char dir[300];
    snprintf(dir, sizeof dir, "/proc/%s/fd", pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool held = false;
    struct dirent *de;
    while (!held && (de = readdir(d)) != NULL) {
        char link[600], target[64];
        snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            held = strcmp(target, want) == 0;
        }
    }
    closedir(d);
    return held;
}

/* The session (field 6 of /proc/<pid>/stat) of a process, or -1. */
static long session_of(const char *pid)
{
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold anything */
    long sid;
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %ld", &sid) != 1)
        return -1;
    return sid;
}

/* A connection is served only when its other end is held by the worker or by a process of
 * the worker's session (a worker leads its own: what it starts is in it unless it leaves):
 * another local process must not take the function's events nor answer for it. Where
 * /proc cannot tell, every connection is served. */
static bool on_accept(void *ud, uint32_t peer_addr, int peer_port, int local_port)
{
    fn_worker *w = ud;
    if (w->proc.pid <= 0 || w->has_exited)
        return false;
    bool no_proc = false;
    unsigned long inode = socket_inode(peer_addr, peer_port, local_port, &no_proc);
    if (no_proc)
        return true;
    if (inode == 0)
        return false;
    char want[64], pid[24];
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    snprintf(pid, sizeof pid, "%d", w->proc.pid);
    if (holds_socket(pid, want))
        return true;
    DIR *d = opendir("/proc");
    if (d == NULL)
        return false;
    bool ok = false;
    struct dirent *de;
    while (!ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        if (session_of(de->d_name) == w->proc.pid)
            ok = holds_socket(de->d_name, want);
    }
    closedir(d);
    return ok;
}

/* ---- output ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char chunk[65536];
    buf->base = chunk;
    buf->len = sizeof chunk;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    fn_worker *w = s->data;
    if (n < 0) {
        uv_read_stop(s);
        return;
    }
    bt_buf *rest = s == (uv_stream_t *)&w->out ? &w->out_line : &w->err_line;
    fn__log_feed(w->fn->log, w->inv, rest, buf->base, (size_t)n);
}

/* ---- starting ---- */

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && v[0] ? v : dflt;
}

static fn_worker *spawn(fn_service *fs, fn_func *fn, int *err)
{
    uv_loop_t *loop = server_loop(fs->srv);
    fn_worker *w = bt_xcalloc(1, sizeof *w);
    w->fs = fs;
    w->fn = fn;
    w->config = fn->config;
    bt_buf_init(&w->out_line);
    bt_buf_init(&w->err_line);
    rapi_handlers h = {w, on_call, on_abandon, on_accept, on_too_large};
    int port = 0;
    int rc = rapi_listen(loop, &h, &w->rapi, &port);
    if (rc < 0) {
        *err = rc;
        bt_buf_fini(&w->out_line);
        bt_buf_fini(&w->err_line);
        free(w);
        return NULL;
    }
    fn->refs++;
    uv_pipe_init(loop, &w->out, 0);
    uv_pipe_init(loop, &w->err, 0);
    uv_timer_init(loop, &w->timer);
    w->out.data = w->err.data = w->timer.data = w->proc.data = w;
    w->open_handles = 4;

    const fn_config *c = &fn->info.cfg;
    char *script = NULL, *file = NULL;
    char *argv[3] = {NULL, NULL, NULL};
    if (c->runtime == FN_RT_NODEJS) {
        file = bt_xstrdup(env_or("BATON_NODE", "node"));
        script = bt_xasprintf("%s/nodejs/baton-runtime.mjs", fs->runtime_dir);
    } else if (c->runtime == FN_RT_PYTHON) {
        file = bt_xstrdup(env_or("BATON_PYTHON", "python3"));
        script = bt_xasprintf("%s/python/baton_runtime.py", fs->runtime_dir);
    } else {
        file = bt_xasprintf("%s/bootstrap", c->code_dir);
    }
    argv[0] = file;
    argv[1] = script;
    char **env = fn__env(fs, fn, port);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&w->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&w->err;
    uv_process_options_t o = {0};
    o.exit_cb = on_proc_exit;
    o.file = file;
    o.args = argv;
    o.env = env;
    o.cwd = c->code_dir;
    o.flags = UV_PROCESS_DETACHED;
    o.stdio_count = 3;
    o.stdio = stdio;
    rc = fn__spawn(fs, loop, &w->proc, &o);
    free(file);
    free(script);
    fn__env_free(env);
    if (rc < 0) {
        *err = rc;
        rapi_close(w->rapi);
        w->rapi = NULL;
        w->is_stopping = true;
        close_handles(w);
        return NULL;
    }
    uv_read_start((uv_stream_t *)&w->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&w->err, on_alloc, on_read);
    w->next = fn->workers;
    if (fn->workers)
        fn->workers->prev = w;
    fn->workers = w;
    fn->n_workers++;
    w->is_linked = true;
    return w;
}

static void on_mem(uv_timer_t *t)
{
    fn__workers_poll_memory(t->data);
}

static void assign(fn_worker *w, fn_inv *inv)
{
    fn_service *fs = w->fs;
    w->inv = inv;
    w->is_sent = false;
    inv->worker = w;
    fs->n_busy_workers++;
    uv_timer_start(&w->timer, on_timeout, (uint64_t)w->fn->info.cfg.timeout_s * 1000, 0);
    if (!uv_is_active((uv_handle_t *)&fs->mem_timer))
        uv_timer_start(&fs->mem_timer, on_mem, MEM_POLL_MS, MEM_POLL_MS);
    if (w->next_req)
        send_event(w);
}

int fn__worker_run(fn_inv *inv)
{
    fn_func *fn = inv->fn;
    if (fn->init_error) {
        char *body = fn->init_error;
        fn->init_error = NULL;
        fn__set_result(inv, body, strlen(body));
        inv->function_error = true;
        inv->error_type = fn__error_type_of(body, strlen(body));
        free(body);
        fn__finish(inv);
        return 0;
    }
    fn_worker *pick = NULL;
    for (fn_worker *w = fn->workers; w; w = w->next) {
        if (w->inv || w->is_stopping || w->config != fn->config)
            continue;
        if (pick == NULL || (w->next_req && !pick->next_req))
            pick = w;
    }
    if (pick == NULL) {
        int err = 0;
        pick = spawn(inv->fs, fn, &err);
        if (pick == NULL) {
            fn__set_error(inv, "Runtime.InvalidEntrypoint",
                          "RequestId: %s Error: cannot start the runtime: %s", inv->request_id,
                          uv_strerror(err));
            fn__finish(inv);
            return 0;
        }
    }
    assign(pick, inv);
    return 0;
}

/* ---- the service's sweeps ---- */

void fn__workers_poll_memory(fn_service *fs)
{
    bool busy = false;
    for (size_t i = 0; i < fs->n_list; i++) {
        fn_func *fn = fs->list[i];
        for (fn_worker *w = fn->workers, *next; w; w = next) {
            next = w->next;
            if (w->inv == NULL || w->has_exited)
                continue;
            busy = true;
            int64_t kb = fn__rss_kb(w->proc.pid);
            if (kb > w->max_rss_kb)
                w->max_rss_kb = kb;
            if (kb > (int64_t)fn->info.cfg.memory_mb * 1024) {
                fn_inv *inv = detach(w);
                fn__out_of_memory(inv);
                stop(w, SIGKILL);
                fn__finish(inv);
            }
        }
    }
    if (!busy)
        uv_timer_stop(&fs->mem_timer);
}

void fn__workers_reap(fn_service *fs, int64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < fs->n_gone; i++) {
        if (fs->gone[i]->workers)
            fs->gone[kept++] = fs->gone[i];
        else
            fn__func_release(fs->gone[i]);
    }
    fs->n_gone = kept;
    for (size_t i = 0; i < fs->n_list; i++) {
        fn_func *fn = fs->list[i];
        for (fn_worker *w = fn->workers, *next; w; w = next) {
            next = w->next;
            if (w->inv == NULL && !w->is_stopping &&
                w->idle_since_ms + (int64_t)fn->info.cfg.idle_s * 1000 <= now_ms)
                stop(w, SIGKILL);
        }
    }
}

void fn__workers_retire(fn_func *fn)
{
    for (fn_worker *w = fn->workers, *next; w; w = next) {
        next = w->next;
        if (w->inv == NULL)
            stop(w, SIGKILL);
    }
}

size_t fn__workers_count(fn_service *fs, size_t *idle)
{
    size_t n = 0;
    *idle = 0;
    for (size_t i = 0; i < fs->n_list; i++)
        for (fn_worker *w = fs->list[i]->workers; w; w = w->next) {
            n++;
            if (w->inv == NULL)
                (*idle)++;
        }
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* SIGTERM to every worker (a deleted function's busy ones too), SIGKILL to those still there
 * after STOP_GRACE_MS. The process handles are closed first, so that libuv leaves the
 * reaping to this function. */
void fn__workers_stop_all(fn_service *fs)
{
    int *pids = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < fs->n_list + fs->n_gone; i++) {
        fn_func *fn = i < fs->n_list ? fs->list[i] : fs->gone[i - fs->n_list];
        while (fn->workers) {
            fn_worker *w = fn->workers;
            detach(w); /* stays RUNNING: fn__invoke_fini ends it */
            if (!w->has_exited) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 16;
                    pids = bt_xrealloc(pids, cap * sizeof *pids);
                }
                pids[n++] = w->proc.pid;
                kill(-w->proc.pid, SIGTERM);
            }
            w->is_stopping = true;
            worker_unlink(w);
            if (w->rapi)
                rapi_close(w->rapi);
            w->rapi = NULL;
            close_handles(w);
        }
    }
    /* pids[0, left) are still to be reaped; every group is killed at the end, for what a
     * worker started may ignore SIGTERM and outlive it. */
    size_t left = n;
    for (long waited = 0; left > 0 && waited < STOP_GRACE_MS; waited += 10) {
        for (size_t i = 0; i < left;) {
            if (waitpid(pids[i], NULL, WNOHANG) == 0) {
                i++;
                continue;
            }
            int done = pids[i];
            pids[i] = pids[--left];
            pids[left] = done;
        }
        if (left > 0)
            sleep_ms(10);
    }
    for (size_t i = 0; i < n; i++)
        kill(-pids[i], SIGKILL);
    for (size_t i = 0; i < left; i++)
        waitpid(pids[i], NULL, 0);
    free(pids);
}

/* ---- the runtime clients ---- */

static int make_parents(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static bool same_content(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    unsigned char buf[8192];
    size_t off = 0, n;
    bool same = true;
    while (same && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (off + n > len || memcmp(buf, data + off, n) != 0)
            same = false;
        off += n;
    }
    fclose(f);
    return same && off == len;
}

int fn__write_runtime_files(fn_service *fs, bt_err *err)
{
    for (size_t i = 0; i < fn_n_runtime_files; i++) {
        const fn_runtime_file *rf = &fn_runtime_files[i];
        char *path = bt_xasprintf("%s/%s", fs->runtime_dir, rf->path);
        if (same_content(path, rf->data, rf->len)) {
            free(path);
            continue;
        }
        char *tmp = bt_xasprintf("%s.tmp", path);
        int rc = make_parents(path);
        FILE *f = rc == 0 ? fopen(tmp, "wb") : NULL;
        bool ok = f && fwrite(rf->data, 1, rf->len, f) == rf->len;
        if (f && fclose(f) != 0)
            ok = false;
        if (ok)
            chmod(tmp, 0755);
        if (!ok || rename(tmp, path) != 0) {
            bt_err_set(err, BT_EIO, "cannot write %s: %s", path, strerror(errno));
            remove(tmp);
            free(tmp);
            free(path);
            return BT_EIO;
        }
        free(tmp);
        free(path);
    }
    return 0;
}
