#!/usr/bin/python3
"""Holds mayaflow's answers to Airflow 2.10's own OpenAPI v1 document: a tool, not a test.

It starts `mayaflow standalone` on a temporary home (tests/integration/daemon.py) with the example
DAGs and three of its own (one that succeeds, one that fails in the middle, a daily one), makes runs,
task instances, pools, variables, connections and users, then calls every endpoint that both
Airflow's document and mayaflow's describe, with the query styles and bodies Airflow's clients send
(the Python client's `state=a&state=b`, `True`/`False`, `update_mask=a,b`, dates with `+00:00` or
`Z`, run ids with ':' and '+' percent-encoded; curl's unencoded '+'), and validates each answer
against Airflow's schema with tests/integration/openapi_check.py (OpenAPI 3.0's nullable, allOf,
readOnly, writeOnly). It prints each failure, the 4xx answers Airflow's document does not list (but
Airflow answers too) and the fields Airflow's schemas list that an answer leaves out, and closes with
"N passed, M failed".

Airflow's document is not in this repository: fetch airflow/api_connexion/openapi/v1.yaml of Airflow
2.10 (apache/airflow, tag 2.10.x) and give its path.

usage: MAYAFLOW_BIN=build-sanitize/mayaflow /usr/bin/python3 tests/tools/airflow_conformance.py v1.yaml [-v]
"""

import base64
import json
import os
import re
import sys
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests/integration"))
os.environ["MAYAFLOW_OPENAPI_CHECK"] = "0"  # our own document is helper P's business; here Airflow's
os.environ.setdefault("MAYAFLOW_BIN", os.path.join(REPO, "build-sanitize/mayaflow"))

import yaml  # noqa: E402
import openapi_check  # noqa: E402
from daemon import Daemon, wait_for  # noqa: E402

if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
    sys.exit(__doc__)
SPEC_PATH = sys.argv[1]
VERBOSE = "-v" in sys.argv

_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@openapi_check._FORMATS.checks("datetime")  # Airflow's own spelling; its answers carry an offset too
def _is_datetime(value):
    return not isinstance(value, str) or bool(_DT.match(value))


SPEC = yaml.safe_load(open(SPEC_PATH))
# OpenAPI 3.0 ignores siblings of $ref, but the generated clients honour `nullable` there: so do we.
for schema in SPEC["components"]["schemas"].values():
    for sub in [schema] + schema.get("allOf", []):
        for name, prop in (sub.get("properties") or {}).items():
            if isinstance(prop, dict) and "$ref" in prop and prop.get("nullable"):
                sub["properties"][name] = {"anyOf": [{"$ref": prop["$ref"]}], "nullable": True}
DOC = openapi_check._Document(SPEC)

results = []  # (ok, method, path, status, message): one per answer validated
unexpected = []  # answers whose status is not what this tool expects of mayaflow (its own checks)
absent = {}   # (template, field pointer) -> count


def resolve(node):
    return DOC._resolve(node)


def walk_absent(schema, value, where, template):
    """Properties Airflow's schema lists that the answer leaves out (a generated client reads them as
    unset; a script reading resp["x"] breaks)."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        props = {}
        stack = [schema]
        while stack:
            s = resolve(stack.pop())
            if not isinstance(s, dict):
                continue
            props.update(s.get("properties") or {})
            stack.extend(s.get("allOf", []))
        for name, sub in props.items():
            sub_r = resolve(sub)
            if isinstance(sub_r, dict) and sub_r.get("writeOnly"):
                continue
            if name not in value:
                key = (template, where + "/" + name)
                absent[key] = absent.get(key, 0) + 1
            else:
                walk_absent(sub, value[name], where + "/" + name, template)
    elif isinstance(value, list) and schema.get("type") == "array":
        for item in value[:3]:
            walk_absent(schema.get("items", {}), item, where + "/*", template)


notes = []  # 4xx answers Airflow's document does not list for the operation, with a valid Error body


def check(method, path, status, ctype, body):
    media = (ctype or "").split(";")[0].strip().lower()
    if media == "application/problem+json":
        ctype = "application/json"  # Airflow (connexion) answers problems so too; its document says json
    if media == "text/plain" and "/dagSources/" in path:
        ctype = "plain/text"  # Airflow's document misspells the text/plain its code answers
    template, operations = DOC.match(path)
    op = operations.get(method)
    if op and str(status).startswith("4") and str(status) not in op.get("responses", {}):
        try:
            DOC._validate("%s %s -> %s" % (method, path, status), DOC.error_validator, json.loads(body))
            notes.append("%s %s -> %s (undocumented 4xx, Error body valid)" % (method, template, status))
            results.append((True, method, path, status, ""))
            return
        except (AssertionError, ValueError) as error:
            ok, msg = False, str(error)
            results.append((ok, method, path, status, msg))
            print("FAIL %s %s -> %s %s" % (method, path, status, msg[:600]))
            return
    try:
        DOC.check(method, path, str(status), ctype, body)
        ok, msg = True, ""
    except AssertionError as error:
        ok, msg = False, str(error)
    results.append((ok, method, path, status, msg))
    if not ok or VERBOSE:
        print(("OK   " if ok else "FAIL ") + "%s %s -> %s %s" % (method, path, status, msg[:600]))
    if ok and str(status).startswith("2") and media == "application/json":
        template, operations = DOC.match(path)
        op = operations.get(method)
        if op and "fields=" not in path:  # `fields` asks for some fields only
            resp = resolve(op["responses"].get(str(status), {}))
            schema = ((resp.get("content") or {}).get("application/json") or {}).get("schema")
            if schema:
                walk_absent(schema, json.loads(body), "", "%s %s" % (method, template))


class Client:
    def __init__(self, d):
        self.d = d

    def call(self, path, method="GET", body=None, headers=None, query=None, expect=None, auth=True):
        if query:
            path = path + ("&" if "?" in path else "?") + query
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        h = {"Accept": "application/json"}
        h.update(headers or {})
        status, ctype, text = self.d.http("/api/v1" + path, method=method, body=body, headers=h, auth=auth)
        check(method, "/api/v1" + path, status, ctype, text)
        if expect is not None and status not in (expect if isinstance(expect, tuple) else (expect,)):
            print("UNEXPECTED %s %s -> %s (wanted %s): %.300s" % (method, path, status, expect, text))
            unexpected.append("%s %s -> %s (wanted %s)" % (method, path, status, expect))
        try:
            return status, json.loads(text) if text and "json" in (ctype or "") else text
        except ValueError:
            return status, text


DAG_OK = """
description: conformance, all good
schedule: null
start_date: 2024-01-01
catchup: false
tags: [conformance, green]
tasks:
  - task_id: first
    operator: bash
    bash_command: echo "conf says {{ dag_run.conf.get('who', 'nobody') }}"
  - task_id: second
    operator: bash
    depends_on: [first]
    bash_command: echo second
"""

DAG_FAIL = """
description: conformance, fails in the middle
schedule: null
start_date: 2024-01-01
catchup: false
tags: [conformance, red]
tasks:
  - task_id: ok
    operator: bash
    bash_command: echo fine
  - task_id: boom
    operator: bash
    depends_on: [ok]
    retries: 0
    bash_command: echo going down; exit 3
  - task_id: after
    operator: bash
    depends_on: [boom]
    bash_command: echo never
"""

DAG_DAILY = """
description: conformance, daily with catchup
schedule: "@daily"
start_date: 2024-01-01
end_date: 2024-01-05
catchup: true
tags: [conformance]
tasks:
  - task_id: only
    operator: bash
    bash_command: echo "{{ ds }}"
"""


def run_state(c, dag, run):
    status, _, text = c.d.http("/api/v1/dags/%s/dagRuns/%s" % (dag, urllib.parse.quote(run, safe="")))
    return json.loads(text).get("state") if status == 200 else None


def main():
    d = Daemon(copy_examples=True)
    d.write_dag("conf_ok.yaml", DAG_OK)
    d.write_dag("conf_fail.yaml", DAG_FAIL)
    d.write_dag("conf_daily.yaml", DAG_DAILY)
    d.write_dag("conf_interval.yaml", "description: every 30 minutes\nschedule: 30m\nstart_date: 2024-01-01\n"
                "catchup: false\ntasks:\n  - task_id: t\n    operator: bash\n    bash_command: \"true\"\n")
    d.write_dag("conf_broken.yaml", "description: never loads\ntasks: [\n")
    d.start(timeout=60)
    c = Client(d)
    try:
        scenario(c)
    finally:
        d.cleanup()
    report()


def q(s):
    return urllib.parse.quote(s, safe="")


def scenario(c):
    d = c.d
    # --- users and what they see
    for name, role in (("vera", "Viewer"), ("ursula", "User"), ("oscar", "Op")):
        d.cli("users", "create", "--username", name, "--password", "pw-" + name + "-123", "--role", role,
              "--firstname", name.title(), "--lastname", "Conformance", "--email", name + "@example.com")
    # --- monitoring
    c.call("/health", auth=False, expect=200)
    c.call("/version", expect=200)
    # --- dags
    wait_for(lambda: c.call("/dags?dag_id_pattern=conf_")[1].get("total_entries", 0) >= 4, timeout=30)
    for query in ("", "limit=2", "limit=2&offset=1", "order_by=dag_id", "order_by=-dag_id",
                  "order_by=last_parsed_time", "tags=conformance", "tags=red&tags=green", "only_active=false",
                  "only_active=False", "paused=true", "paused=False", "dag_id_pattern=conf",
                  "fields=dag_id&fields=is_paused", "limit=0", "offset=100"):
        c.call("/dags", query=query, expect=200)
    c.call("/dags?order_by=nonexistent", expect=400)
    c.call("/dags?limit=-1", expect=400)
    c.call("/dags/conf_ok", expect=200)
    c.call("/dags/conf_ok?fields=dag_id", expect=200)
    c.call("/dags/nope", expect=404)
    c.call("/dags/conf_ok/details", expect=200)
    c.call("/dags/hello_mayaflow/details", expect=200)
    c.call("/dags/kakeibo_daily/details", expect=200)
    c.call("/dags/conf_daily/details", expect=200)
    c.call("/dags/conf_interval", expect=200)
    c.call("/dags/conf_interval/details", expect=200)
    c.call("/dags/conf_ok/tasks", expect=200)
    c.call("/dags/kakeibo_daily/tasks", expect=200)
    c.call("/dags/conf_ok/tasks?order_by=-task_id", expect=200)
    c.call("/dags/conf_ok/tasks/first", expect=200)
    c.call("/dags/conf_ok/tasks/missing", expect=404)
    # unpause our DAGs the client's way (a boolean in the body, update_mask as csv)
    for dag in ("conf_ok", "conf_fail", "conf_daily"):
        c.call("/dags/%s?update_mask=is_paused" % dag, "PATCH", {"is_paused": False}, expect=200)
    c.call("/dags/conf_ok", "PATCH", {"is_paused": False}, expect=200)
    c.call("/dags?dag_id_pattern=conf_&update_mask=is_paused", "PATCH", {"is_paused": False}, expect=200)
    c.call("/dags?dag_id_pattern=zzz_none&update_mask=is_paused", "PATCH", {"is_paused": True}, expect=(200, 404))
    c.call("/dags/conf_ok?update_mask=description", "PATCH", {"description": "x"}, expect=400)
    # --- trigger (the client sends the DAGRun model: only fields set)
    s, run1 = c.call("/dags/conf_ok/dagRuns", "POST", {"conf": {"who": "alice"}, "dag_run_id": "conf_run_1",
                                                       "note": "from the conformance test"}, expect=200)
    s, run2 = c.call("/dags/conf_fail/dagRuns", "POST", {"dag_run_id": "conf_fail_1",
                                                         "logical_date": "2024-03-01T00:00:00+00:00"}, expect=200)
    c.call("/dags/conf_fail/dagRuns", "POST", {"dag_run_id": "conf_fail_2",
                                               "execution_date": "2024-03-02T00:00:00Z", "conf": {}}, expect=200)
    c.call("/dags/conf_ok/dagRuns", "POST", {}, expect=200)
    c.call("/dags/conf_ok/dagRuns", "POST", {"dag_run_id": "conf_run_1"}, expect=409)
    c.call("/dags/nope/dagRuns", "POST", {}, expect=404)
    c.call("/dags/conf_ok/dagRuns", "POST", {"conf": "not an object"}, expect=400)
    c.call("/dags/conf_ok/dagRuns", "POST", "{broken", expect=400)
    c.call("/dags/conf_ok/dagRuns", "POST", {"dag_run_id": "naive_1", "logical_date": "2024-05-01T00:00:00"},
           expect=(200, 400))
    # wait for the runs to end
    wait_for(lambda: run_state(c, "conf_ok", "conf_run_1") in ("success", "failed"), timeout=90, interval=0.5)
    wait_for(lambda: run_state(c, "conf_fail", "conf_fail_1") in ("success", "failed"), timeout=90, interval=0.5)
    wait_for(lambda: run_state(c, "conf_fail", "conf_fail_2") in ("success", "failed"), timeout=90, interval=0.5)
    time.sleep(1)
    # --- run ids as the client quotes them (':' and '+' percent-encoded)
    s, listed = c.call("/dags/conf_ok/dagRuns?order_by=-execution_date&limit=100", expect=200)
    manual = [r["dag_run_id"] for r in listed.get("dag_runs", []) if r["dag_run_id"].startswith("manual__")]
    if manual:
        rid = q(manual[0])
        c.call("/dags/conf_ok/dagRuns/" + rid, expect=200)
        c.call("/dags/conf_ok/dagRuns/" + rid + "/taskInstances", expect=200)
        c.call("/dags/conf_ok/dagRuns/" + rid + "/taskInstances/first", expect=200)
    else:
        print("UNEXPECTED no manual__ run id to quote")
    # dates in the forms clients send
    for query in ("execution_date_gte=2024-01-01T00:00:00.123456%2B00:00", "execution_date_gte=2024-01-01T09:00:00%2B09:00",
                  "execution_date_gte=2024-01-01T00:00:00", "execution_date_gte=2024-01-01",
                  "start_date_gte=2024-01-01T00:00:00.000Z"):
        c.call("/dags/~/dagRuns", query=query, expect=200)
    # --- dag runs lists
    for dag in ("conf_ok", "conf_fail", "~", "conf_daily", "kakeibo_daily"):
        for query in ("", "limit=1", "limit=1&offset=1", "order_by=execution_date", "order_by=-execution_date",
                      "order_by=-start_date", "order_by=end_date", "order_by=dag_run_id", "order_by=-updated_at",
                      "state=success", "state=failed&state=success", "state=queued,running",
                      "execution_date_gte=2024-01-01T00:00:00%2B00:00",
                      "execution_date_gte=2024-01-01T00:00:00Z&execution_date_lte=2030-01-01T00:00:00Z",
                      "execution_date_gte=2024-01-01T00:00:00+00:00",  # curl without encoding: a space
                      "start_date_gte=2020-01-01T00:00:00Z", "end_date_lte=2099-01-01T00:00:00.000000Z",
                      "updated_at_gte=2020-01-01T00:00:00Z", "fields=dag_run_id&fields=state"):
            c.call("/dags/%s/dagRuns" % dag, query=query, expect=200)
    c.call("/dags/nope/dagRuns", expect=200)  # Airflow filters by the id: an empty list
    c.call("/dags/conf_ok/dagRuns?state=bogus", expect=(200, 400))
    c.call("/dags/conf_ok/dagRuns?execution_date_gte=yesterday", expect=400)
    c.call("/dags/conf_ok/dagRuns?order_by=bogus", expect=400)
    for body in ({}, {"dag_ids": ["conf_ok", "conf_fail"]}, {"states": ["failed"], "order_by": "-execution_date"},
                 {"page_limit": 1, "page_offset": 1}, {"execution_date_gte": "2024-01-01T00:00:00+00:00",
                                                       "execution_date_lte": "2030-01-01T00:00:00Z"},
                 {"start_date_gte": "2020-01-01T00:00:00Z", "end_date_lte": "2099-01-01T00:00:00Z"},
                 {"dag_ids": ["nope"]}):
        c.call("/dags/~/dagRuns/list", "POST", body, expect=200)
    c.call("/dags/~/dagRuns/list", "POST", {"page_limit": "x"}, expect=400)
    c.call("/dags/conf_ok/dagRuns/conf_run_1", expect=200)
    c.call("/dags/conf_ok/dagRuns/conf_run_1?fields=state", expect=200)
    c.call("/dags/conf_ok/dagRuns/nope", expect=404)
    c.call("/dags/conf_ok/dagRuns/conf_run_1/upstreamDatasetEvents", expect=200)
    c.call("/dags/conf_ok/dagRuns/conf_run_1/setNote", "PATCH", {"note": "checked"}, expect=200)
    c.call("/dags/conf_ok/dagRuns/conf_run_1/setNote", "PATCH", {}, expect=(200, 400))
    # --- task instances
    for dag, run in (("conf_ok", "conf_run_1"), ("conf_fail", "conf_fail_1"), ("~", "~"), ("conf_fail", "~"),
                     ("kakeibo_daily", "~")):
        for query in ("", "limit=2", "limit=2&offset=1", "state=failed", "state=success&state=upstream_failed",
                      "state=none", "state=failed,success", "pool=default_pool", "queue=default",
                      "duration_gte=0&duration_lte=1000", "execution_date_gte=2020-01-01T00:00:00Z",
                      "start_date_gte=2020-01-01T00:00:00%2B00:00", "end_date_lte=2099-01-01T00:00:00Z",
                      "updated_at_gte=2020-01-01T00:00:00Z", "executor=LocalExecutor", "order_by=-start_date",
                      "order_by=task_id"):
            c.call("/dags/%s/dagRuns/%s/taskInstances" % (dag, run), query=query, expect=200)
    c.call("/dags/conf_ok/dagRuns/nope/taskInstances", expect=200)
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first", expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom", expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/after", expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/missing", expect=404)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/-1", expect=(200, 404))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/tries", expect=(200, 404))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/tries/1", expect=(200, 404))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/listMapped", expect=(200, 404))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/links", expect=(200, 404))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/dependencies", expect=(200, 404))
    for body in ({}, {"dag_ids": ["conf_fail"]}, {"dag_run_ids": ["conf_fail_1"], "task_ids": ["boom", "after"]},
                 {"state": ["failed", "upstream_failed"]}, {"state": [None]}, {"pool": ["default_pool"]},
                 {"queue": ["default"]}, {"executor": ["x"]}, {"duration_gte": 0, "duration_lte": 100.5},
                 {"execution_date_gte": "2024-01-01T00:00:00+00:00", "end_date_lte": "2099-01-01T00:00:00Z"},
                 {"start_date_gte": "2020-01-01T00:00:00Z", "start_date_lte": "2099-01-01T00:00:00Z"}):
        c.call("/dags/~/dagRuns/~/taskInstances/list", "POST", body, expect=200)
    c.call("/dags/~/dagRuns/~/taskInstances/list", "POST", {"state": ["bogus"]}, expect=(200, 400))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/setNote", "PATCH", {"note": "why"}, expect=200)
    # --- logs (the client sends Accept: application/json, text/plain for get_log)
    lj = {"Accept": "application/json"}
    for task, tries in (("first", 1), ("boom", 1)):
        dag, run = ("conf_ok", "conf_run_1") if task == "first" else ("conf_fail", "conf_fail_1")
        base = "/dags/%s/dagRuns/%s/taskInstances/%s/logs/%d" % (dag, run, task, tries)
        s, page = c.call(base, headers=lj, expect=200)
        c.call(base + "?full_content=true", headers=lj, expect=200)
        c.call(base + "?full_content=True", headers=lj, expect=200)
        c.call(base + "?full_content=false&map_index=-1", headers=lj, expect=200)
        if isinstance(page, dict) and page.get("continuation_token"):
            c.call(base + "?token=" + q(page["continuation_token"]), headers=lj, expect=200)
        c.call(base, headers={"Accept": "application/json, text/plain"}, expect=200)
        c.call(base, headers={"Accept": "text/plain"}, expect=200)
        c.call(base + "?token=garbage", headers=lj, expect=(400, 404))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/logs/9", headers=lj, expect=(404, 400))
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/boom/logs/0", headers=lj, expect=(400, 404))
    # --- xcom
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first/xcomEntries", expect=200)
    c.call("/dags/~/dagRuns/~/taskInstances/~/xcomEntries", expect=200)
    c.call("/dags/~/dagRuns/~/taskInstances/~/xcomEntries?limit=1&offset=0", expect=200)
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first/xcomEntries?xcom_key=return_value", expect=200)
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first/xcomEntries/return_value", expect=(200, 404))
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first/xcomEntries/return_value?stringify=false",
           expect=(200, 404))
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first/xcomEntries/return_value?deserialize=true",
           expect=(200, 404))
    c.call("/dags/conf_ok/dagRuns/conf_run_1/taskInstances/first/xcomEntries/nokey", expect=404)
    # --- dag sources
    s, dag = c.call("/dags/conf_ok", expect=200)
    if isinstance(dag, dict) and dag.get("file_token"):
        c.call("/dagSources/" + dag["file_token"], expect=200)
        c.call("/dagSources/" + dag["file_token"], headers={"Accept": "plain/text"}, expect=(200, 406))
        c.call("/dagSources/" + dag["file_token"], headers={"Accept": "text/plain"}, expect=(200, 406))
    c.call("/dagSources/garbage", expect=(404, 400))
    # --- import errors, warnings, stats
    c.call("/importErrors", expect=200)
    c.call("/importErrors?order_by=-timestamp&limit=5", expect=200)
    c.call("/importErrors/999999", expect=404)
    s, errors = c.call("/importErrors", expect=200)
    for error in (errors.get("import_errors", []) if isinstance(errors, dict) else [])[:2]:
        c.call("/importErrors/%d" % error["import_error_id"], expect=200)
    # a DAG whose file breaks after it loaded keeps its last version and says so
    d.write_dag("conf_ok.yaml", DAG_OK + "\n  - this is not a task\n")
    try:
        wait_for(lambda: c.call("/dags/conf_ok")[1].get("has_import_errors"), timeout=30, interval=0.3)
    except AssertionError:
        unexpected.append("GET /dags/conf_ok: has_import_errors never true while its file is broken")
    c.call("/dags?dag_id_pattern=conf", expect=200)
    c.call("/dags/conf_ok/details", expect=200)
    d.write_dag("conf_ok.yaml", DAG_OK)
    wait_for(lambda: not c.call("/dags/conf_ok")[1].get("has_import_errors"), timeout=30, interval=0.3)
    time.sleep(1)
    c.call("/dagWarnings", expect=200)
    c.call("/dagWarnings?dag_id=conf_ok&limit=5&offset=0", expect=200)
    c.call("/dagWarnings?warning_type=non-existent%20pool", expect=200)
    c.call("/dagStats?dag_ids=conf_ok,conf_fail", expect=(200, 404))
    # --- task instance changes (the client's bodies)
    c.call("/dags/conf_fail/clearTaskInstances", "POST", {"dry_run": True, "only_failed": True,
                                                          "dag_run_id": "conf_fail_1"}, expect=200)
    c.call("/dags/conf_fail/clearTaskInstances", "POST", {"dry_run": True, "task_ids": ["boom"],
                                                          "start_date": "2024-01-01T00:00:00+00:00",
                                                          "end_date": "2030-01-01T00:00:00+00:00",
                                                          "only_failed": False, "only_running": False,
                                                          "include_subdags": False, "include_parentdag": False,
                                                          "reset_dag_runs": True, "include_upstream": False,
                                                          "include_downstream": True, "include_future": False,
                                                          "include_past": False}, expect=200)
    c.call("/dags/conf_fail/clearTaskInstances", "POST", {}, expect=200)
    c.call("/dags/conf_fail/clearTaskInstances", "POST", {"dag_run_id": None, "dry_run": True}, expect=200)
    c.call("/dags/nope/clearTaskInstances", "POST", {}, expect=404)
    c.call("/dags/conf_fail/updateTaskInstancesState", "POST",
           {"dry_run": True, "task_id": "boom", "dag_run_id": "conf_fail_1", "include_upstream": False,
            "include_downstream": True, "include_future": False, "include_past": False, "new_state": "success"},
           expect=200)
    c.call("/dags/conf_fail/updateTaskInstancesState", "POST",
           {"dry_run": True, "task_id": "boom", "execution_date": "2024-03-01T00:00:00+00:00",
            "new_state": "skipped"}, expect=200)
    c.call("/dags/conf_fail/updateTaskInstancesState", "POST",
           {"dry_run": False, "task_id": "boom", "dag_run_id": "conf_fail_2", "new_state": "success"}, expect=200)
    c.call("/dags/conf_fail/updateTaskInstancesState", "POST", {"task_id": "boom", "new_state": "running",
                                                                "dag_run_id": "conf_fail_1"}, expect=400)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/after", "PATCH",
           {"dry_run": True, "new_state": "skipped"}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/after", "PATCH",
           {"dry_run": False, "new_state": "skipped"}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/taskInstances/after", "PATCH", {"new_state": "bogus"}, expect=400)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/clear", "POST", {"dry_run": True}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/clear", "POST", {}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1", "PATCH", {"state": "failed"}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1", "PATCH", {"state": "running"}, expect=400)
    c.call("/dags/conf_fail/dagRuns/conf_fail_1/clear", "POST", {"dry_run": False}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_2", "PATCH", {"state": "success"}, expect=200)
    c.call("/dags/conf_fail/dagRuns/conf_fail_2", "DELETE", expect=204)
    c.call("/dags/conf_fail/dagRuns/conf_fail_2", "DELETE", expect=404)
    # --- pools
    c.call("/pools", expect=200)
    c.call("/pools", "POST", {"name": "conf_pool", "slots": 3}, expect=200)
    c.call("/pools", "POST", {"name": "conf_pool2", "slots": 2, "description": "d", "include_deferred": False},
           expect=200)
    c.call("/pools", "POST", {"name": "conf_pool", "slots": 3}, expect=409)
    c.call("/pools", "POST", {"slots": 3}, expect=400)
    for query in ("limit=1", "offset=1", "order_by=name", "order_by=-name", "order_by=slots", "order_by=-slots"):
        c.call("/pools", query=query, expect=200)
    c.call("/pools/default_pool", expect=200)
    c.call("/pools/conf_pool", expect=200)
    c.call("/pools/nope", expect=404)
    c.call("/pools/conf_pool", "PATCH", {"name": "conf_pool", "slots": 5}, expect=200)
    c.call("/pools/conf_pool?update_mask=slots", "PATCH", {"slots": 6}, expect=200)
    c.call("/pools/conf_pool?update_mask=description", "PATCH", {"description": "about"}, expect=200)
    c.call("/pools/conf_pool?update_mask=slots,description", "PATCH", {"slots": 7, "description": "b"}, expect=200)
    c.call("/pools/conf_pool?update_mask=bogus", "PATCH", {"slots": 6}, expect=400)
    c.call("/pools/conf_pool", "PATCH", {"slots": 6}, expect=400)  # Airflow: name and slots both needed
    c.call("/pools/default_pool?update_mask=slots", "PATCH", {"slots": 64}, expect=200)
    c.call("/pools/conf_pool2", "DELETE", expect=204)
    c.call("/pools/default_pool", "DELETE", expect=400)
    c.call("/pools/nope", "DELETE", expect=404)
    # --- variables
    c.call("/variables", "POST", {"key": "conf_var", "value": "v1"}, expect=200)
    c.call("/variables", "POST", {"key": "conf_var2", "value": "{\"a\": 1}", "description": "json"}, expect=200)
    c.call("/variables", "POST", {"key": "conf_var3"}, expect=400)
    c.call("/variables", expect=200)
    for query in ("limit=1", "offset=1", "order_by=key", "order_by=-key", "order_by=id"):
        c.call("/variables", query=query, expect=200)
    c.call("/variables/conf_var", expect=200)
    c.call("/variables/nope", expect=404)
    c.call("/variables/conf_var", "PATCH", {"key": "conf_var", "value": "v2"}, expect=200)
    c.call("/variables/conf_var?update_mask=value", "PATCH", {"key": "conf_var", "value": "v3"}, expect=200)
    c.call("/variables/conf_var?update_mask=description", "PATCH", {"key": "conf_var", "description": "dd"},
           expect=200)
    c.call("/variables/conf_var", "PATCH", {"key": "other", "value": "v2"}, expect=400)
    c.call("/variables/conf_var2", "DELETE", expect=204)
    c.call("/variables/conf_var2", "DELETE", expect=404)
    # --- connections
    c.call("/connections", "POST", {"connection_id": "conf_pg", "conn_type": "postgres", "host": "db.example",
                                    "login": "me", "password": "secret", "port": 5432, "schema": "public",
                                    "extra": "{\"sslmode\": \"require\"}", "description": "a db"}, expect=200)
    c.call("/connections", "POST", {"connection_id": "conf_min", "conn_type": "http"}, expect=200)
    c.call("/connections", "POST", {"connection_id": "conf_min", "conn_type": "http"}, expect=409)
    c.call("/connections", "POST", {"conn_type": "http"}, expect=400)
    c.call("/connections", expect=200)
    for query in ("limit=1", "offset=1", "order_by=connection_id", "order_by=-connection_id", "order_by=conn_type"):
        c.call("/connections", query=query, expect=200)
    c.call("/connections/conf_pg", expect=200)
    c.call("/connections/conf_min", expect=200)
    c.call("/connections/nope", expect=404)
    c.call("/connections/conf_pg", "PATCH", {"connection_id": "conf_pg", "conn_type": "postgres", "host": "h2"},
           expect=200)
    c.call("/connections/conf_pg?update_mask=port", "PATCH", {"connection_id": "conf_pg", "conn_type": "postgres",
                                                               "port": 6543}, expect=200)
    c.call("/connections/conf_pg?update_mask=bogus", "PATCH", {"connection_id": "conf_pg", "conn_type": "x"},
           expect=400)
    c.call("/connections/test", "POST", {"connection_id": "conf_t", "conn_type": "http", "host": "127.0.0.1"},
           expect=(200, 403, 400))
    c.call("/connections/conf_min", "DELETE", expect=204)
    c.call("/connections/conf_min", "DELETE", expect=404)
    # --- users and roles (deprecated in 2.10, still served there)
    c.call("/users", expect=200)
    c.call("/users?limit=1&offset=1&order_by=-username", expect=200)
    c.call("/users/vera", expect=200)
    c.call("/users/nope", expect=404)
    c.call("/users", "POST", {"username": "conf_u", "password": "pw-conf-u-123", "email": "cu@example.com",
                              "first_name": "C", "last_name": "U", "roles": [{"name": "Viewer"}]}, expect=200)
    c.call("/users/conf_u?update_mask=last_name", "PATCH", {"username": "conf_u", "email": "cu@example.com",
                                                             "first_name": "C", "last_name": "V"}, expect=200)
    c.call("/users/conf_u", "DELETE", expect=204)
    c.call("/roles", expect=200)
    c.call("/roles/Viewer", expect=200)
    c.call("/roles/nope", expect=404)
    # --- config
    c.call("/config", expect=200)
    c.call("/config?section=core", expect=(200, 404))
    c.call("/config", headers={"Accept": "text/plain"}, expect=200)
    c.call("/config/section/core/option/dags_folder", expect=(200, 404))
    c.call("/config/section/nope/option/nope", expect=404)
    # --- errors: who may
    viewer = "Basic " + base64.b64encode(b"vera:pw-vera-123").decode()
    c.call("/dags/conf_ok/dagRuns", "POST", {}, auth=viewer, expect=403)
    c.call("/pools", "POST", {"name": "x", "slots": 1}, auth=viewer, expect=403)
    c.call("/dags", auth=False, expect=401)
    c.call("/dags", auth="Basic " + base64.b64encode(b"vera:wrong").decode(), expect=401)
    # --- the things mayaflow does not have
    for path in ("/eventLogs", "/eventLogs/1", "/providers", "/plugins", "/datasets", "/datasets/events",
                 "/permissions", "/dags/conf_ok/datasets/queuedEvent"):
        c.call(path, expect=(200, 404))
    # --- delete a DAG whose file is still there: 409 in mayaflow (Airflow deletes and re-parses)
    c.call("/dags/conf_daily", "DELETE", expect=(204, 409))


def report():
    total = len(results)
    failed = [r for r in results if not r[0]]
    print("\n=== %d answers validated against Airflow's document, %d failed ===" % (total, len(failed)))
    by_kind = {}
    for ok, method, path, status, msg in failed:
        key = re.sub(r"\(value .*", "", msg)[:220]
        by_kind.setdefault(key, []).append("%s %s" % (method, path))
    for key, where in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        print("%4d  %s\n        e.g. %s" % (len(where), key, where[0]))
    print("\n=== undocumented 4xx answers with a valid Error body (%d) ===" % len(notes))
    for line in sorted(set(notes)):
        print("  " + line)
    print("\n=== fields Airflow's schema lists that the answers leave out (%d) ===" % len(absent))
    for (template, field), n in sorted(absent.items()):
        print("  %-70s %s (%d)" % (template, field, n))
    print("\n=== statuses other than this tool expects of mayaflow (%d) ===" % len(unexpected))
    for line in unexpected:
        print("  " + line)
    print("%d passed, %d failed" % (total - len(failed), len(failed)))


if __name__ == "__main__":
    main()
