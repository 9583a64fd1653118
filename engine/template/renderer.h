#pragma once
// Renderer runs one render of a parsed template against a Context: it executes statements, evaluates
// expressions, keeps the variables of {% set %}, {% for %} and {% with %} in nested scopes, and
// enforces the limits that keep a hostile template from running forever or exhausting memory. A
// Renderer lives for one render; many can use the same parsed template at once.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/template/ast.h"
#include "engine/template/limits.h"
#include "engine/template/parser.h"
#include "engine/template/value.h"
#include "engine/template/work_meter.h"

namespace mayaflow::tmpl {

class Context;

class Renderer : public WorkMeter {
  public:
    Renderer(const ParsedTemplate& parsed, const Context& context, std::size_t max_work = kMaxWork)
        : parsed_(parsed), context_(context), max_work_(max_work) {}
    Renderer(const Renderer&) = delete;
    Renderer& operator=(const Renderer&) = delete;

    // Renders the whole template; throws TemplateError.
    std::string render();

    Value eval(const Expr& expr);
    Value call(const Value& callee, const CallArgs& args);
    // For filters that apply other filters and tests by name: map('upper'), select('odd').
    Value apply_filter(std::string_view name, const Value& input, const CallArgs& args);
    bool apply_test(std::string_view name, const Value& input, const CallArgs& args);
    // Counts work done; throws once a render has done more than its limit (kMaxWork unless less was
    // given).
    void charge(std::size_t work) override;
    std::size_t work_done() const { return work_; }

  private:
    // Variables visible at one point: a scope per {% for %} iteration, {% with %} and so on.
    struct Scope {
        Scope* parent = nullptr;
        std::unordered_map<std::string, Value> vars;
    };
    class ScopeGuard;

    Value eval_node(const Expr& expr);
    Value lookup(const std::string& name);
    Value eval_getitem(const Expr& expr);
    CallArgs eval_args(const ArgsNode& args);
    Value eval_filter(const Expr& expr, Value input);
    Value eval_compare(const Expr& expr);
    Value eval_concat(const Expr& expr);
    Value eval_dict(const Expr& expr);
    std::string line_of(std::size_t offset) const;

    void exec_body(const Body& body, std::string& out);
    void exec(const Stmt& stmt, std::string& out);
    void exec_if(const Stmt& stmt, std::string& out);
    void exec_for(const Stmt& stmt, std::string& out);
    void exec_with(const Stmt& stmt, std::string& out);
    void exec_filter_block(const Stmt& stmt, std::string& out);
    void exec_set_block(const Stmt& stmt);
    void print(const Value& value, std::string& out);

    void set_variable(const std::string& name, Value value);
    void assign(const Target& target, const Value& value);

    const ParsedTemplate& parsed_;
    const Context& context_;
    Scope root_;
    Scope* scope_ = &root_;
    std::size_t max_work_;
    std::size_t work_ = 0;
};

}  // namespace mayaflow::tmpl
