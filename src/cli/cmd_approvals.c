/*
 * cmd_approvals.c — `baton approvals`: a running server's approval decisions, newest first
 * (GET /baton/approvals): one line per decision (time, approver, decision, the request's
 * outcome so far, execution and state, IP, comment), then the requests still pending; or
 * the server's JSON as it is with --json. HTTP through libcurl, signed (cli_sign.c: the
 * environment's keys). Exit statuses as the client verbs: 0, 252 usage, 254 refused, 255
 * no answer.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_approvals_usage(FILE *f)
{
    fputs("  approvals [--json] [--endpoint URL]\n"
          "                      approval decisions (who, when, from where) and open requests\n",
          f);
}

static const char *s(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "-";
}

static void print(json_t *doc)
{
    json_t *list = json_object_get(doc, "Decisions");
    if (json_array_size(list) == 0)
        printf("No decisions yet.\n");
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        const char *comment = json_string_value(json_object_get(d, "Comment"));
        printf("%s  %-8s  %s  (request %s)  %s / %s  from %s%s%s\n", s(d, "Time"), s(d, "Decision"),
               s(d, "Approver"), s(d, "Outcome"), s(d, "ExecutionArn"), s(d, "StateName"),
               s(d, "Ip"), comment ? "  comment: " : "", comment ? comment : "");
    }
    bool any = false;
    json_array_foreach(json_object_get(doc, "Requests"), i, d)
    {
        if (strcmp(s(d, "Status"), "pending") != 0)
            continue;
        if (!any)
            printf("\nWaiting for a decision:\n");
        any = true;
        printf("  %s / %s  \"%s\"  %lld needed, expires %s\n", s(d, "ExecutionArn"),
               s(d, "StateName"), s(d, "Subject"),
               (long long)json_integer_value(json_object_get(d, "Required")), s(d, "ExpiresAt"));
    }
}

int cmd_approvals(int argc, char **argv)
{
    const char *endpoint = getenv("BATON_ENDPOINT");
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            cmd_approvals_usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "baton approvals: unknown option '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (endpoint == NULL || endpoint[0] == '\0')
        endpoint = "http://127.0.0.1:8083";
    char *url = cli_url(endpoint, "/baton/approvals");
    cli_http_answer a;
    int rc = cli_http(url, NULL, 60, &a);
    free(url);
    if (rc != EXIT_OK)
        return rc;
    const bt_buf body = a.body;
    if (as_json) {
        fwrite(body.data ? body.data : "", 1, body.len, stdout);
        putchar('\n');
    } else {
        json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
        print(doc);
        json_decref(doc);
    }
    bt_buf_fini(&a.body);
    return EXIT_OK;
}
