#pragma once
// CommandQueue carries commands from CLI processes to the running scheduler, which owns every write
// to run state: the CLI enqueues a command and waits for its answer; the scheduler takes pending
// commands between two turns and answers each.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

struct CommandRecord {
    long long id = 0;
    std::string kind;        // trigger | pause | unpause | clear | mark
    nlohmann::json payload;  // the command's arguments
    std::string state;       // pending | done | failed
    nlohmann::json result;   // done: the answer; failed: {"error": "..."}
};

class CommandQueue {
  public:
    virtual ~CommandQueue() = default;
    virtual Result<long long> enqueue_command(const std::string& kind, const nlohmann::json& payload) = 0;
    virtual Result<std::vector<CommandRecord>> pending_commands() = 0;
    virtual Status finish_command(long long id, bool ok, const nlohmann::json& result) = 0;
    virtual Result<std::optional<CommandRecord>> find_command(long long id) = 0;
};

}  // namespace mayaflow
