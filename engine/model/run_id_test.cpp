#include "engine/model/run_id.h"

#include <catch2/catch.hpp>

#include <string>

namespace mayaflow {

TEST_CASE("run ids follow Airflow's allowed_run_id_pattern and length", "[run_id]") {
    CHECK(check_run_id("manual__2024-03-01T00:00:00+00:00", RunIdUse::manual));
    CHECK(check_run_id("my-run.v2~retry:1", RunIdUse::manual));
    CHECK_FALSE(check_run_id("~", RunIdUse::manual));  // the API's wildcard
    CHECK(check_run_id("~~", RunIdUse::manual));
    CHECK(check_run_id(std::string(250, 'a'), RunIdUse::manual));

    auto empty = check_run_id("", RunIdUse::manual);
    REQUIRE_FALSE(empty);
    CHECK_THAT(empty.error().message, Catch::Contains("cannot be empty"));

    auto too_long = check_run_id(std::string(251, 'a'), RunIdUse::manual);
    REQUIRE_FALSE(too_long);
    CHECK_THAT(too_long.error().message, Catch::Contains("251 characters"));

    for (const char* bad : {"with space", "slash/run", "quote'", "semi;colon", "new\nline", "ünïcode", "star*"}) {
        INFO(bad);
        auto checked = check_run_id(bad, RunIdUse::manual);
        REQUIRE_FALSE(checked);
        CHECK_THAT(checked.error().message, Catch::Contains("not allowed"));
    }
    auto position = check_run_id("ab cd", RunIdUse::manual);
    REQUIRE_FALSE(position);
    CHECK_THAT(position.error().message, Catch::Contains("position 3"));
}

TEST_CASE("a manual run cannot take a prefix Airflow reserves for other run types", "[run_id]") {
    for (const char* type : {"scheduled", "backfill", "dataset_triggered", "asset_triggered"}) {
        std::string id = std::string(type) + "__2024-03-01T00:00:00+00:00";
        INFO(id);
        auto manual = check_run_id(id, RunIdUse::manual);
        REQUIRE_FALSE(manual);
        CHECK_THAT(manual.error().message, Catch::Contains(std::string("reserved for ") + type + " runs"));
        CHECK(check_run_id(id, RunIdUse::automated));  // the scheduler makes them
        CHECK(reserved_run_type(id) == std::optional<std::string_view>(type));
    }
    // Only the whole prefix with its two underscores is reserved.
    CHECK(check_run_id("scheduled_2024", RunIdUse::manual));
    CHECK(check_run_id("scheduledrun", RunIdUse::manual));
    CHECK(check_run_id("my_scheduled__run", RunIdUse::manual));
    CHECK(check_run_id("manual__x", RunIdUse::manual));
    CHECK_FALSE(check_run_id("backfill__", RunIdUse::manual));  // Airflow tests startswith("backfill__")
}

}  // namespace mayaflow
