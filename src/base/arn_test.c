/*
 * arn_test.c — the name rule and every ARN shape (arn.h), by tables: what passes, what is
 * refused and why, and that parsing and formatting give each other back.
 */
#include "base/arn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *problem; /* NULL: valid */
    } rows[] = {
        {"HelloWorld", NULL},
        {"my-machine_2.v1", NULL},
        {"caf\xc3\xa9", NULL}, /* non-ASCII is allowed */
        {"", "is empty"},
        {"a b", "contains whitespace"},
        {"a\xc2\xa0"
         "b",
         "contains whitespace"}, /* U+00A0 */
        {"tab\there", "contains a control character"},
        {"del\x7f", "contains a control character"},
        {"c1\xc2\x85", "contains a control character"}, /* U+0085 is a C1 control */
        {"a:b", "contains a character that is not allowed"},
        {"a/b", "contains a character that is not allowed"},
        {"{x}", "contains a character that is not allowed"},
        {"50%", "contains a character that is not allowed"},
        {"`tick`", "contains a character that is not allowed"},
        {"bad\xff", "is not valid UTF-8"},
        {"over\xc0\xaflong", "is not valid UTF-8"},
        {"surrogate\xed\xa0\x80", "is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = bt_name_problem(rows[i].name);
        if (rows[i].problem == NULL ? got != NULL
                                    : got == NULL || strcmp(got, rows[i].problem) != 0)
            fail_msg("row %zu: got %s", i, got ? got : "(valid)");
    }
    char name[200];
    memset(name, 'n', 80);
    name[80] = '\0';
    assert_null(bt_name_problem(name));
    name[80] = 'n';
    name[81] = '\0';
    assert_string_equal(bt_name_problem(name), "is longer than 80 characters");
    /* characters, not bytes: 80 two-byte characters are fine */
    for (int i = 0; i < 80; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[160] = '\0';
    assert_null(bt_name_problem(name));
}

static void test_shapes_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *arn;
        bt_arn_kind kind;
        const char *machine, *qualifier, *name, *id;
    } rows[] = {
        {"arn:aws:states:us-east-1:123456789012:stateMachine:M", BT_ARN_STATE_MACHINE, "M", "", "",
         ""},
        {"arn:aws:states:us-east-1:123456789012:stateMachine:M:7", BT_ARN_STATE_MACHINE, "M", "7",
         "", ""},
        {"arn:aws:states:eu-west-3:123456789012:stateMachine:M:PROD", BT_ARN_STATE_MACHINE, "M",
         "PROD", "", ""},
        {"arn:aws:states:us-east-1:123456789012:execution:M:run-1", BT_ARN_EXECUTION, "M", "",
         "run-1", ""},
        {"arn:aws:states:us-east-1:123456789012:express:M:e:2ad9b2ba-4f3c",
         BT_ARN_EXPRESS_EXECUTION, "M", "", "e", "2ad9b2ba-4f3c"},
        {"arn:aws-cn:states:cn-north-1:123456789012:activity:approve", BT_ARN_ACTIVITY, "", "",
         "approve", ""},
        {"arn:aws:states:us-east-1:123456789012:mapRun:M/Items:0c4a", BT_ARN_MAP_RUN, "M", "",
         "Items", "0c4a"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bt_arn a;
        const char *why = NULL;
        if (bt_arn_parse(rows[i].arn, &a, &why) != 0)
            fail_msg("row %zu refused: %s", i, why);
        assert_int_equal(a.kind, rows[i].kind);
        assert_string_equal(a.machine, rows[i].machine);
        assert_string_equal(a.qualifier, rows[i].qualifier);
        assert_string_equal(a.name, rows[i].name);
        assert_string_equal(a.id, rows[i].id);
        char *back = bt_arn_format(&a);
        assert_string_equal(back, rows[i].arn);
        free(back);
    }
    bt_arn a;
    const char *why;
    assert_int_equal(
        bt_arn_parse("arn:aws:states:us-east-1:123456789012:stateMachine:M:12", &a, &why), 0);
    assert_true(bt_arn_is_version(&a));
    assert_int_equal(
        bt_arn_parse("arn:aws:states:us-east-1:123456789012:stateMachine:M:live", &a, &why), 0);
    assert_false(bt_arn_is_version(&a));
    assert_int_equal(
        bt_arn_parse("arn:aws:states:us-east-1:123456789012:stateMachine:M:012", &a, &why), 0);
    assert_false(bt_arn_is_version(&a)); /* a leading zero makes it an alias name */
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *arn;
        const char *why;
    } rows[] = {
        {"", "is not an ARN of Step Functions"},
        {"not-an-arn", "is not an ARN of Step Functions"},
        {"arn:aws:lambda:us-east-1:123456789012:function:f", "is not an ARN of Step Functions"},
        {"arn:aws:states:us-east-1:12345:stateMachine:M", "is not an ARN of Step Functions"},
        {"arn:aws:states:US-EAST-1:123456789012:stateMachine:M", "is not an ARN of Step Functions"},
        {"arn:other:states:us-east-1:123456789012:stateMachine:M",
         "is not an ARN of Step Functions"},
        {"arn:aws:states:us-east-1:123456789012:table:M",
         "names a resource type that is not valid in this context"},
        {"arn:aws:states:us-east-1:123456789012:stateMachine:",
         "does not have the shape of its resource type"},
        {"arn:aws:states:us-east-1:123456789012:stateMachine:a b",
         "does not have the shape of its resource type"},
        {"arn:aws:states:us-east-1:123456789012:execution:M",
         "does not have the shape of its resource type"},
        {"arn:aws:states:us-east-1:123456789012:execution:M:e:x",
         "does not have the shape of its resource type"},
        {"arn:aws:states:us-east-1:123456789012:activity:a:b",
         "does not have the shape of its resource type"},
        {"arn:aws:states:us-east-1:123456789012:mapRun:M:0c4a",
         "does not have the shape of its resource type"},
        {"arn:aws:states:us-east-1:123456789012:stateMachine:a:b:c:d:e", "has too many parts"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bt_arn a;
        const char *why = NULL;
        if (bt_arn_parse(rows[i].arn, &a, &why) == 0)
            fail_msg("row %zu accepted", i);
        if (why == NULL || strcmp(why, rows[i].why) != 0)
            fail_msg("row %zu: %s", i, why ? why : "(no reason)");
    }
    char long_arn[400];
    snprintf(long_arn, sizeof(long_arn), "arn:aws:states:us-east-1:123456789012:stateMachine:%s",
             "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"
             "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"
             "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm");
    bt_arn a;
    const char *why;
    assert_int_equal(bt_arn_parse(long_arn, &a, &why), -1);
    assert_string_equal(why, "is longer than 256 characters");
}

static void test_alias_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *problem; /* NULL: valid */
    } rows[] = {
        {"PROD", NULL},
        {"v1.2_beta-3", NULL},
        {"1a", NULL},
        {"_", NULL},
        {"", "is empty"},
        {"123", "is all digits"},
        {"0", "is all digits"},
        {"INVALID ALIAS", "contains a character that is not allowed"},
        {"!INVALID", "contains a character that is not allowed"},
        {"ALIAS@", "contains a character that is not allowed"},
        {"a:b", "contains a character that is not allowed"},
        {"caf\xc3\xa9", "contains a character that is not allowed"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         "is longer than 80 characters"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *got = bt_alias_name_problem(rows[i].name);
        if (rows[i].problem == NULL)
            assert_null(got);
        else
            assert_string_equal(got, rows[i].problem);
    }
    /* 80 characters is still a name. */
    char at_limit[BT_NAME_MAX_CHARS + 1];
    memset(at_limit, 'a', BT_NAME_MAX_CHARS);
    at_limit[BT_NAME_MAX_CHARS] = '\0';
    assert_null(bt_alias_name_problem(at_limit));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_alias_names),
        cmocka_unit_test(test_shapes_round_trip),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
