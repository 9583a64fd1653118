"""A DAG folder that cannot be read for a moment (moved away, no permission, not a folder) is a
scan error: no DAG is deactivated or paused, and runs go on being created. A file that is gone
deactivates its DAG, as Airflow does, without touching its pause state; when the file comes
back the DAG is active again, paused or not as its users last chose."""

import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

# Runs all the time: catchup over a year of hours, one run at a time.
STEADY = """
schedule: "@hourly"
start_date: 2020-01-01
catchup: true
max_active_runs: 1
tasks:
  - task_id: tick
    operator: bash
    bash_command: "true"
"""

MANUAL = """
schedule: null
tasks:
  - task_id: a
    operator: empty
"""


class FolderUnreadableTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False)
        cls.daemon.write_dag("steady.yaml", STEADY)
        cls.daemon.write_dag("manual.yaml", MANUAL)
        cls.daemon.write_dag("team/chosen_paused.yaml", MANUAL)
        cls.daemon.start()
        cls.daemon.cli("dags", "pause", "chosen_paused", check=True)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def states(self):
        return {dag_id: (dag["is_active"], dag["is_paused"]) for dag_id, dag in self.daemon.api_dags().items()}

    def assert_untouched(self):
        self.assertEqual(self.states(), {"steady": (True, False), "manual": (True, False),
                                         "chosen_paused": (True, True)})

    def assert_runs_go_on(self):
        count = len(self.daemon.runs("steady"))
        wait_for(lambda: len(self.daemon.runs("steady")) >= count + 2, timeout=30)

    def folder_away_for_a_moment(self, away, back):
        away()
        time.sleep(1.2)  # six scan intervals
        back()
        time.sleep(1.0)
        self.assert_untouched()
        self.assertIsNone(self.daemon.process.poll())
        self.assertNotIn("is gone", self.daemon.read_log())
        self.assert_runs_go_on()

    def test_1_runs_are_created(self):
        self.assert_untouched()
        self.assert_runs_go_on()

    def test_2_folder_moved_away_and_back(self):
        dags, old = self.daemon.dags, self.daemon.dags + ".old"
        self.folder_away_for_a_moment(lambda: os.rename(dags, old), lambda: os.rename(old, dags))

    def test_3_folder_replaced_by_a_file_for_a_moment(self):
        dags, old = self.daemon.dags, self.daemon.dags + ".old"

        def away():
            os.rename(dags, old)
            with open(dags, "w") as f:
                f.write("not a folder\n")

        def back():
            os.remove(dags)
            os.rename(old, dags)
        self.folder_away_for_a_moment(away, back)

    def test_4_folder_without_permission_for_a_moment(self):
        if os.geteuid() == 0:
            self.skipTest("root reads every folder")
        dags = self.daemon.dags
        self.folder_away_for_a_moment(lambda: os.chmod(dags, 0), lambda: os.chmod(dags, 0o755))

    def test_5_subfolder_moved_away_and_back(self):
        team, old = os.path.join(self.daemon.dags, "team"), os.path.join(self.daemon.home, "team.away")
        os.rename(team, old)
        wait_for(lambda: not self.states()["chosen_paused"][0])
        self.assertEqual(self.states()["chosen_paused"], (False, True))  # deactivated, still paused
        os.rename(old, team)
        wait_for(lambda: self.states()["chosen_paused"][0])
        self.assert_untouched()

    def test_6_a_deleted_file_deactivates_its_dag_without_pausing_it(self):
        manual = os.path.join(self.daemon.dags, "manual.yaml")
        chosen = os.path.join(self.daemon.dags, "team", "chosen_paused.yaml")
        os.remove(manual)
        os.remove(chosen)
        wait_for(lambda: not self.states()["manual"][0] and not self.states()["chosen_paused"][0])
        self.assertEqual(self.states(), {"steady": (True, False), "manual": (False, False),
                                         "chosen_paused": (False, True)})
        self.assertEqual(self.daemon.dag_ids(), ["steady"])  # `dags list` shows active DAGs only
        refused = self.daemon.cli("dags", "trigger", "manual")
        self.assertNotEqual(refused.returncode, 0)
        self.assert_runs_go_on()
        self.daemon.write_dag("manual.yaml", MANUAL)
        self.daemon.write_dag("team/chosen_paused.yaml", MANUAL)
        wait_for(lambda: self.states()["manual"][0] and self.states()["chosen_paused"][0])
        self.assert_untouched()
        self.daemon.cli("dags", "trigger", "manual", check=True)
        wait_for(lambda: [run["state"] for run in self.daemon.runs("manual")] == ["success"])

    def test_7_a_file_deleted_while_the_daemon_was_stopped_deactivates_its_dag(self):
        self.assertEqual(self.daemon.stop(), 0)
        os.remove(os.path.join(self.daemon.dags, "team", "chosen_paused.yaml"))
        self.daemon.start()
        wait_for(lambda: not self.states()["chosen_paused"][0])
        self.assertEqual(self.states(), {"steady": (True, False), "manual": (True, False),
                                         "chosen_paused": (False, True)})


if __name__ == "__main__":
    unittest.main(verbosity=2)
