"""The DAG folder of bench/soak: DAGs on one-minute schedules whose tasks fail at random and retry.

Three kinds, taken in turn (of every 10 DAGs: 6 shell, 3 BigQuery, 1 fan):
  shell     extract -> report: bash; extract fails one try in four (exit 3) and has 2 retries
  bigquery  query -> publish: a bigquery_query job against the stand-in (one try in six asks for a
            column that does not exist, so the job fails and the try is retried), then bash
  fan       extract -> transform_1..4 (for_each) -> load: bash, each transform fails one try in five

`upstream` maps each kind's task ids to the ids they depend on, for the task lag the soak computes
from the store (a task's start - the end of its last upstream task, or its run's start)."""

import datetime
import os

KINDS = ["shell"] * 6 + ["bigquery"] * 3 + ["fan"]

HEAD = """dag_id: {dag_id}
description: "bench/soak: {kind}"
schedule: "* * * * *"
start_date: "{start_date}"
catchup: false
max_active_runs: 4
tags: [soak, {kind}]
default_args:
  retries: 2
  retry_delay: 5s
  execution_timeout: 2m
tasks:
"""

# $RANDOM is bash's; a failed try prints why, so the logs the API clients read have both outcomes.
SHELL = """  - task_id: extract
    operator: bash
    bash_command: |
      echo "extract for {{{{ ds }}}} ({{{{ run_id }}}})"
      for i in 1 2 3 4 5; do echo "row $i of the extract"; done
      sleep 0.$((RANDOM % 8))
      if [ $((RANDOM % 4)) -eq 0 ]; then echo "extract failed on purpose" >&2; exit 3; fi
  - task_id: report
    operator: bash
    depends_on: extract
    bash_command: echo "report of {{{{ ts }}}}"
"""

BIGQUERY = """  - task_id: query
    operator: bigquery_query
    sql: >-
      {{% if [0, 1, 2, 3, 4, 5] | random == 0 %}}SELECT no_such_column
      {{% else %}}SELECT @n AS n, '{{{{ ds }}}}' AS day{{% endif %}}
    query_params: {{n: {number}}}
  - task_id: publish
    operator: bash
    depends_on: query
    bash_command: echo "published {dag_id} for {{{{ ds }}}}"
"""

FAN = """  - task_id: extract
    operator: bash
    bash_command: echo "extract {{{{ run_id }}}}"
  - task_id: "transform_{{{{ item }}}}"
    operator: bash
    for_each: [1, 2, 3, 4]
    depends_on: extract
    bash_command: |
      echo "transform {{{{ item }}}}"
      sleep 0.$((RANDOM % 5))
      if [ $((RANDOM % 5)) -eq 0 ]; then echo "transform failed on purpose" >&2; exit 4; fi
  - task_id: load
    operator: bash
    depends_on: "transform_*"
    bash_command: echo "loaded"
"""

UPSTREAM = {
    "shell": {"extract": [], "report": ["extract"]},
    "bigquery": {"query": [], "publish": ["query"]},
    "fan": dict({"extract": [], "load": ["transform_%d" % i for i in range(1, 5)]},
                **{"transform_%d" % i: ["extract"] for i in range(1, 5)}),
}


def dag_id(number):
    return "soak_%02d_%s" % (number, KINDS[number % len(KINDS)])


def write_dags(folder, count):
    """Writes `count` DAG files; returns {dag_id: kind}."""
    start_date = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    dags = {}
    for number in range(count):
        kind = KINDS[number % len(KINDS)]
        name = dag_id(number)
        body = {"shell": SHELL, "bigquery": BIGQUERY, "fan": FAN}[kind]
        text = HEAD.format(dag_id=name, kind=kind, start_date=start_date) + body.format(dag_id=name, number=number)
        with open(os.path.join(folder, name + ".yaml"), "w") as f:
            f.write(text)
        dags[name] = kind
    return dags
