#include "operators/notebook/executed_notebook.h"

#include <catch2/catch.hpp>

namespace mayaflow::notebook {
namespace {

using nlohmann::json;

// A notebook as mayaflow's preprocessor leaves it when cell 3 (index 2) raised.
json failed_notebook() {
    json error = {{"output_type", "error"},
                  {"ename", "ZeroDivisionError"},
                  {"evalue", "division by zero"},
                  {"traceback",
                   {"\x1b[0;31m--------\x1b[0m", "\x1b[0;31mZeroDivisionError\x1b[0m    Traceback (most recent call last)",
                    "Cell \x1b[0;32mIn [3], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m \x1b[38;5;241;43m1\x1b[39;49m/0\n",
                    "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"}}};
    return {{"nbformat", 4},
            {"cells",
             {{{"cell_type", "markdown"}, {"source", "# Report"}},
              {{"cell_type", "code"}, {"execution_count", 1}, {"source", "x = 1"}, {"outputs", json::array()}},
              {{"cell_type", "code"}, {"execution_count", 3}, {"source", {"y = 2\n", "1/0"}}, {"outputs", {error}}},
              {{"cell_type", "code"}, {"execution_count", nullptr}, {"source", "print('after')"}, {"outputs", json::array()}}}},
            {"metadata", {{"mayaflow", {{"failed_cell", 2}, {"timed_out", false}, {"error", "CellExecutionError: ..."}}}}}};
}

TEST_CASE("executed notebook: ANSI colour codes are stripped", "[notebook]") {
    CHECK(strip_ansi("\x1b[0;31mError\x1b[0m: x") == "Error: x");
    CHECK(strip_ansi("a\x1b[38;5;241;43mb\x1b[39;49m") == "ab");
    CHECK(strip_ansi("\x1b]0;title\x07text") == "text");
    CHECK(strip_ansi("plain \xE6\x97\xA5") == "plain \xE6\x97\xA5");
    CHECK(strip_ansi("cut\x1b[0") == "cut");
}

TEST_CASE("executed notebook: a failing cell's number, source and traceback", "[notebook]") {
    const auto failure = find_failure(failed_notebook());
    REQUIRE(failure);
    CHECK(failure->cell_number == 3);
    CHECK(failure->execution_count == 3);
    CHECK(failure->source == "y = 2\n1/0");
    CHECK(failure->error == "ZeroDivisionError: division by zero");
    CHECK_FALSE(failure->timed_out);
    CHECK(failure->traceback.find('\x1b') == std::string::npos);
    CHECK_THAT(failure->traceback, Catch::Contains("----> 1 1/0"));
    CHECK(failure_message(*failure, "10m") == "cell 3 failed: ZeroDivisionError: division by zero");
    const std::string report = failure_report(*failure, "10m");
    CHECK_THAT(report, Catch::StartsWith("cell 3 failed: ZeroDivisionError: division by zero (In [3])\n"
                                         "----- source of cell 3 -----\ny = 2\n1/0\n----- traceback -----\n"));
    CHECK_THAT(report, Catch::EndsWith("ZeroDivisionError: division by zero\n-----"));
}

TEST_CASE("executed notebook: a timed-out cell and a dead kernel", "[notebook]") {
    json nb = failed_notebook();
    nb["cells"][2]["outputs"] = json::array();
    nb["metadata"]["mayaflow"] = {{"failed_cell", 1}, {"timed_out", true}, {"error", "CellTimeoutError: A cell timed out\nmore"}};
    auto failure = find_failure(nb);
    REQUIRE(failure);
    CHECK(failure->cell_number == 2);
    CHECK(failure->timed_out);
    CHECK(failure_message(*failure, "2s") == "cell 2 timed out after 2s (cell_timeout)");

    nb["metadata"]["mayaflow"] = {{"failed_cell", 1}, {"timed_out", false}, {"error", "DeadKernelError: Kernel died"}};
    failure = find_failure(nb);
    REQUIRE(failure);
    CHECK(failure_message(*failure, "2s") == "cell 2 failed: DeadKernelError: Kernel died");
    CHECK_THAT(failure_report(*failure, "2s"), Catch::Contains("----- error -----\nDeadKernelError: Kernel died\n"));
}

TEST_CASE("executed notebook: no failure, or an error output without mayaflow's record", "[notebook]") {
    json nb = failed_notebook();
    nb["metadata"].erase("mayaflow");
    auto failure = find_failure(nb);
    REQUIRE(failure);
    CHECK(failure->cell_number == 3);
    nb["cells"][2]["outputs"] = json::array();
    CHECK_FALSE(find_failure(nb));
    nb["metadata"]["mayaflow"] = {{"failed_cell", 99}};  // out of range: ignored
    CHECK_FALSE(find_failure(nb));
    CHECK_FALSE(find_failure(json::object()));
}

}  // namespace
}  // namespace mayaflow::notebook
