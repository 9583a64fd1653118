"""The three scenes of dags/ end to end, as scripts/run runs them: the repository's DAG folder in the real
daemon, beside the Google Cloud, Firebase and Slack stand-ins serving the repository's data/. The daemon's
first runs (catchup) are the scenes' days; the test compares what lands in the stand-ins with what it
computes itself from the sample files:

- household budget: raw.expenses holds the four days' CSV rows exactly, the month-to-date mart the sums
  of them, and the notebook wrote the chart (a PNG) and its executed copy;
- baby-care app: raw.babycare_events holds the NDJSON's events, and /reports/20240314 in Firebase is
  exactly the tree computed here from the NDJSON, the ids Firebase refuses percent-encoded;
- education: every app table's mart, the GA4 export flattened, and a check made to fail (a run's conf
  names its table) sends a Slack message naming the task, with a link to its log."""

import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request
from collections import defaultdict

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(REPO, "data")
FAKES = os.path.join(REPO, "tests", "fakes")
FIREBASE_SECRET = "scenes-secret"
FIREBASE_NS = "scenes-default-rtdb"
KAKEIBO_DAYS = ["2024-02-26", "2024-02-27", "2024-02-28", "2024-02-29"]
BABYCARE_DAY = "2024-03-14"
SCHEDULED_RUNS = {"kakeibo_daily": 4, "babycare_reports": 3, "education_layers": 1, "education_ga4": 3}


def start_stand_in(*args):
    process = subprocess.Popen(["/usr/bin/python3", "-m", *args], cwd=FAKES, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("stand-in %s did not start" % args[0])
    return process, json.loads(line)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def table_rows(fake, dataset, table):
    answer = fake.bigquery("datasets/%s/tables/%s" % (dataset, table))
    names = [field["name"] for field in answer["schema"]["fields"]]
    rows, token = [], None
    while True:
        page = fake.bigquery("datasets/%s/tables/%s/data?maxResults=1000%s" % (
            dataset, table, "&pageToken=" + token if token else ""))
        rows += [{name: cell["v"] for name, cell in zip(names, row["f"])} for row in page.get("rows", [])]
        token = page.get("pageToken")
        if not token:
            return rows


def kakeibo_csv(day):
    path = os.path.join(DATA, "kakeibo", "expenses", day.replace("-", ""), "expenses.csv")
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def babycare_events(day):
    path = os.path.join(DATA, "babycare", "events", day.replace("-", ""), "events.ndjson")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def firebase_key(key):
    """Firebase's key rule and the export's sanitizing (docs/firebase.md), written again here: a key
    with a refused character gets each of them, and each '%', as %XX; a valid key stays as it is."""
    refused = set(".$#[]/") | {chr(c) for c in range(32)} | {chr(127)}
    if not any(ch in refused for ch in key):
        return key
    return "".join("%%%02X" % ord(ch) if ch in refused or ch == "%" else ch for ch in key)


def expected_reports(day):
    reports = {}
    for event in babycare_events(day):
        report = reports.setdefault(event["user_id"], {
            "day": day, "events": 0, "milk_ml": 0, "milk_feeds": 0, "diapers": 0, "sleep_min": 0, "baths": 0,
            "first_event_at": event["event_time"], "last_event_at": event["event_time"]})
        report["events"] += 1
        kind, value = event["event_type"], event.get("value") or 0
        if kind == "milk":
            report["milk_ml"] += value
            report["milk_feeds"] += 1
        elif kind == "diaper":
            report["diapers"] += 1
        elif kind == "sleep":
            report["sleep_min"] += value
        elif kind == "bath":
            report["baths"] += 1
        report["first_event_at"] = min(report["first_event_at"], event["event_time"])
        report["last_event_at"] = max(report["last_event_at"], event["event_time"])
    return {firebase_key(user): report for user, report in reports.items()}


class ScenesTest(unittest.TestCase):
    def test_the_three_scenes_on_the_stand_ins(self):
        gcp = GcpFake(datasets=("raw", "staging", "mart", "analytics"), data=DATA)
        firebase, firebase_ready = start_stand_in("firebase_fake", "--port", "0", "--ns", FIREBASE_NS,
                                                  "--secret", FIREBASE_SECRET)
        slack, slack_ready = start_stand_in("slack_fake", "--port", "0")
        env = gcp.environment()
        env["AIRFLOW_CONN_FIREBASE_DEFAULT"] = json.dumps(
            {"conn_type": "firebase", "password": FIREBASE_SECRET, "extra": {"database_url": firebase_ready["database_url"]}})
        env["AIRFLOW_CONN_SLACK_DEFAULT"] = json.dumps({"conn_type": "slackwebhook", "password": slack_ready["webhook_url"]})
        daemon = Daemon(copy_examples=True, env=env)
        try:
            daemon.start()
            wait_for(lambda: set(SCHEDULED_RUNS) <= set(daemon.dag_ids()), timeout=60)
            self.assertEqual(daemon.import_errors(), [])

            def all_finished():
                for dag_id, count in SCHEDULED_RUNS.items():
                    done = [r for r in daemon.runs(dag_id) if r["state"] in ("success", "failed")]
                    if len(done) < count:
                        return None
                return True
            wait_for(all_finished, timeout=200)
            for dag_id, count in SCHEDULED_RUNS.items():
                runs = daemon.runs(dag_id)
                self.assertEqual([r["state"] for r in runs], ["success"] * count,
                                 "%s: %s" % (dag_id, daemon.cli("dags", "list-runs", dag_id).stdout))

            # Education, a check made to fail: a run whose conf names a table fails that table's check
            # (retries: 0) and the Slack stand-in gets a message naming the task with a link to its log.
            run_id = "manual_failing_check"
            daemon.cli("dags", "trigger", "education_layers", "-r", run_id, "-l", "2024-04-08T12:00:00Z",
                       "-c", json.dumps({"fail_check_for": "students"}), check=True)

            self.check_kakeibo(gcp, daemon)
            self.check_babycare(gcp, firebase_ready)

            messages = get_json(slack_ready["base_url"] + "/_fake/messages?count=1&timeout=30")
            messages = messages["messages"] if isinstance(messages, dict) else messages
            self.assertEqual(len(messages), 1, messages)
            text = messages[0]["text"]
            self.assertIn("Task failed", text)
            self.assertIn("`education_layers`", text)
            self.assertIn("`students.check_mart`", text)
            self.assertIn("not_failed_on_purpose", text)
            self.assertIn("/dags/education_layers/runs/%s/tasks/students.check_mart/tries/1/log" % run_id, text)
            self.assertEqual(daemon.cli("tasks", "state", "education_layers", run_id, "students.check_mart",
                                        check=True).stdout.strip(), "failed")
            # Another table's check is not held back by the failed one; it may still be waiting for
            # its BigQuery job when the message comes (seen under a loaded machine: 'deferred').
            wait_for(lambda: daemon.cli("tasks", "state", "education_layers", run_id, "schools.check_mart",
                                        check=True).stdout.strip() == "success", timeout=120)
            wait_for(lambda: [r for r in daemon.runs("education_layers")
                              if r["run_id"] == run_id and r["state"] in ("success", "failed")], timeout=120)
            self.check_education(gcp)
        finally:
            daemon.cleanup()
            gcp.stop()
            stop(firebase)
            stop(slack)

    def check_kakeibo(self, gcp, daemon):
        raw = sorted((r["date"], r["category"], r["item"], int(r["amount"]), r["payment"], r["member"], r["note"])
                     for r in table_rows(gcp, "raw", "expenses"))
        expected = sorted((r["date"], r["category"], r["item"], int(r["amount"]), r["payment"], r["member"],
                           r["note"] or None) for day in KAKEIBO_DAYS for r in kakeibo_csv(day))
        self.assertEqual(raw, expected)
        mart = {(r["day"], r["category"]): (int(r["total"]), int(r["items"]))
                for r in table_rows(gcp, "mart", "kakeibo_monthly")}
        sums = defaultdict(lambda: [0, 0])
        for day in KAKEIBO_DAYS:
            for earlier in KAKEIBO_DAYS[:KAKEIBO_DAYS.index(day) + 1]:
                for r in kakeibo_csv(earlier):
                    sums[(day, r["category"])][0] += int(r["amount"])
                    sums[(day, r["category"])][1] += 1
        self.assertEqual(mart, {key: tuple(value) for key, value in sums.items()})

        for day in KAKEIBO_DAYS:
            with open(os.path.join(daemon.home, "charts", "kakeibo_%s.png" % day.replace("-", "")), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        executed = glob.glob(os.path.join(daemon.home, "logs", "dag_id=kakeibo_daily",
                                          "run_id=scheduled__2024-02-29T00:00:00+00:00", "task_id=draw_chart", "*.ipynb"))
        self.assertEqual(len(executed), 1, executed)
        with open(executed[0], encoding="utf-8") as f:
            notebook = json.load(f)
        self.assertEqual(notebook["metadata"]["papermill"]["parameters"]["day"], "2024-02-29")
        outputs = [o for cell in notebook["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
        self.assertTrue(any("image/png" in o.get("data", {}) for o in outputs), outputs)
        self.assertFalse([o for o in outputs if o.get("output_type") == "error"])

    def check_babycare(self, gcp, firebase_ready):
        day = BABYCARE_DAY
        raw = sorted((r["user_id"], r["event_type"], r["value"]) for r in table_rows(gcp, "raw", "babycare_events"))
        expected = sorted((e["user_id"], e["event_type"], None if e.get("value") is None else str(e["value"]))
                          for other in ("2024-03-12", "2024-03-13", day) for e in babycare_events(other))
        self.assertEqual(raw, expected)
        url = "%s/reports/%s.json?ns=%s&auth=%s" % (firebase_ready["base_url"], day.replace("-", ""), FIREBASE_NS,
                                                    FIREBASE_SECRET)
        tree = get_json(url)
        want = expected_reports(day)
        self.assertEqual(len(tree), 156)
        self.assertEqual(set(tree), set(want))
        self.assertEqual(tree, want)
        self.assertIn("user%2E0150", tree)  # an id Firebase refuses as a key, percent-encoded
        self.assertIn("ユーザー0155", tree)  # a non-ASCII id is a valid key and stays as it is

    def check_education(self, gcp):
        with open(os.path.join(DATA, "education", "app", "tables.json"), encoding="utf-8") as f:
            tables = [t["table"] for t in json.load(f)]
        self.assertEqual(len(tables), 20)
        for table in tables:
            with open(os.path.join(DATA, "education", "app", table, "20240408", table + ".csv"), encoding="utf-8") as f:
                source = list(csv.DictReader(f))
            staging = table_rows(gcp, "staging", table)
            self.assertEqual(sorted(int(r["id"]) for r in staging), sorted({int(r["id"]) for r in source}), table)
            mart = table_rows(gcp, "mart", table + "_by_status")
            counts = defaultdict(int)
            for r in source:
                counts[r["status"]] += 1
            self.assertEqual({r["status"]: int(r["row_count"]) for r in mart}, dict(counts), table)

        flat = table_rows(gcp, "staging", "ga4_events")
        events = []
        for day in ("20240408", "20240409", "20240410"):
            with open(os.path.join(DATA, "education", "ga4", "events_" + day, "events.ndjson"), encoding="utf-8") as f:
                events += [json.loads(line) for line in f if line.strip()]
        self.assertEqual(len(flat), len(events))

        def params(event):
            values = {p["key"]: p["value"] for p in event["event_params"]}

            def value(key, kind):
                found = values.get(key, {}).get(kind)
                return None if found is None else str(found)
            return (event["user_pseudo_id"], event["event_name"], value("page_location", "string_value"),
                    value("ga_session_id", "int_value"), value("engagement_time_msec", "int_value"))
        self.assertEqual(sorted((r["user_pseudo_id"], r["event_name"], r["page_location"], r["ga_session_id"],
                                 r["engagement_time_msec"]) for r in flat), sorted(params(e) for e in events))


if __name__ == "__main__":
    unittest.main()
