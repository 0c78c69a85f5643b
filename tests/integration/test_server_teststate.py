"""TestState of `baton serve`, driven with boto3: one state run on its own — Pass with its
payload steps at DEBUG, Choice's next state, Fail, Tasks answered by a mock or by Baton's own
SQS, Retry and Catch, AWS's refusals — reached both through the `sync-` host prefix over an
HTTP proxy (README's recipe) and directly; and nothing of it is left in ListExecutions."""

import json
import os
from unittest import mock

import servertest
from servertest import ROLE

IO_PASS = {"Type": "Pass", "InputPath": "$.data",
           "Parameters": {"static": "v", "fromInput.$": "$.field"},
           "ResultPath": "$.modified", "Next": "After"}

TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "ResultSelector": {"body.$": "$.Payload"}, "ResultPath": "$.out", "Next": "Done"}


def task_with(**extra):
    t = dict(TASK)
    t.update(extra)
    return json.dumps(t)


class TestState(servertest.ServerTestCase):

    def sfn_direct(self):
        boto3 = servertest.boto3_or_skip()
        from botocore.config import Config
        return boto3.client(
            "stepfunctions", endpoint_url=self.server.url, region_name=servertest.REGION,
            aws_access_key_id="AKIDBATONTEST", aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}, inject_host_prefix=False))

    def test_through_the_sync_host_prefix_and_a_proxy(self):
        boto3 = servertest.boto3_or_skip()
        from botocore.config import Config
        env = {"HTTP_PROXY": self.server.url, "http_proxy": self.server.url,
               "NO_PROXY": "", "no_proxy": ""}
        with mock.patch.dict(os.environ, env):
            sfn = boto3.client(
                "stepfunctions", endpoint_url="http://baton:8083", region_name=servertest.REGION,
                aws_access_key_id="AKIDBATONTEST", aws_secret_access_key="secret",
                config=Config(retries={"max_attempts": 1}))
            r = sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}),
                               input='{"a": 1}')
        self.assertEqual(r["status"], "SUCCEEDED")
        self.assertEqual(json.loads(r["output"]), {"a": 1})

    def test_pass_steps_at_debug(self):
        sfn = self.sfn_direct()
        r = sfn.test_state(definition=json.dumps(IO_PASS), inspectionLevel="DEBUG",
                           input=json.dumps({"data": {"field": "x", "other": 1}, "keep": 2}))
        self.assertEqual(r["status"], "SUCCEEDED")
        self.assertEqual(r["nextState"], "After")
        out = {"data": {"field": "x", "other": 1}, "keep": 2,
               "modified": {"static": "v", "fromInput": "x"}}  # ResultPath: over the raw input
        self.assertEqual(json.loads(r["output"]), out)
        d = {k: json.loads(v) for k, v in r["inspectionData"].items()}
        self.assertEqual(d, {"input": {"data": {"field": "x", "other": 1}, "keep": 2},
                             "afterInputPath": {"field": "x", "other": 1},
                             "afterParameters": {"static": "v", "fromInput": "x"},
                             "afterResultSelector": {"static": "v", "fromInput": "x"},
                             "afterResultPath": out})
        info = sfn.test_state(definition=json.dumps(IO_PASS), input='{"data": {"field": 1}}')
        self.assertNotIn("inspectionData", info)

    def test_variables_in_and_out(self):
        sfn = self.sfn_direct()
        state = {"Type": "Pass", "Parameters": {"seen.$": "$x"}, "Assign": {"y": 2},
                 "End": True}
        r = sfn.test_state(definition=json.dumps(state), inspectionLevel="DEBUG",
                           variables='{"x": 1}')
        self.assertEqual(json.loads(r["output"]), {"seen": 1})
        self.assertEqual(json.loads(r["inspectionData"]["variables"]), {"x": 1, "y": 2})

    def test_choice_next_state_in_a_whole_machine(self):
        sfn = self.sfn_direct()
        machine = {"StartAt": "First", "States": {
            "First": {"Type": "Pass", "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
                "Default": "Small"},
            "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}
        r = sfn.test_state(definition=json.dumps(machine), stateName="Check", input='{"n": 11}')
        self.assertEqual((r["status"], r["nextState"]), ("SUCCEEDED", "Big"))
        r = sfn.test_state(definition=json.dumps(machine), stateName="Check", input='{"n": 1}')
        self.assertEqual(r["nextState"], "Small")
        with self.assertRaises(sfn.exceptions.ValidationException):
            sfn.test_state(definition=json.dumps(machine), stateName="Nope")

    def test_fail(self):
        sfn = self.sfn_direct()
        r = sfn.test_state(definition=json.dumps(
            {"Type": "Fail", "Error": "SomeFailure", "Cause": "because"}))
        self.assertEqual((r["status"], r["error"], r["cause"]), ("FAILED", "SomeFailure",
                                                                 "because"))
        self.assertNotIn("output", r)

    def test_task_mock_result_and_error(self):
        sfn = self.sfn_direct()
        r = sfn.test_state(definition=task_with(), inspectionLevel="DEBUG", input='{"k": 1}',
                           mock={"result": '{"Payload": {"ok": true}}'})
        self.assertEqual(r["status"], "SUCCEEDED")
        self.assertEqual(r["nextState"], "Done")
        self.assertEqual(json.loads(r["output"]), {"k": 1, "out": {"body": {"ok": True}}})
        d = r["inspectionData"]
        self.assertEqual(json.loads(d["afterParameters"]),
                         {"FunctionName": "f", "Payload": {"k": 1}})
        self.assertEqual(json.loads(d["result"]), {"Payload": {"ok": True}})
        self.assertEqual(json.loads(d["afterResultSelector"]), {"body": {"ok": True}})
        r = sfn.test_state(definition=task_with(),
                           mock={"errorOutput": {"error": "MockException", "cause": "mocked"}})
        self.assertEqual((r["status"], r["error"], r["cause"]),
                         ("FAILED", "MockException", "mocked"))

    def test_retry_is_retriable(self):
        sfn = self.sfn_direct()
        definition = task_with(Retry=[{"ErrorEquals": ["Other"]},
                                      {"ErrorEquals": ["MockException"], "IntervalSeconds": 2,
                                       "BackoffRate": 3, "MaxAttempts": 3}])
        err = {"errorOutput": {"error": "MockException", "cause": "c"}}
        r = sfn.test_state(definition=definition, inspectionLevel="DEBUG", mock=err)
        self.assertEqual((r["status"], r["error"], r["cause"]), ("RETRIABLE", "MockException",
                                                                 "c"))
        self.assertEqual(r["inspectionData"]["errorDetails"],
                         {"retryIndex": 1, "retryBackoffIntervalSeconds": 2})
        r = sfn.test_state(definition=definition, inspectionLevel="DEBUG", mock=err,
                           stateConfiguration={"retrierRetryCount": 2})
        self.assertEqual(r["inspectionData"]["errorDetails"]["retryBackoffIntervalSeconds"], 18)
        r = sfn.test_state(definition=definition, mock=err,
                           stateConfiguration={"retrierRetryCount": 3})
        self.assertEqual(r["status"], "FAILED")  # exhausted, and nothing catches it

    def test_catch_is_caught_error(self):
        sfn = self.sfn_direct()
        definition = task_with(Catch=[{"ErrorEquals": ["Other"], "Next": "Done"},
                                      {"ErrorEquals": ["States.ALL"], "ResultPath": "$.err",
                                       "Next": "Recover"}])
        r = sfn.test_state(definition=definition, inspectionLevel="DEBUG", input='{"k": 1}',
                           mock={"errorOutput": {"error": "MockException", "cause": "c"}})
        self.assertEqual((r["status"], r["nextState"], r["error"], r["cause"]),
                         ("CAUGHT_ERROR", "Recover", "MockException", "c"))
        self.assertEqual(json.loads(r["output"]),
                         {"k": 1, "err": {"Error": "MockException", "Cause": "c"}})
        self.assertEqual(r["inspectionData"]["errorDetails"], {"catchIndex": 1})

    def test_task_calls_baton_sqs_or_fails_as_aws(self):
        sfn = self.sfn_direct()
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName="probe")["QueueUrl"]
        send = json.dumps({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                           "Parameters": {"QueueUrl": url, "MessageBody.$": "$.m"},
                           "End": True})
        r = sfn.test_state(definition=send, roleArn=ROLE, input='{"m": "hello"}')
        self.assertEqual(r["status"], "SUCCEEDED", r)
        self.assertIn("MessageId", json.loads(r["output"]))
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["hello"])
        r = sfn.test_state(definition=task_with(), roleArn=ROLE)
        self.assertEqual((r["status"], r["error"]), ("FAILED", "States.TaskFailed"))
        with self.assertRaises(sfn.exceptions.ValidationException) as cm:
            sfn.test_state(definition=send)
        self.assertIn("RoleArn must be specified", str(cm.exception))
        callback = send.replace("sendMessage", "sendMessage.waitForTaskToken")
        with self.assertRaises(sfn.exceptions.InvalidDefinition):
            sfn.test_state(definition=callback, roleArn=ROLE)
        r = sfn.test_state(definition=callback, mock={"result": '{"approved": true}'},
                           input='{"m": "hello"}')
        self.assertEqual(json.loads(r["output"]), {"approved": True}, r)

    def test_map_and_parallel_only_with_a_mock(self):
        sfn = self.sfn_direct()
        par = {"Type": "Parallel", "End": True, "ResultPath": "$.r", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}
        with self.assertRaises(sfn.exceptions.InvalidDefinition) as cm:
            sfn.test_state(definition=json.dumps(par))
        self.assertIn("does not support Map or Parallel", str(cm.exception))
        r = sfn.test_state(definition=json.dumps(par), mock={"result": "[1, 2]"})
        self.assertEqual(json.loads(r["output"]), {"r": [1, 2]})
        with self.assertRaises(sfn.exceptions.ValidationException) as cm:
            sfn.test_state(definition=json.dumps(par), mock={"result": "[1]"})
        self.assertIn("number of Parallel branches", str(cm.exception))
        m = {"Type": "Map", "End": True, "ItemProcessor": {
            "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}
        with self.assertRaises(sfn.exceptions.ValidationException) as cm:
            sfn.test_state(definition=json.dumps(m), mock={"result": "{}"})
        self.assertIn("must be an array", str(cm.exception))
        r = sfn.test_state(definition=json.dumps(m), mock={"result": "[3]"})
        self.assertEqual(json.loads(r["output"]), [3])

    def test_refusals(self):
        sfn = self.sfn_direct()
        with self.assertRaises(sfn.exceptions.InvalidDefinition):
            sfn.test_state(definition=json.dumps({"Type": "Pass", "Bogus": 1, "End": True}))
        with self.assertRaises(sfn.exceptions.InvalidDefinition):
            sfn.test_state(definition="{not json")
        with self.assertRaises(sfn.exceptions.InvalidExecutionInput):
            sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}), input="{x")
        cases = [
            ({"definition": json.dumps({"Type": "Pass", "End": True}),
              "mock": {"result": "{}"}}, "State type 'Pass' is not supported"),
            ({"definition": task_with(), "mock": {"result": "{}", "errorOutput": {
                "error": "E"}}}, "only one of the following fields"),
            ({"definition": task_with(), "mock": {"result": "{}"}, "revealSecrets": True},
             "RevealSecrets"),
            ({"definition": task_with(), "mock": {"result": "{}"}, "context": "{}"},
             "context"),
            ({"definition": task_with(), "mock": {"result": "{}"},
              "stateConfiguration": {"mapIterationFailureCount": 1}},
             "mapIterationFailureCount"),
        ]
        for kwargs, words in cases:
            with self.assertRaises(sfn.exceptions.ValidationException) as cm:
                sfn.test_state(**kwargs)
            self.assertIn(words, str(cm.exception))
        status, body = self.raw("AWSStepFunctions.TestState", {
            "definition": json.dumps({"Type": "Pass", "End": True}), "inspectionLevel": "LOUD"})
        self.assertEqual(status, 400)
        self.assertIn("enum value set", body["message"])

    def test_nothing_is_recorded(self):
        sfn = self.sfn_direct()
        sm = sfn.create_state_machine(name="m", roleArn=ROLE, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
        sfn.test_state(definition=json.dumps({"Type": "Wait", "Seconds": 30, "End": True}))
        sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}))
        self.assertEqual(sfn.list_executions(
            stateMachineArn=sm["stateMachineArn"])["executions"], [])
        self.restart()
        self.assertEqual(self.sfn_direct().list_executions(
            stateMachineArn=sm["stateMachineArn"])["executions"], [])

    def test_wait_past_five_minutes_times_out(self):
        sfn = self.sfn_direct()
        r = sfn.test_state(definition=json.dumps({"Type": "Wait", "Seconds": 600, "End": True}))
        self.assertEqual((r["status"], r["error"]), ("FAILED", "States.Timeout"))


if __name__ == "__main__":
    servertest.main()
