"""Functions as Step Functions tasks (fn/integ.c) over the real server: lambda:invoke's
envelope, function ARNs with their bare result and Lambda history events, handler errors
caught by errorType, Retry, timeouts, .waitForTaskToken, and a kill -9 between the
transition and the function's answer (invoked again, SUCCEEDED once)."""

import json
import os
import time

import lambdatest
import servertest

IDENTITY = "def handler(event, context):\n    return event\n"
RAISE = ("class CustomException(Exception):\n    pass\n"
         "def handler(event, context):\n    raise CustomException('boom')\n")


class LambdaSfn(lambdatest.LambdaTestCase):
    def test_invoke_envelope_and_output_path(self):
        self.function("ident", IDENTITY)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "ident", "Payload.$": "$"}, "End": True}}})
        _, d = self.run_to_end(sm, {"a": [1, 2]})
        self.assertEqual(d["status"], "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual(out["Payload"], {"a": [1, 2]})
        self.assertEqual(out["StatusCode"], 200)
        self.assertEqual(out["ExecutedVersion"], "$LATEST")
        self.assertEqual(out["SdkHttpMetadata"]["HttpStatusCode"], 200)
        self.assertEqual(out["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"], "application/json")
        self.assertEqual(out["SdkHttpMetadata"]["AllHttpHeaders"]["Connection"], ["keep-alive"])
        self.assertEqual(out["SdkResponseMetadata"]["RequestId"],
                         out["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"])
        sm2 = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "ident", "Payload.$": "$"},
            "OutputPath": "$.Payload", "End": True}}}, name="m2")
        _, d = self.run_to_end(sm2, {"x": "y"})
        self.assertEqual(json.loads(d["output"]), {"x": "y"})

    def test_legacy_arn_bare_result_and_events(self):
        arn = self.function("ident", IDENTITY)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": arn, "End": True}}})
        ex, d = self.run_to_end(sm, {"k": 1})
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"k": 1})
        self.assertEqual(self.history_types(ex), [
            "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
            "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
            "ExecutionSucceeded"])

    def test_handler_error_caught_by_error_type(self):
        self.function("bad", RAISE)
        sm = self.machine({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "bad"},
                  "Catch": [{"ErrorEquals": ["CustomException"], "Next": "C"}], "End": True},
            "C": {"Type": "Pass", "End": True}}})
        _, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual(out["Error"], "CustomException")
        cause = json.loads(out["Cause"])
        self.assertEqual(cause["errorType"], "CustomException")
        self.assertEqual(cause["errorMessage"], "boom")

    def test_missing_function_retry_then_fail(self):
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "nope"},
            "Retry": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"],
                       "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
            "End": True}}})
        ex, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "Lambda.ResourceNotFoundException")
        self.assertIn("(Service: AWSLambda; Status Code: 404; Error Code: "
                      "ResourceNotFoundException; Request ID: ", d["cause"])
        self.assertEqual(self.history_types(ex).count("TaskScheduled"), 3)

    def test_state_timeout(self):
        self.function("slow", "import time\ndef handler(e, c):\n    time.sleep(5)\n    return 1\n",
                      timeout=10)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 1,
            "Parameters": {"FunctionName": "slow"}, "End": True}}})
        ex, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "States.Timeout")
        self.assertIn("TaskTimedOut", self.history_types(ex))

    def test_function_timeout_is_sandbox_timedout(self):
        self.function("slow", "import time\ndef handler(e, c):\n    time.sleep(5)\n    return 1\n",
                      timeout=1)
        sm = self.machine({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "slow"},
                  "Catch": [{"ErrorEquals": ["Sandbox.Timedout"], "Next": "C"}], "End": True},
            "C": {"Type": "Pass", "End": True}}})
        ex, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual(out["Error"], "Sandbox.Timedout")
        cause = json.loads(out["Cause"])
        self.assertEqual(cause["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 1", cause["errorMessage"])
        types = self.history_types(ex)
        self.assertIn("TaskFailed", types)
        self.assertNotIn("TaskTimedOut", types)

    def test_handler_error_retried_then_caught(self):
        marks = os.path.join(self.dir, "marks")
        os.mkdir(marks)
        self.function("bad", "import os, uuid\n" + RAISE.replace(
            "    raise", "    open(os.path.join(%r, str(uuid.uuid4())), 'w').close()\n    raise"
            % marks))
        sm = self.machine({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "bad"},
                  "Retry": [{"ErrorEquals": ["CustomException"], "IntervalSeconds": 1,
                             "MaxAttempts": 2, "BackoffRate": 1}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": True},
            "C": {"Type": "Pass", "End": True}}})
        ex, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"])["Error"], "CustomException")
        self.assertEqual(len(os.listdir(marks)), 3)
        self.assertEqual(self.history_types(ex).count("TaskFailed"), 3)

    def test_legacy_arn_error_events(self):
        arn = self.function("bad", RAISE)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": arn, "End": True}}})
        ex, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "CustomException")
        self.assertEqual(json.loads(d["cause"])["errorMessage"], "boom")
        events = self.client("stepfunctions").get_execution_history(executionArn=ex)["events"]
        self.assertEqual([e["type"] for e in events], [
            "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
            "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"])
        failed = events[4]["lambdaFunctionFailedEventDetails"]
        self.assertEqual(failed["error"], "CustomException")
        sched = events[2]["lambdaFunctionScheduledEventDetails"]
        self.assertEqual(sched["resource"], arn)
        self.assertEqual(json.loads(sched["input"]), {})

    def test_wait_for_task_token(self):
        self.function("ident", IDENTITY)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ident", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True}}})
        sfn = self.client("stepfunctions")
        ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
        deadline = time.time() + 20
        submitted = None
        while time.time() < deadline and submitted is None:
            for e in sfn.get_execution_history(executionArn=ex)["events"]:
                if e["type"] == "TaskSubmitted":
                    submitted = json.loads(e["taskSubmittedEventDetails"]["output"])
            time.sleep(0.1)
        self.assertIsNotNone(submitted)
        token = submitted["Payload"]["token"]
        sfn.send_task_success(taskToken=token, output='{"done": true}')
        d = self.wait_end(ex)
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"done": True})

    def test_kill_between_transition_and_answer(self):
        marks = os.path.join(self.dir, "marks")
        os.mkdir(marks)
        src = ("import os, time, uuid\n"
               "def handler(e, c):\n"
               "    open(os.path.join(%r, str(uuid.uuid4())), 'w').close()\n"
               "    time.sleep(2)\n"
               "    return {'ok': True}\n" % marks)
        self.function("slow", src, timeout=10)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "slow"}, "OutputPath": "$.Payload", "End": True}}})
        sfn = self.client("stepfunctions")
        ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
        deadline = time.time() + 10
        while time.time() < deadline and not os.listdir(marks):
            time.sleep(0.05)
        self.assertEqual(len(os.listdir(marks)), 1)
        self.restart(kill=True)
        d = self.wait_end(ex, timeout=30)
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"ok": True})
        self.assertEqual(len(os.listdir(marks)), 2)  # invoked again after the restart
        self.assertEqual(self.history_types(ex).count("TaskSucceeded"), 1)


if __name__ == "__main__":
    servertest.main()
