#pragma once
// DaemonHealth is what the daemon knows of its own health, for `/health`: when the scheduler last
// committed a turn and whether the store can be written.
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
    };

    void turn_committed(Instant at);
    void turn_failed(std::string why);
    void set_store_problem(std::optional<std::string> problem);
    Snapshot snapshot() const;

  private:
    mutable std::mutex mutex_;
    Snapshot state_;
};

}  // namespace mayaflow
