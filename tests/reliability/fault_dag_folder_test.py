"""Fault injection, the DAG folder deleted and recreated under the running daemon: first removed with
everything in it and made again (empty, then its files written back one by one, one in a subfolder),
then replaced in one rename as a deploy tool does (dags.new renamed over dags). What must hold: the
daemon never stops; while the folder is missing /health's dag_processor says so and no DAG is
deactivated; once the files are back every DAG is active with its runs, its pause state and its
version (the same file again is not a new version); a file added after the folder came back is seen (the watch follows the new folder); a run
triggered then succeeds; the daemon's log has no sanitizer report."""

import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import FaultDaemon, wait_for  # noqa: E402

FILES = {
    "alpha.yaml": "dag_id: alpha\ntasks:\n  - task_id: a\n    operator: bash\n    bash_command: echo alpha\n",
    "beta.yaml": "dag_id: beta\ntasks:\n  - task_id: b\n    operator: empty\n",
    os.path.join("team", "gamma.yaml"): "dag_id: gamma\ntasks:\n  - task_id: g\n    operator: empty\n",
}


class DagFolderRecreatedTest(unittest.TestCase):
    def setUp(self):
        self.daemon = FaultDaemon()
        for name, text in FILES.items():
            self.daemon.write_dag(name, text)

    def tearDown(self):
        self.daemon.cleanup()

    def active(self):
        return {dag_id for dag_id, dag in self.daemon.api_dags().items() if dag["is_active"]}

    def write_files(self, folder, names):
        for name in names:
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(FILES[name])

    def check_back(self, round_name):
        wait_for(lambda: self.active() == {"alpha", "beta", "gamma"}, timeout=20, interval=0.2)
        dags = self.daemon.api_dags()
        self.assertTrue(dags["beta"]["is_paused"], "beta's pause state was lost")
        self.assertEqual(len(self.daemon.runs("alpha")), self.alpha_runs, "alpha's runs")
        self.daemon.trigger("alpha", round_name)
        self.assertEqual(self.daemon.wait_for_run("alpha", round_name, timeout=30), "success")
        self.alpha_runs += 1
        self.assertEqual(len(self.daemon.import_errors()), 0)
        self.assertIsNone(self.daemon.process.poll(), "the daemon stopped")

    def test_folder_deleted_and_recreated(self):
        self.daemon.start()
        self.daemon.trigger("alpha", "before")
        self.assertEqual(self.daemon.wait_for_run("alpha", "before", timeout=30), "success")
        self.alpha_runs = 1
        self.daemon.http("/api/v1/dags/beta", method="PATCH", body='{"is_paused": true}')
        versions = {d: self.daemon.query("SELECT MAX(version_number) FROM dag_version WHERE dag_id = ?", d)[0][0]
                    for d in ("alpha", "beta", "gamma")}

        # 1. Removed with everything in it; made again empty; the files come back one by one.
        # A folder that is not there is a scan error, not the end of every DAG in it (docs/scheduler.md):
        # /health says so and every DAG stays active.
        shutil.rmtree(self.daemon.dags)
        problem = wait_for(lambda: self.daemon.health()["dag_processor"].get("detail"), timeout=20, interval=0.1)[0]
        print("while the folder is gone, /health says: %s" % problem, file=sys.stderr)
        self.assertEqual(self.active(), {"alpha", "beta", "gamma"})
        os.makedirs(self.daemon.dags)
        time.sleep(0.5)
        for name in FILES:
            self.write_files(self.daemon.dags, [name])
            time.sleep(0.2)
        self.check_back("after_recreate")

        # 2. Replaced in one rename, with one more file than before.
        new = self.daemon.dags + ".new"
        self.write_files(new, FILES)
        with open(os.path.join(new, "delta.yaml"), "w") as f:
            f.write("dag_id: delta\ntasks:\n  - task_id: d\n    operator: empty\n")
        os.rename(self.daemon.dags, self.daemon.dags + ".old")
        os.rename(new, self.daemon.dags)
        wait_for(lambda: "delta" in self.active(), timeout=20, interval=0.2)
        shutil.rmtree(self.daemon.dags + ".old")
        os.remove(os.path.join(self.daemon.dags, "delta.yaml"))
        self.check_back("after_rename")

        # 3. A file added later is still seen: the watch follows the folder now at the path.
        self.daemon.write_dag("epsilon.yaml", "dag_id: epsilon\ntasks:\n  - task_id: e\n    operator: empty\n")
        wait_for(lambda: "epsilon" in self.active(), timeout=20, interval=0.2)

        for dag_id in ("alpha", "beta", "gamma"):  # the same file again is not a new version
            self.assertEqual(self.daemon.query("SELECT MAX(version_number) FROM dag_version WHERE dag_id = ?", dag_id)[0][0],
                             versions[dag_id], dag_id)
        health = self.daemon.health()
        self.assertEqual(health["dag_processor"]["status"], "healthy", health)
        self.assertNotIn("Sanitizer", self.daemon.read_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
