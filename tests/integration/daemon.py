"""Starts the real mayaflow daemon on a temporary home and a free loopback port, for tests."""

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

MAYAFLOW = os.environ.get("MAYAFLOW_BIN", "build/mayaflow")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Daemon:
    """A `mayaflow standalone` process with its own MAYAFLOW_HOME and DAG folder."""

    def __init__(self, copy_examples=True):
        self.home = tempfile.mkdtemp(prefix="mayaflow-it-")
        self.dags = os.path.join(self.home, "dags")
        if copy_examples:
            shutil.copytree(os.path.join(REPO, "dags"), self.dags)
        else:
            os.makedirs(self.dags)
        self.env = dict(os.environ, MAYAFLOW_HOME=self.home, MAYAFLOW_DAG_SCAN_INTERVAL="200ms",
                        MAYAFLOW_SHUTDOWN_GRACE_PERIOD="5s")
        self.process = None
        self.port = None
        self.log_path = os.path.join(self.home, "daemon.log")

    def start(self, timeout=30):
        if self.process and self.process.stdout:
            self.process.stdout.close()
        if hasattr(self, "log"):
            self.log.close()
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [MAYAFLOW, "standalone", "--dags-folder", self.dags, "--port", "0"],
            env=self.env, stdout=subprocess.PIPE, stderr=self.log)
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
                return self
        raise RuntimeError("daemon did not start: %r\n%s" % (banner, self.read_log()))

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

    def import_errors(self):
        result = self.cli("dags", "list-import-errors", "-o", "json", check=True)
        return json.loads(result.stdout)

    def http(self, path, method="GET"):
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers.get("Content-Type"), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type"), error.read().decode()

    def write_dag(self, name, text):
        path = os.path.join(self.dags, name)
        tmp = path + ".tmp-write"
        with open(tmp, "w") as f:
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
