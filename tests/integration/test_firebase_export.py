"""firebase_export against the Firebase Realtime Database stand-in (tests/fakes/firebase_fake) and the
Google Cloud stand-ins: the exact JSON tree written from a BigQuery query (INT64 beyond 2^53 as text,
NULLs dropped, TIMESTAMP as ISO text) and from an upstream task's result; keys Firebase refuses in each
invalid_keys mode; a fault in the middle of a chunked put leaves the path as it was (or, once
publishing has begun, deleted) and the next try converges; secrets stay out of the output."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, Daemon, wait_for  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = "fb-secret-7f3a9c"
TOKEN = "fb-token-2b8e41"
NS = "test-project-default-rtdb"


class FirebaseFake:
    """tests/fakes/firebase_fake as a subprocess, and its control API."""

    def __init__(self):
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["/usr/bin/python3", "-m", "firebase_fake", "--port", "0", "--static-token", TOKEN, "--secret", SECRET,
             "--emulator"],
            cwd=os.path.join(REPO, "tests", "fakes"), stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.process.stdout.readline()
        if not line:
            self.stderr.seek(0)
            raise RuntimeError("the Firebase stand-in did not start: " + self.stderr.read().decode())
        self.ready = json.loads(line)
        self.base_url = self.ready["base_url"]

    def control(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method or ("POST" if data else "GET"),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=15) as answer:
            text = answer.read()
            return json.loads(text) if text else None

    def tree(self, path, ns=NS):
        quoted = "/".join(urllib.parse.quote(segment, safe="") for segment in path.strip("/").split("/"))
        return self.control("/_fake/db/%s?ns=%s" % (quoted, ns))

    def seed(self, path, value):
        self.control("/_fake/db/%s?ns=%s" % (path.strip("/"), NS), value, method="PUT")

    def writes(self):
        return self.control("/_fake/requests?writes=1")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.stderr.close()


def rows_yaml(rows):
    # JSON is YAML's flow style; DEL is not printable in YAML, so it is written as an escape.
    return json.dumps(rows, ensure_ascii=False).replace("\x7f", "\\u007f")


def environment(gcp, firebase):
    """The stand-ins' environment and three connections to the Firebase stand-in."""
    url = firebase.ready["database_url"]
    env = dict(gcp.environment())
    env["AIRFLOW_CONN_FIREBASE_DEFAULT"] = json.dumps(
        {"conn_type": "firebase", "password": SECRET, "extra": {"database_url": url}})
    env["AIRFLOW_CONN_FIREBASE_GOOGLE"] = json.dumps(
        {"conn_type": "google_cloud_platform", "extra": {"access_token": TOKEN, "database_url": url,
                                                         "num_retries": 0}})
    env["AIRFLOW_CONN_FIREBASE_EMULATED"] = json.dumps(
        {"conn_type": "google_cloud_platform",
         "extra": {"access_token": "unused", "database_url": "https://emu-db.firebaseio.com"}})
    return env


LONG_KEY = "x" * 769
BAD_ROWS = [{"id": "ok", "v": 1}, {"id": "a.b", "v": 2}, {"id": "c#d", "v": 3}, {"id": "e$f", "v": 4},
            {"id": "[x]", "v": 5}, {"id": "g/h", "v": 6}, {"id": "tab\there", "v": 7}, {"id": "del\x7f", "v": 8},
            {"id": "ユーザー", "v": 9}, {"id": LONG_KEY, "v": 10}, {"id": "100%", "v": 11}]
TEN_ROWS = [{"id": "u%02d" % i, "v": i, "pad": "p" * 150} for i in range(10)]

QUERY = (
    "SELECT 'u1' AS user_id, 3 AS milk, CAST(NULL AS STRING) AS note, 9007199254740993 AS big, "
    "9007199254740992 AS edge, NUMERIC '12.25' AS amount, TIMESTAMP '2024-01-02 10:00:00+00' AS at, "
    "DATE '2024-01-02' AS day, 1.5 AS f, true AS ok "
    "UNION ALL SELECT 'u.2', NULL, 'hi', -9007199254740993, 1, NUMERIC '0.1', TIMESTAMP '2024-01-02 10:00:00.5+00', "
    "DATE '2024-01-03', 2.5, false "
    "UNION ALL SELECT 'u3', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL")

DAG = """
dag_id: fb
schedule: null
params: {day: ""}
tasks:
  - task_id: from_query
    operator: firebase_export
    sql: "%(query)s"
    key_column: user_id
    invalid_keys: sanitize
    path: "/reports/{{ ds_nodash }}"
  - task_id: keys_fail
    operator: firebase_export
    rows: %(bad)s
    key_column: id
    path: /keys/fail
  - task_id: keys_sanitize
    operator: firebase_export
    rows: %(bad)s
    key_column: id
    invalid_keys: sanitize
    path: /keys/sanitize
  - task_id: keys_skip
    operator: firebase_export
    rows: %(bad_with_null)s
    key_column: id
    invalid_keys: skip
    path: /keys/skip
  - task_id: keys_collide
    operator: firebase_export
    rows: [{id: "a.b", v: 1}, {id: "a%%2Eb", v: 2}]
    key_column: id
    invalid_keys: sanitize
    path: /keys/collide
  - task_id: chunked
    operator: firebase_export
    rows: %(ten)s
    key_column: id
    chunk_size: 3
    firebase_conn_id: firebase_google
    path: "/chunked/{{ ds_nodash }}"
  - task_id: published
    operator: firebase_export
    rows: %(ten)s
    key_column: id
    chunk_size: 3
    max_write_bytes: 1024
    firebase_conn_id: firebase_google
    path: "/published/{{ ds_nodash }}"
  - task_id: patched
    operator: firebase_export
    rows: %(ten)s
    key_column: id
    chunk_size: 4
    write_mode: patch
    path: /patched
  - task_id: emulated
    operator: firebase_export
    rows: [{id: "a", v: 1}]
    key_column: id
    firebase_conn_id: firebase_emulated
    path: /emulated
  - task_id: empty_query
    operator: firebase_export
    sql: "SELECT 'a' AS id, 1 AS v FROM (SELECT 1 AS x) WHERE x = 2"
    key_column: id
    allow_empty: true
    path: /emptied
  - task_id: empty_query_refused
    operator: firebase_export
    sql: "SELECT 'a' AS id, 1 AS v FROM (SELECT 1 AS x) WHERE x = 2"
    key_column: id
    path: /emptied
  - task_id: rendered_gap
    operator: firebase_export
    rows: [{id: "a", v: 1}]
    key_column: id
    path: "/reports/{{ params.day }}/x"
  - task_id: rendered_root
    operator: firebase_export
    rows: [{id: "a", v: 1}]
    key_column: id
    path: "/{{ params.day }}"
""" % {"query": QUERY, "bad": rows_yaml(BAD_ROWS), "bad_with_null": rows_yaml(BAD_ROWS + [{"id": None, "v": 12}]),
       "ten": rows_yaml(TEN_ROWS)}

EXPECTED_FROM_QUERY = {
    "u1": {"milk": 3, "big": "9007199254740993", "edge": 9007199254740992, "amount": "12.25",
           "at": "2024-01-02T10:00:00Z", "day": "2024-01-02", "f": 1.5, "ok": True},
    "u%2E2": {"note": "hi", "big": "-9007199254740993", "edge": 1, "amount": "0.1",
              "at": "2024-01-02T10:00:00.500000Z", "day": "2024-01-03", "f": 2.5, "ok": False},
}
TEN_TREE = {row["id"]: {"v": row["v"], "pad": row["pad"]} for row in TEN_ROWS}


class FirebaseExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gcp = GcpFake(datasets=("ds",))
        cls.firebase = FirebaseFake()
        cls.home = tempfile.mkdtemp(prefix="mayaflow-firebase-")
        cls.dags = os.path.join(cls.home, "dags")
        os.makedirs(cls.dags)
        with open(os.path.join(cls.dags, "fb.yaml"), "w", encoding="utf-8") as f:
            f.write(DAG)

    @classmethod
    def tearDownClass(cls):
        cls.firebase.stop()
        cls.gcp.stop()

    def setUp(self):
        self.firebase.control("/_fake/reset", {})

    def tasks_test(self, task, date="2024-01-02", env=None):
        variables = dict(os.environ, MAYAFLOW_HOME=self.home, **environment(self.gcp, self.firebase))
        variables.update(env or {})
        result = subprocess.run([MAYAFLOW, "tasks", "test", "-S", self.dags, "fb", task, date], env=variables,
                                capture_output=True, text=True, timeout=180)
        self.assertNotIn(SECRET, result.stdout + result.stderr)
        self.assertNotIn(TOKEN, result.stdout + result.stderr)
        return result

    def result_of(self, output):
        for line in output.splitlines():
            if line.startswith("[mayaflow] result: "):
                return json.loads(line[len("[mayaflow] result: "):])
        self.fail("no result line in:\n" + output)

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("Traceback", result.stdout + result.stderr)

    def test_query_rows_become_the_exact_tree_with_typed_values(self):
        self.firebase.seed("/reports/20240102", {"stale": {"v": 1}})
        result = self.tasks_test("from_query")
        self.assert_ok(result)
        self.assertEqual(self.firebase.tree("/reports/20240102"), EXPECTED_FROM_QUERY)
        value = self.result_of(result.stdout)
        self.assertEqual((value["rows_read"], value["rows_written"], value["rows_empty"], value["keys_sanitized"]),
                         (3, 2, 1, 1))
        self.assertTrue(value["job_id"].startswith("mayaflow_fb_from_query_"), value)
        self.assertIn("sanitized key of row 2: 'u.2' → 'u%2E2'", result.stdout)
        writes = self.firebase.writes()
        self.assertTrue(writes)
        for write in writes:
            self.assertEqual(write["auth"], "secret")
            self.assertEqual(write["query"].get("print"), "silent", write)
            self.assertEqual(write["status"], 204, write)

    def test_a_query_without_rows_empties_the_path_only_when_allowed(self):
        self.firebase.seed("/emptied", {"old": {"v": 1}})
        refused = self.tasks_test("empty_query_refused")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("no rows to write to /emptied (0 read", refused.stdout)
        self.assertEqual(self.firebase.tree("/emptied"), {"old": {"v": 1}})
        allowed = self.tasks_test("empty_query")
        self.assert_ok(allowed)
        self.assertEqual(self.result_of(allowed.stdout)["rows_written"], 0)
        self.assertIsNone(self.firebase.tree("/emptied"))

    def test_a_path_rendered_with_a_gap_or_to_the_root_writes_nothing(self):
        self.firebase.seed("/reports", {"20240101": {"u1": {"v": 1}}})
        gap = self.tasks_test("rendered_gap")
        self.assertNotEqual(gap.returncode, 0)
        self.assertIn("path '/reports//x' has an empty key between two '/'", gap.stdout)
        root = self.tasks_test("rendered_root")
        self.assertNotEqual(root.returncode, 0)
        self.assertIn("path is the database's root", root.stdout)
        self.assertEqual(self.firebase.writes(), [])
        self.assertEqual(self.firebase.tree("/reports"), {"20240101": {"u1": {"v": 1}}})

    def test_invalid_keys_fail_before_anything_is_written(self):
        result = self.tasks_test("keys_fail")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("row 2: the key 'a.b' (id) contains '.'", result.stdout)
        self.assertEqual(self.firebase.writes(), [])
        self.assertIsNone(self.firebase.tree("/keys"))

    def test_invalid_keys_sanitized_with_the_mapping_in_the_log(self):
        result = self.tasks_test("keys_sanitize")
        self.assert_ok(result)
        tree = self.firebase.tree("/keys/sanitize")
        long_keys = [key for key in tree if key.startswith("xxxx")]
        self.assertEqual(len(long_keys), 1)
        long_key = long_keys[0]
        self.assertEqual(len(long_key.encode()), 768)
        self.assertRegex(long_key, r"^x{751}~[0-9a-f]{16}$")
        self.assertEqual(tree, {
            "ok": {"v": 1}, "a%2Eb": {"v": 2}, "c%23d": {"v": 3}, "e%24f": {"v": 4}, "%5Bx%5D": {"v": 5},
            "g%2Fh": {"v": 6}, "tab%09here": {"v": 7}, "del%7F": {"v": 8}, "ユーザー": {"v": 9}, long_key: {"v": 10},
            "100%": {"v": 11}})
        for original, sanitized in [("a.b", "a%2Eb"), ("c#d", "c%23d"), ("[x]", "%5Bx%5D"), ("g/h", "g%2Fh")]:
            self.assertIn("'%s' → '%s'" % (original, sanitized), result.stdout)
        self.assertIn(long_key, result.stdout)
        self.assertEqual(self.result_of(result.stdout)["keys_sanitized"], 8)

    def test_invalid_keys_skipped_rows_are_named_in_the_log(self):
        result = self.tasks_test("keys_skip")
        self.assert_ok(result)
        self.assertEqual(self.firebase.tree("/keys/skip"), {"ok": {"v": 1}, "ユーザー": {"v": 9}, "100%": {"v": 11}})
        value = self.result_of(result.stdout)
        self.assertEqual((value["rows_read"], value["rows_skipped"], value["rows_written"]), (12, 9, 3))
        self.assertIn("skipped row 2: the key 'a.b' (id) contains '.'", result.stdout)
        self.assertIn("skipped row 12: the key column 'id' is NULL", result.stdout)

    def test_keys_that_collide_once_sanitized_fail(self):
        result = self.tasks_test("keys_collide")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("rows 1 and 2 have the keys 'a.b' and 'a%2Eb', which are both 'a%2Eb' once sanitized",
                      result.stdout)
        self.assertEqual(self.firebase.writes(), [])

    def test_a_fault_while_staging_leaves_the_path_as_it_was_and_a_retry_converges(self):
        old = {"old": {"v": -1}}
        self.firebase.seed("/chunked/20240102", old)
        # Write 1 clears earlier staging paths, 2 and 3 stage chunks: the 3rd write and all after fail.
        self.firebase.control("/_fake/faults", [{"nth": 3, "status": 503, "times": -1}])
        result = self.tasks_test("chunked")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("HTTP 503", result.stdout)
        self.assertEqual(self.firebase.tree("/chunked/20240102"), old)
        self.assertFalse([w for w in self.firebase.writes() if w["path"] == "/chunked/20240102"])

        self.firebase.control("/_fake/faults", method="DELETE")
        result = self.tasks_test("chunked")
        self.assert_ok(result)
        self.assertEqual(self.firebase.tree("/chunked/20240102"), TEN_TREE)
        self.assertEqual(list(self.firebase.tree("/chunked")), ["20240102"])  # no staging path left
        value = self.result_of(result.stdout)
        self.assertEqual((value["chunks"], value["rows_written"]), (4, 10))
        self.assertIn("atomic", value["swap"])
        writes = self.firebase.writes()
        self.assertEqual({w["auth"] for w in writes if w["fault"] is None}, {"bearer"})

    def test_a_fault_while_publishing_a_large_put_leaves_no_partial_tree(self):
        self.firebase.seed("/published/20240102", {"old": {"v": -1}})
        # Below the path itself: the publish's PUT of chunk 1 passes, its PATCH of chunk 2 fails.
        self.firebase.control("/_fake/faults", [{"prefix": "published/20240102", "nth": 2, "status": 503}])
        result = self.tasks_test("published")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("no partial tree is left", result.stdout)
        self.assertIsNone(self.firebase.tree("/published/20240102"))

        result = self.tasks_test("published")
        self.assert_ok(result)
        self.assertEqual(self.firebase.tree("/published/20240102"), TEN_TREE)
        self.assertEqual(list(self.firebase.tree("/published")), ["20240102"])
        self.assertEqual(self.result_of(result.stdout)["swap"], "chunked publish")

    def test_patch_merges_in_chunks_and_a_lost_answer_is_sent_again(self):
        self.firebase.seed("/patched", {"keep": {"v": 0}, "u00": {"v": 99, "gone": True}})
        self.firebase.control("/_fake/faults", [{"nth": 2, "drop": "after"}])
        result = self.tasks_test("patched")
        self.assert_ok(result)
        expected = dict(TEN_TREE, keep={"v": 0})
        self.assertEqual(self.firebase.tree("/patched"), expected)
        self.assertEqual(self.firebase.control("/_fake/stats")["faults_fired"], 1)
        self.assertEqual(self.result_of(result.stdout)["chunks"], 3)

    def test_the_emulator_variable_sends_to_the_named_database_as_owner(self):
        host = "127.0.0.1:%d" % self.firebase.ready["port"]
        result = self.tasks_test("emulated", env={"FIREBASE_DATABASE_EMULATOR_HOST": host})
        self.assert_ok(result)
        self.assertEqual(self.firebase.tree("/emulated", ns="emu-db"), {"a": {"v": 1}})
        self.assertEqual({w["auth"] for w in self.firebase.writes()}, {"owner"})


DAEMON_DAG = """
dag_id: fb_daemon
schedule: null
tasks:
  - task_id: q
    operator: bigquery_query
    sql: "SELECT 'u1' AS user_id, 3 AS milk, 9007199254740993 AS big UNION ALL SELECT 'u2', 4, NULL"
  - task_id: from_result
    operator: firebase_export
    rows_from: q
    key_column: user_id
    path: "/daemon/{{ ds_nodash }}/rows_from"
    depends_on: [q]
  - task_id: from_template
    operator: firebase_export
    rows: "{{ ti.xcom_pull(task_ids='q')['rows'] | tojson }}"
    key_column: user_id
    path: "/daemon/{{ ds_nodash }}/template"
    depends_on: [q]
  - task_id: chunky
    operator: firebase_export
    rows: %(ten)s
    key_column: id
    chunk_size: 2
    firebase_conn_id: firebase_google
    path: /daemon/chunky
    retries: 1
    retry_delay: 1s
""" % {"ten": rows_yaml(TEN_ROWS)}


class FirebaseExportDaemonTest(unittest.TestCase):
    def test_rows_from_an_upstream_task_and_a_retry_after_a_fault(self):
        gcp = GcpFake(datasets=("ds",))
        firebase = FirebaseFake()
        daemon = Daemon(copy_examples=False, env=environment(gcp, firebase))
        try:
            # The second try's staging write fails once: the task's retry clears it and converges.
            firebase.control("/_fake/faults", [{"path": r"chunky__staging_1", "nth": 2, "status": 503}])
            daemon.write_dag("fb_daemon.yaml", DAEMON_DAG)
            daemon.start()
            wait_for(lambda: "fb_daemon" in daemon.dag_ids(), timeout=30)
            daemon.cli("dags", "trigger", "fb_daemon", "-l", "2024-01-02T00:00:00Z", check=True)

            def finished():
                runs = [r for r in daemon.runs("fb_daemon") if r["state"] in ("success", "failed")]
                return runs or None
            runs, _ = wait_for(finished, timeout=180)
            run_id = runs[0]["run_id"]
            self.assertEqual(runs[0]["state"], "success",
                             daemon.cli("tasks", "logs", "fb_daemon", run_id, "chunky").stdout + daemon.read_log())
            expected = {"u1": {"milk": 3, "big": "9007199254740993"}, "u2": {"milk": 4}}
            self.assertEqual(firebase.tree("/daemon/20240102"), {"rows_from": expected, "template": expected})
            self.assertEqual(firebase.tree("/daemon/chunky"), TEN_TREE)
            self.assertEqual(sorted(firebase.tree("/daemon")), ["20240102", "chunky"])  # no staging path left
            self.assertEqual(firebase.control("/_fake/stats")["faults_fired"], 1)
            log = daemon.cli("tasks", "logs", "fb_daemon", run_id, "chunky").stdout
            self.assertNotIn(SECRET, log + daemon.read_log())
        finally:
            daemon.cleanup()
            firebase.stop()
            gcp.stop()


if __name__ == "__main__":
    unittest.main()
