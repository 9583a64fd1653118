#pragma once
// What `mayaflow db clean` removes (Airflow's retention: `airflow db clean`): the history older
// than a moment — finished DAG runs with their task instances and costs, finished commands — and
// what it keeps whatever their age: every run that is not finished, the latest run of each DAG (by
// logical date, and its latest scheduled or backfill run, from which the schedule goes on), the runs
// of a backfill under way, and every run of a DAG that a command still waiting for the scheduler
// names (so that a `tasks clear` or `dags backfill` queued before the clean never finds its run
// gone half-way; one queued after it finds the run gone and says so).

#include <set>
#include <string>
#include <vector>

#include "engine/time/instant.h"

namespace mayaflow {

// The tables `db clean --tables` names. Deleting a dag_run deletes its task_instance and task_cost
// rows with it (and the CLI its logs), as Airflow's foreign keys cascade.
inline const std::vector<std::string> kCleanableTables = {"dag_run", "task_instance", "task_cost", "command"};

struct CleanupRequest {
    Instant before;                // rows older than this: runs that ended, costs recorded, commands queued
    std::set<std::string> tables;  // from kCleanableTables; empty: all of them
    bool dry_run = false;          // count, delete nothing
    // Copy the rows into _mayaflow_deleted__<table>__<archive_suffix> before deleting them, as
    // Airflow keeps them in _airflow_deleted__<table>__<timestamp> (unless --skip-archive).
    bool archive = true;
    std::string archive_suffix;  // digits and '_' only (a timestamp)
    std::size_t batch_size = 500;  // runs per transaction, so a scheduler waits at most one batch
};

struct CleanedRun {
    std::string dag_id;
    std::string run_id;
};

struct CleanupResult {
    std::vector<std::pair<std::string, long long>> rows;  // per table, in kCleanableTables order
    std::vector<CleanedRun> runs;                         // the runs deleted (or that would be)
    std::vector<std::string> archive_tables;              // the archive tables written to
};

}  // namespace mayaflow
