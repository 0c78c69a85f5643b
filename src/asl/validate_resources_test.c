/*
 * validate_resources_test.c — validate__resource_known: which Task resources AWS recognises.
 * One table of resources and verdicts; each row says why where the reason is not obvious.
 * validate_test.c checks how an unrecognised resource is reported (code, message, pointer).
 */
#include "asl/validate_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const struct {
    const char *resource;
    bool known;
} cases[] = {
    /* Lambda function ARNs, with or without a version or alias, in any AWS partition. */
    {"arn:aws:lambda:us-east-1:123456789012:function:f", true},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:live", true},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:7", true},
    {"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:live", true},
    {"arn:aws:lambda:us-east-1:123456789012:function:", false},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:", false},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:live:extra", false},
    {"arn:aws:lambda:us-east-1:123456789012:layer:l", false},

    /* Activity ARNs. */
    {"arn:aws:states:us-east-1:123456789012:activity:work", true},
    {"arn:aws-cn:states:cn-north-1:123456789012:activity:approve", true},
    {"arn:aws:states:us-east-1:123456789012:activity:", false},
    {"arn:aws:states:us-east-1:123456789012:activity:a:b", false},
    /* Other Step Functions ARNs are not Task resources. */
    {"arn:aws:states:us-east-1:123456789012:stateMachine:M", false},

    /* Optimised integrations and the patterns each API offers. */
    {"arn:aws:states:::lambda:invoke", true},
    {"arn:aws:states:::lambda:invoke.waitForTaskToken", true},
    {"arn:aws:states:::lambda:invoke.sync", false},
    {"arn:aws:states:::sqs:sendMessage", true},
    {"arn:aws:states:::sqs:sendMessage.waitForTaskToken", true},
    {"arn:aws:states:::sqs:sendMessageX", false},
    {"arn:aws:states:::sqs:sendmessage", false}, /* actions are case-sensitive */
    {"arn:aws:states:::sns:publish", true},
    {"arn:aws:states:::sns:publish.sync", false},
    {"arn:aws:states:::dynamodb:getItem", true},
    {"arn:aws:states:::dynamodb:putItem", true},
    {"arn:aws:states:::dynamodb:updateItem", true},
    {"arn:aws:states:::dynamodb:deleteItem", true},
    {"arn:aws:states:::dynamodb:query", false}, /* only through aws-sdk:dynamodb */
    {"arn:aws:states:::dynamodb:getItem.waitForTaskToken", false},
    {"arn:aws:states:::ecs:runTask", true},
    {"arn:aws:states:::ecs:runTask.sync", true},
    {"arn:aws:states:::ecs:runTask.waitForTaskToken", true},
    {"arn:aws:states:::batch:submitJob.sync", true},
    {"arn:aws:states:::glue:startJobRun.sync", true},
    {"arn:aws:states:::sagemaker:createTrainingJob.sync", true},
    {"arn:aws:states:::sagemaker:createModel.sync", false},
    {"arn:aws:states:::elasticmapreduce:createCluster.sync", true},
    {"arn:aws:states:::emr-serverless:startJobRun.sync", true},
    {"arn:aws:states:::emr-containers:startJobRun.sync", true},
    {"arn:aws:states:::codebuild:startBuild.sync", true},
    {"arn:aws:states:::athena:startQueryExecution.sync", true},
    {"arn:aws:states:::athena:getQueryResults.sync", false},
    {"arn:aws:states:::events:putEvents.waitForTaskToken", true},
    {"arn:aws:states:::apigateway:invoke", true},
    {"arn:aws:states:::http:invoke", true},
    {"arn:aws:states:::bedrock:invokeModel", true},
    {"arn:aws:states:::eks:runJob.sync", true},
    {"arn:aws:states:::eks:call", true},
    {"arn:aws:states:::mediaconvert:createJob.sync", true},
    {"arn:aws:states:::databrew:startJobRun", true},
    /* .sync:2 is states:startExecution's alone. */
    {"arn:aws:states:::states:startExecution", true},
    {"arn:aws:states:::states:startExecution.sync", true},
    {"arn:aws:states:::states:startExecution.sync:2", true},
    {"arn:aws:states:::states:startExecution.waitForTaskToken", true},
    {"arn:aws:states:::states:startExecution.sync:3", false},
    {"arn:aws:states:::batch:submitJob.sync:2", false},
    {"arn:aws:states:::foo:bar", false},
    {"arn:aws:states:::sqs", false},
    {"arn:aws:states:::sqs:", false},
    {"arn:aws:states:::", false},
    {"arn:aws:states:::sqs:sendMessage.waitForTaskToken.sync", false},
    /* Region and account are inferred, but AWS does not insist they be empty. */
    {"arn:aws:states:us-east-1:123456789012:lambda:invoke", true},

    /* AWS SDK integrations: any camelCase action, request-response or callback only. */
    {"arn:aws:states:::aws-sdk:s3:getObject", true},
    {"arn:aws:states:::aws-sdk:s3:listObjectsV2", true},
    {"arn:aws:states:::aws-sdk:s3:listBuckets.waitForTaskToken", true},
    {"arn:aws:states:::aws-sdk:sfn:startExecution", true},
    {"arn:aws:states:::aws-sdk:secretsmanager:createSecret", true},
    {"arn:aws:states:::aws-sdk:codebuild:startBuild.sync", false},
    {"arn:aws:states:::aws-sdk:sfn:startExecution.sync:2", false},
    {"arn:aws:states:::aws-sdk:s3:ListBuckets", false},
    {"arn:aws:states:::aws-sdk:S3:listBuckets", false},
    {"arn:aws:states:::aws-sdk:s3:list-buckets", false},
    {"arn:aws:states:::aws-sdk:s3", false},
    {"arn:aws:states:::aws-sdk:s3:", false},
    {"arn:aws:states:::aws-sdk::listBuckets", false},
    {"arn:aws:states:::aws-sdk:s3:get:object", false},

    /* Not ARNs, or ARNs of services that are not Task resources. */
    {"lambda", false},
    {"", false},
    {"arn:aws:states", false},
    {"arn::states:::sqs:sendMessage", false},
    {"arn:aws:sqs:us-east-1:123456789012:q", false},

    /* Other partitions than AWS's are Baton's own namespace. */
    {"arn:baton:approval:::email", true},
    {"arn:baton:states:::approval", true},
    {"arn:x:y:z::w", true},
};

static void verdicts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (validate__resource_known(cases[i].resource) != cases[i].known)
            fail_msg("%s: expected %s", cases[i].resource,
                     cases[i].known ? "recognised" : "not recognised");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
