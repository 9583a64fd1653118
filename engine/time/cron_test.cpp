#include "engine/time/cron.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/time/iso8601.h"
#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

// A wall-clock time written like a UTC date-time: "2024-03-10 02:30".

struct ErrorCase {
    const char* text;
    const char* message;
};

TEST_CASE("cron parse errors name the expression, the field and the value", "[cron]") {
    const std::vector<ErrorCase> cases = {
        {"0 25 * * *", "cron \"0 25 * * *\": hour field \"25\" is out of range 0-23"},
        {"60 * * * *", "cron \"60 * * * *\": minute field \"60\" is out of range 0-59"},
        {"0 0 0 * *", "cron \"0 0 0 * *\": day-of-month field \"0\" is out of range 1-31"},
        {"0 0 32 * *", "cron \"0 0 32 * *\": day-of-month field \"32\" is out of range 1-31"},
        {"0 0 * 13 *", "cron \"0 0 * 13 *\": month field \"13\" is out of range 1-12"},
        {"0 0 * 0 *", "cron \"0 0 * 0 *\": month field \"0\" is out of range 1-12"},
        {"0 0 * * 8", "cron \"0 0 * * 8\": day-of-week field \"8\" is out of range 0-7"},
        {"0 1,25 * * *", "cron \"0 1,25 * * *\": hour field \"1,25\": \"25\" is out of range 0-23"},
        {"0 20-25 * * *", "cron \"0 20-25 * * *\": hour field \"20-25\": \"25\" is out of range 0-23"},
        {"0 99999 * * *", "cron \"0 99999 * * *\": hour field \"99999\" is out of range 0-23"},
        {"0 0 * * *  *",
         "cron \"0 0 * * *  *\": expected 5 fields (minute hour day-of-month month day-of-week), found 6; "
         "seconds "
         "and years are not supported"},
        {"0 0 * *",
         "cron \"0 0 * *\": expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
        {"", "cron \"\": expected 5 fields (minute hour day-of-month month day-of-week), found 0"},
        {"@daily",
         "cron \"@daily\": expected 5 fields (minute hour day-of-month month day-of-week), found 1"},
        {"0 5-2 * * *",
         "cron \"0 5-2 * * *\": hour field \"5-2\" is a range that starts after it ends; write it as two "
         "parts, "
         "e.g. \"5-23,0-2\""},
        {"*/0 * * * *",
         "cron \"*/0 * * * *\": minute field \"*/0\" has step 0; a step must be 1 or more (*/1 is every value)"},
        {"0 0 1-5/00 * *",
         "cron \"0 0 1-5/00 * *\": day-of-month field \"1-5/00\" has step 0; a step must be 1 or more (*/1 is "
         "every value)"},
        {"*/x * * * *", "cron \"*/x * * * *\": minute field \"*/x\" needs a whole number after /"},
        {"1/ * * * *", "cron \"1/ * * * *\": minute field \"1/\" needs a whole number after /"},
        {"a * * * *", "cron \"a * * * *\": minute field \"a\" is not a number 0-59"},
        {"-5 * * * *", "cron \"-5 * * * *\": minute field \"-5\" is not a number 0-59"},
        {"5- * * * *", "cron \"5- * * * *\": minute field \"5-\" is missing a value"},
        {"0 0 * JANUARY *",
         "cron \"0 0 * JANUARY *\": month field \"JANUARY\" is neither a number 1-12 nor a month name "
         "JAN-DEC"},
        {"0 0 * * FOO",
         "cron \"0 0 * * FOO\": day-of-week field \"FOO\" is neither a number 0-7 (0 and 7 are Sunday) nor a "
         "day "
         "name SUN-SAT"},
        {"0 0 * * MON-FOO",
         "cron \"0 0 * * MON-FOO\": day-of-week field \"MON-FOO\": \"FOO\" is neither a number 0-7 (0 and 7 "
         "are "
         "Sunday) nor a day name SUN-SAT"},
        {"0 0 1,,2 * *",
         "cron \"0 0 1,,2 * *\": day-of-month field \"1,,2\" has an empty list item (two commas, or a comma "
         "at an "
         "end)"},
        {"0 0 1, * *",
         "cron \"0 0 1, * *\": day-of-month field \"1,\" has an empty list item (two commas, or a comma at "
         "an end)"},
        {"? 0 * * *",
         "cron \"? 0 * * *\": minute field \"?\" uses ?, which only the day-of-month and day-of-week fields "
         "take"},
        {"0 L * * *",
         "cron \"0 L * * *\": hour field \"L\" uses L, which only the day-of-month and day-of-week fields "
         "take"},
        {"0 0 1#2 * *",
         "cron \"0 0 1#2 * *\": day-of-month field \"1#2\" uses #, which only the day-of-week field "
         "takes"},
        {"0 0 * * L",
         "cron \"0 0 * * L\": day-of-week field \"L\" is ambiguous; write nL for the month's last weekday n, "
         "e.g. 5L "
         "or FRIL for its last Friday"},
        {"0 0 * * 5#6",
         "cron \"0 0 * * 5#6\": day-of-week field \"5#6\" should be w#k with k from 1 to 5 (the k-th weekday "
         "w of "
         "the month)"},
        {"0 0 * * 5#0",
         "cron \"0 0 * * 5#0\": day-of-week field \"5#0\" should be w#k with k from 1 to 5 (the k-th weekday "
         "w of "
         "the month)"},
        {"0 0 * * 1-5#2",
         "cron \"0 0 * * 1-5#2\": day-of-week field \"1-5#2\" puts # after more than one weekday; # takes a "
         "single "
         "weekday such as 5 or FRI"},
        {"0 0 * * 9L", "cron \"0 0 * * 9L\": day-of-week field \"9L\": \"9\" is out of range 0-7"},
        {"0 0 LW * *",
         "cron \"0 0 LW * *\": day-of-month field \"LW\" uses W (nearest weekday), which mayaflow does not "
         "support"},
        {"0 0 15W * *",
         "cron \"0 0 15W * *\": day-of-month field \"15W\" uses W (nearest weekday), which mayaflow does not "
         "support"},
        {"0 0 L-31 * *",
         "cron \"0 0 L-31 * *\": day-of-month field \"L-31\" should be L-n with n from 0 to 30 (n days "
         "before the "
         "month's last day)"},
        {"0 0 30 2 *",
         "cron \"0 0 30 2 *\" never fires: no day of February matches day-of-month \"30\" and day-of-week "
         "\"*\""},
        {"0 0 31 4,6,9,11 *",
         "cron \"0 0 31 4,6,9,11 *\" never fires: no day of April, June, September, November matches "
         "day-of-month \"31\" and day-of-week \"*\""},
        {"0 0 30,31 FEB */1",
         "cron \"0 0 30,31 FEB */1\" never fires: no day of February matches day-of-month \"30,31\" and "
         "day-of-week \"*/1\""},
        {"0 0 * * FRI#x",
         "cron \"0 0 * * FRI#x\": day-of-week field \"FRI#x\" should be w#k with k from 1 to 5 (the k-th "
         "weekday w of the month)"},
        {"0 0 * * L9", "cron \"0 0 * * L9\": day-of-week field \"L9\": \"9\" is out of range 0-7"},
        {"0 0 5-LW * *",
         "cron \"0 0 5-LW * *\": day-of-month field \"5-LW\" uses W (nearest weekday), which mayaflow does "
         "not support"},
    };
    for (const auto& c : cases) {
        auto parsed = CronExpression::parse(c.text);
        INFO(c.text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message == c.message);
    }
}

struct NextCase {
    const char* cron;
    const char* from;  // UTC
    std::vector<std::string> next;
};

// In UTC, so wall-clock and real time agree: the syntax alone decides.
TEST_CASE("cron syntax: every feature finds the right next fire times", "[cron]") {
    const std::vector<NextCase> cases = {
        {"* * * * *",
         "2024-01-01T00:00:30Z",
         {"2024-01-01T00:01:00+00:00", "2024-01-01T00:02:00+00:00", "2024-01-01T00:03:00+00:00"}},
        {"*/15 * * * *",
         "2024-01-01T00:00:00Z",
         {"2024-01-01T00:15:00+00:00", "2024-01-01T00:30:00+00:00", "2024-01-01T00:45:00+00:00",
          "2024-01-01T01:00:00+00:00"}},
        {"5/20 * * * *",
         "2024-01-01T00:00:00Z",
         {"2024-01-01T00:05:00+00:00", "2024-01-01T00:25:00+00:00", "2024-01-01T00:45:00+00:00",
          "2024-01-01T01:05:00+00:00"}},
        {"10-20/5 * * * *",
         "2024-01-01T00:00:00Z",
         {"2024-01-01T00:10:00+00:00", "2024-01-01T00:15:00+00:00", "2024-01-01T00:20:00+00:00",
          "2024-01-01T01:10:00+00:00"}},
        {"0,30 9-17/4 * * *",
         "2024-01-01T09:00:00Z",
         {"2024-01-01T09:30:00+00:00", "2024-01-01T13:00:00+00:00", "2024-01-01T13:30:00+00:00",
          "2024-01-01T17:00:00+00:00", "2024-01-01T17:30:00+00:00", "2024-01-02T09:00:00+00:00"}},
        {"  0 0 1 */3 *  ",
         "2024-01-01T00:00:00Z",
         {"2024-04-01T00:00:00+00:00", "2024-07-01T00:00:00+00:00", "2024-10-01T00:00:00+00:00",
          "2025-01-01T00:00:00+00:00"}},
        {"0 0 * JAN,jul *",
         "2024-01-30T12:00:00Z",
         {"2024-01-31T00:00:00+00:00", "2024-07-01T00:00:00+00:00", "2024-07-02T00:00:00+00:00"}},
        {"0 0 1 jan-Mar *",
         "2024-01-01T00:00:00Z",
         {"2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"}},
        {"0 0 1 nov-DEC *",
         "2024-01-01T00:00:00Z",
         {"2024-11-01T00:00:00+00:00", "2024-12-01T00:00:00+00:00"}},
        // 2024-03-01 is a Friday.
        {"0 0 * * MON-FRI",
         "2024-03-01T12:00:00Z",
         {"2024-03-04T00:00:00+00:00", "2024-03-05T00:00:00+00:00", "2024-03-06T00:00:00+00:00",
          "2024-03-07T00:00:00+00:00", "2024-03-08T00:00:00+00:00", "2024-03-11T00:00:00+00:00"}},
        {"0 0 * * mon-fri", "2024-03-01T12:00:00Z", {"2024-03-04T00:00:00+00:00"}},
        {"0 0 * * 0", "2024-03-01T12:00:00Z", {"2024-03-03T00:00:00+00:00", "2024-03-10T00:00:00+00:00"}},
        {"0 0 * * 7", "2024-03-01T12:00:00Z", {"2024-03-03T00:00:00+00:00", "2024-03-10T00:00:00+00:00"}},
        {"0 0 * * SUN", "2024-03-01T12:00:00Z", {"2024-03-03T00:00:00+00:00"}},
        {"0 0 * * 5-7",
         "2024-03-01T12:00:00Z",
         {"2024-03-02T00:00:00+00:00", "2024-03-03T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 * * FRI-SUN",
         "2024-03-01T12:00:00Z",
         {"2024-03-02T00:00:00+00:00", "2024-03-03T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 * * 1,3,5",
         "2024-03-01T12:00:00Z",
         {"2024-03-04T00:00:00+00:00", "2024-03-06T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 * * */3",
         "2024-03-01T12:00:00Z",  // 0, 3, 6: Sunday, Wednesday, Saturday
         {"2024-03-02T00:00:00+00:00", "2024-03-03T00:00:00+00:00", "2024-03-06T00:00:00+00:00"}},
        {"0 0 ? * MON", "2024-03-01T12:00:00Z", {"2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00"}},
        {"0 0 1 * ?", "2024-03-01T12:00:00Z", {"2024-04-01T00:00:00+00:00", "2024-05-01T00:00:00+00:00"}},
        // L: the month's last day, 2024 a leap year.
        {"0 12 L * *",
         "2024-01-31T12:00:00Z",
         {"2024-02-29T12:00:00+00:00", "2024-03-31T12:00:00+00:00", "2024-04-30T12:00:00+00:00"}},
        {"0 0 l 2 *",
         "2024-03-01T00:00:00Z",
         {"2025-02-28T00:00:00+00:00", "2026-02-28T00:00:00+00:00", "2027-02-28T00:00:00+00:00",
          "2028-02-29T00:00:00+00:00"}},
        {"0 0 L-1 * *",
         "2024-01-01T00:00:00Z",
         {"2024-01-30T00:00:00+00:00", "2024-02-28T00:00:00+00:00", "2024-03-30T00:00:00+00:00"}},
        {"0 0 L-30 * *",
         "2024-01-01T00:00:00Z",  // the 1st, in months of 31 days only
         {"2024-03-01T00:00:00+00:00", "2024-05-01T00:00:00+00:00", "2024-07-01T00:00:00+00:00",
          "2024-08-01T00:00:00+00:00"}},
        // a-L runs to the 31st, as croniter reads it: to the last day of every month.
        {"0 0 28-L * *",
         "2024-02-27T00:00:00Z",
         {"2024-02-28T00:00:00+00:00", "2024-02-29T00:00:00+00:00", "2024-03-28T00:00:00+00:00"}},
        {"0 0 1-L/10 * *",
         "2024-02-27T00:00:00Z",
         {"2024-03-01T00:00:00+00:00", "2024-03-11T00:00:00+00:00", "2024-03-21T00:00:00+00:00",
          "2024-03-31T00:00:00+00:00"}},
        {"0 0 15,L * *",
         "2024-01-01T00:00:00Z",
         {"2024-01-15T00:00:00+00:00", "2024-01-31T00:00:00+00:00", "2024-02-15T00:00:00+00:00",
          "2024-02-29T00:00:00+00:00"}},
        // nL: the month's last weekday n.
        {"0 0 * * 5L",
         "2024-01-01T00:00:00Z",
         {"2024-01-26T00:00:00+00:00", "2024-02-23T00:00:00+00:00", "2024-03-29T00:00:00+00:00"}},
        {"0 0 * * FRIL", "2024-01-01T00:00:00Z", {"2024-01-26T00:00:00+00:00"}},
        // croniter's spelling of the same, Ln.
        {"0 0 * * L5",
         "2024-01-01T00:00:00Z",
         {"2024-01-26T00:00:00+00:00", "2024-02-23T00:00:00+00:00", "2024-03-29T00:00:00+00:00"}},
        {"0 0 * * lfri", "2024-01-01T00:00:00Z", {"2024-01-26T00:00:00+00:00"}},
        {"0 0 * * L7", "2024-01-01T00:00:00Z", {"2024-01-28T00:00:00+00:00"}},
        {"0 0 * * l0,MON#1",
         "2024-01-01T00:00:00Z",
         {"2024-01-28T00:00:00+00:00", "2024-02-05T00:00:00+00:00", "2024-02-25T00:00:00+00:00"}},
        {"0 0 * * 0L",
         "2024-01-01T00:00:00Z",
         {"2024-01-28T00:00:00+00:00", "2024-02-25T00:00:00+00:00", "2024-03-31T00:00:00+00:00"}},
        {"0 0 * * 7l", "2024-01-01T00:00:00Z", {"2024-01-28T00:00:00+00:00"}},
        // w#k: the k-th weekday w.
        {"0 0 * * FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-12T00:00:00+00:00", "2024-02-09T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 * * 1#1",
         "2024-01-01T00:00:00Z",
         {"2024-02-05T00:00:00+00:00", "2024-03-04T00:00:00+00:00", "2024-04-01T00:00:00+00:00"}},
        {"0 0 * * MON#5",
         "2024-01-01T00:00:00Z",
         {"2024-01-29T00:00:00+00:00", "2024-04-29T00:00:00+00:00", "2024-07-29T00:00:00+00:00",
          "2024-09-30T00:00:00+00:00", "2024-12-30T00:00:00+00:00"}},
        {"0 0 * * fri#02",
         "2024-01-01T00:00:00Z",
         {"2024-01-12T00:00:00+00:00", "2024-02-09T00:00:00+00:00"}},
        {"0 0 * * 1#1,5L",
         "2024-01-01T00:00:00Z",
         {"2024-01-26T00:00:00+00:00", "2024-02-05T00:00:00+00:00", "2024-02-23T00:00:00+00:00",
          "2024-03-04T00:00:00+00:00", "2024-03-29T00:00:00+00:00"}},
        // Leap years, including the century rule.
        {"0 0 29 2 *", "2024-03-01T00:00:00Z", {"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"}},
        {"0 0 29 2 *", "2096-03-01T00:00:00Z", {"2104-02-29T00:00:00+00:00"}},
        {"0 0 29 2 *", "1999-01-01T00:00:00Z", {"2000-02-29T00:00:00+00:00", "2004-02-29T00:00:00+00:00"}},
        {"0 0 31 * *",
         "2024-01-31T00:00:00Z",
         {"2024-03-31T00:00:00+00:00", "2024-05-31T00:00:00+00:00", "2024-07-31T00:00:00+00:00",
          "2024-08-31T00:00:00+00:00"}},
        // The fifth Monday of February needs a leap year whose February starts on a Monday: 40 years
        // pass between 2072 and 2112, since 2100 is not a leap year.
        {"0 12 * 2 1#5",
         "2024-01-01T00:00:00Z",
         {"2044-02-29T12:00:00+00:00", "2072-02-29T12:00:00+00:00", "2112-02-29T12:00:00+00:00"}},
        // Year boundaries.
        {"59 23 31 12 *", "2024-12-31T23:59:00Z", {"2025-12-31T23:59:00+00:00"}},
        {"0 0 1 1 *",
         "2024-12-31T23:59:59.999999Z",
         {"2025-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"}},
    };
    const TimeZone utc = TimeZone::utc();
    for (const auto& c : cases) {
        INFO(c.cron << " from " << c.from);
        CHECK(next_fires(cron(c.cron), utc, at(c.from), c.next.size()) == c.next);
    }
}

// The expected times are croniter 1.3.5's (Airflow's), except where a comment says croniter fails.
TEST_CASE("cron day fields combine as Airflow's croniter combines them", "[cron]") {
    const std::vector<NextCase> cases = {
        // Both restricted: Fridays or the 13th (2024-09-13 is both).
        {"0 0 13 * 5",
         "2024-09-01T00:00:00Z",
         {"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00", "2024-09-20T00:00:00+00:00",
          "2024-09-27T00:00:00+00:00", "2024-10-04T00:00:00+00:00", "2024-10-11T00:00:00+00:00",
          "2024-10-13T00:00:00+00:00", "2024-10-18T00:00:00+00:00"}},
        // Days 1-7 or Mondays.
        {"0 0 1-7 * 1",
         "2024-03-28T00:00:00Z",
         {"2024-04-01T00:00:00+00:00", "2024-04-02T00:00:00+00:00", "2024-04-03T00:00:00+00:00",
          "2024-04-04T00:00:00+00:00", "2024-04-05T00:00:00+00:00", "2024-04-06T00:00:00+00:00",
          "2024-04-07T00:00:00+00:00", "2024-04-08T00:00:00+00:00", "2024-04-15T00:00:00+00:00"}},
        // A step on * restricts the field (Vixie cron would AND here): odd days or Mondays.
        {"0 0 */2 * 1",
         "2024-01-01T00:00:00Z",
         {"2024-01-03T00:00:00+00:00", "2024-01-05T00:00:00+00:00", "2024-01-07T00:00:00+00:00",
          "2024-01-08T00:00:00+00:00", "2024-01-09T00:00:00+00:00", "2024-01-11T00:00:00+00:00"}},
        // The 13th or Sundays, Tuesdays, Thursdays and Saturdays.
        {"0 0 13 * */2",
         "2024-01-01T00:00:00Z",
         {"2024-01-02T00:00:00+00:00", "2024-01-04T00:00:00+00:00", "2024-01-06T00:00:00+00:00",
          "2024-01-07T00:00:00+00:00", "2024-01-09T00:00:00+00:00", "2024-01-11T00:00:00+00:00",
          "2024-01-13T00:00:00+00:00", "2024-01-14T00:00:00+00:00"}},
        {"0 0 */2 * */3",
         "2024-01-01T00:00:00Z",
         {"2024-01-03T00:00:00+00:00", "2024-01-05T00:00:00+00:00", "2024-01-06T00:00:00+00:00",
          "2024-01-07T00:00:00+00:00", "2024-01-09T00:00:00+00:00", "2024-01-10T00:00:00+00:00"}},
        // A field that lists its whole range is unrestricted, so the other field alone decides (Vixie
        // cron would OR and fire every day).
        {"0 0 1-31 * 1",
         "2024-03-01T12:00:00Z",
         {"2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00", "2024-03-18T00:00:00+00:00"}},
        {"0 0 */1 * 1",
         "2024-03-01T12:00:00Z",
         {"2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00", "2024-03-18T00:00:00+00:00"}},
        {"0 0 1 * 0-6",
         "2024-03-01T12:00:00Z",
         {"2024-04-01T00:00:00+00:00", "2024-05-01T00:00:00+00:00", "2024-06-01T00:00:00+00:00"}},
        {"0 0 1 * 1-7", "2024-03-01T12:00:00Z", {"2024-04-01T00:00:00+00:00", "2024-05-01T00:00:00+00:00"}},
        {"0 0 *,5 * 1", "2024-03-01T12:00:00Z", {"2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00"}},
        {"0 0 ? * 1", "2024-03-01T12:00:00Z", {"2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00"}},
        // croniter counts L as a 32nd value of the day of month: 2-31,L has 31 and is unrestricted,
        // */1,L has 32 and is restricted (so, ORed with Mondays, every day).
        {"0 0 2-31,L * 1",
         "2024-03-01T12:00:00Z",
         {"2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00", "2024-03-18T00:00:00+00:00"}},
        {"0 0 */1,L * 1",
         "2024-03-01T12:00:00Z",
         {"2024-03-02T00:00:00+00:00", "2024-03-03T00:00:00+00:00", "2024-03-04T00:00:00+00:00"}},
        {"0 0 L * 1",
         "2024-02-20T00:00:00Z",
         {"2024-02-26T00:00:00+00:00", "2024-02-29T00:00:00+00:00", "2024-03-04T00:00:00+00:00"}},
        {"0 0 10-L * 1",
         "2024-01-01T00:00:00Z",
         {"2024-01-08T00:00:00+00:00", "2024-01-10T00:00:00+00:00", "2024-01-11T00:00:00+00:00",
          "2024-01-12T00:00:00+00:00", "2024-01-13T00:00:00+00:00"}},
        // Feb 29 or any Monday of February.
        {"0 0 29 2 1",
         "2025-01-01T00:00:00Z",
         {"2025-02-03T00:00:00+00:00", "2025-02-10T00:00:00+00:00", "2025-02-17T00:00:00+00:00",
          "2025-02-24T00:00:00+00:00", "2026-02-02T00:00:00+00:00"}},
        // # and L in the day of week override a restricted day of month: second Fridays only.
        {"0 0 8 * FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-12T00:00:00+00:00", "2024-02-09T00:00:00+00:00", "2024-03-08T00:00:00+00:00",
          "2024-04-12T00:00:00+00:00"}},
        // croniter fails here (no 15th is a second Friday); mayaflow keeps the same rule.
        {"0 0 15 * FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-12T00:00:00+00:00", "2024-02-09T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 15 * 5L",
         "2024-01-01T00:00:00Z",
         {"2024-01-26T00:00:00+00:00", "2024-02-23T00:00:00+00:00", "2024-03-29T00:00:00+00:00"}},
        // With an unrestricted day of week, # and L are ANDed with the day of month.
        {"0 0 13 * *,FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-09-13T00:00:00+00:00", "2024-12-13T00:00:00+00:00", "2025-06-13T00:00:00+00:00"}},
        // Plain weekdays beside # or L of the same weekdays, or beside * , are ignored.
        {"0 0 * * 5,FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-12T00:00:00+00:00", "2024-02-09T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 * * *,FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-12T00:00:00+00:00", "2024-02-09T00:00:00+00:00", "2024-03-08T00:00:00+00:00"}},
        {"0 0 * * 1-5,0#2,6#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-13T00:00:00+00:00", "2024-01-14T00:00:00+00:00", "2024-02-10T00:00:00+00:00",
          "2024-02-11T00:00:00+00:00"}},
        // croniter refuses other plain weekdays beside #; mayaflow takes both: Mondays and second Fridays.
        {"0 0 * * 1,FRI#2",
         "2024-01-01T00:00:00Z",
         {"2024-01-08T00:00:00+00:00", "2024-01-12T00:00:00+00:00", "2024-01-15T00:00:00+00:00"}},
        // croniter fails on a February 30th; mayaflow ORs: the Mondays of February.
        {"0 0 30 2 MON",
         "2024-01-01T00:00:00Z",
         {"2024-02-05T00:00:00+00:00", "2024-02-12T00:00:00+00:00", "2024-02-19T00:00:00+00:00"}},
        // croniter's get_next skips 2025-03-01 (from 2025-02-15 it adds 16 days to reach "the 31st") and
        // 2025-02-28 here (it tries the 30th before L); mayaflow does not.
        {"0 0 1,31 * *",
         "2025-02-15T00:00:00Z",
         {"2025-03-01T00:00:00+00:00", "2025-03-31T00:00:00+00:00", "2025-04-01T00:00:00+00:00"}},
        {"0 0 30,L * *",
         "2025-02-10T00:00:00Z",
         {"2025-02-28T00:00:00+00:00", "2025-03-30T00:00:00+00:00", "2025-03-31T00:00:00+00:00"}},
    };
    const TimeZone utc = TimeZone::utc();
    for (const auto& c : cases) {
        INFO(c.cron << " from " << c.from);
        CHECK(next_fires(cron(c.cron), utc, at(c.from), c.next.size()) == c.next);
    }
}

TEST_CASE("cron day fields: previous fire times follow the same reading", "[cron]") {
    const std::vector<NextCase> cases = {
        {"0 0 */2 * 1",
         "2024-01-09T00:00:00Z",
         {"2024-01-08T00:00:00+00:00", "2024-01-07T00:00:00+00:00", "2024-01-05T00:00:00+00:00"}},
        {"0 0 1-31 * 1", "2024-03-14T00:00:00Z", {"2024-03-11T00:00:00+00:00", "2024-03-04T00:00:00+00:00"}},
        {"0 0 8 * FRI#2", "2024-03-20T00:00:00Z", {"2024-03-08T00:00:00+00:00", "2024-02-09T00:00:00+00:00"}},
    };
    const TimeZone utc = TimeZone::utc();
    for (const auto& c : cases) {
        INFO(c.cron << " before " << c.from);
        CHECK(previous_fires(cron(c.cron), utc, at(c.from), c.next.size()) == c.next);
    }
}

TEST_CASE("cron previous_before walks back by the same rules", "[cron]") {
    const std::vector<NextCase> cases = {
        {"*/15 * * * *",
         "2024-01-01T00:00:00Z",
         {"2023-12-31T23:45:00+00:00", "2023-12-31T23:30:00+00:00", "2023-12-31T23:15:00+00:00"}},
        {"0 0 * * *",
         "2024-01-01T00:00:00.000001Z",
         {"2024-01-01T00:00:00+00:00", "2023-12-31T00:00:00+00:00"}},
        {"30 12 * * *", "2024-01-01T12:30:30Z", {"2024-01-01T12:30:00+00:00", "2023-12-31T12:30:00+00:00"}},
        {"0 0 L * *",
         "2024-03-15T00:00:00Z",
         {"2024-02-29T00:00:00+00:00", "2024-01-31T00:00:00+00:00", "2023-12-31T00:00:00+00:00"}},
        {"0 6 L 2 *",
         "2024-03-10T06:30:00Z",  // croniter 1.3.5's get_prev skips 2024-02-29 here
         {"2024-02-29T06:00:00+00:00", "2023-02-28T06:00:00+00:00"}},
        {"0 0 29 2 *", "2024-03-10T00:00:00Z", {"2024-02-29T00:00:00+00:00", "2020-02-29T00:00:00+00:00"}},
        {"0 0 29 2 *", "2104-01-01T00:00:00Z", {"2096-02-29T00:00:00+00:00"}},
        {"0 0 * * FRI#2", "2024-03-08T00:00:00Z", {"2024-02-09T00:00:00+00:00", "2024-01-12T00:00:00+00:00"}},
        {"0 0 * * 5L", "2024-03-01T00:00:00Z", {"2024-02-23T00:00:00+00:00", "2024-01-26T00:00:00+00:00"}},
        {"0 0 13 * 5",
         "2024-09-14T00:00:00Z",
         {"2024-09-13T00:00:00+00:00", "2024-09-06T00:00:00+00:00", "2024-08-30T00:00:00+00:00"}},
        {"0 9-17 * * MON-FRI",
         "2024-03-04T09:00:00Z",  // a Monday morning
         {"2024-03-01T17:00:00+00:00", "2024-03-01T16:00:00+00:00"}},
        {"0 0 1 1 *", "2024-01-01T00:00:00Z", {"2023-01-01T00:00:00+00:00", "2022-01-01T00:00:00+00:00"}},
    };
    const TimeZone utc = TimeZone::utc();
    for (const auto& c : cases) {
        INFO(c.cron << " before " << c.from);
        CHECK(previous_fires(cron(c.cron), utc, at(c.from), c.next.size()) == c.next);
    }
}

TEST_CASE("cron wall-clock matching ignores seconds and sits strictly after or before", "[cron]") {
    const auto c = cron("30 2 * * *");
    CHECK(c.matches(wall("2024-03-10 02:30")));
    CHECK(c.matches(wall("2024-03-10 02:30:59")));
    CHECK_FALSE(c.matches(wall("2024-03-10 02:31")));
    CHECK(c.next_match(wall("2024-03-10 02:30")) == wall("2024-03-11 02:30"));
    CHECK(c.next_match(wall("2024-03-10 02:29:59.999999")) == wall("2024-03-10 02:30"));
    CHECK(c.previous_match(wall("2024-03-10 02:30")) == wall("2024-03-09 02:30"));
    CHECK(c.previous_match(wall("2024-03-10 02:30:00.000001")) == wall("2024-03-10 02:30"));
}

TEST_CASE("cron covers_every_hour follows Airflow: the hour field allows every hour", "[cron]") {
    CHECK(cron("0 * * * *").covers_every_hour());
    CHECK(cron("*/5 * * * *").covers_every_hour());
    CHECK(cron("30 */1 * * *").covers_every_hour());
    CHECK(cron("0 0-23 * * *").covers_every_hour());
    CHECK(cron("0 * 1 * MON").covers_every_hour());
    // Airflow checks only the hour field: every minute of one hour is not "every hour".
    CHECK_FALSE(cron("* 1 * * *").covers_every_hour());
    CHECK_FALSE(cron("0 */2 * * *").covers_every_hour());
    CHECK_FALSE(cron("0 0-22 * * *").covers_every_hour());
    CHECK_FALSE(cron("0 0 * * *").covers_every_hour());
}

TEST_CASE("cron expressions compare by meaning and keep their text", "[cron]") {
    CHECK(cron("0 0 * * 7") == cron("0 0 * * 0"));
    CHECK(cron("0 0 * * SUN") == cron("0 0 * * 0"));
    CHECK(cron("0 0 1 jan *") == cron("0 0 1 1 *"));
    CHECK_FALSE(cron("0 0 * * *") == cron("0 1 * * *"));
    CHECK(cron("  0 3 * * MON-FRI ").text() == "0 3 * * MON-FRI");
}

}  // namespace
}  // namespace mayaflow
