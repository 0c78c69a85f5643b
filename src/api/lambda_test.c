/*
 * lambda_test.c — unit tests for lambda_codec.c: routes by method and path, Runtime names
 * (Baton's, deprecated, unknown), the role pattern, LastModified's format, qualifier
 * agreement, FunctionConfiguration's members and the error body.
 */
#include "api/lambda.h"
#include "api/lambda_int.h"
#include "base/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static lambda_op route(const char *method, const char *path, const char *resource)
{
    lambda_route r;
    assert_int_equal(lambda_route_parse(method, path, &r), 0);
    assert_string_equal(r.resource, resource);
    return r.op;
}

static void routes(void **state)
{
    (void)state;
    assert_int_equal(route("POST", "/2015-03-31/functions/f/invocations", "f"), LAMBDA_OP_INVOKE);
    assert_int_equal(route("POST",
                           "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:"
                           "function:f:$LATEST/invocations",
                           "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"),
                     LAMBDA_OP_INVOKE);
    assert_int_equal(route("POST", "/2015-03-31/functions", ""), LAMBDA_OP_CREATE_FUNCTION);
    assert_int_equal(route("POST", "/2015-03-31/functions/", ""), LAMBDA_OP_CREATE_FUNCTION);
    assert_int_equal(route("GET", "/2015-03-31/functions/", ""), LAMBDA_OP_LIST_FUNCTIONS);
    assert_int_equal(route("GET", "/2015-03-31/functions/f", "f"), LAMBDA_OP_GET_FUNCTION);
    assert_int_equal(route("DELETE", "/2015-03-31/functions/f", "f"), LAMBDA_OP_DELETE_FUNCTION);
    assert_int_equal(route("GET", "/2015-03-31/functions/f/configuration", "f"),
                     LAMBDA_OP_GET_FUNCTION_CONFIGURATION);
    assert_int_equal(route("PUT", "/2015-03-31/functions/f/configuration", "f"),
                     LAMBDA_OP_UPDATE_FUNCTION_CONFIGURATION);
    assert_int_equal(route("PUT", "/2015-03-31/functions/f/code", "f"),
                     LAMBDA_OP_UPDATE_FUNCTION_CODE);
    assert_int_equal(route("POST", "/2015-03-31/event-source-mappings/", ""),
                     LAMBDA_OP_CREATE_EVENT_SOURCE_MAPPING);
    assert_int_equal(route("GET", "/2015-03-31/event-source-mappings", ""),
                     LAMBDA_OP_LIST_EVENT_SOURCE_MAPPINGS);
    assert_int_equal(route("GET", "/2015-03-31/event-source-mappings/u-1", "u-1"),
                     LAMBDA_OP_GET_EVENT_SOURCE_MAPPING);
    assert_int_equal(route("PUT", "/2015-03-31/event-source-mappings/u-1", "u-1"),
                     LAMBDA_OP_UPDATE_EVENT_SOURCE_MAPPING);
    assert_int_equal(route("DELETE", "/2015-03-31/event-source-mappings/u-1", "u-1"),
                     LAMBDA_OP_DELETE_EVENT_SOURCE_MAPPING);
    assert_int_equal(route("GET", "/baton/functions/f/logs", "f"), LAMBDA_OP_LOGS);
    assert_string_equal(lambda_op_name(LAMBDA_OP_UPDATE_FUNCTION_CODE), "UpdateFunctionCode");

    lambda_route r;
    assert_int_equal(lambda_route_parse("GET", "/2015-03-31/functions/f/invocations", &r),
                     BT_EINVAL);
    assert_int_equal(lambda_route_parse("PATCH", "/2015-03-31/functions", &r), BT_EINVAL);
    assert_int_equal(lambda_route_parse("GET", "/2015-03-31/functions/f/nope", &r), BT_ENOTFOUND);
    assert_int_equal(lambda_route_parse("GET", "/2015-03-31/functions//code", &r), BT_ENOTFOUND);
    assert_int_equal(lambda_route_parse("GET", "/2015-03-31/layers", &r), BT_ENOTFOUND);
    assert_int_equal(lambda_route_parse("GET", "/2015-03-31/functions/a/b/c/d", &r), BT_ENOTFOUND);
    assert_int_equal(lambda_route_parse("GET", "/health", &r), BT_ENOTFOUND);
    assert_int_equal(lambda_route_parse("POST", "/baton/functions/f/logs", &r), BT_EINVAL);
}

static void runtimes(void **state)
{
    (void)state;
    fn_runtime rt;
    bt_err err = {0};
    assert_int_equal(lambda_runtime_parse("nodejs20.x", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_NODEJS);
    assert_int_equal(lambda_runtime_parse("nodejs22.x", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_NODEJS);
    assert_int_equal(lambda_runtime_parse("python3.13", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_PYTHON);
    assert_int_equal(lambda_runtime_parse("python3.9", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_PYTHON);
    assert_int_equal(lambda_runtime_parse("provided.al2023", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_PROVIDED);
    assert_int_equal(lambda_runtime_parse("provided", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_PROVIDED);
    assert_int_equal(lambda_runtime_parse("exec", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_EXEC);
    assert_int_equal(lambda_runtime_parse("url", &rt, &err), 0);
    assert_int_equal(rt, FN_RT_URL);

    assert_int_equal(lambda_runtime_parse("nodejs12.x", &rt, &err), BT_EINVAL);
    assert_string_equal(err.msg, "The runtime parameter of nodejs12.x is no longer supported for "
                                 "creating or updating AWS Lambda functions. We recommend you use "
                                 "a supported runtime while creating or updating functions.");
    assert_int_equal(lambda_runtime_parse("python2.7", &rt, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "python2.7 is no longer supported"));
    assert_int_equal(lambda_runtime_parse("cobol", &rt, &err), BT_EINVAL);
    assert_true(strncmp(err.msg,
                        "Value cobol at 'runtime' failed to satisfy constraint: Member must "
                        "satisfy enum value set: [nodejs20.x, ",
                        96) == 0);
    assert_non_null(strstr(err.msg, "] or be a valid ARN"));
    assert_int_equal(lambda_runtime_parse("java21", &rt, &err), BT_EINVAL);
    assert_non_null(strstr(err.msg, "Baton does not run the java21 runtime"));
}

static void roles(void **state)
{
    (void)state;
    assert_true(lambda_role_ok("arn:aws:iam::123456789012:role/lambda-role"));
    assert_true(lambda_role_ok("arn:aws-us-gov:iam::123456789012:role/path/to/r+=,.@-_"));
    assert_true(lambda_role_ok("arn::iam::123456789012:role/r"));
    assert_false(lambda_role_ok("r1"));
    assert_false(lambda_role_ok("arn:aws:iam::12345678901:role/r"));
    assert_false(lambda_role_ok("arn:aws:iam::123456789012:user/r"));
    assert_false(lambda_role_ok("arn:aws:iam::123456789012:role/"));
    assert_false(lambda_role_ok("arn:aws:iam::123456789012:role/a b"));
}

static void times(void **state)
{
    (void)state;
    char out[40];
    lambda_time_format(1714557600000LL, out);
    assert_string_equal(out, "2024-05-01T10:00:00.000+0000");
    lambda_time_format(1714557600123LL, out);
    assert_string_equal(out, "2024-05-01T10:00:00.123+0000");
    lambda_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000+0000");
}

static void qualifiers(void **state)
{
    (void)state;
    const char *q;
    bt_err err = {0};
    assert_int_equal(lambda_qualifier("", NULL, &q, &err), 0);
    assert_null(q);
    assert_int_equal(lambda_qualifier("$LATEST", NULL, &q, &err), 0);
    assert_string_equal(q, "$LATEST");
    assert_int_equal(lambda_qualifier("", "prod", &q, &err), 0);
    assert_string_equal(q, "prod");
    assert_int_equal(lambda_qualifier("prod", "prod", &q, &err), 0);
    assert_string_equal(q, "prod");
    assert_int_equal(lambda_qualifier("1", "$LATEST", &q, &err), BT_EINVAL);
    assert_string_equal(err.msg, "The derived qualifier from the function name does not match "
                                 "the specified qualifier.");
}

static void configuration(void **state)
{
    (void)state;
    json_t *env = json_pack("{s:s}", "A", "1");
    fn_info fi;
    memset(&fi, 0, sizeof fi);
    fi.cfg.name = "f";
    fi.cfg.runtime = FN_RT_PYTHON;
    fi.cfg.aws_runtime = "python3.12";
    fi.cfg.handler = "index.handler";
    fi.cfg.role = "arn:aws:iam::123456789012:role/r";
    fi.cfg.environment = env;
    fi.cfg.code_sha256 = "abc=";
    fi.cfg.code_size = 321;
    fi.last_modified_ms = 1714557600000LL;
    strcpy(fi.arn, "arn:aws:lambda:us-east-1:123456789012:function:f");
    strcpy(fi.revision_id, "rev-1");
    json_t *j = lambda_config_json(&fi);
    char *text = bt_json_dumps(j);
    assert_string_equal(
        text,
        "{\"FunctionName\":\"f\",\"FunctionArn\":\"arn:aws:lambda:us-east-1:123456789012:function:"
        "f\","
        "\"Runtime\":\"python3.12\",\"Role\":\"arn:aws:iam::123456789012:role/r\","
        "\"Handler\":\"index.handler\",\"CodeSize\":321,\"Description\":\"\",\"Timeout\":3,"
        "\"MemorySize\":128,\"LastModified\":\"2024-05-01T10:00:00.000+0000\","
        "\"CodeSha256\":\"abc=\",\"Version\":\"$LATEST\",\"Environment\":{\"Variables\":{\"A\":"
        "\"1\"}},\"TracingConfig\":{\"Mode\":\"PassThrough\"},\"RevisionId\":\"rev-1\","
        "\"State\":\"Active\",\"LastUpdateStatus\":\"Successful\",\"PackageType\":\"Zip\","
        "\"Architectures\":[\"x86_64\"],\"EphemeralStorage\":{\"Size\":512},"
        "\"LoggingConfig\":{\"LogFormat\":\"Text\",\"LogGroup\":\"/aws/lambda/f\"}}");
    free(text);
    json_decref(j);
    json_decref(env);
}

static void errors(void **state)
{
    (void)state;
    bt_buf b;
    bt_buf_init(&b);
    lambda_error_body(&b, 404, "Function not found: x \"q\"", NULL);
    assert_string_equal(b.data,
                        "{\"Type\":\"User\",\"Message\":\"Function not found: x \\\"q\\\"\"}");
    bt_buf_reset(&b);
    lambda_error_body(&b, 429, "Rate Exceeded.",
                      "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert_string_equal(b.data, "{\"Type\":\"User\",\"Message\":\"Rate Exceeded.\",\"Reason\":"
                                "\"ReservedFunctionConcurrentInvocationLimitExceeded\"}");
    bt_buf_reset(&b);
    lambda_error_body(&b, 500, "boom", NULL);
    assert_string_equal(b.data, "{\"Type\":\"Service\",\"Message\":\"boom\"}");
    bt_buf_fini(&b);
    assert_int_equal(lambda_error_status("ResourceNotFoundException"), 404);
    assert_int_equal(lambda_error_status("ResourceConflictException"), 409);
    assert_int_equal(lambda_error_status("RequestTooLargeException"), 413);
    assert_int_equal(lambda_error_status("TooManyRequestsException"), 429);
    assert_int_equal(lambda_error_status("ServiceException"), 500);
    assert_int_equal(lambda_error_status("InvalidParameterValueException"), 400);
    assert_true(api_lambda_is_request("/2015-03-31/functions", ""));
    assert_true(api_lambda_is_request("/", "lambda"));
    assert_false(api_lambda_is_request("/", "sqs"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes), cmocka_unit_test(runtimes),   cmocka_unit_test(roles),
        cmocka_unit_test(times),  cmocka_unit_test(qualifiers), cmocka_unit_test(configuration),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
