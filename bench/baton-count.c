/*
 * baton-count.c — a fixed amount of engine work, for counting instructions rather than
 * timing them: `baton-count WORKLOAD N` runs N executions of bench/workloads/WORKLOAD.json
 * (its input from inputs.json) to their end with the virtual clock, or, for `callback`, N
 * executions that park on their task token and are answered. Used under
 * `valgrind --tool=callgrind` at N and 2N: the difference divided by N is the cost of one
 * execution without the set-up, and it does not move with the load of a shared machine.
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "base/file.h"
#include "engine/exec.h"
#include "engine/local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BT_BENCH_WORKLOADS
#define BT_BENCH_WORKLOADS "bench/workloads"
#endif

static int fail(const char *what)
{
    fprintf(stderr, "baton-count: %s\n", what);
    return 2;
}

/* Parks e on its callback task and answers it; false if it did not park. */
static bool answer_callback(exec *e, int64_t now)
{
    while (exec_advance(e, now, 0))
        ;
    exec_effects fx;
    exec_take_effects(e, &fx);
    uint64_t id = 0;
    for (size_t i = 0; i < fx.n_items; i++)
        if (fx.items[i].kind == EXEC_EFFECT_TASK_START)
            id = fx.items[i].id;
    json_t *out = json_loads("{\"ok\":true}", 0, NULL);
    int rc = exec_task_succeed(e, id, out, now);
    json_decref(out);
    while (exec_advance(e, now, 0))
        ;
    return rc == 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fail("usage: baton-count WORKLOAD N");
    const char *name = argv[1];
    long n = strtol(argv[2], NULL, 10);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.json", BT_BENCH_WORKLOADS, name);
    size_t len = 0;
    char *text = bt_read_file(path, &len);
    if (text == NULL)
        return fail("cannot read the workload");
    bt_diag d;
    bt_diag_init(&d);
    asl_machine *m = NULL;
    int rc = asl_load_text(text, len, &m, &d);
    free(text);
    bt_diag_fini(&d);
    if (rc != 0)
        return fail("the workload is not a valid definition");
    snprintf(path, sizeof(path), "%s/inputs.json", BT_BENCH_WORKLOADS);
    json_t *inputs = json_load_file(path, 0, NULL);
    json_t *input = json_object_get(inputs, name);
    size_t nlen = strlen(name);
    if (input == NULL && nlen > 8 && strcmp(name + nlen - 8, "-jsonata") == 0) {
        char twin[128]; /* a JSONata twin runs on its JSONPath twin's input */
        snprintf(twin, sizeof(twin), "%.*s", (int)(nlen - 8), name);
        input = json_object_get(inputs, twin);
    }
    if (input == NULL)
        input = json_object_get(inputs, "callback");
    if (input == NULL)
        return fail("inputs.json has no input for the workload");
    bool callback = strcmp(name, "callback") == 0;
    for (long i = 0; i < n; i++) {
        exec_config cfg = {.name = "count",
                           .arn = "arn:aws:states:us-east-1:123456789012:execution:count:count",
                           .sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:count",
                           .sm_name = "count",
                           .start_ms = 1700000000000LL,
                           .seed = (uint64_t)i + 1};
        exec *e = exec_new(m, input, &cfg);
        if (callback ? !answer_callback(e, cfg.start_ms) : (local_run(e, NULL, 0, true), false))
            return fail("the callback execution did not park on its task");
        if (exec_get_status(e) != EXEC_SUCCEEDED)
            return fail("an execution did not succeed");
        exec_free(e);
    }
    json_decref(inputs);
    asl_machine_unref(m);
    return 0;
}
