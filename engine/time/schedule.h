#pragma once
// Schedule is what a DAG's `schedule` value asks for: runs only when triggered (no schedule), one run
// (@once), runs at a cron expression's fire times (a preset such as @daily is a cron expression), or
// runs at a fixed interval (`30m`), which, as Airflow's timedelta schedules, ignores DST.

#include <optional>
#include <string>
#include <string_view>

#include "engine/time/cron.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

// The shortest interval a schedule may have. Cron expressions cannot fire more often than once a
// minute (Airflow's cron timetables are minute-granular too), and a shorter fixed interval with
// catchup creates runs faster than anything can work through them, filling the database.
inline constexpr Duration kMinScheduleInterval = std::chrono::minutes(1);

class Schedule {
  public:
    enum class Kind {
        none,      // no schedule (`schedule: null` or absent): runs only when triggered
        once,      // @once: one run at the start date
        cron,      // a cron expression or a preset
        interval,  // a fixed interval
    };

    // No schedule (`schedule: null` or no `schedule` key): runs only when triggered.
    Schedule() = default;
    // Reads `@once`; a preset (`@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@quarterly`,
    // `@yearly`, `@annually`, in any case); a 5-field cron expression; or a positive duration such as
    // `30m`, `1h`, `1d` or `PT15M` of at least kMinScheduleInterval. Errors name the text and list what
    // a schedule can be.
    static Result<Schedule> parse(std::string_view text);

    Kind kind() const { return kind_; }
    // As written, without surrounding spaces: "@daily", "0 3 * * *", "30m"; empty for Kind::none.
    const std::string& text() const { return text_; }
    // Only for Kind::cron: the expression; for a preset, its expansion (@daily is `0 0 * * *`).
    const CronExpression& cron() const { return cron_.value(); }
    // Only for Kind::interval: the interval, always positive.
    Duration interval() const { return interval_; }

    // The cron expression a preset stands for ("@daily" -> "0 0 * * *"), or nullopt if `text` is not a
    // cron preset.
    static std::optional<std::string_view> preset_expression(std::string_view text);

  private:
    Kind kind_ = Kind::none;
    std::string text_;
    std::optional<CronExpression> cron_;
    Duration interval_{0};
};

}  // namespace mayaflow
