// What the web UI needs that Airflow's API answers only one DAG at a time or not at all, under
// /api/v1/mayaflow/: the recent runs, run counts and next run of a page of DAGs in one request
// (the DAG list), a DAG's tasks with their groups and generating loops (the grid and graph), the
// next scheduled runs of a DAG from its timetable, and the stand-ins the daemon talks to instead of
// Google's and Firebase's services.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "engine/time/timetable.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace {

constexpr size_t kMaxSummaryDags = 1000;
constexpr int kDefaultRecentRuns = 10;
constexpr int kMaxRecentRuns = 50;
constexpr int kMaxScheduleCount = 100;

// A whole number from `low` to `high` named `name` in the query, or `fallback` when absent.
Read<int> small_count(const ApiRequest& request, const std::string& name, int fallback, int low, int high) {
    auto text = request.query_value(name);
    if (!text) return fallback;
    int value = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (error != std::errc() || end != text->data() + text->size() || value < low || value > high) {
        return bad_request(fmt::format("{} must be a whole number from {} to {}", name, low, high));
    }
    return value;
}

// The DAG's newest version, parsed once and kept in the daemon's cache of versions; null when it
// cannot be read.
std::shared_ptr<const Dag> newest_dag(ApiContext& context, const DagRecord& record) {
    DagVersions versions(context);
    const auto* entry = versions.find(record.dag_id, record.latest_version);
    return entry ? entry->dag : nullptr;
}

nlohmann::json run_info_json(const DagRunInfo& info) {
    return {{"logical_date", iso_utc(info.logical_date)},
            {"data_interval_start", iso_utc(info.interval.start)},
            {"data_interval_end", iso_utc(info.interval.end)},
            {"run_after", iso_utc(info.run_after)}};
}

// The next `count` runs the scheduler would create for the DAG, as its timetable computes them
// from the last scheduled run's data interval (the same call the scheduler makes).
Result<std::vector<DagRunInfo>> next_runs(ApiContext& context, const Dag& dag, int count) {
    std::vector<DagRunInfo> runs;
    if (dag.schedule.kind() == Schedule::Kind::none) return runs;
    auto last_stored = context.runs.latest_automated_interval(dag.dag_id);
    if (!last_stored) return last_stored.error();
    std::optional<DataInterval> last;
    if (*last_stored) last = DataInterval{(*last_stored)->first, (*last_stored)->second};
    const TimeRestriction restriction{dag.start_date, dag.end_date, dag.catchup};
    const Instant now = now_instant();
    while (static_cast<int>(runs.size()) < count) {
        auto info = next_dagrun_info(dag.schedule, dag.timezone, last, restriction, now);
        if (!info || (last && info->interval.start < last->end)) break;
        // With catchup off, each call from `now` would answer the same latest interval: go on from it.
        last = info->interval;
        runs.push_back(*info);
        if (dag.schedule.kind() == Schedule::Kind::once) break;
    }
    return runs;
}

// GET /mayaflow/dagSummaries?dag_ids=a,b&runs=N
WebResponse dag_summaries(ApiContext& context, const ApiRequest& request) {
    auto wanted = request.query_list("dag_ids");
    if (wanted.empty()) return bad_request("dag_ids is required: one or more DAG ids, separated by commas");
    if (wanted.size() > kMaxSummaryDags) {
        return bad_request(fmt::format("dag_ids names {} DAGs; at most {} at once", wanted.size(), kMaxSummaryDags));
    }
    MAYAFLOW_READ(recent, small_count(request, "runs", kDefaultRecentRuns, 0, kMaxRecentRuns));
    auto dags = nlohmann::json::array();
    for (const auto& dag_id : wanted) {
        auto record = context.store.find_dag(dag_id);
        if (!record) return store_unavailable(record.error());
        if (!*record) continue;
        RunQuery latest;
        latest.dag_ids = {dag_id};
        latest.order_by = "logical_date";
        latest.descending = true;
        latest.limit = static_cast<size_t>(recent);
        auto page = context.runs.query_runs(latest);
        if (!page) return store_unavailable(page.error());
        auto runs = nlohmann::json::array();
        for (const auto& run : page->runs) {
            runs.push_back({{"dag_run_id", run.run_id},
                            {"state", to_string(run.state)},
                            {"run_type", run.run_type},
                            {"logical_date", iso_or_null(run.logical_date)},
                            {"start_date", iso_or_null(run.start_date)},
                            {"end_date", iso_or_null(run.end_date)}});
        }
        auto counts = nlohmann::json::object();
        for (RunState state : {RunState::queued, RunState::running, RunState::success, RunState::failed}) {
            RunQuery query;
            query.dag_ids = {dag_id};
            query.states = {state};
            query.limit = 0;
            auto counted = context.runs.query_runs(query);
            if (!counted) return store_unavailable(counted.error());
            counts[std::string(to_string(state))] = counted->total_entries;
        }
        nlohmann::json next = nullptr;
        if ((*record)->schedule && !(*record)->is_paused) {
            if (auto dag = newest_dag(context, **record)) {
                auto upcoming = next_runs(context, *dag, 1);
                if (!upcoming) return store_unavailable(upcoming.error());
                if (!upcoming->empty()) next = run_info_json(upcoming->front());
            }
        }
        dags.push_back({{"dag_id", dag_id},
                        {"is_paused", (*record)->is_paused},
                        {"recent_runs", runs},
                        {"run_counts", counts},
                        {"next_run", next}});
    }
    return json_response({{"dags", dags}, {"total_entries", dags.size()}});
}

// GET /mayaflow/dags/{dag_id}/graph: the newest version's tasks with what Airflow's Task shape leaves
// out and the UI draws: each task's group, the for_each variables that generated it, its upstream.
WebResponse dag_graph(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(record, find_dag_or_404(context, request.param("dag_id")));
    auto dag = newest_dag(context, record);
    if (!dag) {
        return problem(503, fmt::format("DAG '{}' has no readable version yet; try again once the DAG processor has "
                                        "stored it",
                                        record.dag_id));
    }
    auto tasks = nlohmann::json::array();
    for (const auto& task : dag->tasks) {
        tasks.push_back({{"task_id", task.task_id},
                         {"operator", task.operator_name},
                         {"trigger_rule", std::string(to_string(task.trigger_rule))},
                         {"group_id", task.group_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(task.group_id)},
                         {"loop_vars", task.loop_vars.empty() ? nlohmann::json(nullptr) : task.loop_vars},
                         {"upstream_task_ids", task.upstream},
                         {"downstream_task_ids", task.downstream},
                         {"pool", task.pool},
                         {"retries", task.retry.retries}});
    }
    return json_response({{"dag_id", record.dag_id}, {"version", record.latest_version}, {"tasks", tasks}});
}

// GET /mayaflow/dags/{dag_id}/schedule?count=N
WebResponse dag_schedule(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(record, find_dag_or_404(context, request.param("dag_id")));
    MAYAFLOW_READ(count, small_count(request, "count", 10, 1, kMaxScheduleCount));
    auto dag = newest_dag(context, record);
    if (!dag) {
        return problem(503, fmt::format("DAG '{}' has no readable version yet; try again once the DAG processor has "
                                        "stored it",
                                        record.dag_id));
    }
    auto upcoming = next_runs(context, *dag, count);
    if (!upcoming) return store_unavailable(upcoming.error());
    auto runs = nlohmann::json::array();
    for (const auto& info : *upcoming) runs.push_back(run_info_json(info));
    return json_response({{"dag_id", record.dag_id},
                          {"schedule", record.schedule ? nlohmann::json(*record.schedule) : nlohmann::json(nullptr)},
                          {"timezone", record.timezone},
                          {"catchup", dag->catchup},
                          {"is_paused", record.is_paused},
                          {"next_runs", runs}});
}

// The variables that point the daemon's clients at stand-ins (docs/gcp.md, docs/firebase.md).
struct StandInVariable {
    const char* service;
    const char* variable;
};
constexpr StandInVariable kStandInVariables[] = {
    {"BigQuery", "BIGQUERY_EMULATOR_HOST"},
    {"Cloud Storage", "STORAGE_EMULATOR_HOST"},
    {"Compute metadata server", "GCE_METADATA_HOST"},
    {"Firebase Realtime Database", "FIREBASE_DATABASE_EMULATOR_HOST"},
};

// GET /mayaflow/standins
WebResponse stand_ins(const ApiRequest&) {
    auto list = nlohmann::json::array();
    for (const auto& known : kStandInVariables) {
        const char* value = std::getenv(known.variable);
        const bool set = value != nullptr && *value != '\0';
        list.push_back({{"service", known.service},
                        {"variable", known.variable},
                        {"stand_in", set},
                        {"endpoint", set ? nlohmann::json(value) : nlohmann::json(nullptr)}});
    }
    return json_response({{"standins", list}});
}

}  // namespace

void add_overview_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/mayaflow/dagSummaries", {Resource::dag_run, Action::read},
              [&context](const ApiRequest& request) { return dag_summaries(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/schedule", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) { return dag_schedule(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/graph", {Resource::dag, Action::read},
              [&context](const ApiRequest& request) { return dag_graph(context, request); });
    table.add("GET", "/api/v1/mayaflow/standins", {Resource::website, Action::read}, stand_ins);
}

}  // namespace mayaflow
