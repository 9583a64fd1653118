#include "web/api_router.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "web/health_answer.h"
#include "engine/util/utf8.h"
#include "web/ui_page.h"

namespace mayaflow {
namespace {

std::string iso(Instant instant) { return format_iso8601(instant, TimeZone::utc()); }

nlohmann::json dag_json(const DagRecord& dag) {
    auto tags = nlohmann::json::array();
    for (const auto& tag : dag.tags) tags.push_back({{"name", tag}});
    return {
        {"dag_id", dag.dag_id},
        {"description", dag.description},
        {"fileloc", dag.fileloc},
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

nlohmann::json warning_json(const DagWarningRecord& warning) {
    return {{"dag_id", warning.dag_id},
            {"warning_type", warning.warning_type},
            {"message", warning.message},
            {"timestamp", iso(warning.timestamp)}};
}

WebResponse json_response(const nlohmann::json& body, int status = 200) {
    return WebResponse{status, "application/json", dump_json(body), {}};
}

struct Page {
    size_t limit = 100;
    size_t offset = 0;
};

std::optional<Page> read_page(const std::map<std::string, std::string>& query, WebResponse& error) {
    Page page;
    for (const auto& [name, field] : {std::pair{"limit", &page.limit}, std::pair{"offset", &page.offset}}) {
        auto it = query.find(name);
        if (it == query.end()) continue;
        // Digits only: no sign, no spaces, no hex (std::stoll took "+5" and " 5").
        const std::string& text = it->second;
        long long value = -1;
        auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || text.front() == '-' || failure != std::errc() || end != text.data() + text.size() ||
            value > 1'000'000) {
            error = problem(400, "Bad Request",
                            fmt::format("query parameter '{}' must be a whole number from 0 to 1000000, got {}", name,
                                        quote_for_message(text)));
            return std::nullopt;
        }
        *field = static_cast<size_t>(value);
    }
    return page;
}

}  // namespace

WebResponse problem(int status, const std::string& title, const std::string& detail) {
    nlohmann::json body = {{"type", "about:blank"}, {"title", title}, {"status", status}, {"detail", detail}};
    return WebResponse{status, "application/problem+json", dump_json(body), {}};
}

WebResponse ApiRouter::handle(const WebRequest& request) {
    auto parsed = boost::urls::parse_origin_form(request.target);
    if (!parsed) return problem(400, "Bad Request", "the request target is not a valid URL path");
    std::string path = parsed->path();
    if (!is_valid_utf8(path)) {
        return problem(400, "Bad Request",
                       fmt::format("the URL path {} is not valid UTF-8 once its %-escapes are decoded; names in "
                                   "mayaflow are UTF-8",
                                   escape_invalid_utf8(path)));
    }
    std::map<std::string, std::string> query;
    for (auto param : parsed->params()) query[param.key] = param.value;

    // Every route is read-only so far: GET, and HEAD (the same answer without its body).
    std::function<WebResponse()> answer;
    if (path == "/" || path == "/home") {
        answer = [this] { return index_page(); };
    } else if (path == "/api/v1/health" || path == "/health") {
        answer = [this] { return health(); };
    } else if (path == "/api/v1/version") {
        answer = [this] { return version(); };
    } else if (path == "/api/v1/dags") {
        answer = [this, &query] { return list_dags(query); };
    } else if (path.starts_with("/api/v1/dags/") && path.find('/', 13) == std::string::npos) {
        answer = [this, &path] { return get_dag(path.substr(13)); };
    } else if (path == "/api/v1/importErrors") {
        answer = [this, &query] { return list_import_errors(query); };
    } else if (path == "/api/v1/dagWarnings") {
        answer = [this, &query] { return list_dag_warnings(query); };
    } else {
        return problem(404, "Not Found", fmt::format("no resource at {}; the API lives under /api/v1", path));
    }
    if (request.method != "GET" && request.method != "HEAD") {
        auto refusal = problem(405, "Method Not Allowed",
                               fmt::format("{} answers GET and HEAD, not {}", path, escape_invalid_utf8(request.method)));
        refusal.headers["Allow"] = "GET, HEAD";
        return refusal;
    }
    return answer();
}

WebResponse ApiRouter::list_dags(const std::map<std::string, std::string>& query) {
    WebResponse error;
    auto page = read_page(query, error);
    if (!page) return error;
    auto dags = store_.list_dags(query.count("only_active") && query.at("only_active") == "false");
    if (!dags) return problem(503, "Service Unavailable", dags.error().message);
    auto items = nlohmann::json::array();
    for (size_t i = page->offset; i < dags->size() && items.size() < page->limit; ++i) items.push_back(dag_json((*dags)[i]));
    return json_response({{"dags", items}, {"total_entries", dags->size()}});
}

WebResponse ApiRouter::get_dag(const std::string& dag_id) {
    auto dag = store_.find_dag(dag_id);
    if (!dag) return problem(503, "Service Unavailable", dag.error().message);
    if (!*dag) return problem(404, "Not Found", fmt::format("no DAG with dag_id '{}'", escape_invalid_utf8(dag_id)));
    auto body = dag_json(**dag);
    auto warnings = store_.list_dag_warnings(dag_id);
    if (!warnings) return problem(503, "Service Unavailable", warnings.error().message);
    body["warnings"] = nlohmann::json::array();
    for (const auto& warning : *warnings) body["warnings"].push_back(warning_json(warning));
    return json_response(body);
}

WebResponse ApiRouter::list_dag_warnings(const std::map<std::string, std::string>& query) {
    WebResponse error;
    auto page = read_page(query, error);
    if (!page) return error;
    auto dag_id = query.count("dag_id") ? query.at("dag_id") : std::string();
    auto warnings = store_.list_dag_warnings(dag_id);
    if (!warnings) return problem(503, "Service Unavailable", warnings.error().message);
    auto type = query.count("warning_type") ? query.at("warning_type") : std::string();
    auto items = nlohmann::json::array();
    size_t total = 0;
    for (const auto& warning : *warnings) {
        if (!type.empty() && warning.warning_type != type) continue;
        if (total++ >= page->offset && items.size() < page->limit) items.push_back(warning_json(warning));
    }
    return json_response({{"dag_warnings", items}, {"total_entries", total}});
}

WebResponse ApiRouter::list_import_errors(const std::map<std::string, std::string>& query) {
    WebResponse error;
    auto page = read_page(query, error);
    if (!page) return error;
    auto errors = store_.list_import_errors();
    if (!errors) return problem(503, "Service Unavailable", errors.error().message);
    auto items = nlohmann::json::array();
    for (size_t i = page->offset; i < errors->size() && items.size() < page->limit; ++i) {
        const auto& record = (*errors)[i];
        items.push_back({{"import_error_id", record.id},
                         {"filename", record.filename},
                         {"stack_trace", record.stack_trace},
                         {"timestamp", iso(record.timestamp)}});
    }
    return json_response({{"import_errors", items}, {"total_entries", errors->size()}});
}

WebResponse ApiRouter::version() {
    return json_response({{"version", MAYAFLOW_VERSION}, {"git_version", nullptr}});
}

WebResponse ApiRouter::health() {
    std::optional<DagFolderStatus> folder;
    if (dag_folder_status_) folder = dag_folder_status_();
    auto answer = health_answer(store_, health_, folder, now_instant());
    // Airflow answers 200 whatever the status; 503 lets a plain HTTP probe see it too.
    return json_response(answer.body, answer.healthy ? 200 : 503);
}

WebResponse ApiRouter::index_page() {
    auto dags = store_.list_dags(false);
    auto errors = store_.list_import_errors();
    WebResponse response;
    response.content_type = "text/html; charset=utf-8";
    response.body = to_valid_utf8(render_index_page(dags ? *dags : std::vector<DagRecord>{},
                                                    errors ? *errors : std::vector<ImportErrorRecord>{}));
    return response;
}

}  // namespace mayaflow
