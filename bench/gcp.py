#!/usr/bin/python3
"""Prints what many BigQuery jobs waiting at once cost the daemon: tasks/s, and the peak thread
count and RSS of the daemon process while they wait, beside the same figures at idle.

    bench/gcp.py [--tasks 1000] [--job-seconds 2] [--parallelism N] [--runs K] [--mayaflow build/mayaflow]

It starts the Google Cloud stand-in (tests/fakes/serve) with every BigQuery job taking
--job-seconds to finish, and `mayaflow scheduler` on a temp home with one DAG of N `bigquery_query`
tasks (`for_each`) and `default_pool` resized to N. A try waiting for its job is deferred, so neither
`parallelism` (mayaflow's default unless --parallelism) nor `max_active_tasks` limits how many jobs
wait at once. With --runs K the DAG is triggered K times, one run after the other, and the daemon's
RSS is printed after each (what stays after a run). /proc/<pid>/status of the daemon is read every
50 ms. Figures only, no assertions (docs/benchmarks.md)."""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from gcp_fake import GcpFake  # noqa: E402

DAG_ID = "bench_bigquery"
DAG = """dag_id: {dag_id}
schedule: null
tasks:
  - task_id: "query_{{{{ item }}}}"
    operator: bigquery_query
    for_each: [{items}]
    sql: "SELECT {{{{ item }}}} AS n"
"""


class StatusSampler(threading.Thread):
    """Reads Threads, VmRSS and VmHWM of one process every `interval` seconds and keeps the peaks."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.stopped = threading.Event()
        self.samples = 0
        self.peak_threads = 0
        self.peak_rss_kib = 0
        self.last = {}

    def read(self):
        fields = {}
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Threads", "VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0])
        return fields

    def run(self):
        while not self.stopped.is_set():
            try:
                fields = self.read()
            except (OSError, ValueError):
                return
            self.samples += 1
            self.peak_threads = max(self.peak_threads, fields["Threads"])
            self.peak_rss_kib = max(self.peak_rss_kib, fields["VmRSS"])
            self.last = fields
            self.stopped.wait(self.interval)

    def stop(self):
        self.stopped.set()
        self.join()


def sample_for(pid, seconds):
    sampler = StatusSampler(pid)
    sampler.start()
    time.sleep(seconds)
    sampler.stop()
    return sampler


def cpu_seconds(pid):
    """(user, system) CPU seconds of a process, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def open_store(home):
    """A read-only connection, so that watching never writes to the daemon's database."""
    return sqlite3.connect("file:%s?mode=ro" % os.path.join(home, "mayaflow.db"), uri=True, timeout=10)


def dag_loaded(home):
    try:
        with open_store(home) as db:
            return db.execute("SELECT count(*) FROM dag WHERE dag_id = ?", (DAG_ID,)).fetchone()[0] == 1
    except sqlite3.Error:
        return False  # not created yet


def task_states(db, run_id):
    rows = db.execute("SELECT ti.state, count(*) FROM task_instance ti JOIN dag_run r ON r.id = ti.run_pk "
                      "WHERE r.dag_id = ? AND r.run_id = ? GROUP BY ti.state", (DAG_ID, run_id)).fetchall()
    return dict(rows)


def run_times(db, run_id):
    """(run queued, run started, first task started, last task ended), in µs since the epoch."""
    return db.execute("SELECT r.queued_at, r.start_date, min(ti.start_date), max(ti.end_date) FROM dag_run r "
                      "JOIN task_instance ti ON ti.run_pk = r.id WHERE r.dag_id = ? AND r.run_id = ?",
                      (DAG_ID, run_id)).fetchone()


FINISHED = ("success", "failed", "upstream_failed", "skipped")


def run_once(args, env, home, run_id, deadline, process):
    """Triggers one run and waits for its tasks: (states, most waiting at once, most deferred, times,
    first failure), or None when the trigger failed."""
    triggered = mayaflow(args, env, "dags", "trigger", DAG_ID, "--run-id", run_id)
    if triggered.returncode != 0:
        print("mayaflow dags trigger failed: " + triggered.stderr)
        return None
    most_waiting = most_deferred = 0
    states = {}
    with open_store(home) as db:
        while time.monotonic() < deadline and process.poll() is None:
            states = task_states(db, run_id)
            most_deferred = max(most_deferred, states.get("deferred", 0))
            most_waiting = max(most_waiting, sum(states.get(s, 0) for s in ("queued", "running", "deferred")))
            if sum(states.get(s, 0) for s in FINISHED) >= args.tasks:
                break
            time.sleep(0.2)
        times = run_times(db, run_id)
        first_failure = db.execute("SELECT ti.task_id, ti.message FROM task_instance ti JOIN dag_run r "
                                   "ON r.id = ti.run_pk WHERE r.dag_id = ? AND r.run_id = ? AND ti.state = 'failed' "
                                   "LIMIT 1", (DAG_ID, run_id)).fetchone()
    return states, most_waiting, most_deferred, times, first_failure


def mayaflow(args, env, *command):
    return subprocess.run([args.mayaflow, *command], env=env, capture_output=True, text=True, timeout=60)


def mib(kib):
    return "%.1f MiB" % (kib / 1024)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--job-seconds", type=float, default=2, help="how long each BigQuery job runs")
    parser.add_argument("--parallelism", type=int, help="the daemon's parallelism (default: mayaflow's)")
    parser.add_argument("--runs", type=int, default=1, help="runs of the DAG, one after the other")
    parser.add_argument("--mayaflow", default=os.environ.get("MAYAFLOW_BIN", "build/mayaflow"))
    parser.add_argument("--idle-seconds", type=float, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout

    home = tempfile.mkdtemp(prefix="mayaflow-bench-gcp-")
    dags = os.path.join(home, "dags")
    os.makedirs(dags)
    with open(os.path.join(dags, DAG_ID + ".yaml"), "w") as f:
        f.write(DAG.format(dag_id=DAG_ID, tasks=args.tasks, items=", ".join(map(str, range(args.tasks)))))

    fake = GcpFake(datasets=("ds",))
    fake.control("/_fake/config", {"job_duration_s": args.job_seconds})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYAFLOW_", "AIRFLOW_"))}
    env.update(fake.environment(), MAYAFLOW_HOME=home, MAYAFLOW_SHUTDOWN_GRACE_PERIOD="5s")
    if args.parallelism:
        env["MAYAFLOW_PARALLELISM"] = str(args.parallelism)
    log = open(os.path.join(home, "daemon.log"), "wb")
    process = subprocess.Popen([args.mayaflow, "scheduler", "--dags-folder", dags], env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
    try:
        while not dag_loaded(home):
            if process.poll() is not None or time.monotonic() > deadline:
                print("the daemon did not load the DAG (exit status %s); its log:" % process.poll())
                print(open(log.name, errors="replace").read()[-4000:])
                print(mayaflow(args, env, "dags", "list-import-errors").stdout)
                return 1
            time.sleep(0.05)
        resized = mayaflow(args, env, "pools", "set", "default_pool", str(args.tasks))
        if resized.returncode != 0:
            print("mayaflow pools set failed: " + resized.stderr)
            return 1

        time.sleep(1)  # let the turns after loading settle
        idle = sample_for(process.pid, args.idle_seconds)
        idle_hwm_kib = idle.last["VmHWM"]

        daemon_cpu_before, fake_cpu_before = cpu_seconds(process.pid), cpu_seconds(fake.process.pid)
        loaded = StatusSampler(process.pid)
        loaded.start()
        after_runs = []
        for number in range(1, args.runs + 1):
            measured = run_once(args, env, home, "bench_%d" % number, deadline, process)
            if measured is None:
                return 1
            states, most_waiting, most_deferred, times, first_failure = measured
            finished = sum(states.get(s, 0) for s in FINISHED)
            if finished < args.tasks:
                print("only %d of %d tasks of run %d finished within %.0f s (daemon exit status %s): %s"
                      % (finished, args.tasks, number, args.timeout, process.poll(), states))
                return 1
            if args.runs > 1:
                time.sleep(1)  # the run's last turns settle
                after_runs.append((number, sample_for(process.pid, 0.2).last["VmRSS"]))
        loaded.stop()
        daemon_user, daemon_system = (now - before for now, before in zip(cpu_seconds(process.pid), daemon_cpu_before))
        fake_cpu = sum(cpu_seconds(fake.process.pid)) - sum(fake_cpu_before)
        fake_stats = fake.stats()["jobs"]

        queued_at, _, first_start, last_end = times
        seconds = (last_end - queued_at) / 1e6
        parallelism = args.parallelism or "mayaflow's default"
        print("mayaflow: %s (scheduler, parallelism %s)" % (args.mayaflow, parallelism))
        if args.runs > 1:
            print("runs: %d, one after the other; the figures below are of the last" % args.runs)
        print("tasks: %d bigquery_query, each job %.1f s in the stand-in; succeeded %d, failed %d"
              % (args.tasks, args.job_seconds, states.get("success", 0), states.get("failed", 0)))
        if first_failure:
            print("  first failure: %s: %s" % first_failure)
        print("jobs inserted in the stand-in:   %d (completed %d)"
              % (fake_stats["job_inserts_accepted"], fake_stats["jobs_completed"]))
        print("most tasks waiting at once:      %d queued, running or deferred, %d deferred (seen every 0.2 s)"
              % (most_waiting, most_deferred))
        print("run queued to last task ended:   %.2f s (first task started after %.2f s)"
              % (seconds, (first_start - queued_at) / 1e6))
        print("tasks/s:                         %.1f" % (args.tasks / seconds))
        print("CPU during the run:              daemon %.1f s (user %.1f, system %.1f), stand-in %.1f s"
              % (daemon_user + daemon_system, daemon_user, daemon_system, fake_cpu))
        print()
        print("%-30s %12s %12s" % ("daemon process", "idle", "loaded"))
        print("%-30s %12d %12d" % ("peak threads", idle.peak_threads, loaded.peak_threads))
        print("%-30s %12s %12s" % ("peak VmRSS", mib(idle.peak_rss_kib), mib(loaded.peak_rss_kib)))
        print("%-30s %12s %12s" % ("VmHWM at the end", mib(idle_hwm_kib), mib(loaded.last["VmHWM"])))
        print("(/proc/%d/status read every 50 ms: %d samples idle, %d loaded)"
              % (process.pid, idle.samples, loaded.samples))
        for number, rss_kib in after_runs:
            print("VmRSS after run %-14d %12s" % (number, mib(rss_kib)))
        return 0 if states.get("success", 0) == args.tasks else 1  # failed queries measure nothing
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        fake.stop()
        shutil.rmtree(fake.state, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
