#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <thread>

#include <filesystem>
#include <fstream>
#include <map>

#include "engine/connections/secret_masker.h"
#include "engine/dagfile/dag_loader.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/http/curl_http_client.h"
#include "engine/http/http_retry.h"
#include "engine/http/http_test_server.h"
#include "engine/util/utf8.h"
#include "operators/notify/notifier_specs.h"
#include "operators/notify/slack_webhook.h"
#include "operators/notify/slack_webhook_operator.h"
#include "operators/notify/webhook.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

using http_test::Reply;
using http_test::TestServer;

Connection slack_connection(std::optional<std::string> password, std::optional<std::string> host = std::nullopt) {
    Connection connection;
    connection.conn_id = "slack_default";
    connection.conn_type = "slackwebhook";
    connection.password = std::move(password);
    connection.host = std::move(host);
    return connection;
}

struct MapConnections : ConnectionSource {
    std::map<std::string, Connection> connections;
    Result<std::optional<Connection>> find_connection(const std::string& conn_id) override {
        auto it = connections.find(conn_id);
        if (it == connections.end()) return std::optional<Connection>();
        return std::optional<Connection>(it->second);
    }
};

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a slackwebhook connection's URL follows Airflow's rules", "[notify][slack]") {
    CHECK(*notify::slack_webhook_url(slack_connection("https://hooks.slack.com/services/T1/B2/xyz")) ==
          "https://hooks.slack.com/services/T1/B2/xyz");
    CHECK(*notify::slack_webhook_url(slack_connection("T1/B2/xyz")) == "https://hooks.slack.com/services/T1/B2/xyz");
    CHECK(*notify::slack_webhook_url(slack_connection("/T1/B2/xyz", "http://127.0.0.1:9/services/")) ==
          "http://127.0.0.1:9/services/T1/B2/xyz");
    auto with_schema = slack_connection("T1/B2/xyz", "127.0.0.1/services");
    with_schema.schema = "http";
    CHECK(*notify::slack_webhook_url(with_schema) == "http://127.0.0.1/services/T1/B2/xyz");
    auto with_port = slack_connection("T1/B2/xyz", "127.0.0.1");
    with_port.schema = "http";
    with_port.port = 8099;
    CHECK(*notify::slack_webhook_url(with_port) == "http://127.0.0.1:8099/T1/B2/xyz");

    auto missing = notify::slack_webhook_url(slack_connection(std::nullopt));
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::Contains("has no webhook"));
    auto wrong_type = slack_connection("T1/B2/secret-token");
    wrong_type.conn_type = "google_cloud_platform";
    auto refused = notify::slack_webhook_url(wrong_type);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("'slackwebhook' connection"));
    CHECK_THAT(refused.error().message, !Catch::Contains("secret-token"));
    auto hyphenated = slack_connection("T1/B2/x");
    hyphenated.conn_type = "slack-webhook";  // slack-webhook:// URIs
    CHECK(notify::slack_webhook_url(hyphenated));
}

TEST_CASE("a Slack payload takes text or its alias message, blocks and the overrides", "[notify][slack]") {
    auto payload = notify::slack_payload({{"text", "hi"}, {"channel", "#ops"}, {"icon_emoji", ":robot_face:"}});
    REQUIRE(payload);
    CHECK(*payload == nlohmann::json{{"text", "hi"}, {"channel", "#ops"}, {"icon_emoji", ":robot_face:"}});
    CHECK((*notify::slack_payload({{"message", "old name"}}))["text"] == "old name");
    auto blocks = nlohmann::json::array({{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "*x*"}}}}});
    auto with_blocks = notify::slack_payload({{"blocks", blocks}});
    REQUIRE(with_blocks);
    CHECK((*with_blocks)["blocks"] == blocks);
    CHECK_FALSE(with_blocks->contains("text"));
    CHECK((*notify::slack_payload({{"blocks", blocks.dump()}}))["blocks"] == blocks);  // JSON text of a list

    CHECK_FALSE(notify::slack_payload(nlohmann::json::object()));
    CHECK((*notify::slack_payload(nlohmann::json::object(), "fallback"))["text"] == "fallback");
    auto bad = notify::slack_payload({{"blocks", "not json"}});
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("blocks must be a list"));
}

TEST_CASE("Slack's answers become clear errors", "[notify][slack]") {
    auto answer = [](int status, std::string body) {
        HttpResponse response;
        response.status = status;
        response.body = std::move(body);
        return notify::slack_outcome(response, "slack_default");
    };
    CHECK(answer(200, "ok"));
    auto payload = answer(400, "invalid_payload");
    REQUIRE_FALSE(payload);
    CHECK(payload.error().message ==
          "Slack refused the message of connection 'slack_default': invalid_payload (HTTP 400): the message is not "
          "valid JSON, or its text is not a string");
    CHECK_THAT(answer(400, "no_text").error().message, Catch::Contains("no_text (HTTP 400): the message has no text"));
    CHECK_THAT(answer(404, "no_service").error().message,
               Catch::Contains("no_service (HTTP 404): the webhook does not exist or was removed"));
    CHECK_THAT(answer(403, "action_prohibited").error().message,
               Catch::Contains("action_prohibited (HTTP 403): a Slack admin has restricted posting"));
    CHECK_THAT(answer(500, "rollup_error").error().message, Catch::Contains("rollup_error (HTTP 500)"));

    HttpResponse dropped;
    dropped.transport_error = TransportError::dropped;
    dropped.error = "connection reset";
    CHECK_THAT(notify::slack_outcome(dropped, "slack_default").error().message,
               Catch::Contains("not sent again, as Slack may have posted it"));
}

TEST_CASE("notifier specs declare the parameters the DAG loader checks", "[notify]") {
    auto slack = notify::slack_notifier_spec();
    CHECK(slack.name == "slack");
    REQUIRE(slack.find_param("slack_webhook_conn_id"));
    CHECK(slack.find_param("slack_webhook_conn_id")->default_value == "slack_default");
    REQUIRE(slack.find_param("blocks"));
    CHECK(slack.find_param("blocks")->check(nlohmann::json::array({1})));
    CHECK_FALSE(slack.find_param("blocks")->check(nlohmann::json::array({{{"type", "divider"}}})));
    auto webhook = notify::webhook_notifier_spec();
    REQUIRE(webhook.find_param("http_conn_id"));
    CHECK(webhook.find_param("http_conn_id")->required);
}

TEST_CASE("a webhook request is built from an http connection as Airflow's HttpHook builds it", "[notify][webhook]") {
    Connection connection;
    connection.conn_id = "alerts";
    connection.conn_type = "http";
    connection.host = "hooks.example.com";
    connection.schema = "https";
    connection.port = 8443;
    connection.login = "user";
    connection.set_password("pass");
    connection.extra = R"({"X-Team": "data"})";
    auto request = notify::webhook_request(connection, "/notify", {{"a", 1}}, {{"X-Other", "2"}});
    REQUIRE(request);
    CHECK(request->method == "POST");
    CHECK(request->url == "https://hooks.example.com:8443/notify");
    CHECK(request->body == R"({"a":1})");
    CHECK_FALSE(request->repeatable);
    auto has = [&](std::string name, std::string value) {
        return std::find(request->headers.begin(), request->headers.end(), std::pair{name, value}) != request->headers.end();
    };
    CHECK(has("Authorization", "Basic " + notify::base64("user:pass")));
    CHECK(has("X-Team", "data"));
    CHECK(has("X-Other", "2"));
    CHECK(notify::base64("user:pass") == "dXNlcjpwYXNz");
    CHECK(notify::base64("ab") == "YWI=");

    HttpResponse failed;
    failed.status = 500;
    failed.body = "boom";
    CHECK(notify::webhook_outcome(failed, "alerts").error().message == "the webhook of connection 'alerts' answered HTTP 500: boom");
}

TEST_CASE("the slack_webhook operator posts its rendered message and fails with Slack's error", "[notify][slack]") {
    std::mutex mutex;
    std::vector<http_test::ReceivedRequest> received;
    Reply reply{.status = 200, .body = "ok"};
    TestServer server([&](const http_test::ReceivedRequest& request) {
        std::lock_guard lock(mutex);
        received.push_back(request);
        return reply;
    });
    const std::string secret_path = "/services/T000/B000/s3cr3tToken";
    MapConnections connections;
    connections.connections["slack_default"] =
        slack_connection(fmt::format("http://127.0.0.1:{}{}", server.port(), secret_path));
    SecretMasker masker;
    masker.add_secret(*connections.connections["slack_default"].password);

    const auto folder = std::filesystem::temp_directory_path() / fmt::format("mayaflow-slack-{}", ::getpid());
    std::filesystem::create_directories(folder);
    Task task;
    task.task_id = "tell";
    task.operator_name = "slack_webhook";
    task.params = {{"slack_webhook_conn_id", "slack_default"},
                   {"text", "done {{ ds }} for {{ dag.dag_id }}"},
                   {"username", "mayaflow"}};
    tmpl::RunInfo info;
    info.dag_id = "sales";
    info.run_id = "manual__1";
    info.logical_date = Instant{} + std::chrono::hours(24 * 365 * 30);
    CurlHttpClient transport;
    TaskRun run{.task = task, .run_info = info, .log_file = folder / "attempt=1.log", .connections = &connections,
                .masker = &masker};

    SlackWebhookOperator op(&transport);
    auto result = op.execute(run);
    CHECK(result.outcome == TaskOutcome::success);
    {
        std::lock_guard lock(mutex);
        REQUIRE(received.size() == 1);
        CHECK(received[0].method == "POST");
        CHECK(received[0].target == secret_path);
        CHECK(nlohmann::json::parse(received[0].body) ==
              nlohmann::json{{"text", "done 1999-12-25 for sales"}, {"username", "mayaflow"}});
        CHECK_THAT(received[0].header("Content-Type"), Catch::StartsWith("application/json"));
        reply = Reply{.status = 404, .body = "no_service"};
    }
    SlackWebhookOperator again(&transport);
    auto refused = again.execute(run);
    CHECK(refused.outcome == TaskOutcome::failed);
    CHECK_THAT(refused.message, Catch::StartsWith("Slack refused the message of connection 'slack_default': no_service (HTTP 404)"));
    const std::string log = read_text(run.log_file);
    CHECK_THAT(log, Catch::Contains("no_service"));
    CHECK_THAT(log, !Catch::Contains("s3cr3tToken"));
    CHECK_THAT(refused.message, !Catch::Contains("s3cr3tToken"));

    Task missing = task;
    missing.params["slack_webhook_conn_id"] = "nope";
    TaskRun missing_run{.task = missing, .run_info = info, .log_file = run.log_file, .connections = &connections};
    auto undefined = SlackWebhookOperator(&transport).execute(missing_run);
    CHECK_THAT(undefined.message, Catch::StartsWith("The conn_id `nope` isn't defined"));
    std::filesystem::remove_all(folder);
}

TEST_CASE("a cancelled slack_webhook try ends without waiting for Slack", "[notify][slack]") {
    TestServer server([](const http_test::ReceivedRequest&) { return Reply{.status = 200, .body = "ok", .delay = std::chrono::milliseconds(3000)}; });
    MapConnections connections;
    connections.connections["slack_default"] = slack_connection(fmt::format("http://127.0.0.1:{}/services/a/b/c", server.port()));
    Task task;
    task.task_id = "tell";
    task.params = {{"text", "x"}};
    CurlHttpClient transport;
    TaskRun run{.task = task, .connections = &connections};
    SlackWebhookOperator op(&transport);
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        op.cancel();
    });
    auto result = op.execute(run);
    canceller.join();
    CHECK(result.cancelled);
    CHECK_FALSE(result.retryable);
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("a slack_webhook try waiting out a Retry-After ends at once when cancelled (execution_timeout)", "[notify][slack]") {
    std::atomic<int> sends{0};
    TestServer server([&](const http_test::ReceivedRequest&) {
        ++sends;
        return Reply{.status = 429, .headers = {{"Retry-After", "20"}}, .body = "rate_limited"};
    });
    MapConnections connections;
    connections.connections["slack_default"] = slack_connection(server.url("/services/a/b/c"));
    Task task;
    task.task_id = "tell";
    task.params = {{"text", "x"}};
    CurlHttpClient transport;
    TaskRun run{.task = task, .connections = &connections};
    SlackWebhookOperator op(&transport);
    std::thread canceller([&] {
        while (sends == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        op.cancel();
    });
    const auto start = std::chrono::steady_clock::now();
    auto result = op.execute(run);
    canceller.join();
    CHECK(result.cancelled);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(sends == 1);
}

TEST_CASE("a slack_webhook try gives up at once on a Retry-After past its deadline, saying so", "[notify][slack]") {
    std::atomic<int> sends{0};
    TestServer server([&](const http_test::ReceivedRequest&) {
        ++sends;
        return Reply{.status = 429, .headers = {{"Retry-After", "120"}}, .body = "rate_limited"};
    });
    MapConnections connections;
    connections.connections["slack_default"] = slack_connection(server.url("/services/a/b/c"));
    Task task;
    task.task_id = "tell";
    task.params = {{"text", "x"}};
    TaskRun run{.task = task, .connections = &connections};
    const auto start = std::chrono::steady_clock::now();
    SlackWebhookOperator op;  // the process's client
    auto result = op.execute(run);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK_THAT(result.message, Catch::StartsWith("Slack refused the message of connection 'slack_default': rate_limited "
                                                 "(HTTP 429): Slack is rate-limiting this webhook; it asked to wait 2m "
                                                 "(Retry-After) before sending again, more than the "));
    CHECK(sends == 1);
}

TEST_CASE("a webhook URL pasted with spaces or a newline around it is trimmed; one with a line break inside is refused",
          "[notify]") {
    CHECK(*notify::slack_webhook_url(slack_connection(" https://hooks.example/services/T/B/x\n")) ==
          "https://hooks.example/services/T/B/x");
    CHECK(*notify::slack_webhook_url(slack_connection("\tT1/B1/tok\r\n", " hooks.example/services \n")) ==
          "https://hooks.example/services/T1/B1/tok");
    auto broken = notify::slack_webhook_url(slack_connection("https://hooks.example/services/T/B/se\nXq9z"));
    REQUIRE_FALSE(broken);
    CHECK(broken.error().message ==
          "connection 'slack_default': its webhook URL has a control character (a line break, a tab …) inside it: fix "
          "the connection (the URL is not shown, as it is a secret)");
    CHECK_THAT(broken.error().message, !Catch::Contains("Xq9z"));

    Connection hook;
    hook.conn_id = "hook";
    hook.conn_type = "http";
    hook.host = "  http://127.0.0.1:9/hooks/x \n";
    auto request = notify::webhook_request(hook, "/more", nlohmann::json::object(), nlohmann::json::object());
    REQUIRE(request);
    CHECK(request->url == "http://127.0.0.1:9/hooks/x/more");
    hook.host = "http://127.0.0.1:9/ho oks";
    CHECK_THAT(notify::webhook_request(hook, "", {}, {}).error().message,
               Catch::StartsWith("connection 'hook': its webhook URL has a space inside it"));
}

TEST_CASE("Slack's markup in text is escaped as Slack asks", "[notify][slack]") {
    CHECK(notify::slack_escape("<!channel> & <http://evil|click> ok") ==
          "&lt;!channel&gt; &amp; &lt;http://evil|click&gt; ok");
    CHECK(notify::slack_code_line("a ``` b <x>") == "a ''' b &lt;x&gt;");
}

TEST_CASE("a slack_webhook task without text, message or blocks is a load error with its line", "[notify][slack]") {
    const std::string yaml = R"(dag_id: s
schedule: null
tasks:
  - task_id: none
    operator: slack_webhook
  - task_id: number
    operator: slack_webhook
    text: 5
  - task_id: blocks
    operator: slack_webhook
    blocks: [{type: divider}]
)";
    auto result = load_dag_text(yaml, "/tmp/s.yaml", DagLoadOptions{&builtin_operators(), "/tmp"});
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].where.line == 4);
    CHECK(result.errors[0].field == "tasks[0]");
    CHECK(result.errors[0].message == "slack_webhook task 'none' needs 'text', 'message' or 'blocks'");

    auto loaded = load_dag_text(R"(dag_id: s
schedule: null
tasks:
  - {task_id: number, operator: slack_webhook, text: 5}
)",
                                "/tmp/s.yaml", DagLoadOptions{&builtin_operators(), "/tmp"});
    REQUIRE(loaded.dag);
    // A number is a string field's text, as for every string field (bash_command: 5 too).
    CHECK(loaded.dag->tasks[0].params["text"] == "5");
}

}  // namespace mayaflow

namespace mayaflow {

TEST_CASE("a slack_webhook try keeps its execution_timeout, a Slack that does not answer included", "[notify][slack]") {
    TestServer server([](const http_test::ReceivedRequest&) {
        return Reply{.status = 200, .body = "ok", .delay = std::chrono::milliseconds(3000)};
    });
    MapConnections connections;
    connections.connections["slack_default"] = slack_connection(server.url("/services/a/b/c"));
    Task task;
    task.task_id = "tell";
    task.params = {{"text", "x"}};
    CurlHttpClient transport;
    TaskRun run{.task = task, .execution_timeout = std::chrono::milliseconds(500), .connections = &connections};
    const auto start = std::chrono::steady_clock::now();
    auto result = SlackWebhookOperator(&transport).execute(run);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500));
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.timed_out);
    CHECK_THAT(result.message, Catch::StartsWith("timed out after 500ms (execution_timeout): could not post"));
}

}  // namespace mayaflow
