"""Step Functions activities on `baton serve`, driven with boto3: the registry and its errors,
workers that poll (GetActivityTask) and answer with the token (success, failure, heartbeats
and their expiry), the history they leave, polls answered empty when the server stops, and
tasks that survive kill -9 — handed out ones keep their token, waiting ones are offered
again."""

import json
import os
import sqlite3
import threading
import time

import servertest
from servertest import ROLE

ACCOUNT_ARN = "arn:aws:states:us-east-1:123456789012"


def activity_machine(activity_arn, extra=None):
    task = {"Type": "Task", "Resource": activity_arn, "ResultPath": "$.result", "End": True}
    task.update(extra or {})
    return {"StartAt": "Work", "States": {"Work": task}}


class ActivityTestCase(servertest.ServerTestCase):

    def sfn(self):
        """A client whose reads outlast the 60 s long poll, as AWS advises for pollers."""
        boto3 = servertest.boto3_or_skip()
        from botocore.config import Config
        cache = self.__dict__.setdefault("_pollers", {})
        if self.server.url not in cache:
            cache[self.server.url] = boto3.client(
                "stepfunctions", endpoint_url=self.server.url, region_name=servertest.REGION,
                aws_access_key_id="AKIDBATONTEST", aws_secret_access_key="secret",
                config=Config(retries={"max_attempts": 1}, read_timeout=75))
        return cache[self.server.url]

    def setup_flow(self, name, extra=None):
        sfn = self.sfn()
        act = sfn.create_activity(name=name)["activityArn"]
        sm = sfn.create_state_machine(name=name + "-flow", roleArn=ROLE,
                                      definition=json.dumps(activity_machine(act, extra)))
        return act, sm["stateMachineArn"]

    def history_types(self, arn):
        return [e["type"] for e in self.sfn().get_execution_history(executionArn=arn)["events"]]

    def task_rows(self):
        """The rows of activity_tasks, as committed: (state, worker) in scheduling order."""
        path = os.path.join(self.server.data_dir, "baton.db")
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            return db.execute("SELECT state, worker FROM activity_tasks"
                              " ORDER BY scheduled_ms, exec_id").fetchall()
        finally:
            db.close()

    def event(self, arn, type_):
        for e in self.sfn().get_execution_history(executionArn=arn)["events"]:
            if e["type"] == type_:
                return e
        self.fail("no %s in the history of %s" % (type_, arn))


class Registry(ActivityTestCase):

    def test_create_describe_list_delete(self):
        sfn = self.sfn()
        r = sfn.create_activity(name="resize", tags=[{"key": "team", "value": "media"}])
        arn = r["activityArn"]
        self.assertEqual(arn, ACCOUNT_ARN + ":activity:resize")
        # Idempotent by name: the same ARN and date; the repeat's tags are ignored.
        again = sfn.create_activity(name="resize", tags=[{"key": "team", "value": "other"}])
        self.assertEqual(again["activityArn"], arn)
        self.assertEqual(again["creationDate"], r["creationDate"])
        d = sfn.describe_activity(activityArn=arn)
        self.assertEqual((d["activityArn"], d["name"]), (arn, "resize"))
        self.assertEqual(d["creationDate"], r["creationDate"])
        tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
        self.assertEqual(tags, [{"key": "team", "value": "media"}])
        sfn.tag_resource(resourceArn=arn, tags=[{"key": "tier", "value": "gold"}])
        sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(sfn.list_tags_for_resource(resourceArn=arn)["tags"],
                         [{"key": "tier", "value": "gold"}])

        for n in ("a1", "a2", "a3", "a4"):
            sfn.create_activity(name=n)
        page = sfn.list_activities(maxResults=2)
        self.assertEqual([a["name"] for a in page["activities"]], ["resize", "a1"])
        rest = sfn.list_activities(maxResults=10, nextToken=page["nextToken"])
        self.assertEqual([a["name"] for a in rest["activities"]], ["a2", "a3", "a4"])
        self.assertNotIn("nextToken", rest)

        sfn.delete_activity(activityArn=arn)
        sfn.delete_activity(activityArn=arn)  # deleting what is gone changes nothing
        with self.assertRaises(sfn.exceptions.ActivityDoesNotExist) as cm:
            sfn.describe_activity(activityArn=arn)
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Activity Does Not Exist: '%s'" % arn)
        with self.assertRaises(sfn.exceptions.ResourceNotFound):
            sfn.list_tags_for_resource(resourceArn=arn)
        self.assertEqual([a["name"] for a in sfn.list_activities()["activities"]],
                         ["a1", "a2", "a3", "a4"])
        # Everything above survives a restart.
        self.restart()
        sfn = self.sfn()
        self.assertEqual([a["name"] for a in sfn.list_activities()["activities"]],
                         ["a1", "a2", "a3", "a4"])
        self.assertEqual(sfn.create_activity(name="a5")["activityArn"],
                         ACCOUNT_ARN + ":activity:a5")
        self.assertEqual(sfn.list_activities()["activities"][-1]["name"], "a5")

    def test_request_errors(self):
        sfn = self.sfn()
        with self.assertRaises(sfn.exceptions.InvalidName) as cm:
            sfn.create_activity(name="a b")
        self.assertIn("Invalid Name: 'a b'", str(cm.exception))
        with self.assertRaises(sfn.exceptions.InvalidArn):
            sfn.describe_activity(activityArn="not-an-arn")
        with self.assertRaises(sfn.exceptions.InvalidArn) as cm:
            sfn.get_activity_task(activityArn=ACCOUNT_ARN + ":stateMachine:x")
        self.assertIn("Resource type not valid in this context: stateMachine", str(cm.exception))
        missing = ACCOUNT_ARN + ":activity:nobody"
        with self.assertRaises(sfn.exceptions.ActivityDoesNotExist) as cm:
            sfn.get_activity_task(activityArn=missing, workerName="w")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Activity Does Not Exist: '%s'" % missing)
        with self.assertRaises(sfn.exceptions.ActivityDoesNotExist):
            sfn.describe_activity(activityArn=missing)
        st, body = self.raw("AWSStepFunctions.GetActivityTask", {})
        self.assertEqual(st, 400)
        self.assertEqual(body["message"], "1 validation error detected: Value null at "
                         "'activityArn' failed to satisfy constraint: Member must not be null")
        arn = sfn.create_activity(name="w")["activityArn"]
        st, body = self.raw("AWSStepFunctions.GetActivityTask",
                            {"activityArn": arn, "workerName": "x" * 81})
        self.assertEqual(body["__type"], "com.amazon.coral.validate#ValidationException")
        st, body = self.raw("AWSStepFunctions.ListActivities", {"nextToken": "garbage"})
        self.assertEqual(body["__type"], "com.amazonaws.swf.service.v2.model#InvalidToken")


class Workers(ActivityTestCase):

    def test_worker_loop_succeeds(self):
        sfn = self.sfn()
        act, sm = self.setup_flow("double")
        arn = sfn.start_execution(stateMachineArn=sm, name="e1", input='{"n": 21}')["executionArn"]
        task = sfn.get_activity_task(activityArn=act, workerName="worker-1")
        self.assertEqual(json.loads(task["input"]), {"n": 21})
        n = json.loads(task["input"])["n"]
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"n": 2 * n}))
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"n": 21, "result": {"n": 42}})
        self.assertEqual(self.history_types(arn),
                         ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled",
                          "ActivityStarted", "ActivitySucceeded", "TaskStateExited",
                          "ExecutionSucceeded"])
        sched = self.event(arn, "ActivityScheduled")["activityScheduledEventDetails"]
        self.assertEqual(sched["resource"], act)
        self.assertEqual(json.loads(sched["input"]), {"n": 21})
        started = self.event(arn, "ActivityStarted")["activityStartedEventDetails"]
        self.assertEqual(started, {"workerName": "worker-1"})
        # The token was answered: a second use is refused.
        with self.assertRaises(sfn.exceptions.TaskTimedOut):
            sfn.send_task_success(taskToken=task["taskToken"], output="{}")

    def test_failure(self):
        sfn = self.sfn()
        act, sm = self.setup_flow("fragile")
        arn = sfn.start_execution(stateMachineArn=sm, name="e1")["executionArn"]
        task = sfn.get_activity_task(activityArn=act, workerName="w")
        sfn.send_task_failure(taskToken=task["taskToken"], error="Broken", cause="it broke")
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual((d["error"], d["cause"]), ("Broken", "it broke"))
        failed = self.event(arn, "ActivityFailed")["activityFailedEventDetails"]
        self.assertEqual(failed, {"error": "Broken", "cause": "it broke"})

    def test_poll_waiting_gets_the_next_task(self):
        """A poll that waits is answered as soon as a task is offered."""
        sfn = self.sfn()
        act, sm = self.setup_flow("later")
        got = {}

        def poll(who):
            got[who] = sfn_for_thread.get_activity_task(activityArn=act, workerName=who)

        sfn_for_thread = self.sfn()
        first = threading.Thread(target=poll, args=("first",))
        first.start()
        time.sleep(0.3)
        began = time.time()
        arn = sfn.start_execution(stateMachineArn=sm, name="e1", input='{"k": 1}')["executionArn"]
        first.join(10)
        self.assertFalse(first.is_alive())
        self.assertLess(time.time() - began, 5)
        self.assertEqual(json.loads(got["first"]["input"]), {"k": 1})
        sfn.send_task_success(taskToken=got["first"]["taskToken"], output='"done"')
        self.wait_status(sfn, arn, "SUCCEEDED")
        started = self.event(arn, "ActivityStarted")["activityStartedEventDetails"]
        self.assertEqual(started["workerName"], "first")

    def test_heartbeat_then_expiry(self):
        sfn = self.sfn()
        act, sm = self.setup_flow("slow", {"HeartbeatSeconds": 2, "TimeoutSeconds": 60})
        arn = sfn.start_execution(stateMachineArn=sm, name="e1")["executionArn"]
        task = sfn.get_activity_task(activityArn=act, workerName="w")
        # Heartbeats keep it alive past its heartbeat interval ...
        for _ in range(3):
            time.sleep(1)
            sfn.send_task_heartbeat(taskToken=task["taskToken"])
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        # ... and silence ends it.
        d = self.wait_status(sfn, arn, "FAILED", timeout=10)
        self.assertEqual(d["error"], "States.HeartbeatTimeout")
        timed_out = self.event(arn, "ActivityTimedOut")["activityTimedOutEventDetails"]
        self.assertEqual(timed_out["error"], "States.HeartbeatTimeout")
        with self.assertRaises(sfn.exceptions.TaskTimedOut):
            sfn.send_task_heartbeat(taskToken=task["taskToken"])

    def test_missing_activity_fails_the_task(self):
        sfn = self.sfn()
        missing = ACCOUNT_ARN + ":activity:never-made"
        sm = sfn.create_state_machine(name="orphan", roleArn=ROLE,
                                      definition=json.dumps(activity_machine(missing)))
        arn = sfn.start_execution(stateMachineArn=sm["stateMachineArn"],
                                  name="e1")["executionArn"]
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "States.TaskFailed")
        self.assertEqual(d["cause"], "Activity Does Not Exist: '%s'" % missing)
        self.assertIn("ActivityFailed", self.history_types(arn))

    def test_timed_out_task_is_withdrawn(self):
        """A task nobody took before its TimeoutSeconds is no longer offered."""
        sfn = self.sfn()
        act, sm = self.setup_flow("nobody", {"TimeoutSeconds": 1})
        arn = sfn.start_execution(stateMachineArn=sm, name="e1")["executionArn"]
        d = self.wait_status(sfn, arn, "FAILED", timeout=10)
        self.assertEqual(d["error"], "States.Timeout")
        self.assertIn("ActivityTimedOut", self.history_types(arn))
        self.assert_poll_empty_on_stop(act)

    def test_stopped_execution_withdraws_its_task(self):
        sfn = self.sfn()
        act, sm = self.setup_flow("stopme")
        arn = sfn.start_execution(stateMachineArn=sm, name="e1")["executionArn"]
        sfn.stop_execution(executionArn=arn)
        self.wait_status(sfn, arn, "ABORTED")
        self.assert_poll_empty_on_stop(act)

    def assert_poll_empty_on_stop(self, act):
        """Polls act in a thread, stops the server: the poll must end empty at once."""
        got = {}
        sfn = self.sfn()

        def poll():
            got["answer"] = sfn.get_activity_task(activityArn=act, workerName="late")

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        self.assertTrue(t.is_alive(), "the poll should wait: nothing is offered")
        began = time.time()
        self.assertEqual(self.server.stop(), 0)
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertLess(time.time() - began, 5)
        self.assertNotIn("taskToken", got["answer"])
        self.server.start()
        self._pollers = {}

    def test_poll_answered_empty_on_stop(self):
        act, _ = self.setup_flow("idle")
        self.assert_poll_empty_on_stop(act)


class Restarts(ActivityTestCase):

    def test_kill_after_hand_out_keeps_token_and_reoffers_the_rest(self):
        sfn = self.sfn()
        act, sm = self.setup_flow("durable")
        a = sfn.start_execution(stateMachineArn=sm, name="a", input='{"i": 1}')["executionArn"]
        b = sfn.start_execution(stateMachineArn=sm, name="b", input='{"i": 2}')["executionArn"]
        task = sfn.get_activity_task(activityArn=act, workerName="w-before")
        self.assertEqual(json.loads(task["input"]), {"i": 1})
        self.assertEqual(self.task_rows(), [("STARTED", "w-before"), ("OFFERED", None)])
        self.restart(kill=True)
        sfn = self.sfn()
        # The task not yet taken is offered again; the one handed out is not.
        again = sfn.get_activity_task(activityArn=act, workerName="w-after")
        self.assertEqual(json.loads(again["input"]), {"i": 2})
        # The first worker's token still works after the restart.
        sfn.send_task_success(taskToken=task["taskToken"], output='{"from": "before"}')
        sfn.send_task_success(taskToken=again["taskToken"], output='{"from": "after"}')
        da = self.wait_status(sfn, a, "SUCCEEDED")
        db = self.wait_status(sfn, b, "SUCCEEDED")
        self.assertEqual(json.loads(da["output"])["result"], {"from": "before"})
        self.assertEqual(json.loads(db["output"])["result"], {"from": "after"})
        # The replayed execution tells the same story: one ActivityStarted each, by its worker.
        for arn, worker in ((a, "w-before"), (b, "w-after")):
            self.assertEqual(self.history_types(arn),
                             ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled",
                              "ActivityStarted", "ActivitySucceeded", "TaskStateExited",
                              "ExecutionSucceeded"])
            started = self.event(arn, "ActivityStarted")["activityStartedEventDetails"]
            self.assertEqual(started["workerName"], worker)
        self.assertEqual(self.task_rows(), [])
        log = self.server.read_log()
        self.assertNotIn("replay diverged", log)
        self.assertNotIn("rejected", log)

    def test_started_task_replays_with_heartbeat_after_kill(self):
        """A replayed hand-out re-arms the heartbeat from the hand-out, as it was."""
        sfn = self.sfn()
        act, sm = self.setup_flow("beat", {"HeartbeatSeconds": 3})
        arn = sfn.start_execution(stateMachineArn=sm, name="e1")["executionArn"]
        task = sfn.get_activity_task(activityArn=act, workerName="w")
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
        self.restart(kill=True)
        sfn = self.sfn()
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
        d = self.wait_status(sfn, arn, "FAILED", timeout=15)
        self.assertEqual(d["error"], "States.HeartbeatTimeout")
        self.assertEqual(self.history_types(arn).count("ActivityStarted"), 1)


if __name__ == "__main__":
    servertest.main()
