#!/usr/bin/env python3
"""The AWS SDK for JavaScript v3 (@aws-sdk/client-sfn, @aws-sdk/client-sqs) against
`baton serve`: a small ES module creates a queue and a callback machine, starts an
execution, takes the task token from the queue, answers it with SendTaskSuccess, sees the
execution SUCCEEDED with that output and reads its history; then an SQS round trip in the
JSON protocol the SDK speaks (its middleware checks MD5OfMessageBody on send, on batch send
and on receive), and the errors the SDK raises by name.

Needs `node` and `npm`. The two packages are installed once from the npm registry into a
cache folder next to the binary (BATON_NPM_CACHE overrides it; $HOME/.cache/baton-npm when
that is not writable) and reused after; without the registry the test is skipped. So is a
Node older than the SDK's "engines" requirement.
"""

import json
import os
import shutil
import subprocess
import unittest

import npmcache
import servertest

PACKAGES = ("@aws-sdk/client-sfn", "@aws-sdk/client-sqs")

SCRIPT = r"""
import { SFNClient, CreateStateMachineCommand, StartExecutionCommand, DescribeExecutionCommand,
         GetExecutionHistoryCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { SQSClient, CreateQueueCommand, SendMessageCommand, SendMessageBatchCommand,
         ReceiveMessageCommand, DeleteMessageCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";

const endpoint = process.argv[2];
const common = { endpoint, region: "us-east-1", maxAttempts: 1,
                 credentials: { accessKeyId: "baton", secretAccessKey: "baton" } };
const sfn = new SFNClient(common);
const sqs = new SQSClient(common);
const out = {};

async function error(promise) {
  try { await promise; return null; }
  catch (e) { return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message }; }
}

const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "approvals" }));
out.queueUrl = QueueUrl;
const definition = { StartAt: "Ask", States: { Ask: { Type: "Task",
  Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
  Parameters: { QueueUrl, MessageBody: { "token.$": "$$.Task.Token", "request.$": "$" } },
  End: true } } };
const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({
  name: "approve", definition: JSON.stringify(definition),
  roleArn: "arn:aws:iam::123456789012:role/baton" }));
const started = await sfn.send(new StartExecutionCommand({
  stateMachineArn, name: "req-js", input: JSON.stringify({ amount: 42 }) }));
out.executionArn = started.executionArn;
out.startDateIsDate = started.startDate instanceof Date;

const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
const message = got.Messages[0];
const body = JSON.parse(message.Body);
out.request = body.request;
await sfn.send(new SendTaskSuccessCommand({ taskToken: body.token,
                                            output: JSON.stringify({ approved: true }) }));
await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
let described;
for (let i = 0; i < 100; i++) {
  described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  if (described.status !== "RUNNING") break;
  await new Promise((r) => setTimeout(r, 50));
}
out.status = described.status;
out.output = described.output;
const history = await sfn.send(new GetExecutionHistoryCommand({
  executionArn: started.executionArn }));
out.history = history.events.map((e) => [e.id, e.type, e.timestamp instanceof Date]);
out.again = await error(sfn.send(new SendTaskSuccessCommand({ taskToken: body.token,
                                                              output: "{}" })));
out.missing = await error(sfn.send(new DescribeExecutionCommand({
  executionArn: "arn:aws:states:us-east-1:123456789012:execution:approve:nope" })));

// SQS round trip: the SDK checks every MD5 it is given.
const text = "héllo <&> wörld 😀";
const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: text,
  MessageAttributes: { k: { DataType: "String", StringValue: "v" } } }));
const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [
  { Id: "a", MessageBody: "one" }, { Id: "b", MessageBody: "two" }] }));
out.batchOk = (batch.Successful ?? []).map((e) => e.Id).sort();
const seen = [];
for (let i = 0; i < 10 && seen.length < 3; i++) {
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10,
    MessageAttributeNames: ["All"], WaitTimeSeconds: 1 }));
  for (const m of r.Messages ?? []) {
    seen.push({ id: m.MessageId, body: m.Body, attrs: m.MessageAttributes ?? null });
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
}
out.sentId = sent.MessageId;
out.received = seen;
out.noQueue = await error(sqs.send(new GetQueueUrlCommand({ QueueName: "nope" })));
console.log(JSON.stringify(out));
"""


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node or npm is missing")
class SdkJs(servertest.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = npmcache.install(PACKAGES, npmcache.cache_dir())

    def test_callback_flow_and_sqs(self):
        script = os.path.join(self.root, f"baton-sdk-{os.getpid()}.mjs")
        with open(script, "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        try:
            p = subprocess.run(["node", script, self.server.url], capture_output=True,
                               text=True, timeout=120,
                               env={k: v for k, v in os.environ.items()
                                    if not k.startswith("AWS_")})
        finally:
            os.unlink(script)
        self.assertEqual(p.returncode, 0, f"{p.stderr}\n{self.server.read_log()}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        arn = "arn:aws:states:us-east-1:123456789012:execution:approve:req-js"
        self.assertEqual(out["queueUrl"], self.server.url + "/123456789012/approvals")
        self.assertEqual(out["executionArn"], arn)
        self.assertTrue(out["startDateIsDate"])
        self.assertEqual(out["request"], {"amount": 42})
        self.assertEqual(out["status"], "SUCCEEDED")
        self.assertEqual(json.loads(out["output"]), {"approved": True})
        self.assertEqual([e[:2] for e in out["history"]], [
            [1, "ExecutionStarted"], [2, "TaskStateEntered"], [3, "TaskScheduled"],
            [4, "TaskStarted"], [5, "TaskSubmitted"], [6, "TaskSucceeded"],
            [7, "TaskStateExited"], [8, "ExecutionSucceeded"]])
        self.assertTrue(all(e[2] for e in out["history"]), "timestamps parse as dates")
        self.assertEqual((out["again"]["name"], out["again"]["status"]), ("TaskTimedOut", 400))
        self.assertEqual(out["missing"]["name"], "ExecutionDoesNotExist")
        self.assertEqual(out["missing"]["message"], "Execution Does Not Exist: "
                         "'arn:aws:states:us-east-1:123456789012:execution:approve:nope'")
        self.assertEqual(out["batchOk"], ["a", "b"])
        bodies = sorted(m["body"] for m in out["received"])
        self.assertEqual(bodies, sorted(["héllo <&> wörld 😀", "one", "two"]))
        first = next(m for m in out["received"] if m["id"] == out["sentId"])
        self.assertEqual(first["attrs"], {"k": {"DataType": "String", "StringValue": "v"}})
        self.assertEqual(out["noQueue"], {"name": "QueueDoesNotExist", "status": 400,
                                          "message": "The specified queue does not exist."})


if __name__ == "__main__":
    servertest.main()
