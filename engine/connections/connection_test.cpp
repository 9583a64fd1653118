// The Connection model's rules (Airflow's) and the URI helpers the golden table does not cover.

#include "engine/connections/connection.h"

#include <catch2/catch.hpp>

#include "engine/connections/connection_json.h"
#include "engine/connections/connection_uri.h"

namespace mayaflow {
namespace {

TEST_CASE("conn_type is normalised as Airflow does", "[connections]") {
    CHECK(normalize_conn_type("postgresql") == "postgres");
    CHECK(normalize_conn_type("google-cloud-platform") == "google_cloud_platform");
    CHECK(normalize_conn_type("postgres") == "postgres");
    CHECK(normalize_conn_type("my-postgresql") == "my_postgresql");
}

TEST_CASE("an empty password reads back as null", "[connections]") {
    Connection connection;
    connection.set_password("");
    CHECK_FALSE(connection.password.has_value());
    connection.set_password("s3cret");
    CHECK(connection.password == "s3cret");
    auto parsed = connection_from_uri("id", "mysql://root:@localhost");
    REQUIRE(parsed);
    CHECK(parsed->login == "root");
    CHECK_FALSE(parsed->password.has_value());
}

TEST_CASE("the extra is parsed only when read, and a non-object extra is reported", "[connections]") {
    Connection connection{.conn_id = "c", .conn_type = "http"};
    connection.extra = R"({"b": "1", "a": {"x": 2}})";
    auto parsed = connection.parse_extra();
    CHECK_FALSE(parsed.problem);
    CHECK(parsed.value.begin().key() == "b");  // the order the text gives
    CHECK(validate_extra(connection));

    connection.extra = "[1, 2]";
    parsed = connection.parse_extra();
    REQUIRE(parsed.problem);
    CHECK_THAT(*parsed.problem, Catch::Contains("not an object"));
    CHECK_FALSE(validate_extra(connection));

    connection.extra = "{not json";
    parsed = connection.parse_extra();
    REQUIRE(parsed.problem);
    CHECK_THAT(*parsed.problem, Catch::Contains("not JSON"));
    CHECK(parsed.value == pyjson::Json::object());  // extra_dejson gives {}

    // Found by fuzz/connection_uri_fuzz.cpp: a number beyond a double in the extra threw.
    auto from_uri = connection_from_uri("c", "http://h/?__extra__=%7B%22m%22%3A+1e66000%7D");
    REQUIRE(from_uri);
    parsed = from_uri->parse_extra();
    REQUIRE(parsed.problem);
    CHECK_THAT(*parsed.problem, Catch::Contains("not JSON (a number is too large for a double"));

    connection.extra.reset();
    CHECK(connection.parse_extra().value == pyjson::Json::object());
    CHECK_FALSE(connection.parse_extra().problem);
}

TEST_CASE("conn_ids are letters, digits, '_', '.' and '-'", "[connections]") {
    CHECK(validate_conn_id("bq_main"));
    CHECK(validate_conn_id("my-conn.v2"));
    CHECK(validate_conn_id("bücher"));
    CHECK_FALSE(validate_conn_id(""));
    CHECK_FALSE(validate_conn_id("has space"));
    CHECK_FALSE(validate_conn_id("slash/es"));
    CHECK_FALSE(validate_conn_id(std::string(201, 'a')));
    auto refused = validate_conn_id("a$b");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("\"$\""));
}

TEST_CASE("the port is a number", "[connections]") {
    CHECK(*port_from_json(5432) == 5432);
    CHECK(*port_from_json(" 5432 ") == 5432);
    CHECK(*port_from_json("5_432") == 5432);
    CHECK_FALSE(port_from_json("54 32"));
    CHECK_FALSE(port_from_json("5__432"));
    CHECK_FALSE(port_from_json("_5432"));
    CHECK_FALSE(port_from_json(pyjson::Json::array()));
    CHECK_THAT(port_from_json("eighty").error().message,
               Catch::Equals("Expected integer value for `port`, but got 'eighty' instead."));
}

TEST_CASE("URI errors say why without repeating the URI", "[connections]") {
    auto refused = connection_from_uri("c", "http://user:hunter2@host:port/db");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("Port could not be cast"));
    CHECK_THAT(refused.error().message, !Catch::Contains("hunter2"));
    refused = connection_from_uri("c", "a://b://c://hunter2@d");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, !Catch::Contains("hunter2"));
    CHECK_FALSE(connection_from_uri("c", "http://h\xff/db"));
    auto bad_json = connection_from_json("c", R"({"conn_type": "http", "password": hunter2})");
    REQUIRE_FALSE(bad_json);
    CHECK_THAT(bad_json.error().message, Catch::Contains("line 1") && !Catch::Contains("hunter2"));
}

TEST_CASE("a URI shown to a person hides the password and sensitive extras", "[connections]") {
    Connection connection{.conn_id = "c", .conn_type = "google_cloud_platform"};
    connection.login = "svc";
    connection.set_password("hunter2");
    connection.host = "host";
    connection.extra = R"({"project": "p", "api_key": "k-123"})";
    auto shown = connection_to_display_uri(connection);
    CHECK(shown == "google-cloud-platform://svc:***@host/?project=p&api_key=%2A%2A%2A");
    CHECK(connection_to_uri(connection) ==
          "google-cloud-platform://svc:hunter2@host/?project=p&api_key=k-123");

    CHECK(mask_uri_password("postgres://user:p%40ss@db:5432/x") == "postgres://user:******@db:5432/x");
    CHECK(mask_uri_password("http://https://user:pw@host") == "http://https://user:******@host");
    CHECK(mask_uri_password("postgres://user@db") == "postgres://user@db");
    CHECK(mask_uri_password("postgres://db/x?a=b:c@d") == "postgres://db/x?a=b:c@d");
}

TEST_CASE("import file objects follow Airflow's rules", "[connections]") {
    auto from = [](const char* json) { return connection_from_file_value("c", pyjson::Json::parse(json)); };
    auto uri = connection_from_file_value("c", "postgres://u:p@h:1/s");
    REQUIRE(uri);
    CHECK(uri->host == "h");
    CHECK(uri->port == 1);

    auto object = from(R"({"conn_type": "http", "extra_dejson": {"a": 1}, "port": "80"})");
    REQUIRE(object);
    CHECK(object->extra == R"({"a": 1})");
    CHECK(object->port == 80);

    auto via_uri = from(R"({"uri": "http://h/db", "description": "d"})");
    REQUIRE(via_uri);
    CHECK(via_uri->schema == "db");
    CHECK(via_uri->description == "d");

    CHECK_FALSE(from(R"({"conn_type": "http", "extra": "{}", "extra_dejson": {}})"));
    CHECK_FALSE(from(R"({"uri": "http://h", "host": "other"})"));
    CHECK_FALSE(from(R"({"conn_type": "http", "conn_id": "other"})"));
    CHECK(from(R"({"conn_type": "http", "conn_id": "c"})"));
    CHECK_FALSE(from(R"({"conn_type": "http", "hots": "typo"})"));
    CHECK_FALSE(from(R"({"host": "no type"})"));
    CHECK_FALSE(from(R"({"conn_type": "http", "host": 5})"));
    CHECK_FALSE(connection_from_file_value("c", 42));
}

TEST_CASE("export objects keep Airflow's key order", "[connections]") {
    Connection connection{.conn_id = "c", .conn_type = "http"};
    connection.port = 80;
    auto object = connection_to_export_object(connection);
    std::vector<std::string> keys;
    for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
    CHECK(keys == std::vector<std::string>{"conn_type", "description", "login", "password", "host", "port",
                                           "schema", "extra"});
}

}  // namespace
}  // namespace mayaflow
