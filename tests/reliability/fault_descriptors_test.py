"""Fault injection, file descriptors: the daemon runs under an open-file limit of 64 (soft and hard)
with a DAG of 40 tasks and parallelism 64, far more tries than it has descriptors to watch. What must
hold: at start it says the limit is too low and lowers the parallelism to what fits (its workers
could otherwise hold every descriptor while each waits for one more); no task's command runs twice
(a try whose process was started is never given up for want of a descriptor to watch it with: its
retry would run the command again beside the first); every task succeeds, the run ends `success`,
the store stays consistent and the daemon keeps running."""

import collections
import os
import resource
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import FaultDaemon, read_text  # noqa: E402

TASKS = 40
LIMIT = 64


def wide_dag(out):
    lines = ["dag_id: wide", "max_active_tasks: 200", "tasks:"]
    for i in range(TASKS):
        lines += ["  - task_id: t%03d" % i, "    operator: bash", "    retries: 3", "    retry_delay: 1s",
                  "    bash_command: echo t%03d >> %s; sleep 0.5" % (i, out)]
    return "\n".join(lines) + "\n"


def low_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


class DescriptorsTest(unittest.TestCase):
    def setUp(self):
        self.daemon = FaultDaemon(env={"MAYAFLOW_PARALLELISM": "64"})
        self.daemon.preexec_fn = low_limit
        self.out = os.path.join(self.daemon.home, "out.txt")
        self.daemon.write_dag("wide.yaml", wide_dag(self.out))

    def tearDown(self):
        self.daemon.cleanup()

    def test_out_of_descriptors_runs_each_command_once(self):
        self.daemon.start()
        # Through the CLI: while descriptors are short the web server refuses and closes connections
        # (docs/web-server.md), and the answer to an HTTP trigger may be among them.
        self.daemon.cli("dags", "trigger", "wide", "-r", "r1", check=True)
        state = self.daemon.wait_for_run("wide", "r1", timeout=100)
        ran = collections.Counter(read_text(self.out).split())
        twice = sorted(task for task, times in ran.items() if times > 1)
        log = self.daemon.read_log()
        print("under a limit of %d descriptors: run %s, %d tasks ran, %d more than once, %d waits for a "
              "descriptor in the log" % (LIMIT, state, len(ran), len(twice), log.count("no file descriptor left")),
              file=sys.stderr)
        self.assertIn("the open-file limit is %d descriptors, too few for parallelism 64: running at most 1 task at "
                      "once" % LIMIT, log)
        self.assertEqual(twice, [], "commands that ran more than once")
        self.assertEqual(state, "success", self.daemon.query(
            "SELECT task_id, state, message FROM task_instance WHERE state != 'success' LIMIT 5"))
        self.assertEqual(len(ran), TASKS)
        self.assertIsNone(self.daemon.process.poll())
        self.assertEqual(self.daemon.integrity(), "ok")
        self.assertNotIn("Sanitizer", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
