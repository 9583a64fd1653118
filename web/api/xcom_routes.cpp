// …/taskInstances/{task_id}/xcomEntries: a task's result in Airflow's XCom shapes. mayaflow keeps
// one result per task instance (what the operator returned, TaskInstanceRow::result), which is
// Airflow's `return_value` key; no other key exists.

#include <fmt/format.h>

#include <algorithm>

#include "engine/time/iso8601.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/run_shapes.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

constexpr const char* kReturnValue = "return_value";

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

struct FoundTask {
    DagRunRow run;
    TaskInstanceRow task;
};

Read<FoundTask> find_task(ApiContext& context, const ApiRequest& request) {
    const std::string& dag_id = request.param("dag_id");
    const std::string& run_id = request.param("dag_run_id");
    const std::string& task_id = request.param("task_id");
    for (const char* name : {"dag_id", "dag_run_id", "task_id"}) {
        if (request.param(name) == "~") {
            return bad_request(fmt::format("{} '~' (every one) is not taken here: mayaflow keeps one result per task "
                                           "instance, read from the task instance its DAG, run and task name",
                                           name));
        }
    }
    MAYAFLOW_READ(run, find_run_or_404(context, dag_id, run_id, true));
    auto& tasks = run.task_instances;
    auto task = std::find_if(tasks.begin(), tasks.end(), [&](const TaskInstanceRow& row) { return row.task_id == task_id; });
    if (task != tasks.end()) {
        FoundTask found;
        found.task = std::move(*task);
        tasks.clear();
        found.run = std::move(run);
        return found;
    }
    return not_found(fmt::format("run '{}' of DAG '{}' has no task '{}'", escape_invalid_utf8(run_id),
                                 escape_invalid_utf8(dag_id), escape_invalid_utf8(task_id)));
}

// Airflow's XComCollectionItem: what a list shows of an entry (not its value).
nlohmann::json entry_json(const FoundTask& found) {
    const Instant logical = found.run.logical_date.value_or(found.run.run_after);
    const Instant written = found.task.end_date.value_or(found.task.start_date.value_or(logical));
    return {{"dag_id", found.run.dag_id},
            {"task_id", found.task.task_id},
            {"execution_date", iso(logical)},
            {"timestamp", iso(written)},
            {"map_index", -1},
            {"key", kReturnValue}};
}

// map_index, as Airflow takes it: -1 (no mapping) or absent; another number matches nothing.
Read<bool> matches_map_index(const ApiRequest& request) {
    auto map_index = request.query_value("map_index");
    if (!map_index || *map_index == "-1") return true;
    if (map_index->empty() || map_index->find_first_not_of("-0123456789") != std::string::npos) {
        return bad_request(fmt::format("map_index '{}' is not a whole number; mayaflow's task instances all have "
                                       "map_index -1",
                                       escape_invalid_utf8(*map_index)));
    }
    return false;
}

WebResponse list_entries(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    auto mapped = matches_map_index(request);
    if (failed(mapped)) return std::get<WebResponse>(mapped);
    auto found = find_task(context, request);
    if (failed(found)) return std::get<WebResponse>(found);
    const auto& task = std::get<FoundTask>(found);
    std::vector<FoundTask> entries;
    const auto key = request.query_value("xcom_key");
    if (!task.task.result.is_null() && std::get<bool>(mapped) && (!key || *key == kReturnValue)) entries.push_back(task);
    return json_response({{"xcom_entries", page_of(entries, std::get<Page>(page), entry_json)},
                          {"total_entries", entries.size()}});
}

WebResponse get_entry(ApiContext& context, const ApiRequest& request) {
    auto mapped = matches_map_index(request);
    if (failed(mapped)) return std::get<WebResponse>(mapped);
    // Airflow's: a value as text (stringify, the default) or as the JSON it is; deserialize only
    // matters to custom XCom backends, which mayaflow has none of.
    auto stringify = read_bool(request, "stringify");
    if (failed(stringify)) return std::get<WebResponse>(stringify);
    auto deserialize = read_bool(request, "deserialize");
    if (failed(deserialize)) return std::get<WebResponse>(deserialize);
    auto found = find_task(context, request);
    if (failed(found)) return std::get<WebResponse>(found);
    const auto& task = std::get<FoundTask>(found);
    const std::string& key = request.param("xcom_key");
    if (key != kReturnValue) {
        return not_found(fmt::format("task '{}' has no XCom '{}': mayaflow keeps one result per task instance, under "
                                     "the key return_value",
                                     escape_invalid_utf8(task.task.task_id), escape_invalid_utf8(key)));
    }
    if (task.task.result.is_null() || !std::get<bool>(mapped)) {
        return not_found(fmt::format("task '{}' of run '{}' has no return_value: it has returned nothing (state {})",
                                     escape_invalid_utf8(task.task.task_id), escape_invalid_utf8(task.run.run_id),
                                     to_string(task.task.state)));
    }
    auto body = entry_json(task);
    const bool as_text = std::get<std::optional<bool>>(stringify).value_or(true);
    body["value"] = as_text ? nlohmann::json(dump_json(task.task.result)) : task.task.result;
    return json_response(body);
}

}  // namespace

void add_xcom_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries",
              {Resource::xcom, Action::read}, [&context](const ApiRequest& request) { return list_entries(context, request); });
    table.add("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}",
              {Resource::xcom, Action::read}, [&context](const ApiRequest& request) { return get_entry(context, request); });
}

}  // namespace mayaflow
