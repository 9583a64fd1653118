#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "engine/config/settings_description.h"
#include "tests/web/api_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const nlohmann::json* option_in(const nlohmann::json& config, const std::string& section, const std::string& key) {
    for (const auto& item : config["sections"]) {
        if (item["name"] != section) continue;
        for (const auto& option : item["options"]) {
            if (option["key"] == key) return &option;
        }
    }
    return nullptr;
}

TEST_CASE("GET /config: Airflow's sections, each option with its value and source", "[config]") {
    ApiFixture fixture;
    fixture.context->settings.parallelism = 7;
    auto response = fixture.call("GET", "/api/v1/config");
    REQUIRE(response.status == 200);
    CHECK(response.content_type == "application/json");
    auto body = ApiFixture::json(response);
    REQUIRE(body["sections"].is_array());
    std::vector<std::string> names;
    for (const auto& section : body["sections"]) names.push_back(section["name"]);
    CHECK(names == std::vector<std::string>{"core", "database", "logging", "webserver", "scheduler"});
    auto dags_folder = option_in(body, "core", "dags_folder");
    REQUIRE(dags_folder);
    CHECK((*dags_folder)["value"] == (fixture.folder / "dags").string());
    CHECK((*dags_folder)["source"].is_string());
    CHECK((*option_in(body, "core", "parallelism"))["value"] == "7");
    CHECK((*option_in(body, "database", "sql_alchemy_conn"))["value"] == (fixture.folder / "test.db").string());
    CHECK((*option_in(body, "logging", "base_log_folder"))["value"] == (fixture.folder / "logs").string());
    CHECK((*option_in(body, "webserver", "web_server_port"))["value"] == "8080");
    for (const auto& section : body["sections"]) {
        for (const auto& option : section["options"]) {
            CHECK(option.size() == 3);
            CHECK(option["value"].is_string());
        }
    }
}

TEST_CASE("GET /config never shows the secret key", "[config]") {
    ApiFixture fixture;
    const std::string key(64, 'b');
    std::ofstream(fixture.folder / "secret.key") << key << "\n";
    auto response = fixture.call("GET", "/api/v1/config");
    REQUIRE(response.status == 200);
    CHECK(response.body.find(key) == std::string::npos);
    auto body = ApiFixture::json(response);
    auto fernet = option_in(body, "core", "fernet_key");
    REQUIRE(fernet);
    CHECK((*fernet)["value"] == "< hidden >");
    CHECK((*fernet)["source"] == "key file");
    auto text = fixture.call("GET", "/api/v1/config", "", {{"accept", "text/plain"}});
    CHECK(text.body.find(key) == std::string::npos);
    CHECK(text.body.find("fernet_key = < hidden >\n") != std::string::npos);
}

TEST_CASE("GET /config answers text/plain when the Accept header prefers it", "[config]") {
    ApiFixture fixture;
    auto text = fixture.call("GET", "/api/v1/config?section=logging", "", {{"accept", "text/plain"}});
    REQUIRE(text.status == 200);
    CHECK(text.content_type == "text/plain; charset=utf-8");
    // The text is the JSON answer's section, option by option, as Airflow's airflow.cfg reads.
    auto json = ApiFixture::json(fixture.call("GET", "/api/v1/config?section=logging"));
    REQUIRE(json["sections"].size() == 1);
    std::string expected = "[logging]\n";
    for (const auto& option : json["sections"][0]["options"]) {
        expected += option["key"].get<std::string>() + " = " + option["value"].get<std::string>() + "\n";
    }
    CHECK(text.body == expected);
    CHECK(text.body.rfind("[logging]\nbase_log_folder = " + (fixture.folder / "logs").string() + "\nlogging_level = info\n",
                          0) == 0);
    // JSON when it is asked for, preferred, or the client takes anything.
    for (const std::string accept : {"application/json", "*/*", "text/plain;q=0.5, application/json",
                                     "application/*, text/plain;q=0.9", ""}) {
        INFO(accept);
        auto response = fixture.call("GET", "/api/v1/config", "", {{"accept", accept}});
        CHECK(response.status == 200);
        CHECK(response.content_type == "application/json");
    }
    for (const std::string accept : {"text/plain, application/json;q=0.8", "text/*", "text/plain;q=1, */*;q=0.1"}) {
        INFO(accept);
        CHECK(fixture.call("GET", "/api/v1/config", "", {{"accept", accept}}).content_type ==
              "text/plain; charset=utf-8");
    }
}

TEST_CASE("GET /config with an Accept header it cannot serve is 406", "[config]") {
    ApiFixture fixture;
    for (const std::string accept : {"application/octet-stream", "image/png", "application/json;q=0, text/plain;q=0",
                                     "application/json;q=abc"}) {
        INFO(accept);
        check_problem(fixture.call("GET", "/api/v1/config", "", {{"accept", accept}}), 406, "Not Acceptable");
        check_problem(fixture.call("GET", "/api/v1/config/section/core/option/dags_folder", "", {{"accept", accept}}),
                      406, "Not Acceptable");
    }
}

TEST_CASE("GET /config?section= one section, found without regard to case; an unknown one is 404", "[config]") {
    ApiFixture fixture;
    auto body = ApiFixture::json(fixture.call("GET", "/api/v1/config?section=WebServer"));
    REQUIRE(body["sections"].size() == 1);
    CHECK(body["sections"][0]["name"] == "webserver");
    for (const std::string section : {"smtp1", "%27%20OR%201%3D1%20--", "%25", "_", "core%20", "c%25re", "cor_"}) {
        INFO(section);
        auto response = fixture.call("GET", "/api/v1/config?section=" + section);
        check_problem(response, 404, "Not Found");
        CHECK(ApiFixture::json(response)["detail"].get<std::string>().starts_with("section="));
    }
    // Bytes that are not UTF-8 the router refuses before any handler.
    check_problem(fixture.call("GET", "/api/v1/config?section=caf%E9"), 400, "Bad Request");
}

TEST_CASE("GET /config/section/{section}/option/{option}: one option as a Config", "[config]") {
    ApiFixture fixture;
    auto response = fixture.call("GET", "/api/v1/config/section/core/option/dags_folder");
    REQUIRE(response.status == 200);
    auto body = ApiFixture::json(response);
    REQUIRE(body["sections"].size() == 1);
    CHECK(body["sections"][0]["name"] == "core");
    REQUIRE(body["sections"][0]["options"].size() == 1);
    CHECK(body["sections"][0]["options"][0]["key"] == "dags_folder");
    CHECK(body["sections"][0]["options"][0]["value"] == (fixture.folder / "dags").string());

    // As Airflow: names in any case, the answer naming them as asked.
    auto text = fixture.call("GET", "/api/v1/config/section/DATABASE/option/SQL_ALCHEMY_CONN", "",
                             {{"accept", "text/plain"}});
    REQUIRE(text.status == 200);
    CHECK(text.body == "[DATABASE]\nSQL_ALCHEMY_CONN = " + (fixture.folder / "test.db").string() + "\n");
    auto secret = fixture.call("GET", "/api/v1/config/section/core/option/fernet_key", "", {{"accept", "text/plain"}});
    CHECK(secret.body == "[core]\nfernet_key = < hidden >\n");
}

TEST_CASE("GET /config/section/{section}/option/{option}: unknown ones are 404 naming them", "[config]") {
    ApiFixture fixture;
    auto response = fixture.call("GET", "/api/v1/config/section/smtp/option/smtp_mail_from1");
    check_problem(response, 404, "Not Found");
    CHECK(ApiFixture::json(response)["detail"] == "The option [smtp/smtp_mail_from1] is not found in config.");
    for (const std::string target : {"/api/v1/config/section/core/option/%27%20OR%201%3D1%20--",
                                     "/api/v1/config/section/%25/option/_", "/api/v1/config/section/core/option/%25",
                                     "/api/v1/config/section/core/option/dags_folde_"}) {
        INFO(target);
        auto answer = fixture.call("GET", target);
        check_problem(answer, 404, "Not Found");
    }
    check_problem(fixture.call("GET", "/api/v1/config/section/caf%E9/option/x%FF"), 400, "Bad Request");
}

TEST_CASE("the configuration is for admins only", "[config]") {
    for (Role role : {Role::viewer, Role::user, Role::op}) {
        ApiFixture fixture(role);
        check_problem(fixture.call("GET", "/api/v1/config"), 403, "Forbidden");
        check_problem(fixture.call("GET", "/api/v1/config/section/core/option/dags_folder"), 403, "Forbidden");
    }
    ApiFixture admin(Role::admin);
    CHECK(admin.call("GET", "/api/v1/config").status == 200);
}

TEST_CASE("the configuration's routes answer only GET and HEAD", "[config]") {
    ApiFixture fixture;
    for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
        INFO(method);
        check_problem(fixture.call(method, "/api/v1/config", "{}"), 405, "Method Not Allowed");
        check_problem(fixture.call(method, "/api/v1/config/section/core/option/dags_folder", "{}"), 405,
                      "Method Not Allowed");
    }
}

}  // namespace
}  // namespace mayaflow
