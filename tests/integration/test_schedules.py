"""Schedules over the real server: EventBridge rules through boto3's events client and the
aws CLI, and the project file's schedules, fired on the test clock (BATON_TEST_CLOCK, POST
/baton/test/clock): execution names derived from rule and fire time, the target's Input or
the Scheduled Event envelope, overlap skip, catch-up after downtime (one start, bounded),
kill -9 right after a fire (exactly one execution), SIGHUP removing a dropped schedule, and
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
