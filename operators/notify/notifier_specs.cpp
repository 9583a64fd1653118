#include "operators/notify/notifier_specs.h"

#include "operators/notify/slack_webhook.h"
#include "operators/notify/webhook.h"

namespace mayaflow::notify {
namespace {

// blocks: a list of Block Kit blocks (mappings), or text that renders to JSON of one.
std::optional<ParamProblem> check_blocks(const nlohmann::json& value) {
    if (value.is_string() || value.is_null()) return std::nullopt;
    if (!value.is_array()) return ParamProblem{{}, "blocks must be a list of Block Kit blocks (mappings with a type)"};
    for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_object() || !value[i].contains("type")) {
            return ParamProblem{{nlohmann::json(i)}, "each block must be a mapping with a 'type' (section, header, …)"};
        }
    }
    return std::nullopt;
}

ParamSpec templated_string(std::string name, std::string help) {
    return ParamSpec{.name = std::move(name), .type = ParamType::string, .templated = true, .help = std::move(help)};
}

}  // namespace

std::vector<ParamSpec> slack_message_params() {
    return {
        ParamSpec{.name = "slack_webhook_conn_id",
                  .type = ParamType::string,
                  .templated = true,
                  .default_value = std::string(kDefaultSlackConnId),
                  .help = "the slackwebhook connection holding the webhook URL"},
        templated_string("text", "the message (Slack mrkdwn)"),
        templated_string("message", "another name for text"),
        ParamSpec{.name = "blocks",
                  .type = ParamType::any,
                  .templated = true,
                  .check = check_blocks,
                  .help = "Block Kit blocks, a list; their strings are templated"},
        templated_string("channel", "the channel, for legacy webhooks that allow overriding it"),
        templated_string("username", "the name the message is posted under (legacy webhooks)"),
        templated_string("icon_emoji", "an emoji as the poster's icon, e.g. :robot_face: (legacy webhooks)"),
        templated_string("icon_url", "an image URL as the poster's icon (legacy webhooks)"),
    };
}

OperatorSpec slack_notifier_spec() {
    return OperatorSpec{.name = "slack",
                        .description = "Posts to a Slack incoming webhook; without text or blocks, mayaflow's "
                                       "message about the event",
                        .params = slack_message_params()};
}

OperatorSpec webhook_notifier_spec() {
    return OperatorSpec{
        .name = "webhook",
        .description = "POSTs a JSON body to the URL of an http connection; without body, the event as JSON",
        .params = {
            ParamSpec{.name = "http_conn_id",
                      .type = ParamType::string,
                      .required = true,
                      .templated = true,
                      .help = "the http connection whose host is the webhook's URL"},
            templated_string("endpoint", "a path added to the connection's URL"),
            ParamSpec{.name = "body",
                      .type = ParamType::any,
                      .templated = true,
                      .help = "the JSON body; its strings are templated (default: the event as JSON)"},
            ParamSpec{.name = "headers", .type = ParamType::string_map, .templated = true, .help = "extra headers"},
            templated_string("text", "the text of the default body (default: mayaflow's message about the event)"),
        }};
}

Status send_notification(const std::string& notifier, const nlohmann::json& params, const NotificationContent& content,
                         ConnectionSource* connections, HttpClient& http,
                         std::chrono::steady_clock::time_point deadline, std::shared_ptr<CancelSignal> cancel) {
    if (notifier == "slack" || notifier == "slack_webhook") {
        const std::string conn_id = params.value("slack_webhook_conn_id", std::string(kDefaultSlackConnId));
        auto url = find_slack_webhook_url(connections, conn_id);
        if (!url) return url.error();
        auto payload = slack_payload(params, content.text);
        if (!payload) return payload.error();
        return slack_outcome(post_within(http, slack_request(std::move(*url), *payload), deadline, std::move(cancel)),
                             conn_id);
    }
    if (notifier == "webhook") {
        const std::string conn_id = params.value("http_conn_id", std::string());
        auto connection = find_http_connection(connections, conn_id);
        if (!connection) return connection.error();
        nlohmann::json body = params.contains("body") && !params["body"].is_null() ? params["body"] : content.body;
        if (!params.contains("body") && params.contains("text") && params["text"].is_string() && body.is_object()) {
            body["text"] = params["text"];
        }
        auto request = webhook_request(*connection, params.value("endpoint", std::string()), body,
                                       params.value("headers", nlohmann::json::object()));
        if (!request) return request.error();
        return webhook_outcome(post_within(http, std::move(*request), deadline, std::move(cancel)), conn_id);
    }
    return make_error("unknown notifier '{}'", notifier);
}

}  // namespace mayaflow::notify
