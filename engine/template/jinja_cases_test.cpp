// Renders every case of testdata/jinja_cases.json and compares with what real Jinja gives (the file's
// expectations are produced and checked by tests/oracles/jinja_oracle.py).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "engine/template/error.h"
#include "engine/template/parser.h"
#include "engine/template/renderer.h"
#include "engine/template/template.h"

namespace mayaflow::tmpl {
namespace {

nlohmann::ordered_json load_cases() {
    std::ifstream in(std::string(MAYAFLOW_SOURCE_DIR) + "/engine/template/testdata/jinja_cases.json");
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::ordered_json::parse(text.str()).at("cases");
}

Context context_of(const nlohmann::ordered_json& test_case) {
    Context context;
    if (test_case.contains("context")) {
        for (const auto& [name, value] : test_case["context"].items()) context.set(name, Value::from_json(value));
    }
    return context;
}

const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::syntax: return "syntax";
        case ErrorKind::undefined: return "undefined";
        case ErrorKind::runtime: return "runtime";
    }
    return "?";
}

// What mayaflow gives for a case, in the file's terms: {"expect": text} or {"error": kind}.
nlohmann::json outcome(const nlohmann::ordered_json& test_case) {
    const std::string source = test_case.at("template");
    Context context = context_of(test_case);
    auto tmpl = Template::parse(source);
    if (!tmpl) return {{"error", "syntax"}};
    auto rendered = tmpl->render(context);
    if (rendered) return {{"expect", *rendered}};
    // The public API reports errors as text; the renderer itself says which kind they are.
    ParsedTemplate parsed = parse_template(source);
    Renderer renderer(parsed, context);
    try {
        renderer.render();
    } catch (const TemplateError& error) {
        return {{"error", kind_name(error.kind())}, {"message", rendered.error().message}};
    }
    return {{"error", "render failed only through the public API: " + rendered.error().message}};
}

TEST_CASE("templates render as Jinja renders them", "[template][jinja]") {
    nlohmann::ordered_json cases = load_cases();
    REQUIRE(cases.size() >= 150);
    int failures = 0;
    for (const auto& test_case : cases) {
        nlohmann::json got = outcome(test_case);
        bool same = test_case.contains("expect")
                        ? got.contains("expect") && got["expect"] == test_case["expect"].get<std::string>()
                        : got.contains("error") && got["error"] == test_case["error"].get<std::string>();
        if (!same) {
            ++failures;
            std::string expected = test_case.contains("expect") ? test_case["expect"].dump() : "error " + test_case["error"].dump();
            UNSCOPED_INFO(test_case["name"].get<std::string>() << "\n  template: " << test_case["template"].dump()
                                                              << "\n  Jinja:    " << expected << "\n  mayaflow: " << got.dump());
        }
        CHECK(same);
    }
    CHECK(failures == 0);
}

}  // namespace
}  // namespace mayaflow::tmpl
