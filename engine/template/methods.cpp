// Methods of str, dict and list values with Python's behaviour: the ones templates call in practice
// ('a,b'.split(','), name.startswith('x'), d.items(), d.get('k', 0), xs.append(1) in {% do %}).

#include <algorithm>
#include <functional>

#include "engine/template/args.h"
#include "engine/template/error.h"
#include "engine/template/lookup.h"
#include "engine/template/operators.h"
#include "engine/template/pyformat.h"
#include "engine/template/pystr.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

using MethodFn = Value (*)(const Value& self, const CallArgs& args);

class BoundMethod : public Object {
  public:
    BoundMethod(Value self, std::string_view name, MethodFn fn) : self_(std::move(self)), name_(name), fn_(fn) {}
    std::string type_name() const override { return "builtin_function_or_method"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return fn_(self_, args); }
    std::string repr() const override {
        return "<built-in method " + std::string(name_) + " of " + self_.type_name() + " object>";
    }

  private:
    Value self_;
    std::string_view name_;
    MethodFn fn_;
};

const std::string& text(const Value& self) { return self.as_string(); }

std::optional<std::string> strip_chars(const Arguments& a) { return a.optional_string(0); }

Value string_list(std::vector<std::string> parts) {
    std::vector<Value> items;
    items.reserve(parts.size());
    for (auto& part : parts) items.emplace_back(std::move(part));
    return Value::list(std::move(items));
}

// startswith/endswith accept a string or a tuple of strings.
bool affix_matches(const Value& self, const CallArgs& args, const char* name, bool prefix) {
    Arguments a(name, args, {"affix", "start", "end"}, 1);
    std::string_view subject = text(self);
    std::int64_t length = static_cast<std::int64_t>(unicode::length(subject));
    std::string window;
    if (a.has(1) || a.has(2)) {
        window = py::slice(subject, py::adjust_slice(a.optional_integer(1), a.optional_integer(2), 1, length));
        subject = window;
    }
    std::vector<Value> candidates;
    if (a[0].is_sequence_kind(SequenceKind::tuple)) {
        candidates = a[0].items();
    } else {
        candidates.push_back(a[0]);
    }
    for (const Value& candidate : candidates) {
        if (candidate.is_undefined()) candidate.fail_undefined();
        if (!candidate.is_string()) {
            throw_runtime("{} first arg must be str or a tuple of str, not {}", name, candidate.type_name());
        }
        const std::string& affix = candidate.as_string();
        if (prefix ? subject.starts_with(affix) : subject.ends_with(affix)) return true;
    }
    return false;
}

std::string join_strings(const std::string& separator, const Value& iterable) {
    std::string out;
    bool first = true;
    for (const Value& item : iterate(iterable)) {
        if (item.is_undefined()) item.fail_undefined();
        if (!item.is_string()) throw_runtime("sequence item: expected str instance, {} found", item.type_name());
        if (!first) out += separator;
        first = false;
        out += item.as_string();
        check_string_size(out.size());
    }
    return out;
}

template <class Predicate>
Value all_chars(const Value& self, Predicate predicate) {
    const std::string& s = text(self);
    if (s.empty()) return Value(false);
    std::size_t pos = 0;
    while (pos < s.size()) {
        if (!predicate(unicode::decode_next(s, pos))) return Value(false);
    }
    return Value(true);
}

std::int64_t find_or_throw(const Value& self, const CallArgs& args, bool from_right, const char* name) {
    Arguments a(name, args, {"sub"}, 1);
    std::string sub = a.string(0, "");
    std::int64_t at = from_right ? py::rfind(text(self), sub) : py::find(text(self), sub);
    return at;
}

Value partition(const Value& self, const CallArgs& args, bool from_right) {
    Arguments a(from_right ? "rpartition" : "partition", args, {"sep"}, 1);
    std::string sep = a.string(0, "");
    if (sep.empty()) throw_runtime("empty separator");
    const std::string& s = text(self);
    std::size_t at = from_right ? s.rfind(sep) : s.find(sep);
    if (at == std::string::npos) {
        return from_right ? Value::tuple({Value(""), Value(""), self}) : Value::tuple({self, Value(""), Value("")});
    }
    return Value::tuple({Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))});
}

const std::unordered_map<std::string_view, MethodFn>& string_methods() {
    static const std::unordered_map<std::string_view, MethodFn> methods = {
        {"upper", [](const Value& s, const CallArgs& args) { expect_no_arguments("upper", args); return Value(py::upper(text(s))); }},
        {"lower", [](const Value& s, const CallArgs& args) { expect_no_arguments("lower", args); return Value(py::lower(text(s))); }},
        {"casefold", [](const Value& s, const CallArgs& args) { expect_no_arguments("casefold", args); return Value(py::lower(text(s))); }},
        {"title", [](const Value& s, const CallArgs& args) { expect_no_arguments("title", args); return Value(py::title(text(s))); }},
        {"capitalize", [](const Value& s, const CallArgs& args) { expect_no_arguments("capitalize", args); return Value(py::capitalize(text(s))); }},
        {"swapcase", [](const Value& s, const CallArgs& args) { expect_no_arguments("swapcase", args); return Value(py::swapcase(text(s))); }},
        {"strip", [](const Value& s, const CallArgs& args) {
             return Value(py::strip(text(s), strip_chars(Arguments("strip", args, {"chars"}))));
         }},
        {"lstrip", [](const Value& s, const CallArgs& args) {
             return Value(py::strip(text(s), strip_chars(Arguments("lstrip", args, {"chars"})), py::StripSide::left));
         }},
        {"rstrip", [](const Value& s, const CallArgs& args) {
             return Value(py::strip(text(s), strip_chars(Arguments("rstrip", args, {"chars"})), py::StripSide::right));
         }},
        {"replace", [](const Value& s, const CallArgs& args) {
             Arguments a("replace", args, {"old", "new", "count"}, 2);
             std::string result = py::replace(text(s), a.string(0, ""), a.string(1, ""), a.integer(2, -1));
             check_string_size(result.size());
             return Value(std::move(result));
         }},
        {"split", [](const Value& s, const CallArgs& args) {
             Arguments a("split", args, {"sep", "maxsplit"});
             return string_list(py::split(text(s), a.optional_string(0), a.integer(1, -1)));
         }},
        {"rsplit", [](const Value& s, const CallArgs& args) {
             Arguments a("rsplit", args, {"sep", "maxsplit"});
             return string_list(py::rsplit(text(s), a.optional_string(0), a.integer(1, -1)));
         }},
        {"splitlines", [](const Value& s, const CallArgs& args) {
             Arguments a("splitlines", args, {"keepends"});
             return string_list(py::splitlines(text(s), a.boolean(0, false)));
         }},
        {"startswith", [](const Value& s, const CallArgs& args) { return Value(affix_matches(s, args, "startswith", true)); }},
        {"endswith", [](const Value& s, const CallArgs& args) { return Value(affix_matches(s, args, "endswith", false)); }},
        {"format", [](const Value& s, const CallArgs& args) { return Value(brace_format(text(s), args)); }},
        {"join", [](const Value& s, const CallArgs& args) {
             Arguments a("join", args, {"iterable"}, 1);
             return Value(join_strings(text(s), a[0]));
         }},
        {"count", [](const Value& s, const CallArgs& args) {
             Arguments a("count", args, {"sub"}, 1);
             return Value(py::count(text(s), a.string(0, "")));
         }},
        {"find", [](const Value& s, const CallArgs& args) { return Value(find_or_throw(s, args, false, "find")); }},
        {"rfind", [](const Value& s, const CallArgs& args) { return Value(find_or_throw(s, args, true, "rfind")); }},
        {"index", [](const Value& s, const CallArgs& args) {
             std::int64_t at = find_or_throw(s, args, false, "index");
             if (at < 0) throw_runtime("substring not found");
             return Value(at);
         }},
        {"rindex", [](const Value& s, const CallArgs& args) {
             std::int64_t at = find_or_throw(s, args, true, "rindex");
             if (at < 0) throw_runtime("substring not found");
             return Value(at);
         }},
        {"isdigit", [](const Value& s, const CallArgs&) { return all_chars(s, unicode::is_digit); }},
        {"isdecimal", [](const Value& s, const CallArgs&) { return all_chars(s, unicode::is_digit); }},
        {"isnumeric", [](const Value& s, const CallArgs&) { return all_chars(s, unicode::is_digit); }},
        {"isalpha", [](const Value& s, const CallArgs&) { return all_chars(s, unicode::is_alpha); }},
        {"isalnum", [](const Value& s, const CallArgs&) {
             return all_chars(s, [](char32_t cp) { return unicode::is_alpha(cp) || unicode::is_digit(cp); });
         }},
        {"isspace", [](const Value& s, const CallArgs&) { return all_chars(s, unicode::is_space); }},
        {"isupper", [](const Value& s, const CallArgs&) { return Value(py::is_upper(text(s))); }},
        {"islower", [](const Value& s, const CallArgs&) { return Value(py::is_lower(text(s))); }},
        {"zfill", [](const Value& s, const CallArgs& args) {
             Arguments a("zfill", args, {"width"}, 1);
             std::int64_t width = a.integer(0, 0);
             check_string_size(static_cast<std::size_t>(std::max<std::int64_t>(width, 0)));
             return Value(py::zfill(text(s), width));
         }},
        {"center", [](const Value& s, const CallArgs& args) {
             Arguments a("center", args, {"width", "fillchar"}, 1);
             check_string_size(static_cast<std::size_t>(std::max<std::int64_t>(a.integer(0, 0), 0)));
             return Value(py::pad(text(s), a.integer(0, 0), a.string(1, " "), '^'));
         }},
        {"ljust", [](const Value& s, const CallArgs& args) {
             Arguments a("ljust", args, {"width", "fillchar"}, 1);
             check_string_size(static_cast<std::size_t>(std::max<std::int64_t>(a.integer(0, 0), 0)));
             return Value(py::pad(text(s), a.integer(0, 0), a.string(1, " "), '<'));
         }},
        {"rjust", [](const Value& s, const CallArgs& args) {
             Arguments a("rjust", args, {"width", "fillchar"}, 1);
             check_string_size(static_cast<std::size_t>(std::max<std::int64_t>(a.integer(0, 0), 0)));
             return Value(py::pad(text(s), a.integer(0, 0), a.string(1, " "), '>'));
         }},
        {"partition", [](const Value& s, const CallArgs& args) { return partition(s, args, false); }},
        {"rpartition", [](const Value& s, const CallArgs& args) { return partition(s, args, true); }},
        {"removeprefix", [](const Value& s, const CallArgs& args) {
             std::string affix = Arguments("removeprefix", args, {"prefix"}, 1).string(0, "");
             const std::string& self = text(s);
             return Value(self.starts_with(affix) ? self.substr(affix.size()) : self);
         }},
        {"removesuffix", [](const Value& s, const CallArgs& args) {
             std::string affix = Arguments("removesuffix", args, {"suffix"}, 1).string(0, "");
             const std::string& self = text(s);
             return Value(self.ends_with(affix) && !affix.empty() ? self.substr(0, self.size() - affix.size()) : self);
         }},
    };
    return methods;
}

Value sequence_index(const Value& self, const CallArgs& args) {
    Arguments a("index", args, {"value"}, 1);
    const auto& items = self.items();
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (equals(items[i], a[0])) return Value(static_cast<std::int64_t>(i));
    }
    throw_runtime("{} is not in list", a[0].repr());
}

Value sequence_count(const Value& self, const CallArgs& args) {
    Arguments a("count", args, {"value"}, 1);
    std::int64_t n = 0;
    for (const Value& item : self.items()) n += equals(item, a[0]) ? 1 : 0;
    return Value(n);
}

const std::unordered_map<std::string_view, MethodFn>& list_methods() {
    static const std::unordered_map<std::string_view, MethodFn> methods = {
        {"index", sequence_index},
        {"count", sequence_count},
        {"append", [](const Value& self, const CallArgs& args) {
             Arguments a("append", args, {"object"}, 1);
             ListData& list = self.mutable_list();
             check_no_cycle(&list, a[0]);
             check_list_size(list.items.size() + 1);
             list.items.push_back(a[0]);
             return Value();
         }},
        {"extend", [](const Value& self, const CallArgs& args) {
             Arguments a("extend", args, {"iterable"}, 1);
             ListData& list = self.mutable_list();
             std::vector<Value> added = iterate(a[0]);
             check_list_size(list.items.size() + added.size());
             for (const Value& item : added) check_no_cycle(&list, item);
             list.items.insert(list.items.end(), added.begin(), added.end());
             return Value();
         }},
        {"insert", [](const Value& self, const CallArgs& args) {
             Arguments a("insert", args, {"index", "object"}, 2);
             ListData& list = self.mutable_list();
             check_no_cycle(&list, a[1]);
             check_list_size(list.items.size() + 1);
             std::int64_t size = static_cast<std::int64_t>(list.items.size());
             std::int64_t at = a.integer(0, 0);
             if (at < 0) at = std::max<std::int64_t>(at + size, 0);
             at = std::min(at, size);
             list.items.insert(list.items.begin() + at, a[1]);
             return Value();
         }},
        {"pop", [](const Value& self, const CallArgs& args) {
             Arguments a("pop", args, {"index"});
             ListData& list = self.mutable_list();
             std::int64_t size = static_cast<std::int64_t>(list.items.size());
             if (size == 0) throw_runtime("pop from empty list");
             std::int64_t at = a.integer(0, -1);
             if (at < 0) at += size;
             if (at < 0 || at >= size) throw_runtime("pop index out of range");
             Value popped = list.items[static_cast<std::size_t>(at)];
             list.items.erase(list.items.begin() + at);
             return popped;
         }},
        {"remove", [](const Value& self, const CallArgs& args) {
             Arguments a("remove", args, {"value"}, 1);
             ListData& list = self.mutable_list();
             for (auto it = list.items.begin(); it != list.items.end(); ++it) {
                 if (equals(*it, a[0])) {
                     list.items.erase(it);
                     return Value();
                 }
             }
             throw_runtime("list.remove(x): x not in list");
         }},
        {"reverse", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("reverse", args);
             ListData& list = self.mutable_list();
             std::reverse(list.items.begin(), list.items.end());
             return Value();
         }},
        {"sort", [](const Value& self, const CallArgs& args) {
             Arguments a("sort", args, {"reverse"});
             ListData& list = self.mutable_list();
             std::vector<Value> sorted = list.items;
             bool reverse = a.boolean(0, false);
             std::stable_sort(sorted.begin(), sorted.end(), [reverse](const Value& x, const Value& y) {
                 return reverse ? less_than(y, x) : less_than(x, y);
             });
             list.items = std::move(sorted);
             return Value();
         }},
        {"copy", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("copy", args);
             return Value::list(self.items());
         }},
        {"clear", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("clear", args);
             self.mutable_list().items.clear();
             return Value();
         }},
    };
    return methods;
}

Value dict_view(const Value& self, SequenceKind kind) {
    std::vector<Value> items;
    items.reserve(self.dict_data().size());
    for (const auto& [key, value] : self.dict_data().entries()) {
        if (kind == SequenceKind::dict_keys) items.push_back(key);
        else if (kind == SequenceKind::dict_values) items.push_back(value);
        else items.push_back(Value::tuple({key, value}));
    }
    return Value::list(std::move(items), kind);
}

const std::unordered_map<std::string_view, MethodFn>& dict_methods() {
    static const std::unordered_map<std::string_view, MethodFn> methods = {
        {"items", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("items", args);
             return dict_view(self, SequenceKind::dict_items);
         }},
        {"keys", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("keys", args);
             return dict_view(self, SequenceKind::dict_keys);
         }},
        {"values", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("values", args);
             return dict_view(self, SequenceKind::dict_values);
         }},
        {"get", [](const Value& self, const CallArgs& args) {
             Arguments a("get", args, {"key", "default"}, 1);
             const Value* found = self.dict_data().find(a[0]);
             return found != nullptr ? *found : a.get(1, Value());
         }},
        {"pop", [](const Value& self, const CallArgs& args) {
             Arguments a("pop", args, {"key", "default"}, 1);
             DictData& dict = self.mutable_dict();
             const Value* found = dict.find(a[0]);
             if (found == nullptr) {
                 if (a.has(1)) return a[1];
                 throw_runtime("KeyError: {}", a[0].repr());
             }
             Value popped = *found;
             dict.erase(a[0]);
             return popped;
         }},
        {"setdefault", [](const Value& self, const CallArgs& args) {
             Arguments a("setdefault", args, {"key", "default"}, 1);
             if (const Value* found = self.dict_data().find(a[0])) return *found;
             DictData& dict = self.mutable_dict();
             Value value = a.get(1, Value());
             check_no_cycle(&dict, value);
             dict.set(a[0], value);
             return value;
         }},
        {"update", [](const Value& self, const CallArgs& args) {
             CallArgs positional_only{args.positional, {}};
             Arguments a("update", positional_only, {"other"});
             DictData& dict = self.mutable_dict();
             auto put = [&dict](const Value& key, const Value& value) {
                 check_no_cycle(&dict, value);
                 dict.set(key, value);
             };
             if (a.has(0)) {
                 const Value& other = a[0];
                 if (other.is_dict()) {
                     for (const auto& [key, value] : other.dict_data().entries()) put(key, value);
                 } else {
                     for (const Value& pair : iterate(other)) {
                         std::vector<Value> kv = iterate(pair);
                         if (kv.size() != 2) throw_runtime("dictionary update sequence element has length {}; 2 is required", kv.size());
                         put(kv[0], kv[1]);
                     }
                 }
             }
             for (const auto& [key, value] : args.keyword) put(Value(key), value);
             return Value();
         }},
        {"copy", [](const Value& self, const CallArgs& args) {
             expect_no_arguments("copy", args);
             auto copy = std::make_shared<DictData>();
             for (const auto& [key, value] : self.dict_data().entries()) copy->set(key, value);
             return Value::dict(std::move(copy));
         }},
    };
    return methods;
}

}  // namespace

std::optional<Value> builtin_method(const Value& self, std::string_view name) {
    const std::unordered_map<std::string_view, MethodFn>* table = nullptr;
    if (self.is_string()) {
        table = &string_methods();
    } else if (self.is_dict()) {
        table = &dict_methods();
    } else if (self.is_list()) {
        SequenceKind kind = self.list_data().kind;
        if (kind == SequenceKind::list) {
            table = &list_methods();
        } else if (kind == SequenceKind::tuple && (name == "index" || name == "count")) {
            table = &list_methods();
        }
    }
    if (table == nullptr) return std::nullopt;
    auto it = table->find(name);
    if (it == table->end()) return std::nullopt;
    return Value::object(std::make_shared<BoundMethod>(self, it->first, it->second));
}

}  // namespace mayaflow::tmpl
