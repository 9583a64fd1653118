#pragma once
// The states of task instances and DAG runs, with Airflow's names so that its users and API
// clients read them as they expect.

#include <optional>
#include <string_view>

namespace mayaflow {

enum class TaskState {
    none,               // not yet considered (Airflow's None)
    scheduled,          // its trigger rule holds; waiting for a slot
    queued,             // given a slot; handed to the executor
    running,
    success,
    failed,
    up_for_retry,       // failed a try, waits for retry_delay
    up_for_reschedule,  // a sensor waiting for its next poke
    upstream_failed,
    skipped,
    removed,            // no longer in the DAG version the run uses
    deferred,           // waits on remote work (a BigQuery job) without a worker or a place in parallelism
};

enum class RunState { queued, running, success, failed };

std::string_view to_string(TaskState state);
std::string_view to_string(RunState state);
std::optional<TaskState> parse_task_state(std::string_view text);
std::optional<RunState> parse_run_state(std::string_view text);

// success, failed, skipped, upstream_failed, removed: the task will not run again unless cleared.
bool is_finished(TaskState state);
// queued, running or deferred: the executor has the try (a deferred one holds only its pool slots).
inline bool is_active(TaskState state) {
    return state == TaskState::queued || state == TaskState::running || state == TaskState::deferred;
}

}  // namespace mayaflow
