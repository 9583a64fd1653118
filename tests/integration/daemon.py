"""Starts the real mayaflow daemon on a temporary home and a free loopback port, for tests."""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import openapi_check

MAYAFLOW = os.environ.get("MAYAFLOW_BIN", "build/mayaflow")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Daemon:
    """A `mayaflow standalone` process with its own MAYAFLOW_HOME and DAG folder."""

    def __init__(self, copy_examples=True, preexec_fn=None, env=None):
        self.home = tempfile.mkdtemp(prefix="mayaflow-it-")
        self.dags = os.path.join(self.home, "dags")
        if copy_examples:
            shutil.copytree(os.path.join(REPO, "dags"), self.dags)
        else:
            os.makedirs(self.dags)
        self.env = dict(os.environ, MAYAFLOW_HOME=self.home, MAYAFLOW_DAG_SCAN_INTERVAL="200ms",
                        MAYAFLOW_SHUTDOWN_GRACE_PERIOD="5s")
        self.env.update(env or {})
        self.preexec_fn = preexec_fn  # runs in the child before exec: resource limits
        self.process = None
        self.port = None
        self.log_path = os.path.join(self.home, "daemon.log")

    def start(self, timeout=30, wait_for_dags=True):
        """Starts the daemon; returns once it serves and (unless told not to) has loaded its DAG
        folder, which it does in the background after binding its port."""
        if self.process and self.process.stdout:
            self.process.stdout.close()
        if hasattr(self, "log"):
            self.log.close()
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [MAYAFLOW, "standalone", "--dags-folder", self.dags, "--port", "0"],
            env=self.env, stdout=subprocess.PIPE, stderr=self.log, preexec_fn=self.preexec_fn)
        deadline = time.monotonic() + timeout
        banner = b""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            banner += line
            match = re.search(rb"http://127\.0\.0\.1:(\d+)/", line)
            if match:
                self.port = int(match.group(1))
                self.banner = banner.decode("utf-8", "replace")  # what it printed up to its address
                if wait_for_dags:
                    wait_for(self.dag_folder_loaded, timeout=max(1, deadline - time.monotonic()))
                return self
        raise RuntimeError("daemon did not start: %r\n%s" % (banner, self.read_log()))

    def health(self):
        status, _, body = self.http("/health", auth=False)
        return json.loads(body) if status in (200, 503) else {}

    def dag_folder_loaded(self):
        return self.health().get("dag_processor", {}).get("dag_folder_loaded", False)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode if self.process else None

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.process and self.process.stdout:
                self.process.stdout.close()
            if hasattr(self, "log"):
                self.log.close()
            shutil.rmtree(self.home, ignore_errors=True)

    def cli(self, *args, check=False):
        result = subprocess.run([MAYAFLOW, *args], env=self.env, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError("mayaflow %s failed (%d): %s" % (" ".join(args), result.returncode, result.stderr))
        return result

    def dag_ids(self):
        result = self.cli("dags", "list", "-o", "json", check=True)
        return sorted(row["dag_id"] for row in json.loads(result.stdout))

    def api_dags(self):
        """Every DAG the daemon knows, active or not, by dag_id, as the REST API shows it."""
        status, _, body = self.http("/api/v1/dags?only_active=false&limit=100000")
        if status != 200:
            raise AssertionError("GET /api/v1/dags answered %d: %s" % (status, body))
        return {dag["dag_id"]: dag for dag in json.loads(body)["dags"]}

    def runs(self, dag_id):
        return json.loads(self.cli("dags", "list-runs", dag_id, "-o", "json", "--limit", "100000", check=True).stdout)

    def import_errors(self):
        result = self.cli("dags", "list-import-errors", "-o", "json", check=True)
        return json.loads(result.stdout)

    def admin_password(self):
        """The password `mayaflow standalone` made for `admin` at its first start."""
        with open(os.path.join(self.home, "standalone_admin_password.txt")) as f:
            return f.read().strip()

    def auth_header(self, username="admin", password=None):
        """An HTTP Basic Authorization value: the admin's unless told otherwise."""
        if password is None:
            password = self.admin_password()
        return "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()

    def http(self, path, method="GET", timeout=10, auth=True, headers=None, body=None):
        """(status, content type, body) of a request, signed in as the admin unless `auth` is False
        (or an Authorization value to send instead)."""
        all_headers = dict(headers or {})
        if auth is True:
            all_headers.setdefault("Authorization", self.auth_header())
        elif auth:
            all_headers["Authorization"] = auth
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method,
                                         headers=all_headers, data=data)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = response.status, response.headers.get("Content-Type"), response.read().decode()
        except urllib.error.HTTPError as error:
            answer = error.code, error.headers.get("Content-Type"), error.read().decode()
        if path.startswith("/api/v1/") and openapi_check.enabled():  # every answer as the document says
            openapi_check.check(openapi_check.document_for(self.port, self), method, path, *answer)
        return answer

    def write_dag(self, name, text):
        """Writes a file into the DAG folder (text, or bytes as they are); `name` may be bytes."""
        dags = os.fsencode(self.dags) if isinstance(name, bytes) else self.dags
        path = os.path.join(dags, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + (b".tmp-write" if isinstance(path, bytes) else ".tmp-write")
        with open(tmp, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic, as editors and deploy tools write
        return path


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(predicate, timeout=15, interval=0.05):
    """Polls until predicate() is truthy; returns (value, seconds waited)."""
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met within %.0f s" % timeout)
        time.sleep(interval)
