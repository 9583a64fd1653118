"""Issue 11's user stories, end to end against the real daemon, every answer held to the daemon's own
OpenAPI document (Daemon.http and the webserver client here both check it):

- a CI job triggers a run with a conf, polls it, finds the failed task and reads its log by try,
  whole and page by page with continuation tokens;
- a script backfills a daily DAG over January: a dry run first, then the backfill, watched, paused,
  unpaused and cancelled;
- an admin downloads the connections export over HTTP, byte for byte what `mayaflow connections
  export` writes, and nobody else may;
- `mayaflow webserver`, a second process on the same home, answers lists while the scheduler writes
  many fast tasks, and its answers converge to the scheduler's final state.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import openapi_check  # noqa: E402
from daemon import MAYAFLOW, Daemon, wait_for  # noqa: E402

CI_DAG = """\
description: What a CI job triggers
schedule: null
params:
  message: the default
tasks:
  - task_id: greet
    operator: bash
    bash_command: echo "conf says {{ dag_run.conf.message }}; params say {{ params.message }}"
  - task_id: integration_tests
    operator: bash
    depends_on: [greet]
    bash_command: |
      i=0
      while [ $i -lt 6000 ]; do
        i=$((i+1))
        echo "test $i of {{ dag_run.conf.commit }} passed, all good so far"
      done
      echo "test 6001 of {{ dag_run.conf.commit }} FAILED"
      exit 3
  - task_id: deploy
    operator: bash
    depends_on: [integration_tests]
    bash_command: echo never
"""

DAILY_DAG = """\
description: One run a day, for backfills
schedule: "0 0 * * *"
start_date: 2024-01-01
catchup: false
max_active_runs: 2
tasks:
  - task_id: load_day
    operator: bash
    bash_command: sleep 1; echo "loading {{ ds }}"
"""

LOG_PAGE = 256 * 1024


def wide_dag(tasks):
    """A DAG whose many quick tasks fan out from one and join in another: many small writes."""
    lines = ["description: Many quick tasks", "schedule: null", "max_active_tasks: 16", "tasks:",
             "  - task_id: start", "    operator: bash", "    bash_command: echo start"]
    for i in range(tasks):
        lines += ["  - task_id: step_%03d" % i, "    operator: bash", "    depends_on: [start]",
                  "    bash_command: echo %d" % i]
    lines += ["  - task_id: finish", "    operator: empty",
              "    depends_on: [%s]" % ", ".join("step_%03d" % i for i in range(tasks))]
    return "\n".join(lines) + "\n"


def raw_get(port, path, authorization, headers=None):
    """(status, headers, body bytes) of a GET, without the checks of Daemon.http (the body raw)."""
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                     headers=dict(headers or {}, Authorization=authorization))
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class ApiScenarios(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False).start()
        cls.daemon.write_dag("ci_job.yaml", CI_DAG)
        cls.daemon.write_dag("daily_sales.yaml", DAILY_DAG)
        wait_for(lambda: {"ci_job", "daily_sales"} <= set(cls.daemon.api_dags()), timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def api(self, path, method="GET", body=None, expect=None, **kwargs):
        """The answer's JSON (or text), after checking its status when `expect` is given."""
        status, _, text = self.daemon.http(path, method=method, body=None if body is None else json.dumps(body),
                                           **kwargs)
        if expect is not None:
            self.assertEqual(status, expect, "%s %s: %s" % (method, path, text))
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    # --- a CI job ---------------------------------------------------------------------------------

    def test_ci_job_triggers_polls_and_reads_the_failed_log(self):
        runs = "/api/v1/dags/ci_job/dagRuns"
        conf = {"message": "hello from CI", "commit": "abc123"}
        _, run = self.api(runs, "POST", {"dag_run_id": "ci-build-17", "conf": conf, "note": "pipeline #17"}, expect=200)
        self.assertEqual((run["dag_run_id"], run["conf"], run["note"], run["run_type"], run["external_trigger"]),
                         ("ci-build-17", conf, "pipeline #17", "manual", True))
        self.assertIn(run["state"], ("queued", "running"))

        # The same run id again is a conflict; an unknown DAG is not found.
        status, problem = self.api(runs, "POST", {"dag_run_id": "ci-build-17", "conf": {}})
        self.assertEqual(status, 409, problem)
        self.assertIn("ci-build-17", problem["detail"])
        status, problem = self.api("/api/v1/dags/no_such_ci_dag/dagRuns", "POST", {"conf": conf})
        self.assertEqual(status, 404, problem)
        self.assertIn("no_such_ci_dag", problem["detail"])

        def ended():
            _, now = self.api(runs + "/ci-build-17", expect=200)
            return now if now["state"] in ("success", "failed") else None
        run, _ = wait_for(ended, timeout=120, interval=0.25)
        self.assertEqual(run["state"], "failed")
        self.assertEqual(run["note"], "pipeline #17")

        _, listed = self.api(runs + "/ci-build-17/taskInstances", expect=200)
        self.assertEqual(listed["total_entries"], 3)
        states = {ti["task_id"]: ti["state"] for ti in listed["task_instances"]}
        self.assertEqual(states, {"greet": "success", "integration_tests": "failed", "deploy": "upstream_failed"})
        failed = [ti for ti in listed["task_instances"] if ti["state"] == "failed"]
        self.assertEqual([ti["task_id"] for ti in failed], ["integration_tests"])
        self.assertEqual(failed[0]["try_number"], 1)
        # The filter finds it too, as a CI job would ask.
        _, only_failed = self.api(runs + "/ci-build-17/taskInstances?state=failed", expect=200)
        self.assertEqual([ti["task_id"] for ti in only_failed["task_instances"]], ["integration_tests"])

        # The conf reached the task, through both dag_run.conf and params.
        logs = runs + "/ci-build-17/taskInstances/%s/logs/%d"
        _, greeting = self.api(logs % ("greet", 1) + "?full_content=true", expect=200)
        self.assertIn("conf says hello from CI; params say hello from CI", greeting["content"])

        # The failed try's log, whole.
        _, whole = self.api(logs % ("integration_tests", 1) + "?full_content=true", expect=200)
        content = whole["content"]
        self.assertGreater(len(content.encode()), LOG_PAGE, "the log must span pages for this test")
        self.assertIn("test 1 of abc123 passed", content)
        self.assertIn("test 6001 of abc123 FAILED", content)

        # Page by page: each at most a page, cut after a whole line, and joined they are the whole.
        pages, token = [], None
        for _ in range(10):
            _, page = self.api(logs % ("integration_tests", 1) + ("?token=" + urllib.parse.quote(token) if token else ""),
                               expect=200)
            if not page["content"]:
                self.assertEqual(page["continuation_token"], token, "an empty page keeps the token where it was")
                break
            self.assertLessEqual(len(page["content"].encode()), LOG_PAGE)
            self.assertTrue(page["content"].endswith("\n"))
            pages.append(page["content"])
            token = page["continuation_token"]
        self.assertGreaterEqual(len(pages), 2)
        self.assertEqual("".join(pages), content)

        # As text, with the token in a header.
        status, headers, text = raw_get(self.daemon.port, logs % ("integration_tests", 1), self.daemon.auth_header(),
                                        {"Accept": "text/plain"})
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/plain"))
        self.assertEqual(text.decode(), pages[0])
        self.assertTrue(headers.get("X-Continuation-Token"))

        # A try that never happened, and a made-up token, are refused with reasons.
        status, problem = self.api(logs % ("integration_tests", 2))
        self.assertEqual(status, 404, problem)
        status, problem = self.api(logs % ("integration_tests", 1) + "?token=forged")
        self.assertEqual(status, 400, problem)

    # --- a backfill over January ------------------------------------------------------------------

    def backfill_runs(self, backfill_id):
        _, page = self.api("/api/v1/dags/daily_sales/dagRuns?run_type=backfill&limit=1000&order_by=execution_date",
                           expect=200)
        self.assertTrue(all(run["backfill_id"] == backfill_id for run in page["dag_runs"]))
        return page["dag_runs"]

    def test_backfill_over_january_dry_run_watch_pause_unpause_cancel(self):
        january = {"dag_id": "daily_sales", "from_date": "2024-01-01T00:00:00+00:00",
                   "to_date": "2024-01-31T00:00:00+00:00", "max_active_runs": 2, "dag_run_conf": {"source": "backfill"}}
        _, plan = self.api("/api/v1/backfills/dry_run", "POST", january, expect=200)
        planned = [entry["logical_date"] for entry in plan["backfills"]]
        self.assertEqual(plan["total_entries"], 31)
        self.assertEqual(planned[0][:10], "2024-01-01")
        self.assertEqual(planned[-1][:10], "2024-01-31")
        self.assertEqual(planned, sorted(planned))
        self.assertEqual(self.backfill_runs(None), [], "a dry run creates nothing")

        _, backfill = self.api("/api/v1/backfills", "POST", january, expect=200)
        backfill_id = backfill["id"]
        self.assertEqual((backfill["dag_id"], backfill["is_paused"], backfill["completed_at"]),
                         ("daily_sales", False, None))
        status, problem = self.api("/api/v1/backfills", "POST", january)
        self.assertEqual(status, 409, problem)  # one backfill of a DAG at a time

        runs = self.backfill_runs(backfill_id)
        self.assertEqual([run["logical_date"] for run in runs], planned)
        self.assertTrue(all(run["conf"] == {"source": "backfill"} and run["run_type"] == "backfill" for run in runs))

        def progressed(at_least):
            def check():
                _, now = self.api("/api/v1/backfills/%d" % backfill_id, expect=200)
                by_state = now["progress"]["runs_by_state"]
                self.assertLessEqual(by_state.get("running", 0), 2, "max_active_runs is 2")
                return now if by_state.get("success", 0) >= at_least else None
            return wait_for(check, timeout=90, interval=0.2)[0]
        progressed(2)

        _, paused = self.api("/api/v1/backfills/%d/pause" % backfill_id, "PUT", expect=200)
        self.assertTrue(paused["is_paused"])
        # Once the runs that were running end, nothing more starts.
        wait_for(lambda: not any(run["state"] == "running" for run in self.backfill_runs(backfill_id)), timeout=60)
        settled = {run["dag_run_id"]: run["state"] for run in self.backfill_runs(backfill_id)}
        time.sleep(2.5)
        self.assertEqual({run["dag_run_id"]: run["state"] for run in self.backfill_runs(backfill_id)}, settled)
        self.assertGreater(list(settled.values()).count("queued"), 0)

        _, unpaused = self.api("/api/v1/backfills/%d/unpause" % backfill_id, "PUT", expect=200)
        self.assertFalse(unpaused["is_paused"])
        done_before = list(settled.values()).count("success")
        progressed(done_before + 1)

        _, cancelled = self.api("/api/v1/backfills/%d/cancel" % backfill_id, "PUT", expect=200)
        self.assertEqual(cancelled["id"], backfill_id)

        # Cancelling completes the backfill at once (as Airflow 3's does); the runs that were running
        # finish, and none starts.
        def completed():
            _, now = self.api("/api/v1/backfills/%d" % backfill_id, expect=200)
            return now if now["completed_at"] else None
        wait_for(completed, timeout=60, interval=0.25)
        self.assertLessEqual(sum(run["state"] == "running" for run in self.backfill_runs(backfill_id)), 2)
        wait_for(lambda: all(run["state"] in ("success", "failed") for run in self.backfill_runs(backfill_id)),
                 timeout=60, interval=0.25)
        _, final = self.api("/api/v1/backfills/%d" % backfill_id, expect=200)
        runs = self.backfill_runs(backfill_id)
        self.assertEqual(len(runs), 31)
        states = [run["state"] for run in runs]
        self.assertEqual(set(states) - {"success", "failed"}, set(), states)
        self.assertGreater(states.count("success"), done_before)
        self.assertGreater(states.count("failed"), 0, "cancelling fails the runs still queued")
        self.assertEqual(final["progress"]["total_runs"], 31)
        self.assertEqual(final["progress"]["runs_by_state"].get("success", 0), states.count("success"))
        # The cancelled runs never ran a task.
        for run in runs:
            if run["state"] == "failed":
                _, tis = self.api("/api/v1/dags/daily_sales/dagRuns/%s/taskInstances"
                                  % urllib.parse.quote(run["dag_run_id"], safe=""), expect=200)
                self.assertTrue(all(ti["start_date"] is None for ti in tis["task_instances"]), tis)
        # A completed backfill cannot be paused; an unknown one is not found; both say so.
        status, problem = self.api("/api/v1/backfills/%d/pause" % backfill_id, "PUT")
        self.assertEqual(status, 409, problem)
        status, problem = self.api("/api/v1/backfills/987654/cancel", "PUT")
        self.assertEqual(status, 404, problem)
        _, listed = self.api("/api/v1/backfills?dag_id=daily_sales", expect=200)
        self.assertEqual([b["id"] for b in listed["backfills"]], [backfill_id])

    # --- the connections export -------------------------------------------------------------------

    def test_connections_export_over_http_is_the_cli_file(self):
        daemon = self.daemon
        daemon.cli("connections", "add", "warehouse", "--conn-type", "postgres", "--conn-host", "db.example.com",
                   "--conn-login", "etl", "--conn-password", "p@ss:/?#[] wörd€", "--conn-schema", "sales",
                   "--conn-port", "5432", "--conn-description", "the warehouse", check=True)
        daemon.cli("connections", "add", "slack_alerts", "--conn-json",
                   json.dumps({"conn_type": "slack", "password": "xoxb-1-secret",
                               "extra": {"channel": "#alerts", "api_key": "k-secret"}}), check=True)
        daemon.cli("connections", "add", "bq", "--conn-uri",
                   "google-cloud-platform://?key_path=%2Fsecrets%2Fsa.json&project=my-proj", check=True)
        daemon.cli("users", "create", "--username", "export_op", "--password", "op-pass-1", "--role", "Op",
                   "--email", "op@example.com", "--firstname", "O", "--lastname", "P", check=True)
        daemon.cli("users", "create", "--username", "export_viewer", "--password", "viewer-pass-1", "--role",
                   "Viewer", "--email", "v@example.com", "--firstname", "V", "--lastname", "W", check=True)

        out = tempfile.mkdtemp(prefix="mayaflow-export-", dir=daemon.home)
        cases = [("json", "", ".json"), ("yaml", "", ".yaml"), ("env", "", ".env"),
                 ("env", "&serialization_format=json", ".env"), ("env", "&serialization_format=uri", ".env")]
        for file_format, extra_query, extension in cases:
            with self.subTest(file_format=file_format, query=extra_query):
                path = os.path.join(out, "cli-%s%s%s" % (file_format, extra_query.replace("&", "-").replace("=", "-"),
                                                         extension))
                args = ["connections", "export", path, "--file-format", file_format]
                if extra_query:
                    args += ["--serialization-format", extra_query.split("=")[1]]
                daemon.cli(*args, check=True)
                with open(path, "rb") as f:
                    from_cli = f.read()
                query = "/api/v1/mayaflow/connections/export?file_format=%s%s" % (file_format, extra_query)
                status, headers, from_http = raw_get(daemon.port, query, daemon.auth_header())
                self.assertEqual(status, 200, from_http)
                self.assertEqual(from_http, from_cli)
                self.assertIn(b"xoxb-1-secret", from_http)  # secrets in clear: that is what it is for
                self.assertIn("attachment", headers.get("Content-Disposition", ""))
                self.assertIn("connections." + file_format, headers.get("Content-Disposition", ""))
                # The same through Daemon.http, so the answer is held to the document too.
                self.assertEqual(daemon.http(query)[0], 200)
        for username, password in (("export_op", "op-pass-1"), ("export_viewer", "viewer-pass-1")):
            status, _, body = daemon.http("/api/v1/mayaflow/connections/export?file_format=json",
                                          auth=daemon.auth_header(username, password))
            self.assertEqual(status, 403, body)
            self.assertIn("needs the Admin role", json.loads(body)["detail"])
            self.assertNotIn("secret", body)
        # Each export was logged with who asked, and no value.
        log = daemon.read_log()
        self.assertGreaterEqual(len(re.findall(r"connections export: 'admin' exported 3 connection\(s\)", log)), 5)
        self.assertNotIn("xoxb-1-secret", log)

    # --- a second process on the same home --------------------------------------------------------

    def test_webserver_answers_during_scheduler_writes_and_converges(self):
        daemon = self.daemon
        daemon.write_dag("wide.yaml", wide_dag(60))
        wait_for(lambda: "wide" in daemon.api_dags(), timeout=30)
        log = open(os.path.join(daemon.home, "webserver.log"), "ab")
        web = subprocess.Popen([MAYAFLOW, "webserver", "--port", "0"], env=daemon.env, stdout=subprocess.PIPE,
                               stderr=log)
        try:
            port = None
            deadline = time.monotonic() + 30
            while port is None and time.monotonic() < deadline:
                line = web.stdout.readline()
                if not line:
                    break
                match = re.search(rb"http://127\.0\.0\.1:(\d+)/", line)
                port = int(match.group(1)) if match else None
            self.assertIsNotNone(port, "mayaflow webserver did not start")
            self.watch_webserver(port)
        finally:
            web.terminate()
            try:
                web.wait(timeout=20)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
            web.stdout.close()
            log.close()
        for name, text in (("webserver", open(os.path.join(daemon.home, "webserver.log")).read()),
                           ("standalone", daemon.read_log())):
            self.assertNotIn("database is locked", text, name)

    def watch_webserver(self, port):
        daemon, auth = self.daemon, self.daemon.auth_header()
        document = openapi_check.document_for(port, self, auth)

        def get(path):
            status, headers, body = raw_get(port, path, auth)
            text = body.decode()
            openapi_check.check(document, "GET", path, status, headers.get("Content-Type"), text)
            return status, text

        # The first Basic request pays the password check (PBKDF2, a second or more under the
        # sanitizers), which holds one of the server's threads: pay it before measuring.
        self.assertEqual(get("/api/v1/dags/wide")[0], 200)
        answers, failures, stop = {}, [], threading.Event()
        paths = ["/api/v1/dags/wide/dagRuns?limit=100", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=1000",
                 "/api/v1/dags/wide/dagRuns/~/taskInstances?state=running,queued&limit=1000"]

        def poll(path):
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status, text = get(path)
                except Exception as error:  # noqa: BLE001 (any failure is a finding, kept with its path)
                    failures.append("%s: %r" % (path, error))
                    continue
                answers.setdefault(path, []).append(time.monotonic() - started)
                if status != 200 or "locked" in text:
                    failures.append("%s answered %d: %.300s" % (path, status, text))
        pollers = [threading.Thread(target=poll, args=(path,)) for path in paths]
        for thread in pollers:
            thread.start()
        try:
            # Two runs triggered through the scheduler's own process, one through the webserver.
            for run_id in ("wide-1", "wide-2"):
                self.api("/api/v1/dags/wide/dagRuns", "POST", {"dag_run_id": run_id}, expect=200)
            request = urllib.request.Request("http://127.0.0.1:%d/api/v1/dags/wide/dagRuns" % port, method="POST",
                                             data=json.dumps({"dag_run_id": "wide-3"}).encode(),
                                             headers={"Authorization": auth, "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as answer:
                self.assertEqual(answer.status, 200)

            def all_done():
                _, page = self.api("/api/v1/dags/wide/dagRuns", expect=200)
                return page["total_entries"] == 3 and all(r["state"] in ("success", "failed") for r in page["dag_runs"])
            wait_for(all_done, timeout=240, interval=0.5)
        finally:
            stop.set()
            for thread in pollers:
                thread.join(60)
        print("\nwebserver during the writes: %s" % "; ".join(
            "%s: %d answers, slowest %.2f s" % (p, len(answers.get(p, [])), max(answers.get(p, [0])))
            for p in paths), file=sys.stderr)
        self.assertEqual(failures, [])
        for path in paths:  # each list was asked again and again while the scheduler wrote
            self.assertGreaterEqual(len(answers.get(path, [])), 5, path)
        slowest = max(max(seconds) for seconds in answers.values())
        self.assertLess(slowest, 10, "no answer waited long for the scheduler's writes")

        # The scheduler's final state, as its own process and the CLI see it, is what the webserver says.
        _, final_runs = self.api("/api/v1/dags/wide/dagRuns?order_by=dag_run_id", expect=200)
        self.assertEqual([(r["dag_run_id"], r["state"]) for r in final_runs["dag_runs"]],
                         [("wide-1", "success"), ("wide-2", "success"), ("wide-3", "success")])
        cli_runs = sorted((row["run_id"], row["state"]) for row in daemon.runs("wide"))
        self.assertEqual(cli_runs, [("wide-1", "success"), ("wide-2", "success"), ("wide-3", "success")])

        def same(path):
            _, ours = self.api(path, expect=200)
            status, text = get(path)
            return status == 200 and json.loads(text) == ours
        for path in ("/api/v1/dags/wide/dagRuns?order_by=dag_run_id",
                     "/api/v1/dags/wide/dagRuns/~/taskInstances?limit=1000&order_by=run",
                     "/api/v1/dags/wide"):
            with self.subTest(path=path):
                wait_for(lambda: same(path), timeout=10, interval=0.2)
        _, tis = self.api("/api/v1/dags/wide/dagRuns/~/taskInstances?limit=1000", expect=200)
        self.assertEqual(tis["total_entries"], 3 * 62)
        self.assertEqual({ti["state"] for ti in tis["task_instances"]}, {"success"})


if __name__ == "__main__":
    unittest.main()
