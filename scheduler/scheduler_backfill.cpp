// SchedulerCore's backfills, as Airflow 3 keeps them: a record per backfill; its runs are queued
// and start under the backfill's own max_active_runs, oldest first (newest first when run
// backwards); finished runs are run again per the reprocess behaviour; pause, resume and cancel
// act on the record.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/time/iso8601.h"
#include "scheduler/scheduler_core.h"

namespace mayaflow {

Result<BackfillOutcome> SchedulerCore::create_backfill(const BackfillRequest& request) {
    auto entry_it = dags_.find(request.dag_id);
    if (entry_it != dags_.end() && !entry_it->second.dag && !entry_it->second.inactive_reason.empty()) {
        return make_error("DAG '{}' is not active: {}", request.dag_id, entry_it->second.inactive_reason);
    }
    if (entry_it == dags_.end() || !entry_it->second.dag) return make_error("no DAG with dag_id '{}'", request.dag_id);
    DagEntry& entry = entry_it->second;
    for (const auto& [id, backfill] : backfills_) {
        if (backfill.row.dag_id == request.dag_id && !request.dry_run) {
            return make_error("DAG '{}' already has backfill {} under way; wait for it, or `mayaflow backfills cancel {}`",
                              request.dag_id, id, id);
        }
    }
    auto pk = ensure_next_pk();
    if (!pk) return pk.error();
    if (next_backfill_id_ == 0) {
        auto id = store_.next_backfill_id();
        if (!id) return id.error();
        next_backfill_id_ = *id;
    }
    // The runs already there: as stored, with the state of those in memory as it stands now.
    auto stored = store_.list_runs(RunFilter{.dag_id = request.dag_id, .logical_from = request.from_date,
                                             .logical_to = request.to_date, .limit = kMaxBackfillRuns * 4});
    if (!stored) return stored.error();
    std::vector<DagRunRow> existing = std::move(*stored);
    for (const auto& [run_pk, run] : runs_) {
        if (run.row.dag_id != request.dag_id) continue;
        auto same = std::find_if(existing.begin(), existing.end(),
                                 [&run_pk = run_pk](const DagRunRow& r) { return r.pk == run_pk; });
        if (same != existing.end()) same->state = run.row.state;
        else if (run.row.logical_date && *run.row.logical_date >= request.from_date &&
                 *run.row.logical_date <= request.to_date) {
            existing.push_back(run.row);
        }
    }
    Instant now = clock_.now();
    auto plan = plan_backfill(*entry.dag, request, existing, now);
    if (!plan) return plan.error();
    BackfillOutcome outcome;
    outcome.plan = std::move(*plan);
    outcome.backfill.dag_id = request.dag_id;
    outcome.backfill.from_date = request.from_date;
    outcome.backfill.to_date = request.to_date;
    outcome.backfill.run_backwards = request.run_backwards;
    outcome.backfill.reprocess_behavior = request.reprocess_behavior;
    outcome.backfill.max_active_runs = request.max_active_runs;
    outcome.backfill.dag_run_conf = request.dag_run_conf;
    outcome.backfill.created_at = now;
    if (request.dry_run || outcome.plan.runs.empty()) return outcome;

    outcome.backfill.id = next_backfill_id_++;
    long long id = outcome.backfill.id;
    backfills_[id] = LiveBackfill{outcome.backfill};
    batch_.backfills.push_back(outcome.backfill);
    for (const auto& planned : outcome.plan.runs) {
        if (planned.existing_pk) {
            // A finished run is cleared whole and queued again as a run of this backfill.
            auto brought = bring_back(request.dag_id, planned.run_id);
            if (!brought) {
                spdlog::error("backfill {}: cannot run {} again: {}", id, planned.run_id, brought.error().message);
                continue;
            }
            LiveRun& run = **brought;
            std::string version_note;
            auto target = version_to_run_again(run, request.run_on_latest_version, version_note);
            if (target != run.dag) move_to_version(run, target);
            for (size_t i = 0; i < run.tasks.size(); ++i) {
                if (run.tasks[i].row.state != TaskState::none) reset_task(run, i);
            }
            run.row.state = RunState::queued;
            run.row.end_date.reset();
            run.row.run_type = "backfill";
            run.row.backfill_id = id;
            batch_.run_changes.push_back(
                {run.row.pk, RunState::queued, std::nullopt, std::nullopt, std::string("backfill"), id});
            queue_run(run);
            continue;
        }
        DagRunRow row;
        row.pk = next_pk_++;
        row.dag_id = request.dag_id;
        row.run_id = planned.run_id;
        row.run_type = "backfill";
        row.state = RunState::queued;
        row.logical_date = planned.info.logical_date;
        row.data_interval_start = planned.info.interval.start;
        row.data_interval_end = planned.info.interval.end;
        row.run_after = planned.info.run_after;
        row.queued_at = now;
        row.conf = request.dag_run_conf;
        row.backfill_id = id;
        add_run(entry, std::move(row));
    }
    spdlog::info("backfill {} of DAG '{}': {} runs queued, {} dates left alone", id, request.dag_id,
                 outcome.plan.runs.size(), outcome.plan.skipped.size());
    return outcome;
}

// A backfill that has not completed; the error says whether it ever existed.
Result<SchedulerCore::LiveBackfill*> SchedulerCore::backfill_under_way(long long id) {
    auto it = backfills_.find(id);
    if (it != backfills_.end()) return &it->second;
    auto stored = store_.find_backfill(id);
    if (!stored) return stored.error();
    if (!*stored) return make_error("there is no backfill {}; `mayaflow backfills list` lists them", id);
    return make_error("backfill {} is already completed", id);
}

Result<BackfillRow> SchedulerCore::pause_backfill(long long id, bool paused) {
    auto backfill = backfill_under_way(id);
    if (!backfill) return backfill.error();
    (*backfill)->row.is_paused = paused;
    batch_.backfills.push_back((*backfill)->row);
    queued_check_needed_ = true;
    return (*backfill)->row;
}

// As Airflow 3: the backfill's queued runs fail without running; runs under way finish.
Result<BackfillRow> SchedulerCore::cancel_backfill(long long id) {
    auto backfill = backfill_under_way(id);
    if (!backfill) return backfill.error();
    Instant now = clock_.now();
    for (auto queued = queued_runs_.begin(); queued != queued_runs_.end();) {
        auto run = runs_.find(queued->second);
        if (run == runs_.end() || run->second.row.backfill_id != id || run->second.row.state != RunState::queued) {
            ++queued;
            continue;
        }
        leave_queue(run->second);
        run->second.row.state = RunState::failed;
        run->second.row.end_date = now;
        batch_.run_changes.push_back({run->first, RunState::failed, std::nullopt, now});
        finished_runs_.insert(run->first);
        queued = queued_runs_.erase(queued);
    }
    BackfillRow row = (*backfill)->row;
    row.is_paused = true;
    row.completed_at = now;
    batch_.backfills.push_back(row);
    backfills_.erase(id);  // its running runs finish on their own; they no longer count against anything
    return row;
}

void SchedulerCore::complete_backfill_if_done(long long backfill_id, Instant now) {
    auto it = backfills_.find(backfill_id);
    if (it == backfills_.end() || it->second.active_runs > 0 || it->second.queued_runs > 0) return;
    it->second.row.completed_at = now;
    batch_.backfills.push_back(it->second.row);
    spdlog::info("backfill {} of DAG '{}' is complete", backfill_id, it->second.row.dag_id);
    backfills_.erase(it);
}

}  // namespace mayaflow
