// The registry of filters and tests, and Jinja's global functions: range, dict, namespace, cycler,
// joiner.

#include "engine/template/builtins.h"

#include <fmt/format.h>

#include <unordered_map>

#include "engine/template/args.h"
#include "engine/template/error.h"
#include "engine/template/operators.h"

namespace mayaflow::tmpl {

struct BuiltinTable {
    std::unordered_map<std::string_view, FilterFn> filters;
    std::unordered_map<std::string_view, TestFn> tests;
};

namespace {

const BuiltinTable& table() {
    static const BuiltinTable instance = [] {
        BuiltinTable t;
        add_text_filters(t);
        add_value_filters(t);
        add_sequence_filters(t);
        add_date_filters(t);
        add_is_tests(t);
        return t;
    }();
    return instance;
}

class Function : public Object {
  public:
    using Fn = Value (*)(const CallArgs& args);
    Function(std::string_view name, Fn fn) : name_(name), fn_(fn) {}
    std::string type_name() const override { return "builtin_function_or_method"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return fn_(args); }
    std::string repr() const override { return fmt::format("<built-in function {}>", name_); }

  private:
    std::string_view name_;
    Fn fn_;
};

Value range_function(const CallArgs& args) {
    if (!args.keyword.empty()) throw_runtime("range() takes no keyword arguments");
    const auto& p = args.positional;
    if (p.empty() || p.size() > 3) throw_runtime("range expected 1 to 3 arguments, got {}", p.size());
    auto integer = [](const Value& v) {
        if (v.is_undefined()) v.fail_undefined();
        if (!v.is_integral()) throw_runtime("'{}' object cannot be interpreted as an integer", v.type_name());
        return v.as_int();
    };
    std::int64_t start = p.size() == 1 ? 0 : integer(p[0]);
    std::int64_t stop = integer(p.size() == 1 ? p[0] : p[1]);
    std::int64_t step = p.size() == 3 ? integer(p[2]) : 1;
    if (step == 0) throw_runtime("range() arg 3 must not be zero");
    __int128 count = 0;
    if (step > 0 && stop > start) count = (static_cast<__int128>(stop) - start + step - 1) / step;
    if (step < 0 && stop < start) count = (static_cast<__int128>(start) - stop - step - 1) / -step;
    if (count > kMaxRange) {
        throw_runtime("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange);
    }
    std::vector<Value> items;
    items.reserve(static_cast<std::size_t>(count));
    for (__int128 i = 0; i < count; ++i) items.emplace_back(static_cast<std::int64_t>(start + i * step));
    return Value::list(std::move(items));
}

void update_dict(DictData& dict, const CallArgs& args, const char* function) {
    if (args.positional.size() > 1) throw_runtime("{} expected at most 1 argument, got {}", function, args.positional.size());
    if (!args.positional.empty()) {
        const Value& source = args.positional.front();
        if (source.is_dict()) {
            for (const auto& [key, value] : source.dict_data().entries()) dict.set(key, value);
        } else {
            for (const Value& pair : iterate(source)) {
                std::vector<Value> kv = iterate(pair);
                if (kv.size() != 2) throw_runtime("dictionary update sequence element has length {}; 2 is required", kv.size());
                dict.set(kv[0], kv[1]);
            }
        }
    }
    for (const auto& [key, value] : args.keyword) dict.set(Value(key), value);
}

Value dict_function(const CallArgs& args) {
    auto dict = std::make_shared<DictData>();
    update_dict(*dict, args, "dict");
    return Value::dict(std::move(dict));
}

// Jinja's namespace(): the one object whose attributes `{% set ns.x = … %}` may change.
class Namespace : public Object {
  public:
    explicit Namespace(const CallArgs& args) : attributes_(std::make_shared<DictData>()) {
        update_dict(*attributes_, args, "namespace");
    }
    std::string type_name() const override { return "Namespace"; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (const Value* value = attributes_->find(name)) return *value;
        return std::nullopt;
    }
    std::optional<Value> item(const Value&) const override { return std::nullopt; }
    bool set_attribute(std::string_view name, Value value) const override {
        check_no_cycle(this, value);
        attributes_->set(Value(std::string(name)), std::move(value));
        return true;
    }
    std::string repr() const override { return "<Namespace " + Value::dict(attributes_).repr() + ">"; }
    void visit_values(const std::function<void(const Value&)>& visit) const override {
        for (const auto& entry : attributes_->entries()) visit(entry.second);
    }

  private:
    std::shared_ptr<DictData> attributes_;
};

// cycler('a', 'b'): .next() walks the items round and round; .current and .reset().
class Cycler : public Object {
  public:
    explicit Cycler(std::vector<Value> items) : items_(std::move(items)) {
        if (items_.empty()) throw_runtime("at least one item has to be provided");
    }
    std::string type_name() const override { return "Cycler"; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "current") return items_[position_];
        if (name == "next" || name == "reset") {
            return Value::object(std::make_shared<Step>(std::static_pointer_cast<const Cycler>(self_.lock()), name == "next"));
        }
        return std::nullopt;
    }
    void bind(const std::shared_ptr<const Cycler>& self) { self_ = self; }

  private:
    class Step : public Object {
      public:
        Step(std::shared_ptr<const Cycler> cycler, bool advance) : cycler_(std::move(cycler)), advance_(advance) {}
        std::string type_name() const override { return "method"; }
        bool callable() const override { return true; }
        Value call(const CallArgs& args) const override {
            expect_no_arguments(advance_ ? "next" : "reset", args);
            if (!advance_) {
                cycler_->position_ = 0;
                return Value();
            }
            Value current = cycler_->items_[cycler_->position_];
            cycler_->position_ = (cycler_->position_ + 1) % cycler_->items_.size();
            return current;
        }

      private:
        std::shared_ptr<const Cycler> cycler_;
        bool advance_;
    };

    std::vector<Value> items_;
    mutable std::size_t position_ = 0;
    std::weak_ptr<const Cycler> self_;
};

// joiner(', '): returns '' the first time it is called, the separator after that.
class Joiner : public Object {
  public:
    explicit Joiner(std::string separator) : separator_(std::move(separator)) {}
    std::string type_name() const override { return "Joiner"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override {
        expect_no_arguments("joiner", args);
        if (!used_) {
            used_ = true;
            return Value("");
        }
        return Value(separator_);
    }

  private:
    std::string separator_;
    mutable bool used_ = false;
};

}  // namespace

FilterFn find_filter(std::string_view name) {
    auto it = table().filters.find(name);
    return it == table().filters.end() ? nullptr : it->second;
}

TestFn find_test(std::string_view name) {
    auto it = table().tests.find(name);
    return it == table().tests.end() ? nullptr : it->second;
}

void add_filter(BuiltinTable& table, std::string_view name, FilterFn fn) { table.filters.emplace(name, fn); }
void add_test(BuiltinTable& table, std::string_view name, TestFn fn) { table.tests.emplace(name, fn); }

std::optional<Value> find_global(std::string_view name) {
    if (name == "range") return Value::object(std::make_shared<Function>("range", range_function));
    if (name == "dict") return Value::object(std::make_shared<Function>("dict", dict_function));
    if (name == "namespace") {
        return Value::object(std::make_shared<Function>("namespace", [](const CallArgs& args) {
            return Value::object(std::make_shared<Namespace>(args));
        }));
    }
    if (name == "cycler") {
        return Value::object(std::make_shared<Function>("cycler", [](const CallArgs& args) {
            if (!args.keyword.empty()) throw_runtime("cycler() takes no keyword arguments");
            auto cycler = std::make_shared<Cycler>(args.positional);
            cycler->bind(cycler);
            return Value::object(cycler);
        }));
    }
    if (name == "joiner") {
        return Value::object(std::make_shared<Function>("joiner", [](const CallArgs& args) {
            Arguments a("joiner", args, {"sep"});
            return Value::object(std::make_shared<Joiner>(a.string(0, ", ")));
        }));
    }
    return std::nullopt;
}

}  // namespace mayaflow::tmpl
