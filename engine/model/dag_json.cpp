#include "engine/model/dag_json.h"

#include "engine/time/duration_text.h"
#include "engine/time/iso8601.h"

namespace mayaflow {
namespace {

nlohmann::json seconds(Duration duration) { return std::chrono::duration<double>(duration).count(); }

nlohmann::json optional_seconds(const std::optional<Duration>& duration) {
    return duration ? seconds(*duration) : nlohmann::json(nullptr);
}

nlohmann::json optional_instant(const std::optional<Instant>& instant) {
    return instant ? nlohmann::json(format_iso8601(*instant, TimeZone::utc())) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const Task& task) {
    return {
        {"task_id", task.task_id},
        {"operator", task.operator_name},
        {"group_id", task.group_id},
        {"upstream_task_ids", task.upstream},
        {"downstream_task_ids", task.downstream},
        {"trigger_rule", std::string(to_string(task.trigger_rule))},
        {"retries", task.retry.retries},
        {"retry_delay", seconds(task.retry.retry_delay)},
        {"retry_exponential_backoff", task.retry.exponential_backoff},
        {"max_retry_delay", optional_seconds(task.retry.max_retry_delay)},
        {"execution_timeout", optional_seconds(task.execution_timeout)},
        {"pool", task.pool},
        {"pool_slots", task.pool_slots},
        {"priority_weight", task.priority_weight},
        {"weight_rule", std::string(to_string(task.weight_rule))},
        {"depends_on_past", task.depends_on_past},
        {"owner", task.owner},
        {"doc_md", task.doc_md},
        {"params", task.params},
        {"loop_vars", task.loop_vars},
        {"defined_at", {{"file", task.defined_at.file}, {"line", task.defined_at.line}}},
    };
}

nlohmann::json to_json(const Dag& dag) {
    auto tasks = nlohmann::json::array();
    for (const auto& task : dag.tasks) tasks.push_back(to_json(task));
    return {
        {"dag_id", dag.dag_id},
        {"description", dag.description},
        {"doc_md", dag.doc_md},
        {"owner", dag.owner},
        {"fileloc", dag.fileloc},
        {"source_hash", dag.source_hash},
        {"schedule", dag.schedule.kind() == Schedule::Kind::none ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(dag.schedule.text())},
        {"timezone", dag.timezone.name()},
        {"start_date", optional_instant(dag.start_date)},
        {"end_date", optional_instant(dag.end_date)},
        {"catchup", dag.catchup},
        {"max_active_runs", dag.max_active_runs},
        {"max_active_tasks", dag.max_active_tasks},
        {"dagrun_timeout", optional_seconds(dag.dagrun_timeout)},
        {"is_paused_upon_creation", dag.is_paused_upon_creation},
        {"tags", dag.tags},
        {"params", dag.params},
        {"tasks", tasks},
    };
}

}  // namespace mayaflow
