// mayaflow/dags/…/notebook/{try}: the executed notebook of a notebook task's try, as a download.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/run_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const std::string kNotebook = R"({"cells": [], "metadata": {"note": "caf\u00e9"}, "nbformat": 4, "nbformat_minor": 5})";
const std::string kUrl = "/api/v1/mayaflow/dags/report/dagRuns/run_1/taskInstances/";

struct NotebookFixture : ApiFixture {
    std::filesystem::path chosen = folder / "out" / "chart.ipynb";
    NotebookFixture() {
        testing::add_dag(*this, "report", (folder / "report.yaml").string(),
                         {testing::task_of("chart", "notebook", {{"input_nb", "chart.ipynb"}}),
                          testing::task_of("fixed", "notebook", {{"input_nb", "chart.ipynb"}, {"output_nb", chosen.string()}}),
                          testing::task_of("dated", "notebook",
                                           {{"input_nb", "chart.ipynb"}, {"output_nb", "out/chart_{{ ds }}.ipynb"}}),
                          testing::task_of("shell")});
        testing::add_run(*this, "report", "run_1",
                         {testing::task_row("chart", TaskState::success, 2, {{"output_nb", "ignored"}}),
                          testing::task_row("fixed", TaskState::success, 2, {{"output_nb", chosen.string()}}),
                          testing::task_row("dated", TaskState::failed, 1),
                          testing::task_row("shell", TaskState::success, 1)});
    }
};

}  // namespace

TEST_CASE("a notebook task's try downloads the notebook it executed beside its log", "[notebooks]") {
    NotebookFixture fixture;
    auto beside_log = testing::log_of(fixture, "report", "run_1", "chart", 2).replace_extension(".ipynb");
    testing::write_file(beside_log, kNotebook);
    auto response = fixture.call("GET", kUrl + "chart/notebook/2");
    REQUIRE(response.status == 200);
    CHECK(response.content_type == "application/x-ipynb+json");
    CHECK(response.body == kNotebook);
    CHECK(response.headers["Content-Disposition"] == "attachment; filename=\"report__run_1__chart__attempt=2.ipynb\"");
    // Try 1 left none.
    check_problem(fixture.call("GET", kUrl + "chart/notebook/1"), 404, "Not Found");

    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", kUrl + "chart/notebook/2").status == 200);
}

TEST_CASE("a notebook written to output_nb is served for the latest try only", "[notebooks]") {
    NotebookFixture fixture;
    testing::write_file(fixture.chosen, kNotebook);
    auto latest = fixture.call("GET", kUrl + "fixed/notebook/2");
    CHECK(latest.status == 200);
    CHECK(latest.body == kNotebook);
    check_problem(fixture.call("GET", kUrl + "fixed/notebook/1"), 404, "Not Found");
    // A templated output_nb whose try failed recorded no path.
    check_problem(fixture.call("GET", kUrl + "dated/notebook/1"), 404, "Not Found");
}

TEST_CASE("tasks that are not notebooks, unknown ids and paths out of the logs folder are refused", "[notebooks]") {
    NotebookFixture fixture;
    check_problem(fixture.call("GET", kUrl + "shell/notebook/1"), 404, "Not Found");
    check_problem(fixture.call("GET", kUrl + "nope/notebook/1"), 404, "Not Found");
    check_problem(fixture.call("GET", kUrl + "chart/notebook/3"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/nope/dagRuns/run_1/taskInstances/chart/notebook/1"), 404,
                  "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/report/dagRuns/nope/taskInstances/chart/notebook/1"), 404,
                  "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/report/dagRuns/%27%20OR%201%3D1%20--/taskInstances/chart/notebook/1"),
                  404, "Not Found");
    for (const std::string bad : {"0", "x", "-2"}) check_problem(fixture.call("GET", kUrl + "chart/notebook/" + bad), 400, "Bad Request");

    testing::write_file(fixture.folder / "secret.ipynb", "SECRET");
    for (const std::string id : {"..", "%2e%2e", "..%2f..%2fsecret", "%2f" "etc", "a%00b", "a%2fb"}) {
        for (const std::string& target : {"/api/v1/mayaflow/dags/" + id + "/dagRuns/run_1/taskInstances/chart/notebook/1",
                                          "/api/v1/mayaflow/dags/report/dagRuns/" + id + "/taskInstances/chart/notebook/1",
                                          kUrl + id + "/notebook/1"}) {
            INFO(target);
            auto response = fixture.call("GET", target);
            check_problem(response, 400, "Bad Request");
            CHECK(response.body.find("SECRET") == std::string::npos);
        }
    }
    // The notebook beside the log is a symlink out of the logs folder.
    auto beside_log = testing::log_of(fixture, "report", "run_1", "chart", 1).replace_extension(".ipynb");
    std::filesystem::create_directories(beside_log.parent_path());
    std::filesystem::create_symlink(fixture.folder / "secret.ipynb", beside_log);
    auto response = fixture.call("GET", kUrl + "chart/notebook/1");
    check_problem(response, 404, "Not Found");
    CHECK(response.body.find("SECRET") == std::string::npos);
}

}  // namespace mayaflow
