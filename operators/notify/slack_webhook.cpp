#include "operators/notify/slack_webhook.h"

#include <fmt/format.h>

#include <cctype>

#include "engine/connections/python_json.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/notify/notify_http.h"

namespace mayaflow::notify {
namespace {

std::string upper(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

// What Slack's error strings mean, for the person reading the task's log.
std::string_view slack_error_hint(std::string_view error) {
    if (error == "invalid_payload") return "the message is not valid JSON, or its text is not a string";
    if (error == "no_text" || error == "missing_text_or_fallback_or_attachments") {
        return "the message has no text: set text or blocks";
    }
    if (error == "invalid_blocks" || error == "invalid_blocks_format") {
        return "Slack does not accept the blocks (see Block Kit's rules for each block type)";
    }
    if (error == "invalid_attachments" || error == "too_many_attachments") return "Slack does not accept the attachments";
    if (error == "no_service") return "the webhook does not exist or was removed: check the connection's webhook URL";
    if (error == "invalid_token") return "the webhook's token is wrong: check the connection's webhook URL";
    if (error == "no_service_id" || error == "no_team") return "the webhook URL is incomplete: check the connection";
    if (error == "action_prohibited") return "a Slack admin has restricted posting to this channel";
    if (error == "channel_not_found") return "the webhook's channel no longer exists";
    if (error == "channel_is_archived") return "the webhook's channel is archived";
    if (error == "posting_to_general_channel_denied") return "only admins may post to this channel";
    if (error == "user_not_found") return "the webhook's user no longer exists";
    if (error == "request_too_large") return "the message is too large";
    if (error == "rate_limited") return "Slack is rate-limiting this webhook";
    return "";
}

}  // namespace

Result<std::string> slack_webhook_url(const Connection& connection) {
    const std::string type = normalize_conn_type(connection.conn_type);
    if (type != "slackwebhook" && type != "slack_webhook") {
        return make_error("connection '{}' is of type '{}'; Slack messages need a 'slackwebhook' connection (the "
                          "webhook URL as its password)",
                          connection.conn_id, connection.conn_type);
    }
    auto password = trimmed_webhook_url(connection.password.value_or(""), connection.conn_id);
    if (!password) return password.error();
    if (password->empty()) {
        return make_error("connection '{}' has no webhook: set its password to the webhook URL "
                          "(https://hooks.slack.com/services/T…/B…/…) or to its T…/B…/… part",
                          connection.conn_id);
    }
    if (password->find("://") != std::string::npos) return *password;
    std::string token = *password;
    while (!token.empty() && token.front() == '/') token.erase(0, 1);
    auto trimmed_host = trimmed_webhook_url(connection.host.value_or(""), connection.conn_id);
    if (!trimmed_host) return trimmed_host.error();
    std::string host = *trimmed_host;
    if (host.empty()) host = std::string(kDefaultSlackEndpoint);
    std::string base;
    if (host.find("://") != std::string::npos) {
        base = host;
    } else {
        const std::string schema = connection.schema.value_or("");
        base = (schema.empty() ? std::string("https") : schema) + "://" + host;
        if (connection.port && host.find(':') == std::string::npos && host.find('/') == std::string::npos) {
            base += fmt::format(":{}", *connection.port);
        }
    }
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + token;
}

Result<std::string> find_slack_webhook_url(ConnectionSource* connections, const std::string& conn_id) {
    if (!connections) return make_error("no connections are available to read '{}'", conn_id);
    auto found = connections->find_connection(conn_id);
    if (!found) return found.error();
    if (!*found) {
        return make_error("The conn_id `{}` isn't defined: add it with `mayaflow connections add {} --conn-type "
                          "slackwebhook --conn-password <webhook URL>` or AIRFLOW_CONN_{}",
                          conn_id, conn_id, upper(conn_id));
    }
    return slack_webhook_url(**found);
}

Result<nlohmann::json> slack_payload(const nlohmann::json& params, std::string_view fallback_text) {
    nlohmann::json payload = nlohmann::json::object();
    auto text_of = [&](const char* name) -> std::string {
        auto it = params.find(name);
        return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string text = text_of("text");
    if (text.empty()) text = text_of("message");
    auto blocks = params.find("blocks");
    nlohmann::json block_list;
    if (blocks != params.end() && !blocks->is_null()) {
        if (blocks->is_string()) {
            auto parsed = pyjson::parse_or_discarded(blocks->get<std::string>());
            if (parsed.is_discarded() || !parsed.is_array()) {
                return make_error("blocks must be a list of Block Kit blocks (or JSON text of one)");
            }
            block_list = std::move(parsed);
        } else if (blocks->is_array()) {
            block_list = *blocks;
        } else {
            return make_error("blocks must be a list of Block Kit blocks");
        }
        for (const auto& block : block_list) {
            if (!block.is_object()) return make_error("each of blocks must be a mapping (a Block Kit block)");
        }
        if (block_list.empty()) block_list = nullptr;
    }
    if (text.empty() && block_list.is_null()) text = std::string(fallback_text);
    if (text.empty() && block_list.is_null()) {
        return make_error("the message is empty: set text (or message) or blocks");
    }
    if (!text.empty()) payload["text"] = text;
    if (!block_list.is_null()) payload["blocks"] = std::move(block_list);
    for (const char* name : {"channel", "username", "icon_emoji", "icon_url"}) {
        std::string value = text_of(name);
        if (!value.empty()) payload[name] = value;
    }
    return payload;
}

std::string slack_escape(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': escaped += "&amp;"; break;
            case '<': escaped += "&lt;"; break;
            case '>': escaped += "&gt;"; break;
            default: escaped += c;
        }
    }
    return escaped;
}

std::string slack_code_line(std::string_view line) {
    std::string safe = slack_escape(line);
    for (size_t at = safe.find("```"); at != std::string::npos; at = safe.find("```", at)) safe.replace(at, 3, "'''");
    return safe;
}

HttpRequest slack_request(std::string url, const nlohmann::json& payload) {
    HttpRequest request;
    request.method = "POST";
    request.url = std::move(url);
    request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    request.body = dump_json(payload);
    request.timeout = kNotifyTimeout;
    request.repeatable = false;  // a second send may post the message twice (notify_http.h)
    return request;
}

Status slack_outcome(const PostOutcome& posted, std::string_view conn_id) {
    if (posted.cancelled) return make_error("not posted to the Slack webhook of connection '{}': {}", conn_id, posted.ended_early);
    Status answered = slack_outcome(posted.response, conn_id);
    if (answered || posted.ended_early.empty()) return answered;
    return make_error("{}; {}", answered.error().message, posted.ended_early);
}

Status slack_outcome(const HttpResponse& response, std::string_view conn_id) {
    if (!response.answered()) {
        std::string why = response.describe();
        if (response.transport_error == TransportError::dropped || response.transport_error == TransportError::timeout) {
            why += "; not sent again, as Slack may have posted it";
        }
        return make_error("could not post to the Slack webhook of connection '{}': {}", conn_id, why);
    }
    std::string body = response.body;
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
    if (response.ok()) return Status::success();
    std::string error = shorten_message(body.empty() ? std::string("(no answer text)") : body, 200);
    std::string_view hint = slack_error_hint(body);
    return make_error("Slack refused the message of connection '{}': {} (HTTP {}){}{}", conn_id, error,
                      response.status, hint.empty() ? "" : ": ", hint);
}

}  // namespace mayaflow::notify
