"""Every operation of the API on its good path, with real data, each answer held to the daemon's own
OpenAPI document by Daemon.http (openapi_check): what the authorization matrix proves on refusals and
missing ids, this proves on the answers clients read. At the end, the document's operations that
this tour (with test_api_scenarios for backfills, logs and the export) did not answer with a 2xx are
named, so a new route cannot slip past unvalidated.
"""

import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import openapi_check  # noqa: E402
from daemon import Daemon, wait_for  # noqa: E402

TOUR_DAG = """\
description: A DAG for the tour
schedule: "0 0 * * *"
start_date: 2024-01-01
catchup: false
tags: [tour]
params:
  who: world
tasks:
  - task_id: hello
    operator: bash
    bash_command: echo "hello {{ params.who }}"
  - task_id: fails
    operator: bash
    depends_on: [hello]
    bash_command: exit 1
  - task_id: after
    operator: empty
    depends_on: [fails]
    trigger_rule: all_done
"""

# Answered elsewhere with a 2xx (test_api_scenarios), or a stream that never ends.
COVERED_ELSEWHERE = {
    ("POST", "/backfills"), ("POST", "/backfills/dry_run"), ("GET", "/backfills/{backfill_id}"),
    ("PUT", "/backfills/{backfill_id}/pause"), ("PUT", "/backfills/{backfill_id}/unpause"),
    ("PUT", "/backfills/{backfill_id}/cancel"), ("GET", "/mayaflow/connections/export"),
    ("GET", "/mayaflow/events"),
    # Needs a notebook task run by Jupyter; test_notebook.py downloads one, outside this check.
    ("GET", "/mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/notebook/{task_try_number}"),
}


class ApiTour(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False).start()
        cls.daemon.write_dag("tour.yaml", TOUR_DAG)
        wait_for(lambda: "tour" in cls.daemon.api_dags(), timeout=30)
        cls.document = openapi_check.document_for(cls.daemon.port, cls.daemon)
        cls.answered = set()  # (method, template) answered with a 2xx

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def call(self, method, path, body=None, expect=200, **kwargs):
        status, content_type, text = self.daemon.http(path, method=method,
                                                      body=None if body is None else json.dumps(body), **kwargs)
        self.assertEqual(status, expect, "%s %s: %s" % (method, path, text))
        template, _ = self.document.match(path)
        if 200 <= status < 300:
            type(self).answered.add((method, template))
        if content_type and "json" in content_type and text:
            return json.loads(text)
        return text

    def test_1_monitoring_and_the_document(self):
        self.assertEqual(self.call("GET", "/api/v1/health", auth=False)["metadatabase"]["status"], "healthy")
        self.assertIn("version", self.call("GET", "/api/v1/version"))
        self.assertIn("paths", self.call("GET", "/api/v1/openapi.json"))
        self.assertIn("openapi: 3.0", self.call("GET", "/api/v1/openapi.yaml"))
        self.call("GET", "/api/v1/openapi.json", auth=False, expect=401)  # only health is open

    def test_2_dags(self):
        dag = self.call("GET", "/api/v1/dags/tour")
        self.call("GET", "/api/v1/dags?tags=tour&order_by=-dag_id&limit=10")
        self.call("GET", "/api/v1/dags/tour/details")
        self.call("GET", "/api/v1/dags/tour/tasks?order_by=task_id")
        self.call("GET", "/api/v1/dags/tour/tasks/hello")
        self.assertTrue(self.call("PATCH", "/api/v1/dags/tour", {"is_paused": True})["is_paused"])
        patched = self.call("PATCH", "/api/v1/dags?dag_id_pattern=tour&update_mask=is_paused", {"is_paused": False})
        self.assertEqual([d["is_paused"] for d in patched["dags"]], [False])
        self.assertIn("hello", self.call("GET", "/api/v1/dagSources/" + urllib.parse.quote(dag["file_token"], safe=""))
                      ["content"])
        self.call("GET", "/api/v1/mayaflow/dags/tour/source")
        self.call("GET", "/api/v1/dagWarnings")
        self.call("GET", "/api/v1/backfills?order_by=-id")
        self.call("GET", "/api/v1/mayaflow/costs/dags")
        self.call("GET", "/api/v1/mayaflow/costs/tasks")
        self.call("GET", "/api/v1/mayaflow/dags/tour/costs")
        # What the web UI reads besides Airflow's endpoints.
        summaries = self.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=tour,no_such_dag&runs=5")
        self.assertEqual([d["dag_id"] for d in summaries["dags"]], ["tour"])
        selected = self.call("GET", "/api/v1/mayaflow/dagSummaries?dag_id_pattern=tou&limit=10&runs=5")
        self.assertEqual([d["dag_id"] for d in selected["dags"]], ["tour"])
        self.assertEqual(self.call("GET", "/api/v1/mayaflow/dags/tour/schedule?count=10")["dag_id"], "tour")
        graph = self.call("GET", "/api/v1/mayaflow/dags/tour/graph")
        self.assertIn("hello", [t["task_id"] for t in graph["tasks"]])
        self.assertIsInstance(self.call("GET", "/api/v1/mayaflow/standins")["standins"], list)
        self.assertIn("tour", self.call("GET", "/api/v1/mayaflow/dagTags?tag_name_pattern=TOU")["tags"])

    def test_3_runs_and_task_instances(self):
        runs = "/api/v1/dags/tour/dagRuns"
        self.call("POST", runs, {"dag_run_id": "tour-1", "logical_date": "2024-02-01T00:00:00+00:00",
                                 "conf": {"who": "tour"}, "note": "first"})
        run = "%s/tour-1" % runs

        def ended():
            now = self.call("GET", run)
            return now["state"] in ("success", "failed") and now
        wait_for(ended, timeout=90, interval=0.25)
        self.call("GET", runs + "?state=failed&order_by=-execution_date")
        self.call("GET", "/api/v1/dags/~/dagRuns?limit=5")
        stats = self.call("GET", "/api/v1/dagStats?dag_ids=tour,no_such_dag")
        self.assertEqual([d["dag_id"] for d in stats["dags"]], ["tour"])
        self.call("POST", "/api/v1/dags/~/dagRuns/list", {"dag_ids": ["tour"], "page_limit": 10})
        self.call("PATCH", run + "/setNote", {"note": "looked at"})
        self.call("GET", run + "/upstreamDatasetEvents")
        tis = self.call("GET", run + "/taskInstances")
        self.assertEqual(tis["total_entries"], 3)
        grid = self.call("GET", "/api/v1/mayaflow/dags/tour/gridData?runs=5")
        self.assertIn("tour-1", [r["dag_run_id"] for r in grid["dag_runs"]])
        self.assertEqual(sorted(t["task_id"] for t in grid["task_instances"] if t["dag_run_id"] == "tour-1"),
                         sorted(t["task_id"] for t in tis["task_instances"]))
        self.assertFalse(grid["truncated"])
        self.call("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", {"dag_ids": ["tour"], "state": ["failed"]})
        self.call("GET", run + "/taskInstances/fails")
        self.call("PATCH", run + "/taskInstances/fails/setNote", {"note": "flaky"})
        self.call("GET", run + "/taskInstances/hello/logs/1")
        tries = self.call("GET", run + "/taskInstances/fails/tries")
        self.assertEqual([t["state"] for t in tries["task_instances"]], ["failed"])
        self.assertEqual(self.call("GET", run + "/taskInstances/fails/tries/1")["try_number"], 1)
        rendered = self.call("GET", "/api/v1/mayaflow/dags/tour/dagRuns/tour-1/taskInstances/hello/rendered")
        self.assertEqual(rendered["task_id"], "hello")
        self.assertEqual([e["key"] for e in self.call("GET", run + "/taskInstances/hello/xcomEntries")["xcom_entries"]],
                         ["return_value"])
        self.assertEqual(self.call("GET", run + "/taskInstances/hello/xcomEntries/return_value?stringify=false")
                         ["value"], "hello tour")  # the conf's `who` over the DAG's params
        self.call("POST", "/api/v1/dags/tour/clearTaskInstances", {"dry_run": True, "dag_run_id": "tour-1"})
        self.call("POST", "/api/v1/dags/tour/updateTaskInstancesState",
                  {"dry_run": True, "task_id": "fails", "dag_run_id": "tour-1", "new_state": "success"})
        self.call("PATCH", run + "/taskInstances/fails", {"new_state": "success", "dry_run": True})
        self.call("POST", run + "/clear", {"dry_run": True})
        self.assertEqual(self.call("PATCH", run, {"state": "success"})["state"], "success")
        self.call("DELETE", run, expect=204)
        self.call("GET", run, expect=404)

    def test_4_import_errors(self):
        self.daemon.write_dag("broken.yaml", "tasks: [")
        errors = wait_for(lambda: self.call("GET", "/api/v1/importErrors")["import_errors"], timeout=30)[0]
        self.call("GET", "/api/v1/importErrors/%d" % errors[0]["import_error_id"])
        os.remove(os.path.join(self.daemon.dags, "broken.yaml"))

    def test_5_pools_variables_connections(self):
        self.call("POST", "/api/v1/pools", {"name": "tour_pool", "slots": 2, "description": "for the tour"})
        self.call("GET", "/api/v1/pools?order_by=-slots")
        self.call("GET", "/api/v1/pools/tour_pool")
        self.assertEqual(self.call("PATCH", "/api/v1/pools/tour_pool?update_mask=slots", {"slots": 3})["slots"], 3)
        self.call("DELETE", "/api/v1/pools/tour_pool", expect=204)

        self.call("POST", "/api/v1/variables", {"key": "tour_var", "value": "1", "description": "d"})
        self.call("GET", "/api/v1/variables")
        self.call("GET", "/api/v1/variables/tour_var")
        self.call("PATCH", "/api/v1/variables/tour_var", {"key": "tour_var", "value": "2"})
        self.call("DELETE", "/api/v1/variables/tour_var", expect=204)

        self.call("POST", "/api/v1/connections", {"connection_id": "tour_conn", "conn_type": "http",
                                                  "host": "example.com", "password": "tour-secret",
                                                  "extra": json.dumps({"api_key": "k"})})
        listed = self.call("GET", "/api/v1/connections")
        self.assertNotIn("tour-secret", json.dumps(listed))
        self.call("GET", "/api/v1/connections/tour_conn")
        self.call("PATCH", "/api/v1/connections/tour_conn?update_mask=host", {"connection_id": "tour_conn",
                                                                             "conn_type": "http", "host": "e.org"})
        self.call("POST", "/api/v1/connections/test", {"connection_id": "t", "conn_type": "sqlite", "host": ":memory:"})
        self.call("DELETE", "/api/v1/connections/tour_conn", expect=204)

    def test_6_config(self):
        config = self.call("GET", "/api/v1/config")
        section = config["sections"][0]
        self.call("GET", "/api/v1/config/section/%s/option/%s" % (section["name"], section["options"][0]["key"]))

    def test_7_users_roles_tokens_session(self):
        self.call("POST", "/api/v1/users", {"username": "tour_user", "password": "tour-pass-1",
                                            "email": "tour@example.com", "first_name": "T", "last_name": "U",
                                            "roles": [{"name": "User"}]})
        self.call("GET", "/api/v1/users?order_by=-username")
        self.call("GET", "/api/v1/users/tour_user")
        self.call("PATCH", "/api/v1/users/tour_user?update_mask=first_name", {"first_name": "Tee"})
        self.call("GET", "/api/v1/roles")
        self.call("GET", "/api/v1/roles/Op")
        made = self.call("POST", "/api/v1/mayaflow/tokens", {"name": "tour", "expires_in": "1d"}, expect=201)
        self.call("GET", "/api/v1/mayaflow/tokens")
        self.call("DELETE", "/api/v1/mayaflow/tokens/%s" % made["token_id"], expect=204)
        self.call("POST", "/api/v1/mayaflow/session", {"username": "tour_user", "password": "tour-pass-1"},
                  auth=False)
        self.call("GET", "/api/v1/mayaflow/session")
        self.call("DELETE", "/api/v1/mayaflow/session", expect=204)
        self.call("DELETE", "/api/v1/users/tour_user", expect=204)

    def test_8_remove_the_dag(self):
        os.remove(os.path.join(self.daemon.dags, "tour.yaml"))
        wait_for(lambda: not self.daemon.api_dags()["tour"]["is_active"], timeout=30)
        self.call("DELETE", "/api/v1/dags/tour", expect=204)

    def test_9_every_operation_was_answered(self):
        operations = {(method.upper(), template) for template, item in self.document.spec["paths"].items()
                      for method in item if method in ("get", "put", "post", "patch", "delete")}
        missing = operations - self.answered - COVERED_ELSEWHERE
        self.assertEqual(sorted(missing), [], "operations no test answered with a 2xx")


if __name__ == "__main__":
    unittest.main()
