// SchedulerCore's commands on whole runs and DAGs from the API: setting a run's state by hand,
// deleting a run, deleting a DAG whose file is gone.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "scheduler/scheduler_core.h"

namespace mayaflow {

void SchedulerCore::drop_from_queue(LiveRun& run) {
    for (auto it = queued_runs_.begin(); it != queued_runs_.end(); ++it) {
        if (it->second != run.row.pk) continue;
        queued_runs_.erase(it);
        leave_queue(run);
        return;
    }
}

Result<std::vector<std::string>> SchedulerCore::set_run_state(const std::string& dag_id, const std::string& run_id,
                                                              RunState state) {
    auto brought = bring_back(dag_id, run_id);
    if (!brought) return brought.error();
    LiveRun& run = **brought;
    const RunState previous = run.row.state;
    const bool was_finished = previous == RunState::success || previous == RunState::failed;
    Instant now = clock_.now();
    std::vector<std::string> changed;
    if (state == RunState::queued) {
        if (previous == RunState::running) {
            return make_error("run '{}' of DAG '{}' is already running; mark it success or failed, or clear it, to run "
                              "it again",
                              run_id, dag_id);
        }
        if (previous == RunState::queued) return changed;
        // As Airflow's set_dag_run_state_to_queued: the run waits for a slot again; when it starts,
        // its tasks decide as they stand.
        run.row.state = RunState::queued;
        run.row.end_date.reset();
        batch_.run_changes.push_back({run.row.pk, RunState::queued, std::nullopt, std::nullopt});
        queue_run(run);
        return changed;
    }
    if (state != RunState::success && state != RunState::failed) {
        return make_error("a run can be set to success, failed or queued, not {}", to_string(state));
    }
    std::string message = fmt::format("marked {} with its run by hand", to_string(state));
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        auto& task = run.tasks[i];
        TaskState current = task.row.state;
        TaskState target;
        if (state == RunState::success) {
            if (current == TaskState::success) continue;
            target = TaskState::success;
        } else {
            if (is_finished(current)) continue;
            target = is_active(current) ? TaskState::failed : TaskState::skipped;
        }
        if (is_active(current)) {
            cancel_try(TryKey{run.row.pk, i, task.row.try_number});
            release_slot(run, i);
        }
        set_state(run, i, target);
        task.row.end_date = now;
        task.row.next_try_at.reset();
        task.row.message = message;
        changed.push_back(task.row.task_id);
    }
    if (previous == RunState::queued) drop_from_queue(run);
    run.row.state = state;
    run.row.end_date = now;
    batch_.run_changes.push_back({run.row.pk, state, std::nullopt, now});
    if (previous == RunState::running) {
        run_finished(run, now);
    } else {
        finished_runs_.insert(run.row.pk);
        if (!was_finished) queued_check_needed_ = true;
    }
    return changed;
}

void SchedulerCore::forget_run(LiveRun& run, Instant now) {
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        auto& task = run.tasks[i];
        if (!is_active(task.row.state)) continue;
        cancel_try(TryKey{run.row.pk, i, task.row.try_number});  // its late report finds no run
        release_slot(run, i);
    }
    if (run.row.state == RunState::queued) drop_from_queue(run);
    if (run.row.state == RunState::running) run_finished(run, now);
    finished_runs_.erase(run.row.pk);
    runs_.erase(run.row.pk);
}

Status SchedulerCore::delete_run(const std::string& dag_id, const std::string& run_id) {
    long long pk = 0;
    if (LiveRun* run = find_run(dag_id, run_id)) {
        pk = run->row.pk;
        forget_run(*run, clock_.now());
    } else {
        auto stored = store_.find_run(dag_id, run_id, false);
        if (!stored) return stored.error();
        if (!*stored) return make_error("no run '{}' of DAG '{}'", run_id, dag_id);
        pk = (*stored)->pk;
    }
    batch_.deleted_runs.push_back(pk);
    spdlog::info("scheduler: run {} of DAG '{}' deleted", run_id, dag_id);
    return Status::success();
}

Status SchedulerCore::delete_dag(const std::string& dag_id) {
    auto entry = dags_.find(dag_id);
    if (entry != dags_.end() && entry->second.dag) {
        return make_error("DAG '{}' is still defined by its file {}; remove the file first, then delete the DAG",
                          dag_id, entry->second.dag->fileloc);
    }
    Instant now = clock_.now();
    std::vector<long long> pks = active_run_pks(dag_id);
    for (long long pk : pks) forget_run(runs_.at(pk), now);
    for (auto it = backfills_.begin(); it != backfills_.end();) {
        it = it->second.row.dag_id == dag_id ? backfills_.erase(it) : std::next(it);
    }
    held_by_pause_.erase(dag_id);
    if (entry != dags_.end()) dags_.erase(entry);
    batch_.deleted_dags.push_back(dag_id);
    spdlog::info("scheduler: DAG '{}' deleted with {} runs under way", dag_id, pks.size());
    return Status::success();
}

}  // namespace mayaflow
