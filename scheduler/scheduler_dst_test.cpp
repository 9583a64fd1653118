// Whole-scheduler simulations of schedules across daylight saving time changes: a ManualClock, the
// real timetable, store and core, and a fake executor whose tries the test finishes. They check the
// runs the scheduler creates — run_id, logical date, data interval, run_after, order and count — and
// when it asks to be woken next.
//
// Every expected value is written by hand from Airflow 2's rules as docs/time.md states them (cron
// matches on the wall clock; a time in a gap moves forward by the gap; an ambiguous time takes its
// second occurrence; every-hour crons and duration schedules step in real time; run ids print the
// logical date in UTC), never computed with the code under test.

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "engine/time/iso8601.h"
#include "scheduler/scheduler_core.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

// One bash task: the fake executor holds its tries until the test finishes them.
const char* kOneTask = R"(
tasks:
  - task_id: work
    operator: bash
    bash_command: "true"
)";

TimeZone zone(const std::string& name) {
    auto found = TimeZone::find(name);
    REQUIRE(found);
    return *found;
}

std::string local(Instant instant, const TimeZone& tz) {
    return format_iso8601(instant, tz);
}

// A scheduled run as the test expects it. `start` is the logical date and the data interval's start,
// `end` the interval's end and the run's run_after, both written in the DAG's zone with its offset.
struct ExpectedRun {
    std::string run_id;
    std::string start;
    std::string end;
};

std::string describe(const std::vector<DagRunRow>& runs, const TimeZone& tz) {
    std::ostringstream out;
    for (const auto& run : runs) {
        out << "  " << run.run_id << "  [" << local(run.data_interval_start, tz) << ", "
            << local(run.data_interval_end, tz) << ")\n";
    }
    return out.str();
}

// The DAG's runs, oldest first.
std::vector<DagRunRow> runs_oldest_first(Harness& h, const std::string& dag_id) {
    auto runs = h.runs(dag_id);
    std::reverse(runs.begin(), runs.end());
    return runs;
}

// Checks every run of `dag_id`, oldest first, and that they were created in that order.
void check_runs(Harness& h, const std::string& dag_id, const TimeZone& tz,
                const std::vector<ExpectedRun>& expected) {
    auto runs = runs_oldest_first(h, dag_id);
    INFO("runs of " << dag_id << ", oldest first:\n" << describe(runs, tz));
    REQUIRE(runs.size() == expected.size());
    for (size_t i = 0; i < runs.size(); ++i) {
        const DagRunRow& run = runs[i];
        INFO("run " << i << ": " << run.run_id);
        CHECK(run.run_type == "scheduled");
        CHECK(run.run_id == expected[i].run_id);
        REQUIRE(run.logical_date);
        CHECK(local(*run.logical_date, tz) == expected[i].start);
        CHECK(local(run.data_interval_start, tz) == expected[i].start);
        CHECK(local(run.data_interval_end, tz) == expected[i].end);
        CHECK(local(run.run_after, tz) == expected[i].end);
        if (i > 0) CHECK(run.pk > runs[i - 1].pk);  // created oldest first
    }
}

size_t count_running(Harness& h, const std::string& dag_id) {
    auto runs = h.runs(dag_id);
    return static_cast<size_t>(std::count_if(
        runs.begin(), runs.end(), [](const DagRunRow& run) { return run.state == RunState::running; }));
}

// What happened while the test let every try succeed.
struct Drained {
    std::vector<std::string> run_ids;  // of the tries, in the order they were launched
    size_t most_running = 0;           // the most runs of the DAG running at once
};

// Takes a turn, then finishes tries one at a time, oldest first, with a turn after each, until
// nothing is left to run.
Drained drain(Harness& h, const std::string& dag_id) {
    Drained drained;
    h.turn();
    drained.most_running = count_running(h, dag_id);
    while (!h.executor.launched.empty()) {
        drained.run_ids.push_back(h.finish_next(TaskOutcome::success).run_info.run_id);
        h.turn();
        drained.most_running = std::max(drained.most_running, count_running(h, dag_id));
    }
    return drained;
}

DagRunRow stored_run(Harness& h, const std::string& dag_id, const std::string& run_id) {
    auto found = h.store->find_run(dag_id, run_id, false);
    REQUIRE(found);
    REQUIRE(*found);
    return **found;
}

// The time run_turn asks to be woken at, in `tz`; "none" when it asks for nothing.
std::string next_wake(Harness& h, const TimeZone& tz) {
    auto wake = h.core->run_turn();
    REQUIRE(wake);
    return *wake ? local(**wake, tz) : "none";
}

}  // namespace

TEST_CASE("catchup in Asia/Tokyo: one run per missed day, oldest first, never more than max_active_runs",
          "[scheduler_dst]") {
    const TimeZone tokyo = zone("Asia/Tokyo");
    Harness h;
    h.clock.set(at("2024-03-10T12:00:00+09:00"));
    h.add_dag(std::string(R"(
dag_id: tokyo_daily
schedule: "0 3 * * *"
timezone: Asia/Tokyo
start_date: 2024-03-03T12:00
catchup: true
max_active_runs: 2
)") + kOneTask);

    // The first turn starts the two oldest intervals and no more.
    h.turn();
    REQUIRE(h.executor.launched.size() == 2);
    CHECK(h.executor.launched[0].run_info.run_id == "scheduled__2024-03-03T18:00:00+00:00");
    CHECK(h.executor.launched[1].run_info.run_id == "scheduled__2024-03-04T18:00:00+00:00");
    CHECK(h.runs("tokyo_daily").size() == 2);
    CHECK(h.core->active_run_pks("tokyo_daily").size() == 2);

    // The start date (noon on 03-03) moves up to the first 03:00; the last complete interval ends at
    // 03:00 today. Tokyo has no DST: every interval is 24 hours, 18:00 to 18:00 UTC.
    const Drained drained = drain(h, "tokyo_daily");
    CHECK(drained.most_running == 2);
    CHECK(drained.run_ids == std::vector<std::string>{
                                 "scheduled__2024-03-03T18:00:00+00:00",
                                 "scheduled__2024-03-04T18:00:00+00:00",
                                 "scheduled__2024-03-05T18:00:00+00:00",
                                 "scheduled__2024-03-06T18:00:00+00:00",
                                 "scheduled__2024-03-07T18:00:00+00:00",
                                 "scheduled__2024-03-08T18:00:00+00:00",
                             });
    check_runs(h, "tokyo_daily", tokyo,
               {
                   {"scheduled__2024-03-03T18:00:00+00:00", "2024-03-04T03:00:00+09:00",
                    "2024-03-05T03:00:00+09:00"},
                   {"scheduled__2024-03-04T18:00:00+00:00", "2024-03-05T03:00:00+09:00",
                    "2024-03-06T03:00:00+09:00"},
                   {"scheduled__2024-03-05T18:00:00+00:00", "2024-03-06T03:00:00+09:00",
                    "2024-03-07T03:00:00+09:00"},
                   {"scheduled__2024-03-06T18:00:00+00:00", "2024-03-07T03:00:00+09:00",
                    "2024-03-08T03:00:00+09:00"},
                   {"scheduled__2024-03-07T18:00:00+00:00", "2024-03-08T03:00:00+09:00",
                    "2024-03-09T03:00:00+09:00"},
                   {"scheduled__2024-03-08T18:00:00+00:00", "2024-03-09T03:00:00+09:00",
                    "2024-03-10T03:00:00+09:00"},
               });
    for (const auto& run : h.runs("tokyo_daily")) CHECK(to_string(run.state) == "success");

    // Caught up: the interval under way ends at 03:00 tomorrow, and nothing runs before then.
    CHECK(next_wake(h, tokyo) == "2024-03-11T03:00:00+09:00");
    h.clock.set(at("2024-03-11T02:59:59+09:00"));
    h.turn();
    CHECK(h.runs("tokyo_daily").size() == 6);
    CHECK(h.executor.launched.empty());
    h.clock.set(at("2024-03-11T03:00:00+09:00"));
    h.turn();
    REQUIRE(h.runs("tokyo_daily").size() == 7);
    const DagRunRow newest = h.runs("tokyo_daily").front();
    CHECK(newest.run_id == "scheduled__2024-03-09T18:00:00+00:00");
    CHECK(local(newest.data_interval_start, tokyo) == "2024-03-10T03:00:00+09:00");
    CHECK(local(newest.data_interval_end, tokyo) == "2024-03-11T03:00:00+09:00");
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].run_info.run_id == "scheduled__2024-03-09T18:00:00+00:00");
    CHECK(next_wake(h, tokyo) == "2024-03-12T03:00:00+09:00");
}

TEST_CASE("New York spring forward: 02:30 does not exist on 2024-03-10 and moves to 03:30 EDT",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-03-12T12:00:00Z"));
    h.add_dag(std::string(R"(
dag_id: ny_0230
schedule: "30 2 * * *"
timezone: America/New_York
start_date: 2024-03-08
catchup: true
)") + kOneTask);
    const Drained drained = drain(h, "ny_0230");
    CHECK(drained.run_ids.size() == 4);
    // The interval into the change is 24 real hours (07:30 UTC to 07:30 UTC), the one out of it 23.
    check_runs(h, "ny_0230", new_york,
               {
                   {"scheduled__2024-03-08T07:30:00+00:00", "2024-03-08T02:30:00-05:00",
                    "2024-03-09T02:30:00-05:00"},
                   {"scheduled__2024-03-09T07:30:00+00:00", "2024-03-09T02:30:00-05:00",
                    "2024-03-10T03:30:00-04:00"},
                   {"scheduled__2024-03-10T07:30:00+00:00", "2024-03-10T03:30:00-04:00",
                    "2024-03-11T02:30:00-04:00"},
                   {"scheduled__2024-03-11T06:30:00+00:00", "2024-03-11T02:30:00-04:00",
                    "2024-03-12T02:30:00-04:00"},
               });
    CHECK(next_wake(h, new_york) == "2024-03-13T02:30:00-04:00");
}

TEST_CASE("New York spring forward: 01:00 exists on 2024-03-10, the interval after it is 23 hours",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-03-11T12:00:00Z"));
    h.add_dag(std::string(R"(
dag_id: ny_0100
schedule: "0 1 * * *"
timezone: America/New_York
start_date: 2024-03-08
catchup: true
)") + kOneTask);
    drain(h, "ny_0100");
    check_runs(h, "ny_0100", new_york,
               {
                   {"scheduled__2024-03-08T06:00:00+00:00", "2024-03-08T01:00:00-05:00",
                    "2024-03-09T01:00:00-05:00"},
                   {"scheduled__2024-03-09T06:00:00+00:00", "2024-03-09T01:00:00-05:00",
                    "2024-03-10T01:00:00-05:00"},
                   {"scheduled__2024-03-10T06:00:00+00:00", "2024-03-10T01:00:00-05:00",
                    "2024-03-11T01:00:00-04:00"},
               });
    CHECK(next_wake(h, new_york) == "2024-03-12T01:00:00-04:00");
}

TEST_CASE("New York fall back: 01:30 happens twice on 2024-11-03 and runs once, at the second",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-11-05T12:00:00Z"));
    h.add_dag(std::string(R"(
dag_id: ny_0130
schedule: "30 1 * * *"
timezone: America/New_York
start_date: 2024-11-01
catchup: true
)") + kOneTask);
    drain(h, "ny_0130");
    // 01:30 EDT (05:30 UTC) on 11-02, then 01:30 EST (06:30 UTC) on 11-03: a 25-hour interval.
    check_runs(h, "ny_0130", new_york,
               {
                   {"scheduled__2024-11-01T05:30:00+00:00", "2024-11-01T01:30:00-04:00",
                    "2024-11-02T01:30:00-04:00"},
                   {"scheduled__2024-11-02T05:30:00+00:00", "2024-11-02T01:30:00-04:00",
                    "2024-11-03T01:30:00-05:00"},
                   {"scheduled__2024-11-03T06:30:00+00:00", "2024-11-03T01:30:00-05:00",
                    "2024-11-04T01:30:00-05:00"},
                   {"scheduled__2024-11-04T06:30:00+00:00", "2024-11-04T01:30:00-05:00",
                    "2024-11-05T01:30:00-05:00"},
               });

    // Woken at the first 01:30 of the change day, the scheduler creates nothing: the interval
    // ends at the second 01:30, an hour later.
    Harness live;
    live.clock.set(at("2024-11-03T05:29:59Z"));
    live.add_dag(std::string(R"(
dag_id: ny_0130_live
schedule: "30 1 * * *"
timezone: America/New_York
start_date: 2024-11-02
catchup: true
)") + kOneTask);
    live.turn();
    CHECK(live.runs("ny_0130_live").empty());
    CHECK(next_wake(live, new_york) == "2024-11-03T01:30:00-05:00");
    live.clock.set(at("2024-11-03T01:30:00-04:00"));
    live.turn();
    CHECK(live.runs("ny_0130_live").empty());
    live.clock.set(at("2024-11-03T01:30:00-05:00"));
    live.turn();
    check_runs(live, "ny_0130_live", new_york,
               {
                   {"scheduled__2024-11-02T05:30:00+00:00", "2024-11-02T01:30:00-04:00",
                    "2024-11-03T01:30:00-05:00"},
               });
}

TEST_CASE("an hourly cron through the New York fall-back night: 25 runs in the local day, each one real hour",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-11-04T00:00:00-05:00"));
    h.add_dag(std::string(R"(
dag_id: ny_hourly_fall
schedule: "0 * * * *"
timezone: America/New_York
start_date: 2024-11-03
catchup: true
)") + kOneTask);
    const Drained drained = drain(h, "ny_hourly_fall");
    CHECK(drained.most_running == 16);  // the default max_active_runs
    const std::vector<std::string> starts = {
        "2024-11-03T00:00:00-04:00", "2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00",
        "2024-11-03T02:00:00-05:00", "2024-11-03T03:00:00-05:00", "2024-11-03T04:00:00-05:00",
        "2024-11-03T05:00:00-05:00", "2024-11-03T06:00:00-05:00", "2024-11-03T07:00:00-05:00",
        "2024-11-03T08:00:00-05:00", "2024-11-03T09:00:00-05:00", "2024-11-03T10:00:00-05:00",
        "2024-11-03T11:00:00-05:00", "2024-11-03T12:00:00-05:00", "2024-11-03T13:00:00-05:00",
        "2024-11-03T14:00:00-05:00", "2024-11-03T15:00:00-05:00", "2024-11-03T16:00:00-05:00",
        "2024-11-03T17:00:00-05:00", "2024-11-03T18:00:00-05:00", "2024-11-03T19:00:00-05:00",
        "2024-11-03T20:00:00-05:00", "2024-11-03T21:00:00-05:00", "2024-11-03T22:00:00-05:00",
        "2024-11-03T23:00:00-05:00",
    };
    auto runs = runs_oldest_first(h, "ny_hourly_fall");
    INFO(describe(runs, new_york));
    REQUIRE(runs.size() == 25);
    for (size_t i = 0; i < runs.size(); ++i) {
        INFO("run " << i);
        CHECK(local(runs[i].data_interval_start, new_york) == starts[i]);
        CHECK(runs[i].data_interval_end - runs[i].data_interval_start == std::chrono::hours(1));
        CHECK(runs[i].run_after == runs[i].data_interval_end);
    }
    // The two runs at 01:00 differ by their UTC run ids.
    CHECK(runs[1].run_id == "scheduled__2024-11-03T05:00:00+00:00");
    CHECK(runs[2].run_id == "scheduled__2024-11-03T06:00:00+00:00");
    CHECK(runs[24].run_id == "scheduled__2024-11-04T04:00:00+00:00");
    CHECK(next_wake(h, new_york) == "2024-11-04T01:00:00-05:00");
}

TEST_CASE("an hourly cron through the New York spring-forward night: 23 runs in the local day",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-03-11T00:00:00-04:00"));
    h.add_dag(std::string(R"(
dag_id: ny_hourly_spring
schedule: "0 * * * *"
timezone: America/New_York
start_date: 2024-03-10
catchup: true
max_active_runs: 4
)") + kOneTask);
    const Drained drained = drain(h, "ny_hourly_spring");
    CHECK(drained.most_running == 4);
    const std::vector<std::string> starts = {
        "2024-03-10T00:00:00-05:00", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00",
        "2024-03-10T04:00:00-04:00", "2024-03-10T05:00:00-04:00", "2024-03-10T06:00:00-04:00",
        "2024-03-10T07:00:00-04:00", "2024-03-10T08:00:00-04:00", "2024-03-10T09:00:00-04:00",
        "2024-03-10T10:00:00-04:00", "2024-03-10T11:00:00-04:00", "2024-03-10T12:00:00-04:00",
        "2024-03-10T13:00:00-04:00", "2024-03-10T14:00:00-04:00", "2024-03-10T15:00:00-04:00",
        "2024-03-10T16:00:00-04:00", "2024-03-10T17:00:00-04:00", "2024-03-10T18:00:00-04:00",
        "2024-03-10T19:00:00-04:00", "2024-03-10T20:00:00-04:00", "2024-03-10T21:00:00-04:00",
        "2024-03-10T22:00:00-04:00", "2024-03-10T23:00:00-04:00",
    };
    auto runs = runs_oldest_first(h, "ny_hourly_spring");
    INFO(describe(runs, new_york));
    REQUIRE(runs.size() == 23);
    for (size_t i = 0; i < runs.size(); ++i) {
        INFO("run " << i);
        CHECK(local(runs[i].data_interval_start, new_york) == starts[i]);
        CHECK(runs[i].data_interval_end - runs[i].data_interval_start == std::chrono::hours(1));
    }
    // 01:00 EST is followed one real hour later by 03:00 EDT.
    CHECK(runs[1].run_id == "scheduled__2024-03-10T06:00:00+00:00");
    CHECK(runs[2].run_id == "scheduled__2024-03-10T07:00:00+00:00");
    CHECK(next_wake(h, new_york) == "2024-03-11T01:00:00-04:00");
}

TEST_CASE("@daily in Europe/London: a 23-hour interval in March and a 25-hour one in October",
          "[scheduler_dst]") {
    const TimeZone london = zone("Europe/London");
    using std::chrono::hours;

    Harness spring;
    spring.clock.set(at("2024-04-02T12:00:00+01:00"));
    spring.add_dag(std::string(R"(
dag_id: london_spring
schedule: "@daily"
timezone: Europe/London
start_date: 2024-03-30
catchup: true
)") + kOneTask);
    drain(spring, "london_spring");
    check_runs(spring, "london_spring", london,
               {
                   {"scheduled__2024-03-30T00:00:00+00:00", "2024-03-30T00:00:00+00:00",
                    "2024-03-31T00:00:00+00:00"},
                   {"scheduled__2024-03-31T00:00:00+00:00", "2024-03-31T00:00:00+00:00",
                    "2024-04-01T00:00:00+01:00"},
                   {"scheduled__2024-03-31T23:00:00+00:00", "2024-04-01T00:00:00+01:00",
                    "2024-04-02T00:00:00+01:00"},
               });
    auto runs = runs_oldest_first(spring, "london_spring");
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].data_interval_end - runs[0].data_interval_start == hours(24));
    CHECK(runs[1].data_interval_end - runs[1].data_interval_start == hours(23));
    CHECK(runs[2].data_interval_end - runs[2].data_interval_start == hours(24));

    Harness autumn;
    autumn.clock.set(at("2024-10-29T12:00:00Z"));
    autumn.add_dag(std::string(R"(
dag_id: london_autumn
schedule: "@daily"
timezone: Europe/London
start_date: 2024-10-26
catchup: true
)") + kOneTask);
    drain(autumn, "london_autumn");
    check_runs(autumn, "london_autumn", london,
               {
                   {"scheduled__2024-10-25T23:00:00+00:00", "2024-10-26T00:00:00+01:00",
                    "2024-10-27T00:00:00+01:00"},
                   {"scheduled__2024-10-26T23:00:00+00:00", "2024-10-27T00:00:00+01:00",
                    "2024-10-28T00:00:00+00:00"},
                   {"scheduled__2024-10-28T00:00:00+00:00", "2024-10-28T00:00:00+00:00",
                    "2024-10-29T00:00:00+00:00"},
               });
    runs = runs_oldest_first(autumn, "london_autumn");
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].data_interval_end - runs[0].data_interval_start == hours(24));
    CHECK(runs[1].data_interval_end - runs[1].data_interval_start == hours(25));
    CHECK(runs[2].data_interval_end - runs[2].data_interval_start == hours(24));
    CHECK(next_wake(autumn, london) == "2024-10-30T00:00:00+00:00");
}

TEST_CASE("a duration schedule steps in real time across a DST change and drifts on the wall clock",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-03-11T05:00:00Z"));
    h.add_dag(std::string(R"(
dag_id: ny_every_6h
schedule: 6h
timezone: America/New_York
start_date: 2024-03-09T12:00
catchup: true
)") + kOneTask);
    drain(h, "ny_every_6h");
    // From noon EST in steps of 6 real hours: after 2 a.m. on 03-10 the wall clock reads an hour later.
    // The last interval ends exactly now, which counts as complete.
    check_runs(h, "ny_every_6h", new_york,
               {
                   {"scheduled__2024-03-09T17:00:00+00:00", "2024-03-09T12:00:00-05:00",
                    "2024-03-09T18:00:00-05:00"},
                   {"scheduled__2024-03-09T23:00:00+00:00", "2024-03-09T18:00:00-05:00",
                    "2024-03-10T00:00:00-05:00"},
                   {"scheduled__2024-03-10T05:00:00+00:00", "2024-03-10T00:00:00-05:00",
                    "2024-03-10T07:00:00-04:00"},
                   {"scheduled__2024-03-10T11:00:00+00:00", "2024-03-10T07:00:00-04:00",
                    "2024-03-10T13:00:00-04:00"},
                   {"scheduled__2024-03-10T17:00:00+00:00", "2024-03-10T13:00:00-04:00",
                    "2024-03-10T19:00:00-04:00"},
                   {"scheduled__2024-03-10T23:00:00+00:00", "2024-03-10T19:00:00-04:00",
                    "2024-03-11T01:00:00-04:00"},
               });
    CHECK(next_wake(h, new_york) == "2024-03-11T07:00:00-04:00");

    // A one-day interval is 24 real hours, so it reads 23:00 after London falls back.
    const TimeZone london = zone("Europe/London");
    Harness daily;
    daily.clock.set(at("2024-10-29T00:00:00Z"));
    daily.add_dag(std::string(R"(
dag_id: london_every_1d
schedule: 1d
timezone: Europe/London
start_date: 2024-10-26
catchup: true
)") + kOneTask);
    drain(daily, "london_every_1d");
    check_runs(daily, "london_every_1d", london,
               {
                   {"scheduled__2024-10-25T23:00:00+00:00", "2024-10-26T00:00:00+01:00",
                    "2024-10-27T00:00:00+01:00"},
                   {"scheduled__2024-10-26T23:00:00+00:00", "2024-10-27T00:00:00+01:00",
                    "2024-10-27T23:00:00+00:00"},
                   {"scheduled__2024-10-27T23:00:00+00:00", "2024-10-27T23:00:00+00:00",
                    "2024-10-28T23:00:00+00:00"},
               });
    CHECK(next_wake(daily, london) == "2024-10-29T23:00:00+00:00");
}

TEST_CASE("without catchup only the latest complete interval runs, also when it spans a DST change",
          "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-11-04T07:00:00-05:00"));
    h.add_dag(std::string(R"(
dag_id: ny_daily_no_catchup
schedule: "@daily"
timezone: America/New_York
start_date: 2024-10-01
catchup: false
)") + kOneTask);
    drain(h, "ny_daily_no_catchup");
    // 11-03 is 25 hours long in New York.
    check_runs(h, "ny_daily_no_catchup", new_york,
               {
                   {"scheduled__2024-11-03T04:00:00+00:00", "2024-11-03T00:00:00-04:00",
                    "2024-11-04T00:00:00-05:00"},
               });
    CHECK(next_wake(h, new_york) == "2024-11-05T00:00:00-05:00");
    h.clock.set(at("2024-11-05T00:00:00-05:00"));
    drain(h, "ny_daily_no_catchup");
    check_runs(h, "ny_daily_no_catchup", new_york,
               {
                   {"scheduled__2024-11-03T04:00:00+00:00", "2024-11-03T00:00:00-04:00",
                    "2024-11-04T00:00:00-05:00"},
                   {"scheduled__2024-11-04T05:00:00+00:00", "2024-11-04T00:00:00-05:00",
                    "2024-11-05T00:00:00-05:00"},
               });

    // A scheduler that was down for days skips ahead again to the latest complete interval.
    h.clock.set(at("2024-11-09T12:00:00-05:00"));
    drain(h, "ny_daily_no_catchup");
    auto runs = h.runs("ny_daily_no_catchup");
    REQUIRE(runs.size() == 3);
    CHECK(runs.front().run_id == "scheduled__2024-11-08T05:00:00+00:00");
    CHECK(local(runs.front().data_interval_end, new_york) == "2024-11-09T00:00:00-05:00");
}

TEST_CASE("without catchup, an hourly DAG added inside the repeated hour runs the hour just ended",
          "[scheduler_dst]") {
    // At 01:30 EST the latest complete hour is the first 01:00 to the second 01:00: one real hour.
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-11-03T01:30:00-05:00"));
    h.add_dag(std::string(R"(
dag_id: ny_hourly_no_catchup
schedule: "0 * * * *"
timezone: America/New_York
)") + kOneTask);
    drain(h, "ny_hourly_no_catchup");
    check_runs(h, "ny_hourly_no_catchup", new_york,
               {
                   {"scheduled__2024-11-03T05:00:00+00:00", "2024-11-03T01:00:00-04:00",
                    "2024-11-03T01:00:00-05:00"},
               });
    CHECK(next_wake(h, new_york) == "2024-11-03T02:00:00-05:00");
}

TEST_CASE("without catchup, the interval ending at a time moved out of the spring-forward gap runs",
          "[scheduler_dst]") {
    // mayaflow's "previous fire time is strictly before" rule (docs/time.md) decides this case.
    // Airflow 2's _skip_to_latest would call _get_prev(03:30 EDT), which returns 03:30 EDT itself
    // (croniter's 02:30 made aware moves forward to it), and so pick [03-10 03:30 EDT, 03-11 02:30
    // EDT), which has not ended, skipping the interval that just did.
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.clock.set(at("2024-03-10T08:00:00-04:00"));
    h.add_dag(std::string(R"(
dag_id: ny_0230_no_catchup
schedule: "30 2 * * *"
timezone: America/New_York
start_date: 2024-03-01
)") + kOneTask);
    drain(h, "ny_0230_no_catchup");
    check_runs(h, "ny_0230_no_catchup", new_york,
               {
                   {"scheduled__2024-03-09T07:30:00+00:00", "2024-03-09T02:30:00-05:00",
                    "2024-03-10T03:30:00-04:00"},
               });
    CHECK(next_wake(h, new_york) == "2024-03-11T02:30:00-04:00");
    h.clock.set(at("2024-03-11T02:30:00-04:00"));
    drain(h, "ny_0230_no_catchup");
    check_runs(h, "ny_0230_no_catchup", new_york,
               {
                   {"scheduled__2024-03-09T07:30:00+00:00", "2024-03-09T02:30:00-05:00",
                    "2024-03-10T03:30:00-04:00"},
                   {"scheduled__2024-03-10T07:30:00+00:00", "2024-03-10T03:30:00-04:00",
                    "2024-03-11T02:30:00-04:00"},
               });
}

TEST_CASE("start and end dates at wall times the DST changes skip or repeat", "[scheduler_dst]") {
    const TimeZone new_york = zone("America/New_York");

    // 02:30 on 03-10 does not exist: the start date moves forward to 03:30 EDT, so the first hourly
    // interval starts at 04:00 EDT (moved back to 01:30 EST, it would start at 03:00 EDT).
    Harness spring;
    spring.clock.set(at("2024-03-10T06:00:00-04:00"));
    spring.add_dag(std::string(R"(
dag_id: ny_start_in_gap
schedule: "@hourly"
timezone: America/New_York
start_date: 2024-03-10T02:30
catchup: true
)") + kOneTask);
    drain(spring, "ny_start_in_gap");
    check_runs(spring, "ny_start_in_gap", new_york,
               {
                   {"scheduled__2024-03-10T08:00:00+00:00", "2024-03-10T04:00:00-04:00",
                    "2024-03-10T05:00:00-04:00"},
                   {"scheduled__2024-03-10T09:00:00+00:00", "2024-03-10T05:00:00-04:00",
                    "2024-03-10T06:00:00-04:00"},
               });

    // 01:30 on 11-03 happens twice: the end date is the second, 01:30 EST, which is exactly that
    // day's fire time, so the 11-03 run is the last one (the first 01:30 would exclude it).
    Harness autumn;
    autumn.clock.set(at("2024-11-10T12:00:00Z"));
    autumn.add_dag(std::string(R"(
dag_id: ny_end_in_overlap
schedule: "30 1 * * *"
timezone: America/New_York
start_date: 2024-11-01
end_date: 2024-11-03T01:30
catchup: true
)") + kOneTask);
    drain(autumn, "ny_end_in_overlap");
    check_runs(autumn, "ny_end_in_overlap", new_york,
               {
                   {"scheduled__2024-11-01T05:30:00+00:00", "2024-11-01T01:30:00-04:00",
                    "2024-11-02T01:30:00-04:00"},
                   {"scheduled__2024-11-02T05:30:00+00:00", "2024-11-02T01:30:00-04:00",
                    "2024-11-03T01:30:00-05:00"},
                   {"scheduled__2024-11-03T06:30:00+00:00", "2024-11-03T01:30:00-05:00",
                    "2024-11-04T01:30:00-05:00"},
               });
    CHECK(next_wake(autumn, new_york) == "none");
}

TEST_CASE("a run triggered by hand on a DST day covers the last complete interval before it",
          "[scheduler_dst]") {
    // mayaflow follows docs/time.md: previous fire times are strictly before. Airflow 2's
    // infer_manual_data_interval differs on both days through _get_prev: at 08:00 EDT on 03-10 it
    // gives the empty interval [03:30 EDT, 03:30 EDT), and at 01:45 EDT on 11-03 the interval
    // [11-02 01:30 EDT, 11-03 01:30 EST), which ends after the trigger.
    const TimeZone new_york = zone("America/New_York");
    Harness h;
    h.add_dag(std::string(R"(
dag_id: ny_manual_0230
schedule: "30 2 * * *"
timezone: America/New_York
)") + kOneTask);
    h.add_dag(std::string(R"(
dag_id: ny_manual_0130
schedule: "30 1 * * *"
timezone: America/New_York
)") + kOneTask);

    h.clock.set(at("2024-03-10T08:00:00-04:00"));
    auto spring = h.core->trigger(TriggerRequest{.dag_id = "ny_manual_0230"});
    REQUIRE(spring);
    CHECK(*spring == "manual__2024-03-10T12:00:00+00:00");
    h.clock.set(at("2024-11-03T01:45:00-04:00"));
    auto autumn = h.core->trigger(TriggerRequest{.dag_id = "ny_manual_0130"});
    REQUIRE(autumn);
    CHECK(*autumn == "manual__2024-11-03T05:45:00+00:00");
    h.turn();

    const DagRunRow spring_run = stored_run(h, "ny_manual_0230", *spring);
    CHECK(spring_run.run_type == "manual");
    CHECK(local(*spring_run.logical_date, new_york) == "2024-03-10T08:00:00-04:00");
    CHECK(local(spring_run.data_interval_start, new_york) == "2024-03-09T02:30:00-05:00");
    CHECK(local(spring_run.data_interval_end, new_york) == "2024-03-10T03:30:00-04:00");
    // At 01:45 EDT the day's 01:30 fire is the second one, still an hour ahead.
    const DagRunRow autumn_run = stored_run(h, "ny_manual_0130", *autumn);
    CHECK(local(*autumn_run.logical_date, new_york) == "2024-11-03T01:45:00-04:00");
    CHECK(local(autumn_run.data_interval_start, new_york) == "2024-11-01T01:30:00-04:00");
    CHECK(local(autumn_run.data_interval_end, new_york) == "2024-11-02T01:30:00-04:00");
}

}  // namespace mayaflow
