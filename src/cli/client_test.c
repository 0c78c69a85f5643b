/*
 * client_test.c — the client verbs without a server: argument parsing, request bodies
 * (names and ARNs, file:// and inline documents), answers read as botocore reads them, the
 * aws CLI's error sentences and exit statuses, and the indented output. The CLI's sources
 * are not in libbaton, so this test compiles them in to reach their static helpers.
 */
#include "cli/cli_sign.c"
#include "cli/client.c"
#include "cli/cmd_client.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

/* The verb called name; the test stops when there is none. */
static const verb *verb_named(const char *name)
{
    const verb *v = find_verb(name);
    if (v == NULL)
        abort();
    return v;
}

/* Parses a command line given as one string of blank-separated words. */
static int parse(const char *verb_name, const char *line, verb_args *a, bt_buf *problem)
{
    static char copy[1024];
    char *argv[32];
    int argc = 0;
    snprintf(copy, sizeof(copy), "%s %s", verb_name, line);
    for (char *w = strtok(copy, " "); w && argc < 32; w = strtok(NULL, " "))
        argv[argc++] = w;
    bt_buf_reset(problem);
    return parse_args(verb_named(verb_name), argc, argv, a, problem);
}

/* Builds verb_name's request from line: 0 with *rq, or -1 with problem. */
static int build(const char *verb_name, const char *line, request *rq, bt_buf *problem)
{
    verb_args a;
    if (parse(verb_name, line, &a, problem) != 0)
        return -1;
    memset(rq, 0, sizeof(*rq));
    rq->op = verb_named(verb_name)->op;
    return verb_named(verb_name)->build(&a, rq, problem);
}

static const char *member(const request *rq, const char *key)
{
    return json_string_value(json_object_get(rq->body, key));
}

static char *temp_file(const char *content)
{
    char *path = bt_xstrdup("/tmp/baton-client-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

static void test_options_anywhere_and_inline_values(void **state)
{
    (void)state;
    verb_args a;
    bt_buf p;
    bt_buf_init(&p);
    assert_int_equal(parse("start", "--name=e1 machine --input {} --timeout 5", &a, &p), 0);
    assert_string_equal(a.arg, "machine");
    assert_string_equal(a.value[OPT_NAME], "e1");
    assert_string_equal(a.value[OPT_INPUT], "{}");
    assert_string_equal(a.value[OPT_TIMEOUT], "5");
    assert_int_equal(parse("history", "arn:x --reverse", &a, &p), 0);
    assert_string_equal(a.value[OPT_REVERSE], "--reverse");
    /* after --, a token that starts with '-' is the argument */
    assert_int_equal(parse("heartbeat", "-- -tok=en", &a, &p), 0);
    assert_string_equal(a.arg, "-tok=en");
    assert_int_equal(parse("describe", "arn:x --help", &a, &p), 1);
    assert_int_equal(parse("describe", "--help", &a, &p), 1); /* help needs no argument */
    bt_buf_fini(&p);
}

static void test_usage_problems(void **state)
{
    (void)state;
    static const struct {
        const char *verb, *line, *problem;
    } cases[] = {
        {"start", "m --bogus", "unknown option '--bogus'"},
        {"start", "m --reverse", "unknown option '--reverse'"}, /* another verb's option */
        {"start", "m --name", "--name needs a value (NAME)"},
        {"start", "m --name a --name b", "--name is given twice"},
        {"start", "m extra", "unexpected argument 'extra'"},
        {"start", "", "missing STATE_MACHINE"},
        {"history", "arn:x --reverse=yes", "--reverse takes no value"},
        {"create-state-machine", "--definition {}", "--name is required"},
        {"create-state-machine", "--name n --definition {} --type FAST",
         "--type takes one of STANDARD, EXPRESS, not 'FAST'"},
        {"executions", "m --status DONE",
         "--status takes one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, "
         "PENDING_REDRIVE, not 'DONE'"},
        {"describe", "", "missing ARN"},
    };
    verb_args a;
    bt_buf p;
    bt_buf_init(&p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i].verb, cases[i].line, &a, &p), -1);
        assert_string_equal(p.data, cases[i].problem);
    }
    bt_buf_fini(&p);
}

static void test_counts(void **state)
{
    (void)state;
    request rq;
    bt_buf p;
    bt_buf_init(&p);
    assert_int_equal(build("executions", "m --max 25", &rq, &p), 0);
    assert_int_equal(rq.max_items, 25);
    assert_string_equal(rq.list, "executions");
    json_decref(rq.body);
    static const char *const bad[] = {"0", "-3", "2x", "", "99999999999999999999", "+4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "m --max=%s", bad[i]);
        assert_int_equal(build("executions", line, &rq, &p), -1);
        assert_non_null(strstr(p.data, "--max takes a whole number from 1 to"));
    }
    bt_buf_fini(&p);
}

static void test_client_config_defaults_and_environment(void **state)
{
    (void)state;
    verb_args a;
    cli_client_config cfg;
    bt_buf p;
    bt_buf_init(&p);
    unsetenv("BATON_ENDPOINT");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    assert_int_equal(parse("describe", "arn:x", &a, &p), 0);
    assert_int_equal(client_config(&a, &cfg, &p), 0);
    assert_string_equal(cfg.endpoint, "http://127.0.0.1:8083");
    assert_string_equal(cfg.region, "us-east-1");
    assert_int_equal(cfg.timeout_s, 60);

    setenv("BATON_ENDPOINT", "http://127.0.0.1:9999", 1);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    assert_int_equal(client_config(&a, &cfg, &p), 0);
    assert_string_equal(cfg.endpoint, "http://127.0.0.1:9999");
    assert_string_equal(cfg.region, "eu-west-1");
    setenv("AWS_REGION", "ap-south-1", 1); /* AWS_REGION wins over AWS_DEFAULT_REGION */
    assert_int_equal(client_config(&a, &cfg, &p), 0);
    assert_string_equal(cfg.region, "ap-south-1");

    /* options win over the environment */
    assert_int_equal(
        parse("describe", "arn:x --endpoint https://sfn.test --region r1 --timeout 7", &a, &p), 0);
    assert_int_equal(client_config(&a, &cfg, &p), 0);
    assert_string_equal(cfg.endpoint, "https://sfn.test");
    assert_string_equal(cfg.region, "r1");
    assert_int_equal(cfg.timeout_s, 7);

    assert_int_equal(parse("describe", "arn:x --endpoint localhost:8083", &a, &p), 0);
    assert_int_equal(client_config(&a, &cfg, &p), -1);
    assert_string_equal(p.data,
                        "--endpoint must be an http:// or https:// URL, not 'localhost:8083'");
    bt_buf_reset(&p);
    setenv("BATON_ENDPOINT", "ftp://x", 1);
    assert_int_equal(parse("describe", "arn:x", &a, &p), 0);
    assert_int_equal(client_config(&a, &cfg, &p), -1);
    assert_non_null(strstr(p.data, "BATON_ENDPOINT must be"));
    unsetenv("BATON_ENDPOINT");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    bt_buf_fini(&p);
}

static void test_definition_file_file_url_and_inline(void **state)
{
    (void)state;
    const char *def = "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}";
    char *path = temp_file(def);
    char line[256];
    request rq;
    bt_buf p;
    bt_buf_init(&p);

    snprintf(line, sizeof(line), "--name m --definition %s", path);
    assert_int_equal(build("create-state-machine", line, &rq, &p), 0);
    assert_string_equal(rq.op, "CreateStateMachine");
    assert_string_equal(member(&rq, "name"), "m");
    assert_string_equal(member(&rq, "definition"), def);
    assert_string_equal(member(&rq, "roleArn"), "arn:aws:iam::123456789012:role/baton");
    assert_null(json_object_get(rq.body, "type"));
    json_decref(rq.body);

    snprintf(line, sizeof(line), "--name m --definition file://%s --type EXPRESS --role-arn r",
             path);
    assert_int_equal(build("create-state-machine", line, &rq, &p), 0);
    assert_string_equal(member(&rq, "definition"), def);
    assert_string_equal(member(&rq, "type"), "EXPRESS");
    assert_string_equal(member(&rq, "roleArn"), "r");
    json_decref(rq.body);

    snprintf(line, sizeof(line), "--name m --definition %s", def);
    assert_int_equal(build("create-state-machine", line, &rq, &p), 0);
    assert_string_equal(member(&rq, "definition"), def); /* sent as written */
    json_decref(rq.body);

    assert_int_equal(
        build("create-state-machine", "--name m --definition /nonexistent/m.json", &rq, &p), -1);
    assert_string_equal(p.data,
                        "--definition: cannot read /nonexistent/m.json: No such file or directory");
    assert_int_equal(
        build("create-state-machine", "--name m --definition file:///nonexistent", &rq, &p), -1);
    assert_non_null(strstr(p.data, "cannot read /nonexistent:"));

    unlink(path);
    free(path);
    bt_buf_fini(&p);
}

static void test_start_names_arns_and_input(void **state)
{
    (void)state;
    char *in = temp_file("[1, 2]");
    char line[256];
    request rq;
    bt_buf p;
    bt_buf_init(&p);

    assert_true(is_arn("arn:aws:states:us-east-1:123456789012:stateMachine:m"));
    assert_false(is_arn("my-machine"));
    assert_false(is_arn("arnold"));
    assert_string_equal(verb_named("start")->machine_member, "stateMachineArn");
    assert_string_equal(verb_named("executions")->machine_member, "stateMachineArn");
    assert_null(verb_named("describe")->machine_member);

    assert_int_equal(build("start", "my-machine --name run-1 --input {\"a\":1}", &rq, &p), 0);
    assert_string_equal(rq.op, "StartExecution");
    assert_string_equal(member(&rq, "stateMachineArn"), "my-machine");
    assert_string_equal(member(&rq, "name"), "run-1");
    assert_string_equal(member(&rq, "input"), "{\"a\":1}");
    json_decref(rq.body);

    assert_int_equal(build("start", "m", &rq, &p), 0);
    assert_null(json_object_get(rq.body, "input")); /* the service's default, {} */
    assert_null(json_object_get(rq.body, "name"));
    json_decref(rq.body);

    snprintf(line, sizeof(line), "m --input-file %s", in);
    assert_int_equal(build("start", line, &rq, &p), 0);
    assert_string_equal(member(&rq, "input"), "[1, 2]");
    json_decref(rq.body);
    snprintf(line, sizeof(line), "m --input file://%s", in);
    assert_int_equal(build("start", line, &rq, &p), 0);
    assert_string_equal(member(&rq, "input"), "[1, 2]");
    json_decref(rq.body);
    assert_int_equal(build("start", "m --input 42", &rq, &p), 0); /* any JSON value */
    json_decref(rq.body);

    assert_int_equal(build("start", "m --input {\"a\":}", &rq, &p), -1);
    assert_non_null(strstr(p.data, "--input is not valid JSON: "));
    assert_non_null(strstr(p.data, "(line 1, column"));
    snprintf(line, sizeof(line), "m --input {} --input-file %s", in);
    assert_int_equal(build("start", line, &rq, &p), -1);
    assert_string_equal(p.data, "give --input or --input-file, not both");
    bt_buf_reset(&p);
    assert_int_equal(build("start", "m --input-file /nonexistent/in.json", &rq, &p), -1);
    assert_non_null(strstr(p.data, "--input-file: cannot read /nonexistent/in.json"));

    unlink(in);
    free(in);
    bt_buf_fini(&p);
}

static void test_describe_picks_the_operation_by_arn(void **state)
{
    (void)state;
    static const struct {
        const char *arn, *op, *member;
    } cases[] = {
        {"arn:aws:states:us-east-1:123456789012:stateMachine:m", "DescribeStateMachine",
         "stateMachineArn"},
        {"arn:aws:states:us-east-1:123456789012:stateMachine:m:3", "DescribeStateMachine",
         "stateMachineArn"},
        {"arn:aws:states:us-east-1:123456789012:execution:m:e", "DescribeExecution",
         "executionArn"},
        {"arn:aws:states:us-east-1:123456789012:express:m:e:0b1c2d3e", "DescribeExecution",
         "executionArn"},
        {"arn:aws:states:us-east-1:123456789012:activity:a", "DescribeActivity", "activityArn"},
    };
    request rq;
    bt_buf p;
    bt_buf_init(&p);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(build("describe", cases[i].arn, &rq, &p), 0);
        assert_string_equal(rq.op, cases[i].op);
        assert_string_equal(member(&rq, cases[i].member), cases[i].arn);
        assert_int_equal(json_object_size(rq.body), 1);
        json_decref(rq.body);
    }
    assert_int_equal(build("describe", "my-machine", &rq, &p), -1);
    assert_non_null(strstr(p.data, "'my-machine' is not a Step Functions ARN: "));
    bt_buf_fini(&p);
}

static void test_callback_history_and_stop_bodies(void **state)
{
    (void)state;
    request rq;
    bt_buf p;
    bt_buf_init(&p);

    assert_int_equal(build("send-success", "tok", &rq, &p), 0);
    assert_string_equal(rq.op, "SendTaskSuccess");
    assert_string_equal(member(&rq, "taskToken"), "tok");
    assert_string_equal(member(&rq, "output"), "{}");
    json_decref(rq.body);
    assert_int_equal(build("send-success", "tok --output {\"ok\":true}", &rq, &p), 0);
    assert_string_equal(member(&rq, "output"), "{\"ok\":true}");
    json_decref(rq.body);
    assert_int_equal(build("send-success", "tok --output nope", &rq, &p), -1);
    assert_non_null(strstr(p.data, "--output is not valid JSON"));

    assert_int_equal(build("send-failure", "tok", &rq, &p), 0);
    assert_string_equal(rq.op, "SendTaskFailure");
    assert_int_equal(json_object_size(rq.body), 1); /* no error, no cause: AWS's nulls */
    json_decref(rq.body);
    assert_int_equal(build("send-failure", "tok --error E --cause why", &rq, &p), 0);
    assert_string_equal(member(&rq, "error"), "E");
    assert_string_equal(member(&rq, "cause"), "why");
    json_decref(rq.body);

    assert_int_equal(build("heartbeat", "tok", &rq, &p), 0);
    assert_string_equal(rq.op, "SendTaskHeartbeat");
    assert_int_equal(json_object_size(rq.body), 1);
    json_decref(rq.body);

    assert_int_equal(build("stop", "arn:e --cause c", &rq, &p), 0);
    assert_string_equal(rq.op, "StopExecution");
    assert_string_equal(member(&rq, "executionArn"), "arn:e");
    assert_string_equal(member(&rq, "cause"), "c");
    assert_null(json_object_get(rq.body, "error"));
    json_decref(rq.body);

    assert_int_equal(build("history", "arn:e --reverse", &rq, &p), 0);
    assert_string_equal(rq.op, "GetExecutionHistory");
    assert_string_equal(rq.list, "events");
    assert_true(json_is_true(json_object_get(rq.body, "reverseOrder")));
    assert_int_equal(rq.max_items, 0);
    json_decref(rq.body);
    assert_int_equal(build("history", "arn:e", &rq, &p), 0);
    assert_null(json_object_get(rq.body, "reverseOrder"));
    json_decref(rq.body);

    assert_int_equal(build("executions", "m --status RUNNING", &rq, &p), 0);
    assert_string_equal(member(&rq, "statusFilter"), "RUNNING");
    json_decref(rq.body);

    /* paging sets maxResults and nextToken, and takes the token away on the first page */
    json_t *body = json_object();
    set_page(body, 1000, "t1");
    assert_int_equal(json_integer_value(json_object_get(body, "maxResults")), 1000);
    assert_string_equal(json_string_value(json_object_get(body, "nextToken")), "t1");
    set_page(body, 5, NULL);
    assert_null(json_object_get(body, "nextToken"));
    json_decref(body);
    bt_buf_fini(&p);
}

static void decode(long status, const char *body, cli_answer *a)
{
    cli_answer_decode(status, body, strlen(body), a);
}

static void test_answers_read_as_botocore_reads_them(void **state)
{
    (void)state;
    cli_answer a;
    decode(400,
           "{\"__type\":\"com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist\","
           "\"message\":\"Execution Does Not Exist: 'arn:x'\"}",
           &a);
    assert_int_equal(a.outcome, CLI_SERVICE_ERROR);
    assert_string_equal(a.code, "ExecutionDoesNotExist");
    assert_string_equal(a.message, "Execution Does Not Exist: 'arn:x'");
    cli_answer_fini(&a);

    decode(400, "{\"__type\":\"InvalidArn\",\"Message\":\"Invalid Arn\"}", &a);
    assert_string_equal(a.code, "InvalidArn");
    assert_string_equal(a.message, "Invalid Arn");
    cli_answer_fini(&a);

    decode(400, "{\"__type\":\"a.b#ValidationException:http://internal/\"}", &a);
    assert_string_equal(a.code, "ValidationException");
    assert_string_equal(a.message, "");
    cli_answer_fini(&a);

    decode(503, "Service Unavailable", &a);
    assert_int_equal(a.outcome, CLI_SERVICE_ERROR);
    assert_string_equal(a.code, "503");
    assert_string_equal(a.message, "Service Unavailable");
    cli_answer_fini(&a);

    decode(200, "{\"executionArn\":\"arn:e\",\"startDate\":1.7e9}", &a);
    assert_int_equal(a.outcome, CLI_ANSWERED);
    assert_string_equal(json_string_value(json_object_get(a.body, "executionArn")), "arn:e");
    cli_answer_fini(&a);

    decode(200, "", &a); /* SendTaskSuccess may answer with no body */
    assert_int_equal(a.outcome, CLI_ANSWERED);
    assert_int_equal(json_object_size(a.body), 0);
    cli_answer_fini(&a);

    decode(200, "<html>proxy</html>", &a);
    assert_int_equal(a.outcome, CLI_NO_ANSWER);
    assert_non_null(strstr(a.message, "is not a JSON object: <html>proxy</html>"));
    cli_answer_fini(&a);
}

static void test_failure_sentences_and_exit_statuses(void **state)
{
    (void)state;
    cli_answer a;
    decode(400,
           "{\"__type\":\"com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist\","
           "\"message\":\"Execution Does Not Exist: 'arn:aws:states:us-east-1:1:execution:m:e'\"}",
           &a);
    char *text = failure_text("DescribeExecution", &a);
    assert_string_equal(text, "\nAn error occurred (ExecutionDoesNotExist) when calling the "
                              "DescribeExecution operation: Execution Does Not Exist: "
                              "'arn:aws:states:us-east-1:1:execution:m:e'\n");
    assert_int_equal(exit_status(a.outcome), 254);
    free(text);
    cli_answer_fini(&a);

    char *url = cli_request_url("http://127.0.0.1:8083");
    assert_string_equal(url, "http://127.0.0.1:8083/");
    char *same = cli_request_url("http://127.0.0.1:8083/");
    assert_string_equal(same, "http://127.0.0.1:8083/");
    free(same);
    set_no_answer(&a, transport_message(CURLE_COULDNT_CONNECT, false, url));
    text = failure_text("StartExecution", &a);
    assert_string_equal(text,
                        "\nCould not connect to the endpoint URL: \"http://127.0.0.1:8083/\"\n");
    assert_int_equal(exit_status(a.outcome), 255);
    free(text);
    cli_answer_fini(&a);

    char *m = transport_message(CURLE_OPERATION_TIMEDOUT, true, url);
    assert_string_equal(m, "Read timeout on endpoint URL: \"http://127.0.0.1:8083/\"");
    free(m);
    m = transport_message(CURLE_OPERATION_TIMEDOUT, false, url);
    assert_string_equal(m, "Connect timeout on endpoint URL: \"http://127.0.0.1:8083/\"");
    free(m);
    m = transport_message(CURLE_GOT_NOTHING, true, url);
    assert_non_null(strstr(m, "Connection was closed before we received a valid response"));
    free(m);
    free(url);

    assert_int_equal(exit_status(CLI_ANSWERED), 0);
    assert_int_equal(EXIT_USAGE, 252);
}

static void test_output_is_indented_as_the_aws_cli_prints_it(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"executions\":[{\"name\":\"é\\n\",\"startDate\":1700000000.123,"
                           "\"itemCount\":3,\"ok\":true,\"gone\":null}],\"empty\":{},\"none\":[],"
                           "\"nested\":[[1],[]]}",
                           0, NULL);
    assert_non_null(v);
    bt_buf b;
    bt_buf_init(&b);
    write_indented(&b, v, 0);
    /* json.dumps(v, indent=4, ensure_ascii=False) */
    assert_string_equal(b.data, "{\n"
                                "    \"executions\": [\n"
                                "        {\n"
                                "            \"name\": \"é\\n\",\n"
                                "            \"startDate\": 1700000000.123,\n"
                                "            \"itemCount\": 3,\n"
                                "            \"ok\": true,\n"
                                "            \"gone\": null\n"
                                "        }\n"
                                "    ],\n"
                                "    \"empty\": {},\n"
                                "    \"none\": [],\n"
                                "    \"nested\": [\n"
                                "        [\n"
                                "            1\n"
                                "        ],\n"
                                "        []\n"
                                "    ]\n"
                                "}");
    bt_buf_fini(&b);
    json_decref(v);
}

static void test_every_verb_has_help_and_a_builder(void **state)
{
    (void)state;
    static const char *const names[] = {"create-state-machine", "start",     "describe",
                                        "executions",           "history",   "send-success",
                                        "send-failure",         "heartbeat", "stop"};
    assert_int_equal(N_VERBS, sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < N_VERBS; i++) {
        const verb *v = verb_named(names[i]);
        assert_true(cmd_client_is_verb(names[i]));
        assert_non_null(v->build);
        assert_true(v->arg == NULL || v->arg_help != NULL);
        char *s = synopsis(v);
        assert_true(strncmp(s, names[i], strlen(names[i])) == 0);
        free(s);
    }
    assert_false(cmd_client_is_verb("run"));
    assert_false(cmd_client_is_verb("serve"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_anywhere_and_inline_values),
        cmocka_unit_test(test_usage_problems),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_client_config_defaults_and_environment),
        cmocka_unit_test(test_definition_file_file_url_and_inline),
        cmocka_unit_test(test_start_names_arns_and_input),
        cmocka_unit_test(test_describe_picks_the_operation_by_arn),
        cmocka_unit_test(test_callback_history_and_stop_bodies),
        cmocka_unit_test(test_answers_read_as_botocore_reads_them),
        cmocka_unit_test(test_failure_sentences_and_exit_statuses),
        cmocka_unit_test(test_output_is_indented_as_the_aws_cli_prints_it),
        cmocka_unit_test(test_every_verb_has_help_and_a_builder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
