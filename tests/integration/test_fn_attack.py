#!/usr/bin/env python3
"""Hostile and careless use of functions against `baton serve`: what each test here drives
once broke the server (a lost invocation, a leaked process, a hijacked Runtime API, …); each
asserts the behaviour now expected. Functions are folders made here (Code.LocalPath) holding
Python handlers or `provided` bootstraps; requests go raw over HTTP so that malformed ones
can be sent.
"""

import json
import os
import socket
import time
import urllib.error
import urllib.request

import servertest

ROLE = servertest.ROLE


class FnAttack(servertest.ServerTestCase):

    def api(self, method, path, body=None, headers=None, timeout=30):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.server.url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def code_dir(self, files):
        d = os.path.join(self.dir, "code-%d" % len(os.listdir(self.dir)))
        os.makedirs(d)
        for name, (text, mode) in files.items():
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, mode)
        return d

    def create(self, name, files, runtime="python3.12", handler="index.handler", **kw):
        body = {"FunctionName": name, "Runtime": runtime, "Role": ROLE, "Handler": handler,
                "Code": {"LocalPath": self.code_dir(files)}}
        body.update(kw)
        st, _, out = self.api("POST", "/2015-03-31/functions", body)
        self.assertEqual(st, 201, out)
        return json.loads(out)

    def invoke(self, name, payload=b"{}", kind="RequestResponse", timeout=30):
        return self.api("POST", "/2015-03-31/functions/%s/invocations" % name, payload,
                        {"X-Amz-Invocation-Type": kind}, timeout=timeout)

    def wait_for(self, pred, timeout=15.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError("timed out waiting for " + what)

    # ---- Event invocations ----

    def test_event_on_a_warm_worker_runs_once(self):
        out = os.path.join(self.dir, "events.txt")
        src = ("import json\n"
               "def handler(event, context):\n"
               "    with open(%r, 'a') as f:\n"
               "        f.write(json.dumps([event, context.aws_request_id]) + '\\n')\n"
               "    return event\n" % out)
        self.create("ev", {"index.py": (src, 0o644)})
        st, _, body = self.invoke("ev", b'{"warm": 1}')
        self.assertEqual(st, 200, body)
        # The warm worker is now waiting in /next: an Event goes straight to it.
        time.sleep(0.3)
        st, h, _ = self.invoke("ev", b'{"n": 2}', kind="Event")
        self.assertEqual(st, 202)
        rid = h.get("x-amzn-RequestId") or h.get("X-Amzn-Requestid")

        def lines():
            try:
                with open(out) as f:
                    return [json.loads(x) for x in f.read().splitlines()]
            except OSError:
                return []
        self.wait_for(lambda: len(lines()) >= 2, what="the event to run")
        time.sleep(1.5)
        got = lines()
        self.assertEqual([g[0] for g in got], [{"warm": 1}, {"n": 2}])
        self.assertEqual(got[1][1], rid)
        logs = self.api("GET", "/baton/functions/ev/logs?lines=100")[2].decode()
        self.assertIn("END RequestId: " + rid, logs)
        self.assertNotIn("Task timed out", logs)

    # ---- logs ----

    def test_logs_with_a_huge_line_count(self):
        self.create("quiet", {"index.py": ("def handler(e, c):\n    print('said', e)\n"
                                           "    return e\n", 0o644)})
        self.assertEqual(self.invoke("quiet", b"7")[0], 200)
        for lines in ("999999999999", "18446744073709551615", "-5", "x"):
            st, _, body = self.api("GET", "/baton/functions/quiet/logs?lines=" + lines)
            self.assertEqual(st, 200, lines)
            self.assertIn(b"said 7", body)

    # ---- processes ----

    def alive(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False

    def test_children_of_an_exited_worker_are_killed(self):
        pidfile = os.path.join(self.dir, "child.pid")
        boot = ("#!/usr/bin/env python3\n"
                "import os, subprocess, sys, urllib.request\n"
                "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/'\n"
                "urllib.request.urlopen(api + 'invocation/next').read()\n"
                "c = subprocess.Popen(['sleep', '300'], stdout=subprocess.DEVNULL,\n"
                "                     stderr=subprocess.DEVNULL)\n"
                "open(%r, 'w').write(str(c.pid))\n"
                "os._exit(3)\n" % pidfile)
        self.create("forker", {"bootstrap": (boot, 0o755)}, runtime="provided.al2023")
        st, h, body = self.invoke("forker")
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body)["errorType"], "Runtime.ExitError")
        pid = int(open(pidfile).read())
        self.addCleanup(self.kill_quietly, pid)
        self.wait_for(lambda: not self.alive(pid), timeout=5, what="the child to be killed")

    def test_exec_background_children_are_killed(self):
        pidfile = os.path.join(self.dir, "child.pid")
        run = "#!/bin/sh\nsleep 300 >/dev/null 2>&1 &\necho $! > %s\necho '{\"ok\": 1}'\n" % pidfile
        self.create("bg", {"run.sh": (run, 0o755)}, runtime="exec", handler="run.sh")
        st, _, body = self.invoke("bg")
        self.assertEqual((st, json.loads(body)), (200, {"ok": 1}))
        pid = int(open(pidfile).read())
        self.addCleanup(self.kill_quietly, pid)
        self.wait_for(lambda: not self.alive(pid), timeout=5, what="the child to be killed")

    def kill_quietly(self, pid):
        try:
            os.kill(pid, 9)
        except OSError:
            pass

    def test_children_ignoring_sigterm_die_when_the_server_stops(self):
        pidfile = os.path.join(self.dir, "child.pid")
        boot = ("#!/usr/bin/env python3\n"
                "import os, signal, subprocess, urllib.request\n"
                "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/'\n"
                "c = subprocess.Popen(['python3', '-c', 'import signal, time; "
                "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'])\n"
                "open(%r, 'w').write(str(c.pid))\n"
                "while True:\n"
                "    r = urllib.request.urlopen(api + 'invocation/next')\n"
                "    rid = r.headers['Lambda-Runtime-Aws-Request-Id']\n"
                "    urllib.request.urlopen(urllib.request.Request(\n"
                "        api + 'invocation/' + rid + '/response', data=b'1', method='POST')).read()\n"
                % pidfile)
        self.create("stubborn", {"bootstrap": (boot, 0o755)}, runtime="provided.al2023")
        st, _, body = self.invoke("stubborn")
        self.assertEqual((st, body), (200, b"1"))
        pid = int(open(pidfile).read())
        self.addCleanup(self.kill_quietly, pid)
        time.sleep(0.3)
        self.assertTrue(self.alive(pid))
        self.assertEqual(self.server.stop(), 0)
        self.wait_for(lambda: not self.alive(pid), timeout=5, what="the child to be killed")

    def test_a_worker_dies_with_a_killed_server(self):
        # kill -9 leaves the server no time to stop its workers: the parent-death signal
        # (set by `baton __spawn` before the worker's program runs) ends them.
        pidfile = os.path.join(self.dir, "worker.pid")
        boot = ("#!/usr/bin/env python3\n"
                "import os, urllib.request\n"
                "open(%r, 'w').write(str(os.getpid()))\n"
                "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/'\n"
                "while True:\n"
                "    r = urllib.request.urlopen(api + 'invocation/next')\n"
                "    rid = r.headers['Lambda-Runtime-Aws-Request-Id']\n"
                "    urllib.request.urlopen(urllib.request.Request(\n"
                "        api + 'invocation/' + rid + '/response', data=b'2', method='POST')).read()\n"
                % pidfile)
        self.create("orphan", {"bootstrap": (boot, 0o755)}, runtime="provided.al2023")
        st, _, body = self.invoke("orphan")
        self.assertEqual((st, body), (200, b"2"))
        pid = int(open(pidfile).read())
        self.addCleanup(self.kill_quietly, pid)
        self.assertTrue(self.alive(pid))
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            self.assertIn(b"bootstrap", f.read())  # the launcher became the worker
        self.server.kill()
        self.wait_for(lambda: not self.alive(pid), timeout=5, what="the worker to die")
        # A missing program still fails the invocation (not a launcher's exit status).
        self.server.start()
        self.create("missing", {"bootstrap": ("", 0o644)}, runtime="provided.al2023")
        st, headers, body = self.invoke("missing")
        self.assertEqual(st, 200)
        self.assertEqual(headers.get("X-Amz-Function-Error"), "Unhandled", body)

    # ---- the Runtime API ----

    def test_another_process_cannot_take_a_workers_events(self):
        portfile = os.path.join(self.dir, "port")
        boot = ("#!/usr/bin/env python3\n"
                "import os, time, urllib.request\n"
                "open(%r, 'w').write(os.environ['AWS_LAMBDA_RUNTIME_API'])\n"
                "time.sleep(1.0)\n"
                "api = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/'\n"
                "while True:\n"
                "    r = urllib.request.urlopen(api + 'invocation/next')\n"
                "    rid = r.headers['Lambda-Runtime-Aws-Request-Id']\n"
                "    body = b'\"worker saw ' + r.read() + b'\"'\n"
                "    urllib.request.urlopen(urllib.request.Request(\n"
                "        api + 'invocation/' + rid + '/response', data=body, method='POST')).read()\n"
                % portfile)
        self.create("victim", {"bootstrap": (boot, 0o755)}, runtime="provided.al2023",
                    Timeout=10)
        import threading
        result = {}
        t = threading.Thread(target=lambda: result.update(r=self.invoke("victim", b"42")))
        t.start()
        self.wait_for(lambda: os.path.exists(portfile) and open(portfile).read(),
                      what="the worker's port")
        host, port = open(portfile).read().split(":")
        s = socket.create_connection((host, int(port)), timeout=5)
        stolen = b""
        try:
            s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(3)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                stolen += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        finally:
            s.close()
        t.join(15)
        self.assertNotIn(b"200 OK", stolen)
        self.assertEqual(result["r"][0], 200)
        self.assertEqual(result["r"][2], b'"worker saw 42"')

    def test_a_response_over_the_limit_ends_the_invocation(self):
        self.create("huge", {"index.py": ("def handler(e, c):\n"
                                          "    return 'x' * (7 * 1024 * 1024)\n", 0o644)},
                    Timeout=20)
        t = time.time()
        st, h, body = self.invoke("huge")
        self.assertEqual(st, 200)
        self.assertEqual(h.get("X-Amz-Function-Error"), "Unhandled")
        self.assertEqual(json.loads(body), {
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
                            "(6291556 bytes)."})
        self.assertLess(time.time() - t, 10)


if __name__ == "__main__":
    servertest.main()
