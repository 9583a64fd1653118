#include "engine/time/timetable.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/time/iso8601.h"
#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

DataInterval interval(std::string_view start, std::string_view end) {
    return DataInterval{at(start), at(end)};
}

// "start -> end" in the zone, or "none".
std::string describe(const std::optional<DagRunInfo>& info, const TimeZone& z = TimeZone::utc()) {
    if (!info) return "none";
    CHECK(info->logical_date == info->interval.start);
    return format_iso8601(info->interval.start, z) + " -> " + format_iso8601(info->interval.end, z) +
           (info->run_after == info->interval.end ? "" : " run after " + format_iso8601(info->run_after, z));
}

// Every run the scheduler would create, one after another, until there are no more or `limit` is hit.
std::vector<std::string> runs(const Schedule& s, const TimeZone& z, const TimeRestriction& r, Instant now,
                              size_t limit = 20) {
    std::vector<std::string> out;
    std::optional<DataInterval> last;
    while (out.size() < limit) {
        const auto info = next_dagrun_info(s, z, last, r, now);
        if (!info) break;
        out.push_back(describe(info, z));
        last = info->interval;
    }
    return out;
}

// "Now" in these tests, unless a case says otherwise.
Instant now_fixed() {
    return at("2024-03-05T10:00:00Z");
}

TEST_CASE("timetable: a cron schedule with catchup creates every interval since the start date",
          "[timetable]") {
    const Schedule daily = schedule("@daily");
    const TimeZone utc = TimeZone::utc();
    const TimeRestriction catchup{at("2024-01-01T00:00:00Z"), std::nullopt, true};

    // The first run covers the first interval; it runs when that interval ends.
    const auto first = next_dagrun_info(daily, utc, std::nullopt, catchup, now_fixed());
    REQUIRE(first);
    CHECK(first->interval == interval("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"));
    CHECK(first->logical_date == at("2024-01-01T00:00:00Z"));
    CHECK(first->run_after == at("2024-01-02T00:00:00Z"));
    CHECK(describe(next_dagrun_info(daily, utc, first->interval, catchup, now_fixed())) ==
          "2024-01-02T00:00:00+00:00 -> 2024-01-03T00:00:00+00:00");

    // A start date between fire times moves to the next one.
    const TimeRestriction unaligned{at("2024-01-01T10:30:00Z"), std::nullopt, true};
    CHECK(describe(next_dagrun_info(daily, utc, std::nullopt, unaligned, now_fixed())) ==
          "2024-01-02T00:00:00+00:00 -> 2024-01-03T00:00:00+00:00");

    // Without a start date there is no first run.
    CHECK(describe(next_dagrun_info(daily, utc, std::nullopt,
                                    TimeRestriction{std::nullopt, std::nullopt, true}, now_fixed())) ==
          "none");
}

TEST_CASE("timetable: without catchup only the latest complete interval runs", "[timetable]") {
    const Schedule daily = schedule("@daily");
    const TimeZone utc = TimeZone::utc();
    const TimeRestriction no_catchup{at("2024-01-01T00:00:00Z"), std::nullopt, false};

    CHECK(describe(next_dagrun_info(daily, utc, std::nullopt, no_catchup, now_fixed())) ==
          "2024-03-04T00:00:00+00:00 -> 2024-03-05T00:00:00+00:00");
    // Exactly on a boundary, the interval that has just ended is the latest.
    CHECK(describe(next_dagrun_info(daily, utc, std::nullopt, no_catchup, at("2024-03-05T00:00:00Z"))) ==
          "2024-03-04T00:00:00+00:00 -> 2024-03-05T00:00:00+00:00");
    // After an old run, the next one still skips ahead.
    CHECK(describe(next_dagrun_info(daily, utc, interval("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),
                                    no_catchup, now_fixed())) ==
          "2024-03-04T00:00:00+00:00 -> 2024-03-05T00:00:00+00:00");
    // After the latest one, the next is the interval in progress (it runs when it ends).
    CHECK(describe(next_dagrun_info(daily, utc, interval("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"),
                                    no_catchup, now_fixed())) ==
          "2024-03-05T00:00:00+00:00 -> 2024-03-06T00:00:00+00:00");
    // A start date in the future wins.
    CHECK(describe(next_dagrun_info(
              daily, utc, std::nullopt, TimeRestriction{at("2024-06-01T12:00:00Z"), std::nullopt, false},
              now_fixed())) == "2024-06-02T00:00:00+00:00 -> 2024-06-03T00:00:00+00:00");
    // No start date is needed without catchup.
    CHECK(describe(next_dagrun_info(daily, utc, std::nullopt, TimeRestriction{}, now_fixed())) ==
          "2024-03-04T00:00:00+00:00 -> 2024-03-05T00:00:00+00:00");
    // In the DAG's zone: 03:00 in Tokyo is 18:00 UTC the day before.
    const TimeZone tokyo = zone("Asia/Tokyo");
    CHECK(
        describe(next_dagrun_info(schedule("0 3 * * *"), tokyo, std::nullopt, TimeRestriction{}, now_fixed()),
                 tokyo) == "2024-03-04T03:00:00+09:00 -> 2024-03-05T03:00:00+09:00");
}

TEST_CASE("timetable: the end date is the last logical date", "[timetable]") {
    const TimeRestriction bounded{at("2024-01-01T00:00:00Z"), at("2024-01-03T00:00:00Z"), true};
    CHECK(runs(schedule("@daily"), TimeZone::utc(), bounded, now_fixed()) ==
          std::vector<std::string>{"2024-01-01T00:00:00+00:00 -> 2024-01-02T00:00:00+00:00",
                                   "2024-01-02T00:00:00+00:00 -> 2024-01-03T00:00:00+00:00",
                                   "2024-01-03T00:00:00+00:00 -> 2024-01-04T00:00:00+00:00"});
    // An end date before the start date: nothing.
    CHECK(runs(schedule("@daily"), TimeZone::utc(),
               TimeRestriction{at("2024-01-05T00:00:00Z"), at("2024-01-03T00:00:00Z"), true}, now_fixed())
              .empty());
}

TEST_CASE("timetable: a changed schedule starts on its own grid", "[timetable]") {
    const TimeZone utc = TimeZone::utc();
    // The last run was hourly; the DAG is now daily. Airflow aligns the last end back to the new grid.
    CHECK(describe(next_dagrun_info(
              schedule("@daily"), utc, interval("2024-01-01T05:00:00Z", "2024-01-01T06:00:00Z"),
              TimeRestriction{at("2024-01-01T00:00:00Z"), std::nullopt, true}, now_fixed())) ==
          "2024-01-01T00:00:00+00:00 -> 2024-01-02T00:00:00+00:00");
    // Midnight runs become noon runs.
    CHECK(describe(next_dagrun_info(schedule("0 12 * * *"), utc,
                                    interval("2023-12-31T00:00:00Z", "2024-01-01T00:00:00Z"),
                                    TimeRestriction{std::nullopt, std::nullopt, true}, now_fixed())) ==
          "2023-12-31T12:00:00+00:00 -> 2024-01-01T12:00:00+00:00");
    // A last end already on the grid stays.
    CHECK(describe(next_dagrun_info(schedule("0 */6 * * *"), utc,
                                    interval("2024-01-01T05:00:00Z", "2024-01-01T06:00:00Z"),
                                    TimeRestriction{std::nullopt, std::nullopt, true}, now_fixed())) ==
          "2024-01-01T06:00:00+00:00 -> 2024-01-01T12:00:00+00:00");
}

TEST_CASE("timetable: @once runs once, at the start date, whatever catchup says", "[timetable]") {
    const Schedule once = schedule("@once");
    const TimeZone utc = TimeZone::utc();
    for (bool catchup : {true, false}) {
        const TimeRestriction r{at("2024-01-01T10:30:00Z"), std::nullopt, catchup};
        CHECK(describe(next_dagrun_info(once, utc, std::nullopt, r, now_fixed())) ==
              "2024-01-01T10:30:00+00:00 -> 2024-01-01T10:30:00+00:00");
        CHECK(describe(next_dagrun_info(once, utc, interval("2024-01-01T10:30:00Z", "2024-01-01T10:30:00Z"),
                                        r, now_fixed())) == "none");
    }
    CHECK(describe(next_dagrun_info(once, utc, std::nullopt, TimeRestriction{}, now_fixed())) == "none");
    CHECK(describe(next_dagrun_info(
              once, utc, std::nullopt,
              TimeRestriction{at("2024-01-02T00:00:00Z"), at("2024-01-01T00:00:00Z"), true}, now_fixed())) ==
          "none");
}

TEST_CASE("timetable: no schedule never creates runs", "[timetable]") {
    CHECK(describe(next_dagrun_info(Schedule(), TimeZone::utc(), std::nullopt,
                                    TimeRestriction{at("2024-01-01T00:00:00Z"), std::nullopt, true},
                                    now_fixed())) == "none");
}

TEST_CASE("timetable: a fixed interval steps in real time from the start date", "[timetable]") {
    const Schedule every_30m = schedule("30m");
    const TimeZone utc = TimeZone::utc();
    CHECK(runs(every_30m, utc, TimeRestriction{at("2024-01-01T00:10:00Z"), std::nullopt, true}, now_fixed(),
               3) == std::vector<std::string>{"2024-01-01T00:10:00+00:00 -> 2024-01-01T00:40:00+00:00",
                                              "2024-01-01T00:40:00+00:00 -> 2024-01-01T01:10:00+00:00",
                                              "2024-01-01T01:10:00+00:00 -> 2024-01-01T01:40:00+00:00"});
    // Without catchup: the interval that ends now.
    CHECK(describe(next_dagrun_info(
              every_30m, utc, std::nullopt, TimeRestriction{at("2024-01-01T00:10:00Z"), std::nullopt, false},
              now_fixed())) == "2024-03-05T09:30:00+00:00 -> 2024-03-05T10:00:00+00:00");
    // DST does not stretch or shrink it: one real hour each, across New York's spring change.
    const TimeZone ny = zone("America/New_York");
    CHECK(runs(schedule("1h"), ny, TimeRestriction{at("2024-03-10T05:00:00Z"), std::nullopt, true},
               now_fixed(),
               3) == std::vector<std::string>{"2024-03-10T00:00:00-05:00 -> 2024-03-10T01:00:00-05:00",
                                              "2024-03-10T01:00:00-05:00 -> 2024-03-10T03:00:00-04:00",
                                              "2024-03-10T03:00:00-04:00 -> 2024-03-10T04:00:00-04:00"});
}

TEST_CASE("timetable: cron intervals follow the zone's wall clock across DST", "[timetable][dst]") {
    const TimeZone ny = zone("America/New_York");
    // Daily intervals are 23 hours in spring and 25 in autumn.
    CHECK(runs(schedule("@daily"), ny,
               TimeRestriction{at("2024-03-09T05:00:00Z"), at("2024-03-11T04:00:00Z"), true}, now_fixed()) ==
          std::vector<std::string>{"2024-03-09T00:00:00-05:00 -> 2024-03-10T00:00:00-05:00",
                                   "2024-03-10T00:00:00-05:00 -> 2024-03-11T00:00:00-04:00",
                                   "2024-03-11T00:00:00-04:00 -> 2024-03-12T00:00:00-04:00"});
    CHECK(describe(next_dagrun_info(schedule("@daily"), ny,
                                    interval("2024-11-02T04:00:00Z", "2024-11-03T04:00:00Z"),
                                    TimeRestriction{}, at("2024-11-10T00:00:00Z")),
                   ny) == "2024-11-08T00:00:00-05:00 -> 2024-11-09T00:00:00-05:00");
    CHECK(describe(next_dagrun_info(schedule("@daily"), ny,
                                    interval("2024-11-02T04:00:00Z", "2024-11-03T04:00:00Z"),
                                    TimeRestriction{std::nullopt, std::nullopt, true}, now_fixed()),
                   ny) == "2024-11-03T00:00:00-04:00 -> 2024-11-04T00:00:00-05:00");
    // Hourly intervals are one real hour each, through the repeated hour.
    CHECK(runs(schedule("@hourly"), ny, TimeRestriction{at("2024-11-03T04:00:00Z"), std::nullopt, true},
               now_fixed(),
               4) == std::vector<std::string>{"2024-11-03T00:00:00-04:00 -> 2024-11-03T01:00:00-04:00",
                                              "2024-11-03T01:00:00-04:00 -> 2024-11-03T01:00:00-05:00",
                                              "2024-11-03T01:00:00-05:00 -> 2024-11-03T02:00:00-05:00",
                                              "2024-11-03T02:00:00-05:00 -> 2024-11-03T03:00:00-05:00"});
    // A fire time in the spring gap moves forward by the gap.
    CHECK(runs(schedule("30 2 * * *"), ny, TimeRestriction{at("2024-03-09T05:00:00Z"), std::nullopt, true},
               now_fixed(),
               2) == std::vector<std::string>{"2024-03-09T02:30:00-05:00 -> 2024-03-10T03:30:00-04:00",
                                              "2024-03-10T03:30:00-04:00 -> 2024-03-11T02:30:00-04:00"});
    // In Sydney the seasons are the other way round.
    const TimeZone sydney = zone("Australia/Sydney");
    CHECK(runs(schedule("0 2 * * *"), sydney, TimeRestriction{at("2024-04-05T00:00:00Z"), std::nullopt, true},
               now_fixed(),
               2) == std::vector<std::string>{"2024-04-06T02:00:00+11:00 -> 2024-04-07T02:00:00+10:00",
                                              "2024-04-07T02:00:00+10:00 -> 2024-04-08T02:00:00+10:00"});
}

TEST_CASE("timetable: a manual run covers the last complete interval", "[timetable]") {
    const TimeZone utc = TimeZone::utc();
    CHECK(infer_manual_data_interval(schedule("@daily"), utc, at("2024-03-05T01:00:00Z")) ==
          interval("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"));
    CHECK(infer_manual_data_interval(schedule("@daily"), utc, at("2024-03-05T00:00:00Z")) ==
          interval("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"));
    CHECK(infer_manual_data_interval(schedule("0 */6 * * *"), utc, at("2024-03-05T13:59:00Z")) ==
          interval("2024-03-05T06:00:00Z", "2024-03-05T12:00:00Z"));
    CHECK(infer_manual_data_interval(schedule("30m"), utc, at("2024-03-05T10:00:00Z")) ==
          interval("2024-03-05T09:30:00Z", "2024-03-05T10:00:00Z"));
    CHECK(infer_manual_data_interval(schedule("@once"), utc, at("2024-03-05T10:00:00Z")) ==
          interval("2024-03-05T10:00:00Z", "2024-03-05T10:00:00Z"));
    CHECK(infer_manual_data_interval(Schedule(), utc, at("2024-03-05T10:00:00Z")) ==
          interval("2024-03-05T10:00:00Z", "2024-03-05T10:00:00Z"));
    const TimeZone ny = zone("America/New_York");
    const auto manual = infer_manual_data_interval(schedule("@daily"), ny, at("2024-03-10T12:00:00Z"));
    CHECK(format_iso8601(manual.start, ny) == "2024-03-09T00:00:00-05:00");
    CHECK(format_iso8601(manual.end, ny) == "2024-03-10T00:00:00-05:00");
}

TEST_CASE("timetable: a year of daily runs in a DST zone has one run per calendar day", "[timetable][dst]") {
    const TimeZone berlin = zone("Europe/Berlin");
    const auto all = runs(schedule("0 2 * * *"), berlin,
                          TimeRestriction{at("2024-01-01T00:00:00Z"), at("2024-12-31T12:00:00Z"), true},
                          now_fixed(), 1000);
    // 2024 has 366 days; the last logical date (December 31, 02:00) is before the end date.
    CHECK(all.size() == 366);
    CHECK(all.front() == "2024-01-01T02:00:00+01:00 -> 2024-01-02T02:00:00+01:00");
    CHECK(all.back() == "2024-12-31T02:00:00+01:00 -> 2025-01-01T02:00:00+01:00");
    // On the change days 02:00 is in the gap (moved to 03:00 CEST) or repeated (the second, CET).
    CHECK(std::find(all.begin(), all.end(), "2024-03-30T02:00:00+01:00 -> 2024-03-31T03:00:00+02:00") !=
          all.end());
    CHECK(std::find(all.begin(), all.end(), "2024-10-26T02:00:00+02:00 -> 2024-10-27T02:00:00+01:00") !=
          all.end());
}

}  // namespace
}  // namespace mayaflow
