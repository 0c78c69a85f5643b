#!/usr/bin/env python3
"""The case study's callback, end to end on `baton serve`: a Task on
arn:aws:states:::sqs:sendMessage.waitForTaskToken puts {"Payload", "TaskToken"} on a queue,
a consumer reads the token from the message and answers with SendTaskSuccess, and the
execution finishes with that output; the plain sqs:sendMessage resource returns the
SendMessage result Step Functions records; a missing queue fails the task with the SQS
error name a Catch sees.
"""

import json
import time

import batontest
import test_sqs_json as base

ROLE = f"arn:aws:iam::{base.ACCOUNT}:role/baton"


class StepFunctions(base.SqsServer):
    def setUp(self):
        super().setUp()
        self.sfn = self.client("stepfunctions")

    def machine(self, name, definition):
        return self.sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                             roleArn=ROLE)["stateMachineArn"]

    def finish(self, execution_arn, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if d["status"] != "RUNNING":
                return d
            time.sleep(0.1)
        self.fail("the execution did not finish")

    def test_wait_for_task_token(self):
        url = self.queue("VerificationQueue")
        aws_url = f"https://sqs.{base.REGION}.amazonaws.com/{base.ACCOUNT}/VerificationQueue"
        arn = self.machine("verify", {"StartAt": "Request user verification", "States": {
            "Request user verification": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": aws_url,
                               "MessageBody": {"Payload.$": "$", "TaskToken.$": "$$.Task.Token"}},
                "End": True}}})
        ex = self.sfn.start_execution(stateMachineArn=arn,
                                      input=json.dumps({"requestId": "r-1"}))["executionArn"]
        m = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"][0]
        body = json.loads(m["Body"])
        self.assertEqual(body["Payload"], {"requestId": "r-1"})
        self.assertEqual(self.sfn.describe_execution(executionArn=ex)["status"], "RUNNING")
        self.sfn.send_task_success(taskToken=body["TaskToken"],
                                   output=json.dumps({"requestId": "r-1", "ok": True}))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        d = self.finish(ex)
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"requestId": "r-1", "ok": True})

    def test_send_message_result(self):
        url = self.queue("q")
        arn = self.machine("send", {"StartAt": "Send", "States": {"Send": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": url, "MessageBody": "hello",
                           "MessageAttributes": {"k": {"DataType": "String",
                                                       "StringValue": "v"}}},
            "End": True}}})
        ex = self.sfn.start_execution(stateMachineArn=arn)["executionArn"]
        d = self.finish(ex)
        self.assertEqual(d["status"], "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual(out["MD5OfMessageBody"], base.md5("hello"))
        self.assertIn("MD5OfMessageAttributes", out)
        self.assertEqual(out["SdkHttpMetadata"]["HttpStatusCode"], 200)
        self.assertEqual(out["SdkResponseMetadata"]["RequestId"],
                         out["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"])
        m = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
        self.assertEqual(m["MessageId"], out["MessageId"])
        self.assertEqual(m["MessageAttributes"]["k"]["StringValue"], "v")

    def test_missing_queue_is_caught(self):
        arn = self.machine("missing", {"StartAt": "Send", "States": {
            "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                     "Parameters": {"QueueUrl": f"{self.endpoint}/{base.ACCOUNT}/none",
                                    "MessageBody": {"a": 1}},
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                     "End": True},
            "Caught": {"Type": "Pass", "End": True}}})
        d = self.finish(self.sfn.start_execution(stateMachineArn=arn)["executionArn"])
        self.assertEqual(d["status"], "SUCCEEDED")
        caught = json.loads(d["output"])
        self.assertEqual(caught["Error"], "SQS.QueueDoesNotExistException")
        self.assertIn("Error Code: AWS.SimpleQueueService.NonExistentQueue", caught["Cause"])


if __name__ == "__main__":
    batontest.main()
