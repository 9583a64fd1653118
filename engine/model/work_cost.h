#pragma once
// What a try's remote work cost, as the service that did it reports it: a BigQuery job's bytes
// processed and billed, slot milliseconds, whether the cache answered, rows written. Kept per try in
// the store (task_cost) for `mayaflow tasks stats`, the API and the UI.

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>

#include <vector>

#include "engine/time/instant.h"

namespace mayaflow {

struct WorkCost {
    std::string job_id;  // the remote job's id, "" when there was none
    long long bytes_processed = 0;
    long long bytes_billed = 0;
    long long slot_ms = 0;
    bool cache_hit = false;
    std::optional<long long> rows_written;  // load output rows, or a DML statement's affected rows
};

// One try's cost, as stored.
struct TaskCostRow {
    long long run_pk = 0;
    std::string task_id;
    int try_number = 0;
    WorkCost cost;
    Instant recorded_at;
};

// Costs summed per task and UTC day of the tries (`mayaflow tasks stats`).
struct TaskCostTotal {
    std::string task_id;
    std::string day;  // YYYY-MM-DD, UTC, of when the tries ended
    long long tries = 0;
    long long bytes_processed = 0;
    long long bytes_billed = 0;
    long long slot_ms = 0;
    long long cache_hits = 0;
    long long rows_written = 0;
};

// Costs summed per DAG and UTC day of the tries (the API's /mayaflow/costs/dags).
struct DagCostTotal {
    std::string dag_id;
    std::string day;  // YYYY-MM-DD, UTC, of when the tries ended
    long long tries = 0;
    long long jobs = 0;  // tries that ran a remote job (a job id was recorded)
    long long bytes_processed = 0;
    long long bytes_billed = 0;
    long long slot_ms = 0;
    long long cache_hits = 0;
    long long rows_written = 0;
};

// One try's cost with the run it belongs to, for lists of the costliest tries.
struct TryCost {
    std::string dag_id;
    std::string run_id;
    std::string task_id;
    int try_number = 0;
    WorkCost cost;
    Instant recorded_at;
};

// Which tries to list: those that ended in [from, to), of one DAG or all, costliest (bytes billed) first.
struct TaskCostQuery {
    std::optional<std::string> dag_id;
    Instant from;
    Instant to;
    size_t limit = 100;
    size_t offset = 0;
};

struct TaskCostPage {
    std::vector<TryCost> tries;
    long long total = 0;  // how many tries match, over all pages
};

// BigQuery's on-demand list price for queries, in US dollars per TiB (2^40 bytes) billed
// (cloud.google.com/bigquery/pricing, "On-demand compute pricing"; the first TiB each month is free,
// which the estimate does not subtract).
inline constexpr double kBigQueryOnDemandUsdPerTib = 6.25;

// What `bytes_billed` costs at `usd_per_tib`.
double estimated_usd(long long bytes_billed, double usd_per_tib);

// The JSON rows `mayaflow tasks stats --output json` prints and the API answers.
nlohmann::json to_json(const TaskCostTotal& total);
nlohmann::json to_json(const DagCostTotal& total);

}  // namespace mayaflow
