#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/api_secrets.h"
#include "tests/web/run_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const char* const kPassword = "pw-9f3c1e-never-shown";
const std::string kRendered = "/api/v1/mayaflow/dags/render_dag/dagRuns/run_1/taskInstances/";

TEST_CASE("rendered fields are the task's templates rendered for its run, with every secret masked", "[web]") {
    ApiFixture fixture;
    testing::ApiSecrets secrets(fixture);
    auto created = fixture.call("POST", "/api/v1/connections",
                                nlohmann::json{{"connection_id", "db"}, {"conn_type", "postgres"}, {"host", "db.example"},
                                               {"password", kPassword}}
                                    .dump());
    REQUIRE(created.status == 200);
    auto print = testing::task_of(
        "print", "bash",
        {{"bash_command", "echo {{ ds }} {{ conn.db.host }} {{ conn.db.password }} {{ dag_run.conf.get('x', 'none') }}"}});
    auto broken = testing::task_of("broken", "bash", {{"bash_command", "echo {{ no_such_name.attribute }}"}});
    testing::add_dag(fixture, "render_dag", "/dags/render_dag.yaml", {print, broken});
    testing::add_run(fixture, "render_dag", "run_1",
                     {testing::task_row("print", TaskState::success, 1), testing::task_row("broken", TaskState::failed, 1)});

    fixture.as(Role::viewer);
    auto answer = fixture.call("GET", kRendered + "print/rendered");
    REQUIRE(answer.status == 200);
    CHECK(answer.body.find(kPassword) == std::string::npos);
    auto body = ApiFixture::json(answer);
    CHECK(body["task_id"] == "print");
    CHECK(body["operator"] == "bash");
    CHECK(body["error"].is_null());
    const std::string command = body["rendered_fields"]["bash_command"];
    CHECK_THAT(command, Catch::StartsWith("echo 2024-01-01 db.example *** none"));

    auto failed = ApiFixture::json(fixture.call("GET", kRendered + "broken/rendered"));
    CHECK(failed["rendered_fields"].empty());
    CHECK_THAT(failed["error"].get<std::string>(), Catch::Contains("bash_command"));

    check_problem(fixture.call("GET", kRendered + "no_such_task/rendered"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/render_dag/dagRuns/no_run/taskInstances/print/rendered"), 404,
                  "Not Found");
}

}  // namespace
}  // namespace mayaflow
