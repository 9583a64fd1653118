#include "operators/notify/slack_webhook_operator.h"

#include <fmt/format.h>

#include <optional>

#include "engine/time/duration_text.h"
#include "operators/notify/notifier_specs.h"
#include "operators/notify/notify_http.h"
#include "operators/notify/slack_webhook.h"
#include "operators/shell_process.h"

namespace mayaflow {

OperatorSpec slack_webhook_operator_spec() {
    return OperatorSpec{.name = "slack_webhook",
                        .description = "Posts a message to a Slack incoming webhook (Airflow's SlackWebhookOperator)",
                        .params = notify::slack_message_params(),
                        .one_of_required = {{"text", "message", "blocks"}}};
}

namespace {

const OperatorSpec& spec() {
    static const OperatorSpec slack = slack_webhook_operator_spec();
    return slack;
}

OperatorResult failed(const TaskRun& run, std::string message) {
    message = mask_secrets(run, message);
    (void)append_log_line(run, message);
    return OperatorResult{.outcome = TaskOutcome::failed, .message = std::move(message)};
}

}  // namespace

OperatorResult SlackWebhookOperator::execute(const TaskRun& run) {
    auto rendered = render_templated_params(spec(), run.task, make_task_context(run));
    if (!rendered) return failed(run, rendered.error().message);
    const std::string conn_id = rendered->value("slack_webhook_conn_id", std::string(notify::kDefaultSlackConnId));
    auto url = notify::find_slack_webhook_url(run.connections, conn_id);
    if (!url) return failed(run, url.error().message);
    auto payload = notify::slack_payload(*rendered);
    if (!payload) return failed(run, payload.error().message);

    if (cancel_->cancelled()) {
        return OperatorResult{.message = "cancelled before the message was sent", .cancelled = true, .retryable = false};
    }
    (void)append_log_line(run, fmt::format("posting to the Slack webhook of connection '{}': {} bytes of JSON{}",
                                           conn_id, payload->dump().size(),
                                           payload->contains("blocks") ? fmt::format(", {} blocks", (*payload)["blocks"].size()) : ""));
    HttpClient& http = http_ ? *http_ : notify::notify_http();
    // The operator keeps its own execution_timeout, as every operator does: the deadline is the nearer of the two.
    const bool timeout_first = run.execution_timeout && *run.execution_timeout <= deadline_;
    const Duration limit = timeout_first ? *run.execution_timeout : deadline_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit);
    const notify::PostOutcome posted =
        notify::post_within(http, notify::slack_request(std::move(*url), *payload), deadline, cancel_);
    if (posted.cancelled) {
        // A send in flight goes on in the HTTP client; its answer finds nobody waiting.
        return OperatorResult{.message = "cancelled while the message was being sent (it may still be posted)",
                              .cancelled = true,
                              .retryable = false};
    }
    if (Status outcome = notify::slack_outcome(posted, conn_id); !outcome) {
        if (timeout_first && std::chrono::steady_clock::now() + std::chrono::milliseconds(100) >= deadline) {
            OperatorResult result = failed(run, fmt::format("timed out after {} (execution_timeout): {}",
                                                            format_duration(limit), outcome.error().message));
            result.timed_out = true;
            return result;
        }
        return failed(run, outcome.error().message);
    }
    (void)append_log_line(run, fmt::format("Slack accepted the message (HTTP {}{})", posted.response.status,
                                           posted.response.attempts > 1
                                               ? fmt::format(", after {} sends", posted.response.attempts)
                                               : ""));
    return OperatorResult{.outcome = TaskOutcome::success};
}

void SlackWebhookOperator::cancel() { cancel_->cancel("the try was cancelled"); }

}  // namespace mayaflow
