"""The daemon runs tasks: manual runs with conf, retries, timeouts, skips, clear, pause, logs, and a
kill -9 in the middle of a run that loses and repeats nothing."""

import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, read_text, wait_for  # noqa: E402

PIPELINE = """
tasks:
  - task_id: extract
    operator: bash
    bash_command: echo "extract {{ dag_run.conf.table }}" >> {out}; echo extracted-{{ dag_run.conf.table }}
  - task_id: "load_{{ item }}"
    for_each: [a, b]
    operator: bash
    depends_on: [extract]
    bash_command: echo "load {{ item }} {{ ti.xcom_pull(task_ids='extract') }}" >> {out}
  - task_id: skipped
    operator: bash
    depends_on: [extract]
    bash_command: exit 99
  - task_id: report
    operator: empty
    depends_on: ["load_*"]
"""

FLAKY = """
tasks:
  - task_id: flaky
    operator: bash
    retries: 2
    retry_delay: 1s
    bash_command: |
      n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}
      [ $n -ge 3 ]
  - task_id: too_slow
    operator: bash
    execution_timeout: 1s
    bash_command: sleep 30
"""

SLOW = """
tasks:
  - task_id: first
    operator: bash
    bash_command: echo first >> {out}
  - task_id: slow
    operator: bash
    depends_on: [first]
    bash_command: sleep 8; echo slow >> {out}  # long enough to be seen running on a loaded machine
  - task_id: last
    operator: bash
    depends_on: [slow]
    bash_command: echo last >> {out}
"""


ONE_AT_A_TIME = """
tasks:
  - task_id: "t{{ item }}"
    for_each: [1, 2, 3]
    operator: bash
    pool: single
    bash_command: echo "start {{ item }}" >> {out}; sleep 0.3; echo "end {{ item }}" >> {out}
"""


class SchedulerTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False)

    def tearDown(self):
        self.daemon.cleanup()

    def runs(self, dag_id):
        return json.loads(self.daemon.cli("dags", "list-runs", dag_id, "-o", "json", check=True).stdout)

    def finished_run(self, dag_id, timeout=30):
        def done():
            runs = self.runs(dag_id)
            return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None
        run, _ = wait_for(done, timeout=timeout)
        return run

    def state(self, dag_id, run_id, task_id):
        return self.daemon.cli("tasks", "state", dag_id, run_id, task_id, check=True).stdout.strip()

    def test_manual_run_with_conf_results_and_skip(self):
        out = os.path.join(self.daemon.home, "pipeline.out")
        self.daemon.write_dag("pipeline.yaml", PIPELINE.replace("{out}", out))
        self.daemon.start()
        result = self.daemon.cli("dags", "trigger", "pipeline", "--conf", '{"table": "sales"}', check=True)
        self.assertIn("Created run manual__", result.stdout)
        run = self.finished_run("pipeline")
        self.assertEqual(run["state"], "success")
        with open(out) as f:
            lines = sorted(f.read().splitlines())
        self.assertEqual(lines, ["extract sales", "load a extracted-sales", "load b extracted-sales"])
        self.assertEqual(self.state("pipeline", run["run_id"], "skipped"), "skipped")
        logs = self.daemon.cli("tasks", "logs", "pipeline", run["run_id"], "extract", check=True).stdout
        self.assertIn("extracted-sales", logs)

    def test_retries_and_timeouts(self):
        counter = os.path.join(self.daemon.home, "counter")
        self.daemon.write_dag("flaky.yaml", FLAKY.replace("{counter}", counter))
        self.daemon.start()
        self.daemon.cli("dags", "trigger", "flaky", check=True)
        run = self.finished_run("flaky")
        self.assertEqual(self.state("flaky", run["run_id"], "flaky"), "success")
        with open(counter) as f:
            self.assertEqual(f.read().strip(), "3")  # failed twice, retried twice
        self.assertEqual(self.state("flaky", run["run_id"], "too_slow"), "failed")
        self.assertEqual(run["state"], "failed")
        logs = self.daemon.cli("tasks", "logs", "flaky", run["run_id"], "too_slow", check=True).stdout
        self.assertIn("timed out", logs)

    def test_clear_and_pause(self):
        out = os.path.join(self.daemon.home, "pipeline.out")
        self.daemon.write_dag("pipeline.yaml", PIPELINE.replace("{out}", out))
        self.daemon.start()
        self.daemon.cli("dags", "trigger", "pipeline", "--conf", '{"table": "t"}', check=True)
        run = self.finished_run("pipeline")
        result = self.daemon.cli("tasks", "clear", "pipeline", run["run_id"], "-t", "load_a", check=True)
        self.assertIn("Cleared 1", result.stdout)
        wait_for(lambda: read_text(out).count("load a") == 2)
        self.assertEqual(self.finished_run("pipeline")["state"], "success")
        self.daemon.cli("dags", "pause", "pipeline", check=True)
        listed = json.loads(self.daemon.cli("dags", "list", "-o", "json", check=True).stdout)
        self.assertEqual([r["is_paused"] for r in listed if r["dag_id"] == "pipeline"], ["True"])
        bad = self.daemon.cli("dags", "trigger", "nope")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("no DAG with dag_id 'nope'", bad.stderr)

    def test_pool_with_one_slot_runs_its_tasks_one_at_a_time(self):
        out = os.path.join(self.daemon.home, "pool.out")
        self.daemon.write_dag("pooled.yaml", ONE_AT_A_TIME.replace("{out}", out))
        self.daemon.start()
        self.assertIn("Pool single has 1 slots", self.daemon.cli("pools", "set", "single", "1", "one at a time",
                                                                 check=True).stdout)
        pools = json.loads(self.daemon.cli("pools", "list", "-o", "json", check=True).stdout)
        self.assertEqual({p["pool"]: p["slots"] for p in pools}, {"default_pool": "128", "single": "1"})
        wait_for(lambda: "pooled" in self.daemon.dag_ids())
        self.daemon.cli("dags", "trigger", "pooled", check=True)
        self.assertEqual(self.finished_run("pooled")["state"], "success")
        lines = read_text(out).splitlines()
        self.assertEqual(len(lines), 6)
        for start, end in zip(lines[0::2], lines[1::2]):  # never two tasks inside the pool at once
            self.assertEqual(start.replace("start", "end"), end)
        refused = self.daemon.cli("pools", "delete", "default_pool")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("default_pool cannot be deleted", refused.stderr)
        self.daemon.cli("pools", "delete", "single", check=True)

    def test_kill_9_loses_and_repeats_nothing(self):
        out = os.path.join(self.daemon.home, "slow.out")
        self.daemon.write_dag("slow.yaml", SLOW.replace("{out}", out))
        self.daemon.start()
        self.daemon.cli("dags", "trigger", "slow", check=True)
        run_id = self.runs("slow")[0]["run_id"]
        wait_for(lambda: self.state("slow", run_id, "slow") == "running", timeout=60)
        self.daemon.process.send_signal(signal.SIGKILL)
        self.daemon.process.wait()
        time.sleep(0.5)
        self.daemon.start()  # the slow task is still running, or finished while the daemon was down
        run = self.finished_run("slow", timeout=60)
        self.assertEqual(run["state"], "success")
        with open(out) as f:
            self.assertEqual(f.read().splitlines(), ["first", "slow", "last"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
