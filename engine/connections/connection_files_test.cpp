// Reading connection files: Airflow's .env, .json and .yaml, and the errors that stop an import.

#include "engine/connections/connection_files.h"

#include <catch2/catch.hpp>

#include "engine/connections/pyyaml_reader.h"

namespace mayaflow {
namespace {

TEST_CASE("the format comes from the extension", "[connections][files]") {
    CHECK(connection_file_format_of("a/b.JSON") == ConnectionFileFormat::json);
    CHECK(connection_file_format_of("x.yml") == ConnectionFileFormat::yaml);
    CHECK(connection_file_format_of("dir.d/x.env") == ConnectionFileFormat::env);
    CHECK_FALSE(connection_file_format_of("x.txt"));
    CHECK_FALSE(connection_file_format_of("env"));
}

TEST_CASE(".env files hold URIs or JSON objects, one per line", "[connections][files]") {
    auto parsed = parse_connections_file(
        "# a comment\n\n  # indented comment\r\nurl=postgres://u:p%40ss@h:5432/db\r\n"
        "json={\"conn_type\": \"http\", \"host\": \"h\", \"extra\": {\"a\": 1}}\n"
        "eq=http://h/?a=b=c\n",
        ConnectionFileFormat::env, "c.env");
    REQUIRE(parsed);
    REQUIRE(parsed->size() == 3);
    CHECK((*parsed)[0].conn_id == "url");
    CHECK((*parsed)[0].password == "p@ss");
    CHECK((*parsed)[1].extra == R"({"a": 1})");
    CHECK((*parsed)[2].extra == R"({"a": "b=c"})");
}

TEST_CASE("a bad .env file imports nothing and names every bad line", "[connections][files]") {
    auto parsed = parse_connections_file(
        "ok=http://h\nno equals sign\nempty=\nok=http://again\nbad id=http://h\n"
        "port=http://h:port\n",
        ConnectionFileFormat::env, "c.env");
    REQUIRE_FALSE(parsed);
    const auto& message = parsed.error().message;
    CHECK_THAT(message, Catch::StartsWith("c.env was not imported (nothing was)"));
    CHECK_THAT(message, Catch::Contains("line 2: invalid line format"));
    CHECK_THAT(message, Catch::Contains("line 3: invalid line format; the value of empty is empty"));
    CHECK_THAT(message, Catch::Contains("line 4: found multiple values for ok"));
    CHECK_THAT(message, Catch::Contains("line 5: could not import connection"));
    CHECK_THAT(message,
               Catch::Contains("line 6: connection port: invalid connection URI: Port could not be cast"));
}

TEST_CASE("json and yaml files map conn_ids to objects or URIs", "[connections][files]") {
    auto json = parse_connections_file(R"({"b": "http://h", "a": {"conn_type": "http", "port": 80}})",
                                       ConnectionFileFormat::json, "c.json");
    REQUIRE(json);
    REQUIRE(json->size() == 2);
    CHECK((*json)[0].conn_id == "b");  // file order
    CHECK((*json)[1].port == 80);

    auto yaml = parse_connections_file(
        "a:\n  conn_type: http\n  port: '80'\n  password: ''\n  host: ~\n"
        "  extra_dejson: {retries: 3, on: yes}\nb: 'http://h/db'\n",
        ConnectionFileFormat::yaml, "c.yaml");
    REQUIRE(yaml);
    REQUIRE(yaml->size() == 2);
    CHECK((*yaml)[0].port == 80);
    CHECK_FALSE((*yaml)[0].password);
    CHECK_FALSE((*yaml)[0].host);
    CHECK((*yaml)[0].extra == R"({"retries": 3, "true": true})");  // YAML 1.1: `on` and `yes` are true
    CHECK((*yaml)[1].schema == "db");

    CHECK_THAT(parse_connections_file("", ConnectionFileFormat::json, "e.json").error().message,
               Catch::Contains("the file is empty"));
    CHECK_THAT(parse_connections_file("[1]", ConnectionFileFormat::json, "l.json").error().message,
               Catch::Contains("should contain an object"));
    CHECK_THAT(parse_connections_file("{\"a\": ", ConnectionFileFormat::json, "t.json").error().message,
               Catch::Contains("t.json"));
    CHECK_THAT(parse_connections_file("a: [unclosed\n", ConnectionFileFormat::yaml, "t.yaml").error().message,
               Catch::Contains("line "));
    CHECK_THAT(parse_connections_file(R"({"a": 5})", ConnectionFileFormat::json, "n.json").error().message,
               Catch::Contains("connection a: the connection can only be defined using a string"));
}

TEST_CASE("yaml plain scalars read as YAML 1.1 does, quoted ones stay text", "[connections][files]") {
    auto value = pyyaml::safe_load(
        "a: 0x1F\nb: 017\nc: 1_000\nd: 1.5\ne: '123'\nf: null\ng: Off\nh: text\n"
        "i: 2024-01-01\nj: -.inf\n");
    REQUIRE(value);
    CHECK((*value)["a"] == 31);
    CHECK((*value)["b"] == 15);
    CHECK((*value)["c"] == 1000);
    CHECK((*value)["d"] == 1.5);
    CHECK((*value)["e"] == "123");
    CHECK((*value)["f"].is_null());
    CHECK((*value)["g"] == false);
    CHECK((*value)["h"] == "text");
    CHECK((*value)["i"] == "2024-01-01");
    CHECK((*value)["j"].get<double>() < 0);
}

}  // namespace
}  // namespace mayaflow
