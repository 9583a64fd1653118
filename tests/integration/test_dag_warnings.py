"""Warnings about DAGs that load: a cron expression Airflow and classic crontab read differently, a
template name Airflow 3 removed. `dags validate` prints them and exits 0; the daemon keeps them
(`dags list-warnings`, `/api/v1/dagWarnings`, the DAG's details) until the file changes."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

ODD_DAYS_OR_MONDAYS = """\
schedule: "0 0 */2 * 1"
start_date: 2024-01-01
tasks:
  - task_id: report
    operator: bash
    bash_command: echo "{{ next_ds }}"
"""

PLAIN = """\
schedule: "0 3 * * *"
start_date: 2024-01-01
tasks:
  - task_id: report
    operator: bash
    bash_command: echo "{{ ds }}"
"""


class DagWarningsTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False)
        self.path = self.daemon.write_dag("odd_days.yaml", ODD_DAYS_OR_MONDAYS)
        self.daemon.start()

    def tearDown(self):
        self.daemon.cleanup()

    def warnings(self):
        result = self.daemon.cli("dags", "list-warnings", "-o", "json", check=True)
        return json.loads(result.stdout)

    def test_validate_prints_warnings_and_exits_zero(self):
        result = self.daemon.cli("dags", "validate", self.path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("warning:", result.stderr)
        self.assertIn("Airflow runs '0 0 */2 * 1' on odd days of the month or on Mondays", result.stderr)
        self.assertIn("next_ds", result.stderr)

    def test_daemon_keeps_the_warnings_until_the_file_changes(self):
        warnings, _ = wait_for(self.warnings)
        messages = " ".join(w["message"] for w in warnings)
        self.assertTrue(all(w["dag_id"] == "odd_days" for w in warnings))
        self.assertIn("odd_days.yaml:1:", messages)
        self.assertIn("classic crontab runs it only on odd days", messages)
        self.assertIn("data_interval_end", messages)  # next_ds's Airflow 3 replacement

        status, _, body = self.daemon.http("/api/v1/dagWarnings?dag_id=odd_days")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["total_entries"], len(warnings))
        status, _, body = self.daemon.http("/api/v1/dags/odd_days")
        self.assertEqual(len(json.loads(body)["warnings"]), len(warnings))

        errors = self.daemon.cli("dags", "list-import-errors")
        self.assertIn("dags list-warnings", errors.stderr)

        self.daemon.write_dag("odd_days.yaml", PLAIN)
        wait_for(lambda: self.warnings() == [])
        status, _, body = self.daemon.http("/api/v1/dags/odd_days")
        self.assertEqual(json.loads(body)["warnings"], [])


if __name__ == "__main__":
    unittest.main()
