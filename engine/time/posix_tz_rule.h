#pragma once
// PosixTzRule is the rule a TZif file's footer gives for every instant after the file's last listed
// transition, e.g. "EST5EDT,M3.2.0,M11.1.0": a standard and a daylight offset and the yearly dates on
// which clocks change. The date library reads only the listed transitions (which end in 2037), so
// TimeZone uses this rule beyond them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

class PosixTzRule {
  public:
    // One stretch of time with a single UTC offset.
    struct Period {
        std::chrono::seconds offset{0};  // east of Greenwich is positive
        std::string abbreviation;
        Instant begin = Instant::min();
        Instant end = Instant::max();
    };

    // Parses a POSIX TZ string as RFC 8536 section 3.3 extends it (quoted names such as <+0545>,
    // transition times from -167 to 167 hours).
    static Result<PosixTzRule> parse(std::string_view text);

    bool has_daylight_saving() const { return rules_.has_value(); }
    std::chrono::seconds standard_offset() const { return std_offset_; }
    std::chrono::seconds daylight_offset() const { return dst_offset_; }

    // The period in effect at an instant.
    Period period_at(Instant instant) const;

  private:
    // A day of the year as POSIX writes it (Jn, n or Mm.w.d) and the local time of the change.
    struct ChangeDate {
        enum class Form { julian_without_leap_day, zero_based_day, month_week_day };
        Form form = Form::month_week_day;
        int day = 0;      // Jn: 1-365; n: 0-365
        int month = 0;    // Mm.w.d: 1-12
        int week = 0;     // Mm.w.d: 1-5 (5 = last)
        int weekday = 0;  // Mm.w.d: 0-6, Sunday = 0
        std::chrono::seconds time{7200};
    };
    struct ChangeRules {
        ChangeDate dst_start;
        ChangeDate dst_end;
    };

    static std::chrono::sys_days day_in_year(int year, const ChangeDate& date);

    std::string std_name_;
    std::string dst_name_;
    std::chrono::seconds std_offset_{0};
    std::chrono::seconds dst_offset_{0};
    std::optional<ChangeRules> rules_;
};

}  // namespace mayaflow
