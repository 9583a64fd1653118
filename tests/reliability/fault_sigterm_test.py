"""Fault injection, a task that ignores SIGTERM: three bash tasks run `trap '' TERM` and a `sleep`
that inherits it, and each is then ended a different way — its execution_timeout passes, it is
cleared, it is marked failed. The daemon sends SIGTERM to the task's process group and SIGKILL after
the grace period (5 s); what must hold: every one of those processes is gone within the grace plus a
margin, the task's state says what happened (failed with the timeout in its message; cleared: run again,
and the second try, which does not hang, succeeds; marked: failed), and the task's log says that
SIGKILL followed. The run ends; no process is left behind."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import FaultDaemon, read_text, wait_for  # noqa: E402

KILL_GRACE = 5  # operators/shell_process.h kDefaultKillGrace
MARGIN = 6


def stubborn(name, pids, more=""):
    # The first try hangs, ignoring SIGTERM (as does its sleep, which inherits the ignored signal);
    # a later one ends at once.
    return ("  - task_id: %s\n    operator: bash\n    retries: 0\n%s"
            "    bash_command: trap '' TERM; echo $$ >> %s; if [ -e %s.ran ]; then exit 0; fi; touch %s.ran; "
            "sleep 120 & echo $! >> %s; wait\n") % (name, more, pids, pids, pids, pids)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class SigtermIgnoredTest(unittest.TestCase):
    def setUp(self):
        self.daemon = FaultDaemon()

    def tearDown(self):
        self.daemon.cleanup()

    def pids(self, name):
        return [int(p) for p in read_text(os.path.join(self.daemon.home, name + ".pids")).split()]

    def state(self, task_id):
        return self.daemon.task_states("stubborn", "r1").get(task_id)

    def test_timeout_clear_and_mark_end_a_task_that_ignores_sigterm(self):
        home = self.daemon.home
        dag = "dag_id: stubborn\nmax_active_tasks: 8\ntasks:\n"
        dag += stubborn("by_timeout", os.path.join(home, "by_timeout.pids"), "    execution_timeout: 2s\n")
        dag += stubborn("by_clear", os.path.join(home, "by_clear.pids"))
        dag += stubborn("by_mark", os.path.join(home, "by_mark.pids"))
        self.daemon.write_dag("stubborn.yaml", dag)
        self.daemon.start()
        self.daemon.trigger("stubborn", "r1")
        # Each task's shell and its sleep are running.
        wait_for(lambda: all(len(self.pids(n)) == 2 for n in ("by_timeout", "by_clear", "by_mark")), timeout=30)
        started = time.monotonic()
        hung = {name: self.pids(name) for name in ("by_timeout", "by_clear", "by_mark")}

        status, _, body = self.daemon.http("/api/v1/dags/stubborn/clearTaskInstances", method="POST", body=json.dumps(
            {"dry_run": False, "only_failed": False, "task_ids": ["by_clear"], "dag_run_id": "r1"}))
        self.assertEqual(status, 200, body)
        status, _, body = self.daemon.http("/api/v1/dags/stubborn/dagRuns/r1/taskInstances/by_mark", method="PATCH",
                                           body=json.dumps({"new_state": "failed", "dry_run": False}))
        self.assertEqual(status, 200, body)

        for name, pids in hung.items():
            wait_for(lambda: not any(alive(p) for p in pids), timeout=2 + KILL_GRACE + MARGIN, interval=0.2)
        ended_after = time.monotonic() - started
        print("the three hung tries were gone %.1f s after they started hanging" % ended_after, file=sys.stderr)

        state = self.daemon.wait_for_run("stubborn", "r1", timeout=30)
        states = self.daemon.task_states("stubborn", "r1")
        self.assertEqual(states["by_timeout"], "failed")
        self.assertEqual(states["by_mark"], "failed")
        self.assertEqual(states["by_clear"], "success")  # the second try ran and ended
        self.assertEqual(len(self.pids("by_clear")), 3)  # two processes of the first try, the second's shell
        self.assertEqual(state, "failed")
        message = self.daemon.query("SELECT message FROM task_instance WHERE task_id = 'by_timeout'")[0][0]
        self.assertIn("timed out", message)
        logs = {}
        for folder, _, names in os.walk(self.daemon.logs):
            for name in names:
                if name == "attempt=1.log":
                    logs[folder.rsplit("task_id=", 1)[-1]] = read_text(os.path.join(folder, name))
        self.assertIn("timed out after 2s; ending the task's processes (SIGTERM, SIGKILL after 5s)", logs["by_timeout"])
        for name in ("by_clear", "by_mark"):
            self.assertIn("SIGKILL after 5s", logs[name], name)
        for name, pids in hung.items():
            self.assertEqual([p for p in pids if alive(p)], [], name)
        self.assertIsNone(self.daemon.process.poll())


if __name__ == "__main__":
    unittest.main(verbosity=2)
