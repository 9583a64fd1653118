"""The Cloud Storage sensors in the daemon, against the GCS stand-in (a bucket is a folder): a file
that appears mid-run ends the wait in poke and in reschedule mode — and in reschedule mode the task
sits in up_for_reschedule between pokes, as the same try; a timeout fails the task, or skips it with
soft_fail; a daemon killed with SIGKILL while a sensor is rescheduled finds it still rescheduled and
pokes it at its time."""

import glob
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, read_text, wait_for  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

SENSORS = """
tasks:
  - task_id: sensor
    operator: gcs_object_sensor
    bucket: drop
    object: "incoming/{{ ds_nodash }}/{name}.csv"
    mode: {mode}
    poke_interval: {interval}
    timeout: {timeout}
    soft_fail: {soft_fail}
    retries: 2
    retry_delay: 1s
  - task_id: after
    operator: bash
    depends_on: [sensor]
    bash_command: echo after
"""

GLOB_AND_UPDATE = """
tasks:
  - task_id: any_csv
    operator: gcs_object_sensor
    bucket: drop
    object: "glob/**/*.csv"
    use_glob: true
    poke_interval: 1s
    timeout: 60s
  - task_id: under_prefix
    operator: gcs_object_sensor
    bucket: drop
    prefix: "glob/"
    poke_interval: 1s
    timeout: 60s
  - task_id: updated
    operator: gcs_object_update_sensor
    bucket: drop
    object: stamp.txt
    ts: "{ts}"
    mode: reschedule
    poke_interval: 1s
    timeout: 60s
"""


class GcsSensorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="mayaflow-gcs-data-")
        cls.bucket = os.path.join(cls.data, "drop")
        os.makedirs(cls.bucket)
        cls.fake = GcpFake(datasets=(), data=cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        shutil.rmtree(cls.data, ignore_errors=True)

    def setUp(self):
        self.daemon = Daemon(copy_examples=False, env=self.fake.environment())

    def tearDown(self):
        self.daemon.cleanup()

    def write_sensor_dag(self, dag_id, mode="poke", interval="1s", timeout="60s", soft_fail="false"):
        text = SENSORS.replace("{name}", dag_id).replace("{mode}", mode).replace("{interval}", interval)
        self.daemon.write_dag(dag_id + ".yaml", text.replace("{timeout}", timeout).replace("{soft_fail}", soft_fail))

    def drop_file(self, dag_id, day="20240102"):
        path = os.path.join(self.bucket, "incoming", day, dag_id + ".csv")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("a,b\n1,2\n")

    def trigger(self, dag_id):
        result = self.daemon.cli("dags", "trigger", dag_id, "-l", "2024-01-02", check=True)
        self.assertIn("Created run", result.stdout)
        return self.daemon.runs(dag_id)[0]["run_id"]

    def state(self, dag_id, run_id, task_id="sensor"):
        return self.daemon.cli("tasks", "state", dag_id, run_id, task_id, check=True).stdout.strip()

    def finished(self, dag_id, timeout=60):
        def done():
            runs = self.daemon.runs(dag_id)
            return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None
        return wait_for(done, timeout=timeout)[0]

    def logs(self, dag_id, task_id="sensor"):
        """The try logs of the task, by name (attempt=<n>.log)."""
        pattern = os.path.join(self.daemon.home, "**", "dag_id=" + dag_id, "**", "task_id=" + task_id, "attempt=*.log")
        return {os.path.basename(p): read_text(p) for p in glob.glob(pattern, recursive=True)}

    def pokes(self, dag_id):
        return sum(text.count("poking for") for text in self.logs(dag_id).values())

    def test_poke_mode_succeeds_when_the_file_appears(self):
        self.write_sensor_dag("poked")
        self.daemon.start()
        run_id = self.trigger("poked")
        wait_for(lambda: self.pokes("poked") >= 3, timeout=30)
        self.assertEqual(self.state("poked", run_id), "running")  # it keeps its slot between pokes
        self.drop_file("poked")
        self.assertEqual(self.finished("poked")["state"], "success")
        self.assertEqual(self.state("poked", run_id, "after"), "success")
        logs = self.logs("poked")
        self.assertEqual(list(logs), ["attempt=1.log"])
        self.assertIn("found object gs://drop/incoming/20240102/poked.csv", logs["attempt=1.log"])

    def test_reschedule_mode_gives_the_slot_back_between_pokes(self):
        self.write_sensor_dag("resched", mode="reschedule")
        self.daemon.start()
        run_id = self.trigger("resched")
        seen = set()

        def rescheduled_twice():
            seen.add(self.state("resched", run_id))
            return "up_for_reschedule" in seen and self.pokes("resched") >= 3
        wait_for(rescheduled_twice, timeout=30, interval=0.02)
        self.drop_file("resched")
        self.assertEqual(self.finished("resched")["state"], "success")
        # Every poke was the same try, logged in one file.
        logs = self.logs("resched")
        self.assertEqual(list(logs), ["attempt=1.log"])
        self.assertGreaterEqual(logs["attempt=1.log"].count("gives its slot back"), 2)

    def test_timeout_fails_without_retries_or_skips_with_soft_fail(self):
        self.write_sensor_dag("hard", mode="poke", timeout="2s")
        self.write_sensor_dag("soft", mode="reschedule", timeout="2s", soft_fail="true")
        self.daemon.start()
        hard = self.trigger("hard")
        soft = self.trigger("soft")
        self.assertEqual(self.finished("hard")["state"], "failed")
        self.assertEqual(self.state("hard", hard), "failed")
        self.assertEqual(self.state("hard", hard, "after"), "upstream_failed")
        self.assertEqual(list(self.logs("hard")), ["attempt=1.log"])  # a sensor's timeout is not retried
        self.assertIn("the sensor timed out after 2s", self.logs("hard")["attempt=1.log"])
        self.assertEqual(self.finished("soft")["state"], "success")  # a skipped leaf counts as success
        self.assertEqual(self.state("soft", soft), "skipped")
        self.assertEqual(self.state("soft", soft, "after"), "skipped")
        self.assertIn("(soft_fail)", self.logs("soft")["attempt=1.log"])

    def test_a_rescheduled_sensor_survives_a_kill_9(self):
        self.write_sensor_dag("survivor", mode="reschedule", interval="4s")
        self.daemon.start()
        run_id = self.trigger("survivor")
        wait_for(lambda: self.state("survivor", run_id) == "up_for_reschedule", timeout=30, interval=0.02)
        self.daemon.process.send_signal(signal.SIGKILL)
        self.daemon.process.wait()
        self.assertEqual(self.state("survivor", run_id), "up_for_reschedule")
        pokes_before = self.pokes("survivor")
        self.drop_file("survivor")
        self.daemon.start()
        self.assertEqual(self.finished("survivor")["state"], "success")
        self.assertGreater(self.pokes("survivor"), pokes_before)
        self.assertEqual(list(self.logs("survivor")), ["attempt=1.log"])

    def test_glob_prefix_and_update_sensors(self):
        stamp = os.path.join(self.bucket, "stamp.txt")
        with open(stamp, "w") as f:
            f.write("old\n")
        os.utime(stamp, (946684800, 946684800))  # 2000-01-01: before ts
        ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 5))
        self.daemon.write_dag("globs.yaml", GLOB_AND_UPDATE.replace("{ts}", ts))
        self.daemon.start()
        run_id = self.trigger("globs")
        wait_for(lambda: self.pokes_of("globs", "updated") >= 2 and self.pokes_of("globs", "any_csv") >= 2, timeout=30)
        self.assertNotEqual(self.state("globs", run_id, "updated"), "success")
        os.makedirs(os.path.join(self.bucket, "glob", "deep", "er"), exist_ok=True)
        with open(os.path.join(self.bucket, "glob", "deep", "er", "x.csv"), "w") as f:
            f.write("1\n")
        os.utime(stamp)  # updated now
        self.assertEqual(self.finished("globs")["state"], "success")
        for task_id in ("any_csv", "under_prefix", "updated"):
            self.assertEqual(self.state("globs", run_id, task_id), "success")

    def pokes_of(self, dag_id, task_id):
        return sum(text.count("poking for") for text in self.logs(dag_id, task_id).values())


if __name__ == "__main__":
    unittest.main()
