#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>

#include <fstream>

#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/http/curl_http_client.h"
#include "engine/http/http_test_server.h"
#include "scheduler/notification_service.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

// Keeps what the core hands over.
struct RecordingSink : NotificationSink {
    std::vector<NotificationEvent> events;
    void notify(NotificationEvent event) override { events.push_back(std::move(event)); }
};

struct MapConnections : ConnectionSource {
    std::map<std::string, Connection> connections;
    Result<std::optional<Connection>> find_connection(const std::string& conn_id) override {
        auto it = connections.find(conn_id);
        if (it == connections.end()) return std::optional<Connection>();
        return std::optional<Connection>(it->second);
    }
};

const char* kAlertingDag = R"(
dag_id: alerting
on_failure_callback: {notifier: slack, text: "run failed"}
on_success_callback: {notifier: slack}
tasks:
  - task_id: load
    operator: bash
    bash_command: exit 3
    retries: 1
    retry_delay: 10s
    on_retry_callback: {notifier: slack}
    on_failure_callback: {notifier: webhook, http_conn_id: hook}
  - task_id: report
    operator: bash
    bash_command: "true"
    on_success_callback: {notifier: slack}
)";

NotificationEvent failure_event() {
    NotificationEvent event;
    event.kind = NotificationKind::task_failure;
    event.dag_id = "sales daily";
    event.run_id = "manual__2024-03-01T00:00:00+00:00";
    event.task_id = "raw.load";
    event.try_number = 2;
    event.max_tries = 2;
    event.message = "exit code 3";
    return event;
}

}  // namespace

TEST_CASE("the core hands over each callback's event only after its transition is committed", "[notifications]") {
    Harness h;
    RecordingSink sink;
    h.core->set_notification_sink(&sink);
    h.add_dag(kAlertingDag);
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "alerting", .run_id = "manual_1"}));
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    std::string first = h.launched_task(0);
    h.finish_next(first == "load" ? TaskOutcome::failed : TaskOutcome::success, first == "load" ? "exit code 3" : "");
    h.finish_next(first == "load" ? TaskOutcome::success : TaskOutcome::failed, first == "load" ? "" : "exit code 3");
    CHECK(sink.events.empty());  // decided, not yet committed

    h.faulty->fail_nth_commit_from_now(1);
    CHECK_FALSE(h.core->run_turn());
    CHECK(sink.events.empty());  // the commit failed: nothing happened, nothing is said

    Harness g;
    g.core->set_notification_sink(&sink);
    g.add_dag(kAlertingDag);
    REQUIRE(g.core->trigger(TriggerRequest{.dag_id = "alerting", .run_id = "manual_1"}));
    g.turn();
    REQUIRE(g.executor.launched.size() == 2);
    for (int i = 0; i < 2; ++i) {
        if (g.launched_task(0) == "load") g.finish_next(TaskOutcome::failed, "exit code 3");
        else g.finish_next(TaskOutcome::success);
    }
    g.turn();
    REQUIRE(sink.events.size() == 2);
    std::sort(sink.events.begin(), sink.events.end(),
              [](const auto& a, const auto& b) { return a.task_id < b.task_id; });
    const auto& retry = sink.events[0];
    CHECK(retry.kind == NotificationKind::task_retry);
    CHECK(retry.task_id == "load");
    CHECK(retry.try_number == 1);
    CHECK(retry.max_tries == 2);
    CHECK(retry.message == "exit code 3");
    CHECK(retry.next_try_at == g.clock.now() + std::chrono::seconds(10));
    CHECK(retry.log_file.filename() == "attempt=1.log");
    REQUIRE(retry.calls.size() == 1);
    CHECK(retry.calls[0].notifier == "slack");
    CHECK(retry.run_info.run_id == "manual_1");
    CHECK(sink.events[1].kind == NotificationKind::task_success);
    CHECK(sink.events[1].task_id == "report");
    sink.events.clear();

    g.clock.advance(std::chrono::seconds(11));
    g.turn();
    REQUIRE(g.executor.launched.size() == 1);
    g.finish_next(TaskOutcome::failed, "exit code 3 again");
    g.turn();
    REQUIRE(sink.events.size() == 2);
    CHECK(sink.events[0].kind == NotificationKind::task_failure);
    CHECK(sink.events[0].try_number == 2);
    CHECK(sink.events[0].calls[0].notifier == "webhook");
    CHECK(sink.events[1].kind == NotificationKind::run_failure);
    CHECK(sink.events[1].message == "task_failure");
    CHECK(sink.events[1].failed_tasks == std::vector<std::string>{"load"});
    CHECK(sink.events[1].calls[0].params["text"] == "run failed");
}

TEST_CASE("a task without callbacks makes no events", "[notifications]") {
    Harness h;
    RecordingSink sink;
    h.core->set_notification_sink(&sink);
    h.add_dag("dag_id: quiet\ntasks:\n  - task_id: a\n    operator: bash\n    bash_command: exit 1\n");
    REQUIRE(h.core->trigger(TriggerRequest{.dag_id = "quiet"}));
    h.turn();
    h.finish_next(TaskOutcome::failed, "exit code 1");
    h.turn();
    CHECK(sink.events.empty());
}

TEST_CASE("the default message names DAG, run, task and try, quotes the log and links to it", "[notifications]") {
    auto event = failure_event();
    const std::string link = notification_link("http://mayaflow.example.com:8080/", event);
    CHECK(link ==
          "http://mayaflow.example.com:8080/dags/sales%20daily/runs/manual__2024-03-01T00%3A00%3A00%2B00%3A00/tasks/"
          "raw.load/tries/2/log");
    CHECK(default_notification_text(event, {"loading", "boom"}, link) ==
          ":red_circle: Task failed: DAG `sales daily`, run `manual__2024-03-01T00:00:00+00:00`, task `raw.load`, try 2 "
          "of 2\nError: exit code 3\nLast lines of the log:\n```\nloading\nboom\n```\nLog: " + link);

    event.kind = NotificationKind::task_retry;
    event.try_number = 1;
    event.next_try_at = at("2024-03-01T00:05:00Z");
    CHECK_THAT(default_notification_text(event, {}, "L"),
               Catch::StartsWith(":large_orange_circle: Task up for retry: DAG `sales daily`, run "
                                 "`manual__2024-03-01T00:00:00+00:00`, task `raw.load`, try 1 of 2; next try at "
                                 "2024-03-01T00:05:00+00:00\nError: exit code 3\nLog: L"));
    event.kind = NotificationKind::task_success;
    CHECK(default_notification_text(event, {}, "L") ==
          ":large_green_circle: Task succeeded: DAG `sales daily`, run `manual__2024-03-01T00:00:00+00:00`, task "
          "`raw.load`, try 1 of 2\nLog: L");

    NotificationEvent run_event;
    run_event.kind = NotificationKind::run_failure;
    run_event.dag_id = "d";
    run_event.run_id = "r";
    run_event.message = "task_failure";
    run_event.failed_tasks = {"a", "b"};
    CHECK(notification_link("http://h", run_event) == "http://h/dags/d/runs/r");
    CHECK(default_notification_text(run_event, {}, "http://h/dags/d/runs/r") ==
          ":red_circle: DAG run failed: DAG `d`, run `r`\nReason: task_failure (failed tasks: a, b)\nRun: "
          "http://h/dags/d/runs/r");
    auto body = default_notification_body(run_event, {}, "http://h/dags/d/runs/r", "T");
    CHECK(body["event"] == "run_failure");
    CHECK(body["failed_tasks"] == nlohmann::json{"a", "b"});
    CHECK(body["run_url"] == "http://h/dags/d/runs/r");
}

TEST_CASE("the log's tail is its last lines, secrets masked, long lines cut", "[notifications]") {
    const auto file = std::filesystem::temp_directory_path() / fmt::format("mayaflow-tail-{}.log", ::getpid());
    {
        std::ofstream out(file);
        for (int i = 1; i <= 30; ++i) out << "line " << i << "\n";
        out << "password is hunter2-secret\n" << std::string(2000, 'x') << "\n\n";
    }
    SecretMasker masker;
    masker.add_secret("hunter2-secret");
    auto tail = read_log_tail(file, 20, &masker);
    REQUIRE(tail.size() == 20);
    CHECK(tail.front() == "line 13");
    CHECK(tail[18] == "password is ***");
    CHECK(tail[19].size() < 600);
    CHECK(read_log_tail(file.string() + ".missing", 20, &masker).empty());
    std::filesystem::remove(file);
}

TEST_CASE("the service sends a failure to Slack and logs, not throws, what it cannot send", "[notifications]") {
    std::mutex mutex;
    std::vector<std::string> bodies;
    int status = 200;
    http_test::TestServer server([&](const http_test::ReceivedRequest& request) {
        std::lock_guard lock(mutex);
        bodies.push_back(request.body);
        return http_test::Reply{.status = status, .body = status == 200 ? "ok" : "rollup_error"};
    });
    MapConnections connections;
    Connection slack;
    slack.conn_id = "slack_default";
    slack.conn_type = "slackwebhook";
    slack.password = fmt::format("http://127.0.0.1:{}/services/T/B/tok3n", server.port());
    connections.connections["slack_default"] = slack;
    CurlHttpClient transport;  // sends once: the retries are notify_http()'s
    NotificationService service(NotificationServiceOptions{.base_url = "http://ui:8080", .connections = &connections,
                                                           .http = &transport});
    auto event = failure_event();
    event.calls = {NotifierCall{.notifier = "slack", .params = {{"slack_webhook_conn_id", "slack_default"}}},
                   NotifierCall{.notifier = "slack",
                                .params = {{"slack_webhook_conn_id", "slack_default"},
                                           {"text", "{{ ti.task_id }} failed: {{ exception }} <{{ log_url }}>"}}},
                   NotifierCall{.notifier = "slack", .params = {{"slack_webhook_conn_id", "missing"}}},
                   NotifierCall{.notifier = "slack", .params = {{"text", "{{ nope }}"}}}};
    event.run_info.dag_id = event.dag_id;
    event.run_info.run_id = event.run_id;
    event.run_info.task_id = event.task_id;
    service.deliver(event);
    {
        std::lock_guard lock(mutex);
        REQUIRE(bodies.size() == 2);
        auto first = nlohmann::json::parse(bodies[0]);
        CHECK_THAT(first["text"].get<std::string>(), Catch::StartsWith(":red_circle: Task failed: DAG `sales daily`"));
        CHECK(nlohmann::json::parse(bodies[1])["text"] ==
              "raw.load failed: exit code 3 <http://ui:8080/dags/sales%20daily/runs/"
              "manual__2024-03-01T00%3A00%3A00%2B00%3A00/tasks/raw.load/tries/2/log>");
        status = 500;
    }
    auto counts = service.counts();
    CHECK(counts.sent == 2);
    CHECK(counts.failed == 2);
    event.calls.resize(1);
    service.notify(event);  // asynchronous: its failure is only counted and logged
    service.stop(std::chrono::seconds(10));
    CHECK(service.counts().failed == 3);
}

}  // namespace mayaflow

namespace mayaflow {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

Connection slack_at(const http_test::TestServer& server, const std::string& conn_id, const std::string& path) {
    Connection slack;
    slack.conn_id = conn_id;
    slack.conn_type = "slackwebhook";
    slack.password = server.url(path);
    return slack;
}

}  // namespace

TEST_CASE("the default message escapes Slack's markup in what the task printed and its error", "[notifications]") {
    auto event = failure_event();
    event.message = "failed: <!channel> & <http://evil.example|click>";
    const std::string text =
        default_notification_text(event, {"<!here> ping &amp; <@U123>", "```", "<https://evil.example|click here>"}, "L");
    CHECK_THAT(text, Catch::Contains("Error: failed: &lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;\n"));
    CHECK_THAT(text, Catch::Contains("```\n&lt;!here&gt; ping &amp;amp; &lt;@U123&gt;\n'''\n"
                                     "&lt;https://evil.example|click here&gt;\n```\n"));
    CHECK(text.find('<') == std::string::npos);
}

TEST_CASE("the service masks secrets in every string it sends: Slack's blocks, a webhook's body, their keys",
          "[notifications]") {
    std::mutex mutex;
    std::vector<std::string> bodies;
    http_test::TestServer server([&](const http_test::ReceivedRequest& request) {
        std::lock_guard lock(mutex);
        bodies.push_back(request.body);
        return http_test::Reply{.status = 200, .body = "ok"};
    });
    MapConnections connections;
    connections.connections["slack_default"] = slack_at(server, "slack_default", "/services/T/B/tok3n");
    Connection hook;
    hook.conn_id = "hook";
    hook.conn_type = "http";
    hook.host = server.url("/hook");
    connections.connections["hook"] = hook;
    SecretMasker masker;
    masker.add_secret("pa55-w0rd-9981");
    CurlHttpClient transport;
    NotificationService service(
        NotificationServiceOptions{.connections = &connections, .masker = &masker, .http = &transport});
    auto event = failure_event();
    event.message = "exit code 3 <!channel>";
    event.calls = {
        NotifierCall{.notifier = "slack",
                     .params = {{"slack_webhook_conn_id", "slack_default"},
                                {"blocks", nlohmann::json::parse(R"([{"type": "section", "text": {"type": "mrkdwn",
                                            "text": "pw=pa55-w0rd-9981 err={{ exception }}"}}])")}}},
        NotifierCall{.notifier = "webhook",
                     .params = {{"http_conn_id", "hook"},
                                {"body", nlohmann::json::parse(R"({"deep": {"list": ["x pa55-w0rd-9981 y"]},
                                          "pa55-w0rd-9981": 1, "err": "{{ exception }}"})")}}},
    };
    service.deliver(event);
    std::lock_guard lock(mutex);
    REQUIRE(bodies.size() == 2);
    for (const auto& body : bodies) CHECK_THAT(body, !Catch::Contains("pa55-w0rd-9981"));
    auto slack = nlohmann::json::parse(bodies[0]);
    CHECK(slack["blocks"][0]["text"]["text"] == "pw=*** err=exit code 3 &lt;!channel&gt;");
    auto webhook = nlohmann::json::parse(bodies[1]);
    CHECK(webhook["deep"]["list"][0] == "x *** y");
    CHECK(webhook["***"] == 1);
    CHECK(webhook["err"] == "exit code 3 <!channel>");  // JSON for a program, not Slack: as it was
}

TEST_CASE("a Retry-After past a notification's deadline ends it at once", "[notifications]") {
    std::atomic<int> sends{0};
    http_test::TestServer server([&](const http_test::ReceivedRequest&) {
        ++sends;
        return http_test::Reply{.status = 429, .headers = {{"Retry-After", "120"}}, .body = "rate_limited"};
    });
    MapConnections connections;
    connections.connections["slack_default"] = slack_at(server, "slack_default", "/services/T/B/limited");
    // The process's client: sends again after a 429, within the deadline.
    NotificationService service(NotificationServiceOptions{.connections = &connections});
    auto event = failure_event();
    event.calls = {NotifierCall{.notifier = "slack", .params = {{"slack_webhook_conn_id", "slack_default"}}}};
    const auto start = SteadyClock::now();
    service.deliver(event);
    CHECK(seconds_since(start) < 10);
    CHECK(sends == 1);
    CHECK(service.counts().failed == 1);
}

TEST_CASE("a slow webhook delays only its own notifications, and a stop ends its wait at once", "[notifications]") {
    std::mutex mutex;
    std::vector<std::string> paths;
    http_test::TestServer server([&](const http_test::ReceivedRequest& request) {
        {
            std::lock_guard lock(mutex);
            paths.push_back(request.target);
        }
        if (request.target.starts_with("/services/TSLOW/")) {
            return http_test::Reply{.status = 200, .body = "ok", .delay = std::chrono::milliseconds(4000)};
        }
        return http_test::Reply{.status = 200, .body = "ok"};
    });
    MapConnections connections;
    connections.connections["slow"] = slack_at(server, "slow", "/services/TSLOW/B/x");
    connections.connections["fast"] = slack_at(server, "fast", "/services/TFAST/B/x");
    NotificationService service(NotificationServiceOptions{.connections = &connections});
    auto to = [](const std::string& conn_id) {
        auto event = failure_event();
        event.calls = {NotifierCall{.notifier = "slack", .params = {{"slack_webhook_conn_id", conn_id}}}};
        return event;
    };
    service.notify(to("slow"));
    service.notify(to("slow"));
    service.notify(to("slow"));
    const auto start = SteadyClock::now();
    service.notify(to("fast"));
    auto fast_arrived = [&] {
        std::lock_guard lock(mutex);
        return std::count_if(paths.begin(), paths.end(), [](const auto& p) { return p.starts_with("/services/TFAST/"); });
    };
    while (fast_arrived() == 0 && seconds_since(start) < 10) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(fast_arrived() == 1);
    CHECK(seconds_since(start) < 2);  // not after the slow ones' 4 s each
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto stopping = SteadyClock::now();
    service.stop(std::chrono::milliseconds(300));
    CHECK(seconds_since(stopping) < 2);
    const auto counts = service.counts();
    CHECK(counts.sent == 1);
    CHECK(counts.dropped == 3);  // one being sent, two waiting
    std::lock_guard lock(mutex);
    CHECK(std::count_if(paths.begin(), paths.end(), [](const auto& p) { return p.starts_with("/services/TSLOW/"); }) == 1);
}

}  // namespace mayaflow
