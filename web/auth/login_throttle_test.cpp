#include "web/auth/login_throttle.h"

#include <catch2/catch.hpp>

namespace mayaflow {
namespace {

using std::chrono::seconds;

TEST_CASE("after five failures in fifteen minutes a key waits, twice as long after each further one", "[web][auth]") {
    LoginThrottle throttle;
    Instant now{};
    for (int i = 0; i < 4; ++i) {
        throttle.failed("alice", now);
        now += seconds(10);
        CHECK_FALSE(throttle.wait_for("alice", now));
    }
    throttle.failed("alice", now);  // the fifth
    CHECK(throttle.wait_for("alice", now) == seconds(30));
    CHECK(throttle.wait_for("alice", now + seconds(29)) == seconds(1));
    CHECK_FALSE(throttle.wait_for("alice", now + seconds(30)));
    CHECK_FALSE(throttle.wait_for("bob", now));
    now += seconds(30);
    throttle.failed("alice", now);
    CHECK(throttle.wait_for("alice", now) == seconds(60));
    now += seconds(60);
    throttle.failed("alice", now);
    CHECK(throttle.wait_for("alice", now) == seconds(120));
    throttle.succeeded("alice");
    CHECK_FALSE(throttle.wait_for("alice", now));
}

TEST_CASE("failures older than the window no longer count; the longest wait is an hour", "[web][auth]") {
    LoginThrottle throttle;
    Instant now{};
    for (int i = 0; i < 4; ++i) throttle.failed("k", now);
    now += seconds(15 * 60);
    throttle.failed("k", now);
    CHECK_FALSE(throttle.wait_for("k", now));
    for (int i = 0; i < 20; ++i) throttle.failed("k", now);
    CHECK(throttle.wait_for("k", now) == seconds(3600));
}

}  // namespace
}  // namespace mayaflow
