#pragma once
// SlackWebhookOperator is Airflow's SlackWebhookOperator: posts one message (templated text or
// blocks) to the Slack incoming webhook of a `slackwebhook` connection. Slack's refusals
// (invalid_payload, no_text, no_service, action_prohibited …) fail the try with what they mean;
// a 429 is waited out (Retry-After) when the wait fits in the try's deadline (notify_http.h), and
// cancel() — a stop, a cancel, the execution_timeout — ends the wait at once. A post whose
// connection drops after it was sent is not sent again (it may have been posted): the try fails,
// and its retries, if any, post again — at least once, not exactly once (docs/notifications.md).

#include <memory>
#include <mutex>

#include "engine/http/http_client.h"
#include "operators/notify/notify_http.h"
#include "operators/operator.h"

namespace mayaflow {

OperatorSpec slack_webhook_operator_spec();

class SlackWebhookOperator : public Operator {
  public:
    // `http`: the client to post through (tests); null: notify::notify_http(). `deadline`: how long
    // a try may take in all, its sends and the waits between them.
    explicit SlackWebhookOperator(HttpClient* http = nullptr, Duration deadline = notify::kDefaultDeliveryBudget)
        : http_(http), deadline_(deadline) {}
    OperatorResult execute(const TaskRun& run) override;
    void cancel() override;

  private:
    HttpClient* http_;
    Duration deadline_;
    std::shared_ptr<notify::CancelSignal> cancel_ = std::make_shared<notify::CancelSignal>();
};

}  // namespace mayaflow
