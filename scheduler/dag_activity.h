#pragma once
// Whether a DAG can be given new runs, as its record in the store says: it must exist and be
// active. A DAG whose file now defines another dag_id (a rename) or whose file is gone is inactive,
// as in Airflow: it keeps its history but takes no triggers and no backfills.

#include <string>

#include "engine/store/store.h"
#include "engine/util/result.h"

namespace mayaflow {

// Success, or an error that says why not and what to do: "no DAG with dag_id 'x' …", "DAG 'x' is
// not active: its file … now defines 'y' …", "DAG 'x' is not active: its file … is gone …".
Status check_dag_takes_runs(Store& store, const std::string& dag_id);

// The reason a DAG retired from memory gives (the scheduler core's copy of the message above).
std::string renamed_dag_reason(const std::string& fileloc, const std::string& new_dag_id);

}  // namespace mayaflow
