// /variables: sealed at rest, sensitive values answered as "***", the CLI's key rule, and bad
// input answered with 400/404/409 that say what to fix.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/web/api_fixture.h"
#include "tests/web/api_secrets.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::ApiSecrets;
using testing::check_problem;
using testing::LogCapture;

std::string detail(const WebResponse& response) { return nlohmann::json::parse(response.body)["detail"]; }

// The database file and its write-ahead log, as bytes.
std::string database_bytes(ApiFixture& api) {
    std::stringstream bytes;
    for (const char* name : {"test.db", "test.db-wal"}) {
        std::ifstream file(api.folder / name, std::ios::binary);
        if (file) bytes << file.rdbuf();
    }
    return bytes.str();
}

TEST_CASE("variables: create, read, change and delete; values sealed at rest", "[variables]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    auto created = api.call("POST", "/api/v1/variables", R"({"key": "bucket", "value": "gs://sales-raw-7", "description": "raw files"})");
    REQUIRE(created.status == 200);
    CHECK(ApiFixture::json(created) == nlohmann::json{{"key", "bucket"}, {"value", "gs://sales-raw-7"}, {"description", "raw files"}});
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/bucket"))["value"] == "gs://sales-raw-7");
    auto stored = api.store->find_variable("bucket");
    REQUIRE(stored);
    REQUIRE(*stored);
    CHECK((*stored)->sealed_value.find("sales-raw-7") == std::string::npos);
    CHECK_THAT((*stored)->sealed_value, Catch::StartsWith("mf1:"));

    check_problem(api.call("POST", "/api/v1/variables", R"({"key": "bucket", "value": "other"})"), 409, "Conflict");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/bucket"))["value"] == "gs://sales-raw-7");

    auto described = api.call("PATCH", "/api/v1/variables/bucket?update_mask=description", R"({"description": "landing zone"})");
    REQUIRE(described.status == 200);
    CHECK(ApiFixture::json(described)["value"] == "gs://sales-raw-7");
    CHECK(ApiFixture::json(described)["description"] == "landing zone");
    auto whole = api.call("PATCH", "/api/v1/variables/bucket", R"({"key": "bucket", "value": "gs://b2"})");
    REQUIRE(whole.status == 200);
    CHECK(ApiFixture::json(whole)["value"] == "gs://b2");
    CHECK(ApiFixture::json(whole)["description"] == "landing zone");

    REQUIRE(api.call("POST", "/api/v1/variables", R"({"key": "alpha", "value": "1"})").status == 200);
    auto listed = ApiFixture::json(api.call("GET", "/api/v1/variables"));
    CHECK(listed["total_entries"] == 2);
    CHECK(listed["variables"][0] == nlohmann::json{{"key", "alpha"}, {"description", nullptr}});
    CHECK(listed["variables"][1] == nlohmann::json{{"key", "bucket"}, {"description", "landing zone"}});
    auto descending = ApiFixture::json(api.call("GET", "/api/v1/variables?order_by=-key&limit=1"));
    CHECK(descending["variables"].size() == 1);
    CHECK(descending["variables"][0]["key"] == "bucket");
    // Airflow's default order_by is id; a variable's key is its id here.
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables?order_by=-id"))["variables"][0]["key"] == "bucket");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables?order_by=id"))["variables"][0]["key"] == "alpha");

    CHECK(api.call("DELETE", "/api/v1/variables/bucket").status == 204);
    check_problem(api.call("GET", "/api/v1/variables/bucket"), 404, "Not Found");
    check_problem(api.call("DELETE", "/api/v1/variables/bucket"), 404, "Not Found");
    check_problem(api.call("PATCH", "/api/v1/variables/bucket", R"({"key": "bucket", "value": "x"})"), 404, "Not Found");
}

TEST_CASE("variables: a sensitive key's value shows nowhere: answers, log, database file", "[variables]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    LogCapture log;
    const std::string secret = "hunter2-Zq81";
    std::vector<std::string> answers;
    for (const std::string key : {"slack_token", "DB_PASSWORD", "gcp_api_key", "my_private_key", "service_account_json",
                                  "Authorization", "passphrase", "keyfile_dict", "access_token", "apikey", "passwd",
                                  "client_secret"}) {
        INFO(key);
        auto created = api.call("POST", "/api/v1/variables", nlohmann::json{{"key", key}, {"value", secret}}.dump());
        REQUIRE(created.status == 200);
        CHECK(ApiFixture::json(created)["value"] == "***");
        auto read = api.call("GET", "/api/v1/variables/" + key);
        CHECK(ApiFixture::json(read)["value"] == "***");
        auto changed = api.call("PATCH", "/api/v1/variables/" + key + "?update_mask=value",
                                nlohmann::json{{"value", secret + "!"}}.dump());
        CHECK(ApiFixture::json(changed)["value"] == "***");
        answers.insert(answers.end(), {created.body, read.body, changed.body});
    }
    // A JSON value's members under sensitive keys are masked too; the rest shows.
    auto config = api.call("POST", "/api/v1/variables",
                           nlohmann::json{{"key", "config"}, {"value", R"({"user": "etl", "password": ")" + secret + R"("})"}}.dump());
    REQUIRE(config.status == 200);
    auto shown = nlohmann::json::parse(ApiFixture::json(config)["value"].get<std::string>());
    CHECK(shown["user"] == "etl");
    CHECK(shown["password"] == "***");
    answers.push_back(config.body);
    answers.push_back(api.call("GET", "/api/v1/variables").body);
    answers.push_back(api.call("GET", "/api/v1/variables/config").body);
    // The same key again: the refusal does not quote the value.
    answers.push_back(api.call("POST", "/api/v1/variables", nlohmann::json{{"key", "slack_token"}, {"value", secret}}.dump()).body);
    for (const auto& answer : answers) {
        CHECK(answer.find(secret) == std::string::npos);
        CHECK(answer.find(secrets.key_text) == std::string::npos);
    }
    CHECK(log.text().find(secret) == std::string::npos);
    CHECK(database_bytes(api).find(secret) == std::string::npos);
    // Plain keys are answered as they are.
    REQUIRE(api.call("POST", "/api/v1/variables", R"({"key": "region", "value": "EU"})").status == 200);
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/region"))["value"] == "EU");
}

TEST_CASE("variables: the CLI's key rule and bad input are 400s that change nothing", "[variables]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    struct Case {
        std::string body;
        const char* says;
    };
    for (const auto& [body, says] :
         {Case{"{", "not valid JSON"}, Case{"42", "must be a JSON object"}, Case{R"({"key": "a", "value": 5})", "'value' must be a string"},
          Case{R"({"key": ["a"], "value": "v"})", "'key' must be a string"}, Case{R"({"key": "a", "value": "v", "val": 1})", "unknown field"},
          Case{R"({"key": "", "value": "v"})", "cannot be empty"}, Case{R"({"value": "v"})", "'key' is required"},
          Case{R"({"key": "a\u0000b", "value": "v"})", "control character (byte 0x00 at position 2)"},
          Case{R"({"key": "a\r\nb", "value": "v"})", "control character (byte 0x0d at position 2)"},
          Case{R"({"key": "a"})", "'value' is required"},
          Case{nlohmann::json{{"key", std::string(251, 'k')}, {"value", "v"}}.dump(), "at most 250 characters"},
          Case{R"({"key": "deep", "value": ")" + std::string(200, '[') + R"("})", "cannot be stored"},
          Case{"{\"key\": \"a\", \"value\": \"\xff\"}", "not UTF-8"}}) {
        INFO(body);
        auto response = api.call("POST", "/api/v1/variables", body);
        check_problem(response, 400, "Bad Request");
        CHECK_THAT(detail(response), Catch::Contains(says));
    }
    REQUIRE(api.call("POST", "/api/v1/variables", R"({"key": "a", "value": "v"})").status == 200);
    for (auto [target, body] : {std::pair{"/api/v1/variables/a", R"({"key": "b", "value": "v"})"},
                                std::pair{"/api/v1/variables/a?update_mask=key", R"({"value": "v"})"},
                                std::pair{"/api/v1/variables/a?update_mask=value", R"({"description": "d"})"},
                                std::pair{"/api/v1/variables/a", R"({"description": "d"})"},
                                std::pair{"/api/v1/variables/a", R"({"key": "a", "value": null, "x": 1})"},
                                std::pair{"/api/v1/variables/a", R"({"key": "a", "value": {"n": 1}})"}}) {
        INFO(target << " " << body);
        check_problem(api.call("PATCH", target, body), 400, "Bad Request");
    }
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/a"))["value"] == "v");
    for (const std::string order : {"value", "key;--", "%27%20OR%201%3D1%20--", "_", "%25"}) {
        INFO(order);
        check_problem(api.call("GET", "/api/v1/variables?order_by=" + order), 400, "Bad Request");
    }
    auto listed = api.store->list_variables();
    REQUIRE(listed);
    CHECK(listed->size() == 1);
}

TEST_CASE("variables: keys with SQL metacharacters are keys; unknown keys are 404", "[variables]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    for (const std::string key : {"' OR 1=1 --", "%", "_", "a;DROP TABLE variable"}) {
        INFO(key);
        REQUIRE(api.call("POST", "/api/v1/variables", nlohmann::json{{"key", key}, {"value", "v:" + key}}.dump()).status == 200);
    }
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/%25"))["value"] == "v:%");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/_"))["value"] == "v:_");
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables/%27%20OR%201%3D1%20--"))["value"] == "v:' OR 1=1 --");
    for (const std::string target : {"/api/v1/variables/nope", "/api/v1/variables/%25%25", "/api/v1/variables/__",
                                     "/api/v1/variables/%27%20OR%20%271%27%3D%271"}) {
        INFO(target);
        check_problem(api.call("GET", target), 404, "Not Found");
        check_problem(api.call("DELETE", target), 404, "Not Found");
    }
    REQUIRE(api.call("DELETE", "/api/v1/variables/_").status == 204);
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/variables"))["total_entries"] == 3);
}

TEST_CASE("variables: an Op's; without a keyring values cannot be read or written (503)", "[variables]") {
    ApiFixture api(Role::user);
    check_problem(api.call("GET", "/api/v1/variables"), 403, "Forbidden");
    check_problem(api.call("GET", "/api/v1/variables/x"), 403, "Forbidden");
    check_problem(api.call("POST", "/api/v1/variables", R"({"key": "a", "value": "v"})"), 403, "Forbidden");
    api.as(Role::op);
    check_problem(api.call("GET", "/api/v1/variables/x"), 503, "Service Unavailable");
    check_problem(api.call("POST", "/api/v1/variables", R"({"key": "a", "value": "v"})"), 503, "Service Unavailable");
    CHECK(api.call("GET", "/api/v1/variables").status == 200);  // keys are not sealed
}

}  // namespace
}  // namespace mayaflow
