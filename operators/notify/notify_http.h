#pragma once
// How Slack and webhook messages go out, for the slack_webhook operator and the scheduler's
// notifications: libcurl sending each request once, and post_within() deciding whether to send
// again, waiting on the calling thread within a deadline that a cancel ends at once.
//
// Posting a message is not idempotent, and a message's POST is never marked repeatable: a call whose
// connection drops or times out after the request went out is not sent again (Slack may have posted
// it; a second send would post it twice), nor one answered 408, 500, 502 or 504. A failed connect
// (nothing sent), 429 and 503 are, after Retry-After or a backoff — unless that wait would pass the
// deadline: then the call ends at once, saying so.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/http/http_client.h"
#include "engine/http/http_retry.h"
#include "engine/util/result.h"

namespace mayaflow::notify {

inline constexpr HttpRetryPolicy kNotifyRetry{.max_attempts = 4,
                                              .initial_delay = std::chrono::seconds(1),
                                              .max_delay = std::chrono::seconds(8)};

// How long one send may take, from the first byte sent to the last read (less when the deadline is nearer).
inline constexpr Duration kNotifyTimeout = std::chrono::seconds(30);

// How long one notification may take in all, its sends and waits between them included.
inline constexpr Duration kDefaultDeliveryBudget = std::chrono::seconds(60);

// CancelSignal ends the waits of post_within at once: the daemon stopping, a task cancelled or past
// its execution_timeout. Shared, since a send's answer may come after its caller has gone.
class CancelSignal {
  public:
    // Wakes every wait; `why` ("the daemon is stopping") is what the ended calls say.
    void cancel(std::string why);
    bool cancelled() const;
    std::string why() const;

  private:
    friend struct PostWaiter;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool cancelled_ = false;
    std::string why_;
};

// What post_within ended with: the last answer (or why none came), and, when it ended early,
// why it did not send again or wait for the answer.
struct PostOutcome {
    HttpResponse response;
    bool cancelled = false;  // no answer waited for: `ended_early` says why
    std::string ended_early;  // "" when the answer is the last word
};

// Sends `request` through `transport` (which sends once) and again per kNotifyRetry, all before
// `deadline`: each send's timeout is cut to what is left, and a Retry-After or backoff reaching past
// the deadline ends the call with the answer it got. `cancel` (may be null) ends it at once. Never
// call it on the HTTP client's I/O thread.
PostOutcome post_within(HttpClient& transport, HttpRequest request, std::chrono::steady_clock::time_point deadline,
                        std::shared_ptr<CancelSignal> cancel);

// A webhook URL as a connection holds it, its ends trimmed of whitespace (a pasted URL often brings
// a newline along, and Airflow's HttpHook strips it too); an error naming the connection, never the
// URL (a secret), when a space or control character is left inside.
Result<std::string> trimmed_webhook_url(std::string_view url, std::string_view conn_id);

// The process's client, made at first use: libcurl, each request sent once.
HttpClient& notify_http();

}  // namespace mayaflow::notify
