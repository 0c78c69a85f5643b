#!/usr/bin/env python3
"""The newcomer's path of the README, exactly as `make run` serves it: `baton serve --config
examples/verification/baton.yaml` (the file as it is, only its address moved to a free port)
→ the schedule starts the first execution at once → the approval mail is in the outbox →
its link (GET) shows a confirmation page and changes nothing → the form's POST runs
lambda-for-verification-success, which answers the task token → the execution SUCCEEDED
with lambda-for-processing's result. And the second variant (workshop.yaml): the mail's
rejection link → lambda-for-verification-failure (SendTaskFailure) → Catch → the "Notify
Failure" mail, and the execution FAILED with VerificationFailed.

Needs node and npm (skipped without them or without the registry)."""

import html
import json
import os
import re
import shutil
import socket
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import npmcache
import servertest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "verification")
PACKAGES = ("@aws-sdk/client-sfn", "@aws-sdk/client-sns")
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:VerificationStateMachine"
DEFAULT_URL = "http://127.0.0.1:8083"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node or npm is missing")
class CaseStudyDemo(servertest.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.modules = os.path.join(npmcache.install(PACKAGES), "node_modules")

    def setUp(self):
        pass  # each test serves its file (serve)

    def serve(self, name="baton.yaml"):
        self.dir = tempfile.mkdtemp(prefix="baton-demo-")
        project = os.path.join(self.dir, "verification")
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("node_modules"))
        os.symlink(self.modules, os.path.join(project, "node_modules"))
        # The file names the default address twice (public_url, the link's API_ENDPOINT);
        # the test's server listens elsewhere.
        path = os.path.join(project, name)
        with open(path) as f:
            text = f.read()
        self.assertEqual(text.count(DEFAULT_URL), 3)  # and once in a comment
        port = free_port()
        self.url = "http://127.0.0.1:%d" % port
        with open(path, "w") as f:
            f.write(text.replace(DEFAULT_URL, self.url))
        self.server_args = ["--config", path, "--listen", "127.0.0.1:%d" % port]
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        self.server_args).start()
        self.assertEqual(self.server.url, self.url)
        boto3 = servertest.boto3_or_skip()
        self.sfn = boto3.client("stepfunctions", endpoint_url=self.url, region_name="us-east-1",
                                aws_access_key_id="baton", aws_secret_access_key="baton")

    def http(self, path, data=None):
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

    def executions(self):
        return self.sfn.list_executions(stateMachineArn=MACHINE)["executions"]

    def mails(self, n):
        def got():
            _, text = self.http("/outbox?format=json")
            mails = json.loads(text)["Mails"]  # newest first
            return mails if len(mails) >= n else None
        mails = self.wait_for("%d mails" % n, got)
        self.assertEqual(len(mails), n, mails)
        return mails

    def confirm(self, link, expect=200):
        """GET the link (a page, nothing runs), then POST its form; the result page."""
        status, page = self.http(link)
        self.assertEqual(status, 200, page)
        nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
        status, result = self.http(link, {"nonce": nonce})
        self.assertEqual(status, expect, result)
        return result

    def test_newcomer_path(self):
        self.serve()
        # The start line names the outbox (the README sends the newcomer there).
        outbox_line = self.server.proc.stdout.readline().decode().strip()
        self.assertEqual(outbox_line, "Outbox: %s/outbox" % self.url)

        # The first execution started at once, by the schedule.
        def executions():
            return self.sfn.list_executions(stateMachineArn=MACHINE)["executions"]
        first = self.wait_for("the scheduled execution", executions, timeout=15)
        self.assertEqual(len(first), 1)
        arn = first[0]["executionArn"]
        self.assertRegex(first[0]["name"], r"^VerificationSchedule-\d{8}T\d{6}Z$")

        # The approval mail, through VerificationTopic's email subscription.
        def mails():
            _, text = self.http("/outbox?format=json")
            return json.loads(text)["Mails"]
        got = self.wait_for("the approval mail", mails)
        self.assertEqual(len(got), 1, got)
        mail = got[0]
        self.assertEqual(mail["To"], "approver@example.com")
        self.assertEqual(mail["Subject"], "Verification Request")
        links = re.findall(r"(http://\S+)(/verification\?\S+)", mail["Body"])
        self.assertEqual(len(links), 1, mail["Body"])
        self.assertEqual(links[0][0], self.url)
        link = links[0][1]
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        self.assertEqual(sorted(q), ["requestId", "timestamp", "token"])
        request_id, timestamp = q["requestId"][0], q["timestamp"][0]
        # The outbox page shows it too (what the newcomer opens).
        status, page = self.http("/outbox")
        self.assertEqual(status, 200)
        self.assertIn("Verification Request", page)

        # Following the link shows a confirmation page; nothing runs (twice, as a scanner).
        for _ in range(2):
            status, page = self.http(link)
            self.assertEqual(status, 200, page)
            self.assertIn("Confirm: GET /verification", page)
            self.assertIn(html.escape(request_id), page)
        time.sleep(0.5)
        d = self.sfn.describe_execution(executionArn=arn)
        self.assertEqual(d["status"], "RUNNING")

        # Confirm: the form's POST with its nonce runs the success function.
        nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
        status, result = self.http(link, {"nonce": nonce})
        self.assertEqual(status, 200, result)
        self.assertIn("verification success", result)

        def ended():
            d = self.sfn.describe_execution(executionArn=arn)
            return d if d["status"] != "RUNNING" else None
        d = self.wait_for("the execution's end", ended)
        self.assertEqual(d["status"], "SUCCEEDED", d)
        self.assertEqual(json.loads(d["output"]), {
            "statusCode": 200, "requestId": request_id, "timestamp": timestamp,
            "result": "request %s processed" % request_id})

        # The nonce worked once.
        status, _ = self.http(link, {"nonce": nonce})
        self.assertEqual(status, 403)
        # The schedule waits its 10 minutes: still one execution.
        self.assertEqual(len(executions()), 1)

    def test_workshop_reject(self):
        self.serve("workshop.yaml")
        first = self.wait_for("the scheduled execution", self.executions, timeout=15)
        self.assertEqual(len(first), 1)
        arn = first[0]["executionArn"]
        mail = self.mails(1)[0]
        self.assertEqual(mail["Subject"], "Verification Request")
        approve = re.findall(r"http://\S+(/verification\?\S+)", mail["Body"])
        reject = re.findall(r"http://\S+(/rejection\?\S+)", mail["Body"])
        self.assertEqual((len(approve), len(reject)), (1, 1), mail["Body"])
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(reject[0]).query)
        self.assertEqual(sorted(q), ["requestId", "token"])
        request_id = q["requestId"][0]
        self.assertEqual(self.sfn.describe_execution(executionArn=arn)["status"], "RUNNING")

        self.assertIn("verification rejected", self.confirm(reject[0]))

        def ended():
            d = self.sfn.describe_execution(executionArn=arn)
            return d if d["status"] != "RUNNING" else None
        d = self.wait_for("the execution's end", ended)
        self.assertEqual(d["status"], "FAILED", d)
        self.assertEqual(d["error"], "VerificationFailed")
        # "Notify Failure" mailed the rejection, with the function's error and cause.
        failure = self.mails(2)[0]
        self.assertEqual(failure["To"], "approver@example.com")
        self.assertEqual(failure["Subject"], "Verification failed")
        self.assertIn("Request %s was not verified: VerificationRejected: request %s was "
                      "rejected" % (request_id, request_id), failure["Body"])
        # The approval link's token is spent: confirming it now fails the function (a failed
        # page, 502).
        self.assertIn("TaskTimedOut", self.confirm(approve[0], 502))
        events = self.sfn.get_execution_history(executionArn=arn)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events
                   if e["type"].endswith("StateEntered")]
        self.assertEqual(entered, ["Generate task", "Request user verification",
                                   "Notify Failure", "Verification failed"])

    def test_workshop_approve(self):
        self.serve("workshop.yaml")
        arn = self.wait_for("the scheduled execution", self.executions,
                            timeout=15)[0]["executionArn"]
        mail = self.mails(1)[0]
        approve = re.findall(r"http://\S+(/verification\?\S+)", mail["Body"])
        self.assertEqual(len(approve), 1, mail["Body"])
        self.assertIn("verification success", self.confirm(approve[0]))
        def ended():
            d = self.sfn.describe_execution(executionArn=arn)
            return d if d["status"] != "RUNNING" else None
        d = self.wait_for("the execution's end", ended)
        self.assertEqual(d["status"], "SUCCEEDED", d)
        output = json.loads(d["output"])
        self.assertEqual(output["result"], "request %s processed" % output["requestId"])
        # "Notify Success" mailed the processing result.
        success = self.mails(2)[0]
        self.assertEqual(success["Subject"], "Verification succeeded")
        self.assertIn('"result":"request %s processed"' % output["requestId"], success["Body"])

    def test_kill_between_mail_and_click(self):
        """kill -9 after the mail: the restarted server (same data, same address) keeps the
        waiting execution, the link still works, and the schedule does not fire again."""
        self.serve()
        arn = self.wait_for("the scheduled execution", self.executions,
                            timeout=15)[0]["executionArn"]
        mail = self.mails(1)[0]
        link = re.findall(r"http://\S+(/verification\?\S+)", mail["Body"])[0]
        self.server.kill()
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        self.server_args).start()
        self.assertEqual(self.server.url, self.url)
        self.assertEqual(self.sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        self.assertIn("verification success", self.confirm(link))
        def ended():
            d = self.sfn.describe_execution(executionArn=arn)
            return d if d["status"] != "RUNNING" else None
        self.assertEqual(self.wait_for("the execution's end", ended)["status"], "SUCCEEDED")
        self.assertEqual(len(self.executions()), 1)
        self.assertEqual(len(self.mails(1)), 1)


if __name__ == "__main__":
    servertest.main()
