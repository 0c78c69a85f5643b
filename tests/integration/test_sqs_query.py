#!/usr/bin/env python3
"""`baton serve`'s SQS API in the query protocol (form requests, XML answers), as older
SDKs, Debian's botocore 1.29 and the aws CLI v2 it bundles speak it. The boto3 on PATH only
speaks JSON to SQS, so these tests build the form requests themselves, sign them with
botocore's SigV4 signer and read the XML with ElementTree: the common operations, the
flattened lists, attribute MD5s, a body that needs XML escaping, the queue named by the
request path, and the legacy error codes with AWS's HTTP statuses.
"""

import base64
import hashlib
import unittest
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import batontest
import test_sqs_json as base

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    SigV4Auth = None


def find(elem, path):
    """ElementTree find with the SQS namespace on every step."""
    return elem.find("/".join(NS + p for p in path.split("/")))


def findall(elem, path):
    return elem.findall("/".join(NS + p for p in path.split("/")))


@unittest.skipIf(SigV4Auth is None, "botocore is not installed")
class Query(base.SqsServer):
    def query(self, action, params=None, path="/"):
        """POSTs a signed form; returns (HTTP status, parsed XML root)."""
        fields = {"Action": action, "Version": "2012-11-05"}
        fields.update(params or {})
        body = urllib.parse.urlencode(fields)
        url = self.endpoint + path
        req = AWSRequest(method="POST", url=url, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials("test", "test"), "sqs", base.REGION).add_auth(req)
        http = urllib.request.Request(url, data=body.encode(), method="POST",
                                      headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(http, timeout=40) as r:
                return r.status, ET.fromstring(r.read())
        except urllib.error.HTTPError as e:
            return e.code, ET.fromstring(e.read())

    def ok(self, action, params=None, path="/"):
        status, root = self.query(action, params, path)
        self.assertEqual(status, 200, ET.tostring(root))
        self.assertEqual(root.tag, NS + action + "Response")
        self.assertTrue(find(root, "ResponseMetadata/RequestId").text)
        return root

    def error(self, status, code, action, params=None, path="/"):
        got, root = self.query(action, params, path)
        self.assertEqual(got, status, ET.tostring(root))
        self.assertEqual(root.tag, NS + "ErrorResponse")
        self.assertEqual(find(root, "Error/Type").text, "Sender")
        self.assertEqual(find(root, "Error/Code").text, code)
        self.assertTrue(find(root, "Error/Message").text)
        self.assertTrue(find(root, "RequestId").text)

    def create(self, name="q", **attrs):
        params = {"QueueName": name}
        for i, (k, v) in enumerate(attrs.items(), 1):
            params[f"Attribute.{i}.Name"] = k
            params[f"Attribute.{i}.Value"] = str(v)
        root = self.ok("CreateQueue", params)
        return find(root, "CreateQueueResult/QueueUrl").text

    def test_common_operations(self):
        url = self.create("q", VisibilityTimeout=45)
        self.assertEqual(url, f"{self.endpoint}/{base.ACCOUNT}/q")
        root = self.ok("GetQueueUrl", {"QueueName": "q"})
        self.assertEqual(find(root, "GetQueueUrlResult/QueueUrl").text, url)
        root = self.ok("ListQueues")
        self.assertEqual([e.text for e in findall(root, "ListQueuesResult/QueueUrl")], [url])
        root = self.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"})
        attrs = {find(a, "Name").text: find(a, "Value").text
                 for a in findall(root, "GetQueueAttributesResult/Attribute")}
        self.assertEqual(attrs["VisibilityTimeout"], "45")
        self.ok("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "DelaySeconds",
                                       "Attribute.1.Value": "0"})

        body = '"&quot;&quot;\r <tag> & é'
        root = self.ok("SendMessage", {
            "QueueUrl": url, "MessageBody": body,
            "MessageAttribute.1.Name": "Author", "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "jane",
            "MessageAttribute.2.Name": "Blob", "MessageAttribute.2.Value.DataType": "Binary",
            "MessageAttribute.2.Value.BinaryValue": base64.b64encode(b"\x00\xff").decode()})
        attrs_sent = {"Author": {"DataType": "String", "StringValue": "jane"},
                      "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
        self.assertEqual(find(root, "SendMessageResult/MD5OfMessageBody").text,
                         hashlib.md5(body.encode()).hexdigest())
        self.assertEqual(find(root, "SendMessageResult/MD5OfMessageAttributes").text,
                         base.md5_of_attributes(attrs_sent))
        root = self.ok("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "All",
                                          "MessageAttributeName.1": "All"})
        msg = find(root, "ReceiveMessageResult/Message")
        self.assertEqual(find(msg, "Body").text, body)  # CR and &quot; survive byte for byte
        names = sorted(find(a, "Name").text for a in findall(msg, "MessageAttribute"))
        self.assertEqual(names, ["Author", "Blob"])
        sys_attrs = {find(a, "Name").text: find(a, "Value").text
                     for a in findall(msg, "Attribute")}
        self.assertEqual(sys_attrs["ApproximateReceiveCount"], "1")
        handle = find(msg, "ReceiptHandle").text
        self.ok("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": handle,
                                            "VisibilityTimeout": "10"})
        self.ok("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": handle})
        root = self.ok("ReceiveMessage", {"QueueUrl": url})
        self.assertIsNone(find(root, "ReceiveMessageResult/Message"))
        self.ok("PurgeQueue", {"QueueUrl": url})
        self.error(403, "AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueue",
                   {"QueueUrl": url})
        self.ok("DeleteQueue", {"QueueUrl": url})
        self.error(400, "AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl",
                   {"QueueName": "q"})

    def test_queue_named_by_path(self):
        self.create("q")
        path = f"/{base.ACCOUNT}/q"
        self.ok("SendMessage", {"MessageBody": "by path"}, path=path)
        root = self.ok("ReceiveMessage", {}, path=path)
        self.assertEqual(find(root, "ReceiveMessageResult/Message/Body").text, "by path")
        self.error(400, "AWS.SimpleQueueService.NonExistentQueue", "SendMessage",
                   {"MessageBody": "x"}, path=f"/{base.ACCOUNT}/missing")

    def test_errors(self):
        url = self.create("q")
        self.create("q")
        self.error(400, "QueueAlreadyExists", "CreateQueue",
                   {"QueueName": "q", "Attribute.1.Name": "DelaySeconds",
                    "Attribute.1.Value": "3"})
        self.error(400, "MissingParameter", "SendMessage", {"QueueUrl": url})
        self.error(400, "InvalidAttributeName", "GetQueueAttributes",
                   {"QueueUrl": url, "AttributeName.1": "Bogus"})
        self.error(400, "AWS.SimpleQueueService.EmptyBatchRequest", "SendMessageBatch",
                   {"QueueUrl": url})
        self.error(400, "InvalidAction", "NoSuchAction", {"QueueUrl": url})

    def test_batches(self):
        url = self.create("q")
        root = self.ok("SendMessageBatch", {
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "one",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "two",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "901"})
        ok = findall(root, "SendMessageBatchResult/SendMessageBatchResultEntry")
        failed = findall(root, "SendMessageBatchResult/BatchResultErrorEntry")
        self.assertEqual([find(e, "Id").text for e in ok], ["a"])
        self.assertEqual(find(failed[0], "Id").text, "b")
        self.assertEqual(find(failed[0], "SenderFault").text, "true")
        root = self.ok("ReceiveMessage", {"QueueUrl": url})
        handle = find(root, "ReceiveMessageResult/Message/ReceiptHandle").text
        root = self.ok("DeleteMessageBatch", {
            "QueueUrl": url, "DeleteMessageBatchRequestEntry.1.Id": "x",
            "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handle})
        entries = findall(root, "DeleteMessageBatchResult/DeleteMessageBatchResultEntry")
        self.assertEqual([find(e, "Id").text for e in entries], ["x"])

    def test_tags(self):
        url = self.create("q")
        self.ok("TagQueue", {"QueueUrl": url, "Tag.1.Key": "env", "Tag.1.Value": "prod"})
        root = self.ok("ListQueueTags", {"QueueUrl": url})
        tags = {find(t, "Key").text: find(t, "Value").text
                for t in findall(root, "ListQueueTagsResult/Tag")}
        self.assertEqual(tags, {"env": "prod"})
        self.ok("UntagQueue", {"QueueUrl": url, "TagKey.1": "env"})


if __name__ == "__main__":
    batontest.main()
