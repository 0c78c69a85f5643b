#!/usr/bin/env python3
"""The AWS-recorded conformance cases that call Lambda functions, run against `baton serve`.

Each such case names its functions in `lambdas` (ARN → name and behaviour: identity, raise,
constant, …). This step starts a server with the account and region the cases were recorded
under, creates those functions through Baton's Lambda API (CreateFunction with a zip of one
of the Python handlers in lambdas/, runtime python3.12 as on AWS), and then runs the corpus'
own runner (run.py --endpoint … --available lambda) on exactly those cases.

    lambda_cases.py --baton build/baton [--corpus ../shared/conformance] [--json report.json]

The corpus lives outside the project; without it the step prints why and exits 77 (ctest's
"skipped"). The cases run in rounds, one server each, since the recorded cases reuse
function names with different behaviours; prints each round's run.py output and then the
total `N passed, M failed, K skipped`; exits non-zero when a round failed.
"""

import argparse
import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# behaviour (and, for raise, the recorded errorType) → handler file in lambdas/
HANDLERS = {
    "identity": "identity.py",
    "constant": "constant.py",
    "constant-string": "constant_string.py",
    "large-output": "large_output.py",
    "sleep": "sleep.py",
    "raise": "raise_exception.py",
}


def handler_file(spec):
    if spec["behaviour"] == "raise" and "CustomException" in spec.get("description", ""):
        return "raise_custom_exception.py"
    return HANDLERS[spec["behaviour"]]


def zip_of(path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        # the recorded stack traces name /var/task/handler.py: the module is handler.py
        z.write(path, "handler.py")
    return base64.b64encode(buf.getvalue()).decode()


def call(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start_server(baton, data, account, region):
    log = open(os.path.join(os.path.dirname(data), "server.log"), "ab")
    proc = subprocess.Popen([baton, "serve", "--listen", "127.0.0.1:0", "--data", data,
                             "--account", account, "--region", region],
                            stdout=subprocess.PIPE, stderr=log)
    line = proc.stdout.readline().decode()
    m = re.search(r"serving at (http://\S+)", line)
    if not m:
        proc.wait(10)
        raise SystemExit("baton serve did not start: %r" % line)
    return proc, m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baton", required=True)
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "..", "shared",
                                                     "conformance"))
    ap.add_argument("--json")
    args = ap.parse_args()
    cases_dir = os.path.join(args.corpus, "cases")
    runner = os.path.join(args.corpus, "run.py")
    if not os.path.isdir(cases_dir) or not os.path.exists(runner):
        print("skipped: no conformance corpus at %s" % os.path.abspath(args.corpus))
        return SKIP

    # The recorded cases reuse masked function names with different behaviours (one case's
    # lambda_func_00000001 returns its input, another's raises), so the cases go in rounds:
    # each round a server of its own whose functions agree with every case in it.
    rounds = []  # [(functions {name: (arn, spec)}, [case file])]
    for name in sorted(os.listdir(cases_dir)):
        with open(os.path.join(cases_dir, name)) as f:
            case = json.load(f)
        if not case.get("lambdas") or set(case.get("needs", [])) - {"lambda"}:
            continue
        wanted = {}
        for arn, spec in case["lambdas"].items():
            prev = wanted.get(spec["name"])
            if prev is not None and handler_file(prev[1]) != handler_file(spec):
                raise SystemExit("case %s: function %s has two behaviours" % (name, spec["name"]))
            wanted[spec["name"]] = (arn, spec)
        for functions, members in rounds:
            if all(n not in functions or handler_file(functions[n][1]) == handler_file(sp)
                   for n, (_, sp) in wanted.items()):
                functions.update(wanted)
                members.append(name)
                break
        else:
            rounds.append((dict(wanted), [name]))
    if not rounds:
        print("skipped: the corpus holds no lambda cases")
        return SKIP
    every = [v for functions, _ in rounds for v in functions.values()]
    arns = {arn.split(":")[4] for arn, _ in every}
    regions = {arn.split(":")[3] for arn, _ in every}
    if len(arns) != 1 or len(regions) != 1:
        raise SystemExit("the cases' functions span several accounts or regions")
    account, region = arns.pop(), regions.pop()

    totals = [0, 0, 0]
    reports = []
    worst = 0
    for i, (functions, members) in enumerate(rounds):
        rc, counts, report = run_round(args, runner, cases_dir, account, region, functions,
                                       members, i)
        worst = worst or rc
        totals = [a + b for a, b in zip(totals, counts)]
        reports.append(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(reports, f, indent=1)
    print("%d passed, %d failed, %d skipped (%d cases in %d rounds)" %
          (totals[0], totals[1], totals[2], sum(len(m) for _, m in rounds), len(rounds)))
    return worst


def run_round(args, runner, cases_dir, account, region, functions, members, index):
    """Runs one round's cases on a server of its own: (run.py's status, [passed, failed,
    skipped], its JSON report or None)."""
    tmp = tempfile.mkdtemp(prefix="baton-lambda-cases-")
    proc = None
    try:
        proc, url = start_server(args.baton, os.path.join(tmp, "data"), account, region)
        for name, (arn, spec) in sorted(functions.items()):
            body = {"FunctionName": name, "Runtime": "python3.12", "Handler": "handler.handler",
                    "Role": "arn:aws:iam::%s:role/lambda" % account,
                    "Timeout": 90 if spec["behaviour"] == "sleep" else 10,
                    "Code": {"ZipFile": zip_of(os.path.join(HERE, "lambdas",
                                                            handler_file(spec)))}}
            status, text = call(url, "POST", "/2015-03-31/functions", body)
            if status != 201:
                raise SystemExit("CreateFunction %s: %d %s" % (name, status, text[:300]))
        subset = os.path.join(tmp, "cases")
        os.mkdir(subset)
        for name in members:
            shutil.copy(os.path.join(cases_dir, name), subset)
        report_path = os.path.join(tmp, "report.json")
        cmd = [sys.executable, runner, "--endpoint", url, "--cases", subset,
               "--available", "lambda", "--timeout", "120", "--jobs", "4",
               "--json", report_path]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(out.stdout)
        sys.stdout.flush()
        m = re.search(r"(\d+) passed, (\d+) failed(?:, (\d+) skipped)?", out.stdout)
        counts = [int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)] if m else [0, 0, 0]
        report = None
        if os.path.exists(report_path):
            with open(report_path) as f:
                report = json.load(f)
        print("round %d: %d functions, %d cases" % (index + 1, len(functions), len(members)))
        return out.returncode, counts, report
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
