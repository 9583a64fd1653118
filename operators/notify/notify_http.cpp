#include "operators/notify/notify_http.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <random>

#include "engine/http/curl_http_client.h"
#include "engine/time/duration_text.h"

namespace mayaflow::notify {

void CancelSignal::cancel(std::string why) {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    why_ = std::move(why);
    wake_.notify_all();
}

bool CancelSignal::cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
}

std::string CancelSignal::why() const {
    std::lock_guard lock(mutex_);
    return why_;
}

// One send's answer, handed from the I/O thread to the waiting caller under the signal's mutex (so
// that one condition variable wakes the caller for an answer and for a cancel alike).
struct PostWaiter {
    std::shared_ptr<CancelSignal> signal;

    struct Slot {
        std::optional<HttpResponse> response;
    };

    HttpClient::Callback receiver(const std::shared_ptr<Slot>& slot) const {
        return [signal = signal, slot](HttpResponse response) {
            std::lock_guard lock(signal->mutex_);
            slot->response = std::move(response);
            signal->wake_.notify_all();
        };
    }

    // Until `slot` is filled, the signal cancels or `until` passes; false when no answer came.
    bool wait_for_answer(const Slot& slot, std::chrono::steady_clock::time_point until) const {
        std::unique_lock lock(signal->mutex_);
        return signal->wake_.wait_until(lock, until, [&] { return slot.response || signal->cancelled_; }) &&
               slot.response.has_value();
    }

    HttpResponse take(Slot& slot) const {
        std::lock_guard lock(signal->mutex_);
        return std::move(*slot.response);
    }

    // Until the signal cancels or `until` passes; true when cancelled.
    bool sleep_until(std::chrono::steady_clock::time_point until) const {
        std::unique_lock lock(signal->mutex_);
        return signal->wake_.wait_until(lock, until, [&] { return signal->cancelled_; });
    }
};

namespace {

using SteadyClock = std::chrono::steady_clock;

Duration left_until(SteadyClock::time_point deadline) {
    return std::chrono::duration_cast<Duration>(deadline - SteadyClock::now());
}

std::string seconds_text(Duration duration) {
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(duration + std::chrono::milliseconds(999)));
}

PostOutcome cancelled_outcome(const CancelSignal& signal) {
    PostOutcome outcome;
    outcome.cancelled = true;
    outcome.response.transport_error = TransportError::other;
    outcome.response.error = "cancelled";
    outcome.ended_early = signal.why().empty() ? std::string("cancelled") : signal.why();
    return outcome;
}

}  // namespace

PostOutcome post_within(HttpClient& transport, HttpRequest request, SteadyClock::time_point deadline,
                        std::shared_ptr<CancelSignal> cancel) {
    PostWaiter waiter{cancel ? std::move(cancel) : std::make_shared<CancelSignal>()};
    thread_local std::mt19937_64 random{std::random_device{}()};
    const Duration send_timeout = request.timeout;
    const Duration connect_timeout = request.connect_timeout;
    for (int attempt = 1;; ++attempt) {
        if (waiter.signal->cancelled()) return cancelled_outcome(*waiter.signal);
        const Duration left = left_until(deadline);
        if (left <= Duration::zero()) {
            PostOutcome outcome;
            outcome.response.transport_error = TransportError::timeout;
            outcome.response.error = "no time was left to send it";
            outcome.response.attempts = attempt - 1;
            outcome.ended_early = "its deadline passed before it could be sent";
            return outcome;
        }
        request.timeout = std::min(send_timeout, left);
        request.connect_timeout = std::min(connect_timeout, left);
        auto slot = std::make_shared<PostWaiter::Slot>();
        transport.send(request, waiter.receiver(slot));
        // The transport's own timeout ends the send; the deadline is only a backstop for a transport
        // that keeps no time (a second more, so that its own answer says what happened).
        if (!waiter.wait_for_answer(*slot, deadline + std::chrono::seconds(1))) {
            if (waiter.signal->cancelled()) return cancelled_outcome(*waiter.signal);
            PostOutcome outcome;
            outcome.response.transport_error = TransportError::timeout;
            outcome.response.error = "no answer before the deadline";
            outcome.response.attempts = attempt;
            outcome.ended_early = "no answer came before its deadline";
            return outcome;
        }
        PostOutcome outcome;
        outcome.response = waiter.take(*slot);
        outcome.response.attempts = attempt;
        const Duration now_left = left_until(deadline);
        HttpRetryPolicy policy = kNotifyRetry;
        policy.max_retry_after = std::max(now_left, Duration::zero());
        const auto wall_now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
        const auto delay = retry_delay(policy, request, outcome.response, attempt, wall_now, random);
        if (!delay) {
            if (attempt < policy.max_attempts && is_retryable(request, outcome.response)) {
                // Only a Retry-After past the deadline ends a retryable call before its attempts are used.
                const auto header = outcome.response.header("retry-after");
                const auto asked = header ? parse_retry_after(*header, wall_now) : std::nullopt;
                outcome.ended_early =
                    fmt::format("it asked to wait {} (Retry-After) before sending again, more than the {} left before "
                                "the deadline: not sent again",
                                asked ? seconds_text(*asked) : std::string("long"), seconds_text(now_left));
            }
            return outcome;
        }
        if (*delay >= now_left) {
            outcome.ended_early = fmt::format("the {} to wait before sending again is more than the {} left before the "
                                              "deadline: not sent again",
                                              seconds_text(*delay), seconds_text(now_left));
            return outcome;
        }
        if (waiter.sleep_until(SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(*delay))) {
            return cancelled_outcome(*waiter.signal);
        }
    }
}

Result<std::string> trimmed_webhook_url(std::string_view url, std::string_view conn_id) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    const auto first = url.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return std::string();
    url = url.substr(first, url.find_last_not_of(kSpace) - first + 1);
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            return make_error("connection '{}': its webhook URL has a {} inside it: fix the connection (the URL is "
                              "not shown, as it is a secret)",
                              conn_id, byte == 0x20 ? "space" : "control character (a line break, a tab …)");
        }
    }
    return std::string(url);
}

HttpClient& notify_http() {
    static CurlHttpClient client;
    return client;
}

}  // namespace mayaflow::notify
