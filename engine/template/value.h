#pragma once
// Value is what template expressions compute with: the Python values a Jinja template sees (None,
// bool, int, float, str, list, tuple, dict, datetime, timedelta) plus objects (loop, macros, ti ...)
// and Jinja's Undefined. Copies are cheap: strings and containers are shared, as in Python.

#include <nlohmann/json_fwd.hpp>

#include <concepts>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "engine/time/instant.h"
#include "engine/time/time_zone.h"

namespace mayaflow::tmpl {

class Value;
class Object;

// The arguments of a call as Python passes them: positional first, then keyword.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

// Which Python sequence type a list value is; they differ in how they print and compare.
enum class SequenceKind : std::uint8_t { list, tuple, dict_keys, dict_values, dict_items };

struct ListData {
    ListData() = default;
    ListData(const ListData&) = delete;
    ListData& operator=(const ListData&) = delete;
    ~ListData();  // iterative for deeply nested values

    std::vector<Value> items;
    SequenceKind kind = SequenceKind::list;
    bool frozen = false;  // shared with other renders (from a Context): readable, not changeable
};

// DictData is Python's dict: insertion-ordered, keys compared as Python compares them (1 == 1.0).
class DictData {
  public:
    DictData() = default;
    DictData(const DictData&) = delete;
    DictData& operator=(const DictData&) = delete;
    ~DictData();  // iterative for deeply nested values

    const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
    std::size_t size() const;  // defined below Value, which clang needs complete for it
    const Value* find(const Value& key) const;  // throws a TemplateError for an unhashable key
    const Value* find(std::string_view key) const;
    void set(Value key, Value value);
    bool erase(const Value& key);

    bool frozen = false;

  private:
    std::vector<std::pair<Value, Value>> entries_;
    std::unordered_map<std::string, std::size_t> index_;  // hash_key(key) -> position
};

// A point in time as templates see it. Airflow's dates are pendulum DateTimes (aware, printed with a
// 'T'); macros.datetime(...) makes Python's naive datetimes; .date() makes dates (pendulum's or Python's).
struct DateTime {
    enum class Flavor : std::uint8_t { pendulum, python, date, python_date };
    Instant instant;               // naive values: the wall-clock time read as if it were UTC
    std::optional<TimeZone> zone;  // absent: naive (Python datetime without tzinfo, or a date)
    Flavor flavor = Flavor::pendulum;
};

class Value {
  public:
    enum class Kind : std::uint8_t {
        undefined,
        none,
        boolean,
        integer,
        floating,
        string,
        list,  // also tuples and dict views; see SequenceKind
        dict,
        datetime,
        timedelta,
        object,
    };

    Value() = default;  // None
    Value(std::nullptr_t) {}
    Value(bool b) : data_(b) {}
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    Value(T i) : data_(static_cast<std::int64_t>(i)) {}
    Value(double d) : data_(d) {}
    Value(std::string s) : data_(std::make_shared<const std::string>(std::move(s))) {}
    Value(std::string_view s) : Value(std::string(s)) {}
    Value(const char* s) : Value(std::string(s)) {}

    // Jinja's StrictUndefined: using it (printing, iterating, comparing ...) fails with `message`.
    static Value undefined(std::string message);
    // Jinja's plain Undefined, which `a if b` (without else) gives even under StrictUndefined: it
    // prints as "", is false and iterates as empty; other uses fail.
    static Value lenient_undefined(std::string message);
    static Value list(std::vector<Value> items, SequenceKind kind = SequenceKind::list);
    static Value tuple(std::vector<Value> items) { return list(std::move(items), SequenceKind::tuple); }
    static Value dict(std::shared_ptr<DictData> dict);
    static Value datetime(DateTime datetime);
    static Value timedelta(Duration duration);
    static Value object(std::shared_ptr<const Object> object);

    Kind kind() const { return static_cast<Kind>(data_.index()); }
    bool is_undefined() const { return kind() == Kind::undefined; }
    bool is_none() const { return kind() == Kind::none; }
    bool is_string() const { return kind() == Kind::string; }
    bool is_list() const { return kind() == Kind::list; }
    bool is_dict() const { return kind() == Kind::dict; }
    // bool, int or float (Python's numbers.Number).
    bool is_number() const;
    // int or bool: usable where Python wants an integer.
    bool is_integral() const { return kind() == Kind::integer || kind() == Kind::boolean; }
    bool is_sequence_kind(SequenceKind kind) const { return is_list() && list_data().kind == kind; }

    bool as_bool() const { return std::get<bool>(data_); }
    std::int64_t as_int() const;  // int or bool
    double as_double() const;     // any number
    const std::string& as_string() const { return *std::get<StringRef>(data_); }
    const ListData& list_data() const { return *std::get<ListRef>(data_); }
    const std::vector<Value>& items() const { return list_data().items; }
    const DictData& dict_data() const { return *std::get<DictRef>(data_); }
    const DateTime& as_datetime() const { return *std::get<DateRef>(data_); }
    Duration as_timedelta() const { return std::get<Duration>(data_); }
    const Object& as_object() const { return *std::get<ObjectRef>(data_); }
    const std::shared_ptr<const Object>& object_ptr() const { return std::get<ObjectRef>(data_); }
    const std::string& undefined_message() const { return *std::get<UndefinedRef>(data_).message; }
    bool is_lenient_undefined() const { return is_undefined() && std::get<UndefinedRef>(data_).lenient; }

    // Containers a template may change ({% do xs.append(1) %}); throws when frozen.
    ListData& mutable_list() const;
    DictData& mutable_dict() const;
    // Marks this value's containers, and the ones inside them, as shared read-only.
    void freeze() const;

    // Throws the undefined error this value carries.
    [[noreturn]] void fail_undefined() const;

    // Python's str() and repr(); str() of an undefined value throws.
    std::string str() const;
    std::string repr() const;
    void append_str(std::string& out) const;
    // Python's truth value; throws for undefined.
    bool truthy() const;
    // type(x).__name__ in Python ("int", "str", "dict", "NoneType" ...).
    std::string type_name() const;
    // How Jinja names the value in "... has no attribute" messages: "'dict object'", "'None'".
    std::string object_type_repr() const;

    // JSON objects become dicts in the JSON's key order; nlohmann::json keeps keys sorted, while
    // ordered_json keeps the order of the text (as Python's json module does).
    static Value from_json(const nlohmann::json& json);
    static Value from_json(const nlohmann::ordered_json& json);
    nlohmann::json to_json() const;

  private:
    struct UndefinedRef {
        std::shared_ptr<const std::string> message;
        bool lenient = false;
    };
    using StringRef = std::shared_ptr<const std::string>;
    using ListRef = std::shared_ptr<ListData>;
    using DictRef = std::shared_ptr<DictData>;
    using DateRef = std::shared_ptr<const DateTime>;
    using ObjectRef = std::shared_ptr<const Object>;

    explicit Value(UndefinedRef ref) : data_(std::move(ref)) {}

    // The order matches Kind.
    std::variant<UndefinedRef, std::monostate, bool, std::int64_t, double, StringRef, ListRef, DictRef, DateRef,
                 Duration, ObjectRef>
        data_{std::monostate{}};
};

inline std::size_t DictData::size() const { return entries_.size(); }

// Objects give templates attributes and calls: `loop.index`, `ti.xcom_pull(...)`, `macros.ds_add`.
// Implementations must be safe to use from several renders at once unless made by the render itself.
class Object {
  public:
    virtual ~Object() = default;
    // The Python-like class name used in messages ("LoopContext", "TaskInstance").
    virtual std::string type_name() const = 0;
    virtual std::optional<Value> attribute(std::string_view name) const;
    // obj[key]; by default a string key reads the attribute of that name.
    virtual std::optional<Value> item(const Value& key) const;
    virtual bool callable() const { return false; }
    virtual Value call(const CallArgs& args) const;
    // `{% set ns.x = 1 %}`: true when the object accepts the attribute.
    virtual bool set_attribute(std::string_view name, Value value) const;
    virtual std::string repr() const { return "<" + type_name() + " object>"; }
    virtual std::string str() const { return repr(); }
    virtual bool truthy() const { return true; }
    // Calls `visit` for each value the object holds that a template can change (namespace attributes).
    virtual void visit_values(const std::function<void(const Value&)>& visit) const { (void)visit; }
};

// Python's ==, with Jinja's StrictUndefined raising when either side is undefined.
bool equals(const Value& a, const Value& b);
// The key under which Python's dict would find `key`; throws for unhashable values.
std::string hash_key(const Value& key);
// Throws when putting `inserted` into the container (list, dict or object) at `container` would make
// it contain itself: Python allows it, but such a cycle could never be freed.
void check_no_cycle(const void* container, const Value& inserted);

}  // namespace mayaflow::tmpl
