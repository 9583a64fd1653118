#!/usr/bin/python3
"""Prints what a large DAG folder costs the daemon: how long after start-up /health first answers,
how long until every DAG is listed, and the CPU the idle daemon uses while watching the folder.

    bench/dag_folder_scale.py [--files 10000] [--mayaflow build/mayaflow] [--idle-seconds 5]

It starts `mayaflow standalone` on a temp home with N small DAG files (`schedule: null`, so
nothing runs), on a free loopback port. Figures only, no assertions (docs/benchmarks.md)."""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DAG = """description: bench DAG {n}
schedule: null
tasks:
  - task_id: first
    operator: empty
  - task_id: second
    operator: bash
    bash_command: echo {n}
    depends_on: [first]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=2, home=None):
    """(status, body); signed in as the admin `standalone` made when `home` is given."""
    headers = {}
    if home:
        with open(os.path.join(home, "standalone_admin_password.txt")) as f:
            headers["Authorization"] = "Basic " + base64.b64encode(("admin:" + f.read().strip()).encode()).decode()
    try:
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None, None


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--mayaflow", default=os.environ.get("MAYAFLOW_BIN", "build/mayaflow"))
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="mayaflow-bench-folder-")
    dags = os.path.join(home, "dags")
    for n in range(args.files):
        folder = os.path.join(dags, "team%02d" % (n % 20))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "dag_%05d.yaml" % n), "w") as f:
            f.write(DAG.format(n=n))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAYAFLOW_")}
    env["MAYAFLOW_HOME"] = home
    log = open(os.path.join(home, "daemon.log"), "wb")
    started = time.monotonic()
    process = subprocess.Popen([args.mayaflow, "standalone", "--dags-folder", dags, "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = started + args.timeout
    try:
        health_after = listed_after = None
        health_body = b""
        while time.monotonic() < deadline and process.poll() is None:
            status, body = get(port, "/health")
            if status is not None:
                health_after = time.monotonic() - started
                health_body = body
                break
            time.sleep(0.01)
        while health_after is not None and time.monotonic() < deadline and process.poll() is None:
            status, body = get(port, "/api/v1/dags?limit=1", timeout=10, home=home)
            if status == 200 and json.loads(body)["total_entries"] >= args.files:
                listed_after = time.monotonic() - started
                break
            time.sleep(0.05)
        if listed_after is None:
            print("the daemon did not list %d DAGs within %.0f s" % (args.files, args.timeout))
            return 1
        time.sleep(1)  # let the last turn settle
        before = cpu_seconds(process.pid)
        time.sleep(args.idle_seconds)
        idle = (cpu_seconds(process.pid) - before) / args.idle_seconds
        print("mayaflow: %s" % args.mayaflow)
        print("DAG files:                       %d (in 20 folders)" % args.files)
        print("start-up to first /health:       %.2f s" % health_after)
        print("  first /health said:            %s" % health_body.decode("utf-8", "replace").strip())
        print("start-up to all DAGs listed:     %.2f s" % listed_after)
        print("idle CPU over %.0f s:               %.1f %% of a core" % (args.idle_seconds, 100 * idle))
        return 0
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
