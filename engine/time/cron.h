#pragma once
// CronExpression is a parsed 5-field cron expression and the search for its fire times, in wall-clock
// time and, around DST changes, in real time exactly as Airflow 2's CronDataIntervalTimetable
// (airflow/timetables/_cron.py) finds them.
//
// Syntax: minute hour day-of-month month day-of-week; `*`, numbers, ranges `a-b`, steps `*/n`,
// `a-b/n`, `a/n`, lists `a,b`; JAN-DEC and SUN-SAT in any case (also in ranges, `MON-FRI`); day-of-week
// 0-7 with 0 and 7 Sunday; `?` for `*` in the day fields; `L`, `a-L` and `L-n` in day-of-month (the last
// day, n days before it); `nL` or `Ln` (`5L`, `FRIL`, `L5`: the month's last Friday) and `n#k` (`FRI#2`)
// in day-of-week. The two day fields combine as Airflow's croniter combines them, not as Vixie cron
// does (CronFields says how; engine/time/cron_reading.h words the difference for a warning).

#include <optional>
#include <string>
#include <string_view>

#include "engine/time/cron_fields.h"
#include "engine/time/instant.h"
#include "engine/time/time_zone.h"
#include "engine/util/result.h"

namespace mayaflow {

class CronExpression {
  public:
    // Fails, naming the field and value, on bad syntax and on expressions that can never fire
    // (`0 0 30 2 *`); every parsed expression fires at least once in any 400 years.
    static Result<CronExpression> parse(std::string_view text);

    const std::string& text() const { return text_; }
    const CronFields& fields() const { return fields_; }

    // True when every hour of the day is allowed (croniter normalises the hour field to `*`): Airflow
    // then steps by the wall-clock distance in real time, so `0 * * * *` fires every real hour, twice
    // in a repeated hour and never lost in a skipped one.
    bool covers_every_hour() const { return fields_.hours == CronFields::kAllHours; }

    // Whether a wall-clock minute matches (seconds are ignored).
    bool matches(LocalTime local) const;
    // The first whole wall-clock minute strictly after `local` that matches; nullopt past year 9999.
    std::optional<LocalTime> next_match(LocalTime local) const;
    // The last whole wall-clock minute strictly before `local` that matches; nullopt before year 1.
    std::optional<LocalTime> previous_match(LocalTime local) const;

    // The first fire time strictly after `instant` in `zone`. With covers_every_hour() it is
    // instant + (next wall-clock match - wall-clock reading of instant); otherwise it is the next
    // wall-clock match made an instant as Airflow's make_aware does (a time in a DST gap moves forward
    // by the gap, an ambiguous time takes its second occurrence, fold=1), passing over any result that
    // is not after `instant`. nullopt only when the answer would fall outside years 0001-9999
    // (kEarliestSupportedInstant to kLatestSupportedInstant), which Python's datetime cannot hold either.
    std::optional<Instant> next_after(Instant instant, const TimeZone& zone) const;
    // The last fire time strictly before `instant`, by the same rules.
    std::optional<Instant> previous_before(Instant instant, const TimeZone& zone) const;

    friend bool operator==(const CronExpression& a, const CronExpression& b) {
        return a.fields_ == b.fields_;
    }

  private:
    CronExpression(std::string text, CronFields fields) : text_(std::move(text)), fields_(fields) {}

    std::uint32_t matching_days(int year, unsigned month) const;

    std::string text_;
    CronFields fields_;
};

}  // namespace mayaflow
