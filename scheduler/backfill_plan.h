#pragma once
// A backfill's plan: the logical dates of a DAG's schedule between two dates, and for each whether
// a run is created, an existing run is run again (per the reprocess behaviour), or nothing happens
// and why. The scheduler carries out the plan; `dags backfill --dry-run` prints it.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "engine/model/dag.h"
#include "engine/store/run_store.h"
#include "engine/store/store.h"
#include "engine/time/timetable.h"
#include "engine/util/result.h"

namespace mayaflow {

struct BackfillRequest {
    std::string dag_id;
    Instant from_date;  // the first logical date (aligned up to the schedule)
    Instant to_date;    // the last logical date, inclusive
    ReprocessBehavior reprocess_behavior = ReprocessBehavior::none;
    int max_active_runs = 10;
    bool run_backwards = false;
    nlohmann::json dag_run_conf = nlohmann::json::object();
    bool dry_run = false;
    // Airflow 3's run_on_latest_version: runs run again (reprocessed) take the DAG's newest version.
    bool run_on_latest_version = true;
};

struct PlannedBackfillRun {
    DagRunInfo info;
    std::optional<long long> existing_pk;  // set: this finished run is cleared and runs again
    std::string run_id;                    // the new run's id, or the existing run's
};

struct SkippedBackfillDate {
    Instant logical_date;
    std::string run_id;  // the run that is already there, if any
    std::string reason;
};

struct BackfillPlan {
    std::vector<PlannedBackfillRun> runs;  // in the order they start (newest first when run backwards)
    std::vector<SkippedBackfillDate> skipped;
};

constexpr size_t kMaxBackfillRuns = 100'000;

// `existing`: the DAG's runs with logical dates between the request's dates.
Result<BackfillPlan> plan_backfill(const Dag& dag, const BackfillRequest& request,
                                   const std::vector<DagRunRow>& existing, Instant now);

// A dry run's plan, from what the store holds: the DAG's latest version and its runs in the range.
// The error says when the DAG is not in the store.
Result<BackfillPlan> plan_backfill_from_store(Store& store, RunStore& runs, const BackfillRequest& request, Instant now);

std::string backfill_run_id(Instant logical_date);

// The JSON the scheduler answers a backfill command with, and `--dry-run` prints.
nlohmann::json backfill_to_json(const BackfillRow& backfill);
nlohmann::json plan_to_json(const BackfillPlan& plan);
// A backfill request from a command's payload: dag_id, from_date, to_date (ISO 8601; naive times
// are UTC, as Airflow reads them), reprocess_behavior, max_active_runs, run_backwards, dag_run_conf, dry_run,
// run_on_latest_version.
Result<BackfillRequest> backfill_request_from_json(const nlohmann::json& payload);

}  // namespace mayaflow
