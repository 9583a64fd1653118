#pragma once
// ISO 8601 date-time text: what mayaflow prints for instants (Airflow's `ts`, API fields, logs) and what
// it reads from DAG files, the CLI and the API (start_date, end_date, backfill ranges).

#include <chrono>
#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/time/strftime.h"
#include "engine/time/time_zone.h"
#include "engine/util/result.h"

namespace mayaflow {

// `2024-03-01T03:00:00+09:00` as the instant reads in `zone` (UTC prints `+00:00`); `.ffffff` follows
// the seconds only when the microseconds are not zero, as Python's isoformat() does.
std::string format_iso8601(Instant instant, const TimeZone& zone);

// `+09:00` (or `+0900` without the colon); `+05:53:28` when the offset has seconds.
std::string format_utc_offset(std::chrono::seconds offset, bool with_colon);

// `2024-03-01`: the calendar date of the instant in `zone` (Airflow's `ds`).
std::string format_date(Instant instant, const TimeZone& zone);

// Reads `2024-03-01`, `2024-03-01T03:00`, `2024-03-01T03:00:00`, `2024-03-01 03:00:00`, with
// optional fractional seconds (up to 9 digits; kept to the microsecond) and an optional offset `Z`,
// `+09:00`, `+0900` or `+09`. A value without an offset is a wall-clock time in `zone_for_naive`,
// resolved as pendulum does (a time in a DST gap moves forward by the gap, an ambiguous time takes
// its second occurrence). A date alone means its midnight.
Result<Instant> parse_datetime(std::string_view text, const TimeZone& zone_for_naive);

}  // namespace mayaflow
