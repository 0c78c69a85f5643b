/*
 * cmd_fn.c — the function verbs against `baton serve`: `baton logs FUNCTION` prints what a
 * function printed (GET /baton/functions/{name}/logs; --follow asks again every second for
 * what came since), `baton invoke FUNCTION` calls Lambda's Invoke and prints the answer. Plain
 * HTTP through libcurl, signed (cli_sign.c: the environment's keys). Exit statuses
 * as the client verbs': 252 usage, 254 the service refused, 255 no answer.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ENDPOINT "http://127.0.0.1:8083"

typedef struct fn_args {
    const char *name;
    const char *endpoint;
    const char *payload;
    long lines;
    bool follow;
} fn_args;

bool cmd_fn_is_verb(const char *verb)
{
    return strcmp(verb, "logs") == 0 || strcmp(verb, "invoke") == 0;
}

void cmd_fn_usage(FILE *f)
{
    fputs("  logs FUNCTION [--lines N] [--follow] [--endpoint URL]\n"
          "                      print the last N lines (100) a function printed, with\n"
          "                      Lambda's START/END/REPORT lines; --follow keeps printing\n"
          "  invoke FUNCTION [--payload JSON] [--endpoint URL]\n"
          "                      invoke a function (Lambda's Invoke) and print its answer;\n"
          "                      exit 254 when the function failed\n",
          f);
}

static char *escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy = bt_xstrdup(e);
    curl_free(e);
    return copy;
}

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int run_logs(const fn_args *args)
{
    char *name = escape(args->name);
    int64_t since = 0;
    long lines = args->lines;
    for (;;) {
        int64_t asked = now_ms();
        char *url = bt_xasprintf("%s/baton/functions/%s/logs?lines=%ld&since=%lld", args->endpoint,
                                 name, lines, (long long)since);
        cli_http_answer a;
        int rc = cli_http(url, NULL, 0, &a);
        free(url);
        if (rc != EXIT_OK) {
            free(name);
            return rc;
        }
        fwrite(a.body.data ? a.body.data : "", 1, a.body.len, stdout);
        fflush(stdout);
        bt_buf_fini(&a.body);
        if (!args->follow)
            break;
        since = asked;
        lines = 10000;
        sleep(1);
    }
    free(name);
    return EXIT_OK;
}

static int run_invoke(const fn_args *args)
{
    char *name = escape(args->name);
    char *url = bt_xasprintf("%s/2015-03-31/functions/%s/invocations", args->endpoint, name);
    free(name);
    cli_http_answer a;
    int rc = cli_http(url, args->payload ? args->payload : "{}", 0, &a);
    free(url);
    if (rc != EXIT_OK)
        return rc;
    fwrite(a.body.data ? a.body.data : "", 1, a.body.len, stdout);
    fputc('\n', stdout);
    bt_buf_fini(&a.body);
    return a.function_error ? EXIT_SERVICE : EXIT_OK;
}

int cmd_fn(int argc, char **argv)
{
    const char *verb = argv[0];
    fn_args args = {.lines = 100};
    const char *env = getenv("BATON_ENDPOINT");
    args.endpoint = env && *env ? env : DEFAULT_ENDPOINT;
    bool logs = strcmp(verb, "logs") == 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cmd_fn_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--endpoint") == 0 && has_value) {
            args.endpoint = argv[++i];
        } else if (logs && strcmp(a, "--lines") == 0 && has_value) {
            char *end;
            args.lines = strtol(argv[++i], &end, 10);
            if (*end != '\0' || args.lines < 1 || args.lines > 100000) {
                fprintf(stderr, "baton logs: --lines wants a number from 1 to 100000\n");
                return EXIT_USAGE;
            }
        } else if (logs && strcmp(a, "--follow") == 0) {
            args.follow = true;
        } else if (!logs && strcmp(a, "--payload") == 0 && has_value) {
            args.payload = argv[++i];
        } else if (a[0] != '-' && args.name == NULL) {
            args.name = a;
        } else {
            fprintf(stderr, "baton %s: unexpected argument '%s'\n\n", verb, a);
            cmd_fn_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (args.name == NULL) {
        fprintf(stderr, "baton %s: which function? (baton %s FUNCTION)\n", verb, verb);
        return EXIT_USAGE;
    }
    size_t el = strlen(args.endpoint);
    char *endpoint = bt_xstrndup(args.endpoint, el && args.endpoint[el - 1] == '/' ? el - 1 : el);
    args.endpoint = endpoint;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = logs ? run_logs(&args) : run_invoke(&args);
    curl_global_cleanup();
    free(endpoint);
    return rc;
}
