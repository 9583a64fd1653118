#include "engine/template/value.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <unordered_set>

#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/template/limits.h"
#include "engine/template/pystr.h"
#include "engine/template/work_meter.h"

namespace mayaflow::tmpl {

namespace {

// Deeply nested values (built by a template in a loop) must not overflow the stack when they are
// printed, compared or copied; beyond this depth those operations fail with a clean error.
constexpr int kMaxValueDepth = 200;

class DepthGuard {
  public:
    DepthGuard() {
        if (++depth_ > kMaxValueDepth) {
            --depth_;
            throw_runtime("value nested too deeply (more than {} levels)", kMaxValueDepth);
        }
    }
    ~DepthGuard() { --depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

  private:
    static thread_local int depth_;
};

thread_local int DepthGuard::depth_ = 0;

// A list that holds the same large value many times ([big] * 1000) prints as many copies: the text
// is checked against the size limit as it grows, and each item costs work.
void append_repr_items(std::string& out, const std::vector<Value>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
        WorkMeter::charge_current(1);
        if (i > 0) out += ", ";
        out += items[i].repr();
        check_string_size(out.size());
    }
}

std::string sequence_repr(const ListData& list) {
    DepthGuard guard;
    std::string out;
    switch (list.kind) {
        case SequenceKind::list:
            out = "[";
            append_repr_items(out, list.items);
            out += "]";
            break;
        case SequenceKind::tuple:
            out = "(";
            append_repr_items(out, list.items);
            out += list.items.size() == 1 ? ",)" : ")";
            break;
        case SequenceKind::dict_keys:
            out = "dict_keys([";
            append_repr_items(out, list.items);
            out += "])";
            break;
        case SequenceKind::dict_values:
            out = "dict_values([";
            append_repr_items(out, list.items);
            out += "])";
            break;
        case SequenceKind::dict_items:
            out = "dict_items([";
            append_repr_items(out, list.items);
            out += "])";
            break;
    }
    return out;
}

std::string dict_repr(const DictData& dict) {
    DepthGuard guard;
    std::string out = "{";
    bool first = true;
    for (const auto& [key, value] : dict.entries()) {
        WorkMeter::charge_current(1);
        if (!first) out += ", ";
        first = false;
        out += key.repr();
        out += ": ";
        out += value.repr();
        check_string_size(out.size());
    }
    out += "}";
    return out;
}

const char* sequence_type_name(SequenceKind kind) {
    switch (kind) {
        case SequenceKind::list: return "list";
        case SequenceKind::tuple: return "tuple";
        case SequenceKind::dict_keys: return "dict_keys";
        case SequenceKind::dict_values: return "dict_values";
        case SequenceKind::dict_items: return "dict_items";
    }
    return "list";
}

bool numbers_equal(const Value& a, const Value& b) {
    if (a.kind() == Value::Kind::floating || b.kind() == Value::Kind::floating) {
        return a.as_double() == b.as_double();
    }
    return a.as_int() == b.as_int();
}

bool lists_equal(const ListData& a, const ListData& b) {
    bool a_tuple = a.kind == SequenceKind::tuple;
    bool b_tuple = b.kind == SequenceKind::tuple;
    if (a_tuple != b_tuple) return false;
    if (a.items.size() != b.items.size()) return false;
    if (&a == &b) return true;  // Python compares items by identity first, too
    DepthGuard guard;
    WorkMeter::charge_current(a.items.size());
    for (std::size_t i = 0; i < a.items.size(); ++i) {
        if (!equals(a.items[i], b.items[i])) return false;
    }
    return true;
}

bool dicts_equal(const DictData& a, const DictData& b) {
    if (a.size() != b.size()) return false;
    if (&a == &b) return true;
    DepthGuard guard;
    WorkMeter::charge_current(a.size());
    for (const auto& [key, value] : a.entries()) {
        const Value* other = b.find(key);
        if (other == nullptr || !equals(value, *other)) return false;
    }
    return true;
}

}  // namespace

// ---- destruction ----

namespace {

// Destroying a value nested a million levels deep would recurse a million times. Past a small depth,
// destructors hand their children to the outermost one, which destroys them in a loop.
thread_local int destroy_depth = 0;
thread_local std::vector<Value>* deferred = nullptr;
constexpr int kMaxDestroyDepth = 32;

template <class MoveChildren, class Clear>
void destroy_children(MoveChildren move_children, Clear clear) {
    ++destroy_depth;
    if (destroy_depth > kMaxDestroyDepth && deferred != nullptr) {
        move_children(*deferred);
    } else if (deferred == nullptr) {
        std::vector<Value> pending;
        deferred = &pending;
        clear();
        while (!pending.empty()) {
            Value doomed = std::move(pending.back());
            pending.pop_back();
        }
        deferred = nullptr;
    } else {
        clear();
    }
    --destroy_depth;
}

}  // namespace

ListData::~ListData() {
    destroy_children(
        [this](std::vector<Value>& out) {
            for (Value& item : items) out.push_back(std::move(item));
        },
        [this] { items.clear(); });
}

DictData::~DictData() {
    destroy_children(
        [this](std::vector<Value>& out) {
            for (auto& [key, value] : entries_) {
                out.push_back(std::move(key));
                out.push_back(std::move(value));
            }
        },
        [this] { entries_.clear(); });
}

// ---- DictData ----

const Value* DictData::find(const Value& key) const {
    if (key.is_string()) return find(std::string_view(key.as_string()));
    auto it = index_.find(hash_key(key));
    return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* DictData::find(std::string_view key) const {
    std::string hashed;
    hashed.reserve(key.size() + 1);
    hashed.push_back('S');
    hashed.append(key);
    auto it = index_.find(hashed);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void DictData::set(Value key, Value value) {
    std::string hashed = hash_key(key);
    auto it = index_.find(hashed);
    if (it != index_.end()) {
        entries_[it->second].second = std::move(value);  // Python keeps the first key object
        return;
    }
    index_.emplace(std::move(hashed), entries_.size());
    entries_.emplace_back(std::move(key), std::move(value));
}

bool DictData::erase(const Value& key) {
    auto it = index_.find(hash_key(key));
    if (it == index_.end()) return false;
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
    index_.clear();
    for (std::size_t i = 0; i < entries_.size(); ++i) index_.emplace(hash_key(entries_[i].first), i);
    return true;
}

// ---- Value ----

Value Value::undefined(std::string message) {
    return Value(UndefinedRef{std::make_shared<const std::string>(std::move(message)), false});
}

Value Value::lenient_undefined(std::string message) {
    return Value(UndefinedRef{std::make_shared<const std::string>(std::move(message)), true});
}

Value Value::list(std::vector<Value> items, SequenceKind kind) {
    Value value;
    auto data = std::make_shared<ListData>();
    data->items = std::move(items);
    data->kind = kind;
    value.data_ = std::move(data);
    return value;
}

Value Value::dict(std::shared_ptr<DictData> dict) {
    Value value;
    value.data_ = std::move(dict);
    return value;
}

Value Value::datetime(DateTime datetime) {
    Value value;
    value.data_ = std::make_shared<const DateTime>(std::move(datetime));
    return value;
}

Value Value::timedelta(Duration duration) {
    Value value;
    value.data_ = duration;
    return value;
}

Value Value::object(std::shared_ptr<const Object> object) {
    Value value;
    value.data_ = std::move(object);
    return value;
}

bool Value::is_number() const {
    Kind k = kind();
    return k == Kind::boolean || k == Kind::integer || k == Kind::floating;
}

std::int64_t Value::as_int() const {
    if (kind() == Kind::boolean) return as_bool() ? 1 : 0;
    return std::get<std::int64_t>(data_);
}

double Value::as_double() const {
    if (kind() == Kind::floating) return std::get<double>(data_);
    return static_cast<double>(as_int());
}

ListData& Value::mutable_list() const {
    ListData& list = *std::get<ListRef>(data_);
    if (list.frozen) throw_runtime("cannot change a {} that comes from the template's context", type_name());
    return list;
}

DictData& Value::mutable_dict() const {
    DictData& dict = *std::get<DictRef>(data_);
    if (dict.frozen) throw_runtime("cannot change a dict that comes from the template's context");
    return dict;
}

void Value::freeze() const {
    // Iterative, so that no value is too deep to put in a Context.
    std::vector<const Value*> pending{this};
    while (!pending.empty()) {
        const Value* value = pending.back();
        pending.pop_back();
        if (value->is_list()) {
            ListData& list = *std::get<ListRef>(value->data_);
            if (list.frozen) continue;
            list.frozen = true;
            for (const Value& item : list.items) pending.push_back(&item);
        } else if (value->is_dict()) {
            DictData& dict = *std::get<DictRef>(value->data_);
            if (dict.frozen) continue;
            dict.frozen = true;
            for (const auto& entry : dict.entries()) pending.push_back(&entry.second);
        }
    }
}

void Value::fail_undefined() const { throw_undefined(undefined_message()); }

std::string Value::str() const {
    std::string out;
    append_str(out);
    return out;
}

void Value::append_str(std::string& out) const {
    switch (kind()) {
        case Kind::undefined:
            if (is_lenient_undefined()) return;
            fail_undefined();
        case Kind::string: out += as_string(); return;
        case Kind::integer: out += std::to_string(std::get<std::int64_t>(data_)); return;
        case Kind::datetime: out += datetime_str(as_datetime()); return;
        case Kind::timedelta: out += timedelta_str(as_timedelta()); return;
        case Kind::object: out += as_object().str(); return;
        default: out += repr(); return;
    }
}

std::string Value::repr() const {
    switch (kind()) {
        case Kind::undefined: return "Undefined";
        case Kind::none: return "None";
        case Kind::boolean: return as_bool() ? "True" : "False";
        case Kind::integer: return std::to_string(std::get<std::int64_t>(data_));
        case Kind::floating: return py::repr_float(std::get<double>(data_));
        case Kind::string: return py::repr_string(as_string());
        case Kind::list: return sequence_repr(list_data());
        case Kind::dict: return dict_repr(dict_data());
        case Kind::datetime: return datetime_repr(as_datetime());
        case Kind::timedelta: return timedelta_repr(as_timedelta());
        case Kind::object: return as_object().repr();
    }
    return "";
}

bool Value::truthy() const {
    switch (kind()) {
        case Kind::undefined:
            if (is_lenient_undefined()) return false;
            fail_undefined();
        case Kind::none: return false;
        case Kind::boolean: return as_bool();
        case Kind::integer: return std::get<std::int64_t>(data_) != 0;
        case Kind::floating: return std::get<double>(data_) != 0.0;
        case Kind::string: return !as_string().empty();
        case Kind::list: return !items().empty();
        case Kind::dict: return dict_data().size() != 0;
        case Kind::datetime: return true;
        case Kind::timedelta: return as_timedelta().count() != 0;
        case Kind::object: return as_object().truthy();
    }
    return false;
}

std::string Value::type_name() const {
    switch (kind()) {
        case Kind::undefined: return is_lenient_undefined() ? "Undefined" : "StrictUndefined";
        case Kind::none: return "NoneType";
        case Kind::boolean: return "bool";
        case Kind::integer: return "int";
        case Kind::floating: return "float";
        case Kind::string: return "str";
        case Kind::list: return sequence_type_name(list_data().kind);
        case Kind::dict: return "dict";
        case Kind::datetime: return datetime_type_name(as_datetime());
        case Kind::timedelta: return "timedelta";
        case Kind::object: return as_object().type_name();
    }
    return "object";
}

std::string Value::object_type_repr() const {
    if (is_none()) return "None";
    return type_name() + " object";
}

namespace {

template <class Json>
Value value_from_json(const Json& json, int depth) {
    if (depth > kMaxValueDepth) {
        return Value::undefined(fmt::format("the JSON value is nested too deeply (more than {} levels)", kMaxValueDepth));
    }
    switch (json.type()) {
        case nlohmann::json::value_t::null:
        case nlohmann::json::value_t::discarded: return Value();
        case nlohmann::json::value_t::boolean: return Value(json.template get<bool>());
        case nlohmann::json::value_t::number_integer: return Value(json.template get<std::int64_t>());
        case nlohmann::json::value_t::number_unsigned: {
            auto u = json.template get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return Value(static_cast<std::int64_t>(u));
            }
            return Value(static_cast<double>(u));
        }
        case nlohmann::json::value_t::number_float: return Value(json.template get<double>());
        case nlohmann::json::value_t::string: return Value(json.template get<std::string>());
        case nlohmann::json::value_t::binary:
            return Value(std::string(json.get_binary().begin(), json.get_binary().end()));
        case nlohmann::json::value_t::array: {
            std::vector<Value> items;
            items.reserve(json.size());
            for (const auto& element : json) items.push_back(value_from_json(element, depth + 1));
            Value value = Value::list(std::move(items));
            value.freeze();
            return value;
        }
        case nlohmann::json::value_t::object: {
            auto dict = std::make_shared<DictData>();
            for (const auto& [key, element] : json.items()) dict->set(Value(key), value_from_json(element, depth + 1));
            dict->frozen = true;
            return Value::dict(std::move(dict));
        }
    }
    return Value();
}

}  // namespace

Value Value::from_json(const nlohmann::json& json) { return value_from_json(json, 0); }
Value Value::from_json(const nlohmann::ordered_json& json) { return value_from_json(json, 0); }

namespace {

// Values deeper than kMaxValueDepth (which only a hostile template builds) become null.
nlohmann::json value_to_json(const Value& value, int depth) {
    using Kind = Value::Kind;
    switch (value.kind()) {
        case Kind::undefined:
        case Kind::none: return nullptr;
        case Kind::boolean: return value.as_bool();
        case Kind::integer: return value.as_int();
        case Kind::floating: return value.as_double();
        case Kind::string: return value.as_string();
        case Kind::list: {
            if (depth >= kMaxValueDepth) return nullptr;
            nlohmann::json array = nlohmann::json::array();
            for (const Value& item : value.items()) array.push_back(value_to_json(item, depth + 1));
            return array;
        }
        case Kind::dict: {
            if (depth >= kMaxValueDepth) return nullptr;
            nlohmann::json object = nlohmann::json::object();
            for (const auto& [key, item] : value.dict_data().entries()) {
                object[key.is_string() ? key.as_string() : key.repr()] = value_to_json(item, depth + 1);
            }
            return object;
        }
        case Kind::datetime: return datetime_str(value.as_datetime());
        case Kind::timedelta: return static_cast<double>(value.as_timedelta().count()) / 1e6;
        case Kind::object: return value.as_object().str();
    }
    return nullptr;
}

}  // namespace

nlohmann::json Value::to_json() const { return value_to_json(*this, 0); }

// ---- Object ----

std::optional<Value> Object::attribute(std::string_view) const { return std::nullopt; }

std::optional<Value> Object::item(const Value& key) const {
    if (key.is_string()) return attribute(key.as_string());
    return std::nullopt;
}

Value Object::call(const CallArgs&) const { throw_runtime("'{}' object is not callable", type_name()); }

bool Object::set_attribute(std::string_view, Value) const { return false; }

// Rejects an insertion that would make a container contain itself (Python allows it; a template
// never needs it, and such a cycle could never be freed).
void check_no_cycle(const void* container, const Value& inserted) {
    std::vector<const Value*> stack{&inserted};
    std::unordered_set<const void*> seen;
    while (!stack.empty()) {
        const Value* value = stack.back();
        stack.pop_back();
        const void* identity = nullptr;
        if (value->is_list()) identity = &value->list_data();
        else if (value->is_dict()) identity = &value->dict_data();
        else if (value->kind() == Value::Kind::object) identity = value->object_ptr().get();
        else continue;
        if (identity == container) throw_runtime("a container cannot contain itself");
        if (!seen.insert(identity).second) continue;
        WorkMeter::charge_current(1);
        if (value->is_list()) {
            for (const Value& item : value->items()) stack.push_back(&item);
        } else if (value->is_dict()) {
            for (const auto& entry : value->dict_data().entries()) stack.push_back(&entry.second);
        } else {
            value->as_object().visit_values([&stack](const Value& child) { stack.push_back(&child); });
        }
    }
}

// ---- equality and hashing ----

bool equals(const Value& a, const Value& b) {
    using Kind = Value::Kind;
    if (a.is_lenient_undefined() || b.is_lenient_undefined()) {
        // Jinja's Undefined equals only another Undefined; a strict one on the other side still fails.
        const Value& other = a.is_lenient_undefined() ? b : a;
        if (other.is_undefined() && !other.is_lenient_undefined()) other.fail_undefined();
        return other.is_undefined();
    }
    if (a.is_undefined()) a.fail_undefined();
    if (b.is_undefined()) b.fail_undefined();
    if (a.is_number() && b.is_number()) return numbers_equal(a, b);
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Kind::none: return true;
        case Kind::string: return a.as_string() == b.as_string();
        case Kind::list: return lists_equal(a.list_data(), b.list_data());
        case Kind::dict: return dicts_equal(a.dict_data(), b.dict_data());
        case Kind::datetime: return datetimes_equal(a.as_datetime(), b.as_datetime());
        case Kind::timedelta: return a.as_timedelta() == b.as_timedelta();
        case Kind::object: return a.object_ptr() == b.object_ptr();
        default: return false;
    }
}

std::string hash_key(const Value& key) {
    using Kind = Value::Kind;
    switch (key.kind()) {
        case Kind::undefined: key.fail_undefined();
        case Kind::none: return "N";
        case Kind::boolean:
        case Kind::integer: return "I" + std::to_string(key.as_int());
        case Kind::floating: {
            double d = key.as_double();
            if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
                return "I" + std::to_string(static_cast<std::int64_t>(d));
            }
            return "F" + py::repr_float(d);
        }
        case Kind::string: return "S" + key.as_string();
        case Kind::list: {
            if (!key.is_sequence_kind(SequenceKind::tuple)) {
                throw_runtime("unhashable type: '{}'", key.type_name());
            }
            DepthGuard guard;
            std::string out = "T";
            WorkMeter::charge_current(key.items().size());
            for (const Value& item : key.items()) {
                std::string part = hash_key(item);
                out += std::to_string(part.size());
                out += ':';
                out += part;
                check_string_size(out.size());
            }
            return out;
        }
        case Kind::dict: throw_runtime("unhashable type: 'dict'");
        case Kind::datetime: {
            const DateTime& dt = key.as_datetime();
            return (dt.zone ? "D" : "d") + std::to_string(dt.instant.time_since_epoch().count());
        }
        case Kind::timedelta: return "t" + std::to_string(key.as_timedelta().count());
        case Kind::object: return "O" + std::to_string(reinterpret_cast<std::uintptr_t>(key.object_ptr().get()));
    }
    return "";
}

}  // namespace mayaflow::tmpl
