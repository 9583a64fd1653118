"""Notifications in the real daemon against the Slack stand-in (tests/fakes/slack_fake): a failing task's
exact message (DAG, run, task, try, error, the log's last lines masked, the link to its log), a retry
callback, a success callback, a DAG run's failure, a slack_webhook task, a webhook answering 500 that leaves
the task's state as it was, and the webhook's secret URL nowhere in the daemon's log, the task logs or the
API."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, REPO, wait_for  # noqa: E402

FAKES = os.path.join(REPO, "tests", "fakes")
TOKEN = "sEcReTwEbHoOk7731"
WEBHOOK_PATH = "/services/T0NOTIFY/B0NOTIFY/" + TOKEN
FAILING_PATH = "/services/W0HOOK/H0HOOK/fails"

DAG = """
dag_id: alerts
schedule: null
on_failure_callback: {notifier: slack, text: "run {{ run_id }} of {{ dag.dag_id }} failed: {{ reason }}"}
tasks:
  - task_id: flaky
    operator: bash
    retries: 1
    retry_delay: 1s
    bash_command: |
      echo "step {{ ti.try_number }}"
      echo "webhook {{ conn.slack_default.password }}"
      exit 3
    on_retry_callback: {notifier: slack}
    on_failure_callback: {notifier: slack}
  - task_id: fine
    operator: bash
    bash_command: echo fine
    on_success_callback:
      - {notifier: slack, text: "{{ ti.task_id }} succeeded on try {{ ti.try_number }}"}
      - {notifier: webhook, http_conn_id: hook, endpoint: """ + FAILING_PATH + """}
  - task_id: post
    operator: slack_webhook
    depends_on: [fine]
    text: "Report for {{ run_id }} is ready"
    username: mayaflow
"""


def fake_get(base, path, timeout=40):
    with urllib.request.urlopen(base + path, timeout=timeout) as response:
        return json.loads(response.read())


def fake_post(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


class NotificationsTest(unittest.TestCase):
    def setUp(self):
        self.slack = subprocess.Popen(["/usr/bin/python3", "-m", "slack_fake", "--port", "0"],
                                      cwd=FAKES, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        ready = json.loads(self.slack.stdout.readline())
        self.fake = ready["base_url"]
        self.webhook_url = self.fake + WEBHOOK_PATH
        fake_post(self.fake, "/_fake/faults", [{"path": FAILING_PATH, "status": 500, "times": -1}])
        self.daemon = Daemon(copy_examples=False)

    def tearDown(self):
        try:
            self.daemon.cleanup()
        finally:
            self.slack.send_signal(signal.SIGTERM)
            try:
                self.slack.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.slack.kill()
                self.slack.wait()
            self.slack.stdout.close()

    def cli(self, *args):
        return self.daemon.cli(*args, check=True)

    def messages(self, count):
        answer = fake_get(self.fake, "/_fake/messages?count=%d&timeout=30" % count)
        return answer["messages"] if isinstance(answer, dict) else answer

    def state(self, run_id, task_id):
        return self.cli("tasks", "state", "alerts", run_id, task_id).stdout.strip()

    def test_callbacks_and_the_slack_webhook_operator(self):
        self.cli("connections", "add", "slack_default", "--conn-json",
                 json.dumps({"conn_type": "slackwebhook", "password": self.webhook_url}))
        self.cli("connections", "add", "hook", "--conn-json", json.dumps({"conn_type": "http", "host": self.fake}))
        self.daemon.write_dag("alerts.yaml", DAG)
        self.daemon.start()
        wait_for(lambda: "alerts" in self.daemon.dag_ids())
        run_id = "manual_notify_1"
        self.cli("dags", "trigger", "alerts", "--run-id", run_id)

        def finished():
            runs = self.daemon.runs("alerts")
            return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None
        run, _ = wait_for(finished, timeout=90)
        self.assertEqual(run["state"], "failed")
        # retry + failure of flaky, success of fine, the slack_webhook task's post, the run's failure
        messages = self.messages(5)
        texts = [m.get("text", "") for m in messages]
        self.assertEqual(len(messages), 5, texts)
        self.assertTrue(all(m["path"] == WEBHOOK_PATH for m in messages), messages)

        base = "http://127.0.0.1:%d" % self.daemon.port
        quoted_run = urllib.parse.quote(run_id, safe="")
        link = "%s/dags/alerts/runs/%s/tasks/flaky/tries/2/log" % (base, quoted_run)
        log_file = pathlib.Path(self.daemon.home, "logs", "dag_id=alerts", "run_id=" + run_id, "task_id=flaky",
                                "attempt=2.log")
        lines = [line for line in log_file.read_text().split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        failure = [t for t in texts if t.startswith(":red_circle: Task failed")]
        self.assertEqual(len(failure), 1, texts)
        # The message quotes the log as it was when the try ended: the lines the notification saw.
        tail_start = failure[0].index("```\n") + 4
        tail = failure[0][tail_start:failure[0].index("\n```\n", tail_start)].split("\n")
        self.assertEqual(tail, lines[len(lines) - len(tail):][-20:])
        self.assertIn("step 2", tail)
        self.assertIn("webhook ***", tail)
        self.assertEqual(
            failure[0],
            ":red_circle: Task failed: DAG `alerts`, run `%s`, task `flaky`, try 2 of 2\n"
            "Error: exit code 3\n"
            "Last lines of the log:\n```\n%s\n```\n"
            "Log: %s" % (run_id, "\n".join(tail), link))

        retry = [t for t in texts if t.startswith(":large_orange_circle: Task up for retry")]
        self.assertEqual(len(retry), 1, texts)
        self.assertTrue(retry[0].startswith(
            ":large_orange_circle: Task up for retry: DAG `alerts`, run `%s`, task `flaky`, try 1 of 2; next try at "
            % run_id), retry[0])
        self.assertIn("\nError: exit code 3\n", retry[0])
        self.assertIn("step 1", retry[0])
        self.assertTrue(retry[0].endswith("Log: %s/dags/alerts/runs/%s/tasks/flaky/tries/1/log" % (base, quoted_run)))

        self.assertIn("fine succeeded on try 1", texts)
        post = [m for m in messages if m.get("text") == "Report for %s is ready" % run_id]
        self.assertEqual(len(post), 1, texts)
        self.assertEqual(post[0]["username"], "mayaflow")
        self.assertIn("run %s of alerts failed: task_failure" % run_id, texts)

        # The webhook answered 500: a POST that may have been acted on is not sent again; fine stays a success.
        def failing_sends():
            answer = fake_get(self.fake, "/_fake/requests")
            requests = answer["requests"] if isinstance(answer, dict) else answer
            return [r for r in requests if r["path"] == FAILING_PATH]
        wait_for(failing_sends, timeout=30)
        wait_for(lambda: "notification not sent: webhook notifier" in self.daemon.read_log(), timeout=30)
        self.assertEqual([s["status"] for s in failing_sends()], [500])
        self.assertEqual(self.state(run_id, "fine"), "success")
        self.assertEqual(self.state(run_id, "post"), "success")
        self.assertEqual(self.state(run_id, "flaky"), "failed")
        wait_for(lambda: "notification not sent: webhook notifier" in self.daemon.read_log(), timeout=30)
        self.assertIn("the webhook of connection 'hook' answered HTTP 500", self.daemon.read_log())

        # The secret URL shows nowhere: the API, the task logs, the daemon's log.
        for path in ("/api/v1/dags/alerts", "/api/v1/dags"):
            status, _, body = self.daemon.http(path)
            self.assertNotIn(TOKEN, body, path)
        for log in pathlib.Path(self.daemon.home, "logs").rglob("*.log"):
            self.assertNotIn(TOKEN, log.read_text(errors="replace"), str(log))
        self.daemon.stop()
        self.assertNotIn(TOKEN, self.daemon.read_log())
        self.assertEqual(len(self.messages(5)), 5)  # nothing more came, nothing twice

    def test_a_failing_slack_webhook_task_says_what_slack_answered(self):
        fake_post(self.fake, "/_fake/faults", {"rules": [{"path": "/services/T0GONE/", "status": 404,
                                                           "body": "no_service", "times": -1}], "append": True})
        self.cli("connections", "add", "gone", "--conn-json",
                 json.dumps({"conn_type": "slackwebhook", "password": "T0GONE/B0GONE/" + TOKEN,
                             "host": self.fake + "/services"}))
        self.daemon.write_dag("gone.yaml", """
dag_id: gone
schedule: null
tasks:
  - task_id: post
    operator: slack_webhook
    slack_webhook_conn_id: gone
    blocks:
      - type: section
        text: {type: mrkdwn, text: "*{{ dag.dag_id }}* done"}
""")
        self.daemon.start()
        wait_for(lambda: "gone" in self.daemon.dag_ids())
        self.cli("dags", "trigger", "gone", "--run-id", "r1")
        wait_for(lambda: self.cli("tasks", "state", "gone", "r1", "post").stdout.strip() == "failed", timeout=60)
        log = self.cli("tasks", "logs", "gone", "r1", "post").stdout
        self.assertIn("Slack refused the message of connection 'gone': no_service (HTTP 404): the webhook does not "
                      "exist or was removed", log)
        self.assertNotIn(TOKEN, log)
        answer = fake_get(self.fake, "/_fake/requests")
        requests = answer["requests"] if isinstance(answer, dict) else answer
        self.assertEqual(len([r for r in requests if r["path"].startswith("/services/T0GONE/")]), 1)
        self.daemon.stop()
        self.assertNotIn(TOKEN, self.daemon.read_log())


if __name__ == "__main__":
    unittest.main()
