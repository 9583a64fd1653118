// Jinja's filters on text: upper, lower, title, trim, replace, truncate, indent, format, escape ...

#include <fmt/format.h>

#include <cmath>

#include "engine/template/args.h"
#include "engine/template/builtins.h"
#include "engine/template/error.h"
#include "engine/template/operators.h"
#include "engine/template/pyformat.h"
#include "engine/template/pystr.h"
#include "engine/template/renderer.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

// Jinja's soft_str(): str() of the value (failing for undefined values).
std::string text_of(const Value& value) { return value.str(); }

Value upper(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("upper", args);
    return Value(py::upper(text_of(input)));
}

Value lower(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("lower", args);
    return Value(py::lower(text_of(input)));
}

Value capitalize(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("capitalize", args);
    return Value(py::capitalize(text_of(input)));
}

bool is_word_boundary(char32_t cp) {
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || unicode::is_space(cp);
}

// Jinja's title filter (not str.title): words start after '-', whitespace or an opening bracket.
Value title(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("title", args);
    std::u32string points = unicode::decode(text_of(input));
    std::u32string out;
    bool word_start = true;
    for (char32_t cp : points) {
        if (is_word_boundary(cp)) {
            out.push_back(cp);
            word_start = true;
        } else if (word_start) {
            unicode::append_upper(out, cp);
            word_start = false;
        } else {
            out.push_back(unicode::to_lower(cp));
        }
    }
    return Value(unicode::encode(out));
}

Value trim(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("trim", args, {"chars"});
    return Value(py::strip(text_of(input), a.optional_string(0)));
}

Value replace(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("replace", args, {"old", "new", "count"}, 2);
    // py::replace refuses a result over the size limit before building it.
    return Value(py::replace(text_of(input), a[0].str(), a[1].str(), a.optional_integer(2).value_or(-1)));
}

Value center(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("center", args, {"width"});
    std::int64_t width = a.integer(0, 80);
    return Value(py::pad(text_of(input), width, " ", '^'));
}

Value truncate(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("truncate", args, {"length", "killwords", "end", "leeway"});
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_string()) throw_runtime("truncate expects a string, not '{}'", input.type_name());
    std::string text = input.as_string();
    std::int64_t length = a.integer(0, 255);
    bool killwords = a.boolean(1, false);
    std::string end = a.string(2, "...");
    std::int64_t leeway = a.optional_integer(3).value_or(5);
    auto end_length = static_cast<std::int64_t>(unicode::length(end));
    if (length < end_length) throw_runtime("expected length >= {}, got {}", end_length, length);
    if (leeway < 0) throw_runtime("expected leeway >= 0, got {}", leeway);
    auto text_length = static_cast<std::int64_t>(unicode::length(text));
    if (text_length <= length + leeway) return Value(text);
    std::string head = py::slice(text, py::adjust_slice(0, length - end_length, 1, text_length));
    if (killwords) return Value(head + end);
    return Value(py::rsplit(head, std::string_view(" "), 1).front() + end);
}

Value wordcount(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("wordcount", args);
    std::string text = text_of(input);
    std::int64_t words = 0;
    bool in_word = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = unicode::decode_next(text, pos);
        bool word_char = unicode::is_alpha(cp) || unicode::is_digit(cp) || cp == '_';
        if (word_char && !in_word) ++words;
        in_word = word_char;
    }
    return Value(words);
}

Value indent(Renderer& renderer, const Value& input, const CallArgs& args) {
    Arguments a("indent", args, {"width", "first", "blank"});
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_string()) throw_runtime("unsupported operand type(s) for +=: '{}' and 'str'", input.type_name());
    std::string indentation;
    if (a.has(0) && a[0].is_string()) {
        indentation = a[0].as_string();
    } else {
        std::int64_t width = a.integer(0, 4);
        indentation = py::repeat(" ", width);
    }
    const bool first = a.boolean(1, false);
    const bool blank = a.boolean(2, false);
    // Jinja: the text plus "\n", split into lines, joined again with each line but the first (and
    // blank ones, unless `blank`) indented. The size is added up before anything is built.
    const std::string text = input.as_string() + "\n";
    auto indented = [&](std::size_t index, std::string_view line) { return index > 0 && (blank || !line.empty()); };
    std::size_t lines = 0;
    std::size_t size = first ? indentation.size() : 0;
    py::for_each_line(text, false, [&](std::string_view line) {
        size += line.size() + (lines > 0 ? 1 : 0) + (indented(lines, line) ? indentation.size() : 0);
        ++lines;
        return size <= kMaxStringBytes;
    });
    check_string_size(size);
    renderer.charge(lines);
    std::string out;
    out.reserve(size);
    if (first) out = indentation;
    std::size_t index = 0;
    py::for_each_line(text, false, [&](std::string_view line) {
        if (index > 0) out += "\n";
        if (indented(index, line)) out += indentation;
        out += line;
        ++index;
        return true;
    });
    return Value(std::move(out));
}

Value format(Renderer&, const Value& input, const CallArgs& args) {
    if (!args.positional.empty() && !args.keyword.empty()) {
        throw_runtime("can't handle positional and keyword arguments at the same time");
    }
    std::string format_text = text_of(input);
    if (!args.keyword.empty()) {
        auto dict = std::make_shared<DictData>();
        for (const auto& [key, value] : args.keyword) dict->set(Value(key), value);
        return Value(percent_format(format_text, Value::dict(std::move(dict))));
    }
    return Value(percent_format(format_text, Value::tuple(args.positional)));
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

Value escape(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("escape", args);
    return Value(html_escape(text_of(input)));
}

Value safe(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("safe", args);
    return Value(text_of(input));
}

Value string(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("string", args);
    return Value(text_of(input));
}

Value striptags(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("striptags", args);
    std::string text = text_of(input);
    std::string without_tags;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 4, "<!--") == 0) {
            std::size_t end = text.find("-->", i + 4);
            if (end == std::string::npos) break;
            i = end + 3;
        } else if (text[i] == '<' && text.find('>', i) != std::string::npos) {
            i = text.find('>', i) + 1;
        } else {
            without_tags.push_back(text[i++]);
        }
    }
    std::vector<std::string> words = py::split(without_tags, std::nullopt);
    std::string joined;
    for (std::size_t k = 0; k < words.size(); ++k) joined += (k ? " " : "") + words[k];
    static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
    for (const auto& [entity, replacement] : kEntities) joined = py::replace(joined, entity, replacement);
    return Value(joined);
}

std::string url_quote(std::string_view text, bool for_query) {
    std::string out;
    for (unsigned char c : text) {
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || c == '~' || (c == '/' && !for_query);
        if (safe) {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ' && for_query) {
            out.push_back('+');
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

Value urlencode(Renderer&, const Value& input, const CallArgs& args) {
    expect_no_arguments("urlencode", args);
    if (input.is_undefined()) input.fail_undefined();
    if (!input.is_list() && !input.is_dict()) return Value(url_quote(input.str(), false));
    std::vector<Value> pairs;
    if (input.is_dict()) {
        for (const auto& [key, value] : input.dict_data().entries()) pairs.push_back(Value::tuple({key, value}));
    } else {
        pairs = input.items();
    }
    std::string out;
    for (const Value& pair : pairs) {
        std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2) throw_runtime("urlencode expects (key, value) pairs");
        if (!out.empty()) out += "&";
        out += url_quote(kv[0].str(), true) + "=" + url_quote(kv[1].str(), true);
    }
    return Value(out);
}

Value filesizeformat(Renderer&, const Value& input, const CallArgs& args) {
    Arguments a("filesizeformat", args, {"binary"});
    bool binary = a.boolean(0, false);
    double bytes = 0;
    if (input.is_undefined()) input.fail_undefined();
    if (input.is_number()) {
        bytes = input.as_double();
    } else if (auto parsed = input.is_string() ? py::parse_float(input.as_string()) : std::nullopt) {
        bytes = *parsed;
    } else {
        throw_runtime("could not convert {} to float", input.repr());
    }
    double base = binary ? 1024 : 1000;
    static constexpr const char* kDecimal[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    static constexpr const char* kBinary[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
    if (bytes == 1) return Value("1 Byte");
    if (bytes < base) return Value(fmt::format("{} Bytes", static_cast<std::int64_t>(bytes)));
    double unit = base;
    for (int i = 0; i < 8; ++i) {
        unit = std::pow(base, i + 2);
        if (bytes < unit || i == 7) {
            return Value(fmt::format("{:.1f} {}", base * bytes / unit, binary ? kBinary[i] : kDecimal[i]));
        }
    }
    return Value();
}

}  // namespace

void add_text_filters(BuiltinTable& table) {
    add_filter(table, "upper", upper);
    add_filter(table, "lower", lower);
    add_filter(table, "capitalize", capitalize);
    add_filter(table, "title", title);
    add_filter(table, "trim", trim);
    add_filter(table, "replace", replace);
    add_filter(table, "center", center);
    add_filter(table, "truncate", truncate);
    add_filter(table, "wordcount", wordcount);
    add_filter(table, "indent", indent);
    add_filter(table, "format", format);
    add_filter(table, "escape", escape);
    add_filter(table, "e", escape);
    add_filter(table, "forceescape", escape);
    add_filter(table, "safe", safe);
    add_filter(table, "string", string);
    add_filter(table, "striptags", striptags);
    add_filter(table, "urlencode", urlencode);
    add_filter(table, "filesizeformat", filesizeformat);
}

}  // namespace mayaflow::tmpl
