#pragma once
// LoginThrottle slows down password guessing: it counts failed sign-ins per key (a username, a
// client address) and, after `failures_allowed` within `window`, refuses that key for a while that
// doubles with each further failure. A success clears a key's count. Memory only: a restart
// forgets it, as it forgets the attacker's progress against a slow hash.

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/time/instant.h"

namespace mayaflow {

struct LoginThrottleOptions {
    int failures_allowed = 5;
    std::chrono::seconds window{15 * 60};
    std::chrono::seconds first_lockout{30};  // after the failure that reaches failures_allowed
    std::chrono::seconds longest_lockout{60 * 60};
};

class LoginThrottle {
  public:
    explicit LoginThrottle(LoginThrottleOptions options = {}) : options_(options) {}

    // How long `key` must still wait (whole seconds, at least 1), or nullopt when it may try.
    std::optional<std::chrono::seconds> wait_for(const std::string& key, Instant now);
    void failed(const std::string& key, Instant now);
    void succeeded(const std::string& key);

  private:
    struct Entry {
        std::deque<Instant> failures;  // within the window
        Instant locked_until{};
    };
    void forget_stale(Instant now);  // called with mutex_ held

    LoginThrottleOptions options_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace mayaflow
