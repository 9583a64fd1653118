#pragma once
// GoogleApi makes authorised calls to Google's JSON APIs (BigQuery, Cloud Storage): it gets a token
// from the connection's AccessTokenSource, sends the call through the (retrying) HTTP client, and
// reads the answer — a JSON object, or Google's error ({"error": {"code", "message", "errors":
// [{"reason"}]}}) in words. An answer that is not what Google sends (an HTML error page from a
// proxy, a cut-off body, a JSON array) is an error that says so, never a crash or a silent empty
// result. Everything is asynchronous; callbacks run on the HTTP client's I/O thread.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/http/http_client.h"
#include "operators/gcp/access_token_source.h"

namespace mayaflow::gcp {

struct ApiAnswer {
    int status = 0;          // HTTP status; 0 when no answer came
    nlohmann::json body;     // the answer's JSON object when ok(); null otherwise
    std::string error;       // what went wrong, in words, when !ok()
    std::string reason;      // Google's errors[0].reason ("notFound", "duplicate", …) when it gave one
    std::string raw_body;    // the answer as it came (a media download is no JSON object)
    bool ok() const { return error.empty(); }
};

// Reads an answer of a Google JSON API; `what` names the call in messages ("jobs.get of job x").
ApiAnswer read_api_answer(const HttpResponse& response, std::string_view what, bool raw = false);

class GoogleApi {
  public:
    using Callback = std::function<void(ApiAnswer)>;

    GoogleApi(HttpClient& http, std::shared_ptr<AccessTokenSource> tokens) : http_(http), tokens_(std::move(tokens)) {}

    // Calls `url` with `body` (none for GET); `repeatable`: a POST that may be sent again safely (an
    // insert under a fixed job id). `timeout`: of one send.
    void call(std::string method, std::string url, std::optional<nlohmann::json> body, std::string what,
              Callback done, bool repeatable = false, Duration timeout = std::chrono::seconds(60));

    // call() for a thread that may wait (never the HTTP client's I/O thread). `raw`: the answer's body
    // need not be a JSON object (a media download); ok() then means a 2xx status.
    ApiAnswer call_and_wait(std::string method, std::string url, std::string what, bool raw = false);

    HttpClient& http() { return http_; }
    const AccessTokenSource& tokens() const { return *tokens_; }

  private:
    // One send of call(); an answer of 2xx whose body is not a JSON object (cut short on the way) is
    // asked again, up to kUnreadableRetries times, when the call may be repeated (a GET, or a
    // repeatable POST).
    void send(std::string method, std::string url, std::optional<nlohmann::json> body, std::string what,
              Callback done, bool repeatable, Duration timeout, int attempt);

    HttpClient& http_;
    std::shared_ptr<AccessTokenSource> tokens_;
};

}  // namespace mayaflow::gcp
