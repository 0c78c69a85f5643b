/*
 * teststate.c — TestState: one state run on its own, as Step Functions' API reference
 * defines it (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html,
 * and the Developer Guide's "Testing state machines with TestState API",
 * https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html).
 * Called on the engine thread from api/sfn.c. The state runs through the engine's probe
 * (exec_probe) on a virtual clock, so waits and back-offs cost nothing while AWS's
 * five-minute bound still holds; no execution record, history or event reaches the store.
 * A Task without a mock calls the integration Baton serves for it (SQS sendMessage: the
 * message is really sent, as on AWS), and fails as AWS would when none does.
 */
#include "base/alloc.h"
#include "base/diag.h"
#include "base/json.h"
#include "engine/local.h"
#include "server/server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* AWS's bounds: definition 1 MiB, every other document 256 KiB (SensitiveData), a run of
 * five minutes ("If the execution of a state exceeds this duration, it fails with the
 * States.Timeout error"). */
#define MAX_DEFINITION 1048576
#define MAX_DOCUMENT   262144
#define MAX_RUN_S      300

typedef struct request {
    const char *level; /* INFO, DEBUG or TRACE */
    json_t *input, *variables;
    bool has_mock;
    json_t *mock_result;
    const char *mock_error, *mock_cause;
    int64_t retrier_retry_count;
} request;

static void request_fini(request *q)
{
    json_decref(q->input);
    json_decref(q->variables);
    json_decref(q->mock_result);
}

static const char *member(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int too_long(const char *what, const char *text, size_t max, sfn_err *err)
{
    if (strlen(text) <= max)
        return 0;
    return sfn_fail(err, "ValidationException",
                    "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                    "Member must have length less than or equal to %zu",
                    what, max);
}

static int not_in_enum(const char *what, const char *value, const char *set, sfn_err *err)
{
    return sfn_fail(err, "ValidationException",
                    "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                    "constraint: Member must satisfy enum value set: [%s]",
                    value, what, set);
}

/* A nested member of the expected JSON type, or NULL when absent; -1 in *rc when mistyped. */
static json_t *typed(json_t *o, const char *key, bool (*is)(const json_t *), const char *word,
                     const char *of, int *rc, sfn_err *err)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!is(v)) {
        *rc = sfn_fail(err, "SerializationException", "Expected %s for member '%s' of %s", word,
                       key, of);
        return NULL;
    }
    return v;
}

static bool is_string(const json_t *v)
{
    return json_is_string(v);
}

static bool is_object(const json_t *v)
{
    return json_is_object(v);
}

static bool is_integer(const json_t *v)
{
    return json_is_integer(v);
}

/* mock: exactly one of result and errorOutput {error, cause}; fieldValidationMode. Baton
 * holds no service API models, so a result is checked as JSON whatever the mode. */
static int read_mock(json_t *mock, request *q, sfn_err *err)
{
    int rc = 0;
    json_t *result = typed(mock, "result", is_string, "a string", "MockInput", &rc, err);
    json_t *eo = typed(mock, "errorOutput", is_object, "an object", "MockInput", &rc, err);
    json_t *mode = typed(mock, "fieldValidationMode", is_string, "a string", "MockInput", &rc, err);
    if (rc != 0)
        return rc;
    if ((result == NULL) == (eo == NULL))
        return sfn_fail(err, "ValidationException",
                        "A test mock should have only one of the following fields: [result, "
                        "errorOutput].");
    const char *m = json_string_value(mode);
    if (m && strcmp(m, "STRICT") != 0 && strcmp(m, "PRESENT") != 0 && strcmp(m, "NONE") != 0)
        return not_in_enum("mock.fieldValidationMode", m, "STRICT, PRESENT, NONE", err);
    q->has_mock = true;
    if (eo) {
        json_t *error = typed(eo, "error", is_string, "a string", "MockErrorOutput", &rc, err);
        json_t *cause = typed(eo, "cause", is_string, "a string", "MockErrorOutput", &rc, err);
        if (rc != 0)
            return rc;
        if (error == NULL)
            return sfn_fail(err, "ValidationException",
                            "1 validation error detected: Value null at 'mock.errorOutput.error' "
                            "failed to satisfy constraint: Member must not be null");
        q->mock_error = json_string_value(error);
        q->mock_cause = json_string_value(cause);
        return 0;
    }
    if (too_long("mock.result", json_string_value(result), MAX_DOCUMENT, err) != 0)
        return -1;
    json_error_t jerr;
    q->mock_result = json_loads(json_string_value(result), JSON_DECODE_ANY, &jerr);
    if (q->mock_result == NULL)
        return sfn_fail(err, "ValidationException", "Mocked result must be valid JSON: %s",
                        jerr.text);
    return 0;
}

/* stateConfiguration: Baton runs retrierRetryCount; the Map and error-origin settings need
 * the children a mock replaces, which Baton does not run, so they are refused by name. */
static int read_configuration(json_t *cfg, request *q, sfn_err *err)
{
    static const char *const refused[] = {"errorCausedByState", "mapIterationFailureCount",
                                          "mapItemReaderData"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (json_object_get(cfg, refused[i]) && !json_is_null(json_object_get(cfg, refused[i])))
            return sfn_fail(err, "ValidationException",
                            "Baton's TestState does not support stateConfiguration.%s", refused[i]);
    int rc = 0;
    json_t *n =
        typed(cfg, "retrierRetryCount", is_integer, "a number", "TestStateConfiguration", &rc, err);
    if (rc != 0)
        return rc;
    if (n && json_integer_value(n) < 0)
        return sfn_fail(err, "ValidationException",
                        "1 validation error detected: Value '%lld' at "
                        "'stateConfiguration.retrierRetryCount' failed to satisfy constraint: "
                        "Member must have value greater than or equal to 0",
                        (long long)json_integer_value(n));
    q->retrier_retry_count = n ? json_integer_value(n) : 0;
    return 0;
}

static int read_documents(json_t *req, request *q, sfn_err *err)
{
    const char *input = member(req, "input");
    if (input == NULL)
        input = "{}";
    if (too_long("input", input, MAX_DOCUMENT, err) != 0)
        return -1;
    json_error_t jerr;
    q->input = json_loads(input, JSON_DECODE_ANY, &jerr);
    if (q->input == NULL)
        return sfn_fail(err, "InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'",
                        jerr.text);
    const char *vars = member(req, "variables");
    if (vars == NULL)
        return 0;
    if (too_long("variables", vars, MAX_DOCUMENT, err) != 0)
        return -1;
    q->variables = json_loads(vars, JSON_DECODE_ANY, &jerr);
    if (!json_is_object(q->variables))
        return sfn_fail(err, "InvalidExecutionInput",
                        "Invalid variables: a JSON object of variable names and values is "
                        "expected%s%s",
                        q->variables ? "" : ": ", q->variables ? "" : jerr.text);
    return 0;
}

static int read_request(json_t *req, request *q, sfn_err *err)
{
    q->level = member(req, "inspectionLevel");
    if (q->level == NULL)
        q->level = "INFO";
    if (strcmp(q->level, "INFO") != 0 && strcmp(q->level, "DEBUG") != 0 &&
        strcmp(q->level, "TRACE") != 0)
        return not_in_enum("inspectionLevel", q->level, "INFO, DEBUG, TRACE", err);
    const char *role = member(req, "roleArn");
    if (role && sfn_check_role(role, err) != 0)
        return -1;
    json_t *mock = json_object_get(req, "mock");
    if (mock && read_mock(mock, q, err) != 0)
        return -1;
    if (q->has_mock && json_is_true(json_object_get(req, "revealSecrets")))
        return sfn_fail(err, "ValidationException",
                        "TestState does not support RevealSecrets when a mock is specified.");
    if (member(req, "context")) {
        if (!q->has_mock)
            return sfn_fail(err, "ValidationException",
                            "A context may only be specified together with a mock.");
        return sfn_fail(err, "ValidationException",
                        "Baton's TestState does not support a context object");
    }
    json_t *cfg = json_object_get(req, "stateConfiguration");
    if (cfg && read_configuration(cfg, q, err) != 0)
        return -1;
    return read_documents(req, q, err);
}

/* ---- the definition ----------------------------------------------------------------- */

/* The name a lone state is tested under (its context's State.Name). */
static const char LONE_NAME[] = "TestState";

static void add_target(json_t *states, json_t *name)
{
    const char *n = json_string_value(name);
    if (n && strcmp(n, LONE_NAME) != 0 && json_object_get(states, n) == NULL)
        json_object_set_new(states, n, json_pack("{s:s}", "Type", "Succeed"));
}

/* A lone state as a machine of its own: the states it may go to stand in as Succeed states,
 * since a state is tested without the machine it belongs to. */
static json_t *machine_of_state(json_t *state)
{
    json_t *states = json_object();
    json_object_set(states, LONE_NAME, state);
    add_target(states, json_object_get(state, "Next"));
    add_target(states, json_object_get(state, "Default"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(state, "Choices"), i, v)
    {
        add_target(states, json_object_get(v, "Next"));
    }
    json_array_foreach(json_object_get(state, "Catch"), i, v)
    {
        add_target(states, json_object_get(v, "Next"));
    }
    return json_pack("{s:s, s:o}", "StartAt", LONE_NAME, "States", states);
}

static int compile(const char *text, const char *state_name, asl_machine **out, sfn_err *err)
{
    if (too_long("definition", text, MAX_DEFINITION, err) != 0)
        return -1;
    json_t *doc = json_loads(text, 0, NULL);
    if (doc && state_name == NULL && json_is_object(doc)) {
        json_t *whole = machine_of_state(doc);
        json_decref(doc);
        doc = whole;
    }
    char *wrapped = doc ? bt_json_dumps(doc) : NULL;
    json_decref(doc);
    bt_diag d;
    bt_diag_init(&d);
    const char *src = wrapped ? wrapped : text; /* unparsable: the parser says why */
    int rc = asl_load_text(src, strlen(src), out, &d);
    if (rc != 0) {
        char *why = bt_diag_format(&d);
        sfn_fail(err, "InvalidDefinition", "%s", why);
        free(why);
    }
    bt_diag_fini(&d);
    free(wrapped);
    return rc == 0 ? 0 : -1;
}

/* The state named name in g or any graph below it. */
static const asl_state *find_state(const asl_graph *g, const char *name, const asl_graph **in)
{
    for (size_t i = 0; i < g->n_states; i++) {
        const asl_state *st = g->states[i];
        if (strcmp(st->name, name) == 0) {
            *in = g;
            return st;
        }
        const asl_state *found = NULL;
        for (size_t b = 0; b < st->n_branches && found == NULL; b++)
            found = find_state(st->branches[b], name, in);
        if (found == NULL && st->processor)
            found = find_state(st->processor, name, in);
        if (found)
            return found;
    }
    return NULL;
}

/* What AWS allows of each state type with and without a mock (API reference: "TestState only
 * supports the following when a mock is specified: Activity tasks, .sync or .waitForTaskToken
 * service integration patterns, Parallel, or Map states"). */
static int check_state(const asl_state *st, const request *q, const char *role, sfn_err *err)
{
    bool branching = st->type == ASL_MAP || st->type == ASL_PARALLEL;
    if (q->has_mock && st->type != ASL_TASK && !branching)
        return sfn_fail(err, "ValidationException",
                        "State type '%s' is not supported when a mock is specified",
                        asl_state_type_name(st->type));
    if (!q->has_mock && branching)
        return sfn_fail(err, "InvalidDefinition",
                        "TestState API does not support Map or Parallel states. Supported state "
                        "types include: [Task, Wait, Pass, Succeed, Fail, Choice]");
    if (st->type == ASL_TASK && !q->has_mock) {
        if (st->task_kind == ASL_TASK_ACTIVITY || st->task_pattern != ASL_PATTERN_REQUEST_RESPONSE)
            return sfn_fail(err, "InvalidDefinition",
                            "TestState API supports Activity tasks and the .sync and "
                            ".waitForTaskToken service integration patterns only when a mock "
                            "is specified");
        if (role == NULL)
            return sfn_fail(err, "ValidationException",
                            "RoleArn must be specified when testing a Task state");
    }
    if (q->mock_result && branching && !json_is_array(q->mock_result))
        return sfn_fail(err, "ValidationException", "Mocked result must be an array.");
    if (q->mock_result && st->type == ASL_PARALLEL &&
        json_array_size(q->mock_result) != st->n_branches)
        return sfn_fail(err, "ValidationException",
                        "Mocked result must contain the same number of items as number of "
                        "Parallel branches.");
    return 0;
}

/* ---- running it --------------------------------------------------------------------- */

/* Answers every task from the mock, at once. */
static bool answers_all(void *self, const char *state_name, const char *resource)
{
    (void)self, (void)state_name, (void)resource;
    return true;
}

static int mock_start(void *self, const integ_task *t, const integ_sink *sink)
{
    const request *q = self;
    if (q->mock_error)
        sink->failed(sink->ud, t->id, q->mock_error, q->mock_cause);
    else
        sink->succeeded(sink->ud, t->id, q->mock_result);
    return 0;
}

/* Fails a task no integration of the server takes, in the words execs.c uses — or one that
 * answers only later (a function), which a state run to its end at once cannot wait for. */
static int unserved_start(void *self, const integ_task *t, const integ_sink *sink)
{
    const server *s = self;
    bool later = false;
    for (size_t i = 0; s != NULL && i < s->n_integs; i++)
        if (s->integs[i].ops->handles(s->integs[i].self, t->state_name, t->resource)) {
            later = s->integs[i].ops->answers_later;
            break;
        }
    char *cause = later ? bt_xasprintf("TestState runs '%s' only with a mock in Baton: its "
                                       "answer comes later than TestState waits",
                                       t->resource)
                        : bt_xasprintf("Baton does not serve the resource '%s'", t->resource);
    sink->failed(sink->ud, t->id, "States.TaskFailed", cause);
    free(cause);
    return 0;
}

static void no_cancel(void *self, const char *execution_arn, uint64_t task_id)
{
    (void)self, (void)execution_arn, (void)task_id;
}

static const integ_ops mock_ops = {"teststate-mock", answers_all, mock_start,
                                   no_cancel,        NULL,        false};
static const integ_ops unserved_ops = {
    "teststate-unserved", answers_all, unserved_start, no_cancel, NULL, false};

static void run_probe(server *s, asl_machine *m, request *q, const char *role, exec_probe *p,
                      exec **out)
{
    char arn[256], sm_arn[256];
    snprintf(sm_arn, sizeof sm_arn, "arn:aws:states:%s:%s:stateMachine:TestStateMachine",
             server_region(s), server_account(s));
    snprintf(arn, sizeof arn, "arn:aws:states:%s:%s:express:TestStateMachine:TestState",
             server_region(s), server_account(s));
    exec_config cfg = {.name = "TestState",
                       .arn = arn,
                       .sm_arn = sm_arn,
                       .sm_name = "TestStateMachine",
                       .role_arn = role,
                       .region = server_region(s),
                       .start_ms = s->now_ms,
                       .seed = (uint64_t)s->now_ms,
                       .probe = p};
    p->variables = q->variables;
    p->retrier_retry_count = q->retrier_retry_count;
    p->timeout_s = MAX_RUN_S;
    p->has_mock = q->has_mock;
    p->mock_result = q->mock_result;
    p->mock_error = q->mock_error;
    p->mock_cause = q->mock_cause;
    integ integs[SERVER_MAX_INTEGS + 1];
    size_t n = 0;
    if (q->has_mock) {
        integs[n++] = (integ){&mock_ops, q};
    } else {
        for (size_t i = 0; i < s->n_integs; i++)
            if (!s->integs[i].ops->answers_later)
                integs[n++] = s->integs[i];
        integs[n++] = (integ){&unserved_ops, s};
    }
    *out = exec_new(m, q->input, &cfg);
    local_run(*out, integs, n, true);
}

/* ---- the response ------------------------------------------------------------------- */

static void set_text(json_t *o, const char *key, json_t *v)
{
    char *text = v ? bt_json_dumps(v) : NULL;
    if (text)
        json_object_set_new(o, key, json_string(text));
    free(text);
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

/* DEBUG's inspectionData: the payload after each step the state has, as AWS reports them
 * for that type (a Pass with Result shows the Result in place of InputPath and Parameters;
 * Choice, Wait, Succeed and Fail end at InputPath). */
static json_t *inspection(const asl_state *st, const exec_probe *p, const request *q)
{
    json_t *o = json_object();
    set_text(o, "input", p->input);
    bool pass_result = st->type == ASL_PASS && st->result;
    bool has_result = st->type == ASL_PASS || st->type == ASL_TASK || st->type == ASL_MAP ||
                      st->type == ASL_PARALLEL;
    if (!pass_result) {
        set_text(o, "afterInputPath", p->after_input_path);
        set_text(o, "afterParameters", p->after_parameters);
    }
    if (has_result) {
        if (st->type != ASL_PASS || pass_result)
            set_text(o, "result", p->result);
        set_text(o, "afterResultSelector", p->after_result_selector);
        set_text(o, "afterResultPath", p->after_result_path);
    }
    json_t *vars = p->variables_after ? p->variables_after : q->variables;
    if (vars && json_object_size(vars) > 0)
        set_text(o, "variables", vars);
    if (p->retry_index >= 0 && p->status == EXEC_PROBE_RETRIABLE)
        json_object_set_new(o, "errorDetails",
                            json_pack("{s:i, s:I}", "retryIndex", p->retry_index,
                                      "retryBackoffIntervalSeconds",
                                      (json_int_t)(p->retry_backoff_ms / 1000)));
    else if (p->catch_index >= 0)
        json_object_set_new(o, "errorDetails", json_pack("{s:i}", "catchIndex", p->catch_index));
    return o;
}

static const char *status_name(exec_probe_status st)
{
    switch (st) {
    case EXEC_PROBE_SUCCEEDED:
        return "SUCCEEDED";
    case EXEC_PROBE_RETRIABLE:
        return "RETRIABLE";
    case EXEC_PROBE_CAUGHT_ERROR:
        return "CAUGHT_ERROR";
    case EXEC_PROBE_FAILED:
        break;
    }
    return "FAILED";
}

static json_t *response(const asl_state *st, exec *e, const exec_probe *p, const request *q)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(status_name(p->status)));
    if (p->status == EXEC_PROBE_SUCCEEDED || p->status == EXEC_PROBE_CAUGHT_ERROR) {
        set_text(o, "output", exec_output(e));
        set_str(o, "nextState", p->next_state);
    }
    if (p->status == EXEC_PROBE_RETRIABLE || p->status == EXEC_PROBE_CAUGHT_ERROR) {
        set_str(o, "error", p->error);
        set_str(o, "cause", p->cause);
    } else if (exec_get_status(e) == EXEC_TIMED_OUT) {
        set_str(o, "error", "States.Timeout");
        set_str(o, "cause", "The state did not finish within the five minutes TestState runs.");
    } else if (p->status == EXEC_PROBE_FAILED) {
        set_str(o, "error", exec_error(e));
        set_str(o, "cause", exec_cause(e));
    }
    if (strcmp(q->level, "INFO") != 0) /* TRACE adds HTTP Tasks' traffic: Baton runs none */
        json_object_set_new(o, "inspectionData", inspection(st, p, q));
    return o;
}

json_t *sfn_test_state(server *s, json_t *req, sfn_err *err)
{
    request q = {0};
    asl_machine *m = NULL;
    json_t *out = NULL;
    const char *state_name = member(req, "stateName");
    const char *role = member(req, "roleArn");
    if (read_request(req, &q, err) != 0 ||
        compile(member(req, "definition"), state_name, &m, err) != 0)
        goto out;
    const asl_graph *g = m->top;
    const asl_state *st =
        state_name ? find_state(m->top, state_name, &g) : asl_graph_find(m->top, LONE_NAME);
    if (st == NULL) {
        sfn_fail(err, "ValidationException",
                 "The state '%s' is not found in the state machine definition", state_name);
        goto out;
    }
    if (check_state(st, &q, role, err) != 0)
        goto out;
    exec_probe p = {.graph = g, .state = st->index};
    exec *e = NULL;
    run_probe(s, m, &q, role, &p, &e);
    out = response(st, e, &p, &q);
    exec_free(e);
    exec_probe_fini(&p);
out:
    asl_machine_unref(m);
    request_fini(&q);
    return out;
}
