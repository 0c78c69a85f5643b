"""Helpers for tests that need functions: a ServerTestCase that skips while the server does
not serve the Lambda API, and Python functions created through CreateFunction from source."""

import io
import time
import unittest
import zipfile

import servertest


def zip_of(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", source)
    return buf.getvalue()


class LambdaTestCase(servertest.ServerTestCase):
    def setUp(self):
        super().setUp()
        try:
            self.client("lambda").list_functions()
        except Exception as e:  # the Lambda API is not there yet
            raise unittest.SkipTest("the server does not serve Lambda: %s" % e)

    def function(self, name, source, timeout=3):
        self.client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Handler="handler.handler",
            Role=servertest.ROLE, Code={"ZipFile": zip_of(source)}, Timeout=timeout)
        return "arn:aws:lambda:%s:%s:function:%s" % (servertest.REGION, servertest.ACCOUNT, name)

    def machine(self, definition, name="m"):
        import json
        return self.client("stepfunctions").create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=servertest.ROLE)["stateMachineArn"]

    def run_to_end(self, sm, payload, timeout=30):
        import json
        sfn = self.client("stepfunctions")
        arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps(payload))["executionArn"]
        return arn, self.wait_end(arn, timeout)

    def wait_end(self, arn, timeout=30):
        sfn = self.client("stepfunctions")
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = sfn.describe_execution(executionArn=arn)
            if d["status"] != "RUNNING":
                return d
            time.sleep(0.1)
        raise AssertionError("execution still running: " + arn)

    def history_types(self, arn):
        events = self.client("stepfunctions").get_execution_history(
            executionArn=arn, maxResults=1000)["events"]
        return [e["type"] for e in events]
