// Syntax errors say where (line and column) and what; render errors say what, as Jinja does.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/template/template.h"

namespace mayaflow::tmpl {
namespace {

std::string parse_error(std::string_view source) {
    auto tmpl = Template::parse(source);
    return tmpl ? "parsed" : tmpl.error().message;
}

std::string render_error(std::string_view source) {
    auto tmpl = Template::parse(source);
    if (!tmpl) return "PARSE ERROR: " + tmpl.error().message;
    Context context;
    context.set("d", Value::from_json(nlohmann::json{{"a", 1}}));
    context.set("xs", Value::from_json(nlohmann::json{1, 2}));
    auto out = tmpl->render(context);
    return out ? "rendered: " + *out : out.error().message;
}

struct Case {
    const char* source;
    const char* message;
};

TEST_CASE("Syntax errors give the line, the column and the reason", "[template][syntax]") {
    const Case cases[] = {
        {"{{ name ", "line 1, column 9: expected '}}' after the expression, got end of template"},
        {"a\n{{ x +* 2 }}", "line 2, column 7: expected an expression, got '*'"},
        {"{% if x %}yes", "line 1, column 1: unexpected end of template: expected '{% elif %}' or '{% else %}' or "
                          "'{% endif %}' to close the 'if' block"},
        {"{% for x in xs %}\n  {{ x }}\n", "line 1, column 1: unexpected end of template: expected '{% endfor %}' or "
                                           "'{% else %}' to close the 'for' block"},
        {"a {# b", "line 1, column 3: missing end of comment tag '#}'"},
        {"{% raw %} a", "line 1, column 1: missing end of raw directive '{% endraw %}'"},
        {"{% frobnicate %}", "line 1, column 4: unknown tag 'frobnicate'"},
        {"{% endif %}", "line 1, column 4: unknown tag 'endif'"},
        {"{% for x in xs %}{% endif %}", "line 1, column 21: unexpected tag 'endif': the innermost open block is 'for'"},
        {"{{ a $ b }}", "line 1, column 6: unexpected character '$'"},
        {"{{ (1 }}", "line 1, column 7: unexpected '}', expected ')'"},
        {"{{ [1, 2 }}", "line 1, column 10: unexpected '}', expected ']'"},
        {"{{ 1) }}", "line 1, column 5: unexpected ')'"},
        {"line1\n  {{ x | nope }}", "line 2, column 10: filter 'nope' does not exist"},
        {"{{ x is frobnicated }}", "line 1, column 9: test 'frobnicated' does not exist"},
        {"{{ x.}}", "line 1, column 6: expected a name or number after '.', got '}}'"},
        {"{% set %}", "line 1, column 8: expected an assignment target, got '%}'"},
        {"{% set 1 = 2 %}", "line 1, column 8: can't assign to number"},
        {"{% set true = 2 %}", "line 1, column 8: can't assign to a constant"},
        {"{% for loop in xs %}{% endfor %}", "line 1, column 8: can't assign to the special loop variable in a for-loop target"},
        {"{{ f(a=1, 2) }}", "line 1, column 5: a positional argument follows a keyword argument"},
        {"{{ f(*args) }}", "line 1, column 6: '*' and '**' arguments are not supported in mayaflow templates"},
        {"{{ \"abc }}", "line 1, column 4: unexpected character '\"'"},
        {"{{ 99999999999999999999 }}", "line 1, column 4: integer literal too large (the limit is 64 bits)"},
        {"{% include 'x.sql' %}", "line 1, column 4: the '{% include %}' tag is not supported in mayaflow templates"},
        {"{% macro m() %}{% endmacro %}", "line 1, column 4: the '{% macro %}' tag is not supported in mayaflow templates"},
        {"{% for x in xs recursive %}{% endfor %}", "line 1, column 16: recursive loops are not supported in mayaflow templates"},
        {"{{ x is }}", "line 1, column 9: expected a test name after 'is', got '}}'"},
        {"{{ 1 is defined is defined }}", "line 1, column 17: tests cannot be chained with 'is'"},
        {"{{ }}", "line 1, column 4: expected an expression, got '}}'"},
        {"{{ '\\x4' }}", "line 1, column 4: truncated \\xXX escape"},
        {"{% if x %}{% else %}{% else %}{% endif %}", "line 1, column 24: unexpected tag 'else': the innermost open block is 'if'"},
        {"{% endfor x %}", "line 1, column 4: unknown tag 'endfor'"},
        {"{% if x %}{% endif x %}", "line 1, column 20: expected '%}' at the end of the tag, got 'x'"},
        {"{% set x = 1 2 %}", "line 1, column 14: expected '%}' at the end of the tag, got number"},
        {"{{ xs[] }}", "line 1, column 6: expected a subscript between '[' and ']'"},
        {"héllo\n  wörld {{ ) }}", "line 2, column 12: unexpected ')'"},
        {"\r\n\r\n{{ ; }}", "line 3, column 4: expected an expression, got ';'"},
        {"{% filter %}x{% endfilter %}", "line 1, column 11: expected a name, got '%}'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        CHECK(parse_error(c.source) == c.message);
    }
}

TEST_CASE("Render errors read as Jinja's", "[template][syntax]") {
    const Case cases[] = {
        {"{{ foo }}", "'foo' is undefined"},
        {"{{ foo.bar }}", "'foo' is undefined"},
        {"{{ d.x }}", "'dict object' has no attribute 'x'"},
        {"{{ d['x'] }}", "'dict object' has no attribute 'x'"},
        {"{{ xs[5] }}", "list object has no element 5"},
        {"{{ none.x }}", "'None' has no attribute 'x'"},
        {"{% if true %}{{ 1 | upperr }}{% endif %}", "filter 'upperr' does not exist"},
        {"{{ 1 / 0 }}", "division by zero"},
        {"{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str"},
        {"{{ 'a' < 1 }}", "'<' not supported between instances of 'str' and 'int'"},
        {"{{ 9223372036854775807 + 1 }}", "integer overflow: the result does not fit in 64 bits"},
        {"{{ 2 ** 64 }}", "integer overflow: the result does not fit in 64 bits"},
        {"{{ range(100001) | length }}", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."},
        {"{{ [] | first }}", "No first item, sequence was empty."},
        {"{{ xs.nope() }}", "'list object' has no attribute 'nope'"},
        {"{{ 3() }}", "'int' object is not callable"},
        {"line 1\nline 2 {{ foo }}", "line 2: 'foo' is undefined"},
        {"{% for a, b in xs %}{% endfor %}", "cannot unpack non-iterable int object"},
        {"{{ 'x'|truncate(1) }}", "expected length >= 3, got 1"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        CHECK(render_error(c.source) == c.message);
    }
}

TEST_CASE("Plain text has no markup and renders as itself", "[template][syntax]") {
    struct MarkupCase {
        const char* source;
        bool has_markup;
        const char* rendered;
    };
    const MarkupCase cases[] = {
        {"", false, ""},
        {"plain text", false, "plain text"},
        {"a { b } c", false, "a { b } c"},
        {"50% {off}", false, "50% {off}"},
        {"text\n", false, "text"},
        {"{{ 1 }}", true, "1"},
        {"{% if true %}x{% endif %}", true, "x"},
        {"a{# note #}b", true, "ab"},
        {"{% raw %}{{ x }}{% endraw %}", true, "{{ x }}"},
        {"{ {{ '{' }}", true, "{ {"},
    };
    for (const MarkupCase& c : cases) {
        CAPTURE(c.source);
        auto tmpl = Template::parse(c.source);
        REQUIRE(tmpl);
        CHECK(tmpl->has_markup() == c.has_markup);
        CHECK(*tmpl->render(Context()) == c.rendered);
    }
}

}  // namespace
}  // namespace mayaflow::tmpl

namespace mayaflow::tmpl {

TEST_CASE("context_names lists the names a template reads and does not assign", "[template][syntax]") {
    auto names = [](std::string_view source) {
        std::vector<std::string> out;
        for (const auto& use : Template::parse(source).value().context_names()) out.push_back(use.name);
        return out;
    };
    using Names = std::vector<std::string>;
    CHECK(names("plain text").empty());
    CHECK(names("{{ ds }} {{ params.table | upper }} {{ ds }}") == Names{"ds", "params"});
    CHECK(names("{% set x = 1 %}{{ x }} {{ y }}") == Names{"y"});
    CHECK(names("{{ x }}{% set x = 1 %}") == Names{});  // assigned anywhere: not from the context
    CHECK(names("{% for a, b in pairs if a > limit %}{{ loop.index }}{{ a }}{% else %}{{ empty }}{% endfor %}") ==
          Names{"pairs", "limit", "empty"});
    CHECK(names("{% with v = w %}{{ v }}{% endwith %}") == Names{"w"});
    CHECK(names("{% set ns = namespace(n=0) %}{% set ns.n = total %}") == Names{"namespace", "total"});
    CHECK(names("{{ f(a, key=b)[c] if d else e }}") == Names{"f", "a", "b", "c", "d", "e"});
    CHECK(names("{% filter upper %}{{ z }}{% endfilter %}{% set t | trim %}{{ u }}{% endset %}") == Names{"z", "u"});
    auto uses = Template::parse("line one\n  {{ next_ds }}").value().context_names();
    REQUIRE(uses.size() == 1);
    CHECK(uses[0].line == 2);
    CHECK(uses[0].column == 6);
}

}  // namespace mayaflow::tmpl
