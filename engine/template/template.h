#pragma once
// mayaflow's templates: the Jinja subset DAG files use in `{{ … }}` fields, rendered the way Airflow
// renders them (Jinja's StrictUndefined, no autoescape, a single trailing newline dropped).
//
//   auto tmpl = Template::parse("s3://bucket/{{ ds_nodash }}/{{ params.table }}");
//   if (!tmpl) return tmpl.error();            // "line 1, column 20: ..."
//   auto text = tmpl->render(make_airflow_context(run));
//
// A Template is parsed once and may be rendered many times, from many threads at once.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/template/value.h"
#include "engine/util/result.h"

namespace mayaflow::tmpl {

struct ParsedTemplate;

// Context holds the names a template can use. Values put in a Context are shared by every render
// that uses it, so their lists and dicts become read-only to templates.
class Context {
  public:
    void set(std::string name, Value value);
    const Value* find(std::string_view name) const;
    std::size_t size() const { return values_.size(); }

  private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    std::unordered_map<std::string, Value, Hash, std::equal_to<>> values_;
};

class Template {
  public:
    // An empty template, which renders as "".
    Template();

    // Syntax errors read "line 2, column 14: expected '}}' after the expression".
    static Result<Template> parse(std::string_view source);

    // Errors name what went wrong as Jinja does ("'foo' is undefined", "'dict object' has no attribute
    // 'x'"); for templates of more than one line they start with "line N: ".
    Result<std::string> render(const Context& context) const;

    // False for plain text (no `{{`, `{%` or `{#`): rendering it only normalizes newlines.
    bool has_markup() const;

  private:
    explicit Template(std::shared_ptr<const ParsedTemplate> parsed) : parsed_(std::move(parsed)) {}

    std::shared_ptr<const ParsedTemplate> parsed_;
};

}  // namespace mayaflow::tmpl
