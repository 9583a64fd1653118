"""The DAG folder scenario of a new user: examples load, new files appear without a restart,
broken files show file, line and reason while every other DAG stays loaded."""

import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

GOOD_DAG = """
description: written while the daemon runs
schedule: "0 3 * * MON-FRI"
timezone: Asia/Tokyo
start_date: 2024-03-01
tasks:
  - task_id: hello
    operator: bash
    bash_command: echo hello {{ ds }}
"""

BROKEN_DAG = """
schedule: "@daily"
tasks:
  - task_id: a
    operator: bash
    bash_command: echo a
  - task_id: b
    operator: bash
    bash_command: echo b
    depends_on: [c]
"""


class DagFolderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def test_1_examples_are_loaded_at_start(self):
        ids = self.daemon.dag_ids()
        for expected in ["education_layers", "hello_mayaflow", "kakeibo_daily"]:
            self.assertIn(expected, ids)
        self.assertEqual(self.daemon.import_errors(), [])

    def test_2_new_file_shows_up_without_restart(self):
        self.daemon.write_dag("new_dag.yaml", GOOD_DAG)
        _, seconds = wait_for(lambda: "new_dag" in self.daemon.dag_ids())
        print("new DAG listed after %.2f s" % seconds, file=sys.stderr)

    def test_3_broken_file_reports_line_and_keeps_others(self):
        path = self.daemon.write_dag("broken_dag.yaml", BROKEN_DAG)
        errors, seconds = wait_for(lambda: self.daemon.import_errors())
        print("import error listed after %.2f s" % seconds, file=sys.stderr)
        self.assertEqual(errors[0]["filepath"], path)
        self.assertIn(path + ":10:17: tasks[1].depends_on: depends on 'c'", errors[0]["error"])
        table = self.daemon.cli("dags", "list-import-errors", check=True).stdout
        self.assertIn("broken_dag.yaml:10:17:", table)
        self.assertIn("hello_mayaflow", self.daemon.dag_ids())
        self.assertNotIn("broken_dag", self.daemon.dag_ids())
        # Fixing the file clears the error and loads the DAG.
        self.daemon.write_dag("broken_dag.yaml", BROKEN_DAG.replace("[c]", "[a]"))
        wait_for(lambda: "broken_dag" in self.daemon.dag_ids())
        self.assertEqual(self.daemon.import_errors(), [])

    def test_4_deleted_file_deactivates_the_dag_without_pausing_it(self):
        path = self.daemon.write_dag("short_lived.yaml", GOOD_DAG)
        wait_for(lambda: "short_lived" in self.daemon.dag_ids())
        os.remove(path)
        wait_for(lambda: "short_lived" not in self.daemon.dag_ids())
        listed = json.loads(self.daemon.cli("dags", "list", "--include-inactive", "-o", "json", check=True).stdout)
        kept = [row for row in listed if row["dag_id"] == "short_lived"]
        self.assertEqual(len(kept), 1)
        self.assertEqual(kept[0]["is_paused"], "False")  # Airflow deactivates; the pause state stays the user's
        self.assertFalse(self.daemon.api_dags()["short_lived"]["is_active"])

    def test_5_editing_an_included_file_reloads_the_dag(self):
        os.makedirs(os.path.join(self.daemon.dags, "sql"), exist_ok=True)
        self.daemon.write_dag("sql/step.sh", "echo one\n")
        self.daemon.write_dag("with_include.yaml",
                              "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: sql/step.sh\n")
        wait_for(lambda: "with_include" in self.daemon.dag_ids())
        version = lambda: [r for r in json.loads(self.daemon.cli("dags", "list", "-o", "json", check=True).stdout)
                           if r["dag_id"] == "with_include"][0]["version"]
        self.assertEqual(version(), "1")
        self.daemon.write_dag("sql/step.sh", "echo two\n")
        wait_for(lambda: version() == "2")

    def test_6_api_and_page(self):
        status, content_type, body = self.daemon.http("/api/v1/dags")
        self.assertEqual(status, 200)
        self.assertEqual(content_type, "application/json")
        dags = json.loads(body)
        self.assertGreaterEqual(dags["total_entries"], 3)
        status, _, body = self.daemon.http("/api/v1/dags/hello_mayaflow")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["timezone"], "Asia/Tokyo")
        status, content_type, body = self.daemon.http("/api/v1/dags/nope")
        self.assertEqual(status, 404)
        self.assertEqual(content_type, "application/problem+json")
        self.assertIn("no DAG with dag_id 'nope'", json.loads(body)["detail"])
        status, _, body = self.daemon.http("/api/v1/dags?limit=abc")
        self.assertEqual(status, 400)
        self.assertIn("limit", json.loads(body)["detail"])
        status, _, body = self.daemon.http("/api/v1/importErrors")
        self.assertEqual(status, 200)
        status, _, body = self.daemon.http("/api/v1/health")
        self.assertEqual(json.loads(body)["metadatabase"]["status"], "healthy")
        status, content_type, body = self.daemon.http("/")  # the web UI's page: it asks the API for the DAGs
        self.assertEqual(status, 200)
        self.assertIn('src="/ui/js/app.js"', body)
        status, _, _ = self.daemon.http("/api/v1/dags", method="DELETE")
        self.assertEqual(status, 405)

    def test_7_bad_requests_do_not_hurt_the_daemon(self):
        import socket
        for raw in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                    b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01\x02\x03"]:
            with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5) as s:
                s.sendall(raw)
                try:
                    s.recv(1000)
                except OSError:
                    pass
        status, _, _ = self.daemon.http("/api/v1/health")
        self.assertEqual(status, 200)

    def test_8_next_execution_and_render(self):
        result = self.daemon.cli("dags", "next-execution", "hello_mayaflow", "-n", "3", check=True)
        lines = result.stdout.strip().splitlines()
        self.assertEqual(len(lines), 3)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT03:00:00\+09:00$")
        result = self.daemon.cli("tasks", "render", "kakeibo_daily", "build_monthly_mart", "2024-02-10", check=True)
        self.assertIn("# property: sql", result.stdout)
        self.assertIn("DATE '2024-02-10' AS day", result.stdout)


class StopTest(unittest.TestCase):
    def test_sigterm_stops_cleanly(self):
        daemon = Daemon(copy_examples=False).start()
        try:
            self.assertEqual(daemon.stop(signal.SIGTERM), 0)
        finally:
            daemon.cleanup()

    def test_sighup_stops_as_sigterm_does(self):
        """A closed terminal or ssh session: drained and stopped with status 0, not killed."""
        daemon = Daemon(copy_examples=False).start()
        try:
            self.assertEqual(daemon.stop(signal.SIGHUP), 0)
            self.assertIn("received SIGHUP, stopping", daemon.read_log())
        finally:
            daemon.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
