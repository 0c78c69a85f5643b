"""Serving one of the examples/ projects as a user would (`baton serve --config
examples/<name>/<file>`), from a copy in a scratch folder: the file's default address
(http://127.0.0.1:8083, in public_url and wherever the links point) is moved to a free port,
the caller may change the copy's text (a shorter timeout, an `smtp:` section), and
node_modules may be linked in from npmcache."""

import os
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import servertest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")
DEFAULT_URL = "http://127.0.0.1:8083"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_section(port):
    return ("\nsmtp:\n  host: 127.0.0.1\n  port: %d\n  starttls: false\n"
            "  from: workflow@example.com\n" % port)


class ExampleTestCase(servertest.ServerTestCase):
    """Each test calls serve(); tearDown stops the server and removes the copy."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="baton-example-")
        self.server = servertest.Server(os.path.join(self.dir, "data"))  # not started yet

    def serve(self, example, name="baton.yaml", edits=None, modules=None, env=None):
        """Copies examples/<example> and serves its file name. edits maps a file of the
        copy to a function of its text (the new text); modules is a node_modules folder."""
        project = os.path.join(self.dir, example)
        shutil.copytree(os.path.join(EXAMPLES, example), project,
                        ignore=shutil.ignore_patterns("node_modules"))
        if modules:
            os.symlink(modules, os.path.join(project, "node_modules"))
        port = free_port()
        self.url = "http://127.0.0.1:%d" % port
        files = dict(edits or {})
        files.setdefault(name, lambda t: t)
        for fname, edit in files.items():
            path = os.path.join(project, fname)
            with open(path) as f:
                text = f.read()
            new = edit(text)
            if fname in (edits or {}):
                self.assertNotEqual(new, text, "the edit of %s changed nothing" % fname)
            if fname == name:
                self.assertIn("public_url: " + DEFAULT_URL + "\n", text)
                new = new.replace(DEFAULT_URL, self.url)
            with open(path, "w") as f:
                f.write(new)
        self.server_args = ["--config", os.path.join(project, name),
                            "--listen", "127.0.0.1:%d" % port]
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            self.server = servertest.Server(os.path.join(self.dir, "data"),
                                            self.server_args).start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.assertEqual(self.server.url, self.url)
        self._clients = {}
        self.sfn = self.client("stepfunctions")

    def kill_and_restart(self):
        """kill -9, then the same data folder, file and address."""
        self.server.kill()
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        self.server_args).start()
        self.assertEqual(self.server.url, self.url)
        self._clients = {}
        self.sfn = self.client("stepfunctions")

    def http(self, path, data=None):
        """(status, text) of a GET, or of a form POST when data is given."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.url + path, data=body)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_for(self, what, fn, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail("no %s within %d s; server log:\n%s" % (what, timeout, self.server.read_log()))

    def executions(self, machine):
        return self.sfn.list_executions(stateMachineArn=machine)["executions"]

    def ended(self, arn, timeout=60):
        def done():
            d = self.sfn.describe_execution(executionArn=arn)
            return d if d["status"] != "RUNNING" else None
        return self.wait_for("the end of " + arn, done, timeout)

    def history(self, arn):
        return self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
