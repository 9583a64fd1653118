// mayaflow/costs/…: BigQuery bytes and slots per DAG and day, per task and day, and the costliest tries.

#include <catch2/catch.hpp>

#include "engine/time/iso8601.h"
#include "tests/web/api_fixture.h"
#include "tests/web/run_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

constexpr long long kTib = 1LL << 40;

Instant at(const std::string& text) { return *parse_datetime(text, TimeZone::utc()); }

struct CostFixture : ApiFixture {
    CostFixture() {
        testing::add_dag(*this, "sales", (folder / "sales.yaml").string(), {testing::task_of("query"), testing::task_of("load")});
        testing::add_dag(*this, "mart", (folder / "mart.yaml").string(), {testing::task_of("build")});
        const long long sales = testing::add_run(*this, "sales", "run_1",
                                                 {testing::task_row("query", TaskState::success, 2),
                                                  testing::task_row("load", TaskState::success, 1)});
        const long long mart = testing::add_run(*this, "mart", "run_1", {testing::task_row("build", TaskState::success, 1)});
        StateBatch batch;
        auto cost = [&](long long run, const std::string& task, int try_number, long long billed, const std::string& when,
                        std::string job) {
            batch.task_costs.push_back(TaskCostRow{.run_pk = run,
                                                   .task_id = task,
                                                   .try_number = try_number,
                                                   .cost = {.job_id = std::move(job),
                                                            .bytes_processed = billed / 2,
                                                            .bytes_billed = billed,
                                                            .slot_ms = 1000,
                                                            .cache_hit = billed == 0},
                                                   .recorded_at = at(when)});
        };
        cost(sales, "query", 1, kTib, "2024-01-01T10:00:00Z", "job_q1");
        cost(sales, "query", 2, 2 * kTib, "2024-01-01T23:59:59Z", "job_q2");
        cost(sales, "load", 1, 0, "2024-01-02T00:00:00Z", "");
        cost(mart, "build", 1, kTib / 2, "2024-01-02T05:00:00Z", "job_b1");
        REQUIRE(store->write_batch(batch));
    }
};

const std::string kRange = "start_date=2024-01-01T00:00:00%2B00:00&end_date=2024-01-03T00:00:00%2B00:00";

}  // namespace

TEST_CASE("costs per DAG and UTC day, with a dollar estimate at the list price", "[costs]") {
    CostFixture fixture;
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/dags?" + kRange));
    CHECK(body["usd_per_tib"] == 6.25);
    CHECK(body["total_entries"] == 3);
    const auto& rows = body["dag_costs"];
    REQUIRE(rows.size() == 3);
    CHECK(rows[0]["day"] == "2024-01-01");
    CHECK(rows[0]["dag_id"] == "sales");
    CHECK(rows[0]["tries"] == 2);
    CHECK(rows[0]["jobs"] == 2);
    CHECK(rows[0]["bytes_billed"] == 3 * kTib);
    CHECK(rows[0]["bytes_processed"] == 3 * kTib / 2);
    CHECK(rows[0]["slot_ms"] == 2000);
    CHECK(rows[0]["estimated_cost_usd"] == Approx(18.75));
    CHECK(rows[1]["day"] == "2024-01-02");
    CHECK(rows[1]["dag_id"] == "mart");
    CHECK(rows[2]["dag_id"] == "sales");
    CHECK(rows[2]["jobs"] == 0);
    CHECK(rows[2]["cache_hits"] == 1);
    CHECK(body["totals"]["bytes_billed"] == 3 * kTib + kTib / 2);
    CHECK(body["totals"]["estimated_cost_usd"] == Approx(21.875));

    // Another price; a page; a range that leaves out the second day; a bare end day counts whole.
    auto priced = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/dags?usd_per_tib=5&" + kRange));
    CHECK(priced["dag_costs"][0]["estimated_cost_usd"] == Approx(15.0));
    auto page = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/dags?limit=1&offset=1&" + kRange));
    CHECK(page["total_entries"] == 3);
    REQUIRE(page["dag_costs"].size() == 1);
    CHECK(page["dag_costs"][0]["dag_id"] == "mart");
    auto first_day = ApiFixture::json(fixture.call(
        "GET", "/api/v1/mayaflow/costs/dags?start_date=2024-01-01T00:00:00Z&end_date=2024-01-02T00:00:00Z"));
    CHECK(first_day["total_entries"] == 1);
    auto whole_day = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/dags?start_date=2024-01-01&end_date=2024-01-02"));
    CHECK(whole_day["total_entries"] == 3);
    // The default window is the last 30 days: these costs are older.
    CHECK(ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/dags"))["total_entries"] == 0);

    fixture.context->settings.bigquery_usd_per_tib = 10;
    auto configured = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/dags?" + kRange));
    CHECK(configured["usd_per_tib"] == 10.0);
    CHECK(configured["dag_costs"][0]["estimated_cost_usd"] == Approx(30.0));

    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/costs/dags?" + kRange).status == 200);
}

TEST_CASE("the costliest tries come first, with their run, try and job id", "[costs]") {
    CostFixture fixture;
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/tasks?" + kRange));
    CHECK(body["total_entries"] == 4);
    const auto& tries = body["task_costs"];
    REQUIRE(tries.size() == 4);
    CHECK(tries[0]["dag_id"] == "sales");
    CHECK(tries[0]["dag_run_id"] == "run_1");
    CHECK(tries[0]["task_id"] == "query");
    CHECK(tries[0]["try_number"] == 2);
    CHECK(tries[0]["job_id"] == "job_q2");
    CHECK(tries[0]["bytes_billed"] == 2 * kTib);
    CHECK(tries[0]["estimated_cost_usd"] == Approx(12.5));
    CHECK(tries[0]["end_date"] == "2024-01-01T23:59:59+00:00");
    CHECK(tries[1]["job_id"] == "job_q1");
    CHECK(tries[2]["task_id"] == "build");
    CHECK(tries[3]["job_id"].is_null());
    CHECK(tries[3]["cache_hit"] == true);

    auto limited = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/tasks?limit=2&" + kRange));
    CHECK(limited["total_entries"] == 4);
    CHECK(limited["task_costs"].size() == 2);
    auto mart = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/tasks?dag_id=mart&" + kRange));
    CHECK(mart["total_entries"] == 1);
    CHECK(mart["task_costs"][0]["task_id"] == "build");
    // SQL in the filter is a DAG id like any other: it matches nothing.
    for (const std::string id : {"%27%20OR%201%3D1%20--", "%25", "_", "sales%27%20--"}) {
        INFO(id);
        auto none = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/costs/tasks?dag_id=" + id + "&" + kRange));
        CHECK(none["total_entries"] == 0);
        CHECK(none["task_costs"].empty());
    }
}

TEST_CASE("one DAG's costs per task and day, as `tasks stats` shows them", "[costs]") {
    CostFixture fixture;
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/sales/costs?" + kRange));
    CHECK(body["dag_id"] == "sales");
    CHECK(body["total_entries"] == 2);
    const auto& rows = body["task_costs"];
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == nlohmann::json{{"day", "2024-01-01"}, {"task_id", "query"}, {"tries", 2}, {"bytes_billed", 3 * kTib},
                                    {"bytes_processed", 3 * kTib / 2}, {"slot_ms", 2000}, {"cache_hits", 0},
                                    {"rows_written", 0}, {"estimated_cost_usd", 18.75}});
    CHECK(rows[1]["task_id"] == "load");
    CHECK(body["totals"]["tries"] == 3);
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/nope/costs"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/%27%20OR%201%3D1%20--/costs"), 404, "Not Found");
}

TEST_CASE("cost requests with bad dates, prices or pages are 400", "[costs]") {
    CostFixture fixture;
    for (const std::string base : {"/api/v1/mayaflow/costs/dags", "/api/v1/mayaflow/costs/tasks",
                                   "/api/v1/mayaflow/dags/sales/costs"}) {
        for (const std::string query : {"start_date=yesterday", "end_date=2024-13-01", "start_date=%27%20OR%201%3D1%20--",
                                        "start_date=2024-01-02&end_date=2024-01-01T00:00:00Z",
                                        "start_date=2024-01-01T00:00:00Z&end_date=2024-01-01T00:00:00Z",
                                        "usd_per_tib=-1", "usd_per_tib=cheap", "usd_per_tib=nan", "usd_per_tib=1e300",
                                        "limit=-1", "offset=x"}) {
            INFO(base << "?" << query);
            check_problem(fixture.call("GET", base + "?" + query), 400, "Bad Request");
        }
    }
}

}  // namespace mayaflow
