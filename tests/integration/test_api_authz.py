"""The authorization matrix, probed from outside: every operation the daemon's own OpenAPI document
lists, with every method, called with no credentials and as a Viewer, a User, an Op and an Admin
(users made with `mayaflow users create`, signed in with their tokens and, for a sample, with Basic).

Who may do what is written down here, independently of the daemon's table (web/auth/access.cpp):
Airflow 2.10's FAB roles (a Viewer reads DAGs, runs, task instances, logs, XComs, import errors,
warnings and pools; a User also edits DAGs, runs and task instances; an Op also manages pools,
variables and connections; an Admin also users and roles) and what issue 11 and docs/api-auth.md add:
backfills as runs (User starts, pauses, cancels), the connections export and the configuration for
Admins only (Airflow gives an Op `can_read` on Configurations; issue 11 says "config (admin, …)"),
/metrics for Op and up, and nothing without credentials but health, the OpenAPI document and the
sign-in itself.

Requests are harmless: ids that do not exist and bodies with an unknown field, so an allowed role gets
400 or 404 (the permission passed) and nothing changes.
"""

import json
import os
import re
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import openapi_check  # noqa: E402
from daemon import Daemon  # noqa: E402

ANYONE, SIGNED_IN, VIEWER, USER, OP, ADMIN = "anyone", "signed in", "Viewer", "User", "Op", "Admin"
ROLES = [VIEWER, USER, OP, ADMIN]
RANK = {ANYONE: -1, SIGNED_IN: 0, VIEWER: 0, USER: 1, OP: 2, ADMIN: 3}

# (method, path as the document writes it) -> the least role that may call it.
EXPECTED = {
    # Open to anyone.
    ("GET", "/health"): ANYONE,
    ("GET", "/openapi.json"): VIEWER,
    ("GET", "/openapi.yaml"): VIEWER,
    ("POST", "/mayaflow/session"): ANYONE,
    # One's own session and tokens.
    ("GET", "/mayaflow/session"): SIGNED_IN,
    ("DELETE", "/mayaflow/session"): SIGNED_IN,
    ("GET", "/mayaflow/tokens"): SIGNED_IN,
    ("POST", "/mayaflow/tokens"): SIGNED_IN,
    ("DELETE", "/mayaflow/tokens/{token_id}"): SIGNED_IN,
    ("GET", "/version"): VIEWER,
    # Reading what runs.
    ("GET", "/dags"): VIEWER,
    ("GET", "/dags/{dag_id}"): VIEWER,
    ("GET", "/dags/{dag_id}/details"): VIEWER,
    ("GET", "/dags/{dag_id}/tasks"): VIEWER,
    ("GET", "/dags/{dag_id}/tasks/{task_id}"): VIEWER,
    ("GET", "/dagSources/{file_token}"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/source"): VIEWER,
    ("GET", "/dagWarnings"): VIEWER,
    ("GET", "/importErrors"): VIEWER,
    ("GET", "/importErrors/{import_error_id}"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns"): VIEWER,
    ("GET", "/dagStats"): VIEWER,
    ("POST", "/dags/~/dagRuns/list"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances"): VIEWER,
    ("POST", "/dags/~/dagRuns/~/taskInstances/list"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries/{task_try_number}"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries"): VIEWER,
    ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/notebook/{task_try_number}"): VIEWER,
    ("GET", "/mayaflow/events"): VIEWER,
    ("GET", "/backfills"): VIEWER,
    ("GET", "/backfills/{backfill_id}"): VIEWER,
    ("GET", "/pools"): VIEWER,
    ("GET", "/pools/{pool_name}"): VIEWER,
    # The web UI's overview (web/api/overview_routes.cpp).
    ("GET", "/mayaflow/dagSummaries"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/schedule"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/graph"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/gridData"): VIEWER,
    ("GET", "/mayaflow/standins"): VIEWER,
    ("GET", "/mayaflow/dagTags"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/rendered"): VIEWER,
    ("GET", "/mayaflow/costs/dags"): VIEWER,
    ("GET", "/mayaflow/costs/tasks"): VIEWER,
    ("GET", "/mayaflow/dags/{dag_id}/costs"): VIEWER,
    # Changing DAGs, runs and task instances.
    ("PATCH", "/dags"): USER,
    ("PATCH", "/dags/{dag_id}"): USER,
    ("DELETE", "/dags/{dag_id}"): USER,
    ("POST", "/dags/{dag_id}/dagRuns"): USER,
    ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}"): USER,
    ("DELETE", "/dags/{dag_id}/dagRuns/{dag_run_id}"): USER,
    ("POST", "/dags/{dag_id}/dagRuns/{dag_run_id}/clear"): USER,
    ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}/setNote"): USER,
    ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"): USER,
    ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/setNote"): USER,
    ("POST", "/dags/{dag_id}/clearTaskInstances"): USER,
    ("POST", "/dags/{dag_id}/updateTaskInstancesState"): USER,
    ("POST", "/backfills"): USER,
    ("POST", "/backfills/dry_run"): USER,
    ("PUT", "/backfills/{backfill_id}/pause"): USER,
    ("PUT", "/backfills/{backfill_id}/unpause"): USER,
    ("PUT", "/backfills/{backfill_id}/cancel"): USER,
    # Pools, variables, connections.
    ("POST", "/pools"): OP,
    ("PATCH", "/pools/{pool_name}"): OP,
    ("DELETE", "/pools/{pool_name}"): OP,
    ("GET", "/variables"): OP,
    ("POST", "/variables"): OP,
    ("GET", "/variables/{variable_key}"): OP,
    ("PATCH", "/variables/{variable_key}"): OP,
    ("DELETE", "/variables/{variable_key}"): OP,
    ("GET", "/connections"): OP,
    ("POST", "/connections"): OP,
    ("POST", "/connections/test"): OP,
    ("GET", "/connections/{connection_id}"): OP,
    ("PATCH", "/connections/{connection_id}"): OP,
    ("DELETE", "/connections/{connection_id}"): OP,
    # Secrets, configuration, users.
    ("GET", "/mayaflow/connections/export"): ADMIN,
    ("GET", "/config"): ADMIN,
    ("GET", "/config/section/{section}/option/{option}"): ADMIN,
    ("GET", "/users"): ADMIN,
    ("POST", "/users"): ADMIN,
    ("GET", "/users/{username}"): ADMIN,
    ("PATCH", "/users/{username}"): ADMIN,
    ("DELETE", "/users/{username}"): ADMIN,
    ("GET", "/roles"): ADMIN,
    ("GET", "/roles/{role_name}"): ADMIN,
}

# Outside the API's document: the plain health check, the UI's page and files (they hold no data: the
# page signs in and asks the API), Prometheus's scrape.
OUTSIDE_THE_DOCUMENT = {
    ("GET", "/health"): ANYONE,
    ("GET", "/"): ANYONE,
    ("GET", "/home"): ANYONE,
    ("GET", "/ui/js/app.js"): ANYONE,
    ("GET", "/ui/css/app.css"): ANYONE,
    ("GET", "/metrics"): OP,
}

# Values for the path's parameters that name nothing.
PARAMETERS = {
    "dag_id": "no_such_dag", "dag_run_id": "no_such_run", "task_id": "no_such_task", "task_try_number": "1",
    "xcom_key": "no_such_key", "file_token": "no-such-token", "import_error_id": "987654",
    "backfill_id": "987654", "pool_name": "no_such_pool", "variable_key": "no_such_variable",
    "connection_id": "no_such_connection", "username": "no_such_user", "role_name": "NoSuchRole",
    "token_id": "987654", "section": "no_such_section", "option": "no_such_option",
}
HARMLESS_BODY = json.dumps({"no_such_field_in_any_request": 1})
STREAMS = {"/mayaflow/events"}  # answers that never end: only the status is read


def fill(template):
    return re.sub(r"\{(\w+)\}", lambda m: urllib.parse.quote(PARAMETERS[m.group(1)], safe=""), template)


class AuthorizationMatrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False).start()
        cls.document = openapi_check.document_for(cls.daemon.port, cls.daemon)
        cls.passwords, cls.bearer = {}, {}
        for role in ROLES:
            username = "matrix_" + role.lower()
            cls.passwords[role] = "pw-%s-42" % role.lower()
            cls.daemon.cli("users", "create", "--username", username, "--password", cls.passwords[role], "--role",
                           role, "--email", "%s@example.com" % username, "--firstname", role, "--lastname", "Matrix",
                           check=True)
            token = cls.daemon.cli("users", "create-token", "-u", username, "--name", "matrix", check=True).stdout
            cls.bearer[role] = "Bearer " + token.strip()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def call(self, method, path, authorization=None, body=None):
        """(status, headers, body) of one request; an /api/v1 answer is held to the document too."""
        headers = {"Authorization": authorization} if authorization else {}
        data = body.encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.daemon.port, path), method=method,
                                         headers=headers, data=data)
        stream = any(path.startswith("/api/v1" + s) for s in STREAMS)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, answer_headers = answer.status, answer.headers
                text = "" if stream and status == 200 else answer.read().decode()
        except urllib.error.HTTPError as error:
            status, answer_headers, text = error.code, error.headers, error.read().decode()
        if path.startswith("/api/v1/") and not (stream and status == 200):
            openapi_check.check(self.document, method, path, status, answer_headers.get("Content-Type"), text)
        return status, answer_headers, text

    def served_operations(self):
        return {(method.upper(), template) for template, item in self.document.spec["paths"].items()
                for method in item if method in ("get", "put", "post", "patch", "delete")}

    def test_the_table_here_covers_exactly_what_the_daemon_serves(self):
        served = self.served_operations()
        self.assertGreaterEqual(len(served), 75, "the document lists too few operations to be the whole API")
        self.assertEqual(sorted(served - set(EXPECTED)), [], "served, but nobody wrote down who may call them")
        self.assertEqual(sorted(set(EXPECTED) - served), [], "expected here, but not in the served document")

    def check_operation(self, method, path, least, outside=False):
        url = path if outside else "/api/v1" + fill(path)
        body = HARMLESS_BODY if method in ("POST", "PATCH", "PUT") else None
        where = "%s %s" % (method, url)

        status, headers, text = self.call(method, url, None, body)
        if least == ANYONE:
            self.assertNotIn(status, (401, 403), "%s without credentials: %s" % (where, text))
        else:
            self.assertEqual(status, 401, "%s without credentials: %s" % (where, text))
            self.assertIn("Basic", headers.get("WWW-Authenticate", ""), where)
            self.assertEqual(headers.get("Content-Type"), "application/problem+json", where)

        for role in ROLES:
            status, headers, text = self.call(method, url, self.bearer[role], body)
            if RANK[role] >= RANK[least]:
                self.assertNotIn(status, (401, 403), "%s as %s is allowed: %s" % (where, role, text))
                self.assertLess(status, 500, "%s as %s: %s" % (where, role, text))
            else:
                self.assertEqual(status, 403, "%s as %s must be refused: %s" % (where, role, text))
                self.assertEqual(headers.get("Content-Type"), "application/problem+json", where)
                detail = json.loads(text)["detail"]
                self.assertIn("needs the %s role" % least, detail, "%s as %s" % (where, role))
                self.assertIn("matrix_" + role.lower(), detail, where)
            # HEAD is GET without the body: the same permission, or it would tell what exists.
            if method == "GET" and not any(url.startswith("/api/v1" + s) for s in STREAMS):
                head = self.call("HEAD", url, self.bearer[role])[0]
                if RANK[role] >= RANK[least]:
                    self.assertNotIn(head, (401, 403), "HEAD %s as %s" % (url, role))
                else:
                    self.assertEqual(head, 403, "HEAD %s as %s" % (url, role))
        if method == "GET" and least != ANYONE:
            self.assertEqual(self.call("HEAD", url)[0], 401, "HEAD %s without credentials" % url)

    def test_every_operation_as_every_role(self):
        served = self.served_operations()
        checked = 0
        for (method, path), least in sorted(EXPECTED.items()):
            if (method, path) not in served:
                continue  # the coverage test names it
            with self.subTest(method=method, path=path):
                self.check_operation(method, path, least)
                checked += 1
        self.assertGreaterEqual(checked, 75)

    def test_routes_outside_the_document(self):
        for (method, path), least in sorted(OUTSIDE_THE_DOCUMENT.items()):
            with self.subTest(method=method, path=path):
                self.check_operation(method, path, least, outside=True)

    def test_basic_credentials_carry_the_same_roles_as_tokens(self):
        for role in ROLES:
            basic = self.daemon.auth_header("matrix_" + role.lower(), self.passwords[role])
            variables, _, _ = self.call("GET", "/api/v1/variables", basic)
            self.assertEqual(variables, 200 if RANK[role] >= RANK[OP] else 403, role)
            trigger, _, text = self.call("POST", "/api/v1/dags/no_such_dag/dagRuns", basic, HARMLESS_BODY)
            self.assertIn(trigger, (400, 404) if RANK[role] >= RANK[USER] else (403,), "%s: %s" % (role, text))
        # A wrong password or token is 401, not 403 (only two: five failures from one address throttle it).
        wrong = self.daemon.auth_header("matrix_admin", "not-the-password")
        self.assertEqual(self.call("GET", "/api/v1/dags", wrong)[0], 401)
        self.assertEqual(self.call("GET", "/api/v1/dags", "Bearer mf_not-a-token")[0], 401)

    def test_methods_a_path_does_not_answer_are_405_with_allow(self):
        probed = 0
        for template, item in sorted(self.document.spec["paths"].items()):
            url = "/api/v1" + fill(template)
            served = self.methods_at(url)  # /connections/test is also /connections/{connection_id}
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                if method in served:
                    continue
                with self.subTest(method=method, path=template):
                    body = HARMLESS_BODY if method in ("POST", "PATCH", "PUT") else None
                    status, headers, text = self.call(method, url, self.bearer[ADMIN], body)
                    self.assertEqual(status, 405, "%s %s: %s" % (method, url, text))
                    allowed = {m.strip() for m in headers.get("Allow", "").split(",") if m.strip()}
                    self.assertEqual(allowed - {"HEAD", "OPTIONS"}, served, "%s %s: Allow" % (method, url))
                    # Without credentials it is refused one way or the other, never served.
                    self.assertIn(self.call(method, url, None, body)[0], (401, 405))
                    probed += 1
        self.assertGreater(probed, 100)

    def methods_at(self, url):
        """The methods any template of the document answers at this concrete path (GET
        /dags/~/dagRuns/list is GET /dags/{dag_id}/dagRuns/{dag_run_id} with the run id 'list')."""
        segments = url[len("/api/v1/"):].split("/")
        methods = set()
        for pattern, _, operations in self.document.routes:
            if len(pattern) == len(segments) and all(want.startswith("{") or want == got
                                                     for want, got in zip(pattern, segments)):
                methods |= set(operations)
        return methods

    def test_the_document_check_refuses_what_the_document_does_not_say(self):
        """openapi_check, which every Daemon.http answer goes through, can fail: answers the
        document does not describe are refused, naming where."""
        problem = json.dumps({"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no DAG x"})
        accepted = [("GET", "/api/v1/dags?limit=1", 200, "application/json", '{"dags": [], "total_entries": 0}'),
                    ("GET", "/api/v1/dags/x", 404, "application/problem+json", problem),
                    ("GET", "/api/v1/no_such_route", 404, "application/problem+json", problem),
                    ("DELETE", "/api/v1/pools/x", 204, None, "")]
        for answer in accepted:
            openapi_check.check(self.document, *answer)
        refused = [
            (("GET", "/api/v1/dags", 200, "application/json", '{"dags": [{"dag_id": 5}], "total_entries": 1}'),
             "'/dags/0/dag_id'"),
            (("GET", "/api/v1/dags", 200, "application/json", '{"dags": []}'), "total_entries"),
            (("GET", "/api/v1/dags/x", 418, "application/json", "{}"), "documents only"),
            (("GET", "/api/v1/dags/x", 404, "text/html", "<h1>no</h1>"), "content type"),
            (("GET", "/api/v1/dags/x", 404, "application/problem+json", '{"detail": "x"}'), "'type' is a required"),
            (("GET", "/api/v1/no_such_route", 200, "application/json", "{}"), "no operation"),
            (("GET", "/api/v1/dags/x/dagRuns/y", 200, "application/json", "not json"), "not JSON"),
            (("DELETE", "/api/v1/pools/x", 204, "application/json", '{"gone": true}'), "no body"),
            (("GET", "/api/v1/connections/c", 200, "application/json",
              '{"connection_id": "c", "conn_type": "http", "password": "s3cret"}'), "'/password'"),
        ]
        for answer, named in refused:
            with self.subTest(answer=answer[:3]):
                with self.assertRaises(AssertionError) as caught:
                    openapi_check.check(self.document, *answer)
                self.assertIn(named, str(caught.exception))
                self.assertIn("%s %s answered %d" % answer[:3], str(caught.exception))

    def test_paths_that_do_not_exist_are_404_not_500(self):
        for path in ("/api/v1/no_such_thing", "/api/v1/", "/api/v1", "/api/v2/dags", "/api/v1/dags/x/nothing",
                     "/api/v1/dags/x/dagRuns/y/taskInstances/z/logs/1/more", "/api/v1/dags/%2e%2e/%2e%2e/etc/passwd",
                     "/api/v1/dags/x/dagRuns/y/taskInstances/z/logs", "/api/v1//dags", "/api/v1/DAGS",
                     "/api/v1/mayaflow", "/api/v1/mayaflow/connections", "/nothing", "/api/v1/dags/x/" + "y/" * 200):
            for method in ("GET", "POST", "DELETE"):
                with self.subTest(method=method, path=path):
                    body = HARMLESS_BODY if method == "POST" else None
                    status, headers, text = self.call(method, path, self.bearer[ADMIN], body)
                    self.assertEqual(status, 404, "%s %s: %s" % (method, path, text))
                    self.assertEqual(headers.get("Content-Type"), "application/problem+json")
                    self.assertIn(self.call(method, path, None, body)[0], (401, 404))


if __name__ == "__main__":
    unittest.main()
