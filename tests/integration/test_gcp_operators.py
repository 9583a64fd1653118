"""The BigQuery operators against the Google Cloud stand-ins (tests/fakes): what they send (checked
by the stand-in against Google's discovery document), what they make of the answers, and faults —
a lost answer to a job insert re-attaches instead of starting the job twice, 503s with Retry-After
are waited out, HTML error pages and failed jobs fail the task with words that say why."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

QUERY_DAG = """
dag_id: bq
tasks:
  - task_id: typed
    operator: bigquery_query
    sql: "SELECT @n AS n, @name AS name, @ok AS ok, @day AS day, 1.5 AS f"
    query_params: {n: 42, name: "{{ params.who }}", ok: true, day: {type: DATE, value: "{{ ds }}"}}
    labels: {team: data}
  - task_id: into_partition
    operator: bigquery_query
    sql: _daily.sql
    destination_dataset_table: "ds.daily${{ ds_nodash }}"
    write_disposition: WRITE_TRUNCATE
    time_partitioning: {type: DAY}
  - task_id: capped
    operator: bigquery_query
    sql: "SELECT * FROM ds.daily"
    maximum_bytes_billed: 1
    estimate_bytes: true
  - task_id: broken
    operator: bigquery_query
    sql: "SELECT FROM WHERE"
  - task_id: bad_label_value
    operator: bigquery_query
    sql: "SELECT 1"
    labels: {owner: "{{ params.who }} Lovelace"}
params: {who: ada}
"""

LOAD_DAG = """
dag_id: load
tasks:
  - task_id: expenses
    operator: gcs_to_bigquery
    bucket: kakeibo
    source_objects: ["expenses/{{ ds_nodash }}/*.csv"]
    destination_project_dataset_table: "raw.expenses${{ ds_nodash }}"
    schema_object: schema.json
    skip_leading_rows: 1
    allow_quoted_newlines: true
    write_disposition: WRITE_TRUNCATE
    time_partitioning: {type: DAY, field: date}
  - task_id: misspelled_schema
    operator: gcs_to_bigquery
    bucket: kakeibo
    source_objects: ["expenses/{{ ds_nodash }}/*.csv"]
    destination_project_dataset_table: "raw.other"
    schema_fields: [{name: date, type: DATE}, {name: amount, tpye: INTEGER}]
  - task_id: missing_objects
    operator: gcs_to_bigquery
    bucket: kakeibo
    source_objects: ["nothing/here/*.csv"]
    destination_project_dataset_table: "raw.other"
"""

CHECKS_DAG = """
dag_id: checks
tasks:
  - task_id: check_pass
    operator: bigquery_check
    sql: "SELECT COUNT(*) AS n, LOGICAL_AND(amount > 0) AS positive FROM raw.expenses WHERE date = '{{ ds }}'"
  - task_id: check_fail
    operator: bigquery_check
    sql: "SELECT COUNT(*) AS n, COUNTIF(amount > 100000) AS huge, '' AS label FROM raw.expenses WHERE date = @day"
    query_params: {day: {type: DATE, value: "{{ ds }}"}}
  - task_id: check_no_rows
    operator: bigquery_check
    sql: "SELECT amount FROM raw.expenses WHERE amount < 0"
  - task_id: value_pass
    operator: bigquery_value_check
    sql: "SELECT COUNT(*) AS n, SUM(amount) / 17582 AS about_five FROM raw.expenses WHERE date = '{{ ds }}'"
    pass_value: 5
    tolerance: 0.2
  - task_id: value_fail
    operator: bigquery_value_check
    sql: "SELECT COUNT(*) AS n, COUNT(DISTINCT category) AS categories FROM raw.expenses WHERE date = '{{ ds }}'"
    pass_value: "{{ params.expected }}"
  - task_id: value_text
    operator: bigquery_value_check
    sql: "SELECT MAX(member) AS member FROM raw.expenses WHERE date = '{{ ds }}'"
    pass_value: yuki
  - task_id: column_pass
    operator: bigquery_column_check
    table: raw.expenses
    partition_clause: "date = '{{ ds }}'"
    column_mapping:
      amount: {null_check: {equal_to: 0}, min: {geq_to: 200}, max: {leq_to: 100000}}
      category: {distinct_check: {geq_to: 3}}
    not_null: [category, amount]
    accepted_values: {payment: [現金, カード]}
  - task_id: column_fail
    operator: bigquery_column_check
    table: raw.expenses
    partition_clause: "date = '{{ ds }}'"
    column_mapping:
      amount: {unique_check: {equal_to: 0}}
    unique: [item]
    not_null: [note]
    accepted_values: {category: [住居費, 医療]}
  - task_id: table_pass
    operator: bigquery_table_check
    table: raw.expenses
    partition_clause: "date = '{{ ds }}'"
    checks:
      positive: {check_statement: "amount > 0"}
      some_rows: {check_statement: "COUNT(*) >= 1"}
    min_rows: 1
    max_rows: 100
  - task_id: table_fail
    operator: bigquery_table_check
    table: raw.expenses
    partition_clause: "date = '{{ ds }}'"
    checks:
      small: {check_statement: "amount < 1000"}
      positive: {check_statement: "amount > 0"}
    min_rows: 10
params: {expected: 6}
"""

# A column name that would carry SQL: the DAG does not load, so no job is ever sent.
INJECTION_DAG = """
dag_id: injection
schedule: null
tasks:
  - task_id: column_injection
    operator: bigquery_column_check
    table: raw.expenses
    not_null: ["amount) FROM x; --"]
"""

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def csv_rows(day):
    import csv
    with open(os.path.join(REPO, "data", "kakeibo", "expenses", day, "expenses.csv"), encoding="utf-8-sig",
              newline="") as f:
        return list(csv.reader(f))[1:]


class BigQueryOperatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = GcpFake(datasets=("ds", "raw"))
        cls.home = tempfile.mkdtemp(prefix="mayaflow-gcp-")
        cls.dags = os.path.join(cls.home, "dags")
        os.makedirs(cls.dags)
        with open(os.path.join(cls.dags, "bq.yaml"), "w") as f:
            f.write(QUERY_DAG)
        with open(os.path.join(cls.dags, "load.yaml"), "w") as f:
            f.write(LOAD_DAG)
        with open(os.path.join(cls.dags, "checks.yaml"), "w") as f:
            f.write(CHECKS_DAG)
        with open(os.path.join(cls.dags, "injection.yaml"), "w") as f:
            f.write(INJECTION_DAG)
        with open(os.path.join(cls.dags, "_daily.sql"), "w") as f:
            f.write("SELECT '{{ ds }}' AS day, 7 AS amount\n")

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.control("/_fake/faults", method="DELETE")
        self.fake.control("/_fake/requests", method="DELETE")

    def tasks_test(self, task, date="2024-01-02", env=None, dag="bq"):
        environment = dict(os.environ, MAYAFLOW_HOME=self.home, **self.fake.environment())
        environment.update(env or {})
        result = subprocess.run([MAYAFLOW, "tasks", "test", "-S", self.dags, dag, task, date], env=environment,
                                capture_output=True, text=True, timeout=120)
        return result

    def result_of(self, output):
        for line in output.splitlines():
            if line.startswith("[mayaflow] result: "):
                return json.loads(line[len("[mayaflow] result: "):])
        self.fail("no result line in:\n" + output)

    def test_query_with_typed_parameters_returns_typed_rows(self):
        result = self.tasks_test("typed")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        value = self.result_of(result.stdout)
        self.assertEqual(value["rows"], [{"n": 42, "name": "ada", "ok": True, "day": "2024-01-02", "f": 1.5}])
        self.assertEqual(value["total_rows"], 1)
        self.assertTrue(value["job_id"].startswith("mayaflow_bq_typed_20240102T000000_1_"), value["job_id"])
        self.assertIn("console.cloud.google.com/bigquery", result.stdout)
        inserts = self.fake.job_inserts()
        self.assertEqual(len(inserts), 1)
        configuration = inserts[0]["json"]["configuration"]
        query = configuration["query"]
        self.assertIs(query["useLegacySql"], False)
        self.assertEqual(query["parameterMode"], "NAMED")
        types = {p["name"]: p["parameterType"]["type"] for p in query["queryParameters"]}
        self.assertEqual(types, {"n": "INT64", "name": "STRING", "ok": "BOOL", "day": "DATE"})
        self.assertEqual(configuration["labels"]["team"], "data")
        self.assertRegex(configuration["labels"]["mayaflow_try"], r"^[0-9a-f]{16}$")  # the try's mark on its job
        self.assertEqual(inserts[0]["json"]["jobReference"]["jobId"], value["job_id"])

    def test_query_into_a_partition_replaces_only_that_day(self):
        for date in ["2024-01-02", "2024-01-03", "2024-01-02"]:
            result = self.tasks_test("into_partition", date)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        insert = self.fake.job_inserts()[-1]["json"]["configuration"]["query"]
        self.assertEqual(insert["destinationTable"],
                         {"projectId": "test-project", "datasetId": "ds", "tableId": "daily$20240102"})
        self.assertEqual(insert["writeDisposition"], "WRITE_TRUNCATE")
        rows = self.fake.bigquery("datasets/ds/tables/daily/data").get("rows", [])
        days = sorted(row["f"][0]["v"] for row in rows)
        self.assertEqual(days, ["2024-01-02", "2024-01-03"])

    def test_a_lost_answer_to_the_insert_follows_the_job_instead_of_starting_it_twice(self):
        self.fake.control("/_fake/faults", [{"method": "POST", "path": r"/jobs$", "drop": "after"}])
        before = self.fake.stats()["jobs"]
        result = self.tasks_test("typed")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        after = self.fake.stats()["jobs"]
        self.assertEqual(after["job_inserts_accepted"] - before["job_inserts_accepted"], 1)
        self.assertEqual(after["job_inserts_duplicate"] - before["job_inserts_duplicate"], 1)
        self.assertIn("exists already; following it", result.stdout)
        self.assertEqual(self.result_of(result.stdout)["rows"][0]["n"], 42)

    def test_busy_answers_are_waited_out(self):
        self.fake.control("/_fake/faults", [
            {"method": "POST", "path": r"/jobs$", "status": 429, "times": 1},
            {"method": "GET", "path": r"/jobs/", "status": 503, "retry_after": "1", "times": 2},
        ])
        fired = self.fake.stats()["faults_fired"]
        result = self.tasks_test("typed")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(self.fake.stats()["faults_fired"] - fired, 3)

    def test_an_html_error_page_fails_the_task_with_words(self):
        self.fake.control("/_fake/faults", [{"method": "POST", "path": r"/jobs$", "status": 502, "body": "html",
                                             "times": -1}])
        result = self.tasks_test("typed", env={})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("HTTP 502", result.stdout)
        self.assertIn("not Google's error JSON", result.stdout)
        self.assertNotIn("Traceback", result.stdout + result.stderr)

    def test_a_failed_job_fails_the_task_with_bigquerys_words(self):
        result = self.tasks_test("broken")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("task broken failed", result.stdout)
        self.assertTrue("invalidQuery" in result.stdout or "failed" in result.stdout, result.stdout)

    def test_a_job_over_the_byte_cap_is_not_run(self):
        self.assertEqual(self.tasks_test("into_partition").returncode, 0)
        before = self.fake.stats()["jobs"]
        result = self.tasks_test("capped")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("more than maximum_bytes_billed (1); it was not run", result.stdout)
        after = self.fake.stats()["jobs"]
        self.assertEqual(after["job_inserts_accepted"], before["job_inserts_accepted"])
        self.assertEqual(after["dry_runs"] - before["dry_runs"], 1)

    def test_a_rendered_label_value_bigquery_would_refuse_fails_before_any_job(self):
        before = self.fake.stats()["jobs"]
        result = self.tasks_test("bad_label_value")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("label 'owner' has the value 'ada Lovelace', which BigQuery would refuse", result.stdout)
        self.assertEqual(self.fake.stats()["jobs"]["job_inserts_attempted"], before["job_inserts_attempted"])

    def test_no_connection_and_a_bad_connection_say_what_to_do(self):
        result = self.tasks_test("typed", env={"AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": ""})
        self.assertEqual(result.returncode, 1)
        result = self.tasks_test("typed", env={"AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps(
            {"conn_type": "google_cloud_platform", "extra": {"key_path": "/nonexistent/key.json"}})})
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent/key.json", result.stdout)

    def test_load_replaces_only_the_days_partition_and_loses_no_row(self):
        for date in ["2024-01-02", "2024-01-03", "2024-01-02"]:
            result = self.tasks_test("expenses", date, dag="load")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            expected = len(csv_rows(date.replace("-", "")))
            self.assertEqual(self.result_of(result.stdout)["rows_written"], expected, result.stdout)
        load = self.fake.job_inserts()[-1]["json"]["configuration"]["load"]
        self.assertEqual(load["sourceUris"], ["gs://kakeibo/expenses/20240102/*.csv"])
        self.assertEqual(load["destinationTable"]["tableId"], "expenses$20240102")
        self.assertEqual(load["schema"]["fields"][0], {"name": "date", "type": "DATE", "mode": "REQUIRED"})
        self.assertEqual(load["skipLeadingRows"], 1)
        data = self.fake.bigquery("datasets/raw/tables/expenses/data?maxResults=1000")
        days = {}
        for row in data.get("rows", []):
            days[row["f"][0]["v"]] = days.get(row["f"][0]["v"], 0) + 1
        self.assertEqual(days, {"2024-01-02": len(csv_rows("20240102")), "2024-01-03": len(csv_rows("20240103"))})

    def test_a_misspelled_schema_field_fails_before_any_job(self):
        before = self.fake.stats()["jobs"]["job_inserts_attempted"]
        result = self.tasks_test("misspelled_schema", dag="load")
        self.assertEqual(result.returncode, 1)
        self.assertIn("schema_fields[1]: unknown key 'tpye' (did you mean 'type'?)", result.stdout)
        self.assertEqual(self.fake.stats()["jobs"]["job_inserts_attempted"], before)

    def test_a_load_of_missing_files_fails_with_bigquerys_words(self):
        result = self.tasks_test("missing_objects", dag="load")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("notFound", result.stdout)


    def check(self, task, passes):
        """Runs a check task of the checks DAG over the loaded 2024-01-02 expenses; returns its output."""
        if not getattr(type(self), "expenses_loaded", False):
            result = self.tasks_test("expenses", "2024-01-02", dag="load")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            type(self).expenses_loaded = True
        result = self.tasks_test(task, "2024-01-02", dag="checks")
        self.assertEqual(result.returncode, 0 if passes else 1, result.stdout + result.stderr)
        self.assertNotIn("Traceback", result.stdout + result.stderr)
        return result.stdout

    def test_bigquery_check_passes_on_true_values_and_fails_naming_the_false_ones(self):
        output = self.check("check_pass", True)
        self.assertEqual(self.result_of(output)["row"], {"n": 6, "positive": True})
        query = self.fake.job_inserts()[-1]["json"]["configuration"]["query"]
        self.assertIs(query["useLegacySql"], False)
        output = self.check("check_fail", False)
        self.assertIn("check failed: 2 of 3 values of the first row are false (0, false, '', NULL): huge = 0, "
                      "label = \"\"", output)
        output = self.check("check_no_rows", False)
        self.assertIn('check failed: the query returned no rows: "SELECT amount FROM raw.expenses WHERE amount < 0"',
                      output)

    def test_bigquery_value_check_compares_numbers_with_tolerance_and_text_as_text(self):
        self.check("value_pass", True)
        self.check("value_text", True)
        output = self.check("value_fail", False)
        self.assertIn("value check failed: 1 of 2 values of the first row differ from pass_value 6: categories = 4",
                      output)

    def test_bigquery_column_check_runs_every_check_in_one_query(self):
        self.check("column_pass", True)
        before = self.fake.stats()["jobs"]["job_inserts_accepted"]
        output = self.check("column_fail", False)
        self.assertEqual(self.fake.stats()["jobs"]["job_inserts_accepted"] - before, 1)
        self.assertIn("raw.expenses 4 of 4 checks failed: ", output)
        self.assertIn("amount.unique_check: found 1, expected equal_to 0 (values: \"540\")", output)
        self.assertIn("unique(item): 2 rows with a repeated value (values: \"映画\")", output)
        self.assertIn("not_null(note): 5 rows with NULL", output)
        self.assertIn("accepted_values(category): 4 rows with other values (values: \"光熱費\", \"娯楽\")", output)

    def test_bigquery_column_check_refuses_a_column_name_that_is_not_one(self):
        before = self.fake.stats()["jobs"]["job_inserts_attempted"]
        result = self.tasks_test("column_injection", dag="injection")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn('injection.yaml:8:15: tasks[0].not_null: "amount) FROM x; --" is not a column name',
                      result.stdout + result.stderr)
        self.assertEqual(self.fake.stats()["jobs"]["job_inserts_attempted"], before)

    def test_bigquery_table_check_names_the_failed_checks(self):
        self.check("table_pass", True)
        output = self.check("table_fail", False)
        self.assertIn("raw.expenses 2 of 3 checks failed: small (\"amount < 1000\"): 2 rows failing it; "
                      "min_rows 10: the table has 6 rows, fewer than 10", output)
        # The rows failing the first per-row check, from one more query job.
        shown = output.split("the first rows failing it: ", 1)[1].splitlines()[0]
        failing = [json.loads(text) for text in shown.replace("}, {", "}\n{").splitlines()]
        self.assertEqual(len(failing), 2, output)
        self.assertTrue(all(int(row["amount"]) >= 1000 for row in failing), output)


if __name__ == "__main__":
    unittest.main()
