"""Hostile use of `baton serve`, second round: the newer features under stress. Redrives racing
the retention sweep, executions that leave memory at once (--max-resident 1) and are replayed
for every callback, poll and timer — through Parallel and Map, retries with back-off,
heartbeats, activities, StopExecution, redrives and kill -9 — and versions deleted while an
execution of theirs waits. Standard library only: raw AWS JSON 1.0 over urllib.

Tests for defects not fixed yet would be marked expectedFailure, each with a comment naming the
defect and where it comes from; remove the mark with the fix.
"""

import collections
import json
import random
import threading
import time
import unittest
import urllib.error
import urllib.request

import servertest
from servertest import ROLE


def call(url, target, body, timeout=70):
    """One AWS JSON 1.0 request; (status, parsed body or raw bytes)."""
    data = json.dumps(body).encode()
    req = urllib.request.Request(url + "/", data=data, method="POST",
                                 headers={"Content-Type": "application/x-amz-json-1.0",
                                          "X-Amz-Target": target})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"{}")
        except ValueError:
            return e.code, raw


def sfn(url, op, body, **kw):
    return call(url, "AWSStepFunctions." + op, body, **kw)


def sqs(url, op, body, **kw):
    return call(url, "AmazonSQS." + op, body, **kw)


# Fails in its first state when first run ($$.Execution.RedriveCount 0 makes the index -1);
# a redrive re-enters that state, which then passes, and the execution waits a minute.
FAILS_UNTIL_REDRIVEN = {
    "StartAt": "F",
    "States": {
        "F": {"Type": "Pass",
              "Parameters": {"x.$": "States.ArrayGetItem(States.Array('a'), "
                                    "States.MathAdd($$.Execution.RedriveCount, -1))"},
              "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 60, "End": True},
    },
}


class Base(servertest.ServerTestCase):

    def ok(self, op, body, **kw):
        st, r = sfn(self.server.url, op, body, **kw)
        self.assertEqual(st, 200, (op, r))
        return r

    def machine(self, name, definition, **kw):
        return self.ok("CreateStateMachine", dict(name=name, definition=json.dumps(definition),
                                                  roleArn=ROLE, **kw))["stateMachineArn"]

    def start(self, arn, name, inp=None):
        return self.ok("StartExecution", {"stateMachineArn": arn, "name": name,
                                          "input": json.dumps(inp or {})})["executionArn"]

    def describe(self, arn):
        return sfn(self.server.url, "DescribeExecution", {"executionArn": arn})

    def wait_ended(self, arn, timeout=15.0):
        deadline = time.time() + timeout
        while True:
            st, d = self.describe(arn)
            self.assertEqual(st, 200, d)
            if d["status"] != "RUNNING" or time.time() > deadline:
                return d
            time.sleep(0.05)

    def history(self, arn, page=1000, reverse=False):
        events, token = [], None
        while True:
            body = {"executionArn": arn, "maxResults": page, "reverseOrder": reverse}
            if token:
                body["nextToken"] = token
            r = self.ok("GetExecutionHistory", body)
            events += r["events"]
            token = r.get("nextToken")
            if not token:
                return events

    def check_history(self, arn):
        """Ids 1..n, each once, the same in any page size and in reverse; the types, counted."""
        h = self.history(arn)
        self.assertEqual([e["id"] for e in h], list(range(1, len(h) + 1)), arn)
        self.assertEqual(self.history(arn, page=7), h)
        self.assertEqual(self.history(arn, page=13, reverse=True)[::-1], h)
        return collections.Counter(e["type"] for e in h)

    def assert_no_replay_trouble(self):
        log = self.server.read_log()
        self.assertNotIn("replay diverged", log)
        self.assertNotIn("exec.replay", log)
        self.assertNotIn("exec.load", log)


class RedriveAgainstRetention(Base):
    """--retention-days 1 s: the sweep runs every half second."""

    server_args = ("--retention-days", "%.12f" % (1.0 / 86400))

    # A redrive answered 200 is never lost to the retention sweep: an execution the sweep has
    # taken (its delete queued, not yet durable) is refused as ExecutionDoesNotExist, and a
    # redriven execution is RUNNING, which the sweep spares.
    def test_accepted_redrive_is_not_swept(self):
        url = self.server.url
        arn = self.machine("swept", FAILS_UNTIL_REDRIVEN)
        lost = []
        deadline = time.time() + 25
        rnd = 0
        while not lost and time.time() < deadline:
            rnd += 1
            names = ["r%d-%d" % (rnd, i) for i in range(600)]
            execs, lock = [], threading.Lock()

            def starter(k):
                for n in names[k::16]:
                    e = self.start(arn, n)
                    with lock:
                        execs.append(e)
            t0 = time.time()
            threads = [threading.Thread(target=starter, args=(k,)) for k in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            random.shuffle(execs)
            time.sleep(max(0.0, t0 + 1.05 - time.time()))
            accepted = []

            def redriver():
                while True:
                    with lock:
                        if not execs:
                            return
                        e = execs.pop()
                    st, _ = sfn(url, "RedriveExecution", {"executionArn": e})
                    if st == 200:
                        with lock:
                            accepted.append(e)
            threads = [threading.Thread(target=redriver) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for e in accepted:
                st, d = self.describe(e)
                if st != 200 or d.get("status") != "RUNNING":
                    lost.append((e, st, d.get("status") or d.get("__type")))
        taken = None
        if lost:  # what a lost one looks like to a client: it does not exist, its name is taken
            e = lost[0][0]
            taken = sfn(url, "StartExecution", {"stateMachineArn": arn, "input": "{}",
                                                "name": e.rsplit(":", 1)[1]})
        self.assertEqual(lost, [], "redrives answered 200, then the execution was gone; "
                         "starting one of them again: %r" % (taken,))


class EvictedEverywhere(Base):
    """Every parked execution leaves memory as soon as it is durable."""

    server_args = ("--max-resident", "1")

    def test_parallel_of_activities_with_timeouts_stop_redrive_and_kill(self):
        url = self.server.url
        act = self.ok("CreateActivity", {"name": "work"})["activityArn"]
        branch = lambda i: {"StartAt": "A%d" % i, "States": {"A%d" % i: {
            "Type": "Task", "Resource": act, "HeartbeatSeconds": 2, "TimeoutSeconds": 30,
            "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1,
                       "IntervalSeconds": 1, "BackoffRate": 2}],
            "End": True}}}
        arn = self.machine("acts", {"StartAt": "P", "States": {"P": {
            "Type": "Parallel", "Branches": [branch(i) for i in range(3)], "End": True}}})
        execs = [self.start(arn, "x%d" % i, {"i": i}) for i in range(4)]

        def poll(worker):
            r = self.ok("GetActivityTask", {"activityArn": act, "workerName": worker}, timeout=70)
            self.assertIn("taskToken", r)
            return r["taskToken"], json.loads(r["input"])
        tasks = [poll("w%d" % k) for k in range(12)]
        self.assertEqual(sorted(i["i"] for _, i in tasks), sorted(list(range(4)) * 3))
        for tok, _ in tasks:
            self.ok("SendTaskHeartbeat", {"taskToken": tok})
        self.restart(kill=True)
        url = self.server.url
        # x0 answered; x1 stopped; x2 left to miss its heartbeats (retried, offered again);
        # x3 fails in one branch, which aborts the other two.
        first_failure = True
        for tok, inp in tasks:
            if inp["i"] == 0:
                self.ok("SendTaskSuccess", {"taskToken": tok, "output": json.dumps(inp)})
            elif inp["i"] == 3:
                st, r = sfn(url, "SendTaskFailure", {"taskToken": tok, "error": "Boom"})
                if first_failure:
                    self.assertEqual(st, 200, r)
                    first_failure = False
                else:
                    self.assertEqual(st, 400, r)
                    self.assertIn("TaskTimedOut", r["__type"])
        self.ok("StopExecution", {"executionArn": execs[1], "error": "E", "cause": "C"})
        again = [poll("late%d" % k) for k in range(3)]
        self.assertEqual([i for _, i in again], [{"i": 2}] * 3)
        for tok, _ in again:
            self.ok("SendTaskSuccess", {"taskToken": tok, "output": '"late"'})
        for tok, inp in tasks:
            if inp["i"] == 2:  # the first attempt's token is no longer good
                st, r = sfn(url, "SendTaskSuccess", {"taskToken": tok, "output": "1"})
                self.assertEqual(st, 400, r)
        want = {0: ("SUCCEEDED", [{"i": 0}] * 3), 1: ("ABORTED", None),
                2: ("SUCCEEDED", ["late"] * 3), 3: ("FAILED", None)}
        for i, e in enumerate(execs):
            d = self.wait_ended(e)
            self.assertEqual(d["status"], want[i][0], d)
            if want[i][1] is not None:
                self.assertEqual(json.loads(d["output"]), want[i][1])
            self.check_history(e)
        for e in (execs[1], execs[3]):
            self.ok("RedriveExecution", {"executionArn": e, "clientToken": "once"})
        self.restart(kill=True)
        url = self.server.url
        for e in (execs[1], execs[3]):  # the token is remembered across the kill
            self.ok("RedriveExecution", {"executionArn": e, "clientToken": "once"})
        redriven = [poll("r%d" % k) for k in range(6)]
        for tok, _ in redriven:
            self.ok("SendTaskSuccess", {"taskToken": tok, "output": '"re"'})
        for e in (execs[1], execs[3]):
            d = self.wait_ended(e)
            self.assertEqual((d["status"], d["redriveCount"]), ("SUCCEEDED", 1), d)
            self.assertEqual(json.loads(d["output"]), ["re"] * 3)
            types = self.check_history(e)
            self.assertEqual(types["ExecutionRedriven"], 1)
        self.assert_no_replay_trouble()

    def test_callbacks_through_parallel_and_map_match_a_resident_run(self):
        """The same run with everything evicted and a kill -9 after every heartbeat makes the
        same events as one that keeps everything in memory."""
        def run(extra, kill):
            if extra != self.server_args:
                self.server.stop()
                self.server = servertest.Server(self.server.data_dir + "-" + extra[1],
                                                extra).start()
            url = self.server.url
            qurl = sqs(url, "CreateQueue", {"QueueName": "q"})[1]["QueueUrl"]
            task = lambda body: {"Type": "Task", "HeartbeatSeconds": 30,
                                 "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                                 "Parameters": {"QueueUrl": qurl, "MessageBody": body}}
            branch = lambda i: {"StartAt": "T%d" % i, "States": {"T%d" % i: dict(
                task({"t.$": "$$.Task.Token", "b": i}), End=True,
                Retry=[{"ErrorEquals": ["Again"], "IntervalSeconds": 1, "BackoffRate": 1.5,
                        "MaxAttempts": 2}])}}
            arn = self.machine("pm", {"StartAt": "P", "States": {
                "P": {"Type": "Parallel", "Branches": [branch(i) for i in range(3)],
                      "Next": "M"},
                "M": {"Type": "Map", "ItemProcessor": {"StartAt": "X", "States": {"X": dict(
                    task({"t.$": "$$.Task.Token", "m.$": "$"}), End=True)}}, "End": True}}})
            e = self.start(arn, "e")
            retried = set()
            deadline = time.time() + 30
            while time.time() < deadline:
                msgs = sqs(url, "ReceiveMessage", {"QueueUrl": qurl, "MaxNumberOfMessages": 10,
                                                   "WaitTimeSeconds": 1})[1].get("Messages", [])
                bodies = sorted((json.loads(m["Body"]) for m in msgs),
                                key=lambda b: (b.get("b", -1), b.get("m", -1)))
                for m in msgs:
                    sqs(url, "DeleteMessage", {"QueueUrl": qurl,
                                               "ReceiptHandle": m["ReceiptHandle"]})
                for b in bodies:
                    self.ok("SendTaskHeartbeat", {"taskToken": b["t"]})
                    if kill:
                        self.restart(kill=True)
                        url = self.server.url
                    if "b" in b and b["b"] not in retried:
                        retried.add(b["b"])
                        self.ok("SendTaskFailure", {"taskToken": b["t"], "error": "Again"})
                    else:
                        out = b.get("b", b.get("m"))
                        self.ok("SendTaskSuccess", {"taskToken": b["t"], "output": json.dumps(out)})
                        st, r = sfn(url, "SendTaskSuccess", {"taskToken": b["t"], "output": "0"})
                        self.assertEqual(st, 400, r)
                if self.describe(e)[1]["status"] != "RUNNING":
                    break
            d = self.wait_ended(e)
            self.assertEqual((d["status"], json.loads(d["output"])), ("SUCCEEDED", [0, 1, 2]), d)
            types = self.check_history(e)
            self.assert_no_replay_trouble()
            return types
        evicted = run(self.server_args, kill=True)
        resident = run(("--max-resident", "100000"), kill=False)
        self.assertEqual(evicted, resident)
        self.assertEqual(evicted["TaskFailed"], 3)
        self.assertEqual(evicted["TaskScheduled"], 9)

    def test_deleted_version_still_runs_its_executions(self):
        url = self.server.url
        qurl = sqs(url, "CreateQueue", {"QueueName": "q"})[1]["QueueUrl"]
        definition = lambda tag: {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                  "Parameters": {"QueueUrl": qurl, "MessageBody": {"t.$": "$$.Task.Token"}},
                  "ResultPath": "$.r", "Next": "P"},
            "P": {"Type": "Pass", "Result": tag, "ResultPath": "$.tag", "End": True}}}
        arn = self.machine("ver", definition("v1"), publish=True)
        on_v1 = self.start(arn + ":1", "on-v1")
        self.ok("UpdateStateMachine", {"stateMachineArn": arn,
                                       "definition": json.dumps(definition("v2")),
                                       "publish": True})
        self.ok("CreateStateMachineAlias", {"name": "a", "routingConfiguration": [
            {"stateMachineVersionArn": arn + ":1", "weight": 0},
            {"stateMachineVersionArn": arn + ":2", "weight": 100}]})
        st, r = sfn(url, "DeleteStateMachineVersion", {"stateMachineVersionArn": arn + ":1"})
        self.assertEqual(st, 400, r)  # the alias routes to it, even with weight 0
        self.ok("DeleteStateMachineAlias", {"stateMachineAliasArn": arn + ":a"})
        self.ok("DeleteStateMachineVersion", {"stateMachineVersionArn": arn + ":1"})
        self.ok("UpdateStateMachine", {"stateMachineArn": arn,
                                       "definition": json.dumps(definition("v3"))})
        st, r = sfn(url, "StartExecution", {"stateMachineArn": arn + ":1", "name": "late"})
        self.assertEqual(st, 400, r)
        msgs = sqs(url, "ReceiveMessage", {"QueueUrl": qurl, "WaitTimeSeconds": 2})[1]["Messages"]
        self.restart(kill=True)
        self.ok("SendTaskSuccess", {"taskToken": json.loads(msgs[0]["Body"])["t"], "output": "1"})
        d = self.wait_ended(on_v1)
        self.assertEqual((d["status"], json.loads(d["output"])),
                         ("SUCCEEDED", {"r": 1, "tag": "v1"}), d)
        self.assertEqual(d["stateMachineVersionArn"], arn + ":1")
        self.assert_no_replay_trouble()


if __name__ == "__main__":
    servertest.main()
