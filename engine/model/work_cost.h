#pragma once
// What a try's remote work cost, as the service that did it reports it: a BigQuery job's bytes
// processed and billed, slot milliseconds, whether the cache answered, rows written. Kept per try in
// the store (task_cost) for `mayaflow tasks stats`, the API and the UI.

#include <optional>
#include <string>

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

}  // namespace mayaflow
