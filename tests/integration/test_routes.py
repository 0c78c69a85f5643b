"""The project file's HTTP routes over the real server, as API Gateway REST serves them:
a non-proxy route with the case study's request template (the event the function got is
checked), passthrough without a template, the proxy event (payload 1.0) and the proxy
response contract with its 502, API Gateway's 403 for unknown paths while Baton's own paths
keep their answers, the confirmation flow of `confirm: true` (GET and HEAD never invoke,
the nonce works once, also across a kill -9 on either side of its POST, a forged one is
refused) and a SIGHUP that adds and removes a route."""
import html
import json
import os
import re
import shutil
import signal
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import servertest

# Records each event it gets in a file (one JSON line per invocation) and answers by mode.
FUNCTION = """import json, os
def handler(event, context):
    with open(os.environ["EVENTS"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    mode = os.environ.get("MODE", "echo")
    if mode == "echo":
        return event
    if mode == "proxy":
        if event.get("queryStringParameters") and "answer" in event["queryStringParameters"]:
            return json.loads(event["queryStringParameters"]["answer"])
        return {"statusCode": 201, "headers": {"X-Test": "yes", "Content-Type": "text/plain"},
                "multiValueHeaders": {"X-Multi": ["a", "b"]}, "body": "made"}
    if mode == "fail":
        raise ValueError("no good")
"""

TEMPLATE = ('{"requestId": "$input.params(\'requestId\')", "timestamp": '
            '"$input.params(\'timestamp\')", "token": "$input.params(\'token\')"}')

PROJECT = """version: 1
functions:
  verification-success:
    runtime: python3.12
    handler: index.handler
    code: fn
    environment: {EVENTS: %(events)s, MODE: echo}
  echo-proxy:
    runtime: python3.12
    handler: index.handler
    code: fn
    environment: {EVENTS: %(proxy_events)s, MODE: proxy}
  failing:
    runtime: python3.12
    handler: index.handler
    code: fn
    environment: {EVENTS: %(fail_events)s, MODE: fail}
routes:
  - method: GET
    path: /verification
    function: verification-success
    request_template: %(template)s
  - {method: GET, path: /mapped, function: verification-success, request_template: {taskToken: "$input.params('token')"}}
  - {method: POST, path: /pass, function: verification-success}
  - {method: ANY, path: "/things/{id}", function: echo-proxy, proxy: true}
  - {method: GET, path: /failing, function: failing}
  - {method: GET, path: /failing-proxy, function: failing, proxy: true}
  - {method: GET, path: /approve, function: verification-success, confirm: true, request_template: {token: "$input.params('token')"}}
%(extra)s"""


def request(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Routes(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="baton-routes-")
        os.mkdir(os.path.join(self.dir, "fn"))
        with open(os.path.join(self.dir, "fn", "index.py"), "w") as f:
            f.write(FUNCTION)
        self.events = os.path.join(self.dir, "events")
        self.proxy_events = os.path.join(self.dir, "proxy_events")
        self.fail_events = os.path.join(self.dir, "fail_events")
        self.path = os.path.join(self.dir, "baton.yaml")
        self.write_project()
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        ["--config", self.path]).start()
        self.url = self.server.url

    def tearDown(self):
        self.server.stop()
        self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_project(self, extra=""):
        with open(self.path, "w") as f:
            f.write(PROJECT % {"events": self.events, "proxy_events": self.proxy_events,
                               "fail_events": self.fail_events,
                               "template": json.dumps(TEMPLATE), "extra": extra})

    def received(self, path):
        try:
            with open(path) as f:
                return [json.loads(line) for line in f]
        except OSError:
            return []

    # ---- non-proxy ----

    def test_case_study_template(self):
        token = "AAAA+bb/cc=="
        want = {"requestId": "r-1", "timestamp": "2026-12-01T10:00:00Z", "token": token}
        q = urllib.parse.urlencode({"requestId": "r-1", "timestamp": "2026-12-01T10:00:00Z",
                                    "token": token})
        st, h, body = request(self.url + "/verification?" + q)
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body), want)
        self.assertEqual(self.received(self.events)[-1], want)
        self.assertIn("x-amzn-RequestId", h)

    def test_mapping_template_and_passthrough(self):
        st, _, body = request(self.url + "/mapped?token=t%2B1")
        self.assertEqual((st, json.loads(body)), (200, {"taskToken": "t+1"}))
        st, _, body = request(self.url + "/pass", "POST", b'{"a": [1, 2]}',
                              {"Content-Type": "application/json"})
        self.assertEqual((st, json.loads(body)), (200, {"a": [1, 2]}))
        self.assertEqual(self.received(self.events), [{"taskToken": "t+1"}, {"a": [1, 2]}])
        st, _, body = request(self.url + "/pass", "POST", b"")
        self.assertEqual((st, json.loads(body)), (200, {}))

    def test_function_error_non_proxy(self):
        # API Gateway's default integration response: the error object with 200.
        st, _, body = request(self.url + "/failing")
        self.assertEqual(st, 200)
        err = json.loads(body)
        self.assertEqual((err["errorType"], err["errorMessage"]), ("ValueError", "no good"))

    # ---- proxy ----

    def test_proxy_event_and_response(self):
        st, h, body = request(self.url + "/things/42?a=1&a=2&b=x%20y", "PUT", b"hello",
                              {"X-Custom": "v", "Content-Type": "text/plain"})
        self.assertEqual((st, body), (201, b"made"))
        self.assertEqual(h["X-Test"], "yes")
        self.assertEqual(h["X-Multi"], "a, b")
        self.assertEqual(h["Content-Type"], "text/plain")
        ev = self.received(self.proxy_events)[-1]
        self.assertEqual(sorted(ev), sorted([
            "resource", "path", "httpMethod", "headers", "multiValueHeaders",
            "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
            "stageVariables", "requestContext", "body", "isBase64Encoded"]))
        self.assertEqual(ev["resource"], "/things/{id}")
        self.assertEqual(ev["path"], "/things/42")
        self.assertEqual(ev["httpMethod"], "PUT")
        self.assertEqual(ev["headers"]["X-Custom"], "v")
        self.assertEqual(ev["multiValueHeaders"]["X-Custom"], ["v"])
        self.assertEqual(ev["queryStringParameters"], {"a": "2", "b": "x y"})
        self.assertEqual(ev["multiValueQueryStringParameters"], {"a": ["1", "2"], "b": ["x y"]})
        self.assertEqual(ev["pathParameters"], {"id": "42"})
        self.assertIsNone(ev["stageVariables"])
        self.assertEqual(ev["body"], "hello")
        self.assertIs(ev["isBase64Encoded"], False)
        rc = ev["requestContext"]
        self.assertEqual(rc["httpMethod"], "PUT")
        self.assertEqual(rc["resourcePath"], "/things/{id}")
        self.assertEqual(rc["accountId"], servertest.ACCOUNT)
        self.assertEqual(rc["identity"]["sourceIp"], "127.0.0.1")
        self.assertEqual(rc["protocol"], "HTTP/1.1")
        self.assertTrue(re.match(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$",
                                 rc["requestTime"]), rc["requestTime"])
        self.assertAlmostEqual(rc["requestTimeEpoch"] / 1000, time.time(), delta=30)

        # No query, no body: null, not {}.
        st, _, _ = request(self.url + "/things/7")
        self.assertEqual(st, 201)
        ev = self.received(self.proxy_events)[-1]
        self.assertIsNone(ev["queryStringParameters"])
        self.assertIsNone(ev["multiValueQueryStringParameters"])
        self.assertIsNone(ev["body"])

    def test_proxy_contract(self):
        def answer(obj):
            q = urllib.parse.urlencode({"answer": json.dumps(obj)})
            return request(self.url + "/things/1?" + q)
        self.assertEqual(answer({"statusCode": 200})[0::2], (200, b""))
        self.assertEqual(answer({"statusCode": "204"})[0], 204)
        self.assertEqual(answer({"headers": {"h": True}})[0], 200)
        self.assertEqual(answer({"headers": {"h": True}})[1]["h"], "true")
        for bad in ({}, "justAString", {"statusCode": "test"},
                    {"statusCode": 200, "wrongValue": "value"},
                    {"multiValueHeaders": {"x": "v"}}):
            st, h, body = answer(bad)
            self.assertEqual((st, json.loads(body)), (502, {"message": "Internal server error"}),
                             bad)
        st, _, body = request(self.url + "/failing-proxy")
        self.assertEqual((st, json.loads(body)), (502, {"message": "Internal server error"}))

    # ---- unknown paths ----

    def test_unknown_route_and_baton_paths(self):
        for method, path in (("GET", "/nowhere"), ("POST", "/verification"),
                             ("DELETE", "/mapped")):
            st, h, body = request(self.url + path, method, b"" if method != "GET" else None)
            self.assertEqual((st, json.loads(body)),
                             (403, {"message": "Missing Authentication Token"}), path)
            self.assertEqual(h["x-amzn-ErrorType"], "MissingAuthenticationTokenException")
        st, _, body = request(self.url + "/health")
        self.assertEqual(st, 200)
        st, _, body = request(self.url + "/", "POST", b"{}", {"Content-Type": "application/json"})
        self.assertEqual(st, 404)
        self.assertIn(b"UnknownOperationException", body)
        st, _, _ = request(self.url + "/outbox")
        self.assertEqual(st, 200)
        st, _, body = request(self.url + "/baton/nothing")
        self.assertEqual(st, 404)
        self.assertIn(b"UnknownOperationException", body)
        st, _, body = request(self.url + "/", "POST", b"{}",
                              {"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                               "Content-Type": "application/x-amz-json-1.0"})
        self.assertEqual(st, 200, body)
        self.assertIn("stateMachines", json.loads(body))

    # ---- confirm ----

    def nonce(self, page):
        m = re.search(rb'name="nonce" value="([^"]+)"', page)
        self.assertIsNotNone(m, page)
        return html.unescape(m.group(1).decode())

    def test_confirm_flow(self):
        q = "token=" + urllib.parse.quote("<t&1>", safe="")
        st, h, page = request(self.url + "/approve?" + q)
        self.assertEqual(st, 200)
        self.assertTrue(h["Content-Type"].startswith("text/html"))
        self.assertIn(b"Confirm: GET /approve", page)
        self.assertIn(b"&lt;t&amp;1&gt;", page)
        self.assertNotIn(b"<t&1>", page)
        # A relative action: the form posts to the page's own URL, also behind a proxy that
        # serves Baton under a path prefix.
        action = re.search(rb'<form method="post" action="([^"]*)"', page).group(1).decode()
        self.assertEqual(action, "?" + html.escape(q))
        for base in (self.url + "/approve?" + q, "https://host/prefix/approve?" + q):
            self.assertEqual(urllib.parse.urljoin(base, html.unescape(action)), base)
        st, _, _ = request(self.url + "/approve?" + q, "HEAD")
        self.assertEqual(st, 200)
        time.sleep(0.5)
        self.assertEqual(self.received(self.events), [])  # GET and HEAD ran nothing
        nonce = self.nonce(page)

        # Another link's nonce, a forged one, none: refused, and nothing runs.
        for bad in (nonce[:-2] + ("AA" if not nonce.endswith("AA") else "BB"), "", "1.2.3"):
            st, _, body = request(self.url + "/approve?" + q, "POST",
                                  urllib.parse.urlencode({"nonce": bad}).encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(st, 403, body)
        st, _, body = request(self.url + "/approve?token=other", "POST",
                              urllib.parse.urlencode({"nonce": nonce}).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 403, body)
        self.assertEqual(self.received(self.events), [])

        form = urllib.parse.urlencode({"nonce": nonce}).encode()
        st, h, body = request(self.url + "/approve?" + q, "POST", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200, body)
        self.assertIn(b"Done", body)
        self.assertIn(b"&quot;token&quot;: &quot;&lt;t&amp;1&gt;&quot;", body)
        self.assertEqual(self.received(self.events), [{"token": "<t&1>"}])

        st, _, body = request(self.url + "/approve?" + q, "POST", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 403)
        self.assertIn(b"used", body)
        self.assertEqual(len(self.received(self.events)), 1)

    def restart_killed(self):
        self.server.kill()
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        ["--config", self.path]).start()
        self.url = self.server.url

    def test_confirm_survives_kill(self):
        q = "token=after-crash"
        st, _, page = request(self.url + "/approve?" + q)
        self.assertEqual(st, 200)
        form = urllib.parse.urlencode({"nonce": self.nonce(page)}).encode()
        ctype = {"Content-Type": "application/x-www-form-urlencoded"}
        self.restart_killed()  # kill -9 between the page and its POST
        st, _, body = request(self.url + "/approve?" + q, "POST", form, ctype)
        self.assertEqual(st, 200, body)
        self.assertIn(b"Done", body)
        self.assertEqual(self.received(self.events), [{"token": "after-crash"}])
        self.restart_killed()  # the use is durable: a replay after a crash is refused
        st, _, body = request(self.url + "/approve?" + q, "POST", form, ctype)
        self.assertEqual(st, 403, body)
        self.assertIn(b"used", body)
        time.sleep(0.3)
        self.assertEqual(len(self.received(self.events)), 1)
        # a page shown after the restarts still works, once
        st, _, page = request(self.url + "/approve?" + q)
        form2 = urllib.parse.urlencode({"nonce": self.nonce(page)}).encode()
        st, _, body = request(self.url + "/approve?" + q, "POST", form2, ctype)
        self.assertEqual(st, 200, body)
        self.assertEqual(len(self.received(self.events)), 2)

    # ---- reload ----

    def test_reload_adds_and_removes_a_route(self):
        self.assertEqual(request(self.url + "/late?token=a")[0], 403)
        self.write_project("  - {method: GET, path: /late, function: verification-success, "
                           "request_template: {t: \"$input.params('token')\"}}\n")
        self.hup()
        st, _, body = request(self.url + "/late?token=a")
        self.assertEqual((st, json.loads(body)), (200, {"t": "a"}))
        self.write_project()
        self.hup()
        self.assertEqual(request(self.url + "/late?token=a")[0], 403)
        self.assertEqual(request(self.url + "/mapped?token=b")[0], 200)

    def hup(self):
        def count():
            with open(self.server.log_path, "rb") as f:
                return f.read().count(b"project.applied")
        before = count()
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and count() == before:
            time.sleep(0.05)
        self.assertGreater(count(), before, self.server.read_log())


if __name__ == "__main__":
    servertest.main()
