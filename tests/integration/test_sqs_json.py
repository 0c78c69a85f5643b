#!/usr/bin/env python3
"""`baton serve`'s SQS API in the AWS JSON 1.0 protocol, as boto3 (botocore >= 1.31.81)
speaks it: queues and their attributes, send/receive/delete with the MD5s SDKs check,
visibility timeouts, delays, long polls woken by sends, batches and their errors, purge,
FIFO order and deduplication, dead-letter redrive, tags, legacy error codes through
x-amzn-query-error, and messages surviving a restart. Under an older botocore (Debian's
1.29, run from /usr/bin/python3 as ctest's integration_debian_* entries do) the same tests
go through the query protocol (form requests, XML answers) instead.

Also home of SqsServer, the plumbing the other test_sqs_*.py files share: a server on a
loopback port with a scratch data folder, a boto3 client for it, and the AWS attribute MD5.
"""

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import batontest

try:
    import boto3
    import botocore.config
    from botocore.exceptions import ClientError
except ImportError:  # the suite needs boto3; without it every test is skipped
    boto3 = None

ACCOUNT = batontest.ACCOUNT
REGION = batontest.REGION


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def md5_of_attributes(attrs):
    """AWS's MD5OfMessageAttributes over boto3-shaped attributes (SQS developer guide)."""
    data = b""
    for name in sorted(attrs):
        a = attrs[name]
        for part in (name.encode(), a["DataType"].encode()):
            data += struct.pack(">I", len(part)) + part
        if "BinaryValue" in a:
            value = a["BinaryValue"]
            data += b"\x02" + struct.pack(">I", len(value)) + value
        else:
            value = a["StringValue"].encode()
            data += b"\x01" + struct.pack(">I", len(value)) + value
    return hashlib.md5(data).hexdigest()


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


@unittest.skipIf(boto3 is None, "boto3 is not installed")
class SqsServer(unittest.TestCase):
    """Starts `baton serve` on 127.0.0.1 for each test; self.sqs is a boto3 client."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="baton-sqs-")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.start()
        self.sqs = self.client("sqs")

    def tearDown(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        self.log = open(os.path.join(self.dir, "serve.log"), "ab")
        self.proc = subprocess.Popen(
            [batontest.BATON, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--data", os.path.join(self.dir, "data")],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"baton serve exited with {self.proc.returncode}: {self.server_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.fail("baton serve did not start listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def restart(self):
        self.stop()
        self.start()

    def server_log(self):
        with open(os.path.join(self.dir, "serve.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def client(self, service):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id="test", aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 1},
                                          read_timeout=40))

    def queue(self, name="q", **attributes):
        attrs = {k: str(v) for k, v in attributes.items()}
        return self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]

    def assertSqsError(self, code, call, *args, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(*args, **kwargs)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response)
        return cm.exception.response


class Queues(SqsServer):
    def test_create_get_list_delete(self):
        url = self.queue("orders")
        self.assertEqual(url, f"{self.endpoint}/{ACCOUNT}/orders")
        self.assertEqual(self.sqs.get_queue_url(QueueName="orders")["QueueUrl"], url)
        self.queue("other")
        self.assertEqual(self.sqs.list_queues()["QueueUrls"],
                         [url, f"{self.endpoint}/{ACCOUNT}/other"])
        self.assertEqual(self.sqs.list_queues(QueueNamePrefix="oth")["QueueUrls"],
                         [f"{self.endpoint}/{ACCOUNT}/other"])
        page = self.sqs.list_queues(MaxResults=1)
        self.assertEqual(len(page["QueueUrls"]), 1)
        rest = self.sqs.list_queues(MaxResults=1, NextToken=page["NextToken"])
        self.assertEqual(len(rest["QueueUrls"]), 1)
        self.assertNotIn("NextToken", rest)
        self.sqs.delete_queue(QueueUrl=url)
        self.assertSqsError("AWS.SimpleQueueService.NonExistentQueue",
                            self.sqs.get_queue_url, QueueName="orders")

    def test_create_is_idempotent(self):
        url = self.queue("q", VisibilityTimeout=60)
        self.assertEqual(self.queue("q", VisibilityTimeout=60), url)
        r = self.assertSqsError("QueueAlreadyExists", self.queue, "q", VisibilityTimeout=61)
        if self.sqs.meta.service_model.protocol == "json":
            # The JSON error names QueueNameExists; x-amzn-query-error carries the legacy code.
            self.assertEqual(r["Error"]["QueryErrorCode"], "QueueNameExists")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_aws_queue_urls_resolve_by_path(self):
        self.queue("q")
        for url in (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q",
                    f"https://queue.amazonaws.com/{ACCOUNT}/q"):
            self.sqs.send_message(QueueUrl=url, MessageBody="x")
        self.assertSqsError("AWS.SimpleQueueService.NonExistentQueue", self.sqs.send_message,
                            QueueUrl=f"http://127.0.0.1:{self.port}/999999999999/q",
                            MessageBody="x")

    def test_attributes(self):
        url = self.queue("q", DelaySeconds=5)
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["DelaySeconds"], "5")
        self.assertEqual(attrs["VisibilityTimeout"], "30")
        self.assertEqual(attrs["MessageRetentionPeriod"], "345600")
        self.assertEqual(attrs["QueueArn"], f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45"})
        one = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        self.assertEqual(one["Attributes"], {"VisibilityTimeout": "45"})
        self.assertSqsError("InvalidAttributeValue", self.sqs.set_queue_attributes,
                            QueueUrl=url, Attributes={"DelaySeconds": "901"})
        self.assertSqsError("InvalidAttributeName", self.sqs.get_queue_attributes,
                            QueueUrl=url, AttributeNames=["Bogus"])

    def test_tags(self):
        url = self.queue("q")
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "team": "a"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"env": "prod"})


class Messages(SqsServer):
    def test_send_receive_delete_with_md5s(self):
        url = self.queue("q")
        attrs = {"Author": {"DataType": "String", "StringValue": "jane"},
                 "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
                 "Price": {"DataType": "Number.float", "StringValue": "1.5"}}
        body = "Information about the largest city in Any Region. é€😀"
        sent = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
        self.assertEqual(sent["MD5OfMessageBody"], md5(body))
        self.assertEqual(sent["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        got = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                                       AttributeNames=["All"])["Messages"]
        self.assertEqual(len(got), 1)
        m = got[0]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MD5OfBody"], md5(body))
        self.assertEqual(m["MessageAttributes"], attrs)
        self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(m["Attributes"]["SenderId"], ACCOUNT)
        self.assertGreater(int(m["Attributes"]["SentTimestamp"]), 1_600_000_000_000)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))

    def test_no_attributes_no_md5(self):
        url = self.queue("q")
        self.assertNotIn("MD5OfMessageAttributes",
                         self.sqs.send_message(QueueUrl=url, MessageBody="x"))
        m = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
        self.assertNotIn("MD5OfMessageAttributes", m)

    def test_invalid_messages(self):
        url = self.queue("q")
        self.assertSqsError("InvalidMessageContents", self.sqs.send_message, QueueUrl=url,
                            MessageBody="bad \x01")
        self.assertSqsError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url,
                            MessageBody="x" * 262145)
        self.assertSqsError("InvalidParameterValue", self.sqs.receive_message, QueueUrl=url,
                            MaxNumberOfMessages=11)
        self.assertSqsError("ReceiptHandleIsInvalid", self.sqs.delete_message, QueueUrl=url,
                            ReceiptHandle="garbage")

    def test_visibility_timeout(self):
        url = self.queue("q")
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        first = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        time.sleep(1.3)
        again = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
        self.assertEqual(again["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertNotEqual(again["ReceiptHandle"], first["ReceiptHandle"])
        # The stale handle neither deletes nor changes visibility.
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.assertSqsError("InvalidParameterValue", self.sqs.change_message_visibility,
                            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"],
                            VisibilityTimeout=0)
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"],
                                           VisibilityTimeout=0)
        self.assertIn("Messages", self.sqs.receive_message(QueueUrl=url))

    def test_delay(self):
        url = self.queue("q")
        self.sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
        self.assertEqual(attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"], "1")
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)
        self.assertEqual(got["Messages"][0]["Body"], "later")

    def test_long_poll_woken_by_send(self):
        url = self.queue("q")
        result = {}

        def poll():
            t = time.time()
            result["r"] = self.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=10)
            result["t"] = time.time() - t

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.5)
        self.sqs.send_message(QueueUrl=url, MessageBody="wake")
        th.join(15)
        self.assertEqual(result["r"]["Messages"][0]["Body"], "wake")
        self.assertLess(result["t"], 5)

    def test_long_poll_times_out_empty(self):
        url = self.queue("q", ReceiveMessageWaitTimeSeconds=1)
        t = time.time()
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.assertGreaterEqual(time.time() - t, 0.9)

    def test_purge(self):
        url = self.queue("q")
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        self.sqs.purge_queue(QueueUrl=url)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        r = self.assertSqsError("AWS.SimpleQueueService.PurgeQueueInProgress",
                                self.sqs.purge_queue, QueueUrl=url)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 403)

    def test_messages_survive_restart(self):
        url = self.queue("q", VisibilityTimeout=60)
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="durable")
        self.sqs.send_message(QueueUrl=url, MessageBody="in flight")
        held = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.restart()
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["in flight"])
        self.assertEqual(held["MessageId"], sent["MessageId"])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])
        self.assertEqual(self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"],
            {"VisibilityTimeout": "60"})


class Batches(SqsServer):
    def test_send_and_delete_batch(self):
        url = self.queue("q")
        r = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "bad \x02"}])
        self.assertEqual([e["Id"] for e in r["Successful"]], ["a"])
        self.assertEqual(r["Failed"][0]["Id"], "b")
        self.assertTrue(r["Failed"][0]["SenderFault"])
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        d = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "x", "ReceiptHandle": got[0]["ReceiptHandle"]},
            {"Id": "y", "ReceiptHandle": "garbage"}])
        self.assertEqual([e["Id"] for e in d["Successful"]], ["x"])
        self.assertEqual(d["Failed"][0]["Code"], "ReceiptHandleIsInvalid")

    def test_batch_errors(self):
        url = self.queue("q")
        many = [{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)]
        self.assertSqsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                            self.sqs.send_message_batch, QueueUrl=url, Entries=many)
        self.assertSqsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": "a", "MessageBody": "x"}] * 2)
        self.assertSqsError("AWS.SimpleQueueService.InvalidBatchEntryId",
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": "a.b", "MessageBody": "x"}])
        self.assertSqsError("AWS.SimpleQueueService.BatchRequestTooLong",
                            self.sqs.send_message_batch, QueueUrl=url,
                            Entries=[{"Id": f"e{i}", "MessageBody": "x" * 100000}
                                     for i in range(3)])

    def test_change_visibility_batch(self):
        url = self.queue("q")
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        m = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        r = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "a", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}])
        self.assertEqual(r["Successful"], [{"Id": "a"}])
        self.assertIn("Messages", self.sqs.receive_message(QueueUrl=url))


class Fifo(SqsServer):
    def fifo(self, **attrs):
        return self.queue("f.fifo", FifoQueue="true", **attrs)

    def test_order_groups_and_dedup(self):
        url = self.fifo(ContentBasedDeduplication="true")
        for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a")):
            r = self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
            self.assertIn("SequenceNumber", r)
        dup = self.sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a")
        first = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.assertEqual(first["Body"], "a1")
        self.assertEqual(first["MessageId"], dup["MessageId"])
        rest = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([m["Body"] for m in rest], ["b1"])  # group a is in flight

    def test_fifo_rules(self):
        url = self.fifo()
        self.assertSqsError("MissingParameter", self.sqs.send_message, QueueUrl=url,
                            MessageBody="x")
        self.assertSqsError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url,
                            MessageBody="x", MessageGroupId="g")
        self.assertSqsError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url,
                            MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
                            DelaySeconds=2)


class DeadLetters(SqsServer):
    def test_redrive_after_max_receives(self):
        dlq = self.queue("dlq")
        arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        src = self.queue("src", RedrivePolicy=f'{{"deadLetterTargetArn":"{arn}",'
                                              f'"maxReceiveCount":2}}')
        self.sqs.send_message(QueueUrl=src, MessageBody="poison")
        for _ in range(2):
            self.assertIn("Messages", self.sqs.receive_message(QueueUrl=src, VisibilityTimeout=0))
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=src))
        m = self.sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
        self.assertEqual(m["Body"], "poison")
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"],
                         [src])


if __name__ == "__main__":
    batontest.main()
