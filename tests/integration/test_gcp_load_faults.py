"""Faults during a load job (gcs_to_bigquery into a table written with WRITE_APPEND, so a second job
would show as doubled rows): each fault of the stand-ins on jobs.insert and on jobs.get — 429, 500,
503 with Retry-After, a dropped connection before and after the insert, a slow answer, a malformed
body, an answer missing its fields. Whatever the fault, the table ends with the day's rows exactly
once and the stand-in counts one accepted insert; a fault that leaves no way to know fails the try
with words, and still never starts a second job."""

import csv
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DAY = "20240105"

DAG = """
dag_id: faults
tasks:
  - task_id: load
    operator: gcs_to_bigquery
    bucket: kakeibo
    source_objects: ["expenses/{{ ds_nodash }}/*.csv"]
    destination_project_dataset_table: "raw.{{ var.value.table }}"
    schema_object: schema.json
    skip_leading_rows: 1
    allow_quoted_newlines: true
    write_disposition: WRITE_APPEND
"""

INSERT = {"method": "POST", "path": r"/jobs$"}
GET = {"method": "GET", "path": r"/jobs/[^/]+$"}

# (name, rule, whether the try must succeed)
FAULTS = [
    ("insert_429", dict(INSERT, status=429), True),
    ("insert_500", dict(INSERT, status=500), True),
    ("insert_503_retry_after", dict(INSERT, status=503, retry_after="1"), True),
    ("insert_dropped_before", dict(INSERT, drop="before"), True),
    ("insert_dropped_after", dict(INSERT, drop="after"), True),
    ("insert_slow", dict(INSERT, delay=3), True),
    ("insert_html_502", dict(INSERT, status=502, body="html"), True),
    ("get_500", dict(GET, status=500, times=2), True),
    ("get_503_retry_after", dict(GET, status=503, retry_after="1"), True),
    ("get_dropped_after", dict(GET, drop="after"), True),
    ("get_malformed", dict(GET, status=200, body="malformed"), None),
    ("get_missing_fields", dict(GET, status=200, body="missing_fields"), None),
]


def day_rows():
    with open(os.path.join(REPO, "data", "kakeibo", "expenses", DAY, "expenses.csv"), encoding="utf-8-sig",
              newline="") as f:
        return len(list(csv.reader(f))) - 1


class LoadFaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = GcpFake(datasets=("raw",))
        cls.home = tempfile.mkdtemp(prefix="mayaflow-faults-")
        cls.dags = os.path.join(cls.home, "dags")
        os.makedirs(cls.dags)
        with open(os.path.join(cls.dags, "faults.yaml"), "w") as f:
            f.write(DAG)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def load_with(self, table, rule):
        self.fake.control("/_fake/faults", method="DELETE")
        self.fake.control("/_fake/faults", [rule])
        environment = dict(os.environ, MAYAFLOW_HOME=self.home, AIRFLOW_VAR_TABLE=table, **self.fake.environment())
        before = self.fake.stats()
        result = subprocess.run([MAYAFLOW, "tasks", "test", "-S", self.dags, "faults", "load", "2024-01-05"],
                                env=environment, capture_output=True, text=True, timeout=120)
        after = self.fake.stats()
        self.fake.control("/_fake/faults", method="DELETE")
        return result, before, after

    def rows_in(self, table):
        try:
            return int(self.fake.bigquery("datasets/raw/tables/%s" % table)["numRows"])
        except Exception:  # no table: no rows
            return 0

    def test_no_fault_loses_or_duplicates_rows(self):
        expected = day_rows()
        self.assertGreater(expected, 0)
        for name, rule, must_succeed in FAULTS:
            with self.subTest(fault=name):
                result, before, after = self.load_with(name, rule)
                output = result.stdout + result.stderr
                self.assertNotIn("Sanitizer", output)
                self.assertEqual(after["faults_fired"] - before["faults_fired"] >= 1, True, output)
                accepted = after["jobs"]["job_inserts_accepted"] - before["jobs"]["job_inserts_accepted"]
                self.assertEqual(accepted, 1, output)  # one job, whatever happened to the answers
                if must_succeed is True:
                    self.assertEqual(result.returncode, 0, output)
                    self.assertEqual(self.rows_in(name), expected, output)
                else:
                    # A garbled answer about a job that ran: the try may succeed (a retry read it)
                    # or fail with words; the table never holds the rows twice.
                    self.assertIn(result.returncode, (0, 1), output)
                    if result.returncode == 1:
                        self.assertIn("task load failed", output)
                    self.assertEqual(self.rows_in(name), expected, output)


if __name__ == "__main__":
    unittest.main()
