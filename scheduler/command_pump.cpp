#include "scheduler/command_pump.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "scheduler/command_handler.h"

namespace mayaflow {

bool command_commits_with_turn(const std::string& kind) {
    return kind != "pause" && kind != "unpause" && kind != "pool_set" && kind != "pool_delete";
}

void CommandPump::pump(SchedulerCore& core) {
    for (auto it = unwritten_.begin(); it != unwritten_.end();) {
        if (!queue_.finish_command(it->first, it->second.first, it->second.second)) return;  // the store still fails
        it = unwritten_.erase(it);
    }
    auto pending = queue_.pending_commands();
    if (!pending) {
        spdlog::error("scheduler: cannot read the command queue: {}", pending.error().message);
        return;
    }
    for (const auto& command : *pending) {
        if (unwritten_.count(command.id)) continue;
        apply(core, command);
    }
}

void CommandPump::apply(SchedulerCore& core, const CommandRecord& command) {
    auto result = apply_command(core, store_, runs_, command.kind, command.payload);
    if (!result) {
        // Refused before it changed anything; whatever the turn holds is committed by the loop's turn.
        answer(command.id, false, nlohmann::json{{"error", result.error().message}});
        return;
    }
    if (!command_commits_with_turn(command.kind)) {
        answer(command.id, true, *result);
        return;
    }
    core.answer_command(command.id, true, *result);
    auto turn = core.run_turn();
    if (turn) return;
    spdlog::error("scheduler: command {} ({}) could not be committed, so it is not applied: {}", command.id,
                  command.kind, turn.error().message);
    answer(command.id, false,
           nlohmann::json{{"error", fmt::format("the scheduler could not commit the {} command, so nothing of it was "
                                                "applied: {}",
                                                command.kind, turn.error().message)}});
}

void CommandPump::answer(long long id, bool ok, nlohmann::json result) {
    auto written = queue_.finish_command(id, ok, result);
    if (written) return;
    spdlog::error("scheduler: cannot write the answer to command {}: {}", id, written.error().message);
    unwritten_[id] = {ok, std::move(result)};
}

}  // namespace mayaflow
