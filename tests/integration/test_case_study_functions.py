#!/usr/bin/env python3
"""The case study's first variant through `baton serve --config`, with its four functions
written for Node.js as on AWS Lambda (examples/verification: the AWS SDK for JavaScript v3
from npm, nothing Baton-specific): Generate task → VerificationQueue → the queue-triggered
lambda-for-verification-message receives the task token (and logs the verification link)
→ the test follows what the link would do, invoking lambda-for-verification-success with
the link's query (it calls SendTaskSuccess through the SDK) → Return to main processing →
SUCCEEDED with lambda-for-processing's output.

Needs node and npm (skipped without them or without the registry)."""

import json
import os
import re
import shutil
import subprocess
import time
import unittest
import urllib.parse

import batontest
import npmcache
import servertest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "verification")
PACKAGES = ("@aws-sdk/client-sfn", "@aws-sdk/client-sns")
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:VerificationStateMachine"


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node or npm is missing")
class CaseStudyFunctions(servertest.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.modules = os.path.join(npmcache.install(PACKAGES), "node_modules")

    def setUp(self):
        # The project as a user has it: the example's files, its node_modules beside them.
        self.dir = __import__("tempfile").mkdtemp(prefix="baton-case-")
        self.project = os.path.join(self.dir, "verification")
        shutil.copytree(EXAMPLE, self.project,
                        ignore=shutil.ignore_patterns("node_modules"))
        os.symlink(self.modules, os.path.join(self.project, "node_modules"))
        # This test starts its own execution: the schedule's first fire (at once) is turned
        # off so that the one link in the log is this execution's (test_case_study_demo
        # follows the scheduled one).
        path = os.path.join(self.project, "baton.yaml")
        with open(path) as f:
            text = f.read()
        self.assertIn("    fire_at_start: true\n", text)
        with open(path, "w") as f:
            f.write(text.replace("    fire_at_start: true\n", "    enabled: false\n"))
        self.server = servertest.Server(
            os.path.join(self.dir, "data"),
            ["--config", os.path.join(self.project, "baton.yaml")]).start()
        boto3 = servertest.boto3_or_skip()
        kw = dict(endpoint_url=self.server.url, region_name="us-east-1",
                  aws_access_key_id="baton", aws_secret_access_key="baton")
        self.sfn = boto3.client("stepfunctions", **kw)
        self.fn = boto3.client("lambda", **kw)

    def logs(self, name):
        p = subprocess.run([batontest.BATON, "logs", name, "--lines", "200",
                            "--endpoint", self.server.url],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def wait_for(self, what, fn, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail("no %s within %d s; server log:\n%s" % (what, timeout, self.server.read_log()))

    def test_verification_flow(self):
        arn = self.sfn.start_execution(stateMachineArn=MACHINE, name="run-1",
                                       input="{}")["executionArn"]
        # The triggered function received the message and logged the link with the token.
        def link():
            m = re.search(r"verification link (http://\S+)",
                          self.logs("lambda-for-verification-message"))
            return m and m.group(1)
        url = self.wait_for("verification link", link)
        self.assertEqual(self.sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        self.assertEqual(sorted(q), ["requestId", "timestamp", "token"])
        request_id, timestamp, token = q["requestId"][0], q["timestamp"][0], q["token"][0]
        self.assertRegex(request_id, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        self.assertTrue(timestamp.isdigit() and abs(int(timestamp) - time.time()) < 120)

        # What the route does with the link: the success function with the query.
        r = self.fn.invoke(FunctionName="lambda-for-verification-success",
                           Payload=json.dumps({"requestId": request_id,
                                               "timestamp": timestamp, "token": token}))
        payload = r["Payload"].read()
        self.assertNotIn("FunctionError", r, payload)
        self.assertEqual(json.loads(payload), {"statusCode": 200, "body": "verification success"})

        def ended():
            d = self.sfn.describe_execution(executionArn=arn)
            return d if d["status"] != "RUNNING" else None
        d = self.wait_for("the execution's end", ended)
        self.assertEqual(d["status"], "SUCCEEDED", d)
        self.assertEqual(json.loads(d["output"]), {
            "statusCode": 200, "requestId": request_id, "timestamp": timestamp,
            "result": "request %s processed" % request_id})

        events = self.sfn.get_execution_history(executionArn=arn)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events
                   if e["type"] == "TaskStateEntered"]
        self.assertEqual(entered, ["Generate task", "Request user verification",
                                   "Return to main processing"])
        # The first task's result, as Lambda Invoke shapes it (OutputPath takes Payload).
        first = next(e for e in events if e["type"] == "TaskSucceeded")
        output = json.loads(first["taskSucceededEventDetails"]["output"])
        self.assertEqual(output["StatusCode"], 200)
        self.assertEqual(output["ExecutedVersion"], "$LATEST")
        self.assertEqual(output["Payload"]["requestId"], request_id)
        # The token is spent: answering it again is refused as AWS refuses it.
        again = self.fn.invoke(FunctionName="lambda-for-verification-success",
                               Payload=json.dumps({"requestId": request_id,
                                                   "timestamp": timestamp, "token": token}))
        self.assertEqual(again.get("FunctionError"), "Unhandled")
        self.assertEqual(json.loads(again["Payload"].read())["errorType"], "TaskTimedOut")
        # The message was deleted once the triggered function succeeded.
        sqs = servertest.boto3_or_skip().client(
            "sqs", endpoint_url=self.server.url, region_name="us-east-1",
            aws_access_key_id="baton", aws_secret_access_key="baton")
        qurl = sqs.get_queue_url(QueueName="VerificationQueue")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=qurl, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0")
        logs = self.logs("lambda-for-processing")
        self.assertIn("processing " + request_id, logs)
        self.assertRegex(logs, r"START RequestId: \S+ Version: \$LATEST")
        self.assertRegex(logs, r"REPORT RequestId: \S+\tDuration: ")


if __name__ == "__main__":
    servertest.main()
