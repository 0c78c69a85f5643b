/*
 * client.h — one AWS JSON 1.0 call to a Step Functions endpoint, for the client verbs
 * (cmd_client.c). A client holds one libcurl easy handle, so a verb that pages through a
 * list reuses one keep-alive connection. Answers are read as botocore reads them, so a
 * verb can report them as the aws CLI does. Single-threaded, like the process.
 */
#ifndef BT_CLI_CLIENT_H
#define BT_CLI_CLIENT_H

#include <jansson.h>

/* The largest answer read (a history page of 1,000 events carrying 256 KiB payloads would
 * be larger; Baton's pages stay far below this). */
#define CLI_ANSWER_MAX (256u * 1024u * 1024u)

typedef struct cli_client cli_client;

typedef struct cli_client_config {
    const char *endpoint; /* "http://127.0.0.1:8083" (a trailing '/' is optional) */
    const char *region;   /* the signing scope's region */
    long timeout_s;       /* for connecting, and for the whole exchange */
} cli_client_config;

typedef enum cli_outcome {
    CLI_ANSWERED,      /* a 2xx answer: body */
    CLI_SERVICE_ERROR, /* an error answer: code and message */
    CLI_NO_ANSWER,     /* no usable answer (connection, timeout, not JSON): message */
} cli_outcome;

typedef struct cli_answer {
    cli_outcome outcome;
    json_t *body;  /* CLI_ANSWERED: a JSON object ({} for an empty body); owned */
    char *code;    /* CLI_SERVICE_ERROR: "ExecutionDoesNotExist" (no namespace) */
    char *message; /* the service's message ("" when it gave none), or why there is no answer */
} cli_answer;

/* Copies cfg's strings. Never NULL. */
cli_client *cli_client_new(const cli_client_config *cfg);
void cli_client_free(cli_client *c);

/* Posts AWSStepFunctions.<op> with request (borrowed; an object) as the body and fills
 * *answer, which the caller releases with cli_answer_fini. */
void cli_client_call(cli_client *c, const char *op, json_t *request, cli_answer *answer);
void cli_answer_fini(cli_answer *a);

/* The URL requests go to: the endpoint with a trailing '/' (heap). */
char *cli_request_url(const char *endpoint);
/* Reads an HTTP answer as botocore does: status >= 300 is an error whose code is __type
 * without its "namespace#" prefix and ":…" suffix (the HTTP status when absent), and whose
 * message is message or Message; a body that is not JSON becomes the message. */
void cli_answer_decode(long status, const char *body, size_t len, cli_answer *out);

#endif
