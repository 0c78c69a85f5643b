"""Signatures: with --credentials every request must be SigV4-signed by one of the keys
(AWS's error names per protocol otherwise); beyond loopback the server will not start
without --credentials or --insecure."""

import json
import os
import subprocess
import tempfile
import time

import batontest
import servertest
from servertest import ROLE

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


class Signed(servertest.ServerTestCase):

    def setUp(self):
        fd, keys = tempfile.mkstemp(prefix="baton-keys-")
        self.keys_file = keys
        with os.fdopen(fd, "w") as f:
            f.write("# test keys\nAKIDGOOD s3cr3t\n")
        os.chmod(keys, 0o600)
        self.server_args = ("--credentials", keys)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        os.unlink(self.keys_file)

    def client_with(self, service, key, secret):
        boto3 = servertest.boto3_or_skip()
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.server.url, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(retries={"max_attempts": 1}))

    def test_good_key_works(self):
        sfn = self.client_with("stepfunctions", "AKIDGOOD", "s3cr3t")
        arn = sfn.create_state_machine(name="m", definition=json.dumps(PASS),
                                       roleArn=ROLE)["stateMachineArn"]
        self.assertEqual(sfn.describe_state_machine(stateMachineArn=arn)["name"], "m")
        sqs = self.client_with("sqs", "AKIDGOOD", "s3cr3t")
        self.assertIn("QueueUrl", sqs.create_queue(QueueName="q"))

    def test_wrong_secret_and_unknown_key(self):
        from botocore.exceptions import ClientError
        sfn = self.client_with("stepfunctions", "AKIDGOOD", "wrong")
        with self.assertRaises(ClientError) as cm:
            sfn.list_state_machines()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidSignatureException")
        self.assertIn("signature we calculated does not match",
                      cm.exception.response["Error"]["Message"])
        sfn = self.client_with("stepfunctions", "AKIDNOBODY", "s3cr3t")
        with self.assertRaises(ClientError) as cm:
            sfn.list_state_machines()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")
        sqs = self.client_with("sqs", "AKIDGOOD", "wrong")
        with self.assertRaises(ClientError) as cm:
            sqs.list_queues()
        self.assertIn(cm.exception.response["Error"]["Code"],
                      ("SignatureDoesNotMatch", "InvalidSignatureException"))

    def test_unsigned_request_refused(self):
        st, body = self.raw("AWSStepFunctions.ListStateMachines", {})
        self.assertEqual(st, 400)
        self.assertEqual(body["__type"], "MissingAuthenticationTokenException")

    def test_outbox_needs_a_signature_but_the_certificate_does_not(self):
        # The outbox holds every mail, approval links included: with keys it is no longer
        # open to whoever reaches the port. SNS's signing certificate stays public.
        import urllib.error
        import urllib.request
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(self.server.url + "/outbox?format=json", timeout=10)
        self.assertIn(cm.exception.code, (400, 403))
        with self.assertRaises(urllib.error.HTTPError):
            urllib.request.urlopen(self.server.url + "/baton/deliveries", timeout=10)
        with urllib.request.urlopen(
                self.server.url + "/baton/sns/SimpleNotificationService.pem", timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"BEGIN CERTIFICATE", r.read())

    def test_outbox_and_approvals_verbs_sign_with_the_environment_keys(self):
        sns = self.client_with("sns", "AKIDGOOD", "s3cr3t")
        arn = sns.create_topic(Name="Mail")["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="alice@example.com")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}

        def verb(*args, keys=None):
            e = dict(env, **({"AWS_ACCESS_KEY_ID": keys[0], "AWS_SECRET_ACCESS_KEY": keys[1]}
                             if keys else {}))
            return subprocess.run([batontest.BATON] + list(args) + ["--endpoint", self.server.url],
                                  capture_output=True, text=True, timeout=30, env=e)

        good = ("AKIDGOOD", "s3cr3t")
        deadline = time.time() + 10
        while True:
            out = verb("outbox", "--json", keys=good)
            self.assertEqual(out.returncode, 0, out.stderr)
            mails = json.loads(out.stdout)["Mails"]
            if mails or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual([m["To"] for m in mails], ["alice@example.com"])
        out = verb("outbox", keys=good)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("to alice@example.com\n", out.stdout)
        out = verb("outbox", "--deliveries", keys=good)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("alice@example.com", out.stdout)
        out = verb("approvals", "--json", keys=good)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIsInstance(json.loads(out.stdout), dict)
        for args in (("outbox",), ("approvals",)):
            out = verb(*args)
            self.assertEqual(out.returncode, 254)
            self.assertIn("The server requires signed requests (it runs with --credentials): "
                          "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", out.stderr)
            out = verb(*args, keys=("AKIDGOOD", "wrong"))
            self.assertEqual(out.returncode, 254)
            self.assertIn("The server refused the signature", out.stderr)


class Listening(batontest.BatonTestCase):

    def test_beyond_loopback_needs_credentials(self):
        p = subprocess.run([batontest.BATON, "serve", "--listen", "0.0.0.0:0", "--data",
                            self.path("d")], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--credentials FILE", p.stderr)
        self.assertFalse(os.path.exists(self.path("d")), "nothing is created when refused")


if __name__ == "__main__":
    servertest.main()
