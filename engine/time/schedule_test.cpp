#include "engine/time/schedule.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("Schedule: no schedule means manual runs only", "[schedule]") {
    const Schedule none;
    CHECK(none.kind() == Schedule::Kind::none);
    CHECK(none.text().empty());
}

TEST_CASE("Schedule presets are the cron expressions Airflow maps them to", "[schedule]") {
    const std::vector<std::pair<const char*, const char*>> presets = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"},  {"@quarterly", "0 0 1 */3 *"},
        {"@yearly", "0 0 1 1 *"},   {"@annually", "0 0 1 1 *"}, {"@DAILY", "0 0 * * *"},
        {" @Hourly ", "0 * * * *"},
    };
    for (const auto& [text, expression] : presets) {
        INFO(text);
        const Schedule s = schedule(text);
        CHECK(s.kind() == Schedule::Kind::cron);
        CHECK(s.cron() == cron(expression));
        CHECK(s.cron().text() == expression);
        CHECK(Schedule::preset_expression(text) == std::optional<std::string_view>(expression));
    }
    CHECK(schedule(" @daily ").text() == "@daily");
    CHECK_FALSE(Schedule::preset_expression("@once"));
    CHECK_FALSE(Schedule::preset_expression("0 0 * * *"));
}

TEST_CASE("Schedule reads @once, cron expressions and fixed intervals", "[schedule]") {
    CHECK(schedule("@once").kind() == Schedule::Kind::once);
    CHECK(schedule("@ONCE").kind() == Schedule::Kind::once);

    const Schedule weekdays = schedule("0 3 * * MON-FRI");
    CHECK(weekdays.kind() == Schedule::Kind::cron);
    CHECK(weekdays.text() == "0 3 * * MON-FRI");
    CHECK(weekdays.cron() == cron("0 3 * * 1-5"));
    CHECK(schedule("*/5\t* * * *").kind() == Schedule::Kind::cron);

    const std::vector<std::pair<const char*, Duration>> intervals = {
        {"30m", minutes(30)},   {"1h", hours(1)},      {"1h30m", minutes(90)},
        {"PT15M", minutes(15)}, {"300", seconds(300)}, {"1d", hours(24)},
    };
    for (const auto& [text, interval] : intervals) {
        INFO(text);
        const Schedule s = schedule(text);
        CHECK(s.kind() == Schedule::Kind::interval);
        CHECK(s.interval() == interval);
        CHECK(s.text() == text);
    }
}

TEST_CASE("Schedule errors name the text and say what a schedule can be", "[schedule]") {
    const std::string forms =
        "a schedule is @once, a preset (@hourly, @daily, @midnight, @weekly, @monthly, @quarterly, @yearly, "
        "@annually), a 5-field cron expression such as \"0 3 * * *\", or a fixed interval such as 30m, 1h or "
        "1d";
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"", "schedule is empty: leave it out (or null) for manual runs only; otherwise " + forms},
        {"  ", "schedule is empty: leave it out (or null) for manual runs only; otherwise " + forms},
        {"@dayly", "unknown schedule preset \"@dayly\": " + forms},
        {"@continuous",
         "schedule \"@continuous\" is not supported by mayaflow: use a short interval such as 1m with "
         "max_active_runs: 1"},
        {"0 25 * * *", "schedule cron \"0 25 * * *\": hour field \"25\" is out of range 0-23"},
        {"0 0 * *",
         "schedule cron \"0 0 * *\": expected 5 fields (minute hour day-of-month month day-of-week), found "
         "4"},
        {"0 0 30 2 *",
         "schedule cron \"0 0 30 2 *\" never fires: no day of February matches day-of-month \"30\" and "
         "day-of-week \"*\""},
        {"5x",
         "schedule \"5x\" is neither a cron expression nor an interval (invalid duration \"5x\": unknown "
         "unit "
         "\"x\"; use a whole number with a unit such as 90s, 5m, 1h30m, 2h, 1d, 1w or 500ms (units w, d, h, "
         "m, s, "
         "ms, us, largest first), a bare number of seconds such as 300, or ISO 8601 such as PT15M or "
         "P1DT2H); " +
             forms},
        {"0s", "schedule \"0s\": an interval must be longer than zero"},
        {"0", "schedule \"0\": an interval must be longer than zero"},
        {"PT1M0.000001S",
         "schedule \"PT1M0.000001S\" has a fraction of a second; an interval schedule counts whole seconds (write "
         "1m or 1m1s)"},
        {"1m30s500ms",
         "schedule \"1m30s500ms\" has a fraction of a second; an interval schedule counts whole seconds (write "
         "1m30s or 1m31s)"},
    };
    for (const auto& [text, message] : cases) {
        auto parsed = Schedule::parse(text);
        INFO(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message == message);
    }
}

}  // namespace
}  // namespace mayaflow
