#pragma once
// ThreadPoolExecutor runs tries on a fixed set of worker threads: each makes the task's operator
// from the registry, runs (or, after a restart, resumes) it, and reports when the try's process
// starts and when the try ends.

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operators/operator_registry.h"
#include "scheduler/executor.h"

namespace mayaflow {

class SecretsLookup;
class SecretMasker;

// Where the tries' templates find connections and variables ({{ conn.x }}, {{ var.value.y }}), and the
// masker that hides their secrets in the tries' logs and messages. Both may be null.
struct TaskSecrets {
    SecretsLookup* lookup = nullptr;
    SecretMasker* masker = nullptr;
};

class ThreadPoolExecutor : public Executor {
  public:
    // `supervisor`, when given, starts the tries' processes (engine/exec/task_supervisor.h). Before
    // each try, every secret `secrets.lookup` knows is registered with `secrets.masker`, so a
    // connection added a moment ago is masked too.
    ThreadPoolExecutor(const OperatorRegistry& registry, int workers, TaskSupervisor* supervisor = nullptr,
                       TaskSecrets secrets = {});
    ~ThreadPoolExecutor() override;

    void set_report_sink(ReportSink sink) override;
    void submit(TaskLaunch launch) override;
    void cancel(const TryKey& key) override;
    std::vector<TryKey> withdraw_unstarted() override;
    // Stops taking work, cancels every running try — but lets go of the deferred ones, whose remote
    // work goes on (Operator::detach()) — and waits for the workers.
    void shutdown();

  private:
    struct Running {
        TryKey key;
        Operator* op;
    };
    // One try, from the moment a worker takes it to its end.
    struct Try {
        TaskLaunch launch;
        std::unique_ptr<Operator> op;
        std::optional<TaskRun> run;
        bool ended = false;     // asynchronous: finish() has begun (guarded by mutex_)
        bool starting = false;  // asynchronous: start() has not returned; not destroyed before (mutex_)
    };
    void work();
    static OperatorResult cancelled_result();
    void run_one(TaskLaunch& launch);
    void finish(Try& attempt, OperatorResult result, bool asynchronous);
    // Moves an asynchronous try that has ended to retired_ (under mutex_).
    void retire(const Try* attempt);
    void report(TaskReport report);
    void refresh_secrets();

    const OperatorRegistry& registry_;
    TaskSupervisor* supervisor_ = nullptr;
    TaskSecrets secrets_;
    std::string last_secrets_problem_;  // logged once, not before every try
    std::map<std::string, std::string> environment_;
    ReportSink sink_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<TaskLaunch> queue_;
    std::vector<Running> running_;
    std::vector<TryKey> taken_;             // left the queue, not yet registered as running
    std::vector<TryKey> cancel_requested_;  // of taken_: cancelled before it started
    // Resumed tries cancelled before they started: they start, so that their operator ends what the
    // try left running (its process, its BigQuery job), and are cancelled at once.
    std::vector<TryKey> cancel_on_start_;
    std::vector<std::unique_ptr<Try>> asynchronous_;  // started, waiting without a worker
    std::vector<std::unique_ptr<Try>> retired_;       // ended asynchronously, to destroy on a worker
    std::condition_variable asynchronous_ended_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace mayaflow
