#pragma once
// How every command reads a date or time typed on the command line (docs/cli.md, "Dates"): one
// rule for all of them. A value with an offset (`Z`, `+09:00`) is that instant. A value without one
// is a wall-clock time in the DAG's time zone, so `2024-02-10` means the DAG's 10 February (Airflow
// reads it in `[core] default_timezone`, UTC unless set: give an offset to name an exact instant).
// Every command that resolves a date says on stderr which instant it took.

#include <optional>
#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/time/time_zone.h"

namespace mayaflow::cli {

// The earliest and latest logical dates a command takes.
inline constexpr int kFirstYear = 1900;
inline constexpr int kLastYear = 9999;

// The calendar year of `instant`, in UTC.
int year_of(Instant instant);

// Reads `text` (`what` names the argument in errors: "--logical-date") with the rule above, and
// refuses dates outside kFirstYear..kLastYear. Throws CommandFailed with exit code 2 on bad input.
Instant read_cli_date(std::string_view text, std::string_view what, const TimeZone& zone);

// The time zone a DAG's dates are read in, without loading its file: the one the daemon recorded
// for it; UTC for a DAG the database does not know.
TimeZone recorded_time_zone(const std::string& dag_id);

// "--logical-date 2024-02-10 → 2024-02-10T00:00:00+09:00 (Asia/Tokyo) = 2024-02-09T15:00:00+00:00"
// on stderr.
void echo_resolved_date(std::string_view what, std::string_view text, Instant instant, const TimeZone& zone);

}  // namespace mayaflow::cli
