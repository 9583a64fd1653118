#include "scheduler/scheduler_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/metrics/metrics.h"
#include "engine/time/duration_text.h"

namespace mayaflow {

SchedulerLoop::SchedulerLoop(SchedulerCore& core, Executor& executor) : core_(core) {
    executor.set_report_sink([this](TaskReport report) {
        bool started = report.kind == TaskReport::Kind::started;
        post([report = std::move(report)](SchedulerCore& core) { core.on_report(report); }, started);
    });
}

SchedulerLoop::~SchedulerLoop() { stop(); }

void SchedulerLoop::post(Work work, bool deferrable) {
    {
        std::lock_guard lock(mutex_);
        inbox_.push_back(std::move(work));
        if (!deferrable) urgent_ = true;
    }
    wake_.notify_one();
}

void SchedulerLoop::set_idle_hook(std::function<void(SchedulerCore&)> hook, Duration every) {
    std::lock_guard lock(mutex_);
    idle_hook_ = std::move(hook);
    idle_every_ = every;
}

void SchedulerLoop::set_turn_observer(std::function<void(const Status&)> observer) {
    std::lock_guard lock(mutex_);
    turn_observer_ = std::move(observer);
}

void SchedulerLoop::set_failure_policy(int max_failed_turns, Duration first_retry_pause) {
    std::lock_guard lock(mutex_);
    max_failed_turns_ = std::max(1, max_failed_turns);
    first_retry_pause_ = first_retry_pause;
}

void SchedulerLoop::set_fatal_hook(std::function<void(const std::string&)> hook) {
    std::lock_guard lock(mutex_);
    fatal_hook_ = std::move(hook);
}

std::optional<std::string> SchedulerLoop::fatal_error() {
    std::lock_guard lock(mutex_);
    return fatal_error_;
}

void SchedulerLoop::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void SchedulerLoop::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SchedulerLoop::run() {
    bool has_wake = false;
    Instant wake_at{};
    auto last_idle = std::chrono::steady_clock::now();
    auto next_gauges = last_idle;  // the gauges of slots and queues are set at most once a second
    Duration failure_backoff{0};  // nonzero: the last turn failed; the next waits until retry_at
    std::chrono::steady_clock::time_point retry_at{};
    int failed_turns = 0;
    bool stopped_turning = false;
    // Deferred work has been applied and waits for a turn to commit it, at the latest then.
    bool deferred = false;
    std::chrono::steady_clock::time_point commit_by{};
    while (true) {
        std::deque<Work> work;
        std::function<void(SchedulerCore&)> idle_hook;
        bool turn_now = false;
        {
            std::unique_lock lock(mutex_);
            auto idle_deadline = last_idle + idle_every_;
            auto has_work = [this] { return stopping_ || !inbox_.empty(); };
            if (!has_work()) {
                auto deadline = idle_deadline;
                if (has_wake) {
                    auto until = std::chrono::duration_cast<std::chrono::steady_clock::duration>(wake_at - now_instant());
                    deadline = std::min(deadline, std::chrono::steady_clock::now() + until);
                }
                if (deferred) deadline = std::min(deadline, commit_by);
                if (failure_backoff.count() > 0) deadline = retry_at;
                wake_.wait_until(lock, deadline, has_work);
            }
            if (stopping_) return;
            work.swap(inbox_);
            turn_now = urgent_;
            urgent_ = false;
            auto now = std::chrono::steady_clock::now();
            if (now >= idle_deadline) {
                idle_hook = idle_hook_;
                last_idle = now;
            }
            if (has_wake && wake_at <= now_instant()) turn_now = true;
            if (deferred && now >= commit_by) turn_now = true;
            if (work.empty()) turn_now = true;  // woken by a timer, the idle tick or a failed commit
        }
        for (auto& item : work) item(core_);
        if (stopped_turning) continue;  // only call() and post() are served, for the shutdown
        if (idle_hook) {
            idle_hook(core_);
            turn_now = true;
        }
        if (failure_backoff.count() > 0 && std::chrono::steady_clock::now() < retry_at) continue;
        if (!turn_now) {
            if (!deferred) commit_by = std::chrono::steady_clock::now() + kDeferredCommit;
            deferred = true;
            continue;
        }
        deferred = false;
        const auto turn_started = std::chrono::steady_clock::now();
        auto next = core_.run_turn();
        metrics::scheduler_turn(std::chrono::duration<double>(std::chrono::steady_clock::now() - turn_started).count(),
                                static_cast<bool>(next));
        if (turn_started >= next_gauges) {
            next_gauges = turn_started + std::chrono::seconds(1);
            metrics::set_executor_queue(core_.waiting_tries(), core_.running_tries());
            for (const auto& [pool, slots] : core_.pool_sizes()) {
                auto used = core_.pool_slots_used().find(pool);
                const int running = used == core_.pool_slots_used().end() ? 0 : used->second;
                metrics::set_pool_slots(pool, "running", running);
                metrics::set_pool_slots(pool, "open", std::max(0, slots - running));
            }
        }
        if (turn_observer_) turn_observer_(next ? Status::success() : Status(next.error()));
        if (!next) {
            ++failed_turns;
            has_wake = false;
            if (failed_turns < max_failed_turns_) {
                failure_backoff = failure_backoff.count() == 0 ? first_retry_pause_ : failure_backoff * 2;
                retry_at = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(failure_backoff);
                spdlog::error("scheduler: could not commit its decisions ({} of {} tries); they are dropped and made "
                              "again from the database in {}: {}",
                              failed_turns, max_failed_turns_, format_duration(failure_backoff), next.error().message);
                continue;
            }
            std::string message = fmt::format(
                "the scheduler stopped: {} turns in a row could not commit their decisions to the database, each "
                "after reloading its state from it; the last error: {}. Nothing uncommitted was acted on; fix the "
                "database (`mayaflow db check`) and start the scheduler again",
                failed_turns, next.error().message);
            spdlog::critical("{}", message);
            std::function<void(const std::string&)> hook;
            {
                std::lock_guard lock(mutex_);
                fatal_error_ = message;
                hook = fatal_hook_;
            }
            stopped_turning = true;
            failure_backoff = Duration{0};
            if (hook) hook(message);
            continue;
        }
        failed_turns = 0;
        failure_backoff = Duration{0};
        has_wake = next->has_value();
        if (has_wake) wake_at = **next;
    }
}

}  // namespace mayaflow
