#pragma once
// The HTTP client that Slack and webhook messages go out through, shared by the slack_webhook
// operator and the scheduler's notifications: libcurl behind the retry rules (http_retry.h).
//
// Posting a message is not idempotent, and a message's POST is never marked repeatable: a call whose
// connection drops or times out after the request went out is not sent again (Slack may have posted
// it; a second send would post it twice), nor one answered 408, 500, 502 or 504. A failed connect
// (nothing sent), 429 (Retry-After waited out, up to kNotifyRetry.max_retry_after) and 503 are.

#include "engine/http/http_client.h"
#include "engine/http/http_retry.h"

namespace mayaflow::notify {

inline constexpr HttpRetryPolicy kNotifyRetry{.max_attempts = 4,
                                              .initial_delay = std::chrono::seconds(1),
                                              .max_delay = std::chrono::seconds(8),
                                              .max_retry_after = std::chrono::minutes(2)};

// How long one send may take, from the first byte sent to the last read.
inline constexpr Duration kNotifyTimeout = std::chrono::seconds(30);

// The process's client, made at first use.
HttpClient& notify_http();

}  // namespace mayaflow::notify
