"""Starts the Google Cloud stand-ins (tests/fakes/serve) for a test, and talks to their control API."""

import json
import os
import subprocess
import tempfile
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class GcpFake:
    def __init__(self, datasets=("ds",), data=None):
        """`data`: the folder whose subfolders are the buckets (default: the repository's data/)."""
        self.state = tempfile.mkdtemp(prefix="mayaflow-gcp-fake-")
        args = [os.path.join(REPO, "tests", "fakes", "serve"), "--port", "0", "--data", data or os.path.join(REPO, "data"),
                "--state", self.state, "--project", "test-project", "--static-token", "fake-test-token"]
        for dataset in datasets:
            args += ["--dataset", dataset]
        self.stderr = open(os.path.join(self.state, "serve.stderr"), "wb")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the GCP stand-ins did not start: " + open(self.stderr.name).read())
        self.ready = json.loads(line)
        self.base_url = self.ready["base_url"]

    def environment(self, conn_extra=None):
        """What a mayaflow process needs to use the stand-ins through google_cloud_default."""
        extra = {"key_path": self.ready["key_file"], "project": "test-project"}
        extra.update(conn_extra or {})
        return {
            "BIGQUERY_EMULATOR_HOST": self.base_url,
            "STORAGE_EMULATOR_HOST": self.base_url,
            "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps({"conn_type": "google_cloud_platform", "extra": extra}),
        }

    def control(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method or ("POST" if data else "GET"),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=15) as answer:
            text = answer.read()
            return json.loads(text) if text else None

    def bigquery(self, path):
        """A BigQuery GET with the static token, e.g. datasets/ds/tables/t/data."""
        request = urllib.request.Request(self.base_url + "/bigquery/v2/projects/test-project/" + path,
                                         headers={"Authorization": "Bearer fake-test-token"})
        with urllib.request.urlopen(request, timeout=15) as answer:
            return json.loads(answer.read())

    def stats(self):
        return self.control("/_fake/stats")

    def job_inserts(self):
        return [r for r in self.control("/_fake/requests") if r["method"] == "POST" and r["path"].endswith("/jobs")]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process.stdout.close()
        self.stderr.close()
