"""Fault injection, the store: the daemon's writes to its SQLite files (mayaflow.db, -wal, -journal)
fail at random points — disk full (ENOSPC), I/O error (EIO, also on fsync) — and another process
holds an exclusive lock on the database for some seconds, each during a run of 24 bash tasks. After
each fault: /health said the scheduler was unhealthy while it lasted, the run ends in success once the
fault clears, every task ran exactly once, and `PRAGMA integrity_check` is ok. A fault that does not
clear for seconds (every write fails) leaves the daemon unhealthy until it clears, then the run
finishes, and a DAG file saved meanwhile (not recorded then) is read again and appears; or, if the
scheduler gives up (five failed turns in a row), the daemon stops with exit code
1 and a message that says why, and finishes the run after a restart — again with every task once.
While every write fails /health never calls the scheduler healthy; an idle daemon whose disk fills is
called unhealthy within a heartbeat (5 s) and healthy again once it has room."""

import collections
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import STORE_SUFFIXES, FaultDaemon, appending_dag, read_text, wait_for  # noqa: E402

CHAINS, LENGTH = 4, 6


class StoreFaultTest(unittest.TestCase):
    def setUp(self):
        self.daemon = FaultDaemon()
        self.out = os.path.join(self.daemon.home, "out.txt")
        self.daemon.write_dag("store.yaml", appending_dag(self.out, CHAINS, LENGTH).replace(
            "bash_command: echo", "bash_command: sleep 0.1; echo {{ run_id }}"))
        self.daemon.start()

    def tearDown(self):
        self.daemon.clear_faults()
        self.daemon.cleanup()

    def ran(self, run_id):
        lines = [line.split() for line in read_text(self.out).splitlines()]
        return collections.Counter(task for run, task in lines if run == run_id)

    def check_run(self, run_id, timeout=60):
        state = self.daemon.wait_for_run("store", run_id, timeout=timeout)
        states = self.daemon.task_states("store", run_id)
        self.assertEqual(state, "success", states)
        self.assertEqual(set(states.values()), {"success"})
        counts = self.ran(run_id)
        self.assertEqual(len(counts), CHAINS * LENGTH, "tasks that never ran")
        self.assertEqual([t for t, n in counts.items() if n != 1], [], "tasks that ran more than once")
        self.assertEqual(self.daemon.integrity(), "ok")

    def unhealthy_while(self, seconds, flips=None):
        """Polls /health for `seconds`; the problems it reported (the scheduler's and the DAG processor's).
        With a list as `flips`, adds to it each answer that called the scheduler healthy after an
        answer had called it unhealthy."""
        problems = set()
        seen_unhealthy = False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            health = self.daemon.health()
            for part in ("scheduler", "dag_processor"):
                if health.get(part, {}).get("status") == "unhealthy":
                    problems.add(health[part].get("detail"))
            scheduler = health.get("scheduler", {}).get("status")
            if flips is not None and seen_unhealthy and scheduler == "healthy":
                flips.append(health["scheduler"])
            seen_unhealthy = seen_unhealthy or scheduler == "unhealthy"
            time.sleep(0.1)
        return problems

    def assert_reported(self, error, problems):
        """/health named this database error (with the statement it came from after it)."""
        self.assertTrue([p for p in problems if p and p.startswith(error)], "%r not among %r" % (error, problems))

    def random_write_faults(self, run_id, **faults):
        hits = self.daemon.fault_hits()
        self.daemon.trigger("store", run_id)
        self.daemon.set_faults(suffix=list(STORE_SUFFIXES), **faults)
        problems = self.unhealthy_while(2.5)
        self.daemon.clear_faults()
        self.assertGreater(self.daemon.fault_hits(), hits, "the fault was never hit")
        self.check_run(run_id)
        self.assertIsNone(self.daemon.process.poll(), "the daemon stopped")
        return problems

    def test_store_faults(self):
        problems = self.random_write_faults("disk_full", write="ENOSPC", probability=0.3)
        self.assert_reported("database error: database or disk is full", problems)

        problems = self.random_write_faults("io_error", write="EIO", sync="EIO", probability=0.5)
        self.assert_reported("database error: disk I/O error", problems)

        # Locked: another process holds the write lock, first for less than the busy timeout (5 s,
        # the daemon waits), then for longer (its turns fail until the lock is let go).
        for run_id, held in (("locked_briefly", 2), ("locked_long", 6.5)):
            self.daemon.trigger("store", run_id)
            locked = threading.Event()

            def hold_lock():
                connection = sqlite3.connect(self.daemon.database, timeout=30, isolation_level=None)
                connection.execute("BEGIN EXCLUSIVE")
                locked.set()
                time.sleep(held)
                connection.execute("ROLLBACK")
                connection.close()

            holder = threading.Thread(target=hold_lock)
            holder.start()
            self.assertTrue(locked.wait(30))
            problems = self.unhealthy_while(held + 1)
            holder.join()
            if held > 5:
                self.assert_reported("database error: database is locked", problems)
            self.check_run(run_id)
            self.assertIsNone(self.daemon.process.poll(), "the daemon stopped")

        # A disk that stays full for longer than the scheduler's retries (250 ms doubling, five turns
        # in a row): the daemon either waits, unhealthy, and carries on once the disk has room, or
        # stops with exit code 1 and a message that says why, and finishes the run after a restart.
        self.daemon.trigger("store", "full_for_long")
        wait_for(lambda: self.ran("full_for_long"), timeout=30, interval=0.05)
        self.daemon.set_faults(suffix=list(STORE_SUFFIXES), write="ENOSPC")
        # A DAG file saved meanwhile cannot be recorded: it is read again until it can.
        self.daemon.write_dag("late.yaml", "dag_id: late\ntasks:\n  - task_id: t\n    operator: empty\n")
        flips = []
        problems = self.unhealthy_while(6, flips)
        self.daemon.clear_faults()
        self.assert_reported("database error: database or disk is full", problems)
        # A turn with nothing to write touches no file: it must not make a scheduler that cannot write
        # look healthy between its failing turns.
        self.assertEqual(flips, [], "the scheduler was called healthy while every write failed")
        self.assertTrue([p for p in problems if p.startswith("could not record") and p.endswith("late.yaml in the database")],
                        problems)
        code = self.daemon.process.poll()
        print("a disk full for 6 s: the daemon %s" % ("kept running" if code is None else "stopped (%d)" % code),
              file=sys.stderr)
        if code is not None:
            log = self.daemon.read_log()
            self.assertEqual(code, 1, log[-3000:])
            self.assertIn("turns in a row could not commit their decisions to the database", log)
            self.assertEqual(self.daemon.integrity(), "ok")
            self.daemon.start()
        self.check_run("full_for_long")
        wait_for(lambda: "late" in self.daemon.api_dags(), timeout=20, interval=0.2)
        check = self.daemon.cli("db", "check")
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("integrity check ok", check.stdout)

    def test_full_disk_while_idle(self):
        # Nothing to do: no turn writes, so the daemon learns of the full disk from its heartbeat's
        # write (every 5 s), and that it has room again from the next one (every 1 s meanwhile).
        wait_for(lambda: self.daemon.health().get("scheduler", {}).get("status") == "healthy", timeout=30)
        self.daemon.set_faults(suffix=list(STORE_SUFFIXES), write="ENOSPC")
        started = time.monotonic()
        wait_for(lambda: self.daemon.health().get("scheduler", {}).get("status") == "unhealthy", timeout=12,
                 interval=0.1)
        noticed = time.monotonic() - started
        health = self.daemon.health()
        self.assertTrue(health["scheduler"]["detail"].startswith("database error: database or disk is full"), health)
        status, _, _ = self.daemon.http("/health", auth=False)
        self.assertEqual(status, 503)
        self.daemon.clear_faults()
        cleared = time.monotonic()
        wait_for(lambda: self.daemon.health().get("scheduler", {}).get("status") == "healthy", timeout=10,
                 interval=0.1)
        print("an idle daemon's full disk: unhealthy after %.1f s, healthy again %.1f s after it had room"
              % (noticed, time.monotonic() - cleared), file=sys.stderr)
        self.daemon.trigger("store", "after_idle_fault")
        self.check_run("after_idle_fault")


if __name__ == "__main__":
    unittest.main(verbosity=2)
