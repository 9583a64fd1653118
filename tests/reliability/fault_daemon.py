"""The real daemon with tests/reliability/fault_shim.c preloaded: a test writes the shim's control file
(set_faults) to make the daemon's writes fail or its wall clock jump, and clears it again. What the
shim reads is described at the top of fault_shim.c; docs/reliability.md lists the cases."""

import json
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from daemon import MAYAFLOW, Daemon, read_text, wait_for  # noqa: E402,F401

SHIM = os.environ.get("MAYAFLOW_FAULT_SHIM") or os.path.join(os.path.dirname(os.path.abspath(MAYAFLOW)), "tests",
                                                             "libmayaflow_fault_shim.so")
STORE_SUFFIXES = ("mayaflow.db", "mayaflow.db-wal", "mayaflow.db-journal")


class FaultDaemon(Daemon):
    """A Daemon whose process (and every task it starts) runs with the fault shim preloaded. The CLI
    commands a test runs through cli() run without it."""

    def __init__(self, copy_examples=False, env=None):
        if not os.path.exists(SHIM):
            raise RuntimeError("the fault shim %s is not built (cmake --build <dir> --target mayaflow_fault_shim)" % SHIM)
        super().__init__(copy_examples=copy_examples, env=env)
        self.faults = os.path.join(self.home, "faults")
        self.fault_count = os.path.join(self.home, "faults.count")
        asan = self.env.get("ASAN_OPTIONS", "")
        self.env.update(LD_PRELOAD=SHIM, MAYAFLOW_FAULTS=self.faults, MAYAFLOW_FAULTS_COUNT=self.fault_count,
                        ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")
        self.database = os.path.join(self.home, "mayaflow.db")
        self.logs = os.path.join(self.home, "logs")

    def set_faults(self, **settings):
        """Writes the control file: write="ENOSPC", prefix=[...], suffix=[...], probability=0.3 ...
        Lists give one line per item. Nothing given: no fault."""
        lines = []
        for key, value in settings.items():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                lines.append("%s %s" % (key, item))
        tmp = self.faults + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, self.faults)
        time.sleep(0.05)  # the shim looks at its control file every 20 ms at most

    def clear_faults(self):
        self.set_faults()

    def fault_hits(self):
        """How many calls the shim has failed so far."""
        text = read_text(self.fault_count).strip()
        return int(text) if text else 0

    def cli(self, *args, check=False):
        saved = self.env
        self.env = {k: v for k, v in saved.items() if k not in ("LD_PRELOAD", "MAYAFLOW_FAULTS", "MAYAFLOW_FAULTS_COUNT")}
        try:
            return super().cli(*args, check=check)
        finally:
            self.env = saved

    def query(self, sql, *parameters):
        connection = sqlite3.connect(self.database, timeout=10)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()

    def run_state(self, dag_id, run_id):
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, run_id)
        return rows[0][0] if rows else None

    def wait_for_run(self, dag_id, run_id, timeout=60):
        """Waits until the run has ended; returns its state."""
        return wait_for(lambda: self.run_state(dag_id, run_id) in ("success", "failed") and self.run_state(dag_id, run_id),
                        timeout=timeout, interval=0.2)[0]

    def task_states(self, dag_id, run_id):
        return dict(self.query("SELECT t.task_id, t.state FROM task_instance t JOIN dag_run r ON r.id = t.run_pk "
                               "WHERE r.dag_id = ? AND r.run_id = ?", dag_id, run_id))

    def trigger(self, dag_id, run_id):
        status, _, body = self.http("/api/v1/dags/%s/dagRuns" % dag_id, method="POST",
                                    body=json.dumps({"dag_run_id": run_id}))
        if status != 200:
            raise AssertionError("trigger of %s answered %d: %s" % (dag_id, status, body))

    def unpause(self, dag_id):
        status, _, body = self.http("/api/v1/dags/%s" % dag_id, method="PATCH", body=json.dumps({"is_paused": False}))
        if status != 200:
            raise AssertionError("unpause of %s answered %d: %s" % (dag_id, status, body))

    def integrity(self):
        return self.query("PRAGMA integrity_check")[0][0]


def appending_dag(out, chains, length, dag_id=None, extra_task_lines=()):
    """A DAG of `chains` chains of `length` bash tasks; each appends its id to `out` once per try
    that runs it, so the file tells which tasks ran twice and which never did."""
    lines = ["max_active_tasks: 16", "tasks:"]
    if dag_id:
        lines.insert(0, "dag_id: %s" % dag_id)
    for chain in range(chains):
        for step in range(length):
            task_id = "c%02d_s%02d" % (chain, step)
            lines += ["  - task_id: %s" % task_id, "    operator: bash", "    retries: 2", "    retry_delay: 1s",
                      "    bash_command: echo %s >> %s" % (task_id, out)]
            lines += ["    " + line for line in extra_task_lines]
            if step:
                lines.append("    depends_on: [c%02d_s%02d]" % (chain, step - 1))
    return "\n".join(lines) + "\n"
