#!/usr/bin/env python3
"""`baton validate`: the text and --json report formats, and the diagnostic code and JSON
Pointer reported for typical mistakes. Array elements are accepted both as AWS writes them
(`/Branches[0]`) and as RFC 6901 writes them (`/Branches/0`)."""

import json
import re

import batontest
from batontest import PASS_MACHINE, BatonTestCase

LAMBDA = "arn:aws:states:::lambda:invoke"


def normalise(pointer):
    """`/a[0]/b` → `/a/0/b`, so both spellings of array steps compare equal."""
    return re.sub(r"\[(\d+)\]", r"/\1", pointer)


class Validate(BatonTestCase):
    def diagnostics(self, definition):
        """Runs validate --json; returns (process, report)."""
        d = definition if isinstance(definition, str) else json.dumps(definition)
        proc = self.baton("validate", self.write("def.json", d), "--json")
        return proc, json.loads(proc.stdout)

    def assertDiagnostic(self, definition, code, pointer, message_part=None):
        proc, report = self.diagnostics(definition)
        self.assertExit(proc, 1)
        self.assertEqual(report["result"], "FAIL")
        found = [(d["code"], normalise(d["location"])) for d in report["diagnostics"]]
        self.assertIn((code, normalise(pointer)), found)
        if message_part:
            messages = [d["message"] for d in report["diagnostics"]
                        if normalise(d["location"]) == normalise(pointer)]
            self.assertTrue(any(message_part in m for m in messages),
                            f"{message_part!r} not in {messages}")

    # --- report formats ----------------------------------------------------------------------
    def test_valid_definition_text(self):
        f = self.write("good.json", PASS_MACHINE)
        proc = self.baton("validate", f)
        self.assertExit(proc, 0)
        self.assertEqual(proc.stdout.strip(), f"{f}: valid")

    def test_valid_definition_json(self):
        proc, report = self.diagnostics(PASS_MACHINE)
        self.assertExit(proc, 0)
        self.assertEqual(report, {"result": "OK", "diagnostics": []})

    def test_json_report_shape(self):
        proc, report = self.diagnostics({"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                                           "Next": "Gone"}}})
        self.assertExit(proc, 1)
        self.assertEqual(set(report), {"result", "diagnostics"})
        self.assertGreaterEqual(len(report["diagnostics"]), 1)
        for d in report["diagnostics"]:
            self.assertEqual(set(d), {"code", "message", "location", "severity"})
            self.assertEqual(d["severity"], "ERROR")
            self.assertRegex(d["code"], r"^[A-Z_]+$")
            self.assertTrue(d["location"] == "" or d["location"].startswith("/"))

    def test_text_report_lines_and_stderr_summary(self):
        f = self.write("bad.json", {"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                                      "Next": "Gone"}}})
        proc = self.baton("validate", f)
        self.assertExit(proc, 1)
        lines = proc.stdout.strip().splitlines()
        self.assertGreaterEqual(len(lines), 1)
        for line in lines:
            self.assertRegex(line, r"^" + re.escape(f) + r": [A-Z_]+: .+ at /\S*$")
        self.assertIn(f"{f}: MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone "
                      "at /States/A/Next", lines)
        self.assertTrue(proc.stderr.startswith(
            "InvalidDefinition: Invalid State Machine Definition: '"))

    def test_every_problem_is_reported(self):
        proc, report = self.diagnostics({
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "Gone"},
                       "B": {"Type": "Task", "End": True},
                       "C": {"Type": "Wait", "Timestamp": "tomorrow", "End": True}}})
        self.assertExit(proc, 1)
        where = {normalise(d["location"]) for d in report["diagnostics"]}
        self.assertLessEqual({"/States/A/Next", "/States/B", "/States/C/Timestamp"}, where)

    def test_run_reports_the_same_problems(self):
        f = self.write("bad.json", {"StartAt": "Missing", "States": {"A": {"Type": "Pass",
                                                                            "End": True}}})
        proc = self.baton("run", f, "--json")
        self.assertExit(proc, 1)
        res = json.loads(proc.stdout)
        self.assertEqual(res["status"], "CREATE_FAILED")
        self.assertEqual(res["error"], "InvalidDefinition")
        self.assertTrue(res["cause"].startswith("Invalid State Machine Definition: '"))
        self.assertIn("at /StartAt", res["cause"])

    # --- diagnostics for typical mistakes --------------------------------------------------
    def test_not_json(self):
        proc, report = self.diagnostics("{\"StartAt\": ")
        self.assertExit(proc, 1)
        self.assertEqual(report["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION")
        self.assertEqual(report["diagnostics"][0]["location"], "")

    def test_not_an_object(self):
        self.assertDiagnostic("[]", "SCHEMA_VALIDATION_FAILED", "")

    def test_startat_names_no_state(self):
        self.assertDiagnostic({"StartAt": "Nope", "States": {"A": {"Type": "Pass",
                                                                    "End": True}}},
                              "MISSING_TRANSITION_TARGET", "/StartAt", "Nope")

    def test_next_names_no_state(self):
        self.assertDiagnostic({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}},
                              "MISSING_TRANSITION_TARGET", "/States/A/Next", "Z")

    def test_task_without_resource(self):
        self.assertDiagnostic({"StartAt": "T", "States": {"T": {"Type": "Task", "End": True}}},
                              "SCHEMA_VALIDATION_FAILED", "/States/T", "Resource")

    def test_unknown_state_type(self):
        self.assertDiagnostic({"StartAt": "X", "States": {"X": {"Type": "Sleep", "End": True}}},
                              "SCHEMA_VALIDATION_FAILED", "/States/X/Type")

    def test_unknown_field(self):
        self.assertDiagnostic({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True,
                                                                "Bogus": 1}}},
                              "SCHEMA_VALIDATION_FAILED", "/States/P", "Bogus")

    def test_next_and_end_together(self):
        self.assertDiagnostic({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True,
                                                                "Next": "P"}}},
                              "SCHEMA_VALIDATION_FAILED", "/States/P")

    def test_invalid_wait_timestamp(self):
        self.assertDiagnostic({"StartAt": "W", "States": {"W": {"Type": "Wait",
                                                                "Timestamp": "yesterday",
                                                                "End": True}}},
                              "SCHEMA_VALIDATION_FAILED", "/States/W/Timestamp", "RFC3339")

    def test_states_all_not_alone_in_retrier(self):
        self.assertDiagnostic({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": LAMBDA, "End": True,
            "Retry": [{"ErrorEquals": ["Other"]}, {"ErrorEquals": ["States.ALL", "X"]}]}}},
            "SCHEMA_VALIDATION_FAILED", "/States/T/Retry[1]/ErrorEquals")

    def test_states_all_catcher_not_last(self):
        self.assertDiagnostic({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "End": True,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"},
                            {"ErrorEquals": ["X"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": True}}},
            "SCHEMA_VALIDATION_FAILED", "/States/T/Catch[0]")

    def test_choice_operand_of_wrong_type(self):
        self.assertDiagnostic({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Default": "P",
                  "Choices": [{"Variable": "$.x", "NumericEquals": "ten", "Next": "P"}]},
            "P": {"Type": "Pass", "End": True}}},
            "SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]/NumericEquals")

    def test_problem_inside_parallel_branch(self):
        self.assertDiagnostic({"StartAt": "P", "States": {"P": {
            "Type": "Parallel", "End": True,
            "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}]}}},
            "MISSING_TRANSITION_TARGET", "/States/P/Branches[0]/States/X/Next", "Y")

    def test_problem_inside_map_processor(self):
        self.assertDiagnostic({"StartAt": "M", "States": {"M": {
            "Type": "Map", "End": True,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Wait", "End": True}}}}}},
            "SCHEMA_VALIDATION_FAILED", "/States/M/ItemProcessor/States/I")

    def test_pointer_escapes_slash_and_tilde(self):
        self.assertDiagnostic({"StartAt": "a/b~c", "States": {"a/b~c": {"Type": "Pass",
                                                                         "Next": "zz"}}},
                              "MISSING_TRANSITION_TARGET", "/States/a~1b~0c/Next")

    def test_jsonata_expression_that_does_not_parse(self):
        self.assertDiagnostic({"QueryLanguage": "JSONata", "StartAt": "P",
                               "States": {"P": {"Type": "Pass", "End": True,
                                                "Output": "{% 1 + %}"}}},
                              "INVALID_JSONATA_EXPRESSION", "/States/P/Output",
                              "Unexpected end of expression")


if __name__ == "__main__":
    batontest.main()
