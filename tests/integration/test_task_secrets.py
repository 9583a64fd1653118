"""Connections and variables reach the daemon's tasks through their templates, and what they hold in
secret never shows: not in a task's log (what the command prints included), not in a try's message,
not in `tasks render` or `tasks test`, not in the daemon's own log, and not in clear in the database."""

import json
import os
import pathlib
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

PG_PASSWORD = "Zq8 s3cr3t-pw"
URL_PASSWORD = "p@ss word/42"  # printed URL-encoded: p%40ss%20word/42
SLACK_TOKEN = "xoxb-777-tok"
ENV_PASSWORD = "env-pass-9931"
LATE_PASSWORD = "late-added-5521"
API_KEY = "ak-31337-extra"
SECRETS = [PG_PASSWORD, URL_PASSWORD, SLACK_TOKEN, ENV_PASSWORD, LATE_PASSWORD, API_KEY]

DAG = """
dag_id: secrets
schedule: null
tasks:
  - task_id: print_secrets
    operator: bash
    append_env: true
    env:
      TOKEN: "{{ var.value.slack_token }}"
    bash_command: |
      echo "login={{ conn.pg.login }} host={{ conn.pg.host }} password={{ conn.pg.password }}"
      echo "dataset={{ var.value.dataset }} key={{ var.json.config.key }}"
      echo "token=$TOKEN" >&2
      echo "url=https://u:{{ conn.web.password | urlencode }}@example.com"
      echo "env={{ conn.api.password }} extra={{ conn.web.extra_dejson.api_key }} region={{ conn.web.extra_dejson.region }}"
      printf 'split=Zq8 s3'; sleep 0.3; printf 'cr3t-pw\\n'
      echo "key=${MAYAFLOW_SECRET_KEY:-none}"
      echo "{{ conn.pg.password }}"
  - task_id: late
    operator: bash
    depends_on: [print_secrets]
    bash_command: echo "late={{ conn.late.password }}"
  - task_id: bad_template
    operator: bash
    depends_on: [print_secrets]
    bash_command: echo "{{ macros.ds_add(conn.pg.password, 1) }}"
"""


class TaskSecretsTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(copy_examples=False,
                             env={"MAYAFLOW_CONN_API": "http://svc:%s@api.example.com" % ENV_PASSWORD})

    def tearDown(self):
        self.daemon.cleanup()

    def cli(self, *args):
        return self.daemon.cli(*args, check=True)

    def add_secrets(self):
        self.cli("connections", "add", "pg", "--conn-type", "postgres", "--conn-host", "db.example.com",
                 "--conn-login", "etl", "--conn-password", PG_PASSWORD)
        self.cli("connections", "add", "web", "--conn-json",
                 json.dumps({"conn_type": "http", "password": URL_PASSWORD,
                             "extra": {"api_key": API_KEY, "region": "eu-west1"}}))
        self.cli("variables", "set", "dataset", "sales_raw")
        self.cli("variables", "set", "config", '{"key": "value-1"}')
        self.cli("variables", "set", "slack_token", SLACK_TOKEN)

    def task_log(self, run_id, task_id):
        return self.cli("tasks", "logs", "secrets", run_id, task_id).stdout

    def assert_no_secret(self, text, where):
        for secret in SECRETS + ["p%40ss%20word"]:
            self.assertNotIn(secret, text, "%s shows %r:\n%s" % (where, secret, text))

    def test_secrets_are_read_by_templates_and_masked_everywhere(self):
        self.add_secrets()
        self.daemon.write_dag("secrets.yaml", DAG)
        self.daemon.start()
        wait_for(lambda: "secrets" in self.daemon.dag_ids())
        # Added while the daemon runs: the next try knows it, and masks it.
        self.cli("connections", "add", "late", "--conn-uri", "http://u:%s@late.example.com" % LATE_PASSWORD)
        self.cli("dags", "trigger", "secrets")

        def finished():
            runs = json.loads(self.cli("dags", "list-runs", "secrets", "-o", "json").stdout)
            return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None
        run, _ = wait_for(finished, timeout=60)
        run_id = run["run_id"]

        log = self.task_log(run_id, "print_secrets")
        self.assert_no_secret(log, "the task's log")
        # The templates read the connections and variables; the secrets show as ***.
        self.assertIn("login=etl host=db.example.com password=***", log)
        self.assertIn("dataset=sales_raw key=value-1", log)
        self.assertIn("token=***", log)
        self.assertIn("url=https://u:***@example.com", log)
        self.assertIn("env=*** extra=*** region=eu-west1", log)
        self.assertIn("split=***", log)
        self.assertIn("key=none", log)  # the daemon's secret key is not handed to tasks
        self.assertEqual(self.cli("tasks", "state", "secrets", run_id, "print_secrets").stdout.strip(), "success")

        late = self.task_log(run_id, "late")
        self.assertIn("late=***", late)
        self.assert_no_secret(late, "the late task's log")

        # A template error that quotes the password: the try's message and its log mask it.
        bad = self.task_log(run_id, "bad_template")
        self.assertIn("***", bad)
        self.assert_no_secret(bad, "the failed task's log")
        self.assertEqual(self.cli("tasks", "state", "secrets", run_id, "bad_template").stdout.strip(), "failed")
        self.assertIn("failed: template error in bash_command", bad)  # the try's message, as stored

        # `tasks render` and `tasks test` show the templates as they run, secrets masked.
        rendered = self.cli("tasks", "render", "secrets", "print_secrets", "2024-03-01").stdout
        self.assertIn("password=***", rendered)
        self.assertIn("dataset=sales_raw", rendered)
        self.assert_no_secret(rendered, "tasks render")
        tested = self.cli("tasks", "test", "secrets", "print_secrets", "2024-03-01")
        self.assertIn("password=***", tested.stdout)
        self.assert_no_secret(tested.stdout + tested.stderr, "tasks test")

        self.daemon.stop()
        self.assert_no_secret(self.daemon.read_log(), "the daemon's log")
        stored = b"".join(pathlib.Path(self.daemon.home, name).read_bytes()
                          for name in os.listdir(self.daemon.home) if name.startswith("mayaflow.db"))
        for secret in SECRETS:
            self.assertNotIn(secret.encode(), stored, "the database holds %r in clear" % secret)


if __name__ == "__main__":
    unittest.main()
