/*
 * cli.h — the `baton` verbs. Each returns the process exit status.
 */
#ifndef BT_CLI_CLI_H
#define BT_CLI_CLI_H

#include "base/buf.h"

#include <stdbool.h>
#include <stdio.h>

#define BATON_VERSION "0.1.0"

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* `baton eval` (cmd_eval.c): one JSONata expression. */
int cmd_eval(int argc, char **argv);
void cmd_eval_usage(FILE *f);

/* The client verbs (cmd_client.c): create-state-machine, start, describe, executions,
 * history, send-success, send-failure, heartbeat, stop. argv[0] is the verb. */
bool cmd_client_is_verb(const char *verb);
int cmd_client(int argc, char **argv);
/* Appends their part of `baton help` to f. */
void cmd_client_usage(FILE *f);

/* The function verbs (cmd_fn.c): logs, invoke. argv[0] is the verb. */
bool cmd_fn_is_verb(const char *verb);
int cmd_fn(int argc, char **argv);
void cmd_fn_usage(FILE *f);

/* `baton __spawn PID PROGRAM ARGS…` (not in --help): how the server starts a function's
 * process so that it dies with the server (fn/spawn.c). Returns only on failure. */
int cmd_spawn(int argc, char **argv);
/* `baton outbox` (cmd_outbox.c). */
int cmd_outbox(int argc, char **argv);
void cmd_outbox_usage(FILE *f);
/* `baton approvals` (cmd_approvals.c). */
int cmd_approvals(int argc, char **argv);
void cmd_approvals_usage(FILE *f);

/* Exit statuses of the client verbs, the aws CLI's: usage 252, the service refused 254, no
 * answer 255. */
enum { EXIT_OK = 0, EXIT_USAGE = 252, EXIT_SERVICE = 254, EXIT_NO_ANSWER = 255 };

/* A request to one of Baton's own endpoints (cli_http.c), signed (cli_sign): GET when body
 * is NULL, else a JSON POST; timeout_s 0 waits as long as it takes. EXIT_OK with the 200 answer in
 * *a (the caller frees a->body with bt_buf_fini); otherwise it says why on stderr, frees what it
 * got and returns EXIT_NO_ANSWER (no answer) or EXIT_SERVICE (a status other than 200). */
typedef struct cli_http_answer {
    long status;
    bt_buf body;
    bool function_error; /* X-Amz-Function-Error came with it (Lambda's Invoke) */
} cli_http_answer;
int cli_http(const char *url, const char *body, long timeout_s, cli_http_answer *a);
/* endpoint + path (which starts with '/'), the endpoint's trailing slashes dropped, so
 * http://host:port/ and http://host:port name the same paths (heap string). */
char *cli_url(const char *endpoint, const char *path);

/* SigV4 (cli_sign.c): appends Authorization and X-Amz-Date to h for a request of method to
 * url with the extra headers to sign (name, value, …, NULL) and body (NULL: empty), signed
 * with the environment's keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or, without them,
 * placeholders a server without --credentials takes. */
struct curl_slist;
struct curl_slist *cli_sign(struct curl_slist *h, const char *method, const char *url,
                            const char *const *headers, const char *body, const char *region,
                            const char *service);
/* Whether the environment has both keys. */
bool cli_have_keys(void);
/* $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1. */
const char *cli_region(void);

#endif
