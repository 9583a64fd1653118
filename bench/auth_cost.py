#!/usr/bin/python3
"""Prints what signing in costs a request to the real daemon: HTTP Basic when the password must be
checked (PBKDF2-SHA256, 600,000 iterations), Basic when a recent check is remembered, a personal API
token (one SHA-256 and a lookup), and no credentials on /health for comparison.

    bench/auth_cost.py [--mayaflow build/mayaflow] [--requests 50]

Figures only, no assertions (docs/benchmarks.md)."""

import argparse
import base64
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def timed_get(port, path, headers):
    start = time.perf_counter()
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, (time.perf_counter() - start) * 1000


def basic(username, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mayaflow", default=os.environ.get("MAYAFLOW_BIN", "build/mayaflow"))
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mayaflow-bench-auth-")
    os.makedirs(os.path.join(home, "dags"))
    env = dict(os.environ, MAYAFLOW_HOME=home)
    process = subprocess.Popen([args.mayaflow, "standalone", "--dags-folder", os.path.join(home, "dags"), "--port", "0"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = None
        for line in process.stdout:
            if "web UI:" in line:
                port = int(line.rsplit(":", 1)[1].strip(" /\n"))
                break
        with open(os.path.join(home, "standalone_admin_password.txt")) as f:
            password = f.read().strip()
        token = subprocess.run([args.mayaflow, "users", "create-token", "-u", "admin"], env=env, capture_output=True,
                               text=True, check=True).stdout.strip()

        def series(headers, path="/api/v1/version", fresh_check=False):
            times = []
            for i in range(args.requests):
                if fresh_check:
                    # A new user each time: nothing remembered, the full PBKDF2.
                    name = "bench%d" % i
                    subprocess.run([args.mayaflow, "users", "create", "-u", name, "-p", "pw", "-r", "viewer", "-e",
                                    name + "@x", "-f", "B", "-l", "B"], env=env, capture_output=True, check=True)
                    headers = basic(name, "pw")
                status, ms = timed_get(port, path, headers)
                assert status == 200, status
                times.append(ms)
            return times

        rows = [
            ("no credentials (/health)", series({}, "/health")),
            ("Basic, check remembered", series(basic("admin", password))),
            ("Bearer token", series({"Authorization": "Bearer " + token})),
            ("Basic, full PBKDF2 check", series({}, fresh_check=True)),
        ]
        print("%-28s %10s %10s %10s" % ("request", "median ms", "p90 ms", "max ms"))
        for name, times in rows:
            times.sort()
            print("%-28s %10.2f %10.2f %10.2f" % (name, statistics.median(times), times[int(len(times) * 0.9) - 1],
                                                  times[-1]))
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
