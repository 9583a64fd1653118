#pragma once
// The notifiers an on_failure_callback, on_retry_callback or on_success_callback may name, declared
// as operators declare their parameters (so the DAG loader checks them), and how each one sends:
//   slack    — a message to a Slack incoming webhook (slack_webhook.h), as Airflow's SlackWebhookNotifier
//   webhook  — a JSON body POSTed to an `http` connection's URL (webhook.h)

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/http/http_client.h"
#include "engine/model/operator_spec.h"
#include "engine/util/result.h"
#include "operators/notify/notify_http.h"

namespace mayaflow {
class ConnectionSource;
}

namespace mayaflow::notify {

// The parameters of a Slack message, shared by the slack_webhook operator and the slack notifier.
std::vector<ParamSpec> slack_message_params();

OperatorSpec slack_notifier_spec();    // "slack"
OperatorSpec webhook_notifier_spec();  // "webhook"

// What the scheduler says about an event when the notifier's parameters do not say it themselves.
struct NotificationContent {
    std::string text;    // the default message, Slack's mrkdwn
    nlohmann::json body; // the default webhook body: the event as JSON
};

// Sends one notifier's message with its rendered parameters and waits for the answer, sending again
// per notify_http.h before `deadline`; `cancel` (may be null) ends the wait at once. Never call it
// on the HTTP client's I/O thread. The error says what went wrong, never the webhook's URL.
Status send_notification(const std::string& notifier, const nlohmann::json& params, const NotificationContent& content,
                         ConnectionSource* connections, HttpClient& http,
                         std::chrono::steady_clock::time_point deadline, std::shared_ptr<CancelSignal> cancel);

}  // namespace mayaflow::notify
