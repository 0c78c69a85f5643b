"""Plumbing for the server's integration tests: start the real `baton serve` on 127.0.0.1
with a free port and a scratch data folder, wait until it says where it listens, stop it
(SIGTERM) or kill it (SIGKILL), and make AWS clients that point at it.

A test module uses it as
    import servertest
    class T(servertest.ServerTestCase): ...
    if __name__ == "__main__": servertest.main()
and is run as `python3 test_x.py --baton path/to/baton` (ctest does so).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import batontest

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/baton-test"


def main():
    batontest.main()


def boto3_or_skip():
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError:
        raise unittest.SkipTest("boto3 is not installed for this Python")
    return sys.modules["boto3"]


class Server:
    """One `baton serve` process."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.url = None
        self.log_path = os.path.join(os.path.dirname(data_dir), "server.log")

    def start(self, timeout=10.0):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [batontest.BATON, "serve", "--listen", "127.0.0.1:0", "--data", self.data_dir,
             "--log-level", "debug"] + self.extra_args,
            stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"serving at (http://\S+)", line)
        if not m:
            self.proc.wait(timeout)
            raise AssertionError("baton serve did not start: %r (log: %s)" %
                                 (line, self.read_log()))
        self.url = m.group(1)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("no /health answer from " + self.url)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(20)
            self.proc.stdout.close()
            self.log.close()
            self.proc = None
            return rc
        return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(20)
            self.proc.stdout.close()
            self.log.close()
        self.proc = None


class ServerTestCase(unittest.TestCase):
    """Starts a server per test; clients from boto3 (skips when boto3 is absent)."""

    server_args = ()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="baton-srv-")
        self.server = Server(os.path.join(self.dir, "data"), self.server_args).start()

    def tearDown(self):
        try:
            rc = self.server.stop()
            if rc is not None:
                self.assertEqual(rc, 0, "baton serve exited %r on SIGTERM" % rc)
        finally:
            self.server.kill()
            shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self, kill=False):
        if kill:
            self.server.kill()
        else:
            self.assertEqual(self.server.stop(), 0)
        self.server = Server(self.server.data_dir, self.server_args).start()
        self._clients = {}

    def client(self, service):
        boto3 = boto3_or_skip()
        from botocore.config import Config
        cache = self.__dict__.setdefault("_clients", {})
        key = (service, self.server.url)
        if key not in cache:
            cache[key] = boto3.client(
                service, endpoint_url=self.server.url, region_name=REGION,
                aws_access_key_id="AKIDBATONTEST", aws_secret_access_key="secret",
                config=Config(retries={"max_attempts": 1}))
        return cache[key]

    def raw(self, target, body, content_type="application/x-amz-json-1.0"):
        """Posts a raw AWS JSON 1.0 request; returns (status, parsed body)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.server.url + "/", data=data, method="POST",
                                     headers={"Content-Type": content_type,
                                              "X-Amz-Target": target})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def wait_status(self, sfn, arn, want, timeout=15.0):
        deadline = time.time() + timeout
        while True:
            d = sfn.describe_execution(executionArn=arn)
            if d["status"] == want or time.time() > deadline:
                self.assertEqual(d["status"], want, d)
                return d
            time.sleep(0.05)
