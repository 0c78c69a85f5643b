#!/usr/bin/env python3
"""`baton serve` killed with SIGKILL at random moments under load, then checked for what it
promised.

Several client threads speak raw AWS JSON 1.0 over HTTP (no SDK, so no retries hide an
error): StartExecution of a machine with a 1 s Wait and of one that parks on
sqs:sendMessage.waitForTaskToken, workers that take the tokens from the queue and answer
with SendTaskSuccess, and plain SendMessage / ReceiveMessage / DeleteMessage on another
queue. Meanwhile the server is killed (kill -9) at least KILLS times and restarted on the
same --data folder. Every request that was answered 200 is recorded; a request that got no
answer may or may not have taken effect, and the checks allow both while demanding
consistency:

- every acknowledged StartExecution exists and ends SUCCEEDED, with the expected output;
  a start that got no answer is retried with the same name and input until it gets a
  definite answer: its own ARN, or ExecutionAlreadyExists when it had already run to its
  end (AWS's idempotency rule); no execution exists that no client asked for, none twice;
- every acknowledged SendTaskSuccess took effect exactly once: the execution's output is
  that callback's, its history has exactly one TaskSucceeded, no token is accepted twice;
- every acknowledged SendMessage is received at least once, with the MD5 of its body; once
  deleted by an acknowledged DeleteMessage (with the current receipt handle, inside the
  visibility timeout) it is never received again; nothing is received that was not sent;
- histories number their events 1, 2, 3, … with previousEventId pointing back, and the
  server restarts every time and exits 0 on SIGTERM at the end.
"""

import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import batontest

ACCOUNT = batontest.ACCOUNT
REGION = batontest.REGION
ROLE = f"arn:aws:iam::{ACCOUNT}:role/baton-crash"

KILLS = 22               # kill -9 this many times
KILL_GAP = (0.25, 1.6)   # seconds of traffic between two kills
SETTLE_S = 30            # after the last restart: time for every execution to finish
PLAIN_VISIBILITY = 5     # the plain queue's receive visibility timeout (s)
TOKEN_VISIBILITY = 3     # the token queue's visibility timeout (s)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoAnswer(Exception):
    """The request got no HTTP answer (refused, reset, timed out) or a 5xx."""


class Server:
    """`baton serve` on a fixed loopback port, so clients keep one URL across restarts."""

    def __init__(self, root):
        self.data = os.path.join(root, "data")
        self.log_path = os.path.join(root, "serve.log")
        self.port = free_port()
        self.proc = None

    def start(self, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            log = open(self.log_path, "ab")
            proc = subprocess.Popen(
                [batontest.BATON, "serve", "--listen", f"127.0.0.1:{self.port}",
                 "--data", self.data], stdout=subprocess.PIPE, stderr=log)
            log.close()
            line = proc.stdout.readline().decode(errors="replace")
            if "serving at" in line:
                self.proc = proc
                return
            proc.wait(10)
            proc.stdout.close()
            if time.monotonic() > deadline:
                raise AssertionError(f"baton serve did not restart (exit {proc.returncode}): "
                                     f"{line!r}\n{self.tail()}")
            time.sleep(0.1)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)
        self.proc.stdout.close()
        self.proc = None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(30)
        self.proc.stdout.close()
        self.proc = None
        return rc

    def tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-3000:]
        except OSError:
            return ""


class Client:
    """AWS JSON 1.0 requests: answered (status, body) or NoAnswer. Under load each request
    has a connection of its own, so a kill cuts exactly the requests in flight; keep_alive
    (for the checks, after the last restart) reuses one connection per thread."""

    def __init__(self, port, keep_alive=False):
        self.port = port
        self.keep_alive = keep_alive
        self.local = threading.local()

    def call(self, target, body, timeout=10.0):
        conn = getattr(self.local, "conn", None) if self.keep_alive else None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        keep = False
        try:
            conn.request("POST", "/", json.dumps(body).encode(), {
                "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
            r = conn.getresponse()
            data = r.read()
            keep = self.keep_alive and not r.will_close
        except (OSError, http.client.HTTPException) as e:
            raise NoAnswer(repr(e)) from None
        finally:
            if keep:
                self.local.conn = conn
            else:
                conn.close()
                self.local.conn = None
        if r.status >= 500:
            raise NoAnswer(f"{r.status} {data[:200]!r}")
        return r.status, json.loads(data or b"{}")

    def sfn(self, op, body, **kw):
        return self.call("AWSStepFunctions." + op, body, **kw)

    def sqs(self, op, body, **kw):
        return self.call("AmazonSQS." + op, body, **kw)


def error_type(body):
    return body.get("__type", "").rsplit("#", 1)[-1]


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Record:
    """What the clients saw, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.problems = []          # violations seen while running
        self.attempted = {}         # execution name -> (machine, input text)
        self.acked_start = {}       # name -> ARN, answered 200 on some attempt
        self.exists_start = set()   # names answered ExecutionAlreadyExists after a lost reply
        self.start_lost = set()     # names whose start never got a definite answer
        self.token_ok = {}          # token -> number of 200 answers to SendTaskSuccess
        self.token_name = {}        # token -> execution name (from the message body)
        self.task_timed_out = 0
        self.sent_attempted = set()  # plain bodies we tried to send
        self.sent_acked = {}        # body -> MessageId
        self.receipts = []          # (body, message id, receipt handle, request start)
        self.deleted = []           # (body, handle, receive request start, delete answered)
        self.counts = {}

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)

    def count(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1


class CrashTest(unittest.TestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="baton-crash-")
        self.server = Server(self.root)
        self.server.start()
        self.c = Client(self.server.port)
        self.reader = Client(self.server.port, keep_alive=True)
        self.rec = Record()
        self.stop_traffic = threading.Event()
        self.stop_workers = threading.Event()
        self.arn_prefix = f"arn:aws:states:{REGION}:{ACCOUNT}"

    def tearDown(self):
        if self.server.proc:
            self.server.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- set-up requests, before any kill ----

    def ok(self, target, body):
        st, out = self.c.call(target, body)
        self.assertEqual(st, 200, out)
        return out

    def make_fixtures(self):
        self.tokens_url = self.ok("AmazonSQS.CreateQueue", {
            "QueueName": "tokens",
            "Attributes": {"VisibilityTimeout": str(TOKEN_VISIBILITY)}})["QueueUrl"]
        self.plain_url = self.ok("AmazonSQS.CreateQueue", {"QueueName": "plain"})["QueueUrl"]
        waiter = {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
            "P": {"Type": "Pass", "End": True}}}
        callback = {"StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": self.tokens_url,
                           "MessageBody": {"token.$": "$$.Task.Token",
                                           "name.$": "$$.Execution.Name"}},
            "End": True}}}
        self.machines = {}
        for name, d in (("waiter", waiter), ("callback", callback)):
            self.machines[name] = self.ok("AWSStepFunctions.CreateStateMachine", {
                "name": name, "definition": json.dumps(d), "roleArn": ROLE})["stateMachineArn"]

    # ---- client threads ----

    def retry_until_answered(self, call, give_up):
        """Repeats call() until it is answered; None when give_up() says to stop."""
        while True:
            try:
                return call()
            except NoAnswer:
                if give_up():
                    return None
                time.sleep(0.05)

    def starter(self, tid):
        rec, rng = self.rec, random.Random(tid)
        i = 0
        while not self.stop_traffic.is_set():
            i += 1
            machine = "callback" if rng.random() < 0.5 else "waiter"
            name = f"{machine[0]}-{tid}-{i}"
            input_text = json.dumps({"n": i, "name": name})
            want = f"{self.arn_prefix}:execution:{machine}:{name}"
            with rec.lock:
                rec.attempted[name] = (machine, input_text)
            body = {"stateMachineArn": self.machines[machine], "name": name,
                    "input": input_text}
            first = True
            while True:
                try:
                    st, out = self.c.sfn("StartExecution", body)
                except NoAnswer:
                    rec.count("start no answer")
                    first = False
                    if self.stop_workers.is_set():
                        with rec.lock:
                            rec.start_lost.add(name)
                        break
                    # Sometimes late enough for a waiter to have finished: then the retry
                    # meets a closed execution, which AWS answers ExecutionAlreadyExists.
                    time.sleep(rng.choice((0.05, 0.05, 1.5)))
                    continue
                if st == 200:
                    if out.get("executionArn") != want:
                        rec.problem(f"StartExecution {name}: ARN {out}")
                    with rec.lock:
                        rec.acked_start[name] = out.get("executionArn")
                    if not first:
                        rec.count("start retried, same ARN")
                elif error_type(out) == "ExecutionAlreadyExists" and not first:
                    # Right only for a closed execution: a running one with the same name
                    # and input is answered with its ARN. Executions never reopen, so one
                    # still running now was running when the retry was refused.
                    with rec.lock:
                        rec.exists_start.add(name)
                    rec.count("start retried, already exists")
                    got = self.retry_until_answered(
                        lambda: self.c.sfn("DescribeExecution", {"executionArn": want}),
                        self.stop_workers.is_set)
                    if got and (got[0] != 200 or got[1].get("status") == "RUNNING"):
                        rec.problem(f"StartExecution {name} retried: ExecutionAlreadyExists, "
                                    f"then DescribeExecution {got}")
                else:
                    rec.problem(f"StartExecution {name} (first attempt: {first}): {st} {out}")
                break

    def token_worker(self, tid):
        rec = self.rec
        while not self.stop_workers.is_set():
            try:
                st, out = self.c.sqs("ReceiveMessage", {
                    "QueueUrl": self.tokens_url, "MaxNumberOfMessages": 10,
                    "WaitTimeSeconds": 1}, timeout=5)
            except NoAnswer:
                time.sleep(0.05)
                continue
            if st != 200:
                rec.problem(f"ReceiveMessage tokens: {st} {out}")
                continue
            for m in out.get("Messages", []):
                msg = json.loads(m["Body"])
                token, name = msg["token"], msg["name"]
                with rec.lock:
                    if rec.token_name.setdefault(token, name) != name:
                        rec.problems.append(f"token for two executions: {name}")
                answer = {"taskToken": token,
                          "output": json.dumps({"approved": True, "name": name})}
                got = self.retry_until_answered(
                    lambda: self.c.sfn("SendTaskSuccess", answer), self.stop_workers.is_set)
                if got is None:
                    continue
                st2, out2 = got
                if st2 == 200:
                    with rec.lock:
                        rec.token_ok[token] = rec.token_ok.get(token, 0) + 1
                elif error_type(out2) == "TaskTimedOut":
                    rec.count("callback already answered")
                else:
                    rec.problem(f"SendTaskSuccess {name}: {st2} {out2}")
                handle = m["ReceiptHandle"]
                self.retry_until_answered(
                    lambda: self.c.sqs("DeleteMessage", {"QueueUrl": self.tokens_url,
                                                         "ReceiptHandle": handle}),
                    self.stop_workers.is_set)

    def producer(self, tid):
        rec = self.rec
        i = 0
        while not self.stop_traffic.is_set():
            i += 1
            text = f"m-{tid}-{i} " + "x" * (i % 50)
            with rec.lock:
                rec.sent_attempted.add(text)
            try:
                st, out = self.c.sqs("SendMessage", {"QueueUrl": self.plain_url,
                                                     "MessageBody": text})
            except NoAnswer:
                rec.count("send no answer")
                time.sleep(0.05)
                continue
            if st != 200 or out.get("MD5OfMessageBody") != md5(text):
                rec.problem(f"SendMessage: {st} {out}")
                continue
            with rec.lock:
                rec.sent_acked[text] = out["MessageId"]

    def receive_plain(self, wait):
        """One ReceiveMessage on the plain queue, recorded; deletes what it got."""
        rec = self.rec
        t0 = time.monotonic()
        try:
            st, out = self.c.sqs("ReceiveMessage", {
                "QueueUrl": self.plain_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": wait,
                "VisibilityTimeout": PLAIN_VISIBILITY}, timeout=wait + 5)
        except NoAnswer:
            time.sleep(0.05)
            return None
        if st != 200:
            rec.problem(f"ReceiveMessage plain: {st} {out}")
            return None
        msgs = out.get("Messages", [])
        for m in msgs:
            if m.get("MD5OfBody") != md5(m["Body"]):
                rec.problem(f"MD5OfBody of {m['Body']!r}: {m.get('MD5OfBody')}")
            with rec.lock:
                rec.receipts.append((m["Body"], m["MessageId"], m["ReceiptHandle"], t0))
        for m in msgs:
            handle = m["ReceiptHandle"]
            try:
                st, out = self.c.sqs("DeleteMessage", {"QueueUrl": self.plain_url,
                                                       "ReceiptHandle": handle})
            except NoAnswer:
                rec.count("delete no answer")
                continue
            if st == 200:
                with rec.lock:
                    rec.deleted.append((m["Body"], handle, t0, time.monotonic()))
            else:
                rec.problem(f"DeleteMessage: {st} {out}")
        return len(msgs)

    def consumer(self, tid):
        while not self.stop_workers.is_set():
            self.receive_plain(1)

    # ---- the test ----

    def test_kill_nine_under_load(self):
        began = time.monotonic()
        self.make_fixtures()
        seed = int(os.environ.get("BATON_CRASH_SEED") or time.time_ns() % 1_000_000_007)
        print(f"\nkill times from BATON_CRASH_SEED={seed}", flush=True)
        rng = random.Random(seed)
        threads = [threading.Thread(target=f, args=(i,), daemon=True) for f, n in (
            (self.starter, 3), (self.token_worker, 3), (self.producer, 2),
            (self.consumer, 2)) for i in range(n)]
        for t in threads:
            t.start()
        restarts = []
        try:
            for k in range(KILLS):
                time.sleep(rng.uniform(*KILL_GAP))
                self.server.kill()
                t = time.monotonic()
                self.server.start()
                restarts.append(time.monotonic() - t)
            time.sleep(0.5)
        finally:
            self.stop_traffic.set()
        # Starters finish their retries; workers answer every callback that is still open.
        deadline = time.monotonic() + SETTLE_S
        for t in threads[:3]:
            t.join(max(1, deadline - time.monotonic()))
        self.assertEqual(len(restarts), KILLS)
        open_execs = self.wait_all_finished(deadline)
        settled = time.monotonic()
        self.stop_workers.set()
        for t in threads:
            t.join(15)
        self.drain_plain()
        drained = time.monotonic()
        rec = self.rec
        self.assertEqual(rec.problems, [])
        self.check_executions(open_execs)
        self.check_messages()
        checked = time.monotonic()
        self.assertEqual(self.server.stop(), 0, self.server.tail())
        print(f"{KILLS} kills, restart {min(restarts):.2f}-{max(restarts):.2f} s; "
              f"{len(rec.attempted)} starts tried, {len(rec.acked_start)} acknowledged; "
              f"{sum(rec.token_ok.values())} callbacks acknowledged; "
              f"{len(rec.sent_acked)} messages acknowledged, {len(rec.receipts)} receipts, "
              f"{len(rec.deleted)} deletes; {dict(sorted(rec.counts.items()))}; "
              f"settled {settled - began:.1f} s, drained {drained - began:.1f} s, "
              f"checked {checked - began:.1f} s", flush=True)

    def list_executions(self, machine):
        out, token = [], None
        while True:
            body = {"stateMachineArn": self.machines[machine], "maxResults": 1000}
            if token:
                body["nextToken"] = token
            st, page = self.c.sfn("ListExecutions", body)
            self.assertEqual(st, 200, page)
            out += page["executions"]
            token = page.get("nextToken")
            if not token:
                return out

    def wait_all_finished(self, deadline):
        """Polls ListExecutions until nothing runs (or the deadline); returns what still runs."""
        while True:
            running = [e["name"] for m in self.machines for e in self.list_executions(m)
                       if e["status"] == "RUNNING"]
            if not running or time.monotonic() > deadline:
                return running
            time.sleep(0.2)

    def history(self, arn):
        events, token = [], None
        while True:
            body = {"executionArn": arn, "maxResults": 1000}
            if token:
                body["nextToken"] = token
            st, page = self.reader.sfn("GetExecutionHistory", body)
            self.assertEqual(st, 200, page)
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def check_executions(self, still_running):
        rec = self.rec
        self.assertEqual(still_running, [], "executions that never finished")
        listed = {}
        for machine in self.machines:
            for e in self.list_executions(machine):
                self.assertNotIn(e["name"], listed, f"listed twice: {e}")
                listed[e["name"]] = (machine, e)
        for name, (machine, e) in listed.items():
            self.assertIn(name, rec.attempted, f"an execution nobody started: {e}")
            self.assertEqual(rec.attempted[name][0], machine)
            self.assertEqual(e["executionArn"], f"{self.arn_prefix}:execution:{machine}:{name}")
        for name in list(rec.acked_start) + sorted(rec.exists_start):
            self.assertIn(name, listed, f"acknowledged start lost: {name}")
        # Attempts that never got a definite answer: either way is fine.
        unlisted = set(rec.attempted) - set(listed)
        self.assertTrue(unlisted <= rec.start_lost, sorted(unlisted - rec.start_lost)[:5])
        ok_by_name = {}
        for token, n in rec.token_ok.items():
            self.assertEqual(n, 1, f"SendTaskSuccess accepted {n} times for one token")
            name = rec.token_name[token]
            ok_by_name[name] = ok_by_name.get(name, 0) + 1
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            fetched = pool.map(self.describe_and_history, sorted(listed.items()))
            for (name, (machine, e)), (d, events) in zip(sorted(listed.items()), fetched):
                self.check_execution(name, machine, d, events, ok_by_name)
        # Every acknowledged callback belongs to an execution that succeeded with it.
        for name in ok_by_name:
            self.assertIn(name, listed)

    def describe_and_history(self, item):
        name, (machine, e) = item
        st, d = self.reader.sfn("DescribeExecution", {"executionArn": e["executionArn"]})
        self.assertEqual(st, 200, d)
        return d, self.history(e["executionArn"])

    def check_execution(self, name, machine, d, events, ok_by_name):
        rec = self.rec
        self.assertEqual(d["status"], "SUCCEEDED", d)
        self.assertEqual(d["input"], rec.attempted[name][1])
        ids = [ev["id"] for ev in events]
        self.assertEqual(ids, list(range(1, len(events) + 1)), f"{name}: event ids {ids}")
        for ev in events[1:]:
            self.assertIn(ev.get("previousEventId", 0), range(0, ev["id"]), ev)
        types = [ev["type"] for ev in events]
        self.assertEqual(types[0], "ExecutionStarted", name)
        self.assertEqual(types[-1], "ExecutionSucceeded", name)
        self.assertEqual(types.count("ExecutionSucceeded"), 1, name)
        if machine == "waiter":
            self.assertEqual(json.loads(d["output"]), json.loads(rec.attempted[name][1]))
            self.assertEqual(types, ["ExecutionStarted", "WaitStateEntered",
                                     "WaitStateExited", "PassStateEntered",
                                     "PassStateExited", "ExecutionSucceeded"], name)
        else:
            self.assertEqual(json.loads(d["output"]), {"approved": True, "name": name})
            self.assertEqual(types.count("TaskSucceeded"), 1, f"{name}: {types}")
            self.assertEqual(types.count("TaskScheduled"), 1, f"{name}: {types}")
            self.assertLessEqual(ok_by_name.get(name, 0), 1, name)

    def drain_plain(self):
        """Receives until the plain queue is empty (in-flight messages come back)."""
        deadline = time.monotonic() + PLAIN_VISIBILITY + 10
        empty = 0
        while time.monotonic() < deadline:
            n = self.receive_plain(1)
            if n == 0:
                st, a = self.c.sqs("GetQueueAttributes", {
                    "QueueUrl": self.plain_url,
                    "AttributeNames": ["ApproximateNumberOfMessages",
                                       "ApproximateNumberOfMessagesNotVisible"]})
                self.assertEqual(st, 200, a)
                left = sum(int(v) for v in a["Attributes"].values())
                empty = empty + 1 if left == 0 else 0
                if empty >= 2:
                    return
        self.fail("the plain queue did not drain")

    def check_messages(self):
        rec = self.rec
        received = {}
        for body, mid, handle, t0 in rec.receipts:
            self.assertIn(body, rec.sent_attempted, "a message nobody sent")
            received.setdefault(body, set()).add(mid)
        for body, mid in rec.sent_acked.items():
            self.assertIn(body, received, f"acknowledged message never received: {body!r}")
            self.assertEqual(received[body], {mid}, body)
        # A delete answered 200 inside the visibility timeout of the receive that gave its
        # handle was made with the current handle: no receive sent after it sees the message.
        gone = {}
        for body, handle, t0, t_ack in rec.deleted:
            if t_ack < t0 + PLAIN_VISIBILITY - 0.5:
                gone[body] = min(gone.get(body, t_ack), t_ack)
        for body, mid, handle, t0 in rec.receipts:
            if body in gone:
                self.assertLess(t0, gone[body],
                                f"received {t0 - gone[body]:.2f} s after its delete: {body!r}")


if __name__ == "__main__":
    batontest.main()
