// A backfill request as it comes from outside (the CLI's command, later the API): every wrong field
// gets an error that names it.

#include "scheduler/backfill_plan.h"

#include <catch2/catch.hpp>

#include "engine/time/iso8601.h"

namespace mayaflow {

TEST_CASE("backfill_request_from_json reads a full request", "[backfill_plan]") {
    auto request = backfill_request_from_json(nlohmann::json{{"dag_id", "d"},
                                                              {"from_date", "2024-01-01"},
                                                              {"to_date", "2024-01-31T00:00:00+09:00"},
                                                              {"reprocess_behavior", "completed"},
                                                              {"max_active_runs", 4},
                                                              {"run_backwards", true},
                                                              {"dry_run", true},
                                                              {"dag_run_conf", {{"x", 1}}}});
    REQUIRE(request);
    CHECK(request->dag_id == "d");
    CHECK(backfill_run_id(request->from_date) == "backfill__2024-01-01T00:00:00+00:00");
    CHECK(backfill_run_id(request->to_date) == "backfill__2024-01-30T15:00:00+00:00");
    CHECK(request->reprocess_behavior == ReprocessBehavior::completed);
    CHECK(request->max_active_runs == 4);
    CHECK(request->run_backwards);
    CHECK(request->dry_run);
    CHECK(request->dag_run_conf["x"] == 1);
    auto defaults = backfill_request_from_json({{"dag_id", "d"}, {"from_date", "2024-01-01"}, {"to_date", "2024-01-02"}});
    REQUIRE(defaults);
    CHECK(defaults->reprocess_behavior == ReprocessBehavior::none);
    CHECK(defaults->max_active_runs == 10);
    CHECK_FALSE(defaults->run_backwards);
}

TEST_CASE("backfill_request_from_json names what is wrong", "[backfill_plan]") {
    nlohmann::json good = {{"dag_id", "d"}, {"from_date", "2024-01-01"}, {"to_date", "2024-01-02"}};
    auto error_of = [&](const char* field, nlohmann::json value) {
        nlohmann::json payload = good;
        if (value.is_discarded()) payload.erase(field);
        else payload[field] = value;
        auto request = backfill_request_from_json(payload);
        REQUIRE_FALSE(request);
        return request.error().message;
    };
    nlohmann::json missing = nlohmann::json::value_t::discarded;
    CHECK(error_of("dag_id", missing) == "'dag_id' is required and must be a string");
    CHECK(error_of("dag_id", 5) == "'dag_id' is required and must be a string");
    CHECK(error_of("from_date", missing) == "'from_date' is required and must be a string");
    CHECK(error_of("to_date", "yesterday").starts_with("to_date: "));
    CHECK(error_of("reprocess_behavior", "all") == "reprocess_behavior must be none, failed or completed");
    CHECK(error_of("reprocess_behavior", 1) == "reprocess_behavior must be none, failed or completed");
    CHECK(error_of("max_active_runs", 0) == "max_active_runs must be a whole number from 1 to 10000");
    CHECK(error_of("max_active_runs", "4") == "max_active_runs must be a whole number from 1 to 10000");
    CHECK(error_of("max_active_runs", 1e9) == "max_active_runs must be a whole number from 1 to 10000");
    CHECK(error_of("run_backwards", "yes") == "run_backwards must be true or false");
    CHECK(error_of("dry_run", 1) == "dry_run must be true or false");
    CHECK(error_of("dag_run_conf", nlohmann::json::array()) == "dag_run_conf must be a JSON object");
    CHECK_FALSE(backfill_request_from_json(nlohmann::json::array()));
}

namespace {

Instant utc(const char* text) { return *parse_datetime(text, TimeZone::utc()); }

Dag scheduled_dag(const char* schedule, const char* zone = "UTC") {
    Dag dag;
    dag.dag_id = "d";
    dag.schedule = *Schedule::parse(schedule);
    dag.timezone = *TimeZone::find(zone);
    return dag;
}

std::vector<std::string> planned(const BackfillPlan& plan) {
    std::vector<std::string> ids;
    for (const auto& run : plan.runs) ids.push_back(run.run_id);
    return ids;
}

}  // namespace

TEST_CASE("plan_backfill takes only the intervals that have ended, as Airflow 3", "[backfill_plan]") {
    BackfillRequest request{.dag_id = "d", .from_date = utc("2024-03-01T00:00:00Z"), .to_date = utc("2024-03-10T00:00:00Z")};

    // Daily at noon on 03-05: the interval of 03-04 ended at midnight, that of 03-05 ends tomorrow.
    auto daily = plan_backfill(scheduled_dag("@daily"), request, {}, utc("2024-03-05T12:00:00Z"));
    REQUIRE(daily);
    CHECK(planned(*daily) == std::vector<std::string>{"backfill__2024-03-01T00:00:00+00:00",
                                                      "backfill__2024-03-02T00:00:00+00:00",
                                                      "backfill__2024-03-03T00:00:00+00:00",
                                                      "backfill__2024-03-04T00:00:00+00:00"});
    REQUIRE(daily->skipped.size() == 1);
    CHECK(daily->skipped[0].logical_date == utc("2024-03-05T00:00:00Z"));
    CHECK(daily->skipped[0].reason == "its data interval ends at 2024-03-06T00:00:00+00:00, which has not passed yet");

    // An interval that ends exactly now has not passed (Airflow: data_interval.end < now).
    auto at_midnight = plan_backfill(scheduled_dag("@daily"), request, {}, utc("2024-03-05T00:00:00Z"));
    REQUIRE(at_midnight);
    CHECK(at_midnight->runs.size() == 3);
    CHECK(at_midnight->skipped.at(0).logical_date == utc("2024-03-04T00:00:00Z"));

    // Hourly: today's hours up to the last one that ended.
    BackfillRequest today{.dag_id = "d", .from_date = utc("2024-03-05T00:00:00Z"), .to_date = utc("2024-03-05T23:00:00Z")};
    auto hourly = plan_backfill(scheduled_dag("@hourly"), today, {}, utc("2024-03-05T03:30:00Z"));
    REQUIRE(hourly);
    CHECK(hourly->runs.size() == 3);  // 00:00, 01:00, 02:00; 03:00 ends at 04:00
    CHECK(hourly->skipped.at(0).logical_date == utc("2024-03-05T03:00:00Z"));

    // Weekly in Tokyo: a week still under way is not backfilled, even when its start is long past.
    auto weekly = plan_backfill(scheduled_dag("0 0 * * MON", "Asia/Tokyo"), request, {}, utc("2024-03-06T00:00:00Z"));
    REQUIRE(weekly);
    CHECK(weekly->runs.empty());  // the week from Monday 03-04 (Tokyo) ends on 03-11
    REQUIRE(weekly->skipped.size() == 1);
    CHECK(weekly->skipped[0].logical_date == utc("2024-03-03T15:00:00Z"));
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("a backfill's dates stay within 0002-01-01 and 9998-12-31", "[backfill_plan]") {
    auto refusal = [](const char* from, const char* to) {
        BackfillRequest request{.dag_id = "d", .from_date = utc(from), .to_date = utc(to)};
        auto plan = plan_backfill(scheduled_dag("@yearly"), request, {}, utc("9999-12-30T00:00:00Z"));
        return plan ? std::string() : plan.error().message;
    };
    CHECK(refusal("9998-01-01T00:00:00Z", "9998-12-31T00:00:00Z").empty());
    CHECK(refusal("9998-01-01T00:00:00Z", "9999-01-01T00:00:00Z") ==
          "9999-01-01T00:00:00+00:00 is out of range: a backfill's dates lie between 0002-01-01 and 9998-12-31 (UTC), "
          "so that the dates its runs' templates read around them stay within years 0001-9999");
    CHECK_THAT(refusal("0001-06-01T00:00:00Z", "0003-01-01T00:00:00Z"), Catch::StartsWith("0001-06-01T00:00:00+00:00 is out of range"));
}

}  // namespace mayaflow
