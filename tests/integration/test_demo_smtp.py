#!/usr/bin/env python3
"""Both case-study projects end to end over real SMTP: examples/verification (the seeds'
queue, trigger, functions and confirm route; workshop.yaml for the rejection link) and
examples/approval (the built-in approval task), each served from a copy with an `smtp:`
section that points at an SMTP server on 127.0.0.1 (smtp_sink.py, Debian's
python3-aiosmtpd under /usr/bin/python3; skipped without it). The mail is received there,
parsed as MIME, and its link followed: GET changes nothing, the POST approves → SUCCEEDED
with the processing output; a rejection → Catch → the "Notify Failure" mail arrives over
SMTP; the timeout paths; a kill -9 between the mail reaching the SMTP server and the click
loses nothing and sends nothing twice.

The timeouts run on Baton's own timers: BATON_TEST_CLOCK moves only the schedules' clock
(docs/schedules.md), not executions', so the copies carry a short TimeoutSeconds — the
machine's (verification: the execution TIMED_OUT) or the approval task's (States.Timeout
→ Catch → Notify Failure).

The verification functions need node and npm (AWS SDK packages, npmcache); the approval
ones need node only."""

import email
import email.policy
import json
import os
import re
import shutil
import time
import unittest
import urllib.parse

import exampleserve
import npmcache
import servertest
import test_smtp

VERIFICATION = "arn:aws:states:us-east-1:123456789012:stateMachine:VerificationStateMachine"
APPROVAL = "arn:aws:states:us-east-1:123456789012:stateMachine:ApprovalStateMachine"
APPROVER = "approver@example.com"
PACKAGES = ("@aws-sdk/client-sfn", "@aws-sdk/client-sns")


class SmtpDemo(exampleserve.ExampleTestCase):
    """Serving an example with its mail going to an SMTP sink."""

    def setUp(self):
        if not test_smtp.have_aiosmtpd():
            raise unittest.SkipTest("python3-aiosmtpd is not installed for " +
                                    test_smtp.SYSTEM_PYTHON)
        servertest.boto3_or_skip()
        super().setUp()
        self.smtp_port = exampleserve.free_port()
        self.sink = test_smtp.Sink(self.smtp_port, os.path.join(self.dir, "mail.jsonl"))

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.sink.stop()

    def serve_smtp(self, example, name="baton.yaml", edits=None, modules=None):
        edits = dict(edits or {})
        inner = edits.get(name, lambda t: t)
        edits[name] = lambda t: inner(t) + exampleserve.smtp_section(self.smtp_port)
        self.serve(example, name, edits, modules)

    def mails(self, n, timeout=60):
        """The first n messages the SMTP server accepted, parsed: [(envelope, message)]."""
        got = self.wait_for("%d mails over SMTP" % n,
                            lambda: len(self.sink.mails()) >= n or None, timeout)
        self.assertTrue(got)
        out = []
        for m in self.sink.mails():
            msg = email.message_from_string(m["data"], policy=email.policy.default)
            self.assertEqual(m["from"], "workflow@example.com")
            self.assertEqual(m["to"], [APPROVER])
            self.assertEqual(msg["To"], APPROVER)
            self.assertEqual(msg.get_content_type(), "text/plain")
            out.append((m, msg))
        self.assertEqual(len(out), n, [msg["Subject"] for _, msg in out])
        return out

    @staticmethod
    def body(msg):
        return msg.get_content().replace("\r\n", "\n")

    def link_in(self, msg, pattern):
        found = re.findall(r"(http://[^/\s]+)(%s)" % pattern, self.body(msg))
        self.assertEqual(len(found), 1, self.body(msg))
        self.assertEqual(found[0][0], self.url)
        return found[0][1]

    def first_execution(self, machine):
        first = self.wait_for("the scheduled execution", lambda: self.executions(machine),
                              timeout=20)
        self.assertEqual(len(first), 1)
        return first[0]["executionArn"]

    def delivered(self, n):
        """Waits until n deliveries are recorded as delivered (durable), and no other."""
        def done():
            _, text = self.http("/baton/deliveries")
            ds = json.loads(text)["Deliveries"]
            return ds if len(ds) == n and all(d["Status"] == "delivered" for d in ds) else None
        return self.wait_for("%d recorded deliveries" % n, done, 30)

    def status(self, arn):
        return self.sfn.describe_execution(executionArn=arn)["status"]


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node or npm is missing")
class VerificationOverSmtp(SmtpDemo):

    @classmethod
    def setUpClass(cls):
        cls.modules = os.path.join(npmcache.install(PACKAGES), "node_modules")

    def serve_verification(self, name="baton.yaml", edits=None):
        self.serve_smtp("verification", name, edits, self.modules)

    def confirm(self, link, expect=200):
        """GET the confirm route (a page; nothing runs), then POST its form."""
        status, page = self.http(link)
        self.assertEqual(status, 200, page)
        self.assertIn("Confirm: GET %s" % urllib.parse.urlsplit(link).path, page)
        nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
        status, result = self.http(link, {"nonce": nonce})
        self.assertEqual(status, expect, result)
        return result

    def request_mail(self):
        (_, msg), = self.mails(1)
        self.assertEqual(msg["Subject"], "Verification Request")
        self.assertTrue(self.body(msg).startswith("User verification is required."),
                        self.body(msg))
        return msg

    def test_approve(self):
        self.serve_verification()
        arn = self.first_execution(VERIFICATION)
        link = self.link_in(self.request_mail(), r"/verification\?\S+")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        rid, ts = q["requestId"][0], q["timestamp"][0]
        for _ in range(2):  # a scanner, then the person: pages only
            status, page = self.http(link)
            self.assertEqual(status, 200, page)
        time.sleep(0.5)
        self.assertEqual(self.status(arn), "RUNNING")
        self.assertIn("verification success", self.confirm(link))
        d = self.ended(arn)
        self.assertEqual(d["status"], "SUCCEEDED", d)
        self.assertEqual(json.loads(d["output"]), {
            "statusCode": 200, "requestId": rid, "timestamp": ts,
            "result": "request %s processed" % rid})
        self.assertEqual(len(self.mails(1)), 1)  # variant 1 mails only the request
        _, text = self.http("/outbox?format=json")
        self.assertEqual(json.loads(text)["Mails"], [])

    def test_reject(self):
        self.serve_verification("workshop.yaml")
        arn = self.first_execution(VERIFICATION)
        msg = self.request_mail()
        reject = self.link_in(msg, r"/rejection\?\S+")
        rid = urllib.parse.parse_qs(urllib.parse.urlsplit(reject).query)["requestId"][0]
        self.assertIn("verification rejected", self.confirm(reject))
        d = self.ended(arn)
        self.assertEqual((d["status"], d["error"]), ("FAILED", "VerificationFailed"), d)
        (_, first), (_, failure) = self.mails(2)
        self.assertEqual(failure["Subject"], "Verification failed")
        self.assertTrue(self.body(failure).startswith(
            "Request %s was not verified: VerificationRejected: request %s was rejected\n"
            % (rid, rid)), self.body(failure))

    def test_machine_timeout(self):
        """The case study's overall timeout (TimeoutSeconds 300 → 5 in the copy): nobody
        clicks, the execution TIMED_OUT; the late link's function is told the task is gone."""
        def short(text):
            return text.replace('"TimeoutSeconds": 300,', '"TimeoutSeconds": 5,')
        self.serve_verification(edits={"statemachine.json": short})
        arn = self.first_execution(VERIFICATION)
        link = self.link_in(self.request_mail(), r"/verification\?\S+")
        d = self.ended(arn, timeout=30)
        self.assertEqual(d["status"], "TIMED_OUT", d)
        # As on AWS: stopDate = startDate + TimeoutSeconds, no error or cause reported.
        self.assertNotIn("error", d)
        self.assertAlmostEqual((d["stopDate"] - d["startDate"]).total_seconds(), 5, delta=0.01)
        events = self.history(arn)
        self.assertEqual([e["type"] for e in events[-4:]],
                         ["TaskScheduled", "TaskStarted", "TaskSubmitted", "ExecutionTimedOut"])
        # Too late: SendTaskSuccess fails (TaskTimedOut) and the page says so.
        result = self.confirm(link, 502)
        self.assertIn("TaskTimedOut", result)
        self.assertIn("Provided task does not exist anymore", result)
        self.assertEqual(self.status(arn), "TIMED_OUT")

    def test_kill_between_mail_and_click(self):
        self.serve_verification()
        arn = self.first_execution(VERIFICATION)
        link = self.link_in(self.request_mail(), r"/verification\?\S+")
        # The mail is at the SMTP server, its delivery recorded, the queue's message
        # deleted by the trigger: the person has not clicked yet.
        self.delivered(1)
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName="VerificationQueue")["QueueUrl"]
        def queue_empty():
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            return (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) \
                == ("0", "0")
        self.wait_for("the trigger's delete", queue_empty, 30)
        self.kill_and_restart()
        self.assertEqual(self.status(arn), "RUNNING")
        self.assertIn("verification success", self.confirm(link))
        self.assertEqual(self.ended(arn)["status"], "SUCCEEDED")
        time.sleep(2)
        self.assertEqual(len(self.mails(1)), 1)
        self.assertEqual(len(self.executions(VERIFICATION)), 1)


@unittest.skipUnless(shutil.which("node"), "node is missing")
class ApprovalOverSmtp(SmtpDemo):

    def request(self, edits=None):
        self.serve_smtp("approval", edits=edits)
        arn = self.first_execution(APPROVAL)
        (_, msg), = self.mails(1)
        self.assertEqual(msg["Subject"], "Verification Request")
        self.assertIn("Execution: %s\nState: Request user verification\n" % arn, self.body(msg))
        return arn, self.link_in(msg, r"/approve/[A-Za-z0-9_-]{32}")

    def page(self, link, arn):
        status, page = self.http(link)
        self.assertEqual(status, 200, page)
        self.assertIn('<td id="execution">%s</td>' % arn, page)
        self.assertIn('<td id="state">Request user verification</td>', page)
        self.assertIn("&quot;requestId&quot;", page)
        return re.search(r'name="nonce" value="([^"]+)"', page).group(1)

    def decide(self, link, arn, decision, comment=""):
        nonce = self.page(link, arn)
        return self.http(link, {"nonce": nonce, "decision": decision, "comment": comment})

    def request_data(self, arn):
        entered = [e for e in self.history(arn) if e["type"] == "TaskStateEntered" and
                   e["stateEnteredEventDetails"]["name"] == "Request user verification"]
        return json.loads(entered[0]["stateEnteredEventDetails"]["input"])

    def test_approve(self):
        arn, link = self.request()
        self.page(link, arn)
        self.page(link, arn)
        time.sleep(0.5)
        self.assertEqual(self.status(arn), "RUNNING")
        status, page = self.decide(link, arn, "approve")
        self.assertEqual(status, 200, page)
        d = self.ended(arn)
        self.assertEqual(d["status"], "SUCCEEDED", d)
        data = self.request_data(arn)
        rid = data["requestId"]
        out = {"statusCode": 200, "requestId": rid, "timestamp": data["timestamp"],
               "approvedBy": [APPROVER], "result": "request %s processed" % rid}
        self.assertEqual(json.loads(d["output"]), out)
        (_, _), (_, success) = self.mails(2)
        self.assertEqual(success["Subject"], "Verification succeeded")
        self.assertTrue(self.body(success).startswith(json.dumps(out, separators=(",", ":"))),
                        self.body(success))
        _, text = self.http("/outbox?format=json")
        self.assertEqual(json.loads(text)["Mails"], [])

    def test_reject(self):
        arn, link = self.request()
        status, page = self.decide(link, arn, "reject", "wrong amount")
        self.assertEqual(status, 200, page)
        d = self.ended(arn)
        self.assertEqual((d["status"], d["error"]), ("FAILED", "VerificationFailed"), d)
        rid = self.request_data(arn)["requestId"]
        (_, _), (_, failure) = self.mails(2)
        self.assertEqual(failure["Subject"], "Verification failed")
        text = self.body(failure)
        prefix = "Request %s was not verified: Approval.Rejected: " % rid
        self.assertTrue(text.startswith(prefix), text)
        cause = json.loads(text[len(prefix):].split("\n", 1)[0])
        self.assertEqual([(a["who"], a["decision"], a["comment"]) for a in cause["approvers"]],
                         [(APPROVER, "rejected", "wrong amount")])

    def test_task_timeout(self):
        """The approval task with TimeoutSeconds 3 (the copy): nobody decides, the state's
        timer fails it with States.Timeout, the Catch mails "Notify Failure", the execution
        FAILED; the late link says the request no longer waits."""
        def short(text):
            old = "          ResultPath: $.approval\n"
            return text.replace(old, old + "          TimeoutSeconds: 3\n")
        arn, link = self.request({"baton.yaml": short})
        d = self.ended(arn, timeout=30)
        self.assertEqual((d["status"], d["error"]), ("FAILED", "VerificationFailed"), d)
        events = self.history(arn)
        timed_out = [e for e in events if e["type"] == "TaskTimedOut"]
        self.assertEqual(len(timed_out), 1, [e["type"] for e in events])
        self.assertEqual(timed_out[0]["taskTimedOutEventDetails"]["error"], "States.Timeout")
        names = [e["stateEnteredEventDetails"]["name"] for e in events
                 if e["type"].endswith("StateEntered")]
        self.assertEqual(names, ["Generate task", "Request user verification",
                                 "Notify Failure", "Verification failed"])
        rid = self.request_data(arn)["requestId"]
        (_, _), (_, failure) = self.mails(2)
        self.assertEqual(failure["Subject"], "Verification failed")
        self.assertTrue(self.body(failure).startswith(
            "Request %s was not verified: States.Timeout: " % rid), self.body(failure))
        status, page = self.http(link)
        self.assertEqual(status, 410, page)
        self.assertIn("This request is no longer waiting for a decision (its workflow step "
                      "ended: timed out, stopped or failed).", page)
        status, page = self.http(link, {"nonce": "x", "decision": "approve"})
        self.assertEqual(status, 410, page)
        self.assertEqual(self.status(arn), "FAILED")

    def test_kill_between_mail_and_click(self):
        arn, link = self.request()
        self.delivered(1)
        self.kill_and_restart()
        self.assertEqual(self.status(arn), "RUNNING")
        status, page = self.decide(link, arn, "approve", "after the restart")
        self.assertEqual(status, 200, page)
        self.assertEqual(self.ended(arn)["status"], "SUCCEEDED")
        (_, first), (_, success) = self.mails(2)
        self.assertEqual((first["Subject"], success["Subject"]),
                         ("Verification Request", "Verification succeeded"))
        self.delivered(2)
        time.sleep(2)
        self.assertEqual(len(self.sink.mails()), 2)
        self.assertEqual(len(self.executions(APPROVAL)), 1)


if __name__ == "__main__":
    servertest.main()
