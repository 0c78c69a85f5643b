#!/usr/bin/env python3
"""Benchmarks of `baton serve` over HTTP on loopback, everything durably committed, beside the
figures of the peers (../shared/bench/README.md, which persist nothing):

    StartExecution/s (trivial machine, 64 connections)
    callbacks/s at 1 and 64 outstanding (receive the token from Baton's queue →
        SendTaskSuccess → the execution ends), with p50/p99 of SendTaskSuccess
    durable transitions/s (pass-chain: 100 Pass states per execution, 64 connections)
    RSS per parked execution with N parked (default 100,000), and the time to park them
    restart time with them parked (SIGTERM → ready again)

Usage: python3 bench/server.py [--baton build-release/baton] [--load build-release/bench/baton-load]
                               [--seconds 10] [--parked 100000] [--sync full|normal]
Ratios are printed, never asserted: this is a measurement, not a test.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

# Peers over HTTP on loopback (../shared/bench/README.md): the best of each row.
PEERS = {
    "start": ("aws-local-stepfunctions", 40900),
    "callbacks1": ("aws-local-stepfunctions", 1528),
    "callbacks64": ("aws-local-stepfunctions", 6579),
    "transitions": ("aws-local-stepfunctions, in-process", 123000),
    "rss": ("@wmfs/statebox, in-process", 1.6 * 1024),
}
TARGETS = {"start": 50000, "callbacks64": 66000, "transitions": 50000, "rss": 1024,
           "restart": 2.0}


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


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load(tool, mode, url, *args):
    out = subprocess.run([tool, mode, "--endpoint", url, "--json"] + list(args),
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        print("baton-load %s failed: %s" % (mode, out.stderr.strip()), file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baton", default=os.path.join(HERE, "..", "build-release", "baton"))
    ap.add_argument("--load", default=os.path.join(HERE, "..", "build-release", "bench",
                                                   "baton-load"))
    ap.add_argument("--seconds", default="10")
    ap.add_argument("--parked", type=int, default=100000)
    ap.add_argument("--sync", default="full", choices=["full", "normal"])
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="baton-bench-")
    rows = []
    try:
        proc, url = start_server(args.baton, os.path.join(work, "a"), args.sync)
        r = load(args.load, "start", url, "--seconds", args.seconds)
        rows.append(("StartExecution/s (64 connections)", r["rate"], "start"))
        r = load(args.load, "callbacks", url, "--outstanding", "1", "--seconds", args.seconds)
        rows.append(("callbacks/s, 1 outstanding (p50 %.2f ms, p99 %.2f ms)" %
                     (r["p50_ms"], r["p99_ms"]), r["rate"], "callbacks1"))
        r = load(args.load, "callbacks", url, "--outstanding", "64", "--seconds", args.seconds)
        rows.append(("callbacks/s, 64 outstanding (p50 %.2f ms, p99 %.2f ms)" %
                     (r["p50_ms"], r["p99_ms"]), r["rate"], "callbacks64"))
        chain = os.path.join(HERE, "workloads", "pass-chain.json")
        with open(os.path.join(HERE, "workloads", "inputs.json")) as f:
            chain_input = json.dumps(json.load(f)["pass-chain"])
        r = load(args.load, "start", url, "--seconds", args.seconds, "--definition", chain,
                 "--input", chain_input)
        rows.append(("durable transitions/s (pass-chain, 100 states)", r["rate"] * 100,
                     "transitions"))
        stop_server(proc)

        proc, url = start_server(args.baton, os.path.join(work, "b"), args.sync)
        base = rss_kib(proc.pid)
        t0 = time.time()
        load(args.load, "park", url, "--count", str(args.parked))
        park_s = time.time() - t0
        time.sleep(1)
        per = (rss_kib(proc.pid) - base) * 1024.0 / args.parked
        rows.append(("bytes of RSS per parked execution (%d parked in %.1f s)" %
                     (args.parked, park_s), per, "rss"))
        t0 = time.time()
        stop_server(proc)
        proc, url = start_server(args.baton, os.path.join(work, "b"), args.sync)
        restart = time.time() - t0
        rows.append(("restart with them parked, s (stop → ready)", restart, "restart"))
        stop_server(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\nbaton serve, --sync %s, on %d cores (loopback; the load client on the same "
          "machine)\n" % (args.sync, os.cpu_count()))
    for label, value, key in rows:
        peer = PEERS.get(key)
        target = TARGETS.get(key)
        note = ""
        if peer:
            ratio = value / peer[1] if key != "rss" else peer[1] / value
            note = "  %.2f× %s (%s)" % (ratio, peer[0], "{:,.0f}".format(peer[1]))
        if target:
            note += "  target %s" % ("{:,}".format(target))
        print("  %-62s %12s%s" % (label, "{:,.1f}".format(value), note))


if __name__ == "__main__":
    main()
