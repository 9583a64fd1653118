"""The HTTP server over raw sockets: HEAD without a body, 413 and 431 titled as their status,
405 with Allow on every route; and, under a low descriptor limit, hundreds of idle keep-alive
connections neither stop /health nor pin a core nor keep a new DAG file from loading."""

import json
import os
import resource
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

# Routes that answer GET and HEAD only (/dags and /dags/{dag_id} also take PATCH, and DELETE).
ROUTES = ["/", "/home", "/health", "/api/v1/health", "/api/v1/version", "/api/v1/dags/hello_mayaflow/details",
          "/api/v1/dags/hello_mayaflow/tasks", "/api/v1/importErrors"]


class Connection:
    """One raw keep-alive connection; every read gives up after 10 s."""

    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.pending = b""

    def close(self):
        self.socket.close()

    def send(self, data):
        self.socket.sendall(data)

    def answer(self, head_request=False):
        """(status, headers dict, body) of the next answer; a HEAD answer has no body to read."""
        while b"\r\n\r\n" not in self.pending:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise AssertionError("connection closed; got %r" % self.pending)
            self.pending += chunk
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        length = 0 if head_request else int(headers.get("content-length", "0"))
        while len(self.pending) < length:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise AssertionError("connection closed in the body")
            self.pending += chunk
        body, self.pending = self.pending[:length], self.pending[length:]
        return status, headers, body


# The admin's Basic credentials, once a daemon has started: every request signs in.
AUTHORIZATION = b""


def sign_in_as_admin(daemon):
    global AUTHORIZATION
    AUTHORIZATION = b"Authorization: " + daemon.auth_header().encode() + b"\r\n"


def request(path, method="GET", extra=b""):
    return ("%s %s HTTP/1.1\r\nHost: x\r\n" % (method, path)).encode() + AUTHORIZATION + extra + b"\r\n"


class HttpProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        sign_in_as_admin(cls.daemon)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def test_head_has_the_headers_of_get_and_no_body(self):
        for path in ROUTES + ["/api/v1/nothing"]:
            c = Connection(self.daemon.port)
            try:
                c.send(request(path, "HEAD") + request(path, "GET") + request("/api/v1/version", "HEAD"))
                head_status, head_headers, head_body = c.answer(head_request=True)
                get_status, get_headers, get_body = c.answer()
                self.assertEqual(head_status, get_status, path)
                self.assertEqual(head_body, b"")
                self.assertEqual(head_headers["content-type"], get_headers["content-type"], path)
                if path not in ("/", "/home", "/health", "/api/v1/health"):  # these say the time: lengths differ
                    self.assertEqual(int(head_headers["content-length"]), len(get_body), path)
                self.assertEqual(c.answer(head_request=True)[0], 200)  # the connection went on
                self.assertEqual(c.pending, b"")
            finally:
                c.close()

    def test_every_route_answers_only_its_methods(self):
        for path in ROUTES:
            for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]:
                c = Connection(self.daemon.port)
                try:
                    c.send(request(path, method, b"Content-Length: 0\r\n"))
                    status, headers, body = c.answer()
                    self.assertEqual(status, 405, (method, path))
                    self.assertEqual(headers.get("allow"), "GET, HEAD", (method, path))
                    self.assertEqual(json.loads(body)["title"], "Method Not Allowed")
                finally:
                    c.close()

    def test_too_large_requests_are_413_and_431(self):
        cases = [
            (request("/api/v1/dags", "POST", b"Content-Length: 99999999999\r\n"), 413, "Payload Too Large"),
            (request("/api/v1/dags", "POST", b"Content-Length: 5000000\r\n") + b"x" * 5000000, 413, "Payload Too Large"),
            (request("/api/v1/dags", "GET", b"X-Big: " + b"h" * 100000 + b"\r\n"), 431,
             "Request Header Fields Too Large"),
            (request("/api/v1/dags", "GET", b"".join(b"X-%d: v\r\n" % i for i in range(5000))), 431,
             "Request Header Fields Too Large"),
            (request("/api/v1/" + "d" * 100000, "GET"), 431, "Request Header Fields Too Large"),
        ]
        for raw, status, title in cases:
            c = Connection(self.daemon.port)
            try:
                try:
                    c.send(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server may stop reading early; its answer is waiting
                got, headers, body = c.answer()
                self.assertEqual(got, status)
                self.assertEqual(headers["content-type"], "application/problem+json")
                problem = json.loads(body)
                self.assertEqual((problem["status"], problem["title"]), (status, title))
            finally:
                c.close()
        self.assertEqual(self.daemon.http("/health")[0], 200)

    def test_expect_100_continue(self):
        # Within the limit: "100 Continue" first, then the body is read and the request answered.
        for path, body in [("/api/v1/dags", b"{}"), ("/api/v1/nothing", b"x" * 1000)]:
            c = Connection(self.daemon.port)
            try:
                c.send(request(path, "POST", b"Expect: 100-continue\r\nContent-Length: %d\r\n" % len(body)))
                status, _, _ = c.answer(head_request=True)
                self.assertEqual(status, 100, path)
                c.send(body)
                status, _, _ = c.answer()
                self.assertIn(status, (404, 405), path)
                c.send(request("/api/v1/version"))  # the connection goes on
                self.assertEqual(c.answer()[0], 200)
            finally:
                c.close()
        # Over the limit: 413 at once, and the body is never needed.
        for expect in [b"100-continue", b"100-Continue"]:
            c = Connection(self.daemon.port)
            try:
                c.send(request("/api/v1/dags", "POST", b"Expect: " + expect + b"\r\nContent-Length: 99999999\r\n"))
                status, _, body = c.answer()
                self.assertEqual(status, 413)
                self.assertEqual(json.loads(body)["title"], "Payload Too Large")
            finally:
                c.close()
        # HTTP/1.0 knows no 100 Continue: the body is read as it comes.
        c = Connection(self.daemon.port)
        try:
            c.send(b"POST /api/v1/dags HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}")
            self.assertEqual(c.answer()[0], 405)
        finally:
            c.close()


def low_descriptor_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class DescriptorPressureTest(unittest.TestCase):
    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1024:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))  # room for this test's sockets
        self.daemon = Daemon(preexec_fn=low_descriptor_limit, env={"MAYAFLOW_WEB_KEEP_ALIVE_TIMEOUT": "30s"})
        self.daemon.start()
        sign_in_as_admin(self.daemon)

    def tearDown(self):
        self.daemon.cleanup()

    def test_idle_connections_beyond_the_descriptor_limit(self):
        pid = self.daemon.process.pid
        # One signed-in request first: the daemon remembers the password check (a full PBKDF2 check
        # costs ~1 s of CPU under the sanitizers), so the requests below measure connections, not hashing.
        status, _, body = self.daemon.http("/api/v1/version", timeout=30)
        self.assertEqual(status, 200, body)
        connections = []
        try:
            for i in range(400):  # more than the daemon's 256 descriptors
                try:
                    c = Connection(self.daemon.port)
                    connections.append(c)
                    if i % 2 == 0:
                        c.send(request("/api/v1/version"))  # a keep-alive connection that served a request
                except OSError:
                    pass  # refused or reset: the server sheds load
            time.sleep(1)  # the requests sent above are answered; what is measured next is the idle
            before = cpu_seconds(pid)
            time.sleep(2)
            busy = (cpu_seconds(pid) - before) / 2
            print("daemon CPU with %d idle connections held: %.1f %% of a core, %d descriptors open"
                  % (len(connections), 100 * busy, open_descriptors(pid)), file=sys.stderr)
            self.assertLess(busy, 0.5)
            status, _, body = self.daemon.http("/health", timeout=10)
            self.assertEqual(status, 200, body)
            # The scheduler's own file work goes on: a new DAG file loads.
            self.daemon.write_dag("arrived_under_pressure.yaml",
                                  "tasks:\n  - task_id: a\n    operator: empty\n")
            wait_for(lambda: "arrived_under_pressure" in self.daemon.dag_ids(), timeout=30)
            self.assertEqual(self.daemon.import_errors(), [])
        finally:
            for c in connections:
                c.close()
        self.assertNotIn("Too many open files", self.daemon.read_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
