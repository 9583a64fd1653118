"""Fault injection, the logs folder: first it cannot be written (creating a try's log fails with
EACCES), then it is full (every write under it fails with ENOSPC), then it fills up while a task is
running and printing. What must hold: a try that cannot have a log does not run its command and fails
with a message that names the log file and the reason (retries as its task says); no try is left
running or queued; a task whose log fills mid-run still ends (success or failed with words), not
hanging; /health's `logs` part is unhealthy, naming the folder and the reason, while it cannot be
written; the daemon keeps running and its store stays consistent; once the folder is writable again
the failed tasks, cleared, run once and succeed, and a new run succeeds with every log written."""

import collections
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import FaultDaemon, appending_dag, read_text, wait_for  # noqa: E402

CHAINS, LENGTH = 2, 3

PRINTS = """dag_id: prints
tasks:
  - task_id: chatty
    operator: bash
    retries: 0
    bash_command: for i in $(seq 30); do echo "line $i"; sleep 0.1; done; echo chatty >> {out}
"""


class LogsFolderFaultTest(unittest.TestCase):
    def setUp(self):
        self.daemon = FaultDaemon()
        self.out = os.path.join(self.daemon.home, "out.txt")
        self.daemon.write_dag("logs.yaml", appending_dag(self.out, CHAINS, LENGTH, dag_id="logs").replace(
            "bash_command: echo", "bash_command: echo {{ run_id }}"))
        self.daemon.write_dag("prints.yaml", PRINTS.format(out=self.out))

    def tearDown(self):
        self.daemon.clear_faults()
        self.daemon.cleanup()

    def ran(self, run_id):
        lines = [line.split() for line in read_text(self.out).splitlines()]
        return collections.Counter(line[1] for line in lines if line[0] == run_id)

    def messages(self, dag_id, run_id):
        return dict(self.daemon.query("SELECT t.task_id, t.message FROM task_instance t JOIN dag_run r ON r.id = t.run_pk "
                                      "WHERE r.dag_id = ? AND r.run_id = ?", dag_id, run_id))

    def check_failed_without_running(self, run_id, reason):
        self.assertEqual(self.daemon.wait_for_run("logs", run_id, timeout=30), "failed")
        states = self.daemon.task_states("logs", run_id)
        self.assertEqual(collections.Counter(states.values()), {"failed": CHAINS, "upstream_failed": CHAINS * (LENGTH - 1)})
        for task_id, message in self.messages("logs", run_id).items():
            if states[task_id] == "failed":
                self.assertRegex(message, r'^cannot write to log file ".*/attempt=3\.log": ' + reason, task_id)
        self.assertEqual(self.ran(run_id), {}, "a try ran its command without a log")

    def logs_health(self):
        status, _, body = self.daemon.http("/health", auth=False)
        return status, json.loads(body).get("logs", {})

    def wait_for_logs_health(self, healthy, reason=None):
        """/health's `logs` part turns as expected within a check's interval (5 s) and a margin."""
        def turned():
            part = self.logs_health()[1]
            if healthy:
                return part.get("status") == "healthy"
            return part.get("status") == "unhealthy" and reason in part.get("detail", "")
        wait_for(turned, timeout=12, interval=0.1)
        status, part = self.logs_health()
        if healthy:
            self.assertEqual(part, {"status": "healthy"})
        else:
            self.assertEqual(status, 503)
            self.assertIn(self.daemon.logs, part["detail"])
            self.assertIn(reason, part["detail"])

    def test_logs_folder_unwritable_then_full(self):
        self.daemon.start()
        self.wait_for_logs_health(True)
        self.daemon.set_faults(prefix=self.daemon.logs, open="EACCES")
        self.daemon.trigger("logs", "unwritable")
        self.check_failed_without_running("unwritable", "Permission denied")
        self.wait_for_logs_health(False, "Permission denied")

        self.daemon.set_faults(prefix=self.daemon.logs, write="ENOSPC", open="ENOSPC")
        self.daemon.trigger("logs", "full")
        self.check_failed_without_running("full", "No space left on device")
        self.wait_for_logs_health(False, "No space left on device")
        self.assertIsNone(self.daemon.process.poll())

        # Full while a task runs and prints: it ends, one way or the other, with words.
        self.daemon.clear_faults()
        started = time.monotonic()
        self.daemon.trigger("prints", "filling")
        wait_for(lambda: "line 5" in "".join(read_text(os.path.join(folder, name))
                                             for folder, _, names in os.walk(self.daemon.logs)
                                             if "dag_id=prints" in folder for name in names), timeout=20)
        self.daemon.set_faults(prefix=self.daemon.logs, write="ENOSPC")
        state = self.daemon.wait_for_run("prints", "filling", timeout=30)
        took = time.monotonic() - started
        message = self.messages("prints", "filling")["chatty"]
        print("a log that filled mid-run: the try ended %s after %.1f s (%r)" % (state, took, message), file=sys.stderr)
        if state == "failed":  # its exit status could not be recorded beside its log
            self.assertIn("logs folder", message)
            self.assertIn("task supervisor: cannot record exit status 0", self.daemon.read_log())
        self.assertLess(took, 20)

        # The folder has room again: /health says so, and the failed runs' tasks, cleared, run once
        # each and succeed.
        self.daemon.clear_faults()
        self.wait_for_logs_health(True)
        for run_id in ("unwritable", "full"):
            status, _, body = self.daemon.http("/api/v1/dags/logs/clearTaskInstances", method="POST", body=json.dumps(
                {"dry_run": False, "only_failed": True, "dag_run_id": run_id, "include_downstream": True}))
            self.assertEqual(status, 200, body)
        for run_id in ("unwritable", "full"):
            self.assertEqual(self.daemon.wait_for_run("logs", run_id, timeout=30), "success")
            self.assertEqual(self.ran(run_id), {t: 1 for t in self.daemon.task_states("logs", run_id)})
        self.daemon.trigger("logs", "after")
        self.assertEqual(self.daemon.wait_for_run("logs", "after", timeout=30), "success")
        self.assertEqual(set(self.ran("after").values()), {1})
        self.assertEqual(len(self.ran("after")), CHAINS * LENGTH)
        self.assertIsNone(self.daemon.process.poll())
        self.assertEqual(self.daemon.integrity(), "ok")
        self.assertNotIn("Sanitizer", self.daemon.read_log())

    def test_unnamed_logs_that_cannot_be_linked(self):
        """A security module or filesystem that refuses to link the workers' unnamed logs in: the
        supervisor makes each log by its name, the daemon says so once and stops making unnamed
        files, and every try runs once with its whole log."""
        self.daemon.set_faults(prefix=self.daemon.logs, link="EPERM")
        self.daemon.start()
        self.daemon.trigger("logs", "unlinked")
        self.daemon.trigger("prints", "unlinked")
        self.assertEqual(self.daemon.wait_for_run("logs", "unlinked", timeout=30), "success")
        self.assertEqual(self.daemon.wait_for_run("prints", "unlinked", timeout=30), "success")
        self.assertEqual(self.ran("unlinked"), {t: 1 for t in self.daemon.task_states("logs", "unlinked")})
        # At most the three tries that can start at once (two chains and `chatty`) made an unnamed
        # log before the first refusal came back; the later four did not.
        hits = self.daemon.fault_hits()
        self.assertGreaterEqual(hits, 1)
        self.assertLessEqual(hits, 3)
        self.assertEqual(self.daemon.read_log().count("cannot link unnamed files"), 1)
        chatty = read_text(os.path.join(self.daemon.logs, "dag_id=prints", "run_id=unlinked", "task_id=chatty",
                                        "attempt=1.log"))
        self.assertTrue(chatty.startswith("[mayaflow] running: for i in $(seq 30)"), chatty[:200])
        self.assertIn("line 30\n", chatty)
        for folder, _, names in os.walk(os.path.join(self.daemon.logs, "dag_id=logs")):
            for name in names:
                if name.endswith(".log"):
                    self.assertTrue(read_text(os.path.join(folder, name)).startswith("[mayaflow] running: echo unlinked"))
        self.assertEqual(self.daemon.integrity(), "ok")
        self.assertNotIn("Sanitizer", self.daemon.read_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
