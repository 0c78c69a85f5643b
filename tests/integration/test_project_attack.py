"""Attacks on the project file over the real server: a storm of SIGHUPs while executions run
and a trigger polls, with each reload alternately removing and restoring the function, the
queue with its trigger and messages, and the state machine with running executions. The server
stays up, reloads converge, and the executions of a removed machine still end."""

import json
import os
import shutil
import signal
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import servertest

HANDLER = ("import time\n"
           "def lambda_handler(event, context):\n"
           "    time.sleep(2)\n"
           "    return {'ok': True}\n")

FULL = """version: 1
functions:
  f:
    runtime: python
    code: code
    timeout: 10
queues:
  Work:
    visibility_timeout: 5
triggers:
  - queue: Work
    function: f
state_machines:
  M:
    definition:
      StartAt: T
      States:
        T:
          Type: Task
          Resource: arn:aws:states:::lambda:invoke
          Parameters: {FunctionName: f}
          OutputPath: $.Payload
          End: true
"""

EMPTY = "version: 1\n"


class ProjectAttack(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="baton-prja-")
        os.mkdir(os.path.join(self.dir, "code"))
        self.write("code/lambda_function.py", HANDLER)
        self.write("baton.yaml", FULL)
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        ["--config", os.path.join(self.dir, "baton.yaml")]).start()

    def tearDown(self):
        self.server.stop()
        self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(self.dir, name))

    def call(self, target, body):
        req = urllib.request.Request(
            self.server.url + "/", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def log(self):
        with open(self.server.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def test_sighup_storm_removing_and_restoring(self):
        sm = "arn:aws:states:us-east-1:123456789012:stateMachine:M"
        st, q = self.call("AmazonSQS.GetQueueUrl", {"QueueName": "Work"})
        self.assertEqual(st, 200, q)
        url = q["QueueUrl"]
        exs = []
        for i in range(5):
            st, out = self.call("AWSStepFunctions.StartExecution",
                                {"stateMachineArn": sm, "input": "{}"})
            self.assertEqual(st, 200, out)
            exs.append(out["executionArn"])
        for i in range(20):
            self.call("AmazonSQS.SendMessage", {"QueueUrl": url, "MessageBody": "m%d" % i})
        time.sleep(0.2)
        for i in range(100):
            self.write("baton.yaml", EMPTY if i % 2 == 0 else FULL)
            self.server.proc.send_signal(signal.SIGHUP)
            time.sleep(0.01)
            if i % 10 == 0:
                self.call("AWSStepFunctions.StartExecution", {"stateMachineArn": sm, "input": "{}"})
        self.write("baton.yaml", FULL)
        self.server.proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        self.assertIsNone(self.server.proc.poll(), self.log()[-3000:])
        st, out = self.call("AWSStepFunctions.DescribeStateMachine", {"stateMachineArn": sm})
        self.assertEqual(st, 200, out)
        # the first executions began before any reload; each ends
        deadline = time.time() + 40
        for ex in exs:
            while time.time() < deadline:
                st, d = self.call("AWSStepFunctions.DescribeExecution", {"executionArn": ex})
                if st == 200 and d["status"] != "RUNNING":
                    break
                time.sleep(0.2)
            self.assertNotEqual(d.get("status"), "RUNNING", ex)
        self.assertGreater(self.log().count("project.applied"), 10)
        self.assertNotIn("AddressSanitizer", self.log())
        self.assertNotIn("runtime error", self.log())

    def test_kill_with_a_trigger_batch_in_flight(self):
        marks = os.path.join(self.dir, "marks")
        os.mkdir(marks)
        self.write("code/lambda_function.py",
                   "import os, time, uuid\n"
                   "def lambda_handler(event, context):\n"
                   "    for r in event['Records']:\n"
                   "        open(os.path.join(%r, r['body'] + '-' + str(uuid.uuid4())), 'w').close()\n"
                   "    time.sleep(1.5)\n"
                   "    return {}\n" % marks)
        self.server.stop()
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        ["--config", os.path.join(self.dir, "baton.yaml")]).start()
        st, q = self.call("AmazonSQS.GetQueueUrl", {"QueueName": "Work"})
        url = q["QueueUrl"]
        for i in range(30):
            self.call("AmazonSQS.SendMessage", {"QueueUrl": url, "MessageBody": "m%d" % i})
        deadline = time.time() + 15
        while time.time() < deadline and not os.listdir(marks):
            time.sleep(0.05)
        self.assertTrue(os.listdir(marks))
        self.server.kill()
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        ["--config", os.path.join(self.dir, "baton.yaml")]).start()
        # every message is handled at least once and none is left (visibility timeout 5 s)
        want = {"m%d" % i for i in range(30)}
        deadline = time.time() + 40
        seen = set()
        while time.time() < deadline:
            seen = {n.split("-")[0] for n in os.listdir(marks)}
            st, a = self.call("AmazonSQS.GetQueueAttributes",
                              {"QueueUrl": url, "AttributeNames": ["All"]})
            left = int(a["Attributes"]["ApproximateNumberOfMessages"]) + \
                int(a["Attributes"]["ApproximateNumberOfMessagesNotVisible"])
            if seen == want and left == 0:
                break
            time.sleep(0.3)
        self.assertEqual(seen, want)
        self.assertEqual(left, 0)
        self.assertNotIn("AddressSanitizer", self.log())


if __name__ == "__main__":
    servertest.main()
