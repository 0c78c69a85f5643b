"""Queue triggers (trigger/) over the real server: a batch delivered as SQS records and
deleted on success, redelivered after the visibility timeout on an error,
ReportBatchItemFailures keeping only the failed messages, and the dead-letter queue after
maxReceiveCount."""

import hashlib
import json
import os
import time

import lambdatest
import servertest

# Appends each batch (the messageIds and bodies) to a file, then answers per the bodies.
RECORDER = """import json, os
def handler(event, context):
    recs = event["Records"]
    with open(%r, "a") as f:
        f.write(json.dumps(recs) + "\\n")
    bodies = [r["body"] for r in recs]
    if "crash" in bodies:
        raise Exception("crash")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                  for r in recs if r["body"].startswith("fail")]}
"""


class Triggers(lambdatest.LambdaTestCase):
    def setUp(self):
        super().setUp()
        self.log = os.path.join(self.dir, "batches")
        self.function("rec", RECORDER % self.log, timeout=5)
        self.sqs = self.client("sqs")

    def batches(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f]
        except OSError:
            return []

    def wait(self, cond, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.1)
        raise AssertionError("condition not met; batches: %r" % self.batches())

    def queue(self, name, **attrs):
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        return url, arn

    def count(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])

    def test_batch_and_delete_on_success(self):
        url, arn = self.queue("q1")
        sent = {}
        for i in range(3):
            sent["m%d" % i] = self.sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)["MessageId"]
        self.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="rec", BatchSize=10,
            MaximumBatchingWindowInSeconds=1)
        self.wait(lambda: sum(len(b) for b in self.batches()) == 3)
        self.assertEqual(len(self.batches()), 1)  # one invocation for the batch
        rec = self.batches()[0][0]
        self.assertEqual(sorted(rec), sorted([
            "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
            "md5OfBody", "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion"]))
        self.assertEqual(rec["messageId"], sent[rec["body"]])
        self.assertEqual(rec["md5OfBody"], hashlib.md5(rec["body"].encode()).hexdigest())
        self.assertTrue(rec["receiptHandle"])
        self.assertEqual(rec["messageAttributes"], {})
        self.assertEqual(rec["eventSource"], "aws:sqs")
        self.assertEqual(rec["eventSourceARN"], arn)
        self.assertEqual(rec["awsRegion"], servertest.REGION)
        attrs = rec["attributes"]
        self.assertEqual(sorted(attrs), ["ApproximateFirstReceiveTimestamp",
                                         "ApproximateReceiveCount", "SenderId", "SentTimestamp"])
        self.assertEqual(attrs["ApproximateReceiveCount"], "1")
        self.assertTrue(all(isinstance(v, str) for v in attrs.values()))
        self.assertLessEqual(int(attrs["SentTimestamp"]), int(attrs["ApproximateFirstReceiveTimestamp"]))
        self.assertIsNone(rec["md5OfMessageAttributes"])
        self.assertEqual(sorted(r["body"] for r in self.batches()[0]), ["m0", "m1", "m2"])
        self.wait(lambda: self.count(url) == 0)

    def test_message_attributes_record(self):
        url, arn = self.queue("qa")
        self.sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={
            "Author": {"DataType": "String", "StringValue": "John Grisham"}})
        self.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="rec", BatchSize=1)
        self.wait(lambda: len(self.batches()) == 1)
        rec = self.batches()[0][0]
        self.assertEqual(rec["messageAttributes"], {"Author": {
            "stringValue": "John Grisham", "stringListValues": [], "binaryListValues": [],
            "dataType": "String"}})
        self.assertRegex(rec["md5OfMessageAttributes"], "^[0-9a-f]{32}$")

    def test_disabled_mapping_does_not_poll(self):
        url, arn = self.queue("qd")
        lam = self.client("lambda")
        uuid = lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="rec", BatchSize=1, Enabled=False)["UUID"]
        self.assertEqual(lam.get_event_source_mapping(UUID=uuid)["State"], "Disabled")
        self.sqs.send_message(QueueUrl=url, MessageBody="held")
        time.sleep(2)
        self.assertEqual(self.batches(), [])
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(a["ApproximateNumberOfMessages"], "1")
        self.assertEqual(a["ApproximateNumberOfMessagesNotVisible"], "0")
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.wait(lambda: len(self.batches()) == 1)
        self.assertEqual(self.batches()[0][0]["body"], "held")
        self.wait(lambda: self.count(url) == 0)

    def test_mapping_survives_restart(self):
        url, arn = self.queue("qr")
        lam = self.client("lambda")
        uuid = lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="rec", BatchSize=5)["UUID"]
        self.sqs.send_message(QueueUrl=url, MessageBody="before")
        self.wait(lambda: len(self.batches()) == 1)
        self.wait(lambda: self.count(url) == 0)
        self.restart()
        self.sqs = self.client("sqs")
        m = self.client("lambda").get_event_source_mapping(UUID=uuid)
        self.assertEqual(m["EventSourceArn"], arn)
        self.assertEqual(m["BatchSize"], 5)
        self.assertEqual(m["State"], "Enabled")
        self.sqs.send_message(QueueUrl=url, MessageBody="after")
        self.wait(lambda: len(self.batches()) == 2)
        self.assertEqual(self.batches()[1][0]["body"], "after")
        self.wait(lambda: self.count(url) == 0)

    def test_error_redelivers_then_dead_letter(self):
        dlq_url, dlq_arn = self.queue("dlq")
        url, arn = self.queue("q2", VisibilityTimeout="1", RedrivePolicy=json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
        self.sqs.send_message(QueueUrl=url, MessageBody="crash")
        self.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="rec", BatchSize=1)
        self.wait(lambda: len(self.batches()) >= 2)
        counts = [b[0]["attributes"]["ApproximateReceiveCount"] for b in self.batches()[:2]]
        self.assertEqual(counts, ["1", "2"])
        self.wait(lambda: self.count(dlq_url) == 1)
        self.assertEqual(self.count(url), 0)
        self.assertEqual(len(self.batches()), 2)

    def test_report_batch_item_failures(self):
        url, arn = self.queue("q3", VisibilityTimeout="1")
        for body in ("ok1", "fail1", "ok2"):
            self.sqs.send_message(QueueUrl=url, MessageBody=body)
        self.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="rec", BatchSize=10,
            MaximumBatchingWindowInSeconds=1, FunctionResponseTypes=["ReportBatchItemFailures"])
        # fail1 alone comes back, again and again
        self.wait(lambda: any([r["body"] for r in b] == ["fail1"] for b in self.batches()))
        seen = [r["body"] for b in self.batches() for r in b]
        self.assertEqual(seen.count("ok1"), 1)
        self.assertEqual(seen.count("ok2"), 1)

    def test_validation(self):
        _, arn = self.queue("q4")
        lam = self.client("lambda")
        with self.assertRaises(lam.exceptions.InvalidParameterValueException) as e:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="rec", BatchSize=100)
        self.assertIn("Maximum batch window in seconds must be greater than 0",
                      str(e.exception))


if __name__ == "__main__":
    servertest.main()
