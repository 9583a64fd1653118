// SchedulerCore's runs: scheduled runs from each DAG's timetable, runs triggered by hand, queued
// runs that start when a slot frees up (max_active_runs, a backfill's own limit), and
// dagrun_timeout.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/model/dag_json.h"
#include "engine/model/run_id.h"
#include "engine/time/duration_text.h"
#include "engine/time/iso8601.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow {
namespace {

std::string run_id_for(std::string_view prefix, Instant logical_date) {
    return fmt::format("{}__{}", prefix, format_iso8601(logical_date, TimeZone::utc()));
}

}  // namespace

// When the DAG's next scheduled run is due. Cached until something changes it (a new version, a
// pause, a run created); with catchup off a later `now` can only move it later, so the cached
// time is never too late.
std::optional<Instant> SchedulerCore::next_schedule_time(DagEntry& entry, Instant now) {
    if (entry.schedule_known) return entry.next_due;
    const Dag& dag = *entry.dag;
    if (!entry.timetable_loaded) {
        auto last = store_.latest_automated_interval(dag.dag_id);
        if (!last) return std::nullopt;  // the store is unreadable: asked again next turn
        if (*last) entry.last_automated = DataInterval{(*last)->first, (*last)->second};
        entry.timetable_loaded = true;
    }
    auto info = next_dagrun_info(dag.schedule, dag.timezone, entry.last_automated,
                                 TimeRestriction{dag.start_date, dag.end_date, dag.catchup}, now);
    entry.next_due = info ? std::optional<Instant>(info->run_after) : std::nullopt;
    entry.schedule_known = true;
    return entry.next_due;
}

// Whether the DAG already has a run with this run id or at this logical date: among the runs
// created this turn (not yet in the store), or in the store. Runs never change their id or logical
// date, so memory holds nothing else the store does not.
Result<bool> SchedulerCore::run_exists(const std::string& dag_id, const std::string& run_id,
                                       std::optional<Instant> logical_date, std::string* existing_run_id) {
    for (const auto& run : new_runs_) {
        if (run->dag_id != dag_id) continue;
        if (run->run_id == run_id || (logical_date && run->logical_date == logical_date)) {
            if (existing_run_id) *existing_run_id = run->run_id;
            return true;
        }
    }
    auto stored = store_.find_conflicting_run(dag_id, run_id, logical_date);
    if (!stored) return stored.error();
    if (*stored && existing_run_id) *existing_run_id = (*stored)->run_id;
    return stored->has_value();
}

void SchedulerCore::create_scheduled_runs(Instant now) {
    for (auto& [dag_id, entry] : dags_) {
        if (!entry.dag || entry.paused || entry.dag->schedule.kind() == Schedule::Kind::none) continue;
        const Dag& dag = *entry.dag;
        // As Airflow: queued runs count as active, so a run triggered by hand (or cleared) goes
        // next instead of waiting behind the whole catchup.
        if (entry.active_runs + entry.queued_runs >= dag.max_active_runs) continue;
        auto due = next_schedule_time(entry, now);
        if (!due || *due > now) continue;
        while (entry.active_runs + entry.queued_runs < dag.max_active_runs) {
            auto info = next_dagrun_info(dag.schedule, dag.timezone, entry.last_automated,
                                         TimeRestriction{dag.start_date, dag.end_date, dag.catchup}, now);
            if (!info || info->run_after > now) break;
            std::string run_id = run_id_for("scheduled", info->logical_date);
            // As Airflow's scheduler: a logical date that already has a run (manual, backfill,
            // cleared and taken over...) gets no second one; the timetable moves past it.
            auto exists = run_exists(dag_id, run_id, info->logical_date);
            if (!exists) {
                spdlog::error("DAG '{}': cannot tell whether {} exists, trying again next turn: {}", dag_id, run_id,
                              exists.error().message);
                break;
            }
            if (*exists) {
                entry.last_automated = info->interval;
                if (dag.schedule.kind() == Schedule::Kind::once) break;
                continue;
            }
            DagRunRow row;
            row.pk = next_pk_++;
            row.dag_id = dag_id;
            row.run_id = std::move(run_id);
            row.run_type = "scheduled";
            row.state = RunState::running;
            row.logical_date = info->logical_date;
            row.data_interval_start = info->interval.start;
            row.data_interval_end = info->interval.end;
            row.run_after = info->run_after;
            row.queued_at = now;
            row.start_date = now;
            entry.last_automated = info->interval;
            add_run(entry, std::move(row));
            if (dag.schedule.kind() == Schedule::Kind::once) break;
        }
        entry.schedule_known = false;
    }
}

SchedulerCore::LiveBackfill* SchedulerCore::active_backfill(const LiveRun& run) {
    if (!run.row.backfill_id) return nullptr;
    auto backfill = backfills_.find(*run.row.backfill_id);
    return backfill == backfills_.end() ? nullptr : &backfill->second;
}

bool SchedulerCore::may_start(const LiveRun& run) const {
    if (run.row.backfill_id) {
        // Backfill runs have their own limit and pause, and run while the DAG itself is paused. A
        // run of a backfill that has ended (cleared later, say) goes by the DAG's rules.
        auto backfill = backfills_.find(*run.row.backfill_id);
        if (backfill != backfills_.end()) {
            return !backfill->second.row.is_paused &&
                   backfill->second.active_runs < backfill->second.row.max_active_runs;
        }
    }
    auto entry = dags_.find(run.row.dag_id);
    return entry != dags_.end() && entry->second.dag && !entry->second.paused &&
           entry->second.active_runs < entry->second.dag->max_active_runs;
}

void SchedulerCore::take_run_slot(LiveRun& run) {
    if (LiveBackfill* backfill = active_backfill(run)) {
        ++backfill->active_runs;
        run.counted_in_backfill = backfill->row.id;
    } else {
        ++dags_[run.row.dag_id].active_runs;
        run.counted_in_backfill.reset();
    }
}

void SchedulerCore::queue_run(LiveRun& run) {
    queued_runs_.emplace(queue_order_++, run.row.pk);
    queued_check_needed_ = true;
    if (LiveBackfill* backfill = active_backfill(run)) {
        ++backfill->queued_runs;
    } else if (!run.queued_for_dag) {
        ++dags_[run.row.dag_id].queued_runs;
        run.queued_for_dag = true;
    }
}

void SchedulerCore::leave_queue(LiveRun& run) {
    if (LiveBackfill* backfill = active_backfill(run)) --backfill->queued_runs;
    if (run.queued_for_dag) {
        --dags_[run.row.dag_id].queued_runs;
        run.queued_for_dag = false;
    }
}

// Queued runs start in the order they were queued, as slots allow.
void SchedulerCore::start_queued_runs(Instant now) {
    if (!queued_check_needed_) return;
    queued_check_needed_ = false;
    for (auto it = queued_runs_.begin(); it != queued_runs_.end();) {
        auto run = runs_.find(it->second);
        if (run == runs_.end() || run->second.row.state != RunState::queued) {
            if (run != runs_.end()) leave_queue(run->second);
            it = queued_runs_.erase(it);
            continue;
        }
        if (!may_start(run->second)) {
            ++it;
            continue;
        }
        it = queued_runs_.erase(it);
        leave_queue(run->second);
        set_running(run->second, now);
    }
}

void SchedulerCore::set_running(LiveRun& run, Instant now) {
    run.row.state = RunState::running;
    run.row.start_date = now;
    run.row.end_date.reset();
    batch_.run_changes.push_back({run.row.pk, RunState::running, now, std::nullopt});
    begin_running(run);
}

// What starting a run sets going, once its state is running and its start date set: its slot, its
// dagrun_timeout, and the first look at its tasks.
void SchedulerCore::begin_running(LiveRun& run) {
    take_run_slot(run);
    arm_run_timeout(run, *run.row.start_date);
    for (size_t i = 0; i < run.tasks.size(); ++i) evaluate(run, i);
    touched_runs_.insert(run.row.pk);
    update_run_state(run, *run.row.start_date);
}

void SchedulerCore::arm_run_timeout(const LiveRun& run, Instant started) {
    if (run.dag->dagrun_timeout) timers_.push(Timer{started + *run.dag->dagrun_timeout, run.row.pk, kRunTimeout, 0});
}

// A new run, written with this turn's batch: running at once, or queued.
SchedulerCore::LiveRun& SchedulerCore::add_run(DagEntry& entry, DagRunRow row) {
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
    auto stored = std::make_unique<DagRunRow>(run.row);
    for (const auto& task : run.tasks) stored->task_instances.push_back(task.row);
    new_runs_.push_back(std::move(stored));
    long long pk = run.row.pk;
    auto& live = runs_.emplace(pk, std::move(run)).first->second;
    if (live.row.state == RunState::running) {
        begin_running(live);  // the insert already carries the running state
    } else {
        queue_run(live);
    }
    return live;
}

// dagrun_timeout, as Airflow: a run still running that long after it started fails; its unfinished
// tasks are skipped and running tries are ended.
void SchedulerCore::time_out_run(LiveRun& run, Instant now) {
    if (run.row.state != RunState::running || !run.dag->dagrun_timeout || !run.row.start_date) return;
    if (*run.row.start_date + *run.dag->dagrun_timeout > now) return;
    spdlog::warn("run {} of DAG '{}' timed out after {} (dagrun_timeout); its unfinished tasks are skipped",
                 run.row.run_id, run.row.dag_id, format_duration(*run.dag->dagrun_timeout));
    run.row.state = RunState::failed;
    run.row.end_date = now;
    batch_.run_changes.push_back({run.row.pk, RunState::failed, std::nullopt, now});
    std::string message = fmt::format("skipped: the run passed its dagrun_timeout of {}",
                                      format_duration(*run.dag->dagrun_timeout));
    for (size_t i = 0; i < run.tasks.size(); ++i) {
        auto& task = run.tasks[i];
        if (is_finished(task.row.state)) continue;
        if (is_active(task.row.state)) {
            cancel_try(TryKey{run.row.pk, i, task.row.try_number});
            release_slot(run, i);
        }
        set_state(run, i, TaskState::skipped);
        task.row.end_date = now;
        task.row.next_try_at.reset();
        task.row.message = message;
    }
    run_finished(run, now);
    notify_run(run, "timed_out");
}

Result<std::string> SchedulerCore::trigger(const TriggerRequest& request) {
    auto it = dags_.find(request.dag_id);
    if (it != dags_.end() && !it->second.dag && !it->second.inactive_reason.empty()) {
        return make_error("DAG '{}' is not active: {}", request.dag_id, it->second.inactive_reason);
    }
    if (it == dags_.end() || !it->second.dag) return make_error("no DAG with dag_id '{}'", request.dag_id);
    if (!request.conf.is_object()) return make_error("conf must be a JSON object");
    if (request.run_id) {
        auto checked = check_run_id(*request.run_id, RunIdUse::manual);
        if (!checked) return checked.error();
    }
    auto pk = ensure_next_pk();
    if (!pk) return pk.error();
    DagEntry& entry = it->second;
    Instant now = clock_.now();
    Instant logical_date = request.logical_date.value_or(now);
    if (!is_supported_logical_date(logical_date)) {
        return make_error("the logical date {} is out of range: runs take logical dates from 0002-01-01 to 9998-12-31 "
                          "(UTC), so that the dates their templates read around it stay within years 0001-9999",
                          format_iso8601(logical_date, TimeZone::utc()));
    }
    std::string run_id = request.run_id.value_or(run_id_for("manual", logical_date));
    std::string existing_id;
    auto exists = run_exists(request.dag_id, run_id, logical_date, &existing_id);
    if (!exists) return exists.error();
    if (*exists && existing_id == run_id) {
        return make_error("DAG '{}' already has a run '{}'; choose another run id", request.dag_id, run_id);
    }
    if (*exists) {
        // Airflow's DagRunAlreadyExists: a logical date is unique per DAG.
        return make_error("DAG '{}' already has a run at logical date {}: '{}'; a DAG has one run per logical date "
                          "(clear that run to run it again, or choose another logical date)",
                          request.dag_id, format_iso8601(logical_date, TimeZone::utc()), existing_id);
    }
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
    // As in Airflow, a triggered run is queued; the next turn starts it when max_active_runs and
    // the pause allow, and that moment is its start date.
    row.state = RunState::queued;
    add_run(entry, std::move(row));
    return run_id;
}

Result<std::pair<std::shared_ptr<const Dag>, std::shared_ptr<const DagGraph>>> SchedulerCore::dag_version(
    const std::string& dag_id, int version) {
    auto entry = dags_.find(dag_id);
    if (entry != dags_.end() && entry->second.dag && entry->second.version == version) {
        return std::pair{entry->second.dag, entry->second.graph};
    }
    auto text = store_.dag_version_json(dag_id, version);
    if (!text) return text.error();
    if (!*text) return make_error("version {} of DAG '{}' is not stored", version, dag_id);
    auto dag = dag_from_json(nlohmann::json::parse(**text, nullptr, false));
    if (!dag) return make_error("DAG '{}' version {}: {}", dag_id, version, dag.error().message);
    auto shared = std::make_shared<const Dag>(std::move(*dag));
    return std::pair{shared, build_dag_graph(*shared)};
}

// A stored run in memory again, with the DAG version it ran with; its counts are rebuilt.
SchedulerCore::LiveRun& SchedulerCore::load_run(DagRunRow stored, std::shared_ptr<const Dag> dag,
                                                std::shared_ptr<const DagGraph> graph) {
    LiveRun run;
    run.dag = std::move(dag);
    run.graph = std::move(graph);
    run.tasks.resize(run.dag->tasks.size());
    for (size_t i = 0; i < run.dag->tasks.size(); ++i) {
        run.tasks[i].row.task_id = run.dag->tasks[i].task_id;
        run.tasks[i].row.max_tries = run.dag->tasks[i].retry.retries + 1;
    }
    for (auto& ti : stored.task_instances) {
        const Task* task = run.dag->find_task(ti.task_id);
        if (task) run.tasks[static_cast<size_t>(task - run.dag->tasks.data())].row = std::move(ti);
    }
    stored.task_instances.clear();
    run.row = std::move(stored);
    reset_summaries(run);
    long long pk = run.row.pk;
    finished_runs_.erase(pk);
    return runs_.insert_or_assign(pk, std::move(run)).first->second;
}

}  // namespace mayaflow
