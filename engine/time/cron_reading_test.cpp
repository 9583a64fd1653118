// Tests the warning that words how Airflow and classic crontab read a cron expression's day fields.

#include "engine/time/cron_reading.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

struct WarningCase {
    const char* cron;
    const char* warning;
};

TEST_CASE("cron day-field warning: none where Airflow and classic crontab read the days alike",
          "[cron][cron_reading]") {
    for (const char* text : {
             "* * * * *",      "0 0 * * *",        "0 0 1 * *",          "0 0 * * 1",
             "0 0 13 * 5",     "0 0 1-7 * 1",      "0 0 1,15 * SAT,SUN", "0 0 */2 * *",
             "0 0 * * */2",    "0 0 ? * 1",        "0 0 1 * ?",          "0 0 */1 * 1",
             "0 0 1-31 * *",   "0 0 * * 0-6",      "0 0 1-31 * 0-6",     "0 0 */2 * 0-6",
             "0 0 1-31 * */2", "0 0 *,5 * 1",      "0 0 L * *",          "0 0 L * 1",
             "0 0 15,L * 1-5", "0 0 10-L * 1",     "0 0 * * FRI#2",      "0 0 * * 5L",
             "0 0 * * L5",     "0 0 */1 * FRI#2",  "0 0 1-5/2 * 1",      "0 0 2/2 * 6",
             "0 12 * 2 MON#5", "0 0 2-31,L * 0-6", "0 0 1-31/2 * 5",     "*/5 9-17 * * MON-FRI",
         }) {
        INFO(text);
        CHECK(cron_day_fields_warning(cron(text)) == std::nullopt);
    }
}

TEST_CASE("cron day-field warning names Airflow's reading and classic crontab's", "[cron][cron_reading]") {
    const std::vector<WarningCase> cases = {
        {"0 0 */2 * 1",
         "Airflow runs '0 0 */2 * 1' on odd days of the month or on Mondays; classic crontab runs "
         "it only on odd days of the month that fall on Mondays. mayaflow follows Airflow."},
        {"0 0 13 * */2",
         "Airflow runs '0 0 13 * */2' on day 13 of the month or on Tuesdays, Thursdays, Saturdays "
         "and Sundays; classic crontab runs it only on day 13 of the month when it falls on a "
         "Tuesday, a Thursday, a Saturday or a Sunday. mayaflow follows Airflow."},
        {"0 0 */3 * 1,3,5",
         "Airflow runs '0 0 */3 * 1,3,5' on days 1, 4, 7, ..., 31 of the month or on Mondays, "
         "Wednesdays and Fridays; classic crontab runs it only on days 1, 4, 7, ..., 31 of the "
         "month that fall on Mondays, Wednesdays or Fridays. mayaflow follows Airflow."},
        {"0 0 */2 * */3",
         "Airflow runs '0 0 */2 * */3' on odd days of the month or on Wednesdays, Saturdays and "
         "Sundays; classic crontab runs it only on odd days of the month that fall on Wednesdays, "
         "Saturdays or Sundays. mayaflow follows Airflow."},
        {"0 0 1-31 * 1",
         "Airflow runs '0 0 1-31 * 1' on Mondays, reading day-of-month '1-31' as '*'; classic "
         "crontab runs it every day. mayaflow follows Airflow."},
        {"0 0 1 * 0-6",
         "Airflow runs '0 0 1 * 0-6' on day 1 of the month, reading day-of-week '0-6' as '*'; "
         "classic crontab runs it every day. mayaflow follows Airflow."},
        {"0 0 13 * 0-7/1",
         "Airflow runs '0 0 13 * 0-7/1' on day 13 of the month, reading day-of-week '0-7/1' as "
         "'*'; classic crontab runs it every day. mayaflow follows Airflow."},
        {"0 0 2-31,L * *",
         "Airflow runs '0 0 2-31,L * *' every day, reading day-of-month '2-31,L' as '*'; classic "
         "crontab runs it on days 2 to 31 and the last day of the month. mayaflow follows Airflow."},
        {"0 0 */1,L * 1",
         "Airflow runs '0 0 */1,L * 1' every day, reading day-of-month '*/1,L' as restricted "
         "(croniter counts L as a 32nd value); classic crontab runs it on Mondays. mayaflow "
         "follows Airflow."},
        {"0 0 8 * FRI#2",
         "Airflow runs '0 0 8 * FRI#2' on the second Friday of the month, ignoring day-of-month "
         "'8' beside '#' or 'L'; classic crontab (with '#' and 'L' added) runs it on day 8 of the "
         "month or on the second Friday of the month. mayaflow follows Airflow."},
        {"0 0 1-31 * FRI#2",
         "Airflow runs '0 0 1-31 * FRI#2' on the second Friday of the month, reading day-of-month "
         "'1-31' as '*'; classic crontab (with '#' and 'L' added) runs it every day. mayaflow "
         "follows Airflow."},
        {"0 0 * * 5,FRI#2",
         "Airflow runs '0 0 * * 5,FRI#2' on the second Friday of the month, ignoring the other "
         "items of day-of-week '5,FRI#2' beside '#' or 'L'; classic crontab (with '#' and 'L' "
         "added) runs it on Fridays and the second Friday of the month. mayaflow follows Airflow."},
        {"0 0 * * *,FRI#2",
         "Airflow runs '0 0 * * *,FRI#2' on the second Friday of the month, ignoring the other "
         "items of day-of-week '*,FRI#2' beside '#' or 'L'; classic crontab (with '#' and 'L' "
         "added) runs it every day. mayaflow follows Airflow."},
        {"0 0 13 * *,FRI#2",
         "Airflow runs '0 0 13 * *,FRI#2' only on day 13 of the month when it falls on the second "
         "Friday of the month, ignoring the other items of day-of-week '*,FRI#2' beside '#' or "
         "'L'; classic crontab (with '#' and 'L' added) runs it on day 13 of the month. mayaflow "
         "follows Airflow."},
        {"0 0 L-2 * */2",
         "Airflow runs '0 0 L-2 * */2' on the 3rd-to-last day of the month or on Tuesdays, "
         "Thursdays, Saturdays and Sundays; classic crontab runs it only on the 3rd-to-last day of "
         "the month when it falls on a Tuesday, a Thursday, a Saturday or a Sunday. mayaflow "
         "follows Airflow."},
        {"0 0 */10 * 1-5",
         "Airflow runs '0 0 */10 * 1-5' on days 1, 11, 21 and 31 of the month or on Mondays to "
         "Fridays; classic crontab runs it only on days 1, 11, 21 and 31 of the month that fall on "
         "Mondays to Fridays. mayaflow follows Airflow."},
        {"0 0 */5 * SAT,SUN",
         "Airflow runs '0 0 */5 * SAT,SUN' on days 1, 6, 11, ..., 31 of the month or on Saturdays "
         "and Sundays; classic crontab runs it only on days 1, 6, 11, ..., 31 of the month that "
         "fall on Saturdays or Sundays. mayaflow follows Airflow."},
        {"30 2 1,15,L * */3",
         "Airflow runs '30 2 1,15,L * */3' on days 1, 15 and the last day of the month or on "
         "Wednesdays, Saturdays and Sundays; classic crontab runs it only on days 1, 15 and the "
         "last day of the month that fall on Wednesdays, Saturdays or Sundays. mayaflow follows "
         "Airflow."},
    };
    for (const auto& c : cases) {
        INFO(c.cron);
        CHECK(cron_day_fields_warning(cron(c.cron)) == std::optional<std::string>(c.warning));
    }
}

TEST_CASE("cron day-field warning says when croniter cannot run the expression and what mayaflow does",
          "[cron][cron_reading]") {
    const std::vector<WarningCase> cases = {
        {"0 0 15 * FRI#2",
         "Airflow cannot run '0 0 15 * FRI#2': croniter looks for a day that is both day 15 of the "
         "month and the second Friday of the month, finds none and fails; mayaflow runs it on the "
         "second Friday of the month, ignoring day-of-month '15' as croniter does when such a day "
         "exists; classic crontab (with '#' and 'L' added) runs it on day 15 of the month or on "
         "the second Friday of the month."},
        {"0 0 L * 5#1",
         "Airflow cannot run '0 0 L * 5#1': croniter looks for a day that is both the last day of "
         "the month and the first Friday of the month, finds none and fails; mayaflow runs it on "
         "the first Friday of the month, ignoring day-of-month 'L' as croniter does when such a "
         "day exists; classic crontab (with '#' and 'L' added) runs it on the last day of the "
         "month or on the first Friday of the month."},
        {"0 0 30 2 MON",
         "Airflow cannot run '0 0 30 2 MON': croniter looks for day 30 of the month in the months "
         "it allows before it ORs the day fields, finds none and fails; mayaflow runs it on day 30 "
         "of the month or on Mondays, as classic crontab does."},
        {"0 0 30 2 */2",
         "Airflow cannot run '0 0 30 2 */2': croniter looks for day 30 of the month in the months "
         "it allows before it ORs the day fields, finds none and fails; mayaflow runs it on day 30 "
         "of the month or on Tuesdays, Thursdays, Saturdays and Sundays; classic crontab never "
         "runs it."},
        {"0 0 * * 1,FRI#2",
         "Airflow rejects '0 0 * * 1,FRI#2': croniter does not take plain weekdays beside '#' or "
         "'L' of other weekdays; mayaflow runs it on Mondays and the second Friday of the month."},
        {"0 0 15 * 1,FRI#2",
         "Airflow rejects '0 0 15 * 1,FRI#2': croniter does not take plain weekdays beside '#' or "
         "'L' of other weekdays; mayaflow runs it on Mondays and the second Friday of the month, "
         "ignoring day-of-month '15' beside '#' or 'L'."},
    };
    for (const auto& c : cases) {
        INFO(c.cron);
        CHECK(cron_day_fields_warning(cron(c.cron)) == std::optional<std::string>(c.warning));
    }
}

// Every pairing of these day fields: a warning exactly where the two readings differ, worked out by hand
// (A: Airflow, C: classic crontab).
TEST_CASE("cron day-field warning: which pairings of day fields warn", "[cron][cron_reading]") {
    const std::vector<std::string> month_days = {"*", "?", "*/2", "1-31", "*/1", "13", "L", "2-31,L"};
    const std::vector<std::string> weekdays = {"*", "?", "*/2", "0-6", "1-7", "5", "MON-FRI", "FRI#2"};
    const std::vector<std::string> warn = {
        // A: odd days or the weekdays; C: odd days on those weekdays.
        "*/2 */2",
        "*/2 5",
        "*/2 MON-FRI",
        "*/2 FRI#2",
        // A: the weekdays (1-31 is *); C: every day.
        "1-31 5",
        "1-31 MON-FRI",
        "1-31 FRI#2",
        // A: the day of month (0-6 and 1-7 are *); C: every day.
        "13 0-6",
        "13 1-7",
        "L 0-6",
        "L 1-7",
        // A: the 13th or the last day, or the weekdays; C: only on those weekdays.
        "13 */2",
        "L */2",
        // A: second Fridays (or fails); C: the day of month or second Fridays.
        "13 FRI#2",
        "L FRI#2",
        // A: 2-31,L is *, so every day or the weekdays; C: days 2-31 and the last, with the weekdays.
        "2-31,L *",
        "2-31,L ?",
        "2-31,L */2",
        "2-31,L 5",
        "2-31,L MON-FRI",
        "2-31,L FRI#2",
    };
    for (const auto& m : month_days) {
        for (const auto& w : weekdays) {
            const std::string pair = m + " " + w;
            const bool expected = std::find(warn.begin(), warn.end(), pair) != warn.end();
            INFO("0 0 " << m << " * " << w);
            CHECK(cron_day_fields_warning(cron("0 0 " + m + " * " + w)).has_value() == expected);
        }
    }
}

TEST_CASE("cron day-field warning from text: the same, and none for text that does not parse",
          "[cron][cron_reading]") {
    CHECK(cron_day_fields_warning(std::string_view("0 0 */2 * 1")) ==
          cron_day_fields_warning(cron("0 0 */2 * 1")));
    CHECK(cron_day_fields_warning(std::string_view("  0 0 1-31 * MON  ")).value().find("'0 0 1-31 * MON'") !=
          std::string::npos);
    CHECK(cron_day_fields_warning(std::string_view("0 0 * * 1")) == std::nullopt);
    CHECK(cron_day_fields_warning(std::string_view("0 25 * * *")) == std::nullopt);
    CHECK(cron_day_fields_warning(std::string_view("@daily")) == std::nullopt);
    CHECK(cron_day_fields_warning(std::string_view("")) == std::nullopt);
}

TEST_CASE("cron step warning: a step beyond its field's range keeps the first value, and says so",
          "[cron][cron_reading]") {
    CHECK(cron_step_warning("*/90 * * * *") ==
          "minute '*/90' has step 90, beyond the minute field's 0-59: Airflow and mayaflow run it at the field's "
          "first value only, not every 90 minutes; for a fixed interval use a duration schedule such as 90m");
    CHECK_THAT(cron_step_warning("0 */30 * * *").value(),
               Catch::Contains("hour '*/30' has step 30, beyond the hour field's 0-23") &&
                   Catch::Contains("such as 30h"));
    CHECK_THAT(cron_step_warning("0 0 1,*/40 * MON").value(), Catch::Contains("day-of-month '*/40' has step 40"));
    CHECK_THAT(cron_step_warning("0 0 1 */13 *").value(),
               Catch::Contains("not every 13 months") && !Catch::Contains("duration"));
    CHECK_THAT(cron_step_warning("0 0 * * 1/7").value(), Catch::Contains("day-of-week '1/7' has step 7"));
    CHECK_THAT(cron_step_warning("*/" + std::string(5000, '9') + " * * * *").value(),
               Catch::Contains("has step of 5000 digits, beyond") && Catch::Contains("bytes left out"));
    // Steps within the range, other fields, and text that does not parse: nothing to say.
    for (const char* fine : {"*/59 * * * *", "0 */23 * * *", "0 0 */30 * *", "0 0 1 */11 *", "0 0 * * */6",
                             "0 0 10-20/10 * *", "@daily", "0 25 * * *", "*/0 * * * *", ""}) {
        INFO(fine);
        CHECK(cron_step_warning(fine) == std::nullopt);
    }
    // What the warning says is what happens: `*/90` fires at minute 0 of every hour.
    auto every_90 = cron("*/90 * * * *");
    CHECK(every_90.next_match(wall("2026-01-01 00:30")) == wall("2026-01-01 01:00"));
    CHECK(every_90.next_match(wall("2026-01-01 01:00")) == wall("2026-01-01 02:00"));
}

}  // namespace
}  // namespace mayaflow
