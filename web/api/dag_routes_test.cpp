// /dags: Airflow's filters, pausing one DAG or many, details, tasks, and deleting a DAG whose file
// is gone; with a real SchedulerCore answering the commands.

#include <catch2/catch.hpp>

#include "tests/web/scheduled_api_fixture.h"

namespace mayaflow {
namespace {

using testing::check_problem;
using testing::ScheduledApiFixture;

const char* kSales = R"(
dag_id: sales_daily
description: Sales into the warehouse
schedule: "0 3 * * *"
start_date: 2024-01-01
catchup: false
max_active_runs: 2
tags: [sales, gcs]
params:
  region: eu
doc_md: Loads the day's sales.
default_args:
  owner: data
  retries: 3
  retry_delay: 90s
tasks:
  - task_id: load
    operator: bash
    bash_command: "echo load"
    execution_timeout: 1h30m
  - task_id: mart
    operator: bash
    bash_command: "echo mart"
    depends_on: [load]
    trigger_rule: all_done
)";

const char* kBaby = R"(
dag_id: baby_report
tags: [app]
tasks:
  - task_id: export
    operator: bash
    bash_command: "true"
)";

const char* kPct = R"(
dag_id: odd_100pct
tasks:
  - task_id: t
    operator: bash
    bash_command: "true"
)";

struct DagsFixture : ScheduledApiFixture {
    std::shared_ptr<const Dag> sales;
    DagsFixture() {
        sales = add_dag(kSales);
        add_dag(kBaby);
        add_dag(kPct);
    }
    nlohmann::json get(const std::string& target, int status = 200) {
        auto response = call("GET", target);
        INFO(target << " -> " << response.body);
        CHECK(response.status == status);
        return json(response);
    }
    static std::vector<std::string> ids(const nlohmann::json& body) {
        std::vector<std::string> found;
        for (const auto& dag : body["dags"]) found.push_back(dag["dag_id"]);
        return found;
    }
};

}  // namespace

TEST_CASE("DAG lists: tags, dag_id_pattern, paused, only_active, order_by, fields", "[dags]") {
    DagsFixture f;
    CHECK(f.ids(f.get("/api/v1/dags")) == std::vector<std::string>{"baby_report", "odd_100pct", "sales_daily"});
    CHECK(f.ids(f.get("/api/v1/dags?tags=sales")) == std::vector<std::string>{"sales_daily"});
    CHECK(f.ids(f.get("/api/v1/dags?tags=app&tags=gcs")) == std::vector<std::string>{"baby_report", "sales_daily"});
    CHECK(f.ids(f.get("/api/v1/dags?dag_id_pattern=REPORT")) == std::vector<std::string>{"baby_report"});
    CHECK(f.ids(f.get("/api/v1/dags?order_by=-dag_id&limit=2")) == std::vector<std::string>{"sales_daily", "odd_100pct"});
    CHECK(f.get("/api/v1/dags?limit=1&offset=1")["total_entries"] == 3);
    // `%` and `_` are the characters themselves, not wildcards; SQL is only text.
    CHECK(f.get("/api/v1/dags?dag_id_pattern=%25")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags?dag_id_pattern=_")["total_entries"] == 3);
    CHECK(f.get("/api/v1/dags?dag_id_pattern=s_d")["total_entries"] == 1);
    CHECK(f.get("/api/v1/dags?dag_id_pattern=%27%20OR%201%3D1%20--")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags?tags=%27%20OR%201%3D1%20--")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags?tags=%25")["total_entries"] == 0);

    auto fields = f.get("/api/v1/dags?fields=dag_id,is_paused&tags=app");
    CHECK(fields["dags"][0] == nlohmann::json({{"dag_id", "baby_report"}, {"is_paused", false}}));

    REQUIRE(f.store->set_paused("baby_report", true));
    CHECK(f.ids(f.get("/api/v1/dags?paused=true")) == std::vector<std::string>{"baby_report"});
    CHECK(f.get("/api/v1/dags?paused=false")["total_entries"] == 2);

    REQUIRE(f.store->record_dag_file_deleted(f.sales->fileloc));
    CHECK(f.get("/api/v1/dags")["total_entries"] == 2);
    CHECK(f.get("/api/v1/dags?only_active=false")["total_entries"] == 3);

    for (const char* query : {"paused=maybe", "only_active=1", "order_by=owners", "order_by=dag_id;--", "fields=nope",
                              "fields=%27", "limit=x"}) {
        INFO(query);
        check_problem(f.call("GET", std::string("/api/v1/dags?") + query), 400, "Bad Request");
    }
}

TEST_CASE("DAGs in Airflow's DAG shape: every field, null where mayaflow has none", "[dags][airflow]") {
    DagsFixture f;
    auto dag = f.get("/api/v1/dags/sales_daily");
    CHECK(dag["dag_display_name"] == "sales_daily");
    CHECK(dag["description"] == "Sales into the warehouse");
    CHECK(dag["is_subdag"] == false);
    CHECK(dag["has_import_errors"] == false);
    CHECK(dag["has_task_concurrency_limits"] == false);
    CHECK(dag["default_view"] == "grid");
    CHECK(dag["max_consecutive_failed_dag_runs"] == 0);
    for (const char* field : {"root_dag_id", "last_pickled", "last_expired", "scheduler_lock", "pickle_id",
                              "next_dagrun", "next_dagrun_data_interval_start", "next_dagrun_data_interval_end",
                              "next_dagrun_create_after", "max_active_runs", "max_active_tasks"}) {
        INFO(field);
        CHECK(dag.contains(field));
        CHECK(dag[field].is_null());
    }
    // No description: null, as Airflow's nullable description, not "".
    CHECK(f.get("/api/v1/dags/baby_report")["description"].is_null());
    // Airflow's ScheduleInterval: cron as CronExpression, a fixed interval as TimeDelta, none as null.
    CHECK(dag["schedule_interval"] == nlohmann::json({{"__type", "CronExpression"}, {"value", "0 3 * * *"}}));
    CHECK(f.get("/api/v1/dags/baby_report")["schedule_interval"].is_null());
    f.add_dag("dag_id: every_half_hour\nschedule: 1h30m\nstart_date: 2024-01-01\ntasks:\n  - task_id: t\n"
              "    operator: bash\n    bash_command: \"true\"\n");
    CHECK(f.get("/api/v1/dags/every_half_hour")["schedule_interval"] ==
          nlohmann::json({{"__type", "TimeDelta"}, {"days", 0}, {"seconds", 5400}, {"microseconds", 0}}));
    f.add_dag("dag_id: daily_preset\nschedule: \"@daily\"\nstart_date: 2024-01-01\ntasks:\n  - task_id: t\n"
              "    operator: bash\n    bash_command: \"true\"\n");
    CHECK(f.get("/api/v1/dags/daily_preset")["schedule_interval"]["value"] == "@daily");
    // The details read the DAG's version for the limits.
    CHECK(f.get("/api/v1/dags/sales_daily/details")["max_active_runs"] == 2);
    // A file that fails to load keeps its DAG (the last good version) and says so.
    REQUIRE(f.store->record_dag_file_failed(f.sales->fileloc, "line 3: bad", f.clock.now()));
    CHECK(f.get("/api/v1/dags/sales_daily")["has_import_errors"] == true);
    CHECK(f.get("/api/v1/dags?tags=sales")["dags"][0]["has_import_errors"] == true);
    CHECK(f.get("/api/v1/dags/baby_report")["has_import_errors"] == false);
}

TEST_CASE("query booleans in any case, as the Python client sends them", "[dags][airflow]") {
    DagsFixture f;
    REQUIRE(f.store->set_paused("baby_report", true));
    CHECK(f.ids(f.get("/api/v1/dags?paused=True")) == std::vector<std::string>{"baby_report"});
    CHECK(f.get("/api/v1/dags?paused=False&only_active=TRUE")["total_entries"] == 2);
    CHECK(f.get("/api/v1/dags?only_active=False")["total_entries"] == 3);
    for (const char* query : {"paused=Tru", "paused=yes", "only_active=0", "paused="}) {
        INFO(query);
        check_problem(f.call("GET", std::string("/api/v1/dags?") + query), 400, "Bad Request");
    }
}

TEST_CASE("pausing DAGs one at a time and by pattern", "[dags]") {
    DagsFixture f;
    auto response = f.call("PATCH", "/api/v1/dags/sales_daily?update_mask=is_paused", R"({"is_paused": true})");
    INFO(response.body);
    REQUIRE(response.status == 200);
    CHECK(f.json(response)["is_paused"] == true);
    CHECK(f.get("/api/v1/dags/sales_daily")["is_paused"] == true);
    CHECK(f.json(f.call("PATCH", "/api/v1/dags/sales_daily", R"({"is_paused": false})"))["is_paused"] == false);

    auto many = f.json(f.call("PATCH", "/api/v1/dags?dag_id_pattern=~&update_mask=is_paused", R"({"is_paused": true})"));
    CHECK(many["total_entries"] == 3);
    CHECK(f.get("/api/v1/dags?paused=true")["total_entries"] == 3);
    many = f.json(f.call("PATCH", "/api/v1/dags?dag_id_pattern=baby", R"({"is_paused": false})"));
    CHECK(f.ids(many) == std::vector<std::string>{"baby_report"});
    CHECK(f.ids(f.get("/api/v1/dags?paused=false")) == std::vector<std::string>{"baby_report"});
    many = f.json(f.call("PATCH", "/api/v1/dags?dag_id_pattern=%27%20OR%201%3D1%20--", R"({"is_paused": false})"));
    CHECK(many["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags?paused=false")["total_entries"] == 1);

    check_problem(f.call("PATCH", "/api/v1/dags", R"({"is_paused": true})"), 400, "Bad Request");  // no pattern
    for (const char* bad : {"{", "{}", R"({"is_paused": "yes"})", R"({"is_paused": true, "description": "x"})"}) {
        INFO(bad);
        check_problem(f.call("PATCH", "/api/v1/dags/sales_daily", bad), 400, "Bad Request");
        check_problem(f.call("PATCH", "/api/v1/dags?dag_id_pattern=~", bad), 400, "Bad Request");
    }
    check_problem(f.call("PATCH", "/api/v1/dags/sales_daily?update_mask=description", R"({"is_paused": true})"), 400,
                  "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/nope", R"({"is_paused": true})"), 404, "Not Found");
    f.as(Role::viewer);
    check_problem(f.call("PATCH", "/api/v1/dags/sales_daily", R"({"is_paused": true})"), 403, "Forbidden");
}

TEST_CASE("a DAG's details and its tasks in Airflow's shapes", "[dags]") {
    DagsFixture f;
    auto details = f.get("/api/v1/dags/sales_daily/details");
    CHECK(details["dag_id"] == "sales_daily");
    CHECK(details["catchup"] == false);
    CHECK(details["max_active_runs"] == 2);
    CHECK(details["start_date"] == "2024-01-01T00:00:00+00:00");
    CHECK(details["params"] == nlohmann::json({{"region", "eu"}}));
    CHECK(details["doc_md"] == "Loads the day's sales.");
    CHECK(details["default_view"] == "grid");
    CHECK(details["schedule"] == "0 3 * * *");
    CHECK(details["schedule_interval"]["value"] == "0 3 * * *");
    CHECK(details["timezone"].is_string());
    CHECK(details["dag_run_timeout"].is_null());
    check_problem(f.call("GET", "/api/v1/dags/nope/details"), 404, "Not Found");

    auto tasks = f.get("/api/v1/dags/sales_daily/tasks");
    CHECK(tasks["total_entries"] == 2);
    auto load = tasks["tasks"][0];
    CHECK(load["task_id"] == "load");
    CHECK(load["operator_name"] == "bash");
    CHECK(load["owner"] == "data");
    CHECK(load["retries"] == 3);
    CHECK(load["retry_delay"] == nlohmann::json({{"__type", "TimeDelta"}, {"days", 0}, {"seconds", 90}, {"microseconds", 0}}));
    CHECK(load["execution_timeout"]["seconds"] == 5400);
    CHECK(load["downstream_task_ids"] == nlohmann::json({"mart"}));
    CHECK(load["is_mapped"] == false);
    CHECK(load["pool"] == "default_pool");
    CHECK(load["trigger_rule"] == "all_success");
    CHECK(load["template_fields"].is_array());
    CHECK(load["start_date"] == "2024-01-01T00:00:00+00:00");
    // Airflow's ClassReference has no null, and its sub_dag is a DAG or absent.
    CHECK(load["class_ref"] == nlohmann::json({{"class_name", "bash"}, {"module_path", "mayaflow.operators"}}));
    CHECK_FALSE(load.contains("sub_dag"));
    CHECK(f.get("/api/v1/dags/sales_daily/tasks?order_by=-task_id")["tasks"][0]["task_id"] == "mart");
    auto mart = f.get("/api/v1/dags/sales_daily/tasks/mart");
    CHECK(mart["trigger_rule"] == "all_done");
    CHECK(mart["execution_timeout"].is_null());
    check_problem(f.call("GET", "/api/v1/dags/sales_daily/tasks/nope"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/sales_daily/tasks/%27%20OR%201%3D1%20--"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/nope/tasks"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/sales_daily/tasks?order_by=bogus"), 400, "Bad Request");
}

TEST_CASE("a DAG is deleted only once its file is gone", "[dags]") {
    DagsFixture f;
    f.trigger("sales_daily", "2024-02-01T00:00:00Z", "kept_until_deleted");
    auto refused = f.call("DELETE", "/api/v1/dags/sales_daily");
    check_problem(refused, 409, "Conflict");
    CHECK_THAT(f.json(refused)["detail"].get<std::string>(), Catch::Contains("remove the file"));
    check_problem(f.call("DELETE", "/api/v1/dags/nope"), 404, "Not Found");

    REQUIRE(f.store->record_dag_file_deleted(f.sales->fileloc));
    f.core->remove_dag("sales_daily");
    auto deleted = f.call("DELETE", "/api/v1/dags/sales_daily");
    INFO(deleted.body);
    CHECK(deleted.status == 204);
    check_problem(f.call("GET", "/api/v1/dags/sales_daily"), 404, "Not Found");
    CHECK(f.get("/api/v1/dags/~/dagRuns")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags?only_active=false")["total_entries"] == 2);
    f.as(Role::viewer);
    check_problem(f.call("DELETE", "/api/v1/dags/baby_report"), 403, "Forbidden");
}

}  // namespace mayaflow
