"""Built-in approvals (arn:baton:states:::approval) against the real server: the mail with
each approver's link lands in the outbox, GET shows the request and decides nothing, POST
with the page's nonce decides (N of M), a used, forged or expired link is refused with a
plain page, every decision is audited (GET /baton/approvals, `baton approvals`), and a
kill -9 between the mail and the click loses nothing."""

import html
import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import batontest
import servertest

A, B = "alice@example.com", "bob@example.com"


def machine(params, catch=False, timeout=None):
    task = {"Type": "Task", "Resource": "arn:baton:states:::approval",
            "Parameters": params, "End": True}
    if timeout:
        task["TimeoutSeconds"] = timeout
    states = {"Ask": task}
    if catch:
        task["Catch"] = [{"ErrorEquals": ["Approval.Rejected"], "ResultPath": "$.error",
                          "Next": "Refused"}]
        states["Refused"] = {"Type": "Pass", "End": True}
    return json.dumps({"StartAt": "Ask", "States": states})


class Approvals(servertest.ServerTestCase):

    def http(self, path, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.server.url + path, data=body,
                                     headers=headers or {"User-Agent": "approval-test/1"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def start(self, params, catch=False, timeout=None, name="m"):
        sfn = self.client("stepfunctions")
        sm = sfn.create_state_machine(name=name, definition=machine(params, catch, timeout),
                                      roleArn=servertest.ROLE)["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=sm, input='{"order": 7}')["executionArn"]
        return sfn, arn

    def links(self, n, base=None):
        """{approver: path} from the outbox, once n mails are there."""
        deadline = time.time() + 10
        while True:
            _, text = self.http("/outbox?format=json")
            mails = json.loads(text)["Mails"]
            if len(mails) >= n or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(mails), n, mails)
        out = {}
        for m in mails:
            found = re.findall(r"(https?://\S+)(/approve/[A-Za-z0-9_-]{32})(?=\s)", m["Body"])
            self.assertEqual(len(found), 1, m["Body"])
            self.assertEqual(found[0][0], base or self.server.url)
            out[m["To"]] = found[0][1]
        return out, mails

    def page(self, path):
        status, text = self.http(path)
        self.assertEqual(status, 200, text)
        nonce = re.search(r'name="nonce" value="([^"]+)"', text).group(1)
        return text, nonce

    def decide(self, path, decision, comment="", nonce=None):
        if nonce is None:
            _, nonce = self.page(path)
        return self.http(path, {"nonce": nonce, "decision": decision, "comment": comment},
                         {"User-Agent": "approval-test/1"})

    def test_two_of_two_approve(self):
        sfn, arn = self.start({"Approvers": [A, B], "Required": 2, "Subject": "Ship order 7?",
                               "Message": "Please check the order.",
                               "Data": {"order": 7, "note": "<b>big</b> & bold"}})
        links, mails = self.links(2)
        self.assertEqual(sorted(links), [A, B])
        self.assertEqual({m["Subject"] for m in mails}, {"Ship order 7?"})
        self.assertIn("Please check the order.", mails[0]["Body"])
        # GET shows the request and decides nothing (twice, as a scanner would)
        for _ in range(2):
            text, _ = self.page(links[A])
            self.assertIn(html.escape(arn), text)
            self.assertIn('id="state">Ask<', text)
            self.assertIn("Ship order 7?", text)
            self.assertIn("&lt;b&gt;big&lt;/b&gt; &amp; bold", text)
            self.assertNotIn("<b>big</b>", text)
            self.assertIn("&quot;order&quot;: 7,\n", text)
            self.assertIn("2 of 2 approvals", text)
        time.sleep(0.3)
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        status, text = self.decide(links[A], "approve", "fine by me")
        self.assertEqual(status, 200, text)
        self.assertIn("waits for the other approvers", text)
        time.sleep(0.2)
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        # the used link says so
        status, text = self.http(links[A])
        self.assertEqual(status, 410, text)
        self.assertIn("already been used", text)
        # B's page shows A's decision
        text, _ = self.page(links[B])
        self.assertIn("alice@example.com: approved", text)
        self.assertIn("fine by me", text)
        status, text = self.decide(links[B], "approve")
        self.assertEqual(status, 200, text)
        self.assertIn("Enough approvals are in", text)
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual(out["decision"], "approved")
        self.assertEqual([a["who"] for a in out["approvers"]], [A, B])
        self.assertEqual([a["comment"] for a in out["approvers"]], ["fine by me", None])
        self.assertRegex(out["approvers"][0]["decidedAt"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(sorted(out["approvers"][0]), ["comment", "decidedAt", "who"])
        # reusing a link after the end, forged and tampered ids
        status, text = self.decide(links[B], "reject", nonce="x")
        self.assertEqual(status, 410, text)
        status, text = self.http("/approve/" + secrets.token_urlsafe(24))
        self.assertEqual(status, 404, text)
        self.assertIn("not valid", text)
        p = links[A]
        tampered = p[:-1] + ("A" if p[-1] != "A" else "B")
        self.assertEqual(self.http(tampered)[0], 404)
        self.assertEqual(self.http("/approve/")[0], 404)
        # the audit, through the API and the CLI
        _, text = self.http("/baton/approvals")
        audit = json.loads(text)
        ds = audit["Decisions"]
        self.assertEqual([(d["Approver"], d["Decision"], d["Outcome"]) for d in ds],
                         [(B, "approved", "approved"), (A, "approved", "pending")])
        self.assertEqual({d["Ip"].rsplit(":", 1)[0] for d in ds}, {"127.0.0.1"})
        self.assertEqual({d["UserAgent"] for d in ds}, {"approval-test/1"})
        self.assertEqual(ds[1]["Comment"], "fine by me")
        self.assertEqual(ds[0]["ExecutionArn"], arn)
        self.assertEqual(audit["Requests"][0]["Status"], "approved")
        self.assertEqual(audit["Requests"][0]["Approvers"], [A, B])
        cli = subprocess.run([batontest.BATON, "approvals", "--endpoint", self.server.url],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("approved  alice@example.com  (request pending)", cli.stdout)
        self.assertIn("approved  bob@example.com  (request approved)", cli.stdout)
        cli = subprocess.run([batontest.BATON, "approvals", "--json", "--endpoint",
                              self.server.url], capture_output=True, text=True, timeout=20)
        self.assertEqual(json.loads(cli.stdout)["Decisions"], ds)

    def test_reject_goes_to_catch(self):
        sfn, arn = self.start({"Approvers": [A, B], "Required": 2}, catch=True)
        links, mails = self.links(2)
        self.assertEqual(mails[0]["Subject"], "Approval requested: Ask")
        status, text = self.decide(links[B], "reject", "not <this> week")
        self.assertEqual(status, 200, text)
        self.assertIn("request is rejected", text)
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual(out["order"], 7)
        self.assertEqual(out["error"]["Error"], "Approval.Rejected")
        cause = json.loads(out["error"]["Cause"])
        self.assertEqual(cause["decision"], "rejected")
        self.assertEqual([(a["who"], a["decision"], a["comment"]) for a in cause["approvers"]],
                         [(B, "rejected", "not <this> week")])
        # the other approver's link now says the request is decided
        status, text = self.http(links[A])
        self.assertEqual(status, 410, text)
        self.assertIn("already been decided", text)

    def test_reject_without_catch_fails(self):
        sfn, arn = self.start({"Approvers": [A]})
        links, _ = self.links(1)
        self.assertEqual(self.decide(links[A], "reject")[0], 200)
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "Approval.Rejected")

    def test_double_post_and_bad_nonce(self):
        sfn, arn = self.start({"Approvers": [A, B], "Required": 2})
        links, _ = self.links(2)
        _, nonce = self.page(links[A])
        status, text = self.decide(links[A], "approve", nonce="wrong" + nonce)
        self.assertEqual(status, 400, text)
        self.assertIn("not the one the link showed", text)
        status, text = self.decide(links[A], "maybe", nonce=nonce)
        self.assertEqual(status, 400, text)
        # two tabs: the same form posted twice
        self.assertEqual(self.decide(links[A], "approve", nonce=nonce)[0], 200)
        status, text = self.decide(links[A], "reject", nonce=nonce)
        self.assertEqual(status, 410, text)
        self.assertIn("already been used", text)
        _, text = self.http("/baton/approvals")
        self.assertEqual(len(json.loads(text)["Decisions"]), 1)
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "RUNNING")

    def test_expiry(self):
        sfn, arn = self.start({"Approvers": [A], "ExpiresSeconds": 1})
        links, _ = self.links(1)
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "Approval.Expired")
        status, text = self.http(links[A])
        self.assertEqual(status, 410, text)
        self.assertIn("expired", text)
        status, text = self.decide(links[A], "approve", nonce="n")
        self.assertEqual(status, 410, text)

    def test_state_timeout_caps_expiry(self):
        sfn, arn = self.start({"Approvers": [A]}, timeout=1)
        links, _ = self.links(1)
        d = self.wait_status(sfn, arn, "FAILED")
        # The links expire with the state, and the state's own timer ends the task.
        self.assertEqual(d["error"], "States.Timeout")
        status, text = self.http(links[A])
        self.assertEqual(status, 410, text)
        self.assertIn("no longer waiting for a decision", text)

    def test_state_timeout_caps_expiry_across_a_restart(self):
        # Which timer ends the task is kept with the request: after a kill -9 while the
        # approval waits, the state's timer still wins (the expiry's would say
        # Approval.Expired).
        sfn, arn = self.start({"Approvers": [A]}, timeout=3)
        self.links(1)
        self.restart(kill=True)
        sfn = self.client("stepfunctions")
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "States.Timeout")

    def test_bad_parameters(self):
        sfn, arn = self.start({"Approvers": [A], "Required": 2})
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "Approval.InvalidParameters")
        self.assertIn("Required", d["cause"])
        sfn2, arn2 = self.start({"Approvers": ["not-an-address"]}, name="m2")
        self.assertEqual(self.wait_status(sfn2, arn2, "FAILED")["error"],
                         "Approval.InvalidParameters")

    def test_kill_between_mail_and_click(self):
        sfn, arn = self.start({"Approvers": [A, B], "Required": 2, "Data": {"k": 1}})
        links, _ = self.links(2)
        self.assertEqual(self.decide(links[A], "approve", "before")[0], 200)
        self.restart(kill=True)
        text, _ = self.page(links[B])
        self.assertIn("alice@example.com: approved", text)
        self.assertEqual(self.http(links[A])[0], 410)
        self.assertEqual(self.decide(links[B], "approve", "after")[0], 200)
        sfn = self.client("stepfunctions")
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        out = json.loads(d["output"])
        self.assertEqual([(a["who"], a["comment"]) for a in out["approvers"]],
                         [(A, "before"), (B, "after")])


class ApprovalsWithProject(Approvals):
    """The project file's public_url is the links' base and its signing_key signs them."""

    def setUp(self):
        self.dir = servertest.tempfile.mkdtemp(prefix="baton-srv-")
        path = os.path.join(self.dir, "baton.yaml")
        with open(path, "w") as f:
            f.write("version: 1\npublic_url: https://approve.example.test/\n"
                    "signing_key: 0123456789abcdef0123456789abcdef-project\n")
        self.server_args = ("--config", path)
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        self.server_args).start()

    def test_links_use_public_url(self):
        sfn, arn = self.start({"Approvers": [A]})
        links, _ = self.links(1, base="https://approve.example.test")
        self.assertEqual(self.decide(links[A], "approve")[0], 200)
        self.wait_status(sfn, arn, "SUCCEEDED")

    def test_reload_applies_public_url_and_signing_key(self):
        import base64
        import hashlib
        import hmac
        import signal

        def signed_by(path, key):
            raw = base64.urlsafe_b64decode(path[len("/approve/"):] + "==")
            mac = hmac.new(key.encode(), b"baton-approval-link:" + raw[:16], hashlib.sha256)
            return mac.digest()[:8] == raw[16:]

        old_key = "0123456789abcdef0123456789abcdef-project"
        new_key = "fedcba9876543210fedcba9876543210-rotated"
        sfn, first = self.start({"Approvers": [A]}, name="before")
        links, _ = self.links(1, base="https://approve.example.test")
        old_link = links[A]
        self.assertTrue(signed_by(old_link, old_key))
        with open(os.path.join(self.dir, "baton.yaml"), "w") as f:
            f.write("version: 1\npublic_url: https://moved.example.test\n"
                    "signing_key: %s\n" % new_key)
        applied = self.server.read_log().count("project.applied")
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while self.server.read_log().count("project.applied") == applied:
            self.assertLess(time.time(), deadline, "no reload: " + self.server.read_log())
            time.sleep(0.05)
        second = sfn.start_execution(stateMachineArn=first.replace(":execution:", ":stateMachine:")
                                     .rsplit(":", 1)[0], input="{}")["executionArn"]
        deadline = time.time() + 10
        while True:
            mails = json.loads(self.http("/outbox?format=json")[1])["Mails"]
            if len(mails) >= 2 or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(mails), 2)
        found = re.findall(r"(https?://\S+)(/approve/[A-Za-z0-9_-]{32})(?=\s)", mails[0]["Body"])
        self.assertEqual(found[0][0], "https://moved.example.test")
        new_link = found[0][1]
        self.assertTrue(signed_by(new_link, new_key))
        self.assertFalse(signed_by(new_link, old_key))
        # the link mailed before the reload still decides, until its request is settled
        self.assertEqual(self.decide(old_link, "approve")[0], 200)
        self.wait_status(sfn, first, "SUCCEEDED")
        self.assertEqual(self.decide(new_link, "approve")[0], 200)
        self.wait_status(sfn, second, "SUCCEEDED")
        # an id the old key signs that no pending request holds is refused as any forgery
        raw = secrets.token_bytes(16)
        mac = hmac.new(old_key.encode(), b"baton-approval-link:" + raw, hashlib.sha256)
        forged = base64.urlsafe_b64encode(raw + mac.digest()[:8]).decode().rstrip("=")
        self.assertEqual(self.http("/approve/" + forged)[0], 404)


class ApprovalsOverSmtp(Approvals):
    """With the project file's smtp:, the approval mail reaches a real SMTP server."""

    def setUp(self):
        import test_smtp
        if not test_smtp.have_aiosmtpd():
            raise servertest.unittest.SkipTest("python3-aiosmtpd is not installed")
        self.dir = servertest.tempfile.mkdtemp(prefix="baton-srv-")
        port = test_smtp.free_port()
        path = os.path.join(self.dir, "baton.yaml")
        with open(path, "w") as f:
            f.write("version: 1\nsmtp:\n  host: 127.0.0.1\n  port: %d\n  starttls: false\n"
                    "  from: workflow@example.com\n" % port)
        self.sink = test_smtp.Sink(port, os.path.join(self.dir, "mail.jsonl"))
        self.server_args = ("--config", path)
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        self.server_args).start()

    def tearDown(self):
        self.sink.stop()
        super().tearDown()

    def test_mail_over_smtp(self):
        sfn, arn = self.start({"Approvers": [A], "Subject": "Deploy?"})
        deadline = time.time() + 20
        while not self.sink.mails() and time.time() < deadline:
            time.sleep(0.1)
        mails = self.sink.mails()
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails[0]["to"], [A])
        self.assertIn("Subject: Deploy?", mails[0]["data"])
        path = re.search(r"/approve/[A-Za-z0-9_-]{32}(?=\s)", mails[0]["data"]).group(0)
        self.assertEqual(self.http("/outbox?format=json")[1].count("approve/"), 0)
        self.assertEqual(self.decide(path, "approve")[0], 200)
        out = json.loads(self.wait_status(sfn, arn, "SUCCEEDED")["output"])
        self.assertEqual(out["approvers"][0]["who"], A)


for name in list(vars(Approvals)):
    if name.startswith("test_"):
        setattr(ApprovalsWithProject, name, None)  # the helpers only
        setattr(ApprovalsOverSmtp, name, None)


if __name__ == "__main__":
    servertest.main()
