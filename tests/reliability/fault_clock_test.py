"""Fault injection, the wall clock jumps (CLOCK_REALTIME only; the monotonic clock runs on): an hour
forward, back, back past where it started, forward again, as an NTP correction or a VM restored from
a snapshot would move it. Two hourly DAGs that started two hours ago, one with catchup and one
without. What must hold: each schedule creates the run of an interval once it has ended on the
clock as it reads then, never a second run of the same interval (however often the clock passes it
again) and never skips one; every run succeeds. And a task's execution_timeout is measured on the
monotonic clock: a try that hangs times out on time although the clock went back an hour while it
ran, and a try the clock jumped forward over is not timed out for it."""

import datetime
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_daemon import FaultDaemon, wait_for  # noqa: E402

HOUR = datetime.timedelta(hours=1)
QUIET = 2.5  # how long nothing new must happen after a jump that must create nothing


def hourly(dag_id, start, catchup):
    return ("dag_id: %s\nschedule: '@hourly'\nstart_date: %s\ncatchup: %s\ntasks:\n"
            "  - task_id: t\n    operator: bash\n    bash_command: 'true'\n"
            % (dag_id, start.strftime("%Y-%m-%dT%H:%M:%SZ"), "true" if catchup else "false"))


TIMEOUTS = """dag_id: timeouts
tasks:
  - task_id: hangs
    operator: bash
    execution_timeout: 3s
    bash_command: sleep 60
"""

LONG_TASK = """dag_id: long_task
tasks:
  - task_id: jumped_over
    operator: bash
    execution_timeout: 60s
    bash_command: sleep 4
"""


class ClockJumpTest(unittest.TestCase):
    def setUp(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        if now.minute == 59 and now.second > 30:  # the hour must not end during the test
            time.sleep(61 - now.second)
            now = datetime.datetime.now(datetime.timezone.utc)
        self.hour = now.replace(minute=0, second=0, microsecond=0)
        self.daemon = FaultDaemon()
        self.daemon.write_dag("catchup.yaml", hourly("hourly_catchup", self.hour - 2 * HOUR, True))
        self.daemon.write_dag("latest.yaml", hourly("hourly_latest", self.hour - 2 * HOUR, False))
        self.daemon.write_dag("timeouts.yaml", TIMEOUTS)
        self.daemon.write_dag("long_task.yaml", LONG_TASK)

    def tearDown(self):
        self.daemon.cleanup()

    def logical_dates(self, dag_id):
        rows = self.daemon.query("SELECT r.logical_date FROM dag_run r WHERE r.dag_id = ? AND r.run_type = 'scheduled'",
                                 dag_id)
        return sorted(row[0] for row in rows)

    def expect(self, expected, quiet=False):
        """Waits until each DAG's scheduled runs are at the given intervals' starts (hours from now's
        hour); with quiet, also that nothing more comes for a while."""
        want = {dag_id: sorted(self.microseconds(self.hour + h * HOUR) for h in hours) for dag_id, hours in expected.items()}
        got = lambda: {dag_id: self.logical_dates(dag_id) for dag_id in want}  # noqa: E731
        try:
            wait_for(lambda: got() == want, timeout=15, interval=0.1)
            if quiet:
                time.sleep(QUIET)
        finally:
            shown = {d: [self.hours_from(v) for v in values] for d, values in got().items()}
            self.assertEqual(shown, expected)

    def microseconds(self, moment):
        return round(moment.timestamp() * 1000000)

    def hours_from(self, stored):
        return round((stored / 1000000 - self.hour.timestamp()) / 3600, 3)

    def jump(self, hours):
        self.daemon.set_faults(clock_offset=int(hours * 3600))

    def test_clock_jumps(self):
        self.daemon.start()
        catchup_latest = {"hourly_catchup": [-2, -1], "hourly_latest": [-1]}
        self.expect(catchup_latest)

        self.jump(+1)  # the interval [hour, hour+1) has ended
        self.expect({"hourly_catchup": [-2, -1, 0], "hourly_latest": [-1, 0]})

        # A try that hangs with the clock going back an hour under it times out 3 s after it started.
        self.daemon.trigger("timeouts", "t1")
        wait_for(lambda: self.daemon.task_states("timeouts", "t1").get("hangs") == "running", timeout=15)
        started = time.monotonic()
        self.jump(0)
        wait_for(lambda: self.daemon.task_states("timeouts", "t1").get("hangs") == "failed", timeout=15, interval=0.1)
        self.assertLess(time.monotonic() - started, 12)
        self.expect({"hourly_catchup": [-2, -1, 0], "hourly_latest": [-1, 0]}, quiet=True)

        self.jump(-1)  # back past where it started
        self.expect({"hourly_catchup": [-2, -1, 0], "hourly_latest": [-1, 0]}, quiet=True)

        # A try the clock jumps an hour forward over is not timed out for it (60 s timeout, 4 s task).
        self.daemon.trigger("long_task", "l1")
        wait_for(lambda: self.daemon.task_states("long_task", "l1").get("jumped_over") == "running", timeout=15)
        self.jump(+1)  # [hour, hour+1) has ended again: no second run of it
        self.expect({"hourly_catchup": [-2, -1, 0], "hourly_latest": [-1, 0]}, quiet=True)
        self.assertEqual(self.daemon.wait_for_run("long_task", "l1", timeout=20), "success")
        self.assertEqual(self.daemon.wait_for_run("timeouts", "t1", timeout=20), "failed")
        message = self.daemon.query("SELECT message FROM task_instance WHERE task_id = 'hangs'")[0][0]
        self.assertIn("timed out", message)

        self.jump(+2)  # [hour+1, hour+2) has ended
        self.expect({"hourly_catchup": [-2, -1, 0, 1], "hourly_latest": [-1, 0, 1]})

        for dag_id in ("hourly_catchup", "hourly_latest"):
            wait_for(lambda: all(r["state"] == "success" for r in self.daemon.runs(dag_id)), timeout=20, interval=0.2)
        self.assertIsNone(self.daemon.process.poll())
        self.assertEqual(self.daemon.integrity(), "ok")


if __name__ == "__main__":
    unittest.main(verbosity=2)
