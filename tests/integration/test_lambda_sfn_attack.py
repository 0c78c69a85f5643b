"""Attacks on functions as Step Functions tasks over the real server: a Map of 200 invokes
(MaxConcurrency 0) against one function, TimeoutSeconds shorter than the function, StopExecution
and DeleteFunction while a function runs, kill -9 with many tasks in flight. Every execution
ends, once, with the right output; the server stays up."""

import json
import os
import time

import lambdatest
import servertest

SLEEP = ("import time\n"
         "def handler(e, c):\n"
         "    time.sleep(e.get('s', 0) if isinstance(e, dict) else 0)\n"
         "    return e\n")


class LambdaSfnAttack(lambdatest.LambdaTestCase):
    def alive(self):
        self.client("stepfunctions").list_state_machines()

    def test_map_of_200_invokes(self):
        self.function("c2", SLEEP)
        sm = self.machine({"StartAt": "M", "States": {"M": {
            "Type": "Map", "MaxConcurrency": 0, "ItemsPath": "$.items",
            "Iterator": {"StartAt": "T", "States": {"T": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "c2", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"],
                           "IntervalSeconds": 1, "MaxAttempts": 20, "BackoffRate": 1}],
                "End": True}}},
            "End": True}}})
        items = [{"i": i} for i in range(200)]
        _, d = self.run_to_end(sm, {"items": items}, timeout=120)
        self.assertEqual(d["status"], "SUCCEEDED", d.get("cause"))
        self.assertEqual(json.loads(d["output"]), items)
        self.alive()

    def test_timeout_shorter_than_function(self):
        self.function("slow", SLEEP, timeout=10)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "slow", "Payload": {"s": 3}},
            "TimeoutSeconds": 1, "End": True}}})
        ex, d = self.run_to_end(sm, {})
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "States.Timeout")
        time.sleep(3.5)  # the late answer comes and is ignored
        self.assertEqual(self.history_types(ex).count("ExecutionFailed"), 1)
        self.alive()

    def test_stop_and_delete_while_running(self):
        self.function("slow", SLEEP, timeout=10)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "slow", "Payload": {"s": 2}}, "End": True}}})
        sfn = self.client("stepfunctions")
        a = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
        b = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
        time.sleep(0.7)
        sfn.stop_execution(executionArn=a, error="E", cause="c")
        self.client("lambda").delete_function(FunctionName="slow")
        self.assertEqual(self.wait_end(a)["status"], "ABORTED")
        d = self.wait_end(b)
        self.assertIn(d["status"], ("SUCCEEDED", "FAILED"))
        time.sleep(2.5)
        self.alive()

    def test_kill_with_many_in_flight(self):
        marks = os.path.join(self.dir, "marks")
        os.mkdir(marks)
        src = ("import os, time, uuid\n"
               "def handler(e, c):\n"
               "    open(os.path.join(%r, '%%s-%%s' %% (e['i'], uuid.uuid4())), 'w').close()\n"
               "    time.sleep(1)\n"
               "    return e\n" % marks)
        self.function("f", src, timeout=10)
        sm = self.machine({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "OutputPath": "$.Payload",
            "End": True}}})
        sfn = self.client("stepfunctions")
        exs = [sfn.start_execution(stateMachineArn=sm, input=json.dumps({"i": i}))["executionArn"]
               for i in range(20)]
        time.sleep(0.5)
        self.restart(kill=True)
        for i, ex in enumerate(exs):
            d = self.wait_end(ex, timeout=60)
            self.assertEqual(d["status"], "SUCCEEDED", ex)
            self.assertEqual(json.loads(d["output"]), {"i": i})
            self.assertEqual(self.history_types(ex).count("TaskSucceeded"), 1)
        ran = {int(n.split("-")[0]) for n in os.listdir(marks)}
        self.assertEqual(ran, set(range(20)))


if __name__ == "__main__":
    servertest.main()
