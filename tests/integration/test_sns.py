"""SNS on `baton serve` through boto3's sns client: topics and subscriptions, Publish to
queues (the envelope, raw delivery with attributes, filter policies), to a function (the SNS
event), to an HTTP endpoint this test serves on 127.0.0.1 (the confirmation handshake, the
headers, the signature checked with the served certificate), to email landing in the outbox
(GET /outbox as JSON and HTML, `baton outbox`), and sns:publish from a state machine."""

import base64
import http.server
import json
import os
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import batontest
import lambdatest
import servertest

ACCOUNT = servertest.ACCOUNT


class Endpoint:
    """An HTTP server on 127.0.0.1 that records every POST (headers and body)."""

    def __init__(self, status=200):
        self.posts = []
        self.status = status
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode()
                outer.posts.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n, timeout=15):
        deadline = time.time() + timeout
        while len(self.posts) < n and time.time() < deadline:
            time.sleep(0.05)
        assert len(self.posts) >= n, "expected %d posts, got %d" % (n, len(self.posts))
        return self.posts[n - 1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def canonical(m):
    if m["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (k, m[k]) for k in keys if k in m)


class Sns(lambdatest.LambdaTestCase):
    def setUp(self):
        super().setUp()
        self.sns = self.client("sns")
        self.sqs = self.client("sqs")

    def queue(self, name):
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        return url, arn

    def receive(self, url, n=1, timeout=10):
        got = []
        deadline = time.time() + timeout
        while len(got) < n and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10,
                                         MessageAttributeNames=["All"])
            got += r.get("Messages", [])
        return got

    def get_json(self, path):
        with urllib.request.urlopen(self.server.url + path, timeout=10) as r:
            return json.loads(r.read())

    def outbox(self):
        return self.get_json("/outbox?format=json")["Mails"]

    def wait_mails(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            mails = self.outbox()
            if len(mails) >= n:
                return mails
            time.sleep(0.05)
        self.fail("expected %d mails, outbox: %r" % (n, self.outbox()))

    def verify(self, message, cert_pem):
        """Checks an SNS signature with openssl (SignatureVersion 1: SHA1withRSA)."""
        with tempfile.TemporaryDirectory() as d:
            paths = {k: os.path.join(d, k) for k in ("cert", "pub", "sig", "data")}
            for k, data in (("cert", cert_pem.encode()),
                            ("sig", base64.b64decode(message["Signature"])),
                            ("data", canonical(message).encode())):
                with open(paths[k], "wb") as f:
                    f.write(data)
            subprocess.run(["openssl", "x509", "-in", paths["cert"], "-pubkey", "-noout",
                            "-out", paths["pub"]], check=True)
            digest = "-sha256" if message["SignatureVersion"] == "2" else "-sha1"
            r = subprocess.run(["openssl", "dgst", digest, "-verify", paths["pub"],
                                "-signature", paths["sig"], paths["data"]], capture_output=True)
            return r.returncode == 0

    # ---- topics and subscriptions ----

    def test_topics_and_subscriptions(self):
        arn = self.sns.create_topic(Name="Orders")["TopicArn"]
        self.assertEqual(arn, "arn:aws:sns:us-east-1:%s:Orders" % ACCOUNT)
        self.assertEqual(self.sns.create_topic(Name="Orders")["TopicArn"], arn)
        self.sns.create_topic(Name="Audit")
        topics = [t["TopicArn"] for t in self.sns.list_topics()["Topics"]]
        self.assertEqual(topics, ["arn:aws:sns:us-east-1:%s:Audit" % ACCOUNT, arn])
        _, qarn = self.queue("orders-q")
        sub = self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn,
                                 Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
        self.assertTrue(sub.startswith(arn + ":"))
        pending = self.sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
        self.assertEqual(pending["SubscriptionArn"], "pending confirmation")
        subs = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        self.assertEqual(sorted((s["Protocol"], s["SubscriptionArn"] == "PendingConfirmation")
                                for s in subs), [("email", True), ("sqs", False)])
        attrs = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs["SubscriptionsConfirmed"], "1")
        self.assertEqual(attrs["SubscriptionsPending"], "1")
        self.assertEqual(attrs["TopicArn"], arn)
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                                      AttributeValue="Shop")
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"],
                         "Shop")
        sa = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(sa["RawMessageDelivery"], "true")
        self.assertEqual(sa["Endpoint"], qarn)
        self.assertEqual(sa["PendingConfirmation"], "false")
        with self.assertRaises(Exception) as e:
            self.sns.subscribe(TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")
        self.assertIn("does not support this protocol string: carrier-pigeon",
                      e.exception.response["Error"]["Message"])
        with self.assertRaises(self.sns.exceptions.NotFoundException):
            self.sns.publish(TopicArn=arn + "x", Message="m")
        with self.assertRaises(Exception) as e:
            self.sns.set_subscription_attributes(SubscriptionArn=sub,
                                                 AttributeName="RawMessageDelivery",
                                                 AttributeValue="maybe")
        self.assertIn("Must be true or false", e.exception.response["Error"]["Message"])
        # Durable: a restart keeps topics and subscriptions.
        self.restart()
        self.sns = self.client("sns")
        self.assertEqual(len(self.sns.list_subscriptions()["Subscriptions"]), 2)
        self.sns.unsubscribe(SubscriptionArn=sub)
        self.assertEqual(len(self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]),
                         1)
        self.sns.delete_topic(TopicArn=arn)
        self.sns.delete_topic(TopicArn=arn)  # idempotent
        self.assertEqual(len(self.sns.list_topics()["Topics"]), 1)
        self.assertEqual(self.sns.list_subscriptions()["Subscriptions"], [])

    # ---- to queues ----

    def test_publish_to_sqs_envelope_raw_and_filter(self):
        arn = self.sns.create_topic(Name="T")["TopicArn"]
        env_url, env_arn = self.queue("env")
        raw_url, raw_arn = self.queue("raw")
        flt_url, flt_arn = self.queue("flt")
        env_sub = self.sns.subscribe(TopicArn=arn, Protocol="sqs",
                                     Endpoint=env_arn)["SubscriptionArn"]
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=raw_arn,
                           Attributes={"RawMessageDelivery": "true"})
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=flt_arn, Attributes={
            "FilterPolicy": json.dumps({"kind": ["approval"], "price": [{"numeric": [">", 10]}]})})
        attrs = {"kind": {"DataType": "String", "StringValue": "approval"},
                 "price": {"DataType": "Number", "StringValue": "12.5"}}
        mid = self.sns.publish(TopicArn=arn, Message="hello", Subject="Hi",
                               MessageAttributes=attrs)["MessageId"]
        self.sns.publish(TopicArn=arn, Message="cheap", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "approval"},
            "price": {"DataType": "Number", "StringValue": "3"}})
        envs = self.receive(env_url, 2)
        self.assertEqual(len(envs), 2)
        env = [json.loads(m["Body"]) for m in envs if json.loads(m["Body"])["Message"] == "hello"][0]
        self.assertEqual(list(env)[:5], ["Type", "MessageId", "TopicArn", "Subject", "Message"])
        self.assertEqual(env["Type"], "Notification")
        self.assertEqual(env["MessageId"], mid)
        self.assertEqual(env["TopicArn"], arn)
        self.assertEqual(env["Subject"], "Hi")
        self.assertEqual(env["SignatureVersion"], "1")
        self.assertEqual(env["MessageAttributes"]["price"], {"Type": "Number", "Value": "12.5"})
        self.assertIn("Action=Unsubscribe&SubscriptionArn=" + urllib.parse.quote(env_sub, safe=""),
                      env["UnsubscribeURL"])
        self.assertTrue(env["Timestamp"].endswith("Z"))
        self.assertNotIn("MessageAttributes", envs[0])  # attributes stay inside the envelope
        cert = urllib.request.urlopen(env["SigningCertURL"]).read().decode()
        self.assertIn("BEGIN CERTIFICATE", cert)
        self.assertTrue(self.verify(env, cert))
        raws = self.receive(raw_url, 2)
        hello = [m for m in raws if m["Body"] == "hello"][0]
        self.assertEqual(hello["MessageAttributes"]["kind"]["StringValue"], "approval")
        self.assertEqual(hello["MessageAttributes"]["price"]["DataType"], "Number")
        flt = self.receive(flt_url, 1, timeout=3)
        self.assertEqual([json.loads(m["Body"])["Message"] for m in flt], ["hello"])
        deliveries = self.get_json("/baton/deliveries")["Deliveries"]
        self.assertEqual(len(deliveries), 5)
        self.assertEqual({d["Status"] for d in deliveries}, {"delivered"})
        # PublishBatch
        r = self.sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two", "Subject": "bad\nsubject"}])
        self.assertEqual([s["Id"] for s in r["Successful"]], ["a"])
        self.assertEqual(r["Failed"][0]["Id"], "b")
        self.assertEqual(r["Failed"][0]["Code"], "InvalidParameter")
        self.assertEqual([m["Body"] for m in self.receive(raw_url, 1)], ["one"])

    def test_message_structure_json(self):
        arn = self.sns.create_topic(Name="S")["TopicArn"]
        url, qarn = self.queue("s")
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn,
                           Attributes={"RawMessageDelivery": "true"})
        self.sns.publish(TopicArn=arn, MessageStructure="json",
                         Message=json.dumps({"default": "d", "sqs": "for queues"}))
        self.assertEqual([m["Body"] for m in self.receive(url)], ["for queues"])
        with self.assertRaises(Exception) as e:
            self.sns.publish(TopicArn=arn, MessageStructure="json", Message='{"sqs": "x"}')
        self.assertIn("No default entry", e.exception.response["Error"]["Message"])

    def test_tags(self):
        arn = self.sns.create_topic(Name="Tagged", Tags=[
            {"Key": "team", "Value": "ops"}, {"Key": "empty", "Value": ""}])["TopicArn"]
        tags = lambda: self.sns.list_tags_for_resource(ResourceArn=arn)["Tags"]  # noqa: E731
        self.assertEqual(tags(), [{"Key": "empty", "Value": ""}, {"Key": "team", "Value": "ops"}])
        # the same tags again: the same topic; others: SNS's error
        self.assertEqual(self.sns.create_topic(Name="Tagged", Tags=[
            {"Key": "empty", "Value": ""}, {"Key": "team", "Value": "ops"}])["TopicArn"], arn)
        self.assertEqual(self.sns.create_topic(Name="Tagged")["TopicArn"], arn)
        with self.assertRaises(Exception) as e:
            self.sns.create_topic(Name="Tagged", Tags=[{"Key": "team", "Value": "dev"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "Invalid parameter: Tags Reason: Topic already exists with different tags")
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "dev"},
                                                     {"Key": "cost", "Value": "42"}])
        self.sns.untag_resource(ResourceArn=arn, TagKeys=["empty", "never-set"])
        self.assertEqual(tags(), [{"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "dev"}])
        # limits: 50 per topic, keys 1–128 and values 0–256 characters
        def error(**kw):
            with self.assertRaises(Exception) as e:
                self.sns.tag_resource(ResourceArn=kw.pop("arn", arn), **kw)
            return (e.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                    e.exception.response["Error"]["Code"])
        self.sns.tag_resource(ResourceArn=arn, Tags=[
            {"Key": "k%d" % i, "Value": "v"} for i in range(48)])
        self.assertEqual(len(tags()), 50)
        self.assertEqual(error(Tags=[{"Key": "one-more", "Value": "v"}]),
                         (400, "TagLimitExceeded"))
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "replaced"}])
        self.assertEqual(error(Tags=[{"Key": "é" * 129, "Value": "v"}]),
                         (400, "InvalidParameter"))
        self.assertEqual(error(Tags=[{"Key": "k1", "Value": "é" * 257}]),
                         (400, "InvalidParameter"))
        self.sns.untag_resource(ResourceArn=arn, TagKeys=["k%d" % i for i in range(1, 48)])
        self.sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "é" * 128, "Value": "é" * 256}])
        self.assertEqual(error(arn=arn + "-missing", Tags=[{"Key": "a", "Value": "b"}]),
                         (404, "ResourceNotFound"))
        with self.assertRaises(Exception) as e:
            self.sns.list_tags_for_resource(ResourceArn=arn + "-missing")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFound")
        want = [{"Key": "cost", "Value": "42"}, {"Key": "k0", "Value": "replaced"},
                {"Key": "team", "Value": "dev"}, {"Key": "é" * 128, "Value": "é" * 256}]
        self.assertEqual(tags(), want)
        # durable; and gone with the topic
        self.restart()
        self.sns = self.client("sns")
        self.assertEqual(tags(), want)
        self.sns.delete_topic(TopicArn=arn)
        arn = self.sns.create_topic(Name="Tagged")["TopicArn"]
        self.assertEqual(tags(), [])

    def test_large_message_is_stored_once_for_all_deliveries(self):
        # Queues that do not exist yet: the deliveries stay pending, retried, and the store
        # holds what the Publish promised; a restart loads them with their message.
        arn = self.sns.create_topic(Name="Big")["TopicArn"]
        n = 8
        qarns = ["arn:aws:sqs:us-east-1:%s:late-%d" % (ACCOUNT, i) for i in range(n)]
        for q in qarns:
            self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarns[0].replace("late-0", "raw"),
                           Attributes={"RawMessageDelivery": "true"})
        message = "big:" + "y" * (256 * 1024 - 4096)  # room for the envelope in a queue
        self.sns.publish(TopicArn=arn, Message=message, MessageAttributes={
            "k": {"DataType": "String", "StringValue": "v"}})
        db_path = os.path.join(self.server.data_dir, "baton.db")

        def rows(sql):
            db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()

        self.assertEqual(rows("SELECT LENGTH(message) FROM sns_message"), [(len(message),)])
        held = rows("SELECT COUNT(*), SUM(LENGTH(body)), SUM(LENGTH(meta)) FROM sns_delivery "
                    "WHERE kind = 'Notification'")[0]
        self.assertEqual(held[:2], (n + 1, 0))
        self.assertLess(held[2], (n + 1) * 2048)
        self.restart()
        self.sns = self.client("sns")
        self.sqs = self.client("sqs")
        urls = [self.queue("late-%d" % i)[0] for i in range(n)]
        raw_url = self.queue("raw")[0]
        for url in urls:
            got = self.receive(url, 1, timeout=15)
            self.assertEqual(len(got), 1, self.get_json("/baton/deliveries")["Deliveries"])
            env = json.loads(got[0]["Body"])
            self.assertEqual(env["Message"], message)
            self.assertEqual(env["MessageAttributes"], {"k": {"Type": "String", "Value": "v"}})
            self.assertIn("SubscriptionArn=" + urllib.parse.quote(arn, safe=""),
                          env["UnsubscribeURL"])
        raw = self.receive(raw_url, 1, timeout=15)
        self.assertEqual(raw[0]["Body"], message)
        self.assertEqual(raw[0]["MessageAttributes"]["k"]["StringValue"], "v")
        deadline = time.time() + 10
        while time.time() < deadline and rows("SELECT COUNT(*) FROM sns_message") != [(0,)]:
            time.sleep(0.1)
        self.assertEqual(rows("SELECT COUNT(*) FROM sns_message"), [(0,)])
        self.assertEqual(rows("SELECT status, COUNT(*) FROM sns_delivery GROUP BY status"),
                         [("delivered", n + 1)])

    # ---- to a function ----

    def test_publish_to_lambda(self):
        out = os.path.join(self.dir, "event.json")
        fn = self.function("onsns", "import json\ndef handler(event, context):\n"
                           "    open(%r, 'w').write(json.dumps(event))\n    return 1\n" % out)
        arn = self.sns.create_topic(Name="L")["TopicArn"]
        sub = self.sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
        mid = self.sns.publish(TopicArn=arn, Message="to a function", MessageAttributes={
            "a": {"DataType": "String", "StringValue": "b"}})["MessageId"]
        deadline = time.time() + 20
        while not os.path.exists(out) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
        with open(out) as f:
            event = json.load(f)
        rec = event["Records"][0]
        self.assertEqual(rec["EventSource"], "aws:sns")
        self.assertEqual(rec["EventSubscriptionArn"], sub)
        self.assertEqual(rec["Sns"]["MessageId"], mid)
        self.assertEqual(rec["Sns"]["Message"], "to a function")
        self.assertIsNone(rec["Sns"]["Subject"])
        self.assertEqual(rec["Sns"]["MessageAttributes"], {"a": {"Type": "String", "Value": "b"}})
        self.assertIn("SigningCertUrl", rec["Sns"])

    # ---- to an HTTP endpoint ----

    def test_publish_to_http_with_confirmation(self):
        ep = Endpoint()
        try:
            arn = self.sns.create_topic(Name="H")["TopicArn"]
            r = self.sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=ep.url,
                                   ReturnSubscriptionArn=True)
            sub = r["SubscriptionArn"]
            headers, body = ep.wait(1)
            conf = json.loads(body)
            self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
            self.assertEqual(headers["x-amz-sns-topic-arn"], arn)
            self.assertNotIn("x-amz-sns-subscription-arn", headers)
            self.assertEqual(headers["User-Agent"], "Amazon Simple Notification Service Agent")
            self.assertEqual(conf["Type"], "SubscriptionConfirmation")
            self.assertIn("You have chosen to subscribe to the topic " + arn, conf["Message"])
            cert = urllib.request.urlopen(conf["SigningCertURL"]).read().decode()
            self.assertTrue(self.verify(conf, cert))
            # Nothing goes to a pending endpoint.
            self.sns.publish(TopicArn=arn, Message="too early")
            time.sleep(0.5)
            self.assertEqual(len(ep.posts), 1)
            # The handshake: a GET of SubscribeURL confirms.
            with urllib.request.urlopen(conf["SubscribeURL"], timeout=10) as resp:
                self.assertIn(sub, resp.read().decode())
            sa = self.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
            self.assertEqual(sa["PendingConfirmation"], "false")
            mid = self.sns.publish(TopicArn=arn, Message="hello web", Subject="S")["MessageId"]
            headers, body = ep.wait(2)
            m = json.loads(body)
            self.assertEqual(headers["x-amz-sns-message-type"], "Notification")
            self.assertEqual(headers["x-amz-sns-message-id"], mid)
            self.assertEqual(headers["x-amz-sns-subscription-arn"], sub)
            self.assertTrue(headers["Content-Type"].startswith("text/plain"))
            self.assertEqual((m["Message"], m["Subject"], m["MessageId"]), ("hello web", "S", mid))
            for k in ("Timestamp", "SignatureVersion", "Signature", "SigningCertURL",
                      "UnsubscribeURL"):
                self.assertIn(k, m)
            self.assertTrue(self.verify(m, cert))
            m["Message"] = "tampered"
            self.assertFalse(self.verify(m, cert))
            # Raw delivery
            self.sns.set_subscription_attributes(SubscriptionArn=sub,
                                                 AttributeName="RawMessageDelivery",
                                                 AttributeValue="true")
            self.sns.publish(TopicArn=arn, Message="raw body")
            headers, body = ep.wait(3)
            self.assertEqual(body, "raw body")
            self.assertEqual(headers["x-amz-sns-rawdelivery"], "true")
        finally:
            ep.close()

    def test_http_endpoint_failing_is_retried_then_recorded(self):
        ep = Endpoint(status=500)
        try:
            arn = self.sns.create_topic(Name="F")["TopicArn"]
            self.sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=ep.url)
            conf = json.loads(ep.wait(1)[1])
            self.sns.confirm_subscription(TopicArn=arn, Token=conf["Token"])
            self.sns.publish(TopicArn=arn, Message="retry me")
            ep.wait(3, timeout=10)  # the confirmation (retried too) and retries
            ep.status = 200
            deadline = time.time() + 15
            while time.time() < deadline:
                ds = self.get_json("/baton/deliveries")["Deliveries"]
                if all(d["Status"] == "delivered" for d in ds):
                    break
                time.sleep(0.2)
            note = [d for d in ds if d["Kind"] == "Notification"][0]
            self.assertEqual(note["Status"], "delivered")
            self.assertGreaterEqual(note["Attempts"], 2)
            self.assertIn("HTTP 500", note["LastError"] or "")
            self.assertEqual(sum(1 for _, b in ep.posts if "retry me" in b and
                                 json.loads(b)["Type"] == "Notification"), note["Attempts"])
        finally:
            ep.close()

    # ---- to email: the outbox ----

    def test_email_to_outbox(self):
        arn = self.sns.create_topic(Name="Mail")["TopicArn"]
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                                      AttributeValue="Approvals")
        self.sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="alice@example.com")
        mails = self.wait_mails(1)
        self.assertEqual(mails[0]["To"], "alice@example.com")
        self.assertEqual(mails[0]["Subject"], "Approvals - Subscription Confirmation")
        link = [w for w in mails[0]["Body"].split() if "Action=ConfirmSubscription" in w][0]
        urllib.request.urlopen(link, timeout=10).read()
        subs = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        self.assertNotEqual(subs[0]["SubscriptionArn"], "PendingConfirmation")
        self.sns.publish(TopicArn=arn, Message="Please approve <order 7> & more",
                         Subject="Approval needed")
        mails = self.wait_mails(2)
        self.assertEqual(mails[0]["Subject"], "Approval needed")
        self.assertTrue(mails[0]["Body"].startswith("Please approve <order 7> & more\n"))
        self.assertIn("Action=Unsubscribe", mails[0]["Body"])
        req = urllib.request.Request(self.server.url + "/outbox",
                                     headers={"Accept": "application/json"})
        self.assertEqual(json.loads(urllib.request.urlopen(req).read())["Mails"], mails)
        html = urllib.request.urlopen(self.server.url + "/outbox").read().decode()
        self.assertIn("<h2>Approval needed</h2>", html)
        self.assertIn("Please approve &lt;order 7&gt; &amp; more", html)
        self.assertIn('<a href="http://', html)
        out = subprocess.run([batontest.BATON, "outbox", "--endpoint", self.server.url],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("to alice@example.com\nSubject: Approval needed\n\nPlease approve", out.stdout)
        out = subprocess.run([batontest.BATON, "outbox", "--json", "--endpoint", self.server.url],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(json.loads(out.stdout)["Mails"], mails)
        # email-json carries the envelope
        self.sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="bob@example.com")
        conf = json.loads(self.wait_mails(3)[0]["Body"])
        self.assertEqual(conf["Type"], "SubscriptionConfirmation")
        token = conf["Token"]
        self.sns.confirm_subscription(TopicArn=arn, Token=token)
        self.sns.publish(TopicArn=arn, Message="json mail")
        mails = self.wait_mails(5)
        bob = [m for m in mails if m["To"] == "bob@example.com"][0]
        self.assertEqual(json.loads(bob["Body"])["Message"], "json mail")
        with self.assertRaises(Exception) as e:
            self.sns.confirm_subscription(TopicArn=arn, Token="nope")
        self.assertEqual(e.exception.response["Error"]["Message"], "Invalid parameter: Token")

    # ---- from a state machine ----

    def test_sns_publish_task(self):
        arn = self.sns.create_topic(Name="Flow")["TopicArn"]
        url, qarn = self.queue("flow")
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn,
                           Attributes={"RawMessageDelivery": "true"})
        sm = self.machine({"StartAt": "P", "States": {"P": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn.$": "$.topic", "Message.$": "$.msg",
                           "MessageAttributes": {"k": {"DataType": "String",
                                                       "StringValue": "v"}}},
            "End": True}}})
        ex, d = self.run_to_end(sm, {"topic": arn, "msg": {"hello": "world"}})
        self.assertEqual(d["status"], "SUCCEEDED", d)
        out = json.loads(d["output"])
        self.assertEqual(len(out["MessageId"]), 36)
        self.assertEqual(out["SdkHttpMetadata"]["HttpStatusCode"], 200)
        self.assertEqual(out["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"], "text/xml")
        self.assertEqual(out["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Type"], ["text/xml"])
        self.assertEqual(out["SdkResponseMetadata"]["RequestId"],
                         out["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"])
        msgs = self.receive(url)
        self.assertEqual(json.loads(msgs[0]["Body"]), {"hello": "world"})
        self.assertEqual(msgs[0]["MessageAttributes"]["k"]["StringValue"], "v")
        ex, d = self.run_to_end(sm, {"topic": arn + "-missing", "msg": "x"})
        self.assertEqual(d["status"], "FAILED")
        self.assertEqual(d["error"], "SNS.NotFoundException")
        self.assertTrue(d["cause"].startswith(
            "Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound;"))


if __name__ == "__main__":
    servertest.main()
