#include "web/auth/login_throttle.h"

#include <algorithm>

namespace mayaflow {
namespace {

// Past this many keys, the ones with nothing recent are dropped before a new one is added.
constexpr size_t kEntriesBeforeSweep = 10'000;

}  // namespace

std::optional<std::chrono::seconds> LoginThrottle::wait_for(const std::string& key, Instant now) {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(key);
    if (found == entries_.end() || found->second.locked_until <= now) return std::nullopt;
    auto left = std::chrono::ceil<std::chrono::seconds>(found->second.locked_until - now);
    return std::max(left, std::chrono::seconds(1));
}

void LoginThrottle::failed(const std::string& key, Instant now) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kEntriesBeforeSweep && !entries_.contains(key)) forget_stale(now);
    auto& entry = entries_[key];
    while (!entry.failures.empty() && entry.failures.front() <= now - options_.window) entry.failures.pop_front();
    entry.failures.push_back(now);
    const int beyond = static_cast<int>(entry.failures.size()) - options_.failures_allowed;
    if (beyond < 0) return;
    auto lockout = options_.first_lockout;
    for (int i = 0; i < beyond && lockout < options_.longest_lockout; ++i) lockout *= 2;
    entry.locked_until = now + std::min(lockout, options_.longest_lockout);
}

void LoginThrottle::succeeded(const std::string& key) {
    std::lock_guard lock(mutex_);
    entries_.erase(key);
}

void LoginThrottle::forget_stale(Instant now) {
    std::erase_if(entries_, [&](const auto& item) {
        const Entry& entry = item.second;
        return entry.locked_until <= now && (entry.failures.empty() || entry.failures.back() <= now - options_.window);
    });
}

}  // namespace mayaflow
