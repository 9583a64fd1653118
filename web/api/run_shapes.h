#pragma once
// The JSON shapes of Airflow 2.10's v1 API for runs, task instances and tasks, and the readers of
// the filters their lists share (state lists, *_gte/*_lte date ranges). Used by dag_routes,
// dag_run_routes and task_instance_routes.

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/dag.h"
#include "engine/store/run_store.h"
#include "web/api/api_context.h"
#include "web/api/api_request.h"

namespace mayaflow {

std::string iso_utc(Instant instant);
nlohmann::json iso_or_null(const std::optional<Instant>& instant);
// Airflow's TimeDelta: {"__type": "TimeDelta", "days", "seconds", "microseconds"}.
nlohmann::json timedelta_json(Duration duration);

// Airflow's DAGRun, with mayaflow's dag_version and backfill_id.
nlohmann::json dag_run_json(const DagRunRow& run);

// The DAG versions that one request's runs name: each looked up once per request in the daemon's
// DagVersionCache (web/api/dag_version_cache.h).
class DagVersions {
  public:
    explicit DagVersions(ApiContext& context) : context_(context) {}
    using Entry = DagVersionCache::Entry;
    // Null when the version is not stored or cannot be read.
    const Entry* find(const std::string& dag_id, int version);

  private:
    ApiContext& context_;
    std::map<std::pair<std::string, int>, std::shared_ptr<const Entry>> seen_;
};

// Airflow's TaskInstance; `versions` gives the task's operator, pool and weight from its run's version.
nlohmann::json task_instance_json(const TaskInstanceListRow& row, DagVersions& versions);
// Airflow's TaskInstanceReference.
nlohmann::json task_instance_reference(const std::string& dag_id, const std::string& run_id,
                                       const std::string& task_id, const std::optional<Instant>& logical_date);
// Airflow's Task, from a DAG version.
nlohmann::json task_json(const Dag& dag, const Task& task);

// Query lists of states (`state=a&state=b` or `state=a,b`), each checked against the enum.
Read<std::vector<RunState>> read_run_states(const std::vector<std::string>& names, const std::string& field);
Read<std::vector<TaskState>> read_task_states(const std::vector<std::string>& names, const std::string& field);
// `<name>_gte` and `<name>_lte` from the query, or from a JSON body.
Read<InstantRange> read_range(const ApiRequest& request, const std::string& name);
Read<InstantRange> range_field(const nlohmann::json& body, const std::string& name);

// The DAG, or the 404 that names it (503 when the store cannot answer).
Read<DagRecord> find_dag_or_404(ApiContext& context, const std::string& dag_id);
// The run (with its task instances when asked), or the 404 that says whether the DAG or the run is unknown.
Read<DagRunRow> find_run_or_404(ApiContext& context, const std::string& dag_id, const std::string& run_id,
                                bool with_tasks = false);
// Sends a command to the scheduler and waits for it: its answer, or the problem answer of its refusal.
Read<nlohmann::json> scheduler_command(ApiContext& context, const std::string& kind, const nlohmann::json& payload);
// A command about one run: as scheduler_command, but when the scheduler refuses it because the run
// was deleted after the route found it (a DELETE racing this request), the answer is that run's 404.
Read<nlohmann::json> run_command(ApiContext& context, const DagRunRow& run, const std::string& kind,
                                 nlohmann::json payload);
// An empty 204 answer.
WebResponse no_content();

// Reads a value, or returns the 400 it made from the enclosing handler.
#define MAYAFLOW_READ(var, expr)                                   \
    auto var##_read = (expr);                                      \
    if (failed(var##_read)) return std::get<WebResponse>(var##_read); \
    auto var = std::move(std::get<0>(var##_read))

}  // namespace mayaflow
