/*
 * service_test.c — schedules' service logic (sched/service.c, fire.c) over a real server on a
 * scratch folder: execution names, the Scheduled Event, a rate rule fired on the test clock
 * (one execution per fire, named by rule and fire time), a late fire missed or caught up,
 * and rules that come back from the store with their next fire.
 */
#include "base/alloc.h"
#include "base/arn.h"
#include "sched/sched.h"
#include "server/sfn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define MACHINE "arn:aws:states:us-east-1:123456789012:stateMachine:Flow"

static void test_names(void **state)
{
    (void)state;
    char out[81];
    sched_exec_name("nightly", "t", false, 1709251200000, out); /* 2024-03-01T00:00:00Z */
    assert_string_equal(out, "nightly-20240301T000000Z");
    sched_exec_name("nightly", "t2", true, 1709251200999, out);
    assert_string_equal(out, "nightly+t2-20240301T000000Z");
    /* rule a-b with target c, rule a with target b-c, rule a-b-c alone: three names */
    char n1[81], n2[81], n3[81];
    sched_exec_name("a-b", "c", true, 0, n1);
    sched_exec_name("a", "b-c", true, 0, n2);
    sched_exec_name("a-b-c", "t", false, 0, n3);
    assert_string_not_equal(n1, n2);
    assert_string_not_equal(n1, n3);
    assert_string_not_equal(n2, n3);
    assert_null(bt_name_problem(n1));
    /* long parts: cut, with a hash of the exact pair (not of the joined text): rule r×60
     * with target t×20 against rule r×59 with target r t×20 */
    char r60[61], r59[60], t20[21], rt20[22], h1[81], h2[81];
    memset(r60, 'r', 60), r60[60] = '\0';
    memset(r59, 'r', 59), r59[59] = '\0';
    memset(t20, 't', 20), t20[20] = '\0';
    snprintf(rt20, sizeof rt20, "r%s", t20);
    sched_exec_name(r60, t20, true, 0, h1);
    sched_exec_name(r59, rt20, true, 0, h2);
    assert_string_not_equal(h1, h2);
    assert_true(strlen(h1) <= 80 && strlen(h2) <= 80);
    assert_null(bt_name_problem(h1));
    assert_non_null(strchr(h1, '='));
    /* the same tuple, the same name */
    sched_exec_name(r60, t20, true, 0, h2);
    assert_string_equal(h1, h2);
    char longname[65];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    sched_exec_name(longname, "t", false, 0, out);
    assert_int_equal(strlen(out), 80);
    assert_string_equal(out + 63, "-19700101T000000Z");
    char other[81];
    longname[63] = 'b';
    sched_exec_name(longname, "t", false, 0, other);
    assert_string_not_equal(out, other); /* cut names stay apart */
    json_t *ev = sched_event("us-east-1", "123456789012",
                             "arn:aws:events:us-east-1:123456789012:rule/r", 1709251200000, "id-1");
    char *text = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"account\":\"123456789012\",\"detail\":{},\"detail-type\":"
                              "\"Scheduled Event\",\"id\":\"id-1\",\"region\":\"us-east-1\","
                              "\"resources\":[\"arn:aws:events:us-east-1:123456789012:rule/r\"],"
                              "\"source\":\"aws.events\",\"time\":\"2024-03-01T00:00:00Z\","
                              "\"version\":\"0\"}");
    free(text);
    json_decref(ev);
}

typedef struct env {
    char dir[64];
    server *srv;
    sched_service *ss;
} env;

static void open_env(env *e)
{
    server_config cfg = {.data_dir = e->dir,
                         .region = "us-east-1",
                         .account = "123456789012",
                         .log_level = SERVER_LOG_WARN};
    store_migration extra[] = {{SCHED_SCHEMA_VERSION, sched_schema_v1}};
    bt_err err = {0};
    e->srv = server_new(&cfg, extra, 1, &err);
    assert_non_null(e->srv);
    e->ss = sched_service_new(e->srv, &err);
    assert_non_null(e->ss);
}

/* Commits what is in the batch (runs the loop until the store is idle). */
static void settle(env *e)
{
    for (int i = 0; i < 2000; i++) {
        uv_run(server_loop(e->srv), UV_RUN_NOWAIT);
        if (store_pending(server_store(e->srv)) == 0 && store_batch_empty(server_batch(e->srv)))
            return;
        usleep(1000);
    }
    fail_msg("the store did not settle");
}

static void close_env(env *e)
{
    settle(e);
    sched_service_free(e->ss);
    server_free(e->srv);
}

static size_t n_executions(env *e)
{
    json_t *req = json_pack("{s:s}", "stateMachineArn", MACHINE);
    sfn_err err = {0};
    json_t *out = sfn_list_executions(e->srv, req, &err);
    json_decref(req);
    assert_non_null(out);
    size_t n = json_array_size(json_object_get(out, "executions"));
    json_decref(out);
    return n;
}

static void test_fires(void **state)
{
    (void)state;
    env e = {0};
    strcpy(e.dir, "/tmp/sched_test_XXXXXX");
    assert_non_null(mkdtemp(e.dir));
    setenv("BATON_TEST_CLOCK", "0", 1);
    open_env(&e);
    sfn_err serr = {0};
    json_t *req =
        json_pack("{s:s, s:s, s:s}", "name", "Flow", "definition",
                  "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}",
                  "roleArn", "arn:aws:iam::123456789012:role/r");
    json_t *out = sfn_create_state_machine(e.srv, req, &serr);
    assert_non_null(out);
    json_decref(out);
    json_decref(req);

    bt_err err = {0};
    sched_rule_config bad = {.name = "r", .expression = "rate(1 minutes)", .enabled = true};
    assert_int_equal(sched_put_rule(e.ss, &bad, SCHED_ORIGIN_API, &err), BT_EINVAL);
    sched_rule_config cfg = {.name = "r", .expression = "rate(5 minutes)", .enabled = true};
    assert_int_equal(sched_put_rule(e.ss, &cfg, SCHED_ORIGIN_API, &err), 0);
    sched_rule_config late = {.name = "late", .expression = "rate(1 minute)", .enabled = true};
    assert_int_equal(sched_put_rule(e.ss, &late, SCHED_ORIGIN_API, &err), 0);
    sched_rule_config catchup = {
        .name = "catchup", .expression = "rate(1 minute)", .enabled = true, .catch_up = true};
    assert_int_equal(sched_put_rule(e.ss, &catchup, SCHED_ORIGIN_API, &err), 0);
    sched_target_config t = {.id = "t", .arn = MACHINE, .input = "{\"a\":1}"};
    assert_int_equal(sched_put_target(e.ss, "r", &t), 0);
    assert_int_equal(sched_put_target(e.ss, "late", &t), 0);
    assert_int_equal(sched_put_target(e.ss, "catchup", &t), 0);
    const sched_rule *r = sched_get(e.ss, "r");
    int64_t first = r->anchor_ms + 300000;
    assert_int_equal(r->next_fire_ms, first);
    assert_int_equal(sched_delete_rule(e.ss, "r", false), BT_ESTATE);
    settle(&e);

    /* five minutes at once: r fires on time; the minute rules are 4 minutes late */
    sched_advance_clock(e.ss, 300000);
    settle(&e);
    r = sched_get(e.ss, "r");
    assert_int_equal(r->last_fire_ms, first);
    assert_int_equal(r->next_fire_ms, first + 300000);
    char name[81];
    sched_exec_name("r", "t", false, first, name);
    assert_non_null(strstr(r->targets[0].last_exec, name));
    assert_int_equal(sched_get(e.ss, "late")->last_fire_ms, 0); /* missed */
    assert_true(sched_get(e.ss, "catchup")->last_fire_ms > 0);  /* caught up once */
    assert_int_equal(n_executions(&e), 2);
    json_t *stats = sched_stats(e.ss);
    assert_int_equal(json_integer_value(json_object_get(stats, "started")), 2);
    assert_int_equal(json_integer_value(json_object_get(stats, "missed")), 1);
    json_decref(stats);

    /* the rules come back from the store with their fire times */
    int64_t next = sched_get(e.ss, "r")->next_fire_ms;
    close_env(&e);
    setenv("BATON_TEST_CLOCK", "300000", 1);
    open_env(&e);
    r = sched_get(e.ss, "r");
    assert_non_null(r);
    assert_int_equal(r->next_fire_ms, next);
    assert_int_equal(r->n_targets, 1);
    assert_string_equal(r->targets[0].input, "{\"a\":1}");
    size_t n = 0;
    const sched_rule **all = sched_list(e.ss, NULL, -1, &n);
    assert_int_equal(n, 3);
    assert_string_equal(all[0]->name, "catchup");
    free(all);
    assert_int_equal(sched_delete_rule(e.ss, "r", true), 0);
    assert_null(sched_get(e.ss, "r"));
    close_env(&e);
    unsetenv("BATON_TEST_CLOCK");
    char *cmd = bt_xasprintf("rm -rf %s", e.dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* fire_at_start: the first fire is the put itself, then every period from it; putting the
 * same rule again (a reload, a restart) does not fire again. */
static void test_fire_at_start(void **state)
{
    (void)state;
    env e = {0};
    strcpy(e.dir, "/tmp/sched_test_XXXXXX");
    assert_non_null(mkdtemp(e.dir));
    setenv("BATON_TEST_CLOCK", "0", 1);
    open_env(&e);
    sfn_err serr = {0};
    json_t *req =
        json_pack("{s:s, s:s, s:s}", "name", "Flow", "definition",
                  "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}",
                  "roleArn", "arn:aws:iam::123456789012:role/r");
    json_t *out = sfn_create_state_machine(e.srv, req, &serr);
    assert_non_null(out);
    json_decref(out);
    json_decref(req);

    bt_err err = {0};
    sched_rule_config cfg = {
        .name = "now", .expression = "rate(10 minutes)", .enabled = true, .fire_at_start = true};
    assert_int_equal(sched_put_rule(e.ss, &cfg, SCHED_ORIGIN_PROJECT, &err), 0);
    sched_target_config t = {.id = "t", .arn = MACHINE, .input = "{}"};
    assert_int_equal(sched_put_target(e.ss, "now", &t), 0);
    const sched_rule *r = sched_get(e.ss, "now");
    int64_t anchor = r->anchor_ms;
    assert_int_equal(r->next_fire_ms, anchor);
    settle(&e);
    sched_advance_clock(e.ss, 0); /* fires what is due */
    settle(&e);
    r = sched_get(e.ss, "now");
    assert_int_equal(r->last_fire_ms, anchor);
    assert_int_equal(r->next_fire_ms, anchor + 600000);
    assert_int_equal(n_executions(&e), 1);

    /* the same declaration again: nothing moves */
    assert_int_equal(sched_put_rule(e.ss, &cfg, SCHED_ORIGIN_PROJECT, &err), 0);
    assert_int_equal(sched_get(e.ss, "now")->next_fire_ms, anchor + 600000);
    sched_advance_clock(e.ss, 600000);
    settle(&e);
    assert_int_equal(sched_get(e.ss, "now")->last_fire_ms, anchor + 600000);
    assert_int_equal(n_executions(&e), 2);
    close_env(&e);
    unsetenv("BATON_TEST_CLOCK");
    char *cmd = bt_xasprintf("rm -rf %s", e.dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fires),
        cmocka_unit_test(test_fire_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
