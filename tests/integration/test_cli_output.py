"""The CLI's list commands print through one formatter: -o table|json|yaml|plain with Airflow's
columns; the commands Airflow users look for (dags state, dags details, tasks states-for-dag-run,
config, version, cheat-sheet); usage errors exit 2 with a clear message."""

import json
import os
import subprocess
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, Daemon, wait_for  # noqa: E402

QUICK = """
dag_id: quick
description: Two quick tasks
schedule: "0 3 * * *"
start_date: 2024-01-01
catchup: false
tags: [demo]
tasks:
  - task_id: one
    operator: bash
    bash_command: echo one
  - task_id: two
    operator: bash
    depends_on: [one]
    bash_command: echo two
"""

SECRET_KEY = "ab" * 32


class CliOutputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False)
        cls.daemon.write_dag("quick.yaml", QUICK)
        cls.daemon.start()
        wait_for(lambda: "quick" in cls.daemon.dag_ids())
        cls.daemon.cli("dags", "trigger", "quick", "-l", "2024-02-01T00:00:00Z", "-r", "by_hand", "-c", '{"a": 1}',
                       check=True)
        wait_for(lambda: [r for r in cls.daemon.runs("quick") if r["state"] == "success"], timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def cli(self, *args, env=None):
        environment = dict(self.daemon.env, **(env or {}))
        return subprocess.run([MAYAFLOW, *args], env=environment, capture_output=True, text=True, timeout=60)

    def ok(self, *args, env=None):
        result = self.cli(*args, env=env)
        self.assertEqual(result.returncode, 0, "%s: %s" % (args, result.stderr))
        return result.stdout

    def test_every_list_command_prints_the_four_formats_alike(self):
        commands = [
            (("dags", "list"), "dag_id"),
            (("dags", "list-runs", "quick"), "run_id"),
            (("tasks", "list", "quick"), "task_id"),
            (("tasks", "states-for-dag-run", "quick", "by_hand"), "task_id"),
            (("dags", "next-execution", "quick", "-n", "2"), "logical_date"),
            (("pools", "list"), "pool"),
            (("variables", "list"), None),
            (("config", "list"), "key"),
        ]
        for args, column in commands:
            with self.subTest(command=" ".join(args)):
                as_json = json.loads(self.ok(*args, "-o", "json"))
                as_yaml = yaml.safe_load(self.ok(*args, "-o", "yaml"))
                self.assertIsInstance(as_json, list)
                self.assertEqual(as_yaml, as_json)  # the same records, whatever the format
                plain = self.ok(*args, "-o", "plain").splitlines()
                self.assertEqual(len(plain), len(as_json))
                table = self.ok(*args, "-o", "table").splitlines()
                if as_json:
                    self.assertEqual(len(table), len(as_json) + 2)  # header, rule, rows
                    self.assertTrue(set(table[1]) <= {"=", "+"}, table[1])
                    keys = list(as_json[0].keys())
                    self.assertEqual([c.strip() for c in table[0].split(" | ")], keys)
                    self.assertEqual(len(plain[0].split("\t")), len(keys))
                    if column:
                        self.assertIn(column, keys)
                else:
                    self.assertEqual(table, ["No data found"])

    def test_airflows_columns(self):
        runs = json.loads(self.ok("dags", "list-runs", "quick", "-o", "json"))
        self.assertEqual(list(runs[0])[:6], ["dag_id", "run_id", "state", "logical_date", "start_date", "end_date"])
        pools = json.loads(self.ok("pools", "list", "-o", "json"))
        self.assertEqual(list(pools[0]), ["pool", "slots", "description"])
        states = json.loads(self.ok("tasks", "states-for-dag-run", "quick", "by_hand", "-o", "json"))
        self.assertEqual(sorted((s["task_id"], s["state"]) for s in states), [("one", "success"), ("two", "success")])
        self.assertEqual(states[0]["logical_date"], "2024-02-01T00:00:00+00:00")

    def test_empty_lists(self):
        self.daemon.write_dag("empty.yaml", "dag_id: empty\ntasks:\n  - task_id: t\n    operator: empty\n")
        wait_for(lambda: "empty" in self.daemon.dag_ids())
        self.assertEqual(self.ok("dags", "list-runs", "empty", "-o", "json"), "[]\n")
        self.assertEqual(self.ok("dags", "list-runs", "empty", "-o", "yaml"), "[]\n")
        self.assertEqual(self.ok("dags", "list-runs", "empty", "-o", "plain"), "")
        self.assertEqual(self.ok("dags", "list-runs", "empty"), "No data found\n")

    def test_defaults_stay_what_they_were(self):
        self.assertEqual(self.ok("tasks", "list", "quick"), "one\ntwo\n")
        self.assertEqual(len(self.ok("dags", "next-execution", "quick", "-n", "2").splitlines()), 2)
        self.assertTrue(self.ok("config", "list").startswith("[core]\n"))

    def test_a_run_by_run_id_or_logical_date(self):
        self.assertEqual(self.ok("dags", "state", "quick", "by_hand"), 'success, {"a":1}\n')
        self.assertEqual(self.ok("dags", "state", "quick", "2024-02-01T00:00:00Z"), 'success, {"a":1}\n')
        by_date = json.loads(self.ok("tasks", "states-for-dag-run", "quick", "2024-02-01T00:00:00+00:00", "-o", "json"))
        self.assertEqual({s["run_id"] for s in by_date}, {"by_hand"})
        missing = self.cli("dags", "state", "quick", "no_such_run")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no run with run id or logical date 'no_such_run'", missing.stderr)

    def test_dag_details(self):
        details = json.loads(self.ok("dags", "details", "quick", "-o", "json"))
        self.assertEqual(len(details), 1)
        self.assertEqual(details[0]["dag_id"], "quick")
        self.assertEqual(details[0]["tags"], ["demo"])
        self.assertIs(details[0]["is_paused"], False)
        # As Airflow: a row per property in table and plain, one object in json and yaml.
        plain = dict(line.split("\t") for line in self.ok("dags", "details", "quick", "-o", "plain").splitlines())
        self.assertEqual(plain["is_paused"], "False")
        self.assertEqual(plain["tags"], '["demo"]')
        self.assertEqual(yaml.safe_load(self.ok("dags", "details", "quick", "-o", "yaml")), details)
        table = self.ok("dags", "details", "quick")
        self.assertIn("description", table)
        self.assertIn("Two quick tasks", table)
        unknown = self.cli("dags", "details", "nope")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("no DAG with dag_id 'nope'", unknown.stderr)

    def test_config(self):
        self.assertEqual(self.ok("config", "get-value", "core", "dags_folder").strip(), self.daemon.dags)
        self.assertEqual(self.ok("config", "get-value", "database", "sql_alchemy_conn").strip(),
                         os.path.join(self.daemon.home, "mayaflow.db"))
        listed = json.loads(self.ok("config", "list", "-o", "json"))
        by_key = {(o["section"], o["key"]): o for o in listed}
        self.assertEqual(by_key[("scheduler", "dag_scan_interval")]["source"], "env var")
        self.assertEqual(by_key[("webserver", "web_server_port")]["source"], "default")
        self.assertEqual(by_key[("core", "fernet_key")]["value"], "< hidden >")
        only = self.ok("config", "list", "--section", "logging", "--include-sources")
        self.assertTrue(only.startswith("[logging]\nbase_log_folder = "), only)
        self.assertIn("# Source: default", only)
        unknown = self.cli("config", "get-value", "core", "dag_folder")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("The option [core/dag_folder] is not found in config", unknown.stderr)
        self.assertIn("did you mean 'dags_folder'", unknown.stderr)
        self.assertEqual(self.cli("config", "list", "--section", "smtp").returncode, 1)

    def test_the_secret_key_is_never_printed(self):
        env = {"MAYAFLOW_SECRET_KEY": SECRET_KEY}
        for args in (("config", "list"), ("config", "list", "-o", "json"), ("config", "list", "-o", "yaml"),
                     ("config", "get-value", "core", "fernet_key")):
            with self.subTest(args=args):
                out = self.ok(*args, env=env)
                self.assertNotIn(SECRET_KEY, out)
                self.assertIn("< hidden >", out)

    def test_version_and_cheat_sheet(self):
        version = self.ok("version").strip()
        self.assertEqual(self.ok("--version").strip(), "mayaflow " + version)
        sheet = self.ok("cheat-sheet")
        for command in ("mayaflow db clean", "mayaflow config get-value", "mayaflow dags list",
                        "mayaflow tasks states-for-dag-run", "mayaflow version"):
            self.assertIn(command, sheet)
        self.assertNotIn("_supervise", sheet)

    def test_usage_errors_exit_two_and_say_what_is_wrong(self):
        cases = [
            (("dags", "list", "-o", "csv"), "csv"),
            (("dags", "list-runs", "quick", "--limit", "99999999999999999999"), "--limit"),
            (("tasks", "states-for-dag-run", "quick"), "execution_date_or_run_id"),
            (("config", "get-value", "core"), "option"),
            (("dags", "trigger", "quick", "-l", "2024-02-30"), "--logical-date"),
            (("dags", "trigger", "quick", "-l", b"2024-02-01\xff"), "UTF-8"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                result = subprocess.run([MAYAFLOW, *args], env=self.daemon.env, capture_output=True, timeout=60)
                stderr = result.stderr.decode("utf-8", "replace")
                self.assertEqual(result.returncode, 2, stderr)
                self.assertIn(message, stderr)

    def test_names_that_are_not_utf8_are_escaped_in_errors(self):
        result = subprocess.run([MAYAFLOW, "dags", "details", b"caf\xe9"], env=self.daemon.env, capture_output=True,
                                timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"caf\\xe9", result.stderr)
        result = subprocess.run([MAYAFLOW, "config", "get-value", b"\xff", "x"], env=self.daemon.env,
                                capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"\\xff", result.stderr)


if __name__ == "__main__":
    unittest.main()
