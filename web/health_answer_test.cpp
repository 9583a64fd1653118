#include "web/health_answer.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/store/sqlite_store.h"
#include "engine/time/iso8601.h"

using namespace mayaflow;

TEST_CASE("health tells each part's real state", "[web][health]") {
    char pattern[] = "/tmp/mayaflow_health_test_XXXXXX";
    std::filesystem::path folder = ::mkdtemp(pattern);
    auto store = SqliteStore::open(StoreOptions{.path = folder / "mayaflow.db"});
    REQUIRE(store);
    DaemonHealth daemon;
    Instant now = now_instant();

    SECTION("without a scheduler in the process, the scheduler's heartbeat comes from the store") {
        auto none = health_answer(**store, nullptr, std::nullopt, now);
        CHECK_FALSE(none.healthy);
        CHECK(none.body["metadatabase"]["status"] == "healthy");
        CHECK(none.body["scheduler"]["status"] == "unhealthy");
        CHECK_THAT(none.body["scheduler"]["detail"].get<std::string>(), Catch::Contains("no scheduler has run"));
        REQUIRE((*store)->record_scheduler_heartbeat(SchedulerHeartbeat{"host", 42, now - std::chrono::hours(1),
                                                                        now - std::chrono::seconds(3)}));
        auto alive = health_answer(**store, nullptr, std::nullopt, now);
        CHECK(alive.healthy);
        CHECK(alive.body["scheduler"]["status"] == "healthy");
        CHECK(alive.body["scheduler"]["latest_scheduler_heartbeat"] == format_iso8601(now - std::chrono::seconds(3), TimeZone::utc()));
        auto old = health_answer(**store, nullptr, std::nullopt, now + std::chrono::seconds(40));
        CHECK_FALSE(old.healthy);
        CHECK_THAT(old.body["scheduler"]["detail"].get<std::string>(), Catch::Contains("is `mayaflow scheduler` running?"));
    }
    SECTION("a scheduler that has not committed yet is not healthy") {
        auto answer = health_answer(**store, &daemon, std::nullopt, now);
        CHECK_FALSE(answer.healthy);
        CHECK(answer.body["scheduler"]["status"] == "unhealthy");
        CHECK(answer.body["scheduler"]["latest_scheduler_heartbeat"].is_null());
    }
    SECTION("a recent turn is healthy, an old one is not") {
        daemon.turn_committed(now - std::chrono::seconds(2));
        CHECK(health_answer(**store, &daemon, std::nullopt, now).healthy);
        auto answer = health_answer(**store, &daemon, std::nullopt, now + std::chrono::seconds(40));
        CHECK_FALSE(answer.healthy);
        CHECK_THAT(answer.body["scheduler"]["detail"].get<std::string>(), Catch::Contains("over 30 s"));
    }
    SECTION("a failed commit and a store problem are shown with their reason") {
        daemon.turn_committed(now);
        daemon.turn_failed("disk I/O error");
        daemon.set_store_problem("the database file x is on a file system that is now read-only");
        auto answer = health_answer(**store, &daemon, std::nullopt, now);
        CHECK_FALSE(answer.healthy);
        CHECK(answer.body["scheduler"]["detail"] == "disk I/O error");
        CHECK(answer.body["metadatabase"]["status"] == "unhealthy");
        CHECK_THAT(answer.body["metadatabase"]["detail"].get<std::string>(), Catch::Contains("read-only"));
        daemon.turn_committed(now);
        daemon.set_store_problem(std::nullopt);
        CHECK(health_answer(**store, &daemon, std::nullopt, now).healthy);
    }
    SECTION("after a failed commit, a turn with nothing to write leaves the scheduler unhealthy") {
        daemon.turn_committed(now - std::chrono::seconds(3));
        daemon.turn_failed("database error: database or disk is full");
        daemon.turn_committed(now, false);  // touched no file: says nothing of the disk
        auto answer = health_answer(**store, &daemon, std::nullopt, now);
        CHECK_FALSE(answer.healthy);
        CHECK(answer.body["scheduler"]["detail"] == "database error: database or disk is full");
        CHECK(answer.body["scheduler"]["latest_scheduler_heartbeat"] ==
              format_iso8601(now - std::chrono::seconds(3), TimeZone::utc()));
        daemon.turn_committed(now);  // wrote: the store takes writes again
        CHECK(health_answer(**store, &daemon, std::nullopt, now).healthy);
        daemon.turn_committed(now + std::chrono::seconds(1), false);  // healthy: an idle turn moves the heartbeat
        CHECK(health_answer(**store, &daemon, std::nullopt, now + std::chrono::seconds(1))
                  .body["scheduler"]["latest_scheduler_heartbeat"] ==
              format_iso8601(now + std::chrono::seconds(1), TimeZone::utc()));
    }
    SECTION("the heartbeat's own write: a failure makes the scheduler unhealthy, a success heals only that") {
        daemon.turn_committed(now);
        daemon.store_write_failed("database error: database or disk is full");
        CHECK_FALSE(health_answer(**store, &daemon, std::nullopt, now).healthy);
        daemon.turn_committed(now, false);
        CHECK_FALSE(health_answer(**store, &daemon, std::nullopt, now).healthy);
        daemon.store_written(now + std::chrono::seconds(1));
        CHECK(health_answer(**store, &daemon, std::nullopt, now + std::chrono::seconds(1)).healthy);
        // A failed turn is not healed by a small write that succeeds: its batch may still fail.
        daemon.turn_failed("database error: database or disk is full");
        daemon.store_written(now + std::chrono::seconds(2));
        CHECK_FALSE(health_answer(**store, &daemon, std::nullopt, now + std::chrono::seconds(2)).healthy);
        daemon.turn_committed(now + std::chrono::seconds(3), false);  // a turn went through, wrote nothing
        daemon.store_written(now + std::chrono::seconds(3));          // and the store takes writes
        CHECK(health_answer(**store, &daemon, std::nullopt, now + std::chrono::seconds(3)).healthy);
    }
    SECTION("a logs folder that cannot be written is shown with its reason, by a daemon only") {
        daemon.turn_committed(now);
        CHECK(health_answer(**store, &daemon, std::nullopt, now).body["logs"] == nlohmann::json{{"status", "healthy"}});
        daemon.set_logs_problem("cannot create a file in \"/logs\": No space left on device");
        auto answer = health_answer(**store, &daemon, std::nullopt, now);
        CHECK_FALSE(answer.healthy);
        CHECK(answer.body["logs"]["status"] == "unhealthy");
        CHECK_THAT(answer.body["logs"]["detail"].get<std::string>(), Catch::Contains("No space left on device"));
        CHECK_FALSE(health_answer(**store, nullptr, std::nullopt, now).body.contains("logs"));
        daemon.set_logs_problem(std::nullopt);
        CHECK(health_answer(**store, &daemon, std::nullopt, now).healthy);
    }
    SECTION("a DAG folder that cannot be read is shown with its reason") {
        daemon.turn_committed(now);
        DagFolderStatus folder{.loading = false, .dag_files = 3, .watching = true,
                               .problem = "cannot read the DAG folder /dags: Permission denied"};
        auto answer = health_answer(**store, &daemon, folder, now);
        CHECK_FALSE(answer.healthy);
        CHECK(answer.body["dag_processor"]["status"] == "unhealthy");
        CHECK(answer.body["dag_processor"]["dag_files"] == 3);
        folder.problem.clear();
        CHECK(health_answer(**store, &daemon, folder, now).healthy);
    }
    store->reset();
    std::filesystem::remove_all(folder);
}
