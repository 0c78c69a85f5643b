"""Attacks on recent changes, over the real server: schedule targets that are not state
machines (refused PutTargets calls leave nothing behind, EventBridge's Input limit, 64-character
rule and target names on one FIFO queue, targets gone at fire time, a disabled rule), route
confirmation nonces (two POSTs at once, a deleted or cut key file), SNS tags (duplicate keys,
a deleted topic) and the CLI's signed requests (an endpoint written with a trailing slash)."""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import batontest
import servertest
import test_schedules as ts
from servertest import ACCOUNT, REGION

SQS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:"


def client_error():
    from botocore.exceptions import ClientError
    return ClientError


class ScheduleTargets(ts.Base):
    def queue(self, name, **attrs):
        return self.client("sqs").create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]

    def drain(self, url, wait=3):
        sqs, got, deadline = self.client("sqs"), [], time.time() + wait
        while time.time() < deadline:
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    AttributeNames=["All"])
            for m in r.get("Messages", []):
                got.append(m)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return got

    def test_refused_put_targets_leaves_nothing(self):
        ev = self.client("events")
        ev.put_rule(Name="many", ScheduleExpression="rate(1 hour)")
        six = [{"Id": "t%d" % i, "Arn": SQS + "q%d" % i} for i in range(6)]
        with self.assertRaises(client_error()) as cm:
            ev.put_targets(Rule="many", Targets=six)
        self.assertEqual(cm.exception.response["Error"]["Code"], "LimitExceededException")
        # a refused call changes nothing: not the first five of the six
        self.assertEqual(ev.list_targets_by_rule(Rule="many")["Targets"], [])
        ev.put_targets(Rule="many", Targets=six[:4])
        with self.assertRaises(client_error()) as cm:
            ev.put_targets(Rule="many", Targets=six[4:])
        self.assertEqual(cm.exception.response["Error"]["Code"], "LimitExceededException")
        self.assertEqual(sorted(t["Id"] for t in ev.list_targets_by_rule(Rule="many")[
            "Targets"]), ["t0", "t1", "t2", "t3"])
        # replacing an existing target is not a new one: still allowed at five
        ev.put_targets(Rule="many", Targets=[six[4]])
        r = ev.put_targets(Rule="many", Targets=[dict(six[0], Input='{"again": 1}')])
        self.assertEqual(r["FailedEntryCount"], 0)
        self.assertEqual(len(ev.list_targets_by_rule(Rule="many")["Targets"]), 5)
        # more than ten entries in one call (the API reference's limit per request)
        ev.put_rule(Name="eleven", ScheduleExpression="rate(1 hour)")
        with self.assertRaises(client_error()) as cm:
            ev.put_targets(Rule="eleven", Targets=[{"Id": "x%d" % i, "Arn": SQS + "q"}
                                                    for i in range(11)])
        self.assertIn(cm.exception.response["Error"]["Code"],
                      ("ValidationException", "LimitExceededException"))
        self.assertEqual(ev.list_targets_by_rule(Rule="eleven")["Targets"], [])

    def test_input_limit(self):
        ev = self.client("events")
        ev.put_rule(Name="big", ScheduleExpression="rate(1 minute)")
        url = self.queue("big-q")
        ok = json.dumps("x" * 8190)  # 8192 characters: the most EventBridge takes
        self.assertEqual(len(ok), 8192)
        r = ev.put_targets(Rule="big", Targets=[{"Id": "ok", "Arn": SQS + "big-q", "Input": ok}])
        self.assertEqual(r["FailedEntryCount"], 0)
        with self.assertRaises(client_error()) as cm:
            ev.put_targets(Rule="big", Targets=[{"Id": "huge", "Arn": SQS + "big-q",
                                                 "Input": json.dumps("y" * 300_000)}])
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "ValidationException")
        self.assertIn("8192", err["Message"])
        self.assertEqual([t["Id"] for t in ev.list_targets_by_rule(Rule="big")["Targets"]],
                         ["ok"])
        self.assertEqual(self.clock(61_000)["delivered"], 1)
        self.assertEqual([m["Body"] for m in self.drain(url)], [ok])

    def test_long_names_on_one_fifo_queue(self):
        ev = self.client("events")
        rule = "r" * 63 + "1"
        url = self.queue("long.fifo", FifoQueue="true")
        ids = ["t" * 63 + "a", "t" * 63 + "b"]
        ev.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")
        r = ev.put_targets(Rule=rule, Targets=[{"Id": i, "Arn": SQS + "long.fifo",
                                                "Input": json.dumps({"id": i})} for i in ids])
        self.assertEqual(r["FailedEntryCount"], 0)
        st = self.clock(61_000)
        self.assertEqual((st["fires"], st["delivered"]), (1, 2))
        got = self.drain(url)
        # both targets delivered (their deduplication ids differ), grouped by the rule
        self.assertEqual(sorted(json.loads(m["Body"])["id"] for m in got), ids)
        self.assertEqual({m["Attributes"]["MessageGroupId"] for m in got}, {rule})
        dedup = {m["Attributes"]["MessageDeduplicationId"] for m in got}
        self.assertEqual(len(dedup), 2)
        self.assertTrue(all(len(d) <= 128 for d in dedup), dedup)
        self.assertEqual(self.clock(60_000)["delivered"], 4)
        self.assertEqual(len(self.drain(url)), 2)

    def test_targets_gone_at_fire_time_and_a_disabled_rule(self):
        ev, sqs, sns = self.client("events"), self.client("sqs"), self.client("sns")
        live = self.queue("live")
        gone = self.queue("gone")
        topic = sns.create_topic(Name="gone-topic")["TopicArn"]
        ev.put_rule(Name="mixed", ScheduleExpression="rate(1 minute)")
        ev.put_targets(Rule="mixed", Targets=[
            {"Id": "live", "Arn": SQS + "live"},
            {"Id": "gone", "Arn": SQS + "gone"},
            {"Id": "topic", "Arn": topic},
            {"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nowhere"}])
        sqs.delete_queue(QueueUrl=gone)
        sns.delete_topic(TopicArn=topic)
        st = self.clock(61_000)
        self.assertEqual((st["fires"], st["delivered"]), (1, 1))
        self.assertEqual(len(self.drain(live)), 1)
        log = self.server.read_log()
        self.assertIn("target=gone", log)
        self.assertIn("target=fn", log)
        # disabled: nothing is delivered, however long; enabled: from the next minute
        ev.disable_rule(Name="mixed")
        self.assertEqual(self.clock(300_000)["delivered"], 1)
        self.assertEqual(self.drain(live, wait=1), [])
        ev.enable_rule(Name="mixed")
        self.assertEqual(self.clock(61_000)["delivered"], 2)
        self.assertEqual(len(self.drain(live)), 1)


class ScheduleCatchUp(ts.Base):
    project = """version: 1
queues:
  Late:
schedules:
  late:
    expression: rate(1 minute)
    queue: Late
    catch_up: true
    input: {late: true}
"""

    def test_catch_up_delivers_once_to_a_queue(self):
        self.restart_with(downtime_ms=10 * 60_000)
        time.sleep(0.3)
        st = self.clock(0)
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName="Late")["QueueUrl"]
        self.assertEqual(st["delivered"], 1)
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        self.assertEqual([json.loads(m["Body"]) for m in r.get("Messages", [])],
                         [{"late": True}])


# ---- route nonces ----

FUNCTION = """import json, os
def handler(event, context):
    with open(os.environ["EVENTS"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    return event
"""

ROUTES = """version: 1
functions:
  ok:
    runtime: python3.12
    handler: index.handler
    code: fn
    environment: {EVENTS: %s}
routes:
  - {method: GET, path: /approve, function: ok, confirm: true, request_template: {token: "$input.params('token')"}}
"""

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def request(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class RouteNonces(servertest.ServerTestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="baton-nonce-")
        os.mkdir(os.path.join(self.root, "fn"))
        with open(os.path.join(self.root, "fn", "index.py"), "w") as f:
            f.write(FUNCTION)
        self.events = os.path.join(self.root, "events")
        path = os.path.join(self.root, "baton.yaml")
        with open(path, "w") as f:
            f.write(ROUTES % self.events)
        self.server_args = ("--config", path)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.root, ignore_errors=True)

    def received(self):
        try:
            with open(self.events) as f:
                return [json.loads(x) for x in f if x.strip()]
        except OSError:
            return []

    def nonce(self, q):
        st, page = request(self.server.url + "/approve?" + q)
        self.assertEqual(st, 200)
        return html.unescape(re.search(rb'name="nonce" value="([^"]+)"', page).group(1).decode())

    def post(self, q, nonce):
        return request(self.server.url + "/approve?" + q, "POST",
                       urllib.parse.urlencode({"nonce": nonce}).encode(), FORM)

    def test_two_posts_at_once_run_once(self):
        n = self.nonce("token=race")
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.post("token=race", n)))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(st for st, _ in results), [200] + [403] * 7)
        time.sleep(0.3)
        self.assertEqual(self.received(), [{"token": "race"}])

    def test_deleted_key_refuses_old_pages_and_serves_new_ones(self):
        old = self.nonce("token=a")
        self.server.stop()
        os.unlink(os.path.join(self.server.data_dir, "route", "nonce-key"))
        self.server.start()
        st, body = self.post("token=a", old)
        self.assertEqual(st, 403, body)
        self.assertEqual(self.post("token=a", self.nonce("token=a"))[0], 200)
        key = os.path.join(self.server.data_dir, "route", "nonce-key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertEqual(os.path.getsize(key), 32)

    def test_cut_key_file_stops_the_start_with_its_name(self):
        self.server.stop()
        key = os.path.join(self.server.data_dir, "route", "nonce-key")
        with open(key, "r+b") as f:
            f.truncate(7)
        with self.assertRaises(AssertionError) as cm:
            self.server.start()
        self.assertIn("nonce-key", str(cm.exception))
        self.server.kill()
        os.unlink(key)
        self.server.start()


# ---- SNS tags ----

class SnsTags(servertest.ServerTestCase):
    def test_duplicate_keys_and_deleted_topics(self):
        sns = self.client("sns")
        arn = sns.create_topic(Name="tagged")["TopicArn"]
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "1"},
                                                {"Key": "k", "Value": "2"}])
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "k", "Value": "2"}])
        # 50 distinct keys, one of them given twice: within the limit
        tags = [{"Key": "k%02d" % i, "Value": ""} for i in range(49)] + [{"Key": "k", "Value": "3"}]
        sns.tag_resource(ResourceArn=arn, Tags=tags)
        self.assertEqual(len(sns.list_tags_for_resource(ResourceArn=arn)["Tags"]), 50)
        with self.assertRaises(client_error()) as cm:
            sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": ""}])
        self.assertEqual(cm.exception.response["Error"]["Code"], "TagLimitExceeded")
        sns.delete_topic(TopicArn=arn)
        for call in (lambda: sns.list_tags_for_resource(ResourceArn=arn),
                     lambda: sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": ""}]),
                     lambda: sns.untag_resource(ResourceArn=arn, TagKeys=["a"])):
            with self.assertRaises(client_error()) as cm:
                call()
            self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFound")
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        # the same name again: a topic without the old tags, also after a restart
        arn2 = sns.create_topic(Name="tagged")["TopicArn"]
        self.assertEqual(arn2, arn)
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=arn)["Tags"], [])
        self.restart()
        self.assertEqual(self.client("sns").list_tags_for_resource(ResourceArn=arn)["Tags"], [])


# ---- SNS: a message stored once, rendered after a restart ----

class SnsPendingAcrossRestart(servertest.ServerTestCase):
    def test_structured_message_rendered_and_signed_after_restart(self):
        import sqlite3
        import test_sns
        sns = self.client("sns")
        arn = sns.create_topic(Name="v2", Attributes={"SignatureVersion": "2"})["TopicArn"]
        # queues that do not exist yet: the deliveries stay pending until after the restart
        for name, raw in (("env", "false"), ("raw", "true")):
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=SQS + name,
                          Attributes={"RawMessageDelivery": raw})
        big = "s" * (200 * 1024)
        sns.publish(TopicArn=arn, MessageStructure="json", Subject="subj",
                    Message=json.dumps({"default": "d", "sqs": big}))
        db = os.path.join(self.server.data_dir, "baton.db")

        def count(sql):
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            try:
                return c.execute(sql).fetchone()[0]
            finally:
                c.close()

        self.assertEqual(count("SELECT COUNT(*) FROM sns_message"), 1)
        self.restart(kill=True)
        self.assertEqual(count("SELECT COUNT(*) FROM sns_message"), 1)
        sqs = self.client("sqs")
        urls = {n: sqs.create_queue(QueueName=n)["QueueUrl"] for n in ("env", "raw")}
        got = {}
        deadline = time.time() + 20
        while len(got) < 2 and time.time() < deadline:
            for n, url in urls.items():
                r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
                for m in r.get("Messages", []):
                    got[n] = m["Body"]
        self.assertEqual(got["raw"], big)
        env = json.loads(got["env"])
        self.assertEqual((env["Message"], env["Subject"], env["SignatureVersion"]),
                         (big, "subj", "2"))
        # the links were made at Publish, with the port the first server had
        cert = urllib.parse.urlsplit(env["SigningCertURL"]).path
        self.assertEqual(cert, "/baton/sns/SimpleNotificationService.pem")
        with urllib.request.urlopen(self.server.url + cert, timeout=10) as r:
            pem = r.read().decode()
        self.assertTrue(test_sns.Sns.verify(self, env, pem))
        forged = dict(env, Message=big + "x")
        self.assertFalse(test_sns.Sns.verify(self, forged, pem))
        deadline = time.time() + 10
        while time.time() < deadline and count("SELECT COUNT(*) FROM sns_message"):
            time.sleep(0.1)
        self.assertEqual(count("SELECT COUNT(*) FROM sns_message"), 0)


# ---- the CLI against --credentials ----

class CliSigned(servertest.ServerTestCase):
    def setUp(self):
        self.creds_dir = tempfile.mkdtemp(prefix="baton-creds-")
        path = os.path.join(self.creds_dir, "credentials")
        with open(path, "w") as f:
            f.write("AKIDCLI s3cret\n")
        os.chmod(path, 0o600)
        self.server_args = ("--credentials", path)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.creds_dir, ignore_errors=True)

    def baton(self, *args, **env):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update(env)
        return subprocess.run([batontest.BATON] + list(args), capture_output=True, text=True,
                              env=e, timeout=30)

    def test_outbox_signed_with_an_endpoint_ending_in_a_slash(self):
        keys = {"AWS_ACCESS_KEY_ID": "AKIDCLI", "AWS_SECRET_ACCESS_KEY": "s3cret"}
        r = self.baton("outbox", "--json", "--endpoint", self.server.url, **keys)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.baton("outbox", "--json", "--endpoint", self.server.url + "/", **keys)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), json.loads(self.baton(
            "outbox", "--json", "--endpoint", self.server.url, **keys).stdout))
        r = self.baton("outbox", "--endpoint", self.server.url,
                       AWS_ACCESS_KEY_ID="AKIDCLI", AWS_SECRET_ACCESS_KEY="wrong")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refused the signature", r.stderr)
        r = self.baton("outbox", "--endpoint", self.server.url)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("requires signed requests", r.stderr)
        # a session token in the environment does not break the signature
        r = self.baton("outbox", "--json", "--endpoint", self.server.url,
                       AWS_SESSION_TOKEN="tok", **keys)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    servertest.main()
