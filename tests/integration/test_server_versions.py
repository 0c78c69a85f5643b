"""State machine versions and aliases on `baton serve`, driven with boto3: publishing (on its
own and with publish: true on create and update), listing, describing and deleting versions;
alias CRUD with routing weights; executions started through version and alias ARNs and what
DescribeExecution and ListExecutions say of them; AWS's errors and messages; and all of it
surviving kill -9 of the server."""

import collections
import json

import servertest
from servertest import ROLE


def pass_machine(tag):
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": tag}, "End": True}}}


def routing(*pairs):
    return [{"stateMachineVersionArn": arn, "weight": w} for arn, w in pairs]


class Base(servertest.ServerTestCase):

    def setUp(self):
        super().setUp()
        self.sfn = self.client("stepfunctions")

    def machine(self, name="m", tag=1, **kw):
        return self.sfn.create_state_machine(name=name, definition=json.dumps(pass_machine(tag)),
                                             roleArn=ROLE, **kw)

    def update(self, arn, tag, **kw):
        return self.sfn.update_state_machine(stateMachineArn=arn,
                                             definition=json.dumps(pass_machine(tag)), **kw)

    def error(self, call, code, message=None, **kw):
        with self.assertRaises(self.sfn.exceptions.ClientError) as cm:
            call(**kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Message"], message)
        return err["Message"]

    def output_of(self, execution_arn):
        d = self.wait_status(self.sfn, execution_arn, "SUCCEEDED")
        return json.loads(d["output"])["v"], d


class Versions(Base):

    def test_publish_list_describe_delete(self):
        arn = self.machine()["stateMachineArn"]
        rev1 = self.sfn.describe_state_machine(stateMachineArn=arn)["revisionId"]
        p1 = self.sfn.publish_state_machine_version(stateMachineArn=arn, description="one")
        self.assertEqual(p1["stateMachineVersionArn"], arn + ":1")
        # The same revision again answers the version it has.
        again = self.sfn.publish_state_machine_version(stateMachineArn=arn)
        self.assertEqual(again["stateMachineVersionArn"], arn + ":1")
        self.assertEqual(again["creationDate"], p1["creationDate"])
        rev2 = self.update(arn, 2)["revisionId"]
        self.error(self.sfn.publish_state_machine_version, "ConflictException",
                   "Failed to publish the State Machine version for revision %s. The current "
                   "State Machine revision is %s." % (rev1, rev2),
                   stateMachineArn=arn, revisionId=rev1)
        p2 = self.sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=rev2,
                                                    description="two")
        self.assertEqual(p2["stateMachineVersionArn"], arn + ":2")
        listed = self.sfn.list_state_machine_versions(stateMachineArn=arn)
        self.assertEqual([v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]],
                         [arn + ":2", arn + ":1"])

        d1 = self.sfn.describe_state_machine(stateMachineArn=arn + ":1")
        self.assertEqual(d1["stateMachineArn"], arn + ":1")
        self.assertEqual(d1["name"], "m")
        self.assertEqual(json.loads(d1["definition"]), pass_machine(1))
        self.assertEqual((d1["revisionId"], d1["description"], d1["type"], d1["roleArn"]),
                         (rev1, "one", "STANDARD", ROLE))
        self.assertEqual(d1["creationDate"], p1["creationDate"])
        d2 = self.sfn.describe_state_machine(stateMachineArn=arn + ":2")
        self.assertEqual((json.loads(d2["definition"]), d2["revisionId"], d2["description"]),
                         (pass_machine(2), rev2, "two"))
        # The machine itself describes its current revision, without the versions' description.
        d = self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(d["stateMachineArn"], arn)
        self.assertNotIn("description", d)

        self.sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":2")
        self.sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":2")  # gone: fine
        self.error(self.sfn.describe_state_machine, "StateMachineDoesNotExist",
                   "State Machine Does Not Exist: '%s:2'" % arn, stateMachineArn=arn + ":2")
        # Numbers are never reused: the next version after deleting 2 is 3.
        self.update(arn, 3)
        p3 = self.sfn.publish_state_machine_version(stateMachineArn=arn)
        self.assertEqual(p3["stateMachineVersionArn"], arn + ":3")

    def test_list_pages(self):
        arn = self.machine()["stateMachineArn"]
        for tag in range(2, 6):
            self.sfn.publish_state_machine_version(stateMachineArn=arn)
            self.update(arn, tag)
        seen, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            page = self.sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=3, **kw)
            seen += [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(seen, ["%s:%d" % (arn, n) for n in (4, 3, 2, 1)])

    def test_publish_on_create_and_update(self):
        r = self.machine(publish=True, versionDescription="first")
        arn = r["stateMachineArn"]
        self.assertEqual(r["stateMachineVersionArn"], arn + ":1")
        self.assertEqual(self.sfn.describe_state_machine(stateMachineArn=arn + ":1")
                         ["description"], "first")
        # The idempotent create with publish answers the same version.
        self.assertEqual(self.machine(publish=True)["stateMachineVersionArn"], arn + ":1")
        u = self.update(arn, 2, publish=True, versionDescription="second")
        self.assertEqual(u["stateMachineVersionArn"], arn + ":2")
        # The same definition is the same revision, and so the same version.
        u2 = self.update(arn, 2, publish=True)
        self.assertEqual((u2["stateMachineVersionArn"], u2["revisionId"]),
                         (arn + ":2", u["revisionId"]))
        self.assertNotIn("stateMachineVersionArn", self.update(arn, 3))
        self.error(self.machine, "ValidationException",
                   "Version description can only be set when publish is true",
                   name="other", versionDescription="x")
        self.error(self.update, "ValidationException",
                   "Version description can only be set when publish is true",
                   arn=arn, tag=4, versionDescription="x")
        self.assertNotIn("other", [m["name"] for m in
                                   self.sfn.list_state_machines()["stateMachines"]])

    def test_errors(self):
        arn = self.machine()["stateMachineArn"]
        missing = arn.replace(":m", ":nope")
        self.error(self.sfn.publish_state_machine_version, "StateMachineDoesNotExist",
                   "State Machine Does Not Exist: '%s'" % missing, stateMachineArn=missing)
        self.error(self.sfn.publish_state_machine_version, "InvalidArn",
                   stateMachineArn="not-an-arn")
        self.error(self.sfn.list_state_machine_versions, "StateMachineDoesNotExist",
                   stateMachineArn=missing)
        self.error(self.sfn.delete_state_machine_version, "InvalidArn",
                   stateMachineVersionArn=arn)
        self.error(self.sfn.publish_state_machine_version, "ValidationException",
                   "1 validation error detected: Value at 'description' failed to satisfy "
                   "constraint: Member must have length less than or equal to 256",
                   stateMachineArn=arn, description="d" * 257)
        self.error(self.sfn.describe_state_machine, "StateMachineDoesNotExist",
                   stateMachineArn=arn + ":7")


class Quota(Base):
    server_args = ("--sync", "normal")

    def test_thousand_versions(self):
        arn = self.machine(publish=True)["stateMachineArn"]
        for tag in range(2, 1001):
            st, body = self.raw("AWSStepFunctions.UpdateStateMachine", {
                "stateMachineArn": arn, "definition": json.dumps(pass_machine(tag)),
                "publish": True})
            self.assertEqual(st, 200, body)
        self.update(arn, 1001)
        msg = self.error(self.sfn.publish_state_machine_version, "ServiceQuotaExceededException",
                         stateMachineArn=arn)
        self.assertIn("1000", msg)
        self.error(self.update, "ServiceQuotaExceededException", arn=arn, tag=1002, publish=True)
        self.sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":1")
        self.assertEqual(self.sfn.publish_state_machine_version(stateMachineArn=arn)
                         ["stateMachineVersionArn"], arn + ":1001")


class Aliases(Base):

    def two_versions(self, name="m"):
        arn = self.machine(name=name, publish=True)["stateMachineArn"]
        self.update(arn, 2, publish=True)
        return arn, arn + ":1", arn + ":2"

    def test_crud(self):
        arn, v1, v2 = self.two_versions()
        c = self.sfn.create_state_machine_alias(name="prod", description="live",
                                                routingConfiguration=routing((v1, 100)))
        self.assertEqual(c["stateMachineAliasArn"], arn + ":prod")
        again = self.sfn.create_state_machine_alias(name="prod", description="live",
                                                    routingConfiguration=routing((v1, 100)))
        self.assertEqual(again, dict(c, ResponseMetadata=again["ResponseMetadata"]))
        conflict = ("Failed to create alias because an alias with the same name and a "
                    "different routing configuration already exists.")
        self.error(self.sfn.create_state_machine_alias, "ConflictException", conflict,
                   name="prod", description="live", routingConfiguration=routing((v2, 100)))
        self.error(self.sfn.create_state_machine_alias, "ConflictException", conflict,
                   name="prod", routingConfiguration=routing((v1, 100)))
        d = self.sfn.describe_state_machine_alias(stateMachineAliasArn=arn + ":prod")
        self.assertEqual((d["name"], d["description"], d["routingConfiguration"]),
                         ("prod", "live", routing((v1, 100))))
        self.assertEqual(d["creationDate"], c["creationDate"])

        u = self.sfn.update_state_machine_alias(stateMachineAliasArn=arn + ":prod",
                                                routingConfiguration=routing((v1, 50), (v2, 50)))
        d = self.sfn.describe_state_machine_alias(stateMachineAliasArn=arn + ":prod")
        self.assertEqual((d["routingConfiguration"], d["description"], d["updateDate"]),
                         (routing((v1, 50), (v2, 50)), "live", u["updateDate"]))
        self.sfn.update_state_machine_alias(stateMachineAliasArn=arn + ":prod",
                                            description="changed")
        self.assertEqual(self.sfn.describe_state_machine_alias(
            stateMachineAliasArn=arn + ":prod")["description"], "changed")

        self.sfn.create_state_machine_alias(name="beta", routingConfiguration=routing((v2, 100)))
        names = lambda **kw: [a["stateMachineAliasArn"].rsplit(":", 1)[1] for a in
                              self.sfn.list_state_machine_aliases(**kw)["stateMachineAliases"]]
        self.assertEqual(names(stateMachineArn=arn), ["beta", "prod"])  # newest first
        self.assertEqual(names(stateMachineArn=v1), ["prod"])
        self.assertEqual(names(stateMachineArn=v2), ["beta", "prod"])
        page = self.sfn.list_state_machine_aliases(stateMachineArn=arn, maxResults=1)
        self.assertEqual(len(page["stateMachineAliases"]), 1)
        rest = self.sfn.list_state_machine_aliases(stateMachineArn=arn,
                                                   nextToken=page["nextToken"])
        self.assertEqual([a["stateMachineAliasArn"] for a in rest["stateMachineAliases"]],
                         [arn + ":prod"])
        self.assertNotIn("nextToken", rest)

        # A version an alias routes to stays until the alias lets go of it.
        self.error(self.sfn.delete_state_machine_version, "ConflictException",
                   "Version to be deleted must not be referenced by an alias. Current list of "
                   "aliases referencing this version: [prod, beta]",
                   stateMachineVersionArn=v2)
        self.sfn.delete_state_machine_alias(stateMachineAliasArn=arn + ":beta")
        self.sfn.delete_state_machine_alias(stateMachineAliasArn=arn + ":beta")  # gone: fine
        self.error(self.sfn.describe_state_machine_alias, "ResourceNotFound",
                   "Request references a resource that does not exist.",
                   stateMachineAliasArn=arn + ":beta")
        self.error(self.sfn.update_state_machine_alias, "ResourceNotFound",
                   "Request references a resource that does not exist.",
                   stateMachineAliasArn=arn + ":beta", description="x")
        self.sfn.update_state_machine_alias(stateMachineAliasArn=arn + ":prod",
                                            routingConfiguration=routing((v1, 100)))
        self.sfn.delete_state_machine_version(stateMachineVersionArn=v2)
        self.assertEqual(names(stateMachineArn=arn), ["prod"])

    def test_errors(self):
        arn, v1, v2 = self.two_versions()
        other = self.machine(name="other", publish=True)["stateMachineArn"]
        create = self.sfn.create_state_machine_alias
        pattern = ("failed to satisfy constraint: Member must satisfy regular expression "
                   "pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$")
        for name in ("123", "INVALID ALIAS", "ALIAS@"):
            self.error(create, "ValidationException",
                       "1 validation error detected: Value '%s' at 'name' %s" % (name, pattern),
                       name=name, routingConfiguration=routing((v1, 100)))
        self.error(create, "ValidationException",
                   "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                   "constraint: Member must have length less than or equal to 80" % ("A" * 81),
                   name="A" * 81, routingConfiguration=routing((v1, 100)))
        self.error(create, "ValidationException",
                   "Sum of routing configuration weights must equal 100. Received: [70, 29]",
                   name="a", routingConfiguration=routing((v1, 70), (v2, 29)))
        self.error(create, "ValidationException",
                   "Routing configuration must contain distinct state machine version ARNs. "
                   "Received: [%s, %s]" % (v1, v1),
                   name="a", routingConfiguration=routing((v1, 50), (v1, 50)))
        self.error(create, "ValidationException",
                   "Routing configuration must contain state machine version ARNs. "
                   "Received: [%s, %s]" % (arn, v2),
                   name="a", routingConfiguration=routing((arn, 50), (v2, 50)))
        self.error(create, "ValidationException",
                   "1 validation error detected: Value '101' at "
                   "'routingConfiguration.1.member.weight' failed to satisfy constraint: Member "
                   "must have value less than or equal to 100",
                   name="a", routingConfiguration=routing((v1, 101)))
        self.error(create, "ValidationException",
                   "1 validation error detected: Value '[RoutingConfigurationListItem("
                   "stateMachineVersionArn=%s, weight=50), RoutingConfigurationListItem("
                   "stateMachineVersionArn=%s, weight=30), RoutingConfigurationListItem("
                   "stateMachineVersionArn=%s:3, weight=20)]' at 'routingConfiguration' failed "
                   "to satisfy constraint: Member must have length less than or equal to 2"
                   % (v1, v2, arn),
                   name="a", routingConfiguration=routing((v1, 50), (v2, 30), (arn + ":3", 20)))
        self.error(create, "ValidationException", name="a",
                   routingConfiguration=routing((v1, 50), (other + ":1", 50)))
        self.error(create, "ResourceNotFound", name="a", routingConfiguration=routing((arn + ":9",
                                                                                       100)))
        st, body = self.raw("AWSStepFunctions.CreateStateMachineAlias",
                            {"name": "a", "routingConfiguration": []})
        self.assertEqual((st, body["__type"].split("#")[-1]), (400, "ValidationException"))
        st, body = self.raw("AWSStepFunctions.CreateStateMachineAlias",
                            {"name": "a", "routingConfiguration": routing((v1, -1))})
        self.assertEqual((st, body["__type"].split("#")[-1]), (400, "ValidationException"))
        self.assertIn("greater than or equal to 0", body["message"])

        self.sfn.create_state_machine_alias(name="prod", routingConfiguration=routing((v1, 100)))
        self.error(self.sfn.update_state_machine_alias, "ValidationException",
                   stateMachineAliasArn=arn + ":prod")
        self.error(self.sfn.update_state_machine_alias, "ValidationException",
                   stateMachineAliasArn=arn + ":prod",
                   routingConfiguration=routing((other + ":1", 100)))
        self.error(self.sfn.describe_state_machine_alias, "InvalidArn",
                   stateMachineAliasArn=v1)
        self.error(self.sfn.list_state_machine_aliases, "StateMachineDoesNotExist",
                   stateMachineArn=arn.replace(":m", ":nope"))
        self.error(self.sfn.list_state_machine_aliases, "ResourceNotFound",
                   stateMachineArn=arn + ":9")


class Executions(Base):

    def setUp(self):
        super().setUp()
        self.arn = self.machine(publish=True)["stateMachineArn"]
        self.update(self.arn, 2, publish=True)
        self.update(self.arn, 3)  # the current revision has no version
        self.v1, self.v2 = self.arn + ":1", self.arn + ":2"

    def start(self, arn, **kw):
        return self.sfn.start_execution(stateMachineArn=arn, **kw)["executionArn"]

    def test_through_a_version(self):
        x = self.start(self.v1, name="via-v1")
        tag, d = self.output_of(x)
        self.assertEqual(tag, 1)
        self.assertEqual((d["stateMachineArn"], d["stateMachineVersionArn"]),
                         (self.arn, self.v1))
        self.assertNotIn("stateMachineAliasArn", d)
        self.assertEqual(x, "arn:aws:states:us-east-1:123456789012:execution:m:via-v1")
        f = self.sfn.describe_state_machine_for_execution(executionArn=x)
        self.assertEqual(json.loads(f["definition"]), pass_machine(1))
        plain = self.start(self.arn)
        tag, d = self.output_of(plain)
        self.assertEqual(tag, 3)
        self.assertNotIn("stateMachineVersionArn", d)
        # Version executions share the machine's execution names.
        with self.assertRaises(self.sfn.exceptions.ExecutionAlreadyExists):
            self.start(self.v2, name="via-v1")
        for bad in (self.arn + ":9", self.arn + ":nope"):
            self.error(self.start, "StateMachineDoesNotExist",
                       "State Machine Does Not Exist: '%s'" % bad, arn=bad)

    def test_through_an_alias(self):
        self.sfn.create_state_machine_alias(name="first",
                                            routingConfiguration=routing((self.v1, 100),
                                                                         (self.v2, 0)))
        self.sfn.create_state_machine_alias(name="split",
                                            routingConfiguration=routing((self.v1, 50),
                                                                         (self.v2, 50)))
        first = [self.start(self.arn + ":first") for _ in range(20)]
        for x in first:
            tag, d = self.output_of(x)
            self.assertEqual(tag, 1)
            self.assertEqual((d["stateMachineArn"], d["stateMachineVersionArn"],
                              d["stateMachineAliasArn"]),
                             (self.arn, self.v1, self.arn + ":first"))
        split = [self.start(self.arn + ":split") for _ in range(200)]
        picked = collections.Counter(self.output_of(x)[0] for x in split)
        # Binomial(200, 0.5): outside 60..140 is a > 8-sigma event.
        self.assertTrue(60 <= picked[1] <= 140 and picked[1] + picked[2] == 200, picked)

        # ListExecutions: by alias, by version (through it or an alias), by machine (all).
        def listed(arn):
            out, token = [], None
            while True:
                kw = {"nextToken": token} if token else {}
                page = self.sfn.list_executions(stateMachineArn=arn, maxResults=100, **kw)
                out += page["executions"]
                token = page.get("nextToken")
                if not token:
                    return out
        by_first = listed(self.arn + ":first")
        self.assertEqual({e["executionArn"] for e in by_first}, set(first))
        self.assertTrue(all(e["stateMachineAliasArn"] == self.arn + ":first" and
                            e["stateMachineVersionArn"] == self.v1 and
                            e["stateMachineArn"] == self.arn for e in by_first))
        self.assertEqual(len(listed(self.arn + ":split")), 200)
        self.assertEqual(len(listed(self.v2)), picked[2])
        self.assertEqual(len(listed(self.v1)), 20 + picked[1])
        plain = self.start(self.arn)
        self.output_of(plain)
        everything = listed(self.arn)
        self.assertEqual(len(everything), 221)
        self.assertEqual(everything[0]["executionArn"], plain)
        self.assertNotIn("stateMachineVersionArn", everything[0])
        self.assertIn("stateMachineAliasArn", everything[1])
        self.error(self.sfn.list_executions, "ResourceNotFound",
                   stateMachineArn=self.arn + ":gone")
        running = self.sfn.list_executions(stateMachineArn=self.v1, statusFilter="RUNNING")
        self.assertEqual(running["executions"], [])


class Lifecycle(Base):

    def test_delete_machine_removes_versions_and_aliases(self):
        arn = self.machine(publish=True)["stateMachineArn"]
        self.sfn.create_state_machine_alias(name="prod",
                                            routingConfiguration=routing((arn + ":1", 100)))
        self.sfn.delete_state_machine(stateMachineArn=arn)
        for call, kw in ((self.sfn.describe_state_machine, {"stateMachineArn": arn + ":1"}),
                         (self.sfn.start_execution, {"stateMachineArn": arn + ":prod"})):
            self.error(call, "StateMachineDoesNotExist", **kw)
        self.error(self.sfn.describe_state_machine_alias, "ResourceNotFound",
                   stateMachineAliasArn=arn + ":prod")
        # A new machine of the same name starts from nothing.
        self.machine()
        self.assertEqual(self.sfn.list_state_machine_versions(stateMachineArn=arn)
                         ["stateMachineVersions"], [])
        self.assertEqual(self.sfn.list_state_machine_aliases(stateMachineArn=arn)
                         ["stateMachineAliases"], [])
        self.assertEqual(self.sfn.publish_state_machine_version(stateMachineArn=arn)
                         ["stateMachineVersionArn"], arn + ":1")

    def test_survives_kill_9(self):
        arn = self.machine(publish=True, versionDescription="v1")["stateMachineArn"]
        self.update(arn, 2, publish=True)
        self.update(arn, 3, publish=True)
        self.sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":3")
        self.sfn.create_state_machine_alias(
            name="prod", description="live",
            routingConfiguration=routing((arn + ":1", 100), (arn + ":2", 0)))
        x = self.sfn.start_execution(stateMachineArn=arn + ":prod", name="before")["executionArn"]
        self.output_of(x)
        before = self.sfn.describe_state_machine_alias(stateMachineAliasArn=arn + ":prod")

        self.restart(kill=True)
        self.sfn = self.client("stepfunctions")
        self.assertEqual([v["stateMachineVersionArn"] for v in self.sfn.list_state_machine_versions(
            stateMachineArn=arn)["stateMachineVersions"]], [arn + ":2", arn + ":1"])
        self.assertEqual(self.sfn.describe_state_machine(stateMachineArn=arn + ":1")
                         ["description"], "v1")
        after = self.sfn.describe_state_machine_alias(stateMachineAliasArn=arn + ":prod")
        del before["ResponseMetadata"], after["ResponseMetadata"]
        self.assertEqual(after, before)
        d = self.sfn.describe_execution(executionArn=x)
        self.assertEqual((d["stateMachineVersionArn"], d["stateMachineAliasArn"]),
                         (arn + ":1", arn + ":prod"))
        # The numbering goes on where it stopped (3 was deleted, not forgotten).
        self.update(arn, 4)
        self.assertEqual(self.sfn.publish_state_machine_version(stateMachineArn=arn)
                         ["stateMachineVersionArn"], arn + ":4")
        y = self.sfn.start_execution(stateMachineArn=arn + ":prod")["executionArn"]
        self.assertEqual(self.output_of(y)[0], 1)
        self.sfn.create_state_machine_alias(name="next",
                                            routingConfiguration=routing((arn + ":4", 100)))
        self.assertEqual([a["stateMachineAliasArn"] for a in self.sfn.list_state_machine_aliases(
            stateMachineArn=arn)["stateMachineAliases"]], [arn + ":next", arn + ":prod"])


if __name__ == "__main__":
    servertest.main()
