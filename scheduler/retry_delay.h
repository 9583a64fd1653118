#pragma once
// How long a failed task waits before its next try: Airflow 2.10's TaskInstance.next_retry_datetime,
// so that a DAG moved from Airflow retries at the same moments. With exponential backoff the wait
// doubles with each try and gets a deterministic jitter from a SHA-1 hash of the task instance, so
// two schedulers (or a restarted one) compute the same time. docs/scheduling-rules.md has the formula.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/model/dag.h"
#include "engine/time/instant.h"

namespace mayaflow {

// Airflow's MAX_RETRY_DELAY: no backoff wait is longer than a day.
inline constexpr Duration kMaxRetryDelay = std::chrono::hours(24);

// The wait after try number `try_number` failed (Airflow 2.10's try_number, which counts a try when
// it is scheduled: 1 after the first try failed). Without exponential backoff it is
// policy.retry_delay as written, and max_retry_delay is not applied (as in Airflow). With it:
// base = max(1, ceil(retry_delay_s * 2^(try_number-1))) seconds, wait = min(base + hash % base,
// 24 h, max_retry_delay) where hash is the SHA-1 of retry_hash_key(...). A zero max_retry_delay
// counts as unset, as Python's `if max_retry_delay:` does.
Duration retry_delay(const RetryPolicy& policy, const std::string& dag_id, const std::string& task_id,
                     Instant logical_date, int try_number);

// The pieces of retry_delay(), for tests and for explaining a wait in a log line.

// max(1, ceil(delay_s * 2^(try_number-1))) in whole seconds, computed exactly in integers; any value
// of a day or more is returned as 86400 (the result is capped there anyway, and Airflow's float
// arithmetic would overflow for very large try numbers).
std::int64_t backoff_base_seconds(Duration retry_delay, int try_number);

// "{dag_id}#{task_id}#{logical_date}#{try_number}" with the date as Python prints Airflow's
// pendulum date: 2024-03-01T00:00:00+00:00 (with .ffffff only when the microseconds are not zero).
std::string retry_hash_key(std::string_view dag_id, std::string_view task_id, Instant logical_date,
                           int try_number);

// The SHA-1 digest of `text` read as a 160-bit unsigned number (Python's
// int(sha1(text).hexdigest(), 16)), modulo `divisor` (std::invalid_argument when it is zero).
std::uint64_t sha1_remainder(std::string_view text, std::uint64_t divisor);

}  // namespace mayaflow
