/*
 * serve.h — `baton serve`: the server, its services and the HTTP front end, wired together.
 */
#ifndef BT_API_SERVE_H
#define BT_API_SERVE_H

#include "server/server.h"

#include <stdbool.h>

typedef struct api_serve_config {
    server_config server;
    unsigned http_threads;    /* 0: 2 */
    const char *credentials;  /* a keys file: every request must be signed by one (SigV4) */
    bool insecure;            /* listen beyond loopback without checking signatures */
    const char *project_file; /* baton.yaml: checked before the start, applied once the
                                 services are open, re-read on SIGHUP; or NULL */
} api_serve_config;

/* Runs until SIGTERM/SIGINT. 0 after a clean stop; 1 when it cannot start (said on stderr),
 * among others when the project file has problems (each printed). */
int api_serve(const api_serve_config *cfg);

#endif
