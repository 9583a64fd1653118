#pragma once
// CommandPump applies the commands that other processes (the CLI) leave in the command queue,
// on the scheduler's thread between two turns. A command that changes runs is committed in a turn
// of its own together with its answer, so whoever waits reads "done" only once its effects are in
// the database; when that turn cannot be committed the command fails with the error, the
// scheduler reloads its state from the store, and the other commands and DAGs go on.

#include <map>
#include <nlohmann/json.hpp>

#include "engine/store/command_queue.h"
#include "engine/store/store.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow {

class CommandPump {
  public:
    CommandPump(Store& store, RunStore& runs, CommandQueue& queue) : store_(store), runs_(runs), queue_(queue) {}

    // Applies every pending command, oldest first.
    void pump(SchedulerCore& core);

  private:
    void apply(SchedulerCore& core, const CommandRecord& command);
    void answer(long long id, bool ok, nlohmann::json result);

    Store& store_;
    RunStore& runs_;
    CommandQueue& queue_;
    // Answers that could not be written yet (the store failed): written again before anything
    // else, and their commands are not applied a second time meanwhile.
    std::map<long long, std::pair<bool, nlohmann::json>> unwritten_;
};

// Whether a command's effects are written by the scheduler's batch (trigger, clear, mark,
// backfills) rather than at once by the command itself (pause, pools).
bool command_commits_with_turn(const std::string& kind);

}  // namespace mayaflow
