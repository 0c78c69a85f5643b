/*
 * check_test.c — unit tests for the project file's checks (check.c, check_more.c, the
 * helpers in check_util.c): each kind of problem with its exact line, column and message,
 * and that every problem of a file is reported, in file order.
 */
#include "base/err.h"
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

/* Every problem as "LINE:COL: MSG\n". */
static char out[8192];

static const char *problems_of(const char *text)
{
    prj_problems pr;
    prj_problems_init(&pr, "t.yaml");
    project *p = NULL;
    int rc = project_load_text(text, strlen(text), "/nonexistent", &p, &pr);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < pr.len; i++)
        used += (size_t)snprintf(out + used, sizeof out - used, "%d:%d: %s\n", pr.items[i].at.line,
                                 pr.items[i].at.col, pr.items[i].msg);
    assert_int_equal(rc == 0, pr.len == 0);
    project_free(p);
    prj_problems_fini(&pr);
    return out;
}

#define PASS "{definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}}"

static void test_unknown_keys(void **state)
{
    (void)state;
    assert_string_equal(problems_of("version: 1\nqueus: {}\n"),
                        "2:1: unknown key 'queus' in the project file (did you mean 'queues'?)\n");
    assert_string_equal(problems_of("version: 1\nqueues:\n  Q:\n    colour: red\n"),
                        "4:5: unknown key 'colour' in queue 'Q' (expected one of: fifo, "
                        "visibility_timeout, retention, delay, max_message_size, receive_wait, "
                        "dead_letter, content_based_deduplication)\n");
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(problems_of("queues: {}\n"),
                        "1:1: the project file has no 'version' (expected version: 1)\n");
    assert_string_equal(problems_of("version: 3\n"), "1:10: 'version' is \"3\" (expected 1)\n");
}

static void test_types_and_ranges(void **state)
{
    (void)state;
    assert_string_equal(problems_of("version: 1\nqueues:\n  Q:\n    delay: 901\n"
                                    "    fifo: maybe\n    visibility_timeout: soon\n"),
                        "4:12: 'delay' of queue 'Q' is 901 (expected 0 to 900 seconds)\n"
                        "5:11: 'fifo' of queue 'Q' is \"maybe\" (expected true or false)\n"
                        "6:25: 'visibility_timeout' of queue 'Q' is \"soon\" (expected a "
                        "duration: seconds, or a number with s, m, h or d)\n");
    assert_string_equal(problems_of("version: 1\nqueues:\n  Q:\n    max_message_size: 1MiB\n"),
                        "4:23: 'max_message_size' of queue 'Q' is 1MiB (expected 1024 to 262144 "
                        "bytes)\n");
    assert_string_equal(problems_of("version: 1\nqueues: [a]\n"),
                        "2:9: 'queues' is a list (expected a mapping)\n");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(
        problems_of("version: 1\nqueues:\n  bad name:\n"),
        "3:3: queue name 'bad name' is not valid (expected 1 to 80 letters, "
        "digits, hyphens or underscores, and .fifo at the end of a FIFO queue's)\n");
    assert_string_equal(problems_of("version: 1\nqueues:\n  Q:\n    fifo: true\n"),
                        "4:11: queue 'Q' is FIFO but its name does not end in .fifo (expected the "
                        "name to end in .fifo)\n");
    char long_name[100];
    memset(long_name, 'f', 65);
    long_name[65] = '\0';
    char text[300];
    snprintf(text, sizeof text, "version: 1\nfunctions:\n  %s: {runtime: url, url: http://x}\n",
             long_name);
    assert_non_null(strstr(problems_of(text), "3:3: function name 'fffff"));
    assert_string_equal(
        problems_of("version: 1\nstate_machines:\n  \"a b\": " PASS "\n"),
        "3:3: state machine name 'a b' is not valid: it contains whitespace (expected 1 to 80 "
        "characters without spaces, control characters or any of < > { } [ ] ? * "
        "\" # % \\ ^ | ~ ` $ & , ; : /)\n");
}

static void test_missing_required(void **state)
{
    (void)state;
    assert_string_equal(problems_of("version: 1\nfunctions:\n  f:\n    runtime: exec\n"),
                        "3:3: function 'f' has no 'command' (expected the program to run, as a "
                        "list)\n");
    assert_string_equal(problems_of("version: 1\nstate_machines:\n  M:\n    type: STANDARD\n"),
                        "3:3: state machine 'M' has no 'definition' (expected a file name or an "
                        "inline definition)\n");
    assert_string_equal(problems_of("version: 1\ntriggers:\n  - batch_size: 5\n"),
                        "3:5: trigger 1 has no 'queue' (expected a string)\n"
                        "3:5: trigger 1 has no 'function' (expected a string)\n");
}

static void test_references(void **state)
{
    (void)state;
    assert_string_equal(
        problems_of("version: 1\nqueues:\n  Work:\nfunctions:\n  gen: {runtime: url, url: "
                    "http://x}\ntriggers:\n  - {queue: Wrk, function: nothing}\n"
                    "  - {queue: 'arn:aws:sqs:us-east-1:1:Other', function: gen}\n"),
        "7:13: trigger 1 names queue 'Wrk', which is not declared (did you mean 'Work'?)\n"
        "7:28: trigger 1 names function 'nothing', which is not declared (expected a name under "
        "'functions' or an ARN arn:aws:lambda:…)\n");
    assert_string_equal(problems_of("version: 1\nqueues:\n  A:\n    dead_letter: {queue: "
                                    "B.fifo}\n  B.fifo:\n"),
                        "4:26: the dead-letter queue of standard queue 'A' is FIFO queue 'B.fifo' "
                        "(expected a queue of the same type)\n");
    assert_string_equal(problems_of("version: 1\nschedules:\n  s:\n    expression: rate(1 "
                                    "hour)\n    target: Nope\n"),
                        "5:13: schedule 's' names state machine 'Nope', which is not declared "
                        "(expected a name under 'state_machines' or an ARN arn:aws:states:…)\n");
    assert_string_equal(problems_of("version: 1\ntopics:\n  T:\n    subscriptions:\n      - "
                                    "{protocol: lambda, endpoint: f}\n"),
                        "5:38: subscription 1 of topic 'T' names function 'f', which is not "
                        "declared (expected a name under 'functions' or an ARN "
                        "arn:aws:lambda:…)\n");
}

static void test_definitions(void **state)
{
    (void)state;
    assert_string_equal(problems_of("version: 1\nstate_machines:\n  M:\n    definition:\n"
                                    "      StartAt: A\n      States:\n        A:\n"
                                    "          Type: Pass\n          Next: Nowhere\n"),
                        "5:7: invalid definition of state machine 'M': MISSING_END_STATE: "
                        "Workflow has no terminal state at /\n"
                        "9:17: invalid definition of state machine 'M': "
                        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at "
                        "/States/A/Next\n");
    assert_string_equal(problems_of("version: 1\nstate_machines:\n  M: missing.json\n"),
                        "3:6: cannot read the definition of state machine 'M', missing.json: No "
                        "such file or directory (expected a file relative to the project file)\n");
}

static void test_schedules_and_more(void **state)
{
    (void)state;
    assert_string_equal(
        problems_of("version: 1\nstate_machines:\n  M: " PASS "\nschedules:\n  s:\n"
                    "    expression: cron(0 12 * * * *)\n    target: M\n    overlap: never\n"
                    "    timezone: Mars/Olympus\n"),
        "6:17: 'expression' of schedule 's' is \"cron(0 12 * * * *)\": exactly one of "
        "day-of-month and day-of-week must be ? (expected rate(…), cron(…) or at(…))\n"
        "8:14: 'overlap' of schedule 's' is \"never\" (expected allow or skip)\n"
        "9:15: 'timezone' of schedule 's' is \"Mars/Olympus\", which is not a known time zone "
        "(expected an IANA name such as Europe/Berlin)\n");
    assert_string_equal(
        problems_of("version: 1\nstate_machines:\n  M: " PASS "\nschedules:\n  s:\n"
                    "    expression: at(2030-01-01T00:00:00)\n    target: M\n"
                    "    fire_at_start: true\n"),
        "8:20: 'fire_at_start' of schedule 's' is for rate(…) and cron(…) (an at(…) schedule "
        "fires once, at its time)\n");
    /* functions, queues and topics as targets: declared names or ARNs, one target only */
    assert_string_equal(
        problems_of("version: 1\nqueues:\n  Q:\ntopics:\n  T:\nschedules:\n"
                    "  a: {expression: rate(1 hour), queue: Q}\n"
                    "  b: {expression: rate(1 hour), topic: T}\n"
                    "  c: {expression: rate(1 hour), function: 'arn:aws:lambda:us-east-1:1:"
                    "function:f'}\n"
                    "  d: {expression: rate(1 hour), queue: Qq}\n"
                    "  e: {expression: rate(1 hour), queue: Q, topic: T}\n"
                    "  f: {expression: rate(1 hour)}\n"),
        "10:40: schedule 'd' names queue 'Qq', which is not declared (did you mean 'Q'?)\n"
        "11:50: schedule 'e' gives more than one of 'target', 'function', 'queue' and 'topic' "
        "(expected one)\n"
        "12:6: schedule 'f' has no target (expected 'target': a state machine, or 'function', "
        "'queue' or 'topic')\n");
    assert_string_equal(problems_of("version: 1\nsmtp:\n  host: h\n  from: a@b\n  password: x\n"
                                    "  password_env: Y\n"),
                        "6:17: 'smtp' gives more than one of 'password', 'password_env' and "
                        "'password_file' (expected one)\n");
    assert_string_equal(
        problems_of("version: 1\nsmtp:\n  host: h\n  from: \"a@b\\r\\nRCPT TO:<e@x>\"\n"),
        "4:9: 'from' of 'smtp' is not a single address (expected an email address without "
        "spaces, line breaks, <, >, ',' or ';')\n");
    assert_string_equal(problems_of("version: 1\nsigning_key_env: BATON_TEST_SURELY_UNSET\n"),
                        "2:18: environment variable BATON_TEST_SURELY_UNSET (signing_key_env of "
                        "the project file) is not set (expected the secret in it)\n");
    assert_string_equal(problems_of("version: 1\nroutes:\n  - {method: FETCH, path: x}\n"),
                        "3:5: route 1 has no 'function' (expected a string)\n"
                        "3:14: 'method' of route 1 is \"FETCH\" (expected GET, POST, PUT, PATCH, "
                        "DELETE, HEAD, OPTIONS or ANY)\n"
                        "3:27: 'path' of route 1 is \"x\" (expected a path such as /verification, "
                        "without query or spaces)\n");
    assert_string_equal(
        problems_of("version: 1\nfunctions:\n  f: {runtime: url, url: 'http://x'}\nroutes:\n"
                    "  - {path: /baton/x, function: f}\n  - {path: /123456789012/q, function: f}\n"
                    "  - {path: /health, function: f}\n  - {path: /batonic, function: f}\n"),
        "5:12: 'path' of route 1 is \"/baton/x\", one of Baton's own (expected a path outside /, "
        "/health, /outbox, /baton/, /2015-03-31/ and the queue URLs /<account>/<queue>)\n"
        "6:12: 'path' of route 2 is \"/123456789012/q\", one of Baton's own (expected a path "
        "outside /, /health, /outbox, /baton/, /2015-03-31/ and the queue URLs "
        "/<account>/<queue>)\n"
        "7:12: 'path' of route 3 is \"/health\", one of Baton's own (expected a path outside /, "
        "/health, /outbox, /baton/, /2015-03-31/ and the queue URLs /<account>/<queue>)\n");
}

static void test_env_secret(void **state)
{
    (void)state;
    setenv("BATON_TEST_SIGNING", "0123456789abcdef0123456789abcdef", 1);
    const char text[] = "version: 1\nsigning_key_env: BATON_TEST_SIGNING\n";
    prj_problems pr;
    prj_problems_init(&pr, "t.yaml");
    project *p = NULL;
    assert_int_equal(project_load_text(text, strlen(text), "/", &p, &pr), 0);
    assert_string_equal(p->signing_key, "0123456789abcdef0123456789abcdef");
    project_free(p);
    prj_problems_fini(&pr);
}

/* Files that are not regular files or are too large are refused at once: a FIFO would block
 * the read forever, /dev/zero would fill memory. */
static void test_special_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/baton-check-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/def.json", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char text[] = "version: 1\nstate_machines:\n  M: def.json\nsigning_key_file: /dev/zero\n";
    prj_problems pr;
    prj_problems_init(&pr, "t.yaml");
    project *p = NULL;
    assert_int_equal(project_load_text(text, strlen(text), dir, &p, &pr), BT_EINVAL);
    assert_int_equal(pr.len, 2);
    assert_int_equal(pr.items[0].at.line, 3);
    assert_non_null(strstr(pr.items[0].msg, "def.json: not a regular file"));
    assert_int_equal(pr.items[1].at.line, 4);
    assert_non_null(strstr(pr.items[1].msg,
                           "/dev/zero (signing_key_file of the project file): not a regular file"));
    prj_problems_fini(&pr);
    unlink(fifo);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_keys),     cmocka_unit_test(test_version),
        cmocka_unit_test(test_types_and_ranges), cmocka_unit_test(test_names),
        cmocka_unit_test(test_missing_required), cmocka_unit_test(test_references),
        cmocka_unit_test(test_definitions),      cmocka_unit_test(test_schedules_and_more),
        cmocka_unit_test(test_env_secret),       cmocka_unit_test(test_special_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
