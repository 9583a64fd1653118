#!/usr/bin/python3
"""Toil's side of bench/peers/run: toil_flow.py GRAPH_JSON JOB_STORE WORK_DIR [CORES].

One Toil job per graph task; a task with several upstream tasks is the child of each of them
(Toil runs it once all have finished). Tasks without upstream tasks are children of one root job
that does nothing, as Toil starts from one job. `command` jobs run their command with
subprocess (`true` is exec'd directly, anything else through /bin/sh); `empty` jobs return at
once. Toil's single-machine batch system, each job asking for 1 core, --maxCores CORES (2): at
most 2 jobs at a time."""

import json
import subprocess
import sys

from toil.common import Toil
from toil.job import Job


def run_task(job, command):
    if command == "true":
        subprocess.run(["true"], check=True)
    elif command:
        subprocess.run(command, shell=True, check=True)


def main():
    graph_path, job_store, work_dir = sys.argv[1:4]
    cores = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    with open(graph_path) as f:
        graph = json.load(f)
    options = Job.Runner.getDefaultOptions(job_store)
    options.batchSystem = "single_machine"
    options.maxCores = cores
    options.defaultCores = 1
    options.defaultMemory = "64M"
    options.defaultDisk = "1M"
    options.workDir = work_dir
    options.clean = "always"
    options.logLevel = "ERROR"
    options.retryCount = 0
    jobs = {}
    for task in graph["tasks"]:
        command = task["command"] if task["kind"] == "command" else None
        jobs[task["id"]] = Job.wrapJobFn(run_task, command, cores=1, memory="64M", disk="1M")
    root = Job(cores=1, memory="64M", disk="1M")
    for task in graph["tasks"]:
        if not task["deps"]:
            root.addChild(jobs[task["id"]])
        for d in task["deps"]:
            jobs[d].addChild(jobs[task["id"]])
    with Toil(options) as toil:
        toil.start(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
