#pragma once
// When an outbound call is sent again, and after how long: Google's advice for its APIs
// (exponential backoff with jitter on 429, 5xx and broken connections, Retry-After honoured), and
// never a second send of a request that may already have been acted on unless it is safe to repeat.
// RetryingHttpClient applies the rules in front of a transport.

#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>

#include "engine/http/http_client.h"

namespace mayaflow {

struct HttpRetryPolicy {
    int max_attempts = 5;  // sends in all, the first included
    Duration initial_delay = std::chrono::seconds(1);
    Duration max_delay = std::chrono::seconds(32);
    double multiplier = 2.0;
    // A Retry-After longer than this is not waited for: the call fails with the answer it got.
    Duration max_retry_after = std::chrono::minutes(5);
};

// Retry-After as seconds ("120") or an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"), relative to `now`;
// nullopt when absent or unreadable. A date in the past is zero.
std::optional<Duration> parse_retry_after(std::string_view value, Instant now);

// Whether `response` is worth another send of `request`: 408, 429, 500, 502, 503, 504, a timeout or
// a broken connection — the latter two only when the request is idempotent or repeatable, since
// it may have been acted on. A failed connect (nothing sent) always is.
bool is_retryable(const HttpRequest& request, const HttpResponse& response);

// The delay before send number `attempt + 1` (attempt ≥ 1 sends made so far), or nullopt when the
// call should end with `response`: not retryable, attempts used up, or a Retry-After past the cap.
// Without Retry-After: initial_delay × multiplier^(attempt-1), capped at max_delay, then a random
// part of it (between half and all) so that many clients do not retry in step.
std::optional<Duration> retry_delay(const HttpRetryPolicy& policy, const HttpRequest& request,
                                    const HttpResponse& response, int attempt, Instant now, std::mt19937_64& random);

class RetryingHttpClient : public HttpClient {
  public:
    RetryingHttpClient(HttpClient& transport, HttpRetryPolicy policy) : transport_(transport), policy_(policy) {}

    void send(HttpRequest request, Callback done) override;
    void run_after(Duration delay, std::function<void()> action) override {
        transport_.run_after(delay, std::move(action));
    }

  private:
    struct Call;
    void attempt(std::shared_ptr<Call> call);

    HttpClient& transport_;
    HttpRetryPolicy policy_;
    std::mutex random_mutex_;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace mayaflow
