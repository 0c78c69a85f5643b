"""The Step Functions API of `baton serve`, driven with boto3: state machines, executions,
history and its pages, AWS's errors, task-token callbacks through Baton's own queues, and
executions that survive SIGTERM and kill -9 of the server."""

import json
import os
import subprocess
import time

import batontest
import servertest
from servertest import ROLE

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1},
                                         "ResultPath": "$.r", "End": True}}}


def wait_machine(seconds):
    return {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "Next": "D"},
                                       "D": {"Type": "Pass", "End": True}}}


def callback_machine(queue_url, extra=None):
    task = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue_url,
                           "MessageBody": {"token.$": "$$.Task.Token", "who.$": "$.who"}},
            "End": True}
    task.update(extra or {})
    return {"StartAt": "Ask", "States": {"Ask": task}}


class StateMachines(servertest.ServerTestCase):

    @staticmethod
    def models_revisions(sfn):
        """Whether this botocore knows revisionId (versions and aliases, 2023); older ones,
        such as Debian's 1.29, drop the member from the answer."""
        shape = sfn.meta.service_model.operation_model("DescribeStateMachine").output_shape
        return "revisionId" in shape.members

    def revision_id(self, sfn, described, arn):
        if self.models_revisions(sfn):
            return described["revisionId"]
        st, body = self.raw("AWSStepFunctions.DescribeStateMachine", {"stateMachineArn": arn})
        self.assertEqual(st, 200, body)
        return body["revisionId"]

    def test_create_describe_list_update_delete(self):
        sfn = self.client("stepfunctions")
        r = sfn.create_state_machine(name="hello", definition=json.dumps(PASS), roleArn=ROLE)
        arn = r["stateMachineArn"]
        self.assertEqual(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:hello")
        d = sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(d["name"], "hello")
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["type"], "STANDARD")
        self.assertEqual(json.loads(d["definition"]), PASS)
        self.assertEqual(d["roleArn"], ROLE)
        # The same request again answers the same machine (idempotent create).
        again = sfn.create_state_machine(name="hello", definition=json.dumps(PASS), roleArn=ROLE)
        self.assertEqual(again["stateMachineArn"], arn)
        with self.assertRaises(sfn.exceptions.StateMachineAlreadyExists):
            sfn.create_state_machine(name="hello", definition=json.dumps(wait_machine(1)),
                                     roleArn=ROLE)
        names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
        self.assertEqual(names, ["hello"])
        before = self.revision_id(sfn, d, arn)
        u = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(wait_machine(0)))
        if self.models_revisions(sfn):
            self.assertIn("revisionId", u)
        d2 = sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(json.loads(d2["definition"]), wait_machine(0))
        self.assertNotEqual(self.revision_id(sfn, d2, arn), before)
        sfn.delete_state_machine(stateMachineArn=arn)
        with self.assertRaises(sfn.exceptions.StateMachineDoesNotExist):
            sfn.describe_state_machine(stateMachineArn=arn)

    def test_request_errors(self):
        sfn = self.client("stepfunctions")
        with self.assertRaises(sfn.exceptions.InvalidDefinition) as cm:
            sfn.create_state_machine(name="bad", definition='{"StartAt": "X", "States": {}}',
                                     roleArn=ROLE)
        self.assertIn("Invalid State Machine Definition", str(cm.exception))
        with self.assertRaises(sfn.exceptions.InvalidName) as cm:
            sfn.create_state_machine(name="a b", definition=json.dumps(PASS), roleArn=ROLE)
        self.assertIn("Invalid Name: 'a b'", str(cm.exception))
        with self.assertRaises(sfn.exceptions.InvalidArn):
            sfn.describe_state_machine(stateMachineArn="not-an-arn")
        with self.assertRaises(sfn.exceptions.ExecutionDoesNotExist) as cm:
            sfn.describe_execution(
                executionArn="arn:aws:states:us-east-1:123456789012:execution:x:y")
        self.assertIn("Execution Does Not Exist: 'arn:aws:states:us-east-1:123456789012:"
                      "execution:x:y'", str(cm.exception))
        # Raw requests: unknown operation, malformed JSON, a missing and a mistyped member.
        st, body = self.raw("AWSStepFunctions.NoSuchThing", {})
        self.assertEqual((st, body["__type"]), (400, "UnknownOperationException"))
        st, body = self.raw("AWSStepFunctions.ListStateMachines", b"{not json")
        self.assertEqual((st, body["__type"]), (400, "SerializationException"))
        st, body = self.raw("AWSStepFunctions.DescribeExecution", {})
        self.assertEqual(st, 400)
        self.assertEqual(body["__type"], "com.amazon.coral.validate#ValidationException")
        self.assertEqual(body["message"], "1 validation error detected: Value null at "
                         "'executionArn' failed to satisfy constraint: Member must not be null")
        st, body = self.raw("AWSStepFunctions.DescribeExecution", {"executionArn": 7})
        self.assertEqual((st, body["__type"]), (400, "SerializationException"))
        st, body = self.raw("AWSStepFunctions.ListStateMachines", {"maxResults": 1001})
        self.assertEqual(body["__type"], "com.amazon.coral.validate#ValidationException")
        st, body = self.raw("AWSStepFunctions.ListStateMachines", {"nextToken": "garbage"})
        self.assertEqual(body["__type"], "com.amazonaws.swf.service.v2.model#InvalidToken")


class Executions(servertest.ServerTestCase):

    def machine(self, name, definition):
        sfn = self.client("stepfunctions")
        return sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                        roleArn=ROLE)["stateMachineArn"]

    def test_start_describe_history(self):
        sfn = self.client("stepfunctions")
        sm = self.machine("pass", PASS)
        r = sfn.start_execution(stateMachineArn=sm, name="first", input='{"a": 1}')
        arn = r["executionArn"]
        self.assertEqual(arn, "arn:aws:states:us-east-1:123456789012:execution:pass:first")
        d = sfn.describe_execution(executionArn=arn)
        self.assertEqual(d["status"], "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"a": 1, "r": {"ok": 1}})
        self.assertEqual(json.loads(d["input"]), {"a": 1})
        self.assertEqual(d["stateMachineArn"], sm)
        h = sfn.get_execution_history(executionArn=arn)["events"]
        self.assertEqual([e["type"] for e in h],
                         ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                          "ExecutionSucceeded"])
        self.assertEqual([e["id"] for e in h], [1, 2, 3, 4])
        rev = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
        self.assertEqual([e["id"] for e in rev], [4, 3, 2, 1])
        lean = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
        self.assertNotIn("input", lean[0]["executionStartedEventDetails"])
        # Pages of 1 event chain through every event exactly once.
        ids, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            page = sfn.get_execution_history(executionArn=arn, maxResults=1, **kw)
            ids += [e["id"] for e in page["events"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(ids, [1, 2, 3, 4])
        with self.assertRaises(sfn.exceptions.ExecutionAlreadyExists):
            sfn.start_execution(stateMachineArn=sm, name="first", input='{"a": 2}')
        with self.assertRaises(sfn.exceptions.InvalidExecutionInput):
            sfn.start_execution(stateMachineArn=sm, input='{"a": ')

    def test_long_history_pages_both_ways(self):
        # 60 Pass states: 122 events written in one go, stored as runs of at most 100.
        states = {"S%d" % i: {"Type": "Pass", "Next": "S%d" % (i + 1)} for i in range(59)}
        states["S59"] = {"Type": "Pass", "End": True}
        sfn = self.client("stepfunctions")
        sm = self.machine("long", {"StartAt": "S0", "States": states})
        arn = sfn.start_execution(stateMachineArn=sm, name="l")["executionArn"]
        for reverse in (False, True):
            ids, token = [], None
            while True:
                kw = {"nextToken": token} if token else {}
                page = sfn.get_execution_history(executionArn=arn, maxResults=7,
                                                 reverseOrder=reverse, **kw)
                self.assertLessEqual(len(page["events"]), 7)
                ids += [e["id"] for e in page["events"]]
                token = page.get("nextToken")
                if not token:
                    break
            want = list(range(1, 123))
            self.assertEqual(ids, list(reversed(want)) if reverse else want)
        whole = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        self.assertEqual(whole[61]["stateEnteredEventDetails"]["name"], "S30")

    def test_list_executions_pages_and_filter(self):
        sfn = self.client("stepfunctions")
        sm = self.machine("many", PASS)
        wait = self.machine("waits", wait_machine(60))
        arns = [sfn.start_execution(stateMachineArn=sm, name="e%d" % i)["executionArn"]
                for i in range(5)]
        seen, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            page = sfn.list_executions(stateMachineArn=sm, maxResults=2, **kw)
            self.assertLessEqual(len(page["executions"]), 2)
            seen += [e["executionArn"] for e in page["executions"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(seen, list(reversed(arns)))  # newest first, as AWS lists them
        running = sfn.start_execution(stateMachineArn=wait, name="w")["executionArn"]
        r = sfn.list_executions(stateMachineArn=wait, statusFilter="RUNNING")["executions"]
        self.assertEqual([e["executionArn"] for e in r], [running])
        self.assertEqual(
            sfn.list_executions(stateMachineArn=wait, statusFilter="SUCCEEDED")["executions"], [])
        # Same name and input while it runs: the same execution (StartExecution is idempotent).
        again = sfn.start_execution(stateMachineArn=wait, name="w")
        self.assertEqual(again["executionArn"], running)
        stop = sfn.stop_execution(executionArn=running, error="Stopped.ByTest", cause="done")
        self.assertIn("stopDate", stop)
        d = sfn.describe_execution(executionArn=running)
        self.assertEqual((d["status"], d["error"], d["cause"]), ("ABORTED", "Stopped.ByTest", "done"))
        types = [e["type"] for e in sfn.get_execution_history(executionArn=running)["events"]]
        self.assertEqual(types[-1], "ExecutionAborted")

    def test_wait_survives_kill(self):
        sfn = self.client("stepfunctions")
        sm = self.machine("sleepy", wait_machine(2))
        arn = sfn.start_execution(stateMachineArn=sm, name="nap")["executionArn"]
        self.restart(kill=True)
        sfn = self.client("stepfunctions")
        d = sfn.describe_execution(executionArn=arn)
        self.assertEqual(d["status"], "RUNNING")
        d = self.wait_status(sfn, arn, "SUCCEEDED", timeout=10)
        types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
        self.assertEqual(types, ["ExecutionStarted", "WaitStateEntered", "WaitStateExited",
                                 "PassStateEntered", "PassStateExited", "ExecutionSucceeded"])

    def test_second_server_on_same_folder_is_refused(self):
        p = subprocess.run([batontest.BATON, "serve", "--listen", "127.0.0.1:0", "--data",
                            self.server.data_dir], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is using", p.stderr)
        self.assertIn(str(self.server.proc.pid), p.stderr)


class Callbacks(servertest.ServerTestCase):

    def setUp(self):
        super().setUp()
        self.sfn = self.client("stepfunctions")
        self.sqs = self.client("sqs")
        self.queue = self.sqs.create_queue(QueueName="approvals")["QueueUrl"]

    def machine(self, name, definition):
        return self.sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                             roleArn=ROLE)["stateMachineArn"]

    def receive_token(self):
        for _ in range(20):
            msgs = self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=1,
                                            MaxNumberOfMessages=1).get("Messages", [])
            if msgs:
                self.sqs.delete_message(QueueUrl=self.queue,
                                        ReceiptHandle=msgs[0]["ReceiptHandle"])
                return json.loads(msgs[0]["Body"])
        self.fail("no message on the queue")

    def test_success_then_late_token(self):
        # The seeds' form of the queue URL: AWS's, naming Baton's queue by its name.
        aws_url = "https://sqs.us-east-1.amazonaws.com/123456789012/approvals"
        sm = self.machine("approve", callback_machine(aws_url))
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"who": "ann"}')["executionArn"]
        body = self.receive_token()
        self.assertEqual(body["who"], "ann")
        token = body["token"]
        self.assertGreaterEqual(len(token), 22)
        self.sfn.send_task_heartbeat(taskToken=token)
        self.sfn.send_task_success(taskToken=token, output='{"approved": true}')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"approved": True})
        types = [e["type"] for e in self.sfn.get_execution_history(executionArn=arn)["events"]]
        self.assertEqual(types, ["ExecutionStarted", "TaskStateEntered", "TaskScheduled",
                                 "TaskStarted", "TaskSubmitted", "TaskSucceeded",
                                 "TaskStateExited", "ExecutionSucceeded"])
        with self.assertRaises(self.sfn.exceptions.TaskTimedOut) as cm:
            self.sfn.send_task_success(taskToken=token, output="{}")
        self.assertIn("Provided task does not exist anymore", str(cm.exception))
        self.assertIn("SUCCEEDED", str(cm.exception))
        with self.assertRaises(self.sfn.exceptions.InvalidToken):
            self.sfn.send_task_success(taskToken="not-a-token", output="{}")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with self.assertRaises(self.sfn.exceptions.InvalidToken):
            self.sfn.send_task_success(taskToken=forged, output="{}")
        with self.assertRaises(self.sfn.exceptions.InvalidOutput):
            self.sfn.send_task_success(taskToken=token, output="{nope")

    def test_failure_without_error_and_cause(self):
        good = callback_machine(self.queue)
        del good["States"]["Ask"]["End"]
        good["States"]["Ask"]["Next"] = "Caught"
        good["States"]["Ask"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err",
                                           "Next": "Caught"}]
        good["States"]["Caught"] = {"Type": "Pass", "End": True}
        sm = self.machine("refuse2", good)
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"who": "bob"}')["executionArn"]
        token = self.receive_token()["token"]
        self.sfn.send_task_failure(taskToken=token)
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"])["err"], {"Error": None, "Cause": None})

    def test_failure_and_heartbeat_timeout(self):
        sm = self.machine("fails", callback_machine(self.queue))
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"who": "cy"}')["executionArn"]
        token = self.receive_token()["token"]
        self.sfn.send_task_failure(taskToken=token, error="Rejected", cause="no budget")
        d = self.wait_status(self.sfn, arn, "FAILED")
        self.assertEqual((d["error"], d["cause"]), ("Rejected", "no budget"))

        hb = self.machine("beats", callback_machine(self.queue, {"HeartbeatSeconds": 1}))
        arn = self.sfn.start_execution(stateMachineArn=hb, input='{"who": "di"}')["executionArn"]
        token = self.receive_token()["token"]
        d = self.wait_status(self.sfn, arn, "FAILED", timeout=10)
        self.assertEqual(d["error"], "States.HeartbeatTimeout")
        with self.assertRaises(self.sfn.exceptions.TaskTimedOut):
            self.sfn.send_task_heartbeat(taskToken=token)

    def test_superseded_token_says_why(self):
        retrying = callback_machine(self.queue, {"TimeoutSeconds": 1, "Retry": [
            {"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}]})
        sm = self.machine("retries", retrying)
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"who": "gi"}')["executionArn"]
        first = self.receive_token()["token"]
        second = self.receive_token()["token"]  # the retry's message, after the timeout
        self.assertNotEqual(first, second)
        with self.assertRaises(self.sfn.exceptions.TaskTimedOut) as cm:
            self.sfn.send_task_success(taskToken=first, output="{}")
        msg = str(cm.exception)
        self.assertIn("attempt 1 of state 'Ask'", msg)
        self.assertIn("timed out (TimeoutSeconds)", msg)
        self.assertIn("attempt 2 of the state has its own token", msg)
        self.sfn.send_task_success(taskToken=second, output='{"second": true}')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"second": True})
        with self.assertRaises(self.sfn.exceptions.TaskTimedOut) as cm:
            self.sfn.send_task_success(taskToken=second, output="{}")
        self.assertIn("ended SUCCEEDED", str(cm.exception))

    def test_token_survives_kill(self):
        sm = self.machine("durable", callback_machine(self.queue))
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"who": "ed"}')["executionArn"]
        self.restart(kill=True)
        self.sfn = self.client("stepfunctions")
        self.sqs = self.client("sqs")
        token = self.receive_token()["token"]
        self.sfn.send_task_success(taskToken=token, output='{"after": "restart"}')
        d = self.wait_status(self.sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"after": "restart"})

    def test_missing_queue_fails_the_task(self):
        sm = self.machine("noqueue", callback_machine(
            "https://sqs.us-east-1.amazonaws.com/123456789012/nope"))
        arn = self.sfn.start_execution(stateMachineArn=sm, input='{"who": "fy"}')["executionArn"]
        d = self.wait_status(self.sfn, arn, "FAILED")
        self.assertTrue(d["error"].startswith("SQS."), d)


class Retention(servertest.ServerTestCase):
    """Closed executions go once --retention-days have passed (here two seconds); running
    ones stay."""

    server_args = ("--retention-days", "0.000023")

    def test_closed_executions_expire(self):
        sfn = self.client("stepfunctions")
        done = sfn.create_state_machine(name="quick", definition=json.dumps(PASS),
                                        roleArn=ROLE)["stateMachineArn"]
        slow = sfn.create_state_machine(name="slow", definition=json.dumps(wait_machine(60)),
                                        roleArn=ROLE)["stateMachineArn"]
        old = sfn.start_execution(stateMachineArn=done, name="old")["executionArn"]
        running = sfn.start_execution(stateMachineArn=slow, name="stays")["executionArn"]
        self.assertEqual(sfn.describe_execution(executionArn=old)["status"], "SUCCEEDED")
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                sfn.describe_execution(executionArn=old)
            except sfn.exceptions.ExecutionDoesNotExist:
                break
            time.sleep(0.2)
        with self.assertRaises(sfn.exceptions.ExecutionDoesNotExist):
            sfn.get_execution_history(executionArn=old)
        self.assertEqual(sfn.describe_execution(executionArn=running)["status"], "RUNNING")
        # The name is free again once the old execution is gone.
        again = sfn.start_execution(stateMachineArn=done, name="old")["executionArn"]
        self.assertEqual(again, old)


class SyncExecutions(servertest.ServerTestCase):
    """StartSyncExecution answers when an Express execution ends; clients send it to the host
    sync-<endpoint host>, which reaches Baton through it as an HTTP proxy (README)."""

    def test_sync_through_the_proxy_recipe(self):
        boto3 = servertest.boto3_or_skip()
        from botocore.config import Config
        old = {k: os.environ.get(k) for k in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")}
        os.environ.update({"HTTP_PROXY": self.server.url, "http_proxy": self.server.url,
                           "NO_PROXY": "", "no_proxy": ""})
        try:
            sfn = boto3.client("stepfunctions", endpoint_url="http://baton:8083",
                               region_name="us-east-1", aws_access_key_id="a",
                               aws_secret_access_key="b", config=Config(retries={"max_attempts": 1}))
            sm = sfn.create_state_machine(name="sync", type="EXPRESS", roleArn=ROLE,
                                          definition=json.dumps(PASS))["stateMachineArn"]
            r = sfn.start_sync_execution(stateMachineArn=sm, input='{"a": 1}')
            self.assertEqual(r["status"], "SUCCEEDED")
            self.assertEqual(json.loads(r["output"]), {"a": 1, "r": {"ok": 1}})
            self.assertIn(":express:sync:", r["executionArn"])
            self.assertGreaterEqual(r["billingDetails"]["billedDurationInMilliseconds"], 100)
            std = sfn.create_state_machine(name="std", roleArn=ROLE,
                                           definition=json.dumps(PASS))["stateMachineArn"]
            with self.assertRaises(sfn.exceptions.StateMachineTypeNotSupported):
                sfn.start_sync_execution(stateMachineArn=std)
            failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E",
                                                        "Cause": "c"}}}
            fm = sfn.create_state_machine(name="fails", type="EXPRESS", roleArn=ROLE,
                                          definition=json.dumps(failing))["stateMachineArn"]
            r = sfn.start_sync_execution(stateMachineArn=fm)
            self.assertEqual((r["status"], r["error"], r["cause"]), ("FAILED", "E", "c"))
            # An Express execution's context has no RedriveCount (recorded on AWS), and its
            # ARN is of the express kind, also when started asynchronously.
            ctx = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True,
                                                    "Parameters": {"e.$": "$$.Execution"}}}}
            cm = sfn.create_state_machine(name="ctx", type="EXPRESS", roleArn=ROLE,
                                          definition=json.dumps(ctx))["stateMachineArn"]
            r = sfn.start_sync_execution(stateMachineArn=cm, input="{}")
            self.assertEqual(sorted(json.loads(r["output"])["e"]),
                             ["Id", "Input", "Name", "RoleArn", "StartTime"])
            a = sfn.start_execution(stateMachineArn=cm)["executionArn"]
            self.assertIn(":express:ctx:", a)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


class OpenLimit(servertest.ServerTestCase):
    """AWS's quota of open executions (here --max-open 2): the third start is refused with
    ExecutionLimitExceeded until one ends."""

    server_args = ("--max-open", "2")

    def test_limit(self):
        sfn = self.client("stepfunctions")
        sm = sfn.create_state_machine(name="slow", definition=json.dumps(wait_machine(60)),
                                      roleArn=ROLE)["stateMachineArn"]
        a = sfn.start_execution(stateMachineArn=sm, name="a")["executionArn"]
        sfn.start_execution(stateMachineArn=sm, name="b")
        with self.assertRaises(sfn.exceptions.ExecutionLimitExceeded):
            sfn.start_execution(stateMachineArn=sm, name="c")
        sfn.stop_execution(executionArn=a)
        deadline = time.time() + 5
        while True:
            try:
                sfn.start_execution(stateMachineArn=sm, name="c")
                break
            except sfn.exceptions.ExecutionLimitExceeded:
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)


class CallbacksEvicted(Callbacks):
    """The callback tests again with one parked execution in memory: the others are dropped
    once durable and replayed from the store when their token comes back."""

    server_args = ("--max-resident", "1")

    def test_many_parked_answered_out_of_order(self):
        sm = self.machine("many", callback_machine(self.queue, {"HeartbeatSeconds": 60}))
        arns = [self.sfn.start_execution(stateMachineArn=sm, name="p%d" % i,
                                         input=json.dumps({"who": "w%d" % i}))["executionArn"]
                for i in range(6)]
        bodies = [self.receive_token() for _ in arns]
        self.assertEqual(sorted(b["who"] for b in bodies), ["w%d" % i for i in range(6)])
        for b in sorted(bodies, key=lambda b: b["who"], reverse=True):
            self.sfn.send_task_heartbeat(taskToken=b["token"])
            self.sfn.send_task_success(taskToken=b["token"], output=json.dumps({"n": b["who"]}))
        for i, arn in enumerate(arns):
            d = self.wait_status(self.sfn, arn, "SUCCEEDED")
            self.assertEqual(json.loads(d["output"]), {"n": "w%d" % i})
            ids = [e["id"] for e in self.sfn.get_execution_history(executionArn=arn)["events"]]
            self.assertEqual(ids, list(range(1, len(ids) + 1)))


if __name__ == "__main__":
    servertest.main()
