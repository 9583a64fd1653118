// xcomEntries: a task instance's one result as Airflow's return_value.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/run_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const std::string kTask = "/api/v1/dags/sales/dagRuns/run_1/taskInstances/";

struct XComFixture : ApiFixture {
    XComFixture() {
        testing::add_dag(*this, "sales", (folder / "sales.yaml").string(),
                         {testing::task_of("query"), testing::task_of("wait")});
        testing::add_run(*this, "sales", "run_1",
                         {testing::task_row("query", TaskState::success, 1, {{"rows", 3}, {"table", "mart$20240101"}}),
                          testing::task_row("wait", TaskState::running, 1)});
    }
};

}  // namespace

TEST_CASE("a task's result is its return_value entry, listed without its value", "[xcom]") {
    XComFixture fixture;
    auto list = ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries"));
    CHECK(list["total_entries"] == 1);
    REQUIRE(list["xcom_entries"].size() == 1);
    const auto& entry = list["xcom_entries"][0];
    CHECK(entry["key"] == "return_value");
    CHECK(entry["dag_id"] == "sales");
    CHECK(entry["task_id"] == "query");
    CHECK(entry["map_index"] == -1);
    CHECK(entry["execution_date"].get<std::string>().ends_with("+00:00"));
    CHECK(entry["timestamp"].is_string());
    CHECK_FALSE(entry.contains("value"));
    CHECK(ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries?xcom_key=return_value"))["total_entries"] == 1);
    CHECK(ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries?map_index=-1"))["total_entries"] == 1);
    CHECK(ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries?map_index=0"))["total_entries"] == 0);
    CHECK(ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries?offset=1"))["xcom_entries"].empty());
    for (const std::string key : {"other", "%27%20OR%201%3D1%20--", "%25", "_"}) {
        INFO(key);
        auto filtered = ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries?xcom_key=" + key));
        CHECK(filtered["total_entries"] == 0);
        CHECK(filtered["xcom_entries"].empty());
    }

    // The value: as JSON text by default (Airflow's stringify), as the JSON itself with stringify=false.
    auto value = ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries/return_value"));
    CHECK(value["key"] == "return_value");
    CHECK(nlohmann::json::parse(value["value"].get<std::string>()) == nlohmann::json{{"rows", 3}, {"table", "mart$20240101"}});
    auto raw = ApiFixture::json(fixture.call("GET", kTask + "query/xcomEntries/return_value?stringify=false&deserialize=true"));
    CHECK(raw["value"]["rows"] == 3);

    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", kTask + "query/xcomEntries/return_value").status == 200);
}

TEST_CASE("other keys, tasks without a result and unknown ids are 404; bad parameters 400", "[xcom]") {
    XComFixture fixture;
    check_problem(fixture.call("GET", kTask + "query/xcomEntries/rows"), 404, "Not Found");
    check_problem(fixture.call("GET", kTask + "query/xcomEntries/%27%20OR%201%3D1%20--"), 404, "Not Found");
    check_problem(fixture.call("GET", kTask + "query/xcomEntries/return_value?map_index=1"), 404, "Not Found");
    // A running task has returned nothing yet.
    CHECK(ApiFixture::json(fixture.call("GET", kTask + "wait/xcomEntries"))["total_entries"] == 0);
    check_problem(fixture.call("GET", kTask + "wait/xcomEntries/return_value"), 404, "Not Found");

    check_problem(fixture.call("GET", "/api/v1/dags/nope/dagRuns/run_1/taskInstances/query/xcomEntries"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/nope/taskInstances/query/xcomEntries"), 404, "Not Found");
    check_problem(fixture.call("GET", kTask + "nope/xcomEntries"), 404, "Not Found");
    check_problem(fixture.call("GET", kTask + "nope/xcomEntries/return_value"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/dags/%27%20OR%201%3D1%20--/dagRuns/run_1/taskInstances/query/xcomEntries"),
                  404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/%25/taskInstances/_/xcomEntries"), 404, "Not Found");

    check_problem(fixture.call("GET", "/api/v1/dags/~/dagRuns/~/taskInstances/~/xcomEntries"), 400, "Bad Request");
    check_problem(fixture.call("GET", kTask + "query/xcomEntries?limit=x"), 400, "Bad Request");
    check_problem(fixture.call("GET", kTask + "query/xcomEntries?map_index=x"), 400, "Bad Request");
    check_problem(fixture.call("GET", kTask + "query/xcomEntries/return_value?stringify=maybe"), 400, "Bad Request");
    check_problem(fixture.call("GET", kTask + "query/xcomEntries/return_value?deserialize=1"), 400, "Bad Request");
}

}  // namespace mayaflow
