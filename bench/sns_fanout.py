#!/usr/bin/env python3
"""SNS fan-out on `baton serve`: one topic, N sqs subscriptions whose queues do not exist (so
every delivery stays pending, retried, and the store holds what a publish promised), then
one Publish of a message of SIZE bytes, on a fresh server each time (so no retries of an
earlier Publish compete with it). Prints the time the Publish call took (its answer waits for
the commit) and what it added to the store: the pages of baton.db in use (WAL included) and
the bytes of message text in sns_delivery and sns_message.

Usage: python3 bench/sns_fanout.py [--baton build/baton] [--subs 100] [--size 262144]
       [--repeat 5]
A measurement, not a test.
"""

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time

import boto3
from botocore.config import Config


def one(baton, subs, size):
    tmp = tempfile.mkdtemp(prefix="sns-fanout-")
    data = os.path.join(tmp, "data")
    proc = subprocess.Popen([baton, "serve", "--listen", "127.0.0.1:0", "--data", data],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        url = re.search(r"serving at (http://\S+)", proc.stdout.readline().decode()).group(1)
        sns = boto3.client("sns", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="k", aws_secret_access_key="s",
                           config=Config(retries={"max_attempts": 1}))
        arn = sns.create_topic(Name="fanout")["TopicArn"]
        for i in range(subs):
            sns.subscribe(TopicArn=arn, Protocol="sqs",
                          Endpoint="arn:aws:sqs:us-east-1:123456789012:absent-%d" % i)
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "baton.db"), uri=True)

        def pages():
            return (db.execute("PRAGMA page_count").fetchone()[0] -
                    db.execute("PRAGMA freelist_count").fetchone()[0]) * \
                db.execute("PRAGMA page_size").fetchone()[0]

        base = pages()
        t0 = time.perf_counter()
        sns.publish(TopicArn=arn, Message="x" * size)
        ms = (time.perf_counter() - t0) * 1000
        grown = pages() - base
        text = db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM sns_delivery").fetchone()[0]
        try:
            text += db.execute("SELECT COALESCE(SUM(LENGTH(message)), 0) "
                               "FROM sns_message").fetchone()[0]
        except sqlite3.OperationalError:
            pass
        db.close()
        return ms, grown, text
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baton", default="build/baton")
    ap.add_argument("--subs", type=int, default=100)
    ap.add_argument("--size", type=int, default=262144)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    runs = [one(a.baton, a.subs, a.size) for _ in range(a.repeat)]
    times = [r[0] for r in runs]
    print("subscriptions %d, message %d bytes, %d runs" % (a.subs, a.size, a.repeat))
    print("publish: median %.1f ms (min %.1f, max %.1f)" %
          (statistics.median(times), min(times), max(times)))
    print("store growth: %.2f MiB; message text held: %.2f MiB" %
          (statistics.median(r[1] for r in runs) / 2**20, runs[0][2] / 2**20))


if __name__ == "__main__":
    main()
