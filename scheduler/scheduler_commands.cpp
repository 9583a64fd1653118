// SchedulerCore's recovery and the commands that change task instances by hand: clear and mark.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "engine/model/dag_json.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow {
namespace {

bool is_active(TaskState state) { return state == TaskState::queued || state == TaskState::running; }

}  // namespace

Status SchedulerCore::recover() {
    auto runs = store_.load_unfinished_runs();
    if (!runs) return runs.error();
    auto pk = store_.next_run_pk();
    if (!pk) return pk.error();
    next_pk_ = *pk;
    std::map<std::pair<std::string, int>, std::pair<std::shared_ptr<const Dag>, std::shared_ptr<const DagGraph>>> versions;
    for (auto& stored : *runs) {
        auto key = std::pair{stored.dag_id, stored.dag_version};
        if (!versions.count(key)) {
            auto text = store_.dag_version_json(stored.dag_id, stored.dag_version);
            if (!text) return text.error();
            if (!*text) {
                spdlog::error("run {} of DAG '{}' uses version {}, which is not stored; marking it failed",
                              stored.run_id, stored.dag_id, stored.dag_version);
                batch_.run_changes.push_back({stored.pk, RunState::failed, std::nullopt, clock_.now()});
                continue;
            }
            auto json = nlohmann::json::parse(**text, nullptr, false);
            auto dag = dag_from_json(json);
            if (!dag) return make_error("DAG '{}' version {}: {}", stored.dag_id, stored.dag_version, dag.error().message);
            auto shared = std::make_shared<const Dag>(std::move(*dag));
            versions[key] = {shared, build_dag_graph(*shared)};
        }
        const auto& [dag, graph] = versions[key];
        LiveRun run;
        run.dag = dag;
        run.graph = graph;
        run.tasks.resize(dag->tasks.size());
        for (size_t i = 0; i < dag->tasks.size(); ++i) {
            run.tasks[i].row.task_id = dag->tasks[i].task_id;
            run.tasks[i].row.max_tries = dag->tasks[i].retry.retries + 1;
        }
        for (auto& ti : stored.task_instances) {
            const Task* task = dag->find_task(ti.task_id);
            if (task) run.tasks[static_cast<size_t>(task - dag->tasks.data())].row = std::move(ti);
        }
        stored.task_instances.clear();
        run.row = std::move(stored);
        reset_summaries(run);
        long long run_pk = run.row.pk;
        auto& live = runs_.emplace(run_pk, std::move(run)).first->second;
        auto& entry = dags_[live.row.dag_id];
        if (live.row.state != RunState::running) continue;
        ++entry.active_runs;
        for (size_t i = 0; i < live.tasks.size(); ++i) {
            auto& task = live.tasks[i];
            const Task& definition = live.dag->tasks[i];
            switch (task.row.state) {
                case TaskState::none: evaluate(live, i); break;
                case TaskState::scheduled:
                    ready_.push(ReadyTask{live.graph->weights[i], live.row.logical_date.value_or(live.row.run_after),
                                          live.row.pk, i});
                    break;
                case TaskState::up_for_retry:
                    timers_.push(Timer{task.row.next_try_at.value_or(clock_.now()), live.row.pk, i, task.row.try_number});
                    break;
                case TaskState::queued:
                case TaskState::running: {
                    auto log = log_file(live, i, task.row.try_number);
                    if (task.row.state == TaskState::queued && !std::filesystem::exists(log)) {
                        // Queued but never started: the same try goes again, it does not count as failed.
                        task.row.state = TaskState::scheduled;
                        task.row.try_number -= 1;
                        mark_dirty(live, i);
                        ready_.push(ReadyTask{live.graph->weights[i],
                                              live.row.logical_date.value_or(live.row.run_after), live.row.pk, i});
                        break;
                    }
                    // Started by the daemon that died: the operator adopts the process or reads how it ended.
                    ++running_;
                    pool_used_[definition.pool] += definition.pool_slots;
                    ++entry.running_tasks;
                    StartedProcess recorded;
                    recorded.pid = static_cast<pid_t>(task.row.pid.value_or(0));
                    recorded.start_ticks = static_cast<std::uint64_t>(task.row.start_ticks.value_or(0));
                    recorded.boot_id = task.row.boot_id;
                    recorded.started_at = task.row.start_date.value_or(clock_.now());
                    to_dispatch_.push_back(TaskLaunch{TryKey{live.row.pk, i, task.row.try_number}, live.dag,
                                                      run_info(live, i), log, recorded});
                    break;
                }
                default: break;
            }
        }
        update_run_state(live, clock_.now());
    }
    return Status::success();
}

Result<int> SchedulerCore::clear(const ClearRequest& request) {
    LiveRun* run = find_run(request.dag_id, request.run_id);
    if (!run) {
        // A finished run comes back into memory with the DAG version it ran with.
        auto stored = store_.find_run(request.dag_id, request.run_id, true);
        if (!stored) return stored.error();
        if (!*stored) return make_error("DAG '{}' has no run '{}'", request.dag_id, request.run_id);
        auto text = store_.dag_version_json(request.dag_id, (*stored)->dag_version);
        if (!text) return text.error();
        if (!*text) return make_error("the DAG version of run '{}' is not stored", request.run_id);
        auto dag = dag_from_json(nlohmann::json::parse(**text, nullptr, false));
        if (!dag) return dag.error();
        LiveRun live;
        live.dag = std::make_shared<const Dag>(std::move(*dag));
        live.graph = build_dag_graph(*live.dag);
        live.tasks.resize(live.dag->tasks.size());
        for (auto& ti : (*stored)->task_instances) {
            const Task* task = live.dag->find_task(ti.task_id);
            if (task) live.tasks[static_cast<size_t>(task - live.dag->tasks.data())].row = std::move(ti);
        }
        (*stored)->task_instances.clear();
        live.row = std::move(**stored);
        long long pk = live.row.pk;
        run = &runs_.emplace(pk, std::move(live)).first->second;
        finished_runs_.erase(pk);
    }
    const Dag& dag = *run->dag;
    std::vector<bool> chosen(dag.tasks.size(), request.task_ids.empty());
    for (const auto& id : request.task_ids) {
        const Task* task = dag.find_task(id);
        if (!task) return make_error("DAG '{}' has no task '{}'", request.dag_id, id);
        chosen[static_cast<size_t>(task - dag.tasks.data())] = true;
    }
    // Widen to downstream and upstream tasks; the tasks are in topological order.
    if (request.include_downstream) {
        for (size_t i = 0; i < chosen.size(); ++i) {
            if (chosen[i]) {
                for (size_t down : run->graph->downstream[i]) chosen[down] = true;
            }
        }
    }
    if (request.include_upstream) {
        for (size_t i = chosen.size(); i-- > 0;) {
            if (chosen[i]) {
                for (size_t up : run->graph->upstream[i]) chosen[up] = true;
            }
        }
    }
    int cleared = 0;
    Instant now = clock_.now();
    for (size_t i = 0; i < chosen.size(); ++i) {
        auto& task = run->tasks[i];
        if (!chosen[i] || is_active(task.row.state)) continue;
        if (request.only_failed && task.row.state != TaskState::failed && task.row.state != TaskState::upstream_failed) {
            continue;
        }
        // As in Airflow, a cleared task gets its retries again on top of the tries it has used.
        task.row.state = TaskState::none;
        task.row.max_tries = task.row.try_number + dag.tasks[i].retry.retries + 1;
        task.row.end_date.reset();
        task.row.next_try_at.reset();
        task.row.message.clear();
        mark_dirty(*run, i);
        ++cleared;
    }
    if (cleared == 0) return 0;
    auto& entry = dags_[run->row.dag_id];
    if (run->row.state != RunState::running) {
        run->row.state = RunState::running;
        run->row.end_date.reset();
        ++entry.active_runs;
        batch_.run_changes.push_back({run->row.pk, RunState::running, now, std::nullopt});
    }
    reset_summaries(*run);
    for (size_t i = 0; i < run->tasks.size(); ++i) evaluate(*run, i);
    update_run_state(*run, now);
    return cleared;
}

Status SchedulerCore::mark_task(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                                TaskState state) {
    if (state != TaskState::success && state != TaskState::failed && state != TaskState::skipped) {
        return make_error("a task can be marked success, failed or skipped, not {}", to_string(state));
    }
    LiveRun* run = find_run(dag_id, run_id);
    if (!run) {
        // Marking a task of a finished run: clear it first so that the run comes back, then mark.
        auto cleared = clear(ClearRequest{dag_id, run_id, {task_id}});
        if (!cleared) return cleared.error();
        run = find_run(dag_id, run_id);
        if (!run) return make_error("DAG '{}' has no active run '{}'", dag_id, run_id);
    }
    const Task* task = run->dag->find_task(task_id);
    if (!task) return make_error("DAG '{}' has no task '{}'", dag_id, task_id);
    size_t index = static_cast<size_t>(task - run->dag->tasks.data());
    auto& ti = run->tasks[index];
    if (is_active(ti.row.state)) {
        executor_.cancel(TryKey{run->row.pk, index, ti.row.try_number});
        release_slot(*run, index);
    }
    ti.row.message = fmt::format("marked {} by hand", to_string(state));
    finish_task(*run, index, state, clock_.now());
    return Status::success();
}

}  // namespace mayaflow
