#include "scheduler/daemon_health.h"

namespace mayaflow {

void DaemonHealth::turn_committed(Instant at, bool wrote) {
    std::lock_guard lock(mutex_);
    last_turn_failed_ = false;
    if (!wrote && state_.scheduler_problem) return;
    state_.latest_scheduler_heartbeat = at;
    state_.scheduler_problem.reset();
}

void DaemonHealth::turn_failed(std::string why) {
    std::lock_guard lock(mutex_);
    last_turn_failed_ = true;
    state_.scheduler_problem = std::move(why);
}

void DaemonHealth::store_write_failed(std::string why) {
    std::lock_guard lock(mutex_);
    state_.scheduler_problem = std::move(why);
}

void DaemonHealth::store_written(Instant at) {
    std::lock_guard lock(mutex_);
    if (!state_.scheduler_problem || last_turn_failed_) return;
    state_.latest_scheduler_heartbeat = at;
    state_.scheduler_problem.reset();
}

void DaemonHealth::set_store_problem(std::optional<std::string> problem) {
    std::lock_guard lock(mutex_);
    state_.store_problem = std::move(problem);
}

void DaemonHealth::set_logs_problem(std::optional<std::string> problem) {
    std::lock_guard lock(mutex_);
    state_.logs_problem = std::move(problem);
}

DaemonHealth::Snapshot DaemonHealth::snapshot() const {
    std::lock_guard lock(mutex_);
    return state_;
}

}  // namespace mayaflow
