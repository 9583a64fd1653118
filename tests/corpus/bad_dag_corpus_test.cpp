// Every file in tests/corpus/bad_dags must fail to load with the error its last lines expect.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/dagfile/dag_loader.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

struct Expectation {
    std::vector<std::string> fragments;
    std::vector<std::string> locations;
};

Expectation read_expectation(const std::filesystem::path& file) {
    Expectation expectation;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("# expect: ")) expectation.fragments.push_back(line.substr(10));
        if (line.starts_with("# expect-location: ")) expectation.locations.push_back(line.substr(19));
    }
    return expectation;
}

}  // namespace

TEST_CASE("every bad DAG in the corpus fails with the error it expects", "[corpus]") {
    namespace fs = std::filesystem;
    fs::path folder = fs::path(MAYAFLOW_SOURCE_DIR) / "tests" / "corpus" / "bad_dags";
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 40);
    for (const auto& file : files) {
        Expectation expectation = read_expectation(file);
        INFO(file.filename().string());
        REQUIRE_FALSE(expectation.fragments.empty());
        auto result = load_dag_file(file, DagLoadOptions{&builtin_operators(), folder});
        CHECK_FALSE(result.dag.has_value());
        std::string errors = format_errors(result.errors);
        INFO(errors);
        for (const auto& fragment : expectation.fragments) CHECK_THAT(errors, Catch::Contains(fragment));
        for (const auto& location : expectation.locations) {
            CHECK_THAT(errors, Catch::Contains(file.filename().string() + location));
        }
    }
}

TEST_CASE("the example DAGs all load", "[corpus]") {
    namespace fs = std::filesystem;
    fs::path folder = fs::path(MAYAFLOW_SOURCE_DIR) / "dags";
    size_t loaded = 0;
    for (const auto& entry : fs::directory_iterator(folder)) {
        auto name = entry.path().filename().string();
        if (entry.path().extension() != ".yaml" || name.starts_with("_")) continue;
        auto result = load_dag_file(entry.path(), DagLoadOptions{&builtin_operators(), folder});
        INFO(name << "\n" << format_errors(result.errors));
        CHECK(result.dag.has_value());
        ++loaded;
    }
    CHECK(loaded >= 3);
}

}  // namespace mayaflow
