#pragma once
// SchedulerCore is the part of the scheduler that decides: which runs to create from each DAG's
// timetable, which tasks are ready by their trigger rules, which of those get a slot (pools,
// max_active_tasks, parallelism, priority), and what a finished try means (success, retry,
// failure and what it does downstream). It is given a Clock, a RunStore and an Executor, and owns
// nothing else, so a test can drive a year of schedules through it in milliseconds.
//
// One turn: take the reports and commands that arrived, decide, write every resulting transition
// in one transaction, commit, and only then hand the tries that became queued to the executor.
// All calls come from one thread (the scheduler loop's).

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/model/dag.h"
#include "engine/store/run_store.h"
#include "engine/time/timetable.h"
#include "scheduler/backfill_plan.h"
#include "scheduler/clock.h"
#include "scheduler/dag_graph.h"
#include "scheduler/executor.h"
#include "scheduler/notifications.h"
#include "scheduler/trigger_rules.h"

namespace mayaflow {

struct SchedulerOptions {
    int parallelism = 32;  // tries running at once, over all DAGs
    // Tries handed to the executor beyond `parallelism`, queued there so that one starts the moment
    // a worker frees, without waiting for the scheduler's next turn and commit (the executor runs at
    // most `parallelism` at once). Pools and max_active_tasks count them as Airflow counts queued tries.
    int queue_ahead = 0;
    std::filesystem::path logs_folder = "logs";
    std::map<std::string, int> pools = {{"default_pool", 128}};
    // Like Airflow, `empty` tasks succeed in the scheduler as soon as their trigger rule lets them
    // run: they never take a slot or go through the executor. Off, they run like any operator.
    bool finish_empty_in_scheduler = true;
};

struct TriggerRequest {
    std::string dag_id;
    std::optional<std::string> run_id;
    std::optional<Instant> logical_date;  // default: now
    nlohmann::json conf = nlohmann::json::object();
};

struct ClearRequest {
    std::string dag_id;
    std::string run_id;
    std::vector<std::string> task_ids;  // empty: every task
    bool only_failed = false;
    bool include_downstream = false;
    bool include_upstream = false;
    // Airflow 3's run_on_latest_version: the cleared tasks run with the DAG's newest version (a
    // folder that is not a versioned bundle runs the code on disk); false keeps the run's version.
    bool run_on_latest_version = true;
    bool only_running = false;  // only tasks queued, running or deferred (Airflow's only_running)
    // Says what would be cleared without clearing it (the API's dry_run).
    bool dry_run = false;
};

// What a clear did: how many task instances, and the DAG version they run with, and why that one.
struct ClearOutcome {
    int cleared = 0;
    // Cleared while queued or running: as Airflow, the try is ended and the task runs again.
    std::vector<std::string> restarted;
    int dag_version = 0;
    std::string version_note;  // "the newest", "the run's own (--keep-run-version)", ...
    std::vector<std::string> task_ids;  // the tasks cleared (or, in a dry run, that would be)
};

// What a backfill command did: the runs it created or took over, and the dates it left alone.
struct BackfillOutcome {
    BackfillRow backfill;  // id 0 for a dry run
    BackfillPlan plan;
};

class SchedulerCore {
  public:
    SchedulerCore(Clock& clock, RunStore& store, Executor& executor, SchedulerOptions options);

    // DAGs as the DAG processor loads them: new runs use the newest version; a run keeps the version
    // it started with. A DAG that another dag_id now comes from the same file as is retired (a
    // rename): no new runs, no triggers, its queued runs wait; runs under way finish.
    void set_dag(std::shared_ptr<const Dag> dag, int version, bool paused);
    // The DAG's file is gone: retired in the same way.
    void remove_dag(const std::string& dag_id);
    Status set_paused(const std::string& dag_id, bool paused);

    // After a restart: reloads the runs that had not finished and finishes or retries their tries.
    // Tries the executor still has (after a commit failed, see run_turn) are counted, not started again.
    Status recover();

    // Where the events of on_*_callback go, each after the commit of the transition it reports
    // (scheduler/notifications.h). Null (the default): none are made.
    void set_notification_sink(NotificationSink* sink) { notifications_ = sink; }

    // Events.
    void on_report(const TaskReport& report);

    // Commands.
    Result<std::string> trigger(const TriggerRequest& request);
    Result<ClearOutcome> clear(const ClearRequest& request);
    // Airflow's set_task_instance_state: sets the task's state (a running try is ended), then clears
    // the failed and upstream_failed tasks downstream of it so that they run; a finished run whose
    // tasks were cleared is queued again. Returns how many downstream tasks were cleared.
    Result<int> mark_task(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                          TaskState state);
    // Airflow's set_dag_run_state_to_success, _failed and _queued (PATCH …/dagRuns/{id}): success
    // marks every task success; failed ends running tries as failed and skips the other unfinished
    // tasks; queued puts a finished run back in the queue with its tasks as they are. Running tries
    // are ended. Returns the tasks whose state it changed.
    Result<std::vector<std::string>> set_run_state(const std::string& dag_id, const std::string& run_id,
                                                   RunState state);
    // Removes a run with its task instances (DELETE …/dagRuns/{id}); its running tries are ended.
    Status delete_run(const std::string& dag_id, const std::string& run_id);
    // Removes every record of a DAG whose file is gone (Airflow's delete_dag): its runs, versions,
    // backfills and warnings. A DAG the folder still defines is refused.
    Status delete_dag(const std::string& dag_id);
    // Pools as the store keeps them; a task whose pool does not exist fails with a message saying so.
    void set_pool(const std::string& name, int slots);
    void remove_pool(const std::string& name);
    Result<BackfillOutcome> create_backfill(const BackfillRequest& request);
    Result<BackfillRow> pause_backfill(long long id, bool paused);
    Result<BackfillRow> cancel_backfill(long long id);

    // Shutdown: no new tries start (runs are still created and tries still finish). Tries queued in
    // the executor that have not started go back to `scheduled`, their try number as it was.
    void start_draining();
    // Tries handed to the executor and not finished (queued, running or deferred).
    int running_tries() const { return static_cast<int>(in_flight_.size()); }
    // Of those, the deferred ones (waiting on remote work without a worker).
    int deferred_tries() const { return static_cast<int>(deferred_.size()); }
    // Tasks ready to run that wait for a slot (parallelism, pools, max_active_tasks).
    int waiting_tries() const { return static_cast<int>(ready_.size()); }
    // Pool slots in use, by pool; and each pool's size.
    const std::map<std::string, int>& pool_slots_used() const { return pool_used_; }
    const std::map<std::string, int>& pool_sizes() const { return options_.pools; }
    // After the grace period: ends every running try that is not deferred; each goes back to be
    // tried again after a restart, without using up one of its retries. Deferred tries are left to
    // their remote work (the executor's shutdown lets go of them; the next daemon follows them).
    void interrupt_running_tries();

    // Decides, commits, dispatches. Returns when the next timer is due (a schedule, a retry), if any.
    // When the commit fails, nothing of the turn is acted on: the error is returned and the core
    // forgets the turn's decisions and reloads its state from the store, as after a restart (the
    // next turn makes them again from there; should the reload fail, the next turn tries it first).
    Result<std::optional<Instant>> run_turn();
    // Whether the last turn that committed had anything to write (a turn with nothing to write does not
    // touch the store, so its success says nothing of the store: DaemonHealth::turn_committed).
    bool last_turn_wrote() const { return last_turn_wrote_; }
    // The answer to a command from the command queue, written with the next turn's commit.
    void answer_command(long long id, bool ok, nlohmann::json result);

    // For tests and the CLI.
    size_t active_run_count() const { return runs_.size(); }
    std::optional<TaskState> task_state(long long run_pk, const std::string& task_id) const;
    std::vector<long long> active_run_pks(const std::string& dag_id) const;

  private:
    struct LiveTask {
        TaskInstanceRow row;
        UpstreamSummary upstream;
        bool held_by_past = false;  // state none, waiting for its previous run (depends_on_past)
    };
    struct LiveRun {
        DagRunRow row;  // task_instances left empty: they live in `tasks`
        std::shared_ptr<const Dag> dag;
        std::shared_ptr<const DagGraph> graph;
        std::vector<LiveTask> tasks;
        size_t unfinished = 0;  // tasks not in a finished state
        size_t waiting = 0;     // tasks in state none
        size_t waiting_for_past = 0;  // of those, held back by depends_on_past
        // The tasks' results as ti.xcom_pull reads them, shared by the tries dispatched until a
        // result changes.
        std::shared_ptr<const std::map<std::string, nlohmann::json, std::less<>>> results;
        // Whose max_active_runs this running run counts against: its backfill's, or (nullopt) its
        // DAG's — a run of a backfill that has completed or was cancelled counts as the DAG's.
        std::optional<long long> counted_in_backfill;
        bool queued_for_dag = false;  // queued, and counted in its DAG's queued_runs
        // The DAG's last successful run before this one (Airflow's prev_*_success template names),
        // looked up at the first dispatch: outer nullopt until then, inner nullopt when there is none.
        std::optional<std::optional<DagRunRow>> previous_success;
    };
    struct LiveBackfill {
        BackfillRow row;
        int active_runs = 0;
        int queued_runs = 0;
    };
    struct DagEntry {
        std::shared_ptr<const Dag> dag;  // null when the DAG is gone but runs of it remain
        std::string inactive_reason;     // why dag is null, for the errors of triggers
        std::shared_ptr<const DagGraph> graph;
        int version = 0;
        bool paused = false;
        bool timetable_loaded = false;
        std::optional<DataInterval> last_automated;
        int active_runs = 0;    // running runs other than backfill runs
        int queued_runs = 0;    // queued runs other than backfill runs: Airflow counts them as active too
        int running_tasks = 0;  // queued or running, over all runs
        bool schedule_known = false;  // next_due is up to date
        std::optional<Instant> next_due;
    };
    struct ReadyTask {
        long long weight;
        Instant order;  // the run's logical date (or run_after): older runs first
        long long run_pk;
        size_t task_index;
        bool operator<(const ReadyTask& other) const;
    };
    struct Timer {
        Instant at;
        long long run_pk;
        size_t task_index;  // kRunTimeout: the run's dagrun_timeout
        int try_number;
        bool operator>(const Timer& other) const { return at > other.at; }
    };
    static constexpr size_t kRunTimeout = static_cast<size_t>(-1);

    using TryId = std::tuple<long long, size_t, int>;  // a TryKey, ordered
    static TryId try_id(const TryKey& key) { return {key.run_pk, key.task_index, key.try_number}; }
    static TryId current_try(const LiveRun& run, size_t task_index) {
        return {run.row.pk, task_index, run.tasks[task_index].row.try_number};
    }

    Status rebuild_from_store();
    Result<bool> run_exists(const std::string& dag_id, const std::string& run_id, std::optional<Instant> logical_date,
                            std::string* existing_run_id = nullptr);
    void create_scheduled_runs(Instant now);
    void start_queued_runs(Instant now);
    bool may_start(const LiveRun& run) const;
    void set_running(LiveRun& run, Instant now);
    void begin_running(LiveRun& run);
    void arm_run_timeout(const LiveRun& run, Instant started);
    void push_ready(const LiveRun& run, size_t task_index);
    std::optional<Instant> next_schedule_time(DagEntry& entry, Instant now);
    LiveRun& add_run(DagEntry& entry, DagRunRow row);
    LiveRun& load_run(DagRunRow stored, std::shared_ptr<const Dag> dag, std::shared_ptr<const DagGraph> graph);
    Result<std::pair<std::shared_ptr<const Dag>, std::shared_ptr<const DagGraph>>> dag_version(const std::string& dag_id,
                                                                                              int version);
    void set_state(LiveRun& run, size_t task_index, TaskState state);
    void evaluate(LiveRun& run, size_t task_index);
    void evaluate_pending();
    bool past_allows(LiveRun& run, size_t task_index);
    bool held_by_pause(const LiveRun& run);
    void finish_task(LiveRun& run, size_t task_index, TaskState state, Instant now);
    void time_out_run(LiveRun& run, Instant now);
    void check_deadlock(LiveRun& run, Instant now);
    void run_finished(LiveRun& run, Instant now);
    void queue_run(LiveRun& run);
    void leave_queue(LiveRun& run);  // the run is no longer queued: its counts go down
    LiveBackfill* active_backfill(const LiveRun& run);
    Result<LiveBackfill*> backfill_under_way(long long id);
    void take_run_slot(LiveRun& run);
    void complete_backfill_if_done(long long backfill_id, Instant now);
    Result<LiveRun*> bring_back(const std::string& dag_id, const std::string& run_id);
    void reset_task(LiveRun& run, size_t task_index);
    // Ends the run's tries and gives back its place (in the queue or among the running runs), then
    // drops it from memory at once: nothing of it is decided or dispatched any more.
    void forget_run(LiveRun& run, Instant now);
    void drop_from_queue(LiveRun& run);
    // The version a run that is about to run again takes: the DAG's newest when asked and when no
    // try of the run is under way (their keys name tasks of the run's version), else its own.
    // Returns the DAG to use and says why in `note`.
    std::shared_ptr<const Dag> version_to_run_again(const LiveRun& run, bool latest, std::string& note);
    void move_to_version(LiveRun& run, std::shared_ptr<const Dag> dag);
    void task_failed(LiveRun& run, size_t task_index, const OperatorResult& result, Instant now);
    void task_rescheduled(LiveRun& run, size_t task_index, const OperatorResult& result, Instant now);
    static void begin_try(LiveTask& task, Instant now);
    static void take_back_try(LiveTask& task);
    static std::optional<PokeSchedule> earlier_pokes(const TaskInstanceRow& row);
    void release_slot(LiveRun& run, size_t task_index);
    void try_deferred(LiveRun& run, size_t task_index);  // its executor reported it deferred
    // Gives back a try's place in parallelism and in its DAG's max_active_tasks.
    void leave_parallelism(const LiveRun& run);
    // Ends a try: now when the executor has it; after this turn's dispatch when the try is about to
    // be handed over (a try resumed after a restart, ended by a command or a timeout in the same turn).
    void cancel_try(const TryKey& key);
    void update_run_state(LiveRun& run, Instant now);
    // Queues the task's or the run's callbacks of that kind, if it has any, for after the commit.
    void notify_task(LiveRun& run, size_t task_index, NotificationKind kind, const std::string& message);
    void notify_run(LiveRun& run, std::string reason);
    void queue_ready_tasks(Instant now);
    void set_dag_paused(DagEntry& entry, const std::string& dag_id, bool paused);
    void fire_due_timers(Instant now);
    void mark_dirty(LiveRun& run, size_t task_index);
    tmpl::RunInfo run_info(LiveRun& run, size_t task_index) const;
    std::filesystem::path log_file(const LiveRun& run, size_t task_index, int try_number) const;
    LiveRun* find_run(const std::string& dag_id, const std::string& run_id);
    void reset_summaries(LiveRun& run);
    Status ensure_next_pk();

    Clock& clock_;
    RunStore& store_;
    Executor& executor_;
    SchedulerOptions options_;
    std::map<std::string, DagEntry> dags_;
    std::map<long long, LiveRun> runs_;
    std::priority_queue<ReadyTask> ready_;
    // Ready tasks of runs of paused DAGs (not of a backfill under way): Airflow queues nothing of a
    // paused DAG. They go back to ready_ when the DAG is unpaused.
    std::map<std::string, std::vector<ReadyTask>> held_by_pause_;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
    std::map<std::string, int> pool_used_;
    int running_ = 0;
    bool draining_ = false;
    bool interrupting_ = false;
    bool last_turn_wrote_ = false;
    long long next_pk_ = 0;  // the pk the next new run gets (the store's max + 1 at start)
    std::map<long long, LiveBackfill> backfills_;  // not completed
    std::set<std::pair<long long, long long>> queued_runs_;  // (order, pk) of runs waiting to start
    long long queue_order_ = 0;
    bool queued_check_needed_ = false;  // a queued run may be able to start
    long long next_backfill_id_ = 0;
    std::deque<std::pair<long long, size_t>> to_evaluate_;
    // Tasks held back by depends_on_past, by (dag_id, task_id): looked at again when that task
    // finishes in another run.
    std::map<std::pair<std::string, std::string>, std::set<std::pair<long long, size_t>>> past_waiters_;
    std::set<long long> touched_runs_;  // runs whose tasks changed this turn, checked for deadlock
    StateBatch batch_;
    std::vector<std::unique_ptr<DagRunRow>> new_runs_;  // owned until written
    std::set<std::pair<long long, size_t>> dirty_;
    std::vector<TaskLaunch> to_dispatch_;
    std::vector<TryKey> cancel_after_dispatch_;  // of to_dispatch_: ended before they were handed over
    std::set<TryId> in_flight_;  // handed to the executor, no finished report yet
    // Of in_flight_: waiting on remote work without a worker (a deferred report). They hold their
    // pool slots but not a place in parallelism or max_active_tasks, as in Airflow.
    std::set<TryId> deferred_;
    bool needs_rebuild_ = false;  // a commit failed and the reload from the store has not succeeded yet
    std::set<long long> finished_runs_;  // to drop from memory after the commit
    NotificationSink* notifications_ = nullptr;
    std::vector<NotificationEvent> pending_notifications_;  // handed to notifications_ after the commit
};

}  // namespace mayaflow
