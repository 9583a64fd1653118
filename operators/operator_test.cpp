#include "operators/operator.h"

#include <catch2/catch.hpp>

#include <stdexcept>

#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

OperatorSpec sample_spec() {
    OperatorSpec spec;
    spec.name = "sample";
    spec.params = {
        ParamSpec{.name = "query", .type = ParamType::string, .templated = true},
        ParamSpec{.name = "labels", .type = ParamType::map, .templated = true},
        ParamSpec{.name = "files", .type = ParamType::list, .templated = true},
        ParamSpec{.name = "raw", .type = ParamType::string},
        ParamSpec{.name = "limit", .type = ParamType::integer, .templated = true},
    };
    return spec;
}

tmpl::Context sample_context() {
    tmpl::RunInfo info;
    info.dag_id = "d";
    info.task_id = "t";
    info.logical_date = Instant{std::chrono::sys_days{std::chrono::year{2024} / 3 / 1}.time_since_epoch()};
    info.params = {{"table", "sales"}};
    info.variable = [](std::string_view name) -> std::optional<std::string> {
        if (name == "broken") throw std::runtime_error("the variable store is unreachable");
        return std::nullopt;
    };
    return tmpl::make_airflow_context(info);
}

TEST_CASE("render_templated_params renders templated strings and the string leaves of lists and maps",
          "[operator]") {
    Task task;
    task.params = {
        {"query", "SELECT * FROM {{ params.table }} WHERE day = '{{ ds }}'"},
        {"labels", {{"day", "{{ ds_nodash }}"}, {"nested", {{"list", {"{{ params.table }}", 3, true}}}}}},
        {"files", {"gs://b/{{ ds }}/a.csv", nullptr}},
        {"raw", "{{ left as written }}"},
        {"limit", 10},
        {"undeclared", "{{ also left }}"},
    };
    const Result<nlohmann::json> rendered = render_templated_params(sample_spec(), task, sample_context());
    REQUIRE(rendered);
    CHECK((*rendered)["query"] == "SELECT * FROM sales WHERE day = '2024-03-01'");
    CHECK((*rendered)["labels"]["day"] == "20240301");
    CHECK((*rendered)["labels"]["nested"]["list"] == nlohmann::json({"sales", 3, true}));
    CHECK((*rendered)["files"] == nlohmann::json({"gs://b/2024-03-01/a.csv", nullptr}));
    CHECK((*rendered)["raw"] == "{{ left as written }}");
    CHECK((*rendered)["limit"] == 10);
    CHECK((*rendered)["undeclared"] == "{{ also left }}");
    // The task itself keeps its templates for the next try.
    CHECK(task.params["query"] == "SELECT * FROM {{ params.table }} WHERE day = '{{ ds }}'");
}

TEST_CASE("render_templated_params passes text without markup byte for byte; rendered values keep theirs",
          "[operator]") {
    tmpl::RunInfo info;
    info.dag_id = "d";
    info.variable = [](std::string_view name) -> std::optional<std::string> {
        if (name == "crlf") return std::string("a\r\nb\rc\n\n");
        return std::nullopt;
    };
    const tmpl::Context context = tmpl::make_airflow_context(info);
    const std::string plain[] = {"line\r\n", "cr\ronly", "two\n\n",      "ends\n",
                                 "\r",       "\n",       "a } b { c %}", "{ {x} }"};
    for (const std::string& text : plain) {
        Task task;
        task.params = {{"query", text}, {"labels", {{"k", text}}}, {"files", {text}}};
        const Result<nlohmann::json> rendered = render_templated_params(sample_spec(), task, context);
        REQUIRE(rendered);
        CHECK((*rendered)["query"] == text);
        CHECK((*rendered)["labels"]["k"] == text);
        CHECK((*rendered)["files"][0] == text);
    }
    Task task;
    task.params = {{"query", "{{ var.value.crlf }}"}, {"labels", {{"k", "x={{ 'd' }}\r\n"}}}};
    const Result<nlohmann::json> rendered = render_templated_params(sample_spec(), task, context);
    REQUIRE(rendered);
    // What a template prints is kept as it is; the template's own text is Jinja's (one trailing newline
    // dropped, \r\n read as \n).
    CHECK((*rendered)["query"] == "a\r\nb\rc\n\n");
    CHECK((*rendered)["labels"]["k"] == "x=d");
}

TEST_CASE("render_templated_params names the parameter and the place of an error", "[operator]") {
    auto error_of = [](nlohmann::json params) {
        Task task;
        task.params = std::move(params);
        const Result<nlohmann::json> rendered =
            render_templated_params(sample_spec(), task, sample_context());
        REQUIRE_FALSE(rendered);
        return rendered.error().message;
    };
    CHECK(error_of({{"query", "{{ nope }}"}}) == "template error in query: 'nope' is undefined");
    CHECK(error_of({{"labels", {{"a", {{"b", "{{ nope }}"}}}}}}) ==
          "template error in labels.a.b: 'nope' is undefined");
    CHECK(error_of({{"files", {"ok", "{{ nope }}"}}}) == "template error in files[1]: 'nope' is undefined");
    CHECK_THAT(error_of({{"query", "{% if %}"}}),
               Catch::StartsWith("template error in query: line 1, column"));
    // A lookup callback that throws fails the parameter, not the daemon.
    CHECK_THAT(error_of({{"query", "{{ var.value.broken }}"}}),
               Catch::StartsWith("template error in query: ") && Catch::Contains("unreachable"));
}

TEST_CASE("make_task_context takes task_id and loop_vars from the task and try_number from the try",
          "[operator]") {
    Task task;
    task.task_id = "load_users";
    task.loop_vars = {{"table", "users"}};
    tmpl::RunInfo info;
    info.dag_id = "d";
    info.task_id = "something else";
    info.try_number = 7;
    const TaskRun run{.task = task, .run_info = info, .try_number = 2};
    const tmpl::Context context = make_task_context(run);
    auto render = [&](std::string_view text) { return *tmpl::Template::parse(text)->render(context); };
    CHECK(render("{{ task.task_id }} {{ table }} {{ ti.try_number }}") == "load_users users 2");
}

TEST_CASE("the default resume reports a try that ended with the daemon", "[operator]") {
    struct Remote : Operator {
        OperatorResult execute(const TaskRun&) override { return {}; }
    } remote;
    Task task;
    const OperatorResult result = remote.resume(TaskRun{.task = task}, StartedProcess{});
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.message == kEndedWithDaemonMessage);
    CHECK(result.retryable);
}

TEST_CASE("OperatorRegistry keeps specs and factories", "[operator][registry]") {
    struct Counting : Operator {
        OperatorResult execute(const TaskRun&) override {
            return {.outcome = TaskOutcome::success, .value = 1};
        }
    };
    OperatorRegistry registry;
    registry.add(OperatorSpec{.name = "counting"}, [] { return std::make_unique<Counting>(); });
    registry.add(OperatorSpec{.name = "declared_only"});
    CHECK(registry.names() == std::vector<std::string>{"counting", "declared_only"});
    REQUIRE(registry.find("counting"));
    CHECK(registry.find("counting")->name == "counting");
    CHECK(registry.find("missing") == nullptr);
    std::unique_ptr<Operator> first = registry.create("counting");
    std::unique_ptr<Operator> second = registry.create("counting");
    REQUIRE(first);
    CHECK(first != second);
    CHECK(registry.create("declared_only") == nullptr);
    CHECK(registry.create("missing") == nullptr);

    const OperatorRegistry& builtin = builtin_operators();
    CHECK(builtin.names() == std::vector<std::string>{"bash", "bigquery_check", "bigquery_column_check",
                                                     "bigquery_insert_job", "bigquery_query", "bigquery_table_check",
                                                     "bigquery_value_check", "empty", "firebase_export",
                                                     "gcs_object_sensor", "gcs_object_update_sensor",
                                                     "gcs_to_bigquery", "notebook", "slack_webhook"});
    REQUIRE(builtin.find("bash"));
    CHECK(builtin.find("bash")->find_param("skip_on_exit_code")->default_value ==
          nlohmann::json::array({99}));
}

TEST_CASE("daemon_environment reads this process's environment", "[operator]") {
    ::setenv("MAYAFLOW_OPERATOR_TEST", "a=b", 1);
    const auto env = daemon_environment();
    CHECK(env.at("MAYAFLOW_OPERATOR_TEST") == "a=b");
    ::unsetenv("MAYAFLOW_OPERATOR_TEST");
}

TEST_CASE("TaskOutcome has Airflow's state names", "[operator]") {
    CHECK(to_string(TaskOutcome::success) == "success");
    CHECK(to_string(TaskOutcome::failed) == "failed");
    CHECK(to_string(TaskOutcome::skipped) == "skipped");
}

}  // namespace
}  // namespace mayaflow
