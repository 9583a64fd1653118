#include "scheduler/thread_pool_executor.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace mayaflow {
namespace {

using namespace std::chrono_literals;

// What the gate operators of one test share: how many run, and whether they may finish.
struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    int running = 0;
    int most_running = 0;
    bool open = false;

    // Waits (up to 10 s) until `ready` holds under the lock.
    template <typename Ready>
    bool wait_until(Ready ready) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 10s, ready);
    }
};

// Runs until the gate opens or it is cancelled.
class GateOperator : public Operator {
  public:
    explicit GateOperator(Gate& gate) : gate_(gate) {}
    OperatorResult execute(const TaskRun&) override {
        std::unique_lock lock(gate_.mutex);
        gate_.most_running = std::max(gate_.most_running, ++gate_.running);
        gate_.changed.notify_all();
        gate_.changed.wait(lock, [&] { return gate_.open || cancelled_; });
        --gate_.running;
        gate_.changed.notify_all();
        OperatorResult result;
        result.outcome = cancelled_ ? TaskOutcome::failed : TaskOutcome::success;
        result.cancelled = cancelled_;
        return result;
    }
    void cancel() override {
        std::lock_guard lock(gate_.mutex);
        cancelled_ = true;
        gate_.changed.notify_all();
    }

  private:
    Gate& gate_;
    bool cancelled_ = false;
};

struct ExecutorTest {
    Gate gate;
    OperatorRegistry registry;
    std::shared_ptr<Dag> dag = std::make_shared<Dag>();
    std::vector<TaskReport> finished;  // guarded by gate.mutex

    ExecutorTest() {
        registry.add(OperatorSpec{.name = "gate"}, [this] { return std::make_unique<GateOperator>(gate); });
        dag->dag_id = "gated";
        for (int i = 0; i < 6; ++i) dag->tasks.push_back(Task{.task_id = "t" + std::to_string(i), .operator_name = "gate"});
    }
    void sink_into(ThreadPoolExecutor& executor) {
        executor.set_report_sink([this](TaskReport report) {
            if (report.kind != TaskReport::Kind::finished) return;
            std::lock_guard lock(gate.mutex);
            finished.push_back(std::move(report));
            gate.changed.notify_all();
        });
    }
    TaskLaunch launch(size_t index) const {
        return TaskLaunch{.key = TryKey{1, index, 1}, .dag = dag, .log_file = "unused.log"};
    }
    void open() {
        std::lock_guard lock(gate.mutex);
        gate.open = true;
        gate.changed.notify_all();
    }
    // Submits tries 0 to count - 1 and waits until `running` of them run.
    void submit_until_running(ThreadPoolExecutor& executor, size_t count, int running) {
        sink_into(executor);
        for (size_t i = 0; i < count; ++i) executor.submit(launch(i));
        REQUIRE(gate.wait_until([&] { return gate.running == running; }));
    }
    size_t finished_count() {
        std::lock_guard lock(gate.mutex);
        return finished.size();
    }
};

TEST_CASE("the thread pool runs at most its workers' number of tries, the rest wait in its queue", "[executor]") {
    ExecutorTest t;
    ThreadPoolExecutor executor(t.registry, 2);
    t.submit_until_running(executor, 6, 2);
    std::this_thread::sleep_for(50ms);  // room for a third to start, which must not happen
    {
        std::lock_guard lock(t.gate.mutex);
        CHECK(t.gate.running == 2);
    }
    t.open();
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 6; }));
    CHECK(t.gate.most_running == 2);
    for (const auto& report : t.finished) CHECK(report.result.outcome == TaskOutcome::success);
}

TEST_CASE("the thread pool gives back the tries it has not started and reports none of them", "[executor]") {
    ExecutorTest t;
    ThreadPoolExecutor executor(t.registry, 2);
    t.submit_until_running(executor, 5, 2);
    std::vector<TryKey> withdrawn = executor.withdraw_unstarted();
    REQUIRE(withdrawn.size() == 3);
    CHECK(withdrawn[0].task_index == 2);
    CHECK(withdrawn[2].task_index == 4);
    t.open();
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 2; }));
    std::this_thread::sleep_for(50ms);
    CHECK(t.finished_count() == 2);
    CHECK(t.gate.most_running == 2);
}

TEST_CASE("cancelling a try: queued, it is reported cancelled at once, running, its operator ends it, finished, "
          "nothing happens",
          "[executor]") {
    ExecutorTest t;
    ThreadPoolExecutor executor(t.registry, 1);
    t.submit_until_running(executor, 2, 1);

    executor.cancel(TryKey{1, 1, 1});  // still queued behind t0
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 1; }));
    CHECK(t.finished[0].key.task_index == 1);
    CHECK(t.finished[0].result.message == "cancelled before it started");

    executor.cancel(TryKey{1, 0, 1});  // running
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 2; }));
    CHECK(t.finished[1].key.task_index == 0);
    CHECK(t.finished[1].result.cancelled);

    // A try that has finished is not cancelled again, and a new try of the same task runs as usual.
    executor.cancel(TryKey{1, 0, 1});
    t.open();
    executor.submit(TaskLaunch{.key = TryKey{1, 0, 2}, .dag = t.dag, .log_file = "unused.log"});
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 3; }));
    CHECK(t.finished[2].result.outcome == TaskOutcome::success);
}

}  // namespace
}  // namespace mayaflow
