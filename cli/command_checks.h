#pragma once
// What a command to the scheduler can check before it is queued, so that a mistake fails at once
// — with or without a running scheduler — instead of waiting in the queue for one to start.

#include <string>

#include "engine/store/run_store.h"

namespace mayaflow::cli {

// The DAG is in the database and active (CommandFailed otherwise, saying why: unknown, renamed,
// its file gone).
void require_dag_takes_runs(const std::string& dag_id);

// The DAG is in the database, active or not (clearing and marking work on a retired DAG's runs).
void require_known_dag(const std::string& dag_id);

// The DAG has this run; returned with its task instances.
DagRunRow require_run(const std::string& dag_id, const std::string& run_id);

// No run of the DAG has this run id or this logical date (Airflow's DagRunAlreadyExists).
void require_no_run_like(const std::string& dag_id, const std::string& run_id, Instant logical_date);

// The backfill exists and has not completed.
void require_backfill_under_way(long long id);

}  // namespace mayaflow::cli
