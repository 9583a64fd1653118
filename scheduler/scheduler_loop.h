#pragma once
// SchedulerLoop is the scheduler's thread: it owns the SchedulerCore, wakes when a try starts or
// ends, a command or a DAG arrives, or the next timer is due (no fixed polling tick), applies
// everything that arrived, and runs one turn of the core.

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "scheduler/scheduler_core.h"

namespace mayaflow {

class SchedulerLoop {
  public:
    using Work = std::function<void(SchedulerCore&)>;

    SchedulerLoop(SchedulerCore& core, Executor& executor);
    ~SchedulerLoop();

    void start();
    void stop();
    // Runs `work` on the loop's thread before its next turn. Work that only records what already
    // happened and that nothing waits on (a try's process has started) may wait up to
    // kDeferredCommit for a turn, so that it shares the next commit instead of costing its own.
    void post(Work work, bool deferrable = false);
    static constexpr Duration kDeferredCommit = std::chrono::milliseconds(50);
    // Runs `work` on the loop's thread and waits for its answer.
    template <class T>
    T call(std::function<T(SchedulerCore&)> work) {
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        post([promise, work = std::move(work)](SchedulerCore& core) { promise->set_value(work(core)); });
        return future.get();
    }
    // Called with nothing arrived, at most this often, for commands that come from outside the process.
    void set_idle_hook(std::function<void(SchedulerCore&)> hook, Duration every);
    // Told after every turn whether its decisions were committed (for the daemon's health).
    void set_turn_observer(std::function<void(const Status&)> observer);

    // A turn whose commit fails is dropped and the core reloads its state from the store; the loop
    // tries again after a pause that doubles each time (first_retry_pause, 2×, 4× …). After
    // `max_failed_turns` failures in a row it stops running turns (it still answers call() and
    // post(), so a shutdown can drain) and calls the fatal hook once with a message that says why.
    void set_failure_policy(int max_failed_turns, Duration first_retry_pause);
    void set_fatal_hook(std::function<void(const std::string&)> hook);
    // The message the loop stopped with, if it did.
    std::optional<std::string> fatal_error();

  private:
    void run();

    SchedulerCore& core_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Work> inbox_;
    bool urgent_ = false;  // the inbox holds work that needs a turn now
    bool stopping_ = false;
    std::function<void(SchedulerCore&)> idle_hook_;
    std::function<void(const Status&)> turn_observer_;
    Duration idle_every_ = std::chrono::milliseconds(250);
    int max_failed_turns_ = 5;
    Duration first_retry_pause_ = std::chrono::milliseconds(250);
    std::function<void(const std::string&)> fatal_hook_;
    std::optional<std::string> fatal_error_;
    std::thread thread_;
};

}  // namespace mayaflow
