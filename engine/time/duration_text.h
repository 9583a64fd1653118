#pragma once
// Durations as people write them in DAG files (`retry_delay: 5m`, `schedule: 30m`,
// `execution_timeout: 1h30m`) and as mayaflow prints them back.

#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

// Reads `90s`, `5m`, `1h30m`, `2h`, `1d`, `1w`, `500ms`, `250us`, units combined from largest to smallest
// (`1d2h3m4s`), a bare integer as seconds (`300`), or ISO 8601 (`PT15M`, `P1DT2H`, `P2W`, `PT0.5S`).
// Negative values, unknown units, months and years (which have no fixed length) and values longer than
// 36500d (about 100 years) are errors that list the accepted forms.
Result<Duration> parse_duration(std::string_view text);

// The shortest text parse_duration reads back: `1h30m`, `1m30s` (for 90 s), `1d2h`, `500ms`, `0s`.
// Weeks are written as days.
std::string format_duration(Duration duration);

}  // namespace mayaflow
