/*
 * baton-bench.c — the in-process benchmark: runs the workloads of bench/workloads/ through
 * the engine (exec.h, driven as local.h does with a virtual clock, full history kept) on one
 * thread, checks every result, and compares the figures with the anchor measurements of
 * two peer interpreters (bench/README.md). Also measures callbacks, executions parked on a
 * task token (memory and completion rate) and the cold start of the `baton` binary.
 */
#include "asl/asl.h"
#include "base/alloc.h"
#include "base/diag.h"
#include "base/file.h"
#include "engine/exec.h"
#include "engine/local.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BT_BENCH_WORKLOADS
#define BT_BENCH_WORKLOADS "bench/workloads"
#endif

/*
 * Anchor figures of the peers, measured side by side on our 2-core machine, bench/README.md
 * (medians): aws-local-stepfunctions 3.0 on Node 22 ("ALS") and @wmfs/statebox 1.118
 * ("SB"), both in-process, no HTTP, no persistence. NAN: the peer cannot run the workload.
 */
#define ALS_PASS_CHAIN_TPS      123000.0
#define SB_PASS_CHAIN_TPS       79000.0
#define ALS_PASS_CHAIN_1000_TPS 94000.0
#define SB_PASS_CHAIN_1000_TPS  71000.0
#define ALS_CHOICE_LOOP_TPS     102000.0
#define SB_CHOICE_LOOP_TPS      NAN /* no States.MathAdd */
#define ALS_MAP_ITEMS_PS        28100.0
#define SB_MAP_ITEMS_PS         29500.0
#define ALS_CALLBACK_64_PS      28100.0
#define SB_CALLBACK_64_PS       23000.0
#define ALS_CALLBACK_64_P99_US  28.0
#define SB_CALLBACK_64_P99_US   NAN /* not published */
#define ALS_PARKED_KB           7.5
#define SB_PARKED_KB            1.6
#define ALS_PARK_S              3.1
#define SB_PARK_S               1.05
#define ALS_COMPLETIONS_PS      37100.0
#define SB_COMPLETIONS_PS       29800.0
#define ALS_COLD_MS             270.0
#define SB_COLD_MS              100.0
#define ALS_COLD_MIB            97.0
#define SB_COLD_MIB             75.0

#define BATCH          1000   /* "1000 executions at once" */
#define COLD_RUNS      50     /* cold-start samples */
#define MAP_ITEMS      1000.0 /* items per map-1000 execution */
#define ACCOUNT_REGION "us-east-1:123456789012"

typedef struct bench_opts {
    const char *dir;
    double seconds;
    const char *baton;
    bool baton_given;
    bool json;
    bool no_cold;
    long many;
    const char *only;
} bench_opts;

/* One workload: its compiled machine and the input text StartExecution would receive. */
typedef struct workload {
    const char *name;
    asl_machine *m;
    char *input_text;
    char *sm_arn;
} workload;

typedef void (*check_fn)(const exec *e);

/* Throughput of one workload run. */
typedef struct tput {
    uint64_t execs;
    uint64_t transitions;
    uint64_t events;
    double secs;
} tput;

typedef struct callback_res {
    uint64_t n;
    double secs;
    double p50_us, p99_us;
} callback_res;

typedef struct many_res {
    long n;
    double bytes_each;
    double park_s;
    double complete_s;
    double free_s;
} many_res;

typedef struct cold_res {
    int runs;
    double median_ms, p90_ms;
    double max_rss_mib;
    double own_rss_mib; /* this process's RSS when forking: an upper bound of the error */
} cold_res;

static uint64_t g_seq; /* execution counter: names and seeds */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("baton-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    char *s = bt_read_file(path, len);
    if (s == NULL)
        die("cannot read %s: %s", path, strerror(errno));
    return s;
}

/* ---- workloads and checks -------------------------------------------------------------- */

/* Loads dir/name.json; its input is inputs.json's entry input_key. */
static void load_workload(const char *dir, json_t *inputs, const char *name, const char *input_key,
                          workload *w)
{
    char *path = bt_xasprintf("%s/%s.json", dir, name);
    size_t len;
    char *text = read_file(path, &len);
    bt_diag diag;
    bt_diag_init(&diag);
    w->name = name;
    if (asl_load_text(text, len, &w->m, &diag) != 0) {
        char *msg = bt_diag_format(&diag);
        die("%s: rejected: %s", path, msg);
    }
    bt_diag_fini(&diag);
    free(text);
    free(path);
    json_t *in = json_object_get(inputs, input_key);
    if (in == NULL)
        die("inputs.json has no input for '%s'", input_key);
    w->input_text = json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
    if (w->input_text == NULL)
        die("cannot serialise the input of '%s'", name);
    w->sm_arn = bt_xasprintf("arn:aws:states:" ACCOUNT_REGION ":stateMachine:%s", name);
}

static void workload_fini(workload *w)
{
    asl_machine_unref(w->m);
    free(w->input_text);
    free(w->sm_arn);
}

/* Starts one execution as StartExecution would: parses the input text, names it. */
static exec *start_exec(const workload *w, int64_t now_ms)
{
    uint64_t n = ++g_seq;
    char name[32], arn[160];
    snprintf(name, sizeof(name), "bench-%llu", (unsigned long long)n);
    snprintf(arn, sizeof(arn), "arn:aws:states:" ACCOUNT_REGION ":execution:%s:%s", w->name, name);
    json_error_t jerr;
    json_t *input = json_loads(w->input_text, JSON_DECODE_ANY, &jerr);
    if (input == NULL)
        die("%s: input does not parse: %s", w->name, jerr.text);
    exec_config cfg = {
        .name = name,
        .arn = arn,
        .sm_arn = w->sm_arn,
        .sm_name = w->name,
        .role_arn = "arn:aws:iam::123456789012:role/baton-bench",
        .region = "us-east-1",
        .start_ms = now_ms,
        .seed = n,
    };
    exec *e = exec_new(w->m, input, &cfg);
    json_decref(input);
    return e;
}

static void wrong(const char *wname, const exec *e, const char *expected)
{
    char *out = exec_output(e) ? json_dumps(exec_output(e), JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (out && strlen(out) > 400)
        strcpy(out + 390, " …");
    fprintf(stderr,
            "baton-bench: %s: WRONG RESULT: expected %s\n"
            "  status: %s\n  output: %s\n  error: %s\n  cause: %s\n",
            wname, expected, exec_status_name(exec_get_status(e)), out ? out : "(none)",
            exec_error(e) ? exec_error(e) : "(none)", exec_cause(e) ? exec_cause(e) : "(none)");
    free(out);
    exit(1);
}

static void check_pass_chain(const exec *e)
{
    static const char want[] = "$.step == {\"x\":42,\"i\":99}";
    if (exec_get_status(e) != EXEC_SUCCEEDED)
        wrong("pass-chain", e, want);
    json_t *step = json_object_get(exec_output(e), "step");
    json_t *x = json_object_get(step, "x"), *i = json_object_get(step, "i");
    if (json_object_size(step) != 2 || !json_is_integer(x) || json_integer_value(x) != 42 ||
        !json_is_integer(i) || json_integer_value(i) != 99)
        wrong("pass-chain", e, want);
}

static void check_counter(const char *wname, const exec *e)
{
    static const char want[] = "$.counter.i == 1000";
    if (exec_get_status(e) != EXEC_SUCCEEDED)
        wrong(wname, e, want);
    json_t *i = json_object_get(json_object_get(exec_output(e), "counter"), "i");
    if (!json_is_number(i) || json_number_value(i) != 1000.0)
        wrong(wname, e, want);
}

static void check_choice_loop(const exec *e)
{
    check_counter("choice-loop", e);
}

static void check_choice_loop_jsonata(const exec *e)
{
    check_counter("choice-loop-jsonata", e);
}

static void check_results(const char *wname, const exec *e)
{
    static const char want[] = "$.results[999].msg == \"item 999 is n999\"";
    if (exec_get_status(e) != EXEC_SUCCEEDED)
        wrong(wname, e, want);
    json_t *res = json_object_get(exec_output(e), "results");
    json_t *msg = json_object_get(json_array_get(res, 999), "msg");
    if (json_array_size(res) != 1000 || !json_is_string(msg) ||
        strcmp(json_string_value(msg), "item 999 is n999") != 0)
        wrong(wname, e, want);
}

static void check_map(const exec *e)
{
    check_results("map-1000", e);
}

static void check_map_jsonata(const exec *e)
{
    check_results("map-1000-jsonata", e);
}

static void check_callback(const exec *e)
{
    static const char want[] = "{\"id\":1,\"ok\":true}";
    if (exec_get_status(e) != EXEC_SUCCEEDED)
        wrong("callback", e, want);
    json_t *out = exec_output(e);
    json_t *id = json_object_get(out, "id");
    if (json_object_size(out) != 2 || !json_is_integer(id) || json_integer_value(id) != 1 ||
        !json_is_true(json_object_get(out, "ok")))
        wrong("callback", e, want);
}

/* ---- throughput ------------------------------------------------------------------------ */

static void tally(tput *t, const exec *e)
{
    t->execs++;
    t->transitions += exec_n_transitions(e);
    t->events += exec_n_events(e);
}

/* Executions back to back, each driven to its end by local_run with a virtual clock. */
static tput run_serial(const workload *w, check_fn check, double seconds)
{
    tput t = {0};
    exec *e = start_exec(w, local_now_ms()); /* warm-up, not counted */
    local_run(e, NULL, 0, true);
    check(e);
    exec_free(e);

    double t0 = now_s(), t1;
    do {
        e = start_exec(w, local_now_ms());
        local_run(e, NULL, 0, true);
        check(e);
        tally(&t, e);
        exec_free(e);
        t1 = now_s();
    } while (t1 - t0 < seconds);
    t.secs = t1 - t0;
    return t;
}

/* Rounds of BATCH executions: all started first, then each advanced to its end. */
static tput run_batch(const workload *w, check_fn check, double seconds)
{
    tput t = {0};
    exec **es = bt_xcalloc(BATCH, sizeof(*es));
    double t0 = now_s(), t1;
    do {
        int64_t now = local_now_ms();
        for (size_t i = 0; i < BATCH; i++)
            es[i] = start_exec(w, now);
        for (size_t i = 0; i < BATCH; i++)
            while (exec_advance(es[i], now, 0))
                ;
        for (size_t i = 0; i < BATCH; i++) {
            check(es[i]);
            tally(&t, es[i]);
            exec_free(es[i]);
        }
        t1 = now_s();
    } while (t1 - t0 < seconds);
    t.secs = t1 - t0;
    free(es);
    return t;
}

/* ---- callbacks ------------------------------------------------------------------------- */

/* Starts a callback execution and returns the id of the task it waits on. */
static exec *park(const workload *w, int64_t now, uint64_t *task_id)
{
    exec *e = start_exec(w, now);
    while (exec_advance(e, now, 0))
        ;
    exec_effects fx;
    exec_take_effects(e, &fx);
    const exec_task *t = NULL;
    for (size_t i = 0; i < fx.n_items && t == NULL; i++)
        if (fx.items[i].kind == EXEC_EFFECT_TASK_START)
            t = exec_get_task(e, fx.items[i].id);
    if (exec_get_status(e) != EXEC_RUNNING || t == NULL || t->token == NULL)
        die("callback: the execution did not park on a task token (status %s, task %s)",
            exec_status_name(exec_get_status(e)), t ? "without token" : "none");
    *task_id = t->id;
    return e;
}

/* SendTaskSuccess with output {"ok":true} (parsed from text, as the API receives it). */
static void answer(exec *e, uint64_t task_id, int64_t now)
{
    json_t *out = json_loads("{\"ok\":true}", 0, NULL);
    if (exec_task_succeed(e, task_id, out, now) != 0)
        die("callback: exec_task_succeed refused task %llu", (unsigned long long)task_id);
    json_decref(out);
    while (exec_advance(e, now, 0))
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    return v[k == 0 ? 0 : k - 1];
}

/*
 * `outstanding` executions wait on their task at all times; each answered one is checked,
 * freed and replaced by a new one. Latency: SendTaskSuccess → execution end.
 */
static callback_res run_callbacks(const workload *w, size_t outstanding, double seconds)
{
    callback_res r = {0};
    exec **es = bt_xcalloc(outstanding, sizeof(*es));
    uint64_t *ids = bt_xcalloc(outstanding, sizeof(*ids));
    size_t cap = 1 << 16, n = 0;
    double *lat = bt_xmalloc(cap * sizeof(*lat));
    int64_t now = local_now_ms();
    for (size_t i = 0; i < outstanding; i++)
        es[i] = park(w, now, &ids[i]);
    double t0 = now_s(), t1;
    size_t slot = 0;
    do {
        now = local_now_ms();
        double a = now_s();
        answer(es[slot], ids[slot], now);
        double b = now_s();
        check_callback(es[slot]);
        exec_free(es[slot]);
        es[slot] = park(w, now, &ids[slot]);
        slot = (slot + 1) % outstanding;
        if (n == cap) {
            cap *= 2;
            lat = bt_xrealloc(lat, cap * sizeof(*lat));
        }
        lat[n++] = (b - a) * 1e6;
        t1 = b;
    } while (t1 - t0 < seconds);
    r.secs = now_s() - t0;
    r.n = n;
    qsort(lat, n, sizeof(*lat), cmp_double);
    r.p50_us = percentile(lat, n, 50);
    r.p99_us = percentile(lat, n, 99);
    for (size_t i = 0; i < outstanding; i++)
        exec_free(es[i]);
    free(es);
    free(ids);
    free(lat);
    return r;
}

/* ---- many waiting ---------------------------------------------------------------------- */

static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2)
        die("cannot read /proc/self/statm");
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static many_res run_many(const workload *w, long n)
{
    many_res r = {.n = n};
    size_t un = (size_t)n;
    exec **es = bt_xmalloc(un * sizeof(*es));
    uint64_t *ids = bt_xmalloc(un * sizeof(*ids));
    memset(es, 0, un * sizeof(*es)); /* resident before the first reading */
    memset(ids, 0, un * sizeof(*ids));
    malloc_trim(0);
    double rss0 = rss_bytes();
    int64_t now = local_now_ms();
    double t0 = now_s();
    for (size_t i = 0; i < un; i++)
        es[i] = park(w, now, &ids[i]);
    double t1 = now_s();
    double rss1 = rss_bytes();
    now = local_now_ms();
    for (size_t i = 0; i < un; i++) {
        answer(es[i], ids[i], now);
        check_callback(es[i]);
    }
    double t2 = now_s();
    for (size_t i = 0; i < un; i++)
        exec_free(es[i]);
    double t3 = now_s();
    free(es);
    free(ids);
    malloc_trim(0);
    r.bytes_each = (rss1 - rss0) / (double)n;
    r.park_s = t1 - t0;
    r.complete_s = t2 - t1;
    r.free_s = t3 - t2;
    return r;
}

/* ---- cold start ------------------------------------------------------------------------ */

static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* ../baton next to this binary's directory (build-release/bench/ → build-release/baton). */
static char *default_baton(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    return bt_xasprintf("%s/../baton", self);
}

static cold_res run_cold(const char *baton, const char *dir, const char *input)
{
    cold_res r = {.runs = COLD_RUNS};
    char *def = bt_xasprintf("%s/trivial.json", dir);
    double ms[COLD_RUNS];
    r.own_rss_mib = rss_bytes() / (1024.0 * 1024.0);
    for (int i = 0; i < COLD_RUNS; i++) {
        double t0 = now_s();
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                close(fd);
            }
            execl(baton, baton, "run", def, "--input", input, (char *)NULL);
            fprintf(stderr, "baton-bench: cannot run %s: %s\n", baton, strerror(errno));
            _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR)
                die("waitpid: %s", strerror(errno));
        ms[i] = (now_s() - t0) * 1000.0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("cold start: `%s run %s` did not succeed (status %d)", baton, def, status);
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    r.max_rss_mib = (double)ru.ru_maxrss / 1024.0;
    qsort(ms, COLD_RUNS, sizeof(ms[0]), cmp_double);
    r.median_ms = (ms[COLD_RUNS / 2 - 1] + ms[COLD_RUNS / 2]) / 2.0;
    r.p90_ms = percentile(ms, COLD_RUNS, 90);
    free(def);
    return r;
}

/* ---- report ---------------------------------------------------------------------------- */

/* 1234567.8 → "1,234,568" (or with decimals below 100). */
static const char *fmt_num(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (fabs(v) < 100.0) {
        snprintf(buf, len, "%.*f", fabs(v) < 10.0 ? 2 : 1, v);
        return buf;
    }
    char digits[64];
    snprintf(digits, sizeof(digits), "%.0f", v);
    size_t nd = strlen(digits), o = 0;
    for (size_t i = 0; i < nd && o + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0 && digits[i - 1] != '-')
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

typedef struct row {
    const char *what;
    const char *unit;
    bool lower_better;
    double baton, als, sb;
} row;

/* How many times better Baton is than the peer (> 1: Baton better). */
static double ratio(const row *r, double peer)
{
    if (isnan(r->baton) || isnan(peer) || r->baton <= 0 || peer <= 0)
        return NAN;
    return r->lower_better ? peer / r->baton : r->baton / peer;
}

static void print_ratio(double x)
{
    if (isnan(x))
        printf(" %8s", "-");
    else
        printf(" %7.2fx", x);
}

static void print_table(const row *rows, size_t n)
{
    char a[32], b[32], c[32];
    printf("\n%-34s %-12s %12s %12s %8s %12s %8s\n", "comparison", "unit", "baton", "aws-local-sfn",
           "ratio", "statebox", "ratio");
    for (int i = 0; i < 104; i++)
        putchar('-');
    putchar('\n');
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        printf("%-34s %-12s %12s %12s", r->what, r->unit, fmt_num(a, sizeof(a), r->baton),
               fmt_num(b, sizeof(b), r->als));
        print_ratio(ratio(r, r->als));
        printf(" %12s", fmt_num(c, sizeof(c), r->sb));
        print_ratio(ratio(r, r->sb));
        putchar('\n');
    }
    printf("ratio: how many times better baton is (> 1 = baton ahead; for time and memory the "
           "peer's figure / baton's).\n"
           "Peer figures: measured side by side on our 2-core machine, bench/README.md.\n");
}

static json_t *jnum(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *tput_json(const tput *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "executions", json_integer((json_int_t)t->execs));
    json_object_set_new(o, "seconds", json_real(t->secs));
    json_object_set_new(o, "transitions_per_s", json_real((double)t->transitions / t->secs));
    json_object_set_new(o, "events_per_s", json_real((double)t->events / t->secs));
    json_object_set_new(o, "executions_per_s", json_real((double)t->execs / t->secs));
    return o;
}

static void print_tput(const char *label, const tput *t, bool items)
{
    char a[32], b[32], c[32], d[32];
    printf("%-34s %10s exec/s %12s transitions/s %12s events/s", label,
           fmt_num(a, sizeof(a), (double)t->execs / t->secs),
           fmt_num(b, sizeof(b), (double)t->transitions / t->secs),
           fmt_num(c, sizeof(c), (double)t->events / t->secs));
    if (items)
        printf(" %10s items/s", fmt_num(d, sizeof(d), (double)t->execs * MAP_ITEMS / t->secs));
    printf("  (%llu executions, %.2f s)\n", (unsigned long long)t->execs, t->secs);
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: baton-bench [WORKLOAD_DIR] [--seconds N] [--baton PATH] [--json]\n"
          "                   [--many N] [--no-cold] [--only NAME]\n"
          "  WORKLOAD_DIR   the workloads (default " BT_BENCH_WORKLOADS ")\n"
          "  --seconds N    time per workload (default 3)\n"
          "  --baton PATH   the baton binary for the cold start (default ../baton next to\n"
          "                 this binary's directory)\n"
          "  --json         print one JSON object instead of the table\n"
          "  --many N       executions parked for many-waiting (default 100000; 0 skips)\n"
          "  --no-cold      skip the cold start\n"
          "  --only NAME    run only pass-chain, pass-chain-1000, choice-loop,\n"
          "                 choice-loop-jsonata, map-1000, map-1000-jsonata, callback,\n"
          "                 many-waiting or cold-start\n",
          stderr);
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    o->dir = BT_BENCH_WORKLOADS;
    o->seconds = 3.0;
    o->many = 100000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--seconds") == 0 && v) {
            char *end;
            o->seconds = strtod(v, &end);
            if (*end != '\0' || !(o->seconds > 0))
                die("--seconds takes a positive number");
            i++;
        } else if (strcmp(a, "--baton") == 0 && v) {
            o->baton = v;
            o->baton_given = true;
            i++;
        } else if (strcmp(a, "--many") == 0 && v) {
            char *end;
            o->many = strtol(v, &end, 10);
            if (*end != '\0' || o->many < 0)
                die("--many takes a count");
            i++;
        } else if (strcmp(a, "--only") == 0 && v) {
            o->only = v;
            i++;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-cold") == 0) {
            o->no_cold = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            exit(0);
        } else if (a[0] != '-') {
            o->dir = a;
        } else {
            usage();
            exit(2);
        }
    }
}

static bool wanted(const bench_opts *o, const char *name)
{
    return o->only == NULL || strcmp(o->only, name) == 0;
}

static void progress(const bench_opts *o, const char *what)
{
    if (!o->json)
        fprintf(stderr, "running %s…\n", what);
}

int main(int argc, char **argv)
{
    bench_opts o = {0};
    parse_args(argc, argv, &o);
    char *inputs_path = bt_xasprintf("%s/inputs.json", o.dir);
    json_error_t jerr;
    json_t *inputs = json_load_file(inputs_path, 0, &jerr);
    if (inputs == NULL)
        die("%s:%d: %s", inputs_path, jerr.line, jerr.text);
    free(inputs_path);

    double nan = NAN;
    cold_res cold = {.median_ms = nan, .p90_ms = nan, .max_rss_mib = nan, .own_rss_mib = nan};
    tput pc = {0}, pc1000 = {0}, cl = {0}, map = {0}, clj = {0}, mapj = {0};
    callback_res cb1 = {.p50_us = nan, .p99_us = nan}, cb64 = cb1;
    many_res many = {.bytes_each = nan, .park_s = nan, .complete_s = nan, .free_s = nan};
    const char *cold_note = NULL;

    /* First, while this process is small: a forked child's peak RSS includes its parent's. */
    char *baton = o.baton ? bt_xstrdup(o.baton) : default_baton();
    if (!o.no_cold && wanted(&o, "cold-start")) {
        if (baton && is_executable(baton)) {
            progress(&o, "cold start");
            json_t *tin = json_object_get(inputs, "trivial");
            char *tinput = tin ? json_dumps(tin, JSON_COMPACT) : bt_xstrdup("{}");
            cold = run_cold(baton, o.dir, tinput);
            free(tinput);
        } else if (o.baton_given) {
            die("--baton %s: not an executable file", o.baton);
        } else {
            cold_note = "cold start skipped: no baton binary next to the bench (use --baton)";
        }
    }

    /* The JSONata twins take their JSONPath twin's input. */
    workload pass_chain, choice_loop, map1000, callback, choice_loop_j, map1000_j;
    load_workload(o.dir, inputs, "pass-chain", "pass-chain", &pass_chain);
    load_workload(o.dir, inputs, "choice-loop", "choice-loop", &choice_loop);
    load_workload(o.dir, inputs, "choice-loop-jsonata", "choice-loop", &choice_loop_j);
    load_workload(o.dir, inputs, "map-1000", "map-1000", &map1000);
    load_workload(o.dir, inputs, "map-1000-jsonata", "map-1000", &map1000_j);
    load_workload(o.dir, inputs, "callback", "callback", &callback);

    if (o.many > 0 && wanted(&o, "many-waiting")) {
        progress(&o, "many-waiting");
        many = run_many(&callback, o.many);
    }
    if (wanted(&o, "pass-chain")) {
        progress(&o, "pass-chain");
        pc = run_serial(&pass_chain, check_pass_chain, o.seconds);
    }
    if (wanted(&o, "pass-chain-1000")) {
        progress(&o, "pass-chain, 1000 at once");
        pc1000 = run_batch(&pass_chain, check_pass_chain, o.seconds);
    }
    if (wanted(&o, "choice-loop")) {
        progress(&o, "choice-loop");
        cl = run_serial(&choice_loop, check_choice_loop, o.seconds);
    }
    if (wanted(&o, "choice-loop-jsonata")) {
        progress(&o, "choice-loop-jsonata");
        clj = run_serial(&choice_loop_j, check_choice_loop_jsonata, o.seconds);
    }
    if (wanted(&o, "map-1000")) {
        progress(&o, "map-1000");
        map = run_serial(&map1000, check_map, o.seconds);
    }
    if (wanted(&o, "map-1000-jsonata")) {
        progress(&o, "map-1000-jsonata");
        mapj = run_serial(&map1000_j, check_map_jsonata, o.seconds);
    }
    if (wanted(&o, "callback")) {
        progress(&o, "callback");
        cb1 = run_callbacks(&callback, 1, o.seconds);
        cb64 = run_callbacks(&callback, 64, o.seconds);
    }

#define RATE(t, x) ((t).execs ? (double)(x) / (t).secs : nan)
    row rows[] = {
        {"pass-chain, one at a time", "trans/s", false, RATE(pc, pc.transitions),
         ALS_PASS_CHAIN_TPS, SB_PASS_CHAIN_TPS},
        {"pass-chain, 1000 at once", "trans/s", false, RATE(pc1000, pc1000.transitions),
         ALS_PASS_CHAIN_1000_TPS, SB_PASS_CHAIN_1000_TPS},
        {"choice-loop", "trans/s", false, RATE(cl, cl.transitions), ALS_CHOICE_LOOP_TPS,
         SB_CHOICE_LOOP_TPS},
        {"map-1000", "items/s", false, RATE(map, (double)map.execs * MAP_ITEMS), ALS_MAP_ITEMS_PS,
         SB_MAP_ITEMS_PS},
        {"callback, 64 outstanding", "callbacks/s", false,
         cb64.n ? (double)cb64.n / cb64.secs : nan, ALS_CALLBACK_64_PS, SB_CALLBACK_64_PS},
        {"callback, 64 outstanding, p99", "us", true, cb64.p99_us, ALS_CALLBACK_64_P99_US,
         SB_CALLBACK_64_P99_US},
        {"many-waiting, RSS per execution", "KiB", true, many.bytes_each / 1024.0, ALS_PARKED_KB,
         SB_PARKED_KB},
        {"many-waiting, time to park", "s", true, many.park_s, ALS_PARK_S, SB_PARK_S},
        {"many-waiting, completions", "completions/s", false,
         isnan(many.complete_s) ? nan : (double)many.n / many.complete_s, ALS_COMPLETIONS_PS,
         SB_COMPLETIONS_PS},
        {"cold start, median", "ms", true, cold.median_ms, ALS_COLD_MS, SB_COLD_MS},
        {"cold start, max RSS", "MiB", true, cold.max_rss_mib, ALS_COLD_MIB, SB_COLD_MIB},
    };
#undef RATE
    size_t n_rows = sizeof(rows) / sizeof(rows[0]);

    if (o.json) {
        json_t *r = json_object();
        json_object_set_new(r, "seconds_per_workload", json_real(o.seconds));
        if (pc.execs)
            json_object_set_new(r, "pass_chain", tput_json(&pc));
        if (pc1000.execs)
            json_object_set_new(r, "pass_chain_1000_at_once", tput_json(&pc1000));
        if (cl.execs)
            json_object_set_new(r, "choice_loop", tput_json(&cl));
        if (clj.execs)
            json_object_set_new(r, "choice_loop_jsonata", tput_json(&clj));
        if (cl.execs && clj.execs)
            json_object_set_new(r, "choice_loop_jsonpath_over_jsonata",
                                json_real(((double)cl.transitions / cl.secs) /
                                          ((double)clj.transitions / clj.secs)));
        const tput *maps[2] = {&map, &mapj};
        const char *mapn[2] = {"map_1000", "map_1000_jsonata"};
        for (int i = 0; i < 2; i++) {
            if (maps[i]->execs == 0)
                continue;
            json_t *m = tput_json(maps[i]);
            json_object_set_new(m, "items_per_s",
                                json_real((double)maps[i]->execs * MAP_ITEMS / maps[i]->secs));
            json_object_set_new(r, mapn[i], m);
        }
        if (map.execs && mapj.execs)
            json_object_set_new(
                r, "map_1000_jsonpath_over_jsonata",
                json_real(((double)map.execs / map.secs) / ((double)mapj.execs / mapj.secs)));
        const callback_res *cbs[2] = {&cb1, &cb64};
        const char *cbn[2] = {"callback_1_outstanding", "callback_64_outstanding"};
        for (int i = 0; i < 2; i++) {
            if (cbs[i]->n == 0)
                continue;
            json_t *c = json_object();
            json_object_set_new(c, "callbacks", json_integer((json_int_t)cbs[i]->n));
            json_object_set_new(c, "callbacks_per_s", json_real((double)cbs[i]->n / cbs[i]->secs));
            json_object_set_new(c, "p50_us", jnum(cbs[i]->p50_us));
            json_object_set_new(c, "p99_us", jnum(cbs[i]->p99_us));
            json_object_set_new(r, cbn[i], c);
        }
        if (!isnan(many.park_s)) {
            json_t *m = json_object();
            json_object_set_new(m, "executions", json_integer(many.n));
            json_object_set_new(m, "rss_bytes_per_execution", json_real(many.bytes_each));
            json_object_set_new(m, "park_s", json_real(many.park_s));
            json_object_set_new(m, "complete_s", json_real(many.complete_s));
            json_object_set_new(m, "completions_per_s",
                                json_real((double)many.n / many.complete_s));
            json_object_set_new(m, "free_s", json_real(many.free_s));
            json_object_set_new(r, "many_waiting", m);
        }
        if (!isnan(cold.median_ms)) {
            json_t *c = json_object();
            json_object_set_new(c, "runs", json_integer(cold.runs));
            json_object_set_new(c, "median_ms", json_real(cold.median_ms));
            json_object_set_new(c, "p90_ms", json_real(cold.p90_ms));
            json_object_set_new(c, "max_rss_mib", json_real(cold.max_rss_mib));
            json_object_set_new(c, "bench_rss_at_fork_mib", json_real(cold.own_rss_mib));
            json_object_set_new(r, "cold_start", c);
        }
        json_t *cmp = json_array();
        for (size_t i = 0; i < n_rows; i++) {
            json_t *c = json_object();
            json_object_set_new(c, "what", json_string(rows[i].what));
            json_object_set_new(c, "unit", json_string(rows[i].unit));
            json_object_set_new(c, "baton", jnum(rows[i].baton));
            json_object_set_new(c, "aws_local_stepfunctions", jnum(rows[i].als));
            json_object_set_new(c, "ratio_aws_local_stepfunctions",
                                jnum(ratio(&rows[i], rows[i].als)));
            json_object_set_new(c, "statebox", jnum(rows[i].sb));
            json_object_set_new(c, "ratio_statebox", jnum(ratio(&rows[i], rows[i].sb)));
            json_array_append_new(cmp, c);
        }
        json_object_set_new(r, "comparison", cmp);
        char *s = json_dumps(r, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        puts(s ? s : "null");
        free(s);
        json_decref(r);
    } else {
        char a[32], b[32], c[32];
        printf("baton-bench: one thread, virtual clock, full history kept, %.1f s per workload\n\n",
               o.seconds);
        if (pc.execs)
            print_tput("pass-chain, one at a time", &pc, false);
        if (pc1000.execs)
            print_tput("pass-chain, 1000 at once", &pc1000, false);
        if (cl.execs)
            print_tput("choice-loop", &cl, false);
        if (clj.execs)
            print_tput("choice-loop-jsonata", &clj, false);
        if (map.execs)
            print_tput("map-1000", &map, true);
        if (mapj.execs)
            print_tput("map-1000-jsonata", &mapj, true);
        /* Issue 8's target: each JSONata twin within 2x of its JSONPath twin. */
        if (cl.execs && clj.execs)
            printf("%-34s %.2fx (JSONPath trans/s over JSONata trans/s; target <= 2)\n",
                   "choice-loop vs its JSONata twin",
                   ((double)cl.transitions / cl.secs) / ((double)clj.transitions / clj.secs));
        if (map.execs && mapj.execs)
            printf("%-34s %.2fx (JSONPath items/s over JSONata items/s; target <= 2)\n",
                   "map-1000 vs its JSONata twin",
                   ((double)map.execs / map.secs) / ((double)mapj.execs / mapj.secs));
        const callback_res *cbs[2] = {&cb1, &cb64};
        const char *cbn[2] = {"callback, 1 outstanding", "callback, 64 outstanding"};
        for (int i = 0; i < 2; i++)
            if (cbs[i]->n)
                printf("%-34s %10s callbacks/s  latency p50 %.1f us, p99 %.1f us\n", cbn[i],
                       fmt_num(a, sizeof(a), (double)cbs[i]->n / cbs[i]->secs), cbs[i]->p50_us,
                       cbs[i]->p99_us);
        if (!isnan(many.park_s))
            printf("%-34s %ld parked: %s bytes RSS each, %.2f s to park, %s completions/s "
                   "(free %.2f s)\n",
                   "many-waiting", many.n, fmt_num(a, sizeof(a), many.bytes_each), many.park_s,
                   fmt_num(b, sizeof(b), (double)many.n / many.complete_s), many.free_s);
        if (!isnan(cold.median_ms))
            printf("%-34s %d runs: median %s ms, p90 %s ms, max RSS %.1f MiB (bench RSS at "
                   "fork %.1f MiB)\n",
                   "cold start (baton run trivial)", cold.runs,
                   fmt_num(a, sizeof(a), cold.median_ms), fmt_num(c, sizeof(c), cold.p90_ms),
                   cold.max_rss_mib, cold.own_rss_mib);
        if (cold_note)
            printf("%s\n", cold_note);
        print_table(rows, n_rows);
    }

    workload_fini(&pass_chain);
    workload_fini(&choice_loop);
    workload_fini(&map1000);
    workload_fini(&choice_loop_j);
    workload_fini(&map1000_j);
    workload_fini(&callback);
    json_decref(inputs);
    free(baton);
    return 0;
}
