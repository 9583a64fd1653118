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
        if (queued != queue_.end()) {
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
        for (const auto& running : running_) running.op->cancel();
    }
    wake_.notify_all();
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
    workers_.clear();
}

void ThreadPoolExecutor::work() {
    while (true) {
        TaskLaunch launch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            launch = std::move(queue_.front());
            queue_.pop_front();
            taken_.push_back(launch.key);
        }
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

void ThreadPoolExecutor::run_one(TaskLaunch& launch) {
    const Task& task = launch.dag->tasks[launch.key.task_index];
    auto report = [this](TaskReport report) {
        ReportSink sink;
        {
            std::lock_guard lock(mutex_);
            sink = sink_;
        }
        if (sink) sink(std::move(report));
    };
    OperatorResult result;
    auto op = registry_.create(task.operator_name);
    {
        // Leaves taken_ and enters running_ under one lock, so that a cancel finds it in one of them.
        std::lock_guard lock(mutex_);
        std::erase(taken_, launch.key);
        const bool cancel_requested = std::erase(cancel_requested_, launch.key) > 0;
        if (stopping_) return;
        if (!op) {
            result.message = "no operator named '" + task.operator_name + "' in this mayaflow";
            result.retryable = false;
        } else if (cancel_requested) {
            result = cancelled_result();
        } else {
            running_.push_back(Running{launch.key, op.get()});
        }
    }
    if (!result.message.empty()) {
        report(TaskReport{TaskReport::Kind::finished, launch.key, {}, result});
        return;
    }
    refresh_secrets();
    if (secrets_.lookup && !launch.run_info.connection && !launch.run_info.variable) {
        read_secrets_through(launch.run_info, *secrets_.lookup);
    }
    TaskRun run{task, launch.run_info, launch.key.try_number, launch.log_file, task.execution_timeout, environment_,
                [&](const StartedProcess& process) {
                    report(TaskReport{TaskReport::Kind::started, launch.key, process, {}});
                },
                supervisor_, secrets_.masker};
    try {
        result = launch.resume ? op->resume(run, *launch.resume) : op->execute(run);
    } catch (const std::exception& e) {
        result = OperatorResult{};
        result.message = std::string("the operator failed unexpectedly: ") + e.what();
        spdlog::error("task {} try {}: {}", task.task_id, launch.key.try_number, mask_secrets(run, result.message));
    }
    // What the UI and the API show of the try: no secret in it.
    result.message = mask_secrets(run, result.message);
    {
        std::lock_guard lock(mutex_);
        running_.erase(std::remove_if(running_.begin(), running_.end(),
                                      [&](const Running& r) { return r.key == launch.key; }),
                       running_.end());
    }
    report(TaskReport{TaskReport::Kind::finished, launch.key, {}, result});
}

}  // namespace mayaflow
