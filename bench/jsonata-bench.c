/*
 * jsonata-bench.c — evaluations per second of one JSONata expression: compiled once, then
 * evaluated back to back (jn_eval, standard library, default limits) for a bounded time
 * against one parsed input, each result released. bench/jsonata.py runs it beside the
 * reference (bench/jsonata-peer.mjs) and prints the table of bench/README.md.
 *
 *     jsonata-bench --jsonata-file F [--input-file F] [--bindings-file F] [--seconds S]
 *
 * Prints one JSON line: {"evals": N, "seconds": S, "evals_per_s": R, "result": V}
 * ({"undefined": true} instead of "result" when the value is undefined), or
 * {"error": {"code": C, "message": M}} and exit status 1.
 */
#include "base/file.h"
#include "jsonata/jsonata.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fputs("usage: jsonata-bench --jsonata-file F [--input-file F] [--bindings-file F]\n"
          "                     [--seconds S]\n"
          "  --seconds S   time spent evaluating, after one warm-up evaluation (default 2)\n",
          stderr);
    exit(2);
}

static json_t *load_json(const char *path)
{
    json_error_t jerr;
    json_t *v = json_load_file(path, JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        fprintf(stderr, "jsonata-bench: %s:%d: %s\n", path, jerr.line, jerr.text);
        exit(2);
    }
    return v;
}

static int fail(jn_error *err)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", err->code, "message",
                          err->message ? err->message : "");
    char *s = json_dumps(o, JSON_COMPACT);
    puts(s ? s : "{}");
    free(s);
    json_decref(o);
    jn_error_fini(err);
    return 1;
}

int main(int argc, char **argv)
{
    const char *expr_path = NULL, *input_path = NULL, *bindings_path = NULL;
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(a, "--jsonata-file") == 0)
            expr_path = v;
        else if (strcmp(a, "--input-file") == 0)
            input_path = v;
        else if (strcmp(a, "--bindings-file") == 0)
            bindings_path = v;
        else if (strcmp(a, "--seconds") == 0) {
            char *end;
            seconds = strtod(v, &end);
            if (*end != '\0' || !(seconds > 0))
                usage();
        } else
            usage();
        i++;
    }
    if (expr_path == NULL)
        usage();

    size_t len;
    char *text = bt_read_file(expr_path, &len);
    if (text == NULL) {
        fprintf(stderr, "jsonata-bench: cannot read %s: %s\n", expr_path, strerror(errno));
        return 2;
    }
    json_t *input = input_path ? load_json(input_path) : NULL;
    json_t *bindings = bindings_path ? load_json(bindings_path) : NULL;

    jn_expr *e;
    jn_error err = {0};
    if (jn_compile(text, len, &e, &err) != 0)
        return fail(&err);
    free(text);

    json_t *first;
    if (jn_eval(e, input, bindings, NULL, NULL, &first, &err) != 0)
        return fail(&err); /* the warm-up, not counted */

    unsigned long n = 0;
    double t0 = now_s(), t1;
    do {
        json_t *r;
        if (jn_eval(e, input, bindings, NULL, NULL, &r, &err) != 0)
            return fail(&err);
        json_decref(r);
        n++;
        t1 = now_s();
    } while (t1 - t0 < seconds);

    json_t *o = json_pack("{s:I,s:f,s:f}", "evals", (json_int_t)n, "seconds", t1 - t0,
                          "evals_per_s", (double)n / (t1 - t0));
    if (first)
        json_object_set_new(o, "result", first);
    else
        json_object_set_new(o, "undefined", json_true());
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    puts(s ? s : "{}");
    free(s);
    json_decref(o);
    json_decref(input);
    json_decref(bindings);
    jn_expr_free(e);
    return 0;
}
