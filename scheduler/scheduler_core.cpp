// SchedulerCore's decisions about tasks: trigger rules, depends_on_past, slots, tries and their
// outcomes, and the turn that commits them. Runs are made in scheduler_runs.cpp, backfills in
// scheduler_backfill.cpp, recovery and the hand-made changes in scheduler_commands.cpp.

#include "scheduler/scheduler_core.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/metrics/metrics.h"
#include "engine/model/log_path.h"
#include "engine/time/duration_text.h"
#include "scheduler/dag_activity.h"
#include "scheduler/retry_delay.h"
#include "scheduler/run_state.h"
#include "scheduler/task_run_info.h"

namespace mayaflow {

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
    if (!dag->fileloc.empty()) {
        for (auto& [other_id, other] : dags_) {
            if (other_id == dag->dag_id || !other.dag || other.dag->fileloc != dag->fileloc) continue;
            spdlog::warn("DAG '{}' is retired: its file {} now defines '{}'", other_id, dag->fileloc, dag->dag_id);
            other.dag.reset();  // runs under way finish with their own version
            other.paused = true;
            other.inactive_reason = renamed_dag_reason(dag->fileloc, dag->dag_id);
        }
    }
    for (const auto& task : dag->tasks) {
        auto pool = options_.pools.find(task.pool);
        if (pool != options_.pools.end() && task.pool_slots > pool->second) {
            spdlog::warn("DAG '{}': task '{}' needs {} slots of pool '{}', which has {}: it will wait until the pool "
                         "has enough (`mayaflow pools set {} {}`)",
                         dag->dag_id, task.task_id, task.pool_slots, task.pool, pool->second, task.pool,
                         task.pool_slots);
        }
    }
    std::string dag_id = dag->dag_id;
    auto& entry = dags_[dag_id];
    entry.inactive_reason.clear();
    if (entry.version != version || !entry.dag) {
        entry.graph = build_dag_graph(*dag);
        entry.dag = std::move(dag);
        entry.version = version;
    }
    set_dag_paused(entry, dag_id, paused);
}

void SchedulerCore::set_dag_paused(DagEntry& entry, const std::string& dag_id, bool paused) {
    entry.paused = paused;
    entry.schedule_known = false;
    queued_check_needed_ = true;
    if (paused) return;
    auto held = held_by_pause_.find(dag_id);
    if (held == held_by_pause_.end()) return;
    for (const auto& ready : held->second) ready_.push(ready);
    held_by_pause_.erase(held);
}

void SchedulerCore::remove_dag(const std::string& dag_id) {
    auto it = dags_.find(dag_id);
    if (it == dags_.end()) return;
    // Deactivated, not paused: no new runs without a DAG, runs under way finish with their own
    // version, and the pause state its users chose is the one it has when its file comes back.
    if (it->second.dag) it->second.inactive_reason = fmt::format("its file {} is gone", it->second.dag->fileloc);
    it->second.dag.reset();
}

Status SchedulerCore::set_paused(const std::string& dag_id, bool paused) {
    auto it = dags_.find(dag_id);
    if (it == dags_.end() || !it->second.dag) return make_error("no DAG with dag_id '{}'", dag_id);
    set_dag_paused(it->second, dag_id, paused);
    return Status::success();
}

void SchedulerCore::set_pool(const std::string& name, int slots) {
    options_.pools[name] = slots;  // applies from this turn on; tries already running keep their slots
    for (const auto& [dag_id, entry] : dags_) {
        if (!entry.dag) continue;
        for (const auto& task : entry.dag->tasks) {
            if (task.pool == name && task.pool_slots > slots) {
                spdlog::warn("pool '{}' now has {} slots: task '{}' of DAG '{}' needs {} and will wait until it has "
                             "enough",
                             name, slots, task.task_id, dag_id, task.pool_slots);
            }
        }
    }
}

void SchedulerCore::remove_pool(const std::string& name) { options_.pools.erase(name); }

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

void SchedulerCore::mark_dirty(LiveRun& run, size_t task_index) {
    dirty_.emplace(run.row.pk, task_index);
    touched_runs_.insert(run.row.pk);
}

void SchedulerCore::reset_summaries(LiveRun& run) {
    run.unfinished = 0;
    run.waiting = 0;
    run.waiting_for_past = 0;
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        auto& task = run.tasks[i];
        task.upstream = UpstreamSummary{};
        task.held_by_past = false;
        for (size_t up : run.graph->upstream[i]) task.upstream.add(run.tasks[up].row.state);
        if (!is_finished(task.row.state)) ++run.unfinished;
        if (task.row.state == TaskState::none) ++run.waiting;
    }
}

Status SchedulerCore::ensure_next_pk() {
    if (next_pk_ != 0) return Status::success();
    auto pk = store_.next_run_pk();
    if (!pk) return pk.error();
    next_pk_ = *pk;
    return Status::success();
}

// The states a rescheduled sensor's try passes through until its next poke ends it: any other
// state ends the try, and with it its pokes.
static bool continues_rescheduled_try(TaskState state) {
    return state == TaskState::up_for_reschedule || state == TaskState::scheduled || is_active(state);
}

// A try handed to the executor: a rescheduled sensor's next poke is the same try, started when its
// first poke started (as Airflow keeps the try number and start date of a rescheduled task).
void SchedulerCore::begin_try(LiveTask& task, Instant now) {
    if (!task.row.first_poke_at) task.row.try_number += 1;
    task.row.start_date = task.row.first_poke_at.value_or(now);
}

// A try taken back before it started: it goes again as the same try.
void SchedulerCore::take_back_try(LiveTask& task) {
    if (task.row.first_poke_at) return;
    task.row.try_number -= 1;
    task.row.start_date.reset();
}

std::optional<PokeSchedule> SchedulerCore::earlier_pokes(const TaskInstanceRow& row) {
    if (!row.first_poke_at) return std::nullopt;
    return PokeSchedule{*row.first_poke_at, row.pokes, row.next_try_at.value_or(*row.first_poke_at)};
}

// Every change of a task's state goes through here, so that the run's counts and its downstream
// tasks' upstream summaries stay right.
void SchedulerCore::set_state(LiveRun& run, size_t task_index, TaskState state) {
    auto& task = run.tasks[task_index];
    TaskState previous = task.row.state;
    mark_dirty(run, task_index);
    if (!continues_rescheduled_try(state)) {
        task.row.first_poke_at.reset();
        task.row.pokes = 0;
    }
    if (previous == state) return;
    if (!is_finished(previous) && is_finished(state)) --run.unfinished;
    if (is_finished(previous) && !is_finished(state)) ++run.unfinished;
    if (previous == TaskState::none) {
        --run.waiting;
        if (task.held_by_past) {
            task.held_by_past = false;
            --run.waiting_for_past;
        }
    }
    if (state == TaskState::none) ++run.waiting;
    task.row.state = state;
    for (size_t down : run.graph->downstream[task_index]) run.tasks[down].upstream.change(previous, state);
}

// A scheduled task waits for a slot: higher weight first, then the older run (ReadyTask::operator<).
void SchedulerCore::push_ready(const LiveRun& run, size_t task_index) {
    ready_.push(ReadyTask{run.graph->weights[task_index], run.row.logical_date.value_or(run.row.run_after),
                          run.row.pk, task_index});
}

void SchedulerCore::evaluate(LiveRun& run, size_t task_index) { to_evaluate_.emplace_back(run.row.pk, task_index); }

// Decides the tasks waiting to be looked at. A worklist rather than recursion: a chain of ten
// thousand tasks that end in the scheduler (empty, skipped, upstream_failed) must not deepen the stack.
void SchedulerCore::evaluate_pending() {
    Instant now = clock_.now();
    while (!to_evaluate_.empty()) {
        auto [pk, index] = to_evaluate_.front();
        to_evaluate_.pop_front();
        auto it = runs_.find(pk);
        if (it == runs_.end()) continue;
        LiveRun& run = it->second;
        auto& task = run.tasks[index];
        if (task.row.state != TaskState::none || run.row.state != RunState::running) continue;
        const Task& definition = run.dag->tasks[index];
        switch (evaluate_trigger_rule(definition.trigger_rule, task.upstream)) {
            case TriggerDecision::wait: break;
            case TriggerDecision::run:
                if (definition.depends_on_past && !past_allows(run, index)) break;
                if (options_.finish_empty_in_scheduler && definition.operator_name == "empty" &&
                    !held_by_pause(run)) {
                    // As Airflow does for EmptyOperator: success without a slot or the executor
                    // (of a paused DAG it waits like any task, and ends so when it is dispatched).
                    task.row.try_number += 1;
                    task.row.start_date = now;
                    finish_task(run, index, TaskState::success, now);
                    break;
                }
                set_state(run, index, TaskState::scheduled);
                push_ready(run, index);
                break;
            case TriggerDecision::mark_skipped: finish_task(run, index, TaskState::skipped, now); break;
            case TriggerDecision::mark_upstream_failed: finish_task(run, index, TaskState::upstream_failed, now); break;
        }
    }
}

// Whether the run's DAG is paused, so that no task of the run starts. A retired DAG (no dag: renamed,
// file gone) counts as paused for new runs only: its runs under way finish. A backfill's runs go on.
bool SchedulerCore::held_by_pause(const LiveRun& run) {
    auto& entry = dags_[run.row.dag_id];
    return entry.paused && entry.dag && !active_backfill(run);
}

// depends_on_past, as Airflow's PrevDagrunDep: the same task in the previous run (by logical date;
// with catchup, the previous run that was not triggered by hand) must have succeeded or been
// skipped. The first run, and a task that did not exist in the previous run, may go.
bool SchedulerCore::past_allows(LiveRun& run, size_t task_index) {
    if (!run.row.logical_date) return true;
    const std::string& task_id = run.tasks[task_index].row.task_id;
    Instant logical_date = *run.row.logical_date;
    bool exclude_manual = run.dag->catchup;
    const LiveRun* previous_live = nullptr;
    for (const auto& [pk, other] : runs_) {
        if (pk == run.row.pk || other.row.dag_id != run.row.dag_id || !other.row.logical_date) continue;
        if (*other.row.logical_date >= logical_date || (exclude_manual && other.row.run_type == "manual")) continue;
        if (!previous_live || *other.row.logical_date > *previous_live->row.logical_date) previous_live = &other;
    }
    std::optional<TaskState> previous_state;
    bool has_previous = false;
    auto stored = store_.previous_task_instance(run.row.dag_id, logical_date, task_id, exclude_manual);
    if (!stored) {
        spdlog::error("depends_on_past of {}.{}: {}", run.row.dag_id, task_id, stored.error().message);
        return false;  // looked at again when the task finishes elsewhere
    }
    if (*stored && (!previous_live || (*stored)->logical_date > *previous_live->row.logical_date)) {
        has_previous = true;
        previous_state = (*stored)->state;
    } else if (previous_live) {
        has_previous = true;
        const Task* task = previous_live->dag->find_task(task_id);
        if (task) previous_state = previous_live->tasks[static_cast<size_t>(task - previous_live->dag->tasks.data())].row.state;
    }
    if (!has_previous || !previous_state) return true;
    if (*previous_state == TaskState::success || *previous_state == TaskState::skipped) return true;
    auto& task = run.tasks[task_index];
    if (!task.held_by_past) {
        task.held_by_past = true;
        ++run.waiting_for_past;
    }
    past_waiters_[{run.row.dag_id, task_id}].emplace(run.row.pk, task_index);
    return false;
}

void SchedulerCore::finish_task(LiveRun& run, size_t task_index, TaskState state, Instant now) {
    auto& task = run.tasks[task_index];
    set_state(run, task_index, state);
    task.row.end_date = now;
    task.row.next_try_at.reset();
    for (size_t down : run.graph->downstream[task_index]) evaluate(run, down);
    auto waiters = past_waiters_.find({run.row.dag_id, task.row.task_id});
    if (waiters != past_waiters_.end()) {
        for (const auto& [pk, index] : waiters->second) to_evaluate_.emplace_back(pk, index);
        past_waiters_.erase(waiters);
    }
    update_run_state(run, now);
}

void SchedulerCore::release_slot(LiveRun& run, size_t task_index) {
    const Task& task = run.dag->tasks[task_index];
    pool_used_[task.pool] -= task.pool_slots;
    // A deferred try gave its place in parallelism and max_active_tasks back when it was deferred.
    if (deferred_.erase(current_try(run, task_index)) > 0) return;
    leave_parallelism(run);
}

void SchedulerCore::leave_parallelism(const LiveRun& run) {
    --running_;
    auto entry = dags_.find(run.row.dag_id);
    if (entry != dags_.end()) --entry->second.running_tasks;
}

void SchedulerCore::cancel_try(const TryKey& key) {
    const bool handing_over = std::any_of(to_dispatch_.begin(), to_dispatch_.end(),
                                          [&](const TaskLaunch& launch) { return launch.key == key; });
    if (handing_over) {
        cancel_after_dispatch_.push_back(key);
    } else {
        executor_.cancel(key);
    }
}

void SchedulerCore::try_deferred(LiveRun& run, size_t task_index) {
    const TryId id = current_try(run, task_index);
    if (!in_flight_.count(id) || !deferred_.insert(id).second) return;
    set_state(run, task_index, TaskState::deferred);
    leave_parallelism(run);
}

void SchedulerCore::task_failed(LiveRun& run, size_t task_index, const OperatorResult& result, Instant now) {
    auto& task = run.tasks[task_index];
    const Task& definition = run.dag->tasks[task_index];
    task.row.message = result.message;
    if (interrupting_) {
        // Ended by the scheduler's shutdown, not by the task: it goes again after the restart
        // without using up one of its retries.
        task.row.max_tries += 1;
        task.row.message = "interrupted by the scheduler's shutdown; it runs again when the scheduler starts";
    }
    if ((result.retryable || interrupting_) && task.row.try_number < task.row.max_tries) {
        Duration delay = interrupting_ ? Duration{0}
                                       : retry_delay(definition.retry, run.row.dag_id, definition.task_id,
                                                     run.row.logical_date.value_or(run.row.run_after),
                                                     task.row.try_number);
        set_state(run, task_index, TaskState::up_for_retry);
        task.row.end_date = now;
        task.row.next_try_at = now + delay;
        timers_.push(Timer{now + delay, run.row.pk, task_index, task.row.try_number});
        if (!interrupting_) notify_task(run, task_index, NotificationKind::task_retry, task.row.message);
        return;
    }
    // Said before finish_task, which may end the run: the task's event comes before the run's.
    notify_task(run, task_index, NotificationKind::task_failure, task.row.message);
    finish_task(run, task_index, TaskState::failed, now);
}

// A sensor in reschedule mode found nothing yet: its slot is free until its next poke, which is
// the same try (Airflow's up_for_reschedule).
void SchedulerCore::task_rescheduled(LiveRun& run, size_t task_index, const OperatorResult& result, Instant now) {
    auto& task = run.tasks[task_index];
    if (!result.reschedule) {
        task_failed(run, task_index, OperatorResult{.message = "the operator asked to be rescheduled without a time"}, now);
        return;
    }
    set_state(run, task_index, TaskState::up_for_reschedule);
    task.row.first_poke_at = result.reschedule->first_poke_at;
    task.row.pokes = result.reschedule->pokes;
    task.row.next_try_at = result.reschedule->next_poke_at;
    task.row.end_date = now;
    timers_.push(Timer{result.reschedule->next_poke_at, run.row.pk, task_index, task.row.try_number});
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
    run_finished(run, now);
    notify_run(run, *decided == RunState::success ? "success" : "task_failure");
}

void SchedulerCore::notify_task(LiveRun& run, size_t task_index, NotificationKind kind, const std::string& message) {
    const Task& definition = run.dag->tasks[task_index];
    const auto& callbacks = definition.callbacks;
    const auto& calls = kind == NotificationKind::task_failure ? callbacks.on_failure
                        : kind == NotificationKind::task_retry ? callbacks.on_retry
                                                               : callbacks.on_success;
    if (!notifications_ || calls.empty()) return;
    const auto& row = run.tasks[task_index].row;
    NotificationEvent event{.kind = kind,
                            .calls = calls,
                            .dag_id = run.row.dag_id,
                            .run_id = run.row.run_id,
                            .task_id = definition.task_id,
                            .try_number = row.try_number,
                            .max_tries = row.max_tries,
                            .message = message,
                            .log_file = log_file(run, task_index, row.try_number),
                            .next_try_at = kind == NotificationKind::task_retry ? row.next_try_at : std::nullopt,
                            .run_info = run_info(run, task_index)};
    pending_notifications_.push_back(std::move(event));
}

void SchedulerCore::notify_run(LiveRun& run, std::string reason) {
    const auto& calls = run.row.state == RunState::success ? run.dag->callbacks.on_success : run.dag->callbacks.on_failure;
    if (!notifications_ || calls.empty()) return;
    NotificationEvent event{.kind = run.row.state == RunState::success ? NotificationKind::run_success
                                                                       : NotificationKind::run_failure,
                            .calls = calls,
                            .dag_id = run.row.dag_id,
                            .run_id = run.row.run_id,
                            .message = std::move(reason)};
    for (const auto& task : run.tasks) {
        if (task.row.state == TaskState::failed) event.failed_tasks.push_back(task.row.task_id);
    }
    if (!run.tasks.empty()) {
        event.run_info = run_info(run, 0);
        event.run_info.task_id.clear();
        event.run_info.loop_vars = nlohmann::json::object();
    }
    pending_notifications_.push_back(std::move(event));
}

// A run that was running has ended (success, failed, timed out, deadlocked): its slot is free.
void SchedulerCore::run_finished(LiveRun& run, Instant now) {
    finished_runs_.insert(run.row.pk);
    queued_check_needed_ = true;
    if (run.counted_in_backfill) {
        // A backfill cancelled meanwhile is gone: the run counted against nothing any more.
        auto backfill = backfills_.find(*run.counted_in_backfill);
        if (backfill != backfills_.end()) {
            --backfill->second.active_runs;
            complete_backfill_if_done(backfill->first, now);
        }
        return;
    }
    auto entry = dags_.find(run.row.dag_id);
    if (entry != dags_.end()) --entry->second.active_runs;
}

// Airflow's deadlock: unfinished tasks of which none can ever run (an upstream task is removed,
// say). The run fails instead of staying "running" for ever. Tasks held back by depends_on_past are
// not deadlocked: they wait for the previous run.
void SchedulerCore::check_deadlock(LiveRun& run, Instant now) {
    if (run.row.state != RunState::running || run.unfinished == 0) return;
    if (run.waiting != run.unfinished || run.waiting_for_past > 0) return;
    std::string stuck;
    for (const auto& task : run.tasks) {
        if (task.row.state != TaskState::none) continue;
        if (!stuck.empty()) stuck += ", ";
        stuck += task.row.task_id;
    }
    spdlog::error("run {} of DAG '{}' is deadlocked: tasks {} can never run by their trigger rules; marking the run "
                  "failed",
                  run.row.run_id, run.row.dag_id, stuck);
    run.row.state = RunState::failed;
    run.row.end_date = now;
    batch_.run_changes.push_back({run.row.pk, RunState::failed, std::nullopt, now});
    run_finished(run, now);
    notify_run(run, "all_tasks_deadlocked");
}

// A try's outcome as the metrics label it.
static std::string_view outcome_name(TaskOutcome outcome) {
    switch (outcome) {
        case TaskOutcome::success: return "success";
        case TaskOutcome::skipped: return "skipped";
        case TaskOutcome::failed: return "failed";
        case TaskOutcome::rescheduled: return "rescheduled";
    }
    return "failed";
}

void SchedulerCore::on_report(const TaskReport& report) {
    const bool finished = report.kind == TaskReport::Kind::finished;
    if (finished) in_flight_.erase(try_id(report.key));
    // A late report: the try's slot was given back when its task was cleared, marked or timed out.
    auto ignore = [&] {
        if (finished) deferred_.erase(try_id(report.key));
    };
    auto it = runs_.find(report.key.run_pk);
    if (it == runs_.end()) return ignore();
    LiveRun& run = it->second;
    if (report.key.task_index >= run.tasks.size()) return ignore();
    auto& task = run.tasks[report.key.task_index];
    // A report about an older try, or a try the user has since marked, changes nothing.
    if (task.row.try_number != report.key.try_number || !is_active(task.row.state)) return ignore();
    Instant now = clock_.now();
    if (report.kind == TaskReport::Kind::started) {
        if (task.row.state != TaskState::deferred) set_state(run, report.key.task_index, TaskState::running);
        task.row.pid = report.process.pid;
        task.row.start_ticks = static_cast<long long>(report.process.start_ticks);
        task.row.boot_id = report.process.boot_id;
        if (report.process.started_at != Instant{}) task.row.start_date = report.process.started_at;
        return;
    }
    if (report.kind == TaskReport::Kind::deferred) {
        try_deferred(run, report.key.task_index);
        return;
    }
    release_slot(run, report.key.task_index);
    const OperatorResult& result = report.result;
    if (!result.value.is_null() || !task.row.result.is_null()) run.results.reset();
    task.row.result = result.value;
    task.row.message = result.message;
    if (result.cost) {
        batch_.task_costs.push_back(
            TaskCostRow{run.row.pk, task.row.task_id, report.key.try_number, *result.cost, now});
        metrics::bigquery_bytes(run.row.dag_id, result.cost->bytes_processed, result.cost->bytes_billed);
    }
    metrics::task_try_ended(run.dag->tasks[report.key.task_index].operator_name, outcome_name(result.outcome),
                            task.row.start_date ? std::chrono::duration<double>(now - *task.row.start_date).count() : 0);
    switch (result.outcome) {
        case TaskOutcome::success:
            notify_task(run, report.key.task_index, NotificationKind::task_success, task.row.message);
            finish_task(run, report.key.task_index, TaskState::success, now);
            break;
        case TaskOutcome::skipped: finish_task(run, report.key.task_index, TaskState::skipped, now); break;
        case TaskOutcome::failed: task_failed(run, report.key.task_index, result, now); break;
        case TaskOutcome::rescheduled: task_rescheduled(run, report.key.task_index, result, now); break;
    }
}

void SchedulerCore::fire_due_timers(Instant now) {
    while (!timers_.empty() && timers_.top().at <= now) {
        Timer timer = timers_.top();
        timers_.pop();
        auto it = runs_.find(timer.run_pk);
        if (it == runs_.end()) continue;
        LiveRun& run = it->second;
        if (timer.task_index == kRunTimeout) {
            time_out_run(run, now);
            continue;
        }
        auto& task = run.tasks[timer.task_index];
        const bool waits = task.row.state == TaskState::up_for_retry || task.row.state == TaskState::up_for_reschedule;
        if (!waits || task.row.try_number != timer.try_number) continue;
        set_state(run, timer.task_index, TaskState::scheduled);
        task.row.next_try_at.reset();
        push_ready(run, timer.task_index);
    }
}

tmpl::RunInfo SchedulerCore::run_info(LiveRun& run, size_t task_index) const {
    tmpl::RunInfo info = task_run_info(run.row, *run.dag, run.dag->tasks[task_index], run.tasks[task_index].row.try_number);
    if (!run.previous_success) {
        auto previous = previous_successful_run(store_, run.row);
        run.previous_success = previous ? std::move(*previous) : std::optional<DagRunRow>();
    }
    set_previous_success(info, *run.previous_success);
    // ti.xcom_pull reads the results of the run's finished tasks as they stand at dispatch.
    if (!run.results) {
        auto results = std::make_shared<TaskResults>();
        for (const auto& task : run.tasks) {
            if (!task.row.result.is_null()) results->emplace(task.row.task_id, task.row.result);
        }
        run.results = std::move(results);
    }
    set_task_results(info, run.results);
    return info;
}

std::filesystem::path SchedulerCore::log_file(const LiveRun& run, size_t task_index, int try_number) const {
    return task_log_path(options_.logs_folder, run.row.dag_id, run.row.run_id, run.dag->tasks[task_index].task_id,
                         try_number);
}

void SchedulerCore::queue_ready_tasks(Instant now) {
    if (draining_) return;
    std::vector<ReadyTask> blocked;
    while (!ready_.empty() && running_ < options_.parallelism + options_.queue_ahead) {
        ReadyTask ready = ready_.top();
        ready_.pop();
        auto it = runs_.find(ready.run_pk);
        if (it == runs_.end()) continue;
        LiveRun& run = it->second;
        auto& task = run.tasks[ready.task_index];
        if (task.row.state != TaskState::scheduled || run.row.state != RunState::running) continue;
        if (held_by_pause(run)) {
            held_by_pause_[run.row.dag_id].push_back(ready);  // running tries finish; nothing new starts
            continue;
        }
        auto& entry = dags_[run.row.dag_id];
        const Task& definition = run.dag->tasks[ready.task_index];
        if (options_.finish_empty_in_scheduler && definition.operator_name == "empty") {
            task.row.try_number += 1;
            task.row.start_date = clock_.now();
            finish_task(run, ready.task_index, TaskState::success, clock_.now());
            continue;
        }
        auto pool = options_.pools.find(definition.pool);
        if (pool == options_.pools.end()) {
            task.row.message = fmt::format("pool '{}' does not exist; create it or use default_pool", definition.pool);
            finish_task(run, ready.task_index, TaskState::failed, now);
            continue;
        }
        if (definition.pool_slots > pool->second) {
            // As Airflow: the task waits (it starves) until the pool is made big enough.
            std::string message = fmt::format(
                "waiting: the task needs {} slots of pool '{}', which has {}; it runs once the pool has enough "
                "(`mayaflow pools set {} {}`)",
                definition.pool_slots, definition.pool, pool->second, definition.pool, definition.pool_slots);
            if (task.row.message != message) {
                spdlog::warn("task {} of run {} of DAG '{}' {}", definition.task_id, run.row.run_id, run.row.dag_id,
                             message);
                task.row.message = std::move(message);
                mark_dirty(run, ready.task_index);
            }
            blocked.push_back(ready);
            continue;
        }
        if (pool_used_[definition.pool] + definition.pool_slots > pool->second ||
            entry.running_tasks >= run.dag->max_active_tasks) {
            blocked.push_back(ready);
            continue;
        }
        ++running_;
        pool_used_[definition.pool] += definition.pool_slots;
        ++entry.running_tasks;
        set_state(run, ready.task_index, TaskState::queued);
        if (task.row.message.starts_with("waiting: ")) task.row.message.clear();
        begin_try(task, now);
        task.row.end_date.reset();
        task.row.pid.reset();
        task.row.start_ticks.reset();
        task.row.boot_id.clear();
        to_dispatch_.push_back(TaskLaunch{TryKey{run.row.pk, ready.task_index, task.row.try_number}, run.dag,
                                          run_info(run, ready.task_index),
                                          log_file(run, ready.task_index, task.row.try_number), std::nullopt,
                                          earlier_pokes(task.row)});
    }
    for (const auto& ready : blocked) ready_.push(ready);
}

void SchedulerCore::answer_command(long long id, bool ok, nlohmann::json result) {
    batch_.command_answers.push_back(CommandAnswer{id, ok, std::move(result)});
}

Result<std::optional<Instant>> SchedulerCore::run_turn() {
    if (needs_rebuild_) {
        auto rebuilt = rebuild_from_store();
        if (!rebuilt) return rebuilt.error();
    }
    auto pk = ensure_next_pk();
    if (!pk) return pk.error();
    Instant now = clock_.now();
    fire_due_timers(now);
    if (!draining_) create_scheduled_runs(now);
    start_queued_runs(now);
    evaluate_pending();
    queue_ready_tasks(now);
    evaluate_pending();  // tasks that failed to get a slot (a missing pool) decide their downstream
    for (long long run_pk : touched_runs_) {
        auto it = runs_.find(run_pk);
        if (it != runs_.end()) check_deadlock(it->second, now);
    }
    touched_runs_.clear();

    for (const auto& run : new_runs_) batch_.new_runs.push_back(run.get());
    for (const auto& [run_pk, index] : dirty_) {
        auto it = runs_.find(run_pk);
        if (it == runs_.end()) continue;
        batch_.task_changes.push_back(TaskInstanceChange{run_pk, it->second.tasks[index].row});
    }
    last_turn_wrote_ = !batch_.empty();
    auto written = store_.write_batch(batch_);
    if (!written) {
        // Nothing of the turn is acted on. Its decisions are forgotten and the state is read back
        // from the store, so that one decision that cannot be written (or a store that failed for a
        // moment) does not come back in every later batch.
        (void)rebuild_from_store();
        pending_notifications_.clear();  // the transitions they report were not written
        return written.error();
    }
    batch_ = StateBatch{};
    new_runs_.clear();
    dirty_.clear();
    for (auto& launch : to_dispatch_) {
        in_flight_.insert(try_id(launch.key));
        executor_.submit(std::move(launch));
    }
    to_dispatch_.clear();
    // A resumed try ended in this turn is handed over and then ended, so that its operator ends
    // what the try left running (a BigQuery job, a process).
    for (const auto& key : cancel_after_dispatch_) executor_.cancel(key);
    cancel_after_dispatch_.clear();
    for (auto& event : pending_notifications_) notifications_->notify(std::move(event));
    pending_notifications_.clear();
    for (long long finished : finished_runs_) runs_.erase(finished);
    finished_runs_.clear();

    std::optional<Instant> wake;
    auto earlier = [&](Instant at) {
        if (!wake || at < *wake) wake = at;
    };
    if (!timers_.empty()) earlier(timers_.top().at);
    if (!draining_) {
        for (auto& [dag_id, entry] : dags_) {
            if (!entry.dag || entry.paused || entry.active_runs + entry.queued_runs >= entry.dag->max_active_runs) {
                continue;
            }
            if (auto next = next_schedule_time(entry, now)) earlier(*next);
        }
    }
    return wake;
}

}  // namespace mayaflow
