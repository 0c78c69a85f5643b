/*
 * serve.c — starts `baton serve`: opens the server on its data folder (store, state machines,
 * open executions), adds the built-in services and their integrations, listens, and says
 * where it can be reached. A project file (--config) is checked before anything opens — a
 * file with problems keeps the server from starting — and applied once the services are.
 * Stopping goes the other way: the loop ends and commits what is in
 * flight, the front end answers what is left 503, the services close.
 */
#include "api/serve.h"
#include "api/lambda.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/sched_targets.h"
#include "approval/approval.h"
#include "base/alloc.h"
#include "fn/fn.h"
#include "http/http.h"
#include "project/project.h"
#include "queue/queue.h"
#include "sched/sched.h"
#include "server/sfn.h"
#include "topic/topic.h"
#include "trigger/trigger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "host:port", "[v6]:port", ":port" or "port". */
static int split_listen(const char *listen, char *host, size_t host_len, int *port)
{
    const char *colon = strrchr(listen, ':');
    const char *h = listen;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    const char *p = colon ? colon + 1 : listen;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *end;
    long v = strtol(p, &end, 10);
    if (*p == '\0' || *end != '\0' || v < 0 || v > 65535 || hl >= host_len)
        return -1;
    if (hl == 0) {
        snprintf(host, host_len, "127.0.0.1");
    } else {
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    *port = (int)v;
    return 0;
}

/* 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
static bool is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

/* The project file's public_url and signing_key, at the start and on every reload: links
 * mailed after a reload carry the new base and the new key's signature. */
static void approvals_applied(void *ctx, const project *p)
{
    approval_set_public_url(ctx, p->public_url);
    approval_set_signing_key(ctx, p->signing_key);
}

int api_serve(const api_serve_config *cfg)
{
    char host[256];
    int port;
    const char *listen = cfg->server.listen ? cfg->server.listen : "127.0.0.1:8083";
    if (split_listen(listen, host, sizeof host, &port) != 0) {
        fprintf(stderr, "baton serve: --listen wants HOST:PORT, not '%s'\n", listen);
        return 1;
    }
    project *proj = NULL;
    if (cfg->project_file) {
        prj_problems problems;
        prj_problems_init(&problems, cfg->project_file);
        if (project_load(cfg->project_file, &proj, &problems) != 0) {
            if (problems.len == 1 && problems.items[0].at.line == 0)
                fprintf(stderr, "%s: error: %s\n", cfg->project_file, problems.items[0].msg);
            else
                prj_problems_print(&problems, stderr);
            fprintf(stderr, "baton serve: %s has problems: not starting\n", cfg->project_file);
            prj_problems_fini(&problems);
            return 1;
        }
        prj_problems_fini(&problems);
    }
    bt_err err = {0};
    sigv4_keys *keys = NULL;
    if (cfg->credentials) {
        keys = sigv4_keys_load(cfg->credentials, &err);
        if (keys == NULL) {
            fprintf(stderr, "baton serve: %s\n", err.msg);
            project_free(proj);
            return 1;
        }
    } else if (!is_loopback(host)) {
        if (!cfg->insecure) {
            fprintf(stderr,
                    "baton serve: listening on %s lets other machines in: give --credentials "
                    "FILE (lines \"ACCESS_KEY SECRET\"; every request must then be signed "
                    "by one of them), or --insecure to accept any request from anyone\n",
                    host);
            project_free(proj);
            return 1;
        }
        fprintf(stderr,
                "baton serve: WARNING: --insecure: listening on %s and accepting "
                "unsigned requests from anyone who can reach it\n",
                host);
    }
    store_migration extra[] = {{2, queue_schema_v1},
                               {FN_SCHEMA_VERSION, fn_schema_v1},
                               {FN_INTEG_SCHEMA_VERSION, fn_integ_schema_v1},
                               {TRIGGER_SCHEMA_VERSION, trigger_schema_v1},
                               {PROJECT_SCHEMA_VERSION, project_schema_v1},
                               {SCHED_SCHEMA_VERSION, sched_schema_v1},
                               {TOPIC_SCHEMA_VERSION, topic_schema_v1},
                               {TOPIC_MESSAGE_SCHEMA_VERSION, topic_schema_v2},
                               {APPROVAL_SCHEMA_VERSION, approval_schema_v1},
                               {APPROVAL_SCHEMA_V2_VERSION, approval_schema_v2},
                               {ROUTE_SCHEMA_VERSION, route_schema_v1}};
    /* Everything opened below is closed at `out`, in the order a normal stop takes. */
    int rc = 1;
    queue_service *queues = NULL;
    fn_service *functions = NULL;
    trigger_service *triggers = NULL;
    sched_service *sched = NULL;
    topic_service *topics = NULL;
    approval_service *approvals = NULL;
    route_table *route_tbl = NULL;
    project_runtime *prt = NULL;
    api_router *rt = NULL;
    api_routes *user_routes = NULL;
    api_sched_targets *sched_targets = NULL;
    http_server *http = NULL;
    char url[300] = "";
    server *srv = server_new(&cfg->server, extra, sizeof extra / sizeof extra[0], &err);
    if (srv == NULL || (queues = queue_service_new(srv, &err)) == NULL ||
        (functions = fn_service_new(srv, &err)) == NULL) {
        fprintf(stderr, "baton serve: %s\n", err.msg);
        goto out;
    }
    /* Functions start through this binary (they die with it: fn/spawn.c), and sign their
     * calls back to Baton with the first key of --credentials when there is one. */
    char self[4096];
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (self_len > 0) {
        self[self_len] = '\0';
        fn_set_launcher(functions, self);
    }
    const char *access_key, *secret;
    if (sigv4_keys_first(keys, &access_key, &secret))
        fn_set_credentials(functions, access_key, secret);
    if ((triggers = trigger_service_new(srv, queues, functions, &err)) == NULL ||
        (sched = sched_service_new(srv, &err)) == NULL ||
        (topics = topic_service_new(srv, queues, functions, &err)) == NULL ||
        (approvals = approval_service_new(srv, topics, &err)) == NULL) {
        fprintf(stderr, "baton serve: %s\n", err.msg);
        goto out;
    }
    sched_targets = api_sched_targets_new(sched, queues, functions, topics);
    server_add_integ(srv, approval_integ(approvals));
    server_add_integ(srv, queue_integ(queues));
    server_add_integ(srv, fn_integ(srv, functions));
    server_add_integ(srv, topic_integ(topics));
    route_tbl = route_table_new();
    if (route_table_load_key(route_tbl, server_get_config(srv)->data_dir, &err) != 0) {
        fprintf(stderr, "baton serve: %s\n", err.msg);
        goto out;
    }
    if (proj) {
        project_services svc = {.srv = srv,
                                .queues = queues,
                                .fns = functions,
                                .triggers = triggers,
                                .sched = sched,
                                .topics = topics,
                                .routes = route_tbl,
                                .applied = approvals_applied,
                                .applied_ctx = approvals};
        prt = project_runtime_new(&svc, cfg->project_file, &err);
        if (prt == NULL) {
            fprintf(stderr, "baton serve: %s\n", err.msg);
            goto out;
        }
        project_apply(prt, proj); /* takes proj */
        proj = NULL;
        project_runtime_watch(prt);
    }
    rt = api_router_new(srv, queues, keys);
    api_router_set_lambda(rt, api_lambda, functions, triggers);
    api_router_set_sched(rt, sched);
    api_router_set_topics(rt, topics);
    user_routes = api_routes_new(srv, route_tbl, functions);
    api_router_set_routes(rt, user_routes);
    api_router_set_approvals(rt, approvals);
    http_config hc = {.host = host, .port = port, .threads = cfg->http_threads};
    http = http_start(&hc, api_router_handle, rt, &err);
    if (http == NULL) {
        fprintf(stderr, "baton serve: cannot listen on %s: %s\n", listen, err.msg);
        goto out;
    }
    bool v6 = strchr(host, ':') != NULL;
    snprintf(url, sizeof url, v6 ? "http://[%s]:%d" : "http://%s:%d", host, http_port(http));
    server_set_endpoint(srv, url);
    const server_config *sc = server_get_config(srv);
    printf("Baton is serving at %s (data: %s, region %s, account %s)\n", url, sc->data_dir,
           sc->region, sc->account);
    /* Where the mail of topics and approvals lands without smtp (api/outbox.c). */
    printf("Outbox: %s/outbox\n", url);
    fflush(stdout);
    server_log(srv, SERVER_LOG_INFO, "serve", "endpoint=%s data=%s", url, sc->data_dir);

    rc = server_run(srv);
    http_stop(http);
out:
    api_router_free(rt);
    project_runtime_free(prt);
    approval_service_free(approvals);
    sched_service_free(sched);
    api_sched_targets_free(sched_targets);
    topic_service_free(topics);
    trigger_service_free(triggers);
    fn_service_free(functions);
    /* After the functions: an invocation failed as they stop still reaches its route. */
    api_routes_free(user_routes);
    route_table_free(route_tbl);
    queue_service_free(queues);
    if (http != NULL)
        server_log(srv, SERVER_LOG_INFO, "stopped", "endpoint=%s", url);
    server_free(srv);
    sigv4_keys_free(keys);
    project_free(proj);
    return rc;
}
