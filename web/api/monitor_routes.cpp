// /health and /version: what a probe or a client checks first. Health is open to anyone, as
// Airflow's is (version needs a signed-in user); it says whether the metadatabase and the scheduler are healthy, and why not.

#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/health_answer.h"
#include "web/openapi_document.h"

namespace mayaflow {

void add_monitor_routes(RouteTable& table, ApiContext& context) {
    auto health = [&context](const ApiRequest&) {
        std::optional<DagFolderStatus> folder;
        if (context.dag_folder_status) folder = context.dag_folder_status();
        auto answer = health_answer(context.store, context.health, folder, now_instant());
        // Airflow answers 200 whatever the status; 503 lets a plain HTTP probe see it too.
        return json_response(answer.body, answer.healthy ? 200 : 503);
    };
    table.add("GET", "/api/v1/health", {Resource::anyone, Action::read}, health);
    table.add("GET", "/health", {Resource::anyone, Action::read}, health);
    table.add("GET", "/api/v1/version", {Resource::website, Action::read}, [](const ApiRequest&) {
        return json_response({{"version", MAYAFLOW_VERSION}, {"git_version", nullptr}});
    });
    // The document describes the API, not its data: like health, anyone may read it.
    table.add("GET", "/api/v1/openapi.yaml", {Resource::anyone, Action::read}, [](const ApiRequest&) {
        const auto& document = openapi_document();
        if (!document) return problem(500, document.error().message);
        return WebResponse{200, "application/yaml; charset=utf-8", document->yaml, {}};
    });
    table.add("GET", "/api/v1/openapi.json", {Resource::anyone, Action::read}, [](const ApiRequest&) {
        const auto& document = openapi_document();
        if (!document) return problem(500, document.error().message);
        return json_response(document->json);
    });
}

}  // namespace mayaflow
