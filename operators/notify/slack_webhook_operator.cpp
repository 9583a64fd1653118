#include "operators/notify/slack_webhook_operator.h"

#include <fmt/format.h>

#include <optional>

#include "operators/notify/notifier_specs.h"
#include "operators/notify/notify_http.h"
#include "operators/notify/slack_webhook.h"
#include "operators/shell_process.h"

namespace mayaflow {

struct SlackWebhookOperator::Post {
    std::mutex mutex;
    std::condition_variable answered;
    std::optional<HttpResponse> response;
    bool cancelled = false;
};

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

    auto post = std::make_shared<Post>();
    {
        std::lock_guard lock(mutex_);
        if (cancelled_) return OperatorResult{.message = "cancelled before the message was sent", .cancelled = true, .retryable = false};
        post_ = post;
    }
    (void)append_log_line(run, fmt::format("posting to the Slack webhook of connection '{}': {} bytes of JSON{}",
                                           conn_id, payload->dump().size(),
                                           payload->contains("blocks") ? fmt::format(", {} blocks", (*payload)["blocks"].size()) : ""));
    HttpClient& http = http_ ? *http_ : notify::notify_http();
    http.send(notify::slack_request(std::move(*url), *payload), [post](HttpResponse response) {
        std::lock_guard lock(post->mutex);
        post->response = std::move(response);
        post->answered.notify_all();
    });
    std::unique_lock lock(post->mutex);
    post->answered.wait(lock, [&] { return post->response || post->cancelled; });
    if (!post->response) {
        // The send goes on in the HTTP client; its answer finds nobody waiting.
        return OperatorResult{.message = "cancelled while the message was being sent (it may still be posted)",
                              .cancelled = true,
                              .retryable = false};
    }
    const HttpResponse response = *post->response;
    lock.unlock();
    if (Status outcome = notify::slack_outcome(response, conn_id); !outcome) return failed(run, outcome.error().message);
    (void)append_log_line(run, fmt::format("Slack accepted the message (HTTP {}{})", response.status,
                                           response.attempts > 1 ? fmt::format(", after {} sends", response.attempts) : ""));
    return OperatorResult{.outcome = TaskOutcome::success};
}

void SlackWebhookOperator::cancel() {
    std::shared_ptr<Post> post;
    {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
        post = post_;
    }
    if (!post) return;
    std::lock_guard lock(post->mutex);
    post->cancelled = true;
    post->answered.notify_all();
}

}  // namespace mayaflow
