// A backfill request as it comes from outside (the CLI's command, later the API): every wrong field
// gets an error that names it.

#include "scheduler/backfill_plan.h"

#include <catch2/catch.hpp>

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

}  // namespace mayaflow
