#!/usr/bin/env python3
"""examples/approval/baton.yaml as a user serves it (a copy, its address moved to a free
port): the schedule starts the first execution at once → the approval mail is in the
outbox → its link (GET) shows the execution, the state and the request's data and decides
nothing → the form's POST approves → the processing function runs, "Notify Success" mails
its result, the execution SUCCEEDED. And a rejection with a comment → Catch → "Notify
Failure" mail → FAILED with VerificationFailed. The approval task's own output and error are
checked where they are visible, in the history.

Needs node (skipped without it); no npm packages."""

import html
import json
import re
import shutil
import unittest

import exampleserve
import servertest

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:ApprovalStateMachine"
APPROVER = "approver@example.com"
STATE = "Request user verification"


@unittest.skipUnless(shutil.which("node"), "node is missing")
class ExampleApproval(exampleserve.ExampleTestCase):

    def outbox(self, n):
        def got():
            _, text = self.http("/outbox?format=json")
            mails = json.loads(text)["Mails"]  # newest first
            return mails if len(mails) >= n else None
        mails = self.wait_for("%d mails" % n, got)
        self.assertEqual(len(mails), n, mails)
        return mails

    def first_request(self):
        """The scheduled execution, its approval link and the data the page must show."""
        self.serve("approval")
        first = self.wait_for("the scheduled execution", lambda: self.executions(MACHINE),
                              timeout=15)
        self.assertEqual(len(first), 1)
        arn = first[0]["executionArn"]
        self.assertRegex(first[0]["name"], r"^ApprovalSchedule-\d{8}T\d{6}Z$")
        mail = self.outbox(1)[0]
        self.assertEqual(mail["To"], APPROVER)
        self.assertEqual(mail["Subject"], "Verification Request")
        self.assertTrue(mail["Body"].startswith("User verification is required.\n\n"),
                        mail["Body"])
        self.assertIn("Execution: %s\nState: %s\n" % (arn, STATE), mail["Body"])
        links = re.findall(r"(http://\S+)(/approve/[A-Za-z0-9_-]{32})\n", mail["Body"])
        self.assertEqual(len(links), 1, mail["Body"])
        self.assertEqual(links[0][0], self.url)
        # The request's data is what "Generate task" made (its entered state's input).
        events = self.history(arn)
        entered = [e for e in events if e["type"] == "TaskStateEntered" and
                   e["stateEnteredEventDetails"]["name"] == STATE]
        data = json.loads(entered[0]["stateEnteredEventDetails"]["input"])
        self.assertEqual(sorted(data), ["requestId", "statusCode", "timestamp"])
        self.assertEqual(data["statusCode"], 200)
        return arn, links[0][1], data

    def page(self, link, arn, data):
        status, page = self.http(link)
        self.assertEqual(status, 200, page)
        self.assertIn('<td id="execution">%s</td>' % html.escape(arn), page)
        self.assertIn('<td id="state">%s</td>' % STATE, page)
        self.assertIn('<p id="message">User verification is required.</p>', page)
        shown = re.search(r'<pre id="data">(.*?)</pre>', page, re.S).group(1)
        self.assertEqual(json.loads(html.unescape(shown)), data)
        return re.search(r'name="nonce" value="([^"]+)"', page).group(1)

    def task_events(self, arn):
        """The approval task's TaskSucceeded / TaskFailed event (the one of its state)."""
        events = self.history(arn)
        entered = [e["id"] for e in events if e["type"] == "TaskStateEntered" and
                   e["stateEnteredEventDetails"]["name"] == STATE]
        sched = [e for e in events if e["type"] == "TaskScheduled" and
                 e["previousEventId"] == entered[0]]
        self.assertEqual(len(sched), 1, [e["type"] for e in events])
        self.assertEqual(sched[0]["taskScheduledEventDetails"]["parameters"] and
                         json.loads(sched[0]["taskScheduledEventDetails"]["parameters"])
                         ["Approvers"], [APPROVER])
        done = [e for e in events if e["type"] in ("TaskSucceeded", "TaskFailed") and
                e["id"] > sched[0]["id"]]
        return events, done[0]

    def decision_time(self):
        _, text = self.http("/baton/approvals")
        ds = json.loads(text)["Decisions"]
        self.assertEqual(len(ds), 1, ds)
        return ds[0]

    def test_approve(self):
        arn, link, data = self.first_request()
        # GET twice (a scanner, then the person): nothing is decided.
        self.page(link, arn, data)
        nonce = self.page(link, arn, data)
        self.assertEqual(self.sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        _, text = self.http("/baton/approvals")
        self.assertEqual(json.loads(text)["Decisions"], [])

        status, page = self.http(link, {"nonce": nonce, "decision": "approve",
                                        "comment": "looks right"})
        self.assertEqual(status, 200, page)
        self.assertIn("Enough approvals are in", page)
        d = self.ended(arn)
        self.assertEqual(d["status"], "SUCCEEDED", d)
        rid = data["requestId"]
        expected = {"statusCode": 200, "requestId": rid, "timestamp": data["timestamp"],
                    "approvedBy": [APPROVER], "result": "request %s processed" % rid}
        self.assertEqual(json.loads(d["output"]), expected)

        audit = self.decision_time()
        self.assertEqual((audit["Approver"], audit["Decision"], audit["Comment"],
                          audit["ExecutionArn"], audit["StateName"]),
                         (APPROVER, "approved", "looks right", arn, STATE))
        events, done = self.task_events(arn)
        self.assertEqual(done["type"], "TaskSucceeded")
        out = json.loads(done["taskSucceededEventDetails"]["output"])
        self.assertRegex(out["approvers"][0]["decidedAt"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(out, {"decision": "approved", "approvers": [
            {"who": APPROVER, "decidedAt": audit["Time"],
             "comment": "looks right"}]})
        # ResultPath $.approval: the processing function got the request and the approval.
        entered = [e for e in events if e["type"] == "TaskStateEntered" and
                   e["stateEnteredEventDetails"]["name"] == "Return to main processing"]
        self.assertEqual(json.loads(entered[0]["stateEnteredEventDetails"]["input"]),
                         dict(data, approval=out))
        names = [e["stateEnteredEventDetails"]["name"] for e in events
                 if e["type"].endswith("StateEntered")]
        self.assertEqual(names, ["Generate task", STATE, "Return to main processing",
                                 "Notify Success"])

        success = self.outbox(2)[0]
        self.assertEqual((success["To"], success["Subject"]),
                         (APPROVER, "Verification succeeded"))
        self.assertTrue(success["Body"].startswith(json.dumps(expected, separators=(",", ":"))
                                                   + "\n"), success["Body"])
        # The link is spent; the schedule waits its 10 minutes.
        status, page = self.http(link)
        self.assertEqual(status, 410, page)
        self.assertIn("already been used", page)
        self.assertEqual(len(self.executions(MACHINE)), 1)

    def test_reject(self):
        arn, link, data = self.first_request()
        nonce = self.page(link, arn, data)
        status, page = self.http(link, {"nonce": nonce, "decision": "reject",
                                        "comment": "not <this> one"})
        self.assertEqual(status, 200, page)
        self.assertIn("The request is rejected", page)
        d = self.ended(arn)
        self.assertEqual(d["status"], "FAILED", d)
        self.assertEqual((d["error"], d["cause"]), (
            "VerificationFailed", "the request was rejected, or no one approved it in time"))

        events, done = self.task_events(arn)
        self.assertEqual(done["type"], "TaskFailed")
        details = done["taskFailedEventDetails"]
        self.assertEqual(details["error"], "Approval.Rejected")
        cause = json.loads(details["cause"])
        at = cause["approvers"][0]["decidedAt"]
        self.assertRegex(at, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(cause, {"decision": "rejected", "approvers": [
            {"who": APPROVER, "decision": "rejected", "decidedAt": at,
             "comment": "not <this> one"}]})
        self.assertEqual(at, self.decision_time()["Time"])
        names = [e["stateEnteredEventDetails"]["name"] for e in events
                 if e["type"].endswith("StateEntered")]
        self.assertEqual(names, ["Generate task", STATE, "Notify Failure",
                                 "Verification failed"])
        audit = self.decision_time()
        self.assertEqual((audit["Decision"], audit["Outcome"]), ("rejected", "rejected"))

        failure = self.outbox(2)[0]
        self.assertEqual((failure["To"], failure["Subject"]), (APPROVER, "Verification failed"))
        self.assertTrue(failure["Body"].startswith(
            "Request %s was not verified: Approval.Rejected: %s\n" %
            (data["requestId"], details["cause"])), failure["Body"])
        status, page = self.http(link)
        self.assertEqual(status, 410, page)


if __name__ == "__main__":
    servertest.main()
