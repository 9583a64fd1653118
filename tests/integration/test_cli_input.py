"""Wrong input on the command line: usage errors exit 2, dates follow one rule and stay in range,
bytes that are not UTF-8 get a clear error, and every command says which instant it took."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, REPO, Daemon, wait_for  # noqa: E402


def run(*args, home=None):
    env = dict(os.environ, MAYAFLOW_HOME=home or tempfile.mkdtemp(prefix="mayaflow-cli-"))
    return subprocess.run([MAYAFLOW, *args], capture_output=True, timeout=60, env=env)


class UsageErrorsTest(unittest.TestCase):
    def test_usage_errors_exit_two(self):
        cases = [
            ("nosuch",),                                  # unknown command
            ("dags", "list", "--no-such-option"),         # unknown option
            ("dags", "trigger"),                          # missing argument
            ("dags", "list-runs", "a", "b"),              # extra argument
            ("schedule", "preview", "@daily", "--count", "0"),        # out of range
            ("schedule", "preview", "@daily", "--count", "many"),     # not a number
            ("dags", "next-execution", "x", "-n", "-3"),
        ]
        for args in cases:
            with self.subTest(args=args):
                result = run(*args)
                self.assertEqual(result.returncode, 2, (args, result.stderr))
                self.assertTrue(result.stderr.strip(), args)

    def test_unknown_commands_name_the_word_and_a_likely_one(self):
        cases = [
            ((b"dags", b"lsit"), b"mayaflow dags has no command 'lsit'; did you mean 'mayaflow dags list'?"),
            ((b"dgas", b"list"), b"mayaflow has no command 'dgas'; did you mean 'mayaflow dags'?"),
            ((b"connections", b"ad", b"x"), b"did you mean 'mayaflow connections add'?"),
            ((b"variables", b"gett"), b"did you mean 'mayaflow variables get'?"),
            ((b"zzzzzzzz",), b"mayaflow has no command 'zzzzzzzz' (`mayaflow --help` lists them)"),
            ((b"dags", b"\xff\xfe"), b"has no command '\\xff\\xfe'"),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                result = run(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(expected, result.stderr)

    def test_validate_fails_on_paths_without_dag_files(self):
        folder = tempfile.mkdtemp(prefix="mayaflow-validate-")
        empty = os.path.join(folder, "empty")
        os.mkdir(empty)
        result = run("dags", "validate", empty)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"no DAG files in this folder", result.stderr)
        result = run("dags", "validate", os.path.join(folder, "missing.yaml"))
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"no such file or folder", result.stderr)
        self.assertIn(b"1 of 1 DAG file failed", result.stderr)
        # A FIFO or a dangling link named like a DAG file is a warning, and never blocks the read.
        with_odd = os.path.join(folder, "odd")
        os.mkdir(with_odd)
        os.mkfifo(os.path.join(with_odd, "pipe.yaml"))
        os.symlink("/nonexistent/target.yaml", os.path.join(with_odd, "dangling.yaml"))
        with open(os.path.join(with_odd, "good.yaml"), "w") as f:
            f.write("tasks:\n  - task_id: a\n    operator: empty\n")
        result = run("dags", "validate", with_odd)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(b"pipe.yaml is a FIFO, not a file", result.stderr)
        self.assertIn(b"dangling.yaml is a link to nothing", result.stderr)
        self.assertIn(b"good.yaml: ok", result.stdout)

    def test_help_and_version_exit_zero(self):
        self.assertEqual(run("--help").returncode, 0)
        self.assertEqual(run("--version").returncode, 0)


class DatesTest(unittest.TestCase):
    def test_dates_out_of_range_are_refused(self):
        for date in ["0000-01-01", "0001-01-01", "1899-12-31", "10000-01-01", "9999-13-01", "2024-02-30", ""]:
            for args in [("tasks", "render", "-S", os.path.join(REPO, "dags"), "hello_mayaflow", "hello", date),
                         ("tasks", "test", "-S", os.path.join(REPO, "dags"), "hello_mayaflow", "hello", date)]:
                with self.subTest(date=date, command=args[:2]):
                    result = run(*args)
                    self.assertEqual(result.returncode, 2, (args, result.stdout, result.stderr))
                    self.assertIn(b"error:", result.stderr)

    def test_next_execution_without_runs_to_come_says_so(self):
        folder = tempfile.mkdtemp(prefix="mayaflow-next-")
        with open(os.path.join(folder, "late.yaml"), "w") as f:
            f.write("dag_id: late\nschedule: '0 0 29 2 1'\nstart_date: 9999-12-30\n"
                    "tasks:\n  - task_id: a\n    operator: empty\n")
        result = run("dags", "next-execution", "late", "-S", folder, "-n", "2")
        self.assertEqual(result.returncode, 1, (result.stdout, result.stderr))
        self.assertIn(b"has no run to come", result.stderr)

    def test_preview_past_the_last_date_says_so(self):
        result = run("schedule", "preview", "@daily", "--from", "9999-12-31T00:00:00")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"does not fire after", result.stderr)
        result = run("schedule", "preview", "@daily", "--from", "9999-12-29T00:00:00", "--count", "5")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stdout.splitlines()), 2)
        self.assertIn(b"only 2 of 5", result.stderr)

    def test_render_and_test_read_a_naive_date_in_the_dags_zone_and_say_so(self):
        dags = os.path.join(REPO, "dags")
        for command in ["render", "test"]:
            with self.subTest(command=command):
                result = run("tasks", command, "-S", dags, "hello_mayaflow", "print_date", "2024-03-05T03:00")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn(b"2024-03-05T03:00:00+09:00 (Asia/Tokyo) = 2024-03-04T18:00:00+00:00", result.stderr)
                # No run in the database: the run `dags trigger -l` makes, whose interval (Airflow's
                # infer_manual_data_interval) ends at the logical date when it is on the schedule.
                self.assertIn(b"2024-03-03T18:00:00+00:00 .. 2024-03-04T18:00:00+00:00", result.stdout)
                # An offset names the instant whatever the zone.
                result = run("tasks", command, "-S", dags, "hello_mayaflow", "print_date", "2024-03-04T18:00:00Z")
                self.assertIn(b"= 2024-03-04T18:00:00+00:00", result.stderr)


class NotUtf8Test(unittest.TestCase):
    def test_bytes_that_are_not_utf8_get_a_clear_error(self):
        for args in [("dags", "trigger", "hello_mayaflow", "-r", b"\xff"),
                     ("dags", "trigger", b"caf\xe9"),
                     ("dags", "trigger", "hello_mayaflow", "-c", b'{"k": "\xe9"}'),
                     ("dags", "trigger", "hello_mayaflow", "-l", b"2024-01-01\xff"),
                     ("tasks", "clear", "hello_mayaflow", b"run\xff")]:
            with self.subTest(args=args):
                result = run(*args)
                self.assertIn(result.returncode, (1, 2), result.stderr)
                self.assertNotIn(b"json.exception", result.stderr)
                self.assertNotIn(b"[json", result.stderr)
                self.assertIn(b"error:", result.stderr)
                # Whatever is shown of the bad bytes is escaped: the message itself is UTF-8.
                result.stderr.decode("utf-8")

    def test_schedule_preview_input_that_is_not_utf8_is_a_usage_error(self):
        for args, what in [(("schedule", "preview", b"0 0 * * \xff"), b"the schedule"),
                           (("schedule", "preview", "@daily", "--timezone", b"Asia/\xff"), b"--timezone")]:
            with self.subTest(args=args):
                result = run(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(what + b" is not UTF-8 text (byte 0xff", result.stderr)

    def test_conf_that_is_not_utf8_says_where(self):
        for conf, offset in [(b'{"k": "\xe9"}', 7), (b"\xff", 0), (b'{"a": 1, "\xc3": 2}', 10)]:
            with self.subTest(conf=conf):
                result = run("dags", "trigger", "nosuch", "-c", conf)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(b"--conf is not UTF-8 text (byte 0x%02x at offset %d)" % (conf[offset], offset),
                              result.stderr)


class TriggerAndTestAgreeTest(unittest.TestCase):
    def test_trigger_creates_the_run_that_tasks_test_previews(self):
        daemon = Daemon().start()
        try:
            wait_for(lambda: "hello_mayaflow" in daemon.dag_ids())
            result = daemon.cli("dags", "trigger", "hello_mayaflow", "-l", "2024-03-05T03:00", "-r", "by_hand")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("= 2024-03-04T18:00:00+00:00", result.stderr)
            runs, _ = wait_for(lambda: [r for r in json.loads(daemon.cli("dags", "list-runs", "hello_mayaflow", "-o",
                                                                              "json").stdout) if r["run_id"] == "by_hand"])
            self.assertEqual(runs[0]["logical_date"], "2024-03-04T18:00:00+00:00")
            # Dates out of range are refused as usage errors, for a DAG the daemon knows.
            for date in ["0000-01-01", "1899-12-31", "10000-01-01", "2024-02-30"]:
                for args in [("dags", "trigger", "hello_mayaflow", "-l", date),
                             ("dags", "backfill", "hello_mayaflow", "--from", date, "--to", "2024-03-02", "--dry-run")]:
                    with self.subTest(date=date, command=args[:2]):
                        result = daemon.cli(*args)
                        self.assertEqual(result.returncode, 2, (args, result.stderr))
                        self.assertIn("error:", result.stderr)
        finally:
            daemon.cleanup()

    def test_render_and_test_show_the_interval_and_run_that_trigger_makes(self):
        daemon = Daemon(copy_examples=False).start()
        try:
            daemon.write_dag("tz.yaml", "dag_id: tz\ntimezone: Europe/Berlin\nschedule: '30 2 * * *'\n"
                                        "start_date: 2026-01-01\ntasks:\n  - task_id: t\n    operator: bash\n"
                                        "    bash_command: echo {{ data_interval_start }} {{ data_interval_end }} "
                                        "{{ run_id }}\n")
            wait_for(lambda: "tz" in daemon.dag_ids(), timeout=30)
            daemon.cli("dags", "pause", "tz", check=True)
            for date in ["2026-10-25T02:30", "2026-03-29T02:30", "2026-06-01T12:00"]:
                with self.subTest(date=date):
                    before = daemon.cli("tasks", "render", "tz", "t", date, check=True).stdout
                    tested = daemon.cli("tasks", "test", "tz", "t", date, check=True).stdout
                    run_id = "by_hand_" + date.replace(":", "").replace("-", "")
                    daemon.cli("dags", "trigger", "tz", "-l", date, "-r", run_id, check=True)
                    runs, _ = wait_for(lambda: [r for r in json.loads(daemon.cli(
                        "dags", "list-runs", "tz", "-o", "json").stdout) if r["run_id"] == run_id])
                    start, end = runs[0]["data_interval_start"], runs[0]["data_interval_end"]
                    after = daemon.cli("tasks", "render", "tz", "t", date, check=True).stdout
                    from datetime import datetime, timezone
                    as_utc = lambda text: datetime.fromisoformat(text).astimezone(timezone.utc).isoformat()
                    words = [w for w in before.split() if w[:2] == "20"]
                    self.assertEqual([as_utc(w) for w in words[-2:]], [as_utc(start), as_utc(end)], before)
                    self.assertIn(" ".join(before.split()[-3:-1]), tested)
                    self.assertIn(run_id, after)  # once it exists, the run itself is shown
        finally:
            daemon.cleanup()


if __name__ == "__main__":
    unittest.main()
