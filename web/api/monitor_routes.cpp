// /health and /version: what a probe or a client checks first. Health is open to anyone, as
// Airflow's is (version needs a signed-in user); it says whether the metadatabase and the scheduler are healthy, and why not.

#include "engine/metrics/metrics.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/health_answer.h"
#include "web/openapi_document.h"

namespace mayaflow {
namespace {

// The gauges that say how things stand in the store: runs and task instances by state, DAGs,
// import errors, pool slots. A store that cannot answer leaves them as they were.
void refresh_store_gauges(ApiContext& context) {
    if (auto counts = context.store.count_states()) {
        for (const auto& [state, count] : counts->dag_runs) metrics::set_dag_runs(state, static_cast<double>(count));
        for (const auto& [state, count] : counts->task_instances) metrics::set_task_instances(state, static_cast<double>(count));
    }
    if (auto dags = context.store.list_dags(false)) {
        double paused = 0;
        for (const auto& dag : *dags) paused += dag.is_paused ? 1 : 0;
        metrics::set_dags(static_cast<double>(dags->size()) - paused, paused);
    }
    if (auto errors = context.store.list_import_errors()) metrics::set_import_errors(static_cast<double>(errors->size()));
    if (auto pools = context.runs.list_pools()) {
        for (const auto& pool : *pools) metrics::set_pool_slots(pool.name, "total", pool.slots);
    }
}

}  // namespace

void add_monitor_routes(RouteTable& table, ApiContext& context) {
    auto health = [&context](const ApiRequest&) {
        std::optional<DagFolderStatus> folder;
        if (context.dag_folder_status) folder = context.dag_folder_status();
        auto answer = health_answer(context.store, context.health, folder, now_instant());
        // Airflow's HealthInfo has a triggerer and the DAG processor's heartbeat; mayaflow's scheduler
        // resumes deferred tasks itself and parses in its own process, so they are null, as Airflow
        // answers for a triggerer that never ran.
        answer.body["triggerer"] = {{"status", nullptr}, {"latest_triggerer_heartbeat", nullptr}};
        if (answer.body.contains("dag_processor")) answer.body["dag_processor"]["latest_dag_processor_heartbeat"] = nullptr;
        // Airflow answers 200 whatever the status; 503 lets a plain HTTP probe see it too.
        return json_response(answer.body, answer.healthy ? 200 : 503);
    };
    table.add("GET", "/api/v1/health", {Resource::anyone, Action::read}, health);
    table.add("GET", "/health", {Resource::anyone, Action::read}, health);
    table.add("GET", "/api/v1/version", {Resource::website, Action::read}, [](const ApiRequest&) {
        return json_response({{"version", MAYAFLOW_VERSION}, {"git_version", nullptr}});
    });
    // Prometheus's scrape: the process's metrics, with the gauges read from the store now.
    table.add("GET", "/metrics", {Resource::metrics, Action::read}, [&context](const ApiRequest&) {
        refresh_store_gauges(context);
        return WebResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics::render(), {}};
    });
    // The document describes the API, not its data, but only health is open without credentials
    // (what the API can do is nobody else's business): anyone signed in reads it.
    table.add("GET", "/api/v1/openapi.yaml", {Resource::website, Action::read}, [](const ApiRequest&) {
        const auto& document = openapi_document();
        if (!document) return problem(500, document.error().message);
        return WebResponse{200, "application/yaml; charset=utf-8", document->yaml, {}};
    });
    table.add("GET", "/api/v1/openapi.json", {Resource::website, Action::read}, [](const ApiRequest&) {
        const auto& document = openapi_document();
        if (!document) return problem(500, document.error().message);
        return json_response(document->json);
    });
}

}  // namespace mayaflow
