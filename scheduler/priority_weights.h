#pragma once
// The priority weight each task is queued with, which decides who gets a free pool slot first.
// As in Airflow, a task's weight_rule says whose priority_weight it adds to its own: `downstream`
// (the default) adds every task downstream of it, `upstream` every task upstream of it, `absolute`
// none. Each relative counts once, however many paths lead to it; the sum is clamped to the 32-bit
// range that Airflow stores.

#include <vector>

#include "engine/model/dag.h"

namespace mayaflow {

// One weight per task, aligned with dag.tasks. Edges come from the tasks' `upstream` lists (ids that
// name no task are ignored); the order of dag.tasks does not matter. Costs O(V + E·V/64) word
// operations and 256 bytes of scratch memory per task; a 10,000-task DAG takes milliseconds. The
// DAG must be acyclic, as the loader guarantees; with a cycle, the weights on it are unspecified.
std::vector<long long> effective_priority_weights(const Dag& dag);

}  // namespace mayaflow
