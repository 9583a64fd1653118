"""`mayaflow db clean` against the real daemon: what it deletes (finished runs older than the
moment, their task instances, costs and logs, answered commands), what it keeps (the latest run of
each DAG, unfinished runs, the runs of a DAG a queued command names), its dry run, its archive, its
refusal without --yes, and a scheduler that goes on running and creating runs while it cleans."""

import os
import sqlite3
import sys
import threading
import unittest
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

QUICK = """
dag_id: quick
tasks:
  - task_id: one
    operator: bash
    bash_command: echo one
  - task_id: two
    operator: bash
    depends_on: [one]
    bash_command: echo two
"""

OTHER = """
dag_id: other
tasks:
  - task_id: only
    operator: bash
    bash_command: echo only
"""

SLOW = """
dag_id: slow
tasks:
  - task_id: wait
    operator: bash
    bash_command: sleep 30
"""


def later(seconds=2):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


class DbCleanTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False)
        self.daemon.write_dag("quick.yaml", QUICK)
        self.daemon.write_dag("other.yaml", OTHER)
        self.daemon.write_dag("slow.yaml", SLOW)
        self.daemon.start()
        wait_for(lambda: {"quick", "other", "slow"} <= set(self.daemon.dag_ids()))
        self.db = os.path.join(self.daemon.home, "mayaflow.db")
        self.logs = os.path.join(self.daemon.home, "logs")

    def tearDown(self):
        self.daemon.cleanup()

    def cli(self, *args, check=False):
        return self.daemon.cli(*args, check=check)

    def trigger(self, dag_id, day):
        self.cli("dags", "trigger", dag_id, "-l", "2024-01-%02dT00:00:00Z" % day, "-r", "run_%02d" % day, check=True)

    def finished(self, dag_id, count):
        runs = self.daemon.runs(dag_id)
        return len(runs) == count and all(r["state"] in ("success", "failed") for r in runs)

    def query(self, sql, *args):
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as db:
            return db.execute(sql, args).fetchall()

    def run_folder(self, dag_id, run_id):
        return os.path.join(self.logs, "dag_id=" + dag_id, "run_id=" + run_id)

    def make_history(self):
        for day in (1, 2, 3, 4):
            self.trigger("quick", day)
        self.trigger("other", 1)
        wait_for(lambda: self.finished("quick", 4), timeout=60)
        wait_for(lambda: self.finished("other", 1), timeout=60)

    def test_dry_run_counts_and_deletes_nothing(self):
        self.make_history()
        result = self.cli("db", "clean", "--clean-before-timestamp", later(), "--dry-run", check=True)
        self.assertIn("dry run", result.stdout)
        rows = dict(line.split(" | ") for line in result.stdout.splitlines()[2:] if " | " in line)
        rows = {k.strip(): v.strip() for k, v in rows.items()}
        # quick: 3 of 4 runs (run_04 is its latest), 2 task instances each; other: its only run stays.
        self.assertEqual(rows["dag_run"], "3")
        self.assertEqual(rows["task_instance"], "6")
        self.assertEqual(rows["logs (run folders)"], "3")
        self.assertEqual(len(self.daemon.runs("quick")), 4)
        self.assertTrue(os.path.isdir(self.run_folder("quick", "run_01")))

    def test_deletes_old_finished_runs_keeps_the_latest_and_their_logs_go(self):
        self.make_history()
        self.assertTrue(os.path.isdir(self.run_folder("quick", "run_01")))
        result = self.cli("db", "clean", "--clean-before-timestamp", later(), "--yes", check=True)
        self.assertIn("Deleted", result.stdout)
        self.assertEqual([r["run_id"] for r in self.daemon.runs("quick")], ["run_04"])
        self.assertEqual([r["run_id"] for r in self.daemon.runs("other")], ["run_01"])
        for day in (1, 2, 3):
            self.assertFalse(os.path.exists(self.run_folder("quick", "run_%02d" % day)))
        self.assertTrue(os.path.isdir(self.run_folder("quick", "run_04")))
        # No task instance or cost is left without its run.
        self.assertEqual(self.query("SELECT COUNT(*) FROM task_instance WHERE run_pk NOT IN (SELECT id FROM dag_run)"),
                         [(0,)])
        # The commands the triggers were are answered and older: gone too.
        self.assertEqual(self.query("SELECT COUNT(*) FROM command WHERE state != 'pending'"), [(0,)])
        # Airflow keeps what it deleted in archive tables unless --skip-archive.
        archives = [name for (name,) in self.query("SELECT name FROM sqlite_master WHERE name LIKE '_mayaflow_deleted__%'")]
        self.assertTrue(any(name.startswith("_mayaflow_deleted__dag_run__") for name in archives), archives)
        archived = [t for t in archives if t.startswith("_mayaflow_deleted__dag_run__")][0]
        self.assertEqual(sorted(r for (r,) in self.query('SELECT run_id FROM "%s"' % archived)),
                         ["run_01", "run_02", "run_03"])
        self.assertEqual(self.cli("db", "check").returncode, 0)
        # The scheduler goes on: a new run of the cleaned DAG runs to the end.
        self.trigger("quick", 5)
        wait_for(lambda: self.finished("quick", 2), timeout=60)

    def test_skip_archive_and_tables(self):
        self.make_history()
        self.cli("db", "clean", "--clean-before-timestamp", later(), "--yes", "--skip-archive", "--tables", "command",
                 check=True)
        self.assertEqual(len(self.daemon.runs("quick")), 4)  # only the commands went
        self.assertEqual(self.query("SELECT COUNT(*) FROM command WHERE state != 'pending'"), [(0,)])
        self.assertEqual(self.query("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '_mayaflow_deleted__%'"), [(0,)])

    def test_a_running_run_and_a_recent_one_are_kept(self):
        self.make_history()
        self.trigger("slow", 1)
        self.trigger("slow", 2)
        wait_for(lambda: any(r["state"] == "running" for r in self.daemon.runs("slow")), timeout=30)
        before = later(-3600)  # an hour ago: nothing ended before it
        self.cli("db", "clean", "--clean-before-timestamp", before, "--yes", check=True)
        self.assertEqual(len(self.daemon.runs("quick")), 4)
        self.cli("db", "clean", "--clean-before-timestamp", later(), "--yes", check=True)
        self.assertEqual(len(self.daemon.runs("slow")), 2)  # neither is finished
        self.assertEqual(len(self.daemon.runs("quick")), 1)

    def test_the_scheduler_keeps_working_while_it_cleans(self):
        self.make_history()
        errors = []

        def trigger_more():
            for day in range(10, 20):
                result = self.cli("dags", "trigger", "other", "-l", "2024-02-%02dT00:00:00Z" % day)
                if result.returncode != 0:
                    errors.append(result.stderr)

        thread = threading.Thread(target=trigger_more)
        thread.start()
        for _ in range(5):
            result = self.cli("db", "clean", "--clean-before-timestamp", later(0), "--yes", "--skip-archive")
            self.assertEqual(result.returncode, 0, result.stderr)
        thread.join(timeout=120)
        self.assertEqual(errors, [])
        wait_for(lambda: all(r["state"] in ("success", "failed") for r in self.daemon.runs("other")), timeout=90)
        self.assertTrue(all(r["state"] == "success" for r in self.daemon.runs("other")))
        self.assertEqual(self.query("SELECT COUNT(*) FROM task_instance WHERE run_pk NOT IN (SELECT id FROM dag_run)"),
                         [(0,)])
        self.assertEqual(self.cli("db", "check").returncode, 0)


class DbCleanWithoutSchedulerTest(unittest.TestCase):
    """Commands waiting in the queue (no scheduler runs) keep their DAG's runs."""

    def test_a_queued_command_keeps_its_dags_runs(self):
        daemon = Daemon(copy_examples=False)
        try:
            daemon.write_dag("quick.yaml", QUICK)
            daemon.write_dag("other.yaml", OTHER)
            daemon.start()
            wait_for(lambda: {"quick", "other"} <= set(daemon.dag_ids()))
            for day in (1, 2):
                daemon.cli("dags", "trigger", "quick", "-l", "2024-01-0%dT00:00:00Z" % day, "-r", "q%d" % day, check=True)
                daemon.cli("dags", "trigger", "other", "-l", "2024-01-0%dT00:00:00Z" % day, "-r", "o%d" % day, check=True)
            wait_for(lambda: all(len(daemon.runs(d)) == 2 and all(r["state"] == "success" for r in daemon.runs(d))
                                 for d in ("quick", "other")), timeout=60)
            daemon.stop()
            queued = daemon.cli("tasks", "clear", "quick", "q1")
            self.assertIn("waits", queued.stderr)
            daemon.cli("db", "clean", "--clean-before-timestamp", later(), "--yes", check=True)
            self.assertEqual(sorted(r["run_id"] for r in daemon.runs("quick")), ["q1", "q2"])
            self.assertEqual([r["run_id"] for r in daemon.runs("other")], ["o2"])
        finally:
            daemon.cleanup()


class DbCleanInputTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False)  # not started: a home and the CLI
        self.daemon.cli("db", "migrate", check=True)

    def tearDown(self):
        self.daemon.cleanup()

    def test_without_yes_and_without_a_terminal_it_refuses(self):
        result = self.daemon.cli("db", "clean", "--clean-before-timestamp", "2024-01-01")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--yes", result.stderr)

    def test_bad_input_is_a_usage_error_that_says_what_is_wrong(self):
        cases = [
            (("--clean-before-timestamp", "yesterday"), "--clean-before-timestamp"),
            (("--clean-before-timestamp", "2024-13-01"), "--clean-before-timestamp"),
            (("--clean-before-timestamp", b"2024-01-01\xff"), "UTF-8"),
            (("--clean-before-timestamp", "9" * 10000), "--clean-before-timestamp"),
            (("--clean-before-timestamp", "2024-01-01", "--tables", "xcom"), "xcom"),
            (("--clean-before-timestamp", "2024-01-01", "--tables", "dag_runs"), "did you mean 'dag_run'"),
            (("--clean-before-timestamp", "2024-01-01", "--tables", "task_instance"), "dag_run"),
            (("--clean-before-timestamp", "2024-01-01", "--tables", ","), "names no table"),
            ((), "clean-before-timestamp"),
        ]
        for args, message in cases:
            with self.subTest(args=args[:4]):
                result = self.daemon.cli("db", "clean", "--dry-run", *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertNotIn("Traceback", result.stderr)

    def test_an_empty_database_has_nothing_to_clean(self):
        result = self.daemon.cli("db", "clean", "--clean-before-timestamp", "2030-01-01", "--yes")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("dag_run", result.stdout)


if __name__ == "__main__":
    unittest.main()
