#include "scheduler/thread_pool_executor.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "engine/connections/secret_masker.h"

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

// Waits without a thread: start() parks its callback with the gate, which the test (or cancel) calls.
class ParkedOperator : public AsyncOperator {
  public:
    struct Parked {
        std::mutex mutex;
        std::condition_variable changed;
        std::vector<Done> waiting;
        std::vector<std::thread> cancellers;
        ~Parked() {
            for (auto& thread : cancellers) thread.join();
        }
    };
    explicit ParkedOperator(Parked& parked, bool defers = true) : parked_(parked), defers_(defers) {}
    bool defers_while_waiting() const override { return defers_; }
    void start_resume(const TaskRun& run, const StartedProcess&, Done done) override { start(run, std::move(done)); }
    void start(const TaskRun&, Done done) override {
        std::lock_guard lock(parked_.mutex);
        done_ = std::move(done);
        parked_.waiting.push_back([this](OperatorResult result) { done_(std::move(result)); });
        parked_.changed.notify_all();
    }
    void cancel() override {
        end_elsewhere(OperatorResult{.outcome = TaskOutcome::failed, .message = "cancelled hunter2", .cancelled = true});
    }
    void detach() override {
        end_elsewhere(OperatorResult{.outcome = TaskOutcome::failed, .message = "let go", .detached = true});
    }

  private:
    // Never on the cancelling thread (operator.h): the executor calls cancel() under its lock.
    void end_elsewhere(OperatorResult result) {
        std::lock_guard lock(parked_.mutex);
        Done done = std::exchange(done_, nullptr);
        if (done) parked_.cancellers.emplace_back([done, result] { done(result); });
    }

    Parked& parked_;
    bool defers_;
    Done done_;
};

// Breaks the rules of start(): ends the try, then throws.
class EndsThenThrowsOperator : public AsyncOperator {
  public:
    void start(const TaskRun&, Done done) override {
        done(OperatorResult{.outcome = TaskOutcome::success});
        throw std::runtime_error("thrown after the end");
    }
};

// Ends its try from another thread at once, while start() still reads the run (as a cancel answered on
// the I/O thread may).
class EndsElsewhereOperator : public AsyncOperator {
  public:
    ~EndsElsewhereOperator() override {
        if (ender_.joinable()) ender_.join();
    }
    void start(const TaskRun& run, Done done) override {
        ender_ = std::thread([done] { done(OperatorResult{.outcome = TaskOutcome::success}); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        read_ += run.task.task_id.size() + run.log_file.string().size();  // the Try must still be there
    }

  private:
    std::thread ender_;
    size_t read_ = 0;
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

TEST_CASE("asynchronous tries wait without a worker: one worker holds many, each reported once", "[executor]") {
    ExecutorTest t;
    ParkedOperator::Parked parked;
    // Not deferring (a sensor's way): shutdown cancels them rather than letting them go.
    t.registry.add(OperatorSpec{.name = "parked"}, [&parked] { return std::make_unique<ParkedOperator>(parked, false); });
    for (auto& task : t.dag->tasks) task.operator_name = "parked";
    SecretMasker masker;
    masker.add_secret("hunter2");
    ThreadPoolExecutor executor(t.registry, 1, nullptr, TaskSecrets{.masker = &masker});
    t.sink_into(executor);
    for (size_t i = 0; i < 6; ++i) executor.submit(t.launch(i));
    {
        // All six started on the one worker, none holds it.
        std::unique_lock lock(parked.mutex);
        REQUIRE(parked.changed.wait_for(lock, 10s, [&] { return parked.waiting.size() == 6; }));
    }
    executor.cancel(TryKey{1, 5, 1});
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 1; }));
    CHECK(t.finished[0].key.task_index == 5);
    CHECK(t.finished[0].result.cancelled);
    CHECK(t.finished[0].result.message == "cancelled ***");  // masked like every try's message
    std::vector<ParkedOperator::Done> waiting;
    {
        std::lock_guard lock(parked.mutex);
        waiting = parked.waiting;
    }
    for (size_t i = 0; i < 5; ++i) waiting[i](OperatorResult{.outcome = TaskOutcome::success});
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 6; }));
    for (size_t i = 1; i < 6; ++i) CHECK(t.finished[i].result.outcome == TaskOutcome::success);
    // The pool still runs what comes next, and shuts down with nothing left waiting.
    executor.submit(TaskLaunch{.key = TryKey{2, 0, 1}, .dag = t.dag, .log_file = "unused.log"});
    {
        std::unique_lock lock(parked.mutex);
        REQUIRE(parked.changed.wait_for(lock, 10s, [&] { return parked.waiting.size() == 7; }));
    }
    executor.shutdown();  // cancels the seventh, and waits for its report
    CHECK(t.finished_count() == 7);
}

TEST_CASE("a deferring try is reported deferred, a sensor's is not; shutdown lets go of the deferred ones and "
          "cancels the others",
          "[executor]") {
    ExecutorTest t;
    ParkedOperator::Parked parked;
    t.registry.add(OperatorSpec{.name = "job"}, [&parked] { return std::make_unique<ParkedOperator>(parked); });
    t.registry.add(OperatorSpec{.name = "sensor"}, [&parked] { return std::make_unique<ParkedOperator>(parked, false); });
    t.dag->tasks[0].operator_name = "job";
    t.dag->tasks[1].operator_name = "job";
    t.dag->tasks[2].operator_name = "sensor";
    std::vector<TaskReport> reports;  // guarded by t.gate.mutex
    {
        ThreadPoolExecutor executor(t.registry, 1);
        executor.set_report_sink([&](TaskReport report) {
            std::lock_guard lock(t.gate.mutex);
            reports.push_back(std::move(report));
            t.gate.changed.notify_all();
        });
        for (size_t i = 0; i < 3; ++i) executor.submit(t.launch(i));
        auto count = [&](TaskReport::Kind kind) {
            return std::count_if(reports.begin(), reports.end(), [&](const TaskReport& r) { return r.kind == kind; });
        };
        REQUIRE(t.gate.wait_until([&] { return count(TaskReport::Kind::deferred) == 2; }));
        {
            std::unique_lock lock(parked.mutex);
            REQUIRE(parked.changed.wait_for(lock, 10s, [&] { return parked.waiting.size() == 3; }));
        }
        executor.shutdown();
        std::lock_guard lock(t.gate.mutex);
        std::vector<size_t> deferred, finished;
        for (const auto& report : reports) {
            if (report.kind == TaskReport::Kind::deferred) deferred.push_back(report.key.task_index);
            if (report.kind == TaskReport::Kind::finished) finished.push_back(report.key.task_index);
        }
        std::sort(deferred.begin(), deferred.end());
        CHECK(deferred == std::vector<size_t>{0, 1});
        // Only the sensor's try ended (cancelled); the jobs' tries were let go, unreported.
        REQUIRE(finished == std::vector<size_t>{2});
        CHECK(reports.back().result.cancelled);
    }
}

TEST_CASE("an asynchronous try is reported finished once, even when its operator ends it and then throws",
          "[executor]") {
    ExecutorTest t;
    t.registry.add(OperatorSpec{.name = "throws"}, [] { return std::make_unique<EndsThenThrowsOperator>(); });
    for (auto& task : t.dag->tasks) task.operator_name = "throws";
    ThreadPoolExecutor executor(t.registry, 2);
    t.sink_into(executor);
    for (size_t i = 0; i < 6; ++i) executor.submit(t.launch(i));
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 6; }));
    executor.shutdown();
    CHECK(t.finished_count() == 6);
    for (const auto& report : t.finished) CHECK(report.result.outcome == TaskOutcome::success);
}

TEST_CASE("an asynchronous try that ends while start() runs is not destroyed under it", "[executor]") {
    ExecutorTest t;
    t.registry.add(OperatorSpec{.name = "elsewhere"}, [] { return std::make_unique<EndsElsewhereOperator>(); });
    for (auto& task : t.dag->tasks) task.operator_name = "elsewhere";
    ThreadPoolExecutor executor(t.registry, 2);
    t.sink_into(executor);
    for (size_t i = 0; i < 6; ++i) executor.submit(t.launch(i));
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 6; }));
    executor.shutdown();
    CHECK(t.finished_count() == 6);
}

TEST_CASE("a resumed try cancelled while queued starts, so that its operator ends its remote work, and is "
          "cancelled at once",
          "[executor]") {
    ExecutorTest t;
    ParkedOperator::Parked parked;
    t.registry.add(OperatorSpec{.name = "parked"}, [&parked] { return std::make_unique<ParkedOperator>(parked); });
    t.dag->tasks[1].operator_name = "parked";
    t.dag->tasks[2].operator_name = "parked";
    ThreadPoolExecutor executor(t.registry, 1);
    t.sink_into(executor);
    executor.submit(t.launch(0));  // the gate holds the one worker
    REQUIRE(t.gate.wait_until([&] { return t.gate.running == 1; }));
    TaskLaunch resumed = t.launch(1);
    resumed.resume = StartedProcess{};
    executor.submit(resumed);
    executor.submit(t.launch(2));  // not resumed: cancelled in the queue, never started
    executor.cancel(resumed.key);
    executor.cancel(t.launch(2).key);
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 1; }));
    CHECK(t.finished[0].key.task_index == 2);
    CHECK(t.finished[0].result.message == "cancelled before it started");
    t.open();
    REQUIRE(t.gate.wait_until([&] { return t.finished.size() == 3; }));
    {
        std::lock_guard lock(parked.mutex);
        CHECK(parked.waiting.size() == 1);  // the resumed try was started, then cancelled
    }
    const auto& cancelled = t.finished[2].key.task_index == 1 ? t.finished[2] : t.finished[1];
    CHECK(cancelled.key.task_index == 1);
    CHECK(cancelled.result.cancelled);
    CHECK(cancelled.result.message == "cancelled hunter2");
    executor.shutdown();
}

}  // namespace
}  // namespace mayaflow
