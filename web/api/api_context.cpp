#include "web/api/api_context.h"

#include <fmt/format.h>

#include <thread>

#include "web/api/problem.h"

namespace mayaflow {

CommandOutcome send_scheduler_command(ApiContext& context, const std::string& kind, const nlohmann::json& payload,
                                      std::chrono::milliseconds wait) {
    CommandOutcome outcome;
    auto id = context.commands.enqueue_command(kind, payload);
    if (!id) {
        outcome.error = fmt::format("the command could not be queued: {}", id.error().message);
        return outcome;
    }
    if (context.wake_scheduler) context.wake_scheduler();
    auto deadline = std::chrono::steady_clock::now() + wait;
    auto pause = std::chrono::milliseconds(2);
    while (true) {
        auto command = context.commands.find_command(*id);
        if (command && *command && (*command)->state == "done") {
            outcome.kind = CommandOutcome::Kind::done;
            outcome.result = (*command)->result;
            return outcome;
        }
        if (command && *command && (*command)->state == "failed") {
            outcome.kind = CommandOutcome::Kind::refused;
            outcome.error = (*command)->result.value("error", std::string("the scheduler refused the command"));
            return outcome;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    outcome.error = fmt::format(
        "the scheduler did not take the command within {} s; it stays queued and is carried out when a scheduler "
        "runs on this database (GET /api/v1/health shows the scheduler's heartbeat)",
        std::chrono::duration_cast<std::chrono::seconds>(wait).count());
    return outcome;
}

WebResponse command_failure(const CommandOutcome& outcome) {
    if (outcome.kind == CommandOutcome::Kind::not_taken) return problem(503, outcome.error);
    const std::string& error = outcome.error;
    // The scheduler's refusals say "no DAG/run/task …" for what does not exist, "already exists"
    // for a clash; anything else is a request it cannot carry out as given.
    if (error.starts_with("no ") || error.find("not found") != std::string::npos) return not_found(error);
    if (error.find("already") != std::string::npos) return conflict(error);
    return bad_request(error);
}

}  // namespace mayaflow
