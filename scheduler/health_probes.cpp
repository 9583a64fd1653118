#include "scheduler/health_probes.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <utility>

#include "engine/exec/folder_probe.h"

namespace mayaflow {

HealthProbes::HealthProbes(RecordHeartbeat record_heartbeat, DaemonHealth& health, SchedulerHeartbeat heartbeat,
                           Options options)
    : record_heartbeat_(std::move(record_heartbeat)),
      health_(health),
      heartbeat_(std::move(heartbeat)),
      options_(std::move(options)) {}

void HealthProbes::run_due(SteadyTime now) {
    if (now < next_run_) return;
    const DaemonHealth::Snapshot snapshot = health_.snapshot();
    write_heartbeat(snapshot);
    probe_logs_folder(snapshot);
    // Sooner while the scheduler is unhealthy, this write's failure included.
    next_run_ = now + (health_.snapshot().scheduler_problem ? options_.retry_interval : options_.interval);
}

// The time of the last turn that committed, so that a scheduler that cannot commit stops looking
// alive. Writing it also checks that the store takes writes while the turns have nothing to write:
// it fails on a full disk, and once it succeeds again the scheduler is healthy again.
void HealthProbes::write_heartbeat(const DaemonHealth::Snapshot& snapshot) {
    const bool probing = snapshot.scheduler_problem.has_value();
    if (!snapshot.latest_scheduler_heartbeat && !probing) return;  // no turn has committed yet
    // While unhealthy the stored heartbeat stays the last good one; only the write is tried.
    if (snapshot.latest_scheduler_heartbeat) heartbeat_.latest_heartbeat = *snapshot.latest_scheduler_heartbeat;
    if (Status written = record_heartbeat_(heartbeat_); !written) {
        if (!probing) spdlog::error("could not record the scheduler's heartbeat: {}", written.error().message);
        health_.store_write_failed(written.error().message);
    } else if (probing) {
        health_.store_written(now_instant());
    }
}

void HealthProbes::probe_logs_folder(const DaemonHealth::Snapshot& snapshot) {
    const Status logs = probe_writable_folder(options_.logs_folder);
    std::optional<std::string> problem;
    if (!logs) problem = logs.error().message + "; tasks fail without running until it can be written";
    if (problem == snapshot.logs_problem) return;
    if (problem) spdlog::error("the logs folder: {}", *problem);
    else spdlog::info("the logs folder \"{}\" can be written again", options_.logs_folder.string());
    health_.set_logs_problem(std::move(problem));
}

}  // namespace mayaflow
