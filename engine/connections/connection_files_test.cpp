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
    // A long plain scalar is text, however it looks (matching it as a number would recurse per digit).
    for (char c : {'1', '0', 'x'}) {
        auto long_scalar = pyyaml::safe_load("a: " + std::string(1 << 20, c) + "\n");
        REQUIRE(long_scalar);
        CHECK((*long_scalar)["a"] == std::string(1 << 20, c));
    }
}

TEST_CASE("yaml nested past the limit is refused, in flow and in block style", "[connections][files]") {
    auto flow = [](int depth) { return "a: " + std::string(depth, '[') + std::string(depth, ']') + "\n"; };
    CHECK(pyyaml::safe_load(flow(pyjson::kMaxNesting - 1)));  // the mapping is one level
    for (int depth : {pyjson::kMaxNesting, 2'500, 20'000}) {
        CAPTURE(depth);
        auto deep = pyyaml::safe_load(flow(depth));
        REQUIRE_FALSE(deep);
        CHECK_THAT(deep.error().message, Catch::Contains("deeper than 100 levels"));
    }
    auto block = [](int depth) {
        std::string text = "a:\n";
        for (int i = 0; i < depth; ++i) text += std::string(static_cast<std::size_t>(i + 1), ' ') + "-\n";
        return text;
    };
    CHECK(pyyaml::safe_load(block(pyjson::kMaxNesting - 1)));
    for (int depth : {pyjson::kMaxNesting, 3'000}) {
        CAPTURE(depth);
        auto deep = pyyaml::safe_load(block(depth));
        REQUIRE_FALSE(deep);
        CHECK_THAT(deep.error().message, Catch::Contains("deeper than 100 levels"));
    }
    std::string objects_text;
    for (int i = 0; i < 5'000; ++i) objects_text += "{k: ";
    auto objects = pyyaml::safe_load(objects_text + "1" + std::string(5'000, '}'));
    REQUIRE_FALSE(objects);
    CHECK_THAT(objects.error().message, Catch::Contains("deeper than 100 levels"));
}

TEST_CASE("yaml aliases expand within bounds: cycles and billion laughs are refused",
          "[connections][files]") {
    for (const char* cyclic :
         {"a: &a [*a]\n", "a: &a {k: *a}\n", "a: &a [1, [2, {k: [*a]}]]\n", "&a [*a, *a]\n"}) {
        CAPTURE(cyclic);
        auto loaded = pyyaml::safe_load(cyclic);
        REQUIRE_FALSE(loaded);
        CHECK_THAT(loaded.error().message, Catch::Contains("deeper than 100 levels"));
    }
    std::string laughs = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
        laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int j = 0; j < 9; ++j) laughs += (j ? ", *l" : "*l") + std::to_string(i - 1);
        laughs += "]\n";
    }
    auto exploded = pyyaml::safe_load(laughs);
    REQUIRE_FALSE(exploded);
    CHECK_THAT(exploded.error().message, Catch::Contains("more than 1000000 values"));
    // Few values, much text: a long string named a thousand times.
    std::string long_text = "s: &s " + std::string(1 << 17, 'x') + "\nl: [";
    for (int i = 0; i < 1'000; ++i) long_text += i ? ", *s" : "*s";
    long_text += "]\n";
    auto wordy = pyyaml::safe_load(long_text);
    REQUIRE_FALSE(wordy);
    CHECK_THAT(wordy.error().message, Catch::Contains("more than 64 MiB of text"));
    // Aliases used within the bounds read as copies of what they name.
    auto shared = pyyaml::safe_load("base: &b {conn_type: http, port: 80}\nother: *b\n");
    REQUIRE(shared);
    CHECK((*shared)["other"] == (*shared)["base"]);
}

TEST_CASE("an import refuses a conn_id given twice and names both places", "[connections][files]") {
    struct Case {
        const char* text;
        ConnectionFileFormat format;
        const char* expected;
    };
    for (const auto& [text, format, expected] : {
             Case{"{\"a\": \"http://h\",\n \"b\": \"http://x\",\n \"a\": \"http://other\"}",
                  ConnectionFileFormat::json, "line 3: found multiple values for a (the first on line 1)"},
             Case{"{\"a\": \"http://h\", \"\\u0061\": {\"conn_type\": \"http\"}}", ConnectionFileFormat::json,
                  "line 1: found multiple values for a (the first on line 1)"},
             Case{"a: http://h\nb: http://x\na:\n  conn_type: http\n", ConnectionFileFormat::yaml,
                  "line 3: found multiple values for a (the first on line 1)"},
             Case{"a: http://h\n'a': http://x\n", ConnectionFileFormat::yaml,
                  "line 2: found multiple values for a (the first on line 1)"},
             Case{"a=http://h\nb=http://x\na=http://y\n", ConnectionFileFormat::env,
                  "line 3: found multiple values for a"},
         }) {
        CAPTURE(text);
        auto parsed = parse_connections_file(text, format, "f");
        REQUIRE_FALSE(parsed);
        CHECK_THAT(parsed.error().message, Catch::StartsWith("f was not imported (nothing was)"));
        CHECK_THAT(parsed.error().message, Catch::Contains(expected));
    }
    // The same key in two connections' objects is no duplicate.
    CHECK(parse_connections_file(R"({"a": {"conn_type": "http"}, "b": {"conn_type": "http"}})",
                                 ConnectionFileFormat::json, "f"));
}

TEST_CASE("an import refuses text that is not UTF-8 and extras nested too deep, naming the field",
          "[connections][files]") {
    const std::string bad = "p\xff\xfe";
    struct Case {
        std::string text;
        ConnectionFileFormat format;
        std::string expected;
    };
    for (const auto& [text, format, expected] : {
             Case{"a:\n  conn_type: http\n  password: \"" + bad + "\"\n", ConnectionFileFormat::yaml,
                  "line 1: the password of connection 'a' is not UTF-8 text"},
             Case{"a:\n  conn_type: http\n  login: " + bad + "\n", ConnectionFileFormat::yaml,
                  "the login of connection 'a' is not UTF-8 text"},
             Case{"a=http://u:" + bad + "@h\n", ConnectionFileFormat::env,
                  "line 1: connection a: the connection URI is not UTF-8 text"},
             Case{"a={\"conn_type\": \"http\", \"schema\": \"" + bad + "\"}\n", ConnectionFileFormat::env,
                  "line 1: connection a: the connection JSON cannot be read"},
             Case{"{\"a\": {\"conn_type\": \"http\", \"extra\": \"" + std::string(150, '[') + "\"}}",
                  ConnectionFileFormat::json,
                  "the extra of connection 'a' cannot be stored: JSON nested deeper"},
         }) {
        CAPTURE(text);
        auto parsed = parse_connections_file(text, format, "f");
        REQUIRE_FALSE(parsed);
        CHECK_THAT(parsed.error().message, Catch::Contains(expected));
        CHECK_THAT(parsed.error().message, !Catch::Contains(bad));
    }
    // JSON text itself may not hold such bytes: it does not parse.
    CHECK_FALSE(
        parse_connections_file("{\"a\": \"http://u:" + bad + "@h\"}", ConnectionFileFormat::json, "f"));
}

}  // namespace
}  // namespace mayaflow
