/*
 * logs.c — what functions print: one append-only file per function under <data>/logs/
 * (<name>.log, moved to <name>.log.1 when it passes FN_LOG_FILE_MAX; one old file kept),
 * each line prefixed with its time ("2024-05-01T10:00:00.123Z "). Lines are gathered in
 * memory and written every quarter second or once 64 KiB are waiting, so a busy function
 * costs one write() per flush, not per line. An invocation that asked for its log tail also
 * keeps its own lines, unstamped (the last 4 KiB are what Invoke's X-Amz-Log-Result carries).
 */
#include "fn/fn_int.h"

#include "base/alloc.h"
#include "base/file.h"
#include "base/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FN_LOG_FILE_MAX (8 * 1024 * 1024)
#define FN_LOG_PENDING  65536
#define FN_TAIL_KEEP    4096
#define FN_STAMP_LEN    24 /* "2024-05-01T10:00:00.123Z" */

struct fn_log {
    fn_service *fs;
    char *path, *old_path;
    int fd;
    int64_t size;
    bt_buf pending;
    int64_t stamp_ms;
    char stamp[32];
};

fn_log *fn__log_new(fn_service *fs, const char *name)
{
    fn_log *log = bt_xcalloc(1, sizeof *log);
    log->fs = fs;
    log->path = bt_xasprintf("%s/%s.log", fs->logs_dir, name);
    log->old_path = bt_xasprintf("%s/%s.log.1", fs->logs_dir, name);
    log->fd = -1;
    log->stamp_ms = -1;
    bt_buf_init(&log->pending);
    return log;
}

static void log_open(fn_log *log)
{
    log->fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    log->size = log->fd >= 0 && fstat(log->fd, &st) == 0 ? (int64_t)st.st_size : 0;
}

void fn__log_flush(fn_log *log)
{
    if (log == NULL || log->pending.len == 0)
        return;
    if (log->fd >= 0 && log->size + (int64_t)log->pending.len > FN_LOG_FILE_MAX) {
        close(log->fd);
        log->fd = -1;
        rename(log->path, log->old_path);
    }
    if (log->fd < 0)
        log_open(log);
    if (log->fd >= 0) {
        const char *p = log->pending.data;
        size_t left = log->pending.len;
        while (left > 0) {
            ssize_t n = write(log->fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            p += n;
            left -= (size_t)n;
            log->size += n;
        }
    }
    bt_buf_reset(&log->pending);
}

void fn__log_free(fn_log *log)
{
    if (log == NULL)
        return;
    fn__log_flush(log);
    if (log->fd >= 0)
        close(log->fd);
    bt_buf_fini(&log->pending);
    free(log->path);
    free(log->old_path);
    free(log);
}

void fn__logs_flush_all(fn_service *fs)
{
    for (size_t i = 0; i < fs->n_list; i++)
        fn__log_flush(fs->list[i]->log);
}

void fn__log_line(fn_log *log, fn_inv *inv, const char *line, size_t len)
{
    if (log == NULL)
        return;
    int64_t now = server_tick(log->fs->srv);
    if (now != log->stamp_ms) {
        bt_time_format(now, log->stamp, sizeof log->stamp);
        log->stamp_ms = now;
    }
    bt_buf_puts(&log->pending, log->stamp);
    bt_buf_putc(&log->pending, ' ');
    size_t start = log->pending.len;
    bt_buf_append(&log->pending, line, len);
    bt_buf_putc(&log->pending, '\n');
    /* The tail holds the lines as printed: the time is the log file's, not part of the event
     * message Lambda returns in X-Amz-Log-Result ("START RequestId: …" first). */
    if (inv && inv->tail_log) {
        bt_buf_append(&inv->tail, log->pending.data + start, log->pending.len - start);
        if (inv->tail.len > 2 * FN_TAIL_KEEP) {
            size_t cut = inv->tail.len - FN_TAIL_KEEP;
            memmove(inv->tail.data, inv->tail.data + cut, FN_TAIL_KEEP);
            inv->tail.len = FN_TAIL_KEEP;
            inv->tail.data[FN_TAIL_KEEP] = '\0';
        }
    }
    if (log->pending.len >= FN_LOG_PENDING)
        fn__log_flush(log);
}

void fn__log_feed(fn_log *log, fn_inv *inv, bt_buf *rest, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (nl == NULL) {
            bt_buf_append(rest, data, len);
            if (rest->len > 65536) { /* a line without end: cut it */
                fn__log_line(log, inv, rest->data, rest->len);
                bt_buf_reset(rest);
            }
            return;
        }
        size_t n = (size_t)(nl - data);
        if (rest->len) {
            bt_buf_append(rest, data, n);
            fn__log_line(log, inv, rest->data, rest->len);
            bt_buf_reset(rest);
        } else {
            fn__log_line(log, inv, data, n);
        }
        data = nl + 1;
        len -= n + 1;
    }
}

/* ---- reading ---- */

typedef struct line_ring {
    char **lines;
    size_t cap, n, head; /* the last cap lines */
} line_ring;

static void ring_push(line_ring *r, const char *s, size_t len)
{
    char *copy = bt_xstrndup(s, len);
    if (r->n < r->cap) {
        r->lines[(r->head + r->n) % r->cap] = copy;
        r->n++;
    } else {
        free(r->lines[r->head]);
        r->lines[r->head] = copy;
        r->head = (r->head + 1) % r->cap;
    }
}

static void scan(line_ring *r, const char *text, int64_t since_ms)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        bool keep = true;
        if (since_ms > 0) {
            char stamp[FN_STAMP_LEN + 1];
            int64_t t = 0;
            if (len >= FN_STAMP_LEN) {
                memcpy(stamp, p, FN_STAMP_LEN);
                stamp[FN_STAMP_LEN] = '\0';
                keep = bt_time_parse_rfc3339(stamp, &t) && t >= since_ms;
            } else {
                keep = false;
            }
        }
        if (keep)
            ring_push(r, p, len);
        p = nl ? nl + 1 : NULL;
    }
}

char *fn_logs(fn_service *fs, const char *name, size_t lines, int64_t since_ms)
{
    fn_func *fn = fn__find(fs, name);
    if (fn == NULL)
        return NULL;
    fn__log_flush(fn->log);
    line_ring r = {0};
    r.cap = lines == 0 ? 100 : lines > FN_LOGS_LINES_MAX ? FN_LOGS_LINES_MAX : lines;
    r.lines = bt_xcalloc(r.cap, sizeof *r.lines);
    const char *paths[] = {fn->log->old_path, fn->log->path};
    for (size_t i = 0; i < 2; i++) {
        char *text = bt_read_file(paths[i], NULL);
        if (text)
            scan(&r, text, since_ms);
        free(text);
    }
    bt_buf out;
    bt_buf_init(&out);
    bt_buf_puts(&out, "");
    for (size_t i = 0; i < r.n; i++) {
        char *s = r.lines[(r.head + i) % r.cap];
        bt_buf_puts(&out, s);
        bt_buf_putc(&out, '\n');
        free(s);
    }
    free(r.lines);
    return bt_buf_steal(&out);
}
