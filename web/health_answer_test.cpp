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
