/*
 * compile.c — turns a validated definition into the executable graph of asl.h: state
 * names resolved to indexes, paths, templates, intrinsics, Choice rules and Task resources
 * compiled. Called once per state-machine version (CreateStateMachine, `baton run`).
 * Anything the validator let through but that fails to compile is reported through
 * bt_diag, never asserted. Names resolve through one hash map per graph, so compiling is
 * linear in the size of the definition.
 */
#include "asl/asl.h"
#include "asl/validate.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/strmap.h"
#include "base/timefmt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
#define ASL_STATE(e, name) #name,
#include "asl/states.def"
#undef ASL_STATE
};

const char *asl_state_type_name(asl_state_type t)
{
    return type_names[t];
}

typedef struct cctx {
    bt_diag *diag;
    bt_buf ptr;           /* JSON Pointer of the field being compiled */
    size_t n_task_states; /* Task states numbered so far (the next task_slot) */
    bool top_jsonata;     /* the machine's QueryLanguage is JSONata */
} cctx;

static void graph_free(asl_graph *g);

static void fail(cctx *c, const char *field, const char *msg)
{
    size_t keep = c->ptr.len;
    if (field) {
        bt_buf_putc(&c->ptr, '/');
        bt_diag_pointer_token(&c->ptr, field);
    }
    bt_diag_add(c->diag, "SCHEMA_VALIDATION_FAILED", c->ptr.data ? c->ptr.data : "", "%s", msg);
    c->ptr.len = keep;
    if (c->ptr.data)
        c->ptr.data[keep] = '\0';
}

static int compile_path(cctx *c, json_t *st, const char *field, unsigned flags, jpath **out)
{
    json_t *v = json_object_get(st, field);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        fail(c, field, "The value must be a string path");
        return BT_EINVAL;
    }
    char *err = NULL;
    if (jpath_compile(json_string_value(v), flags, out, &err) != 0) {
        char *m = bt_xasprintf("The value for the field '%s' must be a valid JSONPath", field);
        fail(c, field, m);
        free(m);
        free(err);
        return BT_EINVAL;
    }
    return 0;
}

static int compile_pathopt(cctx *c, json_t *st, const char *field, unsigned flags, asl_pathopt *out)
{
    json_t *v = json_object_get(st, field);
    out->path = NULL;
    if (v == NULL) {
        out->kind = ASL_PATH_DEFAULT;
        return 0;
    }
    if (json_is_null(v)) {
        out->kind = ASL_PATH_NULL;
        return 0;
    }
    out->kind = ASL_PATH_SET;
    return compile_path(c, st, field, flags, &out->path);
}

static int compile_payload(cctx *c, json_t *st, const char *field, payload **out)
{
    json_t *v = json_object_get(st, field);
    *out = NULL;
    if (v == NULL)
        return 0;
    char *err = NULL;
    if (payload_compile(v, out, &err) != 0) {
        fail(c, field, err ? err : "invalid payload template");
        free(err);
        return BT_EINVAL;
    }
    return 0;
}

static int compile_intopt(cctx *c, json_t *st, const char *field, const char *path_field,
                          asl_intopt *out)
{
    json_t *v = json_object_get(st, field);
    memset(out, 0, sizeof(*out));
    if (v && json_is_number(v)) {
        out->is_set = true;
        out->value = json_is_integer(v) ? json_integer_value(v) : (int64_t)json_real_value(v);
    }
    if (path_field && json_object_get(st, path_field)) {
        out->is_set = true;
        return compile_path(c, st, path_field, JPATH_REFERENCE, &out->path);
    }
    return 0;
}

/* A JSONata state builds its context object only when one of its expressions reads
 * $states.context: s->uses_context gathers that from each field compiled. */
static int compile_jt(cctx *c, asl_state *s, json_t *obj, const char *field, asl_jt **out)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (v == NULL)
        return 0;
    asl_jt_problem p;
    if (asl_jt_compile(v, out, &p) != 0) {
        fail(c, field, p.err.message ? p.err.message : "Invalid JSONata expression");
        asl_jt_problem_fini(&p);
        return BT_EINVAL;
    }
    if (asl_jt_reads_of(*out)->states & ASL_JT_CONTEXT)
        s->uses_context = true;
    return 0;
}

static bool state_is_jsonata(const cctx *c, json_t *st)
{
    const char *ql = json_string_value(json_object_get(st, "QueryLanguage"));
    if (ql && strcmp(ql, "JSONata") == 0)
        return true;
    if (ql && strcmp(ql, "JSONPath") == 0)
        return false;
    return c->top_jsonata;
}

static int compile_jfields(cctx *c, asl_state *s, json_t *st)
{
    asl_jfields *j = s->jn = bt_xcalloc(1, sizeof(*j));
    static const struct {
        const char *field;
        size_t offset;
    } fields[] = {
        {"Arguments", offsetof(asl_jfields, arguments)},
        {"Output", offsetof(asl_jfields, output)},
        {"Assign", offsetof(asl_jfields, assign)},
        {"Items", offsetof(asl_jfields, items)},
        {"ItemSelector", offsetof(asl_jfields, item_selector)},
        {"MaxConcurrency", offsetof(asl_jfields, max_concurrency)},
        {"ToleratedFailureCount", offsetof(asl_jfields, tolerated_count)},
        {"ToleratedFailurePercentage", offsetof(asl_jfields, tolerated_percent)},
        {"Seconds", offsetof(asl_jfields, seconds)},
        {"Timestamp", offsetof(asl_jfields, timestamp)},
        {"TimeoutSeconds", offsetof(asl_jfields, timeout)},
        {"HeartbeatSeconds", offsetof(asl_jfields, heartbeat)},
        {"Error", offsetof(asl_jfields, error)},
        {"Cause", offsetof(asl_jfields, cause)},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (compile_jt(c, s, st, fields[i].field, (asl_jt **)((char *)j + fields[i].offset)) != 0)
            rc = BT_EINVAL;
    return rc;
}

static void jfields_free(asl_jfields *j)
{
    if (j == NULL)
        return;
    asl_jt *const all[] = {j->arguments,       j->output,
                           j->assign,          j->items,
                           j->item_selector,   j->max_concurrency,
                           j->tolerated_count, j->tolerated_percent,
                           j->seconds,         j->timestamp,
                           j->timeout,         j->heartbeat,
                           j->error,           j->cause};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        asl_jt_free(all[i]);
    free(j);
}

/* names maps each state name of the graph being compiled to its asl_state. */
static size_t resolve(const bt_strmap *names, const char *name)
{
    const asl_state *s = bt_strmap_get(names, name);
    return s ? s->index : ASL_NO_STATE;
}

static void errors_init(asl_errors *e, json_t *arr)
{
    e->len = json_array_size(arr);
    e->names = bt_xcalloc(e->len ? e->len : 1, sizeof(char *));
    for (size_t i = 0; i < e->len; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        e->names[i] = bt_xstrdup(s ? s : "");
    }
}

static void errors_fini(asl_errors *e)
{
    for (size_t i = 0; i < e->len; i++)
        free(e->names[i]);
    free(e->names);
}

static double num(json_t *v, double dflt)
{
    return v && json_is_number(v) ? json_number_value(v) : dflt;
}

static asl_graph *compile_graph(cctx *c, json_t *g, int depth);

static int link_next(cctx *c, const bt_strmap *names, asl_state *s, json_t *st)
{
    json_t *next = json_object_get(st, "Next");
    s->is_end = json_is_true(json_object_get(st, "End"));
    s->next = ASL_NO_STATE;
    if (json_is_string(next)) {
        s->next = resolve(names, json_string_value(next));
        if (s->next == ASL_NO_STATE) {
            fail(c, "Next", "Missing 'Next' target");
            return BT_EINVAL;
        }
    }
    return 0;
}

static int compile_retry_catch(cctx *c, const bt_strmap *names, asl_state *s, json_t *st)
{
    bool jsonata = s->jn != NULL;
    json_t *retry = json_object_get(st, "Retry");
    json_t *catch = json_object_get(st, "Catch");
    int rc = 0;
    s->n_retriers = json_array_size(retry);
    if (s->n_retriers) {
        s->retriers = bt_xcalloc(s->n_retriers, sizeof(*s->retriers));
        for (size_t i = 0; i < s->n_retriers; i++) {
            json_t *r = json_array_get(retry, i);
            asl_retrier *ar = &s->retriers[i];
            errors_init(&ar->errors, json_object_get(r, "ErrorEquals"));
            ar->interval_s = num(json_object_get(r, "IntervalSeconds"), 1);
            ar->max_attempts = (int64_t)num(json_object_get(r, "MaxAttempts"), 3);
            ar->backoff_rate = num(json_object_get(r, "BackoffRate"), 2.0);
            ar->max_delay_s = (int64_t)num(json_object_get(r, "MaxDelaySeconds"), 0);
            const char *js = json_string_value(json_object_get(r, "JitterStrategy"));
            ar->jitter_full = js && strcmp(js, "FULL") == 0;
        }
    }
    s->n_catchers = json_array_size(catch);
    if (s->n_catchers) {
        s->catchers = bt_xcalloc(s->n_catchers, sizeof(*s->catchers));
        for (size_t i = 0; i < s->n_catchers; i++) {
            json_t *k = json_array_get(catch, i);
            asl_catcher *ac = &s->catchers[i];
            errors_init(&ac->errors, json_object_get(k, "ErrorEquals"));
            const char *next = json_string_value(json_object_get(k, "Next"));
            ac->next = next ? resolve(names, next) : ASL_NO_STATE;
            if (ac->next == ASL_NO_STATE) {
                fail(c, "Catch", "Missing 'Next' target");
                rc = BT_EINVAL;
            }
            if (compile_pathopt(c, k, "ResultPath", JPATH_REFERENCE, &ac->result_path) != 0)
                rc = BT_EINVAL;
            if (jsonata) {
                if (compile_jt(c, s, k, "Output", &ac->output) != 0 ||
                    compile_jt(c, s, k, "Assign", &ac->jassign) != 0)
                    rc = BT_EINVAL;
            } else if (compile_payload(c, k, "Assign", &ac->assign) != 0) {
                rc = BT_EINVAL;
            }
        }
    }
    return rc;
}

static int compile_fail_field(cctx *c, json_t *st, const char *field, const char *path_field,
                              char **lit, pexpr **expr)
{
    const char *v = json_string_value(json_object_get(st, field));
    if (v)
        *lit = bt_xstrdup(v);
    const char *p = json_string_value(json_object_get(st, path_field));
    if (p) {
        char *err = NULL;
        if (pexpr_compile(p, expr, &err) != 0) {
            fail(c, path_field, err ? err : "invalid path");
            free(err);
            return BT_EINVAL;
        }
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static asl_task_kind task_kind_of(const char *res)
{
    if (strncmp(res, "arn:", 4) != 0)
        return ASL_TASK_SERVICE;
    const char *service = strchr(res + 4, ':'); /* the ':' before the service name */
    if (service == NULL)
        return ASL_TASK_SERVICE;
    if (strncmp(service + 1, "lambda:", 7) == 0)
        return ASL_TASK_LAMBDA;
    if (strncmp(service + 1, "states:", 7) == 0) {
        /* arn:partition:states:region:account:activity:name — the type field itself */
        const char *p = res;
        for (int i = 0; i < 5 && p; i++) {
            p = strchr(p, ':');
            if (p)
                p++;
        }
        if (p && strncmp(p, "activity:", 9) == 0)
            return ASL_TASK_ACTIVITY;
    }
    return ASL_TASK_SERVICE;
}

/* arn:partition:service:region:account:TYPE:ACTION — TYPE may itself contain ':'
 * ("aws-sdk:s3"); a version suffix belongs to the action ("startExecution.sync:2"). */
static void split_resource(const char *res, char **type, char **action)
{
    const char *p = res;
    for (int i = 0; i < 5 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *last = strrchr(res, ':');
    if (p && last && last > p && ends_with(res, ".sync:2")) {
        const char *q = last - 1;
        while (q > p && *q != ':')
            q--;
        if (*q == ':')
            last = q;
    }
    if (p == NULL || last == NULL || last < p) {
        *type = bt_xstrdup("");
        *action = bt_xstrdup(res);
        return;
    }
    *type = bt_xstrndup(p, (size_t)(last - p));
    *action = bt_xstrdup(last + 1);
}

/* Classifies a Task's resource (asl.h); these are the rules the engine applied per run. */
static void compile_resource(cctx *c, asl_state *s, json_t *st)
{
    const char *res = json_string_value(json_object_get(st, "Resource"));
    s->resource = bt_xstrdup(res ? res : "");
    s->task_kind = task_kind_of(s->resource);
    if (s->task_kind == ASL_TASK_ACTIVITY || ends_with(s->resource, ".waitForTaskToken"))
        s->task_pattern = ASL_PATTERN_CALLBACK;
    else if (ends_with(s->resource, ".sync") || ends_with(s->resource, ".sync:2"))
        s->task_pattern = ASL_PATTERN_SYNC;
    else
        s->task_pattern = ASL_PATTERN_REQUEST_RESPONSE;
    split_resource(s->resource, &s->resource_type, &s->resource_action);
    s->task_slot = c->n_task_states++;
}

static int compile_state(cctx *c, const bt_strmap *names, asl_state *s, json_t *st, int depth)
{
    int rc = 0;
    const unsigned ref = JPATH_REFERENCE;
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != 0)                                                                              \
            rc = BT_EINVAL;                                                                        \
    } while (0)

    bool jsonata = state_is_jsonata(c, st);
    if (!jsonata) {
        char *text = json_dumps(st, JSON_COMPACT);
        s->uses_context = text && (strstr(text, "$$") != NULL || strstr(text, "$states") != NULL);
        free(text);
    }
    if (jsonata)
        CHECK(compile_jfields(c, s, st));

    CHECK(link_next(c, names, s, st));
    CHECK(compile_pathopt(c, st, "InputPath", 0, &s->input_path));
    CHECK(compile_pathopt(c, st, "OutputPath", 0, &s->output_path));
    CHECK(compile_pathopt(c, st, "ResultPath", ref | JPATH_NO_CONTEXT | JPATH_NO_VARS,
                          &s->result_path));
    CHECK(compile_payload(c, st, "ResultSelector", &s->result_selector));
    if (!jsonata)
        CHECK(compile_payload(c, st, "Assign", &s->assign));
    json_t *result = json_object_get(st, "Result");
    s->result = result ? json_incref(result) : NULL;

    switch (s->type) {
    case ASL_PASS:
        CHECK(compile_payload(c, st, "Parameters", &s->parameters));
        break;
    case ASL_TASK: {
        CHECK(compile_payload(c, st, "Parameters", &s->parameters));
        CHECK(compile_payload(c, st, "Credentials", &s->credentials));
        compile_resource(c, s, st);
        CHECK(compile_intopt(c, st, "TimeoutSeconds", "TimeoutSecondsPath", &s->timeout_s));
        CHECK(compile_intopt(c, st, "HeartbeatSeconds", "HeartbeatSecondsPath", &s->heartbeat_s));
        CHECK(compile_retry_catch(c, names, s, st));
        break;
    }
    case ASL_CHOICE: {
        json_t *choices = json_object_get(st, "Choices");
        s->n_choices = json_array_size(choices);
        s->choices = bt_xcalloc(s->n_choices ? s->n_choices : 1, sizeof(*s->choices));
        for (size_t i = 0; i < s->n_choices; i++) {
            json_t *r = json_array_get(choices, i);
            char *err = NULL;
            if (jsonata) {
                CHECK(compile_jt(c, s, r, "Condition", &s->choices[i].condition));
                CHECK(compile_jt(c, s, r, "Output", &s->choices[i].output));
                CHECK(compile_jt(c, s, r, "Assign", &s->choices[i].jassign));
            } else if (choice_rule_compile(r, &s->choices[i].rule, &err) != 0) {
                fail(c, "Choices", err ? err : "invalid Choice rule");
                free(err);
                rc = BT_EINVAL;
            }
            const char *next = json_string_value(json_object_get(r, "Next"));
            s->choices[i].next = next ? resolve(names, next) : ASL_NO_STATE;
            if (s->choices[i].next == ASL_NO_STATE) {
                fail(c, "Choices", "Missing 'Next' target");
                rc = BT_EINVAL;
            }
            if (!jsonata)
                CHECK(compile_payload(c, r, "Assign", &s->choices[i].assign));
        }
        const char *dflt = json_string_value(json_object_get(st, "Default"));
        s->default_next = dflt ? resolve(names, dflt) : ASL_NO_STATE;
        if (dflt && s->default_next == ASL_NO_STATE) {
            fail(c, "Default", "Missing 'Default' target");
            rc = BT_EINVAL;
        }
        break;
    }
    case ASL_WAIT: {
        CHECK(compile_intopt(c, st, "Seconds", "SecondsPath", &s->wait_seconds));
        const char *ts = json_string_value(json_object_get(st, "Timestamp"));
        if (ts && !jsonata) {
            s->has_timestamp = true;
            if (!bt_time_parse_rfc3339(ts, &s->timestamp_ms)) {
                fail(c, "Timestamp", "String does not match RFC3339 timestamp");
                rc = BT_EINVAL;
            }
        }
        CHECK(compile_path(c, st, "TimestampPath", ref, &s->timestamp_path));
        break;
    }
    case ASL_SUCCEED:
        break;
    case ASL_FAIL:
        if (!jsonata) {
            CHECK(compile_fail_field(c, st, "Error", "ErrorPath", &s->error, &s->error_path));
            CHECK(compile_fail_field(c, st, "Cause", "CausePath", &s->cause, &s->cause_path));
        }
        break;
    case ASL_PARALLEL: {
        CHECK(compile_payload(c, st, "Parameters", &s->parameters));
        CHECK(compile_retry_catch(c, names, s, st));
        json_t *branches = json_object_get(st, "Branches");
        s->n_branches = json_array_size(branches);
        s->branches = bt_xcalloc(s->n_branches ? s->n_branches : 1, sizeof(*s->branches));
        for (size_t i = 0; i < s->n_branches; i++) {
            s->branches[i] = compile_graph(c, json_array_get(branches, i), depth + 1);
            if (s->branches[i] == NULL)
                rc = BT_EINVAL;
        }
        break;
    }
    case ASL_MAP: {
        CHECK(compile_retry_catch(c, names, s, st));
        json_t *proc = json_object_get(st, "ItemProcessor");
        if (proc == NULL)
            proc = json_object_get(st, "Iterator");
        const char *mode =
            json_string_value(json_object_get(json_object_get(proc, "ProcessorConfig"), "Mode"));
        s->is_distributed = mode && strcmp(mode, "DISTRIBUTED") == 0;
        s->processor = proc ? compile_graph(c, proc, depth + 1) : NULL;
        if (s->processor == NULL)
            rc = BT_EINVAL;
        CHECK(compile_path(c, st, "ItemsPath", ref, &s->items_path));
        if (jsonata)
            ; /* Items and ItemSelector are in s->jn */
        else if (json_object_get(st, "ItemSelector"))
            CHECK(compile_payload(c, st, "ItemSelector", &s->item_selector));
        else
            CHECK(compile_payload(c, st, "Parameters", &s->item_selector));
        CHECK(compile_intopt(c, st, "MaxConcurrency", "MaxConcurrencyPath", &s->max_concurrency));
        CHECK(compile_intopt(c, st, "ToleratedFailureCount", "ToleratedFailureCountPath",
                             &s->tolerated_count));
        json_t *tp = json_object_get(st, "ToleratedFailurePercentage");
        if (tp && json_is_number(tp)) {
            s->has_tolerated_percent = true;
            s->tolerated_percent = json_number_value(tp);
        }
        if (json_object_get(st, "ToleratedFailurePercentagePath")) {
            s->has_tolerated_percent = true;
            CHECK(compile_path(c, st, "ToleratedFailurePercentagePath", ref,
                               &s->tolerated_percent_path));
        }
        const char *label = json_string_value(json_object_get(st, "Label"));
        s->label = label ? bt_xstrdup(label) : NULL;
        break;
    }
    case ASL_N_STATE_TYPES:
        break;
    }
#undef CHECK
    return rc;
}

static asl_state_type type_of(const char *t)
{
    for (int i = 0; i < ASL_N_STATE_TYPES; i++)
        if (strcmp(type_names[i], t) == 0)
            return (asl_state_type)i;
    return ASL_N_STATE_TYPES;
}

static void state_free(asl_state *s)
{
    if (s == NULL)
        return;
    free(s->name);
    jpath_free(s->input_path.path);
    jpath_free(s->output_path.path);
    jpath_free(s->result_path.path);
    payload_free(s->parameters);
    payload_free(s->result_selector);
    payload_free(s->assign);
    json_decref(s->result);
    free(s->resource);
    free(s->resource_type);
    free(s->resource_action);
    jpath_free(s->timeout_s.path);
    jpath_free(s->heartbeat_s.path);
    payload_free(s->credentials);
    for (size_t i = 0; i < s->n_retriers; i++)
        errors_fini(&s->retriers[i].errors);
    free(s->retriers);
    for (size_t i = 0; i < s->n_catchers; i++) {
        errors_fini(&s->catchers[i].errors);
        jpath_free(s->catchers[i].result_path.path);
        payload_free(s->catchers[i].assign);
        asl_jt_free(s->catchers[i].output);
        asl_jt_free(s->catchers[i].jassign);
    }
    free(s->catchers);
    for (size_t i = 0; i < s->n_choices; i++) {
        choice_rule_free(s->choices[i].rule);
        payload_free(s->choices[i].assign);
        asl_jt_free(s->choices[i].condition);
        asl_jt_free(s->choices[i].output);
        asl_jt_free(s->choices[i].jassign);
    }
    free(s->choices);
    jpath_free(s->wait_seconds.path);
    jpath_free(s->timestamp_path);
    free(s->error);
    free(s->cause);
    pexpr_free(s->error_path);
    pexpr_free(s->cause_path);
    for (size_t i = 0; i < s->n_branches; i++)
        graph_free(s->branches[i]);
    free(s->branches);
    graph_free(s->processor);
    jpath_free(s->items_path);
    payload_free(s->item_selector);
    jpath_free(s->max_concurrency.path);
    jpath_free(s->tolerated_count.path);
    jpath_free(s->tolerated_percent_path);
    free(s->label);
    jfields_free(s->jn);
    free(s);
}

static void graph_free(asl_graph *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_states; i++)
        state_free(g->states[i]);
    free(g->states);
    free(g);
}

static asl_graph *compile_graph(cctx *c, json_t *gj, int depth)
{
    json_t *states = json_object_get(gj, "States");
    if (depth > 64 || !json_is_object(states)) {
        fail(c, NULL, "invalid or too deeply nested state machine");
        return NULL;
    }
    asl_graph *g = bt_xcalloc(1, sizeof(*g));
    g->n_states = json_object_size(states);
    g->states = bt_xcalloc(g->n_states ? g->n_states : 1, sizeof(*g->states));
    /* The graph's names, borrowed from its states; needed only while compiling it. */
    bt_strmap names;
    bt_strmap_init(&names);
    int rc = 0;
    size_t i = 0;
    const char *name;
    json_t *st;
    json_object_foreach(states, name, st)
    {
        asl_state *s = bt_xcalloc(1, sizeof(*s));
        s->name = bt_xstrdup(name);
        s->index = i;
        s->source = st;
        const char *t = json_string_value(json_object_get(st, "Type"));
        s->type = t ? type_of(t) : ASL_N_STATE_TYPES;
        g->states[i++] = s;
        /* jansson keys are unique, but two may agree up to an embedded NUL. */
        if (bt_strmap_put(&names, s->name, s) != 0) {
            fail(c, "States", "Duplicate State name");
            rc = BT_EINVAL;
        }
    }
    for (i = 0; i < g->n_states; i++) {
        asl_state *s = g->states[i];
        size_t keep = c->ptr.len;
        bt_buf_puts(&c->ptr, "/States/");
        bt_diag_pointer_token(&c->ptr, s->name);
        if (s->type == ASL_N_STATE_TYPES) {
            fail(c, "Type", "Unknown state type");
            rc = BT_EINVAL;
        } else if (compile_state(c, &names, s, s->source, depth) != 0) {
            rc = BT_EINVAL;
        }
        c->ptr.len = keep;
        if (c->ptr.data)
            c->ptr.data[keep] = '\0';
    }
    const char *start = json_string_value(json_object_get(gj, "StartAt"));
    g->start = start ? resolve(&names, start) : ASL_NO_STATE;
    if (g->start == ASL_NO_STATE) {
        fail(c, "StartAt", "Missing 'StartAt' target");
        rc = BT_EINVAL;
    }
    bt_strmap_fini(&names);
    if (rc != 0) {
        graph_free(g);
        return NULL;
    }
    return g;
}

int asl_compile(json_t *definition, asl_machine **out, bt_diag *diag)
{
    const char *ql = json_string_value(json_object_get(definition, "QueryLanguage"));
    cctx c = {.diag = diag, .n_task_states = 0, .top_jsonata = ql && strcmp(ql, "JSONata") == 0};
    bt_buf_init(&c.ptr);
    bt_buf_puts(&c.ptr, "");
    asl_graph *top = compile_graph(&c, definition, 0);
    bt_buf_fini(&c.ptr);
    if (top == NULL)
        return BT_EINVAL;
    asl_machine *m = bt_xcalloc(1, sizeof(*m));
    atomic_init(&m->refs, 1);
    m->definition = json_incref(definition);
    m->top = top;
    m->n_task_states = c.n_task_states;
    json_t *to = json_object_get(definition, "TimeoutSeconds");
    m->timeout_s = json_is_integer(to) ? json_integer_value(to) : 0;
    const char *comment = json_string_value(json_object_get(definition, "Comment"));
    m->comment = comment ? bt_xstrdup(comment) : NULL;
    *out = m;
    return 0;
}

int asl_load_text(const char *text, size_t len, asl_machine **out, bt_diag *diag)
{
    json_t *def = NULL;
    int rc = asl_validate_text(text, len, &def, diag);
    if (rc != 0)
        return rc;
    rc = asl_compile(def, out, diag);
    json_decref(def);
    return rc;
}

asl_machine *asl_machine_ref(asl_machine *m)
{
    /* The caller already holds a reference, so the count cannot reach zero meanwhile and
     * no ordering is needed here. */
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void asl_machine_unref(asl_machine *m)
{
    /* Release publishes this thread's reads of the machine before the count drops;
     * acquire makes the last owner see every other owner's before it frees. */
    if (m == NULL || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    graph_free(m->top);
    json_decref(m->definition);
    free(m->comment);
    free(m);
}

const asl_state *asl_graph_find(const asl_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_states; i++)
        if (strcmp(g->states[i]->name, name) == 0)
            return g->states[i];
    return NULL;
}
