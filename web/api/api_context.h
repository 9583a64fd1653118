#pragma once
// What the API's handlers work with: the store (through its interfaces; the web server has its own
// connection to the database), the connections and variables opened with the keyring, the daemon's
// health when it runs in the daemon's process, and the settings.

#include <chrono>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/config/settings.h"
#include "engine/connections/secrets_repository.h"
#include "engine/store/command_queue.h"
#include "engine/store/connection_store.h"
#include "engine/store/run_store.h"
#include "engine/store/store.h"
#include "engine/store/user_store.h"
#include "scheduler/daemon_health.h"
#include "scheduler/dag_processor.h"
#include "web/api/dag_version_cache.h"
#include "web/http_types.h"

namespace mayaflow {

class StoreAuthenticator;

struct ApiContext {
    Store& store;
    RunStore& runs;
    CommandQueue& commands;
    ConnectionStore& connection_store;
    UserStore& users;  // web/api/user_routes.cpp
    SecretsRepository* secrets = nullptr;  // null: no keyring could be opened (connections answer 503)
    Settings settings;
    const DaemonHealth* health = nullptr;  // the daemon's own, when the API runs in its process
    std::function<DagFolderStatus()> dag_folder_status;  // likewise
    // Asks the scheduler to take pending commands now rather than at its next idle check.
    std::function<void()> wake_scheduler;
    // Sign-in with a session and the throttle it shares with the other schemes; null when the
    // daemon runs without authentication (the session endpoints then answer 404).
    StoreAuthenticator* accounts = nullptr;
    // The DAG versions runs name, parsed once for all requests.
    std::shared_ptr<DagVersionCache> dag_versions = std::make_shared<DagVersionCache>();
};

// What became of a command sent to the scheduler.
struct CommandOutcome {
    enum class Kind { done, refused, not_taken } kind = Kind::not_taken;
    nlohmann::json result;  // done: the scheduler's answer
    std::string error;      // refused: why, in the scheduler's words; not_taken: what to do
};

// Sends a command (scheduler/command_handler.h lists the kinds) through the command queue and
// waits for the scheduler's answer, at most `wait`. A command the scheduler has not taken by then
// stays queued (it is taken when a scheduler runs) and the outcome says so.
CommandOutcome send_scheduler_command(ApiContext& context, const std::string& kind, const nlohmann::json& payload,
                                      std::chrono::milliseconds wait = std::chrono::seconds(30));

// The answer for a command that was refused or not taken: 400/404/409 from the scheduler's words
// for a refusal, 503 when it was not taken.
WebResponse command_failure(const CommandOutcome& outcome);

}  // namespace mayaflow
