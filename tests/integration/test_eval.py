#!/usr/bin/env python3
"""`baton eval`: a JSONata expression from the command line or a file, against an input
file and bindings, printed plain or as one --json object; the limits as U1001; exit 0 for
a value or undefined, 1 for a JSONata error, 2 for usage and I/O errors."""

import json

import batontest
from batontest import BatonTestCase

DOC = {"Account": {"Order": [{"Product": [{"Price": 34.45, "Quantity": 2}]},
                             {"Product": [{"Price": 21.67, "Quantity": 1}]}]}}


class Eval(BatonTestCase):
    def eval_json(self, *args):
        proc = self.baton("eval", *args, "--json")
        return proc, json.loads(proc.stdout.strip().splitlines()[-1])

    def test_value_from_input_file(self):
        inp = self.write("in.json", DOC)
        proc = self.baton("eval", "$sum(Account.Order.Product.(Price * Quantity))",
                          "--input-file", inp)
        self.assertExit(proc, 0)
        self.assertAlmostEqual(json.loads(proc.stdout), 90.57)

    def test_expression_file_bindings_and_json(self):
        expr = self.write("e.jsonata", "$x & '-' & $count($list)")
        b = self.write("b.json", {"x": "a", "list": [1, 2, 3]})
        proc, out = self.eval_json("--jsonata-file", expr, "--bindings-file", b)
        self.assertExit(proc, 0)
        self.assertEqual(out, {"result": "a-3"})

    def test_undefined(self):
        proc, out = self.eval_json("nothing.here")
        self.assertExit(proc, 0)
        self.assertEqual(out, {"undefined": True})

    def test_syntax_error_with_code_and_position(self):
        proc, out = self.eval_json("1 +")
        self.assertExit(proc, 1)
        self.assertEqual(out["error"]["code"], "S0207")
        self.assertEqual(out["error"]["position"], 3)
        self.assertTrue(out["error"]["message"])

    def test_type_error(self):
        proc, out = self.eval_json("'a' - 1")
        self.assertExit(proc, 1)
        self.assertEqual(out["error"]["code"], "T2001")

    def test_limits(self):
        fact = "($f := function($n){$n = 0 ? 1 : $n * $f($n - 1)}; $f(%d))"
        proc, out = self.eval_json(fact % 99, "--max-depth", "302")
        self.assertEqual(out["result"], 9.33262154439441e+155)
        proc, out = self.eval_json(fact % 100, "--max-depth", "302")
        self.assertEqual(out["error"]["code"], "U1001")
        proc, out = self.eval_json("($f := function(){$f()}; $f())", "--time-limit-ms", "200")
        self.assertExit(proc, 1)
        self.assertEqual(out["error"]["code"], "U1001")

    def test_numbers_print_as_json_stringify(self):
        # The text itself, not its parsed value: JSON.stringify's (Number#toString's) form,
        # as jsonata@2.0.6 on Node prints these.
        cases = {"0.1": "0.1", "0.1 + 0.2": "0.30000000000000004", "1e21": "1e+21",
                 "1e20": "100000000000000000000", "9007199254740992": "9007199254740992",
                 "1e-7": "1e-7", "0.000001": "0.000001", "-0": "0", "2.50": "2.5",
                 "[1e300, -1.5e-10]": "[1e+300,-1.5e-10]"}
        for expr, text in cases.items():
            proc = self.baton("eval", expr, "--json")
            self.assertExit(proc, 0)
            self.assertEqual(proc.stdout.strip(), '{"result":%s}' % text, expr)
            proc = self.baton("eval", expr)
            self.assertEqual(proc.stdout.strip(), text, expr)
        proc = self.baton("eval", '{"k\\n": "\\u0001é"}', "--json")
        self.assertEqual(proc.stdout.strip(), '{"result":{"k\\n":"\\u0001é"}}')

    def test_usage_errors(self):
        self.assertExit(self.baton("eval"), 2)
        self.assertExit(self.baton("eval", "1", "--jsonata-file", "x"), 2)
        self.assertExit(self.baton("eval", "1", "--input-file", self.path("missing.json")), 2)
        proc = self.baton("eval", "--help")
        self.assertExit(proc, 0)
        self.assertIn("--time-limit-ms", proc.stdout)


if __name__ == "__main__":
    batontest.main()
