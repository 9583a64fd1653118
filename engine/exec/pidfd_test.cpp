#include "engine/exec/pidfd.h"

#include <signal.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "engine/exec/child_process.h"
#include "engine/exec/exec_test_support.h"

using namespace mayaflow;
using namespace mayaflow::exec_test;
using namespace std::chrono_literals;

TEST_CASE("Pidfd opens only existing processes", "[exec][pidfd]") {
    Result<std::optional<Pidfd>> mine = Pidfd::open(::getpid());
    REQUIRE(mine.ok());
    REQUIRE(mine->has_value());
    CHECK((*mine)->fd() >= 0);
    CHECK(*(*mine)->wait_for_exit(0us) == false);

    Result<std::optional<Pidfd>> none = Pidfd::open(0x7ffffff0);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
    CHECK_FALSE(Pidfd::open(0).ok());
    CHECK_FALSE(Pidfd::open(-1).ok());
}

TEST_CASE("Pidfd waits for a process to end", "[exec][pidfd]") {
    Watchdog watchdog(30);
    TempDir dir;
    Result<ChildProcess> child = ChildProcess::spawn(spec_in(dir, {"/bin/sleep", "1000"}));
    REQUIRE(child.ok());
    Result<std::optional<Pidfd>> opened = Pidfd::open(child->pid());
    REQUIRE(opened.ok());
    REQUIRE(opened->has_value());
    Pidfd pidfd = std::move(**opened);

    CHECK(*pidfd.wait_for_exit(10ms) == false);
    REQUIRE(::kill(child->pid(), SIGKILL) == 0);
    CHECK(*pidfd.wait_for_exit(std::nullopt) == true);
    CHECK(*pidfd.wait_for_exit(0us) == true);  // an ended process stays ended

    Pidfd moved = std::move(pidfd);
    CHECK(pidfd.fd() == -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK_FALSE(pidfd.wait_for_exit(0us).ok());
    CHECK(*moved.wait_for_exit(0us) == true);
    CHECK(child->wait(0us)->signal == SIGKILL);
}
