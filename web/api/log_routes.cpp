// GET …/taskInstances/{task_id}/logs/{task_try_number}: a try's log, as Airflow's get_log answers
// it — a page and a continuation token by default, the whole log (up to 8 MiB) with full_content=true, JSON
// ({content, continuation_token}) or text/plain as the Accept header asks. The token carries the
// byte offset where the next page starts, signed (web/api/signed_token.h) and bound to this one log,
// so a client tails a running task's log by asking again with the token it got.

#include <fmt/format.h>

#include "engine/model/log_path.h"
#include "engine/util/utf8.h"
#include "web/api/log_page.h"
#include "web/api/media_type.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/signed_token.h"
#include "web/api/task_files.h"

namespace mayaflow {
namespace {

constexpr std::string_view kLogTokenPurpose = "task_log";

nlohmann::json token_payload(const TaskTry& found, const std::string& task_id, std::uint64_t offset) {
    return {{"dag_id", found.run.dag_id},
            {"run_id", found.run.run_id},
            {"task_id", task_id},
            {"try_number", found.try_number},
            {"offset", offset}};
}

// The offset a continuation token says to go on from, or the 400 answer.
Read<std::uint64_t> token_offset(const TokenSigner& signer, const std::string& token, const TaskTry& found,
                                 const std::string& task_id) {
    auto payload = signer.verify(kLogTokenPurpose, token);
    if (!payload || !payload->is_object() || !(*payload)["offset"].is_number_unsigned()) {
        return bad_request("the token is not a continuation token this server gave (it was changed, cut short, or "
                           "made elsewhere); ask again without token for the log from its start");
    }
    auto expected = token_payload(found, task_id, 0);
    for (const char* field : {"dag_id", "run_id", "task_id", "try_number"}) {
        if ((*payload)[field] != expected[field]) {
            return bad_request("the token continues another try's log; use the token this log's last answer gave, or "
                               "none for the log from its start");
        }
    }
    return (*payload)["offset"].get<std::uint64_t>();
}

WebResponse get_log(ApiContext& context, const ApiRequest& request) {
    auto found_or = find_task_try(context, request);
    if (failed(found_or)) return std::get<WebResponse>(found_or);
    const TaskTry& found = std::get<TaskTry>(found_or);
    const std::string& task_id = request.param("task_id");

    auto full_content = read_bool(request, "full_content");
    if (failed(full_content)) return std::get<WebResponse>(full_content);
    const bool whole = std::get<std::optional<bool>>(full_content).value_or(false);

    auto signer = TokenSigner::of_store(context.store);
    if (!signer) return store_unavailable(signer.error());
    std::uint64_t offset = 0;
    if (auto token = request.query_value("token"); token && !token->empty() && !whole) {
        auto read = token_offset(*signer, *token, found, task_id);
        if (failed(read)) return std::get<WebResponse>(read);
        offset = std::get<std::uint64_t>(read);
    }

    const auto path = task_log_path(context.settings.logs_folder, found.run.dag_id, found.run.run_id, task_id,
                                    found.try_number);
    auto opening = open_file_inside(context.settings.logs_folder, path);
    LogPage page{.content = {}, .end = offset};
    switch (opening.outcome) {
        case FileOpening::Outcome::opened: {
            auto read = read_log_page(*opening.file, offset, whole ? kFullContentBytes : kLogPageBytes, found.growing());
            if (!read) return problem(500, fmt::format("cannot read the log of try {}: {}", found.try_number, read.error().message));
            page = std::move(*read);
            break;
        }
        case FileOpening::Outcome::missing:  // the try has written nothing yet
            break;
        case FileOpening::Outcome::outside:
        case FileOpening::Outcome::not_a_file:
            return not_found(fmt::format("the log of try {} of task '{}' is not a file inside the logs folder (a "
                                         "symlink points elsewhere), so it is not served",
                                         found.try_number, escape_invalid_utf8(task_id)));
        case FileOpening::Outcome::failed:
            return problem(500, fmt::format("cannot open the log of try {}: {}", found.try_number, opening.error));
    }

    const std::string token = signer->sign(kLogTokenPurpose, token_payload(found, task_id, page.end));
    const auto type = negotiate_media_type(request.web, {"application/json", "text/plain"});
    if (type == "text/plain") {
        WebResponse response{200, "text/plain; charset=utf-8", to_valid_utf8(page.content), {}};
        response.headers["X-Continuation-Token"] = token;
        return response;
    }
    return json_response({{"continuation_token", token}, {"content", page.content}});
}

}  // namespace

void add_log_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}",
              {Resource::task_log, Action::read}, [&context](const ApiRequest& request) { return get_log(context, request); });
}

}  // namespace mayaflow
