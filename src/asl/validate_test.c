/*
 * validate_test.c — asl_validate / asl_validate_text: valid definitions pass, invalid ones
 * fail with AWS's code, message and location, rendered the way CreateStateMachine does.
 *
 * Definitions are written with single quotes for readability; q() turns ' into " (write %'
 * for a literal single quote, as intrinsic string arguments need).
 */
#include "asl/validate.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PREFIX "Invalid State Machine Definition: '"

static char *q(const char *text)
{
    bt_buf b;
    bt_buf_init(&b);
    for (const char *p = text; *p; p++) {
        if (p[0] == '%' && p[1] == '\'')
            bt_buf_putc(&b, *++p);
        else
            bt_buf_putc(&b, *p == '\'' ? '"' : *p);
    }
    return bt_buf_steal(&b);
}

/* Validates raw text; NULL when valid, else AWS's rendered message (caller frees). */
static char *check_raw(const char *text, size_t len, bt_diag *d)
{
    json_t *out = (json_t *)1;
    int rc = asl_validate_text(text, len, &out, d);
    if (rc == 0) {
        assert_non_null(out);
        assert_int_equal(d->len, 0);
        json_decref(out);
        return NULL;
    }
    assert_int_equal(rc, BT_EINVAL);
    assert_null(out);
    assert_true(d->len > 0);
    return bt_diag_format(d);
}

static char *check(const char *def)
{
    char *text = q(def);
    bt_diag d;
    bt_diag_init(&d);
    char *msg = check_raw(text, strlen(text), &d);
    bt_diag_fini(&d);
    free(text);
    return msg;
}

#define VALID(def)                                                                                 \
    do {                                                                                           \
        char *m_ = check(def);                                                                     \
        if (m_)                                                                                    \
            fail_msg("unexpected: %s", m_);                                                        \
    } while (0)

#define INVALID(def, rendered)                                                                     \
    do {                                                                                           \
        char *m_ = check(def);                                                                     \
        assert_non_null(m_);                                                                       \
        assert_string_equal(m_, PREFIX rendered "'");                                              \
        free(m_);                                                                                  \
    } while (0)

/* A one-state machine around state body `s` (named A). */
#define ONE(s) "{'StartAt':'A','States':{'A':" s "}}"

/* ---- valid definitions ---------------------------------------------------------------- */

static void valid_minimal(void **state)
{
    (void)state;
    VALID(ONE("{'Type':'Pass','End':true}"));
    VALID(ONE("{'Type':'Succeed'}"));
    VALID(ONE("{'Type':'Fail','Error':'E','Cause':'c'}"));
    VALID("{'Comment':'x','Version':'1.0','TimeoutSeconds':300,'QueryLanguage':'JSONPath',"
          "'StartAt':'A','States':{'A':{'Type':'Pass','QueryLanguage':'JSONPath','End':true}}}");
}

static void valid_every_state_type(void **state)
{
    (void)state;
    VALID("{'StartAt':'Init','States':{"
          "'Init':{'Type':'Pass','Result':{'n':1},'ResultPath':'$.init','Assign':{'count':0,"
          "'start.$':'$$.Execution.StartTime','obj':{'k.$':'$.x'}},'Next':'Call'},"
          "'Call':{'Type':'Task','Resource':'arn:aws:states:::lambda:invoke',"
          "'Parameters':{'FunctionName':'f','Payload':{'id.$':'$.id','all.$':'$',"
          "'msg.$':'States.Format(%'hi {}%', $.name)','list':[{'v.$':'$.v'}]}},"
          "'ResultSelector':{'body.$':'$.Payload'},'ResultPath':'$.out','OutputPath':'$',"
          "'InputPath':'$','TimeoutSeconds':60,'HeartbeatSeconds':10,"
          "'Credentials':{'RoleArn':'arn:aws:iam::123456789012:role/r'},"
          "'Retry':[{'ErrorEquals':['States.Timeout'],'IntervalSeconds':2,'MaxAttempts':3,"
          "'BackoffRate':1.5,'MaxDelaySeconds':10,'JitterStrategy':'FULL'},"
          "{'ErrorEquals':['States.ALL']}],"
          "'Catch':[{'ErrorEquals':['States.ALL'],'ResultPath':'$.err','Next':'Failed'}],"
          "'Next':'Decide'},"
          "'Decide':{'Type':'Choice','Choices':["
          "{'Variable':'$.n','NumericGreaterThan':1,'Next':'Sleep'},"
          "{'And':[{'Variable':'$.s','IsPresent':true},{'Not':{'Variable':'$.s',"
          "'StringMatches':'a*'}}],'Next':'Fan'},"
          "{'Variable':'$.t','TimestampLessThan':'2024-01-01T00:00:00Z','Next':'Loop'},"
          "{'Variable':'$.a','StringEqualsPath':'$.b','Assign':{'z':1},'Next':'Done'}],"
          "'Default':'Done'},"
          "'Sleep':{'Type':'Wait','Seconds':0,'Next':'Done'},"
          "'Loop':{'Type':'Wait','TimestampPath':'$.when','Next':'Done'},"
          "'Fan':{'Type':'Parallel','Branches':[{'StartAt':'B1','States':{'B1':{'Type':'Pass',"
          "'End':true}}},{'StartAt':'B2','States':{'B2':{'Type':'Wait','SecondsPath':'$.s',"
          "'End':true}}}],'ResultSelector':{'r.$':'$[0]'},'Next':'Each'},"
          "'Each':{'Type':'Map','ItemsPath':'$.items','MaxConcurrency':2,"
          "'ItemSelector':{'i.$':'$$.Map.Item.Index'},"
          "'ItemProcessor':{'ProcessorConfig':{'Mode':'INLINE'},'StartAt':'M1',"
          "'States':{'M1':{'Type':'Succeed'}}},'Next':'Done'},"
          "'Done':{'Type':'Succeed'},"
          "'Failed':{'Type':'Fail','ErrorPath':'$.err.Error','CausePath':'States.Format(%'x "
          "{}%', $.c)'}}}");
}

static void valid_map_variants(void **state)
{
    (void)state;
    VALID(ONE("{'Type':'Map','Iterator':{'StartAt':'I','States':{'I':{'Type':'Pass',"
              "'End':true}}},'Parameters':{'x.$':'$$.Map.Item.Value'},'End':true}"));
    VALID(ONE("{'Type':'Map','ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
              "'ExecutionType':'EXPRESS'},'StartAt':'I','States':{'I':{'Type':'Pass',"
              "'End':true}}},'ItemReader':{'Resource':'arn:aws:states:::s3:getObject',"
              "'ReaderConfig':{'InputType':'JSON'},'Parameters':{'Bucket':'b','Key':'k'}},"
              "'ItemBatcher':{'MaxItemsPerBatch':10},'ResultWriter':{'Resource':"
              "'arn:aws:states:::s3:putObject','Parameters':{'Bucket':'b','Prefix':'p'}},"
              "'Label':'run','ToleratedFailurePercentage':5.5,'ToleratedFailureCount':3,"
              "'End':true}"));
}

static void valid_callback_workload(void **state)
{
    (void)state;
    VALID("{'StartAt':'Send','States':{'Send':{'Type':'Task','Resource':"
          "'arn:aws:states:::sqs:sendMessage.waitForTaskToken','Parameters':{'QueueUrl':'q',"
          "'MessageBody':{'TaskToken.$':'$$.Task.Token','id.$':'$.id'}},"
          "'ResultPath':'$.callback','TimeoutSeconds':300,'Next':'After'},"
          "'After':{'Type':'Pass','Parameters':{'id.$':'$.id'},'End':true}}}");
}

static void valid_text_returns_definition(void **state)
{
    (void)state;
    char *text = q(ONE("{'Type':'Pass','End':true}"));
    bt_diag d;
    bt_diag_init(&d);
    json_t *out = NULL;
    assert_int_equal(asl_validate_text(text, strlen(text), &out, &d), 0);
    assert_true(json_is_object(out));
    assert_string_equal(json_string_value(json_object_get(out, "StartAt")), "A");
    json_decref(out);
    bt_diag_fini(&d);
    free(text);
}

/* ---- recorded against AWS ------------------------------------------------------------- */

static void aws_recorded_messages(void **state)
{
    (void)state;
    INVALID("{'StartAt':'IntrinsicEscape','States':{'IntrinsicEscape':{'Type':'Pass',"
            "'Parameters':{'parsed.$':'States.StringToJson(%'{\\'text\\':\\'An \\\\\\'esc\\\\\\' "
            "x\\'}%')'},'End':true}}}",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid "
            "JSONPath or a valid intrinsic function call at /States/IntrinsicEscape/Parameters");
    INVALID("{'StartAt':'WaitUntil','States':{'WaitUntil':{'Type':'Wait',"
            "'Timestamp':'05-12-2016T21:29:29Z','End':true}}}",
            "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at "
            "/States/WaitUntil/Timestamp");
    INVALID("{'StartAt':'State0','QueryLanguage':'JSONata','States':{'State0':{'Type':'Task',"
            "'Resource':'arn:aws:states:::lambda:invoke','Arguments':'{% $state.input %}',"
            "'Credentials':{'InvalidField':'invalid'},'End':true}}}",
            "SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at "
            "/States/State0/Credentials");
    /* Several problems are joined with ", " inside one quoted string. */
    INVALID("{'StartAt':'pass1','States':{'pass1':{'Type':'Pass','Next':'pass3'},"
            "'pass2':{'Type':'Pass','End':true}}}",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, "
            "MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2");
}

/* ---- text and top level --------------------------------------------------------------- */

static void text_errors(void **state)
{
    (void)state;
    bt_diag d;
    bt_diag_init(&d);
    char *m = check_raw("  \n", 3, &d);
    assert_string_equal(m, PREFIX "SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON "
                                  "object at null'");
    assert_string_equal(d.items[0].pointer, "");
    free(m);
    bt_diag_fini(&d);

    m = check_raw("[1]", 3, &d);
    assert_string_equal(d.items[0].message, "Definition must be a valid JSON object");
    free(m);
    bt_diag_fini(&d);

    m = check_raw("not a definition", 16, &d);
    assert_int_equal(d.len, 1);
    assert_string_equal(d.items[0].code, "INVALID_JSON_DESCRIPTION");
    assert_string_equal(d.items[0].pointer, "");
    assert_null(strstr(m, " at null"));
    assert_null(strstr(m, " at /"));
    free(m);
    bt_diag_fini(&d);

    m = check_raw("{\"a\":", 5, &d);
    assert_string_equal(d.items[0].code, "INVALID_JSON_DESCRIPTION");
    free(m);
    bt_diag_fini(&d);

    size_t big = ASL_MAX_DEFINITION_BYTES + 1;
    char *text = malloc(big);
    memset(text, ' ', big);
    m = check_raw(text, big, &d);
    assert_string_equal(d.items[0].code, "SCHEMA_VALIDATION_FAILED");
    free(m);
    free(text);
    bt_diag_fini(&d);
}

static void top_level_fields(void **state)
{
    (void)state;
    INVALID("{}", "SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /");
    INVALID("{'States':{'A':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /");
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Succeed'}},'Foo':1}",
            "SCHEMA_VALIDATION_FAILED: Field 'Foo' is not supported at /");
    INVALID("{'StartAt':'A','Version':'2.0','States':{'A':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [1.0] at /Version");
    INVALID("{'StartAt':'A','TimeoutSeconds':0,'States':{'A':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 1 at "
            "/TimeoutSeconds");
    INVALID("{'StartAt':'A','TimeoutSeconds':'5','States':{'A':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /TimeoutSeconds");
    INVALID("{'StartAt':1,'States':{'A':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /StartAt");
    INVALID("{'StartAt':'A','States':[]}",
            "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States");
    INVALID("{'StartAt':'B','States':{'A':{'Type':'Succeed'}}}",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /StartAt, "
            "MISSING_TRANSITION_TARGET: State \"A\" is not reachable. at /States/A");
    INVALID("{'StartAt':'A','QueryLanguage':'XPath','States':{'A':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [JSONPath, "
            "JSONata] at /QueryLanguage");
}

static void terminal_and_reachability(void **state)
{
    (void)state;
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Pass','Next':'B'},"
            "'B':{'Type':'Pass','Next':'A'},'C':{'Type':'Pass','Next':'A'}}}",
            "MISSING_END_STATE: Workflow has no terminal state at null");
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Pass','Next':'NOPE'}}}",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE at /States/A/Next, "
            "MISSING_END_STATE: Workflow has no terminal state at null");
    /* Catch and Default targets make states reachable. */
    VALID("{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'arn:aws:states:::sns:publish',"
          "'Catch':[{'ErrorEquals':['E'],'Next':'F'}],'End':true},'F':{'Type':'Fail'}}}");
    INVALID("{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':[{'Variable':'$.x',"
            "'IsNull':true,'Next':'X'}],'Default':'Y'},'S':{'Type':'Succeed'}}}",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/C/Choices[0]/Next, "
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Y at /States/C/Default, "
            "MISSING_TRANSITION_TARGET: State \"S\" is not reachable. at /States/S");
}

/* ---- states --------------------------------------------------------------------------- */

static void state_type_and_fields(void **state)
{
    (void)state;
    INVALID(ONE("{'End':true}"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /States/A");
    INVALID(ONE("{'Type':'Bogus','End':true}"),
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [Pass, Task, "
            "Choice, Wait, Succeed, Fail, Parallel, Map] at /States/A/Type");
    INVALID(ONE("[]"), "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States/A, "
                       "MISSING_END_STATE: Workflow has no terminal state at null");
    INVALID(ONE("{'Type':'Pass','Foo':1,'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Field 'Foo' is not supported at /States/A");
    INVALID(ONE("{'Type':'Pass','TimeoutSeconds':5,'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/A");
    INVALID(ONE("{'Type':'Pass','Catch':[],'Retry':[],'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported at /States/A, "
            "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported at /States/A");
    INVALID(ONE("{'Type':'Succeed','Next':'A'}"),
            "SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/A");
    INVALID(ONE("{'Type':'Fail','InputPath':'$'}"),
            "SCHEMA_VALIDATION_FAILED: Field 'InputPath' is not supported at /States/A");
    INVALID(ONE("{'Type':'Pass','Comment':5,'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Comment");
}

static void next_and_end(void **state)
{
    (void)state;
    INVALID(ONE("{'Type':'Pass'}"),
            "SCHEMA_VALIDATION_FAILED: A state must have either 'Next' or 'End' set to true at "
            "/States/A, MISSING_END_STATE: Workflow has no terminal state at null");
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Pass','Next':'B','End':true},"
            "'B':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: A state cannot have both 'Next' and 'End' at /States/A");
    INVALID(ONE("{'Type':'Pass','End':'yes'}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [BOOLEAN] at /States/A/End, "
            "SCHEMA_VALIDATION_FAILED: A state must have either 'Next' or 'End' set to true at "
            "/States/A, MISSING_END_STATE: Workflow has no terminal state at null");
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Pass','Next':5},'B':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Next, "
            "MISSING_TRANSITION_TARGET: State \"B\" is not reachable. at /States/B");
}

static void state_names(void **state)
{
    (void)state;
    char name[82];
    memset(name, 'n', 81);
    name[81] = '\0';
    char def[256];
    snprintf(def, sizeof(def), "{'StartAt':'%s','States':{'%s':{'Type':'Succeed'}}}", name, name);
    char *m = check(def);
    assert_non_null(m);
    assert_non_null(strstr(m, "INVALID_STATE_NAME: State name must be between 1 and 80 "
                              "characters long at /States/nnnn"));
    free(m);
    name[80] = '\0';
    snprintf(def, sizeof(def), "{'StartAt':'%s','States':{'%s':{'Type':'Succeed'}}}", name, name);
    VALID(def);

    /* Names are unique across the whole machine, nested branches included. */
    INVALID("{'StartAt':'X','States':{'X':{'Type':'Parallel','Branches':[{'StartAt':'X',"
            "'States':{'X':{'Type':'Succeed'}}}],'End':true}}}",
            "DUPLICATE_STATE_NAME: Duplicate State name: X at /States/X/Branches[0]/States/X");
    /* JSON Pointer escaping of names. */
    INVALID("{'StartAt':'a/b','States':{'a/b':{'Type':'Pass','Bad':1,'End':true}}}",
            "SCHEMA_VALIDATION_FAILED: Field 'Bad' is not supported at /States/a~1b");
}

static void task_fields(void **state)
{
    (void)state;
    INVALID(ONE("{'Type':'Task','End':true}"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/A");
    INVALID(ONE("{'Type':'Task','Resource':'lambda','End':true}"),
            "SCHEMA_VALIDATION_FAILED: The resource provided lambda is not recognized. The "
            "value is not a valid resource ARN, or the resource is not available in this "
            "region. at /States/A/Resource");
    INVALID(ONE("{'Type':'Task','Resource':{'a':1},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Resource");
    VALID(ONE("{'Type':'Task','Resource':'arn:aws:lambda:us-east-1:123456789012:function:f',"
              "'TimeoutSecondsPath':'$.t','HeartbeatSecondsPath':'$.h','End':true}"));
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','TimeoutSeconds':0,"
                "'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 1 at "
            "/States/A/TimeoutSeconds");
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','TimeoutSeconds':1.5,"
                "'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at "
            "/States/A/TimeoutSeconds");
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','TimeoutSeconds':10,"
                "'HeartbeatSeconds':10,'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value of 'HeartbeatSeconds' must be less than the "
            "value of 'TimeoutSeconds' at /States/A/HeartbeatSeconds");
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','TimeoutSeconds':10,"
                "'TimeoutSecondsPath':'$.t','End':true}"),
            "SCHEMA_VALIDATION_FAILED: Fields 'TimeoutSeconds' and 'TimeoutSecondsPath' are "
            "mutually exclusive at /States/A");
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','Credentials':{},"
                "'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at "
            "/States/A/Credentials");
    VALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','Credentials':{'RoleArn.$':"
              "'$.role'},'End':true}"));
    INVALID(
        ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','Credentials':{'RoleArn.$':"
            "'role'},'End':true}"),
        "SCHEMA_VALIDATION_FAILED: The value for the field 'RoleArn.$' must be a valid "
        "JSONPath or a valid intrinsic function call at /States/A/Credentials");
}

/* "The resource provided R is not recognized. …" at ptr, as AWS renders it. */
#define UNRECOGNISED(res, ptr)                                                                     \
    "SCHEMA_VALIDATION_FAILED: The resource provided " res " is not recognized. The value is "     \
    "not a valid resource ARN, or the resource is not available in this region. at " ptr

static void task_resources(void **state)
{
    (void)state;
    /* Issue 5: an action the service does not have, a service AWS does not integrate. */
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sqs:sendMessageX','End':true}"),
            UNRECOGNISED("arn:aws:states:::sqs:sendMessageX", "/States/A/Resource"));
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::foo:bar','End':true}"),
            UNRECOGNISED("arn:aws:states:::foo:bar", "/States/A/Resource"));
    /* A pattern the API does not offer. */
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::dynamodb:getItem.sync',"
                "'End':true}"),
            UNRECOGNISED("arn:aws:states:::dynamodb:getItem.sync", "/States/A/Resource"));
    INVALID(
        ONE("{'Type':'Task','Resource':'arn:aws:states:::aws-sdk:codebuild:startBuild.sync',"
            "'End':true}"),
        UNRECOGNISED("arn:aws:states:::aws-sdk:codebuild:startBuild.sync", "/States/A/Resource"));
    VALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::states:startExecution.sync:2',"
              "'End':true}"));
    VALID(ONE("{'Type':'Task','Resource':'arn:aws:states:us-east-1:123456789012:activity:a',"
              "'End':true}"));

    /* Every Task is checked, nested ones at their own pointer; each problem is reported. */
    char *m = check("{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{'StartAt':'M',"
                    "'States':{'M':{'Type':'Map','ItemProcessor':{'StartAt':'T','States':{'T':"
                    "{'Type':'Task','Resource':'arn:aws:states:::sns:publish.sync','End':true}}},"
                    "'End':true}}}],'Next':'U'},'U':{'Type':'Task','Resource':"
                    "'arn:aws:states:::lambda:invokeAsync','End':true}}}");
    assert_non_null(m);
    assert_non_null(strstr(m, UNRECOGNISED("arn:aws:states:::sns:publish.sync",
                                           "/States/P/Branches[0]/States/M/ItemProcessor/"
                                           "States/T/Resource")));
    assert_non_null(
        strstr(m, UNRECOGNISED("arn:aws:states:::lambda:invokeAsync", "/States/U/Resource")));
    free(m);
}

static void paths_and_templates(void **state)
{
    (void)state;
    INVALID(ONE("{'Type':'Pass','ResultPath':'nope','End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'ResultPath' must be a valid "
            "ReferencePath at /States/A");
    INVALID(ONE("{'Type':'Pass','InputPath':'nope','End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid "
            "JSONPath at /States/A");
    VALID(ONE("{'Type':'Pass','InputPath':null,'OutputPath':null,'ResultPath':null,"
              "'End':true}"));
    INVALID(ONE("{'Type':'Pass','OutputPath':7,'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/OutputPath");
    INVALID(ONE("{'Type':'Pass','Parameters':{'a':{'b.$':5}},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'b.$' must be a valid JSONPath "
            "or a valid intrinsic function call at /States/A/Parameters/a");
    INVALID(ONE("{'Type':'Pass','Parameters':{'l':[1,{'x.$':'oops'}]},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath "
            "or a valid intrinsic function call at /States/A/Parameters/l[1]");
    INVALID(ONE("{'Type':'Pass','Parameters':{'x.$':'States.NoSuchFunction(1)'},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath "
            "or a valid intrinsic function call at /States/A/Parameters");
    INVALID(ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','ResultSelector':[],"
                "'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at "
            "/States/A/ResultSelector");
}

static void assign_rules(void **state)
{
    (void)state;
    VALID(ONE("{'Type':'Pass','Assign':{'x':1,'_y2':{'a':[1]},'z.$':'$.z',"
              "'w.$':'States.ArrayLength($.l)'},'End':true}"));
    INVALID(ONE("{'Type':'Pass','Assign':{'x.y':1},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The variable name 'x.y' is not valid at "
            "/States/A/Assign");
    INVALID(ONE("{'Type':'Pass','Assign':{'x[2]':1,'2x':1,'states':1},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The variable name 'x[2]' is not valid at "
            "/States/A/Assign, SCHEMA_VALIDATION_FAILED: The variable name '2x' is not valid "
            "at /States/A/Assign, SCHEMA_VALIDATION_FAILED: The variable name 'states' is not "
            "valid at /States/A/Assign");
    INVALID(ONE("{'Type':'Pass','Assign':{'v.$':'nope'},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'v.$' must be a valid JSONPath "
            "or a valid intrinsic function call at /States/A/Assign");
    INVALID(ONE("{'Type':'Succeed','Assign':{'x':1}}"),
            "SCHEMA_VALIDATION_FAILED: Field 'Assign' is not supported at /States/A");
    INVALID(ONE("{'Type':'Pass','Assign':[],'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [OBJECT] at /States/A/Assign");
}

static void retry_rules(void **state)
{
    (void)state;
#define TASK_RETRY(r)                                                                              \
    ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','Retry':" r ",'End':true}")
    INVALID(TASK_RETRY("[{'MaxAttempts':1}]"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [ErrorEquals] at "
            "/States/A/Retry[0]");
    INVALID(TASK_RETRY("[{'ErrorEquals':[]}]"),
            "SCHEMA_VALIDATION_FAILED: The field 'ErrorEquals' must not be empty at "
            "/States/A/Retry[0]/ErrorEquals");
    INVALID(TASK_RETRY("[{'ErrorEquals':['States.ALL','E']}]"),
            "SCHEMA_VALIDATION_FAILED: 'States.ALL' must appear alone in 'ErrorEquals' at "
            "/States/A/Retry[0]/ErrorEquals");
    INVALID(TASK_RETRY("[{'ErrorEquals':['States.ALL']},{'ErrorEquals':['E']}]"),
            "SCHEMA_VALIDATION_FAILED: A retrier with 'States.ALL' must be the last retrier at "
            "/States/A/Retry[0]");
    INVALID(TASK_RETRY("[{'ErrorEquals':['E'],'BackoffRate':0.5,'MaxAttempts':-1,"
                       "'IntervalSeconds':0,'MaxDelaySeconds':0,'JitterStrategy':'SOME',"
                       "'Bogus':1}]"),
            "SCHEMA_VALIDATION_FAILED: Field 'Bogus' is not supported at /States/A/Retry[0], "
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 1 at "
            "/States/A/Retry[0]/IntervalSeconds, "
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 0 at "
            "/States/A/Retry[0]/MaxAttempts, "
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 1 at "
            "/States/A/Retry[0]/BackoffRate, "
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 1 at "
            "/States/A/Retry[0]/MaxDelaySeconds, "
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [FULL, NONE] at "
            "/States/A/Retry[0]/JitterStrategy");
    INVALID(TASK_RETRY("[{'ErrorEquals':[1]}]"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at "
            "/States/A/Retry[0]/ErrorEquals[0]");
    INVALID(TASK_RETRY("{}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [ARRAY] at /States/A/Retry");
#undef TASK_RETRY
}

static void catch_rules(void **state)
{
    (void)state;
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Task','Resource':'arn:aws:states:::sns:publish',"
            "'Catch':[{'ErrorEquals':['States.ALL']}],'End':true}}}",
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/A/Catch[0]");
    INVALID("{'StartAt':'A','States':{'A':{'Type':'Task','Resource':'arn:aws:states:::sns:publish',"
            "'Catch':[{'ErrorEquals':['States.ALL'],'Next':'B'},{'ErrorEquals':['E'],"
            "'Next':'Z','ResultPath':'$$.x'}],'End':true},'B':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: A catcher with 'States.ALL' must be the last catcher at "
            "/States/A/Catch[0], MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at "
            "/States/A/Catch[1]/Next, SCHEMA_VALIDATION_FAILED: The value for the field "
            "'ResultPath' must be a valid ReferencePath at /States/A/Catch[1]");
}

static void choice_rules(void **state)
{
    (void)state;
#define CHOICE(c)                                                                                  \
    "{'StartAt':'C','States':{'C':{'Type':'Choice','Choices':" c                                   \
    ",'Default':'D'},'D':{'Type':'Succeed'}}}"
    INVALID(CHOICE("[]"),
            "SCHEMA_VALIDATION_FAILED: The field 'Choices' must not be empty at /States/C/Choices");
    INVALID("{'StartAt':'C','States':{'C':{'Type':'Choice','Default':'D'},"
            "'D':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at /States/C");
    INVALID("{'StartAt':'C','States':{'C':{'Type':'Choice','End':true,'Choices':[{"
            "'Variable':'$.x','IsNull':true,'Next':'D'}]},'D':{'Type':'Succeed'}}}",
            "SCHEMA_VALIDATION_FAILED: Field 'End' is not supported at /States/C");
    INVALID(CHOICE("[{'Variable':'$.x','IsNull':true}]"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/C/Choices[0]");
    INVALID(CHOICE("[{'And':[{'Variable':'$.x','IsNull':true,'Next':'D'}],'Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at "
            "/States/C/Choices[0]/And[0]");
    INVALID(CHOICE("[{'Variable':'$.x','IsNull':true,'IsString':true,'Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: A choice rule must contain exactly one comparison "
            "operator or one of 'And', 'Or', 'Not' at /States/C/Choices[0]");
    INVALID(CHOICE("[{'Variable':'$.x','Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: A choice rule must contain exactly one comparison "
            "operator or one of 'And', 'Or', 'Not' at /States/C/Choices[0]");
    INVALID(CHOICE("[{'StringEquals':'a','Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Variable] at "
            "/States/C/Choices[0]");
    INVALID(CHOICE("[{'Variable':'$.x','TimestampEquals':'2024-13-01T00:00:00Z','Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at "
            "/States/C/Choices[0]/TimestampEquals");
    INVALID(CHOICE("[{'Variable':'$.x','NumericEquals':'1','Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [NUMBER] at "
            "/States/C/Choices[0]/NumericEquals");
    INVALID(CHOICE("[{'Variable':'$.x','BooleanEquals':1,'Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [BOOLEAN] at "
            "/States/C/Choices[0]/BooleanEquals");
    INVALID(CHOICE("[{'Variable':'x','IsNull':true,'Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'Variable' must be a valid "
            "ReferencePath at /States/C/Choices[0]");
    INVALID(CHOICE("[{'Or':[],'Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: The field 'Or' must not be empty at "
            "/States/C/Choices[0]/Or");
    INVALID(CHOICE("[{'Not':{'Variable':'$.x','Foo':1,'IsNull':true},'Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: Field 'Foo' is not supported at "
            "/States/C/Choices[0]/Not");
    INVALID(CHOICE("[{'Condition':'{% true %}','Next':'D'}]"),
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field "
            "'Condition' is only supported for the 'JSONata' QueryLanguage at "
            "/States/C/Choices[0], SCHEMA_VALIDATION_FAILED: A choice rule must contain "
            "exactly one comparison operator or one of 'And', 'Or', 'Not' at "
            "/States/C/Choices[0]");
    VALID(CHOICE("[{'Variable':'$$.Execution.Input.x','StringGreaterThanEqualsPath':'$v',"
                 "'Next':'D','Comment':'c'}]"));
#undef CHOICE
}

static void wait_and_fail(void **state)
{
    (void)state;
    INVALID(ONE("{'Type':'Wait','End':true}"),
            "SCHEMA_VALIDATION_FAILED: A Wait state must contain exactly one of 'Seconds', "
            "'Timestamp', 'SecondsPath' or 'TimestampPath' at /States/A");
    INVALID(ONE("{'Type':'Wait','Seconds':1,'SecondsPath':'$.s','End':true}"),
            "SCHEMA_VALIDATION_FAILED: A Wait state must contain exactly one of 'Seconds', "
            "'Timestamp', 'SecondsPath' or 'TimestampPath' at /States/A");
    INVALID(ONE("{'Type':'Wait','Seconds':-1,'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 0 at "
            "/States/A/Seconds");
    VALID(ONE("{'Type':'Wait','Timestamp':'2016-03-14T01:59:00Z','End':true}"));
    VALID(ONE("{'Type':'Wait','Timestamp':'2016-03-14T01:59:00.123+02:00','End':true}"));
    INVALID(ONE("{'Type':'Fail','Error':'E','ErrorPath':'$.e','Cause':'c','CausePath':'$.c'}"),
            "SCHEMA_VALIDATION_FAILED: Fields 'Error' and 'ErrorPath' are mutually exclusive at "
            "/States/A, SCHEMA_VALIDATION_FAILED: Fields 'Cause' and 'CausePath' are mutually "
            "exclusive at /States/A");
    INVALID(ONE("{'Type':'Fail','ErrorPath':'oops'}"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'ErrorPath' must be a valid "
            "JSONPath or a valid intrinsic function call at /States/A");
    INVALID(ONE("{'Type':'Fail','Error':1}"),
            "SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /States/A/Error");
}

static void parallel_and_map(void **state)
{
    (void)state;
    INVALID(ONE("{'Type':'Parallel','End':true}"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Branches] at /States/A");
    /* A branch is its own scope: it cannot jump out, the outside cannot jump in. */
    INVALID("{'StartAt':'P','States':{'P':{'Type':'Parallel','Branches':[{'StartAt':'B',"
            "'States':{'B':{'Type':'Pass','Next':'Out'}}}],'Next':'Out'},"
            "'Out':{'Type':'Pass','Next':'B'}}}",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Out at "
            "/States/P/Branches[0]/States/B/Next, MISSING_TRANSITION_TARGET: Missing 'Next' "
            "target: B at /States/Out/Next, MISSING_END_STATE: Workflow has no terminal state "
            "at null");
    INVALID(ONE("{'Type':'Parallel','Branches':[{'StartAt':'B','States':{'B':{'Type':"
                "'Succeed'},'U':{'Type':'Succeed'}},'QueryLanguage':'JSONPath'}],'End':true}"),
            "SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at "
            "/States/A/Branches[0], MISSING_TRANSITION_TARGET: State \"U\" is not reachable. "
            "at /States/A/Branches[0]/States/U");
    INVALID(ONE("{'Type':'Parallel','Branches':[{}],'End':true}"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at "
            "/States/A/Branches[0]");
    INVALID(ONE("{'Type':'Map','End':true}"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [ItemProcessor] at /States/A");
#define MAP(extra)                                                                                 \
    ONE("{'Type':'Map','ItemProcessor':{'StartAt':'I','States':{'I':{'Type':'Succeed'}}" extra "}")
    INVALID(MAP("},'MaxConcurrency':-1,'ToleratedFailurePercentage':101,'End':true"),
            "SCHEMA_VALIDATION_FAILED: Value must be greater than or equal to 0 at "
            "/States/A/MaxConcurrency, SCHEMA_VALIDATION_FAILED: Value must be less than or "
            "equal to 100 at /States/A/ToleratedFailurePercentage");
    INVALID(MAP(",'ProcessorConfig':{'Mode':'FAST','ExecutionType':'EXPRESS'}},'End':true"),
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [INLINE, "
            "DISTRIBUTED] at /States/A/ItemProcessor/ProcessorConfig/Mode, "
            "SCHEMA_VALIDATION_FAILED: Field 'ExecutionType' is not supported at "
            "/States/A/ItemProcessor/ProcessorConfig");
    INVALID(MAP("},'ItemReader':{'Resource':'arn:aws:states:::s3:getObject'},'End':true"),
            "SCHEMA_VALIDATION_FAILED: Field 'ItemReader' is not supported at /States/A");
    INVALID(MAP(",'ProcessorConfig':{'Mode':'DISTRIBUTED'}},'ItemReader':{},'Label':"
                "'0123456789012345678901234567890123456789x','End':true"),
            "SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at "
            "/States/A/ItemReader, SCHEMA_VALIDATION_FAILED: The field 'Label' must be at most "
            "40 characters long at /States/A/Label");
    INVALID(MAP("},'ItemsPath':'$.a[*]','End':true"),
            "SCHEMA_VALIDATION_FAILED: The value for the field 'ItemsPath' must be a valid "
            "ReferencePath at /States/A");
#undef MAP
}

static void query_language(void **state)
{
    (void)state;
    VALID("{'StartAt':'A','QueryLanguage':'JSONata','States':{'A':{'Type':'Pass',"
          "'Output':'{% $states.input %}','End':true}}}");
    VALID(ONE("{'Type':'Pass','QueryLanguage':'JSONata','End':true}"));
    /* a JSONata state inside a JSONPath machine */
    VALID("{'StartAt':'A','States':{'A':{'Type':'Pass','QueryLanguage':'JSONata',"
          "'Output':{'x':['{% $states.input %}']},'Assign':{'v':'{% 1 %}'},'End':true}}}");
    /* every expression is compiled at definition time, at its own location */
    INVALID("{'StartAt':'A','QueryLanguage':'JSONata','States':{'A':{'Type':'Pass',"
            "'Output':'{% 1 + %}','End':true}}}",
            "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/A/Output");
    INVALID("{'StartAt':'A','QueryLanguage':'JSONata','States':{'A':{'Type':'Pass',"
            "'Output':{'k':[1,'{% a[1,2) %}']},'End':true}}}",
            "INVALID_JSONATA_EXPRESSION: Expected \"]\", got \",\" at /States/A/Output/k[1]");
    INVALID("{'StartAt':'C','QueryLanguage':'JSONata','States':{'C':{'Type':'Choice',"
            "'Choices':[{'Condition':'{% 1 + %}','Next':'D'}],'Default':'D'},"
            "'D':{'Type':'Succeed'}}}",
            "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at "
            "/States/C/Choices[0]/Condition");
    /* text not wrapped in {% %} is a literal, never parsed */
    VALID("{'StartAt':'A','QueryLanguage':'JSONata','States':{'A':{'Type':'Pass',"
          "'Output':'1 + ','End':true}}}");
    INVALID(
        ONE("{'Type':'Task','Resource':'arn:aws:states:::sns:publish','Arguments':{},'End':true}"),
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field "
        "'Arguments' is only supported for the 'JSONata' QueryLanguage at /States/A");
    INVALID(ONE("{'Type':'Pass','Output':{},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field "
            "'Output' is only supported for the 'JSONata' QueryLanguage at /States/A");
    INVALID(ONE("{'Type':'Map','Items':[],'ItemProcessor':{'StartAt':'I','States':{'I':{"
                "'Type':'Succeed'}}},'End':true}"),
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field "
            "'Items' is only supported for the 'JSONata' QueryLanguage at /States/A");
    INVALID("{'StartAt':'A','QueryLanguage':'JSONata','States':{'A':{'Type':'Pass',"
            "'QueryLanguage':'JSONPath','End':true}}}",
            "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' "
            "for whole state machine at /States/A");
    INVALID("{'StartAt':'A','QueryLanguage':'JSONata','States':{'A':{'Type':'Pass',"
            "'ResultPath':'$.x','End':true}}}",
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field "
            "'ResultPath' is only supported for the 'JSONPath' QueryLanguage at /States/A");
}

/* ---- bounds --------------------------------------------------------------------------- */

/* What an expression reads from the top-level context Step Functions never gives: texts and
 * locations as AWS's ValidateStateMachineDefinition answers (validate_jsonata.c). */
static void jsonata_top_level_refs(void **state)
{
    (void)state;
#define PASS_OUT(o)                                                                                \
    "{'StartAt':'E','QueryLanguage':'JSONata','States':{'E':{'Type':'Pass','Output':" o            \
    ",'End':true}}}"
#define UNSUP "UNSUPPORTED_JSONATA_EXPRESSION: "
    INVALID(PASS_OUT("{'v':'{% phone[0] %}'}"),
            UNSUP "Reference to 'phone' at the top level is not supported. at /States/E/Output/v");
    INVALID(PASS_OUT("{'a':{'b':['{% phone %}']}}"),
            UNSUP "Reference to 'phone' at the top level is not supported. at "
                  "/States/E/Output/a/b[0]");
    /* each distinct name once, in the order written */
    INVALID(PASS_OUT("'{% aaa + bbb & aaa %}'"), UNSUP
            "Reference to 'aaa' at the top level is not supported. at /States/E/Output, " UNSUP
            "Reference to 'bbb' at the top level is not supported. at /States/E/Output");
    INVALID(PASS_OUT("'{% $.phone %}'"),
            UNSUP "Reference to '$' at the top level is not supported. at /States/E/Output");
    INVALID(PASS_OUT("'{% $$ %}'"),
            UNSUP "Reference to '$$' is not supported. at /States/E/Output");
    /* a lambda's body keeps the defining expression's context */
    INVALID(PASS_OUT("'{% $map($states.input.a, function($x){ b }) %}'"),
            UNSUP "Reference to 'b' at the top level is not supported. at /States/E/Output");
    INVALID(PASS_OUT("'{% $states.errorOutput %}'"),
            UNSUP "Field '$states.errorOutput' does not exist. at /States/E/Output");
    INVALID("{'StartAt':'C','QueryLanguage':'JSONata','States':{'C':{'Type':'Choice',"
            "'Choices':[{'Condition':'{% phone = 1 %}','Next':'D'}],'Default':'D'},"
            "'D':{'Type':'Succeed'}}}",
            UNSUP "Reference to 'phone' at the top level is not supported. at "
                  "/States/C/Choices[0]/Condition");
    /* later steps, predicates and variables read other contexts */
    VALID(PASS_OUT("{'a':'{% $states.input.items[phone > 3].name^(n) %}','b':'{% $phone %}',"
                   "'c':'{% $map($states.input.a, function($x){ $x.phone }) %}',"
                   "'d':'{% ($v := $states.input; $v.k) %}','e':'{% {\\'k\\': 1} %}'}"));
    /* $states.errorOutput exists in a Catch entry's Output and Assign */
    VALID("{'StartAt':'T','QueryLanguage':'JSONata','States':{'T':{'Type':'Task',"
          "'Resource':'arn:aws:states:::lambda:invoke','Arguments':{'FunctionName':'f'},"
          "'Catch':[{'ErrorEquals':['States.ALL'],'Output':'{% $states.errorOutput %}',"
          "'Assign':{'e':'{% $states.errorOutput.Cause %}'},'Next':'D'}],'End':true},"
          "'D':{'Type':'Succeed'}}}");
    /* a JSONPath state's strings are not expressions */
    VALID(ONE("{'Type':'Pass','Parameters':{'v':'{% phone %}'},'End':true}"));
#undef UNSUP
#undef PASS_OUT
}

static void nesting_is_bounded(void **state)
{
    (void)state;
    bt_buf b;
    bt_buf_init(&b);
    bt_buf_puts(&b, "{'StartAt':'S','States':{'S':");
    for (int i = 0; i < 70; i++)
        bt_buf_printf(&b,
                      "{'Type':'Parallel','End':true,'Branches':[{'StartAt':'P%d',"
                      "'States':{'P%d':",
                      i, i);
    bt_buf_puts(&b, "{'Type':'Succeed'}");
    for (int i = 0; i < 70; i++)
        bt_buf_puts(&b, "}}]}");
    bt_buf_puts(&b, "}}");
    char *m = check(b.data);
    assert_non_null(m);
    assert_non_null(strstr(m, "TOO_DEEPLY_NESTED: The states are nested more than 64 levels"));
    free(m);
    bt_buf_reset(&b);

    bt_buf_puts(&b, "{'StartAt':'C','States':{'D':{'Type':'Succeed'},'C':{'Type':'Choice',"
                    "'Choices':[{'Next':'D','Not':");
    for (int i = 0; i < 100; i++)
        bt_buf_puts(&b, "{'Not':");
    bt_buf_puts(&b, "{'Variable':'$.x','IsNull':true}");
    for (int i = 0; i < 100; i++)
        bt_buf_puts(&b, "}");
    bt_buf_puts(&b, "}]}}}");
    m = check(b.data);
    assert_non_null(m);
    assert_non_null(strstr(m, "TOO_DEEPLY_NESTED: Choice rules are nested more than 64 levels"));
    free(m);
    bt_buf_fini(&b);
}

static void diag_rendering(void **state)
{
    (void)state;
    bt_diag d;
    bt_diag_init(&d);
    bt_diag_add(&d, "A", "", "root");
    bt_diag_add(&d, "B", "/States/x", "field %d", 1);
    bt_diag_add(&d, "C", NULL, "nowhere");
    char *m = bt_diag_format(&d);
    assert_string_equal(m, PREFIX "A: root at /, B: field 1 at /States/x, C: nowhere at null'");
    free(m);
    bt_diag_fini(&d);
    assert_int_equal(d.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_minimal),
        cmocka_unit_test(valid_every_state_type),
        cmocka_unit_test(valid_map_variants),
        cmocka_unit_test(valid_callback_workload),
        cmocka_unit_test(valid_text_returns_definition),
        cmocka_unit_test(aws_recorded_messages),
        cmocka_unit_test(text_errors),
        cmocka_unit_test(top_level_fields),
        cmocka_unit_test(terminal_and_reachability),
        cmocka_unit_test(state_type_and_fields),
        cmocka_unit_test(next_and_end),
        cmocka_unit_test(state_names),
        cmocka_unit_test(task_fields),
        cmocka_unit_test(task_resources),
        cmocka_unit_test(paths_and_templates),
        cmocka_unit_test(assign_rules),
        cmocka_unit_test(retry_rules),
        cmocka_unit_test(catch_rules),
        cmocka_unit_test(choice_rules),
        cmocka_unit_test(wait_and_fail),
        cmocka_unit_test(parallel_and_map),
        cmocka_unit_test(query_language),
        cmocka_unit_test(jsonata_top_level_refs),
        cmocka_unit_test(nesting_is_bounded),
        cmocka_unit_test(diag_rendering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
