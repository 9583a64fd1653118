// The state_event table: what each committed batch changed, read by the API's event stream.

#include <nlohmann/json.hpp>

#include "engine/store/sqlite_store.h"
#include "engine/store/store_macros.h"
#include "engine/store/store_time.h"

namespace mayaflow {
namespace {

// How many batches are kept, and how often the older ones are deleted.
constexpr long long kKeptBatches = 5000;
constexpr int kTrimEvery = 256;

}  // namespace

Status SqliteStore::append_state_event(const StateBatch& batch) {
    auto changes = nlohmann::json::array();
    for (const DagRunRow* run : batch.new_runs) {
        changes.push_back({{"k", "r"}, {"r", run->pk}, {"s", to_string(run->state)}});
        for (const auto& ti : run->task_instances) {
            changes.push_back({{"k", "t"}, {"r", run->pk}, {"t", ti.task_id}, {"s", to_string(ti.state)}, {"n", ti.try_number}});
        }
    }
    for (const auto& change : batch.run_changes) {
        changes.push_back({{"k", "r"}, {"r", change.run_pk}, {"s", to_string(change.state)}});
    }
    for (const auto& change : batch.task_changes) {
        changes.push_back({{"k", "t"},
                           {"r", change.run_pk},
                           {"t", change.row.task_id},
                           {"s", to_string(change.row.state)},
                           {"n", change.row.try_number}});
    }
    if (changes.empty()) return Status::success();
    MAYAFLOW_PREPARE(insert, db_, "INSERT INTO state_event (at, changes) VALUES (?, ?)");
    insert.bind(1, to_micros(now_instant())).bind(2, changes.dump());
    MAYAFLOW_TRY(insert.run());
    if (++batches_since_trim_ >= kTrimEvery) {
        batches_since_trim_ = 0;
        MAYAFLOW_PREPARE(trim, db_, "DELETE FROM state_event WHERE seq <= (SELECT MAX(seq) FROM state_event) - ?");
        trim.bind(1, static_cast<std::int64_t>(kKeptBatches));
        MAYAFLOW_TRY(trim.run());
    }
    return Status::success();
}

Result<std::vector<StateChange>> SqliteStore::state_changes_since(long long after_seq, int max_batches) {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_,
                     "SELECT e.seq, e.at, json_extract(j.value, '$.k'), r.dag_id, r.run_id, "
                     "json_extract(j.value, '$.t'), json_extract(j.value, '$.s'), json_extract(j.value, '$.n') "
                     "FROM (SELECT seq, at, changes FROM state_event WHERE seq > ? ORDER BY seq LIMIT ?) e, "
                     "json_each(e.changes) j JOIN dag_run r ON r.id = json_extract(j.value, '$.r') "
                     "ORDER BY e.seq, j.key");
    query.bind(1, static_cast<std::int64_t>(after_seq)).bind(2, max_batches);
    std::vector<StateChange> changes;
    while (true) {
        auto row = query.step();
        if (!row) return row.error();
        if (!*row) break;
        changes.push_back(StateChange{.seq = query.column_int(0),
                                      .at = from_micros(query.column_int(1)),
                                      .is_task = query.column_text(2) == "t",
                                      .dag_id = query.column_text(3),
                                      .run_id = query.column_text(4),
                                      .task_id = query.column_text(5),
                                      .state = query.column_text(6),
                                      .try_number = static_cast<int>(query.column_int(7))});
    }
    return changes;
}

Result<long long> SqliteStore::latest_state_seq() {
    std::lock_guard lock(mutex_);
    MAYAFLOW_PREPARE(query, db_, "SELECT COALESCE(MAX(seq), 0) FROM state_event");
    auto row = query.step();
    if (!row) return row.error();
    return static_cast<long long>(query.column_int(0));
}

}  // namespace mayaflow
