#include "scheduler/task_run_info.h"

namespace mayaflow {

tmpl::RunInfo task_run_info(const DagRunRow& run, const Dag& dag, const Task& task, int try_number) {
    tmpl::RunInfo info;
    info.dag_id = run.dag_id;
    info.task_id = task.task_id;
    info.run_id = run.run_id;
    info.logical_date = run.logical_date;
    info.data_interval_start = run.data_interval_start;
    info.data_interval_end = run.data_interval_end;
    info.start_date = run.start_date.value_or(run.queued_at);
    info.dag_timezone = dag.timezone;
    info.params = dag.params;
    info.conf = run.conf;
    info.loop_vars = task.loop_vars;
    info.try_number = try_number;
    info.run_type = run.run_type;
    return info;
}

Result<std::optional<DagRunRow>> previous_successful_run(RunStore& store, const DagRunRow& run) {
    if (!run.logical_date) return std::optional<DagRunRow>();
    auto previous = store.list_runs(RunFilter{.dag_id = run.dag_id, .state = RunState::success,
                                              .logical_to = *run.logical_date - std::chrono::microseconds(1),
                                              .limit = 1});
    if (!previous) return previous.error();
    if (previous->empty()) return std::optional<DagRunRow>();
    return std::optional<DagRunRow>(std::move(previous->front()));
}

void set_previous_success(tmpl::RunInfo& info, const std::optional<DagRunRow>& previous) {
    if (!previous) return;
    info.prev_data_interval_start_success = previous->data_interval_start;
    info.prev_data_interval_end_success = previous->data_interval_end;
    info.prev_start_date_success = previous->start_date;
    info.prev_end_date_success = previous->end_date;
}

std::shared_ptr<const TaskResults> results_of(const std::vector<TaskInstanceRow>& tasks) {
    auto results = std::make_shared<TaskResults>();
    for (const auto& task : tasks) {
        if (!task.result.is_null()) results->emplace(task.task_id, task.result);
    }
    return results;
}

void set_task_results(tmpl::RunInfo& info, std::shared_ptr<const TaskResults> results) {
    info.task_result = [results = std::move(results)](std::string_view task_id) -> std::optional<nlohmann::json> {
        auto it = results->find(task_id);
        if (it == results->end()) return std::nullopt;
        return it->second;
    };
}

}  // namespace mayaflow
