// /backfills: Airflow 3's shapes, created, paused, resumed and cancelled by a real scheduler core,
// dry runs planned from the store, and bad input answered with 400/404/409 that say what to fix.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/api_scheduler.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::ApiScheduler;
using testing::check_problem;

std::string detail(const WebResponse& response) { return nlohmann::json::parse(response.body)["detail"]; }

constexpr const char* kDailyDag = R"(
dag_id: daily
schedule: "@daily"
start_date: 2024-01-01
tasks:
  - task_id: load
    operator: bash
    bash_command: "true"
)";

const std::string kJanuary = R"({"dag_id": "daily", "from_date": "2024-01-01T00:00:00+00:00", "to_date": "2024-01-03T00:00:00+00:00"})";

TEST_CASE("backfills: a dry run lists the runs it would create, and creates none", "[backfills]") {
    ApiFixture api(Role::user);
    ApiScheduler scheduler(api);
    scheduler.add_dag(kDailyDag);
    auto response = api.call("POST", "/api/v1/backfills/dry_run", kJanuary);
    REQUIRE(response.status == 200);
    auto body = ApiFixture::json(response);
    CHECK(body["total_entries"] == 3);
    REQUIRE(body["backfills"].size() == 3);
    CHECK(body["backfills"][0] == nlohmann::json{{"dag_id", "daily"}, {"logical_date", "2024-01-01T00:00:00+00:00"}});
    CHECK(body["backfills"][2]["logical_date"] == "2024-01-03T00:00:00+00:00");
    auto backwards = ApiFixture::json(api.call(
        "POST", "/api/v1/backfills/dry_run",
        R"({"dag_id": "daily", "from_date": "2024-01-01T00:00:00Z", "to_date": "2024-01-02T00:00:00Z", "run_backwards": true})"));
    CHECK(backwards["backfills"][0]["logical_date"] == "2024-01-02T00:00:00+00:00");
    CHECK(scheduler.commands_taken == 0);
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/backfills"))["total_entries"] == 0);
}

TEST_CASE("backfills: create, read, pause, unpause and cancel through the scheduler", "[backfills]") {
    ApiFixture api(Role::user);
    ApiScheduler scheduler(api);
    scheduler.add_dag(kDailyDag);
    auto created = api.call("POST", "/api/v1/backfills",
                            R"({"dag_id": "daily", "from_date": "2024-01-01T00:00:00+00:00", "to_date": "2024-01-03T00:00:00+00:00",
                                "max_active_runs": 2, "reprocess_behavior": "failed", "dag_run_conf": {"table": "sales"}})");
    REQUIRE(created.status == 200);
    auto backfill = ApiFixture::json(created);
    CHECK(backfill["id"].get<long long>() >= 1);
    CHECK(backfill["dag_id"] == "daily");
    CHECK(backfill["from_date"] == "2024-01-01T00:00:00+00:00");
    CHECK(backfill["to_date"] == "2024-01-03T00:00:00+00:00");
    CHECK(backfill["dag_run_conf"] == nlohmann::json{{"table", "sales"}});
    CHECK(backfill["is_paused"] == false);
    CHECK(backfill["reprocess_behavior"] == "failed");
    CHECK(backfill["max_active_runs"] == 2);
    CHECK(backfill["completed_at"] == nullptr);
    CHECK(backfill["created_at"].is_string());
    CHECK(backfill["updated_at"].is_string());
    CHECK(backfill["progress"]["total_runs"] == 3);
    CHECK(backfill["progress"]["runs_by_state"]["queued"].get<int>() + backfill["progress"]["runs_by_state"]["running"].get<int>() == 3);
    const std::string id = std::to_string(backfill["id"].get<long long>());

    // One backfill of a DAG at a time.
    auto second = api.call("POST", "/api/v1/backfills", kJanuary);
    check_problem(second, 409, "Conflict");
    CHECK_THAT(detail(second), Catch::Contains("already has backfill"));

    CHECK(ApiFixture::json(api.call("GET", "/api/v1/backfills/" + id))["id"] == backfill["id"]);
    auto listed = ApiFixture::json(api.call("GET", "/api/v1/backfills?dag_id=daily"));
    CHECK(listed["total_entries"] == 1);
    CHECK(listed["backfills"][0]["id"] == backfill["id"]);
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/backfills?dag_id=other"))["total_entries"] == 0);

    auto paused = api.call("PUT", "/api/v1/backfills/" + id + "/pause");
    REQUIRE(paused.status == 200);
    CHECK(ApiFixture::json(paused)["is_paused"] == true);
    auto unpaused = api.call("PUT", "/api/v1/backfills/" + id + "/unpause");
    REQUIRE(unpaused.status == 200);
    CHECK(ApiFixture::json(unpaused)["is_paused"] == false);
    auto cancelled = api.call("PUT", "/api/v1/backfills/" + id + "/cancel");
    REQUIRE(cancelled.status == 200);
    CHECK(ApiFixture::json(cancelled)["completed_at"].is_string());
    CHECK(ApiFixture::json(cancelled)["updated_at"] == ApiFixture::json(cancelled)["completed_at"]);
    for (const std::string verb : {"pause", "unpause", "cancel"}) {
        INFO(verb);
        auto again = api.call("PUT", "/api/v1/backfills/" + id + "/" + verb);
        check_problem(again, 409, "Conflict");
        CHECK_THAT(detail(again), Catch::Contains("already completed"));
    }

    // A viewer reads, but neither creates nor changes.
    api.as(Role::viewer);
    CHECK(api.call("GET", "/api/v1/backfills").status == 200);
    check_problem(api.call("POST", "/api/v1/backfills", kJanuary), 403, "Forbidden");
    check_problem(api.call("POST", "/api/v1/backfills/dry_run", kJanuary), 403, "Forbidden");
    check_problem(api.call("PUT", "/api/v1/backfills/" + id + "/pause"), 403, "Forbidden");
}

TEST_CASE("backfills: nothing to run is a 409 that says why for each date", "[backfills]") {
    ApiFixture api(Role::user);
    ApiScheduler scheduler(api);
    scheduler.add_dag(kDailyDag);
    REQUIRE(api.call("POST", "/api/v1/backfills", kJanuary).status == 200);
    auto backfills = ApiFixture::json(api.call("GET", "/api/v1/backfills"));
    const std::string id = std::to_string(backfills["backfills"][0]["id"].get<long long>());
    REQUIRE(api.call("PUT", "/api/v1/backfills/" + id + "/cancel").status == 200);
    scheduler.turn();
    // Every date has a run now (cancelled ones failed): with reprocess_behavior none, nothing to do.
    auto nothing = api.call("POST", "/api/v1/backfills", kJanuary);
    check_problem(nothing, 409, "Conflict");
    CHECK_THAT(detail(nothing), Catch::Contains("no logical date in the range needs a run") && Catch::Contains("2024-01-01"));
    auto dry = ApiFixture::json(api.call("POST", "/api/v1/backfills/dry_run", kJanuary));
    CHECK(dry["total_entries"] == 0);
}

TEST_CASE("backfills: bad input is a 400 that names the field; unknown DAGs and ids are 404", "[backfills]") {
    ApiFixture api(Role::user);
    ApiScheduler scheduler(api);
    scheduler.add_dag(kDailyDag);
    struct Case {
        std::string body;
        const char* says;
    };
    const std::string dates = R"("from_date": "2024-01-01T00:00:00Z", "to_date": "2024-01-03T00:00:00Z")";
    for (const auto& [body, says] :
         {Case{"{", "not valid JSON"}, Case{"[]", "must be a JSON object"}, Case{"", "needs a JSON object"},
          Case{R"({"dag_id": 1, )" + dates + "}", "'dag_id' must be a string"},
          Case{R"({"dag_id": "daily", "from_date": "yesterday", "to_date": "2024-01-03T00:00:00Z"})", "'from_date' must be a date-time"},
          Case{R"({"dag_id": "daily", "from_date": 20240101, "to_date": "2024-01-03T00:00:00Z"})", "'from_date' must be a string"},
          Case{R"({"dag_id": "daily", "from_date": "2024-01-01T00:00:00Z"})", "'to_date' is required"},
          Case{R"({"dag_id": "daily", "from_date": "2024-01-05T00:00:00Z", "to_date": "2024-01-03T00:00:00Z"})", "is after"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "reprocess_behavior": "all"})", "none, failed or completed"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "reprocess_behavior": "' OR 1=1 --"})", "none, failed or completed"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "max_active_runs": 0})", "from 1 to 10000"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "max_active_runs": "2"})", "'max_active_runs' must be a whole number"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "run_backwards": "yes"})", "true or false"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "dag_run_conf": [1]})", "'dag_run_conf' must be a JSON object"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "dry_run": true})", "unknown field"},
          Case{R"({"dag_id": "daily", )" + dates + R"(, "id": 4})", "unknown field"},
          Case{R"({)" + dates + "}", "'dag_id' is required"}}) {
        for (const std::string target : {"/api/v1/backfills", "/api/v1/backfills/dry_run"}) {
            INFO(target << " " << body);
            auto response = api.call("POST", target, body, {{"content-type", "application/json"}});
            check_problem(response, 400, "Bad Request");
            CHECK_THAT(detail(response), Catch::Contains(says));
        }
    }
    for (const std::string dag : {"nope", "' OR 1=1 --", "%", "_", "dail_", "dail%"}) {
        for (const std::string target : {"/api/v1/backfills", "/api/v1/backfills/dry_run"}) {
            INFO(target << " " << dag);
            auto body = nlohmann::json{{"dag_id", dag}, {"from_date", "2024-01-01T00:00:00Z"}, {"to_date", "2024-01-02T00:00:00Z"}};
            check_problem(api.call("POST", target, body.dump()), 404, "Not Found");
        }
    }
    CHECK(scheduler.commands_taken == 0);
    for (const std::string filter : {"%27%20OR%201%3D1%20--", "%25", "_", "dail_"}) {
        INFO(filter);
        auto listed = api.call("GET", "/api/v1/backfills?dag_id=" + filter);
        REQUIRE(listed.status == 200);
        CHECK(ApiFixture::json(listed)["total_entries"] == 0);
    }
    for (const std::string id : {"abc", "-1", "0", "1.5", "%27%20OR%201%3D1%20--", "99999999999999999999999", "%25"}) {
        INFO(id);
        check_problem(api.call("GET", "/api/v1/backfills/" + id), 400, "Bad Request");
        check_problem(api.call("PUT", "/api/v1/backfills/" + id + "/pause"), 400, "Bad Request");
    }
    for (const std::string verb : {"pause", "unpause", "cancel"}) {
        check_problem(api.call("PUT", "/api/v1/backfills/42/" + verb), 404, "Not Found");
    }
    check_problem(api.call("GET", "/api/v1/backfills/42"), 404, "Not Found");
    check_problem(api.call("GET", "/api/v1/backfills?order_by=dag_id"), 400, "Bad Request");
    check_problem(api.call("GET", "/api/v1/backfills?limit=x"), 400, "Bad Request");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/backfills"))["total_entries"] == 0);
    CHECK(scheduler.commands_taken == 0);
}

TEST_CASE("backfills: a DAG without a schedule cannot be backfilled (400 from the plan)", "[backfills]") {
    ApiFixture api(Role::user);
    ApiScheduler scheduler(api);
    scheduler.add_dag(R"(
dag_id: manual
schedule: null
start_date: 2024-01-01
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
)");
    const std::string body = R"({"dag_id": "manual", "from_date": "2024-01-01T00:00:00Z", "to_date": "2024-01-02T00:00:00Z"})";
    auto dry = api.call("POST", "/api/v1/backfills/dry_run", body);
    check_problem(dry, 400, "Bad Request");
    CHECK_THAT(detail(dry), Catch::Contains("no logical dates to backfill"));
    auto created = api.call("POST", "/api/v1/backfills", body);
    check_problem(created, 400, "Bad Request");
    CHECK_THAT(detail(created), Catch::Contains("no logical dates to backfill"));
}

}  // namespace
}  // namespace mayaflow
