#include "engine/exec/process_group.h"

#include <signal.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "engine/exec/child_process.h"
#include "engine/exec/exec_test_support.h"
#include "engine/exec/process_probe.h"

using namespace mayaflow;
using namespace mayaflow::exec_test;
using namespace std::chrono_literals;

TEST_CASE("signal_process_group refuses groups that are not a task's", "[exec][process_group]") {
    for (const pid_t group : {0, 1, -1, -42, ::getpgrp()}) {
        CAPTURE(group);
        const Status status = signal_process_group(group, 0);
        REQUIRE_FALSE(status.ok());
        CHECK_THAT(status.error().message, Catch::Contains("refusing"));
    }
    CHECK(signal_process_group(0x7ffffff0, SIGTERM).ok());  // a group that is gone is not an error
    CHECK_FALSE(terminate_process_group(::getpgrp(), 1s).ok());
}

TEST_CASE("terminate_process_group ends an adopted group whose members ignore SIGTERM",
          "[exec][process_group][recovery]") {
    Watchdog watchdog(60);
    TempDir dir;
    const std::optional<Orphan> task =
        spawn_from_dying_daemon(spec_in(dir, {"/bin/bash", "-c", "trap \"\" TERM; sleep 1000 & wait"}));
    REQUIRE(task.has_value());
    REQUIRE(eventually([&] { return live_members(task->pid).size() == 2; }));
    const std::vector<ProcStat> members = live_members(task->pid);

    CHECK_FALSE(wait_for_group_to_end(task->pid, 20ms));
    Result<bool> ended = terminate_process_group(task->pid, 100ms);
    REQUIRE(ended.ok());
    CHECK(*ended);
    CHECK_FALSE(process_group_has_live_members(task->pid));
    for (const ProcStat& member : members) CHECK_FALSE(same_process(member.pid, member.start_ticks));
}

TEST_CASE("terminate_process_group lets a cooperative group end on SIGTERM", "[exec][process_group]") {
    Watchdog watchdog(60);
    TempDir dir;
    Result<ChildProcess> child = ChildProcess::spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    REQUIRE(child.ok());
    Result<bool> ended = terminate_process_group(child->process_group(), 20s);
    REQUIRE(ended.ok());
    CHECK(*ended);
    CHECK(child->wait(0us)->signal == SIGTERM);
    CHECK(wait_for_group_to_end(child->process_group(), 0us));
}
