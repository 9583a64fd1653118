"""Hostile DAG files against the real binary: `mayaflow dags validate` must fail on each with a clear
error naming the file, within a bounded time and memory, and never die of a signal; a file whose
only problems are warnings (Airflow 2 template names) validates with exit code 0 and `warning:` lines
on stderr. The same files, in a folder with a good DAG, leave the good one valid."""

import os
import resource
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from daemon import MAYAFLOW, REPO  # noqa: E402

# A validate that takes more than this, or more memory than MEMORY_LIMIT, has not failed fast.
TIMEOUT_SECONDS = 60
MEMORY_LIMIT = 2 * 1024 ** 3


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def is_sanitized():
    with open(MAYAFLOW, "rb") as binary:
        return b"__asan_init" in binary.read()


def validate(*paths):
    env = dict(os.environ, MAYAFLOW_HOME=tempfile.mkdtemp(prefix="mayaflow-hostile-"))
    # The sanitizers reserve far more address space than they use: limit memory only without them.
    sanitized = is_sanitized()
    return subprocess.run([MAYAFLOW, "dags", "validate", *paths], capture_output=True, timeout=TIMEOUT_SECONDS,
                          env=env, preexec_fn=None if sanitized else limit_memory)


def numbers(count):
    return "[" + ", ".join(str(i) for i in range(count)) + "]"


def task(task_id, more=""):
    return "  - task_id: %s\n    operator: empty\n%s" % (task_id, more)


HOSTILE = {
    "long_dag_id.yaml": ("dag_id: %s\ntasks:\n%s" % ("a" * 30000, task("a")), "at most 250 of them (it has 30000)"),
    "long_task_id.yaml": ("tasks:\n" + task("b" * 30000), "task_id is 30000 characters long"),
    "long_number.yaml": ("tasks:\n" + task("a", "    retries: %s\n" % ("9" * 40000)), "expected a whole number"),
    "long_timezone.yaml": ("timezone: %s\ntasks:\n%s" % ("z" * 1000000, task("a")), "unknown time zone"),
    "latin1.yaml": (b"description: caf\xe9\ntasks:\n" + task("a").encode(), "latin1.yaml:1:17: the file is not UTF-8"),
    "include_self.yaml": ("params: !include include_self.yaml\ntasks:\n" + task("a"), "include cycle"),
    "million.yaml": ("tasks:\n  - group: g_{{ item }}\n    for_each: %s\n    tasks:\n      - task_id: t_{{ n }}\n"
                     "        operator: empty\n        for_each: {n: %s}\n" % (numbers(1000), numbers(1000)),
                     "a DAG may have at most 10000 tasks"),
    "fast_schedule.yaml": ("schedule: 1ms\ntasks:\n" + task("a"), "shorter than the minimum interval of 1m"),
    "template_bomb.yaml": ("tasks:\n  - task_id: \"t{{ range(10) | batch(100000000, 'x') | list | length }}\"\n"
                           "    operator: empty\n", "list too large"),
}


class HostileDagsTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="mayaflow-hostile-dags-")

    def write(self, name, text):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as out:
            out.write(text if isinstance(text, bytes) else text.encode())
        return path

    def test_each_hostile_file_fails_with_its_error(self):
        for name, (text, expected) in HOSTILE.items():
            with self.subTest(name):
                path = self.write(name, text)
                result = validate(path)
                stderr = result.stderr.decode("utf-8")  # also proves the errors are UTF-8
                self.assertEqual(result.returncode, 1, stderr[:2000])
                self.assertIn(expected, stderr[:5000])
                self.assertIn(name, stderr[:5000])
                self.assertLess(len(stderr), 100000)

    def test_the_good_dag_beside_them_stays_valid(self):
        for name, (text, _) in HOSTILE.items():
            self.write(name, text)
        self.write("good.yaml", "schedule: \"@daily\"\ntasks:\n" + task("a"))
        result = validate(self.folder)
        self.assertEqual(result.returncode, 1)
        self.assertIn("good.yaml: ok: DAG 'good'", result.stdout.decode())
        self.assertIn("%d of %d DAG files failed validation" % (len(HOSTILE), len(HOSTILE) + 1),
                      result.stderr.decode())

    def test_airflow2_names_are_warnings(self):
        path = self.write("airflow2.yaml", "tasks:\n  - task_id: a\n    operator: bash\n"
                                           "    bash_command: \"echo {{ next_ds }} {{ execution_date }}\"\n")
        result = validate(path)
        stderr = result.stderr.decode()
        self.assertEqual(result.returncode, 0, stderr)
        self.assertIn("ok: DAG 'airflow2'", result.stdout.decode())
        warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
        self.assertEqual(len(warnings), 2, stderr)
        self.assertIn("airflow2.yaml:4:19: tasks[0].bash_command: 'next_ds'", warnings[0])
        self.assertIn("use {{ data_interval_end | ds }}", warnings[0])
        self.assertIn("use logical_date", warnings[1])

    def test_the_bad_dag_corpus_fails_without_a_crash(self):
        folder = os.path.join(REPO, "tests", "corpus", "bad_dags")
        result = validate(folder)
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])
        self.assertNotIn(b"ok: DAG", result.stdout)


if __name__ == "__main__":
    unittest.main()
