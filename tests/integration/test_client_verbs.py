#!/usr/bin/env python3
"""The client verbs (create-state-machine, start, describe, executions, history,
send-success, send-failure, heartbeat, stop) as a user runs them: exit statuses and error
sentences as the aws CLI's (0, 252 usage, 254 service error, 255 no answer), and the
answers printed as `json.dumps(answer, indent=4)`.

Three groups: without any server (usage, dead and silent endpoints); against a scripted
stub speaking AWS JSON 1.0 (headers, paging, name lookup, error texts); and against the
real `baton serve` on a loopback port, skipped while the binary has no serve verb.
"""

import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import batontest
from batontest import PASS_MACHINE, BatonTestCase

WAIT_MACHINE = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dumped(answer):
    """The aws CLI's stdout for an answer."""
    return json.dumps(answer, indent=4, ensure_ascii=False) + "\n"


class WithoutServer(BatonTestCase):
    def dead_endpoint(self):
        return f"http://127.0.0.1:{free_port()}"

    def test_help_of_every_verb(self):
        proc = self.baton("help")
        self.assertExit(proc, 0)
        for verb in ("create-state-machine", "start", "describe", "executions", "history",
                     "send-success", "send-failure", "heartbeat", "stop"):
            with self.subTest(verb=verb):
                self.assertIn(f"  {verb} ", proc.stdout)
                p = self.baton(verb, "--help")
                self.assertExit(p, 0)
                self.assertTrue(p.stdout.startswith(f"usage: baton {verb}"), p.stdout)
                self.assertIn("--endpoint URL", p.stdout)
                self.assertEqual(p.stderr, "")

    def test_usage_errors_exit_252(self):
        d = self.write("m.json", PASS_MACHINE)
        cases = [
            (["start"], "missing STATE_MACHINE"),
            (["start", "m", "--bogus"], "unknown option '--bogus'"),
            (["start", "m", "extra"], "unexpected argument 'extra'"),
            (["start", "m", "--input"], "--input needs a value"),
            (["start", "m", "--input", "{'a': 1}"], "--input is not valid JSON"),
            (["start", "m", "--input", "{}", "--input-file", d], "not both"),
            (["start", "m", "--input-file", self.path("absent.json")], "absent.json"),
            (["create-state-machine", "--definition", d], "--name is required"),
            (["create-state-machine", "--name", "m"], "--definition is required"),
            (["create-state-machine", "--name", "m", "--definition", self.path("nope.json")],
             "cannot read"),
            (["create-state-machine", "--name", "m", "--definition", "file://" + self.path("n")],
             "cannot read"),
            (["create-state-machine", "--name", "m", "--definition", d, "--type", "FAST"],
             "--type takes one of STANDARD, EXPRESS"),
            (["executions", "m", "--status", "DONE"], "--status takes one of RUNNING"),
            (["executions", "m", "--max", "0"], "--max takes a whole number"),
            (["describe", "not-an-arn"], "is not a Step Functions ARN"),
            (["describe", "arn:x", "--timeout", "soon"], "--timeout takes a whole number"),
            (["describe", "arn:x", "--endpoint", "127.0.0.1:8083"], "http:// or https://"),
            (["send-success", "tok", "--output", "nope"], "--output is not valid JSON"),
            (["history", "arn:x", "--reverse=yes"], "--reverse takes no value"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                if "--endpoint" not in args:  # before the rest, which may end in a lone option
                    args = [args[0], "--endpoint", self.dead_endpoint(), *args[1:]]
                proc = self.baton(*args)
                self.assertExit(proc, 252)
                self.assertIn(message, proc.stderr)
                self.assertIn(f"usage: baton {args[0]}", proc.stderr)
                self.assertEqual(proc.stdout, "")

    def test_dead_endpoint_exits_255(self):
        endpoint = self.dead_endpoint()
        proc = self.baton("describe", "arn:aws:states:us-east-1:123456789012:execution:m:e",
                          "--endpoint", endpoint)
        self.assertExit(proc, 255)
        self.assertEqual(proc.stderr, f'\nCould not connect to the endpoint URL: "{endpoint}/"\n')
        self.assertEqual(proc.stdout, "")

    def test_endpoint_from_the_environment(self):
        endpoint = self.dead_endpoint()
        env = dict(os.environ, BATON_ENDPOINT=endpoint)
        proc = subprocess.run([batontest.BATON, "heartbeat", "tok"], capture_output=True,
                              text=True, timeout=60, env=env)
        self.assertExit(proc, 255)
        self.assertIn(f'"{endpoint}/"', proc.stderr)

    def test_silent_endpoint_times_out_with_255(self):
        with socket.socket() as s:  # accepts connections (backlog), never answers
            s.bind(("127.0.0.1", 0))
            s.listen(4)
            endpoint = "http://127.0.0.1:%d" % s.getsockname()[1]
            started = time.monotonic()
            proc = self.baton("heartbeat", "tok", "--endpoint", endpoint, "--timeout", "1")
            self.assertLess(time.monotonic() - started, 30)
        self.assertExit(proc, 255)
        self.assertEqual(proc.stderr, f'\nRead timeout on endpoint URL: "{endpoint}/"\n')


class Stub(http.server.ThreadingHTTPServer):
    """AWS JSON 1.0 on 127.0.0.1: answer(op, body) gives (status, object); every request is
    kept in .requests as (headers, op, body)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.requests = []
        self.answer = lambda op, body: (200, {})
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


class StubHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        op = target.split(".", 1)[1] if "." in target else target
        self.server.requests.append((self.headers, op, body))
        status, answer = self.server.answer(op, body)
        data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ARN = "arn:aws:states:us-east-1:123456789012"


class AgainstStub(BatonTestCase):
    def setUp(self):
        super().setUp()
        self.stub = Stub()

    def tearDown(self):
        self.stub.stop()
        super().tearDown()

    def cli(self, verb, *args):
        return self.baton(verb, "--endpoint", self.stub.endpoint, *args)

    def test_request_shape_and_indented_answer(self):
        answer = {"stateMachineArn": f"{ARN}:stateMachine:m", "creationDate": 1700000000.123,
                  "note": "é"}
        self.stub.answer = lambda op, body: (200, answer)
        d = self.write("m.json", PASS_MACHINE)
        proc = self.cli("create-state-machine", "--name", "m", "--definition", d)
        self.assertExit(proc, 0)
        self.assertEqual(proc.stdout, dumped(answer))
        headers, op, body = self.stub.requests[0]
        self.assertEqual(op, "CreateStateMachine")
        self.assertEqual(headers["X-Amz-Target"], "AWSStepFunctions.CreateStateMachine")
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.0")
        self.assertRegex(headers["User-Agent"], r"^baton/\d+\.\d+\.\d+$")
        self.assertEqual(body, {"name": "m", "definition": json.dumps(PASS_MACHINE),
                                "roleArn": "arn:aws:iam::123456789012:role/baton"})

    def test_service_error_exits_254_with_the_aws_cli_sentence(self):
        arn = f"{ARN}:execution:m:nope"
        self.stub.answer = lambda op, body: (400, {
            "__type": "com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist",
            "message": f"Execution Does Not Exist: '{arn}'"})
        proc = self.cli("describe", arn)
        self.assertExit(proc, 254)
        self.assertEqual(proc.stderr, "\nAn error occurred (ExecutionDoesNotExist) when calling "
                         f"the DescribeExecution operation: Execution Does Not Exist: '{arn}'\n")
        self.assertEqual(proc.stdout, "")
        self.assertEqual(self.stub.requests[0][2], {"executionArn": arn})

    def test_describe_state_machine_by_arn(self):
        self.stub.answer = lambda op, body: (200, {"name": "m"})
        self.assertExit(self.cli("describe", f"{ARN}:stateMachine:m"), 0)
        self.assertEqual(self.stub.requests[0][1], "DescribeStateMachine")
        self.assertEqual(self.stub.requests[0][2], {"stateMachineArn": f"{ARN}:stateMachine:m"})

    def test_start_by_name_looks_through_every_page(self):
        pages = {None: {"stateMachines": [{"name": "a", "stateMachineArn": f"{ARN}:stateMachine:a"}],
                        "nextToken": "p2"},
                 "p2": {"stateMachines": [{"name": "b", "stateMachineArn": f"{ARN}:stateMachine:b"}]}}

        def answer(op, body):
            if op == "ListStateMachines":
                return 200, pages[body.get("nextToken")]
            return 200, {"executionArn": f"{ARN}:execution:b:e", "startDate": 1700000000.5}
        self.stub.answer = answer
        proc = self.cli("start", "b", "--input", '{"k": [1]}', "--name", "e")
        self.assertExit(proc, 0)
        self.assertEqual(json.loads(proc.stdout)["executionArn"], f"{ARN}:execution:b:e")
        ops = [op for _, op, _ in self.stub.requests]
        self.assertEqual(ops, ["ListStateMachines", "ListStateMachines", "StartExecution"])
        self.assertEqual(self.stub.requests[2][2], {"stateMachineArn": f"{ARN}:stateMachine:b",
                                                    "name": "e", "input": '{"k": [1]}'})

    def test_start_by_unknown_name_exits_254(self):
        self.stub.answer = lambda op, body: (200, {"stateMachines": []})
        proc = self.cli("start", "ghost")
        self.assertExit(proc, 254)
        self.assertIn("No state machine is named 'ghost'", proc.stderr)
        self.assertEqual([op for _, op, _ in self.stub.requests], ["ListStateMachines"])

    def test_start_by_arn_makes_one_call(self):
        self.stub.answer = lambda op, body: (200, {"executionArn": "x", "startDate": 1})
        self.assertExit(self.cli("start", f"{ARN}:stateMachine:m"), 0)
        self.assertEqual([op for _, op, _ in self.stub.requests], ["StartExecution"])

    def test_history_merges_every_page(self):
        events = [{"id": i, "type": "PassStateEntered", "timestamp": 1700000000 + i}
                  for i in range(1, 6)]

        def answer(op, body):
            start = int(body.get("nextToken", "0"))
            page = {"events": events[start:start + 2]}
            if start + 2 < len(events):
                page["nextToken"] = str(start + 2)
            return 200, page
        self.stub.answer = answer
        proc = self.cli("history", f"{ARN}:execution:m:e", "--reverse")
        self.assertExit(proc, 0)
        self.assertEqual(proc.stdout, dumped({"events": events}))
        self.assertEqual(len(self.stub.requests), 3)
        first = self.stub.requests[0][2]
        self.assertEqual(first, {"executionArn": f"{ARN}:execution:m:e", "reverseOrder": True,
                                 "maxResults": 1000})
        self.assertEqual(self.stub.requests[2][2]["nextToken"], "4")

    def test_executions_stop_at_max(self):
        def answer(op, body):
            n = body["maxResults"]
            items = [{"executionArn": f"{ARN}:execution:m:{i}", "status": "RUNNING"}
                     for i in range(n)]
            return 200, {"executions": items, "nextToken": "more"}
        self.stub.answer = answer
        proc = self.cli("executions", f"{ARN}:stateMachine:m", "--max", "3", "--status", "RUNNING")
        self.assertExit(proc, 0)
        self.assertEqual(len(json.loads(proc.stdout)["executions"]), 3)
        self.assertEqual(len(self.stub.requests), 1)
        self.assertEqual(self.stub.requests[0][2], {"stateMachineArn": f"{ARN}:stateMachine:m",
                                                    "statusFilter": "RUNNING", "maxResults": 3})

    def test_empty_answers_print_nothing(self):
        self.stub.answer = lambda op, body: (200, {})
        for args in (["send-success", "tok", "--output", '{"ok": true}'],
                     ["send-failure", "tok", "--error", "E", "--cause", "C"],
                     ["heartbeat", "--", "-tok"]):
            with self.subTest(args=args):
                proc = self.cli(*args)
                self.assertExit(proc, 0)
                self.assertEqual(proc.stdout, "")
        bodies = [body for _, _, body in self.stub.requests]
        self.assertEqual(bodies, [{"taskToken": "tok", "output": '{"ok": true}'},
                                  {"taskToken": "tok", "error": "E", "cause": "C"},
                                  {"taskToken": "-tok"}])

    def test_error_body_that_is_not_json(self):
        self.stub.answer = lambda op, body: (502, "Bad Gateway")
        proc = self.cli("stop", f"{ARN}:execution:m:e")
        self.assertExit(proc, 254)
        self.assertEqual(proc.stderr, "\nAn error occurred (502) when calling the StopExecution "
                         "operation: Bad Gateway\n")


def has_serve():
    if not batontest.BATON:
        return False
    proc = subprocess.run([batontest.BATON, "serve", "--help"], capture_output=True, timeout=30)
    return proc.returncode == 0


class AgainstServer(BatonTestCase):
    """The real server: `baton serve --listen 127.0.0.1:PORT --data DIR`."""

    @classmethod
    def setUpClass(cls):
        if not has_serve():
            raise unittest.SkipTest("this baton has no serve verb")
        cls.data = tempfile.mkdtemp(prefix="baton-serve-")
        port = free_port()
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.log = open(os.path.join(cls.data, "serve.log"), "w")
        cls.server = subprocess.Popen(
            [batontest.BATON, "serve", "--listen", f"127.0.0.1:{port}",
             "--data", os.path.join(cls.data, "data")],
            stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(cls.endpoint + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if cls.server.poll() is not None or time.monotonic() > deadline:
                cls.tearDownClass()
                raise RuntimeError("baton serve did not become healthy")
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        try:
            cls.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()
        cls.log.close()

    def cli(self, verb, *args):
        return self.baton(verb, "--endpoint", self.endpoint, *args)

    def cli_json(self, *args):
        proc = self.cli(*args)
        self.assertExit(proc, 0)
        return json.loads(proc.stdout)

    def create(self, name, definition):
        d = self.write(name + ".json", definition)
        return self.cli_json("create-state-machine", "--name", name,
                             "--definition", d)["stateMachineArn"]

    def wait_status(self, execution_arn, status, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = self.cli_json("describe", execution_arn)
            if got["status"] == status or time.monotonic() > deadline:
                self.assertEqual(got["status"], status, got)
                return got
            time.sleep(0.1)

    def sqs(self, op, body):
        request = urllib.request.Request(
            self.endpoint + "/", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/x-amz-json-1.0",
                     "X-Amz-Target": f"AmazonSQS.{op}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def receive_token(self, queue_url, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sqs("ReceiveMessage", {"QueueUrl": queue_url, "WaitTimeSeconds": 5,
                                              "MaxNumberOfMessages": 1})
            for m in got.get("Messages", []):
                self.sqs("DeleteMessage", {"QueueUrl": queue_url,
                                           "ReceiptHandle": m["ReceiptHandle"]})
                return json.loads(m["Body"])["token"]
        self.fail("no task token arrived on the queue")

    def callback_machine(self, name):
        queue_url = self.sqs("CreateQueue", {"QueueName": name})["QueueUrl"]
        arn = self.create(name, {"StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
            "End": True}}})
        return arn, queue_url

    def test_lifecycle(self):
        sm = self.create("lifecycle", WAIT_MACHINE)
        self.assertRegex(sm, r"^arn:aws:states:[^:]+:\d{12}:stateMachine:lifecycle$")
        described = self.cli_json("describe", sm)
        self.assertEqual(described["name"], "lifecycle")
        self.assertEqual(json.loads(described["definition"]), WAIT_MACHINE)
        self.assertEqual(described["roleArn"], "arn:aws:iam::123456789012:role/baton")
        self.assertEqual(described["type"], "STANDARD")

        started = self.cli_json("start", "lifecycle", "--name", "first", "--input", '{"n": 1}')
        ex = started["executionArn"]
        self.assertTrue(ex.endswith(":execution:lifecycle:first"), ex)
        self.assertIsInstance(started["startDate"], (int, float))
        got = self.cli_json("describe", ex)
        self.assertEqual(got["status"], "RUNNING")
        self.assertEqual(json.loads(got["input"]), {"n": 1})
        self.assertEqual(got["stateMachineArn"], sm)

        listed = self.cli_json("executions", sm, "--status", "RUNNING")
        self.assertEqual([e["executionArn"] for e in listed["executions"]], [ex])
        self.assertEqual(self.cli_json("executions", "lifecycle", "--status", "SUCCEEDED"),
                         {"executions": []})

        history = self.cli_json("history", ex)["events"]
        self.assertEqual(history[0]["type"], "ExecutionStarted")
        self.assertEqual(history[0]["id"], 1)
        reverse = self.cli_json("history", ex, "--reverse")["events"]
        self.assertEqual(reverse, list(reversed(history)))

        stopped = self.cli_json("stop", ex, "--error", "Halt", "--cause", "by the test")
        self.assertIsInstance(stopped["stopDate"], (int, float))
        got = self.wait_status(ex, "ABORTED")
        self.assertEqual(got.get("error"), "Halt")
        self.assertEqual(got.get("cause"), "by the test")
        last = self.cli_json("history", ex)["events"][-1]
        self.assertEqual(last["type"], "ExecutionAborted")
        self.assertEqual(last["executionAbortedEventDetails"],
                         {"error": "Halt", "cause": "by the test"})

    def test_definition_forms_and_a_finished_execution(self):
        d = self.write("pass.json", PASS_MACHINE)
        forms = {"by-path": d, "by-url": "file://" + d, "inline": json.dumps(PASS_MACHINE)}
        for name, definition in forms.items():
            with self.subTest(form=name):
                sm = self.cli_json("create-state-machine", "--name", name, "--definition",
                                   definition, "--type", "STANDARD")["stateMachineArn"]
                self.assertEqual(json.loads(self.cli_json("describe", sm)["definition"]),
                                 PASS_MACHINE)
        ex = self.cli_json("start", "by-url", "--input-file",
                           self.write("in.json", {"k": "v"}))["executionArn"]
        got = self.wait_status(ex, "SUCCEEDED")
        self.assertEqual(json.loads(got["output"]), {"k": "v"})

    def test_executions_max_and_every_page(self):
        sm = self.create("many", WAIT_MACHINE)
        arns = [self.cli_json("start", sm)["executionArn"] for _ in range(3)]
        self.assertEqual(len(self.cli_json("executions", sm, "--max", "2")["executions"]), 2)
        listed = self.cli_json("executions", "many")["executions"]
        self.assertEqual(sorted(e["executionArn"] for e in listed), sorted(arns))
        for arn in arns:
            self.cli_json("stop", arn)

    def test_callback_verbs(self):
        sm, queue_url = self.callback_machine("callback")

        ex = self.cli_json("start", sm)["executionArn"]
        token = self.receive_token(queue_url)
        proc = self.cli("heartbeat", "--", token)
        self.assertExit(proc, 0)
        self.assertEqual(proc.stdout, "")  # the aws CLI prints nothing for {}
        self.assertExit(self.cli("send-success", "--output", '{"approved": true}', "--", token), 0)
        got = self.wait_status(ex, "SUCCEEDED")
        self.assertEqual(json.loads(got["output"]), {"approved": True})
        again = self.cli("send-success", "--", token)  # a token is good for one answer
        self.assertExit(again, 254)
        self.assertIn("An error occurred (TaskTimedOut) when calling the SendTaskSuccess "
                      "operation: ", again.stderr)

        ex = self.cli_json("start", sm)["executionArn"]
        token = self.receive_token(queue_url)
        self.assertExit(self.cli("send-failure", "--error", "Rejected", "--cause", "not today",
                                 "--", token), 0)
        got = self.wait_status(ex, "FAILED")
        self.assertEqual((got.get("error"), got.get("cause")), ("Rejected", "not today"))

    def test_service_errors_exit_254(self):
        sm = self.create("errors", PASS_MACHINE)
        prefix = sm.rsplit(":stateMachine:", 1)[0]
        missing = f"{prefix}:execution:errors:nope"
        proc = self.cli("describe", missing)
        self.assertExit(proc, 254)
        self.assertEqual(proc.stderr, "\nAn error occurred (ExecutionDoesNotExist) when calling "
                         "the DescribeExecution operation: Execution Does Not Exist: "
                         f"'{missing}'\n")
        self.assertEqual(proc.stdout, "")

        ghost = f"{prefix}:stateMachine:ghost"
        proc = self.cli("start", ghost)
        self.assertExit(proc, 254)
        self.assertEqual(proc.stderr, "\nAn error occurred (StateMachineDoesNotExist) when "
                         "calling the StartExecution operation: State Machine Does Not Exist: "
                         f"'{ghost}'\n")

        proc = self.cli("start", "ghost")
        self.assertExit(proc, 254)
        self.assertIn("No state machine is named 'ghost'", proc.stderr)

        proc = self.cli("create-state-machine", "--name", "bad", "--definition",
                        '{"StartAt": "X", "States": {}}')
        self.assertExit(proc, 254)
        self.assertIn("An error occurred (InvalidDefinition) when calling the "
                      "CreateStateMachine operation: ", proc.stderr)

        proc = self.cli("create-state-machine", "--name", "errors", "--definition",
                        json.dumps(WAIT_MACHINE))
        self.assertExit(proc, 254)
        self.assertIn("(StateMachineAlreadyExists)", proc.stderr)

        proc = self.cli("send-success", "not-a-token")
        self.assertExit(proc, 254)
        self.assertRegex(proc.stderr, r"An error occurred \((InvalidToken|TaskDoesNotExist)\) "
                         r"when calling the SendTaskSuccess operation: ")

        proc = self.cli("history", f"{prefix}:execution:errors:nope")
        self.assertExit(proc, 254)
        self.assertIn("(ExecutionDoesNotExist) when calling the GetExecutionHistory", proc.stderr)


if __name__ == "__main__":
    batontest.main()
