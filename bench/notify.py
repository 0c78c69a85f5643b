#!/usr/bin/env python3
"""Benchmarks of Baton's notifications over HTTP on loopback (bench/README.md, "Mail,
approvals and schedules"), the release build, a temporary data folder, the default store
settings (`--sync full`: every answer after its commit is durable):

    outbox: SNS Publish to a topic with 1 and with N email subscriptions (no SMTP: mail goes
        to the local outbox); durable publishes/s, and mails/s until the last one is in the
        outbox (counted in the store)
    smtp: the same through `smtp:` to a local aiosmtpd sink (Debian's python3-aiosmtpd);
        mails/s counted at the sink, with the sink's CPU beside Baton's
    approval: a state machine with the built-in approval task, then a Node.js function;
        K executions, one at a time: the link from the outbox, GET the page for its nonce,
        then POST → the decision's page, → the function ran, → the execution SUCCEEDED
    schedules: 10,000 EventBridge rules on one trivial state machine; how late each fire's
        StartExecution is against its due time, and the server's CPU meanwhile: rate(1 minute)
        in real time (one full minute of fires), and cron(* * * * ? *) — all 10,000 due at
        the same second — under the test clock (BATON_TEST_CLOCK), the clock moved onto the
        minute and the lateness counted from that move

Usage: python3 bench/notify.py [--quick] [--only outbox|smtp|approval|schedules|client]
                               [--count 50000] [--subs 10] [--approvals 200] [--rules 10000]
Figures are printed, never asserted: this is a measurement, not a test.
"""

import argparse
import datetime
import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-aiosmtpd
SMTP_SINK = os.path.join(ROOT, "tests", "integration", "smtp_sink.py")
ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/bench"

# The processing function after the approval: one line per run, "NAME DONE_S" (CLOCK_REALTIME,
# as Python's time.time()).
NODE_PROCESS = r"""
const fs = require('fs');
const { performance } = require('perf_hooks');
const out = fs.openSync(process.env.OUT, 'a');
exports.handler = async (e) => {
  const t = (performance.timeOrigin + performance.now()) / 1000;
  fs.writeSync(out, (e.name || '-') + ' ' + t.toFixed(6) + '\n');
  return {processed: true, decision: e.approval ? e.approval.decision : null};
};
"""

APPROVAL_MACHINE = {
    "StartAt": "Ask",
    "States": {
        "Ask": {"Type": "Task", "Resource": "arn:baton:states:::approval",
                "Parameters": {"Approvers.$": "$.approvers", "Subject": "Approve?",
                               "Message": "bench", "Data.$": "$.name"},
                "ResultPath": "$.approval", "Next": "Process"},
        "Process": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "process", "Payload.$": "$"},
                    "OutputPath": "$.Payload", "End": True},
    },
}
PASS_MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def loadavg():
    return " ".join("%.2f" % x for x in os.getloadavg())


def pct(sorted_values, q):
    if not sorted_values:
        return float("nan")
    rank = int(round(q * len(sorted_values)))  # nearest rank
    return sorted_values[min(len(sorted_values) - 1, max(0, rank - 1))]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def cpu_s(pid):
    """User + system CPU seconds of a process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(baton, data, extra=(), env=None):
    proc = subprocess.Popen([baton, "serve", "--listen", "127.0.0.1:0", "--data", data,
                             "--log-level", "warn"] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, **(env or {})))
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
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Client:
    """One keep-alive connection: the JSON APIs (SFN 1.0, EventBridge 1.1, Lambda), the SNS
    query protocol, and plain pages."""

    def __init__(self, url):
        m = re.match(r"http://([^:/]+):(\d+)", url)
        self.conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=120)

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.read()

    def json(self, method, path, body=None, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        status, text = self.request(method, path, json.dumps(body).encode()
                                    if body is not None else None, h)
        if status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, status, text[:300]))
        return json.loads(text) if text else None

    def sfn(self, op, body):
        return self.json("POST", "/", body, {"X-Amz-Target": "AWSStepFunctions." + op,
                                             "Content-Type": "application/x-amz-json-1.0"})

    def events(self, op, body):
        return self.json("POST", "/", body, {"X-Amz-Target": "AWSEvents." + op,
                                             "Content-Type": "application/x-amz-json-1.1"})

    def publish(self, topic, message):
        body = urllib.parse.urlencode({"Action": "Publish", "Version": "2010-03-31",
                                       "TopicArn": topic, "Subject": "bench",
                                       "Message": message}).encode()
        status, text = self.request("POST", "/", body,
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise RuntimeError("Publish: %d %s" % (status, text[:300]))

    def form(self, path, fields):
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})


def topic_arn(name):
    return "arn:aws:sns:us-east-1:%s:%s" % (ACCOUNT, name)


def topics_yaml(subs):
    """Two topics: One (1 email subscription) and Many (subs of them), confirmed at once."""
    lines = ["topics:", "  One:", "    subscriptions:",
             "      - {protocol: email, endpoint: one@example.com}", "  Many:",
             "    subscriptions:"]
    lines += ["      - {protocol: email, endpoint: m%d@example.com}" % i for i in range(subs)]
    return lines


def outbox_count(data):
    db = sqlite3.connect(os.path.join(data, "baton.db"), timeout=30)
    try:
        return db.execute("SELECT count(*) FROM mail_outbox").fetchone()[0]
    finally:
        db.close()


def lines_in(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def load_publish(args, url, topic, count, connections=64):
    out = subprocess.run([args.load, "publish", "--endpoint", url, "--json", "--topic", topic,
                          "--count", str(count), "--connections", str(connections)],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        print("baton-load publish failed: %s" % out.stderr.strip(), file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def python_publish(url, topic, count, threads):
    """Publishes from Python threads, one keep-alive connection each; publishes/s."""
    per = count // threads
    errors = []

    def work():
        c = Client(url)
        try:
            for i in range(per):
                c.publish(topic, "python %d" % i)
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.perf_counter() - t0
    if errors:
        print("  python client: %s" % errors[0], file=sys.stderr)
    return per * threads / took


def mail_run(args, proc, url, topic, subs, count, counter, label, rows, extra_pid=None):
    """Publishes count messages (baton-load, 64 connections), then waits until counter()
    has grown by count × subs; prints and records publishes/s and mails/s."""
    before = counter()
    want = before + count * subs
    c0, x0 = cpu_s(proc.pid), cpu_s(extra_pid) if extra_pid else 0
    t0 = time.time()
    r = load_publish(args, url, topic, count)
    t_pub = time.time()
    deadline = t_pub + args.drain_timeout
    n = counter()
    while n < want and time.time() < deadline:
        time.sleep(0.02)
        n = counter()
    t_end = time.time()
    wall = t_end - t0
    cpu = cpu_s(proc.pid) - c0
    row = {"what": label, "subscriptions": subs, "publishes": r["ok"], "errors": r["errors"],
           "publish_rate": r["rate"], "publish_p50_ms": r["p50_ms"],
           "publish_p99_ms": r["p99_ms"], "mails": n - before, "expected": count * subs,
           "all_in_s": wall, "mail_rate": (n - before) / wall,
           "baton_cpu_pct": 100 * cpu / wall}
    note = ""
    if extra_pid:
        row["sink_cpu_pct"] = 100 * (cpu_s(extra_pid) - x0) / wall
        note = ", sink CPU %.0f%%" % row["sink_cpu_pct"]
    rows.append(row)
    print("  %-7s %2d subscription%s: %6.0f publishes/s (p50 %.2f ms, p99 %.2f ms); "
          "%d of %d mails in %.2f s = %6.0f mails/s; Baton CPU %.0f%%%s%s" %
          (label, subs, "s" if subs != 1 else " ", r["rate"], r["p50_ms"], r["p99_ms"],
           n - before, count * subs, wall, row["mail_rate"], row["baton_cpu_pct"], note,
           "  (%d errors)" % r["errors"] if r["errors"] else ""), flush=True)


def part_outbox(args, work, rows):
    data = os.path.join(work, "outbox-data")
    config = os.path.join(work, "outbox.yaml")
    write(config, "\n".join(["version: 1"] + topics_yaml(args.subs)) + "\n")
    proc, url = start_server(args.baton, data, ["--config", config])
    try:
        if args.only in (None, "client"):
            # Which client: Python threads against baton-load, same server, same topic.
            n = min(args.count, 4000)
            c0, t0 = cpu_s(proc.pid), time.time()
            rate_py = python_publish(url, topic_arn("One"), n, 16)
            py_cpu = 100 * (cpu_s(proc.pid) - c0) / (time.time() - t0)
            c0, t0 = cpu_s(proc.pid), time.time()
            r = load_publish(args, url, topic_arn("One"), n)
            load_cpu = 100 * (cpu_s(proc.pid) - c0) / (time.time() - t0)
            rows.append({"what": "client", "python_threads_16": rate_py,
                         "python_baton_cpu_pct": py_cpu, "baton_load_64": r["rate"],
                         "load_baton_cpu_pct": load_cpu})
            print("  client: Python, 16 threads: %.0f publishes/s (Baton CPU %.0f%%); "
                  "baton-load, 64 connections: %.0f publishes/s (Baton CPU %.0f%%)" %
                  (rate_py, py_cpu, r["rate"], load_cpu), flush=True)
        if args.only in (None, "outbox"):
            for subs, topic in ((1, "One"), (args.subs, "Many")):
                count = args.count if subs == 1 else max(1, args.count // subs)
                mail_run(args, proc, url, topic_arn(topic), subs, count,
                         lambda: outbox_count(data), "outbox", rows)
    finally:
        stop_server(proc)


def part_smtp(args, work, rows):
    if subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"], capture_output=True).returncode:
        print("  smtp: skipped (python3-aiosmtpd is not installed for %s)" % SYSTEM_PYTHON)
        return
    port = free_port()
    out = os.path.join(work, "sink.jsonl")
    sink = subprocess.Popen([SYSTEM_PYTHON, SMTP_SINK, "--port", str(port), "--out", out],
                            stdout=subprocess.PIPE)
    line = sink.stdout.readline().decode()
    if not line.startswith("ready"):
        sys.exit("the SMTP sink did not start: %r" % line)
    config = os.path.join(work, "smtp.yaml")
    write(config, "\n".join(["version: 1"] + topics_yaml(args.subs) + [
        "smtp:", "  host: 127.0.0.1", "  port: %d" % port, "  starttls: false",
        "  from: bench@example.com"]) + "\n")
    proc, url = start_server(args.baton, os.path.join(work, "smtp-data"), ["--config", config])
    try:
        count = args.smtp_count
        for subs, topic in ((1, "One"), (args.subs, "Many")):
            n = count if subs == 1 else max(1, count // subs)
            mail_run(args, proc, url, topic_arn(topic), subs, n, lambda: lines_in(out), "smtp",
                     rows, extra_pid=sink.pid)
    finally:
        stop_server(proc)
        sink.terminate()
        sink.wait(20)
        sink.stdout.close()


def part_approval(args, work, rows):
    recorded = os.path.join(work, "processed.txt")
    write(os.path.join(work, "process", "index.js"), NODE_PROCESS)
    write(os.path.join(work, "approval.json"), json.dumps(APPROVAL_MACHINE))
    config = os.path.join(work, "approval.yaml")
    write(config, "\n".join([
        "version: 1",
        "state_machines:", "  Approve: approval.json",
        "functions:", "  process:", "    runtime: nodejs20.x", "    code: process",
        "    concurrency: 1", "    environment:", "      OUT: %s" % json.dumps(recorded)]) + "\n")
    proc, url = start_server(args.baton, os.path.join(work, "approval-data"),
                             ["--config", config])
    try:
        c = Client(url)
        machine = "arn:aws:states:us-east-1:%s:stateMachine:Approve" % ACCOUNT
        c.json("POST", "/2015-03-31/functions/process/invocations", {"name": "warm-up"})
        k = args.approvals
        arns = {}
        for i in range(k):
            name = "r%d" % i
            arns[name] = c.sfn("StartExecution", {
                "stateMachineArn": machine, "name": name,
                "input": json.dumps({"name": name, "approvers": ["a%d@example.com" % i]})
            })["executionArn"]
        links = {}
        deadline = time.time() + 60
        while len(links) < k and time.time() < deadline:
            _, text = c.request("GET", "/outbox?format=json")
            for m in json.loads(text)["Mails"]:
                found = re.search(r"https?://[^/\s]+(/approve/[A-Za-z0-9_-]{32})", m["Body"])
                who = re.match(r"a(\d+)@", m["To"])
                if found and who:
                    links["r" + who.group(1)] = found.group(1)
            time.sleep(0.05)
        if len(links) < k:
            print("  approval: only %d of %d links in the outbox" % (len(links), k))
        c.request("GET", "/outbox?format=json")
        answered, ran, ended, seen = [], [], [], []
        sent = {}
        poll = Client(url)
        for name in sorted(links, key=lambda n: int(n[1:])):
            path = links[name]
            status, page = c.request("GET", path)
            nonce = re.search(r'name="nonce" value="([^"]+)"', page.decode())
            if status != 200 or not nonce:
                print("  approval: the page of %s answered %d" % (name, status))
                continue
            fields = {"nonce": html.unescape(nonce.group(1)), "decision": "approve",
                      "comment": ""}
            t0 = time.time()
            status, text = c.form(path, fields)
            t1 = time.time()
            if status != 200:
                print("  approval: POST for %s answered %d %s" % (name, status, text[:200]))
                continue
            sent[name] = t0
            answered.append((t1 - t0) * 1000)
            limit = t1 + 30
            while time.time() < limit:
                d = poll.sfn("DescribeExecution", {"executionArn": arns[name]})
                if d["status"] != "RUNNING":
                    break
                time.sleep(0.001)
            seen.append((time.time() - t0) * 1000)
            if d["status"] != "SUCCEEDED":
                print("  approval: %s ended %s" % (name, d["status"]))
                continue
            ended.append((d["stopDate"] - t0) * 1000)
        with open(recorded) as f:
            for line in f:
                p = line.split()
                if len(p) == 2 and p[0] in sent:
                    ran.append((float(p[1]) - sent[p[0]]) * 1000)
        row = {"what": "approval", "executions": k, "decided": len(answered)}
        print("  approval round trip, %d executions one at a time (p50 / p99 / max, ms):" %
              len(answered))
        for key, label, v in (("post", "POST → the page's answer (decision durable)", answered),
                              ("function", "POST → the processing function ran", ran),
                              ("succeeded", "POST → SUCCEEDED (the execution's stopDate)",
                               ended),
                              ("seen", "POST → DescribeExecution shows SUCCEEDED", seen)):
            v.sort()
            row[key + "_p50_ms"], row[key + "_p99_ms"] = pct(v, 0.5), pct(v, 0.99)
            row[key + "_max_ms"] = v[-1] if v else float("nan")
            print("    %-48s %7.2f  %7.2f  %7.2f" % (label, pct(v, 0.5), pct(v, 0.99),
                                                    row[key + "_max_ms"]), flush=True)
        rows.append(row)
    finally:
        stop_server(proc)


def put_rules(url, machine, n, expression, threads=8):
    """PutRule + PutTargets for n rules, from threads; returns (first put, last put) times."""
    errors = []

    def work(lo, hi):
        c = Client(url)
        try:
            for i in range(lo, hi):
                c.events("PutRule", {"Name": "r%05d" % i, "ScheduleExpression": expression})
                c.events("PutTargets", {"Rule": "r%05d" % i, "Targets": [
                    {"Id": "t", "Arn": machine, "RoleArn": ROLE}]})
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    step = (n + threads - 1) // threads
    ts = [threading.Thread(target=work, args=(i, min(n, i + step)))
          for i in range(0, n, step)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("PutRule/PutTargets: %s" % errors[0])
    return t0, time.time()


def executions(c, machine):
    """{name: startDate} of the machine's executions."""
    out, token = {}, None
    while True:
        body = {"stateMachineArn": machine, "maxResults": 1000}
        if token:
            body["nextToken"] = token
        page = c.sfn("ListExecutions", body)
        for e in page["executions"]:
            out[e["name"]] = e["startDate"]
        token = page.get("nextToken")
        if not token:
            return out


def due_of(name):
    """The fire time (s since the epoch) in a scheduled execution's name."""
    t = datetime.datetime.strptime(name.rsplit("-", 1)[1], "%Y%m%dT%H%M%SZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def lateness_row(label, late_ms, extra):
    late_ms.sort()
    row = {"what": "schedules", "mode": label, "fires": len(late_ms),
           "late_p50_ms": pct(late_ms, 0.5), "late_p99_ms": pct(late_ms, 0.99),
           "late_max_ms": late_ms[-1] if late_ms else float("nan")}
    row.update(extra)
    return row


def part_schedules_real(args, work, rows):
    proc, url = start_server(args.baton, os.path.join(work, "sched-real"))
    try:
        c = Client(url)
        machine = c.sfn("CreateStateMachine", {"name": "Tick", "definition":
                                               json.dumps(PASS_MACHINE),
                                               "roleArn": ROLE})["stateMachineArn"]
        t_put0, t_put1 = put_rules(url, machine, args.rules, "rate(1 minute)")
        print("  schedules: %d rules rate(1 minute) put in %.1f s" %
              (args.rules, t_put1 - t_put0), flush=True)
        # Idle with every rule armed, until the first fire is due (a minute after the put).
        c0, t0 = cpu_s(proc.pid), time.time()
        time.sleep(max(0.0, t_put0 + 59 - time.time()))
        idle_cpu = 100 * (cpu_s(proc.pid) - c0) / (time.time() - t0)
        # One full minute of fires: every rule's first, from t_put0 + 60 to t_put1 + 60,
        # then the seconds up to a whole minute.
        c0, t0 = cpu_s(proc.pid), time.time()
        time.sleep(max(0.0, max(t_put1 + 62, t0 + 60) - time.time()))
        fire_cpu = 100 * (cpu_s(proc.pid) - c0) / (time.time() - t0)
        starts = executions(c, machine)
        late = [(start - due_of(name)) * 1000 for name, start in starts.items()]
        row = lateness_row("rate(1 minute), real time", late, {
            "rules": args.rules, "window_s": time.time() - t0, "idle_cpu_pct": idle_cpu,
            "fire_cpu_pct": fire_cpu})
        rows.append(row)
        print("  rate(1 minute), real time: %d fires of %d rules over %.0f s; late p50 %.1f ms, "
              "p99 %.1f ms, max %.1f ms; Baton CPU %.1f%% while firing, %.1f%% idle before" %
              (row["fires"], args.rules, row["window_s"], row["late_p50_ms"],
               row["late_p99_ms"], row["late_max_ms"], fire_cpu, idle_cpu), flush=True)
    finally:
        stop_server(proc)


def part_schedules_clock(args, work, rows):
    proc, url = start_server(args.baton, os.path.join(work, "sched-clock"),
                             env={"BATON_TEST_CLOCK": "0"})
    try:
        c = Client(url)
        machine = c.sfn("CreateStateMachine", {"name": "Tick", "definition":
                                               json.dumps(PASS_MACHINE),
                                               "roleArn": ROLE})["stateMachineArn"]
        t_put0, t_put1 = put_rules(url, machine, args.rules, "cron(* * * * ? *)")
        print("  schedules: %d rules cron(* * * * ? *) put in %.1f s (%.0f rules/s)" %
              (args.rules, t_put1 - t_put0, args.rules / (t_put1 - t_put0)), flush=True)
        for minute in range(args.clock_minutes):
            now_ms = c.json("POST", "/baton/test/clock", {"advance_ms": 0})["now_ms"]
            fires0 = c.json("POST", "/baton/test/clock", {"advance_ms": 0})["fires"]
            # onto the next whole minute: every rule is due at that instant
            step = 60000 - now_ms % 60000
            c0 = cpu_s(proc.pid)
            t0 = time.time()
            c.json("POST", "/baton/test/clock", {"advance_ms": step})
            offset_s = (now_ms + step) / 1000 - t0  # virtual = real + offset after the move
            deadline = t0 + 120
            while time.time() < deadline:
                st = c.json("POST", "/baton/test/clock", {"advance_ms": 0})
                if st["fires"] - fires0 >= args.rules:
                    break
                time.sleep(0.01)
            t1 = time.time()
            cpu = cpu_s(proc.pid) - c0
            starts = executions(c, machine)
            late = [(start - (due_of(name) - offset_s)) * 1000 for name, start in starts.items()
                    if abs(due_of(name) - (now_ms + step) / 1000) < 0.5]
            row = lateness_row("cron(* * * * ? *), test clock", late, {
                "rules": args.rules, "minute": minute + 1, "all_fired_s": t1 - t0,
                "cpu_s": cpu, "fires_per_s": len(late) / (t1 - t0)})
            rows.append(row)
            print("  cron(* * * * ? *), test clock, minute %d: %d of %d rules fired in %.2f s "
                  "(%.0f starts/s); late p50 %.0f ms, p99 %.0f ms, max %.0f ms; Baton CPU "
                  "%.2f s" % (minute + 1, len(late), args.rules, t1 - t0, row["fires_per_s"],
                              row["late_p50_ms"], row["late_p99_ms"], row["late_max_ms"], cpu),
                  flush=True)
    finally:
        stop_server(proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baton", default=os.path.join(ROOT, "build-release", "baton"))
    ap.add_argument("--load", default=os.path.join(ROOT, "build-release", "bench",
                                                   "baton-load"))
    ap.add_argument("--count", type=int, default=50000,
                    help="outbox: publishes to the 1-subscription topic (N subscriptions: "
                    "count / N)")
    ap.add_argument("--smtp-count", type=int, default=5000, help="smtp: the same")
    ap.add_argument("--subs", type=int, default=10, help="subscriptions of the second topic")
    ap.add_argument("--approvals", type=int, default=200, help="approval round trips")
    ap.add_argument("--rules", type=int, default=10000, help="schedule rules")
    ap.add_argument("--clock-minutes", type=int, default=2,
                    help="schedules: minutes moved under the test clock")
    ap.add_argument("--real-time", dest="real_time", action="store_true", default=None,
                    help="schedules: also the real-time minute (default: unless --quick)")
    ap.add_argument("--drain-timeout", type=float, default=120,
                    help="seconds to wait for the last mail")
    ap.add_argument("--only", choices=["client", "outbox", "smtp", "approval", "schedules"])
    ap.add_argument("--quick", action="store_true",
                    help="smaller counts, no real-time schedule minute (under half a "
                    "minute)")
    ap.add_argument("--json", action="store_true", help="also print all rows as one JSON line")
    args = ap.parse_args()
    if args.quick:
        args.count = min(args.count, 4000)
        args.smtp_count = min(args.smtp_count, 1000)
        args.approvals = min(args.approvals, 50)
        args.clock_minutes = 1
    if args.real_time is None:
        args.real_time = not args.quick
    for tool in (args.baton, args.load):
        if not os.access(tool, os.X_OK):
            sys.exit("%s is missing: cmake --preset release && cmake --build build-release "
                     "--target baton baton-load" % tool)
    work = tempfile.mkdtemp(prefix="baton-notify-")
    rows = []
    print("baton serve --sync full, %d cores, load average %s (loopback; the clients on the same "
          "machine)" % (os.cpu_count(), loadavg()), flush=True)
    try:
        if args.only in (None, "client", "outbox"):
            part_outbox(args, work, rows)
        if args.only in (None, "smtp"):
            part_smtp(args, work, rows)
        if args.only in (None, "approval"):
            part_approval(args, work, rows)
        if args.only in (None, "schedules"):
            part_schedules_clock(args, work, rows)
            if args.real_time:
                part_schedules_real(args, work, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("load average at the end: %s" % loadavg())
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
