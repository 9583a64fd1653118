#include "engine/dagfile/dag_loader.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "engine/dagfile/dag_folder.h"

namespace mayaflow {
namespace {

// Operators for the loader's tests: a shell-like one with every parameter type, and a no-op.
class TestCatalog : public OperatorCatalog {
  public:
    TestCatalog() {
        OperatorSpec shell;
        shell.name = "bash";
        shell.params = {
            ParamSpec{.name = "bash_command",
                      .type = ParamType::string,
                      .required = true,
                      .templated = true,
                      .template_ext = {".sh"}},
            ParamSpec{.name = "env", .type = ParamType::string_map, .templated = true},
            ParamSpec{.name = "cwd", .type = ParamType::string},
            ParamSpec{.name = "skip_on_exit_code",
                      .type = ParamType::integer_or_list,
                      .default_value = nlohmann::json::array({99})},
            ParamSpec{.name = "mode",
                      .type = ParamType::string,
                      .default_value = "poke",
                      .allowed_values = {"poke", "reschedule"}},
            ParamSpec{.name = "count", .type = ParamType::integer},
            ParamSpec{.name = "verbose", .type = ParamType::boolean},
            ParamSpec{.name = "timeout", .type = ParamType::duration},
            ParamSpec{.name = "shell",
                      .type = ParamType::string,
                      .check =
                          [](const nlohmann::json& value) {
                              return value == ""
                                         ? std::optional<ParamProblem>(ParamProblem{{}, "shell is empty"})
                                         : std::nullopt;
                          }},
        };
        specs_.push_back(shell);
        OperatorSpec empty;
        empty.name = "empty";
        specs_.push_back(empty);
    }
    const OperatorSpec* find(std::string_view name) const override {
        for (const auto& spec : specs_) {
            if (spec.name == name) return &spec;
        }
        return nullptr;
    }
    std::vector<std::string> names() const override { return {"bash", "empty"}; }

  private:
    std::vector<OperatorSpec> specs_;
};

const TestCatalog& catalog() {
    static TestCatalog instance;
    return instance;
}

DagLoadResult load(const std::string& yaml, const std::string& name = "test_dag.yaml") {
    return load_dag_text(yaml, std::filesystem::path("/tmp/mayaflow-loader-test") / name,
                         DagLoadOptions{&catalog(), "/tmp/mayaflow-loader-test"});
}

std::string errors_of(const DagLoadResult& result) { return format_errors(result.errors); }

std::vector<std::string> ids(const Dag& dag) {
    std::vector<std::string> result;
    for (const auto& task : dag.tasks) result.push_back(task.task_id);
    return result;
}

}  // namespace

TEST_CASE("a minimal DAG loads with defaults and the file name as dag_id", "[dagfile]") {
    auto result = load("tasks:\n  - task_id: a\n    operator: empty\n", "my_dag.yaml");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    CHECK(result.dag->dag_id == "my_dag");
    CHECK(result.dag->schedule.kind() == Schedule::Kind::none);
    CHECK_FALSE(result.dag->catchup);
    CHECK(result.dag->max_active_runs == 16);
    CHECK(result.dag->tasks.size() == 1);
    CHECK(result.dag->owner == "airflow");
    CHECK_FALSE(result.dag->source_hash.empty());
}

TEST_CASE("DAG fields are read and typed", "[dagfile]") {
    auto result = load(R"(
dag_id: sales_daily
description: Daily sales
schedule: "0 3 * * *"
timezone: Asia/Tokyo
start_date: 2024-03-01
end_date: 2024-12-31T00:00:00+09:00
catchup: true
max_active_runs: 2
max_active_tasks: 4
dagrun_timeout: 1h30m
tags: [sales, daily]
owner: data-team
params: {table: sales, limit: 10}
tasks:
  - task_id: a
    operator: empty
)");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    const Dag& dag = *result.dag;
    CHECK(dag.dag_id == "sales_daily");
    CHECK(dag.timezone.name() == "Asia/Tokyo");
    CHECK(dag.schedule.kind() == Schedule::Kind::cron);
    REQUIRE(dag.start_date);
    // 2024-03-01 00:00 in Tokyo is 2024-02-29 15:00 UTC.
    CHECK(dag.start_date->time_since_epoch() == std::chrono::sys_days{std::chrono::year{2024} / 2 / 29}.time_since_epoch() + std::chrono::hours(15));
    CHECK(dag.catchup);
    CHECK(dag.max_active_runs == 2);
    CHECK(dag.max_active_tasks == 4);
    CHECK(dag.dagrun_timeout == std::chrono::minutes(90));
    CHECK(dag.tags == std::vector<std::string>{"sales", "daily"});
    CHECK(dag.owner == "data-team");
    CHECK(dag.params["table"] == "sales");
    CHECK(dag.params["limit"] == 10);
    CHECK(dag.tasks[0].owner == "data-team");
}

TEST_CASE("task fields and default_args and operator parameters", "[dagfile]") {
    auto result = load(R"(
default_args:
  retries: 3
  retry_delay: 90s
  verbose: true
tasks:
  - task_id: a
    operator: bash
    bash_command: "echo {{ ds }}"
    env: {A: "1", B: 2}
    retries: 5
    retry_exponential_backoff: true
    max_retry_delay: 1h
    execution_timeout: 10m
    pool: etl
    pool_slots: 2
    priority_weight: 7
    weight_rule: absolute
    trigger_rule: one_failed
    depends_on_past: true
    timeout: 5m
  - task_id: b
    operator: empty
    depends_on: a
)");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    const Task& a = *result.dag->find_task("a");
    CHECK(a.retry.retries == 5);
    CHECK(a.retry.retry_delay == std::chrono::seconds(90));
    CHECK(a.retry.exponential_backoff);
    CHECK(a.retry.max_retry_delay == std::chrono::hours(1));
    CHECK(a.execution_timeout == std::chrono::minutes(10));
    CHECK(a.pool == "etl");
    CHECK(a.pool_slots == 2);
    CHECK(a.priority_weight == 7);
    CHECK(a.weight_rule == WeightRule::absolute);
    CHECK(a.trigger_rule == TriggerRule::one_failed);
    CHECK(a.depends_on_past);
    CHECK(a.params["bash_command"] == "echo {{ ds }}");  // kept as a template until run time
    CHECK(a.params["env"]["B"] == "2");
    CHECK(a.params["verbose"] == true);                    // from default_args
    CHECK(a.params["skip_on_exit_code"] == nlohmann::json::array({99}));  // declared default
    CHECK(a.params["mode"] == "poke");
    CHECK(a.params["timeout"] == 300.0);
    const Task& b = *result.dag->find_task("b");
    CHECK(b.retry.retries == 3);                   // default_args apply to task fields
    CHECK_FALSE(b.params.contains("verbose"));     // but only to parameters the operator declares
    CHECK(b.upstream == std::vector<std::string>{"a"});
    CHECK(result.dag->find_task("a")->downstream == std::vector<std::string>{"b"});
}

TEST_CASE("for_each makes one task per item and per combination of several lists", "[dagfile]") {
    auto result = load(R"(
tasks:
  - task_id: extract
    operator: empty
  - task_id: "load_{{ item }}"
    operator: bash
    for_each: [sales, users]
    depends_on: [extract]
    bash_command: "load {{ item }} for {{ ds }}"
  - task_id: "copy_{{ table }}_{{ region }}"
    operator: empty
    for_each:
      table: [a, b]
      region: [eu, us]
    depends_on: ["load_*"]
)");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    CHECK(ids(*result.dag) == std::vector<std::string>{"extract", "load_sales", "load_users", "copy_a_eu",
                                                        "copy_a_us", "copy_b_eu", "copy_b_us"});
    const Task& load_sales = *result.dag->find_task("load_sales");
    CHECK(load_sales.loop_vars["item"] == "sales");
    CHECK(load_sales.params["bash_command"] == "load {{ item }} for {{ ds }}");
    CHECK(result.dag->find_task("copy_b_us")->upstream == std::vector<std::string>{"load_sales", "load_users"});
}

TEST_CASE("for_each over mappings uses attribute access in ids", "[dagfile]") {
    auto result = load(R"(
tasks:
  - task_id: "t_{{ item.name }}"
    operator: empty
    for_each: [{name: x}, {name: y}]
)");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    CHECK(ids(*result.dag) == std::vector<std::string>{"t_x", "t_y"});
}

TEST_CASE("task groups prefix ids and depending on a group means its last tasks", "[dagfile]") {
    auto result = load(R"(
tasks:
  - task_id: start
    operator: empty
  - group: "{{ table }}"
    for_each: {table: [users, orders]}
    depends_on: [start]
    tasks:
      - task_id: raw
        operator: empty
      - task_id: staging
        operator: empty
        depends_on: [raw]
      - task_id: mart
        operator: empty
        depends_on: [staging]
  - task_id: report
    operator: empty
    depends_on: [users, orders]
)");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    const Dag& dag = *result.dag;
    REQUIRE(dag.find_task("users.raw"));
    CHECK(dag.find_task("users.raw")->upstream == std::vector<std::string>{"start"});
    CHECK(dag.find_task("users.staging")->upstream == std::vector<std::string>{"users.raw"});
    CHECK(dag.find_task("users.raw")->group_id == "users");
    CHECK(dag.find_task("report")->upstream == std::vector<std::string>{"users.mart", "orders.mart"});
    CHECK(dag.tasks.front().task_id == "start");
    CHECK(dag.tasks.back().task_id == "report");
}

TEST_CASE("nested groups and names resolved from the inside out", "[dagfile]") {
    auto result = load(R"(
tasks:
  - task_id: prepare
    operator: empty
  - group: outer
    tasks:
      - task_id: prepare
        operator: empty
      - group: inner
        depends_on: [prepare]
        tasks:
          - task_id: work
            operator: empty
  - task_id: finish
    operator: empty
    depends_on: [outer]
)");
    INFO(errors_of(result));
    REQUIRE(result.dag);
    const Dag& dag = *result.dag;
    CHECK(dag.find_task("outer.inner.work")->upstream == std::vector<std::string>{"outer.prepare"});
    CHECK(dag.find_task("finish")->upstream == std::vector<std::string>{"outer.inner.work"});
    CHECK(dag.find_task("outer.prepare")->upstream.empty());
}

TEST_CASE("errors name file and line and column and field", "[dagfile]") {
    auto result = load("tasks:\n  - task_id: a\n    operator: bash\n    bash_command: x\n    retries: three\n", "f.yaml");
    REQUIRE_FALSE(result.dag);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].where.line == 5);
    CHECK(result.errors[0].where.column == 14);
    CHECK(result.errors[0].field == "tasks[0].retries");
    CHECK_THAT(result.errors[0].to_string(),
               Catch::Contains("f.yaml:5:14: tasks[0].retries: expected a whole number, got \"three\""));
}

TEST_CASE("an untemplated string parameter's own check runs on its final text, with its place", "[dagfile]") {
    auto result =
        load("tasks:\n  - task_id: a\n    operator: bash\n    bash_command: x\n    shell: \"\"\n", "f.yaml");
    REQUIRE_FALSE(result.dag);
    REQUIRE(result.errors.size() == 1);
    CHECK_THAT(result.errors[0].to_string(), Catch::Contains("f.yaml:5:12: tasks[0].shell: shell is empty"));
    // A for_each variable is put in first: the check sees what the task gets.
    result = load(R"(
tasks:
  - task_id: "t_{{ item }}"
    operator: bash
    for_each: ["", "x"]
    bash_command: x
    shell: "{{ item }}"
)");
    REQUIRE_FALSE(result.dag);
    REQUIRE(result.errors.size() == 1);
    CHECK_THAT(errors_of(result), Catch::Contains("shell is empty"));
    CHECK(load("tasks:\n  - task_id: a\n    operator: bash\n    bash_command: x\n    shell: bash\n").dag);
}

TEST_CASE("several errors in one file are all reported", "[dagfile]") {
    auto result = load(R"(
schedul: "@daily"
tasks:
  - task_id: a
    operator: bsh
  - task_id: b
    operator: bash
    bash_comand: echo
)");
    REQUIRE_FALSE(result.dag);
    auto text = errors_of(result);
    CHECK_THAT(text, Catch::Contains("unknown DAG field 'schedul' (did you mean 'schedule'?)"));
    CHECK_THAT(text, Catch::Contains("unknown operator 'bsh' (did you mean 'bash'?)"));
    CHECK_THAT(text, Catch::Contains("unknown field 'bash_comand' for a bash task (did you mean 'bash_command'?)"));
    CHECK_THAT(text, Catch::Contains("missing its required parameter 'bash_command'"));
}

TEST_CASE("a dependency cycle is printed", "[dagfile]") {
    auto result = load(R"(
tasks:
  - task_id: a
    operator: empty
    depends_on: [c]
  - task_id: b
    operator: empty
    depends_on: [a]
  - task_id: c
    operator: empty
    depends_on: [b]
  - task_id: d
    operator: empty
    depends_on: [c]
)");
    REQUIRE_FALSE(result.dag);
    auto text = errors_of(result);
    CHECK_THAT(text, Catch::Contains("dependency cycle: "));
    bool any_rotation = text.find("a -> b -> c -> a") != std::string::npos ||
                        text.find("b -> c -> a -> b") != std::string::npos ||
                        text.find("c -> a -> b -> c") != std::string::npos;
    CHECK(any_rotation);
}

TEST_CASE("merge keys and anchors work like YAML users expect", "[dagfile]") {
    auto result = load(R"(
x-common: &common
  operator: bash
  retries: 4
tasks:
  - task_id: a
    <<: *common
    bash_command: echo a
)");
    // x-common is not a DAG field: the loader says so rather than ignoring it silently.
    REQUIRE_FALSE(result.dag);
    CHECK_THAT(errors_of(result), Catch::Contains("unknown DAG field 'x-common'"));

    auto ok = load(R"(
default_args: &defaults
  retries: 4
tasks:
  - task_id: a
    <<: {operator: bash, bash_command: echo a}
    retries: 1
)");
    INFO(errors_of(ok));
    REQUIRE(ok.dag);
    CHECK(ok.dag->find_task("a")->retry.retries == 1);
    CHECK(ok.dag->find_task("a")->operator_name == "bash");
}

TEST_CASE("files are included relative to the DAG file and stay inside the DAG folder", "[dagfile]") {
    namespace fs = std::filesystem;
    fs::path folder = fs::temp_directory_path() / "mayaflow-include-test";
    fs::remove_all(folder);
    fs::create_directories(folder / "sql");
    std::ofstream(folder / "sql" / "run.sh") << "echo {{ ds }} {{ table }}\n";
    std::ofstream(folder / "tables.json") << R"(["a", "b"])";
    std::ofstream(folder / "dag.yaml") << R"(
tasks:
  - task_id: "run_{{ table }}"
    operator: bash
    for_each: {table: !include tables.json}
    bash_command: sql/run.sh
)";
    auto result = load_dag_file(folder / "dag.yaml", DagLoadOptions{&catalog(), folder});
    INFO(format_errors(result.errors));
    REQUIRE(result.dag);
    CHECK(result.dag->find_task("run_b")->params["bash_command"] == "echo {{ ds }} {{ table }}\n");
    CHECK(result.included_files.size() >= 2);

    std::ofstream(folder / "escape.yaml") << "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: ../../etc/x.sh\n";
    auto escaped = load_dag_file(folder / "escape.yaml", DagLoadOptions{&catalog(), folder});
    REQUIRE_FALSE(escaped.dag);
    CHECK_THAT(format_errors(escaped.errors), Catch::Contains("is outside the DAG folder"));
    fs::remove_all(folder);
}

TEST_CASE("the folder lists YAML files but not hidden or underscore or ignored ones", "[dagfile]") {
    namespace fs = std::filesystem;
    fs::path folder = fs::temp_directory_path() / "mayaflow-folder-test";
    fs::remove_all(folder);
    fs::create_directories(folder / "team" / "old");
    fs::create_directories(folder / ".git");
    for (auto name : {"a.yaml", "b.yml", "_shared.yaml", ".hidden.yaml", "notes.txt", "team/c.yaml", "team/old/d.yaml",
                      ".git/e.yaml"}) {
        std::ofstream(folder / name) << "tasks: []\n";
    }
    std::ofstream(folder / ".mayaflowignore") << "# old DAGs\nteam/old\n";
    auto files = list_dag_files(folder);
    std::vector<std::string> names;
    for (const auto& file : files) names.push_back(fs::relative(file, folder).generic_string());
    CHECK(names == std::vector<std::string>{"a.yaml", "b.yml", "team/c.yaml"});

    std::ofstream(folder / "b.yml") << "dag_id: a\ntasks: []\n";
    auto loaded = load_dag_folder(folder, DagLoadOptions{&catalog(), folder});
    REQUIRE(loaded.size() == 3);
    CHECK(loaded[0].result.dag);
    CHECK_FALSE(loaded[1].result.dag);
    CHECK_THAT(format_errors(loaded[1].result.errors), Catch::Contains("dag_id 'a' is already defined in"));
    fs::remove_all(folder);
}

TEST_CASE("the loader survives hostile input", "[dagfile]") {
    std::vector<std::string> inputs = {
        "",
        "~",
        "[]",
        "tasks",
        "tasks: {a: 1}",
        "tasks: [[[[[[[]]]]]]]",
        std::string(10000, '['),
        std::string(5000, '{'),
        "a: &a [*a]",
        "tasks:\n  - task_id: a\n    operator: empty\n    for_each: &x [*x, *x]\n",
        "tasks:\n  - task_id: \"{{ item\"\n    operator: empty\n    for_each: [1]\n",
        "tasks:\n  - task_id: \"{{ 1/0 }}\"\n    operator: empty\n",
        "\xff\xfe\x00garbage",
        "tasks:\n  - task_id: a\n    operator: empty\n    depends_on: [a]\n",
        "tasks:\n  - task_id: a\n    operator: empty\n    priority_weight: 99999999999999999999\n",
        "schedule: \"* * * * * * *\"\ntasks: []",
        "timezone: \"../../etc/passwd\"\ntasks: []",
        "start_date: 2024-13-45\ntasks: []",
    };
    for (const auto& input : inputs) {
        auto result = load(input);
        INFO(input.substr(0, 80));
        if (!result.dag) CHECK_FALSE(result.errors.empty());
    }
}

}  // namespace mayaflow
