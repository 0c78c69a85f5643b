/*
 * server.h — `baton serve`: one engine thread (a libuv loop) owns every execution, queue and
 * state machine; HTTP threads hand it requests (api/router.c) and it answers them once the
 * writes they caused are durable (store.h). Modules that run on the engine thread (the SQS
 * service, integrations, later topics and schedules) reach the loop, the store and the batch
 * of the current loop iteration through these calls.
 *
 * The commit rule: whatever a handler or a transition writes goes into server_batch(); a
 * reply or an effect that leaves the process is attached to that batch (api_reply does it;
 * server_after_commit for anything else) and happens only once the batch is durable.
 */
#ifndef BT_SERVER_SERVER_H
#define BT_SERVER_SERVER_H

#include "store/store.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct server server;

typedef enum server_log_level {
    SERVER_LOG_ERROR,
    SERVER_LOG_WARN,
    SERVER_LOG_INFO,
    SERVER_LOG_DEBUG,
} server_log_level;

typedef struct server_config {
    const char *listen;   /* "127.0.0.1:8083" */
    const char *data_dir; /* "./baton-data" */
    const char *region;   /* "us-east-1" */
    const char *account;  /* "123456789012" */
    server_log_level log_level;
    bool sync_normal;      /* SQLite synchronous=NORMAL (survives kill -9, not power loss) */
    double retention_days; /* closed executions kept this long (AWS: 90; fractions allowed) */
    /* Parked executions kept in memory (0: 1024); the others are loaded from the store
     * when a callback or a timer arrives. */
    size_t max_resident;
    /* Open executions at most (0: AWS's default quota, 1,000,000). */
    size_t max_open;
} server_config;

/* Opens the store (taking the data folder's lock), loads what it holds; NULL with err set
 * when it cannot. */
server *server_new(const server_config *cfg, const store_migration *extra, size_t n_extra,
                   bt_err *err);
/* Runs the loop until SIGTERM/SIGINT (or server_shutdown); then commits what is in flight. */
int server_run(server *s);
void server_shutdown(server *s);
void server_free(server *s);
/* Any thread: runs fn(ctx) on the engine thread, in the order posted. */
void server_post(server *s, void (*fn)(void *ctx), void *ctx);
/* Called on the engine thread when the loop is stopping (answer long polls, …). */
void server_on_stop(server *s, void (*fn)(void *ctx), void *ctx);

uv_loop_t *server_loop(server *s);
store *server_store(server *s);
/* The batch that collects the writes of this loop iteration (submitted when it ends). */
store_batch *server_batch(server *s);
/* Runs fn(ctx, rc) once everything written so far is durable (rc 0) or failed. */
void server_after_commit(server *s, void (*fn)(void *ctx, int rc), void *ctx);
/* The clock (ms since the epoch), read once per loop iteration so that one batch of work
 * sees one time. */
int64_t server_now_ms(server *s);
/* Reads the clock again (for work that starts in a libuv callback of a service: a child
 * process exiting, a socket turning readable) and returns it. */
int64_t server_tick(server *s);
const char *server_region(const server *s);
const char *server_account(const server *s);
/* "http://127.0.0.1:8083" — how clients reach this server (set once the port is bound). */
const char *server_endpoint(const server *s);
void server_set_endpoint(server *s, const char *url);
/* The settings it runs with (strings owned by the server). */
const server_config *server_get_config(const server *s);

/* What /health reports: the store's commits and the executions in and out of memory. */
json_t *server_health(server *s);

/* One line on stderr: `ts level event key=value …` (fmt gives the key=value part). */
void server_log(server *s, server_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
