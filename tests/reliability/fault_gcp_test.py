"""Fault injection, the Google Cloud stand-ins (tests/fakes) answer slowly or not at all while a
BigQuery task runs (execution_timeout 5 s, no retries):

1. slow: jobs.insert answers after 2 s — the task succeeds;
2. no answer to jobs.get (the job's state; polled while the task waits deferred) — the task fails
   by its timeout, with words, while another BigQuery DAG's task (whose polls are answered) and a
   bash DAG run to success meanwhile;
3. no answer to jobs.insert — the same; the bash DAG is unaffected.

What must hold: no try outlives its timeout by more than a margin; its message says it timed out;
the other DAGs' runs succeed while it hangs; the daemon keeps running."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import FaultDaemon  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

TIMEOUT = 5
MARGIN = 10  # the kill grace of a try's worker and the scheduler's turns, under the sanitizers

QUERY = """dag_id: {dag_id}
tasks:
  - task_id: q
    operator: bigquery_query
    sql: "SELECT 1 AS n"
    retries: 0
    execution_timeout: {timeout}s
"""
BASH = "dag_id: other\ntasks:\n  - task_id: t\n    operator: bash\n    bash_command: echo other\n"
NEVER = 600  # seconds: an answer that does not come while the test runs


class GcpSlowOrSilentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = GcpFake()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.daemon = FaultDaemon(env=self.fake.environment())
        self.daemon.write_dag("bq.yaml", QUERY.format(dag_id="bq", timeout=TIMEOUT))
        self.daemon.write_dag("bq_other.yaml", QUERY.format(dag_id="bq_other", timeout=60))
        self.daemon.write_dag("other.yaml", BASH)

    def tearDown(self):
        self.fake.control("/_fake/faults", method="DELETE")
        self.daemon.cleanup()

    def faults(self, *rules):
        self.fake.control("/_fake/faults", method="DELETE")
        if rules:
            self.fake.control("/_fake/faults", list(rules))

    def message(self, dag_id, run_id):
        return self.daemon.query("SELECT t.message FROM task_instance t JOIN dag_run r ON r.id = t.run_pk "
                                 "WHERE r.dag_id = ? AND r.run_id = ?", dag_id, run_id)[0][0]

    def hangs_until_timeout(self, run_id, others):
        """Triggers bq's run and the others'; bq must fail by its timeout, the others succeed first."""
        started = time.monotonic()
        self.daemon.trigger("bq", run_id)
        for dag_id in others:
            self.daemon.trigger(dag_id, run_id)
        for dag_id in others:
            self.assertEqual(self.daemon.wait_for_run(dag_id, run_id, timeout=30), "success", dag_id)
        self.assertNotIn(self.daemon.run_state("bq", run_id), ("success", "failed"),
                         "bq's run ended before the others: the fault did not hold it")
        state = self.daemon.wait_for_run("bq", run_id, timeout=TIMEOUT + MARGIN + 5)
        took = time.monotonic() - started
        print("%s: bq's try ended %s after %.1f s: %s" % (run_id, state, took, self.message("bq", run_id)),
              file=sys.stderr)
        self.assertEqual(state, "failed")
        self.assertLess(took, TIMEOUT + MARGIN)
        self.assertIn("timed out", self.message("bq", run_id))

    def test_slow_and_silent_answers(self):
        self.daemon.start()
        self.faults({"method": "POST", "path": r"/jobs$", "delay": 2})
        self.daemon.trigger("bq", "slow")
        self.assertEqual(self.daemon.wait_for_run("bq", "slow", timeout=30), "success", self.message("bq", "slow"))

        # The job is inserted; its polls are never answered (only bq's: bq_other's job ids differ).
        self.faults({"method": "GET", "path": r"/jobs/mayaflow_bq_q", "delay": NEVER, "times": -1})
        self.hangs_until_timeout("silent_get", ["bq_other", "other"])

        self.faults({"method": "POST", "path": r"/jobs$", "delay": NEVER, "times": -1})
        self.hangs_until_timeout("silent_insert", ["other"])

        self.faults()
        self.daemon.trigger("bq", "after")
        self.assertEqual(self.daemon.wait_for_run("bq", "after", timeout=30), "success", self.message("bq", "after"))
        self.assertIsNone(self.daemon.process.poll())
        self.assertNotIn("Sanitizer", self.daemon.read_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
