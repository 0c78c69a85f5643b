"""Mail over real SMTP: `baton serve` with the project file's `smtp:` sends a topic's email
through libcurl to an SMTP server this test runs on 127.0.0.1 (Debian's python3-aiosmtpd,
under /usr/bin/python3; skipped when it is absent): delivery with AUTH, a server that
refuses (451) and then accepts (the delivery is retried), and a `kill -9` of Baton between
the publish and the delivery (the mail arrives exactly once after the restart); STARTTLS to a
server with a certificate made at test time (`openssl`): delivered over TLS when `ca_file`
trusts it, refused (and retried, recorded plainly) when it does not, and no mail in the clear
to a server that offers no STARTTLS."""

import json
import os
import socket
import subprocess
import time
import unittest
import urllib.request

import servertest

SYSTEM_PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def have_aiosmtpd():
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"],
                              capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    def __init__(self, port, out, user=None, password=None, refuse=0, tls=None):
        args = [SYSTEM_PYTHON, os.path.join(HERE, "smtp_sink.py"), "--port", str(port),
                "--out", out, "--refuse", str(refuse)]
        if user:
            args += ["--user", user, "--password", password]
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.out = out
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("ready"), line

    def mails(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.proc.stdout.close()


class Smtp(servertest.ServerTestCase):
    def setUp(self):
        if not have_aiosmtpd():
            raise unittest.SkipTest("python3-aiosmtpd is not installed for " + SYSTEM_PYTHON)
        servertest.boto3_or_skip()
        self.sinks = []
        self.port = free_port()
        self.project = os.path.join(self.setup_dir(), "baton.yaml")
        os.environ["BATON_TEST_SMTP_PASSWORD"] = "s3cret"
        self.write_project()
        self.server_args = ("--config", self.project)
        super().setUp()
        self.topic = "arn:aws:sns:us-east-1:%s:Notify" % servertest.ACCOUNT

    def write_project(self):
        with open(self.project, "w") as f:
            f.write("version: 1\n"
                    "topics:\n"
                    "  Notify:\n"
                    "    subscriptions:\n"
                    "      - {protocol: email, endpoint: approver@example.com}\n"
                    "smtp:\n"
                    "  host: 127.0.0.1\n"
                    "  port: %d\n"
                    "  starttls: false\n"
                    "  username: baton\n"
                    "  password_env: BATON_TEST_SMTP_PASSWORD\n"
                    "  from: workflow@example.com\n" % self.port)

    def setup_dir(self):
        import tempfile
        self.conf_dir = tempfile.mkdtemp(prefix="baton-smtp-")
        return self.conf_dir

    def tearDown(self):
        for s in self.sinks:
            s.stop()
        super().tearDown()
        import shutil
        shutil.rmtree(self.conf_dir, ignore_errors=True)

    def sink(self, **kw):
        s = Sink(self.port, os.path.join(self.conf_dir, "mail-%d.jsonl" % len(self.sinks)), **kw)
        self.sinks.append(s)
        return s

    def deliveries(self):
        with urllib.request.urlopen(self.server.url + "/baton/deliveries", timeout=10) as r:
            return json.loads(r.read())["Deliveries"]

    def wait_for(self, pred, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out; deliveries: %r" % self.deliveries())

    def test_delivery_with_auth(self):
        sink = self.sink(user="baton", password="s3cret")
        sns = self.client("sns")
        subs = sns.list_subscriptions_by_topic(TopicArn=self.topic)["Subscriptions"]
        self.assertEqual(len(subs), 1)
        self.assertNotEqual(subs[0]["SubscriptionArn"], "PendingConfirmation")  # declared
        sns.publish(TopicArn=self.topic, Message="Please approve request 42.\nThanks",
                    Subject="Approval needed")
        mails = self.wait_for(sink.mails)
        self.assertEqual(len(mails), 1)
        m = mails[0]
        self.assertEqual(m["from"], "workflow@example.com")
        self.assertEqual(m["to"], ["approver@example.com"])
        self.assertEqual(m["login"], "baton")
        self.assertIn("Subject: Approval needed\r\n", m["data"])
        self.assertIn("To: approver@example.com\r\n", m["data"])
        self.assertIn("\r\n\r\nPlease approve request 42.\r\nThanks\r\n", m["data"])
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["Status"] == "delivered"])
        self.assertEqual(d[0]["Protocol"], "email")
        self.assertEqual(d[0]["Attempts"], 1)
        # Nothing went to the outbox.
        with urllib.request.urlopen(self.server.url + "/outbox?format=json") as r:
            self.assertEqual(json.loads(r.read())["Mails"], [])

    def test_wrong_password_is_retried_and_recorded(self):
        self.sink(user="baton", password="other")
        sink = self.sinks[0]
        self.client("sns").publish(TopicArn=self.topic, Message="m")
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["LastError"]], timeout=40)
        self.assertEqual(d[0]["Status"], "pending")
        self.assertEqual(sink.mails(), [])

    def test_refused_then_accepted(self):
        sink = self.sink(refuse=2)
        self.client("sns").publish(TopicArn=self.topic, Message="after retries")
        mails = self.wait_for(sink.mails, timeout=30)
        self.assertEqual(len(mails), 1)
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["Status"] == "delivered"])
        self.assertEqual(d[0]["Attempts"], 3)
        self.assertIn("451", d[0]["LastError"])
        time.sleep(1)
        self.assertEqual(len(sink.mails()), 1)

    def test_kill_between_publish_and_delivery(self):
        # No SMTP server yet: the delivery is promised (committed) but cannot be made.
        self.client("sns").publish(TopicArn=self.topic, Message="survives a crash",
                                   Subject="Crash")
        self.wait_for(lambda: [x for x in self.deliveries() if x["Attempts"] >= 1 and
                               x["LastError"]])
        self.restart(kill=True)  # SIGKILL, then start again on the same data
        sink = self.sink()
        mails = self.wait_for(sink.mails, timeout=60)
        self.assertIn("\r\n\r\nsurvives a crash\r\n", mails[0]["data"])
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["Status"] == "delivered"])
        self.assertGreaterEqual(d[0]["Attempts"], 2)
        self.restart()  # an orderly restart sends nothing again
        time.sleep(2)
        self.assertEqual(len(sink.mails()), 1)


def self_signed(folder, name):
    """A key and a self-signed certificate for 127.0.0.1 (its own CA), made with openssl."""
    cert, key = os.path.join(folder, name + ".pem"), os.path.join(folder, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


class SmtpTls(Smtp):
    """STARTTLS: the project file's smtp section with starttls and ca_file."""

    def setUp(self):
        self.ca = "ca.pem"
        super().setUp()

    def write_project(self):
        if not os.path.exists(os.path.join(self.conf_dir, "ca.pem")):
            self.cert = self_signed(self.conf_dir, "ca")
            self.other = self_signed(self.conf_dir, "other")
        with open(self.project, "w") as f:
            f.write("version: 1\n"
                    "topics:\n"
                    "  Notify:\n"
                    "    subscriptions:\n"
                    "      - {protocol: email, endpoint: approver@example.com}\n"
                    "smtp:\n"
                    "  host: 127.0.0.1\n"
                    "  port: %d\n"
                    "  starttls: true\n"
                    "  ca_file: %s\n"
                    "  from: workflow@example.com\n" % (self.port, self.ca))

    def test_starttls_delivers_over_tls(self):
        sink = self.sink(tls=self.cert)
        self.client("sns").publish(TopicArn=self.topic, Message="over TLS", Subject="TLS")
        mails = self.wait_for(sink.mails)
        self.assertEqual(len(mails), 1)
        self.assertIn(mails[0]["tls"], ("TLSv1.2", "TLSv1.3"))
        self.assertIn("\r\n\r\nover TLS\r\n", mails[0]["data"])
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["Status"] == "delivered"])
        self.assertEqual(d[0]["Attempts"], 1)

    def test_untrusted_certificate_fails_plainly(self):
        self.ca = "other.pem"  # trusts another certificate than the one the sink shows
        self.write_project()
        self.restart()
        sink = self.sink(tls=self.cert)
        self.client("sns").publish(TopicArn=self.topic, Message="never in the clear")
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["LastError"]])
        self.assertEqual(d[0]["Status"], "pending")  # retried with back-off
        self.assertIn("SSL certificate problem", d[0]["LastError"])
        time.sleep(1.5)
        self.assertEqual(sink.mails(), [])

    def test_starttls_is_required(self):
        sink = self.sink()  # offers no STARTTLS
        self.client("sns").publish(TopicArn=self.topic, Message="not in the clear")
        d = self.wait_for(lambda: [x for x in self.deliveries() if x["LastError"]])
        self.assertEqual(d[0]["Status"], "pending")
        self.assertRegex(d[0]["LastError"], "(?i)starttls|ssl|tls")
        time.sleep(1.5)
        self.assertEqual(sink.mails(), [])


for name in list(vars(Smtp)):
    if name.startswith("test_"):
        setattr(SmtpTls, name, None)  # the helpers only


if __name__ == "__main__":
    servertest.main()
