#pragma once
// Shared parts of the scheduler benchmark (bench/scheduler.cpp): a temp folder that cleans up after
// itself, the scheduler run in-process as the daemon runs it, the DAG shapes the scenarios use, and
// the scenarios themselves. Each scenario prints a block of figures; none asserts on time.

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/exec/task_supervisor.h"
#include "engine/model/dag.h"
#include "engine/store/sqlite_store.h"
#include "scheduler/scheduler_loop.h"
#include "engine/exec/task_supervisor.h"
#include "scheduler/thread_pool_executor.h"

namespace mayaflow::bench {

// A folder under the system temp folder, named for the scenario and this process, removed at the end.
class BenchFolder {
  public:
    explicit BenchFolder(const std::string& scenario);
    ~BenchFolder();
    BenchFolder(const BenchFolder&) = delete;
    BenchFolder& operator=(const BenchFolder&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

struct InProcessOptions {
    std::filesystem::path folder;  // holds the database and the task logs
    int parallelism = 32;
    bool finish_empty_in_scheduler = true;
};

// InProcessScheduler is the daemon's scheduler without its DAG folder watcher: a SQLite store (WAL,
// default durability), the thread-pool executor, and the scheduler core on its loop thread with the
// system clock. DAGs are added before start(); the bench watches runs through a second, read-only
// connection so that watching never wakes the loop.
class InProcessScheduler {
  public:
    static Result<std::unique_ptr<InProcessScheduler>> open(const InProcessOptions& options);
    ~InProcessScheduler();

    // Loads a DAG from YAML text, records it in the store and hands it to the core (before start()).
    Result<std::shared_ptr<const Dag>> add_dag(const std::string& yaml, const std::string& dag_id);
    void start();
    // Triggers one manual run of each DAG, all in the same turn of the loop. Returns the instant
    // just before the request was posted.
    Result<Instant> trigger_all(const std::vector<std::string>& dag_ids);
    // Waits until `count` runs have finished (success or failed); false when `timeout` passes first.
    Result<bool> wait_for_finished_runs(size_t count, Duration timeout);
    // Every run, with its task instances, as the store has them.
    Result<std::vector<DagRunRow>> runs_with_tasks();
    void stop();
    // Tries the core has handed to the executor (none of the empty ones when they finish in the scheduler).
    size_t tries_submitted() const { return counter_ ? counter_->submitted.load() : 0; }
    // The task supervisor's process id, 0 when processes start without one.
    pid_t supervisor_pid() const { return supervisor_ ? supervisor_->pid() : 0; }

  private:
    // Forwards to the thread-pool executor and counts what goes through it.
    struct CountingExecutor : Executor {
        explicit CountingExecutor(Executor& inner) : inner(inner) {}
        void set_report_sink(ReportSink sink) override { inner.set_report_sink(std::move(sink)); }
        void submit(TaskLaunch launch) override {
            ++submitted;
            inner.submit(std::move(launch));
        }
        void cancel(const TryKey& key) override { inner.cancel(key); }
        std::vector<TryKey> withdraw_unstarted() override { return inner.withdraw_unstarted(); }
        Executor& inner;
        std::atomic<size_t> submitted{0};
    };

    InProcessScheduler() = default;

    InProcessOptions options_;
    std::unique_ptr<SqliteStore> store_;
    std::unique_ptr<SqliteStore> reader_;
    SystemClock clock_;
    std::unique_ptr<TaskSupervisor> supervisor_;  // as the daemon: processes start through it
    std::unique_ptr<ThreadPoolExecutor> executor_;
    std::unique_ptr<CountingExecutor> counter_;
    std::unique_ptr<SchedulerCore> core_;
    std::unique_ptr<SchedulerLoop> loop_;
    bool stopped_ = false;
};

struct InProcessSetup {
    std::unique_ptr<InProcessScheduler> scheduler;
    std::map<std::string, std::shared_ptr<const Dag>> dags;  // as loaded, by dag_id
};

// Sets up the scheduler with the given DAGs (dag_id, YAML); prints why and returns nothing when it cannot.
std::optional<InProcessSetup> scheduler_with(const BenchFolder& folder, int parallelism,
                                             bool through_executor,
                                             const std::vector<std::pair<std::string, std::string>>& dags);

struct FinishedRuns {
    Instant triggered;  // just before the trigger was posted
    std::vector<DagRunRow> runs;
};

// Starts the loop, triggers one run of each DAG, waits for them all and stops the scheduler; prints
// why and returns nothing when the runs cannot be triggered or do not finish in time.
std::optional<FinishedRuns> trigger_and_wait(InProcessScheduler& scheduler,
                                             const std::vector<std::string>& dag_ids, int timeout_seconds);

// DAG shapes, as DAG file text.
// t0 -> t1 -> ... -> t{tasks-1}; `operator_name` is "empty" or "bash" (running `true`).
std::string linear_dag_yaml(const std::string& dag_id, int tasks, const std::string& operator_name);
// root -> `middle` parallel tasks -> sink (which depends on every middle task).
std::string fan_out_dag_yaml(const std::string& dag_id, int middle, const std::string& operator_name);
// t0 -> t1 -> ... -> t(length-1), each a bash task running `true`.
std::string chain_dag_yaml(const std::string& dag_id, int length);

double seconds_between(Instant from, Instant to);
std::string mode_name(bool through_executor);

struct LagOptions {
    int dags = 100;
    int tasks = 10;
    std::string operator_name = "empty";
    int parallelism = 32;
    bool through_executor = false;
    int timeout_seconds = 120;
};

struct ThroughputOptions {
    int tasks = 9998;  // the middle tasks; root and sink come on top: 10,000, a DAG's most (load_limits.h)
    int parallelism = 32;
    bool through_executor = false;
    int timeout_seconds = 300;
};

struct ProcessesOptions {
    bool chain = false;  // t0 -> t1 -> ... -> t(N-1) instead of root -> N parallel -> sink
    int tasks = 9998;    // with root and sink 10,000 commands, a DAG's most
    int parallelism = 2;
    int timeout_seconds = 900;
};

struct RssOptions {
    int files = 1000;
    std::optional<std::filesystem::path> mayaflow;  // default: next to the bench folder
    std::filesystem::path self;                     // this program, to find the daemon beside it
    int timeout_seconds = 120;
};

// Each returns the process exit code: 0 when the scenario ran to its end.
int run_lag(const LagOptions& options);
int run_throughput(const ThroughputOptions& options);
int run_processes(const ProcessesOptions& options);
int run_rss(const RssOptions& options);

}  // namespace mayaflow::bench
