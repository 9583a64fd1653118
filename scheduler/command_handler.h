#pragma once
// The commands a user sends the scheduler (from the CLI through the command queue, or from the web
// server in-process), applied to the SchedulerCore on the scheduler's thread. Each answers with JSON
// or an error that says what was wrong.

#include <nlohmann/json.hpp>

#include "engine/store/store.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow {

// kind: trigger | pause | unpause | clear | mark | mark_tasks | set_run_state | delete_run |
// delete_dag | backfill | backfill_pause | backfill_resume | backfill_cancel | pool_set |
// pool_delete. See docs/cli.md and docs/api-runs.md for the payloads.
Result<nlohmann::json> apply_command(SchedulerCore& core, Store& store, RunStore& runs, const std::string& kind,
                                     const nlohmann::json& payload);

}  // namespace mayaflow
