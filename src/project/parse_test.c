/*
 * parse_test.c — unit tests for the project file's reader (parse.c) and the model check.c
 * builds from a good file: marks (line, column) of nodes, YAML errors at their position,
 * duplicate keys, scalars as JSON, and every section's values as declared.
 */
#include "project/project.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static prj_node *parse(const char *text, prj_problems *pr)
{
    prj_problems_init(pr, "t.yaml");
    return prj_parse(text, strlen(text), pr);
}

static void test_marks(void **state)
{
    (void)state;
    prj_problems pr;
    prj_node *n = parse("a: 1\nb:\n  c: \"x\"\n  d: [1, two]\n", &pr);
    assert_non_null(n);
    assert_int_equal(pr.len, 0);
    assert_int_equal(n->kind, PRJ_MAP);
    assert_int_equal(n->n, 2);
    prj_node *b = prj_map_get(n, "b");
    assert_int_equal(b->at.line, 3);
    assert_int_equal(b->at.col, 3);
    prj_node *c = prj_map_get(b, "c");
    assert_string_equal(c->text, "x");
    assert_false(c->is_plain);
    assert_int_equal(c->at.line, 3);
    assert_int_equal(c->at.col, 6);
    prj_node *d = prj_map_get(b, "d");
    assert_int_equal(d->kind, PRJ_SEQ);
    assert_int_equal(d->items[1]->at.col, 10);
    json_t *j = prj_node_to_json(n);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1,\"two\"]}}");
    free(s);
    json_decref(j);
    prj_node_free(n);
    prj_problems_fini(&pr);
}

static void test_scalars_to_json(void **state)
{
    (void)state;
    prj_problems pr;
    prj_node *n = parse("[true, false, ~, 1.5, -3, '7', yes, 0x1f]", &pr);
    json_t *j = prj_node_to_json(n);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "[true,false,null,1.5,-3,\"7\",\"yes\",\"0x1f\"]");
    free(s);
    json_decref(j);
    prj_node_free(n);
    prj_problems_fini(&pr);
}

static void test_syntax_error(void **state)
{
    (void)state;
    prj_problems pr;
    prj_node *n = parse("a: 1\nb: [1, 2\nc: 3\n", &pr);
    assert_null(n);
    assert_int_equal(pr.len, 1);
    assert_int_equal(pr.items[0].at.line, 3);
    assert_non_null(strstr(pr.items[0].msg, "not YAML"));
    prj_problems_fini(&pr);
}

static void test_duplicate_key(void **state)
{
    (void)state;
    prj_problems pr;
    prj_node *n = parse("queues:\n  A: {}\n  A: {}\n", &pr);
    assert_non_null(n);
    assert_int_equal(pr.len, 1);
    assert_int_equal(pr.items[0].at.line, 3);
    assert_int_equal(pr.items[0].at.col, 3);
    assert_string_equal(pr.items[0].msg, "duplicate key 'A' (first at line 2)");
    prj_node_free(n);
    prj_problems_fini(&pr);
}

static void test_second_document(void **state)
{
    (void)state;
    prj_problems pr;
    prj_node *n = parse("a: 1\n---\nb: 2\n", &pr);
    assert_int_equal(pr.len, 1);
    assert_int_equal(pr.items[0].at.line, 3);
    prj_node_free(n);
    prj_problems_fini(&pr);
}

/* A folder with a definition and a function's code, for the model test. */
static char dir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/baton-parse-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/flow.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/gen", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/key", dir);
    f = fopen(path, "w");
    fputs("0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char good[] =
    "version: 1\n"
    "state_machines:\n"
    "  Flow: flow.json\n"
    "  Inline:\n"
    "    type: EXPRESS\n"
    "    role: arn:aws:iam::123456789012:role/r\n"
    "    definition:\n"
    "      StartAt: A\n"
    "      States:\n"
    "        A: {Type: Pass, End: true}\n"
    "    logging: {level: ERROR, include_execution_data: true}\n"
    "    tracing: {enabled: true}\n"
    "    tags: {team: core}\n"
    "functions:\n"
    "  gen:\n"
    "    runtime: nodejs20.x\n"
    "    code: gen\n"
    "    timeout: 2m\n"
    "    memory: 256\n"
    "    environment: {STAGE: dev}\n"
    "  hook:\n"
    "    runtime: url\n"
    "    url: http://127.0.0.1:9/x\n"
    "  tool:\n"
    "    runtime: exec\n"
    "    command: [./run.sh, --fast]\n"
    "queues:\n"
    "  Work:\n"
    "    visibility_timeout: 90\n"
    "    retention: 1d\n"
    "    max_message_size: 64KiB\n"
    "    dead_letter: {queue: Dead, max_receive_count: 4}\n"
    "  Dead:\n"
    "  Jobs.fifo:\n"
    "    content_based_deduplication: true\n"
    "triggers:\n"
    "  - queue: Work\n"
    "    function: gen\n"
    "    batch_size: 20\n"
    "    batching_window: 5\n"
    "    report_batch_item_failures: true\n"
    "topics:\n"
    "  Notify:\n"
    "    subscriptions:\n"
    "      - {protocol: email, endpoint: ops@example.com}\n"
    "      - {protocol: sqs, endpoint: Work, raw: true, filter_policy: {kind: [a]}}\n"
    "routes:\n"
    "  - {method: GET, path: /verification, function: gen, confirm: true}\n"
    "schedules:\n"
    "  every10:\n"
    "    expression: rate(10 minutes)\n"
    "    target: Flow\n"
    "    input: {a: 1}\n"
    "    overlap: skip\n"
    "    fire_at_start: true\n"
    "smtp:\n"
    "  host: mail.example.com\n"
    "  from: baton@example.com\n"
    "public_url: https://baton.example.com\n"
    "signing_key_file: key\n";

static void test_good_file(void **state)
{
    (void)state;
    prj_problems pr;
    prj_problems_init(&pr, "baton.yaml");
    project *p = NULL;
    int rc = project_load_text(good, strlen(good), dir, &p, &pr);
    prj_problems_print(&pr, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(pr.len, 0);
    assert_int_equal(p->n_machines, 2);
    const prj_machine *flow = project_machine(p, "Flow");
    assert_string_equal(flow->type, "STANDARD");
    assert_non_null(strstr(flow->definition, "\"Pass\""));
    assert_int_equal(flow->at.line, 3);
    assert_int_equal(flow->at.col, 3);
    const prj_machine *in = project_machine(p, "Inline");
    assert_string_equal(in->type, "EXPRESS");
    assert_string_equal(in->role, "arn:aws:iam::123456789012:role/r");
    assert_null(in->definition_path);
    json_t *def = json_loads(in->definition, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(def, "StartAt")), "A");
    json_decref(def);
    assert_string_equal(json_string_value(json_object_get(in->logging, "level")), "ERROR");
    assert_true(json_is_true(json_object_get(in->logging, "includeExecutionData")));
    assert_true(json_is_true(json_object_get(in->tracing, "enabled")));
    assert_int_equal(in->n_tags, 1);
    assert_string_equal(in->tags[0].key, "team");
    assert_string_equal(in->tags[0].value, "core");

    assert_int_equal(p->n_functions, 3);
    const prj_function *gen = project_function(p, "gen");
    assert_int_equal(gen->runtime, FN_RT_NODEJS);
    assert_string_equal(gen->aws_runtime, "nodejs20.x");
    assert_string_equal(gen->handler, "index.handler");
    assert_int_equal(gen->timeout_s, 120);
    assert_int_equal(gen->memory_mb, 256);
    char code[128];
    snprintf(code, sizeof code, "%s/gen", dir);
    assert_string_equal(gen->code_dir, code);
    assert_string_equal(json_string_value(json_object_get(gen->environment, "STAGE")), "dev");
    assert_int_equal(project_function(p, "hook")->runtime, FN_RT_URL);
    const prj_function *tool = project_function(p, "tool");
    assert_int_equal(tool->runtime, FN_RT_EXEC);
    assert_string_equal(tool->command[0], "./run.sh");
    assert_string_equal(tool->command[1], "--fast");
    assert_null(tool->command[2]);

    assert_int_equal(p->n_queues, 3);
    const prj_queue *w = project_queue(p, "Work");
    assert_int_equal(w->visibility_timeout_s, 90);
    assert_int_equal(w->retention_s, 86400);
    assert_int_equal(w->max_message_size, 65536);
    assert_int_equal(w->delay_s, -1);
    assert_string_equal(w->dlq, "Dead");
    assert_int_equal(w->max_receive_count, 4);
    assert_false(project_queue(p, "Dead")->fifo);
    assert_true(project_queue(p, "Jobs.fifo")->fifo);
    assert_true(project_queue(p, "Jobs.fifo")->content_based_dedup);

    assert_int_equal(p->n_triggers, 1);
    assert_string_equal(p->triggers[0].queue, "Work");
    assert_int_equal(p->triggers[0].batch_size, 20);
    assert_int_equal(p->triggers[0].batching_window_s, 5);
    assert_true(p->triggers[0].report_item_failures);
    assert_true(p->triggers[0].enabled);
    assert_int_equal(p->triggers[0].at.line, 37);
    assert_int_equal(p->triggers[0].at.col, 5);

    assert_int_equal(p->n_topics, 1);
    assert_int_equal(p->topics[0].n_subs, 2);
    assert_string_equal(p->topics[0].subs[1].protocol, "sqs");
    assert_true(p->topics[0].subs[1].raw);
    assert_non_null(json_object_get(p->topics[0].subs[1].filter_policy, "kind"));
    assert_int_equal(p->n_routes, 1);
    assert_string_equal(p->routes[0].path, "/verification");
    assert_true(p->routes[0].confirm);
    assert_int_equal(p->n_schedules, 1);
    assert_string_equal(p->schedules[0].expression, "rate(10 minutes)");
    assert_true(p->schedules[0].skip_overlap);
    assert_true(p->schedules[0].fire_at_start);
    assert_int_equal(json_integer_value(json_object_get(p->schedules[0].input, "a")), 1);
    assert_true(p->smtp.is_set);
    assert_int_equal(p->smtp.port, 587);
    assert_true(p->smtp.starttls);
    assert_string_equal(p->public_url, "https://baton.example.com");
    assert_string_equal(p->signing_key, "0123456789abcdef0123456789abcdef");

    char *sum = project_summary(p);
    assert_string_equal(sum, "2 state machines, 3 functions, 3 queues, 1 trigger, 1 topic, 1 "
                             "route, 1 schedule");
    free(sum);
    project_free(p);
    prj_problems_fini(&pr);
}

/* Nine anchors of ten aliases each: a billion nodes if expanded. Refused at the alias that
 * passes the bound, at once. */
static void test_alias_bomb(void **state)
{
    (void)state;
    char text[2048] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'i'; c++) {
        char line[128];
        char p = (char)(c - 1);
        snprintf(line, sizeof line, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, p,
                 p, p, p, p, p, p, p, p, p);
        strcat(text, line);
    }
    prj_problems pr;
    prj_node *n = parse(text, &pr);
    assert_null(n);
    assert_int_equal(pr.len, 1);
    assert_int_equal(pr.items[0].at.line, 5);
    assert_non_null(strstr(pr.items[0].msg, "aliases expand to more than"));
    prj_problems_fini(&pr);
    /* A few aliases are fine. */
    n = parse("r: &r {a: 1}\ns: *r\nt: *r\n", &pr);
    assert_non_null(n);
    assert_int_equal(pr.len, 0);
    assert_int_equal(prj_map_get(n, "t")->kind, PRJ_MAP);
    prj_node_free(n);
    prj_problems_fini(&pr);
}

/* 100,000 levels of flow nesting: libyaml's scanner is quadratic in the depth (minutes);
 * refused at the first level too deep. */
static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *text = malloc(2 * depth + 8);
    memcpy(text, "x: ", 3);
    memset(text + 3, '[', depth);
    memset(text + 3 + depth, ']', depth);
    text[3 + 2 * depth] = '\0';
    prj_problems pr;
    prj_node *n = parse(text, &pr);
    assert_null(n);
    assert_int_equal(pr.len, 1);
    assert_int_equal(pr.items[0].at.line, 1);
    assert_int_equal(pr.items[0].at.col, 3 + 256);
    assert_non_null(strstr(pr.items[0].msg, "nesting too deep"));
    prj_problems_fini(&pr);
    free(text);
}

/* Bad UTF-8 on line 3 is reported on line 3 (libyaml gives only an offset). */
static void test_bad_utf8_position(void **state)
{
    (void)state;
    prj_problems pr;
    prj_node *n = parse("a: 1\nb:\n  c\xff: 2\n", &pr);
    assert_null(n);
    assert_int_equal(pr.len, 1);
    assert_int_equal(pr.items[0].at.line, 3);
    assert_int_equal(pr.items[0].at.col, 4);
    prj_problems_fini(&pr);
}

static void test_trigger_uuid(void **state)
{
    (void)state;
    char a[37], b[37], c[37];
    project_trigger_uuid("Work", "gen", a);
    project_trigger_uuid("Work", "gen", b);
    project_trigger_uuid("Work", "gen2", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '5');
    assert_true(strchr("89ab", a[19]) != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_scalars_to_json),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_second_document),
        cmocka_unit_test_setup_teardown(test_good_file, setup_dir, teardown_dir),
        cmocka_unit_test(test_trigger_uuid),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_bad_utf8_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
