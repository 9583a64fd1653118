#include "scheduler/thread_pool_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/connections/secrets_lookup.h"

namespace mayaflow {

ThreadPoolExecutor::ThreadPoolExecutor(const OperatorRegistry& registry, int workers, TaskSupervisor* supervisor,
                                       TaskSecrets secrets)
    : registry_(registry), supervisor_(supervisor), secrets_(secrets), environment_(daemon_environment()) {
    for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { work(); });
}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(); }

void ThreadPoolExecutor::set_report_sink(ReportSink sink) {
    std::lock_guard lock(mutex_);
    sink_ = std::move(sink);
}

void ThreadPoolExecutor::submit(TaskLaunch launch) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(launch));
    }
    wake_.notify_one();
}

std::vector<TryKey> ThreadPoolExecutor::withdraw_unstarted() {
    std::lock_guard lock(mutex_);
    std::vector<TryKey> withdrawn;
    for (const auto& launch : queue_) withdrawn.push_back(launch.key);
    queue_.clear();
    return withdrawn;
}

void ThreadPoolExecutor::cancel(const TryKey& key) {
    std::optional<TaskLaunch> never_started;
    ReportSink sink;
    {
        std::lock_guard lock(mutex_);
        auto queued = std::find_if(queue_.begin(), queue_.end(), [&](const TaskLaunch& l) { return l.key == key; });
        if (queued != queue_.end() && queued->resume) {
            // A try resumed after a restart left work running: it starts, and is cancelled at once.
            if (std::find(cancel_on_start_.begin(), cancel_on_start_.end(), key) == cancel_on_start_.end()) {
                cancel_on_start_.push_back(key);
            }
        } else if (queued != queue_.end()) {
            never_started = std::move(*queued);
            queue_.erase(queued);
            sink = sink_;
        } else {
            bool found = false;
            for (const auto& running : running_) {
                if (running.key == key) {
                    running.op->cancel();
                    found = true;
                }
            }
            // Taken by a worker that has not registered it yet: it is cancelled as it starts. (A try
            // that has finished already is not there: nothing to do.)
            if (!found && std::find(taken_.begin(), taken_.end(), key) != taken_.end()) {
                cancel_requested_.push_back(key);
            }
            // (A resumed try taken but not registered yet is cancelled on start by cancel_on_start_
            // when it was asked before; asked now, cancel_requested_ ends it without starting it.)
        }
    }
    // Every submitted try gets exactly one finished report, a try cancelled in the queue too.
    if (never_started && sink) sink(TaskReport{TaskReport::Kind::finished, key, {}, cancelled_result()});
}

OperatorResult ThreadPoolExecutor::cancelled_result() {
    OperatorResult result;
    result.outcome = TaskOutcome::failed;
    result.message = "cancelled before it started";
    return result;
}

void ThreadPoolExecutor::shutdown() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && workers_.empty()) return;
        stopping_ = true;
        queue_.clear();
        cancel_on_start_.clear();
        // A try whose remote work goes on without the daemon (a BigQuery job) is let go, not
        // cancelled: it stays deferred in the store and the next daemon follows its work again.
        for (const auto& running : running_) {
            if (running.op->is_asynchronous() && running.op->defers_while_waiting()) {
                running.op->detach();
            } else {
                running.op->cancel();
            }
        }
    }
    wake_.notify_all();
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
    workers_.clear();
    // Asynchronous tries were cancelled or let go above; their operators call back from the HTTP
    // client's thread, so they are waited for (each remote call has its own timeout).
    std::unique_lock lock(mutex_);
    while (!asynchronous_ended_.wait_for(lock, std::chrono::seconds(10), [this] { return asynchronous_.empty(); })) {
        spdlog::warn("waiting for {} asynchronous task tries to end", asynchronous_.size());
    }
    retired_.clear();
}

void ThreadPoolExecutor::work() {
    while (true) {
        TaskLaunch launch;
        std::vector<std::unique_ptr<Try>> retired;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || !retired_.empty(); });
            retired.swap(retired_);
            if (stopping_) return;
            if (queue_.empty()) continue;
            launch = std::move(queue_.front());
            queue_.pop_front();
            taken_.push_back(launch.key);
        }
        retired.clear();
        run_one(launch);
    }
}

// Registers every secret known now with the masker: a connection added since the last try is masked too.
void ThreadPoolExecutor::refresh_secrets() {
    if (!secrets_.lookup) return;
    Status registered = secrets_.lookup->register_every_secret();
    std::lock_guard lock(mutex_);
    const std::string problem = registered ? std::string() : registered.error().message;
    if (problem != last_secrets_problem_ && !problem.empty()) spdlog::error("{}", problem);
    last_secrets_problem_ = problem;
}

void ThreadPoolExecutor::report(TaskReport report) {
    ReportSink sink;
    {
        std::lock_guard lock(mutex_);
        sink = sink_;
    }
    if (sink) sink(std::move(report));
}

void ThreadPoolExecutor::run_one(TaskLaunch& launch) {
    auto held = std::make_unique<Try>();
    Try& attempt = *held;
    attempt.launch = std::move(launch);
    const TryKey key = attempt.launch.key;
    const Task& task = attempt.launch.dag->tasks[key.task_index];
    OperatorResult result;
    attempt.op = registry_.create(task.operator_name);
    bool cancel_on_start = false;
    {
        // Leaves taken_ and enters running_ under one lock, so that a cancel finds it in one of them.
        std::lock_guard lock(mutex_);
        std::erase(taken_, key);
        cancel_on_start = std::erase(cancel_on_start_, key) > 0;
        const bool cancel_requested = std::erase(cancel_requested_, key) > 0 && !cancel_on_start;
        if (stopping_) return;
        if (!attempt.op) {
            result.message = "no operator named '" + task.operator_name + "' in this mayaflow";
            result.retryable = false;
        } else if (cancel_requested) {
            result = cancelled_result();
        } else {
            running_.push_back(Running{key, attempt.op.get()});
        }
    }
    if (!result.message.empty()) {
        report(TaskReport{TaskReport::Kind::finished, key, {}, result});
        return;
    }
    refresh_secrets();
    if (secrets_.lookup && !attempt.launch.run_info.connection && !attempt.launch.run_info.variable) {
        read_secrets_through(attempt.launch.run_info, *secrets_.lookup);
    }
    attempt.run.emplace(TaskRun{
        .task = task,
        .run_info = attempt.launch.run_info,
        .try_number = key.try_number,
        .log_file = attempt.launch.log_file,
        .execution_timeout = task.execution_timeout,
        .base_environment = environment_,
        .on_started = [this, key](const StartedProcess& process) {
            report(TaskReport{TaskReport::Kind::started, key, process, {}});
        },
        .supervisor = supervisor_,
        .connections = secrets_.lookup,
        .masker = secrets_.masker,
        .earlier_pokes = attempt.launch.earlier_pokes});
    Operator& op = *attempt.op;
    const TaskRun& run = *attempt.run;
    if (op.is_asynchronous()) {
        // The try waits without this thread: it is kept here until the operator says it has ended
        // (and may be destroyed by another worker from then on).
        const bool defers = op.defers_while_waiting();
        Try* waiting = held.get();
        {
            std::lock_guard lock(mutex_);
            // Not destroyed before start() returns, even when the try ends meanwhile (a cancel
            // answered on the I/O thread while start() still reads the run).
            waiting->starting = true;
            asynchronous_.push_back(std::move(held));
        }
        auto done = [this, waiting](OperatorResult ended) { finish(*waiting, std::move(ended), true); };
        try {
            if (waiting->launch.resume) {
                op.start_resume(run, *waiting->launch.resume, done);
            } else {
                op.start(run, done);
            }
            if (cancel_on_start) op.cancel();
        } catch (const std::exception& e) {
            OperatorResult failed;
            failed.message = std::string("the operator failed unexpectedly: ") + e.what();
            finish(*waiting, std::move(failed), true);
        }
        bool still_waiting = false;
        {
            std::lock_guard lock(mutex_);
            waiting->starting = false;
            still_waiting = !waiting->ended;
            if (waiting->ended) retire(waiting);
        }
        // A try that ended at once is not deferred. One that ends after this check may report
        // finished before this report arrives: the scheduler ignores a deferred report of a try it has
        // seen end.
        if (still_waiting && defers) report(TaskReport{TaskReport::Kind::deferred, key, {}, {}});
        return;
    }
    // A resumed process is adopted and ended (the operator is cancelled before it waits).
    if (cancel_on_start) op.cancel();
    try {
        result = attempt.launch.resume ? op.resume(run, *attempt.launch.resume) : op.execute(run);
    } catch (const std::exception& e) {
        result = OperatorResult{};
        result.message = std::string("the operator failed unexpectedly: ") + e.what();
        spdlog::error("task {} try {}: {}", task.task_id, key.try_number, mask_secrets(run, result.message));
    }
    finish(attempt, std::move(result), false);
}

void ThreadPoolExecutor::finish(Try& attempt, OperatorResult result, bool asynchronous) {
    {
        std::lock_guard lock(mutex_);
        if (asynchronous) {
            // An asynchronous try ends once: an operator that calls `done` and then throws from
            // start() (or calls it twice) is not reported twice. Found by address only: a try that
            // has ended may be destroyed already.
            auto found = std::find_if(asynchronous_.begin(), asynchronous_.end(),
                                      [&](const std::unique_ptr<Try>& t) { return t.get() == &attempt; });
            if (found == asynchronous_.end() || (*found)->ended) return;
            (*found)->ended = true;
        }
        std::erase_if(running_, [&](const Running& r) { return r.key == attempt.launch.key; });
    }
    const TryKey key = attempt.launch.key;
    // What the UI and the API show of the try: no secret in it.
    result.message = mask_secrets(*attempt.run, result.message);
    // Reported while the try is still among the asynchronous ones: shutdown() waits for those, so
    // the executor outlives this call. A try let go by shutdown() is not reported: it has not ended.
    if (!result.detached) report(TaskReport{TaskReport::Kind::finished, key, {}, result});
    if (!asynchronous) return;
    std::lock_guard lock(mutex_);
    // A try whose start() has not returned is retired by run_one() once it has.
    if (!attempt.starting) retire(&attempt);
}

void ThreadPoolExecutor::retire(const Try* attempt) {
    // Destroyed later by a worker, not here inside the operator's own callback.
    auto found = std::find_if(asynchronous_.begin(), asynchronous_.end(),
                              [&](const std::unique_ptr<Try>& t) { return t.get() == attempt; });
    if (found != asynchronous_.end()) {
        retired_.push_back(std::move(*found));
        asynchronous_.erase(found);
    }
    // Notified under the lock: once it is released, shutdown() may return and destroy this.
    wake_.notify_one();  // one worker destroys the retired try; waking them all costs CPU per try
    asynchronous_ended_.notify_all();
}

}  // namespace mayaflow
