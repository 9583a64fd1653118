"""Issue 15 against the real daemon, as an Airflow user would try it: run-id collisions and commits
that fail, renamed DAGs, backfills of unfinished intervals, clearing after a fix, pause, max_active_runs,
next-execution, mark success, and commands given while no daemon runs."""

import datetime
import json
import os
import signal
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, read_text, wait_for  # noqa: E402


def days_ago(n):
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=n)).strftime("%Y-%m-%d")


def daily_dag(dag_id, start, out, catchup="true"):
    return f"""
dag_id: {dag_id}
schedule: "@daily"
start_date: {start}
catchup: {catchup}
tasks:
  - task_id: work
    operator: bash
    bash_command: echo "{{{{ run_id }}}}" >> {out}
"""


MANUAL = """
dag_id: {dag_id}
tasks:
  - task_id: work
    operator: bash
    bash_command: echo "{{{{ run_id }}}}" >> {out}
"""


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False)
        self.out = os.path.join(self.daemon.home, "out")

    def tearDown(self):
        self.daemon.cleanup()

    def cli(self, *args, check=False):
        return self.daemon.cli(*args, check=check)

    def runs(self, dag_id):
        return json.loads(self.cli("dags", "list-runs", dag_id, "-o", "json", check=True).stdout)

    def wait_for_dag(self, dag_id):
        wait_for(lambda: dag_id in self.daemon.dag_ids())

    def wait_all_finished(self, dag_id, count, timeout=30):
        def done():
            runs = self.runs(dag_id)
            return runs if len(runs) >= count and all(r["state"] in ("success", "failed") for r in runs) else None
        return wait_for(done, timeout=timeout)[0]

    def database(self):
        return sqlite3.connect(os.path.join(self.daemon.home, "mayaflow.db"), timeout=10)


class RunIdCollisionTest(DaemonTest):
    def test_reserved_and_existing_run_ids_are_refused_and_the_scheduler_goes_on(self):
        self.daemon.write_dag("daily.yaml", daily_dag("daily", days_ago(3), self.out))
        self.daemon.start()
        self.wait_for_dag("daily")
        runs = self.wait_all_finished("daily", 3)
        next_fire = "scheduled__%sT00:00:00+00:00" % days_ago(0)
        for run_id in (next_fire, "backfill__2024-01-01T00:00:00+00:00", "asset_triggered__x", "dataset_triggered__y"):
            refused = self.cli("dags", "trigger", "daily", "-r", run_id)
            self.assertEqual(refused.returncode, 1, refused.stdout)
            self.assertIn("reserved for", refused.stderr)
        bad = self.cli("dags", "trigger", "daily", "-r", "no spaces please")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("not allowed", bad.stderr)
        existing = self.cli("dags", "trigger", "daily", "-r", runs[0]["run_id"])
        self.assertEqual(existing.returncode, 1)
        self.assertIn("reserved", existing.stderr)  # a scheduled run's id is reserved anyway
        self.cli("dags", "trigger", "daily", "-r", "mine", check=True)
        again = self.cli("dags", "trigger", "daily", "-r", "mine")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already has a run 'mine'", again.stderr)
        # The scheduler still commits: another trigger goes through and runs.
        created = self.cli("dags", "trigger", "daily", "-r", "mine_too", check=True)
        self.assertIn("Created run mine_too", created.stdout)
        wait_for(lambda: "mine_too" in read_text(self.out))
        self.assertNotIn("could not commit", self.daemon.read_log())

    def test_backfill_reprocessing_a_scheduled_run_then_restart_makes_no_second_run(self):
        self.daemon.write_dag("daily.yaml", daily_dag("daily", days_ago(4), self.out))
        self.daemon.start()
        self.wait_for_dag("daily")
        self.wait_all_finished("daily", 4)
        # Over the latest scheduled run: once relabelled `backfill`, it used to be made again.
        result = self.cli("dags", "backfill", "daily", "--from", days_ago(2), "--to", days_ago(1),
                          "--reprocess-behavior", "completed", check=True)
        self.assertIn("run again", result.stdout)
        wait_for(lambda: read_text(self.out).count("scheduled__%sT00:00:00+00:00" % days_ago(1)) == 2)
        self.wait_all_finished("daily", 4)
        self.daemon.stop()
        self.daemon.start()
        self.cli("dags", "trigger", "daily", "-r", "after_restart", check=True)
        wait_for(lambda: "after_restart" in read_text(self.out))
        runs = self.runs("daily")
        dates = [r["logical_date"] for r in runs]
        self.assertEqual(len(dates), len(set(dates)), runs)
        self.assertEqual(len(runs), 5)
        self.assertNotIn("UNIQUE", self.daemon.read_log())
        self.assertNotIn("could not commit", self.daemon.read_log())


class CommitFailureTest(DaemonTest):
    """A SQLite trigger makes every insert of a run of DAG 'victim' fail, as a full disk or a
    constraint would: the one decision that cannot be committed is isolated."""

    def inject_failure(self):
        with self.database() as db:
            db.execute("CREATE TRIGGER inject_failure BEFORE INSERT ON dag_run WHEN NEW.dag_id = 'victim' "
                       "BEGIN SELECT RAISE(ABORT, 'injected failure for victim'); END")

    def test_a_command_that_cannot_be_committed_fails_alone(self):
        steady_out = os.path.join(self.daemon.home, "steady.out")
        self.daemon.write_dag("victim.yaml", MANUAL.format(dag_id="victim", out=self.out))
        self.daemon.write_dag("steady.yaml", MANUAL.format(dag_id="steady", out=steady_out))
        self.daemon.start()
        self.wait_for_dag("victim")
        self.wait_for_dag("steady")
        self.inject_failure()
        for attempt in range(3):  # more than once: no wedge, each fails alone
            failed = self.cli("dags", "trigger", "victim", "-r", "v%d" % attempt)
            self.assertEqual(failed.returncode, 1, failed.stdout)
            self.assertIn("injected failure for victim", failed.stderr)
            self.assertNotIn("Created run", failed.stdout)
            self.assertEqual(self.runs("victim"), [])
            created = self.cli("dags", "trigger", "steady", "-r", "s%d" % attempt, check=True)
            self.assertIn("Created run s%d" % attempt, created.stdout)
        wait_for(lambda: sorted(read_text(steady_out).split()) == ["s0", "s1", "s2"])
        self.assertIsNone(self.daemon.process.poll())  # still running

    def test_a_failure_that_repeats_stops_the_daemon_with_a_message(self):
        self.daemon.start()
        self.inject_failure()
        self.daemon.write_dag("victim.yaml", daily_dag("victim", days_ago(2), self.out))
        code = self.daemon.process.wait(timeout=60)
        self.assertEqual(code, 1)
        log = self.daemon.read_log()
        self.assertIn("the scheduler stopped: 5 turns in a row could not commit", log)
        self.assertIn("injected failure for victim", log)

    def test_sigterm_stops_the_daemon_while_commits_fail(self):
        self.daemon.start()
        self.inject_failure()
        self.daemon.write_dag("victim.yaml", daily_dag("victim", days_ago(2), self.out))
        wait_for(lambda: "could not commit its decisions (1 of 5" in self.daemon.read_log())
        start = time.monotonic()
        self.assertIn(self.daemon.stop(signal.SIGTERM, timeout=15), (0, 1))  # 1 if the fifth failure came first
        self.assertLess(time.monotonic() - start, 15)


class LogicalDateTest(DaemonTest):
    def test_backfills_leave_out_intervals_that_have_not_ended(self):
        self.daemon.write_dag("daily.yaml", daily_dag("daily", days_ago(10), self.out, catchup="false"))
        self.daemon.start()
        self.wait_for_dag("daily")
        self.wait_all_finished("daily", 1)  # without catchup: yesterday's run only
        today = days_ago(0)
        dry = self.cli("dags", "backfill", "daily", "--from", today, "--to", today, "--dry-run", check=True)
        self.assertIn("would queue 0 run(s)", dry.stdout)
        self.assertNotIn("backfill__" + today, dry.stdout)
        self.assertIn("left alone: %sT00:00:00+00:00  its data interval ends at %sT00:00:00+00:00, which has not "
                      "passed yet" % (today, (datetime.date.fromisoformat(today) + datetime.timedelta(days=1))),
                      dry.stdout)
        wider = self.cli("dags", "backfill", "daily", "--from", days_ago(3), "--to", days_ago(-3), "--dry-run",
                         check=True).stdout
        self.assertIn("would queue 2 run(s) and leave 2 date(s) alone", wider)
        self.assertIn("backfill__%sT00:00:00+00:00" % days_ago(3), wider)
        self.assertIn("backfill__%sT00:00:00+00:00" % days_ago(2), wider)
        self.assertIn("left alone: %sT00:00:00+00:00  run scheduled__" % days_ago(1), wider)
        nothing = self.cli("dags", "backfill", "daily", "--from", today, "--to", today)
        self.assertEqual(nothing.returncode, 1)
        self.assertEqual(len(self.runs("daily")), 1)

    def test_a_logical_date_that_has_a_run_takes_no_second_one(self):
        self.daemon.write_dag("daily.yaml", daily_dag("daily", days_ago(3), self.out))
        self.daemon.start()
        self.wait_for_dag("daily")
        runs = self.wait_all_finished("daily", 3)
        for run in runs:
            refused = self.cli("dags", "trigger", "daily", "-l", run["logical_date"])
            self.assertEqual(refused.returncode, 1)
            self.assertIn("already has a run at logical date %s: '%s'" % (run["logical_date"], run["run_id"]),
                          refused.stderr)
        # A manual run's date is taken too, whatever its run id.
        self.cli("dags", "trigger", "daily", "-l", "2020-01-01T00:00:00+00:00", "-r", "first", check=True)
        again = self.cli("dags", "trigger", "daily", "-l", "2020-01-01T00:00:00+00:00", "-r", "second")
        self.assertEqual(again.returncode, 1)
        self.assertIn("'first'", again.stderr)
        self.assertEqual(len(self.runs("daily")), 4)
        # The database refuses it too, whoever writes.
        with self.assertRaises(sqlite3.IntegrityError):
            with self.database() as db:
                db.execute("INSERT INTO dag_run (dag_id, run_id, run_type, state, dag_version, logical_date, "
                           "run_after, queued_at) SELECT dag_id, 'copy', run_type, state, dag_version, logical_date, "
                           "run_after, queued_at FROM dag_run WHERE run_id = 'first'")


VERSIONED = """
dag_id: fixme
tasks:
  - task_id: step
    operator: bash
    bash_command: echo "{version} {{{{ run_id }}}}" >> {out}; [ {version} = fixed ]
"""


class ClearVersionTest(DaemonTest):
    def test_fix_the_file_then_clear_runs_the_fix(self):
        self.daemon.write_dag("fixme.yaml", VERSIONED.format(version="broken", out=self.out))
        self.daemon.start()
        self.wait_for_dag("fixme")
        self.cli("dags", "trigger", "fixme", "-r", "r1", check=True)
        self.cli("dags", "trigger", "fixme", "-r", "r2", "-l", "2024-01-01", check=True)
        self.wait_all_finished("fixme", 2)
        self.daemon.write_dag("fixme.yaml", VERSIONED.format(version="fixed", out=self.out))
        wait_for(lambda: json.loads(self.cli("dags", "list", "-o", "json", check=True).stdout)[0]["version"] == "2")
        cleared = self.cli("tasks", "clear", "fixme", "r1", "-f", check=True)
        self.assertIn("Cleared 1 task instance(s); they run with DAG version 2 (the newest; the run had version 1)",
                      cleared.stdout)
        wait_for(lambda: "fixed r1" in read_text(self.out))
        self.assertEqual([r["state"] for r in self.runs("fixme") if r["run_id"] == "r1"], ["success"])
        kept = self.cli("tasks", "clear", "fixme", "r2", "-f", "--keep-run-version", check=True)
        self.assertIn("they run with DAG version 1 (the run's own; --keep-run-version)", kept.stdout)
        wait_for(lambda: read_text(self.out).count("broken r2") == 2)
        self.wait_all_finished("fixme", 2)
        self.assertEqual(self.cli("tasks", "state", "fixme", "r2", "step", check=True).stdout.strip(), "failed")

    def test_a_backfill_reprocessing_failed_runs_uses_the_newest_version(self):
        dag = """
dag_id: fixme
schedule: "@daily"
start_date: {start}
catchup: true
tasks:
  - task_id: step
    operator: bash
    bash_command: echo "{version} {{{{ ds }}}}" >> {out}; [ {version} = fixed ]
"""
        self.daemon.write_dag("fixme.yaml", dag.format(start=days_ago(2), version="broken", out=self.out))
        self.daemon.start()
        self.wait_for_dag("fixme")
        self.wait_all_finished("fixme", 2)
        self.daemon.write_dag("fixme.yaml", dag.format(start=days_ago(2), version="fixed", out=self.out))
        wait_for(lambda: json.loads(self.cli("dags", "list", "-o", "json", check=True).stdout)[0]["version"] == "2")
        result = self.cli("dags", "backfill", "fixme", "--from", days_ago(2), "--to", days_ago(1),
                          "--reprocess-behavior", "failed", check=True)
        self.assertIn("Runs run again use the DAG's newest version", result.stdout)
        runs = self.wait_all_finished("fixme", 2)
        self.assertEqual([r["state"] for r in runs], ["success", "success"])
        self.assertIn("fixed %s" % days_ago(2), read_text(self.out))


class PauseTest(DaemonTest):
    def test_pausing_stops_a_running_run_from_queueing_tasks(self):
        flag = os.path.join(self.daemon.home, "go")
        self.daemon.write_dag("steps.yaml", f"""
dag_id: steps
tasks:
  - task_id: first
    operator: bash
    bash_command: while [ ! -f {flag} ]; do sleep 0.05; done; echo first >> {self.out}
  - task_id: second
    operator: bash
    depends_on: [first]
    bash_command: echo second >> {self.out}
""")
        self.daemon.start()
        self.wait_for_dag("steps")
        self.cli("dags", "trigger", "steps", "-r", "r", check=True)
        wait_for(lambda: self.cli("tasks", "state", "steps", "r", "first", check=True).stdout.strip() == "running")
        self.cli("dags", "pause", "steps", check=True)
        open(flag, "w").close()  # the running try finishes
        wait_for(lambda: self.cli("tasks", "state", "steps", "r", "first", check=True).stdout.strip() == "success")
        # Committed in the same turn as first's success: second was not queued.
        self.assertEqual(self.cli("tasks", "state", "steps", "r", "second", check=True).stdout.strip(), "scheduled")
        self.assertEqual(read_text(self.out).split(), ["first"])
        self.cli("dags", "unpause", "steps", check=True)
        wait_for(lambda: read_text(self.out).split() == ["first", "second"])
        self.assertEqual(self.wait_all_finished("steps", 1)[0]["state"], "success")


class MaxActiveRunsTest(DaemonTest):
    def test_a_manual_run_goes_next_instead_of_after_the_catchup(self):
        hold = os.path.join(self.daemon.home, "hold")
        self.daemon.write_dag("catchup.yaml", f"""
dag_id: catchup
schedule: "@daily"
start_date: {days_ago(15)}
catchup: true
max_active_runs: 1
tasks:
  - task_id: work
    operator: bash
    bash_command: while [ -f {hold} ]; do sleep 0.05; done; echo "{{{{ run_id }}}}" >> {self.out}
""")
        open(hold, "w").close()  # the first scheduled run waits until the manual run is queued
        self.daemon.start()
        self.wait_for_dag("catchup")
        wait_for(lambda: any(r["state"] == "running" for r in self.runs("catchup")))
        self.cli("dags", "trigger", "catchup", "-r", "by_hand", check=True)
        os.remove(hold)
        self.wait_all_finished("catchup", 16, timeout=60)
        order = read_text(self.out).split()
        self.assertEqual(len(order), 16)
        self.assertEqual(order[0], "scheduled__%sT00:00:00+00:00" % days_ago(15))
        self.assertEqual(order[1], "by_hand")  # not after the 15 missed intervals


class NextExecutionTest(DaemonTest):
    def test_next_execution_starts_after_the_runs_that_exist(self):
        self.daemon.write_dag("daily.yaml", daily_dag("daily", days_ago(3), self.out))
        fresh = self.cli("dags", "next-execution", "daily", "-S", self.daemon.dags, check=True).stdout.split()
        self.assertEqual(fresh, ["%sT00:00:00+00:00" % days_ago(3)])  # no runs yet: the start date
        self.daemon.start()
        self.wait_for_dag("daily")
        self.wait_all_finished("daily", 3)
        shown = self.cli("dags", "next-execution", "daily", "-n", "3", check=True).stdout.split()
        self.assertEqual(shown, ["%sT00:00:00+00:00" % days_ago(n) for n in (0, -1, -2)])
        # A date a manual run has taken is skipped, as the scheduler skips it.
        self.cli("dags", "trigger", "daily", "-l", "%sT00:00:00+00:00" % days_ago(-1), "-r", "ahead", check=True)
        shown = self.cli("dags", "next-execution", "daily", "-n", "2", check=True).stdout.split()
        self.assertEqual(shown, ["%sT00:00:00+00:00" % days_ago(n) for n in (0, -2)])
        # After a backfill further back, the latest run decides, not the start date.
        self.cli("dags", "backfill", "daily", "--from", days_ago(6), "--to", days_ago(5), check=True)
        shown = self.cli("dags", "next-execution", "daily", check=True).stdout.split()
        self.assertEqual(shown, ["%sT00:00:00+00:00" % days_ago(0)])


class MarkTest(DaemonTest):
    def test_marking_a_failed_task_success_runs_its_downstream(self):
        self.daemon.write_dag("marked.yaml", f"""
dag_id: marked
tasks:
  - task_id: extract
    operator: bash
    bash_command: exit 1
  - task_id: load
    operator: bash
    depends_on: [extract]
    bash_command: echo load >> {self.out}
  - task_id: report
    operator: bash
    depends_on: [load]
    bash_command: echo report >> {self.out}
""")
        self.daemon.start()
        self.wait_for_dag("marked")
        self.cli("dags", "trigger", "marked", "-r", "r", check=True)
        self.assertEqual(self.wait_all_finished("marked", 1)[0]["state"], "failed")
        self.assertEqual(self.cli("tasks", "state", "marked", "r", "report", check=True).stdout.strip(),
                         "upstream_failed")
        marked = self.cli("tasks", "mark", "marked", "r", "extract", "success", check=True)
        self.assertIn("Marked extract success; cleared 2 failed or upstream_failed task(s) downstream", marked.stdout)
        wait_for(lambda: read_text(self.out).split() == ["load", "report"])
        self.assertEqual(self.wait_all_finished("marked", 1)[0]["state"], "success")


class SmallerTest(DaemonTest):
    def test_list_runs_of_an_unknown_dag_fails(self):
        nothing = self.cli("dags", "list-runs", "nosuch")  # no database at all yet
        self.assertEqual(nothing.returncode, 1)
        self.assertIn("no DAG 'nosuch'", nothing.stderr)
        self.daemon.write_dag("m.yaml", MANUAL.format(dag_id="m", out=self.out))
        self.daemon.start()
        self.wait_for_dag("m")
        unknown = self.cli("dags", "list-runs", "nosuch")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("no DAG 'nosuch'", unknown.stderr)
        self.assertEqual(self.runs("m"), [])  # a known DAG without runs is fine

    def test_commands_without_a_daemon_fail_at_once_when_they_can_be_checked(self):
        self.daemon.write_dag("m.yaml", MANUAL.format(dag_id="m", out=self.out))
        self.daemon.start()
        self.wait_for_dag("m")
        self.cli("dags", "trigger", "m", "-r", "taken", check=True)
        self.daemon.stop()
        checks = [
            (("dags", "trigger", "nosuch"), "no DAG with dag_id 'nosuch'"),
            (("dags", "trigger", "m", "-c", "{not json"), "--conf must be a JSON object"),
            (("dags", "trigger", "m", "-r", "scheduled__2024-01-01"), "reserved for scheduled runs"),
            (("dags", "trigger", "m", "-r", "bad id"), "not allowed"),
            (("dags", "trigger", "m", "-r", "taken"), "already has a run 'taken'"),
            (("dags", "pause", "nosuch"), "no DAG 'nosuch'"),
            (("tasks", "clear", "m", "no_such_run"), "has no run 'no_such_run'"),
            (("tasks", "mark", "m", "taken", "work", "running"), "success, failed or skipped"),
            (("tasks", "mark", "m", "taken", "nope", "success"), "has no task 'nope'"),
            (("dags", "backfill", "nosuch", "--from", "2024-01-01", "--to", "2024-01-02"), "no DAG"),
            (("backfills", "pause", "42"), "there is no backfill 42"),
        ]
        for args, message in checks:
            result = self.cli(*args)
            self.assertEqual(result.returncode, 1, (args, result.stdout, result.stderr))
            self.assertIn(message, result.stderr, args)
            self.assertNotIn("waits and runs when", result.stderr, args)
        with self.database() as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM command WHERE state = 'pending'").fetchone()[0], 0)

        # A trigger that passes the checks waits for a scheduler, with the logical date it was typed at.
        before = datetime.datetime.now(datetime.timezone.utc)
        queued = self.cli("dags", "trigger", "m", "-r", "later", check=True)
        self.assertIn("waits and runs when", queued.stderr)
        typed = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(1.1)  # a scheduler that starts later must not move it
        self.daemon.start()
        wait_for(lambda: "later" in read_text(self.out), timeout=60)  # the daemon starts slower under a loaded ctest -j
        run = [r for r in self.runs("m") if r["run_id"] == "later"][0]
        logical = datetime.datetime.fromisoformat(run["logical_date"])
        self.assertGreaterEqual(logical, before)
        self.assertLessEqual(logical, typed)

    def test_clearing_a_running_task_restarts_it_and_says_so(self):
        self.daemon.write_dag("slow.yaml", f"""
dag_id: slow
tasks:
  - task_id: slow
    operator: bash
    bash_command: echo "try {{{{ ti.try_number }}}}" >> {self.out}; [ {{{{ ti.try_number }}}} -gt 1 ] || sleep 60
""")
        self.daemon.start()
        self.wait_for_dag("slow")
        self.cli("dags", "trigger", "slow", "-r", "r", check=True)
        wait_for(lambda: "try 1" in read_text(self.out))
        cleared = self.cli("tasks", "clear", "slow", "r", "-t", "slow", check=True)
        self.assertIn("Cleared 1 task instance(s)", cleared.stdout)
        self.assertIn("1 of them was running (slow): the try was ended and the task runs again", cleared.stdout)
        wait_for(lambda: "try 2" in read_text(self.out))
        self.assertEqual(self.wait_all_finished("slow", 1)[0]["state"], "success")
        nothing = self.cli("tasks", "clear", "slow", "r", "-f", check=True)
        self.assertIn("Nothing to clear", nothing.stdout)

    def test_a_task_bigger_than_its_pool_waits_with_a_message(self):
        self.daemon.write_dag("big.yaml", f"""
dag_id: big
tasks:
  - task_id: huge
    operator: bash
    pool: small
    pool_slots: 3
    bash_command: echo huge >> {self.out}
""")
        self.daemon.start()
        self.cli("pools", "set", "small", "1", check=True)
        self.wait_for_dag("big")
        self.cli("dags", "trigger", "big", "-r", "r", check=True)

        def message():
            with self.database() as db:
                row = db.execute("SELECT t.state, t.message FROM task_instance t JOIN dag_run r ON r.id = t.run_pk "
                                 "WHERE r.dag_id = 'big'").fetchone()
            return row if row and row[1] else None
        state, text = wait_for(message)[0]
        self.assertEqual(state, "scheduled")
        self.assertIn("needs 3 slots of pool 'small', which has 1", text)
        self.assertIn("needs 3 slots of pool 'small', which has 1", self.daemon.read_log())
        self.cli("pools", "set", "small", "3", check=True)
        wait_for(lambda: "huge" in read_text(self.out))


class RenamedDagTest(DaemonTest):
    def test_a_renamed_dag_id_retires_the_old_one(self):
        path = self.daemon.write_dag("sales.yaml", daily_dag("sales_v1", days_ago(3), self.out, catchup="false"))
        self.daemon.start()
        self.wait_for_dag("sales_v1")
        self.wait_all_finished("sales_v1", 1)
        self.daemon.write_dag("sales.yaml", daily_dag("sales_v2", days_ago(3), self.out, catchup="false"))
        wait_for(lambda: self.daemon.dag_ids() == ["sales_v2"])
        refused = self.cli("dags", "trigger", "sales_v1")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("DAG 'sales_v1' is not active: its file %s now defines 'sales_v2'" % path, refused.stderr)
        backfill = self.cli("dags", "backfill", "sales_v1", "--from", days_ago(2), "--to", days_ago(1))
        self.assertEqual(backfill.returncode, 1)
        self.assertIn("is not active", backfill.stderr)
        self.cli("dags", "trigger", "sales_v2", "-r", "v2_by_hand", check=True)
        wait_for(lambda: "v2_by_hand" in read_text(self.out))
        # After a restart the old DAG is still retired, and its history is kept.
        self.daemon.stop()
        self.daemon.start()
        self.assertEqual(self.daemon.dag_ids(), ["sales_v2"])
        self.assertEqual(len(self.runs("sales_v1")), 1)
        self.assertEqual(self.cli("dags", "trigger", "sales_v1").returncode, 1)
        listed = json.loads(self.cli("dags", "list", "--include-inactive", "-o", "json", check=True).stdout)
        self.assertEqual(sorted(r["dag_id"] for r in listed), ["sales_v1", "sales_v2"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
