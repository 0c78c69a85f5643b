"""Schedules over the real server: EventBridge rules through boto3's events client and the
aws CLI, and the project file's schedules, fired on the test clock (BATON_TEST_CLOCK, POST
/baton/test/clock): execution names derived from rule and fire time, the target's Input or
the Scheduled Event envelope, overlap skip, catch-up after downtime (one start, bounded),
kill -9 right after a fire (exactly one execution), functions, queues and topics as targets
(one delivery per fire, also across a kill -9), SIGHUP removing a dropped schedule, and
10,000 rules fired on time.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.request

import servertest
from servertest import ACCOUNT, REGION, ROLE

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600,
                                                    "End": True}}})
SM = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
NAME_RE = r"-(\d{8}T\d{6}Z)$"


class Base(servertest.ServerTestCase):
    offset_ms = 0
    project = None

    def setUp(self):
        os.environ["BATON_TEST_CLOCK"] = str(self.offset_ms)
        self.dir0 = None
        if self.project:
            import tempfile
            self.dir0 = tempfile.mkdtemp(prefix="baton-sched-")
            self.path = os.path.join(self.dir0, "baton.yaml")
            with open(self.path, "w") as f:
                f.write(self.project)
            self.server_args = ("--config", self.path)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        os.environ.pop("BATON_TEST_CLOCK", None)
        if self.dir0:
            shutil.rmtree(self.dir0, ignore_errors=True)

    def restart_with(self, downtime_ms=0, kill=False):
        self.offset_ms += downtime_ms
        os.environ["BATON_TEST_CLOCK"] = str(self.offset_ms)
        self.restart(kill=kill)

    def clock(self, advance_ms=None):
        body = {} if advance_ms is None else {"advance_ms": advance_ms}
        self.offset_ms += advance_ms or 0  # a restart carries the test clock on
        req = urllib.request.Request(self.server.url + "/baton/test/clock",
                                     data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())

    def executions(self, machine):
        sfn = self.client("stepfunctions")
        out, token = [], None
        while True:
            kw = {"stateMachineArn": SM + machine, "maxResults": 1000}
            if token:
                kw["nextToken"] = token
            page = sfn.list_executions(**kw)
            out += page["executions"]
            token = page.get("nextToken")
            if not token:
                return sorted(out, key=lambda e: e["name"])

    def machine(self, name, definition=PASS):
        self.client("stepfunctions").create_state_machine(name=name, definition=definition,
                                                          roleArn=ROLE)


class ApiTest(Base):
    def test_rate_rule_fires_with_names_and_input(self):
        ev = self.client("events")
        sfn = self.client("stepfunctions")
        self.machine("Flow")
        arn = ev.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")["RuleArn"]
        self.assertEqual(arn, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/every-minute")
        r = ev.put_targets(Rule="every-minute", Targets=[
            {"Id": "t1", "Arn": SM + "Flow", "RoleArn": ROLE, "Input": '{"k": 1}'}])
        self.assertEqual(r["FailedEntryCount"], 0)
        ev.put_rule(Name="envelope", ScheduleExpression="rate(1 minute)")
        ev.put_targets(Rule="envelope", Targets=[{"Id": "t", "Arn": SM + "Flow"}])
        self.assertEqual(self.executions("Flow"), [])
        st = self.clock(30_000)
        self.assertEqual(st["started"], 0)
        st = self.clock(31_000)
        self.assertEqual(st["started"], 2)
        ex = self.executions("Flow")
        self.assertEqual(len(ex), 2)
        names = {e["name"].rsplit("-", 1)[0]: e for e in ex}
        self.assertEqual(set(names), {"every-minute", "envelope"})
        first = names["every-minute"]
        self.assertRegex(first["name"], r"^every-minute" + NAME_RE)
        d = sfn.describe_execution(executionArn=first["executionArn"])
        self.assertEqual(json.loads(d["input"]), {"k": 1})
        env = json.loads(sfn.describe_execution(
            executionArn=names["envelope"]["executionArn"])["input"])
        stamp = re.search(NAME_RE, names["envelope"]["name"]).group(1)
        self.assertEqual(env["detail-type"], "Scheduled Event")
        self.assertEqual(env["source"], "aws.events")
        self.assertEqual(env["account"], ACCOUNT)
        self.assertEqual(env["region"], REGION)
        self.assertEqual(env["resources"], [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/envelope"])
        self.assertEqual(env["detail"], {})
        self.assertEqual(env["version"], "0")
        t = stamp
        self.assertEqual(env["time"], f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[9:11]}:{t[11:13]}:{t[13:15]}Z")
        # the next minute: one more each, named 60 s later
        self.clock(60_000)
        ex = [e for e in self.executions("Flow") if e["name"].startswith("every-minute-")]
        self.assertEqual(len(ex), 2)
        a, b = (time.strptime(re.search(NAME_RE, e["name"]).group(1), "%Y%m%dT%H%M%SZ")
                for e in ex)
        self.assertEqual(time.mktime(b) - time.mktime(a), 60)
        # disabled: no fire; enabled again: counts from now
        ev.disable_rule(Name="every-minute")
        self.assertEqual(ev.describe_rule(Name="every-minute")["State"], "DISABLED")
        self.clock(120_000)
        self.assertEqual(len([e for e in self.executions("Flow")
                              if e["name"].startswith("every-minute-")]), 2)

    def test_api_shapes_and_errors(self):
        ev = self.client("events")
        from botocore.exceptions import ClientError

        def err(fn, **kw):
            with self.assertRaises(ClientError) as cm:
                fn(**kw)
            e = cm.exception.response["Error"]
            return e["Code"], e["Message"]

        for bad in ["rate(1 minutes)", "rate(10 seconds)", "cron(0 1 * * * *)",
                    "cron(7 20 * * 1-7 *)", "at(2030-01-01T00:00:00)"]:
            self.assertEqual(err(ev.put_rule, Name="r", ScheduleExpression=bad),
                             ("ValidationException", "Parameter ScheduleExpression is not valid."))
        self.assertEqual(err(ev.describe_rule, Name="nope"),
                         ("ResourceNotFoundException", "Rule nope does not exist on EventBus default."))
        self.assertEqual(err(ev.put_rule, Name="r", ScheduleExpression="rate(5 minutes)",
                             EventBusName="other"),
                         ("ValidationException",
                          "ScheduleExpression is supported only on the default event bus."))
        ev.put_rule(Name="r", ScheduleExpression="cron(0 2 ? * SAT#3 *)", Description="d",
                    State="DISABLED")
        ev.put_rule(Name="pattern", EventPattern='{"source": ["my.app"]}')
        d = ev.describe_rule(Name="r")
        self.assertEqual((d["Name"], d["ScheduleExpression"], d["State"], d["Description"],
                          d["EventBusName"]), ("r", "cron(0 2 ? * SAT#3 *)", "DISABLED", "d",
                                               "default"))
        self.assertEqual(ev.describe_rule(Name="pattern")["EventPattern"], '{"source": ["my.app"]}')
        self.assertEqual([r["Name"] for r in ev.list_rules()["Rules"]], ["pattern", "r"])
        self.assertEqual([r["Name"] for r in ev.list_rules(NamePrefix="p")["Rules"]], ["pattern"])
        page = ev.list_rules(Limit=1)
        self.assertEqual([r["Name"] for r in page["Rules"]], ["pattern"])
        self.assertEqual([r["Name"] for r in ev.list_rules(NextToken=page["NextToken"])["Rules"]],
                         ["r"])
        self.assertEqual(err(ev.put_targets, Rule="r", Targets=[
            {"Id": "a", "Arn": SM + "X", "Input": "{}", "InputPath": "$.detail"}]),
            ("ValidationException",
             "Only one of Input, InputPath, or InputTransformer must be provided for target a."))
        ev.put_targets(Rule="r", Targets=[{"Id": "a", "Arn": SM + "X", "Input": "{}"},
                                          {"Id": "b", "Arn": SM + "Y"}])
        self.assertEqual([(t["Id"], t["Arn"], t.get("Input"))
                          for t in ev.list_targets_by_rule(Rule="r")["Targets"]],
                         [("a", SM + "X", "{}"), ("b", SM + "Y", None)])
        self.assertEqual(err(ev.put_targets, Rule="nope", Targets=[{"Id": "a", "Arn": SM + "X"}]),
                         ("ResourceNotFoundException",
                          "Rule nope does not exist on EventBus default."))
        self.assertEqual(err(ev.delete_rule, Name="r"),
                         ("ValidationException", "Rule can't be deleted since it has targets."))
        ev.remove_targets(Rule="r", Ids=["a", "b"])
        self.assertEqual(ev.list_targets_by_rule(Rule="r")["Targets"], [])
        ev.delete_rule(Name="r")
        ev.delete_rule(Name="r")  # idempotent
        self.assertEqual(err(ev.enable_rule, Name="r")[0], "ResourceNotFoundException")
        # rules survive a restart
        self.restart_with()
        ev = self.client("events")
        self.assertEqual([r["Name"] for r in ev.list_rules()["Rules"]], ["pattern"])

    def test_kill9_right_after_a_fire_starts_one_execution(self):
        ev = self.client("events")
        self.machine("Flow")
        ev.put_rule(Name="k", ScheduleExpression="rate(1 minute)")
        ev.put_targets(Rule="k", Targets=[{"Id": "t", "Arn": SM + "Flow"}])
        self.assertEqual(self.clock(61_000)["started"], 1)  # answered after its commit
        self.restart_with(kill=True)
        time.sleep(0.5)  # the restarted timer runs what is due: nothing
        st = self.clock(0)
        self.assertEqual((st["fires"], st["started"]), (0, 0))
        self.assertEqual(len(self.executions("Flow")), 1)
        self.clock(60_000)
        self.assertEqual(len(self.executions("Flow")), 2)

    def test_aws_cli(self):
        aws = shutil.which("aws")
        if not aws:
            raise unittest.SkipTest("no aws CLI")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="AKIDBATONTEST", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER="",
                   AWS_CONFIG_FILE=os.path.join(self.dir, "no-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.dir, "no-credentials"))

        def run(*args):
            p = subprocess.run([aws, "--endpoint-url", self.server.url, "--output", "json",
                                "events"] + list(args), capture_output=True, text=True,
                               env=env, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else None

        out = run("put-rule", "--name", "cli-rule", "--schedule-expression", "rate(1 minute)")
        self.assertEqual(out["RuleArn"], f"arn:aws:events:{REGION}:{ACCOUNT}:rule/cli-rule")
        out = run("put-targets", "--rule", "cli-rule", "--targets",
                  json.dumps([{"Id": "1", "Arn": SM + "Flow", "Input": '{"a":1}'}]))
        self.assertEqual(out["FailedEntryCount"], 0)
        out = run("describe-rule", "--name", "cli-rule")
        self.assertEqual((out["Name"], out["ScheduleExpression"], out["State"]),
                         ("cli-rule", "rate(1 minute)", "ENABLED"))


PROJECT = """version: 1
state_machines:
  Flow:
    definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}
  Slow:
    definition: {StartAt: W, States: {W: {Type: Wait, Seconds: 3600, End: true}}}
schedules:
  skip:
    expression: rate(1 minute)
    target: Slow
    overlap: skip
  catchup:
    expression: rate(1 minute)
    target: Flow
    catch_up: true
    input: {from: catchup}
  nocatchup:
    expression: rate(1 minute)
    target: Flow
    input: {from: nocatchup}
"""


FN_SOURCE = """import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    return {}
"""


class OtherTargetsTest(Base):
    """Functions, queues and topics as targets: one delivery per fire, inside the fire's
    commit, with the Scheduled Event or the target's Input; a kill -9 right after a fire
    neither loses nor repeats a delivery."""

    def queue(self, name, **attrs):
        return self.client("sqs").create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]

    def receive(self, url, want, wait=10):
        sqs, got, deadline = self.client("sqs"), [], time.time() + wait
        while len(got) < want and time.time() < deadline:
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    AttributeNames=["All"])
            for m in r.get("Messages", []):
                got.append(m)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return got

    def invoked(self, want, wait=15):
        deadline = time.time() + wait
        while True:
            try:
                with open(self.out) as f:
                    lines = [json.loads(x) for x in f if x.strip()]
            except OSError:
                lines = []
            if len(lines) >= want or time.time() >= deadline:
                return lines
            time.sleep(0.1)

    def test_function_queue_and_topic_targets(self):
        import io
        import zipfile
        ev, sns = self.client("events"), self.client("sns")
        self.out = os.path.join(self.dir, "invoked")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("handler.py", FN_SOURCE)
        fn_arn = self.client("lambda").create_function(
            FunctionName="on-schedule", Runtime="python3.12", Handler="handler.handler",
            Role=ROLE, Code={"ZipFile": buf.getvalue()},
            Environment={"Variables": {"OUT": self.out}})["FunctionArn"]
        q = self.queue("sched-q")
        fifo = self.queue("sched.fifo", FifoQueue="true")
        sub_q = self.queue("from-topic")
        arn = lambda url: f"arn:aws:sqs:{REGION}:{ACCOUNT}:" + url.rsplit("/", 1)[1]
        topic = sns.create_topic(Name="sched-t")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn(sub_q))
        rule = ev.put_rule(Name="to-others", ScheduleExpression="rate(1 minute)")["RuleArn"]
        r = ev.put_targets(Rule="to-others", Targets=[
            {"Id": "fn", "Arn": fn_arn},
            {"Id": "q", "Arn": arn(q)},
            {"Id": "fifo", "Arn": arn(fifo), "Input": '{"fifo": 1}'},
            {"Id": "topic", "Arn": topic, "Input": '{"via": "sns"}'}])
        self.assertEqual(r["FailedEntryCount"], 0)
        self.assertEqual(sorted(t["Arn"] for t in ev.list_targets_by_rule(Rule="to-others")[
            "Targets"]), sorted([fn_arn, arn(q), arn(fifo), topic]))

        st = self.clock(61_000)
        self.assertEqual((st["fires"], st["delivered"], st["started"]), (1, 4, 0))
        # the queue: EventBridge's Scheduled Event as the body
        got = self.receive(q, 1)
        self.assertEqual(len(got), 1)
        body = json.loads(got[0]["Body"])
        self.assertEqual(set(body), {"version", "id", "detail-type", "source", "account", "time",
                                     "region", "resources", "detail"})
        self.assertEqual((body["version"], body["detail-type"], body["source"], body["account"],
                          body["region"], body["resources"], body["detail"]),
                         ("0", "Scheduled Event", "aws.events", ACCOUNT, REGION, [rule], {}))
        import calendar
        fired = calendar.timegm(time.strptime(body["time"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertLessEqual(abs(st["now_ms"] / 1000 - 1 - fired), 2)  # fired 60 s after put
        # the FIFO queue: the Input, grouped by the rule
        got = self.receive(fifo, 1)
        self.assertEqual([m["Body"] for m in got], ['{"fifo": 1}'])
        self.assertEqual(got[0]["Attributes"]["MessageGroupId"], "to-others")
        # the topic: a publish of the Input, delivered to its subscriber
        got = self.receive(sub_q, 1)
        self.assertEqual([json.loads(m["Body"])["Message"] for m in got], ['{"via": "sns"}'])
        # the function: an Event invocation with the Scheduled Event
        lines = self.invoked(1)
        self.assertEqual(len(lines), 1)
        self.assertEqual((lines[0]["detail-type"], lines[0]["resources"]),
                         ("Scheduled Event", [rule]))

        # kill -9 right after the next fire's commit: each delivery happens once
        st = self.clock(60_000)
        self.assertEqual(st["delivered"], 8)  # counted since the start
        self.restart_with(kill=True)
        time.sleep(0.5)
        st = self.clock(0)
        self.assertEqual((st["fires"], st["delivered"]), (0, 0))
        self.assertEqual(len(self.receive(q, 2, wait=3)), 1)
        self.assertEqual([m["Body"] for m in self.receive(fifo, 2, wait=3)], ['{"fifo": 1}'])
        self.assertEqual(len(self.receive(sub_q, 2, wait=3)), 1)
        # an Event invocation is at least once (fn/: one cut short by the kill runs again),
        # but the fire made one invocation, not two: at most the same event again
        self.assertGreaterEqual(len(self.invoked(2)), 2)
        time.sleep(1)
        self.assertEqual(len({e["id"] for e in self.invoked(2, wait=0)}), 2)

    def test_target_ids_are_checked(self):
        ev = self.client("events")
        from botocore.exceptions import ClientError
        ev.put_rule(Name="r", ScheduleExpression="rate(1 hour)")
        for bad in ("a+b", "x" * 65):
            with self.assertRaises(ClientError) as cm:
                ev.put_targets(Rule="r", Targets=[{"Id": bad, "Arn": SM + "X"}])
            self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
            self.assertIn("targets.1.member.id", cm.exception.response["Error"]["Message"])
        self.assertEqual(ev.list_targets_by_rule(Rule="r")["Targets"], [])


class ProjectTargetsTest(Base):
    project = """version: 1
queues:
  Inbox:
schedules:
  to-inbox:
    expression: rate(1 minute)
    queue: Inbox
    input: {from: project}
"""

    def test_queue_target_from_the_project_file(self):
        ev, sqs = self.client("events"), self.client("sqs")
        self.assertEqual([t["Arn"] for t in ev.list_targets_by_rule(Rule="to-inbox")["Targets"]],
                         [f"arn:aws:sqs:{REGION}:{ACCOUNT}:Inbox"])
        self.assertEqual(self.clock(61_000)["delivered"], 1)
        url = sqs.get_queue_url(QueueName="Inbox")["QueueUrl"]
        r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        self.assertEqual([json.loads(m["Body"]) for m in r["Messages"]], [{"from": "project"}])


class ProjectTest(Base):
    project = PROJECT

    def flow(self, rule):
        return [e for e in self.executions("Flow") if e["name"].startswith(rule + "-")]

    def test_overlap_skip(self):
        sfn = self.client("stepfunctions")
        self.clock(61_000)
        ex = self.executions("Slow")
        self.assertEqual(len(ex), 1)
        self.assertEqual(ex[0]["status"], "RUNNING")
        st = self.clock(60_000)
        self.assertEqual(st["skipped"], 1)
        self.assertEqual(len(self.executions("Slow")), 1)
        sfn.stop_execution(executionArn=ex[0]["executionArn"])
        self.clock(60_000)
        self.assertEqual(len(self.executions("Slow")), 2)
        # the project's input
        d = sfn.describe_execution(executionArn=self.flow("catchup")[0]["executionArn"])
        self.assertEqual(json.loads(d["input"]), {"from": "catchup"})

    def test_catch_up_after_downtime(self):
        self.clock(61_000)
        self.assertEqual((len(self.flow("catchup")), len(self.flow("nocatchup"))), (1, 1))
        self.restart_with(downtime_ms=10 * 60_000)  # ten fires missed
        deadline = time.time() + 10
        while len(self.flow("catchup")) < 2 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        # one start for the missed fires, none for the rule that does not catch up
        self.assertEqual((len(self.flow("catchup")), len(self.flow("nocatchup"))), (2, 1))
        # and then on time again, once per minute
        self.clock(60_000)
        self.assertEqual((len(self.flow("catchup")), len(self.flow("nocatchup"))), (3, 2))
        names = [e["name"] for e in self.flow("catchup")]
        self.assertEqual(len(set(names)), 3)

    def test_reload_removes_a_dropped_schedule(self):
        ev = self.client("events")
        ev.put_rule(Name="from-api", ScheduleExpression="rate(1 hour)")
        names = [r["Name"] for r in ev.list_rules()["Rules"]]
        self.assertEqual(names, ["catchup", "from-api", "nocatchup", "skip"])
        self.assertEqual(ev.list_targets_by_rule(Rule="catchup")["Targets"][0]["Arn"], SM + "Flow")
        with open(self.path, "w") as f:
            f.write(PROJECT.split("  nocatchup:")[0])
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            names = [r["Name"] for r in ev.list_rules()["Rules"]]
            if "nocatchup" not in names:
                break
            time.sleep(0.1)
        self.assertEqual(names, ["catchup", "from-api", "skip"])


N_RULES = 10_000


class ManyRulesTest(Base):
    project = ("version: 1\nstate_machines:\n  Flow:\n    definition: "
               "{StartAt: P, States: {P: {Type: Pass, End: true}}}\nschedules:\n" +
               "".join(f"  r{i:05d}:\n    expression: rate(1 minute)\n    target: Flow\n"
                       for i in range(N_RULES)))

    def test_ten_thousand_rules_fire_on_time(self):
        self.assertEqual(self.clock()["rules"], N_RULES)
        t0 = time.time()
        st = self.clock(61_000)
        deadline = time.time() + 60
        while st["started"] < N_RULES and time.time() < deadline:
            time.sleep(0.2)
            st = self.clock(0)
        took = time.time() - t0
        self.assertEqual((st["started"], st["missed"]), (N_RULES, 0))
        self.assertLess(took, 60, "10,000 fires took %.1f s" % took)
        ex = self.executions("Flow")
        self.assertEqual(len(ex), N_RULES)
        self.assertEqual(len({e["name"] for e in ex}), N_RULES)


if __name__ == "__main__":
    servertest.main()
