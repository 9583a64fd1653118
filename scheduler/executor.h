#pragma once
// Executor runs the tries the scheduler hands it and reports back when each starts and ends. The
// thread-pool executor runs operators; tests use a fake that lets them decide how each try ends.

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/model/dag.h"
#include "operators/operator.h"

namespace mayaflow {

// Names one try of one task instance.
struct TryKey {
    long long run_pk = 0;
    size_t task_index = 0;  // index into the run's DAG version's tasks
    int try_number = 0;
    friend bool operator==(const TryKey&, const TryKey&) = default;
};

struct TaskLaunch {
    TryKey key;
    std::shared_ptr<const Dag> dag;  // the DAG version the run uses
    tmpl::RunInfo run_info;
    std::filesystem::path log_file;
    // Set after a restart: the try was started by an earlier daemon; finish it instead of starting it.
    std::optional<StartedProcess> resume;
    // A sensor's try that was rescheduled: its pokes so far.
    std::optional<PokeSchedule> earlier_pokes;
};

struct TaskReport {
    // started: the try's process is up (its pid is recorded). deferred: the try now waits on remote
    // work (a BigQuery job) without a worker, as Airflow's deferrable operators do, so it no longer
    // counts against parallelism or max_active_tasks. finished: it ended.
    enum class Kind { started, deferred, finished };
    Kind kind = Kind::finished;
    TryKey key;
    StartedProcess process;  // started
    OperatorResult result;   // finished
};

class Executor {
  public:
    using ReportSink = std::function<void(TaskReport)>;
    virtual ~Executor() = default;

    virtual void set_report_sink(ReportSink sink) = 0;
    virtual void submit(TaskLaunch launch) = 0;
    // Ends a running try (a timeout of its run, a mark-failed, shutdown); it reports finished later.
    virtual void cancel(const TryKey& key) = 0;
    // Takes back the tries handed over that no worker has started yet (a shutdown starts no new
    // ones); they get no report. Returns their keys.
    virtual std::vector<TryKey> withdraw_unstarted() { return {}; }
};

}  // namespace mayaflow
