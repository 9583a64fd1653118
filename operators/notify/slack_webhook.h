#pragma once
// Slack incoming webhooks as Airflow's SlackWebhookHook reaches them: a `slackwebhook` connection
// whose password is the webhook URL (https://hooks.slack.com/services/T…/B…/…) or only its token
// part (T…/B…/…, joined to the host — default hooks.slack.com/services — and the schema, default
// https); the message as Slack's JSON payload; Slack's answer read into a clear error. The URL is a
// secret: no message here ever contains it (the connection's password is masked everywhere anyway).

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "engine/connections/connection.h"
#include "engine/http/http_message.h"
#include "engine/util/result.h"
#include "operators/notify/notify_http.h"

namespace mayaflow {
class ConnectionSource;
}

namespace mayaflow::notify {

inline constexpr std::string_view kDefaultSlackConnId = "slack_default";
inline constexpr std::string_view kDefaultSlackEndpoint = "hooks.slack.com/services";

// The webhook URL a connection holds, by Airflow's rules (its ends trimmed of whitespace); the error
// never quotes the password.
Result<std::string> slack_webhook_url(const Connection& connection);
// The same, for a conn_id looked up in `connections`.
Result<std::string> find_slack_webhook_url(ConnectionSource* connections, const std::string& conn_id);

// Slack's message from rendered parameters: `text` (or its alias `message`), `blocks` (a list, or
// JSON text of one), `channel`, `username`, `icon_emoji`, `icon_url`; `fallback_text` when there
// is neither text nor blocks. An error when the message would have nothing to show.
Result<nlohmann::json> slack_payload(const nlohmann::json& params, std::string_view fallback_text = {});

// Text for a Slack message with &, < and > escaped as Slack asks
// (https://api.slack.com/reference/surfaces/formatting#escaping): what a task printed cannot ping a
// channel (<!channel>), mention someone or make a link.
std::string slack_escape(std::string_view text);
// A line to quote inside a ``` code block: escaped, and its ``` made ''' so it cannot end the block.
std::string slack_code_line(std::string_view line);

HttpRequest slack_request(std::string url, const nlohmann::json& payload);

// Success, or what Slack's answer means: "Slack refused the message: no_service (HTTP 404): the
// webhook does not exist …".
Status slack_outcome(const HttpResponse& response, std::string_view conn_id);
// The same for what post_within ended with, saying why it ended early when it did.
Status slack_outcome(const PostOutcome& posted, std::string_view conn_id);

}  // namespace mayaflow::notify
