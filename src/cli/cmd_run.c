/*
 * cmd_run.c — `baton run DEFINITION`: one execution in-process, no server. Loads and
 * validates the definition (a rejected one prints CREATE_FAILED), runs it with the local
 * driver (engine/local.h), answers Task states from --mock, and prints the result —
 * human-readable, or with --json one DescribeExecution-shaped object. Exit 0 only when the
 * execution succeeded and its result could be written: a value nested deeper than
 * BT_JSON_MAX_DEPTH is reported on stderr and exits 1, and nothing of the result is printed.
 */
#include "asl/asl.h"
#include "base/alloc.h"
#include "base/diag.h"
#include "base/file.h"
#include "base/json.h"
#include "base/rand.h"
#include "base/timefmt.h"
#include "cli/cli.h"
#include "engine/exec.h"
#include "engine/local.h"
#include "integ/integ.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNT "123456789012"
#define REGION  "us-east-1"

typedef struct run_opts {
    const char *definition;
    const char *input;
    const char *input_file;
    const char *name;
    const char *execution_name;
    const char *mock;
    const char *mock_case;
    const char *role_arn;
    int as_json;
    int with_history;
    int virtual_clock;
    int has_seed;
    uint64_t seed;
} run_opts;

static int parse_args(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field)                                                                                \
    do {                                                                                           \
        if (v == NULL) {                                                                           \
            fprintf(stderr, "baton run: %s needs a value\n", a);                                   \
            return -1;                                                                             \
        }                                                                                          \
        o->field = v;                                                                              \
        i++;                                                                                       \
    } while (0)
        if (strcmp(a, "--input") == 0)
            TAKE(input);
        else if (strcmp(a, "--input-file") == 0)
            TAKE(input_file);
        else if (strcmp(a, "--name") == 0)
            TAKE(name);
        else if (strcmp(a, "--execution-name") == 0)
            TAKE(execution_name);
        else if (strcmp(a, "--mock") == 0)
            TAKE(mock);
        else if (strcmp(a, "--mock-case") == 0)
            TAKE(mock_case);
        else if (strcmp(a, "--role-arn") == 0)
            TAKE(role_arn);
        else if (strcmp(a, "--json") == 0)
            o->as_json = 1;
        else if (strcmp(a, "--history") == 0)
            o->with_history = 1;
        else if (strcmp(a, "--clock") == 0) {
            if (v == NULL || (strcmp(v, "real") != 0 && strcmp(v, "virtual") != 0)) {
                fprintf(stderr, "baton run: --clock takes 'real' or 'virtual'\n");
                return -1;
            }
            o->virtual_clock = strcmp(v, "virtual") == 0;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (v == NULL) {
                fprintf(stderr, "baton run: --seed needs a value\n");
                return -1;
            }
            o->seed = strtoull(v, NULL, 10);
            o->has_seed = 1;
            i++;
        } else if (a[0] != '-' && o->definition == NULL)
            o->definition = a;
        else {
            fprintf(stderr, "baton run: unexpected argument '%s'\n", a);
            return -1;
        }
#undef TAKE
    }
    if (o->definition == NULL) {
        fprintf(stderr, "usage: baton run DEFINITION [--input JSON | --input-file FILE] "
                        "[--name NAME] [--json] [--history] [--mock FILE] "
                        "[--clock real|virtual]\n");
        return -1;
    }
    if (o->input && o->input_file) {
        fprintf(stderr, "baton run: give --input or --input-file, not both\n");
        return -1;
    }
    return 0;
}

/* The state machine name: --name, else the definition's file name without extension. */
static char *machine_name(const run_opts *o)
{
    if (o->name)
        return bt_xstrdup(o->name);
    const char *base = strrchr(o->definition, '/');
    base = base ? base + 1 : o->definition;
    const char *dot = strrchr(base, '.');
    return bt_xstrndup(base, dot ? (size_t)(dot - base) : strlen(base));
}

static void report_too_deep(const char *what)
{
    fprintf(stderr, "baton run: cannot write the %s: %s\n", what, BT_JSON_TOO_DEEP);
}

/* Prints o on one line; -1 (after saying so on stderr) when it is too deep to write. */
static int print_json(json_t *o, const char *what)
{
    char *s = bt_json_dumps(o);
    if (s == NULL) {
        report_too_deep(what);
        return -1;
    }
    puts(s);
    free(s);
    return 0;
}

static int fail_create(const run_opts *o, const char *error, const char *cause)
{
    if (o->as_json) {
        json_t *r = json_object();
        json_object_set_new(r, "status", json_string("CREATE_FAILED"));
        json_object_set_new(r, "error", json_string(error));
        json_object_set_new(r, "cause", json_string(cause));
        print_json(r, "result");
        json_decref(r);
    } else {
        fprintf(stderr, "%s: %s\n", error, cause);
    }
    return 1;
}

static json_t *epoch_seconds(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    int rc = 1;
    char *sm_name = machine_name(&o), *def_text = NULL, *input_text = NULL;
    char *sm_arn = NULL, *ex_arn = NULL, *ex_name = NULL;
    asl_machine *m = NULL;
    json_t *input = NULL, *mock_cfg = NULL;
    exec *e = NULL;
    integ mock = {0};
    bt_diag diag;
    bt_diag_init(&diag);

    size_t def_len;
    def_text = bt_read_file(o.definition, &def_len);
    if (def_text == NULL) {
        fprintf(stderr, "baton run: cannot read %s: %s\n", o.definition, strerror(errno));
        rc = 2;
        goto out;
    }
    if (asl_load_text(def_text, def_len, &m, &diag) != 0) {
        char *msg = bt_diag_format(&diag);
        rc = fail_create(&o, "InvalidDefinition", msg);
        free(msg);
        goto out;
    }

    if (o.input_file) {
        input_text = bt_read_file(o.input_file, NULL);
        if (input_text == NULL) {
            fprintf(stderr, "baton run: cannot read %s: %s\n", o.input_file, strerror(errno));
            rc = 2;
            goto out;
        }
    } else {
        input_text = bt_xstrdup(o.input ? o.input : "{}");
    }
    json_error_t jerr;
    input = json_loads(input_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (input == NULL) {
        fprintf(stderr, "InvalidExecutionInput: Invalid State Machine Execution Input: '%s'\n",
                jerr.text);
        rc = 2;
        goto out;
    }

    if (o.mock) {
        char *errmsg = NULL;
        mock_cfg = json_load_file(o.mock, 0, &jerr);
        if (mock_cfg == NULL) {
            fprintf(stderr, "baton run: %s:%d: %s\n", o.mock, jerr.line, jerr.text);
            rc = 2;
            goto out;
        }
        if (integ_mock_new(mock_cfg, sm_name, o.mock_case, &mock, &errmsg) != 0) {
            fprintf(stderr, "baton run: %s: %s\n", o.mock, errmsg);
            free(errmsg);
            rc = 2;
            goto out;
        }
    }

    bt_rand seed_rng;
    bt_rand_seed_os(&seed_rng);
    uint64_t seed = o.has_seed ? o.seed : bt_rand_next(&seed_rng);
    if (o.execution_name) {
        ex_name = bt_xstrdup(o.execution_name);
    } else {
        bt_rand name_rng;
        bt_rand_seed(&name_rng, seed ^ 0x5eedULL);
        char uuid[37];
        if (o.has_seed)
            bt_uuid_from_rand(&name_rng, uuid);
        else
            bt_uuid_from_rand(&seed_rng, uuid);
        ex_name = bt_xstrdup(uuid);
    }
    sm_arn = bt_xasprintf("arn:aws:states:%s:%s:stateMachine:%s", REGION, ACCOUNT, sm_name);
    ex_arn =
        bt_xasprintf("arn:aws:states:%s:%s:execution:%s:%s", REGION, ACCOUNT, sm_name, ex_name);
    char *role = o.role_arn ? bt_xstrdup(o.role_arn)
                            : bt_xasprintf("arn:aws:iam::%s:role/baton-local", ACCOUNT);
    exec_config cfg = {
        .name = ex_name,
        .arn = ex_arn,
        .sm_arn = sm_arn,
        .sm_name = sm_name,
        .role_arn = role,
        .region = REGION,
        .start_ms = local_now_ms(),
        .seed = seed,
    };
    e = exec_new(m, input, &cfg);
    free(role);
    local_run(e, mock.ops ? &mock : NULL, mock.ops ? 1 : 0, o.virtual_clock);

    exec_status st = exec_get_status(e);
    rc = st == EXEC_SUCCEEDED ? 0 : 1;
    char *out_text = NULL;
    json_t *events = NULL;
    if (st == EXEC_SUCCEEDED && (out_text = bt_json_dumps(exec_output(e))) == NULL) {
        report_too_deep("execution output");
        rc = 1;
        goto out;
    }
    if (o.with_history && (events = history_to_json(exec_history(e), 1)) == NULL) {
        report_too_deep("execution history");
        free(out_text);
        rc = 1;
        goto out;
    }
    if (o.as_json) {
        json_t *r = json_object();
        json_object_set_new(r, "executionArn", json_string(ex_arn));
        json_object_set_new(r, "stateMachineArn", json_string(sm_arn));
        json_object_set_new(r, "name", json_string(ex_name));
        json_object_set_new(r, "status", json_string(exec_status_name(st)));
        json_object_set_new(r, "startDate", epoch_seconds(exec_start_ms(e)));
        json_object_set_new(r, "stopDate", epoch_seconds(exec_stop_ms(e)));
        char *in = bt_json_dumps(input); /* parsed by jansson, so never too deep */
        json_object_set_new(r, "input", json_string(in ? in : "null"));
        free(in);
        if (out_text)
            json_object_set_new(r, "output", json_string(out_text));
        if (st == EXEC_FAILED || st == EXEC_ABORTED) {
            if (exec_error(e))
                json_object_set_new(r, "error", json_string(exec_error(e)));
            if (exec_cause(e))
                json_object_set_new(r, "cause", json_string(exec_cause(e)));
        }
        if (events)
            json_object_set_new(r, "events", json_incref(events));
        if (print_json(r, "result") != 0)
            rc = 1;
        json_decref(r);
    } else {
        /* render every history line first: print all of the result or none of it */
        size_t n_lines = json_array_size(events);
        char **lines = bt_xcalloc(n_lines ? n_lines : 1, sizeof(*lines));
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev)
        {
            if ((lines[i] = bt_json_dumps(ev)) == NULL) {
                report_too_deep("execution history");
                rc = 1;
                break;
            }
        }
        if (i == n_lines) {
            printf("status: %s\n", exec_status_name(st));
            if (out_text)
                printf("output: %s\n", out_text);
            if (exec_error(e))
                printf("error: %s\n", exec_error(e));
            if (exec_cause(e))
                printf("cause: %s\n", exec_cause(e));
            if (o.with_history) {
                printf("history:\n");
                for (size_t k = 0; k < n_lines; k++)
                    printf("  %s\n", lines[k]);
            }
        }
        for (size_t k = 0; k < n_lines; k++)
            free(lines[k]);
        free(lines);
    }
    free(out_text);
    json_decref(events);

out:
    exec_free(e);
    integ_free(&mock);
    json_decref(mock_cfg);
    json_decref(input);
    asl_machine_unref(m);
    bt_diag_fini(&diag);
    free(def_text);
    free(input_text);
    free(sm_name);
    free(sm_arn);
    free(ex_arn);
    free(ex_name);
    return rc;
}
