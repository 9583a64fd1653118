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

nlohmann::json calls_json(const std::vector<NotifierCall>& calls) {
    auto list = nlohmann::json::array();
    for (const auto& call : calls) {
        list.push_back({{"notifier", call.notifier},
                        {"params", call.params},
                        {"defined_at", {{"file", call.defined_at.file}, {"line", call.defined_at.line}}}});
    }
    return list;
}

// Written only when there are callbacks, so DAGs without them store and show what they did before.
void add_callbacks(nlohmann::json& json, const Callbacks& callbacks) {
    if (callbacks.empty()) return;
    if (!callbacks.on_failure.empty()) json["on_failure_callback"] = calls_json(callbacks.on_failure);
    if (!callbacks.on_retry.empty()) json["on_retry_callback"] = calls_json(callbacks.on_retry);
    if (!callbacks.on_success.empty()) json["on_success_callback"] = calls_json(callbacks.on_success);
}

}  // namespace

nlohmann::json to_json(const Task& task) {
    nlohmann::json json = {
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
    add_callbacks(json, task.callbacks);
    return json;
}

nlohmann::json to_json(const Dag& dag) {
    auto tasks = nlohmann::json::array();
    for (const auto& task : dag.tasks) tasks.push_back(to_json(task));
    nlohmann::json json = {
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
    add_callbacks(json, dag.callbacks);
    return json;
}

namespace {

Duration from_seconds(const nlohmann::json& value) {
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(value.get<double>()));
}

std::optional<Duration> optional_seconds_from(const nlohmann::json& value) {
    if (value.is_null()) return std::nullopt;
    return from_seconds(value);
}

Result<std::optional<Instant>> optional_instant_from(const nlohmann::json& value) {
    if (value.is_null()) return std::optional<Instant>();
    auto parsed = parse_datetime(value.get<std::string>(), TimeZone::utc());
    if (!parsed) return parsed.error();
    return std::optional<Instant>(*parsed);
}

std::vector<NotifierCall> calls_from_json(const nlohmann::json& json, const char* key) {
    std::vector<NotifierCall> calls;
    if (!json.contains(key)) return calls;
    for (const auto& item : json.at(key)) {
        NotifierCall call;
        call.notifier = item.at("notifier").get<std::string>();
        call.params = item.at("params");
        if (item.contains("defined_at")) {
            call.defined_at.file = item["defined_at"].value("file", "");
            call.defined_at.line = item["defined_at"].value("line", 0);
        }
        calls.push_back(std::move(call));
    }
    return calls;
}

Callbacks callbacks_from_json(const nlohmann::json& json) {
    return Callbacks{.on_failure = calls_from_json(json, "on_failure_callback"),
                     .on_retry = calls_from_json(json, "on_retry_callback"),
                     .on_success = calls_from_json(json, "on_success_callback")};
}

Task task_from_json(const nlohmann::json& json) {
    Task task;
    task.task_id = json.at("task_id").get<std::string>();
    task.operator_name = json.at("operator").get<std::string>();
    task.group_id = json.value("group_id", "");
    task.upstream = json.at("upstream_task_ids").get<std::vector<std::string>>();
    task.downstream = json.at("downstream_task_ids").get<std::vector<std::string>>();
    task.trigger_rule = parse_trigger_rule(json.at("trigger_rule").get<std::string>()).value_or(TriggerRule::all_success);
    task.retry.retries = json.at("retries").get<int>();
    task.retry.retry_delay = from_seconds(json.at("retry_delay"));
    task.retry.exponential_backoff = json.at("retry_exponential_backoff").get<bool>();
    task.retry.max_retry_delay = optional_seconds_from(json.at("max_retry_delay"));
    task.execution_timeout = optional_seconds_from(json.at("execution_timeout"));
    task.pool = json.at("pool").get<std::string>();
    task.pool_slots = json.at("pool_slots").get<int>();
    task.priority_weight = json.at("priority_weight").get<int>();
    auto rule = json.at("weight_rule").get<std::string>();
    task.weight_rule = rule == "upstream" ? WeightRule::upstream : rule == "absolute" ? WeightRule::absolute : WeightRule::downstream;
    task.depends_on_past = json.at("depends_on_past").get<bool>();
    task.owner = json.value("owner", "");
    task.doc_md = json.value("doc_md", "");
    task.params = json.at("params");
    task.loop_vars = json.at("loop_vars");
    task.callbacks = callbacks_from_json(json);
    if (json.contains("defined_at")) {
        task.defined_at.file = json["defined_at"].value("file", "");
        task.defined_at.line = json["defined_at"].value("line", 0);
    }
    return task;
}

}  // namespace

Result<Dag> dag_from_json(const nlohmann::json& json) {
    try {
        Dag dag;
        dag.dag_id = json.at("dag_id").get<std::string>();
        dag.description = json.value("description", "");
        dag.doc_md = json.value("doc_md", "");
        dag.owner = json.value("owner", "");
        dag.fileloc = json.value("fileloc", "");
        dag.source_hash = json.value("source_hash", "");
        if (!json.at("schedule").is_null()) {
            auto schedule = Schedule::parse(json["schedule"].get<std::string>());
            if (!schedule) return schedule.error();
            dag.schedule = *schedule;
        }
        auto zone = TimeZone::find(json.at("timezone").get<std::string>());
        if (!zone) return zone.error();
        dag.timezone = *zone;
        auto start = optional_instant_from(json.at("start_date"));
        if (!start) return start.error();
        dag.start_date = *start;
        auto end = optional_instant_from(json.at("end_date"));
        if (!end) return end.error();
        dag.end_date = *end;
        dag.catchup = json.at("catchup").get<bool>();
        dag.max_active_runs = json.at("max_active_runs").get<int>();
        dag.max_active_tasks = json.at("max_active_tasks").get<int>();
        dag.dagrun_timeout = optional_seconds_from(json.at("dagrun_timeout"));
        dag.is_paused_upon_creation = json.value("is_paused_upon_creation", false);
        dag.tags = json.at("tags").get<std::vector<std::string>>();
        dag.params = json.at("params");
        dag.callbacks = callbacks_from_json(json);
        for (const auto& task : json.at("tasks")) dag.tasks.push_back(task_from_json(task));
        dag.index_tasks();
        return dag;
    } catch (const nlohmann::json::exception& e) {
        return make_error("stored DAG version is not readable: {}", e.what());
    }
}

}  // namespace mayaflow
