// GET /dagSources/{file_token}: the text of a DAG file, as Airflow's get_dag_source — the token
// (the `file_token` of a DAG's answer) is the file's path signed by the server, so a client reads
// only the files that are DAG files of the store, never a path of its choosing. And mayaflow's
// GET /mayaflow/dags/{dag_id}/source.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "engine/util/utf8.h"
#include "web/api/dag_file_token.h"
#include "web/api/media_type.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/task_files.h"

namespace mayaflow {
namespace {

// DAG files are small; a file past this is not read into an answer.
constexpr std::uint64_t kMaxSourceBytes = 16 * 1024 * 1024;

// The DAG file's text, or the answer that says why it cannot be read.
Read<std::string> read_dag_file(const std::string& fileloc) {
    const std::filesystem::path path(fileloc);
    // The file is one the DAG processor loaded: it may sit anywhere the DAG folder's symlinks lead,
    // so it is held only to being a regular file.
    auto opening = open_file_inside("/", path);
    if (opening.outcome == FileOpening::Outcome::missing) {
        return not_found(fmt::format("the DAG file {} is gone since it was loaded", escape_invalid_utf8(fileloc)));
    }
    if (opening.outcome != FileOpening::Outcome::opened) {
        return not_found(fmt::format("the DAG file {} cannot be read: {}", escape_invalid_utf8(fileloc),
                                     opening.error.empty() ? "it is not a regular file" : opening.error));
    }
    const auto size = opening.file->size();
    if (size > kMaxSourceBytes) {
        return problem(413, fmt::format("the DAG file {} holds {} bytes, more than the {} an answer holds",
                                        escape_invalid_utf8(fileloc), size, kMaxSourceBytes));
    }
    auto text = opening.file->read(0, size);
    if (!text) return problem(500, fmt::format("cannot read {}: {}", escape_invalid_utf8(fileloc), text.error().message));
    return std::move(*text);
}

// The source as text/plain or {content, …} by the Accept header; 406 when it takes neither.
WebResponse source_answer(const ApiRequest& request, const std::string& content, nlohmann::json json) {
    const auto type = negotiate_media_type(request.web, {"application/json", "text/plain"});
    if (!type) {
        return problem(406, "the Accept header takes neither application/json nor text/plain, the two ways a DAG's "
                            "source is answered");
    }
    if (*type == "text/plain") return WebResponse{200, "text/plain; charset=utf-8", to_valid_utf8(content), {}};
    json["content"] = content;
    return json_response(json);
}

WebResponse get_dag_source(ApiContext& context, const ApiRequest& request) {
    auto signer = TokenSigner::of_store(context.store);
    if (!signer) return store_unavailable(signer.error());
    auto fileloc = dag_fileloc_of_token(*signer, request.param("file_token"));
    if (!fileloc) {
        return not_found("the file_token is not one this server gave: take a DAG's file_token from GET /dags/{dag_id}");
    }
    auto dags = context.store.list_dags(true);
    if (!dags) return store_unavailable(dags.error());
    // The token holds the path as JSON text, where a byte that is not UTF-8 became U+FFFD.
    auto dag = std::find_if(dags->begin(), dags->end(),
                            [&](const DagRecord& record) { return to_valid_utf8(record.fileloc) == *fileloc; });
    if (dag == dags->end()) return not_found(fmt::format("{} defines no DAG any more", *fileloc));
    auto content = read_dag_file(dag->fileloc);
    if (failed(content)) return std::get<WebResponse>(content);
    return source_answer(request, std::get<std::string>(content), nlohmann::json::object());
}

WebResponse get_dag_version_source(ApiContext& context, const ApiRequest& request) {
    const std::string& dag_id = request.param("dag_id");
    std::optional<int> version;
    if (auto text = request.query_value("version")) {
        int number = 0;
        auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), number);
        if (error != std::errc() || end != text->data() + text->size() || number < 1) {
            return bad_request(fmt::format("version '{}' is not a DAG version: they are numbered from 1",
                                           escape_invalid_utf8(*text)));
        }
        version = number;
    }
    auto dag = context.store.find_dag(dag_id);
    if (!dag) return store_unavailable(dag.error());
    if (!*dag) return not_found(fmt::format("no DAG with dag_id '{}'", escape_invalid_utf8(dag_id)));
    const int latest = (*dag)->latest_version;
    if (version && *version != latest) {
        auto stored = context.runs.dag_version_json(dag_id, *version);
        if (!stored) return store_unavailable(stored.error());
        if (!*stored) {
            return not_found(fmt::format("DAG '{}' has no version {}; its versions are 1 to {}", escape_invalid_utf8(dag_id),
                                         *version, latest));
        }
    }
    auto content = read_dag_file((*dag)->fileloc);
    if (failed(content)) return std::get<WebResponse>(content);
    nlohmann::json body = {{"dag_id", dag_id},
                           {"fileloc", (*dag)->fileloc},
                           {"version_number", latest},
                           {"requested_version_number", version ? nlohmann::json(*version) : nlohmann::json(nullptr)}};
    if (version && *version != latest) {
        // The store keeps each version's serialized DAG and source hash, not its text.
        body["note"] = fmt::format("mayaflow keeps each DAG version's definition, not its source text: this is the "
                                   "current file, version {}",
                                   latest);
    }
    auto response = source_answer(request, std::get<std::string>(content), body);
    response.headers["X-Dag-Version"] = std::to_string(latest);
    return response;
}

}  // namespace

void add_source_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/dagSources/{file_token}", {Resource::dag_code, Action::read},
              [&context](const ApiRequest& request) { return get_dag_source(context, request); });
    table.add("GET", "/api/v1/mayaflow/dags/{dag_id}/source", {Resource::dag_code, Action::read},
              [&context](const ApiRequest& request) { return get_dag_version_source(context, request); });
}

}  // namespace mayaflow
