// Every filter, method and operator that builds a string or a list honours the limits in limits.h,
// and refuses before it builds: a template asking for millions of items or gigabytes of text fails
// with the limit's error instead of first making what it asked for.

#include <catch2/catch.hpp>

#include "engine/template/limits.h"
#include "engine/template/pystr.h"
#include "engine/template/template.h"

namespace mayaflow::tmpl {
namespace {

Result<std::string> run(const std::string& source) {
    auto parsed = Template::parse(source);
    if (!parsed) return parsed.error();
    Context context;
    context.set("x", Value("value"));
    return parsed->render(context);
}

void check_fails(const std::vector<std::string>& sources, const std::string& message) {
    for (const auto& source : sources) {
        CAPTURE(source);
        auto result = run(source);
        REQUIRE_FALSE(result.ok());
        CHECK_THAT(result.error().message, Catch::Contains(message));
    }
}

TEST_CASE("sequences built from strings and fills refuse more items than the list limit",
          "[template][limits]") {
    check_fails(
        {
            "{{ range(10) | batch(100000000, 'x') | list | length }}",
            "{{ range(10) | batch(2000000, 0) | first | length }}",
            "{{ ('x' * 5000000) | list | length }}",
            "{{ ('x' * 5000000) | unique | length }}",
            "{% for c in 'y' * 3000000 %}{% endfor %}",
            "{{ ('x ' * 3000000).split() | length }}",
            "{{ ('x ' * 3000000).rsplit() | length }}",
            "{{ ('x,' * 3000000).split(',') | length }}",
            "{{ ('x,' * 3000000).rsplit(',') | length }}",
            "{{ ('x\\n' * 3000000).splitlines() | length }}",
            "{{ ('\\n' * 3000000).splitlines(true) | length }}",
            "{{ [1] * 2000000 }}",
            "{{ ([1, 2] * 600000) | length }}",
            "{{ ((range(100000) | list) * 11) | length }}",
            "{% set xs = [] %}{% do xs.extend('z' * 2000000) %}",
            "{{ [0] | slice(2000000) | length }}",
        },
        "list too large (the limit is 1000000 items)");
}

TEST_CASE("strings refuse to grow past the size limit before they are built", "[template][limits]") {
    check_fails(
        {
            "{{ 'x' * 100000000 }}",
            "{{ ('x' * 1000000).replace('x', 'y' * 1000) | length }}",
            "{{ ('x' * 1000000) | replace('x', "
            "'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') | length }}",
            "{{ ('x' * 1000000).replace('', '-' * 100) | length }}",
            "{{ x.center(100000000) }}",
            "{{ x.ljust(100000000) }}",
            "{{ x.rjust(100000000) }}",
            "{{ x.zfill(100000000) }}",
            "{{ x | center(100000000) }}",
            "{{ ('a\\n' * 1000000) | indent(100) | length }}",
            "{{ ('a\\n' * 100) | indent('x' * 1000000) | length }}",
            "{{ '%100000000s' % 'x' }}",
            "{{ '%*s' % (100000000, 'x') }}",
            "{{ '%.*d' % (100000000, 1) }}",
            "{{ '%s' | format('x' * 1000) * 100000 }}",
            "{{ '{:>100000000}'.format('x') }}",
            "{{ '{:099999999d}'.format(1) }}",
            "{{ (['x' * 1000000] * 100) | join(',') | length }}",
            "{{ ('x' * 60000000) ~ ('y' * 10000000) }}",
            "{{ ('x' * 60000000) + ('y' * 10000000) }}",
            "{{ (['x' * 1000000] * 100) | string | length }}",
            "{{ ({'k': 'x' * 1000000}, ) * 100 }}",
            "{{ (['x' * 1000000] * 100) | tojson | length }}",
            "{{ [[1]] | tojson(indent=100000000) }}",
        },
        "string too large (the limit is 64 MiB)");
}

TEST_CASE("center and pad fills are one character, as in Python", "[template][limits]") {
    check_fails({"{{ x.center(100, 'ab') }}", "{{ x.ljust(10, '') }}"},
                "The fill character must be exactly one character long");
    CHECK(*run("{{ 'ab'.center(6, '*') }}") == "**ab**");
    CHECK(*run("{{ 'ab'.rjust(4, '\\u00e9') }}") == "\u00e9\u00e9ab");
}

TEST_CASE("work that copies shared values is charged", "[template][limits]") {
    check_fails(
        {
            "{% set big = range(1000) | list %}{{ ([big] * 1000) | sum(start=[]) | length }}",
            "{% set a = range(100) | list %}{% set b = [a] * 1000 %}{% set c = [b] * 1000 %}{{ c | string | "
            "length }}",
        },
        "too much work");
    // Comparing a list with itself does not walk it, as in Python.
    CHECK(
        *run(
            "{% set a = range(1000) | list %}{% set b = [a] * 1000 %}{% set c = [b] * 1000 %}{{ c == c }}") ==
        "True");
}

TEST_CASE("results just inside the limits still work", "[template][limits]") {
    CHECK(*run("{{ ('x' * 1000000) | list | length }}") == "1000000");
    CHECK(*run("{{ ('x ' * 999999).split() | length }}") == "999999");
    CHECK(*run("{{ ('a,' * 999999).split(',') | length }}") == "1000000");
    CHECK(*run("{{ ('x ' * 3000000).split(None, 2) | length }}") == "3");
    CHECK(*run("{{ ('x ' * 3000000).rsplit(None, 1) | first | length }}") == "5999997");
    CHECK(*run("{{ ('x,' * 3000000).split(',', 1) | last | length }}") == "5999998");
    CHECK(*run("{{ ('x' * 2000000).replace('', '-', 1) | length }}") == "2000001");
    CHECK(*run("{{ range(3) | batch(2, 'f') | list }}") == "[[0, 1], [2, 'f']]");
    CHECK(*run("{{ ('a' * 5000000 ~ 'z') | first }}{{ ('a' * 5000000 ~ 'z') | last }}") == "az");
    CHECK(*run("{{ 'a\\nb\\n\\nc' | indent(2) }}") == "a\n  b\n\n  c");
    CHECK(*run("{{ 'a\\nb' | indent(2, true, true) }}") == "  a\n  b");
    CHECK(*run("{{ '%5s|%-4d|' % ('ab', 7) }}") == "   ab|7   |");
}

TEST_CASE("the pystr builders refuse before building when called directly", "[template][limits]") {
    std::string words;
    for (int i = 0; i < 1'100'000; ++i) words += "w ";
    CHECK_THROWS_WITH(py::split(words, std::nullopt), Catch::Contains("list too large"));
    CHECK(py::split(words, std::nullopt, 3).size() == 4);
    CHECK(py::rsplit(words, std::nullopt, 3).size() == 4);
    CHECK(py::rsplit(words, std::nullopt, 3).front().size() == words.size() - 1 - 6);
    CHECK_THROWS_WITH(py::repeat("abc", std::int64_t{1} << 62), Catch::Contains("string too large"));
    CHECK_THROWS_WITH(py::pad("a", std::int64_t{1} << 40, " ", '<'), Catch::Contains("string too large"));
}

}  // namespace
}  // namespace mayaflow::tmpl
