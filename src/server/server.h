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
    const char *listen;      /* "127.0.0.1:8083" */
    const char *data_dir;    /* "./baton-data" */
    const char *region;      /* "us-east-1" */
    const char *account;     /* "123456789012" */
    server_log_level log_level;
    bool sync_normal;        /* SQLite synchronous=NORMAL (survives kill -9, not power loss) */
    int64_t retention_days;  /* closed executions kept this long (AWS: 90) */
} server_config;

/* Runs until SIGTERM or SIGINT; 0 on a clean stop, 1 when it cannot start (message on
 * stderr). */
int server_main(const server_config *cfg);

uv_loop_t *server_loop(server *s);
store *server_store(server *s);
/* The batch that collects the writes of this loop iteration (submitted when it ends). */
store_batch *server_batch(server *s);
/* Runs fn(ctx, rc) once everything written so far is durable (rc 0) or failed. */
void server_after_commit(server *s, void (*fn)(void *ctx, int rc), void *ctx);
/* The clock (ms since the epoch), read once per loop iteration so that one batch of work
 * sees one time. */
int64_t server_now_ms(server *s);
const char *server_region(const server *s);
const char *server_account(const server *s);
/* "http://127.0.0.1:8083" — how clients reach this server. */
const char *server_endpoint(const server *s);

/* One line on stderr: `ts level event key=value …` (fmt gives the key=value part). */
void server_log(server *s, server_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
