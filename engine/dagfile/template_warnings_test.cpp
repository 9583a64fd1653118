// Airflow 2 template names that Airflow 3 removed load with a warning that names the replacement;
// the DAG still loads, as it would in Airflow, but the author hears about it before 3 a.m.

#include <catch2/catch.hpp>

#include "engine/dagfile/loader_test_support.h"

namespace mayaflow {
using test::load_text;

namespace {

DagLoadResult with_command(const std::string& command, const std::string& more = "",
                           const std::string& id = "t") {
    return load_text("tasks:\n  - task_id: \"" + id + "\"\n    operator: bash\n    bash_command: \"" +
                     command + "\"\n" + more);
}

std::string warnings_of(const DagLoadResult& result) {
    return format_errors(result.warnings);
}

}  // namespace

TEST_CASE("removed Airflow 2 names warn with their Airflow 3 replacement", "[dagfile][warnings]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{{ next_ds }}", "use {{ data_interval_end | ds }}"},
        {"{{ next_ds_nodash }}", "use {{ data_interval_end | ds_nodash }}"},
        {"{{ execution_date }}", "use logical_date"},
        {"{{ execution_date.strftime('%Y') }}", "use logical_date"},
        {"{{ prev_ds }}", "prev_data_interval_start_success"},
        {"{{ prev_ds_nodash }}", "prev_data_interval_start_success | ds_nodash"},
        {"{{ tomorrow_ds }}", "macros.ds_add(ds, 1)"},
        {"{{ yesterday_ds_nodash }}", "(logical_date - macros.timedelta(days=1)) | ds_nodash"},
        {"{{ next_execution_date }}", "use data_interval_end"},
        {"{{ prev_execution_date }}", "prev_data_interval_start_success"},
        {"{{ prev_execution_date_success }}", "use prev_data_interval_start_success"},
        {"{% if tomorrow_ds is defined %}x{% endif %}", "macros.ds_add(ds, 1)"},
        {"{{ macros.ds_add(yesterday_ds, 1) }}", "macros.ds_add(ds, -1)"},
    };
    for (const auto& [command, replacement] : cases) {
        auto result = with_command(command);
        INFO(command << "\n" << format_errors(result.errors));
        REQUIRE(result.dag);
        REQUIRE(result.warnings.size() == 1);
        CHECK_THAT(warnings_of(result), Catch::Contains("was removed in Airflow 3 and is undefined here"));
        CHECK_THAT(warnings_of(result), Catch::Contains(replacement));
        CHECK(result.warnings[0].where.line == 4);
        CHECK(result.warnings[0].field == "tasks[0].bash_command");
    }
    auto positioned = with_command("echo {{ ds }} {{ next_ds }}");
    CHECK_THAT(warnings_of(positioned), Catch::Contains("'next_ds' (column 18 of the template)"));
}

TEST_CASE("names the template or the DAG defines itself do not warn", "[dagfile][warnings]") {
    for (const std::string& command :
         {std::string("{% set execution_date = 1 %}{{ execution_date }}"),
          std::string("{% for next_ds in [1] %}{{ next_ds }}{% endfor %}"),
          std::string(
              "{{ data_interval_end | ds }} {{ logical_date }} {{ prev_data_interval_start_success }}"),
          std::string("{{ dag_run.execution_date }}"), std::string("{{ params.next_ds }}"),
          std::string("next_ds without braces")}) {
        auto result = with_command(command);
        INFO(command << "\n" << format_errors(result.errors));
        REQUIRE(result.dag);
        CHECK(result.warnings.empty());
    }
    auto loop_variable =
        with_command("{{ next_ds }}", "    for_each: {next_ds: [a, b]}\n", "t_{{ next_ds }}");
    INFO(format_errors(loop_variable.errors));
    REQUIRE(loop_variable.dag);
    CHECK(loop_variable.warnings.empty());
}

TEST_CASE("a warning repeated by a for_each is said once", "[dagfile][warnings]") {
    std::string items = "[";
    for (int i = 0; i < 500; ++i) items += (i ? ", " : "") + std::to_string(i);
    auto result =
        with_command("echo {{ next_ds }} {{ prev_ds }}", "    for_each: " + items + "]\n", "t_{{ item }}");
    INFO(format_errors(result.errors));
    REQUIRE(result.dag);
    CHECK(result.dag->tasks.size() == 500);
    CHECK(result.warnings.size() == 2);
}

TEST_CASE("warnings do not hide errors and errors do not need warnings", "[dagfile][warnings]") {
    auto result = load_text(
        "tasks:\n  - task_id: t\n    operator: bash\n    bash_command: \"{{ next_ds }}\"\n"
        "    retries: many\n");
    CHECK_FALSE(result.dag);
    CHECK(result.errors.size() == 1);
    CHECK(result.warnings.size() == 1);
}

}  // namespace mayaflow
