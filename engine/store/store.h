#pragma once
// Store is where mayaflow keeps its state: DAGs and their versions, import errors, and (from the
// scheduler on) runs and task instances. SqliteStore implements it; a second database could too.

#include <optional>
#include <string>
#include <vector>

#include "engine/model/dag.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

struct DagRecord {
    std::string dag_id;
    std::string fileloc;
    bool is_paused = false;
    bool is_active = true;
    std::string description;
    std::string owners;
    std::vector<std::string> tags;
    std::optional<std::string> schedule;  // empty: manual only
    std::string timezone;
    int latest_version = 0;
    Instant last_parsed_time;
};

struct DagVersionRecord {
    std::string dag_id;
    int version_number = 0;
    std::string source_hash;
    std::string serialized;  // the Dag as JSON
    Instant created_at;
};

struct ImportErrorRecord {
    std::int64_t id = 0;
    std::string filename;
    Instant timestamp;
    std::string stack_trace;  // Airflow's name for it: here, the load errors, one per line
};

// A warning about a DAG that loads (Airflow's DagWarning).
struct DagWarningRecord {
    std::string dag_id;
    std::string warning_type;
    std::string message;
    Instant timestamp;
};

// The running scheduler, as it last said it was alive.
struct SchedulerHeartbeat {
    std::string hostname;
    long long pid = 0;
    Instant started_at;
    Instant latest_heartbeat;
};

// How many DAG runs and task instances are in each state (for /metrics).
struct StateCounts {
    std::vector<std::pair<std::string, long long>> dag_runs;        // state, count
    std::vector<std::pair<std::string, long long>> task_instances;  // state, count
};

// One change the scheduler committed: a run's or a task instance's new state.
struct StateChange {
    long long seq = 0;  // the batch it was committed in; later batches have higher numbers
    Instant at;
    bool is_task = false;  // a task instance's change, else the run's
    std::string dag_id;
    std::string run_id;
    std::string task_id;  // empty for a run
    std::string state;
    int try_number = 0;
};

class Store {
  public:
    virtual ~Store() = default;

    // What one parse of one DAG file found: the DAG it defines (a new version when its source
    // changed) with its load-time warnings, or the errors that kept it from loading. Both clear what
    // the file said before.
    virtual Status record_dag_file_parsed(const std::string& filename, const Dag& dag, const std::string& serialized,
                                          Instant now, const std::vector<std::string>& warnings = {}) = 0;
    virtual Status record_dag_file_failed(const std::string& filename, const std::string& errors, Instant now) = 0;
    // The file is gone: its DAGs are deactivated (their pause state and history stay), its errors cleared.
    virtual Status record_dag_file_deleted(const std::string& filename) = 0;

    virtual Result<std::vector<DagRecord>> list_dags(bool include_inactive) = 0;
    virtual Result<std::optional<DagRecord>> find_dag(const std::string& dag_id) = 0;
    virtual Result<std::optional<DagVersionRecord>> latest_dag_version(const std::string& dag_id) = 0;
    virtual Result<std::vector<ImportErrorRecord>> list_import_errors() = 0;
    virtual Status set_paused(const std::string& dag_id, bool paused) = 0;

    // Warnings of one DAG, or of every DAG (empty dag_id), by dag_id.
    virtual Result<std::vector<DagWarningRecord>> list_dag_warnings(const std::string& dag_id) = 0;

    // The database's secret (hex) that signs the API's opaque tokens (migrations/0013).
    virtual Result<std::string> api_signing_key() = 0;

    // The scheduler says it is alive (every few seconds while its turns commit); a web server in
    // another process reads it for /health.
    virtual Status record_scheduler_heartbeat(const SchedulerHeartbeat& heartbeat) = 0;
    virtual Result<std::optional<SchedulerHeartbeat>> latest_scheduler_heartbeat() = 0;

    // Counted with the state indexes, without reading the rows.
    virtual Result<StateCounts> count_states() = 0;

    // The changes of the batches committed after `after_seq`, at most `max_batches` of them, oldest
    // first. Only the newest few thousand batches are kept: a reader that fell further behind sees
    // a gap in the seq numbers and reloads.
    virtual Result<std::vector<StateChange>> state_changes_since(long long after_seq, int max_batches) = 0;
    // The seq of the newest batch (0 when none).
    virtual Result<long long> latest_state_seq() = 0;
};

}  // namespace mayaflow
