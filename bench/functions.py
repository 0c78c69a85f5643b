#!/usr/bin/env python3
"""Benchmarks of Baton's functions over HTTP on loopback (bench/README.md, "Functions"):

    warm invocations/s and p50/p99 of Lambda Invoke (RequestResponse) of a trivial handler
        (Node.js `exports.handler = async (e) => e`, Python, and a `provided` bootstrap in C)
        at several connection counts and function concurrencies (warm workers)
    cold start: CreateFunction of a new function, then the time from its first Invoke to the
        answer (Node.js and Python), median of N
    queue trigger round trip: SendMessage → the function runs (it appends its receive time to
        a file), p50/p99 at a bounded rate

Usage: python3 bench/functions.py [--baton build-release/baton] [--seconds 5] [--cold 20]
                                  [--quick] [--only warm|cold|trigger]
Figures are printed, never asserted: this is a measurement, not a test.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")

NODE_ECHO = "exports.handler = async (e) => e;\n"
PYTHON_ECHO = "def lambda_handler(event, context):\n    return event\n"
# The trigger's function: one line per record, "SEQ SENT_S RECEIVED_S" (seconds since the
# epoch, both from CLOCK_REALTIME: Python's time.time() and Node's timeOrigin + now()).
NODE_RECORDER = r"""
const fs = require('fs');
const { performance } = require('perf_hooks');
const out = fs.openSync(process.env.OUT, 'a');
exports.handler = async (e) => {
  const t = (performance.timeOrigin + performance.now()) / 1000;
  let lines = '';
  for (const r of e.Records) lines += r.body + ' ' + t.toFixed(6) + '\n';
  fs.writeSync(out, lines);
  return {};
};
"""

# Concurrency settings (warm workers) and connection counts of the warm Node.js runs.
NODE_CONCURRENCY = [1, 4, 16]
CONNECTIONS = [1, 4, 16, 64]
OTHER_CONCURRENCY = 4  # Python and provided
OTHER_CONNECTIONS = [1, 16]


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def make_code(work, bootstrap):
    """The code folders: node/, python/, provided/ (bootstrap), recorder/."""
    write(os.path.join(work, "node", "index.js"), NODE_ECHO)
    write(os.path.join(work, "python", "lambda_function.py"), PYTHON_ECHO)
    write(os.path.join(work, "recorder", "index.js"), NODE_RECORDER)
    os.makedirs(os.path.join(work, "provided"), exist_ok=True)
    shutil.copy(bootstrap, os.path.join(work, "provided", "bootstrap"))


def project_file(work, out_path, batch_size):
    lines = ["version: 1", "functions:"]
    for c in NODE_CONCURRENCY:
        lines += ["  node_c%d:" % c, "    runtime: nodejs20.x", "    code: node",
                  "    concurrency: %d" % c]
    lines += ["  python_c%d:" % OTHER_CONCURRENCY, "    runtime: python3.12", "    code: python",
              "    concurrency: %d" % OTHER_CONCURRENCY]
    lines += ["  provided_c%d:" % OTHER_CONCURRENCY, "    runtime: provided.al2023",
              "    code: provided", "    concurrency: %d" % OTHER_CONCURRENCY]
    lines += ["  recorder:", "    runtime: nodejs20.x", "    code: recorder", "    concurrency: 4",
              "    environment:", "      OUT: %s" % json.dumps(out_path)]
    lines += ["queues:", "  Work: {}", "triggers:",
              "  - {queue: Work, function: recorder, batch_size: %d}" % batch_size]
    path = os.path.join(work, "baton.yaml")
    write(path, "\n".join(lines) + "\n")
    return path


def start_server(baton, data, sync, extra=()):
    proc = subprocess.Popen([baton, "serve", "--listen", "127.0.0.1:0", "--data", data,
                             "--log-level", "warn", "--sync", sync] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    m = re.search(r"serving at (http://\S+)", line)
    if not m:
        proc.kill()
        sys.exit("baton serve did not start: %r" % line)
    url = m.group(1)
    t0 = time.time()
    while time.time() - t0 < 60:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.01)
    sys.exit("no /health from " + url)


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)


class Client:
    """One keep-alive connection to the server (Lambda rest-json, SQS JSON 1.0)."""

    def __init__(self, url):
        m = re.match(r"http://([^:/]+):(\d+)", url)
        self.conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=60)

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        text = r.read()
        if r.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, text[:300]))
        return json.loads(text) if text else None

    def sqs(self, op, body):
        return self.call("POST", "/", body, {"X-Amz-Target": "AmazonSQS." + op,
                                             "Content-Type": "application/x-amz-json-1.0"})

    def invoke(self, name, event):
        return self.call("POST", "/2015-03-31/functions/%s/invocations" % name, event)


def load(tool, url, function, connections, seconds):
    out = subprocess.run([tool, "invoke", "--endpoint", url, "--json", "--function", function,
                          "--connections", str(connections), "--seconds", str(seconds),
                          "--input", '{"ok":true}'],
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        print("baton-load invoke failed: %s" % out.stderr.strip(), file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm(args, url, rows):
    runs = [("node_c%d" % c, "Node.js", c, n) for c in NODE_CONCURRENCY for n in CONNECTIONS]
    runs += [("python_c%d" % OTHER_CONCURRENCY, "Python", OTHER_CONCURRENCY, n)
             for n in OTHER_CONNECTIONS]
    runs += [("provided_c%d" % OTHER_CONCURRENCY, "provided (C)", OTHER_CONCURRENCY, n)
             for n in OTHER_CONNECTIONS]
    if args.quick:
        runs = [r for r in runs if r[2] in (1, 4) and r[3] in (1, 16)]
    warmed = set()
    for name, label, conc, conns in runs:
        if name not in warmed:  # start every worker before measuring
            load(args.load, url, name, max(conc, 4), 1)
            warmed.add(name)
        r = load(args.load, url, name, conns, args.seconds)
        rows.append({"what": "warm", "runtime": label, "concurrency": conc,
                     "connections": conns, "rate": r["rate"], "p50_ms": r["p50_ms"],
                     "p99_ms": r["p99_ms"], "errors": r["errors"]})
        print("  %-13s concurrency %2d, %2d connections: %8.0f invocations/s  p50 %.3f ms  "
              "p99 %.3f ms%s" % (label, conc, conns, r["rate"], r["p50_ms"], r["p99_ms"],
                                  "  (%d errors)" % r["errors"] if r["errors"] else ""),
              flush=True)


def cold(args, url, work, rows):
    c = Client(url)
    for runtime, folder, handler, label in [("nodejs20.x", "node", "index.handler", "Node.js"),
                                            ("python3.12", "python",
                                             "lambda_function.lambda_handler", "Python")]:
        firsts, seconds = [], []
        for i in range(args.cold):
            name = "cold_%s_%d" % (folder, i)
            c.call("POST", "/2015-03-31/functions", {
                "FunctionName": name, "Runtime": runtime, "Handler": handler,
                "Role": "arn:aws:iam::123456789012:role/bench",
                "Code": {"LocalPath": os.path.abspath(os.path.join(work, folder))}})
            t0 = time.perf_counter()
            c.invoke(name, {"ok": True})
            t1 = time.perf_counter()
            c.invoke(name, {"ok": True})
            t2 = time.perf_counter()
            firsts.append((t1 - t0) * 1000)
            seconds.append((t2 - t1) * 1000)
            c.call("DELETE", "/2015-03-31/functions/%s" % name)
        firsts.sort()
        row = {"what": "cold", "runtime": label, "n": args.cold,
               "median_ms": statistics.median(firsts),
               "p90_ms": firsts[min(len(firsts) - 1, int(len(firsts) * 0.9))],
               "second_invoke_median_ms": statistics.median(seconds)}
        rows.append(row)
        print("  %-13s cold start (first Invoke → answer), median of %d: %.1f ms  p90 %.1f ms"
              "  (second Invoke %.2f ms)" % (label, args.cold, row["median_ms"], row["p90_ms"],
                                             row["second_invoke_median_ms"]), flush=True)


def trigger(args, url, out_path, rows, batch_size):
    c = Client(url)
    queue_url = c.sqs("GetQueueUrl", {"QueueName": "Work"})["QueueUrl"]
    for rate in args.rates:
        open(out_path, "w").close()
        n = int(rate * args.seconds)
        sent = {}
        t_start = time.time()
        for i in range(n):
            due = t_start + i / rate
            while True:
                d = due - time.time()
                if d <= 0:
                    break
                time.sleep(d)
            t = time.time()
            sent[i] = t
            c.sqs("SendMessage", {"QueueUrl": queue_url, "MessageBody": "%d %.6f" % (i, t)})
        deadline = time.time() + 30
        got = {}
        while time.time() < deadline:
            with open(out_path) as f:
                for line in f:
                    p = line.split()
                    if len(p) == 3 and int(p[0]) in sent:
                        got[int(p[0])] = float(p[2]) - float(p[1])
            if len(got) >= n:
                break
            time.sleep(0.2)
        lat = sorted(v * 1000 for v in got.values())
        if not lat:
            print("  trigger at %d/s: nothing arrived" % rate)
            continue
        row = {"what": "trigger", "rate": rate, "batch_size": batch_size, "sent": n,
               "arrived": len(got), "p50_ms": lat[len(lat) // 2],
               "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "max_ms": lat[-1]}
        rows.append(row)
        print("  queue trigger at %4d messages/s (batch size %d): SendMessage → function runs "
              "p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d of %d arrived)" %
              (rate, batch_size, row["p50_ms"], row["p99_ms"], row["max_ms"], len(got), n),
              flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baton", default=os.path.join(ROOT, "build-release", "baton"))
    ap.add_argument("--load", default=os.path.join(ROOT, "build-release", "bench",
                                                   "baton-load"))
    ap.add_argument("--bootstrap", default=os.path.join(ROOT, "build-release", "bench",
                                                        "fn-bootstrap"))
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--cold", type=int, default=20, help="functions created for the cold start")
    ap.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[100, 500],
                    help="trigger: messages/s, comma-separated")
    ap.add_argument("--batch-size", type=int, default=10, help="trigger: the mapping's BatchSize")
    ap.add_argument("--sync", default="full", choices=["full", "normal"])
    ap.add_argument("--only", choices=["warm", "cold", "trigger"])
    ap.add_argument("--quick", action="store_true", help="fewer warm runs")
    ap.add_argument("--json", action="store_true", help="also print all rows as one JSON line")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="baton-fnbench-")
    rows = []
    try:
        make_code(work, args.bootstrap)
        out_path = os.path.join(work, "received.txt")
        config = project_file(work, out_path, args.batch_size)
        proc, url = start_server(args.baton, os.path.join(work, "data"), args.sync,
                                 ["--config", config])
        print("baton serve --sync %s, %d cores, load average %s (loopback; the clients on the "
              "same machine)" % (args.sync, os.cpu_count(),
                                 " ".join("%.2f" % x for x in os.getloadavg())), flush=True)
        try:
            if args.only in (None, "warm"):
                warm(args, url, rows)
            if args.only in (None, "cold"):
                cold(args, url, work, rows)
            if args.only in (None, "trigger"):
                trigger(args, url, out_path, rows, args.batch_size)
        finally:
            stop_server(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("load average at the end: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
