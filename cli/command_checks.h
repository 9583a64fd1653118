#pragma once
// What a command to the scheduler can check before it is queued, so that a mistake fails at once
// — with or without a running scheduler — instead of waiting in the queue for one to start.

#include <string>

namespace mayaflow::cli {

// The DAG is in the database and active (CommandFailed otherwise, saying why: unknown, renamed,
// its file gone).
void require_dag_takes_runs(const std::string& dag_id);

// The DAG is in the database, active or not (clearing and marking work on a retired DAG's runs).
void require_known_dag(const std::string& dag_id);

}  // namespace mayaflow::cli
