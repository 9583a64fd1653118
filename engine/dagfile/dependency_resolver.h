#pragma once
// DependencyResolver turns depends_on names into edges between tasks: a name is a task id or a
// group id (looked up in the group it was written in, then outward) or a glob pattern; depending
// on a group means depending on its last tasks, and a group's own depends_on applies to its first
// tasks, as Airflow's `group >> task` does. It then orders the tasks so that every task follows its
// upstream tasks, or reports the cycle that prevents it.

#include <vector>

#include "engine/dagfile/field_reader.h"
#include "engine/dagfile/task_blueprint.h"

namespace mayaflow {

// Fills each task's upstream and downstream lists and returns the tasks in a topological order.
// Records errors for unknown names, self-dependencies and cycles (with the cycle printed).
std::vector<Task> resolve_dependencies(DagBlueprint blueprint, FieldReader& reader);

}  // namespace mayaflow
