"""The CLI's checks that need no daemon: validate, schedule preview, render from a folder."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, REPO  # noqa: E402


def run(*args, env=None):
    return subprocess.run([MAYAFLOW, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MAYAFLOW_HOME=tempfile.mkdtemp(prefix="mayaflow-cli-"), **(env or {})))


class ValidateTest(unittest.TestCase):
    def test_good_files_exit_zero(self):
        result = run("dags", "validate", os.path.join(REPO, "dags"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ok: DAG 'hello_mayaflow'", result.stdout)

    def test_bad_file_exits_one_with_message_on_stderr(self):
        bad = os.path.join(REPO, "tests", "corpus", "bad_dags", "19_missing_upstream.yaml")
        result = run("dags", "validate", bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn("19_missing_upstream.yaml:7:17:", result.stderr)
        self.assertIn("did you mean 'extract'?", result.stderr)
        self.assertEqual(result.stdout, "")

    def test_missing_file(self):
        result = run("dags", "validate", "/nonexistent/x.yaml")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no such file", result.stderr)


class SchedulePreviewTest(unittest.TestCase):
    def test_weekdays_in_tokyo(self):
        result = run("schedule", "preview", "0 3 * * MON-FRI", "--timezone", "Asia/Tokyo",
                     "--from", "2024-03-01T00:00:00", "--count", "4")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), [
            "2024-03-01T03:00:00+09:00", "2024-03-04T03:00:00+09:00",
            "2024-03-05T03:00:00+09:00", "2024-03-06T03:00:00+09:00"])

    def test_dst_gap_in_new_york(self):
        result = run("schedule", "preview", "30 2 * * *", "--timezone", "America/New_York",
                     "--from", "2024-03-09T00:00:00", "--count", "3")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), [
            "2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"])

    def test_errors(self):
        result = run("schedule", "preview", "0 25 * * *")
        self.assertEqual(result.returncode, 1)
        self.assertIn("hour", result.stderr)
        result = run("schedule", "preview", "@daily", "--timezone", "Mars/Olympus")
        self.assertEqual(result.returncode, 1)
        self.assertIn("Mars/Olympus", result.stderr)
        result = run("schedule", "preview", "@daily", "--from", "yesterday")
        self.assertEqual(result.returncode, 2)  # not a date: a usage error
        self.assertIn("--from", result.stderr)


class RenderTest(unittest.TestCase):
    def test_render_from_folder(self):
        result = run("tasks", "render", "education_layers", "students.load_raw", "2024-04-08",
                     "--subdir", os.path.join(REPO, "dags"))
        self.assertEqual(result.returncode, 0, result.stderr)
        # The group's templates see their loop item (app.table, app.columns) beside ds.
        self.assertIn("app/students/20240408/students.csv", result.stdout)
        self.assertIn("raw.students$20240408", result.stdout)
        self.assertIn("school_id", result.stdout)

    def test_render_unknown_task(self):
        result = run("tasks", "render", "education_layers", "nope", "2024-04-08",
                     "--subdir", os.path.join(REPO, "dags"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("has no task 'nope'", result.stderr)


class TaskTestTest(unittest.TestCase):
    def test_runs_one_task_and_prints_its_log(self):
        result = run("tasks", "test", "hello_mayaflow", "print_date", "2024-02-10",
                     "--subdir", os.path.join(REPO, "dags"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("logical date (UTC): 2024-02-09", result.stdout)
        self.assertIn("[mayaflow] task print_date success", result.stdout)

    def test_failing_task_exits_one(self):
        folder = tempfile.mkdtemp(prefix="mayaflow-cli-dags-")
        with open(os.path.join(folder, "fails.yaml"), "w") as f:
            f.write("tasks:\n  - task_id: boom\n    operator: bash\n    bash_command: echo oops; exit 4\n")
        result = run("tasks", "test", "fails", "boom", "--subdir", folder)
        self.assertEqual(result.returncode, 1)
        self.assertIn("oops", result.stdout)
        self.assertIn("exit code 4", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
