#include "scheduler/health_probes.h"

#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

using namespace mayaflow;
using namespace std::chrono_literals;

namespace {

struct Probed {
    std::filesystem::path folder = std::filesystem::temp_directory_path() /
                                   ("mayaflow-health-probes-test-" + std::to_string(::getpid()));
    DaemonHealth health;
    std::vector<SchedulerHeartbeat> written;
    bool fail_writes = false;
    HealthProbes probes{[this](const SchedulerHeartbeat& beat) -> Status {
                            if (fail_writes) return make_error("database or disk is full");
                            written.push_back(beat);
                            return Status::success();
                        },
                        health, SchedulerHeartbeat{"host", 42, Instant{}, Instant{}},
                        HealthProbes::Options{.logs_folder = folder / "logs", .interval = 5s, .retry_interval = 1s}};
    HealthProbes::SteadyTime start = std::chrono::steady_clock::now();

    Probed() { std::filesystem::remove_all(folder); }
    ~Probed() { std::filesystem::remove_all(folder); }
};

}  // namespace

TEST_CASE("the heartbeat is written once a turn has committed, every interval", "[scheduler][health]") {
    Probed p;
    p.probes.run_due(p.start);
    CHECK(p.written.empty());  // no turn yet: nothing to say
    CHECK(std::filesystem::is_directory(p.folder / "logs"));

    const Instant committed = now_instant();
    p.health.turn_committed(committed);
    p.probes.run_due(p.start + 1s);
    CHECK(p.written.empty());  // not due before the interval
    p.probes.run_due(p.start + 5s);
    REQUIRE(p.written.size() == 1);
    CHECK(p.written[0].latest_heartbeat == committed);
    CHECK(p.written[0].pid == 42);
    p.probes.run_due(p.start + 9s);
    CHECK(p.written.size() == 1);
    p.probes.run_due(p.start + 10s);
    CHECK(p.written.size() == 2);
}

TEST_CASE("a heartbeat that cannot be written makes the scheduler unhealthy until one can",
          "[scheduler][health]") {
    Probed p;
    p.health.turn_committed(now_instant());
    p.fail_writes = true;
    p.probes.run_due(p.start);
    auto snapshot = p.health.snapshot();
    REQUIRE(snapshot.scheduler_problem);
    CHECK(snapshot.scheduler_problem->find("disk is full") != std::string::npos);

    // While unhealthy it tries every second, not every five.
    p.fail_writes = false;
    p.probes.run_due(p.start + 999ms);
    CHECK(p.health.snapshot().scheduler_problem);
    p.probes.run_due(p.start + 1s);
    CHECK_FALSE(p.health.snapshot().scheduler_problem);
    CHECK(p.written.size() == 1);
}

TEST_CASE("a logs folder that cannot take files is a problem until it can", "[scheduler][health]") {
    Probed p;
    std::filesystem::create_directories(p.folder);
    std::ofstream(p.folder / "logs") << "a file where the logs folder should be\n";
    p.probes.run_due(p.start);
    auto problem = p.health.snapshot().logs_problem;
    REQUIRE(problem);
    CHECK(problem->find("tasks fail without running until it can be written") != std::string::npos);

    std::filesystem::remove(p.folder / "logs");
    p.probes.run_due(p.start + 5s);
    CHECK_FALSE(p.health.snapshot().logs_problem);
}
