// Cron fire times in real time zones: DST gaps and overlaps as Airflow handles them, the strict order
// of fire times, and the ends of the calendar.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "engine/time/cron.h"
#include "engine/time/iso8601.h"
#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

struct ZoneCase {
    const char* cron;
    const char* zone;
    const char* from;  // UTC
    std::vector<std::string> next;
};

TEST_CASE("cron across DST: gaps move forward, repeated times take their second occurrence", "[cron][dst]") {
    const std::vector<ZoneCase> cases = {
        // New York 2024: 02:00 EST jumps to 03:00 EDT on March 10; 02:00 EDT falls back to 01:00 EST on
        // November 3.
        {"30 2 * * *",
         "America/New_York",
         "2024-03-09T12:00:00Z",
         {"2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"}},
        {"0 2 * * *",
         "America/New_York",
         "2024-03-09T12:00:00Z",
         {"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"}},
        {"30 1 * * *",
         "America/New_York",
         "2024-11-02T12:00:00Z",
         {"2024-11-03T01:30:00-05:00", "2024-11-04T01:30:00-05:00"}},
        {"0 0 * * *",
         "America/New_York",
         "2024-03-09T12:00:00Z",
         {"2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00"}},
        {"0 */2 * * *",
         "America/New_York",
         "2024-03-10T04:30:00Z",
         {"2024-03-10T00:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00",
          "2024-03-10T06:00:00-04:00"}},
        {"0 */2 * * *",
         "America/New_York",
         "2024-11-03T03:30:00Z",
         {"2024-11-03T00:00:00-04:00", "2024-11-03T02:00:00-05:00", "2024-11-03T04:00:00-05:00"}},
        // Every hour: Airflow steps in real time, so no hour is lost or merged.
        {"0 * * * *",
         "America/New_York",
         "2024-03-10T05:30:00Z",
         {"2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"}},
        {"0 * * * *",
         "America/New_York",
         "2024-11-03T04:30:00Z",
         {"2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00"}},
        {"30 * * * *",
         "America/New_York",
         "2024-11-03T04:45:00Z",
         {"2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-03T02:30:00-05:00"}},
        // London 2024: 01:00 GMT -> 02:00 BST on March 31; 02:00 BST -> 01:00 GMT on October 27.
        {"30 1 * * *",
         "Europe/London",
         "2024-03-30T12:00:00Z",
         {"2024-03-31T02:30:00+01:00", "2024-04-01T01:30:00+01:00"}},
        {"30 1 * * *",
         "Europe/London",
         "2024-10-26T12:00:00Z",
         {"2024-10-27T01:30:00+00:00", "2024-10-28T01:30:00+00:00"}},
        // Berlin 2024: 02:00 CET -> 03:00 CEST on March 31; 03:00 CEST -> 02:00 CET on October 27.
        {"30 2 * * *",
         "Europe/Berlin",
         "2024-03-30T12:00:00Z",
         {"2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"}},
        {"30 2 * * *",
         "Europe/Berlin",
         "2024-10-26T12:00:00Z",
         {"2024-10-27T02:30:00+01:00", "2024-10-28T02:30:00+01:00"}},
        {"0 * * * *",
         "Europe/Berlin",
         "2024-10-26T23:30:00Z",
         {"2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T03:00:00+01:00"}},
        // Sydney (southern hemisphere) 2024: 03:00 AEDT -> 02:00 AEST on April 7; 02:00 AEST -> 03:00 AEDT
        // on October 6.
        {"30 2 * * *",
         "Australia/Sydney",
         "2024-04-06T00:00:00Z",
         {"2024-04-07T02:30:00+10:00", "2024-04-08T02:30:00+10:00"}},
        {"30 2 * * *",
         "Australia/Sydney",
         "2024-10-05T00:00:00Z",
         {"2024-10-06T03:30:00+11:00", "2024-10-07T02:30:00+11:00"}},
        // St. John's (-03:30 / -02:30) 2024: March 10 and November 3 at 02:00.
        {"30 2 * * *",
         "America/St_Johns",
         "2024-03-09T12:00:00Z",
         {"2024-03-10T03:30:00-02:30", "2024-03-11T02:30:00-02:30"}},
        {"30 1 * * *",
         "America/St_Johns",
         "2024-11-02T12:00:00Z",
         {"2024-11-03T01:30:00-03:30", "2024-11-04T01:30:00-03:30"}},
        // Chatham (+12:45 / +13:45): 02:45 -> 03:45 on September 29, 03:45 -> 02:45 on April 7, 2024.
        {"0 3 * * *",
         "Pacific/Chatham",
         "2024-09-27T12:00:00Z",
         {"2024-09-28T03:00:00+12:45", "2024-09-29T04:00:00+13:45", "2024-09-30T03:00:00+13:45"}},
        {"0 3 * * *",
         "Pacific/Chatham",
         "2024-04-05T12:00:00Z",
         {"2024-04-06T03:00:00+13:45", "2024-04-07T03:00:00+12:45"}},
        // Lord Howe moves its clocks by half an hour: 02:00 -> 02:30 on October 6, 2024.
        {"15 2 * * *",
         "Australia/Lord_Howe",
         "2024-10-04T12:00:00Z",
         {"2024-10-05T02:15:00+10:30", "2024-10-06T02:45:00+11:00", "2024-10-07T02:15:00+11:00"}},
        {"45 1 * * *",
         "Australia/Lord_Howe",
         "2024-04-05T12:00:00Z",
         {"2024-04-06T01:45:00+11:00", "2024-04-07T01:45:00+10:30"}},
        // Santiago changes at midnight: on September 8, 2024 the day starts at 01:00.
        {"0 0 * * *",
         "America/Santiago",
         "2024-09-06T12:00:00Z",
         {"2024-09-07T00:00:00-04:00", "2024-09-08T01:00:00-03:00", "2024-09-09T00:00:00-03:00"}},
        // No DST, odd offsets.
        {"0 0 * * *",
         "Asia/Kathmandu",
         "2024-02-28T12:00:00Z",
         {"2024-02-29T00:00:00+05:45", "2024-03-01T00:00:00+05:45"}},
        {"30 9 * * MON-FRI",
         "Asia/Kolkata",
         "2024-03-01T00:00:00Z",
         {"2024-03-01T09:30:00+05:30", "2024-03-04T09:30:00+05:30"}},
        // Past 2037, where the TZif files stop listing transitions and their footer rule takes over.
        {"30 2 * * *",
         "America/New_York",
         "2040-03-10T12:00:00Z",
         {"2040-03-11T03:30:00-04:00", "2040-03-12T02:30:00-04:00"}},
        {"30 1 * * *",
         "America/New_York",
         "2040-11-03T12:00:00Z",
         {"2040-11-04T01:30:00-05:00", "2040-11-05T01:30:00-05:00"}},
    };
    for (const auto& c : cases) {
        INFO(c.cron << " in " << c.zone << " from " << c.from);
        CHECK(next_fires(cron(c.cron), zone(c.zone), at(c.from), c.next.size()) == c.next);
    }
}

TEST_CASE("cron previous_before never returns a time at or after the start, even in a fold", "[cron][dst]") {
    const TimeZone ny = zone("America/New_York");
    // 01:45 EDT on November 3, 2024: the day's 01:30 fire is 01:30 EST, still ahead. Airflow's _get_prev
    // would return it; mayaflow goes back to the day before.
    CHECK(previous_fires(cron("30 1 * * *"), ny, at("2024-11-03T05:45:00Z"), 2) ==
          std::vector<std::string>{"2024-11-02T01:30:00-04:00", "2024-11-01T01:30:00-04:00"});
    // Just after 03:00 EDT on March 10, the 02:30 fire (moved to 03:30 EDT) is ahead too.
    CHECK(previous_fires(cron("30 2 * * *"), ny, at("2024-03-10T07:10:00Z"), 1) ==
          std::vector<std::string>{"2024-03-09T02:30:00-05:00"});
    // Hourly crons step back in real time, through the repeated hour.
    CHECK(previous_fires(cron("0 * * * *"), ny, at("2024-11-03T07:30:00Z"), 3) ==
          std::vector<std::string>{"2024-11-03T02:00:00-05:00", "2024-11-03T01:00:00-05:00",
                                   "2024-11-03T01:00:00-04:00"});
    // As in Airflow, a start inside the first pass of a fold does not see the day's fire (01:30 EST),
    // which lies ahead: the next one is a day later. Chains from fire times are not affected.
    CHECK(next_fires(cron("30 1 * * *"), ny, at("2024-11-03T05:45:00Z"), 1) ==
          std::vector<std::string>{"2024-11-04T01:30:00-05:00"});
}

TEST_CASE("cron fire times are strictly ordered and chains walk back the way they came", "[cron][dst]") {
    const std::vector<const char*> zones = {"America/New_York", "Europe/London",       "Australia/Sydney",
                                            "Pacific/Chatham",  "Australia/Lord_Howe", "America/Santiago"};
    // Crons whose wall-clock grid is the same every day (for these, previous undoes next exactly).
    const std::vector<const char*> daily_grids = {"* * * * *",  "*/7 * * * *", "0 * * * *",      "30 1 * * *",
                                                  "30 2 * * *", "0 0 * * *",   "0,30 2,3 * * *", "* 2 * * *",
                                                  "45 2 * * *", "0 */2 * * *", "15 1-3 * * *"};
    // Around each zone's 2024 changes, every 17 minutes for two days.
    for (const char* zone_name : zones) {
        const TimeZone z = zone(zone_name);
        for (const char* text : daily_grids) {
            const auto c = cron(text);
            for (const char* day : {"2024-03-08T00:00:00Z", "2024-03-29T12:00:00Z", "2024-04-05T12:00:00Z",
                                    "2024-09-06T00:00:00Z", "2024-10-04T12:00:00Z", "2024-10-25T12:00:00Z",
                                    "2024-11-01T12:00:00Z", "2024-09-27T00:00:00Z"}) {
                for (Instant t = at(day); t < at(day) + std::chrono::hours(48);
                     t += std::chrono::minutes(17)) {
                    const auto next = c.next_after(t, z);
                    const auto previous = c.previous_before(t, z);
                    REQUIRE(next);
                    REQUIRE(previous);
                    INFO(text << " in " << zone_name << " at " << format_iso8601(t, z));
                    CHECK(*next > t);
                    CHECK(*previous < t);
                    CHECK(c.previous_before(*next, z) < *next);
                    if (!c.covers_every_hour()) CHECK(c.next_after(*c.previous_before(*next, z), z) == *next);
                    // Real-time steps of a whole hour undo each other, except where clocks move by half an
                    // hour (Lord Howe): there Airflow's hourly fire times leave the hour grid.
                    if (c.covers_every_hour() && std::string_view(zone_name) != "Australia/Lord_Howe") {
                        CHECK(c.previous_before(*next, z) <= t);
                    }
                }
            }
        }
    }
}

TEST_CASE("cron searches end: far-apart fire times and the ends of the calendar", "[cron]") {
    const TimeZone utc = TimeZone::utc();
    // 2100 is not a leap year.
    CHECK(cron("0 0 29 2 *").next_after(at("2096-03-01T00:00:00Z"), utc) == at("2104-02-29T00:00:00Z"));
    // Python's datetime (and so Airflow) stops at 9999; so do fire times.
    CHECK_FALSE(cron("0 0 29 2 *").next_after(at("9996-03-01T00:00:00Z"), utc));
    CHECK(cron("59 23 30 12 *").next_after(at("9999-01-01T00:00:00Z"), utc) == at("9999-12-30T23:59:00Z"));
    CHECK_FALSE(cron("* * * * *").next_after(Instant::max(), utc));
    CHECK_FALSE(cron("0 0 29 2 *").previous_before(at("0003-01-01T00:00:00Z"), utc));
    CHECK_FALSE(cron("* * * * *").previous_before(Instant::min(), utc));
    CHECK(cron("0 0 * * *").previous_before(Instant::max(), utc) == at("9999-12-30T00:00:00Z"));
}

}  // namespace
}  // namespace mayaflow
