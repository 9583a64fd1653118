// JSON as Python writes it, read with a bound on nesting, and written without recursion.

#include "engine/connections/python_json.h"

#include <catch2/catch.hpp>

#include <string>

namespace mayaflow {
namespace {

std::string nested(int depth, const std::string& open, const std::string& inner, const std::string& close) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += open;
    text += inner;
    for (int i = 0; i < depth; ++i) text += close;
    return text;
}

TEST_CASE("JSON nested past the limit is refused before it is built, however it nests",
          "[connections][json]") {
    const int limit = pyjson::kMaxNesting;
    struct Shape {
        std::string open, inner, close;
    };
    for (const auto& shape : {Shape{"[", "1", "]"}, Shape{"{\"a\":", "1", "}"}, Shape{"[{\"k\": ", "0", "}]"},
                              Shape{"[\n", "\"x\"", "\n]"}}) {
        // Objects in arrays count one level each, as arrays and objects alone do.
        const int per_open = shape.open == "[{\"k\": " ? 2 : 1;
        CAPTURE(shape.open);
        auto at_limit = pyjson::loads(nested(limit / per_open, shape.open, shape.inner, shape.close));
        CHECK(at_limit);
        for (int depth : {limit / per_open + 1, 2'500, 20'000, 200'000}) {
            CAPTURE(depth);
            auto deep = pyjson::loads(nested(depth, shape.open, shape.inner, shape.close));
            REQUIRE_FALSE(deep);
            CHECK_THAT(deep.error().message, Catch::Contains("nested deeper than 100 levels"));
        }
    }
    // Unclosed brackets count too: the text is refused for its depth before it is parsed.
    CHECK_THAT(pyjson::loads(std::string(50'000, '[')).error().message, Catch::Contains("deeper than 100"));
    // Where: the line and column of the first bracket past the limit.
    CHECK_THAT(pyjson::loads("\n\n" + nested(101, "[", "", "]")).error().message,
               Catch::Contains("line 3, column 101"));
}

TEST_CASE("a number beyond a double is an error, not an exception", "[connections][json]") {
    // Found by fuzz/connection_uri_fuzz.cpp in an __extra__ of a URI: nlohmann throws out_of_range.406
    // for it, which loads() let through, so reading such an extra threw.
    for (const char* text : {"1e400", "[-1e400]", R"({"n": 1.5, "m": 1000000e66000})"}) {
        INFO(text);
        auto value = pyjson::loads(text);
        REQUIRE_FALSE(value);
        CHECK(value.error().message == "a number is too large for a double (at most about 1.8e308)");
    }
    CHECK(*pyjson::loads("1.7e308") == 1.7e308);
}

TEST_CASE("brackets inside strings do not count as nesting", "[connections][json]") {
    const std::string brackets(5'000, '[');
    auto inside = pyjson::loads("{\"a\": \"" + brackets + "\", \"b\": \"\\\"" + brackets + "\\\\\"}");
    REQUIRE(inside);
    CHECK((*inside)["a"] == brackets);
    // An escaped quote does not end the string; an escaped backslash before a quote does.
    CHECK(pyjson::check_nesting(R"(["\"[[[[", "\\", "[[["])"));
    CHECK_FALSE(pyjson::check_nesting(R"(["\\")" + std::string(200, '[')));
}

TEST_CASE("dumps writes values of any depth without recursion", "[connections][json]") {
    pyjson::Json root = pyjson::Json::array();
    pyjson::Json* innermost = &root;
    constexpr int kDepth = 200'000;
    for (int i = 0; i < kDepth; ++i) {
        innermost->push_back(pyjson::Json::object());
        innermost = &innermost->back();
        (*innermost)["k"] = pyjson::Json::array();
        innermost = &(*innermost)["k"];
    }
    const std::string text = pyjson::dumps(root);
    CHECK(text.size() == 1 + kDepth * std::string(R"({"k": [)").size() + kDepth * 2 + 1);
    CHECK(text.starts_with(R"([{"k": [{"k": [)"));
    CHECK(text.ends_with("]}]}]"));

    pyjson::Json lists = pyjson::Json::array();
    innermost = &lists;
    for (int i = 0; i < 2'000; ++i) innermost = &innermost->emplace_back(pyjson::Json::array({0}));
    const std::string indented = pyjson::dumps(lists, {.indent = 1});
    CHECK(indented.find("\n" + std::string(2'000, ' ') + "[\n" + std::string(2'001, ' ') + "0") !=
          std::string::npos);
}

TEST_CASE("dumps writes what json.dumps writes", "[connections][json]") {
    auto value = *pyjson::loads(R"({"b": [1, 2.5, {"z": null, "a": true}], "a": "é", "e": [], "o": {}})");
    CHECK(pyjson::dumps(value) ==
          R"({"b": [1, 2.5, {"z": null, "a": true}], "a": "\u00e9", "e": [], "o": {}})");
    CHECK(pyjson::dumps(value, {.sort_keys = true, .ensure_ascii = false}) ==
          R"({"a": "é", "b": [1, 2.5, {"a": true, "z": null}], "e": [], "o": {}})");
    CHECK(pyjson::dumps(value, {.indent = 2}) ==
          "{\n  \"b\": [\n    1,\n    2.5,\n    {\n      \"z\": null,\n      \"a\": true\n    }\n  ],\n"
          "  \"a\": \"\\u00e9\",\n  \"e\": [],\n  \"o\": {}\n}");
    CHECK(pyjson::dumps(pyjson::Json(5)) == "5");
    CHECK(pyjson::dumps(pyjson::Json::array()) == "[]");
}

TEST_CASE("the top-level keys of an object come with their lines, twice-given ones too",
          "[connections][json]") {
    const std::string text =
        "{\"a\": {\"a\": 1, \"b\": [\"{\", \"}\"]},\n"
        " \"b\": \"x,\\\"y\",\n"
        " \"\\u0061\": [1, {\"c\": 2}],\n"
        " \"c\": {}}";
    REQUIRE(pyjson::loads(text));
    auto keys = pyjson::top_level_keys(text);
    REQUIRE(keys.size() == 4);
    CHECK(keys[0].key == "a");
    CHECK(keys[0].line == 1);
    CHECK(keys[1].key == "b");
    CHECK(keys[1].line == 2);
    CHECK(keys[2].key == "a");  // "\u0061" is "a", as json.loads reads it
    CHECK(keys[2].line == 3);
    CHECK(keys[3].key == "c");
    CHECK(keys[3].line == 4);
    CHECK(pyjson::top_level_keys("{}").empty());
}

}  // namespace
}  // namespace mayaflow
