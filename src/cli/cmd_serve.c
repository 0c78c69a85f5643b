/*
 * cmd_serve.c — `baton serve`: runs the server until SIGTERM or SIGINT (SIGHUP re-reads the
 * project file given with --config).
 */
#include "api/serve.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "usage: baton serve [--config FILE] [--listen HOST:PORT] [--data DIR] [--region R]\n"
    "                   [--account N]\n"
    "                   [--log-level error|warn|info|debug] [--sync full|normal]\n"
    "                   [--retention-days N] [--http-threads N] [--max-resident N]\n"
    "                   [--max-open N] [--credentials FILE | --insecure]\n"
    "\n"
    "  --config FILE       the project file (baton.yaml): state machines, functions, queues,\n"
    "                      triggers … it declares are created or updated at the start; a\n"
    "                      file with problems stops the start (see `baton check`); SIGHUP\n"
    "                      re-reads it (with problems: logged, the running setup kept)\n"
    "  --listen HOST:PORT  where to listen (default 127.0.0.1:8083; port 0 picks one);\n"
    "                      beyond loopback it needs --credentials or --insecure\n"
    "  --credentials FILE  lines `ACCESS_KEY SECRET` (mode 0600): every request must carry\n"
    "                      a SigV4 signature by one of them (15 minutes of clock skew)\n"
    "  --insecure          listen beyond loopback and take unsigned requests (loudly)\n"
    "  --data DIR          the data folder: one SQLite store (default ./baton-data)\n"
    "  --region R          the region in ARNs (default us-east-1)\n"
    "  --account N         the account in ARNs (default 123456789012)\n"
    "  --log-level L       structured logs on stderr (default info)\n"
    "  --sync full|normal  full: every commit survives power loss (default); normal:\n"
    "                      survives a crash of the process, not of the machine\n"
    "  --retention-days N  how long closed executions are kept (default 90, as AWS; a\n"
    "                      fraction such as 0.5 is allowed)\n"
    "  --http-threads N    threads reading requests (default 2)\n"
    "  --max-open N        open executions at most (default 1000000, AWS's quota); beyond\n"
    "                      it StartExecution fails with ExecutionLimitExceeded\n"
    "  --max-resident N    parked executions kept in memory (default 1024); the others\n"
    "                      wait in the store and are loaded when a callback or timer comes\n";

static int level_of(const char *s, server_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (server_log_level)i;
            return 0;
        }
    return -1;
}

int cmd_serve(int argc, char **argv)
{
    api_serve_config cfg = {
        .server = {.listen = "127.0.0.1:8083",
                   .data_dir = "./baton-data",
                   .region = "us-east-1",
                   .account = "123456789012",
                   .log_level = SERVER_LOG_INFO,
                   .retention_days = 90},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(serve_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--insecure") == 0) {
            cfg.insecure = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "baton serve: unknown option or missing value: '%s'\n\n%s", a,
                    serve_usage);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--listen") == 0)
            cfg.server.listen = v;
        else if (strcmp(a, "--config") == 0)
            cfg.project_file = v;
        else if (strcmp(a, "--credentials") == 0)
            cfg.credentials = v;
        else if (strcmp(a, "--data") == 0)
            cfg.server.data_dir = v;
        else if (strcmp(a, "--region") == 0)
            cfg.server.region = v;
        else if (strcmp(a, "--account") == 0)
            cfg.server.account = v;
        else if (strcmp(a, "--log-level") == 0) {
            if (level_of(v, &cfg.server.log_level) != 0) {
                fprintf(stderr, "baton serve: --log-level is error, warn, info or debug\n");
                return 2;
            }
        } else if (strcmp(a, "--sync") == 0) {
            if (strcmp(v, "full") != 0 && strcmp(v, "normal") != 0) {
                fprintf(stderr, "baton serve: --sync is full or normal\n");
                return 2;
            }
            cfg.server.sync_normal = strcmp(v, "normal") == 0;
        } else if (strcmp(a, "--retention-days") == 0) {
            char *end;
            double d = strtod(v, &end);
            if (*end != '\0' || !(d > 0) || d > 36500) {
                fprintf(stderr, "baton serve: --retention-days wants a positive number of days "
                                "(fractions allowed)\n");
                return 2;
            }
            cfg.server.retention_days = d;
        } else if (strcmp(a, "--http-threads") == 0 || strcmp(a, "--max-resident") == 0 ||
                   strcmp(a, "--max-open") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end != '\0' || n < 1 || n > 100000000) {
                fprintf(stderr, "baton serve: %s wants a positive number\n", a);
                return 2;
            }
            if (a[2] == 'h')
                cfg.http_threads = (unsigned)n;
            else if (strcmp(a, "--max-open") == 0)
                cfg.server.max_open = (size_t)n;
            else
                cfg.server.max_resident = (size_t)n;
        } else {
            fprintf(stderr, "baton serve: unknown option '%s'\n\n%s", a, serve_usage);
            return 2;
        }
    }
    return api_serve(&cfg);
}
