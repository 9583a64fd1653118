"""Attacks on the REST API of a real daemon: bodies the JSON reader once answered with a 500 or
quoted back, numbers that wrapped, encoded ids, wildcards and injected ordering, racing writes,
the throttle that locked out good tokens, CSRF, a deleted user's credentials, secrets in any
answer or log line, and the event stream's slots. Each must answer a 4xx problem that says what
to fix (never a 500, a hang or a sanitizer report) and change nothing when it refuses."""

import base64
import concurrent.futures
import json
import os
import re
import socket
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon  # noqa: E402

RUNS = "/api/v1/dags/hello_mayaflow/dagRuns"
CONNECTION_PASSWORD = "conn-pw-Zq8v1"
EXTRA_SECRET = "extra-key-Wm3r7"
VARIABLE_SECRET = "var-secret-Hy5t2"


class Api:
    """Requests as one user (a Bearer token, or none), without the OpenAPI check of Daemon.http, so
    that raw bytes and odd headers go as they are."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token

    def call(self, method, path, body=None, headers=None, timeout=30):
        all_headers = {"Authorization": "Bearer " + self.token} if self.token else {}
        all_headers.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method,
                                         headers=all_headers, data=data)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace"), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), error.headers


def raw(port, data, timeout=10):
    """Sends bytes as they are; returns what comes back until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def statuses(answer_bytes):
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer_bytes)]


class ApiAttacksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        port = cls.daemon.port
        status, _, body = cls.daemon.http("/api/v1/mayaflow/tokens", method="POST", body=json.dumps({"name": "attacks"}))
        assert status == 201, body
        cls.admin = Api(port, json.loads(body)["token"])
        cls.users = {}
        for role in ("Viewer", "User"):
            name = "atk_" + role.lower()
            status, body, _ = cls.admin.call("POST", "/api/v1/users", {
                "username": name, "password": "pw:%s:with-colons" % role, "email": name + "@example.com",
                "first_name": role, "last_name": "Attacker", "roles": [{"name": role}]})
            assert status == 200, body
            status, body, _ = cls.admin.call("POST", "/api/v1/mayaflow/tokens", {"username": name})
            assert status == 201, body
            cls.users[role] = Api(port, json.loads(body)["token"])
        status, body, _ = cls.admin.call("POST", "/api/v1/connections", {
            "connection_id": "atk_conn", "conn_type": "http", "host": "example.com", "login": "me",
            "password": CONNECTION_PASSWORD, "extra": json.dumps({"api_key": EXTRA_SECRET})})
        assert status == 200, body
        status, body, _ = cls.admin.call("POST", "/api/v1/variables", {"key": "atk_password", "value": VARIABLE_SECRET})
        assert status == 200, body

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def assertProblem(self, answer, status, says=None):
        code, body, headers = answer
        self.assertEqual(code, status, body)
        self.assertEqual(headers.get("Content-Type"), "application/problem+json", body)
        problem = json.loads(body)
        self.assertEqual(problem["status"], status)
        if says:
            self.assertIn(says, problem["detail"])
        return problem["detail"]

    def runs_of_hello(self):
        code, body, _ = self.admin.call("GET", RUNS + "?limit=1000")
        self.assertEqual(code, 200, body)
        return {run["dag_run_id"] for run in json.loads(body)["dag_runs"]}

    # -- HTTP framing --------------------------------------------------------------------------

    def test_framing_limits_and_pipelining(self):
        port = self.daemon.port
        self.assertEqual(statuses(raw(port, b"GET /api/v1/version HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 20000 +
                                      b"\r\n\r\n"))[:1], [431])
        for bad in (b"Content-Length: 99999999999999999999\r\n", b"Content-Length: -1\r\n",
                    b"Content-Length: 5\r\nContent-Length: 6\r\n", b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"):
            answer = raw(port, b"POST /api/v1/variables HTTP/1.1\r\nHost: x\r\n" + bad + b"\r\n0\r\n\r\n")
            self.assertEqual(statuses(answer)[:1], [400], answer[:300])
        # A Transfer-Encoding that does not end in chunked: 400 and closed, its body never read as the
        # next request (request smuggling behind a proxy that reads it otherwise).
        for coding in (b"xchunked", b"chunked, identity", b"identity"):
            answer = raw(port, b"POST /api/v1/variables HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                         b"\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(statuses(answer), [400], answer[:300])
            self.assertIn(b"Transfer-Encoding", answer)
        auth = b"Authorization: Bearer " + self.admin.token.encode() + b"\r\n"
        over = 4 * 1024 * 1024 + 1
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /api/v1/variables HTTP/1.1\r\nHost: x\r\n" + auth +
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % over)
            self.assertIn(b" 413 ", s.recv(200))  # answered before the body is sent
        # Twenty pipelined requests, one with a body the reader refuses: twenty answers in order.
        one = b"GET /api/v1/version HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
        refused = (b"POST /api/v1/variables HTTP/1.1\r\nHost: x\r\n" + auth +
                   b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
        answer = raw(port, one * 10 + refused + one * 8 + b"GET /api/v1/version HTTP/1.1\r\nHost: x\r\n" + auth +
                     b"Connection: close\r\n\r\n")
        self.assertEqual(statuses(answer), [200] * 10 + [400] + [200] * 9)

    # -- bodies --------------------------------------------------------------------------------

    def test_numbers_beyond_a_double_are_400_not_500(self):
        before = self.runs_of_hello()
        for body in (b'{"conf": {"n": 1e400}}', b'{"dag_run_id": 1e999999}', b'{"conf": {"n": -1e309}}'):
            self.assertProblem(self.admin.call("POST", RUNS, body), 400, "number too large")
        self.assertEqual(self.runs_of_hello(), before)

    def test_numbers_past_a_long_long_do_not_wrap_to_negative(self):
        for path, field, extra in (("/api/v1/pools/default_pool", "slots", '"name": "default_pool", '),):
            detail = self.assertProblem(self.admin.call("PATCH", path, ('{%s"%s": 18446744073709551615}' % (extra, field))
                                                        .encode()), 400)
            self.assertNotIn("-1", detail)
        code, body, _ = self.admin.call("GET", "/api/v1/pools/default_pool")
        self.assertEqual(json.loads(body)["slots"], 128, body)

    def test_a_malformed_body_is_not_quoted_back(self):
        for path, body in (("/api/v1/connections", b'{"connection_id": "c9", "password": "hunter2-pw" x}'),
                           ("/api/v1/variables", b'{"key": "k9", "value": "hunter2-pw"'),
                           ("/api/v1/users", b'{"username": "u9", "password": "hunter2-pw" 1e400}')):
            detail = self.assertProblem(self.admin.call("POST", path, body), 400)
            self.assertNotIn("hunter2", detail)
        code, _, _ = Api(self.daemon.port).call("POST", "/api/v1/mayaflow/session",
                                                b'{"username": "admin", "password": "hunter2-pw" x}')
        self.assertEqual(code, 400)
        self.assertNotIn("hunter2", self.daemon.read_log())

    def test_a_form_or_text_body_is_415_and_changes_nothing(self):
        # What a page on another site can POST without a CORS preflight; a browser adds the Basic
        # credentials it keeps for this server, so these must not act.
        before = self.runs_of_hello()
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            for body in (b"", b'{"dag_run_id": "atk_form"}'):
                with self.subTest(content_type=content_type, body=body):
                    self.assertProblem(self.admin.call("POST", RUNS, body, headers={"Content-Type": content_type}),
                                       415, "application/json")
        self.assertEqual(self.runs_of_hello(), before)
        code, body, _ = self.admin.call("POST", RUNS, b'{"dag_run_id": "atk_json"}',
                                        headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(code, 200, body)

    def test_deep_malformed_and_mistyped_bodies(self):
        before = self.runs_of_hello()
        # Well-formed but deep: 300,000 objects inside each other (1.8 MB) once overflowed the daemon's
        # stack where the value was copied; refused before it is built.
        deep_conf = b'{"dag_run_id": "atk_deep", "conf": ' + b'{"a": ' * 300000 + b"1" + b"}" * 300001
        cases = [(b"[" * 100000, "nested deeper than 100 levels"), (b'{"a":' * 100000, "nested deeper than 100 levels"),
                 (deep_conf, "nested deeper than 100 levels"), (b"[]", "JSON object"),
                 (b'{"dag_run_id": "\xff\xfe"}', "UTF-8"), (b'{"dag_run_id": "\\ud800"}', "not valid JSON"),
                 (b'{"dag_run_id": 5}', "must be a string"), (b'{"conf": []}', "'conf'"), (b'{"confx": 1}', "unknown field"),
                 (b'{"dag_run_id": "../../etc"}', "not allowed"), (b'{"logical_date": "2026-13-45T00:00:00Z"}', "month 13"),
                 (b'{"logical_date": "2026-01-01T00:00:00+99:99"}', "offset"),
                 # Past what the templates' dates can reach (a task would fail on next_ds): refused up front.
                 (b'{"logical_date": "9999-12-31T23:59:59+14:00"}', "out of range"),
                 (b'{"logical_date": "0001-01-01T00:00:00Z"}', "out of range")]
        for body, says in cases:
            with self.subTest(body=body[:40]):
                self.assertProblem(self.admin.call("POST", RUNS, body), 400, says)
        self.assertEqual(self.runs_of_hello(), before)

    # -- ids, paths, filters -------------------------------------------------------------------

    def test_encoded_ids_never_reach_past_their_name(self):
        for path in ("/api/v1/dags/hello%00mayaflow", "/api/v1/dags/hello%2fmayaflow", "/api/v1/dags/%2e%2e",
                     "/api/v1/variables/..%2f..%2fetc", "/api/v1/connections/%2e%2e%2fatk_conn", "/api/v1/pools/default_pool%00",
                     RUNS + "/..%2f..", "/api/v1/dags/hello_mayaflow/tasks/%2e%2e",
                     "/api/v1/dagSources/..%2f..%2fetc%2fpasswd", "/api/v1/mayaflow/dags/%2e%2e/source"):
            with self.subTest(path=path):
                self.assertProblem(self.admin.call("GET", path), 404)
        for path in ("/api/v1/dags/%ff", "/api/v1/dags/%c0%ae%c0%ae", "/api/v1/dags/%zz",
                     "/api/v1/mayaflow/dags/..%2f..%2f/dagRuns/x/taskInstances/%2e%2e/notebook/1",
                     RUNS + "/x/taskInstances/hello/logs/1%2f..%2f..", RUNS + "/x/taskInstances/hello/logs/99999999999999999999"):
            with self.subTest(path=path):
                self.assertProblem(self.admin.call("GET", path), 400)

    def test_wildcards_and_injection_in_filters_and_ordering(self):
        for pattern in ("%25", "%27%20OR%201%3D1%20--", "hello%25", "h_llo"):
            code, body, _ = self.admin.call("GET", "/api/v1/dags?dag_id_pattern=" + pattern)
            self.assertEqual((code, json.loads(body)["total_entries"]), (200, 0), pattern)
        code, body, _ = self.admin.call("PATCH", "/api/v1/dags?dag_id_pattern=%25&update_mask=is_paused", {"is_paused": True})
        self.assertEqual((code, json.loads(body)["total_entries"]), (200, 0), body)
        for order in ("dag_run_id%3BDROP", "--dag_run_id", "rowid", "1", "conf"):
            self.assertProblem(self.admin.call("GET", "/api/v1/dags/~/dagRuns?order_by=" + order), 400, "order_by")
        self.assertProblem(self.admin.call("GET", "/api/v1/users?order_by=password"), 400, "order_by")
        for query in ("limit=-1", "limit=1000001", "limit=99999999999999999999", "limit=abc", "offset=-1", "offset=0x10"):
            self.assertProblem(self.admin.call("GET", "/api/v1/dags/~/dagRuns?" + query), 400, "whole number")
        self.assertProblem(self.admin.call("GET", "/api/v1/dags/~/dagRuns?state=%27"), 400, "unknown state")

    # -- racing writes -------------------------------------------------------------------------

    def test_racing_triggers_and_deletes(self):
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            codes = sorted(a[0] for a in pool.map(lambda _: self.admin.call("POST", RUNS, {"dag_run_id": "atk_race"},
                                                                            timeout=60), range(12)))
        self.assertEqual(codes, [200] + [409] * 11)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: self.admin.call("DELETE", RUNS + "/atk_race", timeout=60) if i % 2 else
                                    self.admin.call("PATCH", RUNS + "/atk_race", {"state": "failed"}, timeout=60), range(8)))
        codes = [a[0] for a in answers]
        self.assertEqual(codes.count(204), 1, answers)
        # A PATCH or DELETE whose run is deleted after the route found it but before the scheduler took
        # the command is the run's 404, as if it had come a moment later; anything else (a 400 with the
        # scheduler's wording, a 500, a 409, a hang) fails here.
        self.assertTrue(set(codes) <= {200, 204, 404}, answers)
        self.assertNotIn("atk_race", self.runs_of_hello())

    # -- auth ----------------------------------------------------------------------------------

    def test_basic_with_colons_and_any_case(self):
        port = self.daemon.port
        for username in ("atk_viewer", "ATK_Viewer"):
            value = "Basic " + base64.b64encode(("%s:pw:Viewer:with-colons" % username).encode()).decode()
            code, body, _ = Api(port).call("GET", "/api/v1/version", headers={"Authorization": value})
            self.assertEqual(code, 200, body)

    def test_session_changes_need_the_csrf_token(self):
        anonymous = Api(self.daemon.port)
        code, body, headers = anonymous.call("POST", "/api/v1/mayaflow/session",
                                             {"username": "atk_user", "password": "pw:User:with-colons"})
        self.assertEqual(code, 200, body)
        cookie = {"Cookie": headers["Set-Cookie"].split(";")[0]}
        csrf = json.loads(body)["csrf_token"]
        before = self.runs_of_hello()
        for extra in ({}, {"X-CSRF-Token": "wrong"}, {"X-HTTP-Method-Override": "GET"}):
            self.assertProblem(anonymous.call("POST", RUNS, {"dag_run_id": "atk_csrf"}, headers=dict(cookie, **extra)),
                               403, "CSRF")
        self.assertEqual(self.runs_of_hello(), before)
        code, body, _ = anonymous.call("POST", RUNS, {"dag_run_id": "atk_csrf"}, headers=dict(cookie, **{"X-CSRF-Token": csrf}))
        self.assertEqual(code, 200, body)

    def test_a_deleted_users_token_and_session_end_and_do_not_pass_to_a_namesake(self):
        port = self.daemon.port
        status, body, _ = self.admin.call("POST", "/api/v1/users", {
            "username": "atk_gone", "password": "gone-pw-1", "email": "gone@example.com", "first_name": "G",
            "last_name": "G", "roles": [{"name": "Op"}]})
        self.assertEqual(status, 200, body)
        token = json.loads(self.admin.call("POST", "/api/v1/mayaflow/tokens", {"username": "atk_gone"})[1])["token"]
        code, body, headers = Api(port).call("POST", "/api/v1/mayaflow/session", {"username": "atk_gone", "password": "gone-pw-1"})
        self.assertEqual(code, 200, body)
        cookie = {"Cookie": headers["Set-Cookie"].split(";")[0]}
        self.assertEqual(self.admin.call("DELETE", "/api/v1/users/atk_gone")[0], 204)
        self.assertEqual(self.admin.call("POST", "/api/v1/users", {
            "username": "ATK_GONE", "password": "gone-pw-2", "email": "gone2@example.com", "first_name": "G",
            "last_name": "G", "roles": [{"name": "Admin"}]})[0], 200)
        self.assertEqual(Api(port, token).call("GET", "/api/v1/users")[0], 401)
        self.assertEqual(Api(port).call("GET", "/api/v1/users", headers=cookie)[0], 401)

    def test_z_a_good_token_goes_on_where_bad_ones_are_throttled(self):
        # Named to run last: it throttles 127.0.0.1 for new sign-ins.
        port = self.daemon.port
        for i in range(6):
            Api(port, "mf_bad%d" % i).call("GET", "/api/v1/version")
        code, body, headers = Api(port, "mf_bad").call("GET", "/api/v1/version")
        self.assertEqual(code, 429, body)
        self.assertIn("Retry-After", headers)
        for header in ("X-Forwarded-For", "X-Real-IP"):  # not a way around it
            self.assertEqual(Api(port, "mf_bad").call("GET", "/api/v1/version", headers={header: "10.9.8.7"})[0], 429)
        code, body, _ = self.users["Viewer"].call("GET", "/api/v1/version")
        self.assertEqual(code, 200, body)

    # -- secrets -------------------------------------------------------------------------------

    def test_no_secret_in_any_answer_error_log_or_event(self):
        secrets = [CONNECTION_PASSWORD, EXTRA_SECRET, VARIABLE_SECRET, self.admin.token, self.users["Viewer"].token,
                   self.daemon.admin_password()]
        seen = []
        # Error paths that carry the secrets in the request.
        seen.append(self.admin.call("POST", "/api/v1/connections", {"connection_id": "atk_conn", "conn_type": "http",
                                                                    "password": CONNECTION_PASSWORD})[1])
        seen.append(self.admin.call("PATCH", "/api/v1/connections/atk_conn", {"connection_id": "atk_conn", "conn_type": "http",
                                                                              "extra": "{" + EXTRA_SECRET})[1])
        seen.append(self.admin.call("PATCH", "/api/v1/variables/atk_password", {"key": "other", "value": VARIABLE_SECRET})[1])
        for path in ("/api/v1/connections", "/api/v1/connections/atk_conn", "/api/v1/variables", "/api/v1/variables/atk_password",
                     "/api/v1/users", "/api/v1/mayaflow/tokens", "/api/v1/config", "/api/v1/mayaflow/session", "/metrics"):
            for api in (self.admin, self.users["Viewer"]):
                seen.append(api.call("GET", path)[1])
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=2) as s:
            s.sendall(b"GET /api/v1/mayaflow/events?since=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      self.users["Viewer"].token.encode() + b"\r\n\r\n")
            events = b""
            try:
                while len(events) < 1 << 20:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    events += chunk
            except socket.timeout:
                pass
        seen.append(events.decode("utf-8", "replace"))
        seen.append(self.daemon.read_log())
        for text in seen:
            for secret in secrets:
                self.assertNotIn(secret, text)

    # -- the event stream ----------------------------------------------------------------------

    def open_stream(self, api, extra=b""):
        s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5)
        s.sendall(b"GET /api/v1/mayaflow/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + api.token.encode() +
                  b"\r\n" + extra + b"\r\n")
        self.stream_start = s.recv(4096)  # the head, and maybe the first events with it
        return s, int(self.stream_start.split(b" ")[1])

    def test_event_streams_are_capped_per_user_and_freed_when_closed(self):
        time.sleep(0.5)  # the streams of the tests before are closed; their places come back at once
        for attempt in range(2):  # the second round finds the first's places free again
            streams = [self.open_stream(self.users["Viewer"]) for _ in range(18)]
            codes = [code for _, code in streams]
            self.assertEqual(codes.count(200), 16, (attempt, codes))
            self.assertEqual(codes.count(429), 2, (attempt, codes))
            other, code = self.open_stream(self.users["User"])  # another user still gets one
            self.assertEqual(code, 200)
            other.close()
            for s, _ in streams:
                s.close()
            time.sleep(1)

    def test_event_ids_garbage_is_400_and_ahead_is_a_reset(self):
        for value in (b"garbage", b"-1", b"1e5", b"\xff\xfe", b"9223372036854775808"):
            s, code = self.open_stream(self.users["Viewer"], b"Last-Event-ID: " + value + b"\r\n")
            s.close()
            self.assertEqual(code, 400, value)
        s, code = self.open_stream(self.users["Viewer"], b"Last-Event-ID: 9223372036854775807\r\n")
        try:
            self.assertEqual(code, 200)
            data = self.stream_start
            deadline = time.monotonic() + 5
            while b"event: reset" not in data and time.monotonic() < deadline:
                data += s.recv(4096)
            self.assertIn(b"event: reset", data)
        finally:
            s.close()

    # -- afterwards ----------------------------------------------------------------------------

    def test_zz_no_500_and_no_sanitizer_report(self):
        log = self.daemon.read_log()
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(marker, log)
        # A handler's exception (a 500) is logged as "request <METHOD> <path> failed: …".
        self.assertIsNone(re.search(r"request [A-Z]+ \S+ failed", log), log[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
