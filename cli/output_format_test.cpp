#include "cli/output_format.h"

#include <catch2/catch.hpp>

#include <algorithm>

namespace mayaflow::cli {
namespace {

Listing pools() {
    Listing listing{{"pool", "slots", "description"}, {}};
    listing.add({"default_pool", 128, "Default pool"});
    listing.add({"bq", 4, ""});
    return listing;
}

TEST_CASE("a table aligns its columns under a header and a rule, the last column unpadded", "[output]") {
    CHECK(render_listing(pools(), OutputFormat::table) ==
          "pool         | slots | description\n"
          "=============+=======+=============\n"
          "default_pool | 128   | Default pool\n"
          "bq           | 4     | \n");
}

TEST_CASE("columns are as wide as the characters shown, not the bytes", "[output]") {
    Listing listing{{"name", "n"}, {}};
    listing.add({"家計簿", 1});
    listing.add({"abcd", 2});
    CHECK(render_listing(listing, OutputFormat::table) ==
          "name | n\n"
          "=====+==\n"
          "家計簿  | 1\n"
          "abcd | 2\n");
}

TEST_CASE("json is an array of objects in column order, typed values kept", "[output]") {
    CHECK(render_listing(pools(), OutputFormat::json) ==
          "[\n  {\n    \"pool\": \"default_pool\",\n    \"slots\": 128,\n    \"description\": \"Default pool\"\n  },\n"
          "  {\n    \"pool\": \"bq\",\n    \"slots\": 4,\n    \"description\": \"\"\n  }\n]\n");
    auto parsed = nlohmann::json::parse(render_listing(pools(), OutputFormat::json));
    CHECK(parsed[1]["slots"] == 4);
}

TEST_CASE("yaml is a list of mappings as PyYAML writes it", "[output]") {
    CHECK(render_listing(pools(), OutputFormat::yaml) ==
          "- description: Default pool\n  pool: default_pool\n  slots: 128\n"
          "- description: ''\n  pool: bq\n  slots: 4\n");
}

TEST_CASE("plain is tab-separated rows without a header", "[output]") {
    CHECK(render_listing(pools(), OutputFormat::plain) == "default_pool\t128\tDefault pool\nbq\t4\t\n");
}

TEST_CASE("an empty listing: No data found in a table, [] in json and yaml, nothing in plain", "[output]") {
    Listing empty{{"pool", "slots"}, {}};
    CHECK(render_listing(empty, OutputFormat::table) == "No data found\n");
    CHECK(render_listing(empty, OutputFormat::json) == "[]\n");
    CHECK(render_listing(empty, OutputFormat::yaml) == "[]\n");
    CHECK(render_listing(empty, OutputFormat::plain) == "");
}

TEST_CASE("a tab or newline in a value cannot break a row or a plain line", "[output]") {
    Listing listing{{"key", "val"}, {}};
    listing.add({"a\tb", "line1\nline2\r"});
    CHECK(render_listing(listing, OutputFormat::plain) == "a\\tb\tline1\\nline2\\r\n");
    auto table = render_listing(listing, OutputFormat::table);
    CHECK(std::count(table.begin(), table.end(), '\n') == 3);
    // json keeps the value as it is.
    CHECK(nlohmann::json::parse(render_listing(listing, OutputFormat::json))[0]["val"] == "line1\nline2\r");
}

TEST_CASE("bytes that are not UTF-8 are written as \\xNN in every format", "[output]") {
    Listing listing{{"dag_id"}, {}};
    listing.add({std::string("bad\xff")});
    CHECK(render_listing(listing, OutputFormat::plain) == "bad\\xff\n");
    CHECK(render_listing(listing, OutputFormat::table).find("bad\\xff") != std::string::npos);
    CHECK(nlohmann::json::parse(render_listing(listing, OutputFormat::json))[0]["dag_id"] == "bad\\xff");
    CHECK(render_listing(listing, OutputFormat::yaml).find("xff") != std::string::npos);
}

TEST_CASE("null and bools read as Airflow's console shows them in table and plain", "[output]") {
    Listing listing{{"a", "b", "c", "d"}, {}};
    listing.add({nullptr, true, false, pyjson::Json::parse(R"({"x": [1]})")});
    CHECK(render_listing(listing, OutputFormat::plain) == "None\tTrue\tFalse\t{\"x\": [1]}\n");
    auto json = nlohmann::json::parse(render_listing(listing, OutputFormat::json));
    CHECK(json[0]["a"].is_null());
    CHECK(json[0]["b"] == true);
    CHECK(json[0]["d"]["x"][0] == 1);
}

TEST_CASE("a row shorter than the columns is filled with null", "[output]") {
    Listing listing{{"a", "b"}, {}};
    listing.add({"only"});
    CHECK(render_listing(listing, OutputFormat::plain) == "only\t\n");
    CHECK(nlohmann::json::parse(render_listing(listing, OutputFormat::json))[0]["b"].is_null());
}

TEST_CASE("records become a listing with the first record's keys as columns", "[output]") {
    std::vector<pyjson::Json> records = {pyjson::Json::parse(R"({"key": "b", "val": "1"})"),
                                         pyjson::Json::parse(R"({"val": "2", "key": "a"})")};
    auto listing = listing_of_records(records);
    CHECK(listing.columns == std::vector<std::string>{"key", "val"});
    CHECK(render_listing(listing, OutputFormat::plain) == "b\t1\na\t2\n");
}

TEST_CASE("output formats are named without regard to case", "[output]") {
    CHECK(parse_output_format("JSON") == OutputFormat::json);
    CHECK(parse_output_format("Yaml") == OutputFormat::yaml);
    CHECK(parse_output_format("plain") == OutputFormat::plain);
    CHECK(!parse_output_format("csv"));
    CHECK(!parse_output_format(""));
}

TEST_CASE("the -o option takes the four names and refuses others", "[output]") {
    CLI::App app;
    OutputFormat format = OutputFormat::table;
    add_output_option(app, format);
    app.parse(std::vector<std::string>{"YAML", "-o"});  // CLI11 takes the arguments reversed
    CHECK(format == OutputFormat::yaml);
    CLI::App other;
    add_output_option(other, format);
    CHECK_THROWS_AS(other.parse(std::vector<std::string>{"csv", "-o"}), CLI::ValidationError);
}

}  // namespace
}  // namespace mayaflow::cli
