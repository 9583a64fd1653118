#pragma once
// Operator is what runs one try of a task: the scheduler hands it a TaskRun (the task, its run, its log
// file, its timeout), the operator renders its templated parameters, does its work, and answers with an
// OperatorResult (success, failed or skipped, plus the task's result value). The scheduler knows operators
// only through this interface and the OperatorRegistry that makes them.

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/model/dag.h"
#include "engine/model/operator_spec.h"
#include "engine/model/work_cost.h"
#include "engine/template/airflow_context.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

class ConnectionSource;
class SecretMasker;
class SecretsLookup;
class TaskSupervisor;

// StartedProcess names the process a try started, for the whole boot: what the scheduler records in the
// attempt row so that a restarted daemon can tell whether the try still runs (see docs/exec.md).
struct StartedProcess {
    pid_t pid = 0;                  // also its process group's id; 0 when it was never recorded
    std::uint64_t start_ticks = 0;  // /proc/<pid>/stat field 22; a pid alone is reused once reaped
    std::string boot_id;            // start ticks count from boot, so they mean something only in this one
    Instant started_at{};           // when the try's process started; the execution timeout counts from here
};

// Where a sensor's try in reschedule mode stands between two pokes (Airflow's task_reschedule rows):
// when its first poke started (its timeout counts from there), how many pokes it has had, and when
// it pokes next.
struct PokeSchedule {
    Instant first_poke_at{};
    int pokes = 0;
    Instant next_poke_at{};
};

// TaskRun is everything one try of a task needs.
struct TaskRun {
    const Task& task;
    // The run the try belongs to. The operator takes task_id and loop_vars from `task` and try_number from
    // below, whatever these fields say.
    tmpl::RunInfo run_info;
    int try_number = 1;
    // The try's log, ".../attempt=<n>.log": absolute, and the same path after a restart. A process's exit
    // file lives next to it (exit_file_path()).
    std::filesystem::path log_file;
    std::optional<Duration> execution_timeout;
    // The daemon's environment (daemon_environment()); operators pass it on to the processes they start.
    std::map<std::string, std::string> base_environment;
    // Called right after a child process starts and before the operator waits for it: the scheduler
    // commits pid, start ticks and boot id, so that it can adopt the process after a restart. May be empty;
    // must not throw (to abandon the try, call the operator's cancel()).
    std::function<void(const StartedProcess&)> on_started;
    // The daemon's task supervisor (engine/exec/task_supervisor.h): when set, processes are started
    // through it and no recording shell is wrapped around them. Null in `tasks test` and unit tests.
    TaskSupervisor* supervisor = nullptr;
    // Where the try finds the connections it uses (gcp_conn_id …): the environment's, then the
    // database's. Null: none (the operator says so when it needs one).
    ConnectionSource* connections = nullptr;
    // The secrets to show as "***" in the try's log, messages and rendered templates (every
    // connection password, sensitive extra and sensitive variable the daemon knows). Null: none.
    const SecretMasker* masker = nullptr;
    // `tasks test`: remote work (a BigQuery job) is started afresh each time, rather than followed
    // again under the id the same try used before (what a restarted daemon does).
    bool fresh_remote_work = false;
    // A sensor's try that was rescheduled: its pokes so far. Unset for the try's first poke.
    std::optional<PokeSchedule> earlier_pokes;
};

// rescheduled: a sensor in reschedule mode has not found what it waits for; the try gives its slot
// back and pokes again later (OperatorResult::reschedule), as the same try.
enum class TaskOutcome { success, failed, skipped, rescheduled };
std::string_view to_string(TaskOutcome outcome);

struct OperatorResult {
    TaskOutcome outcome = TaskOutcome::failed;
    // The task's result (its XCom return_value); null when it has none.
    nlohmann::json value;
    // One line for the UI: "exit code 3", "timed out after 10m", "template error in bash_command: 'x' is
    // undefined". May be empty on success.
    std::string message;
    // The exit code of the task's process, when it had one and it exited.
    std::optional<int> exit_code;
    // The try ran past its execution_timeout and was ended.
    bool timed_out = false;
    // The try was ended by cancel(); the scheduler decides what state that means.
    bool cancelled = false;
    // The try was let go by detach(): its remote work goes on, and the next daemon follows it again.
    // Nothing is to be recorded of it.
    bool detached = false;
    // Whether a retry could help. True for every failure (as in Airflow, which retries template errors
    // too), except a cancelled try.
    bool retryable = true;
    // rescheduled: when to poke again, and the pokes so far.
    std::optional<PokeSchedule> reschedule;
    // What the try's remote work cost (a BigQuery job's bytes and slots), whatever the outcome; the
    // scheduler keeps it per try.
    std::optional<WorkCost> cost;
};

class Operator {
  public:
    virtual ~Operator();

    // Runs one try. Never throws for a failure of the task itself: that is a failed result with a message.
    virtual OperatorResult execute(const TaskRun& run) = 0;

    // Finishes a try that an earlier daemon started and recorded as `recorded`, after a restart: waits for
    // it if it still runs (honouring what is left of the execution timeout), and otherwise reports how it
    // ended. `recorded.pid` 0 means the process was started but its pid never recorded. The default, for
    // operators that start no process, reports that the try ended with the daemon.
    virtual OperatorResult resume(const TaskRun& run, const StartedProcess& recorded);

    // Ends the running try as soon as possible; execute() or resume() then returns a cancelled result.
    // Thread-safe, may be called before, during or after execute(), more than once. Once cancelled, an
    // operator object stays cancelled: make a new one for the next try.
    virtual void cancel() {}

    // Operators whose tries wait on remote work (a BigQuery job, a sensor's next poke) say so here and
    // override start() and start_resume(): those begin the try and return at once, and `done` is called
    // exactly once, from any thread, when the try has ended — so a waiting try holds no worker thread
    // (as Airflow's deferrable operators free their worker). The defaults run execute() and resume().
    // cancel() of an asynchronous operator must not call `done` on the cancelling thread (the executor
    // holds its lock while it cancels): it ends the try from its own thread, as its waits do.
    using Done = std::function<void(OperatorResult)>;
    virtual bool is_asynchronous() const { return false; }
    // Whether a try that waits without a worker is deferred, as Airflow's deferrable operators are:
    // it shows as `deferred` and gives its place in parallelism and max_active_tasks back (not its pool
    // slots) while its remote work runs. Sensors are not: in poke mode a try keeps its slot, as in Airflow.
    virtual bool defers_while_waiting() const { return is_asynchronous(); }
    // The daemon stops while a deferred try waits: stop following its remote work without ending
    // that work (no jobs.cancel), and end the try with a `detached` result — a restarted daemon
    // follows the work again (start_resume), as after a crash. The rules of cancel() apply (any
    // thread, never `done` on the calling thread). The default cancels.
    virtual void detach() { cancel(); }
    virtual void start(const TaskRun& run, Done done) { done(execute(run)); }
    virtual void start_resume(const TaskRun& run, const StartedProcess& recorded, Done done) {
        done(resume(run, recorded));
    }
};

// The base of asynchronous operators: execute() and resume() start the try and wait for its end,
// for callers that have a thread to spend (`tasks test`).
class AsyncOperator : public Operator {
  public:
    bool is_asynchronous() const override { return true; }
    OperatorResult execute(const TaskRun& run) override;
    OperatorResult resume(const TaskRun& run, const StartedProcess& recorded) override;
};

// The message of a try whose process ended with the daemon without recording how it ended.
inline constexpr std::string_view kEndedWithDaemonMessage =
    "the task's process ended with the daemon; no exit status was recorded";

// The template context of one try: run.run_info with task_id, loop_vars and try_number taken from the
// task and the try.
tmpl::Context make_task_context(const TaskRun& run);

// The task's parameters with every templated one rendered: strings, and the string leaves of lists and
// maps (map keys stay as written). Other parameters are copied as they are. Errors name the parameter
// and, inside lists and maps, the place: "template error in env.TABLE: 'x' is undefined".
Result<nlohmann::json> render_templated_params(const OperatorSpec& spec, const Task& task,
                                               const tmpl::Context& context);

// Points the run's {{ conn.<id> }} and {{ var.value.<key> }} at `lookup` (which must outlive the run):
// a connection or variable that exists but cannot be read (a bad AIRFLOW_CONN_ value, a wrong secret
// key) is the template's error.
void read_secrets_through(tmpl::RunInfo& info, SecretsLookup& lookup);

// `text` with the try's secrets masked (as it is when there is no masker).
std::string mask_secrets(const TaskRun& run, std::string_view text);

// The environment this process runs with, as a map (for TaskRun::base_environment).
std::map<std::string, std::string> daemon_environment();

}  // namespace mayaflow
