// Airflow's `macros`: ds_add, ds_format, and the datetime, timedelta and uuid modules.

#include <fmt/format.h>

#include <random>

#include "engine/template/airflow_context.h"
#include "engine/template/args.h"
#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/time/civil_time.h"
#include "engine/time/strftime.h"

namespace mayaflow::tmpl {

namespace {

using Fn = Value (*)(const CallArgs& args);

class Function : public Object {
  public:
    Function(std::string_view name, Fn fn) : name_(name), fn_(fn) {}
    std::string type_name() const override { return "function"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return fn_(args); }
    std::string repr() const override { return fmt::format("<function {}>", name_); }

  private:
    std::string_view name_;
    Fn fn_;
};

Value function(std::string_view name, Fn fn) { return Value::object(std::make_shared<Function>(name, fn)); }

// datetime.strptime(text, format): a naive datetime.
Instant strptime_or_throw(const std::string& text, const std::string& format) {
    auto parsed = parse_strptime(text, format, TimeZone::utc());
    if (!parsed) throw_runtime("{}", parsed.error().message);
    return *parsed;
}

Value ds_add(const CallArgs& args) {
    Arguments a("ds_add", args, {"ds", "days"}, 2);
    std::string ds = a[0].str();
    if (!a[1].truthy()) return Value(ds);
    if (!a[1].is_number()) throw_runtime("ds_add(): days must be a number, not '{}'", a[1].type_name());
    Instant day = strptime_or_throw(ds, "%Y-%m-%d");
    Value shifted = datetime_binary_op(BinaryOp::add, make_naive_datetime(day),
                                       make_timedelta(CallArgs{{a[1]}, {}}))
                        .value();
    return Value(datetime_strftime(shifted.as_datetime(), "%Y-%m-%d"));
}

Value ds_format(const CallArgs& args) {
    Arguments a("ds_format", args, {"ds", "input_format", "output_format"}, 3);
    Instant parsed = strptime_or_throw(a[0].str(), a.string(1, ""));
    return Value(format_strftime(parsed, TimeZone::utc(), a.string(2, "")));
}

Value make_datetime(const CallArgs& args) {
    Arguments a("datetime", args, {"year", "month", "day", "hour", "minute", "second", "microsecond"}, 3);
    std::int64_t year = a.integer(0, 1), month = a.integer(1, 1), day = a.integer(2, 1);
    std::int64_t hour = a.integer(3, 0), minute = a.integer(4, 0), second = a.integer(5, 0);
    std::int64_t micro = a.integer(6, 0);
    if (year < 1 || year > 9999) throw_runtime("year {} is out of range", year);
    if (month < 1 || month > 12) throw_runtime("month must be in 1..12");
    if (!is_valid_date(static_cast<int>(year), static_cast<unsigned>(month), static_cast<unsigned>(day))) {
        throw_runtime("day is out of range for month");
    }
    if (hour < 0 || hour > 23) throw_runtime("hour must be in 0..23");
    if (minute < 0 || minute > 59) throw_runtime("minute must be in 0..59");
    if (second < 0 || second > 59) throw_runtime("second must be in 0..59");
    if (micro < 0 || micro > 999999) throw_runtime("microsecond must be in 0..999999");
    CivilTime civil{static_cast<int>(year), static_cast<unsigned>(month), static_cast<unsigned>(day),
                    static_cast<unsigned>(hour), static_cast<unsigned>(minute), static_cast<unsigned>(second), micro};
    return make_naive_datetime(Instant{civil.to_local().time_since_epoch()});
}

Value naive_now(const CallArgs& args) {
    expect_no_arguments("now", args);
    return make_naive_datetime(now_instant());
}

// `macros.datetime`: callable like the class, with the class methods templates use.
class DatetimeClass : public Object {
  public:
    std::string type_name() const override { return "type"; }
    std::string repr() const override { return "<class 'datetime.datetime'>"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return make_datetime(args); }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "strptime") {
            return function("strptime", [](const CallArgs& args) {
                Arguments a("strptime", args, {"date_string", "format"}, 2);
                return make_naive_datetime(strptime_or_throw(a.string(0, ""), a.string(1, "")));
            });
        }
        if (name == "now" || name == "utcnow") return function(name == "now" ? "now" : "utcnow", naive_now);
        return std::nullopt;
    }
};

class TimedeltaClass : public Object {
  public:
    std::string type_name() const override { return "type"; }
    std::string repr() const override { return "<class 'datetime.timedelta'>"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return make_timedelta(args); }
};

// A UUID from macros.uuid.uuid4(): prints as the usual 36-character text.
class Uuid : public Object {
  public:
    explicit Uuid(std::string text) : text_(std::move(text)) {}
    std::string type_name() const override { return "UUID"; }
    std::string str() const override { return text_; }
    std::string repr() const override { return "UUID('" + text_ + "')"; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "hex") {
            std::string hex;
            for (char c : text_) {
                if (c != '-') hex.push_back(c);
            }
            return Value(hex);
        }
        return std::nullopt;
    }

  private:
    std::string text_;
};

Value uuid4(const CallArgs& args) {
    expect_no_arguments("uuid4", args);
    thread_local std::mt19937_64 generator{std::random_device{}()};
    std::uint64_t high = generator();
    std::uint64_t low = generator();
    high = (high & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
    low = (low & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;    // RFC 4122 variant
    std::string text = fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xFFFF,
                                   high & 0xFFFF, low >> 48, low & 0xFFFFFFFFFFFFull);
    return Value::object(std::make_shared<Uuid>(std::move(text)));
}

class UuidModule : public Object {
  public:
    std::string type_name() const override { return "module"; }
    std::string repr() const override { return "<module 'uuid'>"; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "uuid4") return function("uuid4", uuid4);
        return std::nullopt;
    }
};

class Macros : public Object {
  public:
    std::string type_name() const override { return "module"; }
    std::string repr() const override { return "<module 'airflow.macros'>"; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "ds_add") return function("ds_add", ds_add);
        if (name == "ds_format") return function("ds_format", ds_format);
        if (name == "datetime") return Value::object(std::make_shared<DatetimeClass>());
        if (name == "timedelta") return Value::object(std::make_shared<TimedeltaClass>());
        if (name == "uuid") return Value::object(std::make_shared<UuidModule>());
        return std::nullopt;
    }
};

}  // namespace

Value make_airflow_macros() { return Value::object(std::make_shared<Macros>()); }

}  // namespace mayaflow::tmpl
