#include <catch2/catch.hpp>

#include "engine/dagfile/dag_loader.h"
#include "engine/model/dag_json.h"

namespace mayaflow {
namespace {

// bash and two notifiers shaped as operators/notify declares them.
class CallbackCatalog : public OperatorCatalog {
  public:
    CallbackCatalog() {
        bash_.name = "bash";
        bash_.params = {ParamSpec{.name = "bash_command", .type = ParamType::string, .required = true, .templated = true}};
        slack_.name = "slack";
        slack_.params = {
            ParamSpec{.name = "slack_webhook_conn_id", .type = ParamType::string, .templated = true,
                      .default_value = "slack_default"},
            ParamSpec{.name = "text", .type = ParamType::string, .templated = true},
            ParamSpec{.name = "blocks", .type = ParamType::any, .templated = true},
        };
        webhook_.name = "webhook";
        webhook_.params = {
            ParamSpec{.name = "http_conn_id", .type = ParamType::string, .required = true, .templated = true},
            ParamSpec{.name = "body", .type = ParamType::any, .templated = true},
        };
    }
    const OperatorSpec* find(std::string_view name) const override { return name == "bash" ? &bash_ : nullptr; }
    std::vector<std::string> names() const override { return {"bash"}; }
    const OperatorSpec* find_notifier(std::string_view name) const override {
        if (name == "slack") return &slack_;
        if (name == "webhook") return &webhook_;
        return nullptr;
    }
    std::vector<std::string> notifier_names() const override { return {"slack", "webhook"}; }

  private:
    OperatorSpec bash_, slack_, webhook_;
};

DagLoadResult load(const std::string& yaml) {
    static CallbackCatalog catalog;
    return load_dag_text(yaml, "/tmp/mayaflow-callbacks/alerts.yaml", DagLoadOptions{&catalog, "/tmp/mayaflow-callbacks"});
}

}  // namespace

TEST_CASE("callbacks at DAG level are the run's; in default_args, groups and tasks the tries'", "[dagfile][callbacks]") {
    auto result = load(R"(
on_failure_callback: {notifier: slack, text: "run {{ run_id }} failed: {{ reason }}"}
on_success_callback:
  - notifier: webhook
    http_conn_id: alerts
default_args:
  on_failure_callback: {notifier: slack}
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
  - task_id: b
    operator: bash
    bash_command: "true"
    on_failure_callback:
    on_retry_callback: [{notifier: slack, slack_webhook_conn_id: ops}, {notifier: webhook, http_conn_id: x}]
  - group: g
    default_args:
      on_success_callback: {notifier: slack, text: "{{ ti.task_id }} ok"}
    tasks:
      - task_id: c
        operator: bash
        bash_command: "true"
)");
    INFO(format_errors(result.errors));
    REQUIRE(result.dag);
    const Dag& dag = *result.dag;
    REQUIRE(dag.callbacks.on_failure.size() == 1);
    CHECK(dag.callbacks.on_failure[0].notifier == "slack");
    CHECK(dag.callbacks.on_failure[0].params ==
          nlohmann::json{{"slack_webhook_conn_id", "slack_default"}, {"text", "run {{ run_id }} failed: {{ reason }}"}});
    CHECK(dag.callbacks.on_failure[0].defined_at.line == 2);
    REQUIRE(dag.callbacks.on_success.size() == 1);
    CHECK(dag.callbacks.on_success[0].params == nlohmann::json{{"http_conn_id", "alerts"}});

    const Task* a = dag.find_task("a");
    REQUIRE(a->callbacks.on_failure.size() == 1);  // from default_args
    CHECK(a->callbacks.on_failure[0].params == nlohmann::json{{"slack_webhook_conn_id", "slack_default"}});
    CHECK(a->callbacks.on_success.empty());
    const Task* b = dag.find_task("b");
    CHECK(b->callbacks.on_failure.empty());  // turned off by an empty value
    REQUIRE(b->callbacks.on_retry.size() == 2);
    CHECK(b->callbacks.on_retry[0].params["slack_webhook_conn_id"] == "ops");
    CHECK(b->callbacks.on_retry[1].notifier == "webhook");
    const Task* c = dag.find_task("g.c");
    CHECK(c->callbacks.on_failure.size() == 1);
    REQUIRE(c->callbacks.on_success.size() == 1);
    CHECK(c->callbacks.on_success[0].params["text"] == "{{ ti.task_id }} ok");

    auto stored = dag_from_json(to_json(dag));
    REQUIRE(stored);
    CHECK(to_json(*stored) == to_json(dag));
    CHECK(stored->find_task("b")->callbacks.on_retry[1].params == nlohmann::json{{"http_conn_id", "x"}});
    CHECK(stored->callbacks.on_failure[0].defined_at.line == 2);
}

TEST_CASE("a callback's mistakes are load errors with their line", "[dagfile][callbacks]") {
    auto errors_of = [](const std::string& yaml) {
        auto result = load(yaml);
        CHECK_FALSE(result.dag);
        return format_errors(result.errors);
    };
    const std::string task = "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: \"true\"\n";
    CHECK_THAT(errors_of("on_failure_callback: {notifier: slak}\n" + task),
               Catch::Contains("alerts.yaml:1:") && Catch::Contains("unknown notifier 'slak' (did you mean 'slack'?)"));
    CHECK_THAT(errors_of("on_failure_callback: {text: hi}\n" + task),
               Catch::Contains("a callback needs 'notifier' (one of: slack, webhook)"));
    CHECK_THAT(errors_of("on_failure_callback: {notifier: webhook}\n" + task),
               Catch::Contains("the webhook notifier needs 'http_conn_id'"));
    CHECK_THAT(errors_of("on_failure_callback: {notifier: slack, txt: hi}\n" + task),
               Catch::Contains("unknown field 'txt' for the slack notifier (did you mean 'text'?)"));
    CHECK_THAT(errors_of("on_failure_callback: {notifier: slack, text: \"{{ ds \"}\n" + task),
               Catch::Contains("on_failure_callback.text"));
    CHECK_THAT(errors_of("on_failure_callback: my_module.alert\n" + task),
               Catch::Contains("mayaflow runs no Python callables"));
    CHECK_THAT(errors_of("on_retry_callback: {notifier: slack}\n" + task),
               Catch::Contains("a DAG run is not retried"));
    CHECK_THAT(errors_of(task + "    on_success_callback: [{notifier: slack, blocks: 3, text: 4}, nope]\n"),
               Catch::Contains("alerts.yaml:5") && Catch::Contains("expected a notifier as a mapping"));
    CHECK_THAT(errors_of("default_args:\n  on_failure_callback: {notifier: teams}\n" + task),
               Catch::Contains("unknown notifier 'teams'"));
}

}  // namespace mayaflow
