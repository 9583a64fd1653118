#!/usr/bin/python3
"""Tests of the Google Cloud stand-ins themselves.

Run: /usr/bin/python3 -m unittest -v tests/fakes/test_fakes.py   (from the repo root)
Env: GCP_FAKE_DATA (default: the repository's data/), GCP_FAKE_CONTRACTS (folder with bigquery-v2-discovery.json).
Every test starts its own `serve` subprocess on port 0 and stops it afterwards; every wait is bounded.
"""
import http.client
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gcp_fake import rsa  # noqa: E402

DATA = os.environ.get("GCP_FAKE_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..", "data"))
PY = "/usr/bin/python3"
TOKEN = "test-static-token"
HTTP_TIMEOUT = 15


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [l for l in f if l.strip()]


def make_jwt(key_path, aud="https://oauth2.googleapis.com/token", scope="https://www.googleapis.com/auth/cloud-platform",
             iat=None, lifetime=3600, alg="RS256"):
    key = read_json(key_path)
    now = int(time.time()) if iat is None else iat
    header = {"alg": alg, "typ": "JWT", "kid": key["private_key_id"]}
    claims = {"iss": key["client_email"], "aud": aud, "iat": now, "exp": now + lifetime}
    if scope is not None:
        claims["scope"] = scope
    signing_input = rsa.b64url(json.dumps(header).encode()) + "." + rsa.b64url(json.dumps(claims).encode())
    sig = rsa.sign(signing_input.encode(), rsa.private_key_from_pem(key["private_key"]))
    return signing_input + "." + rsa.b64url(sig)


class FakeServer:
    def __init__(self, extra_args=()):
        self.state = tempfile.mkdtemp(prefix="gcp-fake-test-")
        self.stderr = open(os.path.join(self.state, "serve.stderr"), "w+b")
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, "serve"), "--port", "0", "--data", DATA, "--state", self.state,
             "--dataset", "ds", "--static-token", TOKEN] + list(extra_args),
            stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        if not ready:
            self.stop()
            raise RuntimeError("serve did not start within 15 s")
        line = self.proc.stdout.readline()
        if not line:
            self.stderr.seek(0)
            err = self.stderr.read().decode()
            self.stop()
            raise RuntimeError("serve exited: " + err)
        self.info = json.loads(line)
        self.base = self.info["base_url"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.state, ignore_errors=True)

    def call(self, method, path, body=None, token=TOKEN, headers=None, form=None, raw=False, query=None):
        url = self.base + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        data = None
        hdrs = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = "Bearer " + token
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
                status, rh, payload = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, rh, payload = e.code, dict(e.headers), e.read()
        if raw:
            return status, rh, payload
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, payload

    def ctl(self, method, path, body=None):
        return self.call(method, "/_fake/" + path, body, token=None)[1]

    # BigQuery helpers
    def insert_job(self, config, job_id=None, location="US"):
        body = {"configuration": config}
        if job_id:
            body["jobReference"] = {"projectId": "test-project", "jobId": job_id, "location": location}
        return self.call("POST", "/bigquery/v2/projects/test-project/jobs", body)

    def wait_job(self, job_id, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st, job = self.call("GET", "/bigquery/v2/projects/test-project/jobs/%s?location=US" % job_id)
            assert st == 200, (st, job)
            if job["status"]["state"] == "DONE":
                return job
            time.sleep(0.05)
        raise AssertionError("job %s not DONE within %ss" % (job_id, timeout))

    def run_job(self, config, job_id):
        st, job = self.insert_job(config, job_id)
        assert st == 200, (st, job)
        return self.wait_job(job_id)

    def query(self, sql, job_id, **extra):
        cfg = {"query": dict({"query": sql, "useLegacySql": False}, **extra)}
        return self.run_job(cfg, job_id)

    def results(self, job_id, **params):
        q = urllib.parse.urlencode(dict({"location": "US"}, **params))
        return self.call("GET", "/bigquery/v2/projects/test-project/queries/%s?%s" % (job_id, q))


KAKEIBO_SCHEMA = read_json(os.path.join(DATA, "kakeibo", "schema.json")) if os.path.isdir(DATA) else []


def kakeibo_load(day, write="WRITE_TRUNCATE", table="expenses", **extra):
    cfg = {"sourceUris": ["gs://kakeibo/expenses/%s/expenses.csv" % day],
           "destinationTable": {"projectId": "test-project", "datasetId": "ds", "tableId": "%s$%s" % (table, day)},
           "schema": {"fields": KAKEIBO_SCHEMA}, "skipLeadingRows": 1, "allowQuotedNewlines": True,
           "writeDisposition": write, "timePartitioning": {"type": "DAY", "field": "date"}, "sourceFormat": "CSV"}
    cfg.update(extra)
    return {"load": cfg}


def csv_rows(path):
    import csv
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


class FakeTestCase(unittest.TestCase):
    server_args = ()

    def setUp(self):
        self.fake = FakeServer(self.server_args)
        self.addCleanup(self.fake.stop)


class TestStartup(FakeTestCase):
    def test_ready_line_and_keep_alive(self):
        info = self.fake.info
        for k in ("port", "base_url", "env", "token_uri", "key_file"):
            self.assertIn(k, info)
        self.assertEqual(info["env"]["GCE_METADATA_HOST"], "127.0.0.1:%d" % info["port"])
        key = read_json(info["key_file"])
        self.assertEqual(key["token_uri"], info["base_url"] + "/token")
        # two requests on one HTTP/1.1 connection
        c = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=HTTP_TIMEOUT)
        for _ in range(2):
            c.request("GET", "/storage/v1/b/kakeibo/o?maxResults=1", headers={"Authorization": "Bearer " + TOKEN})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.close()


class TestAuth(FakeTestCase):
    def test_token_exchange_good_key_then_use(self):
        jwt = make_jwt(self.fake.info["key_file"])
        st, body = self.fake.call("POST", "/token", form={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt}, token=None)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3599)
        st, _ = self.fake.call("GET", "/storage/v1/b/kakeibo/o?maxResults=1", token=body["access_token"])
        self.assertEqual(st, 200)
        self.assertEqual(self.fake.ctl("GET", "stats")["tokens_issued"], 1)
        # own URL as aud is accepted too
        st, _ = self.fake.call("POST", "/token", form={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": make_jwt(self.fake.info["key_file"], aud=self.fake.info["token_uri"])}, token=None)
        self.assertEqual(st, 200)

    def test_token_refusals(self):
        other = os.path.join(HERE, "testdata", "other_key.json")
        cases = [
            (make_jwt(other), "invalid_grant", "Invalid JWT Signature."),
            (make_jwt(self.fake.info["key_file"], lifetime=7200), "invalid_grant", "short-lived"),
            (make_jwt(self.fake.info["key_file"], iat=int(time.time()) - 7200), "invalid_grant", "short-lived"),
            (make_jwt(self.fake.info["key_file"], aud="https://example.com/token"), "invalid_grant", "audience"),
            (make_jwt(self.fake.info["key_file"], scope=None), "invalid_scope", "scope"),
            ("not.a.jwt", "invalid_request", "parse"),
        ]
        for jwt, err, text in cases:
            st, body = self.fake.call("POST", "/token", form={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt}, token=None)
            self.assertEqual(st, 400, body)
            self.assertEqual(body["error"], err)
            self.assertIn(text, body["error_description"])
        st, body = self.fake.call("POST", "/token", form={"grant_type": "client_credentials"}, token=None)
        self.assertEqual((st, body["error"]), (400, "unsupported_grant_type"))
        self.assertEqual(self.fake.ctl("GET", "stats")["tokens_issued"], 0)

    def test_bearer_required(self):
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", token=None)
        self.assertEqual(st, 401)
        self.assertEqual(body["error"]["code"], 401)
        st, body = self.fake.call("GET", "/bigquery/v2/projects/test-project/jobs/x", token="nope")
        self.assertEqual(st, 401)
        self.assertEqual(body["error"]["status"], "UNAUTHENTICATED")
        self.fake.ctl("POST", "tokens", {"token": "short", "expires_in": 0.2})
        self.assertEqual(self.fake.call("GET", "/storage/v1/b/kakeibo/o?maxResults=1", token="short")[0], 200)
        time.sleep(0.3)
        self.assertEqual(self.fake.call("GET", "/storage/v1/b/kakeibo/o?maxResults=1", token="short")[0], 401)
        self.fake.ctl("POST", "tokens", {"token": "bq-only", "scopes": ["https://www.googleapis.com/auth/bigquery"]})
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", token="bq-only")
        self.assertEqual(st, 403)

    def test_metadata_server(self):
        p = "/computeMetadata/v1/instance/service-accounts/default/token"
        st, body = self.fake.call("GET", p, token=None)
        self.assertEqual(st, 403)
        st, hdrs, payload = self.fake.call("GET", p + "?scopes=https://www.googleapis.com/auth/bigquery",
                                           token=None, headers={"Metadata-Flavor": "Google"}, raw=True)
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["Metadata-Flavor"], "Google")
        tok = json.loads(payload)["access_token"]
        st, _ = self.fake.call("GET", "/bigquery/v2/projects/test-project/datasets", token=tok)
        self.assertEqual(st, 200)
        st, _, payload = self.fake.call("GET", "/computeMetadata/v1/project/project-id", token=None,
                                        headers={"Metadata-Flavor": "Google"}, raw=True)
        self.assertEqual(payload, b"test-project")
        st, _, payload = self.fake.call("GET", "/computeMetadata/v1/instance/service-accounts/default/email",
                                        token=None, headers={"Metadata-Flavor": "Google"}, raw=True)
        self.assertTrue(payload.endswith(b".iam.gserviceaccount.com"))


class TestGCS(FakeTestCase):
    def test_list_paging_prefix_delimiter(self):
        names, token, pages = [], None, 0
        while True:
            q = {"prefix": "expenses/", "maxResults": 25}
            if token:
                q["pageToken"] = token
            st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", query=q)
            self.assertEqual(st, 200, body)
            pages += 1
            names += [o["name"] for o in body.get("items", [])]
            token = body.get("nextPageToken")
            if not token:
                break
        self.assertEqual(len(names), 60 if False else len(set(names)))
        expected = sorted(os.path.relpath(os.path.join(d, f), os.path.join(DATA, "kakeibo"))
                          for d, _, fs in os.walk(os.path.join(DATA, "kakeibo", "expenses")) for f in fs)
        self.assertEqual(names, expected)
        self.assertEqual(pages, (len(expected) + 24) // 25)
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", query={"delimiter": "/"})
        self.assertEqual(body["prefixes"], ["expenses/"])
        self.assertEqual([o["name"] for o in body["items"]], ["schema.json"])
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o",
                                  query={"matchGlob": "expenses/202402*/*.csv"})
        self.assertEqual(len(body["items"]), len([n for n in expected if n.startswith("expenses/202402")]))
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o",
                                  query={"startOffset": "expenses/20240110", "endOffset": "expenses/20240112"})
        self.assertEqual([o["name"] for o in body["items"]],
                         ["expenses/20240110/expenses.csv", "expenses/20240111/expenses.csv"])

    def test_get_metadata_and_media(self):
        name = "expenses/20240104/expenses.csv"
        enc = urllib.parse.quote(name, safe="")
        st, meta = self.fake.call("GET", "/storage/v1/b/kakeibo/o/" + enc)
        self.assertEqual(st, 200, meta)
        path = os.path.join(DATA, "kakeibo", name)
        with open(path, "rb") as fh:
            data = fh.read()
        self.assertEqual(meta["size"], str(len(data)))
        self.assertIsInstance(meta["generation"], str)
        import base64
        import hashlib
        self.assertEqual(meta["md5Hash"], base64.b64encode(hashlib.md5(data).digest()).decode())
        for url in ("/storage/v1/b/kakeibo/o/%s?alt=media" % enc, meta["mediaLink"][len(self.fake.base):]):
            st, hdrs, payload = self.fake.call("GET", url, raw=True)
            self.assertEqual(st, 200)
            self.assertEqual(payload, data)
            self.assertIn("crc32c=" + meta["crc32c"], hdrs["x-goog-hash"])
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o/nope.csv")
        self.assertEqual(st, 404)
        self.assertEqual(body["error"]["errors"][0]["reason"], "notFound")
        st, body = self.fake.call("GET", "/storage/v1/b/no-such-bucket/o")
        self.assertEqual(st, 404)
        # unencoded '/' is not the object
        st, _ = self.fake.call("GET", "/storage/v1/b/kakeibo/o/expenses/20240104/expenses.csv")
        self.assertEqual(st, 404)
        # crc32c known vector
        from gcp_fake.gcs import crc32c
        self.assertEqual(crc32c(b"123456789"), 0xE3069283)


class TestBigQueryLoad(FakeTestCase):
    def test_kakeibo_daily_partition_truncate_twice(self):
        path = os.path.join(DATA, "kakeibo", "expenses", "20240104", "expenses.csv")  # BOM + quoted newline
        expected = len(csv_rows(path))
        for i in range(2):
            job = self.fake.run_job(kakeibo_load("20240104"), "load_0104_%d" % i)
            self.assertNotIn("errorResult", job["status"], job["status"])
            self.assertEqual(job["statistics"]["load"]["outputRows"], str(expected))
            self.assertEqual(job["statistics"]["load"]["inputFiles"], "1")
        job = self.fake.run_job(kakeibo_load("20240105"), "load_0105")
        n0105 = len(csv_rows(os.path.join(DATA, "kakeibo", "expenses", "20240105", "expenses.csv")))
        st, t = self.fake.call("GET", "/bigquery/v2/projects/test-project/datasets/ds/tables/expenses")
        self.assertEqual(t["numRows"], str(expected + n0105))
        self.assertEqual(t["timePartitioning"], {"type": "DAY", "field": "date"})
        st, data = self.fake.call("GET", "/bigquery/v2/projects/test-project/datasets/ds/tables/expenses%2420240104/data")
        self.assertEqual(data["totalRows"], str(expected))
        notes = [r["f"][6]["v"] for r in data["rows"]]
        self.assertIn("レシート紛失\n後で確認", notes)
        self.assertEqual(data["rows"][0]["f"][0]["v"], "2024-01-04")
        # rows of another day into this partition → job error
        job = self.fake.run_job(kakeibo_load("20240104", sourceUris=[
            "gs://kakeibo/expenses/20240106/expenses.csv"]), "load_wrong_partition")
        self.assertIn("different partitions", job["status"]["errorResult"]["message"])
        # WRITE_EMPTY on a non-empty partition
        job = self.fake.run_job(kakeibo_load("20240104", write="WRITE_EMPTY"), "load_empty")
        self.assertEqual(job["status"]["errorResult"]["reason"], "duplicate")

    def test_wildcard_month_and_quoted_newlines_required(self):
        cfg = kakeibo_load("x")
        cfg["load"]["sourceUris"] = ["gs://kakeibo/expenses/202401*"]
        cfg["load"]["destinationTable"]["tableId"] = "jan"
        job = self.fake.run_job(cfg, "load_jan")
        self.assertNotIn("errorResult", job["status"], job["status"])
        total = sum(len(csv_rows(os.path.join(DATA, "kakeibo", "expenses", d, "expenses.csv")))
                    for d in os.listdir(os.path.join(DATA, "kakeibo", "expenses")) if d.startswith("202401"))
        self.assertEqual(job["statistics"]["load"]["outputRows"], str(total))
        self.assertEqual(job["statistics"]["load"]["inputFiles"], "31")
        # without allowQuotedNewlines the file with a quoted newline has bad records → job fails
        cfg = kakeibo_load("20240104", allowQuotedNewlines=False)
        job = self.fake.run_job(cfg, "load_no_qnl")
        self.assertEqual(job["status"]["errorResult"]["reason"], "invalid")
        self.assertIn("too many errors", job["status"]["errorResult"]["message"])
        self.assertGreater(len(job["status"]["errors"]), 1)
        # ... unless maxBadRecords tolerates them
        cfg = kakeibo_load("20240104", allowQuotedNewlines=False, maxBadRecords=5)
        job = self.fake.run_job(cfg, "load_no_qnl_tolerated")
        self.assertNotIn("errorResult", job["status"])
        self.assertEqual(job["statistics"]["load"]["badRecords"], "2")

    def test_ndjson_nested_autodetect_and_schema(self):
        cfg = {"load": {"sourceUris": ["gs://education/ga4/events_20240408/events.ndjson"],
                        "sourceFormat": "NEWLINE_DELIMITED_JSON", "autodetect": True,
                        "destinationTable": {"projectId": "test-project", "datasetId": "ds",
                                             "tableId": "events_20240408"}}}
        job = self.fake.run_job(cfg, "load_ga4")
        self.assertNotIn("errorResult", job["status"], job["status"])
        self.assertEqual(job["statistics"]["load"]["outputRows"], "600")
        st, t = self.fake.call("GET", "/bigquery/v2/projects/test-project/datasets/ds/tables/events_20240408")
        ep = next(f for f in t["schema"]["fields"] if f["name"] == "event_params")
        self.assertEqual((ep["type"], ep["mode"]), ("RECORD", "REPEATED"))
        # babycare with an explicit schema; TIMESTAMP output as float seconds and int64 micros
        schema = read_json(os.path.join(DATA, "babycare", "schema.json"))
        cfg = {"load": {"sourceUris": ["gs://babycare/events/20240301/events.ndjson"],
                        "sourceFormat": "NEWLINE_DELIMITED_JSON", "schema": {"fields": schema},
                        "destinationTable": {"projectId": "test-project", "datasetId": "ds", "tableId": "baby"}}}
        job = self.fake.run_job(cfg, "load_baby")
        self.assertNotIn("errorResult", job["status"], job["status"])
        n = len(read_lines(os.path.join(DATA, "babycare", "events", "20240301", "events.ndjson")))
        self.assertEqual(job["statistics"]["load"]["outputRows"], str(n))
        job = self.fake.query("SELECT user_id, event_time FROM `test-project.ds.baby` ORDER BY event_time LIMIT 1",
                              "q_ts")
        st, r = self.fake.results("q_ts")
        v = r["rows"][0]["f"][1]["v"]
        self.assertRegex(v, r"^1\.7\d*E9$")
        st, r = self.fake.results("q_ts", **{"formatOptions.useInt64Timestamp": "true"})
        self.assertRegex(r["rows"][0]["f"][1]["v"], r"^17\d{14}$")

    def test_bad_records_and_missing_source(self):
        cfg = {"load": {"sourceUris": ["gs://kakeibo/expenses/20240101/expenses.csv"],
                        "schema": {"fields": [{"name": "a", "type": "INTEGER"}] * 1},
                        "destinationTable": {"projectId": "test-project", "datasetId": "ds", "tableId": "bad"}}}
        job = self.fake.run_job(cfg, "load_bad")
        self.assertEqual(job["status"]["errorResult"]["reason"], "invalid")
        cfg["load"]["sourceUris"] = ["gs://kakeibo/nothing/*.csv"]
        job = self.fake.run_job(cfg, "load_missing")
        self.assertEqual(job["status"]["errorResult"]["reason"], "notFound")
        cfg["load"]["destinationTable"]["datasetId"] = "nods"
        cfg["load"]["sourceUris"] = ["gs://kakeibo/expenses/20240101/expenses.csv"]
        cfg["load"]["schema"]["fields"] = KAKEIBO_SCHEMA
        job = self.fake.run_job(cfg, "load_nods")
        self.assertEqual(job["status"]["errorResult"]["message"], "Not found: Dataset test-project:nods")


class TestBigQueryQuery(FakeTestCase):
    def _load_kakeibo_jan(self):
        cfg = kakeibo_load("x")
        cfg["load"]["sourceUris"] = ["gs://kakeibo/expenses/*"]
        cfg["load"]["destinationTable"]["tableId"] = "expenses"
        cfg["load"]["writeDisposition"] = "WRITE_TRUNCATE"
        job = self.fake.run_job(cfg, "load_all")
        self.assertNotIn("errorResult", job["status"], job["status"])

    def _expected_by_category(self, day_prefix):
        import collections
        agg = collections.Counter()
        for d in os.listdir(os.path.join(DATA, "kakeibo", "expenses")):
            if d.startswith(day_prefix):
                for r in csv_rows(os.path.join(DATA, "kakeibo", "expenses", d, "expenses.csv")):
                    agg[r[1]] += int(r[3])
        return agg

    def test_query_params_into_decorated_destination(self):
        self._load_kakeibo_jan()
        sql = ("SELECT DATE_TRUNC(date, MONTH) AS month, category, SUM(amount) AS total, COUNT(*) AS n "
               "FROM `test-project.ds.expenses` WHERE date BETWEEN @start AND DATE_SUB(@end, INTERVAL 1 DAY) "
               "AND category IN UNNEST(@cats) GROUP BY month, category ORDER BY total DESC")
        params = [{"name": "start", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2024-01-01"}},
                  {"name": "end", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2024-02-01"}},
                  {"name": "cats", "parameterType": {"type": "ARRAY", "arrayType": {"type": "STRING"}},
                   "parameterValue": {"arrayValues": [{"value": "食費"}, {"value": "猫"}]}}]
        dest = {"projectId": "test-project", "datasetId": "ds", "tableId": "monthly$202401"}
        for i in range(2):
            job = self.fake.query(sql, "q_monthly_%d" % i, queryParameters=params, parameterMode="NAMED",
                                  destinationTable=dest, writeDisposition="WRITE_TRUNCATE",
                                  timePartitioning={"type": "MONTH", "field": "month"})
            self.assertNotIn("errorResult", job["status"], job["status"])
        exp = self._expected_by_category("202401")
        st, r = self.fake.results("q_monthly_1")
        self.assertEqual(st, 200, r)
        self.assertEqual([f["name"] for f in r["schema"]["fields"]], ["month", "category", "total", "n"])
        self.assertEqual([f["type"] for f in r["schema"]["fields"]], ["DATE", "STRING", "INTEGER", "INTEGER"])
        got = {row["f"][1]["v"]: row["f"][2]["v"] for row in r["rows"]}
        self.assertEqual(got, {k: str(exp[k]) for k in ("食費", "猫")})
        st, t = self.fake.call("GET", "/bigquery/v2/projects/test-project/datasets/ds/tables/monthly")
        self.assertEqual(t["numRows"], "2")  # truncated partition twice, no duplicates

    def test_get_query_results_paging_and_encoding(self):
        self._load_kakeibo_jan()
        job = self.fake.query("SELECT date, amount, amount / 2 AS half, amount > 1000 AS big, "
                              "FORMAT_DATE('%Y%m', date) AS ym, EXTRACT(DAY FROM date) AS d "
                              "FROM `test-project.ds.expenses` ORDER BY date, amount", "q_page")
        self.assertNotIn("errorResult", job["status"], job["status"])
        rows, token, pages = [], None, 0
        while True:
            params = {"maxResults": 40}
            if token:
                params["pageToken"] = token
            st, r = self.fake.results("q_page", **params)
            self.assertEqual(st, 200, r)
            self.assertTrue(r["jobComplete"])
            self.assertIsInstance(r["totalRows"], str)
            rows += r.get("rows", [])
            pages += 1
            token = r.get("pageToken")
            if not token:
                break
        self.assertEqual(len(rows), int(r["totalRows"]))
        self.assertEqual(pages, (len(rows) + 39) // 40)
        types = [f["type"] for f in r["schema"]["fields"]]
        self.assertEqual(types, ["DATE", "INTEGER", "FLOAT", "BOOLEAN", "STRING", "INTEGER"])
        for row in rows:
            for cell in row["f"]:
                self.assertIsInstance(cell["v"], str)
            self.assertIn(row["f"][3]["v"], ("true", "false"))
        st, r = self.fake.results("q_page", startIndex=5, maxResults=2)
        self.assertEqual(r["rows"], rows[5:7])

    def test_ga4_unnest(self):
        cfg = {"load": {"sourceUris": ["gs://education/ga4/events_*"], "sourceFormat": "NEWLINE_DELIMITED_JSON",
                        "autodetect": True,
                        "destinationTable": {"projectId": "test-project", "datasetId": "ds", "tableId": "ga4"}}}
        job = self.fake.run_job(cfg, "load_ga4_all")
        self.assertNotIn("errorResult", job["status"], job["status"])
        sql = ("SELECT PARSE_DATE('%Y%m%d', event_date) AS day, ep.value.string_value AS page, COUNT(*) AS views, "
               "COUNT(DISTINCT user_pseudo_id) AS users "
               "FROM `test-project.ds.ga4`, UNNEST(event_params) AS ep WHERE ep.key = 'page_title' "
               "GROUP BY day, page ORDER BY day, page")
        job = self.fake.query(sql, "q_ga4")
        self.assertNotIn("errorResult", job["status"], job["status"])
        st, r = self.fake.results("q_ga4")
        import collections
        exp = collections.Counter()
        for d in ("20240408", "20240409", "20240410"):
            for line in read_lines(os.path.join(DATA, "education", "ga4", "events_" + d, "events.ndjson")):
                e = json.loads(line)
                for p in e["event_params"]:
                    if p["key"] == "page_title":
                        exp[(d[:4] + "-" + d[4:6] + "-" + d[6:], p["value"]["string_value"])] += 1
        got = {(row["f"][0]["v"], row["f"][1]["v"]): int(row["f"][2]["v"]) for row in r["rows"]}
        self.assertEqual(got, dict(exp))
        self.assertEqual(r["schema"]["fields"][0]["type"], "DATE")
        # the scalar-subquery idiom over an unaliased UNNEST, and a RECORD column passed through
        sql = ("SELECT event_name, (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id') "
               "AS session, geo FROM `test-project.ds.ga4` ORDER BY event_timestamp LIMIT 3")
        job = self.fake.query(sql, "q_ga4_sub")
        self.assertNotIn("errorResult", job["status"], job["status"])
        st, r = self.fake.results("q_ga4_sub")
        geo = r["schema"]["fields"][2]
        self.assertEqual(geo["type"], "RECORD")
        self.assertIn("f", r["rows"][0]["f"][2]["v"])
        self.assertRegex(r["rows"][0]["f"][1]["v"] or "", r"^\d+$")

    def test_unsupported_and_legacy(self):
        self._load_kakeibo_jan()
        job = self.fake.run_job({"query": {"query": "SELECT COUNT(*) FROM `test-project.ds.expenses`"}}, "q_legacy")
        err = job["status"]["errorResult"]
        self.assertEqual(err["reason"], "invalidQuery")
        self.assertIn("Invalid table name", err["message"])
        st, body = self.fake.results("q_legacy")
        self.assertEqual(st, 400)
        job = self.fake.query("SELECT ARRAY_AGG(amount) FROM `test-project.ds.expenses`", "q_unsup")
        self.assertIn("stand-in does not support", job["status"]["errorResult"]["message"])
        job = self.fake.query("SELECT * FROM `test-project.ds.nope`", "q_nf")
        self.assertEqual(job["status"]["errorResult"]["reason"], "notFound")
        job = self.fake.query("SELECT CAST('x' AS INT64)", "q_cast")
        self.assertEqual(job["status"]["errorResult"]["message"], "Bad int64 value: x")
        job = self.fake.query("SELECT 1 / 0", "q_div0")
        self.assertIn("division by zero", job["status"]["errorResult"]["message"])
        job = self.fake.query("SELECT COUNT(*) FROM `test-project.ds.expenses`", "q_bytes",
                              maximumBytesBilled="1000")
        self.assertEqual(job["status"]["errorResult"]["reason"], "bytesBilledLimitExceeded")

    def test_unknown_backticked_column_is_unrecognized_name(self):
        # SQLite would read a double-quoted unknown name as a string; BigQuery refuses it.
        self.assertNotIn("errorResult", self.fake.run_job(kakeibo_load("20240104"), "load_0104")["status"])
        cases = [
            ("SELECT `no_such_col` FROM `test-project.ds.expenses`", "Unrecognized name: no_such_col at [1:8]"),
            ("SELECT amount FROM `test-project.ds.expenses` WHERE `nope` = 'x'", "Unrecognized name: nope at [1:53]"),
            ("SELECT amount\nFROM ds.expenses AS e\nWHERE e.amount > 0 AND `Nope` IS NULL",
             "Unrecognized name: Nope at [3:24]"),
        ]
        for i, (sql, message) in enumerate(cases):
            job = self.fake.query(sql, "q_unknown_%d" % i)
            err = job["status"].get("errorResult")
            self.assertEqual((err or {}).get("reason"), "invalidQuery", (sql, job["status"]))
            self.assertEqual(err["message"], message)
            st, body = self.fake.results("q_unknown_%d" % i)
            self.assertEqual((st, body["error"]["errors"][0]["reason"]), (400, "invalidQuery"))
        st, body = self.fake.call("POST", "/bigquery/v2/projects/test-project/queries", {
            "query": cases[0][0], "useLegacySql": False})
        self.assertEqual((st, body["error"]["message"]), (400, cases[0][1]))
        st, body = self.fake.insert_job({"dryRun": True, "query": {"query": cases[0][0], "useLegacySql": False}})
        self.assertEqual((st, body["error"]["message"]), (400, cases[0][1]))
        # Backticked tables, columns and aliases still resolve; '...' and "..." are both STRING literals, even when
        # the text is a column's name.
        n = len(csv_rows(os.path.join(DATA, "kakeibo", "expenses", "20240104", "expenses.csv")))
        sql = ("SELECT \"amount\" AS a, \"it's\" AS b, 'say \"hi\"' AS c, `e`.`amount` AS `order`, `category` "
               "FROM `test-project.ds.expenses` AS `e` WHERE `e`.`item` != \"item\" ORDER BY `order` LIMIT 1")
        job = self.fake.query(sql, "q_quoting")
        self.assertNotIn("errorResult", job["status"], job["status"])
        st, r = self.fake.results("q_quoting")
        self.assertEqual([(f["name"], f["type"]) for f in r["schema"]["fields"]],
                         [("a", "STRING"), ("b", "STRING"), ("c", "STRING"), ("order", "INTEGER"),
                          ("category", "STRING")])
        row = [c["v"] for c in r["rows"][0]["f"]]
        self.assertEqual(row[:3], ["amount", "it's", 'say "hi"'])
        self.assertRegex(row[3], r"^\d+$")
        job = self.fake.query("SELECT COUNT(*) AS n FROM `test-project.ds.expenses` WHERE category != \"category\"",
                              "q_dq_string")
        st, r = self.fake.results("q_dq_string")
        self.assertEqual(r["rows"][0]["f"][0]["v"], str(n))

    def test_jobs_query_sync_and_dry_run(self):
        self._load_kakeibo_jan()
        st, r = self.fake.call("POST", "/bigquery/v2/projects/test-project/queries", {
            "query": "SELECT COUNT(*) AS n FROM ds.expenses WHERE date >= @d", "useLegacySql": False,
            "queryParameters": [{"name": "d", "parameterType": {"type": "DATE"},
                                 "parameterValue": {"value": "2024-02-01"}}]})
        self.assertEqual(st, 200, r)
        self.assertTrue(r["jobComplete"])
        feb = sum(1 for d in os.listdir(os.path.join(DATA, "kakeibo", "expenses"))
                  for r in csv_rows(os.path.join(DATA, "kakeibo", "expenses", d, "expenses.csv")) if r[0] >= "2024-02-01")
        self.assertEqual(r["rows"][0]["f"][0]["v"], str(feb))
        st, job = self.fake.insert_job({"dryRun": True, "query": {
            "query": "SELECT amount FROM `test-project.ds.expenses`", "useLegacySql": False}})
        self.assertEqual(st, 200, job)
        self.assertEqual(job["status"]["state"], "DONE")
        self.assertGreater(int(job["statistics"]["totalBytesProcessed"]), 0)
        self.assertNotIn("jobId", job["jobReference"])
        st, body = self.fake.insert_job({"dryRun": True, "query": {"query": "SELEC 1", "useLegacySql": False}})
        self.assertEqual(st, 400)


class TestBigQuerySqlBreadth(FakeTestCase):
    def test_breadth(self):
        for day in ("20240408", "20240409"):
            cfg = {"load": {"sourceUris": ["gs://education/ga4/events_%s/*" % day],
                            "sourceFormat": "NEWLINE_DELIMITED_JSON", "autodetect": True,
                            "destinationTable": {"projectId": "test-project", "datasetId": "ds",
                                                 "tableId": "events_" + day}}}
            self.assertNotIn("errorResult", self.fake.run_job(cfg, "l" + day)["status"])
        schema = read_json(os.path.join(DATA, "babycare", "schema.json"))
        cfg = {"load": {"sourceUris": ["gs://babycare/events/20240301/*"], "sourceFormat": "NEWLINE_DELIMITED_JSON",
                        "schema": {"fields": schema}, "timePartitioning": {"type": "DAY"},
                        "destinationTable": {"projectId": "test-project", "datasetId": "ds",
                                             "tableId": "baby$20240301"}}}
        self.assertNotIn("errorResult", self.fake.run_job(cfg, "lbaby")["status"])
        cases = [
            ("SELECT _TABLE_SUFFIX AS sfx, COUNT(*) AS c FROM `test-project.ds.events_*` GROUP BY 1 ORDER BY 1",
             [("sfx", "STRING"), ("c", "INTEGER")], [["20240408", "600"], ["20240409", "600"]]),
            ("WITH m AS (SELECT event_type, COUNT(*) AS n FROM ds.baby GROUP BY event_type) "
             "SELECT COUNT(*) AS kinds FROM m", [("kinds", "INTEGER")], None),
            ("SELECT _PARTITIONDATE AS pd, COUNTIF(event_type = 'milk') > 0 AS any_milk FROM ds.baby GROUP BY 1",
             [("pd", "DATE"), ("any_milk", "BOOLEAN")], [["2024-03-01", "true"]]),
            ("SELECT e.event_name, p.key, o FROM ds.events_20240408 e CROSS JOIN UNNEST(e.event_params) AS p "
             "WITH OFFSET AS o WHERE o = 0 ORDER BY e.event_timestamp LIMIT 1",
             [("event_name", "STRING"), ("key", "STRING"), ("o", "INTEGER")], None),
            ("SELECT DATE_ADD(DATE '2024-01-31', INTERVAL 1 MONTH) AS a, "
             "DATE_DIFF(DATE '2024-03-01', DATE '2024-01-15', MONTH) AS b, "
             "FORMAT_DATE('%Y/%m', DATE_TRUNC(DATE '2024-05-17', MONTH)) AS c, SAFE_CAST('x' AS INT64) AS d, "
             "IFNULL(NULL, 3) AS e, COALESCE(NULL, 'z') AS f, IF(1 < 2, 'y', 'n') AS g",
             [("a", "DATE"), ("b", "INTEGER"), ("c", "STRING"), ("d", "INTEGER"), ("e", "INTEGER"),
              ("f", "STRING"), ("g", "STRING")], [["2024-02-29", "2", "2024/05", None, "3", "z", "y"]]),
            ("SELECT geo.region AS r, COUNT(*) AS n FROM ds.events_20240408 WHERE geo.country = \"Japan\" "
             "GROUP BY r ORDER BY n DESC, r LIMIT 1", [("r", "STRING"), ("n", "INTEGER")], None),
        ]
        for i, (sql, schema, rows) in enumerate(cases):
            job = self.fake.query(sql, "b%d" % i)
            self.assertNotIn("errorResult", job["status"], (sql, job["status"]))
            st, r = self.fake.results("b%d" % i)
            self.assertEqual([(f["name"], f["type"]) for f in r["schema"]["fields"]], schema, sql)
            if rows is not None:
                self.assertEqual([[c["v"] for c in row["f"]] for row in r["rows"]], rows, sql)

    def test_concurrent_requests(self):
        import concurrent.futures
        def one(i):
            return self.fake.call("GET", "/storage/v1/b/kakeibo/o", query={"prefix": "expenses/2024010%d" % (i % 10)})[0]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            codes = list(ex.map(one, range(40)))
        self.assertEqual(codes, [200] * 40)


class TestBigQueryValidation(FakeTestCase):
    def test_unknown_and_misspelled_fields(self):
        st, body = self.fake.insert_job({"query": {"query": "SELECT 1", "useLegacySQL": False}}, "v1")
        self.assertEqual(st, 400)
        self.assertEqual(body["error"]["message"], "Invalid JSON payload received. Unknown name \"useLegacySQL\" at "
                         "'job.configuration.query': Cannot find field.")
        self.assertEqual(body["error"]["status"], "INVALID_ARGUMENT")
        self.assertEqual(body["error"]["errors"][0]["reason"], "invalid")
        st, body = self.fake.insert_job({"load": {"sourceUris": ["gs://kakeibo/x.csv"], "skipLeadingRows": "one",
                                                  "destinationTable": {"datasetId": "ds", "tableId": "t"}}}, "v2")
        self.assertEqual(st, 400)
        self.assertIn("job.configuration.load.skip_leading_rows", body["error"]["message"])
        st, body = self.fake.insert_job({"query": {"query": "SELECT 1", "useLegacySql": "false"}}, "v3")
        self.assertEqual(st, 400)
        st, body = self.fake.insert_job({"query": {"query": "SELECT 1", "useLegacySql": False,
                                                   "maximumBytesBilled": 1000000000}}, "v4")
        self.assertEqual(st, 200, body)  # int64 accepted as a JSON number
        st, body = self.fake.insert_job({"query": {"useLegacySql": False}}, "v5")
        self.assertEqual(st, 400)
        st, body = self.fake.insert_job({"load": {"sourceUris": ["gs://kakeibo/x.csv"]}}, "v6")
        self.assertEqual(st, 400)
        st, body = self.fake.insert_job({"query": {"query": "SELECT 1", "useLegacySql": False}}, "bad job id!")
        self.assertEqual(st, 400)
        self.assertIn("Invalid job ID", body["error"]["message"])
        st, body = self.fake.call("GET", "/bigquery/v2/projects/test-project/queries/v4?maxresults=1")
        self.assertEqual(st, 400)
        self.assertIn("Cannot bind query parameter", body["error"]["message"])

    def test_query_longer_than_1024000_characters_is_refused(self):
        too_large = ("The query is too large. The maximum standard SQL query length is 1024.00K characters, including "
                     "comments and white space characters.")
        head = "SELECT 1 AS x -- "
        at_limit = head + "あ" * (1024000 - len(head))  # the limit counts characters, not UTF-8 bytes
        over = at_limit + " "
        st, body = self.fake.insert_job({"query": {"query": over, "useLegacySql": False}}, "too_large")
        self.assertEqual(st, 400, "jobs.insert accepted the over-long query")  # (the body would echo 1M characters)
        self.assertEqual((body["error"]["message"], body["error"]["errors"][0]["reason"]), (too_large, "invalid"))
        st, _ = self.fake.call("GET", "/bigquery/v2/projects/test-project/jobs/too_large")
        self.assertEqual(st, 404)  # refused before the job was created
        st, body = self.fake.insert_job({"dryRun": True, "query": {"query": over, "useLegacySql": False}})
        self.assertEqual((st, body["error"]["message"]), (400, too_large))
        st, body = self.fake.call("POST", "/bigquery/v2/projects/test-project/queries",
                                  {"query": over, "useLegacySql": False})
        self.assertEqual((st, body["error"]["errors"][0]["reason"], body["error"]["message"]),
                         (400, "invalid", too_large))
        stats = self.fake.ctl("GET", "stats")["jobs"]
        self.assertEqual((stats["job_inserts_accepted"], stats["queries_sync"]), (0, 0))
        # exactly 1,024,000 characters is allowed
        job = self.fake.query(at_limit, "at_limit")
        self.assertNotIn("errorResult", job["status"], job["status"])

    def test_duplicate_job_id(self):
        cfg = {"query": {"query": "SELECT 1 AS x", "useLegacySql": False}}
        st, _ = self.fake.insert_job(cfg, "dup1")
        self.assertEqual(st, 200)
        st, body = self.fake.insert_job(cfg, "dup1")
        self.assertEqual(st, 409)
        self.assertEqual(body["error"]["errors"][0]["reason"], "duplicate")
        self.assertEqual(body["error"]["message"], "Already Exists: Job test-project:US.dup1")
        stats = self.fake.ctl("GET", "stats")["jobs"]
        self.assertEqual((stats["job_inserts_attempted"], stats["job_inserts_accepted"],
                          stats["job_inserts_duplicate"]), (2, 1, 1))

    def test_job_progress_and_cancel(self):
        self.fake.ctl("POST", "config", {"job_duration_s": 30})
        st, job = self.fake.insert_job({"query": {"query": "SELECT 1 AS x", "useLegacySql": False}}, "slow")
        self.assertIn(job["status"]["state"], ("PENDING", "RUNNING"))
        st, r = self.fake.results("slow", timeoutMs=100)
        self.assertEqual((st, r["jobComplete"]), (200, False))
        self.assertNotIn("rows", r)
        st, r = self.fake.call("POST", "/bigquery/v2/projects/test-project/jobs/slow/cancel?location=US")
        self.assertEqual(st, 200)
        job = self.fake.wait_job("slow", timeout=5)
        self.assertEqual(job["status"]["errorResult"]["reason"], "stopped")
        self.assertEqual(self.fake.ctl("GET", "stats")["jobs"]["jobs_cancelled"], 1)
        # default timing: first jobs.get RUNNING, second DONE
        self.fake.ctl("POST", "config", {"job_duration_s": 0})
        self.fake.insert_job({"query": {"query": "SELECT 1 AS x", "useLegacySql": False}}, "fast")
        states = [self.fake.call("GET", "/bigquery/v2/projects/test-project/jobs/fast")[1]["status"]["state"]
                  for _ in range(2)]
        self.assertEqual(states, ["RUNNING", "DONE"])
        st, body = self.fake.call("GET", "/bigquery/v2/projects/test-project/jobs/fast?location=EU")
        self.assertEqual(st, 404)


class TestFaults(FakeTestCase):
    JOBS = "/bigquery/v2/projects/test-project/jobs"

    def test_status_json_html_malformed_retry_after(self):
        self.fake.ctl("POST", "faults", [
            {"method": "GET", "path": "/storage/v1/b/kakeibo/o$", "status": 429, "retry_after": 2, "times": 1},
            {"method": "GET", "path": "/storage/v1/b/kakeibo/o$", "status": 502, "body": "html", "times": 1},
            {"method": "GET", "path": "/storage/v1/b/kakeibo/o$", "status": 503, "body": "malformed", "times": 1},
            {"method": "GET", "path": "/storage/v1/b/kakeibo/o$", "body": "malformed", "times": 1},
            {"method": "GET", "path": "/storage/v1/b/kakeibo/o$", "body": "missing_fields", "times": 1}])
        st, hdrs, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", raw=True)
        self.assertEqual((st, hdrs["Retry-After"]), (429, "2"))
        self.assertEqual(json.loads(body)["error"]["code"], 429)
        st, hdrs, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", raw=True)
        self.assertEqual(st, 502)
        self.assertTrue(hdrs["Content-Type"].startswith("text/html"))
        st, hdrs, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", raw=True)
        self.assertEqual(st, 503)
        self.assertRaises(ValueError, json.loads, body)
        st, hdrs, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o", raw=True)
        self.assertEqual(st, 200)
        self.assertRaises(ValueError, json.loads, body)
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o")
        self.assertEqual(st, 200)
        self.assertNotIn("items", body)
        st, body = self.fake.call("GET", "/storage/v1/b/kakeibo/o")
        self.assertIn("items", body)  # rules used up
        self.assertEqual(self.fake.ctl("GET", "stats")["faults_fired"], 5)

    def test_drop_before_and_after_and_delay(self):
        cfg = {"configuration": {"query": {"query": "SELECT 1 AS x", "useLegacySql": False}},
               "jobReference": {"projectId": "test-project", "jobId": "drop_job", "location": "US"}}
        self.fake.ctl("POST", "faults", [{"method": "POST", "path": "/jobs$", "drop": "before", "times": 1},
                                         {"method": "POST", "path": "/jobs$", "drop": "after", "times": 1}])
        for _ in range(2):
            with self.assertRaises((urllib.error.URLError, http.client.RemoteDisconnected, ConnectionError)):
                self.fake.call("POST", self.JOBS, cfg)
        st, body = self.fake.call("POST", self.JOBS, cfg)
        self.assertEqual(st, 409)  # the "after" drop really inserted the job
        stats = self.fake.ctl("GET", "stats")["jobs"]
        self.assertEqual((stats["job_inserts_attempted"], stats["job_inserts_accepted"]), (2, 1))
        job = self.fake.wait_job("drop_job")
        self.assertNotIn("errorResult", job["status"])
        self.fake.ctl("POST", "faults", [{"path": "/datasets$", "delay": 0.5, "times": 1}])
        t0 = time.time()
        st, _ = self.fake.call("GET", "/bigquery/v2/projects/test-project/datasets")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.time() - t0, 0.5)

    def test_request_log_and_reset(self):
        self.fake.insert_job({"query": {"query": "SELECT 1 AS x", "useLegacySql": False}}, "logged")
        log = self.fake.ctl("GET", "requests")
        e = [x for x in log if x["method"] == "POST"][-1]
        self.assertEqual(e["json"]["jobReference"]["jobId"], "logged")
        self.assertEqual(e["headers"]["Authorization"], "Bearer <redacted>")
        self.assertEqual(self.fake.ctl("GET", "stats")["requests"]["POST /bigquery/v2/projects/{}/jobs"], 1)
        self.fake.ctl("POST", "reset", {"tables": True})
        self.assertEqual(self.fake.ctl("GET", "requests"), [])
        st, _ = self.fake.call("GET", "/bigquery/v2/projects/test-project/jobs/logged")
        self.assertEqual(st, 404)

    def test_forced_job_failure(self):
        self.fake.ctl("POST", "config", {"job_duration_s": 30})
        self.fake.insert_job({"query": {"query": "SELECT 1 AS x", "useLegacySql": False}}, "forced")
        self.fake.ctl("POST", "jobs/forced/state", {"fail": {"reason": "backendError", "message": "boom"},
                                                    "state": "DONE"})
        job = self.fake.wait_job("forced", timeout=5)
        self.assertEqual(job["status"]["errorResult"], {"reason": "backendError", "message": "boom"})


if __name__ == "__main__":
    unittest.main()
