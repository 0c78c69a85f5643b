/*
 * exec_rt.c — the exec runtime: one process per invocation (argv from the function's
 * command, cwd its code folder, Lambda's environment), the event on its stdin, its stdout
 * the result, its stderr the log. The process leads its own process group, so a timeout
 * kills whatever it started too.
 *
 * Outcomes (chosen to read like Lambda's platform errors):
 *   exit 0, stdout JSON text (or empty: null)   the result
 *   exit 0, stdout not JSON                     Runtime.InvalidResponse
 *   exit ≠ 0 or a signal                        stdout when it is a JSON object with
 *                                               errorType, else Runtime.ExitError
 *   stdout above FN_RESPONSE_MAX                Function.ResponseSizeTooLarge (killed)
 *   past the timeout                            Sandbox.Timedout (killed)
 */
#include "fn/fn_int.h"

#include "base/alloc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_GRACE_MS 200 /* after the exit, how long to wait for stdout's end */

typedef struct xproc {
    fn_inv *inv; /* NULL once let go */
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_timer_t timer;
    uv_write_t write;
    uv_shutdown_t shutdown;
    uv_buf_t in_buf;
    int open_handles;
    bt_buf out_buf, err_line;
    bool has_exited, out_done, err_done, is_timed_out, is_too_large;
    int64_t exit_status;
    int term_signal;
} xproc;

static void on_close(uv_handle_t *h)
{
    xproc *x = h->data;
    if (--x->open_handles == 0) {
        bt_buf_fini(&x->out_buf);
        bt_buf_fini(&x->err_line);
        free(x);
    }
}

static void close_one(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_close);
}

static void close_all(xproc *x)
{
    close_one((uv_handle_t *)&x->proc);
    close_one((uv_handle_t *)&x->in);
    close_one((uv_handle_t *)&x->out);
    close_one((uv_handle_t *)&x->err);
    close_one((uv_handle_t *)&x->timer);
}

/* The process and its group: what it started may outlive it (the group's id stays taken
 * while a member lives). */
static void kill_group(xproc *x)
{
    if (x->proc.pid > 0)
        kill(-x->proc.pid, SIGKILL);
    if (!x->has_exited && x->proc.pid > 0)
        uv_process_kill(&x->proc, SIGKILL);
}

static bool is_json(const char *s, size_t len)
{
    json_t *v = json_loadb(s, len, JSON_DECODE_ANY, NULL);
    json_decref(v);
    return v != NULL;
}

static void finish(xproc *x)
{
    fn_inv *inv = x->inv;
    if (inv == NULL)
        return;
    x->inv = NULL;
    if (x->err_line.len)
        fn__log_line(inv->fn->log, inv, x->err_line.data, x->err_line.len);
    const char *out = x->out_buf.data ? x->out_buf.data : "";
    size_t len = x->out_buf.len;
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' '))
        len--;
    if (x->is_timed_out) {
        fn__timed_out(inv);
    } else if (x->is_too_large) {
        fn__set_error(inv, "Function.ResponseSizeTooLarge",
                      "Response payload size exceeded maximum allowed payload size (%d bytes).",
                      FN_RESPONSE_MAX);
    } else if (x->exit_status == 0 && x->term_signal == 0) {
        if (len == 0)
            fn__set_result(inv, "null", 4);
        else if (is_json(out, len))
            fn__set_result(inv, out, len);
        else
            fn__set_error(inv, "Runtime.InvalidResponse",
                          "RequestId: %s Error: the function's output is not JSON text",
                          inv->request_id);
    } else {
        char *type = len ? fn__error_type_of(out, len) : NULL;
        if (type) {
            fn__set_result(inv, out, len);
            inv->function_error = true;
            inv->error_type = type;
        } else {
            fn__exit_error(inv, x->exit_status, x->term_signal);
        }
    }
    fn__finish(inv);
    kill_group(x); /* whatever the process left running goes with it */
    close_all(x);
}

static void maybe_finish(xproc *x)
{
    if (x->has_exited && x->out_done && x->err_done)
        finish(x);
}

static void on_timer(uv_timer_t *t)
{
    xproc *x = t->data;
    if (x->has_exited) {
        finish(x); /* something the process started still holds its stdout */
        return;
    }
    x->is_timed_out = true;
    kill_group(x);
}

static void on_proc_exit(uv_process_t *p, int64_t status, int term_signal)
{
    xproc *x = p->data;
    x->has_exited = true;
    x->exit_status = status;
    x->term_signal = term_signal;
    if (x->out_done && x->err_done) {
        finish(x);
        return;
    }
    uv_timer_start(&x->timer, on_timer, PIPE_GRACE_MS, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char chunk[65536];
    buf->base = chunk;
    buf->len = sizeof chunk;
}

static void on_out(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    xproc *x = s->data;
    if (n < 0) {
        uv_read_stop(s);
        x->out_done = true;
        maybe_finish(x);
        return;
    }
    if (x->is_too_large)
        return;
    if (x->out_buf.len + (size_t)n > FN_RESPONSE_MAX) {
        x->is_too_large = true;
        bt_buf_reset(&x->out_buf);
        kill_group(x);
        return;
    }
    bt_buf_append(&x->out_buf, buf->base, (size_t)n);
}

static void on_err(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    xproc *x = s->data;
    if (n < 0) {
        uv_read_stop(s);
        x->err_done = true;
        maybe_finish(x);
        return;
    }
    if (x->inv)
        fn__log_feed(x->inv->fn->log, x->inv, &x->err_line, buf->base, (size_t)n);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    xproc *x = req->data;
    close_one((uv_handle_t *)&x->in);
}

static void on_written(uv_write_t *req, int status)
{
    xproc *x = req->data;
    if (status < 0) {
        close_one((uv_handle_t *)&x->in);
        return;
    }
    x->shutdown.data = x;
    if (uv_shutdown(&x->shutdown, (uv_stream_t *)&x->in, on_shutdown) < 0)
        close_one((uv_handle_t *)&x->in);
}

int fn__exec_run(fn_inv *inv)
{
    fn_service *fs = inv->fs;
    fn_func *fn = inv->fn;
    const fn_config *c = &fn->info.cfg;
    uv_loop_t *loop = server_loop(fs->srv);
    xproc *x = bt_xcalloc(1, sizeof *x);
    bt_buf_init(&x->out_buf);
    bt_buf_init(&x->err_line);
    uv_pipe_init(loop, &x->in, 0);
    uv_pipe_init(loop, &x->out, 0);
    uv_pipe_init(loop, &x->err, 0);
    uv_timer_init(loop, &x->timer);
    x->in.data = x->out.data = x->err.data = x->timer.data = x->proc.data = x;
    x->open_handles = 4;

    size_t argc = 0;
    while (fn->argv[argc])
        argc++;
    char **argv = bt_xcalloc(argc + 1, sizeof *argv);
    for (size_t i = 0; i < argc; i++)
        argv[i] = fn->argv[i];
    char *file =
        strchr(argv[0], '/') ? bt_xstrdup(argv[0]) : bt_xasprintf("%s/%s", c->code_dir, argv[0]);
    char **env = fn__env(fs, fn, 0);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&x->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&x->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&x->err;
    uv_process_options_t o = {0};
    o.exit_cb = on_proc_exit;
    o.file = file;
    o.args = argv;
    o.env = env;
    o.cwd = c->code_dir;
    o.flags = UV_PROCESS_DETACHED;
    o.stdio_count = 3;
    o.stdio = stdio;
    int rc = fn__spawn(fs, loop, &x->proc, &o);
    free(file);
    free(argv);
    fn__env_free(env);
    if (rc < 0) {
        /* The handle was initialised by uv_spawn: close it with the others. */
        x->open_handles++;
        close_all(x);
        x->inv = NULL;
        /* A missing or non-executable command is the function's failure, as Lambda reports
         * a bootstrap it cannot start. */
        fn__set_error(inv, "Runtime.InvalidEntrypoint", "RequestId: %s Error: cannot start %s: %s",
                      inv->request_id, fn->argv[0], uv_strerror(rc));
        fn__finish(inv);
        return 0;
    }
    x->open_handles++;
    x->inv = inv;
    inv->proc = x;
    uv_read_start((uv_stream_t *)&x->out, on_alloc, on_out);
    uv_read_start((uv_stream_t *)&x->err, on_alloc, on_err);
    x->in_buf = uv_buf_init(inv->payload, (unsigned)inv->payload_len);
    x->write.data = x;
    if (uv_write(&x->write, (uv_stream_t *)&x->in, &x->in_buf, 1, on_written) < 0)
        close_one((uv_handle_t *)&x->in);
    uv_timer_start(&x->timer, on_timer, (uint64_t)c->timeout_s * 1000, 0);
    return 0;
}

void fn__exec_abandon(fn_inv *inv)
{
    xproc *x = inv->proc;
    if (x == NULL || x->inv != inv)
        return;
    x->inv = NULL;
    inv->proc = NULL;
    kill_group(x);
    close_all(x);
}
