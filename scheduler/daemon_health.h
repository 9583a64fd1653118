#pragma once
// DaemonHealth is what the daemon knows of its own health, for `/health`: when the scheduler last
// committed a turn, whether the store can be written and whether the logs folder can.
// Written by the scheduler loop and the daemon's watch; read by the web server's threads.

#include <mutex>
#include <optional>
#include <string>

#include "engine/time/instant.h"

namespace mayaflow {

class DaemonHealth {
  public:
    struct Snapshot {
        std::optional<Instant> latest_scheduler_heartbeat;  // the last turn whose decisions were committed
        std::optional<std::string> scheduler_problem;         // the last turn failed to commit: why
        std::optional<std::string> store_problem;             // the database cannot be written: why
        std::optional<std::string> logs_problem;              // the logs folder cannot be written: why
    };

    // A turn ended. One that wrote its decisions proves the store takes writes and clears a problem; one
    // that had nothing to write proves nothing, so after a failure it leaves the problem (and the
    // heartbeat) as they were: a scheduler on a full disk must not look healthy between its turns.
    void turn_committed(Instant at, bool wrote = true);
    void turn_failed(std::string why);
    // The daemon's own small write to the store (its heartbeat) failed: the scheduler is unhealthy.
    void store_write_failed(std::string why);
    // That write succeeded: a problem it or an earlier one found is over, unless the last turn failed
    // (a turn's batch may fail where a small write does not; the next turn that writes says).
    void store_written(Instant at);
    void set_store_problem(std::optional<std::string> problem);
    void set_logs_problem(std::optional<std::string> problem);
    Snapshot snapshot() const;

  private:
    mutable std::mutex mutex_;
    Snapshot state_;
    bool last_turn_failed_ = false;
};

}  // namespace mayaflow
