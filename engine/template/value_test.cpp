// Values print, compare and convert as Python's do (expected texts are what CPython 3.11 prints).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "engine/template/error.h"
#include "engine/template/pyformat.h"
#include "engine/template/pystr.h"
#include "engine/template/template.h"

namespace mayaflow::tmpl {
namespace {

TEST_CASE("Floats print as Python's repr", "[template][value]") {
    const std::pair<double, const char*> cases[] = {
        {1.0, "1.0"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {2.5, "2.5"},
        {100.0, "100.0"},
        {1e20, "1e+20"},
        {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {1.5e-7, "1.5e-07"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {-0.0, "-0.0"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-2.75, "-2.75"},
        {std::numeric_limits<double>::infinity(), "inf"},
        {-std::numeric_limits<double>::infinity(), "-inf"},
        {std::numeric_limits<double>::quiet_NaN(), "nan"},
    };
    for (const auto& [value, text] : cases) {
        CAPTURE(text);
        CHECK(Value(value).str() == text);
    }
}

TEST_CASE("Strings repr with Python's quoting", "[template][value]") {
    const std::pair<const char*, const char*> cases[] = {
        {"a", "'a'"},
        {"it's", "\"it's\""},
        {"say \"hi\"", "'say \"hi\"'"},
        {"both ' \"", "'both \\' \"'"},
        {"tab\tnew\nline\\", "'tab\\tnew\\nline\\\\'"},
        {"\x01\x7f", "'\\x01\\x7f'"},
        {"caf\xc3\xa9 \xe6\x97\xa5", "'caf\xc3\xa9 \xe6\x97\xa5'"},
        {"nb\xc2\xa0sp", "'nb\\xa0sp'"},
        {"ls\xe2\x80\xa8", "'ls\\u2028'"},
        {"", "''"},
    };
    for (const auto& [text, repr] : cases) {
        CAPTURE(text);
        CHECK(Value(text).repr() == repr);
    }
}

TEST_CASE("Containers and scalars print as Python's str", "[template][value]") {
    CHECK(Value().str() == "None");
    CHECK(Value(true).str() == "True");
    CHECK(Value(false).repr() == "False");
    CHECK(Value(-42).str() == "-42");
    CHECK(Value::list({Value("a"), Value(1), Value(true), Value()}).str() == "['a', 1, True, None]");
    CHECK(Value::tuple({Value(1)}).str() == "(1,)");
    CHECK(Value::tuple({}).str() == "()");
    auto dict = std::make_shared<DictData>();
    dict->set(Value("b"), Value(1));
    dict->set(Value(2), Value::list({Value(0.5)}));
    CHECK(Value::dict(dict).str() == "{'b': 1, 2: [0.5]}");
    CHECK(Value::undefined("'x' is undefined").repr() == "Undefined");
    CHECK_THROWS_AS(Value::undefined("'x' is undefined").str(), TemplateError);
}

TEST_CASE("JSON converts both ways and keeps key order", "[template][value]") {
    auto ordered = nlohmann::ordered_json::parse(R"({"z": 1, "a": [true, null, 1.5, "s"], "m": {"k": -3}})");
    Value value = Value::from_json(ordered);
    CHECK(value.str() == "{'z': 1, 'a': [True, None, 1.5, 's'], 'm': {'k': -3}}");
    CHECK(value.to_json() == nlohmann::json::parse(R"({"z": 1, "a": [true, null, 1.5, "s"], "m": {"k": -3}})"));
    CHECK(Value::from_json(nlohmann::json::parse(R"({"z": 1, "a": 2})")).str() == "{'a': 2, 'z': 1}");
    CHECK(Value::from_json(nlohmann::json(18446744073709551615ull)).str() == "1.8446744073709552e+19");
    CHECK(Value::from_json(nlohmann::json(1.0)).str() == "1.0");
    CHECK(Value::tuple({Value(1), Value("x")}).to_json() == nlohmann::json::parse(R"([1, "x"])"));
}

TEST_CASE("Equality and dict keys follow Python", "[template][value]") {
    CHECK(equals(Value(1), Value(1.0)));
    CHECK(equals(Value(true), Value(1)));
    CHECK_FALSE(equals(Value("1"), Value(1)));
    CHECK_FALSE(equals(Value::list({Value(1)}), Value::tuple({Value(1)})));
    CHECK(equals(Value::list({Value(1), Value("a")}), Value::list({Value(1.0), Value("a")})));
    CHECK_FALSE(equals(Value(std::nan("")), Value(std::nan(""))));
    CHECK_THROWS_AS(equals(Value::undefined("'x' is undefined"), Value(1)), TemplateError);

    DictData dict;
    dict.set(Value(1), Value("int"));
    dict.set(Value(1.0), Value("float"));
    dict.set(Value(true), Value("bool"));
    dict.set(Value::tuple({Value(1), Value("a")}), Value("tuple"));
    CHECK(dict.size() == 2);
    CHECK(dict.find(Value(1))->str() == "bool");
    CHECK(dict.find(Value::tuple({Value(1.0), Value("a")}))->str() == "tuple");
    CHECK(dict.find(Value("1")) == nullptr);
    CHECK_THROWS_AS(dict.find(Value::list({})), TemplateError);
    CHECK(dict.erase(Value(1)));
    CHECK(dict.size() == 1);
}

TEST_CASE("Values in a Context are read-only to templates", "[template][value]") {
    Value list = Value::list({Value(1)});
    CHECK_NOTHROW(list.mutable_list().items.push_back(Value(2)));
    Context context;
    context.set("xs", list);
    CHECK_THROWS_AS(list.mutable_list(), TemplateError);
    REQUIRE(context.find("xs") != nullptr);
    CHECK(context.find("xs")->str() == "[1, 2]");
    CHECK(context.find("missing") == nullptr);
}

TEST_CASE("Very deep values are destroyed without deep recursion", "[template][value]") {
    Value deep = Value::list({});
    for (int i = 0; i < 200'000; ++i) deep = Value::list({deep});
    CHECK_THROWS_AS(deep.repr(), TemplateError);
    CHECK(deep.to_json().is_array());  // the part beyond 200 levels becomes null
    Context context;
    context.set("deep", deep);  // freezing it must not recurse either
    deep = Value();  // must not overflow the stack
    auto dict = std::make_shared<DictData>();
    Value nested = Value::dict(dict);
    for (int i = 0; i < 200'000; ++i) {
        auto outer = std::make_shared<DictData>();
        outer->set(Value("k"), nested);
        nested = Value::dict(outer);
    }
    nested = Value();

    nlohmann::json json = nlohmann::json::array();
    for (int i = 0; i < 1000; ++i) json = nlohmann::json::array({json});
    Value from_deep_json = Value::from_json(json);
    CHECK(from_deep_json.is_list());
    SUCCEED();
}

TEST_CASE("printf-style formatting matches Python's % operator", "[template][value]") {
    struct Case {
        const char* format;
        Value args;
        const char* expected;
    };
    auto dict = std::make_shared<DictData>();
    dict->set(Value("a"), Value("x"));
    dict->set(Value("b"), Value(7));
    const Case cases[] = {
        {"%s|%r", Value::tuple({Value("a"), Value("a")}), "a|'a'"},
        {"%5s|%-5s|%.2s", Value::tuple({Value("ab"), Value("cd"), Value("xyz")}), "   ab|cd   |xy"},
        {"%d %i %05d %+d % d", Value::tuple({Value(3.9), Value(-2), Value(-42), Value(3), Value(4)}), "3 -2 -0042 +3  4"},
        {"%x %X %#o %#x", Value::tuple({Value(255), Value(255), Value(8), Value(255)}), "ff FF 0o10 0xff"},
        {"%e|%g|%.3g|%f|%.1f", Value::tuple({Value(1234.5), Value(0.0001), Value(1234567), Value(1.5), Value(0.25)}),
         "1.234500e+03|0.0001|1.23e+06|1.500000|0.2"},
        {"%c%c%%", Value::tuple({Value(65), Value("b")}), "Ab%"},
        {"%(a)s-%(b)03d", Value::dict(dict), "x-007"},
        {"%s", Value::dict(dict), "{'a': 'x', 'b': 7}"},
        {"%s", Value::list({Value(1)}), "[1]"},
        {"%*d|%-*d|", Value::tuple({Value(4), Value(7), Value(3), Value(1)}), "   7|1  |"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.format);
        CHECK(percent_format(c.format, c.args) == c.expected);
    }
    CHECK_THROWS_AS(percent_format("%s %s", Value::tuple({Value(1)})), TemplateError);
    CHECK_THROWS_AS(percent_format("%s", Value::tuple({Value(1), Value(2)})), TemplateError);
    CHECK_THROWS_AS(percent_format("%d", Value("x")), TemplateError);
    CHECK_THROWS_AS(percent_format("%y", Value(1)), TemplateError);
}

TEST_CASE("format specs match Python's format()", "[template][value]") {
    const std::tuple<Value, const char*, const char*> cases[] = {
        {Value(1234567), ",", "1,234,567"},
        {Value(-3.14159), "08.3f", "-003.142"},
        {Value(5), "+d", "+5"},
        {Value(255), "#x", "0xff"},
        {Value(255), "_b", "1111_1111"},
        {Value(1.0), ".3", "1.0"},
        {Value(100.0), ".3", "1e+02"},
        {Value(123456.0), ".3", "1.23e+05"},
        {Value(1.5), "10", "       1.5"},
        {Value(0.25), "%", "25.000000%"},
        {Value(0.256), ".1%", "25.6%"},
        {Value(12345.678), "e", "1.234568e+04"},
        {Value(0.00001234), "g", "1.234e-05"},
        {Value("ab"), "*^9", "***ab****"},
        {Value("ab"), ">5", "   ab"},
        {Value("abc"), ".2", "ab"},
        {Value(-42), "=+8", "-     42"},
        {Value(true), "", "True"},
        {Value(true), "d", "1"},
        {Value(-3), "05", "-0003"},
        {Value(1234567.891), ",.2f", "1,234,567.89"},
        {Value(2.5), ".0f", "2"},
        {Value(65), "c", "A"},
    };
    for (const auto& [value, spec, expected] : cases) {
        CAPTURE(value.repr(), spec);
        CHECK(format_with_spec(value, spec) == expected);
    }
    CHECK_THROWS_AS(format_with_spec(Value(1), ".2d"), TemplateError);
    CHECK_THROWS_AS(format_with_spec(Value(), "5"), TemplateError);
    CHECK_THROWS_AS(format_with_spec(Value("s"), "+"), TemplateError);
}

TEST_CASE("str methods behave as Python's", "[template][value]") {
    using Parts = std::vector<std::string>;
    CHECK(py::split("a,b,,c", std::string_view(",")) == Parts{"a", "b", "", "c"});
    CHECK(py::split("  a  b  ", std::nullopt) == Parts{"a", "b"});
    CHECK(py::split("  a b  c ", std::nullopt, 1) == Parts{"a", "b  c "});
    CHECK(py::rsplit("a b c", std::string_view(" "), 1) == Parts{"a b", "c"});
    CHECK(py::rsplit("  a b  c ", std::nullopt, 1) == Parts{"  a b", "c"});
    CHECK(py::splitlines("a\nb\r\nc\rd\n") == Parts{"a", "b", "c", "d"});
    CHECK(py::splitlines("a\n\nb", true) == Parts{"a\n", "\n", "b"});
    CHECK(py::strip("\t x \n", std::nullopt) == "x");
    CHECK(py::strip("xxaxx", std::string_view("x"), py::StripSide::left) == "axx");
    CHECK(py::strip("\xe3\x80\x80x\xe3\x80\x80", std::nullopt) == "x");  // ideographic spaces
    CHECK(py::replace("abc", "", "-") == "-a-b-c-");
    CHECK(py::replace("aaa", "a", "b", 2) == "bba");
    CHECK(py::title("they're bill's friends") == "They'Re Bill'S Friends");
    CHECK(py::capitalize("hELLO") == "Hello");
    CHECK(py::upper("stra\xc3\x9f" "e") == "STRASSE");
    CHECK(py::lower("\xc3\x89" "COLE") == "\xc3\xa9" "cole");
    CHECK(py::pad("x", 6, "*", '^') == "**x***");
    CHECK(py::zfill("-42", 6) == "-00042");
    CHECK(py::find("h\xc3\xa9llo", "l") == 2);
    CHECK(py::count("abcabc", "bc") == 2);
    auto range = py::adjust_slice(std::nullopt, std::nullopt, -1, 5);
    CHECK(py::slice("h\xc3\xa9llo", range) == "oll\xc3\xa9h");
    CHECK(py::char_at("abc", -1) == std::optional<std::string>("c"));
    CHECK(py::char_at("abc", 3) == std::nullopt);
}

TEST_CASE("Numbers parse as Python's int() and float()", "[template][value]") {
    CHECK(py::parse_int(" 42 ") == 42);
    CHECK(py::parse_int("-4_2") == -42);
    CHECK(py::parse_int("0x1A") == std::nullopt);
    CHECK(py::parse_int("0x1A", 16) == 26);
    CHECK(py::parse_int("0b101", 0) == 5);
    CHECK(py::parse_int("1__0") == std::nullopt);
    CHECK(py::parse_int("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
    CHECK(py::parse_int("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
    CHECK(py::parse_int("9223372036854775808") == std::nullopt);
    CHECK(py::int_text_overflows("9223372036854775808"));
    CHECK(py::parse_float(" 1.5e3 ") == 1500.0);
    CHECK(py::parse_float("1_000.25") == 1000.25);
    CHECK(py::parse_float("-Infinity") == -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(*py::parse_float("nan")));
    CHECK(py::parse_float("1e400") == std::numeric_limits<double>::infinity());
    CHECK(py::parse_float(".5") == 0.5);
    CHECK(py::parse_float("5.") == 5.0);
    CHECK(py::parse_float("0x10") == std::nullopt);
    CHECK(py::parse_float("1e") == std::nullopt);
    CHECK(py::parse_float("") == std::nullopt);
}

}  // namespace
}  // namespace mayaflow::tmpl
