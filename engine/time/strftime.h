#pragma once
// Python's strftime and strptime directives, for templates that call `logical_date.strftime(...)` and
// `macros.ds_format(ds, input_format, output_format)`: a format gives the same text it gives in Python
// (C locale, as Airflow's workers run).

#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/time/time_zone.h"
#include "engine/util/result.h"

namespace mayaflow {

// Formats the instant as it reads in `zone`. Directives: %Y %m %d %H %M %S %f %z %Z %j %a %A %b %B %y
// %I %p %%, and glibc's %e %w %u %U %W %V %G %g %C %h %c %x %X %D %F %T %R %s %n %t; the flags `-` (no
// padding, as in `%-d`), `_` (pad with spaces), `0` (pad with zeros), `^` (upper case) and `#` (swap
// case: %p and %Z lower, names upper). Any other directive is copied as written, as glibc does. %s
// counts seconds since 1970-01-01 UTC (Python's depends on the machine's zone).
std::string format_strftime(Instant instant, const TimeZone& zone, std::string_view python_format);

// Reads `text` as Python's datetime.strptime does (the whole text must match; letters match in any
// case; a run of spaces in the format matches one or more spaces). Directives: %Y %m %d %H %M %S %f
// %z %Z %j %a %A %b %B %y %I %p %%. Fields not in the format default as in Python (1900-01-01 00:00).
// With %z the text names its own offset; without it the time is a wall-clock time in `zone_for_naive`.
// %Z accepts a zone abbreviation and, like Python, does not change the result.
Result<Instant> parse_strptime(std::string_view text, std::string_view python_format,
                               const TimeZone& zone_for_naive);

}  // namespace mayaflow
