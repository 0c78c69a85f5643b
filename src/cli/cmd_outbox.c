/*
 * cmd_outbox.c — `baton outbox`: the mail in a running server's outbox (GET /outbox as
 * JSON), newest first: one block per mail (time, recipient, subject, then the body), or the
 * server's JSON as it is with --json; --deliveries lists the topics' deliveries with their
 * status instead. HTTP through libcurl, signed (cli_sign.c: the environment's keys). Exit
 * statuses as the client verbs: 0, 252 usage, 254 refused, 255 no answer.
 */
#include "base/alloc.h"
#include "base/buf.h"
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_outbox_usage(FILE *f)
{
    fputs("  outbox [--json] [--deliveries] [--endpoint URL]\n"
          "                      the mail the server's topics sent to its outbox\n",
          f);
}

static void print_mail(json_t *m)
{
    printf("#%lld  %s  to %s\nSubject: %s\n\n%s\n",
           (long long)json_integer_value(json_object_get(m, "Id")),
           json_string_value(json_object_get(m, "Time")),
           json_string_value(json_object_get(m, "To")),
           json_string_value(json_object_get(m, "Subject")),
           json_string_value(json_object_get(m, "Body")));
}

static void print_delivery(json_t *d)
{
    const char *err = json_string_value(json_object_get(d, "LastError"));
    printf("#%lld  %-9s  %-10s  %s  attempts=%lld%s%s\n",
           (long long)json_integer_value(json_object_get(d, "Id")),
           json_string_value(json_object_get(d, "Status")),
           json_string_value(json_object_get(d, "Protocol")),
           json_string_value(json_object_get(d, "Endpoint")),
           (long long)json_integer_value(json_object_get(d, "Attempts")), err ? "  error: " : "",
           err ? err : "");
}

int cmd_outbox(int argc, char **argv)
{
    const char *endpoint = getenv("BATON_ENDPOINT");
    bool as_json = false, deliveries = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "--deliveries") == 0) {
            deliveries = true;
        } else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            cmd_outbox_usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "baton outbox: unknown option '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (endpoint == NULL || endpoint[0] == '\0')
        endpoint = "http://127.0.0.1:8083";
    char *url = cli_url(endpoint, deliveries ? "/baton/deliveries" : "/outbox?format=json");
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
        json_t *list = json_object_get(doc, deliveries ? "Deliveries" : "Mails");
        if (json_array_size(list) == 0)
            printf(deliveries ? "No deliveries.\n" : "The outbox is empty.\n");
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            if (deliveries)
                print_delivery(item);
            else
                print_mail(item);
        }
        json_decref(doc);
    }
    bt_buf_fini(&a.body);
    return EXIT_OK;
}
