"""`mayaflow webserver` beside `mayaflow scheduler` on the same database: the web server, in its own
process, reports the scheduler's heartbeat in /health, serves the DAGs the scheduler loaded, and
streams the state changes the scheduler commits (server-sent events) while it writes."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, REPO, wait_for  # noqa: E402


def start(args, env, log):
    """Starts a mayaflow daemon command; returns (process, port or None) once its banner is out."""
    process = subprocess.Popen([MAYAFLOW, *args], env=env, stdout=subprocess.PIPE, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(rb"http://127\.0\.0\.1:(\d+)/", line)
        if match:
            return process, int(match.group(1))
        if b"Press Ctrl+C" in line:
            return process, None
    raise AssertionError("mayaflow %s did not start" % " ".join(args))


class SchedulerAndWebserver(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="mayaflow-it-web-")
        self.dags = os.path.join(self.home, "dags")
        os.makedirs(self.dags)
        shutil.copy(os.path.join(REPO, "dags", "hello_mayaflow.yaml"), self.dags)
        self.env = dict(os.environ, MAYAFLOW_HOME=self.home, MAYAFLOW_DAG_SCAN_INTERVAL="200ms",
                        MAYAFLOW_SHUTDOWN_GRACE_PERIOD="5s")
        self.log = open(os.path.join(self.home, "daemons.log"), "ab")
        self.processes = []
        scheduler, _ = start(["scheduler", "--dags-folder", self.dags], self.env, self.log)
        self.processes.append(scheduler)
        webserver, self.port = start(["webserver", "--port", "0"], self.env, self.log)
        self.processes.append(webserver)

    def tearDown(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            process.stdout.close()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def get(self, path, timeout=10):
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode())

    def test_health_dags_and_live_events_come_from_the_scheduler_in_another_process(self):
        # The heartbeat is written every 5 s once a turn has committed.
        def healthy():
            status, body = self.get("/api/v1/health")
            return status == 200 and body.get("scheduler", {}).get("status") == "healthy" and body
        body, _ = wait_for(healthy, timeout=20)
        self.assertEqual(body["metadatabase"]["status"], "healthy")
        self.assertIsNotNone(body["scheduler"]["latest_scheduler_heartbeat"])

        def loaded():
            status, body = self.get("/api/v1/dags")
            return status == 200 and [dag["dag_id"] for dag in body["dags"]] == ["hello_mayaflow"]
        wait_for(loaded, timeout=20)

        # Listen to the stream, then make the scheduler (the other process) change something.
        events = []
        ready = threading.Event()

        def listen():
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            sock.sendall(b"GET /api/v1/mayaflow/events?dag_id=hello_mayaflow HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            ready.set()
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and b'"state":"success","task_id":"print_date"' not in data:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                data += chunk
            sock.close()
            events.append(data.decode("utf-8", "replace"))

        listener = threading.Thread(target=listen)
        listener.start()
        ready.wait(10)
        time.sleep(0.5)
        trigger = subprocess.run([MAYAFLOW, "dags", "trigger", "hello_mayaflow", "--run-id", "from_the_cli"],
                                 env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(trigger.returncode, 0, trigger.stderr)
        listener.join(60)
        stream = events[0]
        self.assertIn("Content-Type: text/event-stream", stream)
        self.assertIn("event: dag_run", stream)
        self.assertIn('"dag_run_id":"from_the_cli"', stream)
        self.assertIn('"state":"queued","task_id":"print_date"', stream)
        self.assertIn('"state":"success","task_id":"print_date"', stream)
        # Event ids only grow.
        ids = [int(match) for match in re.findall(r"^id: (\d+)$", stream, re.M)]
        self.assertTrue(ids)
        self.assertEqual(ids, sorted(ids))


if __name__ == "__main__":
    unittest.main()
