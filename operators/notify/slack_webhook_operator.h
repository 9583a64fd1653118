#pragma once
// SlackWebhookOperator is Airflow's SlackWebhookOperator: posts one message (templated text or
// blocks) to the Slack incoming webhook of a `slackwebhook` connection. Slack's refusals
// (invalid_payload, no_text, no_service, action_prohibited …) fail the try with what they mean;
// a 429 is waited out (Retry-After) by the HTTP client. A post whose connection drops after it was
// sent is not sent again (it may have been posted): the try fails, and its retries, if any, post
// again — at least once, not exactly once (docs/notifications.md).

#include <condition_variable>
#include <memory>
#include <mutex>

#include "engine/http/http_client.h"
#include "operators/operator.h"

namespace mayaflow {

OperatorSpec slack_webhook_operator_spec();

class SlackWebhookOperator : public Operator {
  public:
    // `http`: the client to post through (tests); null: notify::notify_http().
    explicit SlackWebhookOperator(HttpClient* http = nullptr) : http_(http) {}
    OperatorResult execute(const TaskRun& run) override;
    void cancel() override;

  private:
    struct Post;  // one send in flight, shared with its callback
    HttpClient* http_;
    std::mutex mutex_;
    bool cancelled_ = false;
    std::shared_ptr<Post> post_;
};

}  // namespace mayaflow
