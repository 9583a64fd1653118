"""doit's side of bench/peers/run: the workload's graph comes from the JSON file named by the
PEERS_GRAPH environment variable (written by bench/peers/run). One doit task per graph task,
as sub-tasks of `peers`; upstream tasks are task_dep. A task has no file_dep, so doit runs it
every time. `command` tasks have one cmd-action (a string: doit runs it with the shell), `empty`
tasks have no action."""

import json
import os

DOIT_CONFIG = {"verbosity": 0}

GRAPH = json.load(open(os.environ["PEERS_GRAPH"]))


def task_peers():
    for task in GRAPH["tasks"]:
        yield {
            "name": task["id"],
            # doit fills a command string in with `%` (dependencies, targets): `%` is written `%%`.
            "actions": [task["command"].replace("%", "%%")] if task["kind"] == "command" else [],
            "task_dep": ["peers:" + d for d in task["deps"]],
            "verbosity": 0,
        }
