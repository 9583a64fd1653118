// /pools: Airflow's shapes, changes carried out by a real scheduler core, slot counts from the
// task instances, and bad input answered with 400/404/409 that say what to fix.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/api_scheduler.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::ApiScheduler;
using testing::check_problem;

std::string detail(const WebResponse& response) { return nlohmann::json::parse(response.body)["detail"]; }

TEST_CASE("pools: the default pool in Airflow's shape", "[pools]") {
    ApiFixture api(Role::viewer);
    auto listed = ApiFixture::json(api.call("GET", "/api/v1/pools"));
    REQUIRE(listed["total_entries"] == 1);
    auto pool = listed["pools"][0];
    CHECK(pool["name"] == "default_pool");
    CHECK(pool["slots"] == 128);
    for (const char* field : {"occupied_slots", "running_slots", "queued_slots", "scheduled_slots", "deferred_slots"}) {
        INFO(field);
        CHECK(pool[field] == 0);
    }
    CHECK(pool["open_slots"] == 128);
    CHECK(pool["description"] == "Default pool");
    CHECK(pool["include_deferred"] == true);
    CHECK(pool.size() == 10);
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools/default_pool")) == pool);
    // A Viewer reads, an Op changes.
    check_problem(api.call("POST", "/api/v1/pools", R"({"name": "x", "slots": 1})"), 403, "Forbidden");
    check_problem(api.call("DELETE", "/api/v1/pools/x"), 403, "Forbidden");
    check_problem(api.call("PATCH", "/api/v1/pools/x", R"({"name": "x", "slots": 1})"), 403, "Forbidden");
}

TEST_CASE("pools: create, read, resize, rename and delete through the scheduler", "[pools]") {
    ApiFixture api(Role::op);
    ApiScheduler scheduler(api);
    auto created = api.call("POST", "/api/v1/pools", R"({"name": "etl", "slots": 4, "description": "loads"})");
    REQUIRE(created.status == 200);
    auto body = ApiFixture::json(created);
    CHECK(body["name"] == "etl");
    CHECK(body["slots"] == 4);
    CHECK(body["open_slots"] == 4);
    CHECK(body["description"] == "loads");
    CHECK(scheduler.commands_taken == 1);

    check_problem(api.call("POST", "/api/v1/pools", R"({"name": "etl", "slots": 9})"), 409, "Conflict");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools/etl"))["slots"] == 4);

    auto resized = api.call("PATCH", "/api/v1/pools/etl?update_mask=slots", R"({"slots": 7})");
    REQUIRE(resized.status == 200);
    CHECK(ApiFixture::json(resized)["slots"] == 7);
    CHECK(ApiFixture::json(resized)["description"] == "loads");  // not in the mask: kept

    auto whole = api.call("PATCH", "/api/v1/pools/etl", R"({"name": "etl", "slots": 3})");
    REQUIRE(whole.status == 200);
    CHECK(ApiFixture::json(whole)["slots"] == 3);

    REQUIRE(api.call("POST", "/api/v1/pools", R"({"name": "other", "slots": 1})").status == 200);
    check_problem(api.call("PATCH", "/api/v1/pools/etl?update_mask=name", R"({"name": "other"})"), 409, "Conflict");
    auto renamed = api.call("PATCH", "/api/v1/pools/etl?update_mask=name", R"({"name": "loads"})");
    REQUIRE(renamed.status == 200);
    CHECK(ApiFixture::json(renamed)["name"] == "loads");
    CHECK(ApiFixture::json(renamed)["slots"] == 3);
    check_problem(api.call("GET", "/api/v1/pools/etl"), 404, "Not Found");

    auto ordered = ApiFixture::json(api.call("GET", "/api/v1/pools?order_by=-slots"));
    CHECK(ordered["pools"][0]["name"] == "default_pool");
    CHECK(ordered["pools"][2]["name"] == "other");
    auto paged = ApiFixture::json(api.call("GET", "/api/v1/pools?limit=1&offset=1&order_by=name"));
    CHECK(paged["total_entries"] == 3);
    REQUIRE(paged["pools"].size() == 1);
    CHECK(paged["pools"][0]["name"] == "loads");
    // Airflow's default order_by is id; a pool's name is its id here.
    auto by_id = ApiFixture::json(api.call("GET", "/api/v1/pools?order_by=-id"));
    CHECK(by_id["pools"][0]["name"] == "other");
    CHECK(by_id["pools"][2]["name"] == "default_pool");

    auto deleted = api.call("DELETE", "/api/v1/pools/loads");
    CHECK(deleted.status == 204);
    CHECK(deleted.body.empty());
    check_problem(api.call("GET", "/api/v1/pools/loads"), 404, "Not Found");
    check_problem(api.call("DELETE", "/api/v1/pools/loads"), 404, "Not Found");
    auto stored = api.store->list_pools();
    REQUIRE(stored);
    CHECK(stored->size() == 2);
}

TEST_CASE("pools: default_pool can be resized but neither renamed nor deleted", "[pools]") {
    ApiFixture api(Role::op);
    ApiScheduler scheduler(api);
    auto refused = api.call("DELETE", "/api/v1/pools/default_pool");
    check_problem(refused, 400, "Bad Request");
    CHECK_THAT(detail(refused), Catch::Contains("default_pool cannot be deleted"));
    auto rename = api.call("PATCH", "/api/v1/pools/default_pool", R"({"name": "renamed", "slots": 5})");
    check_problem(rename, 400, "Bad Request");
    CHECK_THAT(detail(rename), Catch::Contains("cannot be renamed"));
    check_problem(api.call("PATCH", "/api/v1/pools/default_pool?update_mask=name", R"({"name": "x"})"), 400,
                  "Bad Request");
    CHECK(scheduler.commands_taken == 0);
    auto resized = api.call("PATCH", "/api/v1/pools/default_pool?update_mask=slots", R"({"slots": 16})");
    REQUIRE(resized.status == 200);
    CHECK(ApiFixture::json(resized)["slots"] == 16);
    CHECK(ApiFixture::json(resized)["name"] == "default_pool");
}

TEST_CASE("pools: bad input is a 400 that names the field, and changes nothing", "[pools]") {
    ApiFixture api(Role::op);
    ApiScheduler scheduler(api);
    struct Case {
        const char* body;
        const char* says;
    };
    for (auto [body, says] : {Case{"{", "not valid JSON"}, Case{"[]", "must be a JSON object"},
                              Case{"", "needs a JSON object"}, Case{R"({"name": 5, "slots": 1})", "'name' must be a string"},
                              Case{R"({"name": "a", "slots": "5"})", "'slots' must be a whole number"},
                              Case{R"({"name": "a", "slots": 1.5})", "'slots' must be a whole number"},
                              Case{R"({"name": "a", "slots": -1})", "from 0 to 1000000"},
                              Case{R"({"name": "a", "slots": 1000001})", "from 0 to 1000000"},
                              Case{R"({"name": "a", "slots": 1, "occupied_slots": 0})", "unknown field"},
                              Case{R"({"name": "a", "slots": 1, "pool": "b"})", "unknown field"},
                              Case{R"({"slots": 1})", "'name' is required"}, Case{R"({"name": "a"})", "'slots' is required"},
                              Case{R"({"name": "", "slots": 1})", "cannot be empty"},
                              Case{R"({"name": "p\u0000x", "slots": 1})", "control character (byte 0x00 at position 2)"},
                              Case{R"({"name": "p\nx", "slots": 1})", "control character (byte 0x0a at position 2)"},
                              Case{R"({"name": "a", "slots": 1, "include_deferred": false})", "include_deferred"},
                              Case{R"({"name": "a", "slots": 1, "include_deferred": "yes"})", "true or false"}}) {
        INFO(body);
        auto response = api.call("POST", "/api/v1/pools", body, {{"content-type", "application/json"}});
        check_problem(response, 400, "Bad Request");
        CHECK_THAT(detail(response), Catch::Contains(says));
    }
    auto long_name = api.call("POST", "/api/v1/pools", nlohmann::json{{"name", std::string(257, 'p')}, {"slots", 1}}.dump());
    check_problem(long_name, 400, "Bad Request");

    for (auto [target, body] : {std::pair{"/api/v1/pools/default_pool?update_mask=occupied_slots", R"({"slots": 1})"},
                                std::pair{"/api/v1/pools/default_pool?update_mask=slots", R"({"slots": true})"},
                                std::pair{"/api/v1/pools/default_pool?update_mask=slots", R"({})"},
                                std::pair{"/api/v1/pools/default_pool", R"({"slots": 3})"},
                                std::pair{"/api/v1/pools/default_pool", "not json"},
                                std::pair{"/api/v1/pools/default_pool", R"({"name": "default_pool", "slots": 1, "x": 1})"}}) {
        INFO(target << " " << body);
        check_problem(api.call("PATCH", target, body, {{"content-type", "application/json"}}), 400, "Bad Request");
    }
    for (const std::string order : {"occupied", "name;DROP TABLE pool", "%27%20OR%201%3D1%20--", "-", "_", "%25"}) {
        INFO(order);
        check_problem(api.call("GET", "/api/v1/pools?order_by=" + order), 400, "Bad Request");
    }
    check_problem(api.call("GET", "/api/v1/pools?limit=-1"), 400, "Bad Request");
    CHECK(scheduler.commands_taken == 0);
    auto pools = api.store->list_pools();
    REQUIRE(pools);
    CHECK(pools->size() == 1);
    CHECK(pools->front().slots == 128);
}

TEST_CASE("pools: names with SQL metacharacters are names, and unknown names are 404", "[pools]") {
    ApiFixture api(Role::op);
    ApiScheduler scheduler(api);
    for (const std::string name : {"' OR 1=1 --", "%", "_", "a'b\"c"}) {
        INFO(name);
        auto created = api.call("POST", "/api/v1/pools", nlohmann::json{{"name", name}, {"slots", 2}}.dump());
        REQUIRE(created.status == 200);
        CHECK(ApiFixture::json(created)["name"] == name);
    }
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools"))["total_entries"] == 5);
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools/%27%20OR%201%3D1%20--"))["name"] == "' OR 1=1 --");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools/%25"))["name"] == "%");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools/_"))["name"] == "_");
    for (const std::string target : {"/api/v1/pools/nope", "/api/v1/pools/%25%25", "/api/v1/pools/__",
                                     "/api/v1/pools/default%25", "/api/v1/pools/%27%20OR%20%271%27%3D%271"}) {
        INFO(target);
        check_problem(api.call("GET", target), 404, "Not Found");
        check_problem(api.call("DELETE", target), 404, "Not Found");
        check_problem(api.call("PATCH", target + "?update_mask=slots", R"({"slots": 1})"), 404, "Not Found");
    }
    REQUIRE(api.call("DELETE", "/api/v1/pools/%25").status == 204);
    CHECK(api.call("GET", "/api/v1/pools/_").status == 200);  // '%' deleted only itself
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/pools"))["total_entries"] == 4);
}

TEST_CASE("pools: slot counts come from the task instances that hold them", "[pools]") {
    ApiFixture api(Role::op);
    ApiScheduler scheduler(api);
    REQUIRE(api.call("POST", "/api/v1/pools", R"({"name": "etl", "slots": 5})").status == 200);
    scheduler.add_dag(R"(
dag_id: loads
schedule: null
start_date: 2024-01-01
tasks:
  - task_id: big
    operator: bash
    bash_command: "true"
    pool: etl
    pool_slots: 2
  - task_id: small
    operator: bash
    bash_command: "true"
)");
    REQUIRE(scheduler.core->trigger(TriggerRequest{.dag_id = "loads"}));
    scheduler.turn();
    auto etl = ApiFixture::json(api.call("GET", "/api/v1/pools/etl"));
    CHECK(etl["queued_slots"].get<int>() + etl["running_slots"].get<int>() == 2);
    CHECK(etl["occupied_slots"] == 2);
    CHECK(etl["open_slots"] == 3);
    auto fallback = ApiFixture::json(api.call("GET", "/api/v1/pools/default_pool"));
    CHECK(fallback["occupied_slots"] == 1);
    CHECK(fallback["open_slots"] == 127);
}

}  // namespace
}  // namespace mayaflow
