// /connections: no password in any answer, sensitive extras masked, lists without password and
// extra, /connections/test, the admin's export (the CLI's bytes), and bad input answered with
// 400/404/409 that say what to fix.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "engine/connections/connection_files.h"
#include "tests/web/api_fixture.h"
#include "tests/web/api_secrets.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::ApiSecrets;
using testing::check_problem;
using testing::LogCapture;

std::string detail(const WebResponse& response) { return nlohmann::json::parse(response.body)["detail"]; }

const std::string kPassword = "pw-Kx91!secret";
const std::string kToken = "tok-ZZ7-private";

std::string warehouse_body() {
    return nlohmann::json{{"connection_id", "warehouse"},
                          {"conn_type", "postgresql"},
                          {"description", "the mart"},
                          {"host", "db.internal"},
                          {"login", "etl"},
                          {"schema", "sales"},
                          {"port", 5432},
                          {"password", kPassword},
                          {"extra", R"({"sslmode": "require", "api_token": ")" + kToken + R"("})"}}
        .dump();
}

TEST_CASE("connections: create, read, change and delete; no password in any answer", "[connections]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    LogCapture log;
    std::vector<std::string> answers;
    auto created = api.call("POST", "/api/v1/connections", warehouse_body());
    REQUIRE(created.status == 200);
    answers.push_back(created.body);
    auto body = ApiFixture::json(created);
    CHECK(body["connection_id"] == "warehouse");
    CHECK(body["conn_type"] == "postgres");  // Airflow's normalisation
    CHECK(body["host"] == "db.internal");
    CHECK(body["port"] == 5432);
    CHECK_FALSE(body.contains("password"));
    auto extra = nlohmann::json::parse(body["extra"].get<std::string>());
    CHECK(extra["sslmode"] == "require");
    CHECK(extra["api_token"] == "***");

    auto stored = secrets.repository->find_connection("warehouse");
    REQUIRE(stored);
    REQUIRE(*stored);
    CHECK((*stored)->password == kPassword);  // kept as given, only never answered

    check_problem(api.call("POST", "/api/v1/connections", warehouse_body()), 409, "Conflict");
    auto read = api.call("GET", "/api/v1/connections/warehouse");
    CHECK(ApiFixture::json(read) == body);
    answers.push_back(read.body);

    auto moved = api.call("PATCH", "/api/v1/connections/warehouse?update_mask=host,port", R"({"host": "db2", "port": 6432})");
    REQUIRE(moved.status == 200);
    answers.push_back(moved.body);
    CHECK(ApiFixture::json(moved)["host"] == "db2");
    CHECK(ApiFixture::json(moved)["login"] == "etl");
    auto after = secrets.repository->find_connection("warehouse");
    CHECK((*after)->password == kPassword);
    // A whole connection without a password keeps the stored one (no answer shows it to send back).
    auto whole = api.call("PATCH", "/api/v1/connections/warehouse", R"({"connection_id": "warehouse", "conn_type": "postgres", "host": "db3"})");
    REQUIRE(whole.status == 200);
    answers.push_back(whole.body);
    CHECK(ApiFixture::json(whole)["login"] == nullptr);
    CHECK((*secrets.repository->find_connection("warehouse"))->password == kPassword);
    auto repassword = api.call("PATCH", "/api/v1/connections/warehouse?update_mask=password", R"({"password": "new-pw-77x"})");
    REQUIRE(repassword.status == 200);
    answers.push_back(repassword.body);
    CHECK((*secrets.repository->find_connection("warehouse"))->password == "new-pw-77x");

    REQUIRE(api.call("POST", "/api/v1/connections", R"({"connection_id": "alpha", "conn_type": "fs", "password": "p-alpha-99"})").status == 200);
    auto listed = api.call("GET", "/api/v1/connections");
    answers.push_back(listed.body);
    auto list = ApiFixture::json(listed);
    CHECK(list["total_entries"] == 2);
    CHECK(list["connections"][0]["connection_id"] == "alpha");
    for (const auto& item : list["connections"]) {
        CHECK_FALSE(item.contains("password"));
        CHECK_FALSE(item.contains("extra"));
        CHECK(item.size() == 7);
    }
    auto by_type = ApiFixture::json(api.call("GET", "/api/v1/connections?order_by=-conn_type&limit=1"));
    CHECK(by_type["connections"][0]["connection_id"] == "warehouse");
    // Airflow's default order_by is id; a connection's id is its connection_id here.
    auto by_id = ApiFixture::json(api.call("GET", "/api/v1/connections?order_by=-id"));
    auto by_conn_id = ApiFixture::json(api.call("GET", "/api/v1/connections?order_by=-connection_id"));
    CHECK(by_id["connections"] == by_conn_id["connections"]);

    for (const auto& answer : answers) {
        INFO(answer);
        for (const std::string& secret : {kPassword, kToken, std::string("new-pw-77x"), std::string("p-alpha-99"), secrets.key_text}) {
            CHECK(answer.find(secret) == std::string::npos);
        }
    }
    auto logged = log.text();
    for (const std::string& secret : {kPassword, kToken, std::string("new-pw-77x"), std::string("p-alpha-99")}) {
        CHECK(logged.find(secret) == std::string::npos);
    }

    CHECK(api.call("DELETE", "/api/v1/connections/warehouse").status == 204);
    check_problem(api.call("GET", "/api/v1/connections/warehouse"), 404, "Not Found");
    check_problem(api.call("DELETE", "/api/v1/connections/warehouse"), 404, "Not Found");
    check_problem(api.call("PATCH", "/api/v1/connections/warehouse?update_mask=host", R"({"host": "x"})"), 404, "Not Found");
}

TEST_CASE("connections: bad input is a 400 that names the field, and stores nothing", "[connections]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    struct Case {
        std::string body;
        const char* says;
    };
    for (const auto& [body, says] :
         {Case{"{", "not valid JSON"}, Case{"\"x\"", "must be a JSON object"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "port": "5432"})", "'port' must be a whole number"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "port": 70000})", "from 0 to 65535"},
          Case{R"({"connection_id": "a", "conn_type": 3})", "'conn_type' must be a string"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "extra": {"path": "/x"}})", "'extra' must be a string"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "extra": "[1]"})", "'extra'"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "extra": "not json"})", "'extra'"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "conn_id": "a"})", "unknown field"},
          Case{R"({"connection_id": "a", "conn_type": "fs", "is_encrypted": true})", "unknown field"},
          Case{R"({"conn_type": "fs"})", "'connection_id' is required"},
          Case{R"({"connection_id": "a"})", "'conn_type' is required"},
          Case{R"({"connection_id": "a", "conn_type": " "})", "cannot be empty"},
          Case{R"({"connection_id": "' OR 1=1 --", "conn_type": "fs"})", "'connection_id'"},
          Case{R"({"connection_id": "a%b", "conn_type": "fs"})", "'connection_id'"},
          Case{R"({"connection_id": "", "conn_type": "fs"})", "'connection_id'"}}) {
        INFO(body);
        auto response = api.call("POST", "/api/v1/connections", body);
        check_problem(response, 400, "Bad Request");
        CHECK_THAT(detail(response), Catch::Contains(says));
    }
    REQUIRE(api.call("POST", "/api/v1/connections", R"({"connection_id": "a", "conn_type": "fs"})").status == 200);
    for (auto [target, body] :
         {std::pair{"/api/v1/connections/a", R"({"connection_id": "b", "conn_type": "fs"})"},
          std::pair{"/api/v1/connections/a", R"({"host": "h"})"},
          std::pair{"/api/v1/connections/a?update_mask=connection_id", R"({"connection_id": "a"})"},
          std::pair{"/api/v1/connections/a?update_mask=is_encrypted", R"({"host": "h"})"},
          std::pair{"/api/v1/connections/a?update_mask=conn_type", R"({"host": "h"})"},
          std::pair{"/api/v1/connections/a?update_mask=port", R"({"port": -1})"},
          std::pair{"/api/v1/connections/a?update_mask=extra", R"({"extra": "[]"})"},
          std::pair{"/api/v1/connections/a", "{]"}}) {
        INFO(target << " " << body);
        check_problem(api.call("PATCH", target, body), 400, "Bad Request");
    }
    for (const std::string order : {"password", "extra", "conn_id;--", "%27%20OR%201%3D1%20--", "_", "%25"}) {
        INFO(order);
        check_problem(api.call("GET", "/api/v1/connections?order_by=" + order), 400, "Bad Request");
    }
    auto listed = api.store->list_connections();
    REQUIRE(listed);
    CHECK(listed->size() == 1);
    // Ids with the filter's wildcards are ids; unknown ones are 404.
    for (const std::string target : {"/api/v1/connections/%25", "/api/v1/connections/_", "/api/v1/connections/%27%20OR%201%3D1%20--",
                                     "/api/v1/connections/nope"}) {
        INFO(target);
        check_problem(api.call("GET", target), 404, "Not Found");
        check_problem(api.call("DELETE", target), 404, "Not Found");
    }
}

TEST_CASE("connections: a stored value sealed with another key is a 503 that names no secret", "[connections]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    auto other_key = generate_secret_key();
    REQUIRE(other_key);
    SecretsRepository other(*api.store, SecretKeyring({*other_key}, "elsewhere"));
    REQUIRE(other.put_connections({Connection{.conn_id = "foreign", .conn_type = "fs", .password = kPassword}}, false));
    auto read = api.call("GET", "/api/v1/connections/foreign");
    check_problem(read, 503, "Service Unavailable");
    CHECK(read.body.find(kPassword) == std::string::npos);
    auto tested = ApiFixture::json(api.call("POST", "/api/v1/connections/test", R"({"connection_id": "foreign", "conn_type": "fs"})"));
    CHECK(tested["status"] == false);
    CHECK_THAT(tested["message"].get<std::string>(), Catch::Contains("do not open"));
    // The list shows what is in clear.
    CHECK(ApiFixture::json(api.call("GET", "/api/v1/connections"))["connections"][0]["connection_id"] == "foreign");
}

TEST_CASE("connections: /connections/test says what it checked", "[connections]") {
    ApiFixture api(Role::op);
    ApiSecrets secrets(api);
    LogCapture log;
    auto test = [&](const nlohmann::json& body) {
        auto response = api.call("POST", "/api/v1/connections/test", body.dump());
        REQUIRE(response.status == 200);
        CHECK(response.body.find(kPassword) == std::string::npos);
        auto json = ApiFixture::json(response);
        CHECK(json.size() == 2);
        return json;
    };
    auto here = test({{"connection_id", "files"}, {"conn_type", "fs"}, {"extra", nlohmann::json{{"path", api.folder.string()}}.dump()}});
    CHECK(here["status"] == true);
    CHECK_THAT(here["message"].get<std::string>(), Catch::Contains("it parses") && Catch::Contains("its type is known") &&
                                                       Catch::Contains("exists"));
    auto missing = test({{"conn_type", "sqlite"}, {"host", (api.folder / "none.db").string()}});
    CHECK(missing["status"] == false);
    CHECK_THAT(missing["message"].get<std::string>(), Catch::Contains("does not exist"));
    auto unknown = test({{"connection_id", "x"}, {"conn_type", "teradata"}, {"password", kPassword}});
    CHECK(unknown["status"] == false);
    CHECK_THAT(unknown["message"].get<std::string>(), Catch::Contains("knows no connection type 'teradata'"));
    auto broken = test({{"connection_id", "x"}, {"conn_type", "fs"}, {"extra", "[1, 2]"}});
    CHECK(broken["status"] == false);
    CHECK_THAT(broken["message"].get<std::string>(), Catch::Contains("does not parse"));
    auto slack = test({{"conn_type", "slackwebhook"}, {"password", "https://hooks.slack.com/services/T0/B0/" + kPassword}});
    CHECK(slack["status"] == true);
    CHECK_THAT(slack["message"].get<std::string>(), Catch::Contains("webhook URL"));
    auto slack_empty = test({{"conn_type", "slackwebhook"}});
    CHECK(slack_empty["status"] == false);
    auto firebase = test({{"conn_type", "firebase"}, {"password", kPassword}});
    CHECK(firebase["status"] == false);
    CHECK_THAT(firebase["message"].get<std::string>(), Catch::Contains("database URL"));
    auto firebase_ok = test({{"conn_type", "firebase"}, {"host", "https://demo-db.firebaseio.com"}, {"password", kPassword}});
    CHECK(firebase_ok["status"] == true);
    CHECK_THAT(firebase_ok["message"].get<std::string>(), Catch::Contains("nothing was sent"));

    // A stored connection's own secrets are used when the body brings none.
    REQUIRE(api.call("POST", "/api/v1/connections",
                     nlohmann::json{{"connection_id", "hook"}, {"conn_type", "slackwebhook"},
                                    {"password", "https://hooks.slack.com/services/T0/B0/" + kPassword}}.dump())
                .status == 200);
    auto stored = test({{"connection_id", "hook"}, {"conn_type", "slackwebhook"}});
    CHECK(stored["status"] == true);
    CHECK_THAT(stored["message"].get<std::string>(), Catch::Contains("its stored secrets open"));
    auto masked = test({{"connection_id", "hook"}, {"conn_type", "slackwebhook"}, {"password", "***"}});
    CHECK(masked["status"] == true);

    for (const std::string body : {"{", R"({"conn_type": "fs", "port": "1"})", R"({"conn_type": "fs", "uri": "x"})", R"({"host": "h"})",
                                   R"({"connection_id": "' OR 1=1 --", "conn_type": "fs"})"}) {
        INFO(body);
        check_problem(api.call("POST", "/api/v1/connections/test", body), 400, "Bad Request");
    }
    CHECK(api.store->list_connections()->size() == 1);  // a test stores nothing
    CHECK(log.text().find(kPassword) == std::string::npos);
    api.as(Role::user);
    check_problem(api.call("POST", "/api/v1/connections/test", R"({"conn_type": "fs"})"), 403, "Forbidden");
}

TEST_CASE("connections: the admin's export is the CLI's file, logged without values", "[connections]") {
    ApiFixture api(Role::admin);
    ApiSecrets secrets(api);
    REQUIRE(api.call("POST", "/api/v1/connections", warehouse_body()).status == 200);
    REQUIRE(api.call("POST", "/api/v1/connections", R"({"connection_id": "files", "conn_type": "fs", "extra": "{\"path\": \"/data\"}"})")
                .status == 200);
    auto stored = secrets.repository->list_connections();
    REQUIRE(stored);
    LogCapture log;
    struct Case {
        std::string query;
        ConnectionFileFormat format;
        ConnectionSerialization serialization;
        std::string file;
        std::string type;
    };
    for (const auto& [query, format, serialization, file, type] :
         {Case{"", ConnectionFileFormat::json, ConnectionSerialization::uri, "connections.json", "application/json"},
          Case{"?file_format=json", ConnectionFileFormat::json, ConnectionSerialization::uri, "connections.json", "application/json"},
          Case{"?file_format=yaml", ConnectionFileFormat::yaml, ConnectionSerialization::uri, "connections.yaml", "application/yaml"},
          Case{"?file_format=env", ConnectionFileFormat::env, ConnectionSerialization::uri, "connections.env", "text/plain"},
          Case{"?file_format=env&serialization_format=json", ConnectionFileFormat::env, ConnectionSerialization::json,
               "connections.env", "text/plain"}}) {
        INFO(query);
        auto response = api.call("GET", "/api/v1/mayaflow/connections/export" + query);
        REQUIRE(response.status == 200);
        CHECK(response.body == *export_connections_text(*stored, format, serialization));  // what the CLI writes
        CHECK(response.headers["Content-Disposition"] == "attachment; filename=" + file);
        CHECK_THAT(response.content_type, Catch::StartsWith(type));
        // An admin's explicit export holds the secrets (in a URI, percent-encoded).
        CHECK(response.body.find("pw-Kx91") != std::string::npos);
    }
    auto json = nlohmann::json::parse(api.call("GET", "/api/v1/mayaflow/connections/export").body);
    CHECK(json["warehouse"]["password"] == kPassword);
    CHECK(json["warehouse"]["conn_type"] == "postgres");
    CHECK(json["files"]["extra"] == "{\"path\": \"/data\"}");

    auto logged = log.text();
    CHECK_THAT(logged, Catch::Contains("connections export: 'tester' exported 2 connection(s) as json at 20"));
    CHECK_THAT(logged, Catch::Contains("as yaml") && Catch::Contains("as env"));
    CHECK(logged.find(kPassword) == std::string::npos);
    CHECK(logged.find(kToken) == std::string::npos);

    for (const std::string query : {"?file_format=xml", "?file_format=yml", "?file_format=json&serialization_format=uri",
                                    "?file_format=env&serialization_format=yaml", "?format=json", "?file_format=%27%20OR%201%3D1%20--",
                                    "?file_format=%25"}) {
        INFO(query);
        check_problem(api.call("GET", "/api/v1/mayaflow/connections/export" + query), 400, "Bad Request");
    }
    for (Role role : {Role::viewer, Role::user, Role::op}) {
        api.as(role);
        auto refused = api.call("GET", "/api/v1/mayaflow/connections/export");
        check_problem(refused, 403, "Forbidden");
        CHECK(refused.body.find(kPassword) == std::string::npos);
    }
}

}  // namespace
}  // namespace mayaflow
