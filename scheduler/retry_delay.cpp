#include "scheduler/retry_delay.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

#include "engine/time/iso8601.h"
#include "engine/time/time_zone.h"

namespace mayaflow {
namespace {

using Wide = unsigned __int128;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMaxRetryDelaySeconds =
    std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryDelay).count();

}  // namespace

std::int64_t backoff_base_seconds(Duration retry_delay, int try_number) {
    const std::int64_t delay_us = retry_delay.count();
    // ceil() of a zero or negative delay is at most 0, which Airflow raises to 1.
    if (delay_us <= 0) return 1;

    // base = ceil(delay_us * 2^exponent / 10^6) as an exact fraction. Airflow computes it with a
    // float and gets the same whole number for every try number from 1 up: the exact value is then
    // either a whole number, which the float holds exactly, or at least 10^-6 away from one, far
    // more than the float's error below a day.
    const std::int64_t exponent = std::int64_t{try_number} - 1;
    Wide numerator = static_cast<Wide>(delay_us);
    Wide denominator = kMicrosPerSecond;
    if (exponent >= 0) {
        const Wide cap_us = static_cast<Wide>(kMaxRetryDelaySeconds) * kMicrosPerSecond;
        for (std::int64_t i = 0; i < exponent && numerator < cap_us; ++i) numerator <<= 1;
    } else {
        // delay_us < 2^63, so dividing by 10^6 * 2^64 or more leaves a fraction below 1: ceil gives 1.
        if (-exponent >= 64) return 1;
        denominator <<= -exponent;
    }
    const Wide base = (numerator + denominator - 1) / denominator;
    return static_cast<std::int64_t>(std::clamp<Wide>(base, 1, kMaxRetryDelaySeconds));
}

std::string retry_hash_key(std::string_view dag_id, std::string_view task_id, Instant logical_date,
                           int try_number) {
    return fmt::format("{}#{}#{}#{}", dag_id, task_id, format_iso8601(logical_date, TimeZone::utc()),
                       try_number);
}

std::uint64_t sha1_remainder(std::string_view text, std::uint64_t divisor) {
    if (divisor == 0) throw std::invalid_argument("sha1_remainder: the divisor is zero");
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    // Horner's rule over the big-endian bytes; the remainder stays below 2^64, so remainder * 256
    // + byte fits in 128 bits.
    Wide remainder = 0;
    for (unsigned char byte : digest) remainder = (remainder * 256 + byte) % divisor;
    return static_cast<std::uint64_t>(remainder);
}

Duration retry_delay(const RetryPolicy& policy, const std::string& dag_id, const std::string& task_id,
                     Instant logical_date, int try_number) {
    if (!policy.exponential_backoff) return policy.retry_delay;

    const std::int64_t base = backoff_base_seconds(policy.retry_delay, try_number);
    const auto jitter = static_cast<std::int64_t>(sha1_remainder(
        retry_hash_key(dag_id, task_id, logical_date, try_number), static_cast<std::uint64_t>(base)));
    Duration wait = std::chrono::seconds(std::min(base + jitter, kMaxRetryDelaySeconds));
    if (policy.max_retry_delay && policy.max_retry_delay->count() != 0) {
        wait = std::min(wait, *policy.max_retry_delay);
    }
    return wait;
}

}  // namespace mayaflow
