"""A BigQuery job outlives the daemon that started it. Its try is deferred (it waits without a worker);
a graceful stop (SIGTERM) does not wait for it nor cancel the job, and a crash (SIGKILL) loses
nothing: either way the task is still `deferred` in the database, and the restarted daemon follows
the same job under its fixed id — one job in BigQuery, one try, no retry used."""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

LONG_JOB = """
dag_id: {dag_id}
tasks:
  - task_id: mart
    operator: bigquery_query
    sql: "SELECT 1 AS n"
    retries: 0
"""


class DeferredJobAcrossStopsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = GcpFake()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.control("/_fake/reset", {})
        self.fake.control("/_fake/config", {"job_duration_s": 3600})  # runs until the test ends it
        # A long grace period: a daemon that waited for the deferred try would not stop in time.
        self.daemon = Daemon(copy_examples=False,
                             env=dict(self.fake.environment(), MAYAFLOW_SHUTDOWN_GRACE_PERIOD="10m"))

    def tearDown(self):
        self.daemon.cleanup()

    def state(self, dag_id, run_id):
        return self.daemon.cli("tasks", "state", dag_id, run_id, "mart", check=True).stdout.strip()

    def start_job(self, dag_id):
        self.daemon.write_dag(dag_id + ".yaml", LONG_JOB.replace("{dag_id}", dag_id))
        self.daemon.start()
        self.daemon.cli("dags", "trigger", dag_id, "-l", "2024-01-02", check=True)
        run_id = self.daemon.runs(dag_id)[0]["run_id"]
        wait_for(lambda: self.state(dag_id, run_id) == "deferred", timeout=30)
        return run_id

    def finish_on_restart(self, dag_id, run_id):
        jobs = self.fake.stats()["jobs"]
        self.assertEqual(jobs["job_inserts_accepted"], 1)
        self.assertEqual(jobs["jobs_cancelled"], 0)
        job_ids = {r["json"]["jobReference"]["jobId"] for r in self.fake.job_inserts()}
        self.assertEqual(len(job_ids), 1, job_ids)
        job_id = job_ids.pop()
        self.fake.control("/_fake/jobs/%s/state" % job_id, {"state": "DONE"})
        self.daemon.start()
        wait_for(lambda: self.daemon.runs(dag_id)[0]["state"] in ("success", "failed"), timeout=60)
        self.assertEqual(self.daemon.runs(dag_id)[0]["state"], "success", self.daemon.read_log())
        self.assertEqual(self.state(dag_id, run_id), "success")
        jobs = self.fake.stats()["jobs"]
        self.assertEqual(jobs["job_inserts_accepted"], 1)  # followed, not started again
        self.assertEqual(jobs["jobs_cancelled"], 0)
        logs = self.try_logs(dag_id)
        self.assertEqual(sorted(logs), ["attempt=1.log"])  # the same try, no retry used
        self.assertIn("exists already; following it", logs["attempt=1.log"])

    def try_logs(self, dag_id):
        found = {}
        for folder, _, files in os.walk(self.daemon.home):
            if "dag_id=" + dag_id in folder:
                for name in files:
                    if name.startswith("attempt="):
                        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                            found[name] = f.read()
        return found

    def test_sigterm_leaves_a_deferred_job_running_and_the_restart_follows_it(self):
        run_id = self.start_job("stopped")
        began = time.monotonic()
        self.assertEqual(self.daemon.stop(signal.SIGTERM, timeout=60), 0, self.daemon.read_log())
        self.assertLess(time.monotonic() - began, 60)  # bounded by stop(); the grace period is 10 minutes
        self.assertIn("leaving 1 deferred task tries to their remote work", self.daemon.read_log())
        self.assertEqual(self.state("stopped", run_id), "deferred")
        self.assertIn("goes on, and is followed again when the daemon starts", self.try_logs("stopped")["attempt=1.log"])
        self.finish_on_restart("stopped", run_id)

    def test_sigkill_leaves_a_deferred_job_that_the_restart_follows(self):
        run_id = self.start_job("killed")
        self.daemon.process.send_signal(signal.SIGKILL)
        self.daemon.process.wait()
        self.assertEqual(self.state("killed", run_id), "deferred")
        self.finish_on_restart("killed", run_id)


if __name__ == "__main__":
    unittest.main()
