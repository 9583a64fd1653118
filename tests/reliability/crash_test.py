"""The crash test: a DAG of 200 bash tasks that append their id to a file; the daemon is killed with
SIGKILL at random moments 20 times and restarted. At the end every task is `success`, no task that
was recorded as succeeded before a kill ran again, and `mayaflow db check` is clean. A connection's
password is defined, and every task prints it: each task's output goes through the supervisor's
masking pipe, and no log holds the password."""

import collections
import os
import random
import signal
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from daemon import Daemon, read_text, wait_for  # noqa: E402

CHAINS, LENGTH, KILLS = 20, 10, 20
PASSWORD = "crash-pw-4417"


def crash_dag(out):
    lines = ["max_active_tasks: 64", "tasks:"]
    for chain in range(CHAINS):
        for step in range(LENGTH):
            task_id = "c%02d_s%02d" % (chain, step)
            lines += ["  - task_id: %s" % task_id,
                      "    operator: bash",
                      "    retries: 3",
                      "    retry_delay: 1s",
                      "    bash_command: sleep 0.$((RANDOM %% 9)); echo %s >> %s; echo pw=%s" % (task_id, out, PASSWORD)]
            if step:
                lines.append("    depends_on: [c%02d_s%02d]" % (chain, step - 1))
    return "\n".join(lines) + "\n"


class CrashTest(unittest.TestCase):
    def test_twenty_kills(self):
        seed = int(os.environ.get("MAYAFLOW_CRASH_SEED", time.time()))
        print("seed %d" % seed, file=sys.stderr)
        rng = random.Random(seed)
        daemon = Daemon(copy_examples=False, env={"MAYAFLOW_CONN_WAREHOUSE": "postgres://u:%s@h/db" % PASSWORD})
        try:
            out = os.path.join(daemon.home, "appended.txt")
            daemon.write_dag("crash.yaml", crash_dag(out))
            db = os.path.join(daemon.home, "mayaflow.db")
            daemon.start()
            daemon.cli("dags", "trigger", "crash", "--run-id", "crash_run", check=True)
            succeeded_before_kill = set()
            for kill in range(KILLS):
                time.sleep(rng.uniform(0.05, 0.4))
                with sqlite3.connect(db, timeout=10) as connection:
                    rows = connection.execute(
                        "SELECT task_id FROM task_instance WHERE state = 'success'").fetchall()
                succeeded_before_kill |= {row[0] for row in rows}
                print("kill %2d: %3d tasks succeeded so far" % (kill + 1, len(rows)), file=sys.stderr)
                daemon.process.send_signal(signal.SIGKILL)
                daemon.process.wait()
                daemon.start()
            def finished():
                with sqlite3.connect(db, timeout=10) as connection:
                    row = connection.execute("SELECT state FROM dag_run WHERE run_id = 'crash_run'").fetchone()
                return row and row[0] in ("success", "failed")
            wait_for(finished, timeout=240, interval=0.2)
            with sqlite3.connect(db, timeout=10) as connection:
                states = dict(connection.execute("SELECT task_id, state FROM task_instance").fetchall())
                messages = {t: m for t, s, m in connection.execute(
                    "SELECT task_id, state, message FROM task_instance WHERE state != 'success'").fetchall()}
                run_state = connection.execute("SELECT state FROM dag_run WHERE run_id = 'crash_run'").fetchone()[0]
            self.assertEqual(len(states), CHAINS * LENGTH)
            self.assertEqual({s for s in states.values()}, {"success"}, messages)
            self.assertEqual(run_state, "success")
            counts = collections.Counter(read_text(out).split())
            again = sorted(t for t in succeeded_before_kill if counts[t] != 1)
            self.assertEqual(again, [], "tasks recorded as succeeded before a kill ran again")
            repeated = sorted(t for t, n in counts.items() if n != 1)
            print("%d tasks; %d recorded as succeeded before some kill; %d ran more than once: %s"
                  % (len(states), len(succeeded_before_kill), len(repeated), repeated), file=sys.stderr)
            logs = [os.path.join(folder, name) for folder, _, names in os.walk(os.path.join(daemon.home, "logs"))
                    for name in names if name.endswith(".log")]
            self.assertGreaterEqual(len(logs), CHAINS * LENGTH)
            leaked = [path for path in logs if PASSWORD in read_text(path)]
            self.assertEqual(leaked, [], "logs that show the password")
            # Every task succeeded, so each has a log of a try that printed the password, masked.
            self.assertGreaterEqual(sum("pw=***" in read_text(path) for path in logs), CHAINS * LENGTH)
            check = daemon.cli("db", "check")
            self.assertEqual(check.returncode, 0, check.stderr)
            self.assertIn("integrity check ok", check.stdout)
        finally:
            daemon.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
