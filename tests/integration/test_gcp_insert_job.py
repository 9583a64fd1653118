"""bigquery_insert_job against the Google Cloud stand-ins (tests/fakes): a configuration as BigQuery's
JobConfiguration runs as written; job_id heads the id; force_rerun: false finds an earlier try's job
and follows it only in reattach_states, failing with Airflow's words otherwise; a misspelled field
is refused when the DAG loads, with its line."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, Daemon, wait_for  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

DAG = """
dag_id: ij
tasks:
  - task_id: into_table
    operator: bigquery_insert_job
    job_id: "daily_{{ params.team }}"
    labels: {team: "{{ params.team }}"}
    configuration:
      labels: {source: kakeibo, team: overridden}
      query:
        query: "SELECT '{{ ds }}' AS day, 3 AS n"
        useLegacySql: false
        destinationTable: {projectId: test-project, datasetId: ds, tableId: "ij_{{ ds_nodash }}"}
        writeDisposition: WRITE_TRUNCATE
  - task_id: from_file
    operator: bigquery_insert_job
    configuration: _job.json
  - task_id: once
    operator: bigquery_insert_job
    force_rerun: false
    configuration: {query: {query: "SELECT 1 AS one", useLegacySql: false}}
  - task_id: once_reattached
    operator: bigquery_insert_job
    force_rerun: false
    reattach_states: [DONE]
    configuration: {query: {query: "SELECT 2 AS two", useLegacySql: false}}
params: {team: kakeibo, n: 9}
"""


class InsertJobTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = GcpFake(datasets=("ds",))
        cls.home = tempfile.mkdtemp(prefix="mayaflow-ij-")
        cls.dags = os.path.join(cls.home, "dags")
        os.makedirs(cls.dags)
        with open(os.path.join(cls.dags, "ij.yaml"), "w") as f:
            f.write(DAG)
        with open(os.path.join(cls.dags, "_job.json"), "w") as f:
            f.write('{"query": {"query": "SELECT {{ params.n }} AS n", "useLegacySql": false}}')

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def run_cli(self, *args, env=None):
        environment = dict(os.environ, MAYAFLOW_HOME=self.home, **self.fake.environment())
        environment.update(env or {})
        return subprocess.run([MAYAFLOW, *args], env=environment, capture_output=True, text=True, timeout=120)

    def tasks_test(self, task, date="2024-01-02", *extra):
        return self.run_cli("tasks", "test", "-S", self.dags, "ij", task, date, *extra)

    def inserted_configurations(self):
        return [request["json"]["configuration"] for request in self.fake.job_inserts()]

    def test_the_configuration_is_sent_as_written_with_the_jobs_labels(self):
        result = self.tasks_test("into_table")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("BigQuery job daily_kakeibo_20240102T000000_1_", result.stdout)
        sent = self.inserted_configurations()[-1]
        self.assertEqual(sent["query"]["query"], "SELECT '2024-01-02' AS day, 3 AS n")
        self.assertEqual(sent["query"]["destinationTable"]["tableId"], "ij_20240102")
        self.assertEqual(sent["labels"]["team"], "kakeibo")  # the task's labels win on the same key
        self.assertEqual(sent["labels"]["source"], "kakeibo")  # and are added to the configuration's
        self.assertRegex(sent["labels"]["mayaflow_try"], r"^[0-9a-f]{16}$")
        rows = self.fake.bigquery("datasets/ds/tables/ij_20240102/data")
        self.assertEqual(rows["totalRows"], "1")

    def test_a_json_file_beside_the_dag_is_the_configuration_rendered(self):
        result = self.tasks_test("from_file", "2024-01-02")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(self.inserted_configurations()[-1]["query"]["query"], "SELECT 9 AS n")

    def test_force_rerun_false_fails_on_an_earlier_job_outside_reattach_states(self):
        accepted = self.fake.stats()["jobs"]["job_inserts_accepted"]
        first = self.tasks_test("once", "2024-02-01")
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        second = self.tasks_test("once", "2024-02-01")
        self.assertEqual(second.returncode, 1, second.stdout + second.stderr)
        self.assertIn("already exists and is in DONE state", second.stdout)
        self.assertIn("reattach_states", second.stdout)
        self.assertEqual(self.fake.stats()["jobs"]["job_inserts_accepted"] - accepted, 1)

    def test_force_rerun_false_follows_an_earlier_job_in_reattach_states(self):
        accepted = self.fake.stats()["jobs"]["job_inserts_accepted"]
        for _ in range(2):
            result = self.tasks_test("once_reattached", "2024-02-01")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("exists already; following it", result.stdout)
        self.assertEqual(self.fake.stats()["jobs"]["job_inserts_accepted"] - accepted, 1)

    def test_a_misspelled_field_is_a_load_error_with_its_line(self):
        bad = os.path.join(self.home, "bad")
        os.makedirs(bad, exist_ok=True)
        with open(os.path.join(bad, "bad.yaml"), "w") as f:
            f.write(DAG.replace("writeDisposition", "writeDispositon"))
        result = self.run_cli("dags", "validate", bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn("bad.yaml:14:", result.stdout + result.stderr)
        self.assertIn("did you mean 'writeDisposition'", result.stdout + result.stderr)


COST_DAG = """
dag_id: costs
schedule: null
tasks:
  - task_id: fill
    operator: bigquery_insert_job
    configuration:
      query:
        query: "SELECT 1 AS a UNION ALL SELECT 2 UNION ALL SELECT 3"
        useLegacySql: false
        destinationTable: {projectId: test-project, datasetId: ds, tableId: costs}
        writeDisposition: WRITE_TRUNCATE
  - task_id: read
    operator: bigquery_query
    sql: "SELECT SUM(a) AS total FROM ds.costs"
    depends_on: [fill]
"""


class CostTest(unittest.TestCase):
    """Each try's cost (bytes billed and processed, slot ms, rows written) is kept in the store and
    summed per task and day by `mayaflow tasks stats`."""

    def test_tries_costs_are_recorded_and_summed(self):
        fake = GcpFake(datasets=("ds",))
        daemon = Daemon(copy_examples=False, env=fake.environment())
        try:
            daemon.write_dag("costs.yaml", COST_DAG)
            daemon.start()
            for day in ("2024-01-01", "2024-01-02"):
                daemon.cli("dags", "trigger", "costs", "-l", day, check=True)

            def finished():
                runs = daemon.runs("costs")
                done = [run for run in runs if run["state"] in ("success", "failed")]
                return done if len(done) == 2 else None
            runs, _ = wait_for(finished, timeout=90)
            self.assertEqual([run["state"] for run in runs], ["success", "success"])
            stats = json.loads(daemon.cli("tasks", "stats", "costs", "--output", "json", check=True).stdout)
            by_task = {row["task_id"]: row for row in stats}
            self.assertEqual(set(by_task), {"fill", "read"})
            self.assertEqual(len(stats), 2)  # one day
            self.assertEqual(by_task["read"]["tries"], 2)
            self.assertEqual(by_task["fill"]["rows_written"], 0)  # a query into a table reports no DML rows
            self.assertGreater(by_task["read"]["bytes_processed"], 0)
            # BigQuery bills at least 10 MiB per query: two tries of a small one are 20 MiB.
            self.assertEqual(by_task["read"]["bytes_billed"], 2 * max(by_task["read"]["bytes_processed"] // 2, 10 << 20))
            table = daemon.cli("tasks", "stats", "costs", check=True).stdout
            self.assertIn("20.0 MiB", table)
            empty = daemon.cli("tasks", "stats", "costs", "--from", "2020-01-01", "--to", "2020-01-31")
            self.assertEqual(empty.returncode, 0)
            self.assertIn("no tries of DAG 'costs'", empty.stderr)
            bad = daemon.cli("tasks", "stats", "costs", "--from", "2024-02-01", "--to", "2024-01-01")
            self.assertEqual(bad.returncode, 2)
        finally:
            daemon.cleanup()
            fake.stop()


if __name__ == "__main__":
    unittest.main()
