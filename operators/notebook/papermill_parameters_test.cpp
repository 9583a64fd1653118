#include "operators/notebook/papermill_parameters.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "engine/exec/exec_test_support.h"
#include "engine/util/utf8.h"

namespace mayaflow::notebook {
namespace {

using nlohmann::json;

json code_cell(std::string source, std::vector<std::string> tags = {}) {
    return {{"cell_type", "code"},
            {"execution_count", nullptr},
            {"metadata", {{"tags", tags}}},
            {"outputs", json::array()},
            {"source", std::move(source)}};
}

json notebook_of(json cells, int minor = 4) {
    return {{"nbformat", 4},
            {"nbformat_minor", minor},
            {"metadata", {{"kernelspec", {{"name", "python3"}, {"display_name", "Python 3"}, {"language", "python"}}}}},
            {"cells", std::move(cells)}};
}

// The expected literals were printed by Python 3.11 with papermill's own rules
// (str.encode('unicode_escape') and '"' -> '\"'; repr() of floats).
TEST_CASE("papermill: strings are Python literals after unicode_escape", "[notebook][papermill]") {
    CHECK(python_literal("plain") == "\"plain\"");
    CHECK(python_literal("h\xC3\xA9llo \"q\" 's' back\\slash\nnew\ttab\r") ==
          R"("h\xe9llo \"q\" 's' back\\slash\nnew\ttab\r")");
    CHECK(python_literal("\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \x7F \x01 \xC2\xA0") ==
          R"("\u65e5\u672c \U0001f600 \x7f \x01 \xa0")");
    CHECK(python_literal("") == "\"\"");
    CHECK(python_literal(std::string("nul\0byte", 8)) == R"("nul\x00byte")");
}

TEST_CASE("papermill: None, booleans, integers and floats", "[notebook][papermill]") {
    CHECK(python_literal(nullptr) == "None");
    CHECK(python_literal(true) == "True");
    CHECK(python_literal(false) == "False");
    CHECK(python_literal(42) == "42");
    CHECK(python_literal(-7) == "-7");
    CHECK(python_literal(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
    CHECK(python_literal(std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
    const std::pair<double, const char*> floats[] = {
        {1.0, "1.0"},          {0.1, "0.1"},         {1e16, "1e+16"},
        {1e15, "1000000000000000.0"}, {123456789012345678.0, "1.2345678901234568e+17"},
        {1e-5, "1e-05"},       {0.0001, "0.0001"},   {-0.0, "-0.0"},
        {1.5e-7, "1.5e-07"},   {2.5e20, "2.5e+20"},  {3.14159, "3.14159"},
        {1.0 / 3, "0.3333333333333333"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {100.0, "100.0"}, {12345.678, "12345.678"},
    };
    for (const auto& [value, text] : floats) {
        INFO(text);
        CHECK(python_literal(value) == text);
    }
    CHECK(python_literal(std::nan("")) == "float('nan')");
    CHECK(python_literal(std::numeric_limits<double>::infinity()) == "float('inf')");
    CHECK(python_literal(-std::numeric_limits<double>::infinity()) == "float('-inf')");
}

TEST_CASE("papermill: lists and dicts nest, keys are strings", "[notebook][papermill]") {
    CHECK(python_literal(json::array()) == "[]");
    CHECK(python_literal(json::object()) == "{}");
    const json nested = json::parse(R"({"b": [1, 2.5, "x", null, [true]], "a\"k": {"deep": {"n": -1}}})");
    // nlohmann keeps keys sorted, as the YAML mapping's order is not kept either.
    CHECK(python_literal(nested) == R"({"a\"k": {"deep": {"n": -1}}, "b": [1, 2.5, "x", None, [True]]})");
    json with_nan = json::array({std::nan(""), 1});
    CHECK(python_literal(with_nan) == "[float('nan'), 1]");
}

TEST_CASE("papermill: the injected source has a comment and one line per parameter", "[notebook][papermill]") {
    CHECK(injected_source(json::object()) == "# Parameters\n");
    CHECK(injected_source({{"run_date", "2024-03-01"}, {"x", 42}}) == "# Parameters\nrun_date = \"2024-03-01\"\nx = 42\n");
}

TEST_CASE("papermill: parameter names are plain ASCII Python names", "[notebook][papermill]") {
    for (const char* name :
         {"x", "_private2", "run_date", "X9", "_", "__x", "x__", "_x_", "match", "case", "type"}) {
        INFO(name);
        CHECK_FALSE(why_not_parameter_name(name));
    }
    const std::pair<std::string_view, std::string_view> refused[] = {
        {"", "it is empty"},
        {"2x", "it starts with a digit"},
        {"my-var", "it holds '-'"},
        {"a b", "it holds the character 0x20"},
        {"tab\t", "it holds the character 0x09"},
        {"class", "it is a Python keyword"},
        {"None", "it is a Python keyword"},
        {"True", "it is a Python keyword"},
        {"await", "it is a Python keyword"},
        {"__builtins__", "names that start and end with __ are Python's own (__builtins__, __name__, ...)"},
        {"__name__", "names that start and end with __ are Python's own (__builtins__, __name__, ...)"},
        {"__", "names that start and end with __ are Python's own (__builtins__, __name__, ...)"},
        {"___", "names that start and end with __ are Python's own (__builtins__, __name__, ...)"},
    };
    for (const auto& [name, why] : refused) {
        INFO(name);
        CHECK(why_not_parameter_name(name) == std::string(why));
    }
    // Python NFKC-normalises identifiers: each of these would reach the notebook as another name.
    const char* normalised[] = {
        "caf\xC3\xA9",                                                       // café: a letter, but not ASCII
        "\xF0\x9D\x90\x93\xF0\x9D\x90\xAB\xF0\x9D\x90\xAE\xF0\x9D\x90\x9E",  // mathematical bold 𝐓𝐫𝐮𝐞 is True
        "a\xC2\xA0"
        "b",               // a no-break space
        "\xEF\xBD\x98",    // fullwidth ｘ is x
        "\xEF\xAC\x81le",  // the ligature ﬁ is fi
        "bad\xFF",
    };
    for (const char* name : normalised) {
        INFO(escape_invalid_utf8(name));
        CHECK_THAT(why_not_parameter_name(name).value_or(""),
                   Catch::StartsWith("it holds a character that is not ASCII"));
    }
}

// Every kind of invalid UTF-8, alone, after text and at the very end (where a lead byte has nothing
// after it: the heap-buffer-overflow of the first escaper).
TEST_CASE("papermill: a parameter that is not valid UTF-8 is refused and never read past",
          "[notebook][papermill]") {
    struct Case {
        std::string_view bytes;
        std::size_t offset;  // of the first bad byte
        std::string_view reason;
    };
    const Case cases[] = {
        {"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\xF0", 46, "a sequence cut short"},
        {"\xF0", 0, "a sequence cut short"},
        {"x\xF0\x9F", 1, "a sequence cut short"},
        {"x\xF0\x9F\x98", 1, "a sequence cut short"},
        {"x\xE6\x97", 1, "a sequence cut short"},
        {"x\xC3", 1, "a sequence cut short"},
        {"caf\xE9", 3, "a sequence cut short"},  // Latin-1
        {"caf\xE9 ok", 3, "a sequence cut short"},
        {"\xF0\x9F\x98"
         "A",
         0, "a sequence cut short"},
        {"\x80", 0, "a continuation byte with no lead byte before it"},
        {"ok\xBF", 2, "a continuation byte with no lead byte before it"},
        {"\xC3\xA9\xA9", 2, "a continuation byte with no lead byte before it"},
        {"\xC0\xAF", 0, "an overlong form"},
        {"\xC1\xBF", 0, "an overlong form"},
        {"\xE0\x80\xAF", 0, "an overlong form"},
        {"\xE0\x9F\xBF", 0, "an overlong form"},
        {"\xF0\x80\x80\xAF", 0, "an overlong form"},
        {"\xF0\x8F\xBF\xBF", 0, "an overlong form"},
        {"s\xED\xA0\x80", 1, "a surrogate (U+D800 to U+DFFF)"},
        {"\xED\xB0\x80", 0, "a surrogate (U+D800 to U+DFFF)"},
        {"\xED\xA0\xBD\xED\xB8\x80", 0, "a surrogate (U+D800 to U+DFFF)"},  // CESU-8 of U+1F600
        {"\xF4\x90\x80\x80", 0, "a code point past U+10FFFF"},
        {"\xF5\x80\x80\x80", 0, "a byte that never occurs in UTF-8"},
        {"\xF8\x88\x80\x80\x80", 0, "a byte that never occurs in UTF-8"},
        {"\xFE", 0, "a byte that never occurs in UTF-8"},
        {"\xFF", 0, "a byte that never occurs in UTF-8"},
    };
    for (const Case& c : cases) {
        // A copy of exactly the bytes, on the heap, so that reading past them is caught by ASan.
        const std::string bytes(c.bytes);
        INFO(escape_invalid_utf8(bytes));
        const std::string expected = fmt::format("the byte at offset {} (0x{:02x}) is {}", c.offset,
                                                 static_cast<unsigned char>(bytes[c.offset]), c.reason);
        const Status top = check_parameter_text(json{{"p", bytes}});
        REQUIRE_FALSE(top);
        CHECK(top.error().message == "parameters.p is not valid UTF-8 text: " + expected +
                                         "; a notebook parameter is a Python str, so give it as UTF-8");
        const Status nested = check_parameter_text(json{{"ok", "fine"}, {"q", {{"rows", {"a", bytes}}}}});
        REQUIRE_FALSE(nested);
        CHECK_THAT(nested.error().message,
                   Catch::StartsWith("parameters.q.rows[1] is not valid UTF-8 text: "));
        const Status key = check_parameter_text(json{{"m", {{bytes, 1}}}});
        REQUIRE_FALSE(key);
        CHECK_THAT(key.error().message,
                   Catch::StartsWith("the key parameters.m." + escape_invalid_utf8(bytes)));
        // The escaper itself stays within the string, whatever it is given.
        const std::string literal = python_literal(bytes);
        CHECK_THAT(literal, Catch::Contains("\\ufffd"));
        CHECK(is_valid_utf8(literal));
    }
    CHECK(check_parameter_text(json{{"s", "caf\xC3\xA9 \xF0\x9F\x98\x80"}, {"n", 1}, {"l", {nullptr, "x"}}}));
}

TEST_CASE("papermill: the injected cell goes after the parameters cell", "[notebook][papermill]") {
    const json input = notebook_of(json::array({code_cell("import os"), code_cell("x = 1\ny = 'a'", {"parameters"}),
                                                code_cell("print(x)")}));
    const json out = inject_parameters(input, {{"x", 42}});
    REQUIRE(out["cells"].size() == 4);
    CHECK(cell_source(out["cells"][1]) == "x = 1\ny = 'a'");  // the defaults stay as they are
    const json& injected = out["cells"][2];
    CHECK(injected["cell_type"] == "code");
    CHECK(injected["metadata"]["tags"] == json::array({"injected-parameters"}));
    CHECK(injected["source"] == json::array({"# Parameters\n", "x = 42\n"}));
    CHECK(injected["outputs"] == json::array());
    CHECK(injected["execution_count"].is_null());
    CHECK_FALSE(injected.contains("id"));  // nbformat 4.4 has no cell ids
    CHECK(out["metadata"]["papermill"]["parameters"] == json{{"x", 42}});
    CHECK(out["metadata"]["kernelspec"]["name"] == "python3");
    CHECK(cell_source(out["cells"][3]) == "print(x)");
}

TEST_CASE("papermill: an earlier injected cell is replaced, not added to", "[notebook][papermill]") {
    json input = notebook_of(json::array({code_cell("x = 1", {"parameters"}),
                                          code_cell("# Parameters\nx = 5\n", {"injected-parameters"}),
                                          code_cell("print(x)")}),
                             5);
    input["cells"][0]["id"] = "params";
    input["cells"][1]["id"] = "old-injected";
    input["cells"][2]["id"] = "body";
    input["metadata"]["papermill"] = {{"input_path", "a.ipynb"}, {"parameters", {{"x", 5}}}};
    const json out = inject_parameters(input, {{"x", 7}});
    REQUIRE(out["cells"].size() == 3);
    CHECK(cell_source(out["cells"][1]) == "# Parameters\nx = 7\n");
    CHECK(out["cells"][1]["id"] == "old-injected");
    CHECK(out["metadata"]["papermill"]["parameters"] == json{{"x", 7}});
    CHECK(out["metadata"]["papermill"]["input_path"] == "a.ipynb");
}

TEST_CASE("papermill: without a parameters cell the injected cell goes first", "[notebook][papermill]") {
    json input = notebook_of(json::array({code_cell("print(1)")}), 5);
    input["cells"][0]["id"] = "injected-parameters";  // the id mayaflow would pick is taken
    const json out = inject_parameters(input, {{"s", "v"}});
    REQUIRE(out["cells"].size() == 2);
    CHECK(out["cells"][0]["metadata"]["tags"] == json::array({"injected-parameters"}));
    CHECK(out["cells"][0]["id"] == "injected-parameters-2");
    CHECK(cell_source(out["cells"][1]) == "print(1)");

    const json empty = inject_parameters(notebook_of(json::array()), json::object());
    REQUIRE(empty["cells"].size() == 1);
    CHECK(cell_source(empty["cells"][0]) == "# Parameters\n");
    CHECK(empty["metadata"]["papermill"]["parameters"] == json::object());
}

TEST_CASE("papermill: a tag on a markdown cell counts, as in papermill", "[notebook][papermill]") {
    json markdown = {{"cell_type", "markdown"}, {"metadata", {{"tags", {"parameters"}}}}, {"source", "# Title"}};
    const json out = inject_parameters(notebook_of(json::array({markdown, code_cell("x")})), {{"x", 1}});
    CHECK(out["cells"][1]["metadata"]["tags"] == json::array({"injected-parameters"}));
}

TEST_CASE("papermill: source as a list of lines or a string", "[notebook][papermill]") {
    json cell = code_cell("");
    cell["source"] = json::array({"a = 1\n", "b = 2"});
    CHECK(cell_source(cell) == "a = 1\nb = 2");
    cell["source"] = "one";
    CHECK(cell_source(cell) == "one");
}

TEST_CASE("papermill: a notebook that cannot be read gets an error naming the file", "[notebook][papermill]") {
    const std::filesystem::path file = "/dags/reports/chart.ipynb";
    const auto error_of = [&](std::string_view text) {
        Result<json> parsed = parse_notebook(text, file);
        REQUIRE_FALSE(parsed);
        return parsed.error().message;
    };
    CHECK(error_of("{\"cells\": [], \"nbformat\": 4, \"x\": \"caf\xE9\"}") ==
          "notebook /dags/reports/chart.ipynb is not valid UTF-8 (the byte at offset 38 is 0xe9); notebooks are JSON in UTF-8");
    CHECK_THAT(error_of("{\"cells\": [,]}"), Catch::StartsWith("notebook /dags/reports/chart.ipynb is not valid JSON: "));
    CHECK_THAT(error_of(""), Catch::StartsWith("notebook /dags/reports/chart.ipynb is not valid JSON"));
    CHECK(error_of("[1]") == "notebook /dags/reports/chart.ipynb is not a notebook: its JSON is not an object");
    CHECK(error_of("{\"cells\": []}") == "notebook /dags/reports/chart.ipynb is not a notebook: it has no \"nbformat\" version");
    CHECK_THAT(error_of("{\"nbformat\": 3, \"worksheets\": []}"),
               Catch::StartsWith("notebook /dags/reports/chart.ipynb is nbformat 3; only nbformat 4"));
    CHECK(error_of("{\"nbformat\": 4, \"metadata\": {}}") ==
          "notebook /dags/reports/chart.ipynb is not a notebook: it has no \"cells\" list");
    CHECK(error_of("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": [1]}]}") ==
          "notebook /dags/reports/chart.ipynb: cell 1 has no source (a string or a list of strings)");
    CHECK(error_of("{\"nbformat\": 4, \"cells\": [3]}") ==
          "notebook /dags/reports/chart.ipynb: cell 1 is not a cell (an object with a cell_type)");
    // nlohmann throws out_of_range, not parse_error, for a number beyond a double, which got past this
    // catch (the same gap fuzz/connection_uri_fuzz.cpp found in pyjson::loads).
    CHECK_THAT(error_of("{\"nbformat\": 4, \"cells\": [], \"x\": 1e400}"),
               Catch::StartsWith("notebook /dags/reports/chart.ipynb has a number too large for a double"));
    CHECK(parse_notebook("{\"nbformat\": 4, \"cells\": []}", file));
}

TEST_CASE("papermill: reading a notebook file", "[notebook][papermill]") {
    exec_test::TempDir dir;
    const auto missing = read_notebook(dir.path() / "missing.ipynb");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "notebook " + (dir.path() / "missing.ipynb").string() + " does not exist");
    const auto folder = read_notebook(dir.path());
    REQUIRE_FALSE(folder);
    CHECK_THAT(folder.error().message, Catch::EndsWith(" is not a file"));

    std::ofstream(dir.path() / "ok.ipynb") << notebook_of(json::array({code_cell("x = '\xE2\x82\xAC'")})).dump();
    const auto ok = read_notebook(dir.path() / "ok.ipynb");
    REQUIRE(ok);
    CHECK(cell_source((*ok)["cells"][0]) == "x = '\xE2\x82\xAC'");
}

}  // namespace
}  // namespace mayaflow::notebook
