/*
 * compile_test.c — unit tests for compile.c: name resolution (a 22,000-state Pass chain,
 * Choice/Catch/Default/StartAt by name, missing targets), state-type names from
 * states.def, Task resource classification and task_slot numbering across Parallel
 * branches and Map processors, and the machine's atomic reference count under two threads.
 */
#include "asl/asl.h"
#include "base/buf.h"
#include "base/err.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CHAIN 22000

/* Definitions are written with single quotes for readability; q() turns ' into ". */
static char *q(const char *text)
{
    bt_buf b;
    bt_buf_init(&b);
    for (const char *p = text; *p; p++)
        bt_buf_putc(&b, *p == '\'' ? '"' : *p);
    return bt_buf_steal(&b);
}

/* Parses, validates and compiles; fails the test with the diagnostics otherwise. */
static asl_machine *load(const char *text)
{
    bt_diag d;
    bt_diag_init(&d);
    asl_machine *m = NULL;
    int rc = asl_load_text(text, strlen(text), &m, &d);
    if (rc != 0) {
        char *msg = bt_diag_format(&d);
        fail_msg("definition did not load: %s", msg);
    }
    bt_diag_fini(&d);
    return m;
}

static asl_machine *load_q(const char *def)
{
    char *text = q(def);
    asl_machine *m = load(text);
    free(text);
    return m;
}

static const asl_state *find(const asl_graph *g, const char *name)
{
    const asl_state *s = asl_graph_find(g, name);
    if (s == NULL)
        fail_msg("no state %s", name);
    return s;
}

static size_t index_of(const asl_graph *g, const char *name)
{
    return find(g, name)->index;
}

/* ---- resolution ------------------------------------------------------------------------ */

static void pass_chain(void **state)
{
    (void)state;
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "{\"StartAt\":\"S0\",\"States\":{");
    for (size_t i = 0; i < CHAIN; i++) {
        if (i + 1 < CHAIN)
            bt_buf_printf(&b, "\"S%zu\":{\"Type\":\"Pass\",\"Next\":\"S%zu\"},", i, i + 1);
        else
            bt_buf_printf(&b, "\"S%zu\":{\"Type\":\"Pass\",\"End\":true}", i);
    }
    bt_buf_puts(&b, "}}");
    asl_machine *m = load(b.data);
    bt_buf_fini(&b);

    const asl_graph *g = m->top;
    assert_int_equal(g->n_states, CHAIN);
    assert_string_equal(g->states[g->start]->name, "S0");
    /* Checked through the names, so the test does not depend on how states are ordered. */
    char want[32];
    for (size_t i = 0; i < g->n_states; i++) {
        const asl_state *s = g->states[i];
        assert_int_equal(s->index, i);
        assert_int_equal(s->type, ASL_PASS);
        size_t k = (size_t)strtoul(s->name + 1, NULL, 10);
        if (k + 1 == CHAIN) {
            assert_true(s->is_end);
            assert_int_equal(s->next, ASL_NO_STATE);
            continue;
        }
        assert_false(s->is_end);
        assert_true(s->next < g->n_states);
        snprintf(want, sizeof(want), "S%zu", k + 1);
        assert_string_equal(g->states[s->next]->name, want);
    }
    /* Definition order is kept: S<i> is state i, so each next is the following index. */
    for (size_t i = 0; i + 1 < g->n_states; i++)
        assert_int_equal(g->states[i]->next, i + 1);
    asl_machine_unref(m);
}

static void choice_catch_default(void **state)
{
    (void)state;
    asl_machine *m =
        load_q("{'StartAt':'Decide','States':{"
               "'Done':{'Type':'Succeed'},"
               "'Work':{'Type':'Task','Resource':'arn:aws:states:::lambda:invoke',"
               "  'Catch':[{'ErrorEquals':['States.Timeout'],'Next':'Oops'},"
               "           {'ErrorEquals':['States.ALL'],'Next':'Decide'}],'Next':'Done'},"
               "'Decide':{'Type':'Choice','Choices':["
               "  {'Variable':'$.n','NumericEquals':1,'Next':'Work'},"
               "  {'Variable':'$.n','NumericEquals':2,'Next':'Done'}],'Default':'Oops'},"
               "'Oops':{'Type':'Fail','Error':'E'}}}");
    const asl_graph *g = m->top;
    assert_int_equal(g->start, index_of(g, "Decide"));

    const asl_state *decide = find(g, "Decide");
    assert_int_equal(decide->type, ASL_CHOICE);
    assert_int_equal(decide->n_choices, 2);
    assert_int_equal(decide->choices[0].next, index_of(g, "Work"));
    assert_int_equal(decide->choices[1].next, index_of(g, "Done"));
    assert_int_equal(decide->default_next, index_of(g, "Oops"));
    assert_int_equal(decide->next, ASL_NO_STATE);

    const asl_state *work = find(g, "Work");
    assert_int_equal(work->next, index_of(g, "Done"));
    assert_int_equal(work->n_catchers, 2);
    assert_int_equal(work->catchers[0].next, index_of(g, "Oops"));
    assert_int_equal(work->catchers[1].next, index_of(g, "Decide"));

    assert_int_equal(find(g, "Done")->next, ASL_NO_STATE);
    assert_null(asl_graph_find(g, "Missing"));
    asl_machine_unref(m);

    /* A Choice without Default has none. */
    m = load_q("{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':["
               "{'Variable':'$.n','IsPresent':true,'Next':'D'}]},'D':{'Type':'Succeed'}}}");
    assert_int_equal(find(m->top, "C")->default_next, ASL_NO_STATE);
    asl_machine_unref(m);
}

/* Names resolve within their own graph: a branch's "X" is not the top level's "X". */
static void targets_resolve_per_graph(void **state)
{
    (void)state;
    asl_machine *m = load_q("{'StartAt':'Top','States':{"
                            "'Top':{'Type':'Pass','Next':'P'},"
                            "'P':{'Type':'Parallel','End':true,'Branches':["
                            "  {'StartAt':'B1','States':{'B0':{'Type':'Succeed'},"
                            "                            'B1':{'Type':'Pass','Next':'B0'}}}]}}}");
    const asl_graph *branch = find(m->top, "P")->branches[0];
    assert_int_equal(branch->n_states, 2);
    assert_int_equal(branch->start, index_of(branch, "B1"));
    assert_int_equal(find(branch, "B1")->next, index_of(branch, "B0"));
    assert_int_equal(find(m->top, "Top")->next, index_of(m->top, "P"));
    asl_machine_unref(m);
}

/* asl_compile reports a target it cannot resolve (the validator normally catches it). */
static void missing_targets_fail(void **state)
{
    (void)state;
    static const char *const defs[] = {
        "{'StartAt':'Nope','States':{'A':{'Type':'Succeed'}}}",
        "{'StartAt':'A','States':{'A':{'Type':'Pass','Next':'Nope'}}}",
        "{'StartAt':'A','States':{'A':{'Type':'Choice','Choices':[{'Variable':'$.x',"
        "'IsNull':true,'Next':'A'}],'Default':'Nope'}}}",
        "{'StartAt':'A','States':{'A':{'Type':'Task','Resource':'arn:aws:states:::sns:publish',"
        "'End':true,'Catch':[{'ErrorEquals':['States.ALL'],'Next':'Nope'}]}}}",
    };
    static const char *const messages[] = {
        "Missing 'StartAt' target",
        "Missing 'Next' target",
        "Missing 'Default' target",
        "Missing 'Next' target",
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        char *text = q(defs[i]);
        json_t *def = json_loads(text, 0, NULL);
        assert_non_null(def);
        bt_diag d;
        bt_diag_init(&d);
        asl_machine *m = NULL;
        assert_int_equal(asl_compile(def, &m, &d), BT_EINVAL);
        assert_int_equal(d.len, 1);
        assert_string_equal(d.items[0].message, messages[i]);
        bt_diag_fini(&d);
        json_decref(def);
        free(text);
    }
}

static void state_type_names(void **state)
{
    (void)state;
    static const char *const names[] = {"Pass",    "Task", "Choice",   "Wait",
                                        "Succeed", "Fail", "Parallel", "Map"};
    assert_int_equal(ASL_N_STATE_TYPES, 8);
    for (int t = 0; t < ASL_N_STATE_TYPES; t++)
        assert_string_equal(asl_state_type_name((asl_state_type)t), names[t]);
    assert_int_equal(ASL_PASS, 0);
    assert_int_equal(ASL_MAP, 7);
}

/* ---- Task resources -------------------------------------------------------------------- */

static const struct {
    const char *resource;
    asl_task_kind kind;
    asl_task_pattern pattern;
    const char *type, *action;
} resources[] = {
    {"arn:aws:lambda:us-east-1:123456789012:function:my-fn", ASL_TASK_LAMBDA,
     ASL_PATTERN_REQUEST_RESPONSE, "function", "my-fn"},
    {"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:live", ASL_TASK_LAMBDA,
     ASL_PATTERN_REQUEST_RESPONSE, "function:fn", "live"},
    {"arn:aws:states:::lambda:invoke", ASL_TASK_SERVICE, ASL_PATTERN_REQUEST_RESPONSE, "lambda",
     "invoke"},
    {"arn:aws:states:::lambda:invoke.waitForTaskToken", ASL_TASK_SERVICE, ASL_PATTERN_CALLBACK,
     "lambda", "invoke.waitForTaskToken"},
    {"arn:aws:states:::sqs:sendMessage.waitForTaskToken", ASL_TASK_SERVICE, ASL_PATTERN_CALLBACK,
     "sqs", "sendMessage.waitForTaskToken"},
    {"arn:aws:states:::ecs:runTask.sync", ASL_TASK_SERVICE, ASL_PATTERN_SYNC, "ecs",
     "runTask.sync"},
    /* A version suffix stays with the action, as AWS's history shows it. */
    {"arn:aws:states:::states:startExecution.sync:2", ASL_TASK_SERVICE, ASL_PATTERN_SYNC, "states",
     "startExecution.sync:2"},
    {"arn:aws:states:::aws-sdk:s3:listObjectsV2", ASL_TASK_SERVICE, ASL_PATTERN_REQUEST_RESPONSE,
     "aws-sdk:s3", "listObjectsV2"},
    {"arn:aws:states:us-east-1:123456789012:activity:my-activity", ASL_TASK_ACTIVITY,
     ASL_PATTERN_CALLBACK, "activity", "my-activity"},
    /* the type field must be "activity", not just contain it */
    {"arn:aws:states:::sns:po:activity:blish.waitForTaskToken", ASL_TASK_SERVICE,
     ASL_PATTERN_CALLBACK, "sns:po:activity", "blish.waitForTaskToken"},
    /* ":activity:" makes an activity only for the "states" service. */
    {"arn:aws:sqs:us-east-1:123456789012:activity:q", ASL_TASK_SERVICE,
     ASL_PATTERN_REQUEST_RESPONSE, "activity", "q"},
    {"my-local-task", ASL_TASK_SERVICE, ASL_PATTERN_REQUEST_RESPONSE, "", "my-local-task"},
    {"arn:aws:states:::sqs", ASL_TASK_SERVICE, ASL_PATTERN_REQUEST_RESPONSE, "",
     "arn:aws:states:::sqs"},
};

/* A one-Task machine compiled without validation (which would refuse non-ARN resources). */
static asl_machine *compile_task(const char *resource)
{
    json_t *def = json_pack("{s:s, s:{s:{s:s, s:s, s:b}}}", "StartAt", "T", "States", "T", "Type",
                            "Task", "Resource", resource, "End", 1);
    assert_non_null(def);
    bt_diag d;
    bt_diag_init(&d);
    asl_machine *m = NULL;
    assert_int_equal(asl_compile(def, &m, &d), 0);
    bt_diag_fini(&d);
    json_decref(def);
    return m;
}

static void task_resources(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        asl_machine *m = compile_task(resources[i].resource);
        const asl_state *t = m->top->states[0];
        assert_string_equal(t->resource, resources[i].resource);
        if (t->task_kind != resources[i].kind || t->task_pattern != resources[i].pattern)
            fail_msg("%s: kind %d pattern %d", resources[i].resource, t->task_kind,
                     t->task_pattern);
        assert_string_equal(t->resource_type, resources[i].type);
        assert_string_equal(t->resource_action, resources[i].action);
        assert_int_equal(t->task_slot, 0);
        assert_int_equal(m->n_task_states, 1);
        asl_machine_unref(m);
    }

    /* Validated definitions get the same treatment; other states carry nothing. */
    asl_machine *m =
        load_q("{'StartAt':'P','States':{'P':{'Type':'Pass','Next':'T'},"
               "'T':{'Type':'Task','Resource':'arn:aws:states:::sqs:sendMessage.waitForTaskToken',"
               "'End':true}}}");
    const asl_state *p = find(m->top, "P"), *t = find(m->top, "T");
    assert_int_equal(t->task_pattern, ASL_PATTERN_CALLBACK);
    assert_string_equal(t->resource_type, "sqs");
    assert_null(p->resource);
    assert_null(p->resource_type);
    assert_null(p->resource_action);
    assert_int_equal(p->task_kind, ASL_TASK_SERVICE);
    assert_int_equal(p->task_pattern, ASL_PATTERN_REQUEST_RESPONSE);
    asl_machine_unref(m);
}

static void task_slots(void **state)
{
    (void)state;
    asl_machine *m = load_q(
        "{'StartAt':'A','States':{"
        "'A':{'Type':'Task','Resource':'arn:aws:states:::lambda:invoke','Next':'P'},"
        "'P':{'Type':'Parallel','Next':'M','Branches':["
        "  {'StartAt':'B1','States':{"
        "    'B1':{'Type':'Task','Resource':'arn:aws:states:::lambda:invoke','Next':'B2'},"
        "    'B2':{'Type':'Task','Resource':'arn:aws:states:::sqs:sendMessage','End':true}}},"
        "  {'StartAt':'C1','States':{"
        "    'C1':{'Type':'Pass','Next':'C2'},"
        "    'C2':{'Type':'Task','Resource':'arn:aws:states:::sns:publish','End':true}}}]},"
        "'M':{'Type':'Map','Next':'Z','ItemProcessor':{'StartAt':'D','States':{"
        "    'D':{'Type':'Task','Resource':'arn:aws:states:::lambda:invoke','End':true}}}},"
        "'Z':{'Type':'Task','Resource':'arn:aws:states:::lambda:invoke','End':true}}}");
    const asl_graph *top = m->top;
    const asl_state *par = find(top, "P"), *map = find(top, "M");
    assert_int_equal(m->n_task_states, 6);
    assert_int_equal(find(top, "A")->task_slot, 0);
    assert_int_equal(find(par->branches[0], "B1")->task_slot, 1);
    assert_int_equal(find(par->branches[0], "B2")->task_slot, 2);
    assert_int_equal(find(par->branches[1], "C2")->task_slot, 3);
    assert_int_equal(find(map->processor, "D")->task_slot, 4);
    assert_int_equal(find(top, "Z")->task_slot, 5);
    assert_int_equal(find(par->branches[1], "C1")->task_slot, 0); /* not a Task */
    asl_machine_unref(m);

    m = load_q("{'StartAt':'A','States':{'A':{'Type':'Pass','End':true}}}");
    assert_int_equal(m->n_task_states, 0);
    asl_machine_unref(m);
}

/* ---- reference count ------------------------------------------------------------------- */

#define REF_ROUNDS 200000

static void *ref_churn(void *arg)
{
    asl_machine *m = arg;
    for (int i = 0; i < REF_ROUNDS; i++) {
        asl_machine *r = asl_machine_ref(m);
        if (i % 2)
            asl_machine_ref(m);
        asl_machine_unref(r);
        if (i % 2)
            asl_machine_unref(m);
    }
    return NULL;
}

static void *drop_ref(void *arg)
{
    asl_machine_unref(arg);
    return NULL;
}

static void refcount(void **state)
{
    (void)state;
    asl_machine *m = load_q("{'StartAt':'A','States':{'A':{'Type':'Pass','End':true}}}");
    assert_int_equal(atomic_load(&m->refs), 1);
    assert_ptr_equal(asl_machine_ref(m), m);
    assert_ptr_equal(asl_machine_ref(m), m);
    assert_int_equal(atomic_load(&m->refs), 3);
    asl_machine_unref(m);
    asl_machine_unref(m);
    assert_int_equal(atomic_load(&m->refs), 1);

    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, ref_churn, m), 0);
    assert_int_equal(pthread_create(&b, NULL, ref_churn, m), 0);
    ref_churn(m);
    assert_int_equal(pthread_join(a, NULL), 0);
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(atomic_load(&m->refs), 1);

    /* Each thread drops the reference it was handed; the last one frees (ASan checks). */
    asl_machine_ref(m);
    asl_machine_ref(m);
    assert_int_equal(pthread_create(&a, NULL, drop_ref, m), 0);
    assert_int_equal(pthread_create(&b, NULL, drop_ref, m), 0);
    asl_machine_unref(m);
    assert_int_equal(pthread_join(a, NULL), 0);
    assert_int_equal(pthread_join(b, NULL), 0);
    asl_machine_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pass_chain),
        cmocka_unit_test(choice_catch_default),
        cmocka_unit_test(targets_resolve_per_graph),
        cmocka_unit_test(missing_targets_fail),
        cmocka_unit_test(state_type_names),
        cmocka_unit_test(task_resources),
        cmocka_unit_test(task_slots),
        cmocka_unit_test(refcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
