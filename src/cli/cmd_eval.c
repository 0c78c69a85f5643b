/*
 * cmd_eval.c — `baton eval`: evaluates one JSONata expression (src/jsonata/) against an
 * input document and prints the value. Exit 0 with a value or undefined, 1 when the
 * expression fails to compile or to evaluate, 2 on usage or I/O errors.
 */
#include "base/alloc.h"
#include "base/file.h"
#include "base/json.h"
#include "cli/cli.h"
#include "jsonata/jsonata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void eval_usage(FILE *f)
{
    fputs("usage: baton eval EXPR | --jsonata-file FILE [--input-file FILE]\n"
          "           [--bindings-file FILE] [--max-depth N] [--time-limit-ms N] [--json]\n"
          "\n"
          "Evaluates a JSONata expression against the input (a JSON document; none given:\n"
          "undefined) and prints its value as JSON.\n"
          "  --jsonata-file FILE  read the expression from FILE\n"
          "  --input-file FILE    the input document\n"
          "  --bindings-file FILE a JSON object of variables (names without $)\n"
          "  --max-depth N        fail with U1001 beyond N nested evaluation steps\n"
          "  --time-limit-ms N    fail with U1001 after N milliseconds\n"
          "  --json               print one object: {\"result\": V}, {\"undefined\": true} or\n"
          "                       {\"error\": {\"code\", \"message\", \"position\"}}\n"
          "Exit 0 with a value or undefined, 1 on a JSONata error, 2 on a usage error.\n",
          f);
}

void cmd_eval_usage(FILE *f)
{
    fputs("  eval EXPR | --jsonata-file FILE [--input-file FILE] [--bindings-file FILE]\n"
          "      [--max-depth N] [--time-limit-ms N] [--json]\n"
          "                      evaluate a JSONata expression and print its value\n",
          f);
}

static json_t *load_json(const char *path)
{
    size_t len;
    char *text = bt_read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr, "baton eval: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
    free(text);
    if (j == NULL)
        fprintf(stderr, "baton eval: %s:%d: %s\n", path, je.line, je.text);
    return j;
}

/* Prints v as the reference's JSON.stringify would (jn_json_dumps); 0, or -1 when v
 * nests too deep to write. */
static int print_value(json_t *v)
{
    char *s = jn_json_dumps(v);
    if (s == NULL) {
        fprintf(stderr, "baton eval: %s\n", BT_JSON_TOO_DEEP);
        return -1;
    }
    puts(s);
    free(s);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *expr_text = NULL, *expr_file = NULL, *input_file = NULL, *bindings_file = NULL;
    bool as_json = false;
    jn_limits limits = JN_LIMITS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            eval_usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            as_json = true;
        } else if (v != NULL && strcmp(a, "--jsonata-file") == 0) {
            expr_file = v;
            i++;
        } else if (v != NULL && strcmp(a, "--input-file") == 0) {
            input_file = v;
            i++;
        } else if (v != NULL && strcmp(a, "--bindings-file") == 0) {
            bindings_file = v;
            i++;
        } else if (v != NULL && strcmp(a, "--max-depth") == 0) {
            limits.max_depth = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (v != NULL && strcmp(a, "--time-limit-ms") == 0) {
            limits.time_limit_ms = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (expr_text == NULL && expr_file == NULL &&
                   (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9'))) {
            expr_text = a;
        } else {
            fprintf(stderr, "baton eval: unexpected argument '%s'\n", a);
            eval_usage(stderr);
            return 2;
        }
    }
    if ((expr_text == NULL) == (expr_file == NULL)) {
        eval_usage(stderr);
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    if (expr_file != NULL) {
        text = bt_read_file(expr_file, &len);
        if (text == NULL) {
            fprintf(stderr, "baton eval: cannot read %s: %s\n", expr_file, strerror(errno));
            return 2;
        }
    } else {
        len = strlen(expr_text);
        text = bt_xstrdup(expr_text);
    }
    json_t *input = NULL, *bindings = NULL;
    int status = 2;
    if (input_file != NULL && (input = load_json(input_file)) == NULL)
        goto out;
    if (bindings_file != NULL && (bindings = load_json(bindings_file)) == NULL)
        goto out;
    jn_expr *e = NULL;
    jn_error err;
    json_t *result = NULL;
    int rc = jn_compile(text, len, &e, &err);
    if (rc == 0)
        rc = jn_eval(e, input, bindings, NULL, &limits, &result, &err);
    if (rc == 0) {
        status = 0;
        if (as_json) {
            json_t *o = json_object();
            if (result != NULL)
                json_object_set(o, "result", result);
            else
                json_object_set_new(o, "undefined", json_true());
            if (print_value(o) != 0)
                status = 1;
            json_decref(o);
        } else if (result != NULL && print_value(result) != 0) {
            status = 1;
        }
        json_decref(result);
    } else {
        status = 1;
        if (as_json) {
            json_t *o =
                json_pack("{s:{s:s,s:s,s:I}}", "error", "code", err.code, "message",
                          err.message ? err.message : "", "position", (json_int_t)err.position);
            if (err.token != NULL)
                json_object_set_new(json_object_get(o, "error"), "token", json_string(err.token));
            print_value(o);
            json_decref(o);
        } else {
            fprintf(stderr, "%s: %s", err.code, err.message ? err.message : "");
            if (err.position >= 0)
                fprintf(stderr, " (at %ld)", err.position);
            fputc('\n', stderr);
        }
        jn_error_fini(&err);
    }
    jn_expr_free(e);
out:
    json_decref(input);
    json_decref(bindings);
    free(text);
    return status;
}
