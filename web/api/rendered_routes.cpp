// GET /mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/rendered: a task
// instance's templated parameters rendered for its run, as the scheduler renders them when the try
// starts (the run's DAG version, interval, conf, loop variables and the results of its finished
// tasks) and as `mayaflow tasks render` prints them, with every secret the daemon knows masked
// ("***"): connection passwords and sensitive extras, sensitive variables. What Airflow's
// "Rendered Template" view shows; mayaflow does not store rendered fields, so they are rendered
// when asked, with the connections and variables as they are now (and the run's facts built as the
// scheduler builds them: scheduler/task_run_info.h).

#include <fmt/format.h>

#include "engine/config/settings.h"
#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/template/airflow_context.h"
#include "operators/operator.h"
#include "operators/operator_registry.h"
#include "scheduler/task_run_info.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace {

WebResponse rendered_fields(ApiContext& context, const ApiRequest& request) {
    MAYAFLOW_READ(run, find_run_or_404(context, request.param("dag_id"), request.param("dag_run_id"), true));
    const std::string& task_id = request.param("task_id");
    const TaskInstanceRow* row = nullptr;
    for (const auto& candidate : run.task_instances) {
        if (candidate.task_id == task_id) row = &candidate;
    }
    if (!row) return not_found(fmt::format("run '{}' of DAG '{}' has no task '{}'", run.run_id, run.dag_id, task_id));
    DagVersions versions(context);
    const auto* version = versions.find(run.dag_id, run.dag_version);
    if (!version || !version->dag) {
        return problem(503, fmt::format("version {} of DAG '{}', which run '{}' runs, cannot be read", run.dag_version,
                                        run.dag_id, run.run_id));
    }
    const Dag& dag = *version->dag;
    const Task* task = dag.find_task(task_id);
    if (!task) return not_found(fmt::format("version {} of DAG '{}' has no task '{}'", run.dag_version, run.dag_id, task_id));
    const OperatorSpec* spec = builtin_operators().find(task->operator_name);
    if (!spec) return not_found(fmt::format("task '{}' has operator '{}', which this daemon does not know", task_id,
                                            task->operator_name));

    SecretMasker masker;
    SecretsLookup lookup(EnvironmentSecrets(process_environment()), context.secrets, &masker);
    nlohmann::json warnings = nlohmann::json::array();
    if (Status registered = lookup.register_every_secret(); !registered) {
        warnings.push_back(masker.mask(registered.error().message));
    }
    tmpl::RunInfo info = task_run_info(run, dag, *task, std::max(1, row->try_number));
    auto previous = previous_successful_run(context.runs, run);
    if (!previous) return store_unavailable(previous.error());
    set_previous_success(info, *previous);
    set_task_results(info, results_of(run.task_instances));
    read_secrets_through(info, lookup);
    auto rendered = render_templated_params(*spec, *task, tmpl::make_airflow_context(info));

    nlohmann::json body = {{"dag_id", run.dag_id},
                           {"dag_run_id", run.run_id},
                           {"task_id", task_id},
                           {"dag_version", run.dag_version},
                           {"operator", task->operator_name},
                           {"rendered_fields", nlohmann::json::object()},
                           {"error", nullptr},
                           {"warnings", warnings}};
    if (!rendered) {
        body["error"] = masker.mask(rendered.error().message);
        return json_response(body);
    }
    for (const auto& param : spec->params) {
        if (!param.templated || !rendered->contains(param.name)) continue;
        body["rendered_fields"][param.name] = masker.mask_strings(rendered->at(param.name));
    }
    return json_response(body);
}

}  // namespace

void add_rendered_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/rendered",
              {Resource::task_instance, Action::read},
              [&context](const ApiRequest& request) { return rendered_fields(context, request); });
}

}  // namespace mayaflow
