#!/usr/bin/env python3
"""Runs the JSONata 2.0.6 suite (../shared/conformance/jsonata, beside the source tree)
through `baton eval` and reports how many cases pass.

  run_suite.py --baton build/baton --suite DIR [--min N]

Exit 77 (ctest: skipped) when the suite is not there; 1 when fewer than --min cases pass
(default 0: the count is reported, not enforced); else 0.
"""
import argparse, os, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--baton", required=True)
ap.add_argument("--suite", required=True)
ap.add_argument("--min", type=int, default=0)
a = ap.parse_args()
run = os.path.join(a.suite, "run.py")
if not os.path.exists(run):
    print(f"no JSONata suite at {a.suite}: skipped")
    sys.exit(77)
cmd = [sys.executable, run, "--cases", os.path.join(a.suite, "cases"), "--exec",
       a.baton + " eval --jsonata-file {expr} {input_args} {bindings_args} {limit_args} --json"]
p = subprocess.run(cmd, capture_output=True, text=True)
lines = p.stdout.strip().splitlines()
last = lines[-1] if lines else ""
m = re.match(r"(\d+) passed, (\d+) failed", last)
if not m:
    print(p.stdout[-2000:], p.stderr[-2000:])
    sys.exit(1)
passed, failed = int(m.group(1)), int(m.group(2))
for line in lines[:-1]:
    if line.startswith("FAIL"):
        print(line[:200])
print(f"JSONata suite: {passed} of {passed + failed} cases pass")
sys.exit(0 if passed >= a.min else 1)
