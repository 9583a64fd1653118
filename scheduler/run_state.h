#pragma once
// The state a DAG run ends in, decided from its task instances' states by Airflow's rule: once every
// task is finished, the run failed if any leaf task (one with no downstream task) failed or is
// upstream_failed, and succeeded otherwise. Only leaves count, so a failure that a downstream
// all_done or one_failed task handled does not fail the run.

#include <optional>
#include <vector>

#include "engine/model/dag.h"
#include "engine/model/states.h"

namespace mayaflow {

// `states` is aligned with dag.tasks (std::invalid_argument when the sizes differ). Returns
// std::nullopt while any task is unfinished, whether or not it can still make progress: a run whose
// unfinished tasks can never become ready (a deadlock, e.g. an all_success task below a removed one)
// is for the scheduler core to find and fail. Leaves in `removed` are left out, as in Airflow; a run
// with no leaves left (or no tasks) succeeds. Leaves are found from the tasks' `upstream` lists.
std::optional<RunState> decide_run_state(const Dag& dag, const std::vector<TaskState>& states);

}  // namespace mayaflow
