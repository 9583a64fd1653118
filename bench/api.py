#!/usr/bin/python3
"""Prints what the REST API serves under load from a big store, and what that load does to the
scheduler beside it: requests/s and latency percentiles (wrk) per endpoint, and the scheduler's
task lag without API load and during each endpoint's load.

    bench/api.py [--runs 100000] [--dags 50] [--seconds 10] [--mayaflow build/mayaflow]

1. Seeds a temp MAYAFLOW_HOME: `mayaflow db migrate`, then --runs finished DAG runs spread over
   --dags DAGs (about a year of 4-hourly runs each, 5 % of them manual, 10 % failed) with --tasks
   task instances each (extract → N transforms → load; a failed run has one failed transform and its
   load upstream_failed), written with SQL in one transaction as the scheduler writes them, and the
   logs of each DAG's newest --log-runs runs on disk. The DAG files are in the DAG folder (paused
   upon creation, so nothing of theirs runs).
2. Starts `mayaflow standalone` on it and checks the store through the API (total_entries of the
   run and task instance lists) before measuring anything.
3. Keeps the scheduler busy: `bench_api_busy` (root → --busy-tasks × bash `true` → sink) is
   triggered every --busy-every seconds with `mayaflow dags trigger` (the command queue, not the
   API, so the rate does not depend on the API's load).
4. Task lag, for each task of the busy DAG that started in a window: its start − the end of its
   last upstream task (the run's start for root), from the store. First a window of --lag-seconds
   with no API load, then each wrk run's window.
5. For each endpoint: `wrk -t2 -c16 -d<seconds>s --latency` with a personal API token
   (bench/api/report.lua), and the daemon's CPU over the run.

Figures only, no assertions on time (docs/benchmarks.md). Exits non-zero when the bench could not
measure: the store's counts through the API are wrong, wrk is missing or fails, or an endpoint
answers anything but 2xx."""

import argparse
import datetime
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "api", "report.lua")
BUSY_DAG = "bench_api_busy"
HOUR_US = 3600 * 1000000
INTERVAL_US = 4 * HOUR_US
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

SEED_DAG = """dag_id: {dag_id}
description: "bench/api.py: {runs} runs seeded with SQL"
schedule: "0 */4 * * *"
start_date: "{start_date}"
is_paused_upon_creation: true
tags: [bench]
tasks:
  - task_id: extract
    operator: bash
    bash_command: "echo extract"
  - task_id: "transform_{{{{ item }}}}"
    operator: bash
    for_each: [{items}]
    bash_command: "echo transform_{{{{ item }}}}"
    depends_on: extract
  - task_id: load
    operator: bash
    bash_command: "echo load"
    depends_on: "transform_*"
"""

BUSY = """dag_id: {dag_id}
description: "bench/api.py: triggered again and again to keep the scheduler busy"
schedule: null
max_active_runs: 64
max_active_tasks: 64
tasks:
  - task_id: root
    operator: bash
    bash_command: "true"
  - task_id: "work_{{{{ item }}}}"
    operator: bash
    for_each: [{items}]
    bash_command: "true"
    depends_on: root
  - task_id: sink
    operator: bash
    bash_command: "true"
    depends_on: "work_*"
"""


def iso(us):
    """format_iso8601 in UTC, as run ids hold it: microseconds only when there are some."""
    return (EPOCH + datetime.timedelta(microseconds=us)).isoformat()


def seed_task_ids(tasks):
    return ["extract"] + ["transform_%d" % i for i in range(1, tasks - 1)] + ["load"]


# ---------------------------------------------------------------------------------------------
# Seeding


def seed_store(db_path, logs, args, now_us, rng):
    """Writes the runs and task instances in one transaction; returns (runs, task instances, logs
    written, the newest successful run of the first DAG)."""
    dag_ids = ["bench_api_%02d" % i for i in range(args.dags)]
    task_ids = seed_task_ids(args.tasks)
    transforms = task_ids[1:-1]
    per_dag = [args.runs // args.dags + (1 if i < args.runs % args.dags else 0) for i in range(args.dags)]
    newest_slot = (now_us - 2 * INTERVAL_US) // INTERVAL_US * INTERVAL_US
    boot_ids = ["%08x-46f1-4991-8242-%012x" % (rng.getrandbits(32), rng.getrandbits(48)) for _ in range(12)]

    # Every run's logical date, oldest first over all DAGs, so that ids grow with time as the
    # scheduler's do.
    slots = []
    for d, count in enumerate(per_dag):
        offset = rng.randrange(0, 60) * 60 * 1000000  # DAGs do not all start at the same minute
        for k in range(count):
            slots.append((newest_slot - (count - 1 - k) * INTERVAL_US + offset, d, count - 1 - k))
    slots.sort()

    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN IMMEDIATE")
    run_rows, ti_rows, log_files = [], [], []
    newest_success = None
    for pk, (slot, d, age) in enumerate(slots, start=1):
        dag_id = dag_ids[d]
        manual = rng.random() < 0.05
        if manual:
            logical = slot + rng.randrange(HOUR_US, 3 * HOUR_US)
            run_id, run_type = "manual__" + iso(logical), "manual"
            interval_end = run_after = logical
            queued = logical + rng.randrange(50000, 300000)
            conf = json.dumps({"reason": "rerun by hand"})
        else:
            logical = slot
            run_id, run_type = "scheduled__" + iso(logical), "scheduled"
            interval_end = run_after = logical + INTERVAL_US
            queued = run_after + rng.randrange(20000, 900000)
            conf = "{}"
        failed = rng.random() < 0.10
        start = queued + rng.randrange(1000, 60000)
        boot = boot_ids[min(len(boot_ids) - 1, (now_us - start) * len(boot_ids) // (366 * 24 * HOUR_US))]
        with_logs = age < args.log_runs

        def finished(task_id, state, begin, seconds, message):
            end = begin + int(seconds * 1000000)
            result = json.dumps(task_id) if state == "success" else None
            ti_rows.append((pk, task_id, state, 1, 1, begin, end, None, rng.randrange(300, 4000000),
                            rng.randrange(10**6, 10**9), boot, result, message, None, 0))
            if with_logs:
                log_files.append((dag_id, run_id, task_id, state, message))
            return end

        t = finished("extract", "success", start + rng.randrange(2000, 40000), rng.uniform(0.5, 30), "exit code 0")
        failing = rng.choice(transforms) if failed else None
        ends = []
        for task_id in transforms:
            state = "failed" if task_id == failing else "success"
            ends.append(finished(task_id, state, t + rng.randrange(2000, 40000), rng.uniform(0.2, 120),
                                 "exit code 1" if state == "failed" else "exit code 0"))
        last = max(ends)
        if failed:
            # As the scheduler leaves it: never tried, no process, ended when its upstream failed.
            ti_rows.append((pk, "load", "upstream_failed", 0, 1, None, last, None, None, None, "", None, "", None, 0))
            end = last + rng.randrange(1000, 20000)
        else:
            end = finished("load", "success", last + rng.randrange(2000, 40000), rng.uniform(0.5, 60), "exit code 0")
            end += rng.randrange(1000, 20000)
        state = "failed" if failed else "success"
        run_rows.append((pk, dag_id, run_id, run_type, state, 1, logical, logical, interval_end, run_after, queued,
                         start, end, conf, None, end))
        if d == 0 and not failed:
            newest_success = (dag_id, run_id)
        if len(ti_rows) >= 200000:
            flush(db, run_rows, ti_rows)
    flush(db, run_rows, ti_rows)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()

    for dag_id, run_id, task_id, state, message in log_files:
        write_log(logs, dag_id, run_id, task_id, 1,
                  "[mayaflow] running: echo %s\n%s[mayaflow] %s: %s\n"
                  % (task_id, "".join("%s line %d of what the task printed\n" % (task_id, i) for i in range(20)),
                     state, message))
    return len(slots), len(slots) * args.tasks, len(log_files), newest_success


def flush(db, run_rows, ti_rows):
    db.executemany("INSERT INTO dag_run (id, dag_id, run_id, run_type, state, dag_version, logical_date, "
                   "data_interval_start, data_interval_end, run_after, queued_at, start_date, end_date, conf, "
                   "backfill_id, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
    db.executemany("INSERT INTO task_instance (run_pk, task_id, state, try_number, max_tries, start_date, end_date, "
                   "next_try_at, pid, start_ticks, boot_id, result, message, first_poke_at, pokes) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", ti_rows)
    run_rows.clear()
    ti_rows.clear()


def log_path(logs, dag_id, run_id, task_id, try_number):
    # engine/model/log_path.h: Airflow's layout; the ids here hold no byte it would escape.
    return os.path.join(logs, "dag_id=" + dag_id, "run_id=" + run_id, "task_id=" + task_id,
                        "attempt=%d.log" % try_number)


def write_log(logs, dag_id, run_id, task_id, try_number, text):
    path = log_path(logs, dag_id, run_id, task_id, try_number)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------------------------
# Talking to the daemon


class Api:
    def __init__(self, port, token):
        self.base = "http://127.0.0.1:%d" % port
        self.token = token

    def get(self, path, timeout=60):
        """(status, JSON or text, milliseconds)."""
        request = urllib.request.Request(self.base + path, headers={"Authorization": "Bearer " + self.token,
                                                                    "Accept": "application/json"})
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            body, status = error.read(), error.code
        ms = (time.perf_counter() - start) * 1000
        try:
            return status, json.loads(body), ms
        except ValueError:
            return status, body.decode(errors="replace"), ms


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def now_micros():
    return time.time_ns() // 1000


class Trigger(threading.Thread):
    """Triggers the busy DAG every `every` seconds through the CLI (the command queue)."""

    def __init__(self, mayaflow, env, every):
        super().__init__(daemon=True)
        self.mayaflow, self.env, self.every = mayaflow, env, every
        self.stopped = threading.Event()
        self.triggered = 0
        self.failures = []

    def run(self):
        next_at = time.monotonic()
        while not self.stopped.is_set():
            done = subprocess.run([self.mayaflow, "dags", "trigger", BUSY_DAG], env=self.env, capture_output=True,
                                  text=True, timeout=60)
            if done.returncode == 0:
                self.triggered += 1
            else:
                self.failures.append(done.stderr.strip())
            next_at += self.every
            self.stopped.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.stopped.set()
        self.join()


def busy_lags(db_path, windows):
    """For each (name, from µs, to µs): the lags (ms) of the busy DAG's tasks that started in it."""
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    rows = db.execute("SELECT r.id, r.start_date, t.task_id, t.start_date, t.end_date FROM dag_run r "
                      "JOIN task_instance t ON t.run_pk = r.id WHERE r.dag_id = ?", (BUSY_DAG,)).fetchall()
    db.close()
    runs = {}
    for pk, run_start, task_id, start, end in rows:
        runs.setdefault(pk, {"start": run_start, "tasks": {}})["tasks"][task_id] = (start, end)
    lags = []  # (task start, lag µs)
    for run in runs.values():
        tasks = run["tasks"]
        root = tasks.get("root")
        work = [v for k, v in tasks.items() if k.startswith("work_")]
        sink = tasks.get("sink")
        if root and root[0] is not None and run["start"] is not None:
            lags.append((root[0], root[0] - run["start"]))
        if root and root[1] is not None:
            lags += [(start, start - root[1]) for start, _ in work if start is not None]
        if sink and sink[0] is not None and work and all(end is not None for _, end in work):
            lags.append((sink[0], sink[0] - max(end for _, end in work)))
    result = {}
    for name, begin, end in windows:
        result[name] = sorted(lag / 1000 for start, lag in lags if begin <= start < end)
    return result


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))]


def run_wrk(args, url, token, seconds):
    env = dict(os.environ, BENCH_API_TOKEN=token)
    command = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % seconds, "--latency",
               "--timeout", "%ds" % args.wrk_timeout, "-s", LUA, url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + args.wrk_timeout + 60)
    figures = None
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_API "):
            figures = json.loads(line[len("BENCH_API "):])
    if done.returncode != 0 or figures is None:
        raise RuntimeError("wrk failed (exit status %d): %s %s" % (done.returncode, done.stdout, done.stderr))
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100000, help="finished runs seeded in the store")
    parser.add_argument("--dags", type=int, default=50, help="DAGs the runs are spread over")
    parser.add_argument("--tasks", type=int, default=10, help="task instances per seeded run (at least 3)")
    parser.add_argument("--log-runs", type=int, default=20, help="newest runs per DAG whose logs are on disk")
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--wrk-timeout", type=int, default=10, help="wrk's timeout per request, seconds")
    parser.add_argument("--lag-seconds", type=float, default=10, help="the window of task lag without API load")
    parser.add_argument("--busy-tasks", type=int, default=8, help="parallel bash tasks in each busy run")
    parser.add_argument("--busy-every", type=float, default=0.5, help="seconds between triggers of the busy DAG")
    parser.add_argument("--only", action="append", help="measure only the endpoints whose name has this text")
    parser.add_argument("--mayaflow", default=os.environ.get("MAYAFLOW_BIN", "build/mayaflow"))
    parser.add_argument("--timeout", type=float, default=600, help="for start-up and loading the DAGs")
    parser.add_argument("--keep", action="store_true", help="keep the temp home (its path is printed)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sql", help="a file of SQL run on the seeded store before the daemon starts (to compare "
                                      "indexes, say)")
    args = parser.parse_args()
    if args.tasks < 3 or args.runs < args.dags or args.log_runs < 1:
        parser.error("--tasks must be 3 or more, --runs at least --dags, --log-runs at least 1")
    if not shutil.which("wrk"):
        print("wrk is not installed: scripts/install-deps --test installs it (apt-get install wrk)")
        return 1
    mayaflow = os.path.abspath(args.mayaflow)
    rng = random.Random(args.seed)

    home = tempfile.mkdtemp(prefix="mayaflow-bench-api-")
    dags, logs = os.path.join(home, "dags"), os.path.join(home, "logs")
    db_path = os.path.join(home, "mayaflow.db")
    os.makedirs(dags)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYAFLOW_", "AIRFLOW_"))}
    env.update(MAYAFLOW_HOME=home, MAYAFLOW_SHUTDOWN_GRACE_PERIOD="5s")
    process = None
    trigger = None
    daemon_log = open(os.path.join(home, "daemon.log"), "wb")
    try:
        migrated = subprocess.run([mayaflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=120)
        if migrated.returncode != 0:
            print("mayaflow db migrate failed: " + migrated.stderr)
            return 1
        started = time.monotonic()
        now_us = now_micros()
        runs, task_instances, log_count, measured_run = seed_store(db_path, logs, args, now_us, rng)
        seed_seconds = time.monotonic() - started
        if args.sql:
            with open(args.sql) as f, sqlite3.connect(db_path) as db:
                db.executescript(f.read())
        start_date = iso(now_us - 400 * 24 * HOUR_US)[:10]
        task_ids = seed_task_ids(args.tasks)
        for i in range(args.dags):
            with open(os.path.join(dags, "bench_api_%02d.yaml" % i), "w") as f:
                f.write(SEED_DAG.format(dag_id="bench_api_%02d" % i, runs=runs, start_date=start_date,
                                        items=", ".join(str(n) for n in range(1, args.tasks - 1))))
        with open(os.path.join(dags, BUSY_DAG + ".yaml"), "w") as f:
            f.write(BUSY.format(dag_id=BUSY_DAG, items=", ".join(str(n) for n in range(1, args.busy_tasks + 1))))
        # The task whose log is read: a longer log than the others (a page of the API is 256 KiB).
        log_dag, log_run = measured_run
        log_task = task_ids[1]
        write_log(logs, log_dag, log_run, log_task, 1,
                  "[mayaflow] running: echo %s\n%s[mayaflow] success: exit code 0\n"
                  % (log_task, "".join("%s: row %06d of the report, with some text to make a line of eighty.....\n"
                                       % (log_task, i) for i in range(800))))

        deadline = time.monotonic() + args.timeout
        process = subprocess.Popen([mayaflow, "standalone", "--dags-folder", dags, "--port", "0"], env=env,
                                   stdout=subprocess.PIPE, stderr=daemon_log, text=True)
        port = None
        for line in process.stdout:
            if "web UI:" in line:
                port = int(line.rsplit(":", 1)[1].strip(" /\n"))
                break
        if port is None:
            print("mayaflow standalone did not start (exit status %s); its log:" % process.poll())
            print(open(daemon_log.name, errors="replace").read()[-4000:])
            return 1
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # drain
        created = subprocess.run([mayaflow, "users", "create-token", "-u", "admin"], env=env, capture_output=True,
                                 text=True, timeout=60)
        if created.returncode != 0:
            print("mayaflow users create-token failed: " + created.stderr)
            return 1
        api = Api(port, created.stdout.strip())

        while True:
            status, body, _ = api.get("/api/v1/dags?limit=1")
            if status == 200 and body.get("total_entries") == args.dags + 1:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                print("the daemon did not load the %d DAGs (last answer %s: %s)" % (args.dags + 1, status, body))
                return 1
            time.sleep(0.2)

        # The store as the API sees it, before measuring anything.
        per_dag = runs // args.dags + (1 if args.runs % args.dags else 0)
        checks = [
            ("/api/v1/dags/~/dagRuns?limit=1", runs),
            ("/api/v1/dags/~/dagRuns/~/taskInstances?limit=1", task_instances),
            ("/api/v1/dags/bench_api_00/dagRuns?limit=1", per_dag),
            ("/api/v1/dags/bench_api_00/dagRuns/~/taskInstances?limit=1", per_dag * args.tasks),
        ]
        check_lines = []
        for path, expected in checks:
            status, body, ms = api.get(path)
            total = body.get("total_entries") if isinstance(body, dict) else None
            if status != 200 or total != expected:
                print("the store is not what was seeded: GET %s answered %s, total_entries %s, expected %d: %s"
                      % (path, status, total, expected, str(body)[:500]))
                return 1
            check_lines.append("  %-58s total_entries %9d  (%.0f ms)" % (path, total, ms))
        status, body, _ = api.get("/api/v1/dags/%s/dagRuns/%s" % (log_dag, urllib.parse.quote(log_run, safe="")))
        if status != 200:
            print("the seeded run %s of %s is not served: %s %s" % (log_run, log_dag, status, body))
            return 1

        run_path = "/api/v1/dags/%s/dagRuns/%s" % (log_dag, urllib.parse.quote(log_run, safe=""))
        log_url = "%s/taskInstances/%s/logs/1" % (run_path, log_task)
        status, body, _ = api.get(log_url + "?full_content=false")
        if status != 200 or not body.get("content") or not body.get("continuation_token"):
            print("the seeded log is not served: %s %s" % (status, str(body)[:500]))
            return 1
        tail_token = body["continuation_token"]
        endpoints = [
            ("dagRuns, one DAG", "/api/v1/dags/%s/dagRuns?limit=100&order_by=-execution_date&state=success" % log_dag),
            ("dagRuns, ~ (all DAGs)", "/api/v1/dags/~/dagRuns?limit=100&order_by=-execution_date&state=success"),
            ("taskInstances, ~/~ failed", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100&state=failed"),
            ("one task instance", "%s/taskInstances/%s" % (run_path, log_task)),
            ("log, first page (65 KB)", log_url + "?full_content=false"),
            ("log tail (token)", log_url + "?token=" + urllib.parse.quote(tail_token, safe="")),
            ("health", "/api/v1/health"),
        ]
        if args.only:
            endpoints = [e for e in endpoints if any(text in e[0] for text in args.only)]
        first_ms = {}
        for name, path in endpoints:
            status, body, ms = api.get(path)
            if status != 200:
                print("GET %s answered %s before the load: %s" % (path, status, str(body)[:500]))
                return 1
            first_ms[name] = ms

        trigger = Trigger(mayaflow, env, args.busy_every)
        trigger.start()
        time.sleep(max(2.0, 4 * args.busy_every))  # the first runs under way
        windows = []
        begin = now_micros()
        time.sleep(args.lag_seconds)
        windows.append(("(no API load)", begin, now_micros()))
        measured = []
        for name, path in endpoints:
            cpu_before = cpu_seconds(process.pid)
            begin, wall = now_micros(), time.monotonic()
            figures = run_wrk(args, api.base + path, api.token, args.seconds)
            windows.append((name, begin, now_micros()))
            figures["cpu"] = (cpu_seconds(process.pid) - cpu_before) / (time.monotonic() - wall)
            # wrk stops at the end of its time, but the requests its connections had sent are still
            # answered, one after the other: the next endpoint waits until they are.
            drained = time.monotonic()
            for _ in range(2):
                status, body, _ = api.get("/api/v1/health", timeout=600)
                if status != 200:
                    print("GET /api/v1/health answered %s after the load of %s: %s" % (status, name, body))
                    return 1
            figures["drain"] = time.monotonic() - drained
            measured.append((name, path, figures))
        begin = now_micros()
        time.sleep(args.lag_seconds)
        windows.append(("(no API load, after)", begin, now_micros()))
        trigger.stop()
        triggered = trigger.triggered
        time.sleep(2)  # the last runs end
        lags = busy_lags(db_path, windows)

        db_mib = sum(os.path.getsize(db_path + suffix) for suffix in ("", "-wal") if os.path.exists(db_path + suffix))
        print("mayaflow: %s (standalone), home %s" % (args.mayaflow, home if args.keep else "(temp)"))
        if args.sql:
            print("SQL run on the seeded store before the start: %s" % args.sql)
        print("store: %d runs of %d DAGs, %d task instances, %d task logs on disk; seeded with SQL in %.1f s; "
              "mayaflow.db %.0f MiB" % (runs, args.dags, task_instances, log_count + 1, seed_seconds, db_mib / 2**20))
        print("checked through the API before the load:")
        print("\n".join(check_lines))
        print("scheduler busy: %s (root -> %d x bash true -> sink) triggered every %.2f s with `mayaflow dags "
              "trigger`: %d runs triggered%s" % (BUSY_DAG, args.busy_tasks, args.busy_every, triggered,
                                                 ", %d triggers failed: %s" % (len(trigger.failures),
                                                                               trigger.failures[0])
                                                 if trigger.failures else ""))
        print("load: wrk -t%d -c%d -d%ds --latency, Bearer token (bench/api/report.lua)"
              % (args.threads, args.connections, args.seconds))
        print()
        print("%-27s %8s %9s %8s %8s %8s %8s %7s %6s %8s %8s"
              % ("endpoint", "first ms", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx", "CPU %",
                 "lag p50", "lag p99"))
        bad = []

        def lag_cells(name):
            values = lags.get(name, [])
            if not values:
                return "%8s %8s" % ("-", "-")
            return "%8.1f %8.1f" % (percentile(values, 0.5), percentile(values, 0.99))

        print("%-27s %8s %9s %8s %8s %8s %8s %7s %6s %s" % ((windows[0][0],) + ("",) * 8 + (lag_cells(windows[0][0]),)))
        for name, path, f in measured:
            rate = f["requests"] / (f["duration_us"] / 1e6)
            non2xx = f["status_errors"]
            errors = f["connect_errors"] + f["read_errors"] + f["write_errors"]
            print("%-27s %8.1f %9.1f %8.2f %8.2f %8.2f %8.1f %7d %6.0f %s"
                  % (name, first_ms[name], rate, f["p50_us"] / 1000, f["p90_us"] / 1000, f["p99_us"] / 1000,
                     f["max_us"] / 1000, non2xx, f["cpu"] * 100, lag_cells(name)))
            if f["timeouts"]:
                print("  %d requests timed out (over %d s)" % (f["timeouts"], args.wrk_timeout))
            if f["drain"] > 1:
                print("  the requests still queued when wrk stopped took %.1f s more to answer" % f["drain"])
            if non2xx or errors or f["requests"] == 0:
                bad.append("%s (GET %s): %d requests, %d not 2xx, %d socket errors" % (name, path, f["requests"], non2xx,
                                                                                      errors))
        print("%-27s %8s %9s %8s %8s %8s %8s %7s %6s %s" % ((windows[-1][0],) + ("",) * 8 + (lag_cells(windows[-1][0]),)))
        print()
        print("lag: a busy task's start - the end of its last upstream task (root: its run's start), ms, of the tasks")
        print("that started in each window: %s" % ", ".join("%s %d" % (name, len(lags[name])) for name, _, _ in windows))
        all_loaded = sorted(v for name, _, _ in windows[1:-1] for v in lags[name])
        quiet = sorted(lags[windows[0][0]] + lags[windows[-1][0]])
        if quiet and all_loaded:
            print("lag without API load: p50 %.1f, p99 %.1f, max %.1f ms (%d tasks); under load: p50 %.1f, p99 %.1f, "
                  "max %.1f ms (%d tasks)" % (percentile(quiet, 0.5), percentile(quiet, 0.99), quiet[-1], len(quiet),
                                             percentile(all_loaded, 0.5), percentile(all_loaded, 0.99),
                                             all_loaded[-1], len(all_loaded)))
        if bad:
            print("not measured, the answers were errors:\n  " + "\n  ".join(bad))
            return 1
        return 0
    finally:
        if trigger is not None and trigger.is_alive():
            trigger.stop()
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        daemon_log.close()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
