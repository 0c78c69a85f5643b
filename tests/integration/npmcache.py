"""npm packages for the tests that run JavaScript against `baton serve`: installed once from
the npm registry into a cache folder next to the binary (BATON_NPM_CACHE overrides it;
$HOME/.cache/baton-npm when that is not writable), one folder per set of packages, and
reused after. Without the registry the calling test is skipped, and so it is when the
installed packages need a newer Node than the one on PATH ("engines")."""

import fcntl
import hashlib
import json
import os
import re
import subprocess
import unittest

import batontest


def cache_dir():
    if os.environ.get("BATON_NPM_CACHE"):
        return os.environ["BATON_NPM_CACHE"]
    near = os.path.join(os.path.dirname(batontest.BATON), "npm-cache")
    try:
        os.makedirs(near, exist_ok=True)
        if os.access(near, os.W_OK):
            return near
    except OSError:
        pass
    return os.path.join(os.path.expanduser("~"), ".cache", "baton-npm")


def version_tuple(text):
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def installed(root, packages):
    return all(os.path.exists(os.path.join(root, "node_modules", p, "package.json"))
               for p in packages)


def install(packages, root=None):
    """Returns a folder whose node_modules holds packages (each "@3" of its name)."""
    if root is None:
        key = hashlib.sha256(" ".join(sorted(packages)).encode()).hexdigest()[:10]
        root = os.path.join(cache_dir(), key)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time
        if not installed(root, packages):
            with open(os.path.join(root, "package.json"), "w") as f:
                json.dump({"name": "baton-tests-npm", "private": True}, f)
            try:
                p = subprocess.run(
                    ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                     "--cache", os.path.join(root, ".npm")] + [f"{p}@3" for p in packages],
                    cwd=root, capture_output=True, text=True, timeout=240)
            except subprocess.TimeoutExpired:
                raise unittest.SkipTest("npm install timed out (registry unreachable?)")
            if p.returncode != 0 or not installed(root, packages):
                raise unittest.SkipTest("npm install failed (registry unreachable?): " +
                                        p.stderr.strip()[-500:])
    node = subprocess.run(["node", "--version"], capture_output=True, text=True,
                          timeout=30).stdout.strip()
    for p in packages:
        with open(os.path.join(root, "node_modules", p, "package.json")) as f:
            need = json.load(f).get("engines", {}).get("node", "")
        m = re.fullmatch(r">=\s*([\d.]+)", need.strip())
        if m and version_tuple(node) < version_tuple(m.group(1)):
            raise unittest.SkipTest(f"{p} needs Node {need}; this is {node}")
    return root
