// /dags, /dagWarnings and /importErrors: the DAGs the daemon loaded, in Airflow's shapes, and the
// files it could not load.

#include <fmt/format.h>

#include <charconv>

#include "engine/time/iso8601.h"
#include "engine/util/utf8.h"
#include "web/api/dag_file_token.h"
#include "web/api/problem.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

nlohmann::json dag_json(const DagRecord& dag, const TokenSigner& signer) {
    auto tags = nlohmann::json::array();
    for (const auto& tag : dag.tags) tags.push_back({{"name", tag}});
    return {
        {"dag_id", dag.dag_id},
        {"description", dag.description},
        {"fileloc", dag.fileloc},
        {"file_token", dag_file_token(signer, dag.fileloc)},
        {"is_paused", dag.is_paused},
        {"is_active", dag.is_active},
        {"owners", nlohmann::json::array({dag.owners})},
        {"tags", tags},
        {"timetable_description", dag.schedule ? *dag.schedule : "Never, external triggers only"},
        {"schedule_interval", dag.schedule ? nlohmann::json{{"__type", "CronExpression"}, {"value", *dag.schedule}}
                                           : nlohmann::json(nullptr)},
        {"timezone", dag.timezone},
        {"last_parsed_time", iso(dag.last_parsed_time)},
        {"version", dag.latest_version},
    };
}

nlohmann::json import_error_json(const ImportErrorRecord& record) {
    return {{"import_error_id", record.id},
            {"filename", record.filename},
            {"stack_trace", record.stack_trace},
            {"timestamp", iso(record.timestamp)}};
}

nlohmann::json warning_json(const DagWarningRecord& warning) {
    return {{"dag_id", warning.dag_id},
            {"warning_type", warning.warning_type},
            {"message", warning.message},
            {"timestamp", iso(warning.timestamp)}};
}

}  // namespace

void add_dag_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/dags", {Resource::dag, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto dags = context.store.list_dags(request.query_value("only_active") == "false");
        if (!dags) return store_unavailable(dags.error());
        auto signer = TokenSigner::of_store(context.store);
        if (!signer) return store_unavailable(signer.error());
        auto convert = [&signer](const DagRecord& dag) { return dag_json(dag, *signer); };
        return json_response({{"dags", page_of(*dags, std::get<Page>(page), convert)}, {"total_entries", dags->size()}});
    });

    table.add("GET", "/api/v1/dags/{dag_id}", {Resource::dag, Action::read}, [&context](const ApiRequest& request) {
        const auto& dag_id = request.param("dag_id");
        auto dag = context.store.find_dag(dag_id);
        if (!dag) return store_unavailable(dag.error());
        if (!*dag) return not_found(fmt::format("no DAG with dag_id '{}'", escape_invalid_utf8(dag_id)));
        auto signer = TokenSigner::of_store(context.store);
        if (!signer) return store_unavailable(signer.error());
        auto body = dag_json(**dag, *signer);
        auto warnings = context.store.list_dag_warnings(dag_id);
        if (!warnings) return store_unavailable(warnings.error());
        body["warnings"] = nlohmann::json::array();
        for (const auto& warning : *warnings) body["warnings"].push_back(warning_json(warning));
        return json_response(body);
    });

    table.add("GET", "/api/v1/dagWarnings", {Resource::dag_warning, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto warnings = context.store.list_dag_warnings(request.query_value("dag_id").value_or(""));
        if (!warnings) return store_unavailable(warnings.error());
        auto type = request.query_value("warning_type").value_or("");
        std::vector<DagWarningRecord> kept;
        for (const auto& warning : *warnings) {
            if (type.empty() || warning.warning_type == type) kept.push_back(warning);
        }
        return json_response({{"dag_warnings", page_of(kept, std::get<Page>(page), warning_json)},
                              {"total_entries", kept.size()}});
    });

    table.add("GET", "/api/v1/importErrors", {Resource::import_error, Action::read}, [&context](const ApiRequest& request) {
        auto page = read_page(request);
        if (failed(page)) return std::get<WebResponse>(page);
        auto errors = context.store.list_import_errors();
        if (!errors) return store_unavailable(errors.error());
        return json_response({{"import_errors", page_of(*errors, std::get<Page>(page), import_error_json)},
                              {"total_entries", errors->size()}});
    });

    table.add("GET", "/api/v1/importErrors/{import_error_id}", {Resource::import_error, Action::read},
              [&context](const ApiRequest& request) {
        const std::string& text = request.param("import_error_id");
        std::int64_t id = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (error != std::errc() || end != text.data() + text.size()) {
            return bad_request(fmt::format("import_error_id '{}' is not a whole number; GET /importErrors lists the "
                                           "ids",
                                           escape_invalid_utf8(text)));
        }
        auto errors = context.store.list_import_errors();
        if (!errors) return store_unavailable(errors.error());
        for (const auto& record : *errors) {
            if (record.id == id) return json_response(import_error_json(record));
        }
        return not_found(fmt::format("no import error with import_error_id {}; the file may load now, or have "
                                     "failed again under a new id (GET /importErrors)",
                                     id));
    });
}

}  // namespace mayaflow
