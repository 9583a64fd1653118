#include "operators/async_try.h"

#include <fmt/format.h>

#include "engine/time/duration_text.h"
#include "operators/shell_process.h"

namespace mayaflow {

void AsyncTry::log(std::string_view line) {
    std::lock_guard lock(mutex);
    if (run) (void)append_log_line(*run, line);
}

bool AsyncTry::ended() {
    std::lock_guard lock(mutex);
    return !done;
}

void AsyncTry::finish(OperatorResult result) {
    Operator::Done ending;
    {
        std::lock_guard lock(mutex);
        ending.swap(done);
        release();
        if (ending && run) {
            result.message = mask_secrets(*run, result.message);
            on_finish(result);
        }
        run = nullptr;
    }
    if (ending) ending(std::move(result));
}

void AsyncTry::fail(std::string message) {
    finish(OperatorResult{.outcome = TaskOutcome::failed, .message = std::move(message)});
}

OperatorResult AsyncTry::stopped_result() {
    std::lock_guard lock(mutex);
    if (detached) {
        return OperatorResult{.outcome = TaskOutcome::failed,
                              .message = "left to its remote work as the daemon stopped",
                              .detached = true,
                              .retryable = false};
    }
    if (timed_out) {
        return OperatorResult{.outcome = TaskOutcome::failed,
                              .message = fmt::format("timed out after {}", format_duration(timeout)),
                              .timed_out = true};
    }
    return OperatorResult{
        .outcome = TaskOutcome::failed, .message = "cancelled", .cancelled = true, .retryable = false};
}

bool AsyncTry::stopping() {
    std::lock_guard lock(mutex);
    return cancelled || timed_out || detached;
}

bool AsyncTry::cancel() {
    std::lock_guard lock(mutex);
    if (cancelled) return false;
    cancelled = true;
    return true;
}

bool AsyncTry::detach() {
    std::lock_guard lock(mutex);
    if (!done || cancelled || detached) return false;
    detached = true;
    return true;
}

bool AsyncTry::time_out() {
    std::lock_guard lock(mutex);
    if (!done) return false;
    timed_out = true;
    return true;
}

}  // namespace mayaflow
