// Jinja's filters on sequences and mappings: length, first, join, sort, unique, map, select, sum ...
// Where Jinja returns a lazy iterator (map, select, unique, reverse) these return a list.

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <unordered_set>

#include "engine/template/args.h"
#include "engine/template/builtins.h"
#include "engine/template/error.h"
#include "engine/template/lookup.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"
#include "engine/template/renderer.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

std::vector<Value> items_of(Renderer& renderer, const Value& value) {
    std::vector<Value> items = iterate(value);
    renderer.charge(items.size());
    return items;
}

// Jinja's make_attrgetter: "a.b.0" looks up a, then b, then item 0, with Jinja's item rules.
std::vector<Value> attribute_path(const Value& attribute) {
    if (attribute.is_none()) return {};
    if (!attribute.is_string()) return {attribute};
    std::vector<Value> parts;
    for (const auto& part : py::split(attribute.as_string(), std::string_view("."))) {
        bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
        if (digits) {
            auto n = py::parse_int(part);
            if (!n) throw_runtime("attribute index {} is too large", part);
            parts.emplace_back(*n);
        } else {
            parts.emplace_back(part);
        }
    }
    return parts;
}

Value lookup_path(Value item, const std::vector<Value>& path, const Value* fallback = nullptr) {
    for (const Value& part : path) {
        item = get_item(item, part);
        if (fallback != nullptr && item.is_undefined()) item = *fallback;
    }
    return item;
}

Value ignore_case(const Value& value) {
    if (value.is_string()) return Value(py::lower(value.as_string()));
    return value;
}

Value length(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("length", args);
    return Value(static_cast<std::int64_t>(length_of(input)));
}

Value first(Renderer& renderer, const Value& input, const CallArgs& args) {
    expect_no_arguments("first", args);
    if (input.is_list() && !input.items().empty()) return input.items().front();
    if (input.is_string() && !input.as_string().empty()) return Value(*py::char_at(input.as_string(), 0));
    std::vector<Value> items = items_of(renderer, input);
    if (items.empty()) return Value::undefined("No first item, sequence was empty.");
    return items.front();
}

Value last(Renderer& renderer, const Value& input, const CallArgs& args) {
    expect_no_arguments("last", args);
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_list() && !input.is_dict() && !input.is_string()) {
        throw_runtime("'{}' object is not reversible", input.type_name());
    }
    if (input.is_list() && !input.items().empty()) return input.items().back();
    if (input.is_string() && !input.as_string().empty()) return Value(*py::char_at(input.as_string(), -1));
    std::vector<Value> items = items_of(renderer, input);
    if (items.empty()) return Value::undefined("No last item, sequence was empty.");
    return items.back();
}

Value list(Renderer& renderer, const Value& input, const CallArgs& args) {
    expect_no_arguments("list", args);
    return Value::list(items_of(renderer, input));
}

Value join(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("join", args, {"d", "attribute"});
    std::string separator = a.has(0) ? a[0].str() : "";
    std::vector<Value> path = a.has(1) ? attribute_path(a[1]) : std::vector<Value>{};
    std::string out;
    bool first_item = true;
    for (const Value& item : items_of(renderer, input)) {
        if (!first_item) out += separator;
        first_item = false;
        lookup_path(item, path).append_str(out);
        check_string_size(out.size());
    }
    return Value(std::move(out));
}

// The sort key of Jinja's sort filter: a list of the (case-folded) attributes named in "a,b".
Value multi_key(const Value& item, const std::vector<std::vector<Value>>& paths, bool case_sensitive) {
    std::vector<Value> key;
    for (const auto& path : paths) {
        Value part = lookup_path(item, path);
        key.push_back(case_sensitive ? part : ignore_case(part));
    }
    return Value::list(std::move(key));
}

std::vector<Value> sorted_by(std::vector<Value> items, std::vector<Value> keys, bool reverse) {
    std::vector<std::size_t> order(items.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return reverse ? less_than(keys[y], keys[x]) : less_than(keys[x], keys[y]);
    });
    std::vector<Value> out;
    out.reserve(items.size());
    for (std::size_t i : order) out.push_back(std::move(items[i]));
    return out;
}

Value sort(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("sort", args, {"reverse", "case_sensitive", "attribute"});
    std::vector<std::vector<Value>> paths;
    if (a.has(2) && a[2].is_string()) {
        for (const auto& part : py::split(a[2].as_string(), std::string_view(","))) paths.push_back(attribute_path(Value(part)));
    } else {
        paths.push_back(attribute_path(a.get(2, Value())));
    }
    bool case_sensitive = a.boolean(1, false);
    std::vector<Value> items = items_of(renderer, input);
    std::vector<Value> keys;
    keys.reserve(items.size());
    for (const Value& item : items) keys.push_back(multi_key(item, paths, case_sensitive));
    return Value::list(sorted_by(std::move(items), std::move(keys), a.boolean(0, false)));
}

Value dictsort(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("dictsort", args, {"case_sensitive", "by", "reverse"});
    std::string by = a.string(1, "key");
    if (by != "key" && by != "value") throw_runtime("You can only sort by either \"key\" or \"value\"");
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_dict()) throw_runtime("'{}' object has no attribute 'items'", input.type_name());
    std::vector<Value> items;
    std::vector<Value> keys;
    renderer.charge(input.dict_data().size());
    for (const auto& [key, value] : input.dict_data().entries()) {
        items.push_back(Value::tuple({key, value}));
        const Value& sort_by = by == "key" ? key : value;
        keys.push_back(a.boolean(0, false) ? sort_by : ignore_case(sort_by));
    }
    return Value::list(sorted_by(std::move(items), std::move(keys), a.boolean(2, false)));
}

Value unique(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("unique", args, {"case_sensitive", "attribute"});
    bool case_sensitive = a.boolean(0, false);
    std::vector<Value> path = attribute_path(a.get(1, Value()));
    std::unordered_set<std::string> seen;
    std::vector<Value> out;
    for (const Value& item : items_of(renderer, input)) {
        Value key = lookup_path(item, path);
        if (!case_sensitive) key = ignore_case(key);
        if (seen.insert(hash_key(key)).second) out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value reverse(Renderer& renderer, const Value& input, const CallArgs& args) {
    expect_no_arguments("reverse", args);
    if (input.is_string()) {
        const std::string& text = input.as_string();
        return Value(py::slice(text, py::adjust_slice(std::nullopt, std::nullopt, -1, static_cast<std::int64_t>(unicode::length(text)))));
    }
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_list() && !input.is_dict()) throw_runtime("argument must be iterable");
    std::vector<Value> items = items_of(renderer, input);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
}

Value sum(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("sum", args, {"attribute", "start"});
    std::vector<Value> path = attribute_path(a.get(0, Value()));
    Value total = a.get(1, Value(0));
    if (total.is_string()) throw_runtime("sum() can't sum strings [use ''.join(seq) instead]");
    for (const Value& item : items_of(renderer, input)) {
        total = binary_op(BinaryOp::add, total, lookup_path(item, path));
        // Adding lists copies the total each time: charge for each item copied, or a sum of lists
        // costs the square of its length.
        if (total.is_list()) renderer.charge(total.items().size());
    }
    return total;
}

Value min_or_max(Renderer& renderer, const Value& input, const CallArgs& args, bool want_max) {
    Arguments a(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
    bool case_sensitive = a.boolean(0, false);
    std::vector<Value> path = attribute_path(a.get(1, Value()));
    std::vector<Value> items = items_of(renderer, input);
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    auto key_of = [&](const Value& item) {
        Value key = lookup_path(item, path);
        return case_sensitive ? key : ignore_case(key);
    };
    std::size_t best = 0;
    Value best_key = key_of(items[0]);
    for (std::size_t i = 1; i < items.size(); ++i) {
        Value key = key_of(items[i]);
        if (want_max ? less_than(best_key, key) : less_than(key, best_key)) {
            best = i;
            best_key = std::move(key);
        }
    }
    return items[best];
}

Value min(Renderer& r, const Value& input, const CallArgs& args) { return min_or_max(r, input, args, false); }
Value max(Renderer& r, const Value& input, const CallArgs& args) { return min_or_max(r, input, args, true); }

Value map(Renderer& renderer, const Value& input, const CallArgs& args) {
    std::vector<Value> items = items_of(renderer, input);
    std::vector<Value> out;
    out.reserve(items.size());
    auto attribute = std::find_if(args.keyword.begin(), args.keyword.end(), [](const auto& kw) { return kw.first == "attribute"; });
    if (args.positional.empty() && attribute != args.keyword.end()) {
        std::vector<Value> path = attribute_path(attribute->second);
        std::optional<Value> fallback;
        for (const auto& [key, value] : args.keyword) {
            if (key == "default") fallback = value;
            else if (key != "attribute") throw_runtime("Unexpected keyword argument '{}'", key);
        }
        for (const Value& item : items) out.push_back(lookup_path(item, path, fallback && !fallback->is_none() ? &*fallback : nullptr));
        return Value::list(std::move(out));
    }
    if (args.positional.empty()) throw_runtime("map requires a filter argument");
    std::string name = args.positional.front().str();
    CallArgs rest{std::vector<Value>(args.positional.begin() + 1, args.positional.end()), args.keyword};
    for (const Value& item : items) out.push_back(renderer.apply_filter(name, item, rest));
    return Value::list(std::move(out));
}

Value select_or_reject(Renderer& renderer, const Value& input, const CallArgs& args, bool select, bool by_attribute) {
    if (!input.truthy()) return Value::list({});
    std::size_t offset = 0;
    std::vector<Value> path;
    if (by_attribute) {
        if (args.positional.empty()) throw_runtime("Missing parameter for attribute name");
        path = attribute_path(args.positional.front());
        offset = 1;
    }
    std::optional<std::string> test;
    CallArgs test_args;
    if (args.positional.size() > offset) {
        test = args.positional[offset].str();
        test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(offset) + 1, args.positional.end());
        test_args.keyword = args.keyword;
    }
    std::vector<Value> out;
    for (const Value& item : items_of(renderer, input)) {
        Value subject = lookup_path(item, path);
        bool passed = test ? renderer.apply_test(*test, subject, test_args) : subject.truthy();
        if (passed == select) out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value select(Renderer& r, const Value& v, const CallArgs& a) { return select_or_reject(r, v, a, true, false); }
Value reject(Renderer& r, const Value& v, const CallArgs& a) { return select_or_reject(r, v, a, false, false); }
Value selectattr(Renderer& r, const Value& v, const CallArgs& a) { return select_or_reject(r, v, a, true, true); }
Value rejectattr(Renderer& r, const Value& v, const CallArgs& a) { return select_or_reject(r, v, a, false, true); }

Value batch(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("batch", args, {"linecount", "fill_with"}, 1);
    std::int64_t count = a.integer(0, 1);
    if (count <= 0) throw_runtime("batch size must be positive");
    const bool fills = a.has(1) && !a[1].is_none();
    // The last row is filled up to `count` items: a row that long must be allowed before it is made.
    if (fills) {
        check_list_size(static_cast<std::size_t>(count));
        renderer.charge(static_cast<std::size_t>(count));
    }
    std::vector<Value> rows;
    std::vector<Value> row;
    for (const Value& item : items_of(renderer, input)) {
        if (static_cast<std::int64_t>(row.size()) == count) {
            rows.push_back(Value::list(std::move(row)));
            row.clear();
        }
        row.push_back(item);
    }
    if (!row.empty()) {
        if (fills) {
            while (static_cast<std::int64_t>(row.size()) < count) row.push_back(a[1]);
        }
        rows.push_back(Value::list(std::move(row)));
    }
    return Value::list(std::move(rows));
}

Value slice(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("slice", args, {"slices", "fill_with"}, 1);
    std::int64_t slices = a.integer(0, 1);
    if (slices <= 0) throw_runtime("integer division or modulo by zero");
    check_list_size(static_cast<std::size_t>(slices));
    renderer.charge(static_cast<std::size_t>(slices));
    std::vector<Value> items = items_of(renderer, input);
    auto length = static_cast<std::int64_t>(items.size());
    std::int64_t per_slice = length / slices;
    std::int64_t with_extra = length % slices;
    std::int64_t offset = 0;
    std::vector<Value> out;
    for (std::int64_t n = 0; n < slices; ++n) {
        std::int64_t start = offset + n * per_slice;
        if (n < with_extra) ++offset;
        std::int64_t end = offset + (n + 1) * per_slice;
        std::vector<Value> part(items.begin() + start, items.begin() + end);
        if (a.has(1) && !a[1].is_none() && n >= with_extra) part.push_back(a[1]);
        out.push_back(Value::list(std::move(part)));
    }
    return Value::list(std::move(out));
}

Value groupby(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("groupby", args, {"attribute", "default", "case_sensitive"}, 1);
    std::vector<Value> path = attribute_path(a[0]);
    Value fallback = a.get(1, Value());
    bool case_sensitive = a.boolean(2, false);
    auto key_of = [&](const Value& item) {
        Value key = lookup_path(item, path, fallback.is_none() ? nullptr : &fallback);
        return case_sensitive ? key : ignore_case(key);
    };
    std::vector<Value> items = items_of(renderer, input);
    std::vector<Value> keys;
    for (const Value& item : items) keys.push_back(key_of(item));
    std::vector<std::size_t> order(items.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return less_than(keys[x], keys[y]); });
    std::vector<Value> groups;
    std::size_t i = 0;
    while (i < order.size()) {
        std::vector<Value> members{items[order[i]]};
        std::size_t j = i + 1;
        while (j < order.size() && equals(keys[order[j]], keys[order[i]])) members.push_back(items[order[j++]]);
        Value grouper = lookup_path(items[order[i]], path, fallback.is_none() ? nullptr : &fallback);
        groups.push_back(Value::tuple({grouper, Value::list(std::move(members))}));
        i = j;
    }
    return Value::list(std::move(groups));
}

Value items_filter(Renderer& renderer, const Value& input, const CallArgs& args) {
    expect_no_arguments("items", args);
    if (input.is_undefined()) return Value::list({});
    if (!input.is_dict()) throw_runtime("Can only get item pairs from a mapping.");
    renderer.charge(input.dict_data().size());
    std::vector<Value> out;
    for (const auto& [key, value] : input.dict_data().entries()) out.push_back(Value::tuple({key, value}));
    return Value::list(std::move(out));
}

Value random_item(Renderer& renderer, const Value& input, const CallArgs& args) {
    expect_no_arguments("random", args);
    std::vector<Value> items = items_of(renderer, input);
    if (items.empty()) return Value::undefined("No random item, sequence was empty.");
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(generator)];
}

}  // namespace

void add_sequence_filters(BuiltinTable& table) {
    add_filter(table, "length", length);
    add_filter(table, "count", length);
    add_filter(table, "first", first);
    add_filter(table, "last", last);
    add_filter(table, "list", list);
    add_filter(table, "join", join);
    add_filter(table, "sort", sort);
    add_filter(table, "dictsort", dictsort);
    add_filter(table, "unique", unique);
    add_filter(table, "reverse", reverse);
    add_filter(table, "sum", sum);
    add_filter(table, "min", min);
    add_filter(table, "max", max);
    add_filter(table, "map", map);
    add_filter(table, "select", select);
    add_filter(table, "reject", reject);
    add_filter(table, "selectattr", selectattr);
    add_filter(table, "rejectattr", rejectattr);
    add_filter(table, "batch", batch);
    add_filter(table, "slice", slice);
    add_filter(table, "groupby", groupby);
    add_filter(table, "items", items_filter);
    add_filter(table, "random", random_item);
}

}  // namespace mayaflow::tmpl
