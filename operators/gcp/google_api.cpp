#include "operators/gcp/google_api.h"

#include <fmt/format.h>

#include <future>

#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow::gcp {
namespace {

// A body shown in a message: its start, escaped, so an HTML page or binary junk stays one short line.
std::string body_excerpt(std::string_view body) {
    std::string flat;
    for (char c : body.substr(0, 300)) flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    return quote_for_message(escape_invalid_utf8(flat), 160);
}

std::string string_member(const nlohmann::json& object, const char* name) {
    if (!object.is_object()) return "";
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

ApiAnswer read_api_answer(const HttpResponse& response, std::string_view what, bool raw) {
    ApiAnswer answer;
    answer.status = response.status;
    answer.raw_body = response.body;
    if (!response.answered()) {
        answer.error = fmt::format("{}: {}", what, response.describe());
        return answer;
    }
    auto body = pyjson::parse_or_discarded(response.body);
    if (!response.ok()) {
        const nlohmann::json* error = body.is_object() && body.contains("error") ? &body["error"] : nullptr;
        std::string message = error ? string_member(*error, "message") : "";
        if (error && error->contains("errors") && (*error)["errors"].is_array() && !(*error)["errors"].empty()) {
            answer.reason = string_member((*error)["errors"][0], "reason");
        }
        if (message.empty()) {
            message = response.body.empty() ? "no body" : "a body that is not Google's error JSON: " + body_excerpt(response.body);
        }
        answer.error = fmt::format("{} failed: HTTP {}{}: {}", what, response.status,
                                   answer.reason.empty() ? "" : " " + answer.reason, message);
        return answer;
    }
    if (raw) return answer;
    if (body.is_discarded() || !body.is_object()) {
        answer.error = fmt::format("{} answered HTTP {} with {}, not a JSON object: {}", what, response.status,
                                   body.is_discarded() ? "a body that is not JSON" : "JSON", body_excerpt(response.body));
        return answer;
    }
    answer.body = std::move(body);
    return answer;
}

void GoogleApi::call(std::string method, std::string url, std::optional<nlohmann::json> body, std::string what,
                     Callback done, bool repeatable, Duration timeout) {
    send(std::move(method), std::move(url), std::move(body), std::move(what), std::move(done), repeatable, timeout, 0);
}

namespace {
constexpr int kUnreadableRetries = 3;
}  // namespace

void GoogleApi::send(std::string method, std::string url, std::optional<nlohmann::json> body, std::string what,
                     Callback done, bool repeatable, Duration timeout, int attempt) {
    // The callbacks run after this call returns: they hold copies of the client and the token
    // source, not this object.
    tokens_->get([api = *this, method = std::move(method), url = std::move(url), body = std::move(body),
                  what = std::move(what), done = std::move(done), repeatable, timeout,
                  attempt](Result<AccessToken> token) mutable {
        if (!token) {
            done(ApiAnswer{.error = fmt::format("{}: {}", what, token.error().message)});
            return;
        }
        HttpRequest request;
        request.method = method;
        request.url = url;
        request.headers.emplace_back("Authorization", "Bearer " + token->token);
        request.headers.emplace_back("Accept", "application/json");
        if (body) {
            request.headers.emplace_back("Content-Type", "application/json");
            request.body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        request.repeatable = repeatable;
        request.timeout = timeout;
        HttpClient& http = api.http_;
        http.send(std::move(request), [api, method, url, body, what, done = std::move(done), repeatable, timeout,
                                       attempt](HttpResponse response) mutable {
            ApiAnswer answer = read_api_answer(response, what);
            const bool unreadable = !answer.ok() && answer.status >= 200 && answer.status < 300;
            if (unreadable && (method == "GET" || repeatable) && attempt < kUnreadableRetries) {
                HttpClient& client = api.http_;
                client.run_after(std::chrono::milliseconds(500) * (attempt + 1),
                                 [api, method, url, body, what, done, repeatable, timeout, attempt]() mutable {
                                     api.send(method, url, body, what, done, repeatable, timeout, attempt + 1);
                                 });
                return;
            }
            done(std::move(answer));
        });
    });
}

ApiAnswer GoogleApi::call_and_wait(std::string method, std::string url, std::string what, bool raw) {
    std::promise<ApiAnswer> answered;
    tokens_->get([&](Result<AccessToken> token) {
        if (!token) {
            answered.set_value(ApiAnswer{.error = fmt::format("{}: {}", what, token.error().message)});
            return;
        }
        HttpRequest request;
        request.method = method;
        request.url = url;
        request.headers.emplace_back("Authorization", "Bearer " + token->token);
        http_.send(std::move(request), [&](HttpResponse response) {
            answered.set_value(read_api_answer(response, what, raw));
        });
    });
    return answered.get_future().get();
}

}  // namespace mayaflow::gcp
