// No template may crash the daemon or run away with it: deep nesting, huge ranges, runaway loops,
// exponential strings and random garbage all end in a clean error (or a normal result).

#include <catch2/catch.hpp>

#include <random>

#include "engine/template/template.h"

namespace mayaflow::tmpl {
namespace {

Result<std::string> run(const std::string& source) {
    auto tmpl = Template::parse(source);
    if (!tmpl) return tmpl.error();
    Context context;
    context.set("x", Value("value"));
    context.set("xs", Value::list({Value(1), Value(2), Value(3)}));
    return tmpl->render(context);
}

std::string repeat(std::string_view text, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += text;
    return out;
}

TEST_CASE("Nesting up to the limit works and deeper nesting is a syntax error", "[template][robustness]") {
    CHECK(*run("{{ " + repeat("(", 90) + "1" + repeat(")", 90) + " }}") == "1");
    CHECK(*run("{{ " + repeat("[", 40) + "1" + repeat("]", 40) + " | length }}") == "1");
    CHECK(*run(repeat("{% if true %}", 90) + "deep" + repeat("{% endif %}", 90)) == "deep");
    CHECK(*run("{{ 1" + repeat(" + 1", 90) + " }}") == "91");
    CHECK(*run("{{ 0" + repeat(" if 0 else 0", 50) + " if 0 else 7 }}") == "7");

    const std::string too_deep[] = {
        "{{ " + repeat("(", 150) + "1" + repeat(")", 150) + " }}",
        "{{ " + repeat("[", 150) + "1" + repeat("]", 150) + " }}",
        "{{ " + repeat("{'a': ", 150) + "1" + repeat("}", 150) + " }}",
        "{{ " + repeat("not ", 150) + "x }}",
        "{{ 1" + repeat(" if 1 else 1", 20000) + " }}",
        "{{ " + repeat("- ", 150) + "1 }}",
        "{{ 1" + repeat(" + 1", 150) + " }}",
        "{{ x" + repeat(" | upper", 150) + " }}",
        "{{ x" + repeat(".a", 150) + " }}",
        repeat("{% if true %}", 150) + repeat("{% endif %}", 150),
        repeat("{% for i in xs %}", 150) + repeat("{% endfor %}", 150),
        "{{ " + repeat("(", 200000) + "1" + repeat(")", 200000) + " }}",
        repeat("{% if true %}", 200000),
    };
    for (const std::string& source : too_deep) {
        CAPTURE(source.substr(0, 60));
        auto result = run(source);
        REQUIRE_FALSE(result.ok());
        CHECK_THAT(result.error().message, Catch::Contains("nested too deeply"));
    }
}

TEST_CASE("Runaway work ends in an error", "[template][robustness]") {
    struct Case {
        std::string source;
        const char* message;
    };
    const Case cases[] = {
        {"{{ range(1000000) | list | length }}", "Range too big"},
        {"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "does too much work"},
        {"{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
         "string too large"},
        {"{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
         "list too large"},
        {"{{ 'x' * 1000000000000 }}", "string too large"},
        {"{{ [1, 2] * 1000000000000 }}", "list too large"},
        {"{{ 'x'.zfill(1000000000000) }}", "string too large"},
        {"{{ 'x'|center(1000000000000) }}", "string too large"},
        {"{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "output is too large"},
        {"{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'y' * 1000 %}{% endfor %}",
         "does too much work"},
        {"{% set ns = namespace(v=[]) %}{% for i in range(50000) %}{% set ns.v = [ns.v] %}{% endfor %}",
         "does too much work"},
        {"{% set xs = [] %}{% do xs.append(xs) %}", "cannot contain itself"},
        {"{% set a = [] %}{% set b = [a] %}{% do a.append(b) %}", "cannot contain itself"},
        {"{% set d = {} %}{% do d.update({'me': d}) %}", "cannot contain itself"},
        {"{% set ns = namespace() %}{% set ns.me = ns %}", "cannot contain itself"},
        {"{% set ns = namespace(v=[]) %}{% for i in range(2000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v }}",
         "nested too deeply"},
        {"{{ (-9223372036854775807 - 1) // -1 }}", "integer overflow"},
        {"{{ -(-9223372036854775807 - 1) }}", "integer overflow"},
        {"{{ 10 ** 400.0 }}", "out of range"},
        {"{{ (-8) ** 0.5 }}", "complex"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        auto result = run(c.source);
        REQUIRE_FALSE(result.ok());
        CHECK_THAT(result.error().message, Catch::Contains(c.message));
    }
    // Values too deep to print are still fine to build and drop.
    CHECK(*run("{% set ns = namespace(v=[]) %}{% for i in range(3000) %}{% set ns.v = [ns.v] %}{% endfor %}done") ==
          "done");
    CHECK(*run("{{ (-9223372036854775807 - 1) % -1 }}") == "0");
}

TEST_CASE("Large templates render in time proportional to their size", "[template][robustness]") {
    std::string source = repeat("{{ x }}, {{ xs[1] }}; ", 50000);
    auto out = run(source);
    REQUIRE(out);
    CHECK(out->size() == std::string("value, 2; ").size() * 50000);

    std::string many_sets;
    for (int i = 0; i < 5000; ++i) many_sets += "{% set v" + std::to_string(i) + " = " + std::to_string(i) + " %}";
    many_sets += "{{ v0 + v4999 }}";
    CHECK(*run(many_sets) == "4999");

    auto loop = run("{% for i in range(100000) %}{{ i % 10 }}{% endfor %}");
    REQUIRE(loop);
    CHECK(loop->size() == 100000);

    auto text = run(std::string(2'000'000, 'a') + "{{ 1 }}" + std::string(2'000'000, 'b'));
    REQUIRE(text);
    CHECK(text->size() == 4'000'001);
}

TEST_CASE("Odd bytes and unicode do not upset the lexer", "[template][robustness]") {
    CHECK(run("\xff\xfe{{ '\xff' }}").ok());
    CHECK(*run("{{ '\xe6\x97\xa5\xe6\x9c\xac' | length }}") == "2");
    CHECK(*run("{{ x ~ '\xf0\x9f\x98\x80' }}") == "value\xf0\x9f\x98\x80");
    CHECK(run(std::string("{{ x }}\0{{ x }}", 15)).ok());
    CHECK_FALSE(run("{{ \xe2\x80\x9cquoted\xe2\x80\x9d }}").ok());
}

TEST_CASE("Random garbage never crashes the parser or the renderer", "[template][robustness]") {
    const char* pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "if ", "for ", " in ", "endif", "endfor",
                            "else", "set ", "=", "(", ")", "[", "]", "{", "}", "'", "\"", "|", "upper", "x", "xs",
                            "1", "0", ".", ",", ":", "~", "*", "**", "/", "//", "%", "not ", "and ", " is ", "defined",
                            "raw", "endraw", "loop", "range(", "\\", "\n", " ", "é", "None", "1e9", "-1", "do ",
                            "namespace(", "ns.", "join", "default(", "tojson", "[::-1]", "0x", "_"};
    std::mt19937 random(12345);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
    std::uniform_int_distribution<int> length(1, 40);
    int parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string source;
        for (int n = length(random); n > 0; --n) source += pieces[pick(random)];
        auto tmpl = Template::parse(source);
        if (!tmpl) {
            CHECK(tmpl.error().message.rfind("line ", 0) == 0);
            continue;
        }
        ++parsed;
        Context context;
        context.set("x", Value("v"));
        context.set("xs", Value::list({Value(1), Value("two")}));
        (void)tmpl->render(context);
    }
    CHECK(parsed > 100);
}

}  // namespace
}  // namespace mayaflow::tmpl
