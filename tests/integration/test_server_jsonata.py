"""State machines in JSONata mode through the server's API (boto3): created, run durably,
refused at creation the way AWS refuses them, failing at run time with
States.QueryEvaluationError and an EvaluationFailed event, and surviving kill -9 of the
server while they wait."""

import json
import time
import urllib.request

import servertest
from servertest import ROLE

ORDER = {
    "QueryLanguage": "JSONata",
    "StartAt": "Price",
    "States": {
        "Price": {
            "Type": "Pass",
            "Assign": {"rate": "{% $states.input.vat %}"},
            "Output": {
                "lines": "{% $states.input.lines.{'sku': sku, 'total': price * qty} %}",
                "who": "{% $uppercase($states.input.customer) %}",
            },
            "Next": "Big?",
        },
        "Big?": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $sum($states.input.lines.total) > 100 %}",
                         "Next": "Each"}],
            "Default": "Small",
        },
        "Small": {"Type": "Succeed", "Output": {"small": True}},
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.lines %}",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Tax",
                "States": {"Tax": {
                    "Type": "Pass",
                    "Output": "{% $states.input.sku & ': ' & $formatNumber("
                              "$states.input.total * (1 + $rate), '#,##0.00') %}",
                    "End": True}},
            },
            "Output": {"who": "{% $states.input.who %}", "taxed": "{% $states.result %}"},
            "End": True,
        },
    },
}

WAIT = {
    "QueryLanguage": "JSONata",
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "Next": "D"},
        "D": {"Type": "Pass", "Output": "{% {'waited': $states.input.s} %}", "End": True},
    },
}


class JsonataMode(servertest.ServerTestCase):

    def run_machine(self, name, definition, input_):
        sfn = self.client("stepfunctions")
        arn = sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
        ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(input_))
        return sfn, ex["executionArn"]

    def test_a_machine_runs_with_variables_choice_and_map(self):
        sfn, arn = self.run_machine("order", ORDER, {
            "customer": "ada", "vat": 0.2,
            "lines": [{"sku": "a", "price": 40, "qty": 2}, {"sku": "b", "price": 1000.5,
                                                          "qty": 1}]})
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]),
                         {"who": "ADA", "taxed": ["a: 96.00", "b: 1,200.60"]})
        sfn, arn = self.run_machine("order-small", ORDER, {
            "customer": "bo", "vat": 0, "lines": [{"sku": "c", "price": 1, "qty": 1}]})
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"small": True})

    def test_a_bad_expression_is_refused_at_creation(self):
        sfn = self.client("stepfunctions")
        bad = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": "{% $states.input.( %}", "End": True}}}
        with self.assertRaises(sfn.exceptions.InvalidDefinition) as cm:
            sfn.create_state_machine(name="bad", definition=json.dumps(bad), roleArn=ROLE)
        self.assertIn("INVALID_JSONATA_EXPRESSION", str(cm.exception))
        self.assertIn("/States/P/Output", str(cm.exception))
        # A JSONPath-only field in a JSONata state.
        mixed = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "ResultPath": "$.x", "End": True}}}
        with self.assertRaises(sfn.exceptions.InvalidDefinition) as cm:
            sfn.create_state_machine(name="mixed", definition=json.dumps(mixed), roleArn=ROLE)
        self.assertIn("ResultPath", str(cm.exception))
        self.assertEqual(sfn.list_state_machines()["stateMachines"], [])

    def test_a_failing_expression_fails_the_execution_with_its_event(self):
        failing = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": "{% $states.input.n + 'x' %}", "End": True}}}
        sfn, arn = self.run_machine("failing", failing, {"n": 1})
        d = self.wait_status(sfn, arn, "FAILED")
        self.assertEqual(d["error"], "States.QueryEvaluationError")
        self.assertIn("T2002", d["cause"])
        events = sfn.get_execution_history(executionArn=arn)["events"]
        types = [e["type"] for e in events]
        self.assertIn("EvaluationFailed", types)
        ev = next(e for e in events if e["type"] == "EvaluationFailed")
        details = ev["evaluationFailedEventDetails"]
        self.assertEqual(details["error"], "States.QueryEvaluationError")
        self.assertEqual(details["state"], "P")
        self.assertEqual(types[-1], "ExecutionFailed")

    def test_a_long_running_loop_does_not_hold_the_server(self):
        # 200 rounds of a state whose expression takes about ten milliseconds (forty under a
        # sanitizer), with no wait in between: seconds of work in one execution. The engine thread serves
        # everything else between its turns, so /health and another execution are answered
        # meanwhile, and the loop still ends with the right count.
        busy = {"QueryLanguage": "JSONata", "StartAt": "Work", "States": {
            "Work": {"Type": "Pass",
                     "Assign": {"i": "{% ($exists($i) ? $i : 0) + 1 %}",
                                "n": "{% $count([1..100000].($ * 2)) %}"},
                     "Next": "Again?"},
            "Again?": {"Type": "Choice",
                       "Choices": [{"Condition": "{% $i < 200 %}", "Next": "Work"}],
                       "Default": "Done"},
            "Done": {"Type": "Pass", "Output": "{% {'rounds': $i, 'n': $n} %}", "End": True}}}
        sfn, arn = self.run_machine("busy", busy, {})
        waits = []
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            t0 = time.time()
            urllib.request.urlopen(self.server.url + "/health", timeout=30).read()
            waits.append(time.time() - t0)
        d = self.wait_status(sfn, arn, "SUCCEEDED")
        self.assertEqual(json.loads(d["output"]), {"rounds": 200, "n": 100000})
        self.assertGreater(len(waits), 3, "the loop ended before it could be observed")
        # (a turn is 20 ms of work and at most 4 phases more; a whole-loop hold would be
        # seconds)
        self.assertLess(max(waits), 1.0, waits)

    def test_a_loop_cut_into_turns_replays_after_kill_9(self):
        # The turns are recorded as they ran (so many phases at a time): after kill -9 in
        # the middle of the loop, the replay stops where the live run stopped, and the loop
        # goes on to the same end.
        loop = {"QueryLanguage": "JSONata", "StartAt": "Work", "States": {
            "Work": {"Type": "Pass",
                     "Assign": {"i": "{% ($exists($i) ? $i : 0) + 1 %}",
                                "n": "{% $count([1..100000].($ * 2)) %}"},
                     "Next": "Again?"},
            "Again?": {"Type": "Choice",
                       "Choices": [{"Condition": "{% $i < 150 %}", "Next": "Work"}],
                       "Default": "Done"},
            "Done": {"Type": "Pass", "Output": "{% {'rounds': $i} %}", "End": True}}}
        sfn, arn = self.run_machine("cut", loop, {})
        time.sleep(0.4)
        self.assertEqual(sfn.describe_execution(executionArn=arn)["status"], "RUNNING")
        self.restart(kill=True)
        sfn = self.client("stepfunctions")
        d = self.wait_status(sfn, arn, "SUCCEEDED", timeout=60)
        self.assertEqual(json.loads(d["output"]), {"rounds": 150})
        events = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        entered = [e["stateEnteredEventDetails"]["name"] for page in events
                   for e in page["events"] if e["type"].endswith("StateEntered")]
        self.assertEqual(entered, ["Work", "Again?"] * 150 + ["Done"])

    def test_a_jsonata_wait_survives_kill_9(self):
        sfn, arn = self.run_machine("wait", WAIT, {"s": 2})
        self.restart(kill=True)
        sfn = self.client("stepfunctions")
        d = self.wait_status(sfn, arn, "SUCCEEDED", timeout=20)
        self.assertEqual(json.loads(d["output"]), {"waited": 2})


if __name__ == "__main__":
    servertest.main()
