"""The household-budget example (examples/gcp/kakeibo_bigquery.yaml) end to end in the daemon against
the Google Cloud stand-ins: a sensor waits for the day's CSV export, a load job puts it into the
day's partition of raw.expenses, a column check, the month-to-date mart, a check of the mart. The
rows in the stand-in's tables are compared, exactly, with what the CSV files hold; every job is
inserted once."""

import csv
import os
import shutil
import sys
import tempfile
import unittest
from collections import defaultdict

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402
from gcp_fake import GcpFake  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DAYS = ["2024-01-30", "2024-01-31", "2024-02-01"]  # across a month's end


def csv_rows(day):
    path = os.path.join(REPO, "data", "kakeibo", "expenses", day.replace("-", ""), "expenses.csv")
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [dict(row) for row in csv.DictReader(f)]


def table_rows(fake, dataset, table):
    answer = fake.bigquery("datasets/%s/tables/%s" % (dataset, table))
    names = [field["name"] for field in answer["schema"]["fields"]]
    rows, token = [], None
    while True:
        page = fake.bigquery("datasets/%s/tables/%s/data?maxResults=500%s" % (
            dataset, table, "&pageToken=" + token if token else ""))
        rows += [{name: cell["v"] for name, cell in zip(names, row["f"])} for row in page.get("rows", [])]
        token = page.get("pageToken")
        if not token:
            return rows


class KakeiboBigQueryTest(unittest.TestCase):
    def test_three_days_land_exactly_in_raw_and_mart(self):
        data = tempfile.mkdtemp(prefix="mayaflow-kakeibo-data-")
        os.symlink(os.path.join(REPO, "data", "kakeibo"), os.path.join(data, "kakeibo-raw"))
        fake = GcpFake(datasets=("raw", "mart"), data=data)
        daemon = Daemon(copy_examples=False, env=fake.environment())
        try:
            with open(os.path.join(REPO, "examples", "gcp", "kakeibo_bigquery.yaml"), encoding="utf-8") as f:
                daemon.write_dag("kakeibo_bigquery.yaml", f.read())
            with open(os.path.join(REPO, "examples", "gcp", "sql", "kakeibo_monthly.sql"), encoding="utf-8") as f:
                daemon.write_dag("sql/kakeibo_monthly.sql", f.read())
            daemon.start()
            wait_for(lambda: "kakeibo_bigquery" in daemon.dag_ids(), timeout=30)
            for day in DAYS:
                daemon.cli("dags", "trigger", "kakeibo_bigquery", "-l", day + "T00:00:00Z", check=True)

            def finished():
                runs = daemon.runs("kakeibo_bigquery")
                done = [run for run in runs if run["state"] in ("success", "failed")]
                return done if len(done) == len(DAYS) else None
            runs, _ = wait_for(finished, timeout=240)
            self.assertEqual(sorted(run["state"] for run in runs), ["success"] * len(DAYS),
                             daemon.cli("tasks", "logs", "kakeibo_bigquery", runs[0]["run_id"], "load_raw").stdout)

            # raw.expenses: each day's partition holds that day's CSV rows, BOM, CRLF and quoted
            # newlines and all.
            raw = table_rows(fake, "raw", "expenses")
            expected_raw = sorted((r["date"], r["category"], r["item"], int(r["amount"]), r["payment"], r["member"],
                                   r["note"] or None) for day in DAYS for r in csv_rows(day))
            got_raw = sorted((r["date"], r["category"], r["item"], int(r["amount"]), r["payment"], r["member"],
                              r["note"]) for r in raw)
            self.assertEqual(got_raw, expected_raw)

            # mart.monthly: per day, the month-to-date totals per category of the days loaded.
            expected_mart = defaultdict(lambda: [0, 0])
            for day in DAYS:
                for earlier in DAYS:
                    if earlier[:7] == day[:7] and earlier <= day:
                        for r in csv_rows(earlier):
                            cell = expected_mart[(day, r["category"])]
                            cell[0] += int(r["amount"])
                            cell[1] += 1
            got_mart = {(r["day"], r["category"]): [int(r["total"]), int(r["items"])]
                        for r in table_rows(fake, "mart", "monthly")}
            self.assertEqual(got_mart, dict(expected_mart))

            # One job per task and run: no try inserted a job twice.
            jobs = fake.stats()["jobs"]
            self.assertEqual(jobs["job_inserts_accepted"], 4 * len(DAYS))
            self.assertEqual(jobs["job_inserts_duplicate"], 0)
            stats = daemon.cli("tasks", "stats", "kakeibo_bigquery", "--output", "json", check=True).stdout
            self.assertIn("build_monthly_mart", stats)
        finally:
            daemon.cleanup()
            fake.stop()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
