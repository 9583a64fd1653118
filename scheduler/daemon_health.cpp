#include "scheduler/daemon_health.h"

namespace mayaflow {

void DaemonHealth::turn_committed(Instant at) {
    std::lock_guard lock(mutex_);
    state_.latest_scheduler_heartbeat = at;
    state_.scheduler_problem.reset();
}

void DaemonHealth::turn_failed(std::string why) {
    std::lock_guard lock(mutex_);
    state_.scheduler_problem = std::move(why);
}

void DaemonHealth::set_store_problem(std::optional<std::string> problem) {
    std::lock_guard lock(mutex_);
    state_.store_problem = std::move(problem);
}

DaemonHealth::Snapshot DaemonHealth::snapshot() const {
    std::lock_guard lock(mutex_);
    return state_;
}

}  // namespace mayaflow
