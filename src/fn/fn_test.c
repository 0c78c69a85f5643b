/*
 * fn_test.c — the function service on a real server in a temporary folder, with real
 * processes: exec functions (/bin/sh scripts), url functions (an HTTP responder on the
 * test's loop), provided functions (a python3 bootstrap speaking the Runtime API), the
 * waiting line and throttling, the idle reaper, logs, and Event invocations across a reopen.
 */
#include "fn/fn_int.h"

#include "base/alloc.h"
#include "base/file.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct env {
    char dir[64];
    server *srv;
    fn_service *fs;
} env;

static void open_env(env *e)
{
    server_config cfg = {.data_dir = e->dir, .region = "us-east-1", .account = "123456789012"};
    store_migration extra[] = {{FN_SCHEMA_VERSION, fn_schema_v1}};
    bt_err err = {0};
    e->srv = server_new(&cfg, extra, 1, &err);
    assert_non_null(e->srv);
    server_set_endpoint(e->srv, "http://127.0.0.1:9");
    e->fs = fn_service_new(e->srv, &err);
    assert_non_null(e->fs);
}

static void close_env(env *e)
{
    fn_service_free(e->fs);
    server_free(e->srv);
}

static int setup(void **state)
{
    env *e = bt_xcalloc(1, sizeof *e);
    strcpy(e->dir, "/tmp/fn_test_XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    open_env(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    close_env(e);
    char *cmd = bt_xasprintf("rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(e);
    return 0;
}

static void guard_cb(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until *flag or the bound passes. */
static void run_until(env *e, const int *flag, int want, int ms)
{
    uv_loop_t *loop = server_loop(e->srv);
    uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    while (*flag < want && uv_hrtime() < end) {
        uv_timer_start(&guard, guard_cb, 10, 0);
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void spin(env *e, int ms)
{
    int never = 0;
    run_until(e, &never, 1, ms);
}

typedef struct outcome {
    int n;
    int api_status;
    char api_error[64], api_message[512], throttle[80];
    char *payload;
    bool function_error;
    char error_type[64];
    char request_id[40];
    char *log_tail;
    int *counter;
} outcome;

static void on_done(void *ctx, const fn_result *r)
{
    outcome *o = ctx;
    o->n++;
    if (o->counter)
        (*o->counter)++;
    o->api_status = r->api_status;
    snprintf(o->api_error, sizeof o->api_error, "%s", r->api_error ? r->api_error : "");
    snprintf(o->api_message, sizeof o->api_message, "%s", r->api_message ? r->api_message : "");
    snprintf(o->throttle, sizeof o->throttle, "%s", r->throttle_reason ? r->throttle_reason : "");
    free(o->payload);
    o->payload = r->api_status ? NULL : bt_xstrndup(r->payload, r->payload_len);
    o->function_error = r->function_error;
    snprintf(o->error_type, sizeof o->error_type, "%s", r->error_type ? r->error_type : "");
    snprintf(o->request_id, sizeof o->request_id, "%s", r->request_id ? r->request_id : "");
    free(o->log_tail);
    o->log_tail = r->log_tail ? bt_xstrdup(r->log_tail) : NULL;
}

static void outcome_fini(outcome *o)
{
    free(o->payload);
    free(o->log_tail);
}

static char *write_script(env *e, const char *sub, const char *name, const char *text)
{
    char *dir = bt_xasprintf("%s/%s", e->dir, sub);
    mkdir(dir, 0700);
    char *path = bt_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, 0755);
    free(path);
    return dir;
}

static void put_exec(env *e, const char *name, const char *script, int timeout)
{
    char *dir = write_script(e, name, "run.sh", script);
    const char *cmd[] = {"run.sh", NULL};
    fn_config c = {
        .name = name, .runtime = FN_RT_EXEC, .code_dir = dir, .command = cmd, .timeout_s = timeout};
    bt_err err = {0};
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, false, &err), 0);
    free(dir);
}

static void invoke(env *e, const char *name, const char *payload, outcome *o)
{
    fn_invoke_req req = {.name = name, .payload = payload, .payload_len = strlen(payload)};
    fn_invoke(e->fs, &req, on_done, o);
    assert_int_equal(o->n, 0); /* never inside fn_invoke */
}

/* ---- registry ---- */

static void test_registry(void **state)
{
    env *e = *state;
    bt_err err = {0};
    const char *cmd[] = {"/bin/cat", NULL};
    fn_config c = {.name = "f1", .runtime = FN_RT_EXEC, .code_dir = "/tmp", .command = cmd};
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, true, &err), 0);
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, true, &err), BT_EEXIST);
    const fn_info *i = fn_get(e->fs, "f1");
    assert_non_null(i);
    assert_string_equal(i->arn, "arn:aws:lambda:us-east-1:123456789012:function:f1");
    assert_int_equal(i->cfg.timeout_s, 3);
    assert_int_equal(i->cfg.memory_mb, 128);
    assert_string_equal(i->cfg.command[0], "/bin/cat");

    c.timeout_s = 901;
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, false, &err), BT_EINVAL);
    assert_string_equal(err.msg, "1 validation error detected: Value '901' at 'timeout' failed "
                                 "to satisfy constraint: Member must have value less than or "
                                 "equal to 900");
    c.timeout_s = 0;
    c.memory_mb = 64;
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, false, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "at 'memorySize'"));
    c.memory_mb = 0;
    json_t *envs = json_pack("{s:s,s:s}", "A", "1", "AWS_REGION", "x");
    c.environment = envs;
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, false, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "Reserved keys used in this request: AWS_REGION"));
    json_decref(envs);
    c.environment = NULL;

    c.name = "a0";
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_PROJECT, false, &err), 0);
    size_t n;
    const fn_info *const *all = fn_list(e->fs, &n);
    assert_int_equal(n, 2);
    assert_string_equal(all[0]->cfg.name, "a0");
    assert_string_equal(all[1]->cfg.name, "f1");
    const char **names = fn_names_of(e->fs, FN_ORIGIN_PROJECT, &n);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "a0");
    free(names);

    char name[FN_NAME_MAX + 1], q[130];
    assert_int_equal(fn_parse_name(e->fs, "f1", name, q), 0);
    assert_string_equal(name, "f1");
    assert_string_equal(q, "");
    assert_int_equal(fn_parse_name(e->fs, "f1:$LATEST", name, q), 0);
    assert_string_equal(q, "$LATEST");
    assert_int_equal(fn_parse_name(e->fs, "123456789012:function:f1:7", name, q), 0);
    assert_string_equal(q, "7");
    assert_int_equal(
        fn_parse_name(e->fs, "arn:aws:lambda:us-east-1:123456789012:function:f1", name, q), 0);
    assert_string_equal(name, "f1");
    assert_int_equal(
        fn_parse_name(e->fs, "arn:aws:lambda:eu-west-1:123456789012:function:f1", name, q),
        BT_EINVAL);
    assert_int_equal(fn_parse_name(e->fs, "bad name", name, q), BT_EINVAL);
    assert_int_equal(fn_parse_name(e->fs, "999999999999:function:f1", name, q), BT_EINVAL);

    assert_int_equal(fn_delete(e->fs, "a0"), 0);
    assert_int_equal(fn_delete(e->fs, "a0"), BT_ENOTFOUND);
    assert_null(fn_get(e->fs, "a0"));

    /* The row is durable: a reopened server has f1 (and not a0). */
    spin(e, 50);
    close_env(e);
    open_env(e);
    assert_non_null(fn_get(e->fs, "f1"));
    assert_null(fn_get(e->fs, "a0"));
    assert_string_equal(fn_get(e->fs, "f1")->cfg.command[0], "/bin/cat");

    outcome o = {0};
    invoke(e, "nope", "{}", &o);
    run_until(e, &o.n, 1, 1000);
    assert_int_equal(o.api_status, 404);
    assert_string_equal(o.api_error, "ResourceNotFoundException");
    assert_string_equal(o.api_message,
                        "Function not found: "
                        "arn:aws:lambda:us-east-1:123456789012:function:nope:$LATEST");
    outcome_fini(&o);
}

/* An update built from the function's own info (what UpdateFunctionConfiguration does): the
 * strings it borrows survive, and the function stays findable under its name. */
static void test_update_from_own_info(void **state)
{
    env *e = *state;
    bt_err err = {0};
    const char *cmd[] = {"/bin/cat", NULL};
    json_t *vars = json_pack("{s:s}", "A", "1");
    fn_config c = {.name = "u1",
                   .runtime = FN_RT_EXEC,
                   .code_dir = "/tmp",
                   .command = cmd,
                   .description = "first",
                   .handler = "index.handler",
                   .environment = vars};
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, true, &err), 0);
    json_decref(vars);
    for (int round = 0; round < 3; round++) {
        const fn_info *fi = fn_get(e->fs, "u1");
        assert_non_null(fi);
        fn_config u = fi->cfg;
        u.timeout_s = 20 + round;
        assert_int_equal(fn_put(e->fs, &u, FN_ORIGIN_API, false, &err), 0);
    }
    const fn_info *fi = fn_get(e->fs, "u1");
    assert_non_null(fi);
    assert_string_equal(fi->cfg.name, "u1");
    assert_int_equal(fi->cfg.timeout_s, 22);
    assert_string_equal(fi->cfg.description, "first");
    assert_string_equal(fi->cfg.handler, "index.handler");
    assert_string_equal(fi->cfg.code_dir, "/tmp");
    assert_string_equal(fi->cfg.command[0], "/bin/cat");
    assert_string_equal(json_string_value(json_object_get(fi->cfg.environment, "A")), "1");
    size_t n;
    const fn_info *const *all = fn_list(e->fs, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(all[0], fi);
}

/* ---- exec ---- */

static void test_exec(void **state)
{
    env *e = *state;
    put_exec(e, "echo",
             "#!/bin/sh\nread x\necho \"log line\" >&2\n"
             "echo \"{\\\"got\\\":$x,\\\"name\\\":\\\"$AWS_LAMBDA_FUNCTION_NAME\\\","
             "\\\"root\\\":\\\"$LAMBDA_TASK_ROOT\\\",\\\"ep\\\":\\\"$AWS_ENDPOINT_URL\\\"}\"\n",
             0);
    put_exec(e, "exit3", "#!/bin/sh\necho oops >&2\nexit 3\n", 0);
    put_exec(e, "slow", "#!/bin/sh\nsleep 5\necho 1\n", 1);
    put_exec(e, "typed",
             "#!/bin/sh\necho '{\"errorType\":\"MyError\",\"errorMessage\":\"no\"}'\n"
             "exit 1\n",
             0);
    put_exec(e, "text", "#!/bin/sh\necho not json\n", 0);

    outcome ok = {0}, ex = {0}, slow = {0}, typed = {0}, text = {0};
    invoke(e, "echo", "{\"a\":1}", &ok);
    invoke(e, "exit3", "{}", &ex);
    invoke(e, "slow", "{}", &slow);
    invoke(e, "typed", "{}", &typed);
    invoke(e, "text", "{}", &text);
    run_until(e, &ok.n, 1, 3000);
    run_until(e, &ex.n, 1, 3000);
    run_until(e, &typed.n, 1, 3000);
    run_until(e, &text.n, 1, 3000);
    run_until(e, &slow.n, 1, 3000);

    char *want = bt_xasprintf("{\"got\":{\"a\":1},\"name\":\"echo\",\"root\":\"%s/echo\","
                              "\"ep\":\"http://127.0.0.1:9\"}",
                              e->dir);
    assert_false(ok.function_error);
    assert_string_equal(ok.payload, want);
    free(want);

    assert_true(ex.function_error);
    assert_string_equal(ex.error_type, "Runtime.ExitError");
    char *msg = bt_xasprintf("{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"RequestId: "
                             "%s Error: Runtime exited with error: exit status 3\"}",
                             ex.request_id);
    assert_string_equal(ex.payload, msg);
    free(msg);

    assert_true(slow.function_error);
    assert_string_equal(slow.error_type, "Sandbox.Timedout");
    msg = bt_xasprintf("{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: %s "
                       "Error: Task timed out after 1.00 seconds\"}",
                       slow.request_id);
    assert_string_equal(slow.payload, msg);
    free(msg);

    assert_true(typed.function_error);
    assert_string_equal(typed.error_type, "MyError");
    assert_string_equal(typed.payload, "{\"errorType\":\"MyError\",\"errorMessage\":\"no\"}");

    assert_true(text.function_error);
    assert_string_equal(text.error_type, "Runtime.InvalidResponse");

    /* The logs: stderr between START and END, then REPORT. */
    char *logs = fn_logs(e->fs, "echo", 0, 0);
    assert_non_null(logs);
    char *start = bt_xasprintf("START RequestId: %s Version: $LATEST\n", ok.request_id);
    char *end = bt_xasprintf("END RequestId: %s\n", ok.request_id);
    char *report = bt_xasprintf("REPORT RequestId: %s\tDuration: ", ok.request_id);
    const char *s = strstr(logs, start), *l = strstr(logs, " log line\n"), *en = strstr(logs, end);
    const char *r = strstr(logs, report);
    assert_non_null(s);
    assert_non_null(l);
    assert_non_null(en);
    assert_non_null(r);
    assert_true(s < l && l < en && en < r);
    assert_non_null(strstr(r, "\tMemory Size: 128 MB\tMax Memory Used: "));
    assert_int_equal(logs[4], '-'); /* "2026-…" */
    free(start);
    free(end);
    free(report);
    free(logs);
    logs = fn_logs(e->fs, "echo", 2, 0);
    assert_non_null(strstr(logs, "END RequestId"));
    assert_null(strstr(logs, "START RequestId"));
    free(logs);
    assert_null(fn_logs(e->fs, "missing", 0, 0));

    outcome_fini(&ok);
    outcome_fini(&ex);
    outcome_fini(&slow);
    outcome_fini(&typed);
    outcome_fini(&text);
}

static void test_tail_and_cancel(void **state)
{
    env *e = *state;
    put_exec(e, "t", "#!/bin/sh\necho hello-tail >&2\necho 1\n", 0);
    outcome o = {0}, dropped = {0};
    fn_invoke_req req = {.name = "t", .payload = "{}", .payload_len = 2, .tail_log = true};
    fn_invoke(e->fs, &req, on_done, &o);
    uint64_t h = fn_invoke(e->fs, &req, on_done, &dropped);
    assert_true(h != 0);
    fn_cancel(e->fs, h);
    run_until(e, &o.n, 1, 3000);
    spin(e, 200);
    assert_int_equal(dropped.n, 0);
    assert_string_equal(o.payload, "1");
    assert_non_null(o.log_tail);
    /* As printed, without the log file's time stamps */
    assert_memory_equal(o.log_tail, "START RequestId: ", 17);
    assert_non_null(strstr(o.log_tail, "\nhello-tail\n"));
    assert_non_null(strstr(o.log_tail, "REPORT RequestId: "));
    outcome_fini(&o);
    outcome_fini(&dropped);
}

/* ---- url ---- */

typedef struct http_conn {
    uv_tcp_t tcp;
    bt_buf in;
    uv_write_t w;
    char *out;
} http_conn;

static void conn_closed(uv_handle_t *h)
{
    http_conn *c = h->data;
    bt_buf_fini(&c->in);
    free(c->out);
    free(c);
}

static void written(uv_write_t *w, int status)
{
    (void)status;
    http_conn *c = w->data;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void alloc_cb(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(s);
    b->len = s;
}

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* Answers once headers and Content-Length bytes are in: /ok echoes, /fail is a 500, /typed
 * a function error by header. */
static void http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    http_conn *c = s->data;
    if (n < 0) {
        free(b->base);
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    bt_buf_append(&c->in, b->base, (size_t)n);
    free(b->base);
    char *hdr_end = c->in.data ? strstr(c->in.data, "\r\n\r\n") : NULL;
    if (hdr_end == NULL)
        return;
    const char *cl = find_ci(c->in.data, "Content-Length:");
    size_t len = cl ? (size_t)atol(cl + 15) : 0;
    size_t have = c->in.len - (size_t)(hdr_end + 4 - c->in.data);
    if (have < len)
        return;
    uv_read_stop(s);
    const char *rid = find_ci(c->in.data, "Lambda-Runtime-Aws-Request-Id: ");
    char id[37] = "";
    if (rid)
        memcpy(id, rid + 31, 36);
    char *body;
    const char *status = "200 OK", *extra = "";
    if (strncmp(c->in.data, "POST /ok ", 9) == 0) {
        body = bt_xasprintf("{\"rid\":\"%s\",\"event\":%.*s}", id, (int)len, hdr_end + 4);
    } else if (strncmp(c->in.data, "POST /typed ", 12) == 0) {
        body = bt_xstrdup("{\"errorType\":\"Boom\",\"errorMessage\":\"typed\"}");
        extra = "X-Amz-Function-Error: Unhandled\r\n";
    } else {
        body = bt_xstrdup("broken");
        status = "500 Internal Server Error";
    }
    c->out = bt_xasprintf("HTTP/1.1 %s\r\n%sContent-Type: application/json\r\nContent-Length: "
                          "%zu\r\nConnection: close\r\n\r\n%s",
                          status, extra, strlen(body), body);
    free(body);
    uv_buf_t buf = uv_buf_init(c->out, (unsigned)strlen(c->out));
    c->w.data = c;
    uv_write(&c->w, s, &buf, 1, written);
}

static void on_conn(uv_stream_t *listener, int status)
{
    assert_int_equal(status, 0);
    http_conn *c = bt_xcalloc(1, sizeof *c);
    bt_buf_init(&c->in);
    uv_tcp_init(listener->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(listener, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, http_read);
}

static void put_url(env *e, const char *name, const char *url)
{
    fn_config c = {.name = name, .runtime = FN_RT_URL, .url = url};
    bt_err err = {0};
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, false, &err), 0);
}

static void test_url(void **state)
{
    env *e = *state;
    uv_tcp_t srv;
    uv_tcp_init(server_loop(e->srv), &srv);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&srv, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&srv, 16, on_conn), 0);
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&srv, (struct sockaddr *)&bound, &blen);
    int port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);
    put_url(e, "u-ok", url);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fail", port);
    put_url(e, "u-fail", url);
    char fail_url[128];
    snprintf(fail_url, sizeof fail_url, "%s", url);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/typed", port);
    put_url(e, "u-typed", url);
    put_url(e, "u-down", "http://127.0.0.1:1/");

    outcome ok = {0}, fail = {0}, typed = {0}, down = {0};
    invoke(e, "u-ok", "{\"k\":[1,2]}", &ok);
    invoke(e, "u-fail", "{}", &fail);
    invoke(e, "u-typed", "{}", &typed);
    invoke(e, "u-down", "{}", &down);
    run_until(e, &ok.n, 1, 3000);
    run_until(e, &fail.n, 1, 3000);
    run_until(e, &typed.n, 1, 3000);
    run_until(e, &down.n, 1, 3000);

    char *want = bt_xasprintf("{\"rid\":\"%s\",\"event\":{\"k\":[1,2]}}", ok.request_id);
    assert_false(ok.function_error);
    assert_string_equal(ok.payload, want);
    free(want);
    assert_true(fail.function_error);
    assert_string_equal(fail.error_type, "Function.HttpError");
    want = bt_xasprintf("{\"errorType\":\"Function.HttpError\",\"errorMessage\":\"HTTP 500 from "
                        "%s\"}",
                        fail_url);
    assert_string_equal(fail.payload, want);
    free(want);
    assert_true(typed.function_error);
    assert_string_equal(typed.error_type, "Boom");
    assert_string_equal(typed.payload, "{\"errorType\":\"Boom\",\"errorMessage\":\"typed\"}");
    assert_true(down.function_error);
    assert_string_equal(down.error_type, "Function.ConnectionError");
    uv_close((uv_handle_t *)&srv, NULL);
    spin(e, 20);
    outcome_fini(&ok);
    outcome_fini(&fail);
    outcome_fini(&typed);
    outcome_fini(&down);
}

/* ---- provided: a bootstrap speaking the Runtime API ---- */

static const char bootstrap[] =
    "#!/usr/bin/python3\n"
    "import json, os, sys, time, urllib.request\n"
    "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/'\n"
    "print('init', flush=True)\n"
    "while True:\n"
    "    with urllib.request.urlopen(api + 'next') as r:\n"
    "        rid = r.headers['Lambda-Runtime-Aws-Request-Id']\n"
    "        deadline = int(r.headers['Lambda-Runtime-Deadline-Ms'])\n"
    "        arn = r.headers['Lambda-Runtime-Invoked-Function-Arn']\n"
    "        event = json.loads(r.read())\n"
    "    print('handling', rid, flush=True)\n"
    "    if event.get('sleep'):\n"
    "        time.sleep(event['sleep'])\n"
    "    if event.get('fail'):\n"
    "        body = {'errorType': 'MyErr', 'errorMessage': 'bad'}\n"
    "        path = rid + '/error'\n"
    "    else:\n"
    "        e = os.environ\n"
    "        body = {'event': event, 'rid': rid, 'arn': arn, 'pid': os.getpid(),\n"
    "                'left': deadline - int(time.time() * 1000),\n"
    "                'env': [e['AWS_LAMBDA_FUNCTION_NAME'], e['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],\n"
    "                        e['AWS_REGION'], e['LAMBDA_TASK_ROOT'] == os.getcwd(),\n"
    "                        e['AWS_LAMBDA_LOG_GROUP_NAME'], e['AWS_ACCESS_KEY_ID'], e['TZ'],\n"
    "                        e['MY_VAR'], e['_HANDLER']]}\n"
    "        path = rid + '/response'\n"
    "    if event.get('exit'):\n"
    "        sys.exit(event['exit'])\n"
    "    req = urllib.request.Request(api + path, data=json.dumps(body).encode(), method='POST')\n"
    "    urllib.request.urlopen(req).read()\n";

static void put_provided(env *e, const char *name, int concurrency, int queue_max, int idle_s)
{
    char *dir = write_script(e, name, "bootstrap", bootstrap);
    json_t *vars = json_pack("{s:s}", "MY_VAR", "mine");
    fn_config c = {.name = name,
                   .runtime = FN_RT_PROVIDED,
                   .code_dir = dir,
                   .handler = "h.x",
                   .timeout_s = 5,
                   .concurrency = concurrency,
                   .queue_max = queue_max,
                   .idle_s = idle_s,
                   .environment = vars};
    bt_err err = {0};
    assert_int_equal(fn_put(e->fs, &c, FN_ORIGIN_API, false, &err), 0);
    json_decref(vars);
    free(dir);
}

static json_t *parse(const char *s)
{
    json_t *v = json_loads(s, 0, NULL);
    assert_non_null(v);
    return v;
}

static void test_provided(void **state)
{
    env *e = *state;
    put_provided(e, "p", 0, 0, 0);
    outcome a = {0}, b = {0}, f = {0}, x = {0};
    invoke(e, "p", "{\"n\":1}", &a);
    run_until(e, &a.n, 1, 5000);
    assert_false(a.function_error);
    json_t *ra = parse(a.payload);
    assert_string_equal(json_string_value(json_object_get(ra, "rid")), a.request_id);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ra, "event"), "n")), 1);
    assert_string_equal(json_string_value(json_object_get(ra, "arn")),
                        "arn:aws:lambda:us-east-1:123456789012:function:p");
    json_int_t left = json_integer_value(json_object_get(ra, "left"));
    assert_true(left > 3000 && left <= 5000);
    char *envs = json_dumps(json_object_get(ra, "env"), JSON_COMPACT);
    assert_string_equal(envs, "[\"p\",\"128\",\"us-east-1\",true,\"/aws/lambda/p\",\"baton\","
                              "\"UTC\",\"mine\",\"h.x\"]");
    free(envs);

    /* Warm: the same process answers the second invocation. */
    invoke(e, "p", "{\"n\":2}", &b);
    run_until(e, &b.n, 1, 5000);
    json_t *rb = parse(b.payload);
    assert_int_equal(json_integer_value(json_object_get(ra, "pid")),
                     json_integer_value(json_object_get(rb, "pid")));
    size_t idle;
    assert_int_equal(fn__workers_count(e->fs, &idle), 1);

    /* What the process printed just before its /response is in the tail, every time. */
    for (int i = 0; i < 20; i++) {
        outcome t = {0};
        fn_invoke_req req = {.name = "p", .payload = "{}", .payload_len = 2, .tail_log = true};
        fn_invoke(e->fs, &req, on_done, &t);
        run_until(e, &t.n, 1, 5000);
        char *want = bt_xasprintf("\nhandling %s\n", t.request_id);
        assert_non_null(t.log_tail);
        assert_non_null(strstr(t.log_tail, want));
        free(want);
        outcome_fini(&t);
    }

    invoke(e, "p", "{\"fail\":true}", &f);
    run_until(e, &f.n, 1, 5000);
    assert_true(f.function_error);
    assert_string_equal(f.error_type, "MyErr");
    assert_string_equal(f.payload, "{\"errorType\": \"MyErr\", \"errorMessage\": \"bad\"}");

    invoke(e, "p", "{\"exit\":4}", &x);
    run_until(e, &x.n, 1, 5000);
    assert_true(x.function_error);
    assert_string_equal(x.error_type, "Runtime.ExitError");
    assert_non_null(strstr(x.payload, "Runtime exited with error: exit status 4"));

    spin(e, 300);
    char *logs = fn_logs(e->fs, "p", 0, 0);
    char *line = bt_xasprintf(" handling %s\n", a.request_id);
    const char *start = strstr(logs, "START RequestId: "), *h = strstr(logs, line);
    assert_non_null(strstr(logs, " init\n"));
    assert_non_null(h);
    assert_true(start < h);
    free(line);
    free(logs);

    json_decref(ra);
    json_decref(rb);
    outcome_fini(&a);
    outcome_fini(&b);
    outcome_fini(&f);
    outcome_fini(&x);
}

/* A function deleted while its worker is busy: stopping the service still stops (and reaps)
 * that worker. */
static void test_delete_while_busy(void **state)
{
    env *e = *state;
    put_provided(e, "gone", 0, 0, 0);
    outcome a = {0}, busy = {0};
    invoke(e, "gone", "{\"n\":1}", &a);
    run_until(e, &a.n, 1, 5000);
    json_t *ra = parse(a.payload);
    pid_t pid = (pid_t)json_integer_value(json_object_get(ra, "pid"));
    assert_true(pid > 0);
    invoke(e, "gone", "{\"sleep\":3}", &busy);
    spin(e, 300);
    assert_int_equal(busy.n, 0);
    assert_int_equal(fn_delete(e->fs, "gone"), 0);
    assert_int_equal(kill(pid, 0), 0); /* busy: runs on until its invocation ends */
    close_env(e);
    errno = 0;
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    open_env(e);
    json_decref(ra);
    outcome_fini(&a);
    outcome_fini(&busy);
}

static void test_concurrency_and_reaper(void **state)
{
    env *e = *state;
    put_provided(e, "c", 2, 2, 1);
    outcome o[5] = {0};
    int done = 0;
    for (int i = 0; i < 5; i++) {
        o[i].counter = &done;
        invoke(e, "c", "{\"sleep\":0.3}", &o[i]);
    }
    /* two run, two wait, the fifth is throttled */
    run_until(e, &o[4].n, 1, 1000);
    assert_int_equal(o[4].api_status, 429);
    assert_string_equal(o[4].api_error, "TooManyRequestsException");
    assert_string_equal(o[4].api_message, "Rate Exceeded.");
    assert_string_equal(o[4].throttle, "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert_int_equal(e->fs->list[0]->n_waiting, 2);
    run_until(e, &done, 5, 8000);
    size_t idle, pids = 0;
    assert_int_equal(fn__workers_count(e->fs, &idle), 2);
    assert_int_equal(idle, 2);
    json_int_t seen[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(o[i].api_status, 0);
        json_t *r = parse(o[i].payload);
        json_int_t pid = json_integer_value(json_object_get(r, "pid"));
        bool known = false;
        for (size_t k = 0; k < pids; k++)
            known = known || seen[k] == pid;
        if (!known)
            seen[pids++] = pid;
        json_decref(r);
    }
    assert_int_equal(pids, 2); /* the waiting ones ran on the two warm workers */
    json_t *h = fn_health(e->fs);
    assert_int_equal(json_integer_value(json_object_get(h, "workers")), 2);
    json_decref(h);

    /* idle_s 1: the reaper (every second) stops both */
    spin(e, 2500);
    assert_int_equal(fn__workers_count(e->fs, &idle), 0);
    for (int i = 0; i < 5; i++)
        outcome_fini(&o[i]);
}

/* ---- Event invocations ---- */

static void test_event_survives_reopen(void **state)
{
    env *e = *state;
    char *marker = bt_xasprintf("%s/marker", e->dir);
    char *script = bt_xasprintf("#!/bin/sh\ncat >> %s\necho >> %s\necho null\n", marker, marker);
    put_exec(e, "ev", script, 0);
    put_exec(e, "evfail", "#!/bin/sh\nexit 2\n", 0);
    free(script);
    spin(e, 50);

    fn_invoke_req req = {.name = "ev", .payload = "{\"e\":1}", .payload_len = 7};
    char id[40];
    fn_result r;
    assert_int_equal(fn_invoke_event(e->fs, &req, id, &r), 0);
    assert_int_equal(strlen(id), 36);
    fn_invoke_req missing = {.name = "zz", .payload = "{}", .payload_len = 2};
    assert_int_equal(fn_invoke_event(e->fs, &missing, id, &r), BT_ENOTFOUND);
    assert_int_equal(r.api_status, 404);
    /* Closed before the loop ran: the row is committed by server_free, not run. */
    close_env(e);
    assert_null(bt_read_file(marker, NULL));
    open_env(e);
    assert_int_equal(e->fs->n_events, 1);
    for (int i = 0; i < 300 && e->fs->n_events > 0; i++)
        spin(e, 10);
    assert_int_equal(e->fs->n_events, 0);
    char *got = bt_read_file(marker, NULL);
    assert_non_null(got);
    assert_string_equal(got, "{\"e\":1}\n");
    free(got);
    spin(e, 50);
    close_env(e);
    open_env(e);
    assert_int_equal(e->fs->n_events, 0); /* the row went */

    /* A failure is kept for a retry a minute later. */
    fn_invoke_req bad = {.name = "evfail", .payload = "{}", .payload_len = 2};
    assert_int_equal(fn_invoke_event(e->fs, &bad, id, &r), 0);
    for (int i = 0; i < 300 && (e->fs->events == NULL || e->fs->events->attempts == 0); i++)
        spin(e, 10);
    assert_int_equal(e->fs->n_events, 1);
    assert_int_equal(e->fs->events->attempts, 1);
    assert_true(e->fs->events->next_ms >= server_now_ms(e->srv) + 55000);
    free(marker);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_from_own_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provided, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_while_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency_and_reaper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_survives_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
