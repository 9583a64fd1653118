#include "engine/http/http_retry.h"

#include <date/date.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace mayaflow {

std::optional<Duration> parse_retry_after(std::string_view value, Instant now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (value.size() > 9) return std::chrono::days(365);  // absurdly long: past any cap
        long long seconds = 0;
        std::from_chars(value.data(), value.data() + value.size(), seconds);
        return std::chrono::seconds(seconds);
    }
    // IMF-fixdate, the form RFC 9110 requires senders to use.
    std::istringstream in{std::string(value)};
    date::sys_seconds when;
    in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", when);
    if (in.fail()) return std::nullopt;
    const auto delay = std::chrono::duration_cast<Duration>(when - now);
    return std::max(delay, Duration::zero());
}

bool is_retryable(const HttpRequest& request, const HttpResponse& response) {
    const bool repeatable = request.idempotent() || request.repeatable;
    switch (response.transport_error) {
        case TransportError::none:
            break;
        case TransportError::connect:
            return true;
        case TransportError::timeout:
        case TransportError::dropped:
            return repeatable;
        case TransportError::tls:
        case TransportError::other:
            return false;
    }
    const int status = response.status;
    if (status == 429 || status == 503) return true;  // not acted on, by their meaning
    if (status == 408 || status == 500 || status == 502 || status == 504) return repeatable;
    return false;
}

std::optional<Duration> retry_delay(const HttpRetryPolicy& policy, const HttpRequest& request,
                                    const HttpResponse& response, int attempt, Instant now,
                                    std::mt19937_64& random) {
    if (attempt >= policy.max_attempts || !is_retryable(request, response)) return std::nullopt;
    if (auto retry_after = response.header("retry-after")) {
        if (auto delay = parse_retry_after(*retry_after, now)) {
            if (*delay > policy.max_retry_after) return std::nullopt;
            return *delay;
        }
    }
    const double base = static_cast<double>(policy.initial_delay.count()) *
                        std::pow(policy.multiplier, static_cast<double>(attempt - 1));
    const double capped = std::min(base, static_cast<double>(policy.max_delay.count()));
    std::uniform_real_distribution<double> share(0.5, 1.0);
    return Duration(static_cast<Duration::rep>(capped * share(random)));
}

struct RetryingHttpClient::Call {
    HttpRequest request;
    Callback done;
    int attempts = 0;
};

void RetryingHttpClient::send(HttpRequest request, Callback done) {
    attempt(std::make_shared<Call>(Call{std::move(request), std::move(done), 0}));
}

void RetryingHttpClient::attempt(std::shared_ptr<Call> call) {
    ++call->attempts;
    HttpRequest copy = call->request;
    transport_.send(std::move(copy), [this, call](HttpResponse response) {
        std::optional<Duration> delay;
        {
            std::lock_guard lock(random_mutex_);
            delay = retry_delay(policy_, call->request, response, call->attempts,
                                std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()), random_);
        }
        if (!delay) {
            response.attempts = call->attempts;
            call->done(std::move(response));
            return;
        }
        transport_.run_after(*delay, [this, call] { attempt(call); });
    });
}

}  // namespace mayaflow
