#pragma once
// Dates and durations in templates. Airflow's dates (logical_date, data_interval_start ...) are
// pendulum DateTimes: aware, printed as `2024-03-01T00:00:00+00:00`, with pendulum's methods
// (in_timezone, add, subtract, strftime, isoformat). macros.datetime(...) makes Python's naive
// datetimes (printed `2024-03-01 00:00:00`) and macros.timedelta(...) Python's timedeltas.

#include <optional>
#include <string>
#include <string_view>

#include "engine/template/ast.h"
#include "engine/template/value.h"

namespace mayaflow::tmpl {

Value make_pendulum(Instant instant, const TimeZone& zone);
// pendulum's Timezone object: prints as its name, has `.name`.
Value make_timezone_object(const TimeZone& zone);
// A naive Python datetime for a wall-clock time (kept as if it were UTC).
Value make_naive_datetime(Instant wall_clock);

std::string datetime_str(const DateTime& datetime);
std::string datetime_repr(const DateTime& datetime);
std::string datetime_type_name(const DateTime& datetime);
std::string datetime_isoformat(const DateTime& datetime);
std::string datetime_strftime(const DateTime& datetime, std::string_view format);
std::string timedelta_str(Duration duration);
std::string timedelta_repr(Duration duration);

bool datetimes_equal(const DateTime& a, const DateTime& b);
// -1, 0 or 1; throws a TypeError for a naive and an aware datetime, as Python does.
int compare_datetimes(const DateTime& a, const DateTime& b);

// datetime ± timedelta, datetime - datetime, timedelta arithmetic; nullopt when the operands are not
// dates or durations.
std::optional<Value> datetime_binary_op(BinaryOp op, const Value& left, const Value& right);

std::optional<Value> datetime_attribute(const Value& self, std::string_view name);
std::optional<Value> timedelta_attribute(const Value& self, std::string_view name);

// Python's timedelta(days=, seconds=, microseconds=, milliseconds=, minutes=, hours=, weeks=).
Value make_timedelta(const CallArgs& args);

}  // namespace mayaflow::tmpl
