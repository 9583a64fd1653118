"""Backfills through the CLI against the real daemon (dry run, reprocess behaviour, pause, resume,
cancel), and a SIGTERM that drains running tasks."""

import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, read_text, wait_for  # noqa: E402

DAILY = """
dag_id: daily
schedule: "@daily"
start_date: 2024-01-01
end_date: 2024-12-31  # no scheduled run of today gets in the way
tasks:
  - task_id: load
    operator: bash
    bash_command: |
      [ "{{ ds }}" != 2024-01-03 ] || [ -f {flag} ] || exit 1
      echo "{{ ds }}" >> {out}
"""

SLOW_DAILY = """
dag_id: slow_daily
schedule: "@daily"
start_date: 2024-01-01
end_date: 2024-12-31  # no scheduled run of today gets in the way
tasks:
  - task_id: wait
    operator: bash
    bash_command: sleep 1; echo "{{ ds }}" >> {out}
"""

DRAIN = """
dag_id: drain
tasks:
  - task_id: short
    operator: bash
    bash_command: sleep 3; echo short >> {out}  # long enough to be seen running by two slow CLI calls
  - task_id: long
    operator: bash
    bash_command: |
      [ {{ ti.try_number }} -gt 1 ] || sleep 60
      echo "long try {{ ti.try_number }}" >> {out}
"""


class BackfillTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False)
        self.out = os.path.join(self.daemon.home, "out")
        self.flag = os.path.join(self.daemon.home, "flag")

    def tearDown(self):
        self.daemon.cleanup()

    def runs(self, dag_id):
        return json.loads(self.daemon.cli("dags", "list-runs", dag_id, "-o", "json", check=True).stdout)

    def backfills(self):
        return json.loads(self.daemon.cli("backfills", "list", "-o", "json", check=True).stdout)

    def wait_for_dag(self, dag_id):
        wait_for(lambda: dag_id in self.daemon.dag_ids())

    def test_dry_run_backfill_and_reprocess_failed(self):
        self.daemon.write_dag("daily.yaml", DAILY.replace("{out}", self.out).replace("{flag}", self.flag))
        self.daemon.start()
        self.wait_for_dag("daily")
        dry = self.daemon.cli("dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-05", "--dry-run",
                              check=True)
        self.assertIn("would queue 5 run(s)", dry.stdout)
        self.assertIn("backfill__2024-01-01T00:00:00+00:00", dry.stdout)
        self.assertEqual(self.runs("daily"), [])

        created = self.daemon.cli("dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-05",
                                  "--max-active-runs", "2", check=True)
        self.assertIn("Backfill 1 of DAG daily: 5 run(s) queued, at most 2 at a time", created.stdout)
        wait_for(lambda: all(r["state"] in ("success", "failed") for r in self.runs("daily")) and
                 len(self.runs("daily")) == 5, timeout=60)
        states = {r["run_id"][10:20]: r["state"] for r in self.runs("daily")}
        self.assertEqual(states["2024-01-03"], "failed")
        self.assertEqual(sorted(read_text(self.out).split()), ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"])
        wait_for(lambda: self.backfills()[0]["state"] == "completed")
        self.assertEqual(self.backfills()[0]["runs"], "1 failed, 4 success")

        # Nothing to do without a reprocess behaviour; with `failed` only the failed date runs again.
        nothing = self.daemon.cli("dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-05")
        self.assertEqual(nothing.returncode, 1)
        self.assertIn("no logical date in the range needs a run", nothing.stderr)
        open(self.flag, "w").close()
        again = self.daemon.cli("dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-05",
                                "--reprocess-behavior", "failed", check=True)
        self.assertIn("1 run(s) queued", again.stdout)
        self.assertIn("run again", again.stdout)
        wait_for(lambda: "2024-01-03" in read_text(self.out), timeout=30)
        wait_for(lambda: all(r["state"] == "success" for r in self.runs("daily")), timeout=30)
        self.assertEqual(len(self.runs("daily")), 5)
        self.assertEqual(sorted(read_text(self.out).split()),
                         ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])

        bad = self.daemon.cli("dags", "backfill", "daily", "--from", "2024-02-05", "--to", "2024-02-01")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("is after --to", bad.stderr)

    def test_pause_resume_cancel(self):
        self.daemon.write_dag("slow.yaml", SLOW_DAILY.replace("{out}", self.out))
        self.daemon.start()
        self.wait_for_dag("slow_daily")
        self.daemon.cli("dags", "backfill", "slow_daily", "--from", "2024-01-01", "--to", "2024-01-08",
                        "--max-active-runs", "1", "--run-backwards", check=True)
        wait_for(lambda: os.path.exists(self.out), timeout=30)
        self.assertEqual(read_text(self.out).split()[0], "2024-01-08")  # backwards: newest first
        self.daemon.cli("backfills", "pause", "1", check=True)
        self.assertEqual(self.backfills()[0]["state"], "paused")
        time.sleep(1.5)  # the run under way finishes; no other starts
        done = len(read_text(self.out).split())
        time.sleep(1.5)
        self.assertEqual(len(read_text(self.out).split()), done)
        self.daemon.cli("backfills", "resume", "1", check=True)
        wait_for(lambda: len(read_text(self.out).split()) > done, timeout=30)
        cancelled = self.daemon.cli("backfills", "cancel", "1", check=True)
        self.assertIn("Backfill 1 cancelled", cancelled.stdout)
        wait_for(lambda: all(r["state"] in ("success", "failed") for r in self.runs("slow_daily")), timeout=30)
        states = [r["state"] for r in self.runs("slow_daily")]
        self.assertIn("failed", states)  # queued runs failed without running
        self.assertEqual(states.count("success"), len(read_text(self.out).split()))
        self.assertEqual(self.backfills()[0]["state"], "completed")
        again = self.daemon.cli("backfills", "cancel", "1")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already completed", again.stderr)

    def test_sigterm_drains_then_leaves_long_tries_for_the_restart(self):
        self.daemon.write_dag("drain.yaml", DRAIN.replace("{out}", self.out))
        self.daemon.start()
        self.wait_for_dag("drain")
        self.daemon.cli("dags", "trigger", "drain", "--run-id", "r1", check=True)

        def state(task):
            return self.daemon.cli("tasks", "state", "drain", "r1", task, check=True).stdout.strip()
        wait_for(lambda: state("short") == "running" and state("long") == "running")
        started = time.monotonic()
        code = self.daemon.stop(signal.SIGTERM, timeout=30)
        took = time.monotonic() - started
        self.assertEqual(code, 0)
        self.assertGreaterEqual(took, 4.5)   # waited out the 5 s grace period for `long`
        self.assertLess(took, 20)
        self.assertEqual(state("short"), "success")  # finished inside the grace period
        self.assertIn(state("long"), ("scheduled", "up_for_retry"))
        self.assertIn("ending 1 task tries still running", self.daemon.read_log())
        self.daemon.start()
        wait_for(lambda: "long try 2" in read_text(self.out), timeout=30)
        wait_for(lambda: self.runs("drain")[0]["state"] == "success", timeout=30)
        self.assertEqual(read_text(self.out).split("\n").count("short"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
