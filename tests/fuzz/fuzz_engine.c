/*
 * fuzz_engine.c — drives one execution through exec.h the way the engine thread does: a
 * definition and an input, then a script of task outcomes, stale outcomes, clock moves and
 * stops on a virtual clock, each followed by a bounded run of exec_advance. After every
 * call it checks the contract of exec.h (history ids, end of an execution, effects, open
 * tasks and tokens, the step budget, the quota) and abort()s when one breaks. Work is
 * bounded per input, so an endless loop in a definition still ends in milliseconds.
 */

/*
 * Input: <definition JSON> "\n---\n" <input JSON> "\n---\n" <script bytes>. The line "---"
 * cannot occur in JSON text, so the first two separators split the input unambiguously;
 * the script is raw bytes. No script: the driver only runs the epilogue. A missing or
 * unparsable input document is {"items":[1,2,3]}; an invalid definition is skipped.
 *
 * Script byte 0 configures the run: bits 0-2 the history quota (QUOTAS), bit 3 takes the
 * effects after every drive, as the in-process driver does (otherwise only on request).
 * Then actions of two bytes, op and p (a byte past the end reads as 0); after each one
 * exec_advance runs with a budget of STEP_BUDGETS[op >> 4] steps (1-64) per call, at most
 * DRIVE_CALLS times, while it reports ready work. For the task actions, k = p & 31 picks a
 * known open task (learned from TASK_START effects; index k mod their number, start
 * order); the value is outputs[p >> 5], the error ERRORS[p >> 5], the cause
 * causes[(p >> 3) & 3] (see init_values).
 *
 *   op & 15   action
 *   0, 11     exec_task_succeed(k, value)
 *   1         the same, the task found by its token (exec_find_task_by_token)
 *   2, 12     exec_task_fail(k, error, cause)
 *   3         exec_task_submitted(k, value)
 *   4         exec_task_heartbeat(k)
 *   5         outcome (p >> 4 & 3: succeed, fail, submitted, heartbeat) for an id that is
 *             not open (p & 3: 0, UINT64_MAX - p, a closed id; 3: look up a closed token)
 *   6, 10     move the clock to exec_next_timer()
 *   7         move the clock by p * 10 ms (p < 128) or (p - 127) s
 *   8, 14     exec_take_effects
 *   9         move the clock by 1 ms
 *   13        exec_stop(error, cause) when p & 3 is 0; otherwise nothing
 *   15        nothing (only drive)
 *
 * After at most MAX_ACTIONS actions the epilogue succeeds every open task and jumps to the
 * next timer for up to EPILOGUE_ROUNDS rounds, then stops the execution if it still runs.
 * The clock starts at T0 and only moves forward; the seed is fixed.
 */
#include "asl/asl.h"
#include "base/diag.h"
#include "base/err.h"
#include "engine/exec.h"
#include "engine/history.h"
#include "path/payload.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT         65536
#define T0                1700000000000LL /* 2023-11-14T22:13:20Z */
#define SEED              42
#define MAX_ACTIONS       2048
#define MAX_ADVANCE_CALLS 6000
#define MAX_STEPS_TOTAL   40000 /* sum of the step budgets passed to exec_advance */
#define DRIVE_CALLS       32    /* exec_advance calls after one action */
#define EPILOGUE_ROUNDS   48
#define N_CLOSED          16

static const char SEP[] = "\n---\n";
static const uint32_t QUOTAS[8] = {2000, 2000, 2000, 2000, 2000, 50, 10, 3};
static const uint32_t STEP_BUDGETS[16] = {1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 64};
static const char *const ERRORS[8] = {
    "States.Timeout",          "States.TaskFailed",       "States.Runtime", "Custom.Error", NULL,
    "States.HeartbeatTimeout", "Lambda.ServiceException", "States.ALL",
};

#define N_OUTPUTS 8
static json_t *outputs[N_OUTPUTS]; /* built once; shared by every input, never changed */
static json_t *pristine[N_OUTPUTS];
static char *causes[4];

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_engine: invariant failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char *text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *t = malloc(n);
    if (t == NULL)
        abort();
    return memcpy(t, s, n);
}

/* True when the engine holds no reference to v (true, false and null are not counted). */
static bool unshared(const json_t *v)
{
    return v->refcount == 1 || v->refcount == (size_t)-1;
}

static json_t *nest(size_t depth)
{
    json_t *v = json_integer(1);
    for (size_t i = 1; i < depth; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static void init_values(void)
{
    if (outputs[0])
        return;
    outputs[0] = json_object();
    outputs[1] = json_null();
    outputs[2] = nest(2048); /* as deep as a stored value may be */
    outputs[3] = json_loads("{\"a\":1,\"b\":[1,2,{\"c\":\"d\",\"e\":[true,null,2.5]}],\"ok\":true,"
                            "\"items\":[{\"x\":1},{\"x\":2}],\"s\":\"2024-01-01T00:00:00Z\"}",
                            0, NULL);
    /* over 256 KiB: States.DataLimitExceeded */
    char *big = malloc(PAYLOAD_MAX_BYTES + 16);
    if (big == NULL)
        abort();
    memset(big, 'x', PAYLOAD_MAX_BYTES + 15);
    big[PAYLOAD_MAX_BYTES + 15] = '\0';
    outputs[4] = json_pack("{s:s}", "big", big);
    free(big);
    /* deeper than can be stored (BT_JSON_MAX_DEPTH) */
    outputs[5] = nest(2100);
    /* large but within the limit: 100 items to map over */
    json_t *items = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(items, json_pack("{s:i,s:s}", "i", i, "pad", "abcdefghijklmnop"));
    outputs[6] = json_pack("{s:o,s:i,s:i}", "items", items, "secs", 2, "n", 100);
    outputs[7] = json_pack("{s:s,s:i,s:[i,i,i],s:{s:b}}", "Status", "SUCCEEDED", "Seconds", 1,
                           "items", 1, 2, 3, "nested", "done", 1);
    for (int i = 0; i < N_OUTPUTS; i++) {
        if (outputs[i] == NULL)
            abort();
        pristine[i] = json_deep_copy(outputs[i]);
    }
    causes[0] = text("boom");
    causes[1] = NULL;
    causes[2] = malloc(4097);
    if (causes[2] == NULL)
        abort();
    memset(causes[2], 'c', 4096);
    causes[2][4096] = '\0';
    causes[3] = text("{\"errorMessage\":\"bad\",\"errorType\":\"E\"}");
}

/* ---- the driver's view of one execution --------------------------------------------- */

typedef struct driver {
    exec *e;
    int64_t now;
    uint32_t max_events;
    bool auto_take;
    uint64_t *open; /* task ids learned from TASK_START and not known closed, start order */
    size_t n_open, cap_open;
    uint64_t closed[N_CLOSED]; /* recently closed ids (ring) */
    size_t n_closed;
    char closed_tokens[N_CLOSED][64];
    size_t n_closed_tokens;
    uint64_t max_task_id, max_timer_id;
    size_t n_checked; /* history events verified */
    size_t n_taken;   /* history events handed out by exec_take_effects */
    size_t end_len;   /* history length when the execution ended; SIZE_MAX while running */
    unsigned n_advance;
    uint64_t n_steps;
} driver;

static bool is_end_event(hist_type t)
{
    return t == HIST_ExecutionSucceeded || t == HIST_ExecutionFailed ||
           t == HIST_ExecutionTimedOut || t == HIST_ExecutionAborted;
}

static hist_type end_event_of(exec_status s)
{
    switch (s) {
    case EXEC_SUCCEEDED:
        return HIST_ExecutionSucceeded;
    case EXEC_FAILED:
        return HIST_ExecutionFailed;
    case EXEC_TIMED_OUT:
        return HIST_ExecutionTimedOut;
    case EXEC_ABORTED:
        return HIST_ExecutionAborted;
    case EXEC_RUNNING:
        break;
    }
    return HIST_N_TYPES;
}

static void remember_closed(driver *d, uint64_t id, const char *token)
{
    d->closed[d->n_closed++ % N_CLOSED] = id;
    if (token) {
        size_t n = strlen(token) + 1;
        CHECK(n <= sizeof(d->closed_tokens[0]));
        memcpy(d->closed_tokens[d->n_closed_tokens++ % N_CLOSED], token, n);
    }
}

static void forget_open(driver *d, size_t i)
{
    memmove(&d->open[i], &d->open[i + 1], (d->n_open - i - 1) * sizeof(d->open[0]));
    d->n_open--;
}

/* The index of id among the known open tasks, or SIZE_MAX. */
static size_t find_open(const driver *d, uint64_t id)
{
    for (size_t i = 0; i < d->n_open; i++)
        if (d->open[i] == id)
            return i;
    return SIZE_MAX;
}

static void check_task(const driver *d, const exec_task *t, uint64_t id)
{
    CHECK(t->id == id);
    CHECK(t->state_name != NULL && t->resource != NULL);
    CHECK(t->execution_arn != NULL);
    CHECK(t->timeout_s >= 0 && t->heartbeat_s >= 0 && t->retry_count >= 0);
    if (t->token) {
        CHECK(t->token[0] != '\0' && strlen(t->token) < 64);
        CHECK(exec_find_task_by_token(d->e, t->token) == t);
    }
}

/* Everything that must hold between any two calls into the execution. */
static void check_state(driver *d)
{
    exec *e = d->e;
    const history *h = exec_history(e);
    exec_status st = exec_get_status(e);
    CHECK(h->len == exec_n_events(e));
    CHECK(h->len <= d->max_events);
    CHECK(h->len >= 1);
    CHECK(d->n_checked <= h->len);
    for (size_t i = d->n_checked; i < h->len; i++) {
        const hist_event *ev = &h->events[i];
        CHECK(ev->id == i + 1);
        CHECK(ev->prev_id < ev->id);
        CHECK((unsigned)ev->type < HIST_N_TYPES);
        CHECK((i == 0) == (ev->type == HIST_ExecutionStarted));
        CHECK(ev->timestamp_ms >= T0 && ev->timestamp_ms <= d->now);
        if (i > 0) {
            CHECK(ev->timestamp_ms >= h->events[i - 1].timestamp_ms);
            CHECK(!is_end_event(h->events[i - 1].type)); /* nothing after the end */
        }
    }
    d->n_checked = h->len;
    const hist_event *last = &h->events[h->len - 1];
    if (st == EXEC_RUNNING) {
        CHECK(d->end_len == SIZE_MAX);
        CHECK(!is_end_event(last->type));
        CHECK(exec_output(e) == NULL);
    } else {
        if (d->end_len == SIZE_MAX)
            d->end_len = h->len;
        CHECK(h->len == d->end_len); /* no event after the end */
        CHECK(last->type == end_event_of(st));
        CHECK(exec_next_timer(e) == INT64_MAX);
        CHECK(exec_n_open_tasks(e) == 0);
        CHECK(exec_advance(e, d->now, 1) == false);
        if (st == EXEC_SUCCEEDED) {
            CHECK(exec_output(e) != NULL && last->data == exec_output(e));
            CHECK(payload_size_capped(exec_output(e), PAYLOAD_MAX_BYTES) <= PAYLOAD_MAX_BYTES);
        } else {
            CHECK(exec_output(e) == NULL);
        }
        CHECK(exec_stop_ms(e) >= exec_start_ms(e) && exec_stop_ms(e) <= d->now);
    }
    for (size_t i = 0; i < d->n_open; i++) {
        const exec_task *t = exec_get_task(e, d->open[i]);
        if (t) /* NULL: closed by the engine; its TASK_CANCEL is not taken yet */
            check_task(d, t, d->open[i]);
    }
    for (size_t i = 0; i < d->n_closed && i < N_CLOSED; i++)
        CHECK(exec_get_task(e, d->closed[i]) == NULL);
    for (size_t i = 0; i < d->n_closed_tokens && i < N_CLOSED; i++)
        CHECK(exec_find_task_by_token(e, d->closed_tokens[i]) == NULL);
}

static void take(driver *d)
{
    exec *e = d->e;
    exec_effects fx;
    exec_take_effects(e, &fx);
    const history *h = exec_history(e);
    /* the new events are the tail of the history, each handed out once */
    CHECK(d->n_taken + fx.n_events == h->len);
    CHECK(fx.n_events == 0 || fx.events == h->events + d->n_taken);
    d->n_taken = h->len;
    for (size_t i = 0; i < fx.n_items; i++) {
        const exec_effect *x = &fx.items[i];
        switch (x->kind) {
        case EXEC_EFFECT_TASK_START: {
            CHECK(x->id > d->max_task_id); /* never reused */
            d->max_task_id = x->id;
            const exec_task *t = exec_get_task(e, x->id);
            if (t) {
                check_task(d, t, x->id);
                if (d->n_open == d->cap_open) {
                    d->cap_open = d->cap_open ? 2 * d->cap_open : 16;
                    d->open = realloc(d->open, d->cap_open * sizeof(d->open[0]));
                    if (d->open == NULL)
                        abort();
                }
                d->open[d->n_open++] = x->id;
            } else {
                bool cancelled = false; /* then it was cancelled later in this batch */
                for (size_t j = i + 1; j < fx.n_items && !cancelled; j++)
                    cancelled =
                        fx.items[j].kind == EXEC_EFFECT_TASK_CANCEL && fx.items[j].id == x->id;
                CHECK(cancelled);
            }
            break;
        }
        case EXEC_EFFECT_TASK_CANCEL: {
            CHECK(x->id != 0 && x->id <= d->max_task_id);
            CHECK(exec_get_task(e, x->id) == NULL);
            size_t k = find_open(d, x->id);
            if (k != SIZE_MAX) {
                forget_open(d, k);
            } else {
                /* not known open: must be a task started (and not yet added) in this batch */
                bool started = false;
                for (size_t j = 0; j < i && !started; j++)
                    started = fx.items[j].kind == EXEC_EFFECT_TASK_START && fx.items[j].id == x->id;
                CHECK(started);
            }
            remember_closed(d, x->id, NULL);
            break;
        }
        case EXEC_EFFECT_TIMER_ARM:
            CHECK(x->id > d->max_timer_id);
            d->max_timer_id = x->id;
            break;
        case EXEC_EFFECT_TIMER_CANCEL:
            CHECK(x->id != 0 && x->id <= d->max_timer_id);
            break;
        default:
            fprintf(stderr, "fuzz_engine: unknown effect kind %d\n", (int)x->kind);
            abort();
        }
    }
    /* every task start and close has now been seen */
    CHECK(d->n_open == exec_n_open_tasks(e));
    for (size_t i = 0; i < d->n_open; i++)
        CHECK(exec_get_task(e, d->open[i]) != NULL);
    check_state(d);
}

static bool budget_left(const driver *d)
{
    return d->n_advance < MAX_ADVANCE_CALLS && d->n_steps < MAX_STEPS_TOTAL;
}

/* Calls exec_advance while it reports ready work, within the budgets. Returns false when
 * the execution waits (for a timer, a task or nothing: it ended). */
static bool drive(driver *d, uint32_t steps)
{
    exec *e = d->e;
    bool more = true;
    for (int i = 0; i < DRIVE_CALLS && more && budget_left(d); i++) {
        uint64_t transitions = exec_n_transitions(e);
        more = exec_advance(e, d->now, steps);
        d->n_advance++;
        d->n_steps += steps;
        /* a state is entered in one step at most */
        CHECK(exec_n_transitions(e) - transitions <= steps);
        if (more)
            CHECK(exec_get_status(e) == EXEC_RUNNING);
        else if (exec_get_status(e) == EXEC_RUNNING)
            CHECK(exec_next_timer(e) > d->now); /* nothing due now */
        check_state(d);
    }
    if (d->auto_take)
        take(d);
    return more;
}

/* ---- outcomes ------------------------------------------------------------------------ */

enum outcome { OUT_SUCCEED, OUT_FAIL, OUT_SUBMITTED, OUT_HEARTBEAT };

static int report(driver *d, enum outcome o, uint64_t id, uint8_t p)
{
    switch (o) {
    case OUT_SUCCEED:
        return exec_task_succeed(d->e, id, outputs[p >> 5], d->now);
    case OUT_FAIL:
        return exec_task_fail(d->e, id, ERRORS[p >> 5], causes[(p >> 3) & 3], d->now);
    case OUT_SUBMITTED:
        return exec_task_submitted(d->e, id, outputs[p >> 5], d->now);
    case OUT_HEARTBEAT:
        return exec_task_heartbeat(d->e, id, d->now);
    }
    return 0;
}

/* Reports o for the k-th known open task, checking the result against exec_get_task. */
static void task_outcome(driver *d, enum outcome o, uint8_t p, bool by_token)
{
    exec *e = d->e;
    if (d->n_open == 0)
        return;
    size_t k = (size_t)(p & 31) % d->n_open;
    uint64_t id = d->open[k];
    const exec_task *t = exec_get_task(e, id);
    if (by_token && t && t->token) {
        const exec_task *t2 = exec_find_task_by_token(e, t->token);
        CHECK(t2 == t);
        id = t2->id;
    }
    char token[64] = ""; /* t is freed once it closes */
    if (t && t->token) {
        CHECK(strlen(t->token) < sizeof(token));
        memcpy(token, t->token, strlen(t->token) + 1);
    }
    bool is_open = t != NULL && exec_get_status(e) == EXEC_RUNNING;
    /* a timer already due may fire first and close the task or end the execution */
    bool timer_due = exec_next_timer(e) <= d->now;
    uint64_t n_events = exec_n_events(e);
    int rc = report(d, o, id, p);
    CHECK(rc == 0 || rc == BT_ENOTFOUND);
    if (!is_open) {
        CHECK(rc == BT_ENOTFOUND);
        CHECK(exec_n_events(e) == n_events);
        check_state(d);
        return;
    }
    if (rc == BT_ENOTFOUND) {
        CHECK(timer_due);
        CHECK(exec_get_task(e, id) == NULL || exec_get_status(e) != EXEC_RUNNING);
        check_state(d);
        return;
    }
    if (o == OUT_SUCCEED || o == OUT_FAIL) {
        CHECK(exec_get_task(e, id) == NULL);
        if (token[0])
            CHECK(exec_find_task_by_token(e, token) == NULL);
        forget_open(d, k);
        remember_closed(d, id, token[0] ? token : NULL);
    } else if (o == OUT_HEARTBEAT) {
        CHECK(timer_due || exec_n_events(e) == n_events); /* AWS records no heartbeat */
        CHECK(exec_get_task(e, id) == t);
    } else if (exec_get_status(e) == EXEC_RUNNING) {
        CHECK(exec_get_task(e, id) == t); /* submitted keeps it open */
    }
    check_state(d);
}

/* An outcome for an id or token that is not open: BT_ENOTFOUND, and nothing changes. */
static void stale_outcome(driver *d, uint8_t p)
{
    exec *e = d->e;
    uint64_t id;
    switch (p & 3) {
    case 0:
        id = 0;
        break;
    case 1:
        id = UINT64_MAX - p;
        break;
    case 2:
        if (d->n_closed == 0)
            return;
        id = d->closed[(p >> 6) % (d->n_closed < N_CLOSED ? d->n_closed : N_CLOSED)];
        break;
    default:
        if (d->n_closed_tokens == 0)
            return;
        CHECK(exec_find_task_by_token(
                  e, d->closed_tokens[(p >> 6) % (d->n_closed_tokens < N_CLOSED ? d->n_closed_tokens
                                                                                : N_CLOSED)]) ==
              NULL);
        return;
    }
    CHECK(exec_get_task(e, id) == NULL);
    uint64_t n_events = exec_n_events(e);
    exec_status st = exec_get_status(e);
    CHECK(report(d, (enum outcome)((p >> 4) & 3), id, p) == BT_ENOTFOUND);
    CHECK(exec_n_events(e) == n_events && exec_get_status(e) == st);
    check_state(d);
}

static void jump_to_timer(driver *d)
{
    int64_t t = exec_next_timer(d->e);
    if (t != INT64_MAX && t > d->now)
        d->now = t;
}

static void stop(driver *d, uint8_t p)
{
    exec *e = d->e;
    bool was_running = exec_get_status(e) == EXEC_RUNNING;
    uint64_t n_events = exec_n_events(e);
    exec_stop(e, ERRORS[p >> 5], causes[(p >> 3) & 3], d->now);
    CHECK(exec_get_status(e) != EXEC_RUNNING);
    if (!was_running)
        CHECK(exec_n_events(e) == n_events);
    check_state(d);
}

/* ---- one input ----------------------------------------------------------------------- */

static void run_script(driver *d, const uint8_t *s, size_t len)
{
    size_t pos = 1;
    for (int n = 0; n < MAX_ACTIONS && pos < len && budget_left(d); n++) {
        uint8_t op = s[pos++];
        uint8_t p = pos < len ? s[pos++] : 0;
        switch (op & 15) {
        case 0:
        case 11:
            task_outcome(d, OUT_SUCCEED, p, false);
            break;
        case 1:
            task_outcome(d, OUT_SUCCEED, p, true);
            break;
        case 2:
        case 12:
            task_outcome(d, OUT_FAIL, p, false);
            break;
        case 3:
            task_outcome(d, OUT_SUBMITTED, p, false);
            break;
        case 4:
            task_outcome(d, OUT_HEARTBEAT, p, false);
            break;
        case 5:
            stale_outcome(d, p);
            break;
        case 6:
        case 10:
            jump_to_timer(d);
            break;
        case 7:
            d->now += p < 128 ? (int64_t)p * 10 : (int64_t)(p - 127) * 1000;
            break;
        case 8:
        case 14:
            take(d);
            break;
        case 9:
            d->now += 1;
            break;
        case 13:
            if ((p & 3) == 0)
                stop(d, p);
            break;
        default:
            break;
        }
        drive(d, STEP_BUDGETS[op >> 4]);
    }
}

/* Answers whatever is left as a patient driver would, then stops what still runs. */
static void epilogue(driver *d)
{
    exec *e = d->e;
    for (int round = 0; round < EPILOGUE_ROUNDS && exec_get_status(e) == EXEC_RUNNING; round++) {
        take(d);
        if (d->n_open > 0) {
            /* small outputs only: 0-3 and 7 */
            uint8_t p = (uint8_t)((round % 4 == 3 ? 7 : round % 4) << 5);
            for (int i = 0; i < 256 && d->n_open > 0 && exec_get_status(e) == EXEC_RUNNING; i++) {
                task_outcome(d, OUT_SUCCEED, p, false);
                take(d); /* an outcome may close other tasks (a failed branch) */
            }
        } else if (exec_next_timer(e) != INT64_MAX) {
            jump_to_timer(d);
        }
        if (!budget_left(d))
            break;
        bool more = drive(d, 64);
        take(d);
        if (!more && exec_get_status(e) == EXEC_RUNNING && d->n_open == 0 && budget_left(d))
            CHECK(exec_next_timer(e) != INT64_MAX); /* waits for nothing: stuck forever */
    }
    if (exec_get_status(e) == EXEC_RUNNING)
        stop(d, 0);
    take(d);
    CHECK(d->n_open == 0);
}

/* True when v was seen before (a set of pointers, open addressing; it never fills up, as a
 * history holds at most MAX_SEEN / 2 events). */
#define MAX_SEEN 4096
static bool seen_before(const json_t **seen, const json_t *v)
{
    size_t i = ((uintptr_t)v >> 4) * 0x9E3779B97F4A7C15u % MAX_SEEN;
    while (seen[i] != NULL) {
        if (seen[i] == v)
            return true;
        i = (i + 1) % MAX_SEEN;
    }
    seen[i] = v;
    return false;
}

/* Every recorded payload can be written back (GetExecutionHistory): each event renders
 * with its data (data shared by several events is rendered once) and without. */
static void check_rendering(const history *h)
{
    static const json_t *seen[MAX_SEEN];
    CHECK(h->len <= MAX_SEEN / 2);
    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < h->len; i++) {
        const hist_event *ev = &h->events[i];
        bool with_data = ev->data != NULL && !seen_before(seen, ev->data);
        json_t *j = history_event_to_json(ev, with_data);
        if (j == NULL) {
            fprintf(stderr, "fuzz_engine: event %u (%s) cannot be rendered\n", ev->id,
                    hist_type_name(ev->type));
            abort();
        }
        json_decref(j);
    }
    json_t *all = history_to_json(h, 0);
    CHECK(all != NULL && json_array_size(all) == h->len);
    json_decref(all);
}

static bool split(const uint8_t *data, size_t size, size_t from, size_t *at)
{
    for (size_t i = from; i + sizeof(SEP) - 1 <= size; i++) {
        if (memcmp(data + i, SEP, sizeof(SEP) - 1) == 0) {
            *at = i;
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    init_values();
    size_t def_end = size, in_end = size;
    const uint8_t *script = NULL;
    size_t script_len = 0;
    if (split(data, size, 0, &def_end)) {
        size_t in_start = def_end + sizeof(SEP) - 1;
        if (split(data, size, in_start, &in_end)) {
            script = data + in_end + sizeof(SEP) - 1;
            script_len = size - in_end - (sizeof(SEP) - 1);
        }
    }
    bt_diag diag;
    bt_diag_init(&diag);
    asl_machine *m = NULL;
    int rc = asl_load_text((const char *)data, def_end, &m, &diag);
    bt_diag_fini(&diag);
    if (rc != 0) {
        CHECK(m == NULL);
        return 0;
    }
    json_t *input = NULL;
    if (def_end < size) {
        size_t in_start = def_end + sizeof(SEP) - 1;
        input = json_loadb((const char *)data + in_start, in_end - in_start, JSON_DECODE_ANY, NULL);
    }
    if (input == NULL)
        input = json_pack("{s:[i,i,i]}", "items", 1, 2, 3);

    json_t *input_copy = json_deep_copy(input);
    uint8_t config = script_len > 0 ? script[0] : 0;
    driver d = {.now = T0,
                .max_events = QUOTAS[config & 7],
                .auto_take = (config & 8) != 0,
                .end_len = SIZE_MAX};
    exec_config cfg = {.name = "fuzz",
                       .arn = "arn:aws:states:us-east-1:123456789012:execution:m:fuzz",
                       .sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                       .sm_name = "m",
                       .role_arn = "arn:aws:iam::123456789012:role/r",
                       .region = "us-east-1",
                       .start_ms = T0,
                       .seed = SEED,
                       .max_events = d.max_events};
    d.e = exec_new(m, input, &cfg);
    check_state(&d);
    drive(&d, 16);
    if (script)
        run_script(&d, script, script_len);
    epilogue(&d);
    check_state(&d);

    check_rendering(exec_history(d.e));

    exec_free(d.e);
    free(d.open);
    /* the engine borrowed these and must have let go of every reference, unchanged */
    CHECK(atomic_load(&m->refs) == 1);
    CHECK(unshared(input) && json_equal(input, input_copy));
    for (int i = 0; i < N_OUTPUTS; i++)
        CHECK(unshared(outputs[i]) && json_equal(outputs[i], pristine[i]));
    asl_machine_unref(m);
    json_decref(input);
    json_decref(input_copy);
    return 0;
}
