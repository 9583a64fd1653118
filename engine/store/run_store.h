#pragma once
// RunStore keeps DAG runs and task instances. The scheduler writes every batch of transitions in
// one transaction and commits it before it acts on any of them; after a restart it reads back the
// runs that had not finished.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "engine/model/states.h"
#include "engine/model/work_cost.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

struct TaskInstanceRow {
    std::string task_id;
    TaskState state = TaskState::none;
    int try_number = 0;  // tries started so far
    int max_tries = 0;   // retries + 1
    std::optional<Instant> start_date;
    std::optional<Instant> end_date;
    std::optional<Instant> next_try_at;  // up_for_retry: the next try; up_for_reschedule: the next poke
    // A sensor's try that was rescheduled (Airflow's task_reschedule rows): when its first poke
    // started (its timeout counts from there) and how many pokes it has had. Its next poke is the
    // same try: the try number stays.
    std::optional<Instant> first_poke_at;
    int pokes = 0;
    std::optional<long long> pid;
    std::optional<long long> start_ticks;
    std::string boot_id;
    nlohmann::json result;  // null when the task returned nothing
    std::string message;
};

struct DagRunRow {
    long long pk = 0;  // 0 until stored
    std::string dag_id;
    std::string run_id;
    std::string run_type;  // scheduled | manual | backfill
    RunState state = RunState::queued;
    int dag_version = 0;
    std::optional<Instant> logical_date;
    Instant data_interval_start;
    Instant data_interval_end;
    Instant run_after;
    Instant queued_at;
    std::optional<Instant> start_date;
    std::optional<Instant> end_date;
    nlohmann::json conf = nlohmann::json::object();
    std::optional<long long> backfill_id;
    std::vector<TaskInstanceRow> task_instances;  // filled when loading runs with their tasks
    // Read back for the API; the scheduler never writes them (notes are written by set_run_note,
    // updated_at by the store whenever the row changes).
    std::optional<std::string> note;
    std::optional<Instant> updated_at;
};

// A change to one task instance: its whole row as it now stands.
struct TaskInstanceChange {
    long long run_pk = 0;
    TaskInstanceRow row;
};

struct RunStateChange {
    long long run_pk = 0;
    RunState state = RunState::running;
    std::optional<Instant> start_date;
    std::optional<Instant> end_date;
    // Set when a backfill takes over an existing run to run it again.
    std::optional<std::string> run_type;
    std::optional<long long> backfill_id;
    // Set when a cleared run moves to another version of its DAG (the newest, by default).
    std::optional<int> dag_version;
};

// The answer to a command from the command queue, written in the same transaction as the command's
// effects: whoever waits for it reads "done" only once they are committed.
struct CommandAnswer {
    long long id = 0;
    bool ok = true;
    nlohmann::json result;
};

enum class ReprocessBehavior { none, failed, completed };
std::string_view to_string(ReprocessBehavior behavior);
std::optional<ReprocessBehavior> parse_reprocess_behavior(std::string_view text);

// A backfill: runs of a DAG over a range of logical dates, kept as a record that can be paused,
// resumed and cancelled.
struct BackfillRow {
    long long id = 0;
    std::string dag_id;
    Instant from_date;
    Instant to_date;
    bool run_backwards = false;
    ReprocessBehavior reprocess_behavior = ReprocessBehavior::none;
    int max_active_runs = 10;
    nlohmann::json dag_run_conf = nlohmann::json::object();
    bool is_paused = false;
    Instant created_at;
    std::optional<Instant> completed_at;
};

// A pool: a number of slots shared by the tasks that name it (`pool:` and `pool_slots:`).
struct PoolRecord {
    std::string name;
    int slots = 0;
    std::string description;
};

// The same task in the run before a given logical date, for depends_on_past.
struct PreviousTaskInstance {
    long long run_pk = 0;
    Instant logical_date;
    std::optional<TaskState> state;  // nullopt: that run has no such task
};

// Everything one turn of the scheduler decided, written in one transaction.
struct StateBatch {
    std::vector<const DagRunRow*> new_runs;  // with their task instances
    std::vector<RunStateChange> run_changes;
    std::vector<TaskInstanceChange> task_changes;
    std::vector<BackfillRow> backfills;  // new or changed, written whole
    std::vector<CommandAnswer> command_answers;
    std::vector<TaskCostRow> task_costs;  // of tries that ended
    std::vector<long long> deleted_runs;   // removed with their task instances (DELETE …/dagRuns/{id})
    std::vector<std::string> deleted_dags;  // every record of the DAG removed (DELETE /dags/{id})
    bool empty() const {
        return new_runs.empty() && run_changes.empty() && task_changes.empty() && backfills.empty() &&
               command_answers.empty() && task_costs.empty() && deleted_runs.empty() && deleted_dags.empty();
    }
};

struct RunFilter {
    std::optional<std::string> dag_id;
    std::optional<RunState> state;
    std::optional<Instant> logical_from;  // logical date at or after
    std::optional<Instant> logical_to;    // logical date at or before
    std::optional<long long> backfill_id;
    size_t limit = 100;
};

// A range of instants, each end optional and included (the API's *_gte and *_lte).
struct InstantRange {
    std::optional<Instant> gte;
    std::optional<Instant> lte;
    bool empty() const { return !gte && !lte; }
};

// The API's query of DAG runs: filters, one order and a page, all done in SQL.
struct RunQuery {
    std::vector<std::string> dag_ids;  // empty: every DAG
    std::vector<RunState> states;      // empty: every state
    std::vector<std::string> run_types;
    InstantRange logical_date, start_date, end_date, updated_at;
    // id | dag_id | run_id | state | logical_date | start_date | end_date | updated_at | run_type |
    // queued_at; anything else orders by id.
    std::string order_by = "id";
    bool descending = false;
    size_t limit = 100;
    size_t offset = 0;
};

struct RunPage {
    std::vector<DagRunRow> runs;
    long long total_entries = 0;  // matching the filters, before the page
};

// One task instance with its run's names, as the API lists them.
struct TaskInstanceListRow {
    std::string dag_id;
    std::string run_id;
    std::optional<Instant> logical_date;
    int dag_version = 0;
    TaskInstanceRow ti;
    std::optional<std::string> note;
};

struct TaskInstanceQuery {
    std::vector<std::string> dag_ids;  // empty: every DAG
    std::vector<std::string> run_ids;  // empty: every run
    std::vector<std::string> task_ids;
    std::vector<TaskState> states;
    // (dag_id, task_id) pairs a task must be one of (a pool filter, resolved from the DAGs); nullopt: any
    std::optional<std::vector<std::pair<std::string, std::string>>> only_tasks;
    InstantRange logical_date, start_date, end_date;
    std::optional<double> duration_gte, duration_lte;  // seconds
    // run (the run's id, then task_id) | task_id | state | start_date | end_date | duration |
    // try_number | logical_date | dag_id | run_id
    std::string order_by = "run";
    bool descending = false;
    size_t limit = 100;
    size_t offset = 0;
};

struct TaskInstancePage {
    std::vector<TaskInstanceListRow> task_instances;
    long long total_entries = 0;
};

// One try of a task instance, as it started and ended (Airflow's task_instance_history row; the
// task_try table, kept by triggers on task_instance).
struct TaskTryRow {
    int try_number = 0;
    TaskState state = TaskState::none;
    int max_tries = 0;
    std::optional<Instant> start_date, end_date;
    std::optional<long long> pid;
};

// How many runs a DAG has in one state.
struct RunStateCount {
    std::string dag_id;
    RunState state = RunState::queued;
    long long count = 0;
};

class RunStore {
  public:
    virtual ~RunStore() = default;

    // New runs in the batch carry the pk the scheduler gave them (next_run_pk() and up).
    virtual Status write_batch(StateBatch& batch) = 0;
    virtual Result<long long> next_run_pk() = 0;
    // Runs in state queued or running, each with its task instances.
    virtual Result<std::vector<DagRunRow>> load_unfinished_runs() = 0;
    // The data interval of the DAG's latest automated run — scheduled or backfill, by logical date,
    // as Airflow's _get_latest_runs_stmt — to continue its timetable. Manual runs do not move it.
    virtual Result<std::optional<std::pair<Instant, Instant>>> latest_automated_interval(const std::string& dag_id) = 0;
    // A run of the DAG that has this run id or (when given) this logical date: a new run with either
    // would be a second one. nullopt: none.
    virtual Result<std::optional<DagRunRow>> find_conflicting_run(const std::string& dag_id, const std::string& run_id,
                                                                  std::optional<Instant> logical_date) = 0;
    virtual Result<std::vector<DagRunRow>> list_runs(const RunFilter& filter) = 0;
    virtual Result<std::optional<DagRunRow>> find_run(const std::string& dag_id, const std::string& run_id,
                                                      bool with_tasks) = 0;
    // The task in the latest run before `logical_date` (runs other than manual ones when
    // `exclude_manual`), for depends_on_past. nullopt: no earlier run.
    virtual Result<std::optional<PreviousTaskInstance>> previous_task_instance(const std::string& dag_id,
                                                                               Instant logical_date,
                                                                               const std::string& task_id,
                                                                               bool exclude_manual) = 0;
    virtual Result<long long> next_backfill_id() = 0;
    virtual Result<std::vector<PoolRecord>> list_pools() = 0;
    virtual Status set_pool(const PoolRecord& pool) = 0;
    virtual Status delete_pool(const std::string& name) = 0;
    // Backfills not completed (for the scheduler after a restart), or every backfill of a DAG.
    virtual Result<std::vector<BackfillRow>> list_backfills(std::optional<std::string> dag_id, bool only_active) = 0;
    virtual Result<std::optional<BackfillRow>> find_backfill(long long id) = 0;
    // The cost of a DAG's tries that ended in [from, to), summed per task and UTC day.
    virtual Result<std::vector<TaskCostTotal>> task_cost_totals(const std::string& dag_id, Instant from, Instant to) = 0;
    // The cost of every DAG's tries that ended in [from, to), summed per DAG and UTC day.
    virtual Result<std::vector<DagCostTotal>> dag_cost_totals(Instant from, Instant to) = 0;
    // The tries that cost the most (bytes billed), with their runs, a page at a time.
    virtual Result<TaskCostPage> costliest_tries(const TaskCostQuery& query) = 0;
    // The serialized DAG of one version, as the DAG processor stored it.
    virtual Result<std::optional<std::string>> dag_version_json(const std::string& dag_id, int version) = 0;

    // For the API: pages of runs and task instances, filtered, ordered and counted in SQL.
    virtual Result<RunPage> query_runs(const RunQuery& query) = 0;
    virtual Result<TaskInstancePage> query_task_instances(const TaskInstanceQuery& query) = 0;
    // The tries of a task instance up to its current one, oldest first; empty when it has not run.
    virtual Result<std::vector<TaskTryRow>> list_task_tries(const std::string& dag_id, const std::string& run_id,
                                                            const std::string& task_id) = 0;
    // The DAGs' runs counted per state in one query (states with no run are left out).
    virtual Result<std::vector<RunStateCount>> count_runs_by_state(const std::vector<std::string>& dag_ids) = 0;
    // Notes are not state: the API writes them here directly. false: no such run (or task instance).
    virtual Result<bool> set_run_note(const std::string& dag_id, const std::string& run_id,
                                      const std::optional<std::string>& note) = 0;
    virtual Result<bool> set_task_note(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                                       const std::optional<std::string>& note) = 0;
};

}  // namespace mayaflow
