#pragma once
// CronFields is what a 5-field cron expression says, as sets of allowed values: which minutes, hours,
// months, and which days (by day of month and by weekday, with `L` and `#`). It answers "which days of
// this month match" and leaves searching through time to CronExpression.

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
    // Vixie cron's rule: when both day fields are restricted (neither starts with `*` or `?`), a day
    // matches if either field matches; otherwise it must match both.
    bool day_of_month_star = false;
    bool day_of_week_star = false;

    static constexpr std::uint32_t kAllHours = (1u << 24) - 1;

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
