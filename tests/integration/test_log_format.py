"""log_format: json makes the daemon's own log one JSON object per line — every line, including those
about a DAG file whose name and text are not UTF-8, and none of them holding a connection's password."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

SECRET = "s3cret-Pa55word-for-the-log-test"


class LogFormatTest(unittest.TestCase):
    def tearDown(self):
        self.daemon.cleanup()

    def start(self, env):
        self.daemon = Daemon(copy_examples=False, env=env)
        self.daemon.write_dag(b"broken-\xff\xfe.yaml", b"schedule: [\xff\n  tasks: {")
        self.daemon.write_dag("fine.yaml", "schedule: null\nstart_date: 2024-01-01\ntasks:\n"
                                           "  - task_id: hello\n    operator: bash\n    bash_command: echo hi\n")
        self.daemon.start()
        wait_for(lambda: len(self.daemon.import_errors()) == 1, timeout=30)
        self.daemon.stop()
        return self.daemon.read_log()

    def test_json_lines(self):
        text = self.start({"MAYAFLOW_LOG_FORMAT": "json",
                           "AIRFLOW_CONN_WAREHOUSE": "postgres://etl:%s@db.internal:5432/dw" % SECRET})
        lines = [line for line in text.split("\n") if line]
        self.assertGreater(len(lines), 3, text)
        records = []
        for number, line in enumerate(lines, 1):
            try:
                records.append(json.loads(line))
            except ValueError as error:
                self.fail("line %d of the daemon's log is not JSON (%s): %r" % (number, error, line))
        for record in records:
            self.assertEqual(sorted(record), ["level", "logger", "message", "thread", "timestamp"], record)
            self.assertIn(record["level"], ("trace", "debug", "info", "warning", "error", "critical"))
            self.assertRegex(record["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertTrue(any("broken-" in r["message"] and r["level"] in ("warning", "error") for r in records),
                        "no line about the broken DAG file:\n" + text)
        self.assertTrue(any("stopping" in r["message"] for r in records), text)
        self.assertNotIn(SECRET, text)

    def test_the_task_supervisor_writes_json_lines_too(self):
        """The supervisor shares the daemon's stderr: what it says is JSON as well. A task that puts a
        folder where its exit file goes makes it say that the status cannot be recorded."""
        self.daemon = Daemon(copy_examples=False, env={"MAYAFLOW_LOG_FORMAT": "json"})
        self.daemon.write_dag("unrecorded.yaml", "schedule: null\nstart_date: 2024-01-01\ntasks:\n"
                                                 "  - task_id: a\n    operator: bash\n    retries: 0\n"
                                                 "    bash_command: rm \"$MAYAFLOW_EXIT_FILE\" && mkdir \"$MAYAFLOW_EXIT_FILE\"\n")
        self.daemon.start()
        status, _, body = self.daemon.http("/api/v1/dags/unrecorded/dagRuns", method="POST", body=json.dumps({}))
        self.assertEqual(status, 200, body)
        wait_for(lambda: any(run["state"] == "failed" for run in self.daemon.runs("unrecorded")), timeout=30)
        self.daemon.stop()
        text = self.daemon.read_log()
        records = []
        for number, line in enumerate([line for line in text.split("\n") if line], 1):
            try:
                records.append(json.loads(line))
            except ValueError as error:
                self.fail("line %d of the daemon's log is not JSON (%s): %r" % (number, error, line))
        said = [r for r in records if r["message"].startswith("task supervisor: cannot record exit status 0")]
        self.assertEqual(len(said), 1, text)
        self.assertEqual(said[0]["level"], "error")

    def test_text_stays_the_default(self):
        text = self.start({})
        first = text.split("\n")[0]
        self.assertRegex(first, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ")
        self.assertRaises(ValueError, json.loads, first)

    def test_a_wrong_value_stops_the_daemon_with_the_variable_named(self):
        self.daemon = Daemon(copy_examples=False, env={"MAYAFLOW_LOG_FORMAT": "xml"})
        result = self.daemon.cli("standalone", "--port", "0")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("MAYAFLOW_LOG_FORMAT: log_format must be 'text' or 'json'", result.stderr)


if __name__ == "__main__":
    unittest.main()
