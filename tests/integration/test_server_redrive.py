"""RedriveExecution in `baton serve`, driven with boto3: a failed, aborted or timed-out
Standard execution goes on from the state that did not succeed (earlier states are not run
again; in a Parallel or Map only what did not succeed), DescribeExecution and ListExecutions
report the redrives, AWS's refusals, clientToken idempotency, and a redriven execution that
survives kill -9 of the server."""

import json
import os
import sqlite3

import servertest
from servertest import ROLE

ASK = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
       "Parameters": {"QueueUrl": "approvals",
                      "MessageBody": {"token.$": "$$.Task.Token",
                                      "redrives.$": "$$.Execution.RedriveCount"}}}


def chain(timeout=None):
    m = {"StartAt": "Prep", "States": {
        "Prep": {"Type": "Pass", "Result": "ready", "ResultPath": "$.prep", "Next": "Ask"},
        "Ask": dict(ASK, ResultPath="$.answer", Next="Done"),
        "Done": {"Type": "Pass", "End": True}}}
    if timeout:
        m["TimeoutSeconds"] = timeout
    return m


class Redrive(servertest.ServerTestCase):

    def setUp(self):
        super().setUp()
        self.sfn = self.client("stepfunctions")
        self.sqs = self.client("sqs")
        self.queue = self.sqs.create_queue(QueueName="approvals")["QueueUrl"]
        ASK["Parameters"]["QueueUrl"] = self.queue

    def reconnect(self):
        self.sfn = self.client("stepfunctions")
        self.sqs = self.client("sqs")

    def machine(self, name, definition, kind="STANDARD"):
        return self.sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                             roleArn=ROLE, type=kind)["stateMachineArn"]

    def receive(self):
        for _ in range(20):
            msgs = self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=1,
                                            MaxNumberOfMessages=1).get("Messages", [])
            if msgs:
                self.sqs.delete_message(QueueUrl=self.queue,
                                        ReceiptHandle=msgs[0]["ReceiptHandle"])
                return json.loads(msgs[0]["Body"])
        self.fail("no message on the queue")

    def events(self, arn):
        return self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]

    def count(self, arn, type_, name=None):
        return sum(1 for e in self.events(arn) if e["type"] == type_ and
                   (name is None or e.get("stateEnteredEventDetails", {}).get("name") == name))

    def log_rows(self, arn):
        db = sqlite3.connect(os.path.join(self.server.data_dir, "baton.db"))
        try:
            return db.execute("SELECT COUNT(*) FROM exec_log WHERE exec_id ="
                              " (SELECT id FROM executions WHERE arn = ?)", (arn,)).fetchone()[0]
        finally:
            db.close()

    def not_redrivable(self, arn, reason):
        with self.assertRaises(self.sfn.exceptions.ExecutionNotRedrivable) as cm:
            self.sfn.redrive_execution(executionArn=arn)
        self.assertEqual(cm.exception.response["Error"]["Message"], reason)

    def failed_once(self, name):
        sm = self.machine(name, chain())
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"id": 1}')["executionArn"]
        self.sfn.send_task_failure(taskToken=self.receive()["token"], error="Nope", cause="no")
        self.wait_status(self.sfn, arn, "FAILED")
        return sm, arn

    def test_failed_task_redriven_to_success(self):
        sm, arn = self.failed_once("once")
        d = self.sfn.describe_execution(executionArn=arn)
        self.assertEqual((d["redriveCount"], d["redriveStatus"]), (0, "REDRIVABLE"))
        self.assertNotIn("redriveDate", d)
        self.assertGreater(self.log_rows(arn), 0)  # kept for the redrive

        r = self.sfn.redrive_execution(executionArn=arn, clientToken="first-try")
        # the same token within 15 minutes: the same answer, no second redrive
        again = self.sfn.redrive_execution(executionArn=arn, clientToken="first-try")
        self.assertEqual(again["redriveDate"], r["redriveDate"])
        d = self.sfn.describe_execution(executionArn=arn)
        self.assertEqual((d["status"], d["redriveCount"]), ("RUNNING", 1))
        self.assertEqual(d["redriveDate"], r["redriveDate"])
        self.assertEqual(d["redriveStatusReason"], "Execution is RUNNING and cannot be redriven")
        self.not_redrivable(arn, "Execution is RUNNING and cannot be redriven")

        body = self.receive()
        self.assertEqual(body["redrives"], 1)
        self.sfn.send_task_success(taskToken=body["token"], output='{"ok": true}')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]),
                         {"id": 1, "prep": "ready", "answer": {"ok": True}})
        self.assertEqual((d["redriveStatus"], d["redriveStatusReason"]),
                         ("NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"))
        self.not_redrivable(arn, "Execution is SUCCEEDED and cannot be redriven")
        self.assertEqual(self.log_rows(arn), 0)

        events = self.events(arn)
        types = [e["type"] for e in events]
        i = types.index("ExecutionRedriven")
        self.assertEqual(types[i - 1], "ExecutionFailed")
        self.assertEqual(events[i]["executionRedrivenEventDetails"], {"redriveCount": 1})
        self.assertEqual(types[i + 1], "TaskStateEntered")  # Ask again, with its input
        self.assertEqual(json.loads(events[i + 1]["stateEnteredEventDetails"]["input"]),
                         {"id": 1, "prep": "ready"})
        self.assertEqual(self.count(arn, "PassStateEntered", "Prep"), 1)  # not run again
        self.assertEqual(self.count(arn, "TaskStateEntered", "Ask"), 2)
        self.assertEqual([e["id"] for e in events], list(range(1, len(events) + 1)))

    def test_aborted_and_timed_out(self):
        sm = self.machine("stopped", chain())
        arn = self.sfn.start_execution(stateMachineArn=sm)["executionArn"]
        self.receive()
        self.sfn.stop_execution(executionArn=arn, error="Halt")
        self.wait_status(self.sfn, arn, "ABORTED")
        self.sfn.redrive_execution(executionArn=arn)
        self.sfn.send_task_success(taskToken=self.receive()["token"], output="{}")
        self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(self.count(arn, "ExecutionAborted"), 1)

        sm = self.machine("slow", chain(timeout=1))
        arn = self.sfn.start_execution(stateMachineArn=sm)["executionArn"]
        self.receive()
        self.wait_status(self.sfn, arn, "TIMED_OUT")
        self.assertEqual(self.sfn.describe_execution(executionArn=arn)["redriveStatus"],
                         "REDRIVABLE")
        self.sfn.redrive_execution(executionArn=arn)
        self.receive()  # the task again; TimeoutSeconds counts from the redrive
        d = self.wait_status(self.sfn, arn, "TIMED_OUT")
        self.assertEqual(d["redriveCount"], 1)
        self.assertEqual(self.count(arn, "ExecutionTimedOut"), 2)

    def test_refusals(self):
        sm = self.machine("fine", {"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                      "End": True}}})
        arn = self.sfn.start_execution(stateMachineArn=sm)["executionArn"]
        self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.not_redrivable(arn, "Execution is SUCCEEDED and cannot be redriven")
        with self.assertRaises(self.sfn.exceptions.ExecutionDoesNotExist):
            self.sfn.redrive_execution(executionArn=arn + "-nope")
        with self.assertRaises(self.sfn.exceptions.InvalidArn):
            self.sfn.redrive_execution(executionArn="arn:nope")
        st, body = self.raw("AWSStepFunctions.RedriveExecution",
                            {"executionArn": arn, "clientToken": "x" * 65})
        self.assertEqual((st, body["__type"].split("#")[-1]), (400, "ValidationException"))

        sm, failed = self.failed_once("gone")
        self.sfn.delete_state_machine(stateMachineArn=sm)
        self.not_redrivable(failed, "State machine is in DELETING status")

        fast = self.machine("fast", {"StartAt": "F", "States": {"F": {"Type": "Fail"}}},
                            kind="EXPRESS")
        st, express = self.raw("AWSStepFunctions.StartSyncExecution", {"stateMachineArn": fast})
        self.assertEqual((st, express["status"]), (200, "FAILED"))
        with self.assertRaises(self.sfn.exceptions.ExecutionNotRedrivable):
            self.sfn.redrive_execution(executionArn=express["executionArn"])

    def test_redrive_filter(self):
        sm, redriven = self.failed_once("filtered")
        plain = self.sfn.start_execution(stateMachineArn=sm)["executionArn"]
        self.sfn.send_task_failure(taskToken=self.receive()["token"])
        self.wait_status(self.sfn, plain, "FAILED")
        r = self.sfn.redrive_execution(executionArn=redriven)
        self.receive()

        def listed(**kw):
            return self.sfn.list_executions(stateMachineArn=sm, **kw)["executions"]
        items = listed(redriveFilter="REDRIVEN")
        self.assertEqual([e["executionArn"] for e in items], [redriven])
        self.assertEqual((items[0]["redriveCount"], items[0]["redriveDate"]),
                         (1, r["redriveDate"]))
        items = listed(redriveFilter="NOT_REDRIVEN")
        self.assertEqual([e["executionArn"] for e in items], [plain])
        self.assertEqual(items[0]["redriveCount"], 0)
        self.assertNotIn("redriveDate", items[0])
        self.assertEqual(len(listed()), 2)
        st, body = self.raw("AWSStepFunctions.ListExecutions",
                            {"stateMachineArn": sm, "redriveFilter": "SOMETIMES"})
        self.assertEqual((st, body["__type"].split("#")[-1]), (400, "ValidationException"))

    def test_redrive_survives_kill(self):
        sm, arn = self.failed_once("durable")
        self.restart(kill=True)  # the kept log survives
        self.reconnect()
        self.sfn.redrive_execution(executionArn=arn)
        self.restart(kill=True)  # and so does the redrive
        self.reconnect()
        d = self.sfn.describe_execution(executionArn=arn)
        self.assertEqual((d["status"], d["redriveCount"]), ("RUNNING", 1))
        body = self.receive()
        self.assertEqual(body["redrives"], 1)
        self.sfn.send_task_success(taskToken=body["token"], output='"late"')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"])["answer"], "late")
        self.assertEqual(self.count(arn, "ExecutionRedriven"), 1)
        self.assertEqual(self.count(arn, "PassStateEntered", "Prep"), 1)
        self.assertNotIn("replay diverged", self.server.read_log())

    def test_parallel_and_map_rerun_only_what_failed(self):
        par = self.machine("par", {"StartAt": "Par", "States": {"Par": {
            "Type": "Parallel", "End": True, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
                {"StartAt": "B", "States": {"B": dict(ASK, End=True)}}]}}})
        arn = self.sfn.start_execution(stateMachineArn=par)["executionArn"]
        self.sfn.send_task_failure(taskToken=self.receive()["token"])
        self.wait_status(self.sfn, arn, "FAILED")
        self.sfn.redrive_execution(executionArn=arn)
        self.sfn.send_task_success(taskToken=self.receive()["token"], output='"b"')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), ["a", "b"])
        self.assertEqual(self.count(arn, "PassStateEntered", "A"), 1)
        self.assertEqual(self.count(arn, "TaskStateEntered", "B"), 2)

        mp = self.machine("map", {"StartAt": "M", "States": {"M": {
            "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Pick", "States": {
                "Pick": {"Type": "Choice", "Default": "Easy", "Choices": [
                    {"Variable": "$", "StringEquals": "hard", "Next": "Work"}]},
                "Easy": {"Type": "Pass", "End": True},
                "Work": dict(ASK, End=True)}}}}})
        arn = self.sfn.start_execution(stateMachineArn=mp,
                                       input='["x", "hard", "y"]')["executionArn"]
        self.sfn.send_task_failure(taskToken=self.receive()["token"])
        self.wait_status(self.sfn, arn, "FAILED")
        self.sfn.redrive_execution(executionArn=arn)
        self.sfn.send_task_success(taskToken=self.receive()["token"], output='"done"')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), ["x", "done", "y"])
        self.assertEqual(self.count(arn, "MapIterationStarted"), 4)  # 3, then item 1 again
        self.assertEqual(self.count(arn, "ChoiceStateEntered", "Pick"), 3)


if __name__ == "__main__":
    servertest.main()
