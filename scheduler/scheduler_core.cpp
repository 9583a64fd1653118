#include "scheduler/scheduler_core.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/model/dag_json.h"
#include "engine/model/log_path.h"
#include "engine/time/iso8601.h"
#include "scheduler/retry_delay.h"
#include "scheduler/run_state.h"

namespace mayaflow {
namespace {

std::string run_id_for(std::string_view prefix, Instant logical_date) {
    return fmt::format("{}__{}", prefix, format_iso8601(logical_date, TimeZone::utc()));
}

bool is_active(TaskState state) { return state == TaskState::queued || state == TaskState::running; }

}  // namespace

bool SchedulerCore::ReadyTask::operator<(const ReadyTask& other) const {
    // priority_queue pops the largest: higher weight first, then the older run, then the earlier task.
    if (weight != other.weight) return weight < other.weight;
    if (order != other.order) return order > other.order;
    if (run_pk != other.run_pk) return run_pk > other.run_pk;
    return task_index > other.task_index;
}

SchedulerCore::SchedulerCore(Clock& clock, RunStore& store, Executor& executor, SchedulerOptions options)
    : clock_(clock), store_(store), executor_(executor), options_(std::move(options)) {}

void SchedulerCore::set_dag(std::shared_ptr<const Dag> dag, int version, bool paused) {
    auto& entry = dags_[dag->dag_id];
    if (entry.version != version || !entry.dag) {
        entry.graph = build_dag_graph(*dag);
        entry.dag = std::move(dag);
        entry.version = version;
    }
    entry.paused = paused;
}

void SchedulerCore::remove_dag(const std::string& dag_id) {
    auto it = dags_.find(dag_id);
    if (it == dags_.end()) return;
    it->second.dag.reset();  // runs under way finish with their own version
    it->second.paused = true;
}

Status SchedulerCore::set_paused(const std::string& dag_id, bool paused) {
    auto it = dags_.find(dag_id);
    if (it == dags_.end() || !it->second.dag) return make_error("no DAG with dag_id '{}'", dag_id);
    it->second.paused = paused;
    return Status::success();
}

std::optional<TaskState> SchedulerCore::task_state(long long run_pk, const std::string& task_id) const {
    auto it = runs_.find(run_pk);
    if (it == runs_.end()) return std::nullopt;
    const Task* task = it->second.dag->find_task(task_id);
    if (!task) return std::nullopt;
    return it->second.tasks[static_cast<size_t>(task - it->second.dag->tasks.data())].row.state;
}

std::vector<long long> SchedulerCore::active_run_pks(const std::string& dag_id) const {
    std::vector<long long> pks;
    for (const auto& [pk, run] : runs_) {
        if (run.row.dag_id == dag_id) pks.push_back(pk);
    }
    return pks;
}

SchedulerCore::LiveRun* SchedulerCore::find_run(const std::string& dag_id, const std::string& run_id) {
    for (auto& [pk, run] : runs_) {
        if (run.row.dag_id == dag_id && run.row.run_id == run_id) return &run;
    }
    return nullptr;
}

void SchedulerCore::mark_dirty(LiveRun& run, size_t task_index) { dirty_.emplace(run.row.pk, task_index); }

void SchedulerCore::reset_summaries(LiveRun& run) {
    run.unfinished = 0;
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        auto& task = run.tasks[i];
        task.upstream = UpstreamSummary{};
        for (size_t up : run.graph->upstream[i]) task.upstream.add(run.tasks[up].row.state);
        if (!is_finished(task.row.state)) ++run.unfinished;
    }
}

SchedulerCore::LiveRun& SchedulerCore::start_run(DagEntry& entry, DagRunRow row) {
    LiveRun run;
    run.dag = entry.dag;
    run.graph = entry.graph;
    run.row = std::move(row);
    run.row.dag_version = entry.version;
    run.tasks.resize(run.dag->tasks.size());
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        const Task& task = run.dag->tasks[i];
        auto& ti = run.tasks[i].row;
        ti.task_id = task.task_id;
        ti.state = TaskState::none;
        ti.max_tries = task.retry.retries + 1;
    }
    reset_summaries(run);
    // The run goes to the store with its task instances, in the batch of this turn.
    auto stored = std::make_unique<DagRunRow>(run.row);
    for (const auto& task : run.tasks) stored->task_instances.push_back(task.row);
    new_runs_.push_back(std::move(stored));
    long long pk = run.row.pk;
    auto& live = runs_.emplace(pk, std::move(run)).first->second;
    if (live.row.state == RunState::running) {
        ++entry.active_runs;
        for (size_t i = 0; i < live.tasks.size(); ++i) evaluate(live, i);
        update_run_state(live, clock_.now());
    }
    return live;
}

std::optional<Instant> SchedulerCore::next_schedule_time(DagEntry& entry, Instant now) {
    const Dag& dag = *entry.dag;
    if (!entry.timetable_loaded) {
        auto last = store_.latest_automated_interval(dag.dag_id);
        if (last && *last) entry.last_automated = DataInterval{(*last)->first, (*last)->second};
        entry.timetable_loaded = true;
    }
    auto info = next_dagrun_info(dag.schedule, dag.timezone, entry.last_automated,
                                 TimeRestriction{dag.start_date, dag.end_date, dag.catchup}, now);
    if (!info) return std::nullopt;
    return info->run_after;
}

void SchedulerCore::create_scheduled_runs(Instant now) {
    for (auto& [dag_id, entry] : dags_) {
        if (!entry.dag) continue;
        const Dag& dag = *entry.dag;
        // Queued runs (manual ones past max_active_runs) start first, oldest first.
        for (auto& [pk, run] : runs_) {
            if (entry.active_runs >= dag.max_active_runs) break;
            if (run.row.dag_id != dag_id || run.row.state != RunState::queued || entry.paused) continue;
            run.row.state = RunState::running;
            run.row.start_date = now;
            ++entry.active_runs;
            batch_.run_changes.push_back({pk, RunState::running, now, std::nullopt});
            for (size_t i = 0; i < run.tasks.size(); ++i) evaluate(run, i);
            update_run_state(run, now);
        }
        if (entry.paused || dag.schedule.kind() == Schedule::Kind::none) continue;
        while (entry.active_runs < dag.max_active_runs) {
            if (!entry.timetable_loaded) next_schedule_time(entry, now);
            auto info = next_dagrun_info(dag.schedule, dag.timezone, entry.last_automated,
                                         TimeRestriction{dag.start_date, dag.end_date, dag.catchup}, now);
            if (!info || info->run_after > now) break;
            DagRunRow row;
            row.pk = next_pk_++;
            row.dag_id = dag_id;
            row.run_id = run_id_for("scheduled", info->logical_date);
            row.run_type = "scheduled";
            row.state = RunState::running;
            row.logical_date = info->logical_date;
            row.data_interval_start = info->interval.start;
            row.data_interval_end = info->interval.end;
            row.run_after = info->run_after;
            row.queued_at = now;
            row.start_date = now;
            entry.last_automated = info->interval;
            start_run(entry, std::move(row));
            if (dag.schedule.kind() == Schedule::Kind::once) break;
        }
    }
}

void SchedulerCore::evaluate(LiveRun& run, size_t task_index) {
    auto& task = run.tasks[task_index];
    if (task.row.state != TaskState::none || run.row.state != RunState::running) return;
    const Task& definition = run.dag->tasks[task_index];
    switch (evaluate_trigger_rule(definition.trigger_rule, task.upstream)) {
        case TriggerDecision::wait: return;
        case TriggerDecision::run:
            task.row.state = TaskState::scheduled;
            mark_dirty(run, task_index);
            ready_.push(ReadyTask{(*run.graph).weights[task_index], run.row.logical_date.value_or(run.row.run_after),
                                  run.row.pk, task_index});
            return;
        case TriggerDecision::mark_skipped: finish_task(run, task_index, TaskState::skipped, clock_.now()); return;
        case TriggerDecision::mark_upstream_failed:
            finish_task(run, task_index, TaskState::upstream_failed, clock_.now());
            return;
    }
}

void SchedulerCore::finish_task(LiveRun& run, size_t task_index, TaskState state, Instant now) {
    auto& task = run.tasks[task_index];
    TaskState previous = task.row.state;
    task.row.state = state;
    task.row.end_date = now;
    task.row.next_try_at.reset();
    mark_dirty(run, task_index);
    if (!is_finished(previous)) --run.unfinished;
    for (size_t down : run.graph->downstream[task_index]) {
        run.tasks[down].upstream.change(previous, state);
        evaluate(run, down);
    }
    update_run_state(run, now);
}

void SchedulerCore::release_slot(LiveRun& run, size_t task_index) {
    const Task& task = run.dag->tasks[task_index];
    --running_;
    pool_used_[task.pool] -= task.pool_slots;
    auto entry = dags_.find(run.row.dag_id);
    if (entry != dags_.end()) --entry->second.running_tasks;
}

void SchedulerCore::task_failed(LiveRun& run, size_t task_index, const OperatorResult& result, Instant now) {
    auto& task = run.tasks[task_index];
    const Task& definition = run.dag->tasks[task_index];
    task.row.message = result.message;
    if (result.retryable && task.row.try_number < task.row.max_tries) {
        Duration delay = retry_delay(definition.retry, run.row.dag_id, definition.task_id,
                                     run.row.logical_date.value_or(run.row.run_after), task.row.try_number + 1);
        task.row.state = TaskState::up_for_retry;
        task.row.end_date = now;
        task.row.next_try_at = now + delay;
        timers_.push(Timer{now + delay, run.row.pk, task_index, task.row.try_number});
        mark_dirty(run, task_index);
        return;
    }
    finish_task(run, task_index, TaskState::failed, now);
}

void SchedulerCore::update_run_state(LiveRun& run, Instant now) {
    if (run.unfinished > 0 || run.row.state != RunState::running) return;
    std::vector<TaskState> states;
    states.reserve(run.tasks.size());
    for (const auto& task : run.tasks) states.push_back(task.row.state);
    auto decided = decide_run_state(*run.dag, states);
    if (!decided) return;
    run.row.state = *decided;
    run.row.end_date = now;
    batch_.run_changes.push_back({run.row.pk, *decided, std::nullopt, now});
    finished_runs_.insert(run.row.pk);
    auto entry = dags_.find(run.row.dag_id);
    if (entry != dags_.end()) --entry->second.active_runs;
}

void SchedulerCore::on_report(const TaskReport& report) {
    auto it = runs_.find(report.key.run_pk);
    if (it == runs_.end()) return;
    LiveRun& run = it->second;
    if (report.key.task_index >= run.tasks.size()) return;
    auto& task = run.tasks[report.key.task_index];
    // A report about an older try, or a try the user has since marked, changes nothing.
    if (task.row.try_number != report.key.try_number || !is_active(task.row.state)) return;
    Instant now = clock_.now();
    if (report.kind == TaskReport::Kind::started) {
        task.row.state = TaskState::running;
        task.row.pid = report.process.pid;
        task.row.start_ticks = static_cast<long long>(report.process.start_ticks);
        task.row.boot_id = report.process.boot_id;
        if (report.process.started_at != Instant{}) task.row.start_date = report.process.started_at;
        mark_dirty(run, report.key.task_index);
        return;
    }
    release_slot(run, report.key.task_index);
    const OperatorResult& result = report.result;
    task.row.result = result.value;
    task.row.message = result.message;
    switch (result.outcome) {
        case TaskOutcome::success: finish_task(run, report.key.task_index, TaskState::success, now); break;
        case TaskOutcome::skipped: finish_task(run, report.key.task_index, TaskState::skipped, now); break;
        case TaskOutcome::failed: task_failed(run, report.key.task_index, result, now); break;
    }
}

void SchedulerCore::fire_due_timers(Instant now) {
    while (!timers_.empty() && timers_.top().at <= now) {
        Timer timer = timers_.top();
        timers_.pop();
        auto it = runs_.find(timer.run_pk);
        if (it == runs_.end()) continue;
        LiveRun& run = it->second;
        auto& task = run.tasks[timer.task_index];
        if (task.row.state != TaskState::up_for_retry || task.row.try_number != timer.try_number) continue;
        task.row.state = TaskState::scheduled;
        task.row.next_try_at.reset();
        mark_dirty(run, timer.task_index);
        ready_.push(ReadyTask{run.graph->weights[timer.task_index], run.row.logical_date.value_or(run.row.run_after),
                              run.row.pk, timer.task_index});
    }
}

tmpl::RunInfo SchedulerCore::run_info(const LiveRun& run, size_t task_index) const {
    tmpl::RunInfo info;
    info.dag_id = run.row.dag_id;
    info.task_id = run.dag->tasks[task_index].task_id;
    info.run_id = run.row.run_id;
    info.logical_date = run.row.logical_date;
    info.data_interval_start = run.row.data_interval_start;
    info.data_interval_end = run.row.data_interval_end;
    info.start_date = run.row.start_date.value_or(run.row.queued_at);
    info.dag_timezone = run.dag->timezone;
    info.params = run.dag->params;
    info.conf = run.row.conf;
    info.loop_vars = run.dag->tasks[task_index].loop_vars;
    info.try_number = run.tasks[task_index].row.try_number;
    info.run_type = run.row.run_type;
    // ti.xcom_pull reads the results of the run's finished tasks as they stand at dispatch.
    auto results = std::make_shared<std::map<std::string, nlohmann::json, std::less<>>>();
    for (const auto& task : run.tasks) {
        if (!task.row.result.is_null()) results->emplace(task.row.task_id, task.row.result);
    }
    info.task_result = [results](std::string_view task_id) -> std::optional<nlohmann::json> {
        auto it = results->find(task_id);
        if (it == results->end()) return std::nullopt;
        return it->second;
    };
    return info;
}

std::filesystem::path SchedulerCore::log_file(const LiveRun& run, size_t task_index, int try_number) const {
    return task_log_path(options_.logs_folder, run.row.dag_id, run.row.run_id, run.dag->tasks[task_index].task_id,
                         try_number);
}

void SchedulerCore::queue_ready_tasks(Instant now) {
    std::vector<ReadyTask> blocked;
    while (!ready_.empty() && running_ < options_.parallelism) {
        ReadyTask ready = ready_.top();
        ready_.pop();
        auto it = runs_.find(ready.run_pk);
        if (it == runs_.end()) continue;
        LiveRun& run = it->second;
        auto& task = run.tasks[ready.task_index];
        if (task.row.state != TaskState::scheduled || run.row.state != RunState::running) continue;
        const Task& definition = run.dag->tasks[ready.task_index];
        auto pool = options_.pools.find(definition.pool);
        if (pool == options_.pools.end()) {
            task.row.message = fmt::format("pool '{}' does not exist; create it or use default_pool", definition.pool);
            finish_task(run, ready.task_index, TaskState::failed, now);
            continue;
        }
        auto& entry = dags_[run.row.dag_id];
        if (pool_used_[definition.pool] + definition.pool_slots > pool->second ||
            entry.running_tasks >= run.dag->max_active_tasks) {
            blocked.push_back(ready);
            continue;
        }
        ++running_;
        pool_used_[definition.pool] += definition.pool_slots;
        ++entry.running_tasks;
        task.row.state = TaskState::queued;
        task.row.try_number += 1;
        task.row.start_date = now;
        task.row.end_date.reset();
        task.row.pid.reset();
        task.row.start_ticks.reset();
        task.row.boot_id.clear();
        mark_dirty(run, ready.task_index);
        to_dispatch_.push_back(TaskLaunch{TryKey{run.row.pk, ready.task_index, task.row.try_number}, run.dag,
                                          run_info(run, ready.task_index),
                                          log_file(run, ready.task_index, task.row.try_number), std::nullopt});
    }
    for (const auto& ready : blocked) ready_.push(ready);
}

Result<std::optional<Instant>> SchedulerCore::run_turn() {
    if (next_pk_ == 0) {
        auto pk = store_.next_run_pk();
        if (!pk) return pk.error();
        next_pk_ = *pk;
    }
    Instant now = clock_.now();
    fire_due_timers(now);
    create_scheduled_runs(now);
    queue_ready_tasks(now);

    for (const auto& run : new_runs_) batch_.new_runs.push_back(run.get());
    for (const auto& [pk, index] : dirty_) {
        auto it = runs_.find(pk);
        if (it == runs_.end()) continue;
        batch_.task_changes.push_back(TaskInstanceChange{pk, it->second.tasks[index].row});
    }
    auto written = store_.write_batch(batch_);
    if (!written) {
        // Nothing is dispatched until it is committed; the same batch is written again next turn.
        batch_.new_runs.clear();
        batch_.task_changes.clear();
        return written.error();
    }
    batch_ = StateBatch{};
    new_runs_.clear();
    dirty_.clear();
    for (auto& launch : to_dispatch_) executor_.submit(std::move(launch));
    to_dispatch_.clear();
    for (long long pk : finished_runs_) runs_.erase(pk);
    finished_runs_.clear();

    std::optional<Instant> wake;
    auto earlier = [&](Instant at) {
        if (!wake || at < *wake) wake = at;
    };
    if (!timers_.empty()) earlier(timers_.top().at);
    for (auto& [dag_id, entry] : dags_) {
        if (!entry.dag || entry.paused || entry.active_runs >= entry.dag->max_active_runs) continue;
        if (auto next = next_schedule_time(entry, now)) earlier(*next);
    }
    return wake;
}

Result<std::string> SchedulerCore::trigger(const TriggerRequest& request) {
    auto it = dags_.find(request.dag_id);
    if (it == dags_.end() || !it->second.dag) return make_error("no DAG with dag_id '{}'", request.dag_id);
    if (!request.conf.is_object()) return make_error("conf must be a JSON object");
    if (next_pk_ == 0) {
        auto pk = store_.next_run_pk();
        if (!pk) return pk.error();
        next_pk_ = *pk;
    }
    DagEntry& entry = it->second;
    Instant now = clock_.now();
    Instant logical_date = request.logical_date.value_or(now);
    std::string run_id = request.run_id.value_or(run_id_for("manual", logical_date));
    if (find_run(request.dag_id, run_id)) return make_error("DAG '{}' already has a run '{}'", request.dag_id, run_id);
    auto existing = store_.find_run(request.dag_id, run_id, false);
    if (!existing) return existing.error();
    if (*existing) return make_error("DAG '{}' already has a run '{}'", request.dag_id, run_id);
    DataInterval interval = infer_manual_data_interval(entry.dag->schedule, entry.dag->timezone, logical_date);
    DagRunRow row;
    row.pk = next_pk_++;
    row.dag_id = request.dag_id;
    row.run_id = run_id;
    row.run_type = "manual";
    row.logical_date = logical_date;
    row.data_interval_start = interval.start;
    row.data_interval_end = interval.end;
    row.run_after = now;
    row.queued_at = now;
    row.conf = request.conf;
    bool can_start = !entry.paused && entry.active_runs < entry.dag->max_active_runs;
    row.state = can_start ? RunState::running : RunState::queued;
    if (can_start) row.start_date = now;
    start_run(entry, std::move(row));
    return run_id;
}

}  // namespace mayaflow
