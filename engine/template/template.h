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
#include <vector>

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

// Work that several renders share, when a caller renders many templates for one purpose (the DAG
// loader renders the task ids of a for_each of 10,000 tasks): together they may do no more than the
// budget, and each no more than one render may (kMaxWork).
class RenderBudget {
  public:
    explicit RenderBudget(std::size_t work) : remaining_(work) {}
    std::size_t remaining() const { return remaining_; }

  private:
    friend class Template;
    std::size_t remaining_;
};

// A name a template reads from its context, and where it first does.
struct NameUse {
    std::string name;
    std::size_t line = 1;    // in the template, 1-based
    std::size_t column = 1;  // 1-based
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
    // The same, with the work taken from `budget`.
    Result<std::string> render(const Context& context, RenderBudget& budget) const;

    // The names the template reads from its context, each once, in the order they first appear:
    // every variable it uses that no `{% set %}`, `{% for %}` or `{% with %}` of its own assigns
    // (anywhere in it). Attribute and filter names are not included: `{{ dag_run.conf }}` reads
    // `dag_run`.
    std::vector<NameUse> context_names() const;

    // False for plain text (no `{{`, `{%` or `{#`): rendering it only normalizes newlines.
    bool has_markup() const;

  private:
    explicit Template(std::shared_ptr<const ParsedTemplate> parsed) : parsed_(std::move(parsed)) {}
    Result<std::string> render_with_limit(const Context& context, std::size_t max_work, std::size_t& work_done) const;

    std::shared_ptr<const ParsedTemplate> parsed_;
};

}  // namespace mayaflow::tmpl
