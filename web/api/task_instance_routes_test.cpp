// Task instances over a real store, with a real SchedulerCore answering the commands.

#include <catch2/catch.hpp>

#include "tests/web/scheduled_api_fixture.h"

namespace mayaflow {
namespace {

using testing::check_problem;
using testing::ScheduledApiFixture;

const char* kChain = R"(
dag_id: chain
tasks:
  - task_id: extract
    operator: bash
    bash_command: "true"
  - task_id: load
    operator: bash
    bash_command: "true"
    pool: warehouse
    depends_on: [extract]
  - task_id: report
    operator: bash
    bash_command: "true"
    depends_on: [load]
)";

const char* kSolo = R"(
dag_id: solo
tasks:
  - task_id: only
    operator: bash
    bash_command: "true"
    retries: 2
)";

struct TasksFixture : ScheduledApiFixture {
    TasksFixture() {
        REQUIRE(store->set_pool(PoolRecord{"warehouse", 4, "the warehouse's slots"}));
        core->set_pool("warehouse", 4);
        add_dag(kChain);
        add_dag(kSolo);
    }
    nlohmann::json get(const std::string& target, int status = 200) {
        auto response = call("GET", target);
        INFO(target << " -> " << response.body);
        CHECK(response.status == status);
        return json(response);
    }
    static std::vector<std::string> ids(const nlohmann::json& body) {
        std::vector<std::string> found;
        for (const auto& ti : body["task_instances"]) {
            found.push_back(ti["dag_run_id"].get<std::string>() + "." + ti["task_id"].get<std::string>());
        }
        return found;
    }
    nlohmann::json post(const std::string& target, const std::string& body) {
        auto response = call("POST", target, body);
        INFO(target << " " << body << " -> " << response.body);
        CHECK(response.status == 200);
        return json(response);
    }
};

}  // namespace

TEST_CASE("a task instance in Airflow's TaskInstance shape", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    auto running = f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/extract");
    CHECK(running["task_id"] == "extract");
    CHECK(running["dag_id"] == "chain");
    CHECK(running["dag_run_id"] == "r1");
    CHECK(running["execution_date"] == "2024-02-01T00:00:00+00:00");
    CHECK(running["state"] == "queued");
    CHECK(running["try_number"] == 1);
    CHECK(running["max_tries"] == 1);
    CHECK(running["map_index"] == -1);
    CHECK(running["pool"] == "default_pool");
    CHECK(running["pool_slots"] == 1);
    CHECK(running["queue"] == "default");
    CHECK(running["operator"] == "bash");
    CHECK(running["priority_weight"] == 3);  // itself and two downstream
    CHECK(running["executor_config"] == "{}");
    CHECK(running["rendered_fields"] == nlohmann::json::object());
    CHECK(running["trigger"].is_null());
    CHECK(running["triggerer_job"].is_null());
    CHECK(running["note"].is_null());
    for (const char* key : {"duration", "end_date", "hostname", "unixname", "queued_when", "pid", "start_date"}) {
        CHECK(running.contains(key));
    }
    f.finish("extract", TaskOutcome::success);
    auto done = f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/extract");
    CHECK(done["state"] == "success");
    CHECK(done["duration"].is_number());
    auto waiting = f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/report");
    CHECK(waiting["state"].is_null());  // Airflow's None
    CHECK(waiting["try_number"] == 0);
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/load")["pool"] == "warehouse");

    check_problem(f.call("GET", "/api/v1/dags/chain/dagRuns/r1/taskInstances/nope"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/chain/dagRuns/nope/taskInstances/extract"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/nope/dagRuns/r1/taskInstances/extract"), 404, "Not Found");
}

TEST_CASE("a task instance's tries: each as it ended, paged, ordered, one by number", "[taskinstances]") {
    TasksFixture f;
    f.trigger("solo", "2024-02-01T00:00:00Z", "r1");
    const std::string tries = "/api/v1/dags/solo/dagRuns/r1/taskInstances/only/tries";
    auto first = f.get(tries);
    REQUIRE(first["total_entries"] == 1);  // queued: try 1 has begun
    CHECK(first["task_instances"][0]["state"] == "queued");
    f.clock.advance(std::chrono::seconds(30));
    f.finish("only", TaskOutcome::failed);  // retries left: up_for_retry
    f.clock.advance(std::chrono::minutes(10));
    f.turn();
    f.clock.advance(std::chrono::seconds(5));
    f.finish("only", TaskOutcome::success);

    auto all = f.get(tries);
    REQUIRE(all["total_entries"] == 2);
    CHECK(all["task_instances"][0]["try_number"] == 1);
    CHECK(all["task_instances"][0]["state"] == "up_for_retry");
    CHECK(all["task_instances"][0]["duration"] == 30.0);
    CHECK(all["task_instances"][1]["try_number"] == 2);
    CHECK(all["task_instances"][1]["state"] == "success");
    CHECK(all["task_instances"][1]["duration"] == 5.0);
    CHECK(all["task_instances"][1]["dag_run_id"] == "r1");
    CHECK(all["task_instances"][1]["operator"] == "bash");

    auto newest_first = f.get(tries + "?order_by=-try_number&limit=1");
    CHECK(newest_first["total_entries"] == 2);
    REQUIRE(newest_first["task_instances"].size() == 1);
    CHECK(newest_first["task_instances"][0]["try_number"] == 2);
    CHECK(f.get(tries + "?order_by=duration")["task_instances"][0]["try_number"] == 2);
    CHECK(f.get(tries + "?offset=1")["task_instances"][0]["try_number"] == 2);

    auto one = f.get(tries + "/1");
    CHECK(one["try_number"] == 1);
    CHECK(one["state"] == "up_for_retry");
    check_problem(f.call("GET", tries + "/3"), 404, "Not Found");
    for (const char* bad : {"/0", "/-1", "/x", "/1.5", "/99999999999"}) {
        INFO(bad);
        check_problem(f.call("GET", tries + bad), 400, "Bad Request");
    }
    check_problem(f.call("GET", tries + "?order_by=pid"), 400, "Bad Request");
    check_problem(f.call("GET", "/api/v1/dags/solo/dagRuns/nope/taskInstances/only/tries"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/solo/dagRuns/r1/taskInstances/nope/tries/1"), 404, "Not Found");

    // Cleared, the task runs again as try 3; tries 1 and 2 keep how they ended.
    f.post("/api/v1/dags/solo/clearTaskInstances", R"({"dry_run": false, "only_failed": false, "dag_run_id": "r1"})");
    f.turn();
    auto after_clear = f.get(tries);
    REQUIRE(after_clear["total_entries"] == 3);
    CHECK(after_clear["task_instances"][1]["state"] == "success");
    CHECK(after_clear["task_instances"][2]["try_number"] == 3);

    // A task that has not started has no tries.
    f.trigger("chain", "2024-02-01T00:00:00Z", "c1");
    CHECK(f.get("/api/v1/dags/chain/dagRuns/c1/taskInstances/report/tries")["total_entries"] == 0);
}

TEST_CASE("task instance lists: per run, ~, filters, order, pages", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    f.trigger("chain", "2024-02-02T00:00:00Z", "r2");
    f.trigger("solo", "2024-02-03T00:00:00Z", "s1");
    f.finish("extract", TaskOutcome::success);  // r1's

    auto run = f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances");
    CHECK(run["total_entries"] == 3);
    CHECK(f.ids(run) == std::vector<std::string>{"r1.extract", "r1.load", "r1.report"});
    CHECK(f.get("/api/v1/dags/chain/dagRuns/~/taskInstances")["total_entries"] == 6);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances")["total_entries"] == 7);
    CHECK(f.get("/api/v1/dags/~/dagRuns/s1/taskInstances")["total_entries"] == 1);

    auto page = f.get("/api/v1/dags/~/dagRuns/~/taskInstances?limit=2&offset=2");
    CHECK(page["total_entries"] == 7);
    CHECK(f.ids(page) == std::vector<std::string>{"r1.report", "r2.extract"});
    CHECK(f.ids(f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances?order_by=-task_id")) ==
          std::vector<std::string>{"r1.report", "r1.load", "r1.extract"});
    CHECK(f.ids(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?order_by=-execution_date&limit=1")) ==
          std::vector<std::string>{"s1.only"});

    CHECK(f.ids(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?state=success")) ==
          std::vector<std::string>{"r1.extract"});
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?state=queued,success")["total_entries"] == 4);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?state=none")["total_entries"] == 3);
    CHECK(f.ids(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?pool=warehouse")) ==
          std::vector<std::string>{"r1.load", "r2.load"});
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?queue=default")["total_entries"] == 7);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?queue=celery")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?execution_date_gte=2024-02-02T00:00:00Z")["total_entries"] ==
          4);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?execution_date_lte=2024-02-01T00:00:00Z")["total_entries"] ==
          3);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?end_date_gte=2024-01-01T00:00:00Z")["total_entries"] == 1);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?start_date_gte=2024-01-01T00:00:00Z")["total_entries"] == 4);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?start_date_lte=2023-01-01T00:00:00Z")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?duration_gte=0")["total_entries"] == 1);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?duration_lte=-1")["total_entries"] == 0);
}

TEST_CASE("task instance lists refuse bad filters and treat SQL text as text", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    for (const char* query : {"state=bogus", "state=%27%20OR%201%3D1%20--", "order_by=bogus",
                              "order_by=task_id%20DESC;%20DROP%20TABLE%20task_instance", "duration_gte=long",
                              "duration_lte=1e999", "execution_date_gte=%25", "end_date_lte=_", "limit=1.5"}) {
        INFO(query);
        check_problem(f.call("GET", std::string("/api/v1/dags/~/dagRuns/~/taskInstances?") + query), 400,
                      "Bad Request");
    }
    for (const char* pool : {"%27%20OR%201%3D1%20--", "%25", "_"}) {
        INFO(pool);
        CHECK(f.get(std::string("/api/v1/dags/~/dagRuns/~/taskInstances?pool=") + pool)["total_entries"] == 0);
        CHECK(f.get(std::string("/api/v1/dags/~/dagRuns/~/taskInstances?queue=") + pool)["total_entries"] == 0);
    }
    // No such DAG or run: an empty list, as Airflow's filter answers.
    CHECK(f.get("/api/v1/dags/%25/dagRuns/~/taskInstances")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/chain/dagRuns/%27%20OR%201%3D1%20--/taskInstances")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/nope/dagRuns/r1/taskInstances")["task_instances"].empty());
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances?executor=LocalExecutor")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/~/dagRuns/%25/taskInstances")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/~/dagRuns/~/taskInstances")["total_entries"] == 3);
}

TEST_CASE("the batch list of task instances", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    f.trigger("solo", "2024-02-03T00:00:00Z", "s1");
    const std::string target = "/api/v1/dags/~/dagRuns/~/taskInstances/list";
    CHECK(f.post(target, "{}")["total_entries"] == 4);
    CHECK(f.ids(f.post(target, R"({"dag_ids": ["solo"]})")) == std::vector<std::string>{"s1.only"});
    CHECK(f.ids(f.post(target, R"({"dag_run_ids": ["r1"], "task_ids": ["load"]})")) ==
          std::vector<std::string>{"r1.load"});
    CHECK(f.post(target, R"({"state": ["queued"]})")["total_entries"] == 2);
    // Airflow's TaskState has null for a task instance not yet considered: mayaflow's none.
    auto unconsidered = f.post(target, R"({"state": ["none"]})")["total_entries"];
    CHECK(unconsidered == 2);
    CHECK(f.post(target, R"({"state": [null]})")["total_entries"] == unconsidered);
    CHECK(f.post(target, R"({"state": [null, "queued"]})")["total_entries"] == 4);
    CHECK(f.ids(f.post(target, R"({"pool": ["warehouse"]})")) == std::vector<std::string>{"r1.load"});
    CHECK(f.post(target, R"({"queue": ["default"], "executor": []})")["total_entries"] == 4);
    CHECK(f.post(target, R"({"executor": ["CeleryExecutor"]})")["total_entries"] == 0);
    CHECK(f.post(target, R"({"execution_date_gte": "2024-02-02T00:00:00Z"})")["total_entries"] == 1);
    CHECK(f.post(target, R"({"duration_gte": 0})")["total_entries"] == 0);
    auto page = f.post(target, R"({"page_limit": 1, "page_offset": 1, "order_by": "-task_id"})");
    CHECK(page["total_entries"] == 4);
    CHECK(f.ids(page) == std::vector<std::string>{"s1.only"});  // report, only, load, extract
    CHECK(f.post(target, R"({"dag_ids": ["' OR 1=1 --"], "task_ids": ["%", "_"]})")["total_entries"] == 0);
    for (const char* bad : {"{", "[]", R"({"dag_ids": "chain"})", R"({"state": ["bogus"]})", R"({"state": "queued"})",
                            R"({"page_limit": -1})", R"({"page_offset": "1"})", R"({"duration_gte": "1"})",
                            R"({"start_date_lte": "later"})", R"({"unknown": true})", R"({"order_by": 1})"}) {
        INFO(bad);
        check_problem(f.call("POST", target, bad), 400, "Bad Request");
    }
}

TEST_CASE("marking one task instance, with a dry run first", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    const std::string target = "/api/v1/dags/chain/dagRuns/r1/taskInstances/extract";
    auto dry = f.call("PATCH", target, R"({"dry_run": true, "new_state": "failed"})");
    INFO(dry.body);
    REQUIRE(dry.status == 200);
    CHECK(f.json(dry) == nlohmann::json({{"task_id", "extract"},
                                         {"dag_id", "chain"},
                                         {"dag_run_id", "r1"},
                                         {"execution_date", "2024-02-01T00:00:00+00:00"}}));
    CHECK(f.get(target)["state"] == "queued");
    auto marked = f.call("PATCH", target, R"({"new_state": "success"})");
    REQUIRE(marked.status == 200);
    CHECK(f.get(target)["state"] == "success");
    CHECK(f.executor.cancelled.size() == 1);  // its try was ended

    for (const char* bad : {"{", "{}", R"({"new_state": "running"})", R"({"new_state": true})",
                            R"({"new_state": "success", "dry_run": "yes"})", R"({"new_state": "success", "x": 1})"}) {
        INFO(bad);
        check_problem(f.call("PATCH", target, bad), 400, "Bad Request");
    }
    check_problem(f.call("PATCH", "/api/v1/dags/chain/dagRuns/r1/taskInstances/nope", R"({"new_state": "success"})"),
                  404, "Not Found");
}

TEST_CASE("a task instance's note", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    const std::string target = "/api/v1/dags/chain/dagRuns/r1/taskInstances/load/setNote";
    auto response = f.call("PATCH", target, R"({"note": "flaky upstream"})");
    INFO(response.body);
    REQUIRE(response.status == 200);
    CHECK(f.json(response)["note"] == "flaky upstream");
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/load")["note"] == "flaky upstream");
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/extract")["note"].is_null());
    CHECK(f.json(f.call("PATCH", target, R"({"note": null})"))["note"].is_null());
    check_problem(f.call("PATCH", target, R"({"note": 5})"), 400, "Bad Request");
    check_problem(f.call("PATCH", target, R"({})"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/chain/dagRuns/r1/taskInstances/nope/setNote", R"({"note": "x"})"), 404,
                  "Not Found");
}

TEST_CASE("clearTaskInstances: dry run by default, only_failed by default, downstream, ranges", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    f.finish("extract", TaskOutcome::success);
    f.finish("load", TaskOutcome::failed);
    f.trigger("chain", "2024-02-02T00:00:00Z", "r2");
    const std::string target = "/api/v1/dags/chain/clearTaskInstances";

    // Defaults: a dry run of the failed ones (load failed, report upstream_failed) in every run.
    auto dry = f.post(target, "{}");
    CHECK(f.ids(dry) == std::vector<std::string>{"r1.load", "r1.report"});
    CHECK(dry["task_instances"][0]["execution_date"] == "2024-02-01T00:00:00+00:00");
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1")["state"] == "failed");

    CHECK(f.ids(f.post(target, R"({"task_ids": ["extract"], "only_failed": false, "include_downstream": true,
                                   "dag_run_id": "r1"})")) ==
          std::vector<std::string>{"r1.extract", "r1.load", "r1.report"});
    CHECK(f.ids(f.post(target, R"({"task_ids": ["load"], "only_failed": false, "include_upstream": true,
                                   "dag_run_id": "r1"})")) == std::vector<std::string>{"r1.extract", "r1.load"});
    CHECK(f.ids(f.post(target, R"({"only_failed": false, "start_date": "2024-02-02T00:00:00Z"})")).size() == 3);
    CHECK(f.ids(f.post(target, R"({"only_failed": false, "only_running": true})")) ==
          std::vector<std::string>{"r2.extract"});
    CHECK(f.ids(f.post(target, R"({"dag_run_id": "r1", "include_future": true, "only_failed": false,
                                   "task_ids": ["report"]})")) == std::vector<std::string>{"r1.report", "r2.report"});

    auto cleared = f.post(target, R"({"dry_run": false, "dag_run_id": "r1", "reset_dag_runs": true})");
    CHECK(f.ids(cleared) == std::vector<std::string>{"r1.load", "r1.report"});
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1")["state"] != "failed");
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/extract")["state"] == "success");

    check_problem(f.call("POST", target, R"({"task_ids": ["nope"]})"), 404, "Not Found");
    check_problem(f.call("POST", target, R"({"dag_run_id": "nope"})"), 404, "Not Found");
    check_problem(f.call("POST", "/api/v1/dags/nope/clearTaskInstances", "{}"), 404, "Not Found");
    for (const char* bad : {"{", "[1]", R"({"dry_run": 1})", R"({"task_ids": "load"})", R"({"task_ids": [1]})",
                            R"({"only_failed": true, "only_running": true})", R"({"start_date": "x"})",
                            R"({"dag_run_id": "r1", "start_date": "2024-01-01T00:00:00Z"})", R"({"unknown": 1})",
                            R"({"dag_run_id": 7})"}) {
        INFO(bad);
        check_problem(f.call("POST", target, bad), 400, "Bad Request");
    }
}

TEST_CASE("updateTaskInstancesState: relatives, past and future, dry run by default", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    f.trigger("chain", "2024-02-02T00:00:00Z", "r2");
    f.trigger("chain", "2024-02-03T00:00:00Z", "r3");
    const std::string target = "/api/v1/dags/chain/updateTaskInstancesState";

    auto dry = f.post(target, R"({"task_id": "load", "dag_run_id": "r2", "new_state": "success",
                                  "include_downstream": true})");
    CHECK(f.ids(dry) == std::vector<std::string>{"r2.load", "r2.report"});
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r2/taskInstances/load")["state"].is_null());

    CHECK(f.ids(f.post(target, R"({"task_id": "load", "execution_date": "2024-02-02T00:00:00Z",
                                   "new_state": "skipped", "include_past": true})")) ==
          std::vector<std::string>{"r1.load", "r2.load"});
    CHECK(f.ids(f.post(target, R"({"task_id": "load", "dag_run_id": "r2", "new_state": "failed",
                                   "include_future": true, "include_upstream": true})")) ==
          std::vector<std::string>{"r2.extract", "r2.load", "r3.extract", "r3.load"});

    auto done = f.post(target, R"({"task_id": "extract", "dag_run_id": "r1", "new_state": "success",
                                   "dry_run": false})");
    CHECK(f.ids(done) == std::vector<std::string>{"r1.extract"});
    CHECK(f.get("/api/v1/dags/chain/dagRuns/r1/taskInstances/extract")["state"] == "success");

    check_problem(f.call("POST", target, R"({"task_id": "nope", "dag_run_id": "r1", "new_state": "success"})"), 404,
                  "Not Found");
    check_problem(f.call("POST", target, R"({"task_id": "load", "dag_run_id": "nope", "new_state": "success"})"), 404,
                  "Not Found");
    check_problem(f.call("POST", target, R"({"task_id": "load", "execution_date": "2020-01-01T00:00:00Z",
                                            "new_state": "success"})"),
                  404, "Not Found");
    for (const char* bad : {"{", R"({"dag_run_id": "r1", "new_state": "success"})",
                            R"({"task_id": "load", "new_state": "success"})",
                            R"({"task_id": "load", "dag_run_id": "r1", "execution_date": "2024-02-01T00:00:00Z",
                               "new_state": "success"})",
                            R"({"task_id": "load", "dag_run_id": "r1", "new_state": "up_for_retry"})",
                            R"({"task_id": "load", "dag_run_id": "r1", "new_state": "success", "include_past": "y"})",
                            R"({"task_id": "load", "dag_run_id": "r1", "new_state": "success", "map_indexes": [1]})",
                            R"({"task_id": ["load"], "dag_run_id": "r1", "new_state": "success"})"}) {
        INFO(bad);
        check_problem(f.call("POST", target, bad), 400, "Bad Request");
    }
}

TEST_CASE("updateTaskInstancesState marks failed a task and its downstream, whatever their names' order", "[taskinstances]") {
    TasksFixture f;
    // z_first runs before a_second: by name the downstream task comes first.
    f.add_dag(R"(
dag_id: backwards
tasks:
  - task_id: z_first
    operator: bash
    bash_command: "true"
  - task_id: a_second
    operator: bash
    bash_command: "true"
    depends_on: [z_first]
)");
    f.trigger("backwards", "2024-02-01T00:00:00Z", "r1");
    f.finish("z_first", TaskOutcome::success);
    f.finish("a_second", TaskOutcome::success);
    auto marked = f.post("/api/v1/dags/backwards/updateTaskInstancesState",
                         R"({"task_id": "z_first", "dag_run_id": "r1", "new_state": "failed",
                             "include_downstream": true, "dry_run": false})");
    CHECK(f.ids(marked).size() == 2);
    f.turn();
    CHECK(f.get("/api/v1/dags/backwards/dagRuns/r1/taskInstances/z_first")["state"] == "failed");
    CHECK(f.get("/api/v1/dags/backwards/dagRuns/r1/taskInstances/a_second")["state"] == "failed");
    CHECK(f.get("/api/v1/dags/backwards/dagRuns/r1")["state"] == "failed");
}

TEST_CASE("a viewer reads task instances but cannot change them", "[taskinstances]") {
    TasksFixture f;
    f.trigger("chain", "2024-02-01T00:00:00Z", "r1");
    f.as(Role::viewer);
    CHECK(f.call("GET", "/api/v1/dags/chain/dagRuns/r1/taskInstances").status == 200);
    CHECK(f.call("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "{}").status == 200);
    check_problem(f.call("PATCH", "/api/v1/dags/chain/dagRuns/r1/taskInstances/load", R"({"new_state": "success"})"),
                  403, "Forbidden");
    check_problem(f.call("POST", "/api/v1/dags/chain/clearTaskInstances", "{}"), 403, "Forbidden");
    check_problem(f.call("POST", "/api/v1/dags/chain/updateTaskInstancesState", "{}"), 403, "Forbidden");
    check_problem(f.call("PATCH", "/api/v1/dags/chain/dagRuns/r1/taskInstances/load/setNote", R"({"note": "x"})"), 403,
                  "Forbidden");
}

}  // namespace mayaflow
