/*
 * fn_int.h — the function service's private state, shared by service.c (the registry, its
 * persistence, the service's life), invoke.c (invocations: the waiting line, throttling,
 * completions deferred to the next loop turn, Event invocations), worker.c (warm worker
 * processes speaking the Runtime API), exec_rt.c (one process per invocation), url_rt.c
 * (HTTP endpoints through libcurl's multi interface on the loop) and logs.c (what functions
 * print, per function, in files under <data>/logs/).
 *
 * Everything runs on the engine thread. A function record (fn_func) is counted: the
 * registry, each worker and each invocation hold it, so a deleted function lives on until
 * its last invocation ends.
 */
#ifndef BT_FN_FN_INT_H
#define BT_FN_FN_INT_H

#include "base/buf.h"
#include "base/strmap.h"
#include "fn/fn.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct fn_func fn_func;
typedef struct fn_inv fn_inv;
typedef struct fn_worker fn_worker;
typedef struct fn_log fn_log;
typedef struct fn_event fn_event;
typedef struct fn_url fn_url;

struct fn_func {
    fn_info info;    /* first: fn_list hands out &func->info */
    char *own[8];    /* the strings behind info.cfg */
    char **argv;     /* info.cfg.command */
    uint64_t config; /* bumped by every fn_put: workers of an older one retire */
    bool is_deleted;
    int refs;
    fn_worker *workers; /* live workers, idle ones first is not kept: any order */
    size_t n_workers;
    size_t n_active; /* invocations running (any runtime) */
    fn_inv *wait_head, *wait_tail;
    size_t n_waiting;
    fn_log *log;
    char *init_error; /* a worker's /init/error body no invocation has taken yet */
};

typedef enum fn_inv_state {
    FN_INV_WAITING,
    FN_INV_RUNNING,
    FN_INV_DONE,
} fn_inv_state;

struct fn_inv {
    fn_inv *prev, *next; /* the function's waiting line, then the ready list */
    fn_service *fs;
    fn_func *fn;
    uint32_t slot, gen;
    fn_inv_state state;
    char request_id[37];
    char *payload;
    size_t payload_len;
    char *client_context;
    char *invoked_arn;
    bool tail_log;
    bool is_event; /* waits in line whatever queue_max says */
    fn_done done;
    void *ctx;
    int64_t start_ms, deadline_ms;
    uint64_t start_ns;
    fn_worker *worker;
    void *proc; /* exec_rt.c's process, url_rt.c's request */
    /* the outcome */
    int api_status;
    const char *api_error;
    char *api_message;
    const char *throttle_reason;
    char *out;
    size_t out_len;
    bool function_error;
    char *error_type;
    bt_buf tail; /* this invocation's log lines (tail_log) */
    double duration_exact_ms;
    int64_t max_rss_kb;
};

struct fn_event {
    fn_event *prev, *next;
    fn_service *fs;
    char request_id[37];
    char *function;
    char *payload;
    int attempts;
    int64_t next_ms;
    bool is_running;
    bool awaits_commit;
};

struct fn_service {
    server *srv;
    char *data_dir; /* absolute */
    char *functions_dir, *runtime_dir, *logs_dir;
    char *access_key, *secret_key;
    char *launcher;  /* fn_set_launcher (spawn.c), or NULL */
    bt_strmap funcs; /* name → fn_func */
    fn_func **list;  /* by name */
    size_t n_list, cap_list;
    fn_func **gone; /* deleted functions whose busy workers still run (counted) */
    size_t n_gone;
    const fn_info **infos; /* fn_list's answer, rebuilt after a change */
    bool infos_stale;
    /* invocation handles: slot + generation */
    fn_inv **slots;
    uint32_t *slot_gen;
    uint32_t *free_slots;
    size_t n_slots, n_free;
    fn_inv *ready_head, *ready_tail;
    uv_idle_t ready_idle;
    uv_timer_t reap_timer, mem_timer, log_timer, event_timer;
    int open_handles;
    bool is_closing;
    size_t pending_commits; /* server_after_commit callbacks still to come */
    fn_event *events;       /* pending Event invocations */
    size_t n_events;
    fn_url *url; /* url_rt.c's state; NULL until the first url invocation */
    /* counters */
    uint64_t n_invoked, n_done, n_throttled, n_busy_workers;
};

/* service.c */
fn_func *fn__find(fn_service *fs, const char *name);
void fn__func_release(fn_func *fn);
/* KEY=VALUE strings of a process's environment (NULL-terminated, heap; fn__env_free). */
char **fn__env(fn_service *fs, fn_func *fn, int rapi_port);
void fn__env_free(char **env);
void fn__maybe_free(fn_service *fs);

/* invoke.c */
void fn__invoke_init(fn_service *fs);
void fn__invoke_fini(fn_service *fs);
/* The invocation ended (the outcome set): logs END/REPORT, frees its concurrency slot,
 * starts the next in line and queues the completion. */
void fn__finish(fn_inv *inv);
void fn__set_result(fn_inv *inv, const char *payload, size_t len);
void fn__set_error(fn_inv *inv, const char *error_type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The payload of a function error: errorType from a JSON object text, heap copy, or NULL. */
char *fn__error_type_of(const char *payload, size_t len);
/* Drops the waiting invocations of a function (deleted): 404. */
void fn__fail_waiting(fn_func *fn);
/* Starts waiting invocations while the function has room. */
void fn__pump(fn_func *fn);
void fn__events_load(fn_service *fs);
void fn__events_free(fn_service *fs);
/* The exit of a process as Runtime.ExitError's message ("exit status 3", "signal: killed"). */
void fn__exit_error(fn_inv *inv, int64_t exit_status, int term_signal);
void fn__timed_out(fn_inv *inv);
void fn__out_of_memory(fn_inv *inv);
/* Resident memory of a process in kB, or -1. */
int64_t fn__rss_kb(int pid);

/* worker.c */
int fn__worker_run(fn_inv *inv);
void fn__workers_retire(fn_func *fn); /* stops idle workers of the function, the busy ones
                                         once their invocation ends */
void fn__workers_stop_all(fn_service *fs);
void fn__workers_reap(fn_service *fs, int64_t now_ms);
void fn__workers_poll_memory(fn_service *fs);
size_t fn__workers_count(fn_service *fs, size_t *idle);
/* Writes fn_runtime_files under <data>/runtime/ (replacing what differs). */
int fn__write_runtime_files(fn_service *fs, bt_err *err);

/* exec_rt.c */
int fn__exec_run(fn_inv *inv);
/* The service stops: kills the process and lets go of inv (which stays RUNNING). */
void fn__exec_abandon(fn_inv *inv);

/* url_rt.c */
int fn__url_run(fn_inv *inv);
void fn__url_abandon(fn_inv *inv);
void fn__url_fini(fn_service *fs);

/* logs.c */
fn_log *fn__log_new(fn_service *fs, const char *name);
void fn__log_free(fn_log *log);
/* One line (without its '\n') the function printed during inv (NULL: between invocations). */
void fn__log_line(fn_log *log, fn_inv *inv, const char *line, size_t len);
void fn__log_flush(fn_log *log);
void fn__logs_flush_all(fn_service *fs);
/* Splits a pipe's bytes into lines: keeps the unfinished rest in pending. */
void fn__log_feed(fn_log *log, fn_inv *inv, bt_buf *pending, const char *data, size_t len);

/* spawn.c: uv_spawn through the launcher when there is one. */
int fn__spawn(fn_service *fs, uv_loop_t *loop, uv_process_t *proc, const uv_process_options_t *o);

#endif
