#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "tests/web/api_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

// A run of `dag_id` with one task, written as the scheduler writes it.
DagRunRow write_run(SqliteStore& store, long long pk, const std::string& dag_id) {
    DagRunRow run;
    run.pk = pk;
    run.dag_id = dag_id;
    run.run_id = "manual__" + std::to_string(pk);
    run.run_type = "manual";
    run.state = RunState::queued;
    run.queued_at = run.run_after = run.data_interval_start = run.data_interval_end = now_instant();
    TaskInstanceRow task;
    task.task_id = "extract";
    task.state = TaskState::scheduled;
    run.task_instances.push_back(task);
    StateBatch batch;
    batch.new_runs.push_back(&run);
    REQUIRE(store.write_batch(batch));
    return run;
}

std::string poll(const WebResponse& response) {
    REQUIRE(response.stream);
    std::string out;
    CHECK(response.stream->next(out));
    return out;
}

TEST_CASE("the event stream sends each committed change of a run or a task once, in order", "[web][events]") {
    ApiFixture fixture;
    write_run(*fixture.store, 1, "kakeibo");
    auto from_start = fixture.call("GET", "/api/v1/mayaflow/events?since=0");
    REQUIRE(from_start.status == 200);
    CHECK_THAT(from_start.content_type, Catch::StartsWith("text/event-stream"));
    auto first = poll(from_start);
    CHECK_THAT(first, Catch::StartsWith("retry: 2000\n\n"));
    CHECK_THAT(first, Catch::Contains("id: 1\nevent: dag_run\ndata: {\"at\":"));
    CHECK_THAT(first, Catch::Contains("\"dag_id\":\"kakeibo\",\"dag_run_id\":\"manual__1\",\"state\":\"queued\"}"));
    CHECK_THAT(first, Catch::Contains("event: task_instance"));
    CHECK_THAT(first, Catch::Contains("\"state\":\"scheduled\",\"task_id\":\"extract\",\"try_number\":0}"));
    CHECK(poll(from_start).empty());  // nothing new

    TaskInstanceRow running;
    running.task_id = "extract";
    running.state = TaskState::running;
    running.try_number = 1;
    StateBatch batch;
    batch.task_changes.push_back(TaskInstanceChange{1, running});
    REQUIRE(fixture.store->write_batch(batch));
    auto second = poll(from_start);
    CHECK_THAT(second, Catch::StartsWith("id: 2\nevent: task_instance\n"));
    CHECK_THAT(second, Catch::Contains("\"state\":\"running\""));
    CHECK_THAT(second, Catch::Contains("\"try_number\":1"));

    // Without since, a stream starts with the next change; Last-Event-ID resumes after the one given.
    auto from_now = fixture.call("GET", "/api/v1/mayaflow/events");
    CHECK(poll(from_now) == "retry: 2000\n\n");
    auto resumed = fixture.call("GET", "/api/v1/mayaflow/events", "", {{"last-event-id", "1"}});
    auto missed = poll(resumed);
    CHECK_THAT(missed, Catch::Contains("id: 2\n"));
    CHECK_THAT(missed, !Catch::Contains("id: 1\n"));
}

TEST_CASE("the event stream can be narrowed to one DAG, and refuses ids that are not numbers", "[web][events]") {
    ApiFixture fixture;
    write_run(*fixture.store, 1, "kakeibo");
    write_run(*fixture.store, 2, "baby_care");
    auto narrowed = poll(fixture.call("GET", "/api/v1/mayaflow/events?since=0&dag_id=baby_care"));
    CHECK_THAT(narrowed, Catch::Contains("\"dag_id\":\"baby_care\""));
    CHECK_THAT(narrowed, !Catch::Contains("kakeibo"));
    for (const std::string since : {"-1", "x", "1.5", "%27%20OR%201%3D1", "99999999999999999999"}) {
        INFO(since);
        check_problem(fixture.call("GET", "/api/v1/mayaflow/events?since=" + since), 400, "Bad Request");
    }
    check_problem(fixture.call("GET", "/api/v1/mayaflow/events", "", {{"last-event-id", "abc"}}), 400, "Bad Request");
    // A Viewer may watch; nobody needs more.
    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/events").status == 200);
}

TEST_CASE("an event id ahead of the store (a new database) gets a reset at once, not silence", "[web][events]") {
    ApiFixture fixture;
    write_run(*fixture.store, 1, "kakeibo");
    long long pk = 1;
    for (const std::string id : {"5000", "9223372036854775807"}) {
        INFO(id);
        auto newest = fixture.store->latest_state_seq();
        REQUIRE(newest);
        auto stream = fixture.call("GET", "/api/v1/mayaflow/events", "", {{"last-event-id", id}});
        REQUIRE(stream.status == 200);
        CHECK_THAT(poll(stream), Catch::Contains(fmt::format("id: {}\nevent: reset\n", *newest)));
        // Then it goes on from the store's newest id: the next change is sent.
        write_run(*fixture.store, ++pk, "kakeibo");
        CHECK_THAT(poll(stream), Catch::Contains("event: dag_run"));
    }
    // An id the store has reached is no reset.
    auto resumed = fixture.call("GET", "/api/v1/mayaflow/events?since=1");
    CHECK_THAT(poll(resumed), !Catch::Contains("reset"));
}

TEST_CASE("one user holds at most 16 event streams; the others still get theirs", "[web][events]") {
    ApiFixture fixture;
    fixture.as(Role::viewer);
    std::vector<WebResponse> open;
    for (int i = 0; i < 16; ++i) {
        open.push_back(fixture.call("GET", "/api/v1/mayaflow/events"));
        REQUIRE(open.back().status == 200);
    }
    auto seventeenth = fixture.call("GET", "/api/v1/mayaflow/events");
    check_problem(seventeenth, 429, "Too Many Requests");
    CHECK_THAT(seventeenth.body, Catch::Contains("16 event streams"));
    // Another user is not refused.
    fixture.authenticator = std::make_unique<FixedRoleAuthenticator>(Role::viewer, "someone_else");
    fixture.router = std::make_unique<ApiRouter>(*fixture.context, *fixture.authenticator);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/events").status == 200);
    // A stream that ends gives its place back.
    open.pop_back();
    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", "/api/v1/mayaflow/events").status == 200);
}

TEST_CASE("/metrics is Prometheus text for an Op, with the store's counts; a Viewer may not", "[web][metrics]") {
    ApiFixture fixture;
    write_run(*fixture.store, 1, "kakeibo");
    auto metrics = fixture.call("GET", "/metrics");
    REQUIRE(metrics.status == 200);
    CHECK_THAT(metrics.content_type, Catch::StartsWith("text/plain; version=0.0.4"));
    CHECK_THAT(metrics.body, Catch::Contains("# TYPE mayaflow_task_instances gauge"));
    CHECK_THAT(metrics.body, Catch::Contains("mayaflow_task_instances{state=\"scheduled\"} 1"));
    CHECK_THAT(metrics.body, Catch::Contains("mayaflow_dag_runs{state=\"queued\"} 1"));
    CHECK_THAT(metrics.body, Catch::Contains("mayaflow_dag_import_errors 0"));
    // Requests are counted by route pattern, never by the raw path.
    fixture.call("GET", "/api/v1/dags/some_dag_that_is_not_there");
    auto again = fixture.call("GET", "/metrics");
    CHECK_THAT(again.body, Catch::Contains("route=\"/api/v1/dags/{dag_id}\""));
    CHECK_THAT(again.body, !Catch::Contains("some_dag_that_is_not_there"));
    fixture.as(Role::op);
    CHECK(fixture.call("GET", "/metrics").status == 200);
    fixture.as(Role::user);
    check_problem(fixture.call("GET", "/metrics"), 403, "Forbidden");
}

}  // namespace
}  // namespace mayaflow
