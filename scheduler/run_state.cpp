#include "scheduler/run_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace mayaflow {

std::optional<RunState> decide_run_state(const Dag& dag, const std::vector<TaskState>& states) {
    if (states.size() != dag.tasks.size()) {
        throw std::invalid_argument(fmt::format("decide_run_state: {} states for the {} tasks of DAG {}",
                                                states.size(), dag.tasks.size(), dag.dag_id));
    }
    if (!std::all_of(states.begin(), states.end(), is_finished)) return std::nullopt;

    std::unordered_set<std::string_view> has_downstream;
    for (const Task& task : dag.tasks) {
        for (const std::string& upstream_id : task.upstream) has_downstream.insert(upstream_id);
    }
    for (size_t i = 0; i < dag.tasks.size(); ++i) {
        if (has_downstream.contains(dag.tasks[i].task_id)) continue;
        if (states[i] == TaskState::failed || states[i] == TaskState::upstream_failed) {
            return RunState::failed;
        }
    }
    return RunState::success;
}

}  // namespace mayaflow
