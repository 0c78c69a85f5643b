"""Attacks on the built-in approvals, the outbox and the mail they send, against the real
server: hostile markup in every field, huge data, limits of the Parameters, tampered and
replayed links, links that outlive their task (stop, timeouts, a failed branch, a retry, a
redrive), decisions at the same time and at the expiry, and a kill -9 right after a
decision. Each test asserts what a careful user expects; those that found a defect say so."""

import json
import os
import re
import threading
import unittest
import time
import urllib.error
import urllib.parse
import urllib.request

import batontest
import servertest

A, B = "alice@example.com", "bob@example.com"
X = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>'


def ask(params, **extra):
    return dict({"Type": "Task", "Resource": "arn:baton:states:::approval",
                 "Parameters": params}, **extra)


class Base(servertest.ServerTestCase):

    def http(self, path, data=None, headers=None, raw=None):
        body = raw if raw is not None else (
            urllib.parse.urlencode(data).encode() if data is not None else None)
        req = urllib.request.Request(self.server.url + path, data=body,
                                     headers=headers or {"User-Agent": "attack/1"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def run_machine(self, states, start="Ask", name="m", input_="{}", **top):
        sfn = self.client("stepfunctions")
        definition = dict({"StartAt": start, "States": states}, **top)
        sm = sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                      roleArn=servertest.ROLE)["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=sm, input=input_)["executionArn"]
        return sfn, arn

    def outbox(self):
        """Every mail of the outbox, newest first, page after page (NextBefore)."""
        mails, path = [], "/outbox?format=json"
        while True:
            _, text = self.http(path)
            page = json.loads(text)
            mails += page["Mails"]
            if "NextBefore" not in page:
                return mails
            path = "/outbox?format=json&before=%d" % page["NextBefore"]

    def mails(self, n, timeout=10):
        deadline = time.time() + timeout
        while True:
            mails = self.outbox()
            if len(mails) >= n or time.time() > deadline:
                return mails
            time.sleep(0.05)

    def links(self, n):
        """[(to, path)] of the newest n approval mails, oldest first."""
        mails = self.mails(n)
        self.assertGreaterEqual(len(mails), n, mails)
        out = []
        for m in reversed(mails[:n]):
            found = re.findall(r"/approve/[A-Za-z0-9_-]{32}(?=\s)", m["Body"])
            self.assertEqual(len(found), 1, m["Body"])
            out.append((m["To"], found[0]))
        return out

    def nonce(self, path):
        status, text = self.http(path)
        self.assertEqual(status, 200, text)
        return re.search(r'name="nonce" value="([^"]+)"', text).group(1)

    def decide(self, path, decision, comment="", nonce=None):
        if nonce is None:
            nonce = self.nonce(path)
        return self.http(path, {"nonce": nonce, "decision": decision, "comment": comment})

    def reason(self, text):
        m = re.search(r'id="(?:reason|outcome)">([^<]*)<', text)
        return m.group(1) if m else text

    def audit(self):
        return json.loads(self.http("/baton/approvals")[1])


class ApprovalAttack(Base):

    # ---- defects found and fixed -----------------------------------------------------

    def test_a_comment_of_2000_non_ascii_characters_is_accepted(self):
        # The limit counted bytes: the page's textarea (maxlength=2000, characters) let a
        # browser send 2000 "é" (4000 bytes) and the decision was refused as "too long".
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A, B], "Required": 2},
                                                End=True)})
        (_, pa), (_, pb) = self.links(2)
        status, text = self.decide(pa, "approve", "x" * 2001)
        self.assertEqual(status, 400, text)
        self.assertIn("too long", text)
        status, text = self.decide(pa, "approve", "é" * 2000)
        self.assertEqual(status, 200, self.reason(text))
        self.assertEqual(self.decide(pb, "approve", "😀" * 2000)[0], 200)
        out = json.loads(self.wait_status(sfn, arn, "SUCCEEDED")["output"])
        self.assertEqual([a["comment"] for a in out["approvers"]], ["é" * 2000, "😀" * 2000])

    def test_the_subject_limit_counts_characters(self):
        # "at most 200 characters" refused 150 "é" (300 bytes).
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A], "Subject": "é" * 150},
                                                End=True)})
        mails = self.mails(1)
        self.assertEqual(len(mails), 1, sfn.describe_execution(executionArn=arn))
        self.assertEqual(mails[0]["Subject"], "é" * 150)
        sfn2, arn2 = self.run_machine({"Ask": ask({"Approvers": [A], "Subject": "é" * 201},
                                                  End=True)}, name="m2")
        d = self.wait_status(sfn2, arn2, "FAILED")
        self.assertEqual(d["error"], "Approval.InvalidParameters")
        self.assertIn("Subject", d["cause"])

    def test_addresses_that_cannot_be_mailed_are_refused(self):
        # "@", control characters and quotes passed for email addresses: the link was
        # mailed to "@" and "a\x01b@…" went into the SMTP envelope.
        bad = ["@", "a@", "@example.com", "a\u0001b@example.com", "a\u007fb@example.com",
               'a"b@example.com', "a@b@example.com", "a\u0085@example.com" + "\r"]
        for i, who in enumerate(bad):
            sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A, who]}, End=True)},
                                        name="bad%d" % i)
            d = self.wait_status(sfn, arn, "FAILED")
            self.assertEqual(d["error"], "Approval.InvalidParameters", who)
            self.assertIn("Approvers[1] is not an email address", d["cause"])
        self.assertEqual(self.mails(0, timeout=0), [])
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": ["älice@exämple.com"]},
                                                End=True)}, name="utf8")
        self.assertEqual([m["To"] for m in self.mails(1)], ["älice@exämple.com"])

    def test_an_unreadable_form_says_so_and_decides_nothing(self):
        # Invalid UTF-8 in the form answered "The form must say decision=approve…" although
        # it did: the parse failure is now named.
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A]}, End=True)})
        [(_, p)] = self.links(1)
        n = self.nonce(p)
        status, text = self.http(p, raw=("nonce=%s&decision=approve&comment=%%FF%%FE" % n)
                                 .encode())
        self.assertEqual(status, 400, text)
        self.assertIn("could not be read", self.reason(text))
        self.assertEqual(self.audit()["Decisions"], [])
        self.assertEqual(self.decide(p, "approve", nonce=n)[0], 200)
        self.wait_status(sfn, arn, "SUCCEEDED")

    # ---- what held ---------------------------------------------------------------------

    def test_markup_in_every_field_is_escaped(self):
        state = '<b>Ask</b>"\''
        sfn, arn = self.run_machine(
            {state: ask({"Approvers": [A], "Subject": X,
                         "Message": X + ' http://e.example/"><script>x</script>',
                         "Data": {X: X, "list": [X, {X: [X]}]}}, End=True)}, start=state)
        [(_, p)] = self.links(1)
        status, page = self.http(p)
        self.assertEqual(status, 200)
        for bad in ("<script", "<img", "<b>", "onerror=alert(2)>"):
            self.assertNotIn(bad, page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;", page)
        self.assertEqual(page.count("<form"), 1)
        status, text = self.decide(p, "approve", X)
        self.assertEqual(status, 200, text)
        self.assertNotIn("<script", text)
        self.assertNotIn("<img", text)
        status, outbox = self.http("/outbox")
        self.assertEqual(status, 200)
        self.assertNotIn("<script", outbox)
        self.assertNotIn("<img", outbox)
        self.assertIn('<a href="http://e.example/">', outbox)  # the link stops at the quote
        # JSON stays the text as given
        mail = self.mails(1)[0]
        self.assertEqual(mail["Subject"], X)
        out = json.loads(self.wait_status(sfn, arn, "SUCCEEDED")["output"])
        self.assertEqual(out["approvers"][0]["comment"], X)
        self.assertEqual(self.audit()["Decisions"][0]["Comment"], X)

    def test_a_subject_cannot_add_headers(self):
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A], "Subject": "a\r\nBcc: e@x"},
                                                End=True)})
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "Approval.InvalidParameters")
        # Unicode line breaks are not header breaks: the subject is encoded (RFC 2047)
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A],
                                                 "Subject": "a\u2028Bcc: e@x\u0085"},
                                                End=True)}, name="m2")
        self.assertEqual(self.mails(1)[0]["Subject"], "a\u2028Bcc: e@x\u0085")
        # sns:publish from a state machine with CR/LF in the Subject
        sns = self.client("sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=B)
        sfn, arn = self.run_machine(
            {"P": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                   "Parameters": {"TopicArn": topic, "Subject": "hi\r\nBcc: evil@x",
                                  "Message": {"k": X}}, "End": True}},
            start="P", name="pub")
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "SNS.InvalidParameterException")

    def test_the_outbox_is_not_cached_framed_or_scripted(self):
        # It holds every approver's link, yet it was served with no header at all: a shared
        # cache could keep it, another site could frame it.
        self.run_machine({"Ask": ask({"Approvers": [A], "Message": X}, End=True)})
        self.mails(1)
        for path, kind in (("/outbox", "text/html"), ("/outbox?format=json", "application/json")):
            with urllib.request.urlopen(self.server.url + path, timeout=10) as r:
                self.assertTrue(r.headers["Content-Type"].startswith(kind))
                self.assertEqual(r.headers["Cache-Control"], "no-store")
                self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
                if kind == "text/html":
                    self.assertEqual(r.headers["X-Frame-Options"], "DENY")
                    self.assertIn("default-src 'none'", r.headers["Content-Security-Policy"])
                    self.assertEqual(r.headers["Referrer-Policy"], "no-referrer")

    def test_a_full_outbox_does_not_stall_the_engine(self):
        # GET /outbox rendered up to 1000 mails whole, on the engine thread: 120 mails of
        # 256 KiB made a 90 MB page and held every other request for about a second (1000
        # such mails: most of a gigabyte and several seconds). A page now holds about 1 MiB
        # of bodies, and older mail is a link away. The page's size is the measure; the
        # wait of /health beside it only has to stay well under the old second or more
        # (sanitizer builds and a loaded machine included).
        sns = self.client("sns")
        topic = sns.create_topic(Name="big")["TopicArn"]
        for i in range(4):
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="u%d@example.com" % i)
        for m in self.mails(4):
            url = re.search(r"(http://\S+Action=ConfirmSubscription\S+)", m["Body"]).group(1)
            urllib.request.urlopen(url, timeout=10).read()
        for _ in range(30):
            sns.publish(TopicArn=topic, Message="<x>" * 87000)
        self.mails(124, timeout=30)
        took = []
        t = threading.Thread(target=lambda: took.append(len(self.http("/outbox")[1])))
        t.start()
        time.sleep(0.02)
        t0 = time.time()
        urllib.request.urlopen(self.server.url + "/health", timeout=30).read()
        health = time.time() - t0
        t.join()
        # (escaping makes at most 6 bytes of each byte of a body: &quot;)
        self.assertLess(took[0], 6 << 20, "the outbox page is %d bytes" % took[0])
        self.assertLess(health, 0.5, "/health waited %.2f s behind the outbox" % health)
        # Every mail is still there, page by page, each once, newest first.
        ids = [m["Id"] for m in self.outbox()]
        self.assertEqual(len(ids), 124)
        self.assertEqual(ids, sorted(set(ids), reverse=True))
        _, first = self.http("/outbox?format=json")
        first = json.loads(first)
        self.assertLessEqual(sum(len(m["Body"]) for m in first["Mails"]), 1 << 20)
        _, page = self.http("/outbox")
        self.assertIn('<a href="?before=%d">Older mail</a>' % first["NextBefore"], page)
        # A mail larger than the budget still gets a page of its own.
        _, one = self.http("/outbox?format=json&limit=1")
        self.assertEqual(len(json.loads(one)["Mails"]), 1)

    def test_huge_hostile_data(self):
        big = {"k": "<x>&" * 60000, "u": "\u2028\u0000".replace("\u0000", "") * 1000}
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A], "Data.$": "$"}, End=True)},
                                    input_=json.dumps(big))
        [(_, p)] = self.links(1)
        status, page = self.http(p)
        self.assertEqual(status, 200)
        self.assertGreater(len(page), 240000 * 2)
        self.assertNotIn("<x>", page)
        self.assertEqual(self.decide(p, "approve")[0], 200)
        self.wait_status(sfn, arn, "SUCCEEDED")

    def test_limits_of_the_parameters(self):
        cases = {
            "empty": {"Approvers": []},
            "not a list": {"Approvers": A},
            "repeat": {"Approvers": [A, A.upper()]},
            "n>m": {"Approvers": [A], "Required": 2},
            "zero": {"Approvers": [A], "Required": 0},
            "float": {"Approvers": [A], "Required": 1.0},
            "bool": {"Approvers": [A], "Required": True},
            "exp0": {"Approvers": [A], "ExpiresSeconds": 0},
            "exp-": {"Approvers": [A], "ExpiresSeconds": -5},
            "exp huge": {"Approvers": [A], "ExpiresSeconds": 2 ** 62},
            "101": {"Approvers": ["u%d@example.com" % i for i in range(101)]},
            "message": {"Approvers": [A], "Message": 5},
        }
        runs = {}
        for i, (k, params) in enumerate(cases.items()):
            runs[k] = self.run_machine({"Ask": ask(params, End=True)}, name="c%d" % i)
        for k, (sfn, arn) in runs.items():
            d = self.wait_status(sfn, arn, "FAILED")
            self.assertEqual(d["error"], "Approval.InvalidParameters", k)
        self.assertEqual(self.mails(0, timeout=0), [])
        # the most: 100 approvers, 100 links, each different
        sfn, arn = self.run_machine(
            {"Ask": ask({"Approvers": ["u%d@example.com" % i for i in range(100)],
                         "Required": 100}, End=True)}, name="hundred")
        links = self.links(100)
        self.assertEqual(len({p for _, p in links}), 100)
        self.assertIn("100 of 100 approvals", self.http(links[0][1])[1])

    def test_tampered_and_crossed_links(self):
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A, B], "Required": 2},
                                                End=True)})
        sfn2, arn2 = self.run_machine({"Ask": ask({"Approvers": [A]}, End=True)}, name="m2")
        links = self.links(3)
        pa, pb, pc = (p for _, p in links)
        na, nb, nc = self.nonce(pa), self.nonce(pb), self.nonce(pc)
        # another approver's nonce, another task's nonce, the id as nonce
        for n in (nb, nc, pa.rsplit("/", 1)[1], "", na[:-1]):
            status, text = self.decide(pa, "approve", nonce=n)
            self.assertEqual(status, 400, text)
        # every single-character change of the id
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        link_id = pa.rsplit("/", 1)[1]
        for i in range(0, 32, 3):
            c = alphabet[(alphabet.index(link_id[i]) + 1) % 64]
            status, _ = self.http("/approve/" + link_id[:i] + c + link_id[i + 1:],
                                  {"nonce": na, "decision": "approve"})
            self.assertEqual(status, 404)
        self.assertEqual(self.http(pa + "x")[0], 404)
        self.assertEqual(self.http(pa + "/")[0], 404)
        self.assertEqual(self.audit()["Decisions"], [])
        self.assertEqual(self.decide(pa, "approve", nonce=na)[0], 200)
        # replayed after its use, and after the decision
        self.assertEqual(self.decide(pa, "approve", nonce=na)[0], 410)
        self.assertEqual(self.decide(pb, "reject", nonce=nb)[0], 200)
        self.assertEqual(self.decide(pa, "approve", nonce=na)[0], 410)
        self.assertEqual(self.decide(pb, "approve", nonce=nb)[0], 410)
        self.assertEqual(self.wait_status(sfn, arn, "FAILED")["error"], "Approval.Rejected")
        self.assertEqual(sfn2.describe_execution(executionArn=arn2)["status"], "RUNNING")
        self.assertEqual(len(self.audit()["Decisions"]), 2)

    def test_links_outlive_their_task_and_say_so(self):
        gone = "no longer waiting for a decision"
        # StopExecution
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A]}, End=True)})
        [(_, p)] = self.links(1)
        n = self.nonce(p)
        sfn.stop_execution(executionArn=arn)
        status, text = self.decide(p, "approve", nonce=n)
        self.assertEqual(status, 410, text)
        self.assertIn(gone, text)
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "ABORTED")
        # the execution's TimeoutSeconds
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A]}, End=True)}, name="t",
                                    TimeoutSeconds=1)
        [(_, p)] = self.links(2)[1:]
        n = self.nonce(p)
        self.wait_status(sfn, arn, "TIMED_OUT")
        self.assertIn(gone, self.decide(p, "approve", nonce=n)[1])
        # a sibling branch fails: the branch's approval is cancelled
        sfn, arn = self.run_machine(
            {"P": {"Type": "Parallel", "End": True, "Branches": [
                {"StartAt": "Ask", "States": {"Ask": ask({"Approvers": [A]}, End=True)}},
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "F"},
                                            "F": {"Type": "Fail", "Error": "Boom"}}}]}},
            start="P", name="p")
        [(_, p)] = self.links(3)[2:]
        n = self.nonce(p)
        self.assertEqual(self.wait_status(sfn, arn, "FAILED")["error"], "Boom")
        status, text = self.decide(p, "approve", nonce=n)
        self.assertEqual(status, 410)
        self.assertIn(gone, text)
        self.assertEqual([d["Outcome"] for d in self.audit()["Decisions"]], [])
        self.assertEqual({r["Status"] for r in self.audit()["Requests"]}, {"cancelled"})

    def test_a_retry_or_a_redrive_mails_new_links_and_the_old_stay_dead(self):
        sfn, arn = self.run_machine({"Ask": ask(
            {"Approvers": [A]}, End=True,
            Retry=[{"ErrorEquals": ["Approval.Rejected"], "IntervalSeconds": 1,
                    "MaxAttempts": 1}])})
        [(_, p1)] = self.links(1)
        self.assertEqual(self.decide(p1, "reject")[0], 200)
        [_, (_, p2)] = self.links(2)
        self.assertNotEqual(p1, p2)
        self.assertEqual(self.http(p1)[0], 410)
        self.assertEqual(self.decide(p2, "reject")[0], 200)
        self.wait_status(sfn, arn, "FAILED")
        sfn.redrive_execution(executionArn=arn)
        [_, _, (_, p3)] = self.links(3)
        for old in (p1, p2):
            self.assertEqual(self.http(old)[0], 410)
        # after a kill -9, the old links still do not join the new request
        self.restart(kill=True)
        for old in (p1, p2):
            self.assertEqual(self.http(old)[0], 410)
        text = self.http(p3)[1]
        self.assertIn("None yet.", text)
        self.assertEqual(self.decide(p3, "approve")[0], 200)
        sfn = self.client("stepfunctions")
        out = json.loads(self.wait_status(sfn, arn, "SUCCEEDED")["output"])
        self.assertEqual([a["who"] for a in out["approvers"]], [A])

    def test_two_approvers_post_at_once_for_one_of_two(self):
        for round_ in range(3):
            sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A, B]}, End=True)},
                                        name="r%d" % round_)
            links = self.links(2 * (round_ + 1))[-2:]
            forms = [(p, self.nonce(p)) for _, p in links]
            results = [None, None]
            go = threading.Barrier(2)

            def post(i, decision):
                go.wait()
                p, n = forms[i]
                results[i] = self.http(p, {"nonce": n, "decision": decision})

            ts = [threading.Thread(target=post, args=(0, "approve")),
                  threading.Thread(target=post, args=(1, "reject"))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            statuses = sorted(r[0] for r in results)
            self.assertEqual(statuses, [200, 410], results)
            won = 0 if results[0][0] == 200 else 1
            d = self.wait_status(sfn, arn, "SUCCEEDED" if won == 0 else "FAILED")
            decided = [x for x in self.audit()["Decisions"] if x["ExecutionArn"] == arn]
            self.assertEqual(len(decided), 1)
            self.assertEqual(decided[0]["Approver"], links[won][0])
            if won == 0:
                self.assertEqual(json.loads(d["output"])["approvers"][0]["who"], links[0][0])

    def test_a_decision_racing_the_expiry_is_one_or_the_other(self):
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A], "ExpiresSeconds": 1},
                                                End=True)})
        [(_, p)] = self.links(1)
        n = self.nonce(p)
        deadline = json.loads(self.http("/baton/approvals")[1])["Requests"][0]["ExpiresAt"]
        self.assertTrue(deadline)
        time.sleep(0.85)
        status = None
        while status not in (200, 410):
            status, text = self.decide(p, "approve", nonce=n)
            self.assertIn(status, (200, 410), text)
        if status == 200:
            self.wait_status(sfn, arn, "SUCCEEDED")
            self.assertEqual(self.audit()["Requests"][0]["Status"], "approved")
        else:
            self.assertIn("expired", text)
            self.assertEqual(self.wait_status(sfn, arn, "FAILED")["error"], "Approval.Expired")
            self.assertEqual(self.audit()["Decisions"], [])

    def test_kill_right_after_the_decision_loses_nothing_and_mails_once(self):
        # Ask → Ask2: the POST answers after the decision and the transition to Ask2 are
        # durable; a kill -9 then neither loses Ask2's mail nor sends it twice.
        sfn, arn = self.run_machine({
            "Ask": ask({"Approvers": [A]}, Next="Ask2"),
            "Ask2": ask({"Approvers": [B], "Subject": "second"}, End=True)})
        [(_, p)] = self.links(1)
        status, _ = self.decide(p, "approve", "go")
        self.assertEqual(status, 200)
        self.restart(kill=True)
        mails = self.mails(2)
        time.sleep(0.5)
        mails = self.mails(2)
        self.assertEqual([m["Subject"] for m in mails], ["second", "Approval requested: Ask"])
        [_, (_, p2)] = self.links(2)
        self.assertEqual(self.http(p)[0], 410)
        self.assertEqual(self.decide(p2, "approve")[0], 200)
        sfn = self.client("stepfunctions")
        out = json.loads(self.wait_status(sfn, arn, "SUCCEEDED")["output"])
        self.assertEqual(out["approvers"][0]["who"], B)
        self.assertEqual([d["Approver"] for d in self.audit()["Decisions"]], [B, A])

    def test_the_callback_variant_is_not_served(self):
        # No task token is reachable for an approval: .waitForTaskToken is not the
        # approval resource, so SendTaskSuccess cannot go around the approvers.
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A], "T.$": "$$.Task.Token"},
                                                End=True,
                                                Resource="arn:baton:states:::approval"
                                                ".waitForTaskToken")})
        self.assertEqual(self.wait_status(sfn, arn, "FAILED")["error"], "States.TaskFailed")
        self.assertEqual(self.mails(0, timeout=0), [])


class ApprovalBehindAPrefix(Base):
    """public_url with a path (a proxy that serves Baton under /baton-approvals)."""

    def setUp(self):
        self.dir = servertest.tempfile.mkdtemp(prefix="baton-srv-")
        path = os.path.join(self.dir, "baton.yaml")
        with open(path, "w") as f:
            f.write("version: 1\npublic_url: https://proxy.example.test/baton-approvals/\n")
        self.server_args = ("--config", path)
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        self.server_args).start()

    def test_the_form_posts_back_to_the_link(self):
        # The form's action was "/approve/<id>": behind the proxy it posted to the host's
        # root, outside Baton, and no one could decide.
        sfn, arn = self.run_machine({"Ask": ask({"Approvers": [A]}, End=True)})
        body = self.mails(1)[0]["Body"]
        link = re.search(r"https://\S+/approve/[A-Za-z0-9_-]{32}(?=\s)", body).group(0)
        self.assertTrue(link.startswith("https://proxy.example.test/baton-approvals/approve/"))
        path = "/approve/" + link.rsplit("/", 1)[1]
        status, page = self.http(path)
        self.assertEqual(status, 200)
        action = re.search(r'<form method="post" action="([^"]*)"', page).group(1)
        self.assertEqual(urllib.parse.urljoin(link, action), link)
        self.assertEqual(urllib.parse.urljoin(self.server.url + path, action),
                         self.server.url + path)
        n = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
        self.assertEqual(self.http(path, {"nonce": n, "decision": "approve"})[0], 200)
        self.wait_status(sfn, arn, "SUCCEEDED")


if __name__ == "__main__":
    batontest.main()
