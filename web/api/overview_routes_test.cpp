#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "engine/time/iso8601.h"
#include "tests/web/api_fixture.h"
#include "tests/web/run_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

Instant at(const std::string& text) { return *parse_datetime(text, TimeZone::utc()); }

// A DAG on `schedule` from `start`, recorded as the DAG processor records a parse.
void add_scheduled_dag(ApiFixture& fixture, const std::string& dag_id, const std::string& schedule,
                       std::optional<Instant> start, bool catchup, std::vector<std::string> tags = {}) {
    Dag dag;
    dag.tags = std::move(tags);
    dag.dag_id = dag_id;
    dag.fileloc = "/dags/" + dag_id + ".yaml";
    dag.source_hash = "h";
    if (!schedule.empty()) dag.schedule = *Schedule::parse(schedule);
    dag.start_date = start;
    dag.catchup = catchup;
    dag.tasks = {testing::task_of("only")};
    dag.tasks[0].defined_at.file = dag.fileloc;
    dag.index_tasks();
    REQUIRE(fixture.store->record_dag_file_parsed(dag.fileloc, dag, dump_json(to_json(dag)), now_instant()));
}

TEST_CASE("dagSummaries gives a page of DAGs their newest runs, counts by state and next run in one answer", "[web]") {
    ApiFixture fixture(Role::viewer);
    add_scheduled_dag(fixture, "hourly", "@hourly", at("2024-01-01T00:00:00Z"), false);
    add_scheduled_dag(fixture, "manual", "", std::nullopt, false);
    for (int i = 0; i < 12; ++i) testing::add_run(fixture, "hourly", "run_" + std::to_string(i), {});

    auto answer = fixture.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=hourly,manual,no_such_dag&runs=5");
    REQUIRE(answer.status == 200);
    auto body = ApiFixture::json(answer);
    REQUIRE(body["dags"].size() == 2);  // an unknown DAG is left out
    CHECK(body["total_entries"] == 2);
    const auto& hourly = body["dags"][0];
    CHECK(hourly["dag_id"] == "hourly");
    REQUIRE(hourly["recent_runs"].size() == 5);
    // Newest logical date first: add_run gives later runs later logical dates.
    CHECK(hourly["recent_runs"][0]["dag_run_id"] == "run_11");
    CHECK(hourly["recent_runs"][4]["dag_run_id"] == "run_7");
    CHECK(hourly["recent_runs"][0]["state"] == "running");
    CHECK(hourly["run_counts"]["running"] == 12);
    CHECK(hourly["run_counts"]["failed"] == 0);
    REQUIRE(hourly["next_run"].is_object());
    // Catchup off: the latest complete hour, which ran after it ended.
    auto run_after = at(hourly["next_run"]["run_after"].get<std::string>());
    CHECK(run_after <= now_instant() + std::chrono::hours(1));
    CHECK(run_after > now_instant() - std::chrono::hours(2));
    const auto& manual = body["dags"][1];
    CHECK(manual["next_run"].is_null());
    CHECK(manual["recent_runs"].empty());

    check_problem(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=hourly&runs=51"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=hourly&runs=-1"), 400, "Bad Request");
}

TEST_CASE("dagSummaries without dag_ids answers for the page of DAGs GET /dags selects with the same parameters", "[web]") {
    ApiFixture fixture(Role::viewer);
    for (const std::string id : {"etl_b", "etl_a", "report", "ETL_c", "etl_d"}) {
        add_scheduled_dag(fixture, id, "", std::nullopt, false, {id == "report" ? "finance" : "etl"});
    }
    REQUIRE(fixture.store->set_paused("etl_d", true));
    auto ids = [](const nlohmann::json& list) {
        std::vector<std::string> found;
        for (const auto& item : list) found.push_back(item["dag_id"].get<std::string>());
        return found;
    };
    for (const std::string selection : {"", "?limit=2", "?limit=2&offset=2", "?dag_id_pattern=etl&order_by=-dag_id",
                                        "?tags=finance", "?paused=false&dag_id_pattern=ETL", "?offset=10",
                                        "?tags=etl&tags=finance&limit=3&offset=1"}) {
        INFO(selection);
        auto dags = fixture.call("GET", "/api/v1/dags" + selection);
        auto summaries = fixture.call("GET", "/api/v1/mayaflow/dagSummaries" + selection);
        REQUIRE(dags.status == 200);
        REQUIRE(summaries.status == 200);
        CHECK(ids(ApiFixture::json(summaries)["dags"]) == ids(ApiFixture::json(dags)["dags"]));
    }
    auto two = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?limit=2"));
    CHECK(ids(two["dags"]) == std::vector<std::string>{"ETL_c", "etl_a"});
    CHECK(two["total_entries"] == 5);  // what the selection holds, as GET /dags counts it
    auto named = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=etl_a,nothing"));
    CHECK(named["total_entries"] == 1);
    // dag_ids given but empty is a mistake, not "every DAG".
    for (const std::string empty : {"?dag_ids=", "?dag_ids=,,", "?dag_ids=&dag_ids="}) {
        INFO(empty);
        auto answer = fixture.call("GET", "/api/v1/mayaflow/dagSummaries" + empty);
        check_problem(answer, 400, "Bad Request");
        CHECK_THAT(answer.body, Catch::Contains("dag_ids is empty"));
    }
    // dag_ids or a selection, not both; and the selection's parameters are checked as /dags checks them.
    auto both = fixture.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=etl_a&limit=2");
    check_problem(both, 400, "Bad Request");
    CHECK_THAT(both.body, Catch::Contains("dag_ids and limit were both given"));
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?limit=-1"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?order_by=owner"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?paused=maybe"), 400, "Bad Request");
}

TEST_CASE("gridData gives a DAG's newest runs and every task instance of them, as dagRuns and taskInstances/list do", "[web]") {
    ApiFixture fixture(Role::viewer);
    add_scheduled_dag(fixture, "hourly", "@hourly", at("2024-01-01T00:00:00Z"), false);
    add_scheduled_dag(fixture, "other", "@hourly", at("2024-01-01T00:00:00Z"), false);
    for (int i = 0; i < 4; ++i) {
        testing::add_run(fixture, "hourly", "run_" + std::to_string(i),
                         {testing::task_row("only", i == 3 ? TaskState::failed : TaskState::success, 1),
                          testing::task_row("second", TaskState::none, 0)});
    }
    testing::add_run(fixture, "other", "run_x", {testing::task_row("only", TaskState::success, 1)});

    auto answer = fixture.call("GET", "/api/v1/mayaflow/dags/hourly/gridData?runs=3");
    REQUIRE(answer.status == 200);
    CHECK(answer.content_type == "application/json");
    auto body = ApiFixture::json(answer);
    CHECK(body["truncated"] == false);
    REQUIRE(body["dag_runs"].size() == 3);
    CHECK(body["dag_runs"][0]["dag_run_id"] == "run_3");  // newest logical date first
    CHECK(body["dag_runs"][2]["dag_run_id"] == "run_1");
    // The same runs as GET …/dagRuns lists them, and the same instances as …/taskInstances/list.
    auto runs = ApiFixture::json(fixture.call("GET", "/api/v1/dags/hourly/dagRuns?order_by=-execution_date&limit=3"));
    CHECK(body["dag_runs"] == runs["dag_runs"]);
    auto listed = ApiFixture::json(fixture.call("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list",
        R"({"dag_ids": ["hourly"], "dag_run_ids": ["run_3", "run_2", "run_1"], "page_limit": 1000})"));
    REQUIRE(body["task_instances"].size() == 6);
    // The same instances (the grid's come newest run first, the list's by run and task).
    auto by_run_and_task = [](nlohmann::json items) {
        std::sort(items.begin(), items.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
            return std::pair{a["dag_run_id"].get<std::string>(), a["task_id"].get<std::string>()} <
                   std::pair{b["dag_run_id"].get<std::string>(), b["task_id"].get<std::string>()};
        });
        return items;
    };
    CHECK(by_run_and_task(body["task_instances"]) == by_run_and_task(listed["task_instances"]));
    for (const auto& instance : body["task_instances"]) CHECK(instance["dag_id"] == "hourly");

    auto all = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/hourly/gridData"));
    CHECK(all["dag_runs"].size() == 4);  // 25 by default: every run here
    CHECK(all["task_instances"].size() == 8);
    add_scheduled_dag(fixture, "never_ran", "", std::nullopt, false);
    auto none = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/never_ran/gridData"));
    CHECK(none["dag_runs"].empty());
    CHECK(none["task_instances"].empty());
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/no_such_dag/gridData"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/hourly/gridData?runs=0"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/hourly/gridData?runs=101"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/hourly/gridData?runs=x"), 400, "Bad Request");
}

TEST_CASE("gridData holds at most 10,000 task instances: the newest runs that fit, the newest alone cut", "[web]") {
    ApiFixture fixture(Role::viewer);
    add_scheduled_dag(fixture, "wide", "", std::nullopt, false);
    auto tasks = [](size_t count) {
        std::vector<TaskInstanceRow> rows;
        for (size_t i = 0; i < count; ++i) rows.push_back(testing::task_row(fmt::format("t{:05}", i), TaskState::success, 1));
        return rows;
    };
    testing::add_run(fixture, "wide", "older", tasks(4000));
    testing::add_run(fixture, "wide", "middle", tasks(4000));
    testing::add_run(fixture, "wide", "newest", tasks(4000));
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/wide/gridData"));
    // 8,000 fit; the third run's 4,000 would make 12,000: it is left out, whole.
    REQUIRE(body["dag_runs"].size() == 2);
    CHECK(body["dag_runs"][0]["dag_run_id"] == "newest");
    CHECK(body["dag_runs"][1]["dag_run_id"] == "middle");
    CHECK(body["task_instances"].size() == 8000);
    CHECK(body["truncated"] == true);
    CHECK(ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/wide/gridData?runs=2"))["truncated"] == false);

    add_scheduled_dag(fixture, "huge", "", std::nullopt, false);
    testing::add_run(fixture, "huge", "only", tasks(10050));
    auto huge = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/huge/gridData"));
    REQUIRE(huge["dag_runs"].size() == 1);  // the newest run is shown even alone over the limit: cut
    CHECK(huge["task_instances"].size() == 10000);
    CHECK(huge["truncated"] == true);
}

TEST_CASE("a paused DAG's summary has no next run", "[web]") {
    ApiFixture fixture;
    add_scheduled_dag(fixture, "daily", "@daily", at("2024-01-01T00:00:00Z"), false);
    REQUIRE(fixture.store->set_paused("daily", true));
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dagSummaries?dag_ids=daily"));
    CHECK(body["dags"][0]["is_paused"] == true);
    CHECK(body["dags"][0]["next_run"].is_null());
}

TEST_CASE("a DAG's schedule lists the next runs its timetable will create", "[web]") {
    ApiFixture fixture(Role::viewer);
    // Catchup from a start date: the next runs are the first intervals after the start.
    add_scheduled_dag(fixture, "catchup_daily", "@daily", at("2024-03-01T00:00:00Z"), true);
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/catchup_daily/schedule"));
    CHECK(body["dag_id"] == "catchup_daily");
    CHECK(body["schedule"] == "@daily");
    CHECK(body["catchup"] == true);
    REQUIRE(body["next_runs"].size() == 10);
    CHECK(body["next_runs"][0]["logical_date"] == "2024-03-01T00:00:00+00:00");
    CHECK(body["next_runs"][0]["data_interval_end"] == "2024-03-02T00:00:00+00:00");
    CHECK(body["next_runs"][0]["run_after"] == "2024-03-02T00:00:00+00:00");
    CHECK(body["next_runs"][9]["logical_date"] == "2024-03-10T00:00:00+00:00");

    auto three = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/catchup_daily/schedule?count=3"));
    CHECK(three["next_runs"].size() == 3);

    // Without catchup: from the latest complete interval on, one a day.
    add_scheduled_dag(fixture, "daily", "@daily", at("2024-01-01T00:00:00Z"), false);
    auto daily = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/daily/schedule"));
    REQUIRE(daily["next_runs"].size() == 10);
    auto first = at(daily["next_runs"][0]["run_after"].get<std::string>());
    auto second = at(daily["next_runs"][1]["run_after"].get<std::string>());
    CHECK(second - first == std::chrono::hours(24));
    CHECK(first > now_instant() - std::chrono::hours(25));

    add_scheduled_dag(fixture, "manual", "", std::nullopt, false);
    CHECK(ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/manual/schedule"))["next_runs"].empty());
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/no_such_dag/schedule"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/daily/schedule?count=0"), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/daily/schedule?count=101"), 400, "Bad Request");
}

TEST_CASE("a DAG's graph gives each task its group, generating loop and dependencies", "[web]") {
    ApiFixture fixture(Role::viewer);
    auto start = testing::task_of("start", "empty");
    start.downstream = {"raw.load_sales"};
    auto load = testing::task_of("raw.load_sales");
    load.group_id = "raw";
    load.loop_vars = {{"item", "sales"}};
    load.upstream = {"start"};
    load.trigger_rule = TriggerRule::all_done;
    testing::add_dag(fixture, "grouped", "/dags/grouped.yaml", {start, load});
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/grouped/graph"));
    CHECK(body["dag_id"] == "grouped");
    CHECK(body["version"] == 1);
    REQUIRE(body["tasks"].size() == 2);
    CHECK(body["tasks"][0]["task_id"] == "start");
    CHECK(body["tasks"][0]["operator"] == "empty");
    CHECK(body["tasks"][0]["group_id"].is_null());
    CHECK(body["tasks"][0]["loop_vars"].is_null());
    CHECK(body["tasks"][0]["downstream_task_ids"] == nlohmann::json::array({"raw.load_sales"}));
    CHECK(body["tasks"][1]["group_id"] == "raw");
    CHECK(body["tasks"][1]["loop_vars"]["item"] == "sales");
    CHECK(body["tasks"][1]["trigger_rule"] == "all_done");
    CHECK(body["tasks"][1]["upstream_task_ids"] == nlohmann::json::array({"start"}));
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/no_such_dag/graph"), 404, "Not Found");
}

TEST_CASE("dagTags lists every tag of the DAGs once, sorted, filtered and paged", "[web]") {
    ApiFixture fixture(Role::viewer);
    add_scheduled_dag(fixture, "a", "", std::nullopt, false, {"finance", "daily"});
    add_scheduled_dag(fixture, "b", "", std::nullopt, false, {"Daily", "marketing"});
    add_scheduled_dag(fixture, "c", "", std::nullopt, false, {});
    auto tags = [&](const std::string& query) {
        auto answer = fixture.call("GET", "/api/v1/mayaflow/dagTags" + query);
        REQUIRE(answer.status == 200);
        return ApiFixture::json(answer);
    };
    auto all = tags("");
    CHECK(all["tags"] == nlohmann::json{"Daily", "daily", "finance", "marketing"});
    CHECK(all["total_entries"] == 4);
    CHECK(tags("?tag_name_pattern=DAIL")["tags"] == nlohmann::json{"Daily", "daily"});
    CHECK(tags("?tag_name_pattern=%25")["tags"].empty());  // literal text, no wildcard
    auto second = tags("?limit=2&offset=2");
    CHECK(second["tags"] == nlohmann::json{"finance", "marketing"});
    CHECK(second["total_entries"] == 4);
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dagTags?limit=x"), 400, "Bad Request");
}

TEST_CASE("standins says which Google and Firebase endpoints are stand-ins", "[web]") {
    ApiFixture fixture(Role::viewer);
    ::setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9050", 1);
    ::unsetenv("STORAGE_EMULATOR_HOST");
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/standins"));
    ::unsetenv("BIGQUERY_EMULATOR_HOST");
    bool seen_bigquery = false, seen_storage = false;
    for (const auto& entry : body["standins"]) {
        if (entry["variable"] == "BIGQUERY_EMULATOR_HOST") {
            seen_bigquery = true;
            CHECK(entry["stand_in"] == true);
            CHECK(entry["endpoint"] == "http://127.0.0.1:9050");
        }
        if (entry["variable"] == "STORAGE_EMULATOR_HOST") {
            seen_storage = true;
            CHECK(entry["stand_in"] == false);
            CHECK(entry["endpoint"].is_null());
        }
    }
    CHECK(seen_bigquery);
    CHECK(seen_storage);
}

TEST_CASE("standins lists the connections that point at this machine, without their secrets", "[web]") {
    ApiFixture fixture(Role::viewer);
    ::setenv("AIRFLOW_CONN_FIREBASE_DEFAULT",
             R"({"conn_type": "firebase", "password": "fb-secret", "extra": {"database_url": "http://127.0.0.1:9000/?ns=demo"}})", 1);
    ::setenv("AIRFLOW_CONN_SLACK_DEFAULT",
             R"({"conn_type": "slackwebhook", "password": "http://localhost:8123/services/T0/B0/hook-secret"})", 1);
    ::setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://user:pw-secret@[::1]:5432/db", 1);
    ::setenv("AIRFLOW_CONN_REAL_SLACK", R"({"conn_type": "slackwebhook", "password": "https://hooks.slack.com/services/X"})", 1);
    ::setenv("AIRFLOW_CONN_LOOKALIKE", "http://127.0.0.1.example.com:80", 1);
    auto answer = fixture.call("GET", "/api/v1/mayaflow/standins");
    for (const char* name : {"AIRFLOW_CONN_FIREBASE_DEFAULT", "AIRFLOW_CONN_SLACK_DEFAULT", "AIRFLOW_CONN_WAREHOUSE",
                             "AIRFLOW_CONN_REAL_SLACK", "AIRFLOW_CONN_LOOKALIKE"}) {
        ::unsetenv(name);
    }
    REQUIRE(answer.status == 200);
    for (const char* secret : {"fb-secret", "hook-secret", "pw-secret", "services", "ns=demo", "user:"}) {
        INFO(secret);
        CHECK(answer.body.find(secret) == std::string::npos);
    }
    std::map<std::string, std::string> endpoints;
    const auto body = ApiFixture::json(answer);
    for (const auto& entry : body["standins"]) {
        if (entry["conn_id"].is_string()) endpoints[entry["conn_id"].get<std::string>()] = entry["endpoint"];
    }
    CHECK(endpoints == std::map<std::string, std::string>{{"firebase_default", "http://127.0.0.1:9000"},
                                                          {"slack_default", "http://localhost:8123"},
                                                          {"warehouse", "[::1]:5432"}});
}

}  // namespace
}  // namespace mayaflow
