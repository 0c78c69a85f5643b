"""The project file (baton.yaml): `baton check` on good and bad files (each problem's line,
column and message, the exit code), and `baton serve --config` applying it — state machines
and queues created once across restarts, a changed definition updated, what the API created
left alone, SIGHUP adding and removing a queue, and a bad file on SIGHUP keeping what runs.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import batontest
import servertest

FLOW = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": 1}, "End": True}}}
FLOW2 = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": 2}, "End": True}}}

PROJECT = """version: 1
state_machines:
  Flow: flow.json
  Inline:
    type: EXPRESS
    definition:
      StartAt: A
      States:
        A: {Type: Pass, End: true}
    tags: {team: core}
queues:
  Work:
    visibility_timeout: 45
    dead_letter: {queue: Dead, max_receive_count: 3}
  Dead:
"""


class ProjectFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="baton-prj-")
        self.path = os.path.join(self.dir, "baton.yaml")
        self.write("flow.json", json.dumps(FLOW))
        self.write("baton.yaml", PROJECT)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
            self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def check(self, name):
        p = subprocess.run([batontest.BATON, "check", name], cwd=self.dir,
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def start(self):
        self.server = servertest.Server(os.path.join(self.dir, "data"),
                                        ["--config", self.path]).start()
        return self.server

    def call(self, target, body):
        req = urllib.request.Request(
            self.server.url + "/", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def machines(self):
        st, out = self.call("AWSStepFunctions.ListStateMachines", {})
        self.assertEqual(st, 200, out)
        return sorted(m["name"] for m in out["stateMachines"])

    def queues(self):
        st, out = self.call("AmazonSQS.ListQueues", {})
        self.assertEqual(st, 200, out)
        return sorted(u.rsplit("/", 1)[1] for u in out.get("QueueUrls", []))

    def describe(self, name):
        arn = "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
        st, out = self.call("AWSStepFunctions.DescribeStateMachine", {"stateMachineArn": arn})
        self.assertEqual(st, 200, out)
        return out

    def full_log(self):
        with open(self.server.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def reloads(self):
        log = self.full_log()
        return log.count("project.applied") + log.count("action=kept")

    def hup_and_wait(self):
        """SIGHUP, then wait until the log shows the reload's outcome; returns that part."""
        before = self.reloads()
        start = len(self.full_log())
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.reloads() > before:
                return self.full_log()[start:]
            time.sleep(0.05)
        self.fail("no reload in the log: " + self.server.read_log())

    # ---- baton check ----

    def test_check_good(self):
        rc, out, err = self.check("baton.yaml")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "baton.yaml: ok (2 state machines, 0 functions, 2 queues, "
                              "0 triggers)\n")
        self.assertEqual(err, "")

    def test_check_bad(self):
        self.write("bad.yaml", """version: 1
state_machines:
  Flow: nope.json
  Bad:
    definition:
      StartAt: A
      States:
        A: {Type: Pas, End: true}
queues:
  Work:
    visiblity_timeout: 30
    delay: 2000
    dead_letter: {queue: Ded}
schedules:
  tick:
    expression: rate(10 minute)
    target: Flw
""")
        rc, out, err = self.check("bad.yaml")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        lines = err.splitlines()
        self.assertEqual(lines, [
            "bad.yaml:3:9: error: cannot read the definition of state machine 'Flow', "
            "nope.json: No such file or directory (expected a file relative to the project "
            "file)",
            "bad.yaml:8:19: error: invalid definition of state machine 'Bad': "
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [Pass, Task, "
            "Choice, Wait, Succeed, Fail, Parallel, Map] at /States/A/Type",
            "bad.yaml:11:5: error: unknown key 'visiblity_timeout' in queue 'Work' (did you "
            "mean 'visibility_timeout'?)",
            "bad.yaml:12:12: error: 'delay' of queue 'Work' is 2000 (expected 0 to 900 "
            "seconds)",
            "bad.yaml:13:26: error: the dead_letter of queue 'Work' names queue 'Ded', which "
            "is not declared (expected a name under 'queues' or an ARN arn:aws:sqs:…)",
            "bad.yaml:16:17: error: 'expression' of schedule 'tick' is \"rate(10 minute)\": "
            "the unit of a rate above 1 is minutes, hours or days (expected rate(…), cron(…) "
            "or at(…))",
            "bad.yaml:17:13: error: schedule 'tick' names state machine 'Flw', which is not "
            "declared (did you mean 'Flow'?)",
        ])

    def test_check_not_yaml_and_missing(self):
        self.write("broken.yaml", "version: 1\nqueues: [a, b\n")
        rc, _, err = self.check("broken.yaml")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("broken.yaml:3:1: error: not YAML: "), err)
        rc, _, err = self.check("absent.yaml")
        self.assertEqual(rc, 1)
        self.assertEqual(err, "absent.yaml: error: cannot read the file: No such file or "
                              "directory\n")

    # ---- baton serve --config ----

    def test_serve_refuses_a_bad_file(self):
        self.write("baton.yaml", "version: 1\nqueues:\n  Q:\n    delay: -1\n")
        p = subprocess.run([batontest.BATON, "serve", "--config", self.path, "--listen",
                            "127.0.0.1:0", "--data", os.path.join(self.dir, "data")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, self.path + ":4:12: error: 'delay' of queue 'Q' is \"-1\" "
                         "(expected a duration: seconds, or a number with s, m, h or d)\n"
                         "baton serve: " + self.path + " has problems: not starting\n")
        self.assertEqual(p.stdout, "")

    def test_serve_applies_idempotently(self):
        self.start()
        self.assertEqual(self.machines(), ["Flow", "Inline"])
        self.assertEqual(self.queues(), ["Dead", "Work"])
        d = self.describe("Flow")
        self.assertEqual(json.loads(d["definition"]), FLOW)
        self.assertEqual(self.describe("Inline")["type"], "EXPRESS")
        rev = d["revisionId"]
        st, attrs = self.call("AmazonSQS.GetQueueAttributes", {
            "QueueUrl": self.server.url + "/123456789012/Work", "AttributeNames": ["All"]})
        self.assertEqual(attrs["Attributes"]["VisibilityTimeout"], "45")
        self.assertEqual(json.loads(attrs["Attributes"]["RedrivePolicy"]), {
            "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:Dead",
            "maxReceiveCount": 3})
        # One made through the API survives what follows.
        st, _ = self.call("AWSStepFunctions.CreateStateMachine", {
            "name": "ByApi", "definition": json.dumps(FLOW),
            "roleArn": "arn:aws:iam::123456789012:role/r"})
        self.assertEqual(st, 200)

        # Restart with the same file: nothing new, nothing changed.
        self.server.stop()
        self.start()
        self.assertEqual(self.machines(), ["ByApi", "Flow", "Inline"])
        self.assertEqual(self.queues(), ["Dead", "Work"])
        self.assertEqual(self.describe("Flow")["revisionId"], rev)

        # A changed definition: the machine is updated in place.
        self.write("flow.json", json.dumps(FLOW2))
        self.server.stop()
        self.start()
        d = self.describe("Flow")
        self.assertEqual(json.loads(d["definition"]), FLOW2)
        self.assertNotEqual(d["revisionId"], rev)
        self.assertEqual(self.machines(), ["ByApi", "Flow", "Inline"])

        # Dropping a machine from the file removes it; the API's stays.
        self.write("baton.yaml", PROJECT.replace("  Flow: flow.json\n", ""))
        self.hup_and_wait()
        self.assertEqual(self.machines(), ["ByApi", "Inline"])

    def test_sighup_adds_and_removes_a_queue(self):
        self.start()
        self.assertEqual(self.queues(), ["Dead", "Work"])
        self.write("baton.yaml", PROJECT + "  Extra:\n    delay: 5\n")
        self.hup_and_wait()
        self.assertEqual(self.queues(), ["Dead", "Extra", "Work"])
        st, attrs = self.call("AmazonSQS.GetQueueAttributes", {
            "QueueUrl": self.server.url + "/123456789012/Extra",
            "AttributeNames": ["DelaySeconds"]})
        self.assertEqual(attrs["Attributes"]["DelaySeconds"], "5")
        # A queue made through the API is not the file's to remove.
        st, _ = self.call("AmazonSQS.CreateQueue", {"QueueName": "ApiQueue"})
        self.assertEqual(st, 200)
        self.write("baton.yaml", PROJECT)
        self.hup_and_wait()
        self.assertEqual(self.queues(), ["ApiQueue", "Dead", "Work"])

    def test_sighup_with_a_bad_file_keeps_the_running_config(self):
        self.start()
        self.write("baton.yaml", PROJECT.replace("  Dead:\n", "  Dead:\n    delay: soon\n")
                   + "  Extra:\n")
        log = self.hup_and_wait()
        self.assertIn("action=kept problems=1", log)
        self.assertIn(":16:12: 'delay' of queue 'Dead' is \"soon\"", log)
        self.assertNotIn("project.applied", log)
        self.assertEqual(self.queues(), ["Dead", "Work"])
        self.assertEqual(self.machines(), ["Flow", "Inline"])
        # Fixed again: applied.
        self.write("baton.yaml", PROJECT + "  Extra:\n")
        self.hup_and_wait()
        self.assertEqual(self.queues(), ["Dead", "Extra", "Work"])


if __name__ == "__main__":
    servertest.main()
