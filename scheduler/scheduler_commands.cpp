// SchedulerCore's recovery after a restart, the changes people make by hand (clear, mark), and the
// end of running tries at shutdown.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "scheduler/run_state.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow {

// After a failed commit: memory forgets everything the store does not hold and is loaded again
// from it. The DAGs, pauses and pools stay (they are not in the batch); tries the executor still
// has stay counted (recover() sees them in in_flight_).
Status SchedulerCore::rebuild_from_store() {
    needs_rebuild_ = true;
    runs_.clear();
    ready_ = {};
    timers_ = {};
    pool_used_.clear();
    running_ = 0;
    backfills_.clear();
    queued_runs_.clear();
    queued_check_needed_ = true;
    next_pk_ = 0;
    next_backfill_id_ = 0;
    to_evaluate_.clear();
    past_waiters_.clear();
    touched_runs_.clear();
    batch_ = StateBatch{};
    new_runs_.clear();
    dirty_.clear();
    to_dispatch_.clear();
    cancel_after_dispatch_.clear();
    finished_runs_.clear();
    held_by_pause_.clear();
    for (auto& [dag_id, entry] : dags_) {
        entry.timetable_loaded = false;
        entry.last_automated.reset();
        entry.active_runs = 0;
        entry.queued_runs = 0;
        entry.running_tasks = 0;
        entry.schedule_known = false;
        entry.next_due.reset();
    }
    auto recovered = recover();
    if (!recovered) {
        spdlog::error("scheduler: cannot read its state back from the store: {}", recovered.error().message);
        return recovered;
    }
    needs_rebuild_ = false;
    spdlog::warn("scheduler: state reloaded from the store; {} unfinished runs, {} tries still with the executor",
                 runs_.size(), in_flight_.size());
    return Status::success();
}

Status SchedulerCore::recover() {
    auto pk = store_.next_run_pk();
    if (!pk) return pk.error();
    next_pk_ = *pk;
    auto backfill_id = store_.next_backfill_id();
    if (!backfill_id) return backfill_id.error();
    next_backfill_id_ = *backfill_id;
    auto backfills = store_.list_backfills(std::nullopt, true);
    if (!backfills) return backfills.error();
    for (auto& backfill : *backfills) backfills_[backfill.id] = LiveBackfill{std::move(backfill)};
    auto runs = store_.load_unfinished_runs();
    if (!runs) return runs.error();
    Instant now = clock_.now();
    std::vector<LiveRun*> queued;
    for (auto& stored : *runs) {
        auto version = dag_version(stored.dag_id, stored.dag_version);
        if (!version) {
            spdlog::error("run {} of DAG '{}' cannot go on ({}); marking it failed", stored.run_id, stored.dag_id,
                          version.error().message);
            batch_.run_changes.push_back({stored.pk, RunState::failed, std::nullopt, now});
            continue;
        }
        auto& live = load_run(std::move(stored), version->first, version->second);
        dags_.try_emplace(live.row.dag_id);
        if (live.row.state == RunState::queued) {
            queued.push_back(&live);
            continue;
        }
        take_run_slot(live);
        arm_run_timeout(live, live.row.start_date.value_or(now));
        touched_runs_.insert(live.row.pk);
        for (size_t i = 0; i < live.tasks.size(); ++i) {
            auto& task = live.tasks[i];
            const Task& definition = live.dag->tasks[i];
            switch (task.row.state) {
                case TaskState::none: evaluate(live, i); break;
                case TaskState::scheduled:
                    push_ready(live, i);
                    break;
                case TaskState::up_for_retry:
                case TaskState::up_for_reschedule:
                    timers_.push(Timer{task.row.next_try_at.value_or(now), live.row.pk, i, task.row.try_number});
                    break;
                case TaskState::queued:
                case TaskState::running:
                case TaskState::deferred: {
                    if (in_flight_.count(current_try(live, i))) {
                        // Still with the executor (the state is being reloaded after a failed
                        // commit): it holds its slot and reports as usual.
                        pool_used_[definition.pool] += definition.pool_slots;
                        if (!deferred_.count(current_try(live, i))) {
                            ++running_;
                            ++dags_[live.row.dag_id].running_tasks;
                        } else if (task.row.state != TaskState::deferred) {
                            // Deferred in the turn whose commit failed: said again (the executor
                            // reports it once).
                            set_state(live, i, TaskState::deferred);
                        }
                        break;
                    }
                    auto log = log_file(live, i, task.row.try_number);
                    if (task.row.state == TaskState::queued && !std::filesystem::exists(log)) {
                        // Queued but never started: the same try goes again, it does not count as failed.
                        set_state(live, i, TaskState::scheduled);
                        take_back_try(task);
                        push_ready(live, i);
                        break;
                    }
                    // Started by the daemon that died: the operator adopts the process or reads how it ended.
                    ++running_;
                    pool_used_[definition.pool] += definition.pool_slots;
                    ++dags_[live.row.dag_id].running_tasks;
                    StartedProcess recorded;
                    recorded.pid = static_cast<pid_t>(task.row.pid.value_or(0));
                    recorded.start_ticks = static_cast<std::uint64_t>(task.row.start_ticks.value_or(0));
                    recorded.boot_id = task.row.boot_id;
                    recorded.started_at = task.row.start_date.value_or(now);
                    to_dispatch_.push_back(TaskLaunch{TryKey{live.row.pk, i, task.row.try_number}, live.dag,
                                                      run_info(live, i), log, recorded, earlier_pokes(task.row)});
                    break;
                }
                default: break;
            }
        }
        update_run_state(live, now);
    }
    // Queued runs start in their order: a backfill's by logical date (newest first when it runs
    // backwards), the others as they were created.
    auto order_key = [this](const LiveRun* run) -> std::pair<long long, long long> {
        Instant date = run->row.logical_date.value_or(run->row.run_after);
        if (run->row.backfill_id) {
            auto backfill = backfills_.find(*run->row.backfill_id);
            if (backfill != backfills_.end() && backfill->second.row.run_backwards) {
                return {-date.time_since_epoch().count(), run->row.pk};
            }
            return {date.time_since_epoch().count(), run->row.pk};
        }
        return {0, run->row.pk};
    };
    std::stable_sort(queued.begin(), queued.end(),
                     [&](const LiveRun* a, const LiveRun* b) { return order_key(a) < order_key(b); });
    for (LiveRun* run : queued) queue_run(*run);
    return Status::success();
}

// The run in memory, bringing a finished one back from the store with the DAG version it ran with.
Result<SchedulerCore::LiveRun*> SchedulerCore::bring_back(const std::string& dag_id, const std::string& run_id) {
    if (LiveRun* run = find_run(dag_id, run_id)) {
        finished_runs_.erase(run->row.pk);
        return run;
    }
    auto stored = store_.find_run(dag_id, run_id, true);
    if (!stored) return stored.error();
    if (!*stored) {
        return make_error("DAG '{}' has no run '{}'; `mayaflow dags list-runs {}` lists them", dag_id, run_id, dag_id);
    }
    auto version = dag_version(dag_id, (*stored)->dag_version);
    if (!version) return version.error();
    return &load_run(std::move(**stored), version->first, version->second);
}

// As in Airflow, a cleared task gets its retries again on top of the tries it has used.
void SchedulerCore::reset_task(LiveRun& run, size_t task_index) {
    auto& task = run.tasks[task_index];
    set_state(run, task_index, TaskState::none);
    task.row.max_tries = task.row.try_number + run.dag->tasks[task_index].retry.retries + 1;
    task.row.end_date.reset();
    task.row.next_try_at.reset();
    task.row.message.clear();
}

std::shared_ptr<const Dag> SchedulerCore::version_to_run_again(const LiveRun& run, bool latest, std::string& note) {
    auto entry = dags_.find(run.row.dag_id);
    bool newest_known = entry != dags_.end() && entry->second.dag;
    if (newest_known && entry->second.version == run.row.dag_version) {
        note = "the newest";
        return run.dag;
    }
    if (!latest) {
        note = "the run's own; --keep-run-version";
        return run.dag;
    }
    if (!newest_known) {
        note = "the run's own; the DAG is not loaded";
        return run.dag;
    }
    for (const auto& task : run.tasks) {
        if (is_active(task.row.state)) {
            note = fmt::format("the run's own; tries of the run are under way, so it cannot move to version {}",
                               entry->second.version);
            return run.dag;
        }
    }
    note = fmt::format("the newest; the run had version {}", run.row.dag_version);
    return entry->second.dag;
}

// The run's task instances follow the other version: kept by task_id, new tasks added in state
// none, tasks the version no longer has marked removed (Airflow's verify_integrity).
void SchedulerCore::move_to_version(LiveRun& run, std::shared_ptr<const Dag> dag) {
    auto& entry = dags_[run.row.dag_id];
    std::vector<LiveTask> tasks(dag->tasks.size());
    std::vector<bool> kept(run.tasks.size(), false);
    for (size_t i = 0; i < dag->tasks.size(); ++i) {
        const Task& task = dag->tasks[i];
        const Task* old = run.dag->find_task(task.task_id);
        if (old) {
            size_t old_index = static_cast<size_t>(old - run.dag->tasks.data());
            tasks[i].row = std::move(run.tasks[old_index].row);
            kept[old_index] = true;
        } else {
            tasks[i].row.task_id = task.task_id;
            tasks[i].row.max_tries = task.retry.retries + 1;
        }
    }
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        if (kept[i]) continue;
        TaskInstanceRow removed = std::move(run.tasks[i].row);
        removed.state = TaskState::removed;
        batch_.task_changes.push_back(TaskInstanceChange{run.row.pk, std::move(removed)});
    }
    run.dag = std::move(dag);
    run.graph = entry.graph;
    run.row.dag_version = entry.version;
    run.tasks = std::move(tasks);
    run.results.reset();
    reset_summaries(run);
    for (size_t i = 0; i < run.tasks.size(); ++i) mark_dirty(run, i);
    RunStateChange change{run.row.pk, run.row.state, std::nullopt, run.row.end_date};
    change.dag_version = run.row.dag_version;
    batch_.run_changes.push_back(change);
}

Result<ClearOutcome> SchedulerCore::clear(const ClearRequest& request) {
    auto brought = bring_back(request.dag_id, request.run_id);
    if (!brought) return brought.error();
    LiveRun& run = **brought;
    bool was_finished = run.row.state == RunState::success || run.row.state == RunState::failed;
    ClearOutcome outcome;
    auto target = version_to_run_again(run, request.run_on_latest_version, outcome.version_note);
    const Dag& dag = *target;
    std::vector<bool> chosen(dag.tasks.size(), request.task_ids.empty());
    for (const auto& id : request.task_ids) {
        const Task* task = dag.find_task(id);
        if (!task) {
            if (was_finished) finished_runs_.insert(run.row.pk);
            return make_error("DAG '{}' has no task '{}' (in version {}, which the cleared tasks would run with)",
                              request.dag_id, id, target == run.dag ? run.row.dag_version : dags_[request.dag_id].version);
        }
        chosen[static_cast<size_t>(task - dag.tasks.data())] = true;
    }
    // Widen to downstream and upstream tasks; the tasks are in topological order.
    std::shared_ptr<const DagGraph> graph = target == run.dag ? run.graph : dags_[request.dag_id].graph;
    if (request.include_downstream) {
        for (size_t i = 0; i < chosen.size(); ++i) {
            if (chosen[i]) {
                for (size_t down : graph->downstream[i]) chosen[down] = true;
            }
        }
    }
    if (request.include_upstream) {
        for (size_t i = chosen.size(); i-- > 0;) {
            if (chosen[i]) {
                for (size_t up : graph->upstream[i]) chosen[up] = true;
            }
        }
    }
    // A task that never ran counts as cleared too (as in Airflow): a cancelled run whose tasks
    // never started is queued again by clearing it. A task new in the target version has not run.
    // A task under way (queued or running) is restarted, as Airflow: its try is ended and it runs
    // again. The run then keeps its version (version_to_run_again), so indexes stay the same.
    auto clears = [&](size_t i) {
        const Task* now = run.dag->find_task(dag.tasks[i].task_id);
        TaskState state = now ? run.tasks[static_cast<size_t>(now - run.dag->tasks.data())].row.state : TaskState::none;
        if (!chosen[i]) return false;
        return !request.only_failed || state == TaskState::failed || state == TaskState::upstream_failed;
    };
    std::vector<size_t> to_clear;
    for (size_t i = 0; i < chosen.size(); ++i) {
        if (!clears(i)) continue;
        if (request.only_running) {
            const Task* now = run.dag->find_task(dag.tasks[i].task_id);
            if (!now || !is_active(run.tasks[static_cast<size_t>(now - run.dag->tasks.data())].row.state)) continue;
        }
        to_clear.push_back(i);
        outcome.task_ids.push_back(dag.tasks[i].task_id);
    }
    if (request.dry_run) {
        outcome.cleared = static_cast<int>(to_clear.size());
        outcome.dag_version = target == run.dag ? run.row.dag_version : dags_[request.dag_id].version;
        if (was_finished) finished_runs_.insert(run.row.pk);
        return outcome;
    }
    if (!to_clear.empty() && target != run.dag) move_to_version(run, target);
    outcome.dag_version = run.row.dag_version;
    for (size_t i : to_clear) {
        auto& task = run.tasks[i];
        if (is_active(task.row.state)) {
            cancel_try(TryKey{run.row.pk, i, task.row.try_number});  // its late report is ignored
            release_slot(run, i);
            outcome.restarted.push_back(task.row.task_id);
        }
        reset_task(run, i);
    }
    int cleared = outcome.cleared = static_cast<int>(to_clear.size());
    if (was_finished) {
        if (cleared == 0) {
            finished_runs_.insert(run.row.pk);  // back out of memory after the commit
            return outcome;
        }
        // As Airflow's clear: the run is queued again and starts when max_active_runs allows.
        run.row.state = RunState::queued;
        run.row.end_date.reset();
        batch_.run_changes.push_back({run.row.pk, RunState::queued, std::nullopt, std::nullopt});
        queue_run(run);
    } else if (run.row.state == RunState::running) {
        for (size_t i = 0; i < run.tasks.size(); ++i) evaluate(run, i);
        touched_runs_.insert(run.row.pk);
    }
    return outcome;
}

Result<int> SchedulerCore::mark_task(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                                     TaskState state) {
    if (state != TaskState::success && state != TaskState::failed && state != TaskState::skipped) {
        return make_error("a task can be marked success, failed or skipped, not {}", to_string(state));
    }
    auto brought = bring_back(dag_id, run_id);
    if (!brought) return brought.error();
    LiveRun& run = **brought;
    bool was_finished = run.row.state == RunState::success || run.row.state == RunState::failed;
    const Task* task = run.dag->find_task(task_id);
    if (!task) {
        if (was_finished) finished_runs_.insert(run.row.pk);
        return make_error("DAG '{}' has no task '{}'", dag_id, task_id);
    }
    size_t index = static_cast<size_t>(task - run.dag->tasks.data());
    auto& ti = run.tasks[index];
    if (is_active(ti.row.state)) {
        cancel_try(TryKey{run.row.pk, index, ti.row.try_number});
        release_slot(run, index);
    }
    Instant now = clock_.now();
    // The failed and upstream_failed tasks downstream, at any depth, run again (cleared first, so
    // that the run does not end on the mark). The tasks are in topological order.
    std::vector<bool> below(run.tasks.size(), false);
    for (size_t down : run.graph->downstream[index]) below[down] = true;
    int cleared = 0;
    for (size_t i = index + 1; i < run.tasks.size(); ++i) {
        if (!below[i]) continue;
        for (size_t down : run.graph->downstream[i]) below[down] = true;
        TaskState current = run.tasks[i].row.state;
        if (current != TaskState::failed && current != TaskState::upstream_failed) continue;
        reset_task(run, i);
        ++cleared;
    }
    ti.row.message = fmt::format("marked {} by hand", to_string(state));
    finish_task(run, index, state, now);
    if (was_finished && cleared > 0) {
        // As Airflow's clear: the run is queued again and starts when max_active_runs allows.
        run.row.state = RunState::queued;
        run.row.end_date.reset();
        batch_.run_changes.push_back({run.row.pk, RunState::queued, std::nullopt, std::nullopt});
        queue_run(run);
    } else if (was_finished) {
        // A finished run's state follows its leaves again.
        std::vector<TaskState> states;
        for (const auto& t : run.tasks) states.push_back(t.row.state);
        auto decided = decide_run_state(*run.dag, states);
        if (decided && *decided != run.row.state) {
            run.row.state = *decided;
            batch_.run_changes.push_back({run.row.pk, *decided, std::nullopt, run.row.end_date.value_or(now)});
        }
        finished_runs_.insert(run.row.pk);
    } else if (cleared > 0) {
        touched_runs_.insert(run.row.pk);
    }
    return cleared;
}

void SchedulerCore::start_draining() {
    draining_ = true;
    for (const TryKey& key : executor_.withdraw_unstarted()) {
        in_flight_.erase(try_id(key));  // withdrawn tries get no report
        auto it = runs_.find(key.run_pk);
        if (it == runs_.end() || key.task_index >= it->second.tasks.size()) continue;
        LiveRun& run = it->second;
        auto& task = run.tasks[key.task_index];
        if (task.row.state != TaskState::queued || task.row.try_number != key.try_number) continue;
        release_slot(run, key.task_index);
        take_back_try(task);
        set_state(run, key.task_index, TaskState::scheduled);
        push_ready(run, key.task_index);
    }
}

void SchedulerCore::interrupt_running_tries() {
    draining_ = true;
    interrupting_ = true;
    for (auto& [pk, run] : runs_) {
        for (size_t i = 0; i < run.tasks.size(); ++i) {
            // A deferred try's remote work goes on without the daemon: the executor's shutdown lets
            // go of it, and the next daemon follows it again.
            if (is_active(run.tasks[i].row.state) && !deferred_.count(current_try(run, i))) {
                cancel_try(TryKey{pk, i, run.tasks[i].row.try_number});
            }
        }
    }
}

}  // namespace mayaflow
