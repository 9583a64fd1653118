"""The daemon's hold on its database: a second scheduler cannot start on it, and a database file
deleted or replaced under a running daemon stops it with a clear error instead of letting it write
into a file nobody reads. /health tells the scheduler's real heartbeat."""

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, Daemon, wait_for  # noqa: E402


class DatabaseLockTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False).start()
        self.database = os.path.join(self.daemon.home, "mayaflow.db")

    def tearDown(self):
        self.daemon.cleanup()

    def second_scheduler(self):
        return subprocess.run([MAYAFLOW, "scheduler", "--dags-folder", self.daemon.dags], env=self.daemon.env,
                              capture_output=True, text=True, timeout=30)

    def test_second_scheduler_refused_even_when_lock_files_are_removed(self):
        result = self.second_scheduler()
        self.assertEqual(result.returncode, 1)
        self.assertIn("another mayaflow scheduler is running", result.stderr)
        for name in os.listdir(self.daemon.home):
            if name.endswith(".lock"):
                os.remove(os.path.join(self.daemon.home, name))
        result = self.second_scheduler()
        self.assertEqual(result.returncode, 1)
        self.assertIn("another mayaflow scheduler is running", result.stderr)

    def test_health_reports_a_recent_heartbeat(self):
        # Right after start-up the first turn may not have committed yet (then 503, "not committed a turn yet").
        status, _, body = wait_for(lambda: (lambda answer: answer if answer[0] == 200 else None)(
            self.daemon.http("/health")))[0]
        answer = json.loads(body)
        self.assertEqual(status, 200, body)
        self.assertEqual(answer["metadatabase"]["status"], "healthy")
        self.assertEqual(answer["scheduler"]["status"], "healthy")
        self.assertIsNotNone(answer["scheduler"]["latest_scheduler_heartbeat"])

    def wait_for_exit(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.daemon.process.poll()
            if code is not None:
                return code
            time.sleep(0.05)
        self.fail("the daemon kept running after its database was lost:\n" + self.daemon.read_log())

    def test_deleted_database_stops_the_daemon(self):
        os.remove(self.database)
        code = self.wait_for_exit()
        self.assertNotEqual(code, 0)
        self.assertIn("was deleted or moved away", self.daemon.read_log())

    def test_moved_database_stops_the_daemon(self):
        os.rename(self.database, self.database + ".old")
        code = self.wait_for_exit()
        self.assertNotEqual(code, 0)
        self.assertIn("was deleted or moved away", self.daemon.read_log())

    def test_replaced_database_stops_the_daemon(self):
        shutil.copy(self.database, self.database + ".copy")
        os.replace(self.database + ".copy", self.database)
        code = self.wait_for_exit()
        self.assertNotEqual(code, 0)
        self.assertIn("was replaced by another file", self.daemon.read_log())

    def test_deleted_write_ahead_log_stops_the_daemon_and_keeps_its_commits(self):
        self.daemon.write_dag("manual.yaml", "dag_id: manual\ntasks:\n  - task_id: a\n    operator: empty\n")
        wait_for(lambda: "manual" in self.daemon.dag_ids(), timeout=30)
        # A run triggered just before: it is in the -wal file the daemon still has open.
        result = self.daemon.cli("dags", "trigger", "manual", "-r", "before_the_wal_went")
        self.assertEqual(result.returncode, 0, result.stderr)
        os.remove(self.database + "-wal")
        code = self.wait_for_exit()
        self.assertNotEqual(code, 0)
        self.assertIn("-wal file", self.daemon.read_log())
        # Stopping, the daemon wrote its changes into the database file: nothing committed is lost.
        listed = self.daemon.cli("dags", "list-runs", "manual")
        self.assertIn("before_the_wal_went", listed.stdout, listed.stderr)

    def test_a_cli_command_right_after_the_log_went_loses_nothing(self):
        self.daemon.write_dag("work.yaml", "dag_id: work\ntasks:\n  - task_id: a\n    operator: bash\n"
                                           "    bash_command: sleep 0.2\n")
        wait_for(lambda: "work" in self.daemon.dag_ids(), timeout=30)
        self.daemon.cli("dags", "trigger", "work", "-r", "finished", check=True)
        wait_for(lambda: "success" in self.daemon.cli("dags", "list-runs", "work").stdout, timeout=30)
        # A restart on the same database: what it commits now lives in its log, not yet in the file.
        self.daemon.stop()
        self.daemon.start()
        self.daemon.cli("dags", "trigger", "work", "-r", "committed", check=True)
        os.remove(self.database + "-wal")
        os.remove(self.database + "-shm")
        during = self.daemon.cli("dags", "trigger", "work", "-r", "during")
        if during.returncode != 0:
            self.assertTrue("is missing while a scheduler runs" in during.stderr or
                            "did not answer" not in during.stderr, during.stderr)
        self.assertNotEqual(self.wait_for_exit(), 0)
        runs = self.daemon.cli("dags", "list-runs", "work", "-o", "json", check=True).stdout
        states = {run["run_id"]: run["state"] for run in json.loads(runs)}
        self.assertEqual(states.get("finished"), "success", runs)
        self.assertIn("committed", states, runs)

    def test_truncated_database_stops_the_daemon(self):
        with open(self.database, "r+b") as f:
            f.truncate(0)
        code = self.wait_for_exit()
        self.assertNotEqual(code, 0)
        self.assertIn("truncated or written over", self.daemon.read_log())


if __name__ == "__main__":
    unittest.main()
