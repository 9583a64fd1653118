#include "engine/template/datetime_value.h"

#include <fmt/format.h>

#include <cmath>

#include "engine/template/args.h"
#include "engine/template/error.h"
#include "engine/template/pystr.h"
#include "engine/time/civil_time.h"
#include "engine/time/iso8601.h"
#include "engine/time/strftime.h"

namespace mayaflow::tmpl {

namespace {

using Flavor = DateTime::Flavor;
using std::chrono::microseconds;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool is_date(const DateTime& dt) { return dt.flavor == Flavor::date || dt.flavor == Flavor::python_date; }

LocalTime wall_clock(const DateTime& dt) {
    if (dt.zone) return dt.zone->to_local(dt.instant);
    return LocalTime{dt.instant.time_since_epoch()};
}

CivilTime civil(const DateTime& dt) { return CivilTime::from(wall_clock(dt)); }

void check_range(Instant instant) {
    // Python's datetime covers years 1 to 9999; a day's margin leaves room for UTC offsets.
    if (instant < kEarliestSupportedInstant - std::chrono::days{1} || instant > kLatestSupportedInstant + std::chrono::days{1}) {
        throw_runtime("date value out of range");
    }
}

// A DateTime of the same flavor and zone as `like` for a wall-clock time.
Value from_wall_clock(const DateTime& like, LocalTime wall) {
    DateTime result = like;
    result.instant = like.zone ? like.zone->from_local(wall, true) : Instant{wall.time_since_epoch()};
    check_range(result.instant);
    return Value::datetime(std::move(result));
}

Value with_instant(const DateTime& like, Instant instant) {
    check_range(instant);
    DateTime result = like;
    result.instant = instant;
    return Value::datetime(std::move(result));
}

std::string plain_iso(const DateTime& dt, char separator) {
    CivilTime c = civil(dt);
    std::string out = fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
    if (is_date(dt)) return out;
    out += fmt::format("{}{:02}:{:02}:{:02}", separator, c.hour, c.minute, c.second);
    if (c.microsecond != 0) out += fmt::format(".{:06}", c.microsecond);
    return out;
}

std::string zone_repr(const TimeZone& zone) { return "Timezone('" + zone.name() + "')"; }

// tzinfo / timezone / tz: pendulum's Timezone object.
class TimeZoneObject : public Object {
  public:
    explicit TimeZoneObject(TimeZone zone) : zone_(std::move(zone)) {}
    std::string type_name() const override { return "Timezone"; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "name" || name == "key") return Value(zone_.name());
        return std::nullopt;
    }
    std::string repr() const override { return zone_repr(zone_); }
    std::string str() const override { return zone_.name(); }

  private:
    TimeZone zone_;
};

using DateMethod = Value (*)(const DateTime& self, const CallArgs& args);

class DateTimeMethod : public Object {
  public:
    DateTimeMethod(DateTime self, std::string_view name, DateMethod fn) : self_(std::move(self)), name_(name), fn_(fn) {}
    std::string type_name() const override { return "method"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return fn_(self_, args); }
    std::string repr() const override { return "<bound method " + std::string(name_) + ">"; }

  private:
    DateTime self_;
    std::string_view name_;
    DateMethod fn_;
};

TimeZone zone_argument(const Value& value) {
    if (value.kind() == Value::Kind::object && value.as_object().type_name() == "Timezone") {
        auto name = value.as_object().attribute("name");
        return TimeZone::find(name->as_string()).value();
    }
    if (value.is_undefined()) value.fail_undefined();
    if (!value.is_string()) throw_runtime("a time zone must be a name such as 'Asia/Tokyo', not '{}'", value.type_name());
    auto zone = TimeZone::find(value.as_string());
    if (!zone) throw_runtime("{}", zone.error().message);
    return *zone;
}

// pendulum's add()/subtract(): calendar units move the wall clock, the rest moves the instant.
Value shift(const DateTime& self, const CallArgs& args, int sign, const char* name) {
    static constexpr std::string_view kUnits[] = {"years", "months", "weeks", "days", "hours", "minutes", "seconds", "microseconds"};
    Arguments a(name, args, {kUnits[0], kUnits[1], kUnits[2], kUnits[3], kUnits[4], kUnits[5], kUnits[6], kUnits[7]});
    auto number = [&](std::size_t i) -> double {
        if (!a.has(i)) return 0;
        const Value& v = a[i];
        if (v.is_undefined()) v.fail_undefined();
        if (!v.is_number()) throw_runtime("{}(): '{}' must be a number, not '{}'", name, kUnits[i], v.type_name());
        return v.as_double() * sign;
    };
    std::int64_t years = static_cast<std::int64_t>(number(0));
    std::int64_t months = static_cast<std::int64_t>(number(1));
    double days = number(2) * 7 + number(3);
    double small_micros = number(4) * 3600e6 + number(5) * 60e6 + number(6) * 1e6 + number(7);
    if (std::fabs(days) > 4e6 || std::fabs(small_micros) > 4e17 || std::llabs(years) > 10000 || std::llabs(months) > 120000) {
        throw_runtime("date value out of range");
    }
    auto micros = microseconds{std::llround(small_micros)};
    if (years == 0 && months == 0 && days == 0) return with_instant(self, self.instant + micros);
    CivilTime c = civil(self);
    std::int64_t month_index = static_cast<std::int64_t>(c.year) * 12 + (c.month - 1) + years * 12 + months;
    c.year = static_cast<int>(month_index / 12);
    c.month = static_cast<unsigned>(month_index % 12) + 1;
    if (c.year < 1 || c.year > 9999) throw_runtime("date value out of range");
    c.day = std::min(c.day, days_in_month(c.year, c.month));
    LocalTime wall = c.to_local() + microseconds{std::llround(days * static_cast<double>(kMicrosPerDay))} + micros;
    return from_wall_clock(self, wall);
}

Value start_or_end_of(const DateTime& self, const CallArgs& args, bool end) {
    Arguments a(end ? "end_of" : "start_of", args, {"unit"}, 1);
    std::string unit = a.string(0, "");
    CivilTime c = civil(self);
    if (unit == "year") c.month = 1;
    if (unit == "year" || unit == "month") c.day = 1;
    if (unit == "week") {
        unsigned since_monday = (c.weekday() + 6) % 7;
        LocalTime monday = c.to_local() - std::chrono::days{since_monday};
        c = CivilTime::from(monday);
    }
    if (unit == "year" || unit == "month" || unit == "week" || unit == "day") c.hour = 0;
    if (unit != "second" && unit != "minute" && unit != "hour" && unit != "day" && unit != "week" && unit != "month" &&
        unit != "year") {
        throw_runtime("{}(): unit must be one of second, minute, hour, day, week, month, year", end ? "end_of" : "start_of");
    }
    if (unit != "second" && unit != "minute") c.minute = 0;
    if (unit != "second") c.second = 0;
    c.microsecond = 0;
    LocalTime start = c.to_local();
    if (!end) return from_wall_clock(self, start);
    LocalTime next = start;
    if (unit == "second") next += std::chrono::seconds{1};
    else if (unit == "minute") next += std::chrono::minutes{1};
    else if (unit == "hour") next += std::chrono::hours{1};
    else if (unit == "day") next += std::chrono::days{1};
    else if (unit == "week") next += std::chrono::days{7};
    else if (unit == "month") next += std::chrono::days{days_in_month(c.year, c.month)};
    else next = CivilTime{c.year + 1, 1, 1, 0, 0, 0, 0}.to_local();
    return from_wall_clock(self, next - microseconds{1});
}

Value replace_fields(const DateTime& self, const CallArgs& args) {
    Arguments a("replace", args, {"year", "month", "day", "hour", "minute", "second", "microsecond"});
    CivilTime c = civil(self);
    c.year = static_cast<int>(a.integer(0, c.year));
    c.month = static_cast<unsigned>(a.integer(1, c.month));
    c.day = static_cast<unsigned>(a.integer(2, c.day));
    std::int64_t hour = a.integer(3, c.hour), minute = a.integer(4, c.minute), second = a.integer(5, c.second);
    std::int64_t micro = a.integer(6, c.microsecond);
    if (c.year < 1 || c.year > 9999) throw_runtime("year {} is out of range", c.year);
    if (c.month < 1 || c.month > 12) throw_runtime("month must be in 1..12");
    if (!is_valid_date(c.year, c.month, c.day)) throw_runtime("day is out of range for month");
    if (hour < 0 || hour > 23) throw_runtime("hour must be in 0..23");
    if (minute < 0 || minute > 59) throw_runtime("minute must be in 0..59");
    if (second < 0 || second > 59) throw_runtime("second must be in 0..59");
    if (micro < 0 || micro > 999999) throw_runtime("microsecond must be in 0..999999");
    c.hour = static_cast<unsigned>(hour);
    c.minute = static_cast<unsigned>(minute);
    c.second = static_cast<unsigned>(second);
    c.microsecond = micro;
    return from_wall_clock(self, c.to_local());
}

std::optional<DateMethod> datetime_method(const DateTime& self, std::string_view name) {
    bool pendulum = self.flavor == Flavor::pendulum || self.flavor == Flavor::date;
    if (name == "strftime") {
        return [](const DateTime& dt, const CallArgs& args) {
            return Value(datetime_strftime(dt, Arguments("strftime", args, {"format"}, 1).string(0, "")));
        };
    }
    if (name == "isoformat") {
        return [](const DateTime& dt, const CallArgs& args) {
            Arguments a("isoformat", args, {"sep", "timespec"});
            std::string text = datetime_isoformat(dt);
            std::string sep = a.string(0, "T");
            if (!is_date(dt) && sep != "T") text = text.substr(0, 10) + sep + text.substr(11);
            return Value(text);
        };
    }
    if (name == "date") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("date", args);
            CivilTime c = civil(dt);
            DateTime date{Instant{CivilTime{c.year, c.month, c.day, 0, 0, 0, 0}.to_local().time_since_epoch()}, std::nullopt,
                          dt.flavor == Flavor::python ? Flavor::python_date : Flavor::date};
            return Value::datetime(date);
        };
    }
    if (name == "timestamp") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("timestamp", args);
            return Value(static_cast<double>(dt.instant.time_since_epoch().count()) / 1e6);
        };
    }
    if (name == "weekday" || name == "isoweekday") {
        if (name == "weekday") {
            return [](const DateTime& dt, const CallArgs& args) {
                expect_no_arguments("weekday", args);
                return Value(static_cast<std::int64_t>((civil(dt).weekday() + 6) % 7));
            };
        }
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("isoweekday", args);
            return Value(static_cast<std::int64_t>((civil(dt).weekday() + 6) % 7 + 1));
        };
    }
    if (name == "replace") return replace_fields;
    if (name == "utcoffset") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("utcoffset", args);
            if (!dt.zone) return Value();
            return Value::timedelta(std::chrono::duration_cast<Duration>(dt.zone->offset_at(dt.instant)));
        };
    }
    if (!pendulum) return std::nullopt;
    if (name == "in_timezone" || name == "in_tz") {
        return [](const DateTime& dt, const CallArgs& args) {
            Arguments a("in_timezone", args, {"tz"}, 1);
            return make_pendulum(dt.instant, zone_argument(a[0]));
        };
    }
    if (name == "add") return [](const DateTime& dt, const CallArgs& args) { return shift(dt, args, 1, "add"); };
    if (name == "subtract") return [](const DateTime& dt, const CallArgs& args) { return shift(dt, args, -1, "subtract"); };
    if (name == "start_of") return [](const DateTime& dt, const CallArgs& args) { return start_or_end_of(dt, args, false); };
    if (name == "end_of") return [](const DateTime& dt, const CallArgs& args) { return start_or_end_of(dt, args, true); };
    if (name == "to_date_string") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("to_date_string", args);
            return Value(plain_iso(dt, ' ').substr(0, 10));
        };
    }
    if (name == "to_datetime_string") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("to_datetime_string", args);
            return Value(plain_iso(dt, ' ').substr(0, 19));
        };
    }
    if (name == "to_time_string") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("to_time_string", args);
            return Value(plain_iso(dt, ' ').substr(11, 8));
        };
    }
    if (name == "to_iso8601_string") {
        return [](const DateTime& dt, const CallArgs& args) {
            expect_no_arguments("to_iso8601_string", args);
            std::string text = datetime_isoformat(dt);
            if (text.ends_with("+00:00")) text = text.substr(0, text.size() - 6) + "Z";
            return Value(text);
        };
    }
    return std::nullopt;
}

}  // namespace

Value make_pendulum(Instant instant, const TimeZone& zone) {
    check_range(instant);
    return Value::datetime(DateTime{instant, zone, Flavor::pendulum});
}

Value make_timezone_object(const TimeZone& zone) { return Value::object(std::make_shared<TimeZoneObject>(zone)); }

Value make_naive_datetime(Instant wall_clock) {
    check_range(wall_clock);
    return Value::datetime(DateTime{wall_clock, std::nullopt, Flavor::python});
}

std::string datetime_isoformat(const DateTime& dt) {
    if (dt.zone && !is_date(dt)) return format_iso8601(dt.instant, *dt.zone);
    return plain_iso(dt, 'T');
}

std::string datetime_str(const DateTime& dt) {
    if (dt.flavor == Flavor::pendulum) return datetime_isoformat(dt);
    std::string text = datetime_isoformat(dt);
    if (!is_date(dt)) text[10] = ' ';
    return text;
}

std::string datetime_repr(const DateTime& dt) {
    CivilTime c = civil(dt);
    switch (dt.flavor) {
        case Flavor::date: return fmt::format("Date({}, {}, {})", c.year, c.month, c.day);
        case Flavor::python_date: return fmt::format("datetime.date({}, {}, {})", c.year, c.month, c.day);
        case Flavor::pendulum: {
            std::string micro = c.microsecond != 0 ? fmt::format(", {}", c.microsecond) : "";
            return fmt::format("DateTime({}, {}, {}, {}, {}, {}{}, tzinfo={})", c.year, c.month, c.day, c.hour, c.minute,
                               c.second, micro, zone_repr(dt.zone.value_or(TimeZone::utc())));
        }
        case Flavor::python: {
            std::string out = fmt::format("datetime.datetime({}, {}, {}, {}, {}", c.year, c.month, c.day, c.hour, c.minute);
            if (c.second != 0 || c.microsecond != 0) out += fmt::format(", {}", c.second);
            if (c.microsecond != 0) out += fmt::format(", {}", c.microsecond);
            if (dt.zone) out += ", tzinfo=" + zone_repr(*dt.zone);
            return out + ")";
        }
    }
    return "";
}

std::string datetime_type_name(const DateTime& dt) {
    switch (dt.flavor) {
        case Flavor::pendulum: return "DateTime";
        case Flavor::python: return "datetime";
        case Flavor::date: return "Date";
        case Flavor::python_date: return "date";
    }
    return "datetime";
}

std::string datetime_strftime(const DateTime& dt, std::string_view format) {
    if (dt.zone) return format_strftime(dt.instant, *dt.zone, format);
    return format_strftime(dt.instant, TimeZone::utc(), format);
}

std::string timedelta_str(Duration duration) {
    std::int64_t total = duration.count();
    std::int64_t days = total / kMicrosPerDay;
    std::int64_t rest = total % kMicrosPerDay;
    if (rest < 0) {
        rest += kMicrosPerDay;
        --days;
    }
    std::int64_t seconds = rest / kMicrosPerSecond;
    std::int64_t micros = rest % kMicrosPerSecond;
    std::string out;
    if (days != 0) out = fmt::format("{} day{}, ", days, (days == 1 || days == -1) ? "" : "s");
    out += fmt::format("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    if (micros != 0) out += fmt::format(".{:06}", micros);
    return out;
}

std::string timedelta_repr(Duration duration) {
    std::int64_t total = duration.count();
    std::int64_t days = total / kMicrosPerDay;
    std::int64_t rest = total % kMicrosPerDay;
    if (rest < 0) {
        rest += kMicrosPerDay;
        --days;
    }
    std::vector<std::string> parts;
    if (days != 0) parts.push_back(fmt::format("days={}", days));
    if (rest / kMicrosPerSecond != 0) parts.push_back(fmt::format("seconds={}", rest / kMicrosPerSecond));
    if (rest % kMicrosPerSecond != 0) parts.push_back(fmt::format("microseconds={}", rest % kMicrosPerSecond));
    if (parts.empty()) return "datetime.timedelta(0)";
    return fmt::format("datetime.timedelta({})", fmt::join(parts, ", "));
}

bool datetimes_equal(const DateTime& a, const DateTime& b) {
    if (is_date(a) != is_date(b)) return false;
    if (a.zone.has_value() != b.zone.has_value() && !is_date(a)) return false;
    return a.instant == b.instant;
}

int compare_datetimes(const DateTime& a, const DateTime& b) {
    if (is_date(a) != is_date(b)) throw_runtime("can't compare {} to {}", datetime_type_name(a), datetime_type_name(b));
    if (!is_date(a) && a.zone.has_value() != b.zone.has_value()) {
        throw_runtime("can't compare offset-naive and offset-aware datetimes");
    }
    return a.instant < b.instant ? -1 : (a.instant > b.instant ? 1 : 0);
}

namespace {

Duration checked_duration(long double micros) {
    if (std::fabs(micros) > 86'400e6L * 999'999'999.0L) throw_runtime("days must be in -999999999..999999999");
    return Duration{static_cast<std::int64_t>(std::llround(static_cast<double>(micros)))};
}

std::optional<Value> timedelta_op(BinaryOp op, const Value& left, const Value& right) {
    bool left_td = left.kind() == Value::Kind::timedelta;
    bool right_td = right.kind() == Value::Kind::timedelta;
    long double a = left_td ? static_cast<long double>(left.as_timedelta().count()) : 0;
    long double b = right_td ? static_cast<long double>(right.as_timedelta().count()) : 0;
    if (left_td && right_td) {
        switch (op) {
            case BinaryOp::add: return Value::timedelta(checked_duration(a + b));
            case BinaryOp::sub: return Value::timedelta(checked_duration(a - b));
            case BinaryOp::div:
                if (b == 0) throw_runtime("division by zero");
                return Value(static_cast<double>(a / b));
            case BinaryOp::floordiv:
                if (b == 0) throw_runtime("integer division or modulo by zero");
                return Value(static_cast<std::int64_t>(std::floor(a / b)));
            default: return std::nullopt;
        }
    }
    if (left_td && right.is_number()) {
        long double n = right.as_double();
        switch (op) {
            case BinaryOp::mul: return Value::timedelta(checked_duration(a * n));
            case BinaryOp::div:
                if (n == 0) throw_runtime("division by zero");
                return Value::timedelta(checked_duration(a / n));
            case BinaryOp::floordiv:
                if (!right.is_integral()) return std::nullopt;
                if (n == 0) throw_runtime("integer division or modulo by zero");
                return Value::timedelta(checked_duration(std::floor(a / n)));
            default: return std::nullopt;
        }
    }
    if (right_td && left.is_number() && op == BinaryOp::mul) {
        return Value::timedelta(checked_duration(b * static_cast<long double>(left.as_double())));
    }
    return std::nullopt;
}

}  // namespace

std::optional<Value> datetime_binary_op(BinaryOp op, const Value& left, const Value& right) {
    bool left_dt = left.kind() == Value::Kind::datetime;
    bool right_dt = right.kind() == Value::Kind::datetime;
    bool left_td = left.kind() == Value::Kind::timedelta;
    bool right_td = right.kind() == Value::Kind::timedelta;
    if (!left_dt && !right_dt) return (left_td || right_td) ? timedelta_op(op, left, right) : std::nullopt;
    if (left_dt && right_td && (op == BinaryOp::add || op == BinaryOp::sub)) {
        const DateTime& dt = left.as_datetime();
        Duration delta = op == BinaryOp::add ? right.as_timedelta() : -right.as_timedelta();
        if (is_date(dt)) delta = std::chrono::floor<std::chrono::days>(delta);
        return with_instant(dt, dt.instant + delta);
    }
    if (left_td && right_dt && op == BinaryOp::add) return datetime_binary_op(op, right, left);
    if (left_dt && right_dt && op == BinaryOp::sub) {
        const DateTime& a = left.as_datetime();
        const DateTime& b = right.as_datetime();
        if (is_date(a) != is_date(b)) return std::nullopt;
        if (!is_date(a) && a.zone.has_value() != b.zone.has_value()) {
            throw_runtime("can't subtract offset-naive and offset-aware datetimes");
        }
        return Value::timedelta(a.instant - b.instant);
    }
    return std::nullopt;
}

std::optional<Value> datetime_attribute(const Value& self, std::string_view name) {
    const DateTime& dt = self.as_datetime();
    CivilTime c = civil(dt);
    if (name == "year") return Value(c.year);
    if (name == "month") return Value(c.month);
    if (name == "day") return Value(c.day);
    if (name == "day_of_year") return Value(c.day_of_year());
    bool pendulum = dt.flavor == Flavor::pendulum;
    if (!is_date(dt)) {
        if (name == "hour") return Value(c.hour);
        if (name == "minute") return Value(c.minute);
        if (name == "second") return Value(c.second);
        if (name == "microsecond") return Value(c.microsecond);
        if (name == "tzinfo" || (pendulum && (name == "timezone" || name == "tz"))) {
            if (!dt.zone) return Value();
            return Value::object(std::make_shared<TimeZoneObject>(*dt.zone));
        }
        if (pendulum && name == "timezone_name") return Value(dt.zone ? dt.zone->name() : "UTC");
        if (pendulum && name == "offset") return Value(static_cast<std::int64_t>(dt.zone->offset_at(dt.instant).count()));
        if (pendulum && name == "int_timestamp") {
            return Value(std::chrono::floor<std::chrono::seconds>(dt.instant).time_since_epoch().count());
        }
    }
    if (auto method = datetime_method(dt, name)) {
        return Value::object(std::make_shared<DateTimeMethod>(dt, name, *method));
    }
    return std::nullopt;
}

namespace {

class TimedeltaMethod : public Object {
  public:
    TimedeltaMethod(Duration self, double divisor, std::string_view name) : self_(self), divisor_(divisor), name_(name) {}
    std::string type_name() const override { return "method"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override {
        expect_no_arguments(name_, args);
        double value = static_cast<double>(self_.count()) / divisor_;
        if (name_ == "total_seconds") return Value(value);
        return Value(static_cast<std::int64_t>(std::trunc(value)));  // pendulum's in_days() and friends
    }

  private:
    Duration self_;
    double divisor_;
    std::string_view name_;
};

}  // namespace

std::optional<Value> timedelta_attribute(const Value& self, std::string_view name) {
    std::int64_t total = self.as_timedelta().count();
    std::int64_t days = total / kMicrosPerDay;
    std::int64_t rest = total % kMicrosPerDay;
    if (rest < 0) {
        rest += kMicrosPerDay;
        --days;
    }
    if (name == "days") return Value(days);
    if (name == "seconds") return Value(rest / kMicrosPerSecond);
    if (name == "microseconds") return Value(rest % kMicrosPerSecond);
    static constexpr std::pair<std::string_view, double> kMethods[] = {
        {"total_seconds", 1e6}, {"in_seconds", 1e6}, {"in_minutes", 60e6},
        {"in_hours", 3600e6},   {"in_days", 86400e6}, {"in_weeks", 7 * 86400e6},
    };
    for (const auto& [method, divisor] : kMethods) {
        if (name == method) return Value::object(std::make_shared<TimedeltaMethod>(self.as_timedelta(), divisor, method));
    }
    return std::nullopt;
}

Value make_timedelta(const CallArgs& args) {
    Arguments a("timedelta", args, {"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"});
    static constexpr long double kScale[] = {86400e6L, 1e6L, 1.0L, 1e3L, 60e6L, 3600e6L, 7 * 86400e6L};
    long double micros = 0;
    for (std::size_t i = 0; i < 7; ++i) {
        if (!a.has(i)) continue;
        const Value& v = a[i];
        if (v.is_undefined()) v.fail_undefined();
        if (!v.is_number()) throw_runtime("unsupported type for timedelta component: {}", v.type_name());
        micros += static_cast<long double>(v.as_double()) * kScale[i];
    }
    return Value::timedelta(checked_duration(micros));
}

}  // namespace mayaflow::tmpl
