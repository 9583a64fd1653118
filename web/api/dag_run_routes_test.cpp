// /dags/{dag_id}/dagRuns over a real store, with a real SchedulerCore answering the commands.

#include <catch2/catch.hpp>

#include <map>

#include "tests/web/scheduled_api_fixture.h"

namespace mayaflow {
namespace {

using testing::check_problem;
using testing::ScheduledApiFixture;

const char* kEtl = R"(
dag_id: etl
tags: [sales]
tasks:
  - task_id: extract
    operator: bash
    bash_command: "true"
  - task_id: load
    operator: bash
    bash_command: "true"
    depends_on: [extract]
)";

const char* kOther = R"(
dag_id: other
tasks:
  - task_id: only
    operator: bash
    bash_command: "true"
)";

struct RunsFixture : ScheduledApiFixture {
    RunsFixture() {
        add_dag(kEtl);
        add_dag(kOther);
    }
    nlohmann::json get(const std::string& target, int status = 200) {
        auto response = call("GET", target);
        INFO(target << " -> " << response.body);
        CHECK(response.status == status);
        return json(response);
    }
    std::vector<std::string> run_ids(const nlohmann::json& body) {
        std::vector<std::string> ids;
        for (const auto& run : body["dag_runs"]) ids.push_back(run["dag_run_id"]);
        return ids;
    }
};

}  // namespace

TEST_CASE("a run in Airflow's DAGRun shape", "[dagruns]") {
    RunsFixture f;
    auto run_id = f.trigger("etl", "2024-02-01T00:00:00Z", "first");
    auto body = f.get("/api/v1/dags/etl/dagRuns/first");
    CHECK(body["dag_run_id"] == "first");
    CHECK(body["dag_id"] == "etl");
    CHECK(body["logical_date"] == "2024-02-01T00:00:00+00:00");
    CHECK(body["execution_date"] == body["logical_date"]);
    CHECK(body["state"] == "running");
    CHECK(body["run_type"] == "manual");
    CHECK(body["external_trigger"] == true);
    CHECK(body["conf"] == nlohmann::json::object());
    CHECK(body["note"].is_null());
    CHECK(body["last_scheduling_decision"].is_null());
    CHECK(body["data_interval_start"].is_string());
    CHECK(body["data_interval_end"].is_string());
    CHECK(body["start_date"].is_string());
    CHECK(body["end_date"].is_null());
    CHECK(body["queued_at"].is_string());
    CHECK(body["dag_version"] == 1);
    CHECK(body["backfill_id"].is_null());
    for (const char* key : {"dag_run_id", "dag_id", "logical_date", "execution_date", "start_date", "end_date",
                            "data_interval_start", "data_interval_end", "last_scheduling_decision", "run_type",
                            "state", "external_trigger", "conf", "note", "queued_at"}) {
        CHECK(body.contains(key));
    }
    check_problem(f.call("GET", "/api/v1/dags/etl/dagRuns/nope"), 404, "Not Found");
    check_problem(f.call("GET", "/api/v1/dags/nope/dagRuns/first"), 404, "Not Found");
    CHECK_THAT(f.json(f.call("GET", "/api/v1/dags/nope/dagRuns/first"))["detail"].get<std::string>(),
               Catch::Contains("no DAG"));
}

TEST_CASE("run lists: filters, order, pages and totals", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    f.trigger("etl", "2024-02-02T00:00:00Z", "b");
    f.trigger("etl", "2024-02-03T00:00:00Z", "c");
    f.trigger("other", "2024-02-04T00:00:00Z", "d");
    f.finish("", TaskOutcome::failed);  // a's extract fails: a fails

    auto all = f.get("/api/v1/dags/etl/dagRuns");
    CHECK(all["total_entries"] == 3);
    CHECK(f.run_ids(all) == std::vector<std::string>{"a", "b", "c"});
    CHECK(f.get("/api/v1/dags/~/dagRuns")["total_entries"] == 4);

    auto page = f.get("/api/v1/dags/etl/dagRuns?limit=1&offset=1");
    CHECK(page["total_entries"] == 3);
    CHECK(f.run_ids(page) == std::vector<std::string>{"b"});

    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?order_by=-execution_date")) ==
          std::vector<std::string>{"c", "b", "a"});
    CHECK(f.run_ids(f.get("/api/v1/dags/~/dagRuns?order_by=-dag_run_id&limit=2")) ==
          std::vector<std::string>{"d", "c"});
    CHECK(f.run_ids(f.get("/api/v1/dags/~/dagRuns?order_by=dag_id")).back() == "d");

    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?state=failed")) == std::vector<std::string>{"a"});
    CHECK(f.get("/api/v1/dags/etl/dagRuns?state=failed&state=running")["total_entries"] == 3);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?state=failed,running")["total_entries"] == 3);
    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?execution_date_gte=2024-02-02T00:00:00%2B00:00")) ==
          std::vector<std::string>{"b", "c"});
    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?execution_date_lte=2024-02-02T00:00:00Z")) ==
          std::vector<std::string>{"a", "b"});
    CHECK(f.get("/api/v1/dags/etl/dagRuns?end_date_gte=2024-01-01T00:00:00Z")["total_entries"] == 1);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?start_date_lte=2023-01-01T00:00:00Z")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?start_date_gte=2024-01-01T00:00:00Z")["total_entries"] == 3);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?updated_at_gte=2000-01-01T00:00:00Z")["total_entries"] == 3);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?updated_at_lte=2000-01-01T00:00:00Z")["total_entries"] == 0);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?run_type=manual")["total_entries"] == 3);
    CHECK(f.get("/api/v1/dags/etl/dagRuns?run_type=scheduled")["total_entries"] == 0);
}

TEST_CASE("run lists read a '+' sent unencoded (a space) before an offset, as Airflow does", "[dagruns][airflow]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    f.trigger("etl", "2024-02-03T00:00:00Z", "b");
    // curl 'http://…/dagRuns?execution_date_gte=2024-02-02T00:00:00+00:00' sends a space for the '+'.
    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?execution_date_gte=2024-02-02T00:00:00%2000:00")) ==
          std::vector<std::string>{"b"});
    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?execution_date_lte=2024-02-02T09:00:00%2009:00")) ==
          std::vector<std::string>{"a"});
    // A space may still stand for the T; a space anywhere else is still refused.
    CHECK(f.run_ids(f.get("/api/v1/dags/etl/dagRuns?execution_date_gte=2024-02-02%2000:00:00Z")) ==
          std::vector<std::string>{"b"});
    check_problem(f.call("GET", "/api/v1/dags/etl/dagRuns?execution_date_gte=2024%2002-02"), 400, "Bad Request");
}

TEST_CASE("run lists refuse bad filters and treat SQL text as text", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    for (const char* query : {"state=bogus", "state=%27%20OR%201%3D1%20--", "order_by=bogus",
                              "order_by=id;DROP%20TABLE%20dag_run", "execution_date_gte=yesterday",
                              "start_date_lte=%27%20OR%201%3D1%20--", "limit=-1", "offset=x", "run_type=%25",
                              "updated_at_gte=_"}) {
        INFO(query);
        check_problem(f.call("GET", std::string("/api/v1/dags/etl/dagRuns?") + query), 400, "Bad Request");
    }
    // A DAG id with quotes, % or _ names no DAG: its list is empty (200, as Airflow's filter answers).
    for (const char* dag : {"%27%20OR%201%3D1%20--", "%25", "_", "et_"}) {
        INFO(dag);
        auto listed = f.get(std::string("/api/v1/dags/") + dag + "/dagRuns");
        CHECK(listed["dag_runs"].empty());
        CHECK(listed["total_entries"] == 0);
    }
    CHECK(f.get("/api/v1/dags/etl/dagRuns")["total_entries"] == 1);  // nothing was dropped
}

TEST_CASE("the batch list of runs", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    f.trigger("other", "2024-02-02T00:00:00Z", "b");
    auto body = f.json(f.call("POST", "/api/v1/dags/~/dagRuns/list",
                              R"({"dag_ids": ["etl", "other"], "order_by": "-execution_date", "page_limit": 1})"));
    CHECK(body["total_entries"] == 2);
    CHECK(f.run_ids(body) == std::vector<std::string>{"b"});
    body = f.json(f.call("POST", "/api/v1/dags/~/dagRuns/list",
                         R"({"states": ["running"], "execution_date_lte": "2024-02-01T00:00:00Z"})"));
    CHECK(f.run_ids(body) == std::vector<std::string>{"a"});
    body = f.json(f.call("POST", "/api/v1/dags/~/dagRuns/list", R"({"dag_ids": ["' OR 1=1 --", "%", "_"]})"));
    CHECK(body["total_entries"] == 0);
    CHECK(f.json(f.call("POST", "/api/v1/dags/~/dagRuns/list", "{}"))["total_entries"] == 2);
    for (const char* bad : {"{", "[]", R"({"dag_ids": "etl"})", R"({"dag_ids": [1]})", R"({"states": ["bogus"]})",
                            R"({"page_limit": "10"})", R"({"page_limit": 0})", R"({"page_offset": -1})",
                            R"({"order_by": "nope"})", R"({"start_date_gte": "soon"})", R"({"unknown": 1})"}) {
        INFO(bad);
        check_problem(f.call("POST", "/api/v1/dags/~/dagRuns/list", bad), 400, "Bad Request");
    }
}

TEST_CASE("triggering a run: conf, run id, logical date, note; conflicts and bad input", "[dagruns]") {
    RunsFixture f;
    auto response = f.call("POST", "/api/v1/dags/etl/dagRuns",
                           R"({"dag_run_id": "ci_1", "logical_date": "2024-05-01T00:00:00Z",
                               "conf": {"table": "sales"}, "note": "from CI"})");
    INFO(response.body);
    REQUIRE(response.status == 200);
    auto body = f.json(response);
    CHECK(body["dag_run_id"] == "ci_1");
    // Queued by the trigger; the scheduler's turn that took the command may have started it.
    CHECK((body["state"] == "queued" || body["state"] == "running"));
    CHECK(body["conf"] == nlohmann::json({{"table", "sales"}}));
    CHECK(body["note"] == "from CI");
    CHECK(body["logical_date"] == "2024-05-01T00:00:00+00:00");

    // execution_date is logical_date's older name.
    body = f.json(f.call("POST", "/api/v1/dags/etl/dagRuns", R"({"execution_date": "2024-05-02T00:00:00Z"})"));
    CHECK(body["logical_date"] == "2024-05-02T00:00:00+00:00");
    CHECK_THAT(body["dag_run_id"].get<std::string>(), Catch::StartsWith("manual__"));
    // An empty body triggers a run now.
    CHECK(f.call("POST", "/api/v1/dags/other/dagRuns", "").status == 200);

    auto taken = f.call("POST", "/api/v1/dags/etl/dagRuns", R"({"dag_run_id": "ci_1"})");
    check_problem(taken, 409, "Conflict");
    CHECK_THAT(taken.body, Catch::Contains("choose another run id") && !Catch::Contains("--run-id"));
    check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns", R"({"logical_date": "2024-05-01T00:00:00Z"})"), 409,
                  "Conflict");
    check_problem(f.call("POST", "/api/v1/dags/nope/dagRuns", "{}"), 404, "Not Found");
    const std::string long_note = R"({"note": ")" + std::string(1001, 'n') + R"("})";  // Airflow keeps 1,000
    for (const char* bad : {"{", "null", R"({"conf": "x"})", R"({"conf": [1]})", R"({"dag_run_id": 5})",
                            R"({"logical_date": "someday"})", R"({"state": "success"})",
                            R"({"logical_date": "2024-06-01T00:00:00Z", "execution_date": "2024-06-02T00:00:00Z"})",
                            R"({"data_interval_start": "2024-06-01T00:00:00Z"})", R"({"note": 3})",
                            R"({"dag_run_id": ""})", R"({"dag_run_id": "~"})",
                            long_note.c_str()}) {
        INFO(bad);
        check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns", bad), 400, "Bad Request");
    }
    // A run id with SQL in it is just a run id.
    response = f.call("POST", "/api/v1/dags/etl/dagRuns", R"({"dag_run_id": "x' OR 1=1 --"})");
    CHECK(f.get("/api/v1/dags/etl/dagRuns")["total_entries"] == (response.status == 200 ? 3 : 2));
}

TEST_CASE("a paused DAG can be triggered; its run waits queued", "[dagruns]") {
    ScheduledApiFixture f;
    f.add_dag(kOther, /*paused=*/true);
    auto response = f.call("POST", "/api/v1/dags/other/dagRuns", R"({"dag_run_id": "waits"})");
    REQUIRE(response.status == 200);
    f.turn();
    CHECK(f.json(f.call("GET", "/api/v1/dags/other/dagRuns/waits"))["state"] == "queued");
}

TEST_CASE("setting a run's state, deleting it, its note", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    auto response = f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": "success"})");
    INFO(response.body);
    REQUIRE(response.status == 200);
    CHECK(f.json(response)["state"] == "success");
    auto tis = f.json(f.call("GET", "/api/v1/dags/etl/dagRuns/a/taskInstances"));
    for (const auto& ti : tis["task_instances"]) CHECK(ti["state"] == "success");

    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": "running"})"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": 1})"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": "failed", "x": 1})"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", "{"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/nope", R"({"state": "failed"})"), 404, "Not Found");

    f.trigger("etl", "2024-02-02T00:00:00Z", "b");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/b", R"({"state": "queued"})"), 409, "Conflict");
    // Queued again; its tasks all succeeded, so it ends as soon as it starts.
    response = f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": "queued"})");
    REQUIRE(response.status == 200);
    CHECK(f.json(response)["end_date"].is_null() == (f.json(response)["state"] == "queued"));

    response = f.call("PATCH", "/api/v1/dags/etl/dagRuns/b/setNote", R"({"note": "looked at it"})");
    REQUIRE(response.status == 200);
    CHECK(f.json(response)["note"] == "looked at it");
    CHECK(f.json(f.call("GET", "/api/v1/dags/etl/dagRuns/b"))["note"] == "looked at it");
    CHECK(f.json(f.call("PATCH", "/api/v1/dags/etl/dagRuns/b/setNote", R"({"note": null})"))["note"].is_null());
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/b/setNote", "{}"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/b/setNote", R"({"note": 1})"), 400, "Bad Request");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/nope/setNote", R"({"note": "x"})"), 404, "Not Found");

    CHECK(f.call("DELETE", "/api/v1/dags/etl/dagRuns/b").status == 204);
    check_problem(f.call("GET", "/api/v1/dags/etl/dagRuns/b"), 404, "Not Found");
    check_problem(f.call("DELETE", "/api/v1/dags/etl/dagRuns/b"), 404, "Not Found");
    CHECK(f.get("/api/v1/dags/etl/dagRuns")["total_entries"] == 1);
}

TEST_CASE("clearing a run: a dry run lists, a real one queues the run again", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    f.finish("extract", TaskOutcome::success);
    f.finish("load", TaskOutcome::failed);
    REQUIRE(f.get("/api/v1/dags/etl/dagRuns/a")["state"] == "failed");

    auto dry = f.json(f.call("POST", "/api/v1/dags/etl/dagRuns/a/clear", "{}"));
    CHECK(dry["total_entries"] == 2);
    CHECK(dry["task_instances"][0]["task_id"] == "extract");
    CHECK(f.get("/api/v1/dags/etl/dagRuns/a")["state"] == "failed");

    auto response = f.call("POST", "/api/v1/dags/etl/dagRuns/a/clear", R"({"dry_run": false})");
    INFO(response.body);
    REQUIRE(response.status == 200);
    CHECK(f.json(response)["state"] != "failed");
    CHECK(f.json(f.call("GET", "/api/v1/dags/etl/dagRuns/a/taskInstances/load"))["state"].is_null());
    check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns/a/clear", R"({"dry_run": "no"})"), 400, "Bad Request");
    check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns/a/clear", R"({"reset": true})"), 400, "Bad Request");
    check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns/nope/clear", "{}"), 404, "Not Found");
}

TEST_CASE("upstream dataset events: none, for a run that exists", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    auto body = f.get("/api/v1/dags/etl/dagRuns/a/upstreamDatasetEvents");
    CHECK(body["dataset_events"] == nlohmann::json::array());
    CHECK(body["total_entries"] == 0);
    check_problem(f.call("GET", "/api/v1/dags/etl/dagRuns/nope/upstreamDatasetEvents"), 404, "Not Found");
}

TEST_CASE("dagStats: runs counted by state, every state listed, unknown DAGs left out", "[dagruns][airflow]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    f.trigger("etl", "2024-02-02T00:00:00Z", "b");
    REQUIRE(f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": "failed"})").status == 200);
    auto body = f.get("/api/v1/dagStats?dag_ids=other,etl,nope,etl");
    CHECK(body["total_entries"] == 2);
    REQUIRE(body["dags"].size() == 2);
    CHECK(body["dags"][0]["dag_id"] == "etl");
    CHECK(body["dags"][1]["dag_id"] == "other");
    std::map<std::string, long long> etl;
    for (const auto& stat : body["dags"][0]["stats"]) etl[stat["state"]] = stat["count"];
    CHECK(etl.size() == 4);
    CHECK(etl["failed"] == 1);
    CHECK(etl["queued"] + etl["running"] + etl["success"] == 1);
    for (const auto& stat : body["dags"][1]["stats"]) CHECK(stat["count"] == 0);
    CHECK(f.get("/api/v1/dagStats?dag_ids=etl&dag_ids=other")["total_entries"] == 2);
    CHECK(f.get("/api/v1/dagStats?dag_ids=%27%20OR%201%3D1%20--")["total_entries"] == 0);
    check_problem(f.call("GET", "/api/v1/dagStats"), 400, "Bad Request");
}

TEST_CASE("a viewer reads runs but cannot trigger, change or delete them", "[dagruns]") {
    RunsFixture f;
    f.trigger("etl", "2024-02-01T00:00:00Z", "a");
    f.as(Role::viewer);
    CHECK(f.call("GET", "/api/v1/dags/etl/dagRuns").status == 200);
    CHECK(f.call("POST", "/api/v1/dags/~/dagRuns/list", "{}").status == 200);
    check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns", "{}"), 403, "Forbidden");
    check_problem(f.call("PATCH", "/api/v1/dags/etl/dagRuns/a", R"({"state": "failed"})"), 403, "Forbidden");
    check_problem(f.call("DELETE", "/api/v1/dags/etl/dagRuns/a"), 403, "Forbidden");
    check_problem(f.call("POST", "/api/v1/dags/etl/dagRuns/a/clear", "{}"), 403, "Forbidden");
}

}  // namespace mayaflow
