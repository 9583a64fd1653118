// dagSources/{file_token}, mayaflow/dags/{dag_id}/source and importErrors/{id}.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"
#include "tests/web/run_fixture.h"
#include "web/api/dag_file_token.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const std::string kSource = "dag_id: sales\nschedule: '@daily'\ntasks:\n  load: {operator: bash, command: echo caf\xc3\xa9}\n";

struct SourceFixture : ApiFixture {
    std::filesystem::path file = folder / "dags" / "sales.yaml";
    SourceFixture() {
        testing::write_file(file, kSource);
        testing::add_dag(*this, "sales", file.string(), {testing::task_of("load")});
    }
    std::string file_token() {
        auto dag = json(call("GET", "/api/v1/dags/sales"));
        REQUIRE(dag["file_token"].is_string());
        return dag["file_token"];
    }
};

}  // namespace

TEST_CASE("a DAG's file_token reads its file, as JSON or text by Accept", "[sources]") {
    SourceFixture fixture;
    const std::string token = fixture.file_token();
    CHECK(token.find("sales.yaml") == std::string::npos);  // opaque: no path to read or change
    auto listed = ApiFixture::json(fixture.call("GET", "/api/v1/dags"));
    CHECK(listed["dags"][0]["file_token"] == token);

    auto json = ApiFixture::json(fixture.call("GET", "/api/v1/dagSources/" + token));
    CHECK(json["content"] == kSource);
    auto text = fixture.call("GET", "/api/v1/dagSources/" + token, "", {{"accept", "text/plain"}});
    CHECK(text.status == 200);
    CHECK(text.content_type == "text/plain; charset=utf-8");
    CHECK(text.body == kSource);
    check_problem(fixture.call("GET", "/api/v1/dagSources/" + token, "", {{"accept", "image/png"}}), 406,
                  "Not Acceptable");

    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", "/api/v1/dagSources/" + token).status == 200);
}

TEST_CASE("a file_token names only the DAG files of the store", "[sources]") {
    SourceFixture fixture;
    testing::write_file(fixture.folder / "secret.txt", "SECRET\n");
    const std::string token = fixture.file_token();
    // Changed, made up, or a path.
    std::string changed = token;
    changed[changed.size() / 2] = changed[changed.size() / 2] == 'A' ? 'B' : 'A';
    for (const std::string& bad : {changed, std::string("x"), std::string("..%2f..%2fsecret.txt"),
                                  "%2f" + (fixture.folder / "secret.txt").string().substr(1),
                                  std::string("%2e%2e"), std::string("a%00b")}) {
        INFO(bad);
        auto response = fixture.call("GET", "/api/v1/dagSources/" + bad);
        check_problem(response, 404, "Not Found");
        CHECK(response.body.find("SECRET") == std::string::npos);
    }
    // Signed with the database's key, but for a file no DAG is defined in.
    auto signer = TokenSigner::of_store(*fixture.store);
    REQUIRE(signer);
    auto other = fixture.call("GET", "/api/v1/dagSources/" + dag_file_token(*signer, (fixture.folder / "secret.txt").string()));
    check_problem(other, 404, "Not Found");
    CHECK(other.body.find("SECRET") == std::string::npos);
    // A token of another purpose.
    check_problem(fixture.call("GET", "/api/v1/dagSources/" +
                                          signer->sign("task_log", {{"fileloc", fixture.file.string()}})),
                  404, "Not Found");
    // The DAG file was deleted since.
    std::filesystem::remove(fixture.file);
    check_problem(fixture.call("GET", "/api/v1/dagSources/" + token), 404, "Not Found");
}

TEST_CASE("a DAG's source by version: the current file, saying so for an older version", "[sources]") {
    SourceFixture fixture;
    auto current = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/sales/source"));
    CHECK(current["content"] == kSource);
    CHECK(current["version_number"] == 1);
    CHECK(current["requested_version_number"].is_null());
    CHECK_FALSE(current.contains("note"));

    testing::add_dag(fixture, "sales", fixture.file.string(), {testing::task_of("load")}, "h2");  // version 2
    auto older = ApiFixture::json(fixture.call("GET", "/api/v1/mayaflow/dags/sales/source?version=1"));
    CHECK(older["version_number"] == 2);
    CHECK(older["requested_version_number"] == 1);
    CHECK_THAT(older["note"].get<std::string>(), Catch::Contains("not its source text"));
    auto latest = fixture.call("GET", "/api/v1/mayaflow/dags/sales/source?version=2", "", {{"accept", "text/plain"}});
    CHECK(latest.body == kSource);
    CHECK(latest.headers["X-Dag-Version"] == "2");

    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/sales/source?version=3"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/nope/source"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/%27%20OR%201%3D1%20--/source"), 404, "Not Found");
    for (const std::string bad : {"0", "-1", "x", "1.0", "%27%20OR%201%3D1%20--", ""}) {
        INFO(bad);
        check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/sales/source?version=" + bad), 400, "Bad Request");
    }
    check_problem(fixture.call("GET", "/api/v1/mayaflow/dags/sales/source", "", {{"accept", "image/png"}}), 406,
                  "Not Acceptable");
}

TEST_CASE("one import error by its id", "[sources]") {
    ApiFixture fixture;
    REQUIRE(fixture.store->record_dag_file_failed("/dags/broken.yaml", "/dags/broken.yaml:3:1: schedule: bad cron",
                                                  now_instant()));
    auto list = ApiFixture::json(fixture.call("GET", "/api/v1/importErrors"));
    REQUIRE(list["import_errors"].size() == 1);
    const auto id = list["import_errors"][0]["import_error_id"].get<long long>();
    auto one = ApiFixture::json(fixture.call("GET", "/api/v1/importErrors/" + std::to_string(id)));
    CHECK(one == list["import_errors"][0]);
    check_problem(fixture.call("GET", "/api/v1/importErrors/" + std::to_string(id + 1)), 404, "Not Found");
    for (const std::string bad : {"x", "1.5", "%27%20OR%201%3D1%20--", "99999999999999999999999"}) {
        INFO(bad);
        check_problem(fixture.call("GET", "/api/v1/importErrors/" + bad), 400, "Bad Request");
    }
    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", "/api/v1/importErrors/" + std::to_string(id)).status == 200);
}

}  // namespace mayaflow
