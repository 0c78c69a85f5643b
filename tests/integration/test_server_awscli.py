#!/usr/bin/env python3
"""The aws CLI against `baton serve`, in both generations installed side by side: the one
on PATH (aws-cli 1.x on a current botocore, JSON protocol for SQS) and Debian's
/usr/bin/aws (aws-cli 2.9, SQS in the query protocol). Each is skipped when absent.

The README's "whole callback flow" is taken from README.md itself — the environment lines
and the copy-paste block — and run with bash against a real server, so the README stays
true; the final describe-execution must say SUCCEEDED with {"approved": true}. Then the
CLI's error reporting: exit status (255 for 1.x, 254 for 2.x on a service error) and
"An error occurred (Code) when calling the Op operation: message" on stderr.
"""

import json
import os
import re
import shutil
import subprocess
import unittest

import batontest
import servertest

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
README_EP = "EP=http://127.0.0.1:8083"
ARN = "arn:aws:states:us-east-1:123456789012"


def readme_callback_flow():
    """The README's environment lines and its callback-flow commands, as a bash script."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## The server\n", 1)[1].split("\n## ", 1)[0]
    blocks, cur = [], []
    for line in section.split("\n"):   # indented code blocks, blank lines inside kept
        if line.startswith("    ") or (cur and line == ""):
            cur.append(line[4:])
        elif cur:
            blocks.append("\n".join(cur).strip("\n"))
            cur = []
    if cur:
        blocks.append("\n".join(cur).strip("\n"))
    env = next(b for b in blocks if b.startswith("export AWS_ACCESS_KEY_ID"))
    flow = next(b for b in blocks if b.startswith("aws sqs create-queue"))
    return env, flow


def cli_major(aws):
    p = subprocess.run([aws, "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"aws-cli/(\d+)\.", p.stdout + p.stderr)
    return int(m.group(1)) if m else None


def json_documents(text):
    """The JSON documents printed one after another (the CLI's default output)."""
    dec, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


class CliBase(servertest.ServerTestCase):
    """Runs bash scripts with `aws` resolving to self.aws, against this test's server."""

    aws = None  # set by the subclasses

    def setUp(self):
        if not self.aws or not shutil.which(self.aws):
            raise unittest.SkipTest(f"no aws CLI at {self.aws!r}")
        self.major = cli_major(self.aws)
        if self.major is None:
            raise unittest.SkipTest(f"{self.aws} --version says nothing usable")
        super().setUp()
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        os.symlink(shutil.which(self.aws), os.path.join(self.bin, "aws"))

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") or k in ("AWS_DATA_PATH",)}
        env.update(PATH=self.bin + os.pathsep + env.get("PATH", ""),
                   AWS_CONFIG_FILE=os.path.join(self.dir, "no-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.dir, "no-credentials"),
                   AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
        return env

    def bash(self, script, timeout=120):
        return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script],
                              capture_output=True, text=True, timeout=timeout, env=self.env(),
                              cwd=self.dir)

    def preamble(self):
        env, _ = readme_callback_flow()
        self.assertIn(README_EP, env)
        return env.replace(README_EP, "EP=" + self.server.url) + "\n"

    def error_status(self):
        return 255 if self.major == 1 else 254

    def test_readme_callback_flow(self):
        env, flow = readme_callback_flow()
        self.assertIn("/tmp/approve.json", flow)
        flow = flow.replace("/tmp/approve.json", os.path.join(self.dir, "approve.json"))
        # After the README's commands: the same token again must fail with TaskTimedOut.
        script = (self.preamble() + flow + "\n" +
                  'set +e\naws stepfunctions send-task-success --endpoint-url $EP '
                  '--task-token "$TOKEN" --task-output \'{"approved": false}\'\n'
                  'echo "again=$?"\n')
        p = self.bash(script)
        self.assertIn("again=", p.stdout, f"the README's flow failed (exit {p.returncode})\n"
                      f"stdout: {p.stdout}\nstderr: {p.stderr}\n{self.server.read_log()}")
        out, again = p.stdout.rsplit("again=", 1)
        docs = json_documents(out)
        described = [d for d in docs if "status" in d and "executionArn" in d]
        self.assertEqual(len(described), 1, docs)
        d = described[0]
        self.assertEqual(d["executionArn"], f"{ARN}:execution:approve:req-1")
        self.assertEqual(d["status"], "SUCCEEDED", d)
        self.assertEqual(json.loads(d["output"]), {"approved": True})
        self.assertEqual(json.loads(d["input"]), {"amount": 42})
        history = [doc for doc in docs if "events" in doc]
        self.assertEqual(len(history), 1, docs)
        types = [e["type"] for e in history[0]["events"]]
        self.assertEqual(types, ["ExecutionStarted", "TaskStateEntered", "TaskScheduled",
                                 "TaskStarted", "TaskSubmitted", "TaskSucceeded",
                                 "TaskStateExited", "ExecutionSucceeded"])
        self.assertEqual(int(again.strip()), self.error_status(), p.stderr)
        self.assertIn("An error occurred (TaskTimedOut) when calling the SendTaskSuccess "
                      "operation: Task Timed Out: 'Provided task does not exist anymore' "
                      f"(execution {ARN}:execution:approve:req-1 ended SUCCEEDED at ", p.stderr)

    def cli_error(self, command):
        p = self.bash(self.preamble() + "set +e\n" + command)
        self.assertEqual(p.returncode, self.error_status(), f"{p.stdout}\n{p.stderr}")
        self.assertEqual(p.stdout, "")
        return p.stderr.strip()

    def test_errors(self):
        missing = f"{ARN}:execution:approve:nope"
        self.assertEqual(
            self.cli_error(f"aws stepfunctions describe-execution --endpoint-url $EP "
                           f"--execution-arn {missing}"),
            "An error occurred (ExecutionDoesNotExist) when calling the DescribeExecution "
            f"operation: Execution Does Not Exist: '{missing}'")
        err = self.cli_error("aws stepfunctions describe-state-machine --endpoint-url $EP "
                             "--state-machine-arn not-an-arn")
        self.assertTrue(err.startswith("An error occurred (InvalidArn) when calling the "
                                       "DescribeStateMachine operation: "), err)
        err = self.cli_error("aws stepfunctions create-state-machine --endpoint-url $EP "
                             "--name bad --definition '{\"StartAt\": \"X\", \"States\": {}}' "
                             "--role-arn arn:aws:iam::123456789012:role/baton")
        self.assertTrue(err.startswith("An error occurred (InvalidDefinition) when calling the "
                                       "CreateStateMachine operation: Invalid State Machine "
                                       "Definition"), err)
        err = self.cli_error("aws stepfunctions send-task-success --endpoint-url $EP "
                             "--task-token not-a-token --task-output '{}'")
        self.assertTrue(err.startswith("An error occurred (InvalidToken) when calling the "
                                       "SendTaskSuccess operation: "), err)
        # SQS: the legacy code in both protocols (x-amzn-query-error for JSON, XML for query).
        err = self.cli_error("aws sqs get-queue-url --endpoint-url $EP --queue-name nope")
        self.assertTrue(err.startswith("An error occurred (AWS.SimpleQueueService."
                                       "NonExistentQueue) when calling the GetQueueUrl "
                                       "operation: "), err)

    def test_sqs_round_trip(self):
        p = self.bash(self.preamble() + """
Q=$(aws sqs create-queue --endpoint-url $EP --queue-name plain --query QueueUrl --output text)
aws sqs send-message --endpoint-url $EP --queue-url "$Q" --message-body 'héllo <&> wörld' \
    --message-attributes '{"k": {"DataType": "String", "StringValue": "v"}}'
aws sqs receive-message --endpoint-url $EP --queue-url "$Q" --message-attribute-names All \
    --wait-time-seconds 2 > got.json
H=$(python3 -c 'import json; print(json.load(open("got.json"))["Messages"][0]["ReceiptHandle"])')
aws sqs delete-message --endpoint-url $EP --queue-url "$Q" --receipt-handle "$H"
aws sqs get-queue-attributes --endpoint-url $EP --queue-url "$Q" \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible
""")
        self.assertEqual(p.returncode, 0, p.stderr)
        sent, attrs = json_documents(p.stdout)
        with open(os.path.join(self.dir, "got.json"), encoding="utf-8") as f:
            m = json.load(f)["Messages"][0]
        self.assertEqual(m["Body"], "héllo <&> wörld")
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["MD5OfBody"], sent["MD5OfMessageBody"])
        self.assertEqual(m["MessageAttributes"]["k"]["StringValue"], "v")
        self.assertEqual(attrs["Attributes"], {"ApproximateNumberOfMessages": "0",
                                               "ApproximateNumberOfMessagesNotVisible": "0"})


class PathCli(CliBase):
    """The aws CLI found on PATH."""
    aws = shutil.which("aws")


class DebianCli(CliBase):
    """Debian's packaged aws CLI."""
    aws = "/usr/bin/aws"


del CliBase  # only its subclasses run

if __name__ == "__main__":
    servertest.main()
