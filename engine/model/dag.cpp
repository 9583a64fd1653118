#include "engine/model/dag.h"

namespace mayaflow {

std::string_view to_string(WeightRule rule) {
    switch (rule) {
        case WeightRule::downstream: return "downstream";
        case WeightRule::upstream: return "upstream";
        case WeightRule::absolute: return "absolute";
    }
    return "downstream";
}

const Task* Dag::find_task(std::string_view task_id) const {
    auto it = task_index_.find(std::string(task_id));
    return it == task_index_.end() ? nullptr : &tasks[it->second];
}

void Dag::index_tasks() {
    task_index_.clear();
    for (size_t i = 0; i < tasks.size(); ++i) task_index_.emplace(tasks[i].task_id, i);
}

}  // namespace mayaflow
