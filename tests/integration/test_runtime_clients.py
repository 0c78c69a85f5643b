#!/usr/bin/env python3
"""The runtime clients shipped in the binary (runtime/nodejs/baton-runtime.mjs,
runtime/python/baton_runtime.py), taken from the source tree and run with the node and
python3 found on PATH against a small Lambda Runtime API server written here (threaded
http.server on 127.0.0.1). This checks the clients alone: handler resolution, results,
error bodies, init errors, the context object, logs and connection reuse. The Node cases
are skipped when node is absent. --baton PATH is accepted and not used.
"""

import http.server
import json
import os
import queue
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(os.path.dirname(os.path.dirname(HERE)), "runtime")
NODE_CLIENT = os.path.join(RUNTIME, "nodejs", "baton-runtime.mjs")
PYTHON_CLIENT = os.path.join(RUNTIME, "python", "baton_runtime.py")
NODE = shutil.which("node")
PYTHON = shutil.which("python3") or sys.executable
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(\S+)\t([A-Z]+)\t(.*)$")
PY_LOG_LINE = re.compile(r"^\[([A-Z]+)\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(\S*)\t(.*)$")
WAIT = 15.0


class FakeRuntimeAPI(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The four Runtime API calls, with events fed from a queue and outcomes recorded."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.events = queue.Queue()
        self.outcomes = {}  # request id -> (kind, body, headers)
        self.init_errors = []  # (body, headers)
        self.connections = 0
        self.chunked = False  # events sent with Transfer-Encoding: chunked
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server_address[1]

    def record(self, key, value):
        with self.cond:
            if key is None:
                self.init_errors.append(value)
            else:
                self.outcomes[key] = value
            self.cond.notify_all()

    def wait_for(self, pred, timeout=WAIT):
        with self.cond:
            if not self.cond.wait_for(pred, timeout):
                raise AssertionError("timed out waiting for the runtime client")

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that exited
            super().handle_error(request, client_address)

    def stop(self):
        for _ in range(4):
            self.events.put(None)  # held /next calls get a 500: the client exits
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with self.server.cond:
            self.server.connections += 1

    def log_message(self, *args):
        pass

    def _reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self._reply(404, "{}")
        ev = self.server.events.get()
        if ev is None:
            return self._reply(500, '{"errorType":"Stop","errorMessage":"stop"}')
        rid, body, headers = ev
        headers = [("Lambda-Runtime-Aws-Request-Id", rid)] + list(headers.items())
        if not self.server.chunked:
            return self._reply(200, body, headers)
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        half = len(data) // 2
        for part in (data[:half], data[half:]):
            if part:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.01)
        self.wfile.write(b"0\r\n\r\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        m = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)", self.path)
        if m:
            self.server.record(m.group(1), (m.group(2), body, dict(self.headers)))
        elif self.path == "/2018-06-01/runtime/init/error":
            self.server.record(None, (body, dict(self.headers)))
        else:
            return self._reply(404, "{}")
        self._reply(202, '{"status":"OK"}')


class ClientCase:
    """Shared plumbing: a task root with files, one client process, invocations."""

    LANG = None

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="baton-rt-")
        self.api = FakeRuntimeAPI()
        self.proc = None

    def tearDown(self):
        self.api.stop()
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.out.close()
            self.err.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))

    def start(self, handler, **env):
        full_env = dict(os.environ)
        full_env.update({
            "AWS_LAMBDA_RUNTIME_API": self.api.address, "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": self.root, "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        full_env.pop("_X_AMZN_TRACE_ID", None)
        full_env.update(env)
        cmd = [NODE, NODE_CLIENT] if self.LANG == "node" else [PYTHON, PYTHON_CLIENT]
        self.out = tempfile.TemporaryFile(dir=self.root)
        self.err = tempfile.TemporaryFile(dir=self.root)
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=full_env, stdout=self.out,
                                     stderr=self.err)

    def stdout(self):
        self.out.seek(0)
        return self.out.read().decode(errors="replace")

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def send(self, event, rid=None, deadline_ms=None, **headers):
        rid = rid or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + 30000
        h = {"Lambda-Runtime-Deadline-Ms": str(deadline_ms),
             "Lambda-Runtime-Invoked-Function-Arn": ARN}
        h.update({k.replace("_", "-"): v for k, v in headers.items()})
        body = event if isinstance(event, (bytes, str)) else json.dumps(event)
        self.api.events.put((rid, body, h))
        return rid

    def outcome(self, rid):
        try:
            self.api.wait_for(lambda: rid in self.api.outcomes)
        except AssertionError:
            raise AssertionError("no outcome for %s; stdout: %s\nstderr: %s" %
                                 (rid, self.stdout()[-2000:], self.stderr()[-2000:]))
        kind, body, headers = self.api.outcomes[rid]
        return kind, json.loads(body), headers

    def invoke(self, event, **kw):
        return self.outcome(self.send(event, **kw))

    def result(self, event, **kw):
        kind, body, _ = self.invoke(event, **kw)
        self.assertEqual(kind, "response", body)
        return body

    def error(self, event, **kw):
        rid = self.send(event, **kw)
        kind, body, _ = self.outcome(rid)
        self.assertEqual(kind, "error", body)
        return rid, body

    def init_error(self):
        """The one init error posted, after which the process must exit by itself."""
        try:
            self.api.wait_for(lambda: self.api.init_errors)
        except AssertionError:
            raise AssertionError("no init error; stdout: %s\nstderr: %s" %
                                 (self.stdout(), self.stderr()))
        self.proc.wait(WAIT)
        self.assertNotEqual(self.proc.returncode, 0)
        self.assertEqual(len(self.api.init_errors), 1)
        body, headers = self.api.init_errors[0]
        body = json.loads(body)
        self.assertEqual(headers.get("Lambda-Runtime-Function-Error-Type"), body["errorType"])
        return body

    def many(self, n):
        """n sequential invocations; the rate and the number of connections used."""
        self.assertEqual(self.result({"warm": True}), {"warm": True})
        t0 = time.monotonic()
        ids = [self.send({"i": i}) for i in range(n)]  # queued: the client takes them in turn
        self.api.wait_for(lambda: all(rid in self.api.outcomes for rid in ids))
        rate = n / (time.monotonic() - t0)
        for i, rid in enumerate(ids):
            self.assertEqual(self.outcome(rid)[:2], ("response", {"i": i}))
        sys.stderr.write("\n  %s client against the fake server: %.0f invocations/s\n" %
                         (self.LANG, rate))
        return rate, self.api.connections


@unittest.skipUnless(NODE, "node is not on PATH")
class NodeClient(ClientCase, unittest.TestCase):
    LANG = "node"

    def test_async_handler_result_and_context(self):
        self.write("index.js", """
            exports.handler = async (event, context) => ({
                echo: event, remaining: context.getRemainingTimeInMillis(),
                memory: context.memoryLimitInMB, id: context.awsRequestId,
                arn: context.invokedFunctionArn, name: context.functionName,
                version: context.functionVersion, group: context.logGroupName,
                stream: context.logStreamName, waits: context.callbackWaitsForEmptyEventLoop,
                trace: process.env._X_AMZN_TRACE_ID ?? null,
                cc: context.clientContext ?? null, identity: context.identity ?? null,
                hasDone: [typeof context.succeed, typeof context.fail, typeof context.done],
            });
        """)
        self.start("index.handler")
        deadline = int(time.time() * 1000) + 5000
        rid = self.send({"a": [1, "x"]}, deadline_ms=deadline,
                        Lambda_Runtime_Trace_Id="Root=1-5759e988-bd862e3fe1be46a994272793")
        kind, res, _ = self.outcome(rid)
        self.assertEqual(kind, "response")
        self.assertEqual(res["echo"], {"a": [1, "x"]})
        self.assertEqual(res["memory"], "256")
        self.assertEqual(res["id"], rid)
        self.assertEqual(res["arn"], ARN)
        self.assertEqual((res["name"], res["version"]), ("fn", "$LATEST"))
        self.assertEqual((res["group"], res["stream"]), ("/aws/lambda/fn", "2024/01/01/[$LATEST]abc"))
        self.assertIs(res["waits"], True)
        self.assertEqual(res["trace"], "Root=1-5759e988-bd862e3fe1be46a994272793")
        self.assertIsNone(res["cc"])
        self.assertIsNone(res["identity"])
        self.assertEqual(res["hasDone"], ["function"] * 3)
        self.assertLessEqual(res["remaining"], 5000)
        self.assertGreater(res["remaining"], 3000)
        # The trace id is per invocation: gone when the next event has none.
        self.assertIsNone(self.result({})["trace"])

    def test_client_context_and_identity(self):
        self.write("index.js", """
            exports.handler = async (e, c) => ({cc: c.clientContext, id: c.identity});
        """)
        self.start("index.handler")
        cc = {"custom": {"k": "v"}, "env": {"locale": "en"}, "client": {"app_title": "t"}}
        ident = {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
        res = self.result({}, Lambda_Runtime_Client_Context=json.dumps(cc),
                          Lambda_Runtime_Cognito_Identity=json.dumps(ident))
        self.assertEqual(res, {"cc": cc, "id": ident})

    def test_callback_handler_waits_for_the_event_loop(self):
        self.write("index.js", """
            let fired = 0;
            exports.handler = (event, context, callback) => {
                if (event.nowait) context.callbackWaitsForEmptyEventLoop = false;
                setTimeout(() => { fired++; console.log('timer fired'); }, 300);
                callback(null, {fired, n: event.n});
            };
        """)
        self.start("index.handler")
        t0 = time.monotonic()
        self.assertEqual(self.result({"n": 1}), {"fired": 0, "n": 1})
        waited = time.monotonic() - t0
        self.assertGreaterEqual(waited, 0.28, "the result must wait for the pending timer")
        self.assertIn("timer fired", self.stdout())
        t0 = time.monotonic()
        self.assertEqual(self.result({"n": 2, "nowait": True}), {"fired": 1, "n": 2})
        self.assertLess(time.monotonic() - t0, 0.25, "callbackWaitsForEmptyEventLoop false")

    def test_callback_error_and_succeed_fail(self):
        self.write("index.js", """
            exports.handler = (event, context, callback) => {
                if (event.how === 'cb') return callback(new TypeError('bad input'));
                if (event.how === 'succeed') return context.succeed({s: 1});
                if (event.how === 'fail') return context.fail(new Error('failed'));
                callback(null, 'text');
            };
        """)
        self.start("index.handler")
        _, body = self.error({"how": "cb"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("TypeError", "bad input"))
        self.assertEqual(self.result({"how": "succeed"}), {"s": 1})
        _, body = self.error({"how": "fail"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("Error", "failed"))
        self.assertEqual(self.result({"how": "x"}), "text")

    def test_undefined_and_sync_returns_are_null(self):
        self.write("index.js", """
            exports.none = async () => undefined;
            exports.sync = () => 42;
            exports.str = async () => 'plain';
        """)
        self.start("index.none")
        self.assertIsNone(self.result({}))
        self.assertIsNone(self.result({}))
        self.tearDown()
        self.setUp()
        self.write("index.js", "exports.sync = () => 42;\n")
        self.start("index.sync")
        self.assertIsNone(self.result({}))

    def test_errors(self):
        self.write("index.js", """
            class CustomError extends Error {
                constructor(m) { super(m); this.name = 'CustomError'; }
            }
            class Plain extends Error {}
            exports.handler = async (event) => {
                if (event.t === 'error') throw new Error('boom');
                if (event.t === 'custom') throw new CustomError('custom boom');
                if (event.t === 'plain') throw new Plain('plain boom');
                if (event.t === 'string') throw 'just a string';
                if (event.t === 'number') throw 7;
                return Promise.reject(new RangeError('rejected'));
            };
        """)
        self.start("index.handler")
        rid, body = self.error({"t": "error"})
        self.assertEqual(set(body), {"errorType", "errorMessage", "trace"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("Error", "boom"))
        self.assertEqual(body["trace"][0], "Error: boom")
        self.assertTrue(any("index.js" in line for line in body["trace"][1:]), body["trace"])
        _, body = self.error({"t": "custom"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("CustomError", "custom boom"))
        _, body = self.error({"t": "plain"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("Error", "plain boom"))
        _, body = self.error({"t": "string"})
        self.assertEqual(body, {"errorType": "string", "errorMessage": "just a string", "trace": []})
        _, body = self.error({"t": "number"})
        self.assertEqual(body, {"errorType": "number", "errorMessage": "7", "trace": []})
        _, body = self.error({"t": "reject"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("RangeError", "rejected"))
        # The worker goes on after handled errors.
        self.assertTrue(self.proc.poll() is None)
        logged = [m.groups() for m in map(LOG_LINE.match, self.stdout().splitlines()) if m]
        self.assertIn((rid, "ERROR"), [(r, lvl) for r, lvl, msg in logged
                                       if msg.startswith("Invoke Error")])

    def test_uncaught_exception_fails_the_invocation_and_exits(self):
        self.write("index.js", """
            exports.handler = (event, context, callback) => {
                setTimeout(() => { throw new Error('late'); }, 10);
            };
        """)
        self.start("index.handler")
        _, body = self.error({})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("Error", "late"))
        self.proc.wait(WAIT)
        self.assertEqual(self.proc.returncode, 129)

    def test_unhandled_rejection(self):
        self.write("index.js", """
            exports.handler = async () => {
                Promise.reject(new Error('nobody catches me'));
                return new Promise(() => {});
            };
        """)
        self.start("index.handler")
        _, body = self.error({})
        self.assertEqual(body["errorType"], "Runtime.UnhandledPromiseRejection")
        self.assertEqual(body["errorMessage"], "Error: nobody catches me")
        self.proc.wait(WAIT)
        self.assertEqual(self.proc.returncode, 128)

    def test_promise_never_settles(self):
        self.write("index.js", "exports.handler = async () => new Promise(() => {});\n")
        self.start("index.handler")
        _, body = self.error({})
        self.assertEqual(body["errorType"], "Runtime.NodeJsExit")

    def test_console_lines_carry_the_request_id(self):
        self.write("index.js", """
            console.log('at init');
            exports.handler = async (event) => {
                console.log('hello %s', 'world', {a: 1});
                console.info('two\\nlines');
                console.warn('careful');
                console.error('bad');
                console.debug('dbg');
                return 1;
            };
        """)
        self.start("index.handler")
        rid = self.send({})
        self.assertEqual(self.outcome(rid)[0], "response")
        # split, not splitlines: "\r" inside a line is part of its message.
        lines = [LOG_LINE.match(line) for line in self.stdout().rstrip("\n").split("\n")]
        self.assertTrue(all(lines), self.stdout())
        got = [m.groups() for m in lines]
        self.assertEqual(got, [
            ("undefined", "INFO", "at init"),
            (rid, "INFO", "hello world { a: 1 }"),
            (rid, "INFO", "two\rlines"),
            (rid, "WARN", "careful"),
            (rid, "ERROR", "bad"),
            (rid, "DEBUG", "dbg"),
        ])

    def test_sequential_invocations_reuse_the_connection(self):
        self.write("index.js", "exports.handler = async (e) => e;\n")
        self.start("index.handler")
        rate, connections = self.many(200)
        self.assertLessEqual(connections, 2)
        self.assertGreater(rate, 50)

    def test_chunked_events_and_unicode(self):
        self.write("index.js", "exports.handler = async (e) => ({got: e, n: e.s.length});\n")
        self.api.chunked = True
        self.start("index.handler")
        event = {"s": "h\u00e9llo \u2603 \U0001f600 " * 300}
        self.assertEqual(self.result(event), {"got": event, "n": len(event["s"]) + 300})
        self.assertEqual(self.result({"s": ""}), {"got": {"s": ""}, "n": 0})

    def test_module_kinds(self):
        cases = [
            ("app.mjs", "export const handler = async () => 'mjs';\n", "app.handler", "mjs"),
            ("app.cjs", "exports.handler = async () => 'cjs';\n", "app.handler", "cjs"),
            ("app.js", "exports.handler = async () => 'cjs-js';\n", "app.handler", "cjs-js"),
            ("app", "exports.handler = async () => 'bare';\n", "app.handler", "bare"),
            ("src/lib/app.js", "exports.a = {b: {c: async () => 'nested'}};\n",
             "src/lib/app.a.b.c", "nested"),
            ("esm/app.js", "export async function handler() { return 'esm-js'; }\n",
             "esm/app.handler", "esm-js"),
            ("node_modules/pkgmod/index.js", "exports.handler = async () => 'resolved';\n",
             "pkgmod.handler", "resolved"),
        ]
        self.write("esm/package.json", '{"type": "module"}\n')
        for name, text, handler, want in cases:
            with self.subTest(handler=handler):
                self.write(name, text)
                self.start(handler)
                self.assertEqual(self.result({}), want)
                self.api.stop()
                self.proc.wait(WAIT)
                self.out.close()
                self.err.close()
                os.remove(os.path.join(self.root, name))
                self.api = FakeRuntimeAPI()
                self.proc = None

    def test_init_errors(self):
        cases = [
            ("missing.handler", None, None, "Runtime.ImportModuleError",
             "Error: Cannot find module 'missing'"),
            ("index.nothere", "index.js", "exports.handler = async () => 1;\n",
             "Runtime.HandlerNotFound", "index.nothere is undefined or not exported"),
            ("index.value", "index.js", "exports.value = 3;\n",
             "Runtime.HandlerNotFound", "index.value is not a function"),
            ("broken.handler", "broken.js", "exports.handler = async () => {;\n",
             "Runtime.UserCodeSyntaxError", "SyntaxError: "),
            ("broken.handler", "broken.mjs", "export const handler = ) => 1;\n",
             "Runtime.UserCodeSyntaxError", "SyntaxError: "),
            ("needs.handler", "needs.js", "require('no-such-package');\n",
             "Runtime.ImportModuleError", "Error: Cannot find module 'no-such-package'"),
            ("../up.handler", None, None, "Runtime.MalformedHandlerName",
             "'../up.handler' is not a valid handler name. Use absolute paths when "
             "specifying root directories in handler names."),
            ("nodot", None, None, "Runtime.MalformedHandlerName", "Bad handler"),
            ("throws.handler", "throws.js", "throw new TypeError('at load');\n",
             "TypeError", "at load"),
        ]
        for handler, name, text, etype, message in cases:
            with self.subTest(handler=handler, file=name):
                if name:
                    self.write(name, text)
                self.start(handler)
                body = self.init_error()
                self.assertEqual(body["errorType"], etype)
                self.assertTrue(body["errorMessage"].startswith(message), body["errorMessage"])
                self.assertIsInstance(body["trace"], list)
                self.assertEqual(self.api.outcomes, {})
                self.api.stop()
                self.out.close()
                self.err.close()
                if name:
                    os.remove(os.path.join(self.root, name))
                self.api = FakeRuntimeAPI()
                self.proc = None


class PythonClient(ClientCase, unittest.TestCase):
    LANG = "python"

    def test_result_and_context(self):
        self.write("app.py", """
            import os
            def handler(event, context):
                cc = context.client_context
                return {
                    "echo": event, "remaining": context.get_remaining_time_in_millis(),
                    "memory": context.memory_limit_in_mb, "id": context.aws_request_id,
                    "arn": context.invoked_function_arn, "name": context.function_name,
                    "version": context.function_version, "group": context.log_group_name,
                    "stream": context.log_stream_name,
                    "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                    "custom": cc and cc.custom, "env": cc and cc.env,
                    "app_title": cc and cc.client and cc.client.app_title,
                    "identity": [context.identity.cognito_identity_id,
                                 context.identity.cognito_identity_pool_id],
                }
        """)
        self.start("app.handler")
        deadline = int(time.time() * 1000) + 5000
        rid = self.send({"a": [1, "x"]}, deadline_ms=deadline,
                        Lambda_Runtime_Trace_Id="Root=1-abc")
        kind, res, _ = self.outcome(rid)
        self.assertEqual(kind, "response", res)
        self.assertEqual(res["echo"], {"a": [1, "x"]})
        self.assertEqual(res["memory"], "256")
        self.assertEqual(res["id"], rid)
        self.assertEqual(res["arn"], ARN)
        self.assertEqual((res["name"], res["version"]), ("fn", "$LATEST"))
        self.assertEqual((res["group"], res["stream"]), ("/aws/lambda/fn", "2024/01/01/[$LATEST]abc"))
        self.assertEqual(res["trace"], "Root=1-abc")
        self.assertIsNone(res["custom"])
        self.assertEqual(res["identity"], [None, None])
        self.assertLessEqual(res["remaining"], 5000)
        self.assertGreater(res["remaining"], 3000)
        cc = {"custom": {"k": "v"}, "env": {"locale": "en"},
              "client": {"app_title": "title", "installation_id": "i"}}
        ident = {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
        res = self.result({}, Lambda_Runtime_Client_Context=json.dumps(cc),
                          Lambda_Runtime_Cognito_Identity=json.dumps(ident))
        self.assertEqual((res["custom"], res["env"], res["app_title"]),
                         ({"k": "v"}, {"locale": "en"}, "title"))
        self.assertEqual(res["identity"], ["id-1", "pool-1"])
        self.assertIsNone(res["trace"])
        # A deadline already past reads 0, never negative.
        res = self.result({}, deadline_ms=int(time.time() * 1000) - 1000)
        self.assertEqual(res["remaining"], 0)

    def test_none_and_scalars(self):
        self.write("pkg/mod.py", """
            def handler(event, context):
                return event.get("v")
        """)
        self.start("pkg/mod.handler")
        self.assertIsNone(self.result({}))
        self.assertEqual(self.result({"v": "s"}), "s")
        self.assertEqual(self.result({"v": [1.5, True]}), [1.5, True])

    def test_exception_body(self):
        self.write("app.py", """
            class MyError(Exception):
                pass

            def inner(kind):
                if kind == "value":
                    raise ValueError("boom")
                raise MyError("mine")

            def handler(event, context):
                return inner(event["kind"])
        """)
        self.start("app.handler")
        rid, body = self.error({"kind": "value"})
        self.assertEqual(list(body), ["errorMessage", "errorType", "requestId", "stackTrace"])
        self.assertEqual(body["errorMessage"], "boom")
        self.assertEqual(body["errorType"], "ValueError")
        self.assertEqual(body["requestId"], rid)
        app = os.path.join(self.root, "app.py")
        # traceback.format_list's frames (Python 3.11+ adds a line of carets under some).
        self.assertEqual(len(body["stackTrace"]), 2, body["stackTrace"])
        self.assertTrue(body["stackTrace"][0].startswith(
            '  File "%s", line 11, in handler\n    return inner(event["kind"])\n' % app))
        self.assertTrue(body["stackTrace"][1].startswith(
            '  File "%s", line 7, in inner\n    raise ValueError("boom")\n' % app))
        _, body = self.error({"kind": "mine"})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("MyError", "mine"))
        _, body = self.error({})
        self.assertEqual((body["errorType"], body["errorMessage"]), ("KeyError", "'kind'"))
        self.assertIn("[ERROR] ValueError: boom", self.stdout())
        self.assertTrue(self.proc.poll() is None)

    def test_marshal_error(self):
        self.write("app.py", "def handler(e, c):\n    return {1, 2}\n")
        self.start("app.handler")
        _, body = self.error({})
        self.assertEqual(body["errorType"], "Runtime.MarshalError")
        self.assertTrue(body["errorMessage"].startswith("Unable to marshal response: "))

    def test_init_errors(self):
        cases = [
            ("missing.handler", None, None, "Runtime.ImportModuleError",
             "Unable to import module 'missing': No module named 'missing'"),
            ("app.nothere", "app.py", "def handler(e, c):\n    return 1\n",
             "Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'app'"),
            ("broken.handler", "broken.py", "def handler(e, c):\n    return (\n",
             "Runtime.UserCodeSyntaxError", "Syntax error in module 'broken': "),
            ("sys.handler", None, None, "Runtime.BuiltInModuleConflict",
             "Cannot use built-in module sys as a handler module"),
            ("nodot", None, None, "Runtime.MalformedHandlerName",
             "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)"),
            ("../up.handler", None, None, "Runtime.MalformedHandlerName",
             "Bad handler '../up.handler'"),
            ("needs.handler", "needs.py", "import no_such_package\n",
             "Runtime.ImportModuleError",
             "Unable to import module 'needs': No module named 'no_such_package'"),
            ("raises.handler", "raises.py", "raise RuntimeError('at load')\n",
             "RuntimeError", "at load"),
        ]
        for handler, name, text, etype, message in cases:
            with self.subTest(handler=handler):
                if name:
                    self.write(name, text)
                self.start(handler)
                body = self.init_error()
                self.assertEqual(body["errorType"], etype)
                self.assertTrue(body["errorMessage"].startswith(message), body["errorMessage"])
                self.assertEqual(body["requestId"], "")
                self.assertIsInstance(body["stackTrace"], list)
                self.api.stop()
                self.out.close()
                self.err.close()
                if name:
                    os.remove(os.path.join(self.root, name))
                self.api = FakeRuntimeAPI()
                self.proc = None

    def test_logging_and_print(self):
        self.write("app.py", """
            import logging
            logger = logging.getLogger()
            logger.setLevel(logging.INFO)
            def handler(event, context):
                print("plain print")
                logger.info("info %s", "here")
                logging.getLogger("child").warning("careful")
                context.log("from context\\n")
                return 1
        """)
        self.start("app.handler")
        rid = self.send({})
        self.assertEqual(self.outcome(rid)[0], "response")
        lines = self.stdout().splitlines()
        self.assertEqual(lines[0], "plain print")
        self.assertEqual([m.groups() for m in map(PY_LOG_LINE.match, lines[1:3])],
                         [("INFO", rid, "info here"), ("WARNING", rid, "careful")])
        self.assertEqual(lines[3:], ["from context"])

    def test_sequential_invocations_reuse_the_connection(self):
        self.write("app.py", "def handler(e, c):\n    return e\n")
        self.start("app.handler")
        rate, connections = self.many(200)
        self.assertLessEqual(connections, 2)
        self.assertGreater(rate, 50)

    def test_chunked_events_and_unicode(self):
        self.write("app.py", "def handler(e, c):\n    return {'got': e, 'n': len(e['s'])}\n")
        self.api.chunked = True
        self.start("app.handler")
        event = {"s": "h\u00e9llo \u2603 \U0001f600 " * 300}
        self.assertEqual(self.result(event), {"got": event, "n": len(event["s"])})


def main():
    argv = list(sys.argv)
    if "--baton" in argv:
        i = argv.index("--baton")
        del argv[i:i + 2]
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
