#pragma once
// HealthProbes are the daemon's periodic checks of what its turns cannot show, for /health: it writes
// the scheduler's heartbeat to the store (read by a web server in another process, and the way an
// idle daemon learns that its disk is full, or has room again), and writes a probe file to the logs
// folder (a task whose log cannot be written does not run). Run from the scheduler loop's idle tick.

#include <chrono>
#include <filesystem>
#include <functional>

#include "engine/store/store.h"
#include "scheduler/daemon_health.h"

namespace mayaflow {

class HealthProbes {
  public:
    using SteadyTime = std::chrono::steady_clock::time_point;
    struct Options {
        std::filesystem::path logs_folder;
        // How often both probes run; while the scheduler cannot commit, how often the heartbeat's
        // write checks whether the store takes writes again.
        std::chrono::milliseconds interval = std::chrono::seconds(5);
        std::chrono::milliseconds retry_interval = std::chrono::seconds(1);
    };

    // `record_heartbeat` writes the heartbeat to the store (Store::record_scheduler_heartbeat).
    using RecordHeartbeat = std::function<Status(const SchedulerHeartbeat&)>;

    HealthProbes(RecordHeartbeat record_heartbeat, DaemonHealth& health, SchedulerHeartbeat heartbeat,
                 Options options);

    // Runs the probes when they are due at `now` (the first call runs them).
    void run_due(SteadyTime now);

  private:
    void write_heartbeat(const DaemonHealth::Snapshot& snapshot);
    void probe_logs_folder(const DaemonHealth::Snapshot& snapshot);

    RecordHeartbeat record_heartbeat_;
    DaemonHealth& health_;
    SchedulerHeartbeat heartbeat_;
    Options options_;
    SteadyTime next_run_{};
};

}  // namespace mayaflow
