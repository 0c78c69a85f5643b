/*
 * pipeline_jsonata.c — payload processing in JSONata mode, behind exec__pipeline: no
 * InputPath; Arguments over $states.input → (the state's work) → Output over
 * $states.input and $states.result, Assign beside it (both read the values of the state's
 * entry), a catcher's Output over $states.errorOutput. Default outputs as AWS's: a Task,
 * Parallel or Map gives its result, the other states their input, a catcher the error
 * output (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html).
 *
 * Each evaluation sees the variables of its run and the runs above it, and $states:
 * input, result, errorOutput and context where the field may read them. A failure is
 * States.QueryEvaluationError with AWS's cause texts.
 */
#include "base/alloc.h"
#include "base/err.h"
#include "engine/exec_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each evaluation's bounds: an expression of a definition or an input cannot hang the
 * engine thread, exhaust its memory or overflow its stack. The thread runs every execution
 * of the server, so a runaway expression fails its state (States.QueryEvaluationError, U1001
 * or U1002) after a second rather than hold them all; no legitimate expression over a
 * 256 KiB input comes near either bound. */
static const jn_limits eval_limits = {
    .max_depth = 2000,
    .time_limit_ms = 1000,
    .max_memory = 64u * 1024 * 1024,
    .max_stack = 2u * 1024 * 1024,
};

static bool has_result(const asl_state *st)
{
    return st->type == ASL_TASK || st->type == ASL_PARALLEL || st->type == ASL_MAP;
}

static json_t *var_of(run *r, const char *name)
{
    for (run *p = r; p; p = p->parent) {
        json_t *v = p->vars ? json_object_get(p->vars, name) : NULL;
        if (v)
            return v;
        if (p->isolated)
            break;
    }
    return NULL;
}

/* Variables bound in one evaluation at most: beyond, a template's reads go through a
 * heap array. */
#define STACK_VARS 16

/* The bindings of one evaluation: of the variables of r's scope and $states, only what the
 * template's expressions read (jn_eval converts every binding it is given). vars has room
 * for reads->n_vars + 1; states for the four members of $states. */
static size_t bindings_of(run *r, const asl_jt_reads *reads, const exec__jvals *jv, jn_var *vars,
                          jn_var *states)
{
    size_t n = 0;
    for (size_t i = 0; i < reads->n_vars; i++) {
        json_t *v = var_of(r, reads->vars[i]);
        if (v)
            vars[n++] = (jn_var){.name = reads->vars[i], .value = v};
    }
    if (reads->states == 0)
        return n;
    unsigned want = reads->states;
    size_t k = 0;
    if (jv->input && (want & ASL_JT_INPUT))
        states[k++] = (jn_var){.name = "input", .value = jv->input};
    if (jv->result && (want & ASL_JT_RESULT))
        states[k++] = (jn_var){.name = "result", .value = jv->result};
    if (jv->error_output && (want & ASL_JT_ERROR_OUTPUT))
        states[k++] = (jn_var){.name = "errorOutput", .value = jv->error_output};
    if (r->ctx && (want & ASL_JT_CONTEXT))
        states[k++] = (jn_var){.name = "context", .value = r->ctx};
    vars[n++] = (jn_var){.name = "states", .members = states, .n_members = k};
    return n;
}

/* The fault, and the EvaluationFailed event AWS writes when a JSONata evaluation fails in
 * a state (before the state's own failure events): evaluationFailedEventDetails holds the
 * error, the cause, the state's name and the field that failed
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_EvaluationFailedEventDetails.html).
 */
static void query_fault(run *r, bt_fault *f, const char *location, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    char *detail = bt_xmalloc(len + 1);
    vsnprintf(detail, len + 1, fmt, ap2);
    va_end(ap2);
    bt_fault_set(f, "States.QueryEvaluationError",
                 "An error occurred while executing the state '%s' (entered at the event id "
                 "#%u). %s",
                 r->st->name, r->entered_id, detail);
    free(detail);
    hist_event *ev = exec__emit(r, HIST_EvaluationFailed);
    exec__ev_set_error(ev, f);
    if (location != NULL)
        exec__ev_extra_set(ev, "location", json_string(location));
    exec__ev_extra_set(ev, "state", json_string(r->st->name));
}

void exec__query_fault(run *r, bt_fault *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    query_fault(r, f, NULL, fmt, ap);
    va_end(ap);
}

void exec__query_fault_at(run *r, bt_fault *f, const char *location, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    query_fault(r, f, location, fmt, ap);
    va_end(ap);
}

int exec__jt_eval(run *r, const asl_jt *t, const char *field, const exec__jvals *jv, json_t **out,
                  bt_fault *f)
{
    *out = NULL;
    json_t *c = asl_jt_constant(t);
    if (c) {
        *out = json_incref(c);
        return 0;
    }
    const asl_jt_reads *reads = asl_jt_reads_of(t);
    jn_var stack_vars[STACK_VARS], states[4];
    jn_var *vars =
        reads->n_vars < STACK_VARS ? stack_vars : bt_xmalloc((reads->n_vars + 1) * sizeof(jn_var));
    size_t n = bindings_of(r, reads, jv, vars, states);
    asl_jt_problem p;
    bt_rand *old = exec__jn_swap_rng(&r->e->rng);
    int rc = asl_jt_eval_vars(t, vars, n, exec__jn_lib(), &eval_limits, out, &p);
    exec__jn_swap_rng(old);
    if (vars != stack_vars)
        free(vars);
    if (rc == 0)
        return 0;
    char *location = bt_xasprintf("%s%s", field, p.field);
    if (p.kind == ASL_JT_UNDEFINED)
        exec__query_fault_at(r, f, location,
                             "The JSONata expression '%s' specified for the field '%s' returned "
                             "nothing (undefined).",
                             p.expr, location);
    else
        exec__query_fault_at(r, f, location,
                             "The JSONata expression '%s' specified for the field '%s' threw an "
                             "error during evaluation. %s: %s",
                             p.expr, location, p.err.code, p.err.message ? p.err.message : "");
    free(location);
    asl_jt_problem_fini(&p);
    return BT_EFAULT;
}

const char *exec__json_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

void exec__jt_type_fault(run *r, const asl_jt *t, const char *field, const char *expected,
                         const json_t *v, bt_fault *f)
{
    char *value = exec__json_text(v);
    const char *text = asl_jt_expr_text(t);
    char *lit = text ? NULL : exec__json_text(asl_jt_constant(t));
    exec__query_fault_at(r, f, field,
                         "The JSONata expression '%s' specified for the field '%s' returned an "
                         "unexpected result type. Expected '%s', but was '%s' for value: %s",
                         text ? text : lit, field, expected, exec__json_type(v), value);
    free(lit);
    free(value);
}

int exec__jt_int(run *r, const asl_jt *t, const char *field, int64_t lo, int64_t hi, int64_t *out,
                 bt_fault *f)
{
    exec__jvals jv = {.input = r->effective};
    json_t *v = NULL;
    if (exec__jt_eval(r, t, field, &jv, &v, f) != 0)
        return BT_EFAULT;
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    int rc = 0;
    if (!json_is_number(v) || d != floor(d)) {
        exec__jt_type_fault(r, t, field, "integer", v, f);
        rc = BT_EFAULT;
    } else if (d < (double)lo || d > (double)hi) {
        char *value = exec__json_text(v);
        exec__query_fault_at(r, f, field,
                             "The %s field's value %s is out of range: it must be between %lld "
                             "and %lld.",
                             field, value, (long long)lo, (long long)hi);
        free(value);
        rc = BT_EFAULT;
    } else {
        *out = (int64_t)d;
    }
    json_decref(v);
    return rc;
}

/* ---- the pipeline ------------------------------------------------------------------- */

static int jn_input(run *r, bt_fault *f)
{
    (void)f;
    exec__set_json(&r->effective, json_incref(r->input));
    return 0;
}

static int jn_arguments(run *r, const payload *tmpl, json_t *in, json_t **out, bt_fault *f)
{
    (void)tmpl; /* JSONPath's Parameters: never set in JSONata mode */
    const asl_state *st = r->st;
    if ((st->type == ASL_TASK || st->type == ASL_PARALLEL) && st->jn->arguments) {
        exec__jvals jv = {.input = in};
        return exec__jt_eval(r, st->jn->arguments, "Arguments", &jv, out, f);
    }
    *out = json_incref(in);
    return 0;
}

static int jn_result(run *r, json_t **out, exec__bound *bound, bt_fault *f)
{
    (void)f;
    const asl_state *st = r->st;
    *bound = BOUND_UNKNOWN;
    if (has_result(st) || st->type == ASL_PASS) {
        *out = json_incref(r->result ? r->result : r->effective);
    } else {
        *out = json_incref(r->effective);
        *bound = r->in_bound;
    }
    exec__set_json(&r->assign_input, json_incref(*out));
    return 0;
}

static int jn_output(run *r, json_t *in, json_t **out, exec__bound *bound, bt_fault *f)
{
    const asl_state *st = r->st;
    const asl_jt *t = r->j_exit_set ? r->j_exit_output : st->jn->output;
    if (t == NULL) {
        *out = json_incref(in);
        return 0;
    }
    exec__jvals jv = {.input = r->input, .result = has_result(st) ? in : NULL};
    *bound = BOUND_UNKNOWN;
    return exec__jt_eval(r, t, "Output", &jv, out, f);
}

static int jn_catch_result(run *r, const asl_catcher *c, json_t *eo, json_t **out, bt_fault *f)
{
    if (c->output == NULL) {
        *out = json_incref(eo);
        return 0;
    }
    exec__jvals jv = {.input = r->input, .error_output = eo};
    return exec__jt_eval(r, c->output, "Output", &jv, out, f);
}

static int jn_assign(run *r, const payload *assign, json_t *in, json_t **out, bt_fault *f)
{
    (void)assign;
    const asl_state *st = r->st;
    const asl_jt *t = r->j_exit_set ? r->j_exit_assign : st->jn->assign;
    *out = NULL;
    if (t == NULL)
        return 0;
    exec__jvals jv = {.input = r->input};
    if (r->is_catch)
        jv.error_output = in;
    else if (has_result(st))
        jv.result = in;
    if (exec__jt_eval(r, t, "Assign", &jv, out, f) != 0)
        return BT_EFAULT;
    if (!json_is_object(*out)) {
        exec__jt_type_fault(r, t, "Assign", "object", *out, f);
        json_decref(*out);
        *out = NULL;
        return BT_EFAULT;
    }
    return 0;
}

const exec__pipeline exec__jsonata = {
    .input = jn_input,
    .arguments = jn_arguments,
    .result = jn_result,
    .output = jn_output,
    .catch_result = jn_catch_result,
    .assign = jn_assign,
};
