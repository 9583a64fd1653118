#pragma once
// CronFields is what a 5-field cron expression says, as sets of allowed values: which minutes, hours,
// months, and which days (by day of month and by weekday, with `L` and `#`). It answers "which days of
// this month match", the way Airflow's croniter reads the two day fields together, and leaves searching
// through time to CronExpression.

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow {

struct CronFields {
    std::uint64_t minutes = 0;        // bit m: minute m (0-59)
    std::uint32_t hours = 0;          // bit h: hour h (0-23)
    std::uint32_t days_of_month = 0;  // bit d: day d (1-31)
    std::uint32_t days_before_last =
        0;                      // bit n: the day n days before the month's last (`L` is n = 0, `L-2` is 2)
    std::uint16_t months = 0;   // bit m: month m (1-12)
    std::uint8_t weekdays = 0;  // bit w: weekday w (0 = Sunday ... 6 = Saturday)
    std::array<std::uint8_t, 7> nth_weekdays{};  // [w] bit k-1: the k-th weekday w of the month (`FRI#2`)
    std::uint8_t last_weekdays = 0;              // bit w: the month's last weekday w (`5L`, `FRIL`)
    // croniter's reading (and so Airflow's), which is not Vixie cron's: a day field is unrestricted when
    // it covers its whole range, however it is written (`*`, `?`, `*/1`, `1-31`, `0-6`, `1-7`, a list
    // holding `*`); `L` counts as one more day of the month and `FRI#2`, `L5` count their weekday.
    // `*/2` is restricted although it starts with `*`. When both fields are restricted a day matches
    // either, except that `#` or `L` in the day of week overrides the day of month (croniter applies them
    // to both halves of its OR); otherwise a day must match both.
    bool day_of_month_unrestricted = false;
    bool day_of_week_unrestricted = false;
    // croniter ignores plain weekdays beside `#` or `L` items of the same weekdays, or when the field is
    // unrestricted: `5,FRI#2` and `*,FRI#2` mean the second Friday only.
    bool plain_weekdays_ignored = false;

    static constexpr std::uint32_t kAllHours = (1u << 24) - 1;

    // Whether the day of week holds `#` or `L` items (`FRI#2`, `5L`).
    bool has_nth_or_last_weekdays() const;

    // Bit d is set when day d of a month with `last_day` days whose first day falls on weekday
    // `first_weekday` (0 = Sunday) matches both day fields.
    std::uint32_t matching_days(unsigned last_day, unsigned first_weekday) const;

    friend bool operator==(const CronFields&, const CronFields&) = default;
};

// Reads the five fields of a cron expression. Errors name the expression, the field and the value:
// `cron "0 25 * * *": hour field "25" is out of range 0-23`. An expression that can match no day in any
// year (`0 0 30 2 *`) is an error too, so every parsed expression fires at least once in every 400
// years (the Gregorian calendar's cycle) and a search for its next time always ends.
Result<CronFields> parse_cron_fields(std::string_view text);

}  // namespace mayaflow
